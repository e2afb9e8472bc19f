/*
 * The model resolver (rules in resolve.h). It only looks things up: the config makes up a
 * model with safe defaults for an id it does not list (config_model), and this file decides
 * which provider such an id belongs to.
 */
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "config.h"
#include "provider.h"
#include "resolve.h"
#include "xmalloc.h"

/* The provider a bare id obviously belongs to, by the maker's naming. */
static const struct {
	const char *prefix;
	const char *provider;
} resolve_families[] = {
	{ "gpt-", "openai" },
	{ "chatgpt-", "openai" },
	{ "o1", "openai" },
	{ "o3", "openai" },
	{ "o4", "openai" },
	{ "claude", "anthropic" },
	{ "gemini", "gemini" },
	{ "deepseek", "deepseek" },
};

/* The configured-but-off provider called name, or NULL. */
static const struct config_disabled *
resolve_disabled(const struct config *c, const char *name, size_t n)
{
	size_t i;

	for (i = 0; i < c->ndisabled; i++)
		if (strlen(c->disabled[i].name) == n && strncmp(c->disabled[i].name, name, n) == 0)
			return &c->disabled[i];
	return NULL;
}

/* The offered provider whose name is the n bytes at name, or NULL. */
static struct provider *
resolve_offered(const struct config *c, const char *name, size_t n)
{
	size_t i;

	for (i = 0; i < c->nproviders; i++)
		if (strlen(c->providers[i]->name) == n &&
		    strncmp(c->providers[i]->name, name, n) == 0)
			return c->providers[i];
	return NULL;
}

/* The configured (not made-up) model called name or aliased so, or NULL. */
static struct model *
resolve_configured(struct config *c, const char *name)
{
	struct model *m = config_model(c, name);

	return m != NULL && !m->synthesized ? m : NULL;
}

/* Mark out as "provider off" for provider pname (n bytes). */
static enum resolve_status
resolve_off(const struct config *c, const char *pname, size_t n, struct resolved *out)
{
	out->off = resolve_disabled(c, pname, n);
	out->provider_name = out->off != NULL ? out->off->name : NULL;
	return out->status = RESOLVE_PROVIDER_OFF;
}

/* Rule 2 and 4: id on the provider named by the n bytes at pname (offered or off). */
static enum resolve_status
resolve_on(struct config *c, const char *pname, size_t n, const char *id, struct resolved *out)
{
	struct provider *p = resolve_offered(c, pname, n);
	struct model *m;
	size_t i;
	char *full;

	if (p == NULL) {
		if (resolve_disabled(c, pname, n) == NULL)
			return out->status = RESOLVE_UNKNOWN_PROVIDER;
		/* A configured model of the off provider still tells the front end its name. */
		for (i = 0; i < c->nmodels; i++)
			if (c->models[i].provider_name != NULL &&
			    strlen(c->models[i].provider_name) == n &&
			    strncmp(c->models[i].provider_name, pname, n) == 0 &&
			    (id == NULL || strcmp(c->models[i].id, id) == 0 ||
			    strcmp(c->models[i].name, id) == 0))
				out->model = &c->models[i];
		return resolve_off(c, pname, n, out);
	}
	out->provider_name = p->name;
	if (id == NULL) {
		for (i = 0; i < c->nmodels; i++)
			if (c->models[i].provider == p) {
				out->model = &c->models[i];
				return out->status = RESOLVE_OK;
			}
		return out->status = RESOLVE_NO_MODEL;
	}
	if (*id == '\0')
		return out->status = RESOLVE_EMPTY;
	if ((m = resolve_configured(c, id)) != NULL && m->provider == p) {
		out->model = m;
		return out->status = RESOLVE_OK;
	}
	out->model = config_model_of(c, p->name, id);
	if (out->model == NULL) {
		full = xasprintf("%s/%s", p->name, id);
		out->model = config_model(c, full);
		free(full);
	}
	return out->status = out->model != NULL ? RESOLVE_OK : RESOLVE_UNKNOWN_MODEL;
}

/* Rule 3: a configured model, or its provider off. */
static enum resolve_status
resolve_named(const struct config *c, struct model *m, struct resolved *out)
{
	out->model = m;
	out->provider_name = m->provider_name;
	if (m->provider == NULL)
		return resolve_off(c, m->provider_name ? m->provider_name : "",
		    m->provider_name ? strlen(m->provider_name) : 0, out);
	return out->status = RESOLVE_OK;
}

/* The nearest configured model name, alias or id to word, or NULL. The edit distance
 * (config_nearest: Damerau-Levenshtein, so a swap of neighbours is one edit) must be
 * within about a third of the word's length. */
static const char *
resolve_nearest(const struct config *c, const char *word)
{
	size_t i, j, k = 0, total = 0;
	const char **names, *near;

	for (i = 0; i < c->nmodels; i++)
		total += 2 + c->models[i].naliases;
	names = xcalloc(total + 1, sizeof(*names));
	for (i = 0; i < c->nmodels; i++) {
		names[k++] = c->models[i].name;
		for (j = 0; j < c->models[i].naliases; j++)
			names[k++] = c->models[i].aliases[j];
		if (strcmp(c->models[i].id, c->models[i].name) != 0)
			names[k++] = c->models[i].id;
	}
	near = config_nearest(word, names, k);
	free(names);
	return near;
}

/* True when spec is some configured model's id, a name a provider is meant to take. */
static int
resolve_is_id(const struct config *c, const char *spec)
{
	size_t i;

	for (i = 0; i < c->nmodels; i++)
		if (strcmp(c->models[i].id, spec) == 0)
			return 1;
	return 0;
}

/* Resolve spec as the rules in resolve.h say. */
enum resolve_status
resolve_model(struct config *c, const char *spec, const struct resolve_ctx *ctx,
    struct resolved *out)
{
	static const struct resolve_ctx none;
	const char *slash;
	struct model *m;
	struct provider *p;
	size_t i;

	memset(out, 0, sizeof(*out));
	if (ctx == NULL)
		ctx = &none;
	if (spec != NULL && *spec == '\0')
		spec = NULL;
	if (ctx->provider != NULL && *ctx->provider != '\0')
		return resolve_on(c, ctx->provider, strlen(ctx->provider), spec, out);
	if (spec == NULL) {
		out->defaulted = 1;
		spec = c->default_model;
		if (spec == NULL)
			return out->status = RESOLVE_NO_MODEL;
	}
	if ((m = resolve_configured(c, spec)) != NULL)
		return resolve_named(c, m, out);
	/* A configured model left out for errors is not guessed at by the rules below. */
	if (config_left_out(c, spec))
		return out->status = RESOLVE_UNKNOWN_MODEL;
	if ((slash = strchr(spec, '/')) != NULL &&
	    (resolve_offered(c, spec, (size_t)(slash - spec)) != NULL ||
	    resolve_disabled(c, spec, (size_t)(slash - spec)) != NULL))
		return resolve_on(c, spec, (size_t)(slash - spec), slash + 1, out);
	if ((p = resolve_offered(c, spec, strlen(spec))) != NULL) {
		if (ctx->current == p && ctx->current_model != NULL && *ctx->current_model)
			return resolve_on(c, spec, strlen(spec), ctx->current_model, out);
		return resolve_on(c, spec, strlen(spec), NULL, out);
	}
	if (resolve_disabled(c, spec, strlen(spec)) != NULL)
		return resolve_on(c, spec, strlen(spec), NULL, out);
	for (i = 0; i < sizeof(resolve_families) / sizeof(resolve_families[0]); i++)
		if (strncmp(spec, resolve_families[i].prefix, strlen(resolve_families[i].prefix)) == 0)
			return resolve_on(c, resolve_families[i].provider,
			    strlen(resolve_families[i].provider), spec, out);
	/* A near miss of a configured name ("sonet") is a typo, not an id for the current
	 * provider: say so rather than send it (PROVIDER/ID still sends anything as is). */
	out->suggest = resolve_nearest(c, spec);
	if (ctx->current != NULL && (out->suggest == NULL || resolve_is_id(c, spec))) {
		out->suggest = NULL;
		return resolve_on(c, ctx->current->name, strlen(ctx->current->name), spec, out);
	}
	return out->status = RESOLVE_UNKNOWN_MODEL;
}

/* Say why r did not resolve spec. */
char *
resolve_message(const struct config *c, const char *spec, const struct resolved *r)
{
	const struct config_disabled *d = r->off;
	const struct provider *dp = d != NULL ? d->provider : NULL;
	const char *what = spec != NULL && *spec ? spec : "the default model";

	switch (r->status) {
	case RESOLVE_OK:
		return NULL;
	case RESOLVE_UNKNOWN_PROVIDER: {
		struct buf b = BUF_INIT;
		size_t i;

		buf_printf(&b, "unknown provider in '%s' (known:", what);
		for (i = 0; i < c->nproviders; i++)
			buf_printf(&b, " %s", c->providers[i]->name);
		for (i = 0; i < c->ndisabled; i++)
			buf_printf(&b, " %s", c->disabled[i].name);
		buf_puts(&b, ")");
		return buf_detach(&b);
	}
	case RESOLVE_PROVIDER_OFF:
		if (dp != NULL && !dp->local && dp->key_env != NULL)
			return xasprintf("no key for %s: set %s", d->name, dp->key_env);
		if (d != NULL)
			return xasprintf("%s is not available: %s", d->name, d->reason);
		return xasprintf("%s: provider %s is not configured", what,
		    r->provider_name ? r->provider_name : "?");
	case RESOLVE_NO_MODEL:
		return xasprintf("no model for %s: name one (natter models %s lists them)",
		    r->provider_name ? r->provider_name : what,
		    r->provider_name ? r->provider_name : "");
	case RESOLVE_EMPTY:
		return xasprintf("'%s' names no model", what);
	case RESOLVE_UNKNOWN_MODEL:
		if (spec != NULL && config_left_out(c, spec))
			return xasprintf("model '%s' is left out: its configuration has errors "
			    "(natter config check)", spec);
		break;
	}
	return xasprintf("unknown model '%s'%s%s%s; use PROVIDER/MODEL for one the config does "
	    "not list (natter models shows them)", what, r->suggest ? ", did you mean '" : "",
	    r->suggest ? r->suggest : "", r->suggest ? "'?" : "");
}
