/*
 * Semantic search (contract in semantic.h): vectors made by the embedding model through
 * the worker's fetches, stored one signed byte a dimension, and ranked by cosine
 * similarity in one scan with a bounded heap of the best k. A scan over 100,000 vectors
 * of 768 dimensions reads 77 MB from SQLite and does integer multiply-adds, so no index
 * structure is needed at this size; the quantized vectors keep the ranking of the float
 * ones far closer than two embedding models agree with each other.
 *
 * The indexer walks the messages without a vector newest first, a batch at a time,
 * between a lower bound (the messages that existed before it started are left to a
 * search's catch-up, so starting the interface over a large store costs nothing) and a
 * cursor that moves down with each batch; a kick starts the walk again from the top.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "apierr.h"
#include "config.h"
#include "embed.h"
#include "provider.h"
#include "resolve.h"
#include "semantic.h"
#include "store.h"
#include "worker.h"
#include "xmalloc.h"

struct semantic_ix {
	const struct model *m;
	struct store *st;
	char *key;
	int64_t lo;                /* the walk covers ids above this */
	int64_t cursor;            /* and below this, newest first */
	int idle;                  /* the walk found nothing more */
	int paused;                /* a failure stops it until the next kick */
	int again;                 /* a kick came while a batch was out */
	int64_t walk_top;          /* the newest message when this walk began */
	char *error;
	uint64_t fetch;            /* the batch out, 0 when none */
	int64_t *ids;              /* its messages */
	size_t n;
	long done;
};

/* The usable embedding model embedding_model names; NULL with *err. */
struct model *
semantic_model(struct config *cfg, char **err)
{
	struct resolve_ctx ctx = { NULL, NULL, NULL, MODEL_EMBEDDING };
	struct resolved r;

	*err = NULL;
	if (cfg->embedding_model == NULL) {
		*err = xstrdup("semantic search needs an embedding model: set embedding_model: "
		    "in natter.yaml to a model of kind: embedding (natter embed lists what "
		    "it would use)");
		return NULL;
	}
	if (resolve_model(cfg, cfg->embedding_model, &ctx, &r) != RESOLVE_OK) {
		char *why = resolve_message(cfg, cfg->embedding_model, &r);

		*err = xasprintf("embedding_model: %s", why);
		free(why);
		return NULL;
	}
	if (embed_supported(r.model->provider, err) != 0)
		return NULL;
	if (!provider_usable(r.model->provider)) {
		*err = xasprintf("embedding_model: %s has no key (set %s)", r.model->provider->name,
		    r.model->provider->key_env != NULL ? r.model->provider->key_env :
		    "its API key");
		return NULL;
	}
	return r.model;
}

/* The key of m's vectors: provider, model id, and the dimensions asked for. */
char *
semantic_key(const struct model *m)
{
	if (m->dimensions > 0)
		return xasprintf("%s/%s@%ld", m->provider->name, m->id, m->dimensions);
	return xasprintf("%s/%s", m->provider->name, m->id);
}

/* Decode dims comma-separated numbers into normalized signed bytes. */
int
semantic_quantize(const char *nums, size_t len, size_t dims, int8_t *out)
{
	double *v = xcalloc(dims + 1, sizeof(*v)), norm = 0;
	char *tmp = xstrndup(nums, len), *p = tmp, *end;
	size_t i;

	for (i = 0; i < dims; i++) {
		v[i] = strtod(p, &end);
		if (end == p || !isfinite(v[i]) || (*end != ',' && *end != '\0')) {
			free(tmp);
			free(v);
			return -1;
		}
		norm += v[i] * v[i];
		p = *end == ',' ? end + 1 : end;
	}
	norm = sqrt(norm);
	for (i = 0; i < dims; i++)
		out[i] = (int8_t)(norm > 0 ? lrint(127.0 * v[i] / norm) : 0);
	i = *p == '\0';
	free(tmp);
	free(v);
	return i ? 0 : -1;
}

/* ---- Ranking ----------------------------------------------------------------------------- */

/* A candidate of the first pass: a message and the Hamming distance of its bits. */
struct semantic_cand {
	int64_t id;
	unsigned d;
};

struct semantic_bits {
	unsigned char *q;          /* the query's bits */
	size_t len;                /* bytes of bits a vector has */
	struct semantic_cand *heap;
	size_t n, k;
};

struct semantic_scan {
	const int8_t *q;
	size_t dims;
	double qnorm;
	struct semantic_hit *heap; /* a min-heap on score: the worst kept hit on top */
	size_t n, k;
};

/* Restore the heap below slot i. */
static void
semantic_sift(struct semantic_hit *h, size_t n, size_t i)
{
	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, m = i;
		struct semantic_hit t;

		if (l < n && h[l].score < h[m].score)
			m = l;
		if (r < n && h[r].score < h[m].score)
			m = r;
		if (m == i)
			return;
		t = h[i];
		h[i] = h[m];
		h[m] = t;
		i = m;
	}
}

/* The dot product of two byte vectors (n <= 65536: it fits 32 bits), written so that
 * the compiler turns it into vector multiply-adds. */
static int32_t
semantic_dot(const int8_t *restrict a, const int8_t *restrict b, size_t n)
{
	int32_t s = 0, t[16];
	size_t i, j;

	/* Blocks of a fixed 16: -O2 vectorizes a loop whose count it knows. */
	for (j = 0; j < 16; j++)
		t[j] = 0;
	for (i = 0; i + 16 <= n; i += 16)
		for (j = 0; j < 16; j++)
			t[j] += (int32_t)a[i + j] * (int32_t)b[i + j];
	for (j = 0; j < 16; j++)
		s += t[j];
	for (; i < n; i++)
		s += (int32_t)a[i] * (int32_t)b[i];
	return s;
}

/* One stored vector: score it and keep it when it is among the best k. */
static void
semantic_scan_one(void *arg, int64_t id, const int8_t *v, size_t dims)
{
	struct semantic_scan *sc = arg;
	int32_t dot, vv;
	double score;

	if (dims != sc->dims)
		return;
	dot = semantic_dot(v, sc->q, dims);
	vv = semantic_dot(v, v, dims);
	score = vv > 0 && sc->qnorm > 0 ? (double)dot / (sqrt((double)vv) * sc->qnorm) : 0;
	if (sc->n < sc->k) {
		size_t j = sc->n++;

		sc->heap[j].id = id;
		sc->heap[j].score = score;
		while (j > 0 && sc->heap[(j - 1) / 2].score > sc->heap[j].score) {
			struct semantic_hit t = sc->heap[j];

			sc->heap[j] = sc->heap[(j - 1) / 2];
			sc->heap[(j - 1) / 2] = t;
			j = (j - 1) / 2;
		}
	} else if (sc->k > 0 && score > sc->heap[0].score) {
		sc->heap[0].id = id;
		sc->heap[0].score = score;
		semantic_sift(sc->heap, sc->n, 0);
	}
}

/* Best first; ties by the newer message. */
static int
semantic_cmp(const void *a, const void *b)
{
	const struct semantic_hit *x = a, *y = b;

	if (x->score != y->score)
		return x->score < y->score ? 1 : -1;
	return x->id < y->id ? 1 : x->id > y->id ? -1 : 0;
}

/* One vector's bits: keep it when it is among the nearest by Hamming distance. */
static void
semantic_bits_one(void *arg, int64_t id, const unsigned char *bits, size_t len)
{
	struct semantic_bits *sb = arg;
	struct semantic_cand t;
	unsigned d = 0;
	size_t i, j;

	if (len != sb->len)
		return;
	for (i = 0; i + 8 <= len; i += 8) {
		uint64_t x, y;

		memcpy(&x, bits + i, 8);
		memcpy(&y, sb->q + i, 8);
		d += (unsigned)__builtin_popcountll(x ^ y);
	}
	for (; i < len; i++)
		d += (unsigned)__builtin_popcount((unsigned)(bits[i] ^ sb->q[i]));
	/* A max-heap on distance: the farthest kept candidate on top. */
	if (sb->n < sb->k) {
		j = sb->n++;
		sb->heap[j].id = id;
		sb->heap[j].d = d;
		while (j > 0 && sb->heap[(j - 1) / 2].d < sb->heap[j].d) {
			t = sb->heap[j];
			sb->heap[j] = sb->heap[(j - 1) / 2];
			sb->heap[(j - 1) / 2] = t;
			j = (j - 1) / 2;
		}
		return;
	}
	if (d >= sb->heap[0].d)
		return;
	sb->heap[0].id = id;
	sb->heap[0].d = d;
	for (j = 0;;) {
		size_t l = 2 * j + 1, r = l + 1, m = j;

		if (l < sb->n && sb->heap[l].d > sb->heap[m].d)
			m = l;
		if (r < sb->n && sb->heap[r].d > sb->heap[m].d)
			m = r;
		if (m == j)
			break;
		t = sb->heap[j];
		sb->heap[j] = sb->heap[m];
		sb->heap[m] = t;
		j = m;
	}
}

/* Message ids in order, for reading the candidates' bytes in one pass. */
static int
semantic_id_cmp(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

/* The k messages most like q, best first: the nearest candidates by their bits, then
 * ranked by the cosine of their bytes. */
int
semantic_search(struct store *st, const char *key, const int8_t *q, size_t dims, size_t k,
    struct semantic_hit **out, size_t *n)
{
	struct semantic_scan sc = { q, dims, 0, NULL, 0, k };
	struct semantic_bits sb;
	int64_t *ids, qq = 0;
	size_t i;
	int rc;

	*out = NULL;
	*n = 0;
	memset(&sb, 0, sizeof sb);
	sb.len = (dims + 7) / 8;
	sb.q = xcalloc(sb.len + 1, 1);
	for (i = 0; i < dims; i++)
		if (q[i] > 0)
			sb.q[i / 8] |= (unsigned char)(1u << (i % 8));
	sb.k = k * SEMANTIC_RESCORE > SEMANTIC_CANDIDATES ? k * SEMANTIC_RESCORE :
	    SEMANTIC_CANDIDATES;
	sb.heap = xcalloc(sb.k + 1, sizeof(*sb.heap));
	rc = store_vectors_scan_bits(st, key, semantic_bits_one, &sb);
	ids = xcalloc(sb.n + 1, sizeof(*ids));
	for (i = 0; i < sb.n; i++)
		ids[i] = sb.heap[i].id;
	qsort(ids, sb.n, sizeof(*ids), semantic_id_cmp);
	for (i = 0; i < dims; i++)
		qq += (int32_t)q[i] * q[i];
	sc.qnorm = sqrt((double)qq);
	sc.heap = xcalloc(k + 1, sizeof(*sc.heap));
	if (rc == 0)
		rc = store_vectors_get(st, key, ids, sb.n, semantic_scan_one, &sc);
	free(ids);
	free(sb.heap);
	free(sb.q);
	if (rc != 0) {
		free(sc.heap);
		return -1;
	}
	qsort(sc.heap, sc.n, sizeof(*sc.heap), semantic_cmp);
	*out = sc.heap;
	*n = sc.n;
	return 0;
}

/* ---- Embedding ---------------------------------------------------------------------------- */

/* Add text to l, cut to SEMANTIC_TEXT_MAX bytes at a character boundary. */
static void
semantic_list_add(struct embed_list *l, const char *text)
{
	size_t n = strlen(text);

	if (n > SEMANTIC_TEXT_MAX) {
		n = SEMANTIC_TEXT_MAX;
		while (n > 0 && ((unsigned char)text[n] & 0xC0) == 0x80)
			n--;
	}
	embed_list_add(l, text, n);
}

/* The fetch that embeds one text with m. */
struct worker_fetch *
semantic_query(const struct model *m, const char *text)
{
	struct embed_list l = { NULL, 0 };
	struct worker_fetch *f;

	semantic_list_add(&l, text);
	f = embed_fetch(m->provider, m->id, &l, 0, 1, m->dimensions);
	embed_list_free(&l);
	return f;
}

/* Decode the n vectors of a fetch's answer into *v (n * *dims bytes); 0 or -1 with *err. */
static int
semantic_decode(const struct model *m, const struct wevent *ev, size_t n, int8_t **v,
    size_t *dims, char **err)
{
	struct embed_vecs vecs;
	size_t i;

	*v = NULL;
	*err = NULL;
	if (ev->error != NULL) {
		*err = apierr_format(ev->error);
		return -1;
	}
	if (embed_parse(m->provider, ev->text, ev->len, n, &vecs, err) != 0)
		return -1;
	*dims = n > 0 ? vecs.dims[0] : 0;
	*v = xcalloc(n * *dims + 1, 1);
	for (i = 0; i < n; i++)
		if (vecs.dims[i] != *dims || *dims == 0 || semantic_quantize(vecs.nums.data +
		    vecs.off[i], vecs.len[i], *dims, *v + i * *dims) != 0) {
			*err = xasprintf("vector %zu of the answer is not like the others", i + 1);
			embed_vecs_free(&vecs);
			free(*v);
			*v = NULL;
			return -1;
		}
	embed_vecs_free(&vecs);
	return 0;
}

/* The query's vector from its fetch's answer. */
int
semantic_query_vec(const struct model *m, const struct wevent *ev, int8_t **q, size_t *dims,
    char **err)
{
	return semantic_decode(m, ev, 1, q, dims, err);
}

/* ---- The indexer ------------------------------------------------------------------------ */

/* An indexer of m's vectors for the messages above from. */
struct semantic_ix *
semantic_ix_new(const struct model *m, struct store *st, int64_t from)
{
	struct semantic_ix *ix = xcalloc(1, sizeof(*ix));

	ix->m = m;
	ix->st = st;
	ix->key = semantic_key(m);
	ix->lo = from;
	ix->cursor = INT64_MAX;
	return ix;
}

/* Send the next batch unless one is out; 0 when there is nothing (more) to do. */
int
semantic_ix_step(struct semantic_ix *ix, struct worker *w)
{
	struct embed_list l = { NULL, 0 };
	size_t n, i, max = embed_batch_max(ix->m->provider);
	int64_t *ids;
	char **texts;

	if (ix->fetch != 0)
		return 1;
	if (ix->idle || ix->paused)
		return 0;
	if (max == 0 || max > SEMANTIC_BATCH)
		max = SEMANTIC_BATCH;
	if (ix->cursor == INT64_MAX)
		ix->walk_top = store_vectors_top(ix->st);
	if (store_vectors_pending(ix->st, ix->key, ix->lo, ix->cursor, max, &ids, &texts,
	    &n) != 0) {
		free(ix->error);
		ix->error = xstrdup(store_error(ix->st));
		ix->paused = 1;
		return 0;
	}
	if (n == 0) {
		store_vectors_pending_free(ids, texts, n);
		/* A walk from at or below the mark covered everything up to where it began. */
		if (ix->lo <= store_vectors_upto(ix->st, ix->key))
			store_vectors_set_upto(ix->st, ix->key, ix->walk_top);
		if (ix->again) {
			ix->again = 0;
			ix->cursor = INT64_MAX;
			return semantic_ix_step(ix, w);
		}
		ix->idle = 1;
		return 0;
	}
	for (i = 0; i < n; i++)
		semantic_list_add(&l, texts[i]);
	ix->cursor = ids[n - 1];
	ix->fetch = worker_fetch(w, embed_fetch(ix->m->provider, ix->m->id, &l, 0, n,
	    ix->m->dimensions));
	embed_list_free(&l);
	store_vectors_pending_free(NULL, texts, n);
	ix->ids = ids;
	ix->n = n;
	return 1;
}

/* Take the answer to the batch out: store its vectors, or pause with the reason. */
int
semantic_ix_event(struct semantic_ix *ix, const struct wevent *ev)
{
	int8_t *v;
	size_t dims;
	char *err;

	if (ix == NULL || ix->fetch == 0 || ev->id != ix->fetch)
		return 0;
	if (ev->type != WEV_BODY)
		return 1;  /* a retry: the worker says it in the BODY if it fails */
	ix->fetch = 0;
	if (semantic_decode(ix->m, ev, ix->n, &v, &dims, &err) != 0 ||
	    store_vectors_put(ix->st, ix->key, ix->ids, v, ix->n, dims) != 0) {
		free(ix->error);
		ix->error = err != NULL ? err : xstrdup(store_error(ix->st));
		ix->paused = 1;
		ix->cursor = INT64_MAX;  /* the batch is tried again after the next kick */
	} else {
		ix->done += (long)ix->n;
	}
	free(v);
	free(ix->ids);
	ix->ids = NULL;
	ix->n = 0;
	return 1;
}

/* New messages were stored: walk again from the newest. */
void
semantic_ix_kick(struct semantic_ix *ix)
{
	if (ix == NULL)
		return;
	ix->idle = ix->paused = 0;
	if (ix->fetch == 0)
		ix->cursor = INT64_MAX;
	else
		ix->again = 1;
}

/* Why the indexer paused, or NULL. */
const char *
semantic_ix_error(const struct semantic_ix *ix)
{
	return ix->paused ? ix->error : NULL;
}

/* Messages embedded so far. */
long
semantic_ix_done(const struct semantic_ix *ix)
{
	return ix->done;
}

/* Whether a batch is out. */
int
semantic_ix_busy(const struct semantic_ix *ix)
{
	return ix->fetch != 0;
}

/* Cancel the batch out and free the indexer. */
void
semantic_ix_free(struct semantic_ix *ix, struct worker *w)
{
	if (ix == NULL)
		return;
	if (ix->fetch != 0 && w != NULL)
		worker_cancel(w, ix->fetch);
	free(ix->ids);
	free(ix->key);
	free(ix->error);
	free(ix);
}
