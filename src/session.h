/*
 * The conversation the UI shows and edits: one session with its messages in memory, kept in
 * step with the store. The UI thread owns it. A reply is driven by the worker's events:
 *
 *   session_append_user(s, text)             the user's prompt (written at once)
 *   req = session_request_fit(s, ...)        history that fits the budget (turn.c decides it)
 *   session_begin_reply(s, provider, model)  an empty assistant row, state MSG_STREAMING
 *   session_reply_text / _reasoning (many)   deltas appended in memory, marked dirty
 *   session_reply_flush(s)                   on every loop turn; writes the first deltas
 *                                            at once, then at most every flush_ms
 *                                            (default 200), so a kill loses less
 *   session_reply_end(s, state, ...)         final state, usage and timings, always written
 *
 * A reply longer than STORE_SPILL_AT (store.h) is not rewritten at each flush: only what
 * came since the last write is appended. With drop_text set (a front end that prints the
 * text and never reads it back) the stored part of an open reply also leaves memory: the
 * message then holds only the text not stored yet, after `dropped` bytes.
 *
 * A side-by-side comparison streams several replies at once, each addressed by its index:
 *
 *   i = session_append_round(s, text, &group)     the prompt, in a new compare group
 *   r = session_reply_open(s, prov, model, group) one per column, in column order
 *   session_reply_text_at / _reasoning_at(s, r)   deltas of that column
 *   session_reply_close(s, r, state, ...)         its final state
 *   session_pick(s, from, col)                    keep column col of every round from
 *                                                 message from on
 *
 * A compare group is a user prompt followed by one reply per column; the group's replies
 * in order are its columns. Until a column is picked, neither the prompt nor the replies
 * of a group are part of the main conversation (session_request_fit leaves them out);
 * once one is, the prompt and that column's reply are. session_request_fit with a column builds
 * the history of one column: the main conversation before the comparison, then every prompt
 * of the comparison with that column's own replies.
 *
 * In the stored tree every column's reply follows the round's prompt, so the replies are
 * alternatives of one turn; a column's tool calls and later replies follow its reply, and
 * the next round's prompt follows the line of the column kept (column 1's until one is).
 * A round no column was kept of is loaded whole, side by side; session_pick makes the
 * path on screen go through the kept column (the other replies become its ‹k/n›
 * alternatives), and session_retry_column lets one column answer again alone. Rounds
 * stored before that (their replies one after another) keep their layout.
 *
 * Messages live in s->msgs; the array may move when it grows, so hold indices, not
 * pointers. A long session can be opened in part (session_open): s->msgs is then the end
 * of its path, and session_load_older loads the messages before it, a page at a time, as
 * the front end needs them (every index moves up by as many: s->prepended tells). A turn
 * loads the rest first, since the request holds the whole path. Each message carries a generation number that changes whenever its text or
 * state does, so the UI can cache wrapped lines per message. When the session has a store,
 * its row is created with the first message (an empty new chat leaves nothing on disk).
 *
 * Nothing shown is left unstored for good. A write that fails marks the session stale, and
 * session_sync (run at once, and again by the UI until it works) stores what is missing:
 * messages never inserted, messages whose last write failed. When the session's row is
 * gone (another natter deleted it: an insert then breaks its foreign key, an update finds
 * no row), the whole conversation as it is in memory is saved into a new session and
 * lost_id says which one vanished. A session made without a store (the database could not
 * be opened) is saved whole by session_attach once a store opens.
 */
#ifndef NATTER_SESSION_H
#define NATTER_SESSION_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "request.h"
#include "store.h"
#include "usage.h"

struct attach;
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
	int64_t compare_group;  /* 0 when none; negative for groups of an unstored session */
	int slot;               /* a compared reply's column (0-based), else -1 */
	int pick;               /* in a compare group: the column it kept, -1 when none */
	int pinned;             /* always sent, whatever the context budget drops */
	unsigned gen;           /* bumped on every change */
	int stale;              /* its last write failed: session_sync writes it again */
	char *notice;           /* a line the UI shows under it (never stored), NULL when none */
	char *tool_id;          /* ROLE_TOOL_CALL, ROLE_TOOL: the call's id, else NULL */
	char *tool_name;        /* the tool's name */
	int tool_error;         /* ROLE_TOOL: the call failed or was refused */
	struct attach **atts;   /* ROLE_USER: the files it carries, in order (attach.h) */
	size_t natts;
	int nalt, alt;          /* it is alternative alt of nalt (1-based) among the stored
	                         * messages following the one before it: a regenerated reply
	                         * or an edited prompt keeps the earlier one as a sibling */
	int shared;             /* a row of the session this one was forked from */
	int64_t parent;         /* the stored message it follows (STORE_FIRST: none), 0 while
	                         * not stored or when implied by order (rows from before the
	                         * tree) */
	int flat;               /* in a compare group stored one reply after another (before
	                         * a round's replies were siblings): what follows it follows
	                         * it, whatever column is kept */
	int cols;               /* in a compare group: the columns it has as stored (0: not
	                         * known; a round shown whole counts them itself) */
	char *signature;        /* the provider's signature of its reasoning (Anthropic's
	                         * signed thinking), sent back with it to the same model;
	                         * NULL when none */
	size_t stored;          /* bytes of its text the store has (as of its last write) */
	int spill;              /* a long reply: new text is appended to the stored text */
	size_t dropped;         /* bytes of its text no longer in memory (session.drop_text):
	                         * content holds the text from there on */
	/* While the reply streams. */
	int unsaved;            /* deltas not written yet */
	int flushed;            /* written with its first deltas: later writes are throttled */
	int64_t t_start;        /* clock time it was opened */
	int64_t t_flush;        /* clock time of its last write */
};

/* The part of a path not loaded (before msgs[0]), counted on demand without its text:
 * state SESSION_COUNT_NONE until session_count_step starts, _RUNNING while the walk goes
 * on from next, _DONE once sums holds all of it. */
enum { SESSION_COUNT_NONE, SESSION_COUNT_RUNNING, SESSION_COUNT_DONE };
struct session_count {
	int state;
	int64_t next;
	struct store_path_sums sums;
};

/* How many replies may stream at once in one session. */
#define SESSION_OPEN_MAX 8

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
	long open[SESSION_OPEN_MAX]; /* every reply still streaming (the reply above too) */
	size_t nopen;
	int dirty;              /* some open reply has unsaved deltas */
	long flush_ms;          /* minimum gap between two writes of one streaming reply */
	int64_t local_group;    /* the last group id given out without a store (negative) */
	session_clock_fn clock;
	void *clock_arg;
	double token_ratio;     /* provider tokens per estimated token, learnt by turns; 0: 1 */
	char *summary;          /* context.policy summarize: the rolling summary, or NULL */
	size_t summary_covers;  /* how many leading messages the summary stands for */
	long view_from;         /* the first message the last request sent, -1 when unknown */
	char err[256];          /* the last store error, "" when none */
	int stale;              /* some of the conversation is not stored yet */
	int syncing;            /* inside session_sync: failures do not start another */
	int64_t lost_id;        /* a stored id that vanished and was saved anew; the UI clears it */
	int64_t fork_from;      /* a fork: the message of another session it goes on from */
	int64_t above_id;       /* opened in part: the message before msgs[0] on the path,
	                         * not loaded; 0 when msgs starts at the path's first one */
	size_t front;           /* free slots before msgs[0] in its allocation */
	struct session_count count; /* the messages before msgs[0] */
	/* Called after k older messages were loaded before msgs[0]: every index held into
	 * msgs moved up by k (the session's own are moved already). */
	void (*prepended)(void *arg, size_t k);
	void *prepended_arg;
	int drop_text;          /* an open reply keeps in memory only the text not stored yet
	                         * (none without a store): for a front end that prints the
	                         * text and never reads it back (natter ask) */
};

#define SESSION_FLUSH_MS 200

/* A new, empty session that is stored (in st, when not NULL) once it gets a message. */
struct session *session_new(struct store *st, const char *provider, const char *model);
/* Load a stored session with all its messages, or NULL when id is unknown. */
struct session *session_load(struct store *st, int64_t id);
/*
 * Long sessions, in pages (session-page.c). session_open loads the last n messages of the
 * path (0: all of it; more when needed so that msgs[0] is a prompt, an exchange never
 * split); session_load_older loads at least n more before msgs[0] on the same terms (0:
 * the rest) and returns how many, -1 (s->err says why) on failure. session_partial says
 * whether some are not loaded. Loaded page by page, the messages are what session_load
 * loads at once.
 */
#define SESSION_PAGE 32
struct session *session_open(struct store *st, int64_t id, size_t n);
long session_load_older(struct session *s, size_t n);
int session_partial(const struct session *s);
/* Load the path again from message i on (after the store's head moved: an alternative
 * chosen), keeping msgs[0..i); 0, or -1 (s->err says why). */
int session_refresh(struct session *s, size_t i);
/* Count at most limit more of the messages not loaded (0: all); 1 when they are all
 * counted (s->count), 0 when there are more, -1 on failure. */
int session_count_step(struct session *s, size_t limit);
/* The position of message i on the whole path (i plus the messages not loaded before it,
 * counted first when they are not yet). */
size_t session_position(struct session *s, size_t i);
void session_free(struct session *s);
void session_set_clock(struct session *s, session_clock_fn clock, void *arg);
int session_set_title(struct session *s, const char *title);
int session_set_system(struct session *s, const char *system);
int session_set_model(struct session *s, const char *provider, const char *model);

/* A tool call the last reply made, stored at once as a message of its own (role
 * ROLE_TOOL_CALL, content: its arguments' JSON; signature: Gemini's, or NULL); returns its
 * index. */
size_t session_append_tool_call(struct session *s, const char *id, const char *name,
    const char *args, const char *signature, const char *provider, const char *model,
    int64_t group, int slot);
/* Replace the arguments of tool call message i (the user edited them before it ran). */
int session_set_tool_args(struct session *s, size_t i, const char *args);
/* The result of call id (ROLE_TOOL, content: its text), with how long it ran (-1:
 * unknown); returns its index. */
size_t session_append_tool_result(struct session *s, const char *id, const char *name,
    const char *text, int is_error, long duration_ms, int64_t group, int slot);

/* Forget messages n and after (none may be streaming), in memory and in the store, with
 * every stored message that follows them. */
int session_truncate(struct session *s, size_t n);
/*
 * History that branches. The session's messages are the path on screen: a stored session
 * is a tree of messages (store-tree.c) and s->msgs the line from its first message to the
 * head. session_branch drops messages n and after from the path without deleting them:
 * the next message appended follows message n - 1 as a new alternative to message n
 * (regenerate, edit and resend). A rolling summary of more than n messages is dropped.
 */
void session_branch(struct session *s, size_t n);
/* Show the alternative dir (-1: the one before, 1: the one after) of message i, with the
 * newest line of messages after it, and remember it as the path on screen. A shared row
 * of a fork switches among the fork's own alternatives of it; a reply of a round shown
 * side by side among its column's (the latest round only); a compared reply shown alone
 * becomes its round's kept column. 0 when switched, 1 when there is none that way, -1
 * (s->err says why) on failure. */
int session_switch(struct session *s, size_t i, int dir);
/* A new stored session going on from message i, sharing the stored history up to it;
 * its id, or -1 (s->err says why). */
int64_t session_fork(struct session *s, size_t i);
/* Store what a failed write left out, or the whole conversation in a new session when its
 * row is gone (lost_id is then set). 0 when everything is stored, -1 (s->err says why)
 * when it is not: call again later. */
int session_sync(struct session *s);
/* Give a session made without a store the store st and save the whole conversation in it;
 * as session_sync returns. */
int session_attach(struct session *s, struct store *st);
/* Whether some of the conversation is not stored: no store, or a write that failed. */
int session_unsaved(const struct session *s);

/* Append the user's prompt; returns its index. The first prompt also names the session. */
size_t session_append_user(struct session *s, const char *text);
/* The same with n files (each gets one more reference), stored with the prompt. */
size_t session_append_user_files(struct session *s, const char *text,
    struct attach *const *atts, size_t n);
/* Start the assistant's reply as MSG_STREAMING; returns its index. */
size_t session_begin_reply(struct session *s, const char *provider, const char *model);
void session_reply_text(struct session *s, const char *p, size_t n);
void session_reply_reasoning(struct session *s, const char *p, size_t n);
/* Write every open reply that has unsaved deltas: at once for its first deltas, later
 * when its last write is flush_ms old.
 * Returns 1 when it wrote, 0 when there was nothing to do yet, -1 on a store error. */
int session_reply_flush(struct session *s);
/* Finish the open reply: final state, usage (NULL: unknown), cost (-1: unknown), finish
 * reason and error text (either may be NULL). Timings come from the clock. */
int session_reply_end(struct session *s, enum msg_state state, const struct usage *usage,
    double cost, const char *finish_reason, const char *error);

/* Append the prompt of a comparison round in a new compare group (*group gets its id);
 * returns its index. */
size_t session_append_round(struct session *s, const char *text, int64_t *group);
/* The same with n files, as session_append_user_files. */
size_t session_append_round_files(struct session *s, const char *text,
    struct attach *const *atts, size_t n, int64_t *group);
/* True when reply i streams in this process; a stored reply still marked streaming that is
 * not open here belongs to another natter that is still running. */
int session_is_open(const struct session *s, size_t i);
/* Start a reply as MSG_STREAMING in group (0: none) beside any other open ones; it is the
 * group's next column. Returns its index. */
size_t session_reply_open(struct session *s, const char *provider, const char *model,
    int64_t group);
/* The same in column slot of the group (a column's next reply in its tool loop). */
size_t session_reply_open_slot(struct session *s, const char *provider, const char *model,
    int64_t group, int slot);
void session_reply_text_at(struct session *s, size_t i, const char *p, size_t n);
void session_reply_reasoning_at(struct session *s, size_t i, const char *p, size_t n);
/* Finish open reply i as session_reply_end does. */
int session_reply_close(struct session *s, size_t i, enum msg_state state,
    const struct usage *usage, double cost, const char *finish_reason, const char *error);
/* How a reply ended, for session_reply_finish. */
struct reply_end {
	enum msg_state state;
	const struct usage *usage;   /* NULL: unknown */
	double cost;                 /* -1: unknown */
	const char *finish_reason;   /* may be NULL */
	const char *error;           /* may be NULL */
	long ttft_ms;                /* -1: unknown */
	long duration_ms;            /* -1: from the session's clock */
	const char *signature;       /* the signature of the reply's reasoning, which must be
	                              * the reasoning as the provider sent it; NULL: none */
};

/* Finish open reply i with every final figure in one write (the turn's way). */
int session_reply_finish(struct session *s, size_t i, const struct reply_end *e);

/* Keep column col of every compare group from message from on: each round's prompt then
 * follows the kept column's line of the round before, and a stored session's path on
 * screen goes through the kept replies (the session is loaded again: s->msgs holds that
 * path, the other replies being their alternatives). Returns 0, or -1 when the store
 * failed (the picks in memory are changed all the same). */
int session_pick(struct session *s, size_t from, int col);
/* Forget column slot's messages of the round of group from the path (they stay stored)
 * so that the column can answer again alone: the next session_reply_open_slot of that
 * column goes back into the round's row of replies, its earlier reply becoming an
 * alternative of it. -1 (nothing changed) while a reply streams or when the round keeps
 * its replies one after another (stored before rounds were trees). */
int session_retry_column(struct session *s, int64_t group, int slot);
/* Whether message i's compare group shows more than one column (a round side by side),
 * rather than the one reply its path goes through. */
int session_group_wide(const struct session *s, size_t i);
/* Where the rounds no column was kept of at the end of the path begin; s->nmsgs when it
 * does not end in one. */
size_t session_unpicked_tail(const struct session *s);
/* How many replies the compare group of message i has (0 when i is no compared reply);
 * *first gets the index of the group's first reply. */
size_t session_group_span(const struct session *s, size_t i, size_t *first);

/* The tokens text is estimated to take: bytes / 4 rounded up. An estimate only; real
 * tokenizers differ by model, and UTF-8 heavy text costs more than this says. */
size_t session_estimate_tokens(const char *text, size_t len);
/* Fitting a history into a context budget (session_request_fit). */
struct session_fit {
	size_t budget;   /* in: estimated tokens the history may take; 0: no limit */
	size_t skip;     /* in: messages before this index are not sent (a summary holds them) */
	const char *note;/* in: text sent after the system prompt (that summary), or NULL */
	size_t dropped;  /* out: messages left out to fit */
	size_t tokens;   /* out: the estimate of what is sent */
	size_t total;    /* out: the estimate of the whole history (note and skip aside) */
	size_t first;    /* out: index of the first message sent */
};

/* Replace the rolling summary: text stands for the first covers messages. */
int session_set_summary(struct session *s, const char *text, size_t covers);
/* Pin or unpin message i (stored at once); -1 when i is out of range or the store failed. */
int session_set_pinned(struct session *s, size_t i, int pinned);
/* Index of the first message of the last keep exchanges (0 when there are no more). */
size_t session_keep_from(const struct session *s, size_t keep);

/* The request for the next reply of the main conversation (col -1, from s->nmsgs) or of
 * column col of a comparison that starts at message from, with the oldest exchanges left
 * out until it fits fit->budget. The system prompt and the last user message always stay.
 * A reply with signed reasoning from the same provider and model carries it along
 * (request_set_thinking); the adapter decides whether to send it. */
struct request *session_request_fit(const struct session *s, const struct provider *p,
    const char *model, const struct params *params, size_t from, int col,
    struct session_fit *fit);

/* Append the shortest name telling entry k of n (provider, model) pairs from the others:
 * its model id alone, or provider/model when another entry has the same id (openai and
 * anthropic both serving "mock-model"). */
void session_short_name(const char *const *prov, const char *const *model, size_t n,
    size_t k, struct buf *b);
/* Append the model a stored session is listed under: its own when it answered; for a
 * comparison session whose own model never did, the models that answered ("compare: a, b",
 * or the one alone). */
void session_row_label(const struct session_row *r, struct buf *b);

/* A session title from a prompt: its first non-blank line, trimmed, at most
 * SESSION_TITLE_COLS terminal columns, cut at a character boundary with "…". */
#define SESSION_TITLE_COLS 48
char *session_title_from_prompt(const char *prompt);

#endif
