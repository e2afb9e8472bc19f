/*
 * Message vectors in the store (schema 14), for semantic search (semantic.h). A model's
 * key ("PROVIDER/ID[@DIMS]") is a row of vector_models, whose id the vector rows carry and
 * whose upto says how far up the message ids everything has been considered. Each vector
 * is written twice in one transaction: its bytes (message_vectors) and its signs, one bit
 * a dimension (message_vector_bits), which a search scans first because an eighth of the
 * bytes is an eighth of the pages; the few hundred nearest by bits are then read by id
 * for their bytes. Scans hand each row to a callback straight from SQLite's row, so
 * nothing is copied or held. Like store-attach.c this runs off the hot paths, so its
 * statements are prepared per call.
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

/* The id of model key (made when make is set and it is new), its upto in *upto when
 * not NULL; 0 when it is unknown and not made, -1 on failure. */
static int64_t
store_vectors_model(struct store *st, const char *key, int make, int64_t *upto)
{
	sqlite3_stmt *s;
	int64_t id = 0;
	int rc;

	if (make) {
		s = store_vectors_prepare(st, "INSERT OR IGNORE INTO vector_models (key) VALUES (?1)");
		if (s == NULL)
			return -1;
		sqlite3_bind_text(s, 1, key, -1, SQLITE_STATIC);
		rc = sqlite3_step(s);
		sqlite3_finalize(s);
		if (rc != SQLITE_DONE) {
			store_fail(st, "naming an embedding model");
			return -1;
		}
	}
	if ((s = store_vectors_prepare(st, "SELECT id, upto FROM vector_models WHERE key = ?1")) ==
	    NULL)
		return -1;
	sqlite3_bind_text(s, 1, key, -1, SQLITE_STATIC);
	if ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		id = sqlite3_column_int64(s, 0);
		if (upto != NULL)
			*upto = sqlite3_column_int64(s, 1);
	} else if (rc != SQLITE_DONE) {
		store_fail(st, "looking up an embedding model");
		id = -1;
	} else if (upto != NULL) {
		*upto = 0;
	}
	sqlite3_finalize(s);
	return id;
}

/* The newest messages with ids in (above, below) worth a vector (a prompt or a complete
 * reply with text) that have none of model key, at most limit; 0, or -1 with store_error. */
int
store_vectors_pending(struct store *st, const char *key, int64_t above, int64_t below,
    size_t limit, int64_t **ids, char ***texts, size_t *n)
{
	sqlite3_stmt *s;
	int64_t model = store_vectors_model(st, key, 0, NULL);
	size_t len = 0;
	int rc;

	*ids = NULL;
	*texts = NULL;
	*n = 0;
	if (model < 0 || (s = store_vectors_prepare(st,
	    "SELECT m.id, m.content FROM messages m"
	    " WHERE m.id > ?3 AND m.id < ?4"
	    " AND m.role IN ('user', 'assistant') AND m.state = 'complete'"
	    " AND length(m.content) > 0 AND NOT EXISTS (SELECT 1 FROM message_vectors v"
	    "  WHERE v.message_id = m.id AND v.model = ?1)"
	    " ORDER BY m.id DESC LIMIT ?2")) == NULL)
		return -1;
	sqlite3_bind_int64(s, 1, model);
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

/* Write one message's vector (bytes v, dims of them) and its bits with s and b. */
static int
store_vectors_put_one(sqlite3_stmt *s, sqlite3_stmt *b, int64_t model, int64_t id,
    const int8_t *v, size_t dims, unsigned char *bits)
{
	size_t i;
	int rc;

	memset(bits, 0, (dims + 7) / 8);
	for (i = 0; i < dims; i++)
		if (v[i] > 0)
			bits[i / 8] |= (unsigned char)(1u << (i % 8));
	sqlite3_bind_int64(s, 1, id);
	sqlite3_bind_int64(s, 2, model);
	sqlite3_bind_blob(s, 3, v, (int)dims, SQLITE_STATIC);
	sqlite3_bind_int64(b, 1, id);
	sqlite3_bind_int64(b, 2, model);
	sqlite3_bind_blob(b, 3, bits, (int)((dims + 7) / 8), SQLITE_STATIC);
	rc = sqlite3_step(s);
	if (rc == SQLITE_DONE)
		rc = sqlite3_step(b);
	sqlite3_reset(s);
	sqlite3_reset(b);
	return rc == SQLITE_DONE ? 0 : -1;
}

/* Store the vectors of n messages (dims bytes each, back to back in v) made by model key,
 * in one transaction; a message deleted meanwhile is skipped. 0, or -1 with store_error. */
int
store_vectors_put(struct store *st, const char *key, const int64_t *ids,
    const int8_t *v, size_t n, size_t dims)
{
	sqlite3_stmt *s = NULL, *b = NULL;
	unsigned char *bits = xcalloc(dims / 8 + 2, 1);
	int64_t model;
	size_t i;
	int ok = 1;

	if (n == 0) {
		free(bits);
		return 0;
	}
	if (sqlite3_exec(st->db, "SAVEPOINT vectors", NULL, NULL, NULL) != SQLITE_OK) {
		store_fail(st, "storing vectors");
		free(bits);
		return -1;
	}
	model = store_vectors_model(st, key, 1, NULL);
	if (model > 0)
		s = store_vectors_prepare(st, "INSERT OR REPLACE INTO message_vectors (message_id, "
		    "model, vec) SELECT ?1, ?2, ?3 WHERE EXISTS (SELECT 1 FROM messages WHERE id = ?1)");
	if (s != NULL)
		b = store_vectors_prepare(st, "INSERT OR REPLACE INTO message_vector_bits "
		    "(message_id, model, bits) SELECT ?1, ?2, ?3 WHERE EXISTS (SELECT 1 FROM messages "
		    "WHERE id = ?1)");
	ok = b != NULL;
	for (i = 0; ok && i < n; i++)
		ok = store_vectors_put_one(s, b, model, ids[i], v + i * dims, dims, bits) == 0;
	if (!ok && b != NULL)
		store_fail(st, "storing vectors");
	sqlite3_finalize(s);
	sqlite3_finalize(b);
	free(bits);
	if (!ok) {
		sqlite3_exec(st->db, "ROLLBACK TO vectors; RELEASE vectors", NULL, NULL, NULL);
		return -1;
	}
	if (sqlite3_exec(st->db, "RELEASE vectors", NULL, NULL, NULL) != SQLITE_OK) {
		store_fail(st, "storing vectors");
		return -1;
	}
	return 0;
}

/* Call fn for the bits of every vector of model key, in message order; 0, or -1 with
 * store_error. The table is read straight through (its rowid is the message id). */
int
store_vectors_scan_bits(struct store *st, const char *key,
    void (*fn)(void *arg, int64_t id, const unsigned char *bits, size_t len), void *arg)
{
	sqlite3_stmt *s;
	int64_t model = store_vectors_model(st, key, 0, NULL);
	int rc;

	if (model <= 0)
		return model < 0 ? -1 : 0;
	if ((s = store_vectors_prepare(st, "SELECT message_id, bits FROM message_vector_bits "
	    "WHERE model = ?1")) == NULL)
		return -1;
	sqlite3_bind_int64(s, 1, model);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW)
		fn(arg, sqlite3_column_int64(s, 0), sqlite3_column_blob(s, 1),
		    (size_t)sqlite3_column_bytes(s, 1));
	sqlite3_finalize(s);
	if (rc != SQLITE_DONE) {
		store_fail(st, "reading the vectors");
		return -1;
	}
	return 0;
}

/* Call fn for the bytes of the vectors of messages ids[0..n) (of model key; others and
 * deleted ones are left out); 0, or -1 with store_error. */
int
store_vectors_get(struct store *st, const char *key, const int64_t *ids, size_t n,
    void (*fn)(void *arg, int64_t id, const int8_t *v, size_t dims), void *arg)
{
	sqlite3_stmt *s;
	int64_t model = store_vectors_model(st, key, 0, NULL);
	size_t i;
	int rc = SQLITE_DONE;

	if (model <= 0)
		return model < 0 ? -1 : 0;
	if ((s = store_vectors_prepare(st, "SELECT vec FROM message_vectors WHERE message_id = ?1 "
	    "AND model = ?2")) == NULL)
		return -1;
	sqlite3_bind_int64(s, 2, model);
	for (i = 0; i < n; i++) {
		sqlite3_bind_int64(s, 1, ids[i]);
		if ((rc = sqlite3_step(s)) == SQLITE_ROW)
			fn(arg, ids[i], sqlite3_column_blob(s, 0), (size_t)sqlite3_column_bytes(s, 0));
		else if (rc != SQLITE_DONE)
			break;
		sqlite3_reset(s);
	}
	sqlite3_finalize(s);
	if (rc != SQLITE_DONE && rc != SQLITE_ROW) {
		store_fail(st, "reading the vectors");
		return -1;
	}
	return 0;
}

/* How far up the message ids every message has been considered for model key (0: none). */
int64_t
store_vectors_upto(struct store *st, const char *key)
{
	int64_t upto = 0;

	if (store_vectors_model(st, key, 0, &upto) <= 0)
		return 0;
	return upto;
}

/* Every message up to id upto has been considered for model key; 0 or -1. */
int
store_vectors_set_upto(struct store *st, const char *key, int64_t upto)
{
	sqlite3_stmt *s;
	int rc;

	if (store_vectors_model(st, key, 1, NULL) < 0 || (s = store_vectors_prepare(st,
	    "UPDATE vector_models SET upto = max(upto, ?2) WHERE key = ?1")) == NULL)
		return -1;
	sqlite3_bind_text(s, 1, key, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, upto);
	rc = sqlite3_step(s);
	sqlite3_finalize(s);
	if (rc != SQLITE_DONE) {
		store_fail(st, "noting the vectors made");
		return -1;
	}
	return 0;
}

/* How many messages above id above are worth a vector of model key and lack one. */
long
store_vectors_count_pending(struct store *st, const char *key, int64_t above)
{
	sqlite3_stmt *s;
	int64_t model = store_vectors_model(st, key, 0, NULL);
	long n = -1;

	if (model < 0 || (s = store_vectors_prepare(st, "SELECT count(*) FROM messages m"
	    " WHERE m.id > ?2 AND m.role IN ('user', 'assistant') AND m.state = 'complete'"
	    " AND length(m.content) > 0 AND NOT EXISTS (SELECT 1 FROM message_vectors v"
	    "  WHERE v.message_id = m.id AND v.model = ?1)")) == NULL)
		return -1;
	sqlite3_bind_int64(s, 1, model);
	sqlite3_bind_int64(s, 2, above);
	if (sqlite3_step(s) == SQLITE_ROW)
		n = (long)sqlite3_column_int64(s, 0);
	else
		store_fail(st, "counting the messages without vectors");
	sqlite3_finalize(s);
	return n;
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
