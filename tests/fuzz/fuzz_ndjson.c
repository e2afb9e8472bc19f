/*
 * libFuzzer target for the NDJSON splitter: never crashes, and any split of the input gives
 * the same lines as feeding it whole.
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

/* Split whole and in pieces; abort when they differ. */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct buf whole = BUF_INIT, split = BUF_INIT;
	struct ndjson d;
	size_t cut, i;

	if (size == 0)
		return 0;
	cut = data[0] % size;
	data++;
	size--;
	if (cut > size)
		cut = size;
	ndjson_init(&d, fuzz_collect, &whole);
	ndjson_feed(&d, (const char *)data, size);
	ndjson_finish(&d);
	ndjson_free(&d);
	ndjson_init(&d, fuzz_collect, &split);
	ndjson_feed(&d, (const char *)data, cut);
	for (i = cut; i < size; i += 5)
		ndjson_feed(&d, (const char *)data + i, size - i < 5 ? size - i : 5);
	ndjson_finish(&d);
	ndjson_free(&d);
	if (whole.len != split.len || (whole.len && memcmp(whole.data, split.data, whole.len) != 0))
		abort();
	buf_free(&whole);
	buf_free(&split);
	return 0;
}
