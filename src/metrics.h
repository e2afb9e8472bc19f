/* The figures of a session's replies (/metrics): model, timings, tokens, speed and cost. */
#ifndef NATTER_METRICS_H
#define NATTER_METRICS_H

struct config;
struct session;

/* A plain-text report, one reply per line and the session totals at the end; costs come
 * from the config's prices and say "unknown" for a model without one. Caller frees. */
char *metrics_report(const struct session *s, struct config *c);

#endif
