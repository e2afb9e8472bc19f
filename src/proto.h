/*
 * The protocol adapter table. Each wire protocol (OpenAI Chat Completions and its compatible
 * servers, Anthropic Messages, Gemini, Ollama native, and the offline simulator) is one
 * struct proto of function pointers: build the request, map one decoded event to normalized
 * deltas, decide completeness at EOF, parse an error body, and list models. A provider that
 * speaks an existing protocol needs no code, only config.
 */
#ifndef NATTER_PROTO_H
#define NATTER_PROTO_H

#include <stddef.h>

struct apierr;
struct http_headers;
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
	/* Build the streaming chat request for req. */
	void (*build_chat)(const struct request *req, struct http_req *out);
	/* Handle one decoded event: SSE type and data, or an NDJSON line (event NULL). */
	void (*on_event)(struct stream *s, const char *event, const char *data, size_t len);
	/* Input ended: decide complete versus truncated. */
	void (*on_eof)(struct stream *s);
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

#endif
