/*
 * The input pane: a small multi-line editor with readline/emacs keys, a kill buffer,
 * history at the top and bottom edges, and bracketed paste. The text is kept as one UTF-8
 * buffer with a byte cursor that always sits on a cluster boundary; rows are computed by
 * the same wrapping as the transcript, so what is drawn is what is edited.
 */
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "wrap.h"
#include "xmalloc.h"

#define INPUT_PROMPT "› "
#define INPUT_CONT "  "

/* Start with an empty draft. */
void
pane_input_init(struct input *in)
{
	memset(in, 0, sizeof *in);
	buf_init(&in->text);
}

/* Free the editor. */
void
pane_input_free(struct input *in)
{
	size_t i;

	buf_free(&in->text);
	free(in->kill);
	for (i = 0; i < in->nhist; i++)
		free(in->hist[i]);
	free(in->hist);
	free(in->draft);
	memset(in, 0, sizeof *in);
}

/* Replace the draft and put the cursor at its end. */
void
pane_input_set(struct input *in, const char *text)
{
	buf_reset(&in->text);
	buf_puts(&in->text, text);
	in->cur = in->text.len;
	in->top = 0;
}

/* Insert bytes at the cursor. */
void
pane_input_insert(struct input *in, const char *s, size_t n)
{
	size_t tail = in->text.len - in->cur;

	buf_reserve(&in->text, n);
	memmove(in->text.data + in->cur + n, in->text.data + in->cur, tail);
	memcpy(in->text.data + in->cur, s, n);
	in->text.len += n;
	in->text.data[in->text.len] = '\0';
	in->cur += n;
}

/* Delete bytes [a, b) and optionally keep them for yank. */
static void
pane_input_delete(struct input *in, size_t a, size_t b, int kill)
{
	if (b <= a)
		return;
	if (kill) {
		free(in->kill);
		in->kill = xstrndup(in->text.data + a, b - a);
	}
	memmove(in->text.data + a, in->text.data + b, in->text.len - b);
	in->text.len -= b - a;
	in->text.data[in->text.len] = '\0';
	if (in->cur > b)
		in->cur -= b - a;
	else if (in->cur > a)
		in->cur = a;
}

/* The byte offset of the next cluster after off. */
static size_t
pane_input_next(const struct input *in, size_t off)
{
	int w;

	if (off >= in->text.len)
		return in->text.len;
	return off + wrap_cluster(in->text.data + off, in->text.len - off, &w);
}

/* Start of the line holding off. */
static size_t
pane_input_bol(const struct input *in, size_t off)
{
	while (off > 0 && in->text.data[off - 1] != '\n')
		off--;
	return off;
}

/* End of the line holding off. */
static size_t
pane_input_eol(const struct input *in, size_t off)
{
	while (off < in->text.len && in->text.data[off] != '\n')
		off++;
	return off;
}

/* Is the byte at off part of a word? */
static int
pane_input_wordc(const struct input *in, size_t off)
{
	unsigned char c = (unsigned char)in->text.data[off];

	return c >= 0x80 || (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
	    (c >= 'A' && c <= 'Z') || c == '_';
}

/* Start of the word before off. */
static size_t
pane_input_word_left(const struct input *in, size_t off)
{
	while (off > 0 && !pane_input_wordc(in, off - 1))
		off--;
	while (off > 0 && pane_input_wordc(in, off - 1))
		off--;
	return off;
}

/* End of the word after off. */
static size_t
pane_input_word_right(const struct input *in, size_t off)
{
	while (off < in->text.len && !pane_input_wordc(in, off))
		off++;
	while (off < in->text.len && pane_input_wordc(in, off))
		off++;
	return off;
}

struct irow {
	size_t a, b;   /* bytes shown on the row */
	size_t next;   /* where the following row starts */
};

/* Break the draft into rows at width; returns the count (at least one). */
static size_t
pane_input_layout(const struct input *in, int width, struct irow **rows)
{
	size_t n = 0, cap = 8, pos = 0, next, end;
	const char *s = buf_str(&in->text);
	int used;

	*rows = xmalloc(cap * sizeof **rows);
	for (;;) {
		if (n == cap) {
			cap *= 2;
			*rows = xrealloc(*rows, cap * sizeof **rows);
		}
		if (pos >= in->text.len) {
			/* An empty draft, or one ending in a newline, has an empty last row. */
			if (n == 0 || s[in->text.len - 1] == '\n') {
				(*rows)[n].a = (*rows)[n].b = (*rows)[n].next = in->text.len;
				n++;
			}
			break;
		}
		end = pos + wrap_line(s + pos, in->text.len - pos, width, &next, &used);
		(*rows)[n].a = pos;
		(*rows)[n].b = end;
		(*rows)[n].next = pos + next;
		n++;
		pos += next;
	}
	return n;
}

/* Which row the cursor is on. */
static size_t
pane_input_cursor_row(const struct input *in, const struct irow *rows, size_t n)
{
	size_t r;

	for (r = 0; r + 1 < n; r++)
		if (in->cur < rows[r + 1].a)
			return r;
	return n - 1;
}

/* Rows the draft wants at width. */
int
pane_input_rows(struct input *in, int width)
{
	struct irow *rows;
	size_t n = pane_input_layout(in, width - 2 > 1 ? width - 2 : 1, &rows);

	free(rows);
	in->rows = (int)n;
	return (int)n;
}

/* Remember a sent message for Up/Down. */
void
pane_input_history_add(struct input *in, const char *text)
{
	if (in->nhist > 0 && strcmp(in->hist[in->nhist - 1], text) == 0) {
		in->hpos = in->nhist;
		return;
	}
	if (in->nhist == in->caphist) {
		in->caphist = in->caphist ? in->caphist * 2 : 32;
		in->hist = xrealloc(in->hist, in->caphist * sizeof *in->hist);
	}
	in->hist[in->nhist++] = xstrdup(text);
	in->hpos = in->nhist;
}

/* Step through history; dir -1 older, +1 newer. Returns 1 when it moved. */
static int
pane_input_history(struct input *in, int dir)
{
	if (dir < 0) {
		if (in->hpos == 0)
			return 0;
		if (in->hpos == in->nhist) {
			free(in->draft);
			in->draft = xstrdup(buf_str(&in->text));
		}
		in->hpos--;
		pane_input_set(in, in->hist[in->hpos]);
		return 1;
	}
	if (in->hpos >= in->nhist)
		return 0;
	in->hpos++;
	pane_input_set(in, in->hpos == in->nhist ? (in->draft ? in->draft : "") : in->hist[in->hpos]);
	if (in->hpos != in->nhist)
		in->cur = pane_input_eol(in, 0);
	return 1;
}

/* Move the cursor one row up or down, keeping its column; 0 at an edge. */
static int
pane_input_vertical(struct app *a, int dir)
{
	struct input *in = &a->in;
	struct irow *rows;
	int width = a->trans_w - 2 > 1 ? a->trans_w - 2 : 1;
	size_t n = pane_input_layout(in, width, &rows), r = pane_input_cursor_row(in, rows, n);
	int col;

	if ((dir < 0 && r == 0) || (dir > 0 && r + 1 >= n)) {
		free(rows);
		return 0;
	}
	col = wrap_width(in->text.data + rows[r].a, in->cur - rows[r].a);
	r = dir < 0 ? r - 1 : r + 1;
	in->cur = rows[r].a + wrap_col_to_off(in->text.data + rows[r].a, rows[r].b - rows[r].a, col);
	free(rows);
	return 1;
}

/* Apply an editing action; returns 1 when it was one. */
int
pane_input_action(struct app *a, enum action act)
{
	struct input *in = &a->in;
	size_t p;

	switch (act) {
	case ACT_NEWLINE:
		pane_input_insert(in, "\n", 1);
		break;
	case ACT_BOL:
		in->cur = pane_input_bol(in, in->cur);
		break;
	case ACT_EOL:
		in->cur = pane_input_eol(in, in->cur);
		break;
	case ACT_LEFT:
		if (in->cur > 0)
			in->cur = wrap_prev_cluster(in->text.data, in->cur);
		break;
	case ACT_RIGHT:
		in->cur = pane_input_next(in, in->cur);
		break;
	case ACT_WORD_LEFT:
		in->cur = pane_input_word_left(in, in->cur);
		break;
	case ACT_WORD_RIGHT:
		in->cur = pane_input_word_right(in, in->cur);
		break;
	case ACT_DEL_BACK:
		if (in->cur > 0)
			pane_input_delete(in, wrap_prev_cluster(in->text.data, in->cur), in->cur, 0);
		break;
	case ACT_DEL_FWD:
		pane_input_delete(in, in->cur, pane_input_next(in, in->cur), 0);
		break;
	case ACT_KILL_EOL:
		p = pane_input_eol(in, in->cur);
		if (p == in->cur && p < in->text.len)
			p++;
		pane_input_delete(in, in->cur, p, 1);
		break;
	case ACT_KILL_BOL:
		pane_input_delete(in, pane_input_bol(in, in->cur), in->cur, 1);
		break;
	case ACT_KILL_WORD_BACK:
		pane_input_delete(in, pane_input_word_left(in, in->cur), in->cur, 1);
		break;
	case ACT_KILL_WORD_FWD:
		pane_input_delete(in, in->cur, pane_input_word_right(in, in->cur), 1);
		break;
	case ACT_YANK:
		if (in->kill != NULL)
			pane_input_insert(in, in->kill, strlen(in->kill));
		break;
	case ACT_LINE_UP:
		if (!pane_input_vertical(a, -1))
			pane_input_history(in, -1);
		break;
	case ACT_LINE_DOWN:
		if (!pane_input_vertical(a, 1))
			pane_input_history(in, 1);
		break;
	default:
		return 0;
	}
	a->dirty |= DIRTY_INPUT;
	return 1;
}

/* Draw the draft, scrolled so the cursor row is visible, and place the cursor. */
void
pane_input_draw(struct app *a)
{
	struct input *in = &a->in;
	struct irow *rows;
	int width = a->trans_w - 2 > 1 ? a->trans_w - 2 : 1;
	size_t n = pane_input_layout(in, width, &rows), r = pane_input_cursor_row(in, rows, n);
	int y, h = a->input_h, cy, cx;
	size_t i;

	werase(a->winput);
	draw_fill(a->winput, 0, 0, a->trans_w, "─", theme_attr(a->focus == FOCUS_INPUT ?
	    THEME_FOCUS : THEME_BORDER, 0));
	if ((int)r < in->top)
		in->top = (int)r;
	if ((int)r >= in->top + h)
		in->top = (int)r - h + 1;
	if (in->top > 0 && (int)n - in->top < h)
		in->top = (int)n - h > 0 ? (int)n - h : 0;
	for (y = 0; y < h && (size_t)(in->top + y) < n; y++) {
		i = (size_t)(in->top + y);
		wmove(a->winput, y + 1, 0);
		if (i == 0)
			draw_text(a->winput, INPUT_PROMPT, strlen(INPUT_PROMPT),
			    theme_attr(THEME_PROMPT, 0), 2);
		else
			draw_text(a->winput, INPUT_CONT, 2, theme_attr(THEME_INPUT, 0), 2);
		draw_text(a->winput, in->text.data + rows[i].a, rows[i].b - rows[i].a,
		    theme_attr(THEME_INPUT, 0), width);
	}
	if (in->text.len == 0 && h > 0) {
		const char *hint = a->stream_id ? "streaming… Esc or Ctrl+C cancels" :
		    "message (Enter sends, Ctrl+J newline, F1 help, /help commands)";

		wmove(a->winput, 1, 2);
		draw_text(a->winput, hint, strlen(hint), theme_attr(THEME_HINT, 0), width);
	}
	cy = (int)r - in->top + 1;
	cx = 2 + wrap_width(in->text.data ? in->text.data + rows[r].a : "",
	    in->cur > rows[r].b ? rows[r].b - rows[r].a : in->cur - rows[r].a);
	if (cx > a->trans_w - 1)
		cx = a->trans_w - 1;
	wmove(a->winput, cy, cx);
	free(rows);
	wnoutrefresh(a->winput);
}
