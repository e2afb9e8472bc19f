/*
 * Search over the stored messages (store.h's store_search*): a ranked page ranks the newest
 * matching parts at a bounded cost and reads each hit with its snippet, and asking for every
 * hit ranks them all; a page newest first is read straight off the index from a message id
 * down (keyset paging: the next page starts below the last hit), and the count of all hits
 * is a separate walk a caller can run after showing the first page. A query FTS5 refuses
 * is tried again as one phrase.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "store-internal.h"
#include "store-schema.h"
#include "xmalloc.h"

/* How many of the newest matching parts a page of search hits is ranked among. */
#define STORE_SEARCH_WINDOW 2000

/* The best-ranked parts among the newest STORE_SEARCH_WINDOW that match, one per message,
 * at most limit, into *parts (rowids); 0, or -1 on failure. */
static int
store_search_pick(struct store *st, const char *match, size_t limit, int64_t **parts,
    size_t *n)
{
	sqlite3_stmt *s = store_stmt(st, SQL_SEARCH_RANK);
	int64_t *v = xcalloc(limit, sizeof(*v)), r;
	size_t len = 0, i;
	int rc = SQLITE_DONE;

	*parts = NULL;
	*n = 0;
	if (s == NULL) {
		free(v);
		return -1;
	}
	sqlite3_bind_text(s, 1, match, -1, SQLITE_STATIC);
	sqlite3_bind_int(s, 2, STORE_SEARCH_WINDOW);
	while (len < limit && (rc = sqlite3_step(s)) == SQLITE_ROW) {
		r = sqlite3_column_int64(s, 0);
		for (i = 0; i < len && v[i] / STORE_PARTS != r / STORE_PARTS; i++)
			;
		if (i == len)
			v[len++] = r;
	}
	if (len == limit)
		rc = SQLITE_DONE;
	sqlite3_reset(s);
	if (rc != SQLITE_DONE) {
		store_fail(st, "searching");
		free(v);
		return -1;
	}
	*parts = v;
	*n = len;
	return 0;
}

/* One page of hits (limit > 0) at a bounded cost, each with its snippet. */
static int
store_search_page(struct store *st, const char *match, struct message_row **out, size_t *n,
    size_t limit)
{
	sqlite3_stmt *s;
	struct message_row *rows;
	int64_t *parts;
	size_t np, i, len = 0;
	int rc;

	if (store_search_pick(st, match, limit, &parts, &np) != 0)
		return -1;
	rows = xcalloc(np ? np : 1, sizeof(*rows));
	s = store_stmt(st, SQL_SEARCH_ROW);
	for (i = 0; s != NULL && i < np; i++) {
		sqlite3_bind_text(s, 1, match, -1, SQLITE_STATIC);
		sqlite3_bind_int64(s, 2, parts[i]);
		rc = sqlite3_step(s);
		if (rc == SQLITE_ROW)
			store_row_message(s, &rows[len++]);
		sqlite3_reset(s);
		if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
			store_fail(st, "searching");
			store_messages_free(rows, len);
			free(parts);
			return -1;
		}
	}
	free(parts);
	if (s == NULL) {
		store_messages_free(rows, len);
		return -1;
	}
	*out = rows;
	*n = len;
	return 0;
}

/* Run the search statement for one MATCH expression, one row per message (its best part),
 * at most limit rows (0: all). */
static int
store_search_run(struct store *st, const char *match, struct message_row **out, size_t *n,
    size_t limit)
{
	sqlite3_stmt *s = store_stmt(st, SQL_SEARCH);
	struct message_row *rows = NULL;
	size_t len = 0, cap = 0, i;
	int64_t id;
	int rc = SQLITE_DONE;

	if (limit > 0)
		return store_search_page(st, match, out, n, limit);
	if (s == NULL)
		return -1;
	sqlite3_bind_text(s, 1, match, -1, SQLITE_STATIC);
	while ((limit == 0 || len < limit) && (rc = sqlite3_step(s)) == SQLITE_ROW) {
		/* A later row of a message already listed is one of its weaker parts. */
		id = sqlite3_column_int64(s, 0);
		for (i = len; i > 0 && rows[i - 1].id != id; i--)
			;
		if (i > 0)
			continue;
		if (len == cap) {
			cap = cap ? cap * 2 : 16;
			rows = xrealloc(rows, cap * sizeof(*rows));
		}
		store_row_message(s, &rows[len++]);
	}
	if (limit != 0 && len == limit)
		rc = SQLITE_DONE;
	sqlite3_reset(s);
	if (rc != SQLITE_DONE) {
		store_fail(st, "searching");
		store_messages_free(rows, len);
		return -1;
	}
	*out = rows;
	*n = len;
	return 0;
}

/* What one search asks for: a ranked page, a page newest first, or the count. */
struct store_search_job {
	int kind;            /* 0: ranked (store_search), 1: newest first, 2: count */
	int64_t before;      /* kind 1: only messages with a smaller id (0: no bound) */
	size_t limit;
	struct message_row **out;
	size_t *n;
	long count;
};

/* Hits newest first for one MATCH expression: at most limit messages with an id below
 * before (0: from the newest), each with the snippet of its last matching part. */
static int
store_search_newest_run(struct store *st, const char *match, int64_t before, size_t limit,
    struct message_row **out, size_t *n)
{
	sqlite3_stmt *s = store_stmt(st, SQL_SEARCH_NEWEST);
	struct message_row *rows = NULL;
	size_t len = 0, cap = 0;
	int rc = SQLITE_DONE;

	if (s == NULL)
		return -1;
	sqlite3_bind_text(s, 1, match, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, before > 0 && before <= INT64_MAX / STORE_PARTS ?
	    before * STORE_PARTS : INT64_MAX);
	while ((limit == 0 || len < limit) && (rc = sqlite3_step(s)) == SQLITE_ROW) {
		/* A message's parts come one after another: only its first row counts. */
		if (len > 0 && rows[len - 1].id == sqlite3_column_int64(s, 0))
			continue;
		if (len == cap) {
			cap = cap ? cap * 2 : 16;
			rows = xrealloc(rows, cap * sizeof(*rows));
		}
		store_row_message(s, &rows[len++]);
	}
	if (limit != 0 && len == limit)
		rc = SQLITE_DONE;
	sqlite3_reset(s);
	if (rc != SQLITE_DONE) {
		store_fail(st, "searching");
		store_messages_free(rows, len);
		return -1;
	}
	*out = rows;
	*n = len;
	return 0;
}

/* Count the messages one MATCH expression finds (their parts are adjacent in rowid order). */
static int
store_search_count_run(struct store *st, const char *match, long *count)
{
	sqlite3_stmt *s = store_stmt(st, SQL_SEARCH_COUNT);
	int64_t last = -1, id;
	long k = 0;
	int rc;

	if (s == NULL)
		return -1;
	sqlite3_bind_text(s, 1, match, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		id = sqlite3_column_int64(s, 0) / STORE_PARTS;
		if (id != last)
			k++;
		last = id;
	}
	sqlite3_reset(s);
	if (rc != SQLITE_DONE) {
		store_fail(st, "searching");
		return -1;
	}
	*count = k;
	return 0;
}

/* Run a job for one MATCH expression. */
static int
store_search_job_run(struct store *st, const char *match, struct store_search_job *j)
{
	if (j->kind == 1)
		return store_search_newest_run(st, match, j->before, j->limit, j->out, j->n);
	if (j->kind == 2)
		return store_search_count_run(st, match, &j->count);
	return store_search_run(st, match, j->out, j->n, j->limit);
}

/*
 * Run a job for what was typed: the query is FTS5 syntax (words, "phrases", AND, OR, NOT,
 * prefix*); when it does not parse, it is searched again as one quoted phrase so that
 * typing "c++" or "what's (this" still finds something instead of failing.
 */
static int
store_search_job(struct store *st, const char *query, struct store_search_job *j)
{
	struct buf q = BUF_INIT;
	const char *p;
	int rc;

	if (j->out != NULL) {
		*j->out = NULL;
		*j->n = 0;
	}
	j->count = 0;
	if (query == NULL || query[strspn(query, " \t\r\n")] == '\0')
		return 0;
	/* What a command-line natter put off must be findable now. */
	store_index_pending(st);
	if (store_search_job_run(st, query, j) == 0)
		return 0;
	buf_putc(&q, '"');
	for (p = query; *p != '\0'; p++) {
		if (*p == '"')
			buf_putc(&q, '"');
		buf_putc(&q, *p);
	}
	buf_putc(&q, '"');
	rc = store_search_job_run(st, buf_str(&q), j);
	buf_free(&q);
	if (rc == 0)
		st->err[0] = '\0';
	return rc;
}

/* Full-text search, best match first (a page ranks the newest matching parts). */
int
store_search(struct store *st, const char *query, struct message_row **out, size_t *n,
    size_t limit)
{
	struct store_search_job j = {0, 0, limit, out, n, 0};

	return store_search_job(st, query, &j);
}

/* A page of hits newest first, from below message id before (0: the newest). */
int
store_search_newest(struct store *st, const char *query, int64_t before, size_t limit,
    struct message_row **out, size_t *n)
{
	struct store_search_job j = {1, before, limit, out, n, 0};

	return store_search_job(st, query, &j);
}

/* How many messages a query finds. */
int
store_search_count(struct store *st, const char *query, long *count)
{
	struct store_search_job j = {2, 0, 0, NULL, NULL, 0};
	int rc = store_search_job(st, query, &j);

	*count = j.count;
	return rc;
}
