/*
 * The command-line plumbing of natter transcribe and natter embed (media.h). The model is
 * resolved as ask resolves it, only for the command's kind; a provider left out for want
 * of an address is offered when --base-url gives one. Messages quote providers, so each
 * goes through the one-line sanitizer.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apierr.h"
#include "buf.h"
#include "cmd.h"
#include "config.h"
#include "media.h"
#include "provider.h"
#include "resolve.h"
#include "text.h"
#include "worker.h"
#include "xmalloc.h"

/* Offer the provider --base-url is for (-p, or the PROVIDER of PROVIDER/ID) when the
 * config has it but left it out. */
static void
media_offer(struct config *cfg, const char *spec, const char *provider)
{
	const char *slash;
	char *prefix = NULL;

	if (provider == NULL && spec != NULL && (slash = strchr(spec, '/')) != NULL)
		provider = prefix = xstrndup(spec, (size_t)(slash - spec));
	if (provider != NULL && config_provider(cfg, provider) == NULL)
		config_offer(cfg, provider);
	free(prefix);
}

/* Resolve the model of kind and apply --base-url to its provider. */
struct model *
media_model(struct config *cfg, const char *spec, const char *provider, int kind,
    const char *base_url, const char *who, int *rc)
{
	struct resolve_ctx ctx = { provider, NULL, NULL, kind };
	struct resolved r;
	struct buf line = BUF_INIT;
	char *msg, *url;
	struct provider *p;

	if (base_url != NULL)
		media_offer(cfg, spec, provider);
	if (resolve_model(cfg, spec, &ctx, &r) != RESOLVE_OK) {
		msg = resolve_message(cfg, spec, &r);
		fprintf(stderr, "natter: %s: %s\n", who, text_line(&line, msg));
		free(msg);
		buf_free(&line);
		*rc = r.status == RESOLVE_PROVIDER_OFF ? EXIT_PROVIDER : EXIT_USAGE;
		return NULL;
	}
	p = r.model->provider;
	if (base_url != NULL) {
		url = xstrdup(base_url);
		while (url[0] != '\0' && url[strlen(url) - 1] == '/')
			url[strlen(url) - 1] = '\0';
		free(p->base_url);
		p->base_url = url;
	}
	if (!provider_usable(p)) {
		fprintf(stderr, "natter: %s: %s has no key (set %s)\n", who, p->name,
		    p->key_env != NULL ? p->key_env : "its API key");
		*rc = EXIT_PROVIDER;
		return NULL;
	}
	return r.model;
}

/* Say that a request is retried, waits for a key, or moves to the next key. */
void
media_retry(const struct provider *p, const struct wevent *ev)
{
	struct buf line = BUF_INIT;
	char *why = ev->error != NULL ? apierr_format(ev->error) : xstrdup("error");

	text_sanitize_line(why, strlen(why), &line);
	if (ev->key_wait)
		fprintf(stderr, "natter: %s; waiting %.0fs\n", buf_str(&line),
		    (double)ev->delay_ms / 1000.0);
	else if (ev->rotated)
		fprintf(stderr, "natter: %s; trying the next key of %s\n", buf_str(&line), p->name);
	else
		fprintf(stderr, "natter: %s; retrying in %.1fs (attempt %d/%d)\n", buf_str(&line),
		    (double)ev->delay_ms / 1000.0, ev->attempt, p->max_retries + 1);
	free(why);
	buf_free(&line);
}

/* Say why a request failed, and what to do about it. */
void
media_error(const struct provider *p, const struct apierr *e)
{
	struct buf line = BUF_INIT;
	char *hint = apierr_advice(e), *f = apierr_format(e);

	text_sanitize_line(f, strlen(f), &line);
	fprintf(stderr, "natter: %s: %s\n", p->name, buf_str(&line));
	if (e->cls == APIERR_AUTH && p->key_env != NULL)
		fprintf(stderr, "natter: set %s to a valid key for %s\n", p->key_env, p->name);
	else if (e->kind == APIERR_TRANSPORT && e->cls == APIERR_CONNECTION)
		fprintf(stderr, "natter: could not reach %s%s\n", p->base_url,
		    p->local ? " (is the server running?)" : "");
	else if (hint != NULL)
		fprintf(stderr, "natter: %s\n", hint);
	free(f);
	free(hint);
	buf_free(&line);
}
