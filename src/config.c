/*
 * Loading natter.yaml. libyaml's document API turns each file into a tree of nodes that
 * remember file, line and column; included files are read first and the including file is
 * laid over them; the result is validated against the schema (config-schema.c), laid over
 * the shipped defaults and turned into struct config. Every message a user sees carries
 * "file:line:col" and, for a misspelt name, the nearest valid one.
 *
 * Validation happens per file, before merging, so a mistake is reported where it was made;
 * cross-references (a model's provider, fallbacks, extends:) are checked after merging,
 * because a user file may refer to names the shipped file defines. A value that fails
 * validation is dropped and the sections above it are marked, so one run reports both kinds
 * of error: cross-checks that the dropped value could have changed are skipped rather than
 * reported as bogus follow-ons, and the rest of the file is still checked.
 */
#include <errno.h>
#include <limits.h>
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
#include "keypool.h"
#include "log.h"
#include "mcp.h"
#include "params.h"
#include "proto.h"
#include "provider.h"
#include "secret.h"
#include "template.h"
#include "text.h"
#include "xmalloc.h"

#define CONFIG_MAX_FILE (4u << 20)
#define CONFIG_MAX_NODES 100000
#define CONFIG_MAX_DEPTH 64
#define CONFIG_MAX_INCLUDE 8

enum cnode_kind { CN_NULL, CN_SCALAR, CN_MAP, CN_LIST };

/* One YAML node with the place it came from. */
struct cnode {
	enum cnode_kind kind;
	char *key;            /* when the node is a mapping value */
	char *value;          /* scalars */
	const char *file;     /* interned in struct config */
	int line, col;        /* of the value, 1-based */
	int kline, kcol;      /* of the key */
	struct cnode **kids;
	size_t nkids;
	unsigned bad : 1;        /* failed validation: dropped before building */
	unsigned tainted : 1;    /* this node or one below it failed validation */
};

/* Sections whose names other keys refer to. */
#define UNSURE_PROVIDERS 0x1u
#define UNSURE_MODELS 0x2u
#define UNSURE_TEMPLATES 0x4u
#define UNSURE_ALL 0x7u

/* State shared by one load. */
struct loader {
	struct config *cfg;         /* owns the interned file names */
	struct config_errors *errs;
	unsigned flags;
	size_t nodes;
	char *chain[CONFIG_MAX_INCLUDE + 1]; /* files being included, to catch cycles */
	int depth;
	/* UNSURE_* sections some of whose names were lost to schema errors or a failed
	 * include: references into them are not reported as unknown. */
	unsigned unsure;
};

/* Append one formatted message to errs, as one terminal-safe line: it may quote the file. */
static void
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

/* Report msg at node n's value position. */
#define config_at(ld, n, fmt, ...) \
	config_errorf((ld)->errs, "%s:%d:%d: " fmt, (n)->file, (n)->line, (n)->col, __VA_ARGS__)
/* Report msg at node n's key position. */
#define config_atkey(ld, n, fmt, ...) \
	config_errorf((ld)->errs, "%s:%d:%d: " fmt, (n)->file, (n)->kline, (n)->kcol, __VA_ARGS__)

/* Free a node and its children. */
static void
cnode_free(struct cnode *n)
{
	size_t i;

	if (n == NULL)
		return;
	for (i = 0; i < n->nkids; i++)
		cnode_free(n->kids[i]);
	free(n->kids);
	free(n->key);
	free(n->value);
	free(n);
}

/* Append kid to n. */
static void
cnode_add(struct cnode *n, struct cnode *kid)
{
	n->kids = xrealloc(n->kids, (n->nkids + 1) * sizeof *n->kids);
	n->kids[n->nkids++] = kid;
}

/* The value of key in mapping n, or NULL. */
static struct cnode *
cnode_get(const struct cnode *n, const char *key)
{
	size_t i;

	if (n == NULL || n->kind != CN_MAP)
		return NULL;
	for (i = 0; i < n->nkids; i++)
		if (strcmp(n->kids[i]->key, key) == 0)
			return n->kids[i];
	return NULL;
}

/* The scalar text of key in n, or NULL when absent or null. */
static const char *
cnode_str(const struct cnode *n, const char *key)
{
	const struct cnode *v = cnode_get(n, key);

	return v != NULL && v->kind == CN_SCALAR ? v->value : NULL;
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
				config_errorf(ld->errs, "%s:%zu:%zu: mapping keys must be plain "
				    "names", file, kn != NULL ? kn->start_mark.line + 1 : 0,
				    kn != NULL ? kn->start_mark.column + 1 : 0);
				cnode_free(n);
				return NULL;
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
				config_atkey(ld, kid, "duplicate key '%s' (first at line %d)",
				    kid->key, old->kline);
				cnode_free(kid);
				cnode_free(n);
				return NULL;
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

/* Where the depth pre-scan is in the text. */
struct prescan {
	const char *p, *end;
	int line, col;           /* 1-based, of p */
	int flow;                /* flow brackets open */
	int ind[CONFIG_MAX_DEPTH + 2]; /* block levels: their indentation columns (0-based) */
	int nind;
	char quote;              /* inside a '…' or "…" scalar: its quote */
	int block_parent;        /* inside a block scalar: lines indented deeper belong to
	                          * it; -1 when not in one */
};

/* True at the end of a token: white space, a line end, or the end of the text. */
static int
prescan_gap(const struct prescan *ps, size_t off)
{
	const char *q = ps->p + off;

	return q >= ps->end || *q == ' ' || *q == '\t' || *q == '\n' || *q == '\r';
}

/* Push a block level at column c when it is deeper than the innermost; 0 when the depth
 * is over the limit. */
static int
prescan_push(struct prescan *ps, int c)
{
	if (ps->nind > 0 && ps->ind[ps->nind - 1] >= c)
		return 1;
	if (ps->nind + ps->flow >= CONFIG_MAX_DEPTH)
		return 0;
	ps->ind[ps->nind++] = c;
	return 1;
}

/* True when a block scalar header (| or > with its indicators) starts at p. */
static int
prescan_block_header(const struct prescan *ps)
{
	size_t k = 1;

	while (ps->p + k < ps->end && (ps->p[k] == '+' || ps->p[k] == '-' ||
	    (ps->p[k] >= '1' && ps->p[k] <= '9')))
		k++;
	return prescan_gap(ps, k) || ps->p[k] == '#';
}

/* Scan one line's content from p (its indentation already skipped); 0 when the nesting
 * goes over the limit there. */
static int
prescan_line(struct prescan *ps, int indent)
{
	int at_node = 1, parent = indent;

	for (; ps->p < ps->end && *ps->p != '\n'; ps->p++, ps->col++) {
		char c = *ps->p;

		if (ps->quote == '"') {
			if (c == '\\' && ps->p + 1 < ps->end && ps->p[1] != '\n') {
				ps->p++;
				ps->col++;
			} else if (c == '"') {
				ps->quote = 0;
			}
			continue;
		}
		if (ps->quote == '\'') {
			if (c == '\'' && ps->p + 1 < ps->end && ps->p[1] == '\'') {
				ps->p++;
				ps->col++;
			} else if (c == '\'') {
				ps->quote = 0;
			}
			continue;
		}
		if (c == ' ' || c == '\t' || c == '\r')
			continue;
		if (c == '#' && (ps->col == 1 || ps->p[-1] == ' ' || ps->p[-1] == '\t')) {
			while (ps->p < ps->end && *ps->p != '\n')
				ps->p++;
			break;
		}
		if (at_node && (c == '"' || c == '\'')) {
			ps->quote = c;
			parent = ps->col - 1;
			at_node = 0;
		} else if ((c == '[' || c == '{') && (at_node || ps->flow > 0)) {
			if (ps->nind + ps->flow >= CONFIG_MAX_DEPTH)
				return 0;
			ps->flow++;
			at_node = 1;
		} else if ((c == ']' || c == '}') && ps->flow > 0) {
			ps->flow--;
			at_node = 0;
		} else if (c == ',' && ps->flow > 0) {
			at_node = 1;
		} else if (c == ':' && (prescan_gap(ps, 1) || (ps->flow > 0 &&
		    strchr(",[]{}", ps->p[1]) != NULL))) {
			at_node = 1;
		} else if ((c == '-' || c == '?') && at_node && ps->flow == 0 && prescan_gap(ps, 1)) {
			/* A sequence entry (or complex key) nests what follows it. */
			if (!prescan_push(ps, ps->col))
				return 0;
			parent = ps->col - 1;
		} else if ((c == '|' || c == '>') && at_node && ps->flow == 0 &&
		    prescan_block_header(ps)) {
			/* A block scalar: the lines indented deeper than its key hold text. */
			ps->block_parent = parent;
			while (ps->p < ps->end && *ps->p != '\n')
				ps->p++;
			break;
		} else if ((c == '&' || c == '!') && at_node) {
			/* An anchor or a tag stands before a node, which may still be a bracket. */
			while (!prescan_gap(ps, 1))
				ps->p++, ps->col++;
		} else {
			if (at_node)
				parent = ps->col - 1;
			at_node = 0;
		}
	}
	return 1;
}

/*
 * Refuse a document nested deeper than CONFIG_MAX_DEPTH before libyaml sees it: libyaml's
 * time grows with the square of the depth (a 200 KB file of x: [[[…]]] 100,000 deep took
 * 18 s), this scan is one pass. The depth counted is the flow brackets open plus the block
 * levels (each deeper indentation, each "- " entry) around a point; it errs a little high
 * (a real config nests under ten deep) and skips what cannot nest: comments, quoted and
 * block scalars. Returns 0, or -1 after reporting where the limit was passed.
 */
static int
config_prescan(struct loader *ld, const char *text, size_t len, const char *file)
{
	struct prescan ps;

	memset(&ps, 0, sizeof ps);
	ps.p = text;
	ps.end = text + len;
	ps.line = 1;
	ps.block_parent = -1;
	while (ps.p < ps.end) {
		int indent = 0;

		ps.col = 1;
		while (ps.p < ps.end && *ps.p == ' ') {
			ps.p++;
			ps.col++;
			indent++;
		}
		if (ps.block_parent >= 0 && ps.quote == 0 && (ps.p >= ps.end || *ps.p == '\n' ||
		    *ps.p == '\r' || indent > ps.block_parent)) {
			while (ps.p < ps.end && *ps.p != '\n')
				ps.p++;
		} else {
			ps.block_parent = -1;
			if (ps.flow == 0 && ps.quote == 0 && ps.p < ps.end && *ps.p != '\n' &&
			    *ps.p != '\r' && *ps.p != '#') {
				while (ps.nind > 0 && ps.ind[ps.nind - 1] > indent)
					ps.nind--;
				if (indent == 0 && ps.end - ps.p >= 3 &&
				    (memcmp(ps.p, "---", 3) == 0 || memcmp(ps.p, "...", 3) == 0))
					ps.nind = 0; /* a new document */
				if (!prescan_push(&ps, indent) || !prescan_line(&ps, indent))
					goto deep;
			} else if (!prescan_line(&ps, indent)) {
				goto deep;
			}
		}
		if (ps.p < ps.end) {
			ps.p++;
			ps.line++;
		}
	}
	return 0;
deep:
	config_errorf(ld->errs, "%s:%d:%d: nested more than %d levels deep; natter refuses "
	    "such files before parsing them", file, ps.line, ps.col, CONFIG_MAX_DEPTH);
	return -1;
}

/* Parse YAML text into a tree; NULL after reporting an error. */
static struct cnode *
config_parse(struct loader *ld, const char *text, size_t len, const char *file)
{
	yaml_parser_t parser;
	yaml_document_t doc;
	yaml_node_t *root;
	struct cnode *tree = NULL;

	if (config_prescan(ld, text, len, file) != 0)
		return NULL;
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
static const char **
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
static int
config_number(const char *s, double *out)
{
	char *end;

	errno = 0;
	*out = strtod(s, &end);
	return end != s && *end == '\0' && errno == 0 && isfinite(*out) ? 0 : -1;
}

/* Parse a YAML boolean; -1 when s is not one. */
static int
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
static char *
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
		break;
	case CONFIG_STRING:
		if (n->kind != CN_SCALAR && n->kind != CN_NULL)
			config_type_error(ld, n, e, real);
		break;
	case CONFIG_STRINGS:
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
static char *
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
static const char *
config_default(const char *pattern)
{
	const struct config_schema *e =
	    config_schema_find(config_schema, config_schema_count, pattern);

	return e != NULL ? e->def : NULL;
}

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

/* Run a key command once and return its first line, or NULL. */
static char *
config_run_key_cmd(struct loader *ld, const struct cnode *at, const char *cmd)
{
	FILE *f = popen(cmd, "r");
	char line[4096];
	char *key = NULL;
	size_t n;
	int st;

	if (f == NULL) {
		config_at(ld, at, "key_cmd: cannot run '%s': %s", cmd, strerror(errno));
		return NULL;
	}
	if (fgets(line, sizeof line, f) != NULL) {
		n = strlen(line);
		while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r' || line[n - 1] == ' '))
			line[--n] = '\0';
		if (n > 0)
			key = xstrdup(line);
	}
	while (fgets(line, sizeof line, f) != NULL)
		;
	st = pclose(f);
	memset(line, 0, sizeof line);
	if (st != 0 || key == NULL) {
		config_at(ld, at, "key_cmd '%s' failed (status %d) or printed nothing", cmd, st);
		free(key);
		return NULL;
	}
	return key;
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

/* Collect one key source (literal, key_cmd or env) of section n into pool. */
static int
config_key_source(struct loader *ld, struct keypool *pool, const struct cnode *n,
    const char *pname, long rpm, long rpd, long tpm, int allow_default_env)
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
		secret = config_run_key_cmd(ld, cmd, cmd->value);
		if (secret != NULL) {
			keypool_add(pool, secret, "key_cmd", rpm, rpd, tpm);
			memset(secret, 0, strlen(secret));
			free(secret);
			return 1;
		}
		return 0;
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
static double
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

static int config_secret_header(const char *name);

/* Register the credential of a configured header ("Authorization: Bearer X" gives the
 * whole value and X) so that an echo of it is scrubbed like a key. */
static void
config_header_secret(const char *name, const char *value)
{
	const char *sp;

	if (value == NULL || !config_secret_header(name))
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
	int local, nsources = 0;
	size_t i;
	char *line, *env, *reason = NULL;

	if (protocol == NULL) {
		/* In a section with schema errors, the protocol may be what was wrong. */
		if (!n->tainted)
			config_atkey(ld, n, "providers.%s: missing required key 'protocol'",
			    n->key);
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
	rpm = (long)config_getnum(n, pat, "rpm", 0);
	rpd = (long)config_getnum(n, pat, "rpd", 0);
	tpm = (long)config_getnum(n, pat, "tpm", 0);
	keys = cnode_get(n, "keys");
	if (cnode_get(n, "key") != NULL || cnode_get(n, "key_cmd") != NULL ||
	    cnode_get(n, "key_env") != NULL || keys == NULL || keys->kind != CN_LIST)
		nsources += config_key_source(ld, pool, n, n->key, rpm, rpd, tpm,
		    keys == NULL && !local);
	for (i = 0; keys != NULL && keys->kind == CN_LIST && i < keys->nkids; i++) {
		const struct cnode *k = keys->kids[i];

		nsources += config_key_source(ld, pool, k, n->key,
		    (long)config_getnum(k, "providers.*.keys[]", "rpm", (double)rpm),
		    (long)config_getnum(k, "providers.*.keys[]", "rpd", (double)rpd),
		    (long)config_getnum(k, "providers.*.keys[]", "tpm", (double)tpm), 0);
	}
	if (strcmp(enabled, "false") == 0) {
		config_disable(c, n->key, xstrdup("disabled in the config"), NULL);
		keypool_free(pool);
		return;
	}
	if (strcmp(enabled, "auto") == 0) {
		if (local && addr_env != NULL && addr == NULL) {
			reason = xasprintf("local server; set %s to its address", addr_env);
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
	p->sim_tokens_per_s = config_getnum(n, pat, "tokens_per_second", 0);
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

/* Build one model from its section; one whose provider is missing or unknown is still
 * listed (not offered), so that references to its name are not reported as well. */
static void
config_build_model(struct loader *ld, const struct cnode *n, const struct cnode *providers)
{
	static const char *pat = "models.*";
	struct config *c = ld->cfg;
	const struct cnode *pv = cnode_get(n, "provider"), *pn = NULL, *ranges, *r;
	const char *protocol = "simulated", *s;
	struct model *m;
	size_t i;
	/* Checks that read the whole section and its provider's: only when both are sound. */
	int whole = !n->tainted;

	if (pv == NULL || pv->kind != CN_SCALAR) {
		if (!n->tainted)
			config_atkey(ld, n, "models.%s: missing required key 'provider'", n->key);
		pv = NULL;
		whole = 0;
	} else if ((pn = cnode_get(providers, pv->value)) == NULL) {
		if (!(ld->unsure & UNSURE_PROVIDERS))
			config_unknown_provider(ld, n, pv, providers);
		whole = 0;
	} else if (pn->tainted) {
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
	m->context_window = (long)config_getnum(n, pat, "context_window", 0);
	m->max_output = (long)config_getnum(n, pat, "max_output", 0);
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
		if (params_check(&single, m, &err) < 0)
			config_at(ld, r->kids[i], "models.%s.defaults: %s", n->key, err);
		free(err);
		params_free(&single);
	}
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

/* Check fallbacks and aliases once every model exists. */
static void
config_check_models(struct loader *ld, const struct cnode *models)
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
				config_unknown_model(ld, at, what, name);
				free(what);
			} else if (config_model_lookup(c, name) == &c->models[i]) {
				config_at(ld, at, "models.%s.fallback: a model cannot fall back to "
				    "itself", c->models[i].name);
			}
		}
		for (j = 0; j < c->models[i].naliases; j++) {
			const struct model *other = config_model_lookup(c, c->models[i].aliases[j]);

			if (other != NULL && other != &c->models[i])
				config_at(ld, al->kind == CN_LIST ? al->kids[j] : al,
				    "models.%s.aliases: '%s' already names model %s",
				    c->models[i].name, c->models[i].aliases[j], other->name);
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

/* Resolve extends: for every template; parents first, cycles reported. */
static void
config_resolve_templates(struct loader *ld, const struct cnode *tnodes)
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

		if (mod != NULL && mod->kind == CN_SCALAR && strchr(mod->value, '/') == NULL &&
		    config_model_lookup(c, mod->value) == NULL) {
			char *what = xasprintf("templates.%s.model", c->templates[i].name);

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

		if (n->kind != CN_MAP || config_mcp_transport(ld, n) != 0)
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

/* Turn a merged, validated tree into c; errors go to ld->errs. */
static void
config_build(struct loader *ld, struct cnode *tree)
{
	struct config *c = ld->cfg;
	const struct cnode *sec, *dm;
	size_t i, j;

	sec = cnode_get(tree, "providers");
	for (i = 0; sec != NULL && sec->kind == CN_MAP && i < sec->nkids; i++)
		if (sec->kids[i]->kind == CN_MAP)
			config_build_provider(ld, sec->kids[i]);
	{
		const struct cnode *models = cnode_get(tree, "models");

		for (i = 0; models != NULL && models->kind == CN_MAP && i < models->nkids; i++)
			if (models->kids[i]->kind == CN_MAP)
				config_build_model(ld, models->kids[i], sec);
		config_check_models(ld, models);
	}
	config_params(ld, cnode_get(tree, "defaults"), &c->defaults);
	sec = cnode_get(tree, "templates");
	for (i = 0; sec != NULL && sec->kind == CN_MAP && i < sec->nkids; i++)
		if (sec->kids[i]->kind == CN_MAP)
			config_build_template(ld, sec->kids[i]);
	config_resolve_templates(ld, sec);
	config_build_mcp(ld, tree);
	config_build_serve(c, tree);
	sec = cnode_get(tree, "bindings");
	for (i = 0; sec != NULL && sec->kind == CN_LIST && i < sec->nkids; i++) {
		const struct cnode *b = sec->kids[i];
		struct config_binding *cb;
		const char *key = cnode_str(b, "key"), *action = cnode_str(b, "action");

		if (key == NULL || action == NULL) {
			if (!b->tainted)
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
	c->theme = xstrdup(cnode_str(tree, "theme") != NULL ? cnode_str(tree, "theme") :
	    config_default("theme"));
	c->context_policy = config_policy(config_get(cnode_get(tree, "context"), "context",
	    "policy"), CONTEXT_DROP);
	c->context_keep = (long)config_getnum(cnode_get(tree, "context"), "context", "keep_turns",
	    6);
	c->ask_save = config_bool(config_get(cnode_get(tree, "ask"), "ask", "save")) != 0;
	dm = cnode_get(tree, "default_model");
	if (dm != NULL && dm->kind == CN_SCALAR) {
		struct model *m = config_model_lookup(c, dm->value);

		if (m == NULL && strchr(dm->value, '/') == NULL)
			config_unknown_model(ld, dm, "default_model", dm->value);
		else if (m != NULL && m->provider != NULL)
			c->default_model = xstrdup(m->name);
		else if (m == NULL)
			c->default_model = xstrdup(dm->value);
	}
	for (j = 0; c->default_model == NULL && j < c->nmodels; j++)
		if (c->models[j].provider != NULL)
			c->default_model = xstrdup(c->models[j].name);
	if (c->default_model == NULL)
		c->default_model = xstrdup("simulated");
}

/* The config fields that depend on the tree, released so a build can be redone. */
static void
config_clear(struct config *c)
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
	free(c->theme);
	for (i = 0; i < c->nbindings; i++) {
		free(c->bindings[i].context);
		free(c->bindings[i].key);
		free(c->bindings[i].action);
	}
	free(c->bindings);
	config_mcp_clear(c);
	config_serve_clear(c);
	for (i = 0; i < c->nwarnings; i++)
		free(c->warnings[i]);
	free(c->warnings);
	cnode_free(c->tree);
	c->providers = NULL;
	c->pools = NULL;
	c->disabled = NULL;
	c->models = NULL;
	c->templates = NULL;
	c->bindings = NULL;
	c->warnings = NULL;
	c->tree = NULL;
	c->default_model = c->theme = NULL;
	memset(&c->defaults, 0, sizeof c->defaults);
	c->nproviders = c->ndisabled = c->nmodels = c->ntemplates = c->nbindings = 0;
	c->nwarnings = 0;
}

/* Build c from tree, which it takes; returns the number of errors. */
static size_t
config_apply(struct loader *ld, struct cnode *tree)
{
	size_t before = ld->errs->n;

	config_clear(ld->cfg);
	ld->cfg->tree = tree;
	config_build(ld, tree);
	return ld->errs->n - before;
}

/* Load path over the shipped defaults; falls back to the defaults alone on errors. */
struct config *
config_load(const char *path, unsigned flags, struct config_errors *errs)
{
	struct config *c = xcalloc(1, sizeof *c);
	struct loader ld;
	struct config_errors shipped_errs = { NULL, 0 };
	struct cnode *base = NULL, *user = NULL;
	char *shipped = NULL, *upath;
	size_t i, invalid = 0;

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
		invalid = errs->n;
		user = config_load_file(&ld, upath, NULL);
		/* Schema errors in the user's files: their cross-references are still checked,
		 * but the result is then thrown away. */
		invalid = errs->n - invalid;
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
	if (user != NULL) {
		struct cnode *merged = config_merge(base, user);

		base = NULL;
		/* No key command runs for a config that will not be used. */
		if (invalid > 0)
			ld.flags |= CONFIG_NO_KEYCMD;
		if (config_apply(&ld, merged) == 0 && invalid == 0)
			return c;
		ld.flags = flags;
		free(c->path);
		c->path = NULL;
		/* Rebuild from the shipped file alone so natter still starts. */
		if (!(flags & CONFIG_NO_DEFAULTS) &&
		    (shipped = config_shipped_path("natter.yaml")) != NULL) {
			struct config_errors ignore = { NULL, 0 };

			ld.errs = &ignore;
			base = config_load_file(&ld, shipped, NULL);
			free(shipped);
			config_errors_free(&ignore);
			ld.errs = errs;
		}
	}
	if (base == NULL) {
		base = xcalloc(1, sizeof *base);
		base->kind = CN_MAP;
	}
	{
		struct config_errors ignore = { NULL, 0 };

		ld.errs = &ignore;
		config_apply(&ld, base);
		config_errors_free(&ignore);
	}
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
	config_clear(c);
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
static int
config_secret_header(const char *name)
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
					    config_secret_header(k->kids[j]->key), 0);
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
