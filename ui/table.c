/*
 * Table layout. A row is split at its unescaped pipes; the delimiter row (dashes with
 * optional colons) makes a table of the lines around it and gives the alignments. Column
 * widths are water-filled: every column keeps its natural width up to a level chosen as
 * high as the width allows, so narrow columns stay whole and only the widest wrap. Each
 * cell is wrapped to its column (wrap_line: by cluster, at spaces, CJK between
 * characters) and the row is as tall as its tallest cell. When not even one column each
 * fits, the rows are drawn as lines of cells separated by bars instead.
 */
#include <stdlib.h>
#include <string.h>

#include "table.h"
#include "theme.h"
#include "wrap.h"
#include "xmalloc.h"

/* Trim blanks (and a CR) from both ends of [*a, *b). */
static void
table_trim(const char *s, size_t *a, size_t *b)
{
	while (*a < *b && (s[*a] == ' ' || s[*a] == '\t'))
		(*a)++;
	while (*b > *a && (s[*b - 1] == ' ' || s[*b - 1] == '\t' || s[*b - 1] == '\r'))
		(*b)--;
}

/* Is the pipe at s[i] escaped by an odd number of backslashes? */
static int
table_escaped(const char *s, size_t i, size_t from)
{
	size_t k = 0;

	while (i > from && s[i - 1] == '\\') {
		i--;
		k++;
	}
	return k % 2 == 1;
}

/* Split a row into trimmed cells. */
size_t
table_split(const char *s, size_t n, size_t *start, size_t *len, size_t max)
{
	size_t a = 0, b = n, i, from, count = 0;

	table_trim(s, &a, &b);
	if (a < b && s[a] == '|')
		a++;
	if (b > a && s[b - 1] == '|' && !table_escaped(s, b - 1, a))
		b--;
	for (from = a, i = a; i <= b && count < max; i++) {
		if (i == b || (s[i] == '|' && !table_escaped(s, i, from))) {
			size_t x = from, y = i;

			table_trim(s, &x, &y);
			start[count] = x;
			len[count++] = y - x;
			from = i + 1;
		}
	}
	return count;
}

/* Is s a delimiter row? */
size_t
table_delim(const char *s, size_t n, int *aligns, size_t max)
{
	size_t start[TABLE_MAX_COLS], len[TABLE_MAX_COLS], nc, c, i;

	if (memchr(s, '|', n) == NULL)
		return 0;
	if (max > TABLE_MAX_COLS)
		max = TABLE_MAX_COLS;
	nc = table_split(s, n, start, len, max);
	for (c = 0; c < nc; c++) {
		const char *t = s + start[c];
		size_t k = len[c], dashes = 0;
		int left = 0, right = 0;

		if (k > 0 && t[0] == ':') {
			left = 1;
			t++;
			k--;
		}
		if (k > 0 && t[k - 1] == ':') {
			right = 1;
			k--;
		}
		for (i = 0; i < k; i++) {
			if (t[i] != '-')
				return 0;
			dashes++;
		}
		if (dashes == 0)
			return 0;
		aligns[c] = left && right ? TABLE_CENTER : right ? TABLE_RIGHT : TABLE_LEFT;
	}
	return nc;
}

/* Sum of the widths capped at level. */
static long
table_capped(const int *natural, size_t ncols, int level)
{
	long sum = 0;
	size_t c;

	for (c = 0; c < ncols; c++)
		sum += natural[c] < level ? natural[c] : level;
	return sum;
}

/* Water-fill the column widths into avail. */
int
table_widths(const int *natural, size_t ncols, int avail, int *out)
{
	int lo = 1, hi = 1, mid;
	long left;
	size_t c;

	if (ncols == 0 || avail < (int)ncols)
		return -1;
	for (c = 0; c < ncols; c++)
		if (natural[c] > hi)
			hi = natural[c];
	/* The highest level whose capped sum fits. */
	while (lo < hi) {
		mid = lo + (hi - lo + 1) / 2;
		if (table_capped(natural, ncols, mid) <= avail)
			lo = mid;
		else
			hi = mid - 1;
	}
	left = avail - table_capped(natural, ncols, lo);
	for (c = 0; c < ncols; c++) {
		int nat = natural[c] < 1 ? 1 : natural[c];

		out[c] = nat < lo ? nat : lo;
		if (nat > lo && left > 0) {
			out[c]++;
			left--;
		}
	}
	return 0;
}

/* The display width of a cell: its widest line. */
static int
table_cell_width(const struct rtext *cell)
{
	const char *s = buf_str(&cell->text);
	size_t n = cell->text.len, pos = 0;
	int w = 0;

	while (pos < n) {
		const char *nl = memchr(s + pos, '\n', n - pos);
		size_t end = nl ? (size_t)(nl - s) : n;
		int lw = wrap_width(s + pos, end - pos);

		if (lw > w)
			w = lw;
		pos = end + (nl ? 1 : 0);
	}
	return w;
}

/* A wrapped line of a cell: its bytes and width. */
struct table_piece {
	size_t a, b;
	int w;
};

/* Wrap a cell to width w; returns the pieces (at least one) and their count in *np. */
static struct table_piece *
table_wrap(const struct rtext *cell, int w, size_t *np)
{
	const char *s = buf_str(&cell->text);
	size_t n = cell->text.len, pos = 0, next, len, cap = 4, k = 0;
	struct table_piece *p = xmalloc(cap * sizeof *p);
	int used;

	do {
		len = wrap_line(s + pos, n - pos, w, &next, &used);
		if (k == cap) {
			cap *= 2;
			p = xrealloc(p, cap * sizeof *p);
		}
		p[k].a = pos;
		p[k].b = pos + len;
		p[k++].w = used;
		pos += next;
	} while (pos < n);
	*np = k;
	return p;
}

/* Append n spaces. */
static void
table_pad(struct rtext *line, int n, int role)
{
	static const char spaces[] = "                                ";

	while (n > 0) {
		int k = n < (int)sizeof spaces - 1 ? n : (int)sizeof spaces - 1;

		rtext_span(line, spaces, (size_t)k, role, 0);
		n -= k;
	}
}

/* A border line: left, then each column's run of ─ and a joint, the last ending in right. */
static void
table_rule(struct rtext *out, int width, const int *w, size_t ncols, const char *left,
    const char *mid, const char *right, int role)
{
	struct buf b = BUF_INIT;
	struct rtext line;
	size_t c;
	int k;

	buf_puts(&b, left);
	for (c = 0; c < ncols; c++) {
		for (k = 0; k < w[c] + 2; k++)
			buf_puts(&b, "─");
		buf_puts(&b, c + 1 < ncols ? mid : right);
	}
	rtext_init(&line);
	rtext_span(&line, b.data, b.len, role, 0);
	rtext_add(out, width, "", "", role, &line, -1);
	rtext_free(&line);
	buf_free(&b);
}

/* The rows as lines of cells between bars, wrapped, for a width too narrow for columns. */
static void
table_flat(struct rtext *out, int width, const struct rtext *cells, size_t nrows,
    size_t ncols, int role)
{
	struct rtext line;
	size_t r, c;

	rtext_init(&line);
	for (r = 0; r < nrows; r++) {
		rtext_clear(&line);
		for (c = 0; c < ncols; c++) {
			const struct rtext *cell = &cells[r * ncols + c];

			if (c > 0)
				rtext_span(&line, " │ ", strlen(" │ "), role, 0);
			rtext_copy(&line, cell, 0, cell->text.len);
		}
		rtext_add(out, width, "", "", role, &line, -1);
	}
	rtext_free(&line);
}

/* Draw one row: each cell wrapped to its column, as many lines as its tallest cell. */
static void
table_row(struct rtext *out, int width, const struct rtext *cells, size_t ncols,
    const int *w, const int *aligns, int role)
{
	struct table_piece *pieces[TABLE_MAX_COLS];
	size_t np[TABLE_MAX_COLS], c, l, height = 1;
	struct rtext line;

	for (c = 0; c < ncols; c++) {
		pieces[c] = table_wrap(&cells[c], w[c], &np[c]);
		if (np[c] > height)
			height = np[c];
	}
	rtext_init(&line);
	for (l = 0; l < height; l++) {
		rtext_clear(&line);
		rtext_span(&line, "│", strlen("│"), role, 0);
		for (c = 0; c < ncols; c++) {
			const struct table_piece *p = l < np[c] ? &pieces[c][l] : NULL;
			int used = p != NULL ? p->w : 0, gap = w[c] - used, before = 0;

			if (gap < 0)
				gap = 0;
			if (aligns[c] == TABLE_RIGHT)
				before = gap;
			else if (aligns[c] == TABLE_CENTER)
				before = gap / 2;
			table_pad(&line, 1 + before, role);
			if (p != NULL)
				rtext_copy(&line, &cells[c], p->a, p->b);
			table_pad(&line, gap - before + 1, role);
			rtext_span(&line, "│", strlen("│"), role, 0);
		}
		rtext_add(out, width, "", "", role, &line, -1);
	}
	rtext_free(&line);
	for (c = 0; c < ncols; c++)
		free(pieces[c]);
}

/* Lay out and draw a table. */
void
table_render(struct rtext *out, int width, const struct rtext *cells, size_t nrows,
    size_t ncols, const int *aligns, int header, int border_role)
{
	int natural[TABLE_MAX_COLS], w[TABLE_MAX_COLS];
	size_t r, c;

	if (ncols == 0 || nrows == 0)
		return;
	if (ncols > TABLE_MAX_COLS)
		ncols = TABLE_MAX_COLS;
	for (c = 0; c < ncols; c++) {
		natural[c] = 1;
		for (r = 0; r < nrows; r++) {
			int cw = table_cell_width(&cells[r * ncols + c]);

			if (cw > natural[c])
				natural[c] = cw;
		}
	}
	if (table_widths(natural, ncols, width - 3 * (int)ncols - 1, w) != 0) {
		table_flat(out, width, cells, nrows, ncols, border_role);
		return;
	}
	table_rule(out, width, w, ncols, "┌", "┬", "┐", border_role);
	for (r = 0; r < nrows; r++) {
		table_row(out, width, cells + r * ncols, ncols, w, aligns, border_role);
		if (r == 0 && header && nrows > 1)
			table_rule(out, width, w, ncols, "├", "┼", "┤", border_role);
	}
	table_rule(out, width, w, ncols, "└", "┴", "┘", border_role);
}
