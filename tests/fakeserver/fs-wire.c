/*
 * What each protocol looks like on the wire: stream events, whole (non-streaming) replies,
 * HTTP error bodies and model lists for OpenAI Chat Completions, Anthropic Messages, Gemini
 * and Ollama, shaped after protocols.md and the recorded vectors. JSON is written by hand
 * instead of through cJSON because the exact layout matters (Gemini's ", " spacing, field
 * order, "usage":null) and because a 20,000-token reply must be produced in a few milliseconds.
 * Error messages keep the real providers' shapes and types; their wording says "fakeserver"
 * where the real text is not recorded, so nobody mistakes a test reply for a real one.
 */
#include <stdio.h>
#include <string.h>

#include "fakeserver.h"

/* Fixed creation time and timestamp: replies are deterministic, so tests can compare them. */
#define FS_CREATED 1727346168L
#define FS_CREATED_AT "2025-10-26T17:15:24.097767Z"

/* Append s as a JSON string literal. */
static void
fs_json(struct buf *b, const char *s)
{
	buf_json_string(b, s, strlen(s));
}

/* Begin an SSE event: the optional event: line, then "data: ". */
static void
fs_sse_begin(struct fs_emit *e, const char *event)
{
	if (event != NULL) {
		buf_puts(&e->out, "event: ");
		buf_puts(&e->out, event);
		buf_puts(&e->out, e->eol);
	}
	buf_puts(&e->out, "data: ");
}

/* End an SSE event with the blank line. */
static void
fs_sse_end(struct fs_emit *e)
{
	buf_puts(&e->out, e->eol);
	buf_puts(&e->out, e->eol);
}

/* The message of a 400: what the tool check found wrong, else the default text. */
static const char *
fs_bad_request(const struct fs_chat *chat, const char *dflt)
{
	return chat->tools.error.len > 0 ? buf_str(&chat->tools.error) : dflt;
}

/* Call k's id: the protocol's prefix, the request number and k (Gemini and Ollama give
 * none). */
static void
fs_call_id(struct buf *b, const struct fs_chat *chat, int k)
{
	buf_printf(b, "%s%06lu_%d", chat->proto == FS_ANTHROPIC ? "toolu_fake" : "call_fake",
	    chat->seq, k);
}

/* The size of the pieces a call's arguments are streamed in. */
#define FS_ARGS_PIECE 7

/* Total output tokens the reply carries. */
static long
fs_out_tokens(const struct fs_chat *chat)
{
	return (long)(chat->think.n + chat->text.n);
}

/* ---- OpenAI Chat Completions ---------------------------------------------------------- */

/* Prepare the chunk prefix shared by every event, up to and including "choices":. */
static void
fs_openai_start(struct fs_emit *e)
{
	buf_printf(&e->head, "{\"id\":\"chatcmpl-fake%06lu\",\"object\":\"chat.completion.chunk\","
	    "\"created\":%ld,\"model\":", e->chat->seq, FS_CREATED);
	fs_json(&e->head, e->chat->model);
	buf_puts(&e->head, ",\"system_fingerprint\":\"fp_fakeserver\",\"choices\":");
	fs_sse_begin(e, NULL);
	buf_append(&e->out, e->head.data, e->head.len);
	buf_puts(&e->out, "[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\"},"
	    "\"logprobs\":null,\"finish_reason\":null}]");
	buf_puts(&e->out, e->chat->include_usage ? ",\"usage\":null}" : "}");
	fs_sse_end(e);
}

/* One content or reasoning delta. */
static void
fs_openai_token(struct fs_emit *e, bool reasoning, const char *t, size_t n, bool last)
{
	(void)last;
	fs_sse_begin(e, NULL);
	buf_append(&e->out, e->head.data, e->head.len);
	if (!reasoning)
		buf_puts(&e->out, "[{\"index\":0,\"delta\":{\"content\":");
	else if (e->chat->m.reasoning_alt)
		buf_puts(&e->out, "[{\"index\":0,\"delta\":{\"content\":\"\",\"reasoning\":");
	else
		buf_puts(&e->out, "[{\"index\":0,\"delta\":{\"content\":null,\"reasoning_content\":");
	buf_json_string(&e->out, t, n);
	buf_puts(&e->out, "},\"logprobs\":null,\"finish_reason\":null}]");
	buf_puts(&e->out, e->chat->include_usage ? ",\"usage\":null}" : "}");
	fs_sse_end(e);
}

/* One delta.tool_calls piece of call k: its index (unless no_index), id (when with_id),
 * name and a piece of its arguments (either may be NULL). */
static void
fs_openai_piece(struct fs_emit *e, int k, bool with_id, const char *name, const char *args,
    size_t n)
{
	const struct fs_chat *chat = e->chat;
	bool first = false;

	fs_sse_begin(e, NULL);
	buf_append(&e->out, e->head.data, e->head.len);
	buf_puts(&e->out, "[{\"index\":0,\"delta\":{\"tool_calls\":[{");
	if (chat->tools.quirk != FS_QUIRK_NO_INDEX) {
		buf_printf(&e->out, "\"index\":%d", k);
		first = true;
	}
	if (with_id) {
		buf_puts(&e->out, first ? ",\"id\":\"" : "\"id\":\"");
		fs_call_id(&e->out, chat, k);
		buf_puts(&e->out, "\",\"type\":\"function\"");
		first = true;
	}
	buf_puts(&e->out, first ? ",\"function\":{" : "\"function\":{");
	if (name != NULL) {
		buf_puts(&e->out, "\"name\":");
		fs_json(&e->out, name);
	}
	if (args != NULL) {
		buf_puts(&e->out, name != NULL ? ",\"arguments\":" : "\"arguments\":");
		buf_json_string(&e->out, args, n);
	}
	buf_puts(&e->out, "}}]},\"logprobs\":null,\"finish_reason\":null}]");
	buf_puts(&e->out, chat->include_usage ? ",\"usage\":null}" : "}");
	fs_sse_end(e);
}

/*
 * The calls as OpenAI streams them: per call a piece with index, id, type and name and
 * empty arguments, then the arguments in small pieces by index. tool_quirk=no_index sends
 * the id instead of the index in every piece and interleaves the calls' pieces;
 * tool_quirk=args_first sends no id and the arguments before the name.
 */
static void
fs_openai_tools(struct fs_emit *e)
{
	const struct fs_tools *t = &e->chat->tools;
	size_t at, most = 0, len;
	int k;

	for (k = 0; k < t->ncalls; k++) {
		len = strlen(t->calls[k].args);
		most = len > most ? len : most;
		if (t->quirk == FS_QUIRK_NO_INDEX)
			fs_openai_piece(e, k, true, t->calls[k].name, "", 0);
		if (t->quirk != FS_QUIRK_NONE)
			continue;
		fs_openai_piece(e, k, true, t->calls[k].name, "", 0);
		for (at = 0; at < len; at += FS_ARGS_PIECE)
			fs_openai_piece(e, k, false, NULL, t->calls[k].args + at,
			    len - at < FS_ARGS_PIECE ? len - at : FS_ARGS_PIECE);
	}
	if (t->quirk == FS_QUIRK_NO_INDEX) {
		for (at = 0; at < most; at += FS_ARGS_PIECE)
			for (k = 0; k < t->ncalls; k++) {
				len = strlen(t->calls[k].args);
				if (at < len)
					fs_openai_piece(e, k, true, NULL, t->calls[k].args + at,
					    len - at < FS_ARGS_PIECE ? len - at : FS_ARGS_PIECE);
			}
	}
	for (k = 0; t->quirk == FS_QUIRK_ARGS_FIRST && k < t->ncalls; k++) {
		len = strlen(t->calls[k].args);
		for (at = 0; at < len; at += FS_ARGS_PIECE)
			fs_openai_piece(e, k, false, NULL, t->calls[k].args + at,
			    len - at < FS_ARGS_PIECE ? len - at : FS_ARGS_PIECE);
		fs_openai_piece(e, k, false, t->calls[k].name, NULL, 0);
	}
}

/* A chunk cut off in the middle of its JSON. */
static void
fs_openai_malformed(struct fs_emit *e)
{
	fs_sse_begin(e, NULL);
	buf_append(&e->out, e->head.data, e->head.len);
	buf_puts(&e->out, "[{\"index\":0,\"delta\":{\"content\":\"malformed");
	fs_sse_end(e);
}

/* The in-stream error object OpenAI sends after a 200. */
static void
fs_openai_error(struct fs_emit *e)
{
	fs_sse_begin(e, NULL);
	buf_puts(&e->out, "{\"error\":{\"message\":\"fakeserver: simulated error in the middle of "
	    "the stream\",\"type\":\"server_error\",\"param\":null,\"code\":null}}");
	fs_sse_end(e);
}

/* The usage object, as in the final chunk and the whole reply. */
static void
fs_openai_usage(struct buf *b, const struct fs_chat *chat)
{
	long out = fs_out_tokens(chat);

	buf_printf(b, "{\"prompt_tokens\":%ld,\"completion_tokens\":%ld,\"total_tokens\":%ld,"
	    "\"completion_tokens_details\":{\"reasoning_tokens\":%zu}}", chat->input_words, out,
	    chat->input_words + out, chat->think.n);
}

/* Finish chunk, usage chunk (only when stream_options.include_usage asked), then [DONE]. */
static void
fs_openai_finish(struct fs_emit *e)
{
	fs_sse_begin(e, NULL);
	buf_append(&e->out, e->head.data, e->head.len);
	buf_printf(&e->out, "[{\"index\":0,\"delta\":{},\"logprobs\":null,\"finish_reason\":\"%s\"}]",
	    e->chat->tools.calling ? "tool_calls" : "stop");
	buf_puts(&e->out, e->chat->include_usage ? ",\"usage\":null}" : "}");
	fs_sse_end(e);
	if (e->chat->include_usage && !(e->chat->m.faults & FS_FAULT_NO_USAGE)) {
		fs_sse_begin(e, NULL);
		buf_append(&e->out, e->head.data, e->head.len);
		buf_puts(&e->out, "[],\"usage\":");
		fs_openai_usage(&e->out, e->chat);
		buf_putc(&e->out, '}');
		fs_sse_end(e);
	}
	fs_sse_begin(e, NULL);
	buf_puts(&e->out, "[DONE]");
	fs_sse_end(e);
}

/* message.tool_calls of a whole reply: OpenAI's (ids, arguments as JSON text) or, with
 * ollama, Ollama's (arguments as an object). */
static void
fs_openai_whole_calls(struct buf *b, const struct fs_chat *chat, bool ollama)
{
	const struct fs_tools *t = &chat->tools;
	int k;

	buf_puts(b, ",\"tool_calls\":[");
	for (k = 0; k < t->ncalls; k++) {
		if (k > 0)
			buf_putc(b, ',');
		if (!ollama) {
			buf_puts(b, "{\"id\":\"");
			fs_call_id(b, chat, k);
			buf_puts(b, "\",\"type\":\"function\",\"function\":{\"name\":");
		} else {
			buf_puts(b, "{\"function\":{\"name\":");
		}
		fs_json(b, t->calls[k].name);
		buf_puts(b, ",\"arguments\":");
		if (ollama)
			buf_puts(b, t->calls[k].object ? t->calls[k].args : "{}");
		else
			fs_json(b, t->calls[k].args);
		buf_puts(b, "}}");
	}
	buf_putc(b, ']');
}

/* A non-streaming chat.completion object. */
static void
fs_openai_whole(const struct fs_chat *chat, struct buf *b)
{
	buf_printf(b, "{\"id\":\"chatcmpl-fake%06lu\",\"object\":\"chat.completion\",\"created\":%ld,"
	    "\"model\":", chat->seq, FS_CREATED);
	fs_json(b, chat->model);
	buf_puts(b, ",\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":");
	if (chat->tools.calling && chat->text.all.len == 0)
		buf_puts(b, "null");
	else
		buf_json_string(b, chat->text.all.data ? chat->text.all.data : "",
		    chat->text.all.len);
	if (chat->think.n > 0) {
		buf_puts(b, chat->m.reasoning_alt ? ",\"reasoning\":" : ",\"reasoning_content\":");
		buf_json_string(b, chat->think.all.data, chat->think.all.len);
	}
	if (chat->tools.calling)
		fs_openai_whole_calls(b, chat, false);
	buf_printf(b, ",\"refusal\":null},\"logprobs\":null,\"finish_reason\":\"%s\"}]",
	    chat->tools.calling ? "tool_calls" : "stop");
	if (!(chat->m.faults & FS_FAULT_NO_USAGE)) {
		buf_puts(b, ",\"usage\":");
		fs_openai_usage(b, chat);
	}
	buf_puts(b, ",\"system_fingerprint\":\"fp_fakeserver\"}");
}

/* fault=echo_key: quote the request's credential in an error message, as a proxy that
 * echoes the request headers does. */
void
fs_wire_echo(const struct fs_chat *chat, struct buf *msg)
{
	if (chat->echo.len > 0)
		buf_printf(msg, " (upstream refused the request with %s)", buf_str(&chat->echo));
}

/* OpenAI error body {"error":{message,type,param,code}}; returns the status to send. */
static int
fs_openai_http_error(const struct fs_chat *chat, int status, struct buf *hdrs, struct buf *b)
{
	const char *type = "server_error", *param = NULL, *code = NULL;
	struct buf msg = BUF_INIT;

	switch (status) {
	case 400:
		type = "invalid_request_error";
		if (chat->m.ctx) {
			buf_printf(&msg, "This model's maximum context length is 4097 tokens. However, "
			    "your messages resulted in %ld tokens. Please reduce the length of the "
			    "messages.", chat->input_words + 4097);
			param = "messages";
			code = "context_length_exceeded";
		} else {
			buf_puts(&msg, fs_bad_request(chat, "fakeserver: simulated bad request"));
		}
		break;
	case 401:
		type = "invalid_request_error";
		code = "invalid_api_key";
		buf_puts(&msg, "Incorrect API key provided: sk-****. You can find your API key at "
		    "https://platform.openai.com/account/api-keys.");
		break;
	case 403:
		type = "invalid_request_error";
		buf_puts(&msg, "fakeserver: simulated permission denied");
		break;
	case 404:
		type = "invalid_request_error";
		code = "model_not_found";
		buf_printf(&msg, "The model `%s` does not exist or you do not have access to it.",
		    chat->model);
		break;
	case 429:
		type = "tokens";
		code = "rate_limit_exceeded";
		buf_printf(&msg, "Rate limit reached for %s in organization org-fake on tokens per min "
		    "(TPM): Limit 200000, Used 199000, Requested 1500. Please try again in 150ms.",
		    chat->model);
		buf_puts(hdrs, "x-ratelimit-limit-requests: 5000\r\nx-ratelimit-remaining-requests: "
		    "4999\r\nx-ratelimit-reset-requests: 12ms\r\nx-ratelimit-limit-tokens: 200000\r\n"
		    "x-ratelimit-remaining-tokens: 1000\r\nx-ratelimit-reset-tokens: 150ms\r\n");
		break;
	default:
		if (status < 500)
			type = "invalid_request_error";
		buf_printf(&msg, "fakeserver: simulated HTTP %d", status);
		break;
	}
	fs_wire_echo(chat, &msg);
	buf_printf(hdrs, "x-request-id: req_fake%06lu\r\n", chat->seq);
	if (chat->m.retry_after_ms[0] != '\0')
		buf_printf(hdrs, "retry-after-ms: %s\r\n", chat->m.retry_after_ms);
	if (chat->m.retry_after[0] != '\0')
		buf_printf(hdrs, "retry-after: %s\r\n", chat->m.retry_after);
	buf_puts(b, "{\"error\":{\"message\":");
	fs_json(b, buf_str(&msg));
	buf_puts(b, ",\"type\":");
	fs_json(b, type);
	buf_puts(b, ",\"param\":");
	if (param != NULL)
		fs_json(b, param);
	else
		buf_puts(b, "null");
	buf_puts(b, ",\"code\":");
	if (code != NULL)
		fs_json(b, code);
	else
		buf_puts(b, "null");
	buf_puts(b, "}}");
	buf_free(&msg);
	return status;
}

static const struct fs_wire fs_wire_openai = {
	"text/event-stream; charset=utf-8",
	fs_openai_start, fs_openai_token, fs_openai_malformed, fs_openai_error, fs_openai_finish,
	fs_openai_tools, fs_openai_whole, fs_openai_http_error,
};

/* ---- Anthropic Messages ----------------------------------------------------------------- */

/* message_start with the input usage. */
static void
fs_anthropic_start(struct fs_emit *e)
{
	fs_sse_begin(e, "message_start");
	buf_printf(&e->out, "{\"type\":\"message_start\",\"message\":{\"id\":\"msg_fake%06lu\","
	    "\"type\":\"message\",\"role\":\"assistant\",\"content\":[],\"model\":", e->chat->seq);
	fs_json(&e->out, e->chat->model);
	buf_puts(&e->out, ",\"stop_reason\":null,\"stop_sequence\":null");
	if (!(e->chat->m.faults & FS_FAULT_NO_USAGE))
		buf_printf(&e->out, ",\"usage\":{\"input_tokens\":%ld,\"output_tokens\":1}",
		    e->chat->input_words);
	buf_puts(&e->out, "}}");
	fs_sse_end(e);
}

/* Close the open content block; a thinking block gets its signature first, as the API does. */
static void
fs_anthropic_close_block(struct fs_emit *e)
{
	if (e->block == 0)
		return;
	if (e->block == 1) {
		fs_sse_begin(e, "content_block_delta");
		buf_printf(&e->out, "{\"type\":\"content_block_delta\",\"index\":%d,\"delta\":"
		    "{\"type\":\"signature_delta\",\"signature\":\"ZmFrZXNlcnZlcg==\"}}", e->block_index);
		fs_sse_end(e);
	}
	fs_sse_begin(e, "content_block_stop");
	buf_printf(&e->out, "{\"type\":\"content_block_stop\",\"index\":%d}", e->block_index);
	fs_sse_end(e);
	e->block = 0;
	e->block_index++;
}

/* Open a content block of the given kind (1 thinking, 2 text); the first one is followed by a ping. */
static void
fs_anthropic_open_block(struct fs_emit *e, int kind)
{
	fs_anthropic_close_block(e);
	fs_sse_begin(e, "content_block_start");
	buf_printf(&e->out, "{\"type\":\"content_block_start\",\"index\":%d,\"content_block\":%s}",
	    e->block_index, kind == 1 ? "{\"type\":\"thinking\",\"thinking\":\"\",\"signature\":\"\"}" :
	    "{\"type\":\"text\",\"text\":\"\"}");
	fs_sse_end(e);
	if (e->block_index == 0) {
		fs_sse_begin(e, "ping");
		buf_puts(&e->out, "{\"type\": \"ping\"}");
		fs_sse_end(e);
	}
	e->block = kind;
}

/* One text_delta or thinking_delta, opening the right block first. */
static void
fs_anthropic_token(struct fs_emit *e, bool reasoning, const char *t, size_t n, bool last)
{
	int kind = reasoning ? 1 : 2;

	(void)last;
	if (e->block != kind)
		fs_anthropic_open_block(e, kind);
	fs_sse_begin(e, "content_block_delta");
	buf_printf(&e->out, "{\"type\":\"content_block_delta\",\"index\":%d,\"delta\":"
	    "{\"type\":\"%s\",\"%s\":", e->block_index, reasoning ? "thinking_delta" : "text_delta",
	    reasoning ? "thinking" : "text");
	buf_json_string(&e->out, t, n);
	buf_puts(&e->out, "}}");
	fs_sse_end(e);
}

/* One input_json_delta piece of the open tool_use block. */
static void
fs_anthropic_input(struct fs_emit *e, const char *p, size_t n)
{
	fs_sse_begin(e, "content_block_delta");
	buf_printf(&e->out, "{\"type\":\"content_block_delta\",\"index\":%d,\"delta\":"
	    "{\"type\":\"input_json_delta\",\"partial_json\":", e->block_index);
	buf_json_string(&e->out, p, n);
	buf_puts(&e->out, "}}");
	fs_sse_end(e);
}

/*
 * The calls as tool_use blocks, after the text: content_block_start with the id, name and
 * an empty input, the input in input_json_delta pieces (the first one empty, as the API
 * sends it; none at all for {}), then content_block_stop.
 */
static void
fs_anthropic_tools(struct fs_emit *e)
{
	const struct fs_tools *t = &e->chat->tools;
	const char *args;
	size_t at, len;
	int k;

	fs_anthropic_close_block(e);
	for (k = 0; k < t->ncalls; k++) {
		fs_sse_begin(e, "content_block_start");
		buf_printf(&e->out, "{\"type\":\"content_block_start\",\"index\":%d,"
		    "\"content_block\":{\"type\":\"tool_use\",\"id\":\"", e->block_index);
		fs_call_id(&e->out, e->chat, k);
		buf_puts(&e->out, "\",\"name\":");
		fs_json(&e->out, t->calls[k].name);
		buf_puts(&e->out, ",\"input\":{}}}");
		fs_sse_end(e);
		if (e->block_index == 0) {
			fs_sse_begin(e, "ping");
			buf_puts(&e->out, "{\"type\": \"ping\"}");
			fs_sse_end(e);
		}
		args = t->calls[k].args;
		len = strcmp(args, "{}") == 0 ? 0 : strlen(args);
		if (len > 0)
			fs_anthropic_input(e, "", 0);
		for (at = 0; at < len; at += FS_ARGS_PIECE)
			fs_anthropic_input(e, args + at,
			    len - at < FS_ARGS_PIECE ? len - at : FS_ARGS_PIECE);
		fs_sse_begin(e, "content_block_stop");
		buf_printf(&e->out, "{\"type\":\"content_block_stop\",\"index\":%d}",
		    e->block_index);
		fs_sse_end(e);
		e->block_index++;
	}
}

/* A delta event whose JSON stops half way. */
static void
fs_anthropic_malformed(struct fs_emit *e)
{
	fs_sse_begin(e, "content_block_delta");
	buf_printf(&e->out, "{\"type\":\"content_block_delta\",\"index\":%d,\"delta\":{\"type\":"
	    "\"text_delta\",\"text\":\"malformed", e->block_index);
	fs_sse_end(e);
}

/* The in-stream overloaded error (what a 529 becomes once the stream has started). */
static void
fs_anthropic_error(struct fs_emit *e)
{
	fs_sse_begin(e, "error");
	buf_puts(&e->out, "{\"type\": \"error\", \"error\": {\"type\": \"overloaded_error\", "
	    "\"message\": \"Overloaded\"}}");
	fs_sse_end(e);
}

/* Close the last block, then message_delta (stop reason, cumulative usage) and message_stop. */
static void
fs_anthropic_finish(struct fs_emit *e)
{
	if (e->block == 0 && e->block_index == 0)
		fs_anthropic_open_block(e, 2);
	fs_anthropic_close_block(e);
	fs_sse_begin(e, "message_delta");
	buf_printf(&e->out, "{\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"%s\","
	    "\"stop_sequence\":null}", e->chat->tools.calling ? "tool_use" : "end_turn");
	if (!(e->chat->m.faults & FS_FAULT_NO_USAGE))
		buf_printf(&e->out, ",\"usage\":{\"output_tokens\":%ld}", fs_out_tokens(e->chat));
	buf_putc(&e->out, '}');
	fs_sse_end(e);
	fs_sse_begin(e, "message_stop");
	buf_puts(&e->out, "{\"type\":\"message_stop\"}");
	fs_sse_end(e);
}

/* A non-streaming Message object. */
static void
fs_anthropic_whole(const struct fs_chat *chat, struct buf *b)
{
	int k;

	buf_printf(b, "{\"id\":\"msg_fake%06lu\",\"type\":\"message\",\"role\":\"assistant\","
	    "\"model\":", chat->seq);
	fs_json(b, chat->model);
	buf_puts(b, ",\"content\":[");
	if (chat->think.n > 0) {
		buf_puts(b, "{\"type\":\"thinking\",\"thinking\":");
		buf_json_string(b, chat->think.all.data, chat->think.all.len);
		buf_puts(b, ",\"signature\":\"ZmFrZXNlcnZlcg==\"},");
	}
	if (!chat->tools.calling || chat->text.all.len > 0) {
		buf_puts(b, "{\"type\":\"text\",\"text\":");
		buf_json_string(b, chat->text.all.data ? chat->text.all.data : "",
		    chat->text.all.len);
		buf_puts(b, chat->tools.calling ? "}," : "}");
	}
	for (k = 0; chat->tools.calling && k < chat->tools.ncalls; k++) {
		buf_puts(b, k > 0 ? ",{\"type\":\"tool_use\",\"id\":\"" :
		    "{\"type\":\"tool_use\",\"id\":\"");
		fs_call_id(b, chat, k);
		buf_puts(b, "\",\"name\":");
		fs_json(b, chat->tools.calls[k].name);
		buf_puts(b, ",\"input\":");
		buf_puts(b, chat->tools.calls[k].object ? chat->tools.calls[k].args : "{}");
		buf_putc(b, '}');
	}
	buf_printf(b, "],\"stop_reason\":\"%s\",\"stop_sequence\":null",
	    chat->tools.calling ? "tool_use" : "end_turn");
	if (!(chat->m.faults & FS_FAULT_NO_USAGE))
		buf_printf(b, ",\"usage\":{\"input_tokens\":%ld,\"output_tokens\":%ld}",
		    chat->input_words, fs_out_tokens(chat));
	buf_putc(b, '}');
}

/* Anthropic error body {"type":"error","error":{type,message},"request_id"}. */
static int
fs_anthropic_http_error(const struct fs_chat *chat, int status, struct buf *hdrs, struct buf *b)
{
	const char *type;
	struct buf msg = BUF_INIT;

	switch (status) {
	case 400:
		type = "invalid_request_error";
		if (chat->m.ctx)
			buf_printf(&msg, "prompt is too long: %ld tokens > 200000 maximum",
			    chat->input_words + 200000);
		else
			buf_puts(&msg, fs_bad_request(chat, "fakeserver: simulated invalid request"));
		break;
	case 401: type = "authentication_error"; buf_puts(&msg, "invalid x-api-key"); break;
	case 402: type = "billing_error"; buf_puts(&msg, "fakeserver: simulated billing error"); break;
	case 403: type = "permission_error"; buf_puts(&msg, "fakeserver: simulated permission error"); break;
	case 404: type = "not_found_error"; buf_printf(&msg, "model: %s", chat->model); break;
	case 413: type = "request_too_large"; buf_puts(&msg, "Request exceeds the maximum allowed number of bytes."); break;
	case 429:
		type = "rate_limit_error";
		buf_puts(&msg, "fakeserver: simulated rate limit (input tokens per minute)");
		buf_puts(hdrs, "anthropic-ratelimit-input-tokens-limit: 80000\r\n"
		    "anthropic-ratelimit-input-tokens-remaining: 0\r\n"
		    "anthropic-ratelimit-input-tokens-reset: 2025-08-21T12:41:19Z\r\n"
		    "anthropic-ratelimit-requests-remaining: 999\r\n");
		break;
	case 500: type = "api_error"; buf_puts(&msg, "Internal server error"); break;
	case 503:
	case 529: type = "overloaded_error"; buf_puts(&msg, "Overloaded"); break;
	case 504: type = "timeout_error"; buf_puts(&msg, "Request timed out"); break;
	default:
		type = status < 500 ? "invalid_request_error" : "api_error";
		buf_printf(&msg, "fakeserver: simulated HTTP %d", status);
		break;
	}
	fs_wire_echo(chat, &msg);
	buf_printf(hdrs, "request-id: req_fake%06lu\r\n", chat->seq);
	if (chat->m.retry_after[0] != '\0')
		buf_printf(hdrs, "retry-after: %s\r\n", chat->m.retry_after);
	if (chat->m.retry_after_ms[0] != '\0')
		buf_printf(hdrs, "retry-after-ms: %s\r\n", chat->m.retry_after_ms);
	buf_puts(b, "{\"type\":\"error\",\"error\":{\"type\":");
	fs_json(b, type);
	buf_puts(b, ",\"message\":");
	fs_json(b, buf_str(&msg));
	buf_printf(b, "},\"request_id\":\"req_fake%06lu\"}", chat->seq);
	buf_free(&msg);
	return status;
}

static const struct fs_wire fs_wire_anthropic = {
	"text/event-stream; charset=utf-8",
	fs_anthropic_start, fs_anthropic_token, fs_anthropic_malformed, fs_anthropic_error,
	fs_anthropic_finish, fs_anthropic_tools, fs_anthropic_whole, fs_anthropic_http_error,
};

/* ---- Gemini --------------------------------------------------------------------------- */

/* Begin one GenerateContentResponse: "data: " for SSE, "[" or "," for the JSON-array form. */
static void
fs_gemini_begin(struct fs_emit *e)
{
	if (!e->chat->gemini_array)
		buf_puts(&e->out, "data: ");
	else
		buf_puts(&e->out, e->first_event ? "[" : ",\r\n");
	e->first_event = false;
}

/* End one response: CRLF CRLF for SSE, as Gemini frames are. */
static void
fs_gemini_end(struct fs_emit *e)
{
	if (!e->chat->gemini_array)
		buf_puts(&e->out, "\r\n\r\n");
}

/* usageMetadata, growing as the stream goes; final adds the candidate and thought counts. */
static void
fs_gemini_usage(struct buf *b, const struct fs_chat *chat, bool final, size_t think, size_t text)
{
	if (!final) {
		buf_printf(b, ", \"usageMetadata\": {\"promptTokenCount\": %ld, \"totalTokenCount\": "
		    "%ld}", chat->input_words, chat->input_words);
		return;
	}
	buf_printf(b, ", \"usageMetadata\": {\"promptTokenCount\": %ld, \"candidatesTokenCount\": %zu",
	    chat->input_words, text);
	if (think > 0)
		buf_printf(b, ", \"thoughtsTokenCount\": %zu", think);
	buf_printf(b, ", \"totalTokenCount\": %ld}", chat->input_words + (long)(think + text));
}

/* One response carrying one part; with finish set it is the last one (finishReason STOP). */
static void
fs_gemini_part(struct fs_emit *e, bool thought, const char *t, size_t n, bool finish)
{
	fs_gemini_begin(e);
	buf_puts(&e->out, "{\"candidates\": [{\"content\": {\"parts\": [{\"text\": ");
	buf_json_string(&e->out, t, n);
	if (thought)
		buf_puts(&e->out, ", \"thought\": true");
	buf_puts(&e->out, "}], \"role\": \"model\"}, ");
	buf_puts(&e->out, finish ? "\"finishReason\": \"STOP\", \"index\": 0}]" : "\"index\": 0}]");
	if (!(e->chat->m.faults & FS_FAULT_NO_USAGE))
		fs_gemini_usage(&e->out, e->chat, finish, e->chat->think.n, e->chat->text.n);
	buf_puts(&e->out, ", \"modelVersion\": ");
	fs_json(&e->out, e->chat->model);
	buf_printf(&e->out, ", \"responseId\": \"fake%06lu\"}", e->chat->seq);
	fs_gemini_end(e);
	if (finish)
		e->finished = true;
}

/* Nothing precedes the first part. */
static void
fs_gemini_start(struct fs_emit *e)
{
	e->first_event = true;
}

/* One text or thought part; the last text token carries finishReason, as Gemini does
 * (unless calls follow: then their response carries it). */
static void
fs_gemini_token(struct fs_emit *e, bool reasoning, const char *t, size_t n, bool last)
{
	fs_gemini_part(e, reasoning, t, n, last && !reasoning && !e->chat->tools.calling);
}

/* The functionCall parts, the first with its thoughtSignature as Gemini gives it. */
static void
fs_gemini_call_parts(struct buf *b, const struct fs_chat *chat)
{
	const struct fs_tools *t = &chat->tools;
	int k;

	for (k = 0; k < t->ncalls; k++) {
		buf_puts(b, k > 0 ? ", {\"functionCall\": {\"name\": " : "{\"functionCall\": {\"name\": ");
		fs_json(b, t->calls[k].name);
		buf_puts(b, ", \"args\": ");
		buf_puts(b, t->calls[k].object ? t->calls[k].args : "{}");
		buf_putc(b, '}');
		if (k == 0) {
			buf_puts(b, ", \"thoughtSignature\": \"");
			fs_tools_signature(t->calls[k].name, b);
			buf_putc(b, '"');
		}
		buf_putc(b, '}');
	}
}

/* The calls: one response with every functionCall part, finishReason and usage. */
static void
fs_gemini_tools(struct fs_emit *e)
{
	fs_gemini_begin(e);
	buf_puts(&e->out, "{\"candidates\": [{\"content\": {\"parts\": [");
	fs_gemini_call_parts(&e->out, e->chat);
	buf_puts(&e->out, "], \"role\": \"model\"}, \"finishReason\": \"STOP\", \"index\": 0}]");
	if (!(e->chat->m.faults & FS_FAULT_NO_USAGE))
		fs_gemini_usage(&e->out, e->chat, true, e->chat->think.n, e->chat->text.n);
	buf_puts(&e->out, ", \"modelVersion\": ");
	fs_json(&e->out, e->chat->model);
	buf_printf(&e->out, ", \"responseId\": \"fake%06lu\"}", e->chat->seq);
	fs_gemini_end(e);
	e->finished = true;
}

/* A response whose JSON stops half way. */
static void
fs_gemini_malformed(struct fs_emit *e)
{
	fs_gemini_begin(e);
	buf_puts(&e->out, "{\"candidates\": [{\"content\": {\"parts\": [{\"text\": \"malformed");
	fs_gemini_end(e);
}

/* The in-stream error object (503 UNAVAILABLE). */
static void
fs_gemini_error(struct fs_emit *e)
{
	fs_gemini_begin(e);
	buf_puts(&e->out, "{\"error\": {\"code\": 503, \"message\": \"The model is overloaded. "
	    "Please try again later.\", \"status\": \"UNAVAILABLE\"}}");
	fs_gemini_end(e);
	if (e->chat->gemini_array)
		buf_puts(&e->out, "]");
}

/* Send finishReason if no text token carried it; close the array form. */
static void
fs_gemini_finish(struct fs_emit *e)
{
	if (!e->finished)
		fs_gemini_part(e, false, "", 0, true);
	if (e->chat->gemini_array)
		buf_puts(&e->out, "]");
}

/* A non-streaming GenerateContentResponse (:generateContent). */
static void
fs_gemini_whole(const struct fs_chat *chat, struct buf *b)
{
	buf_puts(b, "{\"candidates\": [{\"content\": {\"parts\": [");
	if (chat->think.n > 0) {
		buf_puts(b, "{\"text\": ");
		buf_json_string(b, chat->think.all.data, chat->think.all.len);
		buf_puts(b, ", \"thought\": true}, ");
	}
	if (!chat->tools.calling || chat->text.all.len > 0) {
		buf_puts(b, "{\"text\": ");
		buf_json_string(b, chat->text.all.data ? chat->text.all.data : "",
		    chat->text.all.len);
		buf_puts(b, chat->tools.calling ? "}, " : "}");
	}
	if (chat->tools.calling)
		fs_gemini_call_parts(b, chat);
	buf_puts(b, "], \"role\": \"model\"}, \"finishReason\": \"STOP\", \"index\": 0}]");
	if (!(chat->m.faults & FS_FAULT_NO_USAGE))
		fs_gemini_usage(b, chat, true, chat->think.n, chat->text.n);
	buf_puts(b, ", \"modelVersion\": ");
	fs_json(b, chat->model);
	buf_printf(b, ", \"responseId\": \"fake%06lu\"}", chat->seq);
}

/* Start a pretty-printed Google RPC error body, as Gemini sends them. */
static void
fs_gemini_error_open(struct buf *b, int code, const char *message, const char *status)
{
	buf_printf(b, "{\n  \"error\": {\n    \"code\": %d,\n    \"message\": ", code);
	fs_json(b, message);
	buf_printf(b, ",\n    \"status\": \"%s\"", status);
}

/* Gemini error body {"error":{code,message,status,details?}}; 429 carries RetryInfo. */
static int
fs_gemini_http_error(const struct fs_chat *chat, int status, struct buf *hdrs, struct buf *b)
{
	struct buf msg = BUF_INIT;
	const char *rpc;

	(void)hdrs;
	switch (status) {
	case 400:
		rpc = "INVALID_ARGUMENT";
		if (chat->m.ctx)
			buf_printf(&msg, "The input token count (%ld) exceeds the maximum number of "
			    "tokens allowed (1048576).", chat->input_words + 1048576);
		else
			buf_puts(&msg, fs_bad_request(chat, "fakeserver: simulated invalid argument"));
		break;
	case 401: rpc = "UNAUTHENTICATED"; buf_puts(&msg, "fakeserver: simulated unauthenticated request"); break;
	case 403: rpc = "PERMISSION_DENIED"; buf_puts(&msg, "fakeserver: simulated permission denied"); break;
	case 404:
		rpc = "NOT_FOUND";
		buf_printf(&msg, "models/%s is not found for API version v1beta, or is not supported "
		    "for generateContent.", chat->model);
		break;
	case 429:
		rpc = "RESOURCE_EXHAUSTED";
		buf_puts(&msg, "You exceeded your current quota, please check your plan and billing "
		    "details.");
		break;
	case 500: rpc = "INTERNAL"; buf_puts(&msg, "An internal error has occurred."); break;
	case 503: rpc = "UNAVAILABLE"; buf_puts(&msg, "The model is overloaded. Please try again later."); break;
	case 504: rpc = "DEADLINE_EXCEEDED"; buf_puts(&msg, "Deadline expired before operation could complete."); break;
	default:
		rpc = status < 500 ? "FAILED_PRECONDITION" : "UNAVAILABLE";
		buf_printf(&msg, "fakeserver: simulated HTTP %d", status);
		break;
	}
	fs_wire_echo(chat, &msg);
	fs_gemini_error_open(b, status, buf_str(&msg), rpc);
	if (status == 429) {
		buf_puts(b, ",\n    \"details\": [\n      {\n        \"@type\": "
		    "\"type.googleapis.com/google.rpc.QuotaFailure\",\n        \"violations\": [\n"
		    "          {\n            \"quotaMetric\": "
		    "\"generativelanguage.googleapis.com/generate_content_free_tier_requests\",\n"
		    "            \"quotaId\": \"GenerateRequestsPerMinutePerProjectPerModel-FreeTier\",\n"
		    "            \"quotaValue\": \"10\"\n          }\n        ]\n      },\n"
		    "      {\n        \"@type\": \"type.googleapis.com/google.rpc.Help\",\n"
		    "        \"links\": [\n          {\n            \"description\": \"Learn more about "
		    "Gemini API quotas\",\n            \"url\": "
		    "\"https://ai.google.dev/gemini-api/docs/rate-limits\"\n          }\n        ]\n"
		    "      }");
		if (chat->m.retry_after[0] != '\0')
			buf_printf(b, ",\n      {\n        \"@type\": \"type.googleapis.com/google.rpc."
			    "RetryInfo\",\n        \"retryDelay\": \"%ss\"\n      }", chat->m.retry_after);
		buf_puts(b, "\n    ]");
	}
	buf_puts(b, "\n  }\n}\n");
	buf_free(&msg);
	return status;
}

static const struct fs_wire fs_wire_gemini = {
	"text/event-stream",
	fs_gemini_start, fs_gemini_token, fs_gemini_malformed, fs_gemini_error, fs_gemini_finish,
	fs_gemini_tools, fs_gemini_whole, fs_gemini_http_error,
};

/* ---- Ollama native /api/chat ---------------------------------------------------------- */

/* The fields every NDJSON object starts with. */
static void
fs_ollama_prefix(struct buf *b, const struct fs_chat *chat)
{
	buf_puts(b, "{\"model\":");
	fs_json(b, chat->model);
	buf_puts(b, ",\"created_at\":\"" FS_CREATED_AT "\",\"message\":{\"role\":\"assistant\",");
}

/* Ollama streams nothing before the first token. */
static void
fs_ollama_start(struct fs_emit *e)
{
	fs_ollama_prefix(&e->head, e->chat);
}

/* One NDJSON line with message.content or message.thinking. */
static void
fs_ollama_token(struct fs_emit *e, bool reasoning, const char *t, size_t n, bool last)
{
	(void)last;
	buf_append(&e->out, e->head.data, e->head.len);
	buf_puts(&e->out, reasoning ? "\"content\":\"\",\"thinking\":" : "\"content\":");
	buf_json_string(&e->out, t, n);
	buf_puts(&e->out, "},\"done\":false}");
	buf_puts(&e->out, e->eol);
}

/* The calls: one line with message.tool_calls (arguments as objects), done false. */
static void
fs_ollama_tools(struct fs_emit *e)
{
	buf_append(&e->out, e->head.data, e->head.len);
	buf_puts(&e->out, "\"content\":\"\"");
	fs_openai_whole_calls(&e->out, e->chat, true);
	buf_puts(&e->out, "},\"done\":false}");
	buf_puts(&e->out, e->eol);
}

/* A line whose JSON stops half way. */
static void
fs_ollama_malformed(struct fs_emit *e)
{
	buf_append(&e->out, e->head.data, e->head.len);
	buf_puts(&e->out, "\"content\":\"malformed");
	buf_puts(&e->out, e->eol);
}

/* The mid-stream error line (the status stays 200). */
static void
fs_ollama_error(struct fs_emit *e)
{
	buf_puts(&e->out, "{\"error\":\"an error was encountered while running the model\"}");
	buf_puts(&e->out, e->eol);
}

/* The done:true object with counts and durations (nanoseconds). */
static void
fs_ollama_done(struct buf *b, const struct fs_chat *chat)
{
	buf_puts(b, "\"done\":true,\"done_reason\":\"stop\"");
	if (!(chat->m.faults & FS_FAULT_NO_USAGE))
		buf_printf(b, ",\"total_duration\":4883583458,\"load_duration\":1334875,"
		    "\"prompt_eval_count\":%ld,\"prompt_eval_duration\":342546000,\"eval_count\":%ld,"
		    "\"eval_duration\":4535599000", chat->input_words, fs_out_tokens(chat));
	buf_putc(b, '}');
}

/* The final line. */
static void
fs_ollama_finish(struct fs_emit *e)
{
	buf_append(&e->out, e->head.data, e->head.len);
	buf_puts(&e->out, "\"content\":\"\"},");
	fs_ollama_done(&e->out, e->chat);
	buf_puts(&e->out, e->eol);
}

/* The single object sent for "stream": false. */
static void
fs_ollama_whole(const struct fs_chat *chat, struct buf *b)
{
	fs_ollama_prefix(b, chat);
	buf_puts(b, "\"content\":");
	buf_json_string(b, chat->text.all.data ? chat->text.all.data : "", chat->text.all.len);
	if (chat->think.n > 0) {
		buf_puts(b, ",\"thinking\":");
		buf_json_string(b, chat->think.all.data, chat->think.all.len);
	}
	if (chat->tools.calling)
		fs_openai_whole_calls(b, chat, true);
	buf_puts(b, "},");
	fs_ollama_done(b, chat);
}

/* Ollama error body {"error":"…"}. */
static int
fs_ollama_http_error(const struct fs_chat *chat, int status, struct buf *hdrs, struct buf *b)
{
	struct buf msg = BUF_INIT;

	switch (status) {
	case 400: buf_puts(&msg, chat->m.ctx ? "input length exceeds the context length" :
	    fs_bad_request(chat, "fakeserver: simulated bad request")); break;
	case 404: buf_printf(&msg, "model '%s' not found", chat->model); break;
	case 429: buf_puts(&msg, "fakeserver: simulated rate limit"); break;
	case 500: buf_puts(&msg, "an error was encountered while running the model"); break;
	case 503: buf_puts(&msg, "server busy, please try again.  maximum pending requests exceeded"); break;
	default: buf_printf(&msg, "fakeserver: simulated HTTP %d", status); break;
	}
	fs_wire_echo(chat, &msg);
	if (status == 401 && chat->echo.len == 0) {
		buf_puts(b, "{\"error\":\"unauthorized\",\"signin_url\":\"https://ollama.com/connect\"}");
	} else {
		buf_puts(b, "{\"error\":");
		fs_json(b, buf_str(&msg));
		buf_putc(b, '}');
	}
	if (chat->m.retry_after[0] != '\0')
		buf_printf(hdrs, "retry-after: %s\r\n", chat->m.retry_after);
	buf_free(&msg);
	return status;
}

static const struct fs_wire fs_wire_ollama = {
	"application/x-ndjson",
	fs_ollama_start, fs_ollama_token, fs_ollama_malformed, fs_ollama_error, fs_ollama_finish,
	fs_ollama_tools, fs_ollama_whole, fs_ollama_http_error,
};

const struct fs_wire *const fs_wires[FS_NPROTO] = {
	[FS_OPENAI] = &fs_wire_openai,
	[FS_ANTHROPIC] = &fs_wire_anthropic,
	[FS_GEMINI] = &fs_wire_gemini,
	[FS_OLLAMA] = &fs_wire_ollama,
};

/* ---- Authentication failures and model lists ---------------------------------------- */

/* The body a provider sends for a missing or wrong key; returns the status (Gemini: 400). */
int
fs_wire_auth_error(enum fs_proto proto, bool missing, struct buf *hdrs, struct buf *b)
{
	switch (proto) {
	case FS_OPENAI:
		if (missing) {
			buf_puts(b, "{\"error\":{\"message\":\"You didn't provide an API key. Send it in "
			    "an Authorization header using Bearer auth.\",\"type\":"
			    "\"invalid_request_error\",\"param\":null,\"code\":null}}");
			return 401;
		}
		buf_puts(b, "{\"error\":{\"message\":\"Incorrect API key provided: sk-****. You can "
		    "find your API key at https://platform.openai.com/account/api-keys.\",\"type\":"
		    "\"invalid_request_error\",\"param\":null,\"code\":\"invalid_api_key\"}}");
		return 401;
	case FS_ANTHROPIC:
		buf_puts(hdrs, "request-id: req_fake_auth\r\n");
		buf_printf(b, "{\"type\":\"error\",\"error\":{\"type\":\"authentication_error\","
		    "\"message\":\"%s\"},\"request_id\":\"req_fake_auth\"}",
		    missing ? "x-api-key header is required" : "invalid x-api-key");
		return 401;
	case FS_GEMINI:
		fs_gemini_error_open(b, 400, "API key not valid. Please pass a valid API key.",
		    "INVALID_ARGUMENT");
		buf_puts(b, ",\n    \"details\": [\n      {\n        \"@type\": \"type.googleapis.com/"
		    "google.rpc.ErrorInfo\",\n        \"reason\": \"API_KEY_INVALID\",\n        "
		    "\"domain\": \"googleapis.com\",\n        \"metadata\": {\"service\": "
		    "\"generativelanguage.googleapis.com\"}\n      }\n    ]\n  }\n}\n");
		return 400;
	default:
		buf_puts(b, "{\"error\":\"unauthorized\",\"signin_url\":\"https://ollama.com/connect\"}");
		return 401;
	}
}

/* One Gemini model entry. */
static void
fs_gemini_model(struct buf *b, const char *id, const char *name, bool chat, bool last)
{
	buf_printf(b, "    {\n      \"name\": \"models/%s\",\n      \"version\": \"001\",\n"
	    "      \"displayName\": \"%s\",\n      \"description\": \"fakeserver model\",\n"
	    "      \"inputTokenLimit\": 1048576,\n      \"outputTokenLimit\": 65536,\n"
	    "      \"supportedGenerationMethods\": [\n        %s\n      ],\n"
	    "      \"temperature\": 1,\n      \"maxTemperature\": 2,\n      \"topP\": 0.95,\n"
	    "      \"topK\": 64\n    }%s\n", id, name,
	    chat ? "\"generateContent\",\n        \"countTokens\"" : "\"embedContent\"",
	    last ? "" : ",");
}

/*
 * The model list for proto (OpenAI, or Anthropic's shape, Gemini's two pages, Ollama tags);
 * returns the status. Gemini pages: no pageToken gives page 1 with nextPageToken "page-2".
 */
int
fs_wire_models(enum fs_proto proto, const struct fs_request *req, struct buf *b)
{
	struct buf token = BUF_INIT;
	int status = 200;

	switch (proto) {
	case FS_OPENAI:
		buf_puts(b, "{\"object\":\"list\",\"data\":["
		    "{\"id\":\"gpt-4o-mini\",\"object\":\"model\",\"created\":1721172741,\"owned_by\":\"system\"},"
		    "{\"id\":\"gpt-4o\",\"object\":\"model\",\"created\":1715367049,\"owned_by\":\"system\"},"
		    "{\"id\":\"o3-mini\",\"object\":\"model\",\"created\":1737146383,\"owned_by\":\"system\"},"
		    "{\"id\":\"fake-model\",\"object\":\"model\",\"created\":1727346168,\"owned_by\":\"fakeserver\"}]}");
		break;
	case FS_ANTHROPIC:
		buf_puts(b, "{\"data\":["
		    "{\"type\":\"model\",\"id\":\"claude-sonnet-4-5\",\"display_name\":\"Claude Sonnet 4.5\",\"created_at\":\"2025-09-29T00:00:00Z\"},"
		    "{\"type\":\"model\",\"id\":\"claude-haiku-4-5\",\"display_name\":\"Claude Haiku 4.5\",\"created_at\":\"2025-10-15T00:00:00Z\"},"
		    "{\"type\":\"model\",\"id\":\"claude-opus-4-1\",\"display_name\":\"Claude Opus 4.1\",\"created_at\":\"2025-08-05T00:00:00Z\"}],"
		    "\"has_more\":false,\"first_id\":\"claude-sonnet-4-5\",\"last_id\":\"claude-opus-4-1\"}");
		break;
	case FS_GEMINI:
		if (!fs_query_get(req, "pageToken", &token) || token.len == 0) {
			buf_puts(b, "{\n  \"models\": [\n");
			fs_gemini_model(b, "gemini-2.5-flash", "Gemini 2.5 Flash", true, false);
			fs_gemini_model(b, "gemini-2.5-pro", "Gemini 2.5 Pro", true, false);
			fs_gemini_model(b, "text-embedding-004", "Text Embedding 004", false, true);
			buf_puts(b, "  ],\n  \"nextPageToken\": \"page-2\"\n}\n");
		} else if (strcmp(buf_str(&token), "page-2") == 0) {
			buf_puts(b, "{\n  \"models\": [\n");
			fs_gemini_model(b, "gemini-2.0-flash", "Gemini 2.0 Flash", true, false);
			fs_gemini_model(b, "gemini-2.5-flash-lite", "Gemini 2.5 Flash-Lite", true, true);
			buf_puts(b, "  ]\n}\n");
		} else {
			fs_gemini_error_open(b, 400, "Invalid page token.", "INVALID_ARGUMENT");
			buf_puts(b, "\n  }\n}\n");
			status = 400;
		}
		break;
	default:
		buf_puts(b, "{\"models\":["
		    "{\"name\":\"llama3.2:latest\",\"model\":\"llama3.2:latest\",\"modified_at\":\"2025-10-26T17:15:24.097767Z\","
		    "\"size\":2019393189,\"digest\":\"a80c4f17acd55265feec403c7aef86be0c25983ab279d83f3bcd3abbcb5b8b72\","
		    "\"details\":{\"parent_model\":\"\",\"format\":\"gguf\",\"family\":\"llama\",\"families\":[\"llama\"],"
		    "\"parameter_size\":\"3.2B\",\"quantization_level\":\"Q4_K_M\"}},"
		    "{\"name\":\"qwen3:8b\",\"model\":\"qwen3:8b\",\"modified_at\":\"2025-10-20T09:00:00.000000Z\","
		    "\"size\":5225388164,\"digest\":\"500a1f067a9f782620b40bee6f7b0c89e17ae61f686b92c24933e4ca4b2b8b41\","
		    "\"details\":{\"parent_model\":\"\",\"format\":\"gguf\",\"family\":\"qwen3\",\"families\":[\"qwen3\"],"
		    "\"parameter_size\":\"8.2B\",\"quantization_level\":\"Q4_K_M\"}}]}");
		break;
	}
	buf_free(&token);
	return status;
}
