/*
 * Unit tests for attachments: the type comes from the bytes (libmagic), never the name;
 * base64 and data URLs; sizes and names as a message shows them; the checks a request
 * goes through before it is sent (a text-only model, the size limits, a file of a type no
 * provider takes, an earlier message's file left out with a note); the exact body each
 * adapter writes for images, PDFs and text files (with the base64 spliced into place
 * once, and text that merely looks like a placeholder left alone); and the store keeping
 * each content once, reading it back checked, and dropping it with its last message.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include <cJSON.h>
#include <sqlite3.h>

#include "attach-check.h"
#include "attach.h"
#include "buf.h"
#include "config.h"
#include "http.h"
#include "proto.h"
#include "provider.h"
#include "request.h"
#include "session.h"
#include "store.h"
#include "xmalloc.h"

static const unsigned char png[] = { 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n', 0, 0, 0,
	0x0d, 'I', 'H', 'D', 'R', 0, 0, 0, 4, 0, 0, 0, 4, 8, 2, 0, 0, 0 };
static const unsigned char jpeg[] = { 0xff, 0xd8, 0xff, 0xe0, 0, 0x10, 'J', 'F', 'I', 'F', 0,
	1, 1, 0, 0, 1, 0, 1, 0, 0 };
static const unsigned char gif[] = { 'G', 'I', 'F', '8', '9', 'a', 4, 0, 4, 0, 0x80, 0, 0 };
static const unsigned char webp[] = { 'R', 'I', 'F', 'F', 0x1a, 0, 0, 0, 'W', 'E', 'B', 'P',
	'V', 'P', '8', ' ', 0x0e, 0, 0, 0 };
static const unsigned char wav[] = { 'R', 'I', 'F', 'F', '$', 0, 0, 0, 'W', 'A', 'V', 'E',
	'f', 'm', 't', ' ', 0x10, 0, 0, 0, 1, 0, 1, 0, 0x44, 0xac, 0, 0, 0x88, 0x58, 1, 0, 2, 0,
	0x10, 0, 'd', 'a', 't', 'a', 0, 0, 0, 0 };
static const unsigned char bmp[] = { 'B', 'M', 0x36, 0, 0, 0, 0, 0, 0, 0, 0x36, 0, 0, 0,
	0x28, 0 };
static const char pdf[] = "%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< >>\nendobj\n";

/* The attachment of n bytes under name. */
static struct attach *
mk(const char *name, const void *p, size_t n)
{
	return attach_new(name, p, n);
}

/* The type is the content's: a PNG called notes.txt is an image, text called x.png text. */
static void
test_detect(void **state)
{
	static const struct {
		const void *p;
		size_t n;
		const char *mime;
		enum attach_kind kind;
	} cases[] = {
		{ png, sizeof png, "image/png", ATTACH_IMAGE },
		{ jpeg, sizeof jpeg, "image/jpeg", ATTACH_IMAGE },
		{ gif, sizeof gif, "image/gif", ATTACH_IMAGE },
		{ webp, sizeof webp, "image/webp", ATTACH_IMAGE },
		{ pdf, sizeof pdf - 1, "application/pdf", ATTACH_PDF },
		{ wav, sizeof wav, "audio/x-wav", ATTACH_AUDIO },
		{ bmp, sizeof bmp, NULL, ATTACH_OTHER },
		{ "{\"a\": 1}\n", 9, "application/json", ATTACH_TEXT },
		{ "h\xc3\xa9llo w\xc3\xb6rld\n", 14, "text/plain", ATTACH_TEXT },
		{ "int main(void) { return 0; }\n", 29, NULL, ATTACH_TEXT },
		{ "", 0, "text/plain", ATTACH_TEXT },
		{ "\x7f" "ELF\x02\x01\x01\0\0\0\0\0\0\0\0\0\x02\0>\0", 20, NULL, ATTACH_OTHER },
	};
	size_t i;
	struct attach *a;

	(void)state;
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		a = mk(i == 0 ? "notes.txt" : "x.png", cases[i].p, cases[i].n);
		if (cases[i].mime != NULL && strcmp(a->mime, cases[i].mime) != 0)
			fail_msg("case %zu: %s, not %s", i, a->mime, cases[i].mime);
		if (a->kind != cases[i].kind)
			fail_msg("case %zu (%s): kind %s, not %s", i, a->mime,
			    attach_kind_name(a->kind), attach_kind_name(cases[i].kind));
		assert_int_equal(a->size, cases[i].n);
		attach_unref(a);
	}
	assert_int_equal(attach_classify("image/tiff", "binary"), ATTACH_OTHER);
	assert_int_equal(attach_classify("image/svg+xml", "us-ascii"), ATTACH_OTHER);
	assert_int_equal(attach_classify("text/x-c", "us-ascii"), ATTACH_TEXT);
	assert_int_equal(attach_classify("application/zip", "binary"), ATTACH_OTHER);
	assert_int_equal(attach_kind_parse("pdf"), ATTACH_PDF);
	assert_int_equal(attach_kind_parse("file"), ATTACH_OTHER);
	assert_int_equal(attach_kind_parse("movie"), -1);
	assert_int_equal(attach_input_bit("image"), ATTACH_IN_IMAGE);
	assert_int_equal(attach_input_bit("video"), 0);
}

/* A file read from disk keeps its path as its name, and its digest is SHA-256. */
static void
test_read_and_digest(void **state)
{
	char path[] = "/tmp/natter-attach-XXXXXX", *err = NULL;
	int fd = mkstemp(path);
	struct attach *a, *b;

	(void)state;
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "abc", 3), 3);
	close(fd);
	a = attach_read(path, 1024, &err);
	assert_non_null(a);
	assert_string_equal(a->name, path);
	assert_string_equal(attach_sha(a),
	    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	assert_null(attach_read(path, 2, &err));
	assert_non_null(strstr(err, "larger than"));
	free(err);
	b = attach_read("/nonexistent/natter", 1024, &err);
	assert_null(b);
	assert_non_null(strstr(err, "cannot read /nonexistent/natter"));
	free(err);
	unlink(path);
	/* A stored reference takes only the bytes its digest names. */
	b = attach_stored("x", "text/plain", ATTACH_TEXT, 3, a->sha);
	assert_int_equal(attach_set_data(b, (unsigned char *)xstrdup("abd"), 3), -1);
	assert_null(b->data);
	assert_int_equal(attach_set_data(b, (unsigned char *)xstrdup("abcd"), 4), -1);
	assert_int_equal(attach_set_data(b, (unsigned char *)xstrdup("abc"), 3), 0);
	assert_memory_equal(b->data, "abc", 3);
	attach_unref(b);
	attach_unref(attach_ref(a));
	attach_unref(a);
}

/* Base64 both ways and data URLs: the base64 flag is required, parameters are ignored. */
static void
test_base64_and_data_urls(void **state)
{
	char out[16], *mime, *err;
	unsigned char *data;
	size_t len;

	(void)state;
	assert_int_equal(attach_b64_len(0), 0);
	assert_int_equal(attach_b64_len(4), 8);
	attach_b64_encode(out, (const unsigned char *)"hello", 5);
	assert_memory_equal(out, "aGVsbG8=", 8);
	data = attach_b64_decode("aGVs\nbG8=", 9, &len);
	assert_non_null(data);
	assert_int_equal(len, 5);
	assert_memory_equal(data, "hello", 5);
	free(data);
	assert_null(attach_b64_decode("aGV$", 4, &len));
	assert_int_equal(attach_data_url("data:image/png;base64,aGk=", 26, &mime, &data, &len,
	    &err), 0);
	assert_string_equal(mime, "image/png");
	assert_int_equal(len, 2);
	free(mime);
	free(data);
	assert_int_equal(attach_data_url("DATA:Image/PNG;name=a.png;base64,aGk=", 37, &mime, &data,
	    &len, &err), 0);
	assert_string_equal(mime, "image/png");
	free(mime);
	free(data);
	assert_int_equal(attach_data_url("data:;base64,aGk=", 17, &mime, &data, &len, &err), 0);
	assert_string_equal(mime, "text/plain");
	free(mime);
	free(data);
	assert_int_equal(attach_data_url("https://x/y.png", 15, &mime, &data, &len, &err), -1);
	assert_non_null(strstr(err, "not a data: URL"));
	free(err);
	assert_int_equal(attach_data_url("data:image/png,abc", 18, &mime, &data, &len, &err), -1);
	assert_non_null(strstr(err, "not base64"));
	free(err);
	assert_int_equal(attach_data_url("data:image/png;base64", 21, &mime, &data, &len, &err),
	    -1);
	free(err);
	assert_int_equal(attach_data_url("data:image/png;base64,a$==", 26, &mime, &data, &len,
	    &err), -1);
	assert_non_null(strstr(err, "not valid base64"));
	free(err);
}

/* Sizes, the line a message shows, and names made safe for a terminal and a file system. */
static void
test_describe(void **state)
{
	struct buf b = BUF_INIT;
	struct attach *a = mk("dir/../.hid\x1b[31mden.png", png, sizeof png);
	char *base;

	(void)state;
	attach_size_text(812, &b);
	buf_puts(&b, "|");
	attach_size_text(14540, &b);
	buf_puts(&b, "|");
	attach_size_text(3250585, &b);
	buf_puts(&b, "|");
	attach_size_text(20000000, &b);
	assert_string_equal(buf_str(&b), "812 B|14 KiB|3.1 MiB|19 MiB");
	buf_reset(&b);
	attach_describe(a, &b);
	assert_null(strchr(buf_str(&b), '\x1b'));
	assert_non_null(strstr(buf_str(&b), " \xc2\xb7 image/png \xc2\xb7 29 B"));
	base = attach_basename(a);
	assert_null(strchr(base, '/'));
	assert_true(base[0] != '.');
	free(base);
	attach_unref(a);
	buf_free(&b);
}

/* A model of protocol with the given input and per-model limit (bytes, 0: none). */
static struct model *
mkmodel(const char *protocol, unsigned input, size_t limit)
{
	struct model *m = xcalloc(1, sizeof(*m));

	m->name = xstrdup("m1");
	m->id = xstrdup("m1");
	m->provider = provider_new("prov", protocol, "http://127.0.0.1:1/v1");
	m->input = input;
	m->max_attach = limit;
	return m;
}

/* Free what mkmodel made. */
static void
freemodel(struct model *m)
{
	provider_free(m->provider);
	free(m->name);
	free(m->id);
	free(m);
}

/* A request to m whose last user message carries the given files. */
static struct request *
mkreq(const struct model *m, struct attach **atts, size_t n)
{
	struct request *r = request_new(m->provider, m->id);
	size_t k;

	request_add(r, ROLE_USER, "look");
	for (k = 0; k < n; k++)
		request_add_attach(r, atts[k]);
	return r;
}

/* Refused before sending: an image to a text-only model, a file over the limit (the
 * limit in the message), a type nobody takes; an earlier message's image is left out. */
static void
test_check(void **state)
{
	struct attach *img = mk("cat.png", png, sizeof png), *bin = mk("a.bmp", bmp, sizeof bmp);
	struct model *text = mkmodel("openai", ATTACH_IN_TEXT, 0);
	struct model *small = mkmodel("openai", ATTACH_IN_TEXT | ATTACH_IN_IMAGE, 10);
	struct model *vision = mkmodel("anthropic", ATTACH_IN_TEXT | ATTACH_IN_IMAGE, 0);
	struct request *r;
	const char *where;
	char *err;

	(void)state;
	r = mkreq(text, &img, 1);
	assert_int_equal(attach_check_request(r, text, &err), -1);
	assert_non_null(strstr(err, "cat.png is an image (image/png), but m1 takes text only"));
	assert_non_null(strstr(err, "models.m1.input"));
	free(err);
	request_free(r);
	r = mkreq(small, &img, 1);
	assert_int_equal(attach_check_request(r, small, &err), -1);
	assert_non_null(strstr(err, "cat.png (29 B) is over the limit of 10 B"));
	assert_non_null(strstr(err, "models.m1.max_attachment"));
	free(err);
	request_free(r);
	r = mkreq(vision, &bin, 1);
	assert_int_equal(attach_check_request(r, vision, &err), -1);
	assert_non_null(strstr(err, "a.bmp is application/octet-stream: natter attaches text"));
	free(err);
	request_free(r);
	/* The image was in an earlier message: the text model is told it was there. */
	r = mkreq(text, &img, 1);
	request_add(r, ROLE_ASSISTANT, "a cat");
	request_add(r, ROLE_USER, "and now?");
	assert_int_equal(attach_check_request(r, text, &err), 0);
	assert_true(r->msgs[0].atts[0].omitted);
	request_free(r);
	/* The protocols' own limits, and the provider's over them. */
	assert_int_equal(attach_check_limit(vision, ATTACH_IMAGE, &where), 5u << 20);
	assert_null(where);
	assert_int_equal(attach_check_limit(vision, ATTACH_PDF, &where), 32u << 20);
	vision->provider->max_attach = 1000;
	assert_int_equal(attach_check_limit(vision, ATTACH_PDF, &where), 1000);
	assert_string_equal(where, "providers");
	assert_int_equal(attach_check_limit(text, ATTACH_IMAGE, &where), 20u << 20);
	freemodel(text);
	freemodel(small);
	freemodel(vision);
	attach_unref(img);
	attach_unref(bin);
}

/* A streamed body read chunk bytes at a time from offset start (as libcurl reads it,
 * or after a rewind); the bytes from start, NUL-ended. */
static char *
read_chunked(const struct http_req *out, size_t start, size_t chunk)
{
	const struct http_stream *st = out->stream;
	char *s = xmalloc(st->len + 1);
	size_t got = start, n;

	assert_true(start <= st->len);
	while ((n = st->read(st->arg, got, s + got - start,
	    chunk < st->len - got ? chunk : st->len - got)) > 0)
		got += n;
	assert_int_equal(got, st->len);
	s[got - start] = '\0';
	return s;
}

/* The body protocol builds for "look" with an image, a text file and a PDF, checked to
 * the byte against want; the base64 is the files' own. A body with files is a stream, read
 * here in every chunk size from 1 to 9 bytes and from every offset, as libcurl may. */
static void
check_body(const char *protocol, unsigned input, const char *want)
{
	struct attach *atts[3] = { mk("cat.png", png, sizeof png), mk("a.c", "x = 1;\n", 7),
		mk("doc.pdf", pdf, sizeof pdf - 1) };
	struct model *m = mkmodel(protocol, input, 0);
	struct request *r = mkreq(m, atts, 3);
	struct http_req out;
	char *err = NULL;
	int k;

	/* Where the PDF would go as its text, that text is set as pdftotext would give it. */
	atts[2]->pdf_text = xstrdup("PDF words");
	assert_int_equal(attach_check_request(r, m, &err), 0);
	memset(&out, 0, sizeof out);
	r->provider->proto->build_chat(r, &out);
	if (strchr(want, '"') != NULL && strstr(want, "base64") != NULL) {
		size_t chunk, start, wl = strlen(want);
		char *got;

		assert_non_null(out.stream);
		assert_null(out.body);
		assert_int_equal(out.stream->len, wl);
		for (chunk = 1; chunk <= 9; chunk++)
			for (start = 0; start <= wl; start += chunk == 1 ? 1 : wl) {
				got = read_chunked(&out, start, chunk);
				if (strcmp(got, want + start) != 0)
					fail_msg("%s body read %zu at a time from %zu:\n%s\nwanted:\n%s",
					    protocol, chunk, start, got, want + start);
				free(got);
			}
	}
	http_req_flatten(&out);
	assert_null(out.stream);
	if (strcmp(out.body, want) != 0)
		fail_msg("%s body:\n%s\nwanted:\n%s", protocol, out.body, want);
	assert_int_equal(out.body_len, strlen(want));
	http_req_free(&out);
	request_free(r);
	freemodel(m);
	for (k = 0; k < 3; k++)
		attach_unref(atts[k]);
}

#define PNG64 "iVBORw0KGgoAAAANSUhEUgAAAAQAAAAECAIAAAA="
#define PDF64 "JVBERi0xLjQKJeLjz9MKMSAwIG9iago8PCA+PgplbmRvYmoK"
#define TEXTC "look\\n\\na.c:\\n```\\nx = 1;\\n```"
#define TEXTPDF "\\n\\ndoc.pdf (the text of the PDF):\\n```\\nPDF words\\n```"

/* Each protocol's shape for images, PDFs and text files. */
static void
test_bodies(void **state)
{
	unsigned all = ATTACH_IN_TEXT | ATTACH_IN_IMAGE | ATTACH_IN_PDF;

	(void)state;
	check_body("openai", all, "{\"model\":\"m1\",\"messages\":[{\"role\":\"user\",\"content\":["
	    "{\"type\":\"text\",\"text\":\"" TEXTC TEXTPDF "\"},{\"type\":\"image_url\","
	    "\"image_url\":{\"url\":\"data:image/png;base64," PNG64 "\"}}]}],\"stream\":true,"
	    "\"stream_options\":{\"include_usage\":true}}");
	check_body("anthropic", all, "{\"model\":\"m1\",\"max_tokens\":4096,\"messages\":[{\"role\":"
	    "\"user\",\"content\":[{\"type\":\"image\",\"source\":{\"type\":\"base64\","
	    "\"media_type\":\"image/png\",\"data\":\"" PNG64 "\"}},{\"type\":\"document\","
	    "\"source\":{\"type\":\"base64\",\"media_type\":\"application/pdf\",\"data\":\""
	    PDF64 "\"}},{\"type\":\"text\",\"text\":\"" TEXTC "\"}]}],\"stream\":true}");
	check_body("gemini", all, "{\"contents\":[{\"role\":\"user\",\"parts\":[{\"inline_data\":"
	    "{\"mime_type\":\"image/png\",\"data\":\"" PNG64 "\"}},{\"inline_data\":{\"mime_type\":"
	    "\"application/pdf\",\"data\":\"" PDF64 "\"}},{\"text\":\"" TEXTC "\"}]}]}");
	check_body("ollama", all, "{\"model\":\"m1\",\"messages\":[{\"role\":\"user\",\"content\":"
	    "\"" TEXTC TEXTPDF "\",\"images\":[\"" PNG64 "\"]}],\"stream\":true}");
	/* A model without pdf gets the PDF as its text on Anthropic too. */
	check_body("anthropic", ATTACH_IN_TEXT | ATTACH_IN_IMAGE, "{\"model\":\"m1\","
	    "\"max_tokens\":4096,\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"image\","
	    "\"source\":{\"type\":\"base64\",\"media_type\":\"image/png\",\"data\":\"" PNG64 "\"}},"
	    "{\"type\":\"text\",\"text\":\"" TEXTC TEXTPDF "\"}]}],\"stream\":true}");
}

/* Text that looks like a placeholder is text: only this request's nonce is replaced. */
static void
test_marks_are_private(void **state)
{
	struct attach *img = mk("cat.png", png, sizeof png);
	struct model *m = mkmodel("openai", ATTACH_IN_TEXT | ATTACH_IN_IMAGE, 0);
	struct request *r = request_new(m->provider, m->id);
	struct http_req out;
	char *err = NULL;
	cJSON *body, *parts;

	(void)state;
	request_add(r, ROLE_USER, "\"natter-attachment:0000000000000000:0\" natter-attachment:");
	request_add_attach(r, img);
	assert_int_equal(attach_check_request(r, m, &err), 0);
	memset(&out, 0, sizeof out);
	r->provider->proto->build_chat(r, &out);
	http_req_flatten(&out);
	body = cJSON_Parse(out.body);
	assert_non_null(body);
	parts = cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(body, "messages"), 0),
	    "content");
	assert_string_equal(cJSON_GetObjectItem(cJSON_GetArrayItem(parts, 0), "text")->valuestring,
	    "\"natter-attachment:0000000000000000:0\" natter-attachment:");
	assert_string_equal(cJSON_GetObjectItem(cJSON_GetObjectItem(cJSON_GetArrayItem(parts, 1),
	    "image_url"), "url")->valuestring, "data:image/png;base64," PNG64);
	cJSON_Delete(body);
	http_req_free(&out);
	request_free(r);
	freemodel(m);
	attach_unref(img);
}

/* Count rows of a table through a connection of our own. */
static int
rows(const char *path, const char *table)
{
	sqlite3 *db;
	sqlite3_stmt *s;
	char *sql = xasprintf("SELECT count(*) FROM %s", table);
	int n = -1;

	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &s, NULL), SQLITE_OK);
	if (sqlite3_step(s) == SQLITE_ROW)
		n = sqlite3_column_int(s, 0);
	sqlite3_finalize(s);
	sqlite3_close(db);
	free(sql);
	return n;
}

/* One content is stored once however often it is attached; a loaded session has it back
 * (read on demand, checked); it goes with its last message. */
static void
test_store(void **state)
{
	char dir[] = "/tmp/natter-attach-store-XXXXXX", *path, *err = NULL;
	struct attach *img = mk("cat.png", png, sizeof png), *again = mk("other.png", png,
	    sizeof png);
	struct store *st;
	struct session *s, *l;
	struct request *r;
	struct session_fit fit = { 0 };
	int64_t id;

	(void)state;
	assert_non_null(mkdtemp(dir));
	path = xasprintf("%s/n.db", dir);
	st = store_open(path, &err);
	assert_non_null(st);
	s = session_new(st, "p", "m");
	session_append_user_files(s, "first", &img, 1);
	session_append_user_files(s, "second", &again, 1);
	id = s->id;
	assert_true(id > 0);
	assert_int_equal(rows(path, "attachments"), 1);
	assert_int_equal(rows(path, "message_attachments"), 2);
	l = session_load(st, id);
	assert_non_null(l);
	assert_int_equal(l->msgs[0].natts, 1);
	assert_string_equal(l->msgs[1].atts[0]->name, "other.png");
	assert_string_equal(l->msgs[1].atts[0]->mime, "image/png");
	assert_int_equal(l->msgs[1].atts[0]->kind, ATTACH_IMAGE);
	assert_null(l->msgs[1].atts[0]->data);
	r = session_request_fit(l, NULL, "m", NULL, l->nmsgs, -1, &fit);
	assert_int_equal(r->nmsgs, 2);
	assert_int_equal(r->msgs[1].natts, 1);
	assert_memory_equal(r->msgs[1].atts[0].a->data, png, sizeof png);
	request_free(r);
	session_free(l);
	/* Deleting the second message keeps the file for the first; the session, for none. */
	assert_int_equal(session_truncate(s, 1), 0);
	assert_int_equal(rows(path, "attachments"), 1);
	assert_int_equal(rows(path, "message_attachments"), 1);
	assert_int_equal(store_session_delete(st, id), 0);
	assert_int_equal(rows(path, "attachments"), 0);
	assert_int_equal(rows(path, "message_attachments"), 0);
	session_free(s);
	store_close(st);
	attach_unref(img);
	attach_unref(again);
	free(path);
	path = xasprintf("rm -rf %s", dir);
	assert_int_equal(system(path), 0);
	free(path);
}

/* Files make a message without text, and count towards the context budget. */
static void
test_session_budget(void **state)
{
	struct attach *txt = mk("big.txt", "abcdefgh abcdefgh abcdefgh abcdefgh\n", 36);
	struct session *s = session_new(NULL, "p", "m");
	struct session_fit fit = { 0 };
	struct request *r;

	(void)state;
	session_append_user_files(s, "", &txt, 1);
	assert_string_equal(s->title, "big.txt");
	r = session_request_fit(s, NULL, "m", NULL, s->nmsgs, -1, &fit);
	assert_int_equal(r->nmsgs, 1);
	assert_int_equal(fit.tokens, 9);
	request_free(r);
	session_free(s);
	attach_unref(txt);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_detect),
		cmocka_unit_test(test_read_and_digest),
		cmocka_unit_test(test_base64_and_data_urls),
		cmocka_unit_test(test_describe),
		cmocka_unit_test(test_check),
		cmocka_unit_test(test_bodies),
		cmocka_unit_test(test_marks_are_private),
		cmocka_unit_test(test_store),
		cmocka_unit_test(test_session_budget),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
