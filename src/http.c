/*
 * HTTP as plain data: requests built by the adapters and response headers collected by the
 * worker, plus the few header interpretations natter needs (server-requested retry delay,
 * request id). Nothing here touches the network, so all of it is unit-testable.
 */
#include <ctype.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "buf.h"
#include "http.h"
#include "xmalloc.h"

/* Start an empty request for method and url. */
void
http_req_init(struct http_req *r, const char *method, const char *url)
{
	memset(r, 0, sizeof *r);
	r->method = xstrdup(method);
	r->url = xstrdup(url);
}

/* Append one "Name: value" header line built from a printf format. */
void
http_req_header(struct http_req *r, const char *fmt, ...)
{
	va_list ap;
	struct buf b = BUF_INIT;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	buf_reserve(&b, (size_t)n);
	va_start(ap, fmt);
	vsnprintf(b.data, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b.len = (size_t)n;
	r->headers = xrealloc(r->headers, (r->nheaders + 1) * sizeof *r->headers);
	r->headers[r->nheaders++] = buf_detach(&b);
}

/* Release everything a request owns and leave it zeroed. */
void
http_req_free(struct http_req *r)
{
	size_t i;

	free(r->method);
	free(r->url);
	for (i = 0; i < r->nheaders; i++)
		free(r->headers[i]);
	free(r->headers);
	free(r->body);
	for (i = 0; i < r->nparts; i++) {
		free(r->parts[i].name);
		free(r->parts[i].data);
		free(r->parts[i].path);
		free(r->parts[i].filename);
		free(r->parts[i].type);
	}
	free(r->parts);
	if (r->stream != NULL) {
		r->stream->release(r->stream->arg);
		free(r->stream);
	}
	memset(r, 0, sizeof *r);
}

/* Read a streamed body whole into body; nothing to do for any other request. */
void
http_req_flatten(struct http_req *r)
{
	struct http_stream *st = r->stream;
	size_t got = 0, n;

	if (st == NULL)
		return;
	free(r->body);
	r->body = xmalloc(st->len + 1);
	while (got < st->len && (n = st->read(st->arg, got, r->body + got, st->len - got)) > 0)
		got += n;
	r->body[got] = '\0';
	r->body_len = got;
	st->release(st->arg);
	free(st);
	r->stream = NULL;
}

/* A new empty part at the end of r's form. */
static struct http_part *
http_req_part(struct http_req *r, const char *name)
{
	struct http_part *p;

	r->parts = xrealloc(r->parts, (r->nparts + 1) * sizeof *r->parts);
	p = &r->parts[r->nparts++];
	memset(p, 0, sizeof *p);
	p->name = xstrdup(name);
	return p;
}

/* Add a form field of len bytes. */
void
http_req_field(struct http_req *r, const char *name, const char *data, size_t len)
{
	struct http_part *p = http_req_part(r, name);

	p->data = xmalloc(len + 1);
	memcpy(p->data, data, len);
	p->data[len] = '\0';
	p->len = len;
}

/* Add a file part read from path when the request goes out. */
void
http_req_file(struct http_req *r, const char *name, const char *path, const char *filename,
    const char *type)
{
	struct http_part *p = http_req_part(r, name);

	p->path = xstrdup(path);
	p->filename = filename != NULL ? xstrdup(filename) : NULL;
	p->type = type != NULL ? xstrdup(type) : NULL;
}

/* Append a header with the given name and value. */
void
http_headers_add(struct http_headers *h, const char *name, const char *value)
{
	h->v = xrealloc(h->v, (h->n + 1) * sizeof *h->v);
	h->v[h->n].name = xstrdup(name);
	h->v[h->n].value = xstrdup(value);
	h->n++;
}

/* Parse one raw header line as libcurl delivers it; status lines and blanks are ignored. */
void
http_headers_add_line(struct http_headers *h, const char *line, size_t len)
{
	const char *colon, *v, *end = line + len;
	char *name, *value;

	while (end > line && (end[-1] == '\r' || end[-1] == '\n'))
		end--;
	if (end == line || (end - line >= 5 && strncmp(line, "HTTP/", 5) == 0))
		return;
	/* A folded continuation line (obsolete, but legal) has no name of its own. */
	if (*line == ' ' || *line == '\t')
		return;
	colon = memchr(line, ':', (size_t)(end - line));
	if (colon == NULL || colon == line)
		return;
	v = colon + 1;
	while (v < end && (*v == ' ' || *v == '\t'))
		v++;
	while (end > v && (end[-1] == ' ' || end[-1] == '\t'))
		end--;
	name = xstrndup(line, (size_t)(colon - line));
	value = xstrndup(v, (size_t)(end - v));
	http_headers_add(h, name, value);
	free(name);
	free(value);
}

/* The value of the last header called name (case-insensitive), or NULL; the last one wins
 * because after a redirect the final response's headers come after the earlier ones. */
const char *
http_headers_get(const struct http_headers *h, const char *name)
{
	size_t i;

	if (h == NULL)
		return NULL;
	for (i = h->n; i > 0; i--)
		if (strcasecmp(h->v[i - 1].name, name) == 0)
			return h->v[i - 1].value;
	return NULL;
}

/* Drop every header and free their memory. */
void
http_headers_clear(struct http_headers *h)
{
	size_t i;

	for (i = 0; i < h->n; i++) {
		free(h->v[i].name);
		free(h->v[i].value);
	}
	free(h->v);
	h->v = NULL;
	h->n = 0;
}

/* Parse s as a non-negative decimal number with nothing but blanks after it; -1 if not. */
static double
http_parse_number(const char *s)
{
	char *end;
	double v;

	while (*s == ' ' || *s == '\t')
		s++;
	if (!isdigit((unsigned char)*s) && *s != '.')
		return -1;
	v = strtod(s, &end);
	if (end == s)
		return -1;
	while (*end == ' ' || *end == '\t')
		end++;
	if (*end != '\0' || !isfinite(v) || v < 0)
		return -1;
	return v;
}

/* Parse an IMF-fixdate ("Sun, 06 Nov 1994 08:49:37 GMT") as seconds since the epoch, or -1.
 * Written by hand because strptime's month names follow the locale the UI sets. */
static double
http_parse_date(const char *s)
{
	static const char months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
	char mon[4];
	int day, year, hh, mm, ss, i, n = 0;
	struct tm tm;
	const char *comma = strchr(s, ',');
	time_t t;

	if (comma != NULL)
		s = comma + 1;
	if (sscanf(s, " %2d %3s %4d %2d:%2d:%2d GMT%n", &day, mon, &year, &hh, &mm, &ss, &n) != 6 ||
	    n == 0)
		return -1;
	for (s += n; *s == ' '; s++)
		;
	if (*s != '\0')
		return -1;
	for (i = 0; i < 12; i++)
		if (strncasecmp(mon, months + 3 * i, 3) == 0)
			break;
	if (i == 12 || day < 1 || day > 31 || hh > 23 || mm > 59 || ss > 60 || year < 1970)
		return -1;
	memset(&tm, 0, sizeof tm);
	tm.tm_mday = day;
	tm.tm_mon = i;
	tm.tm_year = year - 1900;
	tm.tm_hour = hh;
	tm.tm_min = mm;
	tm.tm_sec = ss;
	t = timegm(&tm);
	if (t == (time_t)-1)
		return -1;
	return (double)t;
}

/* Server-requested delay in seconds: retry-after-ms, then retry-after; -1 if none. */
double
http_retry_after(const struct http_headers *h)
{
	const char *v;
	double d;

	v = http_headers_get(h, "retry-after-ms");
	if (v != NULL && (d = http_parse_number(v)) >= 0)
		return d / 1000.0;
	v = http_headers_get(h, "retry-after");
	if (v == NULL)
		return -1;
	if ((d = http_parse_number(v)) >= 0)
		return d;
	if ((d = http_parse_date(v)) >= 0) {
		d -= (double)time(NULL);
		return d > 0 ? d : 0;
	}
	return -1;
}

/* The provider's request id for support tickets, or NULL. */
const char *
http_request_id(const struct http_headers *h)
{
	static const char *const names[] = { "request-id", "x-request-id", "x-goog-request-id",
		NULL };
	const char *v;
	int i;

	for (i = 0; names[i] != NULL; i++)
		if ((v = http_headers_get(h, names[i])) != NULL && v[0] != '\0')
			return v;
	return NULL;
}

/* Join base and path with exactly one slash between them. Caller frees. */
char *
http_join(const char *base, const char *path)
{
	size_t bl = strlen(base);

	while (bl > 0 && base[bl - 1] == '/')
		bl--;
	while (*path == '/')
		path++;
	if (*path == '\0')
		return xstrndup(base, bl);
	return xasprintf("%.*s/%s", (int)bl, base, path);
}
