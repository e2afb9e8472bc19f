/*
 * The last step before bytes reach the terminal. Text is sanitized when it enters natter,
 * but everything drawn passes through draw_text once more, which makes it one safe line with
 * the same sanitizer (src/text.h: controls, bidi marks and bad UTF-8 become U+FFFD) and clips
 * it to a width by cluster. So a missed path, or what the user typed or pasted (kept as
 * typed in the draft and the store), can show a mark but never send a control to the
 * terminal or reorder the row. wrap.c measures those marks as the one column they take.
 */
#include <string.h>

#include "app.h"
#include "wrap.h"

/* True when the cell of n bytes at s joins a character after a zero-width joiner, which
 * curses would put in a cell of its own though the terminal draws it in this one. */
static int
draw_cell_joins(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i + 3 < n; i++)
		if (memcmp(s + i, "\xe2\x80\x8d", 3) == 0)
			return 1;
	return 0;
}

/* Draw one such cell as the one curses cell the terminal makes of it, so that curses
 * counts the columns the terminal takes: its first character's. A cell holds CCHARW_MAX
 * characters; a longer sequence keeps its first ones, never ending in a joiner (which
 * would pull the next character in). */
static void
draw_cell(WINDOW *w, const char *s, size_t n)
{
	wchar_t wc[CCHARW_MAX + 1];
	cchar_t cc;
	size_t pos = 0;
	unsigned cp;
	int k = 0;

	while (pos < n && k < CCHARW_MAX) {
		pos += text_utf8_step((const unsigned char *)s + pos, n - pos, &cp);
		wc[k++] = (wchar_t)cp;
	}
	while (k > 1 && wc[k - 1] == 0x200d)
		k--;
	wc[k] = L'\0';
	memset(&cc, 0, sizeof(cc));
	setcchar(&cc, wc, 0, 0, NULL);
	/* setcchar stops at the first character with a width; the terminal does not. */
	memcpy(cc.chars, wc, (size_t)k * sizeof(wc[0]));
	wadd_wch(w, &cc);
}

/* Draw n bytes of s at the cursor with attr, at most maxw columns (maxw < 0: no limit). */
void
draw_text(WINDOW *w, const char *s, size_t n, unsigned int attr, int maxw)
{
	struct buf clean = BUF_INIT;
	const char *zwj;
	size_t pos, run = 0, k;
	int cw;

	if (!text_is_safe(s, n, TEXT_LINE)) {
		text_sanitize_line(s, n, &clean);
		s = buf_str(&clean);
		n = clean.len;
	}
	if (maxw >= 0)
		n = wrap_col_to_off(s, n, maxw);
	if (n > 0) {
		wattrset(w, (int)attr);
		/* Runs curses lays out as the terminal does go whole; a cell a joiner makes is
		 * drawn on its own. Cells are found from the start, up to the last joiner. */
		zwj = memmem(s, n, "\xe2\x80\x8d", 3);
		for (pos = run = 0; zwj != NULL && pos < n; pos += k) {
			k = text_cell(s + pos, n - pos, &cw);
			if (s + pos + k <= zwj)
				continue;
			if (draw_cell_joins(s + pos, k)) {
				if (pos > run)
					waddnstr(w, s + run, (int)(pos - run));
				draw_cell(w, s + pos, k);
				run = pos + k;
			}
			zwj = memmem(s + pos + k, n - pos - k, "\xe2\x80\x8d", 3);
		}
		if (n > run)
			waddnstr(w, s + run, (int)(n - run));
	}
	buf_free(&clean);
}

/* Repeat a one-cell string n times from (y, x). */
void
draw_fill(WINDOW *w, int y, int x, int n, const char *cell, unsigned int attr)
{
	int i;

	wmove(w, y, x);
	wattrset(w, (int)attr);
	for (i = 0; i < n; i++)
		waddstr(w, cell);
}

/* Is byte off of the hay highlighted (pos sorted)? */
static int
draw_marked(const size_t *pos, size_t npos, size_t off)
{
	size_t lo = 0, hi = npos;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (pos[mid] == off)
			return 1;
		if (pos[mid] < off)
			lo = mid + 1;
		else
			hi = mid;
	}
	return 0;
}

/* Draw shown, the fitted form of the n bytes of s (whole, or with one "…" in place of
 * what was cut; NULL: s itself), at the cursor, at most width columns: the characters of s
 * whose offsets plus base are in pos (sorted) get hl, the others at. */
void
draw_text_marked(WINDOW *w, const char *s, size_t n, const struct buf *shown, size_t base,
    const size_t *pos, size_t npos, unsigned at, unsigned hl, int width)
{
	const char *t = shown != NULL ? buf_str(shown) : s, *dots = "…";
	size_t tn = shown != NULL ? shown->len : n, cut = tn, resume = n, o = 0;

	/* Where the ellipsis stands and where s goes on after it. */
	if (tn != n || memcmp(t, s, n) != 0) {
		const char *e = strstr(t, dots);

		if (e != NULL) {
			cut = (size_t)(e - t);
			resume = n - (tn - cut - strlen(dots));
		}
	}
	while (o < tn && width > 0) {
		int cw;
		size_t k = wrap_cluster(t + o, tn - o, &cw);
		int lit;

		if (o < cut)
			lit = draw_marked(pos, npos, base + o);
		else if (o >= cut + strlen(dots))
			lit = draw_marked(pos, npos, base + resume + (o - cut - strlen(dots)));
		else
			lit = 0;
		draw_text(w, t + o, k, lit ? hl : at, width);
		width -= cw;
		o += k;
	}
}
