/*
 * natter serve's HTTP side: a libmicrohttpd daemon whose own thread owns every socket, and
 * the hand-over of requests to the one thread that owns the config, the worker, the store,
 * every session and every turn (the serve loop, serve-loop.c). No HTTP is parsed here by
 * hand: MHD reads requests and writes responses (chunked for streams).
 *
 * Contract
 * --------
 * Threads: MHD's polling thread runs the callbacks of serve.c (the access handler, the
 * stream reader, the completion notice). The loop thread calls everything declared below
 * except serve_start, which runs before it. struct serve_conn is shared by both and every
 * field after "shared" is read and written under srv->mu only; the request fields before
 * it are written by MHD's thread before the connection is handed over and never change.
 *
 * Call order (loop thread):
 *   srv = serve_start(&opts, &err)     listens; MHD's thread starts answering
 *   poll() on serve_fd(srv)            readable when requests wait or a client went away
 *                                      (drain it with serve_drain)
 *   c = serve_next(srv)                the next request for the loop (NULL: none); the
 *                                      loop holds a reference until serve_conn_release
 *   serve_conn_reply(c, ...)           answers it whole, or
 *   serve_conn_stream(c, ...), then serve_conn_write(c, ...)..., serve_conn_end(c)
 *   serve_conn_release(c)              once the loop has answered (or given up on) it
 *   serve_stop(srv)                    after every held connection was answered: resumes
 *                                      what is suspended, stops MHD's thread, frees all
 *
 * MHD's side: a request is routed, authenticated (bearer tokens) and size-checked on its
 * own thread, which answers at once what needs no state: CORS preflights, /health, 401,
 * 404, 405, 413 and 503 while stopping. Every other request, with its whole body, is
 * suspended and queued for the loop (and the loop is woken); the loop's answer resumes it.
 * A stream's reader hands out what serve_conn_write queued and suspends the connection
 * when nothing is left, so an idle stream costs no CPU; the next write resumes it.
 *
 * Client hang-ups: MHD sees no disconnect while a connection is suspended, so the loop
 * polls the socket of every suspended connection it holds for POLLRDHUP (serve_conn_fds);
 * a hang-up, or MHD's completion notice for a connection that did not complete, sets
 * gone, which the loop reads with serve_conn_gone to cancel the upstream turn at once.
 * A suspended connection cannot be closed by MHD, so its descriptor stays valid while
 * the loop polls it.
 *
 * Ownership: a connection is freed when MHD's completion notice and serve_conn_release
 * have both come. Strings passed in are copied.
 */
#ifndef NATTER_SERVE_H
#define NATTER_SERVE_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

struct serve;
struct pollfd;

/* The endpoints, as MHD's side routes them. */
enum serve_route {
	ROUTE_NONE,
	ROUTE_HEALTH,
	ROUTE_MODELS,            /* GET /v1/models */
	ROUTE_CHAT,              /* POST /v1/chat/completions */
	ROUTE_S2_STREAM,         /* POST /api/chat/stream */
	ROUTE_S2_LIST,           /* GET /api/conversations */
	ROUTE_S2_GET,            /* GET /api/conversations/{id} */
	ROUTE_S2_DELETE,         /* DELETE /api/conversations/{id} */
};

struct serve_opts {
	const char *host;               /* numeric address to listen on */
	int port;                       /* 0: any free one */
	char **tokens;                  /* accepted bearer tokens; none: no check */
	size_t ntokens;
	char **cors;                    /* allowed origins ("*": any) */
	size_t ncors;
	long max_body;                  /* bytes */
};

struct serve_conn {
	/* The request (MHD's thread, before the hand-over). */
	struct serve *srv;
	enum serve_route route;
	char method[8];
	char *path;
	int64_t conv;                   /* ROUTE_S2_GET/DELETE: the id in the path */
	long limit;                     /* ROUTE_S2_LIST: ?limit=N, 0 when none */
	struct buf body;
	int fd;                         /* the socket, for the hang-up poll */
	int64_t t0;                     /* monotonic ms when the request came */
	char *cors;                     /* Access-Control-Allow-Origin value, or NULL */
	int too_big;
	/* Shared (srv->mu). */
	struct MHD_Connection *mc;      /* NULL once MHD is done with it */
	int refs;
	int queued;                     /* handed to the loop */
	int suspended;
	int head;                       /* the loop gave the status and headers */
	int status;
	char *ctype;
	char *retry_after;
	int streaming;
	int answered;                   /* MHD queued the response */
	struct buf out;                 /* the body, or the stream bytes not sent yet */
	int eof;                        /* nothing more will be written */
	int gone;                       /* the client went away */
	char *log_model;                /* for the request's log line */
	long log_ttft, log_tokens;
	struct serve_conn *next;        /* the loop's queue */
};

/* Start listening; NULL with *err (caller frees) when it cannot. */
struct serve *serve_start(const struct serve_opts *o, char **err);
/* The port it listens on. */
int serve_port(const struct serve *srv);
/* The descriptor the loop polls (POLLIN), and emptying it. */
int serve_fd(const struct serve *srv);
void serve_drain(struct serve *srv);
/* The next queued request, or NULL. */
struct serve_conn *serve_next(struct serve *srv);
/* Answer new requests 503 from now on (the loop is stopping). */
void serve_quiesce(struct serve *srv);
void serve_stop(struct serve *srv);

/* A whole answer: status, content type, body; retry_after may be NULL. */
void serve_conn_reply(struct serve_conn *c, int status, const char *ctype, const char *body,
    size_t len, const char *retry_after);
/* Start a streamed answer (chunked). */
void serve_conn_stream(struct serve_conn *c, int status, const char *ctype);
void serve_conn_write(struct serve_conn *c, const char *p, size_t n);
void serve_conn_end(struct serve_conn *c);
/* Whether the client went away. */
int serve_conn_gone(struct serve_conn *c);
/* What the request's log line says about the reply (model may be NULL; -1: unknown). */
void serve_conn_note(struct serve_conn *c, const char *model, long ttft_ms, long tokens);
void serve_conn_release(struct serve_conn *c);
/* The connections of v[0..n) to poll for a hang-up: fills fds (POLLRDHUP) and who[] for
 * each suspended one still connected; returns how many. */
size_t serve_conn_fds(struct serve_conn **v, size_t n, struct pollfd *fds,
    struct serve_conn **who);
/* A hang-up seen by the loop's poll. */
void serve_conn_hangup(struct serve_conn *c);

#endif
