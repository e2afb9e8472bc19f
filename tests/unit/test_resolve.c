/*
 * The model resolver: one table of cases that every front end (the interface's /model and
 * -m, /compare, ask -m/-p, compare -m) relies on, run against one config.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "config.h"
#include "provider.h"
#include "resolve.h"

static const char resolve_yaml[] =
    "default_model: fast\n"
    "providers:\n"
    "  openai: {protocol: openai, base_url: 'http://127.0.0.1:1/v1', key: sk-test-resolve1}\n"
    "  openrouter: {protocol: openai, base_url: 'http://127.0.0.1:1/v1', key: sk-test-resolve2}\n"
    "  anthropic: {protocol: anthropic, key_env: NATTER_TEST_NO_SUCH_KEY}\n"
    "  simulated: {protocol: simulated}\n"
    "models:\n"
    "  fast: {provider: openai, id: gpt-4o-mini, aliases: [quick]}\n"
    "  sonnet: {provider: anthropic, id: claude-sonnet-4-5}\n"
    "  router-claude: {provider: openrouter, id: anthropic/claude-x}\n"
    "  simulated: {provider: simulated}\n";

/* One case: the spec, the context, and what must come out. */
struct rcase {
	const char *spec;
	const char *provider;      /* ctx.provider */
	const char *current;       /* ctx.current's name, or NULL */
	const char *current_model;
	enum resolve_status status;
	const char *want_provider; /* model->provider_name, or NULL */
	const char *want_id;       /* model->id, or NULL */
	const char *message_has;   /* a part of resolve_message, for errors */
};

static const struct rcase resolve_cases[] = {
	/* Rule 1: nothing typed. */
	{ NULL, NULL, NULL, NULL, RESOLVE_OK, "openai", "gpt-4o-mini", NULL },
	{ "", "openrouter", NULL, NULL, RESOLVE_OK, "openrouter", "anthropic/claude-x", NULL },
	/* Rule 2: an explicit provider keeps a slashed id whole. */
	{ "anthropic/claude-x", "openrouter", NULL, NULL, RESOLVE_OK, "openrouter",
	  "anthropic/claude-x", NULL },
	{ "meta/llama-9", "openrouter", NULL, NULL, RESOLVE_OK, "openrouter", "meta/llama-9", NULL },
	{ "x", "nosuch", NULL, NULL, RESOLVE_UNKNOWN_PROVIDER, NULL, NULL, "known: openai" },
	/* Rule 3: names and aliases. */
	{ "fast", NULL, NULL, NULL, RESOLVE_OK, "openai", "gpt-4o-mini", NULL },
	{ "quick", NULL, NULL, NULL, RESOLVE_OK, "openai", "gpt-4o-mini", NULL },
	{ "sonnet", NULL, NULL, NULL, RESOLVE_PROVIDER_OFF, "anthropic", "claude-sonnet-4-5",
	  "set NATTER_TEST_NO_SUCH_KEY" },
	/* Rule 4: PROVIDER/ID; a configured id comes back as its configured model. */
	{ "openai/gpt-4o-mini", NULL, NULL, NULL, RESOLVE_OK, "openai", "gpt-4o-mini", NULL },
	{ "openai/gpt-9", NULL, NULL, NULL, RESOLVE_OK, "openai", "gpt-9", NULL },
	{ "openrouter/anthropic/claude-y", NULL, NULL, NULL, RESOLVE_OK, "openrouter",
	  "anthropic/claude-y", NULL },
	{ "anthropic/claude-z", NULL, NULL, NULL, RESOLVE_PROVIDER_OFF, "anthropic", NULL,
	  "no key for anthropic" },
	{ "openai/", NULL, NULL, NULL, RESOLVE_EMPTY, NULL, NULL, "names no model" },
	/* Rule 5: a provider alone. */
	{ "openrouter", NULL, NULL, NULL, RESOLVE_OK, "openrouter", "anthropic/claude-x", NULL },
	{ "openai", NULL, "openai", "gpt-5-nano", RESOLVE_OK, "openai", "gpt-5-nano", NULL },
	{ "simulated", NULL, "openai", "gpt-4o-mini", RESOLVE_OK, "simulated", "simulated", NULL },
	/* Rule 6: families, before the current provider. */
	{ "gpt-5", NULL, NULL, NULL, RESOLVE_OK, "openai", "gpt-5", NULL },
	{ "o3-mini", NULL, "openrouter", "x", RESOLVE_OK, "openai", "o3-mini", NULL },
	{ "claude-opus-9", NULL, NULL, NULL, RESOLVE_PROVIDER_OFF, "anthropic", NULL,
	  "set NATTER_TEST_NO_SUCH_KEY" },
	{ "gemini-9", NULL, NULL, NULL, RESOLVE_UNKNOWN_PROVIDER, NULL, NULL, "unknown provider" },
	/* Rule 7: the current provider takes an unknown id; without one it is unknown. */
	{ "mistral-large", NULL, "openrouter", "x", RESOLVE_OK, "openrouter", "mistral-large",
	  NULL },
	{ "mistral-large", NULL, NULL, NULL, RESOLVE_UNKNOWN_MODEL, NULL, NULL, "unknown model" },
	{ "fats", NULL, NULL, NULL, RESOLVE_UNKNOWN_MODEL, NULL, NULL, "did you mean 'fast'" },
	/* Issue 11: a near miss of a name, alias or id is a typo even with a current
	 * provider, which would otherwise get it as an id; PROVIDER/ID still sends it. */
	{ "sonet", NULL, NULL, NULL, RESOLVE_UNKNOWN_MODEL, NULL, NULL, "did you mean 'sonnet'" },
	{ "sonet", NULL, "openrouter", "x", RESOLVE_UNKNOWN_MODEL, NULL, NULL,
	  "did you mean 'sonnet'" },
	{ "qiuck", NULL, "openai", "x", RESOLVE_UNKNOWN_MODEL, NULL, NULL, "did you mean 'quick'" },
	{ "gpt-4o-mnii", NULL, "openrouter", "x", RESOLVE_OK, "openai", "gpt-4o-mnii", NULL },
	{ "claude-sonet-4-5", NULL, NULL, NULL, RESOLVE_PROVIDER_OFF, "anthropic", NULL,
	  "no key for anthropic" },
	{ "openrouter/sonet", NULL, NULL, NULL, RESOLVE_OK, "openrouter", "sonet", NULL },
	{ "anthropic-claude-x", NULL, "openrouter", "x", RESOLVE_UNKNOWN_MODEL, NULL, NULL,
	  "did you mean 'anthropic/claude-x'" },
};

/* Every case of the table resolves as it says. */
static void
test_table(void **state)
{
	char path[] = "/tmp/natter-test-resolve.XXXXXX";
	struct config_errors errs = { NULL, 0 };
	struct config *c;
	size_t i;
	int fd;

	(void)state;
	unsetenv("NATTER_TEST_NO_SUCH_KEY");
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, resolve_yaml, sizeof(resolve_yaml) - 1),
	    (ssize_t)(sizeof(resolve_yaml) - 1));
	close(fd);
	c = config_load(path, CONFIG_NO_DEFAULTS | CONFIG_NO_KEYCMD, &errs);
	for (i = 0; i < errs.n; i++)
		print_error("config: %s\n", errs.v[i]);
	assert_int_equal(errs.n, 0);
	for (i = 0; i < sizeof(resolve_cases) / sizeof(resolve_cases[0]); i++) {
		const struct rcase *k = &resolve_cases[i];
		struct resolve_ctx ctx = { k->provider, NULL, k->current_model, 0 };
		struct resolved r;
		char *msg;

		if (k->current != NULL)
			ctx.current = config_provider(c, k->current);
		resolve_model(c, k->spec, &ctx, &r);
		msg = resolve_message(c, k->spec, &r);
		if (r.status != k->status)
			fail_msg("case %zu '%s': status %d, want %d (%s)", i, k->spec ? k->spec : "(null)",
			    r.status, k->status, msg ? msg : "");
		if (k->want_provider != NULL) {
			assert_non_null(r.provider_name);
			assert_string_equal(r.provider_name, k->want_provider);
		}
		if (k->want_id != NULL) {
			assert_non_null(r.model);
			assert_string_equal(r.model->id, k->want_id);
			if (r.status == RESOLVE_OK)
				assert_string_equal(r.model->provider->name, k->want_provider);
		}
		if (k->message_has != NULL) {
			assert_non_null(msg);
			if (strstr(msg, k->message_has) == NULL)
				fail_msg("case %zu '%s': message '%s' lacks '%s'", i, k->spec, msg,
				    k->message_has);
		} else {
			assert_null(msg);
		}
		free(msg);
	}
	config_free(c);
	config_errors_free(&errs);
	unlink(path);
}

/* Models of three kinds; the first model is a transcription one, so the default chat
 * model must skip it. */
static const char kinds_yaml[] =
    "providers:\n"
    "  openai: {protocol: openai, base_url: 'http://127.0.0.1:1/v1', key: sk-test-kinds1}\n"
    "  gemini: {protocol: gemini, base_url: 'http://127.0.0.1:1/v1beta', key: gk-test-kinds2}\n"
    "  groq: {protocol: openai, key_env: NATTER_TEST_NO_SUCH_KEY}\n"
    "models:\n"
    "  whisper-1: {provider: openai, kind: transcription}\n"
    "  whisper-fast: {provider: groq, id: whisper-large-v3-turbo, kind: transcription}\n"
    "  chat: {provider: openai, id: gpt-4o-mini}\n"
    "  emb: {provider: openai, id: text-embedding-3-small, kind: embedding}\n"
    "  flash: {provider: gemini, id: gemini-2.5-flash}\n"
    "  gemb: {provider: gemini, id: gemini-embedding-001, kind: embedding}\n";

/* One case of the kinds table. */
struct kcase {
	const char *spec;
	const char *provider;
	int kind;
	enum resolve_status status;
	const char *want_provider;
	const char *want_id;
	const char *message_has;
};

static const struct kcase kind_cases[] = {
	/* Rule 1 per kind: the first usable model of the kind (groq has no key). */
	{ NULL, NULL, MODEL_CHAT, RESOLVE_OK, "openai", "gpt-4o-mini", NULL },
	{ NULL, NULL, MODEL_TRANSCRIPTION, RESOLVE_OK, "openai", "whisper-1", NULL },
	{ NULL, NULL, MODEL_EMBEDDING, RESOLVE_OK, "openai", "text-embedding-3-small", NULL },
	/* Rules 2 and 5: a provider's first model of the kind; a gemini chat model
	 * transcribes when the provider has no transcription model. */
	{ NULL, "gemini", MODEL_EMBEDDING, RESOLVE_OK, "gemini", "gemini-embedding-001", NULL },
	{ NULL, "gemini", MODEL_TRANSCRIPTION, RESOLVE_OK, "gemini", "gemini-2.5-flash", NULL },
	{ "gemini", NULL, MODEL_EMBEDDING, RESOLVE_OK, "gemini", "gemini-embedding-001", NULL },
	{ "openai", NULL, MODEL_CHAT, RESOLVE_OK, "openai", "gpt-4o-mini", NULL },
	{ "flash", NULL, MODEL_TRANSCRIPTION, RESOLVE_OK, "gemini", "gemini-2.5-flash", NULL },
	/* A configured model of another kind is refused, saying what it is for. */
	{ "whisper-1", NULL, MODEL_CHAT, RESOLVE_WRONG_KIND, "openai", "whisper-1",
	  "whisper-1 is a transcription model (for natter transcribe), not a chat model" },
	{ "chat", NULL, MODEL_TRANSCRIPTION, RESOLVE_WRONG_KIND, "openai", "gpt-4o-mini",
	  "not a transcription model" },
	{ "emb", NULL, MODEL_TRANSCRIPTION, RESOLVE_WRONG_KIND, NULL, NULL,
	  "emb is an embedding model (for natter embed)" },
	{ "gemb", NULL, MODEL_CHAT, RESOLVE_WRONG_KIND, NULL, NULL, "embedding model" },
	/* The families of unlisted ids. */
	{ "whisper-large-v3", NULL, MODEL_TRANSCRIPTION, RESOLVE_PROVIDER_OFF, "groq", NULL,
	  "NATTER_TEST_NO_SUCH_KEY" },
	{ "text-embedding-3-large", NULL, MODEL_EMBEDDING, RESOLVE_OK, "openai",
	  "text-embedding-3-large", NULL },
	{ "text-embedding-004", NULL, MODEL_EMBEDDING, RESOLVE_OK, "gemini", "text-embedding-004",
	  NULL },
	{ "openai/brand-new-embedder", NULL, MODEL_EMBEDDING, RESOLVE_OK, "openai",
	  "brand-new-embedder", NULL },
};

/* Load yaml into a config with no errors; path is removed. */
static struct config *
kinds_config(const char *yaml, struct config_errors *errs)
{
	char path[] = "/tmp/natter-test-kinds.XXXXXX";
	struct config *c;
	size_t i;
	int fd;

	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, yaml, strlen(yaml)), (ssize_t)strlen(yaml));
	close(fd);
	c = config_load(path, CONFIG_NO_DEFAULTS | CONFIG_NO_KEYCMD, errs);
	for (i = 0; i < errs->n; i++)
		print_error("config: %s\n", errs->v[i]);
	assert_int_equal(errs->n, 0);
	unlink(path);
	return c;
}

/* Every kinds case resolves as it says; the default chat model is no transcription
 * model; with no usable model of a kind, the message names why each provider is off. */
static void
test_kinds(void **state)
{
	struct config_errors errs = { NULL, 0 };
	struct config *c;
	struct resolved r;
	size_t i;
	char *msg;

	(void)state;
	unsetenv("NATTER_TEST_NO_SUCH_KEY");
	c = kinds_config(kinds_yaml, &errs);
	assert_string_equal(c->default_model, "chat");
	for (i = 0; i < sizeof(kind_cases) / sizeof(kind_cases[0]); i++) {
		const struct kcase *k = &kind_cases[i];
		struct resolve_ctx ctx = { k->provider, NULL, NULL, k->kind };

		resolve_model(c, k->spec, &ctx, &r);
		msg = resolve_message(c, k->spec, &r);
		if (r.status != k->status)
			fail_msg("kind case %zu '%s': status %d, want %d (%s)", i,
			    k->spec ? k->spec : "(null)", r.status, k->status, msg ? msg : "");
		if (k->want_provider != NULL) {
			assert_non_null(r.model != NULL ? r.model->provider_name : r.provider_name);
			assert_string_equal(r.model != NULL ? r.model->provider_name :
			    r.provider_name, k->want_provider);
		}
		if (k->want_id != NULL)
			assert_string_equal(r.model->id, k->want_id);
		if (k->message_has != NULL && (msg == NULL || strstr(msg, k->message_has) == NULL))
			fail_msg("kind case %zu: message '%s' lacks '%s'", i, msg ? msg : "",
			    k->message_has);
		if (k->message_has == NULL)
			assert_null(msg);
		free(msg);
	}
	config_free(c);
	config_errors_free(&errs);
	c = kinds_config("providers:\n"
	    "  groq: {protocol: openai, key_env: NATTER_TEST_NO_SUCH_KEY}\n"
	    "  simulated: {protocol: simulated}\n"
	    "models:\n"
	    "  w: {provider: groq, kind: transcription}\n"
	    "  simulated: {provider: simulated}\n", &errs);
	{
		struct resolve_ctx ctx = { NULL, NULL, NULL, MODEL_TRANSCRIPTION };

		assert_int_equal(resolve_model(c, NULL, &ctx, &r), RESOLVE_NO_MODEL);
		msg = resolve_message(c, NULL, &r);
		assert_non_null(strstr(msg, "no transcription model is usable (groq: no key; set "
		    "NATTER_TEST_NO_SUCH_KEY)"));
		free(msg);
	}
	config_free(c);
	config_errors_free(&errs);
}

/* Run the resolver tests. */
int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_kinds),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
