/*
 * The worker's insides, shared by worker.c (chat streams, model listings, the thread and
 * its queues), worker-fetch.c (the one-shot requests of worker_fetch: transcriptions and
 * embeddings) and worker-http.c (plain HTTP exchanges for other protocols, delivered to a
 * queue of their own). Private: the rest of natter uses worker.h. Everything here belongs
 * to the worker thread unless its comment names a lock.
 */
#ifndef NATTER_WORKER_INTERNAL_H
#define NATTER_WORKER_INTERNAL_H

#include <pthread.h>
#include <stdint.h>

#include <curl/curl.h>

#include "buf.h"
#include "http.h"
#include "proto-simulated.h"
#include "proto.h"
#include "stream.h"
#include "worker.h"

struct wx;

/* A queued event; ev comes first so the caller's wevent pointer frees the whole node. */
struct wnode {
	struct wevent ev;
	size_t cap;           /* bytes allocated for ev.text */
	struct wnode *next;
};

enum wreq_type { WREQ_CHAT, WREQ_CANCEL, WREQ_MODELS, WREQ_FETCH, WREQ_HTTP };

/* A request from the UI thread to the worker. */
struct wreq {
	enum wreq_type type;
	uint64_t id;
	struct request *req;
	struct provider *prov;
	struct worker_fetch *fetch;  /* FETCH: the one-shot request (worker-fetch.c) */
	struct wx *x;                /* HTTP: the exchange to start (worker-http.c) */
	struct wreq *next;
};

enum job_state {
	JOB_WAIT,    /* waiting for due: a retry, or the start of a simulated stream */
	JOB_HTTP,    /* an easy handle is in the multi */
	JOB_SIM,     /* playing simulated tokens; the next is due at due */
};

/* One chat stream, model listing or fetch, owned by the worker thread. */
struct job {
	uint64_t id;
	int is_models;
	struct worker_fetch *fetch;  /* a fetch (owned, with its provider), else NULL */
	curl_mime *mime;             /* fetch: this attempt's multipart body, or NULL */
	int body_over;               /* fetch: this attempt's answer went over max_body */
	int http_status;             /* fetch: the status of the latest answer, 0 before */
	struct worker *w;
	struct request *req;         /* chat (owned) */
	struct provider *prov;       /* models: owned; chat: req->provider */
	enum job_state state;
	int64_t due;                 /* ms on the monotonic clock, for JOB_WAIT and JOB_SIM */
	int attempt;                 /* 1 for the first attempt */
	int key_idx;                 /* the pool key of this attempt, -1 when none */
	int64_t key_waited;          /* ms spent waiting for a free key so far */
	int got_token;
	int64_t t_submit;
	int64_t t_first;

	CURL *easy;
	struct curl_slist *hdrs;
	struct http_req hreq;
	int hreq_set;
	size_t up_off;               /* how much of a streamed body (hreq.stream) went out */
	char errbuf[CURL_ERROR_SIZE];
	struct http_headers rhdrs;   /* headers of the latest response */
	int status_set;              /* the status went to the stream before the body */
	int64_t last_byte;           /* when a byte last arrived (or the request went out);
	                              * 0 while connecting, when only the connect timeout runs */
	int64_t t_sent;              /* chat: when this attempt's request went out, 0 before */
	int64_t t_body;              /* chat: when this attempt's first body byte came, 0 before */
	int64_t last_delta;          /* chat: when the decoder last produced a delta */
	unsigned long ndeltas;       /* chat: deltas produced so far */
	size_t reason_len;           /* chat: reasoning bytes decoded, before any masking */
	unsigned long long reason_hash; /* and their stream_hash */

	int scrub;                   /* keys are registered: deltas pass the scrubber */
	struct buf held[2];          /* text, reasoning not yet scrubbed and queued: this loop
	                              * turn's deltas, and a tail that may begin a key which
	                              * the next delta completes (secret.h) */

	struct stream st;            /* chat over HTTP */
	int st_set;
	int paused;                  /* chat: reading stopped while the UI's queue is full */

	struct simulated_reply sim;  /* chat with the simulated provider */
	int sim_set;
	size_t sim_pos;
	int64_t sim_start;
	double sim_rate;

	struct buf body;             /* models: the page being received */
	char *page;                  /* models: next page token */
	int npages;
	struct model_list models;

	struct job *next;
};

struct worker {
	pthread_t thread;
	CURLM *multi;
	int pipe_r, pipe_w;

	pthread_mutex_t rq_lock;     /* requests, next_id, quit */
	struct wreq *rq_head, *rq_tail;
	uint64_t next_id;
	int quit;

	pthread_mutex_t eq_lock;     /* events */
	struct wnode *eq_head, *eq_tail;
	size_t eq_bytes;             /* text and reasoning bytes queued for the UI */
	int eq_full;                 /* a transfer paused on eq_bytes: the UI wakes the worker
	                              * once it took most of them */

	struct job *jobs;            /* worker thread only */
	struct wnode *out_head, *out_tail; /* worker thread only: events not yet flushed */
	size_t out_bytes;            /* worker thread only: their text and reasoning bytes */
	int kick;                    /* worker thread only: run curl again before sleeping */
	struct wx *xs;               /* worker thread only: HTTP exchanges running */
};


/* worker.c, for worker-fetch.c and worker-http.c */
int64_t worker_now(void);
struct wnode *worker_node(enum wevent_type type, uint64_t id);
void worker_push(struct worker *w, struct wnode *n);
void worker_job_free(struct job *j);
void worker_fail(struct job *j, struct apierr *err, int complete);
char *worker_secs(long ms);
struct apierr *worker_transport_error(CURLcode rc, const char *errbuf);
CURL *worker_easy(const char *url, struct curl_slist *hdrs, char *errbuf,
    curl_write_callback body, curl_write_callback head, void *ud);
uint64_t worker_enqueue(struct worker *w, struct wreq *rq);

/* worker-http.c, on the worker thread but for worker_http_free (any thread). */
void worker_http_start(struct worker *w, struct wx *x, uint64_t id);
int worker_http_cancel(struct worker *w, uint64_t id);
int worker_http_finished(struct worker *w, CURL *easy, CURLcode rc);
void worker_http_stop_all(struct worker *w);
void worker_http_free(struct wx *x);

/* worker-fetch.c, for worker.c */
/* Build this attempt's request into j->hreq. */
void worker_fetch_build(struct job *j);
/* Give the easy handle the multipart body of j->hreq's parts (a file part that cannot be
 * read fails the transfer with CURLE_READ_ERROR). */
void worker_fetch_mime(struct job *j, CURL *c);
/* Collect n body bytes; 0 when the body went over its cap (the transfer then stops). */
size_t worker_fetch_write(struct job *j, const char *p, size_t n);
/* A transfer of a fetch ended: deliver the body, retry, or report the error. */
void worker_fetch_finished(struct job *j, CURLcode rc);
/* End a fetch with exactly one WEV_BODY (err NULL: the body it collected). */
void worker_fetch_done(struct job *j, struct apierr *err);

#endif
