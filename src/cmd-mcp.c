/*
 * `natter mcp`: the MCP servers of the config from the command line, for setting them up
 * and testing them without a model. `mcp list` starts every enabled server (or those
 * named), waits until each is ready or has failed, and prints its state and tools with
 * whether they run without asking. `mcp call SERVER TOOL [JSON]` calls one tool and prints
 * its result. Everything a server says is untrusted and goes through the sanitizer (text.h)
 * on its way to the terminal.
 *
 * Exit statuses: 0 done; 1 the tool reported an error or the server refused the call; 2
 * a bad command line or an unknown server; 3 a server that failed, exited or did not
 * answer in time (and, for list, any listed server that is not ready); 130 Ctrl+C.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cJSON.h>

#include "buf.h"
#include "cli.h"
#include "cmd.h"
#include "config.h"
#include "mcp.h"
#include "text.h"
#include "worker.h"
#include "xmalloc.h"

#define CMD_MCP_FAILED 3
#define CMD_MCP_DESC 76    /* characters of a tool's description in the list */
#define CMD_MCP_MAX_ARGS (16u << 20)

static const char cmd_mcp_usage[] =
    "usage: natter mcp list [SERVER...] [--timeout SECONDS]\n"
    "       natter mcp call SERVER TOOL [JSON|-] [--timeout SECONDS] [--json]\n"
    "\n"
    "  list    start the servers of mcp_servers: (or those named), wait until each is\n"
    "          ready or has failed, and print its state and tools; \"allowed\" tools\n"
    "          run without asking, the others need approval\n"
    "  call    call TOOL of SERVER with JSON arguments (an object; - reads standard\n"
    "          input; default {}) and print the result; the allow list does not apply\n"
    "\n"
    "  --timeout SECONDS   list: how long a server may take to start (instead of its\n"
    "                      startup_timeout); call: how long the call may take\n"
    "  --json              call: print the result as the server sent it (JSON)\n"
    "\n"
    "Exit status: 0 ok, 1 tool error, 2 usage, 3 server failure or timeout.\n";

/* Load the config without key commands, telling its errors. */
static struct config *
cmd_mcp_config(void)
{
	struct config_errors errs = { NULL, 0 };
	struct config *c = config_load(NULL, CONFIG_NO_KEYCMD, &errs);
	size_t i;

	for (i = 0; i < errs.n; i++)
		fprintf(stderr, "%s\n", errs.v[i]);
	if (errs.n > 0)
		fputs("natter: the config has errors; using the defaults (natter config check)\n",
		    stderr);
	config_errors_free(&errs);
	return c;
}

/* Say that name is no configured server, with the nearest one. */
static void
cmd_mcp_unknown(const struct config *c, const char *name)
{
	const char **names = xcalloc(c->nmcp_servers + 1, sizeof *names);
	const char *near;
	struct buf a = BUF_INIT, b = BUF_INIT;
	size_t i;

	for (i = 0; i < c->nmcp_servers; i++)
		names[i] = c->mcp_servers[i].name;
	near = config_nearest(name, names, c->nmcp_servers);
	if (c->nmcp_servers == 0)
		fprintf(stderr, "natter: no mcp server is called '%s': the config has none "
		    "(mcp_servers: in natter.yaml(5))\n", text_line(&a, name));
	else if (near != NULL)
		fprintf(stderr, "natter: no mcp server is called '%s', did you mean '%s'?\n",
		    text_line(&a, name), text_line(&b, near));
	else
		fprintf(stderr, "natter: no mcp server is called '%s' (natter mcp list shows "
		    "them)\n", text_line(&a, name));
	buf_free(&a);
	buf_free(&b);
	free(names);
}

/* Parse --timeout's value; -1 when it is not a positive number. */
static double
cmd_mcp_seconds(const char *s)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno != 0 || end == s || *end != '\0' || !(v > 0) || v > 86400)
		return -1;
	return v;
}

/* A pool over c's servers whose url: servers go through a worker of their own (*w, to
 * stop after mcp_pool_free). */
static struct mcp_pool *
cmd_mcp_pool(const struct config *c, struct worker **w)
{
	struct mcp_pool *p = mcp_pool_new(c->mcp_servers, c->nmcp_servers);

	worker_global_init();
	*w = worker_start();
	mcp_pool_set_worker(p, *w);
	return p;
}

/* One round: poll the pool and Ctrl+C, then let the pool work. -1 on Ctrl+C. */
static int
cmd_mcp_step(struct mcp_pool *p, int sig)
{
	struct pollfd fds[64];
	size_t n;
	int64_t t, now;
	int timeout = 1000;

	fds[0].fd = sig;
	fds[0].events = POLLIN;
	fds[0].revents = 0;
	n = mcp_pool_pollfds(p, fds + 1, 63);
	if (n > 63)
		n = 63;
	t = mcp_pool_next_deadline(p);
	now = mcp_now_ms();
	if (t >= 0)
		timeout = t <= now ? 0 : (t - now < 1000 ? (int)(t - now) : 1000);
	if (poll(fds, n + 1, timeout) < 0 && errno != EINTR)
		return -1;
	if (sig >= 0 && (fds[0].revents & POLLIN))
		return -1;
	mcp_pool_process(p, fds + 1, n, mcp_now_ms());
	return 0;
}

/* Run the pool until nothing is starting or being listed; -1 on Ctrl+C. */
static int
cmd_mcp_settle(struct mcp_pool *p, int sig)
{
	while (mcp_pool_busy(p))
		if (cmd_mcp_step(p, sig) < 0)
			return -1;
	return 0;
}

/* The first line of s, sanitised, cut to max characters. */
static const char *
cmd_mcp_oneline(struct buf *b, const char *s, size_t max)
{
	const char *nl = strchr(s, '\n');
	size_t len = nl != NULL ? (size_t)(nl - s) : strlen(s), off = 0, chars = 0;
	unsigned cp;

	buf_reset(b);
	text_sanitize_line(s, len, b);
	while (off < b->len && chars < max) {
		off += text_utf8_step((const unsigned char *)b->data + off, b->len - off, &cp);
		chars++;
	}
	if (off < b->len) {
		b->len = off;
		buf_puts(b, "...");
	}
	return buf_str(b);
}

/* Print one server and its tools. */
static void
cmd_mcp_print(struct mcp_pool *p, const struct mcp_server_info *in)
{
	struct buf a = BUF_INIT, b = BUF_INIT;
	const struct mcp_tool *t;
	size_t n, k, w = 4;

	printf("%s: %s", text_line(&a, in->name), mcp_state_name(in->state));
	if (in->state == MCP_READY) {
		printf(", %zu tool%s", in->ntools, in->ntools == 1 ? "" : "s");
		if (in->server_name != NULL)
			printf(" (%s%s%s)", text_line(&a, in->server_name),
			    in->server_version != NULL ? " " : "",
			    in->server_version != NULL ? text_line(&b, in->server_version) : "");
	}
	putchar('\n');
	if (in->error != NULL) {
		/* Already safe; indented under the server. */
		const char *s = in->error, *nl;

		for (; *s != '\0'; s = nl != NULL ? nl + 1 : s + strlen(s)) {
			nl = strchr(s, '\n');
			printf("  %.*s\n", (int)(nl != NULL ? nl - s : (long)strlen(s)), s);
			if (nl == NULL)
				break;
		}
	}
	t = mcp_pool_tools(p, &n);
	for (k = 0; k < n; k++)
		if (strcmp(t[k].server, in->name) == 0 && strlen(t[k].name) > w)
			w = strlen(t[k].name) > 32 ? 32 : strlen(t[k].name);
	for (k = 0; k < n; k++) {
		if (strcmp(t[k].server, in->name) != 0)
			continue;
		printf("  %-*s  %-7s  %s\n", (int)w, text_line(&a, t[k].name),
		    t[k].allowed ? "allowed" : "ask", cmd_mcp_oneline(&b, t[k].description,
		    CMD_MCP_DESC));
	}
	buf_free(&a);
	buf_free(&b);
}

/* natter mcp list [SERVER...] [--timeout SECONDS]. */
static int
cmd_mcp_list(int argc, char **argv)
{
	struct config *c;
	struct mcp_pool *p;
	struct worker *w;
	struct mcp_server_info in;
	double timeout = -1;
	int i, rc = EXIT_OK, sig, named = 0, k;
	size_t j;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--timeout") == 0 && i + 1 < argc) {
			if ((timeout = cmd_mcp_seconds(argv[++i])) < 0) {
				fprintf(stderr, "natter: mcp list: --timeout takes seconds, e.g. 10\n");
				return EXIT_USAGE;
			}
		} else if (argv[i][0] == '-') {
			fputs(cmd_mcp_usage, stderr);
			return EXIT_USAGE;
		} else {
			named++;
		}
	}
	c = cmd_mcp_config();
	for (i = 1; i < argc; i++) {
		if (argv[i][0] == '-') {
			i++;
			continue;
		}
		for (j = 0; j < c->nmcp_servers; j++)
			if (strcmp(c->mcp_servers[j].name, argv[i]) == 0)
				break;
		if (j == c->nmcp_servers) {
			cmd_mcp_unknown(c, argv[i]);
			config_free(c);
			return EXIT_USAGE;
		}
	}
	if (c->nmcp_servers == 0) {
		printf("no mcp servers are configured (mcp_servers: in natter.yaml(5))\n");
		config_free(c);
		return EXIT_OK;
	}
	for (j = 0; timeout > 0 && j < c->nmcp_servers; j++)
		c->mcp_servers[j].startup_timeout = timeout;
	p = cmd_mcp_pool(c, &w);
	if (named == 0)
		mcp_pool_start(p, NULL);
	for (i = 1; i < argc; i++)
		if (argv[i][0] == '-')
			i++;
		else
			mcp_pool_start(p, argv[i]);
	sig = cli_sigint();
	if (cmd_mcp_settle(p, sig) < 0) {
		mcp_pool_free(p);
	worker_stop(w);
		config_free(c);
		return EXIT_INTERRUPTED;
	}
	for (j = 0; j < mcp_pool_count(p); j++) {
		mcp_pool_info(p, j, &in);
		if (named > 0) {
			for (k = 1; k < argc; k++)
				if (strcmp(argv[k], in.name) == 0)
					break;
			if (k == argc)
				continue;
		}
		cmd_mcp_print(p, &in);
		if (in.state == MCP_FAILED || in.state == MCP_EXITED)
			rc = CMD_MCP_FAILED;
	}
	mcp_pool_free(p);
	worker_stop(w);
	config_free(c);
	return rc;
}

/* What a call ended with, copied out of the callback. */
struct cmd_mcp_out {
	int done;
	enum mcp_status status;
	char *text, *raw;
};

/* The call's callback. */
static void
cmd_mcp_done(void *arg, const struct mcp_result *r)
{
	struct cmd_mcp_out *o = arg;

	o->done = 1;
	o->status = r->status;
	o->text = xstrdup(r->text);
	o->raw = r->raw != NULL ? xstrdup(r->raw) : NULL;
}

/* The names of server's tools, one per line, for noticing a change. */
static char *
cmd_mcp_names(struct mcp_pool *p, const char *server)
{
	struct buf b = BUF_INIT;
	const struct mcp_tool *t = NULL;
	size_t n, i;

	t = mcp_pool_tools(p, &n);
	buf_puts(&b, "");
	for (i = 0; i < n; i++)
		if (strcmp(t[i].server, server) == 0)
			buf_printf(&b, "%s\n", t[i].name);
	return buf_detach(&b);
}

/* True when the newline-terminated list holds the n bytes of name as a line. */
static int
cmd_mcp_has(const char *list, const char *name, size_t n)
{
	const char *s, *nl;

	for (s = list; (nl = strchr(s, '\n')) != NULL; s = nl + 1)
		if ((size_t)(nl - s) == n && memcmp(s, name, n) == 0)
			return 1;
	return 0;
}

/* Append to out the lines of a that b lacks, comma-separated and made safe. */
static void
cmd_mcp_missing(struct buf *out, const char *a, const char *b)
{
	struct buf l = BUF_INIT;
	const char *s, *nl;

	for (s = a; (nl = strchr(s, '\n')) != NULL; s = nl + 1) {
		if (cmd_mcp_has(b, s, (size_t)(nl - s)))
			continue;
		buf_reset(&l);
		text_sanitize_line(s, (size_t)(nl - s), &l);
		buf_printf(out, "%s%s", out->len > 0 ? ", " : "", buf_str(&l));
	}
	buf_free(&l);
}

/* Tell on stderr which tools of server came or went between before and after. */
static void
cmd_mcp_changes(const char *server, const char *before, const char *after)
{
	struct buf add = BUF_INIT, gone = BUF_INIT, l = BUF_INIT;

	cmd_mcp_missing(&add, after, before);
	cmd_mcp_missing(&gone, before, after);
	if (add.len > 0 || gone.len > 0)
		fprintf(stderr, "natter: mcp server '%s' changed its tools:%s%s%s%s\n",
		    text_line(&l, server), add.len > 0 ? " added " : "", buf_str(&add),
		    gone.len > 0 ? (add.len > 0 ? "; removed " : " removed ") : "",
		    buf_str(&gone));
	buf_free(&add);
	buf_free(&gone);
	buf_free(&l);
}

/* Print a result's text (or raw JSON) safely, ending with a newline. */
static void
cmd_mcp_output(FILE *f, const char *s, int json)
{
	struct buf b = BUF_INIT;

	if (json)
		text_json_safe(s, strlen(s), &b);
	else
		text_sanitize(s, strlen(s), &b);
	if (b.len > 0 && b.data[b.len - 1] != '\n')
		buf_putc(&b, '\n');
	fwrite(b.data != NULL ? b.data : "", 1, b.len, f);
	buf_free(&b);
}

/* The exit status of a finished call, after printing it. */
static int
cmd_mcp_report(const struct cmd_mcp_out *o, int json)
{
	switch (o->status) {
	case MCP_CALL_OK:
		cmd_mcp_output(stdout, json ? o->raw : o->text, json);
		return EXIT_OK;
	case MCP_CALL_TOOL_ERROR:
		cmd_mcp_output(stdout, json ? o->raw : o->text, json);
		fputs("natter: the tool reported an error\n", stderr);
		return EXIT_PROVIDER;
	case MCP_CALL_REFUSED:
		fprintf(stderr, "natter: %s\n", o->text);
		return EXIT_PROVIDER;
	case MCP_CALL_CANCELLED:
		fprintf(stderr, "natter: %s\n", o->text);
		return EXIT_INTERRUPTED;
	case MCP_CALL_FAILED:
	case MCP_CALL_TIMEOUT:
		break;
	}
	fprintf(stderr, "natter: %s\n", o->text);
	return CMD_MCP_FAILED;
}

/* The arguments of mcp call: the word, standard input for "-", else {}. NULL after
 * saying why. */
static char *
cmd_mcp_args(const char *word)
{
	char *s;
	cJSON *j;

	if (word == NULL)
		return xstrdup("{}");
	if (strcmp(word, "-") == 0) {
		if ((s = cli_read_stdin(CMD_MCP_MAX_ARGS)) == NULL) {
			fprintf(stderr, "natter: mcp call: cannot read the arguments: %s\n",
			    strerror(errno));
			return NULL;
		}
	} else {
		s = xstrdup(word);
	}
	j = cJSON_Parse(s);
	if (!cJSON_IsObject(j)) {
		fputs("natter: mcp call: the arguments must be a JSON object, e.g. "
		    "'{\"path\": \"/tmp\"}'\n", stderr);
		free(s);
		s = NULL;
	}
	cJSON_Delete(j);
	return s;
}

/* natter mcp call SERVER TOOL [JSON|-] [--timeout SECONDS] [--json]. */
static int
cmd_mcp_call(int argc, char **argv)
{
	const char *words[3] = { NULL, NULL, NULL };
	struct cmd_mcp_out o = { 0, MCP_CALL_OK, NULL, NULL };
	struct config *c;
	struct mcp_pool *p;
	struct worker *w;
	struct mcp_server_info in;
	double timeout = -1;
	int i, nw = 0, json = 0, rc, sig, idx;
	char *args, *before, *after;
	uint64_t id;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--timeout") == 0 && i + 1 < argc) {
			if ((timeout = cmd_mcp_seconds(argv[++i])) < 0) {
				fprintf(stderr, "natter: mcp call: --timeout takes seconds, e.g. 10\n");
				return EXIT_USAGE;
			}
		} else if (strcmp(argv[i], "--json") == 0) {
			json = 1;
		} else if ((argv[i][0] == '-' && argv[i][1] != '\0') || nw == 3) {
			fputs(cmd_mcp_usage, stderr);
			return EXIT_USAGE;
		} else {
			words[nw++] = argv[i];
		}
	}
	if (nw < 2) {
		fputs(cmd_mcp_usage, stderr);
		return EXIT_USAGE;
	}
	c = cmd_mcp_config();
	for (i = 0; i < (int)c->nmcp_servers; i++)
		if (strcmp(c->mcp_servers[i].name, words[0]) == 0)
			break;
	if (i == (int)c->nmcp_servers) {
		cmd_mcp_unknown(c, words[0]);
		config_free(c);
		return EXIT_USAGE;
	}
	if (timeout > 0)
		c->mcp_servers[i].timeout = timeout;
	if ((args = cmd_mcp_args(words[2])) == NULL) {
		config_free(c);
		return EXIT_USAGE;
	}
	p = cmd_mcp_pool(c, &w);
	config_free(c);
	sig = cli_sigint();
	idx = mcp_pool_index(p, words[0]);
	/* Start first, so that a change of its tools during the call can be told. */
	mcp_pool_start(p, words[0]);
	rc = cmd_mcp_settle(p, sig);
	before = cmd_mcp_names(p, words[0]);
	id = mcp_pool_call(p, words[0], words[1], args, cmd_mcp_done, &o);
	while (rc == 0 && !o.done)
		if ((rc = cmd_mcp_step(p, sig)) < 0)
			mcp_pool_cancel(p, id);
	if (o.done && rc == 0)
		rc = cmd_mcp_settle(p, sig);
	mcp_pool_info(p, (size_t)idx, &in);
	after = cmd_mcp_names(p, words[0]);
	if (rc == 0 && in.state == MCP_READY)
		cmd_mcp_changes(words[0], before, after);
	if (!o.done)
		rc = EXIT_INTERRUPTED;
	else
		rc = cmd_mcp_report(&o, json);
	mcp_pool_free(p);
	worker_stop(w);
	free(before);
	free(after);
	free(args);
	free(o.text);
	free(o.raw);
	return rc;
}

/* natter mcp list|call ... */
int
cmd_mcp(int argc, char **argv)
{
	if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "help") == 0)) {
		fputs(cmd_mcp_usage, stdout);
		return EXIT_OK;
	}
	if (argc >= 2 && strcmp(argv[1], "list") == 0)
		return cmd_mcp_list(argc - 1, argv + 1);
	if (argc >= 2 && strcmp(argv[1], "call") == 0)
		return cmd_mcp_call(argc - 1, argv + 1);
	fputs(cmd_mcp_usage, stderr);
	return EXIT_USAGE;
}
