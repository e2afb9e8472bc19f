/*
 * Word wrapping by grapheme cluster. The widths are src/text.c's (text_cluster), the one
 * measure every part of natter uses, so what is wrapped here is what draw_text draws; what
 * the sanitizer would replace, a control, a bidi mark or a bad UTF-8 sequence, counts as the
 * one column of the U+FFFD that draw_text shows in its place.
 */
#include "text.h"
#include "wrap.h"

/* Measure the grapheme cluster at s (text_cluster) and return its length in bytes. */
size_t
wrap_cluster(const char *s, size_t n, int *width)
{
	return text_cluster(s, n, width);
}

/* Sum the widths of every cluster in s. */
int
wrap_width(const char *s, size_t n)
{
	return text_width(s, n);
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
