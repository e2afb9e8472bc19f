/* Unit tests for the growable buffer and the allocation wrappers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "buf.h"
#include "xmalloc.h"

/* Appending one byte at a time keeps the contents and the trailing NUL. */
static void
test_append_bytes(void **state)
{
	struct buf b = BUF_INIT;
	int i;

	(void)state;
	for (i = 0; i < 10000; i++)
		buf_putc(&b, (char)('a' + i % 26));
	assert_int_equal(b.len, 10000);
	assert_int_equal(b.data[10000], '\0');
	assert_int_equal(b.data[27], 'b');
	buf_free(&b);
	assert_null(b.data);
}

/* Consuming drops a prefix; consuming everything empties the buffer. */
static void
test_consume(void **state)
{
	struct buf b = BUF_INIT;

	(void)state;
	buf_puts(&b, "hello world");
	buf_consume(&b, 6);
	assert_string_equal(buf_str(&b), "world");
	buf_consume(&b, 100);
	assert_int_equal(b.len, 0);
	assert_string_equal(buf_str(&b), "");
	buf_free(&b);
}

/* printf appends and JSON quoting escapes what JSON requires. */
static void
test_printf_json(void **state)
{
	struct buf b = BUF_INIT;
	char *s;

	(void)state;
	buf_printf(&b, "%d-%s", 42, "x");
	buf_json_string(&b, "a\"b\\c\n\x01", 7);
	assert_string_equal(buf_str(&b), "42-x\"a\\\"b\\\\c\\n\\u0001\"");
	s = buf_detach(&b);
	assert_null(b.data);
	free(s);
	s = xasprintf("%s=%d", "n", 7);
	assert_string_equal(s, "n=7");
	free(s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_append_bytes),
		cmocka_unit_test(test_consume),
		cmocka_unit_test(test_printf_json),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
