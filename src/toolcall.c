/*
 * Tool-call accumulation (see toolcall.h): the pieces of every protocol's tool calls are
 * matched to their call, and each call is checked once it is whole. Only matching and
 * checking live here; which JSON key holds a piece is each adapter's business.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cJSON.h>

#include "toolcall.h"
#include "xmalloc.h"

/* Start with no calls. */
void
toolacc_init(struct toolacc *a)
{
	memset(a, 0, sizeof(*a));
}

/* Free every call. */
void
toolacc_free(struct toolacc *a)
{
	size_t i;

	for (i = 0; i < a->n; i++) {
		free(a->v[i].id);
		free(a->v[i].name);
		free(a->v[i].signature);
		buf_free(&a->v[i].args);
	}
	free(a->v);
	memset(a, 0, sizeof(*a));
}

/* Append an empty call. */
static struct toolcall *
toolacc_push(struct toolacc *a, long index, const char *id)
{
	struct toolcall *c;

	if (a->n == a->cap) {
		a->cap = a->cap ? a->cap * 2 : 4;
		a->v = xrealloc(a->v, a->cap * sizeof(*a->v));
	}
	c = &a->v[a->n++];
	a->progress++;
	memset(c, 0, sizeof(*c));
	buf_init(&c->args);
	c->index = index;
	c->id = id != NULL && id[0] != '\0' ? xstrdup(id) : NULL;
	return c;
}

/* Find the open call a streamed piece belongs to, or start one. */
struct toolcall *
toolacc_at(struct toolacc *a, long index, const char *id)
{
	size_t i;
	int has_id = id != NULL && id[0] != '\0';

	a->progress++;
	/* An id names its call wherever it appears (servers that repeat index 0). */
	if (has_id)
		for (i = a->nfinished; i < a->n; i++)
			if (a->v[i].id != NULL && strcmp(a->v[i].id, id) == 0)
				return &a->v[i];
	if (index >= 0) {
		for (i = a->n; i > a->nfinished; i--) {
			struct toolcall *c = &a->v[i - 1];

			if (c->index != index)
				continue;
			/* The same index with a new id is a new call. */
			if (has_id && c->id != NULL)
				break;
			if (has_id)
				c->id = xstrdup(id);
			return c;
		}
		return toolacc_push(a, index, id);
	}
	if (!has_id && a->n > a->nfinished)
		return &a->v[a->n - 1];
	return toolacc_push(a, -1, id);
}

/* Add a call whose start the protocol marks (a block, a part, a list item). */
struct toolcall *
toolacc_add(struct toolacc *a, long index, const char *id, const char *name)
{
	struct toolcall *c = toolacc_push(a, index, id);

	if (name != NULL)
		toolacc_name(c, name, strlen(name));
	return c;
}

/* Set or extend the call's name (OpenAI streams it in pieces at times). */
void
toolacc_name(struct toolcall *c, const char *name, size_t n)
{
	size_t old = c->name != NULL ? strlen(c->name) : 0;

	if (n == 0)
		return;
	c->name = xrealloc(c->name, old + n + 1);
	memcpy(c->name + old, name, n);
	c->name[old + n] = '\0';
}

/* Append a piece of the arguments' JSON text. */
void
toolacc_args(struct toolcall *c, const char *p, size_t n)
{
	buf_append(&c->args, p, n);
}

/* Keep the signature the call must be sent back with. */
void
toolacc_signature(struct toolcall *c, const char *sig)
{
	free(c->signature);
	c->signature = sig != NULL && sig[0] != '\0' ? xstrdup(sig) : NULL;
}

/* Check one call's arguments and write them back compactly. */
static void
toolcall_check(struct toolcall *c)
{
	const char *end = NULL;
	cJSON *j;
	char *out;
	size_t k = 0;

	while (k < c->args.len && (c->args.data[k] == ' ' || c->args.data[k] == '\n' ||
	    c->args.data[k] == '\t' || c->args.data[k] == '\r'))
		k++;
	if (k == c->args.len) {
		buf_reset(&c->args);
		buf_puts(&c->args, "{}");
		return;
	}
	j = cJSON_ParseWithLengthOpts(c->args.data, c->args.len, &end, 0);
	if (!cJSON_IsObject(j)) {
		c->bad_args = 1;
		cJSON_Delete(j);
		return;
	}
	/* Trailing bytes after the object: only blanks are allowed. */
	for (; end != NULL && end < c->args.data + c->args.len; end++)
		if (*end != ' ' && *end != '\n' && *end != '\t' && *end != '\r' && *end != '\0') {
			c->bad_args = 1;
			cJSON_Delete(j);
			return;
		}
	out = cJSON_PrintUnformatted(j);
	cJSON_Delete(j);
	if (out == NULL) {
		c->bad_args = 1;
		return;
	}
	buf_reset(&c->args);
	buf_puts(&c->args, out);
	cJSON_free(out);
}

/* Make every open call whole; calls with no name are dropped. */
size_t
toolacc_finish(struct toolacc *a)
{
	size_t i, w = a->nfinished;
	char id[32];

	for (i = a->nfinished; i < a->n; i++) {
		struct toolcall *c = &a->v[i];

		if (c->name == NULL) {
			free(c->id);
			free(c->signature);
			buf_free(&c->args);
			continue;
		}
		if (c->id == NULL) {
			snprintf(id, sizeof(id), "call_%zu", w + 1);
			c->id = xstrdup(id);
			c->made_id = 1;
		}
		toolcall_check(c);
		a->v[w++] = *c;
	}
	a->n = w;
	a->nfinished = w;
	return w;
}

/* The arguments as one JSON object text. */
const char *
toolcall_args(const struct toolcall *c)
{
	return c->args.len > 0 ? c->args.data : "{}";
}
