/* Fallback decisions: which errors switch models, and which model comes next. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "apierr.h"
#include "config.h"
#include "fallback.h"

/* Down, overloaded and keyless fall back; bad requests, partial replies and cancels don't. */
static void
test_wanted(void **state)
{
	struct apierr *e;

	(void)state;
	e = apierr_new(APIERR_HTTP, APIERR_OVERLOADED, "overloaded");
	assert_true(fallback_wanted(e, 0, 0));
	assert_false(fallback_wanted(e, 0, 1));
	assert_false(fallback_wanted(e, 1, 0));
	apierr_free(e);
	e = apierr_new(APIERR_TRANSPORT, APIERR_CONNECTION, "refused");
	assert_true(fallback_wanted(e, 0, 0));
	apierr_free(e);
	e = apierr_new(APIERR_HTTP, APIERR_BAD_REQUEST, "bad");
	assert_false(fallback_wanted(e, 0, 0));
	apierr_free(e);
	e = apierr_new(APIERR_HTTP, APIERR_CONTEXT_LENGTH, "too long");
	assert_false(fallback_wanted(e, 0, 0));
	apierr_free(e);
	e = apierr_new(APIERR_LOCAL, APIERR_OTHER, "no key");
	assert_true(fallback_wanted(e, 0, 0));
	apierr_free(e);
	assert_false(fallback_wanted(NULL, 0, 0));
}

/* The next model skips unusable and already tried ones. */
static void
test_next(void **state)
{
	struct config_errors errs = { NULL, 0 };
	struct config *c;
	struct model *m, *n;
	const char *tried[2];
	char *msg;
	struct apierr *e;
	FILE *f = fopen("/tmp/natter-test-fallback.yaml", "w");

	(void)state;
	assert_non_null(f);
	fputs("providers:\n"
	    "  up: {protocol: openai, base_url: 'http://127.0.0.1:1/v1', enabled: true}\n"
	    "  off: {protocol: openai, enabled: false}\n"
	    "models:\n"
	    "  a: {provider: up, fallback: [b, c, d]}\n"
	    "  b: {provider: off}\n"
	    "  c: {provider: up}\n"
	    "  d: {provider: up}\n", f);
	fclose(f);
	c = config_load("/tmp/natter-test-fallback.yaml", CONFIG_NO_DEFAULTS | CONFIG_NO_KEYCMD,
	    &errs);
	assert_int_equal(errs.n, 0);
	m = config_model(c, "a");
	tried[0] = "a";
	n = fallback_next(c, m, tried, 1);
	assert_non_null(n);
	assert_string_equal(n->name, "c");
	tried[1] = "c";
	n = fallback_next(c, m, tried, 2);
	assert_string_equal(n->name, "d");
	assert_null(fallback_next(c, config_model(c, "d"), tried, 2));
	e = apierr_new(APIERR_HTTP, APIERR_OVERLOADED, "busy");
	e->status = 529;
	msg = fallback_message("a", e, "c");
	assert_string_equal(msg, "a failed (overloaded, HTTP 529); falling back to c");
	free(msg);
	apierr_free(e);
	config_free(c);
	remove("/tmp/natter-test-fallback.yaml");
}

/* Run the fallback tests. */
int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_wanted),
		cmocka_unit_test(test_next),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
