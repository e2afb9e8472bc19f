/*
 * Keeping the conversation saved, and saying so loudly when it is not. When the database
 * cannot be opened (a directory that is not writable, a full disk, a database from a newer
 * natter) or a write fails, a warning bar in the error colours stays above the transcript
 * and the status line starts with "not saved" until everything is stored again; a
 * transient note would scroll past while every message was being lost. natter tries again
 * on its own, after 1 s and then twice as long each time up to 30 s (an idle natter
 * still sleeps between tries), and at once before each message is sent. When the database
 * opens, the conversation on screen is saved into it whole. When another natter deleted
 * the open session, the session module saves the conversation anew (session.h); this file
 * says so under the last message, where the user is looking.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "store.h"
#include "xmalloc.h"

#define PERSIST_FIRST_MS 1000
#define PERSIST_MAX_MS 30000
/* How long a second Ctrl+N (or opening another session) has to confirm dropping an
 * unsaved conversation. */
#define PERSIST_CONFIRM_MS 3000

/* Why the conversation is not (all) stored, or NULL when it is. */
const char *
persist_problem(const struct app *a)
{
	if (a->st == NULL)
		return a->store_err != NULL ? a->store_err : "the database is not open";
	if (a->sess != NULL && session_unsaved(a->sess))
		return a->sess->err[0] != '\0' ? a->sess->err : "a write failed";
	return NULL;
}

/* Plan the next try after a failed one, backing off. */
static void
persist_backoff(struct app *a)
{
	a->persist_delay = a->persist_delay <= 0 ? PERSIST_FIRST_MS :
	    a->persist_delay * 2 > PERSIST_MAX_MS ? PERSIST_MAX_MS : a->persist_delay * 2;
	a->persist_at = ui_now_ms() + a->persist_delay;
}

/* The rows the warning bar takes: one while something is not stored, when the terminal
 * has room for it. */
int
persist_banner_rows(const struct app *a)
{
	return persist_problem(a) != NULL && a->lines >= 8;
}

/* Redraw what shows the saving state when it changed: the bar (laid out or away) and the
 * status line's tag. */
static void
persist_relayout(struct app *a)
{
	int unsaved = persist_problem(a) != NULL;

	if (persist_banner_rows(a) != a->banner)
		a->dirty |= DIRTY_LAYOUT;
	if (unsaved != a->persist_shown) {
		a->persist_shown = unsaved;
		a->dirty |= DIRTY_STATUS;
	}
}

/* With embedding_model set, embed the messages stored from now on when idle (the older
 * ones are left to natter sessions search --semantic, so a large store starts at once). */
static void
persist_semantic(struct app *a)
{
	const struct model *m;
	char *err = NULL;

	if (a->six != NULL || a->cfg->embedding_model == NULL)
		return;
	if ((m = semantic_model(a->cfg, &err)) == NULL) {
		ui_note(a, 1, "%s", err);
		free(err);
		return;
	}
	a->six = semantic_ix_new(m, a->st, store_vectors_top(a->st));
}

/* Open the database, at start-up or again after a failure; 0 when it is open. Once it
 * opens, the conversation so far is saved into it. */
static int
persist_open(struct app *a)
{
	struct store *st;
	char *err = NULL;

	if (a->st != NULL)
		return 0;
	st = store_open(NULL, &err);
	if (st == NULL) {
		free(a->store_err);
		a->store_err = err;
		persist_backoff(a);
		persist_relayout(a);
		a->dirty |= DIRTY_STATUS;
		return -1;
	}
	a->st = st;
	/* A long reply is indexed for search after the frame that shows its end, not before
	 * it (persist_index, from the loop when idle). */
	store_set_defer_index(st, 1);
	free(a->store_err);
	a->store_err = NULL;
	persist_semantic(a);
	a->persist_delay = 0;
	a->persist_at = 0;
	if (a->sess != NULL && a->sess->nmsgs > 0) {
		if (session_attach(a->sess, st) == 0)
			ui_note(a, 0, "conversation saved: the database is open again");
		else
			persist_backoff(a);
	} else if (a->sess != NULL) {
		session_attach(a->sess, st);
		ui_note(a, 0, "the database is open again: sessions are saved");
	}
	ui_reload_sessions(a);
	persist_relayout(a);
	a->dirty |= DIRTY_ALL;
	return 0;
}

/* Open the store at start-up, and index what command-line natters put off (the first
 * frame is already up). */
void
persist_start(struct app *a)
{
	persist_open(a);
	if (a->st != NULL)
		store_index_pending(a->st);
}

/* Index the replies put off for search (a reply ended): called when the loop is idle, after
 * the frame that shows the reply's end. */
void
persist_index(struct app *a)
{
	if (!a->index_due)
		return;
	a->index_due = 0;
	if (a->st != NULL)
		store_index_pending(a->st);
}

/* Try again now: open the database, or store what failed writes left out. 0 when all of
 * the conversation is stored. */
int
persist_retry(struct app *a)
{
	if (a->st == NULL)
		return persist_open(a);
	if (a->sess == NULL || !session_unsaved(a->sess))
		return 0;
	if (session_sync(a->sess) != 0) {
		persist_backoff(a);
		persist_relayout(a);
		a->dirty |= DIRTY_STATUS;
		return -1;
	}
	a->persist_delay = 0;
	a->persist_at = 0;
	persist_relayout(a);
	return 0;
}

/* Say under the last message that the session was deleted elsewhere and saved anew. */
static void
persist_lost(struct app *a)
{
	struct session *s = a->sess;
	char *line = xasprintf("session %lld was deleted by another natter: everything above is "
	    "saved again as session %lld", (long long)s->lost_id, (long long)s->id);

	if (s->nmsgs > 0) {
		struct session_msg *m = &s->msgs[s->nmsgs - 1];

		free(m->notice);
		m->notice = xstrdup(line);
		m->gen++;
	}
	ui_note(a, 1, "%s", line);
	free(line);
	s->lost_id = 0;
	ui_reload_sessions(a);
	a->dirty |= DIRTY_TRANSCRIPT | DIRTY_SESSIONS;
}

/* Once per loop turn: report a session saved anew, retry when the time has come, and keep
 * the warning bar in step with what is stored. Costs nothing when all is well. */
void
persist_tick(struct app *a)
{
	if (a->sess != NULL && a->sess->lost_id != 0 && a->sess->id > 0)
		persist_lost(a);
	persist_relayout(a);
	if (a->persist_confirm != 0 && ui_now_ms() - a->persist_confirm >= PERSIST_CONFIRM_MS) {
		a->persist_confirm = 0;
		a->dirty |= DIRTY_STATUS;
	}
	if (persist_problem(a) == NULL) {
		a->persist_at = 0;
		a->persist_delay = 0;
		return;
	}
	if (a->persist_at == 0)
		persist_backoff(a);
	else if (ui_now_ms() >= a->persist_at)
		persist_retry(a);
}

/* Fold the next retry into poll's timeout t (-1: none). */
int64_t
persist_timeout(const struct app *a, int64_t t)
{
	int64_t d, now = ui_now_ms();

	if (a->persist_confirm != 0) {
		d = a->persist_confirm + PERSIST_CONFIRM_MS - now;
		if (d < 0)
			d = 0;
		if (t < 0 || d < t)
			t = d;
	}
	if (a->persist_at == 0)
		return t;
	d = a->persist_at - now;
	if (d < 0)
		d = 0;
	return t < 0 || d < t ? d : t;
}

/* Before a message is sent: try the store at once, so that a database that came back is
 * used for this message rather than after the next backoff. */
void
persist_before_send(struct app *a)
{
	if (persist_problem(a) != NULL)
		persist_retry(a);
}

/* Whether the current conversation may be dropped (a new or another session replaces
 * it): yes when it is stored, or when the user asks twice within a few seconds. */
int
persist_may_drop(struct app *a)
{
	int64_t now = ui_now_ms();

	if (a->sess == NULL || !session_unsaved(a->sess) || persist_retry(a) == 0)
		return 1;
	if (a->persist_confirm != 0 && now - a->persist_confirm < PERSIST_CONFIRM_MS) {
		a->persist_confirm = 0;
		return 1;
	}
	a->persist_confirm = now;
	/* The bar says it too: the status line may have no room left for the note. */
	ui_note(a, 1, "this conversation is not saved: do it again to discard it");
	a->dirty |= DIRTY_STATUS;
	return 0;
}

/* Last words at exit, after the terminal is restored: whether the conversation is lost. */
void
persist_quit(struct app *a)
{
	if (a->sess == NULL || persist_retry(a) == 0 || persist_problem(a) == NULL)
		return;
	fprintf(stderr, "natter: this conversation (%zu messages) was not saved: %s\n",
	    a->sess->nmsgs, persist_problem(a));
}

/* Draw the warning bar above the transcript. */
void
persist_draw(struct app *a)
{
	const char *why = persist_problem(a);
	struct buf raw = BUF_INIT, clean = BUF_INIT;
	unsigned int at = theme_attr(THEME_ERROR, THEME_REVERSE);

	if (a->wbanner == NULL)
		return;
	werase(a->wbanner);
	draw_fill(a->wbanner, 0, 0, a->trans_w, " ", at);
	if (why != NULL) {
		if (a->persist_confirm != 0)
			buf_printf(&raw, " ⚠ NOT SAVED: do it again within %d s to discard this "
			    "conversation (%s)", PERSIST_CONFIRM_MS / 1000, why);
		else if (a->st == NULL)
			buf_printf(&raw, " ⚠ NOT SAVING: %s — this conversation is only in memory; "
			    "natter keeps trying and saves it all once the database opens", why);
		else
			buf_printf(&raw, " ⚠ NOT SAVED: %s — natter keeps trying to store what is "
			    "missing", why);
		text_sanitize(raw.data, raw.len, &clean);
		wmove(a->wbanner, 0, 0);
		draw_text(a->wbanner, clean.data, clean.len, at, a->trans_w);
	}
	buf_free(&raw);
	buf_free(&clean);
	wnoutrefresh(a->wbanner);
}
