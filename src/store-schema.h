/*
 * The database schema of the session store and its migrations (store-schema.c), kept apart
 * from the queries in store.c. Internal to the store: nothing outside src/store*.c and the
 * store's unit tests includes it.
 */
#ifndef NATTER_STORE_SCHEMA_H
#define NATTER_STORE_SCHEMA_H

#include <stddef.h>

#include <sqlite3.h>

/* A part of the search index holds at most this many bytes of text, a message at most
 * STORE_PARTS parts (see the top of store.c). The numbers are baked into the schema's
 * triggers (16384, 4096) and into stored rowids. */
#define STORE_PART_MAX 16384
#define STORE_PARTS 4096

/* How long opening waits, all told, for other natters creating or upgrading the same
 * database before it gives up with "database is locked". */
#define STORE_SCHEMA_WAIT_MS 30000

/* The schema version this natter writes: its number of migrations. */
int store_schema_latest(void);

/* Put db in WAL mode unless it is already; waits for other openers doing the same. 0, or
 * -1 with err set. */
int store_schema_wal(sqlite3 *db, char *err, size_t errlen);

/*
 * Bring db to schema version upto (store_schema_latest() for all of it), each step in a
 * transaction of its own that re-reads the version under the write lock, so any number of
 * processes may open and upgrade one database at once: each step runs exactly once. after,
 * when not NULL, runs inside the transaction of each step with the version it reaches and
 * can fail the step by returning non-zero (having set err itself). A database newer than
 * this natter is refused. 0, or -1 with err set.
 */
int store_schema_migrate(sqlite3 *db, int upto, int (*after)(void *arg, int version),
    void *arg, char *err, size_t errlen);

/* The version whose migration makes messages a tree (parent_id, head_id, forked_from). */
#define STORE_SCHEMA_TREE 16

/* For the store's other files (store-sign.c): the connection of st, and recording a
 * failure of what with SQLite's reason for store_error. */
struct store;
sqlite3 *store_handle(struct store *st);
void store_note_failure(struct store *st, const char *what);

#endif
