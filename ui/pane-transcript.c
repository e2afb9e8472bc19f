/*
 * The transcript: every message of the session with its header, reasoning, Markdown body
 * and state line. Each message keeps its wrapped lines (struct tview), rebuilt only when its
 * generation or the width changes, and a streaming reply re-renders only its open block.
 * The view is anchored either at the bottom (following the reply) or at a (message, line)
 * position, so scrolling walks only the messages it crosses and costs the same in a huge
 * transcript as in a small one; messages never shown are never wrapped.
 *
 * The replies of a comparison round (a compare group) are drawn side by side, one column
 * each, as one block: its first reply carries the block's lines and the others count
 * none, so scrolling and anchors work on messages as before. A round whose column was
 * kept shows that reply alone, full width, with ‹k/n› for the other columns' replies. Each reply keeps its own
 * cache at the column width, so a streaming column re-renders only its own open block.
 * Where the columns would be too narrow, the replies are drawn one under the other.
 *
 * A long session is opened in part (session_open): a walk up that reaches the first
 * loaded message (scrolling, the selection, the anchor of a screen not yet full) loads the
 * page before it, and Home loads the rest. The caches keep free slots in front, as the
 * session's messages do, so a page costs its own size; the session tells when messages
 * came in front (pane_transcript_prepended) and every index held moves with them.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "apierr.h"
#include "app.h"
#include "attach.h"
#include "log.h"
#include "proto.h"
#include "provider.h"
#include "wrap.h"
#include "xmalloc.h"

/* Free the caches of every message. */
void
pane_transcript_free(struct app *a)
{
	size_t i;

	for (i = 0; i < a->nviews; i++) {
		markdown_free(&a->views[i].body);
		markdown_free(&a->views[i].reason);
		rtext_free(&a->views[i].extra);
	}
	if (a->views != NULL)
		free(a->views - a->views_front);
	a->views = NULL;
	a->nviews = 0;
	a->views_front = 0;
}

/* A fresh cache for message i. */
static void
pane_transcript_view_init(struct app *a, size_t i)
{
	struct tview *v = &a->views[i];

	memset(v, 0, sizeof *v);
	markdown_init(&v->body, THEME_TEXT, a->sess->msgs[i].role != ROLE_ASSISTANT);
	markdown_init(&v->reason, THEME_REASONING, 1);
	rtext_init(&v->extra);
	v->reason_open = a->reasoning_all_open;
}

/* Drop every cache (a different session was loaded). */
void
pane_transcript_reset(struct app *a)
{
	pane_transcript_free(a);
	a->follow = 1;
	a->top_msg = a->top_line = 0;
	a->sel_msg = -1;
	pane_transcript_sync(a);
	a->dirty |= DIRTY_TRANSCRIPT;
}

/* Make the cache array as long as the message array. */
void
pane_transcript_sync(struct app *a)
{
	size_t n = a->sess ? a->sess->nmsgs : 0, i;
	struct tview *base;

	if (n < a->nviews) {
		for (i = n; i < a->nviews; i++) {
			markdown_free(&a->views[i].body);
			markdown_free(&a->views[i].reason);
			rtext_free(&a->views[i].extra);
		}
		a->nviews = n;
		return;
	}
	if (n == a->nviews)
		return;
	base = a->views != NULL ? a->views - a->views_front : NULL;
	base = xrealloc(base, (a->views_front + n) * sizeof *a->views);
	a->views = base + a->views_front;
	for (i = a->nviews; i < n; i++)
		pane_transcript_view_init(a, i);
	a->nviews = n;
}

/* The session loaded k messages in front: caches and indices move up by k. */
void
pane_transcript_prepended(struct app *a, size_t k)
{
	struct tview *base;
	size_t i, front;

	if (a->views != NULL) {
		if (k > a->views_front) {
			/* Room for as many again as there are, as the session keeps. */
			front = k + a->nviews;
			base = xmalloc((front + a->nviews) * sizeof *a->views);
			memcpy(base + front, a->views, a->nviews * sizeof *a->views);
			free(a->views - a->views_front);
			a->views = base + front;
			a->views_front = front;
		}
		a->views -= k;
		a->views_front -= k;
		a->nviews += k;
		for (i = 0; i < k; i++)
			pane_transcript_view_init(a, i);
		for (i = k; i < a->nviews; i++)
			if (a->views[i].tool_res >= 0)
				a->views[i].tool_res += (long)k;
	}
	a->top_msg += (long)k;
	if (a->sel_msg >= 0)
		a->sel_msg += (long)k;
	if (a->cmp.n > 0)
		a->cmp.from += k;
	a->sums.s = NULL;
	a->dirty |= DIRTY_TRANSCRIPT | DIRTY_STATUS | DIRTY_COMPARE;
}

/* Load older messages in front: a page as the screen needs, or all of them. */
long
pane_transcript_older(struct app *a, size_t n)
{
	size_t page = a->trans_h > SESSION_PAGE ? (size_t)a->trans_h : SESSION_PAGE;
	int64_t t0 = ui_now_us();
	long k;

	if (a->sess == NULL || !session_partial(a->sess))
		return 0;
	k = session_load_older(a->sess, n == SIZE_MAX ? 0 : n == 0 ? page : n);
	if (k < 0) {
		ui_note(a, 1, "cannot load the older messages: %s", a->sess->err);
		return 0;
	}
	log_debug("ui: loaded %ld older messages in %ld us", k, (long)(ui_now_us() - t0));
	return k;
}

/* Forget the caches of messages i and after, and follow the end. */
void
pane_transcript_drop_from(struct app *a, size_t i)
{
	size_t k;

	for (k = i; k < a->nviews; k++) {
		markdown_free(&a->views[k].body);
		markdown_free(&a->views[k].reason);
		rtext_free(&a->views[k].extra);
	}
	if (i < a->nviews)
		a->nviews = i;
	a->follow = 1;
	a->top_msg = a->top_line = 0;
	pane_transcript_sync(a);
	a->dirty |= DIRTY_TRANSCRIPT;
}

/* Add a wrapped, styled line of plain text to the extra lines of a view. */
static void
pane_transcript_extra(struct tview *v, int width, const char *prefix, const char *text,
    int role)
{
	struct rtext b;

	rtext_init(&b);
	rtext_span(&b, text, strlen(text), role, 0);
	rtext_add(&v->extra, width, prefix, "  ", role, &b, -1);
	rtext_free(&b);
}

/* True when the message after i is a tool call or result: i is followed by the rest of
 * its round, without a blank line between. */
static int
pane_transcript_calls_after(const struct app *a, long i)
{
	enum role r;

	if (i + 1 >= (long)a->sess->nmsgs)
		return 0;
	r = a->sess->msgs[i + 1].role;
	return r == ROLE_TOOL_CALL || r == ROLE_TOOL;
}

/* The width of a message drawn across the whole transcript. */
static int
pane_transcript_width(const struct app *a)
{
	return a->trans_w > 4 ? a->trans_w - 1 : 4;
}

/* How many columns message i is drawn in: the replies of its compare group side by side,
 * or 1 (full width). *first gets the group's first reply, *colw the width of a column. */
static int
pane_transcript_cols(struct app *a, long i, long *first, int *colw)
{
	size_t f, n = session_group_span(a->sess, (size_t)i, &f);
	int x;

	*first = i;
	*colw = pane_transcript_width(a);
	if (n < 2 || n > COMPARE_MAX || !pane_compare_fit(a, (int)n, 0, &x, colw)) {
		*colw = pane_transcript_width(a);
		return 1;
	}
	*first = (long)f;
	return (int)n;
}

/* The first message of the block that shows message i (itself unless a column). */
static long
pane_transcript_block(struct app *a, long i)
{
	long first;
	int w;

	if (a->sess == NULL || i < 0 || i >= (long)a->sess->nmsgs)
		return i;
	pane_transcript_cols(a, i, &first, &w);
	return first;
}

/* Bring message i's cache up to date at width and return its own line count: header,
 * reasoning, body and state lines, without the blank line that separates messages. */
static long
pane_transcript_view(struct app *a, long i, int width)
{
	struct session_msg *m = &a->sess->msgs[i];
	struct tview *v = &a->views[i];
	int final = m->state != MSG_STREAMING;
	char hint[200];
	/* The last message the model no longer sees carries a rule saying so. */
	int mark = a->sess->view_from > 0 && i == a->sess->view_from - 1;
	size_t k;

	/* A tool call is one line of its own, and its result is drawn with it (tools.c). */
	if (m->role == ROLE_TOOL_CALL || m->role == ROLE_TOOL)
		return tools_view(a, i, width);
	if (v->valid && v->gen == m->gen && v->width == width && v->view_mark == mark)
		return v->nlines;
	markdown_update(&v->body, buf_str(&m->content), m->content.len, width, final);
	if (m->reasoning.len > 0 && v->reason_open)
		markdown_update(&v->reason, buf_str(&m->reasoning), m->reasoning.len, width - 2,
		    final || m->content.len > 0);
	rtext_clear(&v->extra);
	for (k = 0; k < m->natts; k++) {
		struct buf line = BUF_INIT;

		attach_describe(m->atts[k], &line);
		pane_transcript_extra(v, width, "📎 ", buf_str(&line), THEME_META);
		buf_free(&line);
	}
	if (m->state == MSG_STREAMING && !session_is_open(a->sess, (size_t)i))
		pane_transcript_extra(v, width, "… ", "still arriving in another natter: this is "
		    "what it had stored when the session was opened", THEME_HINT);
	else if (m->state == MSG_STREAMING && m->content.len == 0 && m->reasoning.len == 0) {
		snprintf(hint, sizeof hint, "waiting for the first token… (%s cancels)",
		    keys_hint(KCTX_GLOBAL, ACT_CANCEL));
		pane_transcript_extra(v, width, "", m->compare_group != 0 ? "waiting for the first "
		    "token…" : hint, THEME_HINT);
	}
	else if (m->state == MSG_CANCELLED)
		pane_transcript_extra(v, width, "⊘ ", "cancelled: the partial reply above is kept",
		    THEME_WARNING);
	else if (m->state == MSG_INTERRUPTED) {
		snprintf(hint, sizeof hint, "interrupted: natter stopped while this reply was "
		    "arriving; the partial reply above is kept (%s regenerates)",
		    keys_hint(KCTX_GLOBAL, ACT_REGENERATE));
		pane_transcript_extra(v, width, "⚠ ", hint, THEME_WARNING);
	} else if (m->state == MSG_TRUNCATED) {
		snprintf(hint, sizeof hint, "truncated: the stream ended before the reply was "
		    "complete (%s regenerates)", keys_hint(KCTX_GLOBAL, ACT_REGENERATE));
		pane_transcript_extra(v, width, "⚠ ", hint, THEME_WARNING);
	}
	else if (m->state == MSG_ERROR)
		pane_transcript_extra(v, width, "✗ ", m->error ? m->error : "error", THEME_ERROR);
	/* A reply that stopped to call tools says nothing when natter ran them. */
	if (m->state == MSG_COMPLETE && proto_finish_note(m->finish_reason) != NULL &&
	    !pane_transcript_calls_after(a, i))
		pane_transcript_extra(v, width, "⚠ ", proto_finish_note(m->finish_reason),
		    THEME_WARNING);
	/* The note of a reply that did not fail: what was skipped while it was decoded. */
	if ((m->state == MSG_COMPLETE || m->state == MSG_TRUNCATED) && m->error != NULL &&
	    m->error[0] != '\0')
		pane_transcript_extra(v, width, "⚠ ", m->error, THEME_WARNING);
	if (m->notice != NULL)
		pane_transcript_extra(v, width, "⚠ ", m->notice, THEME_WARNING);
	if (mark)
		pane_transcript_extra(v, width, "── ", a->sess->summary != NULL &&
		    a->sess->summary_covers == (size_t)a->sess->view_from ?
		    "the model sees a summary of the messages above and everything below "
		    "(context.policy summarize)" :
		    "the model no longer sees the messages above: they do not fit its context "
		    "window (context.policy drop)", THEME_HINT);
	v->view_mark = mark;
	v->nlines = 1 + (long)markdown_nlines(&v->body) + (long)v->extra.nlines;
	if (m->reasoning.len > 0)
		v->nlines += 1 + (v->reason_open ? (long)markdown_nlines(&v->reason) : 0);
	v->gen = m->gen;
	v->width = width;
	v->valid = 1;
	return v->nlines;
}

/* The lines message i takes in the transcript: its own and a blank one, or for the first
 * reply of a side-by-side block the tallest column's and a blank one; 0 for the other
 * replies of the block. */
long
pane_transcript_lines(struct app *a, long i)
{
	long first, j, most = 0;
	int w, n = pane_transcript_cols(a, i, &first, &w);

	if (n == 1)
		return pane_transcript_view(a, i, w) + !pane_transcript_calls_after(a, i);
	if (i != first)
		return 0;
	for (j = first; j < first + n; j++) {
		long nl = pane_transcript_view(a, j, w);

		if (nl > most)
			most = nl;
	}
	return most + 1;
}

/* Draw one rendered line at row y, behind an indent. */
void
pane_transcript_rline(struct app *a, int y, int x, const struct rtext *r, size_t line, int maxw)
{
	const struct rline *l = &r->lines[line];
	uint32_t k;

	wmove(a->wtrans, y, x);
	for (k = 0; k < l->nseg; k++) {
		const struct rseg *sg = &r->segs[l->seg + k];
		int sw = wrap_width(r->text.data + sg->off, sg->len);

		if (sg->url != 0) {
			int cy, cx;

			getyx(a->wtrans, cy, cx);
			term_note_link(a, cy, cx, sg, r, maxw);
		}
		draw_text(a->wtrans, r->text.data + sg->off, sg->len,
		    theme_attr((enum theme_role)sg->role, sg->attrs), maxw);
		maxw -= sw;
		if (maxw <= 0)
			break;
	}
}

/* Draw the header line of message i at (y, x), at most w columns wide. */
static void
pane_transcript_header(struct app *a, int y, int x, int w, long i)
{
	struct session_msg *m = &a->sess->msgs[i];
	int sel = a->focus == FOCUS_TRANSCRIPT && a->sel_msg == i;
	enum theme_role role = m->role == ROLE_USER ? THEME_USER :
	    m->role == ROLE_ASSISTANT ? THEME_ASSISTANT : THEME_META;
	struct buf b = BUF_INIT;
	time_t t = (time_t)(m->created / 1000);
	struct tm tm;
	char when[16] = "";
	int used;

	if (localtime_r(&t, &tm) != NULL)
		strftime(when, sizeof when, "%H:%M", &tm);
	if (sel)
		draw_fill(a->wtrans, y, x, w, " ", theme_attr(THEME_SELECTED, 0));
	wmove(a->wtrans, y, x);
	/* A compared reply is named by its column and model (with its provider when another
	 * column has the same model id): /pick takes the number. */
	if (m->role == ROLE_ASSISTANT && m->slot >= 0) {
		buf_printf(&b, "▍%d ", m->slot + 1);
		pane_compare_reply_name(a->sess, (size_t)i, &b);
	} else
		buf_puts(&b, m->role == ROLE_USER ? "▍you" : m->role == ROLE_ASSISTANT ?
		    "▍assistant" : "▍system");
	used = wrap_width(b.data, b.len);
	draw_text(a->wtrans, b.data, b.len, theme_attr(sel ? THEME_SELECTED : role,
	    sel ? THEME_BOLD : 0), w);
	buf_reset(&b);
	/* One of several alternatives (a regenerated reply, an edited prompt): the arrow
	 * keys on it show the others. */
	if (m->nalt > 1)
		buf_printf(&b, " ‹%d/%d›", m->alt, m->nalt);
	if (m->role == ROLE_ASSISTANT && m->slot >= 0 && m->pick == m->slot)
		buf_puts(&b, " · ✓ kept");
	if (m->role == ROLE_ASSISTANT && m->slot < 0 && m->model != NULL)
		buf_printf(&b, " · %s", m->model);
	buf_printf(&b, " · %s", when);
	if (m->pinned)
		buf_puts(&b, " · ★ pinned");
	if (m->role == ROLE_USER && m->compare_group != 0) {
		size_t f, n = session_group_span(a->sess, (size_t)i + 1, &f);

		/* A kept round shows one reply; its prompt still says how many answered. */
		if (m->cols > 0 && (size_t)m->cols > n)
			n = (size_t)m->cols;
		buf_printf(&b, " · compared on %zu models", n);
	}
	if (m->role == ROLE_ASSISTANT && m->state != MSG_STREAMING) {
		if (m->ttft_ms >= 0)
			buf_printf(&b, " · ttft %.2fs", (double)m->ttft_ms / 1000.0);
		if (m->output_tokens > 0)
			buf_printf(&b, " · %ld tok", m->output_tokens);
		if (m->output_tokens > 0 && m->duration_ms > m->ttft_ms && m->ttft_ms >= 0)
			buf_printf(&b, " · %.1f tok/s", (double)m->output_tokens * 1000.0 /
			    (double)(m->duration_ms - m->ttft_ms));
	} else if (m->state == MSG_STREAMING) {
		buf_puts(&b, " · streaming…");
	}
	if (w > used)
		draw_text(a->wtrans, b.data, b.len, theme_attr(sel ? THEME_SELECTED : THEME_META, 0),
		    w - used);
	buf_free(&b);
}

/* Draw line `line` of message i's own lines at (y, x), at most w columns wide. */
static void
pane_transcript_msg_line(struct app *a, int y, int x, int w, long i, long line)
{
	struct session_msg *m = &a->sess->msgs[i];
	struct tview *v = &a->views[i];
	const struct rtext *r;
	size_t at;

	if (m->role == ROLE_TOOL_CALL || m->role == ROLE_TOOL) {
		tools_draw_line(a, y, x, w, i, line);
		return;
	}
	if (line == 0) {
		pane_transcript_header(a, y, x, w, i);
		return;
	}
	line--;
	if (m->reasoning.len > 0) {
		if (line == 0) {
			char label[224], shows[96] = "";

			if (!v->reason_open)
				snprintf(shows, sizeof shows, "; %s or %s shows it",
				    keys_hint(KCTX_TRANSCRIPT, ACT_REASONING_ONE),
				    keys_hint(KCTX_GLOBAL, ACT_REASONING_ALL));
			snprintf(label, sizeof label, "%s thinking (%zu bytes%s)",
			    v->reason_open ? "▾" : "▸", m->reasoning.len, shows);
			wmove(a->wtrans, y, x);
			draw_text(a->wtrans, label, strlen(label), theme_attr(THEME_REASONING, 0), w);
			return;
		}
		line--;
		if (v->reason_open) {
			if (line < (long)markdown_nlines(&v->reason)) {
				wmove(a->wtrans, y, x);
				draw_text(a->wtrans, "│ ", 4, theme_attr(THEME_REASONING, 0), w);
				r = markdown_line(&v->reason, buf_str(&m->reasoning), m->reasoning.len,
				    (size_t)line, &at);
				if (r != NULL)
					pane_transcript_rline(a, y, x + 2, r, at, w - 2);
				return;
			}
			line -= (long)markdown_nlines(&v->reason);
		}
	}
	if (line < (long)markdown_nlines(&v->body)) {
		r = markdown_line(&v->body, buf_str(&m->content), m->content.len, (size_t)line, &at);
		if (r != NULL)
			pane_transcript_rline(a, y, x, r, at, w);
		return;
	}
	line -= (long)markdown_nlines(&v->body);
	if (line < (long)v->extra.nlines)
		pane_transcript_rline(a, y, x, &v->extra, (size_t)line, w);
}

/* Draw line `line` of message i at row y: a full-width message, or one row of a block
 * of compared replies with a rule between the columns. */
static void
pane_transcript_line(struct app *a, int y, long i, long line)
{
	long first, j;
	int w, x, n = pane_transcript_cols(a, i, &first, &w);

	if (n == 1) {
		pane_transcript_msg_line(a, y, 0, a->trans_w, i, line);
		return;
	}
	if (line + 1 >= pane_transcript_lines(a, first))
		return;  /* the blank line after the block */
	for (j = 0; j < n; j++) {
		pane_compare_fit(a, n, (int)j, &x, &w);
		if (j > 0) {
			wmove(a->wtrans, y, x - 2);
			draw_text(a->wtrans, "│", strlen("│"), theme_attr(THEME_META, 0), 1);
		}
		if (line < a->views[first + j].nlines)
			pane_transcript_msg_line(a, y, x, w, first + j, line);
	}
}

/* The anchor that shows the last line at the bottom of the pane. */
static void
pane_transcript_bottom_anchor(struct app *a, long *msg, long *line)
{
	long remaining = a->trans_h, i;

	*msg = 0;
	*line = 0;
	if (a->sess == NULL)
		return;
	for (i = (long)a->sess->nmsgs - 1; ; i--) {
		long nl;

		/* A screen the loaded messages do not fill takes the page before them. */
		if (i < 0 && (i = pane_transcript_older(a, 0) - 1) < 0)
			return;
		nl = pane_transcript_lines(a, i);
		if (nl >= remaining) {
			*msg = i;
			*line = nl - remaining;
			return;
		}
		remaining -= nl;
	}
}

/* Draw the visible lines from the anchor down. */
void
pane_transcript_draw(struct app *a)
{
	long msg, line;
	int y;

	werase(a->wtrans);
	if (a->sess == NULL || a->sess->nmsgs == 0) {
		/* The welcome names the user's own keys, from the key table. */
		char send[96], keys[240], model[160];
		const char *hello[3];
		size_t k;

		snprintf(send, sizeof send, "Type a message and press %s to send it.",
		    keys_hint(KCTX_INPUT, ACT_SEND));
		snprintf(keys, sizeof keys, "%s inserts a newline; %s lists every key; /help the "
		    "commands; %s picks a model, %s a session.", keys_hint(KCTX_INPUT, ACT_NEWLINE),
		    keys_hint(KCTX_INPUT, ACT_HELP), keys_hint(KCTX_INPUT, ACT_PICK_MODEL),
		    keys_hint(KCTX_INPUT, ACT_PICK_SESSION));
		hello[0] = send;
		hello[1] = keys;
		hello[2] = "";
		for (k = 0; k < 3 && (int)k < a->trans_h; k++) {
			wmove(a->wtrans, (int)k, 0);
			draw_text(a->wtrans, hello[k], strlen(hello[k]), theme_attr(THEME_HINT, 0),
			    a->trans_w);
		}
		if (a->cmp.n > 0)
			snprintf(model, sizeof model, "Comparing %d models: each prompt goes to all of "
			    "them (/pick N keeps one, /compare off ends).", a->cmp.n);
		else
			snprintf(model, sizeof model, "Talking to %s/%s (/model changes it).",
			    a->prov ? a->prov->name : "?", a->model ? a->model : "?");
		if (a->trans_h > 3) {
			wmove(a->wtrans, 3, 0);
			draw_text(a->wtrans, model, strlen(model), theme_attr(THEME_HINT, 0),
			    a->trans_w);
		}
		wnoutrefresh(a->wtrans);
		return;
	}
	pane_transcript_sync(a);
	if (a->follow)
		pane_transcript_bottom_anchor(a, &msg, &line);
	else {
		msg = a->top_msg;
		line = a->top_line;
	}
	for (y = 0; y < a->trans_h && msg < (long)a->sess->nmsgs; y++) {
		long nl = pane_transcript_lines(a, msg);

		if (line >= nl) {
			msg++;
			line = 0;
			y--;
			continue;
		}
		pane_transcript_line(a, y, msg, line);
		line++;
	}
	wnoutrefresh(a->wtrans);
}

/* The first replies of the first and the last side-by-side block in view, -1 when none:
 * the comparison's header names the top one's models, its footers describe the bottom one. */
void
pane_transcript_blocks(struct app *a, long *top, long *bottom)
{
	long msg, line, rows = a->trans_h, first;
	int w;

	*top = *bottom = -1;
	if (a->sess == NULL || a->sess->nmsgs == 0)
		return;
	pane_transcript_sync(a);
	if (a->follow)
		pane_transcript_bottom_anchor(a, &msg, &line);
	else {
		msg = a->top_msg;
		line = a->top_line;
	}
	for (; rows > 0 && msg < (long)a->sess->nmsgs; msg++, line = 0) {
		long nl = pane_transcript_lines(a, msg);

		if (line >= nl)
			continue;
		/* A block counts when a line of it shows, not only the blank one after it. */
		if (line + 1 < nl && pane_transcript_cols(a, msg, &first, &w) > 1) {
			if (*top < 0)
				*top = first;
			*bottom = first;
		}
		rows -= nl - line;
	}
}

/* Compare two anchors: <0, 0, >0. */
static int
pane_transcript_cmp(long m1, long l1, long m2, long l2)
{
	if (m1 != m2)
		return m1 < m2 ? -1 : 1;
	return l1 < l2 ? -1 : l1 > l2;
}

/* Scroll by delta lines (negative: up). */
void
pane_transcript_scroll(struct app *a, long delta)
{
	long msg, line, bm, bl, k;

	if (a->sess == NULL || a->sess->nmsgs == 0)
		return;
	pane_transcript_sync(a);
	pane_transcript_bottom_anchor(a, &bm, &bl);
	if (a->follow) {
		msg = bm;
		line = bl;
	} else {
		msg = a->top_msg;
		line = a->top_line;
	}
	while (delta < 0) {
		if (line > 0) {
			long take = line < -delta ? line : -delta;

			line -= take;
			delta += take;
		} else if (msg > 0) {
			msg--;
			line = pane_transcript_lines(a, msg);
		} else if ((k = pane_transcript_older(a, 0)) > 0) {
			msg += k;
			bm += k;
		} else {
			break;
		}
	}
	while (delta > 0 && pane_transcript_cmp(msg, line, bm, bl) < 0) {
		long nl = pane_transcript_lines(a, msg), step = nl - line;

		if (step > delta)
			step = delta;
		line += step;
		delta -= step;
		if (line >= nl && msg + 1 < (long)a->sess->nmsgs) {
			msg++;
			line = 0;
		}
	}
	if (pane_transcript_cmp(msg, line, bm, bl) >= 0) {
		a->follow = 1;
	} else {
		a->follow = 0;
		a->top_msg = msg;
		a->top_line = line;
	}
	a->dirty |= DIRTY_TRANSCRIPT | DIRTY_STATUS | DIRTY_COMPARE;
}

/* Go to the first line. */
void
pane_transcript_top(struct app *a)
{
	long bm, bl;

	if (a->sess == NULL || a->sess->nmsgs == 0)
		return;
	pane_transcript_older(a, SIZE_MAX);
	pane_transcript_sync(a);
	pane_transcript_bottom_anchor(a, &bm, &bl);
	a->follow = pane_transcript_cmp(0, 0, bm, bl) >= 0;
	a->top_msg = a->top_line = 0;
	a->dirty |= DIRTY_TRANSCRIPT | DIRTY_STATUS | DIRTY_COMPARE;
}

/* Follow the end again. */
void
pane_transcript_bottom(struct app *a)
{
	a->follow = 1;
	a->dirty |= DIRTY_TRANSCRIPT | DIRTY_STATUS | DIRTY_COMPARE;
}

/* The first message from i on, stepping by dir, that is not a tool result (-1 or the
 * count when there is none). */
static long
pane_transcript_skip(const struct app *a, long i, int dir)
{
	while (i >= 0 && i < (long)a->sess->nmsgs && a->sess->msgs[i].role == ROLE_TOOL)
		i += dir;
	return i;
}

/* Move the message selection and bring the selected header into view. */
void
pane_transcript_select(struct app *a, long delta)
{
	long n = a->sess ? (long)a->sess->nmsgs : 0, bm, bl, sel;

	if (n == 0)
		return;
	/* Above the first loaded message: the page before it. */
	if (a->sel_msg >= 0 && a->sel_msg + delta < 0 && pane_transcript_older(a, 0) > 0) {
		n = (long)a->sess->nmsgs;
		pane_transcript_sync(a);
	}
	if (a->sel_msg < 0)
		a->sel_msg = n - 1;
	else
		a->sel_msg += delta;
	if (a->sel_msg < 0)
		a->sel_msg = 0;
	if (a->sel_msg >= n)
		a->sel_msg = n - 1;
	/* A tool result has no line of its own (its call shows it): step over it, the way
	 * the selection moves, or back when nothing else is that way. */
	sel = pane_transcript_skip(a, a->sel_msg, delta < 0 ? -1 : 1);
	if (sel < 0 || sel >= n)
		sel = pane_transcript_skip(a, a->sel_msg, delta < 0 ? 1 : -1);
	if (sel >= 0 && sel < n)
		a->sel_msg = sel;
	pane_transcript_bottom_anchor(a, &bm, &bl);
	/* A column of a side-by-side block is shown by the block's first message. */
	sel = pane_transcript_block(a, a->sel_msg);
	if (pane_transcript_cmp(sel, 0, bm, bl) >= 0) {
		a->follow = 1;
	} else {
		long top_m = a->follow ? bm : a->top_msg, top_l = a->follow ? bl : a->top_line;

		/* Only move when the header is above the view or below its end. */
		if (pane_transcript_cmp(sel, 0, top_m, top_l) < 0 ||
		    (delta > 0 && sel != top_m) || a->follow) {
			a->follow = 0;
			a->top_msg = sel;
			a->top_line = 0;
		}
	}
	a->dirty |= DIRTY_TRANSCRIPT | DIRTY_COMPARE;
}

/* Collapse or expand the reasoning of message i. */
void
pane_transcript_toggle_reasoning(struct app *a, long i)
{
	if (i < 0 || i >= (long)a->nviews)
		return;
	a->views[i].reason_open = !a->views[i].reason_open;
	a->views[i].valid = 0;
	markdown_reset(&a->views[i].reason);
	a->dirty |= DIRTY_TRANSCRIPT;
}

/* Select message i and show it from its first line (at the end: following it). */
void
pane_transcript_show(struct app *a, long i)
{
	long bm, bl, sel;

	if (a->sess == NULL || i < 0 || i >= (long)a->sess->nmsgs)
		return;
	pane_transcript_sync(a);
	a->sel_msg = i;
	/* The anchor may load a page in front: the selection moves with it. */
	pane_transcript_bottom_anchor(a, &bm, &bl);
	sel = pane_transcript_block(a, a->sel_msg);
	if (pane_transcript_cmp(sel, 0, bm, bl) >= 0) {
		a->follow = 1;
	} else {
		a->follow = 0;
		a->top_msg = sel;
		a->top_line = 0;
	}
	a->dirty |= DIRTY_TRANSCRIPT | DIRTY_STATUS | DIRTY_COMPARE;
}

/* The message drawn at row y, column x of the transcript (for a block of compared replies,
 * the column's), with the line of it in *line; -1 when the row shows none. */
long
pane_transcript_at(struct app *a, int y, int x, long *line)
{
	long msg, ln, first, j;
	int row, w, cx, n;

	*line = -1;
	if (a->sess == NULL || a->sess->nmsgs == 0 || y < 0 || y >= a->trans_h)
		return -1;
	pane_transcript_sync(a);
	if (a->follow)
		pane_transcript_bottom_anchor(a, &msg, &ln);
	else {
		msg = a->top_msg;
		ln = a->top_line;
	}
	for (row = 0; msg < (long)a->sess->nmsgs; ) {
		long nl = pane_transcript_lines(a, msg);

		if (ln >= nl) {
			msg++;
			ln = 0;
			continue;
		}
		if (row == y)
			break;
		row++;
		ln++;
	}
	if (msg >= (long)a->sess->nmsgs)
		return -1;
	n = pane_transcript_cols(a, msg, &first, &w);
	if (n > 1) {
		for (j = 0; j < n; j++) {
			pane_compare_fit(a, n, (int)j, &cx, &w);
			if (x >= cx - 2 && x < cx + w)
				break;
		}
		if (j == n || ln >= a->views[first + j].nlines)
			return -1;
		msg = first + j;
	}
	*line = ln;
	return msg;
}
