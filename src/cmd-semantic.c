/*
 * `natter sessions search --semantic QUERY`: the stored messages most like the query by
 * meaning. It first embeds the messages that have no vector yet with embedding_model
 * (newest first, a batch at a time, each batch stored as it comes, so Ctrl+C or a failure
 * keeps what is done and the next search goes on from there; a failure is said and the
 * search runs over what has vectors), then embeds the query and prints the best hits
 * with their similarity, in the listing's form.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "apierr.h"
#include "buf.h"
#include "cli.h"
#include "cmd.h"
#include "config.h"
#include "media.h"
#include "provider.h"
#include "semantic.h"
#include "store.h"
#include "text.h"
#include "worker.h"
#include "xmalloc.h"

#define SEMANTIC_CMD_WIDTH 160  /* the columns of a hit's text, on one line */

/* Wait for worker events and hand each to fn; stops when fn returns 0 or on Ctrl+C (-1). */
static int
semantic_cmd_wait(struct worker *w, int (*fn)(void *arg, struct wevent *ev), void *arg)
{
	struct pollfd pfd[2] = { { worker_fd(w), POLLIN, 0 }, { cli_sigint(), POLLIN, 0 } };
	struct wevent *ev;
	int more = 1;

	while (more) {
		if (poll(pfd, 2, -1) < 0 && errno != EINTR)
			return -1;
		if (pfd[1].revents & POLLIN)
			return -1;
		while (more && (ev = worker_next(w)) != NULL) {
			more = fn(arg, ev);
			wevent_free(ev);
		}
	}
	return 0;
}

struct semantic_cmd {
	const struct model *m;
	struct semantic_ix *ix;
	struct worker *w;
	uint64_t query;            /* the query's fetch */
	int8_t *q;
	size_t dims;
	char *err;
};

/* An event of the catch-up: 0 once nothing is left to embed. */
static int
semantic_cmd_index(void *arg, struct wevent *ev)
{
	struct semantic_cmd *c = arg;

	if (ev->type == WEV_RETRY)
		media_retry(c->m->provider, ev);
	if (!semantic_ix_event(c->ix, ev) || ev->type != WEV_BODY)
		return 1;
	return semantic_ix_step(c->ix, c->w);
}

/* An event of the query's fetch: 0 once its answer is in. */
static int
semantic_cmd_query(void *arg, struct wevent *ev)
{
	struct semantic_cmd *c = arg;

	if (ev->id != c->query)
		return 1;
	if (ev->type == WEV_RETRY) {
		media_retry(c->m->provider, ev);
		return 1;
	}
	if (ev->type != WEV_BODY)
		return 1;
	if (ev->error != NULL)
		media_error(c->m->provider, ev->error);
	else if (semantic_query_vec(c->m, ev, &c->q, &c->dims, &c->err) != 0)
		fprintf(stderr, "natter: %s: the query's vector: %s\n", c->m->provider->name,
		    c->err);
	return 0;
}

/* Embed what has no vector yet, saying how many; 0, or -1 when interrupted. */
static int
semantic_cmd_catch_up(struct semantic_cmd *c, struct store *st, const char *key)
{
	int64_t upto = store_vectors_upto(st, key);
	long pending = store_vectors_count_pending(st, key, upto);
	const char *why;

	/* Caught up (the usual case): only what came after the mark is counted. */
	if (pending == 0) {
		store_vectors_set_upto(st, key, store_vectors_top(st));
		return 0;
	}
	if (pending > 0)
		fprintf(stderr, "natter: embedding %ld messages with %s for semantic search "
		    "(done ones are kept if this stops)\n", pending, c->m->name);
	if (semantic_ix_step(c->ix, c->w) && semantic_cmd_wait(c->w, semantic_cmd_index, c) != 0)
		return -1;
	if ((why = semantic_ix_error(c->ix)) != NULL) {
		struct buf line = BUF_INIT;

		fprintf(stderr, "natter: %s: could not embed the rest (%s); searching the messages "
		    "embedded before\n", c->m->provider->name, text_line(&line, why));
		buf_free(&line);
	}
	return 0;
}

/* Print hits as the listing does, with their similarity. */
static void
semantic_cmd_print(struct store *st, const struct semantic_hit *h, size_t n)
{
	int64_t *ids = xcalloc(n + 1, sizeof(*ids));
	struct message_row *rows;
	struct buf b = BUF_INIT, fit = BUF_INIT;
	size_t i, k, nrows;
	char when[32];

	for (i = 0; i < n; i++)
		ids[i] = h[i].id;
	if (store_vectors_rows(st, ids, n, &rows, &nrows) != 0)
		fprintf(stderr, "natter: %s\n", store_error(st));
	for (i = k = 0; i < nrows; i++) {
		time_t t = (time_t)(rows[i].created / 1000);
		struct tm tm;

		while (k < n && h[k].id != rows[i].id)
			k++;
		localtime_r(&t, &tm);
		strftime(when, sizeof when, "%Y-%m-%d %H:%M", &tm);
		buf_reset(&b);
		buf_reset(&fit);
		text_sanitize_line(rows[i].content, strlen(rows[i].content), &b);
		text_fit_end(buf_str(&b), b.len, SEMANTIC_CMD_WIDTH, &fit);
		printf("%6lld  %s  %-9s  %5.3f  %s\n", (long long)rows[i].session_id, when,
		    store_role_name(rows[i].role), k < n ? h[k].score : 0.0, buf_str(&fit));
	}
	buf_free(&b);
	buf_free(&fit);
	store_messages_free(rows, nrows);
	free(ids);
}

/* natter sessions search --semantic [-n N] QUERY */
int
cmd_semantic_search(const char *query, size_t limit)
{
	struct config_errors errs = { NULL, 0 };
	struct config *cfg = cli_config(&errs);
	struct semantic_cmd c;
	struct semantic_hit *hits = NULL;
	struct store *st = NULL;
	char *err = NULL, *key = NULL;
	size_t n = 0;
	int rc = EXIT_PROVIDER;

	memset(&c, 0, sizeof c);
	if ((c.m = semantic_model(cfg, &err)) == NULL) {
		fprintf(stderr, "natter: sessions search --semantic: %s\n", err);
		free(err);
		rc = EXIT_CONFIG;
		goto out;
	}
	if ((st = store_open(NULL, &err)) == NULL) {
		fprintf(stderr, "natter: %s\n", err);
		free(err);
		goto out;
	}
	key = semantic_key(c.m);
	worker_global_init();
	c.w = worker_start();
	c.ix = semantic_ix_new(c.m, st, store_vectors_upto(st, key));
	if (semantic_cmd_catch_up(&c, st, key) != 0) {
		rc = EXIT_INTERRUPTED;
		goto out;
	}
	c.query = worker_fetch(c.w, semantic_query(c.m, query));
	if (semantic_cmd_wait(c.w, semantic_cmd_query, &c) != 0) {
		rc = EXIT_INTERRUPTED;
		goto out;
	}
	if (c.q == NULL)
		goto out;
	if (semantic_search(st, key, c.q, c.dims, limit, &hits, &n) != 0) {
		fprintf(stderr, "natter: %s\n", store_error(st));
		goto out;
	}
	semantic_cmd_print(st, hits, n);
	rc = EXIT_OK;
out:
	semantic_ix_free(c.ix, c.w);
	if (c.w != NULL)
		worker_stop(c.w);
	free(hits);
	free(c.q);
	free(c.err);
	free(key);
	if (st != NULL)
		store_close(st);
	config_free(cfg);
	config_errors_free(&errs);
	return rc;
}
