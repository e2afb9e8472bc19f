/*
 * In-process timing for tests/bench/huge.sh: what opening a long session costs below the
 * interface, on the store tests/bench/huge-store makes. Opening the end of its path
 * (session_open with a screenful), a page more before it (session_load_older), counting
 * the rest without its text (session_count_step, the status line's sums), and, for
 * reference, loading the whole path at once (session_load, what opening cost before).
 * Medians of several runs; prints figures, passes or fails on nothing.
 *   bench_session DB SESSION_ID
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "session.h"
#include "store.h"

#define BENCH_RUNS 11
#define BENCH_SCREEN 50   /* the messages a 50-row screen asks for */
#define BENCH_PAGES 200

/* Monotonic microseconds as a double. */
static double
bench_now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1e6 + t.tv_nsec / 1e3;
}

/* Compare doubles for qsort. */
static int
bench_cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* The median of v[0..n) (sorts v). */
static double
bench_median(double *v, size_t n)
{
	qsort(v, n, sizeof(*v), bench_cmp);
	return v[n / 2];
}

int
main(int argc, char **argv)
{
	double open_us[BENCH_RUNS], page_us[BENCH_PAGES], count_us[BENCH_RUNS], t;
	struct session *s;
	struct store *st;
	char *err = NULL;
	int64_t id;
	size_t i, npages = 0, loaded;

	if (argc != 3 || (id = atoll(argv[2])) <= 0) {
		fputs("usage: bench_session DB SESSION_ID\n", stderr);
		return 2;
	}
	if ((st = store_open(argv[1], &err)) == NULL) {
		fprintf(stderr, "bench_session: %s\n", err);
		return 1;
	}
	for (i = 0; i < BENCH_RUNS; i++) {
		t = bench_now();
		if ((s = session_open(st, id, BENCH_SCREEN)) == NULL) {
			fprintf(stderr, "bench_session: %s\n", store_error(st));
			return 1;
		}
		open_us[i] = bench_now() - t;
		loaded = s->nmsgs;
		t = bench_now();
		session_count_step(s, 0);
		count_us[i] = bench_now() - t;
		if (i + 1 < BENCH_RUNS)
			session_free(s);
	}
	printf("open the end of the path: %zu messages in %.0f us (median of %d)\n", loaded,
	    bench_median(open_us, BENCH_RUNS), BENCH_RUNS);
	printf("count the %ld messages not loaded: %.1f ms (median of %d; between keys, in"
	    " steps of 4096)\n", s->count.sums.count, bench_median(count_us, BENCH_RUNS) / 1e3,
	    BENCH_RUNS);
	while (npages < BENCH_PAGES && session_partial(s)) {
		t = bench_now();
		if (session_load_older(s, BENCH_SCREEN) <= 0)
			break;
		page_us[npages++] = bench_now() - t;
	}
	if (npages > 0) {
		t = bench_median(page_us, npages);
		printf("a page more (%d messages or more): median %.0f us, max %.0f us over %zu"
		    " pages\n", BENCH_SCREEN, t, page_us[npages - 1], npages);
	}
	session_free(s);
	t = bench_now();
	if ((s = session_load(st, id)) == NULL) {
		fprintf(stderr, "bench_session: %s\n", store_error(st));
		return 1;
	}
	printf("the whole path at once (session_load): %zu messages in %.0f ms\n", s->nmsgs,
	    (bench_now() - t) / 1e3);
	session_free(s);
	store_close(st);
	return 0;
}
