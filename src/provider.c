/*
 * Providers as data: construction, deep copies (every request carries its own copy so the
 * worker never shares memory with the UI thread) and release. The built-in table and the
 * lookup helpers live further down this file.
 */
#include <stdlib.h>
#include <string.h>

#include "proto.h"
#include "provider.h"
#include "xmalloc.h"

/* Duplicate a string that may be NULL. */
static char *
provider_strdup(const char *s)
{
	return s != NULL ? xstrdup(s) : NULL;
}

/* A provider with the documented defaults; the protocol's adapter is resolved by name. */
struct provider *
provider_new(const char *name, const char *protocol, const char *base_url)
{
	struct provider *p = xcalloc(1, sizeof *p);

	p->name = xstrdup(name != NULL ? name : "");
	p->protocol = xstrdup(protocol != NULL ? protocol : "");
	p->proto = proto_find(p->protocol);
	p->base_url = xstrdup(base_url != NULL ? base_url : "");
	p->connect_timeout_ms = 10000;
	p->idle_timeout_ms = 120000;
	p->request_timeout_ms = 0;
	p->max_retries = 2;
	p->max_retry_delay_s = 60;
	return p;
}

/* A deep copy of p, secrets included (the copy must be freed with provider_free). */
struct provider *
provider_dup(const struct provider *p)
{
	struct provider *c;
	size_t i;

	if (p == NULL)
		return NULL;
	c = xmalloc(sizeof *c);
	*c = *p;
	c->name = provider_strdup(p->name);
	c->protocol = provider_strdup(p->protocol);
	c->base_url = provider_strdup(p->base_url);
	c->key = provider_strdup(p->key);
	c->key_env = provider_strdup(p->key_env);
	c->proxy = provider_strdup(p->proxy);
	c->ca_bundle = provider_strdup(p->ca_bundle);
	c->headers = NULL;
	if (p->nheaders > 0) {
		c->headers = xcalloc(p->nheaders, sizeof *c->headers);
		for (i = 0; i < p->nheaders; i++)
			c->headers[i] = xstrdup(p->headers[i]);
	}
	return c;
}

/* Release p; the key is wiped first so it does not linger in freed heap memory. */
void
provider_free(struct provider *p)
{
	size_t i;

	if (p == NULL)
		return;
	if (p->key != NULL) {
		volatile char *k = p->key;

		while (*k != '\0')
			*k++ = '\0';
	}
	free(p->name);
	free(p->protocol);
	free(p->base_url);
	free(p->key);
	free(p->key_env);
	free(p->proxy);
	free(p->ca_bundle);
	for (i = 0; i < p->nheaders; i++)
		free(p->headers[i]);
	free(p->headers);
	free(p);
}

/* Append one extra "Name: value" header sent with every request to p. */
void
provider_add_header(struct provider *p, const char *line)
{
	p->headers = xrealloc(p->headers, (p->nheaders + 1) * sizeof *p->headers);
	p->headers[p->nheaders++] = xstrdup(line);
}

/* The built-in providers, made from the environment until the YAML config lands:
 * `OPENAI_API_KEY=… natter ask hi` just works. */
/* One built-in provider: where it lives and which variables configure it. */
struct provider_def {
	const char *name;
	const char *protocol;
	const char *url_env;      /* overrides the base URL, or NULL */
	const char *url;          /* default base URL */
	const char *key_env;      /* first variable holding the key */
	const char *key_env2;     /* a second accepted variable, or NULL */
	int local;
};

static const struct provider_def provider_defs[] = {
	{ "openai", "openai", "OPENAI_BASE_URL", "https://api.openai.com/v1", "OPENAI_API_KEY", NULL, 0 },
	{ "anthropic", "anthropic", "ANTHROPIC_BASE_URL", "https://api.anthropic.com/v1", "ANTHROPIC_API_KEY", NULL, 0 },
	{ "gemini", "gemini", "GEMINI_BASE_URL", "https://generativelanguage.googleapis.com/v1beta", "GEMINI_API_KEY", "GOOGLE_API_KEY", 0 },
	{ "groq", "openai", NULL, "https://api.groq.com/openai/v1", "GROQ_API_KEY", NULL, 0 },
	{ "cerebras", "openai", NULL, "https://api.cerebras.ai/v1", "CEREBRAS_API_KEY", NULL, 0 },
	{ "deepseek", "openai", NULL, "https://api.deepseek.com/v1", "DEEPSEEK_API_KEY", NULL, 0 },
	{ "openrouter", "openai", NULL, "https://openrouter.ai/api/v1", "OPENROUTER_API_KEY", NULL, 0 },
	{ "ollama", "ollama", "OLLAMA_HOST", "http://localhost:11434", "OLLAMA_API_KEY", NULL, 1 },
	{ "llamacpp", "openai", "LLAMACPP_BASE_URL", "http://localhost:8080/v1", NULL, NULL, 1 },
	{ "simulated", "simulated", NULL, "simulated:", NULL, NULL, 1 },
};

/* An environment variable's value, treating an empty one as unset. */
static const char *
provider_env(const char *name)
{
	const char *v;

	if (name == NULL || (v = getenv(name)) == NULL || v[0] == '\0')
		return NULL;
	return v;
}

/* A positive number of milliseconds from the environment, or def. */
static long
provider_env_ms(const char *name, long def)
{
	const char *v = provider_env(name);
	char *end;
	long n;

	if (v == NULL)
		return def;
	n = strtol(v, &end, 10);
	return *end == '\0' && n > 0 ? n : def;
}

/* A base URL without trailing slashes; a bare host:port (OLLAMA_HOST style) gets http://. */
static char *
provider_clean_url(const char *url)
{
	size_t n = strlen(url);
	char *s, *r;

	while (n > 0 && url[n - 1] == '/')
		n--;
	s = xstrndup(url, n);
	if (strstr(s, "://") != NULL || strncmp(s, "simulated:", 10) == 0)
		return s;
	r = xasprintf("http://%s", s);
	free(s);
	return r;
}

/* Build one built-in provider from its definition and the environment. */
static struct provider *
provider_from_def(const struct provider_def *d)
{
	const char *url = provider_env(d->url_env), *key, *v;
	struct provider *p;
	char *clean, *end;
	double rate;

	clean = provider_clean_url(url != NULL ? url : d->url);
	p = provider_new(d->name, d->protocol, clean);
	free(clean);
	p->local = d->local;
	if (d->key_env != NULL) {
		key = provider_env(d->key_env);
		p->key_env = xstrdup(d->key_env);
		if (key == NULL && (key = provider_env(d->key_env2)) != NULL) {
			free(p->key_env);
			p->key_env = xstrdup(d->key_env2);
		}
		if (key != NULL)
			p->key = xstrdup(key);
	}
	p->connect_timeout_ms = provider_env_ms("NATTER_CONNECT_TIMEOUT_MS", p->connect_timeout_ms);
	p->idle_timeout_ms = provider_env_ms("NATTER_IDLE_TIMEOUT_MS", p->idle_timeout_ms);
	if ((v = provider_env("NATTER_MAX_RETRIES")) != NULL && strspn(v, "0123456789") == strlen(v) &&
	    strlen(v) <= 2)
		p->max_retries = atoi(v);
	if ((v = provider_env("NATTER_PROXY")) != NULL)
		p->proxy = xstrdup(v);
	if ((v = provider_env("NATTER_CA_BUNDLE")) != NULL)
		p->ca_bundle = xstrdup(v);
	if (strcmp(d->protocol, "simulated") == 0) {
		p->sim_tokens_per_s = 200;
		if ((v = provider_env("NATTER_SIM_RATE")) != NULL) {
			rate = strtod(v, &end);
			if (*end == '\0' && rate >= 0)
				p->sim_tokens_per_s = rate;
		}
	}
	return p;
}

/* The built-in providers, in the order `natter models` lists them. */
struct provider **
provider_builtin(size_t *n)
{
	size_t i, count = sizeof(provider_defs) / sizeof(provider_defs[0]);
	struct provider **list = xcalloc(count, sizeof(*list));

	for (i = 0; i < count; i++)
		list[i] = provider_from_def(&provider_defs[i]);
	*n = count;
	return list;
}

/* Free a list returned by provider_builtin (or built the same way). */
void
provider_list_free(struct provider **list, size_t n)
{
	size_t i;

	if (list == NULL)
		return;
	for (i = 0; i < n; i++)
		provider_free(list[i]);
	free(list);
}

/* Find a provider by exact name. */
struct provider *
provider_find(struct provider **list, size_t n, const char *name)
{
	size_t i;

	if (name == NULL)
		return NULL;
	for (i = 0; i < n; i++)
		if (strcmp(list[i]->name, name) == 0)
			return list[i];
	return NULL;
}

/* Usable means a key is present, or the provider is local and needs none. */
int
provider_usable(const struct provider *p)
{
	if (p == NULL)
		return 0;
	return p->local || (p->key != NULL && p->key[0] != '\0');
}
