/*
 * Plain data for HTTP exchanges, with no libcurl in sight: the request an adapter builds
 * (method, URL, headers, body) and the response headers the worker hands back. Adapters stay
 * testable without a network and the worker stays the only owner of curl handles.
 */
#ifndef NATTER_HTTP_H
#define NATTER_HTTP_H

#include <stddef.h>

/* One part of a multipart/form-data body (RFC 7578): a field's value in memory, or a file
 * the worker streams from disk (libcurl's mime API writes the boundaries). */
struct http_part {
	char *name;
	char *data;      /* the value (len bytes), or NULL for a file part */
	size_t len;
	char *path;      /* a file part: the file to send, else NULL */
	char *filename;  /* filename= of the part, or NULL */
	char *type;      /* the part's Content-Type, or NULL */
};

/* A body produced as it is sent rather than held whole (a request carrying a large file's
 * base64): len bytes in all; read copies up to n of them from offset off into dst and
 * returns how many (0 only at the end); release frees arg. Reads come from the worker
 * thread alone, in order, starting again at 0 when a transfer is retried. */
struct http_stream {
	size_t len;
	size_t (*read)(void *arg, size_t off, char *dst, size_t n);
	void (*release)(void *arg);
	void *arg;
};

struct http_req {
	char *method;    /* "POST" or "GET" */
	char *url;
	char **headers;  /* "Name: value" */
	size_t nheaders;
	char *body;      /* NULL for GET */
	size_t body_len;
	struct http_part *parts; /* a multipart/form-data body instead of body, in order; the */
	size_t nparts;           /* worker sets its Content-Type with the boundary */
	struct http_stream *stream; /* a body produced as it is sent instead of body */
};

struct http_header {
	char *name;
	char *value;
};

struct http_headers {
	struct http_header *v;
	size_t n;
};

void http_req_init(struct http_req *r, const char *method, const char *url);
void http_req_header(struct http_req *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void http_req_free(struct http_req *r);
/* Turn a streamed body into body/body_len (for tests and anything that needs it whole). */
void http_req_flatten(struct http_req *r);
/* Add a form field holding len bytes of data (a text field: its bytes, no Content-Type). */
void http_req_field(struct http_req *r, const char *name, const char *data, size_t len);
/* Add a file part: the file at path, sent as filename with Content-Type type (NULL: none). */
void http_req_file(struct http_req *r, const char *name, const char *path,
    const char *filename, const char *type);

/* Add one raw header line ("Name: value\r\n"); status lines and blanks are ignored. */
void http_headers_add_line(struct http_headers *h, const char *line, size_t len);
void http_headers_add(struct http_headers *h, const char *name, const char *value);
/* Case-insensitive lookup; NULL when absent. */
const char *http_headers_get(const struct http_headers *h, const char *name);
void http_headers_clear(struct http_headers *h);
/* Server-requested delay from retry-after-ms, then retry-after (seconds or HTTP-date); -1 if none. */
double http_retry_after(const struct http_headers *h);
/* The request id from request-id / x-request-id headers, or NULL. */
const char *http_request_id(const struct http_headers *h);
/* Join a base URL and a path with exactly one slash between them. Caller frees. */
char *http_join(const char *base, const char *path);

#endif
