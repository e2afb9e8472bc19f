/*
 * The /template form: a small overlay with one single-line field per variable of a prompt
 * template, prefilled with the template's defaults. Submitting renders the template with
 * template_apply; when variables are still missing the form stays open and names them, so
 * the user fixes the form instead of retyping the command. Each field is a struct lineedit,
 * edited with the same code and (through the key table's form context) the same keys as the
 * input pane, and cutting shares the input's kill buffer; a field longer than its box
 * scrolls sideways to keep the cursor in view.
 */
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "config.h"
#include "template.h"
#include "wrap.h"
#include "xmalloc.h"

/* Forget the form and everything it holds. */
void
form_free(struct app *a)
{
	struct form *f = &a->form;
	size_t i;

	for (i = 0; i < f->n; i++)
		lineedit_free(&f->vals[i]);
	free(f->vals);
	free(f->left);
	free(f->required);
	if (f->names != NULL)
		template_names_free(f->names);
	free(f->tname);
	free(f->err);
	memset(f, 0, sizeof *f);
}

/* The default value t gives variable name, or NULL. */
static const char *
form_default(const struct template *t, const char *name)
{
	size_t i;

	for (i = t->ndefaults; i > 0; i--)
		if (strcmp(t->defaults[i - 1].name, name) == 0)
			return t->defaults[i - 1].value;
	return NULL;
}

/* Render and send the template; keeps the form open with the error when that fails. */
static void
form_submit(struct app *a)
{
	struct form *f = &a->form;
	struct template *t = config_template(a->cfg, f->tname);
	struct template_var *vars = xcalloc(f->n ? f->n : 1, sizeof *vars);
	size_t i, nv = 0;
	char *system = NULL, *user = NULL, *err = NULL;

	if (t == NULL) {
		free(vars);
		ui_note(a, 1, "template %s is gone", f->tname);
		a->overlay = OVERLAY_NONE;
		form_free(a);
		a->dirty |= DIRTY_ALL;
		return;
	}
	/* An empty field means "not given", so the default (or the missing message) applies. */
	for (i = 0; i < f->n; i++) {
		if (f->vals[i].text.len == 0)
			continue;
		vars[nv].name = f->names[i];
		vars[nv].value = f->vals[i].text.data;
		nv++;
	}
	if (template_apply(t, vars, nv, &system, &user, &err) != 0) {
		free(f->err);
		f->err = err;
		free(vars);
		a->dirty |= DIRTY_OVERLAY;
		return;
	}
	free(vars);
	a->overlay = OVERLAY_NONE;
	a->dirty |= DIRTY_ALL;
	if (user == NULL || *user == '\0') {
		ui_note(a, 1, "template %s has no user message to send", t->name);
		free(system);
		free(user);
	} else {
		ui_send_template(a, t, system, user);
	}
	form_free(a);
}

/* Open the form for t, or send it at once when it has no variables. */
void
form_open(struct app *a, const struct template *t)
{
	struct form *f = &a->form;
	size_t i;

	if (t == NULL)
		return;
	form_free(a);
	f->tname = xstrdup(t->name);
	f->n = template_vars(t, &f->names);
	f->vals = xcalloc(f->n ? f->n : 1, sizeof *f->vals);
	f->left = xcalloc(f->n ? f->n : 1, sizeof *f->left);
	f->required = xcalloc(f->n ? f->n : 1, sizeof *f->required);
	for (i = 0; i < f->n; i++) {
		const char *d = form_default(t, f->names[i]);

		lineedit_init(&f->vals[i]);
		lineedit_set(&f->vals[i], d != NULL ? d : "");
		f->required[i] = d == NULL;
	}
	a->overlay = OVERLAY_FORM;
	a->dirty |= DIRTY_ALL;
	if (f->n == 0)
		form_submit(a);
}

/* Close the form without sending anything. */
static void
form_cancel(struct app *a)
{
	a->overlay = OVERLAY_NONE;
	form_free(a);
	ui_note(a, 0, "template cancelled");
	a->dirty |= DIRTY_ALL;
}

/* Run a key table action of the form context; returns 0 when it is not the form's own (a
 * global action bound there, which the caller runs). */
int
form_action(struct app *a, enum action act)
{
	struct form *f = &a->form;

	a->dirty |= DIRTY_OVERLAY;
	switch (act) {
	case ACT_CLOSE:
	case ACT_CANCEL:
	case ACT_INTERRUPT:
		form_cancel(a);
		return 1;
	case ACT_FORM_SEND:
		form_submit(a);
		return 1;
	case ACT_FIELD_ACCEPT:
		if (f->n == 0 || f->cur == (int)f->n - 1)
			form_submit(a);
		else
			f->cur++;
		return 1;
	case ACT_FIELD_NEXT:
		if (f->n > 0)
			f->cur = (f->cur + 1) % (int)f->n;
		return 1;
	case ACT_FIELD_PREV:
		if (f->n > 0)
			f->cur = (f->cur + (int)f->n - 1) % (int)f->n;
		return 1;
	default:
		break;
	}
	if (f->n == 0) {
		/* No field to edit, but an editing key must not reach the input behind the form. */
		struct lineedit none;
		int r;

		lineedit_init(&none);
		r = lineedit_action(&none, act, NULL);
		lineedit_free(&none);
		return r;
	}
	return lineedit_action(&f->vals[f->cur], act, &a->in.kill);
}

/* Insert typed or pasted text at the cursor of the current field. */
void
form_insert(struct app *a, const char *s, size_t n)
{
	struct form *f = &a->form;

	if (f->n == 0)
		return;
	lineedit_insert(&f->vals[f->cur], s, n);
	a->dirty |= DIRTY_OVERLAY;
}

/* Draw the form: a field per row, the current one highlighted, the error under them. */
void
form_draw(struct app *a)
{
	struct form *f = &a->form;
	int h = (int)f->n + 6, w = a->cols - 8 > 30 ? a->cols - 8 : a->cols, y, label = 8;
	int cy = 1, cx = 2;
	size_t i;
	char *title;
	unsigned int fa = theme_attr(THEME_FOCUS, 0);

	if (w > 90)
		w = 90;
	if (h > a->lines)
		h = a->lines;
	for (i = 0; i < f->n; i++)
		if ((int)wrap_width(f->names[i], strlen(f->names[i])) + 2 > label)
			label = (int)wrap_width(f->names[i], strlen(f->names[i])) + 2;
	if (label > w / 3)
		label = w / 3;
	if (a->wover != NULL)
		delwin(a->wover);
	a->wover = newwin(h, w, (a->lines - h) / 2, (a->cols - w) / 2);
	wbkgdset(a->wover, (chtype)theme_attr(THEME_OVERLAY, 0) | ' ');
	werase(a->wover);
	draw_fill(a->wover, 0, 0, w, "─", fa);
	draw_fill(a->wover, h - 1, 0, w, "─", fa);
	for (y = 1; y < h - 1; y++) {
		draw_fill(a->wover, y, 0, 1, "│", fa);
		draw_fill(a->wover, y, w - 1, 1, "│", fa);
	}
	title = xasprintf(" template %s ", f->tname);
	wmove(a->wover, 0, 2);
	draw_text(a->wover, title, strlen(title), theme_attr(THEME_FOCUS, THEME_BOLD), w - 4);
	free(title);
	wmove(a->wover, h - 1, 2);
	{
		char *foot = xasprintf(" %s/%s move · %s on the last field or %s sends · %s cancels ",
		    keys_hint(KCTX_FORM, ACT_FIELD_NEXT), keys_hint(KCTX_FORM, ACT_FIELD_PREV),
		    keys_hint(KCTX_FORM, ACT_FIELD_ACCEPT), keys_hint(KCTX_FORM, ACT_FORM_SEND),
		    keys_hint(KCTX_FORM, ACT_CLOSE));

		draw_text(a->wover, foot, strlen(foot), fa, w - 4);
		free(foot);
	}
	for (i = 0, y = 2; i < f->n && y < h - 3; i++, y++) {
		const struct lineedit *e = &f->vals[i];
		int fw = w - label - 5;
		unsigned int at = theme_attr((int)i == f->cur ? THEME_SELECTED : THEME_OVERLAY, 0);

		wmove(a->wover, y, 2);
		draw_text(a->wover, f->names[i], strlen(f->names[i]),
		    theme_attr(THEME_OVERLAYKEY, f->required[i] ? THEME_BOLD : 0), label);
		draw_fill(a->wover, y, label + 3, fw, " ", at);
		f->left[i] = lineedit_scroll(e, f->left[i], fw);
		wmove(a->wover, y, label + 3);
		draw_text(a->wover, buf_str(&e->text) + f->left[i], e->text.len - f->left[i], at, fw);
		if ((int)i == f->cur) {
			cy = y;
			cx = label + 3 + wrap_width(buf_str(&e->text) + f->left[i],
			    e->cur - f->left[i]);
		}
	}
	if (f->n == 0) {
		wmove(a->wover, 2, 2);
		draw_text(a->wover, "(no variables)", 14, theme_attr(THEME_OVERLAY, 0), w - 4);
	}
	if (f->err != NULL) {
		wmove(a->wover, h - 2, 2);
		draw_text(a->wover, f->err, strlen(f->err), theme_attr(THEME_ERROR, 0), w - 4);
	}
	wmove(a->wover, cy, cx);
	wnoutrefresh(a->wover);
}
