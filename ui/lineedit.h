/*
 * Editing of UTF-8 text with a cursor, shared by the input pane and the /template form's
 * fields so that both edit the same way. No curses here: the editing and the horizontal
 * scrolling of a one-row view are unit tested on their own. The cursor is a byte offset that
 * moves by grapheme cluster (utf8proc, through wrap.h), so a wide character, a combining
 * sequence or an emoji ZWJ sequence is stepped over and deleted whole.
 */
#ifndef NATTER_LINEEDIT_H
#define NATTER_LINEEDIT_H

#include <stddef.h>

#include "buf.h"
#include "keys.h"

struct lineedit {
	struct buf text;
	size_t cur;          /* byte offset of the cursor, on a cluster boundary */
};

/* Start empty. */
void lineedit_init(struct lineedit *e);
void lineedit_free(struct lineedit *e);
/* Replace the text and put the cursor at its end. */
void lineedit_set(struct lineedit *e, const char *text);
/* Insert n bytes at the cursor and move the cursor past them. */
void lineedit_insert(struct lineedit *e, const char *s, size_t n);
/* End of the line (the next newline, or the end of the text) holding off. */
size_t lineedit_eol(const struct lineedit *e, size_t off);
/* Apply a movement, deletion, kill or yank action; cut text replaces *kill (a shared kill
 * buffer, NULL when empty) and yank inserts it. Returns 1 when act was one of these. */
int lineedit_action(struct lineedit *e, enum action act, char **kill);
/* The first byte a one-row view width columns wide should show, given the one it showed
 * (left): the cursor and its cell stay in view, and text is pulled back in from the left
 * when the end of the text leaves room. Always a cluster boundary at or before the cursor. */
size_t lineedit_scroll(const struct lineedit *e, size_t left, int width);

#endif
