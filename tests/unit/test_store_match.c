/*
 * Unit tests of the search's own reading of FTS5 queries (src/store-match.c), against FTS5
 * itself over an index made as the store makes it: for many queries made at random from
 * FTS5's grammar (words, prefixes of every length, phrases, +, ^, AND, OR, NOT,
 * parentheses, NEAR with and without a distance) and for typed oddities, every query the
 * matcher reads FTS5 reads too, the rows it matches are exactly FTS5's, each snippet is
 * byte for byte FTS5's snippet() (when nothing outside the matching part of the query
 * is in the row, which FTS5 counts or not as its iterators happen to lie), and the loosened query FTS5 is asked for candidates
 * finds every row the query does.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <sqlite3.h>

#include "buf.h"
#include "store-match.h"

#define ROWS 160

/* The index and its tokenizer. */
struct fixture {
	sqlite3 *db;
	struct store_match_tok tok;
};

/* Words with shared prefixes, stems, case, diacritics and digits. */
static const char *const words[] = {
	"top", "topic", "topics", "topical", "topaz", "Toppled", "tomato", "to", "t", "a",
	"running", "runs", "ran", "runner", "happy", "happiness", "happily", "café", "CAFE",
	"cafés", "naïve", "zebra", "zebras", "kalozo", "kalo", "kal", "k9", "42", "4242",
	"topic4242", "topic42", "x", "lorem", "ipsum", "dolor", "ipsums", "über", "uber",
};
static const char *const seps[] = {" ", " ", " ", ", ", ". ", ": ", " - ", "\n", "  "};

/* A deterministic pseudo-random number. */
static unsigned
rnd(unsigned *s)
{
	*s = *s * 1103515245u + 12345u;
	return (*s >> 16) & 0x7fff;
}

/* Make the index (the store's tokenizer and prefix indexes) and its rows. */
static int
setup(void **state)
{
	static const char *args[] = STORE_MATCH_TOKENIZER_ARGS;
	struct fixture *f = calloc(1, sizeof(*f));
	fts5_api *api = NULL;
	sqlite3_stmt *s;
	unsigned seed = 7;
	void *ud = NULL;
	int i, k, n;

	assert_int_equal(sqlite3_open(":memory:", &f->db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(f->db, "CREATE VIRTUAL TABLE t USING fts5(content,"
	    " prefix = '2 3', tokenize = 'porter unicode61 remove_diacritics 2')", NULL, NULL,
	    NULL), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(f->db, "INSERT INTO t (rowid, content)"
	    " VALUES (?1, ?2)", -1, &s, NULL), SQLITE_OK);
	for (i = 1; i <= ROWS; i++) {
		struct buf b = BUF_INIT;

		n = 1 + (int)(rnd(&seed) % (i % 9 == 0 ? 60 : 14));
		for (k = 0; k < n; k++) {
			if (k > 0)
				buf_puts(&b, seps[rnd(&seed) % (sizeof(seps) / sizeof(seps[0]))]);
			buf_puts(&b, words[rnd(&seed) % (sizeof(words) / sizeof(words[0]))]);
		}
		if (rnd(&seed) % 4 == 0)
			buf_putc(&b, '.');
		sqlite3_bind_int(s, 1, i);
		sqlite3_bind_text(s, 2, buf_str(&b), -1, SQLITE_TRANSIENT);
		assert_int_equal(sqlite3_step(s), SQLITE_DONE);
		sqlite3_reset(s);
		buf_free(&b);
	}
	sqlite3_finalize(s);
	assert_int_equal(sqlite3_prepare_v2(f->db, "SELECT fts5(?1)", -1, &s, NULL), SQLITE_OK);
	sqlite3_bind_pointer(s, 1, (void *)&api, "fts5_api_ptr", NULL);
	sqlite3_step(s);
	sqlite3_finalize(s);
	assert_non_null(api);
	assert_int_equal(api->xFindTokenizer(api, STORE_MATCH_TOKENIZER, &ud, &f->tok.api),
	    SQLITE_OK);
	assert_int_equal(f->tok.api.xCreate(ud, args, 3, &f->tok.inst), SQLITE_OK);
	*state = f;
	return 0;
}

/* Close the index. */
static int
teardown(void **state)
{
	struct fixture *f = *state;

	f->tok.api.xDelete(f->tok.inst);
	sqlite3_close(f->db);
	free(f);
	return 0;
}

/* FTS5's matching rows (rowid flags in hit[]) and, when snip is not NULL, their snippets
 * (all NULL when FTS5 fails to make them); -1 when FTS5 refuses q, else how many rows
 * match. Every row when q is NULL. */
static int
fts5_rows(struct fixture *f, const char *q, int *hit, char **snip)
{
	sqlite3_stmt *s;
	int n = 0, rc, i;

	for (i = 0; i <= ROWS; i++) {
		hit[i] = q == NULL && i > 0;
		if (snip != NULL)
			snip[i] = NULL;
	}
	if (q == NULL)
		return ROWS;
	if (sqlite3_prepare_v2(f->db, "SELECT rowid FROM t WHERE t MATCH ?1", -1, &s, NULL) !=
	    SQLITE_OK)
		return -1;
	sqlite3_bind_text(s, 1, q, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		hit[sqlite3_column_int(s, 0)] = 1;
		n++;
	}
	sqlite3_finalize(s);
	if (rc != SQLITE_DONE || snip == NULL)
		return rc == SQLITE_DONE ? n : -1;
	/* FTS5 3.40's snippet() can fail (SQLITE_CORRUPT) on a NEAR of a prefix phrase under
	 * NOT: such a query's snippets are not compared. */
	assert_int_equal(sqlite3_prepare_v2(f->db, "SELECT rowid, snippet(t, 0, '[', ']',"
	    " '\xe2\x80\xa6', 16) FROM t WHERE t MATCH ?1", -1, &s, NULL), SQLITE_OK);
	sqlite3_bind_text(s, 1, q, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		i = sqlite3_column_int(s, 0);
		snip[i] = strdup((const char *)sqlite3_column_text(s, 1));
	}
	sqlite3_finalize(s);
	if (rc != SQLITE_DONE)
		for (i = 0; i <= ROWS; i++) {
			free(snip[i]);
			snip[i] = NULL;
		}
	return n;
}

/*
 * Check one query: when the matcher reads it, FTS5 does too, and they agree on every
 * row and snippet; its loosened query (every costly prefix loosened) finds a superset.
 * Returns 1 when the matcher read it, 0 when it declined.
 */
static int
check_query(struct fixture *f, const char *q)
{
	static int hit[ROWS + 1], loose[ROWS + 1];
	static char *snip[ROWS + 1];
	struct store_match *m = NULL;
	sqlite3_stmt *s;
	struct buf src = BUF_INIT, mine = BUF_INIT;
	const char *term;
	size_t i, len;
	int rc = store_match_parse(&f->tok, q, &m), every, nf;

	assert_int_not_equal(rc, -1);
	if (rc == 1)
		return 0;
	nf = fts5_rows(f, q, hit, snip);
	if (nf < 0)
		fail_msg("the matcher reads '%s', FTS5 refuses it", q);
	assert_int_equal(sqlite3_prepare_v2(f->db, "SELECT rowid, content FROM t ORDER BY rowid",
	    -1, &s, NULL), SQLITE_OK);
	while (sqlite3_step(s) == SQLITE_ROW) {
		int id = sqlite3_column_int(s, 0);
		const char *text = (const char *)sqlite3_column_text(s, 1);
		int got = store_match_row(m, text, strlen(text));

		if (got != hit[id])
			fail_msg("'%s' on row %d \"%s\": matcher %d, FTS5 %d", q, id, text, got,
			    hit[id]);
		/* FTS5 counts a phrase outside what matches when its iterator rests on the row. */
		if (!got || store_match_stray(m) || snip[id] == NULL)
			continue;
		buf_reset(&mine);
		store_match_snippet(m, text, strlen(text), "[", "]", &mine);
		if (strcmp(buf_str(&mine), snip[id]) != 0)
			fail_msg("'%s' on row %d \"%s\": snippet\n  mine \"%s\"\n  FTS5 \"%s\"", q,
			    id, text, buf_str(&mine), snip[id]);
	}
	sqlite3_finalize(s);
	for (i = 0; i < store_match_phrases(m); i++)
		if (store_match_costly(m, i, &term, &len))
			store_match_loosen(m, i);
	every = store_match_source(m, &src);
	if (fts5_rows(f, every ? NULL : buf_str(&src), loose, NULL) < 0)
		fail_msg("'%s' loosened to '%s': FTS5 refuses it", q, buf_str(&src));
	for (i = 1; i <= ROWS; i++)
		if (hit[i] && !loose[i])
			fail_msg("'%s' loosened to '%s' misses row %zu", q, buf_str(&src), i);
	for (i = 0; i <= ROWS; i++)
		free(snip[i]);
	buf_free(&src);
	buf_free(&mine);
	store_match_free(m);
	return 1;
}

/* Append a random phrase: one to three strings joined by +, each a word or a quoted pair,
 * cut to a prefix at times. */
static void
gen_phrase(unsigned *seed, struct buf *b, int depth)
{
	int k, n = rnd(seed) % 6 == 0 ? 2 : 1;

	(void)depth;
	for (k = 0; k < n; k++) {
		const char *w = words[rnd(seed) % (sizeof(words) / sizeof(words[0]))];
		size_t len = strlen(w);

		if (k > 0)
			buf_puts(b, " + ");
		if (rnd(seed) % 4 == 0) {
			const char *w2 = words[rnd(seed) % (sizeof(words) / sizeof(words[0]))];

			buf_printf(b, "\"%s %s\"", w, w2);
		} else {
			if (rnd(seed) % 2 == 0 && len > 1)
				len = 1 + rnd(seed) % len;
			/* A bareword must be bareword characters: a word cut in the middle of a
			 * multibyte character is quoted instead. */
			buf_putc(b, '"');
			buf_append(b, w, len);
			buf_putc(b, '"');
		}
		if (rnd(seed) % 2 == 0)
			buf_putc(b, '*');
	}
}

/* Append a random expression of FTS5's grammar. */
static void
gen_expr(unsigned *seed, struct buf *b, int depth)
{
	static const char *const ops[] = {" AND ", " OR ", " NOT ", " "};
	int r = (int)(rnd(seed) % 10), k, n;

	if (depth > 3 || r < 4) {
		if (rnd(seed) % 8 == 0)
			buf_putc(b, '^');
		gen_phrase(seed, b, depth);
		return;
	}
	if (r < 6) {
		n = 2 + rnd(seed) % 2;
		buf_puts(b, "NEAR(");
		for (k = 0; k < n; k++) {
			if (k > 0)
				buf_putc(b, ' ');
			gen_phrase(seed, b, depth);
		}
		if (rnd(seed) % 2)
			buf_printf(b, ", %u", rnd(seed) % 6);
		buf_putc(b, ')');
		return;
	}
	if (r < 7) {
		buf_putc(b, '(');
		gen_expr(seed, b, depth + 1);
		buf_putc(b, ')');
		return;
	}
	gen_expr(seed, b, depth + 1);
	k = (int)(rnd(seed) % 4);
	buf_puts(b, ops[k]);
	if (k == 3) {
		/* Side by side takes phrases only, never a parenthesised group. */
		gen_phrase(seed, b, depth);
		return;
	}
	if (rnd(seed) % 3 == 0) {
		buf_putc(b, '(');
		gen_expr(seed, b, depth + 1);
		buf_putc(b, ')');
	} else {
		gen_expr(seed, b, depth + 1);
	}
}

/* Thousands of queries of the grammar: the matcher reads nearly all and agrees on all. */
static void
test_random_queries(void **state)
{
	struct fixture *f = *state;
	unsigned seed = 12345;
	int i, read = 0, total = 3000;

	for (i = 0; i < total; i++) {
		struct buf q = BUF_INIT;

		gen_expr(&seed, &q, 0);
		read += check_query(f, buf_str(&q));
		buf_free(&q);
	}
	/* Only what FTS5 itself refuses (a group beside a phrase, say) is declined. */
	assert_true(read > total * 8 / 10);
}

/* Typed queries: precedence, the operators, prefixes of each length, stems, diacritics. */
static void
test_queries(void **state)
{
	static const char *const read[] = {
		"top", "top*", "t*", "to*", "topi*", "topic*", "topic4*", "topic4242*", "k*",
		"kalo*", "\"kal\"*", "happy", "happi*", "happ*", "running", "run*", "runn*",
		"cafe", "café*", "CAFE", "über*", "ub*", "a OR b c", "zebra topic OR lorem",
		"zebra AND topic OR lorem", "zebra OR topic AND lorem", "zebra NOT topic lorem",
		"zebra NOT topic AND lorem", "zebra NOT topic OR lorem", "zebra OR topic NOT lorem",
		"zebra NOT topic NOT lorem", "zebra NOT (topic NOT lorem)", "(zebra OR topic) AND ipsum",
		"NEAR(zebra topic)", "NEAR(zebra topic, 0)", "NEAR(zebra topi* kal*, 3)",
		"NEAR(\"lorem ipsum\" top*, 2)", "zebra + topic", "\"zebra topic\"*", "^top*",
		"^\"topic zebra\"", "lorem ^ipsum", "\"topi\" * kalo",
		"lorem* OR t*", "x*", "4*", "42*", "k9*", "topic4242 lorem", "NEAR", "near lorem",
		"NEAR (lorem ipsum)", "lorem  \t\n ipsum", "\"\"\"zebra\"",
	};
	static const char *const declined[] = {
		"content: zebra", "{content}: zebra", "-content: zebra", "\"\"", "\"...\" zebra",
		"(zebra) topic", "zebra (topic)", "zebra AND", "OR zebra", "NOT zebra", "near(a b)",
		"NEAR(^a b)", "\"NEAR\"(a b)", "zebra)", "(zebra", "\"zebra", "c++", "what's",
		"NEAR(a b, x)", "a:b", "*a", "a + + b", "topi* AND NOT",
	};
	struct fixture *f = *state;
	size_t i;

	for (i = 0; i < sizeof(read) / sizeof(read[0]); i++)
		if (!check_query(f, read[i]))
			fail_msg("the matcher declines '%s'", read[i]);
	for (i = 0; i < sizeof(declined) / sizeof(declined[0]); i++) {
		struct store_match *m = NULL;

		if (store_match_parse(&f->tok, declined[i], &m) != 1)
			fail_msg("the matcher reads '%s'", declined[i]);
	}
}

/* A costly prefix is loosened to the 3-character prefix index (or 2, or left out), and
 * the loosened query is what FTS5 answers from its prefix indexes. */
static void
test_loosen(void **state)
{
	static const struct {
		const char *q, *src;
		int every;
	} cases[] = {
		{"topic*", "\"top\"*", 0},
		{"t*", "", 1},
		/* "ips" is the index's "ip" (a plural to porter): the 2-character prefix. */
		{"\"lorem ipsu\"*", "\"lorem \" + \"ip\"*", 0},
		{"zebra t*", "\"zebra\"", 0},
		{"zebra OR t*", "", 1},
		{"zebra NOT topic*", "\"zebra\"", 0},
		{"NEAR(zebra topic*, 2)", "(\"zebra\") AND (\"top\"*)", 0},
		{"^topic* zebra", "(^\"top\"*) AND (\"zebra\")", 0},
		{"topic* + zebra", "\"top\"*", 0},
	};
	struct fixture *f = *state;
	struct buf src = BUF_INIT;
	const char *term;
	size_t i, k, len;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct store_match *m = NULL;

		assert_int_equal(store_match_parse(&f->tok, cases[i].q, &m), 0);
		assert_int_equal(store_match_loose(m), 0);
		assert_int_equal(store_match_source(m, &src), 0);
		assert_string_equal(buf_str(&src), cases[i].q);
		for (k = 0; k < store_match_phrases(m); k++)
			if (store_match_costly(m, k, &term, &len))
				store_match_loosen(m, k);
		assert_int_equal(store_match_source(m, &src), cases[i].every);
		assert_string_equal(buf_str(&src), cases[i].src);
		store_match_free(m);
		check_query(f, cases[i].q);
	}
	buf_free(&src);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_queries),
		cmocka_unit_test(test_loosen),
		cmocka_unit_test(test_random_queries),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
