/*
 * Fuzzy matching (fuzzy.h). Each term of the pattern is matched as a subsequence of the
 * text by dynamic programming over (term character, text character): a cell holds the best
 * score of a match of the term's first characters that ends at that text character, from
 * either the cell diagonally before it (a contiguous run, FUZZY_CONSEC) or the best earlier
 * cell less the gap's cost, which one running maximum per row keeps in O(1) per cell. Each
 * matched character scores FUZZY_MATCH plus the bonus of its place: the start of the text,
 * a word start, a camelCase hump. A greedy pass rejects texts that cannot match before any
 * of that runs, and only the rows on screen ask for the matched positions (the full table,
 * traced back); filtering a list keeps two rows. Case folding is utf8proc's, by codepoint.
 */
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

#include "fuzzy.h"
#include "xmalloc.h"

#define FZ_NEG (-1000000)
#define FZ_MAX_TERMS 16

/* A text decoded for matching: codepoints, their lower case, byte offsets and bonuses. */
struct fz_text {
	unsigned cp[FUZZY_MAX_TEXT];
	unsigned lo[FUZZY_MAX_TEXT];
	size_t off[FUZZY_MAX_TEXT];
	int bonus[FUZZY_MAX_TEXT];
	size_t n;
};

/* One term of a pattern: its codepoints (lower case unless it matches case). */
struct fz_term {
	unsigned cp[FUZZY_MAX_TERM];
	size_t n;
	int cased;
};

/* The lower case of a codepoint. */
static unsigned
fuzzy_lower(unsigned c)
{
	if (c < 0x80)
		return c >= 'A' && c <= 'Z' ? c + 32 : c;
	return (unsigned)utf8proc_tolower((utf8proc_int32_t)c);
}

/* Decode the codepoint at s (n bytes left, n > 0) into *cp; returns its length (an invalid
 * byte is one U+FFFD). */
static size_t
fuzzy_decode(const char *s, size_t n, unsigned *cp)
{
	utf8proc_int32_t c;
	utf8proc_ssize_t k;

	if ((unsigned char)s[0] < 0x80) {
		*cp = (unsigned char)s[0];
		return 1;
	}
	k = utf8proc_iterate((const utf8proc_uint8_t *)s, (utf8proc_ssize_t)(n > 4 ? 4 : n), &c);
	if (k <= 0) {
		*cp = 0xfffd;
		return 1;
	}
	*cp = (unsigned)c;
	return (size_t)k;
}

/* Is s whole UTF-8 (so that a pattern growing from it keeps its characters)? */
static int
fuzzy_valid(const char *s)
{
	size_t i = 0, n = strlen(s);

	while (i < n) {
		unsigned c;
		size_t k = fuzzy_decode(s + i, n - i, &c);

		if (c == 0xfffd && k == 1)
			return 0;
		i += k;
	}
	return 1;
}

/* Is c a character after which a word starts? */
static int
fuzzy_separator(unsigned c)
{
	static const char sep[] = " \t\n/\\-_.:,;()[]{}\"'@#|+=<>*~";
	static unsigned char table[128];
	static int ready;
	size_t i;

	if (!ready) {
		for (i = 0; i < sizeof sep - 1; i++)
			table[(unsigned char)sep[i]] = 1;
		ready = 1;
	}
	return c < 0x80 && table[c];
}

/* Decode len bytes of s into x with each character's bonus. */
static void
fuzzy_text(const char *s, size_t len, struct fz_text *x)
{
	size_t i = 0, n = 0;
	unsigned prev = ' ';

	while (i < len && n < FUZZY_MAX_TEXT) {
		unsigned c;
		size_t k = fuzzy_decode(s + i, len - i, &c);

		x->cp[n] = c;
		x->lo[n] = fuzzy_lower(c);
		x->off[n] = i;
		if (n == 0)
			x->bonus[n] = FUZZY_START;
		else if (fuzzy_separator(prev) && !fuzzy_separator(c))
			x->bonus[n] = FUZZY_BOUNDARY;
		else if (prev >= 'a' && prev <= 'z' && c >= 'A' && c <= 'Z')
			x->bonus[n] = FUZZY_CAMEL;
		else
			x->bonus[n] = 0;
		prev = c;
		i += k;
		n++;
	}
	x->n = n;
}

/* Split pat into terms at spaces; returns how many (at most FZ_MAX_TERMS). */
static size_t
fuzzy_terms(const char *pat, struct fz_term *t)
{
	size_t nt = 0, i = 0, len = strlen(pat);

	while (i < len && nt < FZ_MAX_TERMS) {
		struct fz_term *cur = &t[nt];

		while (i < len && pat[i] == ' ')
			i++;
		if (i >= len)
			break;
		cur->n = 0;
		cur->cased = 0;
		while (i < len && pat[i] != ' ') {
			unsigned c;

			i += fuzzy_decode(pat + i, len - i, &c);
			if (cur->n < FUZZY_MAX_TERM)
				cur->cp[cur->n++] = c;
			if (fuzzy_lower(c) != c)
				cur->cased = 1;
		}
		nt++;
	}
	return nt;
}

/* Does term character i match text character j? */
static int
fuzzy_eq(const struct fz_term *t, size_t i, const struct fz_text *x, size_t j)
{
	return t->cased ? t->cp[i] == x->cp[j] : t->cp[i] == x->lo[j];
}

/* Could term t match len bytes of s? The greedy scan fuzzy_term starts with, on the raw
 * text, so that most texts that do not match are never decoded whole. */
static int
fuzzy_quick(const struct fz_term *t, const char *s, size_t len)
{
	size_t i = 0, k = 0, n = 0;

	while (k < t->n && i < len && n < FUZZY_MAX_TEXT) {
		unsigned c = (unsigned char)s[i];

		if (c < 0x80)
			i++;
		else
			i += fuzzy_decode(s + i, len - i, &c);
		if (!t->cased)
			c = c < 0x80 ? (c >= 'A' && c <= 'Z' ? c + 32 : c) : fuzzy_lower(c);
		if (c == t->cp[k])
			k++;
		n++;
	}
	return k == t->n;
}

/* The best score of term t in x, or FUZZY_NONE; with pos, the text offsets of the best
 * match's characters (t->n of them). */
static int
fuzzy_term(const struct fz_term *t, const struct fz_text *x, size_t *pos)
{
	size_t m = t->n, n = x->n, i, j, first = 0;
	int rows[2][FUZZY_MAX_TEXT], *sc = NULL, best = FZ_NEG;
	long *bk = NULL, bj = -1;

	if (m == 0)
		return 0;
	if (m > n)
		return FUZZY_NONE;
	for (i = 0, j = 0; j < n && i < m; j++)
		if (fuzzy_eq(t, i, x, j))
			i++;
	if (i < m)
		return FUZZY_NONE;
	if (pos != NULL) {
		sc = xmalloc(m * n * sizeof *sc);
		bk = xmalloc(m * n * sizeof *bk);
	}
	for (i = 0; i < m; i++) {
		int *cur = sc != NULL ? sc + i * n : rows[i & 1];
		const int *prev = i == 0 ? NULL : sc != NULL ? sc + (i - 1) * n : rows[(i - 1) & 1];
		/* Cells before the previous row's first match, or too late for the rest of the
		 * term to fit, can hold no match: they are never looked at. */
		size_t start = i == 0 ? 0 : first + 1, end = n - (m - 1 - i), nfirst = n;
		int gap = FZ_NEG;
		long gapk = -1;

		for (j = start; j < end; j++) {
			int v = FZ_NEG;
			long from = -1;

			/* The best earlier match of the previous character, a gap before j. */
			if (prev != NULL && j >= first + 2) {
				if (gap > FZ_NEG)
					gap -= FUZZY_GAP_EXTEND;
				if (prev[j - 2] > FZ_NEG && prev[j - 2] - FUZZY_GAP_OPEN > gap) {
					gap = prev[j - 2] - FUZZY_GAP_OPEN;
					gapk = (long)j - 2;
				}
			}
			if (fuzzy_eq(t, i, x, j)) {
				if (prev == NULL) {
					v = 0;
				} else {
					if (prev[j - 1] > FZ_NEG) {
						v = prev[j - 1] + FUZZY_CONSEC;
						from = (long)j - 1;
					}
					if (gap > FZ_NEG && gap > v) {
						v = gap;
						from = gapk;
					}
				}
				if (v > FZ_NEG)
					v += FUZZY_MATCH + x->bonus[j];
			}
			cur[j] = v;
			if (bk != NULL)
				bk[i * n + j] = from;
			if (v > FZ_NEG && nfirst == n)
				nfirst = j;
			if (i == m - 1 && v > best) {
				best = v;
				bj = (long)j;
			}
		}
		first = nfirst;
		if (first == n)
			break;
	}
	if (pos != NULL) {
		for (i = m; i > 0 && bj >= 0; i--) {
			pos[i - 1] = x->off[bj];
			bj = bk[(i - 1) * n + (size_t)bj];
		}
		free(sc);
		free(bk);
	}
	/* Long gaps can cost a weak match more than its characters earned: it still matched,
	 * so it scores 0 at the least and never FUZZY_NONE. */
	if (best <= FZ_NEG)
		return FUZZY_NONE;
	return best < 0 ? 0 : best;
}

/* Compare two offsets for qsort. */
static int
fuzzy_cmp_off(const void *a, const void *b)
{
	size_t x = *(const size_t *)a, y = *(const size_t *)b;

	return x < y ? -1 : x > y;
}

/* Match pat against text; positions as fuzzy_match says when pos is not NULL. */
static int
fuzzy_run(const char *pat, const char *text, size_t len, size_t *pos, size_t max,
    size_t *npos)
{
	struct fz_term terms[FZ_MAX_TERMS];
	struct fz_text x;
	size_t nt = fuzzy_terms(pat, terms), k, got = 0, all[FZ_MAX_TERMS * FUZZY_MAX_TERM];
	int total = 0, s;

	if (npos != NULL)
		*npos = 0;
	if (nt == 0)
		return 0;
	for (k = 0; k < nt; k++)
		if (!fuzzy_quick(&terms[k], text, len))
			return FUZZY_NONE;
	fuzzy_text(text, len, &x);
	for (k = 0; k < nt; k++) {
		s = fuzzy_term(&terms[k], &x, pos != NULL ? all + got : NULL);
		if (s == FUZZY_NONE)
			return FUZZY_NONE;
		total += s;
		if (pos != NULL)
			got += terms[k].n;
	}
	if (pos != NULL) {
		size_t i, out = 0;

		qsort(all, got, sizeof *all, fuzzy_cmp_off);
		for (i = 0; i < got && out < max; i++)
			if (i == 0 || all[i] != all[i - 1])
				pos[out++] = all[i];
		*npos = out;
	}
	return total;
}

/* The score of pat against text. */
int
fuzzy_score(const char *pat, const char *text, size_t len)
{
	return fuzzy_run(pat, text, len, NULL, 0, NULL);
}

/* The score of pat against text with the matched characters' offsets. */
int
fuzzy_match(const char *pat, const char *text, size_t len, size_t *pos, size_t max,
    size_t *npos)
{
	return fuzzy_run(pat, text, len, pos, max, npos);
}

/* Start a list over texts; every item matches until the first update. */
void
fuzzy_list_init(struct fuzzy_list *l, const char *const *texts, size_t n, int keep_order)
{
	size_t i;

	memset(l, 0, sizeof *l);
	l->texts = texts;
	l->n = n;
	l->keep_order = keep_order;
	l->order = xcalloc(n ? n : 1, sizeof *l->order);
	l->scores = xcalloc(n ? n : 1, sizeof *l->scores);
	for (i = 0; i < n; i++)
		l->order[i] = i;
	l->norder = n;
}

/* One match while a list is updated: its score, length and item. */
struct fz_hit {
	int score;
	size_t len;
	size_t item;
};

/* Best first: higher score, then the shorter text, then the earlier item. */
static int
fuzzy_cmp_hit(const void *a, const void *b)
{
	const struct fz_hit *x = a, *y = b;

	if (x->score != y->score)
		return x->score > y->score ? -1 : 1;
	if (x->len != y->len)
		return x->len < y->len ? -1 : 1;
	return x->item < y->item ? -1 : x->item > y->item;
}

/* Filter and order the items for pat. */
void
fuzzy_list_update(struct fuzzy_list *l, const char *pat)
{
	struct fz_hit *hits;
	size_t i, nh = 0, ncand;
	int narrow;

	if (pat[strspn(pat, " ")] == '\0') {
		for (i = 0; i < l->n; i++) {
			l->order[i] = i;
			l->scores[i] = 0;
		}
		l->norder = l->n;
		free(l->pat);
		l->pat = xstrdup(pat);
		return;
	}
	/* A longer pattern keeps a subset of what its prefix kept (a term grown, or a term
	 * added; a capital makes a term stricter, never looser), once the prefix ends on a
	 * whole character. */
	narrow = l->pat != NULL && l->pat[strspn(l->pat, " ")] != '\0' &&
	    strncmp(pat, l->pat, strlen(l->pat)) == 0 && fuzzy_valid(l->pat);
	ncand = narrow ? l->norder : l->n;
	hits = xmalloc((ncand ? ncand : 1) * sizeof *hits);
	if (narrow && !l->keep_order)
		/* The narrowed set is scanned in item order, so that ties stay stable. */
		qsort(l->order, l->norder, sizeof *l->order, fuzzy_cmp_off);
	for (i = 0; i < ncand; i++) {
		size_t item = narrow ? l->order[i] : i;
		const char *t = l->texts[item] != NULL ? l->texts[item] : "";
		size_t len = strlen(t);
		int s = fuzzy_score(pat, t, len);

		if (s == FUZZY_NONE)
			continue;
		hits[nh].score = s;
		hits[nh].len = len;
		hits[nh].item = item;
		nh++;
	}
	if (!l->keep_order)
		qsort(hits, nh, sizeof *hits, fuzzy_cmp_hit);
	for (i = 0; i < nh; i++) {
		l->order[i] = hits[i].item;
		l->scores[i] = hits[i].score;
	}
	l->norder = nh;
	free(hits);
	free(l->pat);
	l->pat = xstrdup(pat);
}

/* Release the list's arrays (not the texts). */
void
fuzzy_list_free(struct fuzzy_list *l)
{
	free(l->order);
	free(l->scores);
	free(l->pat);
	memset(l, 0, sizeof *l);
}
