/*
 * `natter ask`: one prompt in, one streamed reply out, for scripts and quick questions. It
 * uses the same config (providers, models, parameters, templates, fallbacks) and the same
 * worker thread as the full-screen UI, so what works here works there. The main loop
 * poll()s the worker's descriptor and a self-pipe fed by the SIGINT handler: a first Ctrl+C
 * cancels the stream cleanly (the partial reply stays on stdout), a second one exits at once.
 * Reply text goes to stdout as it arrives, reasoning and every notice to stderr. Model output
 * is made terminal-safe (text.h) wherever it goes, since a pipe often ends at a terminal
 * anyway (`| tee`, `| less -R`); --raw is the way to get the provider's bytes exactly.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "apierr.h"
#include "buf.h"
#include "cmd.h"
#include "config.h"
#include "fallback.h"
#include "params.h"
#include "proto.h"
#include "provider.h"
#include "request.h"
#include "template.h"
#include "text.h"
#include "worker.h"
#include "xmalloc.h"

/* The provider a bare model name obviously belongs to, by its family prefix, for ids the
 * config does not list (`-m gpt-5` before anyone adds it). */
static const struct {
	const char *prefix;
	const char *provider;
} ask_families[] = {
	{ "gpt-", "openai" },
	{ "o1", "openai" },
	{ "o3", "openai" },
	{ "o4", "openai" },
	{ "claude", "anthropic" },
	{ "gemini", "gemini" },
	{ "deepseek", "deepseek" },
};

/* Most fallback models tried for one prompt, the first model included. */
#define ASK_MAX_TRIED 16
/* Largest file -V name=@FILE reads. */
#define ASK_MAX_FILE (16u << 20)

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
};

/* What one invocation works with once the options are parsed. */
struct ask_ctx {
	struct config *cfg;
	const struct ask_opts *o;
	struct template *t;          /* -T, or NULL */
	const char *system;          /* -s, else the template's; NULL for none */
	const char *prompt;
	struct model *origin;        /* the model asked for: its fallback list is followed */
	struct model *model;         /* the model answering now */
	const char *tried[ASK_MAX_TRIED];
	size_t ntried;
	int defaulted;               /* nothing chose a model: the config's default answers */
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

static int ask_sig_pipe[2] = { -1, -1 };
static volatile sig_atomic_t ask_sig_count;

/* SIGINT: the first one asks the main loop to cancel, the second one leaves at once. */
static void
ask_on_sigint(int sig)
{
	int saved = errno;
	ssize_t r;

	(void)sig;
	if (++ask_sig_count >= 2)
		_exit(EXIT_INTERRUPTED);
	r = write(ask_sig_pipe[1], "i", 1);
	(void)r;
	errno = saved;
}

/* Write all of p to fd, retrying short writes; errors are left for the exit status. */
static int
ask_write(int fd, const char *p, size_t n)
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

/* Print the usage summary to f. */
static void
ask_usage(FILE *f)
{
	fputs("usage: natter ask [-m MODEL] [-p PROVIDER] [-s SYSTEM] [-t TEMP] [--top-p X]\n"
	    "                  [--max-tokens N] [--stop S]... [--seed N] [-P NAME=VALUE]...\n"
	    "                  [-T TEMPLATE [-V NAME=VALUE|NAME=@FILE]...] [--reasoning show|hide]\n"
	    "                  [--base-url URL] [--idle-timeout MS] [--connect-timeout MS]\n"
	    "                  [--first-token-timeout MS] [--raw]\n"
	    "                  [PROMPT... | -]\n"
	    "MODEL is a configured model or alias, PROVIDER/ID, or an id of -p PROVIDER; without\n"
	    "one, the config's default model answers (the offline simulated one when no key is\n"
	    "set). -P sets any parameter (top_k, frequency_penalty, presence_penalty,\n"
	    "repetition_penalty, reasoning_effort, reasoning_budget, ...). Without PROMPT (or with\n"
	    "-), the prompt is read from stdin; with -T, PROMPT fills the template's first variable\n"
	    "that has neither -V nor a default, and stdin is read only for -.\n",
	    f);
}

/* Report a usage error and return the usage exit status. */
static int ask_bad(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int
ask_bad(const char *fmt, ...)
{
	va_list ap;

	fputs("natter: ask: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs(" (see natter ask --help)\n", stderr);
	return EXIT_USAGE;
}

/* Parse a double in [lo, hi]; returns 0 on success. */
static int
ask_double(const char *s, double lo, double hi, double *out)
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

/* Parse a long in [lo, hi]; returns 0 on success. */
static int
ask_long(const char *s, long lo, long hi, long *out)
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

/* Read all of stdin as the prompt. */
static char *
ask_read_stdin(void)
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
	}
	buf_putc(&b, '\0');
	b.len--;
	return buf_detach(&b);
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
		return ask_bad("-P takes NAME=VALUE, not '%s'", arg);
	name = xstrndup(arg, (size_t)(eq - arg));
	for (char *q = name; *q != '\0'; q++)
		if (*q == '-')
			*q = '_';
	if (params_set(&o->params, name, eq + 1, &err) != 0) {
		rc = ask_bad("-P %s", err != NULL ? err : name);
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
		return ask_bad("-V takes NAME=VALUE or NAME=@FILE, not '%s'", arg);
	v = eq + 1;
	if (v[0] == '@' && v[1] == '@') {
		value = xstrdup(v + 1);
	} else if (v[0] == '@') {
		if ((value = ask_read_file(v + 1)) == NULL)
			return ask_bad("-V %.*s: cannot read '%s': %s", (int)(eq - arg), arg, v + 1,
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
		O_FIRST };
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
		{ "param", required_argument, NULL, 'P' },
		{ "template", required_argument, NULL, 'T' },
		{ "var", required_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c, rc;

	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, ":m:p:s:t:P:T:V:h", longopts, NULL)) != -1) {
		switch (c) {
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
			if (ask_double(optarg, 0, 2, &o->params.temperature) != 0)
				return ask_bad("temperature must be a number from 0 to 2, not '%s'", optarg);
			o->params.set |= PARAM_TEMPERATURE;
			break;
		case O_TOPP:
			if (ask_double(optarg, 0, 1, &o->params.top_p) != 0)
				return ask_bad("--top-p must be a number from 0 to 1, not '%s'", optarg);
			o->params.set |= PARAM_TOP_P;
			break;
		case O_MAXTOK:
			if (ask_long(optarg, 1, 100000000L, &o->params.max_tokens) != 0)
				return ask_bad("--max-tokens must be a positive integer, not '%s'", optarg);
			o->params.set |= PARAM_MAX_TOKENS;
			break;
		case O_STOP:
			if (o->params.nstop >= PARAM_MAX_STOP)
				return ask_bad("at most %d --stop sequences are allowed", PARAM_MAX_STOP);
			if (optarg[0] == '\0')
				return ask_bad("--stop needs a non-empty sequence");
			o->params.stop[o->params.nstop++] = xstrdup(optarg);
			o->params.set |= PARAM_STOP;
			break;
		case O_SEED:
			if (ask_long(optarg, -2147483647L - 1, 2147483647L, &o->params.seed) != 0)
				return ask_bad("--seed must be an integer, not '%s'", optarg);
			o->params.set |= PARAM_SEED;
			break;
		case O_REASON:
			if (strcmp(optarg, "show") == 0)
				o->reasoning = 1;
			else if (strcmp(optarg, "hide") == 0)
				o->reasoning = 0;
			else
				return ask_bad("--reasoning takes show or hide, not '%s'", optarg);
			break;
		case O_BASE:
			o->base_url = optarg;
			break;
		case O_RAW:
			o->raw = 1;
			break;
		case O_IDLE:
			if (ask_long(optarg, 1, 86400000L, &o->idle_ms) != 0)
				return ask_bad("--idle-timeout takes milliseconds > 0, not '%s'", optarg);
			break;
		case O_CONN:
			if (ask_long(optarg, 1, 86400000L, &o->connect_ms) != 0)
				return ask_bad("--connect-timeout takes milliseconds > 0, not '%s'", optarg);
			break;
		case O_FIRST:
			if (ask_long(optarg, 1, 86400000L, &o->first_token_ms) != 0)
				return ask_bad("--first-token-timeout takes milliseconds > 0, not '%s'",
				    optarg);
			break;
		case 'h':
			ask_usage(stdout);
			return EXIT_OK;
		case ':':
			return ask_bad("option '%s' needs a value", argv[optind - 1]);
		default:
			return ask_bad("unknown option '%s'", argv[optind - 1]);
		}
	}
	return -1;
}

/* The configured-but-not-offered provider called name, or NULL. */
static const struct config_disabled *
ask_disabled(const struct config *cfg, const char *name)
{
	size_t i;

	for (i = 0; i < cfg->ndisabled; i++)
		if (strcmp(cfg->disabled[i].name, name) == 0)
			return &cfg->disabled[i];
	return NULL;
}

/* Say why provider d cannot answer; returns the provider exit status. */
static int
ask_not_offered(const struct config_disabled *d)
{
	if (d->provider != NULL && !d->provider->local && d->provider->key_env != NULL)
		fprintf(stderr, "natter: no key for %s: set %s\n", d->name, d->provider->key_env);
	else
		fprintf(stderr, "natter: %s is not available: %s\n", d->name, d->reason);
	return EXIT_PROVIDER;
}

/* The offered provider called name; a local server whose address only --base-url gives is
 * offered now. NULL after saying why, with *rc set. */
static struct provider *
ask_provider(struct ask_ctx *a, const char *name, int *rc)
{
	struct provider *p = config_provider(a->cfg, name);
	const struct config_disabled *d;
	size_t i;

	if (p != NULL)
		return p;
	if ((d = ask_disabled(a->cfg, name)) == NULL) {
		fprintf(stderr, "natter: unknown provider '%s' (known:", name);
		for (i = 0; i < a->cfg->nproviders; i++)
			fprintf(stderr, " %s", a->cfg->providers[i]->name);
		for (i = 0; i < a->cfg->ndisabled; i++)
			fprintf(stderr, " %s", a->cfg->disabled[i].name);
		fputs(")\n", stderr);
		*rc = EXIT_USAGE;
		return NULL;
	}
	if (a->o->base_url != NULL && (p = config_offer(a->cfg, name)) != NULL)
		return p;
	*rc = ask_not_offered(d);
	return NULL;
}

/* The model called m on provider pname: a configured one of that provider, or the id as
 * the provider knows it, with safe defaults; m NULL picks the provider's first model. */
static struct model *
ask_model_of(struct ask_ctx *a, const char *pname, const char *m, int *rc)
{
	struct provider *p = ask_provider(a, pname, rc);
	struct model *model;
	char *full;
	size_t i;

	if (p == NULL)
		return NULL;
	if (m == NULL || m[0] == '\0') {
		for (i = 0; i < a->cfg->nmodels; i++)
			if (a->cfg->models[i].provider == p)
				return &a->cfg->models[i];
		fprintf(stderr, "natter: no model for %s: use -m MODEL (natter models %s lists "
		    "them)\n", pname, pname);
		*rc = EXIT_USAGE;
		return NULL;
	}
	if ((model = config_model(a->cfg, m)) != NULL && model->provider == p)
		return model;
	full = xasprintf("%s/%s", pname, m);
	model = config_model(a->cfg, full);
	free(full);
	return model;
}

/* Report an unknown model with the nearest configured name. */
static int
ask_unknown_model(const struct config *cfg, const char *m)
{
	const char **names = xcalloc(cfg->nmodels + 1, sizeof(*names));
	const char *near;
	size_t i;

	for (i = 0; i < cfg->nmodels; i++)
		names[i] = cfg->models[i].name;
	near = config_nearest(m, names, cfg->nmodels);
	fprintf(stderr, "natter: unknown model '%s'%s%s%s; use PROVIDER/MODEL for one the config "
	    "does not list (natter models shows them)\n", m, near != NULL ? ", did you mean '" : "",
	    near != NULL ? near : "", near != NULL ? "'?" : "");
	free(names);
	return EXIT_USAGE;
}

/* Choose the model from -m, -p, the template, NATTER_MODEL, NATTER_PROVIDER and the
 * config's default. Returns it (its provider may be unavailable), or NULL with *rc set. */
static struct model *
ask_resolve(struct ask_ctx *a, int *rc)
{
	const struct ask_opts *o = a->o;
	const char *m = o->model, *pname = o->provider, *slash;
	struct model *model = NULL;
	char *prefix = NULL;
	size_t i;

	if (m == NULL && a->t != NULL && a->t->model != NULL)
		m = a->t->model;
	if (m == NULL && (m = getenv("NATTER_MODEL")) != NULL && m[0] == '\0')
		m = NULL;
	if (pname == NULL && (pname = getenv("NATTER_PROVIDER")) != NULL && pname[0] == '\0')
		pname = NULL;
	/* provider/model splits only when -p was not given on the command line, so that
	 * -p openrouter -m anthropic/claude-x keeps the OpenRouter model id whole. */
	if (m != NULL && o->provider == NULL && (slash = strchr(m, '/')) != NULL) {
		prefix = xstrndup(m, (size_t)(slash - m));
		if (config_provider(a->cfg, prefix) != NULL || ask_disabled(a->cfg, prefix) != NULL) {
			model = ask_model_of(a, prefix, slash + 1, rc);
			free(prefix);
			return model;
		}
		free(prefix);
	}
	if (pname != NULL)
		return ask_model_of(a, pname, m, rc);
	if (m == NULL) {
		m = a->cfg->default_model;
		a->defaulted = 1;
	}
	if ((model = config_model(a->cfg, m)) != NULL)
		return model;
	for (i = 0; i < sizeof(ask_families) / sizeof(ask_families[0]); i++)
		if (strncmp(m, ask_families[i].prefix, strlen(ask_families[i].prefix)) == 0)
			return ask_model_of(a, ask_families[i].provider, m, rc);
	*rc = ask_unknown_model(a->cfg, m);
	return NULL;
}

/* Layer the parameters for model m (config < model < template < command line) and check
 * them against what m accepts; returns 0, or -1 with *err. */
static int
ask_params(const struct ask_ctx *a, const struct model *m, struct params *out, char **err)
{
	memset(out, 0, sizeof(*out));
	params_overlay(out, &a->cfg->defaults);
	params_overlay(out, &m->defaults);
	if (a->t != NULL)
		params_overlay(out, &a->t->params);
	params_overlay(out, &a->o->params);
	return params_check(out, m, err);
}

/* The request for model m, or NULL with *err when its parameters are refused. */
static struct request *
ask_request(const struct ask_ctx *a, const struct model *m, char **err)
{
	struct params params;
	struct request *req;

	if (ask_params(a, m, &params, err) != 0) {
		params_free(&params);
		return NULL;
	}
	req = request_new(m->provider, m->id);
	if (a->system != NULL)
		request_set_system(req, a->system);
	request_add(req, ROLE_USER, a->prompt);
	params_copy(&req->params, &params);
	params_free(&params);
	return req;
}

/* Move to the next usable fallback of the origin model whose parameters fit, saying why on
 * stderr; returns its request, or NULL when none is left. */
static struct request *
ask_fallback(struct ask_ctx *a, const struct apierr *why)
{
	struct model *next;
	struct request *req;
	char *msg, *err = NULL;
	struct buf line = BUF_INIT;

	while (a->ntried < ASK_MAX_TRIED &&
	    (next = fallback_next(a->cfg, a->origin, a->tried, a->ntried)) != NULL) {
		a->tried[a->ntried++] = next->name;
		if ((req = ask_request(a, next, &err)) == NULL) {
			fprintf(stderr, "natter: not falling back to %s: ", text_line(&line, next->name));
			fprintf(stderr, "%s\n", text_line(&line, err));
			free(err);
			err = NULL;
			continue;
		}
		msg = fallback_message(a->model->name, why, next->name);
		fprintf(stderr, "natter: %s\n", text_line(&line, msg));
		buf_free(&line);
		free(msg);
		a->model = next;
		return req;
	}
	buf_free(&line);
	return NULL;
}

/* Write n bytes of (already sanitised or raw) reasoning to stderr, dimmed on a terminal. */
static void
ask_write_reasoning(struct ask_out *out, const char *p, size_t n)
{
	if (n == 0)
		return;
	if (!out->in_reasoning && out->err_tty)
		ask_write(2, "\033[2m", 4);
	out->in_reasoning = 1;
	ask_write(2, p, n);
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
		ask_write(2, "\033[0m", 4);
	if (out->last_err != '\n')
		ask_write(2, "\n", 1);
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
	ask_write(1, p, n);
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
			ask_write(1, out->scratch.data, out->scratch.len);
			out->last_out = out->scratch.data[out->scratch.len - 1];
		}
	}
	/* --raw is the provider's bytes exactly: no newline of natter's own at the end. */
	if (out->sanitize && out->last_out != 0 && out->last_out != '\n')
		ask_write(1, "\n", 1);
	out->last_out = '\n';
}

/* Print "natter: <provider>: <error>" and a hint that fits the provider (or, after a
 * partial reply, a warning that it is incomplete). */
static void
ask_print_error(const struct provider *p, const struct apierr *e, int partial)
{
	struct buf line = BUF_INIT;
	const char *hint = apierr_hint(e);
	char *f = apierr_format(e);

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

/* Tell the user about a retry: a key wait, a key rotation or an ordinary retry. */
static void
ask_print_retry(struct ask_out *out, const struct provider *p, const struct wevent *ev)
{
	char *f = apierr_format(ev->error);

	/* A key wait's message says it all; others are the error's one-line form. */
	text_line(&out->scratch, ev->key_wait ? ev->error->message : f);
	if (ev->key_wait)
		fprintf(stderr, "natter: %s; waiting %.0fs\n", buf_str(&out->scratch),
		    (double)ev->delay_ms / 1000.0);
	else if (ev->rotated)
		fprintf(stderr, "natter: %s; trying the next key of %s\n", buf_str(&out->scratch),
		    p->name);
	else
		fprintf(stderr, "natter: %s; retrying in %.1fs (attempt %d/%d)\n",
		    buf_str(&out->scratch), (double)ev->delay_ms / 1000.0, ev->attempt,
		    p->max_retries + 1);
	free(f);
}

/* Stream the reply of req through a worker, moving to fallback models while the failure
 * allows it; returns the exit status. */
static int
ask_run(struct ask_ctx *a, struct request *req)
{
	const struct ask_opts *o = a->o;
	struct ask_out out;
	struct pollfd pfd[2];
	struct sigaction sa, old;
	struct worker *w;
	struct wevent *ev;
	struct request *next;
	uint64_t id;
	int status = -1, cancelling = 0, partial, got_token = 0;
	char junk[16];

	memset(&out, 0, sizeof(out));
	out.sanitize = !o->raw;
	out.err_tty = isatty(2);
	text_filter_init(&out.text_f);
	text_filter_init(&out.reason_f);
	if (pipe2(ask_sig_pipe, O_NONBLOCK | O_CLOEXEC) != 0) {
		perror("natter: pipe");
		request_free(req);
		return EXIT_PROVIDER;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = ask_on_sigint;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, &old);

	worker_global_init();
	w = worker_start();
	id = worker_submit(w, req);
	pfd[0].fd = worker_fd(w);
	pfd[0].events = POLLIN;
	pfd[1].fd = ask_sig_pipe[0];
	pfd[1].events = POLLIN;
	while (status < 0) {
		if (poll(pfd, 2, -1) < 0 && errno != EINTR)
			break;
		if (pfd[1].revents & POLLIN) {
			while (read(ask_sig_pipe[0], junk, sizeof(junk)) > 0)
				;
			if (!cancelling) {
				cancelling = 1;
				worker_cancel(w, id);
			}
		}
		while (status < 0 && (ev = worker_next(w)) != NULL) {
			if (ev->id != id) {
				wevent_free(ev);
				continue;
			}
			switch (ev->type) {
			case WEV_TEXT:
				got_token = 1;
				ask_put_text(&out, ev->text, ev->len);
				break;
			case WEV_REASONING:
				got_token = 1;
				if (o->reasoning)
					ask_put_reasoning(&out, ev->text, ev->len);
				break;
			case WEV_RETRY:
				ask_print_retry(&out, a->model->provider, ev);
				break;
			case WEV_DONE:
				if (!cancelling && fallback_wanted(ev->error, ev->cancelled, got_token) &&
				    (next = ask_fallback(a, ev->error)) != NULL) {
					id = worker_submit(w, next);
					break;
				}
				partial = out.last_out != 0 || out.in_reasoning;
				ask_finish_output(&out);
				if (ev->warning != NULL && !ev->cancelled)
					ask_print_warning(&out, ev->warning);
				if (ev->cancelled) {
					fputs("natter: cancelled\n", stderr);
					status = EXIT_INTERRUPTED;
				} else if (ev->error != NULL && !ev->complete &&
				    (ev->error->cls == APIERR_TRUNCATED || partial)) {
					ask_print_error(a->model->provider, ev->error, 1);
					status = EXIT_PROVIDER;
				} else if (ev->error != NULL) {
					ask_print_error(a->model->provider, ev->error, 0);
					status = EXIT_PROVIDER;
				} else {
					/* The reply is whole but ended early: say why, off stdout. */
					if (proto_finish_note(ev->finish_reason) != NULL)
						fprintf(stderr, "natter: %s\n",
						    proto_finish_note(ev->finish_reason));
					status = EXIT_OK;
				}
				break;
			default:
				break;
			}
			wevent_free(ev);
		}
	}
	worker_stop(w);
	sigaction(SIGINT, &old, NULL);
	close(ask_sig_pipe[0]);
	close(ask_sig_pipe[1]);
	buf_free(&out.scratch);
	return status < 0 ? EXIT_PROVIDER : status;
}

/* Read the prompt from the arguments, or from stdin when asked (or when there are none and
 * no template is used). */
static char *
ask_prompt(int argc, char **argv, int templated)
{
	struct buf prompt = BUF_INIT;
	int i;

	if (optind == argc - 1 && strcmp(argv[optind], "-") == 0)
		return ask_read_stdin();
	if (optind >= argc)
		return templated ? NULL : ask_read_stdin();
	for (i = optind; i < argc; i++) {
		if (i > optind)
			buf_putc(&prompt, ' ');
		buf_puts(&prompt, argv[i]);
	}
	buf_putc(&prompt, '\0');
	prompt.len--;
	return buf_detach(&prompt);
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
			return ask_bad("unknown template '%s', did you mean '%s'?", o->tmpl, near);
		return ask_bad("unknown template '%s' (natter templates lists them)", o->tmpl);
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
			return ask_bad("template %s has no variable left for PROMPT; use -V", o->tmpl);
		}
		o->vars = xrealloc(o->vars, (o->nvars + 1) * sizeof(*o->vars));
		o->vars[o->nvars].name = xstrdup(names[i]);
		o->vars[o->nvars].value = xstrdup(prompt);
		o->nvars++;
		template_names_free(names);
	}
	if (template_apply(a->t, o->vars, o->nvars, system, user, &err) != 0) {
		rc = ask_bad("%s", err);
		free(err);
	}
	return rc;
}

/* Print the config's errors and warnings; a broken user file still leaves the defaults. */
static void
ask_config_report(const struct config *cfg, const struct config_errors *errs)
{
	size_t i;

	for (i = 0; i < errs->n; i++)
		fprintf(stderr, "%s\n", errs->v[i]);
	for (i = 0; i < cfg->nwarnings; i++)
		fprintf(stderr, "%s\n", cfg->warnings[i]);
	if (errs->n > 0)
		fputs("natter: the config has errors; using the defaults (natter config check)\n",
		    stderr);
}

/* The model actually used when the chosen one's provider is not offered: its first usable
 * fallback, or NULL after saying what is missing. */
static struct model *
ask_usable(struct ask_ctx *a, struct model *m)
{
	const struct config_disabled *d = ask_disabled(a->cfg, m->provider_name);
	struct model *next;

	if (m->provider != NULL)
		return m;
	if ((next = fallback_next(a->cfg, m, a->tried, a->ntried)) != NULL) {
		fprintf(stderr, "natter: %s: no usable key for %s (%s); falling back to %s\n",
		    m->name, m->provider_name, d != NULL ? d->reason : "not offered", next->name);
		return next;
	}
	if (d != NULL)
		ask_not_offered(d);
	else
		fprintf(stderr, "natter: %s: provider %s is not offered\n", m->name,
		    m->provider_name);
	return NULL;
}

/* natter ask: stream one reply to stdout. */
int
cmd_ask(int argc, char **argv)
{
	struct config_errors errs = { NULL, 0 };
	struct ask_opts o;
	struct ask_ctx a;
	struct request *req;
	struct model *m;
	char *prompt = NULL, *tsystem = NULL, *tuser = NULL, *err = NULL, *url;
	size_t i;
	int rc;

	memset(&o, 0, sizeof(o));
	memset(&a, 0, sizeof(a));
	o.reasoning = isatty(2);
	a.o = &o;
	if ((rc = ask_parse(argc, argv, &o)) >= 0)
		goto out;
	rc = -1;
	prompt = ask_prompt(argc, argv, o.tmpl != NULL);
	if (o.tmpl == NULL && o.nvars > 0) {
		rc = ask_bad("-V needs -T TEMPLATE");
		goto out;
	}
	a.cfg = config_load(NULL, 0, &errs);
	ask_config_report(a.cfg, &errs);
	if (o.tmpl != NULL && (rc = ask_template(&a, &o, prompt, &tsystem, &tuser)) >= 0)
		goto out;
	a.prompt = o.tmpl != NULL ? tuser : prompt;
	a.system = o.system != NULL ? o.system : tsystem;
	if (a.prompt == NULL || strspn(a.prompt, " \t\r\n") == strlen(a.prompt)) {
		if (o.tmpl != NULL)
			rc = ask_bad("template %s has no user message", o.tmpl);
		else
			rc = ask_bad("the prompt is empty");
		goto out;
	}
	rc = -1;
	if ((m = ask_resolve(&a, &rc)) == NULL)
		goto out;
	a.origin = m;
	a.tried[a.ntried++] = m->name;
	if ((m = ask_usable(&a, m)) == NULL) {
		rc = EXIT_PROVIDER;
		goto out;
	}
	if (m != a.origin)
		a.tried[a.ntried++] = m->name;
	a.model = m;
	if (o.base_url != NULL) {
		url = xstrdup(o.base_url);
		while (url[0] != '\0' && url[strlen(url) - 1] == '/')
			url[strlen(url) - 1] = '\0';
		free(m->provider->base_url);
		m->provider->base_url = url;
	}
	for (i = 0; i < a.cfg->nproviders; i++) {
		if (o.idle_ms > 0)
			a.cfg->providers[i]->idle_timeout_ms = o.idle_ms;
		if (o.connect_ms > 0)
			a.cfg->providers[i]->connect_timeout_ms = o.connect_ms;
		if (o.first_token_ms > 0)
			a.cfg->providers[i]->first_token_timeout_ms = o.first_token_ms;
	}
	/* Refused before anything is sent, with the limit named. */
	if ((req = ask_request(&a, m, &err)) == NULL) {
		struct buf line = BUF_INIT;

		fprintf(stderr, "natter: ask: %s\n", text_line(&line, err));
		buf_free(&line);
		free(err);
		rc = EXIT_USAGE;
		goto out;
	}
	if (a.defaulted && isatty(2) && strcmp(m->provider->protocol, "simulated") == 0)
		fputs("natter: answering with the simulated provider (no key configured)\n", stderr);
	rc = ask_run(&a, req);
out:
	free(prompt);
	free(tsystem);
	free(tuser);
	params_free(&o.params);
	for (i = 0; i < o.nvars; i++) {
		free(o.vars[i].name);
		free(o.vars[i].value);
	}
	free(o.vars);
	config_free(a.cfg);
	config_errors_free(&errs);
	return rc;
}
