/*
 * libFuzzer target for the four adapters' parse_reply (whole, non-streaming replies): the
 * same bytes go to every adapter as one 200 body, fed whole and split at a point taken from
 * the first byte. Neither may crash; both must give the same result; the result must be
 * valid JSON; text and reasoning deltas are never empty and never hold a NUL; an error has
 * a message of one line; a complete reply has no error. With a cap (also from the first
 * byte) a body over it must end as truncated with nothing decoded, and one within it must
 * decode as without the cap.
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

/* Check the invariants every delta must keep, and count the text ones. */
static void
fuzz_on_delta(void *ud, const struct delta *d)
{
	size_t *ntext = ud;

	if (d->kind == DELTA_TEXT || d->kind == DELTA_REASONING) {
		if (d->len == 0 || d->text == NULL || memchr(d->text, '\0', d->len) != NULL)
			abort();
		(*ntext)++;
	}
	if (d->kind == DELTA_ERROR && (d->error == NULL || d->error->message == NULL))
		abort();
	if (d->kind == DELTA_FINISH && d->finish_reason == NULL)
		abort();
}

/* Decode data as a whole reply of p, the first cut bytes in one feed and the rest in
 * pieces of 7, under cap (0: the default); the summary goes to out. Returns the number of
 * text and reasoning deltas. */
static size_t
fuzz_reply(const struct proto *p, const uint8_t *data, size_t size, size_t cut, size_t cap,
    struct buf *out)
{
	struct stream s;
	size_t ntext = 0, i;

	stream_init(&s, p, fuzz_on_delta, &ntext);
	stream_set_max_line(&s, cap);
	stream_set_whole(&s);
	stream_feed(&s, (const char *)data, cut);
	for (i = cut; i < size; i += 7)
		stream_feed(&s, (const char *)data + i, size - i < 7 ? size - i : 7);
	stream_finish(&s);
	stream_summary_json(&s, out);
	if (s.complete && s.error != NULL)
		abort();
	if (s.error != NULL) {
		char *line = apierr_format(s.error);

		if (strchr(line, '\n') != NULL)
			abort();
		free(line);
		(void)apierr_hint(s.error);
	}
	if (cap > 0 && size > cap && (s.error == NULL || s.error->cls != APIERR_TRUNCATED ||
	    ntext != 0 || s.body.len != 0))
		abort();
	stream_free(&s);
	return ntext;
}

/* One fuzz input: byte 0 picks the split and the cap, the rest is the body. */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct proto *const protos[] = { &proto_openai, &proto_anthropic,
		&proto_gemini, &proto_ollama };
	struct buf whole = BUF_INIT, split = BUF_INIT, capped = BUF_INIT;
	size_t cut, cap, i;
	cJSON *j;

	if (size == 0)
		return 0;
	cut = data[0] % size;
	cap = 16 + (size_t)data[0] * 4;
	data++;
	size--;
	if (cut > size)
		cut = size;
	for (i = 0; i < sizeof protos / sizeof protos[0]; i++) {
		buf_reset(&whole);
		buf_reset(&split);
		buf_reset(&capped);
		fuzz_reply(protos[i], data, size, size, 0, &whole);
		fuzz_reply(protos[i], data, size, cut, 0, &split);
		if (whole.len != split.len || memcmp(whole.data, split.data, whole.len) != 0)
			abort();
		j = cJSON_Parse(whole.data);
		if (j == NULL)
			abort();
		cJSON_Delete(j);
		fuzz_reply(protos[i], data, size, cut, cap, &capped);
		if (size <= cap && (capped.len != whole.len ||
		    memcmp(capped.data, whole.data, whole.len) != 0))
			abort();
	}
	buf_free(&whole);
	buf_free(&split);
	buf_free(&capped);
	return 0;
}
