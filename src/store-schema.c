/*
 * The store's schema: the tables, indexes and triggers of every version, as migrations from
 * one version to the next, and the code that applies them. store.c's opening comment says
 * why the layout is what it is; this file says how a database gets there safely.
 *
 * Any number of natters may open one database at once: two interfaces started together, an
 * interface and `natter sessions`, eight scripts at once, on a file that does not exist yet
 * or at any older version. So every step is decided under the write lock: a transaction
 * (BEGIN IMMEDIATE) re-reads user_version, applies the one migration that takes it to the
 * next version and bumps user_version in the same transaction, then commits; the next step
 * is a new transaction that reads the version again. Whoever gets the lock first does a
 * step, the others find it done. Reading the version before taking the lock (as natter once
 * did) let a process apply a step another had just committed: "table sessions already
 * exists", or worse, migration 2 run again over a version-4 database, setting it back to 3
 * with the version-4 column present. Switching to WAL takes an exclusive lock too, and
 * some of SQLite's lock waits return SQLITE_BUSY without calling the busy handler, so both
 * are retried here until STORE_SCHEMA_WAIT_MS has passed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "store-schema.h"
#include "xmalloc.h"

/* The triggers that keep each session's message count, tokens and cost equal to the sums
 * of its messages; the first schema creates them, and version 3 again after rebuilding the
 * messages table, and version 5 after rebuilding the sessions table. Streaming updates
 * rewrite these columns with the same values: the
 * update trigger's WHEN skips them. Frozen like the migrations: changing the triggers
 * takes a new migration, not an edit here. */
#define STORE_SUMS_TRIGGERS \
	"CREATE TRIGGER messages_sums_insert AFTER INSERT ON messages BEGIN" \
	"  UPDATE sessions SET nmessages = nmessages + 1," \
	"    input_tokens = input_tokens + coalesce(new.input_tokens, 0)," \
	"    output_tokens = output_tokens + coalesce(new.output_tokens, 0)," \
	"    cost = cost + coalesce(new.cost, 0) WHERE id = new.session_id;" \
	"END;" \
	"CREATE TRIGGER messages_sums_delete AFTER DELETE ON messages BEGIN" \
	"  UPDATE sessions SET nmessages = nmessages - 1," \
	"    input_tokens = input_tokens - coalesce(old.input_tokens, 0)," \
	"    output_tokens = output_tokens - coalesce(old.output_tokens, 0)," \
	"    cost = cost - coalesce(old.cost, 0) WHERE id = old.session_id;" \
	"END;" \
	"CREATE TRIGGER messages_sums_update" \
	"  AFTER UPDATE OF session_id, input_tokens, output_tokens, cost ON messages" \
	"  WHEN old.session_id IS NOT new.session_id OR old.input_tokens IS NOT new.input_tokens" \
	"  OR old.output_tokens IS NOT new.output_tokens OR old.cost IS NOT new.cost BEGIN" \
	"  UPDATE sessions SET nmessages = nmessages - 1," \
	"    input_tokens = input_tokens - coalesce(old.input_tokens, 0)," \
	"    output_tokens = output_tokens - coalesce(old.output_tokens, 0)," \
	"    cost = cost - coalesce(old.cost, 0) WHERE id = old.session_id;" \
	"  UPDATE sessions SET nmessages = nmessages + 1," \
	"    input_tokens = input_tokens + coalesce(new.input_tokens, 0)," \
	"    output_tokens = output_tokens + coalesce(new.output_tokens, 0)," \
	"    cost = cost + coalesce(new.cost, 0) WHERE id = new.session_id;" \
	"END;"

/* The triggers that keep the search index's parts in step with the messages (version 2
 * creates them, version 3 again after rebuilding the messages table); frozen like the
 * session-sum triggers above. */
#define STORE_FTS_TRIGGERS \
	"CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages" \
	"  WHEN new.state <> 'streaming' AND length(CAST(new.content AS BLOB)) <= 16384 BEGIN" \
	"  INSERT INTO messages_fts (rowid, content) VALUES (new.id * 4096, new.content);" \
	"END;" \
	"CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages" \
	"  WHEN old.state <> 'streaming' BEGIN" \
	"  DELETE FROM messages_fts WHERE rowid BETWEEN old.id * 4096 AND old.id * 4096 + 4095;" \
	"END;" \
	"CREATE TRIGGER messages_fts_update AFTER UPDATE OF content, state ON messages BEGIN" \
	"  DELETE FROM messages_fts WHERE rowid BETWEEN old.id * 4096 AND old.id * 4096 + 4095" \
	"    AND old.state <> 'streaming'" \
	"    AND (new.state = 'streaming' OR old.content IS NOT new.content);" \
	"  INSERT INTO messages_fts (rowid, content)" \
	"    SELECT new.id * 4096, new.content WHERE new.state <> 'streaming'" \
	"    AND (old.state = 'streaming' OR old.content IS NOT new.content)" \
	"    AND length(CAST(new.content AS BLOB)) <= 16384;" \
	"END;"

/*
 * Schema migrations: entry i takes a database from user_version i to i + 1. Never edit a
 * shipped entry; append a new one.
 */
static const char *const store_migrations[] = {
	/* 0 -> 1: the initial schema. */
	"CREATE TABLE sessions ("
	"  id INTEGER PRIMARY KEY,"
	"  title TEXT NOT NULL DEFAULT '',"
	"  provider TEXT,"
	"  model TEXT,"
	"  system TEXT,"
	"  created INTEGER NOT NULL,"
	"  updated INTEGER NOT NULL,"
	"  nmessages INTEGER NOT NULL DEFAULT 0,"
	"  input_tokens INTEGER NOT NULL DEFAULT 0,"
	"  output_tokens INTEGER NOT NULL DEFAULT 0,"
	"  cost REAL NOT NULL DEFAULT 0);"
	"CREATE INDEX sessions_by_updated ON sessions (updated DESC, id DESC);"
	"CREATE TABLE compare_groups ("
	"  id INTEGER PRIMARY KEY,"
	"  session_id INTEGER NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,"
	"  created INTEGER NOT NULL);"
	"CREATE INDEX compare_groups_by_session ON compare_groups (session_id);"
	"CREATE TABLE messages ("
	"  id INTEGER PRIMARY KEY,"
	"  session_id INTEGER NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,"
	"  seq INTEGER NOT NULL,"
	"  role TEXT NOT NULL CHECK (role IN ('system', 'user', 'assistant')),"
	"  provider TEXT,"
	"  model TEXT,"
	"  created_ms INTEGER NOT NULL,"
	"  state TEXT NOT NULL DEFAULT 'complete' CHECK (state IN"
	"    ('complete', 'streaming', 'truncated', 'cancelled', 'error')),"
	"  error TEXT,"
	"  finish_reason TEXT,"
	"  input_tokens INTEGER,"
	"  output_tokens INTEGER,"
	"  cost REAL,"
	"  ttft_ms INTEGER,"
	"  duration_ms INTEGER,"
	"  compare_group INTEGER REFERENCES compare_groups (id) ON DELETE SET NULL,"
	"  content TEXT NOT NULL DEFAULT '',"
	"  reasoning TEXT);"
	"CREATE INDEX messages_by_session ON messages (session_id, seq);"
	STORE_SUMS_TRIGGERS
	"CREATE INDEX messages_by_group ON messages (compare_group);"
	"CREATE VIEW messages_indexed AS"
	"  SELECT id, content FROM messages WHERE state <> 'streaming';"
	"CREATE VIRTUAL TABLE messages_fts USING fts5 (content, content = 'messages_indexed',"
	"  content_rowid = 'id', tokenize = 'porter unicode61 remove_diacritics 2');"
	"CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages"
	"  WHEN new.state <> 'streaming' BEGIN"
	"  INSERT INTO messages_fts (rowid, content) VALUES (new.id, new.content);"
	"END;"
	"CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages"
	"  WHEN old.state <> 'streaming' BEGIN"
	"  INSERT INTO messages_fts (messages_fts, rowid, content)"
	"    VALUES ('delete', old.id, old.content);"
	"END;"
	"CREATE TRIGGER messages_fts_update AFTER UPDATE OF content, state ON messages BEGIN"
	"  INSERT INTO messages_fts (messages_fts, rowid, content)"
	"    SELECT 'delete', old.id, old.content WHERE old.state <> 'streaming'"
	"    AND (new.state = 'streaming' OR old.content IS NOT new.content);"
	"  INSERT INTO messages_fts (rowid, content)"
	"    SELECT new.id, new.content WHERE new.state <> 'streaming'"
	"    AND (old.state = 'streaming' OR old.content IS NOT new.content);"
	"END;",
	/*
	 * 1 -> 2: index messages in parts (see the top of this file). Messages of one part
	 * are indexed here; store.c's after-hook (store_migrated) indexes the longer ones in C.
	 */
	"DROP TRIGGER messages_fts_insert;"
	"DROP TRIGGER messages_fts_delete;"
	"DROP TRIGGER messages_fts_update;"
	"DROP TABLE messages_fts;"
	"DROP VIEW messages_indexed;"
	"CREATE VIRTUAL TABLE messages_fts USING fts5 (content,"
	"  tokenize = 'porter unicode61 remove_diacritics 2');"
	STORE_FTS_TRIGGERS
	"INSERT INTO messages_fts (rowid, content) SELECT id * 4096, content FROM messages"
	"  WHERE state <> 'streaming' AND length(CAST(content AS BLOB)) <= 16384;",
	/*
	 * 2 -> 3: the state 'interrupted' and messages.writer, the lease slot of the natter
	 * streaming a row (see the top of this file). A CHECK constraint cannot be altered, so
	 * messages is rebuilt the way SQLite's ALTER TABLE page describes, keeping every id
	 * (the search index's rowids are made from them), and its indexes and triggers are
	 * made again as they were. store_open migrates with foreign keys off, so every row is
	 * copied as it is, and no trigger runs during the copy, so the sums and the index stay.
	 */
	"CREATE TABLE messages_v3 ("
	"  id INTEGER PRIMARY KEY,"
	"  session_id INTEGER NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,"
	"  seq INTEGER NOT NULL,"
	"  role TEXT NOT NULL CHECK (role IN ('system', 'user', 'assistant')),"
	"  provider TEXT,"
	"  model TEXT,"
	"  created_ms INTEGER NOT NULL,"
	"  state TEXT NOT NULL DEFAULT 'complete' CHECK (state IN"
	"    ('complete', 'streaming', 'truncated', 'cancelled', 'error', 'interrupted')),"
	"  error TEXT,"
	"  finish_reason TEXT,"
	"  input_tokens INTEGER,"
	"  output_tokens INTEGER,"
	"  cost REAL,"
	"  ttft_ms INTEGER,"
	"  duration_ms INTEGER,"
	"  compare_group INTEGER REFERENCES compare_groups (id) ON DELETE SET NULL,"
	"  content TEXT NOT NULL DEFAULT '',"
	"  reasoning TEXT,"
	"  writer INTEGER);"
	"INSERT INTO messages_v3 (id, session_id, seq, role, provider, model, created_ms, state,"
	"  error, finish_reason, input_tokens, output_tokens, cost, ttft_ms, duration_ms,"
	"  compare_group, content, reasoning)"
	"  SELECT id, session_id, seq, role, provider, model, created_ms, state, error,"
	"  finish_reason, input_tokens, output_tokens, cost, ttft_ms, duration_ms, compare_group,"
	"  content, reasoning FROM messages;"
	"DROP TABLE messages;"
	"ALTER TABLE messages_v3 RENAME TO messages;"
	"CREATE INDEX messages_by_session ON messages (session_id, seq);"
	"CREATE INDEX messages_by_group ON messages (compare_group);"
	/* Opening the store looks for streaming rows here, never in messages itself. */
	"CREATE INDEX messages_streaming ON messages (writer) WHERE state = 'streaming';"
	STORE_SUMS_TRIGGERS
	STORE_FTS_TRIGGERS,
	/*
	 * 3 -> 4: the reply a comparison kept. A group's replies are its assistant messages in
	 * seq order, one per column, so picked is a column number (0-based), NULL while none
	 * is kept. A column number rather than a message id works for in-memory sessions too,
	 * and ADD COLUMN rewrites nothing, so the upgrade costs no time on a large database.
	 */
	"ALTER TABLE compare_groups ADD COLUMN picked INTEGER;",
	/*
	 * 4 -> 5: session ids are never reused (AUTOINCREMENT). A natter that has a session
	 * open which another natter deleted must find it gone, not write into the next new
	 * session that took its id. The table is rebuilt as in 2 -> 3 (foreign keys are off,
	 * so dropping the old table takes no messages with it); the sum triggers name
	 * sessions, so they go first and come back after the rename.
	 */
	"DROP TRIGGER messages_sums_insert;"
	"DROP TRIGGER messages_sums_delete;"
	"DROP TRIGGER messages_sums_update;"
	"CREATE TABLE sessions_v5 ("
	"  id INTEGER PRIMARY KEY AUTOINCREMENT,"
	"  title TEXT NOT NULL DEFAULT '',"
	"  provider TEXT,"
	"  model TEXT,"
	"  system TEXT,"
	"  created INTEGER NOT NULL,"
	"  updated INTEGER NOT NULL,"
	"  nmessages INTEGER NOT NULL DEFAULT 0,"
	"  input_tokens INTEGER NOT NULL DEFAULT 0,"
	"  output_tokens INTEGER NOT NULL DEFAULT 0,"
	"  cost REAL NOT NULL DEFAULT 0);"
	"INSERT INTO sessions_v5 (id, title, provider, model, system, created, updated,"
	"  nmessages, input_tokens, output_tokens, cost)"
	"  SELECT id, title, provider, model, system, created, updated, nmessages,"
	"  input_tokens, output_tokens, cost FROM sessions;"
	"DROP TABLE sessions;"
	"ALTER TABLE sessions_v5 RENAME TO sessions;"
	"CREATE INDEX sessions_by_updated ON sessions (updated DESC, id DESC);"
	STORE_SUMS_TRIGGERS,
	/*
	 * 5 -> 6: what context.policy needs kept with a session: the rolling summary of its
	 * older turns and how many leading messages it stands for (so a later turn, in this
	 * natter or another, refreshes rather than redoes it), and pinned messages, which are
	 * sent whatever the budget drops. ADD COLUMN rewrites nothing.
	 */
	"ALTER TABLE sessions ADD COLUMN summary TEXT;"
	"ALTER TABLE sessions ADD COLUMN summary_covers INTEGER NOT NULL DEFAULT 0;"
	"ALTER TABLE messages ADD COLUMN pinned INTEGER NOT NULL DEFAULT 0;",
	/*
	 * 6 -> 7: indexes for natter metrics, over replies only (partial) and covering the
	 * figures it adds up, so it reads them rather than the messages table with every
	 * text: per model in order without a sort, per day by a range over the last 30 days.
	 * Over a million messages they take 2.5% of the file and cut `natter metrics` from
	 * about 3 s to well under one; building them is a one-time pass at the upgrade.
	 */
	"CREATE INDEX messages_usage_by_model ON messages (provider, model, input_tokens,"
	"  output_tokens, cost, ttft_ms, duration_ms) WHERE role = 'assistant';"
	"CREATE INDEX messages_usage_by_time ON messages (created_ms, input_tokens,"
	"  output_tokens, cost, ttft_ms, duration_ms) WHERE role = 'assistant';",
	/*
	 * 7 -> 8: long messages whose search indexing was put off. A command-line natter (ask,
	 * compare) stores a 100 KB reply and exits; cutting it into index parts there would
	 * cost it more than the stream did. It notes the message here instead, and the next
	 * search, check or interface start indexes what is noted, so nothing stays unfindable.
	 */
	"CREATE TABLE index_pending (message_id INTEGER PRIMARY KEY);",
	/*
	 * 8 -> 9: the signature Anthropic gives a reply's thinking, which the next request
	 * to the same model sends back with that thinking (src/store-sign.c). NULL for every
	 * other reply; ADD COLUMN rewrites nothing.
	 */
	"ALTER TABLE messages ADD COLUMN reasoning_signature TEXT;",
	/*
	 * 9 -> 10: tool calls and their results, each a message of its own: role 'tool_call'
	 * (content: the arguments' JSON; its Gemini thoughtSignature goes in
	 * reasoning_signature) and role 'tool' (content: the result), tied by tool_id. The
	 * role's CHECK is widened in place (store_schema_widen_roles): a more permissive
	 * constraint leaves every stored row valid, so no table is rebuilt and a database of
	 * any size upgrades at once.
	 */
	"ALTER TABLE messages ADD COLUMN tool_id TEXT;"
	"ALTER TABLE messages ADD COLUMN tool_name TEXT;"
	"ALTER TABLE messages ADD COLUMN tool_error INTEGER NOT NULL DEFAULT 0;",
	/*
	 * 10 -> 11: the column a message of a comparison belongs to, once a column can hold
	 * more than its one reply (tool calls, results and the replies after them, each
	 * column running its own loop). NULL for every older row: a group's replies in order
	 * are still its columns, as before.
	 */
	"ALTER TABLE messages ADD COLUMN slot INTEGER;",
	/*
	 * 11 -> 12: files attached to user messages (src/store-attach.c). Each distinct
	 * content is stored once, addressed by its SHA-256, whatever name it came under and
	 * however many messages (a regenerated, edited or imported one) refer to it; a
	 * message's references keep its order and the names. Deleting the last reference (a
	 * message deleted by itself or with its session, through the cascade) deletes the
	 * bytes. The bytes live in a table of their own so that reading messages never
	 * touches them.
	 */
	"CREATE TABLE attachments ("
	"  id INTEGER PRIMARY KEY,"
	"  sha256 TEXT NOT NULL UNIQUE,"
	"  mime TEXT NOT NULL,"
	"  kind TEXT NOT NULL,"
	"  size INTEGER NOT NULL,"
	"  data BLOB NOT NULL);"
	"CREATE TABLE message_attachments ("
	"  message_id INTEGER NOT NULL REFERENCES messages (id) ON DELETE CASCADE,"
	"  seq INTEGER NOT NULL,"
	"  attachment_id INTEGER NOT NULL REFERENCES attachments (id),"
	"  name TEXT NOT NULL,"
	"  PRIMARY KEY (message_id, seq));"
	"CREATE INDEX message_attachments_by_attachment ON message_attachments (attachment_id);"
	"CREATE TRIGGER message_attachments_unused AFTER DELETE ON message_attachments"
	"  WHEN NOT EXISTS (SELECT 1 FROM message_attachments"
	"    WHERE attachment_id = old.attachment_id) BEGIN"
	"  DELETE FROM attachments WHERE id = old.attachment_id;"
	"END;",
	/*
	 * 12 -> 13: archived sessions, hidden from the usual listings without being deleted.
	 * ADD COLUMN rewrites nothing; the listing of the archive reads a partial index of its
	 * own, and the usual listing keeps reading sessions_by_updated, skipping the few
	 * archived rows.
	 */
	("ALTER TABLE sessions ADD COLUMN archived INTEGER NOT NULL DEFAULT 0;"
	"CREATE INDEX sessions_archived ON sessions (updated DESC, id DESC) WHERE archived <> 0;"),
	/*
	 * 13 -> 14: vectors for semantic search (src/store-vectors.c). vector_models names
	 * each embedding model natter has used (its key: provider, model id, dimensions) and
	 * how far up the message ids every message has been considered (upto), so a search
	 * over a store that is caught up checks one row, not every message. A message's vector
	 * is kept twice: normalized at one signed byte a dimension (message_vectors, for the
	 * final ranking) and as its signs alone, one bit a dimension (message_vector_bits, in
	 * a table of its own so that scanning them reads an eighth of the bytes); a search
	 * scans the bits and ranks the nearest few hundred by their bytes. Deleting the
	 * message deletes both. IF NOT EXISTS: new tables only, so the step may run again over
	 * a database that has them (a version rewound by hand) without harm.
	 */
	("CREATE TABLE IF NOT EXISTS vector_models ("
	"  id INTEGER PRIMARY KEY,"
	"  key TEXT NOT NULL UNIQUE,"
	"  upto INTEGER NOT NULL DEFAULT 0);"
	"CREATE TABLE IF NOT EXISTS message_vectors ("
	"  message_id INTEGER PRIMARY KEY REFERENCES messages (id) ON DELETE CASCADE,"
	"  model INTEGER NOT NULL REFERENCES vector_models (id),"
	"  vec BLOB NOT NULL);"
	"CREATE TABLE IF NOT EXISTS message_vector_bits ("
	"  message_id INTEGER PRIMARY KEY REFERENCES messages (id) ON DELETE CASCADE,"
	"  model INTEGER NOT NULL,"
	"  bits BLOB NOT NULL);"),
	/*
	 * 14 -> 15: prefix indexes of 2 and 3 characters in the search index, so that a short
	 * prefix query (lo*, and the session list's search, where every word typed is a prefix)
	 * walks one doclist from the newest hit instead of merging the doclists of every word
	 * the prefix covers (seconds over a million messages). FTS5 options cannot be altered,
	 * so the index is built again from its own copy of the parts, keeping their rowids, and
	 * its triggers are made again as they were (about two minutes on 1,000,000 messages).
	 */
	("CREATE VIRTUAL TABLE messages_fts_v15 USING fts5 (content, prefix = '2 3',"
	"  tokenize = 'porter unicode61 remove_diacritics 2');"
	"INSERT INTO messages_fts_v15 (rowid, content) SELECT rowid, content FROM messages_fts;"
	"DROP TRIGGER messages_fts_insert;"
	"DROP TRIGGER messages_fts_delete;"
	"DROP TRIGGER messages_fts_update;"
	"DROP TABLE messages_fts;"
	"ALTER TABLE messages_fts_v15 RENAME TO messages_fts;"
	STORE_FTS_TRIGGERS),
	/*
	 * 15 -> 16: history that branches (src/store-tree.c). A message names the one it
	 * follows in parent_id: 0 for a first message, another session's message for the first
	 * one of a fork. Older rows keep NULL, read as "the message before it by seq in its
	 * session", which is the parent their order implies, so an old database keeps its one
	 * path with nothing rewritten (ADD COLUMN is instant on a million rows) and rows that
	 * other tools insert without the column stay a straight line. A session's head_id is
	 * the last message of the path on screen (NULL: its newest message), forked_from the
	 * message of another session a fork goes on from, sharing the rows before it. Children
	 * are found through a partial index of the rows that name a parent, so older rows add
	 * nothing to it and building it reads each row once.
	 */
	("ALTER TABLE messages ADD COLUMN parent_id INTEGER;"
	"ALTER TABLE sessions ADD COLUMN head_id INTEGER;"
	"ALTER TABLE sessions ADD COLUMN forked_from INTEGER;"
	"CREATE INDEX messages_by_parent ON messages (session_id, parent_id)"
	"  WHERE parent_id IS NOT NULL;"
	"CREATE INDEX sessions_forked ON sessions (forked_from) WHERE forked_from IS NOT NULL;"),
	/*
	 * 16 -> 17: long replies stored as they arrive (src/store-spill.c). A message's text is
	 * its content followed by its rows here in id order; a reply gets rows only once it is
	 * longer than STORE_SPILL_AT, so nearly every message has none and the table is
	 * usually empty. The rows go with their message.
	 */
	"CREATE TABLE message_spill ("
	"  id INTEGER PRIMARY KEY,"
	"  message_id INTEGER NOT NULL REFERENCES messages (id) ON DELETE CASCADE,"
	"  data BLOB NOT NULL);"
	"CREATE INDEX message_spill_by_message ON message_spill (message_id, id);",
};

#define STORE_NMIGRATIONS ((int)(sizeof(store_migrations) / sizeof(store_migrations[0])))

/* Monotonic milliseconds, for the wait deadline. */
static long long
store_schema_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Whether rc means another connection holds a lock we need (worth waiting for). */
static int
store_schema_busy(int rc)
{
	return (rc & 0xff) == SQLITE_BUSY || (rc & 0xff) == SQLITE_LOCKED;
}

/* Sleep a little before trying again (attempt counts from 0): 1 ms growing to 50 ms, with
 * the low bits of the clock as jitter so that waiting processes do not move in step. */
static void
store_schema_pause(int attempt)
{
	struct timespec ts;
	long ms = attempt < 6 ? 1L << attempt : 50;

	clock_gettime(CLOCK_REALTIME, &ts);
	ms += (ts.tv_nsec / 1000) % (ms + 1);
	ts.tv_sec = 0;
	ts.tv_nsec = ms * 1000000L;
	nanosleep(&ts, NULL);
}

/* Record SQLite's reason for a failure of what. */
static void
store_schema_fail(sqlite3 *db, const char *what, char *err, size_t errlen)
{
	snprintf(err, errlen, "%s: %s", what, sqlite3_errmsg(db));
}

/* The schema version this natter writes. */
int
store_schema_latest(void)
{
	return STORE_NMIGRATIONS;
}

/* Read a pragma that returns one text value into out; the SQLite result code. */
static int
store_schema_pragma_text(sqlite3 *db, const char *sql, char *out, size_t outlen)
{
	sqlite3_stmt *s;
	int rc;

	out[0] = '\0';
	rc = sqlite3_prepare_v2(db, sql, -1, &s, NULL);
	if (rc != SQLITE_OK)
		return rc;
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		const unsigned char *t = sqlite3_column_text(s, 0);

		snprintf(out, outlen, "%s", t != NULL ? (const char *)t : "");
		rc = SQLITE_OK;
	} else if (rc == SQLITE_DONE) {
		rc = SQLITE_OK;
	}
	sqlite3_finalize(s);
	return rc;
}

/* Read user_version into *version; the SQLite result code. */
static int
store_schema_version(sqlite3 *db, int *version)
{
	char v[32];
	int rc = store_schema_pragma_text(db, "PRAGMA user_version", v, sizeof(v));

	*version = rc == SQLITE_OK ? (int)strtol(v, NULL, 10) : -1;
	return rc;
}

/* Switch to WAL unless the file is in WAL mode already (the mode is stored in the file, so
 * only its first opener changes it). A database that cannot do WAL (in memory) keeps the
 * mode it has, as SQLite decides. */
int
store_schema_wal(sqlite3 *db, char *err, size_t errlen)
{
	long long deadline = store_schema_now_ms() + STORE_SCHEMA_WAIT_MS;
	char mode[32];
	int attempt, rc;

	for (attempt = 0;; attempt++) {
		rc = store_schema_pragma_text(db, "PRAGMA journal_mode", mode, sizeof(mode));
		if (rc == SQLITE_OK && strcasecmp(mode, "wal") == 0)
			return 0;
		if (rc == SQLITE_OK)
			rc = store_schema_pragma_text(db, "PRAGMA journal_mode = WAL", mode,
			    sizeof(mode));
		if (rc == SQLITE_OK)
			return 0;
		if (!store_schema_busy(rc) || store_schema_now_ms() > deadline) {
			store_schema_fail(db, "setting WAL mode", err, errlen);
			return -1;
		}
		store_schema_pause(attempt);
	}
}

/*
 * Whether the change of the migration from version is in the database already. One case
 * exists: the race this file's opening comment describes could run migration 2 again over
 * a version-4 database, leaving version 3 with version 4's column, which then refused
 * "duplicate column name: picked" to every natter. Such a database is repaired by bumping
 * the version alone (migration 2 run again rebuilt the same messages table it had).
 */
static int
store_schema_applied(sqlite3 *db, int version)
{
	sqlite3_stmt *s;
	int found = 0;

	if (version != 3)
		return 0;
	if (sqlite3_prepare_v2(db, "SELECT count(*) FROM pragma_table_info('compare_groups')"
	    " WHERE name = 'picked'", -1, &s, NULL) != SQLITE_OK)
		return 0;
	if (sqlite3_step(s) == SQLITE_ROW)
		found = sqlite3_column_int(s, 0) > 0;
	sqlite3_finalize(s);
	return found;
}

/* Let messages.role hold 'tool_call' and 'tool' (the 9 -> 10 step): the table's CHECK is
 * rewritten in sqlite_schema as SQLite's ALTER TABLE page describes for constraint
 * changes that leave the file's format alone, with the schema cookie bumped so every
 * connection reloads it. Runs inside the step's transaction. */
static int
store_schema_widen_roles(sqlite3 *db)
{
	sqlite3_stmt *s;
	char *sql;
	int cookie = -1, rc;

	if (sqlite3_prepare_v2(db, "PRAGMA schema_version", -1, &s, NULL) != SQLITE_OK)
		return SQLITE_ERROR;
	if (sqlite3_step(s) == SQLITE_ROW)
		cookie = sqlite3_column_int(s, 0);
	sqlite3_finalize(s);
	if (cookie < 0)
		return SQLITE_ERROR;
	sql = xasprintf("PRAGMA writable_schema = ON;"
	    "UPDATE sqlite_schema SET sql = replace(sql,"
	    " 'CHECK (role IN (''system'', ''user'', ''assistant''))',"
	    " 'CHECK (role IN (''system'', ''user'', ''assistant'', ''tool_call'', ''tool''))')"
	    " WHERE type = 'table' AND name = 'messages';"
	    "PRAGMA schema_version = %d;"
	    "PRAGMA writable_schema = OFF;", cookie + 1);
	rc = sqlite3_exec(db, sql, NULL, NULL, NULL);
	free(sql);
	return rc;
}

/* Roll back whatever transaction is open, keeping err as it is. */
static void
store_schema_rollback(sqlite3 *db)
{
	if (!sqlite3_get_autocommit(db))
		sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
}

/*
 * Take one step towards upto under the write lock. Returns 1 when a migration was applied,
 * 0 when the database is at upto (or beyond it, up to this natter's version) already, -1
 * on failure with err set, and -2 when another connection's lock got in the way and the
 * step should be tried again.
 */
static int
store_schema_step(sqlite3 *db, int upto, int (*after)(void *arg, int version), void *arg,
    char *err, size_t errlen)
{
	char *sql;
	int rc, version;

	rc = sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
	if (rc != SQLITE_OK) {
		if (store_schema_busy(rc))
			return -2;
		store_schema_fail(db, "upgrading the database schema", err, errlen);
		return -1;
	}
	/* Under the lock: whatever another process did before we got it is visible now. */
	rc = store_schema_version(db, &version);
	if (rc != SQLITE_OK) {
		store_schema_fail(db, "reading the schema version", err, errlen);
		store_schema_rollback(db);
		return store_schema_busy(rc) ? -2 : -1;
	}
	if (version > STORE_NMIGRATIONS) {
		snprintf(err, errlen,
		    "the database schema (version %d) is newer than this natter (version %d)",
		    version, STORE_NMIGRATIONS);
		store_schema_rollback(db);
		return -1;
	}
	if (version >= upto) {
		store_schema_rollback(db);
		return 0;
	}
	/* The version bump rides in the same transaction as the change. */
	sql = xasprintf("%s PRAGMA user_version = %d;", store_schema_applied(db, version) ? "" :
	    store_migrations[version], version + 1);
	rc = sqlite3_exec(db, sql, NULL, NULL, NULL);
	free(sql);
	if (rc == SQLITE_OK && version == 9)
		rc = store_schema_widen_roles(db);
	if (rc != SQLITE_OK) {
		store_schema_fail(db, "upgrading the database schema", err, errlen);
		store_schema_rollback(db);
		return store_schema_busy(rc) ? -2 : -1;
	}
	if (after != NULL && after(arg, version + 1) != 0) {
		store_schema_rollback(db);
		return -1;
	}
	rc = sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
	if (rc != SQLITE_OK) {
		store_schema_fail(db, "upgrading the database schema", err, errlen);
		store_schema_rollback(db);
		return store_schema_busy(rc) ? -2 : -1;
	}
	return 1;
}

/* Bring the schema to version upto, one migration per transaction, each decided under the
 * write lock. */
int
store_schema_migrate(sqlite3 *db, int upto, int (*after)(void *arg, int version),
    void *arg, char *err, size_t errlen)
{
	long long deadline = store_schema_now_ms() + STORE_SCHEMA_WAIT_MS;
	int attempt = 0, rc, version;

	if (upto > STORE_NMIGRATIONS)
		upto = STORE_NMIGRATIONS;
	/* Rebuilding a table must copy its rows as they are, and dropping the old sessions
	 * table must not cascade to the messages: foreign keys stay off while migrating (a
	 * no-op inside a transaction, so the caller must not be in one). */
	sqlite3_exec(db, "PRAGMA foreign_keys = OFF", NULL, NULL, NULL);
	/* Nearly every open finds the schema current: that needs no write lock. The version
	 * only grows, so a current one read outside a transaction stays current. */
	for (;;) {
		rc = store_schema_version(db, &version);
		if (rc == SQLITE_OK)
			break;
		if (!store_schema_busy(rc) || store_schema_now_ms() > deadline) {
			store_schema_fail(db, "reading the schema version", err, errlen);
			return -1;
		}
		store_schema_pause(attempt++);
	}
	if (version > STORE_NMIGRATIONS) {
		snprintf(err, errlen,
		    "the database schema (version %d) is newer than this natter (version %d)",
		    version, STORE_NMIGRATIONS);
		return -1;
	}
	if (version >= upto)
		return 0;
	for (attempt = 0;;) {
		rc = store_schema_step(db, upto, after, arg, err, errlen);
		if (rc == 0)
			return 0;
		if (rc == -1)
			return -1;
		if (rc == 1) {
			attempt = 0;
			continue;
		}
		if (store_schema_now_ms() > deadline) {
			snprintf(err, errlen, "upgrading the database schema: %s",
			    "database is locked (another natter kept it locked too long)");
			return -1;
		}
		store_schema_pause(attempt++);
	}
}
