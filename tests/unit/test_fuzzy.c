/* Unit tests of the fuzzy matcher (ui/fuzzy.c): scores, highlights and list ordering. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "fuzzy.h"

/* The score of pat against a whole string. */
static int
score(const char *pat, const char *text)
{
	return fuzzy_score(pat, text, strlen(text));
}

/* The highlighted offsets of pat in text, as "a,b,c". */
static void
positions(const char *pat, const char *text, char *out, size_t size)
{
	size_t pos[64], n, i, used = 0;

	out[0] = '\0';
	assert_true(fuzzy_match(pat, text, strlen(text), pos, 64, &n) != FUZZY_NONE);
	for (i = 0; i < n; i++)
		used += (size_t)snprintf(out + used, size - used, "%s%zu", i ? "," : "", pos[i]);
}

/* A match needs every character in order; an empty pattern matches all with 0. */
static void
test_subsequence(void **state)
{
	(void)state;
	assert_true(score("abc", "a_b_c") > 0);
	assert_int_equal(score("acb", "abc"), FUZZY_NONE);
	assert_int_equal(score("abcd", "abc"), FUZZY_NONE);
	assert_int_equal(score("", "anything"), 0);
	assert_int_equal(score("   ", "anything"), 0);
	assert_int_equal(score("x", ""), FUZZY_NONE);
}

/* The score adds up as the components say: matches, the start, word starts, runs, gaps. */
static void
test_scores(void **state)
{
	(void)state;
	/* a at the start, b right after it. */
	assert_int_equal(score("ab", "ab"), 2 * FUZZY_MATCH + FUZZY_START + FUZZY_CONSEC);
	/* b after a space starts a word, across a one-character gap. */
	assert_int_equal(score("ab", "a b"), 2 * FUZZY_MATCH + FUZZY_START - FUZZY_GAP_OPEN +
	    FUZZY_BOUNDARY);
	/* b in the middle of a word, across a gap of two. */
	assert_int_equal(score("ab", "axxb"), 2 * FUZZY_MATCH + FUZZY_START - FUZZY_GAP_OPEN -
	    FUZZY_GAP_EXTEND);
	/* A camelCase hump is a word start too. */
	assert_int_equal(score("fb", "fooBar"), 2 * FUZZY_MATCH + FUZZY_START - FUZZY_GAP_OPEN -
	    FUZZY_GAP_EXTEND + FUZZY_CAMEL);
	/* Word starts beat a match inside a word, a run beats scattered letters. */
	assert_true(score("fb", "foo bar") > score("fb", "fabric"));
	assert_true(score("par", "parse") > score("par", "p-a-r"));
	assert_true(score("par", "a parser") > score("par", "sparse"));
	/* Several terms: every one must match, in any order; the scores add up. */
	assert_int_equal(score("bar foo", "foo bar"), score("bar", "foo bar") +
	    score("foo", "foo bar"));
	assert_int_equal(score("foo baz", "foo bar"), FUZZY_NONE);
}

/* Smart case: a lower-case term ignores case, a term with a capital matches it; folding
 * goes beyond ASCII. */
static void
test_case(void **state)
{
	(void)state;
	assert_true(score("gpt", "GPT-4o") > 0);
	assert_int_equal(score("GPT", "gpt-4o"), FUZZY_NONE);
	assert_true(score("GPT", "GPT-4o") > 0);
	assert_true(score("élan", "Élan vital") > 0);
	assert_true(score("straße", "STRAßE") > 0);
}

/* The highlight is the best alignment, not the first one a greedy scan finds, in bytes. */
static void
test_highlights(void **state)
{
	char buf[256];

	(void)state;
	positions("gpt4", "openai/gpt-4o", buf, sizeof buf);
	assert_string_equal(buf, "7,8,9,11");
	/* Greedy would take the first a; the run "ab" at the word start scores more. */
	positions("ab", "a ab", buf, sizeof buf);
	assert_string_equal(buf, "2,3");
	/* Byte offsets of multi-byte characters. */
	positions("éb", "xé b", buf, sizeof buf);
	assert_string_equal(buf, "1,4");
	/* Two terms: both highlighted, in text order, each offset once. */
	positions("bar fo", "foo bar", buf, sizeof buf);
	assert_string_equal(buf, "0,1,4,5,6");
	positions("o o", "foo", buf, sizeof buf);
	assert_string_equal(buf, "1");
}

/* The order of a list: best score first, then the shorter text, then the earlier item. */
static void
test_list_order(void **state)
{
	const char *items[] = { "fabric", "football", "foo bar", "xyz", "foo bar" };
	struct fuzzy_list l;

	(void)state;
	fuzzy_list_init(&l, items, 5, 0);
	assert_int_equal(l.norder, 5);
	fuzzy_list_update(&l, "fb");
	assert_int_equal(l.norder, 4);
	assert_int_equal(l.order[0], 2);  /* foo bar: b starts a word */
	assert_int_equal(l.order[1], 4);  /* its twin, later */
	assert_int_equal(l.order[2], 0);  /* fabric: shorter gap than football */
	assert_int_equal(l.order[3], 1);
	assert_true(l.scores[0] >= l.scores[2] && l.scores[2] >= l.scores[3]);
	/* Ties on score go to the shorter text. */
	{
		const char *t[] = { "gpt-4o-mini", "gpt-4o" };

		fuzzy_list_free(&l);
		fuzzy_list_init(&l, t, 2, 0);
		fuzzy_list_update(&l, "gpt");
		assert_int_equal(l.order[0], 1);
		assert_int_equal(l.order[1], 0);
	}
	/* Emptying the pattern brings every item back in item order. */
	fuzzy_list_update(&l, "");
	assert_int_equal(l.norder, 2);
	assert_int_equal(l.order[0], 0);
	fuzzy_list_free(&l);
}

/* A list in table order (the help overlay) filters without reordering. */
static void
test_list_keep_order(void **state)
{
	const char *items[] = { "send the message", "quit natter", "scroll down", "select" };
	struct fuzzy_list l;

	(void)state;
	fuzzy_list_init(&l, items, 4, 1);
	fuzzy_list_update(&l, "s");
	assert_int_equal(l.norder, 3);
	assert_int_equal(l.order[0], 0);
	assert_int_equal(l.order[1], 2);
	assert_int_equal(l.order[2], 3);
	fuzzy_list_free(&l);
}

/* Typing a character at a time (which narrows the last result) and backspacing (which
 * does not) give what filtering from scratch gives. */
static void
test_list_narrowing(void **state)
{
	static const char *const words[] = { "alpha", "beta", "gamma", "delta", "epsilon" };
	char *texts[300];
	const char *pats[] = { "a", "al", "al ", "al p", "al ph", "al p", "al", "e", "el", "elT",
	    "elt", "" };
	struct fuzzy_list inc, fresh;
	size_t i, k;

	(void)state;
	for (i = 0; i < 300; i++) {
		char b[64];

		snprintf(b, sizeof b, "%s %s%zu %s", words[i % 5], words[(i / 5) % 5], i,
		    i % 7 ? "Telt" : "x");
		texts[i] = strdup(b);
	}
	fuzzy_list_init(&inc, (const char *const *)texts, 300, 0);
	for (k = 0; k < sizeof pats / sizeof pats[0]; k++) {
		fuzzy_list_update(&inc, pats[k]);
		fuzzy_list_init(&fresh, (const char *const *)texts, 300, 0);
		fuzzy_list_update(&fresh, pats[k]);
		assert_int_equal(inc.norder, fresh.norder);
		for (i = 0; i < inc.norder; i++) {
			assert_int_equal(inc.order[i], fresh.order[i]);
			assert_int_equal(inc.scores[i], fresh.scores[i]);
		}
		fuzzy_list_free(&fresh);
	}
	fuzzy_list_free(&inc);
	for (i = 0; i < 300; i++)
		free(texts[i]);
}

/* Two characters far apart still match: the gap's cost never makes a match a miss (its
 * score once came to -1, which is FUZZY_NONE, and a longer pattern then matched where
 * its prefix did not). */
static void
test_far_apart(void **state)
{
	char text[64];

	(void)state;
	memset(text, '.', sizeof text - 1);
	text[sizeof text - 1] = '\0';
	text[0] = 'R';
	text[40] = 'u';
	text[41] = 's';
	assert_true(score("ru", text) >= 0);
	assert_true(score("rus", text) >= 0);
	text[41] = '.';
	for (size_t at = 2; at < sizeof text - 1; at++) {
		memset(text + 1, '.', sizeof text - 2);
		text[at] = 'u';
		assert_true(score("ru", text) >= 0);
	}
}

/* What a list must hold for pat: every text fuzzy_score matches, best score first, then
 * the shorter text, then the earlier item (or in item order, as for a pattern of spaces
 * only); returns how many. */
static size_t
list_reference(char **texts, size_t n, const char *pat, int keep_order, size_t *order,
    int *scores)
{
	size_t i, j, k = 0;

	if (pat[strspn(pat, " ")] == '\0')
		keep_order = 1;
	for (i = 0; i < n; i++) {
		int sc = fuzzy_score(pat, texts[i], strlen(texts[i]));

		if (sc == FUZZY_NONE)
			continue;
		/* Insertion into place: the lists are short. */
		for (j = k; j > 0 && !keep_order; j--) {
			size_t o = order[j - 1];

			if (scores[j - 1] > sc || (scores[j - 1] == sc && strlen(texts[o]) <=
			    strlen(texts[i])))
				break;
			order[j] = order[j - 1];
			scores[j] = scores[j - 1];
		}
		order[j] = i;
		scores[j] = sc;
		k++;
	}
	return k;
}

/* A list typed into at random (characters added and erased, spaces, capitals, accents,
 * a character changed in the middle, the pattern cleared) holds after every key exactly
 * what scoring every text afresh gives, in the same order with the same scores, however
 * the levels it keeps came about; with keep_order too. */
static void
test_list_levels(void **state)
{
	static const char *const words[] = {"alpha", "Beta", "gamma", "délta", "epsilon",
	    "session", "Sessions", "about", "kalozo", "tamex", "zozone"};
	static const char alphabet[] = "aelmnopstzk SBD";
	char *texts[400], pat[80];
	size_t order[400], i, k, len = 0, nref;
	int scores[400], keep;
	unsigned seed = 99;
	struct fuzzy_list l;

	(void)state;
	for (i = 0; i < 400; i++) {
		char b[96];

		seed = seed * 1103515245u + 12345u;
		snprintf(b, sizeof b, "%s %zu %s %s", words[(seed >> 16) % 11], i,
		    words[(seed >> 8) % 11], i % 13 ? "" : "caf\xc3\xa9 \xff");
		texts[i] = strdup(b);
	}
	for (keep = 0; keep < 2; keep++) {
		fuzzy_list_init(&l, (const char *const *)texts, 400, keep);
		pat[0] = '\0';
		len = 0;
		for (k = 0; k < 600; k++) {
			unsigned r;

			seed = seed * 1103515245u + 12345u;
			r = (seed >> 16) % 100;
			if (r < 55 && len + 3 < sizeof pat) {
				pat[len++] = alphabet[(seed >> 4) % (sizeof alphabet - 1)];
			} else if (r < 60 && len + 3 < sizeof pat) {
				memcpy(pat + len, "\xc3\xa9", 2);   /* é, one byte at a time at times */
				len += (seed >> 3) % 2 ? 2 : 1;
			} else if (r < 90 && len > 0) {
				len--;
			} else if (r < 96 && len > 1) {
				pat[(seed >> 5) % len] = alphabet[(seed >> 9) % (sizeof alphabet - 1)];
			} else {
				len = 0;
			}
			pat[len] = '\0';
			fuzzy_list_update(&l, pat);
			nref = list_reference(texts, 400, pat, keep, order, scores);
			if (l.norder != nref)
				fail_msg("'%s': %zu items, afresh %zu", pat, l.norder, nref);
			for (i = 0; i < nref; i++) {
				if (l.order[i] != order[i])
					fail_msg("'%s' (keep %d): item %zu is %zu (%d), afresh %zu (%d)", pat, keep, i, l.order[i], l.scores[i], order[i], scores[i]);
				assert_int_equal(l.scores[i], scores[i]);
			}
		}
		fuzzy_list_free(&l);
	}
	for (i = 0; i < 400; i++)
		free(texts[i]);
}

/* Invalid UTF-8 and very long texts neither crash nor match past what is looked at. */
static void
test_robust(void **state)
{
	char *big = malloc(5000);
	size_t pos[8], n;

	(void)state;
	assert_true(score("a", "\xff\xfe" "a") > 0);
	assert_true(fuzzy_match("ab", "\xc3" "ab", 3, pos, 8, &n) > 0);
	assert_int_equal(n, 2);
	assert_int_equal(pos[0], 1);
	memset(big, 'x', 4999);
	big[4999] = '\0';
	big[10] = 'q';
	big[4990] = 'z';
	assert_true(score("q", big) > 0);
	assert_int_equal(score("z", big), FUZZY_NONE);
	free(big);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_subsequence),
		cmocka_unit_test(test_scores),
		cmocka_unit_test(test_case),
		cmocka_unit_test(test_highlights),
		cmocka_unit_test(test_list_order),
		cmocka_unit_test(test_list_keep_order),
		cmocka_unit_test(test_list_narrowing),
		cmocka_unit_test(test_far_apart),
		cmocka_unit_test(test_list_levels),
		cmocka_unit_test(test_robust),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
