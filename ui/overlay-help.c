/*
 * Overlays drawn over the panes: the key help (generated from the live key table, so a
 * remapped key shows where it really is) and the model picker fed by model listings.
 */
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "slash.h"
#include "text.h"
#include "wrap.h"
#include "xmalloc.h"

/* The overlay's width: most of the screen, at most 100 columns. */
static int
overlay_width(const struct app *a)
{
	int w = a->cols - 8 > 30 ? a->cols - 8 : a->cols;

	return w > 100 ? 100 : w;
}

/* Columns a text overlay line has inside the border and its margins. */
int
overlay_text_cols(const struct app *a)
{
	return overlay_width(a) - 4;
}

/* Create or resize the overlay window to most of the screen. */
static void
overlay_window(struct app *a, int *h, int *w)
{
	*h = a->lines - 4 > 6 ? a->lines - 4 : a->lines;
	*w = overlay_width(a);
	if (a->wover != NULL)
		delwin(a->wover);
	a->wover = newwin(*h, *w, (a->lines - *h) / 2, (a->cols - *w) / 2);
	wbkgdset(a->wover, (chtype)theme_attr(THEME_OVERLAY, 0) | ' ');
	werase(a->wover);
}

/* Draw the border and title of the overlay. */
static void
overlay_frame(struct app *a, int h, int w, const char *title, const char *foot)
{
	int y;

	draw_fill(a->wover, 0, 0, w, "─", theme_attr(THEME_FOCUS, 0));
	draw_fill(a->wover, h - 1, 0, w, "─", theme_attr(THEME_FOCUS, 0));
	for (y = 1; y < h - 1; y++) {
		draw_fill(a->wover, y, 0, 1, "│", theme_attr(THEME_FOCUS, 0));
		draw_fill(a->wover, y, w - 1, 1, "│", theme_attr(THEME_FOCUS, 0));
	}
	wmove(a->wover, 0, 2);
	draw_text(a->wover, title, strlen(title), theme_attr(THEME_FOCUS, THEME_BOLD), w - 4);
	wmove(a->wover, h - 1, 2);
	draw_text(a->wover, foot, strlen(foot), theme_attr(THEME_FOCUS, 0), w - 4);
}

/* Draw the key help: every context with its bindings and their help lines. */
void
overlay_help_draw(struct app *a)
{
	size_t n, i, total = 0, ns;
	const struct keybind *t = keys_table(&n);
	const struct slash_cmd *sc = slash_table(&ns);
	int h, w, y, c, row = 0;
	char name[32];

	overlay_window(a, &h, &w);
	overlay_frame(a, h, w, " natter keys ", " ↑/↓ PgUp/PgDn scroll · Esc, q or F1 closes ");
	for (c = 0; c < KCTX_COUNT; c++) {
		total++;
		for (i = 0; i < n; i++)
			total += (int)t[i].ctx == c;
	}
	total += 1 + ns;
	if (a->over_top > (int)total - (h - 2))
		a->over_top = (int)total - (h - 2);
	if (a->over_top < 0)
		a->over_top = 0;
	y = 1;
	for (c = 0; c < KCTX_COUNT; c++) {
		if (row >= a->over_top && y < h - 1) {
			wmove(a->wover, y++, 2);
			draw_text(a->wover, keys_context_name((enum keyctx)c),
			    strlen(keys_context_name((enum keyctx)c)), theme_attr(THEME_HEADING, THEME_BOLD),
			    w - 4);
		}
		row++;
		for (i = 0; i < n; i++) {
			const char *help;

			if ((int)t[i].ctx != c)
				continue;
			if (row++ < a->over_top || y >= h - 1)
				continue;
			keys_name(t[i].key, name, sizeof name);
			help = keys_action_help(t[i].act);
			wmove(a->wover, y, 4);
			draw_text(a->wover, name, strlen(name), theme_attr(THEME_OVERLAYKEY, 0), 14);
			wmove(a->wover, y, 19);
			draw_text(a->wover, help, strlen(help), theme_attr(THEME_OVERLAY, 0), w - 21);
			y++;
		}
	}
	/* The slash commands come from their table too, so help never lists a missing one. */
	if (row++ >= a->over_top && y < h - 1) {
		wmove(a->wover, y++, 2);
		draw_text(a->wover, "slash commands", 14, theme_attr(THEME_HEADING, THEME_BOLD), w - 4);
	}
	for (i = 0; i < ns; i++) {
		char *cmd;

		if (row++ < a->over_top || y >= h - 1)
			continue;
		cmd = xasprintf("/%s %s", sc[i].name, sc[i].args);
		wmove(a->wover, y, 4);
		draw_text(a->wover, cmd, strlen(cmd), theme_attr(THEME_OVERLAYKEY, 0), 28);
		wmove(a->wover, y, 33);
		draw_text(a->wover, sc[i].help, strlen(sc[i].help), theme_attr(THEME_OVERLAY, 0),
		    w - 35);
		free(cmd);
		y++;
	}
	wnoutrefresh(a->wover);
}

/* Free the picker items. */
void
overlay_picker_free(struct app *a)
{
	size_t i;

	for (i = 0; i < a->picker.n; i++) {
		free(a->picker.items[i]);
		free(a->picker.labels[i]);
	}
	free(a->picker.items);
	free(a->picker.labels);
	memset(&a->picker, 0, sizeof a->picker);
}

/* Add one model to the picker. */
void
overlay_picker_add(struct app *a, const char *provider, const char *model, const char *label)
{
	struct picker *p = &a->picker;
	char *item = xasprintf("%s/%s", provider, model);
	size_t i;

	for (i = 0; i < p->n; i++) {
		if (strcmp(p->items[i], item) == 0) {
			free(item);
			return;
		}
	}
	if (p->n == p->cap) {
		p->cap = p->cap ? p->cap * 2 : 32;
		p->items = xrealloc(p->items, p->cap * sizeof *p->items);
		p->labels = xrealloc(p->labels, p->cap * sizeof *p->labels);
	}
	p->items[p->n] = item;
	p->labels[p->n] = xstrdup(label ? label : "");
	p->n++;
	a->dirty |= DIRTY_OVERLAY;
}

/* Bytes a and b share at their start. */
static size_t
overlay_common(const char *a, const char *b)
{
	size_t i = 0;

	while (a[i] != '\0' && a[i] == b[i])
		i++;
	return i;
}

/* Draw picker item i in width columns. What it shares with the items around it is what the
 * eye skips, so a name too long loses its middle and keeps what tells it apart: from the
 * last separator before the first difference on. */
static void
overlay_picker_item(struct app *a, size_t i, int width, unsigned int at)
{
	const struct picker *p = &a->picker;
	const char *s = p->items[i];
	struct buf b = BUF_INIT;
	size_t n = strlen(s), keep = 0, c;

	if (i > 0)
		keep = overlay_common(s, p->items[i - 1]);
	if (i + 1 < p->n && (c = overlay_common(s, p->items[i + 1])) > keep)
		keep = c;
	if (keep >= n) {
		/* The item starts another one: its end is what differs. */
		text_fit_end(s, n, width, &b);
	} else {
		while (keep > 0 && strchr("/-_.:@ ", s[keep]) == NULL)
			keep--;
		text_fit_middle(s, n, width, keep, &b);
	}
	draw_text(a->wover, b.data != NULL ? b.data : "", b.len, at, width);
	buf_free(&b);
}

/* Draw the picker: of models, or of templates for /template. */
void
overlay_picker_draw(struct app *a)
{
	struct picker *p = &a->picker;
	struct buf label = BUF_INIT;
	int h, w, y;
	size_t i;
	char foot[96];

	overlay_window(a, &h, &w);
	snprintf(foot, sizeof foot, " Enter %s · Esc closes%s ",
	    p->templates ? "fills in the template" : "picks", p->pending ? " · listing models…" : "");
	overlay_frame(a, h, w, p->templates ? " choose a template " : " choose a model ", foot);
	if (p->sel < p->top)
		p->top = p->sel;
	if (p->sel >= p->top + h - 2)
		p->top = p->sel - (h - 2) + 1;
	for (y = 1, i = (size_t)p->top; i < p->n && y < h - 1; i++, y++) {
		unsigned int at = theme_attr((int)i == p->sel ? THEME_SELECTED : THEME_OVERLAY, 0);

		if ((int)i == p->sel)
			draw_fill(a->wover, y, 1, w - 2, " ", at);
		wmove(a->wover, y, 2);
		overlay_picker_item(a, i, w / 2 - 1, at | (unsigned)A_BOLD);
		wmove(a->wover, y, w / 2 + 2);
		buf_reset(&label);
		text_fit_end(p->labels[i], strlen(p->labels[i]), w / 2 - 4, &label);
		draw_text(a->wover, label.data != NULL ? label.data : "", label.len, at, w / 2 - 4);
	}
	buf_free(&label);
	wnoutrefresh(a->wover);
}

/* Forget the text overlay's content. */
void
overlay_text_free(struct app *a)
{
	size_t i;

	for (i = 0; i < a->text.n; i++)
		free(a->text.lines[i]);
	free(a->text.lines);
	free(a->text.title);
	memset(&a->text, 0, sizeof a->text);
}

/* Open a read-only overlay showing text, one row per line (sanitized: it may quote a file;
 * as a whole first, so that CR LF line ends are line ends and not marks). */
void
overlay_text_open(struct app *a, const char *title, const char *text)
{
	struct buf safe = BUF_INIT;
	const char *p;

	overlay_text_free(a);
	a->text.title = xstrdup(title);
	text_sanitize(text, strlen(text), &safe);
	p = buf_str(&safe);
	while (*p != '\0') {
		size_t n = strcspn(p, "\n");

		a->text.lines = xrealloc(a->text.lines, (a->text.n + 1) * sizeof *a->text.lines);
		a->text.lines[a->text.n++] = xstrndup(p, n);
		p += n;
		if (*p == '\n')
			p++;
	}
	buf_free(&safe);
	a->overlay = OVERLAY_TEXT;
	a->over_top = 0;
	a->dirty |= DIRTY_ALL;
}

/* Draw the text overlay from its scroll position. */
void
overlay_text_draw(struct app *a)
{
	int h, w, y;
	size_t i;

	overlay_window(a, &h, &w);
	overlay_frame(a, h, w, a->text.title ? a->text.title : "", " ↑/↓ scroll · Esc or Enter closes ");
	if (a->over_top > (int)a->text.n - (h - 2))
		a->over_top = (int)a->text.n - (h - 2);
	if (a->over_top < 0)
		a->over_top = 0;
	for (y = 1, i = (size_t)a->over_top; i < a->text.n && y < h - 1; i++, y++) {
		wmove(a->wover, y, 2);
		draw_text(a->wover, a->text.lines[i], strlen(a->text.lines[i]),
		    theme_attr(THEME_OVERLAY, 0), w - 4);
	}
	wnoutrefresh(a->wover);
}
