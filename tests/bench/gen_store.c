/*
 * A large store for the benchmarks (tests/bench/big-store runs it): natter's own
 * store_open creates the schema (every migration), then one transaction inserts S sessions
 * of M messages each, ~350 bytes of words drawn from a vocabulary of a few thousand with a
 * skewed (Zipf-like) frequency, and builds the search index once at the end rather than
 * row by row: the trigger that indexes a message as it is inserted is set aside for the
 * bulk insert and put back as it was. Every message holds "lorem ipsum" (a word and a
 * phrase that match every message) and "topicN" with N = id % 100000 (a word matching
 * S * M / 100000 messages: 10 over a million). Session sums come from the store's own
 * triggers, which stay in place. Deterministic: the same arguments give the same rows.
 *
 * With --session it makes one long session instead (tests/bench/huge-store): a path of N
 * messages written as natter writes them (each names its parent), with what a long chat
 * grows along the way: every 97th reply regenerated (the older reply stays as an
 * alternative off the path), every 1009th prompt edited (the older prompt and its reply
 * stay as a branch), every 499th exchange a tool call with its result before the answer,
 * and every 10th reply a longer one with a list and a code block.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sqlite3.h>

#include "store.h"
#include "store-schema.h"

#define GEN_WORDS 4000   /* vocabulary size */
#define GEN_BYTES 350    /* about this many bytes of text per message */

/* A deterministic pseudo-random number (xorshift). */
static unsigned
gen_rand(unsigned long long *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return (unsigned)(*s >> 11);
}

/* Monotonic milliseconds. */
static double
gen_now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

/* Run sql or exit with SQLite's reason. */
static void
gen_exec(sqlite3 *db, const char *sql)
{
	char *err = NULL;

	if (sqlite3_exec(db, sql, NULL, NULL, &err) != SQLITE_OK) {
		fprintf(stderr, "gen_store: %s: %s\n", sql, err ? err : "?");
		exit(1);
	}
}

/* Make the vocabulary: pronounceable words of two to four syllables. */
static void
gen_vocabulary(char words[][16], unsigned long long *seed)
{
	static const char *const syl[] = {"ka", "lo", "mi", "ren", "sta", "vo", "tri", "pel",
	    "dan", "qu", "ex", "ul", "gor", "fi", "ne", "shi", "bar", "zo", "cre", "tam"};
	int i, k, n;

	for (i = 0; i < GEN_WORDS; i++) {
		words[i][0] = '\0';
		n = 2 + gen_rand(seed) % 3;
		for (k = 0; k < n; k++)
			strncat(words[i], syl[gen_rand(seed) % 20], 15 - strlen(words[i]));
	}
}

/* Fill out with one message's text for message number i. */
static size_t
gen_text(char *out, size_t size, char words[][16], long long i, unsigned long long *seed)
{
	size_t len = (size_t)snprintf(out, size, "lorem ipsum topic%lld", i % 100000);
	double u;
	int w;

	while (len < GEN_BYTES && len + 20 < size) {
		/* Skewed: u^3 puts most picks on the first words. */
		u = (gen_rand(seed) % 100000) / 100000.0;
		w = (int)(u * u * u * GEN_WORDS);
		len += (size_t)snprintf(out + len, size - len, " %s", words[w]);
	}
	return len;
}

/* The rows gen_session writes: its statement and the ids and sequence handed out. */
struct gen_tree {
	sqlite3 *db;
	sqlite3_stmt *ins;
	long long id, seq;
	long long t0;         /* created_ms of the first message */
	char (*words)[16];
	unsigned long long *seed;
};

/* Insert one message of session 1 following parent (0: a first message); its id. */
static long long
gen_tree_add(struct gen_tree *g, long long parent, const char *role, const char *text,
    size_t n, const char *tool_name, const char *finish)
{
	int reply = strcmp(role, "assistant") == 0;
	sqlite3_stmt *s = g->ins;
	char tool_id[32];

	g->id++;
	g->seq++;
	sqlite3_bind_int64(s, 1, g->id);
	sqlite3_bind_int64(s, 2, g->seq);
	sqlite3_bind_text(s, 3, role, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 4, g->t0 + g->seq * 300);
	sqlite3_bind_text(s, 5, text, (int)n, SQLITE_TRANSIENT);
	sqlite3_bind_int64(s, 6, parent);
	if (reply) {
		sqlite3_bind_text(s, 7, "openai", -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 8, "gpt-4o", -1, SQLITE_STATIC);
		sqlite3_bind_int(s, 9, 120);
		sqlite3_bind_int(s, 10, 300);
		sqlite3_bind_double(s, 11, 0.002);
		sqlite3_bind_int(s, 12, 200 + (int)(g->id % 500));
		sqlite3_bind_int(s, 13, 3000 + (int)(g->id % 2000));
	} else {
		for (int k = 7; k <= 13; k++)
			sqlite3_bind_null(s, k);
	}
	if (tool_name != NULL) {
		/* A call and its result share the id of the call. */
		snprintf(tool_id, sizeof(tool_id), "call_%lld",
		    strcmp(role, "tool") == 0 ? g->id - 1 : g->id);
		sqlite3_bind_text(s, 14, tool_id, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(s, 15, tool_name, -1, SQLITE_STATIC);
	} else {
		sqlite3_bind_null(s, 14);
		sqlite3_bind_null(s, 15);
	}
	if (finish != NULL)
		sqlite3_bind_text(s, 16, finish, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(s, 16);
	if (sqlite3_step(s) != SQLITE_DONE) {
		fprintf(stderr, "gen_store: %s\n", sqlite3_errmsg(g->db));
		exit(1);
	}
	sqlite3_reset(s);
	return g->id;
}

/* A reply's text: words, and for a long one (every 10th) a list and a code block too. */
static size_t
gen_tree_reply(struct gen_tree *g, char *out, size_t size, long long k)
{
	size_t len = gen_text(out, size / 4, g->words, g->id + 1, g->seed);

	if (k % 10 != 0)
		return len;
	len += (size_t)snprintf(out + len, size - len, "\n\n- first %s\n- second %s\n\n"
	    "```c\nint\nmain(void)\n{\n\treturn %lld;\n}\n```\n\n", g->words[k % GEN_WORDS],
	    g->words[(k * 7) % GEN_WORDS], k);
	return len + gen_text(out + len, size - len, g->words, g->id + 1, g->seed);
}

/* One session of n messages on its path (see the top of the file); the count of rows. */
static long long
gen_session(sqlite3 *db, char words[][16], unsigned long long *seed, long long n)
{
	struct gen_tree g = { db, NULL, 0, 0, 1767323045LL * 1000, words, seed };
	long long path = 0, parent = 0, k, user, call;
	char text[4096];
	size_t len;

	gen_exec(db, "INSERT INTO sessions (id, title, provider, model, created, updated)"
	    " VALUES (1, 'A very long session', 'openai', 'gpt-4o', 1767323045, 1767323045)");
	if (sqlite3_prepare_v2(db, "INSERT INTO messages (id, session_id, seq, role, created_ms,"
	    " state, content, parent_id, provider, model, input_tokens, output_tokens, cost,"
	    " ttft_ms, duration_ms, tool_id, tool_name, finish_reason) VALUES (?1, 1, ?2, ?3,"
	    " ?4, 'complete', ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)", -1,
	    &g.ins, NULL) != SQLITE_OK) {
		fprintf(stderr, "gen_store: %s\n", sqlite3_errmsg(db));
		exit(1);
	}
	for (k = 1; path < n; k++) {
		/* An edited prompt: the older one and its reply stay as a branch. */
		if (k % 1009 == 0 && path + 2 <= n) {
			len = gen_text(text, 200, words, g.id + 1, seed);
			user = gen_tree_add(&g, parent, "user", text, len, NULL, NULL);
			len = gen_tree_reply(&g, text, sizeof(text), k);
			gen_tree_add(&g, user, "assistant", text, len, NULL, NULL);
		}
		len = gen_text(text, 200, words, g.id + 1, seed);
		parent = user = gen_tree_add(&g, parent, "user", text, len, NULL, NULL);
		if (++path == n)
			break;
		if (k % 499 == 0 && path + 4 <= n) {
			parent = gen_tree_add(&g, parent, "assistant", "Let me look.", 12, NULL,
			    "tool_calls");
			call = gen_tree_add(&g, parent, "tool_call", "{\"path\":\"notes.txt\"}", 20,
			    "read_file", NULL);
			len = gen_text(text, 300, words, g.id + 1, seed);
			parent = gen_tree_add(&g, call, "tool", text, len, "read_file", NULL);
			path += 3;
		}
		/* A regenerated reply: the older one stays as an alternative. */
		if (k % 97 == 0) {
			len = gen_tree_reply(&g, text, sizeof(text), k);
			gen_tree_add(&g, parent, "assistant", text, len, NULL, NULL);
		}
		len = gen_tree_reply(&g, text, sizeof(text), k);
		parent = gen_tree_add(&g, parent, "assistant", text, len, NULL, "stop");
		path++;
	}
	(void)user;
	sqlite3_finalize(g.ins);
	return g.id;
}

/* Generate the store at argv[1]: argv[2] sessions of argv[3] messages. */
int
main(int argc, char **argv)
{
	static char words[GEN_WORDS][16];
	unsigned long long seed = 0x9e3779b97f4a7c15ULL;
	long long sessions = 0, per, i, j, id = 0;
	char text[512], trig[4096], *err = NULL;
	sqlite3_stmt *ss, *ms, *ts;
	struct store *st;
	sqlite3 *db;
	double t0, t1, t2;
	long long base = 1767323045;
	int one = 0;

	if (argc == 2 && strcmp(argv[1], "--schema") == 0) {
		printf("%d\n", store_schema_latest());
		return 0;
	}
	if (argc == 4 && strcmp(argv[1], "--session") == 0) {
		one = 1;
		argv++;
		if ((per = atoll(argv[2])) <= 0)
			argc = 0;
	} else if (argc == 4 && ((sessions = atoll(argv[2])) <= 0 || (per = atoll(argv[3])) <= 0))
		argc = 0;
	if (argc != 4) {
		fputs("usage: gen_store DB SESSIONS MESSAGES_PER_SESSION\n"
		    "       gen_store --session DB MESSAGES\n", stderr);
		return 2;
	}
	t0 = gen_now();
	if ((st = store_open(argv[1], &err)) == NULL) {
		fprintf(stderr, "gen_store: %s\n", err);
		return 1;
	}
	store_close(st);
	if (sqlite3_open(argv[1], &db) != SQLITE_OK) {
		fprintf(stderr, "gen_store: %s\n", sqlite3_errmsg(db));
		return 1;
	}
	gen_vocabulary(words, &seed);
	gen_exec(db, "PRAGMA synchronous = OFF; PRAGMA cache_size = -200000; BEGIN");
	/* The insert trigger, kept to be put back after the bulk insert. */
	if (sqlite3_prepare_v2(db, "SELECT sql FROM sqlite_master WHERE type = 'trigger'"
	    " AND name = 'messages_fts_insert'", -1, &ts, NULL) != SQLITE_OK ||
	    sqlite3_step(ts) != SQLITE_ROW) {
		fprintf(stderr, "gen_store: no messages_fts_insert trigger\n");
		return 1;
	}
	snprintf(trig, sizeof(trig), "%s", (const char *)sqlite3_column_text(ts, 0));
	sqlite3_finalize(ts);
	gen_exec(db, "DROP TRIGGER messages_fts_insert");
	if (one) {
		id = gen_session(db, words, &seed, per);
		sessions = 1;
		goto index;
	}
	if (sqlite3_prepare_v2(db, "INSERT INTO sessions (id, title, provider, model, created,"
	    " updated) VALUES (?1, ?2, 'openai', 'gpt-4o', ?3, ?4)", -1, &ss, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db, "INSERT INTO messages (id, session_id, seq, role, provider,"
	    " model, created_ms, state, input_tokens, output_tokens, cost, ttft_ms, duration_ms,"
	    " content) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 'complete', ?8, ?9, ?10, ?11, ?12,"
	    " ?13)", -1, &ms, NULL) != SQLITE_OK) {
		fprintf(stderr, "gen_store: %s\n", sqlite3_errmsg(db));
		return 1;
	}
	for (i = 1; i <= sessions; i++) {
		char title[96];
		int a = gen_rand(&seed) % GEN_WORDS, b = gen_rand(&seed) % GEN_WORDS;

		snprintf(title, sizeof(title), "Session %lld about %s and %s", i, words[a],
		    words[b]);
		sqlite3_bind_int64(ss, 1, i);
		sqlite3_bind_text(ss, 2, title, -1, SQLITE_TRANSIENT);
		sqlite3_bind_int64(ss, 3, base + i * 60);
		sqlite3_bind_int64(ss, 4, base + i * 60 + 30);
		if (sqlite3_step(ss) != SQLITE_DONE)
			goto fail;
		sqlite3_reset(ss);
		for (j = 0; j < per; j++) {
			int reply = (int)(j % 2);
			size_t n;

			id++;
			n = gen_text(text, sizeof(text), words, id, &seed);
			sqlite3_bind_int64(ms, 1, id);
			sqlite3_bind_int64(ms, 2, i);
			sqlite3_bind_int64(ms, 3, j + 1);
			sqlite3_bind_text(ms, 4, reply ? "assistant" : "user", -1, SQLITE_STATIC);
			if (reply) {
				sqlite3_bind_text(ms, 5, "openai", -1, SQLITE_STATIC);
				sqlite3_bind_text(ms, 6, "gpt-4o", -1, SQLITE_STATIC);
				sqlite3_bind_int(ms, 8, 120);
				sqlite3_bind_int(ms, 9, 300);
				sqlite3_bind_double(ms, 10, 0.002);
				sqlite3_bind_int(ms, 11, 200 + (int)(id % 500));
				sqlite3_bind_int(ms, 12, 3000 + (int)(id % 2000));
			} else {
				for (int k = 5; k <= 12; k++)
					if (k != 7)
						sqlite3_bind_null(ms, k);
			}
			sqlite3_bind_int64(ms, 7, (base + i * 60) * 1000 + j * 300);
			sqlite3_bind_text(ms, 13, text, (int)n, SQLITE_STATIC);
			if (sqlite3_step(ms) != SQLITE_DONE)
				goto fail;
			sqlite3_reset(ms);
		}
	}
	sqlite3_finalize(ss);
	sqlite3_finalize(ms);
index:
	t1 = gen_now();
	/* The index, built once over every message (each is one part: under 16 KiB). */
	gen_exec(db, "INSERT INTO messages_fts (rowid, content)"
	    " SELECT id * 4096, content FROM messages");
	gen_exec(db, trig);
	gen_exec(db, "COMMIT; PRAGMA wal_checkpoint(TRUNCATE)");
	t2 = gen_now();
	sqlite3_close(db);
	printf("gen_store: %lld sessions, %lld messages: rows %.1f s, index %.1f s\n",
	    sessions, id, (t1 - t0) / 1e3, (t2 - t1) / 1e3);
	return 0;
fail:
	fprintf(stderr, "gen_store: %s\n", sqlite3_errmsg(db));
	return 1;
}
