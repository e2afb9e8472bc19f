/* Unit tests for the SQLite session store: schema, listing, streaming updates, search,
 * file modes, startup cost, surviving a SIGKILL in the middle of a streamed reply, and
 * finishing the replies of writers that are gone while leaving live ones alone. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include <sqlite3.h>

#include "buf.h"
#include "session.h"
#include "store.h"
#include "store-internal.h"
#include "store-schema.h"
#include "xmalloc.h"

/* Undo the long-reply (17) and tree (schema STORE_SCHEMA_TREE) migrations in a fresh file,
 * for the tests that roll a database back to an older version. */
#define TREE_ROLLBACK \
	"DROP TABLE message_spill;" \
	"DROP INDEX messages_by_parent; DROP INDEX sessions_forked;" \
	"ALTER TABLE messages DROP COLUMN parent_id; ALTER TABLE sessions DROP COLUMN head_id;" \
	"ALTER TABLE sessions DROP COLUMN forked_from;"
#define TREE_VERSION STORE_SCHEMA_TREE

#define FIXTURE_DB "data/natter/natter.db"
#include "store-fixture.h"

/* Close and reopen the fixture's store. */
static void
reopen(struct fixture *f)
{
	char *err = NULL;

	store_close(f->st);
	f->st = store_open(f->path, &err);
	if (f->st == NULL)
		fail_msg("reopen: %s", err);
}

/* A message row with everything unknown. */
static struct message_row
msg(int64_t sid, enum role role, const char *content, enum msg_state state)
{
	struct message_row m;

	memset(&m, 0, sizeof(m));
	m.session_id = sid;
	m.role = role;
	m.content = (char *)content;
	m.state = state;
	m.input_tokens = m.output_tokens = m.ttft_ms = m.duration_ms = -1;
	m.cost = -1;
	return m;
}

/* Text of n distinct words, prefix0 prefix1 ..., each a token of its own. */
static char *
distinct_words(const char *prefix, long n)
{
	struct buf b = BUF_INIT;
	long i;

	for (i = 0; i < n; i++)
		buf_printf(&b, "%s%ld ", prefix, i);
	return buf_detach(&b);
}

/* How many messages a search finds, or -1 when it fails. */
static long
search_count(struct store *st, const char *query)
{
	struct message_row *ms;
	size_t n;

	if (store_search(st, query, &ms, &n, 0) != 0)
		return -1;
	store_messages_free(ms, n);
	return (long)n;
}

/* Sessions list newest first with counts and sums; rename and delete work; delete
 * cascades to messages and the search index. */
static void
test_sessions_crud(void **state)
{
	struct fixture *f = *state;
	struct session_row *rows, *one;
	struct message_row m, *ms;
	int64_t a, b, c;
	size_t n;

	a = store_session_new(f->st, "first", "openai", "gpt-4o");
	b = store_session_new(f->st, "second", "anthropic", "claude");
	c = store_session_new(f->st, "third", NULL, NULL);
	assert_true(a > 0 && b > a && c > b);

	m = msg(a, ROLE_USER, "hello zebra", MSG_COMPLETE);
	m.input_tokens = 10;
	assert_true(store_message_add(f->st, &m) > 0);
	m = msg(a, ROLE_ASSISTANT, "hi there", MSG_COMPLETE);
	m.input_tokens = 20;
	m.output_tokens = 5;
	m.cost = 0.25;
	/* A later timestamp makes session a the most recently updated. */
	m.created = ((int64_t)time(NULL) + 100) * 1000;
	assert_true(store_message_add(f->st, &m) > 0);

	assert_int_equal(store_sessions(f->st, &rows, &n, 0), 0);
	assert_int_equal(n, 3);
	assert_true(rows[0].id == a);
	assert_int_equal(rows[0].nmessages, 2);
	assert_int_equal(rows[0].input_tokens, 30);
	assert_int_equal(rows[0].output_tokens, 5);
	assert_true(rows[0].cost > 0.2499 && rows[0].cost < 0.2501);
	assert_true(rows[1].id == c);  /* same second: ties go to the newest id */
	assert_int_equal(rows[1].nmessages, 0);
	assert_int_equal(rows[1].input_tokens, 0);
	store_sessions_free(rows, n);

	assert_int_equal(store_sessions(f->st, &rows, &n, 2), 0);
	assert_int_equal(n, 2);
	store_sessions_free(rows, n);

	/* Finishing a reply with new numbers moves the session's sums with it. */
	m.output_tokens = 50;
	m.cost = 1.0;
	assert_int_equal(store_message_update(f->st, &m), 0);
	one = store_session_get(f->st, a);
	assert_non_null(one);
	assert_int_equal(one->output_tokens, 50);
	assert_int_equal(one->input_tokens, 30);
	assert_int_equal(one->nmessages, 2);
	assert_true(one->cost > 0.9999 && one->cost < 1.0001);
	store_sessions_free(one, 1);
	{
		char *err = NULL;

		assert_int_equal(store_check(f->st, &err), 0);
		assert_null(err);
	}

	assert_int_equal(store_session_rename(f->st, b, "renamed"), 0);
	assert_int_equal(store_session_set_system(f->st, b, "be brief"), 0);
	assert_int_equal(store_session_set_model(f->st, b, "groq", "llama"), 0);
	one = store_session_get(f->st, b);
	assert_non_null(one);
	assert_string_equal(one->title, "renamed");
	assert_string_equal(one->system, "be brief");
	assert_string_equal(one->model, "llama");
	store_sessions_free(one, 1);

	assert_int_equal(store_session_delete(f->st, a), 0);
	assert_int_equal(store_messages(f->st, a, &ms, &n), 0);
	assert_int_equal(n, 0);
	store_messages_free(ms, n);
	assert_int_equal(store_search(f->st, "zebra", &ms, &n, 10), 0);
	assert_int_equal(n, 0);
	store_messages_free(ms, n);
	assert_null(store_session_get(f->st, a));
	assert_int_equal(store_session_delete(f->st, a), -1);
	assert_non_null(strstr(store_error(f->st), "no session"));
	assert_int_equal(store_session_rename(f->st, 9999, "x"), -1);
}

/* A reply updated many times while streaming reads back intact through another
 * connection, still marked streaming while its writer lives, and becomes searchable once
 * it finishes. */
static void
test_streaming_updates(void **state)
{
	struct fixture *f = *state;
	struct message_row m, *ms;
	struct buf text = BUF_INIT;
	struct store *other;
	char *err = NULL;
	int64_t sid, id;
	size_t n;
	int i;

	sid = store_session_new(f->st, "stream", "openai", "gpt");
	m = msg(sid, ROLE_ASSISTANT, "", MSG_STREAMING);
	id = store_message_add(f->st, &m);
	assert_true(id > 0);
	for (i = 0; i < 500; i++) {
		buf_printf(&text, "word%d ", i);
		m.content = text.data;
		assert_int_equal(store_message_update(f->st, &m), 0);
	}
	other = store_open(f->path, &err);
	assert_non_null(other);
	assert_int_equal(store_messages(other, sid, &ms, &n), 0);
	assert_int_equal(n, 1);
	assert_string_equal(ms[0].content, buf_str(&text));
	assert_int_equal(ms[0].state, MSG_STREAMING);
	assert_int_equal(ms[0].input_tokens, -1);
	assert_null(ms[0].reasoning);
	store_messages_free(ms, n);

	/* Streaming text is not indexed yet. */
	assert_int_equal(store_search(other, "word499", &ms, &n, 10), 0);
	assert_int_equal(n, 0);
	store_messages_free(ms, n);
	store_close(other);

	m.state = MSG_COMPLETE;
	m.output_tokens = 1000;
	m.reasoning = "thought";
	assert_int_equal(store_message_update(f->st, &m), 0);
	assert_int_equal(store_search(f->st, "word499", &ms, &n, 10), 0);
	assert_int_equal(n, 1);
	assert_int_equal(ms[0].id, id);
	store_messages_free(ms, n);
	assert_int_equal(store_messages(f->st, sid, &ms, &n), 0);
	assert_int_equal(ms[0].output_tokens, 1000);
	assert_string_equal(ms[0].reasoning, "thought");
	store_messages_free(ms, n);

	/* Editing a finished message re-indexes it: the old word goes away. */
	m.content = "replaced entirely";
	assert_int_equal(store_message_update(f->st, &m), 0);
	assert_int_equal(store_search(f->st, "word499", &ms, &n, 10), 0);
	assert_int_equal(n, 0);
	store_messages_free(ms, n);
	assert_int_equal(store_check(f->st, &err), 0);
	assert_null(err);
	buf_free(&text);
}

/* A user prompt outranks an assistant reply with the same words; snippets mark matches. */
static void
test_search_ranking(void **state)
{
	struct fixture *f = *state;
	struct message_row m, *ms;
	int64_t sid, uid, aid;
	size_t n;

	sid = store_session_new(f->st, "s", NULL, NULL);
	m = msg(sid, ROLE_ASSISTANT, "You can parse json text with the cJSON library today",
	    MSG_COMPLETE);
	aid = store_message_add(f->st, &m);
	m = msg(sid, ROLE_USER, "How would I parse json text in plain C code without pain",
	    MSG_COMPLETE);
	uid = store_message_add(f->st, &m);
	m = msg(sid, ROLE_USER, "unrelated words only", MSG_COMPLETE);
	store_message_add(f->st, &m);

	assert_int_equal(store_search(f->st, "parse json", &ms, &n, 10), 0);
	assert_int_equal(n, 2);
	assert_true(ms[0].id == uid);
	assert_true(ms[1].id == aid);
	assert_int_equal(ms[0].role, ROLE_USER);
	assert_int_equal(ms[0].session_id, sid);
	assert_non_null(strstr(ms[0].content, STORE_MATCH_OPEN "parse" STORE_MATCH_CLOSE));
	store_messages_free(ms, n);

	assert_int_equal(store_search(f->st, "parse json", &ms, &n, 1), 0);
	assert_int_equal(n, 1);
	store_messages_free(ms, n);
}

/* Queries that are not valid FTS5 syntax fall back to a phrase search instead of failing. */
static void
test_search_bad_syntax(void **state)
{
	struct fixture *f = *state;
	static const char *const bad[] = { "AND (", "\"unterminated", "c++", "NOT", "a:b",
	    "*", "(((", "what's (this", "" };
	struct message_row m, *ms;
	int64_t sid;
	size_t n, i;

	sid = store_session_new(f->st, "s", NULL, NULL);
	m = msg(sid, ROLE_USER, "what's this thing", MSG_COMPLETE);
	store_message_add(f->st, &m);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(store_search(f->st, bad[i], &ms, &n, 10), 0);
		if (strcmp(bad[i], "what's (this") == 0)
			assert_int_equal(n, 1);
		store_messages_free(ms, n);
	}
}

/* The database and its lease file are 0600 in a 0700 directory, and the database runs in
 * WAL mode with foreign keys. */
static void
test_file_mode_wal(void **state)
{
	struct fixture *f = *state;
	struct stat sb;
	char *dir = xasprintf("%s/data/natter", f->dir);
	char *wal = xasprintf("%s-wal", f->path);
	char *lease = xasprintf("%s-lease", f->path);
	sqlite3 *db;
	sqlite3_stmt *s;

	assert_int_equal(stat(f->path, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0600);
	assert_int_equal(stat(dir, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0700);
	assert_int_equal(stat(lease, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0600);
	store_session_new(f->st, "x", NULL, NULL);
	assert_int_equal(stat(wal, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0600);

	assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &s, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(s), SQLITE_ROW);
	assert_string_equal((const char *)sqlite3_column_text(s, 0), "wal");
	sqlite3_finalize(s);
	assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &s, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(s), SQLITE_ROW);
	assert_int_equal(sqlite3_column_int(s, 0), store_schema_latest());
	sqlite3_finalize(s);
	sqlite3_close(db);
	free(dir);
	free(wal);
	free(lease);
}

/* A database from a newer natter is refused with a clear message, not modified. */
static void
test_newer_schema(void **state)
{
	struct fixture *f = *state;
	char *err = NULL, *sql;
	sqlite3 *db;

	store_close(f->st);
	f->st = NULL;
	assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "PRAGMA user_version = 99", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	assert_null(store_open(f->path, &err));
	assert_non_null(err);
	assert_non_null(strstr(err, "newer"));
	free(err);
	assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
	sql = xasprintf("PRAGMA user_version = %d", store_schema_latest());
	assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
	free(sql);
	sqlite3_close(db);
	reopen(f);
}

/* delete_after drops the messages after one (for regenerating) and compare groups exist. */
static void
test_delete_after_and_groups(void **state)
{
	struct fixture *f = *state;
	struct message_row m, *ms;
	int64_t sid, first, g;
	size_t n;

	sid = store_session_new(f->st, "s", NULL, NULL);
	m = msg(sid, ROLE_USER, "one", MSG_COMPLETE);
	first = store_message_add(f->st, &m);
	g = store_compare_group_new(f->st, sid);
	assert_true(g > 0);
	m = msg(sid, ROLE_ASSISTANT, "two", MSG_COMPLETE);
	m.compare_group = g;
	store_message_add(f->st, &m);
	m = msg(sid, ROLE_ASSISTANT, "three", MSG_COMPLETE);
	m.compare_group = g;
	store_message_add(f->st, &m);
	assert_int_equal(store_messages(f->st, sid, &ms, &n), 0);
	assert_int_equal(n, 3);
	assert_true(ms[1].compare_group == g && ms[0].compare_group == 0);
	store_messages_free(ms, n);
	assert_int_equal(store_message_delete_after(f->st, sid, first), 0);
	assert_int_equal(store_messages(f->st, sid, &ms, &n), 0);
	assert_int_equal(n, 1);
	assert_string_equal(ms[0].content, "one");
	store_messages_free(ms, n);
	assert_int_equal(store_search(f->st, "three", &ms, &n, 5), 0);
	assert_int_equal(n, 0);
	store_messages_free(ms, n);
	assert_true(store_compare_group_new(f->st, 123456) < 0);  /* foreign key enforced */
}

/* A group keeps one column: every message of the group reads it back, search rows too,
 * and clearing it or naming an unknown group behave. */
static void
test_group_pick(void **state)
{
	struct fixture *f = *state;
	struct message_row m, *ms;
	int64_t sid, g, g2;
	size_t n;

	sid = store_session_new(f->st, "s", NULL, NULL);
	g = store_compare_group_new(f->st, sid);
	g2 = store_compare_group_new(f->st, sid);
	m = msg(sid, ROLE_USER, "which sorting", MSG_COMPLETE);
	m.compare_group = g;
	store_message_add(f->st, &m);
	m = msg(sid, ROLE_ASSISTANT, "quicksort", MSG_COMPLETE);
	m.compare_group = g;
	store_message_add(f->st, &m);
	m = msg(sid, ROLE_ASSISTANT, "mergesort", MSG_COMPLETE);
	m.compare_group = g;
	store_message_add(f->st, &m);
	m = msg(sid, ROLE_USER, "unrelated", MSG_COMPLETE);
	m.compare_group = g2;
	store_message_add(f->st, &m);
	assert_int_equal(store_messages(f->st, sid, &ms, &n), 0);
	assert_int_equal(n, 4);
	assert_int_equal(ms[0].compare_pick, -1);
	assert_int_equal(ms[2].compare_pick, -1);
	store_messages_free(ms, n);

	assert_int_equal(store_compare_group_pick(f->st, g, 1), 0);
	assert_int_equal(store_messages(f->st, sid, &ms, &n), 0);
	assert_int_equal(ms[0].compare_pick, 1);
	assert_int_equal(ms[1].compare_pick, 1);
	assert_int_equal(ms[2].compare_pick, 1);
	assert_int_equal(ms[3].compare_pick, -1);  /* another group */
	store_messages_free(ms, n);
	assert_int_equal(store_search(f->st, "mergesort", &ms, &n, 5), 0);
	assert_int_equal(n, 1);
	assert_int_equal(ms[0].compare_pick, 1);
	store_messages_free(ms, n);

	assert_int_equal(store_compare_group_pick(f->st, g, -1), 0);
	assert_int_equal(store_messages(f->st, sid, &ms, &n), 0);
	assert_int_equal(ms[1].compare_pick, -1);
	store_messages_free(ms, n);
	assert_int_equal(store_compare_group_pick(f->st, 987654, 0), -1);
	assert_non_null(strstr(store_error(f->st), "no compare group"));
}

/* Opening the store and listing sessions reads a few pages, not the message bodies. */
static void
test_startup_reads_no_bodies(void **state)
{
	struct fixture *f = *state;
	struct session_row *rows;
	struct message_row m;
	char *big = xmalloc(64 * 1024 + 1);
	long reads;
	size_t n;
	int i, j;

	memset(big, 'x', 64 * 1024);
	big[64 * 1024] = '\0';
	for (i = 0; i < 10; i++) {
		int64_t sid = store_session_new(f->st, "big", NULL, NULL);

		for (j = 0; j < 6; j++) {
			m = msg(sid, j % 2 ? ROLE_ASSISTANT : ROLE_USER, big, MSG_COMPLETE);
			m.output_tokens = 7;
			store_message_add(f->st, &m);
		}
	}
	free(big);
	reopen(f);
	assert_int_equal(store_sessions(f->st, &rows, &n, 50), 0);
	assert_int_equal(n, 10);
	assert_int_equal(rows[0].nmessages, 6);
	assert_int_equal(rows[0].output_tokens, 42);
	store_sessions_free(rows, n);
	reads = store_stat_reads(f->st);
	/* 60 bodies of 64 KiB are about 1000 pages; the list needs a few dozen at most. */
	print_message("# pages read to open and list: %ld\n", reads);
	assert_true(reads < 60);
}

/* Run in a forked child: stream a reply with a flush per delta, reporting each flushed
 * length on fd, until killed. */
static _Noreturn void
crash_child(const char *path, int fd)
{
	char *err = NULL;
	struct store *st = store_open(path, &err);
	struct session *s;
	char chunk[32];
	int64_t len;
	long i;

	if (st == NULL)
		_exit(3);
	s = session_new(st, "openai", "gpt");
	s->flush_ms = 0;
	session_append_user(s, "tell me a long story");
	session_begin_reply(s, NULL, NULL);
	len = s->id;
	if (write(fd, &len, sizeof(len)) != (ssize_t)sizeof(len))
		_exit(4);
	for (i = 0;; i++) {
		int k = snprintf(chunk, sizeof(chunk), "delta%06ld ", i);

		session_reply_text(s, chunk, (size_t)k);
		if (session_reply_flush(s) == 1) {
			len = (int64_t)s->msgs[s->reply].content.len;
			if (write(fd, &len, sizeof(len)) != (ssize_t)sizeof(len))
				_exit(5);
		}
	}
}

/* SIGKILL during a streamed reply leaves a database that opens cleanly, passes the
 * integrity checks and holds at least the last flushed text, now marked interrupted and
 * found by search. */
static void
test_crash_safety(void **state)
{
	struct fixture *f = *state;
	struct message_row *ms;
	struct buf expect = BUF_INIT;
	int64_t sid = 0, len, last = 0;
	int fds[2], status;
	long count = 0, i;
	char *err = NULL;
	size_t n;
	pid_t pid;

	/* SQLite connections must not cross a fork: close ours, the child opens its own. */
	store_close(f->st);
	f->st = NULL;
	assert_int_equal(pipe(fds), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(fds[0]);
		crash_child(f->path, fds[1]);
	}
	close(fds[1]);
	assert_int_equal(read(fds[0], &sid, sizeof(sid)), sizeof(sid));
	while (count < 300 && read(fds[0], &len, sizeof(len)) == sizeof(len)) {
		last = len;
		count++;
	}
	kill(pid, SIGKILL);
	/* Lengths written before the kill landed are flushed too. */
	while (read(fds[0], &len, sizeof(len)) == sizeof(len))
		last = len;
	close(fds[0]);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
	assert_int_equal(count, 300);

	reopen(f);
	assert_int_equal(store_check(f->st, &err), 0);
	assert_null(err);
	assert_int_equal(store_messages(f->st, sid, &ms, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(ms[1].state, MSG_INTERRUPTED);
	assert_true((int64_t)strlen(ms[1].content) >= last);
	for (i = 0; (int64_t)expect.len < (int64_t)strlen(ms[1].content); i++)
		buf_printf(&expect, "delta%06ld ", i);
	assert_string_equal(ms[1].content, buf_str(&expect));
	assert_int_equal(search_count(f->st, "delta000150"), 1);
	print_message("# crash test: %ld flushes seen, %lld bytes reported, %zu stored\n",
	    count, (long long)last, strlen(ms[1].content));
	store_messages_free(ms, n);
	buf_free(&expect);
}

/* A 200,000-word reply is found by words from its start, middle and end, once each, with
 * a snippet from the part that matched; deleting it takes every part out of the index. */
static void
test_search_long_message(void **state)
{
	struct fixture *f = *state;
	struct message_row m, *ms;
	char *text = distinct_words("qz", 200000);
	char *err = NULL;
	int64_t sid, id;
	size_t n;

	sid = store_session_new(f->st, "long", NULL, NULL);
	m = msg(sid, ROLE_USER, "write me a very long list", MSG_COMPLETE);
	store_message_add(f->st, &m);
	m = msg(sid, ROLE_ASSISTANT, "", MSG_STREAMING);
	id = store_message_add(f->st, &m);
	assert_true(id > 0);
	m.content = text;
	assert_int_equal(store_message_update(f->st, &m), 0);
	assert_int_equal(search_count(f->st, "qz199999"), 0);
	m.state = MSG_COMPLETE;
	assert_int_equal(store_message_update(f->st, &m), 0);
	assert_int_equal(search_count(f->st, "qz0"), 1);
	assert_int_equal(search_count(f->st, "qz100000"), 1);
	assert_int_equal(search_count(f->st, "qz199999"), 1);
	/* Words from different parts still meet in one result for the one message. */
	assert_int_equal(search_count(f->st, "qz0 OR qz100000 OR qz199999"), 1);
	assert_int_equal(store_search(f->st, "qz123456", &ms, &n, 10), 0);
	assert_int_equal(n, 1);
	assert_true(ms[0].id == id);
	assert_int_equal(ms[0].role, ROLE_ASSISTANT);
	assert_non_null(strstr(ms[0].content, STORE_MATCH_OPEN "qz123456" STORE_MATCH_CLOSE));
	store_messages_free(ms, n);
	assert_int_equal(store_check(f->st, &err), 0);
	assert_null(err);

	assert_int_equal(store_message_delete_after(f->st, sid, 0), 0);
	assert_int_equal(search_count(f->st, "qz0"), 0);
	assert_int_equal(search_count(f->st, "qz100000"), 0);
	assert_int_equal(search_count(f->st, "qz199999"), 0);
	assert_int_equal(store_check(f->st, &err), 0);
	assert_null(err);
	free(text);
}

/* Finishing a reply of 20,000 distinct words keeps SQLite's memory high-water mark low:
 * tokenised as one FTS5 document it costs about 3 MB of pending terms at once. */
static void
test_index_memory_bounded(void **state)
{
	struct fixture *f = *state;
	struct message_row m;
	char *text = distinct_words("mem", 20000);
	sqlite3_int64 base, cur, hi;
	int64_t sid;

	sid = store_session_new(f->st, "mem", NULL, NULL);
	m = msg(sid, ROLE_ASSISTANT, "", MSG_STREAMING);
	assert_true(store_message_add(f->st, &m) > 0);
	m.content = text;
	assert_int_equal(store_message_update(f->st, &m), 0);
	m.state = MSG_COMPLETE;
	/* The page cache is already in use; what counts is the growth above it. */
	assert_int_equal(sqlite3_status64(SQLITE_STATUS_MEMORY_USED, &base, &hi, 1), SQLITE_OK);
	assert_int_equal(store_message_update(f->st, &m), 0);
	assert_int_equal(sqlite3_status64(SQLITE_STATUS_MEMORY_USED, &cur, &hi, 0), SQLITE_OK);
	/* The figures are real only with SQLite's memory statistics on (main turns them on
	 * before natter's store would turn them off): memory is in use by now. */
	assert_true(base > 0);
	print_message("# finishing %zu bytes of 20000 distinct words: SQLite memory peaked"
	    " %lld KiB above the %lld KiB in use before\n", strlen(text),
	    (long long)(hi - base) / 1024, (long long)base / 1024);
	assert_true(hi - base < 1024 * 1024);
	assert_int_equal(search_count(f->st, "mem19999"), 1);
	free(text);
}

/* The number of message_spill rows in the database at path. */
static long
spill_rows(const char *path)
{
	sqlite3 *db;
	sqlite3_stmt *s;
	long n = -1;

	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	if (sqlite3_prepare_v2(db, "SELECT count(*) FROM message_spill", -1, &s, NULL) == SQLITE_OK &&
	    sqlite3_step(s) == SQLITE_ROW)
		n = sqlite3_column_int(s, 0);
	sqlite3_finalize(s);
	sqlite3_close(db);
	return n;
}

/*
 * A long reply written as it arrives (message_row.spill): its head is written whole, then
 * only new bytes are appended, never the whole text again. Readers (another store handle
 * while it streams, store_messages once it ends) see the whole text; every word of it is
 * searchable once it ends, a brief writer's once store_index_pending ran; deleting the
 * session takes the rows along.
 */
static void
test_spilled_reply(void **state)
{
	struct fixture *f = *state;
	struct message_row m, *ms;
	char *text = distinct_words("sp", 400000);  /* about 3.3 MB */
	size_t len = strlen(text), at, step = 300000, n;
	struct store *other;
	char *err = NULL;
	int64_t sid, id;
	int brief;

	for (brief = 0; brief < 2; brief++) {
		store_set_brief(f->st, brief);
		sid = store_session_new(f->st, "spill", "openai", "gpt");
		m = msg(sid, ROLE_ASSISTANT, "", MSG_STREAMING);
		id = store_message_add(f->st, &m);
		assert_true(id > 0);
		/* The head: the text as it was when it grew long. */
		m.content = xstrndup(text, 1000);
		assert_int_equal(store_message_update(f->st, &m), 0);
		m.spill = 1;
		for (at = 1000; at + step < len; at += step) {
			m.append = text + at;
			m.append_len = step;
			assert_int_equal(store_message_update(f->st, &m), 0);
		}
		other = store_open(f->path, &err);
		assert_non_null(other);
		assert_int_equal(store_messages(other, sid, &ms, &n), 0);
		assert_int_equal(n, 1);
		assert_int_equal(strlen(ms[0].content), at);
		assert_memory_equal(ms[0].content, text, at);
		store_messages_free(ms, n);
		store_close(other);
		m.state = MSG_COMPLETE;
		m.append = text + at;
		m.append_len = len - at;
		assert_int_equal(store_message_update(f->st, &m), 0);
		free(m.content);
		if (brief)
			assert_int_equal(store_index_pending(f->st), 0);
		assert_int_equal(store_messages(f->st, sid, &ms, &n), 0);
		assert_int_equal(n, 1);
		assert_string_equal(ms[0].content, text);
		assert_int_equal(ms[0].state, MSG_COMPLETE);
		store_messages_free(ms, n);
		assert_int_equal(search_count(f->st, "sp0"), 1);
		assert_int_equal(search_count(f->st, "sp200000"), 1);
		assert_int_equal(search_count(f->st, "sp399999"), 1);
		assert_int_equal(store_check(f->st, &err), 0);
		assert_null(err);
		assert_true(spill_rows(f->path) > 0);
		assert_int_equal(store_session_delete(f->st, sid), 0);
		assert_int_equal(spill_rows(f->path), 0);
		assert_int_equal(search_count(f->st, "sp399999"), 0);
	}
	store_set_brief(f->st, 0);
	free(text);
}

/* Run in a forked child: open its own store, leave a long reply streaming in a new
 * session, report the session id on fd, then wait to be killed (or for the parent to
 * close hold, so a failed test leaves no process behind). */
static _Noreturn void
orphan_child(const char *path, int fd, int hold)
{
	char *err = NULL;
	struct store *st = store_open(path, &err);
	struct message_row m;
	char *text = distinct_words("bravo", 5000);
	int64_t sid;
	char c;

	if (st == NULL)
		_exit(3);
	sid = store_session_new(st, "child", "openai", "gpt");
	m = msg(sid, ROLE_ASSISTANT, "", MSG_STREAMING);
	if (store_message_add(st, &m) < 0)
		_exit(4);
	m.content = text;
	if (store_message_update(st, &m) != 0)
		_exit(5);
	if (write(fd, &sid, sizeof(sid)) != (ssize_t)sizeof(sid))
		_exit(6);
	/* Nothing is written to hold: read returns once the parent closes it or exits. */
	while (read(hold, &c, 1) < 0 && errno == EINTR)
		;
	_exit(0);
}

/* The one message of session sid (which must have exactly one). */
static struct message_row *
only_message(struct store *st, int64_t sid)
{
	struct message_row *ms;
	size_t n;

	assert_int_equal(store_messages(st, sid, &ms, &n), 0);
	assert_int_equal(n, 1);
	return ms;
}

/*
 * Opening a store finishes the replies whose writers are gone and leaves the ones still
 * being written alone: a reply streamed by a live process, or by another handle open in
 * this one, stays streaming and unsearchable however often the database is opened; once
 * its process is killed, or its handle closed without finishing it, the next open marks
 * it interrupted with its text intact and makes it searchable, long text included.
 */
static void
test_recover_orphans(void **state)
{
	struct fixture *f = *state;
	char *long_text = distinct_words("bravo", 5000);
	struct message_row m, *ms;
	struct store *a, *b;
	int64_t child_sid = 0, sid, id;
	int fds[2], hold[2], status;
	char *err = NULL;
	pid_t pid;

	/* A live writer in another process. */
	store_close(f->st);
	f->st = NULL;
	assert_int_equal(pipe(fds), 0);
	assert_int_equal(pipe(hold), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(fds[0]);
		close(hold[1]);
		orphan_child(f->path, fds[1], hold[0]);
	}
	close(fds[1]);
	close(hold[0]);
	assert_int_equal(read(fds[0], &child_sid, sizeof(child_sid)), sizeof(child_sid));
	close(fds[0]);

	/* Opening beside it leaves its reply alone; so does a second handle in this process. */
	a = store_open(f->path, &err);
	assert_non_null(a);
	ms = only_message(a, child_sid);
	assert_int_equal(ms[0].state, MSG_STREAMING);
	assert_string_equal(ms[0].content, long_text);
	store_messages_free(ms, 1);
	assert_int_equal(search_count(a, "bravo4999"), 0);

	/* A live writer in this process, on handle a. */
	sid = store_session_new(a, "mine", NULL, NULL);
	m = msg(sid, ROLE_ASSISTANT, "", MSG_STREAMING);
	id = store_message_add(a, &m);
	assert_true(id > 0);
	m.content = "alpha partial answer";
	assert_int_equal(store_message_update(a, &m), 0);
	b = store_open(f->path, &err);
	assert_non_null(b);
	ms = only_message(b, sid);
	assert_int_equal(ms[0].state, MSG_STREAMING);
	store_messages_free(ms, 1);
	ms = only_message(b, child_sid);
	assert_int_equal(ms[0].state, MSG_STREAMING);
	store_messages_free(ms, 1);
	assert_int_equal(search_count(b, "alpha"), 0);
	store_close(b);

	/* The child dies mid-reply: the next open finishes its reply, not a's. */
	assert_int_equal(kill(pid, SIGKILL), 0);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
	close(hold[1]);
	b = store_open(f->path, &err);
	assert_non_null(b);
	ms = only_message(b, child_sid);
	assert_int_equal(ms[0].state, MSG_INTERRUPTED);
	assert_string_equal(ms[0].content, long_text);
	store_messages_free(ms, 1);
	assert_int_equal(search_count(b, "bravo0"), 1);
	assert_int_equal(search_count(b, "bravo4999"), 1);
	ms = only_message(b, sid);
	assert_int_equal(ms[0].state, MSG_STREAMING);
	store_messages_free(ms, 1);
	assert_int_equal(search_count(b, "alpha"), 0);
	assert_int_equal(store_check(b, &err), 0);
	assert_null(err);
	/* The writer that is alive can still finish its reply as usual. */
	m.content = "alpha partial answer, then more";
	assert_int_equal(store_message_update(a, &m), 0);
	store_close(b);

	/* Handle a goes away without finishing: its reply is an orphan now. */
	store_close(a);
	f->st = store_open(f->path, &err);
	assert_non_null(f->st);
	ms = only_message(f->st, sid);
	assert_int_equal(ms[0].state, MSG_INTERRUPTED);
	assert_string_equal(ms[0].content, "alpha partial answer, then more");
	store_messages_free(ms, 1);
	assert_int_equal(search_count(f->st, "alpha"), 1);
	assert_int_equal(store_check(f->st, &err), 0);
	assert_null(err);
	free(long_text);
}

/* The version-1 search layout (one FTS5 document per message, external content from a
 * view, kept by triggers), applied over today's tables to rebuild an old database. */
static const char old_v1_fts[] =
    "DROP TABLE IF EXISTS message_spill;"
    "DROP TABLE IF EXISTS message_attachments;"
    "DROP TABLE IF EXISTS attachments;"
    "DROP TABLE IF EXISTS index_pending;"
    "DROP TRIGGER IF EXISTS messages_fts_insert;"
    "DROP TRIGGER IF EXISTS messages_fts_delete;"
    "DROP TRIGGER IF EXISTS messages_fts_update;"
    "DROP TABLE IF EXISTS messages_fts;"
    "DROP VIEW IF EXISTS messages_indexed;"
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
    "END;"
    "ALTER TABLE compare_groups DROP COLUMN picked;"
    "PRAGMA user_version = 1;";

/* A version-1 database, with short, long and streaming messages indexed the old way, is
 * upgraded on open: old messages are found, each once, the reply an old natter left
 * streaming (it recorded no lease) is interrupted and found too, and the checks pass. */
static void
test_migrate_v1(void **state)
{
	struct fixture *f = *state;
	char *text = distinct_words("old", 30000);
	char *sql, *err = NULL;
	struct message_row *ms;
	size_t n;
	sqlite3 *db;

	store_close(f->st);
	f->st = NULL;
	assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, old_v1_fts, NULL, NULL, &err), SQLITE_OK);
	sql = xasprintf("INSERT INTO sessions (id, title, created, updated) VALUES (1, 'old', 1, 1);"
	    "INSERT INTO messages (session_id, seq, role, created_ms, state, content) VALUES"
	    " (1, 1, 'user', 1000, 'complete', 'tell me about sourdough'),"
	    " (1, 2, 'assistant', 2000, 'complete', '%s'),"
	    " (1, 3, 'assistant', 3000, 'streaming', 'halfway sourdough');", text);
	assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, &err), SQLITE_OK);
	free(sql);
	sqlite3_close(db);

	reopen(f);
	assert_int_equal(search_count(f->st, "sourdough"), 2);
	assert_int_equal(search_count(f->st, "old0"), 1);
	assert_int_equal(search_count(f->st, "old29999"), 1);
	assert_int_equal(search_count(f->st, "halfway"), 1);
	assert_int_equal(store_check(f->st, &err), 0);
	assert_null(err);
	assert_int_equal(store_messages(f->st, 1, &ms, &n), 0);
	assert_int_equal(n, 3);
	assert_int_equal(ms[1].state, MSG_COMPLETE);
	assert_int_equal(ms[2].state, MSG_INTERRUPTED);
	assert_string_equal(ms[2].content, "halfway sourdough");
	store_messages_free(ms, n);
	assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "SELECT * FROM messages_indexed", NULL, NULL, NULL),
	    SQLITE_ERROR);
	sqlite3_close(db);
	free(text);
}

/* Tool calls and results are messages of their own (schema 10): they keep their role, id,
 * name and error flag, a database upgraded from version 9 takes them, and the widened
 * role constraint still refuses a role it does not know. */
static void
test_tool_messages(void **state)
{
	struct fixture *f = *state;
	struct message_row call = { 0 }, res, *ms;
	size_t n;
	int64_t sid;
	sqlite3 *db;

	sid = store_session_new(f->st, "tools", "openai", "m");
	assert_true(sid > 0);
	call.session_id = sid;
	call.role = ROLE_TOOL_CALL;
	call.content = "{\"city\":\"Oslo\"}";
	call.tool_id = "call_1";
	call.tool_name = "get_weather";
	call.input_tokens = call.output_tokens = call.ttft_ms = call.duration_ms = -1;
	call.cost = -1;
	res = call;
	res.role = ROLE_TOOL;
	res.content = "sunny";
	res.tool_error = 1;
	assert_true(store_message_add(f->st, &call) > 0);
	assert_true(store_message_add(f->st, &res) > 0);
	reopen(f);
	assert_int_equal(store_messages(f->st, sid, &ms, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(ms[0].role, ROLE_TOOL_CALL);
	assert_string_equal(ms[0].tool_id, "call_1");
	assert_string_equal(ms[0].tool_name, "get_weather");
	assert_false(ms[0].tool_error);
	assert_int_equal(ms[1].role, ROLE_TOOL);
	assert_string_equal(ms[1].content, "sunny");
	assert_true(ms[1].tool_error);
	store_messages_free(ms, n);
	assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
	assert_int_not_equal(sqlite3_exec(db, "INSERT INTO messages (session_id, seq, role,"
	    " created_ms) VALUES (1, 9, 'bogus', 1)", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
}

/* A database at version 9 (before tool messages) upgrades in place and takes them. */
static void
test_migrate_v9_tools(void **state)
{
	struct fixture *f = *state;
	sqlite3 *db;
	char *err = NULL;

	store_close(f->st);
	f->st = NULL;
	/* Roll the fresh file back to what version 9 had: the old CHECK and no tool columns
	 * (DROP COLUMN keeps the rest). */
	assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "DROP TABLE message_attachments;"
	    "DROP TABLE attachments;"
	    "ALTER TABLE messages DROP COLUMN tool_id;"
	    "ALTER TABLE messages DROP COLUMN tool_name;"
	    "ALTER TABLE messages DROP COLUMN tool_error;"
	    "ALTER TABLE messages DROP COLUMN slot;"
	    "DROP INDEX sessions_archived;"
	    "ALTER TABLE sessions DROP COLUMN archived;"
	    TREE_ROLLBACK
	    "PRAGMA writable_schema = ON;"
	    "UPDATE sqlite_schema SET sql = replace(sql, ', ''tool_call'', ''tool''', '')"
	    " WHERE name = 'messages';"
	    "PRAGMA writable_schema = OFF;"
	    "PRAGMA user_version = 9;", NULL, NULL, &err), SQLITE_OK);
	sqlite3_close(db);
	assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
	assert_int_not_equal(sqlite3_exec(db, "INSERT INTO sessions (id, title, created, updated)"
	    " VALUES (7, 't', 1, 1); INSERT INTO messages (session_id, seq, role, created_ms)"
	    " VALUES (7, 1, 'tool', 1)", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	reopen(f);
	test_tool_messages(state);
	assert_int_equal(store_check(f->st, &err), 0);
}

/* A page of hits ranks the newest matching parts at a bounded cost: for a query matching
 * fewer parts than the window it is exactly the full ranking cut to the page (ids and
 * snippets), and for one matching more, every hit is among the newest matches. */
static void
test_search_page(void **state)
{
	struct fixture *f = *state;
	struct message_row m, *all, *page;
	size_t nall, npage, i, total = 2600;
	int64_t sid, first = 0, id;
	char text[128];

	sid = store_session_new(f->st, "s", NULL, NULL);
	assert_int_equal(store_batch_begin(f->st), 0);
	for (i = 0; i < total; i++) {
		/* "rare" in every 40th message, with more or less weight; "common" in all. */
		snprintf(text, sizeof(text), "common word %zu%s%s", i, i % 40 == 0 ? " rare" : "",
		    i % 80 == 0 ? " rare rare" : "");
		m = msg(sid, i % 2 ? ROLE_ASSISTANT : ROLE_USER, text, MSG_COMPLETE);
		id = store_message_add(f->st, &m);
		if (first == 0)
			first = id;
	}
	assert_int_equal(store_batch_end(f->st, 1), 0);

	assert_int_equal(store_search(f->st, "rare", &all, &nall, 0), 0);
	assert_int_equal(nall, total / 40);
	assert_int_equal(store_search(f->st, "rare", &page, &npage, 20), 0);
	assert_int_equal(npage, 20);
	for (i = 0; i < npage; i++) {
		assert_int_equal(page[i].id, all[i].id);
		assert_string_equal(page[i].content, all[i].content);
	}
	store_messages_free(all, nall);
	store_messages_free(page, npage);

	assert_int_equal(store_search(f->st, "common", &page, &npage, 50), 0);
	assert_int_equal(npage, 50);
	for (i = 0; i < npage; i++)
		assert_true(page[i].id >= first + (int64_t)(total - 2000));
	store_messages_free(page, npage);
}

/* Page through query newest first, pages of size k, into one array (its length in *n). */
static struct message_row *
search_pages(struct store *st, const char *query, size_t k, size_t *n)
{
	struct message_row *all = NULL, *page;
	size_t len = 0, np, i;
	int64_t before = 0;

	for (;;) {
		assert_int_equal(store_search_newest(st, query, before, k, &page, &np), 0);
		assert_true(np <= k);
		all = xrealloc(all, (len + np + 1) * sizeof(*all));
		for (i = 0; i < np; i++)
			all[len++] = page[i];
		free(page);
		if (np < k)
			break;
		before = all[len - 1].id;
	}
	*n = len;
	return all;
}

/* Newest-first pages put together are exactly the unpaged hits, in the same order (message
 * id, newest first), with the same snippets, across page boundaries, whatever the page
 * size: messages of several parts that all match (rows tied on one message) are listed
 * once, even when the page boundary falls on them; the hits are the ranked search's, and
 * store_search_count counts them. Words, a phrase and a prefix. */
static void
test_search_newest_pages(void **state)
{
	static const char *const queries[] = {"common", "rare", "\"common word\"", "comm*",
	    "rar* OR zebra", "nothing"};
	static const size_t sizes[] = {1, 2, 3, 7, 50, 1000};
	struct fixture *f = *state;
	struct message_row m, *all, *ranked, *paged;
	size_t nall, nranked, npaged, i, j, q, z, total = 300;
	char *longtext = distinct_words("lw", 9000), text[128];
	long count;
	int64_t sid;

	sid = store_session_new(f->st, "s", NULL, NULL);
	assert_int_equal(store_batch_begin(f->st), 0);
	for (i = 0; i < total; i++) {
		struct buf b = BUF_INIT;

		snprintf(text, sizeof(text), "common word %zu%s ", i, i % 7 == 0 ? " rare" : "");
		buf_puts(&b, text);
		/* Every 25th message is long: several parts, each holding the words. */
		for (j = 0; i % 25 == 0 && j < 4; j++) {
			buf_puts(&b, longtext);
			buf_puts(&b, " common word rare ");
		}
		m = msg(sid, i % 2 ? ROLE_ASSISTANT : ROLE_USER, buf_str(&b), MSG_COMPLETE);
		assert_true(store_message_add(f->st, &m) > 0);
		buf_free(&b);
	}
	assert_int_equal(store_batch_end(f->st, 1), 0);
	free(longtext);

	for (q = 0; q < sizeof(queries) / sizeof(queries[0]); q++) {
		assert_int_equal(store_search_newest(f->st, queries[q], 0, 0, &all, &nall), 0);
		for (i = 1; i < nall; i++)
			assert_true(all[i - 1].id > all[i].id);
		/* The same messages as the ranked search over every hit. */
		assert_int_equal(store_search(f->st, queries[q], &ranked, &nranked, 0), 0);
		assert_int_equal(nranked, nall);
		for (i = 0; i < nranked; i++) {
			for (j = 0; j < nall && all[j].id != ranked[i].id; j++)
				;
			assert_true(j < nall);
		}
		store_messages_free(ranked, nranked);
		assert_int_equal(store_search_count(f->st, queries[q], &count), 0);
		assert_int_equal(count, (long)nall);
		for (z = 0; z < sizeof(sizes) / sizeof(sizes[0]); z++) {
			paged = search_pages(f->st, queries[q], sizes[z], &npaged);
			assert_int_equal(npaged, nall);
			for (i = 0; i < nall; i++) {
				assert_int_equal(paged[i].id, all[i].id);
				assert_string_equal(paged[i].content, all[i].content);
			}
			store_messages_free(paged, npaged);
		}
		store_messages_free(all, nall);
	}
	/* 43 multiples of 7 below 300, and the 10 long ones that are not (25, 50, ... but 175). */
	assert_int_equal(search_count(f->st, "rare"), 53);
}

/* Every hit of query newest first, by pages of k run a piece at a time (store_search_step
 * with a budget of one microsecond), into one array. */
static struct message_row *
search_steps(struct store *st, const char *query, size_t k, size_t *n)
{
	struct message_row *all = NULL, *page;
	size_t len = 0, np, i;
	int64_t before = 0;
	int rc;

	for (;;) {
		struct store_searching *s = store_search_start(st, query, before, k);

		while ((rc = store_search_step(st, s, 1)) == 1)
			;
		assert_int_equal(rc, 0);
		assert_int_equal(store_search_hits(st, s, &page, &np), 0);
		store_search_free(s);
		all = xrealloc(all, (len + np + 1) * sizeof(*all));
		for (i = 0; i < np; i++)
			all[len++] = page[i];
		free(page);
		if (np < k)
			break;
		before = all[len - 1].id;
	}
	*n = len;
	return all;
}

/* Two lists of hits are the same messages in the same order with the same snippets. */
static void
same_hits(const char *query, const struct message_row *a, size_t na,
    const struct message_row *b, size_t nb)
{
	size_t i;

	if (na != nb)
		fail_msg("'%s': %zu hits, then %zu", query, na, nb);
	for (i = 0; i < na; i++) {
		if (a[i].id != b[i].id)
			fail_msg("'%s': hit %zu is %lld, then %lld", query, i, (long long)a[i].id,
			    (long long)b[i].id);
		assert_string_equal(a[i].content, b[i].content);
	}
}

/* A search as tuned finds the reference hits (ref, every one newest first; rank, the best
 * 10): run to the end, by pages of 1, 3, 7 and 1,000, a piece at a time, and ranked. */
static void
same_search(struct store *st, const char *query, const struct message_row *ref,
    size_t nref, const struct message_row *rank, size_t nrank)
{
	static const size_t sizes[] = {1, 3, 7, 1000};
	struct message_row *got;
	size_t ngot, z;

	assert_int_equal(store_search_newest(st, query, 0, 0, &got, &ngot), 0);
	same_hits(query, ref, nref, got, ngot);
	store_messages_free(got, ngot);
	for (z = 0; z < sizeof(sizes) / sizeof(sizes[0]); z++) {
		got = search_pages(st, query, sizes[z], &ngot);
		same_hits(query, ref, nref, got, ngot);
		store_messages_free(got, ngot);
		got = search_steps(st, query, sizes[z], &ngot);
		same_hits(query, ref, nref, got, ngot);
		store_messages_free(got, ngot);
	}
	assert_int_equal(store_search(st, query, &got, &ngot, 10), 0);
	same_hits(query, rank, nrank, got, ngot);
	store_messages_free(got, ngot);
}

/* A loosened prefix (the candidates found with its 3- or 2-character prefix or without
 * it, each checked against the query), with the walk going on with the query itself after
 * 1, 3, 50 or no number of checks, finds exactly what the query finds straight from FTS5:
 * newest first, by pages of any size, run to the end or a piece at a time, ranked, and
 * counted. Prefixes of one character and of more than three, phrases ending in one,
 * NEAR, OR, NOT, ^, and words with stems, case and accents. So do phrases and NEAR with
 * their walk split in two halves (store-search.c), as the samples decide and forced. */
static void
test_search_loosened(void **state)
{
	static const char *const queries[] = {"topic*", "topi*", "t*", "c*", "comm*",
	    "topic1*", "\"common wo\"*", "rar* OR zebra", "wor* NOT rare", "NEAR(common topic1*)",
	    "^comm*", "topic3* common", "caf*", "runn*", "x*", "topic12*", "nothing*",
	    "\"common word\"", "\"word common\"", "\"topic12 rare\"", "NEAR(common rare, 3)",
	    "\"rare cafés\" OR \"word 7\"", "\"lw1 lw2\" lw3"};
	static const long checks[] = {1, 3, 50, 0};
	struct fixture *f = *state;
	struct message_row m, *ref, *rank;
	size_t nref, nrank, q, c, z, i;
	char *longtext = distinct_words("lw", 9000), text[160];
	long count, count2, splits;
	int64_t sid;

	sid = store_session_new(f->st, "s", NULL, NULL);
	assert_int_equal(store_batch_begin(f->st), 0);
	for (i = 0; i < 400; i++) {
		struct buf b = BUF_INIT;

		snprintf(text, sizeof(text), "%s word %zu topic%zu%s. %s", i % 5 ? "common" :
		    "Common", i, i % 37, i % 7 == 0 ? " rare" : "", i % 11 == 0 ? "Cafés running" :
		    i % 13 == 0 ? "café runner" : "");
		buf_puts(&b, text);
		for (z = 0; i % 45 == 0 && z < 3; z++) {
			buf_puts(&b, longtext);
			buf_puts(&b, " common topic12 rare ");
		}
		m = msg(sid, i % 2 ? ROLE_ASSISTANT : ROLE_USER, buf_str(&b), MSG_COMPLETE);
		assert_true(store_message_add(f->st, &m) > 0);
		buf_free(&b);
	}
	assert_int_equal(store_batch_end(f->st, 1), 0);
	free(longtext);

	for (q = 0; q < sizeof(queries) / sizeof(queries[0]); q++) {
		/* The reference: nothing loosened. */
		store_search_tune(f->st, 1L << 40, 0);
		assert_int_equal(store_search_newest(f->st, queries[q], 0, 0, &ref, &nref), 0);
		assert_int_equal(store_search(f->st, queries[q], &rank, &nrank, 10), 0);
		assert_int_equal(store_search_count(f->st, queries[q], &count), 0);
		assert_int_equal(count, (long)nref);
		for (c = 0; c < sizeof(checks) / sizeof(checks[0]); c++) {
			store_search_tune(f->st, 1, checks[c]);
			same_search(f->st, queries[q], ref, nref, rank, nrank);
			assert_int_equal(store_search_count(f->st, queries[q], &count2), 0);
			assert_int_equal(count2, count);
		}
		/* The walk split in two halves, as the samples have it and always. */
		store_search_tune(f->st, 0, 0);
		for (c = 0; c < 2; c++) {
			splits = store_search_splits(f->st);
			store_search_tune_split(f->st, 1, (int)c);
			same_search(f->st, queries[q], ref, nref, rank, nrank);
			/* Forced, every phrase of two words or NEAR is split; others never are. */
			if (c == 1 && (strchr(queries[q], ' ') != NULL && (queries[q][0] == '"' ||
			    strncmp(queries[q], "NEAR(", 5) == 0) && strchr(queries[q], '*') == NULL))
				assert_true(store_search_splits(f->st) > splits);
			if (strchr(queries[q], ' ') == NULL)
				assert_int_equal(store_search_splits(f->st), splits);
		}
		assert_true(store_search_splits(f->st) >= splits);
		store_search_tune_split(f->st, 0, 0);
		store_messages_free(ref, nref);
		store_messages_free(rank, nrank);
	}
	store_search_tune(f->st, 0, 0);
	/* The words were there to be found. */
	assert_true(search_count(f->st, "t*") == 400);
	assert_true(search_count(f->st, "caf*") > 50);
}

/* An archived session leaves the usual listing (and keeps its place by its last update in
 * the archive's), stays whole and searchable, says so in its row, and comes back; an
 * unknown session cannot be archived. */
static void
test_archive(void **state)
{
	struct fixture *f = *state;
	struct session_row *rows, *one;
	struct message_row m, *ms;
	size_t n;
	int64_t a, b;

	a = store_session_new(f->st, "keep me", NULL, NULL);
	b = store_session_new(f->st, "put away", NULL, NULL);
	m = msg(b, ROLE_USER, "the armadillo question", MSG_COMPLETE);
	assert_true(store_message_add(f->st, &m) > 0);
	assert_int_equal(store_session_archive(f->st, b, 1), 0);
	assert_int_equal(store_sessions(f->st, &rows, &n, 0), 0);
	assert_int_equal(n, 1);
	assert_true(rows[0].id == a);
	assert_int_equal(rows[0].archived, 0);
	store_sessions_free(rows, n);
	assert_int_equal(store_sessions_which(f->st, STORE_ARCHIVED, &rows, &n, 0), 0);
	assert_int_equal(n, 1);
	assert_true(rows[0].id == b);
	assert_int_equal(rows[0].archived, 1);
	assert_int_equal(rows[0].nmessages, 1);
	store_sessions_free(rows, n);
	assert_int_equal(store_sessions_which(f->st, STORE_ALL, &rows, &n, 0), 0);
	assert_int_equal(n, 2);
	store_sessions_free(rows, n);
	one = store_session_get(f->st, b);
	assert_non_null(one);
	assert_int_equal(one->archived, 1);
	store_sessions_free(one, 1);
	assert_int_equal(store_search(f->st, "armadillo", &ms, &n, 10), 0);
	assert_int_equal(n, 1);
	assert_true(ms[0].session_id == b);
	store_messages_free(ms, n);
	/* Back from the archive. */
	assert_int_equal(store_session_archive(f->st, b, 0), 0);
	assert_int_equal(store_sessions(f->st, &rows, &n, 0), 0);
	assert_int_equal(n, 2);
	store_sessions_free(rows, n);
	assert_int_equal(store_sessions_which(f->st, STORE_ARCHIVED, &rows, &n, 0), 0);
	assert_int_equal(n, 0);
	store_sessions_free(rows, n);
	assert_int_not_equal(store_session_archive(f->st, 999, 1), 0);
	assert_non_null(strstr(store_error(f->st), "999"));
}

/* A database from before archiving upgrades in place: every session is listed as before,
 * none archived, and archiving works. */
static void
test_migrate_archive(void **state)
{
	struct fixture *f = *state;
	struct session_row *rows;
	sqlite3 *db;
	size_t n;
	char *sql;

	store_session_new(f->st, "old one", NULL, NULL);
	store_close(f->st);
	f->st = NULL;
	assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
	/* Archiving came with the 12 -> 13 step; the later steps run again over their tables. */
	sql = xasprintf("DROP INDEX sessions_archived; ALTER TABLE sessions DROP COLUMN archived;"
	    TREE_ROLLBACK "PRAGMA user_version = %d;", 12);
	assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
	free(sql);
	sqlite3_close(db);
	reopen(f);
	assert_int_equal(store_sessions(f->st, &rows, &n, 0), 0);
	assert_int_equal(n, 1);
	assert_string_equal(rows[0].title, "old one");
	assert_int_equal(rows[0].archived, 0);
	assert_int_equal(store_session_archive(f->st, rows[0].id, 1), 0);
	store_sessions_free(rows, n);
	assert_int_equal(store_sessions(f->st, &rows, &n, 0), 0);
	assert_int_equal(n, 0);
	store_sessions_free(rows, n);
}

/* Schema 15 builds the search index again with prefix indexes: every hit stays findable,
 * by words and by short prefixes, and the index stays in step with later writes. */
static void
test_migrate_prefix(void **state)
{
	struct fixture *f = *state;
	struct message_row m;
	char *err = NULL;
	sqlite3 *db;
	int64_t sid;
	int i;

	sid = store_session_new(f->st, "s", NULL, NULL);
	for (i = 0; i < 30; i++) {
		m = msg(sid, ROLE_USER, i % 3 ? "quokka lemur" : "quokka", MSG_COMPLETE);
		store_message_add(f->st, &m);
	}
	store_close(f->st);
	f->st = NULL;
	assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, TREE_ROLLBACK "PRAGMA user_version = 13", NULL, NULL,
	    NULL), SQLITE_OK);
	sqlite3_close(db);
	reopen(f);
	assert_int_equal(search_count(f->st, "quokka"), 30);
	assert_int_equal(search_count(f->st, "le*"), 20);
	assert_int_equal(search_count(f->st, "qu* NOT lem*"), 10);
	m = msg(sid, ROLE_USER, "lemming", MSG_COMPLETE);
	store_message_add(f->st, &m);
	assert_int_equal(search_count(f->st, "lem*"), 21);
	assert_int_equal(store_check(f->st, &err), 0);
	assert_null(err);
	assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
	{
		sqlite3_stmt *s;

		assert_int_equal(sqlite3_prepare_v2(db, "SELECT sql FROM sqlite_master WHERE name"
		    " = 'messages_fts'", -1, &s, NULL), SQLITE_OK);
		assert_int_equal(sqlite3_step(s), SQLITE_ROW);
		assert_non_null(strstr((const char *)sqlite3_column_text(s, 0), "prefix = '2 3'"));
		sqlite3_finalize(s);
	}
	sqlite3_close(db);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_search_page, setup, teardown),
		cmocka_unit_test_setup_teardown(test_search_newest_pages, setup, teardown),
		cmocka_unit_test_setup_teardown(test_search_loosened, setup, teardown),
		cmocka_unit_test_setup_teardown(test_migrate_prefix, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tool_messages, setup, teardown),
		cmocka_unit_test_setup_teardown(test_migrate_v9_tools, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sessions_crud, setup, teardown),
		cmocka_unit_test_setup_teardown(test_streaming_updates, setup, teardown),
		cmocka_unit_test_setup_teardown(test_search_ranking, setup, teardown),
		cmocka_unit_test_setup_teardown(test_search_bad_syntax, setup, teardown),
		cmocka_unit_test_setup_teardown(test_file_mode_wal, setup, teardown),
		cmocka_unit_test_setup_teardown(test_newer_schema, setup, teardown),
		cmocka_unit_test_setup_teardown(test_delete_after_and_groups, setup, teardown),
		cmocka_unit_test_setup_teardown(test_group_pick, setup, teardown),
		cmocka_unit_test_setup_teardown(test_startup_reads_no_bodies, setup, teardown),
		cmocka_unit_test_setup_teardown(test_crash_safety, setup, teardown),
		cmocka_unit_test_setup_teardown(test_recover_orphans, setup, teardown),
		cmocka_unit_test_setup_teardown(test_search_long_message, setup, teardown),
		cmocka_unit_test_setup_teardown(test_index_memory_bounded, setup, teardown),
		cmocka_unit_test_setup_teardown(test_spilled_reply, setup, teardown),
		cmocka_unit_test_setup_teardown(test_migrate_v1, setup, teardown),
		cmocka_unit_test_setup_teardown(test_archive, setup, teardown),
		cmocka_unit_test_setup_teardown(test_migrate_archive, setup, teardown),
	};

	/* SQLite keeps its memory statistics (test_index_memory_bounded reads them): set up
	 * first, a host program's settings stay, as store_init_once says. */
	sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 1);
	sqlite3_initialize();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
