/*
 * libnatter: natter's conversation core as a C library. The same objects make the natter
 * binary, so a program linking it gets the config natter reads (providers, models, keys,
 * key pools, prices, fallbacks), the session store natter writes, and the same streaming.
 *
 *     cc prog.c $(pkg-config --cflags --libs natter)
 *
 * Call order
 * ----------
 *   n = natter_open(&opts, &err)      load the config and start the network thread
 *   c = natter_chat_new(n, model, &err)  a new conversation (natter_chat_open: a stored one)
 *   r = natter_send(c, prompt, &cbs, arg, &err)
 *        starts one reply; callbacks run inside natter_dispatch, on the caller's thread
 *   loop: poll natter_fd(n) for POLLIN, then natter_dispatch(n)
 *        (or natter_wait(n, timeout_ms), which does both) until the done callback ran
 *   natter_reply_free(r)  natter_chat_free(c)  natter_close(n)
 *
 * Threads: a natter handle and everything made from it belong to one thread at a time;
 * the library's own network thread never calls back. Nothing blocks but natter_wait.
 *
 * Ownership: every char ** err receives a message the caller frees with free(); strings
 * returned by accessors stay valid until the object they come from is freed. A reply
 * belongs to its chat: free it before the chat (natter_chat_free frees what is left). A
 * chat holds at most one reply streaming at a time.
 *
 * Trust: text passed to the text and reasoning callbacks is what the provider sent (UTF-8,
 * untrusted: strip control sequences before showing it on a terminal); what is stored in
 * the session has been made terminal-safe already. API keys are never stored or returned.
 */
#ifndef NATTER_H
#define NATTER_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define NATTER_API_VERSION 1

struct natter;
struct natter_chat;
struct natter_reply;

struct natter_options {
	const char *config;    /* a config file; NULL: $NATTER_CONFIG, else the user's file */
	const char *database;  /* NULL: $NATTER_DB, else ~/.local/share/natter/natter.db */
	int no_store;          /* keep conversations in memory only */
};

/* How a reply ended (or that it has not yet). */
enum natter_state {
	NATTER_COMPLETE,
	NATTER_STREAMING,
	NATTER_TRUNCATED,      /* the stream ended before the protocol's end */
	NATTER_CANCELLED,
	NATTER_ERROR,
	NATTER_INTERRUPTED,
};

/* A reply's figures; -1 where unknown. */
struct natter_figures {
	long ttft_ms;
	long duration_ms;
	long input_tokens;
	long output_tokens;
	double cost;           /* at the configured prices */
};

struct natter_callbacks {
	/* A piece of the reply (or of its reasoning), as the provider sent it. */
	void (*text)(struct natter_reply *r, const char *p, size_t n, void *arg);
	void (*reasoning)(struct natter_reply *r, const char *p, size_t n, void *arg);
	/* A line worth telling the user: a retry wait, a fallback to another model. */
	void (*notice)(struct natter_reply *r, const char *line, void *arg);
	/* Once: the reply is over and stored; its state and figures are final. */
	void (*done)(struct natter_reply *r, void *arg);
};

/* A summary of one stored conversation, for natter_sessions. */
struct natter_session {
	int64_t id;
	const char *title;
	const char *provider;
	const char *model;
	int64_t updated;       /* unix seconds */
	long messages;
};

/* Load the config and start the network thread; NULL with *err on failure. A broken
 * config file does not fail: its errors are in natter_warnings, the entries they are in
 * are left out and the rest applies. */
struct natter *natter_open(const struct natter_options *o, char **err);
/* The config's errors and warnings ("file:line:col: message"); *n gets their count. */
const char *const *natter_warnings(const struct natter *n, size_t *count);
/* Cancel every reply, stop the network thread and free everything. */
void natter_close(struct natter *n);
/* A descriptor that polls readable when natter_dispatch has work. */
int natter_fd(const struct natter *n);
/* Handle what the network thread delivered, running callbacks; returns how many replies
 * are still streaming. Never blocks. */
int natter_dispatch(struct natter *n);
/* Wait up to timeout_ms (-1: no limit) for work, then dispatch; returns as dispatch does. */
int natter_wait(struct natter *n, int timeout_ms);

/* The model spec resolves to, as "provider/id" (caller frees); NULL with *err. */
char *natter_resolve(struct natter *n, const char *spec, char **err);

/* A new conversation with model (NULL: the config's default); it is stored from its first
 * message. NULL with *err when the model cannot be used. */
struct natter_chat *natter_chat_new(struct natter *n, const char *model, char **err);
/* A stored conversation, with its model and history. */
struct natter_chat *natter_chat_open(struct natter *n, int64_t id, char **err);
/* Its id in the store, 0 until its first message is stored (or without a store). */
int64_t natter_chat_id(const struct natter_chat *c);
/* Set its system prompt (NULL: none). */
int natter_chat_set_system(struct natter_chat *c, const char *system);
void natter_chat_free(struct natter_chat *c);

/* Call each for the newest stored conversations (at most limit, 0: all) until it returns
 * non-zero; returns -1 with *err when the store cannot be read. */
int natter_sessions(struct natter *n, size_t limit,
    int (*each)(const struct natter_session *s, void *arg), void *arg, char **err);

/* Send prompt and start the reply; NULL with *err when refused before anything was sent
 * (a reply still streaming, parameters the model refuses, a history too long). */
struct natter_reply *natter_send(struct natter_chat *c, const char *prompt,
    const struct natter_callbacks *cbs, void *arg, char **err);
/* Stop a reply; it ends NATTER_CANCELLED with what arrived, through the done callback. */
void natter_cancel(struct natter_reply *r);
enum natter_state natter_reply_state(const struct natter_reply *r);
/* The failure as one line, or NULL. */
const char *natter_reply_error(const struct natter_reply *r);
/* "provider/id" of the model that answered (after any fallback). */
const char *natter_reply_model(const struct natter_reply *r);
/* The reply's text so far (terminal-safe, as stored). */
const char *natter_reply_text(const struct natter_reply *r, size_t *len);
void natter_reply_figures(const struct natter_reply *r, struct natter_figures *f);
void natter_reply_free(struct natter_reply *r);

#ifdef __cplusplus
}
#endif

#endif
