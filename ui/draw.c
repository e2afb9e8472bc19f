/*
 * The last step before bytes reach the terminal. Text is sanitized when it enters natter,
 * but everything drawn still passes through draw_text, which refuses C0/C1 controls and
 * clips to a width by cluster, so a missed path can garble a cell but never send an
 * escape sequence to the terminal.
 */
#include <string.h>

#include "app.h"
#include "wrap.h"

/* Is there a byte here that must not reach the terminal? */
static int
draw_unsafe(const unsigned char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (s[i] < 0x20 || s[i] == 0x7f)
			return 1;
		if (s[i] == 0xc2 && i + 1 < n && s[i + 1] >= 0x80 && s[i + 1] < 0xa0)
			return 1;
	}
	return 0;
}

/* Draw n bytes of s at the cursor with attr, at most maxw columns (maxw < 0: no limit). */
void
draw_text(WINDOW *w, const char *s, size_t n, unsigned int attr, int maxw)
{
	struct buf clean = BUF_INIT;

	if (draw_unsafe((const unsigned char *)s, n)) {
		size_t i;

		for (i = 0; i < n; i++) {
			unsigned char c = (unsigned char)s[i];

			if (c < 0x20 || c == 0x7f)
				buf_putc(&clean, '?');
			else if (c == 0xc2 && i + 1 < n && (unsigned char)s[i + 1] >= 0x80 &&
			    (unsigned char)s[i + 1] < 0xa0) {
				buf_putc(&clean, '?');
				i++;
			} else
				buf_putc(&clean, (char)c);
		}
		s = clean.data;
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
