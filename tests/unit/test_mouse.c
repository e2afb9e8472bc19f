/* Unit tests of the SGR mouse report parser (ui/termreport.c): presses, releases, the wheel,
 * modifiers and what is not a report. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "termreport.h"

/* Parse s, which must be a report. */
static struct termreport_mouse
parse(const char *s)
{
	struct termreport_mouse m;

	memset(&m, 0, sizeof m);
	assert_int_equal(termreport_mouse(s, strlen(s), &m), 0);
	return m;
}

/* A press and a release of the left button, cells from 0. */
static void
test_press_release(void **state)
{
	struct termreport_mouse m;

	(void)state;
	m = parse("0;10;5M");
	assert_int_equal(m.button, 0);
	assert_int_equal(m.x, 9);
	assert_int_equal(m.y, 4);
	assert_int_equal(m.press, 1);
	m = parse("0;1;1m");
	assert_int_equal(m.press, 0);
	assert_int_equal(m.x, 0);
	assert_int_equal(m.y, 0);
	/* Far cells, beyond what X10 reports could carry. */
	m = parse("2;300;250M");
	assert_int_equal(m.button, 2);
	assert_int_equal(m.x, 299);
	assert_int_equal(m.y, 249);
}

/* The wheel is 64 and 65; Control (16) and drags (32) are in the button code too. */
static void
test_wheel_modifiers(void **state)
{
	(void)state;
	assert_int_equal(parse("64;3;3M").button, 64);
	assert_int_equal(parse("65;3;3M").button, 65);
	assert_int_equal(parse("16;3;3M").button, 16);
	assert_int_equal(parse("32;3;3M").button, 32);
}

/* Anything else is not a report: fields missing or empty, no final byte, bytes after it,
 * a cell 0, letters, numbers too big. */
static void
test_malformed(void **state)
{
	static const char *bad[] = { "", "M", "0;1M", "0;1;M", ";1;1M", "0;1;1", "0;1;1Mx",
	    "0;0;1M", "0;1;0M", "a;1;1M", "0;1;1;1M", "0;99999999999;1M", "0;1;1X" };
	struct termreport_mouse m;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++)
		assert_int_equal(termreport_mouse(bad[i], strlen(bad[i]), &m), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_press_release),
		cmocka_unit_test(test_wheel_modifiers),
		cmocka_unit_test(test_malformed),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
