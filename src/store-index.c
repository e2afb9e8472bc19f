/*
 * The search index's own work (store.c's layout notes say why): a finished message longer
 * than one part is cut into parts of at most STORE_PART_MAX bytes, each ending after
 * whitespace so no word is cut, and indexed inside the writer's transaction; a brief
 * writer (or the interface, until its frame is up) only notes it in index_pending, and
 * store_index_pending indexes what was put off; the 1 -> 2 migration indexes every
 * finished message that has no parts yet.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "attach.h"
#include "buf.h"
#include "log.h"
#include "store.h"
#include "store-internal.h"
#include "store-schema.h"
#include "xmalloc.h"

/* Whether c ends a word for the tokenizer whatever surrounds it. */
static int
store_is_space(char c)
{
	return c == ' ' || c == '\n' || c == '\t' || c == '\r';
}

/*
 * The length of the part that starts at p: all that is left when it fits, else at most
 * STORE_PART_MAX bytes ending after whitespace in its second half (so no word is cut and
 * parts stay large), else ending before a UTF-8 lead byte (so no character is cut).
 */
size_t
store_part_len(const char *p, size_t left)
{
	size_t n;

	if (left <= STORE_PART_MAX)
		return left;
	for (n = STORE_PART_MAX; n > STORE_PART_MAX / 2; n--)
		if (store_is_space(p[n - 1]))
			return n;
	for (n = STORE_PART_MAX; n > 0 && ((unsigned char)p[n] & 0xc0) == 0x80; n--)
		;
	return n > 0 ? n : STORE_PART_MAX;
}

/*
 * Index a finished message longer than one part, inside the caller's transaction. Shorter
 * ones are indexed by the triggers, and a message that still has its first part is
 * indexed already (the triggers delete the parts when the text changes). spilled: a long
 * reply whose stored text is more than its content column (store-spill.c), indexed there.
 */
int
store_index(struct store *st, int64_t id, const char *content, int spilled)
{
	size_t len = strlen(content), pos, n;
	sqlite3_stmt *s;
	int64_t part;
	int rc;

	if (len <= STORE_PART_MAX && !spilled)
		return 0;
	if (spilled && !st->defer_index)
		return store_spill_index(st, id);
	if (st->defer_index) {
		s = store_stmt(st, SQL_PENDING_ADD);
		if (s == NULL)
			return -1;
		sqlite3_bind_int64(s, 1, id);
		return store_step_done(st, s, "noting a message to index");
	}
	s = store_stmt(st, SQL_PART_EXISTS);
	if (s == NULL)
		return -1;
	sqlite3_bind_int64(s, 1, id);
	rc = sqlite3_step(s);
	sqlite3_reset(s);
	if (rc == SQLITE_ROW)
		return 0;
	if (rc != SQLITE_DONE) {
		store_fail(st, "reading the search index");
		return -1;
	}
	for (pos = 0, part = 0; pos < len && part < STORE_PARTS; pos += n, part++) {
		n = store_part_len(content + pos, len - pos);
		if (store_exec_cached(st, SQL_PART_SAVEPOINT) != 0)
			return -1;
		s = store_stmt(st, SQL_PART_INSERT);
		if (s == NULL)
			return -1;
		sqlite3_bind_int64(s, 1, id * STORE_PARTS + part);
		sqlite3_bind_text(s, 2, content + pos, (int)n, SQLITE_STATIC);
		if (store_step_done(st, s, "indexing a message") != 0 ||
		    store_exec_cached(st, SQL_PART_RELEASE) != 0)
			return -1;
	}
	return 0;
}

/* Index a finished message that may be a long reply stored as it arrived; 0 or -1. */
int
store_index_any(struct store *st, int64_t id, const char *content)
{
	int spilled = store_spill_has(st, id);

	return spilled < 0 ? -1 : store_index(st, id, content, spilled);
}

/* Index the messages whose indexing was put off, one transaction each. */
int
store_index_pending(struct store *st)
{
	sqlite3_stmt *s;
	int64_t id;
	char *content;
	int rc, defer = st->defer_index;

	st->defer_index = 0;
	for (;;) {
		if ((s = store_stmt(st, SQL_PENDING_LIST)) == NULL)
			break;
		rc = sqlite3_step(s);
		if (rc != SQLITE_ROW) {
			sqlite3_reset(s);
			st->defer_index = defer;
			if (rc == SQLITE_DONE)
				return 0;
			store_fail(st, "reading the messages to index");
			return -1;
		}
		id = sqlite3_column_int64(s, 0);
		content = store_col_text(s, 1);
		sqlite3_reset(s);
		if (store_exec_cached(st, SQL_BEGIN) != 0) {
			free(content);
			break;
		}
		/* A message deleted since is simply forgotten. */
		if ((content != NULL && store_index_any(st, id, content) != 0) ||
		    (s = store_stmt(st, SQL_PENDING_DONE)) == NULL) {
			free(content);
			store_exec_cached(st, SQL_ROLLBACK);
			break;
		}
		free(content);
		sqlite3_bind_int64(s, 1, id);
		if (store_step_done(st, s, "indexing a message") != 0 ||
		    store_exec_cached(st, SQL_COMMIT) != 0) {
			store_exec_cached(st, SQL_ROLLBACK);
			break;
		}
	}
	st->defer_index = defer;
	return -1;
}

/* Index every finished message that has no parts yet, one message at a time. */
int
store_index_missing(struct store *st)
{
	sqlite3_stmt *s = store_stmt(st, SQL_UNINDEXED), *c = NULL;
	int64_t *ids = NULL;
	size_t len = 0, cap = 0, i;
	int rc = -1;

	if (s == NULL)
		return -1;
	/* Ids first: the index changes under a running scan of it otherwise. */
	while (sqlite3_step(s) == SQLITE_ROW) {
		if (len == cap) {
			cap = cap ? cap * 2 : 64;
			ids = xrealloc(ids, cap * sizeof(*ids));
		}
		ids[len++] = sqlite3_column_int64(s, 0);
	}
	sqlite3_reset(s);
	if (sqlite3_prepare_v2(st->db, "SELECT content FROM messages WHERE id = ?1", -1, &c,
	    NULL) != SQLITE_OK) {
		store_fail(st, "reading messages to index");
		goto out;
	}
	for (i = 0; i < len; i++) {
		sqlite3_bind_int64(c, 1, ids[i]);
		if (sqlite3_step(c) == SQLITE_ROW && sqlite3_column_text(c, 0) != NULL &&
		    store_index(st, ids[i], (const char *)sqlite3_column_text(c, 0), 0) != 0)
			goto out;
		sqlite3_reset(c);
	}
	rc = 0;
out:
	sqlite3_finalize(c);
	free(ids);
	return rc;
}
