/*
 * The in-memory conversation model (see session.h for the call order). It keeps the UI's
 * view and the database in step: prompts are written at once, a streaming reply is written
 * at most every flush_ms so that a crash loses a fraction of a second while the database
 * sees a handful of small writes per second instead of one per token, and the final state
 * of a reply is always written. Building a request applies the context budget, so the UI
 * never has to know how history is trimmed. The tree the stored messages form (which one a
 * message follows, alternatives, forks, comparison rounds) is session-tree.c's.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <utf8proc.h>

#include "attach.h"
#include "provider.h"
#include "session-internal.h"
#include "session.h"
#include "xmalloc.h"

/* The default clock: monotonic milliseconds, immune to wall-clock jumps. */
static int64_t
session_clock_default(void *arg)
{
	struct timespec ts;

	(void)arg;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Wall-clock unix milliseconds, for message timestamps. */
static int64_t
session_wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Read the session's clock. */
static int64_t
session_now(const struct session *s)
{
	return s->clock(s->clock_arg);
}

/* A copy of a possibly NULL string. */
static char *
session_strdup(const char *v)
{
	return v != NULL ? xstrdup(v) : NULL;
}

/* Replace *dst with a copy of v. */
static void
session_replace(char **dst, const char *v)
{
	char *copy = session_strdup(v);

	free(*dst);
	*dst = copy;
}

/* Remember the store's last error for the UI, mark the session stale and try to repair at
 * once: a failure is often the session's row gone (deleted by another natter), and the
 * sooner the conversation is saved anew the less a crash can take. */
void
session_store_failed(struct session *s)
{
	snprintf(s->err, sizeof(s->err), "%s", s->store != NULL ? store_error(s->store) : "");
	s->stale = 1;
	if (!s->syncing)
		session_sync(s);
}

/* A new, empty session. */
struct session *
session_new(struct store *st, const char *provider, const char *model)
{
	struct session *s = xcalloc(1, sizeof(*s));

	s->store = st;
	s->title = xstrdup("");
	s->provider = session_strdup(provider);
	s->model = session_strdup(model);
	s->created = s->updated = (int64_t)time(NULL);
	s->reply = -1;
	s->view_from = -1;
	s->flush_ms = SESSION_FLUSH_MS;
	s->clock = session_clock_default;
	return s;
}

/* Make room for a zeroed message at index at (moving the later ones up) and return it. */
static struct session_msg *
session_insert(struct session *s, size_t at)
{
	struct session_msg *m, *base;

	if (s->nmsgs == s->cap) {
		/* The slots before msgs[0] stay free for older messages (session-page.c). */
		s->cap = s->cap ? s->cap * 2 : 16;
		base = s->msgs != NULL ? s->msgs - s->front : NULL;
		base = xrealloc(base, (s->front + s->cap) * sizeof(*s->msgs));
		s->msgs = base + s->front;
	}
	if (at < s->nmsgs)
		memmove(&s->msgs[at + 1], &s->msgs[at], (s->nmsgs - at) * sizeof(*s->msgs));
	s->nmsgs++;
	m = &s->msgs[at];
	memset(m, 0, sizeof(*m));
	buf_init(&m->content);
	buf_init(&m->reasoning);
	m->input_tokens = m->output_tokens = m->ttft_ms = m->duration_ms = -1;
	m->cost = -1;
	m->slot = m->pick = -1;
	m->nalt = m->alt = 1;
	return m;
}

/* Grow the message array by one zeroed message at its end and return it. */
struct session_msg *
session_push(struct session *s)
{
	return session_insert(s, s->nmsgs);
}

/* Free the message array. */
void
session_msgs_release(struct session *s)
{
	if (s->msgs != NULL)
		free(s->msgs - s->front);
	s->msgs = NULL;
	s->nmsgs = s->cap = s->front = 0;
}

/* The column reply i would take in group: one after the group's replies just before it. */
int
session_next_slot(const struct session *s, size_t i, int64_t group)
{
	int slot = 0;

	while (i > 0 && s->msgs[i - 1].role == ROLE_ASSISTANT &&
	    s->msgs[i - 1].compare_group == group) {
		slot++;
		i--;
	}
	return slot;
}

/* Drop a message's files. */
static void
session_msg_unattach(struct session_msg *m)
{
	size_t k;

	for (k = 0; k < m->natts; k++)
		attach_unref(m->atts[k]);
	free(m->atts);
	m->atts = NULL;
	m->natts = 0;
}

/* Free what one message holds. */
void
session_msg_free(struct session_msg *m)
{
	buf_free(&m->content);
	buf_free(&m->reasoning);
	free(m->notice);
	free(m->provider);
	free(m->model);
	free(m->error);
	free(m->finish_reason);
	free(m->signature);
	free(m->tool_id);
	free(m->tool_name);
	session_msg_unattach(m);
}

/* Free a session and everything it holds. */
void
session_free(struct session *s)
{
	size_t i;

	if (s == NULL)
		return;
	for (i = 0; i < s->nmsgs; i++)
		session_msg_free(&s->msgs[i]);
	session_msgs_release(s);
	free(s->title);
	free(s->provider);
	free(s->model);
	free(s->system);
	free(s->summary);
	free(s);
}

/* Forget messages n and after, in memory and in the store; none of them may be open. */
int
session_truncate(struct session *s, size_t n)
{
	size_t i;
	int rc = 0;

	if (n >= s->nmsgs)
		return 0;
	/* The first stored message of the tail takes the rest with it; the path on screen
	 * then ends where the tail began. */
	for (i = n; i < s->nmsgs && (s->msgs[i].id <= 0 || s->msgs[i].shared); i++)
		;
	if (s->store != NULL && s->id > 0 && i < s->nmsgs &&
	    (store_message_delete_tree(s->store, s->id, s->msgs[i].id) != 0 ||
	    store_session_set_head(s->store, s->id, n > 0 ? s->msgs[n - 1].id : s->above_id) != 0)) {
		session_store_failed(s);
		rc = -1;
	}
	while (s->nmsgs > n)
		session_msg_free(&s->msgs[--s->nmsgs]);
	return rc;
}

/* Replace the clock used for flush throttling and timings. */
void
session_set_clock(struct session *s, session_clock_fn clock, void *arg)
{
	s->clock = clock != NULL ? clock : session_clock_default;
	s->clock_arg = arg;
}

/* Rename the session. */
int
session_set_title(struct session *s, const char *title)
{
	session_replace(&s->title, title != NULL ? title : "");
	if (s->store != NULL && s->id > 0 && store_session_rename(s->store, s->id, s->title) != 0) {
		session_store_failed(s);
		return -1;
	}
	return 0;
}

/* Set or clear the system prompt used by later requests. */
int
session_set_system(struct session *s, const char *system)
{
	session_replace(&s->system, system != NULL && *system != '\0' ? system : NULL);
	if (s->store != NULL && s->id > 0 &&
	    store_session_set_system(s->store, s->id, s->system) != 0) {
		session_store_failed(s);
		return -1;
	}
	return 0;
}

/* Switch the provider and model later replies use. */
int
session_set_model(struct session *s, const char *provider, const char *model)
{
	session_replace(&s->provider, provider);
	session_replace(&s->model, model);
	if (s->store != NULL && s->id > 0 &&
	    store_session_set_model(s->store, s->id, s->provider, s->model) != 0) {
		session_store_failed(s);
		return -1;
	}
	return 0;
}

/* Create the session's row on first use; 0 when stored (or there is no store), -1 (the
 * caller reports it) when the store failed. */
static int
session_ensure_stored(struct session *s)
{
	int64_t id;

	if (s->store == NULL || s->id > 0)
		return 0;
	id = store_session_new(s->store, s->title, s->provider, s->model);
	if (id < 0)
		return -1;
	s->id = id;
	return s->system != NULL ? store_session_set_system(s->store, id, s->system) : 0;
}

/* A message_row view of m, borrowing its strings. */
static void
session_row_of(const struct session *s, const struct session_msg *m, struct message_row *r)
{
	memset(r, 0, sizeof(*r));
	r->id = m->id;
	r->session_id = s->id;
	r->role = m->role;
	r->content = m->content.data != NULL ? m->content.data : "";
	r->reasoning = m->reasoning.len ? m->reasoning.data : NULL;
	r->provider = m->provider;
	r->model = m->model;
	r->created = m->created;
	r->state = m->state;
	r->error = m->error;
	r->tool_id = m->tool_id;
	r->tool_name = m->tool_name;
	r->tool_error = m->tool_error;
	r->column = m->compare_group != 0 && m->slot >= 0 ? m->slot + 1 : 0;
	r->atts = m->atts;
	r->natts = m->natts;
	r->finish_reason = m->finish_reason;
	r->input_tokens = m->input_tokens;
	r->output_tokens = m->output_tokens;
	r->cost = m->cost;
	r->ttft_ms = m->ttft_ms;
	r->duration_ms = m->duration_ms;
	r->compare_group = m->compare_group;
	r->pinned = m->pinned;
}

/* Give every message of group from (an id of another session, or a made-up one) group to. */
static void
session_group_rename(struct session *s, int64_t from, int64_t to)
{
	size_t i;

	for (i = 0; i < s->nmsgs; i++)
		if (s->msgs[i].compare_group == from)
			s->msgs[i].compare_group = to;
}

/* Store the made-up (negative) compare group of message i, with its pick, and renumber the
 * group's messages to the stored id; 0 or -1. */
static int
session_group_store(struct session *s, size_t i)
{
	int64_t local = s->msgs[i].compare_group, g;
	int pick = s->msgs[i].pick;

	if (local >= 0)
		return 0;
	g = store_compare_group_new(s->store, s->id);
	if (g <= 0)
		return -1;
	session_group_rename(s, local, g);
	if (pick >= 0 && store_compare_group_pick(s->store, g, pick) != 0)
		return -1;
	return 0;
}

/* Insert message i into the store; 0 or -1 (the caller reports the failure). A reply still
 * marked streaming that is not open here is another natter's, copied as it was: stored as
 * interrupted, since this natter will never finish it. */
static int
session_store_insert(struct session *s, size_t i)
{
	struct message_row r;
	int64_t parent;
	int first;

	/* A message follows one before it on the path, so that one is stored first. */
	if ((parent = session_parent_of(s, i, &first)) == 0)
		return -1;
	if (session_ensure_stored(s) != 0 || session_group_store(s, i) != 0)
		return -1;
	session_row_of(s, &s->msgs[i], &r);
	r.parent_id = parent;
	if (r.state == MSG_STREAMING && !session_is_open(s, i))
		r.state = MSG_INTERRUPTED;
	if (store_message_add(s->store, &r) < 0)
		return -1;
	s->msgs[i].id = r.id;
	s->msgs[i].parent = parent;
	s->msgs[i].stale = 0;
	s->msgs[i].stored = s->msgs[i].dropped + s->msgs[i].content.len;
	s->updated = r.created / 1000;
	/* After session_branch, or on a path cut short, it may have siblings: it is the
	 * newest of them. */
	session_number(s, i, first);
	return 0;
}

/* Insert message i into the store, repairing on failure. */
static void
session_store_add(struct session *s, size_t i)
{
	if (s->store == NULL)
		return;
	if (session_store_insert(s, i) != 0)
		session_store_failed(s);
}

/* Append a user prompt with its files in group (0: none) and name the session after the
 * first one (after its first file when it has no text). */
static size_t
session_append_prompt(struct session *s, const char *text, struct attach *const *atts,
    size_t natts, int64_t group)
{
	struct session_msg *m = session_push(s);
	size_t i = s->nmsgs - 1, k;

	m->role = ROLE_USER;
	m->compare_group = group;
	buf_puts(&m->content, text != NULL ? text : "");
	if (natts > 0) {
		m->atts = xcalloc(natts, sizeof(*m->atts));
		for (k = 0; k < natts; k++)
			m->atts[k] = attach_ref(atts[k]);
		m->natts = natts;
	}
	m->created = session_wall_ms();
	m->state = MSG_COMPLETE;
	if (s->title[0] == '\0') {
		free(s->title);
		s->title = session_title_from_prompt(m->content.len == 0 && natts > 0 ?
		    atts[0]->name : m->content.data);
		if (s->store != NULL && s->id > 0)
			store_session_rename(s->store, s->id, s->title);
	}
	session_store_add(s, i);
	return i;
}

/* Append the user's prompt. */
size_t
session_append_user(struct session *s, const char *text)
{
	return session_append_prompt(s, text, NULL, 0, 0);
}

/* Append the user's prompt with its files. */
size_t
session_append_user_files(struct session *s, const char *text, struct attach *const *atts,
    size_t n)
{
	return session_append_prompt(s, text, atts, n, 0);
}

/* The column kept of group, as the message before i knows it (-1: none yet). */
static int
session_group_pick(const struct session *s, size_t i, int64_t group)
{
	while (i-- > 0)
		if (s->msgs[i].compare_group == group)
			return s->msgs[i].pick;
	return -1;
}

/* Append a whole message of a tool round (a call or a result) and store it. */
static size_t
session_append_tool(struct session *s, enum role role, const char *id, const char *name,
    const char *content, int64_t group, int slot)
{
	struct session_msg *m = session_push(s);
	size_t i = s->nmsgs - 1;

	m->role = role;
	if (group != 0) {
		m->compare_group = group;
		m->slot = slot;
		m->pick = session_group_pick(s, i, group);
	}
	m->tool_id = xstrdup(id != NULL ? id : "");
	m->tool_name = xstrdup(name != NULL ? name : "");
	buf_puts(&m->content, content != NULL ? content : "");
	m->created = session_wall_ms();
	m->state = MSG_COMPLETE;
	return i;
}

/* Record a tool call the last reply made. */
size_t
session_append_tool_call(struct session *s, const char *id, const char *name, const char *args,
    const char *signature, const char *provider, const char *model, int64_t group, int slot)
{
	size_t i = session_append_tool(s, ROLE_TOOL_CALL, id, name, args, group, slot);
	struct session_msg *m = &s->msgs[i];

	m->provider = provider != NULL ? xstrdup(provider) : NULL;
	m->model = model != NULL ? xstrdup(model) : NULL;
	m->signature = signature != NULL ? xstrdup(signature) : NULL;
	session_store_add(s, i);
	if (m->signature != NULL && s->store != NULL && m->id > 0)
		(void)store_sign_set(s->store, m->id, m->signature);
	return i;
}

/* Replace a stored call's arguments. */
int
session_set_tool_args(struct session *s, size_t i, const char *args)
{
	struct message_row r;

	if (i >= s->nmsgs || s->msgs[i].role != ROLE_TOOL_CALL)
		return -1;
	buf_reset(&s->msgs[i].content);
	buf_puts(&s->msgs[i].content, args != NULL ? args : "{}");
	s->msgs[i].gen++;
	if (s->store == NULL || s->msgs[i].id <= 0)
		return 0;
	session_row_of(s, &s->msgs[i], &r);
	if (store_message_update(s->store, &r) != 0) {
		s->msgs[i].stale = 1;
		session_store_failed(s);
		return -1;
	}
	return 0;
}

/* Record a tool call's result. */
size_t
session_append_tool_result(struct session *s, const char *id, const char *name,
    const char *text, int is_error, long duration_ms, int64_t group, int slot)
{
	size_t i = session_append_tool(s, ROLE_TOOL, id, name, text, group, slot);

	s->msgs[i].tool_error = is_error != 0;
	s->msgs[i].duration_ms = duration_ms;
	session_store_add(s, i);
	return i;
}

/* A new compare group: stored with the session when there is a store, else (or when the
 * store fails) a negative id that is only unique in memory. */
static int64_t
session_group_new(struct session *s)
{
	int64_t g;

	if (s->store != NULL) {
		if (session_ensure_stored(s) == 0 &&
		    (g = store_compare_group_new(s->store, s->id)) > 0)
			return g;
		session_store_failed(s);
	}
	/* A made-up id is stored with the group's first message (session_group_store). */
	return --s->local_group;
}

/* Append the prompt of a comparison round in a new group. */
size_t
session_append_round(struct session *s, const char *text, int64_t *group)
{
	return session_append_round_files(s, text, NULL, 0, group);
}

/* Append the prompt of a comparison round, with its files, in a new group. */
size_t
session_append_round_files(struct session *s, const char *text, struct attach *const *atts,
    size_t n, int64_t *group)
{
	int64_t g = session_group_new(s);

	if (group != NULL)
		*group = g;
	return session_append_prompt(s, text, atts, n, g);
}

/* Is reply i one of the open ones (streaming in this process)? */
int
session_is_open(const struct session *s, size_t i)
{
	size_t k;

	for (k = 0; k < s->nopen; k++)
		if (s->open[k] == (long)i)
			return 1;
	return 0;
}

/* Start a reply as an empty streaming row beside any other open ones. */
size_t
session_reply_open(struct session *s, const char *provider, const char *model, int64_t group)
{
	return session_reply_open_slot(s, provider, model, group, -1);
}

/* Start a reply in column slot of group (slot -1: the group's next column). */
size_t
session_reply_open_slot(struct session *s, const char *provider, const char *model,
    int64_t group, int slot)
{
	struct session_msg *m;
	size_t i;

	if (s->nopen == SESSION_OPEN_MAX)
		abort();  /* a caller bug: every open reply must be closed */
	/* A column retried alone answers in its place in the round's row of replies. */
	i = session_column_place(s, group, slot);
	m = session_insert(s, i);
	m->role = ROLE_ASSISTANT;
	m->provider = session_strdup(provider != NULL ? provider : s->provider);
	m->model = session_strdup(model != NULL ? model : s->model);
	m->created = session_wall_ms();
	m->state = MSG_STREAMING;
	m->compare_group = group;
	if (group != 0) {
		m->slot = slot >= 0 ? slot : session_next_slot(s, i, group);
		m->pick = session_group_pick(s, i, group);
	}
	buf_puts(&m->content, "");
	m->t_start = m->t_flush = session_now(s);
	s->open[s->nopen++] = (long)i;
	session_store_add(s, i);
	return i;
}

/* Start the assistant's reply as an empty streaming row. */
size_t
session_begin_reply(struct session *s, const char *provider, const char *model)
{
	size_t i = session_reply_open(s, provider, model, 0);

	s->reply = (long)i;
	return i;
}

static int session_reply_write(struct session *s, size_t i, int64_t now);

/* Append a delta to open reply i's content or reasoning. */
static void
session_reply_delta(struct session *s, size_t i, struct buf *(*pick)(struct session_msg *),
    const char *p, size_t n)
{
	struct session_msg *m;

	if (n == 0 || i >= s->nmsgs || !session_is_open(s, i))
		return;
	m = &s->msgs[i];
	if (m->ttft_ms < 0)
		m->ttft_ms = (long)(session_now(s) - m->t_start);
	buf_append(pick(m), p, n);
	m->gen++;
	m->unsaved = 1;
	s->dirty = 1;
	/* Text kept only until it is stored is stored by the megabyte, whatever the clock
	 * (a reply that long is appended: STORE_SPILL_AT is not more than that). */
	if (s->drop_text && m->content.len > STORE_SPILL_ROW)
		session_reply_write(s, i, session_now(s));
}

/* The content buffer of m. */
static struct buf *
session_pick_content(struct session_msg *m)
{
	return &m->content;
}

/* The reasoning buffer of m. */
static struct buf *
session_pick_reasoning(struct session_msg *m)
{
	return &m->reasoning;
}

/* Append reply text. */
void
session_reply_text(struct session *s, const char *p, size_t n)
{
	if (s->reply >= 0)
		session_reply_delta(s, (size_t)s->reply, session_pick_content, p, n);
}

/* Append reply reasoning ("thinking"). */
void
session_reply_reasoning(struct session *s, const char *p, size_t n)
{
	if (s->reply >= 0)
		session_reply_delta(s, (size_t)s->reply, session_pick_reasoning, p, n);
}

/* Append text to open reply i. */
void
session_reply_text_at(struct session *s, size_t i, const char *p, size_t n)
{
	session_reply_delta(s, i, session_pick_content, p, n);
}

/* Append reasoning to open reply i. */
void
session_reply_reasoning_at(struct session *s, size_t i, const char *p, size_t n)
{
	session_reply_delta(s, i, session_pick_reasoning, p, n);
}

/*
 * Update stored message i: its whole text, or, for a long reply, only what came since its
 * last write appended (store.h, STORE_SPILL_AT: rewriting a long text at every flush costs
 * its whole length each time). With drop_text the stored part of an open reply leaves
 * memory. 0 or -1 (the caller reports it).
 */
static int
session_msg_update(struct session *s, size_t i)
{
	struct session_msg *m = &s->msgs[i];
	size_t total = m->dropped + m->content.len, from = m->stored;
	struct message_row r;
	int spill = m->spill;

	session_row_of(s, m, &r);
	/* Turning long, the reply keeps its first STORE_SPILL_AT bytes or so (cut before a
	 * character) in the content column, so that readers of the column alone (a semantic
	 * index) have its beginning; none of it has left memory yet. */
	if (!spill && m->role == ROLE_ASSISTANT && total > STORE_SPILL_AT) {
		r.head_len = STORE_SPILL_AT;
		while (r.head_len > 1 &&
		    ((unsigned char)m->content.data[r.head_len] & 0xc0) == 0x80)
			r.head_len--;
		from = r.head_len;
		spill = 1;
	}
	if (spill) {
		r.spill = 1;
		r.append = m->content.data + (from - m->dropped);
		r.append_len = total - from;
	}
	if (store_message_update(s->store, &r) != 0)
		return -1;
	m->spill = spill;
	m->stored = total;
	if (m->spill && s->drop_text && session_is_open(s, i)) {
		buf_reset(&m->content);
		m->dropped = total;
	}
	return 0;
}

/* Write message i now. */
static int
session_reply_write(struct session *s, size_t i, int64_t now)
{
	struct session_msg *m = &s->msgs[i];

	m->unsaved = 0;
	m->flushed = 1;
	m->t_flush = now;
	/* Nothing will read a reply's text back from a session that is never stored. */
	if (s->store == NULL && s->drop_text && session_is_open(s, i)) {
		m->dropped += m->content.len;
		buf_reset(&m->content);
	}
	if (s->store == NULL || m->id <= 0)
		return 1;
	if (session_msg_update(s, i) != 0) {
		m->stale = 1;
		session_store_failed(s);
		return -1;
	}
	m->stale = 0;
	return 1;
}

/* Write every open reply that changed and whose throttle allows. */
int
session_reply_flush(struct session *s)
{
	int64_t now;
	size_t k;
	int rc = 0, left = 0;

	if (!s->dirty)
		return 0;
	now = session_now(s);
	for (k = 0; k < s->nopen; k++) {
		struct session_msg *m = &s->msgs[s->open[k]];

		if (!m->unsaved)
			continue;
		/* The first token is written at once: a kill in the first flush_ms must not
		 * leave an empty stored reply under text the user saw. */
		if (m->flushed && now - m->t_flush < s->flush_ms) {
			left = 1;
			continue;
		}
		if (session_reply_write(s, (size_t)s->open[k], now) < 0)
			rc = -1;
		else if (rc == 0)
			rc = 1;
	}
	s->dirty = left;
	return rc;
}

/* Finish the open reply and write its final state. */
int
session_reply_end(struct session *s, enum msg_state state, const struct usage *usage,
    double cost, const char *finish_reason, const char *error)
{
	int rc;

	if (s->reply < 0)
		return 0;
	rc = session_reply_close(s, (size_t)s->reply, state, usage, cost, finish_reason, error);
	s->reply = -1;
	return rc;
}

/* Finish open reply i and write its final state. */
int
session_reply_close(struct session *s, size_t i, enum msg_state state,
    const struct usage *usage, double cost, const char *finish_reason, const char *error)
{
	struct reply_end e = { state, usage, cost, finish_reason, error, -2, -1, NULL };

	return session_reply_finish(s, i, &e);
}

/* Finish open reply i with all its final figures and write it once. */
int
session_reply_finish(struct session *s, size_t i, const struct reply_end *e)
{
	struct session_msg *m;
	int64_t now;
	size_t k;
	int rc;

	if (i >= s->nmsgs || !session_is_open(s, i))
		return 0;
	for (k = 0; k < s->nopen; k++) {
		if (s->open[k] == (long)i) {
			s->open[k] = s->open[--s->nopen];
			break;
		}
	}
	if (s->reply == (long)i)
		s->reply = -1;
	m = &s->msgs[i];
	now = session_now(s);
	m->state = e->state == MSG_STREAMING ? MSG_COMPLETE : e->state;
	if (e->usage != NULL) {
		m->input_tokens = e->usage->input_tokens;
		m->output_tokens = e->usage->output_tokens;
	}
	m->cost = e->cost;
	session_replace(&m->finish_reason, e->finish_reason);
	session_replace(&m->error, e->error);
	m->duration_ms = e->duration_ms >= 0 ? e->duration_ms : (long)(now - m->t_start);
	if (e->ttft_ms != -2)
		m->ttft_ms = e->ttft_ms;
	m->gen++;
	rc = session_reply_write(s, i, now);
	if (e->signature != NULL) {
		session_replace(&m->signature, e->signature);
		/* Without it the reasoning is simply not sent back: no reason to fail the
		 * reply, or to write it again later. */
		if (s->store != NULL && m->id > 0)
			(void)store_sign_set(s->store, m->id, e->signature);
	}
	s->dirty = 0;
	for (k = 0; k < s->nopen; k++)
		if (s->msgs[s->open[k]].unsaved)
			s->dirty = 1;
	return rc < 0 ? -1 : 0;
}

/* The session's row is gone: forget every stored id so that the next sync saves the whole
 * conversation as a new session, each compare group under a made-up id until then. */
static void
session_forget(struct session *s)
{
	size_t i;

	s->lost_id = s->id;
	s->id = 0;
	s->fork_from = 0;
	/* The messages not loaded went with the row: what is in memory is saved. */
	s->above_id = 0;
	memset(&s->count, 0, sizeof(s->count));
	for (i = 0; i < s->nmsgs; i++) {
		s->msgs[i].id = 0;
		s->msgs[i].shared = 0;
		s->msgs[i].stale = 0;
		if (s->msgs[i].compare_group > 0)
			session_group_rename(s, s->msgs[i].compare_group, --s->local_group);
	}
}

/* Rewrite message i, whose last write failed; a row that is gone is inserted again. */
static int
session_sync_one(struct session *s, size_t i)
{
	int e;

	if (s->msgs[i].id <= 0)
		return session_store_insert(s, i);
	if (!s->msgs[i].stale)
		return 0;
	e = store_message_exists(s->store, s->msgs[i].id, s->id);
	if (e < 0)
		return -1;
	if (e == 0) {
		s->msgs[i].id = 0;
		return session_store_insert(s, i);
	}
	if (session_msg_update(s, i) != 0)
		return -1;
	s->msgs[i].stale = 0;
	return 0;
}

/* Store whatever failed writes left out, or everything anew when the session is gone. A
 * message missing between stored ones is appended after them: the store numbers messages
 * in the order they arrive. */
int
session_sync(struct session *s)
{
	size_t i;
	int e;

	if (s->store == NULL)
		return s->nmsgs > 0 ? -1 : 0;
	if (s->syncing)
		return -1;
	s->syncing = 1;
	if (s->id > 0) {
		e = store_session_exists(s->store, s->id);
		if (e < 0)
			goto fail;
		if (e == 0)
			session_forget(s);
	}
	for (i = 0; i < s->nmsgs; i++)
		if (session_sync_one(s, i) != 0)
			goto fail;
	s->stale = 0;
	s->syncing = 0;
	return 0;
fail:
	snprintf(s->err, sizeof(s->err), "%s", store_error(s->store));
	s->stale = 1;
	s->syncing = 0;
	return -1;
}

/* Attach a store to a session made without one and save the conversation in it. */
int
session_attach(struct session *s, struct store *st)
{
	int64_t *groups;
	size_t i;
	int ok, rc;

	if (s->store != NULL || st == NULL)
		return s->store != NULL ? 0 : -1;
	s->store = st;
	s->id = 0;
	for (i = 0; i < s->nmsgs; i++)
		s->msgs[i].id = 0;
	s->stale = s->nmsgs > 0;
	/* One transaction: the conversation is stored whole or not at all. Compare groups
	 * take their stored ids as they are written; a rollback gives them back their
	 * made-up ones. */
	groups = xcalloc(s->nmsgs + 1, sizeof(*groups));
	for (i = 0; i < s->nmsgs; i++)
		groups[i] = s->msgs[i].compare_group;
	ok = store_batch_begin(st) == 0;
	rc = session_sync(s);
	if (ok && store_batch_end(st, rc == 0) != 0 && rc == 0) {
		snprintf(s->err, sizeof(s->err), "%s", store_error(st));
		rc = -1;
	}
	if (rc != 0 && ok) {
		/* Nothing of it is stored: the next sync starts over. */
		s->id = 0;
		for (i = 0; i < s->nmsgs; i++) {
			s->msgs[i].id = 0;
			s->msgs[i].compare_group = groups[i];
		}
		s->stale = 1;
	}
	free(groups);
	return rc;
}

/* Is some of the conversation not stored? */
int
session_unsaved(const struct session *s)
{
	return s->nmsgs > 0 && (s->store == NULL || s->stale);
}

/* What a file that does not go as text is estimated to take (an image is some hundreds
 * to a few thousand tokens, a PDF page about as many). */
#define SESSION_FILE_TOKENS 1500

/* Estimated tokens: bytes / 4, rounded up. */
size_t
session_estimate_tokens(const char *text, size_t len)
{
	(void)text;
	return (len + 3) / 4;
}

/* Whether message m belongs in the history sent to a model; col is the column asked for
 * when m is part of the comparison being continued, else -1 (the main conversation). */
static int
session_msg_sendable(const struct session_msg *m, int col)
{
	if (m->compare_group != 0) {
		int want = col >= 0 ? col : m->pick;

		if (want < 0)
			return 0;  /* a round nobody kept is not part of the conversation */
		/* A column holds its replies and, with tools, its calls and results. */
		if ((m->role == ROLE_ASSISTANT || m->role == ROLE_TOOL_CALL ||
		    m->role == ROLE_TOOL) && m->slot != want)
			return 0;
	}
	if (m->role == ROLE_SYSTEM)
		return 0;  /* the system prompt travels separately */
	if (m->role == ROLE_USER)
		return m->content.len > 0 || m->natts > 0;
	if (m->state == MSG_ERROR)
		return 0;
	if ((m->state == MSG_CANCELLED || m->state == MSG_STREAMING ||
	    m->state == MSG_INTERRUPTED) && m->content.len == 0)
		return 0;
	return 1;
}

/* True when m's signed reasoning may go back with a request to model on p: a signature
 * is only known to hold for the model that made it. */
static int
session_signed_for(const struct session_msg *m, const struct provider *p, const char *model)
{
	return m->signature != NULL && m->role == ROLE_ASSISTANT && m->reasoning.len > 0 &&
	    m->model != NULL && strcmp(m->model, model) == 0 && m->provider != NULL &&
	    p != NULL && p->name != NULL && strcmp(m->provider, p->name) == 0;
}

/* Answer the calls of the request's last assistant message that have no result yet (a
 * natter that died while a tool ran, a round cut short): every protocol refuses a call
 * left without one. */
static void
session_request_close_calls(struct request *r)
{
	size_t a, k, j;

	for (a = r->nmsgs; a > 0 && r->msgs[a - 1].role == ROLE_TOOL; a--)
		;
	if (a == 0 || r->msgs[a - 1].role != ROLE_ASSISTANT)
		return;
	for (k = 0; k < r->msgs[a - 1].ncalls; k++) {
		const struct msg_call *c = &r->msgs[a - 1].calls[k];
		int answered = 0;

		for (j = a; j < r->nmsgs; j++)
			if (strcmp(r->msgs[j].tool_id, c->id) == 0)
				answered = 1;
		if (!answered) {
			c = &r->msgs[a - 1].calls[k];
			request_add_result(r, c->id, c->name, "the call was interrupted before it "
			    "finished; it has no result", 1);
		}
	}
}

/* Add message m to the request: a tool call goes onto the reply that made it (an empty
 * one when that reply is not sent), a result after it. */
static void
session_request_add(struct request *r, const struct session_msg *m, const struct provider *p,
    struct store *st)
{
	size_t k;

	if (m->role == ROLE_TOOL_CALL) {
		if (r->nmsgs == 0 || r->msgs[r->nmsgs - 1].role != ROLE_ASSISTANT)
			request_add(r, ROLE_ASSISTANT, "");
		request_add_call(r, m->tool_id, m->tool_name, buf_str(&m->content), m->signature);
		return;
	}
	if (m->role == ROLE_TOOL) {
		request_add_result(r, m->tool_id, m->tool_name, buf_str(&m->content),
		    m->tool_error);
		return;
	}
	session_request_close_calls(r);
	request_add(r, m->role, buf_str(&m->content));
	if (session_signed_for(m, p, r->model))
		request_set_thinking(r, buf_str(&m->reasoning), m->signature);
	for (k = 0; k < m->natts; k++) {
		/* A stored file's bytes are read when a request first needs them; one that
		 * cannot be read goes without them, and the turn refuses to send it. */
		if (m->atts[k]->data == NULL && st != NULL)
			store_attach_load(st, m->atts[k]);
		request_add_attach(r, m->atts[k]);
	}
}

/* The tokens message m is estimated to take: its text and its files (a file sent as
 * text by its size, any other as SESSION_FILE_TOKENS). */
static size_t
session_msg_tokens(const struct session_msg *m)
{
	size_t n = session_estimate_tokens(m->content.data, m->content.len), k;

	for (k = 0; k < m->natts; k++)
		n += m->atts[k]->kind == ATTACH_TEXT ?
		    session_estimate_tokens(NULL, m->atts[k]->size) : SESSION_FILE_TOKENS;
	return n;
}

/* Build the request for the next reply within fit->budget, from the main conversation up
 * to message from and column col's view of the messages after it. */
struct request *
session_request_fit(const struct session *s, const struct provider *p, const char *model,
    const struct params *params, size_t from, int col, struct session_fit *fit)
{
	struct request *r = request_new(p, model != NULL ? model : s->model);
	size_t *idx = xcalloc(s->nmsgs ? s->nmsgs : 1, sizeof(*idx));
	size_t n = 0, i, start = 0, last_user, total, fixed = 0;
	char *keep;

	if (params != NULL)
		params_copy(&r->params, params);
	if (s->system != NULL && fit->note != NULL) {
		char *both = xasprintf("%s\n\n%s", s->system, fit->note);

		request_set_system(r, both);
		free(both);
	} else if (s->system != NULL || fit->note != NULL) {
		request_set_system(r, s->system != NULL ? s->system : fit->note);
	}
	if (s->system != NULL)
		fixed += session_estimate_tokens(s->system, strlen(s->system));
	if (fit->note != NULL)
		fixed += session_estimate_tokens(fit->note, strlen(fit->note));
	total = fixed;
	fit->dropped = 0;
	fit->total = s->system != NULL ? session_estimate_tokens(s->system, strlen(s->system)) : 0;
	for (i = 0; i < s->nmsgs; i++) {
		size_t est;

		if (!session_msg_sendable(&s->msgs[i], i >= from ? col : -1))
			continue;
		est = session_msg_tokens(&s->msgs[i]);
		fit->total += est;
		/* A summary stands for the messages before skip; pinned ones are sent anyway. */
		if (i < fit->skip && !s->msgs[i].pinned)
			continue;
		idx[n++] = i;
		total += est;
	}
	keep = xcalloc(n ? n : 1, 1);
	memset(keep, 1, n);
	last_user = n;
	for (i = n; i-- > 0;) {
		if (s->msgs[idx[i]].role == ROLE_USER) {
			last_user = i;
			break;
		}
	}
	/* Drop whole exchanges from the front, a user message with the replies after it,
	 * leaving pinned messages where they are. */
	while (fit->budget > 0 && total > fit->budget && start < last_user) {
		do {
			const struct session_msg *m = &s->msgs[idx[start]];

			if (!m->pinned) {
				total -= session_msg_tokens(m);
				keep[start] = 0;
				fit->dropped++;
			}
			start++;
		} while (start < last_user && s->msgs[idx[start]].role != ROLE_USER);
	}
	fit->first = s->nmsgs;
	for (i = 0; i < n; i++) {
		if (!keep[i])
			continue;
		session_request_add(r, &s->msgs[idx[i]], p, s->store);
		if (i >= start && fit->first == s->nmsgs)
			fit->first = idx[i];
	}
	session_request_close_calls(r);
	fit->tokens = total;
	free(keep);
	free(idx);
	return r;
}

/* Index of the first message of the last keep exchanges. */
size_t
session_keep_from(const struct session *s, size_t keep)
{
	size_t i = s->nmsgs, seen = 0;

	while (i-- > 0) {
		if (s->msgs[i].role == ROLE_USER && s->msgs[i].compare_group == 0 && ++seen == keep)
			return i;
	}
	return 0;
}

/* Replace the rolling summary, in memory and with the stored session. */
int
session_set_summary(struct session *s, const char *text, size_t covers)
{
	session_replace(&s->summary, text);
	s->summary_covers = text != NULL ? covers : 0;
	if (s->store == NULL || s->id <= 0)
		return 0;
	if (store_session_set_summary(s->store, s->id, text, (long)s->summary_covers) != 0) {
		session_store_failed(s);
		return -1;
	}
	return 0;
}

/* Pin or unpin message i: a pinned message is sent whatever the context budget drops. */
int
session_set_pinned(struct session *s, size_t i, int pinned)
{
	struct session_msg *m;

	if (i >= s->nmsgs)
		return -1;
	m = &s->msgs[i];
	if (m->shared) {
		snprintf(s->err, sizeof(s->err), "%s", "the message belongs to the session this one "
		    "was forked from");
		return -1;
	}
	m->pinned = pinned != 0;
	m->gen++;
	if (s->store == NULL || m->id <= 0)
		return 0;
	if (store_message_set_pinned(s->store, m->id, m->pinned) != 0) {
		session_store_failed(s);
		return -1;
	}
	return 0;
}

/* Append the shortest name telling entry k of n (provider, model) pairs from the others:
 * its model id alone, or provider/model when another entry has the same id. */
void
session_short_name(const char *const *prov, const char *const *model, size_t n, size_t k,
    struct buf *b)
{
	const char *id = model[k] != NULL ? model[k] : "?";
	size_t j;

	for (j = 0; j < n; j++) {
		if (j != k && model[j] != NULL && strcmp(model[j], id) == 0 &&
		    (prov[j] == NULL || prov[k] == NULL || strcmp(prov[j], prov[k]) != 0)) {
			buf_printf(b, "%s/%s", prov[k] != NULL ? prov[k] : "?", id);
			return;
		}
	}
	buf_puts(b, id);
}

/* Most models a label names; a comparison has at most four columns per round. */
#define SESSION_LABEL_MAX 8

/* Append the model a stored session is listed under: its own, unless it is a comparison
 * session whose model never answered (the model natter was started with, say); then the
 * models that answered ("compare: a, b", or the one alone), or when none did, the models
 * that were asked. */
void
session_row_label(const struct session_row *r, struct buf *b)
{
	char *copy, *line, *save = NULL;
	const char *prov[SESSION_LABEL_MAX], *model[SESSION_LABEL_MAX];
	int ok[SESSION_LABEL_MAX];
	size_t n = 0, k, shown = 0, want = 0, more = 0;

	if (r->answered == NULL) {
		buf_puts(b, r->model != NULL ? r->model : "?");
		return;
	}
	copy = xstrdup(r->answered);
	for (line = strtok_r(copy, "\n", &save); line != NULL; line = strtok_r(NULL, "\n", &save)) {
		char *t1 = strchr(line, '\t'), *t2 = t1 != NULL ? strchr(t1 + 1, '\t') : NULL;

		if (t2 == NULL)
			continue;
		*t1 = *t2 = '\0';
		if (r->provider != NULL && r->model != NULL && strcmp(line, r->provider) == 0 &&
		    strcmp(t1 + 1, r->model) == 0 && t2[1] == '1') {
			/* Its own model answered: it is listed under that. */
			free(copy);
			buf_puts(b, r->model);
			return;
		}
		if (n == SESSION_LABEL_MAX) {
			more++;
			continue;
		}
		prov[n] = line;
		model[n] = t1 + 1;
		ok[n] = t2[1] == '1';
		want += ok[n];
		n++;
	}
	if (n == 0) {
		free(copy);
		buf_puts(b, r->model != NULL ? r->model : "?");
		return;
	}
	/* The names are told apart among the models shown. */
	{
		const char *sp[SESSION_LABEL_MAX], *sm[SESSION_LABEL_MAX];

		for (k = 0; k < n; k++)
			if (want == 0 || ok[k]) {
				sp[shown] = prov[k];
				sm[shown++] = model[k];
			}
		if (shown > 1)
			buf_puts(b, "compare: ");
		for (k = 0; k < shown; k++) {
			if (k > 0)
				buf_puts(b, ", ");
			session_short_name(sp, sm, shown, k, b);
		}
		if (more > 0)
			buf_puts(b, ", …");
	}
	free(copy);
}

/* A session title from the first non-blank line of a prompt. */
char *
session_title_from_prompt(const char *prompt)
{
	const utf8proc_uint8_t *p = (const utf8proc_uint8_t *)(prompt != NULL ? prompt : "");
	const utf8proc_uint8_t *line, *end;
	struct buf b = BUF_INIT;
	utf8proc_int32_t cp;
	utf8proc_ssize_t k;
	int cols = 0, w, cut = 0;
	size_t keep;

	/* Skipping all leading whitespace lands on the first line with text on it. */
	while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n' || *p == '\f' || *p == '\v')
		p++;
	line = p;
	end = (const utf8proc_uint8_t *)strchr((const char *)line, '\n');
	if (end == NULL)
		end = line + strlen((const char *)line);
	while (end > line && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r'))
		end--;
	if (end == line)
		return xstrdup("untitled");
	/* Copy characters while they fit, leaving a column for the ellipsis if we cut. */
	keep = 0;
	for (p = line; p < end; p += k) {
		k = utf8proc_iterate(p, end - p, &cp);
		if (k <= 0) {
			k = 1;  /* an invalid byte: skip it rather than emit broken UTF-8 */
			continue;
		}
		if (cp < 0x20 || (cp >= 0x7f && cp < 0xa0))
			cp = ' ';
		w = utf8proc_charwidth(cp);
		if (w < 0)
			w = 0;
		if (cols + w > SESSION_TITLE_COLS) {
			cut = 1;
			break;
		}
		if (cols + w <= SESSION_TITLE_COLS - 1)
			keep = b.len + (cp == ' ' ? 1 : (size_t)k);
		cols += w;
		if (cp == ' ')
			buf_putc(&b, ' ');
		else
			buf_append(&b, p, (size_t)k);
	}
	if (cut) {
		/* Fall back to what fitted in one column less, then add the ellipsis. */
		b.len = keep;
		while (b.len > 0 && b.data[b.len - 1] == ' ')
			b.len--;
		b.data[b.len] = '\0';
		buf_puts(&b, "\xe2\x80\xa6");
	}
	/* Controls turned into spaces or skipped bytes can leave blanks at either end. */
	while (b.len > 0 && b.data[b.len - 1] == ' ')
		b.data[--b.len] = '\0';
	keep = strspn(b.data != NULL ? b.data : "", " ");
	buf_consume(&b, keep);
	if (b.len == 0) {
		buf_free(&b);
		return xstrdup("untitled");
	}
	return buf_detach(&b);
}
