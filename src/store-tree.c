/*
 * History that branches (schema 14). Messages form a tree: each names the one it follows
 * in parent_id (0 for a first message), so a regenerated reply or an edited prompt is a
 * sibling of the one it replaces rather than its replacement, and a session's head_id says
 * which leaf the path on screen ends at (NULL: its newest message, which a new message
 * always is). Rows older than the column have NULL there, read as "the row before it by
 * seq in its session": the parent their order implies, so old databases keep their one
 * path without a rewrite. A fork is a session whose forked_from names a message of
 * another session; its first messages follow that one, so walking up from its head runs
 * into the other session's rows and shares them instead of copying them.
 *
 * Loading reads only the path: one recursive query that walks up from the head through
 * the primary key, one row per step, and one indexed look-up of the siblings per own
 * message on it; no query reads the other branches or the rest of the database. Children
 * come from the partial index messages_by_parent plus, for older rows, the next row by seq.
 *
 * A long path is read in pages (store_messages_page): the same walk, bounded by a count
 * and by a message to stop before, so that the interface reads the last screenful of a
 * session of 100,000 messages, and the pages above it as the user scrolls there, at the
 * cost of the rows it reads. The message a page stops at is where the next one starts;
 * store_path_sums walks a path the same way reading no text, for the counts and sums of
 * the part not loaded.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sqlite3.h>

#include "store.h"
#include "store-internal.h"
#include "store-schema.h"
#include "xmalloc.h"

/* The row a path starts from: the head, else the newest message, else a fork's origin. */
#define TREE_HEAD_SQL \
	"SELECT coalesce(head_id, (SELECT id FROM messages WHERE session_id = ?1" \
	" ORDER BY seq DESC LIMIT 1), forked_from, 0) FROM sessions WHERE id = ?1"

/* Walk up from ?1 to a first message; an older row's parent is its predecessor by seq, and
 * a parent that is not older than its child (never written by natter) ends the walk. */
#define TREE_PATH_SQL \
	"WITH RECURSIVE path(id, depth) AS (SELECT ?1, 0 UNION ALL" \
	" SELECT CASE WHEN m.parent_id IS NULL THEN (SELECT p.id FROM messages p" \
	" WHERE p.session_id = m.session_id AND p.seq < m.seq ORDER BY p.seq DESC LIMIT 1)" \
	" WHEN m.parent_id > 0 AND m.parent_id < m.id THEN m.parent_id END, path.depth + 1" \
	" FROM path JOIN messages m ON m.id = path.id)" \
	" SELECT " MESSAGE_COLUMNS ", m.content, m.reasoning, m.parent_id FROM path" \
	" JOIN messages m ON m.id = path.id ORDER BY path.depth DESC"

/* The recursive walk up from ?1 (a step per row, at most ?2 steps, none on from ?3). */
#define TREE_WALK_SQL \
	"WITH RECURSIVE path(id, depth) AS (SELECT ?1, 0 UNION ALL" \
	" SELECT CASE WHEN m.parent_id IS NULL THEN (SELECT p.id FROM messages p" \
	" WHERE p.session_id = m.session_id AND p.seq < m.seq ORDER BY p.seq DESC LIMIT 1)" \
	" WHEN m.parent_id > 0 AND m.parent_id < m.id THEN m.parent_id END, path.depth + 1" \
	" FROM path JOIN messages m ON m.id = path.id WHERE path.depth < ?2 AND path.id IS NOT ?3)"

/* A page: the rows of the walk with their depths, which put them in order (sorting in
 * SQL would copy every text through the sorter once more), and the row the walk ended on
 * (no message columns: the stop, the step past the limit, or nothing past a first one). */
#define TREE_PAGE_SQL TREE_WALK_SQL \
	" SELECT " MESSAGE_COLUMNS ", m.content, m.reasoning, m.parent_id," \
	" m.reasoning_signature, path.id, path.depth FROM path LEFT JOIN messages m" \
	" ON m.id = path.id AND path.depth < ?2 AND path.id IS NOT ?3"

/* The sums of a walk, and where it ended (the row with no message). */
#define TREE_SUMS_SQL TREE_WALK_SQL \
	" SELECT count(m.id), sum(max(coalesce(m.input_tokens, 0), 0) +" \
	" max(coalesce(m.output_tokens, 0), 0)), sum(CASE WHEN m.cost >= 0 THEN m.cost END)," \
	" count(CASE WHEN m.cost >= 0 THEN 1 END), max(CASE WHEN m.id IS NULL THEN path.id END)" \
	" FROM path LEFT JOIN messages m ON m.id = path.id AND path.depth < ?2"

/* The rows of session ?1 following ?2: those naming it, and an older row right after it. */
#define TREE_CHILDREN_SQL \
	"SELECT id FROM messages WHERE session_id = ?1 AND parent_id = ?2 UNION" \
	" SELECT id FROM (SELECT id, parent_id FROM messages WHERE session_id = ?1 AND seq >" \
	" coalesce((SELECT seq FROM messages WHERE id = ?2 AND session_id = ?1)," \
	" CASE WHEN ?2 = 0 THEN 0 END) ORDER BY seq LIMIT 1) WHERE parent_id IS NULL" \
	" ORDER BY 1"

/* Pages up to this many rows look their alternatives and files up row by row. */
#define TREE_PAGE_ROWS 512

/* Prepare sql for one call, noting a failure as what. */
static sqlite3_stmt *
tree_prepare(struct store *st, const char *sql, const char *what)
{
	sqlite3_stmt *s = NULL;

	if (sqlite3_prepare_v2(store_handle(st), sql, -1, &s, NULL) != SQLITE_OK) {
		store_note_failure(st, what);
		sqlite3_finalize(s);
		return NULL;
	}
	return s;
}

/* Collect the ids a prepared children statement gives for parent. */
static int
tree_children_run(struct store *st, sqlite3_stmt *s, int64_t session_id, int64_t parent,
    int64_t **ids, size_t *n)
{
	size_t cap = 0;
	int rc;

	*ids = NULL;
	*n = 0;
	sqlite3_reset(s);
	sqlite3_bind_int64(s, 1, session_id);
	sqlite3_bind_int64(s, 2, parent);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		if (*n == cap) {
			cap = cap ? cap * 2 : 4;
			*ids = xrealloc(*ids, cap * sizeof(**ids));
		}
		(*ids)[(*n)++] = sqlite3_column_int64(s, 0);
	}
	sqlite3_reset(s);
	if (rc != SQLITE_DONE) {
		store_note_failure(st, "reading a message's alternatives");
		free(*ids);
		*ids = NULL;
		*n = 0;
		return -1;
	}
	return 0;
}

/* The messages of a session that follow parent, oldest first. */
int
store_children(struct store *st, int64_t session_id, int64_t parent, int64_t **ids,
    size_t *n)
{
	sqlite3_stmt *s = tree_prepare(st, TREE_CHILDREN_SQL, "reading a message's alternatives");
	int rc;

	*ids = NULL;
	*n = 0;
	if (s == NULL)
		return -1;
	rc = tree_children_run(st, s, session_id, parent, ids, n);
	sqlite3_finalize(s);
	return rc;
}

/* The message a session's path ends at (0 when it has none), or -1. */
static int64_t
tree_head(struct store *st, int64_t session_id)
{
	sqlite3_stmt *s = tree_prepare(st, TREE_HEAD_SQL, "reading a session's head");
	int64_t head = -1;
	int rc;

	if (s == NULL)
		return -1;
	sqlite3_bind_int64(s, 1, session_id);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		head = sqlite3_column_int64(s, 0);
	else if (rc == SQLITE_DONE)
		head = 0;  /* no such session: no messages, as before trees */
	else
		store_note_failure(st, "reading a session's head");
	sqlite3_finalize(s);
	return head;
}

/* Give each of the session's own rows on a path its place among its alternatives; the
 * first row follows first_parent when its order implies its parent. */
static int
tree_number_path(struct store *st, int64_t session_id, struct message_row *rows, size_t n,
    int64_t first_parent)
{
	sqlite3_stmt *s = NULL;
	int64_t *ids, parent;
	size_t i, k, nids;
	int rc = 0;

	for (i = 0; i < n && rc == 0; i++) {
		if (rows[i].session_id != session_id)
			continue;
		parent = rows[i].parent_id > 0 ? rows[i].parent_id : rows[i].parent_id < 0 ? 0 :
		    i > 0 ? rows[i - 1].id : first_parent;
		if (s == NULL && (s = tree_prepare(st, TREE_CHILDREN_SQL,
		    "reading a message's alternatives")) == NULL)
			return -1;
		if ((rc = tree_children_run(st, s, session_id, parent, &ids, &nids)) != 0)
			break;
		for (k = 0; k < nids; k++)
			if (ids[k] == rows[i].id) {
				rows[i].nalt = (int)nids;
				rows[i].alt = (int)k + 1;
			}
		free(ids);
	}
	sqlite3_finalize(s);
	return rc;
}

/* Find the run of pairs (parent, id), sorted, whose parent is parent: its first index and
 * length. */
static size_t
tree_pairs_run(const int64_t (*pairs)[2], size_t n, int64_t parent, size_t *len)
{
	size_t lo = 0, hi = n, end;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (pairs[mid][0] < parent)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (end = lo; end < n && pairs[end][0] == parent; end++)
		;
	*len = end - lo;
	return lo;
}

/* Number the alternatives of a long page's own rows as tree_number_path does, from one
 * scan of the session's parent index instead of a look-up per row: 1 when done, 0 when
 * the session has older rows without a parent_id (whose children only a look-up finds),
 * -1 on failure. */
static int
tree_number_bulk(struct store *st, int64_t session_id, struct message_row *rows, size_t n,
    int64_t first_parent)
{
	sqlite3_stmt *s = tree_prepare(st, "SELECT parent_id, id FROM messages"
	    " WHERE session_id = ?1 AND parent_id IS NOT NULL ORDER BY parent_id, id",
	    "reading a message's alternatives");
	int64_t (*pairs)[2] = NULL, parent, own = -1;
	size_t npairs = 0, cap = 0, i, k, at, len;
	int rc;

	if (s == NULL)
		return -1;
	sqlite3_bind_int64(s, 1, session_id);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		if (npairs == cap) {
			cap = cap ? cap * 2 : 1024;
			pairs = xrealloc(pairs, cap * sizeof(*pairs));
		}
		pairs[npairs][0] = sqlite3_column_int64(s, 0);
		pairs[npairs++][1] = sqlite3_column_int64(s, 1);
	}
	sqlite3_finalize(s);
	if (rc == SQLITE_DONE && (s = tree_prepare(st, "SELECT nmessages FROM sessions"
	    " WHERE id = ?1", "reading a message's alternatives")) != NULL) {
		sqlite3_bind_int64(s, 1, session_id);
		if ((rc = sqlite3_step(s)) == SQLITE_ROW) {
			own = sqlite3_column_int64(s, 0);
			rc = SQLITE_DONE;
		}
		sqlite3_finalize(s);
	}
	if (rc != SQLITE_DONE) {
		store_note_failure(st, "reading a message's alternatives");
		free(pairs);
		return -1;
	}
	if (own != (int64_t)npairs) {
		free(pairs);
		return 0;
	}
	for (i = 0; i < n; i++) {
		if (rows[i].session_id != session_id)
			continue;
		parent = rows[i].parent_id > 0 ? rows[i].parent_id : rows[i].parent_id < 0 ? 0 :
		    i > 0 ? rows[i - 1].id : first_parent;
		at = tree_pairs_run((const int64_t (*)[2])pairs, npairs, parent, &len);
		for (k = 0; k < len; k++)
			if (pairs[at + k][1] == rows[i].id) {
				rows[i].nalt = (int)len;
				rows[i].alt = (int)k + 1;
			}
	}
	free(pairs);
	return 1;
}

/* Give the rows their files, each from the session it belongs to. */
static int
tree_fill_attachments(struct store *st, struct message_row *rows, size_t n)
{
	size_t i, k;

	for (i = 0; i < n; i++) {
		for (k = 0; k < i && rows[k].session_id != rows[i].session_id; k++)
			;
		if (k == i && store_attach_fill(st, rows[i].session_id, rows, n) != 0)
			return -1;
	}
	return 0;
}

/* The path ending at head, read as store_messages reads it. */
int
store_messages_path(struct store *st, int64_t session_id, int64_t head,
    struct message_row **out, size_t *n)
{
	struct message_row *r;
	sqlite3_stmt *s;
	size_t cap = 0;
	int rc;

	*out = NULL;
	*n = 0;
	if (head == 0 && (head = tree_head(st, session_id)) < 0)
		return -1;
	if (head == 0)
		return 0;
	if ((s = tree_prepare(st, TREE_PATH_SQL, "reading messages")) == NULL)
		return -1;
	sqlite3_bind_int64(s, 1, head);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		if (*n == cap) {
			cap = cap ? cap * 2 : 16;
			*out = xrealloc(*out, cap * sizeof(**out));
		}
		r = &(*out)[(*n)++];
		store_row_message(s, r);
	}
	sqlite3_finalize(s);
	if (rc != SQLITE_DONE) {
		store_note_failure(st, "reading messages");
		goto fail;
	}
	if (tree_number_path(st, session_id, *out, *n, 0) != 0 ||
	    tree_fill_attachments(st, *out, *n) != 0 || store_spill_fill(st, *out, *n) != 0)
		goto fail;
	return 0;
fail:
	store_messages_free(*out, *n);
	*out = NULL;
	*n = 0;
	return -1;
}

/* A page of the path: up to limit messages from from, stopping before stop. */
int
store_messages_page(struct store *st, int64_t session_id, int64_t from, int64_t stop,
    size_t limit, struct message_row **out, size_t *n, int64_t *above)
{
	int64_t steps = limit > 0 && limit < INT64_MAX ? (int64_t)limit : INT64_MAX, at;
	struct message_row *r, *sorted;
	int64_t *depth = NULL;
	sqlite3_stmt *s;
	size_t cap = 0, i;
	int rc;

	*out = NULL;
	*n = 0;
	*above = 0;
	if (from == 0 && (from = tree_head(st, session_id)) < 0)
		return -1;
	if (from == 0 || from == stop)
		return 0;
	if ((s = tree_prepare(st, TREE_PAGE_SQL, "reading messages")) == NULL)
		return -1;
	sqlite3_bind_int64(s, 1, from);
	sqlite3_bind_int64(s, 2, steps);
	sqlite3_bind_int64(s, 3, stop);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		/* The row the walk ended on: the stop, or the step past the limit, is where
		 * the next page starts; past a first message, or at a parent that is gone,
		 * the path ends. */
		if (sqlite3_column_type(s, 0) == SQLITE_NULL) {
			at = sqlite3_column_int64(s, 25);
			if (sqlite3_column_type(s, 25) != SQLITE_NULL &&
			    (at == stop || sqlite3_column_int64(s, 26) == steps))
				*above = at;
			continue;
		}
		if (*n == cap) {
			cap = cap ? cap * 2 : 16;
			*out = xrealloc(*out, cap * sizeof(**out));
			depth = xrealloc(depth, cap * sizeof(*depth));
		}
		depth[*n] = sqlite3_column_int64(s, 26);
		r = &(*out)[(*n)++];
		store_row_message(s, r);
		r->signature = sqlite3_column_type(s, 24) == SQLITE_NULL ? NULL :
		    xstrdup((const char *)sqlite3_column_text(s, 24));
	}
	sqlite3_finalize(s);
	if (rc != SQLITE_DONE) {
		store_note_failure(st, "reading messages");
		goto fail;
	}
	/* One row per step: the depths are 0 to n - 1, the deepest the first message. */
	sorted = xmalloc((*n + 1) * sizeof(*sorted));
	for (i = 0; i < *n; i++) {
		if (depth[i] < 0 || depth[i] >= (int64_t)*n) {
			free(sorted);
			store_note_failure(st, "reading messages (a path out of order)");
			goto fail;
		}
		sorted[*n - 1 - (size_t)depth[i]] = (*out)[i];
	}
	free(*out);
	*out = sorted;
	free(depth);
	depth = NULL;
	/* A short page looks alternatives and files up row by row; a long one reads the
	 * session's at once. */
	if (*n <= TREE_PAGE_ROWS) {
		if (tree_number_path(st, session_id, *out, *n, *above) != 0 ||
		    store_attach_fill_rows(st, *out, *n) != 0)
			goto fail;
	} else if ((rc = tree_number_bulk(st, session_id, *out, *n, *above)) < 0 ||
	    (rc == 0 && tree_number_path(st, session_id, *out, *n, *above) != 0) ||
	    tree_fill_attachments(st, *out, *n) != 0)
		goto fail;
	if (store_spill_fill(st, *out, *n) != 0)
		goto fail;
	return 0;
fail:
	free(depth);
	store_messages_free(*out, *n);
	*out = NULL;
	*n = 0;
	*above = 0;
	return -1;
}

/* Add up the messages of a path from from on, reading no text. */
int
store_path_sums(struct store *st, int64_t from, size_t limit, struct store_path_sums *sums,
    int64_t *next)
{
	sqlite3_stmt *s;
	int rc;

	*next = 0;
	if (from <= 0)
		return 0;
	if ((s = tree_prepare(st, TREE_SUMS_SQL, "counting messages")) == NULL)
		return -1;
	sqlite3_bind_int64(s, 1, from);
	sqlite3_bind_int64(s, 2, limit > 0 && limit < INT64_MAX ? (int64_t)limit : INT64_MAX);
	sqlite3_bind_int64(s, 3, 0);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		sums->count += (long)sqlite3_column_int64(s, 0);
		sums->tokens += (long)sqlite3_column_int64(s, 1);
		sums->cost += sqlite3_column_double(s, 2);
		sums->cost_known += (long)sqlite3_column_int64(s, 3);
		/* The step past the limit is where the next call starts; a dangling parent
		 * names no row, and the next call counts none and ends. */
		*next = sqlite3_column_int64(s, 0) > 0 ? sqlite3_column_int64(s, 4) : 0;
		rc = SQLITE_DONE;
	}
	sqlite3_finalize(s);
	if (rc != SQLITE_DONE) {
		store_note_failure(st, "counting messages");
		return -1;
	}
	return 0;
}

/* The path on screen of a session. */
int
store_messages(struct store *st, int64_t session_id, struct message_row **out, size_t *n)
{
	return store_messages_path(st, session_id, 0, out, n);
}

/* Order (parent, id) pairs for numbering alternatives. */
static int
tree_pair_cmp(const void *a, const void *b)
{
	const int64_t *x = a, *y = b;

	if (x[0] != y[0])
		return x[0] < y[0] ? -1 : 1;
	return x[1] < y[1] ? -1 : x[1] > y[1];
}

/* Number the alternatives of rows from..n (own rows with parents resolved). */
static void
tree_number_all(struct message_row *rows, size_t from, size_t n)
{
	int64_t (*pairs)[3] = xcalloc(n - from + 1, sizeof(*pairs));
	size_t i, j, k, m = n - from;

	for (i = 0; i < m; i++) {
		pairs[i][0] = rows[from + i].parent_id;
		pairs[i][1] = rows[from + i].id;
		pairs[i][2] = (int64_t)(from + i);
	}
	qsort(pairs, m, sizeof(*pairs), tree_pair_cmp);
	for (i = 0; i < m; i = j) {
		for (j = i; j < m && pairs[j][0] == pairs[i][0]; j++)
			;
		for (k = i; k < j; k++) {
			rows[pairs[k][2]].nalt = (int)(j - i);
			rows[pairs[k][2]].alt = (int)(k - i) + 1;
		}
	}
	free(pairs);
}

/* The whole tree of a session: a fork's shared path, then every own message by seq. */
int
store_messages_tree(struct store *st, int64_t session_id, struct message_row **out,
    size_t *n)
{
	struct session_row *row = store_session_get(st, session_id);
	struct message_row *pre = NULL, *own = NULL;
	size_t npre = 0, nown = 0, i;

	*out = NULL;
	*n = 0;
	if (row == NULL)
		return -1;
	if (row->forked_from > 0 &&
	    store_messages_path(st, session_id, row->forked_from, &pre, &npre) != 0)
		goto fail;
	if (store_messages_seq(st, session_id, &own, &nown) != 0)
		goto fail;
	store_sessions_free(row, 1);
	row = NULL;
	/* Older rows follow the row before them; the first one the fork's origin or none. */
	for (i = 0; i < nown; i++) {
		if (own[i].parent_id == 0)
			own[i].parent_id = i > 0 ? own[i - 1].id : STORE_FIRST;
	}
	*out = xrealloc(pre, (npre + nown + 1) * sizeof(**out));
	if (nown > 0)
		memcpy(*out + npre, own, nown * sizeof(*own));
	free(own);
	*n = npre + nown;
	for (i = 0; i < npre; i++)
		if ((*out)[i].parent_id == 0)
			(*out)[i].parent_id = i > 0 ? (*out)[i - 1].id : STORE_FIRST;
	tree_number_all(*out, npre, *n);
	return 0;
fail:
	store_sessions_free(row, 1);
	store_messages_free(pre, npre);
	return -1;
}

/* The end of the newest line of messages from id on. */
int64_t
store_branch_leaf(struct store *st, int64_t session_id, int64_t id)
{
	sqlite3_stmt *s = tree_prepare(st, TREE_CHILDREN_SQL, "reading a message's alternatives");
	int64_t *ids;
	size_t n;

	if (s == NULL)
		return -1;
	for (;;) {
		if (tree_children_run(st, s, session_id, id, &ids, &n) != 0) {
			id = -1;
			break;
		}
		if (n == 0)
			break;
		id = ids[n - 1];
		free(ids);
	}
	sqlite3_finalize(s);
	return id;
}

/* Run one statement with two integer parameters; -1 on failure. */
static int
tree_exec2(struct store *st, const char *sql, int64_t a, int64_t b, const char *what)
{
	sqlite3_stmt *s = tree_prepare(st, sql, what);
	int rc;

	if (s == NULL)
		return -1;
	sqlite3_bind_int64(s, 1, a);
	if (b != 0)
		sqlite3_bind_int64(s, 2, b);
	rc = sqlite3_step(s);
	sqlite3_finalize(s);
	if (rc != SQLITE_DONE) {
		store_note_failure(st, what);
		return -1;
	}
	return 0;
}

/* Make the path on screen end at head (0: at the newest message). */
int
store_session_set_head(struct store *st, int64_t id, int64_t head)
{
	if (tree_exec2(st, "UPDATE sessions SET head_id = ?2 WHERE id = ?1", id, head,
	    "choosing an alternative") != 0)
		return -1;
	if (sqlite3_changes(store_handle(st)) == 0) {
		store_note_failure(st, "choosing an alternative (no such session)");
		return -1;
	}
	return 0;
}

/* A new session going on from message msg of session from. */
int64_t
store_session_fork(struct store *st, int64_t from, int64_t msg)
{
	sqlite3_stmt *s;
	int rc;

	s = tree_prepare(st, "INSERT INTO sessions (title, provider, model, system, created,"
	    " updated, forked_from) SELECT title || ' (fork)', provider, model, system, ?3, ?3, ?2"
	    " FROM sessions WHERE id = ?1 AND EXISTS (SELECT 1 FROM messages WHERE id = ?2)",
	    "forking a session");
	if (s == NULL)
		return -1;
	sqlite3_bind_int64(s, 1, from);
	sqlite3_bind_int64(s, 2, msg);
	sqlite3_bind_int64(s, 3, (int64_t)time(NULL));
	rc = sqlite3_step(s);
	sqlite3_finalize(s);
	if (rc != SQLITE_DONE) {
		store_note_failure(st, "forking a session");
		return -1;
	}
	if (sqlite3_changes(store_handle(st)) == 0) {
		store_note_failure(st, "forking a session (no such session or message)");
		return -1;
	}
	return sqlite3_last_insert_rowid(store_handle(st));
}

/* Delete message id and everything that follows it in its session. */
int
store_message_delete_tree(struct store *st, int64_t session_id, int64_t id)
{
	return tree_exec2(st, "WITH RECURSIVE sub(id) AS (SELECT ?2 UNION"
	    " SELECT c.id FROM sub JOIN messages c ON c.session_id = ?1 AND c.parent_id = sub.id"
	    " UNION SELECT n.id FROM sub JOIN messages p ON p.id = sub.id JOIN messages n"
	    " ON n.session_id = ?1 AND n.parent_id IS NULL AND n.seq = (SELECT min(q.seq)"
	    " FROM messages q WHERE q.session_id = ?1 AND q.seq > p.seq))"
	    " DELETE FROM messages WHERE session_id = ?1 AND id IN (SELECT id FROM sub)",
	    session_id, id, "deleting messages");
}
