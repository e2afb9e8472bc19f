/*
 * The network worker: one thread that owns every CURL and CURLM handle and runs many
 * streams at once. The UI (or the CLI) never touches curl and the worker never draws.
 *
 * Contract
 * --------
 * Call order:
 *   worker_global_init()        once, before any thread starts (curl_global_init).
 *   w = worker_start()          spawns the thread.
 *   poll() on worker_fd(w)      readable when events are waiting (edge: drain it fully).
 *   id = worker_submit(w, req)  starts a chat stream. Takes ownership of req. id > 0.
 *   worker_cancel(w, id)        stops a stream at any moment; the stream still ends with
 *                               exactly one WEV_DONE (cancelled = 1, partial text delivered).
 *   id = worker_models(w, prov) lists a provider's models (prov is copied).
 *   id = worker_fetch(w, f)     sends one request that is not a chat (a transcription, a
 *                               batch of embeddings). Takes ownership of f.
 *   ev = worker_next(w)         dequeues one event or returns NULL when none are left;
 *                               the caller owns ev and frees it with wevent_free().
 *   worker_stop(w)              cancels everything, joins the thread, frees what is queued.
 *
 * Every stream produces, in order: zero or more WEV_RETRY (only before the first token),
 * then any mix of WEV_TEXT / WEV_REASONING / WEV_USAGE, then exactly one WEV_DONE, which
 * carries the reply's tool calls, whole (a piece of a tool call counts as a token for the
 * deadlines and retries below).
 * Consecutive TEXT (or REASONING) events of one stream may be merged before they are
 * dequeued, so a slow reader receives fewer, larger events and never falls behind.
 * A models request produces exactly one WEV_MODELS.
 *
 * A fetch (struct worker_fetch) is one request whose answer is one body: zero or more
 * WEV_RETRY, then exactly one WEV_BODY with the HTTP status and the whole 2xx body (text,
 * len; registered keys masked), or the error. Its build function makes the request again
 * for every attempt, on the worker's thread, from the attempt's provider (whose key is the
 * pool's pick) and its own arg, which nothing else may change meanwhile; a request with
 * parts (http.h) goes out as multipart/form-data, a file part read from disk as it is
 * sent. Retries, key pools and cancellation work as for a chat; the deadlines are
 * first_token_timeout from sending the request to the first byte of the answer, then
 * idle_timeout between bytes. A body longer than max_body ends the fetch with an
 * APIERR_TRUNCATED error (not retried); a non-2xx answer becomes the protocol's typed
 * error (parse_error), retried like a chat's when it is retryable. A simulated provider
 * cannot fetch: the BODY says so.
 *
 * A request with no_stream set (request.h) asks the provider for one JSON body instead of
 * a stream. The worker reads that body whole, bounded by the provider's max_line, and
 * decodes it at its end with the adapter's parse_reply (proto.h), so the same events follow
 * all at once: its REASONING, its TEXT, USAGE and the one DONE, whose ttft_ms is then the
 * time to the whole body. The simulated provider answers such a request with its reply as
 * one event each of reasoning and text, when its last token would have been due. Retries,
 * key pools, cancellation and the deadlines below work the same way.
 *
 * Provider text in events (text, reasoning, error fields, finish_reason, model ids and
 * names) has every key natter registered (secret.h) masked. Text that might be the start
 * of a key is held back until the next network read or the end of the stream decides.
 *
 * Deadlines (per provider, per attempt): from the moment a request is sent, the first
 * token (text or reasoning) must come within first_token_timeout; after it, no more than
 * idle_timeout may pass without a delta. Keep-alive comments, pings and bare bytes reset
 * neither. A no_stream reply has no token before its end: first_token_timeout runs to the
 * first byte of its body, then idle_timeout to each next byte, and a deadline that falls
 * then is still one before the first token. A deadline that falls before the first
 * token is a retryable timeout; after it, the stream ends at once with DONE carrying an
 * APIERR_TIMEOUT error, the text already delivered being the partial reply. No retry
 * starts later than retry_total after the first attempt did; the error then says so. A
 * stream line or event longer than max_line ends the stream (not retried) with an
 * APIERR_TRUNCATED error that names the cap; so does a no_stream body longer than
 * max_line, of which nothing is delivered. Malformed events are skipped, and DONE's
 * warning says how many and why; a no_stream body that is not the protocol's reply is an
 * APIERR_STREAM error instead (not retried).
 *
 * Key pools: when req->provider->pool is set, every attempt takes its key from the pool
 * (keypool_acquire). A 429 rate limit rests that key (keypool_block) and the next free key
 * is tried at once, without counting as a retry; a lone key follows the ordinary retry
 * policy instead, where the server's retry-after is a better guide than a fixed backoff.
 * When no key is free, the stream waits (a RETRY with key_wait) if the wait fits the
 * pool's key_wait, else it ends with an APIERR_LOCAL rate-limit error saying when the
 * first key frees up. The pool belongs to the config, which must outlive the worker.
 *
 * Threads: worker_submit/cancel/models/next/stop are called from one thread (the UI's);
 * they only take the queue locks and wake the worker with curl_multi_wakeup().
 *
 * Plain HTTP exchanges (worker_http) carry other protocols than the providers' (MCP's
 * streamable HTTP transport) and deliver their events to a queue of their own, so the
 * module that started them polls wqueue_fd next to its other descriptors and never sees
 * the chat streams' events (nor they its):
 *   q = wqueue_new()             a queue with its own wake descriptor.
 *   id = worker_http(w, q, &x)   sends one request (x is copied); id > 0.
 *   poll() on wqueue_fd(q)       readable when events wait (drain it fully).
 *   ev = wqueue_next(q)          one event or NULL; the caller frees it (wevent_free).
 *   worker_cancel(w, id)         ends an exchange early (its END says cancelled).
 *   wqueue_free(q)               at any time, before or after worker_stop, from the thread
 *                                that made it: events still coming are dropped, and the
 *                                queue is freed when its last exchange has ended.
 * Each exchange produces one WEV_HTTP_HEAD once the response's headers are in (status,
 * headers), WEV_HTTP_BODY events as the body arrives (merged while queued), and exactly
 * one WEV_HTTP_END (error NULL when the exchange completed, whatever its status). A body
 * over x.max_body bytes ends the exchange with an APIERR_TRUNCATED error. Bodies are
 * untrusted and are not scrubbed of keys (they carry no provider text).
 */
#ifndef NATTER_WORKER_H
#define NATTER_WORKER_H

#include <stddef.h>
#include <stdint.h>

#include "proto.h"
#include "toolcall.h"
#include "usage.h"

struct apierr;
struct provider;
struct request;
struct worker;

enum wevent_type {
	WEV_TEXT,
	WEV_REASONING,
	WEV_USAGE,
	WEV_RETRY,  /* a retry is scheduled: attempt, delay_ms, error (why) */
	WEV_DONE,   /* the stream is over */
	WEV_MODELS, /* a models listing finished */
	WEV_HTTP_HEAD, /* an exchange's response headers: status, headers */
	WEV_HTTP_BODY, /* a piece of its body: text, len */
	WEV_HTTP_END,  /* it is over: error (NULL when it completed), cancelled */
	WEV_BODY,   /* a fetch finished */
};

struct wevent {
	enum wevent_type type;
	uint64_t id;
	char *text;              /* TEXT, REASONING: UTF-8, untrusted; len bytes */
	size_t len;
	struct usage usage;      /* USAGE, DONE */
	int attempt;             /* RETRY: the attempt about to start (2 = first retry) */
	long delay_ms;           /* RETRY: wait before it */
	int key_wait;            /* RETRY: every key of the provider's pool is rate-limited;
	                          * error->message says so, delay_ms is the wait for one */
	int rotated;             /* RETRY: the key got a 429 and rests; the next key is
	                          * tried at once (delay_ms 0, not counted as a retry) */
	struct apierr *error;    /* RETRY: why; DONE/MODELS: the failure, or NULL */
	char *finish_reason;     /* DONE: provider-native, or NULL */
	int complete;            /* DONE: the protocol terminator was seen */
	int cancelled;           /* DONE: worker_cancel stopped it */
	long ttft_ms;            /* DONE: submit to first token, -1 when none */
	long duration_ms;        /* DONE: submit to end */
	char *warning;           /* DONE: one line for the reader about a reply that was
	                          * otherwise decoded (malformed events skipped), or NULL;
	                          * untrusted excerpt inside: sanitise before drawing */
	struct model_list models;/* MODELS */
	char *signature;         /* DONE: the signature of the reply's thinking (Anthropic),
	                          * opaque, never shown; NULL when there is none or the reply
	                          * did not complete */
	size_t signed_len;       /* DONE with a signature: the bytes of reasoning the stream
	                          * decoded, and their stream_hash, so the front end keeps the */
	unsigned long long signed_hash; /* signature only if it stored that very text */
	struct toolcall *calls;  /* DONE: the reply's whole tool calls (toolcall.h), with
	                          * registered keys masked, in the order they came */
	size_t ncalls;
	int status;              /* HTTP_HEAD: the HTTP status; BODY: the status of the
	                          * fetch's last attempt, 0 when none */
	char *headers;           /* HTTP_HEAD: the header lines, "name: value\n" each, as
	                          * received (untrusted) */
	int attempts;            /* BODY: attempts made (retries and key rotations count) */
};

struct http_req;

/* A one-shot request for worker_fetch. */
struct worker_fetch {
	struct provider *provider; /* owned copy */
	/* Build one attempt's request; runs on the worker's thread and only reads arg. */
	void (*build)(const struct provider *p, const void *arg, struct http_req *out);
	void *arg;                 /* owned, freed with free_arg (NULL: free()) */
	void (*free_arg)(void *arg);
	long est_tokens;           /* the request's tokens for the pool's tpm window; 0: unknown */
	size_t max_body;           /* the longest answer accepted, bytes; 0: provider's max_line */
};

/* One plain HTTP request; worker_http copies what it needs. */
struct whttp {
	const char *method;      /* "POST", "GET", "DELETE" */
	const char *url;
	const char *const *headers; /* "Name: value" lines */
	size_t nheaders;
	const char *body;        /* NULL for none */
	size_t len;
	long connect_timeout_ms; /* 0: libcurl's default */
	size_t max_body;         /* 0: 32 MiB */
};

struct wqueue;

void worker_global_init(void);
struct worker *worker_start(void);
int worker_fd(const struct worker *w);
uint64_t worker_submit(struct worker *w, struct request *req);
void worker_cancel(struct worker *w, uint64_t id);
uint64_t worker_models(struct worker *w, const struct provider *p);
/* A new fetch for provider p (copied) with no builder yet. */
struct worker_fetch *worker_fetch_new(const struct provider *p);
void worker_fetch_free(struct worker_fetch *f);
uint64_t worker_fetch(struct worker *w, struct worker_fetch *f);
struct wevent *worker_next(struct worker *w);
void worker_stop(struct worker *w);
void wevent_free(struct wevent *ev);
struct wqueue *wqueue_new(void);
int wqueue_fd(const struct wqueue *q);
struct wevent *wqueue_next(struct wqueue *q);
void wqueue_free(struct wqueue *q);
uint64_t worker_http(struct worker *w, struct wqueue *q, const struct whttp *x);

#endif
