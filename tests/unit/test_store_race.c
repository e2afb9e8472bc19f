/* Unit tests for opening one database from many processes at once: eight processes open a
 * database that does not exist yet, or one left at each older schema version with data in
 * it, all at the same moment, again and again. Every open must succeed, and the database
 * must end at the latest version, pass its checks and keep every row. Older versions are
 * built by applying only the first K migrations, as a natter of that version left them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include <sqlite3.h>

#include "store.h"
#include "store-schema.h"
#include "xmalloc.h"

#define RACE_PROCS 8

struct fixture {
	char dir[64];
	char *path;
};

/* A fresh temporary directory; the database path is two levels below it (not created). */
static int
setup(void **state)
{
	struct fixture *f = xcalloc(1, sizeof(*f));

	snprintf(f->dir, sizeof(f->dir), "/tmp/natter-race.XXXXXX");
	if (mkdtemp(f->dir) == NULL)
		return -1;
	f->path = xasprintf("%s/data/natter/natter.db", f->dir);
	*state = f;
	return 0;
}

/* Remove the temporary directory. */
static int
teardown(void **state)
{
	struct fixture *f = *state;
	char *cmd = xasprintf("rm -rf '%s'", f->dir);

	if (system(cmd) != 0)
		fprintf(stderr, "cleanup failed: %s\n", cmd);
	free(cmd);
	free(f->path);
	free(f);
	return 0;
}

/* Remove the database and its WAL, shared-memory and lease files. */
static void
remove_db(const char *path)
{
	static const char *const ext[] = { "", "-wal", "-shm", "-lease", "-journal" };
	size_t i;

	for (i = 0; i < sizeof(ext) / sizeof(ext[0]); i++) {
		char *p = xasprintf("%s%s", path, ext[i]);

		unlink(p);
		free(p);
	}
}

/* Leave a database at schema version k (k >= 1) holding one session of three messages,
 * written with the columns every version has. */
static void
build_at(const char *path, int k)
{
	char err[256] = "";
	char *cmd = xasprintf("mkdir -p \"$(dirname '%s')\"", path);
	sqlite3 *db;

	assert_int_equal(system(cmd), 0);
	free(cmd);
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	if (store_schema_wal(db, err, sizeof(err)) != 0 ||
	    store_schema_migrate(db, k, NULL, NULL, err, sizeof(err)) != 0)
		fail_msg("building version %d: %s", k, err);
	assert_int_equal(sqlite3_exec(db,
	    "INSERT INTO sessions (id, title, created, updated) VALUES (1, 'old', 1, 1);"
	    "INSERT INTO messages (session_id, seq, role, created_ms, state, content) VALUES"
	    " (1, 1, 'user', 1000, 'complete', 'tell me about sourdough'),"
	    " (1, 2, 'assistant', 2000, 'complete', 'sourdough rises slowly'),"
	    " (1, 3, 'user', 3000, 'complete', 'and rye?');", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
}

/* Start RACE_PROCS processes that open the store at path together (released at once by a
 * closing pipe) and return how many of them failed; each failure's reason goes to stderr. */
static int
race(const char *path)
{
	pid_t pids[RACE_PROCS];
	int gate[2], i, status, failed = 0;

	assert_int_equal(pipe(gate), 0);
	for (i = 0; i < RACE_PROCS; i++) {
		pids[i] = fork();
		assert_true(pids[i] >= 0);
		if (pids[i] == 0) {
			struct store *st;
			char *err = NULL, c;

			close(gate[1]);
			if (read(gate[0], &c, 1) < 0)
				_exit(3);
			st = store_open(path, &err);
			if (st == NULL) {
				fprintf(stderr, "# open %d: %s\n", i, err);
				_exit(1);
			}
			store_close(st);
			_exit(0);
		}
	}
	close(gate[0]);
	close(gate[1]);
	for (i = 0; i < RACE_PROCS; i++) {
		assert_int_equal(waitpid(pids[i], &status, 0), pids[i]);
		if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
			failed++;
	}
	return failed;
}

/* The database's user_version, read without the store. */
static int
user_version(const char *path)
{
	sqlite3 *db;
	sqlite3_stmt *s;
	int v = -1;

	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &s, NULL), SQLITE_OK);
	if (sqlite3_step(s) == SQLITE_ROW)
		v = sqlite3_column_int(s, 0);
	sqlite3_finalize(s);
	sqlite3_close(db);
	return v;
}

/* The database is at the latest version, passes the store's checks, and holds nmsgs
 * messages in session 1 (when nmsgs > 0) that search finds. */
static void
check_db(const char *path, size_t nmsgs)
{
	struct message_row *ms;
	struct store *st;
	char *err = NULL;
	size_t n;

	assert_int_equal(user_version(path), store_schema_latest());
	st = store_open(path, &err);
	if (st == NULL)
		fail_msg("open after the race: %s", err);
	if (store_check(st, &err) != 0)
		fail_msg("check after the race: %s", err);
	if (nmsgs > 0) {
		assert_int_equal(store_messages(st, 1, &ms, &n), 0);
		assert_int_equal(n, nmsgs);
		assert_string_equal(ms[0].content, "tell me about sourdough");
		assert_string_equal(ms[2].content, "and rye?");
		store_messages_free(ms, n);
		assert_int_equal(store_search(st, "sourdough", &ms, &n, 0), 0);
		assert_int_equal(n, 2);
		store_messages_free(ms, n);
	}
	/* The upgraded database works for new writes too. */
	assert_true(store_session_new(st, "new", NULL, NULL) > 0);
	store_close(st);
}

/* Eight processes creating a database that does not exist yet, twenty times over. */
static void
test_race_fresh(void **state)
{
	struct fixture *f = *state;
	int round, failed = 0;

	for (round = 0; round < 20; round++) {
		remove_db(f->path);
		failed += race(f->path);
		check_db(f->path, 0);
	}
	assert_int_equal(failed, 0);
}

/* Eight processes upgrading a database left at each older version, five times each. */
static void
test_race_upgrade(void **state)
{
	struct fixture *f = *state;
	int k, round, failed = 0;

	assert_true(store_schema_latest() >= 2);
	for (k = 1; k < store_schema_latest(); k++) {
		for (round = 0; round < 5; round++) {
			remove_db(f->path);
			build_at(f->path, k);
			assert_int_equal(user_version(f->path), k);
			failed += race(f->path);
			check_db(f->path, 3);
		}
	}
	assert_int_equal(failed, 0);
}

/* Applying only the first K migrations stops there, and a later call goes on from it. */
static void
test_migrate_in_steps(void **state)
{
	struct fixture *f = *state;
	char err[256] = "";
	sqlite3 *db;
	int k;

	build_at(f->path, 1);
	assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
	for (k = 2; k <= store_schema_latest(); k++) {
		assert_int_equal(store_schema_migrate(db, k, NULL, NULL, err, sizeof(err)), 0);
		sqlite3_close(db);
		assert_int_equal(user_version(f->path), k);
		assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
	}
	/* At the latest version, asking for it again is a no-op, not an error. */
	assert_int_equal(store_schema_migrate(db, store_schema_latest(), NULL, NULL, err,
	    sizeof(err)), 0);
	sqlite3_close(db);
	check_db(f->path, 3);
}

/* A database the old race left broken (migration 2 run again over version 4: version 3
 * with version 4's column, which every natter then refused) opens and is repaired. */
static void
test_repair_raced_v3(void **state)
{
	struct fixture *f = *state;
	sqlite3 *db;

	build_at(f->path, 4);
	assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "PRAGMA user_version = 3", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	assert_int_equal(race(f->path), 0);
	check_db(f->path, 3);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_race_fresh, setup, teardown),
		cmocka_unit_test_setup_teardown(test_race_upgrade, setup, teardown),
		cmocka_unit_test_setup_teardown(test_migrate_in_steps, setup, teardown),
		cmocka_unit_test_setup_teardown(test_repair_raced_v3, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
