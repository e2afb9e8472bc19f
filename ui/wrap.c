/*
 * Word wrapping by grapheme cluster. The widths are src/text.c's (text_cluster), the one
 * measure every part of natter uses, so what is wrapped here is what draw_text draws; what
 * the sanitizer would replace, a control, a bidi mark or a bad UTF-8 sequence, counts as the
 * one column of the U+FFFD that draw_text shows in its place.
 */
#include <string.h>

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

/* True for a character no line may start with: closing brackets and punctuation, Western
 * and East Asian, the prolonged sound mark and the small kana (after UAX #14's CL, CP, EX,
 * IS and NS classes, in short). */
static int
wrap_no_break_before(unsigned cp)
{
	static const char ascii[] = "!),.:;?]}%";
	static const unsigned wide[] = {
		0x2026, 0x3001, 0x3002, 0x3005, 0x3009, 0x300b, 0x300d, 0x300f, 0x3011, 0x3015,
		0x3041, 0x3043, 0x3045, 0x3047, 0x3049, 0x3063, 0x3083, 0x3085, 0x3087, 0x308e,
		0x30a1, 0x30a3, 0x30a5, 0x30a7, 0x30a9, 0x30c3, 0x30e3, 0x30e5, 0x30e7, 0x30ee,
		0x30f5, 0x30f6, 0x30fb, 0x30fc, 0xff01, 0xff09, 0xff0c, 0xff0e, 0xff1a, 0xff1b,
		0xff1f, 0xff3d, 0xff5d,
	};
	size_t i;

	if (cp < 0x80)
		return cp != 0 && strchr(ascii, (int)cp) != NULL;
	for (i = 0; i < sizeof(wide) / sizeof(wide[0]); i++)
		if (wide[i] == cp)
			return 1;
	return 0;
}

/* True for a character no line may end with: the opening brackets. */
static int
wrap_no_break_after(unsigned cp)
{
	static const unsigned open[] = {
		'(', '[', '{', 0x3008, 0x300a, 0x300c, 0x300e, 0x3010, 0x3014, 0xff08, 0xff3b, 0xff5b,
	};
	size_t i;

	for (i = 0; i < sizeof(open) / sizeof(open[0]); i++)
		if (open[i] == cp)
			return 1;
	return 0;
}

/* Find where the first line of s ends when it must fit in width columns. Besides spaces,
 * a line may break before or after a wide character (CJK ideographs, kana, Hangul), as
 * those scripts break between characters, unless punctuation forbids it. */
size_t
wrap_line(const char *s, size_t n, int width, size_t *next, int *used)
{
	size_t pos = 0, k, brk_end = 0, brk_next = 0;
	int w = 0, cw, brk_w = 0, have_brk = 0, prev_w = 0;
	unsigned cp, prev_cp = 0;

	if (width < 1)
		width = 1;
	for (; pos < n; prev_cp = cp, prev_w = cw) {
		/* CR LF ends a line too, as the sanitizer reads it (one cluster, so test here). */
		if (s[pos] == '\n' || (s[pos] == '\r' && pos + 1 < n && s[pos + 1] == '\n')) {
			*next = pos + (s[pos] == '\r' ? 2 : 1);
			*used = w;
			return pos;
		}
		k = wrap_cluster(s + pos, n - pos, &cw);
		text_utf8_step((const unsigned char *)s + pos, n - pos, &cp);
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
		if (pos > 0 && s[pos - 1] != ' ' && (cw == 2 || prev_w == 2) &&
		    !wrap_no_break_before(cp) && !wrap_no_break_after(prev_cp)) {
			brk_end = brk_next = pos;
			brk_w = w;
			have_brk = 1;
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
