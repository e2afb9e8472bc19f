/* natter serve's pure parts: request bodies of both APIs, per-field problems, the model's
 * limits, the encoders (UTF-8 across deltas, finish reasons, the 422 detail). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "buf.h"
#include "config.h"
#include "params.h"
#include "serve-api.h"
#include "serve-sse.h"

/* Parse s as api; returns the status, fills c and pr. */
static int
parse(enum serve_api api, const char *s, struct serve_chat *c, struct serve_problems *pr)
{
	return serve_api_parse(api, s, strlen(s), c, pr);
}

/* OpenAI's history: system and developer join, the rest in order, parameters mapped. */
static void
test_openai_history(void **state)
{
	struct serve_problems pr = { NULL, 0 };
	struct serve_chat c;

	(void)state;
	assert_int_equal(parse(SERVE_API_OPENAI, "{\"model\":\"m\",\"messages\":["
	    "{\"role\":\"system\",\"content\":\"a\"},{\"role\":\"user\",\"content\":\"q1\"},"
	    "{\"role\":\"assistant\",\"content\":\"r1\"},{\"role\":\"developer\",\"content\":\"b\"},"
	    "{\"role\":\"user\",\"content\":[{\"type\":\"text\",\"text\":\"x\"},"
	    "{\"type\":\"text\",\"text\":\"y\"}]}],\"stream\":true,\"stream_options\":"
	    "{\"include_usage\":true},\"max_completion_tokens\":7,\"stop\":\"END\","
	    "\"temperature\":0.25,\"store\":false}", &c, &pr), 0);
	assert_string_equal(c.model, "m");
	assert_string_equal(c.system, "a\n\nb");
	assert_int_equal(c.nmsgs, 3);
	assert_string_equal(c.msgs[2].content, "x\ny");
	assert_int_equal(c.msgs[1].role, ROLE_ASSISTANT);
	assert_true(c.stream && c.include_usage);
	assert_int_equal(c.store, 0);
	assert_true(c.params.set & PARAM_MAX_TOKENS);
	assert_int_equal(c.params.max_tokens, 7);
	assert_int_equal(c.params.nstop, 1);
	assert_true(c.params.temperature == 0.25);
	serve_chat_free(&c);
}

/* Bad OpenAI bodies name the field. */
static void
test_openai_problems(void **state)
{
	static const struct {
		const char *body, *field;
	} cases[] = {
		{ "[1]", NULL },
		{ "{\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}", "model" },
		{ "{\"model\":\"m\",\"messages\":[{\"role\":\"assistant\",\"content\":\"x\"}]}",
		  "messages" },
		{ "{\"model\":\"m\",\"messages\":[{\"role\":\"tool\",\"content\":\"x\"}]}",
		  "messages[0]" },
		{ "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":5}]}",
		  "messages[0].content" },
		{ "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],"
		  "\"temperature\":9}", "temperature" },
		{ "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"n\":2}",
		  "n" },
		{ "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],"
		  "\"response_format\":{\"type\":\"json_object\"}}", "response_format" },
	};
	struct serve_problems pr = { NULL, 0 };
	struct serve_chat c;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		assert_int_equal(parse(SERVE_API_OPENAI, cases[i].body, &c, &pr), -1);
		assert_true(pr.n >= 1);
		if (cases[i].field == NULL)
			assert_null(pr.v[0].field);
		else
			assert_string_equal(pr.v[0].field, cases[i].field);
		serve_chat_free(&c);
		serve_problems_free(&pr);
	}
}

/* The conversation API: one problem per bad field, the model's limits checked per field. */
static void
test_s2(void **state)
{
	struct serve_problems pr = { NULL, 0 };
	struct serve_chat c;
	struct model m;

	(void)state;
	assert_int_equal(parse(SERVE_API_S2, "{\"user_prompt\":\"hi\",\"conversation_id\":\"42\","
	    "\"save_conversation\":false,\"hyperparameters\":{\"top_k\":3,\"temperature\":0.9}}",
	    &c, &pr), 0);
	assert_int_equal(c.conversation, 42);
	assert_int_equal(c.store, 0);
	assert_int_equal(c.nmsgs, 1);
	memset(&m, 0, sizeof m);
	m.name = "m";
	params_default_limits("anthropic", m.limits);
	m.limits[0].max = 0.5;
	assert_int_equal(serve_api_check(&c, NULL, &m, &pr), -1);
	assert_int_equal(pr.n, 1);
	assert_string_equal(pr.v[0].field, "hyperparameters.temperature");
	serve_problems_free(&pr);
	serve_chat_free(&c);
	assert_int_equal(parse(SERVE_API_S2, "{\"user_prompt\":\" \",\"conversation_id\":\"x\","
	    "\"hyperparameters\":{\"nope\":1,\"seed\":\"s\"}}", &c, &pr), -1);
	assert_int_equal(pr.n, 4);
	serve_chat_free(&c);
	serve_problems_free(&pr);
}

/* A character cut between two deltas is held and finished by the next one; bad bytes and
 * controls never reach the JSON raw. */
static void
test_utf8(void **state)
{
	struct serve_utf8 u = { { 0 }, 0 };
	struct buf b = BUF_INIT;

	(void)state;
	serve_json_text(&b, &u, "caf\xc3", 4);
	assert_string_equal(buf_str(&b), "\"caf\"");
	assert_int_equal(u.n, 1);
	buf_reset(&b);
	serve_json_text(&b, &u, "\xa9!", 2);
	assert_string_equal(buf_str(&b), "\"\xc3\xa9!\"");
	assert_int_equal(u.n, 0);
	buf_reset(&b);
	serve_json_text(&b, NULL, "a\xff\x01\"\\\n", 6);
	assert_string_equal(buf_str(&b), "\"a\\ufffd\\u0001\\\"\\\\\\n\"");
	buf_reset(&b);
	serve_json_text(&b, &u, "\xe2\x82", 2);
	serve_json_text(&b, &u, "x", 1);
	assert_string_equal(buf_str(&b), "\"\"\"\\ufffdx\"");
	buf_free(&b);
}

/* Native finish reasons become OpenAI's. */
static void
test_finish(void **state)
{
	(void)state;
	assert_string_equal(serve_finish_reason("end_turn"), "stop");
	assert_string_equal(serve_finish_reason("MAX_TOKENS"), "length");
	assert_string_equal(serve_finish_reason("max_tokens"), "length");
	assert_string_equal(serve_finish_reason("SAFETY"), "content_filter");
	assert_string_equal(serve_finish_reason("tool_use"), "tool_calls");
	assert_string_equal(serve_finish_reason(NULL), "stop");
}

/* The 422 body: one entry per problem with its location under body. */
static void
test_detail(void **state)
{
	struct serve_problems pr = { NULL, 0 };
	struct buf b = BUF_INIT;

	(void)state;
	serve_problems_add(&pr, "hyperparameters.top_k", "no");
	serve_problems_add(&pr, NULL, "bad");
	serve_s2_detail(&b, &pr);
	assert_string_equal(buf_str(&b), "{\"detail\":[{\"loc\":[\"body\",\"hyperparameters\","
	    "\"top_k\"],\"msg\":\"no\",\"type\":\"value_error\"},{\"loc\":[\"body\"],\"msg\":"
	    "\"bad\",\"type\":\"value_error\"}]}\n");
	serve_problems_free(&pr);
	buf_free(&b);
}

/* Run the serve tests. */
int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_openai_history),
		cmocka_unit_test(test_openai_problems),
		cmocka_unit_test(test_s2),
		cmocka_unit_test(test_utf8),
		cmocka_unit_test(test_finish),
		cmocka_unit_test(test_detail),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
