/*
 * History that branches, as the session sees it (session.h): the path on screen of a
 * stored tree of messages (store-tree.c) and the comparison rounds in it. Which message a
 * new one follows (session_parent_of): the one before it, or for a column of a round the
 * column's last message of the round, else the round's prompt, so that a round's replies
 * are siblings; after a round, its kept column's line. Switching alternatives, forking,
 * keeping a column (session_pick: the prompts of later rounds move under the kept line and
 * the path on screen goes through it) and retrying one column alone all change the stored
 * tree or the head, then load the path again from where it changed (session_refresh)
 * rather than patch the messages in memory.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "session.h"
#include "session-internal.h"
#include "xmalloc.h"

/* The index of the prompt of the round message i belongs to, or i when none is before it. */
static size_t
tree_round_prompt(const struct session *s, size_t i)
{
	int64_t g = s->msgs[i].compare_group;
	size_t j;

	for (j = i + 1; j-- > 0 && s->msgs[j].compare_group == g;)
		if (s->msgs[j].role == ROLE_USER)
			return j;
	return i;
}

/* Mark the rounds stored one reply after another (before rounds were trees): a column's
 * first reply there does not follow the round's prompt. */
void
session_mark_flat(struct session *s)
{
	size_t i, j, p;
	int64_t g;

	for (i = 0; i < s->nmsgs; i++) {
		const struct session_msg *m = &s->msgs[i];

		if ((g = m->compare_group) == 0 || m->role == ROLE_USER || m->flat)
			continue;
		p = tree_round_prompt(s, i);
		if (p == i)
			continue;
		/* The first message of its column in the round. */
		for (j = p + 1; j < i && !(s->msgs[j].role != ROLE_USER && s->msgs[j].slot == m->slot);
		    j++)
			;
		if (j < i || m->parent == s->msgs[p].id)
			continue;
		for (j = p; j < s->nmsgs && s->msgs[j].compare_group == g; j++)
			s->msgs[j].flat = 1;
	}
}

/* Drop messages n and after from the path, keeping them stored. */
void
session_branch(struct session *s, size_t n)
{
	if (n >= s->nmsgs)
		return;
	if (s->store == NULL) {
		session_truncate(s, n);
		return;
	}
	while (s->nmsgs > n)
		session_msg_free(&s->msgs[--s->nmsgs]);
	if (s->summary != NULL && s->summary_covers > session_position(s, n))
		session_set_summary(s, NULL, 0);
}

/* Make the kept column of each round shown by one reply the column of that reply: the
 * conversation goes on from what the path on screen shows. */
static void
tree_keep_path_picks(struct session *s)
{
	size_t i, k;

	for (i = 0; i < s->nmsgs; i++) {
		struct session_msg *m = &s->msgs[i];

		if (m->compare_group <= 0 || m->role == ROLE_USER || m->slot < 0 || m->flat ||
		    m->pick == m->slot || session_group_wide(s, i))
			continue;
		if (store_compare_group_pick(s->store, m->compare_group, m->slot) != 0) {
			session_store_failed(s);
			return;
		}
		for (k = 0; k < s->nmsgs; k++)
			if (s->msgs[k].compare_group == m->compare_group) {
				s->msgs[k].pick = m->slot;
				s->msgs[k].gen++;
			}
	}
}

/* Whether message i is in the last round of the path: nothing after it but its round. */
static int
tree_in_last_round(const struct session *s, size_t i)
{
	size_t k;

	for (k = i + 1; k < s->nmsgs; k++)
		if (s->msgs[k].compare_group != s->msgs[i].compare_group)
			return 0;
	return 1;
}

/* Show alternative dir of message i and the newest line after it. */
int
session_switch(struct session *s, size_t i, int dir)
{
	const struct session_msg *m;
	int64_t *ids, target = 0, leaf, parent;
	size_t n, k;
	int rc, wide;

	if (s->store == NULL || s->id <= 0 || i >= s->nmsgs || s->nopen > 0 ||
	    s->msgs[i].id <= 0 || s->msgs[i].nalt < 2)
		return 1;
	m = &s->msgs[i];
	wide = m->compare_group != 0 && m->role != ROLE_USER && m->slot >= 0 &&
	    session_group_wide(s, i);
	parent = m->parent > 0 ? m->parent : m->parent < 0 ? 0 : i > 0 ? s->msgs[i - 1].id :
	    s->above_id;
	if (wide) {
		/* A round side by side: the column's own alternatives (a retry), where no later
		 * round hangs off the line on screen. */
		if (!tree_in_last_round(s, i)) {
			snprintf(s->err, sizeof(s->err), "%s", "only the latest round's columns have "
			    "alternatives to switch to; /pick N keeps a column first");
			return -1;
		}
		rc = store_children_column(s->store, s->id, parent, m->compare_group, m->slot,
		    &ids, &n);
	} else {
		rc = store_children(s->store, s->id, parent, &ids, &n);
	}
	if (rc != 0)
		goto fail;
	for (k = 0; k < n; k++)
		if (ids[k] == m->id) {
			if ((dir < 0 && k > 0) || (dir > 0 && k + 1 < n))
				target = ids[(long)k + (dir < 0 ? -1 : 1)];
			break;
		}
	free(ids);
	if (target == 0)
		return 1;
	if ((leaf = store_branch_leaf(s->store, s->id, target)) < 0 ||
	    store_session_set_head(s->store, s->id, leaf) != 0)
		goto fail;
	if (s->summary != NULL && s->summary_covers > session_position(s, i))
		session_set_summary(s, NULL, 0);
	/* A round side by side is read again from its prompt, so that it comes whole. */
	if (session_refresh(s, wide ? tree_round_prompt(s, i) : i) != 0)
		return -1;
	tree_keep_path_picks(s);
	return 0;
fail:
	snprintf(s->err, sizeof(s->err), "%s", store_error(s->store));
	return -1;
}

/* A new stored session going on from message i. */
int64_t
session_fork(struct session *s, size_t i)
{
	int64_t id;

	if (s->store == NULL || s->id <= 0 || i >= s->nmsgs || s->msgs[i].id <= 0) {
		snprintf(s->err, sizeof(s->err), "%s", s->store == NULL ?
		    "the session is not stored" : "the message is not stored yet");
		return -1;
	}
	id = store_session_fork(s->store, s->id, s->msgs[i].id);
	if (id < 0)
		snprintf(s->err, sizeof(s->err), "%s", store_error(s->store));
	return id;
}

/* The message i follows in the tree (its id; STORE_FIRST for a first message; 0 when that
 * one is not stored yet). A column's message follows the column's last one in its round,
 * else the round's prompt (*first is then set): the replies of a round are siblings.
 * What comes after a round follows the line of its kept column, column 1's until one is
 * kept; after a round stored one reply after another, the row before it. */
int64_t
session_parent_of(const struct session *s, size_t i, int *first)
{
	const struct session_msg *m = &s->msgs[i], *p;
	size_t j;
	int want;

	if (first != NULL)
		*first = 0;
	if (i == 0)
		return s->above_id > 0 ? s->above_id : STORE_FIRST;
	if (m->compare_group != 0 && m->role != ROLE_USER && m->slot >= 0 && !m->flat) {
		for (j = i; j-- > 0 && s->msgs[j].compare_group == m->compare_group;) {
			if (s->msgs[j].role == ROLE_USER) {
				if (first != NULL)
					*first = 1;
				return s->msgs[j].id;
			}
			if (s->msgs[j].slot == m->slot)
				return s->msgs[j].id;
		}
		return s->msgs[i - 1].id;
	}
	p = &s->msgs[i - 1];
	if (p->compare_group == 0 || p->role == ROLE_USER || p->flat ||
	    p->compare_group == m->compare_group)
		return p->id;
	want = p->pick >= 0 ? p->pick : 0;
	for (j = i; j-- > 0 && s->msgs[j].compare_group == p->compare_group;) {
		if (s->msgs[j].role == ROLE_USER)
			break;
		if (s->msgs[j].slot == want)
			return s->msgs[j].id;
	}
	return p->id;
}

/* Give stored message i its place among its alternatives: among the messages following
 * the same one, or for a reply of a round shown side by side among its column's. */
void
session_number(struct session *s, size_t i, int first)
{
	struct session_msg *m = &s->msgs[i];
	int64_t *ids, parent = m->parent > 0 ? m->parent : 0;
	size_t n, k;
	int rc;

	if (first && session_group_wide(s, i))
		rc = store_children_column(s->store, s->id, parent, m->compare_group, m->slot, &ids,
		    &n);
	else
		rc = store_children(s->store, s->id, parent, &ids, &n);
	if (rc != 0)
		return;
	for (k = 0; k < n; k++)
		if (ids[k] == m->id) {
			m->nalt = (int)n;
			m->alt = (int)k + 1;
		}
	free(ids);
}

/* Where a new reply of column slot of group goes: back into the round's row of replies,
 * at its column's place, when the column has none in the round (it is retried alone);
 * else at the end. */
size_t
session_column_place(const struct session *s, int64_t group, int slot)
{
	size_t i, p = s->nmsgs, q;

	if (group == 0 || slot < 0 || s->nopen > 0)
		return s->nmsgs;
	for (i = 0; i < s->nmsgs; i++) {
		if (s->msgs[i].compare_group != group)
			continue;
		if (s->msgs[i].role == ROLE_USER)
			p = i;
		else if (s->msgs[i].slot == slot)
			return s->nmsgs;
	}
	if (p == s->nmsgs)
		return s->nmsgs;
	for (q = p + 1; q < s->nmsgs && s->msgs[q].compare_group == group &&
	    s->msgs[q].role == ROLE_ASSISTANT && s->msgs[q].slot < slot; q++)
		;
	return q;
}

/* The last message of column col's line in the round of group g (the round's prompt when
 * the column has none), or of the round's whole run when it is stored one reply after
 * another; 0 when none is stored. */
static int64_t
tree_column_end(const struct session *s, int64_t g, int col)
{
	int64_t end = 0;
	size_t i;

	for (i = 0; i < s->nmsgs; i++) {
		const struct session_msg *m = &s->msgs[i];

		if (m->compare_group != g || m->id <= 0)
			continue;
		if (m->role == ROLE_USER || m->flat || m->slot == col)
			end = m->id;
	}
	return end;
}

/* Keep column col of every compare group from message from on. */
int
session_pick(struct session *s, size_t from, int col)
{
	int64_t last = 0, par, g = 0, head;
	size_t i;
	int rc = 0;

	for (i = from; i < s->nmsgs; i++) {
		struct session_msg *m = &s->msgs[i];

		if (m->compare_group == 0)
			continue;
		m->pick = col;
		m->gen++;
		if (m->compare_group == last || m->compare_group < 0 || s->store == NULL)
			continue;
		last = m->compare_group;
		if (store_compare_group_pick(s->store, m->compare_group, col) != 0) {
			session_store_failed(s);
			rc = -1;
		}
	}
	if (rc != 0 || s->store == NULL || s->id <= 0 || s->nopen > 0 || s->stale)
		return rc;
	/* Each round's prompt goes on from the kept column's line of the round before. */
	for (i = from; i < s->nmsgs; i++) {
		struct session_msg *m = &s->msgs[i];

		if (m->compare_group == 0 || m->role != ROLE_USER || m->id <= 0)
			continue;
		g = m->compare_group;
		if (m->parent <= 0 || (par = session_parent_of(s, i, NULL)) <= 0 || par == m->parent)
			continue;
		if (store_message_set_parent(s->store, s->id, m->id, par) != 0) {
			snprintf(s->err, sizeof(s->err), "%s", store_error(s->store));
			return -1;
		}
		m->parent = par;
	}
	/* The path on screen goes through the kept replies, the others their alternatives. */
	if (g == 0 || (head = tree_column_end(s, g, col)) <= 0)
		return 0;
	if (store_session_set_head(s->store, s->id, head) != 0) {
		snprintf(s->err, sizeof(s->err), "%s", store_error(s->store));
		return -1;
	}
	return session_refresh(s, from);
}

/* Whether message i's compare group shows more than one column here. */
int
session_group_wide(const struct session *s, size_t i)
{
	int64_t g;
	size_t a, b, k;
	int slot = -1;

	if (i >= s->nmsgs || (g = s->msgs[i].compare_group) == 0)
		return 0;
	for (a = i; a > 0 && s->msgs[a - 1].compare_group == g; a--)
		;
	for (b = i + 1; b < s->nmsgs && s->msgs[b].compare_group == g; b++)
		;
	for (k = a; k < b; k++) {
		if (s->msgs[k].role == ROLE_USER || s->msgs[k].slot < 0)
			continue;
		if (slot >= 0 && s->msgs[k].slot != slot)
			return 1;
		slot = s->msgs[k].slot;
	}
	return 0;
}

/* Forget column slot's messages of group's round from the path, for a retry. */
int
session_retry_column(struct session *s, int64_t group, int slot)
{
	size_t i, k;

	if (s->nopen > 0 || group == 0 || slot < 0)
		return -1;
	for (i = 0; i < s->nmsgs; i++)
		if (s->msgs[i].compare_group == group && s->msgs[i].flat)
			return -1;
	for (i = k = 0; i < s->nmsgs; i++) {
		struct session_msg *m = &s->msgs[i];

		if (m->compare_group == group && m->role != ROLE_USER && m->slot == slot) {
			session_msg_free(m);
			continue;
		}
		if (k != i)
			s->msgs[k] = *m;
		k++;
	}
	s->nmsgs = k;
	return 0;
}

/* Where the rounds no column was kept of at the end of the path begin. */
size_t
session_unpicked_tail(const struct session *s)
{
	size_t i = s->nmsgs;

	while (i > 0 && s->msgs[i - 1].compare_group != 0 && s->msgs[i - 1].pick < 0)
		i--;
	return i;
}

/* The extent of message i's compare group replies. */
size_t
session_group_span(const struct session *s, size_t i, size_t *first)
{
	const struct session_msg *m;
	size_t a, b;

	if (i >= s->nmsgs)
		return 0;
	m = &s->msgs[i];
	if (m->compare_group == 0 || m->role != ROLE_ASSISTANT)
		return 0;
	for (a = i; a > 0 && s->msgs[a - 1].role == ROLE_ASSISTANT &&
	    s->msgs[a - 1].compare_group == m->compare_group; a--)
		;
	for (b = i + 1; b < s->nmsgs && s->msgs[b].role == ROLE_ASSISTANT &&
	    s->msgs[b].compare_group == m->compare_group; b++)
		;
	if (first != NULL)
		*first = a;
	return b - a;
}
