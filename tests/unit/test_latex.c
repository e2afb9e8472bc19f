/* Unit tests for LaTeX math in Unicode (ui/latex.c) and math in the Markdown renderer. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "buf.h"
#include "latex.h"
#include "markdown.h"
#include "theme.h"

/* Convert s and compare with want. */
static void
check(const char *s, const char *want)
{
	struct buf out = BUF_INIT;

	latex_to_unicode(s, strlen(s), &out);
	assert_string_equal(buf_str(&out), want);
	buf_free(&out);
}

/* Greek letters, operators, relations and arrows. */
static void
test_symbols(void **state)
{
	(void)state;
	check("\\alpha + \\beta = \\Gamma", "α + β = Γ");
	check("\\sum \\int \\infty \\leq \\geq \\neq \\approx", "∑ ∫ ∞ ≤ ≥ ≠ ≈");
	check("a \\times b \\cdot c \\pm d \\to e", "a × b ⋅ c ± d → e");
	check("\\forall x \\in \\mathbb{R}", "∀ x ∈ ℝ");
	check("x\\,y\\;z\\!w", "x y zw");
	check("\\{a\\} \\% \\$", "{a} % $");
	check("\\sin x + \\log y", "sin x + log y");
	check("\\unknown{x}", "\\unknownx");
}

/* Super- and subscripts where Unicode has them, ^( ) where it does not. */
static void
test_scripts(void **state)
{
	(void)state;
	check("x^2 + y^{10}", "x² + y¹⁰");
	check("a_i + a_{n-1}", "aᵢ + aₙ₋₁");
	check("e^{i\\pi}", "e^(iπ)");
	check("x^{\\alpha}", "xᵅ");
	check("q_y", "q_y");
	check("x_{yz}", "x_(yz)");
	check("x^*", "x*");
	check("f'(x)", "f′(x)");
	check("\\sum_{i=1}^{n} x_i", "∑ᵢ₌₁ⁿ xᵢ");
	check("x^", "x^");
}

/* Fractions, roots, text and accents. */
static void
test_structures(void **state)
{
	(void)state;
	check("\\frac{1}{2}", "1⁄2");
	check("\\frac{a+b}{c}", "(a+b)/c");
	check("\\frac12", "1⁄2");
	check("\\sqrt{x}", "√x");
	check("\\sqrt{x+1}", "√(x+1)");
	check("\\sqrt[3]{8}", "∛8");
	check("\\sqrt[5]{y}", "⁵√y");
	check("\\text{if } x > 0", "if  x > 0");
	check("\\mathrm{d}x", "dx");
	check("\\hat{x} + \\vec{v}", "x\xcc\x82 + v\xe2\x83\x97");
	check("\\binom{n}{k}", "C(n, k)");
	check("\\left( x \\right)", "( x )");
	check("\\begin{pmatrix} a & b \\\\ c & d \\end{pmatrix}", " a   b   c   d ");
	check("\\frac{\\frac{1}{2}}{3}", "(1⁄2)/3");
}

/* Hostile input: deep nesting and unbalanced braces end in linear time and bounded stack. */
static void
test_hostile(void **state)
{
	struct buf in = BUF_INIT, out = BUF_INIT;
	int i;

	(void)state;
	for (i = 0; i < 20000; i++)
		buf_puts(&in, "\\frac{");
	latex_to_unicode(in.data, in.len, &out);
	assert_true(out.len > 0);
	buf_reset(&in);
	buf_reset(&out);
	for (i = 0; i < 20000; i++)
		buf_puts(&in, "x^{");
	latex_to_unicode(in.data, in.len, &out);
	buf_reset(&in);
	buf_reset(&out);
	for (i = 0; i < 5000; i++)
		buf_puts(&in, "\\sqrt[");
	latex_to_unicode(in.data, in.len, &out);
	check("}}}{{{", "");
	check("\\", "\\");
	buf_free(&in);
	buf_free(&out);
}

/* Math in a reply: drawn in Unicode in the math role once it closes; "$5 and $10" is
 * money, not math; display math takes a line of its own. */
static void
test_markdown_math(void **state)
{
	struct markdown m;
	const char *src = "Area $\\pi r^2$ costs $5 and $10.\n\n$$\n\\frac{a}{b} \\leq 1\n$$\n";
	char *s;
	size_t i, math = 0;

	(void)state;
	markdown_init(&m, THEME_TEXT, 0);
	markdown_update(&m, src, strlen(src), 60, 1);
	s = rtext_plain(&m.out);
	assert_string_equal(s, "Area πr² costs $5 and $10.\n\n  a⁄b ≤ 1\n");
	for (i = 0; i < m.out.nsegs; i++)
		math += m.out.segs[i].role == THEME_MATH;
	assert_int_equal(math, 2);
	free(s);
	markdown_free(&m);
	/* Still open: the dollar stays as typed. */
	markdown_init(&m, THEME_TEXT, 0);
	markdown_update(&m, "Area $\\pi r^2", 13, 60, 0);
	s = rtext_plain(&m.out);
	assert_string_equal(s, "Area $\\pi r^2\n");
	free(s);
	markdown_free(&m);
	/* Off: as written. */
	{
		struct md_options off = { 1, 0, 1 }, on = { 1, 1, 1 };

		markdown_set_options(&off);
		markdown_init(&m, THEME_TEXT, 0);
		markdown_update(&m, "$x^2$", 5, 60, 1);
		s = rtext_plain(&m.out);
		assert_string_equal(s, "$x^2$\n");
		free(s);
		markdown_free(&m);
		markdown_set_options(&on);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_symbols),
		cmocka_unit_test(test_scripts),
		cmocka_unit_test(test_structures),
		cmocka_unit_test(test_hostile),
		cmocka_unit_test(test_markdown_math),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
