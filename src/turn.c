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
#include "buf.h"
#include "config.h"
#include "fallback.h"
#include "params.h"
#include "provider.h"
#include "session.h"
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
	memset(out, 0, sizeof(*out));
	*err = NULL;
	params_overlay(out, &cfg->defaults);
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

	text_sanitize(s, strlen(s), &b);
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

/* Build the request for the current model within the context budget; NULL with *err when
 * the policy refuses a history that does not fit. */
static struct request *
turn_request(struct turn *t, const struct params *pp, char **err)
{
	const struct model *m = t->model;
	size_t w = t->spec.context_window > 0 ? (size_t)t->spec.context_window :
	    m->context_window > 0 ? (size_t)m->context_window : 0;
	struct session_fit fit = { 0, 0, 0, 0 };
	struct request *req;
	double ratio = t->sess->token_ratio > 0 ? t->sess->token_ratio : 1.0;
	size_t reserve = 0;

	if (w > 0) {
		reserve = turn_reserve(m, pp, w);
		fit.budget = reserve < w ? (size_t)((double)(w - reserve) / ratio) : 1;
		if (fit.budget == 0)
			fit.budget = 1;
	}
	req = session_request_fit(t->sess, m->provider, m->id, pp,
	    t->spec.column >= 0 ? t->spec.from : t->sess->nmsgs, t->spec.column, &fit);
	if (w > 0 && t->spec.policy == TURN_POLICY_REFUSE && fit.dropped > 0) {
		*err = xasprintf("not sent: the conversation (about %zu tokens) does not fit %s's "
		    "context window of %zu tokens with %zu kept for the reply; start a new session "
		    "(/new) or let natter drop old turns (context_policy: drop)",
		    (size_t)((double)fit.total * ratio), m->name, w, reserve);
		request_free(req);
		return NULL;
	}
	t->dropped = fit.dropped;
	t->sent_tokens = fit.tokens;
	if (t->system != NULL)
		request_set_system(req, t->system);
	return req;
}

/* Open a reply for the current model and submit it; -1 with *err when refused. */
static int
turn_submit(struct turn *t, char **err)
{
	struct params pp;
	struct request *req;
	const struct model *m = t->model;
	long r;

	if (turn_params(t->env->cfg, m, &t->session_params, &t->message_params, &pp, err) != 0) {
		params_free(&pp);
		return -1;
	}
	req = turn_request(t, &pp, err);
	params_free(&pp);
	if (req == NULL)
		return -1;
	r = (long)session_reply_open(t->sess, m->provider->name, m->id,
	    t->spec.column >= 0 ? t->spec.group : 0);
	t->reply = r;
	if (t->spec.column < 0)
		t->sess->reply = r;
	if (t->prefix != NULL)
		session_reply_text_at(t->sess, (size_t)r, t->prefix, strlen(t->prefix));
	text_filter_init(&t->tf_text);
	text_filter_init(&t->tf_reason);
	usage_clear(&t->usage);
	t->t_send = turn_now(t);
	t->t_first = 0;
	t->chunks = 0;
	t->state = MSG_STREAMING;
	t->stream_id = worker_submit(t->env->w, req);
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
	if (t->t_first == 0) {
		t->t_first = turn_now(t);
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
	t->wait_attempt = ev->attempt;
	t->wait_max = t->model->provider->max_retries + 1;
	t->wait_until = turn_now(t) + ev->delay_ms;
	if (ev->rotated)
		t->wait_until = 0;
	if (t->cbs.update != NULL)
		t->cbs.update(t, TURN_WAIT, NULL, 0, t->arg);
}

/* The failure of e as one sanitised line with its hint. */
static char *
turn_error_text(const struct apierr *e)
{
	char *line = apierr_format(e), *out;
	const char *hint = apierr_hint(e);
	struct buf b = BUF_INIT, c = BUF_INIT;

	buf_puts(&b, line);
	if (hint != NULL)
		buf_printf(&b, " — %s", hint);
	text_sanitize(buf_str(&b), b.len, &c);
	out = buf_detach(&c);
	buf_free(&b);
	free(line);
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
	struct reply_end end = { MSG_ERROR, NULL, -1, NULL, NULL, ev->ttft_ms, -1 };
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

	turn_drain(t);
	t->state = ev->cancelled ? MSG_CANCELLED : ev->error ? MSG_ERROR :
	    ev->complete ? MSG_COMPLETE : MSG_TRUNCATED;
	if (t->state == MSG_ERROR && fallback_wanted(ev->error, ev->cancelled, t->t_first != 0) &&
	    !t->spec.no_fallback && turn_fall_back(t, ev))
		return;
	if (t->state == MSG_ERROR && t->error == NULL)
		t->error = turn_error_text(ev->error);
	if (usage_present(&ev->usage))
		t->usage = ev->usage;
	m = &t->sess->msgs[t->reply];
	if (t->usage.output_tokens <= 0 && m->content.len > 0) {
		t->usage.output_tokens = (long)session_estimate_tokens(m->content.data,
		    m->content.len);
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
	end.error = t->error;
	end.ttft_ms = t->ttft_ms;
	end.duration_ms = t->duration_ms;
	session_reply_finish(t->sess, (size_t)t->reply, &end);
	if (t->spec.column < 0 && t->sess->reply == t->reply)
		t->sess->reply = -1;
	turn_calibrate(t);
	turn_wait_clear(t);
	t->stream_id = 0;
	t->done = 1;
	if (t->cbs.complete != NULL)
		t->cbs.complete(t, t->arg);
}

/* Fold one worker event into t. */
int
turn_event(struct turn *t, struct wevent *ev)
{
	if (t == NULL || t->done || ev->id == 0 || ev->id != t->stream_id)
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
	if (t != NULL && !t->done && t->stream_id != 0)
		worker_cancel(t->env->w, t->stream_id);
}

/* Free t; a turn still streaming is cancelled and its reply closed as cancelled. */
void
turn_free(struct turn *t)
{
	if (t == NULL)
		return;
	if (!t->done && t->reply >= 0 && session_is_open(t->sess, (size_t)t->reply)) {
		struct reply_end end = { MSG_CANCELLED, NULL, -1, NULL, NULL, -1, -1 };

		if (t->stream_id != 0)
			worker_cancel(t->env->w, t->stream_id);
		turn_drain(t);
		session_reply_finish(t->sess, (size_t)t->reply, &end);
		if (t->spec.column < 0 && t->sess->reply == t->reply)
			t->sess->reply = -1;
	}
	if (t->cbs.free != NULL)
		t->cbs.free(t->arg);
	params_free(&t->session_params);
	params_free(&t->message_params);
	free(t->system);
	free(t->prefix);
	free(t->wait_msg);
	free(t->note);
	free(t->error);
	free(t->finish_reason);
	buf_free(&t->scratch);
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
