/*
 * Differential libFuzzer target for the embeddings answer decoder (src/embed.c). The
 * input's first byte picks the protocol (openai, gemini, ollama), the second the number of
 * texts sent (1-8), the rest is the answer. Whenever the fast scanner reads an answer, the
 * cJSON reading must read it too, into vectors of the same lengths whose numbers have the
 * same values (the fast path keeps them as written, cJSON prints them anew); and whatever
 * the bytes, the decoder must neither crash nor read outside the answer. An accepted
 * vector of finite numbers must also quantize into semantic search's bytes.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "embed.h"
#include "json.h"
#include "semantic.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The numbers of vector i, parsed back. */
static size_t
fuzz_values(const struct embed_vecs *v, size_t i, double *out, size_t cap)
{
	const char *p = v->nums.data + v->off[i], *end = p + v->len[i];
	char tmp[80];
	size_t n = 0, k;

	while (p < end && n < cap) {
		k = (size_t)((const char *)memchr(p, ',', (size_t)(end - p)) != NULL ?
		    (const char *)memchr(p, ',', (size_t)(end - p)) - p : end - p);
		if (k >= sizeof(tmp))
			abort();
		memcpy(tmp, p, k);
		tmp[k] = '\0';
		out[n++] = strtod(tmp, NULL);
		p += k + 1;
	}
	return n;
}

/* Whether the n numbers are all finite (strtod makes 1e999 infinite). */
static int
fuzz_finite(const double *v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!isfinite(v[i]))
			return 0;
	return 1;
}

/* Decode both ways and compare. */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const protos[] = { "openai", "gemini", "ollama" };
	static double a[4096], b[4096];
	struct embed_vecs fast, slow, any;
	const char *proto, *body;
	char *copy, *err = NULL;
	size_t n, len, i, na, nb;
	int8_t *q;
	int f, s;

	if (size < 2)
		return 0;
	json_init();
	proto = protos[data[0] % 3];
	n = data[1] % 8 + 1;
	len = size - 2;
	copy = malloc(len > 0 ? len : 1);
	memcpy(copy, data + 2, len);
	body = copy;
	f = embed_parse_with(proto, body, len, n, &fast, &err, 1);
	free(err);
	s = embed_parse_with(proto, body, len, n, &slow, &err, 0);
	free(err);
	if (embed_parse_with(proto, body, len, n, &any, &err, -1) == 0)
		embed_vecs_free(&any);
	free(err);
	if (f == 0) {
		if (s != 0)
			abort();
		for (i = 0; i < n; i++) {
			if (fast.dims[i] != slow.dims[i] || fast.dims[i] == 0)
				abort();
			na = fuzz_values(&fast, i, a, 4096);
			nb = fuzz_values(&slow, i, b, 4096);
			if (na != nb || na != (fast.dims[i] < 4096 ? fast.dims[i] : 4096) ||
			    memcmp(a, b, na * sizeof(double)) != 0)
				abort();
			/* Every vector the decoder accepts quantizes (semantic search's form). */
			q = malloc(fast.dims[i]);
			if (semantic_quantize(fast.nums.data + fast.off[i], fast.len[i], fast.dims[i],
			    q) != 0 && fast.dims[i] <= 4096 && fuzz_finite(a, na))
				abort();
			free(q);
		}
		embed_vecs_free(&fast);
	}
	if (s == 0)
		embed_vecs_free(&slow);
	free(copy);
	return 0;
}
