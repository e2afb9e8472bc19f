/*
 * libFuzzer target for the NDJSON splitter: never crashes, and any split of the input gives
 * the same lines as feeding it whole. With a line cap (from the second byte) the split must
 * still not matter, no line may be longer than the cap, and the lines must be a prefix of
 * the uncapped ones.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "ndjson.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Record a line followed by a separator. */
static void
fuzz_collect(void *ud, const char *line, size_t len)
{
	struct buf *b = ud;

	buf_append(b, line, len);
	buf_putc(b, '\x1e');
}

/* Split data fed whole (cut = size) or at cut and then in pieces of 5, with a cap. */
static int
fuzz_run(const uint8_t *data, size_t size, size_t cut, size_t cap, struct buf *out)
{
	struct ndjson d;
	size_t i;
	int overflow;

	ndjson_init(&d, fuzz_collect, out);
	d.max_line = cap;
	ndjson_feed(&d, (const char *)data, cut);
	for (i = cut; i < size; i += 5)
		ndjson_feed(&d, (const char *)data + i, size - i < 5 ? size - i : 5);
	overflow = d.overflow;
	ndjson_finish(&d);
	ndjson_free(&d);
	return overflow;
}

/* True when the n bytes of a and of b are the same. */
static int
fuzz_same(const struct buf *a, const struct buf *b, size_t n)
{
	return n == 0 || memcmp(a->data, b->data, n) == 0;
}

/* Split whole and in pieces, with and without a cap; abort when an invariant breaks. */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct buf whole = BUF_INIT, split = BUF_INIT, capped = BUF_INIT, capsplit = BUF_INIT;
	size_t cut, cap, i, start = 0;
	int o1, o2;

	if (size < 2)
		return 0;
	cut = data[0] % size;
	cap = 1 + (size_t)data[1] % 64;
	data += 2;
	size -= 2;
	if (cut > size)
		cut = size;
	fuzz_run(data, size, size, 0, &whole);
	fuzz_run(data, size, cut, 0, &split);
	if (whole.len != split.len || !fuzz_same(&whole, &split, whole.len))
		abort();
	o1 = fuzz_run(data, size, size, cap, &capped);
	o2 = fuzz_run(data, size, cut, cap, &capsplit);
	if (o1 != o2 || capped.len != capsplit.len || !fuzz_same(&capped, &capsplit, capped.len))
		abort();
	if (capped.len > whole.len || !fuzz_same(&capped, &whole, capped.len) ||
	    (!o1 && capped.len != whole.len))
		abort();
	for (i = 0; i < capped.len; i++) {
		if (capped.data[i] != '\x1e')
			continue;
		if (i - start > cap)
			abort();
		start = i + 1;
	}
	buf_free(&whole);
	buf_free(&split);
	buf_free(&capped);
	buf_free(&capsplit);
	return 0;
}
