/*
 * The session list on the left: stored chats, newest first, with title, model (for a
 * comparison whose own model never answered, the models that did) and how long ago they
 * were active. It reads the rows the store already summarises (only a comparison
 * session's messages are read, for its label), so opening natter with thousands of
 * sessions costs one query, not a scan of every message.
 *
 * `/` opens a field at its top: each key filters the titles with the fuzzy matcher (over
 * every session, then loaded) and, once the typing pauses, a full-text search of the
 * messages (the store's FTS5 index, each word a prefix; the newest hits, one page read off
 * the index, so its cost does not grow with the history), run a few milliseconds at a time
 * between keys so that typing never waits for it, listed under the titles; Enter
 * opens a session or jumps to the message hit. r renames the selected session in place. D
 * asks before deleting, and the deletion waits a few seconds in which u brings the session
 * back; only then is it deleted in the store (or when natter quits). a archives a session
 * (hidden, not deleted) and A lists the archive instead, where a brings one back.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "app.h"
#include "log.h"
#include "store.h"
#include "text.h"
#include "wrap.h"
#include "xmalloc.h"

#define SESSIONS_UNDO_MS 5000  /* how long a deletion can be undone */
#define SESSIONS_HITS 50       /* message hits searched for, newest first */
#define SESSIONS_SEARCH_MS 60  /* the message search waits for a pause in typing this long */
#define SESSIONS_PIECE_US 5000 /* and then works this long at a time between keys */
#define SESSIONS_LIMIT 500     /* sessions listed while nothing filters them */
#define SESSIONS_HL 256

/* "3m", "2h", "5d": how long ago t (unix seconds) was. */
void
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

/* The first key of act in the sessions context, or its action name in brackets. */
static void
pane_sessions_key(enum keyctx ctx, enum action act, char *out, size_t size)
{
	if (!keys_first(ctx, act, out, size))
		snprintf(out, size, "(%s)", keys_action_name(act));
}

/* Is the list filtered (a query typed after `/`)? */
static int
pane_sessions_filtered(const struct app *a)
{
	return a->sl.query.text.len > 0;
}

/* How many entries the list shows: the sessions (filtered: those that match, then the
 * message hits). */
static size_t
pane_sessions_count(const struct app *a)
{
	if (!pane_sessions_filtered(a))
		return a->nrows;
	return a->sl.fl.norder + a->sl.nhits;
}

/* The session row entry e shows, or NULL for a message hit. */
static const struct session_row *
pane_sessions_entry(const struct app *a, size_t e)
{
	if (!pane_sessions_filtered(a))
		return e < a->nrows ? &a->rows[e] : NULL;
	return e < a->sl.fl.norder ? &a->rows[a->sl.fl.order[e]] : NULL;
}

/* The listed row of session id, or NULL. */
static const struct session_row *
pane_sessions_row(const struct app *a, int64_t id)
{
	size_t i;

	for (i = 0; i < a->nrows; i++)
		if (a->rows[i].id == id)
			return &a->rows[i];
	return NULL;
}

/* Compare session ids for qsort and bsearch. */
static int
pane_sessions_cmp_id(const void *x, const void *y)
{
	int64_t a = *(const int64_t *)x, b = *(const int64_t *)y;

	return a < b ? -1 : a > b;
}

/* The FTS5 query for what was typed: each word a prefix ("word"*), all of them needed. */
static void
pane_sessions_fts(const char *q, struct buf *out)
{
	while (*q != '\0') {
		size_t n;

		q += strspn(q, " \t");
		n = strcspn(q, " \t");
		if (n == 0)
			break;
		if (out->len)
			buf_putc(out, ' ');
		buf_putc(out, '"');
		for (; n > 0; n--, q++) {
			if (*q == '"')
				buf_putc(out, '"');
			buf_putc(out, *q);
		}
		buf_puts(out, "\"*");
	}
}

/* Point at the hits held that are in the sessions listed (not the archive's, or the other
 * way round), after the hits or the rows changed. */
static void
pane_sessions_listed(struct app *a)
{
	struct slist *l = &a->sl;
	size_t i, k = 0;
	int64_t *ids;

	free(l->hit);
	ids = xcalloc(a->nrows ? a->nrows : 1, sizeof *ids);
	for (i = 0; i < a->nrows; i++)
		ids[i] = a->rows[i].id;
	qsort(ids, a->nrows, sizeof *ids, pane_sessions_cmp_id);
	l->hit = xcalloc(l->nall ? l->nall : 1, sizeof *l->hit);
	for (i = 0; i < l->nall; i++)
		if (bsearch(&l->hits[i].session_id, ids, a->nrows, sizeof *ids,
		    pane_sessions_cmp_id) != NULL)
			l->hit[k++] = i;
	free(ids);
	l->nhits = k;
	a->dirty |= DIRTY_SESSIONS;
}

/* Hold the n hits of a message search (taken) in place of the last ones. */
static void
pane_sessions_keep(struct app *a, struct message_row *hits, size_t n)
{
	struct slist *l = &a->sl;

	store_messages_free(l->hits, l->nall);
	l->hits = hits;
	l->nall = n;
	pane_sessions_listed(a);
}

/* Stop the message search under way, if any. */
static void
pane_sessions_stop(struct slist *l)
{
	store_search_free(l->searching);
	l->searching = NULL;
}

/* Start the message search for the query (newest first, one page; each word a prefix),
 * run a piece at a time by pane_sessions_tick. A query too short to search drops the
 * hits. */
static void
pane_sessions_hits(struct app *a)
{
	struct slist *l = &a->sl;
	const char *q = buf_str(&l->query.text);
	struct buf fts = BUF_INIT;

	l->search_at = 0;
	pane_sessions_stop(l);
	if (a->st == NULL || strlen(q) < 2 || !pane_sessions_filtered(a)) {
		pane_sessions_keep(a, NULL, 0);
		return;
	}
	pane_sessions_fts(q, &fts);
	if (fts.len == 0) {
		pane_sessions_keep(a, NULL, 0);
	} else {
		l->searching = store_search_start(a->st, buf_str(&fts), 0, SESSIONS_HITS);
		l->search_t0 = ui_now_us();
		l->search_work = 0;
		l->search_pieces = 0;
	}
	buf_free(&fts);
}

/* Work on the message search for one piece; when it is done, list its hits. */
static void
pane_sessions_search_piece(struct app *a)
{
	struct slist *l = &a->sl;
	struct message_row *hits = NULL;
	size_t n = 0;
	int64_t t0 = ui_now_us();
	int rc = store_search_step(a->st, l->searching, SESSIONS_PIECE_US);

	l->search_work += (long)(ui_now_us() - t0);
	l->search_pieces++;
	if (rc == 1)
		return;
	if (rc != 0 || store_search_hits(a->st, l->searching, &hits, &n) != 0) {
		log_debug("ui: session search failed: %s", store_error(a->st));
		hits = NULL;
		n = 0;
	}
	pane_sessions_stop(l);
	pane_sessions_keep(a, hits, n);
	log_debug("ui: session search: %zu hits in %ld us, %ld us of work in %d pieces", n,
	    (long)(ui_now_us() - l->search_t0), l->search_work, l->search_pieces);
}

/* Make the matcher's list of the rows' titles, once per reload. */
static void
pane_sessions_titles(struct app *a)
{
	struct slist *l = &a->sl;
	size_t i;

	if (l->fl_ready)
		return;
	free(l->titles);
	l->titles = xcalloc(a->nrows ? a->nrows : 1, sizeof *l->titles);
	for (i = 0; i < a->nrows; i++)
		l->titles[i] = a->rows[i].title;
	fuzzy_list_free(&l->fl);
	fuzzy_list_init(&l->fl, l->titles, a->nrows, 0);
	l->fl_ready = 1;
}

/* Filter the titles for the query at once (the matcher's list is built once per reload and
 * narrowed as the query grows); the message search waits for a pause in the typing, then
 * runs a piece at a time between keys (pane_sessions_tick), so a key costs the title
 * filter only. now: start the search at once (the rows were reloaded). */
static void
pane_sessions_filter(struct app *a, int now)
{
	struct slist *l = &a->sl;

	/* The field was opened over the first rows: every session first. */
	if (l->load_all) {
		l->load_all = 0;
		pane_sessions_reload(a);
		if (pane_sessions_filtered(a))
			return;
	}
	pane_sessions_titles(a);
	fuzzy_list_update(&l->fl, buf_str(&l->query.text));
	/* A query too short to search drops the hits at once; a longer one keeps the last
	 * hits shown (in the sessions listed now) until its own search is done. */
	pane_sessions_stop(l);
	if (strlen(buf_str(&l->query.text)) < 2) {
		pane_sessions_hits(a);
		return;
	}
	if (now)
		pane_sessions_listed(a);
	l->search_at = ui_now_ms() + (now ? 0 : SESSIONS_SEARCH_MS);
}

/* Refresh the list from the store: the archive or the other sessions, every one of them
 * while a query filters them; a deletion still to be undone is left out. */
void
pane_sessions_reload(struct app *a)
{
	struct slist *l = &a->sl;
	size_t i;

	if (a->rows)
		store_sessions_free(a->rows, l->nrows_all);
	a->rows = NULL;
	a->nrows = l->nrows_all = 0;
	if (a->st != NULL && store_sessions_which(a->st, l->archived ? STORE_ARCHIVED :
	    STORE_ACTIVE, &a->rows, &a->nrows, pane_sessions_filtered(a) || l->field ? 0 :
	    SESSIONS_LIMIT) != 0) {
		a->rows = NULL;
		a->nrows = 0;
	}
	l->nrows_all = a->nrows;
	l->fl_ready = 0;
	for (i = 0; i < a->nrows; i++) {
		if (a->rows[i].title != NULL) {
			struct buf c = BUF_INIT;

			text_sanitize_line(a->rows[i].title, strlen(a->rows[i].title), &c);
			free(a->rows[i].title);
			a->rows[i].title = buf_detach(&c);
		}
	}
	/* The deletion still to be undone goes last, past the rows shown (nrows_all holds
	 * it for freeing). */
	for (i = 0; i < a->nrows; i++) {
		if (a->rows[i].id != l->undo_id)
			continue;
		{
			struct session_row gone = a->rows[i];

			memmove(&a->rows[i], &a->rows[i + 1], (a->nrows - i - 1) * sizeof *a->rows);
			a->rows[a->nrows - 1] = gone;
			a->nrows--;
		}
		break;
	}
	if (pane_sessions_filtered(a))
		pane_sessions_filter(a, 1);
	if (a->sel_row >= (int)pane_sessions_count(a))
		a->sel_row = pane_sessions_count(a) ? (int)pane_sessions_count(a) - 1 : 0;
	a->dirty |= DIRTY_SESSIONS;
}

/* The rows entry e takes: two, and one more for the heading above the first hit. */
static int
pane_sessions_height(const struct app *a, size_t e)
{
	return pane_sessions_filtered(a) && e == a->sl.fl.norder && a->sl.nhits > 0 ? 3 : 2;
}

/* Keep the selection in view: the first entry shown, given h rows under the title. */
static void
pane_sessions_scroll(struct app *a, int h)
{
	int used, e;

	if (a->sel_row < a->top_row)
		a->top_row = a->sel_row;
	for (;;) {
		for (used = 0, e = a->top_row; e <= a->sel_row; e++)
			used += pane_sessions_height(a, (size_t)e);
		if (used <= h || a->top_row >= a->sel_row)
			break;
		a->top_row++;
	}
	if (a->top_row < 0)
		a->top_row = 0;
}

/* Draw n bytes of a snippet, its matched terms (between the store's match marks) in hl. */
static void
pane_sessions_snippet(struct app *a, const char *s, unsigned at, unsigned hl, int w)
{
	int lit = 0;

	while (*s != '\0' && w > 0) {
		size_t n = strcspn(s, STORE_MATCH_OPEN STORE_MATCH_CLOSE);

		if (n > 0) {
			struct buf c = BUF_INIT;

			text_sanitize_line(s, n, &c);
			draw_text(a->wsess, c.data, c.len, lit ? hl : at, w);
			w -= wrap_width(c.data, c.len);
			buf_free(&c);
		}
		s += n;
		if (*s != '\0') {
			lit = *s == STORE_MATCH_OPEN[0];
			s++;
		}
	}
}

/* The top row: the title, or the search field and how many sessions match. */
static void
pane_sessions_head(struct app *a, int w, int focused)
{
	struct slist *l = &a->sl;
	unsigned at = theme_attr(focused ? THEME_FOCUS : THEME_BORDER, THEME_BOLD);

	wmove(a->wsess, 0, 0);
	if (l->field || pane_sessions_filtered(a)) {
		size_t left = l->field ? lineedit_scroll(&l->query, 0, w - 4) : 0;
		const char *q = buf_str(&l->query.text);

		draw_text(a->wsess, " /", 2, at, w - 1);
		draw_text(a->wsess, q + left, l->query.text.len - left, theme_attr(THEME_INPUT, 0),
		    w - 4);
		if (!l->field && w > 20) {
			char esc[32], hint[64];

			pane_sessions_key(KCTX_SESSIONS, ACT_CANCEL, esc, sizeof esc);
			snprintf(hint, sizeof hint, "  %s shows all", esc);
			draw_text(a->wsess, hint, strlen(hint), theme_attr(THEME_HINT, 0),
			    w - 4 - wrap_width(q, l->query.text.len));
		}
		return;
	}
	if (l->archived) {
		char t[64];

		snprintf(t, sizeof t, " Archived (%zu)%s", a->nrows, focused ? " (focused)" : "");
		draw_text(a->wsess, t, strlen(t), at, w - 1);
		return;
	}
	draw_text(a->wsess, focused ? " Sessions (focused)" : " Sessions",
	    strlen(focused ? " Sessions (focused)" : " Sessions"), at, w - 1);
}

/* Draw session entry r at row y (title, then model and time), its title being renamed
 * or with what the filter matched highlighted. */
static void
pane_sessions_draw_row(struct app *a, int y, int w, const struct session_row *r, int sel)
{
	struct slist *l = &a->sl;
	int cur = a->sess != NULL && a->sess->id == r->id;
	char ago[32];
	struct buf meta = BUF_INIT;
	unsigned at = theme_attr(sel ? THEME_SESSIONSEL : THEME_SESSION, cur ? THEME_BOLD : 0);
	const char *title = r->title && *r->title ? r->title : "(untitled)";
	size_t pos[SESSIONS_HL], npos = 0;

	pane_sessions_ago(r->updated, ago, sizeof ago);
	session_row_label(r, &meta);
	buf_printf(&meta, " · %s", ago);
	if (sel)
		draw_fill(a->wsess, y, 0, w - 1, " ", at);
	wmove(a->wsess, y, 0);
	draw_text(a->wsess, cur ? "▸" : " ", cur ? strlen("▸") : 1, at, 1);
	if (l->renaming && l->rename_id == r->id) {
		size_t left = lineedit_scroll(&l->title, 0, w - 3);

		draw_fill(a->wsess, y, 1, w - 2, " ", theme_attr(THEME_INPUT, 0));
		wmove(a->wsess, y, 1);
		draw_text(a->wsess, buf_str(&l->title.text) + left, l->title.text.len - left,
		    theme_attr(THEME_INPUT, THEME_UNDERLINE), w - 3);
	} else {
		if (pane_sessions_filtered(a) && r->title != NULL)
			fuzzy_match(buf_str(&l->query.text), r->title, strlen(r->title), pos,
			    SESSIONS_HL, &npos);
		draw_text_marked(a->wsess, title, strlen(title), NULL, 0, pos, npos, at,
		    sel ? theme_attr(THEME_SESSIONSEL, THEME_BOLD | THEME_UNDERLINE) :
		    theme_attr(THEME_MATCH, 0), w - 2);
	}
	wmove(a->wsess, y + 1, 1);
	draw_text(a->wsess, meta.data, meta.len, theme_attr(sel ? THEME_SESSIONSEL :
	    THEME_SESSIONMETA, 0), w - 2);
	buf_free(&meta);
}

/* Draw the list: two rows per entry, keeping the selection visible. */
void
pane_sessions_draw(struct app *a)
{
	int h, w, y, focused = a->focus == FOCUS_SESSIONS;
	size_t e, n;

	if (a->wsess == NULL)
		return;
	getmaxyx(a->wsess, h, w);
	werase(a->wsess);
	pane_sessions_head(a, w, focused);
	for (y = 0; y < h; y++)
		draw_fill(a->wsess, y, w - 1, 1, "│", theme_attr(focused ? THEME_FOCUS : THEME_BORDER, 0));
	n = pane_sessions_count(a);
	if (n == 0) {
		const char *none = pane_sessions_filtered(a) ? "nothing matches" : a->sl.archived ?
		    "no archived sessions" : a->st ? "no sessions yet" : "no store: sessions not saved";

		wmove(a->wsess, 2, 1);
		draw_text(a->wsess, none, strlen(none), theme_attr(THEME_HINT, 0), w - 2);
	}
	pane_sessions_scroll(a, h - 1);
	for (y = 1, e = (size_t)a->top_row; e < n && y + 1 < h; e++) {
		const struct session_row *r = pane_sessions_entry(a, e);
		int sel = focused && (int)e == a->sel_row;

		if (r != NULL) {
			pane_sessions_draw_row(a, y, w, r, sel);
			y += 2;
			continue;
		}
		if (pane_sessions_height(a, e) == 3) {
			char head[48];

			snprintf(head, sizeof head, "─ in messages (%zu)", a->sl.nhits);
			wmove(a->wsess, y++, 0);
			draw_text(a->wsess, head, strlen(head), theme_attr(THEME_HEADING, 0), w - 1);
			if (y + 1 >= h)
				break;
		}
		{
			const struct message_row *m = &a->sl.hits[a->sl.hit[e - a->sl.fl.norder]];
			const struct session_row *s = pane_sessions_row(a, m->session_id);
			unsigned at = theme_attr(sel ? THEME_SESSIONSEL : THEME_SESSIONMETA, 0);
			const char *t = s != NULL && s->title && *s->title ? s->title : "(untitled)";

			if (sel)
				draw_fill(a->wsess, y, 0, w - 1, " ", at);
			wmove(a->wsess, y, 1);
			draw_text(a->wsess, "↳ ", strlen("↳ "), at, 2);
			draw_text(a->wsess, t, strlen(t), at, w - 4);
			if (sel)
				draw_fill(a->wsess, y + 1, 0, w - 1, " ", at);
			wmove(a->wsess, y + 1, 3);
			pane_sessions_snippet(a, m->content != NULL ? m->content : "",
			    theme_attr(sel ? THEME_SESSIONSEL : THEME_SESSION, 0), sel ?
			    theme_attr(THEME_SESSIONSEL, THEME_BOLD | THEME_UNDERLINE) :
			    theme_attr(THEME_MATCH, 0), w - 4);
			y += 2;
		}
	}
	wnoutrefresh(a->wsess);
}

/* Put the terminal's cursor in the search field or the title being renamed (after every
 * other window was refreshed, so that it stays there). */
void
pane_sessions_cursor(struct app *a)
{
	struct slist *l = &a->sl;
	int h, w, y, e;

	if (a->wsess == NULL || !pane_sessions_editing(a))
		return;
	getmaxyx(a->wsess, h, w);
	if (l->field) {
		size_t left = lineedit_scroll(&l->query, 0, w - 4);

		wmove(a->wsess, 0, 2 + wrap_width(buf_str(&l->query.text) + left,
		    l->query.cur - left));
	} else {
		size_t left = lineedit_scroll(&l->title, 0, w - 3);

		for (y = 1, e = a->top_row; e < a->sel_row; e++)
			y += pane_sessions_height(a, (size_t)e);
		if (y >= h)
			return;
		wmove(a->wsess, y, 1 + wrap_width(buf_str(&l->title.text) + left,
		    l->title.cur - left));
	}
	wnoutrefresh(a->wsess);
}

/* Move the selection in the list. */
void
pane_sessions_select(struct app *a, int delta)
{
	int n = (int)pane_sessions_count(a);

	a->sel_row += delta;
	if (a->sel_row >= n)
		a->sel_row = n - 1;
	if (a->sel_row < 0)
		a->sel_row = 0;
	a->dirty |= DIRTY_SESSIONS;
}

/* Is a field of the list (the search, a rename) taking the keys? */
int
pane_sessions_editing(const struct app *a)
{
	return a->focus == FOCUS_SESSIONS && a->sess_visible && (a->sl.field || a->sl.renaming);
}

/* The session the selection stands on (a hit's session for a hit), or NULL. */
static const struct session_row *
pane_sessions_selected(const struct app *a)
{
	const struct session_row *r;

	if (a->sel_row < 0 || (size_t)a->sel_row >= pane_sessions_count(a))
		return NULL;
	r = pane_sessions_entry(a, (size_t)a->sel_row);
	if (r == NULL)
		r = pane_sessions_row(a, a->sl.hits[a->sl.hit[(size_t)a->sel_row - a->sl.fl.norder]].session_id);
	return r;
}

/* Open the selected session, or for a message hit its session at that message. */
void
pane_sessions_open_selected(struct app *a)
{
	const struct session_row *r = pane_sessions_selected(a);
	int64_t sid, mid = 0;
	size_t i, page;

	if (r == NULL)
		return;
	sid = r->id;
	if (pane_sessions_entry(a, (size_t)a->sel_row) == NULL)
		mid = a->sl.hits[a->sl.hit[(size_t)a->sel_row - a->sl.fl.norder]].id;
	a->sl.field = 0;
	a->dirty |= DIRTY_SESSIONS;
	ui_open_session(a, sid);
	if (mid == 0 || a->sess == NULL || a->sess->id != sid)
		return;
	/* A hit deep in a long session: pages before the loaded ones until it is there,
	 * each twice the one before, so a hit n messages up costs O(n) rows and O(log n)
	 * walks; the loaded messages are looked at once, a page only adds its own. */
	for (i = a->sess->nmsgs, page = SESSION_PAGE; ; page *= 2) {
		long more;

		while (i > 0 && a->sess->msgs[i - 1].id != mid)
			i--;
		if (i > 0)
			break;
		if ((more = pane_transcript_older(a, page)) <= 0)
			return;  /* not on the path on screen (another branch) */
		i = (size_t)more;
	}
	pane_transcript_show(a, (long)i - 1);
	a->focus = FOCUS_TRANSCRIPT;
	a->dirty |= DIRTY_ALL;
}

/* Start the message search once the typing pauses and run it a piece at a time; delete in
 * the store the session whose deletion can no longer be undone: its time is up, or natter
 * quits. */
void
pane_sessions_tick(struct app *a, int quitting)
{
	struct slist *l = &a->sl;
	int64_t id = l->undo_id;

	if (l->load_all && !quitting) {
		l->load_all = 0;
		pane_sessions_reload(a);
	}
	/* The titles are decoded for the matcher while nothing is typed. */
	if (l->field && !quitting) {
		pane_sessions_titles(a);
		fuzzy_list_prepare(&l->fl);
	}
	if (l->search_at != 0 && !quitting && ui_now_ms() >= l->search_at)
		pane_sessions_hits(a);
	if (l->searching != NULL && !quitting)
		pane_sessions_search_piece(a);
	if (id == 0 || (!quitting && ui_now_ms() < l->undo_until))
		return;
	l->undo_id = 0;
	free(l->undo_title);
	l->undo_title = NULL;
	if (a->st != NULL && store_session_delete(a->st, id) != 0 && !quitting)
		ui_note(a, 1, "cannot delete the session: %s", store_error(a->st));
}

/* When the message search or the pending deletion is due (a search under way, or rows
 * to load: now). */
int64_t
pane_sessions_timeout(const struct app *a, int64_t t)
{
	int64_t d;

	if (a->sl.searching != NULL || a->sl.load_all)
		return 0;
	if (a->sl.search_at != 0) {
		d = a->sl.search_at - ui_now_ms();
		if (d < 0)
			d = 0;
		t = t < 0 || d < t ? d : t;
	}
	if (a->sl.undo_id == 0)
		return t;
	d = a->sl.undo_until - ui_now_ms();
	if (d < 0)
		d = 0;
	return t < 0 || d < t ? d : t;
}

/* D: ask before deleting the selected session (the answer is pane_sessions_confirm's). */
void
pane_sessions_delete(struct app *a)
{
	const struct session_row *r = pane_sessions_selected(a);

	if (a->st == NULL || r == NULL)
		return;
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

/* The key that answers the delete question, when one is asked: y deletes (after a few
 * seconds in which it can be undone), any other key keeps the session. Returns 1 when k
 * was the answer. */
int
pane_sessions_confirm(struct app *a, unsigned k)
{
	struct slist *l = &a->sl;
	const struct session_row *r;
	int64_t id = a->del_id;
	char u[32];

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
	pane_sessions_tick(a, 1);  /* an earlier deletion is final now */
	r = pane_sessions_row(a, id);
	l->undo_id = id;
	l->undo_until = ui_now_ms() + SESSIONS_UNDO_MS;
	l->undo_title = xstrdup(r != NULL && r->title && *r->title ? r->title : "(untitled)");
	pane_sessions_reload(a);
	pane_sessions_key(KCTX_SESSIONS, ACT_UNDO_DELETE, u, sizeof u);
	ui_note(a, 0, "session deleted: \"%s\" (%s brings it back for %d s)", l->undo_title, u,
	    SESSIONS_UNDO_MS / 1000);
	a->note_until = l->undo_until;
	return 1;
}

/* u: bring back the session just deleted. */
static void
pane_sessions_undo(struct app *a)
{
	struct slist *l = &a->sl;

	if (l->undo_id == 0) {
		ui_note(a, 1, "nothing to undo: no session was deleted just now");
		return;
	}
	l->undo_id = 0;
	ui_note(a, 0, "brought back \"%s\"", l->undo_title);
	free(l->undo_title);
	l->undo_title = NULL;
	pane_sessions_reload(a);
}

/* a: archive the selected session, or in the archive bring it back. */
static void
pane_sessions_archive(struct app *a)
{
	const struct session_row *r = pane_sessions_selected(a);
	int to = !a->sl.archived;
	char *title;
	char key[32];

	if (a->st == NULL || r == NULL)
		return;
	title = xstrdup(r->title && *r->title ? r->title : "(untitled)");
	if (store_session_archive(a->st, r->id, to) != 0) {
		ui_note(a, 1, "cannot %s the session: %s", to ? "archive" : "bring back",
		    store_error(a->st));
		free(title);
		return;
	}
	pane_sessions_reload(a);
	pane_sessions_key(KCTX_SESSIONS, ACT_SHOW_ARCHIVED, key, sizeof key);
	if (to)
		ui_note(a, 0, "archived \"%s\" (%s lists the archive)", title, key);
	else
		ui_note(a, 0, "brought \"%s\" back from the archive", title);
	free(title);
}

/* A: list the archive instead of the other sessions, or go back. */
static void
pane_sessions_show_archived(struct app *a)
{
	a->sl.archived = !a->sl.archived;
	a->sel_row = a->top_row = 0;
	pane_sessions_reload(a);
	if (a->sl.archived && a->nrows == 0)
		ui_note(a, 0, "no archived sessions");
}

/* r: edit the selected session's title in place. */
static void
pane_sessions_rename(struct app *a)
{
	struct slist *l = &a->sl;
	const struct session_row *r = pane_sessions_selected(a);

	if (r == NULL || a->st == NULL)
		return;
	if (pane_sessions_entry(a, (size_t)a->sel_row) == NULL) {
		ui_note(a, 1, "select the session itself to rename it");
		return;
	}
	l->renaming = 1;
	l->rename_id = r->id;
	lineedit_free(&l->title);
	lineedit_init(&l->title);
	lineedit_set(&l->title, r->title != NULL ? r->title : "");
	a->dirty |= DIRTY_SESSIONS;
}

/* Enter in a rename: keep the new title (not an empty one). */
static void
pane_sessions_rename_done(struct app *a)
{
	struct slist *l = &a->sl;
	const char *t = buf_str(&l->title.text);
	int rc;

	if (t[strspn(t, " \t")] == '\0') {
		ui_note(a, 1, "a title cannot be empty (Esc keeps the old one)");
		return;
	}
	l->renaming = 0;
	if (a->sess != NULL && a->sess->id == l->rename_id)
		rc = session_set_title(a->sess, t);
	else
		rc = store_session_rename(a->st, l->rename_id, t);
	if (rc != 0)
		ui_note(a, 1, "rename failed: %s", store_error(a->st));
	else
		ui_note(a, 0, "renamed");
	pane_sessions_reload(a);
}

/* Open the search field (every session is listed while it filters them): it shows at
 * once over the rows loaded, and the rest are loaded and their titles made ready for the
 * matcher right after it is drawn (pane_sessions_tick), or before the first key filters. */
static void
pane_sessions_search(struct app *a)
{
	a->sl.field = 1;
	a->sl.load_all = 1;
	a->dirty |= DIRTY_SESSIONS;
}

/* End the search: the whole list again. */
static void
pane_sessions_unfilter(struct app *a)
{
	a->sl.field = 0;
	a->sl.load_all = 0;
	lineedit_set(&a->sl.query, "");
	a->sel_row = a->top_row = 0;
	pane_sessions_reload(a);
}

/* Type into the search field or the title being renamed. */
void
pane_sessions_insert(struct app *a, const char *s, size_t n)
{
	struct slist *l = &a->sl;

	if (l->renaming) {
		lineedit_insert(&l->title, s, n);
	} else if (l->field) {
		lineedit_insert(&l->query, s, n);
		a->sel_row = a->top_row = 0;
		pane_sessions_filter(a, 0);
	}
	a->dirty |= DIRTY_SESSIONS;
}

/* An action while the session list is focused; 1 when the list took it. In a field (the
 * search, a rename) the field context's keys arrive here first. */
int
pane_sessions_action(struct app *a, enum action act)
{
	struct slist *l = &a->sl;

	if (l->renaming) {
		if (act == ACT_OPEN)
			pane_sessions_rename_done(a);
		else if (act == ACT_CLOSE || act == ACT_CANCEL)
			l->renaming = 0;
		else if (act == ACT_SEL_PREV || act == ACT_SEL_NEXT)
			;
		else if (!lineedit_action(&l->title, act, &a->in.kill))
			return 0;
		a->dirty |= DIRTY_SESSIONS;
		return 1;
	}
	if (l->field) {
		if (act == ACT_OPEN)
			pane_sessions_open_selected(a);
		else if (act == ACT_CLOSE || act == ACT_CANCEL)
			pane_sessions_unfilter(a);
		else if (act == ACT_SEL_PREV || act == ACT_SEL_NEXT)
			pane_sessions_select(a, act == ACT_SEL_PREV ? -1 : 1);
		else if (lineedit_action(&l->query, act, &a->in.kill)) {
			a->sel_row = a->top_row = 0;
			pane_sessions_filter(a, 0);
		} else
			return 0;
		a->dirty |= DIRTY_SESSIONS;
		return 1;
	}
	switch (act) {
	case ACT_SEARCH_SESSIONS:
		pane_sessions_search(a);
		return 1;
	case ACT_RENAME_SESSION:
		pane_sessions_rename(a);
		return 1;
	case ACT_ARCHIVE_SESSION:
		pane_sessions_archive(a);
		return 1;
	case ACT_SHOW_ARCHIVED:
		pane_sessions_show_archived(a);
		return 1;
	case ACT_UNDO_DELETE:
		pane_sessions_undo(a);
		return 1;
	case ACT_OPEN:
		pane_sessions_open_selected(a);
		return 1;
	case ACT_CANCEL:
		if (!pane_sessions_filtered(a))
			return 0;
		pane_sessions_unfilter(a);
		return 1;
	default:
		return 0;
	}
}

/* A click (button 0) or the wheel (64, 65) at screen cell (y, x): a click focuses the
 * list and selects the entry under it, a click on the selected entry opens it. Returns 1
 * when the cell is the list's. */
int
pane_sessions_click(struct app *a, int y, int x, int button)
{
	int by, bx, h, w, row, e, n = (int)pane_sessions_count(a);

	if (a->wsess == NULL)
		return 0;
	getbegyx(a->wsess, by, bx);
	getmaxyx(a->wsess, h, w);
	if (y < by || y >= by + h || x < bx || x >= bx + w)
		return 0;
	if (button == 64 || button == 65) {
		pane_sessions_select(a, button == 64 ? -1 : 1);
		return 1;
	}
	if (button != 0)
		return 1;
	if (a->focus != FOCUS_SESSIONS) {
		a->focus = FOCUS_SESSIONS;
		a->dirty |= DIRTY_ALL;
	}
	for (row = 1, e = a->top_row; e < n; e++) {
		int hh = pane_sessions_height(a, (size_t)e);

		if (y - by >= row + hh - 2 && y - by < row + hh) {
			if (e == a->sel_row && !a->sl.renaming)
				pane_sessions_open_selected(a);
			else
				a->sel_row = e;
			a->dirty |= DIRTY_SESSIONS;
			return 1;
		}
		row += hh;
	}
	return 1;
}

/* Release the rows, the filter, the fields and the search hits. */
void
pane_sessions_free(struct app *a)
{
	struct slist *l = &a->sl;

	if (a->rows)
		store_sessions_free(a->rows, l->nrows_all);
	a->rows = NULL;
	a->nrows = 0;
	lineedit_free(&l->query);
	lineedit_free(&l->title);
	free(l->titles);
	fuzzy_list_free(&l->fl);
	pane_sessions_stop(l);
	store_messages_free(l->hits, l->nall);
	free(l->hit);
	free(l->undo_title);
	memset(l, 0, sizeof *l);
}
