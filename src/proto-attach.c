/*
 * Attachments on the wire, shared by the adapters: the text a user message goes as (its
 * words, then each file sent as text in a fenced block headed by its name), and the bytes
 * of files sent in the protocol's own form.
 *
 * A 20 MB image is 27 MB of base64. Building that string, copying it into a cJSON node,
 * escaping it into cJSON's output and copying that into the request would move it four
 * times. Instead an adapter puts a placeholder string where the bytes go (proto_mark);
 * proto_set_body_marked prints the small document and makes the body a stream of its
 * runs of text and files, each file's base64 encoded only as libcurl reads it. The placeholder carries a
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

/* One run of a spliced body: bytes of text, or one file's base64 written as it is read. */
struct proto_seg {
	size_t at, len;          /* where the run starts in the body, and its bytes there */
	const char *text;        /* the run's text, or NULL for a file's base64 */
	char *own;               /* text this run owns (a data URL's head), else NULL */
	struct attach *a;        /* the file (a reference of its own), for base64 */
};

/* A body as the printed document with files' base64 spliced in (an http_stream's arg). */
struct proto_splice {
	char *doc;
	struct proto_seg *v;
	size_t n;
};

/* Add a run of text (owned when own is set) to sp. */
static void
proto_splice_text(struct proto_splice *sp, size_t *at, const char *text, size_t len, char *own)
{
	struct proto_seg *g;

	if (len == 0) {
		free(own);
		return;
	}
	sp->v = xrealloc(sp->v, (sp->n + 1) * sizeof(*sp->v));
	g = &sp->v[sp->n++];
	memset(g, 0, sizeof(*g));
	g->at = *at;
	g->len = len;
	g->text = text;
	g->own = own;
	*at += len;
}

/* Add one placeholder's bytes (its data URL head, then its base64) to sp. */
static void
proto_splice_mark(struct proto_splice *sp, size_t *at, const struct proto_mark *k)
{
	struct proto_seg *g;

	if (k->url) {
		char *head = xasprintf("data:%s;base64,", k->a->mime);

		proto_splice_text(sp, at, head, strlen(head), head);
	}
	if (k->a->size == 0)
		return;
	sp->v = xrealloc(sp->v, (sp->n + 1) * sizeof(*sp->v));
	g = &sp->v[sp->n++];
	memset(g, 0, sizeof(*g));
	g->at = *at;
	g->len = attach_b64_len(k->a->size);
	g->a = attach_ref((struct attach *)k->a);
	*at += g->len;
}

/* Copy up to n bytes of a file's base64 from offset off into dst; how many were copied. */
static size_t
proto_seg_b64(const struct attach *a, size_t off, char *dst, size_t n)
{
	size_t done = 0, g, in, k, total = attach_b64_len(a->size);
	char quad[4];

	while (done < n && off < total) {
		g = off / 4;
		in = g * 3;
		if (off % 4 != 0 || n - done < 4) {
			/* A group cut by the offset or by the room left: encode it aside. */
			k = a->size - in < 3 ? a->size - in : 3;
			attach_b64_encode(quad, a->data + in, k);
			k = 4 - off % 4;
			if (k > n - done)
				k = n - done;
			memcpy(dst + done, quad + off % 4, k);
		} else {
			/* Whole groups straight into dst; the file's last group pads itself. */
			k = (n - done) / 4;
			if (k > (total - off) / 4)
				k = (total - off) / 4;
			attach_b64_encode(dst + done, a->data + in,
			    a->size - in < k * 3 ? a->size - in : k * 3);
			k *= 4;
		}
		done += k;
		off += k;
	}
	return done;
}

/* http_stream reader: the spliced body's bytes from off. */
static size_t
proto_splice_read(void *arg, size_t off, char *dst, size_t n)
{
	const struct proto_splice *sp = arg;
	size_t lo = 0, hi = sp->n, done = 0, k;

	/* The run holding off: the last one starting at or before it. */
	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;

		if (sp->v[mid].at <= off)
			lo = mid;
		else
			hi = mid;
	}
	for (; lo < sp->n && done < n; lo++) {
		const struct proto_seg *g = &sp->v[lo];
		size_t in = off + done - g->at;

		if (off + done < g->at || in >= g->len)
			continue;
		if (g->text != NULL) {
			k = g->len - in < n - done ? g->len - in : n - done;
			memcpy(dst + done, g->text + in, k);
		} else {
			k = proto_seg_b64(g->a, in, dst + done, n - done);
		}
		done += k;
	}
	return done;
}

/* http_stream release: free the spliced body and drop its files' references. */
static void
proto_splice_release(void *arg)
{
	struct proto_splice *sp = arg;
	size_t i;

	for (i = 0; i < sp->n; i++) {
		free(sp->v[i].own);
		attach_unref(sp->v[i].a);
	}
	free(sp->v);
	free(sp->doc);
	free(sp);
}

/* Serialise root as the body with each placeholder's base64 in its place. The files are
 * not encoded here: the body is a stream that encodes each file as libcurl sends it, so a
 * 20 MB image costs no 27 MB buffer and its encoding overlaps the upload. */
void
proto_set_body_marked(struct http_req *out, struct cJSON *root, struct proto_marks *pm)
{
	struct proto_splice *sp;
	char *s, head[64];
	const char *at;
	size_t len, from, mlen, idx, hl, pos = 0;

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
	sp = xcalloc(1, sizeof(*sp));
	sp->doc = xstrdup(s);
	cJSON_free(s);
	hl = (size_t)snprintf(head, sizeof head, PROTO_MARK_HEAD "%s:", pm->nonce);
	for (from = 0; (at = proto_mark_find(sp->doc, len, from, head, hl, pm->n, &mlen,
	    &idx)) != NULL; from = (size_t)(at - sp->doc) + mlen) {
		proto_splice_text(sp, &pos, sp->doc + from, (size_t)(at - sp->doc) - from, NULL);
		proto_splice_mark(sp, &pos, &pm->v[idx]);
	}
	proto_splice_text(sp, &pos, sp->doc + from, len - from, NULL);
	free(out->body);
	out->body = NULL;
	out->body_len = 0;
	if (out->stream != NULL) {
		out->stream->release(out->stream->arg);
		free(out->stream);
	}
	out->stream = xcalloc(1, sizeof(*out->stream));
	out->stream->len = pos;
	out->stream->read = proto_splice_read;
	out->stream->release = proto_splice_release;
	out->stream->arg = sp;
	proto_marks_free(pm);
}
