/*
 * Message vectors in the store (schema 14), for semantic search (semantic.h): which
 * messages still lack a vector of a model, writing one, and a scan over every vector of a
 * model. A vector is one signed byte a dimension; the scan hands each to a callback
 * straight from SQLite's row, so nothing is copied or held. Like store-attach.c this runs
 * off the hot paths, so its statements are prepared per call.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "store-internal.h"
#include "xmalloc.h"

/* Prepare sql on st's connection; NULL with st->err on failure. */
static sqlite3_stmt *
store_vectors_prepare(struct store *st, const char *sql)
{
	sqlite3_stmt *s = NULL;

	if (sqlite3_prepare_v2(st->db, sql, -1, &s, NULL) != SQLITE_OK) {
		store_fail(st, "preparing a vector statement");
		sqlite3_finalize(s);
		return NULL;
	}
	return s;
}

/* The newest messages with ids in (above, below) worth a vector (a prompt or a complete
 * reply with text) that have none of model, at most limit; 0, or -1 with store_error. */
int
store_vectors_pending(struct store *st, const char *model, int64_t above, int64_t below,
    size_t limit, int64_t **ids, char ***texts, size_t *n)
{
	sqlite3_stmt *s = store_vectors_prepare(st,
	    "SELECT m.id, m.content FROM messages m"
	    " WHERE m.id > ?3 AND m.id < ?4"
	    " AND m.role IN ('user', 'assistant') AND m.state = 'complete'"
	    " AND length(m.content) > 0 AND NOT EXISTS (SELECT 1 FROM message_vectors v"
	    "  WHERE v.message_id = m.id AND v.model = ?1)"
	    " ORDER BY m.id DESC LIMIT ?2");
	size_t len = 0;
	int rc;

	*ids = NULL;
	*texts = NULL;
	*n = 0;
	if (s == NULL)
		return -1;
	sqlite3_bind_text(s, 1, model, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, (sqlite3_int64)limit);
	sqlite3_bind_int64(s, 3, above);
	sqlite3_bind_int64(s, 4, below);
	*ids = xcalloc(limit + 1, sizeof(**ids));
	*texts = xcalloc(limit + 1, sizeof(**texts));
	while ((rc = sqlite3_step(s)) == SQLITE_ROW && len < limit) {
		const char *t = (const char *)sqlite3_column_text(s, 1);

		(*ids)[len] = sqlite3_column_int64(s, 0);
		(*texts)[len++] = xstrdup(t != NULL ? t : "");
	}
	if (rc != SQLITE_DONE && rc != SQLITE_ROW) {
		store_fail(st, "listing the messages without vectors");
		sqlite3_finalize(s);
		store_vectors_pending_free(*ids, *texts, len);
		*ids = NULL;
		*texts = NULL;
		return -1;
	}
	sqlite3_finalize(s);
	*n = len;
	return 0;
}

/* Free what store_vectors_pending returned. */
void
store_vectors_pending_free(int64_t *ids, char **texts, size_t n)
{
	size_t i;

	for (i = 0; texts != NULL && i < n; i++)
		free(texts[i]);
	free(texts);
	free(ids);
}

/* Store the vectors of n messages (dims bytes each, back to back in v) made by model, in
 * one transaction; a message deleted meanwhile is skipped. 0, or -1 with store_error. */
int
store_vectors_put(struct store *st, const char *model, const int64_t *ids,
    const int8_t *v, size_t n, size_t dims)
{
	sqlite3_stmt *s;
	size_t i;
	int rc = SQLITE_DONE;

	if (n == 0)
		return 0;
	if (sqlite3_exec(st->db, "SAVEPOINT vectors", NULL, NULL, NULL) != SQLITE_OK) {
		store_fail(st, "storing vectors");
		return -1;
	}
	s = store_vectors_prepare(st, "INSERT OR REPLACE INTO message_vectors (message_id, "
	    "model, vec) SELECT ?1, ?2, ?3 WHERE EXISTS (SELECT 1 FROM messages WHERE id = ?1)");
	for (i = 0; s != NULL && i < n; i++) {
		sqlite3_bind_int64(s, 1, ids[i]);
		sqlite3_bind_text(s, 2, model, -1, SQLITE_STATIC);
		sqlite3_bind_blob(s, 3, v + i * dims, (int)dims, SQLITE_STATIC);
		if ((rc = sqlite3_step(s)) != SQLITE_DONE)
			break;
		sqlite3_reset(s);
	}
	if (s == NULL || rc != SQLITE_DONE) {
		if (s != NULL)
			store_fail(st, "storing vectors");
		sqlite3_finalize(s);
		sqlite3_exec(st->db, "ROLLBACK TO vectors; RELEASE vectors", NULL, NULL, NULL);
		return -1;
	}
	sqlite3_finalize(s);
	if (sqlite3_exec(st->db, "RELEASE vectors", NULL, NULL, NULL) != SQLITE_OK) {
		store_fail(st, "storing vectors");
		return -1;
	}
	return 0;
}

/* Call fn for every vector of model, in message order; 0, or -1 with store_error. */
int
store_vectors_scan(struct store *st, const char *model,
    void (*fn)(void *arg, int64_t id, const int8_t *v, size_t dims), void *arg)
{
	sqlite3_stmt *s = store_vectors_prepare(st,
	    "SELECT message_id, vec FROM message_vectors WHERE model = ?1");
	int rc;

	if (s == NULL)
		return -1;
	sqlite3_bind_text(s, 1, model, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW)
		fn(arg, sqlite3_column_int64(s, 0), sqlite3_column_blob(s, 1),
		    (size_t)sqlite3_column_bytes(s, 1));
	if (rc != SQLITE_DONE) {
		store_fail(st, "reading the vectors");
		sqlite3_finalize(s);
		return -1;
	}
	sqlite3_finalize(s);
	return 0;
}

/* How many messages have a vector of model, and how many are worth one; -1 on failure. */
int
store_vectors_count(struct store *st, const char *model, long *have, long *worth)
{
	sqlite3_stmt *s = store_vectors_prepare(st,
	    "SELECT (SELECT count(*) FROM message_vectors WHERE model = ?1),"
	    " (SELECT count(*) FROM messages WHERE role IN ('user', 'assistant')"
	    "  AND state = 'complete' AND length(content) > 0)");

	if (s == NULL)
		return -1;
	sqlite3_bind_text(s, 1, model, -1, SQLITE_STATIC);
	if (sqlite3_step(s) != SQLITE_ROW) {
		store_fail(st, "counting the vectors");
		sqlite3_finalize(s);
		return -1;
	}
	*have = (long)sqlite3_column_int64(s, 0);
	*worth = (long)sqlite3_column_int64(s, 1);
	sqlite3_finalize(s);
	return 0;
}

/* Read messages ids[0..n) into *out in that order (a deleted one is left out); 0, or -1
 * with store_error. The rows are freed with store_messages_free. */
int
store_vectors_rows(struct store *st, const int64_t *ids, size_t n, struct message_row **out,
    size_t *nout)
{
	sqlite3_stmt *s = store_vectors_prepare(st, "SELECT " MESSAGE_COLUMNS
	    ", m.content, m.reasoning FROM messages m WHERE m.id = ?1");
	size_t i, len = 0;
	int rc;

	*out = xcalloc(n + 1, sizeof(**out));
	*nout = 0;
	if (s == NULL)
		return -1;
	for (i = 0; i < n; i++) {
		sqlite3_bind_int64(s, 1, ids[i]);
		if ((rc = sqlite3_step(s)) == SQLITE_ROW)
			store_row_message(s, &(*out)[len++]);
		else if (rc != SQLITE_DONE)
			break;
		sqlite3_reset(s);
	}
	sqlite3_finalize(s);
	*nout = len;
	if (i < n) {
		store_fail(st, "reading the messages found");
		return -1;
	}
	return 0;
}

/* The newest message's id, 0 when there is none (or on failure). */
int64_t
store_vectors_top(struct store *st)
{
	sqlite3_stmt *s = store_vectors_prepare(st, "SELECT max(id) FROM messages");
	int64_t id = 0;

	if (s != NULL && sqlite3_step(s) == SQLITE_ROW)
		id = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	return id;
}
