/*
 * The multipart/form-data parser (fs-multipart.h). A body is an optional preamble, a
 * delimiter ("--" and the boundary) at its start or after a CRLF, then parts, each being
 * header lines ending in CRLF, a blank line and the content up to CRLF and the next
 * delimiter; a delimiter followed by "--" closes the body, and what follows is an epilogue
 * to ignore (RFC 2046 §5.1.1). Each part must carry Content-Disposition: form-data with a
 * name (RFC 7578 §4.2), whose parameters are tokens or quoted strings with backslash
 * escapes (any byte but CR, LF and NUL inside: a file name may hold what it likes). Everything is bounded by the body's length; nothing is assumed NUL-terminated.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "fs-multipart.h"
#include "xmalloc.h"

#define FS_FORM_MAX_LINE 8192
#define FS_FORM_MAX_HEADERS 32

/* True for a character RFC 2046 allows in a boundary (space only inside). */
static bool
fs_bchar(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    strchr("'()+_,-./:=? ", c) != NULL;
}

/* True for a character of an RFC 7230 token. */
static bool
fs_tchar(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

/* Skip spaces and tabs. */
static const char *
fs_ows(const char *p, const char *end)
{
	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	return p;
}

/*
 * Read one parameter value at *pp (a token, or a quoted string with backslash escapes)
 * into out; false when it is malformed.
 */
static bool
fs_param_value(const char **pp, const char *end, struct buf *out)
{
	const char *p = *pp;

	buf_reset(out);
	if (p < end && *p == '"') {
		for (p++; p < end && *p != '"'; p++) {
			if (*p == '\\') {
				if (++p >= end)
					return false;
			} else if (*p == '\r' || *p == '\n') {
				return false;   /* a quoted string never spans lines */
			}
			buf_putc(out, *p);
		}
		if (p >= end)
			return false;
		*pp = p + 1;
		return true;
	}
	while (p < end && fs_tchar(*p))
		buf_putc(out, *p++);
	*pp = p;
	return out->len > 0;
}

/*
 * Walk the ";name=value" parameters after a header's first word. For each, call back
 * with the lower-case name and the value; false on a syntax error.
 */
static bool
fs_params(const char *p, const char *end, bool (*fn)(void *ud, const char *name,
    const struct buf *value), void *ud)
{
	struct buf name = BUF_INIT, value = BUF_INIT;
	bool ok = true;

	for (;;) {
		p = fs_ows(p, end);
		if (p >= end)
			break;
		if (*p != ';') {
			ok = false;
			break;
		}
		p = fs_ows(p + 1, end);
		if (p >= end)
			break;          /* a trailing ';' is tolerated */
		buf_reset(&name);
		while (p < end && fs_tchar(*p)) {
			char c = *p++;

			buf_putc(&name, c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c);
		}
		p = fs_ows(p, end);
		if (name.len == 0 || p >= end || *p != '=') {
			ok = false;
			break;
		}
		p = fs_ows(p + 1, end);
		if (!fs_param_value(&p, end, &value) || !fn(ud, buf_str(&name), &value)) {
			ok = false;
			break;
		}
	}
	buf_free(&name);
	buf_free(&value);
	return ok;
}

/* Keep the boundary parameter (the first one). */
static bool
fs_take_boundary(void *ud, const char *name, const struct buf *value)
{
	struct buf *out = ud;

	if (strcmp(name, "boundary") == 0 && out->len == 0) {
		if (value->len == 0)
			return false;
		buf_append(out, value->data, value->len);
	}
	return true;
}

/* The boundary of a multipart/form-data Content-Type. */
bool
fs_multipart_boundary(const char *ctype, struct buf *out)
{
	static const char type[] = "multipart/form-data";
	const char *p, *end;
	size_t i;

	buf_reset(out);
	if (ctype == NULL)
		return false;
	end = ctype + strlen(ctype);
	p = fs_ows(ctype, end);
	if ((size_t)(end - p) < sizeof(type) - 1 || strncasecmp(p, type, sizeof(type) - 1) != 0)
		return false;
	p += sizeof(type) - 1;
	if (!fs_params(p, end, fs_take_boundary, out) || out->len == 0 ||
	    out->len > FS_BOUNDARY_MAX || out->data[out->len - 1] == ' ') {
		buf_reset(out);
		return false;
	}
	for (i = 0; i < out->len; i++)
		if (!fs_bchar(out->data[i])) {
			buf_reset(out);
			return false;
		}
	return true;
}

/* Free a form's names; its data belongs to the body. */
void
fs_form_free(struct fs_form *f)
{
	size_t i;

	for (i = 0; i < f->n; i++) {
		free(f->v[i].name);
		free(f->v[i].filename);
		free(f->v[i].type);
	}
	free(f->v);
	f->v = NULL;
	f->n = 0;
}

/* The first part called name. */
const struct fs_part *
fs_form_get(const struct fs_form *f, const char *name)
{
	size_t i;

	for (i = 0; i < f->n; i++)
		if (strcmp(f->v[i].name, name) == 0)
			return &f->v[i];
	return NULL;
}

/* How many parts are called name. */
size_t
fs_form_count(const struct fs_form *f, const char *name)
{
	size_t i, n = 0;

	for (i = 0; i < f->n; i++)
		n += strcmp(f->v[i].name, name) == 0;
	return n;
}

/* What a part's headers said, while they are read. */
struct fs_part_head {
	struct fs_part *part;
	bool disposition;
	bool named;
	bool bad_twice;       /* a parameter given twice */
};

/* Keep name= and filename= of a Content-Disposition. */
static bool
fs_take_disposition(void *ud, const char *name, const struct buf *value)
{
	struct fs_part_head *h = ud;
	char **slot = NULL;

	if (strcmp(name, "name") == 0)
		slot = &h->part->name;
	else if (strcmp(name, "filename") == 0)
		slot = &h->part->filename;
	if (slot == NULL)
		return true;
	if (*slot != NULL) {
		h->bad_twice = true;
		return false;
	}
	if (value->len > 0 && memchr(value->data, '\0', value->len) != NULL) {
		h->bad_twice = true;     /* a NUL inside a name is refused like a repeat */
		return false;
	}
	*slot = xstrndup(value->data != NULL ? value->data : "", value->len);
	if (slot == &h->part->name)
		h->named = true;
	return true;
}

/* Parse one header line of a part (without its CRLF); false with err set. */
static bool
fs_part_header(const char *p, const char *end, struct fs_part_head *h, struct buf *err)
{
	static const char disp[] = "form-data";
	const char *colon = memchr(p, ':', (size_t)(end - p)), *v, *q;
	size_t nlen;

	if (colon == NULL || colon == p) {
		buf_puts(err, "a header line without a name and a colon");
		return false;
	}
	for (q = p; q < colon; q++)
		if (!fs_tchar(*q)) {
			buf_puts(err, "a header name with a character no token allows");
			return false;
		}
	nlen = (size_t)(colon - p);
	v = fs_ows(colon + 1, end);
	while (end > v && (end[-1] == ' ' || end[-1] == '\t'))
		end--;
	if (nlen == 19 && strncasecmp(p, "Content-Disposition", nlen) == 0) {
		if (h->disposition) {
			buf_puts(err, "two Content-Disposition headers");
			return false;
		}
		h->disposition = true;
		if ((size_t)(end - v) < sizeof(disp) - 1 || strncasecmp(v, disp, sizeof(disp) - 1) != 0 ||
		    (v + sizeof(disp) - 1 < end && v[sizeof(disp) - 1] != ';' &&
		    v[sizeof(disp) - 1] != ' ' && v[sizeof(disp) - 1] != '\t')) {
			buf_puts(err, "a Content-Disposition that is not form-data");
			return false;
		}
		if (!fs_params(v + sizeof(disp) - 1, end, fs_take_disposition, h)) {
			buf_puts(err, h->bad_twice ? "a Content-Disposition parameter given twice or "
			    "holding a NUL" : "a malformed Content-Disposition parameter");
			return false;
		}
	} else if (nlen == 12 && strncasecmp(p, "Content-Type", nlen) == 0) {
		if (h->part->type != NULL || v == end || memchr(v, '\0', (size_t)(end - v))) {
			buf_puts(err, "a Content-Type given twice, empty or holding a NUL");
			return false;
		}
		h->part->type = xstrndup(v, (size_t)(end - v));
	}
	return true;
}

/* Read a part's headers from *pp up to and including the blank line; false with err. */
static bool
fs_part_headers(const char **pp, const char *end, struct fs_part *part, struct buf *err)
{
	struct fs_part_head h = { part, false, false, false };
	const char *p = *pp, *eol;
	int n;

	for (n = 0;; n++) {
		eol = memmem(p, (size_t)(end - p), "\r\n", 2);
		if (eol == NULL || eol - p > FS_FORM_MAX_LINE) {
			buf_puts(err, eol == NULL ? "the headers end without a blank line" :
			    "a header line longer than 8 KiB");
			return false;
		}
		if (eol == p)
			break;
		if (n >= FS_FORM_MAX_HEADERS) {
			buf_puts(err, "more than 32 header lines");
			return false;
		}
		if (*p == ' ' || *p == '\t') {
			buf_puts(err, "a folded header line (obsolete, RFC 7578 §4.8 wants none)");
			return false;
		}
		if (!fs_part_header(p, eol, &h, err))
			return false;
		p = eol + 2;
	}
	if (!h.disposition || !h.named) {
		buf_puts(err, h.disposition ? "a Content-Disposition without a name" :
		    "no Content-Disposition header");
		return false;
	}
	*pp = eol + 2;
	return true;
}

/* Parse a whole body. */
bool
fs_multipart_parse(const char *boundary, const char *body, size_t len, struct fs_form *out,
    struct buf *err)
{
	struct buf delim = BUF_INIT;
	const char *p, *end = body + len, *q;
	struct fs_part *part;
	size_t dlen;
	bool ok = false;

	memset(out, 0, sizeof(*out));
	buf_reset(err);
	buf_puts(&delim, "\r\n--");
	buf_puts(&delim, boundary);
	dlen = delim.len - 2;          /* the delimiter without its leading CRLF */
	if (len >= dlen && memcmp(body, delim.data + 2, dlen) == 0) {
		p = body + dlen;
	} else if ((q = memmem(body, len, delim.data, delim.len)) != NULL) {
		p = q + delim.len;
	} else {
		buf_puts(err, "no delimiter of the boundary in the body");
		goto out;
	}
	for (;;) {
		if (end - p >= 2 && p[0] == '-' && p[1] == '-') {
			ok = out->n > 0;
			if (!ok)
				buf_puts(err, "the body closes before its first part");
			break;
		}
		p = fs_ows(p, end);
		if (end - p < 2 || p[0] != '\r' || p[1] != '\n') {
			buf_printf(err, "after delimiter %zu: neither CRLF nor the closing \"--\"",
			    out->n + 1);
			break;
		}
		p += 2;
		if (out->n >= FS_FORM_MAX_PARTS) {
			buf_puts(err, "more than 256 parts");
			break;
		}
		out->v = xrealloc(out->v, (out->n + 1) * sizeof(*out->v));
		part = &out->v[out->n++];
		memset(part, 0, sizeof(*part));
		if (!fs_part_headers(&p, end, part, err)) {
			struct buf why = BUF_INIT;

			buf_printf(&why, "part %zu: %s", out->n, buf_str(err));
			buf_reset(err);
			buf_append(err, why.data, why.len);
			buf_free(&why);
			break;
		}
		if ((q = memmem(p, (size_t)(end - p), delim.data, delim.len)) == NULL) {
			buf_printf(err, "part %zu (%s) has no delimiter after it", out->n, part->name);
			break;
		}
		part->data = p;
		part->len = (size_t)(q - p);
		p = q + delim.len;
	}
out:
	buf_free(&delim);
	if (!ok) {
		fs_form_free(out);
		if (err->len == 0)
			buf_puts(err, "malformed body");
	}
	return ok;
}
