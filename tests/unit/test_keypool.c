/* Key pool tests with an injected clock: windows, 429 backoff, rotation, waiting. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <sys/stat.h>
#include <unistd.h>

#include "keypool.h"

static double now_s;

/* The test clock: whatever the test set. */
static double
fake_clock(void *ctx)
{
	(void)ctx;
	return now_s;
}

/* A pool on the fake clock with the given keys. */
static struct keypool *
pool(int nkeys, long rpm, long rpd, long tpm)
{
	struct keypool *kp = keypool_new("test");
	char name[32];
	int i;

	now_s = 1000;
	keypool_set_clock(kp, fake_clock, NULL);
	for (i = 0; i < nkeys; i++) {
		snprintf(name, sizeof name, "sk-test-key-number-%d", i);
		keypool_add(kp, name, "literal", rpm, rpd, tpm);
	}
	return kp;
}

/* Acquire and return the key index, freeing the secret copy. */
static int
take(struct keypool *kp, long tokens, double *wait)
{
	char *secret;
	double w;
	int idx = keypool_acquire(kp, tokens, &secret, &w);

	if (idx >= 0) {
		assert_non_null(secret);
		free(secret);
	} else {
		assert_null(secret);
	}
	if (wait != NULL)
		*wait = w;
	return idx;
}

/* Requests rotate round-robin across free keys. */
static void
test_rotation(void **state)
{
	struct keypool *kp = pool(3, 0, 0, 0);

	(void)state;
	assert_int_equal(take(kp, 0, NULL), 0);
	assert_int_equal(take(kp, 0, NULL), 1);
	assert_int_equal(take(kp, 0, NULL), 2);
	assert_int_equal(take(kp, 0, NULL), 0);
	keypool_free(kp);
}

/* The secret handed out is the key's own. */
static void
test_secret(void **state)
{
	struct keypool *kp = pool(2, 0, 0, 0);
	char *s;
	double w;

	(void)state;
	assert_int_equal(keypool_acquire(kp, 0, &s, &w), 0);
	assert_string_equal(s, "sk-test-key-number-0");
	free(s);
	assert_int_equal(keypool_acquire(kp, 0, &s, &w), 1);
	assert_string_equal(s, "sk-test-key-number-1");
	free(s);
	keypool_free(kp);
}

/* rpm: the window slides, and the wait is until the oldest request is 60 s old. */
static void
test_rpm_window(void **state)
{
	struct keypool *kp = pool(1, 2, 0, 0);
	double wait;

	(void)state;
	assert_int_equal(take(kp, 0, NULL), 0);
	now_s += 10;
	assert_int_equal(take(kp, 0, NULL), 0);
	now_s += 5;
	assert_int_equal(take(kp, 0, &wait), -1);
	assert_true(wait > 44.9 && wait < 45.1);
	now_s += 45;
	assert_int_equal(take(kp, 0, NULL), 0);
	assert_int_equal(take(kp, 0, &wait), -1);
	assert_true(wait > 9.9 && wait < 10.1);
	keypool_free(kp);
}

/* rpd counts over a day. */
static void
test_rpd_window(void **state)
{
	struct keypool *kp = pool(1, 0, 3, 0);
	double wait;
	int i;

	(void)state;
	for (i = 0; i < 3; i++) {
		assert_int_equal(take(kp, 0, NULL), 0);
		now_s += 3600;
	}
	assert_int_equal(take(kp, 0, &wait), -1);
	assert_true(wait > 86400 - 3 * 3600 - 0.1 && wait < 86400 - 3 * 3600 + 0.1);
	now_s += wait;
	assert_int_equal(take(kp, 0, NULL), 0);
	keypool_free(kp);
}

/* tpm: token estimates and corrected counts fill the window. */
static void
test_tpm_window(void **state)
{
	struct keypool *kp = pool(1, 0, 0, 1000);
	struct keypool_stat st;
	double wait;

	(void)state;
	assert_int_equal(take(kp, 400, NULL), 0);
	keypool_add_tokens(kp, 0, 700);
	now_s += 20;
	assert_int_equal(take(kp, 200, NULL), 0);
	assert_int_equal(keypool_stat(kp, 0, &st), 0);
	assert_int_equal(st.tok_minute, 900);
	assert_int_equal(st.req_minute, 2);
	keypool_stat_free(&st);
	assert_int_equal(take(kp, 200, &wait), -1);
	/* The first request (700 tokens, 20 s ago) must age out: 40 s. */
	assert_true(wait > 39.9 && wait < 40.1);
	keypool_free(kp);
}

/* 429s block a key for 60, 120, 240 ... seconds, capped at an hour; success resets. */
static void
test_backoff(void **state)
{
	struct keypool *kp = pool(1, 0, 0, 0);
	double expect = 60, got, wait;
	int i;

	(void)state;
	for (i = 0; i < 10; i++) {
		got = keypool_block(kp, 0, 0);
		assert_true(got == (expect < 3600 ? expect : 3600));
		assert_int_equal(take(kp, 0, &wait), -1);
		assert_true(wait > got - 0.01 && wait <= got);
		now_s += got;
		assert_int_equal(take(kp, 0, NULL), 0);
		expect *= 2;
	}
	keypool_success(kp, 0);
	assert_true(keypool_block(kp, 0, 0) == 60);
	/* The server's retry-after is the rest, longer or shorter than the backoff, capped. */
	keypool_success(kp, 0);
	assert_true(keypool_block(kp, 0, 300) == 300);
	assert_true(keypool_block(kp, 0, 99999) == 3600);
	now_s += 3600;
	assert_true(keypool_block(kp, 0, 20) == 20);
	assert_int_equal(take(kp, 0, &wait), -1);
	assert_true(wait > 19.9 && wait <= 20);
	keypool_free(kp);
}

/* A blocked key is skipped for the next free one; all blocked gives the shortest wait. */
static void
test_all_blocked(void **state)
{
	struct keypool *kp = pool(2, 0, 0, 0);
	struct keypool_stat st;
	double wait;

	(void)state;
	keypool_block(kp, 0, 0);
	assert_int_equal(take(kp, 0, NULL), 1);
	assert_int_equal(take(kp, 0, NULL), 1);
	now_s += 10;
	keypool_block(kp, 1, 0);
	keypool_block(kp, 1, 0); /* second strike: 120 s */
	assert_int_equal(take(kp, 0, &wait), -1);
	assert_true(wait > 49.9 && wait < 50.1);
	assert_int_equal(keypool_stat(kp, 1, &st), 0);
	assert_true(st.blocked_for > 119.9 && st.blocked_for < 120.1);
	assert_int_equal(st.strikes, 2);
	assert_null(strstr(st.masked, "key-number"));
	keypool_stat_free(&st);
	now_s += 50;
	assert_int_equal(take(kp, 0, NULL), 0);
	keypool_free(kp);
}

/* An empty pool never yields a key and says so with a negative wait. */
static void
test_empty(void **state)
{
	struct keypool *kp = pool(0, 0, 0, 0);
	double wait;

	(void)state;
	assert_int_equal(take(kp, 0, &wait), -1);
	assert_true(wait < 0);
	assert_int_equal(keypool_stat(kp, 0, &(struct keypool_stat){ 0 }), -1);
	keypool_free(kp);
}

/* The same secret added twice is one key: its windows are shared, its sources listed. */
static void
test_duplicate(void **state)
{
	struct keypool *kp = pool(0, 0, 0, 0);
	struct keypool_stat st;
	double wait;

	(void)state;
	keypool_add(kp, "sk-same-key-0123456789", "env A_KEY", 0, 1, 0);
	keypool_add(kp, "sk-same-key-0123456789", "env B_KEY", 0, 1, 0);
	assert_int_equal(keypool_count(kp), 1);
	assert_int_equal(keypool_stat(kp, 0, &st), 0);
	assert_string_equal(st.source, "env A_KEY, env B_KEY");
	keypool_stat_free(&st);
	/* rpd 1: the one key allows one request a day, not one per variable. */
	assert_int_equal(take(kp, 0, NULL), 0);
	assert_int_equal(take(kp, 0, &wait), -1);
	assert_true(wait > 86000);
	keypool_free(kp);
}

/* A pool "in another process": the same provider and keys on the same state file. */
static struct keypool *
shared(const char *provider, const char *path, long rpd)
{
	struct keypool *kp = keypool_new(provider);

	keypool_set_clock(kp, fake_clock, NULL);
	keypool_set_state(kp, path);
	keypool_add(kp, "sk-shared-key-number-0", "literal", 0, rpd, 0);
	keypool_add(kp, "sk-shared-key-number-1", "literal", 0, rpd, 0);
	return kp;
}

/* Two pools on one state file see each other's requests, rests and token counts, as two
 * natters do; the file holds no key and is private; another provider is apart. */
static void
test_shared_state(void **state)
{
	char dir[] = "/tmp/natter-test-keypool.XXXXXX", *path, *text;
	struct keypool *a, *b, *other;
	struct keypool_stat st;
	struct stat sb;
	double wait;
	FILE *f;
	long len;

	(void)state;
	assert_non_null(mkdtemp(dir));
	len = (long)strlen(dir) + 32;
	path = malloc((size_t)len);
	snprintf(path, (size_t)len, "%s/sub/natter.db-keypool", dir);
	now_s = 5000;
	a = shared("test", path, 1);
	b = shared("test", path, 1);
	other = shared("other", path, 1);
	/* rpd 1 on each key: two requests a day in all, whoever makes them. */
	assert_int_equal(take(a, 0, NULL), 0);
	assert_int_equal(take(b, 0, NULL), 1);
	assert_int_equal(take(a, 0, &wait), -1);
	assert_true(wait > 86399 && wait <= 86400);
	assert_int_equal(take(b, 0, NULL), -1);
	assert_int_equal(take(other, 0, NULL), 0);
	/* A rest for the server's 20 s, seen by the other pool. */
	now_s += 86400;
	assert_true(keypool_block(a, 0, 20) == 20);
	assert_int_equal(keypool_stat(b, 0, &st), 0);
	if (!(st.blocked_for > 19.9 && st.blocked_for <= 20.001))
		fail_msg("blocked_for %f", st.blocked_for);
	assert_int_equal(st.strikes, 1);
	assert_int_equal(st.req_day, 0);
	keypool_stat_free(&st);
	assert_int_equal(take(b, 0, NULL), 1);
	/* Token counts corrected by the pool that made the request, whoever came after. */
	keypool_add_tokens(b, 1, 700);
	assert_int_equal(keypool_stat(a, 1, &st), 0);
	assert_int_equal(st.tok_minute, 700);
	assert_int_equal(st.req_day, 1);
	keypool_stat_free(&st);
	keypool_success(b, 0);
	assert_int_equal(keypool_stat(a, 0, &st), 0);
	assert_int_equal(st.strikes, 0);
	keypool_stat_free(&st);
	/* No key in the file, which only its owner can read. */
	f = fopen(path, "r");
	assert_non_null(f);
	fseek(f, 0, SEEK_END);
	len = ftell(f);
	rewind(f);
	text = calloc(1, (size_t)len + 1);
	assert_int_equal(fread(text, 1, (size_t)len, f), (size_t)len);
	fclose(f);
	assert_null(strstr(text, "sk-shared"));
	assert_null(strstr(text, "key-number"));
	assert_non_null(strstr(text, "natter-keypool 1\n"));
	assert_int_equal(stat(path, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0600);
	free(text);
	keypool_free(a);
	keypool_free(b);
	keypool_free(other);
	unlink(path);
	snprintf(path, strlen(dir) + 32, "%s/sub", dir);
	rmdir(path);
	rmdir(dir);
	free(path);
}

/* A state file that cannot be made costs only the sharing: the pool works in memory. */
static void
test_state_unusable(void **state)
{
	struct keypool *kp;
	double wait;

	(void)state;
	now_s = 1000;
	kp = shared("test", "/proc/natter-cannot-be-here/natter.db-keypool", 1);
	assert_int_equal(take(kp, 0, NULL), 0);
	assert_int_equal(take(kp, 0, NULL), 1);
	assert_int_equal(take(kp, 0, &wait), -1);
	assert_true(wait > 86399);
	keypool_free(kp);
}

/* Run the key pool tests. */
int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rotation),
		cmocka_unit_test(test_secret),
		cmocka_unit_test(test_rpm_window),
		cmocka_unit_test(test_rpd_window),
		cmocka_unit_test(test_tpm_window),
		cmocka_unit_test(test_backoff),
		cmocka_unit_test(test_all_blocked),
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_duplicate),
		cmocka_unit_test(test_shared_state),
		cmocka_unit_test(test_state_unusable),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
