/* Unit tests for semantic search: vectors are normalized into signed bytes, a malformed
 * vector is refused, the scan's best k are exactly what sorting every score gives, the
 * messages still without a vector are listed newest first within their bounds (and not
 * once they have one, nor a streaming or empty one), another model's vectors are apart,
 * and deleting a session deletes its vectors. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "buf.h"
#include "semantic.h"
#include "store.h"
#include "xmalloc.h"

struct fixture {
	char dir[64];
	struct store *st;
	int64_t sid;
};

/* A store in a fresh temporary directory with one session. */
static int
setup(void **state)
{
	struct fixture *f = xcalloc(1, sizeof(*f));
	char *err = NULL, *path;

	snprintf(f->dir, sizeof(f->dir), "/tmp/natter-sem.XXXXXX");
	if (mkdtemp(f->dir) == NULL)
		return -1;
	path = xasprintf("%s/natter.db", f->dir);
	f->st = store_open(path, &err);
	free(path);
	if (f->st == NULL) {
		fprintf(stderr, "store_open: %s\n", err);
		free(err);
		return -1;
	}
	f->sid = store_session_new(f->st, "vectors", NULL, NULL);
	*state = f;
	return 0;
}

/* Close the store and remove its directory. */
static int
teardown(void **state)
{
	struct fixture *f = *state;
	char *cmd = xasprintf("rm -rf %s", f->dir);

	store_close(f->st);
	if (system(cmd) != 0)
		return -1;
	free(cmd);
	free(f);
	return 0;
}

/* Store one message of role with text and state; its id. */
static int64_t
add(struct fixture *f, enum role role, const char *text, enum msg_state state)
{
	struct message_row m;

	memset(&m, 0, sizeof(m));
	m.session_id = f->sid;
	m.role = role;
	m.content = (char *)text;
	m.state = state;
	m.input_tokens = m.output_tokens = m.ttft_ms = m.duration_ms = -1;
	m.cost = -1;
	return store_message_add(f->st, &m);
}

/* Vectors are scaled to unit length, then to 127; bad numbers or counts are refused. */
static void
test_quantize(void **state)
{
	int8_t v[4];

	(void)state;
	assert_int_equal(semantic_quantize("3,0,-4,0", 8, 4, v), 0);
	assert_int_equal(v[0], 76);   /* 127 * 3/5, rounded */
	assert_int_equal(v[1], 0);
	assert_int_equal(v[2], -102); /* 127 * -4/5 */
	assert_int_equal(semantic_quantize("0.5,1e-3,-2.5e1,7", 17, 4, v), 0);
	assert_true(v[2] < -120 && v[3] > 30);
	assert_int_equal(semantic_quantize("0,0,0,0", 7, 4, v), 0);
	assert_int_equal(v[0] | v[1] | v[2] | v[3], 0);
	assert_int_equal(semantic_quantize("1,2,3", 5, 4, v), -1);
	assert_int_equal(semantic_quantize("1,2,x,4", 7, 4, v), -1);
	assert_int_equal(semantic_quantize("1,2,3,4,5", 9, 4, v), -1);
	assert_int_equal(semantic_quantize("1,2,nan,4", 9, 4, v), -1);
}

/* The cosine of two byte vectors, as a reference. */
static double
cosine(const int8_t *a, const int8_t *b, size_t d)
{
	double ab = 0, aa = 0, bb = 0;
	size_t i;

	for (i = 0; i < d; i++) {
		ab += a[i] * b[i];
		aa += a[i] * a[i];
		bb += b[i] * b[i];
	}
	return aa > 0 && bb > 0 ? ab / sqrt(aa * bb) : 0;
}

/* The best k of a scan are the first k of every score sorted, in that order. */
static void
test_search_matches_sort(void **state)
{
	struct fixture *f = *state;
	/* K * SEMANTIC_RESCORE >= N: every vector is a candidate, so the result is exact. */
	enum { N = 500, D = 16, K = 64 };
	int64_t *ids = xcalloc(N, sizeof(*ids));
	int8_t *v = xcalloc(N * D, 1), q[D];
	double *score = xcalloc(N, sizeof(*score));
	struct semantic_hit *hits;
	size_t n, i, j;
	unsigned seed = 7;

	for (i = 0; i < N; i++) {
		char text[32];

		snprintf(text, sizeof text, "message %zu", i);
		ids[i] = add(f, ROLE_USER, text, MSG_COMPLETE);
		for (j = 0; j < D; j++)
			v[i * D + j] = (int8_t)((int)(rand_r(&seed) % 255) - 127);
	}
	for (j = 0; j < D; j++)
		q[j] = (int8_t)((int)(rand_r(&seed) % 255) - 127);
	assert_int_equal(store_vectors_put(f->st, "p/m", ids, v, N, D), 0);
	for (i = 0; i < N; i++)
		score[i] = cosine(v + i * D, q, D);
	assert_int_equal(semantic_search(f->st, "p/m", q, D, K, &hits, &n), 0);
	assert_int_equal(n, K);
	for (i = 0; i < n; i++) {
		size_t better = 0;
		int64_t k = hits[i].id - ids[0];

		assert_true(k >= 0 && k < N);
		assert_true(fabs(hits[i].score - score[k]) < 1e-9);
		for (j = 0; j < N; j++)
			if (score[j] > score[k])
				better++;
		assert_int_equal(better, i);  /* no ties among random vectors */
	}
	free(hits);
	/* Another dimension count or another model finds nothing. */
	assert_int_equal(semantic_search(f->st, "p/m", q, D - 1, K, &hits, &n), 0);
	assert_int_equal(n, 0);
	free(hits);
	assert_int_equal(semantic_search(f->st, "p/other", q, D, K, &hits, &n), 0);
	assert_int_equal(n, 0);
	free(hits);
	free(ids);
	free(v);
	free(score);
}

/* Pending: newest first within (above, below), worth a vector, without one of the model. */
static void
test_pending(void **state)
{
	struct fixture *f = *state;
	int64_t a = add(f, ROLE_USER, "first", MSG_COMPLETE);
	int64_t b = add(f, ROLE_ASSISTANT, "second", MSG_COMPLETE);
	int64_t c = add(f, ROLE_ASSISTANT, "still streaming", MSG_STREAMING);
	int64_t d = add(f, ROLE_ASSISTANT, "", MSG_COMPLETE);
	int64_t e = add(f, ROLE_USER, "third", MSG_COMPLETE);
	int64_t *ids;
	char **texts;
	int8_t vec[2] = { 1, 0 };
	size_t n;

	(void)c;
	(void)d;
	assert_int_equal(store_vectors_pending(f->st, "k", 0, INT64_MAX, 10, &ids, &texts, &n), 0);
	assert_int_equal(n, 3);
	assert_true(ids[0] == e && ids[1] == b && ids[2] == a);
	assert_string_equal(texts[0], "third");
	store_vectors_pending_free(ids, texts, n);
	assert_int_equal(store_vectors_pending(f->st, "k", a, e, 10, &ids, &texts, &n), 0);
	assert_int_equal(n, 1);
	assert_true(ids[0] == b);
	store_vectors_pending_free(ids, texts, n);
	assert_int_equal(store_vectors_put(f->st, "k", &e, vec, 1, 2), 0);
	assert_int_equal(store_vectors_pending(f->st, "k", 0, INT64_MAX, 1, &ids, &texts, &n), 0);
	assert_true(n == 1 && ids[0] == b);
	store_vectors_pending_free(ids, texts, n);
	assert_int_equal(store_vectors_count_pending(f->st, "k", 0), 2);
	assert_int_equal(store_vectors_count_pending(f->st, "k", b), 0);
	assert_int_equal(store_vectors_upto(f->st, "k"), 0);
	assert_int_equal(store_vectors_set_upto(f->st, "k", d), 0);
	assert_int_equal(store_vectors_set_upto(f->st, "k", a), 0);  /* it never goes down */
	assert_true(store_vectors_upto(f->st, "k") == d);
	/* Another model's vectors do not count. */
	assert_int_equal(store_vectors_pending(f->st, "k2", 0, INT64_MAX, 10, &ids, &texts, &n), 0);
	assert_int_equal(n, 3);
	store_vectors_pending_free(ids, texts, n);
	assert_true(store_vectors_top(f->st) == e);
}

/* Over many vectors only the nearest by bits are ranked: a stored vector is still found
 * first by itself, and every hit is scored by its bytes. */
static void
test_search_two_pass(void **state)
{
	struct fixture *f = *state;
	enum { N = 3000, D = 96, K = 10 };
	int64_t *ids = xcalloc(N, sizeof(*ids));
	int8_t *v = xcalloc(N * D, 1);
	struct semantic_hit *hits;
	size_t n, i, j;
	unsigned seed = 11;

	for (i = 0; i < N; i++) {
		ids[i] = add(f, ROLE_ASSISTANT, "a reply", MSG_COMPLETE);
		for (j = 0; j < D; j++)
			v[i * D + j] = (int8_t)((int)(rand_r(&seed) % 255) - 127);
	}
	assert_int_equal(store_vectors_put(f->st, "p/m", ids, v, N, D), 0);
	for (i = 0; i < N; i += 997) {
		assert_int_equal(semantic_search(f->st, "p/m", v + i * D, D, K, &hits, &n), 0);
		assert_int_equal(n, K);
		assert_true(hits[0].id == ids[i]);
		assert_true(hits[0].score > 0.9999);
		for (j = 1; j < n; j++)
			assert_true(hits[j].score <= hits[j - 1].score);
		free(hits);
	}
	free(ids);
	free(v);
}

/* Deleting the session deletes its messages' vectors. */
static void
test_cascade(void **state)
{
	struct fixture *f = *state;
	int64_t a = add(f, ROLE_USER, "gone soon", MSG_COMPLETE);
	int8_t vec[3] = { 1, 2, 3 };
	struct semantic_hit *hits;
	size_t n;

	assert_int_equal(store_vectors_put(f->st, "k", &a, vec, 1, 3), 0);
	assert_int_equal(semantic_search(f->st, "k", vec, 3, 5, &hits, &n), 0);
	assert_int_equal(n, 1);
	assert_true(hits[0].score > 0.999);
	free(hits);
	assert_int_equal(store_session_delete(f->st, f->sid), 0);
	assert_int_equal(semantic_search(f->st, "k", vec, 3, 5, &hits, &n), 0);
	assert_int_equal(n, 0);
	free(hits);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_quantize),
		cmocka_unit_test_setup_teardown(test_search_matches_sort, setup, teardown),
		cmocka_unit_test_setup_teardown(test_search_two_pass, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pending, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cascade, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
