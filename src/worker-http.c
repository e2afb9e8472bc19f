/*
 * Plain HTTP exchanges on the worker thread (contract in worker.h): one request, its
 * response's headers, its body as it arrives and its end, delivered to a queue of the
 * caller's (struct wqueue) instead of the chat streams' queue. MCP's streamable HTTP
 * transport is the user: a JSON-RPC message per POST, answered with one JSON body or an
 * event stream that may stay open while a tool runs.
 *
 * A queue is counted: its owner holds one reference and every exchange one more, so
 * wqueue_free can come before or after the exchanges end, and before or after worker_stop;
 * the last one out frees it. Events pushed after the owner let go are dropped. The queue's
 * wake pipe is written only when it goes from empty to non-empty, as the worker's own is.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <curl/curl.h>

#include "apierr.h"
#include "buf.h"
#include "log.h"
#include "worker-internal.h"
#include "worker.h"
#include "xmalloc.h"

#define WX_MAX_BODY (32u << 20)  /* a body's cap when the request names none */
#define WX_MAX_HEADERS (64u << 10)

struct wqueue {
	pthread_mutex_t lock;        /* everything below */
	int refs;                    /* the owner's, and one per exchange */
	int dead;                    /* the owner let go: events are dropped */
	int pipe_r, pipe_w;
	struct wnode *head, *tail;
};

/* One exchange: made by worker_http on the caller's thread, then the worker's. */
struct wx {
	uint64_t id;
	struct worker *w;
	struct wqueue *q;
	char *method, *url, *body;
	size_t len;
	struct curl_slist *hdrs;
	long connect_timeout_ms;
	size_t max_body, got;
	int over;                    /* the body passed max_body */
	CURL *easy;
	struct buf headers;          /* the latest response's header lines */
	int head_sent;
	char errbuf[CURL_ERROR_SIZE];
	struct wx *next;
};

/* Make a queue; its owner holds the first reference. */
struct wqueue *
wqueue_new(void)
{
	struct wqueue *q = xcalloc(1, sizeof(*q));
	int fds[2];

	if (pipe2(fds, O_NONBLOCK | O_CLOEXEC) != 0)
		log_fatal("pipe: %s", strerror(errno));
	q->pipe_r = fds[0];
	q->pipe_w = fds[1];
	q->refs = 1;
	pthread_mutex_init(&q->lock, NULL);
	return q;
}

/* The descriptor to poll for readability. */
int
wqueue_fd(const struct wqueue *q)
{
	return q->pipe_r;
}

/* Free q's events, pipe and lock; the last reference is gone. */
static void
wqueue_destroy(struct wqueue *q)
{
	struct wnode *n, *next;

	for (n = q->head; n != NULL; n = next) {
		next = n->next;
		wevent_free(&n->ev);
	}
	close(q->pipe_r);
	close(q->pipe_w);
	pthread_mutex_destroy(&q->lock);
	free(q);
}

/* Drop one reference; the last one frees the queue. */
static void
wqueue_unref(struct wqueue *q, int owner)
{
	int last;

	pthread_mutex_lock(&q->lock);
	if (owner)
		q->dead = 1;
	last = --q->refs == 0;
	pthread_mutex_unlock(&q->lock);
	if (last)
		wqueue_destroy(q);
}

/* The owner lets go of q (see worker.h). */
void
wqueue_free(struct wqueue *q)
{
	if (q != NULL)
		wqueue_unref(q, 1);
}

/* Empty the wake pipe; called with the lock held. */
static void
wqueue_drain(struct wqueue *q)
{
	char junk[64];

	while (read(q->pipe_r, junk, sizeof(junk)) > 0)
		;
}

/* Dequeue one event, or NULL when none waits. */
struct wevent *
wqueue_next(struct wqueue *q)
{
	struct wnode *n;

	pthread_mutex_lock(&q->lock);
	n = q->head;
	if (n != NULL) {
		q->head = n->next;
		if (q->head == NULL)
			q->tail = NULL;
		n->next = NULL;
	}
	if (q->head == NULL)
		wqueue_drain(q);
	pthread_mutex_unlock(&q->lock);
	return n != NULL ? &n->ev : NULL;
}

/* Queue n for the owner, merging a body piece into the exchange's latest body event. */
static void
wqueue_push(struct wqueue *q, struct wnode *n)
{
	int was_empty;
	ssize_t r;

	pthread_mutex_lock(&q->lock);
	if (q->dead) {
		pthread_mutex_unlock(&q->lock);
		wevent_free(&n->ev);
		return;
	}
	if (n->ev.type == WEV_HTTP_BODY && q->tail != NULL && q->tail->ev.id == n->ev.id &&
	    q->tail->ev.type == WEV_HTTP_BODY) {
		struct wnode *t = q->tail;

		if (t->ev.len + n->ev.len + 1 > t->cap) {
			t->cap = (t->ev.len + n->ev.len + 1) * 2;
			t->ev.text = xrealloc(t->ev.text, t->cap);
		}
		memcpy(t->ev.text + t->ev.len, n->ev.text, n->ev.len);
		t->ev.len += n->ev.len;
		t->ev.text[t->ev.len] = '\0';
		pthread_mutex_unlock(&q->lock);
		wevent_free(&n->ev);
		return;
	}
	was_empty = q->head == NULL;
	if (q->tail != NULL)
		q->tail->next = n;
	else
		q->head = n;
	q->tail = n;
	if (was_empty) {
		do
			r = write(q->pipe_w, "x", 1);
		while (r < 0 && errno == EINTR);
	}
	pthread_mutex_unlock(&q->lock);
}

/* Free an exchange that is not (or no longer) in the multi, dropping its queue reference. */
void
worker_http_free(struct wx *x)
{
	if (x == NULL)
		return;
	if (x->easy != NULL) {
		curl_multi_remove_handle(x->w->multi, x->easy);
		curl_easy_cleanup(x->easy);
	}
	curl_slist_free_all(x->hdrs);
	buf_free(&x->headers);
	free(x->method);
	free(x->url);
	free(x->body);
	if (x->q != NULL)
		wqueue_unref(x->q, 0);
	free(x);
}

/* Send the HEAD event once: the status and the header lines of the final response. */
static void
worker_http_head(struct wx *x)
{
	struct wnode *n;
	long code = 0;

	if (x->head_sent)
		return;
	x->head_sent = 1;
	curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &code);
	n = worker_node(WEV_HTTP_HEAD, x->id);
	n->ev.status = (int)code;
	n->ev.headers = xstrdup(buf_str(&x->headers));
	wqueue_push(x->q, n);
}

/* libcurl header callback: keep the lines of the latest response (a 100 Continue or an
 * informational response starts over at its status line). */
static size_t
worker_http_header_cb(char *p, size_t size, size_t nmemb, void *ud)
{
	struct wx *x = ud;
	size_t n = size * nmemb;

	if (n >= 5 && memcmp(p, "HTTP/", 5) == 0) {
		buf_reset(&x->headers);
		return n;
	}
	if (n <= 2 || x->headers.len + n > WX_MAX_HEADERS)
		return n;
	buf_append(&x->headers, p, n);
	if (x->headers.len > 0 && x->headers.data[x->headers.len - 1] == '\n')
		x->headers.len--;
	if (x->headers.len > 0 && x->headers.data[x->headers.len - 1] == '\r')
		x->headers.len--;
	buf_append(&x->headers, "\n", 1);
	return n;
}

/* libcurl write callback: the body as it comes; past max_body the transfer stops. */
static size_t
worker_http_write_cb(char *p, size_t size, size_t nmemb, void *ud)
{
	struct wx *x = ud;
	size_t n = size * nmemb;
	struct wnode *b;

	worker_http_head(x);
	if (x->got + n > x->max_body) {
		x->over = 1;
		return 0;
	}
	x->got += n;
	b = worker_node(WEV_HTTP_BODY, x->id);
	b->ev.text = xmalloc(n + 1);
	memcpy(b->ev.text, p, n);
	b->ev.text[n] = '\0';
	b->ev.len = n;
	b->cap = n + 1;
	wqueue_push(x->q, b);
	return n;
}

/* Queue x's END with err (owned) and free it. */
static void
worker_http_end(struct wx *x, struct apierr *err, int cancelled)
{
	struct wnode *n = worker_node(WEV_HTTP_END, x->id);
	struct wx **pp;

	n->ev.error = err;
	n->ev.cancelled = cancelled;
	wqueue_push(x->q, n);
	for (pp = &x->w->xs; *pp != NULL; pp = &(*pp)->next)
		if (*pp == x) {
			*pp = x->next;
			break;
		}
	worker_http_free(x);
}

/* Start exchange x, numbered id, on the worker thread. */
void
worker_http_start(struct worker *w, struct wx *x, uint64_t id)
{
	CURL *c;

	x->id = id;
	x->w = w;
	x->next = w->xs;
	w->xs = x;
	c = x->easy = worker_easy(x->url, x->hdrs, x->errbuf, worker_http_write_cb,
	    worker_http_header_cb, x);
	if (x->connect_timeout_ms > 0)
		curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, x->connect_timeout_ms);
	if (x->body != NULL) {
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)x->len);
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, x->body);
	}
	if (strcmp(x->method, "GET") == 0)
		curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
	else if (strcmp(x->method, "POST") != 0)
		curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, x->method);
	else if (x->body == NULL)
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, "");
	if (curl_multi_add_handle(w->multi, c) != CURLM_OK)
		log_fatal("curl_multi_add_handle failed");
	w->kick = 1;
}

/* End exchange id early; 0 when it is not an exchange of this worker. */
int
worker_http_cancel(struct worker *w, uint64_t id)
{
	struct wx *x;

	for (x = w->xs; x != NULL; x = x->next)
		if (x->id == id) {
			worker_http_end(x, apierr_new(APIERR_LOCAL, APIERR_CANCELLED, "cancelled"), 1);
			return 1;
		}
	return 0;
}

/* A transfer ended: 1 when it was an exchange (and it is now reported and freed). */
int
worker_http_finished(struct worker *w, CURL *easy, CURLcode rc)
{
	struct wx *x;
	struct apierr *err = NULL;

	for (x = w->xs; x != NULL; x = x->next)
		if (x->easy == easy)
			break;
	if (x == NULL)
		return 0;
	if (x->over)
		err = apierr_new(APIERR_HTTP, APIERR_TRUNCATED, "the answer is over the size cap");
	else if (rc != CURLE_OK)
		err = worker_transport_error(rc, x->errbuf);
	else
		worker_http_head(x);
	worker_http_end(x, err, 0);
	return 1;
}

/* The worker is quitting: every exchange still running ends as cancelled. */
void
worker_http_stop_all(struct worker *w)
{
	while (w->xs != NULL)
		worker_http_end(w->xs, apierr_new(APIERR_LOCAL, APIERR_CANCELLED, "cancelled"), 1);
}

/* Send one plain HTTP request whose events go to q (see worker.h). */
uint64_t
worker_http(struct worker *w, struct wqueue *q, const struct whttp *r)
{
	struct wreq *rq = xcalloc(1, sizeof(*rq));
	struct wx *x = xcalloc(1, sizeof(*x));
	size_t i;

	x->method = xstrdup(r->method != NULL ? r->method : "GET");
	x->url = xstrdup(r->url);
	if (r->body != NULL) {
		x->body = xmalloc(r->len + 1);
		memcpy(x->body, r->body, r->len);
		x->body[r->len] = '\0';
		x->len = r->len;
	}
	for (i = 0; i < r->nheaders; i++)
		x->hdrs = curl_slist_append(x->hdrs, r->headers[i]);
	x->hdrs = curl_slist_append(x->hdrs, "Expect:");
	x->connect_timeout_ms = r->connect_timeout_ms;
	x->max_body = r->max_body > 0 ? r->max_body : WX_MAX_BODY;
	pthread_mutex_lock(&q->lock);
	q->refs++;
	pthread_mutex_unlock(&q->lock);
	x->q = q;
	x->w = w;
	rq->type = WREQ_HTTP;
	rq->x = x;
	/* The worker thread gives x its id as it starts it (worker_take_requests). */
	return worker_enqueue(w, rq);
}
