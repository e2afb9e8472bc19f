/* Unit tests for the NDJSON line splitter (protocols.md §C.1, last bullet). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "buf.h"
#include "ndjson.h"

/* Record each line followed by a 0x1e separator. */
static void
collect(void *ud, const char *line, size_t len)
{
	struct buf *b = ud;

	buf_append(b, line, len);
	buf_putc(b, '\x1e');
}

/* Split input at every offset and one byte at a time; all must give want. */
static void
check_all_splits(const char *input, size_t n, const char *want)
{
	struct buf out = BUF_INIT;
	struct ndjson d;
	size_t i, cut;

	for (cut = 0; cut <= n; cut++) {
		ndjson_init(&d, collect, &out);
		ndjson_feed(&d, input, cut);
		ndjson_feed(&d, input + cut, n - cut);
		ndjson_finish(&d);
		ndjson_free(&d);
		assert_string_equal(buf_str(&out), want);
		buf_free(&out);
	}
	ndjson_init(&d, collect, &out);
	for (i = 0; i < n; i++)
		ndjson_feed(&d, input + i, 1);
	ndjson_finish(&d);
	ndjson_free(&d);
	assert_string_equal(buf_str(&out), want);
	buf_free(&out);
}

#define CHECK(input, want) check_all_splits(input, sizeof(input) - 1, want)

/* LF and CRLF lines, blank lines skipped. */
static void
test_lines(void **state)
{
	(void)state;
	CHECK("{\"a\":1}\n{\"b\":2}\n", "{\"a\":1}\x1e{\"b\":2}\x1e");
	CHECK("{\"a\":1}\r\n\r\n\n  \n{\"b\":2}\r\n", "{\"a\":1}\x1e{\"b\":2}\x1e");
	CHECK("", "");
	CHECK("\n\n", "");
}

/* An unterminated final line is still delivered at EOF. */
static void
test_unterminated(void **state)
{
	struct buf out = BUF_INIT;
	struct ndjson d;

	(void)state;
	CHECK("{\"a\":1}\n{\"done\":true}", "{\"a\":1}\x1e{\"done\":true}\x1e");
	ndjson_init(&d, collect, &out);
	ndjson_feed(&d, "{\"x\":", 5);
	assert_int_equal(out.len, 0);
	assert_int_equal(ndjson_finish(&d), 1);
	assert_string_equal(buf_str(&out), "{\"x\":\x1e");
	assert_int_equal(ndjson_finish(&d), 0);
	ndjson_free(&d);
	buf_free(&out);
}

/* Split multi-byte characters are joined before the line is delivered. */
static void
test_utf8(void **state)
{
	(void)state;
	CHECK("{\"c\":\"\xd0\xbf\xd1\x80\xf0\x9f\x92\x99\"}\n", "{\"c\":\"\xd0\xbf\xd1\x80\xf0\x9f\x92\x99\"}\x1e");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lines),
		cmocka_unit_test(test_unterminated),
		cmocka_unit_test(test_utf8),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
