/*
 * libFuzzer target for the search's own reading of FTS5 queries (src/store-match.c), which
 * takes whatever is typed into natter sessions search and the session list's field. The
 * input is a query. Whatever it is: the matcher never crashes; when it reads the query,
 * FTS5 reads it too, and over a small index made as the store makes it the two match the
 * same rows, the snippets are FTS5's own (where FTS5 counts only what matches), and the
 * loosened query (every costly prefix loosened) finds every row the query does.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "buf.h"
#include "store-match.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_ROWS 40
#define FUZZ_MAX_QUERY 400

static sqlite3 *fuzz_db;
static struct store_match_tok fuzz_tok;

/* Make the index once. */
static void
fuzz_init(void)
{
	static const char *const words[] = {"top", "topic", "topics", "Topaz", "to", "t", "a",
	    "running", "runs", "happy", "happily", "café", "CAFE", "naïve", "zebra", "kalo",
	    "k9", "42", "topic42", "lorem", "ipsum", "über"};
	static const char *const seps[] = {" ", ", ", ". ", ": ", "\n"};
	static const char *args[] = STORE_MATCH_TOKENIZER_ARGS;
	fts5_api *api = NULL;
	sqlite3_stmt *s;
	unsigned seed = 3;
	void *ud = NULL;
	int i, k, n;

	if (sqlite3_open(":memory:", &fuzz_db) != SQLITE_OK ||
	    sqlite3_exec(fuzz_db, "CREATE VIRTUAL TABLE t USING fts5(content, prefix = '2 3',"
	    " tokenize = 'porter unicode61 remove_diacritics 2')", NULL, NULL, NULL) !=
	    SQLITE_OK ||
	    sqlite3_prepare_v2(fuzz_db, "INSERT INTO t (rowid, content) VALUES (?1, ?2)", -1, &s,
	    NULL) != SQLITE_OK)
		abort();
	for (i = 1; i <= FUZZ_ROWS; i++) {
		struct buf b = BUF_INIT;

		seed = seed * 1103515245u + 12345u;
		n = 1 + (int)((seed >> 16) % 12);
		for (k = 0; k < n; k++) {
			seed = seed * 1103515245u + 12345u;
			if (k > 0)
				buf_puts(&b, seps[(seed >> 8) % 5]);
			buf_puts(&b, words[(seed >> 16) % (sizeof(words) / sizeof(words[0]))]);
		}
		sqlite3_bind_int(s, 1, i);
		sqlite3_bind_text(s, 2, buf_str(&b), -1, SQLITE_TRANSIENT);
		if (sqlite3_step(s) != SQLITE_DONE)
			abort();
		sqlite3_reset(s);
		buf_free(&b);
	}
	sqlite3_finalize(s);
	if (sqlite3_prepare_v2(fuzz_db, "SELECT fts5(?1)", -1, &s, NULL) != SQLITE_OK)
		abort();
	sqlite3_bind_pointer(s, 1, (void *)&api, "fts5_api_ptr", NULL);
	sqlite3_step(s);
	sqlite3_finalize(s);
	if (api == NULL || api->xFindTokenizer(api, STORE_MATCH_TOKENIZER, &ud,
	    &fuzz_tok.api) != SQLITE_OK || fuzz_tok.api.xCreate(ud, args, 3, &fuzz_tok.inst) !=
	    SQLITE_OK)
		abort();
}

/* FTS5's rows for q (NULL: all) into hit[], and their snippets when snip is given (left
 * NULL when FTS5 fails to make them); -1 when FTS5 refuses q. */
static int
fuzz_fts5(const char *q, int *hit, char **snip)
{
	sqlite3_stmt *s;
	int rc, i;

	for (i = 0; i <= FUZZ_ROWS; i++)
		hit[i] = q == NULL && i > 0;
	if (q == NULL)
		return 0;
	if (sqlite3_prepare_v2(fuzz_db, "SELECT rowid FROM t WHERE t MATCH ?1", -1, &s, NULL) !=
	    SQLITE_OK)
		abort();
	sqlite3_bind_text(s, 1, q, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW)
		hit[sqlite3_column_int(s, 0)] = 1;
	sqlite3_finalize(s);
	if (rc != SQLITE_DONE)
		return -1;
	if (snip == NULL)
		return 0;
	if (sqlite3_prepare_v2(fuzz_db, "SELECT rowid, snippet(t, 0, '[', ']', '\xe2\x80\xa6', 16)"
	    " FROM t WHERE t MATCH ?1", -1, &s, NULL) != SQLITE_OK)
		abort();
	sqlite3_bind_text(s, 1, q, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		i = sqlite3_column_int(s, 0);
		snip[i] = strdup((const char *)sqlite3_column_text(s, 1));
	}
	sqlite3_finalize(s);
	if (rc != SQLITE_DONE)
		for (i = 0; i <= FUZZ_ROWS; i++) {
			free(snip[i]);
			snip[i] = NULL;
		}
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int hit[FUZZ_ROWS + 1], loose[FUZZ_ROWS + 1], got, id;
	char *snip[FUZZ_ROWS + 1] = {0}, *q;
	struct store_match *m = NULL;
	struct buf src = BUF_INIT, mine = BUF_INIT;
	const char *term;
	sqlite3_stmt *s;
	size_t i, len;

	if (fuzz_db == NULL)
		fuzz_init();
	if (size > FUZZ_MAX_QUERY)
		size = FUZZ_MAX_QUERY;
	q = malloc(size + 1);
	memcpy(q, data, size);
	q[size] = '\0';
	if (store_match_parse(&fuzz_tok, q, &m) != 0) {
		free(q);
		return 0;
	}
	if (fuzz_fts5(q, hit, snip) != 0)
		abort();
	if (sqlite3_prepare_v2(fuzz_db, "SELECT rowid, content FROM t", -1, &s, NULL) !=
	    SQLITE_OK)
		abort();
	while (sqlite3_step(s) == SQLITE_ROW) {
		const char *text = (const char *)sqlite3_column_text(s, 1);

		id = sqlite3_column_int(s, 0);
		got = store_match_row(m, text, strlen(text));
		if (got != hit[id])
			abort();
		if (!got || store_match_stray(m) || snip[id] == NULL)
			continue;
		buf_reset(&mine);
		store_match_snippet(m, text, strlen(text), "[", "]", &mine);
		if (strcmp(buf_str(&mine), snip[id]) != 0)
			abort();
	}
	sqlite3_finalize(s);
	for (i = 0; i < store_match_phrases(m); i++)
		if (store_match_costly(m, i, &term, &len))
			store_match_loosen(m, i);
	if (fuzz_fts5(store_match_source(m, &src) ? NULL : buf_str(&src), loose, NULL) != 0)
		abort();
	for (i = 1; i <= FUZZ_ROWS; i++)
		if (hit[i] && !loose[i])
			abort();
	for (i = 0; i <= FUZZ_ROWS; i++)
		free(snip[i]);
	buf_free(&src);
	buf_free(&mine);
	store_match_free(m);
	free(q);
	return 0;
}
