/* SHA-256 against the FIPS 180-4 examples, fed whole and a byte at a time. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "sha256.h"

/* The hex digest of n bytes of p, fed in pieces of step bytes. */
static void
digest(const char *p, size_t n, size_t step, char hex[2 * SHA256_LEN + 1])
{
	struct sha256 s;
	unsigned char out[SHA256_LEN];
	size_t i;

	sha256_init(&s);
	for (i = 0; i < n; i += step)
		sha256_update(&s, p + i, n - i < step ? n - i : step);
	sha256_final(&s, out);
	for (i = 0; i < SHA256_LEN; i++)
		snprintf(hex + 2 * i, 3, "%02x", out[i]);
}

/* The FIPS examples, the empty message, and a million a's (many blocks). */
static void
test_vectors(void **state)
{
	static const struct {
		const char *msg;
		const char *hex;
	} v[] = {
		{ "", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" },
		{ "abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad" },
		{ "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
		  "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1" },
	};
	char hex[2 * SHA256_LEN + 1];
	char *a;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof v / sizeof v[0]; i++) {
		digest(v[i].msg, strlen(v[i].msg), 64, hex);
		assert_string_equal(hex, v[i].hex);
		digest(v[i].msg, strlen(v[i].msg), 1, hex);
		assert_string_equal(hex, v[i].hex);
	}
	a = malloc(1000000);
	assert_non_null(a);
	memset(a, 'a', 1000000);
	digest(a, 1000000, 4093, hex);
	assert_string_equal(hex, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
	free(a);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vectors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
