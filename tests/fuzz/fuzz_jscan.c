/*
 * Differential libFuzzer target for the OpenAI fast paths: the input is two SSE data
 * payloads split at the first newline (or one payload used twice), decoded in order as
 * first, second, second: once through the allocation-free scanner (src/jscan.c) and the
 * shape cache that reuses a checked chunk's framing, and once through cJSON only. The deltas
 * and the summary must be identical, so the fast paths can never change what natter shows,
 * only how quickly.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "json.h"
#include "proto.h"
#include "stream.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Record every delta in order. */
static void
fuzz_record(void *ud, const struct delta *d)
{
	struct buf *b = ud;

	buf_printf(b, "%d:", (int)d->kind);
	if (d->text != NULL)
		buf_append(b, d->text, d->len);
	if (d->finish_reason != NULL)
		buf_puts(b, d->finish_reason);
	buf_putc(b, '\x1e');
}

/* Decode the payloads (the second twice, to exercise state and the shape cache) and
 * return deltas plus summary. */
static void
fuzz_decode(const char *a, size_t an, const char *b, size_t bn, int no_fast, struct buf *out)
{
	struct stream s;

	stream_init(&s, &proto_openai, fuzz_record, out);
	s.no_fast_path = no_fast;
	json_arena_begin();
	proto_openai.on_event(&s, "message", a, an);
	proto_openai.on_event(&s, "message", b, bn);
	proto_openai.on_event(&s, "message", b, bn);
	json_arena_end();
	stream_finish(&s);
	stream_summary_json(&s, out);
	stream_free(&s);
}

/* Abort when the two paths disagree. */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int inited;
	struct buf fast = BUF_INIT, slow = BUF_INIT;
	const char *a = (const char *)data, *b = a, *nl = memchr(a, '\n', size);
	size_t an = size, bn = size;

	if (!inited) {
		json_init();
		inited = 1;
	}
	if (nl != NULL) {
		an = (size_t)(nl - a);
		b = nl + 1;
		bn = size - an - 1;
	}
	fuzz_decode(a, an, b, bn, 0, &fast);
	fuzz_decode(a, an, b, bn, 1, &slow);
	if (fast.len != slow.len || memcmp(buf_str(&fast), buf_str(&slow), fast.len) != 0)
		abort();
	buf_free(&fast);
	buf_free(&slow);
	return 0;
}
