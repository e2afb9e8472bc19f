/*
 * What the session's own files share (session.c, session-page.c, session-tree.c): the
 * message array's growth and release, the column a loaded reply takes, and the tree's
 * rules for which message a new one follows. Nothing outside src/session*.c includes this.
 */
#ifndef NATTER_SESSION_INTERNAL_H
#define NATTER_SESSION_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "session.h"

/* Grow the message array by one zeroed message at its end and return it. */
struct session_msg *session_push(struct session *s);
/* Free what one message holds. */
void session_msg_free(struct session_msg *m);
/* The column reply i would take in group: one after the group's replies just before it. */
int session_next_slot(const struct session *s, size_t i, int64_t group);
/* Free the message array (the messages themselves are freed first). */
void session_msgs_release(struct session *s);
/* session.c: note a store failure (s->err, stale) and try to repair at once. */
void session_store_failed(struct session *s);
/* session-tree.c: mark the rounds loaded as one reply after another (stored before rounds
 * were trees). */
void session_mark_flat(struct session *s);
/* session-tree.c: the stored message i follows (STORE_FIRST: none; 0 when that one is
 * not stored yet); *first, when not NULL, says it is a column's first reply of its round. */
int64_t session_parent_of(const struct session *s, size_t i, int *first);
/* session-tree.c: give stored message i its place among its alternatives. */
void session_number(struct session *s, size_t i, int first);
/* session-tree.c: the index a new reply of column slot of group goes at. */
size_t session_column_place(const struct session *s, int64_t group, int slot);

#endif
