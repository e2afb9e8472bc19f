/*
 * OpenAI Chat Completions and the many servers that copy it (Groq, DeepSeek, OpenRouter,
 * Cerebras, vLLM, llama.cpp, Ollama /v1). The wire format is shared but each copy adds its
 * own quirks, all handled here (protocols.md §A.1): reasoning as reasoning_content or
 * reasoning or inline <think> tags, usage in a choices-less chunk or under x_groq, and four
 * different ways to report an error inside a 200 stream.
 */
#include <stdlib.h>
#include <string.h>

#include <cJSON.h>

#include "apierr.h"
#include "http.h"
#include "jscan.h"
#include "proto.h"
#include "provider.h"
#include "request.h"
#include "stream.h"
#include "xmalloc.h"

/* States of the inline <think> tag machine (stream->think_state). */
enum {
	THINK_START,  /* nothing decided: content may still open with <think> */
	THINK_INSIDE, /* inside <think>: content is reasoning until </think> */
	THINK_AFTER,  /* just after </think>: drop the blank lines before the answer */
	THINK_TEXT,   /* plain answer text */
};

static const char openai_open_tag[] = "<think>";
static const char openai_close_tag[] = "</think>";

/* True when the request goes to OpenAI itself rather than a compatible server. */
static int
openai_is_official(const struct provider *p)
{
	return p != NULL && p->base_url != NULL && strstr(p->base_url, "api.openai.com") != NULL;
}

/* True for OpenAI's reasoning families, which refuse max_tokens: o1, o3, o4 (any o and a
 * digit) and gpt-5 on (gpt-N with N >= 5). The id's last '/'-part decides, so a gateway's
 * "openai/o3-mini" counts too. */
static int
openai_reasoning_family(const char *model)
{
	const char *id = model != NULL ? strrchr(model, '/') : NULL;
	long major;
	char *end;

	id = id != NULL ? id + 1 : model;
	if (id == NULL)
		return 0;
	if (id[0] == 'o' && id[1] >= '1' && id[1] <= '9')
		return 1;
	if (strncmp(id, "gpt-", 4) != 0 || id[4] < '0' || id[4] > '9')
		return 0;
	major = strtol(id + 4, &end, 10);
	return major >= 5 && (*end == '\0' || *end == '-' || *end == '.');
}

/* The field max_tokens goes in (protocols.md §A.1, §E): the model's own setting, else
 * max_completion_tokens for OpenAI itself (every model there takes it) and for the
 * reasoning families anywhere (a gateway in OPENAI_BASE_URL passes it on to OpenAI),
 * else max_tokens, the only name many compatible servers know. */
static const char *
openai_max_tokens_field(const struct request *req)
{
	switch (req->max_tokens_field) {
	case MAX_TOKENS_FIELD_MAX_TOKENS:
		return "max_tokens";
	case MAX_TOKENS_FIELD_COMPLETION:
		return "max_completion_tokens";
	case MAX_TOKENS_FIELD_AUTO:
		break;
	}
	return openai_is_official(req->provider) || openai_reasoning_family(req->model) ?
	    "max_completion_tokens" : "max_tokens";
}

/* Add the sampling parameters that are set. */
static void
openai_params(const struct request *req, cJSON *root)
{
	const struct params *pp = &req->params;

	if (pp->set & PARAM_TEMPERATURE)
		cJSON_AddNumberToObject(root, "temperature", pp->temperature);
	if (pp->set & PARAM_TOP_P)
		cJSON_AddNumberToObject(root, "top_p", pp->top_p);
	if (pp->set & PARAM_MAX_TOKENS)
		cJSON_AddNumberToObject(root, openai_max_tokens_field(req), (double)pp->max_tokens);
	if ((pp->set & PARAM_STOP) && pp->nstop > 0) {
		cJSON *stop = cJSON_AddArrayToObject(root, "stop");
		int i;

		for (i = 0; i < pp->nstop && i < PARAM_MAX_STOP; i++)
			cJSON_AddItemToArray(stop, cJSON_CreateString(pp->stop[i]));
	}
	if (pp->set & PARAM_SEED)
		cJSON_AddNumberToObject(root, "seed", (double)pp->seed);
	if (pp->set & PARAM_FREQUENCY_PENALTY)
		cJSON_AddNumberToObject(root, "frequency_penalty", pp->frequency_penalty);
	if (pp->set & PARAM_PRESENCE_PENALTY)
		cJSON_AddNumberToObject(root, "presence_penalty", pp->presence_penalty);
	if (pp->set & PARAM_REPETITION_PENALTY)
		cJSON_AddNumberToObject(root, "repetition_penalty", pp->repetition_penalty);
	if ((pp->set & PARAM_REASONING_EFFORT) && pp->reasoning_effort != NULL)
		cJSON_AddStringToObject(root, "reasoning_effort", pp->reasoning_effort);
}

/* Build POST {base}/chat/completions with Bearer auth and usage in the stream; with
 * no_stream, "stream": false (a chat.completion always carries its usage). */
static void
openai_build_chat(const struct request *req, struct http_req *out)
{
	const struct provider *p = req->provider;
	char *url = http_join(p != NULL ? p->base_url : "", "chat/completions");
	cJSON *root = cJSON_CreateObject(), *m;
	struct proto_marks pm;

	proto_marks_init(&pm);
	http_req_init(out, "POST", url);
	free(url);
	proto_common_headers(out, req->no_stream ? "application/json" : "text/event-stream");
	if (p != NULL && p->key != NULL && p->key[0] != '\0')
		http_req_header(out, "Authorization: Bearer %s", p->key);
	proto_extra_headers(p, out);

	cJSON_AddStringToObject(root, "model", req->model);
	proto_json_messages(root, req, 0, &pm);
	if (req->no_stream) {
		cJSON_AddFalseToObject(root, "stream");
	} else {
		cJSON_AddTrueToObject(root, "stream");
		m = cJSON_AddObjectToObject(root, "stream_options");
		cJSON_AddTrueToObject(m, "include_usage");
	}
	openai_params(req, root);
	proto_set_body_marked(out, root, &pm);
}

/* Length of the longest suffix of p[0..n) that is a proper prefix of tag. */
static size_t
openai_tag_suffix(const char *p, size_t n, const char *tag)
{
	size_t tl = strlen(tag), k;

	for (k = tl - 1; k > 0; k--)
		if (k <= n && memcmp(p + n - k, tag, k) == 0)
			return k;
	return 0;
}

/* Route content through the <think> machine: a reply that opens with <think> has its
 * reasoning inline (R1-style hosts, Groq raw format); tags may be split across deltas, so
 * bytes that could be part of a tag are held in think_pending until they can be decided. */
static void
openai_content(struct stream *s, const char *p, size_t n)
{
	struct buf *pend = &s->think_pending;
	struct buf work = BUF_INIT;
	size_t i, k;

	if (s->think_state == THINK_TEXT) {
		stream_text(s, p, n);
		return;
	}
	/* Pending bytes are at most a tag plus leading blanks, so the copy stays cheap. */
	if (pend->len > 0) {
		buf_append(&work, pend->data, pend->len);
		buf_append(&work, p, n);
		buf_reset(pend);
		p = work.data;
		n = work.len;
	}
	while (n > 0) {
		switch (s->think_state) {
		case THINK_START:
			for (i = 0; i < n && (p[i] == ' ' || p[i] == '\n' || p[i] == '\r' ||
			    p[i] == '\t'); i++)
				;
			k = n - i < 7 ? n - i : 7;
			if (memcmp(p + i, openai_open_tag, k) != 0) {
				s->think_state = THINK_TEXT;
				stream_text(s, p, n);
				n = 0;
			} else if (k < 7) {
				buf_append(pend, p, n);
				n = 0;
			} else {
				s->think_state = THINK_INSIDE;
				p += i + 7;
				n -= i + 7;
			}
			break;
		case THINK_INSIDE: {
			const char *end = memmem(p, n, openai_close_tag, 8);

			if (end != NULL) {
				stream_reasoning(s, p, (size_t)(end - p));
				s->think_state = THINK_AFTER;
				n -= (size_t)(end - p) + 8;
				p = end + 8;
			} else {
				k = openai_tag_suffix(p, n, openai_close_tag);
				stream_reasoning(s, p, n - k);
				buf_append(pend, p + n - k, k);
				n = 0;
			}
			break;
		}
		case THINK_AFTER:
			while (n > 0 && (*p == '\n' || *p == '\r' || *p == ' ' || *p == '\t')) {
				p++;
				n--;
			}
			if (n > 0)
				s->think_state = THINK_TEXT;
			break;
		default:
			stream_text(s, p, n);
			n = 0;
			break;
		}
	}
	buf_free(&work);
}

/* Take usage from an OpenAI usage object (prompt/completion/total/reasoning). */
static void
openai_usage(struct stream *s, const cJSON *u)
{
	struct usage us = USAGE_NONE;
	const cJSON *details;

	if (!cJSON_IsObject(u))
		return;
	proto_json_long(u, "prompt_tokens", &us.input_tokens);
	proto_json_long(u, "completion_tokens", &us.output_tokens);
	proto_json_long(u, "total_tokens", &us.total_tokens);
	details = cJSON_GetObjectItemCaseSensitive(u, "completion_tokens_details");
	proto_json_long(details, "reasoning_tokens", &us.reasoning_tokens);
	stream_usage(s, &us);
}

/* The finish reason of the first choice, when it has one. */
static const char *
openai_choice_finish(const cJSON *choice)
{
	const char *f = proto_json_string(choice, "finish_reason");

	return f != NULL && f[0] != '\0' ? f : NULL;
}

/* Report an error object found in the stream (OpenAI, OpenRouter, vLLM, llama.cpp). */
static void
openai_stream_error(struct stream *s, const cJSON *err)
{
	struct apierr *e = apierr_new(APIERR_STREAM, APIERR_OTHER, NULL);

	proto_error_from_json(e, err);
	proto_stream_error(s, e);
}

/* True when v is a JSON value that counts as "an error is present" (openai-python tests
 * truthiness: null, false, "" and {} do not count). */
static int
openai_truthy(const cJSON *v)
{
	if (v == NULL || cJSON_IsNull(v) || cJSON_IsFalse(v))
		return 0;
	if (cJSON_IsString(v))
		return v->valuestring[0] != '\0';
	if (cJSON_IsObject(v) || cJSON_IsArray(v))
		return v->child != NULL;
	return 1;
}

/* Check a chunk's delta object for the fast path: only content (and role and unknown
 * keys, which the full path ignores too) may be present; tool calls go through cJSON. */
static int
openai_fast_delta(struct jscan *j, struct jscan_str *content, int *have_content)
{
	struct jscan_str k;
	int first = 1, r;

	if (!jscan_open(j, '{'))
		return 0;
	while ((r = jscan_next_key(j, &k, &first)) == 1) {
		if (jscan_str_is(&k, "content")) {
			if (*have_content)
				return 0;
			if (jscan_peek(j) == JSCAN_STRING) {
				if (!jscan_string(j, content))
					return 0;
				*have_content = 1;
			} else if (jscan_peek(j) != JSCAN_NULL || !jscan_skip(j)) {
				return 0;
			}
		} else if (jscan_str_is(&k, "refusal") || jscan_str_is(&k, "reasoning") ||
		    jscan_str_is(&k, "reasoning_content") || jscan_str_is(&k, "tool_calls") ||
		    jscan_str_is(&k, "function_call") || k.escaped) {
			if (jscan_peek(j) != JSCAN_NULL || !jscan_skip(j))
				return 0;
		} else if (!jscan_skip(j)) {
			return 0;
		}
	}
	return r == 0;
}

/* Check the first choice for the fast path: a delta, no finish reason. */
static int
openai_fast_choice(struct jscan *j, struct jscan_str *content, int *have_content)
{
	struct jscan_str k;
	int first = 1, r, have_delta = 0;

	if (!jscan_open(j, '{'))
		return 0;
	while ((r = jscan_next_key(j, &k, &first)) == 1) {
		if (jscan_str_is(&k, "delta")) {
			if (have_delta++ || jscan_peek(j) != JSCAN_OBJECT ||
			    !openai_fast_delta(j, content, have_content))
				return 0;
		} else if (jscan_str_is(&k, "finish_reason") || k.escaped) {
			if (jscan_peek(j) != JSCAN_NULL || !jscan_skip(j))
				return 0;
		} else if (!jscan_skip(j)) {
			return 0;
		}
	}
	return r == 0;
}

/* Emit a fast-path content string, unescaping it when needed; 0 when the scanner cannot
 * decode its escapes (then the chunk goes through cJSON). */
static int
openai_fast_content(struct stream *s, const struct jscan_str *content)
{
	if (content->len == 0)
		return 1;
	if (!content->escaped) {
		openai_content(s, content->raw, content->len);
		return 1;
	}
	buf_reset(&s->scratch);
	if (!jscan_unescape(content, &s->scratch))
		return 0;
	if (s->scratch.len > 0)
		openai_content(s, s->scratch.data, s->scratch.len);
	return 1;
}

/* Handle a chunk through the shape cache (see proto.h); 0 when it does not match (or
 * cannot be decoded here), and the full fast path runs instead. */
static int
openai_shape_hit(struct stream *s, const char *data, size_t len)
{
	struct jscan_str content;

	if (!proto_shape_match(s, NULL, data, len, &content) || !openai_fast_content(s, &content))
		return 0;
	s->shape_hits++;
	return 1;
}

/*
 * The fast path for the chunk that makes up almost all of a reply: one choice whose delta
 * carries only content. It is scanned in place with no allocation; anything else (errors,
 * usage, reasoning, finish reasons, escapes the scanner leaves alone, odd syntax) returns 0
 * and the chunk goes through cJSON as before. Returns 1 when it handled the chunk.
 */
static int
openai_fast_chunk(struct stream *s, const char *data, size_t len)
{
	struct jscan j;
	struct jscan_str k, content, obj;
	int first = 1, r, have_choices = 0, have_content = 0, have_object = 0;

	jscan_init(&j, data, len);
	if (!jscan_open(&j, '{'))
		return 0;
	while ((r = jscan_next_key(&j, &k, &first)) == 1) {
		if (jscan_str_is(&k, "choices")) {
			int f = 1, item = 0;

			if (have_choices++ || !jscan_open(&j, '['))
				return 0;
			while ((r = jscan_next_item(&j, &f)) == 1) {
				if (item++ == 0) {
					if (jscan_peek(&j) != JSCAN_OBJECT ||
					    !openai_fast_choice(&j, &content, &have_content))
						return 0;
				} else if (!jscan_skip(&j)) {
					return 0;
				}
			}
			if (r != 0)
				return 0;
		} else if (jscan_str_is(&k, "object")) {
			/* vLLM marks errors with "object": "error"; only a chunk is fast. */
			if (have_object++ || jscan_peek(&j) != JSCAN_STRING ||
			    !jscan_string(&j, &obj) || !jscan_str_is(&obj, "chat.completion.chunk"))
				return 0;
		} else if (jscan_str_is(&k, "usage")) {
			if (jscan_peek(&j) != JSCAN_NULL || !jscan_skip(&j))
				return 0;
		} else if (jscan_str_is(&k, "error") || jscan_str_is(&k, "x_groq") || k.escaped) {
			return 0;
		} else if (!jscan_skip(&j)) {
			return 0;
		}
	}
	if (r != 0 || !jscan_at_end(&j))
		return 0;
	if (!have_content)
		return 1;
	if (!openai_fast_content(s, &content))
		return 0;
	proto_shape_keep(s, NULL, data, len, &content);
	return 1;
}

/* A piece of a tool call's arguments: a string as OpenAI sends it, or (some compatible
 * servers) the object itself. */
static void
openai_tool_args(struct toolcall *c, const cJSON *args)
{
	char *text;

	if (cJSON_IsString(args)) {
		toolacc_args(c, args->valuestring, strlen(args->valuestring));
	} else if (cJSON_IsObject(args)) {
		text = cJSON_PrintUnformatted(args);
		if (text != NULL)
			toolacc_args(c, text, strlen(text));
		cJSON_free(text);
	}
}

/* Collect delta.tool_calls pieces (and the legacy function_call) into the stream's calls;
 * whole says each item is a complete call (a whole message), not a piece. */
static void
openai_tool_calls(struct stream *s, const cJSON *holder, int whole)
{
	const cJSON *calls = cJSON_GetObjectItemCaseSensitive(holder, "tool_calls"), *it, *fn;
	const cJSON *idx;
	struct toolcall *c;
	const char *name;

	if (!cJSON_IsArray(calls))
		calls = NULL;
	cJSON_ArrayForEach(it, calls) {
		if (!cJSON_IsObject(it))
			continue;
		idx = cJSON_GetObjectItemCaseSensitive(it, "index");
		fn = cJSON_GetObjectItemCaseSensitive(it, "function");
		name = proto_json_string(fn, "name");
		if (whole)
			c = toolacc_add(&s->tools, -1, proto_json_string(it, "id"), NULL);
		else
			c = toolacc_at(&s->tools, cJSON_IsNumber(idx) && idx->valuedouble >= 0 ?
			    (long)idx->valuedouble : -1, proto_json_string(it, "id"));
		if (name != NULL)
			toolacc_name(c, name, strlen(name));
		openai_tool_args(c, cJSON_GetObjectItemCaseSensitive(fn, "arguments"));
	}
	fn = cJSON_GetObjectItemCaseSensitive(holder, "function_call");
	if (cJSON_IsObject(fn)) {
		c = whole ? toolacc_add(&s->tools, -1, NULL, NULL) : toolacc_at(&s->tools, 0, NULL);
		if ((name = proto_json_string(fn, "name")) != NULL)
			toolacc_name(c, name, strlen(name));
		openai_tool_args(c, cJSON_GetObjectItemCaseSensitive(fn, "arguments"));
	}
}

/* Map one chunk to deltas. */
static void
openai_on_event(struct stream *s, const char *event, const char *data, size_t len)
{
	cJSON *root, *choices, *c0, *delta, *err, *v;
	const char *str;

	if (len == 0)
		return;
	if (event != NULL && strcmp(event, "error") == 0) {
		/* llama.cpp's non-standard "error:" field: the payload is the error object
		 * itself, or sometimes wrapped in {"error": ...}. */
		struct apierr *e = apierr_new(APIERR_STREAM, APIERR_OTHER, NULL);

		root = proto_json_parse(data, len);
		err = cJSON_GetObjectItemCaseSensitive(root, "error");
		if (root == NULL) {
			char *x = proto_body_excerpt(data, len);

			free(e->message);
			e->message = x;
		} else {
			proto_error_from_json(e, openai_truthy(err) ? err : root);
		}
		cJSON_Delete(root);
		proto_stream_error(s, e);
		return;
	}
	if (len >= 6 && memcmp(data, "[DONE]", 6) == 0) {
		s->terminated = 1;
		return;
	}
	if (!s->no_fast_path && (openai_shape_hit(s, data, len) ||
	    openai_fast_chunk(s, data, len)))
		return;
	root = proto_json_parse(data, len);
	if (!cJSON_IsObject(root)) {
		/* One bad chunk loses its own text only: the reply goes on, with a warning. */
		stream_skip(s, root == NULL ? "not JSON" : "not a JSON object", data, len);
		cJSON_Delete(root);
		return;
	}
	choices = cJSON_GetObjectItemCaseSensitive(root, "choices");
	c0 = cJSON_IsArray(choices) ? cJSON_GetArrayItem(choices, 0) : NULL;
	err = cJSON_GetObjectItemCaseSensitive(root, "error");
	if (openai_truthy(err)) {
		/* OpenRouter sets finish_reason "error" on the same chunk; keep it. */
		stream_finish_reason(s, openai_choice_finish(c0));
		openai_stream_error(s, err);
		cJSON_Delete(root);
		return;
	}
	if ((str = proto_json_string(root, "object")) != NULL && strcmp(str, "error") == 0) {
		openai_stream_error(s, root);
		cJSON_Delete(root);
		return;
	}
	delta = cJSON_GetObjectItemCaseSensitive(c0, "delta");
	if (cJSON_IsObject(delta)) {
		v = cJSON_GetObjectItemCaseSensitive(delta, "reasoning_content");
		if (cJSON_IsString(v)) {
			s->saw_reasoning_content = 1;
			stream_reasoning(s, v->valuestring, strlen(v->valuestring));
		} else if (!s->saw_reasoning_content &&
		    (str = proto_json_string(delta, "reasoning")) != NULL) {
			stream_reasoning(s, str, strlen(str));
		}
		if ((str = proto_json_string(delta, "content")) != NULL && str[0] != '\0')
			openai_content(s, str, strlen(str));
		if ((str = proto_json_string(delta, "refusal")) != NULL && str[0] != '\0')
			stream_text(s, str, strlen(str));
		openai_tool_calls(s, delta, 0);
	}
	stream_finish_reason(s, openai_choice_finish(c0));
	v = cJSON_GetObjectItemCaseSensitive(root, "usage");
	if (cJSON_IsObject(v))
		openai_usage(s, v);
	v = cJSON_GetObjectItemCaseSensitive(root, "x_groq");
	v = cJSON_GetObjectItemCaseSensitive(v, "usage");
	if (cJSON_IsObject(v))
		openai_usage(s, v);
	cJSON_Delete(root);
}

/* The answer text of a whole message: a string, or (some compatible servers) an array of
 * parts of which the text ones count. It goes through the <think> machine as a stream's
 * content does. */
static void
openai_reply_content(struct stream *s, const cJSON *content)
{
	const cJSON *part;
	const char *v;

	if (cJSON_IsString(content)) {
		if (content->valuestring[0] != '\0')
			openai_content(s, content->valuestring, strlen(content->valuestring));
		return;
	}
	if (!cJSON_IsArray(content))
		return;
	cJSON_ArrayForEach(part, content) {
		const char *type = proto_json_string(part, "type");

		if ((type == NULL || strcmp(type, "text") == 0) &&
		    (v = proto_json_string(part, "text")) != NULL && v[0] != '\0')
			openai_content(s, v, strlen(v));
	}
}

/* Decode a whole chat.completion (stream false): choices[0].message's reasoning
 * (reasoning_content, else reasoning) and content, the finish reason and usage; the error
 * shapes of a stream's chunks are errors here too. */
static void
openai_parse_reply(struct stream *s, const char *body, size_t len)
{
	cJSON *root = proto_json_parse_whole(body, len), *choices, *c0, *msg, *err, *v;
	const char *str;

	if (!cJSON_IsObject(root)) {
		proto_reply_malformed(s, root == NULL ? "not JSON" : "not a JSON object", body,
		    len);
		cJSON_Delete(root);
		return;
	}
	choices = cJSON_GetObjectItemCaseSensitive(root, "choices");
	c0 = cJSON_IsArray(choices) ? cJSON_GetArrayItem(choices, 0) : NULL;
	err = cJSON_GetObjectItemCaseSensitive(root, "error");
	if (openai_truthy(err)) {
		stream_finish_reason(s, openai_choice_finish(c0));
		openai_stream_error(s, err);
	} else if ((str = proto_json_string(root, "object")) != NULL &&
	    strcmp(str, "error") == 0) {
		openai_stream_error(s, root);
	} else if (!cJSON_IsObject(msg = cJSON_GetObjectItemCaseSensitive(c0, "message"))) {
		proto_reply_malformed(s, "not a chat completion", body, len);
	} else {
		v = cJSON_GetObjectItemCaseSensitive(msg, "reasoning_content");
		if (cJSON_IsString(v))
			stream_reasoning(s, v->valuestring, strlen(v->valuestring));
		else if ((str = proto_json_string(msg, "reasoning")) != NULL)
			stream_reasoning(s, str, strlen(str));
		openai_reply_content(s, cJSON_GetObjectItemCaseSensitive(msg, "content"));
		if ((str = proto_json_string(msg, "refusal")) != NULL && str[0] != '\0')
			stream_text(s, str, strlen(str));
		openai_tool_calls(s, msg, 1);
		stream_finish_reason(s, openai_choice_finish(c0));
		openai_usage(s, cJSON_GetObjectItemCaseSensitive(root, "usage"));
		openai_usage(s, cJSON_GetObjectItemCaseSensitive(
		    cJSON_GetObjectItemCaseSensitive(root, "x_groq"), "usage"));
		s->terminated = 1;
	}
	cJSON_Delete(root);
}

/* Flush held-back tag bytes; complete only when [DONE] (or a whole completion) arrived. */
static void
openai_on_eof(struct stream *s)
{
	struct buf *pend = &s->think_pending;

	if (pend->len > 0) {
		if (s->think_state == THINK_INSIDE)
			stream_reasoning(s, pend->data, pend->len);
		else if (s->think_state == THINK_START)
			stream_text(s, pend->data, pend->len);
		buf_reset(pend);
	}
	s->complete = s->terminated && s->error == NULL;
}

/* Build GET {base}/models; the OpenAI list is not paginated. */
static void
openai_build_models(const struct provider *p, const char *page, struct http_req *out)
{
	char *url = http_join(p->base_url, "models");

	(void)page;
	http_req_init(out, "GET", url);
	free(url);
	proto_common_headers(out, "application/json");
	if (p->key != NULL && p->key[0] != '\0')
		http_req_header(out, "Authorization: Bearer %s", p->key);
	proto_extra_headers(p, out);
}

/* Parse {"data":[{"id":...}]}; context sizes come from the servers that report them. */
static int
openai_parse_models(const char *body, size_t len, struct model_list *out, char **next)
{
	cJSON *root = proto_json_parse(body, len), *data, *m;

	*next = NULL;
	data = cJSON_GetObjectItemCaseSensitive(root, "data");
	if (!cJSON_IsArray(data)) {
		cJSON_Delete(root);
		return -1;
	}
	cJSON_ArrayForEach(m, data) {
		const char *id = proto_json_string(m, "id");
		long ctx = 0, maxo = 0;
		const cJSON *top;

		if (id == NULL || id[0] == '\0')
			continue;
		/* OpenRouter: context_length and top_provider.max_completion_tokens;
		 * vLLM: max_model_len. */
		if (!proto_json_long(m, "context_length", &ctx))
			proto_json_long(m, "max_model_len", &ctx);
		top = cJSON_GetObjectItemCaseSensitive(m, "top_provider");
		proto_json_long(top, "max_completion_tokens", &maxo);
		model_list_add(out, id, proto_json_string(m, "name"), ctx, maxo);
	}
	cJSON_Delete(root);
	return 0;
}

const struct proto proto_openai = {
	.name = "openai",
	.framing = FRAMING_SSE,
	.build_chat = openai_build_chat,
	.on_event = openai_on_event,
	.on_eof = openai_on_eof,
	.parse_reply = openai_parse_reply,
	.parse_error = proto_parse_error,
	.build_models = openai_build_models,
	.parse_models = openai_parse_models,
};
