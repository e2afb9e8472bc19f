/*
 * Provider errors: construction, copying, the readable one-line form, the hint shown under
 * it, and classification. Classification reads every signal a provider gives (HTTP status,
 * error type, code, Gemini reason, message wording) because providers disagree on which one
 * carries the meaning: Gemini reports a bad key as 400 with reason API_KEY_INVALID, OpenAI
 * reports an exhausted balance as a 429 with code insufficient_quota, and a context overflow
 * is a plain 400 everywhere with only the message to tell it apart.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "apierr.h"
#include "buf.h"
#include "secret.h"
#include "text.h"
#include "xmalloc.h"

static const char *const apierr_class_names[] = {
#define X(name, text) text,
	APIERR_CLASSES(X)
#undef X
};

/* Allocate an error with no status, no retry advice and a copy of message. */
struct apierr *
apierr_new(enum apierr_kind kind, enum apierr_class cls, const char *message)
{
	struct apierr *e = xcalloc(1, sizeof *e);

	e->kind = kind;
	e->cls = cls;
	e->message = xstrdup(message != NULL ? message : "");
	e->retryable = -1;
	e->retry_after_s = -1;
	return e;
}

/* Duplicate a string that may be NULL. */
static char *
apierr_strdup(const char *s)
{
	return s != NULL ? xstrdup(s) : NULL;
}

/* Deep copy of e, so an error can be queued to another thread and freed there. */
struct apierr *
apierr_dup(const struct apierr *e)
{
	struct apierr *c;

	if (e == NULL)
		return NULL;
	c = xmalloc(sizeof *c);
	*c = *e;
	c->type = apierr_strdup(e->type);
	c->code = apierr_strdup(e->code);
	c->reason = apierr_strdup(e->reason);
	c->message = apierr_strdup(e->message != NULL ? e->message : "");
	c->request_id = apierr_strdup(e->request_id);
	return c;
}

/* Release e and everything it owns; NULL is fine. */
void
apierr_free(struct apierr *e)
{
	if (e == NULL)
		return;
	free(e->type);
	free(e->code);
	free(e->reason);
	free(e->message);
	free(e->request_id);
	free(e);
}

/* Mask every key natter holds in the provider's words (an echoing proxy may quote the
 * request's Authorization header), before the error is shown, logged or stored. */
void
apierr_scrub(struct apierr *e)
{
	if (e == NULL)
		return;
	secret_scrub_str(e->type);
	secret_scrub_str(e->code);
	secret_scrub_str(e->reason);
	secret_scrub_str(e->message);
	secret_scrub_str(e->request_id);
}

/* The short user-facing name of a class, e.g. "rate limit". */
const char *
apierr_class_name(enum apierr_class cls)
{
	if ((size_t)cls >= sizeof apierr_class_names / sizeof apierr_class_names[0])
		return "error";
	return apierr_class_names[cls];
}

/* The name of a kind as stream-vectors.json spells it. */
const char *
apierr_kind_name(enum apierr_kind kind)
{
	switch (kind) {
	case APIERR_STREAM: return "stream";
	case APIERR_HTTP: return "http";
	case APIERR_KIND_BLOCKED: return "blocked";
	case APIERR_TRANSPORT: return "transport";
	case APIERR_LOCAL: return "local";
	}
	return "error";
}

/* Append s as one terminal-safe line (text.h: newlines and tabs become spaces, other
 * controls U+FFFD) with runs of spaces folded, so a provider's multi-line or hostile message
 * cannot break the one-line form. */
static void
apierr_put_clean(struct buf *b, const char *s)
{
	struct buf t = BUF_INIT;
	size_t i;
	int space = 0;

	text_sanitize_line(s, strlen(s), &t);
	for (i = 0; i < t.len; i++) {
		if (t.data[i] == ' ') {
			space = 1;
			continue;
		}
		if (space && b->len > 0 && b->data[b->len - 1] != ' ')
			buf_putc(b, ' ');
		space = 0;
		buf_putc(b, t.data[i]);
	}
	buf_free(&t);
}

/* One readable line: "rate limit (429): <message> [request req_…]". Caller frees. */
char *
apierr_format(const struct apierr *e)
{
	struct buf b = BUF_INIT;

	buf_puts(&b, apierr_class_name(e->cls));
	if (e->status > 0)
		buf_printf(&b, " (%d)", e->status);
	buf_puts(&b, ": ");
	if (e->message != NULL && e->message[0] != '\0')
		apierr_put_clean(&b, e->message);
	else if (e->type != NULL)
		apierr_put_clean(&b, e->type);
	else
		buf_puts(&b, "no message from the provider");
	if (e->request_id != NULL && e->request_id[0] != '\0') {
		buf_puts(&b, " [request ");
		apierr_put_clean(&b, e->request_id);
		buf_putc(&b, ']');
	}
	return buf_detach(&b);
}

/* Advice for the user; generic because only the caller knows the key's variable. */
const char *
apierr_hint(const struct apierr *e)
{
	switch (e->cls) {
	case APIERR_AUTH: return "check the API key";
	case APIERR_PERMISSION: return "the key has no access to this model or feature";
	case APIERR_NOT_FOUND: return "check the model name and the base URL";
	case APIERR_RATE_LIMIT: return "wait and retry";
	case APIERR_QUOTA: return "check the account's plan, credits or spend limit";
	case APIERR_OVERLOADED: return "the provider is overloaded: retry later or pick another model";
	case APIERR_TIMEOUT: return "retry; a shorter prompt or a lower max_tokens may help";
	case APIERR_CONNECTION: return "check the network, the proxy and the base URL";
	case APIERR_TLS: return "check the system clock and the certificate bundle (ca_bundle)";
	case APIERR_BAD_REQUEST: return "check the model and its parameters";
	case APIERR_CONTEXT_LENGTH: return "shorten the conversation or start a new one";
	case APIERR_SERVER: return "the provider failed: retry later";
	case APIERR_TRUNCATED: return "the reply was cut off: retry";
	case APIERR_BLOCKED: return "the provider refused the prompt: rephrase it";
	case APIERR_OTHER:
	case APIERR_CANCELLED:
		break;
	}
	return NULL;
}

/* Format a wait of s seconds the way a person says it, to whole units past a minute. */
char *
apierr_wait_text(double s)
{
	long t;

	if (!(s > 0))
		return xstrdup("0 s");
	if (s < 1)
		return xasprintf("%ld ms", (long)(s * 1000 + 0.5));
	if (s < 59.95)
		return xasprintf("%.3g s", (double)(long)(s * 10 + 0.5) / 10);
	if (s < 3600) {
		t = (long)(s + 0.5);
		return t % 60 != 0 ? xasprintf("%ldm %lds", t / 60, t % 60) :
		    xasprintf("%ldm", t / 60);
	}
	if (s < 86400) {
		t = (long)(s / 60 + 0.5);
		return t % 60 != 0 ? xasprintf("%ldh %ldm", t / 60, t % 60) :
		    xasprintf("%ldh", t / 60);
	}
	t = s / 3600 < 1e9 ? (long)(s / 3600 + 0.5) : 999999999L;
	return t % 24 != 0 ? xasprintf("%ldd %ldh", t / 24, t % 24) : xasprintf("%ldd", t / 24);
}

/* The hint, with the server's wait spelt out when it named one for a passing condition. */
char *
apierr_advice(const struct apierr *e)
{
	const char *hint = apierr_hint(e);
	char *wait, *cap, *out;

	if (e->retry_after_s > 0 && (e->cls == APIERR_RATE_LIMIT ||
	    e->cls == APIERR_OVERLOADED || e->cls == APIERR_SERVER)) {
		wait = apierr_wait_text(e->retry_after_s);
		if (e->retry_cap_s > 0 && e->retry_after_s > e->retry_cap_s) {
			cap = xasprintf("%g s", e->retry_cap_s);
			out = xasprintf("the server asks to wait %s (beyond the %s retry cap, "
			    "max_retry_delay); try again later", wait, cap);
			free(cap);
		} else {
			out = xasprintf("the server asks to wait %s; try again after that", wait);
		}
		free(wait);
		return out;
	}
	return hint != NULL ? xstrdup(hint) : NULL;
}

/* True when s (may be NULL) equals any of the NULL-terminated words, ignoring case. */
static int
apierr_is(const char *s, const char *const *words)
{
	if (s == NULL)
		return 0;
	for (; *words != NULL; words++)
		if (strcasecmp(s, *words) == 0)
			return 1;
	return 0;
}

/* True when s (may be NULL) contains needle, ignoring ASCII case. */
static int
apierr_contains(const char *s, const char *needle)
{
	size_t n = strlen(needle);

	if (s == NULL)
		return 0;
	for (; *s != '\0'; s++)
		if (strncasecmp(s, needle, n) == 0)
			return 1;
	return 0;
}

/* True when type, code or reason is one of words. */
static int
apierr_signal(const struct apierr *e, const char *const *words)
{
	return apierr_is(e->type, words) || apierr_is(e->code, words) ||
	    apierr_is(e->reason, words);
}

/* True when the error says the prompt did not fit the model's context window. */
static int
apierr_is_context(const struct apierr *e)
{
	static const char *const codes[] = { "context_length_exceeded",
		"exceed_context_size_error", "string_above_max_length", NULL };
	static const char *const phrases[] = { "prompt is too long", "maximum context length",
		"exceeds the maximum number of tokens", "exceeds the available context size",
		"context_length_exceeded", "context size has been exceeded",
		"context window", NULL };
	const char *const *p;

	if (apierr_signal(e, codes))
		return 1;
	for (p = phrases; *p != NULL; p++)
		if (apierr_contains(e->message, *p))
			return 1;
	return 0;
}

/* True when a 429 or similar is a spending cap or an empty balance, not a rate limit. */
static int
apierr_is_quota(const struct apierr *e)
{
	static const char *const words[] = { "billing_error", "insufficient_quota",
		"enforced_spend_limit_reached", "spend_limit_reached", "payment_required", NULL };

	return apierr_signal(e, words) || apierr_contains(e->message, "spend limit") ||
	    apierr_contains(e->code, "spend_limit") || apierr_contains(e->type, "spend_limit");
}

/* The class a signal-free status implies. */
static enum apierr_class
apierr_from_status(int status)
{
	switch (status) {
	case 401: return APIERR_AUTH;
	case 402: return APIERR_QUOTA;
	case 403: return APIERR_PERMISSION;
	case 404: return APIERR_NOT_FOUND;
	case 408: return APIERR_TIMEOUT;
	case 409: return APIERR_SERVER;
	case 400: case 413: case 422: return APIERR_BAD_REQUEST;
	case 429: return APIERR_RATE_LIMIT;
	case 503: case 529: return APIERR_OVERLOADED;
	case 504: return APIERR_TIMEOUT;
	default:
		if (status >= 500 && status <= 599)
			return APIERR_SERVER;
		if (status >= 400 && status <= 499)
			return APIERR_BAD_REQUEST;
		return APIERR_OTHER;
	}
}

/* Whether a class is worth retrying: 1, 0, or -1 when nothing is known. */
static int
apierr_class_retryable(enum apierr_class cls)
{
	switch (cls) {
	case APIERR_RATE_LIMIT:
	case APIERR_OVERLOADED:
	case APIERR_TIMEOUT:
	case APIERR_CONNECTION:
	case APIERR_SERVER:
	case APIERR_TRUNCATED:
		return 1;
	case APIERR_AUTH:
	case APIERR_PERMISSION:
	case APIERR_NOT_FOUND:
	case APIERR_QUOTA:
	case APIERR_TLS:
	case APIERR_BAD_REQUEST:
	case APIERR_CONTEXT_LENGTH:
	case APIERR_BLOCKED:
	case APIERR_CANCELLED:
		return 0;
	case APIERR_OTHER:
		break;
	}
	return -1;
}

/* The class the error's signals imply, most specific first. */
static enum apierr_class
apierr_infer(const struct apierr *e)
{
	static const char *const auth[] = { "invalid_api_key", "authentication_error",
		"API_KEY_INVALID", "UNAUTHENTICATED", "unauthorized", NULL };
	static const char *const perm[] = { "permission_error", "PERMISSION_DENIED",
		"API_KEY_SERVICE_BLOCKED", NULL };
	static const char *const notfound[] = { "not_found_error", "NOT_FOUND",
		"model_not_found", NULL };
	static const char *const rate[] = { "rate_limit_error", "RESOURCE_EXHAUSTED",
		"rate_limit_exceeded", NULL };
	static const char *const over[] = { "overloaded_error", "UNAVAILABLE", NULL };
	static const char *const timeout[] = { "timeout_error", "DEADLINE_EXCEEDED", NULL };
	static const char *const server[] = { "api_error", "server_error", "INTERNAL",
		"InternalServerError", NULL };
	static const char *const bad[] = { "invalid_request_error", "INVALID_ARGUMENT",
		"request_too_large", "FAILED_PRECONDITION", "BadRequestError", NULL };
	int status = e->status;

	/* Inside a 200 stream some servers put the HTTP-like status in a numeric code. */
	if (status <= 0 && e->code != NULL && e->code_is_number) {
		long n = strtol(e->code, NULL, 10);

		if (n >= 400 && n <= 599)
			status = (int)n;
	}
	if (e->kind == APIERR_KIND_BLOCKED)
		return APIERR_BLOCKED;
	if (status == 401 || apierr_signal(e, auth))
		return APIERR_AUTH;
	if (status == 402 || apierr_is_quota(e))
		return APIERR_QUOTA;
	if (status == 403 || apierr_signal(e, perm))
		return APIERR_PERMISSION;
	if (apierr_is_context(e))
		return APIERR_CONTEXT_LENGTH;
	if (status == 404 || apierr_signal(e, notfound))
		return APIERR_NOT_FOUND;
	if (status == 429 || apierr_signal(e, rate))
		return APIERR_RATE_LIMIT;
	if (status == 529 || status == 503 || apierr_signal(e, over))
		return APIERR_OVERLOADED;
	if (status == 408 || status == 504 || apierr_signal(e, timeout))
		return APIERR_TIMEOUT;
	if (status > 0)
		return apierr_from_status(status);
	if (apierr_signal(e, server))
		return APIERR_SERVER;
	if (apierr_signal(e, bad))
		return APIERR_BAD_REQUEST;
	return APIERR_OTHER;
}

/* Set cls and retryable from everything the provider said. */
void
apierr_classify(struct apierr *e)
{
	enum apierr_class cls = apierr_infer(e);

	if (cls == APIERR_OTHER)
		cls = e->cls;
	e->cls = cls;
	e->retryable = apierr_class_retryable(cls);
}
