/*
 * Embeddings (embed.h): reading the texts, splitting them into requests, each protocol's
 * request and the decoding of its answer. An answer is read by the allocation-free
 * scanner (jscan.h), which keeps every number as the provider wrote it; whatever the
 * scanner does not take (an unusual shape, an escape it leaves to cJSON) is read again by
 * cJSON, the reference, which also words the error for an answer that is wrong. The
 * differential fuzz target (tests/fuzz/fuzz_embed.c) holds the two to the same vectors.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cJSON.h>

#include "buf.h"
#include "embed.h"
#include "http.h"
#include "jscan.h"
#include "proto.h"
#include "provider.h"
#include "text.h"
#include "worker.h"
#include "xmalloc.h"

enum embed_proto { EMBED_NONE, EMBED_OPENAI, EMBED_GEMINI, EMBED_OLLAMA };

/* The request of one fetch: the URL and the body, made once for every attempt. */
struct embed_arg {
	char *url;
	char *body;
	size_t len;
};

/* Which embeddings API a protocol name has. */
static enum embed_proto
embed_proto_of(const char *protocol)
{
	if (protocol == NULL)
		return EMBED_NONE;
	if (strcmp(protocol, "openai") == 0)
		return EMBED_OPENAI;
	if (strcmp(protocol, "gemini") == 0)
		return EMBED_GEMINI;
	if (strcmp(protocol, "ollama") == 0)
		return EMBED_OLLAMA;
	return EMBED_NONE;
}

/* Append a copy of text to l. */
void
embed_list_add(struct embed_list *l, const char *text, size_t len)
{
	struct embed_text *t;

	l->v = xrealloc(l->v, (l->n + 1) * sizeof(*l->v));
	t = &l->v[l->n++];
	memset(t, 0, sizeof(*t));
	t->text = xmalloc(len + 1);
	memcpy(t->text, text, len);
	t->text[len] = '\0';
	t->len = len;
}

/* Free every text of l. */
void
embed_list_free(struct embed_list *l)
{
	size_t i;

	for (i = 0; i < l->n; i++) {
		free(l->v[i].text);
		free(l->v[i].id);
		free(l->v[i].id_text);
	}
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

/* True when the n bytes at p are valid UTF-8. */
static int
embed_utf8(const char *p, size_t n)
{
	const unsigned char *s = (const unsigned char *)p;
	size_t i = 0;
	unsigned cp;
	int k;

	while (i < n) {
		if (s[i] < 0x80) {
			i++;
			continue;
		}
		if ((k = text_utf8_decode(s + i, n - i, &cp)) == 0)
			return 0;
		i += (size_t)k;
	}
	return 1;
}

/* True when the n bytes at p are blank. */
static int
embed_blank(const char *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (p[i] != ' ' && p[i] != '\t' && p[i] != '\r')
			return 0;
	return 1;
}

/* Add one JSON line ({"id": ..., "text": "..."}) to out; 0, or -1 with *err. */
static int
embed_read_json(const char *p, size_t n, long line, struct embed_list *out, char **err)
{
	cJSON *root = cJSON_ParseWithLength(p, n), *text, *id;
	struct embed_text *t;
	char *s;

	if (!cJSON_IsObject(root)) {
		*err = xasprintf("line %ld is not a JSON object (JSON lines hold {\"id\": ..., "
		    "\"text\": \"...\"})", line);
		cJSON_Delete(root);
		return -1;
	}
	text = cJSON_GetObjectItemCaseSensitive(root, "text");
	id = cJSON_GetObjectItemCaseSensitive(root, "id");
	if (!cJSON_IsString(text) || text->valuestring[0] == '\0') {
		*err = xasprintf("line %ld has no \"text\" (a non-empty string)", line);
		cJSON_Delete(root);
		return -1;
	}
	if (id != NULL && !cJSON_IsString(id) && !cJSON_IsNumber(id)) {
		*err = xasprintf("line %ld: \"id\" must be a string or a number", line);
		cJSON_Delete(root);
		return -1;
	}
	embed_list_add(out, text->valuestring, strlen(text->valuestring));
	t = &out->v[out->n - 1];
	t->line = line;
	if (id != NULL) {
		if ((s = cJSON_PrintUnformatted(id)) == NULL)
			s = xstrdup("null");
		t->id = xstrdup(s);
		cJSON_free(s);
		t->id_text = xstrdup(cJSON_IsString(id) ? id->valuestring : t->id);
	}
	cJSON_Delete(root);
	return 0;
}

/* Read the texts of a batch (embed.h). */
int
embed_read(const char *data, size_t len, struct embed_list *out, char **err)
{
	const char *p = data, *end = data + len, *nl;
	size_t n, k = 0;
	long line = 0;
	int jsonl;

	*err = NULL;
	while (k < len && (data[k] == ' ' || data[k] == '\t' || data[k] == '\r' ||
	    data[k] == '\n'))
		k++;
	jsonl = k < len && data[k] == '{';
	while (p < end) {
		nl = memchr(p, '\n', (size_t)(end - p));
		n = (size_t)((nl != NULL ? nl : end) - p);
		line++;
		if (n > 0 && p[n - 1] == '\r')
			n--;
		if (!embed_utf8(p, n)) {
			*err = xasprintf("line %ld is not valid UTF-8", line);
			return -1;
		}
		if (jsonl) {
			if (!embed_blank(p, n) && embed_read_json(p, n, line, out, err) != 0)
				return -1;
		} else if (n == 0) {
			*err = xasprintf("line %ld is empty (every line is a text to embed)", line);
			return -1;
		} else {
			embed_list_add(out, p, n);
			out->v[out->n - 1].line = line;
		}
		p = nl != NULL ? nl + 1 : end;
	}
	if (out->n == 0) {
		*err = xstrdup("no text to embed");
		return -1;
	}
	return 0;
}

/* Add the one text of the command line. */
int
embed_read_one(const char *text, size_t len, struct embed_list *out, char **err)
{
	*err = NULL;
	if (len == 0) {
		*err = xstrdup("the text is empty");
		return -1;
	}
	if (!embed_utf8(text, len)) {
		*err = xstrdup("the text is not valid UTF-8");
		return -1;
	}
	embed_list_add(out, text, len);
	return 0;
}

/* Whether p has an embeddings API natter speaks. */
int
embed_supported(const struct provider *p, char **err)
{
	*err = NULL;
	if (embed_proto_of(p->protocol) != EMBED_NONE)
		return 0;
	*err = xasprintf("%s speaks the %s protocol, which has no embeddings natter knows "
	    "(providers of the openai, gemini and ollama protocols do)", p->name, p->protocol);
	return -1;
}

/* The most texts of one request to p. */
size_t
embed_batch_max(const struct provider *p)
{
	if (p->embed_batch > 0)
		return (size_t)p->embed_batch;
	switch (embed_proto_of(p->protocol)) {
	case EMBED_GEMINI:
		return EMBED_BATCH_GEMINI;
	case EMBED_OLLAMA:
		return EMBED_BATCH_OLLAMA;
	default:
		return EMBED_BATCH_OPENAI;
	}
}

/* The most estimated tokens of one request to p, 0 for no limit. */
long
embed_tokens_max(const struct provider *p)
{
	if (p->embed_tokens > 0)
		return p->embed_tokens;
	return embed_proto_of(p->protocol) == EMBED_OPENAI ? EMBED_TOKENS_OPENAI : 0;
}

/* A text's tokens as the key pool estimates them: four bytes each. */
static long
embed_estimate(const struct embed_text *t)
{
	return (long)(t->len / 4 + 1);
}

/* The end of the request that starts at from. */
size_t
embed_split(const struct provider *p, const struct embed_list *l, size_t from)
{
	size_t max = embed_batch_max(p), i = from;
	long lim = embed_tokens_max(p), tok = 0, t;

	while (i < l->n && i - from < max) {
		t = embed_estimate(&l->v[i]);
		if (lim > 0 && i > from && tok + t > lim)
			break;
		tok += t;
		i++;
	}
	return i;
}

/* The auth header and the extra headers of p. */
void
embed_auth(const struct provider *p, struct http_req *out)
{
	if (p->key != NULL && p->key[0] != '\0') {
		if (embed_proto_of(p->protocol) == EMBED_GEMINI)
			http_req_header(out, "x-goog-api-key: %s", p->key);
		else
			http_req_header(out, "Authorization: Bearer %s", p->key);
	}
	proto_extra_headers(p, out);
}

/* Build one attempt of an embeddings request: its body is the same every time. */
static void
embed_build(const struct provider *p, const void *arg, struct http_req *out)
{
	const struct embed_arg *a = arg;

	http_req_init(out, "POST", a->url);
	proto_common_headers(out, "application/json");
	embed_auth(p, out);
	out->body = xmalloc(a->len + 1);
	memcpy(out->body, a->body, a->len + 1);
	out->body_len = a->len;
}

/* Free a request argument. */
static void
embed_arg_free(void *arg)
{
	struct embed_arg *a = arg;

	if (a == NULL)
		return;
	free(a->url);
	free(a->body);
	free(a);
}

/* The Gemini path of model id: "models/ID", unless the id has its own prefix. */
static char *
embed_gemini_model(const char *model)
{
	return strchr(model, '/') != NULL ? xstrdup(model) : xasprintf("models/%s", model);
}

/* The request of texts [from, to): its URL and body. */
static void
embed_body(const struct provider *p, const char *model, const struct embed_list *l,
    size_t from, size_t to, long dimensions, struct embed_arg *a)
{
	enum embed_proto proto = embed_proto_of(p->protocol);
	struct buf b = BUF_INIT;
	char *path;
	size_t i;

	if (proto == EMBED_GEMINI) {
		path = embed_gemini_model(model);
		buf_puts(&b, "{\"requests\":[");
		for (i = from; i < to; i++) {
			buf_puts(&b, i > from ? ",{\"model\":" : "{\"model\":");
			buf_json_string(&b, path, strlen(path));
			buf_puts(&b, ",\"content\":{\"parts\":[{\"text\":");
			buf_json_string(&b, l->v[i].text, l->v[i].len);
			buf_puts(&b, "}]}");
			if (dimensions > 0)
				buf_printf(&b, ",\"outputDimensionality\":%ld", dimensions);
			buf_putc(&b, '}');
		}
		buf_puts(&b, "]}");
		a->url = xasprintf("%s/%s:batchEmbedContents", p->base_url, path);
		free(path);
	} else {
		buf_puts(&b, "{\"model\":");
		buf_json_string(&b, model, strlen(model));
		buf_puts(&b, ",\"input\":[");
		for (i = from; i < to; i++) {
			if (i > from)
				buf_putc(&b, ',');
			buf_json_string(&b, l->v[i].text, l->v[i].len);
		}
		buf_putc(&b, ']');
		if (proto == EMBED_OPENAI)
			buf_puts(&b, ",\"encoding_format\":\"float\"");
		if (dimensions > 0)
			buf_printf(&b, ",\"dimensions\":%ld", dimensions);
		buf_putc(&b, '}');
		a->url = http_join(p->base_url, proto == EMBED_OLLAMA ? "api/embed" : "embeddings");
	}
	a->len = b.len;
	a->body = buf_detach(&b);
}

/* The fetch of texts [from, to). */
struct worker_fetch *
embed_fetch(const struct provider *p, const char *model, const struct embed_list *l,
    size_t from, size_t to, long dimensions)
{
	struct worker_fetch *f = worker_fetch_new(p);
	struct embed_arg *a = xcalloc(1, sizeof(*a));
	size_t i;

	embed_body(p, model, l, from, to, dimensions, a);
	f->build = embed_build;
	f->arg = a;
	f->free_arg = embed_arg_free;
	f->max_body = EMBED_MAX_BODY;
	for (i = from; i < to; i++)
		f->est_tokens += embed_estimate(&l->v[i]);
	return f;
}

/* ---- Answers -------------------------------------------------------------------------- */

/* Make out ready for n vectors, none seen yet. */
static void
embed_vecs_init(struct embed_vecs *out, size_t n)
{
	memset(out, 0, sizeof(*out));
	out->n = n;
	out->off = xcalloc(n + 1, sizeof(*out->off));
	out->len = xcalloc(n + 1, sizeof(*out->len));
	out->dims = xcalloc(n + 1, sizeof(*out->dims));
	out->tokens = -1;
}

/* Free the vectors. */
void
embed_vecs_free(struct embed_vecs *v)
{
	buf_free(&v->nums);
	free(v->off);
	free(v->len);
	free(v->dims);
	memset(v, 0, sizeof(*v));
}

/* Read an array of numbers as vector slot: each number as written. 1, or 0 when the
 * scanner cannot (or the array is empty, or the slot is taken). */
static int
embed_fast_numbers(struct jscan *j, struct embed_vecs *out, size_t slot)
{
	const char *start;
	size_t off = out->nums.len, dims = 0;
	int first = 1, r;

	if (slot >= out->n || out->dims[slot] != 0 || !jscan_open(j, '['))
		return 0;
	while ((r = jscan_next_item(j, &first)) == 1) {
		if (jscan_peek(j) != JSCAN_NUMBER)
			return 0;
		start = j->p;
		/* cJSON reads at most 63 bytes of a number: a longer one is left to it. */
		if (!jscan_skip(j) || j->p - start > 63)
			return 0;
		/* An exponent may take the number out of a double's range (1e400): cJSON's
		 * reading then decides. */
		if (memchr(start, 'e', (size_t)(j->p - start)) != NULL ||
		    memchr(start, 'E', (size_t)(j->p - start)) != NULL) {
			char tmp[64];
			size_t k = (size_t)(j->p - start);

			if (k >= sizeof(tmp))
				return 0;
			memcpy(tmp, start, k);
			tmp[k] = '\0';
			if (!isfinite(strtod(tmp, NULL)))
				return 0;
		}
		if (dims++ > 0)
			buf_putc(&out->nums, ',');
		buf_append(&out->nums, start, (size_t)(j->p - start));
	}
	if (r != 0 || dims == 0)
		return 0;
	out->off[slot] = off;
	out->len[slot] = out->nums.len - off;
	out->dims[slot] = dims;
	return 1;
}

/* Read a plain count into *out (the scanner's integers); 1, or 0. */
static int
embed_fast_count(struct jscan *j, long *out)
{
	return jscan_peek(j) == JSCAN_NUMBER && proto_fast_count(j, out);
}

/* OpenAI: {"data": [{"index": I, "embedding": [...]}, ...], "usage": {...}}. */
static int
embed_fast_openai_item(struct jscan *j, struct embed_vecs *out, size_t pos)
{
	struct jscan_str key;
	const char *emb = NULL;
	long idx = (long)pos;
	int first = 1, r, have_idx = 0;

	if (!jscan_open(j, '{'))
		return 0;
	while ((r = jscan_next_key(j, &key, &first)) == 1) {
		if (jscan_str_is(&key, "index") && !have_idx) {
			if (!embed_fast_count(j, &idx))
				return 0;
			have_idx = 1;
		} else if (jscan_str_is(&key, "embedding") && emb == NULL) {
			/* The index may come after the numbers: read them once it is known. */
			jscan_peek(j);
			emb = j->p;
			if (!jscan_skip(j))
				return 0;
		} else if (!jscan_skip(j)) {
			return 0;
		}
	}
	if (r != 0 || emb == NULL || idx < 0) {
		return 0;
	} else {
		struct jscan sub = { emb, j->end };

		return embed_fast_numbers(&sub, out, (size_t)idx);
	}
}

/* The usage object of an OpenAI answer. */
static int
embed_fast_usage(struct jscan *j, struct embed_vecs *out)
{
	struct jscan_str key;
	int first = 1, r;
	long v;

	if (!jscan_open(j, '{'))
		return 0;
	while ((r = jscan_next_key(j, &key, &first)) == 1) {
		if (jscan_str_is(&key, "prompt_tokens") && jscan_peek(j) == JSCAN_NUMBER) {
			if (!embed_fast_count(j, &v))
				return 0;
			out->tokens = v;
		} else if (!jscan_skip(j)) {
			return 0;
		}
	}
	return r == 0;
}

/* The vectors array of an answer: OpenAI's data items, Gemini's {"values": [...]} items,
 * Ollama's bare arrays. */
static int
embed_fast_list(struct jscan *j, enum embed_proto proto, struct embed_vecs *out)
{
	struct jscan_str key;
	size_t pos = 0;
	int first = 1, r, ok, kfirst, kr, got;

	if (!jscan_open(j, '['))
		return 0;
	while ((r = jscan_next_item(j, &first)) == 1) {
		if (proto == EMBED_OPENAI) {
			ok = embed_fast_openai_item(j, out, pos);
		} else if (proto == EMBED_OLLAMA) {
			ok = embed_fast_numbers(j, out, pos);
		} else {
			ok = jscan_open(j, '{');
			kfirst = 1;
			got = 0;
			while (ok && (kr = jscan_next_key(j, &key, &kfirst)) != 0) {
				if (kr < 0)
					ok = 0;
				else if (jscan_str_is(&key, "values") && !got)
					ok = got = embed_fast_numbers(j, out, pos);
				else
					ok = jscan_skip(j);
			}
			ok = ok && got;
		}
		if (!ok)
			return 0;
		pos++;
	}
	return r == 0;
}

/* The fast reading of a whole answer; 1 when every vector was read, else 0. */
static int
embed_fast(enum embed_proto proto, const char *body, size_t len, struct embed_vecs *out)
{
	static const char *const lists[] = { NULL, "data", "embeddings", "embeddings" };
	struct jscan j;
	struct jscan_str key;
	int first = 1, r, seen = 0;
	size_t i;
	long v;

	jscan_init(&j, body, len);
	if (!jscan_open(&j, '{'))
		return 0;
	while ((r = jscan_next_key(&j, &key, &first)) == 1) {
		if (jscan_str_is_n(&key, lists[proto], strlen(lists[proto])) && !seen) {
			if (!embed_fast_list(&j, proto, out))
				return 0;
			seen = 1;
		} else if (proto == EMBED_OPENAI && jscan_str_is(&key, "usage") &&
		    jscan_peek(&j) == JSCAN_OBJECT) {
			if (!embed_fast_usage(&j, out))
				return 0;
		} else if (proto == EMBED_OLLAMA && jscan_str_is(&key, "prompt_eval_count") &&
		    jscan_peek(&j) == JSCAN_NUMBER) {
			if (!embed_fast_count(&j, &v))
				return 0;
			out->tokens = v;
		} else if (jscan_str_is(&key, "error") || !jscan_skip(&j)) {
			return 0;
		}
	}
	if (r != 0 || !seen || !jscan_at_end(&j))
		return 0;
	for (i = 0; i < out->n; i++)
		if (out->dims[i] == 0)
			return 0;
	return 1;
}

/* Append v in the shortest form that reads back as the same double. */
static void
embed_number(struct buf *b, double v)
{
	char s[40];

	snprintf(s, sizeof(s), "%.15g", v);
	if (strtod(s, NULL) != v)
		snprintf(s, sizeof(s), "%.17g", v);
	buf_puts(b, s);
}

/* cJSON: read an array of numbers as vector slot; 0, or -1 with *err. */
static int
embed_slow_numbers(const cJSON *arr, struct embed_vecs *out, size_t slot, char **err)
{
	const cJSON *x;
	size_t off = out->nums.len, dims = 0;

	if (!cJSON_IsArray(arr)) {
		*err = xasprintf("vector %zu is not an array of numbers", slot);
		return -1;
	}
	if (slot >= out->n || out->dims[slot] != 0) {
		*err = xasprintf(slot >= out->n ? "a vector has index %zu, beyond the %zu texts "
		    "sent" : "two vectors have index %zu (of %zu)", slot, out->n);
		return -1;
	}
	cJSON_ArrayForEach(x, arr) {
		if (!cJSON_IsNumber(x) || !isfinite(x->valuedouble)) {
			*err = xasprintf("vector %zu holds something other than a number", slot);
			return -1;
		}
		if (dims++ > 0)
			buf_putc(&out->nums, ',');
		embed_number(&out->nums, x->valuedouble);
	}
	if (dims == 0) {
		*err = xasprintf("vector %zu is empty", slot);
		return -1;
	}
	out->off[slot] = off;
	out->len[slot] = out->nums.len - off;
	out->dims[slot] = dims;
	return 0;
}

/* cJSON: the vector of one item of the list, at position pos. */
static int
embed_slow_item(enum embed_proto proto, const cJSON *item, size_t pos, struct embed_vecs *out,
    char **err)
{
	const cJSON *idx;
	double d;

	if (proto == EMBED_OLLAMA)
		return embed_slow_numbers(item, out, pos, err);
	if (proto == EMBED_GEMINI)
		return embed_slow_numbers(cJSON_GetObjectItemCaseSensitive(item, "values"), out,
		    pos, err);
	idx = cJSON_GetObjectItemCaseSensitive(item, "index");
	if (idx != NULL) {
		d = cJSON_IsNumber(idx) ? idx->valuedouble : -1;
		if (!(d >= 0 && d < 1e15 && d == floor(d))) {
			*err = xasprintf("item %zu has an index that is not a count", pos);
			return -1;
		}
		pos = (size_t)d;
	}
	return embed_slow_numbers(cJSON_GetObjectItemCaseSensitive(item, "embedding"), out, pos,
	    err);
}

/* The reference reading of an answer with cJSON; 0, or -1 with *err. */
static int
embed_slow(enum embed_proto proto, const char *body, size_t len, struct embed_vecs *out,
    char **err)
{
	static const char *const lists[] = { NULL, "data", "embeddings", "embeddings" };
	cJSON *root = proto_json_parse_whole(body, len), *list, *item, *u;
	size_t pos = 0, i;
	char *ex;

	if (!cJSON_IsObject(root) || cJSON_GetObjectItemCaseSensitive(root, "error") != NULL ||
	    !cJSON_IsArray(list = cJSON_GetObjectItemCaseSensitive(root, lists[proto]))) {
		ex = proto_body_excerpt(body, len);
		*err = xasprintf("the answer is not a list of embeddings: %s", ex);
		free(ex);
		cJSON_Delete(root);
		return -1;
	}
	cJSON_ArrayForEach(item, list) {
		if (embed_slow_item(proto, item, pos++, out, err) != 0) {
			cJSON_Delete(root);
			return -1;
		}
	}
	if (pos != out->n) {
		*err = xasprintf("the answer holds %zu vectors for %zu texts", pos, out->n);
		cJSON_Delete(root);
		return -1;
	}
	for (i = 0; i < out->n; i++)
		if (out->dims[i] == 0) {
			*err = xasprintf("the answer has no vector for text %zu", i);
			cJSON_Delete(root);
			return -1;
		}
	if (proto == EMBED_OPENAI)
		u = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(root, "usage"),
		    "prompt_tokens");
	else
		u = proto == EMBED_OLLAMA ? cJSON_GetObjectItemCaseSensitive(root,
		    "prompt_eval_count") : NULL;
	if (cJSON_IsNumber(u) && u->valuedouble >= 0 && u->valuedouble < 1e15)
		out->tokens = (long)u->valuedouble;
	cJSON_Delete(root);
	return 0;
}

/* Decode an answer of protocol, fast, slow or the fast way first (fast < 0). */
int
embed_parse_with(const char *protocol, const char *body, size_t len, size_t n,
    struct embed_vecs *out, char **err, int fast)
{
	enum embed_proto proto = embed_proto_of(protocol);

	*err = NULL;
	embed_vecs_init(out, n);
	if (proto == EMBED_NONE) {
		*err = xasprintf("no embeddings for the %s protocol", protocol ? protocol : "?");
		embed_vecs_free(out);
		return -1;
	}
	if (fast != 0 && embed_fast(proto, body, len, out))
		return 0;
	embed_vecs_free(out);
	embed_vecs_init(out, n);
	if (fast > 0) {
		*err = xstrdup("the fast scanner does not read this answer");
		embed_vecs_free(out);
		return -1;
	}
	if (embed_slow(proto, body, len, out, err) == 0)
		return 0;
	embed_vecs_free(out);
	return -1;
}

/* Decode an answer of p. */
int
embed_parse(const struct provider *p, const char *body, size_t len, size_t n,
    struct embed_vecs *out, char **err)
{
	return embed_parse_with(p->protocol, body, len, n, out, err, -1);
}
