/*
 * The conversation the UI shows and edits: one session with its messages in memory, kept in
 * step with the store. The UI thread owns it. A reply is driven by the worker's events:
 *
 *   session_append_user(s, text)             the user's prompt (written at once)
 *   req = session_to_request(s, ...)         history that fits the model's context window
 *   session_begin_reply(s, provider, model)  an empty assistant row, state MSG_STREAMING
 *   session_reply_text / _reasoning (many)   deltas appended in memory, marked dirty
 *   session_reply_flush(s)                   on every loop turn; writes at most every
 *                                            flush_ms (default 200), so a kill loses less
 *   session_reply_end(s, state, ...)         final state, usage and timings, always written
 *
 * Messages live in s->msgs; the array may move when it grows, so hold indices, not
 * pointers. Each message carries a generation number that changes whenever its text or
 * state does, so the UI can cache wrapped lines per message. When the session has a store,
 * its row is created with the first message (an empty new chat leaves nothing on disk).
 */
#ifndef NATTER_SESSION_H
#define NATTER_SESSION_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "request.h"
#include "store.h"
#include "usage.h"

struct provider;

struct session_msg {
	int64_t id;             /* row id in the store; 0 when not stored */
	enum role role;
	struct buf content;
	struct buf reasoning;
	char *provider;
	char *model;
	int64_t created;        /* unix milliseconds */
	enum msg_state state;
	char *error;
	char *finish_reason;
	long input_tokens;      /* -1 when unknown */
	long output_tokens;
	double cost;            /* -1 when unknown */
	long ttft_ms;           /* -1 when unknown */
	long duration_ms;
	int64_t compare_group;  /* 0 when none */
	unsigned gen;           /* bumped on every change */
};

/* A clock in milliseconds; injected so tests can drive flush throttling. */
typedef int64_t (*session_clock_fn)(void *arg);

struct session {
	struct store *store;    /* NULL: an in-memory session, never written */
	int64_t id;             /* 0 until stored */
	char *title;
	char *provider;
	char *model;
	char *system;           /* NULL when none */
	int64_t created;        /* unix seconds */
	int64_t updated;
	struct session_msg *msgs;
	size_t nmsgs;
	size_t cap;
	long reply;             /* index of the streaming reply, -1 when none */
	int dirty;              /* reply has unsaved deltas */
	long flush_ms;          /* minimum gap between two streaming writes */
	int64_t last_flush;     /* clock time of the last write */
	int64_t reply_start;    /* clock time of session_begin_reply */
	session_clock_fn clock;
	void *clock_arg;
	char err[256];          /* the last store error, "" when none */
};

#define SESSION_FLUSH_MS 200

/* A new, empty session that is stored (in st, when not NULL) once it gets a message. */
struct session *session_new(struct store *st, const char *provider, const char *model);
/* Load a stored session with all its messages, or NULL when id is unknown. */
struct session *session_load(struct store *st, int64_t id);
void session_free(struct session *s);
void session_set_clock(struct session *s, session_clock_fn clock, void *arg);
int session_set_title(struct session *s, const char *title);
int session_set_system(struct session *s, const char *system);
int session_set_model(struct session *s, const char *provider, const char *model);

/* Append the user's prompt; returns its index. The first prompt also names the session. */
size_t session_append_user(struct session *s, const char *text);
/* Start the assistant's reply as MSG_STREAMING; returns its index. */
size_t session_begin_reply(struct session *s, const char *provider, const char *model);
void session_reply_text(struct session *s, const char *p, size_t n);
void session_reply_reasoning(struct session *s, const char *p, size_t n);
/* Write the open reply when it has unsaved deltas and flush_ms passed since the last
 * write. Returns 1 when it wrote, 0 when there was nothing to do yet, -1 on a store error. */
int session_reply_flush(struct session *s);
/* Finish the open reply: final state, usage (NULL: unknown), cost (-1: unknown), finish
 * reason and error text (either may be NULL). Timings come from the clock. */
int session_reply_end(struct session *s, enum msg_state state, const struct usage *usage,
    double cost, const char *finish_reason, const char *error);

/* The tokens text is estimated to take: bytes / 4 rounded up. An estimate only; real
 * tokenizers differ by model, and UTF-8 heavy text costs more than this says. */
size_t session_estimate_tokens(const char *text, size_t len);
/*
 * The request for the next reply: the system prompt and the history, without replies that
 * failed or were cancelled or interrupted before any text, and without a reply still
 * streaming with no text. When context_tokens is not 0, the oldest exchanges (a user message with the
 * replies after it) are left out until the estimate fits the window minus max_tokens when
 * params sets it. The system prompt and the last user message are always kept, even if
 * they alone do not fit. *dropped (when not NULL) receives how many messages were left out.
 */
struct request *session_to_request(const struct session *s, const struct provider *p,
    const char *model, const struct params *params, size_t context_tokens, size_t *dropped);

/* A session title from a prompt: its first non-blank line, trimmed, at most
 * SESSION_TITLE_COLS terminal columns, cut at a character boundary with "…". */
#define SESSION_TITLE_COLS 48
char *session_title_from_prompt(const char *prompt);

#endif
