/*
 * One model resolver for every front end: the interface's -m and /model, /compare, `natter
 * ask -m/-p` and `natter compare -m` all turn what the user typed into a model the same way,
 * so a name that works in one works in all. The rules, first match wins:
 *
 *   1. nothing typed          the explicit provider's first configured model, else the
 *                             config's default model
 *   2. an explicit provider   (ask -p P) the spec is a model of P: a configured one called
 *                             so, else the id P is sent as is
 *   3. a configured name      a model's name or alias, with the provider it names
 *   4. PROVIDER/ID            P is any configured provider (offered or not); the id may
 *                             contain further slashes (openrouter/anthropic/claude-x)
 *   5. a provider name        the current model when that is the current provider, else
 *                             its first configured model
 *   6. a family prefix        gpt-*, o1/o3/o4*, claude*, gemini*, deepseek* go to their
 *                             maker's provider, for ids the config does not list yet
 *   7. the current provider   (the interface) an unknown id is sent to it as is, unless
 *                             it is a near miss of a configured name, alias or id (an
 *                             edit or two: "sonet" for "sonnet"), which is refused with
 *                             the suggestion; PROVIDER/ID sends such an id all the same
 *
 * Each front end asks for a kind of model (models.*.kind): chat by default, transcription
 * for natter transcribe, embedding for natter embed. Rules 1, 2 and 5 then take the first
 * model of that kind (of the provider, or of the config; for transcription a gemini chat
 * model will do when the provider has no transcription model, since Gemini transcribes
 * through generateContent), and a configured model of another kind is refused with
 * RESOLVE_WRONG_KIND, saying what it is for. Ids the config does not list are taken as
 * the kind asked for.
 *
 * A model whose provider is configured but not offered (no key, no address) resolves with
 * RESOLVE_PROVIDER_OFF and the reason, so each front end can say "set OPENAI_API_KEY"
 * rather than "unknown model". A configured model left out for errors in its entry is
 * RESOLVE_UNKNOWN_MODEL (no rule guesses at it), and the message says why. Results point
 * into the config, which must outlive them.
 */
#ifndef NATTER_RESOLVE_H
#define NATTER_RESOLVE_H

struct config;
struct config_disabled;
struct model;
struct provider;

enum resolve_status {
	RESOLVE_OK,
	RESOLVE_UNKNOWN_PROVIDER, /* an explicit provider the config does not have */
	RESOLVE_PROVIDER_OFF,     /* the provider is configured but not offered */
	RESOLVE_NO_MODEL,         /* a provider alone, and it has no configured model */
	RESOLVE_UNKNOWN_MODEL,    /* nothing matched */
	RESOLVE_EMPTY,            /* "PROVIDER/" with no id */
	RESOLVE_WRONG_KIND,       /* a configured model of another kind (model is set) */
};

/* What the front end knows besides the spec; every field may be NULL. */
struct resolve_ctx {
	const char *provider;             /* an explicit provider (ask -p) */
	const struct provider *current;   /* the interface's current provider (rule 7) */
	const char *current_model;        /* its model id */
	int kind;                         /* enum model_kind (config.h): the kind wanted;
	                                   * 0, MODEL_CHAT, when none is said */
};

struct resolved {
	enum resolve_status status;
	struct model *model;              /* RESOLVE_OK: never NULL; PROVIDER_OFF: when known */
	const char *provider_name;        /* the provider it belongs to, when known */
	const struct config_disabled *off;/* PROVIDER_OFF: why, when the config says */
	const char *suggest;              /* UNKNOWN_MODEL: the nearest configured name, alias
	                                   * or id, when one is close enough to be a typo */
	int defaulted;                    /* rule 1 chose the config's default model */
	int kind;                         /* the kind that was asked for (resolve_ctx) */
};

/* Resolve spec (NULL or "" for none) against config c; fills *out and returns its status. */
enum resolve_status resolve_model(struct config *c, const char *spec,
    const struct resolve_ctx *ctx, struct resolved *out);
/* One line saying why r did not resolve spec (caller frees), e.g. "no key for openai: set
 * OPENAI_API_KEY"; NULL for RESOLVE_OK. */
char *resolve_message(const struct config *c, const char *spec, const struct resolved *r);

#endif
