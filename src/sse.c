/*
 * Server-sent events decoder (see sse.h). Bytes are split into lines on CR, LF or CRLF with
 * a flag that survives across reads, so a CR ending one read and the LF starting the next
 * count once. Lines that arrive whole inside one read are parsed in place; only a line split
 * across reads is copied, so the cost stays linear in the input whatever its line lengths.
 */
#include <string.h>

#include "sse.h"

static const unsigned char sse_bom[3] = { 0xef, 0xbb, 0xbf };

/* Set up an empty decoder that reports events to fn. */
void
sse_init(struct sse *s, sse_event_fn fn, void *ud)
{
	memset(s, 0, sizeof(*s));
	buf_init(&s->line);
	buf_init(&s->data);
	buf_init(&s->event);
	buf_init(&s->error);
	buf_init(&s->last_id);
	s->retry_ms = -1;
	s->fn = fn;
	s->ud = ud;
}

/* Release the decoder's buffers. */
void
sse_free(struct sse *s)
{
	buf_free(&s->line);
	buf_free(&s->data);
	buf_free(&s->event);
	buf_free(&s->error);
	buf_free(&s->last_id);
}

/* Fire the buffered event if it has data (and a llama.cpp error first), then reset. */
static void
sse_dispatch(struct sse *s)
{
	/* A llama.cpp error field goes first: its data is often just "[DONE]". */
	if (s->error.len > 0)
		s->fn(s->ud, "error", s->error.data, s->error.len);
	if (s->data.len > 0) {
		size_t n = s->data.len;

		if (s->data.data[n - 1] == '\n')
			n--;
		s->data.data[n] = '\0';
		s->fn(s->ud, s->event.len ? s->event.data : "message", s->data.data, n);
	}
	buf_reset(&s->data);
	buf_reset(&s->event);
	buf_reset(&s->error);
	s->has_data = 0;
	s->pending = 0;
}

/* True when the n bytes at p are all ASCII digits (and there is at least one). */
static int
sse_digits(const char *p, size_t n)
{
	size_t i;

	if (n == 0)
		return 0;
	for (i = 0; i < n; i++)
		if (p[i] < '0' || p[i] > '9')
			return 0;
	return 1;
}

/* Give up on the stream after a line or event went over the cap: drop what is buffered
 * (that memory is what the cap is for) and ignore all further input. */
static void
sse_overflow(struct sse *s)
{
	s->overflow = 1;
	buf_free(&s->line);
	buf_free(&s->data);
	buf_reset(&s->event);
	buf_reset(&s->error);
	s->pending = 0;
	s->has_data = 0;
}

/* True (after giving up) when n more bytes would take a line or the event over the cap. */
static int
sse_over(struct sse *s, size_t have, size_t n)
{
	if (s->max_line == 0 || have + n <= s->max_line)
		return 0;
	sse_overflow(s);
	return 1;
}

/* Interpret one complete line (without its terminator). */
static void
sse_line(struct sse *s, const char *p, size_t n)
{
	const char *colon, *value;
	size_t flen, vlen;

	if (n == 0) {
		sse_dispatch(s);
		return;
	}
	if (p[0] == ':')
		return;
	colon = memchr(p, ':', n);
	if (colon != NULL) {
		flen = (size_t)(colon - p);
		value = colon + 1;
		vlen = n - flen - 1;
		if (vlen > 0 && value[0] == ' ') {
			value++;
			vlen--;
		}
	} else {
		flen = n;
		value = p + n;
		vlen = 0;
	}
	if (flen == 4 && memcmp(p, "data", 4) == 0) {
		if (sse_over(s, s->data.len, vlen + 1))
			return;
		buf_append(&s->data, value, vlen);
		buf_putc(&s->data, '\n');
		s->has_data = 1;
	} else if (flen == 5 && memcmp(p, "event", 5) == 0) {
		buf_reset(&s->event);
		buf_append(&s->event, value, vlen);
	} else if (flen == 2 && memcmp(p, "id", 2) == 0) {
		if (memchr(value, '\0', vlen) == NULL) {
			buf_reset(&s->last_id);
			buf_append(&s->last_id, value, vlen);
		}
	} else if (flen == 5 && memcmp(p, "retry", 5) == 0) {
		if (sse_digits(value, vlen) && vlen < 10) {
			long v = 0;
			size_t i;

			for (i = 0; i < vlen; i++)
				v = v * 10 + (value[i] - '0');
			s->retry_ms = v;
		}
	} else if (flen == 5 && memcmp(p, "error", 5) == 0) {
		buf_reset(&s->error);
		buf_append(&s->error, value, vlen);
	} else {
		return;
	}
	s->pending = 1;
}

/*
 * The common event, one "data:" line followed at once by its blank line with nothing else
 * buffered, is dispatched straight from the read buffer instead of being copied into the
 * data buffer first: a long reply is one such event per token. p..q is the line and q its
 * terminator. Returns where scanning resumes, or NULL when the general path must run.
 */
static const char *
sse_direct(struct sse *s, const char *p, const char *q, const char *end)
{
	const char *v, *u;

	if (s->data.len > 0 || s->error.len > 0 || q - p < 5 || memcmp(p, "data:", 5) != 0)
		return NULL;
	/* u: the start of the next line; a CR ending this read could still pair with an LF. */
	if (*q == '\r') {
		if (q + 1 == end)
			return NULL;
		u = q[1] == '\n' ? q + 2 : q + 1;
	} else {
		u = q + 1;
	}
	if (u >= end || (*u != '\n' && *u != '\r'))
		return NULL;
	v = p + 5;
	if (v < q && *v == ' ')
		v++;
	s->fn(s->ud, s->event.len ? s->event.data : "message", v, (size_t)(q - v));
	buf_reset(&s->event);
	s->has_data = 0;
	s->pending = 0;
	/* Step over the blank line's terminator, remembering a CR that ends this read. */
	if (*u == '\r') {
		if (u + 1 == end) {
			s->last_was_cr = 1;
			return end;
		}
		if (u[1] == '\n')
			return u + 2;
	}
	return u + 1;
}

/* Split bytes (already past any BOM) into lines and interpret each. */
static void
sse_bytes(struct sse *s, const char *p, size_t n)
{
	const char *end = p + n;

	if (n > 0 && s->last_was_cr && *p == '\n')
		p++;
	s->last_was_cr = 0;
	while (p < end) {
		/* Find the next LF with memchr, then any CR before it: both are vectorised, and
		 * most lines end in a bare LF. */
		const char *q = memchr(p, '\n', (size_t)(end - p));
		const char *cr = memchr(p, '\r', (size_t)((q != NULL ? q : end) - p));

		if (cr != NULL)
			q = cr;
		else if (q == NULL)
			q = end;
		if (sse_over(s, s->line.len, (size_t)(q - p)))
			return;
		if (q == end) {
			buf_append(&s->line, p, (size_t)(end - p));
			return;
		}
		if (s->line.len > 0) {
			buf_append(&s->line, p, (size_t)(q - p));
			sse_line(s, s->line.data, s->line.len);
			buf_reset(&s->line);
		} else {
			const char *next = sse_direct(s, p, q, end);

			if (next != NULL) {
				p = next;
				continue;
			}
			sse_line(s, p, (size_t)(q - p));
		}
		if (s->overflow)
			return;
		if (*q == '\r') {
			if (q + 1 == end)
				s->last_was_cr = 1;
			else if (q[1] == '\n')
				q++;
		}
		p = q + 1;
	}
}

/* Feed n more bytes of the stream. */
void
sse_feed(struct sse *s, const char *p, size_t n)
{
	if (s->overflow)
		return;
	while (n > 0 && s->bom_state >= 0) {
		if ((unsigned char)*p == sse_bom[s->bom_state]) {
			p++;
			n--;
			if (++s->bom_state == 3)
				s->bom_state = -1;
			continue;
		}
		/* Not a BOM after all: the bytes matched so far are ordinary data. */
		if (s->bom_state > 0)
			sse_bytes(s, (const char *)sse_bom, (size_t)s->bom_state);
		s->bom_state = -1;
	}
	if (n > 0)
		sse_bytes(s, p, n);
}

/* End of input: an event without its closing blank line is discarded (returns 1). */
int
sse_finish(struct sse *s)
{
	int discarded = 0;

	if (s->overflow)
		return 1;
	if (s->bom_state > 0) {
		/* The input ended inside what might have been a BOM: it was data. */
		int k = s->bom_state;

		s->bom_state = -1;
		sse_bytes(s, (const char *)sse_bom, (size_t)k);
	}
	if (s->line.len > 0 || s->pending || s->data.len > 0 || s->overflow)
		discarded = 1;
	buf_reset(&s->line);
	buf_reset(&s->data);
	buf_reset(&s->event);
	buf_reset(&s->error);
	s->pending = 0;
	s->has_data = 0;
	s->last_was_cr = 0;
	return discarded;
}
