/*
 * natter serve's HTTP side (contract in serve.h): libmicrohttpd's callbacks on its own
 * thread, and the few locked functions through which the serve loop answers. Requests
 * that need no state (preflights, /health, refusals) are answered here; the others are
 * suspended with their whole body and queued for the loop, which the eventfd wakes.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include <microhttpd.h>

#include "buf.h"
#include "serve-sse.h"
#include "serve.h"
#include "text.h"
#include "version.h"
#include "xmalloc.h"

/* Bytes a stream's reader hands MHD at most per call. */
#define SERVE_BLOCK (64 * 1024)

struct serve {
	struct MHD_Daemon *d;
	pthread_mutex_t mu;
	int efd;
	int port;
	struct serve_opts o;          /* lists owned */
	struct serve_conn *qhead, *qtail;
	int stopping;
	struct serve_conn **live;     /* every connection MHD still has */
	size_t nlive, caplive;
};

/* One route: method, path (a trailing '*' takes an id), what it is. */
static const struct {
	const char *method, *path;
	enum serve_route route;
} serve_routes[] = {
	{ "GET", "/health", ROUTE_HEALTH },
	{ "GET", "/v1/models", ROUTE_MODELS },
	{ "POST", "/v1/chat/completions", ROUTE_CHAT },
	{ "POST", "/api/chat/stream", ROUTE_S2_STREAM },
	{ "GET", "/api/conversations", ROUTE_S2_LIST },
	{ "GET", "/api/conversations/*", ROUTE_S2_GET },
	{ "DELETE", "/api/conversations/*", ROUTE_S2_DELETE },
};

/* Milliseconds on the monotonic clock. */
static int64_t
serve_clock(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Wake the loop. */
static void
serve_wake(struct serve *srv)
{
	uint64_t one = 1;

	if (write(srv->efd, &one, sizeof one) < 0 && errno != EAGAIN)
		return;
}

/* Whether path matches pattern (a trailing '*' matches one id of digits: *id gets it). */
static int
serve_path_match(const char *pattern, const char *path, int64_t *id)
{
	size_t n = strlen(pattern);
	char *end;
	long long v;

	if (pattern[n - 1] != '*')
		return strcmp(pattern, path) == 0 || (strncmp(pattern, path, n) == 0 &&
		    path[n] == '/' && path[n + 1] == '\0');
	if (strncmp(pattern, path, n - 1) != 0 || path[n - 1] < '0' || path[n - 1] > '9')
		return 0;
	v = strtoll(path + n - 1, &end, 10);
	if (*end != '\0' || v <= 0 || strlen(path + n - 1) > 15)
		return 0;
	*id = (int64_t)v;
	return 1;
}

/* The route of a request; *known is set when the path exists for another method. */
static enum serve_route
serve_route_find(const char *method, const char *path, int64_t *id, int *known)
{
	size_t i;

	*known = 0;
	for (i = 0; i < sizeof serve_routes / sizeof serve_routes[0]; i++) {
		if (!serve_path_match(serve_routes[i].path, path, id))
			continue;
		if (strcmp(serve_routes[i].method, method) == 0)
			return serve_routes[i].route;
		*known = 1;
	}
	return ROUTE_NONE;
}

/* Free a connection (refs gone). */
static void
serve_conn_free(struct serve_conn *c)
{
	free(c->path);
	buf_free(&c->body);
	free(c->cors);
	free(c->ctype);
	free(c->retry_after);
	buf_free(&c->out);
	free(c->log_model);
	free(c);
}

/* Drop one reference (under srv->mu); 1 when it was the last. */
static int
serve_unref(struct serve_conn *c)
{
	return --c->refs == 0;
}

/* Resume c when it waits for the loop (under srv->mu). */
static void
serve_resume(struct serve_conn *c)
{
	if (c->suspended && c->mc != NULL) {
		c->suspended = 0;
		MHD_resume_connection(c->mc);
	}
}

/* Keep c in the list of live connections (under srv->mu). */
static void
serve_live_add(struct serve *srv, struct serve_conn *c)
{
	if (srv->nlive == srv->caplive) {
		srv->caplive = srv->caplive ? srv->caplive * 2 : 64;
		srv->live = xrealloc(srv->live, srv->caplive * sizeof *srv->live);
	}
	srv->live[srv->nlive++] = c;
}

/* Forget c from the live list (under srv->mu). */
static void
serve_live_del(struct serve *srv, struct serve_conn *c)
{
	size_t i;

	for (i = 0; i < srv->nlive; i++) {
		if (srv->live[i] == c) {
			srv->live[i] = srv->live[--srv->nlive];
			return;
		}
	}
}

/* The Access-Control-Allow-Origin value for the request's Origin, or NULL. */
static char *
serve_cors(const struct serve *srv, struct MHD_Connection *mc)
{
	const char *origin = MHD_lookup_connection_value(mc, MHD_HEADER_KIND, "Origin");
	size_t i;

	for (i = 0; i < srv->o.ncors; i++) {
		if (strcmp(srv->o.cors[i], "*") == 0)
			return xstrdup("*");
		if (origin != NULL && strcmp(srv->o.cors[i], origin) == 0)
			return xstrdup(origin);
	}
	return NULL;
}

/* Whether the request carries an accepted bearer token (compared in constant time). */
static int
serve_authorized(const struct serve *srv, struct MHD_Connection *mc)
{
	const char *h = MHD_lookup_connection_value(mc, MHD_HEADER_KIND, "Authorization");
	size_t i, j, n;
	int ok = 0;

	if (srv->o.ntokens == 0)
		return 1;
	if (h == NULL || strncasecmp(h, "Bearer ", 7) != 0)
		return 0;
	h += 7;
	while (*h == ' ')
		h++;
	n = strlen(h);
	for (i = 0; i < srv->o.ntokens; i++) {
		const char *t = srv->o.tokens[i];
		size_t tl = strlen(t);
		unsigned char diff = tl != n;

		for (j = 0; j < n; j++)
			diff |= (unsigned char)(h[j] ^ (j < tl ? t[j] : 0));
		ok |= diff == 0;
	}
	return ok;
}

/* Add the headers every answer carries. */
static void
serve_headers(struct MHD_Response *r, const struct serve_conn *c, const char *ctype)
{
	if (ctype != NULL)
		MHD_add_response_header(r, "Content-Type", ctype);
	if (c->cors != NULL) {
		MHD_add_response_header(r, "Access-Control-Allow-Origin", c->cors);
		if (strcmp(c->cors, "*") != 0)
			MHD_add_response_header(r, "Vary", "Origin");
	}
}

/* Answer at once on MHD's thread. */
static enum MHD_Result
serve_answer(struct serve_conn *c, struct MHD_Connection *mc, int status, const char *ctype,
    const char *body, const char *extra, const char *extra_value)
{
	struct MHD_Response *r;
	enum MHD_Result rc;

	r = MHD_create_response_from_buffer(strlen(body), (void *)body, MHD_RESPMEM_MUST_COPY);
	if (r == NULL)
		return MHD_NO;
	serve_headers(r, c, ctype);
	if (extra != NULL)
		MHD_add_response_header(r, extra, extra_value);
	pthread_mutex_lock(&c->srv->mu);
	c->status = status;
	c->answered = 1;
	c->eof = 1;
	pthread_mutex_unlock(&c->srv->mu);
	rc = MHD_queue_response(mc, (unsigned)status, r);
	MHD_destroy_response(r);
	return rc;
}

/* Answer an error in the shape of the route's API. */
static enum MHD_Result
serve_answer_error(struct serve_conn *c, struct MHD_Connection *mc, int status,
    const char *msg, const char *type, const char *code, const char *extra,
    const char *extra_value)
{
	struct buf b = BUF_INIT;
	enum MHD_Result rc;

	if (strncmp(c->path, "/v1/", 4) == 0)
		serve_oai_error(&b, msg, type, NULL, code);
	else
		serve_s2_message(&b, msg);
	rc = serve_answer(c, mc, status, "application/json", buf_str(&b), extra, extra_value);
	buf_free(&b);
	return rc;
}

/* A CORS preflight: allowed origins get the methods and headers they asked for. */
static enum MHD_Result
serve_preflight(struct serve_conn *c, struct MHD_Connection *mc)
{
	const char *want = MHD_lookup_connection_value(mc, MHD_HEADER_KIND,
	    "Access-Control-Request-Headers");
	struct MHD_Response *r = MHD_create_response_from_buffer(0, (void *)"",
	    MHD_RESPMEM_PERSISTENT);
	enum MHD_Result rc;

	if (r == NULL)
		return MHD_NO;
	serve_headers(r, c, NULL);
	if (c->cors != NULL) {
		MHD_add_response_header(r, "Access-Control-Allow-Methods",
		    "GET, POST, DELETE, OPTIONS");
		MHD_add_response_header(r, "Access-Control-Allow-Headers", want != NULL ? want :
		    "Authorization, Content-Type");
		MHD_add_response_header(r, "Access-Control-Max-Age", "600");
	}
	c->status = 204;
	c->answered = c->eof = 1;
	rc = MHD_queue_response(mc, 204, r);
	MHD_destroy_response(r);
	return rc;
}

/* The first call for a request: route it, and answer what needs no loop. */
static enum MHD_Result
serve_first(struct serve_conn *c, struct MHD_Connection *mc)
{
	struct serve *srv = c->srv;
	const char *len = MHD_lookup_connection_value(mc, MHD_HEADER_KIND, "Content-Length");
	const char *lim = MHD_lookup_connection_value(mc, MHD_GET_ARGUMENT_KIND, "limit");
	const union MHD_ConnectionInfo *ci = MHD_get_connection_info(mc,
	    MHD_CONNECTION_INFO_CONNECTION_FD);
	int known, stopping;

	c->fd = ci != NULL ? ci->connect_fd : -1;
	c->cors = serve_cors(srv, mc);
	if (strcmp(c->method, "OPTIONS") == 0)
		return serve_preflight(c, mc);
	c->route = serve_route_find(c->method, c->path, &c->conv, &known);
	if (lim != NULL)
		c->limit = strtol(lim, NULL, 10);
	if (c->route == ROUTE_NONE && known)
		return serve_answer_error(c, mc, 405, "method not allowed", "invalid_request_error",
		    NULL, NULL, NULL);
	if (c->route == ROUTE_NONE)
		return serve_answer_error(c, mc, 404, "not found", "invalid_request_error",
		    "not_found", NULL, NULL);
	if (c->route == ROUTE_HEALTH)
		return serve_answer(c, mc, 200, "application/json",
		    "{\"status\":\"ok\",\"version\":\"" NATTER_VERSION "\"}\n", NULL, NULL);
	if (!serve_authorized(srv, mc))
		return serve_answer_error(c, mc, 401, "missing or wrong bearer token (Authorization: "
		    "Bearer TOKEN)", "invalid_request_error", "invalid_api_key", "WWW-Authenticate",
		    "Bearer");
	pthread_mutex_lock(&srv->mu);
	stopping = srv->stopping;
	pthread_mutex_unlock(&srv->mu);
	if (stopping)
		return serve_answer_error(c, mc, 503, "natter serve is stopping", "server_error",
		    NULL, "Retry-After", "1");
	if (len != NULL && strtoll(len, NULL, 10) > srv->o.max_body)
		c->too_big = 1;
	return MHD_YES;
}

/* Hand a complete request to the loop, suspended until it answers. */
static void
serve_enqueue(struct serve_conn *c, struct MHD_Connection *mc)
{
	struct serve *srv = c->srv;

	pthread_mutex_lock(&srv->mu);
	c->queued = 1;
	c->refs++;
	c->suspended = 1;
	MHD_suspend_connection(mc);
	if (srv->qtail != NULL)
		srv->qtail->next = c;
	else
		srv->qhead = c;
	srv->qtail = c;
	pthread_mutex_unlock(&srv->mu);
	serve_wake(srv);
}

/* A stream's reader: what the loop queued, else suspend until it writes more. */
static ssize_t
serve_read(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct serve_conn *c = cls;
	struct serve *srv = c->srv;
	size_t n;

	(void)pos;
	pthread_mutex_lock(&srv->mu);
	if (c->out.len > 0) {
		n = c->out.len < max ? c->out.len : max;
		memcpy(buf, c->out.data, n);
		buf_consume(&c->out, n);
		pthread_mutex_unlock(&srv->mu);
		return (ssize_t)n;
	}
	if (c->eof || c->mc == NULL) {
		pthread_mutex_unlock(&srv->mu);
		return MHD_CONTENT_READER_END_OF_STREAM;
	}
	c->suspended = 1;
	MHD_suspend_connection(c->mc);
	pthread_mutex_unlock(&srv->mu);
	serve_wake(srv);
	return 0;
}

/* Queue the loop's answer on MHD's thread. */
static enum MHD_Result
serve_respond(struct serve_conn *c, struct MHD_Connection *mc)
{
	struct MHD_Response *r;
	enum MHD_Result rc;
	int status;

	pthread_mutex_lock(&c->srv->mu);
	if (c->streaming) {
		r = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, SERVE_BLOCK, serve_read, c,
		    NULL);
	} else {
		r = MHD_create_response_from_buffer(c->out.len, c->out.data != NULL ? c->out.data :
		    (void *)"", MHD_RESPMEM_MUST_COPY);
		buf_reset(&c->out);
	}
	if (r != NULL) {
		serve_headers(r, c, c->ctype);
		if (c->retry_after != NULL)
			MHD_add_response_header(r, "Retry-After", c->retry_after);
		if (c->streaming)
			MHD_add_response_header(r, "Cache-Control", "no-cache");
	}
	c->answered = 1;
	status = c->status;
	pthread_mutex_unlock(&c->srv->mu);
	if (r == NULL)
		return MHD_NO;
	rc = MHD_queue_response(mc, (unsigned)status, r);
	MHD_destroy_response(r);
	return rc;
}

/* MHD's access handler. */
static enum MHD_Result
serve_access(void *cls, struct MHD_Connection *mc, const char *url, const char *method,
    const char *version, const char *upload, size_t *upload_size, void **con_cls)
{
	struct serve *srv = cls;
	struct serve_conn *c = *con_cls;
	int head;

	(void)version;
	if (c == NULL) {
		c = xcalloc(1, sizeof *c);
		c->srv = srv;
		c->mc = mc;
		c->refs = 1;
		c->fd = -1;
		c->t0 = serve_clock();
		c->log_ttft = c->log_tokens = -1;
		snprintf(c->method, sizeof c->method, "%s", method);
		c->path = xstrdup(url);
		pthread_mutex_lock(&srv->mu);
		serve_live_add(srv, c);
		pthread_mutex_unlock(&srv->mu);
		*con_cls = c;
		return serve_first(c, mc);
	}
	if (c->answered) {
		*upload_size = 0;
		return MHD_YES;
	}
	if (*upload_size > 0) {
		if (c->body.len + *upload_size > (size_t)srv->o.max_body)
			c->too_big = 1;
		else
			buf_append(&c->body, upload, *upload_size);
		*upload_size = 0;
		return MHD_YES;
	}
	if (c->too_big) {
		char msg[96];

		snprintf(msg, sizeof msg, "the request body is larger than %ld bytes (serve.max_body)",
		    srv->o.max_body);
		return serve_answer_error(c, mc, 413, msg, "invalid_request_error", "body_too_large",
		    NULL, NULL);
	}
	if (!c->queued) {
		serve_enqueue(c, mc);
		return MHD_YES;
	}
	pthread_mutex_lock(&srv->mu);
	head = c->head;
	if (!head) {
		c->suspended = 1;
		MHD_suspend_connection(mc);
	}
	pthread_mutex_unlock(&srv->mu);
	return head ? serve_respond(c, mc) : MHD_YES;
}

/* One line per request on stderr: method, path, status, model, ttft, tokens, duration. */
static void
serve_log(const struct serve_conn *c, int status, int gone)
{
	struct buf line = BUF_INIT, path = BUF_INIT;
	size_t n = strcspn(c->path, "?");

	text_sanitize_line(c->path, n < 200 ? n : 200, &path);
	buf_printf(&line, "natter serve: %s %s %d", c->method, buf_str(&path), status);
	if (c->log_model != NULL)
		buf_printf(&line, " model=%s", c->log_model);
	if (c->log_ttft >= 0)
		buf_printf(&line, " ttft=%ldms", c->log_ttft);
	if (c->log_tokens >= 0)
		buf_printf(&line, " tokens=%ld", c->log_tokens);
	buf_printf(&line, " duration=%lldms%s\n", (long long)(serve_clock() - c->t0),
	    gone ? " client-gone" : "");
	fputs(buf_str(&line), stderr);
	buf_free(&line);
	buf_free(&path);
}

/* MHD is done with a request: log it, tell the loop when the client went away. */
static void
serve_completed(void *cls, struct MHD_Connection *mc, void **con_cls,
    enum MHD_RequestTerminationCode toe)
{
	struct serve *srv = cls;
	struct serve_conn *c = *con_cls;
	int last, held, status, gone;

	(void)mc;
	if (c == NULL)
		return;
	*con_cls = NULL;
	pthread_mutex_lock(&srv->mu);
	c->mc = NULL;
	c->suspended = 0;
	if (toe != MHD_REQUEST_TERMINATED_COMPLETED_OK)
		c->gone = 1;
	gone = c->gone;
	status = c->head || c->answered ? c->status : 499;
	held = c->queued && c->refs > 1;
	serve_live_del(srv, c);
	serve_log(c, status, gone);
	last = serve_unref(c);
	pthread_mutex_unlock(&srv->mu);
	if (held && gone)
		serve_wake(srv);
	if (last)
		serve_conn_free(c);
}

/* Start the daemon. */
struct serve *
serve_start(const struct serve_opts *o, char **err)
{
	struct serve *srv = xcalloc(1, sizeof *srv);
	struct sockaddr_in a4;
	struct sockaddr_in6 a6;
	struct sockaddr *sa;
	const union MHD_DaemonInfo *di;
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO |
	    MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG;
	size_t i;

	*err = NULL;
	memset(&a4, 0, sizeof a4);
	memset(&a6, 0, sizeof a6);
	if (inet_pton(AF_INET, o->host, &a4.sin_addr) == 1) {
		a4.sin_family = AF_INET;
		a4.sin_port = htons((uint16_t)o->port);
		sa = (struct sockaddr *)&a4;
	} else if (inet_pton(AF_INET6, o->host, &a6.sin6_addr) == 1) {
		a6.sin6_family = AF_INET6;
		a6.sin6_port = htons((uint16_t)o->port);
		sa = (struct sockaddr *)&a6;
		flags |= MHD_USE_IPv6;
	} else {
		*err = xasprintf("'%s' is not a numeric IPv4 or IPv6 address", o->host);
		free(srv);
		return NULL;
	}
	srv->o = *o;
	srv->o.tokens = xcalloc(o->ntokens + 1, sizeof *srv->o.tokens);
	for (i = 0; i < o->ntokens; i++)
		srv->o.tokens[i] = xstrdup(o->tokens[i]);
	srv->o.cors = xcalloc(o->ncors + 1, sizeof *srv->o.cors);
	for (i = 0; i < o->ncors; i++)
		srv->o.cors[i] = xstrdup(o->cors[i]);
	srv->o.host = NULL;
	pthread_mutex_init(&srv->mu, NULL);
	srv->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	srv->d = MHD_start_daemon(flags, (uint16_t)o->port, NULL, NULL, serve_access, srv,
	    MHD_OPTION_SOCK_ADDR, sa,
	    MHD_OPTION_NOTIFY_COMPLETED, serve_completed, srv,
	    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)300,
	    MHD_OPTION_CONNECTION_LIMIT, (unsigned)1000,
	    MHD_OPTION_LISTENING_ADDRESS_REUSE, (unsigned)1,
	    MHD_OPTION_END);
	if (srv->d == NULL || srv->efd < 0) {
		*err = xasprintf("cannot listen on %s port %d: %s", o->host, o->port,
		    errno != 0 ? strerror(errno) : "libmicrohttpd refused");
		serve_stop(srv);
		return NULL;
	}
	di = MHD_get_daemon_info(srv->d, MHD_DAEMON_INFO_BIND_PORT);
	srv->port = di != NULL ? di->port : o->port;
	return srv;
}

/* The port. */
int
serve_port(const struct serve *srv)
{
	return srv->port;
}

/* The loop's descriptor. */
int
serve_fd(const struct serve *srv)
{
	return srv->efd;
}

/* Empty the eventfd. */
void
serve_drain(struct serve *srv)
{
	uint64_t v;

	while (read(srv->efd, &v, sizeof v) > 0)
		;
}

/* The next queued request. */
struct serve_conn *
serve_next(struct serve *srv)
{
	struct serve_conn *c;

	pthread_mutex_lock(&srv->mu);
	c = srv->qhead;
	if (c != NULL) {
		srv->qhead = c->next;
		if (srv->qhead == NULL)
			srv->qtail = NULL;
		c->next = NULL;
	}
	pthread_mutex_unlock(&srv->mu);
	return c;
}

/* New requests get 503 from now on. */
void
serve_quiesce(struct serve *srv)
{
	pthread_mutex_lock(&srv->mu);
	srv->stopping = 1;
	pthread_mutex_unlock(&srv->mu);
}

/* Stop everything. */
void
serve_stop(struct serve *srv)
{
	struct serve_conn *c;
	size_t i;

	if (srv == NULL)
		return;
	pthread_mutex_lock(&srv->mu);
	srv->stopping = 1;
	for (i = 0; i < srv->nlive; i++) {
		srv->live[i]->eof = 1;
		serve_resume(srv->live[i]);
	}
	pthread_mutex_unlock(&srv->mu);
	if (srv->d != NULL)
		MHD_stop_daemon(srv->d);
	while ((c = serve_next(srv)) != NULL)
		if (serve_unref(c))
			serve_conn_free(c);
	for (i = 0; i < srv->o.ntokens; i++)
		free(srv->o.tokens[i]);
	free(srv->o.tokens);
	for (i = 0; i < srv->o.ncors; i++)
		free(srv->o.cors[i]);
	free(srv->o.cors);
	free(srv->live);
	if (srv->efd >= 0)
		close(srv->efd);
	pthread_mutex_destroy(&srv->mu);
	free(srv);
}

/* A whole answer. */
void
serve_conn_reply(struct serve_conn *c, int status, const char *ctype, const char *body,
    size_t len, const char *retry_after)
{
	pthread_mutex_lock(&c->srv->mu);
	if (!c->head) {
		c->head = 1;
		c->status = status;
		c->ctype = xstrdup(ctype);
		c->retry_after = retry_after != NULL ? xstrdup(retry_after) : NULL;
		buf_append(&c->out, body, len);
	}
	c->eof = 1;
	serve_resume(c);
	pthread_mutex_unlock(&c->srv->mu);
}

/* Start a stream. */
void
serve_conn_stream(struct serve_conn *c, int status, const char *ctype)
{
	pthread_mutex_lock(&c->srv->mu);
	if (!c->head) {
		c->head = 1;
		c->status = status;
		c->ctype = xstrdup(ctype);
		c->streaming = 1;
	}
	serve_resume(c);
	pthread_mutex_unlock(&c->srv->mu);
}

/* Queue stream bytes. */
void
serve_conn_write(struct serve_conn *c, const char *p, size_t n)
{
	pthread_mutex_lock(&c->srv->mu);
	if (c->streaming && !c->eof && c->mc != NULL)
		buf_append(&c->out, p, n);
	serve_resume(c);
	pthread_mutex_unlock(&c->srv->mu);
}

/* Nothing more to write. */
void
serve_conn_end(struct serve_conn *c)
{
	pthread_mutex_lock(&c->srv->mu);
	if (!c->head) {
		/* The loop gave up without answering (the client is gone). */
		c->head = 1;
		c->status = 499;
		c->ctype = xstrdup("application/json");
	}
	c->eof = 1;
	serve_resume(c);
	pthread_mutex_unlock(&c->srv->mu);
}

/* Whether the client went away. */
int
serve_conn_gone(struct serve_conn *c)
{
	int g;

	pthread_mutex_lock(&c->srv->mu);
	g = c->gone;
	pthread_mutex_unlock(&c->srv->mu);
	return g;
}

/* Note the reply's figures for the log line. */
void
serve_conn_note(struct serve_conn *c, const char *model, long ttft_ms, long tokens)
{
	pthread_mutex_lock(&c->srv->mu);
	if (model != NULL) {
		free(c->log_model);
		c->log_model = xstrdup(model);
	}
	c->log_ttft = ttft_ms;
	c->log_tokens = tokens;
	pthread_mutex_unlock(&c->srv->mu);
}

/* The loop is done with c. */
void
serve_conn_release(struct serve_conn *c)
{
	int last;

	pthread_mutex_lock(&c->srv->mu);
	if (!c->eof) {
		c->eof = 1;
		serve_resume(c);
	}
	last = serve_unref(c);
	pthread_mutex_unlock(&c->srv->mu);
	if (last)
		serve_conn_free(c);
}

/* The suspended connections to poll for a hang-up. */
size_t
serve_conn_fds(struct serve_conn **v, size_t n, struct pollfd *fds, struct serve_conn **who)
{
	size_t i, k = 0;

	if (n == 0)
		return 0;
	pthread_mutex_lock(&v[0]->srv->mu);
	for (i = 0; i < n; i++) {
		if (v[i]->suspended && v[i]->mc != NULL && !v[i]->gone && v[i]->fd >= 0) {
			fds[k].fd = v[i]->fd;
			fds[k].events = POLLRDHUP;
			fds[k].revents = 0;
			who[k++] = v[i];
		}
	}
	pthread_mutex_unlock(&v[0]->srv->mu);
	return k;
}

/* The loop saw the client hang up. */
void
serve_conn_hangup(struct serve_conn *c)
{
	pthread_mutex_lock(&c->srv->mu);
	c->gone = 1;
	pthread_mutex_unlock(&c->srv->mu);
}
