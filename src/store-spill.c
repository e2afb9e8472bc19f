/*
 * Long replies, stored as they arrive (schema 17). A reply is written while it streams so
 * that a crash loses a fraction of a second of it. Rewriting messages.content at every
 * flush costs the whole text each time: quadratic in the reply's length (a 100 MB reply
 * wrote gigabytes to the WAL) and, worse, SQLite builds each new record in memory, so
 * every write of a 100 MB text took another 100 MB. Once a reply is longer than
 * STORE_SPILL_AT, its writer stops rewriting the content column (which keeps the text as
 * it was then: the head) and appends what came since as rows of message_spill, each at
 * most STORE_SPILL_ROW bytes, in id order. The text of a message is its content followed
 * by its spill rows; writing costs the new bytes only, and no statement ever holds more
 * than one row, so `natter ask` can store a reply of any length without keeping it.
 *
 * Rejected: UPDATE ... SET content = content || ? (SQLite reads and writes the whole value
 * each time: the same quadratic cost and memory); sqlite3_blob I/O on a preallocated
 * zeroblob (the length is unknown until the end, a final resize rewrites the value in
 * memory, and a zeroblob is only left unmaterialised as a record's last column, which
 * content is not); flushing less often (the cost stays quadratic and the memory the same).
 *
 * Readers see whole texts: store_spill_fill appends the rows to loaded messages (loading
 * a session, its path, an export), and the search index is built from the head and rows
 * part by part (store_spill_index), so indexing memory stays one row however long the
 * reply. Rows go with their message (ON DELETE CASCADE). Short replies, nearly all of
 * them, never have rows, and a database without any costs readers one indexed look-up
 * per load.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "buf.h"
#include "store.h"
#include "store-internal.h"
#include "store-schema.h"
#include "xmalloc.h"

/* Prepare sql; NULL with the store's error set when it fails. */
static sqlite3_stmt *
spill_prepare(struct store *st, const char *sql, const char *what)
{
	sqlite3_stmt *s = NULL;

	if (sqlite3_prepare_v2(st->db, sql, -1, &s, NULL) != SQLITE_OK) {
		store_fail(st, what);
		sqlite3_finalize(s);
		return NULL;
	}
	return s;
}

/* Step s to its end and finalize it; 0 or -1 with the store's error. */
static int
spill_done(struct store *st, sqlite3_stmt *s, const char *what)
{
	int rc = sqlite3_step(s);

	if (rc != SQLITE_DONE)
		store_fail(st, what);
	sqlite3_finalize(s);
	return rc == SQLITE_DONE ? 0 : -1;
}

/* Append n bytes after message id's stored text, in rows of at most STORE_SPILL_ROW
 * bytes, inside the caller's transaction; 0 or -1. */
int
store_spill_append(struct store *st, int64_t id, const char *p, size_t n)
{
	sqlite3_stmt *s;
	size_t k;

	if (n == 0)
		return 0;
	s = spill_prepare(st, "INSERT INTO message_spill (message_id, data) VALUES (?1, ?2)",
	    "storing a long reply");
	if (s == NULL)
		return -1;
	for (; n > 0; p += k, n -= k) {
		k = n < STORE_SPILL_ROW ? n : STORE_SPILL_ROW;
		sqlite3_bind_int64(s, 1, id);
		sqlite3_bind_blob(s, 2, p, (int)k, SQLITE_STATIC);
		if (sqlite3_step(s) != SQLITE_DONE) {
			store_fail(st, "storing a long reply");
			sqlite3_finalize(s);
			return -1;
		}
		sqlite3_reset(s);
	}
	sqlite3_finalize(s);
	return 0;
}

/* Whether message id has spill rows: 1, 0, or -1 when the store cannot tell. */
int
store_spill_has(struct store *st, int64_t id)
{
	sqlite3_stmt *s = spill_prepare(st, "SELECT 1 FROM message_spill WHERE message_id = ?1"
	    " LIMIT 1", "reading a long reply");
	int rc;

	if (s == NULL)
		return -1;
	sqlite3_bind_int64(s, 1, id);
	rc = sqlite3_step(s);
	sqlite3_finalize(s);
	if (rc == SQLITE_ROW)
		return 1;
	if (rc == SQLITE_DONE)
		return 0;
	store_fail(st, "reading a long reply");
	return -1;
}

/* Give the loaded rows their whole texts: each one's content followed by its spill rows.
 * One look-up tells that the database has none, as nearly every one has. */
int
store_spill_fill(struct store *st, struct message_row *rows, size_t n)
{
	sqlite3_stmt *s;
	struct buf b = BUF_INIT;
	size_t i;
	int rc;

	if (n == 0)
		return 0;
	s = spill_prepare(st, "SELECT 1 FROM message_spill LIMIT 1", "reading long replies");
	if (s == NULL)
		return -1;
	rc = sqlite3_step(s);
	sqlite3_finalize(s);
	if (rc == SQLITE_DONE)
		return 0;
	if (rc != SQLITE_ROW) {
		store_fail(st, "reading long replies");
		return -1;
	}
	s = spill_prepare(st, "SELECT data FROM message_spill WHERE message_id = ?1 ORDER BY id",
	    "reading a long reply");
	if (s == NULL)
		return -1;
	for (i = 0; i < n; i++) {
		buf_reset(&b);
		sqlite3_bind_int64(s, 1, rows[i].id);
		while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
			if (b.len == 0)
				buf_puts(&b, rows[i].content != NULL ? rows[i].content : "");
			buf_append(&b, sqlite3_column_blob(s, 0), (size_t)sqlite3_column_bytes(s, 0));
		}
		sqlite3_reset(s);
		if (rc != SQLITE_DONE) {
			store_fail(st, "reading a long reply");
			break;
		}
		if (b.len > 0) {
			free(rows[i].content);
			rows[i].content = buf_detach(&b);
		}
	}
	sqlite3_finalize(s);
	buf_free(&b);
	return rc == SQLITE_DONE ? 0 : -1;
}

/* Insert part k of message id (n bytes at p) with the savepoint that makes FTS5 write its
 * pending terms out; 0 or -1. */
static int
spill_part(struct store *st, sqlite3_stmt *ins, int64_t id, int64_t k, const char *p, size_t n)
{
	if (sqlite3_exec(st->db, "SAVEPOINT store_spill_part", NULL, NULL, NULL) != SQLITE_OK) {
		store_fail(st, "indexing a long reply");
		return -1;
	}
	sqlite3_bind_int64(ins, 1, id * STORE_PARTS + k);
	sqlite3_bind_text(ins, 2, p, (int)n, SQLITE_STATIC);
	if (sqlite3_step(ins) != SQLITE_DONE) {
		store_fail(st, "indexing a long reply");
		sqlite3_reset(ins);
		return -1;
	}
	sqlite3_reset(ins);
	if (sqlite3_exec(st->db, "RELEASE store_spill_part", NULL, NULL, NULL) != SQLITE_OK) {
		store_fail(st, "indexing a long reply");
		return -1;
	}
	return 0;
}

/*
 * Index message id, whose text is its stored content and its spill rows, inside the
 * caller's transaction: whatever parts it has go (a one-part head may have been indexed by
 * the trigger), then the text is cut into parts as store_index cuts one, reading a row at
 * a time, so memory stays about one row and one part.
 */
int
store_spill_index(struct store *st, int64_t id)
{
	sqlite3_stmt *del, *rd = NULL, *ins = NULL;
	struct buf w = BUF_INIT;
	size_t at = 0, n;
	int64_t part = 0;
	int rc = -1, more = 1, r;

	del = spill_prepare(st, "DELETE FROM messages_fts WHERE rowid BETWEEN ?1 * 4096"
	    " AND ?1 * 4096 + 4095", "indexing a long reply");
	if (del == NULL)
		return -1;
	sqlite3_bind_int64(del, 1, id);
	if (spill_done(st, del, "indexing a long reply") != 0)
		return -1;
	/* The head first, then the rows. */
	rd = spill_prepare(st, "SELECT content FROM messages WHERE id = ?1", "reading a long reply");
	if (rd == NULL)
		return -1;
	sqlite3_bind_int64(rd, 1, id);
	if (sqlite3_step(rd) == SQLITE_ROW)
		buf_append(&w, sqlite3_column_text(rd, 0), (size_t)sqlite3_column_bytes(rd, 0));
	sqlite3_finalize(rd);
	rd = spill_prepare(st, "SELECT data FROM message_spill WHERE message_id = ?1 ORDER BY id",
	    "reading a long reply");
	ins = spill_prepare(st, "INSERT INTO messages_fts (rowid, content) VALUES (?1, ?2)",
	    "indexing a long reply");
	if (rd == NULL || ins == NULL)
		goto out;
	sqlite3_bind_int64(rd, 1, id);
	while (part < STORE_PARTS) {
		if (more && w.len - at <= STORE_PART_MAX) {
			/* What is left of the window (less than a part) moves to its start. */
			if (at > 0) {
				memmove(w.data, w.data + at, w.len - at);
				w.len -= at;
				at = 0;
			}
			r = sqlite3_step(rd);
			if (r == SQLITE_ROW)
				buf_append(&w, sqlite3_column_blob(rd, 0),
				    (size_t)sqlite3_column_bytes(rd, 0));
			else if (r == SQLITE_DONE)
				more = 0;
			else {
				store_fail(st, "reading a long reply");
				goto out;
			}
			continue;
		}
		if (w.len == at)
			break;
		n = store_part_len(w.data + at, w.len - at);
		if (spill_part(st, ins, id, part++, w.data + at, n) != 0)
			goto out;
		at += n;
	}
	rc = 0;
out:
	sqlite3_finalize(rd);
	sqlite3_finalize(ins);
	buf_free(&w);
	return rc;
}
