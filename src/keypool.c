/*
 * Key pools (see keypool.h). Each key keeps the timestamps and token counts of its requests
 * from the last 24 hours, which is all the sliding windows need: counting within 60 s or
 * 86400 s of now answers rpm, tpm and rpd exactly, and the oldest event inside a window
 * says when the window frees up. A mutex guards everything because the worker thread
 * acquires keys while the UI thread reads them for display.
 */
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "keypool.h"
#include "log.h"
#include "secret.h"
#include "xmalloc.h"

#define MINUTE 60.0
#define DAY 86400.0

struct keypool_event {
	double t;
	long tokens;
};

struct keypool_key {
	char *secret;
	char *source;
	long rpm, rpd, tpm;
	struct keypool_event *ev; /* oldest first, from head */
	size_t head, nev, cap;
	double blocked_until;
	int strikes;
};

struct keypool {
	pthread_mutex_t lock;
	char *provider;
	struct keypool_key *keys;
	size_t nkeys;
	size_t next;             /* where the round-robin search starts */
	keypool_clock clock;
	void *clock_ctx;
	double max_wait;
};

/* The default clock: monotonic seconds. */
static double
keypool_monotonic(void *ctx)
{
	struct timespec ts;

	(void)ctx;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* An empty pool for the named provider. */
struct keypool *
keypool_new(const char *provider)
{
	struct keypool *kp = xcalloc(1, sizeof *kp);

	pthread_mutex_init(&kp->lock, NULL);
	kp->provider = xstrdup(provider != NULL ? provider : "");
	kp->clock = keypool_monotonic;
	kp->max_wait = 30;
	return kp;
}

/* Overwrite a secret before its memory is released. */
static void
keypool_wipe(char *s)
{
	volatile char *p = s;

	if (s == NULL)
		return;
	while (*p != '\0')
		*p++ = '\0';
}

/* Release the pool and wipe its secrets. */
void
keypool_free(struct keypool *kp)
{
	size_t i;

	if (kp == NULL)
		return;
	for (i = 0; i < kp->nkeys; i++) {
		keypool_wipe(kp->keys[i].secret);
		free(kp->keys[i].secret);
		free(kp->keys[i].source);
		free(kp->keys[i].ev);
	}
	free(kp->keys);
	free(kp->provider);
	pthread_mutex_destroy(&kp->lock);
	free(kp);
}

/* Install a clock; tests use one they can advance. */
void
keypool_set_clock(struct keypool *kp, keypool_clock fn, void *ctx)
{
	pthread_mutex_lock(&kp->lock);
	kp->clock = fn != NULL ? fn : keypool_monotonic;
	kp->clock_ctx = fn != NULL ? ctx : NULL;
	pthread_mutex_unlock(&kp->lock);
}

/* Set how long callers may wait for a key. */
void
keypool_set_max_wait(struct keypool *kp, double seconds)
{
	pthread_mutex_lock(&kp->lock);
	kp->max_wait = seconds;
	pthread_mutex_unlock(&kp->lock);
}

/* How long callers may wait for a key. */
double
keypool_max_wait(struct keypool *kp)
{
	double w;

	pthread_mutex_lock(&kp->lock);
	w = kp->max_wait;
	pthread_mutex_unlock(&kp->lock);
	return w;
}

/* Add a key with its limits (0 = none). The same secret a second time (GEMINI_API_KEY and
 * GOOGLE_API_KEY set alike) is the same key with the same limits at the provider: it is
 * not added again, only its source is noted. */
void
keypool_add(struct keypool *kp, const char *secret, const char *source, long rpm, long rpd,
    long tpm)
{
	struct keypool_key *k;
	size_t i;

	if (secret == NULL)
		secret = "";
	if (source == NULL)
		source = "literal";
	pthread_mutex_lock(&kp->lock);
	for (i = 0; i < kp->nkeys; i++) {
		if (strcmp(kp->keys[i].secret, secret) == 0) {
			char *both = xasprintf("%s, %s", kp->keys[i].source, source);

			free(kp->keys[i].source);
			kp->keys[i].source = both;
			pthread_mutex_unlock(&kp->lock);
			return;
		}
	}
	kp->keys = xrealloc(kp->keys, (kp->nkeys + 1) * sizeof *kp->keys);
	k = &kp->keys[kp->nkeys++];
	memset(k, 0, sizeof *k);
	k->secret = xstrdup(secret);
	/* Every key natter holds passes here: from now on it is scrubbed from provider text. */
	secret_add(k->secret);
	k->source = xstrdup(source);
	k->rpm = rpm > 0 ? rpm : 0;
	k->rpd = rpd > 0 ? rpd : 0;
	k->tpm = tpm > 0 ? tpm : 0;
	pthread_mutex_unlock(&kp->lock);
}

/* Number of keys. */
size_t
keypool_count(struct keypool *kp)
{
	size_t n;

	pthread_mutex_lock(&kp->lock);
	n = kp->nkeys;
	pthread_mutex_unlock(&kp->lock);
	return n;
}

/* The provider the pool belongs to. */
const char *
keypool_provider(const struct keypool *kp)
{
	return kp->provider;
}

/* Drop events older than a day; they no longer count in any window. */
static void
keypool_trim(struct keypool_key *k, double now)
{
	while (k->nev > 0 && k->ev[k->head].t <= now - DAY) {
		k->head++;
		k->nev--;
	}
	if (k->nev == 0)
		k->head = 0;
	if (k->head > 0 && k->head >= k->cap / 2) {
		memmove(k->ev, k->ev + k->head, k->nev * sizeof *k->ev);
		k->head = 0;
	}
}

/* Append one request event. */
static void
keypool_record(struct keypool_key *k, double now, long tokens)
{
	if (k->head + k->nev == k->cap) {
		k->cap = k->cap > 0 ? k->cap * 2 : 16;
		k->ev = xrealloc(k->ev, k->cap * sizeof *k->ev);
	}
	k->ev[k->head + k->nev].t = now;
	k->ev[k->head + k->nev].tokens = tokens;
	k->nev++;
}

/* Count requests and tokens of k newer than now - span. */
static void
keypool_window(const struct keypool_key *k, double now, double span, long *req, long *tok)
{
	size_t i;

	*req = 0;
	*tok = 0;
	for (i = k->nev; i > 0; i--) {
		const struct keypool_event *e = &k->ev[k->head + i - 1];

		if (e->t <= now - span)
			break;
		(*req)++;
		*tok += e->tokens;
	}
}

/* Seconds until a request of est tokens fits key k; 0 when it fits now. */
static double
keypool_wait_for(const struct keypool_key *k, double now, long est)
{
	double wait = 0, w;
	long req, tok, need;
	size_t i, first;

	if (k->blocked_until > now)
		wait = k->blocked_until - now;
	if (k->rpm > 0) {
		keypool_window(k, now, MINUTE, &req, &tok);
		if (req >= k->rpm) {
			/* The (req - rpm + 1)-th oldest request in the minute must age out. */
			first = k->head + k->nev - (size_t)req;
			w = k->ev[first + (size_t)(req - k->rpm)].t + MINUTE - now;
			if (w > wait)
				wait = w;
		}
	}
	if (k->rpd > 0) {
		keypool_window(k, now, DAY, &req, &tok);
		if (req >= k->rpd) {
			first = k->head + k->nev - (size_t)req;
			w = k->ev[first + (size_t)(req - k->rpd)].t + DAY - now;
			if (w > wait)
				wait = w;
		}
	}
	if (k->tpm > 0) {
		keypool_window(k, now, MINUTE, &req, &tok);
		/* A request bigger than the whole budget runs once the minute is empty. */
		need = est > k->tpm ? tok : tok + est - k->tpm;
		if (need > 0 && req > 0) {
			w = 0;
			first = k->head + k->nev - (size_t)req;
			for (i = first; i < k->head + k->nev && need > 0; i++) {
				need -= k->ev[i].tokens;
				w = k->ev[i].t + MINUTE - now;
			}
			if (w > wait)
				wait = w;
		}
	}
	return wait;
}

/* Seconds until keypool_acquire would find a key, without charging one (the worker asks
 * after a 429 whether rotating makes sense). */
double
keypool_wait(struct keypool *kp, long est_tokens)
{
	double now, best = -1, w;
	size_t i;

	pthread_mutex_lock(&kp->lock);
	now = kp->clock(kp->clock_ctx);
	for (i = 0; i < kp->nkeys; i++) {
		keypool_trim(&kp->keys[i], now);
		w = keypool_wait_for(&kp->keys[i], now, est_tokens > 0 ? est_tokens : 0);
		if (best < 0 || w < best)
			best = w;
	}
	pthread_mutex_unlock(&kp->lock);
	return best;
}

/* Pick the next free key in round-robin order and charge the request to it. */
int
keypool_acquire(struct keypool *kp, long est_tokens, char **secret, double *wait_s)
{
	double now, best = -1, w;
	size_t i, j;
	int idx = -1;

	*secret = NULL;
	pthread_mutex_lock(&kp->lock);
	now = kp->clock(kp->clock_ctx);
	for (i = 0; i < kp->nkeys; i++) {
		j = (kp->next + i) % kp->nkeys;
		keypool_trim(&kp->keys[j], now);
		w = keypool_wait_for(&kp->keys[j], now, est_tokens > 0 ? est_tokens : 0);
		if (w <= 0) {
			idx = (int)j;
			break;
		}
		if (best < 0 || w < best)
			best = w;
	}
	if (idx >= 0) {
		keypool_record(&kp->keys[idx], now, est_tokens > 0 ? est_tokens : 0);
		kp->next = ((size_t)idx + 1) % kp->nkeys;
		*secret = xstrdup(kp->keys[idx].secret);
		best = 0;
	}
	*wait_s = best;
	pthread_mutex_unlock(&kp->lock);
	log_debug("keypool %s: acquire -> key %d (wait %.1fs)", kp->provider, idx, best);
	return idx;
}

/* Replace the estimate of key idx's latest request with the real token count. */
void
keypool_add_tokens(struct keypool *kp, int idx, long tokens)
{
	struct keypool_key *k;

	pthread_mutex_lock(&kp->lock);
	if (idx >= 0 && (size_t)idx < kp->nkeys) {
		k = &kp->keys[idx];
		if (k->nev > 0 && tokens > 0)
			k->ev[k->head + k->nev - 1].tokens = tokens;
	}
	pthread_mutex_unlock(&kp->lock);
}

/* Block key idx after a 429: 60 s doubling per strike up to an hour, or longer if the
 * server asked for it. */
double
keypool_block(struct keypool *kp, int idx, double retry_after_s)
{
	struct keypool_key *k;
	double secs = 0, now;

	pthread_mutex_lock(&kp->lock);
	if (idx >= 0 && (size_t)idx < kp->nkeys) {
		k = &kp->keys[idx];
		now = kp->clock(kp->clock_ctx);
		secs = KEYPOOL_BACKOFF_FIRST * ldexp(1.0, k->strikes < 16 ? k->strikes : 16);
		if (retry_after_s > secs)
			secs = retry_after_s;
		if (secs > KEYPOOL_BACKOFF_MAX)
			secs = KEYPOOL_BACKOFF_MAX;
		k->strikes++;
		k->blocked_until = now + secs;
	}
	pthread_mutex_unlock(&kp->lock);
	log_debug("keypool %s: key %d blocked for %.0fs", kp->provider, idx, secs);
	return secs;
}

/* Key idx worked: forget its strikes. */
void
keypool_success(struct keypool *kp, int idx)
{
	pthread_mutex_lock(&kp->lock);
	if (idx >= 0 && (size_t)idx < kp->nkeys)
		kp->keys[idx].strikes = 0;
	pthread_mutex_unlock(&kp->lock);
}

/* A copy of key idx's secret, for code that does not rotate keys. */
char *
keypool_secret(struct keypool *kp, size_t idx)
{
	char *s = NULL;

	pthread_mutex_lock(&kp->lock);
	if (idx < kp->nkeys)
		s = xstrdup(kp->keys[idx].secret);
	pthread_mutex_unlock(&kp->lock);
	return s;
}

/* Describe key idx without revealing it. */
int
keypool_stat(struct keypool *kp, int idx, struct keypool_stat *st)
{
	struct keypool_key *k;
	double now;
	long tok;

	memset(st, 0, sizeof *st);
	pthread_mutex_lock(&kp->lock);
	if (idx < 0 || (size_t)idx >= kp->nkeys) {
		pthread_mutex_unlock(&kp->lock);
		return -1;
	}
	k = &kp->keys[idx];
	now = kp->clock(kp->clock_ctx);
	keypool_trim(k, now);
	st->masked = log_mask_key(k->secret);
	st->source = xstrdup(k->source);
	st->rpm = k->rpm;
	st->rpd = k->rpd;
	st->tpm = k->tpm;
	keypool_window(k, now, MINUTE, &st->req_minute, &st->tok_minute);
	keypool_window(k, now, DAY, &st->req_day, &tok);
	st->blocked_for = k->blocked_until > now ? k->blocked_until - now : 0;
	st->strikes = k->strikes;
	pthread_mutex_unlock(&kp->lock);
	return 0;
}

/* Release what keypool_stat allocated. */
void
keypool_stat_free(struct keypool_stat *st)
{
	free(st->masked);
	free(st->source);
	st->masked = st->source = NULL;
}
