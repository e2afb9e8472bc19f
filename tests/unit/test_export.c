/* Unit tests for session export: Markdown front matter and message layout, JSON parsed
 * back field by field, and export_session against a real store. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <cJSON.h>

#include "export.h"
#include "store.h"
#include "xmalloc.h"

/* 2026-01-02T03:04:05Z */
#define T0 1767323045

/* A session of four messages covering every field the exports show. */
static void
sample(struct session_row *s, struct message_row m[4])
{
	memset(s, 0, sizeof(*s));
	s->id = 7;
	s->title = "Quoting \"tests\": a: b";
	s->provider = "openai";
	s->model = "gpt-4o";
	s->system = "Be brief.";
	s->created = T0;
	s->updated = T0 + 60;
	s->nmessages = 4;
	s->input_tokens = 100;
	s->output_tokens = 23;
	s->cost = 0.0125;
	memset(m, 0, 4 * sizeof(*m));
	for (int i = 0; i < 4; i++) {
		m[i].id = i + 1;
		m[i].session_id = 7;
		m[i].created = (int64_t)(T0 + i) * 1000 + 250;
		m[i].input_tokens = m[i].output_tokens = m[i].ttft_ms = m[i].duration_ms = -1;
		m[i].cost = -1;
	}
	m[0].role = ROLE_USER;
	m[0].content = "Why is the sky blue?";
	m[1].role = ROLE_ASSISTANT;
	m[1].content = "Rayleigh scattering.";
	m[1].reasoning = "Think about wavelengths.";
	m[1].model = "gpt-4o";
	m[1].provider = "openai";
	m[1].input_tokens = 100;
	m[1].output_tokens = 23;
	m[1].cost = 0.0125;
	m[1].ttft_ms = 300;
	m[1].duration_ms = 1500;
	m[1].finish_reason = "stop";
	m[2].role = ROLE_USER;
	m[2].content = "And at sunset?";
	m[3].role = ROLE_ASSISTANT;
	m[3].content = "Long";
	m[3].model = "claude";
	m[3].state = MSG_CANCELLED;
}

/* A reply that called a tool, the call and its failed result. */
static void
sample_tools(struct message_row m[3])
{
	memset(m, 0, 3 * sizeof(*m));
	for (int i = 0; i < 3; i++) {
		m[i].id = i + 1;
		m[i].created = (int64_t)(T0 + i) * 1000;
		m[i].input_tokens = m[i].output_tokens = m[i].ttft_ms = m[i].duration_ms = -1;
		m[i].cost = -1;
	}
	m[0].role = ROLE_ASSISTANT;
	m[0].content = "Let me look.";
	m[0].model = "gpt-4o";
	m[0].finish_reason = "tool_calls";
	m[1].role = ROLE_TOOL_CALL;
	m[1].content = "{\"q\":\"``` x\"}";
	m[1].tool_id = "call_1";
	m[1].tool_name = "web__search";
	m[2].role = ROLE_TOOL;
	m[2].content = "rate limited";
	m[2].tool_id = "call_1";
	m[2].tool_name = "web__search";
	m[2].tool_error = 1;
	m[2].duration_ms = 1500;
}

/* Tool calls: Markdown names the tool in a heading and fences the arguments and result
 * (a fence longer than the backticks inside), with no "does not run tools" note on the
 * reply that made the call; text names the tool; JSON has tool_id, tool_name, tool_error. */
static void
test_tools(void **state)
{
	struct session_row s;
	struct message_row dummy[4], m[3];
	cJSON *root, *msgs;
	char *out;

	(void)state;
	sample(&s, dummy);
	s.system = NULL;
	sample_tools(m);
	out = export_markdown(&s, m, 3);
	assert_non_null(strstr(out, "## Tool call \xc2\xb7 `web__search` \xc2\xb7 "));
	assert_non_null(strstr(out, "\n\n````json\n{\"q\":\"``` x\"}\n````\n\n"));
	assert_non_null(strstr(out, "## Tool result \xc2\xb7 `web__search` \xc2\xb7 "));
	assert_non_null(strstr(out, " \xc2\xb7 failed\n\n```\nrate limited\n```\n\n*1.5 s*"));
	assert_null(strstr(out, "does not run"));
	free(out);
	out = export_text(&s, m, 3);
	assert_non_null(strstr(out, "\n[tool_call web__search] \xc2\xb7 "));
	assert_non_null(strstr(out, "\n[tool web__search] \xc2\xb7 "));
	assert_non_null(strstr(out, " \xc2\xb7 1.50s \xc2\xb7 failed\nrate limited\n"));
	free(out);
	out = export_json(&s, m, 3);
	root = cJSON_Parse(out);
	assert_non_null(root);
	msgs = cJSON_GetObjectItem(root, "messages");
	assert_string_equal(cJSON_GetObjectItem(cJSON_GetArrayItem(msgs, 1), "role")->valuestring,
	    "tool_call");
	assert_string_equal(cJSON_GetObjectItem(cJSON_GetArrayItem(msgs, 1), "tool_id")->valuestring,
	    "call_1");
	assert_string_equal(cJSON_GetObjectItem(cJSON_GetArrayItem(msgs, 2),
	    "tool_name")->valuestring, "web__search");
	assert_true(cJSON_IsTrue(cJSON_GetObjectItem(cJSON_GetArrayItem(msgs, 2), "tool_error")));
	assert_true(cJSON_IsNull(cJSON_GetObjectItem(cJSON_GetArrayItem(msgs, 0), "tool_id")));
	assert_true(cJSON_IsFalse(cJSON_GetObjectItem(cJSON_GetArrayItem(msgs, 0), "tool_error")));
	cJSON_Delete(root);
	free(out);
}

/* Markdown: front matter first, headings per role, reasoning folded, states noted. */
static void
test_markdown(void **state)
{
	struct session_row s;
	struct message_row m[4];
	char *md, *end;

	(void)state;
	sample(&s, m);
	md = export_markdown(&s, m, 4);
	assert_int_equal(strncmp(md, "---\n", 4), 0);
	end = strstr(md + 4, "\n---\n");
	assert_non_null(end);
	/* The title is a quoted YAML scalar, so its quotes and colon survive a YAML parser. */
	assert_non_null(strstr(md, "title: \"Quoting \\\"tests\\\": a: b\"\n"));
	assert_non_null(strstr(md, "provider: \"openai\"\n"));
	assert_non_null(strstr(md, "model: \"gpt-4o\"\n"));
	assert_non_null(strstr(md, "created: 2026-01-02T03:04:05Z\n"));
	assert_non_null(strstr(md, "total_tokens: 123\n"));
	assert_non_null(strstr(md, "cost: 0.012500\n"));
	assert_true(strstr(md, "total_tokens") < end);
	assert_non_null(strstr(md, "## System\n\nBe brief.\n"));
	assert_non_null(strstr(md, "## User \xc2\xb7 "));
	assert_non_null(strstr(md, "## Assistant \xc2\xb7 gpt-4o \xc2\xb7 "));
	assert_non_null(strstr(md, "<details>\n<summary>Reasoning</summary>\n\n"
	    "Think about wavelengths.\n\n</details>\n\nRayleigh scattering.\n"));
	assert_non_null(strstr(md, "100 in / 23 out tokens"));
	assert_non_null(strstr(md, "> **Cancelled**"));
	assert_true(strstr(md, "Why is the sky blue?") < strstr(md, "And at sunset?"));
	assert_null(strstr(md, "Authorization"));
	assert_null(strstr(md, "api_key"));
	free(md);

	m[3].state = MSG_ERROR;
	m[3].error = "HTTP 429: rate limited";
	md = export_markdown(&s, m, 4);
	assert_non_null(strstr(md, "> **Error:** HTTP 429: rate limited"));
	free(md);

	m[3].state = MSG_INTERRUPTED;
	m[3].error = NULL;
	md = export_markdown(&s, m, 4);
	assert_non_null(strstr(md, "Long\n\n> **Interrupted:** natter stopped while this reply"));
	free(md);

	m[3].state = MSG_TRUNCATED;
	md = export_markdown(&s, m, 4);
	assert_non_null(strstr(md, "> **Truncated:** the stream ended before the reply"));
	free(md);

	/* A whole reply that hit the length limit says so; an ordinary end says nothing. */
	m[3].state = MSG_COMPLETE;
	m[3].finish_reason = "max_tokens";
	md = export_markdown(&s, m, 4);
	assert_non_null(strstr(md, "Long\n\n> **Note:** stopped at the output token limit"));
	free(md);
	m[3].finish_reason = "end_turn";
	md = export_markdown(&s, m, 4);
	assert_null(strstr(md, "**Note:**"));
	free(md);
}

/* JSON parses back with the session fields and one object per message. */
static void
test_json(void **state)
{
	struct session_row s;
	struct message_row m[4];
	cJSON *root, *msgs, *o;
	char *js;

	(void)state;
	sample(&s, m);
	js = export_json(&s, m, 4);
	root = cJSON_Parse(js);
	assert_non_null(root);
	assert_int_equal(cJSON_GetObjectItem(root, "id")->valuedouble, 7);
	assert_string_equal(cJSON_GetObjectItem(root, "title")->valuestring, s.title);
	assert_string_equal(cJSON_GetObjectItem(root, "model")->valuestring, "gpt-4o");
	assert_string_equal(cJSON_GetObjectItem(root, "system")->valuestring, "Be brief.");
	assert_string_equal(cJSON_GetObjectItem(root, "created")->valuestring,
	    "2026-01-02T03:04:05Z");
	assert_int_equal(cJSON_GetObjectItem(root, "input_tokens")->valuedouble, 100);
	msgs = cJSON_GetObjectItem(root, "messages");
	assert_true(cJSON_IsArray(msgs));
	assert_int_equal(cJSON_GetArraySize(msgs), 4);
	o = cJSON_GetArrayItem(msgs, 1);
	assert_string_equal(cJSON_GetObjectItem(o, "role")->valuestring, "assistant");
	assert_string_equal(cJSON_GetObjectItem(o, "content")->valuestring,
	    "Rayleigh scattering.");
	assert_string_equal(cJSON_GetObjectItem(o, "reasoning")->valuestring,
	    "Think about wavelengths.");
	assert_string_equal(cJSON_GetObjectItem(o, "state")->valuestring, "complete");
	assert_string_equal(cJSON_GetObjectItem(o, "created")->valuestring,
	    "2026-01-02T03:04:06.250Z");
	assert_int_equal(cJSON_GetObjectItem(o, "ttft_ms")->valuedouble, 300);
	o = cJSON_GetArrayItem(msgs, 3);
	assert_string_equal(cJSON_GetObjectItem(o, "state")->valuestring, "cancelled");
	assert_true(cJSON_IsNull(cJSON_GetObjectItem(o, "input_tokens")));
	assert_true(cJSON_IsNull(cJSON_GetObjectItem(o, "reasoning")));
	assert_true(cJSON_IsNull(cJSON_GetObjectItem(o, "compare_group")));
	o = cJSON_GetArrayItem(msgs, 0);
	assert_string_equal(cJSON_GetObjectItem(o, "role")->valuestring, "user");
	assert_null(strstr(js, "key"));
	cJSON_Delete(root);
	free(js);
}

/* A comparison round: its prompt says on how many models, each reply its column and
 * whether the chat kept it, in Markdown, in JSON and through export_compare_column. */
static void
test_compare_marks(void **state)
{
	struct session_row s;
	struct message_row m[5];
	cJSON *root, *msgs, *o;
	char *md, *js;
	int ncols;

	(void)state;
	sample(&s, m);
	m[4] = m[3];
	m[4].id = 5;
	m[4].content = "Mie too";
	m[4].model = "gemini";
	m[4].state = MSG_COMPLETE;
	m[2].compare_group = m[3].compare_group = m[4].compare_group = 9;
	m[2].compare_pick = m[3].compare_pick = m[4].compare_pick = 1;
	s.nmessages = 5;
	assert_int_equal(export_compare_column(m, 5, 1, &ncols), -1);
	assert_int_equal(ncols, 0);
	assert_int_equal(export_compare_column(m, 5, 2, &ncols), -1);
	assert_int_equal(ncols, 2);
	assert_int_equal(export_compare_column(m, 5, 3, &ncols), 0);
	assert_int_equal(ncols, 2);
	assert_int_equal(export_compare_column(m, 5, 4, &ncols), 1);

	md = export_markdown(&s, m, 5);
	assert_non_null(strstr(md, "## Assistant \xc2\xb7 gpt-4o"));  /* not compared */
	assert_non_null(strstr(md, " \xc2\xb7 compared on 2 models\n\nAnd at sunset?"));
	assert_non_null(strstr(md, "## Assistant 1 of 2 \xc2\xb7 claude \xc2\xb7 "));
	assert_non_null(strstr(md, "## Assistant 2 of 2 \xc2\xb7 gemini \xc2\xb7 "));
	assert_non_null(strstr(md, " \xc2\xb7 kept\n\nMie too"));
	assert_null(strstr(md, "kept\n\nLong"));
	free(md);

	js = export_json(&s, m, 5);
	root = cJSON_Parse(js);
	assert_non_null(root);
	msgs = cJSON_GetObjectItem(root, "messages");
	o = cJSON_GetArrayItem(msgs, 1);
	assert_true(cJSON_IsNull(cJSON_GetObjectItem(o, "compare_column")));
	o = cJSON_GetArrayItem(msgs, 3);
	assert_int_equal(cJSON_GetObjectItem(o, "compare_group")->valuedouble, 9);
	assert_int_equal(cJSON_GetObjectItem(o, "compare_column")->valuedouble, 1);
	assert_true(cJSON_IsFalse(cJSON_GetObjectItem(o, "compare_kept")));
	o = cJSON_GetArrayItem(msgs, 4);
	assert_int_equal(cJSON_GetObjectItem(o, "compare_column")->valuedouble, 2);
	assert_true(cJSON_IsTrue(cJSON_GetObjectItem(o, "compare_kept")));
	cJSON_Delete(root);
	free(js);
}

/* export_session loads from the store and refuses unknown ids. */
static void
test_export_session(void **state)
{
	char dir[] = "/tmp/natter-export.XXXXXX";
	struct message_row m;
	struct store *st;
	char *path, *err = NULL, *out, *cmd;
	enum export_format f;
	int64_t sid;

	(void)state;
	assert_int_equal(export_format_parse("md", &f), 0);
	assert_int_equal(f, EXPORT_MARKDOWN);
	assert_int_equal(export_format_parse("json", &f), 0);
	assert_int_equal(f, EXPORT_JSON);
	assert_int_equal(export_format_parse("html", &f), -1);

	assert_non_null(mkdtemp(dir));
	path = xasprintf("%s/n.db", dir);
	st = store_open(path, &err);
	assert_non_null(st);
	sid = store_session_new(st, "stored", "ollama", "llama3");
	memset(&m, 0, sizeof(m));
	m.session_id = sid;
	m.role = ROLE_USER;
	m.content = "hello from the store";
	m.input_tokens = m.output_tokens = m.ttft_ms = m.duration_ms = -1;
	m.cost = -1;
	assert_true(store_message_add(st, &m) > 0);
	out = export_session(st, sid, EXPORT_MARKDOWN);
	assert_non_null(out);
	assert_non_null(strstr(out, "hello from the store"));
	assert_non_null(strstr(out, "title: \"stored\""));
	free(out);
	out = export_session(st, sid, EXPORT_JSON);
	assert_non_null(strstr(out, "\"llama3\""));
	free(out);
	assert_null(export_session(st, sid + 100, EXPORT_JSON));
	assert_non_null(strstr(store_error(st), "no session"));
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
		cmocka_unit_test(test_markdown),
		cmocka_unit_test(test_json),
		cmocka_unit_test(test_tools),
		cmocka_unit_test(test_compare_marks),
		cmocka_unit_test(test_export_session),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
