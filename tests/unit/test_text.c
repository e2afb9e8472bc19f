/* Unit tests for terminal-safe text: escape sequences, controls and bad UTF-8 never pass. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "buf.h"
#include "text.h"

/* Sanitize input whole, and split at every offset; all must give want. */
static void
check(const char *input, size_t n, const char *want)
{
	struct buf out = BUF_INIT;
	struct text_filter f;
	size_t cut;

	text_sanitize(input, n, &out);
	assert_string_equal(buf_str(&out), want);
	buf_free(&out);
	for (cut = 0; cut <= n; cut++) {
		text_filter_init(&f);
		text_filter_feed(&f, input, cut, &out);
		text_filter_feed(&f, input + cut, n - cut, &out);
		text_filter_finish(&f, &out);
		assert_string_equal(buf_str(&out), want);
		buf_free(&out);
	}
}

#define CHECK(input, want) check(input, sizeof(input) - 1, want)

/* CSI, OSC (BEL and ST ended), DCS and two-byte escapes are removed. */
static void
test_escapes(void **state)
{
	(void)state;
	CHECK("a\x1b[31mred\x1b[0m!", "ared!");
	CHECK("\x1b]52;c;aGVsbG8=\x07" "after", "after");
	CHECK("\x1b]0;title\x1b\\x", "x");
	CHECK("\x1bPq#0;2;0;0;0\x1b\\y", "y");
	CHECK("\x1b" "7saved\x1b" "8", "saved");
	CHECK("\x1b(Bz", "z");
	CHECK("\x1b[2J\x1b[H\x1b[?1049h", "");
}

/* C1 controls written as UTF-8 are caught, including the one-code-point CSI. */
static void
test_c1(void **state)
{
	(void)state;
	CHECK("\xc2\x9b" "31mX", "X");
	CHECK("\xc2\x9d" "0;t\xc2\x9c" "Y", "Y");
	CHECK("a\xc2\x85" "b", "ab");
}

/* Newline and tab stay; CR, other C0, DEL and bidi overrides go. */
static void
test_controls(void **state)
{
	(void)state;
	CHECK("a\tb\nc", "a\tb\nc");
	CHECK("a\rb\x07\x08\x7f" "c", "abc");
	CHECK("x\xe2\x80\xaey\xe2\x81\xa6z", "xyz");
}

/* Invalid UTF-8 becomes U+FFFD; valid multi-byte text is untouched. */
static void
test_utf8(void **state)
{
	(void)state;
	CHECK("\xe4\xb8\xad\xe6\x96\x87 \xf0\x9f\x92\x99", "\xe4\xb8\xad\xe6\x96\x87 \xf0\x9f\x92\x99");
	CHECK("a\xff" "b", "a\xef\xbf\xbd" "b");
	CHECK("\xc0\xaf", "\xef\xbf\xbd\xef\xbf\xbd");
	CHECK("\xe4\xb8", "\xef\xbf\xbd");
	CHECK("\xe4\xb8" "a", "\xef\xbf\xbd" "a");
	CHECK("\xed\xa0\x80!", "\xef\xbf\xbd!");
	CHECK("\xe0\x80\x80", "\xef\xbf\xbd");
}

/* An unterminated string sequence ends at a newline instead of eating the reply. */
static void
test_unterminated_string(void **state)
{
	(void)state;
	CHECK("\x1b]8;;http://x\nvisible", "\nvisible");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_escapes),
		cmocka_unit_test(test_c1),
		cmocka_unit_test(test_controls),
		cmocka_unit_test(test_utf8),
		cmocka_unit_test(test_unterminated_string),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
