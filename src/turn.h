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
};

/* Bits of what an update reports. */
#define TURN_TEXT 0x1u
#define TURN_REASONING 0x2u
#define TURN_WAIT 0x4u
#define TURN_FALLBACK 0x8u

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
/* Output tokens per second of t's reply after its first token, or -1 when unknown. */
double turn_tps(const struct turn *t);
/* The parameters a request to model m would carry (config < model < session < message),
 * checked against m: 0, or -1 with *err. The turn's own layering, for front ends that
 * check before they ask (the interface keeps a refused draft in the input). */
int turn_params(struct config *cfg, const struct model *m, const struct params *session,
    const struct params *message, struct params *out, char **err);

#endif
