/* Unit tests for the worker thread, driven by the offline simulated provider (and a closed
 * port for the transport path): token counts, concurrency, cancel, stop, coalescing, the fd;
 * eight concurrent HTTP streams in all four protocols against the fake server; the limits
 * (deadlines, line cap, skipped events) against it; and no_stream requests (whole replies)
 * in all four protocols, with their limits, cancellation, a key pool and the simulator. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <poll.h>
#include <signal.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "apierr.h"
#include "buf.h"
#include "json.h"
#include "keypool.h"
#include "log.h"
#include "proto-simulated.h"
#include "provider.h"
#include "request.h"
#include "secret.h"
#include "worker.h"
#include "xmalloc.h"

#define MAXS 8

/* Everything one stream delivered. */
struct got {
	uint64_t id;
	struct buf text;
	struct buf reasoning;
	int ntext_events;
	int nreason_events;
	int nretry;
	int ndone;
	int events_after_done;
	int complete;
	int cancelled;
	long output_tokens;
	long ttft_ms;
	enum apierr_class err_cls;
	int has_err;
	enum apierr_kind err_kind;
	struct buf err_msg;
	char *warning;
};

/* Milliseconds on the monotonic clock. */
static long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

/* A simulated provider streaming at rate tokens/s (0 = as fast as possible). */
static struct provider *
sim_provider(double rate)
{
	struct provider *p = provider_new("simulated", "simulated", "simulated:");

	p->local = 1;
	p->sim_tokens_per_s = rate;
	return p;
}

/* A request asking p for prompt. */
static struct request *
mkreq(const struct provider *p, const char *prompt)
{
	struct request *r = request_new(p, "simulated");

	request_add(r, ROLE_USER, prompt);
	return r;
}

/* Record one event into the matching got. */
static void
record(struct got *g, int n, struct wevent *ev)
{
	int i;

	for (i = 0; i < n; i++) {
		if (g[i].id != ev->id)
			continue;
		if (g[i].ndone > 0)
			g[i].events_after_done++;
		switch (ev->type) {
		case WEV_TEXT:
			buf_append(&g[i].text, ev->text, ev->len);
			g[i].ntext_events++;
			break;
		case WEV_REASONING:
			buf_append(&g[i].reasoning, ev->text, ev->len);
			g[i].nreason_events++;
			break;
		case WEV_RETRY:
			g[i].nretry++;
			break;
		case WEV_DONE:
			g[i].ndone++;
			g[i].complete = ev->complete;
			g[i].cancelled = ev->cancelled;
			g[i].output_tokens = ev->usage.output_tokens;
			g[i].ttft_ms = ev->ttft_ms;
			if (ev->error != NULL) {
				g[i].has_err = 1;
				g[i].err_cls = ev->error->cls;
				g[i].err_kind = ev->error->kind;
				buf_puts(&g[i].err_msg, ev->error->message);
			}
			if (ev->warning != NULL)
				g[i].warning = xstrdup(ev->warning);
			break;
		default:
			break;
		}
	}
	wevent_free(ev);
}

/* Number of streams in g that have not finished. */
static int
pending(const struct got *g, int n)
{
	int i, k = 0;

	for (i = 0; i < n; i++)
		k += g[i].ndone == 0;
	return k;
}

/* Poll the worker and record events until every stream is done or timeout_ms passes. */
static void
pump(struct worker *w, struct got *g, int n, long timeout_ms)
{
	struct pollfd pfd = { worker_fd(w), POLLIN, 0 };
	long end = now_ms() + timeout_ms;
	struct wevent *ev;

	while (pending(g, n) > 0 && now_ms() < end) {
		poll(&pfd, 1, 100);
		while ((ev = worker_next(w)) != NULL)
			record(g, n, ev);
	}
}

/* Count whitespace-separated words. */
static long
words(const char *s)
{
	long n = 0;
	int in = 0;

	for (; s != NULL && *s != '\0'; s++) {
		if (*s == ' ' || *s == '\n' || *s == '\t')
			in = 0;
		else if (!in) {
			in = 1;
			n++;
		}
	}
	return n;
}

/* Free what a got holds. */
static void
got_free(struct got *g, int n)
{
	int i;

	for (i = 0; i < n; i++) {
		buf_free(&g[i].text);
		buf_free(&g[i].reasoning);
		buf_free(&g[i].err_msg);
		free(g[i].warning);
	}
}

/* Run one stream of prompt at rate and check it delivers exactly ntok tokens. */
static void
one_stream(double rate, const char *prompt, long ntok, long max_ms)
{
	struct provider *p = sim_provider(rate);
	struct worker *w = worker_start();
	struct got g;
	long t0 = now_ms();

	memset(&g, 0, sizeof(g));
	g.id = worker_submit(w, mkreq(p, prompt));
	assert_true(g.id > 0);
	pump(w, &g, 1, 20000);
	assert_int_equal(g.ndone, 1);
	assert_int_equal(g.complete, 1);
	assert_int_equal(g.cancelled, 0);
	assert_int_equal(g.has_err, 0);
	assert_int_equal(g.nretry, 0);
	assert_int_equal(words(buf_str(&g.text)), ntok);
	assert_int_equal(g.output_tokens, ntok);
	assert_true(g.ttft_ms >= 0);
	assert_true(now_ms() - t0 <= max_ms);
	if (ntok >= 10)
		assert_non_null(strstr(buf_str(&g.text), "simulated"));
	worker_stop(w);
	provider_free(p);
	got_free(&g, 1);
}

/* As fast as possible: exactly N tokens and one complete DONE. */
static void
test_tokens_rate0(void **state)
{
	(void)state;
	worker_global_init();
	one_stream(0, "tell me tokens=3000", 3000, 10000);
	one_stream(0, "tokens=1", 1, 5000);
}

/* At a finite rate the stream takes about N/rate seconds and still has N tokens. */
static void
test_tokens_rate(void **state)
{
	long t0 = now_ms();

	(void)state;
	one_stream(500, "paced tokens=100", 100, 10000);
	/* 100 tokens at 500/s: the 100th is due 198 ms after the first. */
	assert_true(now_ms() - t0 >= 190);
}

/* Reasoning tokens come first, on their own event type. */
static void
test_think(void **state)
{
	struct provider *p = sim_provider(0);
	struct worker *w = worker_start();
	struct got g;

	(void)state;
	memset(&g, 0, sizeof(g));
	g.id = worker_submit(w, mkreq(p, "think=7 tokens=5"));
	pump(w, &g, 1, 10000);
	assert_int_equal(g.ndone, 1);
	assert_int_equal(words(buf_str(&g.reasoning)), 7);
	assert_int_equal(words(buf_str(&g.text)), 5);
	assert_int_equal(g.output_tokens, 12);
	worker_stop(w);
	provider_free(p);
	got_free(&g, 1);
}

/* Eight streams at once each get their own full text. */
static void
test_concurrent(void **state)
{
	struct provider *p = sim_provider(2000);
	struct worker *w = worker_start();
	struct got g[MAXS];
	struct simulated_reply want;
	struct request *r;
	char prompt[64];
	int i;

	(void)state;
	memset(g, 0, sizeof(g));
	for (i = 0; i < MAXS; i++) {
		snprintf(prompt, sizeof(prompt), "stream%d tokens=%d", i, 100 + i * 7);
		g[i].id = worker_submit(w, mkreq(p, prompt));
	}
	pump(w, g, MAXS, 20000);
	for (i = 0; i < MAXS; i++) {
		snprintf(prompt, sizeof(prompt), "stream%d tokens=%d", i, 100 + i * 7);
		r = mkreq(p, prompt);
		simulated_reply(r, &want);
		assert_int_equal(g[i].ndone, 1);
		assert_int_equal(g[i].complete, 1);
		assert_int_equal(g[i].events_after_done, 0);
		assert_int_equal(words(buf_str(&g[i].text)), 100 + i * 7);
		assert_int_equal(g[i].text.len, want.ends[want.ntokens - 1]);
		assert_memory_equal(g[i].text.data, want.text.data, g[i].text.len);
		snprintf(prompt, sizeof(prompt), "\"stream%d\"", i);
		assert_non_null(strstr(buf_str(&g[i].text), prompt));
		simulated_reply_free(&want);
		request_free(r);
	}
	worker_stop(w);
	provider_free(p);
	got_free(g, MAXS);
}

/* Cancelling mid-stream ends it with cancelled=1 and keeps the partial text. */
static void
test_cancel(void **state)
{
	struct provider *p = sim_provider(200);
	struct worker *w = worker_start();
	struct pollfd pfd;
	struct wevent *ev;
	struct got g;
	long t0;

	(void)state;
	memset(&g, 0, sizeof(g));
	g.id = worker_submit(w, mkreq(p, "tokens=10000"));
	pfd.fd = worker_fd(w);
	pfd.events = POLLIN;
	t0 = now_ms();
	while (g.text.len < 40 && now_ms() - t0 < 5000) {
		poll(&pfd, 1, 100);
		while ((ev = worker_next(w)) != NULL)
			record(&g, 1, ev);
	}
	assert_true(g.text.len >= 40);
	worker_cancel(w, g.id);
	t0 = now_ms();
	pump(w, &g, 1, 5000);
	/* The cancel is handled at once, not after the remaining 50 s of tokens. */
	assert_true(now_ms() - t0 < 2000);
	assert_int_equal(g.ndone, 1);
	assert_int_equal(g.cancelled, 1);
	assert_int_equal(g.complete, 0);
	assert_int_equal(g.has_err, 0);
	assert_true(words(buf_str(&g.text)) < 10000);
	assert_true(words(buf_str(&g.text)) >= 5);
	/* Nothing more arrives for a cancelled stream. */
	usleep(100000);
	assert_null(worker_next(w));
	/* Cancelling an id that is already over is harmless. */
	worker_cancel(w, g.id);
	usleep(50000);
	assert_null(worker_next(w));
	worker_stop(w);
	provider_free(p);
	got_free(&g, 1);
}

/* Stopping with streams (and a retry timer, and unread events) in flight frees everything. */
static void
test_stop_in_flight(void **state)
{
	struct provider *p = sim_provider(100);
	struct provider *dead = provider_new("openai", "openai", "http://127.0.0.1:1/v1");
	struct worker *w = worker_start();
	int i;

	(void)state;
	dead->key = xstrdup("sk-test");
	dead->max_retries = 5;
	for (i = 0; i < 4; i++)
		worker_submit(w, mkreq(p, "tokens=5000 think=10"));
	worker_submit(w, request_new(dead, "gpt-x"));
	worker_models(w, p);
	usleep(150000);
	worker_stop(w);
	provider_free(p);
	provider_free(dead);
}

/* A reader that falls behind gets few, large events with the text intact. */
static void
test_coalescing(void **state)
{
	struct provider *p = sim_provider(0);
	struct worker *w = worker_start();
	struct simulated_reply want;
	struct request *r;
	struct got g;

	(void)state;
	memset(&g, 0, sizeof(g));
	g.id = worker_submit(w, mkreq(p, "tokens=20000"));
	/* Do not read while the whole reply is produced. */
	usleep(400000);
	pump(w, &g, 1, 10000);
	assert_int_equal(g.ndone, 1);
	assert_int_equal(words(buf_str(&g.text)), 20000);
	assert_true(g.ntext_events < 20000 / 512);
	r = mkreq(p, "tokens=20000");
	simulated_reply(r, &want);
	assert_int_equal(g.text.len, want.text.len);
	assert_memory_equal(g.text.data, want.text.data, want.text.len);
	simulated_reply_free(&want);
	request_free(r);
	worker_stop(w);
	provider_free(p);
	got_free(&g, 1);
}

/* The fd is readable exactly when events wait. */
static void
test_fd_readable(void **state)
{
	struct provider *p = sim_provider(0);
	struct worker *w = worker_start();
	struct pollfd pfd;
	struct wevent *ev;
	int done = 0;

	(void)state;
	pfd.fd = worker_fd(w);
	pfd.events = POLLIN;
	assert_int_equal(poll(&pfd, 1, 50), 0);
	worker_submit(w, mkreq(p, "tokens=3"));
	/* Wait until the whole short stream is queued, reading nothing yet. */
	assert_int_equal(poll(&pfd, 1, 5000), 1);
	usleep(100000);
	assert_int_equal(poll(&pfd, 1, 0), 1);
	while ((ev = worker_next(w)) != NULL) {
		done += ev->type == WEV_DONE;
		wevent_free(ev);
	}
	assert_int_equal(done, 1);
	assert_int_equal(poll(&pfd, 1, 100), 0);
	worker_stop(w);
	provider_free(p);
}

/* Simulated errors: auth fails at once, overloaded is retried then fails. */
static void
test_sim_errors(void **state)
{
	struct provider *p = sim_provider(0);
	struct worker *w = worker_start();
	struct got g[2];

	(void)state;
	p->max_retries = 1;
	memset(g, 0, sizeof(g));
	g[0].id = worker_submit(w, mkreq(p, "error=auth"));
	g[1].id = worker_submit(w, mkreq(p, "error=overloaded"));
	pump(w, g, 2, 10000);
	assert_int_equal(g[0].ndone, 1);
	assert_int_equal(g[0].nretry, 0);
	assert_true(g[0].has_err);
	assert_int_equal(g[0].err_cls, APIERR_AUTH);
	assert_int_equal(g[1].ndone, 1);
	assert_int_equal(g[1].nretry, 1);
	assert_int_equal(g[1].err_cls, APIERR_OVERLOADED);
	assert_int_equal(g[1].text.len, 0);
	worker_stop(w);
	provider_free(p);
	got_free(g, 2);
}

/* fault=cut stops half way: DONE not complete, with a truncation error and partial text. */
static void
test_sim_cut(void **state)
{
	struct provider *p = sim_provider(0);
	struct worker *w = worker_start();
	struct got g;

	(void)state;
	memset(&g, 0, sizeof(g));
	g.id = worker_submit(w, mkreq(p, "fault=cut tokens=40"));
	pump(w, &g, 1, 10000);
	assert_int_equal(g.ndone, 1);
	assert_int_equal(g.complete, 0);
	assert_true(g.has_err);
	assert_int_equal(g.err_cls, APIERR_TRUNCATED);
	assert_int_equal(words(buf_str(&g.text)), 20);
	worker_stop(w);
	provider_free(p);
	got_free(&g, 1);
}

/* A closed port is a transport connection error, retried before giving up. */
static void
test_connect_refused(void **state)
{
	struct provider *p = provider_new("openai", "openai", "http://127.0.0.1:1/v1");
	struct worker *w = worker_start();
	struct got g;

	(void)state;
	p->key = xstrdup("sk-test");
	p->max_retries = 1;
	memset(&g, 0, sizeof(g));
	g.id = worker_submit(w, request_new(p, "gpt-x"));
	pump(w, &g, 1, 10000);
	assert_int_equal(g.ndone, 1);
	assert_int_equal(g.nretry, 1);
	assert_true(g.has_err);
	assert_int_equal(g.err_kind, APIERR_TRANSPORT);
	assert_int_equal(g.err_cls, APIERR_CONNECTION);
	assert_int_equal(g.ttft_ms, -1);
	worker_stop(w);
	provider_free(p);
	got_free(&g, 1);
}

/* The simulated provider lists its models through one MODELS event. */
static void
test_models(void **state)
{
	struct provider *p = sim_provider(0);
	struct worker *w = worker_start();
	struct pollfd pfd;
	struct wevent *ev = NULL;
	uint64_t id;
	long t0 = now_ms();

	(void)state;
	id = worker_models(w, p);
	pfd.fd = worker_fd(w);
	pfd.events = POLLIN;
	while (ev == NULL && now_ms() - t0 < 5000) {
		poll(&pfd, 1, 100);
		ev = worker_next(w);
	}
	assert_non_null(ev);
	assert_int_equal(ev->type, WEV_MODELS);
	assert_int_equal(ev->id, id);
	assert_null(ev->error);
	assert_true(ev->models.n >= 1);
	assert_string_equal(ev->models.v[0].id, "simulated");
	assert_non_null(strstr(ev->models.v[0].display_name, "imulated"));
	wevent_free(ev);
	worker_stop(w);
	provider_free(p);
}

/* A model listing that quotes a registered key is masked too: the simulated provider lists
 * "simulated", which this test registers as if it were a key. */
static void
test_models_scrubbed(void **state)
{
	struct provider *p = sim_provider(0);
	struct worker *w = worker_start();
	struct pollfd pfd = { worker_fd(w), POLLIN, 0 };
	struct wevent *ev = NULL;
	long t0 = now_ms();

	(void)state;
	secret_add("simulated");
	worker_models(w, p);
	while (ev == NULL && now_ms() - t0 < 5000) {
		poll(&pfd, 1, 100);
		ev = worker_next(w);
	}
	assert_non_null(ev);
	assert_int_equal(ev->type, WEV_MODELS);
	assert_true(ev->models.n >= 1);
	assert_null(strstr(ev->models.v[0].id, "simulated"));
	assert_null(strstr(ev->models.v[0].display_name, "simulated"));
	wevent_free(ev);
	worker_stop(w);
	provider_free(p);
	secret_clear();
}

/* Run the worker tests. */
/* Start the fake server ($FAKESERVER) on an ephemeral port, replaying vectors (NULL: its
 * default file), accepting key and rate-limiting limit_key when they are not NULL; returns
 * its pid, *port set. */
static pid_t
fake_start_args(int *port, const char *vectors, const char *key, const char *limit_key)
{
	const char *bin = getenv("FAKESERVER");
	const char *argv[12];
	int fds[2], n = 0;
	pid_t pid;
	char line[64];
	FILE *f;

	*port = 0;
	if (bin == NULL || pipe(fds) != 0)
		return -1;
	argv[n++] = bin;
	argv[n++] = "--max-seconds";
	argv[n++] = "120";
	if (vectors != NULL) {
		argv[n++] = "--vectors";
		argv[n++] = vectors;
	}
	if (key != NULL) {
		argv[n++] = "--key";
		argv[n++] = key;
	}
	if (limit_key != NULL) {
		argv[n++] = "--limit-key";
		argv[n++] = limit_key;
	}
	argv[n] = NULL;
	pid = fork();
	if (pid == 0) {
		dup2(fds[1], 1);
		close(fds[0]);
		execv(bin, (char *const *)argv);
		_exit(127);
	}
	close(fds[1]);
	f = fdopen(fds[0], "r");
	if (f != NULL && fgets(line, sizeof(line), f) != NULL)
		sscanf(line, "PORT %d", port);
	if (f != NULL)
		fclose(f);
	return pid;
}

/* Start the fake server with its default vectors, or the vectors file given. */
static pid_t
fake_start_with(int *port, const char *vectors)
{
	return fake_start_args(port, vectors, NULL, NULL);
}

/* Start the fake server as it comes. */
static pid_t
fake_start(int *port)
{
	return fake_start_with(port, NULL);
}

/* Eight HTTP streams at once, two per protocol, through one worker: each gets exactly its
 * own reply from the fake server, complete, with no event after its DONE. */
static void
test_http_concurrent(void **state)
{
	static const char *protos[4] = { "openai", "anthropic", "gemini", "ollama" };
	static const char *paths[4] = { "/v1", "/v1", "/v1beta", "" };
	struct provider *p[4];
	struct worker *w;
	struct got g[MAXS];
	char prompt[64], base[128];
	int i, k, port;
	pid_t pid;

	(void)state;
	pid = fake_start(&port);
	assert_true(pid > 0);
	assert_true(port > 0);
	for (i = 0; i < 4; i++) {
		snprintf(base, sizeof(base), "http://127.0.0.1:%d%s", port, paths[i]);
		p[i] = provider_new(protos[i], protos[i], base);
		p[i]->key = xstrdup("sk-test-not-real");
	}
	w = worker_start();
	memset(g, 0, sizeof(g));
	for (i = 0; i < MAXS; i++) {
		struct request *r = request_new(p[i % 4], "fake-model");

		snprintf(prompt, sizeof(prompt), "tokens=%d delay_ms=1 burst=50", 500 + i * 37);
		request_add(r, ROLE_USER, prompt);
		g[i].id = worker_submit(w, r);
	}
	pump(w, g, MAXS, 30000);
	for (i = 0; i < MAXS; i++) {
		struct buf want = BUF_INIT;

		for (k = 1; k <= 500 + i * 37; k++)
			buf_printf(&want, k == 1 ? "w%d" : " w%d", k);
		assert_int_equal(g[i].ndone, 1);
		assert_int_equal(g[i].has_err, 0);
		assert_int_equal(g[i].complete, 1);
		assert_int_equal(g[i].events_after_done, 0);
		assert_string_equal(buf_str(&g[i].text), buf_str(&want));
		buf_free(&want);
	}
	worker_stop(w);
	for (i = 0; i < 4; i++)
		provider_free(p[i]);
	got_free(g, MAXS);
	kill(pid, SIGTERM);
	waitpid(pid, NULL, 0);
}

/*
 * A UI that stops reading holds the server back instead of filling memory: a 20 MB reply
 * is not queued whole while nobody takes events (with the key registered, so the text
 * held back for the scrubber counts too). The paused stream does not time out however
 * long its wait exceeds idle_timeout, and once read it is whole, byte for byte.
 */
static void
test_http_backpressure(void **state)
{
	static const char key[] = "sk-backpressure-0123456789";
	struct provider *p;
	struct worker *w;
	struct wevent *ev;
	struct got g;
	char base[128];
	size_t queued = 0, k;
	int port, round;
	pid_t pid;

	(void)state;
	pid = fake_start_args(&port, NULL, key, NULL);
	assert_true(pid > 0);
	assert_true(port > 0);
	secret_add(key);
	snprintf(base, sizeof(base), "http://127.0.0.1:%d/v1", port);
	p = provider_new("openai", "openai", base);
	p->key = xstrdup(key);
	p->idle_timeout_ms = 500;
	w = worker_start();
	for (round = 0; round < 2; round++) {
		struct request *r = request_new(p, "fake-model");

		memset(&g, 0, sizeof(g));
		request_add(r, ROLE_USER, "tokens=20000 token_bytes=1000");
		g.id = worker_submit(w, r);
		/* Nobody reads for three idle timeouts. */
		usleep(1500 * 1000);
		queued = 0;
		while ((ev = worker_next(w)) != NULL) {
			if (ev->type == WEV_TEXT)
				queued += ev->len;
			record(&g, 1, ev);
		}
		print_message("# %zu bytes queued while the UI read nothing\n", queued);
		assert_true(queued > 0);
		assert_true(queued < 4u << 20);
		pump(w, &g, 1, 60000);
		assert_int_equal(g.ndone, 1);
		assert_int_equal(g.has_err, 0);
		assert_int_equal(g.complete, 1);
		assert_int_equal(g.text.len, 20000000);
		for (k = 1; k <= 20000; k += 4999) {
			char want[32];

			snprintf(want, sizeof(want), "%sw%zu abcdefghi", k > 1 ? "\n " : "", k);
			assert_non_null(strstr(buf_str(&g.text), want));
		}
		got_free(&g, 1);
		/* The second round without the scrubber. */
		secret_clear();
	}
	worker_stop(w);
	provider_free(p);
	kill(pid, SIGTERM);
	waitpid(pid, NULL, 0);
}

/* A server that quotes the request's key (fault=echo_key) in its error body and in reply
 * and reasoning text split into 3-byte tokens, in all four protocols: no event carries the
 * key, and the masked form stands in its place. */
static void
test_http_echo_key(void **state)
{
	static const char *protos[4] = { "openai", "anthropic", "gemini", "ollama" };
	static const char *paths[4] = { "/v1", "/v1", "/v1beta", "" };
	static const char key[] = "sk-worker-echo-0123456789abcdef";
	char *mask = log_mask_key(key), base[128];
	struct provider *p[4];
	struct worker *w;
	struct got g[8];
	int i, port;
	pid_t pid;

	(void)state;
	secret_add(key);
	pid = fake_start(&port);
	assert_true(pid > 0);
	assert_true(port > 0);
	for (i = 0; i < 4; i++) {
		snprintf(base, sizeof(base), "http://127.0.0.1:%d%s", port, paths[i]);
		p[i] = provider_new(protos[i], protos[i], base);
		p[i]->key = xstrdup(key);
		p[i]->max_retries = 0;
	}
	w = worker_start();
	memset(g, 0, sizeof(g));
	for (i = 0; i < 8; i++) {
		struct request *r = request_new(p[i % 4], "fake-model");

		request_add(r, ROLE_USER, i < 4 ? "fault=echo_key think=1" :
		    "status=500 fault=echo_key");
		g[i].id = worker_submit(w, r);
	}
	pump(w, g, 8, 30000);
	for (i = 0; i < 8; i++) {
		const char *all[3] = { buf_str(&g[i].text), buf_str(&g[i].reasoning),
			buf_str(&g[i].err_msg) };
		int k;

		assert_int_equal(g[i].ndone, 1);
		for (k = 0; k < 3; k++)
			assert_null(strstr(all[k], "0123456789abcdef"));
		if (i < 4) {
			assert_int_equal(g[i].has_err, 0);
			assert_non_null(strstr(all[0], "The request carried "));
			assert_non_null(strstr(all[0], mask));
			assert_non_null(strstr(all[1], mask));
		} else {
			assert_int_equal(g[i].has_err, 1);
			assert_non_null(strstr(all[2], mask));
		}
	}
	worker_stop(w);
	for (i = 0; i < 4; i++)
		provider_free(p[i]);
	got_free(g, 8);
	free(mask);
	secret_clear();
	kill(pid, SIGTERM);
	waitpid(pid, NULL, 0);
}

/* The limits of worker.h against the fake server, four streams at once: keep-alive
 * comments meet the first-token deadline (retried, as before any token) or, after tokens,
 * the idle one (not retried, partial text kept); a line over max_line ends the stream as
 * truncated without reading on; a malformed event only earns DONE a warning. */
static void
test_http_limits(void **state)
{
	static const char *protos[4] = { "openai", "anthropic", "gemini", "ollama" };
	static const char *paths[4] = { "/v1", "/v1", "/v1beta", "" };
	static const char *prompts[4] = { "tokens=0 fault=comments", "tokens=6 fault=comments",
		"tokens=4 fault=long_line line_mb=8", "tokens=6 fault=malformed" };
	struct provider *p[4];
	struct worker *w;
	struct got g[4];
	char base[128];
	int i, port;
	long t0;
	pid_t pid;

	(void)state;
	pid = fake_start(&port);
	assert_true(pid > 0);
	for (i = 0; i < 4; i++) {
		snprintf(base, sizeof(base), "http://127.0.0.1:%d%s", port, paths[i]);
		p[i] = provider_new(protos[i], protos[i], base);
		p[i]->key = xstrdup("sk-test-not-real");
		p[i]->max_retries = 1;
	}
	p[0]->first_token_timeout_ms = 300;
	p[1]->idle_timeout_ms = 400;
	p[2]->max_line = 65536;
	w = worker_start();
	memset(g, 0, sizeof(g));
	t0 = now_ms();
	for (i = 0; i < 4; i++) {
		struct request *r = request_new(p[i], "fake-model");

		request_add(r, ROLE_USER, prompts[i]);
		g[i].id = worker_submit(w, r);
	}
	pump(w, g, 4, 20000);
	assert_true(now_ms() - t0 < 5000);
	for (i = 0; i < 4; i++) {
		assert_int_equal(g[i].ndone, 1);
		assert_int_equal(g[i].events_after_done, 0);
	}
	/* First token: a retryable timeout, retried once, then the error. */
	assert_true(g[0].has_err);
	assert_int_equal(g[0].err_kind, APIERR_TRANSPORT);
	assert_int_equal(g[0].err_cls, APIERR_TIMEOUT);
	assert_int_equal(g[0].nretry, 1);
	assert_int_equal(g[0].ttft_ms, -1);
	assert_int_equal(g[0].text.len, 0);
	/* Idle after the first tokens: not retried, the partial text stands. */
	assert_true(g[1].has_err);
	assert_int_equal(g[1].err_cls, APIERR_TIMEOUT);
	assert_int_equal(g[1].nretry, 0);
	assert_string_equal(buf_str(&g[1].text), "w1 w2 w3");
	/* A line over the cap: truncated, not retried. */
	assert_true(g[2].has_err);
	assert_int_equal(g[2].err_cls, APIERR_TRUNCATED);
	assert_int_equal(g[2].nretry, 0);
	assert_false(g[2].complete);
	assert_string_equal(buf_str(&g[2].text), "w1 w2");
	/* A malformed event: the reply is whole, DONE says what was skipped. */
	assert_false(g[3].has_err);
	assert_true(g[3].complete);
	assert_string_equal(buf_str(&g[3].text), "w1 w2 w3 w4 w5 w6");
	assert_non_null(g[3].warning);
	assert_non_null(strstr(g[3].warning, "skipped a malformed event"));
	for (i = 0; i < 3; i++)
		assert_null(g[i].warning);
	worker_stop(w);
	for (i = 0; i < 4; i++)
		provider_free(p[i]);
	got_free(g, 4);
	kill(pid, SIGTERM);
	waitpid(pid, NULL, 0);
}

/* A provider of protocol at the fake server on port. */
static struct provider *
fake_provider(const char *protocol, int port)
{
	static const char *protos[4] = { "openai", "anthropic", "gemini", "ollama" };
	static const char *paths[4] = { "/v1", "/v1", "/v1beta", "" };
	struct provider *p;
	char base[128];
	int i;

	for (i = 0; i < 3 && strcmp(protos[i], protocol) != 0; i++)
		;
	snprintf(base, sizeof(base), "http://127.0.0.1:%d%s", port, paths[i]);
	p = provider_new(protocol, protocol, base);
	p->key = xstrdup("sk-test-not-real");
	return p;
}

/* Submit a no_stream request of prompt to p. */
static uint64_t
submit_whole(struct worker *w, const struct provider *p, const char *prompt)
{
	struct request *r = request_new(p, "fake-model");

	request_add(r, ROLE_USER, prompt);
	r->no_stream = 1;
	return worker_submit(w, r);
}

/* The fake server's text of n tokens starting with letter c: "w1 w2 ... wn". */
static void
fake_tokens(struct buf *b, char c, int n)
{
	int k;

	buf_reset(b);
	for (k = 1; k <= n; k++)
		buf_printf(b, k == 1 ? "%c%d" : " %c%d", c, k);
}

/* no_stream in all four protocols against the fake server, five requests each at once:
 * the reply and its reasoning as one event each with usage (counts as each protocol
 * reports them), no usage, an error status (not retried), a retried overload, and a
 * first-token time that is the time to the whole body. */
static void
test_http_no_stream(void **state)
{
	static const char *protos[4] = { "openai", "anthropic", "gemini", "ollama" };
	struct provider *p[4];
	struct worker *w;
	struct got g[20];
	struct buf want = BUF_INIT;
	char prompt[96];
	int i, port;
	pid_t pid;

	(void)state;
	pid = fake_start(&port);
	assert_true(pid > 0);
	for (i = 0; i < 4; i++) {
		p[i] = fake_provider(protos[i], port);
		p[i]->max_retries = 1;
	}
	w = worker_start();
	memset(g, 0, sizeof(g));
	for (i = 0; i < 4; i++) {
		snprintf(prompt, sizeof(prompt), "tokens=%d think=3", 5 + i);
		g[i * 5].id = submit_whole(w, p[i], prompt);
		g[i * 5 + 1].id = submit_whole(w, p[i], "tokens=4 fault=no_usage");
		g[i * 5 + 2].id = submit_whole(w, p[i], "status=400");
		g[i * 5 + 3].id = submit_whole(w, p[i], "status=503");
		g[i * 5 + 4].id = submit_whole(w, p[i], "tokens=2 first_delay_ms=300");
	}
	pump(w, g, 20, 30000);
	for (i = 0; i < 4; i++) {
		struct got *a = &g[i * 5];

		for (int k = 0; k < 5; k++) {
			assert_int_equal(a[k].ndone, 1);
			assert_int_equal(a[k].events_after_done, 0);
		}
		/* The reply: exact text and reasoning, one event each, complete, with usage. */
		fake_tokens(&want, 'w', 5 + i);
		if (a[0].has_err)
			fail_msg("%s: %s", protos[i], buf_str(&a[0].err_msg));
		assert_string_equal(buf_str(&a[0].text), buf_str(&want));
		fake_tokens(&want, 'r', 3);
		assert_string_equal(buf_str(&a[0].reasoning), buf_str(&want));
		assert_int_equal(a[0].ntext_events, 1);
		assert_int_equal(a[0].nreason_events, 1);
		assert_true(a[0].complete);
		assert_int_equal(a[0].nretry, 0);
		/* Gemini's candidatesTokenCount leaves out the thoughts, as in its streams. */
		assert_int_equal(a[0].output_tokens, i == 2 ? 5 + i : 5 + i + 3);
		assert_true(a[0].ttft_ms >= 0);
		/* No usage: the reply still stands. */
		assert_false(a[1].has_err);
		assert_true(a[1].complete);
		assert_string_equal(buf_str(&a[1].text), "w1 w2 w3 w4");
		assert_int_equal(a[1].output_tokens, -1);
		/* A 400 is not retried; a 503 is, once, then reported. */
		assert_true(a[2].has_err);
		assert_int_equal(a[2].err_kind, APIERR_HTTP);
		assert_int_equal(a[2].err_cls, APIERR_BAD_REQUEST);
		assert_int_equal(a[2].nretry, 0);
		assert_true(a[3].has_err);
		assert_int_equal(a[3].err_cls, APIERR_OVERLOADED);
		assert_int_equal(a[3].nretry, 1);
		assert_int_equal(a[3].text.len, 0);
		/* The body came 300 ms after the headers: that is the first token's time. */
		assert_false(a[4].has_err);
		assert_string_equal(buf_str(&a[4].text), "w1 w2");
		assert_true(a[4].ttft_ms >= 300);
	}
	worker_stop(w);
	for (i = 0; i < 4; i++)
		provider_free(p[i]);
	got_free(g, 20);
	buf_free(&want);
	kill(pid, SIGTERM);
	waitpid(pid, NULL, 0);
}

/* Vectors the fake server replays for the no_stream limits: a chat.completion split in two
 * writes (the test paces them), a body cut off mid-JSON, and an error object at 200. */
static const char whole_vectors[] =
    "[{\"name\":\"whole_split\",\"protocol\":\"openai-sse\",\"headers\":{\"Content-Type\":"
    "\"application/json\"},\"chunks\":[\"{\\\"object\\\":\\\"chat.completion\\\",\\\"choices\\\":"
    "[{\\\"index\\\":0,\\\"message\\\":{\\\"content\\\":\\\"sl\", \"ow\\\"},\\\"finish_reason\\\":"
    "\\\"stop\\\"}]}\"]},"
    "{\"name\":\"whole_bad\",\"protocol\":\"openai-sse\",\"headers\":{\"Content-Type\":"
    "\"application/json\"},\"chunks\":[\"{\\\"choices\\\":[{\\\"message\\\":\"]},"
    "{\"name\":\"whole_error\",\"protocol\":\"openai-sse\",\"headers\":{\"Content-Type\":"
    "\"application/json\"},\"chunks\":[\"{\\\"error\\\":{\\\"message\\\":\\\"You exceeded your "
    "quota\\\",\\\"type\\\":\\\"insufficient_quota\\\"}}\"]}]";

/* The limits of worker.h for no_stream: first_token_timeout runs only to the body's first
 * byte (a slow body is fine), idle_timeout to each next byte, a body that never starts is
 * a first-token timeout, a body over max_line is truncated unread, and a malformed or error
 * body at 200 is an error; timeouts are retried (no token was delivered), the rest not. */
static void
test_http_no_stream_limits(void **state)
{
	char path[] = "/tmp/natter-whole-vectors.XXXXXX";
	struct provider *p[6];
	struct worker *w;
	struct got g[6];
	int i, port, fd;
	long t0;
	pid_t pid;

	(void)state;
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, whole_vectors, sizeof(whole_vectors) - 1),
	    (ssize_t)(sizeof(whole_vectors) - 1));
	close(fd);
	pid = fake_start_with(&port, path);
	assert_true(pid > 0);
	for (i = 0; i < 6; i++) {
		p[i] = fake_provider("openai", port);
		p[i]->max_retries = 1;
	}
	p[0]->first_token_timeout_ms = 300;
	p[0]->idle_timeout_ms = 3000;
	p[1]->first_token_timeout_ms = 5000;
	p[1]->idle_timeout_ms = 300;
	p[2]->first_token_timeout_ms = 300;
	p[3]->max_line = 1024;
	w = worker_start();
	memset(g, 0, sizeof(g));
	t0 = now_ms();
	g[0].id = submit_whole(w, p[0], "vector=whole_split delay_ms=700");
	g[1].id = submit_whole(w, p[1], "vector=whole_split delay_ms=3000");
	g[2].id = submit_whole(w, p[2], "tokens=3 first_delay_ms=3000");
	g[3].id = submit_whole(w, p[3], "tokens=400");
	g[4].id = submit_whole(w, p[4], "vector=whole_bad");
	g[5].id = submit_whole(w, p[5], "vector=whole_error");
	pump(w, g, 6, 20000);
	assert_true(now_ms() - t0 < 5000);
	for (i = 0; i < 6; i++) {
		assert_int_equal(g[i].ndone, 1);
		assert_int_equal(g[i].events_after_done, 0);
	}
	/* 700 ms between the body's bytes is past first_token_timeout but within idle. */
	if (g[0].has_err)
		fail_msg("slow body: %s", buf_str(&g[0].err_msg));
	assert_string_equal(buf_str(&g[0].text), "slow");
	assert_true(g[0].complete);
	assert_true(g[0].ttft_ms >= 700);
	/* The body stalls half way: idle_timeout, retried once. */
	assert_true(g[1].has_err);
	assert_int_equal(g[1].err_cls, APIERR_TIMEOUT);
	assert_non_null(strstr(buf_str(&g[1].err_msg), "idle_timeout"));
	assert_int_equal(g[1].nretry, 1);
	assert_int_equal(g[1].text.len, 0);
	/* No body at all within first_token_timeout. */
	assert_true(g[2].has_err);
	assert_int_equal(g[2].err_cls, APIERR_TIMEOUT);
	assert_non_null(strstr(buf_str(&g[2].err_msg), "first_token_timeout"));
	assert_int_equal(g[2].nretry, 1);
	assert_int_equal(g[2].ttft_ms, -1);
	/* Over max_line: truncated, not retried, nothing delivered. */
	assert_true(g[3].has_err);
	assert_int_equal(g[3].err_cls, APIERR_TRUNCATED);
	assert_non_null(strstr(buf_str(&g[3].err_msg), "longer than 1 KiB"));
	assert_int_equal(g[3].nretry, 0);
	assert_int_equal(g[3].text.len, 0);
	assert_false(g[3].complete);
	/* Malformed: an error that says so, not retried. */
	assert_true(g[4].has_err);
	assert_int_equal(g[4].err_kind, APIERR_STREAM);
	assert_non_null(strstr(buf_str(&g[4].err_msg), "not JSON"));
	assert_int_equal(g[4].nretry, 0);
	/* An error object at 200 is the provider's error. */
	assert_true(g[5].has_err);
	assert_int_equal(g[5].err_cls, APIERR_QUOTA);
	assert_string_equal(buf_str(&g[5].err_msg), "You exceeded your quota");
	assert_int_equal(g[5].nretry, 0);
	worker_stop(w);
	for (i = 0; i < 6; i++)
		provider_free(p[i]);
	got_free(g, 6);
	unlink(path);
	kill(pid, SIGTERM);
	waitpid(pid, NULL, 0);
}

/* Cancelling a no_stream request, before its body and half way through it, ends it at
 * once with one cancelled DONE and nothing delivered; a rate-limited key of a pool hands
 * the request to the next key, which answers it whole. */
static void
test_http_no_stream_cancel_and_pool(void **state)
{
	char path[] = "/tmp/natter-whole-vectors.XXXXXX";
	struct provider *p, *pooled;
	struct keypool *kp;
	struct worker *w;
	struct got g[3];
	int i, port, fd;
	long t0;
	pid_t pid;

	(void)state;
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, whole_vectors, sizeof(whole_vectors) - 1),
	    (ssize_t)(sizeof(whole_vectors) - 1));
	close(fd);
	pid = fake_start_args(&port, path, "sk-good-key", "sk-limited-key");
	assert_true(pid > 0);
	p = fake_provider("anthropic", port);
	free(p->key);
	p->key = xstrdup("sk-good-key");
	pooled = fake_provider("openai", port);
	kp = keypool_new("openai");
	keypool_add(kp, "sk-limited-key", "literal", 0, 0, 0);
	keypool_add(kp, "sk-good-key", "literal", 0, 0, 0);
	pooled->pool = kp;
	w = worker_start();
	memset(g, 0, sizeof(g));
	g[0].id = submit_whole(w, p, "tokens=3 first_delay_ms=5000");
	g[1].id = submit_whole(w, p, "vector=whole_split delay_ms=5000");
	g[2].id = submit_whole(w, pooled, "tokens=3");
	usleep(300000);
	t0 = now_ms();
	worker_cancel(w, g[0].id);
	worker_cancel(w, g[1].id);
	pump(w, g, 3, 10000);
	assert_true(now_ms() - t0 < 2000);
	for (i = 0; i < 2; i++) {
		assert_int_equal(g[i].ndone, 1);
		assert_int_equal(g[i].cancelled, 1);
		assert_false(g[i].complete);
		assert_false(g[i].has_err);
		assert_int_equal(g[i].text.len, 0);
	}
	usleep(100000);
	assert_null(worker_next(w));
	/* The pool: one rotation, then the whole reply from the good key. */
	assert_int_equal(g[2].ndone, 1);
	if (g[2].has_err)
		fail_msg("pool: %s", buf_str(&g[2].err_msg));
	assert_int_equal(g[2].nretry, 1);
	assert_string_equal(buf_str(&g[2].text), "w1 w2 w3");
	assert_true(g[2].complete);
	worker_stop(w);
	provider_free(p);
	provider_free(pooled);
	keypool_free(kp);
	got_free(g, 3);
	unlink(path);
	kill(pid, SIGTERM);
	waitpid(pid, NULL, 0);
}

/* The simulated provider honours no_stream: reasoning and text as one event each, at the
 * time the last token would have come, with the same text and usage as its stream. */
static void
test_sim_no_stream(void **state)
{
	struct provider *p = sim_provider(200);
	struct worker *w = worker_start();
	struct simulated_reply want;
	struct request *r;
	struct got g;
	size_t split;

	(void)state;
	memset(&g, 0, sizeof(g));
	r = mkreq(p, "think=5 tokens=20");
	r->no_stream = 1;
	simulated_reply(r, &want);
	g.id = worker_submit(w, r);
	pump(w, &g, 1, 10000);
	assert_int_equal(g.ndone, 1);
	assert_true(g.complete);
	assert_false(g.has_err);
	assert_int_equal(g.ntext_events, 1);
	assert_int_equal(g.nreason_events, 1);
	split = want.ends[want.nthink - 1];
	assert_int_equal(g.reasoning.len, split);
	assert_memory_equal(g.reasoning.data, want.text.data, split);
	assert_int_equal(g.text.len, want.text.len - split);
	assert_memory_equal(g.text.data, want.text.data + split, g.text.len);
	assert_int_equal(g.output_tokens, 25);
	/* 25 tokens at 200/s: the 25th is due 120 ms after the start. */
	assert_true(g.ttft_ms >= 115);
	simulated_reply_free(&want);
	worker_stop(w);
	provider_free(p);
	got_free(&g, 1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tokens_rate0),
		cmocka_unit_test(test_tokens_rate),
		cmocka_unit_test(test_think),
		cmocka_unit_test(test_concurrent),
		cmocka_unit_test(test_cancel),
		cmocka_unit_test(test_stop_in_flight),
		cmocka_unit_test(test_coalescing),
		cmocka_unit_test(test_fd_readable),
		cmocka_unit_test(test_sim_errors),
		cmocka_unit_test(test_sim_cut),
		cmocka_unit_test(test_connect_refused),
		cmocka_unit_test(test_models),
		cmocka_unit_test(test_models_scrubbed),
		cmocka_unit_test(test_http_concurrent),
		cmocka_unit_test(test_http_backpressure),
		cmocka_unit_test(test_http_echo_key),
		cmocka_unit_test(test_http_limits),
		cmocka_unit_test(test_http_no_stream),
		cmocka_unit_test(test_http_no_stream_limits),
		cmocka_unit_test(test_http_no_stream_cancel_and_pool),
		cmocka_unit_test(test_sim_no_stream),
	};

	/* Decode through the cJSON arena, as natter does. */
	json_init();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
