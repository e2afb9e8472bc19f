/*
 * Cursor editing of UTF-8 text: insertion at the cursor, movement by cluster, word and line,
 * deletion and readline-style kills into one kill buffer the caller owns, and horizontal
 * scrolling for a one-row view. The input pane adds its multi-line parts (rows, history) on
 * top; the /template form uses it as is for each field, where a "line" is the whole field.
 */
#include <stdlib.h>
#include <string.h>

#include "lineedit.h"
#include "wrap.h"
#include "xmalloc.h"

/* Start with no text and the cursor at 0. */
void
lineedit_init(struct lineedit *e)
{
	buf_init(&e->text);
	e->cur = 0;
}

/* Release the text. */
void
lineedit_free(struct lineedit *e)
{
	buf_free(&e->text);
	e->cur = 0;
}

/* Replace the text and put the cursor at its end. */
void
lineedit_set(struct lineedit *e, const char *text)
{
	buf_reset(&e->text);
	buf_puts(&e->text, text);
	e->cur = e->text.len;
}

/* Insert bytes at the cursor. */
void
lineedit_insert(struct lineedit *e, const char *s, size_t n)
{
	size_t tail = e->text.len - e->cur;

	if (n == 0)
		return;
	buf_reserve(&e->text, n);
	memmove(e->text.data + e->cur + n, e->text.data + e->cur, tail);
	memcpy(e->text.data + e->cur, s, n);
	e->text.len += n;
	e->text.data[e->text.len] = '\0';
	e->cur += n;
}

/* Delete bytes [a, b), keeping them in *kill when kill is not NULL. */
static void
lineedit_delete(struct lineedit *e, size_t a, size_t b, char **kill)
{
	if (b <= a)
		return;
	if (kill != NULL) {
		free(*kill);
		*kill = xstrndup(e->text.data + a, b - a);
	}
	memmove(e->text.data + a, e->text.data + b, e->text.len - b);
	e->text.len -= b - a;
	e->text.data[e->text.len] = '\0';
	if (e->cur > b)
		e->cur -= b - a;
	else if (e->cur > a)
		e->cur = a;
}

/* The byte offset of the cluster after the one at off. */
static size_t
lineedit_next(const struct lineedit *e, size_t off)
{
	int w;

	if (off >= e->text.len)
		return e->text.len;
	return off + wrap_cluster(e->text.data + off, e->text.len - off, &w);
}

/* The byte offset of the cluster before off. */
static size_t
lineedit_prev(const struct lineedit *e, size_t off)
{
	return off > 0 ? wrap_prev_cluster(e->text.data, off) : 0;
}

/* Start of the line holding off. */
static size_t
lineedit_bol(const struct lineedit *e, size_t off)
{
	while (off > 0 && e->text.data[off - 1] != '\n')
		off--;
	return off;
}

/* End of the line holding off. */
size_t
lineedit_eol(const struct lineedit *e, size_t off)
{
	while (off < e->text.len && e->text.data[off] != '\n')
		off++;
	return off;
}

/* Is the byte at off part of a word? Any non-ASCII byte is, so words never split a letter. */
static int
lineedit_wordc(const struct lineedit *e, size_t off)
{
	unsigned char c = (unsigned char)e->text.data[off];

	return c >= 0x80 || (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
	    (c >= 'A' && c <= 'Z') || c == '_';
}

/* Start of the word before off. */
static size_t
lineedit_word_left(const struct lineedit *e, size_t off)
{
	while (off > 0 && !lineedit_wordc(e, off - 1))
		off--;
	while (off > 0 && lineedit_wordc(e, off - 1))
		off--;
	return off;
}

/* End of the word after off. */
static size_t
lineedit_word_right(const struct lineedit *e, size_t off)
{
	while (off < e->text.len && !lineedit_wordc(e, off))
		off++;
	while (off < e->text.len && lineedit_wordc(e, off))
		off++;
	return off;
}

/* Apply one editing action to e. */
int
lineedit_action(struct lineedit *e, enum action act, char **kill)
{
	size_t p;

	switch (act) {
	case ACT_BOL:
		e->cur = lineedit_bol(e, e->cur);
		break;
	case ACT_EOL:
		e->cur = lineedit_eol(e, e->cur);
		break;
	case ACT_LEFT:
		e->cur = lineedit_prev(e, e->cur);
		break;
	case ACT_RIGHT:
		e->cur = lineedit_next(e, e->cur);
		break;
	case ACT_WORD_LEFT:
		e->cur = lineedit_word_left(e, e->cur);
		break;
	case ACT_WORD_RIGHT:
		e->cur = lineedit_word_right(e, e->cur);
		break;
	case ACT_DEL_BACK:
		lineedit_delete(e, lineedit_prev(e, e->cur), e->cur, NULL);
		break;
	case ACT_DEL_FWD:
		lineedit_delete(e, e->cur, lineedit_next(e, e->cur), NULL);
		break;
	case ACT_KILL_EOL:
		/* At the end of a line the newline itself goes, joining the next line. */
		p = lineedit_eol(e, e->cur);
		if (p == e->cur && p < e->text.len)
			p++;
		lineedit_delete(e, e->cur, p, kill);
		break;
	case ACT_KILL_BOL:
		lineedit_delete(e, lineedit_bol(e, e->cur), e->cur, kill);
		break;
	case ACT_KILL_WORD_BACK:
		lineedit_delete(e, lineedit_word_left(e, e->cur), e->cur, kill);
		break;
	case ACT_KILL_WORD_FWD:
		lineedit_delete(e, e->cur, lineedit_word_right(e, e->cur), kill);
		break;
	case ACT_YANK:
		if (kill != NULL && *kill != NULL)
			lineedit_insert(e, *kill, strlen(*kill));
		break;
	default:
		return 0;
	}
	return 1;
}

/* Scroll a one-row view of e so that the cursor is visible in width columns. */
size_t
lineedit_scroll(const struct lineedit *e, size_t left, int width)
{
	const char *s = buf_str(&e->text);
	size_t len = e->text.len, pos = 0, k, p;
	int w, cw, shown, tail;

	if (width < 1)
		width = 1;
	if (left > e->cur)
		left = e->cur;
	/* Snap to the cluster holding left: an edit may have joined a mark to the one before. */
	while (pos < left) {
		k = wrap_cluster(s + pos, len - pos, &w);
		if (pos + k > left)
			break;
		pos += k;
	}
	left = pos;
	/* The cursor's own cell: the cluster under it, or one column past the end. */
	cw = 1;
	if (e->cur < len)
		wrap_cluster(s + e->cur, len - e->cur, &cw);
	shown = wrap_width(s + left, e->cur - left);
	while (left < e->cur && shown + cw > width) {
		k = wrap_cluster(s + left, e->cur - left, &w);
		left += k;
		shown -= w;
	}
	/* Bring hidden text back in while everything from there to the end still fits. */
	tail = wrap_width(s + left, len - left) + 1;
	while (left > 0) {
		p = wrap_prev_cluster(s, left);
		w = wrap_width(s + p, left - p);
		if (tail + w > width)
			break;
		tail += w;
		left = p;
	}
	return left;
}
