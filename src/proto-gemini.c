/*
 * Google Gemini streamGenerateContent with alt=sse (protocols.md §A.3), or generateContent
 * for one whole response: x-goog-api-key auth, roles user/model, sampling knobs inside
 * generationConfig, and a stream with no terminator, where only a finishReason followed by
 * a clean EOF means the reply is whole. Thought parts are reasoning; a blocked prompt
 * arrives as promptFeedback, not as an error. Responses with one text part and no finish
 * reason, nearly every event of a reply, are scanned in place (src/jscan.h) without cJSON.
 */
#include <stdlib.h>
#include <string.h>

#include <cJSON.h>

#include "apierr.h"
#include "attach.h"
#include "buf.h"
#include "http.h"
#include "jscan.h"
#include "proto.h"
#include "provider.h"
#include "request.h"
#include "stream.h"
#include "xmalloc.h"

/* Add the auth header. */
static void
gemini_auth(const struct provider *p, struct http_req *out)
{
	if (p != NULL && p->key != NULL && p->key[0] != '\0')
		http_req_header(out, "x-goog-api-key: %s", p->key);
}

/* The thinking budget: explicit, else derived from the effort level; -1 when unset. */
static long
gemini_budget(const struct params *pp)
{
	const char *eff = pp->reasoning_effort;

	if (pp->set & PARAM_REASONING_BUDGET)
		return pp->reasoning_budget;
	if (!(pp->set & PARAM_REASONING_EFFORT) || eff == NULL)
		return -1;
	if (strcmp(eff, "none") == 0)
		return 0;
	if (strcmp(eff, "low") == 0 || strcmp(eff, "minimal") == 0)
		return 1024;
	if (strcmp(eff, "medium") == 0)
		return 8192;
	if (strcmp(eff, "high") == 0)
		return 24576;
	return -1;
}

/* The generationConfig object, or NULL when no parameter is set. */
static cJSON *
gemini_generation_config(const struct params *pp)
{
	cJSON *gc = cJSON_CreateObject();
	long budget = gemini_budget(pp);

	if (pp->set & PARAM_TEMPERATURE)
		cJSON_AddNumberToObject(gc, "temperature", pp->temperature);
	if (pp->set & PARAM_TOP_P)
		cJSON_AddNumberToObject(gc, "topP", pp->top_p);
	if (pp->set & PARAM_TOP_K)
		cJSON_AddNumberToObject(gc, "topK", (double)pp->top_k);
	if (pp->set & PARAM_MAX_TOKENS)
		cJSON_AddNumberToObject(gc, "maxOutputTokens", (double)pp->max_tokens);
	if ((pp->set & PARAM_STOP) && pp->nstop > 0) {
		cJSON *stop = cJSON_AddArrayToObject(gc, "stopSequences");
		int i;

		for (i = 0; i < pp->nstop && i < PARAM_MAX_STOP; i++)
			cJSON_AddItemToArray(stop, cJSON_CreateString(pp->stop[i]));
	}
	if (pp->set & PARAM_SEED)
		cJSON_AddNumberToObject(gc, "seed", (double)pp->seed);
	if (pp->set & PARAM_PRESENCE_PENALTY)
		cJSON_AddNumberToObject(gc, "presencePenalty", pp->presence_penalty);
	if (pp->set & PARAM_FREQUENCY_PENALTY)
		cJSON_AddNumberToObject(gc, "frequencyPenalty", pp->frequency_penalty);
	if (budget >= 0) {
		cJSON *tc = cJSON_AddObjectToObject(gc, "thinkingConfig");

		cJSON_AddNumberToObject(tc, "thinkingBudget", (double)budget);
		/* Without this the API thinks but streams no thought summaries. */
		if (budget != 0)
			cJSON_AddTrueToObject(tc, "includeThoughts");
	}
	if (gc->child == NULL) {
		cJSON_Delete(gc);
		return NULL;
	}
	return gc;
}

/* A {"parts":[{"text":…}]} object, with a role when role is not NULL. */
static cJSON *
gemini_content(const char *role, const char *text)
{
	cJSON *c = cJSON_CreateObject(), *parts, *part;

	if (role != NULL)
		cJSON_AddStringToObject(c, "role", role);
	parts = cJSON_AddArrayToObject(c, "parts");
	part = cJSON_CreateObject();
	cJSON_AddStringToObject(part, "text", text);
	cJSON_AddItemToArray(parts, part);
	return c;
}

/* A user turn with files: an inline_data part (mime_type and base64 data) per file sent
 * as one, then a text part with the message and the other files inlined. */
static cJSON *
gemini_attached(const struct message *msg, struct proto_marks *pm)
{
	struct buf text = BUF_INIT;
	cJSON *c, *parts, *part, *d;
	size_t k;

	proto_attach_text(msg, &text);
	if (proto_attach_native(msg) == 0) {
		c = gemini_content("user", buf_str(&text));
		buf_free(&text);
		return c;
	}
	c = cJSON_CreateObject();
	cJSON_AddStringToObject(c, "role", "user");
	parts = cJSON_AddArrayToObject(c, "parts");
	for (k = 0; k < msg->natts; k++) {
		const struct attach *a = msg->atts[k].a;

		if (!proto_attach_is_native(&msg->atts[k]))
			continue;
		part = cJSON_CreateObject();
		d = cJSON_AddObjectToObject(part, "inline_data");
		cJSON_AddStringToObject(d, "mime_type", a->mime);
		cJSON_AddItemToObject(d, "data", proto_mark(pm, a, 0));
		cJSON_AddItemToArray(parts, part);
	}
	if (text.len > 0) {
		part = cJSON_CreateObject();
		cJSON_AddStringToObject(part, "text", text.data);
		cJSON_AddItemToArray(parts, part);
	}
	buf_free(&text);
	return c;
}

/* The thoughtSignature of a call that came without one (gemini-cli sends the same). */
#define GEMINI_NO_SIGNATURE "skip_thought_signature_validator"

/* A model turn with tool calls: its text, then a functionCall part per call, each with the
 * thoughtSignature it came with. */
static cJSON *
gemini_calls_content(const struct message *msg)
{
	cJSON *c = msg->content[0] != '\0' ? gemini_content("model", msg->content) :
	    cJSON_CreateObject(), *parts, *part, *fc;
	size_t k;

	if (msg->content[0] == '\0') {
		cJSON_AddStringToObject(c, "role", "model");
		cJSON_AddArrayToObject(c, "parts");
	}
	parts = cJSON_GetObjectItemCaseSensitive(c, "parts");
	for (k = 0; k < msg->ncalls; k++) {
		part = cJSON_CreateObject();
		fc = cJSON_AddObjectToObject(part, "functionCall");
		cJSON_AddStringToObject(fc, "name", msg->calls[k].name);
		cJSON_AddItemToObject(fc, "args", proto_call_args(&msg->calls[k]));
		/* The API wants the first call of a step signed; a call another provider made
		 * has no signature, and this value tells the API to skip the check. */
		if (msg->calls[k].signature != NULL)
			cJSON_AddStringToObject(part, "thoughtSignature", msg->calls[k].signature);
		else if (k == 0)
			cJSON_AddStringToObject(part, "thoughtSignature", GEMINI_NO_SIGNATURE);
		cJSON_AddItemToArray(parts, part);
	}
	return c;
}

/* A tool result: a functionResponse part, its text under "result" (or "error"), added to
 * parts (a round's results go in one user content: the API wants as many responses
 * there as the turn before made calls). */
static void
gemini_result_part(cJSON *parts, const struct message *msg)
{
	cJSON *part, *fr, *resp;

	part = cJSON_CreateObject();
	fr = cJSON_AddObjectToObject(part, "functionResponse");
	cJSON_AddStringToObject(fr, "name", msg->tool_name);
	resp = cJSON_AddObjectToObject(fr, "response");
	cJSON_AddStringToObject(resp, msg->tool_error ? "error" : "result", msg->content);
	cJSON_AddItemToArray(parts, part);
}

/* The request's tools as Gemini declares them: one tools entry of functionDeclarations,
 * with the schema as parametersJsonSchema (full JSON Schema; "parameters" takes only
 * Gemini's OpenAPI subset, which MCP servers' schemas often step outside). */
static void
gemini_tools(cJSON *root, const struct request *req)
{
	cJSON *tools, *decls, *d;
	size_t i;

	if (req->ntools == 0)
		return;
	tools = cJSON_AddArrayToObject(root, "tools");
	d = cJSON_CreateObject();
	cJSON_AddItemToArray(tools, d);
	decls = cJSON_AddArrayToObject(d, "functionDeclarations");
	for (i = 0; i < req->ntools; i++)
		cJSON_AddItemToArray(decls, proto_tool_decl(&req->tools[i], "parametersJsonSchema"));
}

/* Build POST {base}/models/{model}:streamGenerateContent?alt=sse, or with no_stream
 * {base}/models/{model}:generateContent, which answers with one response. */
static void
gemini_build_chat(const struct request *req, struct http_req *out)
{
	const struct provider *p = req->provider;
	const char *model = req->model;
	const char *method = req->no_stream ? "generateContent" : "streamGenerateContent?alt=sse";
	cJSON *root = cJSON_CreateObject(), *contents, *gc, *c, *results = NULL;
	struct buf system = BUF_INIT;
	struct proto_marks pm;
	char *path, *url;
	size_t i;

	proto_marks_init(&pm);
	/* Paths take "models/x" (or "tunedModels/x"); a bare id gets the "models/" prefix. */
	if (strchr(model, '/') != NULL)
		path = xasprintf("%s:%s", model, method);
	else
		path = xasprintf("models/%s:%s", model, method);
	url = http_join(p != NULL ? p->base_url : "", path);
	free(path);
	http_req_init(out, "POST", url);
	free(url);
	proto_common_headers(out, req->no_stream ? "application/json" : "text/event-stream");
	gemini_auth(p, out);
	proto_extra_headers(p, out);

	request_join_system(req, &system);
	contents = cJSON_AddArrayToObject(root, "contents");
	for (i = 0; i < req->nmsgs; i++) {
		if (req->msgs[i].role == ROLE_SYSTEM)
			continue;
		if (req->msgs[i].role == ROLE_TOOL) {
			if (results == NULL) {
				c = cJSON_CreateObject();
				cJSON_AddStringToObject(c, "role", "user");
				results = cJSON_AddArrayToObject(c, "parts");
				cJSON_AddItemToArray(contents, c);
			}
			gemini_result_part(results, &req->msgs[i]);
			continue;
		}
		results = NULL;
		if (req->msgs[i].ncalls > 0)
			cJSON_AddItemToArray(contents, gemini_calls_content(&req->msgs[i]));
		else if (req->msgs[i].natts > 0)
			cJSON_AddItemToArray(contents, gemini_attached(&req->msgs[i], &pm));
		else
			cJSON_AddItemToArray(contents, gemini_content(req->msgs[i].role ==
			    ROLE_ASSISTANT ? "model" : "user", req->msgs[i].content));
	}
	gemini_tools(root, req);
	if (system.len > 0)
		cJSON_AddItemToObject(root, "systemInstruction", gemini_content(NULL, system.data));
	buf_free(&system);
	if ((gc = gemini_generation_config(&req->params)) != NULL)
		cJSON_AddItemToObject(root, "generationConfig", gc);
	proto_set_body_marked(out, root, &pm);
}

/* Take the counts from usageMetadata (it repeats and grows; the last one wins). */
static void
gemini_usage(struct stream *s, const cJSON *u)
{
	struct usage us = USAGE_NONE;

	if (!cJSON_IsObject(u))
		return;
	proto_json_long(u, "promptTokenCount", &us.input_tokens);
	proto_json_long(u, "candidatesTokenCount", &us.output_tokens);
	proto_json_long(u, "thoughtsTokenCount", &us.reasoning_tokens);
	proto_json_long(u, "totalTokenCount", &us.total_tokens);
	stream_usage(s, &us);
}

/* A functionCall part: one whole call, with the part's thoughtSignature (which the API
 * wants back with it). */
static void
gemini_function_call(struct stream *s, const cJSON *part)
{
	const cJSON *fc = cJSON_GetObjectItemCaseSensitive(part, "functionCall");
	const cJSON *args = cJSON_GetObjectItemCaseSensitive(fc, "args");
	struct toolcall *c;
	char *text;

	if (!cJSON_IsObject(fc) || proto_json_string(fc, "name") == NULL)
		return;
	c = toolacc_add(&s->tools, -1, proto_json_string(fc, "id"), proto_json_string(fc, "name"));
	if (cJSON_IsObject(args) && (text = cJSON_PrintUnformatted(args)) != NULL) {
		toolacc_args(c, text, strlen(text));
		cJSON_free(text);
	}
	toolacc_signature(c, proto_json_string(part, "thoughtSignature"));
}

/* Map one GenerateContentResponse object to deltas. */
static void
gemini_response(struct stream *s, const cJSON *root)
{
	const cJSON *err, *cand, *parts, *part, *fb;
	const char *v;

	err = cJSON_GetObjectItemCaseSensitive(root, "error");
	if (cJSON_IsObject(err) || cJSON_IsString(err)) {
		struct apierr *e = apierr_new(APIERR_STREAM, APIERR_OTHER, NULL);

		proto_error_from_json(e, err);
		proto_stream_error(s, e);
		return;
	}
	cand = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(root, "candidates"), 0);
	parts = cJSON_GetObjectItemCaseSensitive(
	    cJSON_GetObjectItemCaseSensitive(cand, "content"), "parts");
	cJSON_ArrayForEach(part, parts) {
		gemini_function_call(s, part);
		if ((v = proto_json_string(part, "text")) == NULL)
			continue;
		if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(part, "thought")))
			stream_reasoning(s, v, strlen(v));
		else
			stream_text(s, v, strlen(v));
	}
	stream_tool_calls(s);
	if ((v = proto_json_string(cand, "finishReason")) != NULL && v[0] != '\0' &&
	    strcmp(v, "FINISH_REASON_UNSPECIFIED") != 0) {
		stream_finish_reason(s, v);
		s->terminated = 1;
	}
	gemini_usage(s, cJSON_GetObjectItemCaseSensitive(root, "usageMetadata"));
	fb = cJSON_GetObjectItemCaseSensitive(root, "promptFeedback");
	if ((v = proto_json_string(fb, "blockReason")) != NULL && v[0] != '\0' &&
	    strcmp(v, "BLOCK_REASON_UNSPECIFIED") != 0) {
		const char *msg = proto_json_string(fb, "blockReasonMessage");
		char *text = msg != NULL && msg[0] != '\0' ? xstrdup(msg) :
		    xasprintf("the prompt was blocked (%s)", v);
		struct apierr *e = apierr_new(APIERR_KIND_BLOCKED, APIERR_BLOCKED, text);

		free(text);
		e->reason = xstrdup(v);
		proto_stream_error(s, e);
	}
}

/* Check the one part for the fast path: its text, and thought true or false. */
static int
gemini_fast_part(struct jscan *j, struct jscan_str *text, int *thought)
{
	struct jscan_str k;
	int first = 1, r, have_text = 0, have_thought = 0;
	enum jscan_type t;

	if (!jscan_open(j, '{'))
		return 0;
	while ((r = jscan_next_key(j, &k, &first)) == 1) {
		if (jscan_str_is(&k, "text")) {
			if (have_text++ || jscan_peek(j) != JSCAN_STRING || !jscan_string(j, text))
				return 0;
		} else if (jscan_str_is(&k, "thought")) {
			t = jscan_peek(j);
			if (have_thought++ || (t != JSCAN_TRUE && t != JSCAN_FALSE) || !jscan_skip(j))
				return 0;
			*thought = t == JSCAN_TRUE;
		} else if (!jscan_str_is(&k, "thoughtSignature") || !jscan_skip(j)) {
			return 0;
		}
	}
	return r == 0 && have_text;
}

/* Check a candidate's content for the fast path: exactly one part, and a role. */
static int
gemini_fast_content(struct jscan *j, struct jscan_str *text, int *thought)
{
	struct jscan_str k;
	int first = 1, r, have_parts = 0, f, n;

	if (!jscan_open(j, '{'))
		return 0;
	while ((r = jscan_next_key(j, &k, &first)) == 1) {
		if (jscan_str_is(&k, "parts")) {
			if (have_parts++ || !jscan_open(j, '['))
				return 0;
			f = 1;
			n = 0;
			while ((r = jscan_next_item(j, &f)) == 1)
				if (n++ > 0 || jscan_peek(j) != JSCAN_OBJECT ||
				    !gemini_fast_part(j, text, thought))
					return 0;
			if (r != 0 || n != 1)
				return 0;
		} else if (!jscan_str_is(&k, "role") || !jscan_skip(j)) {
			return 0;
		}
	}
	return r == 0 && have_parts;
}

/* Check the one candidate for the fast path: content and index, no finish reason. */
static int
gemini_fast_candidate(struct jscan *j, struct jscan_str *text, int *thought)
{
	struct jscan_str k;
	int first = 1, r, have_content = 0;

	if (!jscan_open(j, '{'))
		return 0;
	while ((r = jscan_next_key(j, &k, &first)) == 1) {
		if (jscan_str_is(&k, "content")) {
			if (have_content++ || jscan_peek(j) != JSCAN_OBJECT ||
			    !gemini_fast_content(j, text, thought))
				return 0;
		} else if (!jscan_str_is(&k, "index") || jscan_peek(j) != JSCAN_NUMBER ||
		    !jscan_skip(j)) {
			return 0;
		}
	}
	return r == 0 && have_content;
}

/* Read usageMetadata for the fast path: the four counts natter keeps must be plain
 * integers, each at most once; other keys are skipped, as the full path ignores them. */
static int
gemini_fast_usage(struct jscan *j, struct usage *us)
{
	static const char *const names[] = { "promptTokenCount", "candidatesTokenCount",
		"thoughtsTokenCount", "totalTokenCount" };
	long *slots[4];
	struct jscan_str k;
	int first = 1, r, seen = 0, i;

	slots[0] = &us->input_tokens;
	slots[1] = &us->output_tokens;
	slots[2] = &us->reasoning_tokens;
	slots[3] = &us->total_tokens;
	if (!jscan_open(j, '{'))
		return 0;
	while ((r = jscan_next_key(j, &k, &first)) == 1) {
		if (k.escaped)
			return 0;
		for (i = 0; i < 4; i++)
			if (jscan_str_is_n(&k, names[i], strlen(names[i])))
				break;
		if (i < 4) {
			if ((seen & (1 << i)) || !proto_fast_count(j, slots[i]))
				return 0;
			seen |= 1 << i;
		} else if (!jscan_skip(j)) {
			return 0;
		}
	}
	return r == 0;
}

/*
 * The fast path for the response that makes up almost all of a reply: one candidate with
 * one text part (a thought or not), no finish reason, and the growing usageMetadata,
 * scanned in place with no allocation. Anything else (finish reasons, more candidates or
 * parts, errors, prompt feedback, odd keys or syntax, escapes the scanner leaves alone)
 * returns 0 and the event goes through cJSON. Returns 1 when it handled the event.
 */
static int
gemini_fast_event(struct stream *s, const char *data, size_t len)
{
	struct jscan j;
	struct jscan_str k, text;
	struct usage us = USAGE_NONE;
	int first = 1, r, have_cand = 0, have_usage = 0, thought = 0, f, n;

	jscan_init(&j, data, len);
	if (!jscan_open(&j, '{'))
		return 0;
	while ((r = jscan_next_key(&j, &k, &first)) == 1) {
		if (jscan_str_is(&k, "candidates")) {
			if (have_cand++ || !jscan_open(&j, '['))
				return 0;
			f = 1;
			n = 0;
			while ((r = jscan_next_item(&j, &f)) == 1)
				if (n++ > 0 || jscan_peek(&j) != JSCAN_OBJECT ||
				    !gemini_fast_candidate(&j, &text, &thought))
					return 0;
			if (r != 0 || n != 1)
				return 0;
		} else if (jscan_str_is(&k, "usageMetadata")) {
			if (have_usage++ || jscan_peek(&j) != JSCAN_OBJECT ||
			    !gemini_fast_usage(&j, &us))
				return 0;
		} else if ((!jscan_str_is(&k, "modelVersion") && !jscan_str_is(&k, "responseId")) ||
		    jscan_peek(&j) != JSCAN_STRING || !jscan_skip(&j)) {
			return 0;
		}
	}
	if (r != 0 || !jscan_at_end(&j) || !have_cand || !proto_fast_emit(s, &text, thought))
		return 0;
	if (have_usage)
		stream_usage(s, &us);
	proto_shape_keep(s, NULL, data, len, &text);
	s->shape_reasoning = thought;
	s->shape_has_usage = have_usage;
	s->shape_usage = us;
	return 1;
}

/* Map one SSE event to deltas; a JSON array (non-SSE framing) is taken element-wise. */
static void
gemini_on_event(struct stream *s, const char *event, const char *data, size_t len)
{
	cJSON *root, *item;

	(void)event;
	if (len == 0)
		return;
	if (!s->no_fast_path && (proto_shape_hit(s, NULL, data, len) ||
	    gemini_fast_event(s, data, len))) {
		s->fast_events++;
		return;
	}
	root = proto_json_parse(data, len);
	if (cJSON_IsObject(root)) {
		gemini_response(s, root);
	} else if (cJSON_IsArray(root)) {
		cJSON_ArrayForEach(item, root)
			if (cJSON_IsObject(item) && s->error == NULL)
				gemini_response(s, item);
	} else {
		/* One bad chunk loses its own text only: the reply goes on, with a warning. */
		stream_skip(s, root == NULL ? "not JSON" : "not a JSON object", data, len);
	}
	cJSON_Delete(root);
}

/* True when obj looks like a GenerateContentResponse (or an error in its place). */
static int
gemini_is_response(const cJSON *obj)
{
	return cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(obj, "candidates")) ||
	    cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(obj, "promptFeedback")) ||
	    cJSON_GetObjectItemCaseSensitive(obj, "error") != NULL;
}

/* True when arr is a non-empty array of responses. */
static int
gemini_all_responses(const cJSON *arr)
{
	const cJSON *item;

	if (arr->child == NULL)
		return 0;
	cJSON_ArrayForEach(item, arr)
		if (!cJSON_IsObject(item) || !gemini_is_response(item))
			return 0;
	return 1;
}

/* Decode a whole :generateContent response: the same object a stream sends in pieces, so
 * the same mapping applies (thought parts are reasoning; only a finishReason makes it
 * whole). An array of responses, as streamGenerateContent sends without alt=sse and as
 * errors sometimes come, is taken element-wise. */
static void
gemini_parse_reply(struct stream *s, const char *body, size_t len)
{
	cJSON *root = proto_json_parse_whole(body, len), *item;

	if (cJSON_IsObject(root) && gemini_is_response(root)) {
		gemini_response(s, root);
	} else if (cJSON_IsArray(root) && gemini_all_responses(root)) {
		cJSON_ArrayForEach(item, root)
			if (s->error == NULL)
				gemini_response(s, item);
	} else {
		proto_reply_malformed(s, root == NULL ? "not JSON" :
		    "not a GenerateContentResponse", body, len);
	}
	cJSON_Delete(root);
}

/* Complete when a finishReason arrived, no error followed, and the input ended cleanly. */
static void
gemini_on_eof(struct stream *s)
{
	s->complete = s->terminated && s->error == NULL && !s->eof_partial;
}

/* Build GET {base}/models with a page size and the page token. */
static void
gemini_build_models(const struct provider *p, const char *page, struct http_req *out)
{
	proto_models_get(p, "models?pageSize=1000", "pageToken", page, out);
	gemini_auth(p, out);
	proto_extra_headers(p, out);
}

/* True when the model's supportedGenerationMethods lists generateContent. */
static int
gemini_can_chat(const cJSON *m)
{
	const cJSON *meth;

	cJSON_ArrayForEach(meth, cJSON_GetObjectItemCaseSensitive(m, "supportedGenerationMethods"))
		if (cJSON_IsString(meth) && strcmp(meth->valuestring, "generateContent") == 0)
			return 1;
	return 0;
}

/* Parse {"models":[{name,displayName,inputTokenLimit,outputTokenLimit,…}],
 * "nextPageToken"}, keeping chat models and dropping the "models/" prefix from ids. */
static int
gemini_parse_models(const char *body, size_t len, struct model_list *out, char **next)
{
	cJSON *root = proto_json_parse(body, len), *models, *m;
	const char *tok;

	*next = NULL;
	models = cJSON_GetObjectItemCaseSensitive(root, "models");
	if (!cJSON_IsObject(root) || (models != NULL && !cJSON_IsArray(models)) ||
	    (models == NULL && cJSON_GetObjectItemCaseSensitive(root, "error") != NULL)) {
		cJSON_Delete(root);
		return -1;
	}
	cJSON_ArrayForEach(m, models) {
		const char *name = proto_json_string(m, "name");
		long ctx = 0, maxo = 0;

		if (name == NULL || name[0] == '\0' || !gemini_can_chat(m))
			continue;
		if (strncmp(name, "models/", 7) == 0 && name[7] != '\0')
			name += 7;
		proto_json_long(m, "inputTokenLimit", &ctx);
		proto_json_long(m, "outputTokenLimit", &maxo);
		model_list_add(out, name, proto_json_string(m, "displayName"), ctx, maxo);
	}
	tok = proto_json_string(root, "nextPageToken");
	if (tok != NULL && tok[0] != '\0')
		*next = xstrdup(tok);
	cJSON_Delete(root);
	return 0;
}

const struct proto proto_gemini = {
	.name = "gemini",
	.framing = FRAMING_SSE,
	.build_chat = gemini_build_chat,
	.on_event = gemini_on_event,
	.on_eof = gemini_on_eof,
	.parse_reply = gemini_parse_reply,
	.parse_error = proto_parse_error,
	.build_models = gemini_build_models,
	.parse_models = gemini_parse_models,
};
