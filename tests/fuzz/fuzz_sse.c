/*
 * libFuzzer target for the SSE decoder: arbitrary bytes must never crash it, and splitting
 * the input at any point (taken from the first byte) must give exactly the same events as
 * feeding it whole. With a line cap (taken from the second byte) the split must still not
 * matter, no event may be longer than the cap, and the events must be a prefix of the
 * uncapped ones: the cap only ever stops decoding, it never changes what came before.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "sse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The longest event data seen since it was last reset. */
static size_t fuzz_longest;

/* Record an event as type, data and separators. */
static void
fuzz_collect(void *ud, const char *event, const char *d, size_t len)
{
	struct buf *b = ud;

	if (len > fuzz_longest)
		fuzz_longest = len;
	buf_puts(b, event);
	buf_putc(b, '\x1f');
	buf_append(b, d, len);
	buf_putc(b, '\x1e');
}

/* Decode data fed whole (cut = size) or split at cut and then in pieces of 7, with a cap;
 * the events go to out, the return value is sse_finish's. */
static int
fuzz_run(const uint8_t *data, size_t size, size_t cut, size_t cap, struct buf *out,
    int *overflow)
{
	struct sse s;
	size_t i;
	int d;

	sse_init(&s, fuzz_collect, out);
	s.max_line = cap;
	sse_feed(&s, (const char *)data, cut);
	for (i = cut; i < size; i += 7)
		sse_feed(&s, (const char *)data + i, size - i < 7 ? size - i : 7);
	*overflow = s.overflow;
	d = sse_finish(&s);
	sse_free(&s);
	return d;
}

/* True when the n bytes of a and of b are the same. */
static int
fuzz_same(const struct buf *a, const struct buf *b, size_t n)
{
	return n == 0 || memcmp(a->data, b->data, n) == 0;
}

/* Decode whole and split, with and without a cap; abort when an invariant breaks. */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct buf whole = BUF_INIT, split = BUF_INIT, capped = BUF_INIT, capsplit = BUF_INIT;
	size_t cut, cap;
	int d1, d2, d3, d4, o1, o2, o3, o4;

	if (size < 2)
		return 0;
	cut = data[0] % size;
	cap = 1 + (size_t)data[1] % 64;
	data += 2;
	size -= 2;
	if (cut > size)
		cut = size;
	d1 = fuzz_run(data, size, size, 0, &whole, &o1);
	d2 = fuzz_run(data, size, cut, 0, &split, &o2);
	if (whole.len != split.len || !fuzz_same(&whole, &split, whole.len) || d1 != d2 || o1 || o2)
		abort();
	fuzz_longest = 0;
	d3 = fuzz_run(data, size, size, cap, &capped, &o3);
	d4 = fuzz_run(data, size, cut, cap, &capsplit, &o4);
	if (capped.len != capsplit.len || !fuzz_same(&capped, &capsplit, capped.len) ||
	    d3 != d4 || o3 != o4)
		abort();
	if (capped.len > whole.len || !fuzz_same(&capped, &whole, capped.len) ||
	    (!o3 && (capped.len != whole.len || d3 != d1)) || (o3 && !d3))
		abort();
	/* Data lines join with LF: an event's data is at most the cap less that one LF. */
	if (fuzz_longest > cap)
		abort();
	buf_free(&whole);
	buf_free(&split);
	buf_free(&capped);
	buf_free(&capsplit);
	return 0;
}
