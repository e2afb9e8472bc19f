/*
 * `natter transcribe FILE`: speech to text. The model is a transcription model (or a
 * gemini chat model) chosen by the one resolver like ask's; the file is checked before
 * anything is sent (transcribe.h); the request goes through the worker as a fetch, so key
 * pools, retries and typed errors apply as they do to a chat. The answer goes to stdout or
 * -o FILE in the format asked for, made terminal-safe unless --raw (it is provider text).
 * A first Ctrl+C cancels the request, a second exits at once.
 */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "apierr.h"
#include "buf.h"
#include "cli.h"
#include "cmd.h"
#include "config.h"
#include "media.h"
#include "provider.h"
#include "text.h"
#include "transcribe.h"
#include "worker.h"
#include "xmalloc.h"

/* Options of one invocation. */
struct tr_opts {
	const char *model;
	const char *provider;
	const char *base_url;
	const char *out;
	int format_set;
	int raw;
	struct transcribe_opts o;
};

/* Print the usage summary to f. */
static void
tr_usage(FILE *f)
{
	fputs("usage: natter transcribe [-m MODEL] [-p PROVIDER] [--language L] [--translate]\n"
	    "                         [--format text|json|srt|vtt|verbose_json]\n"
	    "                         [--timestamps word|segment]... [-o FILE] [--raw]\n"
	    "                         [--base-url URL] FILE\n"
	    "Transcribes speech in FILE (wav, mp3, m4a/mp4, ogg/opus, flac, webm; aac and aiff\n"
	    "for gemini) to text. MODEL is a transcription model (models.*.kind), PROVIDER/ID,\n"
	    "or a gemini chat model; without one, the config's first usable transcription\n"
	    "model (Groq's whisper-large-v3-turbo, then OpenAI's whisper-1). --language names\n"
	    "the language spoken (ISO-639-1: en, de, ...); --translate translates the speech\n"
	    "into English instead. --format is the answer's format (text by default;\n"
	    "verbose_json with --timestamps, which asks for word and/or segment timings;\n"
	    "gemini gives text and json only). The text goes to stdout, or to FILE with -o,\n"
	    "made terminal-safe unless --raw.\n", f);
}

/* Parse --timestamps words ("word", "segment", "word,segment") into bits. */
static int
tr_timestamps(const char *s, unsigned *bits)
{
	char *copy = xstrdup(s), *save = NULL, *w;
	int rc = 0;

	for (w = strtok_r(copy, ",", &save); w != NULL; w = strtok_r(NULL, ",", &save)) {
		if (strcmp(w, "word") == 0)
			*bits |= TRANSCRIBE_WORDS;
		else if (strcmp(w, "segment") == 0)
			*bits |= TRANSCRIBE_SEGMENTS;
		else
			rc = -1;
	}
	free(copy);
	return rc;
}

/* Parse the command line; -1 to go on, else the exit status. */
static int
tr_parse(int argc, char **argv, struct tr_opts *o)
{
	enum { O_LANG = 256, O_TRANSLATE, O_FORMAT, O_TS, O_RAW, O_BASE };
	static const struct option longs[] = {
		{ "model", required_argument, NULL, 'm' },
		{ "provider", required_argument, NULL, 'p' },
		{ "output", required_argument, NULL, 'o' },
		{ "language", required_argument, NULL, O_LANG },
		{ "translate", no_argument, NULL, O_TRANSLATE },
		{ "format", required_argument, NULL, O_FORMAT },
		{ "timestamps", required_argument, NULL, O_TS },
		{ "raw", no_argument, NULL, O_RAW },
		{ "base-url", required_argument, NULL, O_BASE },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, ":m:p:o:h", longs, NULL)) != -1) {
		switch (c) {
		case 'm': o->model = optarg; break;
		case 'p': o->provider = optarg; break;
		case 'o': o->out = optarg; break;
		case O_LANG: o->o.language = optarg; break;
		case O_TRANSLATE: o->o.translate = 1; break;
		case O_RAW: o->raw = 1; break;
		case O_BASE: o->base_url = optarg; break;
		case O_FORMAT:
			if (transcribe_format_parse(optarg, &o->o.format) != 0)
				return cli_usage("transcribe",
				    "unknown --format (text, json, srt, vtt, verbose_json): %s", optarg);
			o->format_set = 1;
			break;
		case O_TS:
			if (tr_timestamps(optarg, &o->o.timestamps) != 0)
				return cli_usage("transcribe",
				    "unknown --timestamps (word, segment): %s", optarg);
			break;
		case 'h':
			tr_usage(stdout);
			return EXIT_OK;
		case ':':
			return cli_usage("transcribe",
			    "option needs a value: %s", argv[optind - 1]);
		default:
			cli_bad_arg("transcribe", argv[optind - 1]);
			tr_usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (optind >= argc)
		return cli_usage("transcribe", "name the audio FILE");
	if (optind + 1 < argc)
		return cli_usage("transcribe",
		    "one FILE at a time; unexpected %s", argv[optind + 1]);
	o->o.file = argv[optind];
	/* Timestamps come only in verbose_json: asking for them picks it. */
	if (o->o.timestamps != 0 && !o->format_set)
		o->o.format = TRANSCRIBE_VERBOSE_JSON;
	return -1;
}

/* Write the answer where it goes: stdout, or the -o file. */
static int
tr_write(const struct tr_opts *o, const struct buf *text)
{
	FILE *f;
	int rc = EXIT_OK;

	if (o->out == NULL || strcmp(o->out, "-") == 0) {
		if (cli_write(1, text->data, text->len) != 0) {
			fprintf(stderr, "natter: transcribe: writing the output: %s\n", strerror(errno));
			return EXIT_PROVIDER;
		}
		return EXIT_OK;
	}
	if ((f = fopen(o->out, "w")) == NULL) {
		fprintf(stderr, "natter: transcribe: %s: %s\n", o->out, strerror(errno));
		return EXIT_USAGE;
	}
	if (fwrite(text->data, 1, text->len, f) != text->len)
		rc = EXIT_PROVIDER;
	if (fclose(f) != 0)
		rc = EXIT_PROVIDER;
	if (rc != EXIT_OK)
		fprintf(stderr, "natter: transcribe: %s: %s\n", o->out, strerror(errno));
	return rc;
}

/* Turn the answer into output, made safe unless --raw; the exit status. */
static int
tr_answer(const struct tr_opts *o, const struct provider *p, const struct wevent *ev)
{
	struct buf out = BUF_INIT, safe = BUF_INIT, line = BUF_INIT;
	char *err = NULL;
	int rc;

	if (transcribe_output(p, &o->o, ev->text, ev->len, &out, &err) != 0) {
		fprintf(stderr, "natter: %s: %s\n", p->name, text_line(&line, err));
		free(err);
		buf_free(&out);
		buf_free(&line);
		return EXIT_PROVIDER;
	}
	if (!o->raw) {
		text_sanitize(out.data, out.len, &safe);
		rc = tr_write(o, &safe);
	} else {
		rc = tr_write(o, &out);
	}
	buf_free(&out);
	buf_free(&safe);
	return rc;
}

/* Send the fetch and wait for its answer; the exit status. */
static int
tr_run(const struct tr_opts *o, const struct provider *p, struct worker_fetch *f)
{
	struct worker *w;
	struct wevent *ev;
	struct pollfd pfd[2];
	uint64_t id;
	int rc = -1, cancelled = 0;

	worker_global_init();
	w = worker_start();
	id = worker_fetch(w, f);
	pfd[0].fd = worker_fd(w);
	pfd[0].events = POLLIN;
	pfd[1].fd = cli_sigint();
	pfd[1].events = POLLIN;
	while (rc < 0) {
		if (poll(pfd, 2, -1) < 0 && errno != EINTR)
			break;
		if ((pfd[1].revents & POLLIN) && !cancelled) {
			cancelled = 1;
			worker_cancel(w, id);
		}
		while (rc < 0 && (ev = worker_next(w)) != NULL) {
			if (ev->id == id && ev->type == WEV_RETRY) {
				media_retry(p, ev);
			} else if (ev->id == id && ev->type == WEV_BODY) {
				if (ev->cancelled)
					rc = EXIT_INTERRUPTED;
				else if (ev->error != NULL) {
					media_error(p, ev->error);
					rc = EXIT_PROVIDER;
				} else {
					rc = tr_answer(o, p, ev);
				}
			}
			wevent_free(ev);
		}
	}
	worker_stop(w);
	return rc < 0 ? EXIT_PROVIDER : rc;
}

/* natter transcribe: speech in a file to text. */
int
cmd_transcribe(int argc, char **argv)
{
	struct config_errors errs = { NULL, 0 };
	struct config *cfg;
	struct tr_opts o;
	struct model *m;
	struct worker_fetch *f;
	struct buf line = BUF_INIT;
	char *err = NULL;
	int rc;

	memset(&o, 0, sizeof(o));
	if ((rc = tr_parse(argc, argv, &o)) >= 0)
		return rc;
	cfg = cli_config(&errs);
	if ((m = media_model(cfg, o.model, o.provider, MODEL_TRANSCRIPTION, o.base_url,
	    "transcribe", &rc)) == NULL)
		goto out;
	if (transcribe_check(m->provider, &o.o, &err) != 0 ||
	    (f = transcribe_fetch(m->provider, m->id, &o.o, &err)) == NULL) {
		fprintf(stderr, "natter: transcribe: %s\n", text_line(&line, err));
		free(err);
		rc = EXIT_USAGE;
		goto out;
	}
	rc = tr_run(&o, m->provider, f);
out:
	buf_free(&line);
	config_free(cfg);
	config_errors_free(&errs);
	return rc;
}
