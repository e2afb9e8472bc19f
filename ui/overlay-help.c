/*
 * Overlays drawn over the panes: the frame every overlay shares, the key help (a picker,
 * picker.c, generated from the live key table and the slash commands) and the read-only
 * text overlay (/metrics, configuration errors).
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
void
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
void
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

/* Open the help overlay: a picker over every binding of the live key table (grouped by
 * context, so a remapped key shows where it really is) and every slash command (from
 * their table, so help never lists a missing one), filtered as you type. With commands
 * (/help) it opens on the slash commands. */
void
overlay_help_open(struct app *a, int commands)
{
	size_t n, i, ns, k;
	const struct keybind *t = keys_table(&n);
	const struct slash_cmd *sc = slash_table(&ns);
	char name[32];
	int c, sec, cmd_sec;

	picker_open(a, PICK_HELP);
	for (c = 0; c < KCTX_COUNT; c++) {
		sec = -1;
		for (i = 0; i < n; i++) {
			if ((int)t[i].ctx != c)
				continue;
			if (sec < 0)
				sec = picker_section(a, keys_context_name((enum keyctx)c));
			keys_name(t[i].key, name, sizeof name);
			picker_add(a, name, keys_action_help(t[i].act), "", sec);
		}
	}
	cmd_sec = picker_section(a, "slash commands");
	for (i = 0; i < ns; i++) {
		char *cmd = xasprintf("/%s%s%s", sc[i].name, sc[i].args[0] ? " " : "", sc[i].args);
		char *value = xasprintf("/%s", sc[i].name);

		picker_add(a, cmd, sc[i].help, value, cmd_sec);
		free(cmd);
		free(value);
	}
	picker_ready(a);
	if (!commands)
		return;
	for (k = 0; k < a->picker.fl.norder; k++)
		if (a->picker.items[a->picker.fl.order[k]].section == cmd_sec) {
			a->picker.sel = (int)k;
			/* The heading at the top, the commands under it. */
			a->picker.top = (int)(k + (size_t)cmd_sec);
			break;
		}
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
	{
		char *foot = xasprintf(" %s/%s scroll · %s or %s closes ",
		    keys_hint(KCTX_OVERLAY, ACT_SEL_PREV), keys_hint(KCTX_OVERLAY, ACT_SEL_NEXT),
		    keys_hint(KCTX_OVERLAY, ACT_CLOSE), keys_hint(KCTX_OVERLAY, ACT_OPEN));

		overlay_frame(a, h, w, a->text.title ? a->text.title : "", foot);
		free(foot);
	}
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
