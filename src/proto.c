/*
 * The adapter table and what the adapters share: name lookup, model lists, and the JSON and
 * error-body helpers. Error bodies get one tolerant parser for every protocol because
 * compatible servers mix shapes freely (Ollama's /v1 answers in OpenAI's shape, vLLM has its
 * own, Gemini wraps errors in an array on the non-SSE path, proxies answer in HTML).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cJSON.h>

#include "apierr.h"
#include "attach.h"
#include "buf.h"
#include "http.h"
#include "jscan.h"
#include "log.h"
#include "proto.h"
#include "provider.h"
#include "request.h"
#include "secret.h"
#include "stream.h"
#include "xmalloc.h"

/* Longest excerpt of a non-JSON error body shown to the user. */
#define PROTO_EXCERPT_MAX 300
/* Bytes of a malformed reply quoted in its error. */
#define PROTO_REPLY_EXCERPT 80

static const struct {
	const char *name;
	const struct proto *proto;
} proto_names[] = {
	{ "openai", &proto_openai },
	{ "openai-compatible", &proto_openai },
	{ "openai-sse", &proto_openai },
	{ "anthropic", &proto_anthropic },
	{ "anthropic-sse", &proto_anthropic },
	{ "gemini", &proto_gemini },
	{ "gemini-sse", &proto_gemini },
	{ "ollama", &proto_ollama },
	{ "ollama-ndjson", &proto_ollama },
	{ "simulated", &proto_simulated },
};

/* The adapter for a protocol name (or a stream-vectors.json protocol name), or NULL. */
const struct proto *
proto_find(const char *name)
{
	size_t i;

	if (name == NULL)
		return NULL;
	for (i = 0; i < sizeof proto_names / sizeof proto_names[0]; i++)
		if (strcmp(name, proto_names[i].name) == 0)
			return proto_names[i].proto;
	return NULL;
}

/* Release every model in l and leave it empty. */
void
model_list_free(struct model_list *l)
{
	size_t i;

	for (i = 0; i < l->n; i++) {
		free(l->v[i].id);
		free(l->v[i].display_name);
	}
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

/* Append one model to l. */
void
model_list_add(struct model_list *l, const char *id, const char *display_name,
    long context_window, long max_output)
{
	struct model_info *m;

	l->v = xrealloc(l->v, (l->n + 1) * sizeof *l->v);
	m = &l->v[l->n++];
	m->id = xstrdup(id);
	m->display_name = display_name != NULL && display_name[0] != '\0' ?
	    xstrdup(display_name) : NULL;
	m->context_window = context_window > 0 ? context_window : 0;
	m->max_output = max_output > 0 ? max_output : 0;
}

/* Read four hex digits at p (before end) into *cp; 0 when they are not there. */
static int
proto_hex4(const char *p, const char *end, unsigned *cp)
{
	int i;

	if (end - p < 4)
		return 0;
	*cp = 0;
	for (i = 0; i < 4; i++) {
		char c = p[i];

		*cp <<= 4;
		if (c >= '0' && c <= '9')
			*cp |= (unsigned)(c - '0');
		else if (c >= 'a' && c <= 'f')
			*cp |= (unsigned)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			*cp |= (unsigned)(c - 'A' + 10);
		else
			return 0;
	}
	return 1;
}

/*
 * Copy data into out with what would cost text replaced by U+FFFD: an unpaired surrogate
 * escape (cJSON refuses the whole document), a \u0000 escape and a raw NUL byte (the
 * adapters read strings with strlen, so either would cut off the rest of its string).
 * Escapes are found by walking backslashes, each one with the byte it escapes, so an
 * escaped backslash followed by "u0000" is left alone. Returns 0, writing nothing, when
 * data needs no repair: the common case costs two memchr passes and no copy.
 */
static int
proto_json_repair(const char *data, size_t len, struct buf *out)
{
	const char *p = data, *from = data, *end = data + len;
	int fixed = 0;
	unsigned cp, lo;

	while (p < end) {
		const char *bs = memchr(p, '\\', (size_t)(end - p));
		const char *z = memchr(p, '\0', (size_t)((bs != NULL ? bs : end) - p));

		if (z != NULL) {
			buf_append(out, from, (size_t)(z - from));
			buf_append(out, "\xef\xbf\xbd", 3);
			from = p = z + 1;
			fixed = 1;
			continue;
		}
		if (bs == NULL || bs + 1 >= end)
			break;
		if (bs[1] != 'u' || !proto_hex4(bs + 2, end, &cp)) {
			p = bs + 2;
			continue;
		}
		p = bs + 6;
		if (cp >= 0xd800 && cp <= 0xdbff && end - bs >= 12 && bs[6] == '\\' &&
		    bs[7] == 'u' && proto_hex4(bs + 8, end, &lo) && lo >= 0xdc00 && lo <= 0xdfff) {
			p = bs + 12;
			continue;
		}
		if (cp != 0 && (cp < 0xd800 || cp > 0xdfff))
			continue;
		buf_append(out, from, (size_t)(bs - from));
		buf_puts(out, "\\ufffd");
		from = p;
		fixed = 1;
	}
	if (fixed)
		buf_append(out, from, (size_t)(end - from));
	return fixed;
}

/* Parse len bytes as JSON; trailing whitespace is allowed (Anthropic pads some events).
 * Unpaired surrogates, \u0000 and raw NUL bytes become U+FFFD rather than losing text. */
struct cJSON *
proto_json_parse(const char *data, size_t len)
{
	struct buf fixed = BUF_INIT;
	cJSON *root;

	if (data == NULL || len == 0)
		return NULL;
	if (!proto_json_repair(data, len, &fixed))
		return cJSON_ParseWithLength(data, len);
	root = cJSON_ParseWithLength(fixed.data, fixed.len);
	buf_free(&fixed);
	return root;
}

/* Parse one whole document: as proto_json_parse, but NULL when anything other than
 * whitespace follows the value. */
struct cJSON *
proto_json_parse_whole(const char *data, size_t len)
{
	struct buf fixed = BUF_INIT;
	const char *p = data, *end = NULL;
	size_t n = len, rest;
	cJSON *root;

	if (data == NULL || len == 0)
		return NULL;
	if (proto_json_repair(data, len, &fixed)) {
		p = fixed.data;
		n = fixed.len;
	}
	root = cJSON_ParseWithLengthOpts(p, n, &end, 0);
	if (root != NULL && end != NULL) {
		for (rest = (size_t)(end - p); rest < n; rest++)
			if (p[rest] != ' ' && p[rest] != '\t' && p[rest] != '\r' && p[rest] != '\n')
				break;
		if (rest < n) {
			cJSON_Delete(root);
			root = NULL;
		}
	}
	buf_free(&fixed);
	return root;
}

/* obj[key] when it is a string, else NULL. */
const char *
proto_json_string(const struct cJSON *obj, const char *key)
{
	const cJSON *v;

	if (!cJSON_IsObject(obj))
		return NULL;
	v = cJSON_GetObjectItemCaseSensitive(obj, key);
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* Store obj[key] in *out when it is a finite number; returns 1 when it was. */
int
proto_json_long(const struct cJSON *obj, const char *key, long *out)
{
	const cJSON *v;
	double d;

	if (!cJSON_IsObject(obj))
		return 0;
	v = cJSON_GetObjectItemCaseSensitive(obj, key);
	if (!cJSON_IsNumber(v))
		return 0;
	d = v->valuedouble;
	if (!isfinite(d) || d < -1e15 || d > 1e15)
		return 0;
	*out = (long)d;
	return 1;
}

/* Replace *dst with a copy of s. */
static void
proto_set_str(char **dst, const char *s)
{
	free(*dst);
	*dst = xstrdup(s);
}

/* Parse a protobuf duration such as "31s" or "1.5s" as seconds; -1 when it is not one. */
static double
proto_duration(const char *s)
{
	char *end;
	double v = strtod(s, &end);

	if (end == s || *end != 's' || end[1] != '\0' || !isfinite(v) || v < 0)
		return -1;
	return v;
}

/* Take the Gemini details list: ErrorInfo.reason and RetryInfo.retryDelay. */
static void
proto_error_details(struct apierr *e, const cJSON *details)
{
	const cJSON *d;

	if (cJSON_IsObject(details)) {
		/* Anthropic spend caps put the reason in details.error_code. */
		const char *code = proto_json_string(details, "error_code");

		if (code != NULL && e->reason == NULL)
			proto_set_str(&e->reason, code);
		return;
	}
	cJSON_ArrayForEach(d, details) {
		const char *type = proto_json_string(d, "@type");
		const char *v;

		if (type == NULL)
			continue;
		if (strstr(type, "ErrorInfo") != NULL &&
		    (v = proto_json_string(d, "reason")) != NULL && e->reason == NULL)
			proto_set_str(&e->reason, v);
		if (strstr(type, "RetryInfo") != NULL &&
		    (v = proto_json_string(d, "retryDelay")) != NULL) {
			double s = proto_duration(v);

			if (s >= 0)
				e->retry_after_s = s;
		}
	}
}

/* Fill e from an error object: message, type (or Gemini status), code, details. */
void
proto_error_from_json(struct apierr *e, const struct cJSON *err)
{
	const char *v;
	const cJSON *code;

	if (cJSON_IsString(err)) {
		proto_set_str(&e->message, err->valuestring);
		return;
	}
	if (!cJSON_IsObject(err))
		return;
	if ((v = proto_json_string(err, "message")) != NULL)
		proto_set_str(&e->message, v);
	if ((v = proto_json_string(err, "type")) != NULL && v[0] != '\0')
		proto_set_str(&e->type, v);
	else if ((v = proto_json_string(err, "status")) != NULL && v[0] != '\0')
		proto_set_str(&e->type, v);
	code = cJSON_GetObjectItemCaseSensitive(err, "code");
	if (cJSON_IsString(code) && code->valuestring[0] != '\0') {
		proto_set_str(&e->code, code->valuestring);
		e->code_is_number = 0;
	} else if (cJSON_IsNumber(code) && isfinite(code->valuedouble)) {
		free(e->code);
		e->code = xasprintf("%.15g", code->valuedouble);
		e->code_is_number = 1;
	}
	proto_error_details(e, cJSON_GetObjectItemCaseSensitive(err, "details"));
}

/* True for bytes that end a line. */
static int
proto_is_eol(char c)
{
	return c == '\n' || c == '\r';
}

/* The first non-blank line of body, trimmed, controls removed, capped without splitting
 * a UTF-8 sequence. Caller frees. */
char *
proto_body_excerpt(const char *body, size_t len)
{
	struct buf b = BUF_INIT;
	size_t i = 0, start, end;

	for (;;) {
		while (i < len && (proto_is_eol(body[i]) || body[i] == ' ' || body[i] == '\t'))
			i++;
		start = i;
		while (i < len && !proto_is_eol(body[i]))
			i++;
		end = i;
		while (end > start && (body[end - 1] == ' ' || body[end - 1] == '\t'))
			end--;
		if (end > start || i >= len)
			break;
	}
	for (i = start; i < end; i++) {
		unsigned char c = (unsigned char)body[i];

		if (c < 0x20 || c == 0x7f) {
			if (c == '\t' && b.len > 0 && b.data[b.len - 1] != ' ')
				buf_putc(&b, ' ');
			continue;
		}
		/* C1 controls arrive as C2 80..C2 9F in UTF-8. */
		if (c == 0xc2 && i + 1 < end && (unsigned char)body[i + 1] >= 0x80 &&
		    (unsigned char)body[i + 1] <= 0x9f) {
			i++;
			continue;
		}
		buf_putc(&b, (char)c);
	}
	/* Keys are masked before the cut, which could otherwise keep half of one. */
	b.len = secret_scrub(b.data, b.len);
	if (b.data != NULL)
		b.data[b.len] = '\0';
	if (b.len >= PROTO_EXCERPT_MAX) {
		/* Back off to the start of a UTF-8 sequence so the cut leaves valid text. */
		size_t n = PROTO_EXCERPT_MAX;

		while (n > 0 && ((unsigned char)b.data[n - 1] & 0xc0) == 0x80)
			n--;
		if (n > 0 && (unsigned char)b.data[n - 1] >= 0xc0)
			n--;
		else
			n = PROTO_EXCERPT_MAX;
		b.len = n;
		b.data[n] = '\0';
		buf_puts(&b, "...");
	}
	return buf_detach(&b);
}

/* Fill e from any known error body shape, else from the body's first line. */
void
proto_error_body(const char *body, size_t len, struct apierr *e)
{
	cJSON *root = proto_json_parse(body, len);
	const cJSON *obj = root, *err;
	const char *v;

	if (cJSON_IsArray(root) && cJSON_GetArraySize(root) >= 1)
		obj = cJSON_GetArrayItem(root, 0);
	if (cJSON_IsObject(obj)) {
		err = cJSON_GetObjectItemCaseSensitive(obj, "error");
		if (cJSON_IsObject(err) || cJSON_IsString(err))
			proto_error_from_json(e, err);
		else if (proto_json_string(obj, "message") != NULL)
			proto_error_from_json(e, obj);
		else if ((v = proto_json_string(obj, "detail")) != NULL)
			proto_set_str(&e->message, v); /* FastAPI-style servers */
		if ((v = proto_json_string(obj, "request_id")) != NULL && e->request_id == NULL)
			proto_set_str(&e->request_id, v);
	}
	cJSON_Delete(root);
	if (e->message == NULL || e->message[0] == '\0') {
		char *x = proto_body_excerpt(body, len);

		if (x[0] == '\0') {
			free(x);
			x = xstrdup(e->status > 0 ? "the response body was empty" :
			    "no error message from the provider");
		}
		free(e->message);
		e->message = x;
	}
}

/* Classify an error found inside a 200 stream and record it. */
void
proto_stream_error(struct stream *s, struct apierr *e)
{
	if (e->message == NULL || e->message[0] == '\0')
		proto_set_str(&e->message, e->type != NULL ? e->type : "the stream reported an error");
	apierr_classify(e);
	stream_error(s, e);
}

/* Report a 200 body that is not the protocol's reply, quoting its start; not retried, as
 * the same request would most likely get the same body again. */
void
proto_reply_malformed(struct stream *s, const char *why, const char *body, size_t len)
{
	char *x = proto_body_excerpt(body, len), *msg;
	size_t n = strlen(x);
	struct apierr *e;

	if (n == 0) {
		msg = xasprintf("the provider's reply is empty (%s)", why);
	} else if (n <= PROTO_REPLY_EXCERPT + 8) {
		msg = xasprintf("the provider's reply is %s: %s", why, x);
	} else {
		/* Cut at the start of a UTF-8 sequence so the excerpt stays valid text. */
		n = PROTO_REPLY_EXCERPT;
		while (n > 0 && ((unsigned char)x[n] & 0xc0) == 0x80)
			n--;
		msg = xasprintf("the provider's reply is %s: %.*s…", why, (int)n, x);
	}
	e = apierr_new(APIERR_STREAM, APIERR_OTHER, msg);
	e->retryable = 0;
	free(msg);
	free(x);
	stream_error(s, e);
}

/* Content-Type (for requests with a body) and Accept headers. */
void
proto_common_headers(struct http_req *out, const char *accept)
{
	if (strcmp(out->method, "GET") != 0)
		http_req_header(out, "Content-Type: application/json");
	if (accept != NULL)
		http_req_header(out, "Accept: %s", accept);
}

/* The provider's configured extra headers, last so that they can add to ours. */
void
proto_extra_headers(const struct provider *p, struct http_req *out)
{
	size_t i;

	if (p == NULL)
		return;
	for (i = 0; i < p->nheaders; i++)
		http_req_header(out, "%s", p->headers[i]);
}

/* Serialise root into out->body and free root. */
void
proto_set_body(struct http_req *out, struct cJSON *root)
{
	char *s = cJSON_PrintUnformatted(root);

	cJSON_Delete(root);
	if (s == NULL)
		log_fatal("out of memory serialising a request body");
	free(out->body);
	out->body = xstrdup(s);
	out->body_len = strlen(out->body);
	cJSON_free(s);
}

/* Percent-encode everything but RFC 3986 unreserved characters. Caller frees. */
char *
proto_url_escape(const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	struct buf b = BUF_INIT;

	buf_puts(&b, "");
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;

		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		    c == '-' || c == '_' || c == '.' || c == '~') {
			buf_putc(&b, (char)c);
		} else {
			buf_putc(&b, '%');
			buf_putc(&b, hex[c >> 4]);
			buf_putc(&b, hex[c & 15]);
		}
	}
	return buf_detach(&b);
}

/* Complete only when the protocol's terminator arrived and no error came with it. */
void
proto_eof_terminated(struct stream *s)
{
	s->complete = s->terminated && s->error == NULL;
}

/* Fill e from any known error-body shape; the headers were already read by the stream. */
void
proto_parse_error(const char *body, size_t len, const struct http_headers *h, struct apierr *e)
{
	(void)h;
	proto_error_body(body, len, e);
}

static void proto_json_calls(cJSON *m, const struct message *msg, int ollama);

/* A user message with files, in OpenAI's shape (content parts: its text, then an
 * image_url data URL per image, input_audio per sound) or Ollama's (the text as content,
 * the images' base64 in "images"). */
static void
proto_json_attached(cJSON *m, const struct message *msg, int ollama, struct proto_marks *pm)
{
	struct buf text = BUF_INIT;
	cJSON *parts, *p, *o;
	size_t k;

	proto_attach_text(msg, &text);
	if (ollama || proto_attach_native(msg) == 0) {
		cJSON_AddStringToObject(m, "content", buf_str(&text));
		buf_free(&text);
		if (!ollama || proto_attach_native(msg) == 0)
			return;
		parts = cJSON_AddArrayToObject(m, "images");
		for (k = 0; k < msg->natts; k++)
			if (proto_attach_is_native(&msg->atts[k]))
				cJSON_AddItemToArray(parts, proto_mark(pm, msg->atts[k].a, 0));
		return;
	}
	parts = cJSON_AddArrayToObject(m, "content");
	if (text.len > 0) {
		p = cJSON_CreateObject();
		cJSON_AddStringToObject(p, "type", "text");
		cJSON_AddStringToObject(p, "text", text.data);
		cJSON_AddItemToArray(parts, p);
	}
	buf_free(&text);
	for (k = 0; k < msg->natts; k++) {
		const struct attach *a = msg->atts[k].a;

		if (!proto_attach_is_native(&msg->atts[k]))
			continue;
		p = cJSON_CreateObject();
		if (a->kind == ATTACH_AUDIO) {
			cJSON_AddStringToObject(p, "type", "input_audio");
			o = cJSON_AddObjectToObject(p, "input_audio");
			cJSON_AddItemToObject(o, "data", proto_mark(pm, a, 0));
			cJSON_AddStringToObject(o, "format", strcmp(a->mime, "audio/mpeg") == 0 ?
			    "mp3" : "wav");
		} else {
			cJSON_AddStringToObject(p, "type", "image_url");
			o = cJSON_AddObjectToObject(p, "image_url");
			cJSON_AddItemToObject(o, "url", proto_mark(pm, a, 1));
		}
		cJSON_AddItemToArray(parts, p);
	}
}

/* Add the messages array shared by OpenAI-compatible servers and Ollama. */
void
proto_json_messages(struct cJSON *root, const struct request *req, int ollama,
    struct proto_marks *pm)
{
	cJSON *msgs = cJSON_AddArrayToObject(root, "messages"), *m;
	size_t i;

	if (req->system != NULL) {
		m = cJSON_CreateObject();
		cJSON_AddStringToObject(m, "role", "system");
		cJSON_AddStringToObject(m, "content", req->system);
		cJSON_AddItemToArray(msgs, m);
	}
	for (i = 0; i < req->nmsgs; i++) {
		const struct message *msg = &req->msgs[i];

		m = cJSON_CreateObject();
		cJSON_AddStringToObject(m, "role", request_role_name(msg->role));
		/* OpenAI wants null content beside tool calls when there is no text. */
		if (msg->natts > 0)
			proto_json_attached(m, msg, ollama, pm);
		else if (msg->ncalls > 0 && msg->content[0] == '\0' && !ollama)
			cJSON_AddNullToObject(m, "content");
		else
			cJSON_AddStringToObject(m, "content", msg->content);
		if (msg->ncalls > 0)
			proto_json_calls(m, msg, ollama);
		if (msg->role == ROLE_TOOL && ollama)
			cJSON_AddStringToObject(m, "tool_name", msg->tool_name);
		else if (msg->role == ROLE_TOOL)
			cJSON_AddStringToObject(m, "tool_call_id", msg->tool_id);
		cJSON_AddItemToArray(msgs, m);
	}
	proto_json_tools(root, req);
}

/* A tool call's arguments as a JSON object: parsed, or {} when the model sent something
 * else (the call's result says so). */
cJSON *
proto_call_args(const struct msg_call *c)
{
	cJSON *a = cJSON_Parse(c->args != NULL ? c->args : "{}");

	if (!cJSON_IsObject(a)) {
		cJSON_Delete(a);
		a = cJSON_CreateObject();
	}
	return a;
}

/* An assistant message's tool_calls: OpenAI's (arguments as JSON text, with ids) or
 * Ollama's (arguments as an object). */
static void
proto_json_calls(cJSON *m, const struct message *msg, int ollama)
{
	cJSON *calls = cJSON_AddArrayToObject(m, "tool_calls"), *c, *fn;
	size_t k;

	for (k = 0; k < msg->ncalls; k++) {
		c = cJSON_CreateObject();
		if (!ollama) {
			cJSON_AddStringToObject(c, "id", msg->calls[k].id);
			cJSON_AddStringToObject(c, "type", "function");
		}
		fn = cJSON_AddObjectToObject(c, "function");
		cJSON_AddStringToObject(fn, "name", msg->calls[k].name);
		if (ollama)
			cJSON_AddItemToObject(fn, "arguments", proto_call_args(&msg->calls[k]));
		else
			cJSON_AddStringToObject(fn, "arguments", msg->calls[k].args);
		cJSON_AddItemToArray(calls, c);
	}
}

/* The request's tools as OpenAI (and Ollama) declare them. */
void
proto_json_tools(cJSON *root, const struct request *req)
{
	cJSON *tools, *t, *fn;
	size_t i;

	if (req->ntools == 0)
		return;
	tools = cJSON_AddArrayToObject(root, "tools");
	for (i = 0; i < req->ntools; i++) {
		t = cJSON_CreateObject();
		cJSON_AddStringToObject(t, "type", "function");
		fn = proto_tool_decl(&req->tools[i], "parameters");
		cJSON_AddItemToObject(t, "function", fn);
		cJSON_AddItemToArray(tools, t);
	}
}

/* One tool as {name, description, <schema_key>: its schema}, the core of every
 * protocol's declaration. */
cJSON *
proto_tool_decl(const struct request_tool *t, const char *schema_key)
{
	cJSON *d = cJSON_CreateObject();

	cJSON_AddStringToObject(d, "name", t->name);
	if (t->description[0] != '\0')
		cJSON_AddStringToObject(d, "description", t->description);
	cJSON_AddItemToObject(d, schema_key, proto_tool_schema(t));
	return d;
}

/* A tool's parameter schema as a JSON object ({"type":"object"} when it is not one). */
cJSON *
proto_tool_schema(const struct request_tool *t)
{
	cJSON *s = cJSON_Parse(t->schema);

	if (!cJSON_IsObject(s)) {
		cJSON_Delete(s);
		s = cJSON_CreateObject();
		cJSON_AddStringToObject(s, "type", "object");
	}
	return s;
}

/* Start a model-list GET for one page; the caller adds its auth and extra headers. */
void
proto_models_get(const struct provider *p, const char *query, const char *page_param,
    const char *page, struct http_req *out)
{
	char *path, *url, *esc = NULL;

	if (page != NULL) {
		esc = proto_url_escape(page);
		path = xasprintf("%s&%s=%s", query, page_param, esc);
	} else {
		path = xstrdup(query);
	}
	url = http_join(p->base_url, path);
	http_req_init(out, "GET", url);
	free(url);
	free(path);
	free(esc);
	proto_common_headers(out, "application/json");
}

/* True when s equals one of the NULL-terminated words. */
static int
proto_word_in(const char *s, const char *const *words)
{
	for (; *words != NULL; words++)
		if (strcmp(s, *words) == 0)
			return 1;
	return 0;
}

/* A reader's explanation of a finish reason that is not an ordinary end. */
const char *
proto_finish_note(const char *reason)
{
	static const char *const length[] = { "length", "max_tokens", "MAX_TOKENS", NULL };
	static const char *const window[] = { "model_context_window_exceeded", NULL };
	static const char *const filter[] = { "content_filter", "refusal", "SAFETY",
		"RECITATION", "BLOCKLIST", "PROHIBITED_CONTENT", "SPII", "IMAGE_SAFETY", NULL };
	static const char *const tools[] = { "tool_calls", "tool_use", "function_call",
		"MALFORMED_FUNCTION_CALL", "UNEXPECTED_TOOL_CALL", "TOO_MANY_TOOL_CALLS", NULL };

	if (reason == NULL || *reason == '\0')
		return NULL;
	if (proto_word_in(reason, length))
		return "stopped at the output token limit (max_tokens)";
	if (proto_word_in(reason, window))
		return "stopped: the model's context window is full";
	if (proto_word_in(reason, filter))
		return "stopped by the provider's content filter";
	if (proto_word_in(reason, tools))
		return "stopped to call a tool, which natter does not run";
	return NULL;
}

/* Report a fast-path string token as text or reasoning; 0 when it cannot be decoded. */
int
proto_fast_emit(struct stream *s, const struct jscan_str *t, int reasoning)
{
	const char *p = t->raw;
	size_t n = t->len;

	if (n == 0)
		return 1;
	if (t->escaped) {
		buf_reset(&s->scratch);
		if (!jscan_unescape(t, &s->scratch))
			return 0;
		p = s->scratch.data;
		n = s->scratch.len;
	}
	if (reasoning)
		stream_reasoning(s, p, n);
	else
		stream_text(s, p, n);
	return 1;
}

/* Record a checked event for the shape cache (see proto.h). */
void
proto_shape_keep(struct stream *s, const char *event, const char *data, size_t len,
    const struct jscan_str *t)
{
	size_t head = (size_t)(t->raw - data), after = head + t->len + 1;

	if (event != NULL && strlen(event) >= sizeof(s->shape_event)) {
		s->shape_head = 0;
		return;
	}
	snprintf(s->shape_event, sizeof(s->shape_event), "%s", event != NULL ? event : "");
	buf_reset(&s->shape);
	buf_append(&s->shape, data, head);
	buf_append(&s->shape, data + after, len - after);
	s->shape_head = head;
}

/* Match an event against the shape cache and give its string; 0 when it does not match. */
int
proto_shape_match(struct stream *s, const char *event, const char *data, size_t len,
    struct jscan_str *t)
{
	size_t head = s->shape_head, tail = s->shape.len - head;
	struct jscan j;

	if (head == 0 || len < head + 1 + tail || memcmp(data, s->shape.data, head) != 0 ||
	    strcmp(event != NULL ? event : "", s->shape_event) != 0)
		return 0;
	/* Scan the string from its opening quote: it must close exactly where the tail
	 * starts, and the tail must be the recorded one. */
	jscan_init(&j, data + head - 1, len - head + 1);
	if (!jscan_string(&j, t) || (size_t)(j.end - j.p) != tail ||
	    memcmp(j.p, s->shape.data + head, tail) != 0)
		return 0;
	return 1;
}

/* Decode a matching event as the fast path that recorded the shape would. */
int
proto_shape_hit(struct stream *s, const char *event, const char *data, size_t len)
{
	struct jscan_str t;

	if (!proto_shape_match(s, event, data, len, &t) ||
	    !proto_fast_emit(s, &t, s->shape_reasoning))
		return 0;
	if (s->shape_has_usage)
		stream_usage(s, &s->shape_usage);
	s->shape_hits++;
	return 1;
}

/* Read a plain count (digits only, no sign, fraction or exponent); 0 on anything else. */
int
proto_fast_count(struct jscan *j, long *out)
{
	const char *p;
	long v = 0;
	size_t n;

	if (jscan_peek(j) != JSCAN_NUMBER)
		return 0;
	p = j->p;
	if (!jscan_skip(j))
		return 0;
	n = (size_t)(j->p - p);
	if (n == 0 || n > 15 || (p[0] == '0' && n > 1))
		return 0;
	for (; p < j->p; p++) {
		if (*p < '0' || *p > '9')
			return 0;
		v = v * 10 + (*p - '0');
	}
	*out = v;
	return 1;
}
