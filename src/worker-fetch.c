/*
 * The worker's one-shot requests (worker_fetch, contract in worker.h): transcriptions and
 * batches of embeddings, whose answer is one body rather than a stream. They share the
 * chat's machinery in worker.c (key pools, retries, deadlines, cancellation, the masking
 * of keys); what is theirs is here: building each attempt's request, a multipart body
 * through libcurl's mime API (a file part is read from disk as it goes out, never held
 * whole), collecting the answer within its cap, and turning the end of a transfer into the
 * body, a retry or a typed error that reads like a chat's.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>

#include "apierr.h"
#include "buf.h"
#include "http.h"
#include "keypool.h"
#include "proto.h"
#include "provider.h"
#include "secret.h"
#include "stream.h"
#include "worker.h"
#include "worker-internal.h"
#include "xmalloc.h"

/* A fetch for provider p (copied), to be given its builder and argument. */
struct worker_fetch *
worker_fetch_new(const struct provider *p)
{
	struct worker_fetch *f = xcalloc(1, sizeof(*f));

	f->provider = provider_dup(p);
	return f;
}

/* Free a fetch, its argument and its provider copy. */
void
worker_fetch_free(struct worker_fetch *f)
{
	if (f == NULL)
		return;
	if (f->free_arg != NULL)
		f->free_arg(f->arg);
	else
		free(f->arg);
	provider_free(f->provider);
	free(f);
}

/* The longest answer this fetch accepts. */
static size_t
worker_fetch_cap(const struct job *j)
{
	if (j->fetch->max_body > 0)
		return j->fetch->max_body;
	return j->prov->max_line > 0 ? j->prov->max_line : STREAM_MAX_LINE;
}

/* Build this attempt's request from the attempt's provider (its key the pool's pick). */
void
worker_fetch_build(struct job *j)
{
	buf_reset(&j->body);
	j->body_over = 0;
	j->http_status = 0;
	j->fetch->build(j->prov, j->fetch->arg, &j->hreq);
}

/* Hand the request's parts to libcurl as a multipart/form-data body. */
void
worker_fetch_mime(struct job *j, CURL *c)
{
	curl_mimepart *part;
	size_t i;

	j->mime = curl_mime_init(c);
	for (i = 0; i < j->hreq.nparts; i++) {
		const struct http_part *hp = &j->hreq.parts[i];

		part = curl_mime_addpart(j->mime);
		curl_mime_name(part, hp->name);
		if (hp->path != NULL)
			curl_mime_filedata(part, hp->path);
		else
			curl_mime_data(part, hp->data, hp->len);
		if (hp->filename != NULL)
			curl_mime_filename(part, hp->filename);
		if (hp->type != NULL)
			curl_mime_type(part, hp->type);
	}
	curl_easy_setopt(c, CURLOPT_MIMEPOST, j->mime);
}

/* Collect answer bytes. A 2xx answer over the cap stops the transfer; an error answer over
 * it is only cut, since its first bytes hold the message. */
size_t
worker_fetch_write(struct job *j, const char *p, size_t n)
{
	size_t cap = worker_fetch_cap(j), keep = n;
	long code = 0;

	if (j->http_status == 0) {
		curl_easy_getinfo(j->easy, CURLINFO_RESPONSE_CODE, &code);
		j->http_status = (int)code;
	}
	if (j->body.len + n > cap) {
		if (j->http_status >= 200 && j->http_status <= 299) {
			j->body_over = 1;
			buf_free(&j->body);
			return 0;
		}
		keep = cap - j->body.len;
	}
	buf_append(&j->body, p, keep);
	return n;
}

/* The typed error of a non-2xx answer, as a chat's error answer becomes one (stream.c). */
static struct apierr *
worker_fetch_http_error(struct job *j, int status)
{
	struct apierr *e = apierr_new(APIERR_HTTP, APIERR_OTHER, NULL);
	const char *v;

	e->status = status;
	j->prov->proto->parse_error(j->body.data != NULL ? j->body.data : "", j->body.len,
	    &j->rhdrs, e);
	/* Gemini puts the delay in the body (RetryInfo); everyone else uses headers. */
	if (e->retry_after_s < 0)
		e->retry_after_s = http_retry_after(&j->rhdrs);
	if (e->request_id == NULL && (v = http_request_id(&j->rhdrs)) != NULL)
		e->request_id = xstrdup(v);
	apierr_classify(e);
	if ((v = http_headers_get(&j->rhdrs, "x-should-retry")) != NULL) {
		if (strcasecmp(v, "true") == 0)
			e->retryable = 1;
		else if (strcasecmp(v, "false") == 0)
			e->retryable = 0;
	}
	return e;
}

/* A transfer of a fetch ended: the body, a retry, or the end with an error. */
void
worker_fetch_finished(struct job *j, CURLcode rc)
{
	struct apierr *e;
	long code = 0;
	char *msg;

	curl_easy_getinfo(j->easy, CURLINFO_RESPONSE_CODE, &code);
	j->http_status = (int)code;
	if (j->body_over) {
		msg = xasprintf("the answer is longer than %zu bytes, the most natter reads",
		    worker_fetch_cap(j));
		e = apierr_new(APIERR_STREAM, APIERR_TRUNCATED, msg);
		e->retryable = 0;
		free(msg);
		worker_fetch_done(j, e);
		return;
	}
	if (rc == CURLE_READ_ERROR) {
		/* A file part that could not be read: the file is gone or unreadable now. */
		e = apierr_new(APIERR_LOCAL, APIERR_OTHER, j->errbuf[0] != '\0' ? j->errbuf :
		    "a file of the request could not be read");
		e->retryable = 0;
		worker_fetch_done(j, e);
		return;
	}
	if (rc != CURLE_OK) {
		worker_fail(j, worker_transport_error(rc, j->errbuf), 0);
		return;
	}
	if (code < 200 || code > 299) {
		worker_fail(j, worker_fetch_http_error(j, (int)code), 0);
		return;
	}
	worker_fetch_done(j, NULL);
}

/* End a fetch with its one BODY event. */
void
worker_fetch_done(struct job *j, struct apierr *err)
{
	struct wnode *n = worker_node(WEV_BODY, j->id);

	n->ev.error = err;
	n->ev.status = j->http_status;
	n->ev.attempts = j->attempt;
	n->ev.cancelled = err != NULL && err->kind == APIERR_LOCAL &&
	    err->cls == APIERR_CANCELLED;
	if (err == NULL) {
		/* The answer may quote the request's key (an echoing proxy): masked here. */
		if (j->scrub && j->body.data != NULL) {
			j->body.len = secret_scrub(j->body.data, j->body.len);
			j->body.data[j->body.len] = '\0';
		}
		n->ev.len = j->body.len;
		n->ev.text = buf_detach(&j->body);
		n->cap = n->ev.len + 1;
		if (j->prov->pool != NULL && j->key_idx >= 0)
			keypool_success(j->prov->pool, j->key_idx);
	}
	n->ev.duration_ms = (long)(worker_now() - j->t_submit);
	worker_push(j->w, n);
	worker_job_free(j);
}
