/*
 * Loading a stored session, whole or in pages (see session.h). A page is the store's walk
 * up the path (store_messages_page) from the message before msgs[0], put in front of the
 * messages already loaded; a page never ends inside an exchange, so a reply's column, a
 * tool call's result and a comparison's replies are always loaded with what they belong
 * to (a round nobody kept with all its columns: store_rounds_whole). The message array
 * keeps free slots before msgs[0] (as many as it holds when it grows), so putting pages in
 * front costs their own size, not the size of what is loaded.
 * The part of the path not loaded is counted on demand by a walk that reads no text
 * (session_count_step); loading a page takes its messages out of that count, finished or
 * not (the walk, begun above the loaded messages, counts them too).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attach.h"
#include "session-internal.h"
#include "session.h"
#include "xmalloc.h"

/* How many more messages to read at a time when a page must reach back to its prompt. */
#define SESSION_PAGE_REACH 8

/* Fill message m from row r of session id, taking r's strings and files. */
static void
session_page_take(struct session_msg *m, struct message_row *r, int64_t id)
{
	m->id = r->id;
	m->role = r->role;
	m->nalt = r->nalt;
	m->alt = r->alt;
	m->shared = r->session_id != id;
	m->parent = r->parent_id;
	m->cols = r->compare_cols;
	buf_puts(&m->content, r->content);
	if (r->reasoning != NULL)
		buf_puts(&m->reasoning, r->reasoning);
	/* Move the strings rather than copy them. */
	m->provider = r->provider;
	m->model = r->model;
	m->error = r->error;
	m->finish_reason = r->finish_reason;
	m->tool_id = r->tool_id;
	m->tool_name = r->tool_name;
	m->signature = r->signature;
	r->provider = r->model = r->error = r->finish_reason = NULL;
	r->tool_id = r->tool_name = r->signature = NULL;
	m->tool_error = r->tool_error;
	m->atts = r->atts;
	m->natts = r->natts;
	r->atts = NULL;
	r->natts = 0;
	m->created = r->created;
	m->state = r->state;
	m->input_tokens = r->input_tokens;
	m->output_tokens = r->output_tokens;
	m->cost = r->cost;
	m->ttft_ms = r->ttft_ms;
	m->duration_ms = r->duration_ms;
	m->pinned = r->pinned;
	m->compare_group = r->compare_group;
}

/* Append rows (of session id's path, first first) to s's messages. */
static void
session_page_fill(struct session *s, struct message_row *rows, size_t n, int64_t id)
{
	size_t i;

	for (i = 0; i < n; i++) {
		struct session_msg *m = session_push(s);

		session_page_take(m, &rows[i], id);
		if (m->compare_group != 0) {
			m->pick = rows[i].compare_pick;
			/* Stored since schema 11; before, a group's replies in order are its
			 * columns. */
			if (rows[i].column > 0)
				m->slot = rows[i].column - 1;
			else if (m->role == ROLE_ASSISTANT)
				m->slot = session_next_slot(s, s->nmsgs - 1, m->compare_group);
		}
	}
}

/* Read up to n messages (0: all) of session id's path from message from (0: its head)
 * up to stop, and on past n to the prompt of the first one's exchange. */
static int
session_page_read(struct store *st, int64_t id, int64_t from, int64_t stop, size_t n,
    struct message_row **out, size_t *nout, int64_t *above)
{
	struct message_row *rows, *more;
	size_t nrows, nmore, j;

	if (store_messages_page(st, id, from, stop, n, &rows, &nrows, above) != 0)
		return -1;
	while (nrows > 0 && rows[0].role != ROLE_USER && *above != 0 && *above != stop) {
		if (store_messages_page(st, id, *above, stop, SESSION_PAGE_REACH, &more, &nmore,
		    above) != 0) {
			store_messages_free(rows, nrows);
			return -1;
		}
		if (nmore == 0) {
			free(more);
			break;
		}
		/* Only as far as the prompt nearest the page: what is above it stays unread. */
		for (j = nmore; j > 0 && more[j - 1].role != ROLE_USER; j--)
			;
		if (j > 1) {
			struct message_row *keep = xmalloc((nmore - j + 1) * sizeof(*keep));

			memcpy(keep, more + j - 1, (nmore - j + 1) * sizeof(*keep));
			*above = more[j - 2].id;
			store_messages_free(more, j - 1);  /* the rows above and the old array */
			more = keep;
			nmore -= j - 1;
		}
		more = xrealloc(more, (nmore + nrows) * sizeof(*more));
		memcpy(more + nmore, rows, nrows * sizeof(*rows));
		free(rows);
		rows = more;
		nrows += nmore;
	}
	/* Whole exchanges now: a round nobody kept comes with all its columns. */
	if (store_rounds_whole(st, &rows, &nrows) != 0) {
		store_messages_free(rows, nrows);
		return -1;
	}
	*out = rows;
	*nout = nrows;
	return 0;
}

/* Load a stored session with the last n messages of its path (0: all). */
struct session *
session_open(struct store *st, int64_t id, size_t n)
{
	struct session_row *row = store_session_get(st, id);
	struct message_row *rows;
	struct session *s;
	size_t nrows;
	int64_t above;

	if (row == NULL)
		return NULL;
	if (session_page_read(st, id, 0, 0, n, &rows, &nrows, &above) != 0) {
		store_sessions_free(row, 1);
		return NULL;
	}
	s = session_new(st, row->provider, row->model);
	s->id = row->id;
	free(s->title);
	s->title = xstrdup(row->title != NULL ? row->title : "");
	s->system = row->system != NULL ? xstrdup(row->system) : NULL;
	s->created = row->created;
	s->updated = row->updated;
	s->fork_from = row->forked_from;
	if (row->summary != NULL && row->summary_covers > 0) {
		s->summary = xstrdup(row->summary);
		s->summary_covers = (size_t)row->summary_covers;
	}
	session_page_fill(s, rows, nrows, id);
	s->above_id = above;
	store_messages_free(rows, nrows);
	store_sessions_free(row, 1);
	session_mark_flat(s);
	return s;
}

/* Load a stored session with every message of its path. */
struct session *
session_load(struct store *st, int64_t id)
{
	return session_open(st, id, 0);
}

/* Whether some of the path is not loaded. */
int
session_partial(const struct session *s)
{
	return s->above_id != 0;
}

/* Make room for k messages before msgs[0]. */
static void
session_page_room(struct session *s, size_t k)
{
	struct session_msg *base;
	size_t front;

	if (k <= s->front)
		return;
	/* Room for as many again as it holds: pages put in front cost their own size. */
	front = k + s->nmsgs;
	base = xmalloc((front + s->cap) * sizeof(*s->msgs));
	if (s->nmsgs > 0)
		memcpy(base + front, s->msgs, s->nmsgs * sizeof(*s->msgs));
	if (s->msgs != NULL)
		free(s->msgs - s->front);
	s->msgs = base + front;
	s->front = front;
}

/* Take the figures of m out of the count of the messages not loaded. */
static void
session_page_uncount(struct session *s, const struct session_msg *m)
{
	struct store_path_sums *c = &s->count.sums;

	c->count--;
	c->tokens -= (m->input_tokens > 0 ? m->input_tokens : 0) +
	    (m->output_tokens > 0 ? m->output_tokens : 0);
	if (m->cost >= 0) {
		c->cost -= m->cost;
		c->cost_known--;
	}
}

/* Load at least n more messages before msgs[0] (0: all of them). */
long
session_load_older(struct session *s, size_t n)
{
	struct message_row *rows;
	struct session t;
	size_t nrows, i;
	int64_t above;

	if (s->above_id == 0 || s->store == NULL || s->id <= 0)
		return 0;
	if (session_page_read(s->store, s->id, s->above_id, 0, n, &rows, &nrows, &above) != 0) {
		snprintf(s->err, sizeof(s->err), "%s", store_error(s->store));
		return -1;
	}
	/* The page's replies find their columns among their own messages, in a scratch
	 * array, before they go in front. */
	memset(&t, 0, sizeof(t));
	session_page_fill(&t, rows, nrows, s->id);
	store_messages_free(rows, nrows);
	session_page_room(s, nrows);
	if (nrows > 0)
		memcpy(s->msgs - nrows, t.msgs, nrows * sizeof(*t.msgs));
	session_msgs_release(&t);
	s->msgs -= nrows;
	s->front -= nrows;
	s->nmsgs += nrows;
	s->cap += nrows;
	s->above_id = above;
	if (s->reply >= 0)
		s->reply += (long)nrows;
	for (i = 0; i < s->nopen; i++)
		s->open[i] += (long)nrows;
	if (s->view_from >= 0)
		s->view_from += (long)nrows;
	/* They are loaded now: out of the count. A count under way goes on (its walk takes
	 * them in too, since it began above the loaded messages then), so the sums it ends
	 * with are of what is left above. */
	if (s->count.state != SESSION_COUNT_NONE)
		for (i = 0; i < nrows; i++)
			session_page_uncount(s, &s->msgs[i]);
	session_mark_flat(s);
	if (nrows > 0 && s->prepended != NULL)
		s->prepended(s->prepended_arg, nrows);
	return (long)nrows;
}

/* Load the path again from message i on, keeping the messages before it. */
int
session_refresh(struct session *s, size_t i)
{
	struct message_row *rows;
	size_t nrows;
	int64_t stop, above;

	if (s->store == NULL || s->id <= 0)
		return 0;
	if (i > s->nmsgs)
		i = s->nmsgs;
	stop = i > 0 ? s->msgs[i - 1].id : s->above_id;
	if (store_messages_page(s->store, s->id, 0, stop, 0, &rows, &nrows, &above) != 0) {
		snprintf(s->err, sizeof(s->err), "%s", store_error(s->store));
		return -1;
	}
	if (store_rounds_whole(s->store, &rows, &nrows) != 0) {
		snprintf(s->err, sizeof(s->err), "%s", store_error(s->store));
		store_messages_free(rows, nrows);
		return -1;
	}
	/* A path that no longer goes through message i - 1 was read whole. */
	if (above != stop)
		i = 0;
	while (s->nmsgs > i)
		session_msg_free(&s->msgs[--s->nmsgs]);
	if (above != stop) {
		s->above_id = above;
		memset(&s->count, 0, sizeof(s->count));
	}
	session_page_fill(s, rows, nrows, s->id);
	store_messages_free(rows, nrows);
	session_mark_flat(s);
	return 0;
}

/* Count more of the messages not loaded. */
int
session_count_step(struct session *s, size_t limit)
{
	int64_t next;

	if (s->above_id == 0 || s->store == NULL) {
		memset(&s->count, 0, sizeof(s->count));
		s->count.state = SESSION_COUNT_DONE;
		return 1;
	}
	if (s->count.state == SESSION_COUNT_DONE)
		return 1;
	if (s->count.state == SESSION_COUNT_NONE) {
		memset(&s->count.sums, 0, sizeof(s->count.sums));
		s->count.next = s->above_id;
		s->count.state = SESSION_COUNT_RUNNING;
	}
	if (store_path_sums(s->store, s->count.next, limit, &s->count.sums, &next) != 0) {
		snprintf(s->err, sizeof(s->err), "%s", store_error(s->store));
		return -1;
	}
	s->count.next = next;
	if (next != 0)
		return 0;
	s->count.state = SESSION_COUNT_DONE;
	return 1;
}

/* The position of message i on the whole path. */
size_t
session_position(struct session *s, size_t i)
{
	if (session_count_step(s, 0) != 1)
		return i;
	return (size_t)s->count.sums.count + i;
}
