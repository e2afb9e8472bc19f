/*
 * Retry policy: the official OpenAI and Anthropic SDKs wait min(0.5·2^k, 8) s scaled by
 * (1 − 0.25·rand) and honour a server's retry-after within a cap; natter does the same so it
 * behaves like the tools users already know, and refuses to retry errors that cannot get
 * better by waiting (bad key, exhausted quota, a prompt that is too long). All the retries
 * of one request share a total budget (retry_total).
 */
#include <math.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "apierr.h"
#include "retry.h"

#define RETRY_INITIAL_S 0.5
#define RETRY_MAX_S 8.0

/* Compute the wait before the next retry, or -1 when the server's wish exceeds the cap. */
long
retry_delay_ms(int retries_done, double server_delay_s, double cap_s, double random01)
{
	double d;

	if (cap_s <= 0)
		cap_s = 60;
	if (server_delay_s > 0) {
		/* A server that wants more than we are willing to wait gets no retry at all:
		 * hammering it sooner would only earn another refusal. */
		if (server_delay_s > cap_s)
			return -1;
		return (long)ceil(server_delay_s * 1000.0);
	}
	if (retries_done < 0)
		retries_done = 0;
	if (random01 < 0)
		random01 = 0;
	if (random01 >= 1)
		random01 = 0.999999;
	d = retries_done > 10 ? RETRY_MAX_S : RETRY_INITIAL_S * pow(2.0, retries_done);
	if (d > RETRY_MAX_S)
		d = RETRY_MAX_S;
	if (d > cap_s)
		d = cap_s;
	d *= 1.0 - 0.25 * random01;
	return (long)(d * 1000.0 + 0.5);
}

/* Decide whether a retry still fits the total budget: it must start (after its wait) no
 * later than total_ms after the first attempt, so a server that keeps failing slowly
 * cannot hold a request for max_retries times its deadline. */
int
retry_within_budget(long elapsed_ms, long delay_ms, long total_ms)
{
	if (total_ms <= 0)
		return 1;
	if (elapsed_ms < 0)
		elapsed_ms = 0;
	if (delay_ms < 0)
		delay_ms = 0;
	return elapsed_ms <= total_ms && delay_ms <= total_ms - elapsed_ms;
}

/* Decide whether an error may be retried; the class list mirrors §B.2's "never retry". */
int
retry_error_retryable(const struct apierr *e)
{
	if (e == NULL)
		return 0;
	switch (e->cls) {
	case APIERR_AUTH:
	case APIERR_PERMISSION:
	case APIERR_NOT_FOUND:
	case APIERR_QUOTA:
	case APIERR_BAD_REQUEST:
	case APIERR_CONTEXT_LENGTH:
	case APIERR_BLOCKED:
	case APIERR_CANCELLED:
	case APIERR_TLS:
		return 0;
	default:
		break;
	}
	if (e->kind == APIERR_LOCAL || e->kind == APIERR_KIND_BLOCKED)
		return 0;
	if (e->kind == APIERR_TRANSPORT)
		return e->cls == APIERR_CONNECTION || e->cls == APIERR_TIMEOUT;
	return e->retryable == 1;
}

/* Return a jitter value; seeded once from the clock and pid, which is all jitter needs. */
double
retry_random01(void)
{
	static unsigned int seed;
	struct timespec ts;

	if (seed == 0) {
		clock_gettime(CLOCK_MONOTONIC, &ts);
		seed = (unsigned int)(ts.tv_nsec ^ (long)getpid() ^ ts.tv_sec) | 1u;
	}
	return (double)rand_r(&seed) / ((double)RAND_MAX + 1.0);
}
