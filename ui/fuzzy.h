/*
 * The fuzzy matcher every picker and the session list filter with, without curses so that
 * it is unit tested and benchmarked on its own. A pattern is one or more terms separated
 * by spaces; a text matches when every term is a subsequence of it (smart case: a term
 * with a capital letter matches case, one without does not). The score favours matches at
 * word starts and contiguous runs and penalises gaps; fuzzy_list filters and orders a whole
 * list for each key typed, narrowing the last result when the pattern only grew.
 */
#ifndef NATTER_FUZZY_H
#define NATTER_FUZZY_H

#include <stddef.h>

/* What a text that does not match scores. */
#define FUZZY_NONE (-1)

/* The score components, exported so that the tests can reason about them. */
#define FUZZY_MATCH 16      /* each matched character */
#define FUZZY_START 10      /* a match at the very start of the text */
#define FUZZY_BOUNDARY 8    /* a match right after a space, '/', '-', '_', '.', ':' ... */
#define FUZZY_CAMEL 7       /* a capital right after a small letter (camelCase) */
#define FUZZY_CONSEC 6      /* a match right after the previous match */
#define FUZZY_GAP_OPEN 3    /* a gap between two matched characters */
#define FUZZY_GAP_EXTEND 1  /* each skipped character after the gap's first */

/* Codepoints of a text (a term) the matcher looks at; the rest never matches. */
#define FUZZY_MAX_TEXT 1024
#define FUZZY_MAX_TERM 64

/* The score of pat against the len bytes of text, or FUZZY_NONE. An empty pattern (or
 * one of spaces only) matches everything with 0. */
int fuzzy_score(const char *pat, const char *text, size_t len);
/* As fuzzy_score, and the byte offsets of the matched characters (every term's, sorted,
 * each once) in pos, at most max of them; *npos gets how many. */
int fuzzy_match(const char *pat, const char *text, size_t len, size_t *pos, size_t max,
    size_t *npos);

/* A list filtered by a pattern: texts (borrowed) are the items, order the ones that
 * match, best first (or in item order when keep_order), each with its score. */
struct fuzzy_list {
	const char *const *texts;
	size_t n;
	int keep_order;
	size_t *order;      /* matching items */
	int *scores;        /* score of order[k] */
	size_t norder;
	char *pat;          /* the pattern order was made for, NULL before the first update */
	struct fz_state *st;  /* what the updates keep (fuzzy.c) */
};

/* Start a list over n texts (all of them match until the first update). */
void fuzzy_list_init(struct fuzzy_list *l, const char *const *texts, size_t n, int keep_order);
/* Filter and order the items for pat; a pattern that grows one typed before computes one
 * row of the matcher's table per item kept (a character more), and one it shrinks back to
 * is taken as it was. */
void fuzzy_list_update(struct fuzzy_list *l, const char *pat);
/* Decode the texts now rather than at the first update (an idle moment before typing). */
void fuzzy_list_prepare(struct fuzzy_list *l);
void fuzzy_list_free(struct fuzzy_list *l);

#endif
