/* Unit tests for the nanorc highlighter (ui/highlight.c) and highlighted code blocks in the
 * Markdown renderer: the fixture tests/unit/syntax/mini.nanorc, and the system's c.nanorc
 * when nano is installed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "buf.h"
#include "highlight.h"
#include "markdown.h"
#include "theme.h"

static const char *const fixture_dir[] = { "tests/unit/syntax" };

/* Read a file into a new string. */
static char *
slurp(const char *path, size_t *n)
{
	FILE *f = fopen(path, "rb");
	struct buf b = BUF_INIT;
	char chunk[4096];
	size_t k;

	assert_non_null(f);
	while ((k = fread(chunk, 1, sizeof chunk, f)) > 0)
		buf_append(&b, chunk, k);
	fclose(f);
	*n = b.len;
	return buf_detach(&b);
}

/* The role of the byte where `what` first occurs in text. */
static int
role_at(const char *text, const uint8_t *roles, const char *what)
{
	const char *p = strstr(text, what);

	assert_non_null(p);
	return roles[p - text];
}

/* Every byte of the first occurrence of `what` has role. */
static int
all_role(const char *text, const uint8_t *roles, const char *what, int role)
{
	const char *p = strstr(text, what);
	size_t i;

	assert_non_null(p);
	for (i = 0; i < strlen(what); i++)
		if (roles[(p - text) + (long)i] != role)
			return 0;
	return 1;
}

/* The fixture's rules get roles by what they match; backgrounds and bad rules are out. */
static void
test_parse_fixture(void **state)
{
	size_t n, nbad;
	char *text = slurp("tests/unit/syntax/mini.nanorc", &n);
	struct hl_set *set = highlight_parse(text, n, "mini.nanorc", &nbad);
	const struct hl_syntax *s;
	static const int want[] = {
		THEME_CODENUMBER, THEME_CODECONSTANT, THEME_CODETYPE, THEME_CODEKEYWORD,
		THEME_CODEKEYWORD, THEME_CODESTRING, 0, THEME_CODECOMMENT, THEME_CODECOMMENT,
	};
	size_t i;

	(void)state;
	assert_int_equal(highlight_set_count(set), 2);
	s = highlight_set_get(set, 0);
	assert_string_equal(highlight_name(s), "mini");
	/* The backreference and the unclosed string. */
	assert_int_equal(nbad, 2);
	assert_int_equal(highlight_nrules(s), sizeof want / sizeof want[0]);
	for (i = 0; i < sizeof want / sizeof want[0]; i++)
		assert_int_equal(highlight_rule_role(s, i), want[i]);
	s = highlight_set_get(set, 1);
	assert_string_equal(highlight_name(s), "other");
	/* "#" is its comment marker, so "#.*" is a comment; no keywords: no number rule. */
	assert_int_equal(highlight_nrules(s), 2);
	assert_int_equal(highlight_rule_role(s, 0), THEME_CODECOMMENT);
	assert_int_equal(highlight_rule_role(s, 1), THEME_CODESTRING);
	highlight_set_free(set);
	free(text);
}

/* Painting: later rules over earlier ones, regions across lines, normal, icolor. */
static void
test_paint_fixture(void **state)
{
	size_t n;
	char *text = slurp("tests/unit/syntax/mini.nanorc", &n);
	struct hl_set *set = highlight_parse(text, n, "mini.nanorc", NULL);
	const struct hl_syntax *s = highlight_set_get(set, 0);
	const char *code =
	    "int x = 42; // MAX in a comment\n"
	    "if (s == \"a\\\"b if\") return MAX;\n"
	    "NOTE /* two\n"
	    "lines */ Select y from z\n"
	    "while nothing";
	uint8_t *roles = malloc(strlen(code));

	(void)state;
	assert_non_null(roles);
	highlight_paint(s, code, strlen(code), roles);
	assert_int_equal(role_at(code, roles, "int"), THEME_CODETYPE);
	assert_true(all_role(code, roles, "42", THEME_CODENUMBER));
	assert_int_equal(role_at(code, roles, " = "), 0);
	/* The comment paints over the constant inside it. */
	assert_true(all_role(code, roles, "// MAX in a comment", THEME_CODECOMMENT));
	assert_int_equal(role_at(code, roles, "if ("), THEME_CODEKEYWORD);
	/* The string holds an escaped quote and a keyword. */
	assert_true(all_role(code, roles, "\"a\\\"b if\"", THEME_CODESTRING));
	assert_true(all_role(code, roles, "MAX", THEME_CODECOMMENT));
	assert_int_equal(role_at(code, roles, "return MAX"), THEME_CODEKEYWORD);
	assert_int_equal(roles[strstr(code, "MAX;") - code], THEME_CODECONSTANT);
	/* normal takes NOTE back from the constant rule. */
	assert_true(all_role(code, roles, "NOTE", 0));
	/* The region spans the line break. */
	assert_true(all_role(code, roles, "/* two\nlines */", THEME_CODECOMMENT));
	assert_true(all_role(code, roles, "Select", THEME_CODEKEYWORD));
	assert_true(all_role(code, roles, "from", THEME_CODEKEYWORD));
	assert_int_equal(role_at(code, roles, " y "), 0);
	/* ^ and \< hold after a resumed search: "while" starts the last line. */
	assert_true(all_role(code, roles, "while", THEME_CODEKEYWORD));
	free(roles);
	highlight_set_free(set);
	free(text);
}

/* An open region paints to the end; a UTF-8 character keeps one role. */
static void
test_paint_edges(void **state)
{
	const char *rc = "syntax t \"\\.t$\"\ncomment \"//\"\ncolor green \"\\<(if|return)\\>\"\n"
	    "color red \"x\xc3\"\ncolor blue start=\"/\\*\" end=\"\\*/\"\n";
	struct hl_set *set = highlight_parse(rc, strlen(rc), "t", NULL);
	const struct hl_syntax *s = highlight_set_get(set, 0);
	const char *code = "xé if /* open\nreturn";
	uint8_t roles[64];
	size_t i;

	(void)state;
	assert_non_null(s);
	highlight_paint(s, code, strlen(code), roles);
	/* "x\xc3" matches the first byte of é only; both bytes of the character end up in
	 * one role, never split. */
	assert_int_equal(roles[1], THEME_CODESPECIAL);
	for (i = 1; i < strlen(code); i++)
		if (((unsigned char)code[i] & 0xc0) == 0x80)
			assert_int_equal(roles[i], roles[i - 1]);
	assert_int_equal(role_at(code, roles, "if"), THEME_CODEKEYWORD);
	assert_true(all_role(code, roles, "/* open\nreturn", THEME_CODECOMMENT));
	highlight_set_free(set);
}

/* Hostile regexes are refused before regcomp, and junk lines do not crash the parser. */
static void
test_regex_limits(void **state)
{
	const char *rc = "syntax x \"\\.x$\"\n"
	    "color red \"a{1000}\"\n"
	    "color red \"((a{100}){100}){100}\"\n"
	    "color red \"(a)\\1\"\n"
	    "color red \"e+++++++++++++++++++++++++++++++++\"\n"
	    "color red \"((((((((((((((((x)+)+)+)+)+)+)+)+)+)+)+)+)+)+)+)+)+\"\n"
	    "color red \"[[:alpha:\"\n"
	    "color red start=\"a\"\n"
	    "color\n"
	    "icolor red\n"
	    "color red \"\\<(if)\\>\"\n"
	    "syntax\n"
	    "color red \"orphan\"\n";
	size_t nbad = 0;
	struct hl_set *set = highlight_parse(rc, strlen(rc), "x", &nbad);
	const struct hl_syntax *s = highlight_set_get(set, 0);

	(void)state;
	assert_non_null(s);
	assert_true(nbad >= 8);
	/* Only the keyword rule (and the number rule it brings). */
	assert_int_equal(highlight_nrules(s), 2);
	highlight_set_free(set);
}

/* Tags, aliases, file names and headers find syntaxes in the search directories. */
static void
test_find(void **state)
{
	const struct hl_syntax *s;
	const char *const missing[] = { "/nonexistent/natter-syntax" };

	(void)state;
	highlight_set_dirs(fixture_dir, 1);
	s = highlight_find("mini", NULL, 0);
	assert_non_null(s);
	assert_string_equal(highlight_name(s), "mini");
	assert_true(highlight_nrules(s) > 0);
	/* By file name: Minifile, and .oth for the second syntax of the file. */
	assert_ptr_equal(highlight_find("Minifile", NULL, 0), s);
	s = highlight_find("oth", NULL, 0);
	assert_non_null(s);
	assert_string_equal(highlight_name(s), "other");
	assert_ptr_equal(highlight_find("OTHER", NULL, 0), s);
	/* No tag: the header regex on the first line. */
	s = highlight_find("", "#!/usr/bin/env mini", 19);
	assert_non_null(s);
	assert_string_equal(highlight_name(s), "mini");
	assert_null(highlight_find("", "#!/bin/true", 11));
	assert_null(highlight_find("cobol", NULL, 0));
	assert_null(highlight_find("text", NULL, 0));
	/* A directory that does not exist is not an error: nothing highlights. */
	highlight_set_dirs(missing, 1);
	assert_null(highlight_find("mini", NULL, 0));
	highlight_free_all();
}

/* The system's c.nanorc, when nano is installed: C and its aliases. */
static void
test_system_c(void **state)
{
	const char *const dirs[] = { "/usr/share/nano" };
	const char *code = "#include <stdio.h>\nstatic int f(void) { return NULL == 0; } /* x */\n";
	const struct hl_syntax *s;
	uint8_t roles[128];

	(void)state;
	if (access("/usr/share/nano/c.nanorc", R_OK) != 0)
		skip();
	highlight_set_dirs(dirs, 1);
	s = highlight_find("c", NULL, 0);
	assert_non_null(s);
	assert_string_equal(highlight_name(s), "c");
	assert_ptr_equal(highlight_find("cpp", NULL, 0), s);
	assert_ptr_equal(highlight_find("h", NULL, 0), s);
	assert_ptr_equal(highlight_find("c++", NULL, 0), s);
	highlight_paint(s, code, strlen(code), roles);
	/* The include line is a string to c.nanorc, then the directive paints over it. */
	assert_true(all_role(code, roles, "#include", THEME_CODEPREPROC));
	assert_true(all_role(code, roles, "<stdio.h>", THEME_CODESTRING));
	assert_true(all_role(code, roles, "int", THEME_CODETYPE));
	assert_true(all_role(code, roles, "return", THEME_CODEKEYWORD));
	assert_true(all_role(code, roles, "NULL", THEME_CODECONSTANT));
	assert_int_equal(role_at(code, roles, "0;"), THEME_CODENUMBER);
	assert_true(all_role(code, roles, "/* x */", THEME_CODECOMMENT));
	/* Common tags of other languages find nano's syntaxes too. */
	if (access("/usr/share/nano/python.nanorc", R_OK) == 0)
		assert_non_null(highlight_find("py", NULL, 0));
	if (access("/usr/share/nano/sh.nanorc", R_OK) == 0)
		assert_non_null(highlight_find("bash", NULL, 0));
	if (access("/usr/share/nano/patch.nanorc", R_OK) == 0)
		assert_non_null(highlight_find("diff", NULL, 0));
	highlight_free_all();
}

/* Count the segments of a rendering with a role. */
static size_t
count_role(const struct rtext *r, int role)
{
	size_t i, c = 0;

	for (i = 0; i < r->nsegs; i++)
		c += r->segs[i].role == role;
	return c;
}

/* A code block is plain while open, highlighted once closed, and the highlighting is
 * kept for a new width; the text is the same either way. */
static void
test_markdown_block(void **state)
{
	const char *src = "Intro.\n\n```mini\nint x = 42; // c\nif (y) return MAX;\n```\nAfter.\n";
	const char *open_end = strstr(src, "```\nAfter");
	struct markdown m;
	const uint8_t *kept;
	char *a, *b;

	(void)state;
	highlight_set_dirs(fixture_dir, 1);
	markdown_init(&m, THEME_TEXT, 0);
	markdown_update(&m, src, (size_t)(open_end - src), 40, 0);
	assert_int_equal(count_role(&m.out, THEME_CODEKEYWORD), 0);
	assert_true(count_role(&m.out, THEME_CODEBLOCK) > 0);
	a = rtext_plain(&m.out);
	markdown_update(&m, src, strlen(src), 40, 1);
	assert_true(count_role(&m.out, THEME_CODEKEYWORD) > 0);
	assert_true(count_role(&m.out, THEME_CODETYPE) > 0);
	assert_true(count_role(&m.out, THEME_CODECOMMENT) > 0);
	assert_true(count_role(&m.out, THEME_CODENUMBER) > 0);
	b = rtext_plain(&m.out);
	assert_true(strncmp(a, b, strlen(a) - 1) == 0);
	assert_non_null(strstr(b, "│ if (y) return MAX;\n"));
	assert_non_null(strstr(b, "After."));
	free(a);
	free(b);
	assert_int_equal(m.nhl, 1);
	kept = m.hl[0].roles;
	assert_non_null(kept);
	markdown_update(&m, src, strlen(src), 30, 1);
	assert_ptr_equal(m.hl[0].roles, kept);
	assert_true(count_role(&m.out, THEME_CODEKEYWORD) > 0);
	markdown_free(&m);
	/* A language without a syntax stays plain; so does everything with highlight off. */
	markdown_init(&m, THEME_TEXT, 0);
	markdown_update(&m, "```cobol\nif x\n```\n", 18, 40, 1);
	assert_int_equal(count_role(&m.out, THEME_CODEKEYWORD), 0);
	markdown_free(&m);
	{
		struct md_options off = { 0, 1, 1 }, on = { 1, 1, 1 };

		markdown_set_options(&off);
		markdown_init(&m, THEME_TEXT, 0);
		markdown_update(&m, src, strlen(src), 40, 1);
		assert_int_equal(count_role(&m.out, THEME_CODEKEYWORD), 0);
		markdown_free(&m);
		markdown_set_options(&on);
	}
	/* A reply that ends inside its code block is highlighted at the end. */
	markdown_init(&m, THEME_TEXT, 0);
	markdown_update(&m, src, (size_t)(open_end - src), 40, 1);
	assert_true(count_role(&m.out, THEME_CODEKEYWORD) > 0);
	markdown_free(&m);
	highlight_free_all();
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_fixture),
		cmocka_unit_test(test_paint_fixture),
		cmocka_unit_test(test_paint_edges),
		cmocka_unit_test(test_regex_limits),
		cmocka_unit_test(test_find),
		cmocka_unit_test(test_system_c),
		cmocka_unit_test(test_markdown_block),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
