/*
 * The tool rounds of a turn (turn-tools.c), private to turn.c: the hooks turn.c calls at
 * its points of the reply's life, and the two of turn.c the rounds call back.
 */
#ifndef NATTER_TURN_TOOLS_H
#define NATTER_TURN_TOOLS_H

#include "turn.h"

struct request;

/* Declare the turn's tools in a request about to go out. */
void turn_tools_declare(const struct turn *t, struct request *req);
/* A reply ended with ev: start a tool round when it made calls; 1 when one started (the
 * turn goes on), 0 when the turn is over. */
int turn_tools_begin(struct turn *t, const struct wevent *ev);
/* turn_cancel during a round: stop the running calls, close the rest, complete. */
void turn_tools_cancel(struct turn *t);
void turn_tools_free(struct turn *t);

/* turn.c: open the next reply and send it (0, or -1 with *err); mark the turn done and
 * call its completion. */
int turn_resubmit(struct turn *t, char **err);
/* The compare group of the turn's messages (0: the main conversation). */
int64_t turn_group(const struct turn *t);
void turn_complete(struct turn *t);

#endif
