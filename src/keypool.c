/*
 * Key pools (see keypool.h). Each key keeps the timestamps and token counts of its requests
 * from the last 24 hours, which is all the sliding windows need: counting within 60 s or
 * 86400 s of now answers rpm, tpm and rpd exactly, and the oldest event inside a window
 * says when the window frees up. A mutex guards everything because the worker thread
 * acquires keys while the UI thread reads them for display.
 *
 * With a state file (keypool_set_state) the windows and rests are shared by every natter:
 * each call takes an flock on the file, replaces what it knows of its keys with what the
 * file says, does its work and, when it changed something, writes the file back before
 * unlocking. The file is the truth and memory a copy, so concurrent processes never count
 * a request twice or miss one. Lines are "e FP TIME TOKENS ID" (a request) and
 * "r FP UNTIL STRIKES" (a rest), times in wall-clock seconds; FP is a SHA-256 fingerprint
 * of the provider's name and the key, never the key. Lines of other pools are kept as
 * they are, less what is a day old. A file natter cannot open or lock costs only the
 * sharing: the pool goes on in memory.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "keypool.h"
#include "log.h"
#include "secret.h"
#include "sha256.h"
#include "xmalloc.h"

#define KEYPOOL_STATE_HEADER "natter-keypool 1\n"
/* Events a key keeps in the state file beyond what its rpd and rpm need. */
#define KEYPOOL_STATE_EVENTS 5000
#define KEYPOOL_FP_LEN 32

#define MINUTE 60.0
#define DAY 86400.0

struct keypool_event {
	double t;
	long tokens;
	uint64_t id;             /* which request, so its tokens can be corrected later */
};

struct keypool_key {
	char *secret;
	char *source;
	char fp[KEYPOOL_FP_LEN + 1]; /* the key's name in the state file */
	long rpm, rpd, tpm;
	struct keypool_event *ev; /* oldest first, from head */
	size_t head, nev, cap;
	double blocked_until;
	int strikes;
	uint64_t last_id;        /* this process's latest request on the key */
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
	char *state_path;        /* the shared state file, or NULL */
	int state_fd;            /* open on it, or -1 */
	uint64_t next_id;        /* ids of this pool's requests */
};

/* The default clock: wall-clock seconds, because windows and rests outlive the process in
 * the state file and every natter must read its times alike. */
static double
keypool_realtime(void *ctx)
{
	struct timespec ts;

	(void)ctx;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* An empty pool for the named provider. */
struct keypool *
keypool_new(const char *provider)
{
	struct keypool *kp = xcalloc(1, sizeof *kp);

	struct timespec ts;

	pthread_mutex_init(&kp->lock, NULL);
	kp->provider = xstrdup(provider != NULL ? provider : "");
	kp->clock = keypool_realtime;
	kp->max_wait = 30;
	kp->state_fd = -1;
	/* Unique across processes and pools: the pid, the time and the pool's address. */
	clock_gettime(CLOCK_REALTIME, &ts);
	kp->next_id = ((uint64_t)getpid() << 40) ^ ((uint64_t)ts.tv_nsec << 8) ^
	    (uint64_t)ts.tv_sec ^ (uint64_t)(uintptr_t)kp;
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
	free(kp->state_path);
	if (kp->state_fd >= 0)
		close(kp->state_fd);
	pthread_mutex_destroy(&kp->lock);
	free(kp);
}

/* Install a clock; tests use one they can advance. */
void
keypool_set_clock(struct keypool *kp, keypool_clock fn, void *ctx)
{
	pthread_mutex_lock(&kp->lock);
	kp->clock = fn != NULL ? fn : keypool_realtime;
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

/* The state file's name of a key: hex of the first 16 bytes of SHA-256 over a label, the
 * provider's name and the key. */
static void
keypool_fingerprint(const char *provider, const char *secret, char out[KEYPOOL_FP_LEN + 1])
{
	static const char label[] = "natter-keypool";
	struct sha256 s;
	unsigned char d[SHA256_LEN];
	int i;

	sha256_init(&s);
	sha256_update(&s, label, sizeof label);
	sha256_update(&s, provider, strlen(provider) + 1);
	sha256_update(&s, secret, strlen(secret));
	sha256_final(&s, d);
	for (i = 0; i < KEYPOOL_FP_LEN / 2; i++)
		snprintf(out + 2 * i, 3, "%02x", d[i]);
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
	keypool_fingerprint(kp->provider, k->secret, k->fp);
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
keypool_record(struct keypool_key *k, double now, long tokens, uint64_t id)
{
	if (k->head + k->nev == k->cap) {
		k->cap = k->cap > 0 ? k->cap * 2 : 16;
		k->ev = xrealloc(k->ev, k->cap * sizeof *k->ev);
	}
	k->ev[k->head + k->nev].t = now;
	k->ev[k->head + k->nev].tokens = tokens;
	k->ev[k->head + k->nev].id = id;
	k->nev++;
}

/* Create the missing directories above path, private (like the database's). */
static void
keypool_mkdirs(const char *path)
{
	char *dir = xstrdup(path), *p;

	for (p = dir + 1; *p != '\0'; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(dir, 0700) != 0 && errno != EEXIST)
			break;
		*p = '/';
	}
	free(dir);
}

/* Share the pool's windows and rests through the file at path (NULL: keep them in memory
 * only). The file is created (0600) when it is first needed. */
void
keypool_set_state(struct keypool *kp, const char *path)
{
	pthread_mutex_lock(&kp->lock);
	free(kp->state_path);
	kp->state_path = path != NULL ? xstrdup(path) : NULL;
	if (kp->state_fd >= 0)
		close(kp->state_fd);
	kp->state_fd = -1;
	pthread_mutex_unlock(&kp->lock);
}

/* One turn with the state file: the lock is held from begin to end. */
struct keypool_sync {
	int locked;
	struct buf others;       /* the lines of other pools, kept */
};

/* The key of kp whose fingerprint is fp, or NULL. */
static struct keypool_key *
keypool_by_fp(struct keypool *kp, const char *fp)
{
	size_t i;

	for (i = 0; i < kp->nkeys; i++)
		if (strcmp(kp->keys[i].fp, fp) == 0)
			return &kp->keys[i];
	return NULL;
}

/* Order events by time, for qsort. */
static int
keypool_event_cmp(const void *a, const void *b)
{
	const struct keypool_event *x = a, *y = b;

	return x->t < y->t ? -1 : x->t > y->t;
}

/* Take one line of the state file: a line of one of kp's keys goes into it, another
 * pool's line is kept in sy->others, and a line a day old or malformed is dropped. */
static void
keypool_state_line(struct keypool *kp, const char *line, double now,
    struct keypool_sync *sy)
{
	char kind, fp[KEYPOOL_FP_LEN + 2];
	double t;
	long n;
	uint64_t id = 0;
	struct keypool_key *k;
	int got;

	got = sscanf(line, "%c %33s %lf %ld %" SCNx64, &kind, fp, &t, &n, &id);
	if ((kind != 'e' || got != 5) && (kind != 'r' || got != 4))
		return;
	if (strlen(fp) != KEYPOOL_FP_LEN || strspn(fp, "0123456789abcdef") != KEYPOOL_FP_LEN ||
	    !isfinite(t) || t <= now - DAY)
		return;
	k = keypool_by_fp(kp, fp);
	if (k == NULL) {
		buf_printf(&sy->others, "%s\n", line);
	} else if (kind == 'e') {
		keypool_record(k, t, n > 0 ? n : 0, id);
	} else {
		k->blocked_until = t;
		k->strikes = n < 0 ? 0 : n > 64 ? 64 : (int)n;
	}
}

/* Read the whole state file; 0 with its text in out. */
static int
keypool_state_read(int fd, struct buf *out)
{
	char chunk[8192];
	ssize_t n;
	off_t at = 0;

	for (;;) {
		n = pread(fd, chunk, sizeof chunk, at);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (n == 0)
			return 0;
		buf_append(out, chunk, (size_t)n);
		at += n;
	}
}

/* Whether the pool has anything to share with other natters: windows (a key with
 * limits) or rests that rotate (more than one key; a lone key's 429 waits out its
 * retry-after through the ordinary retries instead). A lone key without limits, the
 * common case, never touches the state file. */
static int
keypool_shares(const struct keypool *kp)
{
	size_t i;

	if (kp->nkeys > 1)
		return 1;
	for (i = 0; i < kp->nkeys; i++)
		if (kp->keys[i].rpm > 0 || kp->keys[i].rpd > 0 || kp->keys[i].tpm > 0)
			return 1;
	return 0;
}

/* Lock the state file (mode LOCK_SH or LOCK_EX) and make memory what the file says about
 * kp's keys. Without a usable file, sy->locked stays 0 and memory is left as it is. */
static void
keypool_sync_begin(struct keypool *kp, double now, struct keypool_sync *sy, int mode)
{
	struct buf text = BUF_INIT;
	char *line, *save = NULL;
	size_t i;

	memset(sy, 0, sizeof *sy);
	if (kp->state_path == NULL || !keypool_shares(kp))
		return;
	if (kp->state_fd < 0) {
		keypool_mkdirs(kp->state_path);
		kp->state_fd = open(kp->state_path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
		if (kp->state_fd < 0) {
			log_debug("keypool %s: %s: %s; keeping the pool in memory", kp->provider,
			    kp->state_path, strerror(errno));
			free(kp->state_path);
			kp->state_path = NULL;
			return;
		}
	}
	while (flock(kp->state_fd, mode) != 0)
		if (errno != EINTR)
			return;
	if (keypool_state_read(kp->state_fd, &text) != 0) {
		flock(kp->state_fd, LOCK_UN);
		buf_free(&text);
		return;
	}
	sy->locked = 1;
	for (i = 0; i < kp->nkeys; i++) {
		kp->keys[i].nev = kp->keys[i].head = 0;
		kp->keys[i].blocked_until = 0;
		kp->keys[i].strikes = 0;
	}
	/* Another version's file is not understood: it is started over. */
	if (text.len >= sizeof KEYPOOL_STATE_HEADER - 1 &&
	    memcmp(text.data, KEYPOOL_STATE_HEADER, sizeof KEYPOOL_STATE_HEADER - 1) == 0)
		for (line = strtok_r(text.data + sizeof KEYPOOL_STATE_HEADER - 1, "\n", &save);
		    line != NULL; line = strtok_r(NULL, "\n", &save))
			keypool_state_line(kp, line, now, sy);
	for (i = 0; i < kp->nkeys; i++) {
		struct keypool_key *k = &kp->keys[i];

		if (k->nev > 1)
			qsort(k->ev + k->head, k->nev, sizeof *k->ev, keypool_event_cmp);
		keypool_trim(k, now);
	}
	buf_free(&text);
}

/* Write kp's keys and the other pools' lines back when changed is set, and unlock. */
static void
keypool_sync_end(struct keypool *kp, double now, struct keypool_sync *sy, int changed)
{
	struct buf b = BUF_INIT;
	size_t i, j, keep;

	if (sy->locked && changed) {
		buf_puts(&b, KEYPOOL_STATE_HEADER);
		if (sy->others.len > 0)
			buf_append(&b, sy->others.data, sy->others.len);
		for (i = 0; i < kp->nkeys; i++) {
			struct keypool_key *k = &kp->keys[i];

			if (k->blocked_until > now || k->strikes > 0)
				buf_printf(&b, "r %s %.3f %d\n", k->fp, k->blocked_until > now ?
				    k->blocked_until : now, k->strikes);
			keep = KEYPOOL_STATE_EVENTS + (size_t)k->rpd + (size_t)k->rpm;
			for (j = k->nev > keep ? k->nev - keep : 0; j < k->nev; j++) {
				const struct keypool_event *e = &k->ev[k->head + j];

				buf_printf(&b, "e %s %.3f %ld %" PRIx64 "\n", k->fp, e->t, e->tokens,
				    e->id);
			}
		}
		if (pwrite(kp->state_fd, b.data, b.len, 0) != (ssize_t)b.len ||
		    ftruncate(kp->state_fd, (off_t)b.len) != 0)
			log_debug("keypool %s: cannot write %s: %s", kp->provider, kp->state_path,
			    strerror(errno));
		buf_free(&b);
	}
	if (sy->locked)
		flock(kp->state_fd, LOCK_UN);
	buf_free(&sy->others);
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
	struct keypool_sync sy;
	double now, best = -1, w;
	size_t i;

	pthread_mutex_lock(&kp->lock);
	now = kp->clock(kp->clock_ctx);
	keypool_sync_begin(kp, now, &sy, LOCK_SH);
	for (i = 0; i < kp->nkeys; i++) {
		keypool_trim(&kp->keys[i], now);
		w = keypool_wait_for(&kp->keys[i], now, est_tokens > 0 ? est_tokens : 0);
		if (best < 0 || w < best)
			best = w;
	}
	keypool_sync_end(kp, now, &sy, 0);
	pthread_mutex_unlock(&kp->lock);
	return best;
}

/* Pick the next free key in round-robin order and charge the request to it. */
int
keypool_acquire(struct keypool *kp, long est_tokens, char **secret, double *wait_s)
{
	struct keypool_sync sy;
	double now, best = -1, w;
	size_t i, j;
	int idx = -1;

	*secret = NULL;
	pthread_mutex_lock(&kp->lock);
	now = kp->clock(kp->clock_ctx);
	/* Deciding and charging happen under one lock of the file, so two natters can never
	 * both take the last request a window allows. */
	keypool_sync_begin(kp, now, &sy, LOCK_EX);
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
		kp->keys[idx].last_id = kp->next_id++;
		keypool_record(&kp->keys[idx], now, est_tokens > 0 ? est_tokens : 0,
		    kp->keys[idx].last_id);
		kp->next = ((size_t)idx + 1) % kp->nkeys;
		*secret = xstrdup(kp->keys[idx].secret);
		best = 0;
	}
	keypool_sync_end(kp, now, &sy, idx >= 0);
	*wait_s = best;
	pthread_mutex_unlock(&kp->lock);
	log_debug("keypool %s: acquire -> key %d (wait %.1fs)", kp->provider, idx, best);
	return idx;
}

/* Replace the estimate of this process's latest request on key idx with the real token
 * count (other natters' requests may have come since). */
void
keypool_add_tokens(struct keypool *kp, int idx, long tokens)
{
	struct keypool_sync sy;
	struct keypool_key *k;
	double now;
	size_t i;
	int changed = 0;

	if (tokens <= 0)
		return;
	pthread_mutex_lock(&kp->lock);
	now = kp->clock(kp->clock_ctx);
	keypool_sync_begin(kp, now, &sy, LOCK_EX);
	if (idx >= 0 && (size_t)idx < kp->nkeys) {
		k = &kp->keys[idx];
		for (i = k->nev; i > 0 && !changed; i--) {
			if (k->ev[k->head + i - 1].id == k->last_id) {
				k->ev[k->head + i - 1].tokens = tokens;
				changed = 1;
			}
		}
	}
	keypool_sync_end(kp, now, &sy, changed);
	pthread_mutex_unlock(&kp->lock);
}

/* Block key idx after a 429: for as long as the server said (retry-after) when it said,
 * else 60 s doubling per strike; at most an hour either way. */
double
keypool_block(struct keypool *kp, int idx, double retry_after_s)
{
	struct keypool_sync sy;
	struct keypool_key *k;
	double secs = 0, now;

	pthread_mutex_lock(&kp->lock);
	now = kp->clock(kp->clock_ctx);
	keypool_sync_begin(kp, now, &sy, LOCK_EX);
	if (idx >= 0 && (size_t)idx < kp->nkeys) {
		k = &kp->keys[idx];
		if (retry_after_s > 0)
			secs = retry_after_s;
		else
			secs = KEYPOOL_BACKOFF_FIRST * ldexp(1.0, k->strikes < 16 ? k->strikes : 16);
		if (secs > KEYPOOL_BACKOFF_MAX)
			secs = KEYPOOL_BACKOFF_MAX;
		k->strikes++;
		/* Another natter may already rest it longer. */
		if (now + secs > k->blocked_until)
			k->blocked_until = now + secs;
		else
			secs = k->blocked_until - now;
	}
	keypool_sync_end(kp, now, &sy, idx >= 0 && (size_t)idx < kp->nkeys);
	pthread_mutex_unlock(&kp->lock);
	log_debug("keypool %s: key %d blocked for %.0fs", kp->provider, idx, secs);
	return secs;
}

/* Key idx worked: forget its strikes. */
void
keypool_success(struct keypool *kp, int idx)
{
	struct keypool_sync sy;
	double now;
	int changed = 0;

	pthread_mutex_lock(&kp->lock);
	now = kp->clock(kp->clock_ctx);
	keypool_sync_begin(kp, now, &sy, LOCK_EX);
	if (idx >= 0 && (size_t)idx < kp->nkeys && kp->keys[idx].strikes > 0) {
		kp->keys[idx].strikes = 0;
		changed = 1;
	}
	keypool_sync_end(kp, now, &sy, changed);
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

	struct keypool_sync sy;

	memset(st, 0, sizeof *st);
	pthread_mutex_lock(&kp->lock);
	if (idx < 0 || (size_t)idx >= kp->nkeys) {
		pthread_mutex_unlock(&kp->lock);
		return -1;
	}
	k = &kp->keys[idx];
	now = kp->clock(kp->clock_ctx);
	keypool_sync_begin(kp, now, &sy, LOCK_SH);
	keypool_sync_end(kp, now, &sy, 0);
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
