/*
 * Terminal-safe text (the rules are in text.h). Input is decoded to code points first, so
 * that C1 controls written as UTF-8 (U+0080..U+009F) are caught like their 8-bit forms
 * (which are invalid UTF-8 on their own), then each code point is kept or replaced. No
 * escape-sequence parser is needed: once ESC and the C1 introducers are replaced, what
 * followed them is inert text, and showing it tells the reader something was there. The
 * only state carried between calls is an incomplete UTF-8 sequence and a trailing CR.
 */
#include <string.h>

#include "text.h"

static const char replacement[] = "\xef\xbf\xbd";

/* Reset f to the start of a multi-line text. */
void
text_filter_init(struct text_filter *f)
{
	text_filter_init_mode(f, TEXT_BLOCK);
}

/* Reset f to the start of a text shown in mode. */
void
text_filter_init_mode(struct text_filter *f, enum text_mode mode)
{
	memset(f, 0, sizeof(*f));
	f->mode = mode;
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

/* Bytes of the bad sequence at p: its lead and the continuation bytes the lead claims. */
static size_t
text_utf8_bad_len(const unsigned char *p, size_t n)
{
	size_t need = (size_t)text_utf8_need(p[0]), k = 1;

	while (need > 1 && k < need && k < n && (p[k] & 0xc0) == 0x80)
		k++;
	return k;
}

/* One character at p: a valid sequence, or a bad one (TEXT_BAD) shown as one U+FFFD. */
size_t
text_utf8_step(const unsigned char *p, size_t n, unsigned *cp)
{
	int len;

	if (n == 0) {
		*cp = TEXT_BAD;
		return 0;
	}
	if (p[0] < 0x80) {
		*cp = p[0];
		return 1;
	}
	if ((len = text_utf8_decode(p, n, cp)) > 0)
		return (size_t)len;
	*cp = TEXT_BAD;
	return text_utf8_bad_len(p, n);
}

/* True for the code points that reorder text invisibly: the Arabic letter mark, LRM and RLM,
 * the embeddings and overrides, and the isolates. */
static int
text_is_bidi_control(unsigned cp)
{
	return cp == 0x061c || cp == 0x200e || cp == 0x200f || (cp >= 0x202a && cp <= 0x202e) ||
	    (cp >= 0x2066 && cp <= 0x2069);
}

/* True for C0 (NUL, ESC, CR, newline and tab too), DEL, C1, bidi controls and bad input. */
int
text_cp_unsafe(unsigned cp)
{
	return cp < 0x20 || (cp >= 0x7f && cp <= 0x9f) || text_is_bidi_control(cp) ||
	    cp == TEXT_BAD;
}

/* Emit a newline (or its one-line form). */
static void
text_newline(const struct text_filter *f, struct buf *out)
{
	buf_putc(out, f->mode == TEXT_LINE ? ' ' : '\n');
}

/* Handle one code point cp (TEXT_BAD for a bad sequence) whose bytes are the len at s. */
static void
text_cp(struct text_filter *f, unsigned cp, const char *s, size_t len, struct buf *out)
{
	if (f->cr) {
		f->cr = 0;
		if (cp == '\n') {
			text_newline(f, out);
			return;
		}
		buf_append(out, replacement, 3);
	}
	if (cp == '\r') {
		f->cr = 1;
	} else if (cp == '\n') {
		text_newline(f, out);
	} else if (cp == '\t') {
		buf_putc(out, f->mode == TEXT_LINE ? ' ' : '\t');
	} else if (text_cp_unsafe(cp)) {
		buf_append(out, replacement, 3);
	} else {
		buf_append(out, s, len);
	}
}

/* Append the safe form of n bytes at p to out, carrying state to the next call. */
void
text_filter_feed(struct text_filter *f, const char *p, size_t n, struct buf *out)
{
	const unsigned char *u = (const unsigned char *)p;
	size_t i = 0, len, run;
	unsigned cp;

	while (i < n && f->npend > 0) {
		int need = text_utf8_need(f->pend[0]);

		if ((u[i] & 0xc0) != 0x80) {
			/* The pending sequence was cut short: it is one bad sequence. */
			f->npend = 0;
			text_cp(f, TEXT_BAD, replacement, 3, out);
			break;
		}
		f->pend[f->npend++] = u[i++];
		if (f->npend == need) {
			len = text_utf8_step(f->pend, (size_t)f->npend, &cp);
			text_cp(f, cp, (const char *)f->pend, len, out);
			f->npend = 0;
		}
	}
	while (i < n) {
		/* Fast path: a run of printable ASCII is copied at once. */
		if (!f->cr) {
			for (run = i; run < n && u[run] >= 0x20 && u[run] < 0x7f; run++)
				;
			if (run > i) {
				buf_append(out, p + i, run - i);
				i = run;
				continue;
			}
		}
		len = text_utf8_step(u + i, n - i, &cp);
		if (cp == TEXT_BAD && i + len == n && len < (size_t)text_utf8_need(u[i])) {
			/* An incomplete sequence at the end: keep it for the next call. */
			memcpy(f->pend, u + i, len);
			f->npend = (int)len;
			return;
		}
		text_cp(f, cp, p + i, len, out);
		i += len;
	}
}

/* End of input: a partial UTF-8 sequence or a CR left over is shown as U+FFFD. */
void
text_filter_finish(struct text_filter *f, struct buf *out)
{
	if (f->npend > 0) {
		f->npend = 0;
		text_cp(f, TEXT_BAD, replacement, 3, out);
	}
	if (f->cr) {
		f->cr = 0;
		buf_append(out, replacement, 3);
	}
}

/* Append the mode form of the n bytes at p to out. */
static void
text_sanitize_mode(const char *p, size_t n, enum text_mode mode, struct buf *out)
{
	struct text_filter f;

	text_filter_init_mode(&f, mode);
	text_filter_feed(&f, p, n, out);
	text_filter_finish(&f, out);
}

/* Append the multi-line terminal-safe form of the n bytes at p to out. */
void
text_sanitize(const char *p, size_t n, struct buf *out)
{
	text_sanitize_mode(p, n, TEXT_BLOCK, out);
}

/* Append the one-line terminal-safe form of the n bytes at p to out. */
void
text_sanitize_line(const char *p, size_t n, struct buf *out)
{
	text_sanitize_mode(p, n, TEXT_LINE, out);
}

/* Reset b to the one-line form of s and return its text. */
const char *
text_line(struct buf *b, const char *s)
{
	buf_reset(b);
	if (s != NULL)
		text_sanitize_line(s, strlen(s), b);
	return buf_str(b);
}

/* True when sanitizing the n bytes at p in mode would give them back unchanged. */
int
text_is_safe(const char *p, size_t n, enum text_mode mode)
{
	const unsigned char *u = (const unsigned char *)p;
	size_t i = 0;
	unsigned cp;

	while (i < n) {
		if (u[i] >= 0x20 && u[i] < 0x7f) {
			i++;
			continue;
		}
		i += text_utf8_step(u + i, n - i, &cp);
		if ((cp == '\n' || cp == '\t') && mode == TEXT_BLOCK)
			continue;
		if (text_cp_unsafe(cp))
			return 0;
	}
	return 1;
}

/* Append the JSON-safe form of a JSON document. */
void
text_json_safe(const char *p, size_t n, struct buf *out)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *u = (const unsigned char *)p;
	size_t i = 0, len;
	unsigned cp;

	while (i < n) {
		len = text_utf8_step(u + i, n - i, &cp);
		if (cp == '\n' || cp == '\t' || cp == '\r' || !text_cp_unsafe(cp)) {
			buf_append(out, p + i, len);
		} else {
			char e[6] = { '\\', 'u', 'f', 'f', 'f', 'd' };

			if (cp != TEXT_BAD) {
				e[2] = hex[(cp >> 12) & 15];
				e[3] = hex[(cp >> 8) & 15];
				e[4] = hex[(cp >> 4) & 15];
				e[5] = hex[cp & 15];
			}
			buf_append(out, e, 6);
		}
		i += len;
	}
}
