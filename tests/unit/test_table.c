/* Unit tests for the table layout (ui/table.c) and Markdown tables, task lists and links in
 * the renderer (ui/markdown.c, ui/link.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "buf.h"
#include "link.h"
#include "markdown.h"
#include "table.h"
#include "theme.h"
#include "wrap.h"

/* Render src in one go at width; the plain lines. */
static char *
render(const char *src, int width)
{
	struct markdown m;
	char *s;

	markdown_init(&m, THEME_TEXT, 0);
	markdown_update(&m, src, strlen(src), width, 1);
	s = rtext_plain(&m.out);
	markdown_free(&m);
	return s;
}

/* Line k (0-based) of s into out. */
static void
line_of(const char *s, int k, struct buf *out)
{
	const char *p = s, *nl;

	buf_reset(out);
	while (k-- > 0 && (nl = strchr(p, '\n')) != NULL)
		p = nl + 1;
	nl = strchr(p, '\n');
	buf_append(out, p, nl ? (size_t)(nl - p) : strlen(p));
}

/* Every line of s is exactly w columns wide. */
static int
all_width(const char *s, int w)
{
	const char *p = s, *nl;

	for (; (nl = strchr(p, '\n')) != NULL; p = nl + 1)
		if (wrap_width(p, (size_t)(nl - p)) != w)
			return 0;
	return 1;
}

/* Rows split at unescaped pipes, trimmed, outer pipes optional. */
static void
test_split(void **state)
{
	size_t st[8], ln[8], n;
	const char *row = "  | a | b \\| c |  d  |";

	(void)state;
	n = table_split(row, strlen(row), st, ln, 8);
	assert_int_equal(n, 3);
	assert_memory_equal(row + st[0], "a", ln[0]);
	assert_int_equal(ln[1], strlen("b \\| c"));
	assert_memory_equal(row + st[1], "b \\| c", ln[1]);
	assert_memory_equal(row + st[2], "d", ln[2]);
	n = table_split("x|y", 3, st, ln, 8);
	assert_int_equal(n, 2);
	n = table_split("| | |", 5, st, ln, 8);
	assert_int_equal(n, 2);
	assert_int_equal(ln[0], 0);
	assert_int_equal(table_split("|a|b|c|", 7, st, ln, 2), 2);
}

/* Delimiter rows give alignments; anything else is not one. */
static void
test_delim(void **state)
{
	int al[8];

	(void)state;
	assert_int_equal(table_delim("|:--|:-:|--:|---|", 17, al, 8), 4);
	assert_int_equal(al[0], TABLE_LEFT);
	assert_int_equal(al[1], TABLE_CENTER);
	assert_int_equal(al[2], TABLE_RIGHT);
	assert_int_equal(al[3], TABLE_LEFT);
	assert_int_equal(table_delim(" --- | :---: ", 13, al, 8), 2);
	assert_int_equal(al[1], TABLE_CENTER);
	assert_int_equal(table_delim("---", 3, al, 8), 0);
	assert_int_equal(table_delim("| a | --- |", 11, al, 8), 0);
	assert_int_equal(table_delim("| :: |", 6, al, 8), 0);
}

/* Widths: natural when they fit; otherwise the widest give way first. */
static void
test_widths(void **state)
{
	int nat[3] = { 5, 20, 3 }, w[3];

	(void)state;
	assert_int_equal(table_widths(nat, 3, 40, w), 0);
	assert_int_equal(w[0], 5);
	assert_int_equal(w[1], 20);
	assert_int_equal(w[2], 3);
	assert_int_equal(table_widths(nat, 3, 18, w), 0);
	assert_int_equal(w[0] + w[1] + w[2], 18);
	assert_int_equal(w[0], 5);
	assert_int_equal(w[2], 3);
	assert_int_equal(w[1], 10);
	assert_int_equal(table_widths(nat, 3, 9, w), 0);
	assert_int_equal(w[0] + w[1] + w[2], 9);
	assert_int_equal(w[2], 3);
	assert_true(w[0] == 3 && w[1] == 3);
	assert_int_equal(table_widths(nat, 3, 2, w), -1);
}

/* A table is drawn aligned with borders; every line has the table's width. */
static void
test_render_aligned(void **state)
{
	const char *src = "| Name | Qty | Note |\n|:-----|----:|:----:|\n| apple | 3 | red |\n"
	    "| kiwi | 12 | green |\n";
	char *s = render(src, 60);
	struct buf l = BUF_INIT;

	(void)state;
	line_of(s, 0, &l);
	assert_string_equal(l.data, "┌───────┬─────┬───────┐");
	line_of(s, 1, &l);
	assert_string_equal(l.data, "│ Name  │ Qty │ Note  │");
	line_of(s, 2, &l);
	assert_string_equal(l.data, "├───────┼─────┼───────┤");
	line_of(s, 3, &l);
	assert_string_equal(l.data, "│ apple │   3 │  red  │");
	line_of(s, 4, &l);
	assert_string_equal(l.data, "│ kiwi  │  12 │ green │");
	line_of(s, 5, &l);
	assert_string_equal(l.data, "└───────┴─────┴───────┘");
	assert_true(all_width(s, 23));
	buf_free(&l);
	free(s);
}

/* A cell too long for the width wraps inside its column; the table fits the width. */
static void
test_render_wrap(void **state)
{
	const char *src = "| k | v |\n|---|---|\n| one | a long cell that cannot fit in "
	    "twenty-four columns at all |\n";
	char *s = render(src, 24);
	struct buf l = BUF_INIT;

	(void)state;
	assert_true(all_width(s, 24));
	line_of(s, 3, &l);
	assert_string_equal(l.data, "│ one │ a long cell    │");
	line_of(s, 4, &l);
	assert_string_equal(l.data, "│     │ that cannot    │");
	buf_free(&l);
	free(s);
}

/* CJK and emoji count two columns (utf8proc), so the borders line up. */
static void
test_render_wide(void **state)
{
	const char *src = "| 名前 | e |\n|---|---|\n| 日本語のテキスト | 🙂🙂 |\n| x | 🇫🇷 |\n";
	char *s = render(src, 40);
	struct buf l = BUF_INIT;

	(void)state;
	assert_true(all_width(s, 27));
	line_of(s, 1, &l);
	assert_string_equal(l.data, "│ 名前             │ e    │");
	line_of(s, 3, &l);
	assert_string_equal(l.data, "│ 日本語のテキスト │ 🙂🙂 │");
	free(s);
	/* Narrow: the CJK cell wraps between characters. */
	s = render(src, 16);
	assert_true(all_width(s, 16));
	buf_free(&l);
	free(s);
}

/* Too narrow for columns: rows become lines of cells between bars. */
static void
test_render_flat(void **state)
{
	const char *src = "|a|b|c|d|\n|-|-|-|-|\n|1|2|3|4|\n";
	char *s = render(src, 12);

	(void)state;
	assert_non_null(strstr(s, "a │ b │ c"));
	assert_null(strstr(s, "┌"));
	free(s);
}

/* Not a table: the lines stay as written; a table without outer pipes is one. */
static void
test_render_not_table(void **state)
{
	char *s = render("| just a line\n| and another\n", 40);

	(void)state;
	assert_string_equal(s, "| just a line\n| and another\n");
	free(s);
	s = render("a | b\n--|--\n1 | 2\n\nafter\n", 40);
	assert_non_null(strstr(s, "│ a │ b │\n"));
	assert_non_null(strstr(s, "│ 1 │ 2 │\n"));
	assert_non_null(strstr(s, "after"));
	free(s);
}

/* A streamed table is the same as one rendered in one go. */
static void
test_render_streamed(void **state)
{
	const char *src = "Intro\n\n| a | b |\n|:-:|--:|\n| *x* | `y` |\n| long cell here | z |\n\nEnd.\n";
	char *full = render(src, 30), *inc;
	struct markdown m;
	size_t i, n = strlen(src);

	(void)state;
	markdown_init(&m, THEME_TEXT, 0);
	for (i = 0; i < n; i += 3)
		markdown_update(&m, src, i, 30, 0);
	markdown_update(&m, src, n, 30, 1);
	inc = rtext_plain(&m.out);
	assert_string_equal(inc, full);
	assert_non_null(strstr(full, "│ long cell here │ z │"));
	free(inc);
	free(full);
	markdown_free(&m);
}

/* Task list items show boxes, in the task role. */
static void
test_tasks(void **state)
{
	struct markdown m;
	const char *src = "- [ ] todo\n- [x] done\n* [X] also\n2. [ ] numbered\n- [link] not\n";
	char *s;
	size_t i, boxes = 0;

	(void)state;
	markdown_init(&m, THEME_TEXT, 0);
	markdown_update(&m, src, strlen(src), 40, 1);
	s = rtext_plain(&m.out);
	assert_string_equal(s, "☐ todo\n☑ done\n☑ also\n2. ☐ numbered\n• [link] not\n");
	for (i = 0; i < m.out.nsegs; i++)
		boxes += m.out.segs[i].role == THEME_TASK;
	assert_int_equal(boxes, 4);
	free(s);
	markdown_free(&m);
}

/* The URL of a segment, or "" when it has none. */
static const char *
seg_url(const struct rtext *r, const struct rseg *sg, struct buf *out)
{
	buf_reset(out);
	if (sg->url)
		buf_append(out, r->urls.data + sg->url - 1, sg->urllen);
	return buf_str(out);
}

/* Links show their address after their text and carry a safe one for OSC 8. */
static void
test_links(void **state)
{
	struct markdown m;
	const char *src = "See [docs](https://ex.com/a?q=1) and https://auto.example/x "
	    "and [bad](javascript:alert(1)) and [esc](http://x/\x1b]8;;evil).";
	struct buf u = BUF_INIT;
	char *s;
	size_t i;
	int docs = 0, url = 0, autol = 0, bad = 0;

	(void)state;
	markdown_init(&m, THEME_TEXT, 0);
	markdown_update(&m, src, strlen(src), 200, 1);
	s = rtext_plain(&m.out);
	assert_non_null(strstr(s, "See docs (https://ex.com/a?q=1) and https://auto.example/x and"));
	assert_non_null(strstr(s, "bad (javascript:alert(1))"));
	for (i = 0; i < m.out.nsegs; i++) {
		const struct rseg *sg = &m.out.segs[i];
		const char *t = m.out.text.data + sg->off;

		if (sg->role == THEME_LINK && strncmp(t, "docs", 4) == 0)
			docs = strcmp(seg_url(&m.out, sg, &u), "https://ex.com/a?q=1") == 0;
		if (sg->role == THEME_LINKURL && strncmp(t, "https://ex", 10) == 0)
			url = strcmp(seg_url(&m.out, sg, &u), "https://ex.com/a?q=1") == 0;
		if (sg->role == THEME_LINK && strncmp(t, "https://auto", 12) == 0)
			autol = sg->url != 0;
		if (strncmp(t, "bad", 3) == 0 || strncmp(t, "javascript", 10) == 0)
			bad += sg->url != 0;
		/* No address holds a control character. */
		if (sg->url != 0)
			assert_null(memchr(m.out.urls.data + sg->url - 1, 0x1b, sg->urllen));
	}
	assert_true(docs && url && autol);
	assert_int_equal(bad, 0);
	free(s);
	markdown_free(&m);
	/* Without link_urls the address is not repeated. */
	{
		struct md_options o = { 1, 1, 0 }, on = { 1, 1, 1 };

		markdown_set_options(&o);
		s = render("[docs](https://ex.com)", 80);
		assert_string_equal(s, "docs\n");
		free(s);
		markdown_set_options(&on);
	}
	buf_free(&u);
}

/* Addresses are made safe for a terminal, or refused. */
static void
test_link_clean(void **state)
{
	struct buf b = BUF_INIT;

	(void)state;
	assert_int_equal(link_clean("https://a.b/c d?é", strlen("https://a.b/c d?é"), &b), 0);
	assert_string_equal(b.data, "https://a.b/c%20d?%C3%A9");
	assert_int_equal(link_clean("www.x.org", 9, &b), 0);
	assert_string_equal(b.data, "http://www.x.org");
	assert_int_equal(link_clean("me@x.org", 8, &b), 0);
	assert_string_equal(b.data, "mailto:me@x.org");
	assert_int_equal(link_clean("MAILTO:me@x.org", 15, &b), 0);
	assert_int_equal(link_clean("javascript:alert(1)", 19, &b), -1);
	assert_int_equal(link_clean("/relative", 9, &b), -1);
	assert_int_equal(link_clean("http://x/\x1b\\", 11, &b), -1);
	assert_int_equal(link_clean("http://x/\x07", 10, &b), -1);
	assert_int_equal(link_clean("http://x/\x9b", 10, &b), 0);
	assert_string_equal(b.data, "http://x/%9B");
	{
		struct buf big = BUF_INIT;

		buf_puts(&big, "https://x/");
		while (big.len < 3000)
			buf_putc(&big, 'a');
		assert_int_equal(link_clean(big.data, big.len, &b), -1);
		buf_free(&big);
	}
	buf_free(&b);
}

/* The OSC 8 rewrite: saved cursor, position, the text between the link's start and end. */
static void
test_link_frame(void **state)
{
	struct buf out = BUF_INIT;

	(void)state;
	link_frame_reset();
	link_note(2, 5, "docs\x1b[31m", 9, -1, THEME_LINK, 0, "https://ex.com", 14);
	link_note(3, 0, "abcdef", 6, 3, THEME_LINK, 0, "https://ex.com", 14);
	link_note(4, 0, "none", 4, -1, THEME_LINK, 0, "", 0);
	assert_int_equal(link_frame_count(), 2);
	link_frame_write(&out);
	assert_non_null(strstr(out.data, "\0337\033[3;6H"));
	assert_non_null(strstr(out.data, "\033]8;;https://ex.com\033\\docs\xef\xbf\xbd[31m\033]8;;\033\\\0338"));
	assert_non_null(strstr(out.data, "\033[4;1H"));
	assert_non_null(strstr(out.data, "\033\\abc\033]8;;\033\\"));
	link_frame_reset();
	assert_int_equal(link_frame_count(), 0);
	buf_free(&out);
}

/* auto uses hyperlinks only where the terminal is known to take them. */
static void
test_link_wanted(void **state)
{
	(void)state;
	assert_int_equal(link_hyperlinks_wanted("true"), 1);
	assert_int_equal(link_hyperlinks_wanted("false"), 0);
	setenv("TMUX", "/tmp/x,1,0", 1);
	setenv("TERM_PROGRAM", "tmux", 1);
	setenv("TERM_PROGRAM_VERSION", "3.3a", 1);
	assert_int_equal(link_hyperlinks_wanted("auto"), 0);
	setenv("TERM_PROGRAM_VERSION", "3.4", 1);
	assert_int_equal(link_hyperlinks_wanted("auto"), 1);
	unsetenv("TMUX");
	setenv("TERM_PROGRAM", "WezTerm", 1);
	assert_int_equal(link_hyperlinks_wanted("auto"), 1);
	unsetenv("TERM_PROGRAM");
	unsetenv("VTE_VERSION");
	unsetenv("KITTY_WINDOW_ID");
	unsetenv("WT_SESSION");
	unsetenv("KONSOLE_VERSION");
	setenv("TERM", "xterm-256color", 1);
	assert_int_equal(link_hyperlinks_wanted("auto"), 0);
	setenv("VTE_VERSION", "7200", 1);
	assert_int_equal(link_hyperlinks_wanted("auto"), 1);
	setenv("TERM", "linux", 1);
	assert_int_equal(link_hyperlinks_wanted("auto"), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_split),
		cmocka_unit_test(test_delim),
		cmocka_unit_test(test_widths),
		cmocka_unit_test(test_render_aligned),
		cmocka_unit_test(test_render_wrap),
		cmocka_unit_test(test_render_wide),
		cmocka_unit_test(test_render_flat),
		cmocka_unit_test(test_render_not_table),
		cmocka_unit_test(test_render_streamed),
		cmocka_unit_test(test_tasks),
		cmocka_unit_test(test_links),
		cmocka_unit_test(test_link_clean),
		cmocka_unit_test(test_link_frame),
		cmocka_unit_test(test_link_wanted),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
