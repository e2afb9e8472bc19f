/* Unit tests for history that branches: regenerate and edit keep the earlier message as an
 * alternative, switching picks the path on screen and the request follows it, a fork shares
 * the stored rows instead of copying them, truncating takes a subtree only, and a database
 * from before the tree (rows without parents) keeps its one path and branches from it. A
 * fork's shared rows get alternatives of the fork's own that the other session never
 * sees, and deleting the other session (or the part of it a fork shares) hands the shared
 * rows over to the fork instead of taking them from it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include <sqlite3.h>

#include "buf.h"
#include "export.h"
#include "provider.h"
#include "request.h"
#include "session.h"
#include "store.h"
#include "store-schema.h"
#include "xmalloc.h"

#include "store-fixture.h"

/* Add a finished reply with text. */
static void
reply(struct session *s, const char *text)
{
	session_begin_reply(s, "openai", "m");
	session_reply_text(s, text, strlen(text));
	session_reply_end(s, MSG_COMPLETE, NULL, -1, NULL, NULL);
}

/* The texts of the session's path joined by "|". */
static char *
path_of(const struct session *s)
{
	struct buf b = BUF_INIT;
	size_t i;

	for (i = 0; i < s->nmsgs; i++) {
		if (i > 0)
			buf_putc(&b, '|');
		buf_puts(&b, buf_str(&s->msgs[i].content));
	}
	return b.data != NULL ? buf_detach(&b) : xstrdup("");
}

/* The texts of the request for the next reply joined by "|". */
static char *
request_of(const struct session *s)
{
	struct provider *p = provider_new("test", "openai", "http://127.0.0.1:1");
	struct session_fit fit = { 0 };
	struct request *r = session_request_fit(s, p, "m", NULL, s->nmsgs, -1, &fit);
	struct buf b = BUF_INIT;
	size_t i;

	for (i = 0; i < r->nmsgs; i++) {
		if (i > 0)
			buf_putc(&b, '|');
		buf_puts(&b, r->msgs[i].content != NULL ? r->msgs[i].content : "");
	}
	request_free(r);
	provider_free(p);
	return b.data != NULL ? buf_detach(&b) : xstrdup("");
}

/* Assert the session's path reads want. */
static void
assert_path(const struct session *s, const char *want)
{
	char *got = path_of(s);

	assert_string_equal(got, want);
	free(got);
}

/* A count from the database. */
static long
count(struct store *st, const char *sql)
{
	sqlite3 *db = store_handle(st);
	sqlite3_stmt *s;
	long n = -1;

	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &s, NULL), SQLITE_OK);
	if (sqlite3_step(s) == SQLITE_ROW)
		n = (long)sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	return n;
}

/* Regenerating keeps the first reply: ‹2/2›, switching back shows ‹1/2› and the request
 * (and what follows) is built from the path on screen; reopening shows the chosen one. */
static void
test_regenerate_switch(void **state)
{
	struct fixture *f = *state;
	struct session *s = session_new(f->st, "openai", "m"), *l;
	struct message_row *rows;
	char *req;
	size_t n;
	int64_t id;

	session_append_user(s, "q");
	reply(s, "a1");
	session_branch(s, 1);
	assert_path(s, "q");
	reply(s, "a2");
	assert_int_equal(s->msgs[1].nalt, 2);
	assert_int_equal(s->msgs[1].alt, 2);
	assert_int_equal(s->msgs[0].nalt, 1);
	id = s->id;
	assert_int_equal(count(f->st, "SELECT count(*) FROM messages"), 3);

	l = session_load(f->st, id);
	assert_path(l, "q|a2");
	assert_int_equal(l->msgs[1].alt, 2);
	assert_int_equal(session_switch(l, 1, 1), 1);  /* no later one */
	assert_int_equal(session_switch(l, 1, -1), 0);
	assert_path(l, "q|a1");
	assert_int_equal(l->msgs[1].alt, 1);
	assert_int_equal(l->msgs[1].nalt, 2);
	req = request_of(l);
	assert_string_equal(req, "q|a1");
	free(req);
	session_free(s);
	session_free(l);

	/* The choice is stored; the next prompt follows the reply on screen. */
	s = session_load(f->st, id);
	assert_path(s, "q|a1");
	session_append_user(s, "next");
	req = request_of(s);
	assert_string_equal(req, "q|a1|next");
	free(req);
	reply(s, "r");
	session_free(s);
	s = session_load(f->st, id);
	assert_path(s, "q|a1|next|r");
	session_free(s);

	/* The whole tree: every message, each with its parent and place. */
	assert_int_equal(store_messages_tree(f->st, id, &rows, &n), 0);
	assert_int_equal(n, 5);
	assert_string_equal(rows[2].content, "a2");
	assert_int_equal(rows[2].parent_id, rows[0].id);
	assert_int_equal(rows[2].alt, 2);
	assert_int_equal(rows[3].parent_id, rows[1].id);
	assert_int_equal(rows[0].parent_id, STORE_FIRST);
	store_messages_free(rows, n);
}

/* Editing a prompt makes a sibling of it; switching back to the old prompt brings its
 * whole line back, the newest line under it. */
static void
test_edit_branches(void **state)
{
	struct fixture *f = *state;
	struct session *s = session_new(f->st, "openai", "m");

	session_append_user(s, "u1");
	reply(s, "r1");
	session_append_user(s, "u2");
	reply(s, "r2");
	session_branch(s, 2);
	session_append_user(s, "u2 edited");
	reply(s, "r2 edited");
	assert_path(s, "u1|r1|u2 edited|r2 edited");
	assert_int_equal(s->msgs[2].nalt, 2);
	assert_int_equal(s->msgs[2].alt, 2);
	assert_int_equal(s->msgs[3].nalt, 1);
	assert_int_equal(session_switch(s, 2, -1), 0);
	assert_path(s, "u1|r1|u2|r2");
	assert_int_equal(session_switch(s, 2, 1), 0);
	assert_path(s, "u1|r1|u2 edited|r2 edited");
	/* The first message edited: two first messages. */
	session_branch(s, 0);
	session_append_user(s, "other start");
	assert_int_equal(s->msgs[0].nalt, 2);
	assert_int_equal(session_switch(s, 0, -1), 0);
	assert_path(s, "u1|r1|u2 edited|r2 edited");
	session_free(s);
}

/* Truncating the path deletes its tail and what follows it, not the alternatives. */
static void
test_truncate_subtree(void **state)
{
	struct fixture *f = *state;
	struct session *s = session_new(f->st, "openai", "m"), *l;

	session_append_user(s, "q");
	reply(s, "a1");
	session_branch(s, 1);
	reply(s, "a2");
	session_append_user(s, "refused");
	assert_int_equal(session_truncate(s, 2), 0);
	assert_int_equal(count(f->st, "SELECT count(*) FROM messages"), 3);
	l = session_load(f->st, s->id);
	assert_path(l, "q|a2");
	session_free(l);
	assert_int_equal(session_truncate(s, 1), 0);  /* a2 goes, a1 stays */
	assert_int_equal(count(f->st, "SELECT count(*) FROM messages"), 2);
	/* The path on screen ends where it was cut; the next reply is a1's sibling. */
	l = session_load(f->st, s->id);
	assert_path(l, "q");
	reply(l, "a3");
	assert_int_equal(l->msgs[1].nalt, 2);
	session_free(l);
	session_free(s);
}

/* A fork shows the history up to the message it starts from, reading the other session's
 * rows: nothing is copied, and both sessions go on on their own. */
static void
test_fork_shares_rows(void **state)
{
	struct fixture *f = *state;
	struct session *s = session_new(f->st, "openai", "m"), *k, *l;
	int64_t fid, src;
	char *req;

	session_append_user(s, "u1");
	reply(s, "r1");
	session_append_user(s, "u2");
	reply(s, "r2");
	src = s->id;
	fid = session_fork(s, 1);
	assert_true(fid > 0 && fid != src);
	assert_int_equal(count(f->st, "SELECT count(*) FROM messages"), 4);
	k = session_load(f->st, fid);
	assert_non_null(k);
	assert_path(k, "u1|r1");
	assert_true(k->msgs[0].shared && k->msgs[1].shared);
	assert_true(k->msgs[1].id == s->msgs[1].id);
	assert_int_equal(k->fork_from, s->msgs[1].id);
	assert_non_null(strstr(k->title, "(fork)"));
	session_append_user(k, "fork question");
	req = request_of(k);
	assert_string_equal(req, "u1|r1|fork question");
	free(req);
	reply(k, "fork answer");
	assert_false(k->msgs[2].shared);
	session_free(k);
	/* Two own messages in the fork, the shared ones still stored once. */
	assert_int_equal(count(f->st, "SELECT count(*) FROM messages"), 6);
	assert_int_equal(count(f->st, "SELECT count(*) FROM messages WHERE content = 'u1'"), 1);
	k = session_load(f->st, fid);
	assert_path(k, "u1|r1|fork question|fork answer");
	/* Pinning a shared row would change the other session: refused. */
	assert_int_equal(session_set_pinned(k, 0, 1), -1);
	session_free(k);
	l = session_load(f->st, src);
	assert_path(l, "u1|r1|u2|r2");
	session_free(l);
	session_free(s);
}

/* A database from before the tree: its rows have no parents. Upgrading keeps the one path
 * of each session, and regenerating on such a row branches from it as from any other. */
static void
test_migrate_old_path(void **state)
{
	struct fixture *f = *state;
	struct session *s;
	sqlite3 *db;
	char *sql;

	store_close(f->st);
	f->st = NULL;
	assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
	sql = xasprintf("DROP TABLE message_spill;"
	    "DROP INDEX messages_by_parent; DROP INDEX sessions_forked;"
	    "ALTER TABLE messages DROP COLUMN parent_id; ALTER TABLE sessions DROP COLUMN head_id;"
	    "ALTER TABLE sessions DROP COLUMN forked_from; PRAGMA user_version = %d;"
	    "INSERT INTO sessions (id, title, created, updated) VALUES (1, 'old', 1, 1);"
	    "INSERT INTO messages (session_id, seq, role, created_ms, content) VALUES"
	    " (1, 1, 'user', 1, 'old q'), (1, 2, 'assistant', 2, 'old a'),"
	    " (1, 3, 'user', 3, 'old q2'), (1, 4, 'assistant', 4, 'old a2');",
	    STORE_SCHEMA_TREE - 1);
	assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
	free(sql);
	sqlite3_close(db);
	f->st = store_open(f->path, &sql);
	assert_non_null(f->st);
	assert_int_equal(count(f->st, "PRAGMA user_version"), store_schema_latest());
	assert_int_equal(count(f->st, "SELECT count(*) FROM messages WHERE parent_id IS NULL"), 4);
	s = session_load(f->st, 1);
	assert_non_null(s);
	assert_path(s, "old q|old a|old q2|old a2");
	assert_int_equal(s->msgs[3].nalt, 1);
	session_branch(s, 3);
	reply(s, "new a2");
	assert_int_equal(s->msgs[3].nalt, 2);
	assert_int_equal(s->msgs[3].alt, 2);
	assert_int_equal(session_switch(s, 3, -1), 0);
	assert_path(s, "old q|old a|old q2|old a2");
	assert_int_equal(s->msgs[3].alt, 1);
	/* Editing the old first prompt: the implied first message has a sibling. */
	session_branch(s, 0);
	session_append_user(s, "new q");
	assert_int_equal(s->msgs[0].nalt, 2);
	assert_int_equal(session_switch(s, 0, -1), 0);
	assert_path(s, "old q|old a|old q2|new a2");
	session_free(s);
}


/* The texts of a stored session's path joined by "|", as another natter reads them. */
static char *
stored_path(struct store *st, int64_t id)
{
	struct message_row *rows;
	struct buf b = BUF_INIT;
	size_t n, i;

	if (store_messages(st, id, &rows, &n) != 0)
		return xstrdup("(error)");
	for (i = 0; i < n; i++) {
		if (i > 0)
			buf_putc(&b, '|');
		buf_puts(&b, rows[i].content);
	}
	store_messages_free(rows, n);
	return b.data != NULL ? buf_detach(&b) : xstrdup("");
}

/* Assert a stored session's path reads want. */
static void
assert_stored(struct store *st, int64_t id, const char *want)
{
	char *got = stored_path(st, id);

	assert_string_equal(got, want);
	free(got);
}

/* Regenerating or editing a shared row in a fork makes an alternative of the fork's own:
 * the fork shows ‹2/2› and switches back to the shared row, the other session shows and
 * counts exactly what it did. */
static void
test_fork_alternatives(void **state)
{
	struct fixture *f = *state;
	struct session *s = session_new(f->st, "openai", "m"), *k;
	int64_t fid, src;
	char *req;

	session_append_user(s, "u1");
	reply(s, "r1");
	session_append_user(s, "u2");
	reply(s, "r2");
	src = s->id;
	fid = session_fork(s, 3);
	session_free(s);
	k = session_load(f->st, fid);
	assert_path(k, "u1|r1|u2|r2");
	assert_true(k->msgs[3].shared);
	/* Regenerate the shared last reply in the fork. */
	session_branch(k, 3);
	reply(k, "r2 in the fork");
	assert_path(k, "u1|r1|u2|r2 in the fork");
	assert_int_equal(k->msgs[3].nalt, 2);
	assert_int_equal(k->msgs[3].alt, 2);
	assert_false(k->msgs[3].shared);
	assert_stored(f->st, src, "u1|r1|u2|r2");
	s = session_load(f->st, src);
	assert_int_equal(s->msgs[3].nalt, 1);
	session_free(s);
	/* Back to the shared reply, in the fork only. */
	assert_int_equal(session_switch(k, 3, -1), 0);
	assert_path(k, "u1|r1|u2|r2");
	assert_true(k->msgs[3].shared);
	assert_int_equal(k->msgs[3].nalt, 2);
	assert_int_equal(k->msgs[3].alt, 1);
	session_free(k);
	k = session_load(f->st, fid);
	assert_path(k, "u1|r1|u2|r2");
	assert_int_equal(session_switch(k, 3, 1), 0);
	assert_path(k, "u1|r1|u2|r2 in the fork");
	/* Edit the shared second prompt: the fork's own line, the other session untouched. */
	session_branch(k, 2);
	session_append_user(k, "u2 edited");
	reply(k, "r2 edited");
	assert_path(k, "u1|r1|u2 edited|r2 edited");
	assert_int_equal(k->msgs[2].nalt, 2);
	req = request_of(k);
	assert_string_equal(req, "u1|r1|u2 edited|r2 edited");
	free(req);
	assert_int_equal(session_switch(k, 2, -1), 0);
	assert_path(k, "u1|r1|u2|r2 in the fork");
	session_free(k);
	assert_stored(f->st, src, "u1|r1|u2|r2");
	s = session_load(f->st, src);
	assert_int_equal(s->msgs[2].nalt, 1);
	assert_int_equal(s->msgs[3].nalt, 1);
	/* And the other way: the origin regenerating its reply leaves the fork alone. */
	session_branch(s, 3);
	reply(s, "r2 again");
	session_free(s);
	assert_stored(f->st, src, "u1|r1|u2|r2 again");
	assert_stored(f->st, fid, "u1|r1|u2|r2 in the fork");
}

/* Deleting or archiving the session a fork was made from keeps the fork's whole history:
 * the shared rows become the fork's own (nothing copied), sums and the search index stay
 * right, show and export still work, and a fork of the fork keeps its part too. */
static void
test_fork_origin_deleted(void **state)
{
	struct fixture *f = *state;
	struct session *s = session_new(f->st, "openai", "m"), *k;
	int64_t fid, fid2, src;
	char *err = NULL, *text;
	long msgs;

	session_append_user(s, "u1");
	reply(s, "r1");
	session_append_user(s, "u2 gone with it");
	reply(s, "r2 gone with it");
	src = s->id;
	fid = session_fork(s, 1);
	session_free(s);
	k = session_load(f->st, fid);
	session_append_user(k, "fork question");
	reply(k, "fork answer");
	fid2 = session_fork(k, 3);
	session_free(k);
	k = session_load(f->st, fid2);
	session_append_user(k, "second fork");
	session_free(k);
	msgs = count(f->st, "SELECT count(*) FROM messages");
	assert_int_equal(msgs, 7);

	assert_int_equal(store_session_archive(f->st, src, 1), 0);
	assert_stored(f->st, fid, "u1|r1|fork question|fork answer");
	assert_int_equal(store_session_delete(f->st, src), 0);
	assert_int_equal(count(f->st, "SELECT count(*) FROM messages"), msgs - 2);
	assert_int_equal(count(f->st, "SELECT count(*) FROM messages WHERE content = 'u1'"), 1);
	assert_stored(f->st, fid, "u1|r1|fork question|fork answer");
	assert_stored(f->st, fid2, "u1|r1|fork question|fork answer|second fork");
	assert_int_equal(count(f->st, "SELECT forked_from IS NULL FROM sessions WHERE id = 2"), 1);
	assert_int_equal(count(f->st, "SELECT nmessages FROM sessions WHERE id = 2"), 4);
	assert_int_equal(store_check(f->st, &err), 0);
	text = export_session_tree(f->st, fid, EXPORT_TEXT, 1);
	assert_non_null(text);
	assert_non_null(strstr(text, "u1"));
	assert_null(strstr(text, "gone with it"));
	free(text);
	k = session_load(f->st, fid);
	assert_path(k, "u1|r1|fork question|fork answer");
	assert_false(k->msgs[0].shared);
	session_append_user(k, "still going");
	session_free(k);
	assert_stored(f->st, fid, "u1|r1|fork question|fork answer|still going");
	/* Now the first fork goes: the second keeps its history in turn. */
	assert_int_equal(store_session_delete(f->st, fid), 0);
	assert_stored(f->st, fid2, "u1|r1|fork question|fork answer|second fork");
	assert_int_equal(store_check(f->st, &err), 0);
}

/* Truncating the part of a session that a fork shares hands that part over as well. */
static void
test_fork_subtree_deleted(void **state)
{
	struct fixture *f = *state;
	struct session *s = session_new(f->st, "openai", "m");
	int64_t fid, src;
	char *err = NULL;

	session_append_user(s, "u1");
	reply(s, "r1");
	session_append_user(s, "u2");
	reply(s, "r2");
	src = s->id;
	fid = session_fork(s, 3);
	assert_int_equal(session_truncate(s, 2), 0);
	assert_stored(f->st, src, "u1|r1");
	assert_stored(f->st, fid, "u1|r1|u2|r2");
	assert_int_equal(count(f->st, "SELECT count(*) FROM messages"), 4);
	assert_int_equal(count(f->st, "SELECT count(*) FROM messages WHERE session_id = 2"), 2);
	assert_int_equal(store_check(f->st, &err), 0);
	session_free(s);
	s = session_load(f->st, fid);
	assert_path(s, "u1|r1|u2|r2");
	assert_true(s->msgs[0].shared && !s->msgs[2].shared);
	session_free(s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_regenerate_switch, setup, teardown),
		cmocka_unit_test_setup_teardown(test_edit_branches, setup, teardown),
		cmocka_unit_test_setup_teardown(test_truncate_subtree, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fork_shares_rows, setup, teardown),
		cmocka_unit_test_setup_teardown(test_migrate_old_path, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fork_alternatives, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fork_origin_deleted, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fork_subtree_deleted, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
