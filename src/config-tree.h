/*
 * The inside of the config loader, shared by its files and nobody else: config.c reads,
 * checks and merges the YAML into a tree of nodes that remember where they came from;
 * config-build.c turns the merged tree into struct config; config-show.c prints it back;
 * config-prescan.c refuses a document nested too deep before libyaml sees it.
 */
#ifndef NATTER_CONFIG_TREE_H
#define NATTER_CONFIG_TREE_H

#include <stdlib.h>
#include <string.h>

#include "config.h"

#define CONFIG_MAX_FILE (4u << 20)
#define CONFIG_MAX_NODES 100000
#define CONFIG_MAX_DEPTH 64
#define CONFIG_MAX_INCLUDE 8
/* Why an entry with errors is not offered (a provider's reason in c->disabled). */
#define CONFIG_LEFT_OUT "left out: its configuration has errors (natter config check)"

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

/* Report msg at node n's value position. */
#define config_at(ld, n, fmt, ...) \
	config_errorf((ld)->errs, "%s:%d:%d: " fmt, (n)->file, (n)->line, (n)->col, __VA_ARGS__)
/* Report msg at node n's key position. */
#define config_atkey(ld, n, fmt, ...) \
	config_errorf((ld)->errs, "%s:%d:%d: " fmt, (n)->file, (n)->kline, (n)->kcol, __VA_ARGS__)

/* Free a node and its children. */
static inline void
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

/* The value of key in mapping n, or NULL. */
static inline struct cnode *
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
static inline const char *
cnode_str(const struct cnode *n, const char *key)
{
	const struct cnode *v = cnode_get(n, key);

	return v != NULL && v->kind == CN_SCALAR ? v->value : NULL;
}

/* Append one formatted message to errs, as one terminal-safe line. */
void config_errorf(struct config_errors *errs, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* The closest name checks and parsers of config.c, used when building too. */
int config_number(const char *s, double *out);
int config_bool(const char *s);
char *config_join(const char *a, const char *b);
const char *config_default(const char *pattern);
/* rel made relative to the directory of the file from, with a leading ~/ expanded. */
char *config_resolve(const char *from, const char *rel);
const char **config_children(const struct config_schema *table, size_t tn, const char *pattern,
    size_t *n);

/* Turn a merged, validated tree into ld->cfg (config-build.c); errors go to ld->errs. */
void config_build(struct loader *ld, struct cnode *tree);
/* Release what config_build made, so a build can be redone (config-build.c). */
void config_build_clear(struct config *c);
/* True for header (and MCP env:) names that carry credentials (config-show.c). */
int config_show_secret_header(const char *name);
/* 0 when text nests at most CONFIG_MAX_DEPTH deep, else -1 with *line and *col where it
 * went deeper (config-prescan.c). */
int config_prescan(const char *text, size_t len, int *line, int *col);

#endif
