/*
 * The status line: provider and model, what the stream is doing (from a few seconds on,
 * how long it has waited for a first token or gone without one), time to first token,
 * tokens per second, tokens of the last turn and the session, cost when known, a retry or
 * key-pool wait counting down, and a transient note (copied, errors) that expires on its own.
 */
#include <string.h>

#include "app.h"
#include "proto.h"
#include "provider.h"
#include "wrap.h"

/* Sum the tokens and cost recorded on the session's messages. */
static void
status_totals(const struct app *a, long *tokens, double *cost, int *cost_known)
{
	size_t i;

	*tokens = 0;
	*cost = 0;
	*cost_known = 0;
	if (a->sess == NULL)
		return;
	for (i = 0; i < a->sess->nmsgs; i++) {
		const struct session_msg *m = &a->sess->msgs[i];

		if (m->input_tokens > 0)
			*tokens += m->input_tokens;
		if (m->output_tokens > 0)
			*tokens += m->output_tokens;
		if (m->cost >= 0) {
			*cost += m->cost;
			*cost_known = 1;
		}
	}
}

/* After this long without a token the status line says how long it has been. */
#define STATUS_QUIET_MS 3000

/* The wait for the first token: from a few seconds on, how long this attempt has waited
 * and when it gives up (the provider's first_token_timeout), so a silent server is seen. */
static void
status_wait(const struct app *a, struct buf *b, int64_t now)
{
	const struct turn *t = a->turn;
	const struct provider *p = t->model->provider;
	int64_t waited = now > t->t_attempt ? now - t->t_attempt : 0;
	long limit = p->proto != NULL && p->proto->framing != FRAMING_NONE ?
	    p->first_token_timeout_ms : 0;

	if (waited < STATUS_QUIET_MS)
		buf_puts(b, " │ waiting for the first token");
	else if (limit > 0)
		buf_printf(b, " │ waiting %lds for the first token (gives up at %lds)",
		    (long)(waited / 1000), (limit + 999) / 1000);
	else
		buf_printf(b, " │ waiting %lds for the first token", (long)(waited / 1000));
}

/* A reply that is streaming: its chunks and ttft, and once it has gone quiet for a few
 * seconds, for how long (the provider's idle_timeout ends it). */
static void
status_streaming(const struct app *a, struct buf *b, int64_t now)
{
	const struct turn *t = a->turn;

	buf_printf(b, " │ streaming %ld chunks · ttft %.2fs", t->chunks,
	    (double)(t->t_first - t->t_send) / 1000.0);
	if (t->t_last != 0 && now - t->t_last >= STATUS_QUIET_MS)
		buf_printf(b, " · no token for %lds", (long)((now - t->t_last) / 1000));
}

/* Draw the status line. */
void
status_draw(struct app *a)
{
	struct buf b = BUF_INIT;
	long tokens;
	double cost;
	int known, busy = ui_busy(a), wsx = 0, left;
	unsigned int at = theme_attr(busy ? THEME_STATUSBUSY : THEME_STATUS, 0);
	int64_t now = ui_now_ms();

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
	if (a->cmp.n > 0) {
		int c, k = 0;

		for (c = 0; c < a->cmp.n; c++)
			k += a->cmp.col[c].turn != NULL && !a->cmp.col[c].turn->done;
		buf_printf(&b, " comparing %d models", a->cmp.n);
		if (k > 0)
			buf_printf(&b, " │ %d streaming · Esc cancels", k);
		else
			buf_puts(&b, " │ /pick N keeps one");
	} else if (ui_streaming(a))
		buf_printf(&b, " %s/%s", a->turn->model->provider->name, a->turn->model->id);
	else
		buf_printf(&b, " %s/%s", a->prov ? a->prov->name : "?", a->model ? a->model : "?");
	if (a->cmp.n > 0) {
		/* Each column's footer has its own figures. */
	} else if (ui_streaming(a)) {
		const struct turn *t = a->turn;

		/* The countdown goes before the reason: a provider's error message can be
		 * longer than the line, and the cut must take the reason, not the countdown. */
		if (t->summarizing && t->wait_msg != NULL)
			buf_printf(&b, " │ %s", t->wait_msg);
		else if (t->t_first == 0 && t->wait_msg != NULL && now < t->wait_until &&
		    t->wait_key)
			buf_printf(&b, " │ waiting %lds · %s",
			    (long)((t->wait_until - now + 999) / 1000), t->wait_msg);
		else if (t->t_first == 0 && t->wait_msg != NULL && now < t->wait_until)
			buf_printf(&b, " │ retrying in %.1fs (attempt %d/%d) · %s",
			    (double)(t->wait_until - now) / 1000.0, t->wait_attempt,
			    t->wait_max, t->wait_msg);
		else if (t->t_first == 0)
			status_wait(a, &b, now);
		else
			status_streaming(a, &b, now);
	} else if (a->last_ttft_ms >= 0 && a->last_tokens > 0) {
		/* A reply that came in one piece has no rate: "-", as /metrics shows it. */
		buf_printf(&b, " │ ttft %.2fs · ", (double)a->last_ttft_ms / 1000.0);
		if (a->last_tps >= 0)
			buf_printf(&b, "%.1f tok/s", a->last_tps);
		else
			buf_puts(&b, "- tok/s");
		buf_printf(&b, " · %ld tok", a->last_tokens);
	}
	status_totals(a, &tokens, &cost, &known);
	if (tokens > 0)
		buf_printf(&b, " │ session %ld tok", tokens);
	if (known)
		buf_printf(&b, " $%.4f", cost);
	if (!a->follow)
		buf_puts(&b, " │ scrolled (End/G follows)");
	if (a->note != NULL && (a->note_until == 0 || now < a->note_until)) {
		buf_puts(&b, " │ ");
		wmove(a->wstatus, 0, wsx);
		draw_text(a->wstatus, b.data, b.len, at, a->cols - wsx);
		left = a->cols - wsx - (int)wrap_width(b.data, b.len);
		draw_text(a->wstatus, a->note, strlen(a->note),
		    a->note_error ? theme_attr(THEME_ERROR, THEME_REVERSE) : at, left > 0 ? left : 0);
	} else {
		wmove(a->wstatus, 0, wsx);
		draw_text(a->wstatus, b.data, b.len, at, a->cols - wsx);
	}
	buf_free(&b);
	wnoutrefresh(a->wstatus);
}
