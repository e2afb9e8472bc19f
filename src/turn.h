/*
 * One turn: the life of one reply from the moment it is asked for to its stored end, for
 * one model or one column of a comparison. Every front end (the interface, comparison
 * columns, `natter ask`, `natter compare`, the library) drives replies only through turns;
 * nothing else touches the worker, fallbacks or the store for a reply.
 *
 * Contract
 * --------
 * Call order (all on the front end's thread, the one that owns the session):
 *   t = turn_start(env, sess, spec, cbs, arg, &err)
 *        layers the parameters (config < model < session < message) and checks them
 *        against the model, opens the reply in the session (state streaming), fits the
 *        history into the model's context window by the context policy and submits it to
 *        the worker. With context.policy summarize and a summary that fell behind, a
 *        summary request to the same model comes first (TURN_WAIT says so); the summary is
 *        kept with the session and the reply follows. NULL with *err (caller frees) when it was refused: then nothing was
 *        sent and the session is unchanged; cbs->free(arg) is not called.
 *   for every event the worker hands over: turn_event(t, ev)
 *        returns 1 when ev belongs to t (the caller still frees ev), 0 when not. It folds
 *        text into the session, follows retries and fallbacks, and calls back:
 *          cbs->update(t, what, p, n, arg)  TURN_TEXT / TURN_REASONING with the delta as
 *                                           the provider sent it (p, n), TURN_WAIT when a
 *                                           retry or key wait starts, TURN_FALLBACK when
 *                                           another model takes over (t->note says so)
 *          cbs->complete(t, arg)            once: the reply is over and its final state
 *                                           and figures are stored
 *   session_reply_flush(sess) on every loop turn (the session throttles the writes)
 *   turn_cancel(t)    at any moment: the worker stops, the reply ends cancelled with what
 *                     arrived, through the ordinary completion
 *   turn_free(t)      after completion, or to abandon a turn (its stream is cancelled, its
 *                     reply closed as cancelled); calls cbs->free(arg) when set.
 *
 * Tool rounds (spec.tools, turn-tools.c): a reply that calls tools does not complete the
 * turn. Its calls are stored as messages of their own and fill t->calls (TURN_TOOL); an
 * allowed tool runs at once through tools->run, another waits for the user (TURN_APPROVE
 * with the call's index as n, answered by turn_approve). The front end reports each
 * result with turn_tool_done; when the round's last call has one, the next reply goes out
 * with every call and result in its history, and so on until a reply calls nothing. The
 * loop stops at tools->max_rounds, when one round of calls repeats TURN_MAX_REPEATS times
 * in a row (t->note says so), or at turn_cancel, which answers every open call as
 * cancelled; cbs->complete comes once, at the very end.
 *
 * Ownership: env, the session and the config are borrowed and must outlive the turn; the
 * spec is copied. The fields of struct turn are for the front end to read; only turn.c
 * writes them. Final figures (ttft, duration, tokens, cost, finish state) are written to
 * the session and the store once, by the turn, and what the front end shows is read from
 * the same fields.
 */
#ifndef NATTER_TURN_H
#define NATTER_TURN_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "request.h"
#include "store.h"
#include "text.h"
#include "usage.h"

struct apierr;
struct config;
struct model;
struct provider;
struct session;
struct turn;
struct wevent;
struct worker;

/* What every turn of one front end shares (borrowed). */
struct turn_env {
	struct config *cfg;
	struct worker *w;
	int64_t (*now_ms)(void);  /* a monotonic clock; NULL: CLOCK_MONOTONIC */
};

/* A tool the model may call, as the front end offers it (borrowed). */
struct turn_tool {
	const char *name;             /* as the model sees it */
	const char *description;
	const char *schema;           /* its parameters' JSON Schema, as text */
	int allowed;                  /* runs without asking (the config's allow list, --yes) */
	void *impl;                   /* the front end's (an MCP server's tool, say) */
};

/* The tools of a turn and how the front end runs them (borrowed; outlives the turn). */
struct turn_toolbox {
	const struct turn_tool *tools;
	size_t n;
	/* Start call k of t (t->calls[k]); the front end answers with turn_tool_done, now
	 * or later. 0, or -1 with *err (then the call fails with that text). */
	int (*run)(struct turn *t, size_t k, void *arg, char **err);
	/* Stop running call k (the turn was cancelled); no turn_tool_done may follow. */
	void (*cancel)(struct turn *t, size_t k, void *arg);
	void *arg;
	int max_rounds;               /* tool rounds per turn; 0: TURN_MAX_ROUNDS */
};

#define TURN_MAX_ROUNDS 16
/* An identical round of calls this many times in a row stops the loop. */
#define TURN_MAX_REPEATS 3

/* Where one tool call of the current round is. */
enum turn_call_state {
	CALL_ASKING,                  /* waiting for the user's approval (TURN_APPROVE) */
	CALL_RUNNING,
	CALL_OK,
	CALL_ERROR,                   /* the tool failed, or no such tool */
	CALL_REFUSED,                 /* the user said no (the model is told why) */
	CALL_CANCELLED,
};

struct turn_call {
	char *id, *name;
	char *args;                   /* the arguments' JSON (as edited, when the user did) */
	enum turn_call_state state;
	const struct turn_tool *tool; /* NULL: the model named no tool we offered */
	size_t msg;                   /* its ROLE_TOOL_CALL message in the session */
	int64_t t_start;              /* env clock when it started running */
	long duration_ms;             /* -1 until it ended */
	char *result;                 /* its result (sanitised), once it ended */
};

/* What the front end asks for; copied by turn_start. */
struct turn_spec {
	struct model *model;          /* resolved (resolve.h); its provider must be offered */
	const struct params *session; /* the session's parameters (/set), or NULL */
	const struct params *message; /* this message's (a template, ask -P), or NULL */
	const char *system;           /* a system prompt for this message only, or NULL */
	const char *prefix;           /* text the stored reply starts with, or NULL */
	enum context_policy policy;   /* CONTEXT_INHERIT: the model's, else the config's */
	long context_window;          /* tokens; 0: the model's, and 0 there means no limit */
	long keep_turns;              /* summarize: 0 for the config's context.keep_turns */
	int column;                   /* -1: the main conversation, else a comparison column */
	size_t from;                  /* column >= 0: the comparison's first prompt */
	int64_t group;                /* column >= 0: the compare group of the reply */
	int no_fallback;              /* do not follow the model's fallback list */
	int no_stream;                /* ask for the whole reply at once (request.h), not a
	                               * stream; the events and callbacks are the same */
	const struct turn_toolbox *tools; /* tools the model may call, or NULL; each column
	                               * of a comparison runs its own loop in its column */
};

/* Bits of what an update reports. */
#define TURN_TEXT 0x1u
#define TURN_REASONING 0x2u
#define TURN_WAIT 0x4u
#define TURN_FALLBACK 0x8u
#define TURN_TOOL 0x10u      /* call n of t->calls changed state (a round began: n 0) */
#define TURN_APPROVE 0x20u   /* call n waits for turn_approve */

struct turn_cbs {
	void (*update)(struct turn *t, unsigned what, const char *p, size_t n, void *arg);
	void (*complete)(struct turn *t, void *arg);
	void (*free)(void *arg);
};

#define TURN_MAX_TRIED 16

struct turn {
	/* Where it is. */
	struct session *sess;
	long reply;                   /* index of the current attempt's reply in sess->msgs */
	uint64_t stream_id;           /* 0 once done */
	int done;
	/* The model answering now (after fallbacks), and the one first asked. */
	struct model *model;
	struct model *origin;
	/* Waiting before the next attempt (TURN_WAIT): why, and until when (env clock). */
	char *wait_msg;               /* sanitised, or NULL when not waiting */
	int wait_key;                 /* every key of the pool is resting */
	int wait_rotated;             /* the key got a 429; the next key is tried at once */
	int wait_attempt, wait_max;
	int64_t wait_until;
	char *note;                   /* the last fallback message, sanitised, or NULL */
	int loop_stopped;             /* the tool loop was stopped (the repeat guard or
	                               * tools.max_rounds) with the model's calls unanswered
	                               * by a reply: note says why */
	/* The context budget of the last request. */
	size_t dropped;               /* messages left out to fit */
	size_t sent_tokens;           /* estimated tokens of the history sent */
	size_t summarized;            /* messages the summary sent stands for, 0 when none */
	int summarizing;              /* a summary request is under way */
	/* Figures, final once done. */
	enum msg_state state;
	int64_t t_send, t_first;      /* env clock; t_first 0 until the first token */
	int64_t t_attempt;            /* when this attempt went out (a retry: when its wait ends) */
	int64_t t_last;               /* when the last text or reasoning arrived, 0 before */
	long ttft_ms, duration_ms;    /* -1 until known */
	struct usage usage;           /* as reported, output_tokens estimated when missing */
	int tokens_estimated;         /* usage.output_tokens is an estimate */
	double cost;                  /* -1 when unknown */
	char *error;                  /* the failure as one sanitised line, or NULL */
	struct apierr *fail;          /* the failure as the worker reported it, or NULL */
	char *warning;                /* what was skipped while decoding (sanitised), or NULL */
	char *finish_reason;
	long chunks;                  /* deltas received */
	/* Tool rounds: the calls of the current one (turn-tools.c). */
	struct turn_call *calls;
	size_t ncalls;
	int round;                    /* tool rounds so far */
	int cancelled;                /* turn_cancel came: no further round */

	/* Private to turn.c. */
	struct turn_env *env;
	struct turn_spec spec;
	struct params session_params, message_params;
	char *system, *prefix;
	uint64_t sum_stream;          /* the summary request's stream, 0 when none */
	size_t sum_upto;              /* the messages it folds end here */
	struct buf sum_text;
	int sum_rounds;
	const char *tried[TURN_MAX_TRIED];
	size_t ntried;
	struct text_filter tf_text, tf_reason;
	struct buf scratch;
	struct turn_cbs cbs;
	void *arg;
	char *round_sig;              /* the last round's calls, to spot a loop */
	int round_over;               /* the current round moved on already */
	int repeats;
};

/* Start a reply (see the contract above); NULL with *err when refused. */
struct turn *turn_start(struct turn_env *env, struct session *s, const struct turn_spec *spec,
    const struct turn_cbs *cbs, void *arg, char **err);
/* Fold one worker event into t; 1 when it was t's. */
int turn_event(struct turn *t, struct wevent *ev);
/* The first of n turns that takes ev (NULL entries are skipped), or NULL. */
struct turn *turn_route(struct turn **v, size_t n, struct wevent *ev);
/* Stop t's stream; it completes as cancelled. */
void turn_cancel(struct turn *t);
/* Free t (cancelling it first when it still streams). */
void turn_free(struct turn *t);
/* Call k of the current round ended: its result (untrusted text, sanitised here) and
 * whether it failed. The next round starts once every call of this one has ended. */
void turn_tool_done(struct turn *t, size_t k, const char *text, int is_error);
/* Answer TURN_APPROVE for call k: run it (yes; args, when not NULL, replace its arguments
 * as the user edited them), or refuse it with the reason the model is given. */
void turn_approve(struct turn *t, size_t k, int yes, const char *args, const char *reason);
/* The state of a call as a word: "awaiting approval", "running", "ok", ... */
const char *turn_call_state_name(enum turn_call_state st);
/* Output tokens per second of t's reply after its first token, or -1 when unknown. */
double turn_tps(const struct turn *t);
/* The parameters a request to model m would carry (config < model < session < message),
 * checked against m: 0, or -1 with *err. The turn's own layering, for front ends that
 * check before they ask (the interface keeps a refused draft in the input). */
int turn_params(struct config *cfg, const struct model *m, const struct params *session,
    const struct params *message, struct params *out, char **err);

#endif
