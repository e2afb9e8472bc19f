/*
 * One reply being decoded: the glue between the framing decoders (SSE, NDJSON) and a
 * protocol adapter, and the keeper of the running result. Every consumer (worker, `natter
 * decode`, conformance tests, fuzzers) goes through here, so the rules that are not specific
 * to one protocol live here: a non-2xx body is collected whole and parsed as an error at the
 * end, as is the 2xx body of a whole (non-streaming) reply by the adapter's parse_reply, the
 * first error wins and stops further decoding, completeness is only granted when the
 * adapter saw its terminator and nothing went wrong, a line (or a whole reply) over the cap
 * ends the reply, and an event the adapter cannot decode is skipped, counted and explained.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "apierr.h"
#include "json.h"
#include "proto.h"
#include "stream.h"
#include "xmalloc.h"

/* How much of an SSE body is kept until its first event, to recognise a JSON error body
 * that a server sent with status 200 and no SSE framing. */
#define STREAM_SNIFF_MAX 65536
/* Bytes of a skipped event quoted in the warning: from its start and from its end. */
#define STREAM_SKIP_HEAD 40
#define STREAM_SKIP_TAIL 30

/* True when the status means the body is a normal stream. */
static int
stream_status_ok(int status)
{
	return status >= 200 && status <= 299;
}

/* Hand one SSE event to the adapter; nothing counts after an error. */
static void
stream_on_sse(void *ud, const char *event, const char *data, size_t len)
{
	struct stream *s = ud;

	s->nevents++;
	if (s->error == NULL) {
		json_arena_begin();
		s->proto->on_event(s, event, data, len);
		json_arena_end();
	}
}

/* Hand one NDJSON line to the adapter; nothing counts after an error. */
static void
stream_on_line(void *ud, const char *line, size_t len)
{
	struct stream *s = ud;

	s->nevents++;
	if (s->error == NULL) {
		json_arena_begin();
		s->proto->on_event(s, NULL, line, len);
		json_arena_end();
	}
}

/* Prepare s to decode a reply spoken in protocol p; fn (may be NULL) sees every delta. */
void
stream_init(struct stream *s, const struct proto *p, stream_delta_fn fn, void *ud)
{
	memset(s, 0, sizeof *s);
	s->proto = p;
	s->fn = fn;
	s->ud = ud;
	s->status = 200;
	s->keep_text = 1;
	usage_clear(&s->usage);
	sse_init(&s->sse, stream_on_sse, s);
	ndjson_init(&s->nd, stream_on_line, s);
	stream_set_max_line(s, 0);
}

/* Cap lines, events and error bodies at n bytes (0: the default). */
void
stream_set_max_line(struct stream *s, size_t n)
{
	s->max_line = n > 0 ? n : STREAM_MAX_LINE;
	s->sse.max_line = s->max_line;
	s->nd.max_line = s->max_line;
}

/* A byte count in the largest unit that divides it, for messages. */
char *
stream_size_text(size_t n)
{
	if (n >= ((size_t)1 << 20) && n % ((size_t)1 << 20) == 0)
		return xasprintf("%zu MiB", n >> 20);
	if (n >= 1024 && n % 1024 == 0)
		return xasprintf("%zu KiB", n >> 10);
	return xasprintf("%zu bytes", n);
}

/* Decode the 2xx body as one whole reply (a no_stream request). */
void
stream_set_whole(struct stream *s)
{
	s->whole = 1;
}

/* The framing decoder gave up on a line over the cap, or a whole reply's body grew past
 * it: end the reply, saying why. */
static void
stream_overflow(struct stream *s)
{
	char *size = stream_size_text(s->max_line), *msg;
	struct apierr *e;

	if (s->whole)
		msg = xasprintf("the provider sent a reply longer than %s (max_line); it was not "
		    "read to the end", size);
	else
		msg = xasprintf("the provider sent a line longer than %s (max_line); the reply is "
		    "cut off there", size);
	e = apierr_new(APIERR_STREAM, APIERR_TRUNCATED, msg);
	/* The same request would get the same line again. */
	e->retryable = 0;
	free(msg);
	free(size);
	stream_error(s, e);
}

/* Record the HTTP status and copy the response headers (h may be NULL). */
void
stream_set_status(struct stream *s, int status, const struct http_headers *h)
{
	size_t i;

	s->status = status > 0 ? status : 200;
	http_headers_clear(&s->headers);
	if (h == NULL)
		return;
	for (i = 0; i < h->n; i++)
		http_headers_add(&s->headers, h->v[i].name, h->v[i].value);
}

/* Collect n bytes of a whole reply; past max_line the body is dropped and the reply is
 * over, so memory stays bounded whatever the server sends. */
static void
stream_feed_whole(struct stream *s, const char *p, size_t n)
{
	if (s->body_overflow)
		return;
	if (n > s->max_line - s->body.len) {
		s->body_overflow = 1;
		buf_free(&s->body);
		if (s->error == NULL)
			stream_overflow(s);
		return;
	}
	buf_append(&s->body, p, n);
}

/* Feed n raw body bytes, split anywhere. */
void
stream_feed(struct stream *s, const char *p, size_t n)
{
	if (s->finished || n == 0)
		return;
	if (!stream_status_ok(s->status)) {
		/* An error body is read for its message; past the cap it is only noise. */
		if (s->body.len < s->max_line)
			buf_append(&s->body, p, n < s->max_line - s->body.len ? n :
			    s->max_line - s->body.len);
		return;
	}
	if (s->whole) {
		stream_feed_whole(s, p, n);
		return;
	}
	switch (s->proto->framing) {
	case FRAMING_SSE:
		if (s->nevents == 0 && s->body.len < STREAM_SNIFF_MAX) {
			size_t k = STREAM_SNIFF_MAX - s->body.len;

			buf_append(&s->body, p, n < k ? n : k);
		}
		sse_feed(&s->sse, p, n);
		if (s->sse.overflow && s->error == NULL)
			stream_overflow(s);
		break;
	case FRAMING_NDJSON:
		ndjson_feed(&s->nd, p, n);
		if (s->nd.overflow && s->error == NULL)
			stream_overflow(s);
		break;
	case FRAMING_NONE:
		if (s->error == NULL)
			s->proto->on_event(s, NULL, p, n);
		break;
	}
}

/* Turn the collected non-2xx body into the stream's error. */
static void
stream_http_error(struct stream *s)
{
	struct apierr *e = apierr_new(APIERR_HTTP, APIERR_OTHER, NULL);
	const char *v;

	e->status = s->status;
	s->proto->parse_error(s->body.data != NULL ? s->body.data : "", s->body.len,
	    &s->headers, e);
	/* Gemini puts the delay in the body (RetryInfo); everyone else uses headers. */
	if (e->retry_after_s < 0)
		e->retry_after_s = http_retry_after(&s->headers);
	if (e->request_id == NULL && (v = http_request_id(&s->headers)) != NULL)
		e->request_id = xstrdup(v);
	apierr_classify(e);
	if ((v = http_headers_get(&s->headers, "x-should-retry")) != NULL) {
		if (strcasecmp(v, "true") == 0)
			e->retryable = 1;
		else if (strcasecmp(v, "false") == 0)
			e->retryable = 0;
	}
	stream_error(s, e);
}

/* A 200 body with no SSE event that is a JSON object or array (some compatible servers
 * answer errors that way) becomes a stream error with the provider's message instead of
 * an unexplained truncated reply. */
static void
stream_sniff_json_error(struct stream *s)
{
	struct apierr *e;
	size_t i = 0;

	while (i < s->body.len && (s->body.data[i] == ' ' || s->body.data[i] == '\t' ||
	    s->body.data[i] == '\r' || s->body.data[i] == '\n'))
		i++;
	if (i >= s->body.len || (s->body.data[i] != '{' && s->body.data[i] != '['))
		return;
	e = apierr_new(APIERR_STREAM, APIERR_OTHER, NULL);
	s->proto->parse_error(s->body.data, s->body.len, &s->headers, e);
	apierr_classify(e);
	stream_error(s, e);
}

/* End of input: flush the decoder, let the adapter judge completeness. */
void
stream_finish(struct stream *s)
{
	if (s->finished)
		return;
	s->finished = 1;
	if (!stream_status_ok(s->status)) {
		stream_http_error(s);
		s->complete = 0;
		return;
	}
	if (s->whole) {
		/* After an overflow there is no body left to decode. */
		if (s->error == NULL) {
			s->nevents++;
			json_arena_begin();
			s->proto->parse_reply(s, s->body.data != NULL ? s->body.data : "",
			    s->body.len);
			json_arena_end();
		}
	} else {
		switch (s->proto->framing) {
		case FRAMING_SSE:
			s->eof_partial = sse_finish(&s->sse);
			if (s->nevents == 0)
				stream_sniff_json_error(s);
			break;
		case FRAMING_NDJSON:
			ndjson_finish(&s->nd);
			break;
		case FRAMING_NONE:
			break;
		}
	}
	s->complete = 0;
	if (s->proto->on_eof != NULL)
		s->proto->on_eof(s);
	/* Calls a stream left open are whole now, or never. */
	stream_tool_calls(s);
	if (s->error != NULL)
		s->complete = 0;
}

/* Release everything s owns. */
void
stream_free(struct stream *s)
{
	sse_free(&s->sse);
	ndjson_free(&s->nd);
	http_headers_clear(&s->headers);
	buf_free(&s->body);
	buf_free(&s->text);
	buf_free(&s->reasoning);
	free(s->finish_reason);
	s->finish_reason = NULL;
	apierr_free(s->error);
	s->error = NULL;
	buf_free(&s->think_pending);
	buf_free(&s->scratch);
	buf_free(&s->shape);
	buf_free(&s->signature);
	toolacc_free(&s->tools);
	free(s->skip_first);
	s->skip_first = NULL;
}

/* Report answer text. */
void
stream_text(struct stream *s, const char *p, size_t n)
{
	struct delta d = { .kind = DELTA_TEXT, .text = p, .len = n };

	if (n == 0)
		return;
	if (s->keep_text)
		buf_append(&s->text, p, n);
	s->ntext_deltas++;
	if (s->fn != NULL)
		s->fn(s->ud, &d);
}

/* Report reasoning text. */
void
stream_reasoning(struct stream *s, const char *p, size_t n)
{
	struct delta d = { .kind = DELTA_REASONING, .text = p, .len = n };

	if (n == 0)
		return;
	if (s->keep_text)
		buf_append(&s->reasoning, p, n);
	s->ntext_deltas++;
	if (s->fn != NULL)
		s->fn(s->ud, &d);
}

/* Keep the thinking's signature; it is opaque and never shown. */
void
stream_signature(struct stream *s, const char *p, size_t n)
{
	buf_append(&s->signature, p, n);
}

/* The signature of the reply's one thinking block, when it has exactly one. */
const char *
stream_signed(const struct stream *s)
{
	if (s->signature.len == 0 || s->nthinking != 1 || s->thinking_unsigned)
		return NULL;
	return buf_str(&s->signature);
}

/* Continue an FNV-1a hash over n bytes. */
unsigned long long
stream_hash(unsigned long long h, const char *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		h ^= (unsigned char)p[i];
		h *= 0x100000001b3ULL;
	}
	return h;
}

/* Merge reported counts into the usage and report the merged totals. */
void
stream_usage(struct stream *s, const struct usage *u)
{
	struct delta d = { .kind = DELTA_USAGE, .usage = &s->usage };

	if (!usage_present(u))
		return;
	if (u->input_tokens >= 0)
		s->usage.input_tokens = u->input_tokens;
	if (u->output_tokens >= 0)
		s->usage.output_tokens = u->output_tokens;
	if (u->total_tokens >= 0)
		s->usage.total_tokens = u->total_tokens;
	if (u->reasoning_tokens >= 0)
		s->usage.reasoning_tokens = u->reasoning_tokens;
	if (s->fn != NULL)
		s->fn(s->ud, &d);
}

/* One tool call as {"id","name","arguments"}: arguments that are one JSON object go as
 * that object, others as their text. */
void
stream_tool_call_json(const struct toolcall *c, struct buf *out)
{
	buf_puts(out, "{\"id\":");
	buf_json_string(out, c->id, strlen(c->id));
	buf_puts(out, ",\"name\":");
	buf_json_string(out, c->name, strlen(c->name));
	buf_puts(out, ",\"arguments\":");
	if (c->bad_args)
		buf_json_string(out, c->args.data, c->args.len);
	else
		buf_puts(out, toolcall_args(c));
	buf_putc(out, '}');
}

/* Finish the collected tool calls and report the new ones. */
void
stream_tool_calls(struct stream *s)
{
	struct delta d = { .kind = DELTA_TOOL_CALL };

	toolacc_finish(&s->tools);
	for (; s->ntools_reported < s->tools.n; s->ntools_reported++) {
		d.call = &s->tools.v[s->ntools_reported];
		if (s->fn != NULL)
			s->fn(s->ud, &d);
	}
}

/* Record the provider's finish reason (the last one reported wins). */
void
stream_finish_reason(struct stream *s, const char *reason)
{
	struct delta d = { .kind = DELTA_FINISH };

	if (reason == NULL)
		return;
	free(s->finish_reason);
	s->finish_reason = xstrdup(reason);
	d.finish_reason = s->finish_reason;
	if (s->fn != NULL)
		s->fn(s->ud, &d);
}

/* Record an error (taking ownership); only the first one is kept and reported. */
void
stream_error(struct stream *s, struct apierr *e)
{
	struct delta d = { .kind = DELTA_ERROR };

	if (e == NULL)
		return;
	if (s->error != NULL) {
		apierr_free(e);
		return;
	}
	s->error = e;
	d.error = e;
	if (s->fn != NULL)
		s->fn(s->ud, &d);
}

/* Count an event the adapter could not decode; the first one's reason is kept with an
 * excerpt: its start says what kind of event it was, its end where it broke off. */
void
stream_skip(struct stream *s, const char *why, const char *data, size_t len)
{
	char *x;
	size_t n, head = STREAM_SKIP_HEAD, tail;

	if (s->nskipped++ > 0)
		return;
	x = proto_body_excerpt(data, len);
	n = strlen(x);
	if (n == 0) {
		s->skip_first = xstrdup(why);
	} else if (n <= STREAM_SKIP_HEAD + STREAM_SKIP_TAIL + 8) {
		s->skip_first = xasprintf("%s: %s", why, x);
	} else {
		/* Cut at the start of UTF-8 sequences so both pieces stay valid text. */
		while (head > 0 && ((unsigned char)x[head] & 0xc0) == 0x80)
			head--;
		tail = n - STREAM_SKIP_TAIL;
		while (tail < n && ((unsigned char)x[tail] & 0xc0) == 0x80)
			tail++;
		s->skip_first = xasprintf("%s: %.*s…%s", why, (int)head, x, x + tail);
	}
	free(x);
}

/* One line about the skipped events, or NULL when none were skipped. */
char *
stream_warning(const struct stream *s)
{
	if (s->nskipped == 0)
		return NULL;
	if (s->nskipped == 1)
		return xasprintf("skipped a malformed event from the provider (%s)",
		    s->skip_first != NULL ? s->skip_first : "unreadable");
	return xasprintf("skipped %zu malformed events from the provider (the first: %s)",
	    s->nskipped, s->skip_first != NULL ? s->skip_first : "unreadable");
}

/* Append a JSON string member "key": value (value may be NULL: nothing is written). */
static void
stream_json_str(struct buf *out, const char *key, const char *value)
{
	if (value == NULL)
		return;
	buf_printf(out, ",\"%s\":", key);
	buf_json_string(out, value, strlen(value));
}

/* The usage object with only the reported fields. */
void
stream_usage_json(const struct usage *u, struct buf *out)
{
	const char *sep = "";

	buf_putc(out, '{');
	if (u->input_tokens >= 0) {
		buf_printf(out, "%s\"input_tokens\":%ld", sep, u->input_tokens);
		sep = ",";
	}
	if (u->output_tokens >= 0) {
		buf_printf(out, "%s\"output_tokens\":%ld", sep, u->output_tokens);
		sep = ",";
	}
	if (u->total_tokens >= 0) {
		buf_printf(out, "%s\"total_tokens\":%ld", sep, u->total_tokens);
		sep = ",";
	}
	if (u->reasoning_tokens >= 0)
		buf_printf(out, "%s\"reasoning_tokens\":%ld", sep, u->reasoning_tokens);
	buf_putc(out, '}');
}

/* The error object with only the known fields, as stream-vectors.json spells them; full
 * adds natter's class and the request id. */
void
stream_error_json(const struct apierr *e, int full, struct buf *out)
{
	buf_puts(out, "{\"kind\":");
	buf_json_string(out, apierr_kind_name(e->kind), strlen(apierr_kind_name(e->kind)));
	if (full) {
		buf_puts(out, ",\"class\":");
		buf_json_string(out, apierr_class_name(e->cls), strlen(apierr_class_name(e->cls)));
	}
	if (e->status > 0)
		buf_printf(out, ",\"status\":%d", e->status);
	stream_json_str(out, "type", e->type);
	if (e->code != NULL) {
		char *end;

		/* Print as a number only what really is one, so the JSON stays valid. */
		if (e->code_is_number && e->code[0] != '\0' && (strtod(e->code, &end), *end == '\0'))
			buf_printf(out, ",\"code\":%s", e->code);
		else
			stream_json_str(out, "code", e->code);
	}
	stream_json_str(out, "reason", e->reason);
	stream_json_str(out, "message", e->message != NULL ? e->message : "");
	if (full)
		stream_json_str(out, "request_id", e->request_id);
	if (e->retryable >= 0)
		buf_printf(out, ",\"retryable\":%s", e->retryable ? "true" : "false");
	if (e->retry_after_s >= 0)
		buf_printf(out, ",\"retry_after_s\":%.6g", e->retry_after_s);
	buf_putc(out, '}');
}

/* The result as one JSON object shaped like "expected" in stream-vectors.json; its error
 * is the full object an error event prints (with class and request id), so a reader of
 * `natter decode` finds the same fields in both. */
void
stream_summary_json(const struct stream *s, struct buf *out)
{
	buf_puts(out, "{\"text\":");
	buf_json_string(out, buf_str(&s->text), s->text.len);
	if (s->reasoning.len > 0) {
		buf_puts(out, ",\"reasoning\":");
		buf_json_string(out, s->reasoning.data, s->reasoning.len);
	}
	buf_puts(out, ",\"finish_reason\":");
	if (s->finish_reason != NULL)
		buf_json_string(out, s->finish_reason, strlen(s->finish_reason));
	else
		buf_puts(out, "null");
	if (usage_present(&s->usage)) {
		buf_puts(out, ",\"usage\":");
		stream_usage_json(&s->usage, out);
	}
	if (s->error != NULL) {
		buf_puts(out, ",\"error\":");
		stream_error_json(s->error, 1, out);
	}
	if (s->tools.n > 0) {
		size_t i;

		buf_puts(out, ",\"tool_calls\":[");
		for (i = 0; i < s->tools.n; i++) {
			if (i > 0)
				buf_putc(out, ',');
			stream_tool_call_json(&s->tools.v[i], out);
		}
		buf_putc(out, ']');
	}
	if (s->nskipped > 0) {
		char *w = stream_warning(s);

		buf_printf(out, ",\"skipped\":%zu", s->nskipped);
		stream_json_str(out, "warning", w);
		free(w);
	}
	buf_printf(out, ",\"complete\":%s}", s->complete ? "true" : "false");
}
