/*
 * The status line: provider and model, what the stream is doing (from a few seconds on,
 * how long it has waited for a first token or gone without one), time to first token,
 * tokens per second, tokens of the last turn and the session, cost when known, a retry or
 * key-pool wait counting down, and a transient note (copied, errors) that expires on its own.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "proto.h"
#include "provider.h"
#include "text.h"
#include "wrap.h"
#include "xmalloc.h"

/* Add message m's tokens and cost to the sums. */
static void
status_add_msg(const struct session_msg *m, long *tokens, double *cost, long *known)
{
	if (m->input_tokens > 0)
		*tokens += m->input_tokens;
	if (m->output_tokens > 0)
		*tokens += m->output_tokens;
	if (m->cost >= 0) {
		*cost += m->cost;
		(*known)++;
	}
}

/* Sum the tokens and cost recorded on the session's path: the messages not loaded as the
 * session counted them (nothing is shown until it has), and the loaded ones. The loaded
 * messages up to the first open reply cannot change any more: their sums are kept
 * (a->sums) as long as the first and the last of them are the same, so a redraw adds only
 * what came since, however long the session. */
static void
status_totals(struct app *a, long *tokens, double *cost, int *cost_known)
{
	const struct session *s = a->sess;
	size_t i, c;
	long known = 0;

	*tokens = 0;
	*cost = 0;
	*cost_known = 0;
	if (s == NULL || (session_partial(s) && s->count.state != SESSION_COUNT_DONE))
		return;
	for (c = s->nmsgs, i = 0; i < s->nopen; i++)
		if ((size_t)s->open[i] < c)
			c = (size_t)s->open[i];
	if (a->sums.s != s || a->sums.n > c || (a->sums.n > 0 &&
	    (s->msgs[0].id != a->sums.first_id || s->msgs[0].created != a->sums.first_at ||
	    s->msgs[a->sums.n - 1].id != a->sums.last_id ||
	    s->msgs[a->sums.n - 1].created != a->sums.last_at))) {
		memset(&a->sums, 0, sizeof(a->sums));
		a->sums.s = s;
	}
	for (i = a->sums.n; i < c; i++)
		status_add_msg(&s->msgs[i], &a->sums.tokens, &a->sums.cost, &a->sums.known);
	if (c > 0) {
		a->sums.n = c;
		a->sums.first_id = s->msgs[0].id;
		a->sums.first_at = s->msgs[0].created;
		a->sums.last_id = s->msgs[c - 1].id;
		a->sums.last_at = s->msgs[c - 1].created;
	}
	*tokens = a->sums.tokens;
	*cost = a->sums.cost;
	known = a->sums.known;
	for (i = c; i < s->nmsgs; i++)
		status_add_msg(&s->msgs[i], tokens, cost, &known);
	if (session_partial(s)) {
		*tokens += s->count.sums.tokens;
		*cost += s->count.sums.cost;
		known += s->count.sums.cost_known;
	}
	*cost_known = known > 0;
}

/* Take the status line's last-reply figures from the last reply of the main conversation
 * (a compared reply only when its column was kept): after /new, opening a session, /pick
 * or /compare off, so the line never shows another conversation's. */
void
status_figures(struct app *a)
{
	size_t i;

	a->last_ttft_ms = -1;
	a->last_tokens = 0;
	a->last_tps = -1;
	a->dirty |= DIRTY_STATUS;
	for (i = a->sess != NULL ? a->sess->nmsgs : 0; i > 0; i--) {
		const struct session_msg *m = &a->sess->msgs[i - 1];

		if (m->role != ROLE_ASSISTANT || m->state == MSG_STREAMING ||
		    (m->slot >= 0 && m->pick != m->slot))
			continue;
		a->last_ttft_ms = m->ttft_ms;
		a->last_tokens = m->output_tokens > 0 ? m->output_tokens : 0;
		if (m->output_tokens > 0 && m->ttft_ms >= 0 && m->duration_ms > m->ttft_ms)
			a->last_tps = (double)m->output_tokens * 1000.0 /
			    (double)(m->duration_ms - m->ttft_ms);
		return;
	}
}

/* After this long without a token the status line says how long it has been. */
#define STATUS_QUIET_MS 3000

/* The fields of the status line, most important first in priority (not in place): when the
 * line is too narrow for all, the least important go whole (text_fit_fields). */
enum {
	STATUS_P_TTFT = 1, STATUS_P_COST, STATUS_P_RATE, STATUS_P_SESSION, STATUS_P_NOTE,
	STATUS_P_SCROLL, STATUS_P_REASON, STATUS_P_TOKENS, STATUS_P_STATE, STATUS_P_MODEL,
};

/* The fields being laid out, with the text each says. */
struct status_line {
	struct text_field f[TEXT_FIT_MAX];
	struct buf text[TEXT_FIT_MAX];
	size_t n;
	int group;
};

/* Add a field to the line: its separator, priority, how it may be cut and its text. */
static void
status_add(struct status_line *l, const char *sep, int prio, enum text_cut cut,
    const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* Add a field (see above). */
static void
status_add(struct status_line *l, const char *sep, int prio, enum text_cut cut,
    const char *fmt, ...)
{
	struct text_field *f;
	va_list ap;
	char *s;
	int len;

	if (l->n >= TEXT_FIT_MAX)
		return;
	va_start(ap, fmt);
	len = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	s = xmalloc(len > 0 ? (size_t)len + 1 : 1);
	s[0] = '\0';
	va_start(ap, fmt);
	if (len > 0)
		vsnprintf(s, (size_t)len + 1, fmt, ap);
	va_end(ap);
	buf_init(&l->text[l->n]);
	buf_puts(&l->text[l->n], s);
	free(s);
	f = &l->f[l->n++];
	memset(f, 0, sizeof(*f));
	f->sep = sep;
	f->group = l->group;
	f->prio = prio;
	f->cut = cut;
	f->keep = (size_t)-1;
}

/* Start a new group of fields: its first kept field is led by " │ ". */
static void
status_group(struct status_line *l)
{
	l->group++;
}

/* The wait for the first token: from a few seconds on, how long this attempt has waited
 * and when it gives up (the provider's first_token_timeout), so a silent server is seen. */
static void
status_wait(const struct app *a, struct status_line *l, int64_t now)
{
	const struct turn *t = a->turn;
	const struct provider *p = t->model->provider;
	int64_t waited = now > t->t_attempt ? now - t->t_attempt : 0;
	long limit = p->proto != NULL && p->proto->framing != FRAMING_NONE ?
	    p->first_token_timeout_ms : 0;

	if (waited < STATUS_QUIET_MS)
		status_add(l, " │ ", STATUS_P_STATE, TEXT_CUT_END, "waiting for the first token");
	else if (limit > 0)
		status_add(l, " │ ", STATUS_P_STATE, TEXT_CUT_END,
		    "waiting %lds for the first token (gives up at %lds)", (long)(waited / 1000),
		    (limit + 999) / 1000);
	else
		status_add(l, " │ ", STATUS_P_STATE, TEXT_CUT_END,
		    "waiting %lds for the first token", (long)(waited / 1000));
}

/* A reply that is streaming: its chunks and ttft, and once it has gone quiet for a few
 * seconds, for how long (the provider's idle_timeout ends it). */
static void
status_streaming(const struct app *a, struct status_line *l, int64_t now)
{
	const struct turn *t = a->turn;

	status_add(l, " │ ", STATUS_P_STATE, TEXT_CUT_NONE, "streaming %ld chunks", t->chunks);
	status_add(l, " · ", STATUS_P_TTFT, TEXT_CUT_NONE, "ttft %.2fs",
	    (double)(t->t_first - t->t_send) / 1000.0);
	if (t->t_last != 0 && now - t->t_last >= STATUS_QUIET_MS)
		status_add(l, " · ", STATUS_P_REASON, TEXT_CUT_NONE, "no token for %lds",
		    (long)((now - t->t_last) / 1000));
}

/* What the turn of a streaming reply is doing. The countdown of a wait is its own field
 * before the reason: a provider's error message can be longer than the line, and what
 * goes must be the reason, not the countdown. */
static void
status_turn(const struct app *a, struct status_line *l, int64_t now)
{
	const struct turn *t = a->turn;

	if (t->summarizing && t->wait_msg != NULL) {
		status_add(l, " │ ", STATUS_P_STATE, TEXT_CUT_END, "%s", t->wait_msg);
	} else if (t->t_first == 0 && t->wait_msg != NULL && now < t->wait_until && t->wait_key) {
		status_add(l, " │ ", STATUS_P_STATE, TEXT_CUT_NONE, "waiting %lds",
		    (long)((t->wait_until - now + 999) / 1000));
		status_add(l, " · ", STATUS_P_REASON, TEXT_CUT_END, "%s", t->wait_msg);
	} else if (t->t_first == 0 && t->wait_msg != NULL && now < t->wait_until) {
		status_add(l, " │ ", STATUS_P_STATE, TEXT_CUT_NONE, "retrying in %.1fs (attempt %d/%d)",
		    (double)(t->wait_until - now) / 1000.0, t->wait_attempt, t->wait_max);
		status_add(l, " · ", STATUS_P_REASON, TEXT_CUT_END, "%s", t->wait_msg);
	} else if (t->t_first == 0) {
		status_wait(a, l, now);
	} else {
		status_streaming(a, l, now);
	}
}

/* Fill the line's fields: the model (or the comparison), what the reply is doing or the
 * last one's figures, the session's totals, the scroll state and the note. */
static void
status_fields(struct app *a, struct status_line *l, int64_t now)
{
	struct tools_line tl = { 0, BUF_INIT, BUF_INIT, BUF_INIT };
	long tokens;
	double cost;
	int known;

	if (a->cmp.n > 0) {
		int c, k = 0;

		for (c = 0; c < a->cmp.n; c++)
			k += a->cmp.col[c].turn != NULL && !a->cmp.col[c].turn->done;
		status_add(l, "", STATUS_P_MODEL, TEXT_CUT_END, " comparing %d models", a->cmp.n);
		status_group(l);
		/* Each column's footer has its own figures. */
		if (k > 0)
			status_add(l, " │ ", STATUS_P_STATE, TEXT_CUT_END, "%d streaming · %s cancels",
			    k, keys_hint(KCTX_GLOBAL, ACT_CANCEL));
		else
			status_add(l, " │ ", STATUS_P_STATE, TEXT_CUT_END, "/pick N keeps one");
	} else {
		const char *prov = ui_streaming(a) ? a->turn->model->provider->name :
		    a->prov ? a->prov->name : "?";
		const char *model = ui_streaming(a) ? a->turn->model->id : a->model ? a->model : "?";

		status_add(l, "", STATUS_P_MODEL, TEXT_CUT_MIDDLE, " %s/%s", prov, model);
		l->f[l->n - 1].keep = strlen(prov) + 2;
		status_group(l);
		if (ui_streaming(a) && tools_status(a, &tl)) {
			/* Between replies, while tools run: which. */
			status_add(l, " │ ", STATUS_P_STATE, TEXT_CUT_END, "%s", buf_str(&tl.what));
			if (tl.arg.len > 0)
				status_add(l, " ", STATUS_P_RATE, TEXT_CUT_END, "%s", buf_str(&tl.arg));
		} else if (ui_streaming(a)) {
			status_turn(a, l, now);
		} else if (a->last_ttft_ms >= 0 && a->last_tokens > 0) {
			status_add(l, " │ ", STATUS_P_TTFT, TEXT_CUT_NONE, "ttft %.2fs",
			    (double)a->last_ttft_ms / 1000.0);
			/* A reply that came in one piece has no rate: "-", as /metrics shows it. */
			if (a->last_tps >= 0)
				status_add(l, " · ", STATUS_P_RATE, TEXT_CUT_NONE, "%.1f tok/s",
				    a->last_tps);
			else
				status_add(l, " · ", STATUS_P_RATE, TEXT_CUT_NONE, "- tok/s");
			status_add(l, " · ", STATUS_P_TOKENS, TEXT_CUT_NONE, "%ld tok", a->last_tokens);
		}
	}
	status_totals(a, &tokens, &cost, &known);
	status_group(l);
	if (tokens > 0)
		status_add(l, " │ ", STATUS_P_SESSION, TEXT_CUT_NONE, "session %ld tok", tokens);
	if (known)
		status_add(l, tokens > 0 ? " " : " │ ", STATUS_P_COST, TEXT_CUT_NONE, "$%.4f", cost);
	status_group(l);
	if (!a->follow)
		status_add(l, " │ ", STATUS_P_SCROLL, TEXT_CUT_NONE, "scrolled (End/G follows)");
	buf_free(&tl.what);
	buf_free(&tl.arg);
	buf_free(&tl.keys);
}

/* A tool call asks: the line is its question alone, the keys kept longest and the
 * argument cut first. 1 when it drew one. */
static int
status_question(struct app *a, int x)
{
	struct tools_line tl = { 0, BUF_INIT, BUF_INIT, BUF_INIT };
	struct text_field f[4];
	unsigned int at = theme_attr(THEME_WARNING, THEME_REVERSE | THEME_BOLD);
	int64_t now = ui_now_ms();
	size_t i, n = 0;

	if (!tools_status(a, &tl) || !tl.asking) {
		buf_free(&tl.what);
		buf_free(&tl.arg);
		buf_free(&tl.keys);
		return 0;
	}
	memset(f, 0, sizeof f);
	f[n++] = (struct text_field){ buf_str(&tl.what), " ", 0, 2, TEXT_CUT_MIDDLE, (size_t)-1,
	    BUF_INIT };
	if (tl.arg.len > 0)
		f[n++] = (struct text_field){ buf_str(&tl.arg), " ", 0, 1, TEXT_CUT_END, 0,
		    BUF_INIT };
	f[n++] = (struct text_field){ buf_str(&tl.keys), " · ", 0, 3, TEXT_CUT_END, 0,
	    BUF_INIT };
	/* A note (an edit that was no JSON object) is said after the question. */
	if (a->note != NULL && (a->note_until == 0 || now < a->note_until))
		f[n++] = (struct text_field){ a->note, " │ ", 0, 0, TEXT_CUT_END, 0, BUF_INIT };
	draw_fill(a->wstatus, 0, x, a->cols - x, " ", at);
	text_fit_fields(f, n, a->cols - x);
	wmove(a->wstatus, 0, x);
	for (i = 0; i < n; i++) {
		if (f[i].out.len > 0)
			draw_text(a->wstatus, f[i].out.data, f[i].out.len, at, -1);
		buf_free(&f[i].out);
	}
	buf_free(&tl.what);
	buf_free(&tl.arg);
	buf_free(&tl.keys);
	return 1;
}

/* Draw the status line. */
void
status_draw(struct app *a)
{
	struct status_line l;
	int busy = ui_busy(a), wsx = 0, note = -1;
	unsigned int at = theme_attr(busy ? THEME_STATUSBUSY : THEME_STATUS, 0);
	int64_t now = ui_now_ms();
	size_t i;

	werase(a->wstatus);
	draw_fill(a->wstatus, 0, 0, a->cols, " ", at);
	/* A conversation that is not being stored says so first, where nothing cuts it. */
	if (persist_problem(a) != NULL) {
		static const char tag[] = " ⚠ NOT SAVED ";
		int tw = (int)wrap_width(tag, strlen(tag));

		wmove(a->wstatus, 0, 0);
		draw_text(a->wstatus, tag, strlen(tag), theme_attr(THEME_ERROR, THEME_REVERSE),
		    a->cols);
		wsx = tw < a->cols ? tw : a->cols;
	}
	if (status_question(a, wsx)) {
		wnoutrefresh(a->wstatus);
		return;
	}
	memset(&l, 0, sizeof(l));
	status_fields(a, &l, now);
	if (a->note != NULL && (a->note_until == 0 || now < a->note_until)) {
		status_group(&l);
		note = (int)l.n;
		status_add(&l, " │ ", STATUS_P_NOTE, TEXT_CUT_END, "%s", a->note);
	}
	for (i = 0; i < l.n; i++)
		l.f[i].text = buf_str(&l.text[i]);
	text_fit_fields(l.f, l.n, a->cols - wsx);
	wmove(a->wstatus, 0, wsx);
	for (i = 0; i < l.n; i++) {
		const struct buf *o = &l.f[i].out;
		size_t sep = (int)i == note && o->len > 0 ? strlen(" │ ") : 0;

		/* The note has its own colour after its separator (an error's is red). */
		if (sep > 0 && strncmp(o->data, " │ ", sep) == 0) {
			draw_text(a->wstatus, o->data, sep, at, -1);
			draw_text(a->wstatus, o->data + sep, o->len - sep, a->note_error ?
			    theme_attr(THEME_ERROR, THEME_REVERSE) : at, -1);
		} else if (o->len > 0) {
			draw_text(a->wstatus, o->data, o->len, at, -1);
		}
		buf_free(&l.f[i].out);
		buf_free(&l.text[i]);
	}
	wnoutrefresh(a->wstatus);
}
