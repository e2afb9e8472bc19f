/*
 * Tool rounds: a turn becomes a loop of reply, tool calls, results, reply. When a reply
 * ends having called tools, each call is stored as a message of its own and then, by the
 * front end's toolbox, run at once (a tool on the allow list), put to the user
 * (TURN_APPROVE, answered by turn_approve) or answered with an error (a tool nobody
 * offered). Each result is stored as it comes (turn_tool_done); when the last call of the
 * round has one, the next reply is sent with every call and result in its history. The
 * loop stops at the round cap, when the model repeats one round of calls TURN_MAX_REPEATS
 * times in a row, or when the turn is cancelled; every call is answered either way, since
 * every protocol refuses a history with a call left open.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "provider.h"
#include "request.h"
#include "session.h"
#include "text.h"
#include "turn-tools.h"
#include "worker.h"
#include "xmalloc.h"

/* The env clock (CLOCK_MONOTONIC when the front end gave none), in milliseconds. */
static int64_t
turn_tools_now(const struct turn *t)
{
	struct timespec ts;

	if (t->env->now_ms != NULL)
		return t->env->now_ms();
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The word for a call's state. */
const char *
turn_call_state_name(enum turn_call_state st)
{
	switch (st) {
	case CALL_ASKING: return "awaiting approval";
	case CALL_RUNNING: return "running";
	case CALL_OK: return "ok";
	case CALL_ERROR: return "error";
	case CALL_REFUSED: return "refused";
	case CALL_CANCELLED: return "cancelled";
	}
	return "pending";
}

/* Declare the toolbox's tools. */
void
turn_tools_declare(const struct turn *t, struct request *req)
{
	const struct turn_toolbox *tb = t->spec.tools;
	size_t i;

	if (tb == NULL)
		return;
	for (i = 0; i < tb->n; i++)
		request_add_tool(req, tb->tools[i].name, tb->tools[i].description,
		    tb->tools[i].schema);
}

/* The compare group the turn's messages go in (0: the main conversation): its reply's,
 * which follows the group when storing it gave it another id. */
int64_t
turn_group(const struct turn *t)
{
	if (t->spec.column < 0)
		return 0;
	return t->reply >= 0 ? t->sess->msgs[t->reply].compare_group : t->spec.group;
}

/* Free the round's calls. */
static void
turn_calls_clear(struct turn *t)
{
	size_t k;

	for (k = 0; k < t->ncalls; k++) {
		free(t->calls[k].id);
		free(t->calls[k].name);
		free(t->calls[k].args);
		free(t->calls[k].result);
	}
	free(t->calls);
	t->calls = NULL;
	t->ncalls = 0;
}

/* Tell the front end call k changed. */
static void
turn_call_update(struct turn *t, unsigned what, size_t k)
{
	if (t->cbs.update != NULL)
		t->cbs.update(t, what, NULL, k, t->arg);
}

/* The tool named name, or NULL. */
static const struct turn_tool *
turn_tool_find(const struct turn *t, const char *name)
{
	const struct turn_toolbox *tb = t->spec.tools;
	size_t i;

	for (i = 0; i < tb->n; i++)
		if (strcmp(tb->tools[i].name, name) == 0)
			return &tb->tools[i];
	return NULL;
}

/* True when every call of the round has ended. */
static int
turn_round_over(const struct turn *t)
{
	size_t k;

	for (k = 0; k < t->ncalls; k++)
		if (t->calls[k].state == CALL_ASKING || t->calls[k].state == CALL_RUNNING)
			return 0;
	return 1;
}

/* The round is over: send the next reply, or complete the turn when the loop stops. */
static void
turn_round_next(struct turn *t)
{
	const struct turn_toolbox *tb = t->spec.tools;
	int max = tb->max_rounds > 0 ? tb->max_rounds : TURN_MAX_ROUNDS;
	char *err = NULL;

	/* A call that answers inside its run ends the round there; only once, then. */
	if (t->round_over)
		return;
	t->round_over = 1;
	if (t->cancelled || t->repeats >= TURN_MAX_REPEATS) {
		turn_complete(t);
		return;
	}
	if (t->round >= max) {
		free(t->note);
		t->note = xasprintf("natter stopped after %d tool rounds (tools.max_rounds)", max);
		t->loop_stopped = 1;
		turn_call_update(t, TURN_FALLBACK, 0);
		turn_complete(t);
		return;
	}
	if (turn_resubmit(t, &err) != 0) {
		free(t->error);
		t->error = err;
		t->state = MSG_ERROR;
		turn_complete(t);
	}
}

/* End call k with a result, stored as a message of its own. */
static void
turn_call_end(struct turn *t, size_t k, enum turn_call_state st, const char *text)
{
	struct turn_call *c = &t->calls[k];
	struct buf clean = BUF_INIT;

	text_sanitize(text != NULL ? text : "", text != NULL ? strlen(text) : 0, &clean);
	free(c->result);
	c->result = buf_detach(&clean);
	if (c->result == NULL)
		c->result = xstrdup("");
	c->state = st;
	c->duration_ms = c->t_start > 0 ? (long)(turn_tools_now(t) - c->t_start) : -1;
	session_append_tool_result(t->sess, c->id, c->name, c->result, st != CALL_OK,
	    c->duration_ms, turn_group(t), t->spec.column);
	turn_call_update(t, TURN_TOOL, k);
}

/* Run call k through the toolbox. */
static void
turn_call_run(struct turn *t, size_t k)
{
	const struct turn_toolbox *tb = t->spec.tools;
	struct turn_call *c = &t->calls[k];
	char *err = NULL, *msg;

	c->state = CALL_RUNNING;
	c->t_start = turn_tools_now(t);
	turn_call_update(t, TURN_TOOL, k);
	if (tb->run == NULL || tb->run(t, k, tb->arg, &err) != 0) {
		msg = xasprintf("the tool could not be started: %s",
		    err != NULL ? err : "no way to run tools here");
		turn_call_end(t, k, CALL_ERROR, msg);
		free(msg);
		free(err);
	}
}

/* A round's calls as one string, to spot the model repeating itself. */
static char *
turn_round_sig(const struct wevent *ev)
{
	struct buf b = BUF_INIT;
	size_t k;

	for (k = 0; k < ev->ncalls; k++) {
		buf_puts(&b, ev->calls[k].name);
		buf_putc(&b, '\0');
		buf_puts(&b, toolcall_args(&ev->calls[k]));
		buf_putc(&b, '\n');
	}
	return buf_detach(&b);
}

/* Start a round of the calls ev brought. */
int
turn_tools_begin(struct turn *t, const struct wevent *ev)
{
	char *sig;
	size_t k;
	int stop;

	if (t->spec.tools == NULL || ev->ncalls == 0 ||
	    (t->state != MSG_COMPLETE && t->state != MSG_TRUNCATED) || t->cancelled)
		return 0;
	turn_calls_clear(t);
	t->round++;
	t->round_over = 0;
	sig = turn_round_sig(ev);
	t->repeats = t->round_sig != NULL && sig != NULL && strcmp(sig, t->round_sig) == 0 ?
	    t->repeats + 1 : 1;
	free(t->round_sig);
	t->round_sig = sig;
	stop = t->repeats >= TURN_MAX_REPEATS;
	if (stop) {
		free(t->note);
		t->note = xasprintf("natter stopped the tool loop: the same calls came %d times "
		    "in a row", TURN_MAX_REPEATS);
		t->loop_stopped = 1;
	}
	t->calls = xcalloc(ev->ncalls, sizeof(*t->calls));
	t->ncalls = ev->ncalls;
	for (k = 0; k < ev->ncalls; k++) {
		const struct toolcall *tc = &ev->calls[k];
		struct turn_call *c = &t->calls[k];

		c->id = xstrdup(tc->id);
		c->name = xstrdup(tc->name);
		c->args = xstrdup(tc->bad_args ? buf_str(&tc->args) : toolcall_args(tc));
		c->tool = turn_tool_find(t, c->name);
		c->duration_ms = -1;
		c->state = CALL_ASKING;
		c->msg = session_append_tool_call(t->sess, c->id, c->name, c->args,
		    tc->signature, t->model->provider->name, t->model->id, turn_group(t),
		    t->spec.column);
	}
	turn_call_update(t, TURN_TOOL | (stop ? TURN_FALLBACK : 0), 0);
	/* Decide every call before running any: a run may answer at once. */
	for (k = 0; k < t->ncalls; k++) {
		struct turn_call *c = &t->calls[k];

		if (stop) {
			turn_call_end(t, k, CALL_CANCELLED, t->note);
		} else if (c->tool == NULL) {
			char *msg = xasprintf("there is no tool named %s", c->name);

			turn_call_end(t, k, CALL_ERROR, msg);
			free(msg);
		} else if (ev->calls[k].bad_args) {
			turn_call_end(t, k, CALL_ERROR, "the arguments were not one JSON object; "
			    "call the tool again with valid JSON arguments");
		}
	}
	for (k = 0; k < t->ncalls; k++) {
		if (t->calls[k].state != CALL_ASKING)
			continue;
		if (t->calls[k].tool->allowed)
			turn_call_run(t, k);
		else
			turn_call_update(t, TURN_APPROVE, k);
	}
	if (turn_round_over(t))
		turn_round_next(t);
	return 1;
}

/* A call's result arrived. */
void
turn_tool_done(struct turn *t, size_t k, const char *text, int is_error)
{
	if (t == NULL || t->done || k >= t->ncalls || t->calls[k].state != CALL_RUNNING)
		return;
	turn_call_end(t, k, is_error ? CALL_ERROR : CALL_OK, text);
	if (turn_round_over(t))
		turn_round_next(t);
}

/* The user's answer to TURN_APPROVE. */
void
turn_approve(struct turn *t, size_t k, int yes, const char *args, const char *reason)
{
	struct turn_call *c;
	char *msg;

	if (t == NULL || t->done || k >= t->ncalls || t->calls[k].state != CALL_ASKING)
		return;
	c = &t->calls[k];
	if (yes) {
		if (args != NULL) {
			free(c->args);
			c->args = xstrdup(args);
			session_set_tool_args(t->sess, c->msg, args);
		}
		turn_call_run(t, k);
	} else {
		msg = reason != NULL && reason[0] != '\0' ?
		    xasprintf("the user refused this call: %s", reason) :
		    xstrdup("the user refused this call");
		turn_call_end(t, k, CALL_REFUSED, msg);
		free(msg);
	}
	if (!t->done && turn_round_over(t))
		turn_round_next(t);
}

/* Cancel during a round: running calls are stopped, every open one is answered. */
void
turn_tools_cancel(struct turn *t)
{
	const struct turn_toolbox *tb = t->spec.tools;
	size_t k;

	for (k = 0; k < t->ncalls; k++) {
		if (t->calls[k].state == CALL_RUNNING && tb->cancel != NULL)
			tb->cancel(t, k, tb->arg);
		if (t->calls[k].state == CALL_RUNNING || t->calls[k].state == CALL_ASKING)
			turn_call_end(t, k, CALL_CANCELLED, "the user cancelled this call");
	}
	t->state = MSG_CANCELLED;
	turn_complete(t);
}

/* Free what the rounds hold. */
void
turn_tools_free(struct turn *t)
{
	const struct turn_toolbox *tb = t->spec.tools;
	size_t k;

	/* A turn abandoned mid-round (natter quitting while a call waits for approval or
	 * runs): its running calls must not answer into it, and every open call is answered
	 * as cancelled and stored, so the session never keeps a call without its result. */
	for (k = 0; k < t->ncalls; k++) {
		if (t->calls[k].state == CALL_RUNNING && tb != NULL && tb->cancel != NULL)
			tb->cancel(t, k, tb->arg);
		if (!t->done && (t->calls[k].state == CALL_RUNNING ||
		    t->calls[k].state == CALL_ASKING))
			turn_call_end(t, k, CALL_CANCELLED,
			    "the user cancelled this call (the turn ended before it was answered)");
	}
	turn_calls_clear(t);
	free(t->round_sig);
	t->round_sig = NULL;
}
