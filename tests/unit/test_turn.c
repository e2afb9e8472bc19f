/*
 * The turn controller, driven by the real worker thread and the offline simulated
 * provider (and a closed port for failures): a reply stored with the figures the turn
 * reports, fallbacks, a reply asked for whole (no_stream), the context budget's policies
 * with known token counts, calibration, cancelling, and parameters refused before anything
 * is sent.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <poll.h>
#include <unistd.h>

#include "config.h"
#include "params.h"
#include "resolve.h"
#include "session.h"
#include "store.h"
#include "turn.h"
#include "worker.h"
#include "xmalloc.h"

static const char turn_yaml[] =
    "providers:\n"
    "  simulated: {protocol: simulated}\n"
    "  slow: {protocol: simulated, tokens_per_second: 200}\n"
    "  down: {protocol: openai, base_url: 'http://127.0.0.1:1/v1', key: sk-test-turn-0001,\n"
    "         max_retries: 0}\n"
    "models:\n"
    "  sim: {provider: simulated, id: simulated, price_input: 1, price_output: 2,\n"
    "        params: {temperature: [0, 1]}}\n"
    "  tiny: {provider: simulated, id: tiny, context_window: 60}\n"
    "  tinysum: {provider: simulated, id: tinysum, context_window: 100,\n"
    "            context_policy: summarize}\n"
    "  slowsim: {provider: slow, id: simulated}\n"
    "  broken: {provider: down, id: gpt-x, fallback: [sim]}\n";

/* What the callbacks saw. */
struct seen {
	int updates, text, waits, fallbacks, completes, frees;
	struct buf raw;
};

/* The fixture: config, worker, env, a store in a temp file. */
struct fx {
	struct config *cfg;
	struct worker *w;
	struct turn_env env;
	struct store *st;
	char cfgpath[64];
	char dbpath[64];
};

/* Count an update. */
static void
seen_update(struct turn *t, unsigned what, const char *p, size_t n, void *arg)
{
	struct seen *s = arg;

	(void)t;
	s->updates++;
	if (what & TURN_TEXT) {
		s->text++;
		buf_append(&s->raw, p, n);
	}
	if (what & TURN_WAIT)
		s->waits++;
	if (what & TURN_FALLBACK)
		s->fallbacks++;
}

/* Count a completion. */
static void
seen_complete(struct turn *t, void *arg)
{
	(void)t;
	((struct seen *)arg)->completes++;
}

/* Count the free. */
static void
seen_free(void *arg)
{
	((struct seen *)arg)->frees++;
}

static const struct turn_cbs seen_cbs = { seen_update, seen_complete, seen_free };

/* Load the config, start the worker, open a store. */
static int
fx_setup(void **state)
{
	struct fx *f = xcalloc(1, sizeof(*f));
	struct config_errors errs = { NULL, 0 };
	char *err = NULL;
	FILE *fp;
	int fd;

	snprintf(f->cfgpath, sizeof(f->cfgpath), "/tmp/natter-turn-cfg.XXXXXX");
	fd = mkstemp(f->cfgpath);
	assert_true(fd >= 0);
	fp = fdopen(fd, "w");
	fputs(turn_yaml, fp);
	fclose(fp);
	f->cfg = config_load(f->cfgpath, CONFIG_NO_DEFAULTS | CONFIG_NO_KEYCMD, &errs);
	if (errs.n > 0)
		fail_msg("config: %s", errs.v[0]);
	config_errors_free(&errs);
	snprintf(f->dbpath, sizeof(f->dbpath), "/tmp/natter-turn-db.XXXXXX");
	fd = mkstemp(f->dbpath);
	close(fd);
	unlink(f->dbpath);
	f->st = store_open(f->dbpath, &err);
	if (f->st == NULL)
		fail_msg("store: %s", err);
	f->w = worker_start();
	f->env.cfg = f->cfg;
	f->env.w = f->w;
	*state = f;
	return 0;
}

/* Stop everything and remove the files. */
static int
fx_teardown(void **state)
{
	struct fx *f = *state;
	char p[96];

	worker_stop(f->w);
	store_close(f->st);
	config_free(f->cfg);
	unlink(f->cfgpath);
	unlink(f->dbpath);
	snprintf(p, sizeof(p), "%s-wal", f->dbpath);
	unlink(p);
	snprintf(p, sizeof(p), "%s-shm", f->dbpath);
	unlink(p);
	snprintf(p, sizeof(p), "%s-lease", f->dbpath);
	unlink(p);
	free(f);
	return 0;
}

/* Pump worker events into t until it is done (10 s at most). */
static void
pump(struct fx *f, struct turn *t)
{
	struct pollfd pfd = { worker_fd(f->w), POLLIN, 0 };
	struct wevent *ev;
	int rounds = 0;

	while (!t->done && rounds++ < 1000) {
		poll(&pfd, 1, 10);
		while ((ev = worker_next(f->w)) != NULL) {
			turn_event(t, ev);
			wevent_free(ev);
		}
		session_reply_flush(t->sess);
	}
	assert_true(t->done);
}

/* The model called name. */
static struct model *
model_of(struct fx *f, const char *name)
{
	struct resolved r;

	assert_int_equal(resolve_model(f->cfg, name, NULL, &r), RESOLVE_OK);
	return r.model;
}

/* A finished reply is stored with the very figures the turn reports, and costed. */
static void
test_figures_stored(void **state)
{
	struct fx *f = *state;
	struct session *s = session_new(f->st, "simulated", "simulated"), *back;
	struct turn_spec spec = { .model = model_of(f, "sim"), .column = -1 };
	struct seen seen = { 0 };
	struct session_msg *m;
	struct turn *t;
	char *err = NULL;

	session_append_user(s, "tokens=40 hello there");
	t = turn_start(&f->env, s, &spec, &seen_cbs, &seen, &err);
	assert_non_null(t);
	assert_int_equal(s->nmsgs, 2);
	pump(f, t);
	assert_int_equal(seen.completes, 1);
	assert_true(seen.text > 0);
	assert_int_equal(t->state, MSG_COMPLETE);
	assert_int_equal(t->usage.output_tokens, 40);
	assert_true(t->ttft_ms >= 0);
	assert_true(t->duration_ms >= t->ttft_ms);
	assert_true(t->cost > 0);
	back = session_load(f->st, s->id);
	assert_non_null(back);
	assert_int_equal(back->nmsgs, 2);
	m = &back->msgs[1];
	assert_int_equal(m->state, MSG_COMPLETE);
	assert_int_equal(m->output_tokens, t->usage.output_tokens);
	assert_int_equal(m->input_tokens, t->usage.input_tokens);
	assert_int_equal(m->ttft_ms, t->ttft_ms);
	assert_int_equal(m->duration_ms, t->duration_ms);
	assert_true(m->cost > 0 && m->cost == t->cost);
	assert_int_equal(m->content.len, s->msgs[1].content.len);
	assert_memory_equal(m->content.data, seen.raw.data, m->content.len);
	session_free(back);
	turn_free(t);
	assert_int_equal(seen.frees, 1);
	buf_free(&seen.raw);
	session_free(s);
}

/* A model that cannot be reached falls back to the next of its list, saying so; the failed
 * attempt stays stored as an error. */
static void
test_fallback(void **state)
{
	struct fx *f = *state;
	struct session *s = session_new(f->st, "down", "gpt-x");
	struct turn_spec spec = { .model = model_of(f, "broken"), .column = -1 };
	struct seen seen = { 0 };
	struct turn *t;
	char *err = NULL;

	session_append_user(s, "tokens=5 hi");
	t = turn_start(&f->env, s, &spec, &seen_cbs, &seen, &err);
	assert_non_null(t);
	pump(f, t);
	assert_int_equal(seen.fallbacks, 1);
	assert_int_equal(seen.completes, 1);
	assert_string_equal(t->model->name, "sim");
	assert_int_equal(t->state, MSG_COMPLETE);
	assert_non_null(t->note);
	assert_non_null(strstr(t->note, "falling back to sim"));
	assert_int_equal(s->nmsgs, 3);
	assert_int_equal(s->msgs[1].state, MSG_ERROR);
	assert_non_null(strstr(s->msgs[1].error, "falling back"));
	assert_int_equal(s->msgs[2].state, MSG_COMPLETE);
	assert_string_equal(s->msgs[2].provider, "simulated");
	turn_free(t);
	buf_free(&seen.raw);
	session_free(s);
}

/* A turn asked for no_stream gets its reply whole, as one text update, stored with a first
 * token time that is the time to the whole reply; a fallback keeps asking that way. */
static void
test_no_stream(void **state)
{
	struct fx *f = *state;
	struct session *s = session_new(f->st, "slow", "simulated");
	struct turn_spec spec = { .model = model_of(f, "slowsim"), .column = -1, .no_stream = 1 };
	struct seen seen = { 0 };
	struct turn *t;
	char *err = NULL;

	session_append_user(s, "tokens=30 think=4 whole");
	t = turn_start(&f->env, s, &spec, &seen_cbs, &seen, &err);
	assert_non_null(t);
	pump(f, t);
	assert_int_equal(t->state, MSG_COMPLETE);
	assert_int_equal(seen.completes, 1);
	assert_int_equal(seen.text, 1);
	assert_int_equal(t->usage.output_tokens, 34);
	/* 34 tokens at 200/s: the whole reply is there 165 ms after the start. */
	assert_true(t->ttft_ms >= 160);
	assert_int_equal(s->msgs[1].content.len, seen.raw.len);
	assert_memory_equal(s->msgs[1].content.data, seen.raw.data, seen.raw.len);
	assert_true(s->msgs[1].reasoning.len > 0);
	turn_free(t);
	buf_free(&seen.raw);
	session_free(s);

	s = session_new(f->st, "down", "gpt-x");
	memset(&seen, 0, sizeof(seen));
	spec.model = model_of(f, "broken");
	session_append_user(s, "tokens=5 hi");
	t = turn_start(&f->env, s, &spec, &seen_cbs, &seen, &err);
	assert_non_null(t);
	pump(f, t);
	assert_int_equal(seen.fallbacks, 1);
	assert_int_equal(t->state, MSG_COMPLETE);
	assert_string_equal(t->model->name, "sim");
	assert_int_equal(seen.text, 1);
	turn_free(t);
	buf_free(&seen.raw);
	session_free(s);
}

/* Fill s with n exchanges of about words words each (the simulated provider answers a
 * summary of them in four tokens). */
static void
fill(struct session *s, int n, int words)
{
	struct buf b = BUF_INIT;
	int i, k;

	for (i = 0; i < n; i++) {
		buf_reset(&b);
		buf_puts(&b, "tokens=4 ");
		for (k = 1; k < words; k++)
			buf_puts(&b, "word ");
		session_append_user(s, buf_str(&b));
		session_begin_reply(s, "simulated", "tiny");
		session_reply_text(s, buf_str(&b), b.len);
		session_reply_end(s, MSG_COMPLETE, NULL, -1, NULL, NULL);
	}
	buf_free(&b);
}

/* Drop: with a 60-token window the oldest exchanges stay out of the request; the provider
 * counts (one simulated token a word) show what was sent. */
static void
test_budget_drop(void **state)
{
	struct fx *f = *state;
	struct session *s = session_new(NULL, "simulated", "tiny");
	struct turn_spec spec = { .model = model_of(f, "tiny"), .column = -1 };
	struct turn *t;
	char *err = NULL;

	fill(s, 4, 10);        /* 4 exchanges of 2 x 50 bytes: about 100 estimated tokens */
	session_append_user(s, "tokens=3 last question");
	t = turn_start(&f->env, s, &spec, NULL, NULL, &err);
	assert_non_null(t);
	assert_true(t->dropped > 0);
	assert_true(t->sent_tokens <= 45);   /* 60 minus a quarter kept for the reply */
	pump(f, t);
	/* Sent: what fits, in words; everything would be 83 words. */
	assert_true(t->usage.input_tokens > 0);
	assert_true(t->usage.input_tokens < 83);
	assert_true(s->token_ratio > 0);
	assert_int_equal(s->nmsgs, 10);     /* nothing stored is deleted */
	turn_free(t);
	session_free(s);
}

/* Refuse: nothing is sent and the session is unchanged; a history that fits goes out. */
static void
test_budget_refuse(void **state)
{
	struct fx *f = *state;
	struct session *s = session_new(NULL, "simulated", "tiny");
	struct turn_spec spec = { .model = model_of(f, "tiny"), .column = -1,
	    .policy = CONTEXT_REFUSE };
	struct seen seen = { 0 };
	struct turn *t;
	char *err = NULL;

	fill(s, 4, 10);
	session_append_user(s, "tokens=3 last");
	t = turn_start(&f->env, s, &spec, &seen_cbs, &seen, &err);
	assert_null(t);
	assert_non_null(err);
	assert_non_null(strstr(err, "context window of 60 tokens"));
	free(err);
	assert_int_equal(s->nmsgs, 9);
	assert_int_equal(seen.frees, 0);
	session_free(s);
	s = session_new(NULL, "simulated", "tiny");
	session_append_user(s, "tokens=3 short");
	t = turn_start(&f->env, s, &spec, NULL, NULL, &err);
	assert_non_null(t);
	assert_int_equal(t->dropped, 0);
	pump(f, t);
	turn_free(t);
	session_free(s);
}

/* Calibration: a provider counting more tokens than the estimate shrinks what is sent. */
static void
test_calibration(void **state)
{
	struct fx *f = *state;
	struct session *s = session_new(NULL, "simulated", "tiny");
	struct turn_spec spec = { .model = model_of(f, "tiny"), .column = -1 };
	struct turn *t;
	size_t plain;
	char *err = NULL;

	fill(s, 4, 10);
	session_append_user(s, "tokens=3 q");
	t = turn_start(&f->env, s, &spec, NULL, NULL, &err);
	plain = t->sent_tokens;
	pump(f, t);
	turn_free(t);
	s->token_ratio = 3.0;          /* as if the provider had counted three times more */
	session_append_user(s, "tokens=3 q");
	t = turn_start(&f->env, s, &spec, NULL, NULL, &err);
	assert_non_null(t);
	assert_true(t->sent_tokens < plain);
	assert_true(t->sent_tokens * 3 <= 45);
	pump(f, t);
	turn_free(t);
	session_free(s);
}

/* Cancel keeps what arrived and completes once, as cancelled. */
static void
test_cancel(void **state)
{
	struct fx *f = *state;
	struct session *s = session_new(NULL, "slow", "simulated");
	struct turn_spec spec = { .model = model_of(f, "slowsim"), .column = -1 };
	struct seen seen = { 0 };
	struct pollfd pfd = { worker_fd(f->w), POLLIN, 0 };
	struct wevent *ev;
	struct turn *t;
	char *err = NULL;
	int rounds = 0;

	session_append_user(s, "tokens=2000 go");
	t = turn_start(&f->env, s, &spec, &seen_cbs, &seen, &err);
	assert_non_null(t);
	while (seen.text == 0 && rounds++ < 500) {
		poll(&pfd, 1, 10);
		while ((ev = worker_next(f->w)) != NULL) {
			turn_event(t, ev);
			wevent_free(ev);
		}
	}
	assert_true(seen.text > 0);
	turn_cancel(t);
	pump(f, t);
	assert_int_equal(t->state, MSG_CANCELLED);
	assert_int_equal(seen.completes, 1);
	assert_true(s->msgs[1].content.len > 0);
	assert_int_equal(s->msgs[1].state, MSG_CANCELLED);
	turn_free(t);
	buf_free(&seen.raw);
	session_free(s);
}

/* Summarize: the older turns are folded into a summary by the same model first (the front
 * end is told it waits for it), the summary is kept with the session and sent instead of
 * them, and a later turn refreshes it when it falls behind. */
static void
test_budget_summarize(void **state)
{
	struct fx *f = *state;
	struct session *s = session_new(NULL, "simulated", "tinysum");
	struct turn_spec spec = { .model = model_of(f, "tinysum"), .column = -1,
	    .keep_turns = 2 };
	struct seen seen = { 0 };
	struct turn *t;
	size_t first;
	char *err = NULL;

	fill(s, 4, 10);
	session_append_user(s, "tokens=3 last question");
	t = turn_start(&f->env, s, &spec, &seen_cbs, &seen, &err);
	assert_non_null(t);
	assert_true(t->summarizing);
	assert_int_equal(seen.waits, 1);
	assert_non_null(strstr(t->wait_msg, "summarizing"));
	assert_int_equal(s->nmsgs, 10);          /* the reply is open, empty, while it waits */
	pump(f, t);
	assert_int_equal(t->state, MSG_COMPLETE);
	assert_non_null(s->summary);
	assert_true(strlen(s->summary) > 0);
	/* keep 2 exchanges: the last full one (messages 6, 7) and the new prompt (8), sent
	 * after the short summary. */
	assert_int_equal(s->summary_covers, 6);
	assert_int_equal(t->summarized, 6);
	assert_int_equal(s->view_from, 6);
	assert_int_equal(t->dropped, 0);
	assert_true(t->sum_rounds >= 1);
	assert_int_equal(s->msgs[9].state, MSG_COMPLETE);
	assert_true(s->msgs[9].content.len > 0);
	first = s->summary_covers;
	turn_free(t);
	/* The next turn: the summary fell behind by one exchange and is refreshed. */
	session_append_user(s, "tokens=3 next");
	seen.waits = 0;
	t = turn_start(&f->env, s, &spec, &seen_cbs, &seen, &err);
	assert_non_null(t);
	assert_true(t->summarizing);
	pump(f, t);
	assert_true(s->summary_covers > first);
	assert_int_equal(s->summary_covers, 8);
	assert_int_equal(t->state, MSG_COMPLETE);
	turn_free(t);
	buf_free(&seen.raw);
	session_free(s);
}

/* A summary that cannot be made drops the old turns instead, and says so. */
static void
test_summarize_fails(void **state)
{
	struct fx *f = *state;
	struct session *s = session_new(NULL, "simulated", "tinysum");
	struct turn_spec spec = { .model = model_of(f, "tinysum"), .column = -1,
	    .keep_turns = 1 };
	struct seen seen = { 0 };
	struct turn *t;
	char *err = NULL;

	session_append_user(s, "error=auth word word word word word word word word word word");
	session_begin_reply(s, "simulated", "tinysum");
	session_reply_text(s, "word word word word word word word word word word", 50);
	session_reply_end(s, MSG_COMPLETE, NULL, -1, NULL, NULL);
	fill(s, 2, 10);
	session_append_user(s, "tokens=3 now");
	t = turn_start(&f->env, s, &spec, &seen_cbs, &seen, &err);
	assert_non_null(t);
	assert_true(t->summarizing);
	pump(f, t);
	assert_int_equal(t->state, MSG_COMPLETE);
	assert_null(s->summary);
	assert_non_null(t->note);
	assert_non_null(strstr(t->note, "could not summarize"));
	assert_true(t->dropped > 0);
	turn_free(t);
	buf_free(&seen.raw);
	session_free(s);
}

/* A pinned message is sent whatever the budget drops, in its place; the view starts after
 * the dropped ones. */
static void
test_budget_pinned(void **state)
{
	struct fx *f = *state;
	struct session *s = session_new(NULL, "simulated", "tiny");
	struct session_fit fit = { .budget = 45 };
	struct request *r;
	struct model *m = model_of(f, "tiny");
	size_t k;

	session_append_user(s, "PINNED remember the word teapot, word word word word word");
	session_begin_reply(s, "simulated", "tiny");
	session_reply_text(s, "noted: teapot, word word word word word word word word", 54);
	session_reply_end(s, MSG_COMPLETE, NULL, -1, NULL, NULL);
	fill(s, 3, 10);
	session_append_user(s, "tokens=3 last");
	assert_int_equal(session_set_pinned(s, 0, 1), 0);
	r = session_request_fit(s, m->provider, m->id, NULL, s->nmsgs, -1, &fit);
	assert_true(fit.dropped > 0);
	assert_non_null(strstr(r->msgs[0].content, "PINNED"));
	for (k = 1; k < r->nmsgs; k++)
		assert_null(strstr(r->msgs[k].content, "noted: teapot"));
	assert_string_equal(r->msgs[r->nmsgs - 1].content, "tokens=3 last");
	assert_true(fit.first > 1);
	request_free(r);
	/* Unpinned, it goes like the rest. */
	assert_int_equal(session_set_pinned(s, 0, 0), 0);
	memset(&fit, 0, sizeof(fit));
	fit.budget = 45;
	r = session_request_fit(s, m->provider, m->id, NULL, s->nmsgs, -1, &fit);
	for (k = 0; k < r->nmsgs; k++)
		assert_null(strstr(r->msgs[k].content, "PINNED"));
	request_free(r);
	session_free(s);
}

/* The rolling summary and the pins are kept with the stored session: a natter that loads
 * it later refreshes the summary rather than redoing it. */
static void
test_summary_stored(void **state)
{
	struct fx *f = *state;
	struct session *s = session_new(f->st, "simulated", "tinysum"), *back;
	struct turn_spec spec = { .model = model_of(f, "tinysum"), .column = -1,
	    .keep_turns = 2 };
	struct turn *t;
	char *err = NULL;

	fill(s, 4, 10);
	assert_int_equal(session_set_pinned(s, 2, 1), 0);
	session_append_user(s, "tokens=3 last question");
	t = turn_start(&f->env, s, &spec, NULL, NULL, &err);
	assert_non_null(t);
	pump(f, t);
	assert_non_null(s->summary);
	back = session_load(f->st, s->id);
	assert_non_null(back);
	assert_non_null(back->summary);
	assert_string_equal(back->summary, s->summary);
	assert_int_equal(back->summary_covers, s->summary_covers);
	assert_true(back->msgs[2].pinned);
	assert_false(back->msgs[1].pinned);
	session_free(back);
	turn_free(t);
	session_free(s);
}

/* Parameters the model refuses stop the turn before anything is sent or stored. */
static void
test_params_refused(void **state)
{
	struct fx *f = *state;
	struct session *s = session_new(NULL, "simulated", "simulated");
	struct params msg = { 0 };
	struct turn_spec spec = { .model = model_of(f, "sim"), .column = -1, .message = &msg };
	struct turn *t;
	char *err = NULL;

	assert_int_equal(params_set(&msg, "temperature", "1.5", &err), 0);
	session_append_user(s, "hi");
	t = turn_start(&f->env, s, &spec, NULL, NULL, &err);
	assert_null(t);
	assert_non_null(err);
	assert_non_null(strstr(err, "temperature"));
	free(err);
	assert_int_equal(s->nmsgs, 1);
	params_free(&msg);
	session_free(s);
}

/* Run the turn tests. */
/* The config-wide defaults apply to each model as far as it takes them: a seed is dropped
 * for a model without seeds and a temperature brought into the model's range, while the
 * same values given for the message are refused. */
static void
test_global_defaults_fit(void **state)
{
	struct fx *f = *state;
	struct model *m = model_of(f, "sim");
	struct params out, msg = { 0 };
	char *err = NULL;
	size_t i;

	assert_int_equal(params_set(&f->cfg->defaults, "temperature", "1.5", &err), 0);
	assert_int_equal(params_set(&f->cfg->defaults, "top_k", "40", &err), 0);
	for (i = 0; i < config_schema_params_count; i++)
		if (config_schema_params[i].bit == PARAM_TOP_K)
			m->limits[i].accepted = 0;
	assert_int_equal(turn_params(f->cfg, m, NULL, NULL, &out, &err), 0);
	assert_null(err);
	assert_true(out.set & PARAM_TEMPERATURE);
	assert_true(out.temperature <= 1.0);
	assert_false(out.set & PARAM_TOP_K);
	params_free(&out);
	assert_int_equal(params_set(&msg, "top_k", "40", &err), 0);
	assert_int_not_equal(turn_params(f->cfg, m, NULL, &msg, &out, &err), 0);
	assert_non_null(err);
	free(err);
	params_free(&out);
	params_free(&msg);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_figures_stored),
		cmocka_unit_test(test_fallback),
		cmocka_unit_test(test_no_stream),
		cmocka_unit_test(test_budget_drop),
		cmocka_unit_test(test_budget_refuse),
		cmocka_unit_test(test_calibration),
		cmocka_unit_test(test_budget_summarize),
		cmocka_unit_test(test_summarize_fails),
		cmocka_unit_test(test_budget_pinned),
		cmocka_unit_test(test_summary_stored),
		cmocka_unit_test(test_cancel),
		cmocka_unit_test(test_params_refused),
		cmocka_unit_test(test_global_defaults_fit),
	};

	worker_global_init();
	return cmocka_run_group_tests(tests, fx_setup, fx_teardown);
}
