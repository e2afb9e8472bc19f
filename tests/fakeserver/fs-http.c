/*
 * The HTTP/1.1 side of the fake server: reading requests (Content-Length or chunked bodies,
 * Expect: 100-continue, keep-alive, pipelined leftovers) and writing responses. Streams go out
 * with chunked framing by default because every real provider does so, and natter's HTTP stack
 * must cope with chunk boundaries that do not match event boundaries. Sleeps are polls on the
 * server's stop pipe so that SIGTERM ends a stalled or slow response at once.
 */
#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "fakeserver.h"
#include "xmalloc.h"

#define FS_MAX_HEAD (64 * 1024)
#define FS_MAX_BODY (64 * 1024 * 1024)

/* Read more bytes from the client into c->in; returns the count, 0 at EOF, -1 on error. */
static ssize_t
fs_fill(struct fs_conn *c)
{
	ssize_t n;

	buf_reserve(&c->in, 16384);
	do {
		n = read(c->fd, c->in.data + c->in.len, c->in.cap - c->in.len - 1);
	} while (n < 0 && errno == EINTR);
	if (n > 0) {
		c->in.len += (size_t)n;
		c->in.data[c->in.len] = '\0';
	}
	return n;
}

/* Find the end of the header block; sets *skip to the terminator length. */
static char *
fs_find_head_end(struct buf *in, size_t *skip)
{
	char *crlf, *lf;

	if (in->len == 0)
		return NULL;
	crlf = memmem(in->data, in->len, "\r\n\r\n", 4);
	lf = memmem(in->data, in->len, "\n\n", 2);
	if (crlf != NULL && (lf == NULL || crlf < lf)) {
		*skip = 4;
		return crlf;
	}
	if (lf != NULL)
		*skip = 2;
	return lf;
}

/* Make sure c->in holds at least n bytes; false when the client went away first. */
static bool
fs_need(struct fs_conn *c, size_t n)
{
	while (c->in.len < n) {
		if (fs_fill(c) <= 0)
			return false;
	}
	return true;
}

/* Return the offset just past the next LF in c->in, reading more as needed; 0 on EOF. */
static size_t
fs_need_line(struct fs_conn *c)
{
	char *nl;

	for (;;) {
		if (c->in.len > 0 && (nl = memchr(c->in.data, '\n', c->in.len)) != NULL)
			return (size_t)(nl - c->in.data) + 1;
		if (c->in.len > FS_MAX_HEAD || fs_fill(c) <= 0)
			return 0;
	}
}

/* Decode a chunked request body into req->body; false on a framing error or EOF. */
static bool
fs_read_chunked(struct fs_conn *c, struct fs_request *req)
{
	for (;;) {
		size_t line = fs_need_line(c);
		unsigned long long size;
		char *end;

		if (line == 0)
			return false;
		errno = 0;
		size = strtoull(c->in.data, &end, 16);
		if (end == c->in.data || errno != 0 || size > FS_MAX_BODY ||
		    req->body.len + size > FS_MAX_BODY)
			return false;
		buf_consume(&c->in, line);
		if (size == 0)
			break;
		if (!fs_need(c, (size_t)size + 2))
			return false;
		buf_append(&req->body, c->in.data, (size_t)size);
		buf_consume(&c->in, (size_t)size);
		line = fs_need_line(c);
		if (line == 0)
			return false;
		buf_consume(&c->in, line);
	}
	/* Trailers, up to the empty line. */
	for (;;) {
		size_t line = fs_need_line(c);

		if (line == 0)
			return false;
		bool empty = c->in.data[0] == '\n' || (c->in.data[0] == '\r' && line == 2);
		buf_consume(&c->in, line);
		if (empty)
			return true;
	}
}

/* Split the header block into request line and headers; false if it is malformed. */
static bool
fs_parse_head(char *head, struct fs_request *req)
{
	char *save = NULL, *line, *sp1, *sp2;
	size_t cap = 0;

	line = strtok_r(head, "\n", &save);
	if (line == NULL)
		return false;
	line[strcspn(line, "\r")] = '\0';
	sp1 = strchr(line, ' ');
	if (sp1 == NULL)
		return false;
	sp2 = strchr(sp1 + 1, ' ');
	if (sp2 == NULL)
		return false;
	req->method = xstrndup(line, (size_t)(sp1 - line));
	req->target = xstrndup(sp1 + 1, (size_t)(sp2 - sp1 - 1));
	req->keep_alive = strcmp(sp2 + 1, "HTTP/1.0") != 0;
	{
		char *q = strchr(req->target, '?');

		req->path = q ? xstrndup(req->target, (size_t)(q - req->target)) : xstrdup(req->target);
		req->query = xstrdup(q ? q + 1 : "");
	}
	while ((line = strtok_r(NULL, "\n", &save)) != NULL) {
		char *colon, *v, *e;

		line[strcspn(line, "\r")] = '\0';
		if (*line == '\0')
			continue;
		colon = strchr(line, ':');
		if (colon == NULL)
			return false;
		v = colon + 1;
		while (*v == ' ' || *v == '\t')
			v++;
		e = v + strlen(v);
		while (e > v && (e[-1] == ' ' || e[-1] == '\t'))
			e--;
		if (req->nheaders == cap) {
			cap = cap ? cap * 2 : 16;
			req->headers = xrealloc(req->headers, cap * sizeof(*req->headers));
		}
		req->headers[req->nheaders].name = xstrndup(line, (size_t)(colon - line));
		req->headers[req->nheaders].value = xstrndup(v, (size_t)(e - v));
		req->nheaders++;
	}
	return true;
}

/* Read one request from the connection: 1 when complete, 0 at a clean EOF, -1 when malformed. */
int
fs_http_read_request(struct fs_conn *c, struct fs_request *req)
{
	size_t skip = 0, head_len;
	char *end, *head;
	const char *v;
	bool ok;

	memset(req, 0, sizeof(*req));
	buf_init(&req->body);
	while ((end = fs_find_head_end(&c->in, &skip)) == NULL) {
		if (c->in.len > FS_MAX_HEAD)
			return -1;
		if (fs_fill(c) <= 0)
			return c->in.len == 0 ? 0 : -1;
	}
	head_len = (size_t)(end - c->in.data);
	head = xstrndup(c->in.data, head_len);
	buf_consume(&c->in, head_len + skip);
	ok = fs_parse_head(head, req);
	free(head);
	if (!ok)
		return -1;
	if ((v = fs_header_get(req, "connection")) != NULL) {
		if (strcasecmp(v, "close") == 0)
			req->keep_alive = false;
		else if (strcasecmp(v, "keep-alive") == 0)
			req->keep_alive = true;
	}
	v = fs_header_get(req, "transfer-encoding");
	if (v != NULL && strcasestr(v, "chunked") != NULL) {
		if ((v = fs_header_get(req, "expect")) != NULL && strcasecmp(v, "100-continue") == 0)
			fs_write_all(c, "HTTP/1.1 100 Continue\r\n\r\n", 25);
		return fs_read_chunked(c, req) ? 1 : -1;
	}
	if ((v = fs_header_get(req, "content-length")) != NULL) {
		char *e;
		unsigned long long n;

		errno = 0;
		n = strtoull(v, &e, 10);
		if (e == v || *e != '\0' || errno != 0 || n > FS_MAX_BODY)
			return -1;
		/* curl waits a second for this before sending a large body; answer at once. */
		if (c->in.len < n && (v = fs_header_get(req, "expect")) != NULL &&
		    strcasecmp(v, "100-continue") == 0)
			fs_write_all(c, "HTTP/1.1 100 Continue\r\n\r\n", 25);
		if (!fs_need(c, (size_t)n))
			return -1;
		buf_append(&req->body, c->in.data, (size_t)n);
		buf_consume(&c->in, (size_t)n);
	}
	if (req->body.data == NULL)
		buf_append(&req->body, "", 0);
	return 1;
}

/* Release everything a parsed request owns. */
void
fs_request_free(struct fs_request *req)
{
	size_t i;

	for (i = 0; i < req->nheaders; i++) {
		free(req->headers[i].name);
		free(req->headers[i].value);
	}
	free(req->headers);
	free(req->method);
	free(req->target);
	free(req->path);
	free(req->query);
	buf_free(&req->body);
	memset(req, 0, sizeof(*req));
}

/* Value of the first header with this name (case-insensitive), or NULL. */
const char *
fs_header_get(const struct fs_request *req, const char *name)
{
	size_t i;

	for (i = 0; i < req->nheaders; i++) {
		if (strcasecmp(req->headers[i].name, name) == 0)
			return req->headers[i].value;
	}
	return NULL;
}

/* Copy the (undecoded) value of query parameter name into out; false when absent. */
bool
fs_query_get(const struct fs_request *req, const char *name, struct buf *out)
{
	const char *p = req->query;
	size_t nlen = strlen(name);

	while (*p != '\0') {
		size_t len = strcspn(p, "&");

		if (len > nlen && strncmp(p, name, nlen) == 0 && p[nlen] == '=') {
			buf_reset(out);
			buf_append(out, p + nlen + 1, len - nlen - 1);
			return true;
		}
		p += len;
		if (*p == '&')
			p++;
	}
	return false;
}

/* Write every byte or mark the connection dead; SIGPIPE is never raised (MSG_NOSIGNAL). */
void
fs_write_all(struct fs_conn *c, const void *p, size_t n)
{
	const char *s = p;

	while (n > 0 && !c->dead) {
		ssize_t w = send(c->fd, s, n, MSG_NOSIGNAL);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			c->dead = true;
			return;
		}
		s += w;
		n -= (size_t)w;
	}
}

/* Write the iovecs completely with one syscall in the common case. */
static void
fs_writev_all(struct fs_conn *c, struct iovec *iov, int cnt)
{
	while (cnt > 0 && !c->dead) {
		struct msghdr msg;
		ssize_t w;

		memset(&msg, 0, sizeof(msg));
		msg.msg_iov = iov;
		msg.msg_iovlen = (size_t)cnt;
		w = sendmsg(c->fd, &msg, MSG_NOSIGNAL);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			c->dead = true;
			return;
		}
		while (cnt > 0 && (size_t)w >= iov->iov_len) {
			w -= (ssize_t)iov->iov_len;
			iov++;
			cnt--;
		}
		if (cnt > 0) {
			iov->iov_base = (char *)iov->iov_base + w;
			iov->iov_len -= (size_t)w;
		}
	}
}

/* Reason phrase for a status line; unusual codes get a generic one. */
const char *
fs_status_reason(int status)
{
	switch (status) {
	case 200: return "OK";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 402: return "Payment Required";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 408: return "Request Timeout";
	case 409: return "Conflict";
	case 413: return "Payload Too Large";
	case 422: return "Unprocessable Entity";
	case 429: return "Too Many Requests";
	case 500: return "Internal Server Error";
	case 502: return "Bad Gateway";
	case 503: return "Service Unavailable";
	case 504: return "Gateway Timeout";
	case 529: return "Overloaded";
	default: return "Status";
	}
}

/*
 * Send the status line and headers. content_length < 0 means a stream: chunked framing when
 * c->chunked, otherwise the body is delimited by closing the connection.
 */
void
fs_send_head(struct fs_conn *c, int status, const char *ctype, const struct buf *extra,
    long long content_length)
{
	struct buf h = BUF_INIT;

	buf_printf(&h, "HTTP/1.1 %d %s\r\n", status, fs_status_reason(status));
	if (ctype != NULL)
		buf_printf(&h, "Content-Type: %s\r\n", ctype);
	if (extra != NULL && extra->len > 0)
		buf_append(&h, extra->data, extra->len);
	if (content_length >= 0)
		buf_printf(&h, "Content-Length: %lld\r\n", content_length);
	else if (c->chunked)
		buf_puts(&h, "Transfer-Encoding: chunked\r\n");
	else
		c->keep_alive = false;
	buf_puts(&h, c->keep_alive ? "Connection: keep-alive\r\n\r\n" : "Connection: close\r\n\r\n");
	fs_write_all(c, h.data, h.len);
	buf_free(&h);
}

/* Send one piece of a streamed body as one HTTP chunk (or raw bytes when not chunked). */
void
fs_send_chunk(struct fs_conn *c, const void *p, size_t n)
{
	char size[32];
	struct iovec iov[3];

	if (n == 0)
		return;
	if (!c->chunked) {
		fs_write_all(c, p, n);
		return;
	}
	iov[0].iov_base = size;
	iov[0].iov_len = (size_t)snprintf(size, sizeof(size), "%zx\r\n", n);
	iov[1].iov_base = (void *)(uintptr_t)p;
	iov[1].iov_len = n;
	iov[2].iov_base = "\r\n";
	iov[2].iov_len = 2;
	fs_writev_all(c, iov, 3);
}

/* Finish a streamed body: the zero-length chunk, or nothing for close-delimited bodies. */
void
fs_send_end(struct fs_conn *c)
{
	if (c->chunked)
		fs_write_all(c, "0\r\n\r\n", 5);
}

/* Send a complete response whose length is known up front. */
void
fs_send_body(struct fs_conn *c, int status, const char *ctype, const struct buf *extra,
    const char *body, size_t n)
{
	fs_send_head(c, status, ctype, extra, (long long)n);
	fs_write_all(c, body, n);
}

/* Milliseconds on the monotonic clock. */
static long long
fs_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Sleep for ms milliseconds unless the server is stopping; false means it is. */
bool
fs_sleep_ms(struct fs_server *srv, long ms)
{
	long long deadline = fs_now_ms() + ms;

	for (;;) {
		struct pollfd p = { srv->stop_rd, POLLIN, 0 };
		long long left = deadline - fs_now_ms();
		int r;

		if (left <= 0)
			return true;
		r = poll(&p, 1, left > 60000 ? 60000 : (int)left);
		if (r > 0)
			return false;
	}
}

/* Block until the client closes its end or the server stops (the "stall" fault). */
void
fs_wait_client_gone(struct fs_conn *c)
{
	char junk[4096];

	for (;;) {
		struct pollfd p[2] = { { c->fd, POLLIN, 0 }, { c->srv->stop_rd, POLLIN, 0 } };

		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			return;
		}
		if (p[1].revents != 0)
			return;
		if (p[0].revents != 0) {
			ssize_t n = read(c->fd, junk, sizeof(junk));

			if (n <= 0 && !(n < 0 && errno == EINTR))
				return;
		}
	}
}
