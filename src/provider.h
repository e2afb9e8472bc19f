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
	long first_token_timeout_ms; /* request sent to first token (text or reasoning); comments,
	                           * pings and headers do not count; 0 = none; default 300000 */
	long idle_timeout_ms;     /* after the first token, the longest gap without a delta
	                           * (comments do not count); model lists: without a byte;
	                           * default 90000 */
	long request_timeout_ms;  /* whole request limit, 0 = none */
	int max_retries;          /* retries before the first token; default 2 */
	double max_retry_delay_s; /* cap on any single wait; default 60 */
	long retry_total_ms;      /* no retry starts later than this after the first attempt
	                           * did; 0 = none; default 120000 */
	size_t max_line;          /* longest stream line or event, bytes; 0 = the default,
	                           * STREAM_MAX_LINE (16 MiB) */
	char *proxy;              /* NULL: libcurl's HTTPS_PROXY/NO_PROXY handling applies */
	char *ca_bundle;          /* NULL: system default */
	int local;                /* a local server: no key needed */
	size_t max_attach;        /* largest attachment, bytes; 0 = the protocol's limits
	                           * (attach-check.c) */
	double sim_tokens_per_s;  /* simulated: streaming rate; 0 means as fast as possible */
	long embed_batch;         /* texts in one embeddings request; 0: the protocol's most
	                           * (embed.h) */
	long embed_tokens;        /* estimated tokens in one embeddings request; 0: the
	                           * protocol's most */
	struct keypool *pool;     /* shared key pool, owned by the config; copies share it.
	                           * NULL: use key as is (see keypool.h) */
};

/*
 * The default deadlines, and why. A reasoning model may think for minutes before its
 * first token without sending a byte (OpenAI's o-series, Gemini without thought
 * summaries), so the first token gets 5 minutes, half of the official SDKs' 600 s request
 * timeout. Once tokens flow the gaps are seconds, even for a slow local model, so 90 s
 * without one means the stream is stuck, whatever keep-alive comments still arrive.
 * Retries are for blips that pass within a minute or two (overload, rate limits, a reset
 * connection); a server that hung for a whole first-token deadline is not one, so no new
 * attempt starts more than 2 minutes after the first.
 */
#define PROVIDER_FIRST_TOKEN_MS 300000L
#define PROVIDER_IDLE_MS 90000L
#define PROVIDER_RETRY_TOTAL_MS 120000L

struct provider *provider_new(const char *name, const char *protocol, const char *base_url);
struct provider *provider_dup(const struct provider *p);
void provider_free(struct provider *p);
void provider_add_header(struct provider *p, const char *line);

/* Find a provider by name in list, or NULL. */
struct provider *provider_find(struct provider **list, size_t n, const char *name);
/* True when the provider can be used: it has a key, or needs none. */
int provider_usable(const struct provider *p);

#endif
