/*
 * The body of the four protocol fuzz targets (fuzz_proto_*.c define FUZZ_PROTO and include
 * this). Arbitrary bytes go through the real stream path whole and split at a point taken
 * from the first byte, with a line cap small enough to be hit (from the same byte); both
 * must give the same summary, the summary must be valid JSON, and text must never hold a
 * NUL (a NUL or \u0000 becomes U+FFFD). The whole input is decoded once more with the
 * adapter's fast path switched off (stream.no_fast_path), and the deltas and summary must
 * be identical: the scanner may only change how quickly an event is decoded. The same
 * bytes are then parsed as an HTTP error body and as a model list.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cJSON.h>

#include "apierr.h"
#include "buf.h"
#include "proto.h"
#include "stream.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Check the invariants every delta must keep, and record it in ud (a struct buf). */
static void
fuzz_on_delta(void *ud, const struct delta *d)
{
	struct buf *log = ud;

	if ((d->kind == DELTA_TEXT || d->kind == DELTA_REASONING) && (d->len == 0 || d->text == NULL))
		abort();
	if ((d->kind == DELTA_TEXT || d->kind == DELTA_REASONING) &&
	    memchr(d->text, '\0', d->len) != NULL)
		abort();
	if (d->kind == DELTA_ERROR && (d->error == NULL || d->error->message == NULL))
		abort();
	if (d->kind == DELTA_FINISH && d->finish_reason == NULL)
		abort();
	buf_printf(log, "%d:", (int)d->kind);
	if (d->text != NULL)
		buf_append(log, d->text, d->len);
	if (d->finish_reason != NULL)
		buf_puts(log, d->finish_reason);
	if (d->usage != NULL)
		buf_printf(log, "%ld,%ld,%ld,%ld", d->usage->input_tokens, d->usage->output_tokens,
		    d->usage->reasoning_tokens, d->usage->total_tokens);
	if (d->error != NULL)
		buf_puts(log, d->error->message);
	buf_putc(log, '\x1e');
}

/* Decode data with the given reads and line cap (and the fast path off when slow) and
 * append the summary to out, the deltas to log. */
static void
fuzz_decode(const uint8_t *data, size_t size, size_t cut, size_t cap, int status, int slow,
    struct buf *out, struct buf *log)
{
	struct stream s;
	size_t i;

	stream_init(&s, &FUZZ_PROTO, fuzz_on_delta, log);
	s.no_fast_path = slow;
	if (status != 200)
		stream_set_status(&s, status, NULL);
	stream_set_max_line(&s, cap);
	stream_feed(&s, (const char *)data, cut);
	for (i = cut; i < size; i += 5)
		stream_feed(&s, (const char *)data + i, size - i < 5 ? size - i : 5);
	stream_finish(&s);
	stream_summary_json(&s, out);
	if (s.error != NULL) {
		char *line = apierr_format(s.error);

		if (strchr(line, '\n') != NULL)
			abort();
		free(line);
		(void)apierr_hint(s.error);
	}
	if (status != 200 && s.error == NULL)
		abort();
	stream_free(&s);
}

/* One fuzz input. */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct buf whole = BUF_INIT, split = BUF_INIT, err = BUF_INIT, slow = BUF_INIT;
	struct buf log = BUF_INIT, slow_log = BUF_INIT;
	struct model_list l = { NULL, 0 };
	char *next = NULL;
	size_t cut, cap;
	cJSON *j;

	if (size == 0)
		return 0;
	cut = data[0] % size;
	data++;
	size--;
	if (cut > size)
		cut = size;
	cap = 32 + (size_t)data[-1] * 8;
	fuzz_decode(data, size, size, cap, 200, 0, &whole, &log);
	fuzz_decode(data, size, size, cap, 200, 1, &slow, &slow_log);
	if (whole.len != slow.len || memcmp(whole.data, slow.data, whole.len) != 0 ||
	    log.len != slow_log.len || memcmp(buf_str(&log), buf_str(&slow_log), log.len) != 0)
		abort();
	buf_reset(&log);
	fuzz_decode(data, size, cut, cap, 200, 0, &split, &log);
	if (whole.len != split.len || memcmp(whole.data, split.data, whole.len) != 0)
		abort();
	j = cJSON_Parse(whole.data);
	if (j == NULL)
		abort();
	cJSON_Delete(j);
	fuzz_decode(data, size, cut, cap, 400 + (int)(cut % 200), 0, &err, &log);
	j = cJSON_Parse(err.data);
	if (j == NULL)
		abort();
	cJSON_Delete(j);
	if (FUZZ_PROTO.parse_models((const char *)data, size, &l, &next) == 0)
		free(next);
	model_list_free(&l);
	buf_free(&whole);
	buf_free(&split);
	buf_free(&err);
	buf_free(&slow);
	buf_free(&log);
	buf_free(&slow_log);
	return 0;
}
