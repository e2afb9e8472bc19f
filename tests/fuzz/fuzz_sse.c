/*
 * libFuzzer target for the SSE decoder: arbitrary bytes must never crash it, and splitting
 * the input at any point (taken from the first byte) must give exactly the same events as
 * feeding it whole.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "sse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Record an event as type, data and separators. */
static void
fuzz_collect(void *ud, const char *event, const char *d, size_t len)
{
	struct buf *b = ud;

	buf_puts(b, event);
	buf_putc(b, '\x1f');
	buf_append(b, d, len);
	buf_putc(b, '\x1e');
}

/* Decode whole and split; abort when they differ. */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct buf whole = BUF_INIT, split = BUF_INIT;
	struct sse s;
	size_t cut, i;
	int d1, d2;

	if (size == 0)
		return 0;
	cut = data[0] % size;
	data++;
	size--;
	if (cut > size)
		cut = size;
	sse_init(&s, fuzz_collect, &whole);
	sse_feed(&s, (const char *)data, size);
	d1 = sse_finish(&s);
	sse_free(&s);

	sse_init(&s, fuzz_collect, &split);
	sse_feed(&s, (const char *)data, cut);
	for (i = cut; i < size; i += 7)
		sse_feed(&s, (const char *)data + i, size - i < 7 ? size - i : 7);
	d2 = sse_finish(&s);
	sse_free(&s);
	if (whole.len != split.len || (whole.len && memcmp(whole.data, split.data, whole.len) != 0) ||
	    d1 != d2)
		abort();
	buf_free(&whole);
	buf_free(&split);
	return 0;
}
