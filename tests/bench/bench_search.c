/*
 * In-process timing for tests/bench/search.sh: over a large store, for each query given,
 * the medians of the first page of hits newest first (store_search_newest, 20 hits and one
 * more to know a next page exists), the next page (keyset: below the last hit), a page from
 * the middle of the history, the count of every hit, and the ranked page (store_search,
 * best first among the newest hits). Prints figures against the target of 100 ms a page;
 * never fails on them.
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "store.h"

#define BENCH_RUNS 9
#define BENCH_PAGE 20

/* Monotonic milliseconds as a double. */
static double
bench_now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

/* Compare doubles for qsort. */
static int
bench_cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* The median of n timings (sorted in place). */
static double
bench_median(double *t, int n)
{
	qsort(t, (size_t)n, sizeof(*t), bench_cmp);
	return t[n / 2];
}

/* Time one kind of search (0: first page, 1: next page, 2: middle page, 3: count,
 * 4: ranked page) of q; the median in ms, the hits of the last run in *hits. */
static double
bench_one(struct store *st, const char *q, int kind, int64_t middle, long *hits)
{
	struct message_row *m;
	double t[BENCH_RUNS], a;
	int64_t before = 0;
	size_t n = 0;
	long c = 0;
	int k;

	if (kind == 1) {
		if (store_search_newest(st, q, 0, BENCH_PAGE + 1, &m, &n) != 0)
			return -1;
		before = n >= BENCH_PAGE ? m[BENCH_PAGE - 1].id : 1;
		store_messages_free(m, n);
	} else if (kind == 2) {
		before = middle;
	}
	for (k = 0; k < BENCH_RUNS; k++) {
		a = bench_now();
		if (kind == 3) {
			if (store_search_count(st, q, &c) != 0)
				return -1;
		} else if (kind == 4) {
			if (store_search(st, q, &m, &n, BENCH_PAGE) != 0)
				return -1;
		} else if (store_search_newest(st, q, before, BENCH_PAGE + 1, &m, &n) != 0) {
			return -1;
		}
		t[k] = bench_now() - a;
		if (kind != 3) {
			c = (long)n;
			store_messages_free(m, n);
		}
	}
	*hits = c;
	return bench_median(t, BENCH_RUNS);
}

/* bench_search DB MIDDLE_ID QUERY...: the figures of each query. */
int
main(int argc, char **argv)
{
	static const char *const what[] = {"first page", "next page", "middle page", "count",
	    "ranked page"};
	struct store *st;
	char *err = NULL;
	long hits;
	double ms;
	int i, k;

	if (argc < 4) {
		fputs("usage: bench_search DB MIDDLE_ID QUERY...\n", stderr);
		return 2;
	}
	if ((st = store_open(argv[1], &err)) == NULL) {
		fprintf(stderr, "bench_search: %s\n", err);
		free(err);
		return 1;
	}
	for (i = 3; i < argc; i++) {
		for (k = 0; k < 5; k++) {
			ms = bench_one(st, argv[i], k, atoll(argv[2]), &hits);
			if (ms < 0) {
				fprintf(stderr, "bench_search: %s\n", store_error(st));
				return 1;
			}
			printf("%-18s %-12s %9.2f ms  (%ld %s)%s\n", argv[i], what[k], ms, hits,
			    k == 3 ? "messages match" : "hits", k == 3 ? "  (after the page: no target)" :
			    ms > 100 ? "  OVER the 100 ms target" : "  (target 100 ms)");
		}
	}
	store_close(st);
	return 0;
}
