/*
 * Model fallbacks: when a request fails before its first token for a reason retrying cannot
 * fix (provider down, overloaded after retries, no usable key), natter tries the next model
 * of the failed model's `fallback:` list. The decisions live here so that `natter ask` and
 * the UI behave the same.
 */
#ifndef NATTER_FALLBACK_H
#define NATTER_FALLBACK_H

#include <stddef.h>

struct apierr;
struct config;
struct model;

/* True when a stream that ended with error e (cancelled or not, with or without a token)
 * should move on to a fallback model. */
int fallback_wanted(const struct apierr *e, int cancelled, int got_token);
/* The next usable model of origin's fallback list not in tried[0..ntried), or NULL. */
struct model *fallback_next(struct config *c, const struct model *origin,
    const char *const *tried, size_t ntried);
/* "<model> failed (<reason>); falling back to <next>". Caller frees. */
char *fallback_message(const char *model, const struct apierr *e, const char *next);

#endif
