/*
 * The turn controller (contract in turn.h). A turn resolves nothing itself: the front end
 * hands it a resolved model. From there it owns everything about the reply: the layered
 * parameters, the context budget, the session row, the worker stream, retry waits,
 * fallbacks to the model's `fallback:` list, and the final figures, which it writes once.
 *
 * Text from the provider is made terminal-safe (text_filter) before it goes into the
 * session, so every front end stores and shows the same thing; the update callback also
 * gets the bytes as they came, for a front end that prints them raw on request.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "apierr.h"
#include "attach-check.h"
#include "buf.h"
#include "config.h"
#include "fallback.h"
#include "params.h"
#include "provider.h"
#include "session.h"
#include "stream.h"
#include "turn-tools.h"
#include "turn.h"
#include "worker.h"
#include "xmalloc.h"

/* Milliseconds on the monotonic clock. */
static int64_t
turn_clock(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The env's clock. */
static int64_t
turn_now(const struct turn *t)
{
	return t->env->now_ms != NULL ? t->env->now_ms() : turn_clock();
}

/* Layer the parameters of a request to m and check them against it. */
int
turn_params(struct config *cfg, const struct model *m, const struct params *session,
    const struct params *message, struct params *out, char **err)
{
	struct params global;

	memset(out, 0, sizeof(*out));
	*err = NULL;
	/* The config-wide defaults go to every model as far as it takes them: a seed for all
	 * must not make a model without seeds refuse every request. */
	memset(&global, 0, sizeof(global));
	params_overlay(&global, &cfg->defaults);
	if (m != NULL)
		params_fit(&global, m);
	params_overlay(out, &global);
	params_free(&global);
	if (m != NULL)
		params_overlay(out, &m->defaults);
	if (session != NULL)
		params_overlay(out, session);
	if (message != NULL)
		params_overlay(out, message);
	return m != NULL ? params_check(out, m, err) : 0;
}

/* A sanitised copy of s. */
static char *
turn_clean(const char *s)
{
	struct buf b = BUF_INIT;

	text_sanitize_line(s, strlen(s), &b);
	return buf_detach(&b);
}

/* The tokens kept free for the reply in a window of w tokens under params pp. */
static size_t
turn_reserve(const struct model *m, const struct params *pp, size_t w)
{
	if ((pp->set & PARAM_MAX_TOKENS) && pp->max_tokens > 0)
		return (size_t)pp->max_tokens;
	if (m->max_output > 0 && (size_t)m->max_output <= w / 2)
		return (size_t)m->max_output;
	return w / 4;
}

/* The context window of the current model, 0 when unknown. */
static size_t
turn_window(const struct turn *t)
{
	if (t->spec.context_window > 0)
		return (size_t)t->spec.context_window;
	return t->model->context_window > 0 ? (size_t)t->model->context_window : 0;
}

/* The policy in force for the current model. */
static enum context_policy
turn_policy(const struct turn *t)
{
	if (t->spec.policy != CONTEXT_INHERIT)
		return t->spec.policy;
	return config_context_policy(t->env->cfg, t->model);
}

#define TURN_SUMMARY_NOTE "Summary of the earlier conversation (those messages are not repeated):"
#define TURN_SUMMARY_SYSTEM \
	"You keep a running summary of a long conversation for an assistant whose context " \
	"window cannot hold all of it. Update the summary with the new part of the " \
	"conversation. Keep names, numbers, decisions, code identifiers, the user's preferences " \
	"and open questions; drop pleasantries. Write only the summary, in plain prose or a " \
	"short list."

/* Where the next summary round should stop folding: at most about cap estimated tokens of
 * messages from covers on, ending at an exchange boundary no later than k. */
static size_t
turn_fold_end(const struct session *s, size_t covers, size_t k, size_t cap)
{
	size_t i, sum = 0;

	for (i = covers; i < k; i++) {
		if (i > covers && s->msgs[i].role == ROLE_USER && sum > cap)
			return i;
		sum += session_estimate_tokens(s->msgs[i].content.data, s->msgs[i].content.len);
	}
	return k;
}

/* Build the request for the current model within the context budget. NULL with *err when
 * the policy refuses, or NULL with *fold set to where a summary round must fold to. */
static struct request *
turn_request(struct turn *t, const struct params *pp, char **err, size_t *fold)
{
	struct session *s = t->sess;
	const struct model *m = t->model;
	size_t w = turn_window(t), reserve = 0, from, keep, k, covers;
	struct session_fit fit = { 0 };
	struct request *req;
	double ratio = s->token_ratio > 0 ? s->token_ratio : 1.0;
	enum context_policy policy = turn_policy(t);
	char *note = NULL;

	*fold = 0;
	from = t->spec.column >= 0 ? t->spec.from : s->nmsgs;
	if (w > 0) {
		reserve = turn_reserve(m, pp, w);
		fit.budget = reserve < w ? (size_t)((double)(w - reserve) / ratio) : 1;
		if (fit.budget == 0)
			fit.budget = 1;
	}
	req = session_request_fit(s, m->provider, m->id, pp, from, t->spec.column, &fit);
	if (w > 0 && fit.dropped > 0 && policy == CONTEXT_REFUSE) {
		*err = xasprintf("not sent: the conversation (about %zu tokens) does not fit %s's "
		    "context window of %zu tokens with %zu kept for the reply; start a new session "
		    "(/new) or let natter drop or summarize old turns (context.policy)",
		    (size_t)((double)fit.total * ratio), m->name, w, reserve);
		request_free(req);
		return NULL;
	}
	t->summarized = 0;
	if (w > 0 && fit.dropped > 0 && policy == CONTEXT_SUMMARIZE && t->spec.column < 0 &&
	    t->sum_rounds < 8) {
		keep = t->spec.keep_turns > 0 ? (size_t)t->spec.keep_turns :
		    (size_t)t->env->cfg->context_keep;
		k = session_keep_from(s, keep);
		covers = s->summary != NULL && s->summary_covers <= k ? s->summary_covers : 0;
		if (k > 0 && covers < k) {
			/* The summary fell behind: fold what it lacks first. */
			request_free(req);
			*fold = turn_fold_end(s, covers, k, fit.budget * 3 / 4);
			return NULL;
		}
		if (k > 0 && s->summary != NULL) {
			request_free(req);
			note = xasprintf("%s\n\n%s", TURN_SUMMARY_NOTE, s->summary);
			memset(&fit, 0, sizeof(fit));
			fit.budget = reserve < w ? (size_t)((double)(w - reserve) / ratio) : 1;
			fit.skip = s->summary_covers;
			fit.note = note;
			req = session_request_fit(s, m->provider, m->id, pp, from, t->spec.column, &fit);
			free(note);
			t->summarized = s->summary_covers;
		}
	}
	t->dropped = fit.dropped;
	t->sent_tokens = fit.tokens;
	s->view_from = (long)fit.first;
	if (t->system != NULL)
		request_set_system(req, t->system);
	req->max_tokens_field = m->max_tokens_field;
	/* Files the model cannot take are refused here, before anything is sent. */
	if (attach_check_request(req, m, err) != 0) {
		request_free(req);
		return NULL;
	}
	return req;
}

/* The request that folds messages [covers, upto) into the session's summary. */
static struct request *
turn_summary_request(struct turn *t, size_t upto)
{
	const struct session *s = t->sess;
	struct request *req = request_new(t->model->provider, t->model->id);
	size_t i, covers = s->summary != NULL ? s->summary_covers : 0;
	struct buf b = BUF_INIT;

	req->max_tokens_field = t->model->max_tokens_field;
	request_set_system(req, TURN_SUMMARY_SYSTEM);
	buf_printf(&b, "Summary so far:\n%s\n\nConversation to fold in:\n",
	    s->summary != NULL ? s->summary : "(none yet)");
	for (i = covers; i < upto; i++) {
		const struct session_msg *m = &s->msgs[i];

		if (m->role == ROLE_SYSTEM || m->content.len == 0 || m->state == MSG_ERROR ||
		    (m->compare_group != 0 && m->pick < 0))
			continue;
		buf_printf(&b, "\n[%s]\n", request_role_name(m->role));
		buf_append(&b, m->content.data, m->content.len);
		buf_putc(&b, '\n');
	}
	buf_puts(&b, "\nWrite the updated summary.");
	request_add(req, ROLE_USER, buf_str(&b));
	buf_free(&b);
	return req;
}

/* Start a summary round folding up to upto, telling the front end it waits for it. */
static void
turn_summarize(struct turn *t, size_t upto)
{
	size_t covers = t->sess->summary != NULL ? t->sess->summary_covers : 0;

	t->summarizing = 1;
	t->sum_rounds++;
	t->sum_upto = upto;
	buf_reset(&t->sum_text);
	free(t->wait_msg);
	t->wait_msg = xasprintf("summarizing %zu older messages to fit %s's context window",
	    upto - covers, t->model->name);
	t->wait_until = 0;
	t->sum_stream = worker_submit(t->env->w, turn_summary_request(t, upto));
	if (t->cbs.update != NULL)
		t->cbs.update(t, TURN_WAIT, NULL, 0, t->arg);
}

/* Submit req as the reply's stream. */
static void
turn_stream(struct turn *t, struct request *req)
{
	text_filter_init(&t->tf_text);
	text_filter_init(&t->tf_reason);
	usage_clear(&t->usage);
	t->t_send = t->t_attempt = turn_now(t);
	t->t_first = t->t_last = 0;
	t->chunks = 0;
	t->state = MSG_STREAMING;
	req->no_stream = t->spec.no_stream;
	turn_tools_declare(t, req);
	t->stream_id = worker_submit(t->env->w, req);
}

/* Build and send the next request of the current attempt (or its summary round). */
static int
turn_send(struct turn *t, char **err)
{
	struct params pp;
	struct request *req;
	size_t fold;

	if (turn_params(t->env->cfg, t->model, &t->session_params, &t->message_params, &pp,
	    err) != 0) {
		params_free(&pp);
		return -1;
	}
	req = turn_request(t, &pp, err, &fold);
	params_free(&pp);
	if (req == NULL && fold == 0)
		return -1;
	if (req == NULL)
		turn_summarize(t, fold);
	else
		turn_stream(t, req);
	return 0;
}

/* Open a reply for the current model and send it; -1 with *err when refused, and then
 * nothing was opened or sent. */
static int
turn_submit(struct turn *t, char **err)
{
	struct params pp;
	struct request *req;
	const struct model *m = t->model;
	size_t fold;
	long r;

	if (turn_params(t->env->cfg, m, &t->session_params, &t->message_params, &pp, err) != 0) {
		params_free(&pp);
		return -1;
	}
	req = turn_request(t, &pp, err, &fold);
	params_free(&pp);
	if (req == NULL && fold == 0)
		return -1;
	/* A column's replies stay in its column (a tool round's next one, a retry's). */
	r = (long)session_reply_open_slot(t->sess, m->provider->name, m->id, turn_group(t),
	    t->spec.column >= 0 ? t->spec.column : -1);
	t->reply = r;
	if (t->spec.column < 0)
		t->sess->reply = r;
	if (t->prefix != NULL)
		session_reply_text_at(t->sess, (size_t)r, t->prefix, strlen(t->prefix));
	t->state = MSG_STREAMING;
	if (req == NULL)
		turn_summarize(t, fold);
	else
		turn_stream(t, req);
	return 0;
}

/* Start a reply. */
struct turn *
turn_start(struct turn_env *env, struct session *s, const struct turn_spec *spec,
    const struct turn_cbs *cbs, void *arg, char **err)
{
	struct turn *t;

	*err = NULL;
	if (spec->model == NULL || spec->model->provider == NULL) {
		*err = xstrdup("no usable model");
		return NULL;
	}
	/* The request holds the whole path: a session opened in part loads the rest first
	 * (the front end has done so already when it holds indices into it). */
	if (session_partial(s) && session_load_older(s, 0) < 0) {
		*err = xasprintf("cannot load the rest of the session: %s", s->err);
		return NULL;
	}
	t = xcalloc(1, sizeof(*t));
	t->env = env;
	t->sess = s;
	t->spec = *spec;
	t->spec.session = t->spec.message = NULL;
	t->spec.system = t->spec.prefix = NULL;
	if (spec->session != NULL)
		params_copy(&t->session_params, spec->session);
	if (spec->message != NULL)
		params_copy(&t->message_params, spec->message);
	t->system = spec->system != NULL ? xstrdup(spec->system) : NULL;
	t->prefix = spec->prefix != NULL ? xstrdup(spec->prefix) : NULL;
	t->model = t->origin = spec->model;
	t->tried[t->ntried++] = spec->model->name;
	t->ttft_ms = t->duration_ms = -1;
	t->cost = -1;
	t->reply = -1;
	if (cbs != NULL)
		t->cbs = *cbs;
	t->arg = arg;
	if (turn_submit(t, err) != 0) {
		t->cbs.free = NULL;
		turn_free(t);
		return NULL;
	}
	return t;
}

/* Forget a retry or key wait. */
static void
turn_wait_clear(struct turn *t)
{
	free(t->wait_msg);
	t->wait_msg = NULL;
	t->wait_until = 0;
	t->wait_key = 0;
	t->wait_rotated = 0;
}

/* A text or reasoning delta. */
static void
turn_delta(struct turn *t, const struct wevent *ev)
{
	int text = ev->type == WEV_TEXT;

	buf_reset(&t->scratch);
	text_filter_feed(text ? &t->tf_text : &t->tf_reason, ev->text, ev->len, &t->scratch);
	if (text)
		session_reply_text_at(t->sess, (size_t)t->reply, buf_str(&t->scratch),
		    t->scratch.len);
	else
		session_reply_reasoning_at(t->sess, (size_t)t->reply, buf_str(&t->scratch),
		    t->scratch.len);
	t->t_last = turn_now(t);
	if (t->t_first == 0) {
		t->t_first = t->t_last;
		turn_wait_clear(t);
	}
	t->chunks++;
	if (t->cbs.update != NULL)
		t->cbs.update(t, text ? TURN_TEXT : TURN_REASONING, ev->text, ev->len, t->arg);
}

/* A retry or key wait before the next attempt. */
static void
turn_retry(struct turn *t, const struct wevent *ev)
{
	char *why = ev->error != NULL ? apierr_format(ev->error) : xstrdup("error");

	turn_wait_clear(t);
	if (ev->key_wait && ev->error != NULL && ev->error->message != NULL)
		t->wait_msg = turn_clean(ev->error->message);
	else
		t->wait_msg = turn_clean(why);
	free(why);
	t->wait_key = ev->key_wait;
	t->wait_rotated = ev->rotated;
	t->wait_attempt = ev->attempt;
	t->wait_max = t->model->provider->max_retries + 1;
	t->wait_until = turn_now(t) + ev->delay_ms;
	t->t_attempt = ev->rotated ? turn_now(t) : t->wait_until;
	if (ev->rotated)
		t->wait_until = 0;
	if (t->cbs.update != NULL)
		t->cbs.update(t, TURN_WAIT, NULL, 0, t->arg);
}

/* The failure of e as one sanitised line with its hint. */
static char *
turn_error_text(const struct apierr *e)
{
	char *line = apierr_format(e), *out, *hint = apierr_advice(e);
	struct buf b = BUF_INIT, c = BUF_INIT;

	buf_puts(&b, line);
	if (hint != NULL)
		buf_printf(&b, " — %s", hint);
	text_sanitize_line(buf_str(&b), b.len, &c);
	out = buf_detach(&c);
	buf_free(&b);
	free(line);
	free(hint);
	return out;
}

/* The next fallback of the model first asked whose parameters fit, or NULL. */
static struct model *
turn_fallback_next(struct turn *t)
{
	struct model *next;
	struct params pp;
	char *err = NULL;

	while (t->ntried < TURN_MAX_TRIED && (next = fallback_next(t->env->cfg, t->origin,
	    t->tried, t->ntried)) != NULL) {
		t->tried[t->ntried++] = next->name;
		if (turn_params(t->env->cfg, next, &t->session_params, &t->message_params, &pp,
		    &err) == 0) {
			params_free(&pp);
			return next;
		}
		params_free(&pp);
		free(err);
		err = NULL;
	}
	return NULL;
}

/* Flush what the text filters still hold into the reply. */
static void
turn_drain(struct turn *t)
{
	buf_reset(&t->scratch);
	text_filter_finish(&t->tf_text, &t->scratch);
	if (t->scratch.len)
		session_reply_text_at(t->sess, (size_t)t->reply, t->scratch.data, t->scratch.len);
	buf_reset(&t->scratch);
	text_filter_finish(&t->tf_reason, &t->scratch);
	if (t->scratch.len)
		session_reply_reasoning_at(t->sess, (size_t)t->reply, t->scratch.data,
		    t->scratch.len);
}

/* Close the current attempt's reply as failed-over to next, and try next; 1 when it
 * took over. */
static int
turn_fall_back(struct turn *t, const struct wevent *ev)
{
	struct model *next = turn_fallback_next(t);
	struct reply_end end = { MSG_ERROR, NULL, -1, NULL, NULL, ev->ttft_ms, -1, NULL };
	char *msg, *err = NULL;

	if (next == NULL || next->provider == NULL)
		return 0;
	msg = fallback_message(t->model->name, ev->error, next->name);
	free(t->note);
	t->note = turn_clean(msg);
	free(msg);
	end.finish_reason = ev->finish_reason;
	end.error = t->note;
	session_reply_finish(t->sess, (size_t)t->reply, &end);
	t->model = next;
	if (turn_submit(t, &err) != 0) {
		/* Refused before sending (a history that does not fit next): say why. */
		free(t->error);
		t->error = err;
		return 0;
	}
	if (t->cbs.update != NULL)
		t->cbs.update(t, TURN_FALLBACK, NULL, 0, t->arg);
	return 1;
}

/* The cost of t's usage at its model's prices, or -1 when unknown. */
static double
turn_cost(const struct turn *t)
{
	const struct model *m = t->model;
	const struct usage *u = &t->usage;

	if (m->price_input < 0 || m->price_output < 0 || u->input_tokens < 0 ||
	    u->output_tokens < 0 || t->tokens_estimated)
		return -1;
	return ((double)u->input_tokens * m->price_input +
	    (double)u->output_tokens * m->price_output) / 1e6;
}

/* Learn how far the byte estimate is from the provider's count, for the next budget. */
static void
turn_calibrate(struct turn *t)
{
	double r;

	if (t->usage.input_tokens <= 0 || t->sent_tokens < 16)
		return;
	r = (double)t->usage.input_tokens / (double)t->sent_tokens;
	if (r < 0.25)
		r = 0.25;
	if (r > 4)
		r = 4;
	t->sess->token_ratio = r;
}

/* The stream is over: final state and figures, written once. */
static void
turn_finish(struct turn *t, const struct wevent *ev)
{
	struct session_msg *m;
	struct reply_end end;
	char *note;

	turn_drain(t);
	t->state = ev->cancelled ? MSG_CANCELLED : ev->error != NULL || t->error != NULL ?
	    MSG_ERROR : ev->complete ? MSG_COMPLETE : MSG_TRUNCATED;
	if (t->state == MSG_ERROR && fallback_wanted(ev->error, ev->cancelled, t->t_first != 0) &&
	    !t->spec.no_fallback && turn_fall_back(t, ev))
		return;
	if (t->state == MSG_ERROR && t->error == NULL)
		t->error = turn_error_text(ev->error);
	if (t->state == MSG_CANCELLED) {
		free(t->error);
		t->error = NULL;
	}
	apierr_free(t->fail);
	t->fail = ev->error != NULL && t->state == MSG_ERROR ? apierr_dup(ev->error) : NULL;
	free(t->warning);
	t->warning = ev->warning != NULL && !ev->cancelled ? turn_clean(ev->warning) : NULL;
	if (usage_present(&ev->usage))
		t->usage = ev->usage;
	m = &t->sess->msgs[t->reply];
	/* The estimate needs only the length, which holds the text ask no longer keeps. */
	if (t->usage.output_tokens <= 0 && m->dropped + m->content.len > 0) {
		t->usage.output_tokens = (long)session_estimate_tokens(NULL,
		    m->dropped + m->content.len);
		t->tokens_estimated = 1;
	}
	t->ttft_ms = ev->ttft_ms;
	t->duration_ms = ev->duration_ms;
	t->cost = turn_cost(t);
	free(t->finish_reason);
	t->finish_reason = ev->finish_reason != NULL ? xstrdup(ev->finish_reason) : NULL;
	end.state = t->state;
	end.usage = usage_present(&t->usage) ? &t->usage : NULL;
	end.cost = t->cost;
	end.finish_reason = t->finish_reason;
	/* A reply that did not fail keeps its warning where a failure's text goes. */
	note = t->error != NULL && t->warning != NULL ?
	    xasprintf("%s; also %s", t->error, t->warning) : NULL;
	end.error = note != NULL ? note : t->error != NULL ? t->error : t->warning;
	end.ttft_ms = t->ttft_ms;
	end.duration_ms = t->duration_ms;
	/* Signed thinking goes back only as it was signed: not when the filter or the key
	 * masking changed a byte of what is stored. */
	end.signature = ev->signature != NULL && m->reasoning.len == ev->signed_len &&
	    stream_hash(STREAM_HASH_INIT, m->reasoning.data, m->reasoning.len) ==
	    ev->signed_hash ? ev->signature : NULL;
	session_reply_finish(t->sess, (size_t)t->reply, &end);
	free(note);
	if (t->spec.column < 0 && t->sess->reply == t->reply)
		t->sess->reply = -1;
	turn_calibrate(t);
	turn_wait_clear(t);
	t->stream_id = 0;
	/* A reply that called tools: the turn goes on with a tool round. */
	if (turn_tools_begin(t, ev))
		return;
	turn_complete(t);
}

/* The turn is over: mark it and tell the front end, once. */
void
turn_complete(struct turn *t)
{
	if (t->done)
		return;
	t->done = 1;
	if (t->cbs.complete != NULL)
		t->cbs.complete(t, t->arg);
}

/* Open the next reply of a tool round and send it. */
int
turn_resubmit(struct turn *t, char **err)
{
	return turn_submit(t, err);
}

/* The summary round is over: keep the summary and send the reply, or drop old turns
 * instead when it failed. */
static void
turn_summary_done(struct turn *t, struct wevent *ev)
{
	struct buf clean = BUF_INIT;
	char *err = NULL, *why;

	t->summarizing = 0;
	t->sum_stream = 0;
	free(t->wait_msg);
	t->wait_msg = NULL;
	if (ev->cancelled) {
		turn_finish(t, ev);
		return;
	}
	if (ev->error == NULL && t->sum_text.len > 0) {
		text_sanitize(t->sum_text.data, t->sum_text.len, &clean);
		session_set_summary(t->sess, buf_str(&clean), t->sum_upto);
		buf_free(&clean);
	} else {
		why = ev->error != NULL ? apierr_format(ev->error) : xstrdup("an empty summary");
		free(t->note);
		t->note = xasprintf("could not summarize the older turns (%s); dropping them instead",
		    why);
		free(why);
		t->sum_rounds = 8;   /* no further rounds: drop */
		if (t->cbs.update != NULL)
			t->cbs.update(t, TURN_FALLBACK, NULL, 0, t->arg);
	}
	if (turn_send(t, &err) != 0) {
		struct wevent fake = { 0 };

		fake.type = WEV_DONE;
		fake.ttft_ms = fake.duration_ms = -1;
		free(t->error);
		t->error = err;
		turn_finish(t, &fake);
	}
}

/* An event of the summary round. */
static void
turn_summary_event(struct turn *t, struct wevent *ev)
{
	switch (ev->type) {
	case WEV_TEXT:
		buf_append(&t->sum_text, ev->text, ev->len);
		break;
	case WEV_RETRY:
		if (t->cbs.update != NULL)
			t->cbs.update(t, TURN_WAIT, NULL, 0, t->arg);
		break;
	case WEV_DONE:
		turn_summary_done(t, ev);
		break;
	default:
		break;
	}
}

/* Fold one worker event into t. */
int
turn_event(struct turn *t, struct wevent *ev)
{
	if (t == NULL || t->done || ev->id == 0)
		return 0;
	if (ev->id == t->sum_stream) {
		turn_summary_event(t, ev);
		return 1;
	}
	if (ev->id != t->stream_id)
		return 0;
	switch (ev->type) {
	case WEV_TEXT:
	case WEV_REASONING:
		turn_delta(t, ev);
		break;
	case WEV_USAGE:
		t->usage = ev->usage;
		break;
	case WEV_RETRY:
		turn_retry(t, ev);
		break;
	case WEV_DONE:
		turn_finish(t, ev);
		break;
	default:
		return 0;
	}
	return 1;
}

/* The first turn that takes ev. */
struct turn *
turn_route(struct turn **v, size_t n, struct wevent *ev)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (v[i] != NULL && turn_event(v[i], ev))
			return v[i];
	return NULL;
}

/* Stop t's stream; the worker still ends it with one DONE. */
void
turn_cancel(struct turn *t)
{
	if (t == NULL || t->done)
		return;
	t->cancelled = 1;
	if (t->stream_id != 0)
		worker_cancel(t->env->w, t->stream_id);
	if (t->sum_stream != 0)
		worker_cancel(t->env->w, t->sum_stream);
	/* Between replies, in a tool round: the round ends here. */
	if (t->stream_id == 0 && t->sum_stream == 0)
		turn_tools_cancel(t);
}

/* Free t; a turn still streaming is cancelled and its reply closed as cancelled. */
void
turn_free(struct turn *t)
{
	if (t == NULL)
		return;
	if (!t->done && t->reply >= 0 && session_is_open(t->sess, (size_t)t->reply)) {
		struct reply_end end = { MSG_CANCELLED, NULL, -1, NULL, NULL, -1, -1, NULL };

		if (t->stream_id != 0)
			worker_cancel(t->env->w, t->stream_id);
		if (t->sum_stream != 0)
			worker_cancel(t->env->w, t->sum_stream);
		turn_drain(t);
		session_reply_finish(t->sess, (size_t)t->reply, &end);
		if (t->spec.column < 0 && t->sess->reply == t->reply)
			t->sess->reply = -1;
	}
	/* Open calls are answered while the front end's callbacks still have their arg. */
	turn_tools_free(t);
	if (t->cbs.free != NULL)
		t->cbs.free(t->arg);
	params_free(&t->session_params);
	params_free(&t->message_params);
	free(t->system);
	free(t->prefix);
	free(t->wait_msg);
	free(t->note);
	free(t->error);
	free(t->warning);
	apierr_free(t->fail);
	free(t->finish_reason);
	buf_free(&t->scratch);
	buf_free(&t->sum_text);
	free(t);
}

/* Output tokens per second after the first token. */
double
turn_tps(const struct turn *t)
{
	if (t->duration_ms <= t->ttft_ms || t->ttft_ms < 0 || t->usage.output_tokens <= 0)
		return -1;
	return (double)t->usage.output_tokens * 1000.0 / (double)(t->duration_ms - t->ttft_ms);
}
