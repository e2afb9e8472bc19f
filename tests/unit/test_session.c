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

#include <utf8proc.h>

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
	r = session_to_request(s, p, NULL, NULL, 0, &dropped);
	assert_int_equal(dropped, 0);
	assert_int_equal(r->nmsgs, 9);
	assert_string_equal(r->system, "system words");
	assert_string_equal(r->model, "m");
	request_free(r);

	/* 903 tokens into 350: three exchanges (six messages) must go. */
	r = session_to_request(s, p, "other", NULL, 350, &dropped);
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
	r = session_to_request(s, p, NULL, NULL, 303, &dropped);
	assert_int_equal(dropped, 6);
	request_free(r);
	r = session_to_request(s, p, NULL, NULL, 503, &dropped);
	assert_int_equal(dropped, 4);
	request_free(r);

	/* A window too small for anything still sends the system prompt and last prompt. */
	r = session_to_request(s, p, NULL, NULL, 1, &dropped);
	assert_int_equal(dropped, 8);
	assert_int_equal(r->nmsgs, 1);
	assert_int_equal(r->msgs[0].content[0], 'z');
	assert_non_null(r->system);
	request_free(r);

	/* max_tokens is reserved for the reply: 603 - 300 leaves room for 303. */
	memset(&params, 0, sizeof(params));
	params.set = PARAM_MAX_TOKENS | PARAM_TEMPERATURE;
	params.max_tokens = 300;
	params.temperature = 0.5;
	r = session_to_request(s, p, NULL, &params, 603, &dropped);
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

	r = session_to_request(s, p, NULL, NULL, 0, &dropped);
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

/* Stored sessions: flushes wait for the interval, the end always writes, timings come
 * from the injected clock, and loading reads it all back. */
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
	session_reply_text(s, "Write-", 6);
	session_reply_reasoning(s, "hmm", 3);
	assert_int_equal(s->msgs[r].ttft_ms, 50);
	assert_int_equal(session_reply_flush(s), 0);  /* 50 ms since begin */
	now = 1199;
	assert_int_equal(session_reply_flush(s), 0);
	now = 1200;
	assert_int_equal(session_reply_flush(s), 1);
	assert_int_equal(session_reply_flush(s), 0);  /* written, not dirty */
	assert_int_equal(store_messages(st, s->id, &ms, &n), 0);
	assert_string_equal(ms[1].content, "Write-");
	assert_string_equal(ms[1].reasoning, "hmm");
	store_messages_free(ms, n);

	now = 1250;
	session_reply_text(s, "ahead log", 9);
	now = 1399;
	assert_int_equal(session_reply_flush(s), 0);
	assert_int_equal(store_messages(st, s->id, &ms, &n), 0);
	assert_string_equal(ms[1].content, "Write-");  /* throttled: not written yet */
	store_messages_free(ms, n);
	now = 1400;
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

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_estimate),
		cmocka_unit_test(test_budget_drops_oldest),
		cmocka_unit_test(test_request_roles_and_exclusions),
		cmocka_unit_test(test_title),
		cmocka_unit_test(test_flush_throttle),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
