/*
 * `natter compare -m A -m B [-m C -m D] PROMPT`: the headless side-by-side comparison. Every
 * model streams at once, each as one turn in one compare group of a new session (so the
 * interface shows the round side by side again and /pick works there); when all are done,
 * each reply is printed under its model's name, then a table of their figures (or one JSON
 * object with --json). A model that fails fails alone: the others still answer, and the
 * exit status says whether every one of them completed.
 */
#include <getopt.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "attach.h"
#include "attach-check.h"
#include "buf.h"
#include "cli.h"
#include "cmd.h"
#include "config.h"
#include "params.h"
#include "provider.h"
#include "resolve.h"
#include "session.h"
#include "store.h"
#include "text.h"
#include "toolset.h"
#include "turn.h"
#include "worker.h"
#include "xmalloc.h"

#define CMP_MAX 4

/* The command line. */
/* Descriptors of MCP servers compare polls (three per server), and how long it waits for
 * them to start. */
#define CMP_MAX_TOOL_FDS 96
#define CMP_TOOLS_WAIT_MS 30000

struct cmp_opts {
	const char *specs[CMP_MAX];
	int n;
	const char *system;
	struct params params;
	int json, raw, no_save;
	int tools, yes;              /* --tools, --yes */
	const char *mcp;             /* --mcp SERVER */
	struct attach **atts;        /* -a FILE, read as they come */
	size_t natts;
	int stdin_read;              /* -a - was given */
};

/* One column: its model, its turn and the reply's bytes as they came (for --raw). */
struct cmp_col {
	struct model *model;
	char *name;              /* "provider/id", terminal-safe */
	struct turn *t;
	struct buf raw;
	struct buf raw_reason;
};

/* Print the usage summary to f. */
static void
cmp_usage(FILE *f)
{
	fputs("usage: natter compare -m MODEL -m MODEL [-m MODEL [-m MODEL]] [-s SYSTEM]\n"
	    "                      [-t TEMP] [--max-tokens N] [-P NAME=VALUE]... [--json] [--raw]\n"
	    "                      [--no-save] [--tools | --mcp SERVER] [--yes] [-a FILE]...\n"
	    "                      [PROMPT... | -]\n"
	    "Sends PROMPT to two to four models at once and prints each reply under its model's\n"
	    "name, then their figures (ttft, tok/s, output tokens, cost, finish). The round is\n"
	    "stored as a comparison: `natter chat -S ID` shows it side by side, /pick keeps one.\n"
	    "Piped input follows the prompt after a blank line; - stands for standard input.\n"
	    "--tools (--mcp SERVER: one server's) offers every column the MCP servers' tools;\n"
	    "each column runs its own loop, allowed tools run, others are refused unless --yes,\n"
	    "and the calls go to stderr under the column's model. -a FILE attaches a file (- for\n"
	    "standard input) as natter ask -a does; every model must take it.\n", f);
}

/* Report a usage error. */
static int
cmp_bad(const char *what, const char *arg)
{
	fprintf(stderr, "natter: compare: %s%s%s%s\n", what, arg ? " '" : "", arg ? arg : "",
	    arg ? "'" : "");
	return EXIT_USAGE;
}

/* -a FILE: read it now; 0, or -1 after saying why not. */
static int
cmp_attach(struct cmp_opts *o, const char *path)
{
	struct attach *a;
	char *err = NULL;

	if (strcmp(path, "-") == 0 && o->stdin_read++)
		return cmp_bad("-a - reads standard input once: give it once", NULL);
	if ((a = attach_read(path, ATTACH_READ_MAX, &err)) == NULL) {
		fprintf(stderr, "natter: compare: -a: %s\n", err);
		free(err);
		return -1;
	}
	o->atts = xrealloc(o->atts, (o->natts + 1) * sizeof(*o->atts));
	o->atts[o->natts++] = a;
	return 0;
}

/* Parse the options; -1 to go on, else an exit status. */
static int
cmp_parse(int argc, char **argv, struct cmp_opts *o)
{
	enum { O_MAXTOK = 256, O_JSON, O_RAW, O_NOSAVE, O_TOOLS, O_MCP, O_YES };
	static const struct option longopts[] = {
		{ "model", required_argument, NULL, 'm' },
		{ "system", required_argument, NULL, 's' },
		{ "temperature", required_argument, NULL, 't' },
		{ "max-tokens", required_argument, NULL, O_MAXTOK },
		{ "param", required_argument, NULL, 'P' },
		{ "json", no_argument, NULL, O_JSON },
		{ "raw", no_argument, NULL, O_RAW },
		{ "no-save", no_argument, NULL, O_NOSAVE },
		{ "tools", no_argument, NULL, O_TOOLS },
		{ "mcp", required_argument, NULL, O_MCP },
		{ "yes", no_argument, NULL, O_YES },
		{ "attach", required_argument, NULL, 'a' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	char *err = NULL, *eq, *name;
	int c;

	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, ":m:s:t:P:a:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'a':
			if (cmp_attach(o, optarg) != 0)
				return EXIT_USAGE;
			break;
		case 'm':
			if (o->n == CMP_MAX)
				return cmp_bad("at most four models", NULL);
			o->specs[o->n++] = optarg;
			break;
		case 's':
			o->system = optarg;
			break;
		case 't':
		case O_MAXTOK:
		case 'P':
			eq = c == 'P' ? strchr(optarg, '=') : NULL;
			if (c == 'P' && eq == NULL)
				return cmp_bad("-P takes NAME=VALUE, not", optarg);
			name = c == 't' ? xstrdup("temperature") : c == O_MAXTOK ? xstrdup("max_tokens") :
			    xstrndup(optarg, (size_t)(eq - optarg));
			if (params_set(&o->params, name, eq ? eq + 1 : optarg, &err) != 0) {
				fprintf(stderr, "natter: compare: %s\n", err);
				free(err);
				free(name);
				return EXIT_USAGE;
			}
			free(name);
			break;
		case O_JSON:
			o->json = 1;
			break;
		case O_RAW:
			o->raw = 1;
			break;
		case O_NOSAVE:
			o->no_save = 1;
			break;
		case O_TOOLS:
			o->tools = 1;
			break;
		case O_MCP:
			o->mcp = optarg;
			break;
		case O_YES:
			o->yes = 1;
			break;
		case 'h':
			cmp_usage(stdout);
			return EXIT_OK;
		case ':':
			return cmp_bad("option needs a value:", argv[optind - 1]);
		default:
			return cmp_bad("unknown option", argv[optind - 1]);
		}
	}
	if (o->n < 2)
		return cmp_bad("name two to four models with -m", NULL);
	return -1;
}

/* Keep the raw bytes of a column for --raw. */
static void
cmp_update(struct turn *t, unsigned what, const char *p, size_t n, void *arg)
{
	struct cmp_col *col = arg;

	(void)t;
	if (what & TURN_TEXT)
		buf_append(&col->raw, p, n);
	if (what & TURN_REASONING)
		buf_append(&col->raw_reason, p, n);
	if ((what & TURN_WAIT) && t->wait_msg != NULL)
		fprintf(stderr, "natter: %s: %s\n", col->name, t->wait_msg);
	if ((what & TURN_FALLBACK) && t->note != NULL)
		fprintf(stderr, "natter: %s\n", t->note);
	if (what & (TURN_TOOL | TURN_APPROVE)) {
		char *prefix = xasprintf("%s: ", col->name);

		cli_tool_note(t, what, n, prefix, "compare");
		free(prefix);
	}
}

static const struct turn_cbs cmp_cbs = { cmp_update, NULL, NULL };

/* Resolve every model before anything is sent; -1 after saying which one failed. */
static int
cmp_resolve(struct config *cfg, const struct cmp_opts *o, struct cmp_col *cols)
{
	struct resolved r;
	struct buf b = BUF_INIT;
	char *msg, *full;
	int i;

	for (i = 0; i < o->n; i++) {
		if (resolve_model(cfg, o->specs[i], NULL, &r) != RESOLVE_OK) {
			msg = resolve_message(cfg, o->specs[i], &r);
			fprintf(stderr, "natter: compare: %s\n", msg);
			free(msg);
			return -1;
		}
		if (!provider_usable(r.model->provider)) {
			fprintf(stderr, "natter: compare: %s cannot be used: %s has no key (set %s)\n",
			    o->specs[i], r.model->provider->name, r.model->provider->key_env ?
			    r.model->provider->key_env : "its API key");
			return -1;
		}
		cols[i].model = r.model;
		full = xasprintf("%s/%s", r.model->provider->name, r.model->id);
		text_sanitize(full, strlen(full), &b);
		free(full);
		cols[i].name = buf_detach(&b);
	}
	return 0;
}

/* Stream every column until all are done; a Ctrl+C cancels them all. */
static void
cmp_run(struct worker *w, struct session *s, struct cmp_col *cols, int n, struct toolset *ts)
{
	struct turn *v[CMP_MAX];
	struct pollfd pfd[2 + CMP_MAX_TOOL_FDS];
	struct wevent *ev;
	int i, live, cancelled = 0, wait;
	size_t nt;
	char c;

	pfd[0].fd = worker_fd(w);
	pfd[0].events = POLLIN;
	pfd[1].fd = cli_sigint();
	pfd[1].events = POLLIN;
	for (i = 0; i < n; i++)
		v[i] = cols[i].t;
	for (;;) {
		for (live = 0, i = 0; i < n; i++)
			live += v[i] != NULL && !v[i]->done;
		if (live == 0)
			break;
		nt = toolset_pollfds(ts, pfd + 2, CMP_MAX_TOOL_FDS);
		if (nt > CMP_MAX_TOOL_FDS)
			nt = CMP_MAX_TOOL_FDS;
		wait = ts != NULL ? toolset_timeout(ts) : -1;
		if (poll(pfd, 2 + nt, wait < 0 || wait > 1000 ? 1000 : wait) < 0)
			continue;
		toolset_process(ts, pfd + 2, nt);
		if (pfd[1].revents & POLLIN) {
			while (read(pfd[1].fd, &c, 1) == 1)
				;
			if (!cancelled)
				for (i = 0; i < n; i++)
					turn_cancel(v[i]);
			cancelled = 1;
		}
		while ((ev = worker_next(w)) != NULL) {
			turn_route(v, (size_t)n, ev);
			wevent_free(ev);
		}
		session_reply_flush(s);
	}
}

/* Seconds with two decimals, or "-". */
static void
cmp_secs(struct buf *b, long ms)
{
	if (ms < 0)
		buf_puts(b, "-");
	else
		buf_printf(b, "%.2fs", (double)ms / 1000.0);
}

/* How a column ended, in one word (or the finish reason when it was cut short). */
static const char *
cmp_finish(const struct turn *t)
{
	if (t->state == MSG_TRUNCATED && t->finish_reason != NULL)
		return "truncated";
	return store_state_name(t->state);
}

/* The human form: each reply under its model's name, then the table. */
static void
cmp_print_text(const struct session *s, struct cmp_col *cols, int n, int raw)
{
	struct buf b = BUF_INIT, cell = BUF_INIT;
	int i;

	for (i = 0; i < n; i++) {
		const struct turn *t = cols[i].t;
		const struct session_msg *m = &s->msgs[t->reply];

		buf_printf(&b, "%s── %d %s ──\n", i ? "\n" : "", i + 1, cols[i].name);
		if (raw)
			buf_append(&b, cols[i].raw.data, cols[i].raw.len);
		else
			buf_append(&b, m->content.data, m->content.len);
		if (b.len > 0 && b.data[b.len - 1] != '\n')
			buf_putc(&b, '\n');
		if (t->error != NULL)
			buf_printf(&b, "[error: %s]\n", t->error);
		else if (t->state == MSG_CANCELLED)
			buf_puts(&b, "[cancelled]\n");
	}
	buf_printf(&b, "\n%-36s %8s %8s %8s %10s  %s\n", "MODEL", "TTFT", "TOK/S", "TOKENS",
	    "COST", "FINISH");
	for (i = 0; i < n; i++) {
		const struct turn *t = cols[i].t;
		double tps = turn_tps(t);

		buf_printf(&b, "%-36.36s ", cols[i].name);
		buf_reset(&cell);
		cmp_secs(&cell, t->ttft_ms);
		buf_printf(&b, "%8s ", buf_str(&cell));
		buf_reset(&cell);
		if (tps >= 0)
			buf_printf(&cell, "%.1f", tps);
		else
			buf_puts(&cell, "-");
		buf_printf(&b, "%8s ", buf_str(&cell));
		buf_reset(&cell);
		if (t->usage.output_tokens >= 0)
			buf_printf(&cell, "%s%ld", t->tokens_estimated ? "~" : "", t->usage.output_tokens);
		else
			buf_puts(&cell, "-");
		buf_printf(&b, "%8s ", buf_str(&cell));
		buf_reset(&cell);
		if (t->cost >= 0)
			buf_printf(&cell, "$%.6f", t->cost);
		else
			buf_puts(&cell, "-");
		buf_printf(&b, "%10s  %s\n", buf_str(&cell), cmp_finish(t));
	}
	cli_write(1, b.data, b.len);
	buf_free(&b);
	buf_free(&cell);
}

/* The --json form: one object with the session, the group and every reply. */
static void
cmp_print_json(const struct session *s, int64_t group, const char *prompt,
    struct cmp_col *cols, int n, int raw)
{
	struct buf b = BUF_INIT;
	int i;

	buf_printf(&b, "{\"session\":%lld,\"group\":%lld", (long long)s->id,
	    (long long)(group > 0 ? group : 0));
	cli_json_str(&b, "prompt", prompt, strlen(prompt), 1);
	buf_puts(&b, ",\"replies\":[");
	for (i = 0; i < n; i++) {
		const struct turn *t = cols[i].t;
		const struct session_msg *m = &s->msgs[t->reply];

		buf_printf(&b, "%s{\"column\":%d", i ? "," : "", i + 1);
		cli_json_str(&b, "model", cols[i].name, strlen(cols[i].name), 1);
		cli_json_str(&b, "text", raw ? cols[i].raw.data : m->content.data,
		    raw ? cols[i].raw.len : m->content.len, 1);
		cli_json_str(&b, "reasoning", raw ? cols[i].raw_reason.data : m->reasoning.data,
		    raw ? cols[i].raw_reason.len : m->reasoning.len, 1);
		cli_json_str(&b, "state", store_state_name(t->state),
		    strlen(store_state_name(t->state)), 1);
		cli_json_str(&b, "finish_reason", t->finish_reason,
		    t->finish_reason ? strlen(t->finish_reason) : 0, 1);
		cli_json_str(&b, "error", t->error, t->error ? strlen(t->error) : 0, 1);
		cli_json_num(&b, "ttft_ms", (double)t->ttft_ms, 1);
		cli_json_num(&b, "duration_ms", (double)t->duration_ms, 1);
		cli_json_num(&b, "input_tokens", (double)t->usage.input_tokens, 1);
		cli_json_num(&b, "output_tokens", (double)t->usage.output_tokens, 1);
		buf_printf(&b, ",\"output_tokens_estimated\":%s", t->tokens_estimated ? "true" :
		    "false");
		cli_json_num(&b, "tokens_per_second", turn_tps(t), 0);
		cli_json_num(&b, "cost", t->cost, 0);
		buf_putc(&b, '}');
	}
	buf_puts(&b, "]}\n");
	cli_write(1, b.data, b.len);
	buf_free(&b);
}

/* Start every column's turn; -1 when one was refused (the others are cancelled). */
static int
cmp_start(struct turn_env *env, struct session *s, const struct cmp_opts *o,
    struct cmp_col *cols, size_t from, int64_t group, const struct turn_toolbox *box)
{
	char *err = NULL;
	int i;

	/* Every column's files are checked before any column sends: one refusal sends nothing. */
	for (i = 0; i < o->n; i++)
		if (attach_check_files(o->atts, o->natts, cols[i].model, &err) != 0) {
			fprintf(stderr, "natter: compare: %s: %s\n", cols[i].name, err);
			free(err);
			return -1;
		}
	for (i = 0; i < o->n; i++) {
		struct turn_spec spec = { .model = cols[i].model, .message = &o->params,
		    .column = i, .from = from, .group = group, .no_fallback = 1, .tools = box };

		cols[i].t = turn_start(env, s, &spec, &cmp_cbs, &cols[i], &err);
		if (cols[i].t == NULL) {
			fprintf(stderr, "natter: compare: %s: %s\n", cols[i].name, err);
			free(err);
			return -1;
		}
	}
	return 0;
}

/* natter compare: stream two to four models at once, then print them side by side. */
int
cmd_compare(int argc, char **argv)
{
	struct config_errors errs = { NULL, 0 };
	struct cmp_opts o;
	struct cmp_col cols[CMP_MAX];
	struct config *cfg = NULL;
	struct store *st = NULL;
	struct session *s = NULL;
	struct turn_env env = { NULL, NULL, NULL };
	const struct turn_toolbox *box = NULL;
	struct toolset *ts = NULL;
	char *prompt = NULL;
	int64_t group = 0;
	size_t from;
	int rc, i;

	memset(&o, 0, sizeof(o));
	memset(cols, 0, sizeof(cols));
	if ((rc = cmp_parse(argc, argv, &o)) >= 0)
		goto out;
	prompt = cli_prompt(argc, argv, optind);
	if (prompt == NULL || (strspn(prompt, " \t\r\n") == strlen(prompt) && o.natts == 0)) {
		rc = cmp_bad("the prompt is empty", NULL);
		goto out;
	}
	cfg = cli_config(&errs);
	if (cmp_resolve(cfg, &o, cols) != 0) {
		rc = EXIT_USAGE;
		goto out;
	}
	env.cfg = cfg;
	env.w = worker_start();
	if ((o.tools || o.mcp != NULL) && cli_tools(cfg, "compare", o.mcp, o.yes,
	    CMP_TOOLS_WAIT_MS, env.w, &ts, &box) != 0) {
		rc = EXIT_USAGE;
		goto out;
	}
	s = session_new(NULL, cols[0].model->provider->name, cols[0].model->id);
	if (o.system != NULL)
		session_set_system(s, o.system);
	from = session_append_round_files(s, prompt, o.atts, o.natts, &group);
	if (cmp_start(&env, s, &o, cols, from, group, box) != 0) {
		rc = EXIT_USAGE;
		for (i = 0; i < o.n; i++)
			turn_free(cols[i].t);
		goto out;
	}
	/* The requests are on their way: opening the store and storing the round (in one
	 * transaction) overlap the providers' answers. Events wait in the worker's queue. */
	if (!o.no_save && (st = cli_store("compare")) == NULL)
		fputs("natter: compare: this comparison will not be saved\n", stderr);
	if (st != NULL) {
		store_set_brief(st, 1);  /* the next search or interface indexes them */
		if (session_attach(s, st) != 0)
			fprintf(stderr, "natter: compare: this comparison may not be saved: %s\n",
			    s->err[0] != '\0' ? s->err : store_error(st));
	}
	cmp_run(env.w, s, cols, o.n, ts);
	if (o.json)
		cmp_print_json(s, group, prompt, cols, o.n, o.raw);
	else
		cmp_print_text(s, cols, o.n, o.raw);
	if (s->err[0] != '\0')
		fprintf(stderr, "natter: compare: not saved: %s\n", s->err);
	rc = EXIT_OK;
	for (i = 0; i < o.n; i++)
		if (cols[i].t->state != MSG_COMPLETE || cols[i].t->loop_stopped)
			rc = cli_interrupted() ? EXIT_INTERRUPTED : EXIT_PROVIDER;
	for (i = 0; i < o.n; i++)
		turn_free(cols[i].t);
out:
	/* The servers go before the worker: a url: server's last request goes through it. */
	toolset_free(ts);
	ts = NULL;
	worker_stop(env.w);
	for (i = 0; i < CMP_MAX; i++) {
		free(cols[i].name);
		buf_free(&cols[i].raw);
		buf_free(&cols[i].raw_reason);
	}
	session_free(s);
	cli_store_close(st);
	params_free(&o.params);
	for (size_t k = 0; k < o.natts; k++)
		attach_unref(o.atts[k]);
	free(o.atts);
	free(prompt);
	config_free(cfg);
	config_errors_free(&errs);
	return rc;
}
