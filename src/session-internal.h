/*
 * What the session's own files share (session.c, session-tree.c). Nothing outside them
 * includes this.
 */
#ifndef NATTER_SESSION_INTERNAL_H
#define NATTER_SESSION_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "session.h"

/* session.c: note a store failure (s->err, stale) and try to repair at once. */
void session_store_failed(struct session *s);
/* session.c: free what one message holds. */
void session_msg_free(struct session_msg *m);
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
