/*
 * The network worker thread (contract in worker.h). One thread owns one CURLM and every easy
 * handle; the simulated provider is played back by timers inside the same loop, so there is
 * never a second thread or a busy loop. The loop sleeps in curl_multi_poll() with a timeout
 * taken from the nearest simulated token or retry timer and no timeout at all when nothing
 * is pending: an idle natter costs no CPU. The UI wakes the loop with curl_multi_wakeup()
 * and the loop wakes the UI through a pipe written only when the event queue goes from empty
 * to non-empty, so a busy stream costs one write per UI turn, not one per token.
 *
 * Usage is forwarded once per stream, just before its DONE: several protocols repeat usage
 * in every chunk (Gemini), and a USAGE between two TEXT events would stop them from being
 * merged while queued.
 *
 * The worker is where provider text enters natter, so it is where keys are masked
 * (secret.h): errors, finish reasons and model listings as their events are queued, and
 * reply text once per loop turn, keeping back a tail that may begin a key split across
 * network reads until the next read (or the end of the stream) settles it.
 *
 * The UI's queue is bounded: once WORKER_QUEUE_MAX bytes of text wait in it (a UI busy
 * storing or drawing while a fast server streams megabytes a second), a chat transfer
 * stops reading (CURL_WRITEFUNC_PAUSE: libcurl keeps the bytes it has and the kernel's
 * window holds the server back) until the UI has taken all but WORKER_QUEUE_LOW of them
 * and woken the loop. Text waits in the socket instead of in memory, and a paused
 * transfer's deadlines start again when it resumes.
 *
 * Deadlines are the worker's own timers, exact to the millisecond: until the first token a
 * transfer has first_token_timeout from the moment its request went out, then idle_timeout
 * from the last delta. Both count decoded deltas, not bytes, so a server that sends only
 * keep-alive comments (or pings) cannot hold a stream open. Model listings, which have no
 * tokens, keep a byte-level idle timer, and so does a whole (no_stream) reply once its body
 * has begun, since its tokens only come out of the body's end. libcurl's low-speed check
 * stays as a backstop set to the longer deadline. The timers exist only while a transfer
 * runs.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "apierr.h"
#include "http.h"
#include "keypool.h"
#include "log.h"
#include "proto-simulated.h"
#include "proto.h"
#include "provider.h"
#include "request.h"
#include "retry.h"
#include "secret.h"
#include "stream.h"
#include "version.h"
#include "json.h"
#include "worker-internal.h"
#include "worker.h"
#include "worker-internal.h"
#include "xmalloc.h"

/* Tokens a rate-0 simulated stream emits per loop turn, so that cancels and other streams
 * are served between batches. */
#define WORKER_SIM_BATCH 512
/* Text bytes waiting for the UI at which chat transfers pause, and at which they resume. */
#define WORKER_QUEUE_MAX (1u << 20)
#define WORKER_QUEUE_LOW (256u << 10)
/* Pages of a model listing followed before giving up on a server that never stops. */
#define WORKER_MAX_PAGES 100

/* Milliseconds on the monotonic clock. */
int64_t
worker_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Initialise libcurl once, before any thread exists (libcurl-thread(3)). */
void
worker_global_init(void)
{
	static int done;

	if (!done) {
		done = 1;
		if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
			log_fatal("cannot initialise libcurl");
	}
}

/* Free an event and what it owns. */
void
wevent_free(struct wevent *ev)
{
	if (ev == NULL)
		return;
	free(ev->text);
	apierr_free(ev->error);
	free(ev->finish_reason);
	free(ev->warning);
	free(ev->signature);
	free(ev->headers);
	model_list_free(&ev->models);
	if (ev->calls != NULL) {
		struct toolacc a = { ev->calls, ev->ncalls, ev->ncalls, ev->ncalls, 0 };

		toolacc_free(&a);
	}
	free(ev);
}

/* A new queued event for stream id. */
struct wnode *
worker_node(enum wevent_type type, uint64_t id)
{
	struct wnode *n = xcalloc(1, sizeof(*n));

	n->ev.type = type;
	n->ev.id = id;
	usage_clear(&n->ev.usage);
	n->ev.ttft_ms = -1;
	return n;
}

/* Empty the wake pipe; called with eq_lock held when the queue has just become empty. */
static void
worker_drain_pipe(struct worker *w)
{
	char junk[64];

	while (read(w->pipe_r, junk, sizeof(junk)) > 0)
		;
}

/* Append len bytes of text to a queued text event. */
static void
worker_append(struct wnode *into, const char *p, size_t len)
{
	if (into->ev.len + len + 1 > into->cap) {
		into->cap = (into->ev.len + len + 1) * 2;
		into->ev.text = xrealloc(into->ev.text, into->cap);
	}
	memcpy(into->ev.text + into->ev.len, p, len);
	into->ev.len += len;
	into->ev.text[into->ev.len] = '\0';
}

/* The event of the list starting at head that may absorb text of this stream and type:
 * only the stream's latest event, since merging into an older one would reorder events. */
static struct wnode *
worker_list_last(struct wnode *head, uint64_t id, enum wevent_type type)
{
	struct wnode *q, *last = NULL;

	for (q = head; q != NULL; q = q->next)
		if (q->ev.id == id)
			last = q;
	return last != NULL && last->ev.type == type ? last : NULL;
}

/* Add n to the list [*head, *tail], merging text into the stream's latest event when it
 * is of the same type; returns 1 when n was merged (and freed). */
static int
worker_list_add(struct wnode **head, struct wnode **tail, struct wnode *n)
{
	struct wnode *last;

	if ((n->ev.type == WEV_TEXT || n->ev.type == WEV_REASONING) &&
	    (last = worker_list_last(*head, n->ev.id, n->ev.type)) != NULL) {
		worker_append(last, n->ev.text, n->ev.len);
		wevent_free(&n->ev); /* frees the node: ev is its first member */
		return 1;
	}
	n->next = NULL;
	if (*tail != NULL)
		(*tail)->next = n;
	else
		*head = n;
	*tail = n;
	return 0;
}

/* Queue an event for the UI. It waits in the worker's own batch until the loop turn ends
 * (worker_flush), so the many small deltas of one network read cost one lock and at most
 * one wake-up instead of one each. */
void
worker_push(struct worker *w, struct wnode *n)
{
	size_t i;

	/* Every provider text but the deltas (scrubbed in worker_scrub_held) leaves the worker
	 * here, so this is where keys an echoing server quoted are masked. */
	apierr_scrub(n->ev.error);
	secret_scrub_str(n->ev.finish_reason);
	for (i = 0; i < n->ev.models.n; i++) {
		secret_scrub_str(n->ev.models.v[i].id);
		secret_scrub_str(n->ev.models.v[i].display_name);
	}
	worker_list_add(&w->out_head, &w->out_tail, n);
}

/* Hand the batch to the UI: one lock, one write to the wake pipe if the queue was empty. */
static void
worker_flush(struct worker *w)
{
	struct wnode *n, *next;
	int was_empty;
	ssize_t r;

	if (w->out_head == NULL)
		return;
	pthread_mutex_lock(&w->eq_lock);
	was_empty = w->eq_head == NULL;
	w->eq_bytes += w->out_bytes;
	w->out_bytes = 0;
	for (n = w->out_head; n != NULL; n = next) {
		next = n->next;
		worker_list_add(&w->eq_head, &w->eq_tail, n);
	}
	w->out_head = w->out_tail = NULL;
	if (was_empty && w->eq_head != NULL) {
		do
			r = write(w->pipe_w, "x", 1);
		while (r < 0 && errno == EINTR);
	}
	pthread_mutex_unlock(&w->eq_lock);
}

/* Queue len bytes of text or reasoning, joining the batch's latest event of the stream. */
static void
worker_queue_text(struct job *j, enum wevent_type type, const char *p, size_t len)
{
	struct wnode *n;

	if (len == 0)
		return;
	j->w->out_bytes += len;
	/* Most deltas join text still waiting in this loop turn's batch: no allocation. */
	if ((n = worker_list_last(j->w->out_head, j->id, type)) != NULL) {
		worker_append(n, p, len);
		return;
	}
	n = worker_node(type, j->id);
	n->ev.text = xmalloc(len + 1);
	memcpy(n->ev.text, p, len);
	n->ev.text[len] = '\0';
	n->ev.len = len;
	n->cap = len + 1;
	worker_push(j->w, n);
}

/* Queue what a stream kept back of one type, scrubbed as the end of that text. */
static void
worker_release(struct job *j, enum wevent_type type)
{
	struct buf *h = &j->held[type == WEV_REASONING];

	if (h->len == 0)
		return;
	h->len = secret_scrub(h->data, h->len);
	worker_queue_text(j, type, h->data, h->len);
	buf_reset(h);
}

/* Queue a text or reasoning delta, counting the first token. With keys registered the
 * delta waits in held and is scrubbed with the rest of the loop turn's (worker_scrub_held),
 * which costs one pass per network read rather than one per token. */
static void
worker_emit_text(struct job *j, enum wevent_type type, const char *p, size_t len)
{
	if (len == 0)
		return;
	if (!j->got_token) {
		j->got_token = 1;
		j->t_first = worker_now();
	}
	if (!j->scrub) {
		worker_queue_text(j, type, p, len);
		return;
	}
	/* Reasoning ends where text starts (and back): what the other kept goes out first. */
	worker_release(j, type == WEV_REASONING ? WEV_TEXT : WEV_REASONING);
	buf_append(&j->held[type == WEV_REASONING], p, len);
}

/* Before a batch goes to the UI: scrub every stream's held text and queue all of it but a
 * tail that may be the start of a key. */
static void
worker_scrub_held(struct worker *w)
{
	struct job *j;
	size_t ok;
	int t;

	for (j = w->jobs; j != NULL; j = j->next) {
		for (t = 0; t < 2; t++) {
			struct buf *h = &j->held[t];

			if (h->len > 0 && (ok = secret_scrub_stream(h)) > 0) {
				worker_queue_text(j, t ? WEV_REASONING : WEV_TEXT, h->data, ok);
				buf_consume(h, ok);
			}
		}
	}
}

/* The stream decoder's callback: forward text and reasoning as they arrive. */
static void
worker_on_delta(void *ud, const struct delta *d)
{
	struct job *j = ud;

	j->ndeltas++;
	if (d->kind == DELTA_TEXT)
		worker_emit_text(j, WEV_TEXT, d->text, d->len);
	else if (d->kind == DELTA_REASONING) {
		/* What a thinking signature stands for, to check what the front end stored. */
		j->reason_hash = stream_hash(j->reason_len == 0 ? STREAM_HASH_INIT :
		    j->reason_hash, d->text, d->len);
		j->reason_len += d->len;
		worker_emit_text(j, WEV_REASONING, d->text, d->len);
	}
}

/* Release the curl side of a job (handle, header list, request). */
static void
worker_job_reset_http(struct job *j)
{
	if (j->easy != NULL) {
		curl_multi_remove_handle(j->w->multi, j->easy);
		curl_easy_cleanup(j->easy);
		j->easy = NULL;
	}
	curl_mime_free(j->mime);
	j->mime = NULL;
	curl_slist_free_all(j->hdrs);
	j->hdrs = NULL;
	if (j->hreq_set) {
		http_req_free(&j->hreq);
		j->hreq_set = 0;
	}
	http_headers_clear(&j->rhdrs);
	j->status_set = 0;
	j->last_byte = 0;
	j->t_sent = 0;
	j->t_body = 0;
	j->errbuf[0] = '\0';
}

/* Unlink a job from the worker and free it. */
void
worker_job_free(struct job *j)
{
	struct job **pp;

	for (pp = &j->w->jobs; *pp != NULL; pp = &(*pp)->next)
		if (*pp == j) {
			*pp = j->next;
			break;
		}
	worker_job_reset_http(j);
	if (j->st_set)
		stream_free(&j->st);
	if (j->sim_set)
		simulated_reply_free(&j->sim);
	buf_free(&j->body);
	buf_free(&j->held[0]);
	buf_free(&j->held[1]);
	free(j->page);
	model_list_free(&j->models);
	request_free(j->req);
	if (j->is_models)
		provider_free(j->prov);
	worker_fetch_free(j->fetch);
	free(j);
}

/* Whether a job is a simulated one. */
static int
worker_job_simulated(const struct job *j)
{
	return j->prov->proto == NULL || j->prov->proto->framing == FRAMING_NONE;
}

/* A new easy handle for url with what every transfer of the worker sets: no signals,
 * http(s) only, natter's user agent, the headers, the error buffer, the body and header
 * callbacks with their ud (also the handle's private pointer) and TCP keep-alive. */
CURL *
worker_easy(const char *url, struct curl_slist *hdrs, char *errbuf, curl_write_callback body,
    curl_write_callback head, void *ud)
{
	CURL *c = curl_easy_init();

	if (c == NULL)
		log_fatal("curl_easy_init failed");
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_USERAGENT, "natter/" NATTER_VERSION);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, ud);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, head);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, ud);
	curl_easy_setopt(c, CURLOPT_PRIVATE, ud);
	curl_easy_setopt(c, CURLOPT_TCP_KEEPALIVE, 1L);
	return c;
}

/* Map a libcurl failure to a transport error, keeping curl's own words. */
struct apierr *
worker_transport_error(CURLcode rc, const char *errbuf)
{
	enum apierr_class cls;
	struct apierr *e;
	char *msg;

	switch (rc) {
	case CURLE_OPERATION_TIMEDOUT:
		cls = APIERR_TIMEOUT;
		break;
	case CURLE_COULDNT_RESOLVE_PROXY:
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_CONNECT:
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
	case CURLE_GOT_NOTHING:
	case CURLE_PARTIAL_FILE:
	case CURLE_HTTP2:
	case CURLE_HTTP2_STREAM:
	case CURLE_PROXY:
		cls = APIERR_CONNECTION;
		break;
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_CIPHER:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_ENGINE_NOTFOUND:
	case CURLE_SSL_ENGINE_SETFAILED:
	case CURLE_SSL_CRL_BADFILE:
	case CURLE_SSL_ISSUER_ERROR:
	case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
	case CURLE_SSL_INVALIDCERTSTATUS:
	case CURLE_SSL_SHUTDOWN_FAILED:
	case CURLE_USE_SSL_FAILED:
		cls = APIERR_TLS;
		break;
	default:
		cls = APIERR_OTHER;
		break;
	}
	if (errbuf != NULL && errbuf[0] != '\0')
		msg = xasprintf("%s", errbuf);
	else
		msg = xasprintf("%s", curl_easy_strerror(rc));
	e = apierr_new(APIERR_TRANSPORT, cls, msg);
	e->retryable = cls == APIERR_CONNECTION || cls == APIERR_TIMEOUT;
	free(msg);
	return e;
}

/* libcurl header callback: remember the headers of the final response. */
static size_t
worker_header_cb(char *p, size_t size, size_t nmemb, void *ud)
{
	struct job *j = ud;
	size_t n = size * nmemb;

	j->last_byte = worker_now();
	/* A new status line starts a new response (100 Continue, proxy CONNECT). */
	if (n >= 5 && memcmp(p, "HTTP/", 5) == 0)
		http_headers_clear(&j->rhdrs);
	else
		http_headers_add_line(&j->rhdrs, p, n);
	return n;
}

/* Hand the final status and headers to the decoder, once, before any body byte. */
static void
worker_set_status(struct job *j)
{
	long code = 0;

	if (j->status_set)
		return;
	j->status_set = 1;
	curl_easy_getinfo(j->easy, CURLINFO_RESPONSE_CODE, &code);
	if (!j->is_models && j->fetch == NULL)
		stream_set_status(&j->st, code > 0 ? (int)code : 200, &j->rhdrs);
}

/* True when the decoder gave up on a line (or a whole reply) over max_line; the stream
 * holds the error. */
static int
worker_overflowed(const struct job *j)
{
	return j->st_set && (j->st.sse.overflow || j->st.nd.overflow || j->st.body_overflow);
}

/* Whether the UI's queue is full, counting what job j holds back for the scrubber; if so
 * the UI is asked to wake the worker as it drains. */
static int
worker_queue_full(struct job *j)
{
	struct worker *w = j->w;
	int full;

	pthread_mutex_lock(&w->eq_lock);
	full = w->eq_bytes + w->out_bytes + j->held[0].len + j->held[1].len >= WORKER_QUEUE_MAX;
	if (full)
		w->eq_full = 1;
	pthread_mutex_unlock(&w->eq_lock);
	return full;
}

/* libcurl write callback: feed the body to the decoder, or collect a model page. */
static size_t
worker_write_cb(char *p, size_t size, size_t nmemb, void *ud)
{
	struct job *j = ud;
	size_t n = size * nmemb, tools;
	unsigned long before;

	j->last_byte = worker_now();
	worker_set_status(j);
	if (j->is_models) {
		buf_append(&j->body, p, n);
		return n;
	}
	if (j->fetch != NULL) {
		if (j->t_body == 0)
			j->t_body = j->last_byte;
		return worker_fetch_write(j, p, n);
	}
	if (j->t_body == 0)
		j->t_body = j->last_byte;
	/* libcurl hands the same bytes again once the transfer is resumed. */
	if (worker_queue_full(j)) {
		j->paused = 1;
		return CURL_WRITEFUNC_PAUSE;
	}
	before = j->ndeltas;
	tools = j->st.tools.progress;
	stream_feed(&j->st, p, n);
	/* A piece of a tool call is a token too: arguments may stream for long. */
	if (j->st.tools.progress != tools) {
		j->ndeltas++;
		if (!j->got_token) {
			j->got_token = 1;
			j->t_first = j->last_byte;
		}
	}
	/* The idle deadline runs from the last read that brought a delta (not a comment). */
	if (j->ndeltas != before)
		j->last_delta = j->last_byte;
	/* A line over the cap ended the reply: reading the rest would only cost time. */
	if (worker_overflowed(j))
		return 0;
	return n;
}

/* libcurl read callback: the next bytes of a streamed body (see http_stream). */
static size_t
worker_read_cb(char *dst, size_t size, size_t nitems, void *ud)
{
	struct job *j = ud;
	const struct http_stream *st = j->hreq.stream;
	size_t got = st->read(st->arg, j->up_off, dst, size * nitems);

	j->up_off += got;
	return got;
}

/* libcurl seek callback: a streamed body starts again where libcurl asks (a rewind). */
static int
worker_seek_cb(void *ud, curl_off_t off, int origin)
{
	struct job *j = ud;

	if (origin != SEEK_SET || off < 0 || (size_t)off > j->hreq.stream->len)
		return CURL_SEEKFUNC_CANTSEEK;
	j->up_off = (size_t)off;
	return CURL_SEEKFUNC_OK;
}

/* libcurl pre-request callback: connected, so the idle clock starts now. */
static int
worker_prereq_cb(void *ud, char *conn_primary_ip, char *conn_local_ip, int conn_primary_port,
    int conn_local_port)
{
	struct job *j = ud;

	(void)conn_primary_ip;
	(void)conn_local_ip;
	(void)conn_primary_port;
	(void)conn_local_port;
	j->last_byte = worker_now();
	j->t_sent = j->last_byte;
	return CURL_PREREQFUNC_OK;
}

/* How long libcurl may see no byte at all before it gives up, 0 for never: the longer of
 * the worker's deadlines, since bytes may pause for as long as either allows (a reasoning
 * model thinks silently until its first token). */
static long
worker_backstop_ms(const struct job *j)
{
	const struct provider *p = j->prov;

	if (j->is_models)
		return p->idle_timeout_ms > 0 ? p->idle_timeout_ms : 0;
	if (p->first_token_timeout_ms <= 0 || p->idle_timeout_ms <= 0)
		return 0;
	return p->first_token_timeout_ms > p->idle_timeout_ms ? p->first_token_timeout_ms :
	    p->idle_timeout_ms;
}

/* Start one HTTP attempt of a job: build the request and hand an easy handle to the multi. */
static void
worker_start_http(struct job *j)
{
	const struct provider *p = j->prov;
	CURL *c;
	size_t i;
	long backstop_ms;

	worker_job_reset_http(j);
	if (j->is_models) {
		buf_reset(&j->body);
		p->proto->build_models(p, j->page, &j->hreq);
	} else if (j->fetch != NULL) {
		worker_fetch_build(j);
	} else {
		if (j->st_set)
			stream_free(&j->st);
		stream_init(&j->st, p->proto, worker_on_delta, j);
		stream_set_max_line(&j->st, p->max_line);
		/* One JSON body, read whole within max_line and decoded at its end. */
		if (j->req->no_stream)
			stream_set_whole(&j->st);
		/* Deltas go straight to the UI as events; keeping a second copy would only
		 * double the memory of long replies. */
		j->st.keep_text = 0;
		j->st_set = 1;
		j->reason_len = 0;
		p->proto->build_chat(j->req, &j->hreq);
	}
	j->hreq_set = 1;
	for (i = 0; i < j->hreq.nheaders; i++)
		j->hdrs = curl_slist_append(j->hdrs, j->hreq.headers[i]);
	/* Expect: 100-continue would cost a round trip on large prompts. */
	j->hdrs = curl_slist_append(j->hdrs, "Expect:");
	c = j->easy = worker_easy(j->hreq.url, j->hdrs, j->errbuf, worker_write_cb,
	    worker_header_cb, j);
	curl_easy_setopt(c, CURLOPT_PREREQFUNCTION, worker_prereq_cb);
	curl_easy_setopt(c, CURLOPT_PREREQDATA, j);
	if (j->hreq.body != NULL) {
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)j->hreq.body_len);
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, j->hreq.body);
	} else if (j->hreq.stream != NULL) {
		/* Large reads: a 27 MB body goes in a few dozen callbacks, not hundreds. */
		j->up_off = 0;
		curl_easy_setopt(c, CURLOPT_POST, 1L);
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)j->hreq.stream->len);
		curl_easy_setopt(c, CURLOPT_READFUNCTION, worker_read_cb);
		curl_easy_setopt(c, CURLOPT_READDATA, j);
		curl_easy_setopt(c, CURLOPT_SEEKFUNCTION, worker_seek_cb);
		curl_easy_setopt(c, CURLOPT_SEEKDATA, j);
		curl_easy_setopt(c, CURLOPT_UPLOAD_BUFFERSIZE, 512L * 1024);
	} else if (j->hreq.nparts > 0) {
		worker_fetch_mime(j, c);
	}
	if (strcmp(j->hreq.method, "GET") != 0 && strcmp(j->hreq.method, "POST") != 0)
		curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, j->hreq.method);
	else if (strcmp(j->hreq.method, "POST") == 0 && j->hreq.body == NULL &&
	    j->hreq.stream == NULL && j->mime == NULL)
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, 0L);
	if (strcmp(j->hreq.method, "POST") == 0 && j->hreq.body == NULL &&
	    j->hreq.stream == NULL && j->mime == NULL)
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, "");
	if (p->connect_timeout_ms > 0)
		curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, p->connect_timeout_ms);
	if ((backstop_ms = worker_backstop_ms(j)) > 0) {
		/* The worker's own timers (worker_run_timers) are exact to the millisecond;
		 * libcurl's low-speed check averages over seconds and stays as a backstop. */
		curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
		curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, (backstop_ms + 999) / 1000);
	}
	if (p->request_timeout_ms > 0)
		curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, p->request_timeout_ms);
	if (p->proxy != NULL && p->proxy[0] != '\0')
		curl_easy_setopt(c, CURLOPT_PROXY, p->proxy);
	if (p->ca_bundle != NULL && p->ca_bundle[0] != '\0')
		curl_easy_setopt(c, CURLOPT_CAINFO, p->ca_bundle);
	/* Fast local servers send faster than 16 KiB reads drain; bigger reads mean fewer
	 * loop turns and fewer wake-ups of the reader. */
	curl_easy_setopt(c, CURLOPT_BUFFERSIZE, 131072L);
	if (curl_multi_add_handle(j->w->multi, c) != CURLM_OK)
		log_fatal("curl_multi_add_handle failed");
	j->state = JOB_HTTP;
	j->w->kick = 1;
}

/* Start a simulated attempt: generate the reply and schedule its first token. */
static void
worker_start_sim(struct job *j)
{
	if (j->sim_set)
		simulated_reply_free(&j->sim);
	simulated_reply(j->req, &j->sim);
	j->sim_set = 1;
	j->sim_pos = 0;
	j->sim_rate = simulated_rate(j->req);
	j->sim_start = worker_now();
	j->state = JOB_SIM;
	j->due = j->sim_start;
	/* A whole reply comes when its last token would have: the reply takes as long either
	 * way, and the first token is the whole of it. */
	if (j->req->no_stream && j->sim.error == NULL && j->sim_rate > 0 && j->sim.stop_at > 1)
		j->due += (int64_t)((double)(j->sim.stop_at - 1) * 1000.0 / j->sim_rate) + 1;
}

/* Install secret as the provider's key, wiping the one it replaces. */
static void
worker_set_key(struct provider *p, char *secret)
{
	if (p->key != NULL) {
		volatile char *k = p->key;

		while (*k != '\0')
			*k++ = '\0';
		free(p->key);
	}
	p->key = secret;
}

/* A rough token count of a request (four bytes a token), for the pool's tokens-per-minute
 * window until the provider reports the real usage. */
static long
worker_estimate(const struct request *r)
{
	size_t i, bytes = r->system != NULL ? strlen(r->system) : 0;

	for (i = 0; i < r->nmsgs; i++)
		bytes += strlen(r->msgs[i].content);
	return (long)(bytes / 4 + 1);
}

static void worker_done(struct job *j, struct apierr *err, int complete, int cancelled);

/* The tokens a job's request is expected to cost, for the pool's window. */
static long
worker_job_estimate(const struct job *j)
{
	return j->fetch != NULL ? j->fetch->est_tokens : worker_estimate(j->req);
}

/* End a chat or a fetch that failed before a transfer could run. */
static void
worker_end(struct job *j, struct apierr *err)
{
	if (j->fetch != NULL)
		worker_fetch_done(j, err);
	else
		worker_done(j, err, 0, 0);
}

/* Take this attempt's key from the provider's pool. Returns 0 when a key is set, 1 when the
 * job now waits for one, -1 when it ended (and was freed) because none frees up in time. */
static int
worker_take_key(struct job *j)
{
	struct keypool *kp = j->prov->pool;
	double wait, max = keypool_max_wait(kp);
	struct apierr *e;
	struct wnode *n;
	char *secret, *msg;
	long delay;
	int idx = keypool_acquire(kp, worker_job_estimate(j), &secret, &wait);

	if (idx >= 0) {
		worker_set_key(j->prov, secret);
		j->key_idx = idx;
		return 0;
	}
	j->key_idx = -1;
	/* Whole milliseconds plus one, so the timer never fires a hair before the key frees. */
	delay = (long)(wait * 1000.0) + 1;
	if (wait >= 0 && (double)(j->key_waited + delay) <= max * 1000.0 + 10) {
		msg = xasprintf("all keys for %s are rate-limited", keypool_provider(kp));
		e = apierr_new(APIERR_LOCAL, APIERR_RATE_LIMIT, msg);
		free(msg);
		e->retryable = 1;
		n = worker_node(WEV_RETRY, j->id);
		n->ev.attempt = j->attempt;
		n->ev.delay_ms = delay;
		n->ev.error = e;
		n->ev.key_wait = 1;
		worker_push(j->w, n);
		j->key_waited += delay;
		j->state = JOB_WAIT;
		j->due = worker_now() + delay;
		return 1;
	}
	if (wait < 0) {
		msg = xasprintf("no usable key for %s", keypool_provider(kp));
		e = apierr_new(APIERR_LOCAL, APIERR_OTHER, msg);
	} else {
		msg = xasprintf("all %zu keys for %s are rate-limited; the first is free again in "
		    "%.0fs (longer than key_wait: %.0fs)", keypool_count(kp), keypool_provider(kp),
		    wait < 1 ? 1 : wait, max);
		e = apierr_new(APIERR_LOCAL, APIERR_RATE_LIMIT, msg);
		e->retry_after_s = wait;
	}
	free(msg);
	e->retryable = 0;
	worker_end(j, e);
	return -1;
}

/* Start the next attempt of a job, over HTTP or simulated; returns -1 when the job ended
 * instead (and was freed). */
static int
worker_start_attempt(struct job *j)
{
	if (j->is_models) {
		worker_start_http(j);
		return 0;
	}
	if (j->prov->pool != NULL) {
		switch (worker_take_key(j)) {
		case 1:
			return 0;
		case -1:
			return -1;
		default:
			break;
		}
	}
	if (worker_job_simulated(j) && j->fetch == NULL)
		worker_start_sim(j);
	else
		worker_start_http(j);
	return 0;
}

/* Move a reply's whole tool calls into its DONE event, keys masked. */
static void
worker_take_calls(struct toolacc *a, struct wevent *ev)
{
	size_t i;

	toolacc_finish(a);
	if (a->n == 0)
		return;
	ev->calls = a->v;
	ev->ncalls = a->n;
	memset(a, 0, sizeof(*a));
	for (i = 0; i < ev->ncalls; i++) {
		struct toolcall *c = &ev->calls[i];

		if (c->args.data != NULL) {
			c->args.len = secret_scrub(c->args.data, c->args.len);
			c->args.data[c->args.len] = '\0';
		}
		c->name[secret_scrub(c->name, strlen(c->name))] = '\0';
		c->id[secret_scrub(c->id, strlen(c->id))] = '\0';
	}
}

/* Finish a chat job with exactly one DONE (preceded by its USAGE when there is one). */
static void
worker_done(struct job *j, struct apierr *err, int complete, int cancelled)
{
	const struct usage *u = NULL;
	const char *finish = NULL;
	struct usage played;
	struct wnode *n;
	int64_t now = worker_now();

	worker_release(j, WEV_REASONING);
	worker_release(j, WEV_TEXT);
	if (j->st_set) {
		u = &j->st.usage;
		finish = j->st.finish_reason;
	} else if (j->sim_set) {
		/* A cancelled reply counts the tokens that went out, not the ones it planned. */
		simulated_usage_played(&j->sim, j->sim_pos, &played);
		u = &played;
		finish = j->sim.finish_reason;
	}
	if (u != NULL && usage_present(u)) {
		n = worker_node(WEV_USAGE, j->id);
		n->ev.usage = *u;
		worker_push(j->w, n);
	}
	if (j->prov->pool != NULL && j->key_idx >= 0 && err == NULL && !cancelled) {
		keypool_success(j->prov->pool, j->key_idx);
		if (u != NULL && usage_present(u))
			keypool_add_tokens(j->prov->pool, j->key_idx, u->total_tokens > 0 ?
			    u->total_tokens : (u->input_tokens > 0 ? u->input_tokens : 0) +
			    (u->output_tokens > 0 ? u->output_tokens : 0));
	}
	n = worker_node(WEV_DONE, j->id);
	if (u != NULL)
		n->ev.usage = *u;
	if (finish != NULL && !cancelled)
		n->ev.finish_reason = xstrdup(finish);
	n->ev.error = err;
	n->ev.complete = complete;
	n->ev.cancelled = cancelled;
	if (j->st_set && !cancelled)
		n->ev.warning = stream_warning(&j->st);
	if (j->st_set && !cancelled && complete && err == NULL && stream_signed(&j->st) != NULL &&
	    j->reason_len > 0) {
		n->ev.signature = xstrdup(stream_signed(&j->st));
		n->ev.signed_len = j->reason_len;
		n->ev.signed_hash = j->reason_hash;
	}
	n->ev.ttft_ms = j->got_token ? (long)(j->t_first - j->t_submit) : -1;
	n->ev.duration_ms = (long)(now - j->t_submit);
	if (j->st_set && !cancelled) {
		stream_tool_calls(&j->st);
		j->st.ntools_reported = 0;
		worker_take_calls(&j->st.tools, &n->ev);
	} else if (j->sim_set && !cancelled && j->sim_pos >= j->sim.stop_at) {
		worker_take_calls(&j->sim.calls, &n->ev);
	}
	worker_push(j->w, n);
	worker_job_free(j);
}

/* Finish a models job with exactly one MODELS event. */
static void
worker_models_done(struct job *j, struct apierr *err)
{
	struct wnode *n = worker_node(WEV_MODELS, j->id);

	n->ev.error = err;
	if (err == NULL) {
		n->ev.models = j->models;
		memset(&j->models, 0, sizeof(j->models));
	}
	n->ev.duration_ms = (long)(worker_now() - j->t_submit);
	worker_push(j->w, n);
	worker_job_free(j);
}

/* A duration in milliseconds as seconds for messages: "300 s", "0.4 s". Caller frees. */
char *
worker_secs(long ms)
{
	return xasprintf("%g s", (double)ms / 1000.0);
}

/* An attempt failed: schedule a retry when the policy allows, else end the stream. */
void
worker_fail(struct job *j, struct apierr *err, int complete)
{
	const struct provider *p = j->prov;
	struct wnode *n;
	long delay;

	/* A rate-limited key rests and the request moves to the next one; only when no key
	 * is free does the wait (or the clear failure) of worker_take_key follow. */
	if (!j->got_token && err->cls == APIERR_RATE_LIMIT && p->pool != NULL &&
	    j->key_idx >= 0 && keypool_count(p->pool) > 1) {
		keypool_block(p->pool, j->key_idx, err->retry_after_s);
		j->key_idx = -1;
		worker_job_reset_http(j);
		j->state = JOB_WAIT;
		j->due = worker_now();
		if (keypool_wait(p->pool, worker_job_estimate(j)) == 0) {
			n = worker_node(WEV_RETRY, j->id);
			n->ev.attempt = j->attempt;
			n->ev.delay_ms = 0;
			n->ev.error = err;
			n->ev.rotated = 1;
			worker_push(j->w, n);
		} else {
			apierr_free(err);
		}
		return;
	}
	if (!j->got_token && j->attempt <= p->max_retries && retry_error_retryable(err)) {
		delay = retry_delay_ms(j->attempt - 1, err->retry_after_s, p->max_retry_delay_s,
		    retry_random01());
		if (delay >= 0 && !retry_within_budget((long)(worker_now() - j->t_submit), delay,
		    p->retry_total_ms)) {
			/* The retry budget is spent: say so, or the missing retry looks like a bug. */
			char *secs = worker_secs(p->retry_total_ms), *msg;

			msg = xasprintf("%s (not retried: retries stop %s after the first attempt, "
			    "retry_total)", err->message != NULL ? err->message : "", secs);
			free(err->message);
			err->message = msg;
			free(secs);
			delay = -1;
		}
		if (delay >= 0) {
			n = worker_node(WEV_RETRY, j->id);
			n->ev.attempt = j->attempt + 1;
			n->ev.delay_ms = delay;
			n->ev.error = err;
			worker_push(j->w, n);
			worker_job_reset_http(j);
			j->attempt++;
			j->state = JOB_WAIT;
			j->due = worker_now() + delay;
			return;
		}
	}
	/* The hint then says whether the server's wait was beyond what natter waits for. */
	err->retry_cap_s = p->max_retry_delay_s > 0 ? p->max_retry_delay_s : 60;
	if (j->fetch != NULL)
		worker_fetch_done(j, err);
	else
		worker_done(j, err, complete, 0);
}

/* A transfer of a chat job ended: decide complete, failed or retried. */
static void
worker_chat_finished(struct job *j, CURLcode rc)
{
	struct apierr *err = NULL;

	/* A transfer aborted for a line over the cap ends with the decoder's own error. */
	if (rc != CURLE_OK && !worker_overflowed(j)) {
		err = worker_transport_error(rc, j->errbuf);
		/* The decoder still closes its books so usage seen so far is reported; a whole
		 * reply cut short has nothing to report and is not decoded. */
		if (!j->st.whole)
			stream_finish(&j->st);
		worker_fail(j, err, 0);
		return;
	}
	worker_set_status(j);
	stream_finish(&j->st);
	if (j->st.error != NULL) {
		err = apierr_dup(j->st.error);
		if (err->retry_after_s < 0)
			err->retry_after_s = http_retry_after(&j->rhdrs);
		if (err->request_id == NULL && http_request_id(&j->rhdrs) != NULL)
			err->request_id = xstrdup(http_request_id(&j->rhdrs));
	} else if (!j->st.complete) {
		err = apierr_new(APIERR_STREAM, APIERR_TRUNCATED, j->st.whole ?
		    "the provider's reply says it is not finished" :
		    "the stream ended before the provider finished the reply");
		err->retryable = 1;
	}
	if (err != NULL)
		worker_fail(j, err, j->st.complete);
	else
		worker_done(j, NULL, 1, 0);
}

/* A transfer of a models job ended: parse the page, follow the next one, or report. */
static void
worker_models_finished(struct job *j, CURLcode rc)
{
	struct apierr *err;
	long code = 0;
	char *next = NULL;

	if (rc != CURLE_OK) {
		worker_models_done(j, worker_transport_error(rc, j->errbuf));
		return;
	}
	curl_easy_getinfo(j->easy, CURLINFO_RESPONSE_CODE, &code);
	if (code < 200 || code > 299) {
		err = apierr_new(APIERR_HTTP, APIERR_OTHER, "");
		err->status = (int)code;
		j->prov->proto->parse_error(j->body.data != NULL ? j->body.data : "", j->body.len,
		    &j->rhdrs, err);
		apierr_classify(err);
		if (err->request_id == NULL && http_request_id(&j->rhdrs) != NULL)
			err->request_id = xstrdup(http_request_id(&j->rhdrs));
		worker_models_done(j, err);
		return;
	}
	if (j->prov->proto->parse_models(j->body.data != NULL ? j->body.data : "", j->body.len,
	    &j->models, &next) != 0) {
		free(next);
		worker_models_done(j, apierr_new(APIERR_HTTP, APIERR_BAD_REQUEST,
		    "the server's answer is not a model list"));
		return;
	}
	free(j->page);
	j->page = next;
	if (next != NULL && ++j->npages < WORKER_MAX_PAGES) {
		worker_start_http(j);
		return;
	}
	worker_models_done(j, NULL);
}

/* Play the simulated tokens that are due; end the stream after the last one. */
static void
worker_sim_step(struct job *j, int64_t now)
{
	struct simulated_reply *r = &j->sim;
	size_t target, from;
	int64_t elapsed;
	struct apierr *err;

	if (r->error != NULL) {
		err = apierr_dup(r->error);
		worker_fail(j, err, 0);
		return;
	}
	if (j->req->no_stream) {
		target = r->stop_at;
	} else if (j->sim_rate > 0) {
		elapsed = now - j->sim_start;
		target = (size_t)((double)elapsed * j->sim_rate / 1000.0) + 1;
	} else {
		target = j->sim_pos + WORKER_SIM_BATCH;
	}
	if (target > r->stop_at)
		target = r->stop_at;
	/* One event per run of reasoning or text: a burst of due tokens is one delta. */
	while (j->sim_pos < target) {
		from = j->sim_pos;
		if (from < r->nthink) {
			j->sim_pos = target < r->nthink ? target : r->nthink;
			worker_emit_text(j, WEV_REASONING, r->text.data + (from ? r->ends[from - 1] : 0),
			    r->ends[j->sim_pos - 1] - (from ? r->ends[from - 1] : 0));
		} else {
			j->sim_pos = target;
			worker_emit_text(j, WEV_TEXT, r->text.data + (from ? r->ends[from - 1] : 0),
			    r->ends[j->sim_pos - 1] - (from ? r->ends[from - 1] : 0));
		}
	}
	if (j->sim_pos >= r->stop_at) {
		if (r->truncated) {
			err = apierr_new(APIERR_STREAM, APIERR_TRUNCATED,
			    "the simulated stream was cut half way (fault=cut in the prompt)");
			worker_done(j, err, 0, 0);
		} else {
			worker_done(j, NULL, 1, 0);
		}
		return;
	}
	/* Token number sim_pos (0-based) is due sim_pos/rate seconds after the start; the
	 * extra millisecond keeps rounding from waking the loop a hair too early. */
	if (j->sim_rate > 0)
		j->due = j->sim_start + (int64_t)((double)j->sim_pos * 1000.0 / j->sim_rate) + 1;
	else
		j->due = now;
}

/* True when a chat's whole reply has started to arrive: its deadline is on bytes now. */
static int
worker_whole_arriving(const struct job *j)
{
	if (j->fetch != NULL)
		return j->t_body != 0;
	return !j->is_models && j->st_set && j->st.whole && j->t_body != 0;
}

/* When the running transfer's deadline falls, or 0 when no timer runs for it: a model
 * listing's byte-level idle timer; a chat's first-token deadline, then its idle deadline.
 * A whole reply (no_stream) has no tokens until its end: the first-token deadline runs to
 * its first body byte, then the idle deadline to each next byte. */
static int64_t
worker_deadline(const struct job *j)
{
	const struct provider *p = j->prov;

	if (j->state != JOB_HTTP || j->paused)
		return 0;
	if (j->is_models || worker_whole_arriving(j))
		return j->last_byte != 0 && p->idle_timeout_ms > 0 ?
		    j->last_byte + p->idle_timeout_ms : 0;
	if (!j->got_token)
		return j->t_sent != 0 && p->first_token_timeout_ms > 0 ?
		    j->t_sent + p->first_token_timeout_ms : 0;
	return p->idle_timeout_ms > 0 ? j->last_delta + p->idle_timeout_ms : 0;
}

/* Abort a transfer whose deadline fell. Before the first token it is a retryable timeout;
 * after it the partial reply stands and the stream ends with the timeout as its error. */
static void
worker_deadline_expired(struct job *j)
{
	const struct provider *p = j->prov;
	struct apierr *e;
	char *msg, *secs;

	if (j->is_models || worker_whole_arriving(j)) {
		secs = worker_secs(p->idle_timeout_ms);
		msg = xasprintf("no data from the server for %s (idle_timeout)", secs);
	} else if (j->fetch != NULL || (j->st_set && j->st.whole)) {
		secs = worker_secs(p->first_token_timeout_ms);
		msg = xasprintf("no reply from the server within %s of sending the request "
		    "(first_token_timeout)", secs);
	} else if (!j->got_token) {
		secs = worker_secs(p->first_token_timeout_ms);
		msg = xasprintf("no token from the server within %s of sending the request "
		    "(first_token_timeout)", secs);
	} else {
		secs = worker_secs(p->idle_timeout_ms);
		msg = xasprintf("no token from the server for %s (idle_timeout)", secs);
	}
	e = apierr_new(APIERR_TRANSPORT, APIERR_TIMEOUT, msg);
	e->retryable = 1;
	free(msg);
	free(secs);
	if (j->is_models) {
		worker_models_done(j, e);
		return;
	}
	/* Close the decoder's books (usage so far); half a whole reply is not decoded. */
	if (j->fetch == NULL && !j->st.whole)
		stream_finish(&j->st);
	worker_fail(j, e, 0);
}

/* Run every timer that is due: retries to start, simulated tokens, deadlines. */
static void
worker_run_timers(struct worker *w)
{
	struct job *j, *next;
	int64_t now = worker_now(), due;

	for (j = w->jobs; j != NULL; j = next) {
		next = j->next;
		if (j->state == JOB_HTTP) {
			if ((due = worker_deadline(j)) != 0 && due <= now)
				worker_deadline_expired(j);
			continue;
		}
		if (j->due > now)
			continue;
		if (j->state == JOB_WAIT && worker_start_attempt(j) != 0)
			continue;
		if (j->state == JOB_SIM && j->due <= now)
			worker_sim_step(j, now);
	}
}

/* Milliseconds until the next timer, or -1 when none is pending. */
static long
worker_next_timeout(struct worker *w)
{
	struct job *j;
	int64_t now = worker_now(), best = -1, d;

	for (j = w->jobs; j != NULL; j = j->next) {
		if (j->state == JOB_HTTP) {
			if ((d = worker_deadline(j)) == 0)
				continue;
			d -= now;
		} else {
			d = j->due - now;
		}
		if (d < 0)
			d = 0;
		if (best < 0 || d < best)
			best = d;
	}
	return (long)best;
}

/* Find a job by id. */
static struct job *
worker_job_find(struct worker *w, uint64_t id)
{
	struct job *j;

	for (j = w->jobs; j != NULL; j = j->next)
		if (j->id == id)
			return j;
	return NULL;
}

/* Create a job for a request and start it. */
static void
worker_job_add(struct worker *w, struct wreq *rq)
{
	struct job *j = xcalloc(1, sizeof(*j));

	j->id = rq->id;
	j->w = w;
	j->attempt = 1;
	j->key_idx = -1;
	j->t_submit = worker_now();
	j->t_first = -1;
	/* Keys are registered when the config loads, before any request. */
	j->scrub = secret_count() > 0;
	if (rq->type == WREQ_MODELS) {
		j->is_models = 1;
		j->prov = rq->prov;
	} else if (rq->type == WREQ_FETCH) {
		j->fetch = rq->fetch;
		j->prov = j->fetch->provider;
	} else {
		j->req = rq->req;
		j->prov = j->req->provider;
	}
	rq->req = NULL;
	rq->prov = NULL;
	rq->fetch = NULL;
	j->next = w->jobs;
	w->jobs = j;
	if (j->prov->proto == NULL || (j->fetch != NULL && worker_job_simulated(j))) {
		struct apierr *e = apierr_new(APIERR_LOCAL, APIERR_BAD_REQUEST,
		    j->prov->proto == NULL ? "unknown protocol for this provider" :
		    "the simulated provider answers chats only");

		if (j->is_models)
			worker_models_done(j, e);
		else
			worker_end(j, e);
		return;
	}
	if (j->is_models && worker_job_simulated(j)) {
		simulated_models(&j->models);
		worker_models_done(j, NULL);
		return;
	}
	worker_start_attempt(j);
}

/* Stop a job at once; its partial output was already queued. */
static void
worker_job_cancel(struct worker *w, uint64_t id)
{
	struct job *j = worker_job_find(w, id);

	if (j == NULL)
		return;
	worker_job_reset_http(j);
	if (j->is_models)
		worker_models_done(j, apierr_new(APIERR_LOCAL, APIERR_CANCELLED, "cancelled"));
	else if (j->fetch != NULL)
		worker_fetch_done(j, apierr_new(APIERR_LOCAL, APIERR_CANCELLED, "cancelled"));
	else
		worker_done(j, NULL, 0, 1);
}

/* Free a request node and whatever it still owns. */
static void
worker_wreq_free(struct wreq *rq)
{
	request_free(rq->req);
	provider_free(rq->prov);
	worker_http_free(rq->x);
	worker_fetch_free(rq->fetch);
	free(rq);
}

/* Take the pending requests; returns 1 when the worker must quit. */
static int
worker_take_requests(struct worker *w)
{
	struct wreq *rq, *next;
	int quit;

	pthread_mutex_lock(&w->rq_lock);
	rq = w->rq_head;
	w->rq_head = w->rq_tail = NULL;
	quit = w->quit;
	pthread_mutex_unlock(&w->rq_lock);
	for (; rq != NULL; rq = next) {
		next = rq->next;
		if (!quit) {
			if (rq->type == WREQ_CANCEL && !worker_http_cancel(w, rq->id))
				worker_job_cancel(w, rq->id);
			else if (rq->type == WREQ_HTTP) {
				worker_http_start(w, rq->x, rq->id);
				rq->x = NULL;
			} else if (rq->type != WREQ_CANCEL)
				worker_job_add(w, rq);
		}
		worker_wreq_free(rq);
	}
	return quit;
}

/* Collect finished transfers from the multi handle. */
static void
worker_reap(struct worker *w)
{
	CURLMsg *m;
	int left;
	struct job *j;

	while ((m = curl_multi_info_read(w->multi, &left)) != NULL) {
		if (m->msg != CURLMSG_DONE ||
		    worker_http_finished(w, m->easy_handle, m->data.result))
			continue;
		j = NULL;
		curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&j);
		if (j == NULL)
			continue;
		if (j->is_models)
			worker_models_finished(j, m->data.result);
		else if (j->fetch != NULL)
			worker_fetch_finished(j, m->data.result);
		else
			worker_chat_finished(j, m->data.result);
	}
}

/* Resume the transfers paused on a full queue once the UI has drained it; their deadlines
 * start again, since the server was held back, not silent. */
static void
worker_resume(struct worker *w)
{
	struct job *j;
	int full;

	for (j = w->jobs; j != NULL && !j->paused; j = j->next)
		;
	if (j == NULL)
		return;
	pthread_mutex_lock(&w->eq_lock);
	full = w->eq_full;
	pthread_mutex_unlock(&w->eq_lock);
	if (full)
		return;
	for (j = w->jobs; j != NULL; j = j->next) {
		if (!j->paused)
			continue;
		j->paused = 0;
		j->last_byte = j->last_delta = worker_now();
		curl_easy_pause(j->easy, CURLPAUSE_CONT);
	}
}

/* The worker thread: requests, transfers and timers until told to quit. */
static void *
worker_main(void *arg)
{
	struct worker *w = arg;
	int running;
	long timeout;

	for (;;) {
		if (worker_take_requests(w))
			break;
		do {
			w->kick = 0;
			worker_resume(w);
			curl_multi_perform(w->multi, &running);
			worker_reap(w);
			worker_run_timers(w);
		} while (w->kick);
		worker_scrub_held(w);
		worker_flush(w);
		timeout = worker_next_timeout(w);
		/* No timer means no timeout: libcurl shortens the wait for its own timers,
		 * and an idle worker sleeps until curl_multi_wakeup(). */
		curl_multi_poll(w->multi, NULL, 0, timeout < 0 ? INT_MAX :
		    (timeout > INT_MAX ? INT_MAX : (int)timeout), NULL);
	}
	while (w->jobs != NULL)
		worker_job_free(w->jobs);
	worker_http_stop_all(w);
	worker_flush(w);
	json_arena_release();
	return NULL;
}

/* Create the queues, the wake pipe and the multi handle, then spawn the thread. */
struct worker *
worker_start(void)
{
	struct worker *w = xcalloc(1, sizeof(*w));
	int fds[2];

	worker_global_init();
	if (pipe2(fds, O_NONBLOCK | O_CLOEXEC) != 0)
		log_fatal("pipe: %s", strerror(errno));
	w->pipe_r = fds[0];
	w->pipe_w = fds[1];
	if ((w->multi = curl_multi_init()) == NULL)
		log_fatal("curl_multi_init failed");
	pthread_mutex_init(&w->rq_lock, NULL);
	pthread_mutex_init(&w->eq_lock, NULL);
	w->next_id = 1;
	if (pthread_create(&w->thread, NULL, worker_main, w) != 0)
		log_fatal("cannot start the worker thread");
	return w;
}

/* The descriptor to poll() for readability. */
int
worker_fd(const struct worker *w)
{
	return w->pipe_r;
}

/* Queue a request for the worker thread and wake it; returns the new id when one is made. */
uint64_t
worker_enqueue(struct worker *w, struct wreq *rq)
{
	uint64_t id;

	pthread_mutex_lock(&w->rq_lock);
	if (rq->type != WREQ_CANCEL)
		rq->id = w->next_id++;
	id = rq->id;
	if (w->rq_tail != NULL)
		w->rq_tail->next = rq;
	else
		w->rq_head = rq;
	w->rq_tail = rq;
	pthread_mutex_unlock(&w->rq_lock);
	curl_multi_wakeup(w->multi);
	return id;
}

/* Start a chat stream; the worker owns req from now on. */
uint64_t
worker_submit(struct worker *w, struct request *req)
{
	struct wreq *rq = xcalloc(1, sizeof(*rq));

	rq->type = WREQ_CHAT;
	rq->req = req;
	return worker_enqueue(w, rq);
}

/* Ask the worker to stop stream id. */
void
worker_cancel(struct worker *w, uint64_t id)
{
	struct wreq *rq = xcalloc(1, sizeof(*rq));

	rq->type = WREQ_CANCEL;
	rq->id = id;
	worker_enqueue(w, rq);
}

/* List a provider's models; p is copied. */
uint64_t
worker_models(struct worker *w, const struct provider *p)
{
	struct wreq *rq = xcalloc(1, sizeof(*rq));

	rq->type = WREQ_MODELS;
	rq->prov = provider_dup(p);
	return worker_enqueue(w, rq);
}

/* Send a one-shot request; the worker owns f from now on. */
uint64_t
worker_fetch(struct worker *w, struct worker_fetch *f)
{
	struct wreq *rq = xcalloc(1, sizeof(*rq));

	rq->type = WREQ_FETCH;
	rq->fetch = f;
	return worker_enqueue(w, rq);
}

/* Dequeue one event; the wake pipe is emptied with the queue so poll() stays exact. */
struct wevent *
worker_next(struct worker *w)
{
	struct wnode *n;
	int wake = 0;

	pthread_mutex_lock(&w->eq_lock);
	n = w->eq_head;
	if (n != NULL) {
		w->eq_head = n->next;
		if (w->eq_head == NULL) {
			w->eq_tail = NULL;
			worker_drain_pipe(w);
		}
		n->next = NULL;
		if (n->ev.type == WEV_TEXT || n->ev.type == WEV_REASONING)
			w->eq_bytes -= n->ev.len < w->eq_bytes ? n->ev.len : w->eq_bytes;
		if (w->eq_full && w->eq_bytes <= WORKER_QUEUE_LOW) {
			w->eq_full = 0;
			wake = 1;
		}
	} else {
		worker_drain_pipe(w);
	}
	pthread_mutex_unlock(&w->eq_lock);
	if (wake)
		curl_multi_wakeup(w->multi);
	return n != NULL ? &n->ev : NULL;
}

/* Stop the thread, then free everything still queued in either direction. */
void
worker_stop(struct worker *w)
{
	struct wreq *rq, *rnext;
	struct wnode *n, *nnext;

	if (w == NULL)
		return;
	pthread_mutex_lock(&w->rq_lock);
	w->quit = 1;
	pthread_mutex_unlock(&w->rq_lock);
	curl_multi_wakeup(w->multi);
	pthread_join(w->thread, NULL);
	for (rq = w->rq_head; rq != NULL; rq = rnext) {
		rnext = rq->next;
		worker_wreq_free(rq);
	}
	for (n = w->eq_head; n != NULL; n = nnext) {
		nnext = n->next;
		wevent_free(&n->ev);
	}
	curl_multi_cleanup(w->multi);
	close(w->pipe_r);
	close(w->pipe_w);
	pthread_mutex_destroy(&w->rq_lock);
	pthread_mutex_destroy(&w->eq_lock);
	free(w);
}
