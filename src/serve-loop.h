/*
 * The serve loop: the one thread of natter serve that owns the config, the worker, the
 * session store, every session and every turn. It takes the requests MHD's side queued
 * (serve.h), answers each as a front end of the conversation core (a chat request is a
 * session and one turn, like `natter ask`), and streams the turn's deltas back as events.
 *
 * A chat request holds its answer's head until the reply's first token (or reasoning)
 * arrives, so that a failure before it is an HTTP status (400, 404, 429 with retry-after
 * when every key of the pool rests, 502, 504) rather than an event; after it, a failure is
 * an error event. Such an early failure leaves nothing stored: the request's new session
 * is deleted, or a continued one gets its prompt back off. A client that goes away cancels
 * the turn at once; the partial reply is stored as cancelled.
 */
#ifndef NATTER_SERVE_LOOP_H
#define NATTER_SERVE_LOOP_H

struct config;
struct serve;
struct store;

/* Answer requests until sigfd is readable (SIGINT, SIGTERM), then cancel every turn,
 * wait briefly for them to end and answer what is still queued with 503. st may be NULL
 * (nothing is stored). Returns 0. */
int serve_loop_run(struct config *cfg, struct store *st, struct serve *srv, int sigfd);

#endif
