/*
 * The conversation API's stored side: list, read and delete conversations, which are
 * natter sessions. Each answers the connection whole; called on the serve loop's thread.
 * A NULL store (it could not be opened) answers 503.
 */
#ifndef NATTER_SERVE_CONV_H
#define NATTER_SERVE_CONV_H

struct serve_conn;
struct store;

/* GET /api/conversations (?limit=N). */
void serve_conv_list(struct store *st, struct serve_conn *c);
/* GET /api/conversations/{id}. */
void serve_conv_get(struct store *st, struct serve_conn *c);
/* DELETE /api/conversations/{id}; busy answers 409. */
void serve_conv_delete(struct store *st, struct serve_conn *c, int busy);

#endif
