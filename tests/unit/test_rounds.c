/* Unit tests for comparison rounds in the message tree: every column's reply follows the
 * round's prompt (alternatives of one turn), a round nobody kept loads whole, /pick makes
 * the path go through the kept column with the others as ‹k/n› alternatives and the next
 * prompt following the chosen one, a round never kept stays reachable as an alternative of
 * the prompt sent after it, a column retried alone keeps its earlier reply as a column
 * alternative, and rounds stored before the tree (rows without parents, or one reply after
 * another) keep their layout. */
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

/* Add a finished reply of the main conversation. */
static void
reply(struct session *s, const char *text)
{
	session_begin_reply(s, "openai", "m");
	session_reply_text(s, text, strlen(text));
	session_reply_end(s, MSG_COMPLETE, NULL, -1, NULL, NULL);
}

/* Finish open reply r of a round with text. */
static void
answer(struct session *s, size_t r, const char *text)
{
	session_reply_text_at(s, r, text, strlen(text));
	session_reply_close(s, r, MSG_COMPLETE, NULL, -1, NULL, NULL);
}

/* One comparison round: the prompt, then one reply per column named by texts[c]. */
static int64_t
round_of(struct session *s, const char *prompt, const char *const *texts, int n)
{
	size_t r[4];
	int64_t g;
	int c;

	session_append_round(s, prompt, &g);
	for (c = 0; c < n; c++)
		r[c] = session_reply_open(s, "openai", texts[c], g);
	/* They end out of order, as columns do. */
	for (c = n; c-- > 0;)
		answer(s, r[c], texts[c]);
	return s->msgs[r[0]].compare_group;
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

/* Assert the session's path reads want. */
static void
assert_path(const struct session *s, const char *want)
{
	char *got = path_of(s);

	assert_string_equal(got, want);
	free(got);
}

/* The texts of the request for the next reply of the main conversation joined by "|". */
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

/* Assert the request for the next reply reads want. */
static void
assert_request(const struct session *s, const char *want)
{
	char *got = request_of(s);

	assert_string_equal(got, want);
	free(got);
}

/* A number from the database. */
static long
count(struct store *st, const char *fmt, ...)
{
	sqlite3 *db = store_handle(st);
	sqlite3_stmt *s;
	va_list ap;
	char sql[512];
	long n = -1;

	va_start(ap, fmt);
	vsnprintf(sql, sizeof(sql), fmt, ap);
	va_end(ap);
	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &s, NULL), SQLITE_OK);
	if (sqlite3_step(s) == SQLITE_ROW)
		n = (long)sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	return n;
}

/* The id of the message with this text. */
static long
id_of(struct store *st, const char *text)
{
	return count(st, "SELECT id FROM messages WHERE content = '%s'", text);
}

/* The stored parent of the message with this text. */
static long
parent_of(struct store *st, const char *text)
{
	return count(st, "SELECT parent_id FROM messages WHERE content = '%s'", text);
}

/* Two rounds of two columns: the replies are siblings under their prompt, the second
 * prompt follows column 1's reply, the rounds load whole until a pick, and /pick 2 makes
 * the path go through column 2 (its prompt moved under column 2's reply), the other replies
 * ‹k/n› alternatives; switching to one keeps its column instead, and the next prompt
 * follows the reply on screen. */
static void
test_pick_path(void **state)
{
	struct fixture *f = *state;
	static const char *const r1[] = { "A1", "B1" }, *const r2[] = { "A2", "B2" };
	struct session *s = session_new(f->st, "openai", "m"), *l;
	struct message_row *rows;
	int64_t id, g1;
	size_t n, i;

	session_append_user(s, "hi");
	reply(s, "hello");
	g1 = round_of(s, "q1", r1, 2);
	round_of(s, "q2", r2, 2);
	id = s->id;
	assert_path(s, "hi|hello|q1|A1|B1|q2|A2|B2");
	assert_int_equal(parent_of(f->st, "A1"), id_of(f->st, "q1"));
	assert_int_equal(parent_of(f->st, "B1"), id_of(f->st, "q1"));
	assert_int_equal(parent_of(f->st, "q2"), id_of(f->st, "A1"));
	assert_int_equal(parent_of(f->st, "B2"), id_of(f->st, "q2"));
	assert_int_equal(parent_of(f->st, "q1"), id_of(f->st, "hello"));
	assert_request(s, "hi|hello");  /* no round is the conversation's yet */

	/* Reopened before a pick: both rounds whole, side by side. */
	l = session_load(f->st, id);
	assert_path(l, "hi|hello|q1|A1|B1|q2|A2|B2");
	assert_true(session_group_wide(l, 3));
	assert_int_equal(l->msgs[3].nalt, 1);  /* a column counts its own alternatives */
	assert_int_equal(session_unpicked_tail(l), 2);
	session_free(l);

	assert_int_equal(session_pick(s, 2, 1), 0);
	assert_path(s, "hi|hello|q1|B1|q2|B2");
	assert_int_equal(parent_of(f->st, "q2"), id_of(f->st, "B1"));
	assert_int_equal(s->msgs[3].nalt, 2);
	assert_int_equal(s->msgs[3].alt, 2);
	assert_int_equal(s->msgs[3].slot, 1);
	assert_int_equal(s->msgs[3].pick, 1);
	assert_int_equal(s->msgs[5].alt, 2);
	assert_int_equal(s->msgs[2].cols, 2);
	assert_false(session_group_wide(s, 3));
	assert_int_equal(session_unpicked_tail(s), s->nmsgs);
	assert_request(s, "hi|hello|q1|B1|q2|B2");
	session_free(s);

	/* Reopened, the same path; switching to column 1's reply of the second round keeps
	 * column 1 there: the conversation goes on from what is on screen. */
	s = session_load(f->st, id);
	assert_path(s, "hi|hello|q1|B1|q2|B2");
	assert_int_equal(session_switch(s, 5, 1), 1);
	assert_int_equal(session_switch(s, 5, -1), 0);
	assert_path(s, "hi|hello|q1|B1|q2|A2");
	assert_int_equal(s->msgs[5].pick, 0);
	assert_int_equal(count(f->st, "SELECT picked FROM compare_groups WHERE id = %lld",
	    (long long)s->msgs[5].compare_group), 0);
	assert_int_equal(count(f->st, "SELECT picked FROM compare_groups WHERE id = %lld",
	    (long long)g1), 1);
	assert_request(s, "hi|hello|q1|B1|q2|A2");
	session_append_user(s, "go on");
	reply(s, "went on");
	assert_int_equal(parent_of(f->st, "go on"), id_of(f->st, "A2"));
	assert_request(s, "hi|hello|q1|B1|q2|A2|go on|went on");
	/* Column 1 of the first round: its line has no second round. */
	assert_int_equal(session_switch(s, 3, -1), 0);
	assert_path(s, "hi|hello|q1|A1");
	assert_request(s, "hi|hello|q1|A1");
	assert_int_equal(session_switch(s, 3, 1), 0);
	assert_path(s, "hi|hello|q1|B1|q2|A2|go on|went on");
	session_free(s);

	/* The whole tree has every reply, each with the prompt as its parent. */
	assert_int_equal(store_messages_tree(f->st, id, &rows, &n), 0);
	assert_int_equal(n, 10);
	for (i = 0; i < n; i++)
		if (strcmp(rows[i].content, "A1") == 0) {
			assert_int_equal(rows[i].parent_id, id_of(f->st, "q1"));
			assert_int_equal(rows[i].nalt, 2);
			assert_int_equal(rows[i].compare_cols, 2);
		}
	store_messages_free(rows, n);
}

/* A round nobody kept: the next prompt of the chat follows the message before the round,
 * so the round is that prompt's alternative; switching back shows it whole again. */
static void
test_unpicked_reachable(void **state)
{
	struct fixture *f = *state;
	static const char *const r1[] = { "A1", "B1", "C1" };
	struct session *s = session_new(f->st, "openai", "m");
	size_t k;

	session_append_user(s, "hi");
	reply(s, "hello");
	round_of(s, "q1", r1, 3);
	k = session_unpicked_tail(s);
	assert_int_equal(k, 2);
	session_branch(s, k);
	session_append_user(s, "plain");
	reply(s, "plain answer");
	assert_path(s, "hi|hello|plain|plain answer");
	assert_int_equal(s->msgs[2].nalt, 2);
	assert_int_equal(s->msgs[2].alt, 2);
	assert_request(s, "hi|hello|plain|plain answer");
	assert_int_equal(session_switch(s, 2, -1), 0);
	assert_path(s, "hi|hello|q1|A1|B1|C1");
	assert_int_equal(s->msgs[2].alt, 1);
	assert_true(session_group_wide(s, 4));
	assert_int_equal(session_unpicked_tail(s), 2);
	/* Kept now: the path goes through column 3. */
	assert_int_equal(session_pick(s, 2, 2), 0);
	assert_path(s, "hi|hello|q1|C1");
	assert_int_equal(s->msgs[3].nalt, 3);
	assert_int_equal(s->msgs[3].alt, 3);
	session_free(s);
}

/* Retrying a column alone: its earlier reply leaves the round on screen but stays stored
 * as the column's alternative; the new one takes its place in the row of replies. */
static void
test_retry_column(void **state)
{
	struct fixture *f = *state;
	static const char *const r1[] = { "A1", "B1" };
	struct session *s = session_new(f->st, "openai", "m"), *l;
	int64_t g;
	size_t r;

	g = round_of(s, "q1", r1, 2);
	assert_int_equal(session_retry_column(s, g, 0), 0);
	assert_path(s, "q1|B1");
	r = session_reply_open_slot(s, "openai", "A-again", g, 0);
	assert_int_equal(r, 1);
	answer(s, r, "A1 again");
	assert_path(s, "q1|A1 again|B1");
	assert_int_equal(s->msgs[1].slot, 0);
	assert_int_equal(s->msgs[1].nalt, 2);
	assert_int_equal(s->msgs[1].alt, 2);
	assert_int_equal(s->msgs[2].nalt, 1);
	assert_int_equal(parent_of(f->st, "A1 again"), id_of(f->st, "q1"));
	l = session_load(f->st, s->id);
	assert_path(l, "q1|A1 again|B1");
	assert_int_equal(l->msgs[1].nalt, 2);
	assert_int_equal(l->msgs[1].alt, 2);
	/* The column's earlier reply comes back; the other column stays. */
	assert_int_equal(session_switch(l, 1, -1), 0);
	assert_path(l, "q1|A1|B1");
	assert_int_equal(l->msgs[1].alt, 1);
	session_free(l);
	/* Kept: the three replies are alternatives of one turn. */
	assert_int_equal(session_pick(s, 0, 0), 0);
	assert_path(s, "q1|A1 again");
	assert_int_equal(s->msgs[1].nalt, 3);
	/* No round, no retry. */
	assert_int_equal(session_retry_column(s, 0, 0), -1);
	session_free(s);
}

/* Rounds stored before the tree keep their layout: rows without parents (before schema
 * 16) and rows in one line (schema 16 before rounds were trees) load as they were, a pick
 * keeps them whole, and the next prompt follows their last row. */
static void
test_old_rounds(void **state)
{
	struct fixture *f = *state;
	struct session *s;
	sqlite3 *db = store_handle(f->st);

	assert_int_equal(sqlite3_exec(db,
	    "INSERT INTO sessions (id, title, created, updated) VALUES (1, 'old', 1, 1),"
	    " (2, 'line', 1, 1);"
	    "INSERT INTO compare_groups (id, session_id, created) VALUES (1, 1, 1), (2, 2, 1);"
	    "INSERT INTO messages (session_id, seq, role, created_ms, content, compare_group,"
	    " slot) VALUES (1, 1, 'user', 1, 'old q', 1, NULL),"
	    " (1, 2, 'assistant', 2, 'old A', 1, 0), (1, 3, 'assistant', 3, 'old B', 1, 1);"
	    "INSERT INTO messages (id, session_id, seq, role, created_ms, content, compare_group,"
	    " slot, parent_id) VALUES (10, 2, 1, 'user', 1, 'line q', 2, NULL, 0),"
	    " (11, 2, 2, 'assistant', 2, 'line A', 2, 0, 10),"
	    " (12, 2, 3, 'assistant', 3, 'line B', 2, 1, 11);", NULL, NULL, NULL), SQLITE_OK);
	s = session_load(f->st, 1);
	assert_path(s, "old q|old A|old B");
	assert_true(s->msgs[1].flat && s->msgs[0].flat);
	assert_int_equal(session_pick(s, 0, 0), 0);
	assert_path(s, "old q|old A|old B");
	assert_request(s, "old q|old A");
	session_append_user(s, "old next");
	assert_int_equal(parent_of(f->st, "old next"), id_of(f->st, "old B"));
	session_free(s);
	s = session_load(f->st, 1);
	assert_path(s, "old q|old A|old B|old next");
	session_free(s);

	s = session_load(f->st, 2);
	assert_path(s, "line q|line A|line B");
	assert_true(s->msgs[2].flat);
	assert_int_equal(session_retry_column(s, s->msgs[1].compare_group, 0), -1);
	session_append_user(s, "line next");
	assert_int_equal(parent_of(f->st, "line next"), 12);
	session_free(s);
	s = session_load(f->st, 2);
	assert_path(s, "line q|line A|line B|line next");
	session_free(s);
}

/* A new comparison right after one nobody kept goes on from its first column, so both
 * stay on screen (and in a path export, as one line); a pick of the second keeps the
 * first whole and unsent. */
static void
test_two_comparisons(void **state)
{
	struct fixture *f = *state;
	static const char *const r1[] = { "A1", "B1" }, *const r2[] = { "C2", "D2", "E2" };
	struct session *s = session_new(f->st, "openai", "m"), *l;
	char *text;
	size_t from;

	round_of(s, "q1", r1, 2);
	from = s->nmsgs;
	round_of(s, "q2", r2, 3);
	assert_int_equal(parent_of(f->st, "q2"), id_of(f->st, "A1"));
	l = session_load(f->st, s->id);
	assert_path(l, "q1|A1|B1|q2|C2|D2|E2");
	session_free(l);
	/* Exported, the path is one line that natter import reads back: no parents. */
	text = export_session_tree(f->st, s->id, EXPORT_JSON, 0);
	assert_non_null(text);
	assert_non_null(strstr(text, "\"B1\""));
	assert_null(strstr(text, "\"parent\""));
	free(text);
	assert_int_equal(session_pick(s, from, 1), 0);
	assert_path(s, "q1|A1|B1|q2|D2");
	assert_request(s, "q2|D2");
	session_free(s);
}


/* A long session opened in part: every page brings its rounds nobody kept whole, so that
 * loading it page by page gives what loading it at once does. */
static void
test_pages_whole(void **state)
{
	struct fixture *f = *state;
	static const char *const r[] = { "A", "B", "C" };
	struct session *s = session_new(f->st, "openai", "m"), *whole, *part;
	char text[32];
	char *a, *b;
	int k;

	for (k = 0; k < 12; k++) {
		snprintf(text, sizeof(text), "q%d", k);
		session_append_user(s, text);
		reply(s, "r");
	}
	for (k = 0; k < 5; k++)
		round_of(s, "round", r, 3);
	whole = session_load(f->st, s->id);
	assert_int_equal(whole->nmsgs, 24 + 5 * 4);
	part = session_open(f->st, s->id, 2);
	assert_non_null(part);
	assert_true(session_partial(part));
	assert_int_equal(part->nmsgs, 4);  /* the last round, reached back to its prompt */
	assert_true(session_group_wide(part, 1));
	while (session_partial(part))
		assert_true(session_load_older(part, 3) > 0);
	a = path_of(whole);
	b = path_of(part);
	assert_string_equal(a, b);
	free(a);
	free(b);
	assert_int_equal(part->msgs[25].nalt, whole->msgs[25].nalt);
	session_free(whole);
	session_free(part);
	session_free(s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_pick_path, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unpicked_reachable, setup, teardown),
		cmocka_unit_test_setup_teardown(test_retry_column, setup, teardown),
		cmocka_unit_test_setup_teardown(test_old_rounds, setup, teardown),
		cmocka_unit_test_setup_teardown(test_two_comparisons, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pages_whole, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
