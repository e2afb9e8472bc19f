/*
 * A provider is an endpoint natter can talk to: a name, the protocol it speaks, where it
 * lives and how to authenticate. Adding a provider that speaks an existing protocol is data
 * only: the config (config.h) builds every provider from natter.yaml and the environment.
 */
#ifndef NATTER_PROVIDER_H
#define NATTER_PROVIDER_H

#include <stddef.h>

struct proto;
struct keypool;

struct provider {
	char *name;               /* "openai", "groq", "simulated", ... */
	char *protocol;           /* "openai", "anthropic", "gemini", "ollama", "simulated" */
	const struct proto *proto;/* resolved from protocol */
	char *base_url;           /* without trailing slash, e.g. https://api.openai.com/v1 */
	char *key;                /* secret; NULL when none. Never logged or stored. */
	char *key_env;            /* the variable the key comes from, for hints */
	char **headers;           /* extra "Name: value" lines */
	size_t nheaders;
	long connect_timeout_ms;  /* default 10000 */
	long idle_timeout_ms;     /* no byte for this long aborts the transfer; default 120000 */
	long request_timeout_ms;  /* whole request limit, 0 = none */
	int max_retries;          /* retries before the first token; default 2 */
	double max_retry_delay_s; /* cap on any single wait; default 60 */
	char *proxy;              /* NULL: libcurl's HTTPS_PROXY/NO_PROXY handling applies */
	char *ca_bundle;          /* NULL: system default */
	int local;                /* a local server: no key needed */
	double sim_tokens_per_s;  /* simulated: streaming rate; 0 means as fast as possible */
	struct keypool *pool;     /* shared key pool, owned by the config; copies share it.
	                           * NULL: use key as is (see keypool.h) */
};

struct provider *provider_new(const char *name, const char *protocol, const char *base_url);
struct provider *provider_dup(const struct provider *p);
void provider_free(struct provider *p);
void provider_add_header(struct provider *p, const char *line);

/* Find a provider by name in list, or NULL. */
struct provider *provider_find(struct provider **list, size_t n, const char *name);
/* True when the provider can be used: it has a key, or needs none. */
int provider_usable(const struct provider *p);

#endif
