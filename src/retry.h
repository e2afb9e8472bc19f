/*
 * The retry policy for requests that fail before their first token: which errors are worth
 * another attempt, and how long to wait (the Stainless SDK backoff of protocols.md §B.2,
 * overridden by a server-requested delay within a cap). Pure functions with the random value
 * injected, so the policy is unit-testable without clocks or networks.
 */
#ifndef NATTER_RETRY_H
#define NATTER_RETRY_H

struct apierr;

/* The wait before a retry, in ms. retries_done is the number of retries already made
 * (0 before the first retry); server_delay_s < 0 means the server asked for nothing;
 * random01 is in [0, 1). Returns -1 when the server asks for longer than cap_s, meaning
 * "do not retry at all". */
long retry_delay_ms(int retries_done, double server_delay_s, double cap_s, double random01);
/* True when a retry that waits delay_ms may start, elapsed_ms after the first attempt
 * did, within a total budget of total_ms (<= 0: no budget). */
int retry_within_budget(long elapsed_ms, long delay_ms, long total_ms);
/* True when e is worth retrying (before any token was received). */
int retry_error_retryable(const struct apierr *e);
/* A uniform random value in [0, 1) for the jitter; not for anything secret. */
double retry_random01(void);

#endif
