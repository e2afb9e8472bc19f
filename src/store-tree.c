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
 *
 * In a fork, the rows of its shared path have alternatives too: regenerating or editing a
 * shared message makes an own row of the fork that follows the same message, so the
 * message's children seen from the fork are its next row on the shared path and the fork's
 * own rows after it. The other session never sees the fork's rows (children are read per
 * session), so what it shows is left as it was. Deleting a session (or a subtree of it)
 * whose rows a fork shares first hands those rows over to the fork: they become the
 * fork's own, keeping their ids, texts and parents, so nothing is copied and nothing the
 * fork shows is lost.
 *
 * A comparison round is a prompt with one reply per column as its children (in its
 * compare group, each naming its column), each column's tool calls and later replies
 * following its reply; the next round's prompt follows the line of the column kept
 * (column 1's until one is), so the path on screen goes through one reply per round and
 * the others are its alternatives. While no column of a round is kept, the path read
 * for the screen brings in the round's other columns beside the one it goes through
 * (store_rounds_whole, on whole exchanges: a path or pages put together), each column's
 * newest reply and its line, so the round shows side by side; those replies count their alternatives within their column (a column retried
 * alone). Older rounds stored every reply in one line by seq and are read as they are.
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
#define TREE_UP_SQL \
	"WITH RECURSIVE path(id, depth) AS (SELECT ?1, 0 UNION ALL" \
	" SELECT CASE WHEN m.parent_id IS NULL THEN (SELECT p.id FROM messages p" \
	" WHERE p.session_id = m.session_id AND p.seq < m.seq ORDER BY p.seq DESC LIMIT 1)" \
	" WHEN m.parent_id > 0 AND m.parent_id < m.id THEN m.parent_id END, path.depth + 1" \
	" FROM path JOIN messages m ON m.id = path.id)"

/* The rows of the walk, first message first. */
#define TREE_PATH_SQL TREE_UP_SQL \
	" SELECT " MESSAGE_COLUMNS ", m.content, m.reasoning, m.parent_id FROM path" \
	" JOIN messages m ON m.id = path.id ORDER BY path.depth DESC"

/* The ids and sessions of the walk, first message first. */
#define TREE_IDS_SQL TREE_UP_SQL \
	" SELECT m.id, m.session_id FROM path JOIN messages m ON m.id = path.id" \
	" ORDER BY path.depth DESC"

/* The replies of the round whose prompt is ?2 (group ?3), every column's, oldest first. */
#define TREE_ROUND_SQL \
	"SELECT " MESSAGE_COLUMNS ", m.content, m.reasoning, m.parent_id, m.reasoning_signature" \
	" FROM messages m WHERE m.session_id = ?1 AND m.parent_id = ?2 AND m.compare_group = ?3" \
	" AND m.role <> 'user' AND m.slot IS NOT NULL ORDER BY m.id"

/* The newest row following ?2 in group ?3 and column ?4: the next of a column's line. */
#define TREE_LINE_SQL \
	"SELECT " MESSAGE_COLUMNS ", m.content, m.reasoning, m.parent_id, m.reasoning_signature" \
	" FROM messages m WHERE m.session_id = ?1 AND m.parent_id = ?2 AND m.compare_group = ?3" \
	" AND m.slot = ?4 AND m.id > ?2 ORDER BY m.id DESC LIMIT 1"

/* The rows following ?2 in group ?3 and column ?4: a column's alternatives. */
#define TREE_COLUMN_SQL \
	"SELECT id FROM messages WHERE session_id = ?1 AND parent_id = ?2" \
	" AND compare_group = ?3 AND slot = ?4 ORDER BY id"

/* A fork's shared path (the walk up from its origin): ids and sessions, first first. */
struct tree_fork {
	int64_t *ids;
	int64_t *sess;
	size_t n;
};

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

/* Free a fork's shared path. */
static void
tree_fork_free(struct tree_fork *fk)
{
	free(fk->ids);
	free(fk->sess);
	memset(fk, 0, sizeof(*fk));
}

/* Read the walk up from message from into fk (empty when from is 0). */
static int
tree_walk_ids(struct store *st, int64_t from, struct tree_fork *fk)
{
	sqlite3_stmt *s;
	size_t cap = 0;
	int rc;

	memset(fk, 0, sizeof(*fk));
	if (from <= 0)
		return 0;
	if ((s = tree_prepare(st, TREE_IDS_SQL, "reading a fork's shared path")) == NULL)
		return -1;
	sqlite3_bind_int64(s, 1, from);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		if (fk->n == cap) {
			cap = cap ? cap * 2 : 16;
			fk->ids = xrealloc(fk->ids, cap * sizeof(*fk->ids));
			fk->sess = xrealloc(fk->sess, cap * sizeof(*fk->sess));
		}
		fk->ids[fk->n] = sqlite3_column_int64(s, 0);
		fk->sess[fk->n++] = sqlite3_column_int64(s, 1);
	}
	sqlite3_finalize(s);
	if (rc != SQLITE_DONE) {
		store_note_failure(st, "reading a fork's shared path");
		tree_fork_free(fk);
		return -1;
	}
	return 0;
}

/* The message a session was forked from (0: none), or -1. */
static int64_t
tree_forked_from(struct store *st, int64_t session_id)
{
	sqlite3_stmt *s = tree_prepare(st, "SELECT coalesce(forked_from, 0) FROM sessions"
	    " WHERE id = ?1", "reading a session's origin");
	int64_t from = 0;
	int rc;

	if (s == NULL)
		return -1;
	sqlite3_bind_int64(s, 1, session_id);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		from = sqlite3_column_int64(s, 0);
	else if (rc != SQLITE_DONE)
		from = -1;
	sqlite3_finalize(s);
	if (from < 0)
		store_note_failure(st, "reading a session's origin");
	return from;
}

/* The shared path of session_id when it is a fork (else an empty one). */
static int
tree_fork_of(struct store *st, int64_t session_id, struct tree_fork *fk)
{
	int64_t from = tree_forked_from(st, session_id);

	memset(fk, 0, sizeof(*fk));
	return from < 0 ? -1 : tree_walk_ids(st, from, fk);
}

/* The row of a fork's shared path that follows parent (0: none): its next step down. */
static int64_t
tree_fork_next(const struct tree_fork *fk, int64_t session_id, int64_t parent)
{
	size_t k;

	if (fk == NULL || fk->n == 0)
		return 0;
	if (parent == 0)
		return fk->sess[0] != session_id ? fk->ids[0] : 0;
	for (k = 0; k + 1 < fk->n; k++)
		if (fk->ids[k] == parent)
			return fk->sess[k + 1] != session_id ? fk->ids[k + 1] : 0;
	return 0;
}

/* Append column 0 of every row s gives to ids (n of them, room for cap); 0, or -1 after
 * noting what failed, with ids freed. */
static int
tree_collect_ids(struct store *st, sqlite3_stmt *s, int64_t **ids, size_t *n, size_t *cap,
    const char *what)
{
	int rc;

	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		if (*n == *cap) {
			*cap = *cap ? *cap * 2 : 4;
			*ids = xrealloc(*ids, *cap * sizeof(**ids));
		}
		(*ids)[(*n)++] = sqlite3_column_int64(s, 0);
	}
	if (rc == SQLITE_DONE)
		return 0;
	store_note_failure(st, what);
	free(*ids);
	*ids = NULL;
	*n = 0;
	return -1;
}

/* Collect the ids a prepared children statement gives for parent, with, in a fork, the
 * next row of its shared path (older than the fork's own rows, so first). */
static int
tree_children_run(struct store *st, sqlite3_stmt *s, const struct tree_fork *fk,
    int64_t session_id, int64_t parent, int64_t **ids, size_t *n)
{
	int64_t next = tree_fork_next(fk, session_id, parent);
	size_t cap = 0, k;
	int rc;

	*ids = NULL;
	*n = 0;
	if (next > 0) {
		cap = 4;
		*ids = xrealloc(*ids, cap * sizeof(**ids));
		(*ids)[(*n)++] = next;
	}
	sqlite3_reset(s);
	sqlite3_bind_int64(s, 1, session_id);
	sqlite3_bind_int64(s, 2, parent);
	rc = tree_collect_ids(st, s, ids, n, &cap, "reading a message's alternatives");
	sqlite3_reset(s);
	if (rc != 0)
		return -1;
	/* Keep them oldest first should a shared row be newer (rows moved by hand). */
	for (k = 1; next > 0 && k < *n && (*ids)[k] < (*ids)[k - 1]; k++) {
		int64_t t = (*ids)[k];

		(*ids)[k] = (*ids)[k - 1];
		(*ids)[k - 1] = t;
	}
	return 0;
}

/* The session message id belongs to; 0 when none (or id is 0), -1 on failure. */
static int64_t
tree_owner(struct store *st, int64_t id)
{
	sqlite3_stmt *s;
	int64_t owner = 0;
	int rc;

	if (id <= 0)
		return 0;
	if ((s = tree_prepare(st, "SELECT session_id FROM messages WHERE id = ?1",
	    "reading a message's session")) == NULL)
		return -1;
	sqlite3_bind_int64(s, 1, id);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		owner = sqlite3_column_int64(s, 0);
	else if (rc != SQLITE_DONE)
		owner = -1;
	sqlite3_finalize(s);
	return owner;
}

/* The messages of a session that follow parent, oldest first. */
int
store_children(struct store *st, int64_t session_id, int64_t parent, int64_t **ids,
    size_t *n)
{
	struct tree_fork fk = { 0 };
	sqlite3_stmt *s;
	int rc;

	*ids = NULL;
	*n = 0;
	/* Only a message of another session (or none) can be followed by a fork's shared
	 * path as well. */
	if (tree_owner(st, parent) != session_id && tree_fork_of(st, session_id, &fk) != 0)
		return -1;
	if ((s = tree_prepare(st, TREE_CHILDREN_SQL, "reading a message's alternatives")) == NULL) {
		tree_fork_free(&fk);
		return -1;
	}
	rc = tree_children_run(st, s, &fk, session_id, parent, ids, n);
	sqlite3_finalize(s);
	tree_fork_free(&fk);
	return rc;
}

/* The replies of a compared round in one column that follow parent, oldest first. */
int
store_children_column(struct store *st, int64_t session_id, int64_t parent, int64_t group,
    int column, int64_t **ids, size_t *n)
{
	sqlite3_stmt *s = tree_prepare(st, TREE_COLUMN_SQL, "reading a column's alternatives");
	size_t cap = 0;
	int rc;

	*ids = NULL;
	*n = 0;
	if (s == NULL)
		return -1;
	sqlite3_bind_int64(s, 1, session_id);
	sqlite3_bind_int64(s, 2, parent);
	sqlite3_bind_int64(s, 3, group);
	sqlite3_bind_int(s, 4, column);
	rc = tree_collect_ids(st, s, ids, n, &cap, "reading a column's alternatives");
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

/* Order two ids. */
static int
tree_id_cmp(const void *a, const void *b)
{
	const int64_t *x = a, *y = b;

	return *x < *y ? -1 : *x > *y;
}

/* The parents of a session's rows that name one, sorted (for counting the fork's own
 * alternatives of shared rows); -1 on failure. */
static int
tree_own_parents(struct store *st, int64_t session_id, int64_t **out, size_t *n)
{
	sqlite3_stmt *s = tree_prepare(st, "SELECT parent_id FROM messages WHERE session_id = ?1"
	    " AND parent_id IS NOT NULL", "reading a fork's alternatives");
	size_t cap = 0;
	int rc;

	*out = NULL;
	*n = 0;
	if (s == NULL)
		return -1;
	sqlite3_bind_int64(s, 1, session_id);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		if (*n == cap) {
			cap = cap ? cap * 2 : 16;
			*out = xrealloc(*out, cap * sizeof(**out));
		}
		(*out)[(*n)++] = sqlite3_column_int64(s, 0);
	}
	sqlite3_finalize(s);
	if (rc != SQLITE_DONE) {
		store_note_failure(st, "reading a fork's alternatives");
		free(*out);
		*out = NULL;
		*n = 0;
		return -1;
	}
	if (*n > 1)
		qsort(*out, *n, sizeof(**out), tree_id_cmp);
	return 0;
}

/* How many of the sorted ids equal v. */
static size_t
tree_count_of(const int64_t *ids, size_t n, int64_t v)
{
	size_t lo = 0, hi = n, k;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (ids[mid] < v)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (k = lo; k < n && ids[k] == v; k++)
		;
	return k - lo;
}

/* Give each of the session's own rows on a path its place among its alternatives, and
 * each shared row of a fork its place before the fork's own rows that follow the same
 * message; the first row follows first_parent when its order implies its parent. */
static int
tree_number_path(struct store *st, int64_t session_id, struct message_row *rows, size_t n,
    int64_t first_parent)
{
	struct tree_fork fk = { 0 };
	sqlite3_stmt *s = NULL;
	int64_t *ids, parent, *own = NULL;
	size_t i, k, nids, nown = 0, c;
	int rc = 0, shared = 0;

	for (i = 0; i < n; i++)
		shared |= rows[i].session_id != session_id;
	if (shared && (tree_fork_of(st, session_id, &fk) != 0 ||
	    tree_own_parents(st, session_id, &own, &nown) != 0)) {
		tree_fork_free(&fk);
		return -1;
	}
	for (i = 0; i < n && rc == 0; i++) {
		parent = rows[i].parent_id > 0 ? rows[i].parent_id : rows[i].parent_id < 0 ? 0 :
		    i > 0 ? rows[i - 1].id : first_parent;
		if (rows[i].session_id != session_id) {
			c = tree_count_of(own, nown, parent);
			if (c > 0) {
				rows[i].nalt = (int)c + 1;
				rows[i].alt = 1;
			}
			continue;
		}
		if (s == NULL && (s = tree_prepare(st, TREE_CHILDREN_SQL,
		    "reading a message's alternatives")) == NULL) {
			rc = -1;
			break;
		}
		if ((rc = tree_children_run(st, s, &fk, session_id, parent, &ids, &nids)) != 0)
			break;
		for (k = 0; k < nids; k++)
			if (ids[k] == rows[i].id) {
				rows[i].nalt = (int)nids;
				rows[i].alt = (int)k + 1;
			}
		free(ids);
	}
	sqlite3_finalize(s);
	tree_fork_free(&fk);
	free(own);
	return rc;
}

/* The free of one row that is not in an array of its own. */
static void
tree_row_free(struct message_row *r)
{
	struct message_row *copy = xmalloc(sizeof(*copy));

	*copy = *r;
	store_messages_free(copy, 1);
	memset(r, 0, sizeof(*r));
}

/* Read the rows a statement gives, appending to *rows. */
static int
tree_collect(struct store *st, sqlite3_stmt *s, struct message_row **rows, size_t *n,
    size_t *cap)
{
	int rc;

	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		if (*n == *cap) {
			*cap = *cap ? *cap * 2 : 8;
			*rows = xrealloc(*rows, *cap * sizeof(**rows));
		}
		store_row_message(s, &(*rows)[*n]);
		(*rows)[*n].signature = sqlite3_column_type(s, 24) == SQLITE_NULL ? NULL :
		    xstrdup((const char *)sqlite3_column_text(s, 24));
		(*n)++;
	}
	sqlite3_reset(s);
	if (rc != SQLITE_DONE) {
		store_note_failure(st, "reading a compared round");
		return -1;
	}
	return 0;
}

/* Order rows by column, then by id. */
static int
tree_column_cmp(const void *a, const void *b)
{
	const struct message_row *x = a, *y = b;

	if (x->column != y->column)
		return x->column < y->column ? -1 : 1;
	return x->id < y->id ? -1 : x->id > y->id;
}

/* Order rows by id. */
static int
tree_row_id_cmp(const void *a, const void *b)
{
	const struct message_row *x = a, *y = b;

	return x->id < y->id ? -1 : x->id > y->id;
}

/* Bring the other columns of the unpicked round whose prompt is (*rows)[k] beside the
 * column the path goes through (its rows k + 1 to e): each column's newest reply with its
 * line, replies first in column order, then the rest of every line by id. */
static int
tree_expand_round(struct store *st, struct message_row **rows, size_t *n, size_t k, size_t e)
{
	struct message_row *p = &(*rows)[k], *cand = NULL, *seg = NULL, *out;
	int64_t sid = p->session_id, pid = p->id, g = p->compare_group;
	int path_col = (*rows)[k + 1].column;
	size_t ncand = 0, ccap = 0, nseg = 0, scap = 0, i, j, nfirst, before;
	sqlite3_stmt *round, *line = NULL;
	int rc = -1;

	if ((round = tree_prepare(st, TREE_ROUND_SQL, "reading a compared round")) == NULL)
		return -1;
	sqlite3_bind_int64(round, 1, sid);
	sqlite3_bind_int64(round, 2, pid);
	sqlite3_bind_int64(round, 3, g);
	if (tree_collect(st, round, &cand, &ncand, &ccap) != 0)
		goto out;
	/* The path's own rows of the round come first, then each other column's. */
	for (i = k + 1; i < e; i++) {
		if (nseg == scap) {
			scap = scap ? scap * 2 : 8;
			seg = xrealloc(seg, scap * sizeof(*seg));
		}
		seg[nseg++] = (*rows)[i];
		memset(&(*rows)[i], 0, sizeof((*rows)[i]));
	}
	nfirst = 1;
	for (i = 0; i < ncand; i++) {
		int c = cand[i].column, newest = 1, shown = 0, alt = 0;

		for (j = 0; j < ncand; j++) {
			if (cand[j].column != c)
				continue;
			alt += j <= i;
			if (j > i)
				newest = 0;
			shown++;
		}
		/* Each first reply counts the alternatives of its own column. */
		if (cand[i].id == seg[0].id) {
			seg[0].nalt = shown;
			seg[0].alt = alt;
		}
		if (c == path_col || !newest || c <= 0)
			continue;
		cand[i].nalt = shown;
		cand[i].alt = alt;
		before = nseg;
		if (nseg == scap) {
			scap = scap ? scap * 2 : 8;
			seg = xrealloc(seg, scap * sizeof(*seg));
		}
		seg[nseg++] = cand[i];
		memset(&cand[i], 0, sizeof(cand[i]));
		nfirst++;
		/* Its line: the newest row after each one, in its column. */
		if (line == NULL && (line = tree_prepare(st, TREE_LINE_SQL,
		    "reading a compared round")) == NULL)
			goto out;
		for (;;) {
			size_t had = nseg;

			sqlite3_reset(line);
			sqlite3_bind_int64(line, 1, sid);
			sqlite3_bind_int64(line, 2, seg[nseg - 1].id);
			sqlite3_bind_int64(line, 3, g);
			sqlite3_bind_int(line, 4, c - 1);
			if (tree_collect(st, line, &seg, &nseg, &scap) != 0)
				goto out;
			if (nseg == had || nseg - before > 100000)
				break;
		}
	}
	/* Replies first, in column order; then the rest of every line as it arrived. */
	{
		struct message_row *firsts = xcalloc(nfirst, sizeof(*firsts)), *rest;
		size_t nf = 0, nr = 0;

		rest = xcalloc(nseg, sizeof(*rest));
		for (i = 0; i < nseg; i++) {
			if (i == 0 || (seg[i].parent_id == pid && seg[i].role != ROLE_USER && nf < nfirst))
				firsts[nf++] = seg[i];
			else
				rest[nr++] = seg[i];
		}
		qsort(firsts, nf, sizeof(*firsts), tree_column_cmp);
		if (nr > 1)
			qsort(rest, nr, sizeof(*rest), tree_row_id_cmp);
		memcpy(seg, firsts, nf * sizeof(*seg));
		memcpy(seg + nf, rest, nr * sizeof(*seg));
		free(firsts);
		free(rest);
	}
	/* Splice the round into the path in place of the path's own rows of it. */
	out = xcalloc(*n - (e - k - 1) + nseg + 1, sizeof(*out));
	memcpy(out, *rows, (k + 1) * sizeof(*out));
	memcpy(out + k + 1, seg, nseg * sizeof(*out));
	memcpy(out + k + 1 + nseg, *rows + e, (*n - e) * sizeof(*out));
	free(*rows);
	*rows = out;
	*n = *n - (e - k - 1) + nseg;
	nseg = 0;
	rc = 0;
out:
	for (i = 0; i < ncand; i++)
		if (cand[i].content != NULL)
			tree_row_free(&cand[i]);
	free(cand);
	for (i = 0; i < nseg; i++)
		if (seg[i].content != NULL)
			tree_row_free(&seg[i]);
	free(seg);
	sqlite3_finalize(round);
	sqlite3_finalize(line);
	return rc;
}

/* Bring in the other columns of every round on the path that no column was kept of. A
 * round stored before the tree (its replies one after another by seq) is already whole. */
static int
tree_expand(struct store *st, struct message_row **rows, size_t *n)
{
	size_t k, e, j;
	int one;

	for (k = 0; k + 1 < *n; k++) {
		struct message_row *p = &(*rows)[k], *r = &(*rows)[k + 1];

		if (p->role != ROLE_USER || p->compare_group <= 0 || p->compare_pick >= 0 ||
		    r->compare_group != p->compare_group || r->role == ROLE_USER ||
		    r->parent_id != p->id || r->column <= 0)
			continue;
		for (e = k + 1; e < *n && (*rows)[e].compare_group == p->compare_group &&
		    (*rows)[e].role != ROLE_USER; e++)
			;
		for (one = 1, j = k + 1; j < e; j++)
			one &= (*rows)[j].column == r->column;
		if (!one)
			continue;
		if (tree_expand_round(st, rows, n, k, e) != 0)
			return -1;
	}
	return 0;
}

/* Give every compared row the number of columns its round has (its group's widest). */
static int
tree_count_columns(struct store *st, struct message_row *rows, size_t n)
{
	sqlite3_stmt *s = NULL;
	int64_t done = 0;
	size_t i, j;
	int cols;

	for (i = 0; i < n; i++) {
		if (rows[i].compare_group <= 0 || rows[i].compare_cols > 0 ||
		    rows[i].compare_group == done)
			continue;
		done = rows[i].compare_group;
		if (s == NULL && (s = tree_prepare(st, "SELECT coalesce(max(slot), -1) + 1 FROM"
		    " messages WHERE compare_group = ?1", "counting a round's columns")) == NULL)
			return -1;
		sqlite3_reset(s);
		sqlite3_bind_int64(s, 1, rows[i].compare_group);
		if (sqlite3_step(s) != SQLITE_ROW) {
			store_note_failure(st, "counting a round's columns");
			sqlite3_finalize(s);
			return -1;
		}
		cols = sqlite3_column_int(s, 0);
		for (j = i; j < n; j++)
			if (rows[j].compare_group == rows[i].compare_group)
				rows[j].compare_cols = cols;
	}
	sqlite3_finalize(s);
	return 0;
}

/* Bring in the other columns of the rounds nobody kept, and count every round's columns. */
int
store_rounds_whole(struct store *st, struct message_row **rows, size_t *n)
{
	if (tree_expand(st, rows, n) != 0 || tree_count_columns(st, *rows, *n) != 0)
		return -1;
	return 0;
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

/* Whether some of the rows are a fork's shared ones (numbered by tree_number_path, which
 * knows the fork's own alternatives of them). */
static int
tree_number_shared(int64_t session_id, const struct message_row *rows, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (rows[i].session_id != session_id)
			return 1;
	return 0;
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
	} else if ((rc = tree_number_shared(session_id, *out, *n) ? 0 :
	    tree_number_bulk(st, session_id, *out, *n, *above)) < 0 ||
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
	if (tree_count_columns(st, *out, *n) != 0) {
		store_messages_free(*out, *n);
		*out = NULL;
		*n = 0;
		return -1;
	}
	return 0;
fail:
	store_sessions_free(row, 1);
	store_messages_free(pre, npre);
	return -1;
}

/* When id is the prompt of a compared round, the reply its line goes on through: the
 * newest of the kept column, else of the first column; 0 when it is none, -1 on failure. */
static int64_t
tree_round_next(struct store *st, int64_t session_id, int64_t id)
{
	sqlite3_stmt *s = tree_prepare(st, "SELECT c.id FROM messages p JOIN messages c"
	    " ON c.session_id = ?1 AND c.parent_id = p.id AND c.compare_group = p.compare_group"
	    " AND c.slot IS NOT NULL AND c.role <> 'user' WHERE p.id = ?2 AND p.role = 'user'"
	    " ORDER BY c.slot = coalesce((SELECT g.picked FROM compare_groups g"
	    " WHERE g.id = p.compare_group), -1) DESC, c.slot, c.id DESC LIMIT 1",
	    "reading a compared round");
	int64_t next = 0;
	int rc;

	if (s == NULL)
		return -1;
	sqlite3_bind_int64(s, 1, session_id);
	sqlite3_bind_int64(s, 2, id);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		next = sqlite3_column_int64(s, 0);
	else if (rc != SQLITE_DONE) {
		store_note_failure(st, "reading a compared round");
		next = -1;
	}
	sqlite3_finalize(s);
	return next;
}

/* The end of the newest line of messages from id on (in a fork, down its shared path
 * too; through a round's kept column). */
int64_t
store_branch_leaf(struct store *st, int64_t session_id, int64_t id)
{
	struct tree_fork fk = { 0 };
	sqlite3_stmt *s;
	int64_t *ids, next, round;
	size_t n;

	if (tree_fork_of(st, session_id, &fk) != 0)
		return -1;
	if ((s = tree_prepare(st, TREE_CHILDREN_SQL, "reading a message's alternatives")) == NULL) {
		tree_fork_free(&fk);
		return -1;
	}
	for (;;) {
		if (tree_children_run(st, s, &fk, session_id, id, &ids, &n) != 0) {
			id = -1;
			break;
		}
		if (n == 0)
			break;
		next = ids[n - 1];
		free(ids);
		/* A round's prompt: the line goes on through the kept column (column 1 until
		 * one is), where the next round hangs. */
		if (n > 1 && (round = tree_round_next(st, session_id, id)) != 0)
			next = round;
		if (next < 0) {
			id = -1;
			break;
		}
		id = next;
	}
	sqlite3_finalize(s);
	tree_fork_free(&fk);
	return id;
}

/* Make message id of session session_id follow message parent (0: a first message). */
int
store_message_set_parent(struct store *st, int64_t session_id, int64_t id, int64_t parent)
{
	sqlite3_stmt *s = tree_prepare(st, "UPDATE messages SET parent_id = ?3 WHERE id = ?1"
	    " AND session_id = ?2 AND ?3 < ?1", "moving a message in the tree");
	int rc;

	if (s == NULL)
		return -1;
	sqlite3_bind_int64(s, 1, id);
	sqlite3_bind_int64(s, 2, session_id);
	sqlite3_bind_int64(s, 3, parent > 0 ? parent : 0);
	rc = sqlite3_step(s);
	sqlite3_finalize(s);
	if (rc != SQLITE_DONE) {
		store_note_failure(st, "moving a message in the tree");
		return -1;
	}
	if (sqlite3_changes(store_handle(st)) == 0) {
		store_note_failure(st, "moving a message in the tree (no such message)");
		return -1;
	}
	return 0;
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

/* The rows store_message_delete_tree deletes: ?2 and what follows it in session ?1. */
#define TREE_SUB_SQL \
	"WITH RECURSIVE sub(id) AS (SELECT ?2 UNION" \
	" SELECT c.id FROM sub JOIN messages c ON c.session_id = ?1 AND c.parent_id = sub.id" \
	" UNION SELECT n.id FROM sub JOIN messages p ON p.id = sub.id JOIN messages n" \
	" ON n.session_id = ?1 AND n.parent_id IS NULL AND n.seq = (SELECT min(q.seq)" \
	" FROM messages q WHERE q.session_id = ?1 AND q.seq > p.seq))"

/* Collect the forks whose origin is a message of session ?1: pairs of (fork, origin). */
static int
tree_forks_of(struct store *st, int64_t session_id, int64_t **pairs, size_t *n)
{
	sqlite3_stmt *s = tree_prepare(st, "SELECT s.id, s.forked_from FROM sessions s"
	    " JOIN messages m ON m.id = s.forked_from WHERE s.forked_from IS NOT NULL"
	    " AND m.session_id = ?1 AND s.id <> ?1 ORDER BY s.id", "finding a session's forks");
	size_t cap = 0;
	int rc;

	*pairs = NULL;
	*n = 0;
	if (s == NULL)
		return -1;
	sqlite3_bind_int64(s, 1, session_id);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		if (*n == cap) {
			cap = cap ? cap * 2 : 4;
			*pairs = xrealloc(*pairs, cap * 2 * sizeof(**pairs));
		}
		(*pairs)[2 * *n] = sqlite3_column_int64(s, 0);
		(*pairs)[2 * *n + 1] = sqlite3_column_int64(s, 1);
		(*n)++;
	}
	sqlite3_finalize(s);
	if (rc != SQLITE_DONE) {
		store_note_failure(st, "finding a session's forks");
		free(*pairs);
		*pairs = NULL;
		*n = 0;
		return -1;
	}
	return 0;
}

/* Move the rows fk.ids[from..to) (the bottom of a fork's shared path, first first) into
 * session fork, before its own rows by seq, and make its origin what they follow. */
static int
tree_move_rows(struct store *st, int64_t fork, const struct tree_fork *fk, size_t from,
    size_t to)
{
	sqlite3_stmt *s;
	int64_t base = 1, origin = from > 0 ? fk->ids[from - 1] : 0;
	size_t k;
	int rc;

	if ((s = tree_prepare(st, "SELECT coalesce(min(seq), 1) FROM messages"
	    " WHERE session_id = ?1", "handing rows to a fork")) == NULL)
		return -1;
	sqlite3_bind_int64(s, 1, fork);
	if (sqlite3_step(s) == SQLITE_ROW)
		base = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	if ((s = tree_prepare(st, "UPDATE messages SET session_id = ?2, seq = ?3 WHERE id = ?1",
	    "handing rows to a fork")) == NULL)
		return -1;
	for (k = from; k < to; k++) {
		sqlite3_reset(s);
		sqlite3_bind_int64(s, 1, fk->ids[k]);
		sqlite3_bind_int64(s, 2, fork);
		sqlite3_bind_int64(s, 3, base - (int64_t)(to - k));
		if ((rc = sqlite3_step(s)) != SQLITE_DONE) {
			store_note_failure(st, "handing rows to a fork");
			sqlite3_finalize(s);
			return -1;
		}
	}
	sqlite3_finalize(s);
	if (origin > 0)
		return tree_exec2(st, "UPDATE sessions SET forked_from = ?2 WHERE id = ?1", fork,
		    origin, "handing rows to a fork");
	return tree_exec2(st, "UPDATE sessions SET forked_from = NULL WHERE id = ?1", fork, 0,
	    "handing rows to a fork");
}

/* Hand the rows of session_id that its forks share over to them, before those rows are
 * deleted (root 0: the whole session; else message root and what follows it). */
int
store_tree_hand_over(struct store *st, int64_t session_id, int64_t root)
{
	struct tree_fork fk = { 0 };
	int64_t *forks;
	size_t nforks, i, bottom, top;
	int rc = 0, resolved = 0;

	if (tree_forks_of(st, session_id, &forks, &nforks) != 0)
		return -1;
	for (i = 0; i < nforks && rc == 0; i++) {
		if ((rc = tree_walk_ids(st, forks[2 * i + 1], &fk)) != 0)
			break;
		/* The fork's path from its origin up while it runs through this session's
		 * rows (up to root only, when a subtree goes). */
		bottom = fk.n;
		for (top = fk.n; top > 0 && fk.sess[top - 1] == session_id; top--)
			if (root > 0 && fk.ids[top - 1] == root) {
				top--;
				break;
			}
		if (top == bottom || (root > 0 && fk.ids[top] != root)) {
			tree_fork_free(&fk);
			continue;
		}
		/* Rows that follow the row before them by seq say so before any moves. */
		if (!resolved && (rc = tree_exec2(st, "UPDATE messages SET parent_id ="
		    " coalesce((SELECT p.id FROM messages p WHERE p.session_id = ?1"
		    " AND p.seq < messages.seq ORDER BY p.seq DESC LIMIT 1), 0)"
		    " WHERE session_id = ?1 AND parent_id IS NULL", session_id, 0,
		    "handing rows to a fork")) != 0)
			break;
		resolved = 1;
		rc = tree_move_rows(st, forks[2 * i], &fk, top, bottom);
		/* With the whole session gone, the rounds of the rows it gave go too. */
		if (rc == 0 && root == 0)
			rc = tree_exec2(st, "UPDATE compare_groups SET session_id = ?2"
			    " WHERE session_id = ?1 AND id IN (SELECT compare_group FROM messages"
			    " WHERE session_id = ?2 AND compare_group IS NOT NULL)", session_id,
			    forks[2 * i], "handing rows to a fork");
		tree_fork_free(&fk);
	}
	tree_fork_free(&fk);
	free(forks);
	return rc;
}

/* Delete message id and everything that follows it in its session, handing what a fork
 * shares of it over to the fork first. */
int
store_message_delete_tree(struct store *st, int64_t session_id, int64_t id)
{
	if (store_tx_begin(st) != 0)
		return -1;
	if (store_tree_hand_over(st, session_id, id) != 0 ||
	    tree_exec2(st, TREE_SUB_SQL " DELETE FROM messages WHERE session_id = ?1"
	    " AND id IN (SELECT id FROM sub)", session_id, id, "deleting messages") != 0) {
		store_tx_end(st, 0);
		return -1;
	}
	return store_tx_end(st, 1);
}
