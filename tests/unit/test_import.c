/* Unit tests for natter import and metrics below the command line: the export's time
 * format parsed back (leap days, bad fields), import_parse's paths for bad fields, a parsed
 * export stored with store_session_import and exported again unchanged, a store failure
 * rolled back whole, and store_usage's sums, unknown costs and medians. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <unistd.h>

#include <sqlite3.h>

#include "export.h"
#include "import.h"
#include "store.h"
#include "xmalloc.h"

/* A reply of model m with the given figures (cost -1: none). */
#define REPLY(m, in, out, cost, ttft, dur) \
	"{\"id\": 2, \"role\": \"assistant\", \"content\": \"ok\", \"reasoning\": null," \
	" \"provider\": \"p\", \"model\": \"" m "\", \"created\": \"2026-01-02T03:04:06.789Z\"," \
	" \"state\": \"complete\", \"error\": null, \"finish_reason\": \"stop\"," \
	" \"input_tokens\": " #in ", \"output_tokens\": " #out ", \"cost\": " cost "," \
	" \"ttft_ms\": " #ttft ", \"duration_ms\": " #dur ", \"compare_group\": null," \
	" \"compare_column\": null, \"compare_kept\": null, \"pinned\": false}"

/* A tool call (role tool_call) or result (tool) message: role, call id, tool name, text
 * and whether it failed, as JSON fragments. */
#define TOOLMSG(role, id, name, text, error) \
	"{\"id\": 3, \"role\": \"" role "\", \"content\": \"" text "\", \"reasoning\": null," \
	" \"provider\": null, \"model\": null, \"created\": \"2026-01-02T03:04:07.000Z\"," \
	" \"state\": \"complete\", \"error\": null, \"finish_reason\": null," \
	" \"input_tokens\": null, \"output_tokens\": null, \"cost\": null," \
	" \"ttft_ms\": null, \"duration_ms\": 12, \"compare_group\": null," \
	" \"compare_column\": null, \"compare_kept\": null, \"pinned\": false," \
	" \"tool_id\": " id ", \"tool_name\": " name ", \"tool_error\": " error "}"

/* A session around messages, with the totals they add up to. */
#define SESSION(in, out, cost, msgs) \
	"{\"id\": 1, \"title\": \"t\", \"provider\": \"p\", \"model\": \"a\", \"system\": null," \
	" \"created\": \"2026-01-02T03:04:05Z\", \"updated\": \"2026-01-02T03:05:00Z\"," \
	" \"input_tokens\": " #in ", \"output_tokens\": " #out ", \"cost\": " cost "," \
	" \"messages\": [" msgs "]}"

/* Times as export_json writes them, and nothing else. */
static void
test_parse_time(void **state)
{
	int64_t ms;

	(void)state;
	assert_int_equal(export_parse_time("2026-01-02T03:04:05Z", 0, &ms), 0);
	assert_int_equal(ms, 1767323045000LL);
	assert_int_equal(export_parse_time("2026-01-02T03:04:05.678Z", 1, &ms), 0);
	assert_int_equal(ms, 1767323045678LL);
	assert_int_equal(export_parse_time("2024-02-29T00:00:00Z", 0, &ms), 0);
	assert_int_equal(export_parse_time("2026-02-29T00:00:00Z", 0, &ms), -1);
	assert_int_equal(export_parse_time("1900-02-29T00:00:00Z", 0, &ms), -1);
	assert_int_equal(export_parse_time("2026-01-02T24:00:00Z", 0, &ms), -1);
	assert_int_equal(export_parse_time("2026-01-02T03:04:05Z", 1, &ms), -1);
	assert_int_equal(export_parse_time("2026-01-02T03:04:05.678Z", 0, &ms), -1);
	assert_int_equal(export_parse_time("2026-01-02 03:04:05Z", 0, &ms), -1);
	assert_int_equal(export_parse_time("2026-1-02T03:04:05Z", 0, &ms), -1);
	assert_int_equal(export_parse_time("+026-01-02T03:04:05Z", 0, &ms), -1);
}

/* Parse text and return the error (caller frees), or NULL when it parsed. */
static char *
parse_err(const char *text)
{
	struct import_doc doc;
	char *err = NULL;

	if (import_parse(text, strlen(text), &doc, &err) == 0) {
		import_free(&doc);
		return NULL;
	}
	assert_non_null(err);
	return err;
}

/* Bad fields are named by their JSON path. */
static void
test_errors(void **state)
{
	static const struct {
		const char *text, *want;
	} cases[] = {
		{ SESSION(1, 2, "0.5", REPLY("a", 1, 2, "0.5", 10, 20)), NULL },
		{ SESSION(1, 2, "0.5", REPLY("a", 1, 2, "0.5", 10, 20) ", 3"),
		  "messages[1]: expected an object" },
		{ SESSION(1, 2, "0.5", REPLY("a", 1, 2, "0.5", 10, 1e999)),
		  "messages[0].duration_ms: expected a whole number from 0 to 2^53" },
		{ SESSION(1, 2, "0.5", REPLY("a", 1, 2, "-0.5", 10, 20)),
		  "messages[0].cost: expected a number of 0 or more, or null" },
		{ SESSION(1, 2, "0.5", REPLY("a", 1, 2, "0.4", 10, 20)),
		  "cost: 0.500000, but the messages add up to 0.400000" },
		{ SESSION(1, 3, "0.5", REPLY("a", 1, 2, "0.5", 10, 20)),
		  "output_tokens: 3, but the messages add up to 2" },
		{ SESSION(1, 2, "0.5", REPLY("a", 1, 2, "0.5", 10, 20)) " x",
		  "line 1, column " },
		{ SESSION(1, 2, "0.5", REPLY("a", 1, 2, "0.5", 10, 20) ","
		  TOOLMSG("tool_call", "\"c1\"", "\"f\"", "{}", "false") ","
		  TOOLMSG("tool", "\"c1\"", "\"f\"", "done", "true")), NULL },
		{ SESSION(0, 0, "0", TOOLMSG("tool", "\"c1\"", "\"f\"", "done", "false")),
		  "messages[0].tool_id: \"c1\" answers no tool_call before it" },
		{ SESSION(0, 0, "0", TOOLMSG("tool_call", "null", "\"f\"", "{}", "false")),
		  "messages[0].tool_id: a tool_call names its call" },
		{ SESSION(0, 0, "0", TOOLMSG("tool_call", "\"c1\"", "\"\"", "{}", "false")),
		  "messages[0].tool_name: a tool_call names its tool" },
		{ SESSION(0, 0, "0", TOOLMSG("tool_call", "\"c1\"", "\"f\"", "{}", "true")),
		  "messages[0].tool_error: only a tool result can fail" },
		{ SESSION(0, 0, "0", TOOLMSG("user", "\"c1\"", "null", "hi", "false")),
		  "messages[0].tool_id: only a tool_call or a tool message has one" },
		{ SESSION(0, 0, "0", TOOLMSG("tool_call", "\"c1\"", "\"f\"", "{}", "1")),
		  "messages[0].tool_error: expected true or false" },
		{ SESSION(0, 0, "0", TOOLMSG("tool_call", "7", "\"f\"", "{}", "false")),
		  "messages[0].tool_id: expected a string or null" },
		{ SESSION(0, 0, "0", TOOLMSG("robot", "null", "null", "x", "false")),
		  "messages[0].role: expected \"system\", \"user\", \"assistant\", \"tool_call\" or \"tool\"" },
	};
	size_t i;
	char *err;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		err = parse_err(cases[i].text);
		if (cases[i].want == NULL) {
			assert_null(err);
			continue;
		}
		assert_non_null(err);
		if (strstr(err, cases[i].want) == NULL)
			fail_msg("case %zu: got '%s', want '%s'", i, err, cases[i].want);
		free(err);
	}
	/* A NUL byte hides nothing after it. */
	err = NULL;
	{
		struct import_doc doc;
		const char text[] = "{}\0{}";

		assert_int_equal(import_parse(text, sizeof(text) - 1, &doc, &err), -1);
		assert_non_null(strstr(err, "a NUL byte"));
		free(err);
	}
}

/* A parsed export stores and exports again as it was, but for the ids. */
static void
test_round_trip(void **state)
{
	const char *text = SESSION(3, 6, "0.75", REPLY("a", 1, 2, "0.5", 10, 20) ","
	    REPLY("b", 2, 4, "0.25", 30, 50));
	struct store *st;
	struct import_doc doc, again;
	char *err = NULL, *out;
	int64_t id;

	(void)state;
	st = store_open(":memory:", &err);
	assert_non_null(st);
	assert_int_equal(import_parse(text, strlen(text), &doc, &err), 0);
	id = store_session_import(st, &doc.session, doc.msgs, doc.nmsgs);
	assert_true(id > 0);
	out = export_session(st, id, EXPORT_JSON);
	assert_non_null(out);
	assert_int_equal(import_parse(out, strlen(out), &again, &err), 0);
	assert_string_equal(again.session.title, "t");
	assert_int_equal(again.session.created, doc.session.created);
	assert_int_equal(again.session.updated, doc.session.updated);
	assert_int_equal(again.nmsgs, 2);
	assert_int_equal(again.msgs[1].created, 1767323046789LL);
	assert_int_equal(again.msgs[1].ttft_ms, 30);
	assert_true(again.session.cost == 0.75);
	free(out);
	import_free(&again);
	import_free(&doc);
	store_close(st);
}

/* Tool calls and results store and export again as they were: role, id, name, whether
 * it failed, and its duration. */
static void
test_round_trip_tools(void **state)
{
	const char *text = SESSION(1, 2, "0.5", REPLY("a", 1, 2, "0.5", 10, 20) ","
	    TOOLMSG("tool_call", "\"c1\"", "\"srv__f\"", "{\\\"q\\\":1}", "false") ","
	    TOOLMSG("tool", "\"c1\"", "\"srv__f\"", "no luck", "true"));
	struct store *st;
	struct import_doc doc, again;
	char *err = NULL, *out;
	int64_t id;

	(void)state;
	st = store_open(":memory:", &err);
	assert_non_null(st);
	assert_int_equal(import_parse(text, strlen(text), &doc, &err), 0);
	id = store_session_import(st, &doc.session, doc.msgs, doc.nmsgs);
	assert_true(id > 0);
	out = export_session(st, id, EXPORT_JSON);
	assert_non_null(out);
	assert_int_equal(import_parse(out, strlen(out), &again, &err), 0);
	assert_int_equal(again.nmsgs, 3);
	assert_int_equal(again.msgs[1].role, ROLE_TOOL_CALL);
	assert_string_equal(again.msgs[1].tool_id, "c1");
	assert_string_equal(again.msgs[1].tool_name, "srv__f");
	assert_string_equal(again.msgs[1].content, "{\"q\":1}");
	assert_false(again.msgs[1].tool_error);
	assert_int_equal(again.msgs[2].role, ROLE_TOOL);
	assert_string_equal(again.msgs[2].tool_id, "c1");
	assert_true(again.msgs[2].tool_error);
	assert_int_equal(again.msgs[2].duration_ms, 12);
	assert_null(again.msgs[0].tool_id);
	free(out);
	import_free(&again);
	import_free(&doc);
	store_close(st);
}

/* A failure on the last message leaves no session and no message behind. */
static void
test_rollback(void **state)
{
	const char *text = SESSION(3, 6, "0.75", REPLY("a", 1, 2, "0.5", 10, 20) ","
	    REPLY("b", 2, 4, "0.25", 30, 50));
	char dir[] = "/tmp/natter-test-import.XXXXXX", *path, *err = NULL;
	struct session_row *rows;
	struct store *st;
	struct import_doc doc;
	sqlite3 *db;
	size_t n;

	(void)state;
	assert_non_null(mkdtemp(dir));
	path = xasprintf("%s/natter.db", dir);
	st = store_open(path, &err);
	assert_non_null(st);
	/* Another connection makes the second message's insert fail. */
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "CREATE TRIGGER boom BEFORE INSERT ON messages"
	    " WHEN new.content = 'BOOM' BEGIN SELECT RAISE(ABORT, 'boom'); END;", NULL, NULL,
	    NULL), SQLITE_OK);
	assert_int_equal(import_parse(text, strlen(text), &doc, &err), 0);
	free(doc.msgs[1].content);
	doc.msgs[1].content = xstrdup("BOOM");
	assert_int_equal(store_session_import(st, &doc.session, doc.msgs, doc.nmsgs), -1);
	assert_non_null(strstr(store_error(st), "boom"));
	assert_int_equal(store_sessions(st, &rows, &n, 0), 0);
	assert_int_equal(n, 0);
	store_sessions_free(rows, n);
	assert_int_equal(sqlite3_exec(db, "DROP TRIGGER boom", NULL, NULL, NULL), SQLITE_OK);
	assert_true(store_session_import(st, &doc.session, doc.msgs, doc.nmsgs) > 0);
	sqlite3_close(db);
	import_free(&doc);
	store_close(st);
	unlink(path);
	free(path);
	path = xasprintf("rm -rf '%s'", dir);
	assert_int_equal(system(path), 0);
	free(path);
}

/* Sums, unknown costs and medians per model. */
static void
test_usage(void **state)
{
	const char *text = SESSION(6, 12, "0.75", REPLY("a", 1, 2, "0.5", 100, 1100) ","
	    REPLY("a", 2, 4, "null", 300, 300) "," REPLY("a", 3, 6, "0.25", 200, 500));
	struct store_usage *u;
	struct store *st;
	struct import_doc doc;
	char *err = NULL;
	size_t n;

	(void)state;
	st = store_open(":memory:", &err);
	assert_non_null(st);
	assert_int_equal(import_parse(text, strlen(text), &doc, &err), 0);
	assert_true(store_session_import(st, &doc.session, doc.msgs, doc.nmsgs) > 0);
	assert_int_equal(store_usage(st, STORE_USAGE_MODEL, 0, 0, &u, &n), 0);
	assert_int_equal(n, 1);
	assert_string_equal(u[0].key, "p");
	assert_string_equal(u[0].name, "a");
	assert_int_equal(u[0].calls, 3);
	assert_int_equal(u[0].input_tokens, 6);
	assert_int_equal(u[0].output_tokens, 12);
	assert_int_equal(u[0].cost_known, 2);
	assert_true(u[0].cost == 0.75);
	assert_true(u[0].ttft_ms == 200);
	/* Rates: 2 tokens over 1 s, none (duration = ttft), 6 over 0.3 s: the middle of two. */
	assert_true(u[0].tps == (2.0 + 20.0) / 2);
	store_usage_free(u, n);
	assert_int_equal(store_usage(st, STORE_USAGE_SESSION, 0, 20, &u, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(u[0].calls, 3);
	store_usage_free(u, n);
	import_free(&doc);
	store_close(st);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_time),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_round_trip_tools),
		cmocka_unit_test(test_rollback),
		cmocka_unit_test(test_usage),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
