/*
 * Tool rounds of the turn, driven by the real worker and the simulated provider (which calls
 * the tools its prompt names and then answers with their results): calls and results
 * stored as messages of their own and sent back, approval and refusal, a tool nobody
 * offered, the repeat guard, the round cap, cancelling while a call waits, and the stored
 * session replayed as a request.
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
#include "resolve.h"
#include "session.h"
#include "store.h"
#include "turn.h"
#include "worker.h"
#include "xmalloc.h"

static const char tools_yaml[] =
    "providers:\n"
    "  simulated: {protocol: simulated}\n"
    "models:\n"
    "  sim: {provider: simulated, id: simulated}\n";

/* The fixture: config, worker, env, a store, and what the callbacks saw. */
struct fx {
	struct config *cfg;
	struct worker *w;
	struct turn_env env;
	struct store *st;
	char cfgpath[64];
	char dbpath[64];
	int completes, approvals, tool_updates, notes;
	long asked;                 /* the call waiting for approval, -1 when none */
	int answer;                 /* 1 yes, 0 no, -1 leave it waiting */
	struct buf log;             /* "run NAME ARGS|" per run */
};

/* The toolbox's run: echo answers with its text argument at once, fail fails. */
static int
fx_run(struct turn *t, size_t k, void *arg, char **err)
{
	struct fx *f = arg;
	const struct turn_call *c = &t->calls[k];

	buf_printf(&f->log, "run %s %s|", c->name, c->args);
	if (strcmp(c->name, "broken") == 0) {
		*err = xstrdup("no such program");
		return -1;
	}
	turn_tool_done(t, k, strcmp(c->name, "fail") == 0 ? "it failed" : c->args,
	    strcmp(c->name, "fail") == 0);
	return 0;
}

static const struct turn_tool fx_tools[] = {
	{ "echo", "Say it back", "{\"type\":\"object\",\"properties\":{\"text\":"
	    "{\"type\":\"string\"}}}", 1, NULL },
	{ "fail", "Always fails", NULL, 1, NULL },
	{ "broken", "Cannot start", NULL, 1, NULL },
	{ "ask", "Needs approval", NULL, 0, NULL },
};

/* Record an update; answer approvals as the fixture says. */
static void
fx_update(struct turn *t, unsigned what, const char *p, size_t n, void *arg)
{
	struct fx *f = arg;

	(void)p;
	if (what & TURN_TOOL)
		f->tool_updates++;
	if (what & TURN_FALLBACK)
		f->notes++;
	if (what & TURN_APPROVE) {
		f->approvals++;
		f->asked = (long)n;
		if (f->answer >= 0)
			turn_approve(t, n, f->answer, NULL, "not now");
	}
}

/* Count completions. */
static void
fx_complete(struct turn *t, void *arg)
{
	(void)t;
	((struct fx *)arg)->completes++;
}

static const struct turn_cbs fx_cbs = { fx_update, fx_complete, NULL };

/* Config, worker, store. */
static int
fx_setup(void **state)
{
	struct fx *f = xcalloc(1, sizeof(*f));
	struct config_errors errs = { NULL, 0 };
	char *err = NULL;
	FILE *fp;
	int fd;

	snprintf(f->cfgpath, sizeof(f->cfgpath), "/tmp/natter-tt-cfg.XXXXXX");
	fd = mkstemp(f->cfgpath);
	assert_true(fd >= 0);
	fp = fdopen(fd, "w");
	fputs(tools_yaml, fp);
	fclose(fp);
	f->cfg = config_load(f->cfgpath, CONFIG_NO_DEFAULTS | CONFIG_NO_KEYCMD, &errs);
	if (errs.n > 0)
		fail_msg("config: %s", errs.v[0]);
	config_errors_free(&errs);
	snprintf(f->dbpath, sizeof(f->dbpath), "/tmp/natter-tt-db.XXXXXX");
	fd = mkstemp(f->dbpath);
	close(fd);
	unlink(f->dbpath);
	f->st = store_open(f->dbpath, &err);
	if (f->st == NULL)
		fail_msg("store: %s", err);
	f->w = worker_start();
	f->env.cfg = f->cfg;
	f->env.w = f->w;
	f->asked = -1;
	f->answer = 1;
	buf_init(&f->log);
	*state = f;
	return 0;
}

/* Stop everything and remove the files. */
static int
fx_teardown(void **state)
{
	struct fx *f = *state;
	const char *const sfx[] = { "", "-wal", "-shm", "-lease" };
	char p[96];
	size_t i;

	worker_stop(f->w);
	store_close(f->st);
	config_free(f->cfg);
	unlink(f->cfgpath);
	for (i = 0; i < 4; i++) {
		snprintf(p, sizeof(p), "%s%s", f->dbpath, sfx[i]);
		unlink(p);
	}
	buf_free(&f->log);
	free(f);
	return 0;
}

/* Pump worker events into t until it is done or waits for approval (10 s at most). */
static void
pump(struct fx *f, struct turn *t)
{
	struct pollfd pfd = { worker_fd(f->w), POLLIN, 0 };
	struct wevent *ev;
	int rounds = 0;

	while (!t->done && rounds++ < 1000) {
		if (f->answer < 0 && f->asked >= 0)
			return;
		poll(&pfd, 1, 10);
		while ((ev = worker_next(f->w)) != NULL) {
			turn_event(t, ev);
			wevent_free(ev);
		}
		session_reply_flush(t->sess);
	}
}

/* Start a turn with the toolbox on prompt, in a new stored session. */
static struct turn *
fx_turn(struct fx *f, struct session **sp, const char *prompt, int max_rounds)
{
	static struct turn_toolbox tb;
	struct resolved r;
	struct turn_spec spec = { .column = -1 };
	struct turn *t;
	char *err = NULL;

	tb.tools = fx_tools;
	tb.n = sizeof(fx_tools) / sizeof(fx_tools[0]);
	tb.run = fx_run;
	tb.arg = f;
	tb.max_rounds = max_rounds;
	assert_int_equal(resolve_model(f->cfg, "sim", NULL, &r), RESOLVE_OK);
	spec.model = r.model;
	spec.tools = &tb;
	*sp = session_new(f->st, "simulated", "simulated");
	session_append_user(*sp, prompt);
	t = turn_start(&f->env, *sp, &spec, &fx_cbs, f, &err);
	assert_non_null(t);
	return t;
}

/* The session's messages as "role:content|" (tool messages with their name and error). */
static char *
fx_transcript(const struct session *s)
{
	static const char *const roles[] = { "system", "user", "assistant", "call", "result" };
	struct buf b = BUF_INIT;
	size_t i;

	for (i = 0; i < s->nmsgs; i++) {
		const struct session_msg *m = &s->msgs[i];

		buf_printf(&b, "%s", roles[m->role]);
		if (m->role == ROLE_TOOL_CALL || m->role == ROLE_TOOL)
			buf_printf(&b, "(%s%s)", m->tool_name, m->tool_error ? ",error" : "");
		buf_printf(&b, ":%s|", buf_str(&m->content));
	}
	return buf_detach(&b);
}

/* Assert the transcript of s. */
static void
assert_transcript(const struct session *s, const char *want)
{
	char *got = fx_transcript(s);

	assert_string_equal(got, want);
	free(got);
}

/* An allowed tool runs at once; its call and result are stored as messages of their own,
 * sent back, and the model answers with the result. Reloaded from the store, the session
 * is the same, and its next request carries the call on the reply with its result. */
static void
test_round_trip(void **state)
{
	struct fx *f = *state;
	struct session *s, *back;
	struct request *req;
	struct session_fit fit = { 0 };
	struct turn *t = fx_turn(f, &s, "call=echo args={\"text\":\"hi\"}", 0);
	const char *want = "user:call=echo args={\"text\":\"hi\"}|assistant:Calling echo.|"
	    "call(echo):{\"text\":\"hi\"}|result(echo):{\"text\":\"hi\"}|"
	    "assistant:The tool said: {\"text\":\"hi\"}|";

	pump(f, t);
	assert_true(t->done);
	assert_int_equal(f->completes, 1);
	assert_int_equal(t->state, MSG_COMPLETE);
	assert_int_equal(t->round, 1);
	assert_int_equal(t->calls[0].state, CALL_OK);
	assert_string_equal(buf_str(&f->log), "run echo {\"text\":\"hi\"}|");
	assert_transcript(s, want);
	back = session_load(f->st, s->id);
	assert_non_null(back);
	assert_transcript(back, want);
	fit.skip = 0;
	req = session_request_fit(back, f->cfg->models[0].provider, "simulated", NULL,
	    back->nmsgs, -1, &fit);
	assert_int_equal(req->nmsgs, 4);
	assert_int_equal(req->msgs[1].role, ROLE_ASSISTANT);
	assert_int_equal(req->msgs[1].ncalls, 1);
	assert_string_equal(req->msgs[1].calls[0].id, "sim_call_1_1");
	assert_int_equal(req->msgs[2].role, ROLE_TOOL);
	assert_string_equal(req->msgs[2].tool_id, "sim_call_1_1");
	request_free(req);
	session_free(back);
	turn_free(t);
	session_free(s);
}

/* Failures are results too: a failing tool, one that cannot start and one nobody offered
 * are answered with errors in one round, and the model hears about each. */
static void
test_failures(void **state)
{
	struct fx *f = *state;
	struct session *s;
	struct turn *t = fx_turn(f, &s, "call=fail call=broken call=nosuch", 0);

	pump(f, t);
	assert_true(t->done);
	assert_int_equal(t->ncalls, 3);
	assert_int_equal(t->calls[0].state, CALL_ERROR);
	assert_int_equal(t->calls[1].state, CALL_ERROR);
	assert_int_equal(t->calls[2].state, CALL_ERROR);
	assert_string_equal(t->calls[1].result, "the tool could not be started: no such program");
	assert_string_equal(t->calls[2].result, "there is no tool named nosuch");
	assert_transcript(s, "user:call=fail call=broken call=nosuch|"
	    "assistant:Calling fail, broken, nosuch.|call(fail):{}|call(broken):{}|"
	    "call(nosuch):{}|result(nosuch,error):there is no tool named nosuch|"
	    "result(fail,error):it failed|"
	    "result(broken,error):the tool could not be started: no such program|"
	    "assistant:The tool said: the tool could not be started: no such program|");
	turn_free(t);
	session_free(s);
}

/* A tool off the allow list waits for the user: yes runs it, no tells the model why. */
static void
test_approval(void **state)
{
	struct fx *f = *state;
	struct session *s;
	struct turn *t;

	f->answer = 1;
	t = fx_turn(f, &s, "call=ask", 0);
	pump(f, t);
	assert_true(t->done);
	assert_int_equal(f->approvals, 1);
	assert_int_equal(t->calls[0].state, CALL_OK);
	assert_string_equal(buf_str(&f->log), "run ask {}|");
	turn_free(t);
	session_free(s);

	f->answer = 0;
	f->approvals = 0;
	t = fx_turn(f, &s, "call=ask", 0);
	pump(f, t);
	assert_true(t->done);
	assert_int_equal(f->approvals, 1);
	assert_int_equal(t->calls[0].state, CALL_REFUSED);
	assert_string_equal(buf_str(&f->log), "run ask {}|");
	assert_non_null(strstr(buf_str(&s->msgs[s->nmsgs - 1].content),
	    "the user refused this call: not now"));
	turn_free(t);
	session_free(s);
}

/* Esc while a call waits for approval: the call is answered as cancelled, the turn ends
 * cancelled, once, and nothing runs. */
static void
test_cancel_waiting(void **state)
{
	struct fx *f = *state;
	struct session *s;
	struct turn *t;

	f->answer = -1;
	t = fx_turn(f, &s, "call=ask", 0);
	pump(f, t);
	assert_false(t->done);
	assert_int_equal(t->calls[0].state, CALL_ASKING);
	turn_cancel(t);
	assert_true(t->done);
	assert_int_equal(f->completes, 1);
	assert_int_equal(t->state, MSG_CANCELLED);
	assert_int_equal(t->calls[0].state, CALL_CANCELLED);
	assert_string_equal(buf_str(&f->log), "");
	assert_transcript(s, "user:call=ask|assistant:Calling ask.|call(ask):{}|"
	    "result(ask,error):the user cancelled this call|");
	turn_free(t);
	session_free(s);
}

/* A turn freed while its call waits for approval (natter quitting, a new chat) answers
 * the call as cancelled in the session, so no call is ever left without its result. */
static void
test_free_waiting(void **state)
{
	struct fx *f = *state;
	struct session *s;
	struct turn *t;

	f->answer = -1;
	t = fx_turn(f, &s, "call=ask", 0);
	pump(f, t);
	assert_false(t->done);
	assert_int_equal(t->calls[0].state, CALL_ASKING);
	turn_free(t);
	assert_int_equal(f->completes, 0);
	assert_transcript(s, "user:call=ask|assistant:Calling ask.|call(ask):{}|"
	    "result(ask,error):the user cancelled this call (the turn ended before it was "
	    "answered)|");
	session_free(s);
}

/* The same round of calls three times in a row stops the loop with a note; a cap on
 * rounds stops it too. */
static void
test_loop_guards(void **state)
{
	struct fx *f = *state;
	struct session *s;
	struct turn *t = fx_turn(f, &s, "loop call=echo", 0);

	pump(f, t);
	assert_true(t->done);
	assert_int_equal(t->round, TURN_MAX_REPEATS);
	assert_non_null(t->note);
	assert_non_null(strstr(t->note, "same calls came 3 times"));
	assert_true(t->loop_stopped);
	assert_int_equal(f->completes, 1);
	turn_free(t);
	session_free(s);

	t = fx_turn(f, &s, "loop call=echo", 2);
	pump(f, t);
	assert_true(t->done);
	assert_int_equal(t->round, 2);
	assert_non_null(strstr(t->note, "stopped after 2 tool rounds"));
	assert_true(t->loop_stopped);
	turn_free(t);
	session_free(s);
}

/* Each column of a comparison runs its own loop: calls, results and the replies after
 * them stay in their column (stored with it), and each column's history holds only its
 * own round trip. */
static void
test_columns(void **state)
{
	struct fx *f = *state;
	static struct turn_toolbox tb;
	struct session *s = session_new(f->st, "simulated", "simulated"), *back;
	struct turn *t[2];
	struct resolved r;
	struct request *req;
	struct session_fit fit = { 0 };
	char *err = NULL;
	int64_t g;
	size_t from, i, k;
	int c;

	tb.tools = fx_tools;
	tb.n = sizeof(fx_tools) / sizeof(fx_tools[0]);
	tb.run = fx_run;
	tb.arg = f;
	assert_int_equal(resolve_model(f->cfg, "sim", NULL, &r), RESOLVE_OK);
	from = session_append_round(s, "call=echo args={\"text\":\"col\"}", &g);
	for (c = 0; c < 2; c++) {
		struct turn_spec spec = { .model = r.model, .column = c, .from = from, .group = g,
		    .no_fallback = 1, .tools = &tb };

		t[c] = turn_start(&f->env, s, &spec, &fx_cbs, f, &err);
		assert_non_null(t[c]);
	}
	for (i = 0; i < 1000 && !(t[0]->done && t[1]->done); i++) {
		struct pollfd pfd = { worker_fd(f->w), POLLIN, 0 };
		struct wevent *ev;

		poll(&pfd, 1, 10);
		while ((ev = worker_next(f->w)) != NULL) {
			turn_route(t, 2, ev);
			wevent_free(ev);
		}
		session_reply_flush(s);
	}
	assert_true(t[0]->done && t[1]->done);
	assert_int_equal(t[0]->round, 1);
	assert_int_equal(t[1]->round, 1);
	back = session_load(f->st, s->id);
	assert_non_null(back);
	for (c = 0; c < 2; c++) {
		size_t calls = 0, results = 0, replies = 0;

		for (k = 1; k < back->nmsgs; k++) {
			const struct session_msg *m = &back->msgs[k];

			assert_int_equal(m->compare_group, back->msgs[0].compare_group);
			if (m->slot != c)
				continue;
			calls += m->role == ROLE_TOOL_CALL;
			results += m->role == ROLE_TOOL;
			replies += m->role == ROLE_ASSISTANT;
		}
		assert_int_equal(calls, 1);
		assert_int_equal(results, 1);
		assert_int_equal(replies, 2);
		req = session_request_fit(back, f->cfg->models[0].provider, "simulated", NULL,
		    from, c, &fit);
		/* The prompt, the reply that called, its result, its answer. */
		assert_int_equal(req->nmsgs, 4);
		assert_int_equal(req->msgs[1].ncalls, 1);
		assert_int_equal(req->msgs[2].role, ROLE_TOOL);
		assert_string_equal(req->msgs[3].content, "The tool said: {\"text\":\"col\"}");
		request_free(req);
	}
	session_free(back);
	turn_free(t[0]);
	turn_free(t[1]);
	session_free(s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_round_trip, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_failures, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_approval, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_cancel_waiting, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_free_waiting, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_loop_guards, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_columns, fx_setup, fx_teardown),
	};

	worker_global_init();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
