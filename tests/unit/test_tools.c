/*
 * The interface's tool call lines (ui/tools.c): the argument a line shows, made one safe
 * line, and the state a call is in, from the live turn while it runs and from the stored
 * result otherwise (refused and cancelled told from a failure by what natter wrote), each
 * call matched with its own result even when a later round reuses its id.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "app.h"

/* The argument shown: the first string argument, else the arguments, one safe line. */
static void
test_main_arg(void **state)
{
	struct buf b = BUF_INIT;

	(void)state;
	tools_main_arg("{\"n\":3,\"path\":\"/tmp/x\",\"mode\":\"r\"}", &b);
	assert_string_equal(buf_str(&b), "/tmp/x");
	tools_main_arg("{\"n\":3,\"deep\":{\"a\":\"b\"}}", &b);
	assert_string_equal(buf_str(&b), "{\"n\":3,\"deep\":{\"a\":\"b\"}}");
	tools_main_arg("{}", &b);
	assert_string_equal(buf_str(&b), "");
	tools_main_arg("{\"text\":\"two\\nlines\\tand a tab\"}", &b);
	assert_string_equal(buf_str(&b), "two lines and a tab");
	/* An escape sequence in an argument never reaches the terminal as one. */
	tools_main_arg("{\"text\":\"\\u001b]0;pwned\\u0007\"}", &b);
	assert_null(strchr(buf_str(&b), '\033'));
	assert_non_null(strstr(buf_str(&b), "\xef\xbf\xbd]0;pwned"));
	/* Arguments that are no JSON are shown as they came (made safe). */
	tools_main_arg("{\"text\":\"cut", &b);
	assert_string_equal(buf_str(&b), "{\"text\":\"cut");
	buf_free(&b);
}

/* A session of two rounds whose calls reuse the same ids, as some servers do. */
static struct session *
two_rounds(void)
{
	struct session *s = session_new(NULL, "p", "m");

	session_append_user(s, "go");                                   /* 0 */
	session_begin_reply(s, "p", "m");                               /* 1 */
	session_reply_end(s, MSG_COMPLETE, NULL, -1, "tool_calls", NULL);
	session_append_tool_call(s, "c1", "t__a", "{\"x\":\"1\"}", NULL, "p", "m", 0, -1); /* 2 */
	session_append_tool_call(s, "c2", "t__b", "{}", NULL, "p", "m", 0, -1);            /* 3 */
	session_append_tool_result(s, "c2", "t__b", "the user refused this call: no", 1, -1, 0,
	    -1);
	session_append_tool_result(s, "c1", "t__a", "fine", 0, 42, 0, -1);                 /* 5 */
	session_begin_reply(s, "p", "m");                               /* 6 */
	session_reply_end(s, MSG_COMPLETE, NULL, -1, "tool_calls", NULL);
	session_append_tool_call(s, "c1", "t__a", "{}", NULL, "p", "m", 0, -1);            /* 7 */
	session_append_tool_call(s, "c2", "t__b", "{}", NULL, "p", "m", 0, -1);            /* 8 */
	session_append_tool_result(s, "c2", "t__b", "boom", 1, 7, 0, -1);                  /* 9 */
	return s;
}

/* Stored calls: the result that follows each, its flag and what natter wrote in it. */
static void
test_stored_state(void **state)
{
	struct session *s = two_rounds();
	long res, ms;

	(void)state;
	assert_string_equal(tools_call_state(s, 2, NULL, &res, &ms), "ok");
	assert_int_equal(res, 5);
	assert_int_equal(ms, 42);
	assert_string_equal(tools_call_state(s, 3, NULL, &res, &ms), "refused");
	assert_int_equal(res, 4);
	assert_string_equal(tools_call_state(s, 8, NULL, &res, &ms), "error");
	assert_int_equal(res, 9);
	assert_int_equal(ms, 7);
	/* The second round's c1 has no result: the first round's is not its. */
	assert_string_equal(tools_call_state(s, 7, NULL, &res, &ms), "pending");
	assert_int_equal(res, -1);
	assert_int_equal(ms, -1);
	session_append_tool_result(s, "c1", "t__a", "the user cancelled this call", 1, 3, 0,
	    -1);
	assert_string_equal(tools_call_state(s, 7, NULL, &res, &ms), "cancelled");
	assert_int_equal(res, 10);
	session_free(s);

	/* A call left without a result (natter was killed) is not answered by a later
	 * round's result with the same id. */
	s = session_new(NULL, "p", "m");
	session_append_user(s, "go");
	session_append_tool_call(s, "c9", "t__a", "{}", NULL, "p", "m", 0, -1);            /* 1 */
	session_append_user(s, "again");
	session_append_tool_call(s, "c9", "t__a", "{}", NULL, "p", "m", 0, -1);            /* 3 */
	session_append_tool_result(s, "c9", "t__a", "natter stopped the tool loop: x", 1, 1, 0,
	    -1);
	assert_string_equal(tools_call_state(s, 1, NULL, &res, &ms), "pending");
	assert_string_equal(tools_call_state(s, 3, NULL, &res, &ms), "cancelled");
	session_free(s);
}

/* While the turn runs, its own state of a call wins; a finished turn's does not. */
static void
test_live_state(void **state)
{
	struct session *s = two_rounds();
	struct turn t;
	struct turn_call calls[2];
	long res, ms;

	(void)state;
	memset(&t, 0, sizeof t);
	memset(calls, 0, sizeof calls);
	calls[0].msg = 7;
	calls[0].state = CALL_ASKING;
	calls[0].duration_ms = -1;
	calls[1].msg = 8;
	calls[1].state = CALL_RUNNING;
	calls[1].duration_ms = -1;
	t.sess = s;
	t.calls = calls;
	t.ncalls = 2;
	assert_string_equal(tools_call_state(s, 7, &t, &res, &ms), "awaiting approval");
	assert_string_equal(tools_call_state(s, 8, &t, &res, &ms), "running");
	/* Calls of an earlier round are not in the turn: stored state. */
	assert_string_equal(tools_call_state(s, 2, &t, &res, &ms), "ok");
	t.done = 1;
	assert_string_equal(tools_call_state(s, 7, &t, &res, &ms), "pending");
	assert_string_equal(tools_call_state(s, 8, &t, &res, &ms), "error");
	session_free(s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_main_arg),
		cmocka_unit_test(test_stored_state),
		cmocka_unit_test(test_live_state),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
