/*
 * Unit tests for the MCP client (src/mcp.c, mcp-client.c, mcp-proc.c) against the test
 * server tests/mcp/mcpserver.c ($MCPSERVER, else build/MODE/mcpserver next to this test):
 * start-up and tool listing with pages, every kind of result, timeouts and cancellation,
 * list_changed, the server's own requests, failures at every stage with their messages,
 * the environment a server gets, and that no process is left behind.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include <dirent.h>

#include <cJSON.h>

#include "buf.h"
#include "config.h"
#include "mcp.h"
#include "xmalloc.h"

static char server_path[PATH_MAX];
static char log_path[PATH_MAX];

/* What a callback saw. */
struct seen {
	int done;
	enum mcp_status status;
	char *text;
	char *raw;
	size_t nimages;
	size_t image_bytes;
	uint64_t id;
};

/* Record a result (copied: it lives only during the callback). */
static void
on_done(void *arg, const struct mcp_result *r)
{
	struct seen *s = arg;

	s->done++;
	s->status = r->status;
	s->id = r->id;
	free(s->text);
	free(s->raw);
	s->text = xstrdup(r->text);
	s->raw = r->raw != NULL ? xstrdup(r->raw) : NULL;
	s->nimages = r->nimages;
	s->image_bytes = r->nimages > 0 ? r->images[0].bytes : 0;
}

/* Forget what was seen. */
static void
seen_clear(struct seen *s)
{
	free(s->text);
	free(s->raw);
	memset(s, 0, sizeof *s);
}

/* A config for the test server with these options (NULL-terminated). */
static struct mcp_server_cfg
cfg_make(const char *name, ...)
{
	struct mcp_server_cfg c;
	va_list ap;
	const char *a;

	memset(&c, 0, sizeof c);
	c.name = xstrdup(name);
	c.command = xstrdup(server_path);
	c.enabled = 1;
	c.timeout = 10;
	c.startup_timeout = 10;
	va_start(ap, name);
	while ((a = va_arg(ap, const char *)) != NULL) {
		c.args = xrealloc(c.args, (c.nargs + 1) * sizeof *c.args);
		c.args[c.nargs++] = xstrdup(a);
	}
	va_end(ap);
	return c;
}

/* A pool of one server (the config is copied and freed). */
static struct mcp_pool *
pool_of(struct mcp_server_cfg c)
{
	struct mcp_server_cfg *v = xmemdup(&c, sizeof c);
	struct mcp_pool *p = mcp_pool_new(v, 1);

	mcp_server_cfg_free(v, 1);
	return p;
}

/* One round of poll and process. */
static void
pool_step(struct mcp_pool *p, int max_ms)
{
	struct pollfd fds[16];
	size_t n = mcp_pool_pollfds(p, fds, 16);
	int64_t t = mcp_pool_next_deadline(p), now = mcp_now_ms();
	int timeout = max_ms;

	if (t >= 0 && t - now < timeout)
		timeout = t <= now ? 0 : (int)(t - now);
	poll(fds, n, timeout);
	mcp_pool_process(p, fds, n, mcp_now_ms());
}

/* Run until *flag is set or the state of server 0 is st (st < 0: flag only), at most
 * ms milliseconds; returns the elapsed time. */
static long
pool_run(struct mcp_pool *p, const int *flag, int st, int ms)
{
	int64_t t0 = mcp_now_ms();
	struct mcp_server_info info;

	while (mcp_now_ms() - t0 < ms) {
		if (flag != NULL && *flag)
			break;
		mcp_pool_info(p, 0, &info);
		if (st >= 0 && (int)info.state == st)
			break;
		pool_step(p, 50);
	}
	return (long)(mcp_now_ms() - t0);
}

/* Call tool and wait for the result. */
static void
call_wait(struct mcp_pool *p, const char *tool, const char *args, struct seen *s)
{
	seen_clear(s);
	mcp_pool_call(p, "t", tool, args, on_done, s);
	pool_run(p, &s->done, -1, 10000);
	assert_int_equal(s->done, 1);
}

/* True when the process pid is gone (reaped: not even a zombie). */
static int
gone(int pid)
{
	return pid > 0 && kill(pid, 0) != 0 && errno == ESRCH;
}

/* How many descriptors this process has open. */
static int
nfds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *de;
	int n = 0;

	while (d != NULL && (de = readdir(d)) != NULL)
		n += de->d_name[0] != '.';
	if (d != NULL)
		closedir(d);
	return n;
}

/* True when the server's log file holds s. */
static int
logged(const char *s)
{
	FILE *f = fopen(log_path, "r");
	char line[4096];
	int hit = 0;

	if (f == NULL)
		return 0;
	while (!hit && fgets(line, sizeof line, f) != NULL)
		hit = strstr(line, s) != NULL;
	fclose(f);
	return hit;
}

/* Start, list (with pages), describe, and call echo; the allow list marks tools. */
static void
test_ready_echo(void **state)
{
	struct mcp_server_cfg c = cfg_make("t", "--page", "3", "--extra", "2", NULL);
	struct mcp_pool *p;
	struct mcp_server_info info;
	const struct mcp_tool *tools;
	struct seen s = { 0 };
	size_t n;

	(void)state;
	c.allow = xcalloc(1, sizeof *c.allow);
	c.allow[0] = xstrdup("echo");
	c.nallow = 1;
	p = pool_of(c);
	mcp_pool_info(p, 0, &info);
	assert_int_equal(info.state, MCP_STOPPED);
	assert_int_equal(mcp_pool_start(p, "t"), 0);
	assert_int_equal(mcp_pool_start(p, "nope"), -1);
	pool_run(p, NULL, MCP_READY, 10000);
	mcp_pool_info(p, 0, &info);
	assert_int_equal(info.state, MCP_READY);
	assert_string_equal(info.server_name, "natter-test-server");
	assert_string_equal(info.protocol, "2025-06-18");
	assert_string_equal(info.instructions, "Use echo to test.");
	/* 12 tools and 2 extra, over 5 pages of 3. */
	assert_int_equal(info.ntools, 14);
	assert_true(info.pid > 0);
	tools = mcp_pool_tools(p, &n);
	assert_int_equal(n, 14);
	assert_string_equal(tools[0].name, "echo");
	assert_string_equal(tools[0].fqname, "t__echo");
	assert_string_equal(tools[0].server, "t");
	assert_true(tools[0].allowed);
	assert_false(tools[1].allowed);
	assert_string_equal(tools[13].name, "extra2");
	assert_non_null(strstr(tools[0].input_schema, "\"text\""));
	assert_ptr_equal(mcp_pool_find(p, "t__extra1"), &tools[12]);
	call_wait(p, "echo", "{\"text\":\"hello there\"}", &s);
	assert_int_equal(s.status, MCP_CALL_OK);
	assert_string_equal(s.text, "hello there");
	assert_non_null(strstr(s.raw, "\"content\""));
	seen_clear(&s);
	mcp_pool_free(p);
	assert_true(gone(info.pid));
}

/* Tool errors, images, resources and structured content become the expected text. */
static void
test_results(void **state)
{
	struct mcp_pool *p = pool_of(cfg_make("t", NULL));
	struct seen s = { 0 };

	(void)state;
	call_wait(p, "fail", NULL, &s);
	assert_int_equal(s.status, MCP_CALL_TOOL_ERROR);
	assert_string_equal(s.text, "failure as asked");
	call_wait(p, "image", "{}", &s);
	assert_int_equal(s.status, MCP_CALL_OK);
	assert_string_equal(s.text, "[image/png, 8 bytes]\na tiny image");
	assert_int_equal(s.nimages, 1);
	assert_int_equal(s.image_bytes, 8);
	call_wait(p, "resource", "{}", &s);
	assert_string_equal(s.text, "[resource link: file:///tmp/notes.txt (notes)]\n"
	    "[resource: memo://one]\nthe memo text");
	call_wait(p, "structured", "{}", &s);
	assert_string_equal(s.text, "{\"answer\":42}");
	call_wait(p, "nosuchtool", "{}", &s);
	assert_int_equal(s.status, MCP_CALL_REFUSED);
	assert_non_null(strstr(s.text, "error -32602: Unknown tool"));
	call_wait(p, "echo", "[1, 2]", &s);
	assert_int_equal(s.status, MCP_CALL_REFUSED);
	assert_string_equal(s.text, "the arguments are not a JSON object");
	/* The server answers its own requests' replies: ping answered, sampling refused. */
	call_wait(p, "ping", "{}", &s);
	assert_string_equal(s.text, "pong");
	call_wait(p, "sample", "{}", &s);
	assert_string_equal(s.text, "sampling refused: -32601");
	seen_clear(&s);
	mcp_pool_free(p);
}

/* A call past its timeout ends as such and the server hears notifications/cancelled; a
 * cancelled call the same, with the user's reason. */
static void
test_timeout_cancel(void **state)
{
	struct mcp_server_cfg c = cfg_make("t", "--log", log_path, NULL);
	struct mcp_pool *p;
	struct seen s = { 0 }, s2 = { 0 };
	uint64_t id;
	long took;

	(void)state;
	unlink(log_path);
	c.timeout = 0.3;
	p = pool_of(c);
	mcp_pool_start(p, NULL);
	pool_run(p, NULL, MCP_READY, 10000);
	mcp_pool_call(p, "t", "hang", "{}", on_done, &s);
	took = pool_run(p, &s.done, -1, 5000);
	assert_int_equal(s.status, MCP_CALL_TIMEOUT);
	assert_true(took >= 250 && took < 2000);
	assert_non_null(strstr(s.text, "did not answer tools/call 'hang' within 0.3 s"));
	/* The next call still works: the server is fine. */
	call_wait(p, "echo", "{\"text\":\"after\"}", &s2);
	assert_string_equal(s2.text, "after");
	assert_true(logged("\"method\":\"notifications/cancelled\""));
	assert_true(logged("timed out after 0.3 s"));
	seen_clear(&s);
	id = mcp_pool_call(p, "t", "hang", "{}", on_done, &s);
	pool_step(p, 20);
	mcp_pool_cancel(p, id);
	assert_int_equal(s.done, 0); /* callbacks only run from mcp_pool_process */
	pool_run(p, &s.done, -1, 1000);
	assert_int_equal(s.done, 1);
	assert_int_equal(s.id, id);
	assert_int_equal(s.status, MCP_CALL_CANCELLED);
	call_wait(p, "echo", "{\"text\":\"x\"}", &s2);
	assert_true(logged("cancelled by the user"));
	seen_clear(&s);
	seen_clear(&s2);
	mcp_pool_free(p);
}

/* grow sends list_changed: the client lists again and offers the new tool. */
static void
test_list_changed(void **state)
{
	struct mcp_pool *p = pool_of(cfg_make("t", "--page", "4", NULL));
	struct seen s = { 0 };
	uint64_t gen;
	int64_t t0;
	size_t n;

	(void)state;
	mcp_pool_start(p, NULL);
	pool_run(p, NULL, MCP_READY, 10000);
	mcp_pool_tools(p, &n);
	assert_int_equal(n, 12);
	assert_null(mcp_pool_find(p, "t__grown"));
	gen = mcp_pool_generation(p);
	call_wait(p, "grow", "{}", &s);
	assert_string_equal(s.text, "grew");
	for (t0 = mcp_now_ms(); mcp_pool_busy(p) && mcp_now_ms() - t0 < 5000;)
		pool_step(p, 50);
	assert_non_null(mcp_pool_find(p, "t__grown"));
	mcp_pool_tools(p, &n);
	assert_int_equal(n, 13);
	assert_true(mcp_pool_generation(p) != gen);
	call_wait(p, "grown", "{}", &s);
	assert_string_equal(s.text, "grown tool here");
	seen_clear(&s);
	mcp_pool_free(p);
}

/* A listing again that is never answered is given up after startup_timeout: the pool is
 * not busy forever and the old tools stay. */
static void
test_relist_unanswered(void **state)
{
	struct mcp_server_cfg c = cfg_make("t", "--ignore-relist", NULL);
	struct mcp_pool *p;
	struct seen s = { 0 };
	int64_t t0;
	size_t n;

	(void)state;
	c.startup_timeout = 0.4;
	p = pool_of(c);
	call_wait(p, "grow", "{}", &s);
	assert_string_equal(s.text, "grew");
	pool_step(p, 50);
	assert_true(mcp_pool_busy(p));
	for (t0 = mcp_now_ms(); mcp_pool_busy(p) && mcp_now_ms() - t0 < 3000;)
		pool_step(p, 50);
	assert_false(mcp_pool_busy(p));
	assert_true(mcp_now_ms() - t0 < 2000);
	mcp_pool_tools(p, &n);
	assert_int_equal(n, 12);
	call_wait(p, "echo", "{\"text\":\"still\"}", &s);
	assert_string_equal(s.text, "still");
	seen_clear(&s);
	mcp_pool_free(p);
}

/* A server that dies at start: the queued call fails with its exit status and stderr,
 * quickly, and the process is reaped. */
static void
test_crash_on_start(void **state)
{
	struct mcp_pool *p = pool_of(cfg_make("t", "--crash-on-start", NULL));
	struct mcp_server_info info;
	struct seen s = { 0 };
	long took;
	int pid;

	(void)state;
	mcp_pool_call(p, "t", "echo", "{}", on_done, &s);
	mcp_pool_info(p, 0, &info);
	assert_int_equal(info.state, MCP_STARTING);
	pid = info.pid;
	took = pool_run(p, &s.done, -1, 5000);
	assert_int_equal(s.done, 1);
	assert_true(took < 2000);
	assert_int_equal(s.status, MCP_CALL_FAILED);
	assert_non_null(strstr(s.text, "mcp server 't' exited with status 3 before it was ready"));
	assert_non_null(strstr(s.text, "mcpserver: crashing on start as asked"));
	mcp_pool_info(p, 0, &info);
	assert_int_equal(info.state, MCP_FAILED);
	assert_int_equal(info.pid, 0);
	assert_string_equal(info.stderr_tail, "mcpserver: crashing on start as asked");
	assert_true(gone(pid));
	/* A failed server is not restarted by a call, and says why at once. */
	seen_clear(&s);
	mcp_pool_call(p, "t", "echo", "{}", on_done, &s);
	pool_step(p, 0);
	assert_int_equal(s.done, 1);
	assert_non_null(strstr(s.text, "exited with status 3"));
	seen_clear(&s);
	mcp_pool_free(p);
}

/* Garbage on stdout, at start or instead of an answer, fails the server with an excerpt;
 * its tools are withdrawn. */
static void
test_garbage(void **state)
{
	int fds0 = nfds();
	struct mcp_pool *p = pool_of(cfg_make("t", "--garbage", NULL));
	struct mcp_server_info info;
	struct seen s = { 0 };
	size_t n;
	int pid;

	(void)state;
	mcp_pool_start(p, "t");
	pool_run(p, NULL, MCP_FAILED, 5000);
	mcp_pool_info(p, 0, &info);
	assert_int_equal(info.state, MCP_FAILED);
	assert_non_null(strstr(info.error, "wrote something that is not JSON-RPC on its output: "
	    "'Server listening on stdio... this is not JSON'"));
	mcp_pool_free(p);

	p = pool_of(cfg_make("t", "--garbage-on-call", NULL));
	mcp_pool_start(p, "t");
	pool_run(p, NULL, MCP_READY, 5000);
	mcp_pool_tools(p, &n);
	assert_int_equal(n, 12);
	mcp_pool_info(p, 0, &info);
	pid = info.pid;
	call_wait(p, "echo", "{}", &s);
	assert_int_equal(s.status, MCP_CALL_FAILED);
	assert_non_null(strstr(s.text, "'Traceback (most recent call last): oops'"));
	mcp_pool_tools(p, &n);
	assert_int_equal(n, 0);
	/* The process is ended in the background, then reaped. */
	pool_run(p, NULL, -1, 1500);
	assert_true(gone(pid));
	seen_clear(&s);
	mcp_pool_free(p);
	assert_int_equal(nfds(), fds0); /* no pipe left open */
}

/* A server that exits during a call: the call fails, the state is EXITED, and a start
 * brings it back. */
static void
test_exit_and_restart(void **state)
{
	int fds0 = nfds();
	struct mcp_pool *p = pool_of(cfg_make("t", NULL));
	struct mcp_server_info info;
	struct seen s = { 0 };

	(void)state;
	call_wait(p, "crash", "{}", &s);
	assert_int_equal(s.status, MCP_CALL_FAILED);
	assert_non_null(strstr(s.text, "mcp server 't' exited with status 4"));
	assert_non_null(strstr(s.text, "crashing in the middle of a call"));
	mcp_pool_info(p, 0, &info);
	assert_int_equal(info.state, MCP_EXITED);
	assert_int_equal(mcp_pool_start(p, "t"), 0);
	pool_run(p, NULL, MCP_READY, 5000);
	call_wait(p, "echo", "{\"text\":\"back\"}", &s);
	assert_string_equal(s.text, "back");
	seen_clear(&s);
	mcp_pool_free(p);
	assert_int_equal(nfds(), fds0);
}

/* Servers that cannot start: missing program, url transport without a worker, disabled,
 * unknown, slow. */
static void
test_cannot_start(void **state)
{
	struct mcp_server_cfg v[4];
	struct mcp_pool *p;
	struct mcp_server_info info;
	struct seen s = { 0 };

	(void)state;
	v[0] = cfg_make("missing", NULL);
	free(v[0].command);
	v[0].command = xstrdup("natter-no-such-mcp-server");
	v[1] = cfg_make("web", NULL);
	free(v[1].command);
	v[1].command = NULL;
	v[1].url = xstrdup("https://example.com/mcp");
	v[2] = cfg_make("off", NULL);
	v[2].enabled = 0;
	v[3] = cfg_make("slow", "--slow-start", "3", NULL);
	v[3].startup_timeout = 0.3;
	p = mcp_pool_new(v, 4);
	mcp_server_cfg_free(xmemdup(v, sizeof v), 4);
	mcp_pool_info(p, 2, &info);
	assert_int_equal(info.state, MCP_DISABLED);
	assert_int_equal(mcp_pool_start(p, "off"), -1);
	mcp_pool_start(p, NULL);
	mcp_pool_info(p, 0, &info);
	assert_int_equal(info.state, MCP_FAILED);
	assert_non_null(strstr(info.error, "mcp server 'missing' could not be started: cannot "
	    "run 'natter-no-such-mcp-server': not found in PATH"));
	mcp_pool_info(p, 1, &info);
	assert_int_equal(info.state, MCP_FAILED);
	assert_true(info.transport_http);
	assert_non_null(strstr(info.error, "needs the network worker"));
	call_wait(p, "echo", "{}", &s); /* "t" is not configured */
	assert_int_equal(s.status, MCP_CALL_FAILED);
	assert_string_equal(s.text, "no mcp server is called 't'");
	seen_clear(&s);
	mcp_pool_call(p, "off", "echo", "{}", on_done, &s);
	pool_run(p, &s.done, -1, 1000);
	assert_string_equal(s.text, "mcp server 'off' is disabled (enabled: false)");
	seen_clear(&s);
	mcp_pool_call(p, "slow", "echo", "{}", on_done, &s);
	pool_run(p, &s.done, -1, 3000);
	assert_int_equal(s.status, MCP_CALL_FAILED);
	assert_non_null(strstr(s.text, "did not finish starting within 0.3 s"));
	seen_clear(&s);
	mcp_pool_free(p);
}

/* The server sees the basics and its env: entries (with ${NAME} expanded), never the
 * rest of natter's environment. */
static void
test_environment(void **state)
{
	struct mcp_server_cfg c = cfg_make("t", NULL);
	struct mcp_pool *p;
	struct seen s = { 0 };
	int fd;

	(void)state;
	setenv("OPENAI_API_KEY", "sk-test-must-not-leak-1234567890", 1);
	setenv("NATTER_MCP_TEST_SRC", "from-natter", 1);
	c.env = xcalloc(2, sizeof *c.env);
	c.env[0].name = xstrdup("MCP_GREETING");
	c.env[0].value = xstrdup("hi ${NATTER_MCP_TEST_SRC}, ${UNSET_NATTER_VAR}$x");
	c.env[1].name = xstrdup("HOME");
	c.env[1].value = xstrdup("/mcp-home");
	c.nenv = 2;
	p = pool_of(c);
	call_wait(p, "env", "{\"name\":\"OPENAI_API_KEY\"}", &s);
	assert_string_equal(s.text, "(unset)");
	call_wait(p, "env", "{\"name\":\"NATTER_MCP_TEST_SRC\"}", &s);
	assert_string_equal(s.text, "(unset)");
	call_wait(p, "env", "{\"name\":\"MCP_GREETING\"}", &s);
	assert_string_equal(s.text, "hi from-natter, $x");
	call_wait(p, "env", "{\"name\":\"HOME\"}", &s);
	assert_string_equal(s.text, "/mcp-home");
	call_wait(p, "env", "{\"name\":\"PATH\"}", &s);
	assert_string_equal(s.text, getenv("PATH"));
	/* None of natter's descriptors (here one opened without O_CLOEXEC) reach it. */
	assert_string_equal(s.text, getenv("PATH"));
	mcp_pool_free(p);
	fd = open("/dev/null", O_RDONLY);
	assert_true(fd > 2);
	p = pool_of(cfg_make("t", NULL));
	call_wait(p, "fds", "{}", &s);
	assert_string_equal(s.text, "0 1 2");
	close(fd);
	seen_clear(&s);
	mcp_pool_free(p);
	unsetenv("OPENAI_API_KEY");
	unsetenv("NATTER_MCP_TEST_SRC");
}

/* A server that ignores SIGTERM and its input closing is killed and reaped by free. */
static void
test_stubborn(void **state)
{
	struct mcp_pool *p = pool_of(cfg_make("t", "--stubborn", NULL));
	struct mcp_server_info info;
	int64_t t0;

	(void)state;
	mcp_pool_start(p, NULL);
	pool_run(p, NULL, MCP_READY, 5000);
	mcp_pool_info(p, 0, &info);
	assert_true(info.pid > 0);
	t0 = mcp_now_ms();
	mcp_pool_free(p);
	assert_true(mcp_now_ms() - t0 < 4000);
	assert_true(gone(info.pid));
}

/* A batch from the server is refused with an Invalid Request error; a server without
 * tools/list is ready with no tools. */
static void
test_batch_and_no_tools(void **state)
{
	struct mcp_pool *p;
	struct mcp_server_info info;
	struct seen s = { 0 };

	(void)state;
	unlink(log_path);
	p = pool_of(cfg_make("t", "--batch", "--log", log_path, NULL));
	call_wait(p, "echo", "{\"text\":\"still fine\"}", &s);
	assert_string_equal(s.text, "still fine");
	assert_true(logged("\"id\":null,\"error\":{\"code\":-32600"));
	mcp_pool_free(p);
	p = pool_of(cfg_make("t", "--no-tools", NULL));
	mcp_pool_start(p, NULL);
	pool_run(p, NULL, MCP_READY, 5000);
	mcp_pool_info(p, 0, &info);
	assert_int_equal(info.state, MCP_READY);
	assert_int_equal(info.ntools, 0);
	seen_clear(&s);
	mcp_pool_free(p);
}

/* The callback of one call may start the next. */
struct chain {
	struct mcp_pool *p;
	struct seen second;
	int first;
};

/* First result: call echo again from inside the callback. */
static void
on_first(void *arg, const struct mcp_result *r)
{
	struct chain *ch = arg;

	ch->first = r->status == MCP_CALL_OK;
	mcp_pool_call(ch->p, "t", "echo", "{\"text\":\"second\"}", on_done, &ch->second);
}

/* Calls made from a callback run like any other. */
static void
test_callback_chain(void **state)
{
	struct chain ch = { NULL, { 0 }, 0 };

	(void)state;
	ch.p = pool_of(cfg_make("t", NULL));
	mcp_pool_call(ch.p, "t", "echo", "{\"text\":\"first\"}", on_first, &ch);
	pool_run(ch.p, &ch.second.done, -1, 10000);
	assert_true(ch.first);
	assert_string_equal(ch.second.text, "second");
	seen_clear(&ch.second);
	mcp_pool_free(ch.p);
}

/* A credential given to a server in env: is masked in its stderr and in its results. */
static void
test_secrets(void **state)
{
	struct mcp_server_cfg c = cfg_make("t", "--stderr-env", "MY_TOKEN", NULL);
	struct mcp_server_cfg d = cfg_make("t", "--stderr-env", "MY_TOKEN", "--crash-on-start",
	    NULL);
	struct mcp_pool *p;
	struct mcp_server_info info;
	struct seen s = { 0 };
	const char *tok = "tok-mcp-secret-value-0123456789";

	(void)state;
	c.env = xcalloc(1, sizeof *c.env);
	c.env[0].name = xstrdup("MY_TOKEN");
	c.env[0].value = xstrdup(tok);
	c.nenv = 1;
	d.env = xcalloc(1, sizeof *d.env);
	d.env[0].name = xstrdup("MY_TOKEN");
	d.env[0].value = xstrdup(tok);
	d.nenv = 1;
	p = pool_of(c);
	call_wait(p, "env", "{\"name\":\"MY_TOKEN\"}", &s);
	assert_int_equal(s.status, MCP_CALL_OK);
	assert_null(strstr(s.text, tok));
	assert_null(strstr(s.raw, tok));
	mcp_pool_free(p);
	p = pool_of(d);
	mcp_pool_start(p, NULL);
	pool_run(p, NULL, MCP_FAILED, 5000);
	mcp_pool_info(p, 0, &info);
	assert_non_null(strstr(info.error, "MY_TOKEN="));
	assert_null(strstr(info.error, tok));
	assert_null(strstr(info.stderr_tail, tok));
	seen_clear(&s);
	mcp_pool_free(p);
}

/* Rendering edge cases without a server. */
static void
test_render(void **state)
{
	static const struct {
		const char *json, *text;
		int err;
	} cases[] = {
		{ "{\"content\":[]}", "", 0 },
		{ "{\"content\":[{\"type\":\"audio\",\"mimeType\":\"audio/wav\",\"data\":\"AAAA\"}]}",
		  "[audio/wav, 3 bytes]", 0 },
		{ "{\"content\":[{\"type\":\"video\"},{\"type\":\"text\",\"text\":\"x\"}],"
		  "\"isError\":true}", "[video content]\nx", 1 },
		{ "{\"content\":[{\"type\":\"resource\",\"resource\":{\"uri\":\"a:b\",\"blob\":"
		  "\"AAAAAA==\",\"mimeType\":\"application/pdf\"}}]}",
		  "[resource: a:b, application/pdf, 4 bytes]", 0 },
		{ "[1]", "the server's answer is not a tool result", 1 },
	};
	size_t i, nimg;
	struct mcp_image *img;

	(void)state;
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		cJSON *j = cJSON_Parse(cases[i].json);
		struct buf b = BUF_INIT;

		img = NULL;
		nimg = 0;
		assert_int_equal(mcp_render_result(j, &b, &img, &nimg), cases[i].err);
		assert_string_equal(buf_str(&b), cases[i].text);
		assert_int_equal(nimg, 0);
		free(img);
		buf_free(&b);
		cJSON_Delete(j);
	}
}

/* mcp_servers: in the config becomes the server configs, every field. */
static void
test_config(void **state)
{
	struct config_errors errs = { NULL, 0 };
	struct config *c = config_load("tests/unit/configs/valid-mcp.yaml",
	    CONFIG_NO_KEYCMD | CONFIG_NO_DEFAULTS, &errs);
	const struct mcp_server_cfg *m;

	(void)state;
	assert_int_equal(errs.n, 0);
	assert_int_equal(c->nmcp_servers, 3);
	m = &c->mcp_servers[0];
	assert_string_equal(m->name, "files");
	assert_string_equal(m->command, "npx");
	assert_int_equal(m->nargs, 3);
	assert_string_equal(m->args[1], "@modelcontextprotocol/server-filesystem");
	assert_int_equal(m->nenv, 2);
	assert_string_equal(m->env[0].name, "GITHUB_TOKEN");
	assert_string_equal(m->env[0].value, "${GITHUB_TOKEN}");
	assert_string_equal(m->env[1].value, "");
	/* cwd is relative to the file that says it. */
	assert_string_equal(m->cwd, "tests/unit/configs/work/dir");
	assert_int_equal(m->nallow, 2);
	assert_string_equal(m->allow[1], "list_directory");
	assert_true(m->enabled);
	assert_true(m->timeout == 2.5);
	assert_true(m->startup_timeout == MCP_DEFAULT_STARTUP_TIMEOUT);
	assert_int_equal(m->line, 4);
	m = &c->mcp_servers[1];
	assert_null(m->command);
	assert_string_equal(m->url, "https://mcp.example.com/mcp");
	assert_int_equal(m->nheaders, 1);
	assert_false(m->enabled);
	assert_true(m->timeout == MCP_DEFAULT_TIMEOUT);
	m = &c->mcp_servers[2];
	assert_int_equal(m->nargs, 1);
	assert_string_equal(m->args[0], "lone");
	assert_string_equal(m->allow[0], "*");
	config_free(c);
	config_errors_free(&errs);
}

/* Find the test server. */
static int
setup(void **state)
{
	const char *env = getenv("MCPSERVER");
	char self[PATH_MAX];
	ssize_t n;

	(void)state;
	if (env != NULL && *env != '\0') {
		snprintf(server_path, sizeof server_path, "%s", env);
	} else if ((n = readlink("/proc/self/exe", self, sizeof self - 1)) > 0) {
		/* build/MODE/tests/test_mcp -> build/MODE/mcpserver */
		self[n] = '\0';
		*strrchr(self, '/') = '\0';
		*strrchr(self, '/') = '\0';
		if (strlen(self) + 11 < sizeof server_path) {
			memcpy(server_path, self, strlen(self));
			memcpy(server_path + strlen(self), "/mcpserver", 11);
		}
	}
	snprintf(log_path, sizeof log_path, "/tmp/natter-test-mcp-%d.log", (int)getpid());
	return access(server_path, X_OK);
}

/* Remove the log file. */
static int
teardown(void **state)
{
	(void)state;
	unlink(log_path);
	return 0;
}

/* Run the MCP client tests. */
int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ready_echo),
		cmocka_unit_test(test_results),
		cmocka_unit_test(test_timeout_cancel),
		cmocka_unit_test(test_list_changed),
		cmocka_unit_test(test_relist_unanswered),
		cmocka_unit_test(test_crash_on_start),
		cmocka_unit_test(test_garbage),
		cmocka_unit_test(test_exit_and_restart),
		cmocka_unit_test(test_cannot_start),
		cmocka_unit_test(test_environment),
		cmocka_unit_test(test_stubborn),
		cmocka_unit_test(test_batch_and_no_tools),
		cmocka_unit_test(test_callback_chain),
		cmocka_unit_test(test_secrets),
		cmocka_unit_test(test_render),
		cmocka_unit_test(test_config),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
