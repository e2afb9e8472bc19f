/*
 * The protocol adapter table. Each wire protocol (OpenAI Chat Completions and its compatible
 * servers, Anthropic Messages, Gemini, Ollama native, and the offline simulator) is one
 * struct proto of function pointers: build the request, map one decoded event to normalized
 * deltas, decide completeness at EOF, decode a whole non-streaming reply, parse an error
 * body, and list models. A provider that speaks an existing protocol needs no code, only
 * config.
 */
#ifndef NATTER_PROTO_H
#define NATTER_PROTO_H

#include <stddef.h>

struct apierr;
struct http_headers;
struct params;
struct http_req;
struct provider;
struct request;
struct stream;

enum proto_framing {
	FRAMING_SSE,    /* text/event-stream */
	FRAMING_NDJSON, /* one JSON object per line */
	FRAMING_NONE,   /* no network (simulated) */
};

struct model_info {
	char *id;            /* what goes into requests */
	char *display_name;  /* may be NULL */
	long context_window; /* tokens, 0 when unknown */
	long max_output;     /* tokens, 0 when unknown */
};

struct model_list {
	struct model_info *v;
	size_t n;
};

struct proto {
	const char *name;
	enum proto_framing framing;
	/* Build the chat request for req: streaming, or with req->no_stream the form that
	 * answers with one JSON body. */
	void (*build_chat)(const struct request *req, struct http_req *out);
	/* Refuse, before anything is sent, a combination of the parameters set in p that
	 * the API rejects for model id (name is what the user calls it, for the message);
	 * 0, or -1 with *err (caller frees). NULL when the protocol has no such rules. */
	int (*check_params)(const char *id, const char *name, const struct params *p,
	    char **err);
	/* Handle one decoded event: SSE type and data, or an NDJSON line (event NULL). */
	void (*on_event)(struct stream *s, const char *event, const char *data, size_t len);
	/* Input ended: decide complete versus truncated. */
	void (*on_eof)(struct stream *s);
	/* Decode the whole 2xx body of a no_stream request (stream_set_whole; stream_finish
	 * calls it once, before on_eof) into the same deltas on_event gives for a stream:
	 * reasoning, text, usage, the finish reason, and s->terminated when the body is a
	 * finished reply. An error object in the body becomes the stream's error; a body that
	 * is not the protocol's reply (not JSON, the wrong shape) is an APIERR_STREAM error
	 * that quotes it (proto_reply_malformed), never a skipped event or a crash. */
	void (*parse_reply)(struct stream *s, const char *body, size_t len);
	/* Fill e from a non-2xx body; e->status and e->kind are already set. */
	void (*parse_error)(const char *body, size_t len, const struct http_headers *h,
	    struct apierr *e);
	/* Build the model-listing request; page is NULL for the first page. */
	void (*build_models)(const struct provider *p, const char *page, struct http_req *out);
	/* Parse one page of models into out (appending); *next gets the next page token or
	 * NULL. Returns 0, or -1 when the body is not a model list. */
	int (*parse_models)(const char *body, size_t len, struct model_list *out, char **next);
};

extern const struct proto proto_openai;
extern const struct proto proto_anthropic;
extern const struct proto proto_gemini;
extern const struct proto proto_ollama;
extern const struct proto proto_simulated;

/* The adapter for a protocol name, or NULL. */
const struct proto *proto_find(const char *name);
void model_list_free(struct model_list *l);

/* Helpers shared by the adapters (src/proto.c). */
struct cJSON;
/* Parse len bytes as JSON (trailing whitespace allowed); NULL when it is not JSON. An
 * unpaired surrogate escape, \u0000 or a raw NUL becomes U+FFFD, so no text is cut off. */
struct cJSON *proto_json_parse(const char *data, size_t len);
/* The same for a document that must be the whole of data (a whole reply): NULL when more
 * than whitespace follows the value, such as a second line of a stream. */
struct cJSON *proto_json_parse_whole(const char *data, size_t len);
/* obj[key] when it is a string, else NULL. */
const char *proto_json_string(const struct cJSON *obj, const char *key);
/* Store obj[key] in *out when it is a number; returns 1 when it was. */
int proto_json_long(const struct cJSON *obj, const char *key, long *out);
/* Fill e from an error object ({message, type|status, code, details, ...}). */
void proto_error_from_json(struct apierr *e, const struct cJSON *err);
/* Fill e from any error body natter knows (OpenAI, Anthropic, Gemini incl. one-element
 * arrays, Ollama, vLLM), falling back to the body's first line for non-JSON bodies. */
void proto_error_body(const char *body, size_t len, struct apierr *e);
/* The first non-blank line of body, trimmed, controls removed, at most ~300 bytes. */
char *proto_body_excerpt(const char *body, size_t len);
/* Report an error found inside a 200 stream: classify it and hand it to the stream. */
void proto_stream_error(struct stream *s, struct apierr *e);
/* For parse_reply: the 200 body is not the protocol's reply (why: "not JSON", "not a chat
 * completion", ...); report that, with an excerpt of body, as the stream's error. */
void proto_reply_malformed(struct stream *s, const char *why, const char *body, size_t len);
/* Content-Type (when there is a body) and Accept headers. */
void proto_common_headers(struct http_req *out, const char *accept);
/* The provider's extra headers, added after the adapter's own so that they come last. */
void proto_extra_headers(const struct provider *p, struct http_req *out);
/* Serialise root as the request body and free root. */
void proto_set_body(struct http_req *out, struct cJSON *root);
/* Append one model to a list. */
void model_list_add(struct model_list *l, const char *id, const char *display_name,
    long context_window, long max_output);
/* Percent-encode s for a URL query value. Caller frees. */
char *proto_url_escape(const char *s);

/* Attachments (proto-attach.c). An adapter puts proto_mark's placeholder string where a
 * file's base64 goes and ends with proto_set_body_marked, which writes each file's bytes
 * into the body once, in place. */
struct attach;
struct message;
struct proto_mark {
	const struct attach *a;
	int url;                 /* "data:MIME;base64,..." rather than the bare base64 */
};
struct proto_marks {
	char nonce[24];
	struct proto_mark *v;
	size_t n;
};
void proto_marks_init(struct proto_marks *pm);
/* A JSON string standing for a's base64 (its data URL when url is set). */
struct cJSON *proto_mark(struct proto_marks *pm, const struct attach *a, int url);
/* Serialise root as the body with every placeholder replaced; frees root and pm's. */
void proto_set_body_marked(struct http_req *out, struct cJSON *root, struct proto_marks *pm);
/* Append the text message m goes as: its content, then each of its files that go as text
 * as a fenced block headed by the file's name. */
struct buf;
void proto_attach_text(const struct message *m, struct buf *out);
/* Whether one file goes in the protocol's own form (not as text, not omitted). */
struct request_attach;
int proto_attach_is_native(const struct request_attach *ra);
/* How many of m's files go in the protocol's own form (not as text). */
size_t proto_attach_native(const struct message *m);

/* The messages array (and the tools) in OpenAI's shape, or Ollama's when ollama is set:
 * tool calls with object arguments and results named by tool_name rather than an id; a
 * user message's files as content parts (OpenAI) or its images array (Ollama). */
void proto_json_messages(struct cJSON *root, const struct request *req, int ollama,
    struct proto_marks *pm);
/* The tools array in OpenAI's (and Ollama's) shape; nothing when the request has none. */
void proto_json_tools(struct cJSON *root, const struct request *req);
struct msg_call;
struct request_tool;
/* A call's arguments, and a tool's parameter schema, as JSON objects (caller deletes). */
struct cJSON *proto_call_args(const struct msg_call *c);
struct cJSON *proto_tool_schema(const struct request_tool *t);
/* One tool declared as {name, description, <schema_key>: its schema}. */
struct cJSON *proto_tool_decl(const struct request_tool *t, const char *schema_key);
/* A paginated model-list GET: {base}/QUERY, plus &PAGE_PARAM=page when page is set. */
void proto_models_get(const struct provider *p, const char *query, const char *page_param,
    const char *page, struct http_req *out);
/* Shared table entries: complete when the terminator came and nothing failed; and the one
 * tolerant error-body parser that knows every provider's shape. */
void proto_eof_terminated(struct stream *s);
/* What a provider-native finish reason means to the reader when the reply did not end
 * normally (a length limit, a content filter, a tool call natter does not run), or NULL
 * for an ordinary end. */
const char *proto_finish_note(const char *reason);
void proto_parse_error(const char *body, size_t len, const struct http_headers *h,
    struct apierr *e);

/* Fast-path helpers for the adapters' jscan decoders (src/jscan.h). proto_fast_emit
 * reports a string token as text (or reasoning), unescaping it into s->scratch when
 * needed; 0 when the scanner cannot decode it (then the event goes through cJSON).
 * proto_fast_count reads a plain non-negative integer of at most 15 digits, the only
 * numbers whose value the fast paths trust; 0 on anything else. */
struct jscan;
struct jscan_str;
int proto_fast_emit(struct stream *s, const struct jscan_str *t, int reasoning);
int proto_fast_count(struct jscan *j, long *out);

/* The shape cache. A provider sends nearly every event of a reply with the same bytes
 * around its one string (ids, model, nesting, often the counts). An event that matches
 * the last fully checked one byte for byte up to its string's opening quote, and again
 * from the closing quote to the end, under the same event name, parses to the same
 * structure, so only the new string needs scanning. proto_shape_keep records a checked
 * event (t points into data; the adapter sets shape_reasoning and shape_usage for what
 * else it carried); proto_shape_match tries one and gives its string. */
void proto_shape_keep(struct stream *s, const char *event, const char *data, size_t len,
    const struct jscan_str *t);
int proto_shape_match(struct stream *s, const char *event, const char *data, size_t len,
    struct jscan_str *t);
/* Decode an event through the shape cache as the adapter's fast path would (its string
 * as text or reasoning, then its counts); 0 when it does not match. */
int proto_shape_hit(struct stream *s, const char *event, const char *data, size_t len);

#endif
