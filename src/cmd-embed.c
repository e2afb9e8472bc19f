/*
 * `natter embed`: texts to vectors. One text from the arguments or standard input, or a
 * batch (--batch FILE: a text a line, or JSON lines with an id and a text) split into
 * requests within the provider's limits (embed.h). The requests go through the worker as
 * fetches, --jobs of them at a time, so key pools, retries and typed errors apply; the
 * vectors are printed in input order as soon as every earlier one is in, so memory holds
 * only what waits for a slower request. A request that fails for good ends the command:
 * the requests before it still finish and print (whole vectors, in order; a json document
 * is then left open), the later ones are cancelled, and the exit status is 1.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "apierr.h"
#include "buf.h"
#include "cli.h"
#include "cmd.h"
#include "config.h"
#include "embed.h"
#include "media.h"
#include "provider.h"
#include "text.h"
#include "worker.h"
#include "xmalloc.h"

/* Largest batch file (or standard input) read. */
#define EMB_MAX_INPUT ((size_t)1 << 30)
/* Output is written in pieces of about this size. */
#define EMB_FLUSH (1u << 20)
#define EMB_JOBS 4
#define EMB_MAX_JOBS 64

enum emb_format { EMB_JSON, EMB_JSONL, EMB_TSV };

/* Options of one invocation. */
struct emb_opts {
	const char *model;
	const char *provider;
	const char *base_url;
	const char *batch;
	const char *out;
	long dimensions;
	long jobs;
	enum emb_format format;
};

/* One request of the batch. */
struct emb_req {
	size_t from, to;
	uint64_t id;          /* 0 until sent */
	int done;             /* its vectors are in */
	struct embed_vecs v;
};

/* The state of one run. */
struct emb_run {
	const struct emb_opts *o;
	const struct model *m;
	struct embed_list *texts;
	struct emb_req *reqs;
	size_t nreqs;
	size_t sent, printed;   /* requests sent, and printed (in order) */
	size_t inflight;
	int fd;                 /* where the output goes */
	struct buf out;
	long tokens;            /* input tokens reported, -1 once one request reported none */
	int failed;
	size_t fail_at;         /* the request that failed (earlier ones still print);
	                         * SIZE_MAX after Ctrl+C, when nothing more prints */
	int write_error;
};

/* Print the usage summary to f. */
static void
emb_usage(FILE *f)
{
	fputs("usage: natter embed [-m MODEL] [-p PROVIDER] [--dimensions N]\n"
	    "                    [--format json|jsonl|tsv] [--batch FILE] [--jobs N] [-o FILE]\n"
	    "                    [--base-url URL] [TEXT... | -]\n"
	    "Embeds TEXT (the words joined by spaces; - or no TEXT: standard input), or with\n"
	    "--batch every line of FILE (- for standard input): a text a line, or JSON lines\n"
	    "{\"id\": ..., \"text\": \"...\"}. MODEL is an embedding model (models.*.kind) or\n"
	    "PROVIDER/ID; without one, the config's first usable embedding model. A batch is\n"
	    "split into requests of at most providers.*.embed_batch texts (2048 openai, 100\n"
	    "gemini, 512 ollama), --jobs at a time (4), and printed in input order.\n"
	    "--dimensions asks for shorter vectors where the model can. --format: json (one\n"
	    "document: model, data [{index, id, embedding}], usage), jsonl (one object a\n"
	    "line) or tsv (the id, else the index, then the numbers).\n", f);
}

/* Parse the command line; -1 to go on, else the exit status. */
static int
emb_parse(int argc, char **argv, struct emb_opts *o)
{
	enum { O_DIM = 256, O_FORMAT, O_BATCH, O_JOBS, O_BASE };
	static const struct option longs[] = {
		{ "model", required_argument, NULL, 'm' },
		{ "provider", required_argument, NULL, 'p' },
		{ "output", required_argument, NULL, 'o' },
		{ "dimensions", required_argument, NULL, O_DIM },
		{ "format", required_argument, NULL, O_FORMAT },
		{ "batch", required_argument, NULL, O_BATCH },
		{ "jobs", required_argument, NULL, O_JOBS },
		{ "base-url", required_argument, NULL, O_BASE },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	opterr = 0;
	optind = 1;
	o->jobs = EMB_JOBS;
	while ((c = getopt_long(argc, argv, ":m:p:o:h", longs, NULL)) != -1) {
		switch (c) {
		case 'm': o->model = optarg; break;
		case 'p': o->provider = optarg; break;
		case 'o': o->out = optarg; break;
		case O_BATCH: o->batch = optarg; break;
		case O_BASE: o->base_url = optarg; break;
		case O_DIM:
			if (cli_long(optarg, 1, 100000, &o->dimensions) != 0)
				return cli_usage("embed",
				    "--dimensions takes a number from 1 to 100000, not %s", optarg);
			break;
		case O_JOBS:
			if (cli_long(optarg, 1, EMB_MAX_JOBS, &o->jobs) != 0)
				return cli_usage("embed",
				    "--jobs takes a number from 1 to 64, not %s", optarg);
			break;
		case O_FORMAT:
			if (strcmp(optarg, "json") == 0)
				o->format = EMB_JSON;
			else if (strcmp(optarg, "jsonl") == 0)
				o->format = EMB_JSONL;
			else if (strcmp(optarg, "tsv") == 0)
				o->format = EMB_TSV;
			else
				return cli_usage("embed",
				    "unknown --format (json, jsonl, tsv): %s", optarg);
			break;
		case 'h':
			emb_usage(stdout);
			return EXIT_OK;
		case ':':
			return cli_usage("embed", "option needs a value: %s", argv[optind - 1]);
		default:
			cli_bad_arg("embed", argv[optind - 1]);
			emb_usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (o->batch != NULL && optind < argc)
		return cli_usage("embed",
		    "--batch takes the texts from FILE; unexpected %s", argv[optind]);
	return -1;
}

/* Read the batch file (or standard input for "-"); NULL after saying why. */
static char *
emb_slurp(const char *path, size_t *len)
{
	struct buf b = BUF_INIT;
	char chunk[65536];
	ssize_t n;
	int fd = strcmp(path, "-") == 0 ? 0 : open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0) {
		fprintf(stderr, "natter: embed: %s: %s\n", path, strerror(errno));
		return NULL;
	}
	while ((n = read(fd, chunk, sizeof(chunk))) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 || b.len + (size_t)n > EMB_MAX_INPUT) {
			fprintf(stderr, "natter: embed: %s: %s\n", path, n < 0 ? strerror(errno) :
			    "larger than 1 GiB");
			buf_free(&b);
			if (fd != 0)
				close(fd);
			return NULL;
		}
		buf_append(&b, chunk, (size_t)n);
	}
	if (fd != 0)
		close(fd);
	*len = b.len;
	return buf_detach(&b);
}

/* The texts to embed: the batch, or the one text of the arguments or standard input. */
static int
emb_texts(int argc, char **argv, const struct emb_opts *o, struct embed_list *l)
{
	char *data, *err = NULL;
	struct buf line = BUF_INIT;
	size_t len;
	int rc = 0;

	if (o->batch != NULL) {
		if ((data = emb_slurp(o->batch, &len)) == NULL)
			return EXIT_USAGE;
		if (embed_read(data, len, l, &err) != 0) {
			fprintf(stderr, "natter: embed: %s: %s\n", strcmp(o->batch, "-") == 0 ?
			    "standard input" : o->batch, text_line(&line, err));
			rc = EXIT_USAGE;
		}
		free(data);
		free(err);
		buf_free(&line);
		return rc;
	}
	data = cli_prompt(argc, argv, optind);
	len = data != NULL ? strlen(data) : 0;
	/* A piped text usually ends with a newline that is not part of it. */
	while (len > 0 && (data[len - 1] == '\n' || data[len - 1] == '\r'))
		len--;
	if (len == 0)
		rc = cli_usage("embed",
		    "nothing to embed: give TEXT, - for standard input, or --batch FILE");
	else if (embed_read_one(data, len, l, &err) != 0) {
		fprintf(stderr, "natter: embed: %s\n", text_line(&line, err));
		rc = EXIT_USAGE;
	}
	free(data);
	free(err);
	buf_free(&line);
	return rc;
}

/* Write what the output buffer holds (all of it when force, else past EMB_FLUSH). */
static void
emb_flush(struct emb_run *r, int force)
{
	if (r->out.len == 0 || (!force && r->out.len < EMB_FLUSH))
		return;
	if (!r->write_error && cli_write(r->fd, r->out.data, r->out.len) != 0) {
		fprintf(stderr, "natter: embed: writing the output: %s\n", strerror(errno));
		r->write_error = 1;
	}
	buf_reset(&r->out);
}

/* Append text i's id for tsv: its own (tabs and line breaks made spaces), else its index. */
static void
emb_tsv_id(struct buf *b, const struct embed_text *t, size_t i)
{
	struct buf safe = BUF_INIT;
	size_t k;

	if (t->id_text == NULL) {
		buf_printf(b, "%zu", i);
		return;
	}
	text_sanitize_line(t->id_text, strlen(t->id_text), &safe);
	for (k = 0; k < safe.len; k++)
		if (safe.data[k] == '\t')
			safe.data[k] = ' ';
	buf_append(b, safe.data, safe.len);
	buf_free(&safe);
}

/* Append the vectors of request q, in the chosen format. */
static void
emb_print_req(struct emb_run *r, const struct emb_req *q)
{
	struct buf *b = &r->out;
	size_t k, i, n;
	const char *p;

	for (k = 0; k < q->v.n; k++) {
		i = q->from + k;
		p = q->v.nums.data + q->v.off[k];
		n = q->v.len[k];
		if (r->o->format == EMB_TSV) {
			emb_tsv_id(b, &r->texts->v[i], i);
			buf_putc(b, '\t');
			buf_reserve(b, b->len + n + 1);
			for (; n > 0; n--, p++)
				b->data[b->len++] = *p == ',' ? '\t' : *p;
			buf_putc(b, '\n');
		} else {
			if (r->o->format == EMB_JSON && i > 0)
				buf_puts(b, ",\n");
			buf_printf(b, "{\"index\":%zu", i);
			if (r->texts->v[i].id != NULL) {
				buf_puts(b, ",\"id\":");
				buf_puts(b, r->texts->v[i].id);
			}
			buf_puts(b, ",\"embedding\":[");
			buf_append(b, p, n);
			buf_puts(b, r->o->format == EMB_JSON ? "]}" : "]}\n");
		}
		emb_flush(r, 0);
	}
}

/* Print every request whose turn has come, in order, and free its vectors. */
static void
emb_print_ready(struct emb_run *r)
{
	struct emb_req *q;

	while (r->printed < r->nreqs && r->reqs[r->printed].done) {
		q = &r->reqs[r->printed++];
		if (q->v.tokens < 0)
			r->tokens = -1;
		else if (r->tokens >= 0)
			r->tokens += q->v.tokens;
		emb_print_req(r, q);
		embed_vecs_free(&q->v);
	}
}

/* Send requests while the --jobs allow and the batch has more. */
static void
emb_send(struct emb_run *r, struct worker *w)
{
	struct emb_req *q;

	while (!r->failed && r->sent < r->nreqs && r->inflight < (size_t)r->o->jobs) {
		q = &r->reqs[r->sent++];
		q->id = worker_fetch(w, embed_fetch(r->m->provider, r->m->id, r->texts, q->from,
		    q->to, r->o->dimensions > 0 ? r->o->dimensions : r->m->dimensions));
		r->inflight++;
	}
}

/* The request an event belongs to, or NULL. */
static struct emb_req *
emb_find(struct emb_run *r, uint64_t id)
{
	size_t i;

	for (i = r->printed; i < r->sent; i++)
		if (r->reqs[i].id == id)
			return &r->reqs[i];
	return NULL;
}

/* Stop the requests after request at that are still out: a failure of request at lets
 * the ones before it finish and print; Ctrl+C (at SIZE_MAX) stops them all. */
static void
emb_cancel_after(struct emb_run *r, struct worker *w, size_t at)
{
	size_t i;

	r->failed = 1;
	r->fail_at = at;
	for (i = r->printed; i < r->sent; i++)
		if (!r->reqs[i].done && (at == SIZE_MAX || i > at))
			worker_cancel(w, r->reqs[i].id);
}

/* Take one answer: its vectors, or the failure that ends the run. */
static void
emb_body(struct emb_run *r, struct worker *w, struct emb_req *q, const struct wevent *ev)
{
	const struct provider *p = r->m->provider;
	struct buf line = BUF_INIT;
	char *err = NULL;

	r->inflight--;
	q->done = 1;
	if (ev->cancelled || (r->failed && (r->fail_at == SIZE_MAX ||
	    (size_t)(q - r->reqs) > r->fail_at))) {
		q->done = 0;
		return;
	}
	if (ev->error != NULL) {
		media_error(p, ev->error);
	} else if (embed_parse(p, ev->text, ev->len, q->to - q->from, &q->v, &err) != 0) {
		fprintf(stderr, "natter: %s: texts %zu-%zu: %s\n", p->name, q->from, q->to - 1,
		    text_line(&line, err));
		free(err);
		buf_free(&line);
	} else {
		emb_print_ready(r);
		return;
	}
	q->done = 0;
	if (!r->failed || (size_t)(q - r->reqs) < r->fail_at)
		emb_cancel_after(r, w, (size_t)(q - r->reqs));
}

/* Send the batch and print its vectors; the exit status. */
static int
emb_run(struct emb_run *r)
{
	struct worker *w;
	struct wevent *ev;
	struct emb_req *q;
	struct pollfd pfd[2];
	int interrupted = 0;

	worker_global_init();
	w = worker_start();
	if (r->o->format == EMB_JSON) {
		char *full = xasprintf("%s/%s", r->m->provider->name, r->m->id);

		buf_puts(&r->out, "{\"model\":");
		buf_json_string(&r->out, full, strlen(full));
		buf_puts(&r->out, ",\"data\":[\n");
		free(full);
	}
	pfd[0].fd = worker_fd(w);
	pfd[0].events = POLLIN;
	pfd[1].fd = cli_sigint();
	pfd[1].events = POLLIN;
	emb_send(r, w);
	while (r->inflight > 0) {
		if (poll(pfd, 2, -1) < 0 && errno != EINTR)
			break;
		if ((pfd[1].revents & POLLIN) && !interrupted) {
			interrupted = 1;
			emb_cancel_after(r, w, SIZE_MAX);
		}
		while ((ev = worker_next(w)) != NULL) {
			if ((q = emb_find(r, ev->id)) != NULL) {
				if (ev->type == WEV_RETRY && !r->failed)
					media_retry(r->m->provider, ev);
				else if (ev->type == WEV_BODY)
					emb_body(r, w, q, ev);
			}
			wevent_free(ev);
		}
		emb_send(r, w);
	}
	if (!r->failed && r->o->format == EMB_JSON) {
		buf_puts(&r->out, "\n],\"usage\":");
		if (r->tokens >= 0)
			buf_printf(&r->out, "{\"input_tokens\":%ld}}\n", r->tokens);
		else
			buf_puts(&r->out, "null}\n");
	}
	emb_flush(r, 1);
	worker_stop(w);
	if (interrupted)
		return EXIT_INTERRUPTED;
	return r->failed || r->write_error ? EXIT_PROVIDER : EXIT_OK;
}

/* Split the texts into requests. */
static void
emb_plan(struct emb_run *r)
{
	size_t from = 0, to;

	while (from < r->texts->n) {
		to = embed_split(r->m->provider, r->texts, from);
		r->reqs = xrealloc(r->reqs, (r->nreqs + 1) * sizeof(*r->reqs));
		memset(&r->reqs[r->nreqs], 0, sizeof(*r->reqs));
		r->reqs[r->nreqs].from = from;
		r->reqs[r->nreqs].to = to;
		r->nreqs++;
		from = to;
	}
}

/* natter embed: texts to vectors. */
int
cmd_embed(int argc, char **argv)
{
	struct config_errors errs = { NULL, 0 };
	struct config *cfg = NULL;
	struct embed_list texts = { NULL, 0 };
	struct emb_opts o;
	struct emb_run r;
	struct model *m;
	char *err = NULL;
	size_t i;
	int rc;

	memset(&o, 0, sizeof(o));
	memset(&r, 0, sizeof(r));
	if ((rc = emb_parse(argc, argv, &o)) >= 0)
		return rc;
	cfg = cli_config(&errs);
	if ((m = media_model(cfg, o.model, o.provider, MODEL_EMBEDDING, o.base_url, "embed",
	    &rc)) == NULL)
		goto out;
	if (embed_supported(m->provider, &err) != 0) {
		fprintf(stderr, "natter: embed: %s\n", err);
		free(err);
		rc = EXIT_USAGE;
		goto out;
	}
	if ((rc = emb_texts(argc, argv, &o, &texts)) != 0)
		goto out;
	r.fd = 1;
	if (o.out != NULL && strcmp(o.out, "-") != 0 &&
	    (r.fd = open(o.out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666)) < 0) {
		fprintf(stderr, "natter: embed: %s: %s\n", o.out, strerror(errno));
		rc = EXIT_USAGE;
		goto out;
	}
	r.o = &o;
	r.m = m;
	r.texts = &texts;
	emb_plan(&r);
	rc = emb_run(&r);
	if (r.fd > 1 && close(r.fd) != 0 && rc == EXIT_OK) {
		fprintf(stderr, "natter: embed: %s: %s\n", o.out, strerror(errno));
		rc = EXIT_PROVIDER;
	}
out:
	for (i = 0; i < r.nreqs; i++)
		embed_vecs_free(&r.reqs[i].v);
	free(r.reqs);
	buf_free(&r.out);
	embed_list_free(&texts);
	config_free(cfg);
	config_errors_free(&errs);
	return rc;
}
