/*
 * libFuzzer target for attachments: data URLs (what natter serve decodes from clients),
 * type detection of any bytes, base64 both ways, and the request bodies the adapters
 * build around a file (its base64 spliced into place). Whatever the input: a data URL
 * either parses into bytes that base64 gives back, or is refused with a reason; a kind is
 * an image only for the four image types; the line a message shows has no control
 * character and a file name made from a name has no slash; every body is valid JSON
 * that carries a file sent in the protocol's form exactly once, and its text parts as
 * given. The first byte picks the path, the rest is the input.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cJSON.h>

#include "attach-check.h"
#include "attach.h"
#include "buf.h"
#include "config.h"
#include "http.h"
#include "proto.h"
#include "provider.h"
#include "request.h"
#include "text.h"
#include "xmalloc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Abort unless the attachment's derived strings keep their promises. */
static void
fuzz_attach_strings(const struct attach *a)
{
	struct buf line = BUF_INIT;
	char *base = attach_basename(a);
	size_t i;

	attach_describe(a, &line);
	if (!text_is_safe(line.data, line.len, TEXT_LINE))
		abort();
	if (strchr(base, '/') != NULL || base[0] == '.' || base[0] == '\0')
		abort();
	if (a->kind == ATTACH_IMAGE && strcmp(a->mime, "image/png") != 0 &&
	    strcmp(a->mime, "image/jpeg") != 0 && strcmp(a->mime, "image/gif") != 0 &&
	    strcmp(a->mime, "image/webp") != 0)
		abort();
	for (i = 0; a->name[i] != '\0'; i++)
		if ((unsigned char)a->name[i] < 0x20)
			abort();
	buf_free(&line);
	free(base);
}

/* A data URL: parsed bytes re-encode to base64 that decodes to them again. */
static void
fuzz_attach_url(const char *p, size_t n)
{
	unsigned char *bytes, *again;
	char *mime, *err, *b64;
	size_t len, len2;
	struct attach *a;

	if (attach_data_url(p, n, &mime, &bytes, &len, &err) != 0) {
		if (err == NULL || err[0] == '\0')
			abort();
		free(err);
		return;
	}
	b64 = xmalloc(attach_b64_len(len) + 1);
	attach_b64_encode(b64, bytes, len);
	again = attach_b64_decode(b64, attach_b64_len(len), &len2);
	if (again == NULL || len2 != len || (len > 0 && memcmp(again, bytes, len) != 0))
		abort();
	free(again);
	free(b64);
	a = attach_take(mime, bytes, len);
	fuzz_attach_strings(a);
	attach_unref(a);
	free(mime);
}

/* Count the occurrences of needle (nl bytes) in hay. */
static size_t
fuzz_attach_count(const char *hay, size_t hl, const char *needle, size_t nl)
{
	const char *p = hay, *end = hay + hl;
	size_t n = 0;

	while (nl > 0 && p < end && (p = memmem(p, (size_t)(end - p), needle, nl)) != NULL) {
		n++;
		p += nl;
	}
	return n;
}

/* Make a streamed body whole after checking that reading it chunk bytes at a time gives
 * the same bytes as reading it at once. */
static void
fuzz_attach_flatten(struct http_req *out, size_t chunk)
{
	const struct http_stream *st = out->stream;
	char *s;
	size_t got = 0, k;

	if (st == NULL)
		return;
	s = xmalloc(st->len + 1);
	while ((k = st->read(st->arg, got, s + got, chunk < st->len - got ? chunk :
	    st->len - got)) > 0)
		got += k;
	if (got != st->len)
		abort();
	http_req_flatten(out);
	if (out->body_len != got || memcmp(out->body, s, got) != 0)
		abort();
	free(s);
}

/* Any bytes as a file of a message in every protocol's body. */
static void
fuzz_attach_body(const char *p, size_t n)
{
	static const char *const protocols[] = { "openai", "anthropic", "gemini", "ollama" };
	const char *nl = memchr(p, '\n', n);
	size_t tl = nl != NULL ? (size_t)(nl - p) : 0, i;
	char *text = xstrndup(p, tl), *err = NULL, *b64;
	struct attach *a = attach_new(text, nl != NULL ? nl + 1 : p, nl != NULL ? n - tl - 1 : n);
	struct model m;
	struct http_req out;
	struct request *r;
	cJSON *body;

	fuzz_attach_strings(a);
	/* Extracting a PDF's text runs pdftotext: give it the text it would have. */
	a->pdf_text = xstrdup("pdf text");
	b64 = xmalloc(attach_b64_len(a->size) + 1);
	attach_b64_encode(b64, a->data, a->size);
	b64[attach_b64_len(a->size)] = '\0';
	for (i = 0; i < sizeof protocols / sizeof protocols[0]; i++) {
		memset(&m, 0, sizeof m);
		m.name = "m";
		m.id = "m";
		m.input = ATTACH_IN_TEXT | ATTACH_IN_IMAGE | ATTACH_IN_PDF | ATTACH_IN_AUDIO;
		m.provider = provider_new("p", protocols[i], "http://127.0.0.1:1");
		r = request_new(m.provider, m.id);
		request_add(r, ROLE_USER, text);
		request_add_attach(r, a);
		if (attach_check_request(r, &m, &err) == 0) {
			memset(&out, 0, sizeof out);
			r->provider->proto->build_chat(r, &out);
			fuzz_attach_flatten(&out, n % 7 + 1);
			if ((body = cJSON_ParseWithLength(out.body, out.body_len)) == NULL)
				abort();
			cJSON_Delete(body);
			if (proto_attach_is_native(&r->msgs[0].atts[0]) && a->size >= 3 &&
			    strstr(text, b64) == NULL &&
			    fuzz_attach_count(out.body, out.body_len, b64, strlen(b64)) != 1)
				abort();
			http_req_free(&out);
		} else {
			if (err == NULL)
				abort();
			free(err);
			err = NULL;
		}
		request_free(r);
		provider_free(m.provider);
	}
	free(b64);
	attach_unref(a);
	free(text);
}

/* Fuzz one input. */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data + 1;
	unsigned char *back;
	char *b64;
	size_t n, len;

	if (size == 0)
		return 0;
	n = size - 1;
	switch (data[0] % 3) {
	case 0:
		fuzz_attach_url(p, n);
		break;
	case 1:
		fuzz_attach_body(p, n);
		break;
	default:
		b64 = xmalloc(attach_b64_len(n) + 1);
		attach_b64_encode(b64, (const unsigned char *)p, n);
		back = attach_b64_decode(b64, attach_b64_len(n), &len);
		if (back == NULL || len != n || (n > 0 && memcmp(back, p, n) != 0))
			abort();
		free(back);
		free(b64);
		/* Any text as base64: refused or decoded, never a crash. */
		free(attach_b64_decode(p, n, &len));
		break;
	}
	return 0;
}
