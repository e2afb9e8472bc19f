/*
 * Plain data for HTTP exchanges, with no libcurl in sight: the request an adapter builds
 * (method, URL, headers, body) and the response headers the worker hands back. Adapters stay
 * testable without a network and the worker stays the only owner of curl handles.
 */
#ifndef NATTER_HTTP_H
#define NATTER_HTTP_H

#include <stddef.h>

struct http_req {
	char *method;    /* "POST" or "GET" */
	char *url;
	char **headers;  /* "Name: value" */
	size_t nheaders;
	char *body;      /* NULL for GET */
	size_t body_len;
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
