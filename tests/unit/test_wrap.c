/* Unit tests for display widths and grapheme-safe wrapping (ui/wrap.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "buf.h"
#include "text.h"
#include "wrap.h"

/* Wrap s at width and join the lines with '|' to make expectations easy to read. */
static char *
wrap_all(const char *s, int width, int *maxw)
{
	struct buf b = BUF_INIT;
	size_t n = strlen(s), pos = 0, next, end;
	int used;

	*maxw = 0;
	while (pos < n) {
		end = wrap_line(s + pos, n - pos, width, &next, &used);
		if (b.len)
			buf_putc(&b, '|');
		buf_append(&b, s + pos, end);
		assert_int_equal(used, wrap_width(s + pos, end));
		if (used > *maxw)
			*maxw = used;
		assert_true(next > 0);
		pos += next;
	}
	return buf_detach(&b);
}

/* ASCII, CJK, combining marks and emoji have the widths curses will use. */
static void
test_widths(void **state)
{
	(void)state;
	assert_int_equal(wrap_width("hello", 5), 5);
	assert_int_equal(wrap_width("日本語", strlen("日本語")), 6);
	assert_int_equal(wrap_width("e\xcc\x81", 3), 1);          /* e + combining acute */
	assert_int_equal(wrap_width("🙂", strlen("🙂")), 2);
}

/* A cluster is taken whole: combining marks and ZWJ sequences stay together. */
static void
test_clusters(void **state)
{
	int w;
	const char *family = "👨\u200d👩\u200d👧x";

	(void)state;
	assert_int_equal(wrap_cluster("e\xcc\x81x", 4, &w), 3);
	assert_int_equal(w, 1);
	assert_int_equal(wrap_cluster(family, strlen(family), &w), strlen(family) - 1);
	assert_int_equal(wrap_cluster("🇫🇷🇩🇪", strlen("🇫🇷🇩🇪"), &w), 8);
	/* The ASCII fast path: a lone byte, CR LF kept together, a combining mark after an
	 * ASCII letter still joins it. */
	assert_int_equal(wrap_cluster("ab", 2, &w), 1);
	assert_int_equal(w, 1);
	assert_int_equal(wrap_cluster("\r\nx", 3, &w), 2);
	assert_int_equal(wrap_cluster("a\xcc\x81", 3, &w), 3);
	assert_int_equal(w, 1);
}

/* What draw_text shows as one U+FFFD is measured as one column: controls, bidi marks and
 * a bad UTF-8 sequence however long. */
static void
test_marks(void **state)
{
	int w;

	(void)state;
	assert_int_equal(wrap_width("a\xe2\x80\xae" "b", 5), 3);
	assert_int_equal(wrap_width("\xe2\x81\xa6\xe2\x80\x8f\xd8\x9c", 8), 3);
	assert_int_equal(wrap_width("a\x1b[1m", 5), 5);
	assert_int_equal(wrap_cluster("\xe4\xb8" "x", 3, &w), 2);
	assert_int_equal(w, 1);
	assert_int_equal(wrap_width("\xe4\xb8" "x", 3), 2);
}

/* Words break at spaces; nothing is lost and no line overflows. */
static void
test_words(void **state)
{
	int maxw;
	char *r = wrap_all("the quick brown fox jumps", 10, &maxw);

	(void)state;
	assert_string_equal(r, "the quick|brown fox|jumps");
	assert_true(maxw <= 10);
	free(r);
	r = wrap_all("abcdefghijkl", 5, &maxw);
	assert_string_equal(r, "abcde|fghij|kl");
	free(r);
}

/* CJK text breaks between characters and never splits one; widths stay within bounds. */
static void
test_cjk(void **state)
{
	int maxw;
	char *r = wrap_all("日本語のテキスト", 5, &maxw);

	(void)state;
	assert_string_equal(r, "日本|語の|テキ|スト");
	assert_true(maxw <= 5);
	free(r);
	r = wrap_all("ab日本", 3, &maxw);
	assert_string_equal(r, "ab|日|本");
	free(r);
}

/* Emoji ZWJ sequences and combining marks are not split at a wrap point. */
static void
test_no_split(void **state)
{
	int maxw;
	const char *s = "aaaa👨\u200d👩\u200d👧bb";
	char *r = wrap_all(s, 6, &maxw);

	(void)state;
	assert_non_null(strstr(r, "👨\u200d👩\u200d👧"));
	free(r);
	r = wrap_all("abcde\xcc\x81" "f", 4, &maxw);
	assert_string_equal(r, "abcd|e\xcc\x81" "f");
	free(r);
}

/* Newlines force breaks and a wide char wider than the line still makes progress. */
static void
test_newline_progress(void **state)
{
	int maxw;
	char *r = wrap_all("ab\ncd", 10, &maxw);

	(void)state;
	assert_string_equal(r, "ab|cd");
	free(r);
	r = wrap_all("ab\r\ncd\r\n", 10, &maxw);
	assert_string_equal(r, "ab|cd");
	free(r);
	r = wrap_all("日本", 1, &maxw);
	assert_string_equal(r, "日|本");
	free(r);
	assert_int_equal(wrap_col_to_off("日本語", strlen("日本語"), 3), 3);
	assert_int_equal(wrap_prev_cluster("a日", 4), 1);
}

/* Widths are what a terminal such as tmux draws: an emoji ZWJ sequence is as wide as its
 * first emoji, a flag is two one-column cells, a Hangul syllable of conjoining jamo is two
 * columns, a character a joiner follows joins its cell. */
static void
test_terminal_widths(void **state)
{
	const char *family = "👨\u200d👩\u200d👧";
	const char *family4 = "👨\u200d👩\u200d👧\u200d👦";
	const char *couple = "👩\u200d❤\ufe0f\u200d👨";
	const char *jamo = "\u1100\u1161\u11a8";
	int w;

	(void)state;
	assert_int_equal(wrap_width(family, strlen(family)), 2);
	assert_int_equal(wrap_width(family4, strlen(family4)), 2);
	assert_int_equal(wrap_width(couple, strlen(couple)), 2);
	assert_int_equal(wrap_width("🇫🇷", strlen("🇫🇷")), 2);
	assert_int_equal(wrap_width("🇫🇷🇩🇪x", strlen("🇫🇷🇩🇪x")), 5);
	assert_int_equal(wrap_width(jamo, strlen(jamo)), 2);
	assert_int_equal(wrap_width("한국어中文", strlen("한국어中文")), 10);
	assert_int_equal(wrap_width("A👨\u200d👩\u200d👧B", strlen("A👨\u200d👩\u200d👧B")), 4);
	/* A joiner after a letter pulls the emoji after it into the letter's cell. */
	assert_int_equal(wrap_cluster("a\u200d👩b", strlen("a\u200d👩b"), &w),
	    strlen("a\u200d👩"));
	assert_int_equal(w, 1);
	/* An ASCII letter after a joiner is a cell of its own, as tmux draws it. */
	assert_int_equal(wrap_width("👩\u200dx", strlen("👩\u200dx")), 3);
	/* Cells: a ZWJ sequence is one, a flag two, a mark joins its letter. */
	assert_int_equal(text_cell(family, strlen(family), &w), strlen(family));
	assert_int_equal(w, 2);
	assert_int_equal(text_cell("🇫🇷", strlen("🇫🇷"), &w), strlen("🇫"));
	assert_int_equal(w, 1);
	assert_int_equal(text_cell("e\xcc\x81x", 4, &w), 3);
	assert_int_equal(w, 1);
	assert_int_equal(text_cell(jamo, strlen(jamo), &w), strlen(jamo));
	assert_int_equal(w, 2);
}

/* Hangul and CJK break between characters even after a space, so a line fills; no line
 * starts with closing punctuation or ends with an opening bracket. */
static void
test_cjk_breaks(void **state)
{
	int maxw;
	char *r;

	(void)state;
	r = wrap_all("ab 한국어中文", 8, &maxw);
	assert_string_equal(r, "ab 한국|어中文");
	free(r);
	r = wrap_all("中文。x", 4, &maxw);
	assert_string_equal(r, "中|文。|x");
	free(r);
	r = wrap_all("（中文）", 4, &maxw);
	assert_string_equal(r, "（中|文）");
	free(r);
	r = wrap_all("see 中文 here", 9, &maxw);
	assert_string_equal(r, "see 中文|here");
	free(r);
	/* Latin words still break only at spaces. */
	r = wrap_all("the quick brown", 12, &maxw);
	assert_string_equal(r, "the quick|brown");
	free(r);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_widths),
		cmocka_unit_test(test_clusters),
		cmocka_unit_test(test_marks),
		cmocka_unit_test(test_words),
		cmocka_unit_test(test_cjk),
		cmocka_unit_test(test_no_split),
		cmocka_unit_test(test_newline_progress),
		cmocka_unit_test(test_terminal_widths),
		cmocka_unit_test(test_cjk_breaks),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
