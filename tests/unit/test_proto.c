/*
 * Unit tests for the protocol adapters beyond the conformance vectors: the request each
 * adapter builds (URL, auth header, body fields per protocols.md §E), error bodies that are
 * not JSON or are array-wrapped, model lists for all four shapes, the inline <think> tag
 * machine, event-name fallbacks, linear decoding of a long reply, and the rules every
 * adapter shares: a malformed event is skipped with a warning, unpaired surrogates and
 * U+0000 become U+FFFD, and a line over the cap ends the reply as truncated; and whole
 * (no_stream) replies: the request each adapter builds, parse_reply on every reply shape,
 * errors and malformed bodies at 200, the body cap, and the same result as a stream.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include <cJSON.h>

#include "apierr.h"
#include "buf.h"
#include "json.h"
#include "http.h"
#include "proto.h"
#include "provider.h"
#include "request.h"
#include "stream.h"
#include "xmalloc.h"

/* A request with a system prompt, a three-turn history and every parameter set. */
static struct request *
make_request(const char *protocol, const char *base, const char *key, const char *model)
{
	struct provider *p = provider_new("test", protocol, base);
	struct request *r;

	p->key = key != NULL ? xstrdup(key) : NULL;
	provider_add_header(p, "X-Extra: yes");
	r = request_new(p, model);
	provider_free(p);
	request_set_system(r, "Be brief.");
	request_add(r, ROLE_USER, "Hi");
	request_add(r, ROLE_ASSISTANT, "Hello");
	request_add(r, ROLE_USER, "More");
	r->params.set = PARAM_TEMPERATURE | PARAM_TOP_P | PARAM_TOP_K | PARAM_MAX_TOKENS |
	    PARAM_STOP | PARAM_SEED;
	r->params.temperature = 0.5;
	r->params.top_p = 0.9;
	r->params.top_k = 40;
	r->params.max_tokens = 512;
	r->params.stop[0] = xstrdup("END");
	r->params.stop[1] = xstrdup("\n\nUser:");
	r->params.nstop = 2;
	r->params.seed = 7;
	return r;
}

/* Index of the header line starting with prefix (case-sensitive), or -1. */
static int
find_header(const struct http_req *h, const char *prefix)
{
	size_t i;

	for (i = 0; i < h->nheaders; i++)
		if (strncmp(h->headers[i], prefix, strlen(prefix)) == 0)
			return (int)i;
	return -1;
}

/* Build with the request's own adapter and parse the body. */
static cJSON *
build(const struct request *r, struct http_req *out)
{
	cJSON *body;

	r->provider->proto->build_chat(r, out);
	assert_string_equal(out->method, "POST");
	assert_non_null(out->body);
	assert_int_equal(out->body_len, strlen(out->body));
	body = cJSON_Parse(out->body);
	assert_non_null(body);
	return body;
}

/* Number member of obj at key, failing when absent. */
static double
num(const cJSON *obj, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);

	if (!cJSON_IsNumber(v))
		fail_msg("%s is not a number", key);
	return v->valuedouble;
}

/* String member of obj at key, failing when absent. */
static const char *
str(const cJSON *obj, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);

	if (!cJSON_IsString(v))
		fail_msg("%s is not a string", key);
	return v->valuestring;
}

/* OpenAI: Bearer auth, system message first, stream_options, stop array, no top_k. */
static void
test_build_openai(void **state)
{
	struct request *r = make_request("openai", "https://api.groq.com/openai/v1/", "gsk-1",
	    "llama-3.3-70b");
	struct http_req h;
	cJSON *b = build(r, &h), *msgs, *stop;
	int auth = find_header(&h, "Authorization: Bearer gsk-1");

	(void)state;
	assert_string_equal(h.url, "https://api.groq.com/openai/v1/chat/completions");
	assert_true(auth >= 0);
	assert_true(find_header(&h, "X-Extra: yes") > auth);
	assert_true(find_header(&h, "Content-Type: application/json") >= 0);
	assert_string_equal(str(b, "model"), "llama-3.3-70b");
	msgs = cJSON_GetObjectItemCaseSensitive(b, "messages");
	assert_int_equal(cJSON_GetArraySize(msgs), 4);
	assert_string_equal(str(cJSON_GetArrayItem(msgs, 0), "role"), "system");
	assert_string_equal(str(cJSON_GetArrayItem(msgs, 0), "content"), "Be brief.");
	assert_string_equal(str(cJSON_GetArrayItem(msgs, 2), "role"), "assistant");
	assert_true(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(b, "stream")));
	assert_true(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(
	    cJSON_GetObjectItemCaseSensitive(b, "stream_options"), "include_usage")));
	assert_true(num(b, "temperature") == 0.5);
	assert_true(num(b, "top_p") == 0.9);
	assert_true(num(b, "max_tokens") == 512);
	assert_true(num(b, "seed") == 7);
	assert_null(cJSON_GetObjectItemCaseSensitive(b, "top_k"));
	stop = cJSON_GetObjectItemCaseSensitive(b, "stop");
	assert_int_equal(cJSON_GetArraySize(stop), 2);
	assert_string_equal(cJSON_GetArrayItem(stop, 1)->valuestring, "\n\nUser:");
	cJSON_Delete(b);
	http_req_free(&h);
	request_free(r);

	/* OpenAI itself gets the newer max_completion_tokens, and reasoning_effort. */
	r = make_request("openai", "https://api.openai.com/v1", "sk-x", "o4-mini");
	r->params.set |= PARAM_REASONING_EFFORT;
	r->params.reasoning_effort = xstrdup("high");
	b = build(r, &h);
	assert_true(num(b, "max_completion_tokens") == 512);
	assert_null(cJSON_GetObjectItemCaseSensitive(b, "max_tokens"));
	assert_string_equal(str(b, "reasoning_effort"), "high");
	cJSON_Delete(b);
	http_req_free(&h);
	request_free(r);

	/* Issue 11: on any other server the model family decides, and the model's
	 * max_tokens_field wins over both rules. */
	{
		static const struct {
			const char *model;
			enum max_tokens_field field;
			const char *want;
		} fam[] = {
			{ "o1", MAX_TOKENS_FIELD_AUTO, "max_completion_tokens" },
			{ "o3-mini", MAX_TOKENS_FIELD_AUTO, "max_completion_tokens" },
			{ "openai/o4-mini", MAX_TOKENS_FIELD_AUTO, "max_completion_tokens" },
			{ "gpt-5", MAX_TOKENS_FIELD_AUTO, "max_completion_tokens" },
			{ "gpt-5.1-codex", MAX_TOKENS_FIELD_AUTO, "max_completion_tokens" },
			{ "gpt-5-mini", MAX_TOKENS_FIELD_AUTO, "max_completion_tokens" },
			{ "gpt-4o", MAX_TOKENS_FIELD_AUTO, "max_tokens" },
			{ "gpt-4.1-mini", MAX_TOKENS_FIELD_AUTO, "max_tokens" },
			{ "olmo-2", MAX_TOKENS_FIELD_AUTO, "max_tokens" },
			{ "llama-3.3-70b", MAX_TOKENS_FIELD_AUTO, "max_tokens" },
			{ "o3", MAX_TOKENS_FIELD_MAX_TOKENS, "max_tokens" },
			{ "my-deployment", MAX_TOKENS_FIELD_COMPLETION, "max_completion_tokens" },
		};
		size_t k;

		for (k = 0; k < sizeof fam / sizeof fam[0]; k++) {
			r = make_request("openai", "http://gateway.example/v1", "sk-x", fam[k].model);
			r->max_tokens_field = fam[k].field;
			b = build(r, &h);
			if (cJSON_GetObjectItemCaseSensitive(b, fam[k].want) == NULL)
				fail_msg("%s: no %s", fam[k].model, fam[k].want);
			assert_true(num(b, fam[k].want) == 512);
			assert_null(cJSON_GetObjectItemCaseSensitive(b,
			    strcmp(fam[k].want, "max_tokens") == 0 ? "max_completion_tokens" :
			    "max_tokens"));
			cJSON_Delete(b);
			http_req_free(&h);
			request_free(r);
		}
	}

	/* All four stop sequences go out. */
	r = make_request("openai", "http://h/v1", NULL, "m");
	r->params.stop[2] = xstrdup("c");
	r->params.stop[3] = xstrdup("d");
	r->params.nstop = PARAM_MAX_STOP;
	b = build(r, &h);
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(b, "stop")), 4);
	assert_string_equal(cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(b, "stop"), 3)->valuestring, "d");
	cJSON_Delete(b);
	http_req_free(&h);
	request_free(r);

	/* A local server without a key gets no Authorization header at all. */
	r = make_request("openai-compatible", "http://127.0.0.1:8080/v1", NULL, "m");
	b = build(r, &h);
	assert_int_equal(find_header(&h, "Authorization:"), -1);
	cJSON_Delete(b);
	http_req_free(&h);
	request_free(r);
}

/* Issue 11: which Claude ids refuse temperature with top_p, and the thinking rules. */
static void
test_anthropic_check_params(void **state)
{
	static const struct {
		const char *id;
		int refused;
	} ids[] = {
		{ "claude-sonnet-4-5", 1 }, { "claude-sonnet-4-5-20250929", 1 },
		{ "claude-haiku-4-5", 1 }, { "claude-opus-4-1-20250805", 1 },
		{ "claude-opus-4-5", 1 }, { "claude-sonnet-4-6", 1 }, { "claude-opus-5", 1 },
		{ "anthropic.claude-sonnet-4-5-20250929-v1:0", 1 },
		{ "claude-opus-4-20250514", 0 }, { "claude-sonnet-4-20250514", 0 },
		{ "claude-3-7-sonnet-latest", 0 }, { "claude-3-5-haiku", 0 }, { "my-model", 0 },
	};
	struct params p;
	char *err = NULL;
	size_t i;

	(void)state;
	assert_non_null(proto_anthropic.check_params);
	memset(&p, 0, sizeof p);
	p.set = PARAM_TEMPERATURE | PARAM_TOP_P;
	p.temperature = 0.5;
	p.top_p = 0.9;
	for (i = 0; i < sizeof ids / sizeof ids[0]; i++) {
		int rc = proto_anthropic.check_params(ids[i].id, "m", &p, &err);

		if ((rc != 0) != ids[i].refused)
			fail_msg("%s: rc %d, want refused %d", ids[i].id, rc, ids[i].refused);
		free(err);
		err = NULL;
	}
	/* A budget derived from the effort counts as thinking too. */
	memset(&p, 0, sizeof p);
	p.set = PARAM_REASONING_EFFORT | PARAM_MAX_TOKENS;
	p.reasoning_effort = "high";
	p.max_tokens = 8000;
	assert_int_equal(proto_anthropic.check_params("claude-x", "x", &p, &err), -1);
	assert_string_equal(err, "x: the thinking budget (reasoning_effort, 16384 tokens) must be "
	    "below max_tokens (8000), which counts the thinking too; raise max_tokens or lower the "
	    "budget");
	free(err);
	p.max_tokens = 20000;
	assert_int_equal(proto_anthropic.check_params("claude-x", "x", &p, &err), 0);
	assert_null(err);
	/* Without thinking, temperature and top_k are the user's business. */
	memset(&p, 0, sizeof p);
	p.set = PARAM_TEMPERATURE | PARAM_TOP_K;
	p.temperature = 0.2;
	p.top_k = 5;
	assert_int_equal(proto_anthropic.check_params("claude-x", "x", &p, &err), 0);
	assert_null(proto_openai.check_params);
}

/* Anthropic: x-api-key and version, top-level system, required max_tokens, thinking. */
static void
test_build_anthropic(void **state)
{
	struct request *r = make_request("anthropic", "https://api.anthropic.com/v1", "sk-ant-1",
	    "claude-sonnet-4-5");
	struct http_req h;
	cJSON *b, *msgs, *th;
	size_t i;

	(void)state;
	request_add(r, ROLE_SYSTEM, "Use metric units.");
	b = build(r, &h);
	assert_string_equal(h.url, "https://api.anthropic.com/v1/messages");
	assert_true(find_header(&h, "x-api-key: sk-ant-1") >= 0);
	assert_true(find_header(&h, "anthropic-version: 2023-06-01") >= 0);
	assert_int_equal(find_header(&h, "Authorization"), -1);
	assert_string_equal(str(b, "system"), "Be brief.\n\nUse metric units.");
	msgs = cJSON_GetObjectItemCaseSensitive(b, "messages");
	assert_int_equal(cJSON_GetArraySize(msgs), 3);
	for (i = 0; i < 3; i++)
		assert_string_not_equal(str(cJSON_GetArrayItem(msgs, (int)i), "role"), "system");
	assert_string_equal(str(cJSON_GetArrayItem(msgs, 0), "role"), "user");
	assert_string_equal(str(cJSON_GetArrayItem(msgs, 1), "role"), "assistant");
	assert_true(num(b, "max_tokens") == 512);
	assert_true(num(b, "top_k") == 40);
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(b, "stop_sequences")), 2);
	assert_null(cJSON_GetObjectItemCaseSensitive(b, "stop"));
	assert_null(cJSON_GetObjectItemCaseSensitive(b, "stream_options"));
	assert_null(cJSON_GetObjectItemCaseSensitive(b, "thinking"));
	cJSON_Delete(b);
	http_req_free(&h);

	/* Without max_tokens the required field still goes out; a budget turns thinking on
	 * and max_tokens stays above it. */
	r->params.set &= ~(unsigned)PARAM_MAX_TOKENS;
	r->params.set |= PARAM_REASONING_BUDGET;
	r->params.reasoning_budget = 2048;
	b = build(r, &h);
	th = cJSON_GetObjectItemCaseSensitive(b, "thinking");
	assert_string_equal(str(th, "type"), "enabled");
	assert_true(num(th, "budget_tokens") == 2048);
	assert_true(num(b, "max_tokens") > 2048);
	cJSON_Delete(b);
	http_req_free(&h);
	r->params.set &= ~(unsigned)PARAM_REASONING_BUDGET;
	b = build(r, &h);
	assert_true(num(b, "max_tokens") == 4096);
	cJSON_Delete(b);
	http_req_free(&h);
	request_free(r);
}

/* Gemini: URL with the model and alt=sse, key header, user/model roles, generationConfig. */
static void
test_build_gemini(void **state)
{
	struct request *r = make_request("gemini", "https://generativelanguage.googleapis.com/v1beta",
	    "AIza-1", "gemini-2.5-flash");
	struct http_req h;
	cJSON *b, *contents, *gc, *tc, *si;

	(void)state;
	r->params.set |= PARAM_REASONING_BUDGET;
	r->params.reasoning_budget = 1024;
	b = build(r, &h);
	assert_string_equal(h.url, "https://generativelanguage.googleapis.com/v1beta/models/"
	    "gemini-2.5-flash:streamGenerateContent?alt=sse");
	assert_true(find_header(&h, "x-goog-api-key: AIza-1") >= 0);
	contents = cJSON_GetObjectItemCaseSensitive(b, "contents");
	assert_int_equal(cJSON_GetArraySize(contents), 3);
	assert_string_equal(str(cJSON_GetArrayItem(contents, 0), "role"), "user");
	assert_string_equal(str(cJSON_GetArrayItem(contents, 1), "role"), "model");
	assert_string_equal(str(cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(
	    cJSON_GetArrayItem(contents, 1), "parts"), 0), "text"), "Hello");
	si = cJSON_GetObjectItemCaseSensitive(b, "systemInstruction");
	assert_string_equal(str(cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(si, "parts"), 0),
	    "text"), "Be brief.");
	assert_null(cJSON_GetObjectItemCaseSensitive(si, "role"));
	gc = cJSON_GetObjectItemCaseSensitive(b, "generationConfig");
	assert_true(num(gc, "temperature") == 0.5);
	assert_true(num(gc, "topP") == 0.9);
	assert_true(num(gc, "topK") == 40);
	assert_true(num(gc, "maxOutputTokens") == 512);
	assert_true(num(gc, "seed") == 7);
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(gc, "stopSequences")), 2);
	tc = cJSON_GetObjectItemCaseSensitive(gc, "thinkingConfig");
	assert_true(num(tc, "thinkingBudget") == 1024);
	assert_true(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(tc, "includeThoughts")));
	assert_null(cJSON_GetObjectItemCaseSensitive(b, "temperature"));
	cJSON_Delete(b);
	http_req_free(&h);
	request_free(r);

	/* A model id that already carries "models/" is not prefixed twice. */
	r = make_request("gemini", "https://g/v1beta/", "k", "models/gemini-2.5-pro");
	r->params.set = 0;
	b = build(r, &h);
	assert_string_equal(h.url, "https://g/v1beta/models/gemini-2.5-pro:streamGenerateContent?alt=sse");
	assert_null(cJSON_GetObjectItemCaseSensitive(b, "generationConfig"));
	cJSON_Delete(b);
	http_req_free(&h);
	request_free(r);
}

/* Ollama: /api/chat, options.num_predict and options.stop, think, no auth locally. */
static void
test_build_ollama(void **state)
{
	struct request *r = make_request("ollama", "http://localhost:11434", NULL, "llama3.2");
	struct http_req h;
	cJSON *b, *opt, *msgs;

	(void)state;
	r->params.set |= PARAM_REASONING_EFFORT;
	r->params.reasoning_effort = xstrdup("low");
	b = build(r, &h);
	assert_string_equal(h.url, "http://localhost:11434/api/chat");
	assert_int_equal(find_header(&h, "Authorization"), -1);
	msgs = cJSON_GetObjectItemCaseSensitive(b, "messages");
	assert_string_equal(str(cJSON_GetArrayItem(msgs, 0), "role"), "system");
	assert_int_equal(cJSON_GetArraySize(msgs), 4);
	opt = cJSON_GetObjectItemCaseSensitive(b, "options");
	assert_true(num(opt, "num_predict") == 512);
	assert_true(num(opt, "temperature") == 0.5);
	assert_true(num(opt, "top_k") == 40);
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(opt, "stop")), 2);
	assert_null(cJSON_GetObjectItemCaseSensitive(b, "max_tokens"));
	assert_string_equal(str(b, "think"), "low");
	assert_true(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(b, "stream")));
	cJSON_Delete(b);
	http_req_free(&h);
	request_free(r);

	/* ollama.com takes a Bearer key. */
	r = make_request("ollama", "https://ollama.com", "olk", "gpt-oss:120b");
	b = build(r, &h);
	assert_true(find_header(&h, "Authorization: Bearer olk") >= 0);
	cJSON_Delete(b);
	http_req_free(&h);
	request_free(r);
}

/* Decode a whole body (status 200 unless given) and return the finished stream. */
static void
decode(struct stream *s, const char *protocol, int status, const char *body)
{
	stream_init(s, proto_find(protocol), NULL, NULL);
	if (status != 200)
		stream_set_status(s, status, NULL);
	stream_feed(s, body, strlen(body));
	stream_finish(s);
}

/* Issue 11: the signature of a thinking block is kept, streamed or whole, only when it
 * stands for all the reasoning; a signed reply goes back as blocks when thinking is on. */
static void
test_anthropic_signed_thinking(void **state)
{
	static const char one[] =
	    "event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,"
	    "\"content_block\":{\"type\":\"thinking\",\"thinking\":\"\",\"signature\":\"\"}}\n\n"
	    "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,"
	    "\"delta\":{\"type\":\"thinking_delta\",\"thinking\":\"hm\"}}\n\n"
	    "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,"
	    "\"delta\":{\"type\":\"signature_delta\",\"signature\":\"c2ln\"}}\n\n"
	    "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":1,"
	    "\"delta\":{\"type\":\"text_delta\",\"text\":\"Hi\"}}\n\n"
	    "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n";
	static const char redacted[] =
	    "event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,"
	    "\"content_block\":{\"type\":\"thinking\",\"thinking\":\"\",\"signature\":\"\"}}\n\n"
	    "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,"
	    "\"delta\":{\"type\":\"signature_delta\",\"signature\":\"c2ln\"}}\n\n"
	    "event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":1,"
	    "\"content_block\":{\"type\":\"redacted_thinking\",\"data\":\"xyz\"}}\n\n"
	    "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n";
	static const char whole[] =
	    "{\"type\":\"message\",\"content\":[{\"type\":\"thinking\",\"thinking\":\"hm\","
	    "\"signature\":\"d2hvbGU=\"},{\"type\":\"text\",\"text\":\"Hi\"}],"
	    "\"stop_reason\":\"end_turn\"}";
	struct stream s;
	struct request *r;
	struct http_req h;
	cJSON *b, *c;

	(void)state;
	decode(&s, "anthropic", 200, one);
	assert_string_equal(buf_str(&s.text), "Hi");
	assert_non_null(stream_signed(&s));
	assert_string_equal(stream_signed(&s), "c2ln");
	stream_free(&s);
	decode(&s, "anthropic", 200, redacted);
	assert_null(stream_signed(&s));
	stream_free(&s);
	stream_init(&s, &proto_anthropic, NULL, NULL);
	stream_set_whole(&s);
	stream_feed(&s, whole, strlen(whole));
	stream_finish(&s);
	assert_string_equal(buf_str(&s.reasoning), "hm");
	assert_string_equal(stream_signed(&s), "d2hvbGU=");
	stream_free(&s);

	{
		struct provider *p = provider_new("a", "anthropic", "https://api.anthropic.com/v1");

		r = request_new(p, "claude-x");
		provider_free(p);
	}
	r->params.set = PARAM_REASONING_BUDGET;
	r->params.reasoning_budget = 2048;
	request_add(r, ROLE_USER, "Hi");
	request_add(r, ROLE_ASSISTANT, "Hello");
	request_set_thinking(r, "hm", "c2ln");
	request_add(r, ROLE_USER, "More");
	{
		/* A copy (the worker's) keeps it. */
		struct request *d = request_dup(r);

		request_free(r);
		r = d;
	}
	b = build(r, &h);
	c = cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(
	    cJSON_GetObjectItemCaseSensitive(b, "messages"), 1), "content");
	assert_true(cJSON_IsArray(c));
	assert_string_equal(str(cJSON_GetArrayItem(c, 0), "type"), "thinking");
	assert_string_equal(str(cJSON_GetArrayItem(c, 0), "thinking"), "hm");
	assert_string_equal(str(cJSON_GetArrayItem(c, 0), "signature"), "c2ln");
	assert_string_equal(str(cJSON_GetArrayItem(c, 1), "text"), "Hello");
	cJSON_Delete(b);
	http_req_free(&h);
	/* Without thinking in this request the reply goes as plain text. */
	r->params.set = 0;
	b = build(r, &h);
	c = cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(
	    cJSON_GetObjectItemCaseSensitive(b, "messages"), 1), "content");
	assert_true(cJSON_IsString(c));
	cJSON_Delete(b);
	http_req_free(&h);
	request_free(r);
}

/* Non-JSON error bodies still give a readable first line and the status. */
static void
test_error_bodies(void **state)
{
	static const char *const protos[] = { "openai", "anthropic", "gemini", "ollama" };
	struct stream s;
	struct buf long_body = BUF_INIT;
	size_t i;

	(void)state;
	for (i = 0; i < 4; i++) {
		decode(&s, protos[i], 502, "\n  <html><head><title>502 Bad Gateway</title>\x1b[31m  \r\n<body>x</body>");
		assert_non_null(s.error);
		assert_int_equal(s.error->status, 502);
		assert_int_equal(s.error->kind, APIERR_HTTP);
		assert_int_equal(s.error->cls, APIERR_SERVER);
		assert_int_equal(s.error->retryable, 1);
		assert_string_equal(s.error->message, "<html><head><title>502 Bad Gateway</title>[31m");
		assert_false(s.complete);
		stream_free(&s);
	}
	/* Empty body. */
	decode(&s, "openai", 503, "");
	assert_string_equal(s.error->message, "the response body was empty");
	assert_int_equal(s.error->cls, APIERR_OVERLOADED);
	stream_free(&s);
	/* Long plain text is capped. */
	for (i = 0; i < 200; i++)
		buf_puts(&long_body, "\xd0\xb8x");
	decode(&s, "ollama", 500, long_body.data);
	assert_true(strlen(s.error->message) <= 310);
	assert_true(strlen(s.error->message) > 250);
	stream_free(&s);
	buf_free(&long_body);
	/* Gemini's non-SSE path wraps the error in an array, with RetryInfo. */
	decode(&s, "gemini", 429, "[{\n \"error\": {\"code\": 429, \"message\": \"Quota exceeded\",\n"
	    " \"status\": \"RESOURCE_EXHAUSTED\", \"details\": [{\"@type\": "
	    "\"type.googleapis.com/google.rpc.RetryInfo\", \"retryDelay\": \"31s\"}]}}]");
	assert_string_equal(s.error->message, "Quota exceeded");
	assert_string_equal(s.error->type, "RESOURCE_EXHAUSTED");
	assert_string_equal(s.error->code, "429");
	assert_true(s.error->code_is_number);
	assert_true(s.error->retry_after_s > 30.9 && s.error->retry_after_s < 31.1);
	assert_int_equal(s.error->cls, APIERR_RATE_LIMIT);
	stream_free(&s);
	/* OpenAI-compatible server answering in Ollama's shape, and vLLM's flat shape. */
	decode(&s, "openai", 404, "{\"error\":\"model \\\"x\\\" not found, try pulling it first\"}");
	assert_string_equal(s.error->message, "model \"x\" not found, try pulling it first");
	assert_int_equal(s.error->cls, APIERR_NOT_FOUND);
	stream_free(&s);
	decode(&s, "openai", 400, "{\"object\":\"error\",\"message\":\"This model's maximum context length is 2048 tokens.\",\"type\":\"BadRequestError\",\"param\":null,\"code\":400}");
	assert_int_equal(s.error->cls, APIERR_CONTEXT_LENGTH);
	assert_string_equal(s.error->type, "BadRequestError");
	stream_free(&s);
}

/* A JSON error sent with status 200 and no SSE framing is reported, not just truncated. */
static void
test_error_with_status_200(void **state)
{
	struct stream s;

	(void)state;
	decode(&s, "openai", 200, "{\"error\":{\"message\":\"Invalid model\",\"type\":\"invalid_request_error\",\"code\":\"model_not_found\"}}\n");
	assert_non_null(s.error);
	assert_int_equal(s.error->kind, APIERR_STREAM);
	assert_string_equal(s.error->message, "Invalid model");
	assert_int_equal(s.error->cls, APIERR_NOT_FOUND);
	assert_false(s.complete);
	stream_free(&s);
	decode(&s, "gemini", 200, "[{\"error\":{\"code\":400,\"message\":\"bad\",\"status\":\"INVALID_ARGUMENT\"}}]");
	assert_non_null(s.error);
	assert_int_equal(s.error->cls, APIERR_BAD_REQUEST);
	stream_free(&s);
	/* Comments only, or plain text: no invented error, just an incomplete reply. */
	decode(&s, "anthropic", 200, ": ping\n\n");
	assert_null(s.error);
	assert_false(s.complete);
	stream_free(&s);
}

/* Headers: x-should-retry overrides the class's advice; request id from the body. */
static void
test_error_headers(void **state)
{
	struct http_headers h = { NULL, 0 };
	struct stream s;
	const char *body = "{\"type\":\"error\",\"error\":{\"type\":\"api_error\",\"message\":\"boom\"},\"request_id\":\"req_body\"}";

	(void)state;
	http_headers_add(&h, "x-should-retry", "false");
	http_headers_add(&h, "retry-after", "7");
	stream_init(&s, &proto_anthropic, NULL, NULL);
	stream_set_status(&s, 500, &h);
	stream_feed(&s, body, strlen(body));
	stream_finish(&s);
	assert_int_equal(s.error->cls, APIERR_SERVER);
	assert_int_equal(s.error->retryable, 0);
	assert_true(s.error->retry_after_s == 7);
	assert_string_equal(s.error->request_id, "req_body");
	stream_free(&s);
	http_headers_clear(&h);
	http_headers_add(&h, "X-Should-Retry", "true");
	http_headers_add(&h, "request-id", "req_hdr");
	stream_init(&s, &proto_openai, NULL, NULL);
	stream_set_status(&s, 400, &h);
	stream_feed(&s, "{\"error\":{\"message\":\"bad\"}}", 27);
	stream_finish(&s);
	assert_int_equal(s.error->retryable, 1);
	assert_string_equal(s.error->request_id, "req_hdr");
	stream_free(&s);
	http_headers_clear(&h);
}

/* Every list shape, with pagination tokens and Gemini's generateContent filter. */
static void
test_models(void **state)
{
	struct model_list l = { NULL, 0 };
	char *next = (char *)"unset";
	struct provider *p;
	struct http_req h;

	(void)state;
	{
		const char *b = "{\"object\":\"list\",\"data\":[{\"id\":\"gpt-4o\","
		    "\"object\":\"model\",\"owned_by\":\"openai\"},{\"id\":\"or/x\",\"context_length\":131072,"
		    "\"top_provider\":{\"max_completion_tokens\":8192}}]}";

		assert_int_equal(proto_openai.parse_models(b, strlen(b), &l, &next), 0);
	}
	assert_null(next);
	assert_int_equal(l.n, 2);
	assert_string_equal(l.v[0].id, "gpt-4o");
	assert_int_equal(l.v[1].context_window, 131072);
	assert_int_equal(l.v[1].max_output, 8192);
	model_list_free(&l);

	{
		const char *b = "{\"data\":[{\"type\":\"model\",\"id\":\"claude-sonnet-4-5\",\"display_name\":"
		    "\"Claude Sonnet 4.5\",\"created_at\":\"2025-09-29T00:00:00Z\",\"max_input_tokens\":200000,"
		    "\"max_tokens\":64000}],\"has_more\":true,\"first_id\":\"a\",\"last_id\":\"claude-sonnet-4-5\"}";

		assert_int_equal(proto_anthropic.parse_models(b, strlen(b), &l, &next), 0);
		assert_string_equal(next, "claude-sonnet-4-5");
		free(next);
		assert_string_equal(l.v[0].display_name, "Claude Sonnet 4.5");
		assert_int_equal(l.v[0].context_window, 200000);
		assert_int_equal(l.v[0].max_output, 64000);
		model_list_free(&l);
	}
	{
		const char *b = "{\"models\":[{\"name\":\"models/gemini-2.5-flash\",\"displayName\":\"Gemini 2.5 Flash\","
		    "\"inputTokenLimit\":1048576,\"outputTokenLimit\":65536,\"supportedGenerationMethods\":"
		    "[\"generateContent\",\"countTokens\"]},{\"name\":\"models/text-embedding-004\","
		    "\"supportedGenerationMethods\":[\"embedContent\"]}],\"nextPageToken\":\"tok/2=\"}";

		assert_int_equal(proto_gemini.parse_models(b, strlen(b), &l, &next), 0);
		assert_int_equal(l.n, 1);
		assert_string_equal(l.v[0].id, "gemini-2.5-flash");
		assert_int_equal(l.v[0].context_window, 1048576);
		assert_string_equal(next, "tok/2=");
		p = provider_new("g", "gemini", "https://generativelanguage.googleapis.com/v1beta");
		p->key = xstrdup("k");
		proto_gemini.build_models(p, next, &h);
		assert_string_equal(h.url, "https://generativelanguage.googleapis.com/v1beta/models?pageSize=1000&pageToken=tok%2F2%3D");
		assert_string_equal(h.method, "GET");
		assert_true(find_header(&h, "x-goog-api-key: k") >= 0);
		http_req_free(&h);
		provider_free(p);
		free(next);
		model_list_free(&l);
	}
	{
		const char *b = "{\"models\":[{\"name\":\"llama3.2:latest\",\"model\":\"llama3.2:latest\","
		    "\"size\":2019393189,\"details\":{\"family\":\"llama\"}},{\"model\":\"qwen3:8b\"}]}";

		assert_int_equal(proto_ollama.parse_models(b, strlen(b), &l, &next), 0);
		assert_int_equal(l.n, 2);
		assert_string_equal(l.v[1].id, "qwen3:8b");
		assert_null(next);
		model_list_free(&l);
	}
	assert_int_equal(proto_ollama.parse_models("{\"error\":\"x\"}", 13, &l, &next), -1);
	assert_int_equal(proto_anthropic.parse_models("not json", 8, &l, &next), -1);
	assert_int_equal(proto_gemini.parse_models("{\"error\":{}}", 12, &l, &next), -1);
	assert_int_equal(l.n, 0);

	p = provider_new("a", "anthropic", "https://api.anthropic.com/v1");
	proto_anthropic.build_models(p, "claude-x", &h);
	assert_string_equal(h.url, "https://api.anthropic.com/v1/models?limit=1000&after_id=claude-x");
	assert_true(find_header(&h, "anthropic-version: 2023-06-01") >= 0);
	http_req_free(&h);
	provider_free(p);
	p = provider_new("o", "ollama", "http://localhost:11434");
	proto_ollama.build_models(p, NULL, &h);
	assert_string_equal(h.url, "http://localhost:11434/api/tags");
	http_req_free(&h);
	provider_free(p);
}

/* Feed s the chunks of an OpenAI stream whose contents are given, one delta each. */
static void
feed_contents(struct stream *s, const char *const *parts)
{
	struct buf ev = BUF_INIT;

	for (; *parts != NULL; parts++) {
		buf_reset(&ev);
		buf_puts(&ev, "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":");
		buf_json_string(&ev, *parts, strlen(*parts));
		buf_puts(&ev, "}}]}\n\n");
		stream_feed(s, ev.data, ev.len);
	}
	buf_free(&ev);
}

/* Inline <think> at the start of content becomes reasoning, tags split anywhere. */
static void
test_think_tags(void **state)
{
	static const char *const a[] = { "<th", "ink>", "step one", " and </", "think", ">\n\nThe answer", NULL };
	static const char *const b[] = { "\n<think>x</think>", "y", NULL };
	static const char *const c[] = { "<b>bold</b> <think>not reasoning</think>", NULL };
	static const char *const d[] = { "<thin", NULL };
	static const char *const e[] = { "<think>unfinished </thi", NULL };
	struct stream s;

	(void)state;
	stream_init(&s, &proto_openai, NULL, NULL);
	feed_contents(&s, a);
	stream_feed(&s, "data: [DONE]\n\n", 14);
	stream_finish(&s);
	assert_string_equal(buf_str(&s.reasoning), "step one and ");
	assert_string_equal(buf_str(&s.text), "The answer");
	assert_true(s.complete);
	stream_free(&s);

	stream_init(&s, &proto_openai, NULL, NULL);
	feed_contents(&s, b);
	stream_finish(&s);
	assert_string_equal(buf_str(&s.reasoning), "x");
	assert_string_equal(buf_str(&s.text), "y");
	assert_false(s.complete);
	stream_free(&s);

	stream_init(&s, &proto_openai, NULL, NULL);
	feed_contents(&s, c);
	stream_finish(&s);
	assert_string_equal(buf_str(&s.text), "<b>bold</b> <think>not reasoning</think>");
	assert_int_equal(s.reasoning.len, 0);
	stream_free(&s);

	/* Held-back bytes are not lost at EOF. */
	stream_init(&s, &proto_openai, NULL, NULL);
	feed_contents(&s, d);
	stream_finish(&s);
	assert_string_equal(buf_str(&s.text), "<thin");
	stream_free(&s);
	stream_init(&s, &proto_openai, NULL, NULL);
	feed_contents(&s, e);
	stream_finish(&s);
	assert_string_equal(buf_str(&s.reasoning), "unfinished </thi");
	assert_int_equal(s.text.len, 0);
	stream_free(&s);
}

/* Reasoning sent both as reasoning_content and reasoning is counted once. */
static void
test_reasoning_once(void **state)
{
	const char *body =
	    "data: {\"choices\":[{\"delta\":{\"reasoning_content\":\"ab\",\"reasoning\":\"ab\"}}]}\n\n"
	    "data: {\"choices\":[{\"delta\":{\"reasoning\":\"cd\"}}]}\n\n"
	    "data: {\"choices\":[{\"delta\":{\"reasoning_content\":\"cd\"}}]}\n\n"
	    "data: {\"choices\":[],\"usage\":null}\n\n"
	    "data: [DONE]\n\n";
	struct stream s;

	(void)state;
	decode(&s, "openai", 200, body);
	assert_string_equal(buf_str(&s.reasoning), "abcd");
	assert_false(usage_present(&s.usage));
	assert_true(s.complete);
	stream_free(&s);
}

/* Anthropic events without "event:" lines fall back to data.type; junk is ignored. */
static void
test_anthropic_fallback(void **state)
{
	const char *body =
	    "data: {\"type\":\"message_start\",\"message\":{\"usage\":{\"input_tokens\":5,\"output_tokens\":1}}}\n\n"
	    "data: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"thinking_delta\",\"thinking\":\"hm\"}}\n\n"
	    "data: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"signature_delta\",\"signature\":\"SIG\"}}\n\n"
	    "event: brand_new_event\ndata: {\"type\":\"brand_new_event\",\"text\":\"no\"}\n\n"
	    "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":1,\"delta\":{\"type\":\"text_delta\",\"text\":\"ok\"}}\n\n"
	    "data: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"max_tokens\"},\"usage\":{\"output_tokens\":9}}\n\n"
	    "data: {\"type\":\"message_stop\"}\n\n";
	struct stream s;

	(void)state;
	decode(&s, "anthropic", 200, body);
	assert_string_equal(buf_str(&s.text), "ok");
	assert_string_equal(buf_str(&s.reasoning), "hm");
	assert_string_equal(s.finish_reason, "max_tokens");
	assert_int_equal(s.usage.input_tokens, 5);
	assert_int_equal(s.usage.output_tokens, 9);
	assert_true(s.complete);
	stream_free(&s);
}

/* Gemini: a blocked prompt is a "blocked" error; EOF inside an event is not complete. */
static void
test_gemini_blocked_and_partial(void **state)
{
	struct stream s;
	struct buf out = BUF_INIT;

	(void)state;
	decode(&s, "gemini", 200, "data: {\"promptFeedback\":{\"blockReason\":\"SAFETY\"},"
	    "\"usageMetadata\":{\"promptTokenCount\":7,\"totalTokenCount\":7}}\r\n\r\n");
	assert_non_null(s.error);
	assert_int_equal(s.error->kind, APIERR_KIND_BLOCKED);
	assert_int_equal(s.error->cls, APIERR_BLOCKED);
	assert_string_equal(s.error->reason, "SAFETY");
	assert_false(s.complete);
	stream_summary_json(&s, &out);
	assert_non_null(strstr(buf_str(&out), "\"kind\":\"blocked\""));
	assert_non_null(strstr(buf_str(&out), "\"reason\":\"SAFETY\""));
	buf_free(&out);
	stream_free(&s);

	decode(&s, "gemini", 200, "data: {\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"a\"}]},"
	    "\"finishReason\":\"STOP\"}]}\r\n\r\ndata: {\"candidates\":[{\"content\":{\"parts\"");
	assert_string_equal(buf_str(&s.text), "a");
	assert_string_equal(s.finish_reason, "STOP");
	assert_true(s.eof_partial);
	assert_false(s.complete);
	stream_free(&s);
}

/* Ollama: a line that is not JSON is skipped with a warning; done without done_reason is
 * fine. */
static void
test_ollama_lines(void **state)
{
	struct stream s;

	(void)state;
	decode(&s, "ollama", 200, "{\"message\":{\"content\":\"a\"},\"done\":false}\n"
	    "{\"message\":{\"content\":\"b\"},\"done\":true,\"eval_count\":2}");
	assert_string_equal(buf_str(&s.text), "ab");
	assert_null(s.finish_reason);
	assert_int_equal(s.usage.output_tokens, 2);
	assert_int_equal(s.usage.input_tokens, -1);
	assert_true(s.complete);
	stream_free(&s);
	/* This used to end the reply as an error at the bad line; issue 9 made one rule for
	 * every adapter: skip the bad event, go on, and say what was skipped. */
	decode(&s, "ollama", 200, "{\"message\":{\"content\":\"a\"}}\n<html>oops\n{\"done\":true}\n");
	assert_null(s.error);
	assert_int_equal(s.nskipped, 1);
	assert_non_null(strstr(s.skip_first, "<html>oops"));
	assert_true(s.complete);
	stream_free(&s);
}

/* One protocol's stream with a bad event between good ones (fmt holds the good events'
 * texts "a" and "b" around BAD, which is replaced by bad), and its terminator. */
struct malformed_case {
	const char *protocol;
	const char *head;  /* up to and including the first good event */
	const char *bad1;  /* a malformed event: data that is not JSON */
	const char *bad2;  /* another: valid JSON but not an object */
	const char *tail;  /* the second good event and the terminator */
};

static const struct malformed_case malformed_cases[] = {
	{ "openai",
	  "data: {\"choices\":[{\"delta\":{\"content\":\"a\"}}]}\n\n",
	  "data: {\"choices\":[{\"delta\":{\"content\":\"lost\n\n",
	  "data: [1,2]\n\n",
	  "data: {\"choices\":[{\"delta\":{\"content\":\"b\"},\"finish_reason\":\"stop\"}]}\n\n"
	  "data: [DONE]\n\n" },
	{ "anthropic",
	  "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,"
	  "\"delta\":{\"type\":\"text_delta\",\"text\":\"a\"}}\n\n",
	  "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,"
	  "\"delta\":{\"type\":\"text_delta\",\"text\":\"lost\n\n",
	  "event: content_block_delta\ndata: \"text\"\n\n",
	  "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,"
	  "\"delta\":{\"type\":\"text_delta\",\"text\":\"b\"}}\n\n"
	  "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n" },
	{ "gemini",
	  "data: {\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"a\"}]}}]}\r\n\r\n",
	  "data: {\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"lost\r\n\r\n",
	  "data: 42\r\n\r\n",
	  "data: {\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"b\"}]},"
	  "\"finishReason\":\"STOP\"}]}\r\n\r\n" },
	{ "ollama",
	  "{\"message\":{\"content\":\"a\"},\"done\":false}\n",
	  "{\"message\":{\"content\":\"lost\n",
	  "null\n",
	  "{\"message\":{\"content\":\"b\"},\"done\":true,\"done_reason\":\"stop\"}\n" },
};

/* Every adapter skips a malformed event, keeps decoding after it, counts it and keeps the
 * first reason with an excerpt; the reply is still whole. */
static void
test_malformed_skipped(void **state)
{
	size_t i, k;

	(void)state;
	for (i = 0; i < sizeof malformed_cases / sizeof malformed_cases[0]; i++) {
		const struct malformed_case *c = &malformed_cases[i];
		struct buf body = BUF_INIT, sum = BUF_INIT;
		struct stream s;
		char *w;

		buf_puts(&body, c->head);
		buf_puts(&body, c->bad1);
		buf_puts(&body, c->tail);
		/* The same result whatever the split, byte by byte included. */
		for (k = 0; k < 2; k++) {
			size_t j, step = k == 0 ? body.len : 1;

			stream_init(&s, proto_find(c->protocol), NULL, NULL);
			for (j = 0; j < body.len; j += step)
				stream_feed(&s, body.data + j, step < body.len - j ? step : body.len - j);
			stream_finish(&s);
			if (s.error != NULL)
				fail_msg("%s: error %s", c->protocol, s.error->message);
			assert_string_equal(buf_str(&s.text), "ab");
			assert_true(s.complete);
			assert_int_equal(s.nskipped, 1);
			w = stream_warning(&s);
			assert_non_null(w);
			assert_non_null(strstr(w, "skipped a malformed event"));
			assert_non_null(strstr(w, "not JSON"));
			assert_non_null(strstr(w, "lost"));
			free(w);
			stream_free(&s);
		}
		/* Two bad events: the count, and the first one's reason. */
		buf_reset(&body);
		buf_puts(&body, c->head);
		buf_puts(&body, c->bad2);
		buf_puts(&body, c->bad1);
		buf_puts(&body, c->tail);
		decode(&s, c->protocol, 200, buf_str(&body));
		assert_null(s.error);
		assert_string_equal(buf_str(&s.text), "ab");
		assert_int_equal(s.nskipped, 2);
		w = stream_warning(&s);
		assert_non_null(strstr(w, "skipped 2 malformed events"));
		assert_non_null(strstr(w, "the first: not a JSON object"));
		free(w);
		stream_summary_json(&s, &sum);
		assert_non_null(strstr(buf_str(&sum), "\"skipped\":2"));
		buf_free(&sum);
		stream_free(&s);
		buf_free(&body);
	}
}

/* A body for protocol with one text event carrying the JSON string literal lit. */
static void
text_event(const char *protocol, const char *lit, struct buf *b)
{
	buf_reset(b);
	if (strcmp(protocol, "openai") == 0)
		buf_printf(b, "data: {\"object\":\"chat.completion.chunk\",\"choices\":[{\"index\":0,"
		    "\"delta\":{\"content\":\"%s\"},\"finish_reason\":null}]}\n\ndata: [DONE]\n\n", lit);
	else if (strcmp(protocol, "anthropic") == 0)
		buf_printf(b, "event: content_block_delta\ndata: {\"type\":\"content_block_delta\","
		    "\"delta\":{\"type\":\"text_delta\",\"text\":\"%s\"}}\n\n"
		    "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n", lit);
	else if (strcmp(protocol, "gemini") == 0)
		buf_printf(b, "data: {\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"%s\"}]},"
		    "\"finishReason\":\"STOP\"}]}\r\n\r\n", lit);
	else
		buf_printf(b, "{\"message\":{\"content\":\"%s\"},\"done\":true}\n", lit);
}

/* Unpaired surrogates and U+0000 become U+FFFD and never cut off the rest of the text, in
 * every adapter and on both of OpenAI's paths; a real pair and an escaped backslash are
 * left alone. */
static void
test_surrogates_and_nul(void **state)
{
	static const char *const protos[] = { "openai", "anthropic", "gemini", "ollama" };
	static const struct { const char *lit, *text; } cases[] = {
		{ "a\\ud800b", "a\xef\xbf\xbd" "b" },
		{ "a\\udc00b", "a\xef\xbf\xbd" "b" },
		{ "a\\ud800\\u0041b", "a\xef\xbf\xbd" "Ab" },
		{ "a\\ud83d", "a\xef\xbf\xbd" },
		{ "a\\u0000b", "a\xef\xbf\xbd" "b" },
		{ "\\u0000\\u0000", "\xef\xbf\xbd\xef\xbf\xbd" },
		{ "a\\ud83d\\udc99b", "a\xf0\x9f\x92\x99" "b" },
		{ "a\\\\u0000b", "a\\u0000b" },
		{ "a\\\\\\ud800b", "a\\\xef\xbf\xbd" "b" },
	};
	struct buf body = BUF_INIT;
	struct stream s;
	size_t i, c;
	int slow;

	(void)state;
	for (i = 0; i < 4; i++) {
		for (c = 0; c < sizeof cases / sizeof cases[0]; c++) {
			for (slow = 0; slow < 2; slow++) {
				text_event(protos[i], cases[c].lit, &body);
				stream_init(&s, proto_find(protos[i]), NULL, NULL);
				s.no_fast_path = slow;
				stream_feed(&s, body.data, body.len);
				stream_finish(&s);
				if (s.error != NULL || s.nskipped != 0 ||
				    strcmp(buf_str(&s.text), cases[c].text) != 0)
					fail_msg("%s %s: got '%s' (%zu skipped)", protos[i],
					    cases[c].lit, buf_str(&s.text), s.nskipped);
				assert_int_equal(s.text.len, strlen(cases[c].text));
				assert_true(s.complete);
				stream_free(&s);
			}
		}
	}
	/* A raw NUL byte inside a string does not cut it off either. */
	stream_init(&s, &proto_ollama, NULL, NULL);
	stream_feed(&s, "{\"message\":{\"content\":\"a\0b\"},\"done\":true}\n", 42);
	stream_finish(&s);
	assert_int_equal(s.text.len, 5);
	assert_memory_equal(s.text.data, "a\xef\xbf\xbd" "b", 5);
	stream_free(&s);
	buf_free(&body);
}

/* A line over the cap ends the reply as truncated, saying so; what came before is kept,
 * the rest is ignored; the same at any split; SSE events and error bodies are capped too. */
static void
test_line_cap(void **state)
{
	static const char *const protos[] = { "openai", "ollama" };
	struct buf body = BUF_INIT, big = BUF_INIT;
	struct stream s;
	size_t i, k, j;

	(void)state;
	for (i = 0; i < 3000; i++)
		buf_putc(&big, 'x');
	for (i = 0; i < 2; i++) {
		for (k = 0; k < 3; k++) {
			size_t step = k == 0 ? SIZE_MAX : k == 1 ? 1 : 700;

			buf_reset(&body);
			if (i == 0)
				buf_printf(&body, "data: {\"choices\":[{\"delta\":{\"content\":\"a\"}}]}\n\n"
				    "data: {\"choices\":[{\"delta\":{\"content\":\"%s\"}}]}\n\n"
				    "data: {\"choices\":[{\"delta\":{\"content\":\"b\"}}]}\n\n"
				    "data: [DONE]\n\n", big.data);
			else
				buf_printf(&body, "{\"message\":{\"content\":\"a\"}}\n"
				    "{\"message\":{\"content\":\"%s\"}}\n"
				    "{\"message\":{\"content\":\"b\"},\"done\":true}\n", big.data);
			stream_init(&s, proto_find(protos[i]), NULL, NULL);
			stream_set_max_line(&s, 2048);
			for (j = 0; j < body.len; j += step)
				stream_feed(&s, body.data + j, step < body.len - j ? step : body.len - j);
			stream_finish(&s);
			assert_non_null(s.error);
			assert_int_equal(s.error->cls, APIERR_TRUNCATED);
			assert_int_equal(s.error->retryable, 0);
			assert_non_null(strstr(s.error->message, "longer than 2 KiB"));
			assert_string_equal(buf_str(&s.text), "a");
			assert_false(s.complete);
			/* The decoders dropped their buffers. */
			assert_true(s.sse.line.cap == 0 && s.nd.line.cap == 0);
			stream_free(&s);
		}
		/* Just under the cap is fine. */
		stream_init(&s, proto_find(protos[i]), NULL, NULL);
		stream_set_max_line(&s, body.len);
		stream_feed(&s, body.data, body.len);
		stream_finish(&s);
		assert_null(s.error);
		assert_true(s.complete);
		stream_free(&s);
	}
	/* Many short data lines make one long SSE event. */
	buf_reset(&body);
	for (i = 0; i < 400; i++)
		buf_puts(&body, "data: xxxxxxxxxx\n");
	buf_puts(&body, "\ndata: [DONE]\n\n");
	stream_init(&s, &proto_openai, NULL, NULL);
	stream_set_max_line(&s, 2048);
	stream_feed(&s, body.data, body.len);
	stream_finish(&s);
	assert_non_null(s.error);
	assert_int_equal(s.error->cls, APIERR_TRUNCATED);
	assert_true(s.sse.data.cap == 0);
	stream_free(&s);
	/* An error body keeps only its first max_line bytes. */
	stream_init(&s, &proto_openai, NULL, NULL);
	stream_set_status(&s, 500, NULL);
	stream_set_max_line(&s, 1024);
	stream_feed(&s, big.data, big.len);
	stream_feed(&s, big.data, big.len);
	assert_int_equal(s.body.len, 1024);
	stream_finish(&s);
	assert_int_equal(s.error->status, 500);
	stream_free(&s);
	/* The default. */
	stream_init(&s, &proto_openai, NULL, NULL);
	assert_int_equal(s.max_line, STREAM_MAX_LINE);
	assert_int_equal(s.sse.max_line, (size_t)16 << 20);
	stream_free(&s);
	buf_free(&body);
	buf_free(&big);
}

/* Time to decode n one-token SSE chunks through the OpenAI adapter. */
static double
time_decode(size_t n, size_t *text_len)
{
	struct buf body = BUF_INIT;
	struct stream s;
	struct timespec a, b;
	size_t i;

	for (i = 0; i < n; i++)
		buf_puts(&body, "data: {\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"choices\":"
		    "[{\"index\":0,\"delta\":{\"content\":\" tok\"},\"finish_reason\":null}]}\n\n");
	buf_puts(&body, "data: [DONE]\n\n");
	clock_gettime(CLOCK_MONOTONIC, &a);
	stream_init(&s, &proto_openai, NULL, NULL);
	for (i = 0; i < body.len; i += 1500)
		stream_feed(&s, body.data + i, body.len - i < 1500 ? body.len - i : 1500);
	stream_finish(&s);
	clock_gettime(CLOCK_MONOTONIC, &b);
	*text_len = s.text.len;
	assert_true(s.complete);
	stream_free(&s);
	buf_free(&body);
	return (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9;
}

/* A 20,000-token reply decodes in linear time: 3x the tokens costs well under 9x. */
static void
test_linear_cost(void **state)
{
	size_t len1, len3;
	double t1, t3;

	(void)state;
	/* The fastest of a few runs each: a machine busy with other tests only adds time. */
	t1 = time_decode(20000, &len1);
	t3 = time_decode(60000, &len3);
	for (int k = 0; k < 4; k++) {
		size_t l;
		double t = time_decode(20000, &l);

		if (t < t1)
			t1 = t;
		if (k < 2 && (t = time_decode(60000, &l)) < t3)
			t3 = t;
	}
	assert_int_equal(len1, 4 * 20000);
	assert_int_equal(len3, 4 * 60000);
	print_message("# 20000 tokens: %.1f ms, 60000 tokens: %.1f ms\n", t1 * 1e3, t3 * 1e3);
	/* Quadratic growth would make this 9x; leave room for noise on a shared machine. */
	assert_true(t3 < t1 * 6 + 0.05);
}

/* keep_text = 0 still reports deltas but stores nothing. */
static void
test_keep_text_off(void **state)
{
	static const char *const parts[] = { "a", "b", NULL };
	struct stream s;

	(void)state;
	stream_init(&s, &proto_openai, NULL, NULL);
	s.keep_text = 0;
	feed_contents(&s, parts);
	stream_finish(&s);
	assert_int_equal(s.text.len, 0);
	assert_int_equal(s.ntext_deltas, 2);
	stream_free(&s);
}

/* proto_find knows the protocol names and the vector aliases, nothing else. */
static void
test_find(void **state)
{
	(void)state;
	assert_ptr_equal(proto_find("openai"), &proto_openai);
	assert_ptr_equal(proto_find("openai-compatible"), &proto_openai);
	assert_ptr_equal(proto_find("anthropic-sse"), &proto_anthropic);
	assert_ptr_equal(proto_find("gemini"), &proto_gemini);
	assert_ptr_equal(proto_find("ollama-ndjson"), &proto_ollama);
	assert_null(proto_find("OpenAI"));
	assert_null(proto_find(""));
	assert_null(proto_find(NULL));
}

/* Record each delta as "kind:text" plus a separator. */
static void
record_delta(void *ud, const struct delta *d)
{
	struct buf *b = ud;

	buf_printf(b, "%d:", (int)d->kind);
	if (d->text != NULL)
		buf_append(b, d->text, d->len);
	buf_putc(b, '|');
}

/* Decode payloads in order, with or without the fast paths; deltas then summary into out.
 * Returns the number of chunks the shape cache handled. */
static size_t
decode_chunks(const char *const *chunks, size_t n, int no_fast, struct buf *out)
{
	struct stream s;
	size_t i, hits;

	stream_init(&s, &proto_openai, record_delta, out);
	s.no_fast_path = no_fast;
	for (i = 0; i < n; i++) {
		json_arena_begin();
		proto_openai.on_event(&s, "message", chunks[i], strlen(chunks[i]));
		json_arena_end();
	}
	stream_finish(&s);
	stream_summary_json(&s, out);
	hits = s.shape_hits;
	stream_free(&s);
	return hits;
}

#define CHUNK_HEAD "{\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"choices\":[{\"index\":0," \
	"\"delta\":{\"content\":\""
#define CHUNK_TAIL "\"},\"finish_reason\":null}],\"usage\":null}"

/* The shape cache: chunks that repeat the last content chunk's bytes around a new string
 * are decoded from the string alone, and every near miss decodes exactly as cJSON does. */
static void
test_shape_cache(void **state)
{
	static const char *const chunks[] = {
		CHUNK_HEAD "Hello" CHUNK_TAIL,
		CHUNK_HEAD ", world" CHUNK_TAIL,                 /* hit */
		CHUNK_HEAD " \\\"quoted\\\" \\u00e9\\n" CHUNK_TAIL, /* hit, escapes decoded */
		CHUNK_HEAD "" CHUNK_TAIL,                        /* hit, empty text */
		/* The string closes early and a key follows: the tail differs, so the whole
		 * chunk is checked again (and the duplicate content key is cJSON's business). */
		CHUNK_HEAD "a\",\"content\":\"b" CHUNK_TAIL,
		CHUNK_HEAD "after" CHUNK_TAIL,                   /* hit on the re-recorded shape */
		CHUNK_HEAD "x" "\"},\"finish_reason\":\"stop\"}],\"usage\":null}",
		/* A tail as long as the kept one but not the same bytes. */
		CHUNK_HEAD "y" "\"},\"finish_reason\":\"ab\"}],\"usage\":null}",
		CHUNK_HEAD "bad \\q escape" CHUNK_TAIL,          /* miss: cJSON refuses it */
		CHUNK_HEAD "cut" "\"},\"finish_reason\":null}],\"usage\":nul",
		CHUNK_HEAD "tail" CHUNK_TAIL " ",                /* miss: trailing blank */
		CHUNK_HEAD "end" CHUNK_TAIL,                     /* miss: re-recorded */
		CHUNK_HEAD "more" CHUNK_TAIL,                    /* hit */
	};
	struct buf fast = BUF_INIT, slow = BUF_INIT;
	size_t hits;

	(void)state;
	hits = decode_chunks(chunks, sizeof(chunks) / sizeof(chunks[0]), 0, &fast);
	assert_int_equal(decode_chunks(chunks, sizeof(chunks) / sizeof(chunks[0]), 1, &slow), 0);
	assert_string_equal(buf_str(&fast), buf_str(&slow));
	assert_non_null(strstr(buf_str(&fast), "0: \"quoted\" \xc3\xa9\n|"));
	assert_non_null(strstr(buf_str(&fast), "0:after|"));
	/* ", world", the escapes, "", "after" and "more". */
	assert_int_equal(hits, 5);
	buf_free(&fast);
	buf_free(&slow);
}

static void fast_record(void *ud, const struct delta *d);

/* Decode payloads of protocol p, each under its event name, fast or not, into out (deltas
 * with counts, then the summary); returns the shape cache's hits. */
static size_t
shape_decode(const struct proto *p, const char *const *events, const char *const *data,
    size_t n, int no_fast, struct buf *out)
{
	struct stream s;
	size_t i, hits;

	stream_init(&s, p, fast_record, out);
	s.no_fast_path = no_fast;
	for (i = 0; i < n; i++) {
		json_arena_begin();
		p->on_event(&s, events != NULL ? events[i] : NULL, data[i], strlen(data[i]));
		json_arena_end();
		buf_putc(out, '\n');
	}
	stream_finish(&s);
	stream_summary_json(&s, out);
	hits = s.shape_hits;
	stream_free(&s);
	return hits;
}

/* Run payloads both ways: the same deltas and summary, and the shape cache took want. */
static void
shape_compare(const struct proto *p, const char *const *events, const char *const *data,
    size_t n, size_t want)
{
	struct buf fast = BUF_INIT, slow = BUF_INIT;

	assert_int_equal(shape_decode(p, events, data, n, 0, &fast), want);
	assert_int_equal(shape_decode(p, events, data, n, 1, &slow), 0);
	assert_string_equal(buf_str(&fast), buf_str(&slow));
	buf_free(&fast);
	buf_free(&slow);
}

#define ANT_DELTA(t) "{\"type\":\"content_block_delta\",\"index\":0,\"delta\":" \
	"{\"type\":\"text_delta\",\"text\":\"" t "\"}}"
#define ANT_THINK(t) "{\"type\":\"content_block_delta\",\"index\":0,\"delta\":" \
	"{\"type\":\"thinking_delta\",\"thinking\":\"" t "\"}}"
#define GEM_PART(t, u) "{\"candidates\": [{\"content\": {\"parts\": [{\"text\": \"" t \
	"\"}], \"role\": \"model\"}, \"index\": 0}], \"usageMetadata\": " \
	"{\"promptTokenCount\": 3, \"totalTokenCount\": " u "}, \"modelVersion\": \"g\"}"
#define OLL_LINE(k, t) "{\"model\":\"m\",\"created_at\":\"2026-01-01T00:00:00Z\"," \
	"\"message\":{\"role\":\"assistant\",\"" k "\":\"" t "\"},\"done\":false}"

/* The shape cache serves Anthropic, Gemini and Ollama too, exactly as their fast paths
 * and cJSON decode: the event name is part of the shape (a delta's bytes under "ping" are
 * not text), so are the counts Gemini repeats, and reasoning stays reasoning. */
static void
test_shape_cache_adapters(void **state)
{
	static const char *const ant_ev[] = { "content_block_delta", "content_block_delta",
		"content_block_delta", "ping", "content_block_delta", "content_block_delta",
		"content_block_delta", "content_block_delta" };
	static const char *const ant[] = { ANT_DELTA("Hel"), ANT_DELTA("lo"),
		ANT_DELTA(" \\\"q\\\""), ANT_DELTA("not text"), ANT_DELTA("!"),
		ANT_THINK("hm"), ANT_THINK("m"), ANT_DELTA("done") };
	static const char *const gem[] = { GEM_PART("a", "4"), GEM_PART("b", "4"),
		GEM_PART("c", "5"), GEM_PART("d", "5"), GEM_PART("bad \\q", "5"),
		GEM_PART("e", "5") };
	static const char *const oll[] = { OLL_LINE("thinking", "t1"), OLL_LINE("thinking", "t2"),
		OLL_LINE("content", "c1"), OLL_LINE("content", "c2"), OLL_LINE("content", "c3") };

	(void)state;
	/* "lo", the escaped quotes, "!" (the shape kept before "ping"), "m", not "done". */
	shape_compare(&proto_anthropic, ant_ev, ant, sizeof(ant) / sizeof(ant[0]), 4);
	/* "b", "d" (its counts are the kept ones), "e" after the refused escape. */
	shape_compare(&proto_gemini, NULL, gem, sizeof(gem) / sizeof(gem[0]), 3);
	/* "t2", "c2", "c3". */
	shape_compare(&proto_ollama, NULL, oll, sizeof(oll) / sizeof(oll[0]), 3);
}

/*
 * The fast paths of Anthropic, Ollama and Gemini: each payload is decoded once with the
 * scanner allowed and once through cJSON only, one payload at a time; the deltas (with
 * usage counts and finish reasons) and the summary must be the same, and each payload must
 * take the fast path exactly when its mark says so ('1' fast, '0' cJSON, '?' either).
 */
struct fast_case {
	const char *data;
	char mark;       /* for data dispatched by data.type (no event name) */
	char named;      /* for the event name content_block_delta (Anthropic only) */
};

/* Record a delta with everything it carries. */
static void
fast_record(void *ud, const struct delta *d)
{
	struct buf *b = ud;

	buf_printf(b, "%d:", (int)d->kind);
	if (d->text != NULL)
		buf_append(b, d->text, d->len);
	if (d->finish_reason != NULL)
		buf_puts(b, d->finish_reason);
	if (d->usage != NULL)
		buf_printf(b, "%ld,%ld,%ld,%ld", d->usage->input_tokens, d->usage->output_tokens,
		    d->usage->reasoning_tokens, d->usage->total_tokens);
	buf_putc(b, '|');
}

/* Decode the cases with protocol p under the event name, fast or not, into out; check
 * which payloads took the fast path against the marks (named marks when use_named is 1,
 * none fast when it is 2). */
static void
fast_decode(const struct proto *p, const char *event, const struct fast_case *c, size_t n,
    int no_fast, int use_named, struct buf *out)
{
	struct stream s;
	size_t i, before;
	char mark;

	stream_init(&s, p, fast_record, out);
	s.no_fast_path = no_fast;
	for (i = 0; i < n; i++) {
		before = s.fast_events;
		json_arena_begin();
		p->on_event(&s, event, c[i].data, strlen(c[i].data));
		json_arena_end();
		mark = no_fast || use_named == 2 ? '0' : use_named ? c[i].named : c[i].mark;
		if (mark != '?' && (s.fast_events - before) != (size_t)(mark == '1'))
			fail_msg("%s %s: payload %zu (%s) %s the fast path", p->name,
			    event != NULL ? event : "-", i, c[i].data,
			    mark == '1' ? "missed" : "took");
		buf_putc(out, '\n');
	}
	stream_finish(&s);
	stream_summary_json(&s, out);
	stream_free(&s);
}

/* Run the cases both ways and compare. */
static void
fast_compare(const struct proto *p, const char *event, const struct fast_case *c, size_t n,
    int use_named)
{
	struct buf fast = BUF_INIT, slow = BUF_INIT;

	fast_decode(p, event, c, n, 0, use_named, &fast);
	fast_decode(p, event, c, n, 1, use_named, &slow);
	assert_string_equal(buf_str(&fast), buf_str(&slow));
	buf_free(&fast);
	buf_free(&slow);
}

#define AD(d) "{\"type\":\"content_block_delta\",\"index\":0,\"delta\":" d "}"

/* Anthropic: text and thinking deltas are fast, under the event name or by data.type. */
static void
test_fast_anthropic(void **state)
{
	static const struct fast_case c[] = {
		{ AD("{\"type\":\"text_delta\",\"text\":\"Hello\"}"), '1', '1' },
		{ AD("{\"type\":\"text_delta\",\"text\":\" \\\"q\\\" \\u00e9\\n\\t\\\\/\\/\"}"), '1', '1' },
		{ AD("{\"text\":\"h\xc3\xa9llo \xe2\x9c\x93\",\"type\":\"text_delta\"}"), '1', '1' },
		{ AD("{\"type\":\"text_delta\",\"text\":\"\\ud83d\\udc99 \\ud800 \\u0000\"}"), '?', '?' },
		{ AD("{\"type\":\"text_delta\",\"text\":\"\"}"), '1', '1' },
		{ AD("{\"type\":\"thinking_delta\",\"thinking\":\"let me \\\"think\\\"\"}"), '1', '1' },
		{ AD("{\"type\":\"text_delta\",\"thinking\":\"no\"}"), '0', '0' },
		{ AD("{\"type\":\"thinking_delta\",\"text\":\"no\"}"), '0', '0' },
		{ AD("{\"type\":\"text\",\"text\":\"start-style\"}"), '0', '0' },
		{ AD("{\"type\":\"signature_delta\",\"signature\":\"c2ln\"}"), '0', '0' },
		{ AD("{\"type\":\"input_json_delta\",\"partial_json\":\"{\"}"), '0', '0' },
		{ AD("{\"type\":\"text_delta\",\"text\":\"a\",\"text\":\"b\"}"), '0', '0' },
		{ AD("{\"type\":\"text_delta\",\"t\\u0065xt\":\"esc key\"}"), '0', '0' },
		{ AD("{\"type\":\"text_delta\",\"text\":\"bad \\q\"}"), '0', '0' },
		{ AD("{\"type\":\"text_delta\",\"text\":\"x\"}") " junk", '0', '0' },
		{ AD("{\"type\":\"text_delta\",\"text\":null}"), '0', '0' },
		{ "{\"type\":\"content_block_delta\",\"index\":0,\"extra\":1,\"delta\":"
		  "{\"type\":\"text_delta\",\"text\":\"odd key\"}}", '0', '0' },
		{ "{\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"no type\"}}", '0', '1' },
		{ "{\"type\":\"content_block_start\",\"index\":1,\"content_block\":"
		  "{\"type\":\"text\",\"text\":\"\"}}", '0', '0' },
		{ "{\"type\":\"message_start\",\"message\":{\"usage\":{\"input_tokens\":7}}}", '0', '0' },
		{ "{\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\"},"
		  "\"usage\":{\"output_tokens\":9}}", '0', '0' },
		{ "{\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\",\"message\":\"busy\"}}",
		  '0', '0' },
		{ AD("{\"type\":\"text_delta\",\"text\":\"after\"}"), '1', '1' },
		{ "{\"type\":\"message_stop\"}", '0', '0' },
	};
	size_t n = sizeof c / sizeof c[0];

	(void)state;
	fast_compare(&proto_anthropic, NULL, c, n, 0);
	fast_compare(&proto_anthropic, "message", c, n, 0);
	fast_compare(&proto_anthropic, "content_block_delta", c, n, 1);
	/* Under any other event name nothing is fast: the name decides. */
	fast_compare(&proto_anthropic, "ping", c, n, 2);
}

#define OL(m) "{\"model\":\"m\",\"created_at\":\"2025-01-01T00:00:00Z\",\"message\":" m \
	",\"done\":false}"

/* Ollama: content and thinking lines are fast; the last line and anything odd are not. */
static void
test_fast_ollama(void **state)
{
	static const struct fast_case c[] = {
		{ OL("{\"role\":\"assistant\",\"content\":\"Hi\"}"), '1', 0 },
		{ OL("{\"role\":\"assistant\",\"content\":\"\\\"q\\\"\\n\\u00e9\\\\\"}"), '1', 0 },
		{ OL("{\"role\":\"assistant\",\"content\":\"\",\"thinking\":\"hmm \\\"x\\\"\"}"), '1', 0 },
		{ OL("{\"thinking\":\"a\\n\",\"content\":\"b\"}"), '1', 0 },
		{ OL("{\"thinking\":\"a\",\"content\":\"b\\n\"}"), '0', 0 },
		{ OL("{\"thinking\":\"a\",\"content\":\"\\q\"}"), '0', 0 },
		{ OL("{\"content\":\"h\xc3\xa9 \xe2\x9c\x93 \\ud83d\\udc99\"}"), '?', 0 },
		{ OL("{\"content\":\"\"}"), '1', 0 },
		{ OL("{\"content\":null}"), '0', 0 },
		{ OL("{\"content\":\"a\",\"content\":\"b\"}"), '0', 0 },
		{ OL("{\"content\":\"x\",\"images\":null}"), '0', 0 },
		{ OL("{\"c\\u006fntent\":\"esc key\"}"), '0', 0 },
		{ "{\"message\":{\"content\":\"no done\"}}", '1', 0 },
		{ "{\"message\":{\"content\":\"x\"},\"done\":\"false\"}", '0', 0 },
		{ "{\"message\":{\"content\":\"x\"},\"done\":false,\"eval_count\":3}", '0', 0 },
		{ "{\"message\":{\"content\":\"x\"},\"done\":false} ,", '0', 0 },
		{ "{\"error\":\"boom\"}", '0', 0 },
		{ "{\"model\":\"m\",\"message\":{\"content\":\"end\"},\"done\":true,"
		  "\"done_reason\":\"stop\",\"prompt_eval_count\":4,\"eval_count\":6}", '0', 0 },
	};

	(void)state;
	fast_compare(&proto_ollama, NULL, c, sizeof c / sizeof c[0], 0);
}

#define GM(part) "{\"candidates\":[{\"content\":{\"parts\":[" part "],\"role\":\"model\"}," \
	"\"index\":0}],\"usageMetadata\":{\"promptTokenCount\":5,\"totalTokenCount\":5}," \
	"\"modelVersion\":\"g\"}"
#define GU(usage) "{\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"u\"}]}}]," \
	"\"usageMetadata\":" usage "}"

/* Gemini: one text part (thought or not) with the growing usage is fast; finish reasons,
 * more parts or candidates, odd counts and keys are not. */
static void
test_fast_gemini(void **state)
{
	static const struct fast_case c[] = {
		{ GM("{\"text\":\"Hi\"}"), '1', 0 },
		{ GM("{\"text\":\"\\\"q\\\" \\u00e9\\n\\\\ \xe2\x9c\x93\"}"), '1', 0 },
		{ GM("{\"text\":\"\"}"), '1', 0 },
		{ GM("{\"text\":\"hmm\",\"thought\":true}"), '1', 0 },
		{ GM("{\"thought\":false,\"text\":\"plain\"}"), '1', 0 },
		{ GM("{\"text\":\"sig\",\"thoughtSignature\":\"c2ln\"}"), '1', 0 },
		{ GM("{\"text\":\"\\ud83d\\udc99 \\ud800 \\u0000\"}"), '?', 0 },
		{ GM("{\"text\":\"a\"},{\"text\":\"b\"}"), '0', 0 },
		{ GM("{\"text\":\"a\",\"thought\":1}"), '0', 0 },
		{ GM("{\"text\":\"a\",\"text\":\"b\"}"), '0', 0 },
		{ GM("{\"text\":\"bad \\q\"}"), '0', 0 },
		{ GM("{\"functionCall\":{\"name\":\"f\"}}"), '0', 0 },
		{ GM("{\"te\\u0078t\":\"esc key\"}"), '0', 0 },
		{ GU("{\"promptTokenCount\":0,\"candidatesTokenCount\":12,\"thoughtsTokenCount\":3,"
		     "\"totalTokenCount\":15,\"promptTokensDetails\":[{\"modality\":\"TEXT\","
		     "\"tokenCount\":0}]}"), '1', 0 },
		{ GU("{\"promptTokenCount\":5.0}"), '0', 0 },
		{ GU("{\"promptTokenCount\":-1}"), '0', 0 },
		{ GU("{\"promptTokenCount\":1234567890123456}"), '0', 0 },
		{ GU("{\"promptTokenCount\":1,\"promptTokenCount\":2}"), '0', 0 },
		{ GU("{\"promptTokenCount\":\"3\"}"), '0', 0 },
		{ GU("{\"pr\\u006fmptTokenCount\":3}"), '0', 0 },
		{ GU("null"), '0', 0 },
		{ GU("{}"), '1', 0 },
		{ "{\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"no usage\"}]}}],"
		  "\"responseId\":\"r1\"}", '1', 0 },
		{ "{\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"a\"}]}},"
		  "{\"content\":{\"parts\":[{\"text\":\"b\"}]}}]}", '0', 0 },
		{ "[{\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"array\"}]}}]}]", '0', 0 },
		{ "{\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"x\"}]},"
		  "\"safetyRatings\":[]}]}", '0', 0 },
		{ "{\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"x\"}]}}],"
		  "\"promptFeedback\":{\"blockReason\":\"SAFETY\"}}", '0', 0 },
		{ "{\"error\":{\"code\":500,\"message\":\"boom\"}}", '0', 0 },
		{ "{\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"end\"}],\"role\":\"model\"},"
		  "\"finishReason\":\"STOP\",\"index\":0}],\"usageMetadata\":{\"promptTokenCount\":5,"
		  "\"candidatesTokenCount\":9,\"totalTokenCount\":14}}", '0', 0 },
	};

	(void)state;
	fast_compare(&proto_gemini, NULL, c, sizeof c / sizeof c[0], 0);
}

/* Copies are deep: freeing the original leaves the copy intact. */
static void
test_copies(void **state)
{
	struct request *r = make_request("anthropic", "https://x/v1", "secret", "m"), *c;

	(void)state;
	r->params.reasoning_effort = xstrdup("low");
	c = request_dup(r);
	request_free(r);
	assert_string_equal(c->provider->key, "secret");
	assert_string_equal(c->provider->headers[0], "X-Extra: yes");
	assert_ptr_equal(c->provider->proto, &proto_anthropic);
	assert_string_equal(c->system, "Be brief.");
	assert_int_equal(c->nmsgs, 3);
	assert_string_equal(c->msgs[2].content, "More");
	assert_string_equal(c->params.stop[1], "\n\nUser:");
	assert_string_equal(c->params.reasoning_effort, "low");
	assert_string_equal(request_role_name(ROLE_ASSISTANT), "assistant");
	request_free(c);
}

/*
 * Whole (non-streaming) replies: the 2xx body of a no_stream request decoded by each
 * adapter's parse_reply through stream_set_whole.
 */

/* Decode body (len bytes) as a whole reply of protocol, fed step bytes at a time, with the
 * deltas recorded into deltas when it is not NULL; s is left finished. */
static void
whole_decode(struct stream *s, const char *protocol, const char *body, size_t len,
    size_t step, struct buf *deltas)
{
	size_t i;

	stream_init(s, proto_find(protocol), deltas != NULL ? record_delta : NULL, deltas);
	stream_set_whole(s);
	for (i = 0; i < len; i += step)
		stream_feed(s, body + i, len - i < step ? len - i : step);
	stream_finish(s);
}

/* Check that body decodes to the summary want, in one piece and one byte at a time. */
static void
check_reply(const char *protocol, const char *body, const char *want)
{
	struct buf a = BUF_INIT, b = BUF_INIT;
	struct stream s;

	whole_decode(&s, protocol, body, strlen(body), SIZE_MAX, NULL);
	stream_summary_json(&s, &a);
	stream_free(&s);
	if (strcmp(buf_str(&a), want) != 0)
		fail_msg("%s: %s\n  got  %s\n  want %s", protocol, body, buf_str(&a), want);
	whole_decode(&s, protocol, body, strlen(body), 1, NULL);
	stream_summary_json(&s, &b);
	stream_free(&s);
	assert_string_equal(buf_str(&b), want);
	buf_free(&a);
	buf_free(&b);
}

/* Decode body as a whole reply and expect an error of class cls from inside the 200. */
static void
check_reply_error(struct stream *s, const char *protocol, const char *body,
    enum apierr_class cls)
{
	whole_decode(s, protocol, body, strlen(body), SIZE_MAX, NULL);
	if (s->error == NULL)
		fail_msg("%s: %s: no error", protocol, body);
	assert_int_equal(s->error->kind, cls == APIERR_BLOCKED ? APIERR_KIND_BLOCKED :
	    APIERR_STREAM);
	if (s->error->cls != cls)
		fail_msg("%s: %s: class %s", protocol, body, apierr_class_name(s->error->cls));
	assert_false(s->complete);
}

/* Every adapter builds the non-streaming form when the request says no_stream, and the
 * flag survives a copy. */
static void
test_build_no_stream(void **state)
{
	static const char *const protos[] = { "openai", "anthropic", "gemini", "ollama" };
	struct request *r, *c;
	struct http_req h;
	cJSON *b;
	size_t i;

	(void)state;
	for (i = 0; i < 4; i++) {
		r = make_request(protos[i], "https://x/v1", "k", "m");
		r->no_stream = 1;
		c = request_dup(r);
		request_free(r);
		assert_int_equal(c->no_stream, 1);
		b = build(c, &h);
		assert_true(find_header(&h, "Accept: application/json") >= 0);
		assert_int_equal(find_header(&h, "Accept: text/event-stream"), -1);
		assert_null(strstr(h.url, "alt=sse"));
		assert_null(strstr(h.url, "stream"));
		assert_null(cJSON_GetObjectItemCaseSensitive(b, "stream_options"));
		if (i == 2) {
			assert_string_equal(h.url, "https://x/v1/models/m:generateContent");
			assert_null(cJSON_GetObjectItemCaseSensitive(b, "stream"));
			assert_int_equal(cJSON_GetArraySize(
			    cJSON_GetObjectItemCaseSensitive(b, "contents")), 3);
		} else {
			assert_true(cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(b, "stream")));
			assert_true(cJSON_GetArraySize(
			    cJSON_GetObjectItemCaseSensitive(b, "messages")) >= 3);
		}
		cJSON_Delete(b);
		http_req_free(&h);
		request_free(c);
	}
}

/* The JSON text of item at a slash path ("messages/1/tool_calls/0/id"), numbers as array
 * indexes; "" when missing. Caller frees. */
static char *
json_at(const cJSON *root, const char *path)
{
	const cJSON *j = root;
	char *copy = xstrdup(path), *tok, *save = NULL, *out;

	for (tok = strtok_r(copy, "/", &save); tok != NULL && j != NULL;
	    tok = strtok_r(NULL, "/", &save))
		j = tok[0] >= '0' && tok[0] <= '9' ? cJSON_GetArrayItem(j, atoi(tok)) :
		    cJSON_GetObjectItemCaseSensitive(j, tok);
	free(copy);
	if (j == NULL)
		return xstrdup("");
	out = cJSON_PrintUnformatted(j);
	return out;
}

/* Assert the JSON at path in b. */
static void
assert_json_at(const cJSON *b, const char *path, const char *want)
{
	char *got = json_at(b, path);

	if (strcmp(got, want) != 0)
		fail_msg("%s: got %s, want %s", path, got, want);
	free(got);
}

/* Tools go out in each protocol's shape: the declarations, the reply's calls (with
 * Gemini's signature) and the results, and a call with no result is answered. */
static void
test_build_tools(void **state)
{
	static const char *const protos[] = { "openai", "anthropic", "gemini", "ollama" };
	struct request *r;
	struct http_req h;
	cJSON *b;
	size_t i;

	(void)state;
	for (i = 0; i < 4; i++) {
		r = make_request(protos[i], "https://x/v1", "k", "m");
		request_add(r, ROLE_ASSISTANT, "");
		request_add_call(r, "c1", "get_weather", "{\"city\":\"Oslo\"}", "sig");
		request_add_result(r, "c1", "get_weather", "sunny", 0);
		request_add_tool(r, "get_weather", "Weather by city",
		    "{\"type\":\"object\",\"properties\":{\"city\":{\"type\":\"string\"}}}");
		b = build(r, &h);
		switch (i) {
		case 0:
			assert_json_at(b, "tools/0/type", "\"function\"");
			assert_json_at(b, "tools/0/function/name", "\"get_weather\"");
			assert_json_at(b, "tools/0/function/parameters/properties/city/type",
			    "\"string\"");
			assert_json_at(b, "messages/4/content", "null");
			assert_json_at(b, "messages/4/tool_calls/0/id", "\"c1\"");
			assert_json_at(b, "messages/4/tool_calls/0/function/arguments",
			    "\"{\\\"city\\\":\\\"Oslo\\\"}\"");
			assert_json_at(b, "messages/5/role", "\"tool\"");
			assert_json_at(b, "messages/5/tool_call_id", "\"c1\"");
			assert_json_at(b, "messages/5/content", "\"sunny\"");
			break;
		case 1:
			assert_json_at(b, "tools/0/input_schema/type", "\"object\"");
			assert_json_at(b, "messages/3/role", "\"assistant\"");
			assert_json_at(b, "messages/3/content/0/type", "\"tool_use\"");
			assert_json_at(b, "messages/3/content/0/input", "{\"city\":\"Oslo\"}");
			assert_json_at(b, "messages/4/role", "\"user\"");
			assert_json_at(b, "messages/4/content/0/tool_use_id", "\"c1\"");
			assert_json_at(b, "messages/4/content/0/content", "\"sunny\"");
			break;
		case 2:
			assert_json_at(b, "tools/0/functionDeclarations/0/name", "\"get_weather\"");
			assert_json_at(b, "tools/0/functionDeclarations/0/parametersJsonSchema/type",
			    "\"object\"");
			assert_json_at(b, "contents/3/role", "\"model\"");
			assert_json_at(b, "contents/3/parts/0/functionCall/args", "{\"city\":\"Oslo\"}");
			assert_json_at(b, "contents/3/parts/0/thoughtSignature", "\"sig\"");
			assert_json_at(b, "contents/4/parts/0/functionResponse/name",
			    "\"get_weather\"");
			assert_json_at(b, "contents/4/parts/0/functionResponse/response/result",
			    "\"sunny\"");
			break;
		case 3:
			assert_json_at(b, "tools/0/function/name", "\"get_weather\"");
			assert_json_at(b, "messages/4/tool_calls/0/function/arguments",
			    "{\"city\":\"Oslo\"}");
			assert_json_at(b, "messages/5/tool_name", "\"get_weather\"");
			break;
		}
		cJSON_Delete(b);
		http_req_free(&h);
		request_free(r);
	}
}

/* Two calls of one round: Anthropic and Gemini answer both in one user message (the APIs
 * refuse a round answered over two), OpenAI and Ollama with a tool message each. Without
 * tools declared, Anthropic (which refuses tool blocks then) gets the calls as text. */
static void
test_build_tool_round(void **state)
{
	static const char *const protos[] = { "openai", "anthropic", "gemini", "ollama" };
	struct request *r;
	struct http_req h;
	cJSON *b;
	size_t i;
	int tools;

	(void)state;
	for (tools = 1; tools >= 0; tools--) {
		for (i = 0; i < 4; i++) {
			r = make_request(protos[i], "https://x/v1", "k", "m");
			request_add(r, ROLE_ASSISTANT, "Looking.");
			request_add_call(r, "c1", "f", "{\"n\":1}", NULL);
			request_add_call(r, "c2", "g", "{}", NULL);
			request_add_result(r, "c1", "f", "one", 0);
			request_add_result(r, "c2", "g", "no", 1);
			request_add(r, ROLE_USER, "next");
			if (tools)
				request_add_tool(r, "f", "", "{\"type\":\"object\"}");
			b = build(r, &h);
			if (i == 1 && tools) {
				assert_json_at(b, "messages/4/content/0/tool_use_id", "\"c1\"");
				assert_json_at(b, "messages/4/content/1/tool_use_id", "\"c2\"");
				assert_json_at(b, "messages/4/content/1/is_error", "true");
				assert_json_at(b, "messages/5/content", "\"next\"");
			} else if (i == 1) {
				assert_json_at(b, "messages/3/content", "\"Looking.\\n[called tool f "
				    "with {\\\"n\\\":1}]\\n[called tool g with {}]\"");
				assert_json_at(b, "messages/4/content", "\"[tool f returned: one]\"");
				assert_json_at(b, "messages/5/content", "\"[tool g failed: no]\"");
				assert_json_at(b, "tools", "");
			} else if (i == 2) {
				assert_json_at(b, "contents/4/parts/0/functionResponse/name", "\"f\"");
				assert_json_at(b, "contents/4/parts/1/functionResponse/name", "\"g\"");
				assert_json_at(b, "contents/4/parts/1/functionResponse/response/error",
				    "\"no\"");
				assert_json_at(b, "contents/5/parts/0/text", "\"next\"");
				/* Calls made elsewhere are unsigned: the first says to skip the check. */
				assert_json_at(b, "contents/3/parts/1/thoughtSignature",
				    "\"skip_thought_signature_validator\"");
				assert_json_at(b, "contents/3/parts/2/thoughtSignature", "");
			} else {
				assert_json_at(b, "messages/5/role", "\"tool\"");
				assert_json_at(b, "messages/6/role", "\"tool\"");
				assert_json_at(b, "messages/7/content", "\"next\"");
			}
			cJSON_Delete(b);
			http_req_free(&h);
			request_free(r);
		}
	}
}

/* OpenAI chat.completion: content, reasoning_content over reasoning, inline <think>,
 * refusals, content parts, finish reasons, usage (with reasoning tokens, or x_groq). */
static void
test_reply_openai(void **state)
{
	(void)state;
	check_reply("openai", "{\"id\":\"chatcmpl-1\",\"object\":\"chat.completion\",\"created\":1,"
	    "\"model\":\"m\",\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\","
	    "\"content\":\"Hello there\",\"refusal\":null},\"logprobs\":null,\"finish_reason\":"
	    "\"stop\"}],\"usage\":{\"prompt_tokens\":5,\"completion_tokens\":2,\"total_tokens\":7,"
	    "\"completion_tokens_details\":{\"reasoning_tokens\":0}}}",
	    "{\"text\":\"Hello there\",\"finish_reason\":\"stop\",\"usage\":{\"input_tokens\":5,"
	    "\"output_tokens\":2,\"total_tokens\":7,\"reasoning_tokens\":0},\"complete\":true}");
	/* DeepSeek's field wins over the copy some shims add, and is counted once. */
	check_reply("openai", "{\"object\":\"chat.completion\",\"choices\":[{\"index\":0,\"message\":"
	    "{\"content\":\"42\",\"reasoning_content\":\"think hard\",\"reasoning\":\"think hard\"},"
	    "\"finish_reason\":\"length\"}],\"usage\":{\"prompt_tokens\":3,\"completion_tokens\":9,"
	    "\"total_tokens\":12,\"completion_tokens_details\":{\"reasoning_tokens\":7}}}",
	    "{\"text\":\"42\",\"reasoning\":\"think hard\",\"finish_reason\":\"length\",\"usage\":"
	    "{\"input_tokens\":3,\"output_tokens\":9,\"total_tokens\":12,\"reasoning_tokens\":7},"
	    "\"complete\":true}");
	check_reply("openai", "{\"choices\":[{\"message\":{\"content\":\"ok\",\"reasoning\":\"hmm\"},"
	    "\"finish_reason\":\"stop\"}]}",
	    "{\"text\":\"ok\",\"reasoning\":\"hmm\",\"finish_reason\":\"stop\",\"complete\":true}");
	check_reply("openai", "{\"choices\":[{\"message\":{\"content\":\"<think>plan</think>\\n\\n"
	    "Answer\"},\"finish_reason\":\"stop\"}]}",
	    "{\"text\":\"Answer\",\"reasoning\":\"plan\",\"finish_reason\":\"stop\",\"complete\":true}");
	check_reply("openai", "{\"choices\":[{\"message\":{\"content\":null,\"refusal\":\"I can't\"},"
	    "\"finish_reason\":\"content_filter\"}]}",
	    "{\"text\":\"I can't\",\"finish_reason\":\"content_filter\",\"complete\":true}");
	check_reply("openai", "{\"choices\":[{\"message\":{\"content\":[{\"type\":\"text\",\"text\":"
	    "\"a\"},{\"type\":\"image_url\",\"text\":\"no\"},{\"type\":\"text\",\"text\":\"b\"}]},"
	    "\"finish_reason\":\"stop\"}],\"error\":null}",
	    "{\"text\":\"ab\",\"finish_reason\":\"stop\",\"complete\":true}");
	check_reply("openai", "{\"choices\":[{\"message\":{\"content\":\"x\"},\"finish_reason\":"
	    "\"stop\"}],\"x_groq\":{\"usage\":{\"prompt_tokens\":1,\"completion_tokens\":1,"
	    "\"total_tokens\":2}}}",
	    "{\"text\":\"x\",\"finish_reason\":\"stop\",\"usage\":{\"input_tokens\":1,"
	    "\"output_tokens\":1,\"total_tokens\":2},\"complete\":true}");
}

/* OpenAI error shapes in a 200 body are errors, not replies. */
static void
test_reply_openai_errors(void **state)
{
	struct stream s;

	(void)state;
	check_reply_error(&s, "openai", "{\"error\":{\"message\":\"Invalid model\",\"type\":"
	    "\"invalid_request_error\",\"code\":\"model_not_found\"}}", APIERR_NOT_FOUND);
	assert_string_equal(s.error->message, "Invalid model");
	assert_int_equal(s.text.len, 0);
	stream_free(&s);
	check_reply_error(&s, "openai", "{\"object\":\"error\",\"message\":\"This model's maximum "
	    "context length is 2048 tokens.\",\"type\":\"BadRequestError\",\"param\":null,"
	    "\"code\":400}", APIERR_CONTEXT_LENGTH);
	stream_free(&s);
	/* OpenRouter: the error rides on a completion whose finish reason is "error". */
	check_reply_error(&s, "openai", "{\"choices\":[{\"message\":{\"content\":\"lost\"},"
	    "\"finish_reason\":\"error\"}],\"error\":{\"code\":502,\"message\":\"upstream down\"}}",
	    APIERR_SERVER);
	assert_string_equal(s.finish_reason, "error");
	assert_string_equal(s.error->message, "upstream down");
	assert_int_equal(s.text.len, 0);
	stream_free(&s);
}

/* Anthropic Message: thinking and text blocks in order (others ignored), stop reason,
 * usage; an error object is an error. */
static void
test_reply_anthropic(void **state)
{
	struct buf deltas = BUF_INIT;
	const char *msg = "{\"id\":\"msg_1\",\"type\":\"message\",\"role\":\"assistant\",\"model\":"
	    "\"c\",\"content\":[{\"type\":\"thinking\",\"thinking\":\"Let me see.\",\"signature\":"
	    "\"c2ln\"},{\"type\":\"redacted_thinking\",\"data\":\"xx\"},{\"type\":\"text\",\"text\":"
	    "\"Hi!\"},{\"type\":\"tool_use\",\"id\":\"t\",\"name\":\"f\",\"input\":{}}],"
	    "\"stop_reason\":\"end_turn\",\"stop_sequence\":null,\"usage\":{\"input_tokens\":11,"
	    "\"output_tokens\":6}}";
	struct stream s;

	(void)state;
	check_reply("anthropic", msg, "{\"text\":\"Hi!\",\"reasoning\":\"Let me see.\","
	    "\"finish_reason\":\"end_turn\",\"usage\":{\"input_tokens\":11,\"output_tokens\":6},"
	    "\"tool_calls\":[{\"id\":\"t\",\"name\":\"f\",\"arguments\":{}}],\"complete\":true}");
	/* The deltas a stream would give, each block whole. */
	whole_decode(&s, "anthropic", msg, strlen(msg), 7, &deltas);
	assert_string_equal(buf_str(&deltas), "1:Let me see.|0:Hi!|3:|2:|5:|");
	stream_free(&s);
	buf_free(&deltas);
	check_reply("anthropic", "{\"type\":\"message\",\"content\":[{\"type\":\"text\",\"text\":"
	    "\"a\"},{\"type\":\"text\",\"text\":\"b\"}],\"stop_reason\":\"max_tokens\"}",
	    "{\"text\":\"ab\",\"finish_reason\":\"max_tokens\",\"complete\":true}");
	check_reply_error(&s, "anthropic", "{\"type\":\"error\",\"error\":{\"type\":"
	    "\"overloaded_error\",\"message\":\"Overloaded\"},\"request_id\":\"req_9\"}",
	    APIERR_OVERLOADED);
	assert_string_equal(s.error->request_id, "req_9");
	assert_int_equal(s.error->retryable, 1);
	stream_free(&s);
	check_reply_error(&s, "anthropic", "{\"error\":{\"type\":\"authentication_error\","
	    "\"message\":\"invalid x-api-key\"}}", APIERR_AUTH);
	stream_free(&s);
}

/* Gemini GenerateContentResponse: thought parts are reasoning, finishReason makes it whole,
 * usageMetadata; a blocked prompt, an error (bare or in an array) and arrays of responses. */
static void
test_reply_gemini(void **state)
{
	struct stream s;

	(void)state;
	check_reply("gemini", "{\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"Plan.\","
	    "\"thought\":true},{\"text\":\"Hel\"},{\"text\":\"lo\"}],\"role\":\"model\"},"
	    "\"finishReason\":\"STOP\",\"index\":0}],\"usageMetadata\":{\"promptTokenCount\":8,"
	    "\"candidatesTokenCount\":2,\"thoughtsTokenCount\":4,\"totalTokenCount\":14},"
	    "\"modelVersion\":\"gemini-2.5-flash\"}",
	    "{\"text\":\"Hello\",\"reasoning\":\"Plan.\",\"finish_reason\":\"STOP\",\"usage\":"
	    "{\"input_tokens\":8,\"output_tokens\":2,\"total_tokens\":14,\"reasoning_tokens\":4},"
	    "\"complete\":true}");
	check_reply("gemini", "{\"candidates\":[{\"content\":{\"role\":\"model\"},\"finishReason\":"
	    "\"MAX_TOKENS\"}]}", "{\"text\":\"\",\"finish_reason\":\"MAX_TOKENS\",\"complete\":true}");
	/* Without a finishReason the reply is not known to be whole. */
	check_reply("gemini", "{\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"x\"}]}}]}",
	    "{\"text\":\"x\",\"finish_reason\":null,\"complete\":false}");
	check_reply("gemini", "[{\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"a\"}]}}]},"
	    "{\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"b\"}]},\"finishReason\":"
	    "\"STOP\"}]}]", "{\"text\":\"ab\",\"finish_reason\":\"STOP\",\"complete\":true}");
	check_reply_error(&s, "gemini", "{\"promptFeedback\":{\"blockReason\":\"SAFETY\"},"
	    "\"usageMetadata\":{\"promptTokenCount\":3,\"totalTokenCount\":3}}", APIERR_BLOCKED);
	assert_string_equal(s.error->reason, "SAFETY");
	stream_free(&s);
	check_reply_error(&s, "gemini", "{\"error\":{\"code\":503,\"message\":\"The model is "
	    "overloaded.\",\"status\":\"UNAVAILABLE\"}}", APIERR_OVERLOADED);
	stream_free(&s);
	check_reply_error(&s, "gemini", "[{\"error\":{\"code\":400,\"message\":\"bad\",\"status\":"
	    "\"INVALID_ARGUMENT\"}}]", APIERR_BAD_REQUEST);
	assert_string_equal(s.error->message, "bad");
	stream_free(&s);
}

/* Ollama's one object: message content and thinking, done and done_reason, the counts. */
static void
test_reply_ollama(void **state)
{
	struct stream s;

	(void)state;
	check_reply("ollama", "{\"model\":\"llama3.2\",\"created_at\":\"2024-01-01T00:00:00Z\","
	    "\"message\":{\"role\":\"assistant\",\"content\":\"The sky\",\"thinking\":\"Rayleigh\"},"
	    "\"done\":true,\"done_reason\":\"stop\",\"total_duration\":1,\"prompt_eval_count\":26,"
	    "\"eval_count\":282}",
	    "{\"text\":\"The sky\",\"reasoning\":\"Rayleigh\",\"finish_reason\":\"stop\",\"usage\":"
	    "{\"input_tokens\":26,\"output_tokens\":282},\"complete\":true}");
	check_reply("ollama", "{\"message\":{\"content\":\"cut\"},\"done\":true,\"done_reason\":"
	    "\"length\",\"eval_count\":1}",
	    "{\"text\":\"cut\",\"finish_reason\":\"length\",\"usage\":{\"output_tokens\":1},"
	    "\"complete\":true}");
	check_reply("ollama", "{\"message\":{\"content\":\"par\"},\"done\":false}",
	    "{\"text\":\"par\",\"finish_reason\":null,\"complete\":false}");
	check_reply_error(&s, "ollama", "{\"error\":\"an error was encountered while running the "
	    "model\"}", APIERR_OTHER);
	assert_string_equal(s.error->message, "an error was encountered while running the model");
	stream_free(&s);
}

/* A 200 body that is not the protocol's reply is an error that says so and quotes it
 * (briefly, as valid UTF-8), is not retried, and gives no text. */
static void
test_reply_malformed(void **state)
{
	static const struct {
		const char *proto, *body, *why;
	} cases[] = {
		{ "openai", "{\"choices\":[{\"message\":{\"content\":\"a\"", "not JSON" },
		{ "openai", "[1,2]", "not a JSON object" },
		{ "openai", "{\"id\":\"x\",\"choices\":[]}", "not a chat completion" },
		{ "openai", "data: {\"choices\":[]}\n\ndata: [DONE]\n\n", "not JSON" },
		{ "anthropic", "<html>502</html>", "not JSON" },
		{ "anthropic", "{\"type\":\"message\",\"content\":\"text\"}", "not a Message" },
		{ "anthropic", "{\"type\":\"completion\",\"content\":[]}", "not a Message" },
		{ "gemini", "{\"foo\":1}", "not a GenerateContentResponse" },
		{ "gemini", "[]", "not a GenerateContentResponse" },
		{ "gemini", "[{\"candidates\":[]},7]", "not a GenerateContentResponse" },
		{ "gemini", "\"text\"", "not a GenerateContentResponse" },
		{ "ollama", "{\"model\":\"x\"}", "not a chat reply" },
		{ "ollama", "{\"message\":{\"content\":\"a\"},\"done\":true}\n{\"done\":true}\n",
		  "not JSON" },
		{ "ollama", "42", "not a JSON object" },
	};
	static const char *const protos[] = { "openai", "anthropic", "gemini", "ollama" };
	struct buf big = BUF_INIT;
	struct stream s;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		whole_decode(&s, cases[i].proto, cases[i].body, strlen(cases[i].body), 3, NULL);
		if (s.error == NULL || strstr(s.error->message, cases[i].why) == NULL)
			fail_msg("%s %s: %s", cases[i].proto, cases[i].body,
			    s.error != NULL ? s.error->message : "no error");
		assert_int_equal(s.error->kind, APIERR_STREAM);
		assert_int_equal(s.error->retryable, 0);
		assert_int_equal(s.text.len, 0);
		assert_false(s.complete);
		stream_free(&s);
	}
	/* An empty body says it is empty; a long one is quoted in part, cut on a character. */
	for (i = 0; i < 4; i++) {
		whole_decode(&s, protos[i], "", 0, 1, NULL);
		assert_non_null(s.error);
		assert_non_null(strstr(s.error->message, "reply is empty"));
		stream_free(&s);
	}
	for (i = 0; i < 200; i++)
		buf_puts(&big, "\xc3\xa9");
	whole_decode(&s, "openai", big.data, big.len, SIZE_MAX, NULL);
	assert_non_null(s.error);
	assert_true(strlen(s.error->message) < 160);
	assert_non_null(strstr(s.error->message, "not JSON: \xc3\xa9"));
	assert_non_null(strstr(s.error->message, "\xc3\xa9\xe2\x80\xa6"));
	stream_free(&s);
	buf_free(&big);
}

/* A whole body for protocol whose text is the JSON string literal lit. */
static void
whole_text_body(const char *protocol, const char *lit, struct buf *b)
{
	buf_reset(b);
	if (strcmp(protocol, "openai") == 0)
		buf_printf(b, "{\"object\":\"chat.completion\",\"choices\":[{\"index\":0,\"message\":"
		    "{\"role\":\"assistant\",\"content\":\"%s\"},\"finish_reason\":\"stop\"}]}", lit);
	else if (strcmp(protocol, "anthropic") == 0)
		buf_printf(b, "{\"type\":\"message\",\"content\":[{\"type\":\"text\",\"text\":\"%s\"}],"
		    "\"stop_reason\":\"end_turn\"}", lit);
	else if (strcmp(protocol, "gemini") == 0)
		buf_printf(b, "{\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"%s\"}]},"
		    "\"finishReason\":\"STOP\"}]}", lit);
	else
		buf_printf(b, "{\"message\":{\"content\":\"%s\"},\"done\":true}", lit);
}

/* Unpaired surrogates, U+0000 and raw NUL bytes become U+FFFD in a whole reply, as in a
 * stream, without cutting the text off. */
static void
test_reply_surrogates_and_nul(void **state)
{
	static const char *const protos[] = { "openai", "anthropic", "gemini", "ollama" };
	static const struct { const char *lit, *text; } cases[] = {
		{ "a\\ud800b", "a\xef\xbf\xbd" "b" },
		{ "a\\udc00b", "a\xef\xbf\xbd" "b" },
		{ "a\\u0000b", "a\xef\xbf\xbd" "b" },
		{ "a\\ud83d", "a\xef\xbf\xbd" },
		{ "a\\ud83d\\udc99b", "a\xf0\x9f\x92\x99" "b" },
		{ "a\x01" "b", "a\xef\xbf\xbd" "b" },
	};
	struct buf body = BUF_INIT;
	struct stream s;
	size_t i, c;
	char *nul;

	(void)state;
	for (i = 0; i < 4; i++) {
		for (c = 0; c < sizeof cases / sizeof cases[0]; c++) {
			whole_text_body(protos[i], cases[c].lit, &body);
			if (c == 5) {
				/* A raw NUL byte in place of the \x01 marker. */
				nul = memchr(body.data, '\x01', body.len);
				assert_non_null(nul);
				*nul = '\0';
			}
			whole_decode(&s, protos[i], body.data, body.len, SIZE_MAX, NULL);
			if (s.error != NULL || strcmp(buf_str(&s.text), cases[c].text) != 0)
				fail_msg("%s %s: got '%s' (%s)", protos[i], cases[c].lit,
				    buf_str(&s.text), s.error != NULL ? s.error->message : "");
			assert_int_equal(s.text.len, strlen(cases[c].text));
			assert_true(s.complete);
			stream_free(&s);
		}
	}
	buf_free(&body);
}

/* A whole body longer than max_line ends the reply as truncated at once, keeping nothing
 * of it, at any split; a body of exactly the cap is decoded. */
static void
test_reply_cap(void **state)
{
	static const size_t steps[] = { SIZE_MAX, 700, 1 };
	struct buf big = BUF_INIT, body = BUF_INIT;
	struct stream s;
	size_t i, k;

	(void)state;
	for (i = 0; i < 3000; i++)
		buf_putc(&big, 'x');
	whole_text_body("openai", big.data, &body);
	for (k = 0; k < 3; k++) {
		stream_init(&s, &proto_openai, NULL, NULL);
		stream_set_max_line(&s, 2048);
		stream_set_whole(&s);
		for (i = 0; i < body.len; i += steps[k]) {
			stream_feed(&s, body.data + i, steps[k] < body.len - i ? steps[k] :
			    body.len - i);
			assert_true(s.body.len <= 2048);
		}
		assert_true(s.body_overflow);
		assert_true(s.body.cap == 0);
		stream_finish(&s);
		assert_non_null(s.error);
		assert_int_equal(s.error->cls, APIERR_TRUNCATED);
		assert_int_equal(s.error->retryable, 0);
		assert_non_null(strstr(s.error->message, "reply longer than 2 KiB"));
		assert_int_equal(s.text.len, 0);
		assert_false(s.complete);
		stream_free(&s);
	}
	stream_init(&s, &proto_openai, NULL, NULL);
	stream_set_max_line(&s, body.len);
	stream_set_whole(&s);
	stream_feed(&s, body.data, body.len);
	stream_finish(&s);
	assert_null(s.error);
	assert_true(s.complete);
	assert_int_equal(s.text.len, 3000);
	stream_free(&s);
	buf_free(&big);
	buf_free(&body);
}

/* The same reply sent as a stream and as one body decodes to the same result in every
 * protocol: text, reasoning, finish reason, usage and completeness. */
static void
test_reply_matches_stream(void **state)
{
	static const struct {
		const char *proto, *stream, *whole;
	} pairs[] = {
		{ "openai",
		  "data: {\"choices\":[{\"index\":0,\"delta\":{\"reasoning_content\":\"th\"}}]}\n\n"
		  "data: {\"choices\":[{\"index\":0,\"delta\":{\"reasoning_content\":\"ink\"}}]"
		  "}\n\n"
		  "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hel\"}}]}\n\n"
		  "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"lo\"},\"finish_rea"
		  "son\":\"stop\"}]}\n\n"
		  "data: {\"choices\":[],\"usage\":{\"prompt_tokens\":4,\"completion_tokens\":3"
		  ",\"total_tokens\":7,"
		  "\"completion_tokens_details\":{\"reasoning_tokens\":1}}}\n\ndata: [DONE]\n\n",
		  "{\"object\":\"chat.completion\",\"choices\":[{\"index\":0,\"message\":{\"rol"
		  "e\":\"assistant\","
		  "\"content\":\"Hello\",\"reasoning_content\":\"think\"},\"finish_reason\":\"s"
		  "top\"}],"
		  "\"usage\":{\"prompt_tokens\":4,\"completion_tokens\":3,\"total_tokens\":7,"
		  "\"completion_tokens_details\":{\"reasoning_tokens\":1}}}" },
		{ "anthropic",
		  "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"usage"
		  "\":{\"input_tokens\":4,\"output_tokens\":1}}}\n\n"
		  "event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\""
		  ":0,\"content_block\":{\"type\":\"thinking\",\"thinking\":\"\"}}\n\n"
		  "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\""
		  ":0,\"delta\":{\"type\":\"thinking_delta\",\"thinking\":\"think\"}}\n\n"
		  "event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\""
		  ":1,\"content_block\":{\"type\":\"text\",\"text\":\"\"}}\n\n"
		  "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\""
		  ":1,\"delta\":{\"type\":\"text_delta\",\"text\":\"Hello\"}}\n\n"
		  "event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_re"
		  "ason\":\"end_turn\"},\"usage\":{\"output_tokens\":3}}\n\n"
		  "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n",
		  "{\"type\":\"message\",\"content\":[{\"type\":\"thinking\",\"thinking\":\"thi"
		  "nk\"},{\"type\":"
		  "\"text\",\"text\":\"Hello\"}],\"stop_reason\":\"end_turn\",\"usage\":{\"inpu"
		  "t_tokens\":4,"
		  "\"output_tokens\":3}}" },
		{ "gemini",
		  "data: {\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"think\",\"though"
		  "t\":true}]}}],"
		  "\"usageMetadata\":{\"promptTokenCount\":4,\"totalTokenCount\":4}}\r\n\r\n"
		  "data: {\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"Hello\"}]},\"fin"
		  "ishReason\":\"STOP\"}],"
		  "\"usageMetadata\":{\"promptTokenCount\":4,\"candidatesTokenCount\":2,\"thoug"
		  "htsTokenCount\":1,"
		  "\"totalTokenCount\":7}}\r\n\r\n",
		  "{\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"think\",\"thought\":tr"
		  "ue},{\"text\":"
		  "\"Hello\"}]},\"finishReason\":\"STOP\"}],\"usageMetadata\":{\"promptTokenCou"
		  "nt\":4,"
		  "\"candidatesTokenCount\":2,\"thoughtsTokenCount\":1,\"totalTokenCount\":7}}" },
		{ "ollama",
		  "{\"message\":{\"content\":\"\",\"thinking\":\"think\"},\"done\":false}\n"
		  "{\"message\":{\"content\":\"Hello\"},\"done\":false}\n"
		  "{\"message\":{\"content\":\"\"},\"done\":true,\"done_reason\":\"stop\",\"pro"
		  "mpt_eval_count\":4,"
		  "\"eval_count\":3}\n",
		  "{\"message\":{\"content\":\"Hello\",\"thinking\":\"think\"},\"done\":true,\""
		  "done_reason\":"
		  "\"stop\",\"prompt_eval_count\":4,\"eval_count\":3}" },
	};
	struct buf a = BUF_INIT;
	struct stream s;
	size_t i;

	(void)state;
	for (i = 0; i < 4; i++) {
		decode(&s, pairs[i].proto, 200, pairs[i].stream);
		buf_reset(&a);
		stream_summary_json(&s, &a);
		stream_free(&s);
		assert_non_null(strstr(buf_str(&a), "\"text\":\"Hello\",\"reasoning\":\"think\""));
		assert_non_null(strstr(buf_str(&a), "\"complete\":true"));
		check_reply(pairs[i].proto, pairs[i].whole, buf_str(&a));
	}
	buf_free(&a);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_build_openai),
		cmocka_unit_test(test_build_anthropic),
		cmocka_unit_test(test_build_gemini),
		cmocka_unit_test(test_build_ollama),
		cmocka_unit_test(test_error_bodies),
		cmocka_unit_test(test_error_headers),
		cmocka_unit_test(test_error_with_status_200),
		cmocka_unit_test(test_models),
		cmocka_unit_test(test_think_tags),
		cmocka_unit_test(test_reasoning_once),
		cmocka_unit_test(test_anthropic_fallback),
		cmocka_unit_test(test_gemini_blocked_and_partial),
		cmocka_unit_test(test_ollama_lines),
		cmocka_unit_test(test_linear_cost),
		cmocka_unit_test(test_keep_text_off),
		cmocka_unit_test(test_find),
		cmocka_unit_test(test_copies),
		cmocka_unit_test(test_shape_cache),
		cmocka_unit_test(test_shape_cache_adapters),
		cmocka_unit_test(test_fast_anthropic),
		cmocka_unit_test(test_fast_ollama),
		cmocka_unit_test(test_fast_gemini),
		cmocka_unit_test(test_malformed_skipped),
		cmocka_unit_test(test_surrogates_and_nul),
		cmocka_unit_test(test_line_cap),
		cmocka_unit_test(test_build_no_stream),
		cmocka_unit_test(test_build_tools),
		cmocka_unit_test(test_build_tool_round),
		cmocka_unit_test(test_reply_openai),
		cmocka_unit_test(test_reply_openai_errors),
		cmocka_unit_test(test_reply_anthropic),
		cmocka_unit_test(test_reply_gemini),
		cmocka_unit_test(test_reply_ollama),
		cmocka_unit_test(test_reply_malformed),
		cmocka_unit_test(test_reply_surrogates_and_nul),
		cmocka_unit_test(test_reply_cap),
		cmocka_unit_test(test_reply_matches_stream),
		cmocka_unit_test(test_anthropic_check_params),
		cmocka_unit_test(test_anthropic_signed_thinking),
	};

	/* Decode through the cJSON arena, as natter does. */
	json_init();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
