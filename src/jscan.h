/*
 * An allocation-free JSON scanner for hot paths. It walks a document in place and accepts a
 * strict subset of JSON; whenever it meets something outside that subset (an escape it does
 * not decode, a control byte in a string, deep nesting, a loose number) it fails, and the
 * caller falls back to cJSON, which stays the reference. So the scanner never has to be
 * right about anything unusual: it only has to be exact on the common case, which the
 * differential fuzz target (tests/fuzz/fuzz_jscan.c) checks against cJSON.
 */
#ifndef NATTER_JSCAN_H
#define NATTER_JSCAN_H

#include <stddef.h>

#include "buf.h"

struct jscan {
	const char *p;
	const char *end;
};

/* A string token: the raw bytes between the quotes, and whether they hold escapes. */
struct jscan_str {
	const char *raw;
	size_t len;
	int escaped;
};

enum jscan_type { JSCAN_BAD, JSCAN_OBJECT, JSCAN_ARRAY, JSCAN_STRING, JSCAN_NUMBER,
	JSCAN_TRUE, JSCAN_FALSE, JSCAN_NULL };

void jscan_init(struct jscan *j, const char *p, size_t n);
/* The type of the next value, after skipping white space. */
enum jscan_type jscan_peek(struct jscan *j);
/* Consume '{' or '['; returns 0 when the next token is not that. */
int jscan_open(struct jscan *j, char c);
/* In an object: read the next key into *key and consume the ':'. Returns 1 for a key, 0 at
 * the closing '}' (consumed), -1 on a syntax error. Same for arrays with jscan_next_item
 * (1 = an item follows, 0 = ']' consumed). */
int jscan_next_key(struct jscan *j, struct jscan_str *key, int *first);
int jscan_next_item(struct jscan *j, int *first);
int jscan_string(struct jscan *j, struct jscan_str *out);
/* Skip any value; returns 0 on error or when nesting is too deep. */
int jscan_skip(struct jscan *j);
/* True when only white space is left. */
int jscan_at_end(struct jscan *j);
/* True when the string token equals the n bytes of s exactly (no escapes); jscan_str_is
 * takes a string literal and lets the compiler count it. */
int jscan_str_is_n(const struct jscan_str *t, const char *s, size_t n);
#define jscan_str_is(t, lit) jscan_str_is_n((t), "" lit, sizeof(lit) - 1)
/* Decode a string token's escapes into out (appending); 0 when it uses an escape the
 * scanner does not handle (then fall back). */
int jscan_unescape(const struct jscan_str *t, struct buf *out);

#endif
