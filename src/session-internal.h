/*
 * What session.c and session-page.c share: the message array's growth and release, and
 * the column a loaded reply takes. Nothing outside src/session*.c includes this.
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

#endif
