/*
 * libFuzzer target for the terminal sanitizer (src/text.c). Whatever the input, in both
 * modes: the output is valid UTF-8; it holds no C0 control but newline and tab (and in the
 * one-line mode not those either), no DEL, no C1 control, no ESC and no bidi control; any
 * split of the input, fed a few bytes at a time, gives the same output; the output goes
 * through again unchanged; text_is_safe says exactly whether the input came through as it
 * was. text_json_safe's output is valid UTF-8 with no unsafe code point but newline, tab
 * and CR (the JSON writer's whitespace). Fitting text to a width (text_fit_end and
 * text_fit_middle) keeps within the width and reports the width it used.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "text.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* True for the bidi controls the rules name, checked here independently of text.c. */
static int
fuzz_is_bidi(unsigned cp)
{
	return cp == 0x061c || cp == 0x200e || cp == 0x200f || (cp >= 0x202a && cp <= 0x202e) ||
	    (cp >= 0x2066 && cp <= 0x2069);
}

/* Abort unless out is valid UTF-8 with none of the forbidden code points; keep lists the
 * ASCII controls that may remain. */
static void
fuzz_check_safe(const struct buf *out, const char *keep)
{
	const unsigned char *p = (const unsigned char *)buf_str(out);
	size_t i = 0;

	while (i < out->len) {
		unsigned cp;
		int n = text_utf8_decode(p + i, out->len - i, &cp);

		if (n <= 0)
			abort();
		if (cp < 0x20 && (cp == 0 || strchr(keep, (int)cp) == NULL))
			abort();
		if ((cp >= 0x7f && cp <= 0x9f) || fuzz_is_bidi(cp))
			abort();
		i += (size_t)n;
	}
}

/* Sanitize data in mode whole, split at cut and then 3 bytes at a time, and check both. */
static void
fuzz_mode(const uint8_t *data, size_t size, size_t cut, enum text_mode mode)
{
	struct buf whole = BUF_INIT, split = BUF_INIT, again = BUF_INIT;
	struct text_filter f;
	size_t i;

	text_filter_init_mode(&f, mode);
	text_filter_feed(&f, (const char *)data, size, &whole);
	text_filter_finish(&f, &whole);
	fuzz_check_safe(&whole, mode == TEXT_BLOCK ? "\n\t" : "");
	if (!text_is_safe(buf_str(&whole), whole.len, mode))
		abort();
	if (text_is_safe((const char *)data, size, mode) !=
	    (whole.len == size && (size == 0 || memcmp(whole.data, data, size) == 0)))
		abort();
	text_filter_init_mode(&f, mode);
	text_filter_feed(&f, (const char *)data, cut, &split);
	for (i = cut; i < size; i += 3)
		text_filter_feed(&f, (const char *)data + i, size - i < 3 ? size - i : 3, &split);
	text_filter_finish(&f, &split);
	if (whole.len != split.len || (whole.len && memcmp(whole.data, split.data, whole.len) != 0))
		abort();
	text_filter_init_mode(&f, mode);
	text_filter_feed(&f, buf_str(&whole), whole.len, &again);
	text_filter_finish(&f, &again);
	if (whole.len != again.len || (whole.len && memcmp(whole.data, again.data, whole.len) != 0))
		abort();
	buf_free(&whole);
	buf_free(&split);
	buf_free(&again);
}

/* The first byte picks where the input is split; the rest is the text. */
/* Abort unless fitting s into width keeps within it, says the width it used, and cuts only
 * between clusters (what is kept before the ellipsis starts s); clusters always progress. */
static void
fuzz_fit(const char *s, size_t n, int width)
{
	struct buf out = BUF_INIT;
	size_t pos = 0, k, keep;
	int w;

	while (pos < n) {
		k = text_cluster(s + pos, n - pos, &w);
		if (k == 0 || w < 0)
			abort();
		pos += k;
	}
	w = text_fit_end(s, n, width, &out);
	if (w > width || w != text_width(buf_str(&out), out.len) ||
	    (w < text_width(s, n) && out.len >= 3 && memcmp(s, out.data, out.len - 3) != 0))
		abort();
	buf_reset(&out);
	keep = n > 0 ? (unsigned char)s[0] % (n + 1) : 0;
	w = text_fit_middle(s, n, width, keep, &out);
	if (w > width || w != text_width(buf_str(&out), out.len))
		abort();
	buf_free(&out);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct buf json = BUF_INIT;
	size_t cut;

	if (size == 0)
		return 0;
	cut = data[0] % size;
	data++;
	size--;
	if (cut > size)
		cut = size;
	fuzz_mode(data, size, cut, TEXT_BLOCK);
	fuzz_mode(data, size, cut, TEXT_LINE);
	fuzz_fit((const char *)data, size, (int)(cut % 48));
	text_json_safe((const char *)data, size, &json);
	fuzz_check_safe(&json, "\n\t\r");
	buf_free(&json);
	return 0;
}
