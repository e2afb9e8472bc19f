/* Unit tests for keeping the conversation stored when the store goes wrong under it: a
 * session deleted by another natter (before a prompt, mid-reply), a streaming reply's row
 * deleted alone, and a session made without a store that is attached to one later. A
 * second store handle on the same file plays the other natter. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <sqlite3.h>

#include "session.h"
#include "store.h"
#include "xmalloc.h"

struct fixture {
	char dir[64];
	char *path;
	struct store *a;   /* this natter's */
	struct store *b;   /* another natter's, on the same file */
	int64_t now;
};

/* The injected clock. */
static int64_t
fake_clock(void *arg)
{
	return *(int64_t *)arg;
}

/* Two store handles on one fresh database. */
static int
setup(void **state)
{
	struct fixture *f = xcalloc(1, sizeof(*f));
	char *err = NULL;

	snprintf(f->dir, sizeof(f->dir), "/tmp/natter-sync.XXXXXX");
	if (mkdtemp(f->dir) == NULL)
		return -1;
	f->path = xasprintf("%s/natter.db", f->dir);
	f->a = store_open(f->path, &err);
	f->b = f->a != NULL ? store_open(f->path, &err) : NULL;
	if (f->b == NULL) {
		fprintf(stderr, "store_open: %s\n", err);
		return -1;
	}
	f->now = 1000;
	*state = f;
	return 0;
}

/* Close both handles and remove the directory. */
static int
teardown(void **state)
{
	struct fixture *f = *state;
	char *cmd = xasprintf("rm -rf '%s'", f->dir);

	store_close(f->a);
	store_close(f->b);
	if (system(cmd) != 0)
		fprintf(stderr, "cleanup failed: %s\n", cmd);
	free(cmd);
	free(f->path);
	free(f);
	return 0;
}

/* A session on store st (NULL: none) with the fixture's clock. */
static struct session *
new_session(struct fixture *f, struct store *st)
{
	struct session *s = session_new(st, "openai", "gpt-4o");

	session_set_clock(s, fake_clock, &f->now);
	return s;
}

/* Send prompt and stream a complete reply of text. */
static void
exchange(struct fixture *f, struct session *s, const char *prompt, const char *text)
{
	session_append_user(s, prompt);
	session_begin_reply(s, NULL, NULL);
	f->now += 10;
	session_reply_text(s, text, strlen(text));
	session_reply_flush(s);
	f->now += 10;
	session_reply_end(s, MSG_COMPLETE, NULL, -1, "stop", NULL);
}

/* The stored messages of session id, as read by the other natter (each round nobody kept
 * whole), joined "role:content|". */
static char *
stored(struct store *st, int64_t id)
{
	struct message_row *ms;
	struct buf b = BUF_INIT;
	size_t n, i;

	if (store_messages(st, id, &ms, &n) != 0)
		return xstrdup("(error)");
	if (store_rounds_whole(st, &ms, &n) != 0) {
		store_messages_free(ms, n);
		return xstrdup("(error)");
	}
	for (i = 0; i < n; i++)
		buf_printf(&b, "%s%c:%s%s", i ? "|" : "", ms[i].role == ROLE_USER ? 'u' : 'a',
		    ms[i].content, ms[i].state == MSG_STREAMING ? "(streaming)" : "");
	store_messages_free(ms, n);
	return b.len ? buf_detach(&b) : xstrdup("");
}

/* Assert what session id holds, seen from store st. */
static void
assert_stored(struct store *st, int64_t id, const char *want)
{
	char *got = stored(st, id);

	assert_string_equal(got, want);
	free(got);
}

/* A session deleted by another natter between two prompts: the next prompt saves the whole
 * conversation into a new session, says which one vanished, and the reply goes there. */
static void
test_deleted_before_prompt(void **state)
{
	struct fixture *f = *state;
	struct session *s = new_session(f, f->a);
	int64_t old;
	char *err = NULL;

	exchange(f, s, "one", "first answer");
	old = s->id;
	assert_true(old > 0);
	assert_int_equal(store_session_delete(f->b, old), 0);

	session_append_user(s, "two");
	assert_int_equal(s->lost_id, old);
	assert_true(s->id > 0 && s->id != old);
	assert_false(session_unsaved(s));
	assert_stored(f->b, s->id, "u:one|a:first answer|u:two");
	session_begin_reply(s, NULL, NULL);
	f->now += 10;
	session_reply_text(s, "second", 6);
	session_reply_flush(s);
	assert_stored(f->b, s->id, "u:one|a:first answer|u:two|a:second(streaming)");
	session_reply_end(s, MSG_COMPLETE, NULL, -1, NULL, NULL);
	assert_stored(f->b, s->id, "u:one|a:first answer|u:two|a:second");
	assert_int_equal(store_session_exists(f->b, old), 0);
	{
		struct session_row *r = store_session_get(f->b, s->id);

		assert_non_null(r);
		assert_string_equal(r->title, "one");
		assert_int_equal(r->nmessages, 4);
		store_sessions_free(r, 1);
	}
	assert_int_equal(store_check(f->b, &err), 0);
	session_free(s);
}

/* Deleted while a reply streams: the next flush notices the row is gone and saves the
 * conversation with the reply as far as it got; the reply then finishes there. */
static void
test_deleted_mid_reply(void **state)
{
	struct fixture *f = *state;
	struct session *s = new_session(f, f->a);
	int64_t old;

	exchange(f, s, "one", "first answer");
	session_append_user(s, "two");
	session_begin_reply(s, NULL, NULL);
	f->now += 10;
	session_reply_text(s, "sec", 3);
	assert_int_equal(session_reply_flush(s), 1);
	old = s->id;
	assert_int_equal(store_session_delete(f->b, old), 0);
	f->now += 300;
	session_reply_text(s, "ond", 3);
	session_reply_flush(s);
	assert_int_equal(s->lost_id, old);
	assert_true(s->id > 0 && s->id != old);
	assert_stored(f->b, s->id, "u:one|a:first answer|u:two|a:second(streaming)");
	f->now += 300;
	session_reply_text(s, " answer", 7);
	assert_int_equal(session_reply_end(s, MSG_COMPLETE, NULL, -1, NULL, NULL), 0);
	assert_stored(f->b, s->id, "u:one|a:first answer|u:two|a:second answer");
	assert_false(session_unsaved(s));
	session_free(s);
}

/* Only the streaming reply's row deleted (another natter cut the session's tail): the
 * session stays, the reply is stored again in it. */
static void
test_reply_row_deleted(void **state)
{
	struct fixture *f = *state;
	struct session *s = new_session(f, f->a);
	int64_t sid;

	session_append_user(s, "one");
	session_begin_reply(s, NULL, NULL);
	f->now += 10;
	session_reply_text(s, "par", 3);
	session_reply_flush(s);
	sid = s->id;
	assert_int_equal(store_message_delete_after(f->b, sid, s->msgs[0].id), 0);
	assert_stored(f->b, sid, "u:one");
	f->now += 300;
	session_reply_text(s, "tial", 4);
	session_reply_flush(s);
	assert_int_equal(s->id, sid);
	assert_int_equal(s->lost_id, 0);
	assert_stored(f->b, sid, "u:one|a:partial(streaming)");
	session_reply_end(s, MSG_COMPLETE, NULL, -1, NULL, NULL);
	assert_stored(f->b, sid, "u:one|a:partial");
	session_free(s);
}

/* A session made while no store could be opened is unsaved; attaching a store saves all of
 * it, with its title, system prompt, a comparison round and the column kept. */
static void
test_attach_later(void **state)
{
	struct fixture *f = *state;
	struct session *s = new_session(f, NULL), *l;
	int64_t g;
	size_t a, b;
	char *err = NULL;

	assert_false(session_unsaved(s));  /* nothing to lose yet */
	session_set_system(s, "be terse");
	exchange(f, s, "plain question", "plain answer");
	assert_true(session_unsaved(s));
	session_append_round(s, "compare this", &g);
	assert_true(g < 0);
	a = session_reply_open(s, "openai", "m1", g);
	b = session_reply_open(s, "anthropic", "m2", g);
	session_reply_text_at(s, a, "ay", 2);
	session_reply_text_at(s, b, "bee", 3);
	session_reply_close(s, a, MSG_COMPLETE, NULL, -1, NULL, NULL);
	session_reply_close(s, b, MSG_COMPLETE, NULL, -1, NULL, NULL);
	session_pick(s, 2, 1);
	/* A reply still streaming when the store comes back goes on into it. */
	session_append_user(s, "more");
	session_begin_reply(s, NULL, NULL);
	session_reply_text(s, "stre", 4);

	assert_int_equal(session_attach(s, f->a), 0);
	assert_false(session_unsaved(s));
	assert_true(s->id > 0);
	assert_int_equal(s->lost_id, 0);
	assert_true(s->msgs[2].compare_group > 0);
	assert_int_equal(s->msgs[3].compare_group, s->msgs[2].compare_group);
	/* The stored path goes through the kept column; the other reply is its alternative. */
	assert_stored(f->b, s->id, "u:plain question|a:plain answer|u:compare this|a:bee|"
	    "u:more|a:stre(streaming)");
	f->now += 300;
	session_reply_text(s, "am", 2);
	session_reply_end(s, MSG_COMPLETE, NULL, -1, NULL, NULL);
	assert_stored(f->b, s->id, "u:plain question|a:plain answer|u:compare this|a:bee|"
	    "u:more|a:stream");

	l = session_load(f->b, s->id);
	assert_non_null(l);
	assert_string_equal(l->title, "plain question");
	assert_string_equal(l->system, "be terse");
	assert_int_equal(l->msgs[3].pick, 1);
	assert_int_equal(l->msgs[3].slot, 1);
	assert_int_equal(l->msgs[3].nalt, 2);
	session_free(l);
	assert_int_equal(store_check(f->b, &err), 0);
	session_free(s);
}

/* Run sql on the database file as a third party would; asserts it worked. */
static void
raw_exec(struct fixture *f, const char *sql)
{
	sqlite3 *db;

	assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
	sqlite3_busy_timeout(db, 5000);
	assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
}

/* A count from the database file. */
static long
raw_count(struct fixture *f, const char *sql)
{
	sqlite3 *db;
	sqlite3_stmt *st;
	long n = -1;

	assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW)
		n = (long)sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(db);
	return n;
}

/* Attaching stores the conversation in one transaction: a write that fails half-way leaves
 * nothing behind (no session, prompt or compare group), the compare group keeps its
 * made-up id, and the next sync stores all of it. */
static void
test_attach_atomic(void **state)
{
	struct fixture *f = *state;
	struct session *s = new_session(f, NULL);
	int64_t g;
	size_t a, b;

	exchange(f, s, "first", "answer");
	session_append_round(s, "compare this", &g);
	a = session_reply_open(s, "openai", "m1", g);
	b = session_reply_open(s, "anthropic", "m2", g);
	session_reply_text_at(s, a, "ay", 2);
	session_reply_text_at(s, b, "boom", 4);
	session_reply_close(s, a, MSG_COMPLETE, NULL, -1, NULL, NULL);
	session_reply_close(s, b, MSG_COMPLETE, NULL, -1, NULL, NULL);
	raw_exec(f, "CREATE TRIGGER refuse BEFORE INSERT ON messages WHEN NEW.content = 'boom'"
	    " BEGIN SELECT RAISE(ABORT, 'refused'); END;");

	assert_int_not_equal(session_attach(s, f->a), 0);
	assert_true(session_unsaved(s));
	assert_int_equal(s->id, 0);
	assert_int_equal(s->msgs[2].compare_group, g);
	assert_int_equal(s->msgs[4].compare_group, g);
	assert_int_equal(raw_count(f, "SELECT count(*) FROM sessions"), 0);
	assert_int_equal(raw_count(f, "SELECT count(*) FROM messages"), 0);
	assert_int_equal(raw_count(f, "SELECT count(*) FROM compare_groups"), 0);

	raw_exec(f, "DROP TRIGGER refuse");
	assert_int_equal(session_sync(s), 0);
	assert_false(session_unsaved(s));
	assert_true(s->msgs[2].compare_group > 0);
	assert_stored(f->b, s->id, "u:first|a:answer|u:compare this|a:ay|a:boom");
	assert_int_equal(raw_count(f, "SELECT count(*) FROM sessions"), 1);
	assert_int_equal(raw_count(f, "SELECT count(*) FROM compare_groups"), 1);
	session_free(s);
}

/* A session deleted with nothing new to say: an explicit sync finds it gone and saves it. */
static void
test_sync_finds_deleted(void **state)
{
	struct fixture *f = *state;
	struct session *s = new_session(f, f->a);
	int64_t old;

	exchange(f, s, "one", "first answer");
	old = s->id;
	assert_int_equal(session_sync(s), 0);
	assert_int_equal(s->lost_id, 0);
	assert_int_equal(s->id, old);
	assert_int_equal(store_session_delete(f->b, old), 0);
	assert_int_equal(session_sync(s), 0);
	assert_int_equal(s->lost_id, old);
	assert_stored(f->b, s->id, "u:one|a:first answer");
	session_free(s);
}

/* Ids are never reused: a session made after the newest one was deleted gets a new id, so
 * a natter still holding the deleted one cannot write into it; a message is updated only
 * in its own session. */
static void
test_ids_not_reused(void **state)
{
	struct fixture *f = *state;
	struct message_row m;
	int64_t a, b;

	a = store_session_new(f->a, "a", NULL, NULL);
	memset(&m, 0, sizeof(m));
	m.session_id = a;
	m.role = ROLE_ASSISTANT;
	m.content = "mine";
	m.state = MSG_STREAMING;
	m.input_tokens = m.output_tokens = m.ttft_ms = m.duration_ms = -1;
	m.cost = -1;
	assert_true(store_message_add(f->a, &m) > 0);
	assert_int_equal(store_session_delete(f->b, a), 0);
	b = store_session_new(f->b, "b", NULL, NULL);
	assert_true(b > a);
	m.session_id = b;
	m.content = "theirs";
	assert_true(store_message_add(f->b, &m) > 0);
	/* The first natter's update names its own (deleted) session: it finds no row. */
	m.session_id = a;
	m.content = "overwritten?";
	assert_int_not_equal(store_message_update(f->a, &m), 0);
	assert_stored(f->b, b, "a:theirs(streaming)");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_deleted_before_prompt, setup, teardown),
		cmocka_unit_test_setup_teardown(test_deleted_mid_reply, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reply_row_deleted, setup, teardown),
		cmocka_unit_test_setup_teardown(test_attach_later, setup, teardown),
		cmocka_unit_test_setup_teardown(test_attach_atomic, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sync_finds_deleted, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ids_not_reused, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
