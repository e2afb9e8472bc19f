/* Unit tests for the conversation model: context budget, titles, flush throttling with an
 * injected clock, request building and loading a stored session back. */
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
#include <utf8proc.h>

#include "buf.h"
#include "provider.h"
#include "request.h"
#include "session.h"
#include "store.h"
#include "xmalloc.h"

/* The test clock: whatever the test sets. */
static int64_t
fake_clock(void *arg)
{
	return *(int64_t *)arg;
}

/* A string of n copies of c. */
static char *
repeat(char c, size_t n)
{
	char *s = xmalloc(n + 1);

	memset(s, c, n);
	s[n] = '\0';
	return s;
}

/* Add a finished reply with the given state and text to an in-memory session. */
static void
add_reply(struct session *s, const char *text, enum msg_state state)
{
	session_begin_reply(s, NULL, NULL);
	session_reply_text(s, text, strlen(text));
	session_reply_end(s, state, NULL, -1, NULL, state == MSG_ERROR ? "HTTP 500" : NULL);
}

/* Token estimates round up: 0 bytes is 0, 1..4 bytes is 1, 5 is 2. */
static void
test_estimate(void **state)
{
	(void)state;
	assert_int_equal(session_estimate_tokens("", 0), 0);
	assert_int_equal(session_estimate_tokens("a", 1), 1);
	assert_int_equal(session_estimate_tokens("abcd", 4), 1);
	assert_int_equal(session_estimate_tokens("abcde", 5), 2);
}

/* The request for the main conversation within budget tokens (0: no limit), as a turn asks
 * for it; *dropped gets how many messages were left out. */
static struct request *
fit(const struct session *s, const struct provider *p, const char *model,
    const struct params *params, size_t budget, size_t *dropped)
{
	struct session_fit f = { .budget = budget };
	struct request *r = session_request_fit(s, p, model, params, s->nmsgs, -1, &f);

	if (dropped != NULL)
		*dropped = f.dropped;
	return r;
}

/* A small window drops the oldest exchanges, never the system prompt or the last prompt. */
static void
test_budget_drops_oldest(void **state)
{
	struct provider *p = provider_new("test", "openai", "http://127.0.0.1:1");
	struct session *s = session_new(NULL, "test", "m");
	char *hundred = repeat('x', 400);  /* 100 estimated tokens */
	struct request *r;
	struct params params;
	size_t dropped = 99;
	int i;

	(void)state;
	session_set_system(s, "system words");  /* 12 bytes: 3 tokens */
	for (i = 0; i < 4; i++) {
		hundred[0] = (char)('a' + i);
		session_append_user(s, hundred);
		hundred[0] = (char)('A' + i);
		add_reply(s, hundred, MSG_COMPLETE);
	}
	hundred[0] = 'z';
	session_append_user(s, hundred);

	/* No limit: everything goes. */
	r = fit(s, p, NULL, NULL, 0, &dropped);
	assert_int_equal(dropped, 0);
	assert_int_equal(r->nmsgs, 9);
	assert_string_equal(r->system, "system words");
	assert_string_equal(r->model, "m");
	request_free(r);

	/* 903 tokens into 350: three exchanges (six messages) must go. */
	r = fit(s, p, "other", NULL, 350, &dropped);
	assert_int_equal(dropped, 6);
	assert_int_equal(r->nmsgs, 3);
	assert_int_equal(r->msgs[0].role, ROLE_USER);
	assert_int_equal(r->msgs[0].content[0], 'd');
	assert_int_equal(r->msgs[1].role, ROLE_ASSISTANT);
	assert_int_equal(r->msgs[1].content[0], 'D');
	assert_int_equal(r->msgs[2].role, ROLE_USER);
	assert_int_equal(r->msgs[2].content[0], 'z');
	assert_string_equal(r->model, "other");
	request_free(r);

	/* Exactly fitting keeps it: 3 + 3 * 100 = 303. */
	r = fit(s, p, NULL, NULL, 303, &dropped);
	assert_int_equal(dropped, 6);
	request_free(r);
	r = fit(s, p, NULL, NULL, 503, &dropped);
	assert_int_equal(dropped, 4);
	request_free(r);

	/* A window too small for anything still sends the system prompt and last prompt. */
	r = fit(s, p, NULL, NULL, 1, &dropped);
	assert_int_equal(dropped, 8);
	assert_int_equal(r->nmsgs, 1);
	assert_int_equal(r->msgs[0].content[0], 'z');
	assert_non_null(r->system);
	request_free(r);

	/* max_tokens is reserved for the reply by the turn (turn_reserve): 603 - 300 leaves
	 * room for 303, and the parameters travel with the request. */
	memset(&params, 0, sizeof(params));
	params.set = PARAM_MAX_TOKENS | PARAM_TEMPERATURE;
	params.max_tokens = 300;
	params.temperature = 0.5;
	r = fit(s, p, NULL, &params, 603 - (size_t)params.max_tokens, &dropped);
	assert_int_equal(dropped, 6);
	assert_true(r->params.set & PARAM_TEMPERATURE);
	assert_true(r->params.temperature == 0.5);
	request_free(r);

	free(hundred);
	session_free(s);
	provider_free(p);
}

/* Failed and empty cancelled or interrupted replies stay out of the history; partial ones
 * stay in. */
static void
test_request_roles_and_exclusions(void **state)
{
	struct provider *p = provider_new("test", "openai", "http://127.0.0.1:1");
	struct session *s = session_new(NULL, "test", "m");
	struct request *r;
	size_t dropped;

	(void)state;
	session_append_user(s, "first");
	add_reply(s, "partial then boom", MSG_ERROR);
	session_append_user(s, "second");
	session_begin_reply(s, NULL, NULL);
	session_reply_end(s, MSG_CANCELLED, NULL, -1, NULL, NULL);  /* cancelled, no text */
	session_append_user(s, "third");
	add_reply(s, "cut short", MSG_CANCELLED);
	add_reply(s, "long answer", MSG_TRUNCATED);
	session_begin_reply(s, NULL, NULL);
	session_reply_end(s, MSG_INTERRUPTED, NULL, -1, NULL, NULL);  /* interrupted, no text */
	add_reply(s, "half a thought", MSG_INTERRUPTED);
	session_append_user(s, "fourth");
	session_begin_reply(s, NULL, NULL);  /* the reply being requested: still empty */

	r = fit(s, p, NULL, NULL, 0, &dropped);
	assert_null(r->system);
	assert_int_equal(r->nmsgs, 7);
	assert_string_equal(r->msgs[0].content, "first");
	assert_string_equal(r->msgs[1].content, "second");
	assert_string_equal(r->msgs[2].content, "third");
	assert_int_equal(r->msgs[3].role, ROLE_ASSISTANT);
	assert_string_equal(r->msgs[3].content, "cut short");
	assert_string_equal(r->msgs[4].content, "long answer");
	assert_string_equal(r->msgs[5].content, "half a thought");
	assert_string_equal(r->msgs[6].content, "fourth");
	assert_int_equal(r->msgs[6].role, ROLE_USER);
	request_free(r);
	session_free(s);
	provider_free(p);
}

/* Display width of a UTF-8 string in terminal columns. */
static int
columns(const char *s)
{
	const utf8proc_uint8_t *p = (const utf8proc_uint8_t *)s;
	utf8proc_int32_t cp;
	utf8proc_ssize_t k;
	int w = 0;

	while (*p != '\0') {
		k = utf8proc_iterate(p, -1, &cp);
		assert_true(k > 0);  /* valid UTF-8 throughout */
		w += utf8proc_charwidth(cp);
		p += k;
	}
	return w;
}

/* Titles: first non-blank line, trimmed, at most 48 columns, cut between characters. */
static void
test_title(void **state)
{
	char *t, *long_ascii, *prompt;
	struct buf b = BUF_INIT;
	int i;

	(void)state;
	t = session_title_from_prompt("  \n\n\t Hello world  \r\nsecond line");
	assert_string_equal(t, "Hello world");
	free(t);
	t = session_title_from_prompt(" \n \t ");
	assert_string_equal(t, "untitled");
	free(t);
	t = session_title_from_prompt("\xff\xfe");  /* only invalid bytes (found by fuzzing) */
	assert_string_equal(t, "untitled");
	free(t);
	t = session_title_from_prompt("\x01\x1b abc\x7f");
	assert_string_equal(t, "abc");
	free(t);
	t = session_title_from_prompt("tab\there");
	assert_string_equal(t, "tab here");
	free(t);

	long_ascii = repeat('a', 60);
	t = session_title_from_prompt(long_ascii);
	assert_int_equal(columns(t), 48);
	assert_int_equal(strncmp(t, long_ascii, 47), 0);
	assert_string_equal(t + 47, "\xe2\x80\xa6");
	free(t);
	long_ascii[48] = '\0';  /* exactly 48 columns fits as is */
	t = session_title_from_prompt(long_ascii);
	assert_string_equal(t, long_ascii);
	free(t);
	free(long_ascii);

	/* Two-byte characters: 47 of them and the ellipsis, no half character. */
	for (i = 0; i < 60; i++)
		buf_puts(&b, "\xc3\xa9");
	t = session_title_from_prompt(buf_str(&b));
	assert_int_equal(columns(t), 48);
	assert_int_equal(strlen(t), 47 * 2 + 3);
	free(t);
	buf_reset(&b);

	/* Wide characters take two columns: 23 fit beside the ellipsis. */
	for (i = 0; i < 30; i++)
		buf_puts(&b, "\xe6\xbc\xa2");
	t = session_title_from_prompt(buf_str(&b));
	assert_int_equal(columns(t), 47);
	assert_int_equal(strlen(t), 23 * 3 + 3);
	free(t);
	buf_free(&b);

	/* A cut that lands after a space does not leave it dangling before the ellipsis. */
	prompt = xasprintf("%s %s", "0123456789012345678901234567890123456789012345", "tail words");
	t = session_title_from_prompt(prompt);
	assert_string_equal(t, "0123456789012345678901234567890123456789012345\xe2\x80\xa6");
	free(t);
	free(prompt);
}

/* Stored sessions: the first token is written at once, later flushes wait for the
 * interval, the end always writes, timings come from the injected clock, and loading reads
 * it all back. */
static void
test_flush_throttle(void **state)
{
	char dir[] = "/tmp/natter-session.XXXXXX";
	struct message_row *ms;
	struct session *s, *l;
	struct store *st;
	struct usage u = USAGE_NONE;
	int64_t now = 1000;
	char *path, *err = NULL, *cmd;
	size_t n, r;

	(void)state;
	assert_non_null(mkdtemp(dir));
	path = xasprintf("%s/natter.db", dir);
	st = store_open(path, &err);
	assert_non_null(st);

	s = session_new(st, "openai", "gpt-4o");
	session_set_clock(s, fake_clock, &now);
	session_set_system(s, "be terse");
	assert_int_equal(s->id, 0);  /* nothing stored before the first message */
	session_append_user(s, "What is WAL?\nDetails follow.");
	assert_true(s->id > 0);
	assert_string_equal(s->title, "What is WAL?");
	r = session_begin_reply(s, NULL, NULL);
	assert_int_equal(r, 1);
	assert_true(s->msgs[r].id > 0);
	assert_int_equal(s->msgs[r].state, MSG_STREAMING);

	assert_int_equal(session_reply_flush(s), 0);  /* nothing new */
	now = 1050;
	session_reply_text(s, "Wri", 3);
	session_reply_reasoning(s, "hmm", 3);
	assert_int_equal(s->msgs[r].ttft_ms, 50);
	/* The first token is written at once, not flush_ms after the reply began. */
	assert_int_equal(session_reply_flush(s), 1);
	assert_int_equal(session_reply_flush(s), 0);  /* written, not dirty */
	assert_int_equal(store_messages(st, s->id, &ms, &n), 0);
	assert_string_equal(ms[1].content, "Wri");
	assert_string_equal(ms[1].reasoning, "hmm");
	store_messages_free(ms, n);

	/* Then on the timer: flush_ms after that first write. */
	now = 1100;
	session_reply_text(s, "te-", 3);
	now = 1249;
	assert_int_equal(session_reply_flush(s), 0);
	assert_int_equal(store_messages(st, s->id, &ms, &n), 0);
	assert_string_equal(ms[1].content, "Wri");  /* throttled: not written yet */
	store_messages_free(ms, n);
	now = 1250;
	assert_int_equal(session_reply_flush(s), 1);
	assert_int_equal(store_messages(st, s->id, &ms, &n), 0);
	assert_string_equal(ms[1].content, "Write-");
	store_messages_free(ms, n);

	now = 1300;
	session_reply_text(s, "ahead log", 9);
	now = 1449;
	assert_int_equal(session_reply_flush(s), 0);
	assert_int_equal(store_messages(st, s->id, &ms, &n), 0);
	assert_string_equal(ms[1].content, "Write-");  /* throttled: not written yet */
	store_messages_free(ms, n);
	now = 1450;
	assert_int_equal(session_reply_flush(s), 1);

	now = 3000;
	u.input_tokens = 12;
	u.output_tokens = 34;
	assert_int_equal(session_reply_end(s, MSG_COMPLETE, &u, 0.01, "stop", NULL), 0);
	assert_int_equal(s->reply, -1);
	session_free(s);

	l = session_load(st, 1);
	assert_non_null(l);
	assert_string_equal(l->title, "What is WAL?");
	assert_string_equal(l->system, "be terse");
	assert_string_equal(l->model, "gpt-4o");
	assert_int_equal(l->nmsgs, 2);
	assert_string_equal(l->msgs[1].content.data, "Write-ahead log");
	assert_string_equal(l->msgs[1].reasoning.data, "hmm");
	assert_int_equal(l->msgs[1].state, MSG_COMPLETE);
	assert_int_equal(l->msgs[1].ttft_ms, 50);
	assert_int_equal(l->msgs[1].duration_ms, 2000);
	assert_int_equal(l->msgs[1].input_tokens, 12);
	assert_int_equal(l->msgs[1].output_tokens, 34);
	assert_string_equal(l->msgs[1].finish_reason, "stop");
	assert_string_equal(l->msgs[1].model, "gpt-4o");
	session_free(l);
	assert_null(session_load(st, 42));

	store_close(st);
	cmd = xasprintf("rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
	free(cmd);
	free(path);
}

/* The bytes of message id's content column in the database at path, or -1. */
static long
head_bytes(const char *path, int64_t id)
{
	sqlite3 *db;
	sqlite3_stmt *q = NULL;
	long n = -1;

	if (sqlite3_open(path, &db) != SQLITE_OK)
		return -1;
	if (sqlite3_prepare_v2(db, "SELECT length(CAST(content AS BLOB)) FROM messages"
	    " WHERE id = ?1", -1, &q, NULL) == SQLITE_OK) {
		sqlite3_bind_int64(q, 1, id);
		if (sqlite3_step(q) == SQLITE_ROW)
			n = sqlite3_column_int(q, 0);
	}
	sqlite3_finalize(q);
	sqlite3_close(db);
	return n;
}

/*
 * A reply longer than STORE_SPILL_AT is stored whole without being rewritten: loaded back
 * it is all there, byte for byte. With drop_text (natter ask) the stored text leaves
 * memory as it is written, the estimate of its tokens still counts all of it, and the
 * session stores the whole reply all the same; without a store nothing is kept at all.
 */
static void
test_long_reply_stored(void **state)
{
	char dir[] = "/tmp/natter-session.XXXXXX";
	struct session *s, *l;
	struct store *st;
	struct buf all = BUF_INIT;
	struct message_row *ms;
	int64_t now = 1000;
	char *path, *err = NULL, *cmd, piece[1000];
	size_t r, k, n;
	int64_t l_id;
	int drop;

	(void)state;
	assert_non_null(mkdtemp(dir));
	path = xasprintf("%s/natter.db", dir);
	st = store_open(path, &err);
	assert_non_null(st);
	memset(piece, 'x', sizeof(piece));
	for (k = 0; k < 3000; k++) {
		snprintf(piece, sizeof(piece), "line %zu ", k);
		piece[strlen(piece)] = 'x';
		piece[sizeof(piece) - 1] = '\n';
		buf_append(&all, piece, sizeof(piece));
	}
	for (drop = 0; drop < 2; drop++) {
		s = session_new(st, "openai", "gpt-4o");
		session_set_clock(s, fake_clock, &now);
		s->drop_text = drop;
		session_append_user(s, "a long one");
		r = session_begin_reply(s, NULL, NULL);
		for (k = 0; k < all.len; k += 1000) {
			session_reply_text(s, all.data + k, 1000);
			now += 1000;
			session_reply_flush(s);
			/* Kept: everything; dropped: less than a megabyte and a piece. */
			if (drop)
				assert_true(s->msgs[r].content.len <= STORE_SPILL_ROW + 1000);
			else
				assert_int_equal(s->msgs[r].content.len, k + 1000);
		}
		assert_int_equal(s->msgs[r].spill, 1);
		if (drop)
			assert_true(s->msgs[r].dropped > 0);
		assert_int_equal(s->msgs[r].dropped + s->msgs[r].content.len, all.len);
		assert_int_equal(session_reply_end(s, MSG_COMPLETE, NULL, -1, "stop", NULL), 0);
		l_id = s->msgs[r].id;
		l = session_load(st, s->id);
		assert_non_null(l);
		assert_int_equal(l->nmsgs, 2);
		assert_int_equal(l->msgs[1].content.len, all.len);
		assert_memory_equal(l->msgs[1].content.data, all.data, all.len);
		assert_int_equal(l->msgs[1].state, MSG_COMPLETE);
		session_free(l);
		session_free(s);
		/* The content column holds its first megabyte, the rest follows in rows. */
		assert_int_equal(head_bytes(path, l_id), STORE_SPILL_AT);
		/* Indexed once, every word of it: its parts add up to the text. */
		assert_int_equal(store_check(st, &err), 0);
		assert_null(err);
		assert_int_equal(store_search(st, "2999", &ms, &n, 10), 0);
		assert_int_equal(n, drop + 1);
		store_messages_free(ms, n);
	}

	/* No store: the text went to the front end and nothing keeps it. */
	s = session_new(NULL, "openai", "gpt-4o");
	s->drop_text = 1;
	session_append_user(s, "a long one");
	r = session_begin_reply(s, NULL, NULL);
	for (k = 0; k < all.len; k += 1000) {
		session_reply_text(s, all.data + k, 1000);
		session_reply_flush(s);
	}
	assert_true(s->msgs[r].content.len <= STORE_SPILL_ROW + 1000);
	assert_int_equal(s->msgs[r].dropped + s->msgs[r].content.len, all.len);
	session_free(s);

	buf_free(&all);
	store_close(st);
	cmd = xasprintf("rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
	free(cmd);
	free(path);
}

/* The request's messages joined as "role:content|...", for compact comparisons. */
static char *
history(const struct request *r)
{
	struct buf b = BUF_INIT;
	size_t i;

	for (i = 0; i < r->nmsgs; i++)
		buf_printf(&b, "%s%c:%s", i ? "|" : "", r->msgs[i].role == ROLE_USER ? 'u' : 'a',
		    r->msgs[i].content);
	return buf_detach(&b);
}

/* Check the history that one view of the session sends (col -1: the main conversation). */
static void
assert_history(const struct session *s, const struct provider *p, size_t from, int col,
    const char *want)
{
	struct session_fit f = { 0 };
	struct request *r = session_request_fit(s, p, NULL, NULL, col < 0 ? s->nmsgs : from, col,
	    &f);
	char *got = history(r);

	assert_string_equal(got, want);
	free(got);
	request_free(r);
}

/* Run one comparison round: the prompt, then each column's reply (NULL: an error). */
static size_t
add_round(struct session *s, const char *prompt, const char *const *replies, int n)
{
	size_t first = 0, r[4];
	int64_t g;
	int c;

	session_append_round(s, prompt, &g);
	for (c = 0; c < n; c++) {
		r[c] = session_reply_open(s, "test", replies[c] ? replies[c] : "bad", g);
		if (c == 0)
			first = r[c];
	}
	/* Deltas arrive interleaved and the replies end in reverse order. */
	for (c = 0; c < n; c++)
		if (replies[c] != NULL)
			session_reply_text_at(s, r[c], replies[c], strlen(replies[c]));
	for (c = n; c-- > 0;)
		session_reply_close(s, r[c], replies[c] ? MSG_COMPLETE : MSG_ERROR, NULL, -1, NULL,
		    replies[c] ? NULL : "HTTP 500");
	return first;
}

/* Each column of a comparison sees the chat before it, every prompt of the comparison and
 * its own replies; the main conversation sees no round until a column is picked, then the
 * prompts with that column's replies. */
static void
test_compare_histories(void **state)
{
	struct provider *p = provider_new("test", "openai", "http://127.0.0.1:1");
	struct session *s = session_new(NULL, "test", "m");
	static const char *const r1[] = { "A1", "B1", NULL };
	static const char *const r2[] = { "A2", "B2", "C2" };
	size_t from, first, n;

	(void)state;
	session_append_user(s, "hi");
	add_reply(s, "hello", MSG_COMPLETE);
	from = s->nmsgs;
	first = add_round(s, "q1", r1, 3);
	assert_int_equal(first, from + 1);
	assert_int_equal(s->nopen, 0);
	add_round(s, "q2", r2, 3);
	assert_true(s->msgs[from].compare_group != 0);
	assert_true(s->msgs[from].compare_group != s->msgs[from + 4].compare_group);
	assert_int_equal(s->msgs[from + 2].slot, 1);
	assert_int_equal(s->msgs[from + 2].state, MSG_COMPLETE);
	assert_int_equal(s->msgs[from + 3].state, MSG_ERROR);

	n = session_group_span(s, from + 2, &first);
	assert_int_equal(n, 3);
	assert_int_equal(first, from + 1);
	assert_int_equal(session_group_span(s, from, &first), 0);  /* the prompt */
	assert_int_equal(session_group_span(s, 1, &first), 0);     /* an ordinary reply */

	assert_history(s, p, from, 0, "u:hi|a:hello|u:q1|a:A1|u:q2|a:A2");
	assert_history(s, p, from, 1, "u:hi|a:hello|u:q1|a:B1|u:q2|a:B2");
	assert_history(s, p, from, 2, "u:hi|a:hello|u:q1|u:q2|a:C2");  /* its error is left out */
	assert_history(s, p, 0, -1, "u:hi|a:hello");  /* nothing kept yet */

	assert_int_equal(session_pick(s, from, 1), 0);
	assert_history(s, p, 0, -1, "u:hi|a:hello|u:q1|a:B1|u:q2|a:B2");
	session_append_user(s, "go on");
	assert_history(s, p, 0, -1, "u:hi|a:hello|u:q1|a:B1|u:q2|a:B2|u:go on");

	session_free(s);
	provider_free(p);
}

/* Stored comparisons: the replies of a round share its group, several stream and flush at
 * once, loading brings back the columns, and after a pick the kept reply with the other
 * as its alternative. */
static void
test_compare_stored(void **state)
{
	char dir[] = "/tmp/natter-session.XXXXXX";
	struct session *s, *l;
	struct store *st;
	int64_t now = 1000, g;
	char *path, *err = NULL, *cmd;
	size_t a, b;
	struct message_row *ms;
	size_t n;

	(void)state;
	assert_non_null(mkdtemp(dir));
	path = xasprintf("%s/natter.db", dir);
	st = store_open(path, &err);
	assert_non_null(st);
	s = session_new(st, "openai", "m1");
	session_set_clock(s, fake_clock, &now);
	session_append_round(s, "compare this", &g);
	assert_true(g > 0);
	assert_true(s->id > 0);
	a = session_reply_open(s, "openai", "m1", g);
	b = session_reply_open(s, "anthropic", "m2", g);
	assert_int_equal(s->nopen, 2);
	now = 1100;
	session_reply_text_at(s, b, "bee", 3);
	now = 1150;
	session_reply_text_at(s, a, "ay", 2);
	assert_int_equal(s->msgs[b].ttft_ms, 100);
	assert_int_equal(s->msgs[a].ttft_ms, 150);
	now = 1250;
	assert_int_equal(session_reply_flush(s), 1);  /* both write their first tokens at once */
	assert_int_equal(s->dirty, 0);
	/* The path goes through one column; the round comes whole with the others. */
	assert_int_equal(store_messages(st, s->id, &ms, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(store_rounds_whole(st, &ms, &n), 0);
	assert_int_equal(n, 3);
	assert_string_equal(ms[1].content, "ay");
	assert_string_equal(ms[2].content, "bee");
	assert_true(ms[0].compare_group == g && ms[1].compare_group == g &&
	    ms[2].compare_group == g);
	store_messages_free(ms, n);
	now = 1300;
	session_reply_text_at(s, a, "e", 1);
	assert_int_equal(session_reply_close(s, b, MSG_CANCELLED, NULL, -1, NULL, NULL), 0);
	assert_int_equal(s->dirty, 1);  /* a still has unsaved text */
	now = 1400;
	assert_int_equal(session_reply_close(s, a, MSG_COMPLETE, NULL, -1, NULL, NULL), 0);
	assert_int_equal(s->nopen, 0);
	assert_int_equal(s->msgs[a].duration_ms, 400);
	/* Before a pick the round loads whole: each column's reply, side by side. */
	l = session_load(st, 1);
	assert_non_null(l);
	assert_int_equal(l->nmsgs, 3);
	assert_int_equal(l->msgs[1].slot, 0);
	assert_int_equal(l->msgs[2].slot, 1);
	assert_int_equal(l->msgs[2].pick, -1);
	assert_string_equal(l->msgs[1].content.data, "aye");
	assert_int_equal(session_group_span(l, 1, &a), 2);
	session_free(l);
	assert_int_equal(session_pick(s, 0, 1), 0);
	/* The pick: the path goes through the kept reply, the other its alternative. */
	assert_int_equal(s->nmsgs, 2);
	session_free(s);

	l = session_load(st, 1);
	assert_non_null(l);
	assert_int_equal(l->nmsgs, 2);
	assert_int_equal(l->msgs[1].slot, 1);
	assert_int_equal(l->msgs[0].pick, 1);
	assert_int_equal(l->msgs[1].pick, 1);
	assert_string_equal(l->msgs[1].content.data, "bee");
	assert_int_equal(l->msgs[1].state, MSG_CANCELLED);
	assert_int_equal(l->msgs[1].nalt, 2);
	assert_int_equal(l->msgs[1].alt, 2);
	assert_int_equal(l->msgs[1].cols, 2);
	assert_int_equal(session_group_span(l, 1, &a), 1);
	session_free(l);
	store_close(st);
	cmd = xasprintf("rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
	free(cmd);
	free(path);
}

/* Issue 11: a reply's signed reasoning is stored, loaded back, and goes into the next
 * request to the same provider and model only. */
static void
test_signed_reasoning(void **state)
{
	char dir[] = "/tmp/natter-session.XXXXXX";
	struct provider *ant = provider_new("anthropic", "anthropic", "http://127.0.0.1:1");
	struct provider *other = provider_new("other", "anthropic", "http://127.0.0.1:1");
	struct session *s, *l;
	struct store *st;
	struct request *r;
	struct reply_end e = { MSG_COMPLETE, NULL, -1, NULL, NULL, -1, -1, "c2ln" };
	char *path, *err = NULL, *cmd;
	size_t i;

	(void)state;
	assert_non_null(mkdtemp(dir));
	path = xasprintf("%s/natter.db", dir);
	st = store_open(path, &err);
	assert_non_null(st);
	s = session_new(st, "anthropic", "claude-x");
	session_append_user(s, "think");
	i = session_begin_reply(s, "anthropic", "claude-x");
	session_reply_reasoning(s, "hm", 2);
	session_reply_text(s, "Hi", 2);
	assert_int_equal(session_reply_finish(s, i, &e), 0);
	session_begin_reply(s, "anthropic", "claude-x");  /* an unsigned reply */
	session_reply_reasoning(s, "no", 2);
	session_reply_text(s, "Yo", 2);
	session_reply_end(s, MSG_COMPLETE, NULL, -1, NULL, NULL);
	session_append_user(s, "more");
	session_free(s);

	l = session_load(st, 1);
	assert_non_null(l);
	assert_int_equal(l->nmsgs, 4);
	assert_non_null(l->msgs[1].signature);
	assert_string_equal(l->msgs[1].signature, "c2ln");
	assert_null(l->msgs[2].signature);
	r = fit(l, ant, "claude-x", NULL, 0, NULL);
	assert_int_equal(r->nmsgs, 4);
	assert_string_equal(r->msgs[1].signature, "c2ln");
	assert_string_equal(r->msgs[1].reasoning, "hm");
	assert_null(r->msgs[2].signature);
	request_free(r);
	r = fit(l, ant, "claude-y", NULL, 0, NULL);
	assert_null(r->msgs[1].signature);
	request_free(r);
	r = fit(l, other, "claude-x", NULL, 0, NULL);
	assert_null(r->msgs[1].signature);
	request_free(r);
	session_free(l);
	store_close(st);
	provider_free(ant);
	provider_free(other);
	cmd = xasprintf("rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
	free(cmd);
	free(path);
}

/* The label of session row i of the store's list (newest first). */
static char *
row_label(struct store *st, size_t i)
{
	struct session_row *rows;
	struct buf b = BUF_INIT;
	size_t n;

	assert_int_equal(store_sessions(st, &rows, &n, 0), 0);
	assert_true(i < n);
	session_row_label(&rows[i], &b);
	store_sessions_free(rows, n);
	return buf_detach(&b);
}

/* Add one comparison round to s whose replies come from prov[k]/model[k] in state st[k]. */
static void
stored_round(struct session *s, const char **prov, const char **model,
    const enum msg_state *st, size_t n)
{
	int64_t g;
	size_t k, r;

	session_append_round(s, "compare", &g);
	for (k = 0; k < n; k++) {
		r = session_reply_open(s, prov[k], model[k], g);
		session_reply_text_at(s, r, "text", 4);
		session_reply_close(s, r, st[k], NULL, -1, NULL, st[k] == MSG_ERROR ? "boom" : NULL);
	}
}

/* Short names: the id alone, or provider/model when another has the same id. A session
 * is listed under its own model when it answered; a comparison session whose model never
 * did is listed under the models that answered, told apart, or the ones asked. */
static void
test_row_label(void **state)
{
	char dir[] = "/tmp/natter-label.XXXXXX";
	const char *p[] = { "openai", "anthropic", "openai" };
	const char *m[] = { "mock-model", "mock-model", "m-bad" };
	const enum msg_state ok3[] = { MSG_COMPLETE, MSG_COMPLETE, MSG_ERROR };
	const enum msg_state bad2[] = { MSG_ERROR, MSG_ERROR };
	const char *m2[] = { "m-a", "m-b" };
	struct buf b = BUF_INIT;
	struct session *s;
	struct store *st;
	char *path, *err = NULL, *l, *cmd;

	(void)state;
	session_short_name(p, m, 3, 1, &b);
	assert_string_equal(buf_str(&b), "anthropic/mock-model");
	buf_reset(&b);
	session_short_name(p, m, 3, 2, &b);
	assert_string_equal(buf_str(&b), "m-bad");
	buf_free(&b);

	assert_non_null(mkdtemp(dir));
	path = xasprintf("%s/natter.db", dir);
	st = store_open(path, &err);
	assert_non_null(st);
	/* A plain chat: its own model. */
	s = session_new(st, "openai", "m-main");
	session_append_user(s, "hello");
	session_free(s);
	l = row_label(st, 0);
	assert_string_equal(l, "m-main");
	free(l);
	/* Started on m-main, then a comparison: the two that answered, told apart. */
	s = session_new(st, "openai", "m-main");
	stored_round(s, p, m, ok3, 3);
	l = row_label(st, 0);
	assert_string_equal(l, "compare: openai/mock-model, anthropic/mock-model");
	free(l);
	/* Once a column is kept, the session's model is the one that answered. */
	session_set_model(s, "anthropic", "mock-model");
	l = row_label(st, 0);
	assert_string_equal(l, "mock-model");
	free(l);
	session_free(s);
	/* Nobody answered: the models asked. */
	s = session_new(st, "openai", "m-main");
	stored_round(s, p, m2, bad2, 2);
	l = row_label(st, 0);
	assert_string_equal(l, "compare: m-a, m-b");
	free(l);
	/* Its own model answered before the comparison: still its own. */
	session_free(s);
	s = session_new(st, "openai", "m-a");
	stored_round(s, p, m2, ok3, 2);
	l = row_label(st, 0);
	assert_string_equal(l, "m-a");
	free(l);
	session_free(s);
	store_close(st);
	cmd = xasprintf("rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
	free(cmd);
	free(path);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_estimate),
		cmocka_unit_test(test_budget_drops_oldest),
		cmocka_unit_test(test_request_roles_and_exclusions),
		cmocka_unit_test(test_title),
		cmocka_unit_test(test_flush_throttle),
		cmocka_unit_test(test_long_reply_stored),
		cmocka_unit_test(test_compare_histories),
		cmocka_unit_test(test_compare_stored),
		cmocka_unit_test(test_signed_reasoning),
		cmocka_unit_test(test_row_label),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
