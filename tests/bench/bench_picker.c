/*
 * In-process timing for tests/bench/picker.sh: the cost of one key typed in a filter over
 * N session titles (10,000 by default), as the session list and the pickers pay it: the
 * matcher and list update (fuzzy_list_update over every title, or over the last result when
 * the pattern grew) plus the highlights of the rows a screen shows. Next to it, in the same
 * run, the reference: a plain case-insensitive substring filter over the same titles. Keys
 * are typed one at a time, then erased one at a time, for a few queries; prints medians.
 * Queries may be given as arguments after the count, the titles read from the file
 * BENCH_TITLES_FILE (one a line: the large store's, say), and BENCH_VERBOSE=1 prints each
 * key's cost.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fuzzy.h"

#define BENCH_ROWS 25  /* rows of highlights a screen draws */

/* Monotonic microseconds as a double. */
static double
bench_now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1e6 + t.tv_nsec / 1e3;
}

/* A deterministic pseudo-random number. */
static unsigned
bench_rand(unsigned *s)
{
	*s = *s * 1103515245u + 12345u;
	return (*s >> 16) & 0x7fff;
}

/* Compare doubles for qsort. */
static int
bench_cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* The reference: keep the titles containing pat, ignoring ASCII case; returns how many. */
static size_t
bench_substring(char **titles, size_t n, const char *pat, size_t *out)
{
	size_t i, k = 0;

	for (i = 0; i < n; i++)
		if (strcasestr(titles[i], pat) != NULL)
			out[k++] = i;
	return k;
}

int
main(int argc, char **argv)
{
	static const char *const words[] = {
		"refactor", "the", "parser", "for", "JSON", "streaming", "rust", "lifetimes",
		"borrow", "checker", "why", "does", "my", "async", "code", "deadlock", "python",
		"asyncio", "sqlite", "index", "query", "plan", "explain", "recipe", "sourdough",
		"bread", "trip", "to", "Lisbon", "budget", "email", "draft", "landlord", "review",
		"pull", "request", "ncurses", "mouse", "events", "terminal", "colours", "kernel",
		"scheduler", "notes", "meeting", "summary", "birthday", "gift", "ideas", "C11",
	};
	static const char *const queries[] = { "refactor parser", "rust life", "sqlplan",
	    "Lisbon" };
	const char *file = getenv("BENCH_TITLES_FILE");
	size_t n = argc > 1 ? (size_t)atol(argv[1]) : 10000, i, q, k, nw = sizeof words /
	    sizeof words[0], nq = sizeof queries / sizeof queries[0];
	const char *const *qs = queries;
	char **titles = malloc(n * sizeof *titles);
	size_t *sub = malloc(n * sizeof *sub), pos[64], npos, nsub = 0;
	double *fz = NULL, *ref = NULL;
	size_t nfz = 0, cap = 0;
	unsigned seed = 42;
	struct fuzzy_list l;

	if (argc > 2) {
		qs = (const char *const *)argv + 2;
		nq = (size_t)argc - 2;
	}
	for (i = 0; i < n; i++) {
		char b[256];
		size_t used = 0, w = 3 + bench_rand(&seed) % 6;

		while (w-- > 0)
			used += (size_t)snprintf(b + used, sizeof b - used, "%s%s", used ? " " : "",
			    words[bench_rand(&seed) % nw]);
		snprintf(b + used, sizeof b - used, " %zu", i);
		titles[i] = strdup(b);
	}
	/* Or the titles of a file, one a line (the large store's, say). */
	if (file != NULL) {
		FILE *fp = fopen(file, "r");
		char line[512];

		for (i = 0; fp != NULL && i < n && fgets(line, sizeof line, fp) != NULL; i++) {
			line[strcspn(line, "\n")] = '\0';
			free(titles[i]);
			titles[i] = strdup(line);
		}
		if (fp != NULL)
			fclose(fp);
	}
	fuzzy_list_init(&l, (const char *const *)titles, n, 0);
	for (q = 0; q < nq; q++) {
		size_t len = strlen(qs[q]), step;

		/* Type the query, then erase it: 2 * len keys. */
		for (step = 1; step < 2 * len; step++) {
			size_t at = step <= len ? step : 2 * len - step;
			char pat[64];
			double t0, t1, t2;

			if (at >= sizeof pat)
				break;
			memcpy(pat, qs[q], at);
			pat[at] = '\0';
			t0 = bench_now();
			fuzzy_list_update(&l, pat);
			for (k = 0; k < l.norder && k < BENCH_ROWS; k++)
				fuzzy_match(pat, titles[l.order[k]], strlen(titles[l.order[k]]), pos, 64,
				    &npos);
			t1 = bench_now();
			nsub = bench_substring(titles, n, pat, sub);
			t2 = bench_now();
			if (nfz == cap) {
				cap = cap ? cap * 2 : 64;
				fz = realloc(fz, cap * sizeof *fz);
				ref = realloc(ref, cap * sizeof *ref);
			}
			if (getenv("BENCH_VERBOSE"))
				fprintf(stderr, "%-20s %8.3f ms  %zu\n", pat, (t1 - t0) / 1e3, l.norder);
			fz[nfz] = t1 - t0;
			ref[nfz] = t2 - t1;
			nfz++;
		}
	}
	{
		double fmax;

		qsort(fz, nfz, sizeof *fz, bench_cmp);
		qsort(ref, nfz, sizeof *ref, bench_cmp);
		fmax = fz[nfz - 1];
		printf("picker: %zu titles, %zu keys typed and erased\n", n, nfz);
		printf("picker: fuzzy filter + list update + %d highlights: median %.3f ms per key,"
		    " 90th %.3f ms, max %.3f ms (target: median <= 5 ms)\n", BENCH_ROWS,
		    fz[nfz / 2] / 1e3, fz[nfz * 9 / 10] / 1e3, fmax / 1e3);
		printf("picker: reference substring filter: median %.3f ms per key; ratio %.1f\n",
		    ref[nfz / 2] / 1e3, ref[nfz / 2] > 0 ? fz[nfz / 2] / ref[nfz / 2] : 0.0);
		printf("picker: %s\n", fz[nfz / 2] <= 5000 ? "within the target" :
		    "OVER the target");
	}
	(void)nsub;
	fuzzy_list_free(&l);
	for (i = 0; i < n; i++)
		free(titles[i]);
	free(titles);
	free(sub);
	free(fz);
	free(ref);
	return 0;
}
