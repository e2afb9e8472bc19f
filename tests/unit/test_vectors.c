/*
 * Conformance: every vector of tests/vectors/stream-vectors.json (protocols.md §C.5) decoded
 * through the real stream path three ways (the reads as recorded, one byte at a time, and
 * split in two at every offset) and compared with its "expected" object. One cmocka test
 * per vector and mode, so a failure names both.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <cJSON.h>

#include "buf.h"
#include "json.h"
#include "http.h"
#include "proto.h"
#include "stream.h"
#include "xmalloc.h"

enum mode { MODE_RECORDED, MODE_BYTES, MODE_SPLIT };

static const char *const mode_names[] = { "recorded", "one-byte", "split-everywhere" };

struct vector {
	const cJSON *json;     /* the vector object (owned by the parsed file) */
	const char *name;
	struct buf *chunks;    /* raw bytes of each read */
	size_t nchunks;
	struct buf all;        /* every read concatenated */
	const struct proto *proto;
	int status;
	struct http_headers headers;
};

struct vcase {
	struct vector *v;
	enum mode mode;
	char *name;
};

static cJSON *vectors_root;

/* Decode hex into b; returns -1 on a malformed string. */
static int
vec_hex(const char *s, struct buf *b)
{
	size_t n = strlen(s), i;

	if (n % 2 != 0)
		return -1;
	buf_puts(b, "");
	for (i = 0; i < n; i += 2) {
		unsigned int x;

		if (sscanf(s + i, "%2x", &x) != 1)
			return -1;
		buf_putc(b, (char)x);
	}
	return 0;
}

/* Decode a UTF-8 string whose code points are all <= U+00FF into one byte each. */
static int
vec_latin1(const char *s, struct buf *b)
{
	const unsigned char *p = (const unsigned char *)s;

	buf_puts(b, "");
	while (*p != '\0') {
		if (*p < 0x80) {
			buf_putc(b, (char)*p++);
		} else if ((*p & 0xe0) == 0xc0 && (p[1] & 0xc0) == 0x80) {
			unsigned cp = ((unsigned)(*p & 0x1f) << 6) | (p[1] & 0x3f);

			if (cp > 0xff)
				return -1;
			buf_putc(b, (char)cp);
			p += 2;
		} else {
			return -1;
		}
	}
	return 0;
}

/* Fill v from its JSON object; fails the test on a malformed vector. */
static void
vec_load(struct vector *v, const cJSON *j)
{
	const cJSON *chunks = cJSON_GetObjectItemCaseSensitive(j, "chunks");
	const cJSON *hex = cJSON_GetObjectItemCaseSensitive(j, "chunks_hex");
	const cJSON *enc = cJSON_GetObjectItemCaseSensitive(j, "chunks_encoding");
	const cJSON *st = cJSON_GetObjectItemCaseSensitive(j, "http_status");
	const cJSON *hdrs = cJSON_GetObjectItemCaseSensitive(j, "headers");
	const cJSON *src = cJSON_IsArray(hex) ? hex : chunks;
	const cJSON *c, *h;
	int latin1 = cJSON_IsString(enc) && strcmp(enc->valuestring, "latin1") == 0;
	size_t i = 0;

	memset(v, 0, sizeof *v);
	v->json = j;
	v->name = cJSON_GetObjectItemCaseSensitive(j, "name")->valuestring;
	v->proto = proto_find(cJSON_GetObjectItemCaseSensitive(j, "protocol")->valuestring);
	v->status = cJSON_IsNumber(st) ? st->valueint : 200;
	assert_non_null(v->proto);
	assert_true(cJSON_IsArray(src));
	v->nchunks = (size_t)cJSON_GetArraySize(src);
	v->chunks = xcalloc(v->nchunks + 1, sizeof *v->chunks);
	cJSON_ArrayForEach(c, src) {
		assert_true(cJSON_IsString(c));
		if (src == hex)
			assert_int_equal(vec_hex(c->valuestring, &v->chunks[i]), 0);
		else if (latin1)
			assert_int_equal(vec_latin1(c->valuestring, &v->chunks[i]), 0);
		else
			buf_puts(&v->chunks[i], c->valuestring);
		buf_append(&v->all, v->chunks[i].data, v->chunks[i].len);
		i++;
	}
	cJSON_ArrayForEach(h, hdrs)
		if (cJSON_IsString(h))
			http_headers_add(&v->headers, h->string, h->valuestring);
}

/* Release what vec_load allocated. */
static void
vec_free(struct vector *v)
{
	size_t i;

	for (i = 0; i < v->nchunks; i++)
		buf_free(&v->chunks[i]);
	free(v->chunks);
	buf_free(&v->all);
	http_headers_clear(&v->headers);
}

/* Start a stream configured like the recorded response. */
static void
vec_start(const struct vector *v, struct stream *s)
{
	stream_init(s, v->proto, NULL, NULL);
	if (v->status != 200 || v->headers.n > 0)
		stream_set_status(s, v->status, &v->headers);
}

/* Compare one result with "expected"; returns NULL when they agree, else a description. */
static char *
vec_compare(const struct vector *v, const struct stream *s)
{
	const cJSON *exp = cJSON_GetObjectItemCaseSensitive(v->json, "expected");
	struct buf out = BUF_INIT;
	cJSON *got;
	const cJSON *e, *g;
	char *why = NULL;

	stream_summary_json(s, &out);
	got = cJSON_Parse(buf_str(&out));
	if (got == NULL) {
		why = xasprintf("summary is not JSON: %s", buf_str(&out));
		buf_free(&out);
		return why;
	}
	cJSON_ArrayForEach(e, exp) {
		g = cJSON_GetObjectItemCaseSensitive(got, e->string);
		if (strcmp(e->string, "usage") == 0 || strcmp(e->string, "error") == 0) {
			const cJSON *f;

			if (!cJSON_IsObject(g)) {
				why = xasprintf("%s missing", e->string);
				break;
			}
			cJSON_ArrayForEach(f, e) {
				const cJSON *gf = cJSON_GetObjectItemCaseSensitive(g, f->string);

				if (strcmp(f->string, "retry_after_s") == 0) {
					if (!cJSON_IsNumber(gf) ||
					    fabs(gf->valuedouble - f->valuedouble) > 0.01)
						why = xasprintf("error.retry_after_s");
				} else if (gf == NULL || !cJSON_Compare(f, gf, 1)) {
					why = xasprintf("%s.%s", e->string, f->string);
				}
				if (why != NULL)
					break;
			}
			/* Usage carries only the counts the provider reported. */
			if (why == NULL && strcmp(e->string, "usage") == 0)
				cJSON_ArrayForEach(f, g)
					if (why == NULL &&
					    !cJSON_HasObjectItem(e, f->string))
						why = xasprintf("usage.%s not expected", f->string);
		} else if (g == NULL || !cJSON_Compare(e, g, 1)) {
			why = xasprintf("%s", e->string);
		}
		if (why != NULL)
			break;
	}
	if (why == NULL) {
		static const char *const optional[] = { "reasoning", "usage", "error" };
		size_t i;

		for (i = 0; i < 3 && why == NULL; i++)
			if (!cJSON_HasObjectItem(exp, optional[i]) &&
			    cJSON_HasObjectItem(got, optional[i]))
				why = xasprintf("unexpected %s", optional[i]);
	}
	if (why != NULL) {
		char *full, *es = cJSON_PrintUnformatted(exp);

		full = xasprintf("%s: %s differs\n  expected %s\n  got      %s", v->name, why,
		    es, buf_str(&out));
		cJSON_free(es);
		free(why);
		why = full;
	}
	cJSON_Delete(got);
	buf_free(&out);
	return why;
}

/* Decode the vector with every read split at cut (or the recorded reads when cut is
 * SIZE_MAX) and check the result. */
static char *
vec_run_split(const struct vector *v, size_t cut)
{
	struct stream s;
	char *why;
	size_t i;

	vec_start(v, &s);
	if (cut == SIZE_MAX) {
		for (i = 0; i < v->nchunks; i++)
			stream_feed(&s, v->chunks[i].data != NULL ? v->chunks[i].data : "",
			    v->chunks[i].len);
	} else {
		stream_feed(&s, v->all.data, cut);
		stream_feed(&s, v->all.data + cut, v->all.len - cut);
	}
	stream_finish(&s);
	why = vec_compare(v, &s);
	stream_free(&s);
	return why;
}

/* One vector in one mode. */
static void
test_vector(void **state)
{
	struct vcase *c = *state;
	struct vector *v = c->v;
	char *why = NULL;
	size_t i, n = v->all.len;

	switch (c->mode) {
	case MODE_RECORDED:
		why = vec_run_split(v, SIZE_MAX);
		break;
	case MODE_BYTES: {
		struct stream s;

		vec_start(v, &s);
		for (i = 0; i < n; i++)
			stream_feed(&s, v->all.data + i, 1);
		stream_finish(&s);
		why = vec_compare(v, &s);
		stream_free(&s);
		break;
	}
	case MODE_SPLIT:
		/* Every offset; on the one 70 KB vector every offset near both ends and a
		 * stride in between, which keeps the run to seconds under ASan. */
		for (i = 0; i <= n && why == NULL; i++) {
			if (n > 8192 && i > 512 && i + 512 < n && i % 1021 != 0)
				continue;
			why = vec_run_split(v, i);
			if (why != NULL) {
				char *w = xasprintf("split at %zu: %s", i, why);

				free(why);
				why = w;
			}
		}
		break;
	}
	if (why != NULL) {
		print_error("%s (%s)\n", why, mode_names[c->mode]);
		free(why);
		fail();
	}
}

/* The corpus path: $SHARED/stream-vectors.json, else the repository's copy in tests/vectors. */
static char *
vec_path(void)
{
	const char *shared = getenv("SHARED");

	if (shared != NULL && shared[0] != '\0')
		return xasprintf("%s/stream-vectors.json", shared);
	return xstrdup("tests/vectors/stream-vectors.json");
}

/* Read the whole file at path; NULL when it cannot be read. */
static char *
vec_read(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	struct buf b = BUF_INIT;
	char tmp[65536];
	size_t n;

	if (f == NULL)
		return NULL;
	while ((n = fread(tmp, 1, sizeof tmp, f)) > 0)
		buf_append(&b, tmp, n);
	fclose(f);
	*len = b.len;
	return buf_detach(&b);
}

/* Append natter's own tool-call vectors (tests/vectors/tool-vectors.json, in the corpus's
 * format) to the corpus; a missing or broken file is one failing vector. */
static void
vec_add_tools(cJSON *root)
{
	size_t len = 0;
	char *text = vec_read("tests/vectors/tool-vectors.json", &len);
	cJSON *more = text != NULL ? cJSON_ParseWithLength(text, len) : NULL, *j;

	free(text);
	if (!cJSON_IsArray(more)) {
		cJSON_Delete(more);
		more = cJSON_Parse("[{\"name\":\"tool_vectors_unreadable\",\"protocol\":"
		    "\"openai-sse\",\"chunks\":[],\"expected\":{\"text\":\"tool-vectors.json\"}}]");
	}
	while ((j = cJSON_DetachItemFromArray(more, 0)) != NULL)
		cJSON_AddItemToArray(root, j);
	cJSON_Delete(more);
}

/* Reported when the corpus is missing or unreadable: that is a failure, not a skip. */
static void
test_corpus_missing(void **state)
{
	(void)state;
	fail_msg("cannot load stream-vectors.json (set $SHARED)");
}

/* The corpus holds the 45 vectors protocols.md promises. */
static void
test_corpus_size(void **state)
{
	(void)state;
	assert_true(cJSON_GetArraySize(vectors_root) >= 45);
}

int
main(void)
{
	char *path = vec_path(), *text;
	size_t len = 0, nv, i, k = 0;
	struct vector *vs;
	struct vcase *cases;
	struct CMUnitTest *tests;
	const cJSON *j;
	int rc;

	/* Decode through the cJSON arena, as natter does. */
	json_init();
	text = vec_read(path, &len);
	vectors_root = text != NULL ? cJSON_ParseWithLength(text, len) : NULL;
	free(text);
	free(path);
	if (!cJSON_IsArray(vectors_root)) {
		const struct CMUnitTest missing[] = { cmocka_unit_test(test_corpus_missing) };

		cJSON_Delete(vectors_root);
		return cmocka_run_group_tests(missing, NULL, NULL);
	}
	vec_add_tools(vectors_root);
	nv = (size_t)cJSON_GetArraySize(vectors_root);
	vs = xcalloc(nv, sizeof *vs);
	cases = xcalloc(nv * 3, sizeof *cases);
	tests = xcalloc(nv * 3 + 1, sizeof *tests);
	tests[k++] = (struct CMUnitTest)cmocka_unit_test(test_corpus_size);
	i = 0;
	cJSON_ArrayForEach(j, vectors_root) {
		enum mode m;

		vec_load(&vs[i], j);
		for (m = MODE_RECORDED; m <= MODE_SPLIT; m++) {
			struct vcase *c = &cases[i * 3 + m];

			c->v = &vs[i];
			c->mode = m;
			c->name = xasprintf("%s/%s", vs[i].name, mode_names[m]);
			tests[k].name = c->name;
			tests[k].test_func = test_vector;
			tests[k].initial_state = c;
			k++;
		}
		i++;
	}
	rc = _cmocka_run_group_tests("vectors", tests, k, NULL, NULL);
	for (i = 0; i < nv; i++)
		vec_free(&vs[i]);
	for (i = 0; i < nv * 3; i++)
		free(cases[i].name);
	free(vs);
	free(cases);
	free(tests);
	cJSON_Delete(vectors_root);
	return rc;
}
