/*
 * Unit tests for error classification (protocols.md §B), the one-line format and hints,
 * and the HTTP helpers: server-requested retry delays (milliseconds, seconds, HTTP-date,
 * garbage), request ids, header parsing and URL joining.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "apierr.h"
#include "http.h"
#include "proto.h"
#include "xmalloc.h"

struct ccase {
	int status;
	const char *type;
	const char *code;
	int code_is_number;
	const char *reason;
	const char *message;
	enum apierr_class want;
	int retryable;
};

static const struct ccase ccases[] = {
	/* Authentication, however the provider spells it. */
	{ 401, "invalid_request_error", "invalid_api_key", 0, NULL, "Incorrect API key", APIERR_AUTH, 0 },
	{ 401, "authentication_error", NULL, 0, NULL, "invalid x-api-key", APIERR_AUTH, 0 },
	{ 400, "INVALID_ARGUMENT", "400", 1, "API_KEY_INVALID", "API key not valid.", APIERR_AUTH, 0 },
	{ 0, "authentication_error", NULL, 0, NULL, "bad key", APIERR_AUTH, 0 },
	{ 401, NULL, NULL, 0, NULL, "unauthorized", APIERR_AUTH, 0 },
	/* Permission. */
	{ 403, "permission_error", NULL, 0, NULL, "no access", APIERR_PERMISSION, 0 },
	{ 403, "PERMISSION_DENIED", "403", 1, "API_KEY_SERVICE_BLOCKED", "blocked", APIERR_PERMISSION, 0 },
	{ 0, "PERMISSION_DENIED", NULL, 0, NULL, "denied", APIERR_PERMISSION, 0 },
	/* Not found. */
	{ 404, "not_found_error", NULL, 0, NULL, "model: x", APIERR_NOT_FOUND, 0 },
	{ 404, NULL, NULL, 0, NULL, "model 'llama9' not found", APIERR_NOT_FOUND, 0 },
	/* Quota and billing are never retried, even on 429. */
	{ 402, NULL, "402", 1, NULL, "Insufficient credits", APIERR_QUOTA, 0 },
	{ 400, "billing_error", NULL, 0, NULL, "credit balance too low", APIERR_QUOTA, 0 },
	{ 429, "insufficient_quota", "insufficient_quota", 0, NULL, "You exceeded your current quota", APIERR_QUOTA, 0 },
	{ 429, "rate_limit_error", NULL, 0, "enforced_spend_limit_reached", "limit", APIERR_QUOTA, 0 },
	{ 429, "rate_limit_error", NULL, 0, NULL, "You have reached your spend limit", APIERR_QUOTA, 0 },
	/* Rate limits are retried. */
	{ 429, "tokens", "rate_limit_exceeded", 0, NULL, "Please try again in 150ms.", APIERR_RATE_LIMIT, 1 },
	{ 429, "rate_limit_error", NULL, 0, NULL, "per-minute rate limit", APIERR_RATE_LIMIT, 1 },
	{ 429, "RESOURCE_EXHAUSTED", "429", 1, NULL, "You exceeded your current quota, please check your plan", APIERR_RATE_LIMIT, 1 },
	{ 0, "rate_limit_error", NULL, 0, NULL, "slow down", APIERR_RATE_LIMIT, 1 },
	/* Overload. */
	{ 529, "overloaded_error", NULL, 0, NULL, "Overloaded", APIERR_OVERLOADED, 1 },
	{ 0, "overloaded_error", NULL, 0, NULL, "Overloaded", APIERR_OVERLOADED, 1 },
	{ 503, "UNAVAILABLE", "503", 1, NULL, "The model is overloaded.", APIERR_OVERLOADED, 1 },
	{ 0, "UNAVAILABLE", "503", 1, NULL, "The model is overloaded.", APIERR_OVERLOADED, 1 },
	/* Timeouts. */
	{ 408, NULL, NULL, 0, NULL, "Request Timeout", APIERR_TIMEOUT, 1 },
	{ 504, "timeout_error", NULL, 0, NULL, "timeout", APIERR_TIMEOUT, 1 },
	{ 504, "DEADLINE_EXCEEDED", "504", 1, NULL, "Deadline expired", APIERR_TIMEOUT, 1 },
	/* Context length, recognised by code or by wording. */
	{ 400, "invalid_request_error", "context_length_exceeded", 0, NULL, "This model's maximum context length is 4097 tokens.", APIERR_CONTEXT_LENGTH, 0 },
	{ 400, "invalid_request_error", NULL, 0, NULL, "prompt is too long: 210000 tokens > 200000 maximum", APIERR_CONTEXT_LENGTH, 0 },
	{ 400, "exceed_context_size_error", "400", 1, NULL, "request (4390 tokens) exceeds the available context size (4096 tokens)", APIERR_CONTEXT_LENGTH, 0 },
	{ 400, "INVALID_ARGUMENT", "400", 1, NULL, "The input token count (1200000) exceeds the maximum number of tokens allowed (1048576).", APIERR_CONTEXT_LENGTH, 0 },
	{ 400, "invalid_request_error", "invalid_request_error", 0, NULL, "This model's maximum context length is 65536 tokens.", APIERR_CONTEXT_LENGTH, 0 },
	/* Other client errors. */
	{ 400, "invalid_request_error", NULL, 0, NULL, "temperature: must be <= 2", APIERR_BAD_REQUEST, 0 },
	{ 413, "request_too_large", NULL, 0, NULL, "Request exceeds the maximum size", APIERR_BAD_REQUEST, 0 },
	{ 422, NULL, NULL, 0, NULL, "Unprocessable", APIERR_BAD_REQUEST, 0 },
	/* Server side, retried. */
	{ 409, NULL, NULL, 0, NULL, "Conflict", APIERR_SERVER, 1 },
	{ 500, "api_error", NULL, 0, NULL, "Internal server error", APIERR_SERVER, 1 },
	{ 502, NULL, "502", 1, NULL, "Provider returned error", APIERR_SERVER, 1 },
	{ 0, "InternalServerError", "500", 1, NULL, "Engine loop has died", APIERR_SERVER, 1 },
	{ 0, "server_error", NULL, 0, NULL, "The server had an error", APIERR_SERVER, 1 },
	/* Nothing to go on. */
	{ 0, NULL, NULL, 0, NULL, "an error was encountered while running the model", APIERR_OTHER, -1 },
};

/* Every row of the table gets its class and retry advice. */
static void
test_classify_table(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof ccases / sizeof ccases[0]; i++) {
		const struct ccase *c = &ccases[i];
		struct apierr *e = apierr_new(c->status ? APIERR_HTTP : APIERR_STREAM, APIERR_OTHER,
		    c->message);

		e->status = c->status;
		e->type = c->type ? xstrdup(c->type) : NULL;
		e->code = c->code ? xstrdup(c->code) : NULL;
		e->code_is_number = c->code_is_number;
		e->reason = c->reason ? xstrdup(c->reason) : NULL;
		apierr_classify(e);
		if (e->cls != c->want || e->retryable != c->retryable)
			fail_msg("row %zu (%d %s): got %s/%d, want %s/%d", i, c->status,
			    c->message, apierr_class_name(e->cls), e->retryable,
			    apierr_class_name(c->want), c->retryable);
		apierr_free(e);
	}
}

/* A class set by the transport survives when the error says nothing more specific. */
static void
test_classify_keeps_transport(void **state)
{
	struct apierr *e = apierr_new(APIERR_TRANSPORT, APIERR_CONNECTION, "connection refused");

	(void)state;
	apierr_classify(e);
	assert_int_equal(e->cls, APIERR_CONNECTION);
	assert_int_equal(e->retryable, 1);
	apierr_free(e);
	e = apierr_new(APIERR_KIND_BLOCKED, APIERR_OTHER, "the prompt was blocked (SAFETY)");
	apierr_classify(e);
	assert_int_equal(e->cls, APIERR_BLOCKED);
	assert_int_equal(e->retryable, 0);
	apierr_free(e);
}

/* The one-line form carries class, status, message and request id, with controls folded. */
static void
test_format_and_hint(void **state)
{
	struct apierr *e = apierr_new(APIERR_HTTP, APIERR_OTHER, "Number of request\ntokens\x1b[2J exceeded");
	struct apierr *c;
	char *s;

	(void)state;
	e->status = 429;
	e->type = xstrdup("rate_limit_error");
	e->request_id = xstrdup("req_123");
	apierr_classify(e);
	s = apierr_format(e);
	assert_string_equal(s, "rate limit (429): Number of request tokens\xef\xbf\xbd[2J exceeded [request req_123]");
	free(s);
	assert_string_equal(apierr_hint(e), "wait and retry");
	c = apierr_dup(e);
	apierr_free(e);
	assert_string_equal(c->request_id, "req_123");
	assert_string_equal(c->type, "rate_limit_error");
	apierr_free(c);

	e = apierr_new(APIERR_HTTP, APIERR_OTHER, "prompt is too long: 210000 tokens > 200000 maximum");
	e->status = 400;
	apierr_classify(e);
	assert_int_equal(e->cls, APIERR_CONTEXT_LENGTH);
	assert_non_null(strstr(apierr_hint(e), "shorten the conversation"));
	s = apierr_format(e);
	assert_string_equal(s, "context length (400): prompt is too long: 210000 tokens > 200000 maximum");
	free(s);
	apierr_free(e);

	e = apierr_new(APIERR_STREAM, APIERR_OTHER, "");
	s = apierr_format(e);
	assert_string_equal(s, "error: no message from the provider");
	assert_null(apierr_hint(e));
	free(s);
	apierr_free(e);
	assert_string_equal(apierr_kind_name(APIERR_KIND_BLOCKED), "blocked");
	assert_string_equal(apierr_kind_name(APIERR_HTTP), "http");
}

/* Issue 11: a wait the server asked for is spelt out in the advice, and one beyond the
 * retry cap says so instead of a bare "wait and retry". */
static void
test_advice_names_the_wait(void **state)
{
	static const struct {
		double s;
		const char *text;
	} waits[] = {
		{ 0.15, "150 ms" }, { 1.5, "1.5 s" }, { 45, "45 s" }, { 120, "2m" },
		{ 125, "2m 5s" }, { 7500, "2h 5m" }, { 7200, "2h" }, { 90000, "1d 1h" },
	};
	struct apierr *e;
	char *s;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof waits / sizeof waits[0]; i++) {
		s = apierr_wait_text(waits[i].s);
		assert_string_equal(s, waits[i].text);
		free(s);
	}
	e = apierr_new(APIERR_HTTP, APIERR_RATE_LIMIT, "slow down");
	s = apierr_advice(e);
	assert_string_equal(s, "wait and retry");
	free(s);
	e->retry_after_s = 7500;
	e->retry_cap_s = 60;
	s = apierr_advice(e);
	assert_string_equal(s, "the server asks to wait 2h 5m (beyond the 60 s retry cap, "
	    "max_retry_delay); try again later");
	free(s);
	e->retry_after_s = 30;
	s = apierr_advice(e);
	assert_string_equal(s, "the server asks to wait 30 s; try again after that");
	free(s);
	e->cls = APIERR_AUTH;
	s = apierr_advice(e);
	assert_string_equal(s, "check the API key");
	free(s);
	apierr_free(e);
}

/* retry-after-ms wins over retry-after; seconds may be fractional. */
static void
test_retry_after_numbers(void **state)
{
	struct http_headers h = { NULL, 0 };

	(void)state;
	assert_true(http_retry_after(&h) < 0);
	http_headers_add(&h, "Retry-After", "20");
	assert_true(fabs(http_retry_after(&h) - 20) < 1e-9);
	http_headers_add(&h, "retry-after-ms", "150");
	assert_true(fabs(http_retry_after(&h) - 0.15) < 1e-9);
	http_headers_clear(&h);
	http_headers_add(&h, "retry-after", " 1.5 ");
	assert_true(fabs(http_retry_after(&h) - 1.5) < 1e-9);
	http_headers_clear(&h);
	/* A broken ms header falls back to the seconds one. */
	http_headers_add(&h, "retry-after-ms", "soon");
	http_headers_add(&h, "retry-after", "3");
	assert_true(fabs(http_retry_after(&h) - 3) < 1e-9);
	http_headers_clear(&h);
}

/* An HTTP-date gives the seconds from now; a past date gives 0; garbage gives -1. */
static void
test_retry_after_dates(void **state)
{
	static const char *const garbage[] = { "soon", "-5", "12abc", "", "Wed, 32 Foo 2025 10:00:00 GMT",
		"Wed, 21 Oct 2015 07:28:00", "inf", "nan", "1e400", NULL };
	struct http_headers h = { NULL, 0 };
	char date[64];
	time_t t = time(NULL) + 30;
	struct tm tm;
	double d;
	int i;

	(void)state;
	gmtime_r(&t, &tm);
	strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S GMT", &tm);
	http_headers_add(&h, "retry-after", date);
	d = http_retry_after(&h);
	assert_true(d > 27 && d <= 30);
	http_headers_clear(&h);
	http_headers_add(&h, "retry-after", "Wed, 21 Oct 2015 07:28:00 GMT");
	assert_true(http_retry_after(&h) == 0);
	http_headers_clear(&h);
	for (i = 0; garbage[i] != NULL; i++) {
		http_headers_add(&h, "retry-after", garbage[i]);
		if (http_retry_after(&h) >= 0)
			fail_msg("'%s' was taken as a delay", garbage[i]);
		http_headers_clear(&h);
	}
}

/* Raw header lines are split, trimmed and looked up without regard to case. */
static void
test_headers(void **state)
{
	struct http_headers h = { NULL, 0 };
	static const char *const lines[] = { "HTTP/2 429\r\n", "Request-Id:   req_9  \r\n",
		"x-ratelimit-remaining-tokens: 0\r\n", "\r\n", "no colon here\r\n", ": empty\r\n",
		"X-Should-Retry: false\r\n", NULL };
	int i;

	(void)state;
	for (i = 0; lines[i] != NULL; i++)
		http_headers_add_line(&h, lines[i], strlen(lines[i]));
	assert_int_equal(h.n, 3);
	assert_string_equal(http_headers_get(&h, "request-id"), "req_9");
	assert_string_equal(http_headers_get(&h, "X-RATELIMIT-REMAINING-TOKENS"), "0");
	assert_string_equal(http_headers_get(&h, "x-should-retry"), "false");
	assert_null(http_headers_get(&h, "retry-after"));
	assert_string_equal(http_request_id(&h), "req_9");
	http_headers_clear(&h);
	http_headers_add(&h, "x-request-id", "abc");
	assert_string_equal(http_request_id(&h), "abc");
	http_headers_clear(&h);
	http_headers_add(&h, "X-Goog-Request-Id", "g1");
	assert_string_equal(http_request_id(&h), "g1");
	http_headers_clear(&h);
	assert_null(http_request_id(&h));
}

/* Joining never doubles or drops the slash. */
static void
test_join(void **state)
{
	static const char *const cases[][3] = {
		{ "https://api.openai.com/v1", "chat/completions", "https://api.openai.com/v1/chat/completions" },
		{ "https://api.openai.com/v1/", "/chat/completions", "https://api.openai.com/v1/chat/completions" },
		{ "http://localhost:11434//", "api/tags", "http://localhost:11434/api/tags" },
		{ "http://h", "", "http://h" },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char *s = http_join(cases[i][0], cases[i][1]);

		assert_string_equal(s, cases[i][2]);
		free(s);
	}
}

/* A request collects printf-built headers and frees them. */
static void
test_request_headers(void **state)
{
	struct http_req r;

	(void)state;
	http_req_init(&r, "POST", "http://x/y");
	http_req_header(&r, "Authorization: Bearer %s", "k");
	http_req_header(&r, "X-N: %d", 7);
	assert_int_equal(r.nheaders, 2);
	assert_string_equal(r.headers[0], "Authorization: Bearer k");
	assert_string_equal(r.headers[1], "X-N: 7");
	http_req_free(&r);
	assert_null(r.url);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_classify_table),
		cmocka_unit_test(test_classify_keeps_transport),
		cmocka_unit_test(test_format_and_hint),
		cmocka_unit_test(test_advice_names_the_wait),
		cmocka_unit_test(test_retry_after_numbers),
		cmocka_unit_test(test_retry_after_dates),
		cmocka_unit_test(test_headers),
		cmocka_unit_test(test_join),
		cmocka_unit_test(test_request_headers),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
