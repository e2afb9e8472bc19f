/* Unit tests for the SSE decoder: the SDK decoder cases and the WHATWG edge cases of
 * protocols.md §C, each fed whole, one byte at a time and split at every offset. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "buf.h"
#include "sse.h"

/* Record each event as "type|data" followed by a 0x1e separator. */
static void
collect(void *ud, const char *event, const char *data, size_t len)
{
	struct buf *b = ud;

	buf_puts(b, event);
	buf_putc(b, '|');
	buf_append(b, data, len);
	buf_putc(b, '\x1e');
}

/* Decode the chunks (NULL-terminated) and return the recorded events. */
static char *
decode_chunks(const char **chunks, const size_t *lens, int *discarded)
{
	struct buf out = BUF_INIT;
	struct sse s;
	int i;

	sse_init(&s, collect, &out);
	for (i = 0; chunks[i] != NULL; i++)
		sse_feed(&s, chunks[i], lens ? lens[i] : strlen(chunks[i]));
	i = sse_finish(&s);
	if (discarded)
		*discarded = i;
	sse_free(&s);
	return buf_detach(&out);
}

/* Check that input of n bytes gives want whole, byte by byte and at every split. */
static void
check_all_splits(const char *input, size_t n, const char *want)
{
	struct buf out = BUF_INIT;
	struct sse s;
	size_t i, cut;
	char *got;
	const char *one[2] = { NULL, NULL };
	size_t len1[1];

	one[0] = input;
	len1[0] = n;
	got = decode_chunks(one, len1, NULL);
	assert_string_equal(got, want);
	free(got);

	sse_init(&s, collect, &out);
	for (i = 0; i < n; i++)
		sse_feed(&s, input + i, 1);
	sse_finish(&s);
	sse_free(&s);
	assert_string_equal(buf_str(&out), want);
	buf_free(&out);

	for (cut = 0; cut <= n; cut++) {
		sse_init(&s, collect, &out);
		sse_feed(&s, input, cut);
		sse_feed(&s, input + cut, n - cut);
		sse_finish(&s);
		sse_free(&s);
		assert_string_equal(buf_str(&out), want);
		buf_free(&out);
	}
}

#define CHECK(input, want) check_all_splits(input, sizeof(input) - 1, want)

/* The openai/anthropic SDK "basic" and "data_missing_event" cases. */
static void
test_basic(void **state)
{
	(void)state;
	CHECK("event: completion\ndata: {\"foo\":true}\n\n", "completion|{\"foo\":true}\x1e");
	CHECK("data: {\"foo\":true}\n\n", "message|{\"foo\":true}\x1e");
}

/* An event with no data fires nothing (spec), "data:" alone fires an empty event. */
static void
test_empty_events(void **state)
{
	(void)state;
	CHECK("event: ping\n\n", "");
	CHECK("event: ping\n\nevent: completion\n\n", "");
	CHECK("data:\n\n", "message|\x1e");
	CHECK("data\ndata\n\n", "message|\n\x1e");
	CHECK("\n\n\n", "");
}

/* Several data lines join with LF, including empty ones. */
static void
test_multiline(void **state)
{
	(void)state;
	CHECK("event: ping\ndata: {\ndata: \"foo\":\ndata: \ndata:\ndata: true}\n\n\n",
	    "ping|{\n\"foo\":\n\n\ntrue}\x1e");
	CHECK("data: {\ndata: \"foo\":\ndata: true}\n\n\n", "message|{\n\"foo\":\ntrue}\x1e");
}

/* CR, LF and CRLF terminators, mixed, give the same events. */
static void
test_line_endings(void **state)
{
	(void)state;
	CHECK("data: a\r\rdata: b\r\n\r\ndata: c\n\ndata: d\r\n\n", "message|a\x1emessage|b\x1emessage|c\x1emessage|d\x1e");
	CHECK("data: x\r\r\r\ndata: y\r\r", "message|x\x1emessage|y\x1e");
}

/* A CR ending one read and its LF starting the next are one terminator. */
static void
test_cr_lf_across_reads(void **state)
{
	const char *chunks[] = { "data: x\r", "\n\r", "\n", "data: y\r", "\r", NULL };
	char *got;

	(void)state;
	got = decode_chunks(chunks, NULL, NULL);
	assert_string_equal(got, "message|x\x1emessage|y\x1e");
	free(got);
}

/* One leading BOM is stripped, even split across reads; a later BOM is data. */
static void
test_bom(void **state)
{
	const char *chunks[] = { "\xef", "\xbb", "\xbf" "data: a\n\n", NULL };
	char *got;

	(void)state;
	CHECK("\xef\xbb\xbf" "data: a\n\n", "message|a\x1e");
	got = decode_chunks(chunks, NULL, NULL);
	assert_string_equal(got, "message|a\x1e");
	free(got);
	CHECK("data: a\n\n\xef\xbb\xbf" "data: b\n\n", "message|a\x1e");
	CHECK("\xef\xbb" "data: c\n\n", "");
}

/* Field parsing: one space removed after the colon, case-sensitive names, comments. */
static void
test_fields(void **state)
{
	(void)state;
	CHECK("data:x\n\n", "message|x\x1e");
	CHECK("data:  x\n\n", "message| x\x1e");
	CHECK("Data: no\ndata: yes\n\n", "message|yes\x1e");
	CHECK(": OPENROUTER PROCESSING\n\ndata: z\n\n", "message|z\x1e");
	CHECK("foo: bar\nevent: e\nid: 1\nretry: 50x\ndata: v\n\n", "e|v\x1e");
	CHECK("event: a\nevent: b\ndata: v\n\n", "b|v\x1e");
}

/* id and retry are recorded per the spec and never become content. */
static void
test_id_retry(void **state)
{
	static const char in[] = "id: 42\nretry: 3000\ndata: a\n\nid: b\0d\nretry: 5x\ndata: b\n\n";
	struct buf out = BUF_INIT;
	struct sse s;

	(void)state;
	sse_init(&s, collect, &out);
	sse_feed(&s, in, sizeof(in) - 1);
	assert_string_equal(buf_str(&s.last_id), "42");
	assert_int_equal(s.retry_ms, 3000);
	assert_string_equal(buf_str(&out), "message|a\x1emessage|b\x1e");
	sse_free(&s);
	buf_free(&out);
}

/* An event without its closing blank line is discarded at EOF and reported. */
static void
test_eof_discard(void **state)
{
	const char *chunks[] = { "data: kept\n\ndata: lost\n", NULL };
	const char *chunks2[] = { "data: kept\n\n", NULL };
	char *got;
	int discarded = 0;

	(void)state;
	got = decode_chunks(chunks, NULL, &discarded);
	assert_string_equal(got, "message|kept\x1e");
	assert_int_equal(discarded, 1);
	free(got);
	got = decode_chunks(chunks2, NULL, &discarded);
	assert_int_equal(discarded, 0);
	free(got);
}

/* U+2028 and multi-byte characters split across reads pass through untouched. */
static void
test_utf8(void **state)
{
	(void)state;
	CHECK("data: {\"content\":\" \xe2\x80\xa8\"}\n\n", "message|{\"content\":\" \xe2\x80\xa8\"}\x1e");
	CHECK("data: {\"content\":\"\xd0\xb8\xd0\xb7\xd0\xb2\"}\n\n", "message|{\"content\":\"\xd0\xb8\xd0\xb7\xd0\xb2\"}\x1e");
}

/* llama.cpp's non-standard error field is dispatched as an "error" event first. */
static void
test_llamacpp_error_field(void **state)
{
	(void)state;
	CHECK("error: {\"code\":500,\"message\":\"boom\"}\n\n",
	    "error|{\"code\":500,\"message\":\"boom\"}\x1e");
	CHECK("error: {\"code\":1}\ndata: [DONE]\n\n", "error|{\"code\":1}\x1emessage|[DONE]\x1e");
}

/* There is no line length limit: a 1 MiB data line arrives whole. */
static void
test_long_line(void **state)
{
	struct buf in = BUF_INIT, out = BUF_INIT, want = BUF_INIT;
	struct sse s;
	size_t i;

	(void)state;
	buf_puts(&in, "data: ");
	for (i = 0; i < (1u << 20); i++)
		buf_putc(&in, (char)('a' + i % 26));
	buf_puts(&in, "\n\n");
	buf_puts(&want, "message|");
	buf_append(&want, in.data + 6, 1u << 20);
	buf_putc(&want, '\x1e');
	sse_init(&s, collect, &out);
	for (i = 0; i < in.len; i += 1000)
		sse_feed(&s, in.data + i, in.len - i < 1000 ? in.len - i : 1000);
	sse_finish(&s);
	sse_free(&s);
	assert_int_equal(out.len, want.len);
	assert_memory_equal(out.data, want.data, want.len);
	buf_free(&in);
	buf_free(&out);
	buf_free(&want);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_basic),
		cmocka_unit_test(test_empty_events),
		cmocka_unit_test(test_multiline),
		cmocka_unit_test(test_line_endings),
		cmocka_unit_test(test_cr_lf_across_reads),
		cmocka_unit_test(test_bom),
		cmocka_unit_test(test_fields),
		cmocka_unit_test(test_id_retry),
		cmocka_unit_test(test_eof_discard),
		cmocka_unit_test(test_utf8),
		cmocka_unit_test(test_llamacpp_error_field),
		cmocka_unit_test(test_long_line),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
