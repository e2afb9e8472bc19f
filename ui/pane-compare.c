/*
 * Side-by-side comparison (/compare): one prompt goes to two to four models at once, each
 * streaming into its own column with its own figures. The rounds live in the session as
 * compare groups, and the transcript draws each group's replies side by side whether or
 * not comparison mode is on (pane-transcript.c), so a reopened session shows them as they
 * were. This file is comparison mode itself: the columns' models and their concurrent
 * streams (one worker stream each, told apart by stream id), the row of column headers
 * above the transcript and the two rows of footers below it (the state of each column's
 * latest reply, then its ttft, tok/s, tokens and cost; scrolled back, the models of the
 * round at the top of the view and the figures of the one at the bottom), /pick, which
 * makes one column's replies the conversation's (the path then goes through them and the
 * other columns' replies are their ‹k/n› alternatives), /retry, which asks one column
 * again alone, and resuming a comparison when a session that ends in one is opened. Event
 * handlers only change state and set dirty bits, as everywhere else.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "apierr.h"
#include "app.h"
#include "config.h"
#include "metrics.h"
#include "params.h"
#include "provider.h"
#include "resolve.h"
#include "request.h"
#include "text.h"
#include "worker.h"
#include "wrap.h"
#include "xmalloc.h"

/* Cells between two columns: a space, a rule, a space. */
#define COMPARE_GAP 3

/* Free what column c holds and make it empty (a turn still streaming is closed as
 * cancelled by turn_free). */
static void
pane_compare_col_clear(struct compare_col *c)
{
	turn_free(c->turn);
	free(c->model);
	memset(c, 0, sizeof *c);
}

/* Is column c streaming? */
static int
pane_compare_live(const struct compare_col *c)
{
	return c->turn != NULL && !c->turn->done;
}

/* Is some column streaming? */
int
pane_compare_busy(const struct app *a)
{
	int c;

	for (c = 0; c < a->cmp.n; c++)
		if (pane_compare_live(&a->cmp.col[c]))
			return 1;
	return 0;
}

/* Is some column still waiting for its first token (its footer counts the time)? */
int
pane_compare_waiting(const struct app *a)
{
	int c;

	for (c = 0; c < a->cmp.n; c++)
		if (pane_compare_live(&a->cmp.col[c]) && a->cmp.col[c].turn->t_first == 0)
			return 1;
	return 0;
}

/* Where column c of n goes in the transcript: *x and *w. Returns 0 when n columns would be
 * narrower than COMPARE_MIN_W (*w is then what they would get). */
int
pane_compare_fit(const struct app *a, int n, int c, int *x, int *w)
{
	int usable = (a->trans_w > 4 ? a->trans_w - 1 : 4) - COMPARE_GAP * (n - 1);

	*w = n > 0 ? usable / n : usable;
	*x = c * (*w + COMPARE_GAP);
	return *w >= COMPARE_MIN_W;
}

/* Leave comparison mode; the rounds stay in the session as they are. */
void
pane_compare_stop(struct app *a, int quiet)
{
	int c;

	if (a->cmp.n == 0)
		return;
	for (c = 0; c < a->cmp.n; c++)
		pane_compare_col_clear(&a->cmp.col[c]);
	a->cmp.n = 0;
	a->cmp.from = 0;
	/* The status line's figures are the main conversation's again. */
	status_figures(a);
	a->dirty |= DIRTY_LAYOUT | DIRTY_ALL;
	if (!quiet)
		ui_note(a, 0, "comparison off: no column was kept; the next prompt leaves the "
		    "rounds as its alternative (%s on it goes back to them)",
		    keys_hint(KCTX_TRANSCRIPT, ACT_ALT_PREV));
}

/* Free everything at exit; a reply still streaming is kept as cancelled. */
void
pane_compare_free(struct app *a)
{
	pane_compare_stop(a, 1);
	if (a->wchead != NULL)
		delwin(a->wchead);
	if (a->wcfoot != NULL)
		delwin(a->wcfoot);
	a->wchead = a->wcfoot = NULL;
}

/* The provider and model id of spec, resolved as every front end does (resolve.h) but
 * strictly: an id no configured model, provider prefix or family claims is refused rather
 * than sent to the current provider, to catch typos. NULL after saying why. */
static struct provider *
pane_compare_resolve(struct app *a, const char *spec, const char **model)
{
	struct resolved r;
	char *why;

	if (strcmp(spec, a->model) == 0) {
		*model = a->model;
		return a->prov;
	}
	switch (resolve_model(a->cfg, spec, NULL, &r)) {
	case RESOLVE_OK:
		break;
	case RESOLVE_PROVIDER_OFF:
		ui_note(a, 1, "/compare: %s cannot be used: provider %s is off (%s)", spec,
		    r.provider_name != NULL ? r.provider_name : "?",
		    r.off != NULL ? r.off->reason : "not configured");
		return NULL;
	case RESOLVE_UNKNOWN_MODEL:
		ui_note(a, 1, "/compare: unknown model '%s' (a model of the config, a provider, "
		    "or PROVIDER/MODEL)", spec);
		return NULL;
	default:
		why = resolve_message(a->cfg, spec, &r);
		ui_note(a, 1, "/compare: %s", why);
		free(why);
		return NULL;
	}
	if (!provider_usable(r.model->provider)) {
		ui_note(a, 1, "/compare: %s/%s cannot be used: %s has no key (set %s)",
		    r.model->provider->name, r.model->id, r.model->provider->name,
		    r.model->provider->key_env ? r.model->provider->key_env : "its API key");
		return NULL;
	}
	*model = r.model->id;
	return r.model->provider;
}

/* /compare MODEL MODEL [MODEL [MODEL]] starts comparison mode; /compare or /compare off
 * leaves it. Every model is checked before anything changes. */
void
pane_compare_command(struct app *a, const char *args)
{
	char *copy = xstrdup(args), *save = NULL, *tok, *specs[COMPARE_MAX + 1];
	struct provider *provs[COMPARE_MAX];
	const char *models[COMPARE_MAX];
	int n = 0, c;

	for (tok = strtok_r(copy, " \t", &save); tok != NULL; tok = strtok_r(NULL, " \t", &save))
		if (n <= COMPARE_MAX)
			specs[n++] = tok;
		else
			n++;
	if (n == 0 || (n == 1 && strcmp(specs[0], "off") == 0)) {
		if (a->cmp.n == 0)
			ui_note(a, 0, "comparison mode is off (/compare MODEL MODEL starts it)");
		else if (pane_compare_busy(a))
			ui_note(a, 1, "replies are streaming: %s cancels them first",
			    keys_hint(KCTX_GLOBAL, ACT_CANCEL));
		else
			pane_compare_stop(a, 0);
		free(copy);
		return;
	}
	if (n < 2 || n > COMPARE_MAX) {
		ui_note(a, 1, "usage: /compare MODEL MODEL [MODEL [MODEL]] (two to four models)");
		free(copy);
		return;
	}
	if (ui_busy(a)) {
		ui_note(a, 1, "a reply is streaming: %s cancels it first",
		    keys_hint(KCTX_GLOBAL, ACT_CANCEL));
		free(copy);
		return;
	}
	for (c = 0; c < n; c++) {
		if ((provs[c] = pane_compare_resolve(a, specs[c], &models[c])) == NULL) {
			free(copy);
			return;
		}
	}
	/* Copy the ids before the old columns, which they may point into, are freed. */
	{
		char *ids[COMPARE_MAX];

		for (c = 0; c < n; c++)
			ids[c] = xstrdup(models[c]);
		pane_compare_stop(a, 1);
		for (c = 0; c < n; c++) {
			pane_compare_col_clear(&a->cmp.col[c]);
			a->cmp.col[c].prov = provs[c];
			a->cmp.col[c].model = ids[c];
		}
	}
	a->cmp.n = n;
	a->cmp.from = a->sess != NULL ? a->sess->nmsgs : 0;
	a->edit_from = 0;
	a->follow = 1;
	a->dirty |= DIRTY_LAYOUT | DIRTY_ALL;
	{
		int x, w;

		if (pane_compare_fit(a, n, 0, &x, &w))
			ui_note(a, 0, "each prompt now goes to all %d models; /compare off ends "
			    "comparison mode", n);
		else
			ui_note(a, 1, "comparing %d models, but %d columns need %d cells: widen the "
			    "terminal or hide the sessions (%s)", n, n,
			    n * COMPARE_MIN_W + COMPARE_GAP * (n - 1) + 1,
			    keys_hint(KCTX_GLOBAL, ACT_TOGGLE_SESSIONS));
	}
	free(copy);
}

/* A column's turn changed: redraw the transcript and the column's header and footer. */
static void
pane_compare_update(struct turn *t, unsigned what, const char *p, size_t n, void *arg)
{
	struct app *a = arg;

	(void)p;
	if (what & (TURN_TOOL | TURN_APPROVE))
		tools_update(a, t, what, n);
	a->dirty |= DIRTY_TRANSCRIPT | DIRTY_COMPARE | DIRTY_STATUS;
}

/* A column's reply is over; once every column is, the session list shows the round. */
static void
pane_compare_complete(struct turn *t, void *arg)
{
	struct app *a = arg;

	tools_complete(a, t);
	if (!pane_compare_busy(a)) {
		notify_reply_done(a, t);
		ui_reload_sessions(a);
		semantic_ix_kick(a->six);
		a->index_due = 1;
		/* The last column is over: "cancelling" is no longer true. */
		if (a->note_kind == NOTE_CANCELLING)
			ui_note(a, 0, "cancelled: the partial replies are kept");
	}
	a->dirty |= DIRTY_ALL;
}

static const struct turn_cbs pane_compare_cbs = { pane_compare_update, pane_compare_complete,
	NULL };

/* Start column c's reply to the round in group g; a refused one ends at once as an error,
 * so every round has one reply per column and the columns stay aligned. */
static void
pane_compare_start(struct app *a, int c, int64_t g)
{
	struct compare_col *col = &a->cmp.col[c];
	struct turn_spec spec = { .column = c, .from = a->cmp.from, .group = g,
	    .no_fallback = 1 };
	char *err = NULL, *why;
	size_t r;

	spec.model = ui_model(a, col->prov, col->model);
	spec.session = &a->sess_params;
	/* The same tools go to every column; each runs its own loop. */
	spec.tools = tools_box(a);
	turn_free(col->turn);
	col->turn = turn_start(&a->env, a->sess, &spec, &pane_compare_cbs, a, &err);
	if (col->turn != NULL)
		return;
	why = xasprintf("not sent: %s", err);
	r = session_reply_open_slot(a->sess, col->prov->name, col->model, g, c);
	session_reply_close(a->sess, r, MSG_ERROR, NULL, -1, NULL, why);
	free(why);
	free(err);
}

/* Send a prompt to every column at once. */
void
pane_compare_send(struct app *a, const char *text)
{
	int64_t g;
	int c;

	if (ui_busy(a)) {
		ui_note(a, 1, "replies are still streaming: %s cancels them",
		    keys_hint(KCTX_GLOBAL, ACT_CANCEL));
		return;
	}
	if (a->sess == NULL) {
		a->sess = session_new(a->st, a->prov->name, a->model);
		a->cmp.from = 0;
	}
	/* The columns' requests hold the whole path (cmp.from moves with what loads). */
	pane_transcript_older(a, SIZE_MAX);
	if (a->cmp.from > a->sess->nmsgs)
		a->cmp.from = a->sess->nmsgs;
	pane_input_history_add(&a->in, text);
	session_append_round_files(a->sess, text, a->pend, a->npend, &g);
	attach_pending_clear(a);
	for (c = 0; c < a->cmp.n; c++)
		pane_compare_start(a, c, g);
	a->follow = 1;
	pane_transcript_sync(a);
	ui_reload_sessions(a);
	a->dirty |= DIRTY_TRANSCRIPT | DIRTY_COMPARE | DIRTY_STATUS | DIRTY_INPUT;
}

/* Hand a worker event to the column whose turn it belongs to; 0 when none takes it. */
int
pane_compare_event(struct app *a, struct wevent *ev)
{
	int c;

	for (c = 0; c < a->cmp.n; c++)
		if (turn_event(a->cmp.col[c].turn, ev))
			return 1;
	return 0;
}

/* Cancel every column still streaming; returns 1 when there was one. */
int
pane_compare_cancel(struct app *a)
{
	int c, k = 0;

	for (c = 0; c < a->cmp.n; c++) {
		if (pane_compare_live(&a->cmp.col[c])) {
			turn_cancel(a->cmp.col[c].turn);
			k++;
		}
	}
	if (k > 0) {
		ui_note(a, 0, "cancelling %d %s: partial text is kept", k, k == 1 ? "reply" : "replies");
		a->note_kind = NOTE_CANCELLING;
	}
	return k > 0;
}

/* Keep column col (0-based): its replies become the conversation's, comparison mode ends
 * and the chat goes on with its model. */
void
pane_compare_pick(struct app *a, int col)
{
	struct compare_col *c;
	size_t i, rounds = 0;
	int64_t mark[2];
	char *name;

	if (a->cmp.n == 0) {
		ui_note(a, 1, "no comparison to pick from (/compare MODEL MODEL starts one)");
		return;
	}
	if (col < 0 || col >= a->cmp.n) {
		ui_note(a, 1, "usage: /pick N, a column from 1 to %d", a->cmp.n);
		return;
	}
	if (pane_compare_busy(a)) {
		ui_note(a, 1, "replies are streaming: wait for them or %s first",
		    keys_hint(KCTX_GLOBAL, ACT_CANCEL));
		return;
	}
	c = &a->cmp.col[col];
	for (i = a->cmp.from; a->sess != NULL && i < a->sess->nmsgs; i++)
		rounds += a->sess->msgs[i].role == ROLE_USER && a->sess->msgs[i].compare_group != 0;
	/* The path on screen now goes through the kept replies: loaded again from the
	 * comparison's first round on. */
	if (a->sess != NULL)
		paging_marks(a->sess, a->cmp.from, mark);
	if (rounds > 0 && session_pick(a->sess, a->cmp.from, col) != 0)
		ui_note(a, 1, "the pick is not saved: %s", a->sess->err);
	if (rounds > 0)
		paging_reloaded(a, a->cmp.from, mark);
	a->prov = c->prov;
	name = xstrdup(c->model);
	free(a->model);
	a->model = name;
	if (a->sess != NULL)
		session_set_model(a->sess, a->prov->name, a->model);
	pane_compare_stop(a, 1);
	if (rounds > 0)
		ui_note(a, 0, "kept column %d: %s/%s goes on with its %zu %s; the others stay as "
		    "alternatives", col + 1, a->prov->name, a->model, rounds,
		    rounds == 1 ? "answer" : "answers");
	else
		ui_note(a, 0, "comparison off: talking to %s/%s", a->prov->name, a->model);
	ui_reload_sessions(a);
	a->dirty |= DIRTY_ALL;
}

/* Keep the column of the reply selected in the transcript (the pick key). */
void
pane_compare_pick_selected(struct app *a)
{
	const struct session_msg *m;

	if (a->cmp.n == 0) {
		ui_note(a, 1, "no comparison to pick from (/compare MODEL MODEL starts one)");
		return;
	}
	if (a->sess == NULL || a->sel_msg < (long)a->cmp.from || a->sel_msg >= (long)a->sess->nmsgs ||
	    (m = &a->sess->msgs[a->sel_msg])->slot < 0) {
		ui_note(a, 1, "select a reply of this comparison first (j/k), or /pick N");
		return;
	}
	pane_compare_pick(a, m->slot);
}

/* The prompt of the comparison's latest round, or -1 before its first round. */
static long
pane_compare_round(const struct app *a)
{
	size_t i;

	for (i = a->sess != NULL ? a->sess->nmsgs : 0; i > a->cmp.from; i--) {
		const struct session_msg *m = &a->sess->msgs[i - 1];

		if (m->compare_group == 0)
			return -1;
		if (m->role == ROLE_USER)
			return (long)i - 1;
	}
	return -1;
}

/* Ask column col (0-based) of the comparison's latest round again, alone: its earlier
 * reply stays stored as the column's alternative (‹k/n› in its header). */
void
pane_compare_retry(struct app *a, int col)
{
	long p;
	int64_t g;

	if (a->cmp.n == 0) {
		ui_note(a, 1, "no comparison to retry a column of (%s regenerates the last reply)",
		    keys_hint(KCTX_GLOBAL, ACT_REGENERATE));
		return;
	}
	if (col < 0 || col >= a->cmp.n) {
		ui_note(a, 1, "usage: /retry N, a column from 1 to %d", a->cmp.n);
		return;
	}
	if (pane_compare_busy(a)) {
		ui_note(a, 1, "replies are streaming: wait for them or %s first",
		    keys_hint(KCTX_GLOBAL, ACT_CANCEL));
		return;
	}
	if ((p = pane_compare_round(a)) < 0) {
		ui_note(a, 1, "no round of this comparison yet: send a prompt first");
		return;
	}
	g = a->sess->msgs[p].compare_group;
	if (a->sess->msgs[p].flat || session_retry_column(a->sess, g, col) != 0) {
		ui_note(a, 1, "this round was stored before columns could be retried alone: send "
		    "the prompt again");
		return;
	}
	pane_transcript_reset(a);
	pane_compare_start(a, col, g);
	a->follow = 1;
	ui_note(a, 0, "retrying column %d: %s/%s answers again alone; its earlier reply stays "
	    "(%s/%s on it)", col + 1, a->cmp.col[col].prov->name, a->cmp.col[col].model,
	    keys_hint(KCTX_TRANSCRIPT, ACT_ALT_PREV), keys_hint(KCTX_TRANSCRIPT, ACT_ALT_NEXT));
	ui_reload_sessions(a);
	a->dirty |= DIRTY_TRANSCRIPT | DIRTY_COMPARE | DIRTY_STATUS;
}

/* Retry the column of the reply selected in the transcript (the regenerate key while
 * comparing). */
void
pane_compare_retry_selected(struct app *a)
{
	const struct session_msg *m;
	long p = pane_compare_round(a);

	if (a->sess == NULL || p < 0 || a->sel_msg <= p || a->sel_msg >= (long)a->sess->nmsgs ||
	    (m = &a->sess->msgs[a->sel_msg])->slot < 0) {
		ui_note(a, 1, "select a reply of the latest round first (j/k), or /retry N");
		return;
	}
	pane_compare_retry(a, m->slot);
}

/* Append the name of compared reply i as its round tells its replies apart. */
void
pane_compare_reply_name(const struct session *s, size_t i, struct buf *b)
{
	size_t first, n = session_group_span(s, i, &first), k;
	const char **prov, **model;

	if (n == 0) {
		buf_puts(b, s->msgs[i].model != NULL ? s->msgs[i].model : "?");
		return;
	}
	prov = xcalloc(n, sizeof *prov);
	model = xcalloc(n, sizeof *model);
	for (k = 0; k < n; k++) {
		prov[k] = s->msgs[first + k].provider;
		model[k] = s->msgs[first + k].model;
	}
	session_short_name(prov, model, n, i - first, b);
	free(prov);
	free(model);
}

/* Are the replies of the groups starting at a and at b from the same models in order? */
static int
pane_compare_same(const struct session *s, size_t a, size_t b, size_t n)
{
	size_t k;

	for (k = 0; k < n; k++) {
		const struct session_msg *x = &s->msgs[a + k], *y = &s->msgs[b + k];

		if (x->provider == NULL || y->provider == NULL || x->model == NULL ||
		    y->model == NULL || strcmp(x->provider, y->provider) != 0 ||
		    strcmp(x->model, y->model) != 0)
			return 0;
	}
	return 1;
}

/* When the session ends in rounds nobody picked from, resume their comparison: the same
 * models in the same columns, so /pick and new prompts go on where it stopped. */
void
pane_compare_restore(struct app *a)
{
	struct session *s = a->sess;
	size_t first, n, k, from, prev, pn;
	struct provider *provs[COMPARE_MAX];

	if (s == NULL || s->nmsgs < 2)
		return;
	n = session_group_span(s, s->nmsgs - 1, &first);
	if (n < 2 || n > COMPARE_MAX || first == 0 || s->msgs[first].pick >= 0 ||
	    s->msgs[first - 1].role != ROLE_USER ||
	    s->msgs[first - 1].compare_group != s->msgs[first].compare_group)
		return;
	for (k = 0; k < n; k++) {
		const struct session_msg *m = &s->msgs[first + k];

		if (m->provider == NULL || m->model == NULL ||
		    (provs[k] = ui_provider(a, m->provider)) == NULL)
			return;  /* a provider no longer configured: show the rounds only */
	}
	/* Earlier rounds of the same models belong to the same comparison, loaded a page
	 * at a time when they go on above the first message loaded. */
	from = first - 1;
	for (;;) {
		long more = from == 0 ? pane_transcript_older(a, 0) : 0;

		from += (size_t)more;
		first += (size_t)more;
		if (!(from > 0 && (pn = session_group_span(s, from - 1, &prev)) == n &&
		    s->msgs[prev].pick < 0 && prev > 0 && s->msgs[prev - 1].role == ROLE_USER &&
		    s->msgs[prev - 1].compare_group == s->msgs[prev].compare_group &&
		    pane_compare_same(s, prev, first, n)))
			break;
		from = prev - 1;
	}
	for (k = 0; k < n; k++) {
		pane_compare_col_clear(&a->cmp.col[k]);
		a->cmp.col[k].prov = provs[k];
		a->cmp.col[k].model = xstrdup(s->msgs[first + k].model);
	}
	a->cmp.n = (int)n;
	a->cmp.from = from;
	a->dirty |= DIRTY_LAYOUT | DIRTY_ALL;
	ui_note(a, 0, "this session ends in a comparison of %zu models: /pick N keeps one, "
	    "/compare off leaves it", n);
}

/* The latest reply of column c in this comparison, or NULL before its first. */
static const struct session_msg *
pane_compare_latest(const struct app *a, int c)
{
	size_t i;

	for (i = a->sess != NULL ? a->sess->nmsgs : 0; i > a->cmp.from; i--) {
		const struct session_msg *m = &a->sess->msgs[i - 1];

		if (m->role == ROLE_ASSISTANT && m->compare_group != 0 && m->slot == c)
			return m;
		if (m->role == ROLE_USER && m->compare_group == 0)
			break;
	}
	return NULL;
}

/* The state line of a column's footer into b, and the role to draw it in: of col's reply
 * while it streams, else of m, the stored reply (col is NULL for a round of the past). */
static enum theme_role
pane_compare_state(const struct compare_col *col, const struct session_msg *m, struct buf *b)
{
	const struct turn *t = col != NULL ? col->turn : NULL;
	int64_t now = ui_now_ms();

	if (col != NULL && pane_compare_live(col)) {
		size_t k;

		/* A tool round: the column's call that asks, or runs. */
		for (k = 0; k < t->ncalls; k++)
			if (t->calls[k].state == CALL_ASKING) {
				buf_printf(b, "⚙ %s · awaiting approval", t->calls[k].name);
				return THEME_WARNING;
			}
		for (k = 0; k < t->ncalls; k++)
			if (t->calls[k].state == CALL_RUNNING) {
				buf_printf(b, "⚙ running %s", t->calls[k].name);
				return THEME_HINT;
			}
		if (t->t_first == 0 && t->wait_msg != NULL && now < t->wait_until) {
			buf_printf(b, "↻ retrying in %.1fs (attempt %d/%d) · %s",
			    (double)(t->wait_until - now) / 1000.0, t->wait_attempt, t->wait_max,
			    t->wait_msg);
			return THEME_WARNING;
		}
		if (t->t_first == 0) {
			buf_printf(b, "… waiting %.1fs", (double)(now - t->t_send) / 1000.0);
			return THEME_HINT;
		}
		buf_printf(b, "● streaming %.1fs", (double)(now - t->t_send) / 1000.0);
		return THEME_ASSISTANT;
	}
	if (m == NULL) {
		buf_puts(b, "ready");
		return THEME_HINT;
	}
	switch (m->state) {
	case MSG_COMPLETE:
		if (m->error != NULL) {
			buf_printf(b, "⚠ complete · %s", m->error);
			return THEME_WARNING;
		}
		buf_puts(b, "✓ complete");
		return THEME_ASSISTANT;
	case MSG_CANCELLED:
		buf_puts(b, "⊘ cancelled: partial reply kept");
		return THEME_WARNING;
	case MSG_TRUNCATED:
		buf_puts(b, "⚠ truncated");
		return THEME_WARNING;
	case MSG_INTERRUPTED:
		buf_puts(b, "⚠ interrupted");
		return THEME_WARNING;
	case MSG_ERROR:
		buf_printf(b, "✗ %s", m->error != NULL ? m->error : "error");
		return THEME_ERROR;
	case MSG_STREAMING:
		/* Not a stream of this natter's (those are live above): another one's. */
		buf_puts(b, "… still arriving in another natter");
		return THEME_HINT;
	}
	return THEME_META;
}

/* The figures line of a column's footer into b: the stored reply m's, or while col's
 * reply streams its ttft and a token estimate so far. */
static void
pane_compare_figures(struct app *a, const struct compare_col *col,
    const struct session_msg *m, struct buf *b)
{
	if (col != NULL && pane_compare_live(col)) {
		if (col->turn->t_first != 0)
			buf_printf(b, "ttft %.2fs · ~%zu tok so far",
			    (double)(col->turn->t_first - col->turn->t_send) / 1000.0,
			    m != NULL ? session_estimate_tokens(buf_str(&m->content), m->content.len) : 0);
		return;
	}
	if (m != NULL)
		metrics_reply_line(m, a->cfg, b);
}

/* Draw footer text s in width columns, cut at its end with an ellipsis when too long. */
static void
pane_compare_foot_text(struct app *a, const char *s, size_t n, int width, unsigned int at)
{
	struct buf fit = BUF_INIT;

	text_fit_end(s, n, width, &fit);
	draw_text(a->wcfoot, fit.data != NULL ? fit.data : "", fit.len, at, width);
	buf_free(&fit);
}

/* Draw a figures line ("ttft · rate · tokens · cost") in width columns: when it is too
 * long the first figures go whole (ttft, then the rate), so tokens and cost stay. */
static void
pane_compare_foot_figures(struct app *a, const char *s, int width, unsigned int at)
{
	struct text_field f[TEXT_FIT_MAX];
	struct buf parts = BUF_INIT;
	const char *p = s, *dot;
	size_t n = 0, i, len;

	memset(f, 0, sizeof(f));
	/* The fields are cut from a copy, one NUL-terminated string after another. */
	for (n = 0; n < TEXT_FIT_MAX;) {
		dot = n + 1 < TEXT_FIT_MAX ? strstr(p, " · ") : NULL;
		len = dot != NULL ? (size_t)(dot - p) : strlen(p);
		buf_append(&parts, p, len);
		buf_putc(&parts, '\0');
		f[n].sep = " · ";
		f[n].prio = (int)n;
		f[n].cut = TEXT_CUT_NONE;
		n++;
		if (dot == NULL)
			break;
		p = dot + strlen(" · ");
	}
	for (i = 0, p = parts.data; i < n; i++, p += strlen(p) + 1)
		f[i].text = p;
	text_fit_fields(f, n, width);
	for (i = 0; i < n; i++) {
		if (f[i].out.len > 0)
			draw_text(a->wcfoot, f[i].out.data, f[i].out.len, at, -1);
		buf_free(&f[i].out);
	}
	buf_free(&parts);
}

/* The first reply of the comparison's latest round, or -1 before its first. */
static long
pane_compare_last_round(const struct app *a)
{
	size_t first;

	if (a->sess == NULL || a->sess->nmsgs == 0 ||
	    session_group_span(a->sess, a->sess->nmsgs - 1, &first) == 0 || first < a->cmp.from)
		return -1;
	return (long)first;
}

/* Draw the rule before column c of n on row y of w. */
static void
pane_compare_rule(struct app *a, WINDOW *w, int y, int n, int c)
{
	int x, cw;

	pane_compare_fit(a, n, c, &x, &cw);
	wmove(w, y, x - 2);
	draw_text(w, "│", strlen("│"), theme_attr(THEME_META, 0), 1);
}

/* The header row: the models of the round at the top of the view (first: its first reply),
 * or of the comparison's columns when no round is in view, so that each round is named by
 * its own models, not by those of a later /compare. */
static void
pane_compare_header(struct app *a, long first, const struct session_msg *sel, struct buf *b)
{
	const struct session *s = a->sess;
	size_t f;
	int c, x, w, n = first >= 0 ? (int)session_group_span(s, (size_t)first, &f) : a->cmp.n;

	for (c = 0; c < n; c++) {
		const struct session_msg *m = first >= 0 ? &s->msgs[first + c] : NULL;
		int hi;

		pane_compare_fit(a, n, c, &x, &w);
		if (c > 0)
			pane_compare_rule(a, a->wchead, 0, n, c);
		buf_reset(b);
		if (m != NULL)
			buf_printf(b, "%d %s/%s", c + 1, m->provider != NULL ? m->provider : "?",
			    m->model != NULL ? m->model : "?");
		else
			buf_printf(b, "%d %s/%s", c + 1, a->cmp.col[c].prov->name,
			    a->cmp.col[c].model);
		/* The selected reply's column is marked, in the round it belongs to. */
		hi = sel != NULL && sel->slot == c && (m != NULL ?
		    sel->compare_group == m->compare_group : a->sel_msg >= (long)a->cmp.from);
		if (hi)
			draw_fill(a->wchead, 0, x, w, " ", theme_attr(THEME_SELECTED, 0));
		wmove(a->wchead, 0, x);
		draw_text(a->wchead, b->data, b->len, theme_attr(hi ? THEME_SELECTED :
		    THEME_ASSISTANT, THEME_BOLD), w);
	}
}

/* The footer rows: the state and figures of each reply of the round at the bottom of the
 * view (first: its first reply), or while the comparison's latest round is in view (first
 * -1), of each column's latest reply, streaming or not. */
static void
pane_compare_footer(struct app *a, long first, struct buf *b)
{
	const struct session *s = a->sess;
	size_t f;
	int c, x, w, y, n = first >= 0 ? (int)session_group_span(s, (size_t)first, &f) : a->cmp.n;

	for (c = 0; c < n; c++) {
		const struct compare_col *col = first >= 0 ? NULL : &a->cmp.col[c];
		const struct session_msg *m = first >= 0 ? &s->msgs[first + c] :
		    pane_compare_latest(a, c);
		enum theme_role role;

		pane_compare_fit(a, n, c, &x, &w);
		for (y = 0; c > 0 && y < a->cmp.foot_h; y++)
			pane_compare_rule(a, a->wcfoot, y, n, c);
		buf_reset(b);
		role = pane_compare_state(col, m, b);
		wmove(a->wcfoot, 0, x);
		pane_compare_foot_text(a, b->data, b->len, w, theme_attr(role, 0));
		buf_reset(b);
		pane_compare_figures(a, col, m, b);
		wmove(a->wcfoot, 1, x);
		pane_compare_foot_figures(a, buf_str(b), w, theme_attr(THEME_META, 0));
	}
}

/* Draw the column headers and footers; when the columns do not fit, a note instead. */
void
pane_compare_draw(struct app *a)
{
	const struct session_msg *sel = NULL;
	struct buf b = BUF_INIT;
	int c, x, w, n = a->cmp.n;
	long top, bottom;

	werase(a->wchead);
	werase(a->wcfoot);
	if (a->focus == FOCUS_TRANSCRIPT && a->sess != NULL && a->sel_msg >= 0 &&
	    a->sel_msg < (long)a->sess->nmsgs)
		sel = &a->sess->msgs[a->sel_msg];
	if (!pane_compare_fit(a, n, 0, &x, &w)) {
		buf_printf(&b, "too narrow for %d columns (%d cells, %d here): widen the terminal, "
		    "%s hides the sessions, or compare fewer models", n,
		    n * COMPARE_MIN_W + COMPARE_GAP * (n - 1) + 1, a->trans_w,
		    keys_hint(KCTX_GLOBAL, ACT_TOGGLE_SESSIONS));
		wmove(a->wchead, 0, 0);
		draw_text(a->wchead, b.data, b.len, theme_attr(THEME_WARNING, 0), a->trans_w);
		/* The footers shrink to one line of states: the replies are stacked below. */
		buf_reset(&b);
		for (c = 0; c < n; c++) {
			buf_printf(&b, "%s%d ", c ? "  " : "", c + 1);
			pane_compare_state(&a->cmp.col[c], pane_compare_latest(a, c), &b);
		}
		wmove(a->wcfoot, 0, 0);
		draw_text(a->wcfoot, b.data, b.len, theme_attr(THEME_META, 0), a->trans_w);
	} else {
		long last = pane_compare_last_round(a);

		/* Following the end before the latest round shows (a /compare just made): the
		 * comparison's own columns. */
		pane_transcript_blocks(a, &top, &bottom);
		if (a->follow && (last < 0 || bottom != last))
			top = bottom = -1;
		pane_compare_header(a, top, sel, &b);
		pane_compare_footer(a, bottom == last ? -1 : bottom, &b);
	}
	buf_free(&b);
	wnoutrefresh(a->wchead);
	wnoutrefresh(a->wcfoot);
}
