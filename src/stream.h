/*
 * One reply being decoded: raw response bytes in, normalized deltas out. A stream joins the
 * framing decoder (SSE or NDJSON) with a protocol adapter and keeps the running result (text,
 * reasoning, finish reason, usage, error, complete). The worker, `natter decode`, the
 * conformance tests and the fuzz targets all decode through this one path.
 *
 * Call order: stream_init, optionally stream_set_status (non-2xx bodies are collected and
 * parsed as an error body at the end), stream_set_max_line and stream_set_whole, stream_feed
 * any number of times with any split, stream_finish once at EOF, read the result fields,
 * stream_free.
 *
 * A whole reply (stream_set_whole, for a request sent with no_stream) is not framed: the 2xx
 * body is collected and the adapter's parse_reply decodes it at stream_finish into the same
 * deltas and result a stream gives. The body is bound by max_line like a line; past it the
 * reply ends as truncated at once and nothing of it is decoded.
 *
 * Two rules hold for every protocol. A line (or an SSE event's data, or a non-2xx body)
 * longer than max_line ends the reply as a truncated stream with an error that says so,
 * and the rest of the input is ignored, so memory stays bounded whatever the server sends.
 * An event that cannot be decoded (not JSON, not an object) is skipped and decoding goes
 * on; the adapter reports it with stream_skip, and stream_warning gives the count and the
 * first reason for the reader.
 */
#ifndef NATTER_STREAM_H
#define NATTER_STREAM_H

#include <stddef.h>

#include "buf.h"
#include "http.h"
#include "ndjson.h"
#include "sse.h"
#include "toolcall.h"
#include "usage.h"

struct apierr;
struct proto;

/* The default cap on one line or event: far above any real chunk (Gemini's run to a few
 * hundred KB, the Ollama Go client allows 8 MB), far below what would hurt. */
#define STREAM_MAX_LINE ((size_t)16 << 20)

enum delta_kind {
	DELTA_TEXT,      /* answer text (untrusted UTF-8) */
	DELTA_REASONING, /* reasoning / thinking text */
	DELTA_USAGE,     /* usage so far (the merged totals) */
	DELTA_FINISH,    /* the provider's finish reason */
	DELTA_ERROR,     /* an error; at most one per stream */
	DELTA_TOOL_CALL, /* one whole tool call (toolcall.h), reported once */
};

struct delta {
	enum delta_kind kind;
	const char *text;            /* TEXT, REASONING */
	size_t len;
	const struct usage *usage;   /* USAGE */
	const char *finish_reason;   /* FINISH */
	const struct apierr *error;  /* ERROR */
	const struct toolcall *call; /* TOOL_CALL: valid during the callback */
};

typedef void (*stream_delta_fn)(void *ud, const struct delta *d);

struct stream {
	const struct proto *proto;
	struct sse sse;
	struct ndjson nd;
	stream_delta_fn fn;          /* may be NULL */
	void *ud;
	int status;                  /* HTTP status; 200 unless set */
	struct http_headers headers; /* response headers (copied) */
	struct buf body;             /* raw body for error statuses and whole replies; for SSE
	                              * also the start of the body until the first event, to
	                              * recognise a plain JSON error sent with status 200 */
	int whole;                   /* a whole reply: the 2xx body goes to parse_reply */
	int body_overflow;           /* a whole reply's body went over max_line */

	/* The result so far. */
	struct buf text;
	struct buf reasoning;
	char *finish_reason;         /* provider-native, NULL when none */
	struct usage usage;
	struct apierr *error;        /* first error, NULL when none */
	int terminated;              /* the protocol terminator was seen */
	int complete;                /* decided at stream_finish */
	int finished;                /* stream_finish was called */
	int eof_partial;             /* input ended inside an unfinished event or line */
	size_t nevents;              /* events handed to the adapter */
	int keep_text;               /* accumulate text/reasoning (default 1) */
	size_t ntext_deltas;         /* count of text + reasoning deltas */
	size_t max_line;             /* cap on a line, an event or an error body, in bytes */
	size_t nskipped;             /* malformed events skipped */
	char *skip_first;            /* why the first one was skipped, with an excerpt */

	/* Adapter scratch state. */
	int think_state;             /* inline <think> tag machine (OpenAI-compatible) */
	struct buf think_pending;    /* bytes held back while a tag might be forming */
	int saw_reasoning_content;   /* OpenAI: reasoning_content seen, ignore "reasoning" */
	int no_fast_path;            /* decode every event with cJSON (tests compare both) */
	struct buf scratch;          /* adapter scratch for unescaped strings */
	struct buf shape;            /* the last fast text event's bytes around its string */
	size_t shape_head;           /* bytes of shape before the text (through its '"') */
	size_t shape_hits;           /* events decoded through the shape cache */
	char shape_event[32];        /* the SSE event name it came under ("" for none) */
	int shape_reasoning;         /* its string was reasoning */
	int shape_has_usage;         /* it carried counts, kept in shape_usage */
	struct usage shape_usage;
	size_t fast_events;          /* Anthropic, Gemini, Ollama: events the fast path took */

	/* Anthropic's signed thinking (protocols.md §A.2), sent back with the next request
	 * so the model sees its own reasoning: the signature stands for one whole thinking
	 * block, so a reply with more than one, or a redacted one, has none usable. */
	struct buf signature;        /* what signature_delta (or a whole block) carried */
	int nthinking;               /* thinking blocks begun */
	int thinking_unsigned;       /* a redacted_thinking block: nothing can be resent */
	struct toolacc tools;        /* the reply's tool calls, whole ones first */
	size_t ntools_reported;      /* of them, reported as DELTA_TOOL_CALL */
};

void stream_init(struct stream *s, const struct proto *p, stream_delta_fn fn, void *ud);
/* Finish the tool calls collected so far (toolacc_finish) and report each new one as a
 * DELTA_TOOL_CALL; adapters call it when calls are whole, stream_finish at the end. */
void stream_tool_calls(struct stream *s);
/* Append one call as {"id","name","arguments"} (arguments as the object they parse to). */
void stream_tool_call_json(const struct toolcall *c, struct buf *out);
void stream_set_status(struct stream *s, int status, const struct http_headers *h);
/* Cap lines and events at n bytes (0: STREAM_MAX_LINE). Call before the first feed. */
void stream_set_max_line(struct stream *s, size_t n);
/* Decode a 2xx body as one whole reply (see above). Call before the first feed. */
void stream_set_whole(struct stream *s);
void stream_feed(struct stream *s, const char *p, size_t n);
void stream_finish(struct stream *s);
void stream_free(struct stream *s);

/* For adapters: report a delta (updates the result and calls fn). */
void stream_text(struct stream *s, const char *p, size_t n);
void stream_reasoning(struct stream *s, const char *p, size_t n);
/* Append to the signature of the reply's thinking (Anthropic signature_delta). */
void stream_signature(struct stream *s, const char *p, size_t n);
/* The signature that stands for the whole reasoning of a finished reply, or NULL: none
 * came, or the thinking was more than one block or partly redacted. */
const char *stream_signed(const struct stream *s);
/* FNV-1a over n bytes, continuing from h (STREAM_HASH_INIT to start): checks that the
 * reasoning stored is the reasoning a signature was made for. */
#define STREAM_HASH_INIT 0xcbf29ce484222325ULL
unsigned long long stream_hash(unsigned long long h, const char *p, size_t n);
/* Merge u into the usage: fields >= 0 in u replace the stored ones. */
void stream_usage(struct stream *s, const struct usage *u);
void stream_finish_reason(struct stream *s, const char *reason);
/* Record an error; takes ownership. The first error wins, later ones are freed. */
void stream_error(struct stream *s, struct apierr *e);
/* An event the adapter could not decode is skipped: count it, keep why (a short phrase
 * such as "not JSON") with an excerpt of data for the first one. */
void stream_skip(struct stream *s, const char *why, const char *data, size_t len);
/* What the reader should know about a reply that was otherwise decoded (events skipped),
 * as one line; NULL when there is nothing to say. Caller frees. */
char *stream_warning(const struct stream *s);
/* A byte count as "16 MiB", "512 KiB" or "100 bytes", for messages. Caller frees. */
char *stream_size_text(size_t n);

/* The result as a JSON object, the same shape as "expected" in stream-vectors.json; the
 * error (when there is one) is the full form, with natter's class and the request id. */
void stream_summary_json(const struct stream *s, struct buf *out);
/* A usage object with only the reported counts. */
void stream_usage_json(const struct usage *u, struct buf *out);
/* One error as a JSON object in that shape; full adds "class" and "request_id". */
void stream_error_json(const struct apierr *e, int full, struct buf *out);

#endif
