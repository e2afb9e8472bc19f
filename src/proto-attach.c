/*
 * Attachments on the wire, shared by the adapters: the text a user message goes as (its
 * words, then each file sent as text in a fenced block headed by its name), and the bytes
 * of files sent in the protocol's own form.
 *
 * A 20 MB image is 27 MB of base64. Building that string, copying it into a cJSON node,
 * escaping it into cJSON's output and copying that into the request would move it four
 * times. Instead an adapter puts a placeholder string where the bytes go (proto_mark);
 * proto_set_body_marked prints the small document, sizes the final body, allocates it
 * once and encodes each file's base64 straight into its place. The placeholder carries a
 * per-request random nonce, so no text a user or model wrote can be taken for one; and
 * base64 needs no JSON escaping, so the spliced document is exactly what cJSON would have
 * written.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cJSON.h>

#include "attach.h"
#include "buf.h"
#include "http.h"
#include "log.h"
#include "proto.h"
#include "request.h"
#include "xmalloc.h"

#define PROTO_MARK_HEAD "natter-attachment:"

/* Start an empty set of placeholders with a fresh nonce. */
void
proto_marks_init(struct proto_marks *pm)
{
	static unsigned long long counter;
	struct timespec ts;
	unsigned long long x;

	clock_gettime(CLOCK_REALTIME, &ts);
	x = (unsigned long long)ts.tv_nsec * 0x9e3779b97f4a7c15ull ^
	    (unsigned long long)ts.tv_sec << 20 ^ (unsigned long long)(uintptr_t)pm ^
	    __atomic_add_fetch(&counter, 0x632be59bd9b4e019ull, __ATOMIC_RELAXED);
	x ^= x >> 31;
	snprintf(pm->nonce, sizeof pm->nonce, "%016llx", x * 0xbf58476d1ce4e5b9ull);
	pm->v = NULL;
	pm->n = 0;
}

/* Free what the placeholders hold. */
static void
proto_marks_free(struct proto_marks *pm)
{
	free(pm->v);
	pm->v = NULL;
	pm->n = 0;
}

/* A JSON string standing for a's bytes in base64, or its data URL when url is set. */
cJSON *
proto_mark(struct proto_marks *pm, const struct attach *a, int url)
{
	char s[64];

	pm->v = xrealloc(pm->v, (pm->n + 1) * sizeof(*pm->v));
	pm->v[pm->n].a = a;
	pm->v[pm->n].url = url;
	snprintf(s, sizeof s, PROTO_MARK_HEAD "%s:%zu", pm->nonce, pm->n);
	pm->n++;
	return cJSON_CreateString(s);
}

/* The longest run of backticks in the n bytes at p. */
static size_t
proto_attach_ticks(const char *p, size_t n)
{
	size_t i, run = 0, most = 0;

	for (i = 0; i < n; i++) {
		run = p[i] == '`' ? run + 1 : 0;
		if (run > most)
			most = run;
	}
	return most;
}

/* Append one file's text as a fenced block headed by its name; the fence is longer than
 * any run of backticks inside, so the text cannot close it early. */
static void
proto_attach_block(struct buf *out, const struct attach *a, const char *text)
{
	size_t n = strlen(text), ticks = proto_attach_ticks(text, n) + 1, i;

	if (ticks < 3)
		ticks = 3;
	if (out->len > 0)
		buf_puts(out, "\n\n");
	buf_puts(out, a->name);
	buf_puts(out, a->kind == ATTACH_PDF ? " (the text of the PDF):\n" : ":\n");
	for (i = 0; i < ticks; i++)
		buf_putc(out, '`');
	buf_putc(out, '\n');
	buf_append(out, text, n);
	if (n > 0 && text[n - 1] != '\n')
		buf_putc(out, '\n');
	for (i = 0; i < ticks; i++)
		buf_putc(out, '`');
}

/* Append the text message m goes as: its content, then its files sent as text. */
void
proto_attach_text(const struct message *m, struct buf *out)
{
	size_t k;

	buf_puts(out, m->content != NULL ? m->content : "");
	for (k = 0; k < m->natts; k++) {
		const struct attach *a = m->atts[k].a;

		if (m->atts[k].text != NULL) {
			proto_attach_block(out, a, m->atts[k].text);
		} else if (m->atts[k].omitted) {
			if (out->len > 0)
				buf_puts(out, "\n\n");
			buf_printf(out, "[%s (%s) was attached here; it is not sent to this model]",
			    a->name, a->mime);
		}
	}
}

/* Whether one file goes in the protocol's own form. */
int
proto_attach_is_native(const struct request_attach *ra)
{
	return ra->text == NULL && !ra->omitted;
}

/* How many of m's files go in the protocol's own form. */
size_t
proto_attach_native(const struct message *m)
{
	size_t k, n = 0;

	for (k = 0; k < m->natts; k++)
		if (proto_attach_is_native(&m->atts[k]))
			n++;
	return n;
}

/* The bytes one placeholder becomes. */
static size_t
proto_mark_len(const struct proto_mark *k)
{
	size_t n = attach_b64_len(k->a->size);

	if (k->url)
		n += strlen("data:") + strlen(k->a->mime) + strlen(";base64,");
	return n;
}

/* Write one placeholder's bytes at p; returns the end. */
static char *
proto_mark_write(char *p, const struct proto_mark *k)
{
	size_t n;

	if (k->url) {
		n = strlen(k->a->mime);
		memcpy(p, "data:", 5);
		memcpy(p + 5, k->a->mime, n);
		memcpy(p + 5 + n, ";base64,", 8);
		p += 13 + n;
	}
	attach_b64_encode(p, k->a->data, k->a->size);
	return p + attach_b64_len(k->a->size);
}

/* Find the next placeholder in s[from..len): its start (at the text inside the quotes),
 * its length and its index; NULL when there is none. */
static const char *
proto_mark_find(const char *s, size_t len, size_t from, const char *head, size_t hl,
    size_t n, size_t *mlen, size_t *idx)
{
	const char *p = s + from, *end = s + len, *q;
	size_t i;

	while (p < end && (p = memmem(p, (size_t)(end - p), head, hl)) != NULL) {
		q = p + hl;
		i = 0;
		while (q < end && *q >= '0' && *q <= '9' && i <= n)
			i = i * 10 + (size_t)(*q++ - '0');
		if (q < end && *q == '"' && q > p + hl && i < n && p > s && p[-1] == '"') {
			*mlen = (size_t)(q - p);
			*idx = i;
			return p;
		}
		p++;
	}
	return NULL;
}

/* Serialise root, putting each placeholder's bytes in its place, as the body. */
void
proto_set_body_marked(struct http_req *out, struct cJSON *root, struct proto_marks *pm)
{
	char *s, *body, *w, head[64];
	const char *at;
	size_t len, total, from, mlen, idx, hl;

	if (pm->n == 0) {
		proto_marks_free(pm);
		proto_set_body(out, root);
		return;
	}
	s = cJSON_PrintUnformatted(root);
	cJSON_Delete(root);
	if (s == NULL)
		log_fatal("out of memory serialising a request body");
	len = strlen(s);
	hl = (size_t)snprintf(head, sizeof head, PROTO_MARK_HEAD "%s:", pm->nonce);
	total = len;
	for (from = 0; (at = proto_mark_find(s, len, from, head, hl, pm->n, &mlen, &idx)) != NULL;
	    from = (size_t)(at - s) + mlen)
		total = total - mlen + proto_mark_len(&pm->v[idx]);
	body = xmalloc(total + 1);
	w = body;
	for (from = 0; (at = proto_mark_find(s, len, from, head, hl, pm->n, &mlen, &idx)) != NULL;
	    from = (size_t)(at - s) + mlen) {
		memcpy(w, s + from, (size_t)(at - s) - from);
		w += (size_t)(at - s) - from;
		w = proto_mark_write(w, &pm->v[idx]);
	}
	memcpy(w, s + from, len - from);
	w += len - from;
	*w = '\0';
	cJSON_free(s);
	free(out->body);
	out->body = body;
	out->body_len = (size_t)(w - body);
	proto_marks_free(pm);
}
