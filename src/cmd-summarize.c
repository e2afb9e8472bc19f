/*
 * `natter summarize SESSION [-m MODEL] [-o FILE] [--raw]`: a summary of a stored
 * conversation from a model (the session's own by default), streamed to standard output or
 * written to FILE (mode 0600). The stored session is not touched: its conversation is
 * loaded into an in-memory session, the summarize prompt (the interface's /summarize
 * wording) is appended there, and one turn answers it. What the model sends is untrusted
 * and is sanitized as `natter ask` sanitizes it, unless --raw. Exit statuses as ask's: 0,
 * 1 when the provider failed, 2 for a bad command line, 130 after Ctrl+C.
 */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "cli.h"
#include "cmd.h"
#include "config.h"
#include "export.h"
#include "provider.h"
#include "resolve.h"
#include "session.h"
#include "store.h"
#include "text.h"
#include "turn.h"
#include "worker.h"
#include "xmalloc.h"

/* The request, worded as the interface's /summarize words it (ui/ui.c). */
#define SUMMARIZE_PROMPT \
	"Summarise our conversation so far in a few short paragraphs. Keep names, numbers, " \
	"decisions and open questions, so that it can go on from the summary alone."

#define SUMMARIZE_USAGE \
	"usage: natter summarize SESSION [-m MODEL] [-o FILE] [--raw]\n" \
	"Asks a model (the session's own unless -m names another) for a summary of the\n" \
	"stored session SESSION (an id or 'last') and streams it to standard output, or\n" \
	"writes it to FILE (mode 0600). The stored session is not changed.\n"

/* The command line. */
struct sum_opts {
	const char *session;
	const char *model;
	const char *out;
	int raw;
};

/* Where the summary goes while it streams. */
struct sum_out {
	int raw;
	int to_file;
	struct text_filter tf;
	struct buf scratch;
	struct buf file;        /* the whole summary when it goes to a file */
	char last;              /* the last byte written to stdout, 0 when none */
};

/* Report a usage error. */
static int
sum_bad(const char *what, const char *arg)
{
	fprintf(stderr, "natter: summarize: %s%s%s%s\n", what, arg ? " '" : "", arg ? arg : "",
	    arg ? "'" : "");
	fputs(SUMMARIZE_USAGE, stderr);
	return EXIT_USAGE;
}

/* Parse the options; -1 to go on, else an exit status. */
static int
sum_parse(int argc, char **argv, struct sum_opts *o)
{
	enum { O_RAW = 256 };
	static const struct option longopts[] = {
		{ "model", required_argument, NULL, 'm' },
		{ "output", required_argument, NULL, 'o' },
		{ "raw", no_argument, NULL, O_RAW },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, ":m:o:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'm':
			o->model = optarg;
			break;
		case 'o':
			o->out = optarg;
			break;
		case O_RAW:
			o->raw = 1;
			break;
		case 'h':
			fputs(SUMMARIZE_USAGE, stdout);
			return EXIT_OK;
		case ':':
			return sum_bad("option needs a value:", argv[optind - 1]);
		default:
			return sum_bad("unknown option", argv[optind - 1]);
		}
	}
	if (optind >= argc)
		return sum_bad("which session? (an id or 'last')", NULL);
	if (optind + 1 < argc)
		return sum_bad("one session at a time, not also", argv[optind + 1]);
	o->session = argv[optind];
	return -1;
}

/* Send n bytes of summary (already sanitized or raw) where it goes. */
static void
sum_emit(struct sum_out *out, const char *p, size_t n)
{
	if (n == 0)
		return;
	if (out->to_file) {
		buf_append(&out->file, p, n);
		return;
	}
	cli_write(1, p, n);
	out->last = p[n - 1];
}

/* A delta of the turn: text goes out sanitized (unless --raw); waits and fallbacks are
 * told on stderr; reasoning is not part of the summary. */
static void
sum_update(struct turn *t, unsigned what, const char *p, size_t n, void *arg)
{
	struct sum_out *out = arg;

	if (what & TURN_TEXT) {
		if (out->raw) {
			sum_emit(out, p, n);
		} else {
			buf_reset(&out->scratch);
			text_filter_feed(&out->tf, p, n, &out->scratch);
			sum_emit(out, out->scratch.data, out->scratch.len);
		}
	}
	if ((what & TURN_WAIT) && t->wait_msg != NULL)
		fprintf(stderr, "natter: summarize: %s\n", t->wait_msg);
	if ((what & TURN_FALLBACK) && t->note != NULL)
		fprintf(stderr, "natter: summarize: %s\n", t->note);
}

static const struct turn_cbs sum_cbs = { sum_update, NULL, NULL };

/* The model that answers: -m, else the session's own; NULL after saying why not. */
static struct model *
sum_model(struct config *cfg, const struct session *s, const char *spec)
{
	struct resolve_ctx ctx = { NULL, NULL, NULL, 0 };
	struct resolved r;
	struct buf line = BUF_INIT;
	char *msg;

	if (spec == NULL && s->model != NULL) {
		/* The session's model, as a model of the session's provider. */
		ctx.provider = s->provider;
		spec = s->model;
	}
	if (resolve_model(cfg, spec, spec == s->model ? &ctx : NULL, &r) != RESOLVE_OK) {
		msg = resolve_message(cfg, spec != NULL ? spec : "", &r);
		fprintf(stderr, "natter: summarize: %s%s\n", text_line(&line, msg),
		    spec == s->model && spec != NULL ? " (-m chooses another model)" : "");
		free(msg);
		buf_free(&line);
		return NULL;
	}
	if (!provider_usable(r.model->provider)) {
		fprintf(stderr, "natter: summarize: %s cannot be used: %s has no key (set %s)\n",
		    text_line(&line, r.model->name), r.model->provider->name,
		    r.model->provider->key_env ? r.model->provider->key_env : "its API key");
		buf_free(&line);
		return NULL;
	}
	buf_free(&line);
	return r.model;
}

/* Load session id as an in-memory copy: whatever the turn does to it stays in memory. */
static struct session *
sum_load(struct store *st, int64_t id)
{
	struct session *s = session_load(st, id);

	if (s == NULL)
		return NULL;
	s->store = NULL;
	s->id = 0;
	return s;
}

/* Whether the session has something the model will see: a comparison round that kept no
 * reply is left out of the history (as the interface leaves it out), which is said on
 * stderr; 0, or -1 after saying there is nothing to summarize. */
static int
sum_check(const struct session *s, int64_t id)
{
	size_t i, rounds = 0, seen = 0;

	for (i = 0; i < s->nmsgs; i++) {
		if (s->msgs[i].compare_group != 0 && s->msgs[i].pick < 0) {
			rounds += s->msgs[i].role == ROLE_USER;
			continue;
		}
		seen++;
	}
	if (seen == 0) {
		fprintf(stderr, "natter: summarize: session %lld has nothing to summarize%s\n",
		    (long long)id, rounds > 0 ? " (its comparisons kept no reply: /pick keeps one)" :
		    "");
		return -1;
	}
	if (rounds > 0)
		fprintf(stderr, "natter: summarize: %zu compared %s that kept no reply %s left out\n",
		    rounds, rounds == 1 ? "round" : "rounds", rounds == 1 ? "is" : "are");
	return 0;
}

/* Stream the turn until it is done; a Ctrl+C cancels it. */
static void
sum_run(struct worker *w, struct session *s, struct turn *t)
{
	struct pollfd pfd[2];
	struct wevent *ev;
	char c;

	pfd[0].fd = worker_fd(w);
	pfd[0].events = POLLIN;
	pfd[1].fd = cli_sigint();
	pfd[1].events = POLLIN;
	while (!t->done) {
		if (poll(pfd, 2, 1000) < 0)
			continue;
		if (pfd[1].revents & POLLIN) {
			while (read(pfd[1].fd, &c, 1) == 1)
				;
			turn_cancel(t);
		}
		while ((ev = worker_next(w)) != NULL) {
			turn_event(t, ev);
			wevent_free(ev);
		}
		session_reply_flush(s);
	}
}

/* How the summary ended: the output finished, the file written, the exit status. */
static int
sum_finish(const struct turn *t, struct sum_out *out, const char *path)
{
	struct buf line = BUF_INIT;

	if (!out->raw) {
		buf_reset(&out->scratch);
		text_filter_finish(&out->tf, &out->scratch);
		sum_emit(out, out->scratch.data, out->scratch.len);
		if (!out->to_file && out->last != 0 && out->last != '\n')
			sum_emit(out, "\n", 1);
		if (out->to_file && out->file.len > 0 && out->file.data[out->file.len - 1] != '\n')
			buf_putc(&out->file, '\n');
	}
	if (t->state == MSG_CANCELLED) {
		fputs("natter: summarize: cancelled\n", stderr);
		return EXIT_INTERRUPTED;
	}
	if (t->state != MSG_COMPLETE) {
		fprintf(stderr, "natter: summarize: %s\n", t->error != NULL ? t->error :
		    "the reply did not finish");
		if (out->to_file)
			fputs("natter: summarize: nothing was written\n", stderr);
		return EXIT_PROVIDER;
	}
	if (out->to_file && export_write(path, buf_str(&out->file)) != 0) {
		fprintf(stderr, "natter: summarize: %s: %s\n", text_line(&line, path),
		    strerror(errno));
		buf_free(&line);
		return 1;
	}
	buf_free(&line);
	return EXIT_OK;
}

/* natter summarize: a summary of a stored session from a model. */
int
cmd_summarize(int argc, char **argv)
{
	struct config_errors errs = { NULL, 0 };
	struct sum_opts o;
	struct sum_out out;
	struct config *cfg = NULL;
	struct store *st = NULL;
	struct session *s = NULL;
	struct turn_env env = { NULL, NULL, NULL };
	struct turn_spec spec;
	struct turn *t;
	struct model *m;
	char *err = NULL;
	int64_t id;
	int rc;

	memset(&o, 0, sizeof(o));
	memset(&out, 0, sizeof(out));
	if ((rc = sum_parse(argc, argv, &o)) >= 0)
		return rc;
	rc = 1;
	if ((st = cli_store("summarize")) == NULL)
		goto out;
	if ((id = cli_session_id(st, "summarize", o.session)) == 0)
		goto out;
	if ((s = sum_load(st, id)) == NULL) {
		fprintf(stderr, "natter: summarize: %s\n", store_error(st));
		goto out;
	}
	store_close(st);
	st = NULL;
	if (sum_check(s, id) != 0)
		goto out;
	cfg = cli_config(&errs);
	if ((m = sum_model(cfg, s, o.model)) == NULL) {
		rc = EXIT_USAGE;
		goto out;
	}
	session_append_user(s, SUMMARIZE_PROMPT);
	out.raw = o.raw;
	out.to_file = o.out != NULL && strcmp(o.out, "-") != 0;
	text_filter_init(&out.tf);
	memset(&spec, 0, sizeof(spec));
	spec.model = m;
	spec.column = -1;
	env.cfg = cfg;
	env.w = worker_start();
	t = turn_start(&env, s, &spec, &sum_cbs, &out, &err);
	if (t == NULL) {
		struct buf line = BUF_INIT;

		fprintf(stderr, "natter: summarize: %s\n", text_line(&line, err));
		buf_free(&line);
		free(err);
		worker_stop(env.w);
		rc = EXIT_USAGE;
		goto out;
	}
	sum_run(env.w, s, t);
	rc = sum_finish(t, &out, o.out);
	if (rc == EXIT_INTERRUPTED || (rc == EXIT_PROVIDER && cli_interrupted()))
		rc = EXIT_INTERRUPTED;
	turn_free(t);
	worker_stop(env.w);
out:
	buf_free(&out.scratch);
	buf_free(&out.file);
	session_free(s);
	if (st != NULL)
		store_close(st);
	config_free(cfg);
	config_errors_free(&errs);
	return rc;
}
