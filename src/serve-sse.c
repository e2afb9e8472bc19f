/*
 * natter serve's encoders (serve-sse.h): OpenAI's chat.completion chunk, object and error
 * shapes, and the conversation API's events, written straight into a buffer. A stream of
 * 20,000 deltas writes 20,000 chunks, so nothing here builds a cJSON tree: the shapes are
 * fixed and only the strings vary, which serve_json_text encodes in one pass.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "serve-api.h"
#include "serve-sse.h"
#include "text.h"
#include "xmalloc.h"

/* Bytes a UTF-8 lead byte announces (0: not a lead byte). */
static size_t
serve_utf8_need(unsigned char c)
{
	if (c >= 0xc2 && c <= 0xdf)
		return 2;
	if (c >= 0xe0 && c <= 0xef)
		return 3;
	if (c >= 0xf0 && c <= 0xf4)
		return 4;
	return 0;
}

/* True when the n bytes at p (fewer than the lead announces) could still become one
 * valid character. */
static int
serve_utf8_partial(const unsigned char *p, size_t n)
{
	size_t need = serve_utf8_need(p[0]), i;

	if (need == 0 || n >= need)
		return 0;
	for (i = 1; i < n; i++)
		if ((p[i] & 0xc0) != 0x80)
			return 0;
	return 1;
}

/* The body of a JSON string (no quotes) for n bytes at s. */
static void
serve_json_body(struct buf *b, struct serve_utf8 *u, const unsigned char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	size_t i = 0, run = 0, k;
	unsigned cp;

	buf_reserve(b, n + 16);
	while (i < n) {
		unsigned char c = s[i];

		if (c >= 0x20 && c != '"' && c != '\\' && c < 0x7f) {
			i++;
			run++;
			continue;
		}
		buf_append(b, s + i - run, run);
		run = 0;
		if (c >= 0x80) {
			k = text_utf8_step(s + i, n - i, &cp);
			if (cp != TEXT_BAD) {
				buf_append(b, s + i, k);
			} else if (u != NULL && i + k == n && serve_utf8_partial(s + i, n - i)) {
				memcpy(u->hold, s + i, n - i);
				u->n = n - i;
			} else {
				buf_append(b, "\\ufffd", 6);
			}
			i += k;
			continue;
		}
		switch (c) {
		case '"': buf_append(b, "\\\"", 2); break;
		case '\\': buf_append(b, "\\\\", 2); break;
		case '\n': buf_append(b, "\\n", 2); break;
		case '\r': buf_append(b, "\\r", 2); break;
		case '\t': buf_append(b, "\\t", 2); break;
		default: {
			char e[6] = { '\\', 'u', '0', '0', hex[c >> 4], hex[c & 15] };

			buf_append(b, e, 6);
		}
		}
		i++;
	}
	buf_append(b, s + i - run, run);
}

/* Append p as a JSON string, holding a cut character in u. */
void
serve_json_text(struct buf *b, struct serve_utf8 *u, const char *p, size_t n)
{
	unsigned char tmp[8];
	size_t take = 0, have;

	buf_putc(b, '"');
	if (u != NULL && u->n > 0) {
		/* Finish the character the last delta cut, then go on with the rest. */
		have = u->n;
		memcpy(tmp, u->hold, have);
		u->n = 0;
		while (take < n && have < serve_utf8_need(tmp[0]) &&
		    ((unsigned char)p[take] & 0xc0) == 0x80)
			tmp[have++] = (unsigned char)p[take++];
		serve_json_body(b, take == n ? u : NULL, tmp, have);
	}
	serve_json_body(b, u, (const unsigned char *)p + take, n - take);
	buf_putc(b, '"');
}

/* Append s as a JSON string, or null. */
void
serve_json_str(struct buf *b, const char *s)
{
	if (s == NULL)
		buf_puts(b, "null");
	else
		serve_json_text(b, NULL, s, strlen(s));
}

/* Provider-native finish reasons and OpenAI's word for them. */
const char *
serve_finish_reason(const char *native)
{
	static const struct {
		const char *native, *openai;
	} map[] = {
		{ "stop", "stop" }, { "end_turn", "stop" }, { "stop_sequence", "stop" },
		{ "STOP", "stop" }, { "FINISH_REASON_STOP", "stop" }, { "pause_turn", "stop" },
		{ "length", "length" }, { "max_tokens", "length" }, { "MAX_TOKENS", "length" },
		{ "model_context_window_exceeded", "length" },
		{ "content_filter", "content_filter" }, { "refusal", "content_filter" },
		{ "SAFETY", "content_filter" }, { "RECITATION", "content_filter" },
		{ "BLOCKLIST", "content_filter" }, { "PROHIBITED_CONTENT", "content_filter" },
		{ "SPII", "content_filter" }, { "IMAGE_SAFETY", "content_filter" },
		{ "tool_calls", "tool_calls" }, { "tool_use", "tool_calls" },
		{ "function_call", "tool_calls" },
	};
	size_t i;

	if (native == NULL || *native == '\0')
		return "stop";
	for (i = 0; i < sizeof map / sizeof map[0]; i++)
		if (strcmp(native, map[i].native) == 0)
			return map[i].openai;
	return "stop";
}

/* The fields every chunk starts with. */
static void
serve_oai_head(struct buf *b, const struct serve_oai *o)
{
	buf_puts(b, "data: {\"id\":");
	serve_json_str(b, o->id);
	buf_printf(b, ",\"object\":\"chat.completion.chunk\",\"created\":%lld,\"model\":",
	    o->created);
	serve_json_str(b, o->model);
}

/* One delta chunk. */
void
serve_oai_delta(struct buf *b, const struct serve_oai *o, int role, int reasoning,
    struct serve_utf8 *u, const char *p, size_t n)
{
	serve_oai_head(b, o);
	buf_puts(b, ",\"choices\":[{\"index\":0,\"delta\":{");
	if (role)
		buf_puts(b, "\"role\":\"assistant\",");
	buf_puts(b, reasoning ? "\"reasoning_content\":" : "\"content\":");
	serve_json_text(b, u, p, n);
	buf_puts(b, "},\"logprobs\":null,\"finish_reason\":null}]}\n\n");
}

/* The finish chunk. */
void
serve_oai_finish(struct buf *b, const struct serve_oai *o, const char *finish)
{
	serve_oai_head(b, o);
	buf_puts(b, ",\"choices\":[{\"index\":0,\"delta\":{},\"logprobs\":null,\"finish_reason\":");
	serve_json_str(b, finish);
	buf_puts(b, "}]}\n\n");
}

/* OpenAI's usage object; unknown counts are 0. */
static void
serve_oai_usage_obj(struct buf *b, const struct usage *u)
{
	long in = u != NULL && u->input_tokens > 0 ? u->input_tokens : 0;
	long out = u != NULL && u->output_tokens > 0 ? u->output_tokens : 0;
	long rs = u != NULL && u->reasoning_tokens > 0 ? u->reasoning_tokens : 0;

	buf_printf(b, "{\"prompt_tokens\":%ld,\"completion_tokens\":%ld,\"total_tokens\":%ld,"
	    "\"completion_tokens_details\":{\"reasoning_tokens\":%ld}}", in, out, in + out, rs);
}

/* The usage chunk. */
void
serve_oai_usage(struct buf *b, const struct serve_oai *o, const struct usage *u)
{
	serve_oai_head(b, o);
	buf_puts(b, ",\"choices\":[],\"usage\":");
	serve_oai_usage_obj(b, u);
	buf_puts(b, "}\n\n");
}

/* The stream's end. */
void
serve_oai_done(struct buf *b)
{
	buf_puts(b, "data: [DONE]\n\n");
}

/* A whole chat.completion. */
void
serve_oai_completion(struct buf *b, const struct serve_oai *o, const char *text, size_t n,
    const char *reasoning, size_t rn, const char *finish, const struct usage *u)
{
	buf_puts(b, "{\"id\":");
	serve_json_str(b, o->id);
	buf_printf(b, ",\"object\":\"chat.completion\",\"created\":%lld,\"model\":", o->created);
	serve_json_str(b, o->model);
	buf_puts(b, ",\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":");
	serve_json_text(b, NULL, text != NULL ? text : "", text != NULL ? n : 0);
	if (reasoning != NULL && rn > 0) {
		buf_puts(b, ",\"reasoning_content\":");
		serve_json_text(b, NULL, reasoning, rn);
	}
	buf_puts(b, ",\"refusal\":null},\"logprobs\":null,\"finish_reason\":");
	serve_json_str(b, finish);
	buf_puts(b, "}],\"usage\":");
	serve_oai_usage_obj(b, u);
	buf_puts(b, "}\n");
}

/* The error object's fields. */
static void
serve_oai_error_obj(struct buf *b, const char *message, const char *type, const char *param,
    const char *code)
{
	buf_puts(b, "{\"error\":{\"message\":");
	serve_json_str(b, message);
	buf_puts(b, ",\"type\":");
	serve_json_str(b, type);
	buf_puts(b, ",\"param\":");
	serve_json_str(b, param);
	buf_puts(b, ",\"code\":");
	serve_json_str(b, code);
	buf_puts(b, "}}");
}

/* OpenAI's error body. */
void
serve_oai_error(struct buf *b, const char *message, const char *type, const char *param,
    const char *code)
{
	serve_oai_error_obj(b, message, type, param, code);
	buf_putc(b, '\n');
}

/* An error inside a stream, as OpenAI sends one. */
void
serve_oai_error_event(struct buf *b, const char *message, const char *type, const char *code)
{
	buf_puts(b, "data: ");
	serve_oai_error_obj(b, message, type, NULL, code);
	buf_puts(b, "\n\n");
}

/* The conversation id as the API gives it: a string of the session id, or null. */
static void
serve_s2_id(struct buf *b, int64_t conversation)
{
	if (conversation > 0)
		buf_printf(b, "\"%lld\"", (long long)conversation);
	else
		buf_puts(b, "null");
}

/* The first event. */
void
serve_s2_start(struct buf *b, int64_t conversation, const char *model)
{
	buf_puts(b, "data: {\"conversation_id\":");
	serve_s2_id(b, conversation);
	buf_puts(b, ",\"model\":");
	serve_json_str(b, model);
	buf_puts(b, "}\n\n");
}

/* A content event. */
void
serve_s2_content(struct buf *b, struct serve_utf8 *u, const char *p, size_t n)
{
	buf_puts(b, "data: {\"content\":");
	serve_json_text(b, u, p, n);
	buf_puts(b, ",\"finished\":false}\n\n");
}

/* The last event. */
void
serve_s2_end(struct buf *b, int64_t conversation, const char *finish, const struct usage *u)
{
	buf_puts(b, "data: {\"content\":\"\",\"finished\":true,\"conversation_id\":");
	serve_s2_id(b, conversation);
	buf_puts(b, ",\"finish_reason\":");
	serve_json_str(b, finish);
	buf_puts(b, ",\"usage\":");
	serve_oai_usage_obj(b, u);
	buf_puts(b, "}\n\n");
}

/* An error event. */
void
serve_s2_error(struct buf *b, const char *message, int status)
{
	buf_puts(b, "event: error\ndata: {\"error\":");
	serve_json_str(b, message);
	buf_printf(b, ",\"status\":%d,\"finished\":true}\n\n", status);
}

/* {"detail": message}. */
void
serve_s2_message(struct buf *b, const char *message)
{
	buf_puts(b, "{\"detail\":");
	serve_json_str(b, message);
	buf_puts(b, "}\n");
}

/* The location of a dotted field as a JSON array under "body". */
static void
serve_s2_loc(struct buf *b, const char *field)
{
	const char *p = field, *dot;
	char *part;

	buf_puts(b, "[\"body\"");
	while (p != NULL && *p != '\0') {
		dot = strchr(p, '.');
		part = dot != NULL ? xstrndup(p, (size_t)(dot - p)) : xstrdup(p);
		buf_putc(b, ',');
		serve_json_str(b, part);
		free(part);
		p = dot != NULL ? dot + 1 : NULL;
	}
	buf_putc(b, ']');
}

/* The 422 body. */
void
serve_s2_detail(struct buf *b, const struct serve_problems *pr)
{
	size_t i;

	buf_puts(b, "{\"detail\":[");
	for (i = 0; i < pr->n; i++) {
		buf_puts(b, i > 0 ? ",{\"loc\":" : "{\"loc\":");
		serve_s2_loc(b, pr->v[i].field);
		buf_puts(b, ",\"msg\":");
		serve_json_str(b, pr->v[i].msg);
		buf_puts(b, ",\"type\":\"value_error\"}");
	}
	buf_puts(b, "]}\n");
}
