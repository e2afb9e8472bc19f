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
#include <stdint.h>
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

/*
 * A list filters by levels: one for each pattern typed since the list last started from
 * nothing, each holding the items that match it with, per item, the score of the terms
 * before the last and the last term's final row of the table. A key that grows the
 * pattern (a character added to the last term, or a new term) computes one row per item
 * from the level below instead of every row; a key that shrinks it goes back to a level
 * kept. The texts are decoded once, when the list is first filtered.
 */
#define FZ_LEVELS 24          /* levels kept; an older one is computed again if needed */
#define FZ_NEG16 (-30000)     /* "no match" in a stored row */

/* The texts decoded: each item's codepoints from at[item], lower-cased too, with bonuses. */
struct fz_decoded {
	size_t *at;
	unsigned *cp, *lo;
	signed char *bonus;
	size_t *bytes;        /* each text's length, for ties */
};

/* What one pattern keeps: its terms and the items that match it. */
struct fz_level {
	struct fz_term terms[FZ_MAX_TERMS];
	size_t nt;
	size_t nc;
	size_t *item;         /* matching items, in item order */
	int *base;            /* the score of the terms before the last */
	unsigned short *first;  /* the last term's row: its first cell that matches */
	size_t *roff;         /* and where it starts in rows */
	short *rows;
	size_t *order;        /* the items best first, with their scores */
	int *score;
};

struct fz_state {
	struct fz_decoded d;
	int decoded;
	struct fz_level *lv[FZ_LEVELS];
	size_t nlv;
};

/* Decode every text of the list once, straight into shared arrays sized by the texts'
 * bytes (no text has more characters than bytes); as fuzzy_text decodes one. */
static void
fuzzy_decode_all(struct fuzzy_list *l, struct fz_decoded *d)
{
	size_t i, total = 0;

	d->at = xcalloc(l->n + 1, sizeof *d->at);
	d->bytes = xcalloc(l->n ? l->n : 1, sizeof *d->bytes);
	for (i = 0; i < l->n; i++) {
		d->bytes[i] = l->texts[i] != NULL ? strlen(l->texts[i]) : 0;
		total += d->bytes[i] < FUZZY_MAX_TEXT ? d->bytes[i] : FUZZY_MAX_TEXT;
	}
	d->cp = xmalloc((total ? total : 1) * sizeof *d->cp);
	d->lo = xmalloc((total ? total : 1) * sizeof *d->lo);
	d->bonus = xmalloc(total ? total : 1);
	for (i = 0, total = 0; i < l->n; i++) {
		const char *t = l->texts[i] != NULL ? l->texts[i] : "";
		size_t len = d->bytes[i], k = 0, n = 0;
		unsigned prev = ' ', c;
		int bo;

		d->at[i] = total;
		while (k < len && n < FUZZY_MAX_TEXT) {
			if ((unsigned char)t[k] < 0x80)
				c = (unsigned char)t[k++];
			else
				k += fuzzy_decode(t + k, len - k, &c);
			if (n == 0)
				bo = FUZZY_START;
			else if (fuzzy_separator(prev) && !fuzzy_separator(c))
				bo = FUZZY_BOUNDARY;
			else if (prev >= 'a' && prev <= 'z' && c >= 'A' && c <= 'Z')
				bo = FUZZY_CAMEL;
			else
				bo = 0;
			d->cp[total + n] = c;
			d->lo[total + n] = c < 0x80 ? (c >= 'A' && c <= 'Z' ? c + 32 : c) :
			    fuzzy_lower(c);
			d->bonus[total + n] = (signed char)bo;
			prev = c;
			n++;
		}
		total += n;
	}
	d->at[l->n] = total;
}

/*
 * Row i of term t's table over a decoded text of n characters (cp, lo, bonus), from row
 * i - 1 (prev, whose first matching cell is pfirst; NULL for row 0), into cur: the cells
 * from the previous row's first match on, as fuzzy_term computes them. Returns the row's
 * first matching cell, or n when none matches.
 */
static size_t
fuzzy_row(const struct fz_term *t, size_t i, const unsigned *cp, const unsigned *lo,
    const signed char *bonus, size_t n, const short *prev, size_t pfirst, short *cur)
{
	size_t j, start = prev == NULL ? 0 : pfirst + 1, nfirst = n;
	unsigned c = t->cp[i];
	const unsigned *hay = t->cased ? cp : lo;
	int gap = FZ_NEG, v;

	for (j = start; j < n; j++) {
		v = FZ_NEG;
		if (prev != NULL && j >= pfirst + 2) {
			if (gap > FZ_NEG)
				gap -= FUZZY_GAP_EXTEND;
			if (prev[j - 2] > FZ_NEG16 && prev[j - 2] - FUZZY_GAP_OPEN > gap)
				gap = prev[j - 2] - FUZZY_GAP_OPEN;
		}
		if (hay[j] == c) {
			if (prev == NULL) {
				v = 0;
			} else {
				if (prev[j - 1] > FZ_NEG16)
					v = prev[j - 1] + FUZZY_CONSEC;
				if (gap > FZ_NEG && gap > v)
					v = gap;
			}
			if (v > FZ_NEG)
				v += FUZZY_MATCH + bonus[j];
		}
		cur[j] = v > FZ_NEG ? (short)v : FZ_NEG16;
		if (v > FZ_NEG && nfirst == n)
			nfirst = j;
	}
	return nfirst;
}

/* The best cell of a row from first on, or FZ_NEG. */
static int
fuzzy_row_best(const short *row, size_t first, size_t n)
{
	int best = FZ_NEG;
	size_t j;

	for (j = first; j < n; j++)
		if (row[j] > FZ_NEG16 && row[j] > best)
			best = row[j];
	return best;
}

/* Release a level. */
static void
fuzzy_level_free(struct fz_level *v)
{
	if (v == NULL)
		return;
	free(v->item);
	free(v->base);
	free(v->first);
	free(v->roff);
	free(v->rows);
	free(v->order);
	free(v->score);
	free(v);
}

/* Do two terms read the same? */
static int
fuzzy_term_eq(const struct fz_term *a, const struct fz_term *b)
{
	return a->n == b->n && a->cased == b->cased &&
	    memcmp(a->cp, b->cp, a->n * sizeof *a->cp) == 0;
}

/* Can the pattern of terms t (nt of them) be computed from level v: v's terms before its
 * last are t's, its last is the start of t's (cased alike), and complete when t has more? */
static int
fuzzy_level_grows(const struct fz_level *v, const struct fz_term *t, size_t nt)
{
	size_t k = v->nt, i;
	const struct fz_term *a, *b;

	if (k == 0)
		return 1;
	if (nt < k)
		return 0;
	for (i = 0; i + 1 < k; i++)
		if (!fuzzy_term_eq(&v->terms[i], &t[i]))
			return 0;
	a = &v->terms[k - 1];
	b = &t[k - 1];
	if (a->cased != b->cased || a->n > b->n || memcmp(a->cp, b->cp, a->n * sizeof *a->cp))
		return 0;
	return nt == k || a->n == b->n;
}

/* One match while a list is ranked by qsort: its score, length and item. */
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

/* Sort n candidates best first (higher score, shorter text, earlier item) by radix on a
 * key made of the three; order and score get them. */
static void
fuzzy_rank(const struct fz_decoded *d, const size_t *item, const int *sc, size_t n,
    int keep_order, size_t *order, int *score)
{
	uint64_t *key, *tmp;
	size_t i, cnt[256], pass, pos;

	if (keep_order || n > (1u << 20)) {
		for (i = 0; i < n; i++) {
			order[i] = item[i];
			score[i] = sc[i];
		}
		if (!keep_order) {
			struct fz_hit *h = xmalloc((n ? n : 1) * sizeof *h);

			for (i = 0; i < n; i++) {
				h[i].score = sc[i];
				h[i].len = d->bytes[item[i]];
				h[i].item = item[i];
			}
			qsort(h, n, sizeof *h, fuzzy_cmp_hit);
			for (i = 0; i < n; i++) {
				order[i] = h[i].item;
				score[i] = h[i].score;
			}
			free(h);
		}
		return;
	}
	key = xmalloc((n ? n : 1) * sizeof *key);
	tmp = xmalloc((n ? n : 1) * sizeof *tmp);
	for (i = 0; i < n; i++) {
		uint64_t len = d->bytes[item[i]] < 0xfffff ? d->bytes[item[i]] : 0xfffff;

		/* Scores are well within +-2^23: a larger one sorts first as a smaller key. */
		key[i] = ((uint64_t)((1 << 23) - sc[i]) << 40) | (len << 20) | i;
	}
	/* Least significant byte first; a byte every key shares is skipped. */
	for (pass = 0; pass < 8; pass++) {
		unsigned shift = (unsigned)pass * 8;

		memset(cnt, 0, sizeof cnt);
		for (i = 0; i < n; i++)
			cnt[(key[i] >> shift) & 0xff]++;
		if (n == 0 || cnt[(key[0] >> shift) & 0xff] == n)
			continue;
		for (i = 0, pos = 0; i < 256; i++) {
			size_t c = cnt[i];

			cnt[i] = pos;
			pos += c;
		}
		for (i = 0; i < n; i++)
			tmp[cnt[(key[i] >> shift) & 0xff]++] = key[i];
		memcpy(key, tmp, n * sizeof *key);
	}
	for (i = 0; i < n; i++) {
		size_t c = (size_t)(key[i] & 0xfffff);

		order[i] = item[c];
		score[i] = sc[c];
	}
	free(key);
	free(tmp);
}

/*
 * The level for terms t (nt of them) computed from level from (NULL: every item, nothing
 * computed): each candidate's last term grown by the characters it lacks, or finished and
 * the new terms computed, one row at a time.
 */
static struct fz_level *
fuzzy_level_make(struct fuzzy_list *l, const struct fz_level *from, const struct fz_term *t,
    size_t nt)
{
	const struct fz_decoded *d = &l->st->d;
	struct fz_level *v = xcalloc(1, sizeof *v);
	size_t ncand = from != NULL ? from->nc : l->n, c, cap = 0, used = 0, k0, i, k;
	short *a = xmalloc(FUZZY_MAX_TEXT * sizeof *a), *b = xmalloc(FUZZY_MAX_TEXT * sizeof *b);
	int *sc = xmalloc((ncand ? ncand : 1) * sizeof *sc);

	memcpy(v->terms, t, nt * sizeof *t);
	v->nt = nt;
	v->item = xmalloc((ncand ? ncand : 1) * sizeof *v->item);
	v->base = xmalloc((ncand ? ncand : 1) * sizeof *v->base);
	v->first = xmalloc((ncand ? ncand : 1) * sizeof *v->first);
	v->roff = xmalloc((ncand ? ncand : 1) * sizeof *v->roff);
	k0 = from != NULL ? from->nt : 0;
	for (c = 0; c < ncand; c++) {
		size_t item = from != NULL ? from->item[c] : c, at = d->at[item];
		size_t n = d->at[item + 1] - at, first = 0;
		const unsigned *cp = d->cp + at, *lo = d->lo + at;
		const signed char *bo = d->bonus + at;
		const short *prev = NULL;
		short *cur = a;
		int base = 0, best;

		/* Grow the last term of the level below. */
		k = 0;
		i = 0;
		if (k0 > 0) {
			base = from->base[c];
			prev = from->rows + from->roff[c];
			first = from->first[c];
			k = k0 - 1;
			i = from->terms[k].n;
		}
		for (; k < nt; k++, i = 0) {
			for (; i < t[k].n; i++) {
				first = fuzzy_row(&t[k], i, cp, lo, bo, n, prev, first, cur);
				if (first >= n)
					break;
				prev = cur;
				cur = cur == a ? b : a;
			}
			if (i < t[k].n || prev == NULL)
				break;
			if (k + 1 < nt) {
				base += fuzzy_row_best(prev, first, n);
				prev = NULL;
				first = 0;
			}
		}
		if (k < nt || prev == NULL)
			continue;
		best = fuzzy_row_best(prev, first, n);
		if (best == FZ_NEG)
			continue;
		if (used + n > cap) {
			cap = (used + n) * 2 + 1024;
			v->rows = xrealloc(v->rows, cap * sizeof *v->rows);
		}
		memcpy(v->rows + used, prev, n * sizeof *prev);
		v->item[v->nc] = item;
		v->base[v->nc] = base;
		v->first[v->nc] = (unsigned short)first;
		v->roff[v->nc] = used;
		sc[v->nc] = base + best;
		used += n;
		v->nc++;
	}
	v->order = xmalloc((v->nc ? v->nc : 1) * sizeof *v->order);
	v->score = xmalloc((v->nc ? v->nc : 1) * sizeof *v->score);
	fuzzy_rank(d, v->item, sc, v->nc, l->keep_order, v->order, v->score);
	free(sc);
	free(a);
	free(b);
	return v;
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
	l->st = xcalloc(1, sizeof *l->st);
}

/* Decode the texts ahead of the first update. */
void
fuzzy_list_prepare(struct fuzzy_list *l)
{
	if (l->st != NULL && !l->st->decoded) {
		fuzzy_decode_all(l, &l->st->d);
		l->st->decoded = 1;
	}
}

/* Filter and order the items for pat. */
void
fuzzy_list_update(struct fuzzy_list *l, const char *pat)
{
	struct fz_state *st = l->st;
	struct fz_term *terms = xmalloc(FZ_MAX_TERMS * sizeof *terms);
	struct fz_level *v;
	size_t nt = fuzzy_terms(pat, terms), i;

	free(l->pat);
	l->pat = xstrdup(pat);
	if (nt == 0) {
		for (i = 0; i < l->n; i++) {
			l->order[i] = i;
			l->scores[i] = 0;
		}
		l->norder = l->n;
		free(terms);
		return;
	}
	fuzzy_list_prepare(l);
	/* Back to the last level this pattern grows from. */
	while (st->nlv > 0 && !fuzzy_level_grows(st->lv[st->nlv - 1], terms, nt))
		fuzzy_level_free(st->lv[--st->nlv]);
	v = st->nlv > 0 ? st->lv[st->nlv - 1] : NULL;
	if (v == NULL || v->nt != nt || !fuzzy_term_eq(&v->terms[nt - 1], &terms[nt - 1])) {
		v = fuzzy_level_make(l, v, terms, nt);
		if (st->nlv == FZ_LEVELS) {
			fuzzy_level_free(st->lv[0]);
			memmove(st->lv, st->lv + 1, (FZ_LEVELS - 1) * sizeof *st->lv);
			st->nlv--;
		}
		st->lv[st->nlv++] = v;
	}
	memcpy(l->order, v->order, v->nc * sizeof *l->order);
	memcpy(l->scores, v->score, v->nc * sizeof *l->scores);
	l->norder = v->nc;
	free(terms);
}

/* Release the list's arrays (not the texts). */
void
fuzzy_list_free(struct fuzzy_list *l)
{
	size_t i;

	if (l->st != NULL) {
		for (i = 0; i < l->st->nlv; i++)
			fuzzy_level_free(l->st->lv[i]);
		if (l->st->decoded) {
			free(l->st->d.at);
			free(l->st->d.cp);
			free(l->st->d.lo);
			free(l->st->d.bonus);
			free(l->st->d.bytes);
		}
		free(l->st);
	}
	free(l->order);
	free(l->scores);
	free(l->pat);
	memset(l, 0, sizeof *l);
}
