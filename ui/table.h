/*
 * Markdown tables (GitHub's pipe tables) laid out as aligned tables with box-drawing
 * borders: the rows are split into cells, the delimiter row gives each column its
 * alignment, columns take their natural width when the table fits and the widest ones
 * give way when it does not, and a cell too long for its column wraps inside it. Widths
 * are display columns by grapheme cluster (wrap.c), so CJK and emoji line up. Curses-free.
 */
#ifndef NATTER_TABLE_H
#define NATTER_TABLE_H

#include <stddef.h>

#include "markdown.h"

enum table_align { TABLE_LEFT, TABLE_CENTER, TABLE_RIGHT };

#define TABLE_MAX_COLS 64

/* Split a table row into cells: start and len of each cell's text in s, trimmed, without
 * the outer pipes; an escaped pipe (\|) stays in its cell. Returns the number of cells
 * (at most max). */
size_t table_split(const char *s, size_t n, size_t *start, size_t *len, size_t max);
/* Is s a delimiter row (| --- | :-: | --: |)? Returns its column count and fills aligns
 * (enum table_align, at most max), or 0 when it is not one. */
size_t table_delim(const char *s, size_t n, int *aligns, size_t max);
/* Fit column widths into avail columns of content: each column gets its natural width
 * when they all fit, otherwise the widest columns shrink first, down to 1. Returns 0, or
 * -1 when not even one column each fits. */
int table_widths(const int *natural, size_t ncols, int avail, int *out);
/* Draw a table into out at width: cells[r * ncols + c] are one-line builders of styled
 * text (rtext_span); row 0 is the header when header is set. Borders in border_role. */
void table_render(struct rtext *out, int width, const struct rtext *cells, size_t nrows,
    size_t ncols, const int *aligns, int header, int border_role);

#endif
