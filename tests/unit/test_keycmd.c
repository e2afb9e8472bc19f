/* Key command tests: the key is the first line printed; a failure says the exit status
 * (not the wait status), the signal, or that the command ran out of time and was stopped,
 * and a command that hangs is stopped at the limit instead of hanging natter. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "keycmd.h"

/* Seconds on the monotonic clock. */
static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Run cmd and check it fails with an error containing want. */
static void
fails_with(const char *cmd, double timeout, const char *want)
{
	char *key = (char *)1, *err = NULL;

	assert_int_equal(keycmd_run(cmd, timeout, &key, &err), -1);
	assert_null(key);
	assert_non_null(err);
	if (strstr(err, want) == NULL)
		fail_msg("%s: want '%s', got '%s'", cmd, want, err);
	free(err);
}

/* The first line, without its line end and trailing blanks, is the key. */
static void
test_first_line(void **state)
{
	char *key = NULL, *err = NULL;

	(void)state;
	assert_int_equal(keycmd_run("printf 'sk-first-line \\r\\nsecond line\\n'", 5, &key, &err), 0);
	assert_null(err);
	assert_string_equal(key, "sk-first-line");
	free(key);
}

/* A failing command is reported by its exit status: 1, not the raw 256. */
static void
test_exit_status(void **state)
{
	(void)state;
	fails_with("echo sk-ignored; exit 1", 5, "exited with status 1");
	fails_with("exit 3", 5, "exited with status 3");
	fails_with("no-such-command-natter-test 2>/dev/null", 5,
	    "exited with status 127 (command not found?)");
	fails_with("true", 5, "printed nothing");
	fails_with("kill -9 $$", 5, "was killed by signal 9");
}

/* A command that hangs, printing or not, is stopped at the limit. */
static void
test_timeout(void **state)
{
	double t0;

	(void)state;
	t0 = now();
	fails_with("sleep 5", 0.3, "timed out after 0.3 s and was stopped");
	assert_true(now() - t0 < 5);
	/* Its output is closed, but it does not exit. */
	t0 = now();
	fails_with("echo sk-early; exec >&-; sleep 5", 0.3, "timed out after 0.3 s");
	assert_true(now() - t0 < 5);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_first_line),
		cmocka_unit_test(test_exit_status),
		cmocka_unit_test(test_timeout),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
