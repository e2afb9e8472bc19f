/*
 * Anthropic Messages (protocols.md §A.2): x-api-key auth, a top-level system prompt, a
 * required max_tokens, and a stream of named events. Events are dispatched on the SSE
 * event name, falling back to data.type for compatible servers that omit "event:" lines.
 * Usage is message_start's input count plus the cumulative output count of the last
 * message_delta; tool-argument and signature deltas are never shown. Text and thinking
 * deltas, nearly every event of a reply, are scanned in place (src/jscan.h) without cJSON.
 * The thinking's signature is kept (stream_signature) so that the next request to the same
 * model can send that thinking back as a signed block; before a request is built,
 * check_params refuses the parameter combinations the API would reject.
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

/* max_tokens is required by the API; this applies when the user set none. */
#define ANTHROPIC_DEFAULT_MAX_TOKENS 4096

/* Add the auth and version headers every Anthropic request needs. */
static void
anthropic_auth(const struct provider *p, struct http_req *out)
{
	if (p != NULL && p->key != NULL && p->key[0] != '\0')
		http_req_header(out, "x-api-key: %s", p->key);
	http_req_header(out, "anthropic-version: 2023-06-01");
}

/* The thinking budget for a request: the explicit budget, else one derived from the
 * effort level; 0 when thinking is off. */
static long
anthropic_budget(const struct params *pp)
{
	const char *eff = pp->reasoning_effort;

	if (pp->set & PARAM_REASONING_BUDGET)
		return pp->reasoning_budget > 0 ? pp->reasoning_budget : 0;
	if (!(pp->set & PARAM_REASONING_EFFORT) || eff == NULL)
		return 0;
	if (strcmp(eff, "low") == 0 || strcmp(eff, "minimal") == 0)
		return 1024;
	if (strcmp(eff, "medium") == 0)
		return 4096;
	if (strcmp(eff, "high") == 0)
		return 16384;
	return 0;
}

/* Anthropic's smallest thinking budget. */
#define ANTHROPIC_MIN_BUDGET 1024

/* The generation of a Claude id: family ("opus", "sonnet", "haiku"), major and minor
 * version ("claude-sonnet-4-5-20250929" is sonnet 4.5, "claude-opus-4-20250514" opus 4.0,
 * "anthropic.claude-haiku-4-5-v1:0" haiku 4.5). 0 when id is not named that way (the
 * claude-3-5-sonnet style of older models included). */
static int
anthropic_generation(const char *id, char *family, size_t fsize, long *major, long *minor)
{
	static const char *const families[] = { "opus", "sonnet", "haiku" };
	const char *p = id != NULL ? strstr(id, "claude-") : NULL, *q;
	char *end;
	size_t i, n;

	if (p == NULL)
		return 0;
	p += 7;
	for (i = 0; i < sizeof families / sizeof families[0]; i++) {
		n = strlen(families[i]);
		if (strncmp(p, families[i], n) == 0 && p[n] == '-')
			break;
	}
	if (i == sizeof families / sizeof families[0] || n + 1 > fsize)
		return 0;
	memcpy(family, p, n);
	family[n] = '\0';
	p += n + 1;
	if (*p < '0' || *p > '9')
		return 0;
	*major = strtol(p, &end, 10);
	*minor = 0;
	/* A one- or two-digit part after the major is the minor; eight digits are a date. */
	if (*end == '-' && end[1] >= '0' && end[1] <= '9') {
		for (q = end + 1; *q >= '0' && *q <= '9'; q++)
			;
		if (q - (end + 1) <= 2)
			*minor = strtol(end + 1, NULL, 10);
	}
	return 1;
}

/* True for the models that refuse temperature and top_p together ("`temperature` and
 * `top_p` cannot both be specified for this model"): Opus 4.1, Sonnet and Haiku 4.5 and
 * every Claude after them, by the reports in cloud-apim/otoroshi-llm-extension#140 and
 * BerriAI/litellm#15097. */
static int
anthropic_one_sampler(const char *id)
{
	char family[8];
	long major, minor;

	if (!anthropic_generation(id, family, sizeof family, &major, &minor))
		return 0;
	if (major != 4)
		return major > 4;
	return strcmp(family, "opus") == 0 ? minor >= 1 : minor >= 5;
}

/* The rules the Messages API enforces across parameters (protocols.md §A.2 lists the
 * fields): thinking needs a budget of at least 1024 below max_tokens, temperature 1 (or
 * none), no top_k and a top_p of 0.95 to 1; newer models take temperature or top_p, not
 * both. Saying so here saves a round trip and a 400 that names one rule at a time. */
static int
anthropic_check_params(const char *id, const char *name, const struct params *pp, char **err)
{
	long budget = anthropic_budget(pp);
	const char *how = (pp->set & PARAM_REASONING_BUDGET) ? "reasoning_budget" :
	    "reasoning_effort";

	*err = NULL;
	if ((pp->set & PARAM_REASONING_BUDGET) && pp->reasoning_budget > 0 &&
	    pp->reasoning_budget < ANTHROPIC_MIN_BUDGET) {
		*err = xasprintf("%s: reasoning_budget must be at least %d (Anthropic's smallest "
		    "thinking budget), got %ld", name, ANTHROPIC_MIN_BUDGET, pp->reasoning_budget);
	} else if (budget > 0 && (pp->set & PARAM_MAX_TOKENS) && pp->max_tokens > 0 &&
	    budget >= pp->max_tokens) {
		*err = xasprintf("%s: the thinking budget (%s, %ld tokens) must be below max_tokens "
		    "(%ld), which counts the thinking too; raise max_tokens or lower the budget",
		    name, how, budget, pp->max_tokens);
	} else if (budget > 0 && (pp->set & PARAM_TEMPERATURE) && pp->temperature != 1) {
		*err = xasprintf("%s: thinking (%s) needs temperature 1 or unset, got %.10g", name,
		    how, pp->temperature);
	} else if (budget > 0 && (pp->set & PARAM_TOP_K)) {
		*err = xasprintf("%s: thinking (%s) does not allow top_k; unset it", name, how);
	} else if (budget > 0 && (pp->set & PARAM_TOP_P) && (pp->top_p < 0.95 ||
	    pp->top_p > 1)) {
		*err = xasprintf("%s: with thinking (%s), top_p must be from 0.95 to 1, got %.10g",
		    name, how, pp->top_p);
	} else if ((pp->set & PARAM_TEMPERATURE) && (pp->set & PARAM_TOP_P) &&
	    anthropic_one_sampler(id)) {
		*err = xasprintf("%s: temperature and top_p cannot both be set for this model; "
		    "set one of them", name);
	}
	return *err != NULL ? -1 : 0;
}

/* An earlier reply as content blocks: its thinking with the signature the API gave it
 * (the API checks that the thinking is unchanged), then its text. Sent only when this
 * request thinks too. */
static void
anthropic_thinking_content(cJSON *m, const struct message *msg)
{
	cJSON *content = cJSON_AddArrayToObject(m, "content"), *b;

	b = cJSON_CreateObject();
	cJSON_AddStringToObject(b, "type", "thinking");
	cJSON_AddStringToObject(b, "thinking", msg->reasoning != NULL ? msg->reasoning : "");
	cJSON_AddStringToObject(b, "signature", msg->signature);
	cJSON_AddItemToArray(content, b);
	if (msg->content[0] != '\0') {
		b = cJSON_CreateObject();
		cJSON_AddStringToObject(b, "type", "text");
		cJSON_AddStringToObject(b, "text", msg->content);
		cJSON_AddItemToArray(content, b);
	}
}

/* An assistant reply with tool calls: its text (and signed thinking) then a tool_use
 * block per call. */
static void
anthropic_calls_content(cJSON *m, const struct message *msg, int thinking)
{
	cJSON *content, *b;
	size_t k;

	if (thinking && msg->signature != NULL)
		anthropic_thinking_content(m, msg);
	content = cJSON_GetObjectItemCaseSensitive(m, "content");
	if (content == NULL) {
		content = cJSON_AddArrayToObject(m, "content");
		if (msg->content[0] != '\0') {
			b = cJSON_CreateObject();
			cJSON_AddStringToObject(b, "type", "text");
			cJSON_AddStringToObject(b, "text", msg->content);
			cJSON_AddItemToArray(content, b);
		}
	}
	for (k = 0; k < msg->ncalls; k++) {
		b = cJSON_CreateObject();
		cJSON_AddStringToObject(b, "type", "tool_use");
		cJSON_AddStringToObject(b, "id", msg->calls[k].id);
		cJSON_AddStringToObject(b, "name", msg->calls[k].name);
		cJSON_AddItemToObject(b, "input", proto_call_args(&msg->calls[k]));
		cJSON_AddItemToArray(content, b);
	}
}

/* A tool result: a tool_result block, added to content (the results of one round go in
 * one user message: the API wants every tool_use answered in the message right after). */
static void
anthropic_result_content(cJSON *content, const struct message *msg)
{
	cJSON *b = cJSON_CreateObject();

	cJSON_AddStringToObject(b, "type", "tool_result");
	cJSON_AddStringToObject(b, "tool_use_id", msg->tool_id);
	cJSON_AddStringToObject(b, "content", msg->content);
	if (msg->tool_error)
		cJSON_AddTrueToObject(b, "is_error");
	cJSON_AddItemToArray(content, b);
}

/* A request that declares no tools may not hold tool_use or tool_result blocks (the API
 * refuses it), so a session's earlier calls go as text: the call on its reply, the result
 * as a user message. */
static void
anthropic_calls_as_text(cJSON *m, const struct message *msg)
{
	struct buf b = BUF_INIT;
	size_t k;

	if (msg->role == ROLE_TOOL) {
		buf_printf(&b, "[tool %s %s: %s]", msg->tool_name, msg->tool_error ? "failed" :
		    "returned", msg->content);
	} else {
		buf_puts(&b, msg->content);
		for (k = 0; k < msg->ncalls; k++)
			buf_printf(&b, "%s[called tool %s with %s]", b.len > 0 ? "\n" : "",
			    msg->calls[k].name, msg->calls[k].args != NULL ? msg->calls[k].args : "{}");
	}
	cJSON_AddStringToObject(m, "content", buf_str(&b));
	buf_free(&b);
}

/* A user message with files: an image or document block per file sent as one (the API
 * reads them best before the question), then the text with the other files inlined. */
static void
anthropic_attached(cJSON *m, const struct message *msg, struct proto_marks *pm)
{
	struct buf text = BUF_INIT;
	cJSON *content, *b, *src;
	size_t k;

	proto_attach_text(msg, &text);
	if (proto_attach_native(msg) == 0) {
		cJSON_AddStringToObject(m, "content", buf_str(&text));
		buf_free(&text);
		return;
	}
	content = cJSON_AddArrayToObject(m, "content");
	for (k = 0; k < msg->natts; k++) {
		const struct attach *a = msg->atts[k].a;

		if (!proto_attach_is_native(&msg->atts[k]))
			continue;
		b = cJSON_CreateObject();
		cJSON_AddStringToObject(b, "type", a->kind == ATTACH_PDF ? "document" : "image");
		src = cJSON_AddObjectToObject(b, "source");
		cJSON_AddStringToObject(src, "type", "base64");
		cJSON_AddStringToObject(src, "media_type", a->mime);
		cJSON_AddItemToObject(src, "data", proto_mark(pm, a, 0));
		cJSON_AddItemToArray(content, b);
	}
	/* The API refuses an empty text block. */
	if (text.len > 0) {
		b = cJSON_CreateObject();
		cJSON_AddStringToObject(b, "type", "text");
		cJSON_AddStringToObject(b, "text", text.data);
		cJSON_AddItemToArray(content, b);
	}
	buf_free(&text);
}

/* The request's tools as Anthropic declares them. */
static void
anthropic_tools(cJSON *root, const struct request *req)
{
	cJSON *tools;
	size_t i;

	if (req->ntools == 0)
		return;
	tools = cJSON_AddArrayToObject(root, "tools");
	for (i = 0; i < req->ntools; i++)
		cJSON_AddItemToArray(tools, proto_tool_decl(&req->tools[i], "input_schema"));
}

/* Build POST {base}/messages, streaming unless no_stream asks for one Message. */
static void
anthropic_build_chat(const struct request *req, struct http_req *out)
{
	const struct provider *p = req->provider;
	const struct params *pp = &req->params;
	char *url = http_join(p != NULL ? p->base_url : "", "messages");
	cJSON *root = cJSON_CreateObject(), *msgs, *m, *results = NULL;
	struct buf system = BUF_INIT;
	struct proto_marks pm;
	long max_tokens, budget = anthropic_budget(pp);
	size_t i;

	proto_marks_init(&pm);
	http_req_init(out, "POST", url);
	free(url);
	proto_common_headers(out, req->no_stream ? "application/json" : "text/event-stream");
	anthropic_auth(p, out);
	proto_extra_headers(p, out);

	/* The API has no system role: system messages from the history join the prompt. */
	request_join_system(req, &system);
	max_tokens = (pp->set & PARAM_MAX_TOKENS) && pp->max_tokens > 0 ? pp->max_tokens :
	    ANTHROPIC_DEFAULT_MAX_TOKENS + budget;
	cJSON_AddStringToObject(root, "model", req->model);
	cJSON_AddNumberToObject(root, "max_tokens", (double)max_tokens);
	if (system.len > 0)
		cJSON_AddStringToObject(root, "system", system.data);
	buf_free(&system);
	msgs = cJSON_AddArrayToObject(root, "messages");
	for (i = 0; i < req->nmsgs; i++) {
		if (req->msgs[i].role == ROLE_SYSTEM)
			continue;
		/* The next result of the same round joins the message of the first. */
		if (req->msgs[i].role == ROLE_TOOL && results != NULL && req->ntools > 0) {
			anthropic_result_content(results, &req->msgs[i]);
			continue;
		}
		results = NULL;
		m = cJSON_CreateObject();
		cJSON_AddStringToObject(m, "role",
		    req->msgs[i].role == ROLE_ASSISTANT ? "assistant" : "user");
		if (req->ntools == 0 && (req->msgs[i].role == ROLE_TOOL || req->msgs[i].ncalls > 0))
			anthropic_calls_as_text(m, &req->msgs[i]);
		else if (req->msgs[i].role == ROLE_TOOL)
			anthropic_result_content(results = cJSON_AddArrayToObject(m, "content"),
			    &req->msgs[i]);
		else if (req->msgs[i].ncalls > 0)
			anthropic_calls_content(m, &req->msgs[i], budget > 0);
		else if (budget > 0 && req->msgs[i].role == ROLE_ASSISTANT &&
		    req->msgs[i].signature != NULL)
			anthropic_thinking_content(m, &req->msgs[i]);
		else if (req->msgs[i].natts > 0)
			anthropic_attached(m, &req->msgs[i], &pm);
		else
			cJSON_AddStringToObject(m, "content", req->msgs[i].content);
		cJSON_AddItemToArray(msgs, m);
	}
	anthropic_tools(root, req);
	cJSON_AddBoolToObject(root, "stream", !req->no_stream);
	if (pp->set & PARAM_TEMPERATURE)
		cJSON_AddNumberToObject(root, "temperature", pp->temperature);
	if (pp->set & PARAM_TOP_P)
		cJSON_AddNumberToObject(root, "top_p", pp->top_p);
	if (pp->set & PARAM_TOP_K)
		cJSON_AddNumberToObject(root, "top_k", (double)pp->top_k);
	if ((pp->set & PARAM_STOP) && pp->nstop > 0) {
		cJSON *stop = cJSON_AddArrayToObject(root, "stop_sequences");
		int k;

		for (k = 0; k < pp->nstop && k < PARAM_MAX_STOP; k++)
			cJSON_AddItemToArray(stop, cJSON_CreateString(pp->stop[k]));
	}
	if (budget > 0) {
		m = cJSON_AddObjectToObject(root, "thinking");
		cJSON_AddStringToObject(m, "type", "enabled");
		cJSON_AddNumberToObject(m, "budget_tokens", (double)budget);
	}
	proto_set_body_marked(out, root, &pm);
}

/* Take the counts from a usage object: input from message_start, output cumulative. */
static void
anthropic_usage(struct stream *s, const cJSON *u)
{
	struct usage us = USAGE_NONE;

	if (!cJSON_IsObject(u))
		return;
	proto_json_long(u, "input_tokens", &us.input_tokens);
	proto_json_long(u, "output_tokens", &us.output_tokens);
	stream_usage(s, &us);
}

/* Emit the text or thinking carried by a delta or an opening content block. */
static void
anthropic_block_text(struct stream *s, const cJSON *d)
{
	const char *type = proto_json_string(d, "type"), *v;

	if (type == NULL)
		return;
	if ((strcmp(type, "text_delta") == 0 || strcmp(type, "text") == 0) &&
	    (v = proto_json_string(d, "text")) != NULL)
		stream_text(s, v, strlen(v));
	else if ((strcmp(type, "thinking_delta") == 0 || strcmp(type, "thinking") == 0) &&
	    (v = proto_json_string(d, "thinking")) != NULL)
		stream_reasoning(s, v, strlen(v));
	else if (strcmp(type, "signature_delta") == 0 &&
	    (v = proto_json_string(d, "signature")) != NULL)
		stream_signature(s, v, strlen(v));
	/* input_json_delta, citations_delta, redacted_thinking and tool blocks carry nothing
	 * to print. */
}

/* Note a content block beginning: thinking blocks are counted (a signature stands for
 * one), a whole one brings its signature, and a redacted one means the reasoning cannot
 * be sent back as it was. */
static void
anthropic_block_begin(struct stream *s, const cJSON *block)
{
	const char *type = proto_json_string(block, "type"), *v;

	if (type == NULL)
		return;
	if (strcmp(type, "thinking") == 0) {
		s->nthinking++;
		if ((v = proto_json_string(block, "signature")) != NULL)
			stream_signature(s, v, strlen(v));
	} else if (strcmp(type, "redacted_thinking") == 0) {
		s->thinking_unsigned = 1;
	}
}

/* A tool_use block: a new call at the block's index. Its input is {} when streamed (the
 * input_json_delta pieces follow), the whole input in a whole Message. */
static void
anthropic_tool_block(struct stream *s, const cJSON *root, const cJSON *block, int whole)
{
	const cJSON *idx = cJSON_GetObjectItemCaseSensitive(root, "index");
	const cJSON *input = cJSON_GetObjectItemCaseSensitive(block, "input");
	const char *type = proto_json_string(block, "type");
	struct toolcall *c;
	char *text;

	if (type == NULL || strcmp(type, "tool_use") != 0)
		return;
	c = toolacc_add(&s->tools, cJSON_IsNumber(idx) ? (long)idx->valuedouble : -1,
	    proto_json_string(block, "id"), proto_json_string(block, "name"));
	if (whole && cJSON_IsObject(input) && (text = cJSON_PrintUnformatted(input)) != NULL) {
		toolacc_args(c, text, strlen(text));
		cJSON_free(text);
	}
}

/* An input_json_delta: a piece of the arguments of the tool_use block at its index. */
static void
anthropic_tool_delta(struct stream *s, const cJSON *root, const cJSON *d)
{
	const cJSON *idx = cJSON_GetObjectItemCaseSensitive(root, "index");
	const char *type = proto_json_string(d, "type"), *v;

	if (type == NULL || strcmp(type, "input_json_delta") != 0 ||
	    (v = proto_json_string(d, "partial_json")) == NULL)
		return;
	toolacc_args(toolacc_at(&s->tools, cJSON_IsNumber(idx) ? (long)idx->valuedouble : -1,
	    NULL), v, strlen(v));
}

/* Report an error event or error body: its error object (or the whole of it), with the
 * request id it carries. */
static void
anthropic_error(struct stream *s, const cJSON *root, const char *data, size_t len)
{
	struct apierr *e = apierr_new(APIERR_STREAM, APIERR_OTHER, NULL);
	const cJSON *err = cJSON_GetObjectItemCaseSensitive(root, "error");
	const char *v;

	if (root == NULL) {
		free(e->message);
		e->message = proto_body_excerpt(data, len);
	} else {
		proto_error_from_json(e, err != NULL ? err : root);
	}
	if ((v = proto_json_string(root, "request_id")) != NULL)
		e->request_id = xstrdup(v);
	proto_stream_error(s, e);
}

/* Check a content_block_delta's delta object for the fast path: a text_delta with its
 * text or a thinking_delta with its thinking, and no other key. */
static int
anthropic_fast_delta(struct jscan *j, struct jscan_str *text, int *reasoning)
{
	struct jscan_str k, type;
	int first = 1, r, have_type = 0, have_text = 0, have_thinking = 0;

	if (!jscan_open(j, '{'))
		return 0;
	while ((r = jscan_next_key(j, &k, &first)) == 1) {
		if (jscan_str_is(&k, "type")) {
			if (have_type++ || jscan_peek(j) != JSCAN_STRING || !jscan_string(j, &type))
				return 0;
		} else if (jscan_str_is(&k, "text")) {
			if (have_text++ || jscan_peek(j) != JSCAN_STRING || !jscan_string(j, text))
				return 0;
		} else if (jscan_str_is(&k, "thinking")) {
			if (have_thinking++ || jscan_peek(j) != JSCAN_STRING ||
			    !jscan_string(j, text))
				return 0;
		} else {
			return 0;
		}
	}
	if (r != 0 || !have_type || have_text + have_thinking != 1)
		return 0;
	*reasoning = have_thinking;
	return have_text ? jscan_str_is(&type, "text_delta") :
	    jscan_str_is(&type, "thinking_delta");
}

/*
 * The fast path for the event that makes up almost all of a reply: a content_block_delta
 * carrying text or thinking, scanned in place with no allocation. The event name decides
 * as on the full path (data.type only when there is no name or it is "message"); anything
 * unusual returns 0 and the event goes through cJSON. Returns 1 when it handled the event.
 */
static int
anthropic_fast_event(struct stream *s, const char *event, const char *data, size_t len)
{
	struct jscan j;
	struct jscan_str k, type, text;
	int first = 1, r, have_type = 0, have_delta = 0, reasoning = 0;
	int by_name = event != NULL && strcmp(event, "message") != 0;

	if (by_name && strcmp(event, "content_block_delta") != 0)
		return 0;
	jscan_init(&j, data, len);
	if (!jscan_open(&j, '{'))
		return 0;
	while ((r = jscan_next_key(&j, &k, &first)) == 1) {
		if (jscan_str_is(&k, "type")) {
			if (have_type++ || jscan_peek(&j) != JSCAN_STRING ||
			    !jscan_string(&j, &type) || !jscan_str_is(&type, "content_block_delta"))
				return 0;
		} else if (jscan_str_is(&k, "delta")) {
			if (have_delta++ || jscan_peek(&j) != JSCAN_OBJECT ||
			    !anthropic_fast_delta(&j, &text, &reasoning))
				return 0;
		} else if (!jscan_str_is(&k, "index") || jscan_peek(&j) != JSCAN_NUMBER ||
		    !jscan_skip(&j)) {
			return 0;
		}
	}
	if (r != 0 || !jscan_at_end(&j) || !have_delta || (!by_name && !have_type) ||
	    !proto_fast_emit(s, &text, reasoning))
		return 0;
	proto_shape_keep(s, event, data, len, &text);
	s->shape_reasoning = reasoning;
	s->shape_has_usage = 0;
	return 1;
}

/* Map one event to deltas. */
static void
anthropic_on_event(struct stream *s, const char *event, const char *data, size_t len)
{
	cJSON *root;
	const char *type = event;
	const char *v;

	if (len == 0)
		return;
	if (!s->no_fast_path && (proto_shape_hit(s, event, data, len) ||
	    anthropic_fast_event(s, event, data, len))) {
		s->fast_events++;
		return;
	}
	root = proto_json_parse(data, len);
	if (type == NULL || strcmp(type, "message") == 0)
		type = proto_json_string(root, "type");
	if (!cJSON_IsObject(root) && (type == NULL || strcmp(type, "error") != 0)) {
		/* One bad event loses its own text only: the reply goes on, with a warning
		 * (an error event says what it can even when its data is not JSON). */
		stream_skip(s, root == NULL ? "not JSON" : "not a JSON object", data, len);
		cJSON_Delete(root);
		return;
	}
	if (type == NULL) {
		cJSON_Delete(root);
		return;
	}
	if (strcmp(type, "error") == 0) {
		anthropic_error(s, root, data, len);
	} else if (strcmp(type, "message_start") == 0) {
		const cJSON *msg = cJSON_GetObjectItemCaseSensitive(root, "message");

		anthropic_usage(s, cJSON_GetObjectItemCaseSensitive(msg, "usage"));
	} else if (strcmp(type, "content_block_start") == 0) {
		anthropic_block_begin(s, cJSON_GetObjectItemCaseSensitive(root, "content_block"));
		anthropic_block_text(s, cJSON_GetObjectItemCaseSensitive(root, "content_block"));
		anthropic_tool_block(s, root,
		    cJSON_GetObjectItemCaseSensitive(root, "content_block"), 0);
	} else if (strcmp(type, "content_block_delta") == 0) {
		anthropic_block_text(s, cJSON_GetObjectItemCaseSensitive(root, "delta"));
		anthropic_tool_delta(s, root, cJSON_GetObjectItemCaseSensitive(root, "delta"));
	} else if (strcmp(type, "content_block_stop") == 0) {
		/* A tool_use block's input is whole once its block stops. */
		stream_tool_calls(s);
	} else if (strcmp(type, "message_delta") == 0) {
		const cJSON *d = cJSON_GetObjectItemCaseSensitive(root, "delta");

		if ((v = proto_json_string(d, "stop_reason")) != NULL)
			stream_finish_reason(s, v);
		anthropic_usage(s, cJSON_GetObjectItemCaseSensitive(root, "usage"));
	} else if (strcmp(type, "message_stop") == 0) {
		s->terminated = 1;
	}
	/* ping and unknown events are ignored, as the docs ask. */
	cJSON_Delete(root);
}

/* Decode a whole Message (stream false): its text and thinking blocks in order, the stop
 * reason and usage; {"type":"error"} (or a bare error object) is an error. */
static void
anthropic_parse_reply(struct stream *s, const char *body, size_t len)
{
	cJSON *root = proto_json_parse_whole(body, len), *content, *block;
	const char *type, *v;

	if (!cJSON_IsObject(root)) {
		proto_reply_malformed(s, root == NULL ? "not JSON" : "not a JSON object", body,
		    len);
		cJSON_Delete(root);
		return;
	}
	type = proto_json_string(root, "type");
	content = cJSON_GetObjectItemCaseSensitive(root, "content");
	if ((type != NULL && strcmp(type, "error") == 0) ||
	    (type == NULL && cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(root, "error")))) {
		anthropic_error(s, root, body, len);
	} else if (!cJSON_IsArray(content) || (type != NULL && strcmp(type, "message") != 0)) {
		proto_reply_malformed(s, "not a Message", body, len);
	} else {
		/* Blocks are whole here: a block's text is what its deltas would add up to. */
		cJSON_ArrayForEach(block, content) {
			anthropic_block_begin(s, block);
			anthropic_block_text(s, block);
			anthropic_tool_block(s, NULL, block, 1);
		}
		if ((v = proto_json_string(root, "stop_reason")) != NULL)
			stream_finish_reason(s, v);
		anthropic_usage(s, cJSON_GetObjectItemCaseSensitive(root, "usage"));
		s->terminated = 1;
	}
	cJSON_Delete(root);
}

/* Build GET {base}/models, one page of up to 1000 models after the page's last id. */
static void
anthropic_build_models(const struct provider *p, const char *page, struct http_req *out)
{
	proto_models_get(p, "models?limit=1000", "after_id", page, out);
	anthropic_auth(p, out);
	proto_extra_headers(p, out);
}

/* Parse {"data":[{id,display_name,max_input_tokens?,max_tokens?}],"has_more","last_id"}. */
static int
anthropic_parse_models(const char *body, size_t len, struct model_list *out, char **next)
{
	cJSON *root = proto_json_parse(body, len), *data, *m;
	const char *last;

	*next = NULL;
	data = cJSON_GetObjectItemCaseSensitive(root, "data");
	if (!cJSON_IsArray(data)) {
		cJSON_Delete(root);
		return -1;
	}
	cJSON_ArrayForEach(m, data) {
		const char *id = proto_json_string(m, "id");
		long ctx = 0, maxo = 0;

		if (id == NULL || id[0] == '\0')
			continue;
		proto_json_long(m, "max_input_tokens", &ctx);
		proto_json_long(m, "max_tokens", &maxo);
		model_list_add(out, id, proto_json_string(m, "display_name"), ctx, maxo);
	}
	last = proto_json_string(root, "last_id");
	if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(root, "has_more")) && last != NULL &&
	    last[0] != '\0')
		*next = xstrdup(last);
	cJSON_Delete(root);
	return 0;
}

const struct proto proto_anthropic = {
	.name = "anthropic",
	.framing = FRAMING_SSE,
	.build_chat = anthropic_build_chat,
	.check_params = anthropic_check_params,
	.on_event = anthropic_on_event,
	.on_eof = proto_eof_terminated,
	.parse_reply = anthropic_parse_reply,
	.parse_error = proto_parse_error,
	.build_models = anthropic_build_models,
	.parse_models = anthropic_parse_models,
};
