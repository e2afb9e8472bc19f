/* Unit tests for the terminal sanitizer (src/text.c): every unsafe code point becomes one
 * visible U+FFFD, valid text passes byte for byte, and a split input gives the same output. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "buf.h"
#include "text.h"

#define R "\xef\xbf\xbd"

/* Sanitize input whole, split at every offset and fed a byte at a time; all must give
 * want, and text_is_safe must say whether the input came through unchanged. */
static void
check_mode(const char *input, size_t n, enum text_mode mode, const char *want)
{
	struct buf out = BUF_INIT;
	struct text_filter f;
	size_t cut, i;

	if (mode == TEXT_BLOCK)
		text_sanitize(input, n, &out);
	else
		text_sanitize_line(input, n, &out);
	assert_string_equal(buf_str(&out), want);
	assert_int_equal(text_is_safe(input, n, mode), n == out.len && memcmp(input, want, n) == 0);
	assert_true(text_is_safe(out.data != NULL ? out.data : "", out.len, mode));
	buf_free(&out);
	for (cut = 0; cut <= n; cut++) {
		text_filter_init_mode(&f, mode);
		text_filter_feed(&f, input, cut, &out);
		text_filter_feed(&f, input + cut, n - cut, &out);
		text_filter_finish(&f, &out);
		assert_string_equal(buf_str(&out), want);
		buf_free(&out);
	}
	text_filter_init_mode(&f, mode);
	for (i = 0; i < n; i++)
		text_filter_feed(&f, input + i, 1, &out);
	text_filter_finish(&f, &out);
	assert_string_equal(buf_str(&out), want);
	buf_free(&out);
}

#define CHECK(input, want) check_mode(input, sizeof(input) - 1, TEXT_BLOCK, want)
#define CHECK_LINE(input, want) check_mode(input, sizeof(input) - 1, TEXT_LINE, want)

/* ESC becomes a visible mark and what followed it stays as inert text: nothing vanishes. */
static void
test_escapes(void **state)
{
	(void)state;
	CHECK("a\x1b[31mred\x1b[0m!", "a" R "[31mred" R "[0m!");
	CHECK("\x1b]52;c;aGVsbG8=\x07" "after", R "]52;c;aGVsbG8=" R "after");
	CHECK("\x1b]0;title\x1b\\x", R "]0;title" R "\\x");
	CHECK("\x1b" "7saved\x1b" "8", R "7saved" R "8");
	CHECK("\x1b[2J\x1b[H\x1b[?1049h", R "[2J" R "[H" R "[?1049h");
}

/* C1 controls written as UTF-8 are caught, the one-code-point CSI and OSC included; as
 * single bytes they are invalid UTF-8 and become U+FFFD too. */
static void
test_c1(void **state)
{
	(void)state;
	CHECK("\xc2\x9b" "31mX", R "31mX");
	CHECK("\xc2\x9d" "0;t\xc2\x9c" "Y", R "0;t" R "Y");
	CHECK("a\xc2\x85" "b", "a" R "b");
	CHECK("a\x9b" "b", "a" R "b");
	CHECK("\xc2\x80\xc2\x9f\xc2\xa0", R R "\xc2\xa0");
}

/* Newline and tab stay in blocks; NUL, BEL, BS, DEL, a lone CR and the rest of C0 are marked. */
static void
test_controls(void **state)
{
	(void)state;
	CHECK("a\tb\nc", "a\tb\nc");
	CHECK("a\x07\x08\x7f" "c", "a" R R R "c");
	CHECK("nul\0here", "nul" R "here");
	CHECK("\x01\x1f ", R R " ");
	CHECK("safe\rrm -rf", "safe" R "rm -rf");
	CHECK("end\r", "end" R);
	CHECK("\r\r\n", R "\n");
}

/* CR LF is a newline: Windows line ends are not shown as marks. */
static void
test_crlf(void **state)
{
	(void)state;
	CHECK("one\r\ntwo\r\n", "one\ntwo\n");
	CHECK_LINE("one\r\ntwo", "one two");
}

/* Every bidi control the rules name is marked; neighbours that are not controls pass. */
static void
test_bidi(void **state)
{
	(void)state;
	CHECK("x\xe2\x80\xaey\xe2\x81\xa6z", "x" R "y" R "z");
	CHECK("\xe2\x80\xaa\xe2\x80\xab\xe2\x80\xac\xe2\x80\xad\xe2\x80\xae", R R R R R);
	CHECK("\xe2\x81\xa6\xe2\x81\xa7\xe2\x81\xa8\xe2\x81\xa9", R R R R);
	CHECK("\xe2\x80\x8e\xe2\x80\x8f\xd8\x9c", R R R);
	/* U+200D (ZWJ, part of emoji), U+2065 and U+202F (narrow no-break space) are text. */
	CHECK("\xe2\x80\x8d\xe2\x81\xa5\xe2\x80\xaf", "\xe2\x80\x8d\xe2\x81\xa5\xe2\x80\xaf");
	/* Hebrew and Arabic letters themselves are of course untouched. */
	CHECK("\xd7\xa9\xd7\x9c\xd7\x95\xd7\x9d \xd8\xb3\xd9\x84\xd8\xa7\xd9\x85",
	    "\xd7\xa9\xd7\x9c\xd7\x95\xd7\x9d \xd8\xb3\xd9\x84\xd8\xa7\xd9\x85");
}

/* Invalid UTF-8 becomes one U+FFFD per bad sequence; valid multi-byte text is untouched. */
static void
test_utf8(void **state)
{
	(void)state;
	CHECK("\xe4\xb8\xad\xe6\x96\x87 \xf0\x9f\x92\x99", "\xe4\xb8\xad\xe6\x96\x87 \xf0\x9f\x92\x99");
	CHECK("a\xff" "b", "a" R "b");
	CHECK("\xc0\xaf", R R);
	CHECK("\xe4\xb8", R);
	CHECK("\xe4\xb8" "a", R "a");
	CHECK("\xed\xa0\x80!", R "!");
	CHECK("\xe0\x80\x80", R);
	CHECK("\xf4\x90\x80\x80", R);
	CHECK("\xf0\x9f\x92\x99\xf0\x9f", "\xf0\x9f\x92\x99" R);
}

/* A character cut between two stream deltas arrives whole, not as two marks. */
static void
test_split_character(void **state)
{
	struct text_filter f;
	struct buf out = BUF_INIT;

	(void)state;
	text_filter_init(&f);
	text_filter_feed(&f, "caf\xc3", 4, &out);
	assert_string_equal(buf_str(&out), "caf");
	text_filter_feed(&f, "\xa9 \xf0\x9f", 4, &out);
	text_filter_feed(&f, "\x92", 1, &out);
	text_filter_feed(&f, "\x99!", 2, &out);
	text_filter_finish(&f, &out);
	assert_string_equal(buf_str(&out), "caf\xc3\xa9 \xf0\x9f\x92\x99!");
	buf_free(&out);
}

/* One-line mode turns newline and tab into spaces and otherwise follows the same rules. */
static void
test_line(void **state)
{
	struct buf b = BUF_INIT;

	(void)state;
	CHECK_LINE("gpt-4o\nevil\tid", "gpt-4o evil id");
	CHECK_LINE("t\xe2\x80\xaeitle\x1b]0;x\x07", "t" R "itle" R "]0;x" R);
	assert_string_equal(text_line(&b, "a\nb"), "a b");
	assert_string_equal(text_line(&b, NULL), "");
	buf_free(&b);
}

/* The sanitizer is idempotent: its output goes through again unchanged. */
static void
test_idempotent(void **state)
{
	static const char in[] = "x\x1b[1m\xe2\x80\xae\xff\r\n\t\xc2\x9b";
	struct buf once = BUF_INIT, twice = BUF_INIT;

	(void)state;
	text_sanitize(in, sizeof(in) - 1, &once);
	text_sanitize(once.data, once.len, &twice);
	assert_string_equal(buf_str(&once), buf_str(&twice));
	buf_free(&once);
	buf_free(&twice);
}

/* The step function agrees with the sanitizer on where characters and bad sequences end. */
static void
test_step(void **state)
{
	unsigned cp;

	(void)state;
	assert_int_equal(text_utf8_step((const unsigned char *)"\xe2\x80\xae", 3, &cp), 3);
	assert_int_equal(cp, 0x202e);
	assert_int_equal(text_utf8_step((const unsigned char *)"\xe4\xb8" "a", 3, &cp), 2);
	assert_true(cp == TEXT_BAD);
	assert_int_equal(text_utf8_step((const unsigned char *)"\xff\x80", 2, &cp), 1);
	assert_true(cp == TEXT_BAD);
	assert_true(text_cp_unsafe(0x1b) && text_cp_unsafe(0x9b) && text_cp_unsafe(0x2069));
	assert_false(text_cp_unsafe('a') || text_cp_unsafe(0xa0) || text_cp_unsafe(0xfffd));
}

/* JSON made safe keeps every character (as a \u escape) and stays valid UTF-8 JSON. */
static void
test_json_safe(void **state)
{
	static const char in[] = "{\n\t\"a\": \"x\xe2\x80\xae\xc2\x9b\x7f\xff y\\u001b\"\n}";
	struct buf out = BUF_INIT;

	(void)state;
	text_json_safe(in, sizeof(in) - 1, &out);
	assert_string_equal(buf_str(&out),
	    "{\n\t\"a\": \"x\\u202e\\u009b\\u007f\\ufffd y\\u001b\"\n}");
	buf_free(&out);
}

/* text_fit_end of s at width keeps within width and says the width it used. */
static void
fit_end_bounded(const char *s, int width)
{
	struct buf b = BUF_INIT;
	int w = text_fit_end(s, strlen(s), width, &b);

	assert_int_equal(w, text_width(buf_str(&b), b.len));
	assert_true(w <= width);
	buf_free(&b);
}

/* Compare text_fit_end's result with want. */
static void
check_end(const char *s, int width, const char *want)
{
	struct buf b = BUF_INIT;
	int w = text_fit_end(s, strlen(s), width, &b);

	assert_string_equal(buf_str(&b), want);
	assert_int_equal(w, text_width(buf_str(&b), b.len));
	assert_true(w <= width);
	buf_free(&b);
}

/* Compare text_fit_middle's result with want. */
static void
check_middle(const char *s, int width, size_t keep, const char *want)
{
	struct buf b = BUF_INIT;
	int w = text_fit_middle(s, strlen(s), width, keep, &b);

	assert_string_equal(buf_str(&b), want);
	assert_int_equal(w, text_width(buf_str(&b), b.len));
	assert_true(w <= width);
	buf_free(&b);
}

/* Cutting at the end: whole words and an ellipsis, mid-word only when no word ends late
 * enough, never past the width, never inside a wide character. */
static void
test_fit_end(void **state)
{
	const char *s = "the quick brown fox";
	int width;

	(void)state;
	check_end("short", 10, "short");
	check_end("short", 5, "short");
	check_end(s, 12, "the quick…");
	check_end(s, 16, "the quick brown…");
	check_end("abcdefghij", 5, "abcd…");
	check_end("a verylongwordthatgoeson", 12, "a verylongw…");
	check_end("日本語テキスト", 6, "日本…");
	check_end("日本語テキスト", 7, "日本語…");
	check_end(s, 1, "…");
	check_end(s, 0, "");
	for (width = 0; width < 22; width++)
		fit_end_bounded(s, width);
}

/* Cutting in the middle keeps what tells an item from its neighbours. */
static void
test_fit_middle(void **state)
{
	const char *m = "simulated/simulated-fast";

	(void)state;
	check_middle(m, 30, 19, m);
	check_middle(m, 16, 19, "simulated/…-fast");
	check_middle("simulated/simulated", 16, 19, "simul…/simulated");
	check_middle("abcdefghijklmnopqrstuvwxyz", 10, (size_t)-1, "abc…uvwxyz");
	check_middle("abcdefghijklmnopqrstuvwxyz", 10, 0, "abc…uvwxyz");
	/* A keep inside a character starts the tail at that character. */
	check_middle("model-日本語", 9, strlen("model-日") + 1, "mode…本語");
	check_middle("日本語テキスト", 7, (size_t)-1, "日…スト");
	check_middle(m, 2, 19, "s…");
}

/* Fields: low priorities go whole, a group's separator leads its first kept field, a
 * field that may be cut is shortened, and the last one left is always cut to fit. */
static void
test_fit_fields(void **state)
{
	struct text_field f[] = {
		{ " model", "", 0, 9, TEXT_CUT_NONE, 0, BUF_INIT },
		{ "ttft 0.10s", " │ ", 1, 3, TEXT_CUT_NONE, 0, BUF_INIT },
		{ "20.0 tok/s", " · ", 1, 4, TEXT_CUT_NONE, 0, BUF_INIT },
		{ "41 tok", " · ", 1, 6, TEXT_CUT_NONE, 0, BUF_INIT },
		{ "session 42 tok", " │ ", 2, 5, TEXT_CUT_NONE, 0, BUF_INIT },
		{ "copied the reply to the clipboard", " │ ", 3, 7, TEXT_CUT_END, 0, BUF_INIT },
	};
	size_t n = sizeof f / sizeof f[0], i;
	struct buf line = BUF_INIT;
	int widths[] = { 200, 60, 40, 24, 14, 4 }, k, w;
	const char *want[] = {
		" model │ ttft 0.10s · 20.0 tok/s · 41 tok │ session 42 tok │ copied the reply to "
		    "the clipboard",
		" model │ 41 tok │ copied the reply to the clipboard",
		" model │ copied the reply to the…",
		" model │ copied the…",
		" model",
		" mo…",
	};

	(void)state;
	for (k = 0; k < (int)(sizeof widths / sizeof widths[0]); k++) {
		w = text_fit_fields(f, n, widths[k]);
		buf_reset(&line);
		for (i = 0; i < n; i++)
			buf_append(&line, f[i].out.data != NULL ? f[i].out.data : "", f[i].out.len);
		assert_string_equal(buf_str(&line), want[k]);
		assert_int_equal(w, text_width(buf_str(&line), line.len));
		assert_true(w <= widths[k]);
	}
	for (i = 0; i < n; i++)
		buf_free(&f[i].out);
	buf_free(&line);
}

/* An ellipsis never lands next to a zero-width joiner, which would join it to a cell: the
 * width the fitters report is the width the result has (found by fuzz_text). */
static void
test_fit_joiner(void **state)
{
	static const char s[] = "abc/\xe2\x80\x8d\xe2\x80\x8d" "defghijklmnopq" "\xe2\x80\x8d" "rst";
	struct buf out = BUF_INIT;
	size_t n = sizeof(s) - 1, keep;
	int width, w;

	(void)state;
	for (width = 3; width < 20; width++) {
		buf_reset(&out);
		w = text_fit_end(s, n, width, &out);
		assert_int_equal(w, text_width(buf_str(&out), out.len));
		assert_true(w <= width);
		for (keep = 0; keep <= n; keep++) {
			buf_reset(&out);
			w = text_fit_middle(s, n, width, keep, &out);
			assert_int_equal(w, text_width(buf_str(&out), out.len));
			assert_true(w <= width);
		}
	}
	buf_free(&out);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fit_joiner),
		cmocka_unit_test(test_escapes),
		cmocka_unit_test(test_c1),
		cmocka_unit_test(test_controls),
		cmocka_unit_test(test_crlf),
		cmocka_unit_test(test_bidi),
		cmocka_unit_test(test_utf8),
		cmocka_unit_test(test_split_character),
		cmocka_unit_test(test_line),
		cmocka_unit_test(test_idempotent),
		cmocka_unit_test(test_step),
		cmocka_unit_test(test_json_safe),
		cmocka_unit_test(test_fit_end),
		cmocka_unit_test(test_fit_middle),
		cmocka_unit_test(test_fit_fields),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
