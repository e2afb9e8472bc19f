/*
 * A long session in the interface, opened in part (session_open): what the interface does
 * as its pages come in and when it is loaded again. Opening loads a screenful; every page
 * loaded later in front (the session's prepended callback) has its text cleaned like any
 * loaded message's, its prompts put in the input's history where the session's begin, and
 * the transcript's caches and indices moved (pane_transcript_prepended). The messages not
 * loaded are counted between keys, a few thousand rows a step, for the status line's sums;
 * a reply loads the rest first (its request holds the whole path). Switching an
 * alternative loads the path again from that message on only.
 */
#include <stdint.h>
#include <stdlib.h>

#include "app.h"
#include "log.h"
#include "xmalloc.h"

/* The open session loaded k older messages in front (session.h's prepended): clean their
 * text as every loaded message's is, give the input's history their prompts, and move the
 * transcript's caches and indices. */
static void
paging_prepended(void *arg, size_t k)
{
	struct app *a = arg;
	const char **prompts = xcalloc(k + 1, sizeof(*prompts));
	size_t i, n = 0;

	for (i = 0; i < k; i++) {
		struct session_msg *m = &a->sess->msgs[i];

		ui_clean_buf(&m->content);
		ui_clean_buf(&m->reasoning);
		if (m->role == ROLE_USER)
			prompts[n++] = buf_str(&m->content);
	}
	pane_input_history_insert(&a->in, a->hist_from, prompts, n);
	free(prompts);
	pane_transcript_prepended(a, k);
}

/* Make s the open session, loaded in part or whole: its text cleaned, its prompts in the
 * input's history, later pages cleaned as they come. */
void
paging_adopt(struct app *a, struct session *s)
{
	size_t i;

	a->hist_from = a->in.nhist;
	for (i = 0; i < s->nmsgs; i++) {
		ui_clean_buf(&s->msgs[i].content);
		ui_clean_buf(&s->msgs[i].reasoning);
		if (s->msgs[i].role == ROLE_USER)
			pane_input_history_add(&a->in, buf_str(&s->msgs[i].content));
	}
	s->prepended = paging_prepended;
	s->prepended_arg = a;
	a->sess = s;
	a->count_failed = 0;
}

/* How many rows of a path one counting step walks (a few ms). */
#define PAGING_COUNT_STEP 4096

/* Whether the open session has messages not loaded that are not counted yet. */
int
paging_counting(const struct app *a)
{
	return a->sess != NULL && session_partial(a->sess) && !a->count_failed &&
	    a->sess->count.state != SESSION_COUNT_DONE;
}

/* Count a step more of the open session's messages not loaded (the status line's sums
 * wait for them): a few thousand rows at a time, between keys. */
void
paging_count_step(struct app *a)
{
	int64_t t0 = ui_now_us();
	int rc = session_count_step(a->sess, PAGING_COUNT_STEP);

	if (rc < 0)
		a->count_failed = 1;
	if (rc != 0)
		a->dirty |= DIRTY_STATUS;
	log_debug("ui: counted messages not loaded: %ld in %ld us%s",
	    a->sess->count.sums.count, (long)(ui_now_us() - t0), rc > 0 ? ", done" : "");
}

/* How many messages opening a session loads: a screenful at least (each takes two rows
 * or more); the rest comes a page at a time as the view reaches it. */
size_t
paging_page(const struct app *a)
{
	return a->trans_h > SESSION_PAGE ? (size_t)a->trans_h : SESSION_PAGE;
}

/* Load the rest of the open session before something needs all of it (a reply: the
 * request holds the whole path); indices taken before it are moved (paging_prepended). */
void
paging_whole(struct app *a)
{
	pane_transcript_older(a, SIZE_MAX);
}

/* The ids of the first message and of message i - 1 (0 when none), which a reload from
 * message i on keeps unless it had to load the path whole. */
void
paging_marks(const struct session *s, size_t i, int64_t mark[2])
{
	mark[0] = s->nmsgs > 0 ? s->msgs[0].id : 0;
	mark[1] = i > 0 && i <= s->nmsgs ? s->msgs[i - 1].id : 0;
}

/* The session's path from message i on was loaded again (session_refresh): clean its
 * text and drop its caches; a path loaded again whole (the messages before i changed) is
 * cleaned whole. */
void
paging_reloaded(struct app *a, size_t i, const int64_t mark[2])
{
	struct session *s = a->sess;
	int64_t now[2];
	size_t k;

	paging_marks(s, i, now);
	if (now[0] != mark[0] || now[1] != mark[1])
		i = 0;
	for (k = i; k < s->nmsgs; k++) {
		ui_clean_buf(&s->msgs[k].content);
		ui_clean_buf(&s->msgs[k].reasoning);
	}
	pane_transcript_drop_from(a, i);
	a->sel_msg = -1;
}
