/*
 * In-process timing for tests/bench/store.sh: how long store_open and the first-screen
 * store_sessions(50) take on a given database, and how many pages they read, without the
 * cost of starting a process. Prints figures; never fails on them.
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "store.h"

/* Monotonic milliseconds as a double. */
static double
bench_now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

/* Open and list five times; the first run shows the cold-ish cost. */
int
main(int argc, char **argv)
{
	struct session_row *rows;
	struct store *st;
	double a, b, c;
	char *err = NULL;
	size_t n;
	int k;

	if (argc != 2) {
		fputs("usage: bench_store DB\n", stderr);
		return 2;
	}
	for (k = 0; k < 5; k++) {
		a = bench_now();
		st = store_open(argv[1], &err);
		if (st == NULL) {
			fprintf(stderr, "bench_store: %s\n", err);
			free(err);
			return 1;
		}
		b = bench_now();
		store_sessions(st, &rows, &n, 50);
		c = bench_now();
		printf("run %d: store_open %.3f ms, list 50 sessions %.3f ms (%zu rows, %ld pages read)\n",
		    k + 1, b - a, c - b, n, store_stat_reads(st));
		store_sessions_free(rows, n);
		store_close(st);
	}
	return 0;
}
