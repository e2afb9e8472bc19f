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

/* Draw n bytes of s at the cursor with attr, at most maxw columns (maxw < 0: no limit). */
void
draw_text(WINDOW *w, const char *s, size_t n, unsigned int attr, int maxw)
{
	struct buf clean = BUF_INIT;

	if (!text_is_safe(s, n, TEXT_LINE)) {
		text_sanitize_line(s, n, &clean);
		s = buf_str(&clean);
		n = clean.len;
	}
	if (maxw >= 0)
		n = wrap_col_to_off(s, n, maxw);
	if (n > 0) {
		wattrset(w, (int)attr);
		waddnstr(w, s, (int)n);
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
