/*
 * Attachments in memory (see attach.h): making one from bytes or a file, its type from
 * libmagic, its digest, and the small encodings every front end and adapter shares
 * (base64 and data URLs through nettle, sizes and the one line a message shows).
 *
 * libmagic loads its compiled database once per process, on the first attachment, and
 * its cookie is not thread-safe, so one cookie serves every thread under a mutex. Only
 * the first ATTACH_SNIFF bytes are looked at: every type natter tells apart is known by
 * its head, and a 20 MB image should not be scanned whole to learn it is a PNG. Where
 * the database cannot be loaded, valid UTF-8 without NUL bytes counts as text/plain and
 * everything else as application/octet-stream, so text files still work.
 */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <magic.h>
#include <nettle/base64.h>
#include <nettle/sha2.h>

#include "attach.h"
#include "buf.h"
#include "text.h"
#include "xmalloc.h"

/* Bytes of the head libmagic looks at. */
#define ATTACH_SNIFF (1u << 20)

static pthread_mutex_t attach_magic_lock = PTHREAD_MUTEX_INITIALIZER;
static magic_t attach_magic_cookie;
static int attach_magic_state; /* 0 not tried, 1 loaded, -1 unavailable */

/* The image types every provider that takes images accepts. */
static const char *const attach_images[] = { "image/png", "image/jpeg", "image/gif",
	"image/webp" };

/* Whether the n bytes at p are UTF-8 without NUL bytes (the fallback test for text). */
static int
attach_is_utf8(const unsigned char *p, size_t n)
{
	size_t i = 0;
	unsigned cp;
	int k;

	while (i < n) {
		if (p[i] == 0)
			return 0;
		if (p[i] < 0x80) {
			i++;
			continue;
		}
		if ((k = text_utf8_decode(p + i, n - i, &cp)) == 0)
			return 0;
		i += (size_t)k;
	}
	return 1;
}

/* The type libmagic gives the bytes, or the fallback's. */
void
attach_detect(const void *data, size_t n, char **mime, char **encoding)
{
	const char *m = NULL, *e = NULL;
	size_t look = n < ATTACH_SNIFF ? n : ATTACH_SNIFF;

	*mime = *encoding = NULL;
	pthread_mutex_lock(&attach_magic_lock);
	if (attach_magic_state == 0) {
		attach_magic_cookie = magic_open(MAGIC_MIME_TYPE | MAGIC_NO_CHECK_COMPRESS);
		attach_magic_state = attach_magic_cookie != NULL &&
		    magic_load(attach_magic_cookie, NULL) == 0 ? 1 : -1;
	}
	if (attach_magic_state == 1 && n > 0) {
		magic_setflags(attach_magic_cookie, MAGIC_MIME_TYPE | MAGIC_NO_CHECK_COMPRESS);
		if ((m = magic_buffer(attach_magic_cookie, data, look)) != NULL)
			*mime = xstrdup(m);
		magic_setflags(attach_magic_cookie, MAGIC_MIME_ENCODING | MAGIC_NO_CHECK_COMPRESS);
		if ((e = magic_buffer(attach_magic_cookie, data, look)) != NULL)
			*encoding = xstrdup(e);
	}
	pthread_mutex_unlock(&attach_magic_lock);
	if (n == 0) {
		free(*mime);
		free(*encoding);
		*mime = xstrdup("text/plain");
		*encoding = xstrdup("us-ascii");
	}
	if (*mime == NULL || *encoding == NULL) {
		int text = attach_is_utf8(data, look);

		free(*mime);
		free(*encoding);
		*mime = xstrdup(text ? "text/plain" : "application/octet-stream");
		*encoding = xstrdup(text ? "utf-8" : "binary");
	}
}

/* The kind of a type. */
enum attach_kind
attach_classify(const char *mime, const char *encoding)
{
	size_t i;

	for (i = 0; i < sizeof attach_images / sizeof attach_images[0]; i++)
		if (strcasecmp(mime, attach_images[i]) == 0)
			return ATTACH_IMAGE;
	if (strcasecmp(mime, "application/pdf") == 0)
		return ATTACH_PDF;
	if (strncasecmp(mime, "audio/", 6) == 0)
		return ATTACH_AUDIO;
	/* Text is what has a text encoding, whatever its type says (JSON, scripts, SVG). */
	if (encoding != NULL && strcasecmp(encoding, "binary") != 0 &&
	    strcasecmp(encoding, "unknown-8bit") != 0 && strncasecmp(mime, "image/", 6) != 0)
		return ATTACH_TEXT;
	return ATTACH_OTHER;
}

/* A one-line, bounded copy of name. */
static char *
attach_clean_name(const char *name)
{
	struct buf b = BUF_INIT;
	size_t n = strlen(name);

	text_sanitize_line(name, n, &b);
	if (b.len > ATTACH_NAME_MAX) {
		size_t cut = ATTACH_NAME_MAX;

		while (cut > 0 && ((unsigned char)b.data[cut] & 0xc0) == 0x80)
			cut--;
		b.len = cut;
		b.data[cut] = '\0';
	}
	if (b.len == 0)
		buf_puts(&b, "attachment");
	return buf_detach(&b);
}

/* A fresh attachment with one reference and nothing else set. */
static struct attach *
attach_alloc(const char *name)
{
	struct attach *a = xcalloc(1, sizeof(*a));

	atomic_init(&a->refs, 1);
	a->name = attach_clean_name(name != NULL ? name : "attachment");
	return a;
}

/* An attachment of data (taken over). */
struct attach *
attach_take(const char *name, unsigned char *data, size_t n)
{
	struct attach *a = attach_alloc(name);
	char *enc;

	attach_detect(data, n, &a->mime, &enc);
	a->kind = attach_classify(a->mime, enc);
	free(enc);
	a->data = data != NULL ? data : xcalloc(1, 1);
	a->size = n;
	return a;
}

/* An attachment of a copy of data. */
struct attach *
attach_new(const char *name, const void *data, size_t n)
{
	unsigned char *copy = xmalloc(n + 1);

	if (n > 0)
		memcpy(copy, data, n);
	copy[n] = 0;
	return attach_take(name, copy, n);
}

/* A stored reference; its bytes come later. */
struct attach *
attach_stored(const char *name, const char *mime, enum attach_kind kind, size_t size,
    const char *sha)
{
	struct attach *a = attach_alloc(name);

	a->mime = xstrdup(mime != NULL ? mime : "application/octet-stream");
	a->kind = kind;
	a->size = size;
	snprintf(a->sha, sizeof a->sha, "%s", sha != NULL ? sha : "");
	return a;
}

/* Read a file or standard input as an attachment. */
struct attach *
attach_read(const char *path, size_t max, char **err)
{
	int stdin_ = strcmp(path, "-") == 0;
	FILE *f = stdin_ ? stdin : fopen(path, "rb");
	unsigned char *data = NULL;
	size_t len = 0, cap = 0, got;

	*err = NULL;
	if (f == NULL) {
		*err = xasprintf("cannot read %s: %s", path, strerror(errno));
		return NULL;
	}
	for (;;) {
		if (cap - len < 65536) {
			cap = cap ? cap * 2 : 1u << 20;
			data = xrealloc(data, cap + 1);
		}
		got = fread(data + len, 1, cap - len, f);
		len += got;
		if (len > max) {
			*err = xasprintf("%s is larger than %zu MiB, the most natter attaches",
			    stdin_ ? "standard input" : path, max >> 20);
			break;
		}
		if (got == 0)
			break;
	}
	if (*err == NULL && ferror(f))
		*err = xasprintf("cannot read %s: %s", stdin_ ? "standard input" : path,
		    strerror(errno != 0 ? errno : EIO));
	if (!stdin_)
		fclose(f);
	if (*err != NULL) {
		free(data);
		return NULL;
	}
	if (data == NULL)
		data = xmalloc(1);
	data[len] = 0;
	return attach_take(stdin_ ? "stdin" : path, data, len);
}

/* One more reference. */
struct attach *
attach_ref(struct attach *a)
{
	if (a != NULL)
		atomic_fetch_add(&a->refs, 1);
	return a;
}

/* One reference fewer. */
void
attach_unref(struct attach *a)
{
	if (a == NULL || atomic_fetch_sub(&a->refs, 1) != 1)
		return;
	free(a->name);
	free(a->mime);
	free(a->data);
	free(a->pdf_text);
	free(a);
}

/* Hex SHA-256 of n bytes into out (65 bytes). */
static void
attach_digest(const unsigned char *p, size_t n, char out[65])
{
	struct sha256_ctx c;
	uint8_t d[SHA256_DIGEST_SIZE];
	int i;

	sha256_init(&c);
	sha256_update(&c, n, p);
	sha256_digest(&c, sizeof d, d);
	for (i = 0; i < SHA256_DIGEST_SIZE; i++)
		snprintf(out + 2 * i, 3, "%02x", d[i]);
}

/* Give a stored reference its bytes. */
int
attach_set_data(struct attach *a, unsigned char *data, size_t n)
{
	char sha[65];

	if (n != a->size) {
		free(data);
		return -1;
	}
	attach_digest(data, n, sha);
	if (a->sha[0] != '\0' && strcmp(sha, a->sha) != 0) {
		free(data);
		return -1;
	}
	free(a->data);
	a->data = data;
	memcpy(a->sha, sha, sizeof sha);
	return 0;
}

/* The digest, computed on first use. */
const char *
attach_sha(struct attach *a)
{
	if (a->sha[0] == '\0' && a->data != NULL)
		attach_digest(a->data, a->size, a->sha);
	return a->sha;
}

/* The kind's word. */
const char *
attach_kind_name(enum attach_kind k)
{
	switch (k) {
	case ATTACH_TEXT: return "text";
	case ATTACH_IMAGE: return "image";
	case ATTACH_PDF: return "pdf";
	case ATTACH_AUDIO: return "audio";
	case ATTACH_OTHER: break;
	}
	return "file";
}

/* The kind a word names (attach_kind_name's words); -1 for none. */
int
attach_kind_parse(const char *word)
{
	int k;

	for (k = ATTACH_TEXT; k <= ATTACH_OTHER; k++)
		if (strcmp(word, attach_kind_name((enum attach_kind)k)) == 0)
			return k;
	return -1;
}

/* The bit of an input word. */
unsigned
attach_input_bit(const char *word)
{
	if (strcmp(word, "text") == 0)
		return ATTACH_IN_TEXT;
	if (strcmp(word, "image") == 0)
		return ATTACH_IN_IMAGE;
	if (strcmp(word, "pdf") == 0)
		return ATTACH_IN_PDF;
	if (strcmp(word, "audio") == 0)
		return ATTACH_IN_AUDIO;
	return 0;
}

/* A size in bytes as people read it. */
void
attach_size_text(size_t n, struct buf *b)
{
	static const char *const unit[] = { "KiB", "MiB", "GiB", "TiB" };
	double v = (double)n;
	int u = -1;

	if (n < 1024) {
		buf_printf(b, "%zu B", n);
		return;
	}
	while (v >= 1024 && u < 3) {
		v /= 1024;
		u++;
	}
	buf_printf(b, v < 10 ? "%.1f %s" : "%.0f %s", v, unit[u]);
}

/* The line a message shows for a. */
void
attach_describe(const struct attach *a, struct buf *b)
{
	buf_puts(b, a->name);
	buf_puts(b, " \xc2\xb7 ");
	buf_puts(b, a->mime);
	buf_puts(b, " \xc2\xb7 ");
	attach_size_text(a->size, b);
}

/* The last part of the name, safe as a file name. */
char *
attach_basename(const struct attach *a)
{
	const char *base = strrchr(a->name, '/');
	struct buf b = BUF_INIT;

	base = base != NULL ? base + 1 : a->name;
	for (; *base != '\0'; base++) {
		unsigned char c = (unsigned char)*base;

		/* Leading dots would hide the file or name the directory itself. */
		if ((c == '.' && b.len == 0) || c == '\\' || c < 0x20)
			continue;
		buf_putc(&b, (char)c);
	}
	if (b.len == 0)
		buf_puts(&b, "attachment");
	return buf_detach(&b);
}

/* Encoded length of n bytes. */
size_t
attach_b64_len(size_t n)
{
	return BASE64_ENCODE_RAW_LENGTH(n);
}

/* Encode n bytes into out. */
void
attach_b64_encode(char *out, const unsigned char *in, size_t n)
{
	base64_encode_raw(out, n, in);
}

/* Decode base64 text. */
unsigned char *
attach_b64_decode(const char *in, size_t n, size_t *outlen)
{
	struct base64_decode_ctx ctx;
	unsigned char *out = xmalloc(BASE64_DECODE_LENGTH(n) + 1);
	size_t len = 0;

	base64_decode_init(&ctx);
	if (!base64_decode_update(&ctx, &len, out, n, in) || !base64_decode_final(&ctx)) {
		free(out);
		return NULL;
	}
	out[len] = 0;
	*outlen = len;
	return out;
}

/* Parse a base64 data URL. */
int
attach_data_url(const char *url, size_t n, char **mime, unsigned char **data, size_t *len,
    char **err)
{
	const char *p, *end = url + n, *comma, *semi;
	struct buf m = BUF_INIT;
	int base64 = 0;

	*mime = NULL;
	*data = NULL;
	*len = 0;
	*err = NULL;
	if (n < 5 || strncasecmp(url, "data:", 5) != 0) {
		*err = xstrdup("not a data: URL (natter takes images inline, as base64 data URLs)");
		return -1;
	}
	p = url + 5;
	if ((comma = memchr(p, ',', (size_t)(end - p))) == NULL) {
		*err = xstrdup("a data URL without a comma before its data");
		return -1;
	}
	semi = memchr(p, ';', (size_t)(comma - p));
	for (const char *q = p; q < (semi != NULL ? semi : comma); q++)
		buf_putc(&m, (char)(*q >= 'A' && *q <= 'Z' ? *q + 32 : *q));
	/* The parameters: only base64 matters (a charset or name is allowed and ignored). */
	while (semi != NULL && semi < comma) {
		const char *next = memchr(semi + 1, ';', (size_t)(comma - semi - 1));
		size_t plen = (size_t)((next != NULL ? next : comma) - semi - 1);

		if (plen == 6 && strncasecmp(semi + 1, "base64", 6) == 0)
			base64 = 1;
		semi = next;
	}
	if (!base64) {
		buf_free(&m);
		*err = xstrdup("a data URL that is not base64 (natter takes ;base64, only)");
		return -1;
	}
	if ((*data = attach_b64_decode(comma + 1, (size_t)(end - comma - 1), len)) == NULL) {
		buf_free(&m);
		*err = xstrdup("a data URL whose data is not valid base64");
		return -1;
	}
	if (m.len == 0)
		buf_puts(&m, "text/plain");
	*mime = buf_detach(&m);
	return 0;
}
