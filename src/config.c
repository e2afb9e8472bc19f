/*
 * Loading natter.yaml. libyaml's document API turns each file into a tree of nodes that
 * remember file, line and column; included files are read first and the including file is
 * laid over them; the result is validated against the schema (config-schema.c), laid over
 * the shipped defaults and turned into struct config (config-build.c; config-tree.h is
 * what the loader's files share). Every message a user sees carries "file:line:col" and,
 * for a misspelt name, the nearest valid one.
 *
 * Validation happens per file, before merging, so a mistake is reported where it was made;
 * cross-references (a model's provider, fallbacks, extends:) are checked after merging,
 * because a user file may refer to names the shipped file defines. A value that fails
 * validation is dropped and the sections above it are marked, so one run reports both kinds
 * of error: cross-checks that the dropped value could have changed are skipped rather than
 * reported as bogus follow-ons, and the rest of the file is still checked.
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yaml.h>

#include "buf.h"
#include "config.h"
#include "config-tree.h"
#include "text.h"
#include "xmalloc.h"

/* Append one formatted message to errs, as one terminal-safe line: it may quote the file. */
void
config_errorf(struct config_errors *errs, const char *fmt, ...)
{
	va_list ap;
	struct buf b = BUF_INIT;
	char tmp[512];

	va_start(ap, fmt);
	vsnprintf(tmp, sizeof tmp, fmt, ap);
	va_end(ap);
	text_sanitize_line(tmp, strlen(tmp), &b);
	errs->v = xrealloc(errs->v, (errs->n + 1) * sizeof *errs->v);
	errs->v[errs->n++] = buf_detach(&b);
}

/* Append kid to n. */
static void
cnode_add(struct cnode *n, struct cnode *kid)
{
	n->kids = xrealloc(n->kids, (n->nkids + 1) * sizeof *n->kids);
	n->kids[n->nkids++] = kid;
}

/* Keep one copy of each file name for the lifetime of the config. */
static const char *
config_intern(struct config *c, const char *file)
{
	size_t i;

	for (i = 0; i < c->nfiles; i++)
		if (strcmp(c->files[i], file) == 0)
			return c->files[i];
	c->files = xrealloc(c->files, (c->nfiles + 1) * sizeof *c->files);
	c->files[c->nfiles] = xstrdup(file);
	return c->files[c->nfiles++];
}

static unsigned config_unsure_bit(const char *name);

/* Convert libyaml node idx of doc into a cnode; NULL after reporting an error. */
static struct cnode *
config_convert(struct loader *ld, yaml_document_t *doc, yaml_node_t *yn, const char *file,
    int depth)
{
	struct cnode *n, *kid, *old;
	yaml_node_pair_t *pair;
	yaml_node_item_t *item;
	yaml_node_t *kn, *vn;

	if (++ld->nodes > CONFIG_MAX_NODES || depth > CONFIG_MAX_DEPTH) {
		if (ld->nodes == CONFIG_MAX_NODES + 1 || depth == CONFIG_MAX_DEPTH + 1)
			config_errorf(ld->errs, "%s:%zu:%zu: document too large or too deeply "
			    "nested", file, yn->start_mark.line + 1, yn->start_mark.column + 1);
		return NULL;
	}
	n = xcalloc(1, sizeof *n);
	n->file = file;
	n->line = (int)yn->start_mark.line + 1;
	n->col = (int)yn->start_mark.column + 1;
	switch (yn->type) {
	case YAML_SCALAR_NODE:
		n->value = xstrndup((const char *)yn->data.scalar.value, yn->data.scalar.length);
		n->kind = CN_SCALAR;
		/* A plain empty value, ~ or null means "unset". */
		if (yn->data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
		    (n->value[0] == '\0' || strcmp(n->value, "~") == 0 ||
		    strcmp(n->value, "null") == 0)) {
			n->kind = CN_NULL;
		}
		break;
	case YAML_SEQUENCE_NODE:
		n->kind = CN_LIST;
		for (item = yn->data.sequence.items.start; item < yn->data.sequence.items.top;
		    item++) {
			kid = config_convert(ld, doc, yaml_document_get_node(doc, *item), file,
			    depth + 1);
			if (kid == NULL) {
				cnode_free(n);
				return NULL;
			}
			cnode_add(n, kid);
		}
		break;
	case YAML_MAPPING_NODE:
		n->kind = CN_MAP;
		for (pair = yn->data.mapping.pairs.start; pair < yn->data.mapping.pairs.top;
		    pair++) {
			kn = yaml_document_get_node(doc, pair->key);
			vn = yaml_document_get_node(doc, pair->value);
			if (kn == NULL || vn == NULL || kn->type != YAML_SCALAR_NODE) {
				/* The pair is left out; the mapping holding it is marked, so an
				 * entry that lost a key is skipped, not half used. */
				config_errorf(ld->errs, "%s:%zu:%zu: mapping keys must be plain "
				    "names", file, kn != NULL ? kn->start_mark.line + 1 : 0,
				    kn != NULL ? kn->start_mark.column + 1 : 0);
				n->tainted = 1;
				if (depth == 0)
					ld->unsure = UNSURE_ALL;
				continue;
			}
			kid = config_convert(ld, doc, vn, file, depth + 1);
			if (kid == NULL) {
				cnode_free(n);
				return NULL;
			}
			kid->key = xstrndup((const char *)kn->data.scalar.value,
			    kn->data.scalar.length);
			kid->kline = (int)kn->start_mark.line + 1;
			kid->kcol = (int)kn->start_mark.column + 1;
			if (kid->kind == CN_NULL) {
				/* An empty value starts where its key does, for messages. */
				kid->line = kid->kline;
				kid->col = kid->kcol;
			}
			old = cnode_get(n, kid->key);
			if (old != NULL) {
				/* Which of the two was meant is unknown: the second is dropped and
				 * the first marked, so an entry defined twice is skipped, and a
				 * section written twice leaves its names unsure. */
				config_atkey(ld, kid, "duplicate key '%s' (first at line %d)",
				    kid->key, old->kline);
				old->tainted = 1;
				n->tainted = 1;
				if (depth == 0)
					ld->unsure |= config_unsure_bit(kid->key);
				cnode_free(kid);
				continue;
			}
			cnode_add(n, kid);
		}
		break;
	default:
		n->kind = CN_NULL;
		break;
	}
	return n;
}

/* Read a whole file into memory; NULL with errno set. */
static char *
config_slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	struct buf b = BUF_INIT;
	char chunk[8192];
	size_t got;

	if (f == NULL)
		return NULL;
	while ((got = fread(chunk, 1, sizeof chunk, f)) > 0) {
		buf_append(&b, chunk, got);
		if (b.len > CONFIG_MAX_FILE) {
			fclose(f);
			buf_free(&b);
			errno = EFBIG;
			return NULL;
		}
	}
	fclose(f);
	*len = b.len;
	if (b.data == NULL)
		buf_puts(&b, "");
	return buf_detach(&b);
}

/* Parse YAML text into a tree; NULL after reporting an error. */
static struct cnode *
config_parse(struct loader *ld, const char *text, size_t len, const char *file)
{
	yaml_parser_t parser;
	yaml_document_t doc;
	yaml_node_t *root;
	struct cnode *tree = NULL;
	int line, col;

	if (config_prescan(text, len, &line, &col) != 0) {
		config_errorf(ld->errs, "%s:%d:%d: nested more than %d levels deep; natter refuses "
		    "such files before parsing them", file, line, col, CONFIG_MAX_DEPTH);
		return NULL;
	}
	yaml_parser_initialize(&parser);
	yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
	if (!yaml_parser_load(&parser, &doc)) {
		config_errorf(ld->errs, "%s:%zu:%zu: invalid YAML: %s%s%s", file,
		    parser.problem_mark.line + 1, parser.problem_mark.column + 1,
		    parser.problem != NULL ? parser.problem : "syntax error",
		    parser.context != NULL ? " " : "",
		    parser.context != NULL ? parser.context : "");
		yaml_parser_delete(&parser);
		return NULL;
	}
	root = yaml_document_get_root_node(&doc);
	if (root == NULL) {
		tree = xcalloc(1, sizeof *tree);
		tree->kind = CN_MAP;
		tree->file = file;
		tree->line = tree->col = 1;
	} else {
		tree = config_convert(ld, &doc, root, file, 0);
		if (tree != NULL && tree->kind == CN_NULL) {
			tree->kind = CN_MAP;
		} else if (tree != NULL && tree->kind != CN_MAP) {
			config_at(ld, tree, "%s", "the top level must be a mapping of keys");
			cnode_free(tree);
			tree = NULL;
		}
	}
	yaml_document_delete(&doc);
	yaml_parser_delete(&parser);
	return tree;
}

/* Lay src over dst: mappings merge key by key, anything else replaces. Consumes src. */
static struct cnode *
config_merge(struct cnode *dst, struct cnode *src)
{
	size_t i, j;

	if (dst == NULL)
		return src;
	if (src == NULL)
		return dst;
	if (dst->kind == CN_MAP && src->kind == CN_MAP) {
		/* The merged mapping is reported where the later file wrote it, and keeps what
		 * validation found wrong in either. */
		dst->file = src->file;
		dst->line = src->line;
		dst->col = src->col;
		dst->tainted |= src->tainted;
	}
	if (dst->kind != CN_MAP || src->kind != CN_MAP) {
		free(src->key);
		src->key = dst->key;
		src->kline = dst->kline;
		src->kcol = dst->kcol;
		dst->key = NULL;
		cnode_free(dst);
		return src;
	}
	for (i = 0; i < src->nkids; i++) {
		struct cnode *s = src->kids[i];

		for (j = 0; j < dst->nkids; j++)
			if (strcmp(dst->kids[j]->key, s->key) == 0)
				break;
		if (j < dst->nkids) {
			char *key = xstrdup(s->key);
			int kl = s->kline, kc = s->kcol;

			dst->kids[j] = config_merge(dst->kids[j], s);
			free(dst->kids[j]->key);
			dst->kids[j]->key = key;
			dst->kids[j]->kline = kl;
			dst->kids[j]->kcol = kc;
		} else {
			cnode_add(dst, s);
		}
		src->kids[i] = NULL;
	}
	src->nkids = 0;
	cnode_free(src);
	return dst;
}

/* Drop key from mapping n. */
static void
cnode_remove(struct cnode *n, const char *key)
{
	size_t i;

	for (i = 0; i < n->nkids; i++) {
		if (strcmp(n->kids[i]->key, key) == 0) {
			cnode_free(n->kids[i]);
			memmove(n->kids + i, n->kids + i + 1, (n->nkids - i - 1) * sizeof *n->kids);
			n->nkids--;
			return;
		}
	}
}

/* Edit distance counting a swap of neighbours as one edit (typos are often swaps). */
static size_t
config_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), i, j, d[33][33], best;

	if (la > 32 || lb > 32)
		return 99;
	for (i = 0; i <= la; i++)
		d[i][0] = i;
	for (j = 0; j <= lb; j++)
		d[0][j] = j;
	for (i = 1; i <= la; i++) {
		for (j = 1; j <= lb; j++) {
			best = d[i - 1][j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1);
			if (d[i - 1][j] + 1 < best)
				best = d[i - 1][j] + 1;
			if (d[i][j - 1] + 1 < best)
				best = d[i][j - 1] + 1;
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
			    d[i - 2][j - 2] + 1 < best)
				best = d[i - 2][j - 2] + 1;
			d[i][j] = best;
		}
	}
	return d[la][lb];
}

/* The closest of names to word, when close enough to be a plausible typo. */
const char *
config_nearest(const char *word, const char *const *names, size_t n)
{
	size_t i, d, best = 99, limit = strlen(word) / 3 + 1;
	const char *hit = NULL;

	if (limit > 3)
		limit = 3;
	for (i = 0; i < n; i++) {
		if (names[i] == NULL)
			continue;
		d = config_distance(word, names[i]);
		if (d < best) {
			best = d;
			hit = names[i];
		}
	}
	return best <= limit ? hit : NULL;
}

/* The direct children of pattern in table, as names. Caller frees the array. */
const char **
config_children(const struct config_schema *table, size_t tn, const char *pattern,
    size_t *n)
{
	const char **v = xcalloc(tn + 1, sizeof *v);
	size_t i, plen = strlen(pattern);

	*n = 0;
	for (i = 0; i < tn; i++) {
		const char *p = table[i].path, *rest;

		if (plen > 0) {
			if (strncmp(p, pattern, plen) != 0 || p[plen] != '.')
				continue;
			rest = p + plen + 1;
		} else {
			rest = p;
		}
		if (strchr(rest, '.') != NULL || strstr(rest, "[]") != NULL)
			continue;
		v[(*n)++] = rest;
	}
	return v;
}

/* Parse a whole number; -1 when s is not one. */
int
config_number(const char *s, double *out)
{
	char *end;

	errno = 0;
	*out = strtod(s, &end);
	return end != s && *end == '\0' && errno == 0 && isfinite(*out) ? 0 : -1;
}

/* Parse a YAML boolean; -1 when s is not one. */
int
config_bool(const char *s)
{
	if (strcmp(s, "true") == 0 || strcmp(s, "yes") == 0 || strcmp(s, "on") == 0)
		return 1;
	if (strcmp(s, "false") == 0 || strcmp(s, "no") == 0 || strcmp(s, "off") == 0)
		return 0;
	return -1;
}

/* True when word is one of the '|'-separated choices. */
static int
config_choice(const char *choices, const char *word)
{
	size_t n = strlen(word);
	const char *p = choices;

	while (p != NULL && *p != '\0') {
		const char *bar = strchr(p, '|');
		size_t len = bar != NULL ? (size_t)(bar - p) : strlen(p);

		if (len == n && strncmp(p, word, n) == 0)
			return 1;
		p = bar != NULL ? bar + 1 : NULL;
	}
	return 0;
}

/* How a node looks, for "got a list" messages. */
static const char *
config_kind_name(const struct cnode *n)
{
	switch (n->kind) {
	case CN_NULL: return "nothing";
	case CN_SCALAR: return "a value";
	case CN_MAP: return "a mapping";
	case CN_LIST: return "a list";
	}
	return "?";
}

/* The dotted path a.b, or b alone when a is empty (cheaper than a formatted print: the
 * validator joins a path for every key of every file). */
char *
config_join(const char *a, const char *b)
{
	size_t an = strlen(a), bn = strlen(b);
	char *s = xmalloc(an + bn + 2);

	memcpy(s, a, an);
	if (an > 0)
		s[an++] = '.';
	memcpy(s + an, b, bn + 1);
	return s;
}

/* The UNSURE_* bit of top-level section name: 0 for a section that defines no names,
 * every bit when the section is not known. */
static unsigned
config_unsure_bit(const char *name)
{
	if (name == NULL)
		return UNSURE_ALL;
	if (strcmp(name, "providers") == 0)
		return UNSURE_PROVIDERS;
	if (strcmp(name, "models") == 0)
		return UNSURE_MODELS;
	if (strcmp(name, "templates") == 0)
		return UNSURE_TEMPLATES;
	return 0;
}

static void config_validate_map(struct loader *ld, struct cnode *n,
    const struct config_schema *table, size_t tn, const char *pattern, const char *real);

static int config_prune(struct cnode *n);
static void cnode_empty(struct cnode *n);

/* The key table's checker of bindings, installed by the front end. */
static config_binding_check_fn config_binding_checker;

/* Install the checker of bindings: entries. */
void
config_set_binding_check(config_binding_check_fn fn)
{
	config_binding_checker = fn;
}

/* Check the context, key and action names of every entry of the bindings list n against
 * the key table, and that no key is bound twice in one context. An entry at fault is
 * emptied (kept, so later entries keep their index) and so left out. */
static void
config_check_bindings(struct loader *ld, struct cnode *n, const char *real)
{
	static const char *const fields[] = { "context", "key", "action" };
	unsigned *codes;
	size_t i, j;

	if (config_binding_checker == NULL)
		return;
	codes = xcalloc(n->nkids + 1, sizeof *codes);
	for (i = 0; i < n->nkids; i++) {
		struct cnode *k = n->kids[i];
		const struct cnode *at[3];
		const char *ctx;
		char *err = NULL;
		int field = 0;

		if (k->kind != CN_MAP || k->tainted || cnode_str(k, "key") == NULL ||
		    cnode_str(k, "action") == NULL)
			continue;
		at[0] = cnode_get(k, "context");
		at[1] = cnode_get(k, "key");
		at[2] = cnode_get(k, "action");
		ctx = cnode_str(k, "context") != NULL ? cnode_str(k, "context") :
		    config_default("bindings[].context");
		if (config_binding_checker(ctx, cnode_str(k, "key"), cnode_str(k, "action"),
		    &codes[i], &field, &err) != 0) {
			if (field < 0 || field > 2)
				field = 2;
			config_at(ld, at[field] != NULL ? at[field] : k, "%s[%zu].%s: %s", real, i,
			    fields[field], err);
			free(err);
			cnode_empty(k);
			continue;
		}
		for (j = 0; j < i; j++) {
			const struct cnode *o = n->kids[j];
			const char *octx;

			if (o->tainted || cnode_str(o, "key") == NULL || codes[j] != codes[i])
				continue;
			octx = cnode_str(o, "context") != NULL ? cnode_str(o, "context") :
			    config_default("bindings[].context");
			if (strcmp(octx, ctx) != 0)
				continue;
			config_at(ld, at[1], "%s[%zu].key: '%s' in %s is already bound to '%s' by "
			    "%s[%zu] (line %d)", real, i, cnode_str(k, "key"), ctx,
			    cnode_str(o, "action"), real, j, o->line);
			cnode_empty(k);
			break;
		}
	}
	free(codes);
}

/* Report that n does not look like entry e wants, and mark it to be dropped. */
static void
config_type_error(struct loader *ld, struct cnode *n, const struct config_schema *e,
    const char *real)
{
	char *want = config_schema_describe(e);

	if (n->kind == CN_SCALAR)
		config_at(ld, n, "%s: expected %s, got '%s'", real, want, n->value);
	else
		config_at(ld, n, "%s: expected %s, got %s", real, want, config_kind_name(n));
	free(want);
	n->bad = 1;
}

/* Turn n into an empty mapping that keeps its key and place: a named entry (or section)
 * whose value failed validation still exists, so references to its name stay quiet. */
static void
cnode_empty(struct cnode *n)
{
	size_t i;

	for (i = 0; i < n->nkids; i++)
		cnode_free(n->kids[i]);
	free(n->kids);
	free(n->value);
	n->kids = NULL;
	n->nkids = 0;
	n->value = NULL;
	n->kind = CN_MAP;
	n->bad = 0;
	n->tainted = 1;
}

/* Check one scalar against a number, boolean or enum entry. */
static void
config_validate_scalar(struct loader *ld, struct cnode *n, const struct config_schema *e,
    const char *real)
{
	double v;

	if (n->kind == CN_NULL)
		return;
	if (n->kind != CN_SCALAR) {
		config_type_error(ld, n, e, real);
		return;
	}
	switch (e->type) {
	case CONFIG_INT:
	case CONFIG_FLOAT:
		if (config_number(n->value, &v) < 0 || (e->type == CONFIG_INT && v != floor(v)) ||
		    (e->min <= e->max && (v < e->min || v > e->max)))
			config_type_error(ld, n, e, real);
		break;
	case CONFIG_BOOL:
		if (config_bool(n->value) < 0)
			config_type_error(ld, n, e, real);
		break;
	case CONFIG_ENUM:
		if (!config_choice(e->choices, n->value)) {
			char *want = config_schema_describe(e);
			char *list = xstrdup(e->choices), *tok, *save = NULL;
			const char *names[16], *near;
			size_t k = 0;

			for (tok = strtok_r(list, "|", &save); tok != NULL && k < 16;
			    tok = strtok_r(NULL, "|", &save))
				names[k++] = tok;
			near = config_nearest(n->value, names, k);
			if (near != NULL)
				config_at(ld, n, "%s: unknown value '%s', did you mean '%s'?", real,
				    n->value, near);
			else
				config_at(ld, n, "%s: expected %s, got '%s'", real, want, n->value);
			n->bad = 1;
			free(list);
			free(want);
		}
		break;
	default:
		break;
	}
}

/* Check value n against schema entry e; pattern/real are its schema and actual paths. */
static void
config_validate_value(struct loader *ld, struct cnode *n, const struct config_schema *e,
    const struct config_schema *table, size_t tn, const char *pattern, const char *real)
{
	size_t i;
	char *p2, *r2;
	double lo, hi;

	switch (e->type) {
	case CONFIG_SECTION:
		if (n->kind == CN_NULL)
			return;
		if (n->kind != CN_MAP) {
			config_type_error(ld, n, e, real);
			return;
		}
		config_validate_map(ld, n, table, tn, pattern, real);
		break;
	case CONFIG_MAP:
		if (n->kind == CN_NULL)
			return;
		if (n->kind != CN_MAP) {
			/* Which names the user meant to define here is unknown. */
			config_type_error(ld, n, e, real);
			cnode_empty(n);
			ld->unsure |= config_unsure_bit(pattern);
			return;
		}
		p2 = xasprintf("%s.*", pattern);
		for (i = 0; i < n->nkids; i++) {
			struct cnode *k = n->kids[i];

			r2 = config_join(real, k->key);
			if (k->kind == CN_MAP) {
				config_validate_map(ld, k, table, tn, p2, r2);
			} else if (k->kind != CN_NULL) {
				config_at(ld, k, "%s: expected a mapping, got %s", r2,
				    config_kind_name(k));
				cnode_empty(k);
			}
			free(r2);
		}
		free(p2);
		break;
	case CONFIG_LIST:
		if (n->kind == CN_NULL)
			return;
		if (n->kind != CN_LIST) {
			config_type_error(ld, n, e, real);
			return;
		}
		if (e->min <= e->max && (double)n->nkids > e->max) {
			config_at(ld, n, "%s: at most %.0f entries, got %zu", real, e->max,
			    n->nkids);
			n->bad = 1;
			return;
		}
		p2 = xasprintf("%s[]", pattern);
		for (i = 0; i < n->nkids; i++) {
			struct cnode *k = n->kids[i];

			r2 = xasprintf("%s[%zu]", real, i);
			if (k->kind == CN_MAP) {
				config_validate_map(ld, k, table, tn, p2, r2);
			} else {
				/* Emptied, not dropped, so later items keep their index. */
				config_at(ld, k, "%s: expected a mapping, got %s", r2,
				    config_kind_name(k));
				cnode_empty(k);
			}
			free(r2);
		}
		free(p2);
		if (table == config_schema && strcmp(pattern, "bindings") == 0) {
			config_prune(n);
			config_check_bindings(ld, n, real);
		}
		break;
	case CONFIG_STRING:
		if (n->kind != CN_SCALAR && n->kind != CN_NULL)
			config_type_error(ld, n, e, real);
		break;
	case CONFIG_STRINGS:
		if (n->kind == CN_SCALAR && e->choices != NULL &&
		    !config_choice(e->choices, n->value)) {
			char *want = config_schema_describe(e);

			config_at(ld, n, "%s: expected %s, got '%s'", real, want, n->value);
			free(want);
			n->bad = 1;
			return;
		}
		if (n->kind == CN_SCALAR || n->kind == CN_NULL)
			return;
		if (n->kind != CN_LIST) {
			config_type_error(ld, n, e, real);
			return;
		}
		/* A list with one bad item is dropped whole: half a list of fallbacks or stop
		 * sequences means something else. */
		for (i = 0; i < n->nkids; i++)
			if (n->kids[i]->kind != CN_SCALAR) {
				config_at(ld, n->kids[i], "%s: expected a string, got %s", real,
				    config_kind_name(n->kids[i]));
				n->bad = 1;
				return;
			}
		if (e->min <= e->max && (double)n->nkids > e->max) {
			config_at(ld, n, "%s: at most %.0f entries, got %zu", real, e->max,
			    n->nkids);
			n->bad = 1;
		}
		for (i = 0; e->choices != NULL && !n->bad && i < n->nkids; i++)
			if (!config_choice(e->choices, n->kids[i]->value)) {
				char *want = config_schema_describe(e);

				config_at(ld, n->kids[i], "%s: expected %s, got '%s'", real, want,
				    n->kids[i]->value);
				free(want);
				n->bad = 1;
			}
		break;
	case CONFIG_STRMAP:
		if (n->kind == CN_NULL)
			return;
		if (n->kind != CN_MAP) {
			config_type_error(ld, n, e, real);
			return;
		}
		for (i = 0; i < n->nkids; i++)
			if (n->kids[i]->kind == CN_MAP || n->kids[i]->kind == CN_LIST) {
				config_at(ld, n->kids[i], "%s.%s: expected a string, got %s", real,
				    n->kids[i]->key, config_kind_name(n->kids[i]));
				n->kids[i]->bad = 1;
			}
		break;
	case CONFIG_PARAMS:
	case CONFIG_RANGES:
		if (n->kind == CN_NULL)
			return;
		if (n->kind != CN_MAP) {
			config_type_error(ld, n, e, real);
			return;
		}
		if (e->type == CONFIG_PARAMS)
			config_validate_map(ld, n, config_schema_params, config_schema_params_count,
			    "", real);
		else
			config_validate_map(ld, n, config_schema_ranges, config_schema_ranges_count,
			    "", real);
		break;
	case CONFIG_RANGE:
		if (n->kind == CN_SCALAR && config_bool(n->value) >= 0)
			return;
		if (n->kind != CN_LIST || n->nkids != 2 || n->kids[0]->kind != CN_SCALAR ||
		    n->kids[1]->kind != CN_SCALAR || config_number(n->kids[0]->value, &lo) < 0 ||
		    config_number(n->kids[1]->value, &hi) < 0) {
			config_type_error(ld, n, e, real);
			return;
		}
		if (lo > hi) {
			config_at(ld, n, "%s: the minimum %.10g is above the maximum %.10g", real,
			    lo, hi);
			n->bad = 1;
		}
		break;
	default:
		config_validate_scalar(ld, n, e, real);
		break;
	}
}

/* Check every key of mapping n against the direct children of pattern. */
static void
config_validate_map(struct loader *ld, struct cnode *n, const struct config_schema *table,
    size_t tn, const char *pattern, const char *real)
{
	size_t i, nnames;
	const char **names;

	for (i = 0; i < n->nkids; i++) {
		struct cnode *k = n->kids[i];
		char *p = config_join(pattern, k->key);
		char *r = config_join(real, k->key);
		const struct config_schema *e = config_schema_find(table, tn, p);

		if (e == NULL) {
			/* The siblings are listed only for the error's suggestion. */
			const char *near;

			names = config_children(table, tn, pattern, &nnames);
			near = config_nearest(k->key, names, nnames);
			free(names);
			if (near != NULL)
				config_atkey(ld, k, "unknown key '%s', did you mean '%s'?", k->key,
				    near);
			else if (*real)
				config_atkey(ld, k, "unknown key '%s' in %s", k->key, real);
			else
				config_atkey(ld, k, "unknown key '%s'", k->key);
			k->bad = 1;
			/* An unknown top-level mapping may be a misspelt section ("modles:"),
			 * whose names are then missing. */
			if (*real == '\0' && table == config_schema && k->kind == CN_MAP)
				ld->unsure |= config_unsure_bit(near);
		} else {
			config_validate_value(ld, k, e, table, tn, p, r);
		}
		free(p);
		free(r);
	}
}

/* The directory part of path, for resolving includes. */
static char *
config_dirname(const char *path)
{
	const char *slash = strrchr(path, '/');

	if (slash == NULL)
		return xstrdup(".");
	return xstrndup(path, (size_t)(slash - path) + (slash == path ? 1 : 0));
}

/* Expand a leading ~/ and make rel relative to the including file's directory. */
char *
config_resolve(const char *from, const char *rel)
{
	const char *home = getenv("HOME");
	char *dir, *out;

	if (rel[0] == '/')
		return xstrdup(rel);
	if (rel[0] == '~' && rel[1] == '/' && home != NULL)
		return xasprintf("%s%s", home, rel + 1);
	dir = config_dirname(from);
	out = xasprintf("%s/%s", dir, rel);
	free(dir);
	return out;
}

/* Drop the nodes under n that failed validation, marking every mapping or list that lost
 * one as tainted; returns whether n is tainted. */
static int
config_prune(struct cnode *n)
{
	size_t i, kept = 0;

	for (i = 0; i < n->nkids; i++) {
		struct cnode *k = n->kids[i];

		if (k->bad) {
			cnode_free(k);
			n->tainted = 1;
			continue;
		}
		if (config_prune(k))
			n->tainted = 1;
		n->kids[kept++] = k;
	}
	n->nkids = kept;
	return n->tainted;
}

/* Report a config file over CONFIG_MAX_FILE, at the include that named it if any. */
static void
config_too_big(struct loader *ld, const struct cnode *from, const char *path)
{
	if (from != NULL)
		config_at(ld, from, "include '%s': larger than %u MiB, the most a config file "
		    "may have", path, CONFIG_MAX_FILE >> 20);
	else
		config_errorf(ld->errs, "%s:1:1: larger than %u MiB, the most a config file may "
		    "have", path, CONFIG_MAX_FILE >> 20);
}

/* Load one file with its includes: a tree stripped of what failed validation (the errors
 * are in ld->errs), or NULL when the file could not be read or parsed. */
static struct cnode *
config_load_file(struct loader *ld, const char *path, const struct cnode *from)
{
	char *text, *real;
	size_t len = 0, i;
	const char *file;
	struct cnode *tree, *inc, *acc = NULL, *sub;
	int d;

	{
		struct stat st;

		/* Only regular files: an include of a FIFO or a device would hang or flood. The
		 * one device that reads as nothing, /dev/null, is the usual way to say "no file". */
		if (stat(path, &st) == 0 && !S_ISREG(st.st_mode) && strcmp(path, "/dev/null") != 0) {
			if (from != NULL)
				config_at(ld, from, "include '%s': not a regular file", path);
			else
				config_errorf(ld->errs, "%s: not a regular file", path);
			return NULL;
		}
		/* A huge file is refused unread; config_slurp still stops one that grows. */
		if (stat(path, &st) == 0 && st.st_size > (off_t)CONFIG_MAX_FILE) {
			config_too_big(ld, from, path);
			return NULL;
		}
	}
	text = config_slurp(path, &len);
	if (text == NULL && errno == EFBIG) {
		config_too_big(ld, from, path);
		return NULL;
	}
	if (text == NULL) {
		if (from != NULL)
			config_at(ld, from, "include '%s': %s", path, strerror(errno));
		else
			config_errorf(ld->errs, "%s: %s", path, strerror(errno));
		return NULL;
	}
	real = realpath(path, NULL);
	for (d = 0; d < ld->depth; d++) {
		if (real != NULL && strcmp(ld->chain[d], real) == 0) {
			config_at(ld, from, "include '%s' includes itself", path);
			free(real);
			free(text);
			return NULL;
		}
	}
	if (ld->depth >= CONFIG_MAX_INCLUDE) {
		config_at(ld, from, "includes nested more than %d deep", CONFIG_MAX_INCLUDE);
		free(real);
		free(text);
		return NULL;
	}
	file = config_intern(ld->cfg, path);
	tree = config_parse(ld, text, len, file);
	free(text);
	if (tree == NULL) {
		free(real);
		return NULL;
	}
	config_validate_map(ld, tree, config_schema, config_schema_count, "", "");
	/* Without its includes, names this file relies on may be missing. */
	inc = cnode_get(tree, "include");
	if (inc != NULL && inc->bad)
		ld->unsure = UNSURE_ALL;
	config_prune(tree);
	ld->chain[ld->depth++] = real != NULL ? real : xstrdup(path);
	inc = cnode_get(tree, "include");
	if (inc != NULL) {
		size_t ninc = inc->kind == CN_LIST ? inc->nkids : inc->kind == CN_SCALAR ? 1 : 0;

		for (i = 0; i < ninc; i++) {
			const struct cnode *item = inc->kind == CN_LIST ? inc->kids[i] : inc;
			char *p = config_resolve(path, item->value);

			/* A copy of the shipped file still finds the shipped includes. */
			if (access(p, F_OK) != 0 && strchr(item->value, '/') == NULL) {
				char *alt = config_shipped_path(item->value);

				if (alt != NULL) {
					free(p);
					p = alt;
				}
			}

			sub = config_load_file(ld, p, item);
			free(p);
			if (sub != NULL)
				acc = config_merge(acc, sub);
			else
				ld->unsure = UNSURE_ALL;
		}
	}
	ld->depth--;
	free(ld->chain[ld->depth]);
	cnode_remove(tree, "include");
	return config_merge(acc, tree);
}

/* The shipped file called name: installed datadir first, then the source tree. */
char *
config_shipped_path(const char *name)
{
	const char *dirs[3];
	char *p;
	size_t i;

	dirs[0] = getenv("NATTER_DATADIR");
	dirs[1] = NATTER_DATADIR;
	dirs[2] = NATTER_SRCDIR "/config";
	for (i = 0; i < 3; i++) {
		if (dirs[i] == NULL || *dirs[i] == '\0')
			continue;
		p = xasprintf("%s/%s", dirs[i], name);
		if (access(p, R_OK) == 0)
			return p;
		free(p);
	}
	return NULL;
}

/* The user's config file path: NATTER_CONFIG, else the XDG location. */
char *
config_path(void)
{
	const char *env = getenv("NATTER_CONFIG"), *xdg = getenv("XDG_CONFIG_HOME");
	const char *home = getenv("HOME");

	if (env != NULL && *env != '\0')
		return xstrdup(env);
	if (xdg != NULL && *xdg != '\0')
		return xasprintf("%s/natter/natter.yaml", xdg);
	return xasprintf("%s/.config/natter/natter.yaml", home != NULL ? home : ".");
}

/* Whether the user named a config file (NATTER_CONFIG, which --config sets). */
static int
config_named(void)
{
	const char *env = getenv("NATTER_CONFIG");

	return env != NULL && *env != '\0';
}

/* The schema default of a path as text, or NULL. */
const char *
config_default(const char *pattern)
{
	const struct config_schema *e =
	    config_schema_find(config_schema, config_schema_count, pattern);

	return e != NULL ? e->def : NULL;
}

/* Build c from tree, which it takes. */
static void
config_apply(struct loader *ld, struct cnode *tree)
{
	config_build_clear(ld->cfg);
	ld->cfg->tree = tree;
	config_build(ld, tree);
}

/* Load path over the shipped defaults. What has errors is left out and reported; only a
 * user file that cannot be read or parsed at all leaves the shipped defaults alone. */
struct config *
config_load(const char *path, unsigned flags, struct config_errors *errs)
{
	struct config *c = xcalloc(1, sizeof *c);
	struct loader ld;
	struct config_errors shipped_errs = { NULL, 0 };
	struct cnode *base = NULL, *user = NULL;
	char *shipped = NULL, *upath;
	size_t i;

	memset(&ld, 0, sizeof ld);
	ld.cfg = c;
	ld.flags = flags;
	if (!(flags & CONFIG_NO_DEFAULTS) && (shipped = config_shipped_path("natter.yaml")) != NULL) {
		ld.errs = &shipped_errs;
		base = config_load_file(&ld, shipped, NULL);
		free(shipped);
	}
	ld.errs = errs;
	upath = path != NULL ? xstrdup(path) : config_path();
	/* A file the user named (the argument, NATTER_CONFIG, --config) must exist; only the
	 * default location may be absent. */
	if (path != NULL || config_named() || access(upath, F_OK) == 0) {
		ld.nodes = 0;
		user = config_load_file(&ld, upath, NULL);
		if (user != NULL)
			c->path = xstrdup(upath);
	}
	free(upath);
	/* The shipped file is part of natter: its errors are bugs, but still reported. */
	for (i = 0; i < shipped_errs.n; i++) {
		errs->v = xrealloc(errs->v, (errs->n + 1) * sizeof *errs->v);
		errs->v[errs->n++] = shipped_errs.v[i];
	}
	free(shipped_errs.v);
	base = config_merge(base, user);
	if (base == NULL) {
		base = xcalloc(1, sizeof *base);
		base->kind = CN_MAP;
	}
	config_apply(&ld, base);
	return c;
}

/* Validate one file alone (and what it includes, and its cross-references). */
int
config_check_file(const char *path, struct config_errors *errs)
{
	struct config *c = config_load(path, CONFIG_NO_KEYCMD, errs);

	config_free(c);
	return errs->n == 0 ? 0 : -1;
}

/* Release everything the config owns. */
void
config_free(struct config *c)
{
	size_t i;

	if (c == NULL)
		return;
	config_build_clear(c);
	for (i = 0; i < c->nfiles; i++)
		free(c->files[i]);
	free(c->files);
	free(c->path);
	free(c);
}

/* Release collected messages. */
void
config_errors_free(struct config_errors *e)
{
	size_t i;

	for (i = 0; i < e->n; i++)
		free(e->v[i]);
	free(e->v);
	e->v = NULL;
	e->n = 0;
}

