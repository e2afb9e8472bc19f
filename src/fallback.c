/*
 * Fallback decisions (see fallback.h). Only failures a different model can fix count:
 * a bad request, an over-long context or a blocked prompt would fail the same way on the
 * next model, and once a token arrived the user has a partial answer that a silent switch
 * would garble.
 */
#include <stdlib.h>
#include <string.h>

#include "apierr.h"
#include "config.h"
#include "fallback.h"
#include "xmalloc.h"

/* Whether error e, seen before any token, warrants trying another model. */
int
fallback_wanted(const struct apierr *e, int cancelled, int got_token)
{
	if (e == NULL || cancelled || got_token)
		return 0;
	switch (e->cls) {
	case APIERR_AUTH:
	case APIERR_PERMISSION:
	case APIERR_NOT_FOUND:
	case APIERR_RATE_LIMIT:
	case APIERR_QUOTA:
	case APIERR_OVERLOADED:
	case APIERR_TIMEOUT:
	case APIERR_CONNECTION:
	case APIERR_TLS:
	case APIERR_SERVER:
		return 1;
	case APIERR_OTHER:
		/* Refused locally for want of a key: another provider may have one. */
		return e->kind == APIERR_LOCAL;
	default:
		return 0;
	}
}

/* True when name is among tried. */
static int
fallback_tried(const char *name, const char *const *tried, size_t ntried)
{
	size_t i;

	for (i = 0; i < ntried; i++)
		if (tried[i] != NULL && strcmp(tried[i], name) == 0)
			return 1;
	return 0;
}

/* The first usable, untried model of origin's fallback list. */
struct model *
fallback_next(struct config *c, const struct model *origin, const char *const *tried,
    size_t ntried)
{
	size_t i, n = origin->nfallback;
	char **names = origin->fallback;
	struct model *m;

	for (i = 0; i < n; i++) {
		m = config_model(c, names[i]);
		if (m == NULL || m->provider == NULL || fallback_tried(m->name, tried, ntried))
			continue;
		return m;
	}
	return NULL;
}

/* The line natter prints when it switches models. */
char *
fallback_message(const char *model, const struct apierr *e, const char *next)
{
	const char *why = e != NULL ? apierr_class_name(e->cls) : "error";

	if (e != NULL && e->status > 0)
		return xasprintf("%s failed (%s, HTTP %d); falling back to %s", model, why,
		    e->status, next);
	return xasprintf("%s failed (%s); falling back to %s", model, why, next);
}
