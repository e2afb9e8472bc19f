/*
 * Session storage in SQLite. One connection per process, used from the UI thread only.
 *
 * Layout choices, and why:
 * - WAL with synchronous=NORMAL: a streaming reply is rewritten several times a second and
 *   each write is its own tiny transaction, so commits must not fsync; WAL keeps every
 *   committed transaction safe from a process crash and the file uncorrupted on power loss.
 * - Each session row carries its message count and token and cost sums, kept by triggers
 *   on `messages` (so rows written by any tool stay counted). Listing the first screen of
 *   sessions is then one indexed read of the sessions table: startup never pages in
 *   message bodies and costs the same however long the histories are. store_check
 *   verifies the sums against the messages.
 * - The FTS5 index holds each finished message as parts of at most STORE_PART_MAX bytes,
 *   cut at whitespace (or else at a UTF-8 boundary), one FTS5 row per part with rowid
 *   message_id * STORE_PARTS + part. FTS5 builds the pending terms of a row in memory, so
 *   a whole 1,000,000-token reply as one row cost ~150 MB; as parts, with a savepoint
 *   between them that makes FTS5 flush, indexing memory is bounded by one part whatever
 *   the message length. A message longer than STORE_PARTS parts (64 MiB) keeps only its
 *   first STORE_PARTS parts searchable. Streaming rows stay unindexed until they finish,
 *   so a reply is tokenised once, not on every flush. The table keeps its own copy of the
 *   parts (not external content), so snippets and FTS5's integrity-check read one 16 KiB
 *   part rather than the whole message; the cost is the text stored twice on disk.
 * - Triggers keep the index in step for every writer: deleting or editing a message
 *   deletes its parts, and a finished message of one part (nearly all of them) is indexed
 *   by the trigger itself. Longer messages are cut and indexed in store-index.c; a
 *   long message inserted by another tool stays unindexed, which store_check reports.
 *   The porter stemmer lets a search for "lifetime" find "lifetimes", which is what
 *   people expect from a history search.
 * - A reply left 'streaming' by a natter that died (crash, SIGKILL, power loss) becomes
 *   'interrupted', and so searchable, when the database is next opened (store-lease.c).
 *   Several natters may have the database open at once, so "its writer is gone" must be
 *   decided without touching a reply that is arriving right now in another process. The
 *   rule is a lease the kernel keeps for us: each open store write-locks one byte (its
 *   slot) of the file beside the database named <db>-lease, holds the lock until it
 *   closes, and stamps the rows it streams with the slot (messages.writer). The kernel
 *   drops a lock when its holder exits however it exits, and a power loss leaves none, so
 *   being able to lock a slot proves that whoever stamped rows with it is gone, and a row
 *   whose slot is locked belongs to a live natter and is left alone. Rejected: a staleness
 *   threshold on the last flush, because a live reply can go quiet for minutes (a model
 *   thinking silently, a retry sleeping on Retry-After, a stall not yet timed out), so it
 *   either misfires or needs heartbeat writes, and a dead reply still reads 'streaming'
 *   until the threshold passes; a recorded pid, because pids are reused and another pid
 *   namespace may share the data directory; SQLite's own locks, which last one
 *   transaction. Open-file-description locks are used where they exist, so two stores
 *   open in one process hold separate leases too. Should a live reply ever be marked
 *   wrongly (say its natter could not take a lease), its next flush writes 'streaming'
 *   back and its last write the final state: the rule can err only for a moment.
 * - Statements are prepared on first use and kept, so opening the store costs only the
 *   pragmas, a schema version check and one lookup in a (nearly always empty) index of
 *   streaming rows.
 * - Session ids are never reused (AUTOINCREMENT), and a message is updated only in its
 *   own session: a natter still showing a session that another natter deleted must find
 *   its rows gone (and save the conversation anew, see session.h) rather than write into
 *   whatever took the ids since.
 * - Usage figures (natter metrics) come from SQL aggregates over two partial indexes of
 *   the replies that cover every figure they add up, one by model and one by time: a
 *   million messages are summed without reading their texts or sorting them.
 * - Messages form a tree (schema 14, store-tree.c): each names its parent, older rows
 *   leave it NULL and follow the row before them by seq, a session's head_id picks the
 *   path on screen and a fork's forked_from shares another session's rows. Loading reads
 *   only that path, walking parents by primary key; a partial index finds children. A
 *   comparison round's replies are siblings under its prompt, and a round nobody kept is
 *   read whole. Deleting rows a fork shares hands them over to the fork first (they move,
 *   keeping their ids), so a fork never loses its history to its origin's deletion.
 * - A reply longer than STORE_SPILL_AT is appended as it arrives, in rows of
 *   message_spill beside its message (schema 17, store-spill.c), instead of rewritten at
 *   every flush: rewriting cost the whole text each time, in time and in memory, and held
 *   it in SQLite's memory once more. Readers of whole messages get the rows appended, and
 *   the search index is built from them part by part.
 * - The tables, triggers and migrations live in store-schema.c. Any number of natters may
 *   create or upgrade one database at once, so each migration step re-reads the schema
 *   version under the write lock and commits with its version bump (see that file).
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
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

/* The session columns, counts and sums, shared by the list and the single-row query. */
#define SESSION_SELECT \
	"SELECT id, title, provider, model, system, created, updated, nmessages," \
	" input_tokens, output_tokens, cost, summary, summary_covers," \
	SESSION_ANSWERED ", archived, forked_from, head_id FROM sessions"

/* A comparison session's models that replied, for its label (session_row_label): only
 * sessions with a compare group read their messages, through the session's index. */
#define SESSION_ANSWERED \
	" CASE WHEN EXISTS (SELECT 1 FROM compare_groups g WHERE g.session_id = sessions.id)" \
	" THEN (SELECT group_concat(pm, char(10)) FROM (SELECT m.provider || char(9) ||" \
	" m.model || char(9) || max(m.state <> 'error') AS pm FROM messages m" \
	" WHERE m.session_id = sessions.id AND m.role = 'assistant' AND m.provider IS NOT NULL" \
	" AND m.model IS NOT NULL GROUP BY m.provider, m.model ORDER BY min(m.seq))) END"

/* The figures of a group of replies, after its two key columns: calls, token sums, the
 * known costs' sum and count, the median time to first token and the median output rate
 * (as metrics.c computes a reply's: tokens after the first over the time after it). */
#define USAGE_FIGURES \
	"count(m.id), coalesce(sum(m.input_tokens), 0), coalesce(sum(m.output_tokens), 0)," \
	" total(m.cost), count(m.cost), natter_median(m.ttft_ms), natter_median(CASE WHEN" \
	" m.output_tokens > 0 AND m.ttft_ms >= 0 AND m.duration_ms > m.ttft_ms THEN" \
	" m.output_tokens * 1000.0 / (m.duration_ms - m.ttft_ms) END)"

static const char *const store_sql[SQL_COUNT] = {
	[SQL_BEGIN] = "BEGIN IMMEDIATE",
	[SQL_COMMIT] = "COMMIT",
	[SQL_ROLLBACK] = "ROLLBACK",
	/* Inside a batch (store_batch_begin) each writer's transaction is a savepoint. */
	[SQL_NEST_BEGIN] = "SAVEPOINT store_nest",
	[SQL_NEST_RELEASE] = "RELEASE store_nest",
	[SQL_NEST_ROLLBACK] = "ROLLBACK TO store_nest",
	[SQL_SESSION_NEW] = "INSERT INTO sessions (title, provider, model, created, updated)"
	    " VALUES (?1, ?2, ?3, ?4, ?4)",
	[SQL_SESSION_RENAME] = "UPDATE sessions SET title = ?2, updated = ?3 WHERE id = ?1",
	[SQL_SESSION_SET_MODEL] = "UPDATE sessions SET provider = ?2, model = ?3, updated = ?4"
	    " WHERE id = ?1",
	[SQL_SESSION_SET_SYSTEM] = "UPDATE sessions SET system = ?2, updated = ?3 WHERE id = ?1",
	[SQL_SESSION_DELETE] = "DELETE FROM sessions WHERE id = ?1",
	/* A new message is the newest of its session, so the path on screen ends there. */
	[SQL_SESSION_TOUCH] = "UPDATE sessions SET updated = ?2, head_id = NULL WHERE id = ?1",
	[SQL_SESSIONS] = SESSION_SELECT " WHERE archived = 0 ORDER BY updated DESC, id DESC"
	    " LIMIT ?1",
	/* The archive is read by its own partial index (sessions_archived). */
	[SQL_SESSIONS_ARCHIVED] = SESSION_SELECT " WHERE archived <> 0"
	    " ORDER BY updated DESC, id DESC LIMIT ?1",
	[SQL_SESSIONS_ALL] = SESSION_SELECT " ORDER BY updated DESC, id DESC LIMIT ?1",
	/* Archiving is no activity: the session keeps its place by its last update. */
	[SQL_SESSION_ARCHIVE] = "UPDATE sessions SET archived = ?2 WHERE id = ?1",
	[SQL_SESSION_GET] = SESSION_SELECT " WHERE id = ?1",
	[SQL_SESSION_EXISTS] = "SELECT 1 FROM sessions WHERE id = ?1",
	[SQL_MSG_EXISTS] = "SELECT 1 FROM messages WHERE id = ?1 AND session_id = ?2",
	[SQL_MSG_ADD] = "INSERT INTO messages (session_id, seq, role, provider, model, created_ms,"
	    " state, error, finish_reason, input_tokens, output_tokens, cost, ttft_ms,"
	    " duration_ms, compare_group, content, reasoning, writer, pinned, tool_id, tool_name,"
	    " tool_error, slot, parent_id) VALUES (?1,"
	    " (SELECT coalesce(max(seq), 0) + 1 FROM messages WHERE session_id = ?1),"
	    " ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19,"
	    " ?20, ?21, ?22, ?23)",
	/* A long reply's writer binds no content (NULL): its text is appended elsewhere. */
	[SQL_MSG_UPDATE] = "UPDATE messages SET content = coalesce(?2, content), reasoning = ?3,"
	    " state = ?4,"
	    " error = ?5, finish_reason = ?6, input_tokens = ?7, output_tokens = ?8, cost = ?9,"
	    " ttft_ms = ?10, duration_ms = ?11, provider = ?12, model = ?13, writer = ?14"
	    " WHERE id = ?1 AND (?15 IS NULL OR session_id = ?15)",
	[SQL_MSG_TOUCH_SESSION] = "UPDATE sessions SET updated = ?2"
	    " WHERE id = (SELECT session_id FROM messages WHERE id = ?1)",
	[SQL_MSG_DELETE_AFTER] = "DELETE FROM messages WHERE session_id = ?1 AND seq >"
	    " coalesce((SELECT seq FROM messages WHERE id = ?2 AND session_id = ?1), 0)",
	[SQL_MSGS] = "SELECT " MESSAGE_COLUMNS ", m.content, m.reasoning, m.parent_id"
	    " FROM messages m WHERE m.session_id = ?1 ORDER BY m.seq",
	/*
	 * The search's candidates newest first from a rowid down (store-search.c): each part
	 * with its text, and for ranking its message's role (a part without its message is
	 * left out there, and when its message is read for a page). FTS5 walks its doclist backwards from the
	 * bound, so a page costs the same whether the query matches ten messages or all of
	 * them; the text is read again by the search's own matcher (store-match.c) for the
	 * snippet and, when the query was loosened, to keep only real hits. SQL_SEARCH_FTS is
	 * for the queries that matcher leaves to FTS5, with FTS5's snippet (and bm25);
	 * SQL_SEARCH_SCAN is every part, when nothing is left to ask the index.
	 */
	[SQL_SEARCH_PARTS] = "SELECT rowid, content, NULL FROM messages_fts"
	    " WHERE messages_fts MATCH ?1 AND rowid < ?2 ORDER BY rowid DESC",
	[SQL_SEARCH_RANKED] = "SELECT messages_fts.rowid, messages_fts.content, m.role"
	    " FROM messages_fts CROSS JOIN messages m ON m.id = messages_fts.rowid / 4096"
	    " WHERE messages_fts MATCH ?1 AND messages_fts.rowid < ?2"
	    " ORDER BY messages_fts.rowid DESC",
	[SQL_SEARCH_FTS] = "SELECT rowid, content, NULL,"
	    " snippet(messages_fts, 0, char(2), char(3), '\xe2\x80\xa6', 16)"
	    " FROM messages_fts WHERE messages_fts MATCH ?1 AND rowid < ?2 ORDER BY rowid DESC",
	[SQL_SEARCH_FTS_RANK] = "SELECT messages_fts.rowid, messages_fts.content, m.role,"
	    " snippet(messages_fts, 0, char(2), char(3), '\xe2\x80\xa6', 16), bm25(messages_fts)"
	    " FROM messages_fts CROSS JOIN messages m ON m.id = messages_fts.rowid / 4096"
	    " WHERE messages_fts MATCH ?1 AND messages_fts.rowid < ?2"
	    " ORDER BY messages_fts.rowid DESC",
	[SQL_SEARCH_SCAN] = "SELECT rowid, content, NULL FROM messages_fts"
	    " WHERE rowid < ?2 AND ?1 IS NOT NULL ORDER BY rowid DESC",
	[SQL_SEARCH_SCAN_RANKED] = "SELECT messages_fts.rowid, messages_fts.content, m.role"
	    " FROM messages_fts CROSS JOIN messages m ON m.id = messages_fts.rowid / 4096"
	    " WHERE messages_fts.rowid < ?2 AND ?1 IS NOT NULL ORDER BY messages_fts.rowid DESC",
	[SQL_SEARCH_PART] = "SELECT content FROM messages_fts WHERE rowid = ?1",
	[SQL_SEARCH_MESSAGE] = "SELECT " MESSAGE_COLUMNS ", NULL, NULL FROM messages m"
	    " WHERE m.id = ?1",
	/* The index's terms from ?1 on, one row per instance (the temporary fts5vocab table
	 * store-search.c makes), to tell how much of the index a prefix covers. */
	[SQL_SEARCH_TERMS] = "SELECT term FROM temp.natter_fts_terms WHERE term >= ?1",
	/* FTS5's averages record: how many rows and tokens the index holds. */
	[SQL_SEARCH_TOTALS] = "SELECT block FROM messages_fts_data WHERE id = 1",
	/* Every matching part in rowid order (a message's parts are adjacent), for the count. */
	[SQL_SEARCH_COUNT] = "SELECT rowid FROM messages_fts WHERE messages_fts MATCH ?1",
	/* A split walk (store-search.c): the lower half's hits newest first, one part with
	 * its text and role, the first part from a rowid on (a sample), and the newest and
	 * oldest parts (?1 picks the end). */
	[SQL_SEARCH_BELOW] = "SELECT rowid FROM messages_fts WHERE messages_fts MATCH ?1"
	    " AND rowid < ?2 ORDER BY rowid DESC",
	[SQL_SEARCH_ROW] = "SELECT messages_fts.rowid, messages_fts.content, m.role"
	    " FROM messages_fts LEFT JOIN messages m ON m.id = messages_fts.rowid / 4096"
	    " WHERE messages_fts.rowid = ?1",
	[SQL_SEARCH_AFTER] = "SELECT rowid, content FROM messages_fts WHERE rowid >= ?1"
	    " ORDER BY rowid LIMIT 1",
	[SQL_SEARCH_EDGE] = "SELECT coalesce((SELECT rowid FROM messages_fts ORDER BY rowid"
	    " LIMIT 1), 0), coalesce((SELECT rowid FROM messages_fts ORDER BY rowid DESC"
	    " LIMIT 1), 0)",
	[SQL_GROUP_NEW] = "INSERT INTO compare_groups (session_id, created) VALUES (?1, ?2)",
	[SQL_PART_EXISTS] = "SELECT 1 FROM messages_fts WHERE rowid = ?1 * 4096",
	[SQL_PART_INSERT] = "INSERT INTO messages_fts (rowid, content) VALUES (?1, ?2)",
	/* FTS5 writes its pending terms out at every savepoint: one per part bounds them. */
	[SQL_PART_SAVEPOINT] = "SAVEPOINT store_part",
	[SQL_PART_RELEASE] = "RELEASE store_part",
	[SQL_UNINDEXED] = "SELECT id, content FROM messages m WHERE state <> 'streaming'"
	    " AND NOT EXISTS (SELECT 1 FROM messages_fts WHERE rowid = m.id * 4096)",
	/* Both read the partial index messages_streaming; -1 stands for "no lease". */
	[SQL_STREAMING_WRITERS] = "SELECT DISTINCT coalesce(writer, -1) FROM messages"
	    " WHERE state = 'streaming'",
	[SQL_STREAMING_OF] = "SELECT id FROM messages WHERE state = 'streaming'"
	    " AND coalesce(writer, -1) = ?1",
	[SQL_INTERRUPT] = "UPDATE messages SET state = 'interrupted', writer = NULL"
	    " WHERE id = ?1 AND state = 'streaming'",
	[SQL_MSG_CONTENT] = "SELECT content FROM messages WHERE id = ?1",
	[SQL_GROUP_PICK] = "UPDATE compare_groups SET picked = ?2 WHERE id = ?1",
	[SQL_IMPORT_SESSION] = "INSERT INTO sessions (title, provider, model, system, created,"
	    " updated, summary, summary_covers) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
	[SQL_IMPORT_GROUP] = "INSERT INTO compare_groups (session_id, created, picked)"
	    " VALUES (?1, ?2, ?3)",
	[SQL_IMPORT_MSG] = "INSERT INTO messages (session_id, seq, role, provider, model,"
	    " created_ms, state, error, finish_reason, input_tokens, output_tokens, cost, ttft_ms,"
	    " duration_ms, compare_group, content, reasoning, pinned, tool_id, tool_name,"
	    " tool_error, slot) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13,"
	    " ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22)",
	/* The triggers add the costs up in insertion order; the original sums may have been
	 * made in another order (replies finishing out of turn, rows deleted), so the sum the
	 * export carries is kept as it is when it is that close. */
	[SQL_IMPORT_COST] = "UPDATE sessions SET cost = ?2 WHERE id = ?1 AND abs(cost - ?2) <= 1e-6",
	/*
	 * Usage of the replies (natter metrics), grouped in SQL with medians from the
	 * aggregate natter_median (store_median_step). The per-model query is one ordered
	 * pass over the covering index messages_usage_by_model, the per-day query a range of
	 * messages_usage_by_time, so neither reads message texts or sorts; the sessions query
	 * reads the newest sessions by their index and their replies by messages_by_session.
	 */
	[SQL_USAGE_MODEL] = "SELECT provider, model, " USAGE_FIGURES " FROM messages m"
	    " WHERE role = 'assistant' GROUP BY provider, model"
	    " ORDER BY count(*) DESC, provider, model",
	[SQL_USAGE_DAY] = "SELECT date(created_ms / 1000, 'unixepoch', 'localtime') AS day, NULL, "
	    USAGE_FIGURES " FROM messages m WHERE role = 'assistant' AND created_ms >= ?1"
	    " GROUP BY day ORDER BY day DESC",
	[SQL_USAGE_SESSION] = "SELECT s.id, s.title, " USAGE_FIGURES " FROM (SELECT id, title,"
	    " updated FROM sessions ORDER BY updated DESC, id DESC LIMIT ?2) s"
	    " LEFT JOIN messages m ON m.session_id = s.id AND m.role = 'assistant'"
	    " GROUP BY s.id ORDER BY s.updated DESC, s.id DESC",
	[SQL_SESSION_SET_SUMMARY] = "UPDATE sessions SET summary = ?2, summary_covers = ?3"
	    " WHERE id = ?1",
	[SQL_MSG_SET_PINNED] = "UPDATE messages SET pinned = ?2 WHERE id = ?1",
	[SQL_PENDING_ADD] = "INSERT OR IGNORE INTO index_pending (message_id) VALUES (?1)",
	[SQL_PENDING_LIST] = "SELECT p.message_id, m.content FROM index_pending p"
	    " LEFT JOIN messages m ON m.id = p.message_id ORDER BY p.message_id LIMIT 1",
	[SQL_PENDING_DONE] = "DELETE FROM index_pending WHERE message_id = ?1",
};

static const char *const store_role_names[] = {
	[ROLE_SYSTEM] = "system",
	[ROLE_USER] = "user",
	[ROLE_ASSISTANT] = "assistant",
	[ROLE_TOOL_CALL] = "tool_call",
	[ROLE_TOOL] = "tool",
};

static const char *const store_state_names[] = {
	[MSG_COMPLETE] = "complete",
	[MSG_STREAMING] = "streaming",
	[MSG_TRUNCATED] = "truncated",
	[MSG_CANCELLED] = "cancelled",
	[MSG_ERROR] = "error",
	[MSG_INTERRUPTED] = "interrupted",
};

/* The database name of a role. */
const char *
store_role_name(enum role role)
{
	if ((size_t)role >= sizeof(store_role_names) / sizeof(store_role_names[0]))
		return "user";
	return store_role_names[role];
}

/* The database name of a message state. */
const char *
store_state_name(enum msg_state state)
{
	if ((size_t)state >= sizeof(store_state_names) / sizeof(store_state_names[0]))
		return "error";
	return store_state_names[state];
}

/* Map a stored role name back; unknown names read as user so old rows stay visible. */
static enum role
store_role_parse(const char *s)
{
	if (s != NULL && strcmp(s, "assistant") == 0)
		return ROLE_ASSISTANT;
	if (s != NULL && strcmp(s, "system") == 0)
		return ROLE_SYSTEM;
	if (s != NULL && strcmp(s, "tool_call") == 0)
		return ROLE_TOOL_CALL;
	if (s != NULL && strcmp(s, "tool") == 0)
		return ROLE_TOOL;
	return ROLE_USER;
}

/* Map a stored state name back; unknown names read as error rather than complete. */
static enum msg_state
store_state_parse(const char *s)
{
	size_t i;

	for (i = 0; s != NULL && i < sizeof(store_state_names) / sizeof(store_state_names[0]); i++)
		if (strcmp(s, store_state_names[i]) == 0)
			return (enum msg_state)i;
	return MSG_ERROR;
}

/* Record an error message for store_error, with SQLite's reason appended. */
void
store_fail(struct store *st, const char *what)
{
	snprintf(st->err, sizeof(st->err), "%s: %s", what, sqlite3_errmsg(st->db));
	log_debug("store: %s", st->err);
}

/* The connection, for the store's other files. */
sqlite3 *
store_handle(struct store *st)
{
	return st->db;
}

/* Record a failure for store_error, for the store's other files. */
void
store_note_failure(struct store *st, const char *what)
{
	store_fail(st, what);
}

/* The last error message, or "" when none. */
const char *
store_error(const struct store *st)
{
	return st->err;
}

/* Wall-clock unix seconds. */
int64_t
store_now_s(void)
{
	return (int64_t)time(NULL);
}

/* Wall-clock unix milliseconds. */
static int64_t
store_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The cached statement id, prepared on first use and reset for reuse; NULL on error. */
sqlite3_stmt *
store_stmt(struct store *st, enum store_stmt_id id)
{
	sqlite3_stmt *s = st->stmt[id];

	if (s == NULL) {
		if (sqlite3_prepare_v3(st->db, store_sql[id], -1, SQLITE_PREPARE_PERSISTENT, &s,
		    NULL) != SQLITE_OK) {
			store_fail(st, "preparing a statement");
			return NULL;
		}
		st->stmt[id] = s;
	} else {
		sqlite3_reset(s);
		sqlite3_clear_bindings(s);
	}
	return s;
}

/* Bind a string, or NULL for a NULL pointer. */
void
store_bind_text(sqlite3_stmt *s, int i, const char *v)
{
	if (v == NULL)
		sqlite3_bind_null(s, i);
	else
		sqlite3_bind_text(s, i, v, -1, SQLITE_STATIC);
}

/* Bind a count where negative means unknown (stored as NULL). */
void
store_bind_count(sqlite3_stmt *s, int i, long v)
{
	if (v < 0)
		sqlite3_bind_null(s, i);
	else
		sqlite3_bind_int64(s, i, v);
}

/* Bind a cost where negative means unknown (stored as NULL). */
void
store_bind_cost(sqlite3_stmt *s, int i, double v)
{
	if (v < 0)
		sqlite3_bind_null(s, i);
	else
		sqlite3_bind_double(s, i, v);
}

/* A heap copy of a text column, or NULL for NULL. */
char *
store_col_text(sqlite3_stmt *s, int i)
{
	const unsigned char *t = sqlite3_column_text(s, i);

	if (t == NULL)
		return NULL;
	return xmemdup(t, (size_t)sqlite3_column_bytes(s, i) + 1);
}

/* A count column, -1 for NULL. */
static long
store_col_count(sqlite3_stmt *s, int i)
{
	if (sqlite3_column_type(s, i) == SQLITE_NULL)
		return -1;
	return (long)sqlite3_column_int64(s, i);
}

/* A cost column, -1 for NULL. */
static double
store_col_cost(sqlite3_stmt *s, int i)
{
	if (sqlite3_column_type(s, i) == SQLITE_NULL)
		return -1;
	return sqlite3_column_double(s, i);
}

/* Run one statement that returns no rows; 0 or -1. */
int
store_step_done(struct store *st, sqlite3_stmt *s, const char *what)
{
	int rc = sqlite3_step(s);

	if (rc != SQLITE_DONE && rc != SQLITE_ROW) {
		store_fail(st, what);
		sqlite3_reset(s);
		return -1;
	}
	sqlite3_reset(s);
	return 0;
}

/* Run a cached statement with no parameters (BEGIN, COMMIT, ROLLBACK); inside a batch
 * these become a savepoint, its release and a rollback to it. */
int
store_exec_cached(struct store *st, enum store_stmt_id id)
{
	sqlite3_stmt *s;

	if (st->batch && (id == SQL_BEGIN || id == SQL_COMMIT || id == SQL_ROLLBACK)) {
		if (id == SQL_ROLLBACK && store_exec_cached(st, SQL_NEST_ROLLBACK) != 0)
			return -1;
		id = id == SQL_BEGIN ? SQL_NEST_BEGIN : SQL_NEST_RELEASE;
	}
	s = store_stmt(st, id);
	return s == NULL ? -1 : store_step_done(st, s, store_sql[id]);
}

/* Open one transaction for the writes that follow, until store_batch_end. */
int
store_batch_begin(struct store *st)
{
	if (st->batch)
		return -1;
	if (store_exec_cached(st, SQL_BEGIN) != 0)
		return -1;
	st->batch = 1;
	return 0;
}

/* Commit the batch (ok) or roll all of it back; -1 when the commit failed (and so rolled
 * back). */
int
store_batch_end(struct store *st, int ok)
{
	char saved[sizeof(st->err)];

	if (!st->batch)
		return -1;
	st->batch = 0;
	if (ok && store_exec_cached(st, SQL_COMMIT) == 0)
		return 0;
	memcpy(saved, st->err, sizeof(saved));
	store_exec_cached(st, SQL_ROLLBACK);
	memcpy(st->err, saved, sizeof(saved));
	return ok ? -1 : 0;
}

/* Roll back after a failure without losing the first error message. */
void
store_rollback(struct store *st)
{
	char saved[sizeof(st->err)];

	memcpy(saved, st->err, sizeof(saved));
	store_exec_cached(st, SQL_ROLLBACK);
	memcpy(st->err, saved, sizeof(saved));
}

/* Begin a transaction for the store's other files (a savepoint inside a batch). */
int
store_tx_begin(struct store *st)
{
	return store_exec_cached(st, SQL_BEGIN);
}

/* Commit what store_tx_begin began (ok), or roll it back keeping the first error; -1
 * when it was rolled back. */
int
store_tx_end(struct store *st, int ok)
{
	if (ok && store_exec_cached(st, SQL_COMMIT) == 0)
		return 0;
	store_rollback(st);
	return -1;
}

/* Be a brief writer (on) or an ordinary one (off): see store.h. */
void
store_set_brief(struct store *st, int on)
{
	st->defer_index = on != 0;
	/* A reply written once needs few pages; the default cache counts against ask's peak
	 * memory, which is measured against curl's. A brief writer never checkpoints inline:
	 * the auto-checkpoint at a commit copies up to 1,000 pages and syncs twice, which cost
	 * the unlucky `natter ask` 150 ms here; store_wal_heavy says when to fold it elsewhere. */
	sqlite3_exec(st->db, on ? "PRAGMA cache_size = -128; PRAGMA wal_autocheckpoint = 0" :
	    "PRAGMA cache_size = -1024; PRAGMA wal_autocheckpoint = 1000", NULL, NULL, NULL);
}

/* Put the indexing of long messages off (on) or not (off): see store.h. */
void
store_set_defer_index(struct store *st, int on)
{
	st->defer_index = on != 0;
}

/* Whether the write-ahead log has grown past STORE_WAL_HEAVY bytes (see store.h). */
int
store_wal_heavy(const struct store *st)
{
	struct stat sb;
	char *wal = xasprintf("%s-wal", st->path);
	int heavy = stat(wal, &sb) == 0 && sb.st_size > STORE_WAL_HEAVY;

	free(wal);
	return heavy;
}

static void store_init_once(void);

/* Fold the write-ahead log at path into the database and empty it (see store.h). */
int
store_fold(const char *path)
{
	sqlite3 *db = NULL;
	int rc;

	store_init_once();
	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL) !=
	    SQLITE_OK) {
		sqlite3_close(db);
		return -1;
	}
	sqlite3_busy_timeout(db, 2000);
	rc = sqlite3_exec(db, "PRAGMA synchronous = NORMAL; PRAGMA wal_checkpoint(TRUNCATE)",
	    NULL, NULL, NULL);
	sqlite3_close(db);
	return rc == SQLITE_OK ? 0 : -1;
}

/* The database path used when store_open gets NULL. */
char *
store_default_path(void)
{
	const char *env = getenv("NATTER_DB");
	const char *xdg = getenv("XDG_DATA_HOME");
	const char *home = getenv("HOME");

	if (env != NULL && *env != '\0')
		return xstrdup(env);
	/* The XDG spec says a relative XDG_DATA_HOME is invalid and must be ignored. */
	if (xdg != NULL && xdg[0] == '/')
		return xasprintf("%s/natter/natter.db", xdg);
	if (home == NULL || *home == '\0')
		home = ".";
	return xasprintf("%s/.local/share/natter/natter.db", home);
}

/* Create every missing directory above path with mode 0700 (chat history is private). */
static int
store_mkdirs(const char *path, char *err, size_t errlen)
{
	char *dir = xstrdup(path);
	char *p;

	for (p = dir + 1; *p != '\0'; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
			snprintf(err, errlen, "cannot create %s: %s", dir, strerror(errno));
			free(dir);
			return -1;
		}
		*p = '/';
	}
	free(dir);
	return 0;
}

/* Make sure the database file exists, creating it 0600 so SQLite's WAL and shared-memory
 * files, which copy the database file's mode, are private too. */
static int
store_create_file(const char *path, char *err, size_t errlen)
{
	int fd;

	if (strcmp(path, ":memory:") == 0 || strncmp(path, "file:", 5) == 0)
		return 0;
	if (store_mkdirs(path, err, errlen) != 0)
		return -1;
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0) {
		snprintf(err, errlen, "cannot open %s: %s", path, strerror(errno));
		return -1;
	}
	close(fd);
	return 0;
}

/* Run a pragma or query that returns one integer; -1 on error. */
static long
store_pragma_int(struct store *st, const char *sql)
{
	sqlite3_stmt *s;
	long v = -1;

	if (sqlite3_prepare_v2(st->db, sql, -1, &s, NULL) != SQLITE_OK)
		return -1;
	if (sqlite3_step(s) == SQLITE_ROW)
		v = (long)sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	return v;
}

/* The store's hook into each migration step: the parts layout (version 2) cuts long
 * messages in C, which SQL cannot do. */
static int
store_migrated(void *arg, int version)
{
	struct store *st = arg;

	return version == 2 ? store_index_missing(st) : 0;
}

/* The values natter_median has seen in one group. */
struct store_median {
	double *v;
	size_t n, cap;
};

/* natter_median's step: keep each non-NULL value. */
static void
store_median_step(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	struct store_median *m = sqlite3_aggregate_context(ctx, sizeof(*m));

	(void)argc;
	if (m == NULL) {
		sqlite3_result_error_nomem(ctx);
		return;
	}
	if (sqlite3_value_type(argv[0]) == SQLITE_NULL)
		return;
	if (m->n == m->cap) {
		m->cap = m->cap ? m->cap * 2 : 64;
		m->v = xrealloc(m->v, m->cap * sizeof(*m->v));
	}
	m->v[m->n++] = sqlite3_value_double(argv[0]);
}

/* Order doubles for qsort. */
static int
store_median_cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* natter_median's result: the middle value (the mean of the two middle ones for an even
 * count), or NULL when the group had no value. */
static void
store_median_final(sqlite3_context *ctx)
{
	struct store_median *m = sqlite3_aggregate_context(ctx, 0);

	if (m == NULL || m->n == 0) {
		sqlite3_result_null(ctx);
		if (m != NULL)
			free(m->v);
		return;
	}
	qsort(m->v, m->n, sizeof(*m->v), store_median_cmp);
	if (m->n % 2)
		sqlite3_result_double(ctx, m->v[m->n / 2]);
	else
		sqlite3_result_double(ctx, (m->v[m->n / 2 - 1] + m->v[m->n / 2]) / 2);
	free(m->v);
}

/* The process-wide SQLite settings (see store_init_once). */
static void
store_config_sqlite(void)
{
	sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}

/* Turn off SQLite's memory statistics, which take a global mutex on every allocation;
 * natter never reads them. A host program that set SQLite up first keeps its settings. */
static void
store_init_once(void)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;

	pthread_once(&once, store_config_sqlite);
}

/* Open (creating) the database at path, or the default when path is NULL. */
struct store *
store_open(const char *path, char **err)
{
	struct store *st = xcalloc(1, sizeof(*st));
	char buf[512];

	st->lease_fd = -1;
	st->slot = -1;
	st->path = path != NULL ? xstrdup(path) : store_default_path();
	if (store_create_file(st->path, buf, sizeof(buf)) != 0) {
		*err = xstrdup(buf);
		goto fail;
	}
	store_init_once();
	if (sqlite3_open_v2(st->path, &st->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
	    SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_URI, NULL) != SQLITE_OK) {
		*err = xasprintf("%s: %s", st->path,
		    st->db != NULL ? sqlite3_errmsg(st->db) : "cannot open");
		goto fail;
	}
	sqlite3_extended_result_codes(st->db, 1);
	sqlite3_busy_timeout(st->db, 5000);
	/* Closing does not checkpoint: the WAL stays for the next natter, and SQLite's own
	 * auto-checkpoint folds it in as it grows. A checkpoint syncs the WAL and the database
	 * twice, which cost `natter ask` more than the whole 20,000-token stream did. */
	sqlite3_db_config(st->db, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, NULL);
	/* A chat database is read a screenful at a time: 1 MiB of page cache is plenty, and the
	 * default 2 MiB would count against natter's peak memory while a reply streams. */
	if (sqlite3_exec(st->db, "PRAGMA synchronous = NORMAL; PRAGMA cache_size = -1024;",
	    NULL, NULL, NULL) != SQLITE_OK) {
		*err = xasprintf("%s: %s", st->path, sqlite3_errmsg(st->db));
		goto fail;
	}
	/* Foreign keys come on after the migrations: rebuilding a table with them on would
	 * check (and could refuse) rows that are only being copied. */
	if (store_schema_wal(st->db, st->err, sizeof(st->err)) != 0 ||
	    store_schema_migrate(st->db, store_schema_latest(), store_migrated, st, st->err,
	    sizeof(st->err)) != 0) {
		*err = xasprintf("%s: %s", st->path, st->err);
		goto fail;
	}
	if (sqlite3_exec(st->db, "PRAGMA foreign_keys = ON;", NULL, NULL, NULL) != SQLITE_OK) {
		*err = xasprintf("%s: %s", st->path, sqlite3_errmsg(st->db));
		goto fail;
	}
	if (sqlite3_create_function_v2(st->db, "natter_median", 1, SQLITE_UTF8 |
	    SQLITE_DETERMINISTIC, NULL, NULL, store_median_step, store_median_final, NULL) !=
	    SQLITE_OK) {
		*err = xasprintf("%s: %s", st->path, sqlite3_errmsg(st->db));
		goto fail;
	}
	store_lease_take(st);
	store_recover(st);
	return st;
fail:
	store_close(st);
	return NULL;
}

/* Finalize every cached statement and close the database. */
void
store_close(struct store *st)
{
	size_t i;

	if (st == NULL)
		return;
	for (i = 0; i < SQL_COUNT; i++)
		sqlite3_finalize(st->stmt[i]);
	store_search_close(st);
	sqlite3_close(st->db);
	/* Closing the file releases the lease: rows still streaming are now orphans. The file
	 * itself stays, since removing it while another natter has it open would let the next
	 * one create a second file whose locks that natter never sees. */
	if (st->lease_fd >= 0)
		close(st->lease_fd);
	free(st->path);
	free(st);
}

/* The path the store was opened at. */
const char *
store_path(const struct store *st)
{
	return st->path;
}

/* Create a session; returns its id or -1. */
int64_t
store_session_new(struct store *st, const char *title, const char *provider,
    const char *model)
{
	sqlite3_stmt *s = store_stmt(st, SQL_SESSION_NEW);

	if (s == NULL)
		return -1;
	store_bind_text(s, 1, title != NULL ? title : "");
	store_bind_text(s, 2, provider);
	store_bind_text(s, 3, model);
	sqlite3_bind_int64(s, 4, store_now_s());
	if (store_step_done(st, s, "creating a session") != 0)
		return -1;
	return sqlite3_last_insert_rowid(st->db);
}

/* Run an UPDATE/DELETE on one row (a session, a compare group: noun) and fail when it
 * matched none. */
int
store_change_one(struct store *st, sqlite3_stmt *s, int64_t id, const char *what,
    const char *noun)
{
	if (store_step_done(st, s, what) != 0)
		return -1;
	if (sqlite3_changes(st->db) == 0) {
		snprintf(st->err, sizeof(st->err), "no %s %lld", noun, (long long)id);
		return -1;
	}
	return 0;
}

/* Set a session's title. */
int
store_session_rename(struct store *st, int64_t id, const char *title)
{
	sqlite3_stmt *s = store_stmt(st, SQL_SESSION_RENAME);

	if (s == NULL)
		return -1;
	sqlite3_bind_int64(s, 1, id);
	store_bind_text(s, 2, title != NULL ? title : "");
	sqlite3_bind_int64(s, 3, store_now_s());
	return store_change_one(st, s, id, "renaming a session", "session");
}

/* Set the provider and model a session continues with. */
int
store_session_set_model(struct store *st, int64_t id, const char *provider, const char *model)
{
	sqlite3_stmt *s = store_stmt(st, SQL_SESSION_SET_MODEL);

	if (s == NULL)
		return -1;
	sqlite3_bind_int64(s, 1, id);
	store_bind_text(s, 2, provider);
	store_bind_text(s, 3, model);
	sqlite3_bind_int64(s, 4, store_now_s());
	return store_change_one(st, s, id, "changing a session's model", "session");
}

/* Set (or clear, with NULL) a session's system prompt. */
int
store_session_set_system(struct store *st, int64_t id, const char *system)
{
	sqlite3_stmt *s = store_stmt(st, SQL_SESSION_SET_SYSTEM);

	if (s == NULL)
		return -1;
	sqlite3_bind_int64(s, 1, id);
	store_bind_text(s, 2, system);
	sqlite3_bind_int64(s, 3, store_now_s());
	return store_change_one(st, s, id, "changing a session's system prompt", "session");
}

/* Keep a session's rolling summary and how many messages it covers. */
int
store_session_set_summary(struct store *st, int64_t id, const char *summary, long covers)
{
	sqlite3_stmt *s = store_stmt(st, SQL_SESSION_SET_SUMMARY);

	if (s == NULL)
		return -1;
	sqlite3_bind_int64(s, 1, id);
	store_bind_text(s, 2, summary);
	sqlite3_bind_int64(s, 3, summary != NULL ? covers : 0);
	return store_change_one(st, s, id, "keeping a session's summary", "session");
}

/* Pin or unpin a message. */
int
store_message_set_pinned(struct store *st, int64_t id, int pinned)
{
	sqlite3_stmt *s = store_stmt(st, SQL_MSG_SET_PINNED);

	if (s == NULL)
		return -1;
	sqlite3_bind_int64(s, 1, id);
	sqlite3_bind_int(s, 2, pinned != 0);
	return store_change_one(st, s, id, "pinning a message", "message");
}

/* Delete a session; its messages and compare groups go with it (ON DELETE CASCADE), but
 * the rows a fork shares are handed over to the fork first (store-tree.c). */
int
store_session_delete(struct store *st, int64_t id)
{
	sqlite3_stmt *s;

	if (store_tx_begin(st) != 0)
		return -1;
	if (store_tree_hand_over(st, id, 0) != 0 || (s = store_stmt(st, SQL_SESSION_DELETE)) == NULL)
		goto fail;
	sqlite3_bind_int64(s, 1, id);
	if (store_change_one(st, s, id, "deleting a session", "session") != 0)
		goto fail;
	return store_tx_end(st, 1);
fail:
	store_tx_end(st, 0);
	return -1;
}

/* Fill r from the current row of a SESSION_SELECT statement. */
static void
store_row_session(sqlite3_stmt *s, struct session_row *r)
{
	r->id = sqlite3_column_int64(s, 0);
	r->title = store_col_text(s, 1);
	if (r->title == NULL)
		r->title = xstrdup("");
	r->provider = store_col_text(s, 2);
	r->model = store_col_text(s, 3);
	r->system = store_col_text(s, 4);
	r->created = sqlite3_column_int64(s, 5);
	r->updated = sqlite3_column_int64(s, 6);
	r->nmessages = (long)sqlite3_column_int64(s, 7);
	r->input_tokens = (long)sqlite3_column_int64(s, 8);
	r->output_tokens = (long)sqlite3_column_int64(s, 9);
	r->cost = sqlite3_column_double(s, 10);
	r->summary = store_col_text(s, 11);
	r->summary_covers = (long)sqlite3_column_int64(s, 12);
	r->answered = store_col_text(s, 13);
	r->archived = sqlite3_column_int(s, 14) != 0;
	r->forked_from = sqlite3_column_int64(s, 15);
	r->head_id = sqlite3_column_int64(s, 16);
}

/* List the sessions of which newest-updated first, at most limit (0: all). */
int
store_sessions_which(struct store *st, enum store_which which, struct session_row **out,
    size_t *n, size_t limit)
{
	sqlite3_stmt *s = store_stmt(st, which == STORE_ARCHIVED ? SQL_SESSIONS_ARCHIVED :
	    which == STORE_ALL ? SQL_SESSIONS_ALL : SQL_SESSIONS);
	struct session_row *rows = NULL;
	size_t len = 0, cap = 0;
	int rc;

	*out = NULL;
	*n = 0;
	if (s == NULL)
		return -1;
	sqlite3_bind_int64(s, 1, limit == 0 ? -1 : (sqlite3_int64)limit);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		if (len == cap) {
			cap = cap ? cap * 2 : 32;
			rows = xrealloc(rows, cap * sizeof(*rows));
		}
		store_row_session(s, &rows[len++]);
	}
	sqlite3_reset(s);
	if (rc != SQLITE_DONE) {
		store_fail(st, "listing sessions");
		store_sessions_free(rows, len);
		return -1;
	}
	*out = rows;
	*n = len;
	return 0;
}

/* List the sessions that are not archived, newest-updated first. */
int
store_sessions(struct store *st, struct session_row **out, size_t *n, size_t limit)
{
	return store_sessions_which(st, STORE_ACTIVE, out, n, limit);
}

/* Archive (1) or bring back (0) a session. */
int
store_session_archive(struct store *st, int64_t id, int archived)
{
	sqlite3_stmt *s = store_stmt(st, SQL_SESSION_ARCHIVE);

	if (s == NULL)
		return -1;
	sqlite3_bind_int64(s, 1, id);
	sqlite3_bind_int(s, 2, archived != 0);
	return store_change_one(st, s, id, archived ? "archiving a session" :
	    "bringing back an archived session", "session");
}

/* One session with its counts and sums, or NULL. */
struct session_row *
store_session_get(struct store *st, int64_t id)
{
	sqlite3_stmt *s = store_stmt(st, SQL_SESSION_GET);
	struct session_row *r;
	int rc;

	if (s == NULL)
		return NULL;
	sqlite3_bind_int64(s, 1, id);
	rc = sqlite3_step(s);
	if (rc != SQLITE_ROW) {
		if (rc == SQLITE_DONE)
			snprintf(st->err, sizeof(st->err), "no session %lld", (long long)id);
		else
			store_fail(st, "reading a session");
		sqlite3_reset(s);
		return NULL;
	}
	r = xcalloc(1, sizeof(*r));
	store_row_session(s, r);
	sqlite3_reset(s);
	return r;
}

/* Whether session id is stored: 1, 0 when it is not (deleted, say by another natter), or
 * -1 when the store cannot tell. */
int
store_session_exists(struct store *st, int64_t id)
{
	sqlite3_stmt *s = store_stmt(st, SQL_SESSION_EXISTS);
	int rc;

	if (s == NULL)
		return -1;
	sqlite3_bind_int64(s, 1, id);
	rc = sqlite3_step(s);
	sqlite3_reset(s);
	if (rc == SQLITE_ROW)
		return 1;
	if (rc == SQLITE_DONE)
		return 0;
	store_fail(st, "reading a session");
	return -1;
}

/* Free an array of session rows. */
void
store_sessions_free(struct session_row *rows, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free(rows[i].title);
		free(rows[i].provider);
		free(rows[i].model);
		free(rows[i].system);
		free(rows[i].summary);
		free(rows[i].answered);
	}
	free(rows);
}

/* Insert m into its session (bumping the session's updated time); sets and returns m->id. */
int64_t
store_message_add(struct store *st, struct message_row *m)
{
	sqlite3_stmt *s;

	if (m->created == 0)
		m->created = store_now_ms();
	if (store_exec_cached(st, SQL_BEGIN) != 0)
		return -1;
	s = store_stmt(st, SQL_MSG_ADD);
	if (s == NULL)
		goto fail;
	sqlite3_bind_int64(s, 1, m->session_id);
	store_bind_text(s, 2, store_role_name(m->role));
	store_bind_text(s, 3, m->provider);
	store_bind_text(s, 4, m->model);
	sqlite3_bind_int64(s, 5, m->created);
	store_bind_text(s, 6, store_state_name(m->state));
	store_bind_text(s, 7, m->error);
	store_bind_text(s, 8, m->finish_reason);
	store_bind_count(s, 9, m->input_tokens);
	store_bind_count(s, 10, m->output_tokens);
	store_bind_cost(s, 11, m->cost);
	store_bind_count(s, 12, m->ttft_ms);
	store_bind_count(s, 13, m->duration_ms);
	if (m->compare_group > 0)
		sqlite3_bind_int64(s, 14, m->compare_group);
	else
		sqlite3_bind_null(s, 14);
	store_bind_text(s, 15, m->content != NULL ? m->content : "");
	store_bind_text(s, 16, m->reasoning);
	store_bind_writer(st, s, 17, m->state);
	sqlite3_bind_int(s, 18, m->pinned != 0);
	store_bind_text(s, 19, m->tool_id);
	store_bind_text(s, 20, m->tool_name);
	sqlite3_bind_int(s, 21, m->tool_error != 0);
	if (m->compare_group > 0 && m->column > 0)
		sqlite3_bind_int(s, 22, m->column - 1);
	else
		sqlite3_bind_null(s, 22);
	if (m->parent_id != 0)
		sqlite3_bind_int64(s, 23, m->parent_id > 0 ? m->parent_id : 0);
	else
		sqlite3_bind_null(s, 23);
	if (store_step_done(st, s, "adding a message") != 0)
		goto fail;
	m->id = sqlite3_last_insert_rowid(st->db);
	if (m->natts > 0 && store_attach_save(st, m->id, m->atts, m->natts) != 0)
		goto fail;
	if (m->state != MSG_STREAMING &&
	    store_index(st, m->id, m->content != NULL ? m->content : "", 0) != 0)
		goto fail;
	s = store_stmt(st, SQL_SESSION_TOUCH);
	if (s == NULL)
		goto fail;
	sqlite3_bind_int64(s, 1, m->session_id);
	sqlite3_bind_int64(s, 2, m->created / 1000);
	if (store_step_done(st, s, "updating a session") != 0)
		goto fail;
	if (store_exec_cached(st, SQL_COMMIT) != 0)
		goto fail;
	return m->id;
fail:
	store_rollback(st);
	m->id = -1;
	return -1;
}

/* Bind and run the message UPDATE for m. */
static int
store_message_write(struct store *st, const struct message_row *m)
{
	sqlite3_stmt *s = store_stmt(st, SQL_MSG_UPDATE);

	if (s == NULL)
		return -1;
	sqlite3_bind_int64(s, 1, m->id);
	if (m->spill && m->head_len > 0)
		sqlite3_bind_text(s, 2, m->content, (int)m->head_len, SQLITE_STATIC);
	else if (m->spill)
		sqlite3_bind_null(s, 2);
	else
		store_bind_text(s, 2, m->content != NULL ? m->content : "");
	store_bind_text(s, 3, m->reasoning);
	store_bind_text(s, 4, store_state_name(m->state));
	store_bind_text(s, 5, m->error);
	store_bind_text(s, 6, m->finish_reason);
	store_bind_count(s, 7, m->input_tokens);
	store_bind_count(s, 8, m->output_tokens);
	store_bind_cost(s, 9, m->cost);
	store_bind_count(s, 10, m->ttft_ms);
	store_bind_count(s, 11, m->duration_ms);
	store_bind_text(s, 12, m->provider);
	store_bind_text(s, 13, m->model);
	store_bind_writer(st, s, 14, m->state);
	/* A message id of a deleted session can come back in another one: an update must
	 * find its row in its own session, or none. */
	if (m->session_id > 0)
		sqlite3_bind_int64(s, 15, m->session_id);
	else
		sqlite3_bind_null(s, 15);
	if (store_step_done(st, s, "updating a message") != 0)
		return -1;
	if (sqlite3_changes(st->db) == 0) {
		snprintf(st->err, sizeof(st->err), "no message %lld", (long long)m->id);
		return -1;
	}
	return 0;
}

/*
 * Rewrite a message. While it streams this is the hot path: one UPDATE in autocommit (its
 * own short transaction) and no FTS work, since streaming rows are not indexed. A long
 * reply (m->spill) keeps its stored text and gets its new bytes appended, with the UPDATE
 * in the same transaction. The final update also indexes the text, part by part, and
 * bumps the session's updated time, atomically.
 */
int
store_message_update(struct store *st, const struct message_row *m)
{
	sqlite3_stmt *s;

	if (m->state == MSG_STREAMING && !m->spill)
		return store_message_write(st, m);
	if (store_exec_cached(st, SQL_BEGIN) != 0)
		return -1;
	if (store_message_write(st, m) != 0 ||
	    (m->spill && store_spill_append(st, m->id, m->append, m->append_len) != 0))
		goto fail;
	if (m->state == MSG_STREAMING) {
		if (store_exec_cached(st, SQL_COMMIT) != 0)
			goto fail;
		return 0;
	}
	if (store_index(st, m->id, m->content != NULL ? m->content : "", m->spill) != 0)
		goto fail;
	s = store_stmt(st, SQL_MSG_TOUCH_SESSION);
	if (s == NULL)
		goto fail;
	sqlite3_bind_int64(s, 1, m->id);
	sqlite3_bind_int64(s, 2, store_now_s());
	if (store_step_done(st, s, "updating a session") != 0)
		goto fail;
	if (store_exec_cached(st, SQL_COMMIT) != 0)
		goto fail;
	return 0;
fail:
	store_rollback(st);
	return -1;
}

/* Delete every message of a session that comes after message_id (all of them when
 * message_id is 0 or not in the session), e.g. to regenerate a reply. */
int
store_message_delete_after(struct store *st, int64_t session_id, int64_t message_id)
{
	sqlite3_stmt *s = store_stmt(st, SQL_MSG_DELETE_AFTER);

	if (s == NULL)
		return -1;
	sqlite3_bind_int64(s, 1, session_id);
	sqlite3_bind_int64(s, 2, message_id);
	return store_step_done(st, s, "deleting messages");
}

/* Whether message id is stored in session session_id: 1, 0 when it is not, -1 when the
 * store cannot tell. */
int
store_message_exists(struct store *st, int64_t id, int64_t session_id)
{
	sqlite3_stmt *s = store_stmt(st, SQL_MSG_EXISTS);
	int rc;

	if (s == NULL)
		return -1;
	sqlite3_bind_int64(s, 1, id);
	sqlite3_bind_int64(s, 2, session_id);
	rc = sqlite3_step(s);
	sqlite3_reset(s);
	if (rc == SQLITE_ROW)
		return 1;
	if (rc == SQLITE_DONE)
		return 0;
	store_fail(st, "reading a message");
	return -1;
}

/* Fill r from the current row of a statement selecting MESSAGE_COLUMNS, content, reasoning. */
void
store_row_message(sqlite3_stmt *s, struct message_row *r)
{
	r->atts = NULL;
	r->natts = 0;
	r->signature = NULL;
	r->parent_id = 0;
	r->nalt = r->alt = 1;
	r->id = sqlite3_column_int64(s, 0);
	r->session_id = sqlite3_column_int64(s, 1);
	r->role = store_role_parse((const char *)sqlite3_column_text(s, 2));
	r->provider = store_col_text(s, 3);
	r->model = store_col_text(s, 4);
	r->created = sqlite3_column_int64(s, 5);
	r->state = store_state_parse((const char *)sqlite3_column_text(s, 6));
	r->error = store_col_text(s, 7);
	r->finish_reason = store_col_text(s, 8);
	r->input_tokens = store_col_count(s, 9);
	r->output_tokens = store_col_count(s, 10);
	r->cost = store_col_cost(s, 11);
	r->ttft_ms = store_col_count(s, 12);
	r->duration_ms = store_col_count(s, 13);
	r->compare_group = sqlite3_column_type(s, 14) == SQLITE_NULL ? 0 :
	    sqlite3_column_int64(s, 14);
	r->compare_pick = sqlite3_column_type(s, 15) == SQLITE_NULL ? -1 :
	    (int)sqlite3_column_int64(s, 15);
	r->pinned = sqlite3_column_int(s, 16) != 0;
	r->tool_id = store_col_text(s, 17);
	r->tool_name = store_col_text(s, 18);
	r->tool_error = sqlite3_column_int(s, 19) != 0;
	r->column = sqlite3_column_type(s, 20) == SQLITE_NULL ? 0 :
	    sqlite3_column_int(s, 20) + 1;
	r->content = store_col_text(s, 21);
	if (r->content == NULL)
		r->content = xstrdup("");
	r->reasoning = store_col_text(s, 22);
	/* Queries of the tree select the parent after them (schema 14). */
	if (sqlite3_column_count(s) > 23 && sqlite3_column_type(s, 23) != SQLITE_NULL)
		r->parent_id = sqlite3_column_int64(s, 23) > 0 ? sqlite3_column_int64(s, 23) :
		    STORE_FIRST;
}

/* Step s to the end, collecting message rows into *out. */
static int
store_collect_messages(struct store *st, sqlite3_stmt *s, struct message_row **out, size_t *n,
    const char *what)
{
	struct message_row *rows = NULL;
	size_t len = 0, cap = 0;
	int rc;

	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		if (len == cap) {
			cap = cap ? cap * 2 : 16;
			rows = xrealloc(rows, cap * sizeof(*rows));
		}
		store_row_message(s, &rows[len++]);
	}
	sqlite3_reset(s);
	if (rc != SQLITE_DONE) {
		store_fail(st, what);
		store_messages_free(rows, len);
		return -1;
	}
	*out = rows;
	*n = len;
	return 0;
}

/* Every message of a session in seq order, alternatives and all (store-tree.c). */
int
store_messages_seq(struct store *st, int64_t session_id, struct message_row **out, size_t *n)
{
	sqlite3_stmt *s = store_stmt(st, SQL_MSGS);

	*out = NULL;
	*n = 0;
	if (s == NULL)
		return -1;
	sqlite3_bind_int64(s, 1, session_id);
	if (store_collect_messages(st, s, out, n, "reading messages") != 0)
		return -1;
	if (store_attach_fill(st, session_id, *out, *n) != 0 ||
	    store_spill_fill(st, *out, *n) != 0) {
		store_messages_free(*out, *n);
		*out = NULL;
		*n = 0;
		return -1;
	}
	return 0;
}

/* Free an array of message rows. */
void
store_messages_free(struct message_row *rows, size_t n)
{
	size_t i, k;

	for (i = 0; i < n; i++) {
		free(rows[i].content);
		free(rows[i].reasoning);
		free(rows[i].provider);
		free(rows[i].model);
		free(rows[i].error);
		free(rows[i].finish_reason);
		free(rows[i].tool_id);
		free(rows[i].tool_name);
		free(rows[i].signature);
		for (k = 0; k < rows[i].natts; k++)
			attach_unref(rows[i].atts[k]);
		free(rows[i].atts);
	}
	free(rows);
}

/* Run one usage query, binding since_ms and limit. */
static int
store_usage_run(struct store *st, enum store_stmt_id id, int64_t since_ms, size_t limit,
    struct store_usage **out, size_t *n)
{
	sqlite3_stmt *s = store_stmt(st, id);
	struct store_usage *rows = NULL, *r;
	size_t len = 0, cap = 0;
	int rc;

	*out = NULL;
	*n = 0;
	if (s == NULL)
		return -1;
	if (id == SQL_USAGE_DAY)
		sqlite3_bind_int64(s, 1, since_ms);
	if (id == SQL_USAGE_SESSION)
		sqlite3_bind_int64(s, 2, limit == 0 ? -1 : (sqlite3_int64)limit);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		if (len == cap) {
			cap = cap ? cap * 2 : 16;
			rows = xrealloc(rows, cap * sizeof(*rows));
		}
		r = &rows[len++];
		memset(r, 0, sizeof(*r));
		if (id == SQL_USAGE_SESSION)
			r->session_id = sqlite3_column_int64(s, 0);
		else
			r->key = store_col_text(s, 0);
		r->name = store_col_text(s, 1);
		r->calls = (long)sqlite3_column_int64(s, 2);
		r->input_tokens = (long)sqlite3_column_int64(s, 3);
		r->output_tokens = (long)sqlite3_column_int64(s, 4);
		r->cost = sqlite3_column_double(s, 5);
		r->cost_known = (long)sqlite3_column_int64(s, 6);
		r->ttft_ms = store_col_cost(s, 7);
		r->tps = store_col_cost(s, 8);
	}
	sqlite3_reset(s);
	if (rc != SQLITE_DONE) {
		store_fail(st, "adding up usage");
		store_usage_free(rows, len);
		return -1;
	}
	*out = rows;
	*n = len;
	return 0;
}

/* Usage figures of the stored replies, grouped as by asks. */
int
store_usage(struct store *st, enum store_usage_by by, int64_t since_ms, size_t limit,
    struct store_usage **out, size_t *n)
{
	enum store_stmt_id id = by == STORE_USAGE_DAY ? SQL_USAGE_DAY :
	    by == STORE_USAGE_SESSION ? SQL_USAGE_SESSION : SQL_USAGE_MODEL;

	return store_usage_run(st, id, since_ms, limit, out, n);
}

/* Free usage rows. */
void
store_usage_free(struct store_usage *rows, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free(rows[i].key);
		free(rows[i].name);
	}
	free(rows);
}

/* Check the database file and the FTS index against the messages they index. */
int
store_check(struct store *st, char **err)
{
	sqlite3_stmt *s;
	struct buf b = BUF_INIT;
	int rc;

	*err = NULL;
	store_index_pending(st);
	if (sqlite3_prepare_v2(st->db, "PRAGMA integrity_check", -1, &s, NULL) != SQLITE_OK) {
		*err = xasprintf("integrity check: %s", sqlite3_errmsg(st->db));
		return -1;
	}
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		const char *line = (const char *)sqlite3_column_text(s, 0);

		if (line != NULL && strcmp(line, "ok") != 0) {
			if (b.len)
				buf_putc(&b, '\n');
			buf_puts(&b, line);
		}
	}
	sqlite3_finalize(s);
	if (rc != SQLITE_DONE && b.len == 0)
		buf_printf(&b, "integrity check: %s", sqlite3_errmsg(st->db));
	if (b.len == 0 && sqlite3_exec(st->db, "INSERT INTO messages_fts (messages_fts)"
	    " VALUES ('integrity-check')", NULL, NULL, NULL) != SQLITE_OK)
		buf_printf(&b, "search index: %s", sqlite3_errmsg(st->db));
	/* Every finished message has its parts, numbered from 0 without gaps and adding up to
	 * its text (unless cut at STORE_PARTS); no part outlives its message or indexes a
	 * streaming one. */
	if (b.len == 0 && store_pragma_int(st, "SELECT count(*) FROM messages m"
	    " WHERE state <> 'streaming'"
	    " AND NOT EXISTS (SELECT 1 FROM messages_fts WHERE rowid = m.id * 4096)") != 0)
		buf_puts(&b, "search index: finished messages are missing");
	if (b.len == 0 && store_pragma_int(st, "SELECT count(*) FROM messages_fts f"
	    " WHERE NOT EXISTS (SELECT 1 FROM messages m WHERE m.id = f.rowid / 4096"
	    " AND m.state <> 'streaming')") != 0)
		buf_puts(&b, "search index: parts of deleted or streaming messages");
	if (b.len == 0 && store_pragma_int(st, "SELECT count(*) FROM (SELECT rowid / 4096 AS mid,"
	    " count(*) AS n, max(rowid % 4096) AS last,"
	    " sum(length(CAST(content AS BLOB))) AS bytes FROM messages_fts GROUP BY mid) p"
	    " JOIN messages m ON m.id = p.mid WHERE p.last <> p.n - 1"
	    " OR (p.n < 4096 AND p.bytes <> length(CAST(m.content AS BLOB)) + coalesce((SELECT"
	    " sum(length(x.data)) FROM message_spill x WHERE x.message_id = m.id), 0))") != 0)
		buf_puts(&b, "search index: parts do not add up to their messages");
	if (b.len == 0 && store_pragma_int(st, "SELECT count(*) FROM sessions s"
	    " LEFT JOIN (SELECT session_id, count(*) AS n, coalesce(sum(input_tokens), 0) AS i,"
	    " coalesce(sum(output_tokens), 0) AS o, total(cost) AS c FROM messages"
	    " GROUP BY session_id) m ON m.session_id = s.id"
	    " WHERE s.nmessages <> coalesce(m.n, 0) OR s.input_tokens <> coalesce(m.i, 0)"
	    " OR s.output_tokens <> coalesce(m.o, 0) OR abs(s.cost - coalesce(m.c, 0)) > 1e-6") != 0)
		buf_puts(&b, "session counts and sums do not match their messages");
	if (b.len) {
		*err = buf_detach(&b);
		return -1;
	}
	return 0;
}

/* Pages this connection has read from disk so far. */
long
store_stat_reads(struct store *st)
{
	int cur = 0, hi = 0;

	sqlite3_db_status(st->db, SQLITE_DBSTATUS_CACHE_MISS, &cur, &hi, 0);
	return cur;
}
