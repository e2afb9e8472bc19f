/*
 * libFuzzer target for the secret scrubber: whatever the text and however it is cut into
 * stream chunks, no registered key survives (scrubbed whole or streamed), the result is
 * never longer than the input, and the streamed result is the whole one, with one key and
 * with several (one overlapping itself, one a prefix of another, one inside another, one
 * percent-encoded, one long enough for base64 forms). The first input byte picks the cut
 * points; the rest is the text.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "secret.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const fuzz_keys[] = {
	"sk-fuzz-0123456789abcdef", /* long: base64 cores too */
	"abababab",                 /* overlaps itself */
	"key%/+=x9Z",               /* has a percent-encoded form */
	"sk-fuzz-0123",             /* a prefix of the first */
	"zz-abababab-zz",           /* holds another in its middle */
};

/* Abort when out holds any of fuzz_keys[from..to). */
static void
fuzz_check_clean(const char *out, size_t len, size_t from, size_t to)
{
	size_t i;

	for (i = from; i < to; i++)
		if (memmem(out, len, fuzz_keys[i], strlen(fuzz_keys[i])) != NULL)
			abort();
}

/* Scrub text as the worker does, chunk by chunk at the cuts, into out. */
static void
fuzz_stream(const char *text, size_t len, const size_t *cuts, size_t ncuts, struct buf *out)
{
	struct buf held = BUF_INIT;
	size_t i, from = 0, ok;

	for (i = 0; i <= ncuts; i++) {
		size_t to = i < ncuts ? cuts[i] : len;

		buf_append(&held, text + from, to - from);
		from = to;
		ok = secret_scrub_stream(&held);
		buf_append(out, held.data, ok);
		buf_consume(&held, ok);
	}
	held.len = secret_scrub(held.data, held.len);
	buf_append(out, held.data, held.len);
	buf_free(&held);
}

/* Scrub whole and streamed, with one key and with all of them. */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct buf whole = BUF_INIT, streamed = BUF_INIT;
	size_t cuts[3], len, i, nkeys = sizeof fuzz_keys / sizeof fuzz_keys[0];
	const char *text;

	if (size < 1)
		return 0;
	text = (const char *)data + 1;
	len = size - 1;
	for (i = 0; i < 3; i++)
		cuts[i] = len == 0 ? 0 : ((size_t)data[0] * (i + 3) * 7919u) % (len + 1);
	if (cuts[0] > cuts[1]) {
		size_t t = cuts[0];

		cuts[0] = cuts[1];
		cuts[1] = t;
	}
	if (cuts[1] > cuts[2])
		cuts[2] = cuts[1];

	/* One key: streaming changes nothing. */
	secret_clear();
	secret_add(fuzz_keys[1]);
	buf_append(&whole, text, len);
	whole.len = secret_scrub(whole.data, whole.len);
	fuzz_stream(text, len, cuts, 3, &streamed);
	if (whole.len != streamed.len || memcmp(buf_str(&whole), buf_str(&streamed), whole.len) != 0)
		abort();
	fuzz_check_clean(buf_str(&whole), whole.len, 1, 2);

	/* Every key: none survives either way. */
	for (i = 0; i < nkeys; i++)
		secret_add(fuzz_keys[i]);
	buf_reset(&whole);
	buf_reset(&streamed);
	buf_append(&whole, text, len);
	whole.len = secret_scrub(whole.data, whole.len);
	if (whole.len > len)
		abort();
	fuzz_check_clean(buf_str(&whole), whole.len, 0, nkeys);
	fuzz_stream(text, len, cuts, 3, &streamed);
	fuzz_check_clean(buf_str(&streamed), streamed.len, 0, nkeys);
	if (whole.len != streamed.len || memcmp(buf_str(&whole), buf_str(&streamed), whole.len) != 0)
		abort();
	buf_free(&whole);
	buf_free(&streamed);
	return 0;
}
