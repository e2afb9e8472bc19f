/*
 * The session list on the left: stored chats, newest first, with title, model (for a
 * comparison whose own model never answered, the models that did) and how long ago they
 * were active. It reads the rows the store already summarises (only a comparison
 * session's messages are read, for its label), so opening natter with thousands of
 * sessions costs one query, not a scan of every message. D deletes the selected session
 * once the user answers y to the question it puts in the status line.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "app.h"
#include "store.h"
#include "wrap.h"

/* "3m", "2h", "5d": how long ago t (unix seconds) was. */
static void
pane_sessions_ago(int64_t t, char *out, size_t size)
{
	long d = (long)(time(NULL) - (time_t)t);

	if (d < 60)
		snprintf(out, size, "now");
	else if (d < 3600)
		snprintf(out, size, "%ldm", d / 60);
	else if (d < 86400)
		snprintf(out, size, "%ldh", d / 3600);
	else
		snprintf(out, size, "%ldd", d / 86400);
}

/* Draw the list, two rows per session, keeping the selection visible. */
void
pane_sessions_draw(struct app *a)
{
	int h, w, y = 1, focused = a->focus == FOCUS_SESSIONS;
	size_t i;
	const char *title = focused ? " Sessions (focused)" : " Sessions";

	if (a->wsess == NULL)
		return;
	getmaxyx(a->wsess, h, w);
	werase(a->wsess);
	wmove(a->wsess, 0, 0);
	draw_text(a->wsess, title, strlen(title), theme_attr(focused ? THEME_FOCUS : THEME_BORDER,
	    THEME_BOLD), w - 1);
	for (y = 0; y < h; y++)
		draw_fill(a->wsess, y, w - 1, 1, "│", theme_attr(focused ? THEME_FOCUS : THEME_BORDER, 0));
	if (a->nrows == 0) {
		const char *none = a->st ? "no sessions yet" : "no store: sessions not saved";

		wmove(a->wsess, 2, 1);
		draw_text(a->wsess, none, strlen(none), theme_attr(THEME_HINT, 0), w - 2);
	}
	if (a->sel_row < a->top_row)
		a->top_row = a->sel_row;
	if ((a->sel_row - a->top_row + 1) * 2 > h - 1)
		a->top_row = a->sel_row - (h - 1) / 2 + 1;
	if (a->top_row < 0)
		a->top_row = 0;
	y = 1;
	for (i = (size_t)a->top_row; i < a->nrows && y + 1 < h; i++) {
		const struct session_row *r = &a->rows[i];
		int cur = a->sess != NULL && a->sess->id == r->id;
		int sel = focused && (int)i == a->sel_row;
		char ago[32];
		struct buf meta = BUF_INIT;
		unsigned int at = theme_attr(sel ? THEME_SESSIONSEL : THEME_SESSION,
		    cur ? THEME_BOLD : 0);

		pane_sessions_ago(r->updated, ago, sizeof ago);
		session_row_label(r, &meta);
		buf_printf(&meta, " · %s", ago);
		if (sel)
			draw_fill(a->wsess, y, 0, w - 1, " ", at);
		wmove(a->wsess, y, 0);
		draw_text(a->wsess, cur ? "▸" : " ", cur ? strlen("▸") : 1, at, 1);
		draw_text(a->wsess, r->title && *r->title ? r->title : "(untitled)",
		    strlen(r->title && *r->title ? r->title : "(untitled)"), at, w - 2);
		wmove(a->wsess, y + 1, 1);
		draw_text(a->wsess, meta.data, meta.len, theme_attr(sel ? THEME_SESSIONSEL :
		    THEME_SESSIONMETA, 0), w - 2);
		buf_free(&meta);
		y += 2;
	}
	wnoutrefresh(a->wsess);
}

/* Move the selection in the list. */
void
pane_sessions_select(struct app *a, int delta)
{
	a->sel_row += delta;
	if (a->sel_row >= (int)a->nrows)
		a->sel_row = (int)a->nrows - 1;
	if (a->sel_row < 0)
		a->sel_row = 0;
	a->dirty |= DIRTY_SESSIONS;
}

/* D: ask before deleting the selected session (the answer is pane_sessions_confirm's). */
void
pane_sessions_delete(struct app *a)
{
	const struct session_row *r;

	if (a->st == NULL || a->sel_row < 0 || a->sel_row >= (int)a->nrows)
		return;
	r = &a->rows[a->sel_row];
	if (a->sess != NULL && a->sess->id == r->id) {
		ui_note(a, 1, "this session is open: switch to another before deleting it");
		return;
	}
	a->del_id = r->id;
	ui_note(a, 1, "delete \"%s\" (%ld messages)? y deletes, n or Esc keeps it",
	    r->title != NULL && *r->title ? r->title : "(untitled)", r->nmessages);
	a->note_kind = NOTE_CONFIRM;
	a->note_until = 0;  /* the question stays until it is answered */
}

/* The key that answers the delete question, when one is asked: y deletes, any other key
 * keeps the session. Returns 1 when k was the answer. */
int
pane_sessions_confirm(struct app *a, unsigned k)
{
	int64_t id = a->del_id;

	if (id == 0)
		return 0;
	a->del_id = 0;
	if (a->note_kind != NOTE_CONFIRM)
		return 0;  /* another note took the question's place: it is no longer asked */
	ui_note_drop(a, NOTE_CONFIRM);
	if (k != 'y' && k != 'Y') {
		ui_note(a, 0, "kept: nothing was deleted");
		return 1;
	}
	if (store_session_delete(a->st, id) != 0) {
		ui_note(a, 1, "cannot delete the session: %s", store_error(a->st));
		return 1;
	}
	ui_reload_sessions(a);
	ui_note(a, 0, "session deleted");
	return 1;
}
