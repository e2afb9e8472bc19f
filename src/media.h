/*
 * What natter transcribe and natter embed share as command-line front ends: choosing the
 * model of their kind through the one resolver, as ask does (-m, -p, --base-url), and
 * telling the reader about retries and failures in ask's words.
 */
#ifndef NATTER_MEDIA_H
#define NATTER_MEDIA_H

struct apierr;
struct config;
struct model;
struct provider;
struct wevent;

/* The model spec (-m), provider (-p) and --base-url (may all be NULL) name for kind
 * (enum model_kind), ready to use; NULL after saying why on stderr (as "natter: who:
 * ..."), with *rc the exit status. */
struct model *media_model(struct config *cfg, const char *spec, const char *provider,
    int kind, const char *base_url, const char *who, int *rc);
/* Say on stderr that a request of p is retried or waits (a WEV_RETRY). */
void media_retry(const struct provider *p, const struct wevent *ev);
/* Say on stderr why a request of p failed, with a hint that fits. */
void media_error(const struct provider *p, const struct apierr *e);

#endif
