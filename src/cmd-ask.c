/*
 * `natter ask`: one prompt in, one streamed reply out, for scripts and quick questions. It is
 * a front end of the conversation core like the interface: the model comes from the one
 * resolver (resolve.h), the reply is one turn (turn.h) with the same parameters, context
 * budget, retries and fallbacks, and it is stored as a session that `ask -c` continues.
 * The main loop poll()s the worker's descriptor and a self-pipe fed by the SIGINT handler: a
 * first Ctrl+C cancels the stream cleanly (the partial reply stays on stdout and is stored),
 * a second one exits at once.
 * Reply text goes to stdout as it arrives, reasoning and every notice to stderr. Model output
 * is made terminal-safe (text.h) wherever it goes, since a pipe often ends at a terminal
 * anyway (`| tee`, `| less -R`); --raw is the way to get the provider's bytes exactly.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cJSON.h>

#include "apierr.h"
#include "attach.h"
#include "buf.h"
#include "cli.h"
#include "cmd.h"
#include "config.h"
#include "fallback.h"
#include "params.h"
#include "proto.h"
#include "provider.h"
#include "request.h"
#include "resolve.h"
#include "session.h"
#include "store.h"
#include "template.h"
#include "text.h"
#include "mcp.h"
#include "toolset.h"
#include "turn.h"
#include "worker.h"
#include "xmalloc.h"

/* Milliseconds on the monotonic clock, for the turn and retry countdowns. */
static int64_t
ask_clock(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Largest file -V name=@FILE reads. */
#define ASK_MAX_FILE (16u << 20)
/* Descriptors of MCP servers ask polls (three per server). */
#define ASK_MAX_TOOL_FDS 96
/* How long ask waits for its MCP servers to start. */
#define ASK_TOOLS_WAIT_MS 30000

/* Options of one invocation. */
struct ask_opts {
	const char *model;
	const char *provider;
	const char *system;
	const char *base_url;
	const char *tmpl;           /* -T */
	struct template_var *vars;  /* -V, values owned */
	size_t nvars;
	struct params params;       /* the command line's layer */
	int reasoning;      /* 1 show, 0 hide */
	int raw;
	long idle_ms;
	long connect_ms;
	long first_token_ms;
	int cont;                   /* -c: continue the latest session */
	const char *session;        /* -S ID */
	int no_save;
	int json;
	int no_stream;
	int tools;                  /* --tools: the MCP servers' tools */
	const char *mcp;            /* --mcp SERVER: that server's only */
	int yes;                    /* --yes: run any tool without asking */
	const char **files;         /* -a FILE (- for standard input), in order */
	size_t nfiles;
	struct attach **atts;       /* ... read */
};

/* State of the output while the reply streams. */
struct ask_out {
	int sanitize;            /* --raw was not given */
	int err_tty;             /* stderr is a terminal: reasoning is dimmed */
	struct text_filter text_f;
	struct text_filter reason_f;
	struct buf scratch;
	char last_out;           /* last byte written to stdout, 0 when none */
	char last_err;           /* last reasoning byte written to stderr, 0 when none */
	int in_reasoning;
};

/* A tool call of the turn as it ended, for --json (the turn keeps one round's only). */
struct ask_call {
	char *id, *name, *args, *result;
	const char *state;
	long duration_ms;
};

/* What one invocation works with once the options are parsed. */
struct ask_ctx {
	struct config *cfg;
	struct ask_opts *o;
	struct template *t;          /* -T, or NULL */
	char *tsystem, *tuser;       /* the rendered template */
	const char *prompt;
	struct model *model;         /* resolved; a fallback when its provider is off */
	int defaulted;               /* nothing chose a model: the config's default answers */
	struct store *st;            /* NULL: nothing is stored */
	struct session *sess;
	int fresh;                   /* the session is new (deleted again if nothing is sent) */
	int save_later;              /* a new session: stored once the request is sent */
	struct ask_out out;
	struct buf raw, raw_reason;  /* --json --raw: the reply as sent */
	int status;                  /* the exit status once the turn completed, else -1 */
	struct toolset *ts;          /* --tools, --mcp: the tools offered, or NULL */
	struct ask_call *calls;      /* every call of the turn that ended, in order */
	size_t ncalls;
};

/* Print the usage summary to f. */
static void
ask_usage(FILE *f)
{
	fputs("usage: natter ask [-m MODEL] [-p PROVIDER] [-s SYSTEM] [-t TEMP] [--top-p X]\n"
	    "                  [--max-tokens N] [--stop S]... [--seed N] [-P NAME=VALUE]...\n"
	    "                  [-T TEMPLATE [-V NAME=VALUE|NAME=@FILE]...] [--reasoning show|hide]\n"
	    "                  [-c | -S ID] [--no-save] [--json] [--no-stream] [--raw]\n"
	    "                  [--tools | --mcp SERVER] [--yes] [-a FILE]...\n"
	    "                  [--base-url URL] [--idle-timeout MS] [--connect-timeout MS]\n"
	    "                  [--first-token-timeout MS] [PROMPT... | -]\n"
	    "MODEL is a configured model or alias, PROVIDER/ID, or an id of -p PROVIDER; without\n"
	    "one, the config's default model answers (the offline simulated one when no key is\n"
	    "set). -P sets any parameter (top_k, frequency_penalty, presence_penalty,\n"
	    "repetition_penalty, reasoning_effort, reasoning_budget, ...). Every ask is stored as a\n"
	    "session (--no-save, or ask.save: false, for none); -c continues the latest session and\n"
	    "-S ID a given one, with its history, model and system prompt. Piped input follows\n"
	    "PROMPT after a blank line; - stands for stdin, and without PROMPT stdin is the prompt.\n"
	    "With -T, PROMPT fills the template's first variable that has neither -V nor a\n"
	    "default; -V must name one of its variables. --json prints one object (text,\n"
	    "reasoning, model, usage, cost, finish, timings, session, and tool_calls: each call\n"
	    "with id, name, arguments, state, result and duration_ms) instead of streaming;\n"
	    "--no-stream asks the provider for the whole reply in one response. --tools offers\n"
	    "the model the tools of every MCP server of the config (--mcp SERVER: one server's);\n"
	    "tools on a server's allow: list run, others are refused unless --yes is given; each\n"
	    "call and its result go to stderr. -a FILE attaches a file to the prompt (repeat it\n"
	    "for more; -a - reads one from standard input): its type comes from its content; a\n"
	    "text file is sent inlined, an image (PNG, JPEG, GIF, WebP), PDF or audio file in\n"
	    "the provider's own form when the model takes it (models.NAME.input), a PDF as its\n"
	    "text (pdftotext) otherwise. A file the model cannot take, or one over the limit\n"
	    "(max_attachment), is refused before anything is sent.\n",
	    f);
}

/* Read a whole file for -V name=@FILE; NULL with errno set on failure. */
static char *
ask_read_file(const char *path)
{
	struct buf b = BUF_INIT;
	char tmp[8192];
	size_t n;
	FILE *f = fopen(path, "rb");

	if (f == NULL)
		return NULL;
	while ((n = fread(tmp, 1, sizeof(tmp), f)) > 0) {
		buf_append(&b, tmp, n);
		if (b.len > ASK_MAX_FILE) {
			fclose(f);
			buf_free(&b);
			errno = EFBIG;
			return NULL;
		}
	}
	if (ferror(f)) {
		fclose(f);
		buf_free(&b);
		errno = EIO;
		return NULL;
	}
	fclose(f);
	buf_putc(&b, '\0');
	b.len--;
	return buf_detach(&b);
}

/* -P NAME=VALUE: one parameter through the same parser the config and /set use. */
static int
ask_param(struct ask_opts *o, const char *arg)
{
	const char *eq = strchr(arg, '=');
	char *name, *err = NULL;
	int rc = -1;

	if (eq == NULL || eq == arg)
		return cli_usage("ask", "-P takes NAME=VALUE, not '%s'", arg);
	name = xstrndup(arg, (size_t)(eq - arg));
	for (char *q = name; *q != '\0'; q++)
		if (*q == '-')
			*q = '_';
	if (params_set(&o->params, name, eq + 1, &err) != 0) {
		rc = cli_usage("ask", "-P %s", err != NULL ? err : name);
		free(err);
	}
	free(name);
	return rc;
}

/* -V NAME=VALUE or NAME=@FILE (a file's contents; @@ stands for a literal @). */
static int
ask_var(struct ask_opts *o, const char *arg)
{
	const char *eq = strchr(arg, '='), *v;
	char *value;

	if (eq == NULL || eq == arg)
		return cli_usage("ask", "-V takes NAME=VALUE or NAME=@FILE, not '%s'", arg);
	v = eq + 1;
	if (v[0] == '@' && v[1] == '@') {
		value = xstrdup(v + 1);
	} else if (v[0] == '@') {
		if ((value = ask_read_file(v + 1)) == NULL)
			return cli_usage("ask", "-V %.*s: cannot read '%s': %s", (int)(eq - arg), arg, v + 1,
			    strerror(errno));
	} else {
		value = xstrdup(v);
	}
	o->vars = xrealloc(o->vars, (o->nvars + 1) * sizeof(*o->vars));
	o->vars[o->nvars].name = xstrndup(arg, (size_t)(eq - arg));
	o->vars[o->nvars].value = value;
	o->nvars++;
	return -1;
}

/* Parse the command line into o; returns -1 to go on, or an exit status. */
static int
ask_parse(int argc, char **argv, struct ask_opts *o)
{
	enum { O_TOPP = 256, O_MAXTOK, O_STOP, O_SEED, O_REASON, O_BASE, O_RAW, O_IDLE, O_CONN,
		O_FIRST, O_NOSAVE, O_JSON, O_NOSTREAM, O_TOOLS, O_MCP, O_YES };
	static const struct option longopts[] = {
		{ "model", required_argument, NULL, 'm' },
		{ "provider", required_argument, NULL, 'p' },
		{ "system", required_argument, NULL, 's' },
		{ "temperature", required_argument, NULL, 't' },
		{ "top-p", required_argument, NULL, O_TOPP },
		{ "max-tokens", required_argument, NULL, O_MAXTOK },
		{ "stop", required_argument, NULL, O_STOP },
		{ "seed", required_argument, NULL, O_SEED },
		{ "reasoning", required_argument, NULL, O_REASON },
		{ "base-url", required_argument, NULL, O_BASE },
		{ "raw", no_argument, NULL, O_RAW },
		{ "idle-timeout", required_argument, NULL, O_IDLE },
		{ "connect-timeout", required_argument, NULL, O_CONN },
		{ "first-token-timeout", required_argument, NULL, O_FIRST },
		{ "continue", no_argument, NULL, 'c' },
		{ "session", required_argument, NULL, 'S' },
		{ "no-save", no_argument, NULL, O_NOSAVE },
		{ "json", no_argument, NULL, O_JSON },
		{ "no-stream", no_argument, NULL, O_NOSTREAM },
		{ "tools", no_argument, NULL, O_TOOLS },
		{ "mcp", required_argument, NULL, O_MCP },
		{ "yes", no_argument, NULL, O_YES },
		{ "attach", required_argument, NULL, 'a' },
		{ "param", required_argument, NULL, 'P' },
		{ "template", required_argument, NULL, 'T' },
		{ "var", required_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c, rc;

	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, ":m:p:s:t:P:T:V:S:a:ch", longopts, NULL)) != -1) {
		switch (c) {
		case 'a':
			o->files = xrealloc(o->files, (o->nfiles + 1) * sizeof(*o->files));
			o->files[o->nfiles++] = optarg;
			break;
		case 'P':
			if ((rc = ask_param(o, optarg)) >= 0)
				return rc;
			break;
		case 'T':
			o->tmpl = optarg;
			break;
		case 'V':
			if ((rc = ask_var(o, optarg)) >= 0)
				return rc;
			break;
		case 'm':
			o->model = optarg;
			break;
		case 'p':
			o->provider = optarg;
			break;
		case 's':
			o->system = optarg;
			break;
		case 't':
			if (cli_double(optarg, 0, 2, &o->params.temperature) != 0)
				return cli_usage("ask", "temperature must be a number from 0 to 2, not '%s'", optarg);
			o->params.set |= PARAM_TEMPERATURE;
			break;
		case O_TOPP:
			if (cli_double(optarg, 0, 1, &o->params.top_p) != 0)
				return cli_usage("ask", "--top-p must be a number from 0 to 1, not '%s'", optarg);
			o->params.set |= PARAM_TOP_P;
			break;
		case O_MAXTOK:
			if (cli_long(optarg, 1, 100000000L, &o->params.max_tokens) != 0)
				return cli_usage("ask", "--max-tokens must be a positive integer, not '%s'", optarg);
			o->params.set |= PARAM_MAX_TOKENS;
			break;
		case O_STOP:
			if (o->params.nstop >= PARAM_MAX_STOP)
				return cli_usage("ask", "at most %d --stop sequences are allowed", PARAM_MAX_STOP);
			if (optarg[0] == '\0')
				return cli_usage("ask", "--stop needs a non-empty sequence");
			o->params.stop[o->params.nstop++] = xstrdup(optarg);
			o->params.set |= PARAM_STOP;
			break;
		case O_SEED:
			if (cli_long(optarg, -2147483647L - 1, 2147483647L, &o->params.seed) != 0)
				return cli_usage("ask", "--seed must be an integer, not '%s'", optarg);
			o->params.set |= PARAM_SEED;
			break;
		case O_REASON:
			if (strcmp(optarg, "show") == 0)
				o->reasoning = 1;
			else if (strcmp(optarg, "hide") == 0)
				o->reasoning = 0;
			else
				return cli_usage("ask", "--reasoning takes show or hide, not '%s'", optarg);
			break;
		case O_BASE:
			o->base_url = optarg;
			break;
		case O_RAW:
			o->raw = 1;
			break;
		case O_IDLE:
			if (cli_long(optarg, 1, 86400000L, &o->idle_ms) != 0)
				return cli_usage("ask", "--idle-timeout takes milliseconds > 0, not '%s'", optarg);
			break;
		case O_CONN:
			if (cli_long(optarg, 1, 86400000L, &o->connect_ms) != 0)
				return cli_usage("ask", "--connect-timeout takes milliseconds > 0, not '%s'", optarg);
			break;
		case O_FIRST:
			if (cli_long(optarg, 1, 86400000L, &o->first_token_ms) != 0)
				return cli_usage("ask", "--first-token-timeout takes milliseconds > 0, not '%s'",
				    optarg);
			break;
		case 'c':
			o->cont = 1;
			break;
		case 'S':
			o->session = optarg;
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
		case O_JSON:
			o->json = 1;
			break;
		case O_NOSTREAM:
			o->no_stream = 1;
			break;
		case 'h':
			ask_usage(stdout);
			return EXIT_OK;
		case ':':
			return cli_usage("ask", "option '%s' needs a value", argv[optind - 1]);
		default:
			return cli_usage("ask", "unknown option '%s'", argv[optind - 1]);
		}
	}
	if (o->cont && o->session != NULL)
		return cli_usage("ask", "-c continues the latest session and -S a given one: not both");
	return -1;
}

/* Read the -a files (standard input once at most); -1 to go on, else the exit status. */
static int
ask_files(struct ask_opts *o)
{
	size_t i, j;
	char *err = NULL;
	int rc;

	for (i = 0; i < o->nfiles; i++)
		for (j = 0; j < i; j++)
			if (strcmp(o->files[i], "-") == 0 && strcmp(o->files[j], "-") == 0)
				return cli_usage("ask", "-a - reads standard input once: give it once");
	o->atts = xcalloc(o->nfiles + 1, sizeof(*o->atts));
	for (i = 0; i < o->nfiles; i++) {
		if ((o->atts[i] = attach_read(o->files[i], ATTACH_READ_MAX, &err)) == NULL) {
			rc = cli_usage("ask", "-a: %s", err);
			free(err);
			return rc;
		}
	}
	return -1;
}

/* Write n bytes of (already sanitised or raw) reasoning to stderr, dimmed on a terminal. */
static void
ask_write_reasoning(struct ask_out *out, const char *p, size_t n)
{
	if (n == 0)
		return;
	if (!out->in_reasoning && out->err_tty)
		cli_write(2, "\033[2m", 4);
	out->in_reasoning = 1;
	cli_write(2, p, n);
	out->last_err = p[n - 1];
}

/* Close a dimmed reasoning block on stderr, ending its line; a character cut off at the end
 * of the reasoning shows as U+FFFD first. */
static void
ask_end_reasoning(struct ask_out *out)
{
	if (out->sanitize) {
		buf_reset(&out->scratch);
		text_filter_finish(&out->reason_f, &out->scratch);
		ask_write_reasoning(out, out->scratch.data, out->scratch.len);
	}
	if (!out->in_reasoning)
		return;
	if (out->err_tty)
		cli_write(2, "\033[0m", 4);
	if (out->last_err != '\n')
		cli_write(2, "\n", 1);
	out->in_reasoning = 0;
}

/* Write reply text to stdout, sanitised unless --raw, keeping a character cut between deltas
 * for the next one. */
static void
ask_put_text(struct ask_out *out, const char *p, size_t n)
{
	/* The answer starts: close the reasoning block first. */
	ask_end_reasoning(out);
	if (out->sanitize) {
		buf_reset(&out->scratch);
		text_filter_feed(&out->text_f, p, n, &out->scratch);
		p = out->scratch.data;
		n = out->scratch.len;
	}
	if (n == 0)
		return;
	cli_write(1, p, n);
	out->last_out = p[n - 1];
}

/* Write reasoning text to stderr, sanitised unless --raw. */
static void
ask_put_reasoning(struct ask_out *out, const char *p, size_t n)
{
	if (out->sanitize) {
		buf_reset(&out->scratch);
		text_filter_feed(&out->reason_f, p, n, &out->scratch);
		p = out->scratch.data;
		n = out->scratch.len;
	}
	ask_write_reasoning(out, p, n);
}

/* Finish the output: flush filters, close reasoning, end with a newline unless --raw. */
static void
ask_finish_output(struct ask_out *out)
{
	ask_end_reasoning(out);
	if (out->sanitize) {
		buf_reset(&out->scratch);
		text_filter_finish(&out->text_f, &out->scratch);
		if (out->scratch.len > 0) {
			cli_write(1, out->scratch.data, out->scratch.len);
			out->last_out = out->scratch.data[out->scratch.len - 1];
		}
	}
	/* --raw is the provider's bytes exactly: no newline of natter's own at the end. */
	if (out->sanitize && out->last_out != 0 && out->last_out != '\n')
		cli_write(1, "\n", 1);
	out->last_out = '\n';
}

/* Print "natter: <provider>: <error>" and a hint that fits the provider (or, after a
 * partial reply, a warning that it is incomplete). */
static void
ask_print_error(const struct provider *p, const struct apierr *e, int partial)
{
	struct buf line = BUF_INIT;
	char *hint = apierr_advice(e), *f = apierr_format(e);

	text_sanitize_line(f, strlen(f), &line);
	fprintf(stderr, "natter: %s%s: %s\n", partial ? "warning: truncated reply: " : "",
	    p->name, buf_str(&line));
	if (partial)
		fputs("natter: the reply above is incomplete\n", stderr);
	else if (e->cls == APIERR_AUTH && p->key_env != NULL)
		fprintf(stderr, "natter: set %s to a valid key for %s\n", p->key_env, p->name);
	else if (e->kind == APIERR_TRANSPORT && e->cls == APIERR_CONNECTION)
		fprintf(stderr, "natter: could not reach %s%s\n", p->base_url,
		    p->local ? " (is the server running?)" : "");
	else if (e->kind == APIERR_TRANSPORT && e->cls == APIERR_TIMEOUT)
		fprintf(stderr, "natter: no answer from %s in time (--first-token-timeout, "
		    "--idle-timeout, --connect-timeout change the limits)\n", p->base_url);
	else if (hint != NULL)
		fprintf(stderr, "natter: %s\n", hint);
	free(f);
	free(hint);
	buf_free(&line);
}

/* Say on stderr what the reader should know about a reply that was otherwise decoded
 * (malformed events skipped); it quotes the provider, so it is sanitised. */
static void
ask_print_warning(struct ask_out *out, const char *warning)
{
	buf_reset(&out->scratch);
	text_sanitize(warning, strlen(warning), &out->scratch);
	fprintf(stderr, "natter: warning: %s\n", buf_str(&out->scratch));
}

/* Apply -T: render the template with -V (and PROMPT as its first variable without a value
 * or default) into
 * *system and *user. Returns -1 to go on, or an exit status. */
static int
ask_template(struct ask_ctx *a, struct ask_opts *o, char *prompt, char **system, char **user)
{
	char **names, *err = NULL;
	size_t n, i, j;
	int rc = -1;

	if ((a->t = config_template(a->cfg, o->tmpl)) == NULL) {
		const char **tn = xcalloc(a->cfg->ntemplates + 1, sizeof(*tn));
		const char *near;

		for (i = 0; i < a->cfg->ntemplates; i++)
			tn[i] = a->cfg->templates[i].name;
		near = config_nearest(o->tmpl, tn, a->cfg->ntemplates);
		free(tn);
		if (near != NULL)
			return cli_usage("ask", "unknown template '%s', did you mean '%s'?", o->tmpl, near);
		return cli_usage("ask", "unknown template '%s' (natter templates lists them)", o->tmpl);
	}
	if (template_check_vars(a->t, o->vars, o->nvars, &err) != 0) {
		rc = cli_usage("ask", "-V: %s", err);
		free(err);
		return rc;
	}
	if (prompt != NULL) {
		n = template_vars(a->t, &names);
		for (i = 0; i < n; i++) {
			for (j = 0; j < o->nvars && strcmp(o->vars[j].name, names[i]) != 0; j++)
				;
			if (j < o->nvars)
				continue;
			for (j = 0; j < a->t->ndefaults; j++)
				if (strcmp(a->t->defaults[j].name, names[i]) == 0)
					break;
			if (j == a->t->ndefaults)
				break;
		}
		if (i == n) {
			template_names_free(names);
			return cli_usage("ask", "template %s has no variable left for PROMPT; use -V", o->tmpl);
		}
		o->vars = xrealloc(o->vars, (o->nvars + 1) * sizeof(*o->vars));
		o->vars[o->nvars].name = xstrdup(names[i]);
		o->vars[o->nvars].value = xstrdup(prompt);
		o->nvars++;
		template_names_free(names);
	}
	if (template_apply(a->t, o->vars, o->nvars, system, user, &err) != 0) {
		rc = cli_usage("ask", "%s", err);
		free(err);
	}
	return rc;
}

/* The prompt: with -T the words (or stdin for -) fill a variable, else cli_prompt's rules. */
static char *
ask_prompt(int argc, char **argv, int templated)
{
	struct buf b = BUF_INIT;
	int i;

	if (!templated)
		return cli_prompt(argc, argv, optind);
	if (optind >= argc)
		return NULL;
	if (optind == argc - 1 && strcmp(argv[optind], "-") == 0)
		return cli_read_stdin(ASK_MAX_FILE * 4);
	for (i = optind; i < argc; i++) {
		if (i > optind)
			buf_putc(&b, ' ');
		buf_puts(&b, argv[i]);
	}
	buf_putc(&b, '\0');
	b.len--;
	return buf_detach(&b);
}

/* Offer a local server that only --base-url gives an address to, before resolving. */
static void
ask_offer(struct ask_ctx *a, const char *spec)
{
	const char *name = a->o->provider, *slash;
	char *prefix = NULL;

	if (a->o->base_url == NULL)
		return;
	if (name == NULL && spec != NULL && (slash = strchr(spec, '/')) != NULL)
		name = prefix = xstrndup(spec, (size_t)(slash - spec));
	if (name != NULL && config_provider(a->cfg, name) == NULL)
		config_offer(a->cfg, name);
	free(prefix);
}

/* Resolve the model from -m, -p, the template, NATTER_MODEL, NATTER_PROVIDER, the continued
 * session and the config's default; a model whose provider is off gives way to its first
 * usable fallback. -1 to go on, else the exit status after saying why. */
static int
ask_model(struct ask_ctx *a)
{
	const char *spec = a->o->model, *pname = a->o->provider, *tried[2];
	struct resolve_ctx ctx = { NULL, NULL, NULL, 0 };
	struct resolved r;
	struct model *next;
	char *msg, *from_session = NULL;
	int rc;

	if (spec == NULL && a->t != NULL && a->t->model != NULL)
		spec = a->t->model;
	if (spec == NULL && (spec = getenv("NATTER_MODEL")) != NULL && spec[0] == '\0')
		spec = NULL;
	if (pname == NULL && (pname = getenv("NATTER_PROVIDER")) != NULL && pname[0] == '\0')
		pname = NULL;
	if (spec == NULL && pname == NULL && a->sess != NULL && a->sess->provider != NULL)
		spec = from_session = xasprintf("%s/%s", a->sess->provider, a->sess->model);
	ctx.provider = pname;
	ask_offer(a, spec);
	resolve_model(a->cfg, spec, &ctx, &r);
	a->defaulted = r.defaulted;
	if (r.status == RESOLVE_PROVIDER_OFF && r.model != NULL) {
		tried[0] = r.model->name;
		if ((next = fallback_next(a->cfg, r.model, tried, 1)) != NULL) {
			fprintf(stderr, "natter: %s: no usable key for %s (%s); falling back to %s\n",
			    r.model->name, r.model->provider_name, r.off != NULL ? r.off->reason :
			    "not offered", next->name);
			a->model = next;
			free(from_session);
			return -1;
		}
	}
	if (r.status == RESOLVE_OK) {
		a->model = r.model;
		free(from_session);
		return -1;
	}
	msg = resolve_message(a->cfg, spec, &r);
	fprintf(stderr, "natter: %s\n", msg);
	free(msg);
	free(from_session);
	rc = r.status == RESOLVE_PROVIDER_OFF ? EXIT_PROVIDER : EXIT_USAGE;
	return rc;
}

/* Open the store and the session: the latest (-c), a given one (-S) or a new one. -1 to
 * go on, else the exit status. */
static int
ask_session(struct ask_ctx *a)
{
	int save = !a->o->no_save && a->cfg->ask_save;
	int64_t id = 0;

	if (a->o->cont || a->o->session != NULL) {
		if ((a->st = cli_store("ask")) == NULL)
			return EXIT_PROVIDER;
		store_set_brief(a->st, 1);
		id = cli_session_id(a->st, "ask", a->o->cont ? "last" : a->o->session);
		if (id == 0)
			return EXIT_USAGE;
		if ((a->sess = session_load(a->st, id)) == NULL) {
			fprintf(stderr, "natter: ask: no session %lld (natter sessions lists them)\n",
			    (long long)id);
			return EXIT_USAGE;
		}
		if (!save)
			a->sess->store = NULL;
		return -1;
	}
	/* A new session is stored once the request is on its way (ask_attach). */
	a->save_later = save;
	return -1;
}

/* Open the store for a new session and save what it holds so far. The request is already
 * with the worker: opening the database (which may replay its write-ahead log) and the
 * first inserts overlap the provider's answer instead of delaying it. Events wait in the
 * worker's queue meanwhile, so the first token is printed only once the session, the
 * prompt and the (empty) reply row are stored. */
static void
ask_attach(struct ask_ctx *a)
{
	if (!a->save_later)
		return;
	if ((a->st = cli_store("ask")) == NULL) {
		fputs("natter: ask: this reply will not be saved\n", stderr);
		return;
	}
	store_set_brief(a->st, 1);
	if (session_attach(a->sess, a->st) != 0)
		fprintf(stderr, "natter: ask: this reply may not be saved: %s\n",
		    a->sess->err[0] != '\0' ? a->sess->err : store_error(a->st));
}

/* Say a retry wait, a summary round or a fallback as the turn reports it. */
static void
ask_notice(const struct turn *t, unsigned what)
{
	int64_t left;

	if ((what & TURN_FALLBACK) && t->note != NULL)
		fprintf(stderr, "natter: %s\n", t->note);
	if (!(what & TURN_WAIT) || t->wait_msg == NULL)
		return;
	left = t->wait_until > 0 ? t->wait_until - ask_clock() : 0;
	if (left < 0)
		left = 0;
	if (t->summarizing)
		fprintf(stderr, "natter: %s\n", t->wait_msg);
	else if (t->wait_key)
		fprintf(stderr, "natter: %s; waiting %.0fs\n", t->wait_msg, (double)left / 1000.0);
	else if (t->wait_rotated)
		fprintf(stderr, "natter: %s; trying the next key of %s\n", t->wait_msg,
		    t->model->provider->name);
	else
		fprintf(stderr, "natter: %s; retrying in %.1fs (attempt %d/%d)\n", t->wait_msg,
		    (double)left / 1000.0, t->wait_attempt, t->wait_max);
}

/* Keep call c, which just ended, for --json. */
static void
ask_keep_call(struct ask_ctx *a, const struct turn_call *c)
{
	struct ask_call *k;

	a->calls = xrealloc(a->calls, (a->ncalls + 1) * sizeof(*a->calls));
	k = &a->calls[a->ncalls++];
	k->id = xstrdup(c->id);
	k->name = xstrdup(c->name);
	k->args = xstrdup(c->args != NULL ? c->args : "{}");
	k->result = xstrdup(c->result != NULL ? c->result : "");
	k->state = turn_call_state_name(c->state);
	k->duration_ms = c->duration_ms;
}

/* A tool call changed: say so on stderr; a call that needs approval is refused (headless,
 * only allowed tools run, and --yes allows all). */
static void
ask_tool_update(struct ask_ctx *a, struct turn *t, unsigned what, size_t k)
{
	const struct turn_call *c;

	if (k >= t->ncalls)
		return;
	/* The next reply of the loop starts on a line of its own. */
	if (!a->o->json && a->out.last_out != 0 && a->out.last_out != '\n') {
		cli_write(1, "\n", 1);
		a->out.last_out = '\n';
	}
	c = &t->calls[k];
	if (!(what & TURN_APPROVE) && c->state != CALL_ASKING && c->state != CALL_RUNNING)
		ask_keep_call(a, c);
	cli_tool_note(t, what, k, "", "ask");
}

/* The turn's update: stream the reply (unless --json) and say what it waits for. */
static void
ask_on_update(struct turn *t, unsigned what, const char *p, size_t n, void *arg)
{
	struct ask_ctx *a = arg;

	if (what & TURN_TEXT) {
		if (a->o->json)
			buf_append(&a->raw, p, n);
		else
			ask_put_text(&a->out, p, n);
	}
	if (what & TURN_REASONING) {
		if (a->o->json)
			buf_append(&a->raw_reason, p, n);
		else if (a->o->reasoning)
			ask_put_reasoning(&a->out, p, n);
	}
	if (what & (TURN_TOOL | TURN_APPROVE))
		ask_tool_update(a, t, what, n);
	ask_notice(t, what);
}

/* Append ,"tool_calls":[...]: every call of the turn with its arguments as the JSON
 * object they are (or the text the model sent), its end state, result and duration. */
static void
ask_json_calls(struct buf *b, const struct ask_ctx *a)
{
	cJSON *j;
	char *text;
	size_t i, at;

	buf_puts(b, ",\"tool_calls\":[");
	for (i = 0; i < a->ncalls; i++) {
		const struct ask_call *c = &a->calls[i];

		/* cli_json_str writes ",key": the object's first field is made with it too,
		 * then its comma dropped. */
		buf_puts(b, i > 0 ? ",{" : "{");
		at = b->len;
		cli_json_str(b, "id", c->id, strlen(c->id), 0);
		memmove(b->data + at, b->data + at + 1, b->len - at - 1);
		b->len--;
		b->data[b->len] = '\0';
		cli_json_str(b, "name", c->name, strlen(c->name), 0);
		j = cJSON_Parse(c->args);
		if (cJSON_IsObject(j) && (text = cJSON_PrintUnformatted(j)) != NULL) {
			buf_puts(b, ",\"arguments\":");
			text_json_safe(text, strlen(text), b);
			cJSON_free(text);
		} else {
			cli_json_str(b, "arguments", c->args, strlen(c->args), 0);
		}
		cJSON_Delete(j);
		cli_json_str(b, "state", c->state, strlen(c->state), 1);
		cli_json_str(b, "result", c->result, strlen(c->result), 0);
		cli_json_num(b, "duration_ms", (double)c->duration_ms, 1);
		buf_putc(b, '}');
	}
	buf_putc(b, ']');
}

/* Print the whole reply as one JSON object. */
static void
ask_print_json(struct ask_ctx *a, const struct turn *t)
{
	const struct session_msg *m = &a->sess->msgs[t->reply];
	struct buf b = BUF_INIT;
	char *model = xasprintf("%s/%s", t->model->provider->name, t->model->id);

	buf_printf(&b, "{\"session\":");
	if (a->sess->id > 0 && a->sess->store != NULL)
		buf_printf(&b, "%lld", (long long)a->sess->id);
	else
		buf_puts(&b, "null");
	cli_json_str(&b, "model", model, strlen(model), 0);
	if (a->o->raw) {
		cli_json_str(&b, "text", a->raw.data ? a->raw.data : "", a->raw.len, 1);
		cli_json_str(&b, "reasoning", a->raw_reason.data, a->raw_reason.len, 1);
	} else {
		cli_json_str(&b, "text", m->content.data ? m->content.data : "", m->content.len, 1);
		cli_json_str(&b, "reasoning", m->reasoning.len ? m->reasoning.data : NULL,
		    m->reasoning.len, 1);
	}
	cli_json_str(&b, "state", store_state_name(t->state), strlen(store_state_name(t->state)),
	    1);
	cli_json_str(&b, "finish_reason", t->finish_reason,
	    t->finish_reason ? strlen(t->finish_reason) : 0, 0);
	cli_json_str(&b, "error", t->error, t->error ? strlen(t->error) : 0, 1);
	cli_json_str(&b, "warning", t->warning, t->warning ? strlen(t->warning) : 0, 1);
	buf_puts(&b, ",\"usage\":{\"input_tokens\":");
	buf_printf(&b, t->usage.input_tokens >= 0 ? "%ld" : "null", t->usage.input_tokens);
	buf_printf(&b, ",\"output_tokens\":");
	buf_printf(&b, t->usage.output_tokens >= 0 ? "%ld" : "null", t->usage.output_tokens);
	buf_printf(&b, ",\"reasoning_tokens\":");
	buf_printf(&b, t->usage.reasoning_tokens >= 0 ? "%ld" : "null", t->usage.reasoning_tokens);
	buf_printf(&b, ",\"estimated\":%s}", t->tokens_estimated ? "true" : "false");
	cli_json_num(&b, "cost", t->cost, 0);
	cli_json_num(&b, "ttft_ms", (double)t->ttft_ms, 1);
	cli_json_num(&b, "duration_ms", (double)t->duration_ms, 1);
	cli_json_num(&b, "tokens_per_second", turn_tps(t), 0);
	ask_json_calls(&b, a);
	buf_puts(&b, "}\n");
	cli_write(1, b.data, b.len);
	buf_free(&b);
	free(model);
}

/* The turn is over: finish the output and decide the exit status. */
static void
ask_on_complete(struct turn *t, void *arg)
{
	struct ask_ctx *a = arg;
	int partial = a->out.last_out != 0 || a->out.in_reasoning;
	const struct provider *p = t->model->provider;

	if (a->o->json)
		ask_print_json(a, t);
	else
		ask_finish_output(&a->out);
	if (t->warning != NULL)
		ask_print_warning(&a->out, t->warning);
	if (t->state == MSG_CANCELLED) {
		fputs("natter: cancelled\n", stderr);
		a->status = EXIT_INTERRUPTED;
	} else if (t->fail != NULL && (t->fail->cls == APIERR_TRUNCATED || partial)) {
		ask_print_error(p, t->fail, 1);
		a->status = EXIT_PROVIDER;
	} else if (t->fail != NULL) {
		ask_print_error(p, t->fail, 0);
		a->status = EXIT_PROVIDER;
	} else if (t->state == MSG_ERROR) {
		fprintf(stderr, "natter: %s\n", t->error != NULL ? t->error : "the reply failed");
		a->status = EXIT_PROVIDER;
	} else if (t->state == MSG_TRUNCATED) {
		fprintf(stderr, "natter: warning: truncated reply: %s: the stream ended early\n",
		    p->name);
		a->status = EXIT_PROVIDER;
	} else if (t->loop_stopped) {
		/* The loop's note (said as it stopped) tells why; the model never answered. */
		a->status = EXIT_PROVIDER;
	} else {
		/* The reply is whole but ended early: say why, off stdout (a reply that called
		 * tools ran them: the loop's own note said why it stopped). */
		if (proto_finish_note(t->finish_reason) != NULL && t->ncalls == 0)
			fprintf(stderr, "natter: %s\n", proto_finish_note(t->finish_reason));
		a->status = EXIT_OK;
	}
	if (a->sess->err[0] != '\0' && a->sess->store != NULL)
		fprintf(stderr, "natter: ask: not saved: %s\n", a->sess->err);
}

static const struct turn_cbs ask_cbs = { ask_on_update, ask_on_complete, NULL };

/* Drive the turn until it completes; Ctrl+C cancels it, a second one exits at once. */
static void
ask_loop(struct worker *w, struct turn *t, struct toolset *ts)
{
	struct pollfd pfd[2 + ASK_MAX_TOOL_FDS];
	struct wevent *ev;
	char junk[16];
	int cancelled = 0;
	size_t nt = 0;

	pfd[0].fd = worker_fd(w);
	pfd[0].events = POLLIN;
	pfd[1].fd = cli_sigint();
	pfd[1].events = POLLIN;
	while (!t->done) {
		/* The MCP servers' pipes, when tools are offered, come after the two. */
		nt = toolset_pollfds(ts, pfd + 2, ASK_MAX_TOOL_FDS);
		if (nt > ASK_MAX_TOOL_FDS)
			nt = ASK_MAX_TOOL_FDS;
		if (poll(pfd, 2 + nt, ts != NULL ? toolset_timeout(ts) : -1) < 0 && errno != EINTR)
			break;
		if (ts != NULL)
			toolset_process(ts, pfd + 2, nt);
		if (pfd[1].revents & POLLIN) {
			while (read(pfd[1].fd, junk, sizeof(junk)) > 0)
				;
			if (!cancelled)
				turn_cancel(t);
			cancelled = 1;
		}
		while (!t->done && (ev = worker_next(w)) != NULL) {
			turn_event(t, ev);
			wevent_free(ev);
		}
		session_reply_flush(t->sess);
	}
}

/* Apply --base-url and the timeouts of the command line to the providers. */
static void
ask_providers(struct ask_ctx *a)
{
	const struct ask_opts *o = a->o;
	struct provider *p = a->model->provider;
	size_t i;
	char *url;

	if (o->base_url != NULL) {
		url = xstrdup(o->base_url);
		while (url[0] != '\0' && url[strlen(url) - 1] == '/')
			url[strlen(url) - 1] = '\0';
		free(p->base_url);
		p->base_url = url;
	}
	for (i = 0; i < a->cfg->nproviders; i++) {
		if (o->idle_ms > 0)
			a->cfg->providers[i]->idle_timeout_ms = o->idle_ms;
		if (o->connect_ms > 0)
			a->cfg->providers[i]->connect_timeout_ms = o->connect_ms;
		if (o->first_token_ms > 0)
			a->cfg->providers[i]->first_token_timeout_ms = o->first_token_ms;
	}
}

/* Start the MCP servers --tools or --mcp names and offer their tools; -1 when none is
 * configured. */
static int
ask_tools(struct ask_ctx *a, struct worker *w, struct turn_spec *spec)
{
	return cli_tools(a->cfg, "ask", a->o->mcp, a->o->yes, ASK_TOOLS_WAIT_MS, w, &a->ts,
	    &spec->tools);
}

/* Send the prompt through a turn and stream the reply; returns the exit status. */
static int
ask_run(struct ask_ctx *a, const char *system)
{
	struct turn_env env = { a->cfg, NULL, ask_clock };
	struct turn_spec spec = { .model = a->model, .system = system, .column = -1,
	    .no_stream = a->o->no_stream };
	struct params pp, msg;
	struct turn *t;
	struct buf line = BUF_INIT;
	char *err = NULL;
	size_t before;

	/* This message's parameters: the template's, then the command line's. */
	memset(&msg, 0, sizeof(msg));
	if (a->t != NULL)
		params_overlay(&msg, &a->t->params);
	params_overlay(&msg, &a->o->params);
	spec.message = &msg;
	/* Parameters the model refuses are named before anything is sent or stored. */
	if (turn_params(a->cfg, a->model, NULL, &msg, &pp, &err) != 0) {
		fprintf(stderr, "natter: ask: %s\n", text_line(&line, err));
		buf_free(&line);
		free(err);
		params_free(&pp);
		params_free(&msg);
		return EXIT_USAGE;
	}
	params_free(&pp);
	if (a->sess == NULL) {
		a->sess = session_new(a->st, a->model->provider->name, a->model->id);
		a->fresh = 1;
	} else {
		session_set_model(a->sess, a->model->provider->name, a->model->id);
	}
	if (a->o->system != NULL)
		session_set_system(a->sess, a->o->system);
	before = a->sess->nmsgs;
	session_append_user_files(a->sess, a->prompt, a->o->atts, a->o->nfiles);
	worker_global_init();
	env.w = worker_start();
	if ((a->o->tools || a->o->mcp != NULL) && ask_tools(a, env.w, &spec) != 0) {
		session_truncate(a->sess, before);
		toolset_free(a->ts);
		a->ts = NULL;
		worker_stop(env.w);
		params_free(&msg);
		return EXIT_USAGE;
	}
	/* Printed as it arrives and stored (or not) as it arrives: unless --json prints it
	 * at the end or a tool round sends it back, the reply's text is not kept. */
	a->sess->drop_text = !a->o->json && spec.tools == NULL;
	t = turn_start(&env, a->sess, &spec, &ask_cbs, a, &err);
	if (t == NULL) {
		fprintf(stderr, "natter: ask: %s\n", text_line(&line, err));
		buf_free(&line);
		free(err);
		if (a->fresh && a->sess->id > 0 && a->sess->store != NULL)
			store_session_delete(a->sess->store, a->sess->id);
		else
			session_truncate(a->sess, before);
		toolset_free(a->ts);
		a->ts = NULL;
		worker_stop(env.w);
		params_free(&msg);
		return EXIT_USAGE;
	}
	if (a->defaulted && isatty(2) && strcmp(a->model->provider->protocol, "simulated") == 0)
		fputs("natter: answering with the simulated provider (no key configured)\n", stderr);
	ask_attach(a);
	ask_loop(env.w, t, a->ts);
	turn_free(t);
	/* The servers go before the worker: a url: server's last request goes through it. */
	toolset_free(a->ts);
	a->ts = NULL;
	worker_stop(env.w);
	params_free(&msg);
	return a->status < 0 ? EXIT_PROVIDER : a->status;
}

/* natter ask: stream one reply to stdout, stored as a session. */
int
cmd_ask(int argc, char **argv)
{
	struct config_errors errs = { NULL, 0 };
	struct ask_opts o;
	struct ask_ctx a;
	char *prompt = NULL;
	size_t i;
	int rc;

	memset(&o, 0, sizeof(o));
	memset(&a, 0, sizeof(a));
	o.reasoning = isatty(2);
	a.o = &o;
	a.status = -1;
	a.out.sanitize = 1;
	a.out.err_tty = isatty(2);
	text_filter_init(&a.out.text_f);
	text_filter_init(&a.out.reason_f);
	if ((rc = ask_parse(argc, argv, &o)) >= 0)
		goto out;
	a.out.sanitize = !o.raw;
	if ((rc = ask_files(&o)) >= 0)
		goto out;
	rc = -1;
	prompt = ask_prompt(argc, argv, o.tmpl != NULL);
	if (o.tmpl == NULL && o.nvars > 0) {
		rc = cli_usage("ask", "-V needs -T TEMPLATE");
		goto out;
	}
	a.cfg = cli_config(&errs);
	if (o.tmpl != NULL && (rc = ask_template(&a, &o, prompt, &a.tsystem, &a.tuser)) >= 0)
		goto out;
	a.prompt = o.tmpl != NULL ? a.tuser : prompt;
	if (a.prompt == NULL || (strspn(a.prompt, " \t\r\n") == strlen(a.prompt) &&
	    o.nfiles == 0)) {
		if (o.tmpl != NULL)
			rc = cli_usage("ask", "template %s has no user message", o.tmpl);
		else
			rc = cli_usage("ask", "the prompt is empty");
		goto out;
	}
	if ((rc = ask_session(&a)) >= 0 || (rc = ask_model(&a)) >= 0)
		goto out;
	ask_providers(&a);
	rc = ask_run(&a, o.system != NULL ? NULL : a.tsystem);
out:
	free(prompt);
	free(a.tsystem);
	free(a.tuser);
	buf_free(&a.out.scratch);
	buf_free(&a.raw);
	buf_free(&a.raw_reason);
	session_free(a.sess);
	toolset_free(a.ts);
	for (i = 0; i < a.ncalls; i++) {
		free(a.calls[i].id);
		free(a.calls[i].name);
		free(a.calls[i].args);
		free(a.calls[i].result);
	}
	free(a.calls);
	if (a.st != NULL)
		cli_store_close(a.st);
	params_free(&o.params);
	for (i = 0; i < o.nvars; i++) {
		free(o.vars[i].name);
		free(o.vars[i].value);
	}
	free(o.vars);
	for (i = 0; o.atts != NULL && i < o.nfiles; i++)
		attach_unref(o.atts[i]);
	free(o.atts);
	free(o.files);
	config_free(a.cfg);
	config_errors_free(&errs);
	return rc;
}
