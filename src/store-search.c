/*
 * Search over the stored messages (store.h's store_search*). Every search is one walk of
 * candidate parts newest first from a rowid down (keyset paging: a next page starts below
 * the last hit), run by store_search_collect a piece at a time when asked to (the
 * interface's session list) and to its end otherwise. The query is read by store-match.c
 * as FTS5 reads it; a prefix FTS5 has no index for (one character, or more than three),
 * which it would answer by merging the doclist of every word it covers, is first measured
 * in the index's vocabulary (a bounded count), and when it covers much of the index it is
 * loosened to its first three or two characters (or left out) and each candidate is read
 * against the real query, so that the first page costs the same for `k*`, `topi*` or
 * `lorem`; when checking candidates turns up too few hits (the hits are rare among them),
 * the walk goes on with the query itself from there. Each hit's snippet is made the way
 * FTS5 makes it. A ranked search ranks the newest STORE_SEARCH_WINDOW hits by BM25 with
 * the phrases' frequencies taken from those hits, so its cost is bounded too; the count
 * of all hits is a separate walk a caller runs after showing a page. A phrase or NEAR with
 * few hits, which FTS5 can only answer by reading every row holding its words, has its walk
 * split in two halves run at once (see "Splitting a walk" below). A query FTS5 refuses
 * is tried again as one phrase; one the matcher does not read is left to FTS5 whole.
 */
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "store-internal.h"
#include "store-match.h"
#include "store-schema.h"
#include "xmalloc.h"

/* How many of the newest hits a ranked page ranks. */
#define STORE_SEARCH_WINDOW 2000
/* A prefix covering at least this many word instances is loosened (counting stops here). */
#define STORE_SEARCH_DENSE 10000
/* Candidates checked against a loosened query before the walk goes on with the query. */
#define STORE_SEARCH_CHECKS 4000
/* A walk over at least this many messages is split in two when its samples find no hit. */
#define STORE_SEARCH_SPLIT 65536
/* Rows read (spread evenly) to tell whether a query's hits are rare. */
#define STORE_SEARCH_SAMPLES 256
/* Hits the upper half of a split may hold before the split gives way to the plain walk. */
#define STORE_SEARCH_FLOOD 50000

/* What the search keeps for a connection. */
struct store_search_conn {
	struct store_match_tok tok;
	int tok_state;       /* 0: not looked up, 1: ready, -1: unavailable */
	int vocab;           /* the temporary vocabulary table exists */
	long dense, checks;  /* STORE_SEARCH_DENSE and _CHECKS unless tuned */
	long split;          /* STORE_SEARCH_SPLIT unless tuned */
	int split_force;     /* split whatever the samples find (tests) */
	long splits;         /* walks split */
	sqlite3 *peer;       /* a second, read-only connection for a split's upper half */
	int peer_state;      /* 0: not opened, 1: open, -1: unavailable */
};

enum { SEARCH_NEWEST, SEARCH_RANK, SEARCH_COUNT };

/* A part that matched: its message, and what the page needs of it. */
struct store_search_hit {
	int64_t part;
	int64_t id;
	int user;            /* a user's message (ranks first) */
	char *snippet;
	double score;        /* FTS5's bm25, or ours once the window is complete */
	size_t len;          /* tokens */
	double *freq;        /* per phrase (ranked) */
};

struct store_searching {
	int kind;
	size_t limit;        /* hits wanted; 0: every one */
	char *query;
	int planned;
	struct store_match *m;  /* NULL: FTS5 alone */
	struct buf source;   /* the candidates' MATCH expression */
	int every;           /* every part is a candidate */
	int check;           /* candidates are checked against the query */
	int whole;           /* the walk goes on with a costly query: not to be paused (each
	                      * start again would merge its prefixes again) */
	int64_t cursor;      /* candidates below this rowid */
	int split_tried;     /* store_search_split has been asked */
	size_t checked;
	int done;
	struct store_search_hit *hits;
	size_t nhits, cap;
	size_t messages;     /* distinct messages among the hits */
	long count;
};

/* Monotonic microseconds. */
static int64_t
store_search_now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (int64_t)t.tv_sec * 1000000 + t.tv_nsec / 1000;
}

/* The connection's search state, made on first use. */
static struct store_search_conn *
store_search_conn(struct store *st)
{
	if (st->search == NULL)
		st->search = xcalloc(1, sizeof(*st->search));
	return st->search;
}

/* Set the thresholds (0: the defaults): a prefix covering dense word instances is
 * loosened; checks candidates are checked before the walk goes on with the query. */
void
store_search_tune(struct store *st, long dense, long checks)
{
	struct store_search_conn *c = store_search_conn(st);

	c->dense = dense;
	c->checks = checks;
}

/* Set when a walk is split: over min_ids messages or more (0: the default); always when
 * force. */
void
store_search_tune_split(struct store *st, long min_ids, int force)
{
	struct store_search_conn *c = store_search_conn(st);

	c->split = min_ids;
	c->split_force = force != 0;
}

/* How many walks have been split. */
long
store_search_splits(struct store *st)
{
	return store_search_conn(st)->splits;
}

/* Release what the search keeps for the connection. */
void
store_search_close(struct store *st)
{
	struct store_search_conn *c = st->search;

	if (c == NULL)
		return;
	if (c->peer != NULL)
		sqlite3_close(c->peer);
	if (c->tok_state == 1)
		c->tok.api.xDelete(c->tok.inst);
	free(c);
	st->search = NULL;
}

/* The index's tokenizer from FTS5, or NULL when it cannot be had. */
static const struct store_match_tok *
store_search_tokenizer(struct store *st)
{
	static const char *args[] = STORE_MATCH_TOKENIZER_ARGS;
	struct store_search_conn *c = store_search_conn(st);
	fts5_api *api = NULL;
	sqlite3_stmt *s;
	void *ud = NULL;

	if (c->tok_state != 0)
		return c->tok_state == 1 ? &c->tok : NULL;
	c->tok_state = -1;
	if (sqlite3_prepare_v2(st->db, "SELECT fts5(?1)", -1, &s, NULL) != SQLITE_OK)
		return NULL;
	sqlite3_bind_pointer(s, 1, (void *)&api, "fts5_api_ptr", NULL);
	sqlite3_step(s);
	sqlite3_finalize(s);
	if (api == NULL || api->iVersion < 2 ||
	    api->xFindTokenizer(api, STORE_MATCH_TOKENIZER, &ud, &c->tok.api) != SQLITE_OK ||
	    c->tok.api.xCreate(ud, args, (int)(sizeof(args) / sizeof(args[0])),
	    &c->tok.inst) != SQLITE_OK)
		return NULL;
	c->tok_state = 1;
	return &c->tok;
}

/* How many word instances of the index start with the len bytes of term, counted up to
 * cap (the walk stops there); -1 on failure. */
static long
store_search_instances(struct store *st, const char *term, size_t len, long cap)
{
	struct store_search_conn *c = store_search_conn(st);
	sqlite3_stmt *s;
	long n = 0;
	int rc;

	if (!c->vocab) {
		if (sqlite3_exec(st->db, "CREATE VIRTUAL TABLE IF NOT EXISTS temp.natter_fts_terms"
		    " USING fts5vocab(main, 'messages_fts', 'instance')", NULL, NULL, NULL) !=
		    SQLITE_OK)
			return -1;
		c->vocab = 1;
	}
	if ((s = store_stmt(st, SQL_SEARCH_TERMS)) == NULL)
		return -1;
	sqlite3_bind_text(s, 1, term, (int)len, SQLITE_STATIC);
	while (n < cap && (rc = sqlite3_step(s)) == SQLITE_ROW) {
		const void *t = sqlite3_column_blob(s, 0);

		if ((size_t)sqlite3_column_bytes(s, 0) < len || memcmp(t, term, len) != 0)
			break;
		n++;
	}
	sqlite3_reset(s);
	return n;
}

/* Plan the walk: read the query, loosen the prefixes that cover much of the index, and
 * write the candidates' MATCH expression. */
static int
store_search_plan(struct store *st, struct store_searching *s)
{
	const struct store_match_tok *tok = store_search_tokenizer(st);
	long dense = st->search->dense > 0 ? st->search->dense : STORE_SEARCH_DENSE;
	const char *term;
	size_t i, len;
	int rc;

	s->planned = 1;
	s->m = NULL;
	buf_reset(&s->source);
	if (tok == NULL || (rc = store_match_parse(tok, s->query, &s->m)) == 1) {
		buf_puts(&s->source, s->query);
		return 0;
	}
	if (rc != 0) {
		snprintf(st->err, sizeof(st->err), "searching: the tokenizer failed");
		return -1;
	}
	if (s->kind != SEARCH_COUNT)
		for (i = 0; i < store_match_phrases(s->m); i++)
			if (store_match_costly(s->m, i, &term, &len) &&
			    store_search_instances(st, term, len, dense) >= dense)
				store_match_loosen(s->m, i);
	s->every = store_match_source(s->m, &s->source);
	s->check = store_match_loose(s->m);
	return 0;
}

/* Keep a hit (the row just read when m checked it). */
static struct store_search_hit *
store_search_keep(struct store_searching *s, int64_t part, int user)
{
	struct store_search_hit *h;

	if (s->nhits == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 32;
		s->hits = xrealloc(s->hits, s->cap * sizeof(*s->hits));
	}
	h = &s->hits[s->nhits++];
	memset(h, 0, sizeof(*h));
	h->part = part;
	h->id = part / STORE_PARTS;
	h->user = user;
	return h;
}

/* One candidate part, newest first: keep it when it is a hit. Returns 1 when the search
 * has what it needs, 0 to go on, -1 on failure. */
static int
store_search_candidate(struct store_searching *s, sqlite3_stmt *q, int64_t part)
{
	const char *text = (const char *)sqlite3_column_text(q, 1);
	size_t len = (size_t)sqlite3_column_bytes(q, 1), np;
	const char *role = (const char *)sqlite3_column_text(q, 2);
	int64_t id = part / STORE_PARTS;
	int same = s->nhits > 0 && s->hits[s->nhits - 1].id == id, rc;
	struct store_search_hit *h;
	struct buf b = BUF_INIT;

	if (text == NULL)
		text = "";
	/* Newest first, a message's first matching part is the one shown. */
	if (s->kind == SEARCH_NEWEST && same)
		return 0;
	if (s->m != NULL) {
		if (s->check)
			s->checked++;
		if ((rc = store_match_row(s->m, text, len)) <= 0)
			return rc;
	}
	/* A ranked window is full at a message boundary (its parts stay together). */
	if (s->kind == SEARCH_RANK && s->limit > 0 && !same &&
	    s->messages >= STORE_SEARCH_WINDOW)
		return 1;
	h = store_search_keep(s, part, role != NULL && strcmp(role, "user") == 0);
	if (!same)
		s->messages++;
	if (s->m == NULL) {
		const char *snip = (const char *)sqlite3_column_text(q, 3);

		h->snippet = xstrdup(snip != NULL ? snip : "");
		h->score = sqlite3_column_double(q, 4);
	} else if (s->kind == SEARCH_NEWEST) {
		store_match_snippet(s->m, text, len, STORE_MATCH_OPEN, STORE_MATCH_CLOSE, &b);
		h->snippet = buf_detach(&b);
		if (h->snippet == NULL)
			h->snippet = xstrdup("");
	} else {
		np = store_match_phrases(s->m);
		h->freq = xcalloc(np ? np : 1, sizeof(*h->freq));
		h->len = store_match_counts(s->m, h->freq);
	}
	return s->kind == SEARCH_NEWEST && s->limit > 0 && s->messages >= s->limit;
}

/* Count the messages one MATCH expression finds (their parts are adjacent in rowid order). */
static int
store_search_count_run(struct store *st, const char *match, long *count)
{
	sqlite3_stmt *s = store_stmt(st, SQL_SEARCH_COUNT);
	int64_t last = -1, id;
	long k = 0;
	int rc;

	if (s == NULL)
		return -1;
	sqlite3_bind_text(s, 1, match, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		id = sqlite3_column_int64(s, 0) / STORE_PARTS;
		if (id != last)
			k++;
		last = id;
	}
	sqlite3_reset(s);
	if (rc != SQLITE_DONE) {
		store_fail(st, "searching");
		return -1;
	}
	*count = k;
	return 0;
}

/* Say why a walk failed (the tokenizer, or SQLite): -1. */
static int
store_search_failed(struct store *st, int tokenizer)
{
	if (tokenizer)
		snprintf(st->err, sizeof(st->err), "searching: the tokenizer failed");
	else
		store_fail(st, "searching");
	return -1;
}

/*
 * Splitting a walk. A phrase, NEAR or NOT makes FTS5 read every row that holds the query's
 * words, and FTS5 tests a rowid bound only at a hit: a query with few hits costs a walk of
 * all those rows in one step that cannot be cut short, whatever the bound. Two walks that
 * end at an end of the index are bounded, though: the lower half newest first from the
 * middle down, and the upper half oldest first from the middle up, which ends at the
 * first hit at or above the cursor (the last page's last hit) or at the newest row. When
 * rows sampled over the range hold no hit, the hits are rare, so the upper half holds few
 * of them; the two halves then run at once, the upper one in a thread on a second,
 * read-only connection, and their hits, newest first, are read as the walk's candidates.
 * Samples can miss a dense stretch: too many hits in the upper half and the split gives
 * way to the plain walk.
 */

/* The upper half of a split: its hits oldest first, below its bound. */
struct store_search_half {
	sqlite3 *db;
	const char *match;
	int64_t from, below;
	int64_t *parts;
	size_t n, cap;
	int flood;           /* more than STORE_SEARCH_FLOOD hits */
	int rc;
};

/* The peer connection, opened on first use; NULL when it cannot be had. */
static sqlite3 *
store_search_peer(struct store *st)
{
	struct store_search_conn *c = store_search_conn(st);

	if (c->peer_state == 0) {
		c->peer_state = -1;
		if (sqlite3_open_v2(st->path, &c->peer, SQLITE_OPEN_READONLY |
		    SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_URI, NULL) == SQLITE_OK) {
			/* It reads doclists once through: a small cache keeps the interface's
			 * memory where it was. */
			sqlite3_busy_timeout(c->peer, 2000);
			sqlite3_exec(c->peer, "PRAGMA cache_size = -256", NULL, NULL, NULL);
			c->peer_state = 1;
		} else {
			sqlite3_close(c->peer);
			c->peer = NULL;
		}
	}
	return c->peer;
}

/* Walk the upper half of a split (in a thread of its own, on the peer connection). */
static void *
store_search_upper(void *arg)
{
	static const char sql[] = "SELECT rowid FROM messages_fts WHERE messages_fts MATCH ?1"
	    " AND rowid >= ?2 ORDER BY rowid";
	struct store_search_half *h = arg;
	sqlite3_stmt *q;
	int64_t part;
	int rc;

	h->rc = -1;
	if (sqlite3_prepare_v2(h->db, sql, -1, &q, NULL) != SQLITE_OK)
		return NULL;
	sqlite3_bind_text(q, 1, h->match, -1, SQLITE_STATIC);
	sqlite3_bind_int64(q, 2, h->from);
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		if ((part = sqlite3_column_int64(q, 0)) >= h->below)
			break;
		if (h->n == STORE_SEARCH_FLOOD) {
			h->flood = 1;
			break;
		}
		if (h->n == h->cap) {
			h->cap = h->cap ? h->cap * 2 : 256;
			h->parts = xrealloc(h->parts, h->cap * sizeof(*h->parts));
		}
		h->parts[h->n++] = part;
	}
	sqlite3_finalize(q);
	h->rc = rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : -1;
	return NULL;
}

/* Does one of STORE_SEARCH_SAMPLES rows spread evenly over the rowids [lo, hi) match the
 * query (1), or none (0); -1 on failure. */
static int
store_search_sample(struct store *st, struct store_searching *s, int64_t lo, int64_t hi)
{
	sqlite3_stmt *q = store_stmt(st, SQL_SEARCH_AFTER);
	int64_t step = (hi - lo) / STORE_SEARCH_SAMPLES;
	int k, hits = 0, rc, r = 0;

	if (q == NULL)
		return -1;
	for (k = 0; k < STORE_SEARCH_SAMPLES && r == 0; k++) {
		sqlite3_bind_int64(q, 1, lo + step * k + step / 2);
		if ((rc = sqlite3_step(q)) == SQLITE_ROW && sqlite3_column_int64(q, 0) < hi) {
			const char *text = (const char *)sqlite3_column_text(q, 1);

			r = store_match_row(s->m, text != NULL ? text : "",
			    (size_t)sqlite3_column_bytes(q, 1));
			hits = r > 0;
		}
		sqlite3_reset(q);
		if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
			store_fail(st, "searching");
			return -1;
		}
	}
	if (r < 0)
		snprintf(st->err, sizeof(st->err), "searching: the tokenizer failed");
	return r < 0 ? -1 : hits;
}

/* The lower half of a split, on the store's own connection: its hits newest first below
 * mid, up to need messages (0: all); *eof says whether it reached the oldest row. */
static int
store_search_lower(struct store *st, struct store_searching *s, int64_t mid, size_t need,
    int64_t **parts, size_t *n, int *eof)
{
	sqlite3_stmt *q = store_stmt(st, SQL_SEARCH_BELOW);
	int64_t last = -1, part;
	size_t distinct = 0, cap = 0;
	int rc;

	*parts = NULL;
	*n = 0;
	if (q == NULL)
		return -1;
	sqlite3_bind_text(q, 1, buf_str(&s->source), -1, SQLITE_STATIC);
	sqlite3_bind_int64(q, 2, mid);
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		part = sqlite3_column_int64(q, 0);
		if (part / STORE_PARTS != last) {
			if (need > 0 && distinct == need)
				break;
			distinct++;
			last = part / STORE_PARTS;
		}
		if (*n == cap) {
			cap = cap ? cap * 2 : 64;
			*parts = xrealloc(*parts, cap * sizeof(**parts));
		}
		(*parts)[(*n)++] = part;
	}
	*eof = rc == SQLITE_DONE;
	sqlite3_reset(q);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : -1;
}

/* Read the split's hits, newest first, as the walk's candidates: 0, or -1 on failure. */
static int
store_search_split_read(struct store *st, struct store_searching *s,
    const struct store_search_half *up, const int64_t *low, size_t nlow, int eof)
{
	sqlite3_stmt *q = store_stmt(st, SQL_SEARCH_ROW);
	size_t i, n = up->n + nlow;
	int64_t part;
	int rc, got = 0;

	if (q == NULL)
		return -1;
	for (i = 0; i < n && got == 0; i++) {
		part = i < up->n ? up->parts[up->n - 1 - i] : low[i - up->n];
		sqlite3_bind_int64(q, 1, part);
		rc = sqlite3_step(q);
		/* A part without its message is no hit of a ranked search (its join drops it). */
		if (rc == SQLITE_ROW && (s->kind != SEARCH_RANK ||
		    sqlite3_column_type(q, 2) != SQLITE_NULL)) {
			s->cursor = part;
			got = store_search_candidate(s, q, part);
		}
		sqlite3_reset(q);
		if (got < 0 || (rc != SQLITE_ROW && rc != SQLITE_DONE))
			return store_search_failed(st, got < 0);
	}
	/* Every hit of the range read, or the page full: done. Else (a hit the matcher did not
	 * take) the plain walk goes on below the last part read. */
	if (got == 1 || eof)
		s->done = 1;
	else if (nlow > 0)
		s->cursor = low[nlow - 1];
	return 0;
}

/* Split the walk below s->cursor in two when the query walks rows and its hits look rare:
 * 0 when done or when the plain walk is to go on (from where the split left it), -1 on
 * failure. */
static int
store_search_split(struct store *st, struct store_searching *s)
{
	struct store_search_conn *c = store_search_conn(st);
	long min = c->split > 0 ? c->split : STORE_SEARCH_SPLIT;
	struct store_search_half up;
	sqlite3_stmt *q;
	int64_t lo, hi, mid, *low = NULL;
	size_t nlow = 0, need;
	pthread_t th;
	int rc, eof = 0;

	if (s->m == NULL || s->check || s->every || s->kind == SEARCH_COUNT ||
	    !store_match_walks(s->m) || !sqlite3_get_autocommit(st->db) ||
	    (q = store_stmt(st, SQL_SEARCH_EDGE)) == NULL)
		return 0;
	rc = sqlite3_step(q);
	lo = sqlite3_column_int64(q, 0);
	hi = sqlite3_column_int64(q, 1) + 1;
	sqlite3_reset(q);
	if (rc != SQLITE_ROW)
		return 0;
	/* The upper half may run on to the newest row (when no hit lies above the cursor):
	 * the halves are cut for that case, and a range in the older half is left whole. */
	mid = lo + (hi - lo) / 2;
	if (s->cursor < hi)
		hi = s->cursor;
	if (hi <= mid || (hi - lo) / STORE_PARTS < min)
		return 0;
	if (!c->split_force && (rc = store_search_sample(st, s, lo, hi)) != 0)
		return rc < 0 ? -1 : 0;
	memset(&up, 0, sizeof(up));
	if ((up.db = store_search_peer(st)) == NULL)
		return 0;
	up.match = buf_str(&s->source);
	up.from = mid;
	up.below = s->cursor;
	if (pthread_create(&th, NULL, store_search_upper, &up) != 0)
		return 0;
	c->splits++;
	need = s->limit == 0 ? 0 : s->kind == SEARCH_RANK ? STORE_SEARCH_WINDOW : s->limit;
	rc = store_search_lower(st, s, up.from, need, &low, &nlow, &eof);
	pthread_join(th, NULL);
	/* A failure or a flood: the plain walk, from where it was. */
	if (rc == 0 && up.rc == 0 && !up.flood)
		rc = store_search_split_read(st, s, &up, low, nlow, eof);
	else
		rc = 0;
	free(up.parts);
	free(low);
	return rc;
}

/*
 * Walk the candidates from s->cursor down for about budget microseconds (0: no bound),
 * keeping hits: 1 when there is more to do, 0 when the search is done, -1 on failure.
 * The walk starts again below the last part read, so it can stop between any two parts.
 */
static int
store_search_collect(struct store *st, struct store_searching *s, long budget)
{
	int64_t t0 = store_search_now(), part;
	sqlite3_stmt *q;
	long rows, checks;
	int rc, got;

	if (!s->planned && store_search_plan(st, s) != 0)
		return -1;
	checks = st->search->checks > 0 ? st->search->checks : STORE_SEARCH_CHECKS;
	if (s->kind == SEARCH_COUNT) {
		s->done = 1;
		return store_search_count_run(st, buf_str(&s->source), &s->count) == 0 ? 0 : -1;
	}
	if (!s->split_tried) {
		s->split_tried = 1;
		if (store_search_split(st, s) != 0)
			return -1;
	}
	while (!s->done) {
		if (s->kind == SEARCH_RANK)
			q = store_stmt(st, s->every ? SQL_SEARCH_SCAN_RANKED : s->m != NULL ?
			    SQL_SEARCH_RANKED : SQL_SEARCH_FTS_RANK);
		else
			q = store_stmt(st, s->every ? SQL_SEARCH_SCAN : s->m != NULL ?
			    SQL_SEARCH_PARTS : SQL_SEARCH_FTS);
		if (q == NULL)
			return -1;
		sqlite3_bind_text(q, 1, buf_str(&s->source), -1, SQLITE_STATIC);
		sqlite3_bind_int64(q, 2, s->cursor);
		rows = 0;
		got = 0;
		while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
			part = sqlite3_column_int64(q, 0);
			s->cursor = part;
			rows++;
			if ((got = store_search_candidate(s, q, part)) != 0)
				break;
			/* Too few hits among the candidates: the query itself from here on. */
			if (s->check && (long)s->checked >= checks) {
				s->check = 0;
				s->every = 0;
				s->whole = 1;
				buf_reset(&s->source);
				buf_puts(&s->source, s->query);
				break;
			}
			if (budget > 0 && !s->whole && (rows & 15) == 0 &&
			    store_search_now() - t0 >= budget)
				break;
		}
		sqlite3_reset(q);
		if (got < 0 || (rc != SQLITE_ROW && rc != SQLITE_DONE))
			return store_search_failed(st, got < 0);
		if (got || rc == SQLITE_DONE)
			s->done = 1;
		else if (budget > 0 && !s->whole && store_search_now() - t0 >= budget)
			return 1;
	}
	return 0;
}

/* A search of query newest first from below message id before, for limit messages. */
static struct store_searching *
store_search_new(int kind, const char *query, int64_t before, size_t limit)
{
	struct store_searching *s = xcalloc(1, sizeof(*s));

	s->kind = kind;
	s->query = xstrdup(query);
	s->limit = limit;
	s->cursor = before > 0 && before <= INT64_MAX / STORE_PARTS ? before * STORE_PARTS :
	    INT64_MAX;
	return s;
}

/* Forget what a search found (to run it again, as a phrase). */
static void
store_search_clear(struct store_searching *s)
{
	size_t i;

	for (i = 0; i < s->nhits; i++) {
		free(s->hits[i].snippet);
		free(s->hits[i].freq);
	}
	s->nhits = s->messages = 0;
	s->checked = 0;
	s->count = 0;
	s->done = s->planned = s->every = s->check = s->whole = s->split_tried = 0;
	store_match_free(s->m);
	s->m = NULL;
}

/* Release a search. */
void
store_search_free(struct store_searching *s)
{
	if (s == NULL)
		return;
	store_search_clear(s);
	free(s->hits);
	free(s->query);
	buf_free(&s->source);
	free(s);
}

/* Start a search newest first (its work is left to store_search_step). */
struct store_searching *
store_search_start(struct store *st, const char *query, int64_t before, size_t limit)
{
	(void)st;
	return store_search_new(SEARCH_NEWEST, query != NULL ? query : "", before, limit);
}

/* Work on a search for about budget_us. */
int
store_search_step(struct store *st, struct store_searching *s, long budget_us)
{
	if (s->done)
		return 0;
	if (s->query[strspn(s->query, " \t\r\n")] == '\0') {
		s->done = 1;
		return 0;
	}
	if (!s->planned)
		store_index_pending(st);
	return store_search_collect(st, s, budget_us > 0 ? budget_us : 0);
}

/* The FTS5 averages record's row and token counts (varints); 0 when it cannot be read. */
static int
store_search_totals(struct store *st, double *rows, double *tokens)
{
	sqlite3_stmt *s = store_stmt(st, SQL_SEARCH_TOTALS);
	const unsigned char *p;
	double v[2] = {0, 0};
	int n, i = 0, k, ok = 0;

	if (s == NULL) {
		st->err[0] = '\0';
		return 0;
	}
	if (sqlite3_step(s) == SQLITE_ROW) {
		p = sqlite3_column_blob(s, 0);
		n = sqlite3_column_bytes(s, 0);
		for (k = 0; k < 2 && i < n; k++) {
			uint64_t x = 0;
			int j;

			/* SQLite's varint: 7 bits a byte, high bit set while more follow; the ninth
			 * byte gives 8 bits. */
			for (j = 0; j < 9 && i < n; j++, i++) {
				if (j == 8) {
					x = (x << 8) | p[i];
					i++;
					break;
				}
				x = (x << 7) | (p[i] & 0x7f);
				if ((p[i] & 0x80) == 0) {
					i++;
					break;
				}
			}
			v[k] = (double)x;
		}
		ok = k == 2 && v[0] > 0;
	}
	sqlite3_reset(s);
	*rows = v[0];
	*tokens = v[1];
	return ok;
}

/* Best first: a smaller (more negative) score, then the newer message. */
static int
store_search_cmp_rank(const void *x, const void *y)
{
	const struct store_search_hit *a = *(const struct store_search_hit *const *)x;
	const struct store_search_hit *b = *(const struct store_search_hit *const *)y;

	if (a->score != b->score)
		return a->score < b->score ? -1 : 1;
	return (a->id < b->id) - (a->id > b->id);
}

/*
 * Rank a ranked search's window: BM25 as FTS5's bm25() computes it (k1 1.2, b 0.75, the
 * index's own row count and mean length), each phrase's document frequency taken from
 * the window's hits, user messages doubled; then each message keeps its best part.
 * Returns the hits best first (pointers into s->hits), *n of them.
 */
static struct store_search_hit **
store_search_rank(struct store *st, struct store_searching *s, size_t *n)
{
	struct store_search_hit **order = xcalloc(s->nhits ? s->nhits : 1, sizeof(*order));
	size_t np = s->m != NULL ? store_match_phrases(s->m) : 0, i, j, k = 0;
	double *idf = xcalloc(np ? np : 1, sizeof(*idf)), rows = 0, tokens = 0, avgdl, f, sc;
	const double k1 = 1.2, b = 0.75;

	if (s->m != NULL) {
		if (!store_search_totals(st, &rows, &tokens) || rows < (double)s->nhits) {
			rows = (double)s->nhits;
			for (i = 0, tokens = 0; i < s->nhits; i++)
				tokens += (double)s->hits[i].len;
		}
		avgdl = rows > 0 && tokens > 0 ? tokens / rows : 1;
		for (j = 0; j < np; j++) {
			double hit = 0;

			for (i = 0; i < s->nhits; i++)
				hit += s->hits[i].freq[j] > 0;
			idf[j] = log((rows - hit + 0.5) / (hit + 0.5));
			if (idf[j] <= 0.0)
				idf[j] = 1e-6;
		}
		for (i = 0; i < s->nhits; i++) {
			struct store_search_hit *h = &s->hits[i];

			for (j = 0, sc = 0; j < np; j++) {
				f = h->freq[j];
				sc += idf[j] * (f * (k1 + 1.0)) /
				    (f + k1 * (1 - b + b * (double)h->len / avgdl));
			}
			h->score = -sc;
		}
	}
	for (i = 0; i < s->nhits; i++) {
		struct store_search_hit *h = &s->hits[i];

		if (h->user)
			h->score *= 2.0;
		/* A message's parts are adjacent: keep the best of them. */
		if (k > 0 && order[k - 1]->id == h->id) {
			if (h->score < order[k - 1]->score)
				order[k - 1] = h;
			continue;
		}
		order[k++] = h;
	}
	free(idf);
	qsort(order, k, sizeof(*order), store_search_cmp_rank);
	*n = k;
	return order;
}

/* The snippet of a ranked hit: its part read again against the query. */
static char *
store_search_snippet(struct store *st, struct store_searching *s, int64_t part)
{
	sqlite3_stmt *q = store_stmt(st, SQL_SEARCH_PART);
	struct buf b = BUF_INIT;

	if (q == NULL)
		return xstrdup("");
	sqlite3_bind_int64(q, 1, part);
	if (sqlite3_step(q) == SQLITE_ROW) {
		const char *text = (const char *)sqlite3_column_text(q, 0);
		size_t len = (size_t)sqlite3_column_bytes(q, 0);

		if (text != NULL && store_match_row(s->m, text, len) == 1)
			store_match_snippet(s->m, text, len, STORE_MATCH_OPEN, STORE_MATCH_CLOSE,
			    &b);
	}
	sqlite3_reset(q);
	return b.data != NULL ? buf_detach(&b) : xstrdup("");
}

/* Read the message rows of hits (n of them, at most limit), each with its snippet. */
static int
store_search_rows(struct store *st, struct store_searching *s, struct store_search_hit **hits,
    size_t n, struct message_row **out, size_t *nout)
{
	sqlite3_stmt *q = store_stmt(st, SQL_SEARCH_MESSAGE);
	struct message_row *rows = xcalloc(n ? n : 1, sizeof(*rows));
	size_t i, len = 0;
	int rc;

	for (i = 0; q != NULL && i < n; i++) {
		sqlite3_bind_int64(q, 1, hits[i]->id);
		rc = sqlite3_step(q);
		if (rc == SQLITE_ROW) {
			struct message_row *r = &rows[len++];

			store_row_message(q, r);
			free(r->content);
			r->content = hits[i]->snippet != NULL ? hits[i]->snippet :
			    store_search_snippet(st, s, hits[i]->part);
			hits[i]->snippet = NULL;
		}
		sqlite3_reset(q);
		if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
			store_fail(st, "searching");
			store_messages_free(rows, len);
			return -1;
		}
	}
	if (q == NULL) {
		store_messages_free(rows, len);
		return -1;
	}
	*out = rows;
	*nout = len;
	return 0;
}

/* The hits of a finished search newest first (or best first, ranked), at most limit. */
static int
store_search_result(struct store *st, struct store_searching *s, struct message_row **out,
    size_t *n)
{
	struct store_search_hit **order;
	size_t k = 0, i;
	int rc;

	if (s->kind == SEARCH_RANK) {
		order = store_search_rank(st, s, &k);
	} else {
		order = xcalloc(s->nhits ? s->nhits : 1, sizeof(*order));
		for (i = 0; i < s->nhits; i++)
			if (k == 0 || order[k - 1]->id != s->hits[i].id)
				order[k++] = &s->hits[i];
	}
	if (s->limit > 0 && k > s->limit)
		k = s->limit;
	rc = store_search_rows(st, s, order, k, out, n);
	free(order);
	return rc;
}

/* The hits of a search store_search_step finished. */
int
store_search_hits(struct store *st, struct store_searching *s, struct message_row **out,
    size_t *n)
{
	*out = NULL;
	*n = 0;
	if (!s->done)
		return 0;
	return store_search_result(st, s, out, n);
}

/* Run a search to its end: the query as typed, then, when FTS5 refuses it, as one quoted
 * phrase (so that "c++" or "what's (this" still finds something). */
static int
store_search_run(struct store *st, struct store_searching *s, struct message_row **out,
    size_t *n)
{
	struct buf q = BUF_INIT;
	int64_t cursor = s->cursor;
	const char *p;
	int rc;

	if (out != NULL) {
		*out = NULL;
		*n = 0;
	}
	if (s->query[strspn(s->query, " \t\r\n")] == '\0')
		return 0;
	/* What a command-line natter put off must be findable now. */
	store_index_pending(st);
	if (store_search_collect(st, s, 0) != 0) {
		buf_putc(&q, '"');
		for (p = s->query; *p != '\0'; p++) {
			if (*p == '"')
				buf_putc(&q, '"');
			buf_putc(&q, *p);
		}
		buf_putc(&q, '"');
		store_search_clear(s);
		free(s->query);
		s->query = buf_detach(&q);
		s->cursor = cursor;
		if (store_search_collect(st, s, 0) != 0)
			return -1;
		st->err[0] = '\0';
	}
	if (out == NULL)
		return 0;
	rc = store_search_result(st, s, out, n);
	return rc;
}

/* Full-text search, best match first (a page ranks the newest hits). */
int
store_search(struct store *st, const char *query, struct message_row **out, size_t *n,
    size_t limit)
{
	struct store_searching *s = store_search_new(SEARCH_RANK, query != NULL ? query : "", 0,
	    limit);
	int rc;

	/* Every hit is ranked when every hit is asked for. */
	rc = store_search_run(st, s, out, n);
	store_search_free(s);
	return rc;
}

/* A page of hits newest first, from below message id before (0: the newest). */
int
store_search_newest(struct store *st, const char *query, int64_t before, size_t limit,
    struct message_row **out, size_t *n)
{
	struct store_searching *s = store_search_new(SEARCH_NEWEST, query != NULL ? query : "",
	    before, limit);
	int rc = store_search_run(st, s, out, n);

	store_search_free(s);
	return rc;
}

/* How many messages a query finds. */
int
store_search_count(struct store *st, const char *query, long *count)
{
	struct store_searching *s = store_search_new(SEARCH_COUNT, query != NULL ? query : "", 0,
	    0);
	int rc = store_search_run(st, s, NULL, NULL);

	*count = s->count;
	store_search_free(s);
	return rc;
}
