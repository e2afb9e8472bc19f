/*
 * Key pools: the API keys of one provider, rotated across requests. Each key has sliding
 * windows (requests per minute, requests per day, tokens per minute); a key that receives
 * HTTP 429 rests for as long as the server's retry-after says, or with exponential backoff
 * (60 s, 120 s, 240 s ... capped at one hour) when it says nothing, and the next free key
 * is used. When every key is blocked, keypool_acquire says how long to wait. Pools are
 * shared between the UI thread and the worker, so every call locks; with a state file
 * (keypool_set_state) the windows and rests are shared by every natter process too, so
 * `rpd: 1` means one request a day, not one per run. The clock is injectable so tests can
 * move time by hand.
 */
#ifndef NATTER_KEYPOOL_H
#define NATTER_KEYPOOL_H

#include <stddef.h>

struct keypool;

/* A clock in seconds; the default is the wall clock (the state file's time base). */
typedef double (*keypool_clock)(void *ctx);

#define KEYPOOL_BACKOFF_FIRST 60.0
#define KEYPOOL_BACKOFF_MAX 3600.0

/* What `natter auth` shows about one key; the secret itself is never exposed here. */
struct keypool_stat {
	char *masked;        /* "sk-a…wxyz" */
	char *source;        /* "env OPENAI_API_KEY", "key_cmd", "literal" */
	long rpm, rpd, tpm;  /* limits, 0 = none */
	long req_minute;     /* requests in the last 60 s */
	long req_day;        /* requests in the last 24 h */
	long tok_minute;     /* tokens in the last 60 s */
	double blocked_for;  /* seconds until the key is usable again, 0 when free */
	int strikes;         /* 429s in a row */
};

struct keypool *keypool_new(const char *provider);
void keypool_free(struct keypool *kp);
/* Replace the clock (tests); NULL restores CLOCK_REALTIME. */
void keypool_set_clock(struct keypool *kp, keypool_clock fn, void *ctx);
/* Share windows and rests with every process using the file at path (NULL: this process
 * only). The file holds fingerprints of the keys, never a key; it is created 0600. */
void keypool_set_state(struct keypool *kp, const char *path);
/* Longest a caller should wait for a key before giving up, in seconds. */
void keypool_set_max_wait(struct keypool *kp, double seconds);
double keypool_max_wait(struct keypool *kp);
/* Add a key; a secret the pool already holds is the same key (only its source is added). */
void keypool_add(struct keypool *kp, const char *secret, const char *source, long rpm,
    long rpd, long tpm);
size_t keypool_count(struct keypool *kp);
const char *keypool_provider(const struct keypool *kp);
/*
 * Take a key for one request expected to use est_tokens tokens (0 when unknown). Returns its
 * index and a copy of the secret in *secret (caller frees), or -1 when none is free, with
 * *wait_s set to the seconds until one should be (negative: never, e.g. an empty pool).
 */
int keypool_acquire(struct keypool *kp, long est_tokens, char **secret, double *wait_s);
/* Seconds until keypool_acquire would succeed (0: now; negative: never), charging nothing. */
double keypool_wait(struct keypool *kp, long est_tokens);
/* Correct the token count of the key's latest request once usage is known. */
void keypool_add_tokens(struct keypool *kp, int idx, long tokens);
/* The key got HTTP 429: block it for retry_after_s when positive (the server's word), else
 * by the backoff; returns the seconds it stays blocked. */
double keypool_block(struct keypool *kp, int idx, double retry_after_s);
/* A request on the key succeeded: its backoff starts over. */
void keypool_success(struct keypool *kp, int idx);
/* A copy of key idx's secret without charging a request (caller frees), or NULL. */
char *keypool_secret(struct keypool *kp, size_t idx);
/* Fill st for key idx; returns -1 when idx is out of range. */
int keypool_stat(struct keypool *kp, int idx, struct keypool_stat *st);
void keypool_stat_free(struct keypool_stat *st);

#endif
