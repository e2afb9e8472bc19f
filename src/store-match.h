/*
 * The search's own reading of a query (store-match.c), for store-search.c: FTS5's query
 * syntax parsed into phrases and the AND, OR, NOT and NEAR between them, with the terms
 * cut by the index's own tokenizer, so that a row's text can be checked against the query
 * exactly as FTS5 would match it, its snippet made as FTS5's snippet() makes it, and its
 * phrase counts taken for ranking. That lets a search ask FTS5 for a looser query that
 * its prefix indexes answer cheaply (a prefix shortened to three characters, or dropped)
 * and keep only the rows that match the real one. Nothing outside src/store*.c and the
 * unit tests includes this.
 */
#ifndef NATTER_STORE_MATCH_H
#define NATTER_STORE_MATCH_H

#include <stddef.h>
#include <sqlite3.h>

#include "buf.h"

/* The tokenizer the index was made with, as FTS5 hands it out. */
struct store_match_tok {
	fts5_tokenizer api;
	Fts5Tokenizer *inst;
};

/* The arguments of that tokenizer: the table's tokenize option (store-schema.c). */
#define STORE_MATCH_TOKENIZER "porter"
#define STORE_MATCH_TOKENIZER_ARGS { "unicode61", "remove_diacritics", "2" }

/* The snippet's shape: as many tokens as store.c's snippet() calls ask for. */
#define STORE_MATCH_SNIPPET_TOKENS 16
#define STORE_MATCH_ELLIPSIS "\xe2\x80\xa6"

struct store_match;

/* Parse query with tok: 0 and *out; 1 when the query holds what this reading leaves to
 * FTS5 (a column filter, an empty phrase, a syntax it does not accept: FTS5 then answers
 * it alone, errors included); -1 when the tokenizer fails. */
int store_match_parse(const struct store_match_tok *tok, const char *query,
    struct store_match **out);
void store_match_free(struct store_match *m);

/* How many phrases the query has (FTS5 numbers them the same way, left to right). */
size_t store_match_phrases(const struct store_match *m);
/* Does FTS5 answer the query by reading the positions of every row that holds its words
 * (phrases of two terms or more, NEAR), so that a query with few hits costs a walk of
 * them all? */
int store_match_walks(const struct store_match *m);
/* When phrase i holds a prefix that FTS5 has no prefix index for (of 1 character or of
 * more than 3), the first such term's bytes as the index holds them, and 1; else 0. */
int store_match_costly(const struct store_match *m, size_t i, const char **term,
    size_t *len);
/* Have FTS5 look for a looser phrase i (its terms up to that prefix, the prefix cut to 3
 * or 2 characters, or left out), the rows then checked here. */
void store_match_loosen(struct store_match *m, size_t i);
/* The MATCH expression FTS5 is to find candidates with, into out: the query itself when
 * nothing was loosened; returns 1 when every row is a candidate (nothing to ask FTS5),
 * else 0. */
int store_match_source(const struct store_match *m, struct buf *out);
/* Was any phrase loosened (so that the candidates need checking)? */
int store_match_loose(const struct store_match *m);

/* Check a row's text against the query: 1 when it matches (the row's instances kept for
 * the calls below until the next row), 0 when not, -1 when the tokenizer fails. */
int store_match_row(struct store_match *m, const char *text, size_t len);
/* The last matching row's snippet (FTS5's snippet() of STORE_MATCH_SNIPPET_TOKENS tokens
 * with the marks given), appended to out. */
void store_match_snippet(const struct store_match *m, const char *text, size_t len,
    const char *open, const char *close, struct buf *out);
/* Does the last matching row hold a phrase outside the parts of the query that match it
 * (a NOT's right side, an OR's branch that fails)? Those count for nothing here, while
 * FTS5 counts them when its iterator for the phrase happens to rest on the row. */
int store_match_stray(const struct store_match *m);
/* The last matching row's length in tokens, and in freq[phrase] (store_match_phrases of
 * them) how many times each phrase counts there. */
size_t store_match_counts(const struct store_match *m, double *freq);

#endif
