/*
 * Attachments in the store (schema 12): the bytes of each distinct file once, in
 * attachments, addressed by their SHA-256; and a message's references to them, in order
 * and with the names they were attached under, in message_attachments. A message is
 * written with its files in the same transaction (store_message_add and the import call
 * store_attach_save), so a message never exists without them. Loading a session reads
 * the references only (store_attach_fill); a request or an export reads the bytes of the
 * files it needs (store_attach_load) and checks them against the digest, so a damaged
 * row is found rather than sent.
 *
 * Like store-sign.c this runs rarely (only messages with files pay for it), so its
 * statements are prepared per call rather than cached with store.c's.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "attach.h"
#include "store-schema.h"
#include "store.h"
#include "xmalloc.h"

/* Prepare sql on st's connection; NULL (with the store's error set) on failure. */
static sqlite3_stmt *
store_attach_prepare(struct store *st, const char *sql, const char *what)
{
	sqlite3_stmt *s = NULL;

	if (sqlite3_prepare_v2(store_handle(st), sql, -1, &s, NULL) != SQLITE_OK) {
		store_note_failure(st, what);
		sqlite3_finalize(s);
		return NULL;
	}
	return s;
}

/* The row id of the stored file with digest sha: > 0, 0 when none, -1 on failure. */
static int64_t
store_attach_find(struct store *st, const char *sha)
{
	sqlite3_stmt *s = store_attach_prepare(st, "SELECT id FROM attachments WHERE sha256 = ?1",
	    "finding an attachment");
	int64_t id = -1;
	int rc;

	if (s == NULL)
		return -1;
	sqlite3_bind_text(s, 1, sha, -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		id = sqlite3_column_int64(s, 0);
	else if (rc == SQLITE_DONE)
		id = 0;
	else
		store_note_failure(st, "finding an attachment");
	sqlite3_finalize(s);
	return id;
}

/* Store a's bytes; their new row id, or -1. */
static int64_t
store_attach_insert(struct store *st, struct attach *a)
{
	sqlite3_stmt *s = store_attach_prepare(st, "INSERT INTO attachments (sha256, mime, kind,"
	    " size, data) VALUES (?1, ?2, ?3, ?4, ?5)", "storing an attachment");
	int64_t id = -1;

	if (s == NULL)
		return -1;
	sqlite3_bind_text(s, 1, attach_sha(a), -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, a->mime, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 3, attach_kind_name(a->kind), -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 4, (sqlite3_int64)a->size);
	sqlite3_bind_blob64(s, 5, a->size > 0 ? (const void *)a->data : "", a->size,
	    SQLITE_STATIC);
	if (sqlite3_step(s) == SQLITE_DONE)
		id = sqlite3_last_insert_rowid(store_handle(st));
	else
		store_note_failure(st, "storing an attachment");
	sqlite3_finalize(s);
	return id;
}

/* Store message id's files and its references to them. */
int
store_attach_save(struct store *st, int64_t id, struct attach *const *atts, size_t n)
{
	sqlite3_stmt *s;
	int64_t file;
	size_t k;
	int rc = 0;

	for (k = 0; k < n && rc == 0; k++) {
		struct attach *a = atts[k];

		if (a->data == NULL && a->sha[0] == '\0') {
			store_note_failure(st, "storing an attachment without its bytes");
			return -1;
		}
		if ((file = store_attach_find(st, attach_sha(a))) < 0)
			return -1;
		if (file == 0 && a->data == NULL) {
			store_note_failure(st, "storing an attachment whose bytes are not stored");
			return -1;
		}
		if (file == 0 && (file = store_attach_insert(st, a)) < 0)
			return -1;
		s = store_attach_prepare(st, "INSERT INTO message_attachments (message_id, seq,"
		    " attachment_id, name) VALUES (?1, ?2, ?3, ?4)", "storing an attachment");
		if (s == NULL)
			return -1;
		sqlite3_bind_int64(s, 1, id);
		sqlite3_bind_int64(s, 2, (sqlite3_int64)k);
		sqlite3_bind_int64(s, 3, file);
		sqlite3_bind_text(s, 4, a->name, -1, SQLITE_STATIC);
		if (sqlite3_step(s) != SQLITE_DONE) {
			store_note_failure(st, "storing an attachment");
			rc = -1;
		}
		sqlite3_finalize(s);
	}
	return rc;
}

/* Add a to row r's attachments. */
static void
store_attach_push(struct message_row *r, struct attach *a)
{
	r->atts = xrealloc(r->atts, (r->natts + 1) * sizeof(*r->atts));
	r->atts[r->natts++] = a;
}

/* Give the session's rows their attachments' references. */
int
store_attach_fill(struct store *st, int64_t session_id, struct message_row *rows, size_t n)
{
	sqlite3_stmt *s;
	size_t k = 0, tries;
	int rc;

	if (n == 0)
		return 0;
	s = store_attach_prepare(st, "SELECT ma.message_id, ma.name, a.mime, a.kind, a.size,"
	    " a.sha256 FROM message_attachments ma JOIN messages m ON m.id = ma.message_id"
	    " JOIN attachments a ON a.id = ma.attachment_id WHERE m.session_id = ?1"
	    " ORDER BY m.seq, ma.seq", "reading attachments");
	if (s == NULL)
		return -1;
	sqlite3_bind_int64(s, 1, session_id);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		int64_t id = sqlite3_column_int64(s, 0);
		const char *kind = (const char *)sqlite3_column_text(s, 3);
		int kd = kind != NULL ? attach_kind_parse(kind) : -1;

		/* The rows and the references come in the same order: one pass pairs them. */
		for (tries = 0; tries < n && rows[k].id != id; tries++)
			k = (k + 1) % n;
		if (tries == n)
			continue;
		store_attach_push(&rows[k], attach_stored((const char *)sqlite3_column_text(s, 1),
		    (const char *)sqlite3_column_text(s, 2), kd < 0 ? ATTACH_OTHER :
		    (enum attach_kind)kd, (size_t)sqlite3_column_int64(s, 4),
		    (const char *)sqlite3_column_text(s, 5)));
	}
	if (rc != SQLITE_DONE)
		store_note_failure(st, "reading attachments");
	sqlite3_finalize(s);
	return rc == SQLITE_DONE ? 0 : -1;
}

/* Give rows their attachments' references, looking each row up by its id: for a page
 * of a long session, where reading every reference of the session would cost more. */
int
store_attach_fill_rows(struct store *st, struct message_row *rows, size_t n)
{
	sqlite3_stmt *s;
	size_t i;
	int rc = SQLITE_DONE;

	if (n == 0)
		return 0;
	s = store_attach_prepare(st, "SELECT ma.name, a.mime, a.kind, a.size, a.sha256"
	    " FROM message_attachments ma JOIN attachments a ON a.id = ma.attachment_id"
	    " WHERE ma.message_id = ?1 ORDER BY ma.seq", "reading attachments");
	if (s == NULL)
		return -1;
	for (i = 0; i < n && rc == SQLITE_DONE; i++) {
		sqlite3_bind_int64(s, 1, rows[i].id);
		while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
			const char *kind = (const char *)sqlite3_column_text(s, 2);
			int kd = kind != NULL ? attach_kind_parse(kind) : -1;

			store_attach_push(&rows[i], attach_stored(
			    (const char *)sqlite3_column_text(s, 0),
			    (const char *)sqlite3_column_text(s, 1), kd < 0 ? ATTACH_OTHER :
			    (enum attach_kind)kd, (size_t)sqlite3_column_int64(s, 3),
			    (const char *)sqlite3_column_text(s, 4)));
		}
		sqlite3_reset(s);
	}
	if (rc != SQLITE_DONE)
		store_note_failure(st, "reading attachments");
	sqlite3_finalize(s);
	return rc == SQLITE_DONE ? 0 : -1;
}

/* Read a stored reference's bytes. */
int
store_attach_load(struct store *st, struct attach *a)
{
	sqlite3_stmt *s;
	const void *blob;
	unsigned char *copy;
	size_t len;
	int rc = -1;

	if (a->data != NULL)
		return 0;
	s = store_attach_prepare(st, "SELECT data FROM attachments WHERE sha256 = ?1",
	    "reading an attachment");
	if (s == NULL)
		return -1;
	sqlite3_bind_text(s, 1, a->sha, -1, SQLITE_STATIC);
	if (sqlite3_step(s) == SQLITE_ROW) {
		blob = sqlite3_column_blob(s, 0);
		len = (size_t)sqlite3_column_bytes(s, 0);
		copy = xmalloc(len + 1);
		if (len > 0)
			memcpy(copy, blob, len);
		copy[len] = 0;
		rc = attach_set_data(a, copy, len);
		if (rc != 0)
			store_note_failure(st, "reading an attachment (its bytes do not match)");
	} else {
		store_note_failure(st, "reading an attachment (it is not stored)");
	}
	sqlite3_finalize(s);
	return rc;
}
