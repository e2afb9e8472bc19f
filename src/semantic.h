/*
 * Semantic search over stored messages (semantic.c): the configured embedding_model
 * embeds messages, their vectors are kept in the store (store-vectors.c, one signed byte a
 * dimension), and a query's vector ranks every stored vector by cosine similarity in one
 * scan. Curses-free; every front end drives the same pieces:
 *
 *   m = semantic_model(cfg, &err)          the embedding model, or NULL with why
 *   ix = semantic_ix_new(m, st, from)      an indexer for messages with ids above from
 *                                          (0: all, newest first; the interface and serve
 *                                          pass the last id at start: what comes after)
 *   semantic_ix_step(ix, w)                sends the next batch through the worker unless
 *                                          one is out; 0 when nothing is left to embed
 *   semantic_ix_event(ix, ev)              takes its own WEV_BODY (1), stores the vectors;
 *                                          a failure pauses it (semantic_ix_error says why)
 *   semantic_ix_kick(ix)                   new messages were stored: look again
 *   semantic_ix_free(ix, w)                cancels the batch out, if any
 *
 * A search embeds the query with semantic_query (a fetch whose body semantic_query_vec
 * decodes) and ranks with semantic_search: the nearest candidates by the vectors' signs
 * (one bit a dimension, a scan of an eighth of the bytes), then those by cosine. Vectors are keyed by semantic_key (provider,
 * model id and the dimensions asked for), so another model's vectors are never compared
 * and a new model embeds everything again. The indexer is resumable by construction: what
 * has a vector is skipped, and each batch is stored as it comes.
 */
#ifndef NATTER_SEMANTIC_H
#define NATTER_SEMANTIC_H

#include <stddef.h>
#include <stdint.h>

struct config;
struct model;
struct store;
struct wevent;
struct worker;
struct worker_fetch;

/* Texts a batch of the indexer carries at most, and the bytes of one text it sends. */
#define SEMANTIC_BATCH 64
#define SEMANTIC_TEXT_MAX 8192
/* A search ranks by bytes the SEMANTIC_RESCORE * k nearest by bits, at least this many. */
#define SEMANTIC_CANDIDATES 256
#define SEMANTIC_RESCORE 8

struct semantic_hit {
	int64_t id;        /* the message */
	double score;      /* cosine similarity, -1 to 1 */
};

struct semantic_ix;

/* The usable embedding model embedding_model names; NULL with *err (caller frees). */
struct model *semantic_model(struct config *cfg, char **err);
/* The key m's vectors are stored under (caller frees). */
char *semantic_key(const struct model *m);
/* Decode one vector (the comma-separated numbers of embed_vecs, dims of them) into dims
 * signed bytes, normalized; 0, or -1 when a number is not one. */
int semantic_quantize(const char *nums, size_t len, size_t dims, int8_t *out);
/* The k messages whose vectors of key are most like q (dims bytes), best first. */
int semantic_search(struct store *st, const char *key, const int8_t *q, size_t dims,
    size_t k, struct semantic_hit **out, size_t *n);
/* The fetch that embeds text with m, and the vector of its answer (*q, *dims; the caller
 * frees *q): 0, or -1 with *err. */
struct worker_fetch *semantic_query(const struct model *m, const char *text);
int semantic_query_vec(const struct model *m, const struct wevent *ev, int8_t **q,
    size_t *dims, char **err);

struct semantic_ix *semantic_ix_new(const struct model *m, struct store *st, int64_t from);
int semantic_ix_step(struct semantic_ix *ix, struct worker *w);
int semantic_ix_event(struct semantic_ix *ix, const struct wevent *ev);
void semantic_ix_kick(struct semantic_ix *ix);
const char *semantic_ix_error(const struct semantic_ix *ix);
/* Messages embedded so far, and whether a batch is out. */
long semantic_ix_done(const struct semantic_ix *ix);
int semantic_ix_busy(const struct semantic_ix *ix);
void semantic_ix_free(struct semantic_ix *ix, struct worker *w);

#endif
