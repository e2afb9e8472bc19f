/*
 * Signed reasoning in the store. Anthropic signs each thinking block it streams, and wants
 * the block back, unchanged and with its signature, when the conversation goes on; so a
 * reply's signature is kept beside its reasoning (messages.reasoning_signature, schema 9).
 * It lives apart from the message writes of store.c because only signed replies have one:
 * it is written once when such a reply ends and read once when its session is loaded,
 * and no other message pays for it. The signature is opaque provider data, not a key.
 */
#include <stdint.h>
#include <stdlib.h>

#include <sqlite3.h>

#include "store-schema.h"
#include "store.h"
#include "xmalloc.h"

/* Set or clear the signature of message id. */
int
store_sign_set(struct store *st, int64_t id, const char *signature)
{
	sqlite3 *db = store_handle(st);
	sqlite3_stmt *s;
	int rc;

	if (sqlite3_prepare_v2(db, "UPDATE messages SET reasoning_signature = ?2 WHERE id = ?1",
	    -1, &s, NULL) != SQLITE_OK) {
		store_note_failure(st, "storing a reasoning signature");
		return -1;
	}
	sqlite3_bind_int64(s, 1, id);
	if (signature != NULL)
		sqlite3_bind_text(s, 2, signature, -1, SQLITE_TRANSIENT);
	else
		sqlite3_bind_null(s, 2);
	rc = sqlite3_step(s);
	sqlite3_finalize(s);
	if (rc != SQLITE_DONE) {
		store_note_failure(st, "storing a reasoning signature");
		return -1;
	}
	return 0;
}

/* Read the signatures of one session's messages. */
int
store_sign_list(struct store *st, int64_t session_id, int64_t **ids, char ***sigs, size_t *n)
{
	sqlite3 *db = store_handle(st);
	sqlite3_stmt *s;
	size_t cap = 0;
	int rc;

	*ids = NULL;
	*sigs = NULL;
	*n = 0;
	if (sqlite3_prepare_v2(db, "SELECT id, reasoning_signature FROM messages"
	    " WHERE session_id = ?1 AND reasoning_signature IS NOT NULL ORDER BY id", -1, &s,
	    NULL) != SQLITE_OK) {
		store_note_failure(st, "reading reasoning signatures");
		return -1;
	}
	sqlite3_bind_int64(s, 1, session_id);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		const unsigned char *t = sqlite3_column_text(s, 1);

		if (t == NULL)
			continue;
		if (*n == cap) {
			cap = cap ? cap * 2 : 8;
			*ids = xrealloc(*ids, cap * sizeof(**ids));
			*sigs = xrealloc(*sigs, cap * sizeof(**sigs));
		}
		(*ids)[*n] = sqlite3_column_int64(s, 0);
		(*sigs)[*n] = xstrdup((const char *)t);
		(*n)++;
	}
	sqlite3_finalize(s);
	if (rc != SQLITE_DONE) {
		store_note_failure(st, "reading reasoning signatures");
		while (*n > 0)
			free((*sigs)[--*n]);
		free(*ids);
		free(*sigs);
		*ids = NULL;
		*sigs = NULL;
		return -1;
	}
	return 0;
}
