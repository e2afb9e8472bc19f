/*
 * Benchmark driver: runs N chat streams at once through ONE worker against an
 * OpenAI-compatible server and reports the wall time, so tests/bench/stream.sh can compare
 * eight concurrent streams with one. It reads events like the UI does (poll on the worker's
 * descriptor, drain, discard the text) and fails loudly if a stream is incomplete.
 *
 *   bench_worker BASE_URL KEY NSTREAMS TOKENS
 */
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "provider.h"
#include "request.h"
#include "worker.h"
#include "xmalloc.h"

/* Seconds on the monotonic clock. */
static double
bench_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Run the streams and print "streams=N tokens=T seconds=S bytes=B". */
int
main(int argc, char **argv)
{
	struct provider *p;
	struct worker *w;
	struct wevent *ev;
	struct pollfd pfd;
	char prompt[64];
	int n, i, done = 0, bad = 0;
	long tokens;
	size_t bytes = 0;
	double t0;

	if (argc != 5) {
		fputs("usage: bench_worker BASE_URL KEY NSTREAMS TOKENS\n", stderr);
		return 2;
	}
	n = atoi(argv[3]);
	tokens = atol(argv[4]);
	worker_global_init();
	p = provider_new("openai", "openai", argv[1]);
	p->key = xstrdup(argv[2]);
	w = worker_start();
	t0 = bench_now();
	for (i = 0; i < n; i++) {
		struct request *r = request_new(p, "bench-model");

		snprintf(prompt, sizeof(prompt), "tokens=%ld", tokens);
		request_add(r, ROLE_USER, prompt);
		worker_submit(w, r);
	}
	pfd.fd = worker_fd(w);
	pfd.events = POLLIN;
	while (done < n) {
		poll(&pfd, 1, -1);
		while ((ev = worker_next(w)) != NULL) {
			if (ev->type == WEV_TEXT)
				bytes += ev->len;
			if (ev->type == WEV_DONE) {
				done++;
				bad += !ev->complete || ev->error != NULL;
			}
			wevent_free(ev);
		}
	}
	printf("streams=%d tokens=%ld seconds=%.4f bytes=%zu failed=%d\n", n, tokens,
	    bench_now() - t0, bytes, bad);
	worker_stop(w);
	provider_free(p);
	return bad ? 1 : 0;
}
