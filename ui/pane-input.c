/*
 * The input pane: a small multi-line editor with readline/emacs keys, a kill buffer,
 * history at the top and bottom edges, and bracketed paste. The text and its cursor are a
 * struct lineedit (lineedit.c does the editing the /template form shares); this file adds
 * rows, computed by the same wrapping as the transcript so what is drawn is what is edited,
 * moving between them, and history.
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
	lineedit_init(&in->ed);
}

/* Free the editor. */
void
pane_input_free(struct input *in)
{
	size_t i;

	lineedit_free(&in->ed);
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
	lineedit_set(&in->ed, text);
	in->top = 0;
}

/* Insert bytes at the cursor. */
void
pane_input_insert(struct input *in, const char *s, size_t n)
{
	lineedit_insert(&in->ed, s, n);
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
	const char *s = buf_str(&in->ed.text);
	int used;

	*rows = xmalloc(cap * sizeof **rows);
	for (;;) {
		if (n == cap) {
			cap *= 2;
			*rows = xrealloc(*rows, cap * sizeof **rows);
		}
		if (pos >= in->ed.text.len) {
			/* An empty draft, or one ending in a newline, has an empty last row. */
			if (n == 0 || s[in->ed.text.len - 1] == '\n') {
				(*rows)[n].a = (*rows)[n].b = (*rows)[n].next = in->ed.text.len;
				n++;
			}
			break;
		}
		end = pos + wrap_line(s + pos, in->ed.text.len - pos, width, &next, &used);
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
		if (in->ed.cur < rows[r + 1].a)
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

/* Insert older prompts at position pos of the history. */
void
pane_input_history_insert(struct input *in, size_t pos, const char *const *texts, size_t n)
{
	size_t k;

	if (n == 0)
		return;
	if (pos > in->nhist)
		pos = in->nhist;
	if (in->nhist + n > in->caphist) {
		in->caphist = in->nhist + n + (in->caphist ? in->caphist : 32);
		in->hist = xrealloc(in->hist, in->caphist * sizeof *in->hist);
	}
	memmove(in->hist + pos + n, in->hist + pos, (in->nhist - pos) * sizeof *in->hist);
	for (k = 0; k < n; k++)
		in->hist[pos + k] = xstrdup(texts[k]);
	in->nhist += n;
	if (in->hpos >= pos)
		in->hpos += n;
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
			in->draft = xstrdup(buf_str(&in->ed.text));
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
		in->ed.cur = lineedit_eol(&in->ed, 0);
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
	col = wrap_width(in->ed.text.data + rows[r].a, in->ed.cur - rows[r].a);
	r = dir < 0 ? r - 1 : r + 1;
	in->ed.cur = rows[r].a + wrap_col_to_off(in->ed.text.data + rows[r].a,
	    rows[r].b - rows[r].a, col);
	free(rows);
	return 1;
}

/* Apply an editing action; returns 1 when it was one. */
int
pane_input_action(struct app *a, enum action act)
{
	struct input *in = &a->in;

	switch (act) {
	case ACT_NEWLINE:
		pane_input_insert(in, "\n", 1);
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
		if (!lineedit_action(&in->ed, act, &in->kill))
			return 0;
		break;
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
	int y, h = a->input_h, cy, cx, files = attach_pending_rows(a, a->input_h - 1);
	size_t i;

	werase(a->winput);
	draw_fill(a->winput, 0, 0, a->trans_w, "─", theme_attr(a->focus == FOCUS_INPUT ?
	    THEME_FOCUS : THEME_BORDER, 0));
	/* The files for the next message come first, one a line; the draft below them. */
	attach_pending_draw(a, 1, files, width);
	h -= files;
	if ((int)r < in->top)
		in->top = (int)r;
	if ((int)r >= in->top + h)
		in->top = (int)r - h + 1;
	if (in->top > 0 && (int)n - in->top < h)
		in->top = (int)n - h > 0 ? (int)n - h : 0;
	for (y = 0; y < h && (size_t)(in->top + y) < n; y++) {
		i = (size_t)(in->top + y);
		wmove(a->winput, y + 1 + files, 0);
		if (i == 0)
			draw_text(a->winput, INPUT_PROMPT, strlen(INPUT_PROMPT),
			    theme_attr(THEME_PROMPT, 0), 2);
		else
			draw_text(a->winput, INPUT_CONT, 2, theme_attr(THEME_INPUT, 0), 2);
		draw_text(a->winput, in->ed.text.data + rows[i].a, rows[i].b - rows[i].a,
		    theme_attr(THEME_INPUT, 0), width);
	}
	if (in->ed.text.len == 0 && h > 0) {
		/* The keys the user has, from the key table (bindings: may have moved them). */
		char hint[160];

		if (ui_busy(a))
			snprintf(hint, sizeof hint, "streaming… %s or %s cancels",
			    keys_hint(KCTX_GLOBAL, ACT_CANCEL), keys_hint(KCTX_GLOBAL, ACT_INTERRUPT));
		else
			snprintf(hint, sizeof hint, "message (%s sends, %s newline, %s help, /help "
			    "commands)", keys_hint(KCTX_INPUT, ACT_SEND),
			    keys_hint(KCTX_INPUT, ACT_NEWLINE), keys_hint(KCTX_INPUT, ACT_HELP));
		wmove(a->winput, 1 + files, 2);
		draw_text(a->winput, hint, strlen(hint), theme_attr(THEME_HINT, 0), width);
	}
	cy = (int)r - in->top + 1 + files;
	cx = 2 + wrap_width(in->ed.text.data ? in->ed.text.data + rows[r].a : "",
	    in->ed.cur > rows[r].b ? rows[r].b - rows[r].a : in->ed.cur - rows[r].a);
	if (cx > a->trans_w - 1)
		cx = a->trans_w - 1;
	wmove(a->winput, cy, cx);
	free(rows);
	wnoutrefresh(a->winput);
}
