/*
 * Embeddings: the texts to embed (one per line, or JSON lines with an id and a text), the
 * requests of each protocol (OpenAI-compatible POST /embeddings, Gemini
 * :batchEmbedContents, Ollama POST /api/embed), how a long batch is split into requests
 * within each provider's limits, and the decoding of the answers into vectors. The worker
 * sends the requests (worker_fetch); natter embed (cmd-embed.c) prints the vectors.
 *
 * The numbers of an answer are kept as the provider wrote them (a strict JSON number each,
 * checked), so nothing is lost to a round trip through double and printing them costs a
 * copy; an answer the fast scanner cannot read (jscan.h) goes through cJSON instead, and
 * then each number is printed in the shortest form that reads back the same.
 */
#ifndef NATTER_EMBED_H
#define NATTER_EMBED_H

#include <stddef.h>

#include "buf.h"

struct provider;
struct http_req;
struct worker_fetch;

/* The most texts one request carries, per protocol, when providers.*.embed_batch is unset
 * (the OpenAI /embeddings limit; Gemini's batchEmbedContents limit; Ollama sets none). */
#define EMBED_BATCH_OPENAI 2048
#define EMBED_BATCH_GEMINI 100
#define EMBED_BATCH_OLLAMA 512
/* The most tokens of one OpenAI request (estimated at four bytes a token). */
#define EMBED_TOKENS_OPENAI 300000
/* The longest answer natter reads: 2048 vectors of 3072 numbers fit. */
#define EMBED_MAX_BODY ((size_t)1 << 30)

/* One text to embed. */
struct embed_text {
	char *text;        /* UTF-8, len bytes */
	size_t len;
	char *id;          /* JSON lines: the id as JSON (a string literal or a number), or
	                    * NULL when none was given */
	char *id_text;     /* the id as plain text (for tsv), or NULL */
	long line;         /* the input line it came from (1-based), 0 when none */
};

struct embed_list {
	struct embed_text *v;
	size_t n;
};

/* The vectors of one answer, in input order: vector i is the numbers
 * nums.data[off[i] .. off[i] + len[i]), separated by single commas, dims[i] of them. */
struct embed_vecs {
	struct buf nums;
	size_t *off, *len, *dims;
	size_t n;
	long tokens;       /* input tokens the provider reported, -1 when none */
};

/* Add one text (copied) to a list. */
void embed_list_add(struct embed_list *l, const char *text, size_t len);
void embed_list_free(struct embed_list *l);
/* Read a batch: JSON lines ({"id": ..., "text": "..."}, id optional) when the first line
 * that is not blank opens an object, else one text per line (a final newline ends the last
 * one, CR before LF is dropped). A blank line is an error in the plain form (every line is a
 * text) and skipped in JSON lines. Texts must be non-empty UTF-8. 0, or -1 with *err
 * naming the line. */
int embed_read(const char *data, size_t len, struct embed_list *out, char **err);

/* Add one text (the command line's) after checking it is non-empty UTF-8; 0, or -1 with
 * *err. */
int embed_read_one(const char *text, size_t len, struct embed_list *out, char **err);

/* 0 when p's protocol has an embeddings API natter speaks, else -1 with *err. */
int embed_supported(const struct provider *p, char **err);
/* The most texts, and estimated tokens (0: no limit), of one request to p. */
size_t embed_batch_max(const struct provider *p);
long embed_tokens_max(const struct provider *p);
/* The end (exclusive) of the request that starts at text from: as many texts as the
 * limits allow, at least one. */
size_t embed_split(const struct provider *p, const struct embed_list *l, size_t from);
/* The fetch of texts [from, to) for model id on p, with dimensions > 0 asked for. */
struct worker_fetch *embed_fetch(const struct provider *p, const char *model,
    const struct embed_list *l, size_t from, size_t to, long dimensions);
/* Decode a 2xx answer of p that must hold n vectors. 0, or -1 with *err (caller frees)
 * quoting what was wrong; out is then empty. */
int embed_parse(const struct provider *p, const char *body, size_t len, size_t n,
    struct embed_vecs *out, char **err);
/* The same with the fast scanner off (fast 0) or required (1: -1 when it cannot read the
 * answer), for the differential fuzz target. */
int embed_parse_with(const char *protocol, const char *body, size_t len, size_t n,
    struct embed_vecs *out, char **err, int fast);
void embed_vecs_free(struct embed_vecs *v);

/* The auth header of p (Bearer for openai and ollama, x-goog-api-key for gemini) and its
 * extra headers; shared with transcribe.c. */
void embed_auth(const struct provider *p, struct http_req *out);

#endif
