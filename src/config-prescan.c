/*
 * The depth pre-scan of a config file (see config_prescan in config-tree.h): one pass over
 * the text that counts nesting the way YAML builds it, so a document libyaml would take
 * seconds on is refused in microseconds. It never parses anything it does not need to.
 */
#include <string.h>

#include "config-tree.h"

/* Where the depth pre-scan is in the text. */
struct prescan {
	const char *p, *end;
	int line, col;           /* 1-based, of p */
	int flow;                /* flow brackets open */
	int ind[CONFIG_MAX_DEPTH + 2]; /* block levels: their indentation columns (0-based) */
	int nind;
	char quote;              /* inside a '…' or "…" scalar: its quote */
	int block_parent;        /* inside a block scalar: lines indented deeper belong to
	                          * it; -1 when not in one */
};

/* True at the end of a token: white space, a line end, or the end of the text. */
static int
prescan_gap(const struct prescan *ps, size_t off)
{
	const char *q = ps->p + off;

	return q >= ps->end || *q == ' ' || *q == '\t' || *q == '\n' || *q == '\r';
}

/* Push a block level at column c when it is deeper than the innermost; 0 when the depth
 * is over the limit. */
static int
prescan_push(struct prescan *ps, int c)
{
	if (ps->nind > 0 && ps->ind[ps->nind - 1] >= c)
		return 1;
	if (ps->nind + ps->flow >= CONFIG_MAX_DEPTH)
		return 0;
	ps->ind[ps->nind++] = c;
	return 1;
}

/* True when a block scalar header (| or > with its indicators) starts at p. */
static int
prescan_block_header(const struct prescan *ps)
{
	size_t k = 1;

	while (ps->p + k < ps->end && (ps->p[k] == '+' || ps->p[k] == '-' ||
	    (ps->p[k] >= '1' && ps->p[k] <= '9')))
		k++;
	return prescan_gap(ps, k) || ps->p[k] == '#';
}

/* Scan one line's content from p (its indentation already skipped); 0 when the nesting
 * goes over the limit there. */
static int
prescan_line(struct prescan *ps, int indent)
{
	int at_node = 1, parent = indent;

	for (; ps->p < ps->end && *ps->p != '\n'; ps->p++, ps->col++) {
		char c = *ps->p;

		if (ps->quote == '"') {
			if (c == '\\' && ps->p + 1 < ps->end && ps->p[1] != '\n') {
				ps->p++;
				ps->col++;
			} else if (c == '"') {
				ps->quote = 0;
			}
			continue;
		}
		if (ps->quote == '\'') {
			if (c == '\'' && ps->p + 1 < ps->end && ps->p[1] == '\'') {
				ps->p++;
				ps->col++;
			} else if (c == '\'') {
				ps->quote = 0;
			}
			continue;
		}
		if (c == ' ' || c == '\t' || c == '\r')
			continue;
		if (c == '#' && (ps->col == 1 || ps->p[-1] == ' ' || ps->p[-1] == '\t')) {
			while (ps->p < ps->end && *ps->p != '\n')
				ps->p++;
			break;
		}
		if (at_node && (c == '"' || c == '\'')) {
			ps->quote = c;
			parent = ps->col - 1;
			at_node = 0;
		} else if ((c == '[' || c == '{') && (at_node || ps->flow > 0)) {
			if (ps->nind + ps->flow >= CONFIG_MAX_DEPTH)
				return 0;
			ps->flow++;
			at_node = 1;
		} else if ((c == ']' || c == '}') && ps->flow > 0) {
			ps->flow--;
			at_node = 0;
		} else if (c == ',' && ps->flow > 0) {
			at_node = 1;
		} else if (c == ':' && (prescan_gap(ps, 1) || (ps->flow > 0 &&
		    strchr(",[]{}", ps->p[1]) != NULL))) {
			at_node = 1;
		} else if ((c == '-' || c == '?') && at_node && ps->flow == 0 && prescan_gap(ps, 1)) {
			/* A sequence entry (or complex key) nests what follows it. */
			if (!prescan_push(ps, ps->col))
				return 0;
			parent = ps->col - 1;
		} else if ((c == '|' || c == '>') && at_node && ps->flow == 0 &&
		    prescan_block_header(ps)) {
			/* A block scalar: the lines indented deeper than its key hold text. */
			ps->block_parent = parent;
			while (ps->p < ps->end && *ps->p != '\n')
				ps->p++;
			break;
		} else if ((c == '&' || c == '!') && at_node) {
			/* An anchor or a tag stands before a node, which may still be a bracket. */
			while (!prescan_gap(ps, 1))
				ps->p++, ps->col++;
		} else {
			if (at_node)
				parent = ps->col - 1;
			at_node = 0;
		}
	}
	return 1;
}

/*
 * Refuse a document nested deeper than CONFIG_MAX_DEPTH before libyaml sees it: libyaml's
 * time grows with the square of the depth (a 200 KB file of x: [[[…]]] 100,000 deep took
 * 18 s), this scan is one pass. The depth counted is the flow brackets open plus the block
 * levels (each deeper indentation, each "- " entry) around a point; it errs a little high
 * (a real config nests under ten deep) and skips what cannot nest: comments, quoted and
 * block scalars. Returns 0, or -1 with where the limit was passed.
 */
int
config_prescan(const char *text, size_t len, int *line, int *col)
{
	struct prescan ps;

	memset(&ps, 0, sizeof ps);
	ps.p = text;
	ps.end = text + len;
	ps.line = 1;
	ps.block_parent = -1;
	while (ps.p < ps.end) {
		int indent = 0;

		ps.col = 1;
		while (ps.p < ps.end && *ps.p == ' ') {
			ps.p++;
			ps.col++;
			indent++;
		}
		if (ps.block_parent >= 0 && ps.quote == 0 && (ps.p >= ps.end || *ps.p == '\n' ||
		    *ps.p == '\r' || indent > ps.block_parent)) {
			while (ps.p < ps.end && *ps.p != '\n')
				ps.p++;
		} else {
			ps.block_parent = -1;
			if (ps.flow == 0 && ps.quote == 0 && ps.p < ps.end && *ps.p != '\n' &&
			    *ps.p != '\r' && *ps.p != '#') {
				while (ps.nind > 0 && ps.ind[ps.nind - 1] > indent)
					ps.nind--;
				if (indent == 0 && ps.end - ps.p >= 3 &&
				    (memcmp(ps.p, "---", 3) == 0 || memcmp(ps.p, "...", 3) == 0))
					ps.nind = 0; /* a new document */
				if (!prescan_push(&ps, indent) || !prescan_line(&ps, indent))
					goto deep;
			} else if (!prescan_line(&ps, indent)) {
				goto deep;
			}
		}
		if (ps.p < ps.end) {
			ps.p++;
			ps.line++;
		}
	}
	return 0;
deep:
	*line = ps.line;
	*col = ps.col;
	return -1;
}
