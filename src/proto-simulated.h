/*
 * The offline simulated provider: a deterministic reply generator the worker plays back on
 * timers, so natter can be tried, demonstrated and tested with no key and no network.
 * Magic words in the last user message steer it: tokens=N (exactly N answer tokens),
 * think=N (N reasoning tokens first), error=rate_limit|auth|overloaded|server|context (fail
 * before the first token), fault=cut (stop half way without the terminator). Offered
 * tools, it calls them: call=NAME (one call per word, in order) with args=JSON (no spaces;
 * {} when absent); once the results are in it answers with them, unless loop asks it to
 * call again.
 */
#ifndef NATTER_PROTO_SIMULATED_H
#define NATTER_PROTO_SIMULATED_H

#include <stddef.h>

#include "buf.h"
#include "proto.h"
#include "toolcall.h"
#include "usage.h"

struct apierr;
struct request;

struct simulated_reply {
	struct buf text;            /* every token back to back: reasoning first, then answer */
	size_t *ends;               /* ends[i]: offset in text just past token i */
	size_t ntokens;
	size_t nthink;              /* the first nthink tokens are reasoning */
	size_t stop_at;             /* play tokens [0, stop_at); < ntokens with fault=cut */
	int truncated;              /* fault=cut: end without the terminator */
	struct apierr *error;       /* fail before the first token, or NULL (owned) */
	const char *finish_reason;  /* "stop" or "length" (static) */
	struct usage usage;         /* what the reply reports at its end */
	struct toolacc calls;       /* the tool calls it makes (whole), none when n is 0 */
};

/* Generate the reply for req; deterministic for a given request. */
void simulated_reply(const struct request *req, struct simulated_reply *out);
void simulated_reply_free(struct simulated_reply *r);
/* The usage of r once its first played tokens went out: what a cancelled reply reports. */
void simulated_usage_played(const struct simulated_reply *r, size_t played, struct usage *out);
/* Tokens per second for req: NATTER_SIM_RATE when set (it wins for every simulated
 * model), else the model's own pace (simulated-fast 0, simulated-slow 20), else the
 * provider's tokens_per_second; 0 means as fast as possible. */
double simulated_rate(const struct request *req);
/* Append the simulated models to out. */
void simulated_models(struct model_list *out);

#endif
