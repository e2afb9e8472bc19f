/*
 * MCP's streamable HTTP transport (2025-06-18) for the servers with url: in mcp_servers:.
 * Each JSON-RPC message the client queues (the same newline-delimited buffer the stdio
 * transport writes to a pipe) becomes one POST to the server's endpoint, sent by the
 * network worker (worker_http) with `Accept: application/json, text/event-stream`, the
 * config's headers (${NAME} expanded from natter's environment), and, once the server
 * has answered initialize, `MCP-Protocol-Version` and the `Mcp-Session-Id` it gave. A
 * request is answered with one JSON body or with an event stream whose events each carry
 * one message (notifications and requests of the server's may come before the answer);
 * notifications and answers of the client's get 202 Accepted and no body. Every message
 * that arrives goes to the same handler as a line from a stdio server.
 *
 * An HTTP error, a body that is neither, or a server that cannot be reached breaks the
 * server like garbage on a pipe does: it is FAILED (or EXITED when it was ready) with the
 * status and the start of the body in the message. A 404 to a request carrying the
 * session id means the server ended the session (it expired, or the server restarted):
 * as the transport asks, natter starts a new one with initialize and sends the calls
 * again that the old one never ran; a 404 again before the new session answered a call
 * breaks the server. Closing cancels the requests under way and sends DELETE with the
 * session id, without waiting for it.
 *
 * Once notifications/initialized is accepted, natter also opens the GET stream the
 * transport offers for a server's own messages (list_changed sent outside any answer, a
 * ping): its events go to the same handler. A server that offers none (405, or any
 * other refusal) is not broken by that, and a stream the server ends is opened again
 * unless it lasted under a second (a server that closes it at once is not hammered).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cJSON.h>

#include "apierr.h"
#include "log.h"
#include "mcp-client.h"
#include "mcp-proc.h"
#include "sse.h"
#include "text.h"
#include "worker.h"
#include "xmalloc.h"

#define MCP_HTTP_CONNECT_MS 10000
#define MCP_HTTP_EXCERPT 200
#define MCP_HTTP_LISTEN_MAX ((size_t)1 << 40) /* the GET stream's bytes, over its life */
#define MCP_HTTP_RELISTEN_MS 1000             /* a shorter GET stream is not reopened */

/* One POST under way. */
struct mcp_xfer {
	uint64_t id;             /* the worker's exchange */
	int initialize;          /* it carries initialize: its answer names the session */
	int barrier;             /* a notification or an answer: what follows waits for its
	                          * 202, so the server sees the messages in their order */
	int listen;              /* the GET stream for the server's own messages */
	int opens_stream;        /* notifications/initialized: once accepted, open it */
	int64_t t0;              /* listen: when it was opened (ms, monotonic) */
	int status;
	int sse;                 /* the answer is an event stream */
	struct sse parser;
	struct buf body;         /* a JSON answer, or the start of an error's body */
	struct mcp_xfer *next;
};

struct mcp_http {
	char *session;           /* Mcp-Session-Id, once the server gave one */
	int initialized;         /* initialize was answered: send the protocol version */
	char **headers;          /* the config's, expanded, as "Name: value" */
	size_t nheaders;
	struct mcp_xfer *xfers;
};

/* Free one transfer's buffers. */
static void
mcp_xfer_free(struct mcp_xfer *x)
{
	if (x->sse)
		sse_free(&x->parser);
	buf_free(&x->body);
	free(x);
}

/* Start the transport of url: server c; -1 with *err when it cannot be used. */
int
mcp_http_start(struct mcp_client *c, char **err)
{
	struct mcp_http *h;
	size_t i;

	if (c->pool->w == NULL) {
		*err = xstrdup("needs the network worker, which this front end did not give");
		return -1;
	}
	if (strncasecmp(c->cfg.url, "http://", 7) != 0 &&
	    strncasecmp(c->cfg.url, "https://", 8) != 0) {
		*err = xasprintf("has url: '%s', which is neither http:// nor https://",
		    c->cfg.url);
		return -1;
	}
	if (c->pool->q == NULL)
		c->pool->q = wqueue_new();
	h = xcalloc(1, sizeof(*h));
	h->headers = xcalloc(c->cfg.nheaders + 1, sizeof(*h->headers));
	for (i = 0; i < c->cfg.nheaders; i++) {
		char *v = mcp_proc_expand(c->cfg.headers[i].value != NULL ?
		    c->cfg.headers[i].value : "");

		h->headers[h->nheaders++] = xasprintf("%s: %s", c->cfg.headers[i].name, v);
		free(v);
	}
	c->http = h;
	return 0;
}

/* Classify msg: initialize (its answer names the session), or a barrier: a notification
 * or an answer, anything but a request; those are quick (202), and what follows them
 * waits, since parallel POSTs may arrive in any order. */
static void
mcp_http_classify(const char *msg, size_t len, struct mcp_xfer *x)
{
	cJSON *m = cJSON_ParseWithLength(msg, len);
	const char *method = cJSON_GetStringValue(cJSON_GetObjectItem(m, "method"));

	x->barrier = method == NULL || cJSON_GetObjectItem(m, "id") == NULL;
	x->initialize = !x->barrier && strcmp(method, "initialize") == 0;
	x->opens_stream = x->barrier && method != NULL &&
	    strcmp(method, "notifications/initialized") == 0;
	cJSON_Delete(m);
}

/* Whether a notification or an answer is still on its way. */
static int
mcp_http_blocked(const struct mcp_http *h)
{
	const struct mcp_xfer *x;

	for (x = h->xfers; x != NULL; x = x->next)
		if (x->barrier)
			return 1;
	return 0;
}

/* Send one request to the server (body NULL: none) with the headers every request
 * carries: the config's, and once known the protocol version and the session; returns
 * the worker's exchange id. */
static uint64_t
mcp_http_send(struct mcp_client *c, const char *method, const char *body, size_t len)
{
	struct mcp_http *h = c->http;
	const char **hdrs = xcalloc(h->nheaders + 5, sizeof(*hdrs));
	char *proto = NULL, *sess = NULL;
	struct whttp rq = { 0 };
	size_t n = 0, i;
	uint64_t id;

	if (body != NULL) {
		hdrs[n++] = "Content-Type: application/json";
		hdrs[n++] = "Accept: application/json, text/event-stream";
	} else if (strcmp(method, "GET") == 0) {
		hdrs[n++] = "Accept: text/event-stream";
	}
	if (h->initialized)
		hdrs[n++] = proto = xasprintf("MCP-Protocol-Version: %s", MCP_PROTOCOL_VERSION);
	if (h->session != NULL)
		hdrs[n++] = sess = xasprintf("Mcp-Session-Id: %s", h->session);
	for (i = 0; i < h->nheaders; i++)
		hdrs[n++] = h->headers[i];
	rq.method = method;
	rq.url = c->cfg.url;
	rq.headers = hdrs;
	rq.nheaders = n;
	rq.body = body;
	rq.len = len;
	rq.connect_timeout_ms = MCP_HTTP_CONNECT_MS;
	rq.max_body = strcmp(method, "GET") == 0 ? MCP_HTTP_LISTEN_MAX : MCP_MAX_LINE;
	id = worker_http(c->pool->w, c->pool->q, &rq);
	free(proto);
	free(sess);
	free(hdrs);
	return id;
}

/* POST one message (len bytes of JSON) to the server. */
static void
mcp_http_post(struct mcp_client *c, const char *msg, size_t len)
{
	struct mcp_http *h = c->http;
	struct mcp_xfer *x = xcalloc(1, sizeof(*x));

	mcp_http_classify(msg, len, x);
	x->initialize = x->initialize && !h->initialized;
	x->id = mcp_http_send(c, "POST", msg, len);
	x->next = h->xfers;
	h->xfers = x;
}

/* Open the GET stream for the server's own messages. */
static void
mcp_http_listen(struct mcp_client *c)
{
	struct mcp_http *h = c->http;
	struct mcp_xfer *x = xcalloc(1, sizeof(*x));

	x->listen = 1;
	x->t0 = mcp_now_ms();
	x->id = mcp_http_send(c, "GET", NULL, 0);
	x->next = h->xfers;
	h->xfers = x;
}

/* Send every message the client queued, one POST each. */
void
mcp_http_flush(struct mcp_client *c)
{
	const char *p, *nl;
	size_t off = 0;

	if (c->http == NULL)
		return;
	while (off < c->out.len && !mcp_http_blocked(c->http)) {
		p = c->out.data + off;
		nl = memchr(p, '\n', c->out.len - off);
		if (nl == NULL)
			break;
		if (nl > p)
			mcp_http_post(c, p, (size_t)(nl - p));
		off += (size_t)(nl - p) + 1;
	}
	buf_consume(&c->out, off);
}

/* The value of header name in the "name: value\n" lines, copied, or NULL. */
static char *
mcp_http_header(const char *lines, const char *name)
{
	size_t n = strlen(name);
	const char *p = lines, *e;

	while (p != NULL && *p != '\0') {
		e = strchr(p, '\n');
		if (strncasecmp(p, name, n) == 0 && p[n] == ':') {
			const char *v = p + n + 1;
			size_t len;

			while (*v == ' ' || *v == '\t')
				v++;
			len = e != NULL ? (size_t)(e - v) : strlen(v);
			while (len > 0 && (v[len - 1] == ' ' || v[len - 1] == '\t'))
				len--;
			return xstrndup(v, len);
		}
		p = e != NULL ? e + 1 : NULL;
	}
	return NULL;
}

/* One event of an answer's stream: its data is one message. */
static void
mcp_http_on_sse(void *ud, const char *event, const char *data, size_t len)
{
	struct mcp_client *c = ud;

	if (strcmp(event, "message") == 0 && len > 0)
		mcp_client_line_in(c, data, len);
}

/* Break the server over transfer x: an HTTP error, with the start of its body. */
static void
mcp_http_refused(struct mcp_client *c, const struct mcp_xfer *x)
{
	struct buf ex = BUF_INIT;
	size_t n = x->body.len > MCP_HTTP_EXCERPT ? MCP_HTTP_EXCERPT : x->body.len;

	text_sanitize_line(x->body.data != NULL ? x->body.data : "", n, &ex);
	if (x->status == 404 && c->http->session != NULL && !c->renewed)
		c->renew = 1;
	else if (x->status == 404 && c->http->session != NULL)
		mcp_client_break_with(c, xasprintf("ended the session again (HTTP 404) right "
		    "after natter started a new one"));
	else
		mcp_client_break_with(c, xasprintf("answered HTTP %d%s%s", x->status,
		    ex.len > 0 ? ": " : "", buf_str(&ex)));
	buf_free(&ex);
}

/* The head of x's answer: its status, its kind, and the session it names. */
static void
mcp_http_head(struct mcp_client *c, struct mcp_xfer *x, const struct wevent *ev)
{
	char *type = mcp_http_header(ev->headers, "content-type");
	char *sess;

	x->status = ev->status;
	if (x->status >= 200 && x->status < 300 && type != NULL &&
	    strncasecmp(type, "text/event-stream", 17) == 0) {
		x->sse = 1;
		sse_init(&x->parser, mcp_http_on_sse, c);
		x->parser.max_line = MCP_MAX_LINE;
	}
	if (x->initialize && x->status >= 200 && x->status < 300 &&
	    (sess = mcp_http_header(ev->headers, "mcp-session-id")) != NULL) {
		free(c->http->session);
		c->http->session = sess;
	}
	free(type);
}

/* The end of x's answer: a JSON body is one message; failures break the server. */
static void
mcp_http_end(struct mcp_client *c, struct mcp_xfer *x, const struct wevent *ev)
{
	if (ev->cancelled)
		return;
	if (x->listen) {
		/* The stream is the server's offer: its end or refusal breaks nothing. */
		if (x->sse)
			sse_finish(&x->parser);
		if (ev->error == NULL && x->sse && mcp_now_ms() - x->t0 >= MCP_HTTP_RELISTEN_MS)
			mcp_http_listen(c);
		else
			log_debug("mcp %s: no stream for the server's own messages (%s %d)",
			    c->cfg.name, ev->error != NULL ? "error" : "HTTP", x->status);
		return;
	}
	if (ev->error != NULL) {
		mcp_client_break_with(c, xasprintf("could not be reached at its url: %s",
		    ev->error->message != NULL ? ev->error->message : "the request failed"));
		return;
	}
	if (x->status < 200 || x->status > 299) {
		mcp_http_refused(c, x);
		return;
	}
	if (x->initialize)
		c->http->initialized = 1;
	if (x->opens_stream)
		mcp_http_listen(c);
	if (x->sse) {
		sse_finish(&x->parser);
		if (x->parser.overflow)
			mcp_client_break_with(c, xasprintf("sent a message longer than %u MiB",
			    MCP_MAX_LINE >> 20));
		return;
	}
	if (x->body.len > 0)
		mcp_client_line_in(c, x->body.data, x->body.len);
}

/* Handle a worker event if it belongs to one of c's transfers; 1 when it did. */
int
mcp_http_event(struct mcp_client *c, struct wevent *ev)
{
	struct mcp_xfer **pp, *x;

	if (c->http == NULL)
		return 0;
	for (pp = &c->http->xfers; (x = *pp) != NULL; pp = &x->next)
		if (x->id == ev->id)
			break;
	if (x == NULL)
		return 0;
	switch (ev->type) {
	case WEV_HTTP_HEAD:
		mcp_http_head(c, x, ev);
		break;
	case WEV_HTTP_BODY:
		if (x->sse)
			sse_feed(&x->parser, ev->text, ev->len);
		else if (x->body.len + ev->len <= MCP_MAX_LINE)
			buf_append(&x->body, ev->text, ev->len);
		break;
	case WEV_HTTP_END:
		*pp = x->next;
		mcp_http_end(c, x, ev);
		mcp_xfer_free(x);
		break;
	default:
		break;
	}
	return 1;
}

/* The server ended the session: forget its id, so closing sends no DELETE for it. */
void
mcp_http_forget_session(struct mcp_client *c)
{
	if (c->http == NULL)
		return;
	free(c->http->session);
	c->http->session = NULL;
}

/* End the transport: cancel what is under way, tell the server the session is over;
 * returns the DELETE's exchange id, 0 when none was sent. */
uint64_t
mcp_http_close(struct mcp_client *c)
{
	struct mcp_http *h = c->http;
	struct mcp_xfer *x, *next;
	uint64_t del = 0;
	size_t i;

	if (h == NULL)
		return 0;
	for (x = h->xfers; x != NULL; x = next) {
		next = x->next;
		if (c->pool->w != NULL)
			worker_cancel(c->pool->w, x->id);
		mcp_xfer_free(x);
	}
	/* Its events find no transfer and are dropped (mcp_pool_free waits a little). */
	if (h->session != NULL && c->pool->w != NULL && c->pool->q != NULL)
		del = mcp_http_send(c, "DELETE", NULL, 0);
	for (i = 0; i < h->nheaders; i++)
		free(h->headers[i]);
	free(h->headers);
	free(h->session);
	free(h);
	c->http = NULL;
	return del;
}
