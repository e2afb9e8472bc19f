/*
 * Providers as data: construction, deep copies (every request carries its own copy so the
 * worker never shares memory with the UI thread) and release. Which providers exist is the
 * config's business (config.c builds them from natter.yaml and the environment).
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
	p->first_token_timeout_ms = PROVIDER_FIRST_TOKEN_MS;
	p->idle_timeout_ms = PROVIDER_IDLE_MS;
	p->request_timeout_ms = 0;
	p->max_retries = 2;
	p->max_retry_delay_s = 60;
	p->retry_total_ms = PROVIDER_RETRY_TOTAL_MS;
	p->max_line = 0;
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

/* Find a provider by name in list, or NULL. */
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

/* True when the provider can be used: a local server, or one with a key. */
int
provider_usable(const struct provider *p)
{
	if (p == NULL)
		return 0;
	return p->local || (p->key != NULL && p->key[0] != '\0');
}
