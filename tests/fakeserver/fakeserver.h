/*
 * Internal interface of the fake provider server, shared by its five source files:
 * fakeserver.c (options, listening socket, one thread per connection, shutdown),
 * fs-http.c (HTTP/1.1 request parsing and response framing, interruptible sleeps),
 * fs-proto.c (routing, request parsing, magic words, the streaming driver and faults),
 * fs-wire.c (the four protocols' events, error bodies and model lists), fs-tools.c (tool
 * words, the tools a request declares and the tool history it sends back, checked) and
 * fs-vectors.c (replay of the recorded stream vectors). Nothing here is part of natter.
 */
#ifndef FAKESERVER_H
#define FAKESERVER_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>

#include "buf.h"
#include "fs-multipart.h"

struct fs_vectors;

#define FS_MAX_KEYS 8

/* Server-wide state, read-only after startup except where a lock guards it. */
struct fs_server {
	const char *keys[FS_MAX_KEYS]; /* accepted API keys (--key, repeatable); none: no auth */
	int nkeys;
	const char *limit_keys[FS_MAX_KEYS]; /* --limit-key (repeatable): accepted, but chat
	                                      * answers 429 */
	int nlimit;
	int log_fd;                 /* --log file opened with O_APPEND, or -1 */
	int stop_rd;                /* read end of the stop pipe: readable once stopping */
	struct fs_vectors *vectors; /* loaded --vectors file, or NULL */
	const char *models_vector;  /* --models-vector: the vector model lists answer with */
	pthread_mutex_t lock;       /* guards the fail counters and request sequence */
	struct fs_counter *counters;
	unsigned long seq;
};

/* One fail_times counter, keyed by the id= magic word. */
struct fs_counter {
	struct fs_counter *next;
	char *id;
	long seen;
};

struct fs_header {
	char *name;
	char *value;
};

/* One parsed HTTP request. */
struct fs_request {
	char *method;
	char *target; /* path and query as sent */
	char *path;   /* target without the query */
	char *query;  /* after '?', or "" */
	struct fs_header *headers;
	size_t nheaders;
	struct buf body;
	bool keep_alive;
};

/* One client connection, owned by its thread. */
struct fs_conn {
	int fd;
	struct fs_server *srv;
	struct buf in;  /* bytes read but not yet consumed (pipelining) */
	bool dead;      /* a write failed: the client is gone */
	bool chunked;   /* the current response uses chunked framing */
	bool keep_alive;
};

/* The four wire protocols the server speaks. */
enum fs_proto { FS_OPENAI, FS_ANTHROPIC, FS_GEMINI, FS_OLLAMA, FS_NPROTO };

/* fault= magic words; several may be combined. */
enum {
	FS_FAULT_CLOSE_MID = 1 << 0,
	FS_FAULT_STALL = 1 << 1,
	FS_FAULT_MALFORMED = 1 << 2,
	FS_FAULT_ERROR_MID = 1 << 3,
	FS_FAULT_NO_USAGE = 1 << 4,
	FS_FAULT_CRLF = 1 << 5,
	FS_FAULT_HUGE_LINE = 1 << 6,
	FS_FAULT_LONG_LINE = 1 << 7,
	FS_FAULT_COMMENTS = 1 << 8,
	FS_FAULT_ESCAPES = 1 << 9,
	FS_FAULT_ECHO_KEY = 1 << 10,
};

/* Magic words found in the last user message; -1 (or "") means "not given". */
struct fs_magic {
	long tokens;
	long think;
	long delay_ms;
	long burst;           /* with delay_ms: tokens sent together between waits */
	long first_delay_ms;
	long header_delay_ms;
	int status;
	char retry_after[32];    /* seconds, as written (may be fractional) */
	char retry_after_ms[32];
	bool ctx;
	long fail_times;
	char id[128];
	unsigned faults;
	long line_mb;            /* fault=long_line: MiB of the long line (default 64) */
	char vector[128];
	bool chunked;            /* chunked=0 turns chunked framing off for streams */
	bool reasoning_alt;      /* reasoning=reasoning: OpenAI delta.reasoning (vLLM, Ollama /v1) */
	bool echo;               /* echo=1: the reply is the prompt as written (echo=1 left out) */
	bool doc;                /* doc=md: tokens=N make a Markdown document of N tokens */
	long token_bytes;        /* token_bytes=N: each numbered token padded to N bytes */
};

#define FS_MAX_CALLS 4

/* tool_quirk= words: broken-server shapes of OpenAI's tool-call pieces. */
enum fs_quirk {
	FS_QUIRK_NONE,
	FS_QUIRK_NO_INDEX,    /* pieces carry the call's id but no index, calls interleaved */
	FS_QUIRK_ARGS_FIRST,  /* no id; the arguments come before the name */
};

/* One tool call a reply makes (tool=NAME args=JSON). */
struct fs_call {
	char *name;
	char *args;           /* the JSON as written (compact when it is one object) */
	bool object;          /* args is one JSON object */
};

/* What the tool words and the request's tool history make of a reply (fs-tools.c). */
struct fs_tools {
	struct fs_call calls[FS_MAX_CALLS];
	int ncalls;           /* calls the prompt asks for */
	long rounds;          /* tool_rounds=N: rounds of calls before the answer (1) */
	enum fs_quirk quirk;
	int done;             /* rounds of calls already in the current turn */
	bool calling;         /* this reply makes the calls */
	struct buf answer;    /* the last round's results, quoted by the reply, or empty */
	struct buf error;     /* what is wrong with the request (a 400), or empty */
};

/* A token sequence stored back to back: token i is all.data[off[i] .. off[i + 1]). */
struct fs_seq {
	struct buf all;
	size_t *off;
	size_t n;
	size_t cap;
};

/* Everything a reply depends on, parsed from one chat request. */
struct fs_chat {
	enum fs_proto proto;
	char *model;
	struct buf prompt;  /* text of the last user message */
	long input_words;   /* words in every message and the system prompt */
	bool stream;
	bool include_usage; /* OpenAI stream_options.include_usage */
	bool gemini_array;  /* Gemini streaming without alt=sse: one JSON array */
	unsigned long seq;  /* request number, for ids */
	struct fs_magic m;
	struct fs_seq think;
	struct fs_seq text;
	struct buf echo;    /* fault=echo_key: the credential as the request carried it */
	struct fs_tools tools;
};

/* Output state of one streamed reply. */
struct fs_emit {
	struct fs_conn *c;
	const struct fs_chat *chat;
	struct buf out;     /* bytes not yet sent */
	struct buf head;    /* per-protocol prefix reused by every event */
	const char *eol;    /* "\n", or "\r\n" for Gemini and fault=crlf */
	size_t sent_think;
	size_t sent_text;
	int block;          /* Anthropic: open block kind (0 none, 1 thinking, 2 text) */
	int block_index;
	bool finished;      /* Gemini: finishReason already sent */
	bool first_event;   /* Gemini array framing: nothing written yet */
};

/* One protocol's formats. */
struct fs_wire {
	const char *ctype; /* streaming Content-Type */
	void (*start)(struct fs_emit *e);
	void (*token)(struct fs_emit *e, bool reasoning, const char *t, size_t n, bool last);
	void (*malformed)(struct fs_emit *e);
	void (*error)(struct fs_emit *e);
	void (*finish)(struct fs_emit *e);
	void (*tools)(struct fs_emit *e); /* the calls of chat->tools, before finish */
	void (*whole)(const struct fs_chat *chat, struct buf *out);
	int (*http_error)(const struct fs_chat *chat, int status, struct buf *hdrs, struct buf *out);
};

extern const struct fs_wire *const fs_wires[FS_NPROTO];

/* fs-http.c */
int fs_http_read_request(struct fs_conn *c, struct fs_request *req);
void fs_request_free(struct fs_request *req);
const char *fs_header_get(const struct fs_request *req, const char *name);
bool fs_query_get(const struct fs_request *req, const char *name, struct buf *out);
void fs_write_all(struct fs_conn *c, const void *p, size_t n);
void fs_send_head(struct fs_conn *c, int status, const char *ctype, const struct buf *extra,
    long long content_length);
void fs_send_chunk(struct fs_conn *c, const void *p, size_t n);
void fs_send_end(struct fs_conn *c);
void fs_send_body(struct fs_conn *c, int status, const char *ctype, const struct buf *extra,
    const char *body, size_t n);
bool fs_sleep_ms(struct fs_server *srv, long ms);
void fs_wait_client_gone(struct fs_conn *c);
const char *fs_status_reason(int status);

/* fs-proto.c */
void fs_proto_handle(struct fs_conn *c, const struct fs_request *req);
/* ... and what fs-media.c shares of it. */
bool fs_ends_with(const char *path, const char *suffix);
void fs_magic_parse(const char *text, const char *model, struct fs_magic *m);
void fs_reply_json(struct fs_conn *c, const struct fs_chat *chat, int status,
    const struct buf *hdrs, const struct buf *body);
void fs_reply_error(struct fs_conn *c, const struct fs_chat *chat, int status);
bool fs_key_limited(const struct fs_server *srv, const struct fs_request *req,
    enum fs_proto proto);
bool fs_auth_ok(const struct fs_server *srv, const struct fs_request *req, enum fs_proto proto,
    bool *missing);
void fs_reply_auth(struct fs_conn *c, enum fs_proto proto, bool missing);
bool fs_should_fail(struct fs_server *srv, const struct fs_magic *m);
void fs_reply_plain_error(struct fs_conn *c, int status, const char *fmt, const char *a,
    const char *b);

/* fs-media.c: the audio and embeddings endpoints. fs_media_route answers the request and
 * returns true when it is one of them (Gemini's generateContent only when it carries
 * inline audio); fs_media_log_body writes the --log form of a multipart body. */
bool fs_media_route(struct fs_conn *c, const struct fs_request *req);
bool fs_media_log_body(const struct fs_request *req, struct buf *line);

/* fs-wire.c */
int fs_wire_auth_error(enum fs_proto proto, bool missing, struct buf *hdrs, struct buf *out);
int fs_wire_models(enum fs_proto proto, const struct fs_request *req, struct buf *out);
void fs_wire_echo(const struct fs_chat *chat, struct buf *msg);

/* fs-tools.c */
struct cJSON;
void fs_tools_plan(struct fs_chat *chat, const struct cJSON *root);
void fs_tools_free(struct fs_tools *t);
void fs_tools_signature(const char *name, struct buf *out);

/* fs-vectors.c */
struct fs_vectors *fs_vectors_load(const char *path, struct buf *err);
void fs_vectors_free(struct fs_vectors *v);
bool fs_vectors_replay(struct fs_conn *c, const struct fs_vectors *v, const char *name,
    long first_delay_ms, long delay_ms);

#endif
