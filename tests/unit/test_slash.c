/*
 * The slash command table: every row has a handler, names and aliases are unique, and
 * natter(1)'s "Slash commands" section documents each command, so the page cannot drift
 * from what the interface runs.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "slash.h"

/* Handlers, argument hints and help lines are all there; no name is taken twice. */
static void
test_table(void **state)
{
	size_t n, i, j;
	const struct slash_cmd *c = slash_table(&n);

	(void)state;
	assert_true(n > 10);
	for (i = 0; i < n; i++) {
		assert_non_null(c[i].run);
		assert_non_null(c[i].args);
		assert_true(strlen(c[i].help) > 0);
		for (j = 0; j < n; j++) {
			if (i == j)
				continue;
			assert_string_not_equal(c[i].name, c[j].name);
			if (c[j].alias != NULL)
				assert_string_not_equal(c[i].name, c[j].alias);
		}
	}
}

/* natter(1) documents every command in its Slash commands section. */
static void
test_manpage(void **state)
{
	FILE *f = fopen("man/natter.1", "r");
	char line[1024], want[64], want2[64];
	size_t n, i, len = 0, cap = 1 << 16;
	const struct slash_cmd *c = slash_table(&n);
	char *sect = calloc(1, cap);
	int in = 0;

	(void)state;
	assert_non_null(f);
	while (fgets(line, sizeof line, f) != NULL) {
		if (strncmp(line, ".SS Slash commands", 18) == 0)
			in = 1;
		else if (in && (strncmp(line, ".SS ", 4) == 0 || strncmp(line, ".SH ", 4) == 0))
			in = 0;
		if (in && len + strlen(line) + 1 < cap) {
			memcpy(sect + len, line, strlen(line) + 1);
			len += strlen(line);
		}
	}
	fclose(f);
	assert_true(len > 0);
	for (i = 0; i < n; i++) {
		/* An entry: ".TP" then ".B /name" or ".BI /name " with its arguments. */
		snprintf(want, sizeof want, ".TP\n.B /%s\n", c[i].name);
		snprintf(want2, sizeof want2, ".TP\n.BI /%s ", c[i].name);
		if (strstr(sect, want) == NULL && strstr(sect, want2) == NULL)
			fail_msg("natter(1) has no Slash commands entry for /%s", c[i].name);
	}
	free(sect);
}

/* Run the slash table tests. */
int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_manpage),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
