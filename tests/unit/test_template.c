/* Template rendering: placeholders, escapes, missing variables, extends. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "params.h"
#include "template.h"
#include "xmalloc.h"

/* Placeholders take their values; later variables win. */
static void
test_render(void **state)
{
	struct template_var v[] = { { "lang", "C" }, { "code", "int x;" }, { "lang", "Go" } };
	char *err, *s;

	(void)state;
	s = template_render("Review this {lang}:\n{code}\n", v, 3, &err);
	assert_null(err);
	assert_string_equal(s, "Review this Go:\nint x;\n");
	free(s);
}

/* {{ and }} are literal braces; other braces stay as they are. */
static void
test_escapes(void **state)
{
	struct template_var v[] = { { "x", "1" } };
	char *err, *s;

	(void)state;
	s = template_render("{{x}} {x} { x } {} if (a) { b(); } }}{{ {x", v, 1, &err);
	assert_null(err);
	assert_string_equal(s, "{x} 1 { x } {} if (a) { b(); } }{ {x");
	free(s);
}

/* Every missing variable is named once, in order. */
static void
test_missing(void **state)
{
	struct template_var v[] = { { "a", "1" } };
	char *err = NULL, *s;

	(void)state;
	s = template_render("{b} {a} {c} {b}", v, 1, &err);
	assert_null(s);
	assert_string_equal(err, "missing variables: b, c");
	free(err);
	s = template_render("{only}", NULL, 0, &err);
	assert_null(s);
	assert_string_equal(err, "missing variable: only");
	free(err);
}

/* Names are listed without duplicates and escapes are not names. */
static void
test_names(void **state)
{
	char **names;
	size_t n;

	(void)state;
	n = template_names("{a}{{b}}{c-d}{a}{e f}", &names);
	assert_int_equal(n, 2);
	assert_string_equal(names[0], "a");
	assert_string_equal(names[1], "c-d");
	assert_null(names[2]);
	template_names_free(names);
}

/* A template with extends: append joins text, replace substitutes it; defaults and
 * parameters are inherited and overridden. */
static void
test_inherit(void **state)
{
	struct template parent, child, repl;
	struct template_var pd[] = { { "lang", "Python" }, { "tone", "kind" } };
	struct template_var cd[] = { { "lang", "C" } };
	struct template_var uv[] = { { "code", "x" } };
	char *sys, *user, *err, *e = NULL;

	(void)state;
	memset(&parent, 0, sizeof parent);
	parent.name = xstrdup("p");
	parent.system = xstrdup("Review {lang}, be {tone}.");
	parent.user = xstrdup("{code}");
	parent.defaults = xcalloc(2, sizeof *parent.defaults);
	parent.defaults[0].name = xstrdup(pd[0].name);
	parent.defaults[0].value = xstrdup(pd[0].value);
	parent.defaults[1].name = xstrdup(pd[1].name);
	parent.defaults[1].value = xstrdup(pd[1].value);
	parent.ndefaults = 2;
	assert_int_equal(params_set(&parent.params, "temperature", "0.5", &e), 0);
	assert_int_equal(params_set(&parent.params, "top_p", "0.9", &e), 0);

	memset(&child, 0, sizeof child);
	child.name = xstrdup("c");
	child.system = xstrdup("Focus on memory.");
	child.mode = TEMPLATE_APPEND;
	child.defaults = xcalloc(1, sizeof *child.defaults);
	child.defaults[0].name = xstrdup(cd[0].name);
	child.defaults[0].value = xstrdup(cd[0].value);
	child.ndefaults = 1;
	assert_int_equal(params_set(&child.params, "temperature", "0.1", &e), 0);
	template_inherit(&child, &parent);
	assert_int_equal(template_apply(&child, uv, 1, &sys, &user, &err), 0);
	assert_string_equal(sys, "Review C, be kind.\n\nFocus on memory.");
	assert_string_equal(user, "x");
	assert_true(child.params.temperature == 0.1);
	assert_true(child.params.top_p == 0.9);
	free(sys);
	free(user);
	/* Without the user's variable the error names it and the template. */
	assert_int_equal(template_apply(&child, NULL, 0, &sys, &user, &err), -1);
	assert_string_equal(err, "template c: missing variable: code");
	free(err);

	memset(&repl, 0, sizeof repl);
	repl.name = xstrdup("r");
	repl.system = xstrdup("Only {lang}.");
	repl.mode = TEMPLATE_REPLACE;
	template_inherit(&repl, &parent);
	assert_int_equal(template_apply(&repl, uv, 1, &sys, &user, &err), 0);
	assert_string_equal(sys, "Only Python.");
	assert_string_equal(user, "x");
	free(sys);
	free(user);
	template_clear(&parent);
	template_clear(&child);
	template_clear(&repl);
}

/* Run the template tests. */
int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_render),
		cmocka_unit_test(test_escapes),
		cmocka_unit_test(test_missing),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_inherit),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
