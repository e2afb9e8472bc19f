/* Unit tests for the retry policy: backoff values, server delays, the cap, never-retry classes,
 * the total budget. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>

#include "apierr.h"
#include "retry.h"

/* A retry fits the budget when it starts (after its wait) no later than total after the
 * first attempt; no budget means no limit; odd inputs do not overflow or sneak through. */
static void
test_budget(void **state)
{
	(void)state;
	assert_true(retry_within_budget(0, 500, 120000));
	assert_true(retry_within_budget(1000, 500, 1500));
	assert_false(retry_within_budget(1001, 500, 1500));
	assert_false(retry_within_budget(300000, 500, 120000));
	assert_false(retry_within_budget(0, 200000, 120000));
	assert_true(retry_within_budget(10000000, 60000, 0));
	assert_true(retry_within_budget(10000000, 60000, -1));
	assert_true(retry_within_budget(-5, -5, 10));
	assert_false(retry_within_budget(0, 0x7fffffffL, 0x7ffffffeL));
}

/* With no jitter the waits double from 0.5 s and stop growing at 8 s. */
static void
test_backoff_no_jitter(void **state)
{
	static const long want[] = { 500, 1000, 2000, 4000, 8000, 8000, 8000 };
	int k;

	(void)state;
	for (k = 0; k < 7; k++)
		assert_int_equal(retry_delay_ms(k, -1, 60, 0.0), want[k]);
	assert_int_equal(retry_delay_ms(40, -1, 60, 0.0), 8000);
}

/* Jitter shortens the wait by up to a quarter, never lengthens it. */
static void
test_backoff_jitter(void **state)
{
	(void)state;
	assert_int_equal(retry_delay_ms(0, -1, 60, 0.5), 438);   /* 500 * 0.875 */
	assert_int_equal(retry_delay_ms(1, -1, 60, 0.5), 875);
	assert_int_equal(retry_delay_ms(3, -1, 60, 0.2), 3800);
	/* random01 close to 1 gives almost the full quarter off. */
	assert_in_range(retry_delay_ms(4, -1, 60, 0.999), 6000, 6010);
	/* Out-of-range random values are clamped rather than trusted. */
	assert_int_equal(retry_delay_ms(0, -1, 60, -3.0), 500);
	assert_in_range(retry_delay_ms(0, -1, 60, 7.0), 375, 376);
}

/* A server delay inside the cap is used exactly, with no jitter. */
static void
test_server_delay(void **state)
{
	(void)state;
	assert_int_equal(retry_delay_ms(0, 1.0, 60, 0.9), 1000);
	assert_int_equal(retry_delay_ms(3, 0.15, 60, 0.9), 150);
	assert_int_equal(retry_delay_ms(0, 31, 60, 0.0), 31000);
	assert_int_equal(retry_delay_ms(0, 60, 60, 0.0), 60000);
	/* Zero or negative means "nothing asked": back to the backoff. */
	assert_int_equal(retry_delay_ms(1, 0, 60, 0.0), 1000);
}

/* Over the cap the answer is "do not retry", and the cap also bounds the backoff. */
static void
test_over_cap(void **state)
{
	(void)state;
	assert_int_equal(retry_delay_ms(0, 61, 60, 0.0), -1);
	assert_int_equal(retry_delay_ms(0, 3600, 60, 0.0), -1);
	assert_int_equal(retry_delay_ms(0, 5, 2, 0.0), -1);
	assert_int_equal(retry_delay_ms(6, -1, 2, 0.0), 2000);
	/* A non-positive cap falls back to the 60 s default. */
	assert_int_equal(retry_delay_ms(0, 59, 0, 0.0), 59000);
	assert_int_equal(retry_delay_ms(0, 61, 0, 0.0), -1);
}

/* Make an error for the class tests. */
static struct apierr *
mk(enum apierr_kind kind, enum apierr_class cls, int retryable)
{
	struct apierr *e = apierr_new(kind, cls, "x");

	e->retryable = retryable;
	return e;
}

/* Auth, quota, bad request and context length are never retried, whatever the flag says. */
static void
test_never_retry(void **state)
{
	static const enum apierr_class never[] = { APIERR_AUTH, APIERR_PERMISSION,
		APIERR_NOT_FOUND, APIERR_QUOTA, APIERR_BAD_REQUEST, APIERR_CONTEXT_LENGTH,
		APIERR_BLOCKED, APIERR_CANCELLED, APIERR_TLS };
	struct apierr *e;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(never) / sizeof(never[0]); i++) {
		e = mk(APIERR_HTTP, never[i], 1);
		assert_false(retry_error_retryable(e));
		apierr_free(e);
	}
	assert_false(retry_error_retryable(NULL));
}

/* Retryable HTTP errors and transport connection/timeout failures are retried. */
static void
test_retry_classes(void **state)
{
	struct apierr *e;

	(void)state;
	e = mk(APIERR_HTTP, APIERR_RATE_LIMIT, 1);
	assert_true(retry_error_retryable(e));
	apierr_free(e);
	e = mk(APIERR_HTTP, APIERR_OVERLOADED, 1);
	assert_true(retry_error_retryable(e));
	apierr_free(e);
	/* The server or classifier said no (e.g. x-should-retry: false). */
	e = mk(APIERR_HTTP, APIERR_SERVER, 0);
	assert_false(retry_error_retryable(e));
	apierr_free(e);
	e = mk(APIERR_HTTP, APIERR_OTHER, -1);
	assert_false(retry_error_retryable(e));
	apierr_free(e);
	e = mk(APIERR_TRANSPORT, APIERR_CONNECTION, -1);
	assert_true(retry_error_retryable(e));
	apierr_free(e);
	e = mk(APIERR_TRANSPORT, APIERR_TIMEOUT, -1);
	assert_true(retry_error_retryable(e));
	apierr_free(e);
	e = mk(APIERR_TRANSPORT, APIERR_OTHER, 1);
	assert_false(retry_error_retryable(e));
	apierr_free(e);
	e = mk(APIERR_LOCAL, APIERR_SERVER, 1);
	assert_false(retry_error_retryable(e));
	apierr_free(e);
}

/* The jitter source stays in [0, 1). */
static void
test_random_range(void **state)
{
	int i;
	double r;

	(void)state;
	for (i = 0; i < 1000; i++) {
		r = retry_random01();
		assert_true(r >= 0.0 && r < 1.0);
	}
}

/* Run the retry policy tests. */
int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_backoff_no_jitter),
		cmocka_unit_test(test_budget),
		cmocka_unit_test(test_backoff_jitter),
		cmocka_unit_test(test_server_delay),
		cmocka_unit_test(test_over_cap),
		cmocka_unit_test(test_never_retry),
		cmocka_unit_test(test_retry_classes),
		cmocka_unit_test(test_random_range),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
