/*
 * Terminal-safe text (see text.h). Input is decoded to code points first so that C1
 * controls written as UTF-8 (U+0080..U+009F) are caught like their 8-bit forms, then a small
 * state machine drops escape sequences. Unterminated string sequences (OSC, DCS, ...) end at
 * a newline or after STRING_MAX bytes, so one stray ESC ] cannot swallow the rest of a reply.
 */
#include <string.h>

#include "text.h"

enum {
	ST_TEXT,
	ST_ESC,       /* after ESC */
	ST_ESC_INTER, /* ESC followed by intermediate bytes */
	ST_CSI,       /* control sequence: parameters and intermediates until a final byte */
	ST_STRING,    /* OSC/DCS/SOS/PM/APC body until BEL or ST */
	ST_STRING_ESC,/* ESC seen inside a string: maybe ST */
};

#define STRING_MAX 4096

static const char replacement[] = "\xef\xbf\xbd";

/* Reset f to the start of a text. */
void
text_filter_init(struct text_filter *f)
{
	memset(f, 0, sizeof(*f));
}

/* How many bytes a sequence with this lead byte needs, or 0 for an invalid lead. */
static int
text_utf8_need(unsigned char c)
{
	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		return 2;
	if (c >= 0xe0 && c <= 0xef)
		return 3;
	if (c >= 0xf0 && c <= 0xf4)
		return 4;
	return 0;
}

/* Decode one UTF-8 sequence; rejects overlongs, surrogates and values past U+10FFFF. */
int
text_utf8_decode(const unsigned char *p, size_t n, unsigned *cp)
{
	int need, i;
	unsigned v;

	if (n == 0)
		return 0;
	need = text_utf8_need(p[0]);
	if (need == 0 || (size_t)need > n)
		return 0;
	if (need == 1) {
		*cp = p[0];
		return 1;
	}
	v = p[0] & (0x7f >> need);
	for (i = 1; i < need; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		v = (v << 6) | (p[i] & 0x3f);
	}
	if ((need == 3 && v < 0x800) || (need == 4 && v < 0x10000) || v > 0x10ffff ||
	    (v >= 0xd800 && v <= 0xdfff))
		return 0;
	*cp = v;
	return need;
}

/* True for code points that reorder text invisibly (bidi embeddings, overrides, isolates). */
static int
text_is_bidi_control(unsigned cp)
{
	return (cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069);
}

/* Handle one code point cp whose encoding is the len bytes at s. */
static void
text_cp(struct text_filter *f, unsigned cp, const char *s, size_t len, struct buf *out)
{
again:
	switch (f->state) {
	case ST_TEXT:
		if (cp == 0x1b) {
			f->state = ST_ESC;
		} else if (cp == 0x9b) {
			f->state = ST_CSI;
		} else if (cp == 0x9d || cp == 0x90 || cp == 0x98 || cp == 0x9e || cp == 0x9f) {
			f->state = ST_STRING;
			f->string_len = 0;
		} else if (cp == '\n' || cp == '\t') {
			buf_putc(out, (char)cp);
		} else if (cp < 0x20 || (cp >= 0x7f && cp <= 0x9f) || text_is_bidi_control(cp)) {
			/* dropped */
		} else {
			buf_append(out, s, len);
		}
		return;
	case ST_ESC:
		if (cp == '[') {
			f->state = ST_CSI;
		} else if (cp == ']' || cp == 'P' || cp == 'X' || cp == '^' || cp == '_') {
			f->state = ST_STRING;
			f->string_len = 0;
		} else if (cp >= 0x20 && cp <= 0x2f) {
			f->state = ST_ESC_INTER;
		} else if (cp >= 0x30 && cp <= 0x7e) {
			f->state = ST_TEXT;
		} else {
			f->state = ST_TEXT;
			goto again;
		}
		return;
	case ST_ESC_INTER:
		if (cp >= 0x20 && cp <= 0x2f)
			return;
		f->state = ST_TEXT;
		if (cp >= 0x30 && cp <= 0x7e)
			return;
		goto again;
	case ST_CSI:
		if (cp >= 0x20 && cp <= 0x3f)
			return;
		f->state = ST_TEXT;
		if (cp >= 0x40 && cp <= 0x7e)
			return;
		goto again;
	case ST_STRING:
		if (cp == 0x07 || cp == 0x9c) {
			f->state = ST_TEXT;
		} else if (cp == 0x1b) {
			f->state = ST_STRING_ESC;
		} else if (cp == '\n' || ++f->string_len > STRING_MAX) {
			f->state = ST_TEXT;
			goto again;
		}
		return;
	case ST_STRING_ESC:
		f->state = ST_TEXT;
		if (cp == '\\')
			return;
		f->state = ST_ESC;
		goto again;
	}
}

/* Append the safe form of n bytes at p to out, carrying state to the next call. */
void
text_filter_feed(struct text_filter *f, const char *p, size_t n, struct buf *out)
{
	const unsigned char *u = (const unsigned char *)p;
	size_t i = 0;
	unsigned cp;
	int len;

	while (i < n && f->npend > 0) {
		int need = text_utf8_need(f->pend[0]);

		if ((u[i] & 0xc0) != 0x80) {
			/* The pending sequence was cut short: it is invalid. */
			f->npend = 0;
			text_cp(f, 0xfffd, replacement, 3, out);
			break;
		}
		f->pend[f->npend++] = u[i++];
		if (f->npend == need) {
			len = text_utf8_decode(f->pend, (size_t)f->npend, &cp);
			if (len > 0)
				text_cp(f, cp, (const char *)f->pend, (size_t)len, out);
			else
				text_cp(f, 0xfffd, replacement, 3, out);
			f->npend = 0;
		}
	}
	while (i < n) {
		size_t run = i;

		/* Fast path: a run of printable ASCII in plain text is copied at once. */
		if (f->state == ST_TEXT) {
			while (run < n && u[run] >= 0x20 && u[run] < 0x7f)
				run++;
			if (run > i) {
				buf_append(out, p + i, run - i);
				i = run;
				continue;
			}
		}
		if (u[i] < 0x80) {
			text_cp(f, u[i], p + i, 1, out);
			i++;
			continue;
		}
		len = text_utf8_decode(u + i, n - i, &cp);
		if (len > 0) {
			text_cp(f, cp, p + i, (size_t)len, out);
			i += (size_t)len;
			continue;
		}
		{
			int need = text_utf8_need(u[i]);
			size_t k = 1;

			while (need > 0 && i + k < n && k < (size_t)need && (u[i + k] & 0xc0) == 0x80)
				k++;
			if (need > 0 && i + k == n && k < (size_t)need) {
				/* An incomplete sequence at the end: keep it for the next call. */
				memcpy(f->pend, u + i, k);
				f->npend = (int)k;
				return;
			}
			/* One U+FFFD per bad sequence, the same however the input was split. */
			text_cp(f, 0xfffd, replacement, 3, out);
			i += k;
		}
	}
}

/* End of input: a partial UTF-8 sequence left over is shown as U+FFFD. */
void
text_filter_finish(struct text_filter *f, struct buf *out)
{
	if (f->npend > 0) {
		f->npend = 0;
		text_cp(f, 0xfffd, replacement, 3, out);
	}
	f->state = ST_TEXT;
}

/* Append the terminal-safe form of the n bytes at p to out. */
void
text_sanitize(const char *p, size_t n, struct buf *out)
{
	struct text_filter f;

	text_filter_init(&f);
	text_filter_feed(&f, p, n, out);
	text_filter_finish(&f, out);
}
