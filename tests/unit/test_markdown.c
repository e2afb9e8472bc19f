/* Unit tests for the incremental Markdown renderer (ui/markdown.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "markdown.h"
#include "theme.h"
#include "wrap.h"

static const char *doc =
    "# Title with `code`\n"
    "\n"
    "Some *emphasis* and **strong** text that is long enough to wrap at forty columns.\n"
    "\n"
    "- first item\n"
    "- second item continues\n"
    "  on another line\n"
    "1. numbered\n"
    "\n"
    "> quoted text\n"
    "> more\n"
    "\n"
    "```python\n"
    "def f():\n"
    "    return '日本語'\n"
    "```\n"
    "\n"
    "---\n"
    "Last paragraph with 🙂 emoji and CJK 日本語日本語日本語日本語 wrapping.";

/* Render src in one go. */
static char *
render_full(const char *src, int width)
{
	struct markdown m;
	char *s;

	markdown_init(&m, THEME_TEXT, 0);
	markdown_update(&m, src, strlen(src), width, 1);
	s = rtext_plain(&m.out);
	markdown_free(&m);
	return s;
}

/* Headings, lists, quotes and code blocks render with their decorations. */
static void
test_blocks(void **state)
{
	char *s = render_full(doc, 40);

	(void)state;
	assert_non_null(strstr(s, "Title with code\n"));
	assert_non_null(strstr(s, "• first item\n"));
	assert_non_null(strstr(s, "• second item continues"));
	assert_non_null(strstr(s, "1. numbered\n"));
	assert_non_null(strstr(s, "▌ quoted text more\n"));
	assert_non_null(strstr(s, "╭─ python "));
	assert_non_null(strstr(s, "│     return '日本語'\n"));
	assert_non_null(strstr(s, "╰──"));
	assert_null(strstr(s, "**"));
	assert_null(strstr(s, "```"));
	free(s);
}

/* Every rendered line fits the width. */
static void
test_fits(void **state)
{
	char *s = render_full(doc, 23), *p, *nl;

	(void)state;
	for (p = s; (nl = strchr(p, '\n')) != NULL; p = nl + 1)
		assert_true(wrap_width(p, (size_t)(nl - p)) <= 23);
	free(s);
}

/* Feeding the source in chunks (as a stream does) renders exactly like a full render. */
static void
test_incremental_equals_full(void **state)
{
	size_t n = strlen(doc), step, pos;
	char *full = render_full(doc, 37);

	(void)state;
	for (step = 1; step < 40; step += 3) {
		struct markdown m;
		char *inc;

		markdown_init(&m, THEME_TEXT, 0);
		for (pos = 0; pos < n; pos += step) {
			size_t upto = pos + step > n ? n : pos + step;

			markdown_update(&m, doc, upto, 37, 0);
		}
		markdown_update(&m, doc, n, 37, 1);
		inc = rtext_plain(&m.out);
		assert_string_equal(inc, full);
		free(inc);
		markdown_free(&m);
	}
	free(full);
}

/* Finished blocks are frozen: the boundary advances and stays behind the open block. */
static void
test_frozen(void **state)
{
	struct markdown m;
	const char *src = "para one\n\npara two still open";

	(void)state;
	markdown_init(&m, THEME_TEXT, 0);
	markdown_update(&m, src, strlen(src), 40, 0);
	assert_int_equal(m.src_frozen, strlen("para one\n\n"));
	assert_int_equal(m.out_lines, 1);
	assert_int_equal(m.out.nlines, 3);
	markdown_free(&m);
}

/* Inline code and emphasis carry their roles and attributes. */
static void
test_inline_styles(void **state)
{
	struct markdown m;
	const char *src = "a `b` *c* **d**\n";
	size_t i;
	int code = 0, it = 0, bold = 0;

	(void)state;
	markdown_init(&m, THEME_TEXT, 0);
	markdown_update(&m, src, strlen(src), 40, 1);
	for (i = 0; i < m.out.nsegs; i++) {
		const struct rseg *sg = &m.out.segs[i];
		const char *t = m.out.text.data + sg->off;

		if (sg->role == THEME_CODE && t[0] == 'b')
			code = 1;
		if ((sg->attrs & THEME_ITALIC) && t[0] == 'c')
			it = 1;
		if ((sg->attrs & THEME_BOLD) && t[0] == 'd')
			bold = 1;
	}
	assert_true(code && it && bold);
	markdown_free(&m);
}

/* A heading that looks like a list item keeps its number. */
static void
test_no_loss(void **state)
{
	char *s = render_full("## 1. Introduction\n[ref]: not a link definition\n", 40);

	(void)state;
	assert_string_equal(s, "1. Introduction\n[ref]: not a link definition\n");
	free(s);
}

/* Code block sources can be extracted for copying. */
static void
test_code_block(void **state)
{
	struct buf b = BUF_INIT;

	(void)state;
	assert_int_equal(markdown_code_block(doc, strlen(doc), 0, &b), 0);
	assert_string_equal(buf_str(&b), "def f():\n    return '日本語'\n");
	assert_int_equal(markdown_code_block(doc, strlen(doc), 1, &b), -1);
	buf_free(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_blocks),
		cmocka_unit_test(test_fits),
		cmocka_unit_test(test_incremental_equals_full),
		cmocka_unit_test(test_frozen),
		cmocka_unit_test(test_inline_styles),
		cmocka_unit_test(test_no_loss),
		cmocka_unit_test(test_code_block),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
