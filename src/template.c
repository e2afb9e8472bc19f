/*
 * Template rendering (see template.h). Placeholders are deliberately narrow, {name} with a
 * name made of letters, digits, '_' and '-', so that ordinary prose and code containing
 * braces ("if (x) { return; }") pass through untouched without escaping; only the exact
 * {name} shape is a placeholder, and {{ / }} remain available to write one literally.
 */
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "params.h"
#include "request.h"
#include "template.h"
#include "xmalloc.h"

/* True for characters allowed in a variable name. */
static int
template_namechar(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	    c == '_' || c == '-';
}

/* Length of the placeholder name starting after '{' at s, or 0 when it is not one. */
static size_t
template_placeholder(const char *s)
{
	size_t n = 0;

	while (template_namechar(s[n]))
		n++;
	return n > 0 && s[n] == '}' ? n : 0;
}

/* The value of the variable name (n bytes) in vars, or NULL; later entries win. */
static const char *
template_lookup(const struct template_var *vars, size_t nvars, const char *name, size_t n)
{
	size_t i;

	for (i = nvars; i > 0; i--)
		if (strlen(vars[i - 1].name) == n && strncmp(vars[i - 1].name, name, n) == 0)
			return vars[i - 1].value;
	return NULL;
}

/* Add name (n bytes) to a NULL-terminated list unless it is there already. */
static void
template_note(char ***list, size_t *count, const char *name, size_t n)
{
	size_t i;

	for (i = 0; i < *count; i++)
		if (strlen((*list)[i]) == n && strncmp((*list)[i], name, n) == 0)
			return;
	*list = xrealloc(*list, (*count + 2) * sizeof **list);
	(*list)[(*count)++] = xstrndup(name, n);
	(*list)[*count] = NULL;
}

/* Render text with vars; NULL and an error naming every missing variable. */
char *
template_render(const char *text, const struct template_var *vars, size_t nvars, char **err)
{
	struct buf out = BUF_INIT, miss = BUF_INIT;
	char **missing = NULL;
	size_t nmissing = 0, n, i;
	const char *p, *v;

	*err = NULL;
	buf_puts(&out, "");
	for (p = text; *p != '\0'; p++) {
		if ((p[0] == '{' && p[1] == '{') || (p[0] == '}' && p[1] == '}')) {
			buf_putc(&out, *p++);
			continue;
		}
		if (*p == '{' && (n = template_placeholder(p + 1)) > 0) {
			v = template_lookup(vars, nvars, p + 1, n);
			if (v != NULL)
				buf_puts(&out, v);
			else
				template_note(&missing, &nmissing, p + 1, n);
			p += n + 1;
			continue;
		}
		buf_putc(&out, *p);
	}
	if (nmissing == 0)
		return buf_detach(&out);
	buf_free(&out);
	buf_puts(&miss, nmissing == 1 ? "missing variable: " : "missing variables: ");
	for (i = 0; i < nmissing; i++)
		buf_printf(&miss, "%s%s", i > 0 ? ", " : "", missing[i]);
	template_names_free(missing);
	*err = buf_detach(&miss);
	return NULL;
}

/* Collect the distinct placeholder names of text. */
size_t
template_names(const char *text, char ***names)
{
	size_t count = 0, n;
	const char *p;

	*names = xcalloc(1, sizeof **names);
	for (p = text != NULL ? text : ""; *p != '\0'; p++) {
		if ((p[0] == '{' && p[1] == '{') || (p[0] == '}' && p[1] == '}')) {
			p++;
			continue;
		}
		if (*p == '{' && (n = template_placeholder(p + 1)) > 0) {
			template_note(names, &count, p + 1, n);
			p += n + 1;
		}
	}
	return count;
}

/* Free a list from template_names. */
void
template_names_free(char **names)
{
	size_t i;

	for (i = 0; names != NULL && names[i] != NULL; i++)
		free(names[i]);
	free(names);
}

/* Every variable of t, system first. */
size_t
template_vars(const struct template *t, char ***names)
{
	char **a, **b;
	size_t na = template_names(t->system, &a), nb = template_names(t->user, &b), i;

	for (i = 0; i < nb; i++)
		template_note(&a, &na, b[i], strlen(b[i]));
	template_names_free(b);
	*names = a;
	return na;
}

/* Render t's system and user parts with vars over its defaults. */
int
template_apply(const struct template *t, const struct template_var *vars, size_t nvars,
    char **system, char **user, char **err)
{
	struct template_var *all;
	size_t n = t->ndefaults + nvars, i;
	char *e1 = NULL, *e2 = NULL, *s = NULL, *u = NULL;

	*system = *user = NULL;
	*err = NULL;
	all = xcalloc(n + 1, sizeof *all);
	for (i = 0; i < t->ndefaults; i++)
		all[i] = t->defaults[i];
	for (i = 0; i < nvars; i++)
		all[t->ndefaults + i] = vars[i];
	if (t->system != NULL)
		s = template_render(t->system, all, n, &e1);
	if (t->user != NULL)
		u = template_render(t->user, all, n, &e2);
	free(all);
	if (e1 != NULL || e2 != NULL) {
		/* Report both parts at once; render the concatenation to merge the names. */
		struct buf both = BUF_INIT;
		char *e3 = NULL, *r;

		buf_puts(&both, t->system != NULL ? t->system : "");
		buf_putc(&both, '\n');
		buf_puts(&both, t->user != NULL ? t->user : "");
		all = xcalloc(n + 1, sizeof *all);
		for (i = 0; i < t->ndefaults; i++)
			all[i] = t->defaults[i];
		for (i = 0; i < nvars; i++)
			all[t->ndefaults + i] = vars[i];
		r = template_render(buf_str(&both), all, n, &e3);
		free(r);
		free(all);
		buf_free(&both);
		*err = xasprintf("template %s: %s", t->name, e3 != NULL ? e3 : "cannot render");
		free(e1);
		free(e2);
		free(e3);
		free(s);
		free(u);
		return -1;
	}
	*system = s;
	*user = u;
	return 0;
}

/* Refuse a variable t does not use: naming it beats a -V typo silently ignored. */
int
template_check_vars(const struct template *t, const struct template_var *vars,
    size_t nvars, char **err)
{
	char **names;
	size_t n = template_vars(t, &names), i, j;
	const char *near;
	struct buf b = BUF_INIT;

	*err = NULL;
	for (i = 0; i < nvars; i++) {
		for (j = 0; j < n && strcmp(names[j], vars[i].name) != 0; j++)
			;
		if (j < n)
			continue;
		near = config_nearest(vars[i].name, (const char *const *)names, n);
		buf_printf(&b, "template %s has no variable '%s'", t->name, vars[i].name);
		if (near != NULL)
			buf_printf(&b, " (did you mean '%s'?)", near);
		buf_puts(&b, n == 0 ? "; it has no variables" : "; its variables are ");
		for (j = 0; j < n; j++)
			buf_printf(&b, "%s%s", j > 0 ? ", " : "", names[j]);
		*err = buf_detach(&b);
		break;
	}
	template_names_free(names);
	return *err != NULL ? -1 : 0;
}

/* Join parent and child text per mode. */
static char *
template_join(const char *parent, const char *child, enum template_mode mode)
{
	if (child == NULL)
		return parent != NULL ? xstrdup(parent) : NULL;
	if (mode == TEMPLATE_REPLACE || parent == NULL)
		return xstrdup(child);
	return xasprintf("%s\n\n%s", parent, child);
}

/* Inherit system, user, defaults, model and parameters from parent. */
void
template_inherit(struct template *t, const struct template *parent)
{
	char *s = template_join(parent->system, t->system, t->mode);
	char *u = template_join(parent->user, t->user, t->mode);
	struct template_var *d;
	struct params merged;
	size_t i, n = 0;

	free(t->system);
	free(t->user);
	t->system = s;
	t->user = u;
	d = xcalloc(parent->ndefaults + t->ndefaults + 1, sizeof *d);
	for (i = 0; i < parent->ndefaults; i++) {
		d[n].name = xstrdup(parent->defaults[i].name);
		d[n++].value = xstrdup(parent->defaults[i].value);
	}
	for (i = 0; i < t->ndefaults; i++)
		d[n++] = t->defaults[i]; /* later entries win at lookup time */
	free(t->defaults);
	t->defaults = d;
	t->ndefaults = n;
	if (t->model == NULL && parent->model != NULL)
		t->model = xstrdup(parent->model);
	if (t->description == NULL && parent->description != NULL)
		t->description = xstrdup(parent->description);
	memset(&merged, 0, sizeof merged);
	params_overlay(&merged, &parent->params);
	params_overlay(&merged, &t->params);
	params_free(&t->params);
	t->params = merged;
}

/* Free what a template owns. */
void
template_clear(struct template *t)
{
	size_t i;

	free(t->name);
	free(t->description);
	free(t->system);
	free(t->user);
	free(t->extends);
	free(t->model);
	for (i = 0; i < t->ndefaults; i++) {
		free(t->defaults[i].name);
		free(t->defaults[i].value);
	}
	free(t->defaults);
	params_free(&t->params);
	memset(t, 0, sizeof *t);
}
