/*
 * Ollama's native /api/chat (protocols.md §A.4): one JSON object per line, sampling knobs
 * inside "options", thinking switched on with "think", and the last line carrying done,
 * done_reason and the token counts. No key locally; ollama.com takes a Bearer token.
 * Content and thinking lines, nearly every line of a reply, are scanned in place
 * (src/jscan.h) without cJSON.
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

/* Add Bearer auth when a key is configured (ollama.com); local servers need none. */
static void
ollama_auth(const struct provider *p, struct http_req *out)
{
	if (p != NULL && p->key != NULL && p->key[0] != '\0')
		http_req_header(out, "Authorization: Bearer %s", p->key);
}

/* The options object, or NULL when no parameter is set. */
static cJSON *
ollama_options(const struct params *pp)
{
	cJSON *o = cJSON_CreateObject();

	if (pp->set & PARAM_TEMPERATURE)
		cJSON_AddNumberToObject(o, "temperature", pp->temperature);
	if (pp->set & PARAM_TOP_P)
		cJSON_AddNumberToObject(o, "top_p", pp->top_p);
	if (pp->set & PARAM_TOP_K)
		cJSON_AddNumberToObject(o, "top_k", (double)pp->top_k);
	if (pp->set & PARAM_MAX_TOKENS)
		cJSON_AddNumberToObject(o, "num_predict", (double)pp->max_tokens);
	if ((pp->set & PARAM_STOP) && pp->nstop > 0) {
		cJSON *stop = cJSON_AddArrayToObject(o, "stop");
		int i;

		for (i = 0; i < pp->nstop && i < PARAM_MAX_STOP; i++)
			cJSON_AddItemToArray(stop, cJSON_CreateString(pp->stop[i]));
	}
	if (pp->set & PARAM_SEED)
		cJSON_AddNumberToObject(o, "seed", (double)pp->seed);
	if (pp->set & PARAM_FREQUENCY_PENALTY)
		cJSON_AddNumberToObject(o, "frequency_penalty", pp->frequency_penalty);
	if (pp->set & PARAM_PRESENCE_PENALTY)
		cJSON_AddNumberToObject(o, "presence_penalty", pp->presence_penalty);
	if (pp->set & PARAM_REPETITION_PENALTY)
		cJSON_AddNumberToObject(o, "repeat_penalty", pp->repetition_penalty);
	if (o->child == NULL) {
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}

/* Build POST {base}/api/chat; no_stream asks for one object instead of lines. */
static void
ollama_build_chat(const struct request *req, struct http_req *out)
{
	const struct provider *p = req->provider;
	const struct params *pp = &req->params;
	char *url = http_join(p != NULL ? p->base_url : "", "api/chat");
	cJSON *root = cJSON_CreateObject(), *opt;
	struct proto_marks pm;

	proto_marks_init(&pm);
	http_req_init(out, "POST", url);
	free(url);
	proto_common_headers(out, req->no_stream ? "application/json" : "application/x-ndjson");
	ollama_auth(p, out);
	proto_extra_headers(p, out);

	cJSON_AddStringToObject(root, "model", req->model);
	proto_json_messages(root, req, 1, &pm);
	cJSON_AddBoolToObject(root, "stream", !req->no_stream);
	/* think takes a level ("low", "medium", "high") or a plain switch. */
	if ((pp->set & PARAM_REASONING_EFFORT) && pp->reasoning_effort != NULL) {
		if (strcmp(pp->reasoning_effort, "none") == 0)
			cJSON_AddFalseToObject(root, "think");
		else
			cJSON_AddStringToObject(root, "think", pp->reasoning_effort);
	} else if (pp->set & PARAM_REASONING_BUDGET) {
		cJSON_AddBoolToObject(root, "think", pp->reasoning_budget != 0);
	}
	if ((opt = ollama_options(pp)) != NULL)
		cJSON_AddItemToObject(root, "options", opt);
	proto_set_body_marked(out, root, &pm);
}

/* When root carries an error ({"error": "..."}), report it and return 1. */
static int
ollama_error(struct stream *s, const cJSON *root)
{
	const cJSON *err = cJSON_GetObjectItemCaseSensitive(root, "error");
	struct apierr *e;

	if (!(cJSON_IsString(err) && err->valuestring[0] != '\0') && !cJSON_IsObject(err))
		return 0;
	e = apierr_new(APIERR_STREAM, APIERR_OTHER, NULL);
	proto_error_from_json(e, err);
	proto_stream_error(s, e);
	return 1;
}

/* message.tool_calls: whole calls, their arguments an object (or, from some builds, the
 * JSON text of one). */
static void
ollama_tool_calls(struct stream *s, const cJSON *msg)
{
	const cJSON *it, *fn, *args;
	struct toolcall *c;
	char *text;

	cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(msg, "tool_calls")) {
		fn = cJSON_GetObjectItemCaseSensitive(it, "function");
		if (proto_json_string(fn, "name") == NULL)
			continue;
		c = toolacc_add(&s->tools, -1, proto_json_string(it, "id"),
		    proto_json_string(fn, "name"));
		args = cJSON_GetObjectItemCaseSensitive(fn, "arguments");
		if (cJSON_IsString(args)) {
			toolacc_args(c, args->valuestring, strlen(args->valuestring));
		} else if (cJSON_IsObject(args) && (text = cJSON_PrintUnformatted(args)) != NULL) {
			toolacc_args(c, text, strlen(text));
			cJSON_free(text);
		}
	}
	stream_tool_calls(s);
}

/* Map one chat object to deltas: a line of the stream, or the whole reply. */
static void
ollama_object(struct stream *s, const cJSON *root)
{
	const cJSON *msg;
	const char *v;
	struct usage us = USAGE_NONE;

	msg = cJSON_GetObjectItemCaseSensitive(root, "message");
	if ((v = proto_json_string(msg, "thinking")) != NULL)
		stream_reasoning(s, v, strlen(v));
	if ((v = proto_json_string(msg, "content")) != NULL)
		stream_text(s, v, strlen(v));
	ollama_tool_calls(s, msg);
	if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(root, "done"))) {
		s->terminated = 1;
		if ((v = proto_json_string(root, "done_reason")) != NULL && v[0] != '\0')
			stream_finish_reason(s, v);
	}
	proto_json_long(root, "prompt_eval_count", &us.input_tokens);
	proto_json_long(root, "eval_count", &us.output_tokens);
	stream_usage(s, &us);
}

/* Check a line's message object for the fast path: content and thinking strings, at most
 * one of each, besides the role and keys the full path ignores. */
static int
ollama_fast_message(struct jscan *j, struct jscan_str *content, int *have_content,
    struct jscan_str *thinking, int *have_thinking)
{
	struct jscan_str k;
	int first = 1, r;

	if (!jscan_open(j, '{'))
		return 0;
	while ((r = jscan_next_key(j, &k, &first)) == 1) {
		if (jscan_str_is(&k, "content")) {
			if ((*have_content)++ || jscan_peek(j) != JSCAN_STRING ||
			    !jscan_string(j, content))
				return 0;
		} else if (jscan_str_is(&k, "thinking")) {
			if ((*have_thinking)++ || jscan_peek(j) != JSCAN_STRING ||
			    !jscan_string(j, thinking))
				return 0;
		} else if (!jscan_str_is(&k, "role") || !jscan_skip(j)) {
			return 0;
		}
	}
	return r == 0;
}

/*
 * The fast path for the line that makes up almost all of a reply: a message with content
 * or thinking and "done": false, scanned in place with no allocation. Anything else (the
 * last line with its counts, errors, odd keys or syntax, escapes the scanner leaves alone)
 * returns 0 and the line goes through cJSON. Returns 1 when it handled the line.
 */
static int
ollama_fast_line(struct stream *s, const char *data, size_t len)
{
	struct jscan j;
	struct jscan_str k, content, thinking;
	int first = 1, r, have_message = 0, have_done = 0, have_content = 0, have_thinking = 0;

	jscan_init(&j, data, len);
	if (!jscan_open(&j, '{'))
		return 0;
	while ((r = jscan_next_key(&j, &k, &first)) == 1) {
		if (jscan_str_is(&k, "message")) {
			if (have_message++ || jscan_peek(&j) != JSCAN_OBJECT ||
			    !ollama_fast_message(&j, &content, &have_content, &thinking,
			    &have_thinking))
				return 0;
		} else if (jscan_str_is(&k, "done")) {
			if (have_done++ || jscan_peek(&j) != JSCAN_FALSE || !jscan_skip(&j))
				return 0;
		} else if ((!jscan_str_is(&k, "model") && !jscan_str_is(&k, "created_at")) ||
		    !jscan_skip(&j)) {
			return 0;
		}
	}
	if (r != 0 || !jscan_at_end(&j) || !have_message)
		return 0;
	/* Only the first string emitted may fail to decode, so a fallback repeats nothing. */
	if (have_content && content.escaped && have_thinking && thinking.len > 0)
		return 0;
	if (have_thinking && !proto_fast_emit(s, &thinking, 1))
		return 0;
	if (have_content && !proto_fast_emit(s, &content, 0))
		return 0;
	/* A line with one string is a shape the cache can take (see proto.h). */
	if (have_content != have_thinking) {
		proto_shape_keep(s, NULL, data, len, have_content ? &content : &thinking);
		s->shape_reasoning = have_thinking;
		s->shape_has_usage = 0;
	}
	return 1;
}

/* Map one NDJSON line to deltas. */
static void
ollama_on_event(struct stream *s, const char *event, const char *data, size_t len)
{
	cJSON *root;

	(void)event;
	if (len == 0)
		return;
	if (!s->no_fast_path && (proto_shape_hit(s, NULL, data, len) ||
	    ollama_fast_line(s, data, len))) {
		s->fast_events++;
		return;
	}
	root = proto_json_parse(data, len);
	if (!cJSON_IsObject(root)) {
		/* One bad line loses its own text only: the reply goes on, with a warning. */
		stream_skip(s, root == NULL ? "not JSON" : "not a JSON object", data, len);
		cJSON_Delete(root);
		return;
	}
	if (!ollama_error(s, root))
		ollama_object(s, root);
	cJSON_Delete(root);
}

/* Decode the whole reply of "stream": false: the object a stream's lines add up to, with
 * done, done_reason and the counts; {"error": ...} is an error. */
static void
ollama_parse_reply(struct stream *s, const char *body, size_t len)
{
	cJSON *root = proto_json_parse_whole(body, len);

	if (!cJSON_IsObject(root)) {
		proto_reply_malformed(s, root == NULL ? "not JSON" : "not a JSON object", body,
		    len);
	} else if (!ollama_error(s, root)) {
		if (cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(root, "message")) ||
		    cJSON_GetObjectItemCaseSensitive(root, "done") != NULL)
			ollama_object(s, root);
		else
			proto_reply_malformed(s, "not a chat reply", body, len);
	}
	cJSON_Delete(root);
}

/* Build GET {base}/api/tags; it is not paginated. */
static void
ollama_build_models(const struct provider *p, const char *page, struct http_req *out)
{
	char *url = http_join(p->base_url, "api/tags");

	(void)page;
	http_req_init(out, "GET", url);
	free(url);
	proto_common_headers(out, "application/json");
	ollama_auth(p, out);
	proto_extra_headers(p, out);
}

/* Parse {"models":[{name, model, details{…}}]}. */
static int
ollama_parse_models(const char *body, size_t len, struct model_list *out, char **next)
{
	cJSON *root = proto_json_parse(body, len), *models, *m;

	*next = NULL;
	models = cJSON_GetObjectItemCaseSensitive(root, "models");
	if (!cJSON_IsArray(models)) {
		cJSON_Delete(root);
		return -1;
	}
	cJSON_ArrayForEach(m, models) {
		const char *id = proto_json_string(m, "name");

		if (id == NULL || id[0] == '\0')
			id = proto_json_string(m, "model");
		if (id == NULL || id[0] == '\0')
			continue;
		model_list_add(out, id, NULL, 0, 0);
	}
	cJSON_Delete(root);
	return 0;
}

const struct proto proto_ollama = {
	.name = "ollama",
	.framing = FRAMING_NDJSON,
	.build_chat = ollama_build_chat,
	.on_event = ollama_on_event,
	.on_eof = proto_eof_terminated,
	.parse_reply = ollama_parse_reply,
	.parse_error = proto_parse_error,
	.build_models = ollama_build_models,
	.parse_models = ollama_parse_models,
};
