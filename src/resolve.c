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
	/* Transcription and embedding models (natter transcribe, natter embed). */
	{ "whisper-1", "openai" },
	{ "whisper-large", "groq" },
	{ "distil-whisper", "groq" },
	{ "text-embedding-3", "openai" },
	{ "text-embedding-ada", "openai" },
	{ "text-embedding-0", "gemini" },
	{ "embedding-0", "gemini" },
	{ "nomic-embed", "ollama" },
	{ "mxbai-embed", "ollama" },
	{ "all-minilm", "ollama" },
	{ "snowflake-arctic-embed", "ollama" },
};

/* True when model m may serve a request for kind: its own kind, a made-up model (taken
 * as the kind asked for), or a gemini chat model for a transcription. */
static int
resolve_kind_fits(const struct model *m, int kind)
{
	if (m->synthesized || (int)m->kind == kind)
		return 1;
	return kind == MODEL_TRANSCRIPTION && m->kind == MODEL_CHAT && m->provider != NULL &&
	    strcmp(m->provider->protocol, "gemini") == 0;
}

/* The first configured model of provider p for kind: one of that very kind, else one that
 * fits it; NULL when none. */
static struct model *
resolve_first(struct config *c, const struct provider *p, int kind)
{
	size_t i;

	for (i = 0; i < c->nmodels; i++)
		if (c->models[i].provider == p && (int)c->models[i].kind == kind)
			return &c->models[i];
	for (i = 0; i < c->nmodels; i++)
		if (c->models[i].provider == p && resolve_kind_fits(&c->models[i], kind))
			return &c->models[i];
	return NULL;
}

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
		if ((out->model = resolve_first(c, p, out->kind)) != NULL)
			return out->status = RESOLVE_OK;
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

/* Rule 1 for a kind other than chat: the first configured model of that kind whose
 * provider is offered. */
static enum resolve_status
resolve_default_kind(struct config *c, struct resolved *out)
{
	size_t i;

	out->defaulted = 1;
	for (i = 0; i < c->nmodels; i++)
		if (c->models[i].provider != NULL && (int)c->models[i].kind == out->kind) {
			out->model = &c->models[i];
			out->provider_name = c->models[i].provider_name;
			return out->status = RESOLVE_OK;
		}
	return out->status = RESOLVE_NO_MODEL;
}

/* The rules of resolve.h, but for the kind check. */
static enum resolve_status
resolve_rules(struct config *c, const char *spec, const struct resolve_ctx *ctx,
    struct resolved *out)
{
	const char *slash;
	struct model *m;
	struct provider *p;
	size_t i;

	if (spec != NULL && *spec == '\0')
		spec = NULL;
	if (ctx->provider != NULL && *ctx->provider != '\0')
		return resolve_on(c, ctx->provider, strlen(ctx->provider), spec, out);
	if (spec == NULL && out->kind != MODEL_CHAT)
		return resolve_default_kind(c, out);
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

/* Resolve spec as the rules in resolve.h say, refusing a model of another kind. */
enum resolve_status
resolve_model(struct config *c, const char *spec, const struct resolve_ctx *ctx,
    struct resolved *out)
{
	static const struct resolve_ctx none;

	memset(out, 0, sizeof(*out));
	if (ctx == NULL)
		ctx = &none;
	out->kind = ctx->kind;
	if (resolve_rules(c, spec, ctx, out) == RESOLVE_OK &&
	    !resolve_kind_fits(out->model, out->kind))
		out->status = RESOLVE_WRONG_KIND;
	return out->status;
}

/* What a kind of model is called in messages, and the command that uses it. */
static const char *
resolve_kind_name(int kind, const char **command)
{
	switch (kind) {
	case MODEL_TRANSCRIPTION:
		*command = "natter transcribe";
		return "transcription";
	case MODEL_EMBEDDING:
		*command = "natter embed";
		return "embedding";
	default:
		*command = "a chat";
		return "chat";
	}
}

/* Why no model of r's kind is usable: the providers that have one, and why each is off. */
static char *
resolve_no_kind(const struct config *c, const struct resolved *r)
{
	struct buf b = BUF_INIT;
	const char *cmd, *what = resolve_kind_name(r->kind, &cmd);
	size_t i, j, n = 0;

	buf_printf(&b, "no %s model is usable", what);
	for (i = 0; i < c->ndisabled; i++) {
		for (j = 0; j < c->nmodels; j++)
			if ((int)c->models[j].kind == r->kind && c->models[j].provider_name != NULL &&
			    strcmp(c->models[j].provider_name, c->disabled[i].name) == 0)
				break;
		if (j < c->nmodels)
			buf_printf(&b, "%s%s: %s", n++ == 0 ? " (" : "; ", c->disabled[i].name,
			    c->disabled[i].reason);
	}
	buf_printf(&b, "%s; name one with -m, or give a model models.*.kind: %s",
	    n > 0 ? ")" : "", what);
	return buf_detach(&b);
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
	case RESOLVE_WRONG_KIND: {
		const char *cmd_is, *cmd_want, *is = resolve_kind_name((int)r->model->kind, &cmd_is);
		const char *want = resolve_kind_name(r->kind, &cmd_want);

		return xasprintf("%s is a%s %s model (for %s), not a%s %s model", r->model->name,
		    is[0] == 'e' ? "n" : "", is, cmd_is, want[0] == 'e' ? "n" : "", want);
	}
	case RESOLVE_NO_MODEL:
		if (r->kind != MODEL_CHAT && r->provider_name == NULL)
			return resolve_no_kind(c, r);
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
