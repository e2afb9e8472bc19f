/*
 * Helpers shared by the command-line front ends (see cli.h). Each prints its own message
 * on stderr in natter's "natter: who: what" form, so a command only decides its exit
 * status.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "buf.h"
#include "cli.h"
#include "cmd.h"
#include "config.h"
#include "mcp.h"
#include "store.h"
#include "text.h"
#include "toolset.h"
#include "turn.h"
#include "xmalloc.h"

/* The largest prompt read from standard input. */
#define CLI_MAX_STDIN (64u << 20)

static int cli_sig_pipe[2] = { -1, -1 };
static volatile sig_atomic_t cli_sig_count;

/* Load the config and tell its errors. */
struct config *
cli_config(struct config_errors *errs)
{
	struct config *cfg = config_load(NULL, 0, errs);
	size_t i;

	config_share_pools(cfg, NULL);
	for (i = 0; i < errs->n; i++)
		fprintf(stderr, "%s\n", errs->v[i]);
	for (i = 0; i < cfg->nwarnings; i++)
		fprintf(stderr, "%s\n", cfg->warnings[i]);
	if (errs->n > 0 && cfg->path == NULL)
		fputs("natter: the config has errors; using the defaults (natter config check)\n",
		    stderr);
	else if (errs->n > 0)
		fputs("natter: the config has errors; what they are in is left out, the rest "
		    "applies (natter config check)\n", stderr);
	return cfg;
}

/* Open the store or say why not. */
struct store *
cli_store(const char *who)
{
	char *err = NULL;
	struct store *st = store_open(NULL, &err);

	if (st == NULL) {
		fprintf(stderr, "natter: %s: cannot open the session store: %s\n", who, err);
		free(err);
	}
	return st;
}

/* Run store_fold(path) in a grandchild that outlives natter: its own session, standard
 * streams on /dev/null (a pipe reading natter's output ends when natter does) and no other
 * descriptor, at a lower priority. The child in between exits at once and is reaped. */
static void
cli_fold_detached(const char *path)
{
	pid_t pid = fork();
	int fd;

	if (pid < 0)
		return;
	if (pid > 0) {
		while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
			;
		return;
	}
	if (setsid() < 0 || fork() != 0)
		_exit(0);
	if ((fd = open("/dev/null", O_RDWR)) >= 0) {
		dup2(fd, 0);
		dup2(fd, 1);
		dup2(fd, 2);
	}
	closefrom(3);
	if (nice(10) < 0) {
		/* The fold runs at the priority it has. */
	}
	_exit(store_fold(path) == 0 ? 0 : 1);
}

/* Close a brief writer's store, folding a heavy write-ahead log in the background. */
void
cli_store_close(struct store *st)
{
	char *path;

	if (st == NULL)
		return;
	if (!store_wal_heavy(st)) {
		store_close(st);
		return;
	}
	path = xstrdup(store_path(st));
	store_close(st);
	fflush(NULL);
	cli_fold_detached(path);
	free(path);
}

/* Read all of standard input. */
char *
cli_read_stdin(size_t max)
{
	struct buf b = BUF_INIT;
	char tmp[8192];
	ssize_t n;

	for (;;) {
		n = read(0, tmp, sizeof(tmp));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		buf_append(&b, tmp, (size_t)n);
		if (b.len > max) {
			buf_free(&b);
			errno = EFBIG;
			return NULL;
		}
	}
	buf_putc(&b, '\0');
	b.len--;
	return buf_detach(&b);
}

/* The prompt from words and standard input. */
char *
cli_prompt(int argc, char **argv, int first)
{
	struct buf p = BUF_INIT;
	char *in = NULL;
	int i, dash = 0;

	for (i = first; i < argc; i++)
		dash |= strcmp(argv[i], "-") == 0;
	if (first >= argc || dash || !isatty(0))
		in = cli_read_stdin(CLI_MAX_STDIN);
	if (first < argc && in == NULL && (dash || errno == EFBIG))
		return NULL;
	for (i = first; i < argc; i++) {
		if (i > first)
			buf_putc(&p, ' ');
		buf_puts(&p, strcmp(argv[i], "-") == 0 ? (in != NULL ? in : "") : argv[i]);
	}
	if (first >= argc) {
		buf_puts(&p, in != NULL ? in : "");
	} else if (!dash && in != NULL && strspn(in, " \t\r\n") < strlen(in)) {
		buf_puts(&p, "\n\n");
		buf_puts(&p, in);
	}
	free(in);
	buf_putc(&p, '\0');
	p.len--;
	return buf_detach(&p);
}

/* SIGINT: the first one wakes the main loop, the second one leaves at once. */
static void
cli_on_sigint(int sig)
{
	int saved = errno;
	ssize_t r;

	(void)sig;
	if (++cli_sig_count >= 2)
		_exit(EXIT_INTERRUPTED);
	r = write(cli_sig_pipe[1], "i", 1);
	(void)r;
	errno = saved;
}

/* Install the SIGINT handler; returns the descriptor to poll. */
int
cli_sigint(void)
{
	struct sigaction sa;

	if (cli_sig_pipe[0] < 0 && pipe2(cli_sig_pipe, O_NONBLOCK | O_CLOEXEC) != 0)
		return -1;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = cli_on_sigint;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	return cli_sig_pipe[0];
}

/* How many SIGINTs arrived. */
int
cli_interrupted(void)
{
	return (int)cli_sig_count;
}

/* Write everything, retrying short writes. */
int
cli_write(int fd, const char *p, size_t n)
{
	ssize_t w;

	while (n > 0) {
		w = write(fd, p, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Untrusted text, terminal-safe unless raw. */
void
cli_text(struct buf *out, const char *p, size_t n, int raw)
{
	if (raw)
		buf_append(out, p, n);
	else
		text_sanitize(p, n, out);
}

/* A string field of a JSON object, or null. */
void
cli_json_str(struct buf *b, const char *key, const char *v, size_t n, int raw)
{
	struct buf c = BUF_INIT;

	buf_printf(b, ",\"%s\":", key);
	if (v == NULL) {
		buf_puts(b, "null");
		return;
	}
	cli_text(&c, v, n, raw);
	buf_json_string(b, c.data != NULL ? c.data : "", c.len);
	buf_free(&c);
}

/* A number field of a JSON object, or null when unknown. */
void
cli_json_num(struct buf *b, const char *key, double v, int integer)
{
	if (v < 0)
		buf_printf(b, ",\"%s\":null", key);
	else if (integer)
		buf_printf(b, ",\"%s\":%ld", key, (long)v);
	else
		buf_printf(b, ",\"%s\":%.6g", key, v);
}

/* A session id from text. */
int64_t
cli_session_id(struct store *st, const char *who, const char *text)
{
	struct session_row *rows = NULL;
	size_t n = 0;
	int64_t id = 0;
	char *end;

	if (strcmp(text, "last") == 0 || strcmp(text, "-") == 0) {
		if (store_sessions(st, &rows, &n, 1) == 0 && n > 0)
			id = rows[0].id;
		store_sessions_free(rows, n);
		if (id == 0)
			fprintf(stderr, "natter: %s: there is no stored session yet\n", who);
		return id;
	}
	errno = 0;
	id = (int64_t)strtoll(text, &end, 10);
	if (errno != 0 || *end != '\0' || id <= 0 || end == text) {
		fprintf(stderr, "natter: %s: '%s' is not a session id (natter sessions lists them)\n",
		    who, text);
		return 0;
	}
	return id;
}

/* Name the argument a command could not take, made safe to print. */
void
cli_bad_arg(const char *who, const char *arg)
{
	struct buf b = BUF_INIT;

	fprintf(stderr, "natter: %s: %s '%s'\n", who, arg[0] == '-' && arg[1] != '\0' ?
	    "unknown option" : "unexpected argument", text_line(&b, arg));
	buf_free(&b);
}

/* Report a usage error of who and return the usage exit status. */
int
cli_usage(const char *who, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "natter: %s: ", who);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, " (see natter %s --help)\n", who);
	return EXIT_USAGE;
}

/* Parse a long in [lo, hi]; 0 on success. */
int
cli_long(const char *s, long lo, long hi, long *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (end == s || *end != '\0' || errno != 0 || v < lo || v > hi)
		return -1;
	*out = v;
	return 0;
}

/* Parse a double in [lo, hi]; 0 on success. */
int
cli_double(const char *s, double lo, double hi, double *out)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (end == s || *end != '\0' || errno != 0 || !(v >= lo && v <= hi))
		return -1;
	*out = v;
	return 0;
}

/* Start the tools --tools or --mcp asks for and give their box. */
int
cli_tools(const struct config *cfg, const char *who, const char *only, int yes, long ms,
    struct worker *w, struct toolset **ts, const struct turn_toolbox **box)
{
	struct mcp_server_info info;
	struct mcp_pool *pool;
	size_t i;

	*box = NULL;
	*ts = toolset_new(cfg, only, yes, w);
	if (toolset_servers(*ts) == 0) {
		if (only != NULL)
			fprintf(stderr, "natter: %s: no MCP server named %s (natter mcp list shows "
			    "them)\n", who, only);
		else
			fprintf(stderr, "natter: %s: --tools: the config has no mcp_servers:\n", who);
		return -1;
	}
	toolset_start(*ts);
	toolset_wait(*ts, ms);
	pool = toolset_pool(*ts);
	for (i = 0; i < mcp_pool_count(pool); i++)
		if (mcp_pool_info(pool, i, &info) == 0 && (info.state == MCP_FAILED ||
		    info.state == MCP_EXITED || info.state == MCP_STARTING))
			fprintf(stderr, "natter: %s: MCP server %s: %s\n", who, info.name,
			    info.state == MCP_STARTING ? "still starting; its tools are left out" :
			    info.error != NULL ? info.error : mcp_state_name(info.state));
	*box = toolset_box(*ts);
	if (*box == NULL)
		fprintf(stderr, "natter: %s: no tools are ready; asking without them\n", who);
	return 0;
}

/* Say what became of a call; refuse one that waits for approval. */
void
cli_tool_note(struct turn *t, unsigned what, size_t k, const char *prefix, const char *who)
{
	const struct turn_call *c;
	struct buf line = BUF_INIT, args = BUF_INIT;
	char *why;

	if (k >= t->ncalls)
		return;
	c = &t->calls[k];
	text_line(&args, c->args);
	if (what & TURN_APPROVE) {
		fprintf(stderr, "natter: %srefused %s %s: not on its server's allow list (--yes "
		    "runs it)\n", prefix, text_line(&line, c->name), buf_str(&args));
		why = xasprintf("natter %s runs only the tools on the allow list", who);
		buf_free(&line);
		buf_free(&args);
		turn_approve(t, k, 0, NULL, why);
		free(why);
		return;
	}
	if (c->state == CALL_RUNNING)
		fprintf(stderr, "natter: %scalling %s %s\n", prefix, text_line(&line, c->name),
		    buf_str(&args));
	else if (c->state != CALL_ASKING && c->state != CALL_REFUSED && c->duration_ms >= 0)
		fprintf(stderr, "natter: %s%s %s (%ld ms): %.200s\n", prefix,
		    text_line(&line, c->name), turn_call_state_name(c->state), c->duration_ms,
		    c->result != NULL ? c->result : "");
	else if (c->state != CALL_ASKING && c->state != CALL_REFUSED)
		fprintf(stderr, "natter: %s%s %s: %.200s\n", prefix, text_line(&line, c->name),
		    turn_call_state_name(c->state), c->result != NULL ? c->result : "");
	buf_free(&line);
	buf_free(&args);
}
