/*
 * Replay of the recorded stream vectors (tests/vectors/stream-vectors.json, format in
 * protocols.md §C.5). The vectors are the ground truth for what providers send, so a replay
 * must be byte-exact: chunks_hex wins when present (cJSON strings stop at NUL), latin1 chunks
 * map each code point to one byte, and every recorded read goes out as its own write and HTTP
 * chunk so that natter's reads split where the recording's did.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cJSON.h>

#include "fakeserver.h"
#include "xmalloc.h"

struct fs_vector {
	char *name;
	char *protocol;
	int status;
	struct buf headers; /* "Name: value\r\n" lines */
	bool has_ctype;
	struct buf *chunks;
	size_t nchunks;
};

struct fs_vectors {
	struct fs_vector *v;
	size_t n;
};

/* Value of one hex digit, or -1. */
static int
fs_hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Decode a hex string into out; false if it is not valid hex. */
static bool
fs_unhex(const char *s, struct buf *out)
{
	size_t n = strlen(s), i;

	if (n % 2 != 0)
		return false;
	buf_reserve(out, n / 2);
	for (i = 0; i < n; i += 2) {
		int hi = fs_hexval(s[i]), lo = fs_hexval(s[i + 1]);

		if (hi < 0 || lo < 0)
			return false;
		buf_putc(out, (char)(hi << 4 | lo));
	}
	return true;
}

/* Turn a UTF-8 string whose code points are all <= U+00FF into one byte per code point. */
static bool
fs_unlatin1(const char *s, struct buf *out)
{
	const unsigned char *p = (const unsigned char *)s;

	while (*p != '\0') {
		if (*p < 0x80) {
			buf_putc(out, (char)*p++);
		} else if ((p[0] & 0xe0) == 0xc0 && (p[1] & 0xc0) == 0x80) {
			unsigned cp = (unsigned)(p[0] & 0x1f) << 6 | (p[1] & 0x3f);

			if (cp > 0xff)
				return false;
			buf_putc(out, (char)cp);
			p += 2;
		} else {
			return false;
		}
	}
	return true;
}

/* Fill one vector from its JSON object; false with a message in err if it is malformed. */
static bool
fs_vector_parse(const cJSON *item, struct fs_vector *v, struct buf *err)
{
	const cJSON *name = cJSON_GetObjectItemCaseSensitive(item, "name");
	const cJSON *proto = cJSON_GetObjectItemCaseSensitive(item, "protocol");
	const cJSON *status = cJSON_GetObjectItemCaseSensitive(item, "http_status");
	const cJSON *headers = cJSON_GetObjectItemCaseSensitive(item, "headers");
	const cJSON *chunks = cJSON_GetObjectItemCaseSensitive(item, "chunks");
	const cJSON *hex = cJSON_GetObjectItemCaseSensitive(item, "chunks_hex");
	const cJSON *enc = cJSON_GetObjectItemCaseSensitive(item, "chunks_encoding");
	const cJSON *src, *h, *c;
	bool latin1 = cJSON_IsString(enc) && strcmp(enc->valuestring, "latin1") == 0;
	size_t i = 0;

	if (!cJSON_IsString(name) || !cJSON_IsString(proto)) {
		buf_puts(err, "a vector lacks name or protocol");
		return false;
	}
	v->name = xstrdup(name->valuestring);
	v->protocol = xstrdup(proto->valuestring);
	v->status = cJSON_IsNumber(status) ? status->valueint : 200;
	buf_init(&v->headers);
	cJSON_ArrayForEach(h, headers) {
		if (!cJSON_IsString(h))
			continue;
		buf_printf(&v->headers, "%s: %s\r\n", h->string, h->valuestring);
		if (strcasecmp(h->string, "content-type") == 0)
			v->has_ctype = true;
	}
	src = cJSON_IsArray(hex) ? hex : chunks;
	if (!cJSON_IsArray(src)) {
		buf_printf(err, "vector %s has no chunks", v->name);
		return false;
	}
	v->nchunks = (size_t)cJSON_GetArraySize(src);
	v->chunks = xcalloc(v->nchunks ? v->nchunks : 1, sizeof(*v->chunks));
	cJSON_ArrayForEach(c, src) {
		bool ok = cJSON_IsString(c);

		if (ok) {
			if (src == hex)
				ok = fs_unhex(c->valuestring, &v->chunks[i]);
			else if (latin1)
				ok = fs_unlatin1(c->valuestring, &v->chunks[i]);
			else
				buf_puts(&v->chunks[i], c->valuestring);
		}
		if (!ok) {
			buf_printf(err, "vector %s: chunk %zu cannot be decoded", v->name, i);
			return false;
		}
		i++;
	}
	return true;
}

/* Load every vector from path; NULL with a message in err on failure. */
struct fs_vectors *
fs_vectors_load(const char *path, struct buf *err)
{
	struct fs_vectors *vs;
	struct buf text = BUF_INIT;
	char chunk[65536];
	cJSON *root, *item;
	FILE *f;
	size_t n;

	f = fopen(path, "rb");
	if (f == NULL) {
		buf_puts(err, "cannot open");
		return NULL;
	}
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		buf_append(&text, chunk, n);
	fclose(f);
	root = cJSON_ParseWithLength(text.data ? text.data : "", text.len);
	buf_free(&text);
	if (!cJSON_IsArray(root)) {
		buf_puts(err, "not a JSON array");
		cJSON_Delete(root);
		return NULL;
	}
	vs = xcalloc(1, sizeof(*vs));
	vs->v = xcalloc((size_t)cJSON_GetArraySize(root) + 1, sizeof(*vs->v));
	cJSON_ArrayForEach(item, root) {
		if (!fs_vector_parse(item, &vs->v[vs->n++], err)) {
			cJSON_Delete(root);
			fs_vectors_free(vs);
			return NULL;
		}
	}
	cJSON_Delete(root);
	return vs;
}

/* Free what fs_vectors_load returned (NULL is fine). */
void
fs_vectors_free(struct fs_vectors *vs)
{
	size_t i, j;

	if (vs == NULL)
		return;
	for (i = 0; i < vs->n; i++) {
		struct fs_vector *v = &vs->v[i];

		free(v->name);
		free(v->protocol);
		buf_free(&v->headers);
		for (j = 0; j < v->nchunks && v->chunks != NULL; j++)
			buf_free(&v->chunks[j]);
		free(v->chunks);
	}
	free(vs->v);
	free(vs);
}

/* Content-Type to use when a vector records none: JSON for error bodies, else the stream's. */
static const char *
fs_vector_ctype(const struct fs_vector *v)
{
	if (v->has_ctype)
		return NULL;
	if (v->status != 200)
		return "application/json";
	if (strcmp(v->protocol, "ollama-ndjson") == 0)
		return "application/x-ndjson";
	return "text/event-stream; charset=utf-8";
}

/*
 * Send the named vector as recorded; false if there is no such vector (nothing was sent).
 * first_delay_ms waits after the headers; delay_ms > 0 waits between chunks so that even the
 * kernel cannot merge them.
 */
bool
fs_vectors_replay(struct fs_conn *c, const struct fs_vectors *vs, const char *name,
    long first_delay_ms, long delay_ms)
{
	const struct fs_vector *v = NULL;
	size_t i;

	for (i = 0; vs != NULL && i < vs->n; i++) {
		if (strcmp(vs->v[i].name, name) == 0) {
			v = &vs->v[i];
			break;
		}
	}
	if (v == NULL)
		return false;
	fs_send_head(c, v->status, fs_vector_ctype(v), &v->headers, -1);
	for (i = 0; i < v->nchunks && !c->dead; i++) {
		long wait = i == 0 ? first_delay_ms : delay_ms;

		if (wait > 0 && !fs_sleep_ms(c->srv, wait)) {
			c->dead = true;
			return true;
		}
		fs_send_chunk(c, v->chunks[i].data, v->chunks[i].len);
	}
	fs_send_end(c);
	return true;
}
