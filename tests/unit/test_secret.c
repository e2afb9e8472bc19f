/* Tests of the secret registry and scrubber: exact, percent-encoded and base64 (Basic auth)
 * echoes, the short-key rule, nested keys, keys split across stream chunks at every offset,
 * the sources that register keys (config literal, key_cmd, env, pools, credential headers),
 * error bodies cut after the scrub, and concurrent use from two threads. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <pthread.h>
#include <sys/stat.h>
#include <unistd.h>

#include "apierr.h"
#include "buf.h"
#include "config.h"
#include "keypool.h"
#include "log.h"
#include "proto.h"
#include "secret.h"
#include "xmalloc.h"

#define KEY "sk-proj-Abc123XyZ987-secretvalue"

/* A scrubbed copy of s. */
static char *
scrubbed(const char *s)
{
	char *c = xstrdup(s);

	secret_scrub_str(c);
	return c;
}

/* Every test starts with an empty registry. */
static int
reset(void **state)
{
	(void)state;
	secret_clear();
	return 0;
}

/* Base64 of n bytes of s, padded. */
static char *
b64(const char *s, size_t n)
{
	static const char t[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	struct buf b = BUF_INIT;
	size_t i;

	for (i = 0; i < n; i += 3) {
		unsigned v = (unsigned char)s[i] << 16;

		if (i + 1 < n)
			v |= (unsigned char)s[i + 1] << 8;
		if (i + 2 < n)
			v |= (unsigned char)s[i + 2];
		buf_putc(&b, t[v >> 18 & 63]);
		buf_putc(&b, t[v >> 12 & 63]);
		buf_putc(&b, i + 1 < n ? t[v >> 6 & 63] : '=');
		buf_putc(&b, i + 2 < n ? t[v & 63] : '=');
	}
	return buf_detach(&b);
}

/* An exact echo becomes the masked form `natter auth` shows; the text around it stays. */
static void
test_exact(void **state)
{
	char *mask = log_mask_key(KEY), *want, *got;

	(void)state;
	secret_add(KEY);
	assert_int_equal(secret_count(), 1);
	got = scrubbed("proxy saw: Authorization: Bearer " KEY ", twice: " KEY "!");
	want = xasprintf("proxy saw: Authorization: Bearer %s, twice: %s!", mask, mask);
	assert_string_equal(got, want);
	assert_null(strstr(got, "secretvalue"));
	free(got);
	free(want);
	got = scrubbed("nothing to hide here");
	assert_string_equal(got, "nothing to hide here");
	free(got);
	free(mask);
}

/* Keys under SECRET_MIN_LEN bytes are not registered: a placeholder such as "ollama" must
 * not vanish from replies. Keys of 8 to 11 bytes mask to an ellipsis alone. */
static void
test_short_keys(void **state)
{
	char *got;

	(void)state;
	secret_add("ollama");
	secret_add("sk-1234");
	secret_add("");
	secret_add(NULL);
	assert_int_equal(secret_count(), 0);
	got = scrubbed("run ollama with sk-1234");
	assert_string_equal(got, "run ollama with sk-1234");
	free(got);
	secret_add("key-8byt");
	got = scrubbed("a key-8byt b");
	assert_string_equal(got, "a \xe2\x80\xa6 b");
	free(got);
	secret_add("key-8byt");
	assert_int_equal(secret_count(), 1);
}

/* A key that contains another key is masked as itself, whatever the order they came in. */
static void
test_nested(void **state)
{
	char *outer = log_mask_key("sk-inner-0123456789-outer"), *got, *want;

	(void)state;
	secret_add("sk-inner-0123456789");
	secret_add("sk-inner-0123456789-outer");
	got = scrubbed("[sk-inner-0123456789-outer]");
	want = xasprintf("[%s]", outer);
	assert_string_equal(got, want);
	free(got);
	free(want);
	free(outer);
}

/* A key with characters a URL must escape is also caught percent-encoded, and a key in an
 * echoed Basic auth header is caught in base64 whatever the user name's length. */
static void
test_encoded(void **state)
{
	const char *key = "pa/ss+word=0123456789";
	char *got, *enc, *cred, *line, *mask = log_mask_key(KEY);
	int ulen;

	(void)state;
	secret_add(key);
	got = scrubbed("GET /v1?key=pa%2Fss%2Bword%3D0123456789 HTTP/1.1");
	assert_null(strstr(got, "0123456789"));
	free(got);
	for (ulen = 0; ulen < 6; ulen++) {
		cred = xasprintf("%.*s:%s", ulen, "userxx", KEY);
		secret_add(KEY);
		enc = b64(cred, strlen(cred));
		line = xasprintf("Authorization: Basic %s", enc);
		got = scrubbed(line);
		/* The middle of the encoding, which only the key determines, is gone. */
		assert_non_null(strstr(got, mask));
		assert_true(strlen(got) < strlen(line) - 16);
		free(got);
		free(line);
		free(enc);
		free(cred);
	}
	free(mask);
}

/* Feed text in pieces through secret_scrub_stream as the worker does; returns what was
 * released, including the scrubbed rest at the end. */
static char *
stream_pieces(const char *text, const size_t *cuts, size_t ncuts)
{
	struct buf held = BUF_INIT, out = BUF_INIT;
	size_t i, from = 0, ok;

	for (i = 0; i <= ncuts; i++) {
		size_t to = i < ncuts ? cuts[i] : strlen(text);

		buf_append(&held, text + from, to - from);
		from = to;
		ok = secret_scrub_stream(&held);
		/* Nothing released may hold the start of a key. */
		buf_append(&out, held.data, ok);
		buf_consume(&held, ok);
	}
	held.len = secret_scrub(held.data, held.len);
	buf_append(&out, held.data, held.len);
	buf_free(&held);
	return buf_detach(&out);
}

/* A key split across chunks at any one or two places never leaves the stream. */
static void
test_stream_splits(void **state)
{
	const char *text = "The request carried Authorization: Bearer " KEY ". Done.";
	char *want, *got;
	size_t len = strlen(text), cuts[2];

	(void)state;
	secret_add(KEY);
	want = scrubbed(text);
	for (cuts[0] = 0; cuts[0] <= len; cuts[0]++) {
		got = stream_pieces(text, cuts, 1);
		assert_string_equal(got, want);
		free(got);
		for (cuts[1] = cuts[0]; cuts[1] <= len; cuts[1] += 7) {
			got = stream_pieces(text, cuts, 2);
			assert_string_equal(got, want);
			free(got);
		}
	}
	free(want);
}

/* One byte at a time, and text that only looks like the start of a key is released in
 * full at the end. */
static void
test_stream_bytes(void **state)
{
	const char *text = "sk-proj- is how keys start; this one " KEY " does not stay; sk-pr";
	size_t cuts[128], n = strlen(text), i;
	char *want, *got;
	struct buf held = BUF_INIT;

	(void)state;
	secret_add(KEY);
	for (i = 0; i + 1 < n && i < 128; i++)
		cuts[i] = i + 1;
	want = scrubbed(text);
	got = stream_pieces(text, cuts, i);
	assert_string_equal(got, want);
	assert_non_null(strstr(got, "; sk-pr"));
	free(got);
	free(want);
	/* A chunk that ends in a key's first bytes keeps them back, and only them, even when
	 * another key starts with the last byte alone (found by fuzz_secret). */
	secret_add("key-starts-with-k");
	buf_puts(&held, "a reply ending in sk-pr");
	assert_int_equal(secret_scrub_stream(&held), strlen("a reply ending in "));
	buf_free(&held);
}

/* A pool key that is the start of another one: a chunk that ends with the short key keeps
 * it back until the next chunk shows which key it was, so no part of the long one shows. */
static void
test_stream_prefix_key(void **state)
{
	const char *text = "echo: sk-pool-0123456789abcdefXYZ end";
	size_t cuts[1] = { strlen("echo: sk-pool-0123456789") };
	char *got, *want;

	(void)state;
	secret_add("sk-pool-0123456789");
	secret_add("sk-pool-0123456789abcdefXYZ");
	want = scrubbed(text);
	got = stream_pieces(text, cuts, 1);
	assert_string_equal(got, want);
	assert_null(strstr(got, "abcdefXYZ"));
	free(got);
	free(want);
}

/* An error body longer than the excerpt keeps no half of a key across the cut. */
static void
test_excerpt_cut(void **state)
{
	struct buf body = BUF_INIT;
	char *x;
	int pad;

	(void)state;
	secret_add(KEY);
	for (pad = 270; pad < 300; pad++) {
		buf_reset(&body);
		while (body.len < (size_t)pad)
			buf_putc(&body, 'x');
		buf_puts(&body, KEY " and more text after the key");
		x = proto_body_excerpt(body.data, body.len);
		assert_null(strstr(x, "sk-proj-Abc"));
		free(x);
	}
	buf_free(&body);
}

/* Every field of a provider error is scrubbed. */
static void
test_apierr(void **state)
{
	struct apierr *e = apierr_new(APIERR_HTTP, APIERR_AUTH, "bad key " KEY);

	(void)state;
	secret_add(KEY);
	e->type = xstrdup("type " KEY);
	e->code = xstrdup(KEY);
	e->reason = xstrdup("reason " KEY);
	e->request_id = xstrdup("req_" KEY);
	apierr_scrub(e);
	assert_null(strstr(e->message, "secretvalue"));
	assert_null(strstr(e->type, "secretvalue"));
	assert_null(strstr(e->code, "secretvalue"));
	assert_null(strstr(e->reason, "secretvalue"));
	assert_null(strstr(e->request_id, "secretvalue"));
	assert_non_null(strstr(e->message, "bad key sk-p"));
	apierr_free(e);
	apierr_scrub(NULL);
}

/* Loading a config registers every key it resolves: a literal, a key_cmd's output, an
 * environment variable, each key of a pool, and a configured credential header. */
static void
test_config_sources(void **state)
{
	char dir[] = "/tmp/natter-secret-XXXXXX", *path;
	struct config_errors errs = { NULL, 0 };
	struct config *c;
	FILE *f;
	char *got;

	(void)state;
	assert_non_null(mkdtemp(dir));
	path = xasprintf("%s/natter.yaml", dir);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("providers:\n"
	    "  lit:\n    protocol: openai\n    base_url: http://127.0.0.1:9/v1\n"
	    "    key: sk-literal-111111111111\n"
	    "  cmd:\n    protocol: anthropic\n    base_url: http://127.0.0.1:9/v1\n"
	    "    key_cmd: printf %s sk-keycmd-222222222222\n"
	    "  env:\n    protocol: gemini\n    base_url: http://127.0.0.1:9/v1beta\n"
	    "    key_env: NATTER_TEST_SECRET_ENV\n"
	    "  pool:\n    protocol: openai\n    base_url: http://127.0.0.1:9/v1\n"
	    "    keys:\n      - key: sk-pool-a-333333333333\n      - key: sk-pool-b-444444444444\n"
	    "  hdr:\n    protocol: openai\n    base_url: http://127.0.0.1:9/v1\n"
	    "    local: true\n"
	    "    headers:\n      X-Proxy-Token: Token sk-header-555555555555\n", f);
	fclose(f);
	chmod(path, 0600);
	setenv("NATTER_TEST_SECRET_ENV", "sk-env-666666666666", 1);
	c = config_load(path, 0, &errs);
	assert_int_equal(errs.n, 0);
	got = scrubbed("sk-literal-111111111111 sk-keycmd-222222222222 sk-env-666666666666 "
	    "sk-pool-a-333333333333 sk-pool-b-444444444444 sk-header-555555555555");
	assert_null(strstr(got, "11111111"));
	assert_null(strstr(got, "22222222"));
	assert_null(strstr(got, "33333333"));
	assert_null(strstr(got, "44444444"));
	assert_null(strstr(got, "55555555"));
	assert_null(strstr(got, "66666666"));
	free(got);
	/* The registry keeps its own copies: freeing the config does not unregister. */
	config_free(c);
	got = scrubbed("sk-pool-b-444444444444");
	assert_null(strstr(got, "44444444"));
	free(got);
	config_errors_free(&errs);
	unsetenv("NATTER_TEST_SECRET_ENV");
	unlink(path);
	rmdir(dir);
	free(path);
}

/* A key pool registers what it is given. */
static void
test_keypool_registers(void **state)
{
	struct keypool *kp = keypool_new("t");
	char *got;

	(void)state;
	keypool_add(kp, "sk-added-to-a-pool-1", "literal", 0, 0, 0);
	got = scrubbed("echo sk-added-to-a-pool-1");
	assert_null(strstr(got, "pool-1"));
	free(got);
	keypool_free(kp);
}

/* Two threads adding and scrubbing at once (the UI and the worker) get consistent results. */
static void *
adder(void *arg)
{
	int i;
	char k[64];

	(void)arg;
	for (i = 0; i < 200; i++) {
		snprintf(k, sizeof k, "sk-thread-key-%04d-xxxxxxxx", i);
		secret_add(k);
	}
	return NULL;
}

/* See adder. */
static void
test_threads(void **state)
{
	pthread_t t;
	int i;
	char *got;

	(void)state;
	secret_add(KEY);
	assert_int_equal(pthread_create(&t, NULL, adder, NULL), 0);
	for (i = 0; i < 200; i++) {
		got = scrubbed("x " KEY " y");
		assert_null(strstr(got, "secretvalue"));
		free(got);
	}
	pthread_join(t, NULL);
	assert_int_equal(secret_count(), 201);
	got = scrubbed("sk-thread-key-0199-xxxxxxxx");
	assert_null(strstr(got, "0199"));
	free(got);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_exact, reset),
		cmocka_unit_test_setup(test_short_keys, reset),
		cmocka_unit_test_setup(test_nested, reset),
		cmocka_unit_test_setup(test_encoded, reset),
		cmocka_unit_test_setup(test_stream_splits, reset),
		cmocka_unit_test_setup(test_stream_bytes, reset),
		cmocka_unit_test_setup(test_stream_prefix_key, reset),
		cmocka_unit_test_setup(test_excerpt_cut, reset),
		cmocka_unit_test_setup(test_apierr, reset),
		cmocka_unit_test_setup(test_config_sources, reset),
		cmocka_unit_test_setup(test_keypool_registers, reset),
		cmocka_unit_test_setup(test_threads, reset),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);

	secret_clear();
	return rc;
}
