/*
 * Typed provider errors. Every failure a user can see (an HTTP error body, an error inside
 * a 200 stream, a blocked prompt, a transport failure from curl, a truncated stream) becomes
 * one struct apierr carrying the provider's own words, the HTTP status and the request id,
 * plus a class that decides retrying and the hint shown to the user.
 */
#ifndef NATTER_APIERR_H
#define NATTER_APIERR_H

/* Where the error came from; names match stream-vectors.json "kind". */
enum apierr_kind {
	APIERR_STREAM,    /* inside a 200 stream */
	APIERR_HTTP,      /* non-2xx response */
	APIERR_KIND_BLOCKED, /* prompt blocked (Gemini promptFeedback.blockReason); the
	                      * class of the same name is APIERR_BLOCKED */
	APIERR_TRANSPORT, /* curl: connect, TLS, timeout, reset */
	APIERR_LOCAL,     /* refused before sending: no key, bad parameter, unknown model */
};

/* What went wrong, as far as a user (and the retry policy) cares. */
#define APIERR_CLASSES(X) \
	X(OTHER, "error") \
	X(AUTH, "auth") \
	X(PERMISSION, "permission") \
	X(NOT_FOUND, "not found") \
	X(RATE_LIMIT, "rate limit") \
	X(QUOTA, "quota") \
	X(OVERLOADED, "overloaded") \
	X(TIMEOUT, "timeout") \
	X(CONNECTION, "connection") \
	X(TLS, "tls") \
	X(BAD_REQUEST, "bad request") \
	X(CONTEXT_LENGTH, "context length") \
	X(SERVER, "server") \
	X(TRUNCATED, "truncated stream") \
	X(BLOCKED, "blocked") \
	X(CANCELLED, "cancelled")

enum apierr_class {
#define X(name, text) APIERR_##name,
	APIERR_CLASSES(X)
#undef X
};

struct apierr {
	enum apierr_kind kind;
	enum apierr_class cls;
	int status;           /* HTTP status, 0 when none */
	char *type;           /* provider's error type / status string, or NULL */
	char *code;           /* provider's code as text, or NULL */
	int code_is_number;   /* code was a JSON number */
	char *reason;         /* Gemini ErrorInfo reason, block reason, or NULL */
	char *message;        /* the provider's own message (never NULL once set) */
	char *request_id;     /* request-id / x-request-id, or NULL */
	int retryable;        /* -1 unknown, 0 no, 1 yes */
	double retry_after_s; /* server-requested delay, < 0 when none */
	double retry_cap_s;   /* the longest wait the retry policy would accept (the
	                       * provider's max_retry_delay), set by the worker on an error it
	                       * ends a stream with; 0 when unknown */
};

struct apierr *apierr_new(enum apierr_kind kind, enum apierr_class cls, const char *message);
struct apierr *apierr_dup(const struct apierr *e);
void apierr_free(struct apierr *e);
/* Mask every registered secret (secret.h) in e's texts, in place; NULL is fine. */
void apierr_scrub(struct apierr *e);
const char *apierr_class_name(enum apierr_class cls);
const char *apierr_kind_name(enum apierr_kind kind);
/* One readable line: "rate limit (429): <message> [request req_…]". Caller frees. */
char *apierr_format(const struct apierr *e);
/* What to do next, e.g. "set ANTHROPIC_API_KEY"; NULL when there is nothing to say. */
const char *apierr_hint(const struct apierr *e);
/* apierr_hint as a line the caller frees, except that a rate limit, an overload or a
 * server error whose server named a wait says how long, and whether that is beyond the
 * retry cap: "the server asks to wait 2h 5m (beyond the 60 s retry cap); try again later".
 * NULL when there is nothing to say. */
char *apierr_advice(const struct apierr *e);
/* A wait of s seconds for people: "150 ms", "45 s", "1.5 s", "2m 5s", "2h 5m", "3d 4h". Caller frees. */
char *apierr_wait_text(double s);
/* Set cls and retryable from status, type, code, reason and message (protocols.md §B).
 * A class already set (e.g. by the transport) is kept when nothing more specific matches;
 * callers apply a server's x-should-retry header afterwards. */
void apierr_classify(struct apierr *e);

#endif
