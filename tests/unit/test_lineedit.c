/* Unit tests for the line editor shared by the input pane and the form (ui/lineedit.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "lineedit.h"
#include "wrap.h"

/* Run act n times. */
static void
repeat(struct lineedit *e, enum action act, int n, char **kill)
{
	while (n-- > 0)
		assert_int_equal(lineedit_action(e, act, kill), 1);
}

/* Typing in the middle inserts at the cursor, which stays after the inserted text. */
static void
test_insert_middle(void **state)
{
	struct lineedit e;

	(void)state;
	lineedit_init(&e);
	lineedit_insert(&e, "helo", 4);
	assert_int_equal(e.cur, 4);
	repeat(&e, ACT_LEFT, 1, NULL);
	lineedit_insert(&e, "l", 1);
	assert_string_equal(e.text.data, "hello");
	assert_int_equal(e.cur, 4);
	repeat(&e, ACT_BOL, 1, NULL);
	lineedit_insert(&e, "¡", strlen("¡"));
	assert_string_equal(e.text.data, "¡hello");
	repeat(&e, ACT_EOL, 1, NULL);
	assert_int_equal(e.cur, e.text.len);
	lineedit_set(&e, "xyz");
	assert_int_equal(e.cur, 3);
	assert_string_equal(e.text.data, "xyz");
	lineedit_free(&e);
}

/* Movement and deletion step over whole clusters: a combining sequence, a wide character,
 * an emoji ZWJ sequence. */
static void
test_clusters(void **state)
{
	/* a, e + COMBINING ACUTE, HAN (wide), WOMAN ZWJ LAPTOP, b */
	const char *s = "ae\xcc\x81\xe6\xbc\xa2\xf0\x9f\x91\xa9\xe2\x80\x8d\xf0\x9f\x92\xbb" "b";
	struct lineedit e;

	(void)state;
	lineedit_init(&e);
	lineedit_set(&e, s);
	repeat(&e, ACT_LEFT, 1, NULL);
	assert_int_equal(e.cur, strlen(s) - 1);
	repeat(&e, ACT_LEFT, 1, NULL);
	assert_int_equal(e.cur, 7);             /* before the emoji sequence */
	repeat(&e, ACT_LEFT, 1, NULL);
	assert_int_equal(e.cur, 4);             /* before the wide character */
	repeat(&e, ACT_LEFT, 1, NULL);
	assert_int_equal(e.cur, 1);             /* before e + mark */
	repeat(&e, ACT_RIGHT, 1, NULL);
	assert_int_equal(e.cur, 4);
	repeat(&e, ACT_DEL_BACK, 1, NULL);      /* e and its mark go together */
	assert_string_equal(e.text.data,
	    "a\xe6\xbc\xa2\xf0\x9f\x91\xa9\xe2\x80\x8d\xf0\x9f\x92\xbb" "b");
	assert_int_equal(e.cur, 1);
	repeat(&e, ACT_RIGHT, 1, NULL);
	repeat(&e, ACT_DEL_FWD, 1, NULL);       /* the whole ZWJ sequence */
	assert_string_equal(e.text.data, "a\xe6\xbc\xa2" "b");
	assert_int_equal(e.cur, 4);
	repeat(&e, ACT_DEL_BACK, 1, NULL);
	assert_string_equal(e.text.data, "ab");
	assert_int_equal(e.cur, 1);
	/* At the edges nothing moves and nothing is deleted. */
	repeat(&e, ACT_BOL, 1, NULL);
	repeat(&e, ACT_DEL_BACK, 1, NULL);
	repeat(&e, ACT_LEFT, 1, NULL);
	assert_int_equal(e.cur, 0);
	repeat(&e, ACT_EOL, 1, NULL);
	repeat(&e, ACT_DEL_FWD, 1, NULL);
	repeat(&e, ACT_RIGHT, 1, NULL);
	assert_int_equal(e.cur, 2);
	assert_string_equal(e.text.data, "ab");
	lineedit_free(&e);
}

/* Word movement skips punctuation, then a word. */
static void
test_words(void **state)
{
	struct lineedit e;

	(void)state;
	lineedit_init(&e);
	lineedit_set(&e, "foo, bar_baz qux");
	repeat(&e, ACT_WORD_LEFT, 1, NULL);
	assert_int_equal(e.cur, 13);
	repeat(&e, ACT_WORD_LEFT, 1, NULL);
	assert_int_equal(e.cur, 5);
	repeat(&e, ACT_WORD_LEFT, 2, NULL);
	assert_int_equal(e.cur, 0);
	repeat(&e, ACT_WORD_RIGHT, 1, NULL);
	assert_int_equal(e.cur, 3);
	repeat(&e, ACT_WORD_RIGHT, 1, NULL);
	assert_int_equal(e.cur, 12);
	lineedit_free(&e);
}

/* Kills cut into the shared buffer, deletions do not, and yank pastes at the cursor. */
static void
test_kill_yank(void **state)
{
	struct lineedit e;
	char *kill = NULL;

	(void)state;
	lineedit_init(&e);
	lineedit_set(&e, "one two three");
	repeat(&e, ACT_WORD_LEFT, 1, &kill);
	repeat(&e, ACT_KILL_BOL, 1, &kill);
	assert_string_equal(kill, "one two ");
	assert_string_equal(e.text.data, "three");
	assert_int_equal(e.cur, 0);
	repeat(&e, ACT_DEL_FWD, 1, &kill);
	assert_string_equal(kill, "one two ");
	repeat(&e, ACT_EOL, 1, &kill);
	repeat(&e, ACT_YANK, 1, &kill);
	assert_string_equal(e.text.data, "hreeone two ");
	assert_int_equal(e.cur, e.text.len);
	repeat(&e, ACT_KILL_WORD_BACK, 1, &kill);
	assert_string_equal(kill, "two ");
	assert_string_equal(e.text.data, "hreeone ");
	repeat(&e, ACT_BOL, 1, &kill);
	repeat(&e, ACT_RIGHT, 2, &kill);
	repeat(&e, ACT_KILL_EOL, 1, &kill);
	assert_string_equal(kill, "eeone ");
	assert_string_equal(e.text.data, "hr");
	repeat(&e, ACT_BOL, 1, &kill);
	repeat(&e, ACT_KILL_WORD_FWD, 1, &kill);
	assert_string_equal(kill, "hr");
	assert_int_equal(e.text.len, 0);
	/* Without a kill buffer, yank does nothing. */
	repeat(&e, ACT_YANK, 1, NULL);
	assert_int_equal(e.text.len, 0);
	assert_int_equal(lineedit_action(&e, ACT_SEND, &kill), 0);
	free(kill);
	lineedit_free(&e);
}

/* In multi-line text, line keys stop at newlines; kill-line-end at the end joins lines. */
static void
test_lines(void **state)
{
	struct lineedit e;
	char *kill = NULL;

	(void)state;
	lineedit_init(&e);
	lineedit_set(&e, "ab\ncd\nef");
	e.cur = 4;
	repeat(&e, ACT_BOL, 1, &kill);
	assert_int_equal(e.cur, 3);
	repeat(&e, ACT_EOL, 1, &kill);
	assert_int_equal(e.cur, 5);
	assert_int_equal(lineedit_eol(&e, 0), 2);
	repeat(&e, ACT_KILL_EOL, 1, &kill);
	assert_string_equal(e.text.data, "ab\ncdef");
	free(kill);
	lineedit_free(&e);
}

/* Check that the view starting at left shows the cursor and its cell within width. */
static void
assert_cursor_shown(const struct lineedit *e, size_t left, int width)
{
	int cw = 1;

	assert_true(left <= e->cur);
	if (e->cur < e->text.len)
		wrap_cluster(e->text.data + e->cur, e->text.len - e->cur, &cw);
	assert_true(wrap_width(e->text.data + left, e->cur - left) + cw <= width);
}

/* A long field scrolls to keep the cursor in view, and back when text is removed. */
static void
test_scroll(void **state)
{
	struct lineedit e;
	size_t left = 0;
	int i;

	(void)state;
	lineedit_init(&e);
	lineedit_set(&e, "abcdefghij");
	left = lineedit_scroll(&e, left, 5);
	assert_int_equal(left, 6);              /* "ghij" and the cursor cell */
	repeat(&e, ACT_LEFT, 3, NULL);
	assert_int_equal(lineedit_scroll(&e, left, 5), 6);
	repeat(&e, ACT_LEFT, 2, NULL);
	left = lineedit_scroll(&e, left, 5);
	assert_int_equal(left, 5);              /* the cursor went past the left edge */
	repeat(&e, ACT_BOL, 1, NULL);
	left = lineedit_scroll(&e, left, 5);
	assert_int_equal(left, 0);
	repeat(&e, ACT_RIGHT, 4, NULL);
	assert_int_equal(lineedit_scroll(&e, left, 5), 0);
	repeat(&e, ACT_RIGHT, 1, NULL);
	left = lineedit_scroll(&e, left, 5);
	assert_int_equal(left, 1);
	/* Deleting at the end pulls hidden text back in from the left. */
	repeat(&e, ACT_EOL, 1, NULL);
	left = lineedit_scroll(&e, left, 5);
	assert_int_equal(left, 6);
	repeat(&e, ACT_DEL_BACK, 3, NULL);
	left = lineedit_scroll(&e, left, 5);
	assert_int_equal(left, 3);              /* "defg" and the cursor cell */
	/* A wide character under the cursor needs both its columns. */
	lineedit_set(&e, "ab\xe6\xbc\xa2");
	e.cur = 2;
	left = lineedit_scroll(&e, 0, 3);
	assert_int_equal(left, 1);
	assert_cursor_shown(&e, left, 3);
	/* Wide characters: the view never starts inside one. */
	lineedit_set(&e, "\xe6\xbc\xa2\xe5\xad\x97\xe6\xbc\xa2\xe5\xad\x97");
	left = lineedit_scroll(&e, 0, 5);
	assert_int_equal(left, 6);
	/* A combining mark typed at the left edge joins the cluster before it: snap back. */
	lineedit_set(&e, "xey");
	e.cur = 2;
	lineedit_insert(&e, "\xcc\x81", 2);
	assert_int_equal(lineedit_scroll(&e, 2, 2), 1);
	/* Every cursor position of a mixed line is shown, whatever the view was before. */
	lineedit_set(&e, "a\xe6\xbc\xa2" "e\xcc\x81 long words \xf0\x9f\x91\x8d and more text");
	left = 0;
	for (i = 0; i < 40; i++) {
		left = lineedit_scroll(&e, left, 6);
		assert_cursor_shown(&e, left, 6);
		repeat(&e, i < 20 ? ACT_LEFT : ACT_RIGHT, i % 3 + 1, NULL);
	}
	lineedit_free(&e);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_insert_middle),
		cmocka_unit_test(test_clusters),
		cmocka_unit_test(test_words),
		cmocka_unit_test(test_kill_yank),
		cmocka_unit_test(test_lines),
		cmocka_unit_test(test_scroll),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
