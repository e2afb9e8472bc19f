/*
 * `natter ask`: one prompt in, one streamed reply out, for scripts and quick questions. It
 * uses the same worker thread as the full-screen UI, so what works here works there. The
 * main loop poll()s the worker's descriptor and a self-pipe fed by the SIGINT handler: a
 * first Ctrl+C cancels the stream cleanly (the partial reply stays on stdout), a second one
 * exits at once. Reply text goes to stdout as it arrives, reasoning to stderr, and model
 * output is made terminal-safe whenever stdout is a terminal.
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
#include "provider.h"
#include "request.h"
#include "text.h"
#include "worker.h"
#include "xmalloc.h"

/* The model used when only a provider is named. */
static const struct {
	const char *provider;
	const char *model;
} ask_default_models[] = {
	{ "openai", "gpt-4o-mini" },
	{ "anthropic", "claude-sonnet-4-5" },
	{ "gemini", "gemini-2.5-flash" },
	{ "groq", "llama-3.3-70b-versatile" },
	{ "deepseek", "deepseek-chat" },
	{ "llamacpp", "default" },
	{ "simulated", "simulated" },
};

/* The provider a bare model name obviously belongs to, by its family prefix. */
static const struct {
	const char *prefix;
	const char *provider;
} ask_families[] = {
	{ "simulated", "simulated" },
	{ "gpt-", "openai" },
	{ "o1", "openai" },
	{ "o3", "openai" },
	{ "o4", "openai" },
	{ "claude", "anthropic" },
	{ "gemini", "gemini" },
	{ "deepseek", "deepseek" },
};

/* Options of one invocation. */
struct ask_opts {
	const char *model;
	const char *provider;
	const char *system;
	const char *base_url;
	struct params params;
	int reasoning;      /* 1 show, 0 hide */
	int raw;
	long idle_ms;
	long connect_ms;
};

/* State of the output while the reply streams. */
struct ask_out {
	int sanitize;            /* stdout is a terminal and --raw was not given */
	int err_tty;
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
	    "                  [--max-tokens N] [--stop S]... [--seed N] [--reasoning show|hide]\n"
	    "                  [--base-url URL] [--idle-timeout MS] [--connect-timeout MS] [--raw]\n"
	    "                  [PROMPT... | -]\n"
	    "MODEL is PROVIDER/MODEL or a model of -p PROVIDER; with neither, the offline\n"
	    "simulated provider answers. Without PROMPT (or with -), the prompt is read from stdin.\n",
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

/* Parse the command line into o; returns -1 to go on, or an exit status. */
static int
ask_parse(int argc, char **argv, struct ask_opts *o)
{
	enum { O_TOPP = 256, O_MAXTOK, O_STOP, O_SEED, O_REASON, O_BASE, O_RAW, O_IDLE, O_CONN };
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
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, ":m:p:s:t:h", longopts, NULL)) != -1) {
		switch (c) {
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

/* Choose provider and model from the options, the environment and the defaults. Returns
 * the provider (from list) and sets *model (allocated), or NULL after printing why. */
static struct provider *
ask_resolve(const struct ask_opts *o, struct provider **list, size_t n, char **model,
    int *defaulted)
{
	const char *m = o->model, *pname = o->provider, *slash;
	struct provider *p = NULL;
	char *prefix;
	size_t i;

	*model = NULL;
	*defaulted = 0;
	if (m == NULL && (m = getenv("NATTER_MODEL")) != NULL && m[0] == '\0')
		m = NULL;
	if (pname == NULL && (pname = getenv("NATTER_PROVIDER")) != NULL && pname[0] == '\0')
		pname = NULL;
	/* provider/model splits only when -p was not given on the command line, so that
	 * -p openrouter -m anthropic/claude-x keeps the OpenRouter model id whole. */
	if (m != NULL && o->provider == NULL && (slash = strchr(m, '/')) != NULL) {
		prefix = xstrndup(m, (size_t)(slash - m));
		p = provider_find(list, n, prefix);
		free(prefix);
		if (p != NULL)
			m = slash + 1;
	}
	if (p == NULL && pname != NULL) {
		if ((p = provider_find(list, n, pname)) == NULL) {
			fprintf(stderr, "natter: unknown provider '%s' (known:", pname);
			for (i = 0; i < n; i++)
				fprintf(stderr, " %s", list[i]->name);
			fputs(")\n", stderr);
			return NULL;
		}
	}
	if (p == NULL && m != NULL) {
		for (i = 0; i < sizeof(ask_families) / sizeof(ask_families[0]) && p == NULL; i++)
			if (strncmp(m, ask_families[i].prefix, strlen(ask_families[i].prefix)) == 0)
				p = provider_find(list, n, ask_families[i].provider);
		if (p == NULL) {
			fprintf(stderr, "natter: cannot tell which provider serves '%s': use "
			    "-p PROVIDER or -m PROVIDER/MODEL\n", m);
			return NULL;
		}
	}
	if (p == NULL) {
		p = provider_find(list, n, "simulated");
		*defaulted = 1;
	}
	if (m == NULL || m[0] == '\0') {
		for (i = 0; i < sizeof(ask_default_models) / sizeof(ask_default_models[0]); i++)
			if (strcmp(p->name, ask_default_models[i].provider) == 0)
				m = ask_default_models[i].model;
		if (m == NULL || m[0] == '\0') {
			fprintf(stderr, "natter: no model for %s: use -m MODEL (natter models %s "
			    "lists them)\n", p->name, p->name);
			return NULL;
		}
	}
	*model = xstrdup(m);
	return p;
}

/* Write reply text to stdout, sanitised for a terminal unless --raw. */
static void
ask_put_text(struct ask_out *out, const char *p, size_t n)
{
	if (out->in_reasoning) {
		/* Close the dimmed reasoning block before the answer starts. */
		if (out->err_tty)
			ask_write(2, "\033[0m", 4);
		if (out->last_err != '\n')
			ask_write(2, "\n", 1);
		out->in_reasoning = 0;
	}
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

/* Write reasoning text to stderr, dimmed and always sanitised when stderr is a terminal. */
static void
ask_put_reasoning(struct ask_out *out, const char *p, size_t n)
{
	if (out->err_tty) {
		buf_reset(&out->scratch);
		text_filter_feed(&out->reason_f, p, n, &out->scratch);
		p = out->scratch.data;
		n = out->scratch.len;
	}
	if (n == 0)
		return;
	if (!out->in_reasoning && out->err_tty)
		ask_write(2, "\033[2m", 4);
	out->in_reasoning = 1;
	ask_write(2, p, n);
	out->last_err = p[n - 1];
}

/* Finish the output: flush filters, close reasoning, end with a newline. */
static void
ask_finish_output(struct ask_out *out)
{
	if (out->in_reasoning) {
		if (out->err_tty)
			ask_write(2, "\033[0m", 4);
		if (out->last_err != '\n')
			ask_write(2, "\n", 1);
		out->in_reasoning = 0;
	}
	if (out->sanitize) {
		buf_reset(&out->scratch);
		text_filter_finish(&out->text_f, &out->scratch);
		if (out->scratch.len > 0) {
			ask_write(1, out->scratch.data, out->scratch.len);
			out->last_out = out->scratch.data[out->scratch.len - 1];
		}
	}
	if (out->last_out != 0 && out->last_out != '\n')
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

	text_sanitize(f, strlen(f), &line);
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
		fprintf(stderr, "natter: no data from %s in time (--idle-timeout, "
		    "--connect-timeout change the limits)\n", p->base_url);
	else if (hint != NULL)
		fprintf(stderr, "natter: %s\n", hint);
	free(f);
	buf_free(&line);
}

/* Stream the reply of req through a worker; returns the exit status. */
static int
ask_run(struct request *req, const struct provider *p, const struct ask_opts *o)
{
	struct ask_out out;
	struct pollfd pfd[2];
	struct sigaction sa, old;
	struct worker *w;
	struct wevent *ev;
	uint64_t id;
	int status = -1, cancelling = 0, partial;
	char junk[16];
	char *f;

	memset(&out, 0, sizeof(out));
	out.sanitize = isatty(1) && !o->raw;
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
			switch (ev->type) {
			case WEV_TEXT:
				ask_put_text(&out, ev->text, ev->len);
				break;
			case WEV_REASONING:
				if (o->reasoning)
					ask_put_reasoning(&out, ev->text, ev->len);
				break;
			case WEV_RETRY:
				f = apierr_format(ev->error);
				buf_reset(&out.scratch);
				text_sanitize(f, strlen(f), &out.scratch);
				fprintf(stderr, "natter: %s; retrying in %.1fs (attempt %d/%d)\n",
				    buf_str(&out.scratch), (double)ev->delay_ms / 1000.0, ev->attempt,
				    p->max_retries + 1);
				free(f);
				break;
			case WEV_DONE:
				partial = out.last_out != 0 || out.in_reasoning;
				ask_finish_output(&out);
				if (ev->cancelled) {
					fputs("natter: cancelled\n", stderr);
					status = EXIT_INTERRUPTED;
				} else if (ev->error != NULL && !ev->complete &&
				    (ev->error->cls == APIERR_TRUNCATED || partial)) {
					ask_print_error(p, ev->error, 1);
					status = EXIT_PROVIDER;
				} else if (ev->error != NULL) {
					ask_print_error(p, ev->error, 0);
					status = EXIT_PROVIDER;
				} else {
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

/* natter ask: stream one reply to stdout. */
int
cmd_ask(int argc, char **argv)
{
	struct ask_opts o;
	struct provider **list, *p;
	struct request *req;
	struct buf prompt = BUF_INIT;
	char *model = NULL, *url;
	size_t n;
	int rc, i, defaulted;

	memset(&o, 0, sizeof(o));
	o.reasoning = isatty(2);
	if ((rc = ask_parse(argc, argv, &o)) >= 0) {
		params_free(&o.params);
		return rc;
	}
	if (optind >= argc || (optind == argc - 1 && strcmp(argv[optind], "-") == 0)) {
		char *s = ask_read_stdin();

		buf_puts(&prompt, s);
		free(s);
	} else {
		for (i = optind; i < argc; i++) {
			if (i > optind)
				buf_putc(&prompt, ' ');
			buf_puts(&prompt, argv[i]);
		}
	}
	if (prompt.len == 0 || strspn(prompt.data, " \t\r\n") == prompt.len) {
		buf_free(&prompt);
		params_free(&o.params);
		return ask_bad("the prompt is empty");
	}
	list = provider_builtin(&n);
	if ((p = ask_resolve(&o, list, n, &model, &defaulted)) == NULL) {
		rc = EXIT_USAGE;
		goto out;
	}
	if (o.base_url != NULL) {
		url = xstrdup(o.base_url);
		while (url[0] != '\0' && url[strlen(url) - 1] == '/')
			url[strlen(url) - 1] = '\0';
		free(p->base_url);
		p->base_url = url;
	}
	if (o.idle_ms > 0)
		p->idle_timeout_ms = o.idle_ms;
	if (o.connect_ms > 0)
		p->connect_timeout_ms = o.connect_ms;
	if (!provider_usable(p)) {
		fprintf(stderr, "natter: no key for %s: set %s\n", p->name,
		    p->key_env != NULL ? p->key_env : "its API key");
		rc = EXIT_PROVIDER;
		goto out;
	}
	if (defaulted && isatty(2))
		fputs("natter: answering with the simulated provider (no key configured)\n", stderr);
	req = request_new(p, model);
	if (o.system != NULL)
		request_set_system(req, o.system);
	request_add(req, ROLE_USER, prompt.data);
	params_copy(&req->params, &o.params);
	rc = ask_run(req, p, &o);
out:
	free(model);
	buf_free(&prompt);
	params_free(&o.params);
	provider_list_free(list, n);
	return rc;
}
