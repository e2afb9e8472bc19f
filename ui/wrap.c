/*
 * Width measurement and word wrapping by grapheme cluster. Widths are the sum of the
 * per-codepoint widths from utf8proc, which is what ncursesw itself uses to place cells
 * (zero-width marks attach to the previous cell), so what we measure is what curses draws.
 * What the sanitizer (src/text.h) would replace, a control, a bidi mark or a bad UTF-8
 * sequence, counts as the one column of the U+FFFD that draw_text shows in its place.
 */
#include <utf8proc.h>

#include "text.h"
#include "wrap.h"

/* Decode one codepoint at s; returns its byte length (a bad sequence whole, cp = -1). */
static size_t
wrap_decode(const char *s, size_t n, utf8proc_int32_t *cp)
{
	unsigned c;
	size_t k = text_utf8_step((const unsigned char *)s, n, &c);

	*cp = c == TEXT_BAD ? -1 : (utf8proc_int32_t)c;
	return k;
}

/* Columns taken by one codepoint; what draw_text replaces with U+FFFD takes one column. */
static int
wrap_cpwidth(utf8proc_int32_t cp)
{
	if (cp < 0 || text_cp_unsafe((unsigned)cp))
		return 1;
	return utf8proc_charwidth(cp);
}

/* Measure the grapheme cluster at s and return its length in bytes. */
size_t
wrap_cluster(const char *s, size_t n, int *width)
{
	utf8proc_int32_t prev, cp;
	utf8proc_int32_t state = 0;
	size_t pos, k;
	int w;

	if (n == 0) {
		*width = 0;
		return 0;
	}
	/* Fast path, most of every reply: an ASCII byte followed by another (or by nothing) is a
	 * cluster of its own, one column wide (only CR LF joins two ASCII bytes). */
	if ((unsigned char)s[0] < 0x80 && (n == 1 || ((unsigned char)s[1] < 0x80 &&
	    !(s[0] == '\r' && s[1] == '\n')))) {
		*width = 1;
		return 1;
	}
	pos = wrap_decode(s, n, &prev);
	w = wrap_cpwidth(prev);
	if (prev < 0) {
		*width = w;
		return pos;
	}
	while (pos < n) {
		k = wrap_decode(s + pos, n - pos, &cp);
		if (cp < 0 || utf8proc_grapheme_break_stateful(prev, cp, &state))
			break;
		w += wrap_cpwidth(cp);
		prev = cp;
		pos += k;
	}
	*width = w;
	return pos;
}

/* Sum the widths of every cluster in s. */
int
wrap_width(const char *s, size_t n)
{
	size_t pos = 0;
	int total = 0, w;

	while (pos < n) {
		pos += wrap_cluster(s + pos, n - pos, &w);
		total += w;
	}
	return total;
}

/* Find where the first line of s ends when it must fit in width columns. */
size_t
wrap_line(const char *s, size_t n, int width, size_t *next, int *used)
{
	size_t pos = 0, k, brk_end = 0, brk_next = 0;
	int w = 0, cw, brk_w = 0, have_brk = 0;

	if (width < 1)
		width = 1;
	while (pos < n) {
		/* CR LF ends a line too, as the sanitizer reads it (one cluster, so test here). */
		if (s[pos] == '\n' || (s[pos] == '\r' && pos + 1 < n && s[pos + 1] == '\n')) {
			*next = pos + (s[pos] == '\r' ? 2 : 1);
			*used = w;
			return pos;
		}
		k = wrap_cluster(s + pos, n - pos, &cw);
		if (s[pos] == ' ') {
			if (!have_brk || brk_next != pos) {
				brk_end = pos;
				brk_w = w;
			}
			if (w + cw > width) {
				/* Overflow inside a run of spaces: end the line before the run. */
				while (pos < n && s[pos] == ' ')
					pos++;
				*next = pos;
				*used = brk_w;
				return brk_end;
			}
			w += cw;
			pos += k;
			brk_next = pos;
			have_brk = 1;
			continue;
		}
		if (w + cw > width) {
			if (have_brk && brk_end > 0) {
				*next = brk_next;
				*used = brk_w;
				return brk_end;
			}
			if (pos == 0) {
				/* A cluster wider than the line: take it whole rather than loop. */
				*next = k;
				*used = cw;
				return k;
			}
			*next = pos;
			*used = w;
			return pos;
		}
		w += cw;
		pos += k;
	}
	*next = n;
	*used = w;
	return n;
}

/* Translate a display column into a byte offset on a cluster boundary. */
size_t
wrap_col_to_off(const char *s, size_t n, int col)
{
	size_t pos = 0, k;
	int w = 0, cw;

	while (pos < n) {
		k = wrap_cluster(s + pos, n - pos, &cw);
		if (w + cw > col)
			break;
		w += cw;
		pos += k;
	}
	return pos;
}

/* Step back one cluster from off. */
size_t
wrap_prev_cluster(const char *s, size_t off)
{
	size_t pos = 0, last = 0;
	size_t start = off > 64 ? off - 64 : 0;
	int w;

	/* Clusters are short; resynchronise on a character start a little before off. */
	while (start > 0 && ((unsigned char)s[start] & 0xc0) == 0x80)
		start--;
	pos = start;
	last = start;
	while (pos < off) {
		last = pos;
		pos += wrap_cluster(s + pos, off - pos, &w);
	}
	return last;
}
