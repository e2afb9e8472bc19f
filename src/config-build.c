/*
 * Building struct config from the merged, validated tree (config.c made it): providers
 * with their key pools (literal keys, key_cmd, variables), models with their limits,
 * templates with extends: resolved, bindings, the default model; then the cross-checks
 * that need every name (a model's provider, fallbacks, aliases, a template's parent and
 * model). Each provider, model, template or binding with an error is left out and the
 * rest kept. The lookups the rest of natter uses (config_model, config_provider, ...)
 * live here too, beside what they look up.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "attach.h"
#include "buf.h"
#include "config-tree.h"
#include "keycmd.h"
#include "keypool.h"
#include "mcp.h"
#include "params.h"
#include "provider.h"
#include "secret.h"
#include "store.h"
#include "template.h"
#include "text.h"
#include "xmalloc.h"

/* A context policy by name, or dflt when s is NULL or unknown (the schema checked it). */
static enum context_policy
config_policy(const char *s, enum context_policy dflt)
{
	if (s == NULL)
		return dflt;
	if (strcmp(s, "summarize") == 0)
		return CONTEXT_SUMMARIZE;
	if (strcmp(s, "refuse") == 0)
		return CONTEXT_REFUSE;
	if (strcmp(s, "drop") == 0)
		return CONTEXT_DROP;
	return dflt;
}

/* A notify: value by name (the schema checked it; NULL or unknown: auto). */
static enum config_notify
config_notify_of(const char *s)
{
	static const char *const names[] = { "auto", "bell", "osc9", "osc777", "off" };
	size_t i;

	for (i = 0; s != NULL && i < sizeof names / sizeof names[0]; i++)
		if (strcmp(s, names[i]) == 0)
			return (enum config_notify)i;
	return NOTIFY_AUTO;
}

/* The policy for model m. */
enum context_policy
config_context_policy(const struct config *c, const struct model *m)
{
	return m != NULL && m->context_policy != CONTEXT_INHERIT ? m->context_policy :
	    c->context_policy;
}

/* A scalar of section n with the schema default of pattern.key when absent. */
static const char *
config_get(const struct cnode *n, const char *pattern, const char *key)
{
	const char *v = cnode_str(n, key);
	char *p;

	if (v != NULL)
		return v;
	p = config_join(pattern, key);
	v = config_default(p);
	free(p);
	return v;
}

/* A number from section n (schema default applied), or dflt. */
static double
config_getnum(const struct cnode *n, const char *pattern, const char *key, double dflt)
{
	const char *s = config_get(n, pattern, key);
	double v;

	return s != NULL && config_number(s, &v) == 0 ? v : dflt;
}

/* Strings of a CONFIG_STRINGS node into a fresh array. */
static char **
config_strings(const struct cnode *n, size_t *count)
{
	char **v;
	size_t i;

	*count = 0;
	if (n == NULL || n->kind == CN_NULL)
		return NULL;
	if (n->kind == CN_SCALAR) {
		v = xcalloc(1, sizeof *v);
		v[0] = xstrdup(n->value);
		*count = 1;
		return v;
	}
	v = xcalloc(n->nkids + 1, sizeof *v);
	for (i = 0; i < n->nkids; i++)
		v[i] = xstrdup(n->kids[i]->value);
	*count = n->nkids;
	return v;
}

/* Free an array of count strings. */
static void
config_strings_free(char **v, size_t count)
{
	size_t i;

	for (i = 0; i < count; i++)
		free(v[i]);
	free(v);
}

/* The ATTACH_IN_* bits of a validated models.*.input (text always: every model reads it). */
static unsigned
config_input(const struct cnode *n)
{
	char **v;
	size_t i, k;
	unsigned bits = ATTACH_IN_TEXT;

	v = config_strings(n, &k);
	for (i = 0; i < k; i++)
		bits |= attach_input_bit(v[i]);
	config_strings_free(v, k);
	return bits;
}

/* Fill p from a validated parameter block. */
static void
config_params(struct loader *ld, const struct cnode *n, struct params *p)
{
	size_t i, j;
	char *err = NULL;

	if (n == NULL || n->kind != CN_MAP)
		return;
	for (i = 0; i < n->nkids; i++) {
		const struct cnode *k = n->kids[i];

		if (k->kind == CN_NULL)
			continue;
		if (strcmp(k->key, "stop") == 0) {
			params_unset(p, "stop");
			if (k->kind == CN_SCALAR) {
				if (params_set(p, "stop", k->value, &err) < 0)
					config_at(ld, k, "%s", err);
			} else {
				for (j = 0; j < k->nkids && err == NULL; j++)
					if (params_set(p, "stop", k->kids[j]->value, &err) < 0)
						config_at(ld, k->kids[j], "%s", err);
			}
		} else if (k->kind == CN_SCALAR && params_set(p, k->key, k->value, &err) < 0) {
			config_at(ld, k, "%s", err);
		}
		free(err);
		err = NULL;
	}
}

/* NAME_API_KEY for a provider called name. */
static char *
config_key_env(const char *name)
{
	char *s = xasprintf("%s_API_KEY", name), *p;

	for (p = s; *p != '\0'; p++) {
		if (*p >= 'a' && *p <= 'z')
			*p = (char)(*p - 'a' + 'A');
		else if (!((*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9')))
			*p = '_';
	}
	return s;
}

/* Run a key command once (within timeout_s) and return its first line, or NULL after
 * reporting why not at node at. */
static char *
config_run_key_cmd(struct loader *ld, const struct cnode *at, const char *cmd,
    double timeout_s)
{
	char *key, *why;

	if (keycmd_run(cmd, timeout_s, &key, &why) == 0)
		return key;
	config_at(ld, at, "key_cmd '%s' %s", cmd, why);
	free(why);
	return NULL;
}

/* Record a warning at node n, as one terminal-safe line. */
static void
config_warn(struct config *c, const struct cnode *n, const char *msg)
{
	struct buf b = BUF_INIT;
	char *w = xasprintf("%s:%d:%d: warning: %s", n->file, n->line, n->col, msg);

	text_sanitize_line(w, strlen(w), &b);
	free(w);
	c->warnings = xrealloc(c->warnings, (c->nwarnings + 1) * sizeof *c->warnings);
	c->warnings[c->nwarnings++] = buf_detach(&b);
}

/* True when file can be read by group or others. */
static int
config_file_exposed(const char *file)
{
	struct stat st;

	return stat(file, &st) == 0 && (st.st_mode & 077) != 0;
}

/* Collect one key source (literal, key_cmd or env) of section n into pool: 1 when it gave
 * a key, 0 when it gave none (an unset variable), -1 when its key_cmd failed. */
static int
config_key_source(struct loader *ld, struct keypool *pool, const struct cnode *n,
    const char *pname, long rpm, long rpd, long tpm, int allow_default_env, double cmd_timeout)
{
	const struct cnode *lit = cnode_get(n, "key"), *cmd = cnode_get(n, "key_cmd");
	const char *env = cnode_str(n, "key_env"), *v;
	char *dflt = NULL, *secret, *src;
	int found = 0;

	if (lit != NULL && lit->kind == CN_SCALAR) {
		if (config_file_exposed(lit->file))
			config_warn(ld->cfg, lit, "literal key in a file readable by group or "
			    "others; chmod 600 it or use key_env or key_cmd");
		keypool_add(pool, lit->value, "literal", rpm, rpd, tpm);
		return 1;
	}
	if (cmd != NULL && cmd->kind == CN_SCALAR) {
		if (ld->flags & CONFIG_NO_KEYCMD)
			return 1;
		secret = config_run_key_cmd(ld, cmd, cmd->value, cmd_timeout);
		if (secret != NULL) {
			keypool_add(pool, secret, "key_cmd", rpm, rpd, tpm);
			memset(secret, 0, strlen(secret));
			free(secret);
			return 1;
		}
		return -1;
	}
	if (env == NULL && allow_default_env)
		env = dflt = config_key_env(pname);
	if (env != NULL && (v = getenv(env)) != NULL && *v != '\0') {
		src = xasprintf("env %s", env);
		keypool_add(pool, v, src, rpm, rpd, tpm);
		free(src);
		found = 1;
	}
	free(dflt);
	return found;
}

/* The conventional API root of a protocol, for providers that omit base_url. */
static const char *
config_default_url(const char *protocol)
{
	if (strcmp(protocol, "openai") == 0)
		return "https://api.openai.com/v1";
	if (strcmp(protocol, "anthropic") == 0)
		return "https://api.anthropic.com/v1";
	if (strcmp(protocol, "gemini") == 0)
		return "https://generativelanguage.googleapis.com/v1beta";
	if (strcmp(protocol, "ollama") == 0)
		return "http://localhost:11434";
	return "";
}

/* The variable(s) a provider's key comes from, for hints: key_env, else those of its keys:
 * list joined with " or ", else NAME_API_KEY; NULL for a local server without one. */
static char *
config_key_hint(const struct cnode *n, int local)
{
	const struct cnode *keys = cnode_get(n, "keys");
	struct buf b = BUF_INIT;
	const char *e;
	size_t i;

	if (cnode_str(n, "key_env") != NULL)
		return xstrdup(cnode_str(n, "key_env"));
	for (i = 0; keys != NULL && keys->kind == CN_LIST && i < keys->nkids; i++)
		if ((e = cnode_str(keys->kids[i], "key_env")) != NULL)
			buf_printf(&b, "%s%s", b.len > 0 ? " or " : "", e);
	if (b.len > 0)
		return buf_detach(&b);
	buf_free(&b);
	return local ? NULL : config_key_env(n->key);
}

/* Note that provider name is configured but not offered; p (owned, may be NULL) is kept so
 * that a command line naming the missing address (--base-url) can still use it. */
static void
config_disable(struct config *c, const char *name, char *reason, struct provider *p)
{
	c->disabled = xrealloc(c->disabled, (c->ndisabled + 1) * sizeof *c->disabled);
	c->disabled[c->ndisabled].name = xstrdup(name);
	c->disabled[c->ndisabled].reason = reason;
	c->disabled[c->ndisabled].provider = p;
	c->ndisabled++;
}

/* A positive number from environment variable name, or -1 when unset or malformed. */
double
config_env_number(const char *name)
{
	const char *v = getenv(name);
	char *end;
	double d;

	if (v == NULL || *v == '\0')
		return -1;
	errno = 0;
	d = strtod(v, &end);
	return *end == '\0' && errno == 0 && d >= 0 && d < 1e12 ? d : -1;
}

/* Apply the NATTER_* variables that override every provider for one run, so a script can
 * change a timeout without writing a config file. */
static void
config_env_overrides(struct provider *p)
{
	const char *v;
	double d;

	if ((d = config_env_number("NATTER_CONNECT_TIMEOUT_MS")) > 0)
		p->connect_timeout_ms = (long)d;
	if ((d = config_env_number("NATTER_IDLE_TIMEOUT_MS")) > 0)
		p->idle_timeout_ms = (long)d;
	if ((d = config_env_number("NATTER_FIRST_TOKEN_TIMEOUT_MS")) >= 0)
		p->first_token_timeout_ms = (long)d;
	if ((d = config_env_number("NATTER_MAX_RETRIES")) >= 0 && d <= 99)
		p->max_retries = (int)d;
	if ((v = getenv("NATTER_PROXY")) != NULL && *v != '\0') {
		free(p->proxy);
		p->proxy = xstrdup(v);
	}
	if ((v = getenv("NATTER_CA_BUNDLE")) != NULL && *v != '\0') {
		free(p->ca_bundle);
		p->ca_bundle = xstrdup(v);
	}
	if (strcmp(p->protocol, "simulated") == 0 && (d = config_env_number("NATTER_SIM_RATE")) >= 0)
		p->sim_tokens_per_s = d;
}

/* Register the credential of a configured header ("Authorization: Bearer X" gives the
 * whole value and X) so that an echo of it is scrubbed like a key. */
static void
config_header_secret(const char *name, const char *value)
{
	const char *sp;

	if (value == NULL || !config_show_secret_header(name))
		return;
	secret_add(value);
	if ((sp = strrchr(value, ' ')) != NULL)
		secret_add(sp + 1);
}

/* Build one provider from its section; offered ones go into c->providers. */
static void
config_build_provider(struct loader *ld, const struct cnode *n)
{
	static const char *pat = "providers.*";
	struct config *c = ld->cfg;
	const char *protocol = cnode_str(n, "protocol"), *url, *addr_env, *addr = NULL;
	const char *enabled = config_get(n, pat, "enabled");
	const struct cnode *keys, *hdrs;
	struct keypool *pool;
	struct provider *p;
	long rpm, rpd, tpm;
	int local, nsources = 0, failed = 0, got;
	double cmd_timeout;
	size_t i;
	char *line, *env, *reason = NULL;

	/* A wrong value may be the base_url or key_env that decides where a key is sent: a
	 * provider with any error is left out whole, and none of its key commands runs. */
	if (n->tainted || protocol == NULL) {
		if (!n->tainted)
			config_atkey(ld, n, "providers.%s: missing required key 'protocol'",
			    n->key);
		config_disable(c, n->key, xstrdup(CONFIG_LEFT_OUT), NULL);
		return;
	}
	if (strcmp(enabled, "false") == 0) {
		config_disable(c, n->key, xstrdup("disabled in the config"), NULL);
		return;
	}
	local = config_bool(config_get(n, pat, "local")) == 1 ||
	    strcmp(protocol, "simulated") == 0;
	url = cnode_str(n, "base_url");
	addr_env = cnode_str(n, "address_env");
	if (addr_env != NULL && (addr = getenv(addr_env)) != NULL && *addr != '\0')
		url = addr;
	else
		addr = NULL;
	if (url == NULL)
		url = config_default_url(protocol);
	pool = keypool_new(n->key);
	keypool_set_max_wait(pool, config_getnum(n, pat, "key_wait", 30));
	cmd_timeout = config_getnum(n, pat, "key_cmd_timeout", KEYCMD_TIMEOUT);
	rpm = (long)config_getnum(n, pat, "rpm", 0);
	rpd = (long)config_getnum(n, pat, "rpd", 0);
	tpm = (long)config_getnum(n, pat, "tpm", 0);
	keys = cnode_get(n, "keys");
	if (cnode_get(n, "key") != NULL || cnode_get(n, "key_cmd") != NULL ||
	    cnode_get(n, "key_env") != NULL || keys == NULL || keys->kind != CN_LIST) {
		got = config_key_source(ld, pool, n, n->key, rpm, rpd, tpm, keys == NULL && !local,
		    cmd_timeout);
		nsources += got > 0;
		failed += got < 0;
	}
	for (i = 0; keys != NULL && keys->kind == CN_LIST && i < keys->nkids; i++) {
		const struct cnode *k = keys->kids[i];

		got = config_key_source(ld, pool, k, n->key,
		    (long)config_getnum(k, "providers.*.keys[]", "rpm", (double)rpm),
		    (long)config_getnum(k, "providers.*.keys[]", "rpd", (double)rpd),
		    (long)config_getnum(k, "providers.*.keys[]", "tpm", (double)tpm), 0,
		    cmd_timeout);
		nsources += got > 0;
		failed += got < 0;
	}
	if (strcmp(enabled, "auto") == 0) {
		if (local && addr_env != NULL && addr == NULL) {
			reason = xasprintf("local server; set %s to its address", addr_env);
		} else if (!local && nsources == 0 && failed > 0) {
			/* Only the failed command could have given a key: that is the reason,
			 * not an unset variable. */
			config_disable(c, n->key, xstrdup("no key: its key_cmd failed"), NULL);
			keypool_free(pool);
			return;
		} else if (!local && nsources == 0) {
			env = config_key_hint(n, 0);
			reason = xasprintf("no key; set %s", env);
			free(env);
		}
	}
	/* OLLAMA_HOST is often host:port alone; libcurl needs the scheme. */
	if (addr != NULL && strstr(addr, "://") == NULL) {
		char *full = xasprintf("http://%s", addr);

		p = provider_new(n->key, protocol, full);
		free(full);
	} else {
		p = provider_new(n->key, protocol, url);
	}
	{
		size_t blen = strlen(p->base_url);

		while (blen > 0 && p->base_url[blen - 1] == '/')
			p->base_url[--blen] = '\0';
	}
	p->local = local;
	p->key_env = config_key_hint(n, local);
	p->connect_timeout_ms = (long)(config_getnum(n, pat, "connect_timeout", 10) * 1000);
	p->first_token_timeout_ms = (long)(config_getnum(n, pat, "first_token_timeout",
	    PROVIDER_FIRST_TOKEN_MS / 1000.0) * 1000);
	p->idle_timeout_ms = (long)(config_getnum(n, pat, "idle_timeout",
	    PROVIDER_IDLE_MS / 1000.0) * 1000);
	p->request_timeout_ms = (long)(config_getnum(n, pat, "request_timeout", 0) * 1000);
	p->max_retries = (int)config_getnum(n, pat, "max_retries", 2);
	p->max_retry_delay_s = config_getnum(n, pat, "max_retry_delay", 60);
	p->retry_total_ms = (long)(config_getnum(n, pat, "retry_total",
	    PROVIDER_RETRY_TOTAL_MS / 1000.0) * 1000);
	p->max_line = (size_t)(config_getnum(n, pat, "max_line", 16) * 1048576.0);
	p->max_attach = (size_t)(config_getnum(n, pat, "max_attachment", 0) * 1048576.0);
	p->sim_tokens_per_s = config_getnum(n, pat, "tokens_per_second", 0);
	p->embed_batch = (long)config_getnum(n, pat, "embed_batch", 0);
	p->embed_tokens = (long)config_getnum(n, pat, "embed_tokens", 0);
	if (cnode_str(n, "proxy") != NULL)
		p->proxy = xstrdup(cnode_str(n, "proxy"));
	if (cnode_str(n, "ca_bundle") != NULL)
		p->ca_bundle = xstrdup(cnode_str(n, "ca_bundle"));
	config_env_overrides(p);
	hdrs = cnode_get(n, "headers");
	for (i = 0; hdrs != NULL && hdrs->kind == CN_MAP && i < hdrs->nkids; i++) {
		line = xasprintf("%s: %s", hdrs->kids[i]->key,
		    hdrs->kids[i]->value != NULL ? hdrs->kids[i]->value : "");
		provider_add_header(p, line);
		config_header_secret(hdrs->kids[i]->key, hdrs->kids[i]->value);
		free(line);
	}
	/* Code that knows nothing of pools still finds the first key in the usual place. */
	if (keypool_count(pool) > 0)
		p->key = keypool_secret(pool, 0);
	if (reason != NULL) {
		/* Kept without its pool: only an explicit address on the command line revives
		 * it, and then the first key (if any) is all it needs. */
		keypool_free(pool);
		config_disable(c, n->key, reason, p);
		return;
	}
	p->pool = keypool_count(pool) > 0 ? pool : NULL;
	c->providers = xrealloc(c->providers, (c->nproviders + 1) * sizeof *c->providers);
	c->pools = xrealloc(c->pools, (c->nproviders + 1) * sizeof *c->pools);
	c->providers[c->nproviders] = p;
	c->pools[c->nproviders] = pool;
	c->nproviders++;
}

/* Free one model's contents. */
static void
config_model_clear(struct model *m)
{
	free(m->name);
	free(m->id);
	free(m->provider_name);
	free(m->display_name);
	config_strings_free(m->efforts, m->nefforts);
	config_strings_free(m->aliases, m->naliases);
	config_strings_free(m->fallback, m->nfallback);
	params_free(&m->defaults);
}

/* The offered provider called name, or NULL. */
struct provider *
config_provider(const struct config *c, const char *name)
{
	size_t i;

	for (i = 0; i < c->nproviders; i++)
		if (strcmp(c->providers[i]->name, name) == 0)
			return c->providers[i];
	return NULL;
}

/* The key pool of an offered provider, or NULL. */
struct keypool *
config_pool(const struct config *c, const struct provider *p)
{
	size_t i;

	for (i = 0; i < c->nproviders; i++)
		if (c->providers[i] == p || strcmp(c->providers[i]->name, p->name) == 0)
			return c->pools[i];
	return NULL;
}

/* Point every pool at the state file beside the database db (NULL: the default). */
void
config_share_pools(struct config *c, const char *db)
{
	char *path = db != NULL ? xstrdup(db) : store_default_path(), *state = NULL;
	size_t i;

	/* A database in memory has no place beside it: such a natter shares nothing. */
	if (strcmp(path, ":memory:") != 0 && strncmp(path, "file:", 5) != 0)
		state = xasprintf("%s-keypool", path);
	for (i = 0; i < c->nproviders; i++)
		if (c->pools[i] != NULL)
			keypool_set_state(c->pools[i], state);
	free(state);
	free(path);
}

/* Report a model's provider that names no configured provider, with the nearest one. */
static void
config_unknown_provider(struct loader *ld, const struct cnode *n, const struct cnode *pv,
    const struct cnode *providers)
{
	const char **names;
	const char *near;
	size_t nnames;

	names = xcalloc(providers != NULL ? providers->nkids + 1 : 1, sizeof *names);
	for (nnames = 0; providers != NULL && nnames < providers->nkids; nnames++)
		names[nnames] = providers->kids[nnames]->key;
	near = config_nearest(pv->value, names, nnames);
	if (near != NULL)
		config_at(ld, pv, "models.%s.provider: unknown provider '%s', did you mean "
		    "'%s'?", n->key, pv->value, near);
	else
		config_at(ld, pv, "models.%s.provider: unknown provider '%s'", n->key, pv->value);
	free(names);
}

/* Build one model from its section; returns 1 when it has errors (its own values, a missing
 * or unknown provider, a default its limits refuse). Such a model is still built, so that
 * references to its name are not reported as well, and left out once every check ran. */
static int
config_build_model(struct loader *ld, const struct cnode *n, const struct cnode *providers)
{
	static const char *pat = "models.*";
	struct config *c = ld->cfg;
	const struct cnode *pv = cnode_get(n, "provider"), *pn = NULL, *ranges, *r;
	const char *protocol = "simulated", *s;
	struct model *m;
	size_t i;
	/* Checks that read the whole section and its provider's: only when both are sound. */
	int whole = !n->tainted, bad = n->tainted;

	if (pv == NULL || pv->kind != CN_SCALAR) {
		if (!n->tainted)
			config_atkey(ld, n, "models.%s: missing required key 'provider'", n->key);
		pv = NULL;
		whole = 0;
		bad = 1;
	} else if ((pn = cnode_get(providers, pv->value)) == NULL) {
		if (!(ld->unsure & UNSURE_PROVIDERS))
			config_unknown_provider(ld, n, pv, providers);
		whole = 0;
		bad = 1;
	} else if (pn->tainted) {
		/* The provider is left out, so the model is not offered; it is sound itself. */
		whole = 0;
	}
	if ((s = cnode_str(pn, "protocol")) != NULL)
		protocol = s;
	c->models = xrealloc(c->models, (c->nmodels + 1) * sizeof *c->models);
	m = &c->models[c->nmodels++];
	memset(m, 0, sizeof *m);
	m->name = xstrdup(n->key);
	m->id = xstrdup(cnode_str(n, "id") != NULL ? cnode_str(n, "id") : n->key);
	m->provider_name = xstrdup(pv != NULL ? pv->value : "");
	m->provider = pn != NULL ? config_provider(c, pv->value) : NULL;
	if (cnode_str(n, "name") != NULL)
		m->display_name = xstrdup(cnode_str(n, "name"));
	if ((s = cnode_str(n, "kind")) != NULL)
		m->kind = strcmp(s, "transcription") == 0 ? MODEL_TRANSCRIPTION :
		    strcmp(s, "embedding") == 0 ? MODEL_EMBEDDING : MODEL_CHAT;
	m->context_window = (long)config_getnum(n, pat, "context_window", 0);
	m->max_output = (long)config_getnum(n, pat, "max_output", 0);
	m->dimensions = (long)config_getnum(n, pat, "dimensions", 0);
	m->context_policy = config_policy(cnode_str(n, "context_policy"), CONTEXT_INHERIT);
	if ((s = cnode_str(n, "max_tokens_field")) != NULL)
		m->max_tokens_field = strcmp(s, "max_tokens") == 0 ? MAX_TOKENS_FIELD_MAX_TOKENS :
		    strcmp(s, "max_completion_tokens") == 0 ? MAX_TOKENS_FIELD_COMPLETION :
		    MAX_TOKENS_FIELD_AUTO;
	m->price_input = config_getnum(n, pat, "price_input", -1);
	m->price_output = config_getnum(n, pat, "price_output", -1);
	params_default_limits(protocol, m->limits);
	ranges = cnode_get(n, "params");
	for (i = 0; ranges != NULL && ranges->kind == CN_MAP && i < ranges->nkids; i++) {
		int idx = params_index(ranges->kids[i]->key);

		r = ranges->kids[i];
		if (idx < 0)
			continue;
		if (r->kind == CN_SCALAR) {
			m->limits[idx].accepted = config_bool(r->value) == 1;
		} else if (r->kind == CN_LIST && r->nkids == 2) {
			m->limits[idx].accepted = 1;
			config_number(r->kids[0]->value, &m->limits[idx].min);
			config_number(r->kids[1]->value, &m->limits[idx].max);
		}
	}
	m->efforts = config_strings(cnode_get(n, "reasoning_efforts"), &m->nefforts);
	if (m->efforts == NULL) {
		m->efforts = xcalloc(3, sizeof *m->efforts);
		m->efforts[0] = xstrdup("low");
		m->efforts[1] = xstrdup("medium");
		m->efforts[2] = xstrdup("high");
		m->nefforts = 3;
	}
	m->aliases = config_strings(cnode_get(n, "aliases"), &m->naliases);
	m->fallback = config_strings(cnode_get(n, "fallback"), &m->nfallback);
	m->input = config_input(cnode_get(n, "input"));
	m->max_attach = (size_t)(config_getnum(n, pat, "max_attachment", 0) * 1048576.0);
	config_params(ld, cnode_get(n, "defaults"), &m->defaults);
	m->file = n->file;
	m->line = n->kline;
	m->col = n->kcol;
	/* Check each default alone so the message points at the value at fault. */
	r = whole ? cnode_get(n, "defaults") : NULL;
	for (i = 0; r != NULL && r->kind == CN_MAP && i < r->nkids; i++) {
		struct cnode one = *r;
		struct params single;
		char *err = NULL;

		one.kids = &r->kids[i];
		one.nkids = 1;
		memset(&single, 0, sizeof single);
		config_params(ld, &one, &single);
		if (params_check(&single, m, &err) < 0) {
			config_at(ld, r->kids[i], "models.%s.defaults: %s", n->key, err);
			bad = 1;
		}
		free(err);
		params_free(&single);
	}
	return bad;
}

/* The configured (not synthesized) model called name or aliased so, or NULL. */
static struct model *
config_model_lookup(struct config *c, const char *name)
{
	size_t i, j;

	for (i = 0; i < c->nmodels; i++)
		if (strcmp(c->models[i].name, name) == 0)
			return &c->models[i];
	for (i = 0; i < c->nmodels; i++)
		for (j = 0; j < c->models[i].naliases; j++)
			if (strcmp(c->models[i].aliases[j], name) == 0)
				return &c->models[i];
	return NULL;
}

/* Every model name and alias, for suggestions. */
static const char **
config_model_names(const struct config *c, size_t *n)
{
	size_t i, j, k = 0, total = 0;
	const char **v;

	for (i = 0; i < c->nmodels; i++)
		total += 1 + c->models[i].naliases;
	v = xcalloc(total + 1, sizeof *v);
	for (i = 0; i < c->nmodels; i++) {
		v[k++] = c->models[i].name;
		for (j = 0; j < c->models[i].naliases; j++)
			v[k++] = c->models[i].aliases[j];
	}
	*n = k;
	return v;
}

/* Report that name at node n is not a model, with the nearest one. */
static void
config_unknown_model(struct loader *ld, const struct cnode *n, const char *what,
    const char *name)
{
	size_t nn;
	const char **names;
	const char *near;

	if (ld->unsure & UNSURE_MODELS)
		return;
	names = config_model_names(ld->cfg, &nn);
	near = config_nearest(name, names, nn);
	if (near != NULL)
		config_at(ld, n, "%s: unknown model '%s', did you mean '%s'?", what, name, near);
	else
		config_at(ld, n, "%s: unknown model '%s'", what, name);
	free(names);
}

/* Check fallbacks and aliases once every model exists; a model at fault is marked in bad
 * (one flag per model). */
static void
config_check_models(struct loader *ld, const struct cnode *models, unsigned char *bad)
{
	struct config *c = ld->cfg;
	size_t i, j;

	for (i = 0; i < c->nmodels; i++) {
		const struct cnode *n = cnode_get(models, c->models[i].name);
		const struct cnode *fb = cnode_get(n, "fallback"), *al = cnode_get(n, "aliases");
		char *what;

		for (j = 0; j < c->models[i].nfallback; j++) {
			const char *name = c->models[i].fallback[j];
			const struct cnode *at = fb->kind == CN_LIST ? fb->kids[j] : fb;

			if (config_model_lookup(c, name) == NULL && strchr(name, '/') == NULL) {
				what = xasprintf("models.%s.fallback", c->models[i].name);
				if (!(ld->unsure & UNSURE_MODELS))
					bad[i] = 1;
				config_unknown_model(ld, at, what, name);
				free(what);
			} else if (config_model_lookup(c, name) == &c->models[i]) {
				config_at(ld, at, "models.%s.fallback: a model cannot fall back to "
				    "itself", c->models[i].name);
				bad[i] = 1;
			}
		}
		for (j = 0; j < c->models[i].naliases; j++) {
			const struct model *other = config_model_lookup(c, c->models[i].aliases[j]);

			if (other != NULL && other != &c->models[i]) {
				config_at(ld, al->kind == CN_LIST ? al->kids[j] : al,
				    "models.%s.aliases: '%s' already names model %s",
				    c->models[i].name, c->models[i].aliases[j], other->name);
				bad[i] = 1;
			}
		}
	}
}

/* Build one template from its section (extends: is resolved later). */
static void
config_build_template(struct loader *ld, const struct cnode *n)
{
	struct config *c = ld->cfg;
	struct template *t;
	const struct cnode *d;
	const char *mode = config_get(n, "templates.*", "mode");
	size_t i;

	c->templates = xrealloc(c->templates, (c->ntemplates + 1) * sizeof *c->templates);
	t = &c->templates[c->ntemplates++];
	memset(t, 0, sizeof *t);
	t->name = xstrdup(n->key);
#define TCOPY(field) \
	if (cnode_str(n, #field) != NULL) \
		t->field = xstrdup(cnode_str(n, #field))
	TCOPY(description);
	TCOPY(system);
	TCOPY(user);
	TCOPY(extends);
	TCOPY(model);
#undef TCOPY
	t->mode = strcmp(mode, "replace") == 0 ? TEMPLATE_REPLACE : TEMPLATE_APPEND;
	d = cnode_get(n, "defaults");
	if (d != NULL && d->kind == CN_MAP && d->nkids > 0) {
		t->defaults = xcalloc(d->nkids, sizeof *t->defaults);
		for (i = 0; i < d->nkids; i++) {
			t->defaults[i].name = xstrdup(d->kids[i]->key);
			t->defaults[i].value = xstrdup(d->kids[i]->value != NULL ?
			    d->kids[i]->value : "");
		}
		t->ndefaults = d->nkids;
	}
	config_params(ld, cnode_get(n, "params"), &t->params);
	t->file = n->file;
	t->line = n->kline;
	t->col = n->kcol;
}

/* Whether name was a model (or an alias of one) left out for errors. */
int
config_left_out(const struct config *c, const char *name)
{
	size_t i;

	for (i = 0; i < c->nleft_out; i++)
		if (strcmp(c->left_out[i], name) == 0)
			return 1;
	return 0;
}

/* The template called name, or NULL. */
struct template *
config_template(struct config *c, const char *name)
{
	size_t i;

	for (i = 0; i < c->ntemplates; i++)
		if (strcmp(c->templates[i].name, name) == 0)
			return &c->templates[i];
	return NULL;
}

/* Resolve extends: for every template; parents first, cycles reported. A template with
 * errors (its own values, an unknown model or parent, a cycle, a parent with errors) is
 * marked in bad, one flag per template. */
static void
config_resolve_templates(struct loader *ld, const struct cnode *tnodes, unsigned char *bad)
{
	struct config *c = ld->cfg;
	char *done = xcalloc(c->ntemplates + 1, 1);
	size_t i, k, nn;
	const char **names = xcalloc(c->ntemplates + 1, sizeof *names);

	for (i = 0; i < c->ntemplates; i++)
		names[i] = c->templates[i].name;
	nn = c->ntemplates;
	for (i = 0; i < c->ntemplates; i++) {
		const struct cnode *tn = cnode_get(tnodes, c->templates[i].name);
		const struct cnode *ext = cnode_get(tn, "extends");
		const struct cnode *mod = cnode_get(tn, "model");

		if (tn != NULL && tn->tainted)
			bad[i] = 1;
		if (mod != NULL && mod->kind == CN_SCALAR && strchr(mod->value, '/') == NULL &&
		    config_model_lookup(c, mod->value) == NULL) {
			char *what = xasprintf("templates.%s.model", c->templates[i].name);

			if (!(ld->unsure & UNSURE_MODELS))
				bad[i] = 1;
			config_unknown_model(ld, mod, what, mod->value);
			free(what);
		}
		if (c->templates[i].extends == NULL)
			continue;
		if (config_template(c, c->templates[i].extends) == NULL) {
			const char *near = config_nearest(c->templates[i].extends, names, nn);

			if (near != NULL && !(ld->unsure & UNSURE_TEMPLATES))
				config_at(ld, ext, "templates.%s.extends: unknown template '%s', did "
				    "you mean '%s'?", c->templates[i].name, c->templates[i].extends,
				    near);
			else if (!(ld->unsure & UNSURE_TEMPLATES))
				config_at(ld, ext, "templates.%s.extends: unknown template '%s'",
				    c->templates[i].name, c->templates[i].extends);
			/* Unsure or not, half a template is not what its author wrote. */
			bad[i] = 1;
			done[i] = 1;
		}
	}
	/* Repeatedly resolve templates whose parent is done; what is left is a cycle. */
	for (k = 0; k < c->ntemplates; k++) {
		int progress = 0;

		for (i = 0; i < c->ntemplates; i++) {
			struct template *t = &c->templates[i], *parent;

			if (done[i])
				continue;
			if (t->extends == NULL) {
				done[i] = progress = 1;
				continue;
			}
			parent = config_template(c, t->extends);
			if (!done[parent - c->templates])
				continue;
			if (bad[parent - c->templates] && !bad[i]) {
				/* Said once, so the missing child is not a mystery. */
				const struct cnode *tn = cnode_get(tnodes, t->name);

				config_at(ld, cnode_get(tn, "extends"), "templates.%s.extends: "
				    "template '%s' has errors, so this one is left out too", t->name,
				    t->extends);
				bad[i] = 1;
			}
			template_inherit(t, parent);
			done[i] = progress = 1;
		}
		if (!progress)
			break;
	}
	for (i = 0; i < c->ntemplates; i++)
		if (!done[i]) {
			const struct cnode *tn = cnode_get(tnodes, c->templates[i].name);

			config_at(ld, cnode_get(tn, "extends"), "templates.%s.extends: '%s' "
			    "leads back to itself", c->templates[i].name, c->templates[i].extends);
			bad[i] = 1;
		}
	free(names);
	free(done);
}

/* The name: value pairs of a STRMAP node (null values are empty). */
static struct mcp_kv *
config_mcp_pairs(const struct cnode *n, size_t *count)
{
	struct mcp_kv *v;
	size_t i;

	*count = 0;
	if (n == NULL || n->kind != CN_MAP || n->nkids == 0)
		return NULL;
	v = xcalloc(n->nkids, sizeof *v);
	for (i = 0; i < n->nkids; i++) {
		v[i].name = xstrdup(n->kids[i]->key);
		v[i].value = xstrdup(n->kids[i]->value != NULL ? n->kids[i]->value : "");
	}
	*count = n->nkids;
	return v;
}

/* Check that an MCP server's transport is clear: command or url, agreeing with type. */
static int
config_mcp_transport(struct loader *ld, const struct cnode *n)
{
	const char *cmd = cnode_str(n, "command"), *url = cnode_str(n, "url");
	const char *type = cnode_str(n, "type");

	if (cmd != NULL && url != NULL) {
		config_atkey(ld, n, "mcp_servers.%s: command and url exclude each other (one "
		    "server speaks one transport)", n->key);
		return -1;
	}
	if (cmd == NULL && url == NULL) {
		if (!n->tainted)
			config_atkey(ld, n, "mcp_servers.%s: needs command (a program to run) or "
			    "url", n->key);
		return -1;
	}
	if (type != NULL && strcmp(type, cmd != NULL ? "stdio" : "http") != 0) {
		config_at(ld, cnode_get(n, "type"), "mcp_servers.%s.type: %s, but the server "
		    "has %s", n->key, type, cmd != NULL ? "a command" : "a url");
		return -1;
	}
	return 0;
}

/* Build the mcp_servers: entries, in file order. */
static void
config_build_mcp(struct loader *ld, const struct cnode *tree)
{
	struct config *c = ld->cfg;
	const struct cnode *sec = cnode_get(tree, "mcp_servers"), *cwd;
	struct mcp_server_cfg *m;
	size_t i, j;

	for (i = 0; sec != NULL && sec->kind == CN_MAP && i < sec->nkids; i++) {
		const struct cnode *n = sec->kids[i];

		/* A server with an error is left out, like any other entry. */
		if (n->kind != CN_MAP || config_mcp_transport(ld, n) != 0 || n->tainted)
			continue;
		c->mcp_servers = xrealloc(c->mcp_servers,
		    (c->nmcp_servers + 1) * sizeof *c->mcp_servers);
		m = &c->mcp_servers[c->nmcp_servers++];
		memset(m, 0, sizeof *m);
		m->name = xstrdup(n->key);
		if (cnode_str(n, "command") != NULL)
			m->command = xstrdup(cnode_str(n, "command"));
		if (cnode_str(n, "url") != NULL)
			m->url = xstrdup(cnode_str(n, "url"));
		m->args = config_strings(cnode_get(n, "args"), &m->nargs);
		m->env = config_mcp_pairs(cnode_get(n, "env"), &m->nenv);
		m->headers = config_mcp_pairs(cnode_get(n, "headers"), &m->nheaders);
		for (j = 0; j < m->nheaders; j++)
			config_header_secret(m->headers[j].name, m->headers[j].value);
		cwd = cnode_get(n, "cwd");
		if (cwd != NULL && cwd->kind == CN_SCALAR)
			m->cwd = config_resolve(cwd->file, cwd->value);
		m->enabled = config_bool(config_get(n, "mcp_servers.*", "enabled")) != 0;
		m->timeout = config_getnum(n, "mcp_servers.*", "timeout", MCP_DEFAULT_TIMEOUT);
		m->startup_timeout = config_getnum(n, "mcp_servers.*", "startup_timeout",
		    MCP_DEFAULT_STARTUP_TIMEOUT);
		m->allow = config_strings(cnode_get(n, "allow"), &m->nallow);
		m->file = n->file;
		m->line = n->kline;
		m->col = n->kcol;
	}
}

/* Free the mcp_servers: entries. */
static void
config_mcp_clear(struct config *c)
{
	mcp_server_cfg_free(c->mcp_servers, c->nmcp_servers);
	c->mcp_servers = NULL;
	c->nmcp_servers = 0;
}

/* Build the serve: section: tokens resolved from the file or the environment (and
 * registered as secrets), the lists and limits with their defaults. */
static void
config_build_serve(struct config *c, const struct cnode *tree)
{
	const struct cnode *sec = cnode_get(tree, "serve"), *toks = cnode_get(sec, "tokens");
	struct config_serve *sv = &c->serve;
	const char *v, *env;
	size_t i;

	sv->listen = xstrdup(config_get(sec, "serve", "listen"));
	sv->max_body = (long)(config_getnum(sec, "serve", "max_body", 4) * 1048576.0);
	sv->max_streams = (long)config_getnum(sec, "serve", "max_streams", 128);
	sv->models_refresh_ms = (long)(config_getnum(sec, "serve", "models_refresh", 600) * 1000.0);
	sv->store_openai = config_bool(config_get(sec, "serve", "store_openai")) != 0;
	sv->cors = config_strings(cnode_get(sec, "cors_origins"), &sv->ncors);
	sv->models = config_strings(cnode_get(sec, "models"), &sv->nmodels);
	for (i = 0; toks != NULL && toks->kind == CN_LIST && i < toks->nkids; i++) {
		v = cnode_str(toks->kids[i], "token");
		if (v == NULL && (env = cnode_str(toks->kids[i], "token_env")) != NULL) {
			v = getenv(env);
			if ((v == NULL || *v == '\0') && sv->missing == NULL)
				sv->missing = xstrdup(env);
		}
		if (v == NULL || *v == '\0')
			continue;
		sv->tokens = xrealloc(sv->tokens, (sv->ntokens + 1) * sizeof *sv->tokens);
		sv->tokens[sv->ntokens++] = xstrdup(v);
		secret_add(v);
	}
}

/* Build the render: section. */
static void
config_build_render(struct config *c, const struct cnode *tree)
{
	const struct cnode *sec = cnode_get(tree, "render");
	struct config_render *r = &c->render;

	r->highlight = config_bool(config_get(sec, "render", "highlight")) != 0;
	r->math = config_bool(config_get(sec, "render", "math")) != 0;
	r->link_urls = config_bool(config_get(sec, "render", "link_urls")) != 0;
	r->syntax_dirs = config_strings(cnode_get(sec, "syntax_dirs"), &r->nsyntax_dirs);
	r->hyperlinks = xstrdup(config_get(sec, "render", "hyperlinks"));
	r->sync_output = xstrdup(config_get(sec, "render", "sync_output"));
}

/* Free the render: section. */
static void
config_render_clear(struct config *c)
{
	struct config_render *r = &c->render;

	config_strings_free(r->syntax_dirs, r->nsyntax_dirs);
	free(r->hyperlinks);
	free(r->sync_output);
	memset(r, 0, sizeof *r);
}

/* Free the serve: section. */
static void
config_serve_clear(struct config *c)
{
	struct config_serve *sv = &c->serve;

	free(sv->listen);
	config_strings_free(sv->tokens, sv->ntokens);
	free(sv->missing);
	config_strings_free(sv->cors, sv->ncors);
	config_strings_free(sv->models, sv->nmodels);
	memset(sv, 0, sizeof *sv);
}

/* The bindings: list; an item with errors is left out, the others kept. */
static void
config_build_bindings(struct loader *ld, const struct cnode *sec)
{
	struct config *c = ld->cfg;
	size_t i;

	for (i = 0; sec != NULL && sec->kind == CN_LIST && i < sec->nkids; i++) {
		const struct cnode *b = sec->kids[i];
		struct config_binding *cb;
		const char *key = cnode_str(b, "key"), *action = cnode_str(b, "action");

		if (b->tainted)
			continue;
		if (key == NULL || action == NULL) {
			config_at(ld, b, "bindings[%zu]: missing required key '%s'", i,
			    key == NULL ? "key" : "action");
			continue;
		}
		c->bindings = xrealloc(c->bindings, (c->nbindings + 1) * sizeof *c->bindings);
		cb = &c->bindings[c->nbindings++];
		cb->context = xstrdup(config_get(b, "bindings[]", "context"));
		cb->key = xstrdup(key);
		cb->action = xstrdup(action);
		cb->file = b->file;
		cb->line = b->line;
		cb->col = b->col;
	}
}

/* Drop the models and templates marked in mbad and tbad (their errors were reported). */
static void
config_leave_out(struct config *c, const unsigned char *mbad, const unsigned char *tbad)
{
	size_t i, kept;

	for (i = kept = 0; i < c->nmodels; i++) {
		struct model *m = &c->models[i];
		size_t j;

		if (!mbad[i]) {
			c->models[kept++] = *m;
			continue;
		}
		/* Its names are kept, so that asking for it says why it is missing. */
		c->left_out = xrealloc(c->left_out, (c->nleft_out + 1 + m->naliases) *
		    sizeof *c->left_out);
		c->left_out[c->nleft_out++] = xstrdup(m->name);
		for (j = 0; j < m->naliases; j++)
			c->left_out[c->nleft_out++] = xstrdup(m->aliases[j]);
		config_model_clear(m);
	}
	c->nmodels = kept;
	for (i = kept = 0; i < c->ntemplates; i++) {
		if (tbad[i])
			template_clear(&c->templates[i]);
		else
			c->templates[kept++] = c->templates[i];
	}
	c->ntemplates = kept;
}

/* The default model: default_model when it names a usable model, else the first usable
 * one, else simulated. A model left out for errors is never it. */
static void
config_pick_default(struct loader *ld, const struct cnode *tree, const unsigned char *mbad)
{
	struct config *c = ld->cfg;
	const struct cnode *dm = cnode_get(tree, "default_model");
	size_t j;

	if (dm != NULL && dm->kind == CN_SCALAR) {
		struct model *m = config_model_lookup(c, dm->value);

		if (m == NULL && strchr(dm->value, '/') == NULL)
			config_unknown_model(ld, dm, "default_model", dm->value);
		else if (m != NULL && m->provider != NULL && !mbad[m - c->models])
			c->default_model = xstrdup(m->name);
		else if (m == NULL)
			c->default_model = xstrdup(dm->value);
	}
	for (j = 0; c->default_model == NULL && j < c->nmodels; j++)
		if (c->models[j].provider != NULL && !mbad[j] && c->models[j].kind == MODEL_CHAT)
			c->default_model = xstrdup(c->models[j].name);
	if (c->default_model == NULL)
		c->default_model = xstrdup("simulated");
}

/* Turn a merged, validated tree into c; errors go to ld->errs. Every entry with an error
 * is left out and the rest is kept: one mistake costs only what it is in. */
void
config_build(struct loader *ld, struct cnode *tree)
{
	struct config *c = ld->cfg;
	const struct cnode *sec, *models;
	unsigned char *mbad, *tbad;
	size_t i;

	sec = cnode_get(tree, "providers");
	for (i = 0; sec != NULL && sec->kind == CN_MAP && i < sec->nkids; i++)
		if (sec->kids[i]->kind == CN_MAP)
			config_build_provider(ld, sec->kids[i]);
	models = cnode_get(tree, "models");
	mbad = xcalloc(models != NULL ? models->nkids + 1 : 1, 1);
	for (i = 0; models != NULL && models->kind == CN_MAP && i < models->nkids; i++)
		if (models->kids[i]->kind == CN_MAP) {
			size_t at = c->nmodels; /* config_build_model adds one model */
			int bad = config_build_model(ld, models->kids[i], sec);

			mbad[at] = (unsigned char)bad;
		}
	config_check_models(ld, models, mbad);
	config_params(ld, cnode_get(tree, "defaults"), &c->defaults);
	sec = cnode_get(tree, "templates");
	tbad = xcalloc(sec != NULL ? sec->nkids + 1 : 1, 1);
	for (i = 0; sec != NULL && sec->kind == CN_MAP && i < sec->nkids; i++)
		if (sec->kids[i]->kind == CN_MAP)
			config_build_template(ld, sec->kids[i]);
	config_resolve_templates(ld, sec, tbad);
	config_build_mcp(ld, tree);
	config_build_serve(c, tree);
	config_build_render(c, tree);
	config_build_bindings(ld, cnode_get(tree, "bindings"));
	c->theme = xstrdup(cnode_str(tree, "theme") != NULL ? cnode_str(tree, "theme") :
	    config_default("theme"));
	c->context_policy = config_policy(config_get(cnode_get(tree, "context"), "context",
	    "policy"), CONTEXT_DROP);
	c->context_keep = (long)config_getnum(cnode_get(tree, "context"), "context", "keep_turns",
	    6);
	c->ask_save = config_bool(config_get(cnode_get(tree, "ask"), "ask", "save")) != 0;
	c->tool_rounds = (int)config_getnum(cnode_get(tree, "tools"), "tools", "max_rounds", 16);
	c->mouse = config_bool(config_get(tree, "", "mouse")) == 1;
	c->notify = config_notify_of(config_get(tree, "", "notify"));
	c->print_on_exit = config_bool(config_get(tree, "", "print_on_exit")) == 1;
	if (cnode_str(tree, "embedding_model") != NULL)
		c->embedding_model = xstrdup(cnode_str(tree, "embedding_model"));
	config_pick_default(ld, tree, mbad);
	config_leave_out(c, mbad, tbad);
	free(mbad);
	free(tbad);
}

/* The config fields that depend on the tree, released so a build can be redone. */
void
config_build_clear(struct config *c)
{
	size_t i;

	for (i = 0; i < c->nproviders; i++) {
		provider_free(c->providers[i]);
		keypool_free(c->pools[i]);
	}
	free(c->providers);
	free(c->pools);
	for (i = 0; i < c->ndisabled; i++) {
		free(c->disabled[i].name);
		free(c->disabled[i].reason);
		provider_free(c->disabled[i].provider);
	}
	free(c->disabled);
	for (i = 0; i < c->nmodels; i++)
		config_model_clear(&c->models[i]);
	free(c->models);
	for (i = 0; i < c->nextra; i++) {
		config_model_clear(c->extra[i]);
		free(c->extra[i]);
	}
	free(c->extra);
	c->extra = NULL;
	c->nextra = 0;
	for (i = 0; i < c->ntemplates; i++)
		template_clear(&c->templates[i]);
	free(c->templates);
	params_free(&c->defaults);
	free(c->default_model);
	free(c->embedding_model);
	free(c->theme);
	for (i = 0; i < c->nbindings; i++) {
		free(c->bindings[i].context);
		free(c->bindings[i].key);
		free(c->bindings[i].action);
	}
	free(c->bindings);
	config_mcp_clear(c);
	config_serve_clear(c);
	config_render_clear(c);
	for (i = 0; i < c->nwarnings; i++)
		free(c->warnings[i]);
	free(c->warnings);
	for (i = 0; i < c->nleft_out; i++)
		free(c->left_out[i]);
	free(c->left_out);
	c->left_out = NULL;
	c->nleft_out = 0;
	cnode_free(c->tree);
	c->providers = NULL;
	c->pools = NULL;
	c->disabled = NULL;
	c->models = NULL;
	c->templates = NULL;
	c->bindings = NULL;
	c->warnings = NULL;
	c->tree = NULL;
	c->default_model = c->theme = c->embedding_model = NULL;
	memset(&c->defaults, 0, sizeof c->defaults);
	c->nproviders = c->ndisabled = c->nmodels = c->ntemplates = c->nbindings = 0;
	c->nwarnings = 0;
}

/* Offer a local server that was left out only because its address variable is unset; the
 * caller supplies the address (natter ask --base-url). Returns the provider, or NULL. */
struct provider *
config_offer(struct config *c, const char *name)
{
	struct provider *p;
	size_t i;

	for (i = 0; i < c->ndisabled; i++)
		if (strcmp(c->disabled[i].name, name) == 0)
			break;
	if (i == c->ndisabled || c->disabled[i].provider == NULL || !c->disabled[i].provider->local)
		return NULL;
	p = c->disabled[i].provider;
	free(c->disabled[i].name);
	free(c->disabled[i].reason);
	memmove(&c->disabled[i], &c->disabled[i + 1], (c->ndisabled - i - 1) * sizeof *c->disabled);
	c->ndisabled--;
	c->providers = xrealloc(c->providers, (c->nproviders + 1) * sizeof *c->providers);
	c->pools = xrealloc(c->pools, (c->nproviders + 1) * sizeof *c->pools);
	c->providers[c->nproviders] = p;
	c->pools[c->nproviders] = NULL;
	c->nproviders++;
	for (i = 0; i < c->nmodels; i++)
		if (strcmp(c->models[i].provider_name, name) == 0)
			c->models[i].provider = p;
	return p;
}

/* Find a model by name or alias; "provider/id" of an offered provider makes a model with
 * the protocol's defaults, so models missing from the config stay usable. */
struct model *
config_model(struct config *c, const char *name)
{
	struct model *m = config_model_lookup(c, name);
	struct provider *p;
	const char *slash;
	char *pname;
	size_t i;

	if (m != NULL)
		return m;
	slash = strchr(name, '/');
	if (slash == NULL)
		return NULL;
	pname = xstrndup(name, (size_t)(slash - name));
	p = config_provider(c, pname);
	free(pname);
	if (p == NULL || slash[1] == '\0')
		return NULL;
	/* Made-up models live in their own list so pointers into models stay valid. */
	for (i = 0; i < c->nextra; i++)
		if (strcmp(c->extra[i]->name, name) == 0)
			return c->extra[i];
	c->extra = xrealloc(c->extra, (c->nextra + 1) * sizeof *c->extra);
	m = c->extra[c->nextra++] = xcalloc(1, sizeof *m);
	m->name = xstrdup(name);
	m->id = xstrdup(slash + 1);
	m->provider_name = xstrdup(p->name);
	m->provider = p;
	m->price_input = m->price_output = -1;
	m->input = ATTACH_IN_TEXT;
	params_default_limits(p->protocol, m->limits);
	m->synthesized = 1;
	m->file = "(not configured)";
	return m;
}

/* The configured model that provider sends as id, else what config_model makes of
 * "provider/id"; the UI keeps provider and id apart and needs the model's prices and
 * fallbacks back. */
struct model *
config_model_of(struct config *c, const char *provider, const char *id)
{
	size_t i;
	char *name;
	struct model *m;

	for (i = 0; i < c->nmodels; i++)
		if (c->models[i].provider != NULL && c->models[i].id != NULL &&
		    strcmp(c->models[i].provider->name, provider) == 0 &&
		    strcmp(c->models[i].id, id) == 0)
			return &c->models[i];
	name = xasprintf("%s/%s", provider, id);
	m = config_model(c, name);
	free(name);
	return m;
}
