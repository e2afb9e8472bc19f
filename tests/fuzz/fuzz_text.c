/*
 * libFuzzer target for terminal-safe text: whatever the input, the output is valid UTF-8
 * with no control character but newline and tab, no C1 control and no ESC, and any split
 * of the input gives the same output.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "text.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Abort unless out is safe to write to a terminal. */
static void
fuzz_check_safe(const struct buf *out)
{
	const unsigned char *p = (const unsigned char *)buf_str(out);
	size_t i = 0;

	while (i < out->len) {
		unsigned cp;
		int n = text_utf8_decode(p + i, out->len - i, &cp);

		if (n <= 0)
			abort();
		if ((cp < 0x20 && cp != '\n' && cp != '\t') || (cp >= 0x7f && cp <= 0x9f))
			abort();
		i += (size_t)n;
	}
}

/* Sanitize whole and split, check both outputs. */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct buf whole = BUF_INIT, split = BUF_INIT;
	struct text_filter f;
	size_t cut, i;

	if (size == 0)
		return 0;
	cut = data[0] % size;
	data++;
	size--;
	if (cut > size)
		cut = size;
	text_sanitize((const char *)data, size, &whole);
	fuzz_check_safe(&whole);
	text_filter_init(&f);
	text_filter_feed(&f, (const char *)data, cut, &split);
	for (i = cut; i < size; i += 3)
		text_filter_feed(&f, (const char *)data + i, size - i < 3 ? size - i : 3, &split);
	text_filter_finish(&f, &split);
	if (whole.len != split.len || (whole.len && memcmp(whole.data, split.data, whole.len) != 0))
		abort();
	buf_free(&whole);
	buf_free(&split);
	return 0;
}
