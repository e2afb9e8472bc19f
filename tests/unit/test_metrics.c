/* Unit tests for the /metrics report: the figures of each reply (timings, tokens, speed and
 * cost at the config's prices), the session totals, and the edges: no replies, unknown
 * figures, zero durations, huge counts, rounding, long and non-ASCII model names. Replies
 * are built through the session API with an injected clock, as the UI builds them. */
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "buf.h"
#include "config.h"
#include "metrics.h"
#include "session.h"
#include "text.h"
#include "xmalloc.h"

static const char header[] =
    "#   model                           ttft duration      in     out    tok/s  cost\n";

struct fixture {
	struct config *cfg;
	struct session *s;
	int64_t now;
};

/* The test clock: whatever the test sets. */
static int64_t
fake_clock(void *arg)
{
	return *(int64_t *)arg;
}

/* Load a config with priced, free, half-priced and unpriced models of one provider. */
static int
setup(void **state)
{
	struct fixture *f = xcalloc(1, sizeof *f);
	struct config_errors errs = { NULL, 0 };
	char path[64];
	FILE *fp;

	snprintf(path, sizeof path, "/tmp/natter-test-metrics-%ld.yaml", (long)getpid());
	fp = fopen(path, "w");
	if (fp == NULL)
		return -1;
	fputs("providers:\n"
	    "  up: {protocol: openai, base_url: 'http://127.0.0.1:1/v1', enabled: true}\n"
	    "models:\n"
	    "  priced: {provider: up, id: priced-id, price_input: 2.5, price_output: 10}\n"
	    "  cheap: {provider: up, id: cheap-id, price_input: 0.15, price_output: 0.6}\n"
	    "  free: {provider: up, id: free-id, price_input: 0, price_output: 0}\n"
	    "  half: {provider: up, id: half-id, price_input: 1}\n"
	    "  plain: {provider: up, id: plain-id}\n", fp);
	fclose(fp);
	f->cfg = config_load(path, CONFIG_NO_DEFAULTS | CONFIG_NO_KEYCMD, &errs);
	unlink(path);
	if (errs.n != 0) {
		fprintf(stderr, "config: %s\n", errs.v[0]);
		config_errors_free(&errs);
		return -1;
	}
	f->s = session_new(NULL, "up", "priced-id");
	session_set_clock(f->s, fake_clock, &f->now);
	f->now = 1000;
	*state = f;
	return 0;
}

/* Free the fixture. */
static int
teardown(void **state)
{
	struct fixture *f = *state;

	session_free(f->s);
	config_free(f->cfg);
	free(f);
	return 0;
}

/* Add a prompt and a reply of model prov/model: the first text after ttft ms (none when
 * ttft < 0), the end after dur ms, with the given token counts and final state. */
static void
reply(struct fixture *f, const char *prov, const char *model, long ttft, long dur, long in,
    long out, enum msg_state st)
{
	struct usage u = { in, out, -1, -1 };
	int64_t t0;

	session_append_user(f->s, "a question");
	t0 = f->now;
	session_begin_reply(f->s, prov, model);
	if (ttft >= 0) {
		f->now = t0 + ttft;
		session_reply_text(f->s, "an answer", 9);
	}
	f->now = t0 + dur;
	session_reply_end(f->s, st, &u, -1, NULL, NULL);
	f->now += 5000;
}

/* The report of the fixture's session at its config's prices (caller frees). */
static char *
report(struct fixture *f)
{
	return metrics_report(f->s, f->cfg);
}

/* Assert that haystack contains needle, printing both when it does not. */
static void
assert_has(const char *haystack, const char *needle)
{
	if (strstr(haystack, needle) == NULL) {
		fprintf(stderr, "expected to find:\n[%s]\nin:\n[%s]\n", needle, haystack);
		fail();
	}
}

/* Assert that haystack does not contain needle. */
static void
assert_lacks(const char *haystack, const char *needle)
{
	if (strstr(haystack, needle) != NULL) {
		fprintf(stderr, "did not expect:\n[%s]\nin:\n[%s]\n", needle, haystack);
		fail();
	}
}

/* The line of the report that starts with prefix, or NULL (a copy; caller frees). */
static char *
line_of(const char *r, const char *prefix)
{
	const char *p = r, *e;

	while (*p) {
		e = strchr(p, '\n');
		if (e == NULL)
			e = p + strlen(p);
		if (strncmp(p, prefix, strlen(prefix)) == 0)
			return xstrndup(p, (size_t)(e - p));
		p = *e ? e + 1 : e;
	}
	return NULL;
}

/* No session, or one without replies, says so instead of an empty table. */
static void
test_empty(void **state)
{
	struct fixture *f = *state;
	char *r;

	r = metrics_report(NULL, f->cfg);
	assert_string_equal(r, "no replies in this session yet\n");
	free(r);
	r = report(f);
	assert_string_equal(r, "no replies in this session yet\n");
	free(r);
	session_append_user(f->s, "only a question");
	r = report(f);
	assert_string_equal(r, "no replies in this session yet\n");
	free(r);
}

/* One priced reply: every column and the totals, exactly. */
static void
test_one_reply(void **state)
{
	struct fixture *f = *state;
	char *r;

	/* 500 tokens over the 1000 ms after the first one: 500 tok/s. Cost: 1000 in at $2.5/M
	 * plus 500 out at $10/M = $0.0075. */
	reply(f, "up", "priced-id", 250, 1250, 1000, 500, MSG_COMPLETE);
	r = report(f);
	assert_string_equal(r, "#   model                           ttft duration      in     out"
	    "    tok/s  cost\n"
	    "1   up/priced-id                   0.25s    1.25s    1000     500    500.0  $0.007500\n"
	    "\n"
	    "session: 1 reply · 1.25s · 1000 tokens in · 500 tokens out · cost $0.007500\n");
	free(r);
}

/* Replies are numbered among replies only; the totals add up tokens, time and cost. */
static void
test_totals(void **state)
{
	struct fixture *f = *state;
	char *r, *l;

	reply(f, "up", "priced-id", 100, 1100, 1000, 500, MSG_COMPLETE);
	reply(f, "up", "cheap-id", 200, 2200, 2000000, 1000000, MSG_COMPLETE);
	r = report(f);
	assert_true(strncmp(r, header, strlen(header)) == 0);
	l = line_of(r, "2   up/cheap-id");
	assert_non_null(l);
	/* 2M in at $0.15/M + 1M out at $0.60/M = $0.90; 1M tokens over 2 s = 500000 tok/s. */
	assert_has(l, "  0.20s    2.20s 2000000 1000000 500000.0  $0.900000");
	free(l);
	assert_has(r, "session: 2 replies · 3.30s · 2001000 tokens in · 1000500 tokens out · "
	    "cost $0.907500\n");
	assert_null(line_of(r, "3 "));
	free(r);
}

/* Models without a price, or with only half of one, cost "unknown", never $0. */
static void
test_unknown_price(void **state)
{
	struct fixture *f = *state;
	char *r, *l;

	reply(f, "up", "plain-id", 100, 1100, 10, 20, MSG_COMPLETE);
	reply(f, "up", "half-id", 100, 1100, 10, 20, MSG_COMPLETE);
	reply(f, "up", "not-configured", 100, 1100, 10, 20, MSG_COMPLETE);
	reply(f, "gone", "vanished", 100, 1100, 10, 20, MSG_COMPLETE);
	r = report(f);
	for (int i = 1; i <= 4; i++) {
		char pre[16];

		snprintf(pre, sizeof pre, "%d ", i);
		l = line_of(r, pre);
		assert_non_null(l);
		assert_true(strlen(l) > 7 && strcmp(l + strlen(l) - 7, "unknown") == 0);
		assert_lacks(l, "$");
		free(l);
	}
	assert_has(r, "· cost unknown (no price in the config)\n");
	free(r);
}

/* A priced reply next to an unpriced one: the known part and a note on the rest. */
static void
test_partly_unknown(void **state)
{
	struct fixture *f = *state;
	char *r;

	reply(f, "up", "priced-id", 100, 1100, 1000, 1000, MSG_COMPLETE);
	reply(f, "up", "plain-id", 100, 1100, 1000, 1000, MSG_COMPLETE);
	r = report(f);
	assert_has(r, "cost $0.012500 + unknown (some models have no price)\n");
	free(r);
}

/* A free model costs $0, and that is known: next to an unpriced model it is not lost. */
static void
test_free_model(void **state)
{
	struct fixture *f = *state;
	char *r;

	reply(f, "up", "free-id", 100, 1100, 1000, 1000, MSG_COMPLETE);
	r = report(f);
	assert_has(r, "1000    1000   1000.0  $0.000000\n");
	assert_has(r, "cost $0.000000\n");
	free(r);
	reply(f, "up", "plain-id", 100, 1100, 1000, 1000, MSG_COMPLETE);
	r = report(f);
	assert_has(r, "cost $0.000000 + unknown (some models have no price)\n");
	free(r);
}

/* Unknown token counts show "?", leave the cost unknown even at a known price, and do not
 * count in the totals; the total does not blame the config's prices for it. */
static void
test_unknown_tokens(void **state)
{
	struct fixture *f = *state;
	char *r, *l;

	reply(f, "up", "priced-id", 100, 1100, -1, -1, MSG_COMPLETE);
	r = report(f);
	l = line_of(r, "1 ");
	assert_non_null(l);
	assert_has(l, "  0.10s    1.10s       ?       ?        -  unknown");
	free(l);
	assert_has(r, "session: 1 reply · 1.10s · 0 tokens in · 0 tokens out · cost unknown");
	assert_lacks(r, "no price");
	free(r);
	reply(f, "up", "priced-id", 100, 1100, 1000, -1, MSG_COMPLETE);
	reply(f, "up", "priced-id", 100, 1100, 1000, 1000, MSG_COMPLETE);
	r = report(f);
	l = line_of(r, "2 ");
	assert_has(l, "  1000       ?        -  unknown");
	free(l);
	assert_has(r, "· 2000 tokens in · 1000 tokens out · cost $0.012500 + unknown");
	assert_lacks(r, "no price");
	free(r);
}

/* Zero and unknown timings print "-" and never divide by zero. */
static void
test_zero_durations(void **state)
{
	struct fixture *f = *state;
	char *r, *l;

	/* Everything at once: ttft 0, duration 0. */
	reply(f, "up", "priced-id", 0, 0, 10, 10, MSG_COMPLETE);
	/* The whole reply in the first chunk: no time to measure a rate over. */
	reply(f, "up", "priced-id", 300, 300, 10, 10, MSG_COMPLETE);
	/* No text at all: no time to first token. */
	reply(f, "up", "priced-id", -1, 400, 10, 0, MSG_COMPLETE);
	r = report(f);
	l = line_of(r, "1 ");
	assert_has(l, "  0.00s        -      10      10        -  $");
	free(l);
	l = line_of(r, "2 ");
	assert_has(l, "  0.30s    0.30s      10      10        -  $");
	free(l);
	l = line_of(r, "3 ");
	assert_has(l, "      -    0.40s      10       0        -  $");
	free(l);
	assert_has(r, "session: 3 replies · 0.70s ·");
	assert_lacks(r, "inf");
	assert_lacks(r, "nan");
	free(r);
}

/* Rates, times and costs are rounded, not cut: 2 tokens in 3 ms is 666.7 tok/s. */
static void
test_rounding(void **state)
{
	struct fixture *f = *state;
	char *r, *l;

	/* 2 tokens in 3 ms; 8 in at $2.5/M + 2 out at $10/M = $0.00004. */
	reply(f, "up", "priced-id", 1, 4, 8, 2, MSG_COMPLETE);
	/* 18 in at $0.15/M is $0.0000027: rounded up to the sixth digit, not cut to 2. */
	reply(f, "up", "cheap-id", 5, 5, 18, 0, MSG_COMPLETE);
	/* ttft 5 ms rounds up to 0.01s; 3 tokens in 1999 ms is 1.5 tok/s. */
	reply(f, "up", "priced-id", 5, 2004, 2, 3, MSG_COMPLETE);
	r = report(f);
	l = line_of(r, "1 ");
	assert_has(l, "  0.00s    0.00s       8       2    666.7  $0.000040");
	free(l);
	l = line_of(r, "2 ");
	assert_has(l, "  $0.000003");
	free(l);
	l = line_of(r, "3 ");
	assert_has(l, "  0.01s    2.00s       2       3      1.5  $0.000035");
	free(l);
	/* $0.0000777 in all rounds up to $0.000078. */
	assert_has(r, "· 2.01s · 28 tokens in · 5 tokens out · cost $0.000078\n");
	free(r);
}

/* Huge token counts and durations neither overflow the totals nor garble the figures. */
static void
test_huge_counts(void **state)
{
	struct fixture *f = *state;
	char *r, *l, *want;

	reply(f, "up", "priced-id", 1000, 2000, LONG_MAX, LONG_MAX, MSG_COMPLETE);
	reply(f, "up", "priced-id", 1000, 2000, LONG_MAX, LONG_MAX, MSG_COMPLETE);
	reply(f, "up", "free-id", 1000, 2000, 5, 5, MSG_COMPLETE);
	f->s->msgs[1].duration_ms = LONG_MAX;
	f->s->msgs[3].duration_ms = LONG_MAX;
	r = report(f);
	l = line_of(r, "1 ");
	want = xasprintf(" %ld %ld ", LONG_MAX, LONG_MAX);
	assert_has(l, want);
	free(want);
	free(l);
	/* The totals stop at the largest count instead of wrapping to a negative one. */
	want = xasprintf("session: 3 replies · %.2fs · %ld tokens in · %ld tokens out ·",
	    (double)LONG_MAX / 1000.0, LONG_MAX, LONG_MAX);
	assert_has(r, want);
	free(want);
	assert_lacks(r, " -");
	free(r);
}

/* Failed and cancelled replies are marked; a streaming one is listed as it stands. */
static void
test_states(void **state)
{
	struct fixture *f = *state;
	char *r, *l;

	reply(f, "up", "priced-id", 100, 1100, 10, 10, MSG_ERROR);
	reply(f, "up", "priced-id", 100, 1100, 10, 10, MSG_CANCELLED);
	reply(f, "up", "priced-id", 100, 1100, 10, 10, MSG_TRUNCATED);
	session_append_user(f->s, "one more");
	session_begin_reply(f->s, "up", "priced-id");
	session_reply_text(f->s, "so far", 6);
	r = report(f);
	l = line_of(r, "1 ");
	assert_true(strlen(l) > 10 && strcmp(l + strlen(l) - 10, "  (failed)") == 0);
	free(l);
	l = line_of(r, "2 ");
	assert_true(strlen(l) > 13 && strcmp(l + strlen(l) - 13, "  (cancelled)") == 0);
	free(l);
	l = line_of(r, "3 ");
	assert_lacks(l, "(");
	free(l);
	l = line_of(r, "4   up/priced-id");
	assert_non_null(l);
	assert_lacks(l, "(");
	free(l);
	assert_has(r, "session: 4 replies ·");
	free(r);
}

/* A reply without provider or model shows "?" for them and costs "unknown". */
static void
test_no_model(void **state)
{
	struct fixture *f = *state;
	struct session_msg *m;
	char *r, *l;

	reply(f, "up", "priced-id", 100, 1100, 10, 10, MSG_COMPLETE);
	m = &f->s->msgs[f->s->nmsgs - 1];
	free(m->provider);
	free(m->model);
	m->provider = NULL;
	m->model = NULL;
	r = report(f);
	l = line_of(r, "1 ");
	assert_non_null(l);
	assert_true(strncmp(l, "1   ?/?                         ", 32) == 0);
	assert_true(strcmp(l + strlen(l) - 7, "unknown") == 0);
	free(l);
	free(r);
}

/* n copies of s, as a new string. */
static char *
repeat(const char *s, int n)
{
	struct buf b = BUF_INIT;

	while (n-- > 0)
		buf_puts(&b, s);
	return buf_detach(&b);
}

/* Assert that l starts with prefix. */
static void
assert_prefix(const char *l, const char *prefix)
{
	if (l == NULL || strncmp(l, prefix, strlen(prefix)) != 0) {
		fprintf(stderr, "expected a line starting with:\n[%s]\ngot:\n[%s]\n", prefix,
		    l != NULL ? l : "(none)");
		fail();
	}
}

/* Names longer than the column are cut with an ellipsis at a character boundary, and a
 * non-ASCII name keeps the columns after it in place. */
static void
test_long_names(void **state)
{
	struct fixture *f = *state;
	char *r, *l, *e24, *e27, *want;

	e24 = repeat("é", 24);
	e27 = repeat("é", 27);
	reply(f, "up", "a-very-long-model-identifier-2025-01-01", 100, 1100, 10, 10,
	    MSG_COMPLETE);
	/* "up/" and 24 two-byte "é": 27 columns, 51 bytes; a 28-byte cut would split one. */
	reply(f, "up", e24, 100, 1100, 10, 10, MSG_COMPLETE);
	reply(f, "up", e27, 100, 1100, 10, 10, MSG_COMPLETE);
	/* Wide characters take two columns each. */
	reply(f, "up", "模型模型模型模型模型模型模型", 100, 1100, 10, 10, MSG_COMPLETE);
	r = report(f);
	l = line_of(r, "1 ");
	/* 27 columns of the name, the ellipsis, then the column's separator and ttft. */
	assert_prefix(l, "1   up/a-very-long-model-identi…   0.10s");
	free(l);
	l = line_of(r, "2 ");
	want = xasprintf("2   up/%s    0.10s    1.10s      10      10", e24);
	assert_prefix(l, want);
	free(want);
	free(l);
	l = line_of(r, "3 ");
	want = xasprintf("3   up/%s…   0.10s", e24);
	assert_prefix(l, want);
	free(want);
	free(l);
	l = line_of(r, "4 ");
	/* 3 + 12 × 2 = 27 columns, then the ellipsis. */
	assert_prefix(l, "4   up/模型模型模型模型模型模型…   0.10s");
	free(l);
	free(r);
	free(e24);
	free(e27);
}

/* A wide character that would straddle the last column is left out, with a pad. */
static void
test_wide_at_edge(void **state)
{
	struct fixture *f = *state;
	char *r, *l;

	/* "up/x" is 4 columns; 12 wide ones make 28, 13 make 30: cut after 11 (26 columns),
	 * the ellipsis takes the 27th and a space the 28th. */
	reply(f, "up", "x模型模型模型模型模型模型模", 100, 1100, 10, 10, MSG_COMPLETE);
	r = report(f);
	l = line_of(r, "1 ");
	assert_prefix(l, "1   up/x模型模型模型模型模型模… ");
	assert_prefix(l, "1   up/x模型模型模型模型模型模…    0.10s");
	free(l);
	free(r);
}

/* Each test gets a fresh session. */
static int
fresh(void **state)
{
	struct fixture *f = *state;

	session_free(f->s);
	f->s = session_new(NULL, "up", "priced-id");
	session_set_clock(f->s, fake_clock, &f->now);
	f->now = 1000;
	return 0;
}

/* The figure line of one reply (a comparison column's footer): every figure, "-" for
 * unknown ones (an estimate for uncounted text), and the cost only when known. */
static void
test_reply_line(void **state)
{
	struct fixture *f = *state;
	struct buf b = BUF_INIT;

	reply(f, "up", "priced-id", 250, 1250, 1000, 500, MSG_COMPLETE);
	metrics_reply_line(&f->s->msgs[1], f->cfg, &b);
	assert_string_equal(b.data, "ttft 0.25s · 500.0 tok/s · 500 tok · $0.007500");
	buf_reset(&b);
	reply(f, "up", "plain-id", 100, 100, 10, 7, MSG_COMPLETE);  /* one piece, no price */
	metrics_reply_line(&f->s->msgs[3], f->cfg, &b);
	assert_string_equal(b.data, "ttft 0.10s · - tok/s · 7 tok");
	buf_reset(&b);
	reply(f, "up", "priced-id", -1, 300, -1, -1, MSG_ERROR);  /* nothing known */
	metrics_reply_line(&f->s->msgs[5], f->cfg, &b);
	assert_string_equal(b.data, "ttft - · - tok/s · - tok");
	buf_reset(&b);
	/* Cut off with text but no count (a quit or a crash): the text's estimate. */
	reply(f, "up", "plain-id", 100, 300, -1, -1, MSG_CANCELLED);
	metrics_reply_line(&f->s->msgs[7], f->cfg, &b);
	assert_string_equal(b.data, "ttft 0.10s · - tok/s · ~3 tok");
	buf_free(&b);
}

/* Fitted to a width, every line stays within it, each reply keeps its cost whole, the
 * model keeps its own name after the provider, and the totals wrap at their fields; wide
 * enough, the fitted report has every column. */
static void
test_fit(void **state)
{
	struct fixture *f = *state;
	const char *p, *nl;
	char *r, *l;
	int width;

	reply(f, "up", "priced-id", 250, 1250, 1000, 500, MSG_COMPLETE);
	reply(f, "up", "priced-id", 100, 600, 20, 5, MSG_CANCELLED);
	for (width = 28; width <= 100; width += 8) {
		r = metrics_report_fit(f->s, f->cfg, width);
		for (p = r; *p != '\0'; p = nl + 1) {
			nl = strchr(p, '\n');
			assert_non_null(nl);
			assert_true(text_width(p, (size_t)(nl - p)) <= width);
		}
		l = line_of(r, "1 ");
		assert_non_null(l);
		assert_has(l, "$0.007500");
		if (width >= 36)
			assert_has(l, "priced-id");
		free(l);
		l = line_of(r, "2 ");
		assert_non_null(l);
		assert_has(l, width < 40 ? "⊘" : "(cancelled)");
		free(l);
		assert_has(r, "cost $0.007600");
		assert_has(r, "session: 2 replies");
		if (width >= 80) {
			assert_has(r, "duration");
			assert_has(r, "1.25s");
		}
		free(r);
	}
	r = metrics_report_fit(f->s, f->cfg, 40);
	assert_has(r, "1.85s\n  1020 tokens in");
	free(r);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_empty, fresh),
		cmocka_unit_test_setup(test_one_reply, fresh),
		cmocka_unit_test_setup(test_reply_line, fresh),
		cmocka_unit_test_setup(test_fit, fresh),
		cmocka_unit_test_setup(test_totals, fresh),
		cmocka_unit_test_setup(test_unknown_price, fresh),
		cmocka_unit_test_setup(test_partly_unknown, fresh),
		cmocka_unit_test_setup(test_free_model, fresh),
		cmocka_unit_test_setup(test_unknown_tokens, fresh),
		cmocka_unit_test_setup(test_zero_durations, fresh),
		cmocka_unit_test_setup(test_rounding, fresh),
		cmocka_unit_test_setup(test_huge_counts, fresh),
		cmocka_unit_test_setup(test_states, fresh),
		cmocka_unit_test_setup(test_no_model, fresh),
		cmocka_unit_test_setup(test_long_names, fresh),
		cmocka_unit_test_setup(test_wide_at_edge, fresh),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
