/*
 * The /template form: a small overlay with one single-line field per variable of a prompt
 * template, prefilled with the template's defaults. Submitting renders the template with
 * template_apply; when variables are still missing the form stays open and names them, so
 * the user fixes the form instead of retyping the command. Fields are edited at their end
 * only: they hold short values, and a full line editor here would duplicate pane-input.c.
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
		buf_free(&f->vals[i]);
	free(f->vals);
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
		if (f->vals[i].len == 0)
			continue;
		vars[nv].name = f->names[i];
		vars[nv].value = f->vals[i].data;
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
	f->required = xcalloc(f->n ? f->n : 1, sizeof *f->required);
	for (i = 0; i < f->n; i++) {
		const char *d = form_default(t, f->names[i]);

		buf_puts(&f->vals[i], d != NULL ? d : "");
		f->required[i] = d == NULL;
	}
	a->overlay = OVERLAY_FORM;
	a->dirty |= DIRTY_ALL;
	if (f->n == 0)
		form_submit(a);
}

/* Remove the last character (a whole UTF-8 sequence) of field b. */
static void
form_backspace(struct buf *b)
{
	while (b->len > 0) {
		unsigned char c = (unsigned char)b->data[--b->len];

		if ((c & 0xc0) != 0x80)
			break;
	}
	if (b->data != NULL)
		b->data[b->len] = '\0';
}

/* Handle one key while the form is open; u holds the key's UTF-8 text (ulen 0: none). */
int
form_key(struct app *a, unsigned k, const char *u, size_t ulen)
{
	struct form *f = &a->form;
	int last = f->n == 0 || f->cur == (int)f->n - 1;

	a->dirty |= DIRTY_OVERLAY;
	switch (k) {
	case K_ESC:
	case 3: /* Ctrl+C */
		a->overlay = OVERLAY_NONE;
		form_free(a);
		ui_note(a, 0, "template cancelled");
		a->dirty |= DIRTY_ALL;
		return 1;
	case 17: /* Ctrl+Q */
		a->quit = 1;
		return 1;
	case 19: /* Ctrl+S */
		form_submit(a);
		return 1;
	case K_ENTER:
	case '\n':
		if (last)
			form_submit(a);
		else
			f->cur++;
		return 1;
	case K_TAB:
	case K_DOWN:
		if (f->n > 0)
			f->cur = (f->cur + 1) % (int)f->n;
		return 1;
	case K_BTAB:
	case K_UP:
		if (f->n > 0)
			f->cur = (f->cur + (int)f->n - 1) % (int)f->n;
		return 1;
	case K_BACKSPACE:
	case 8:
		if (f->n > 0)
			form_backspace(&f->vals[f->cur]);
		return 1;
	case 21: /* Ctrl+U */
		if (f->n > 0)
			buf_reset(&f->vals[f->cur]);
		return 1;
	default:
		break;
	}
	if (ulen > 0 && f->n > 0)
		buf_append(&f->vals[f->cur], u, ulen);
	return 1;
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
	draw_text(a->wover, " Tab/↑/↓ move · Enter on the last field or Ctrl+S sends · Esc cancels ",
	    strlen(" Tab/↑/↓ move · Enter on the last field or Ctrl+S sends · Esc cancels "), fa,
	    w - 4);
	for (i = 0, y = 2; i < f->n && y < h - 3; i++, y++) {
		const char *v = buf_str(&f->vals[i]);
		size_t vl = f->vals[i].len;
		int fw = w - label - 5, vw;
		unsigned int at = theme_attr((int)i == f->cur ? THEME_SELECTED : THEME_OVERLAY, 0);

		wmove(a->wover, y, 2);
		draw_text(a->wover, f->names[i], strlen(f->names[i]),
		    theme_attr(THEME_OVERLAYKEY, f->required[i] ? THEME_BOLD : 0), label);
		draw_fill(a->wover, y, label + 3, fw, " ", at);
		/* Show the end of a long value: that is where typing happens. */
		while (vl > 0 && (vw = wrap_width(v, vl)) >= fw) {
			v++;
			vl--;
			while (vl > 0 && ((unsigned char)*v & 0xc0) == 0x80) {
				v++;
				vl--;
			}
		}
		wmove(a->wover, y, label + 3);
		draw_text(a->wover, v, vl, at, fw);
		if ((int)i == f->cur) {
			cy = y;
			cx = label + 3 + wrap_width(v, vl);
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
