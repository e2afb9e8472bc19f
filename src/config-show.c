/*
 * `natter config show`: the merged tree printed back as YAML through libyaml's emitter,
 * schema defaults filled in for absent keys and every secret masked (a literal key, a
 * credential header), then which providers are offered and why the others are not.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <yaml.h>

#include "config-tree.h"
#include "keypool.h"
#include "log.h"
#include "provider.h"
#include "xmalloc.h"

/* Emit one scalar, choosing block style for multi-line text. */
static void
config_emit_scalar(yaml_emitter_t *em, const char *s, int null)
{
	yaml_event_t ev;
	yaml_scalar_style_t style = YAML_ANY_SCALAR_STYLE;

	if (null)
		s = "null";
	else if (strchr(s, '\n') != NULL)
		style = YAML_LITERAL_SCALAR_STYLE;
	yaml_scalar_event_initialize(&ev, NULL, NULL, (yaml_char_t *)s, (int)strlen(s),
	    1, 1, style);
	yaml_emitter_emit(em, &ev);
}

/* True for header (and MCP env:) names that carry credentials. */
int
config_show_secret_header(const char *name)
{
	return strcasestr(name, "auth") != NULL || strcasestr(name, "key") != NULL ||
	    strcasestr(name, "token") != NULL || strcasestr(name, "secret") != NULL ||
	    strcasestr(name, "password") != NULL;
}

/* Emit node n (schema pattern pat, NULL when untracked) with secrets masked and schema
 * defaults filled in for absent keys. */
static void
config_emit_node(yaml_emitter_t *em, const struct cnode *n, const char *pat, int secret,
    int named)
{
	yaml_event_t ev;
	size_t i, nn;
	char *masked;

	switch (n->kind) {
	case CN_NULL:
		config_emit_scalar(em, "", 1);
		break;
	case CN_SCALAR:
		if (secret) {
			masked = log_mask_key(n->value);
			config_emit_scalar(em, masked, 0);
			free(masked);
		} else {
			config_emit_scalar(em, n->value, 0);
		}
		break;
	case CN_LIST:
		yaml_sequence_start_event_initialize(&ev, NULL, NULL, 1, YAML_ANY_SEQUENCE_STYLE);
		yaml_emitter_emit(em, &ev);
		for (i = 0; i < n->nkids; i++) {
			char *p = pat != NULL ? xasprintf("%s[]", pat) : NULL;

			config_emit_node(em, n->kids[i], p, 0, 0);
			free(p);
		}
		yaml_sequence_end_event_initialize(&ev);
		yaml_emitter_emit(em, &ev);
		break;
	case CN_MAP:
		yaml_mapping_start_event_initialize(&ev, NULL, NULL, 1, YAML_BLOCK_MAPPING_STYLE);
		yaml_emitter_emit(em, &ev);
		for (i = 0; i < n->nkids; i++) {
			const struct cnode *k = n->kids[i];
			const struct config_schema *e = NULL;
			char *p = NULL;
			int sec;

			if (pat != NULL && named) {
				/* Entries of a map of sections: every one has the map's pattern. */
				p = xstrdup(pat);
			} else if (pat != NULL) {
				p = *pat ? xasprintf("%s.%s", pat, k->key) : xstrdup(k->key);
				e = config_schema_find(config_schema, config_schema_count, p);
				if (e != NULL && e->type == CONFIG_MAP) {
					free(p);
					p = xasprintf("%s%s%s.*", pat, *pat ? "." : "", k->key);
				} else if (e == NULL || e->type == CONFIG_PARAMS ||
				    e->type == CONFIG_RANGES) {
					free(p);
					p = NULL;
				}
			}
			sec = (e != NULL && (e->flags & CONFIG_SECRET)) ||
			    (pat != NULL && strstr(pat, "headers") != NULL) ||
			    (pat == NULL && strcmp(k->key, "key") == 0);
			if (e != NULL && e->type == CONFIG_STRMAP && (strcmp(k->key, "headers") == 0 ||
			    strcmp(k->key, "env") == 0)) {
				size_t j;

				config_emit_scalar(em, k->key, 0);
				yaml_mapping_start_event_initialize(&ev, NULL, NULL, 1,
				    YAML_BLOCK_MAPPING_STYLE);
				yaml_emitter_emit(em, &ev);
				for (j = 0; k->kind == CN_MAP && j < k->nkids; j++) {
					config_emit_scalar(em, k->kids[j]->key, 0);
					config_emit_node(em, k->kids[j], NULL,
					    config_show_secret_header(k->kids[j]->key), 0);
				}
				yaml_mapping_end_event_initialize(&ev);
				yaml_emitter_emit(em, &ev);
				free(p);
				continue;
			}
			config_emit_scalar(em, k->key, 0);
			config_emit_node(em, k, p, sec && k->kind == CN_SCALAR,
			    e != NULL && e->type == CONFIG_MAP);
			free(p);
		}
		/* Absent keys with defaults: the effective value is the default. */
		if (pat != NULL && !named && (*pat == '\0' || strstr(pat, "*") != NULL ||
		    strstr(pat, "[]") != NULL)) {
			const char **names = config_children(config_schema, config_schema_count, pat,
			    &nn);

			for (i = 0; i < nn; i++) {
				char *p = *pat ? xasprintf("%s.%s", pat, names[i]) : xstrdup(names[i]);
				const struct config_schema *e =
				    config_schema_find(config_schema, config_schema_count, p);

				if (e != NULL && e->def != NULL && cnode_get(n, names[i]) == NULL) {
					config_emit_scalar(em, names[i], 0);
					config_emit_scalar(em, e->def, 0);
				}
				free(p);
			}
			free(names);
		}
		yaml_mapping_end_event_initialize(&ev);
		yaml_emitter_emit(em, &ev);
		break;
	}
}

/* Emit the whole tree from the top-level schema. */
static void
config_emit(yaml_emitter_t *em, const struct cnode *n, const char *pat, int secret)
{
	config_emit_node(em, n, pat, secret, 0);
}

/* Print the effective configuration as YAML, secrets masked, then which providers are
 * offered and why the others are not. */
void
config_show(const struct config *c, FILE *f)
{
	yaml_emitter_t em;
	yaml_event_t ev;
	size_t i;

	fprintf(f, "# effective configuration: %s over the shipped defaults\n",
	    c->path != NULL ? c->path : "(no user file)");
	fflush(f);
	yaml_emitter_initialize(&em);
	yaml_emitter_set_output_file(&em, f);
	yaml_emitter_set_unicode(&em, 1);
	yaml_emitter_set_width(&em, 100);
	yaml_stream_start_event_initialize(&ev, YAML_UTF8_ENCODING);
	yaml_emitter_emit(&em, &ev);
	yaml_document_start_event_initialize(&ev, NULL, NULL, NULL, 1);
	yaml_emitter_emit(&em, &ev);
	if (c->tree != NULL) {
		config_emit(&em, c->tree, "", 0);
	} else {
		yaml_mapping_start_event_initialize(&ev, NULL, NULL, 1, YAML_BLOCK_MAPPING_STYLE);
		yaml_emitter_emit(&em, &ev);
		yaml_mapping_end_event_initialize(&ev);
		yaml_emitter_emit(&em, &ev);
	}
	yaml_document_end_event_initialize(&ev, 1);
	yaml_emitter_emit(&em, &ev);
	yaml_stream_end_event_initialize(&ev);
	yaml_emitter_emit(&em, &ev);
	yaml_emitter_flush(&em);
	yaml_emitter_delete(&em);
	fprintf(f, "# default model: %s\n", c->default_model);
	for (i = 0; i < c->nproviders; i++) {
		size_t nk = c->pools[i] != NULL ? keypool_count(c->pools[i]) : 0;

		if (nk == 0)
			fprintf(f, "# provider %s: offered (no key needed)\n",
			    c->providers[i]->name);
		else
			fprintf(f, "# provider %s: offered (%zu key%s)\n", c->providers[i]->name, nk,
			    nk == 1 ? "" : "s");
	}
	for (i = 0; i < c->ndisabled; i++)
		fprintf(f, "# provider %s: not offered (%s)\n", c->disabled[i].name,
		    c->disabled[i].reason);
}
