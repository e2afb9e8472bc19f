/*
 * What the store's own files share (store.c, store-search.c, ...): the connection with its
 * cached statements, and the few helpers that run them. Nothing outside src/store*.c
 * includes this.
 */
#ifndef NATTER_STORE_INTERNAL_H
#define NATTER_STORE_INTERNAL_H

#include <sqlite3.h>

#include "store.h"

/* The message columns every message query selects, before content and reasoning. */
#define MESSAGE_COLUMNS \
	"m.id, m.session_id, m.role, m.provider, m.model, m.created_ms, m.state, m.error," \
	" m.finish_reason, m.input_tokens, m.output_tokens, m.cost, m.ttft_ms, m.duration_ms," \
	" m.compare_group," \
	" (SELECT g.picked FROM compare_groups g WHERE g.id = m.compare_group), m.pinned," \
	" m.tool_id, m.tool_name, m.tool_error, m.slot"

/* Cached statements, prepared lazily; the SQL lives in store_sql[] at the same index. */
enum store_stmt_id {
	SQL_BEGIN,
	SQL_COMMIT,
	SQL_ROLLBACK,
	SQL_NEST_BEGIN,
	SQL_NEST_RELEASE,
	SQL_NEST_ROLLBACK,
	SQL_SESSION_NEW,
	SQL_SESSION_RENAME,
	SQL_SESSION_SET_MODEL,
	SQL_SESSION_SET_SYSTEM,
	SQL_SESSION_DELETE,
	SQL_SESSION_TOUCH,
	SQL_SESSIONS,
	SQL_SESSIONS_ARCHIVED,
	SQL_SESSIONS_ALL,
	SQL_SESSION_ARCHIVE,
	SQL_SESSION_GET,
	SQL_SESSION_EXISTS,
	SQL_MSG_EXISTS,
	SQL_MSG_ADD,
	SQL_MSG_UPDATE,
	SQL_MSG_TOUCH_SESSION,
	SQL_MSG_DELETE_AFTER,
	SQL_MSGS,
	SQL_SEARCH_PARTS,
	SQL_SEARCH_RANKED,
	SQL_SEARCH_FTS,
	SQL_SEARCH_FTS_RANK,
	SQL_SEARCH_SCAN,
	SQL_SEARCH_SCAN_RANKED,
	SQL_SEARCH_PART,
	SQL_SEARCH_MESSAGE,
	SQL_SEARCH_TERMS,
	SQL_SEARCH_TOTALS,
	SQL_SEARCH_COUNT,
	SQL_SEARCH_BELOW,
	SQL_SEARCH_ROW,
	SQL_SEARCH_AFTER,
	SQL_SEARCH_EDGE,
	SQL_GROUP_NEW,
	SQL_PART_EXISTS,
	SQL_PART_INSERT,
	SQL_PART_SAVEPOINT,
	SQL_PART_RELEASE,
	SQL_UNINDEXED,
	SQL_STREAMING_WRITERS,
	SQL_STREAMING_OF,
	SQL_INTERRUPT,
	SQL_MSG_CONTENT,
	SQL_GROUP_PICK,
	SQL_IMPORT_SESSION,
	SQL_IMPORT_GROUP,
	SQL_IMPORT_MSG,
	SQL_IMPORT_COST,
	SQL_USAGE_MODEL,
	SQL_USAGE_DAY,
	SQL_USAGE_SESSION,
	SQL_SESSION_SET_SUMMARY,
	SQL_MSG_SET_PINNED,
	SQL_PENDING_ADD,
	SQL_PENDING_LIST,
	SQL_PENDING_DONE,
	SQL_COUNT
};

struct store {
	sqlite3 *db;
	char *path;
	sqlite3_stmt *stmt[SQL_COUNT];
	int lease_fd;      /* the <db>-lease file, -1 when none */
	long slot;         /* the byte of it this store has locked, -1 when none */
	int defer_index;   /* note long messages in index_pending instead of indexing them */
	int batch;         /* inside store_batch_begin: one transaction holds the writes */
	struct store_search_conn *search;  /* the search's tokenizer and tables (store-search.c) */
	char err[512];
};

/* The cached statement id, prepared on first use; NULL (with st->err) when it fails. */
sqlite3_stmt *store_stmt(struct store *st, enum store_stmt_id id);
/* Record SQLite's reason for a failure of what in st->err. */
void store_fail(struct store *st, const char *what);
/* Fill r from a row selecting MESSAGE_COLUMNS, content and reasoning. */
void store_row_message(sqlite3_stmt *s, struct message_row *r);
/* A transaction of the store's own (a savepoint inside a batch): store_tx_end commits it
 * when ok, else rolls it back keeping the first error; -1 when it did not commit. */
int store_tx_begin(struct store *st);
int store_tx_end(struct store *st, int ok);
/* Before rows of session_id are deleted (all of them when root is 0, else message root and
 * what follows it), give the forks that share some of them those rows (store-tree.c). */
int store_tree_hand_over(struct store *st, int64_t session_id, int64_t root);
/* Release what the search keeps for the connection (store-search.c). */
void store_search_close(struct store *st);
/* Set the search's thresholds (0: the defaults; the tests make them small): a prefix
 * covering dense word instances is loosened, and checks candidates are checked before
 * the walk goes on with the query itself. */
void store_search_tune(struct store *st, long dense, long checks);
/* Set when a search splits its walk in two (store-search.c): a range of at least min_ids
 * messages (0: the default), and always when force, whatever the samples find. */
void store_search_tune_split(struct store *st, long min_ids, int force);
/* How many walks have been split on this connection (for the tests). */
long store_search_splits(struct store *st);
/* The length of the search-index part that starts at p, left bytes remaining (store.c). */
size_t store_part_len(const char *p, size_t left);
/* Long replies (store-spill.c): append to a message's stored text, tell whether it has
 * spill rows, give loaded rows their whole texts, index a spilled text part by part. */
int store_spill_append(struct store *st, int64_t id, const char *p, size_t n);
int store_spill_has(struct store *st, int64_t id);
int store_spill_fill(struct store *st, struct message_row *rows, size_t n);
int store_spill_index(struct store *st, int64_t id);
/* Every message of a session in seq order with their attachments (store.c). */
int store_messages_seq(struct store *st, int64_t session_id, struct message_row **out,
    size_t *n);

/* Shared among store.c, store-index.c, store-lease.c and store-import.c (store.c). */
/* Bind a cost, a count, a string: negative or NULL is stored as NULL. */
void store_bind_cost(sqlite3_stmt *s, int i, double v);
void store_bind_count(sqlite3_stmt *s, int i, long v);
void store_bind_text(sqlite3_stmt *s, int i, const char *v);
/* Run an UPDATE/DELETE on one row (noun names it) and fail when it matched none. */
int store_change_one(struct store *st, sqlite3_stmt *s, int64_t id, const char *what,
    const char *noun);
/* Run a cached statement with no parameters (BEGIN, COMMIT, ROLLBACK; savepoints inside a
 * batch). */
int store_exec_cached(struct store *st, enum store_stmt_id id);
/* Wall-clock unix seconds. */
int64_t store_now_s(void);
/* Roll back after a failure without losing the first error message. */
void store_rollback(struct store *st);
/* A text column as a fresh string, or NULL. */
char *store_col_text(sqlite3_stmt *s, int i);
/* Run one statement that returns no rows; 0 or -1. */
int store_step_done(struct store *st, sqlite3_stmt *s, const char *what);
/* The search index (store-index.c): index a finished message longer than one part inside
 * the caller's transaction (spilled: its text has spill rows), or one that may have them;
 * index every finished message that has no parts yet (the 1 -> 2 migration). */
int store_index(struct store *st, int64_t id, const char *content, int spilled);
int store_index_any(struct store *st, int64_t id, const char *content);
int store_index_missing(struct store *st);
/* Leases (store-lease.c): bind the writer column for a row in state (this store's slot
 * while it streams, else NULL); take a slot, held until store_close; finish the replies
 * whose writers are gone (see store-lease.c). */
void store_bind_writer(const struct store *st, sqlite3_stmt *s, int i, enum msg_state state);
void store_lease_take(struct store *st);
void store_recover(struct store *st);

#endif
