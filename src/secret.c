/*
 * The process-wide registry of secrets and the scrubber (rules in secret.h). Each secret
 * becomes a few patterns (the key, its percent-encoded form, its base64 cores), all mapped
 * to the key's masked form. Patterns are kept longest first, so where two start at the same
 * place the longer wins and a key that begins with a shorter key is masked as itself. Every
 * mask is no longer than its pattern, which lets the scrubber work in place in one pass
 * without allocating: the hot path is reply text, once per network read.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "log.h"
#include "secret.h"
#include "xmalloc.h"

/* Base64 cores shorter than this are not worth the false positives. */
#define SECRET_B64_MIN 12

struct secret_pat {
	char *pat;
	size_t len;
	char *mask;  /* no longer than pat */
	size_t mlen;
};

static pthread_mutex_t secret_lock = PTHREAD_MUTEX_INITIALIZER;
static struct secret_pat *secret_pats;
static size_t secret_npats;
static size_t secret_nsecrets;
static unsigned char secret_first[256]; /* 1 for a byte some pattern starts with */

/* Overwrite n bytes so a freed secret does not linger in the heap. */
static void
secret_wipe(char *s, size_t n)
{
	volatile char *p = s;

	while (n-- > 0)
		*p++ = '\0';
}

/* True when pattern p (len n) is registered; called with the lock held. */
static int
secret_known(const char *p, size_t n)
{
	size_t i;

	for (i = 0; i < secret_npats; i++)
		if (secret_pats[i].len == n && memcmp(secret_pats[i].pat, p, n) == 0)
			return 1;
	return 0;
}

/* Add one pattern with its mask, keeping the list longest first; takes pat. */
static void
secret_push(char *pat, size_t n, const char *mask)
{
	size_t i, mlen = strlen(mask);

	if (secret_known(pat, n) || mlen > n) {
		secret_wipe(pat, n);
		free(pat);
		return;
	}
	secret_pats = xrealloc(secret_pats, (secret_npats + 1) * sizeof *secret_pats);
	for (i = secret_npats; i > 0 && secret_pats[i - 1].len < n; i--)
		secret_pats[i] = secret_pats[i - 1];
	secret_pats[i].pat = pat;
	secret_pats[i].len = n;
	secret_pats[i].mask = xstrdup(mask);
	secret_pats[i].mlen = mlen;
	secret_npats++;
	secret_first[(unsigned char)pat[0]] = 1;
}

/* s percent-encoded as a URL query would carry it, or NULL when that changes nothing. */
static char *
secret_percent(const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	struct buf b = BUF_INIT;
	int changed = 0;

	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;

		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		    c == '-' || c == '_' || c == '.' || c == '~') {
			buf_putc(&b, (char)c);
		} else {
			buf_putc(&b, '%');
			buf_putc(&b, hex[c >> 4]);
			buf_putc(&b, hex[c & 15]);
			changed = 1;
		}
	}
	if (!changed) {
		secret_wipe(b.data, b.len);
		buf_free(&b);
		return NULL;
	}
	return buf_detach(&b);
}

/*
 * The base64 characters that encode s whatever surrounds it, when s starts `align` bytes
 * past a 3-byte boundary of the encoded text (as a key does after "user:" in Basic auth):
 * the characters mixing in the bytes before or after s are left out. Caller frees.
 */
static char *
secret_b64_core(const char *s, size_t n, int align, size_t *outlen)
{
	static const char b64[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t total = (size_t)align + n, groups = total / 3, i, k = 0;
	size_t skip = align == 0 ? 0 : align == 1 ? 2 : 3;
	unsigned char *in = xcalloc(total + 1, 1);
	char *out = xmalloc(groups * 4 + 1);

	memcpy(in + align, s, n);
	for (i = 0; i < groups; i++) {
		unsigned v = (unsigned)in[3 * i] << 16 | (unsigned)in[3 * i + 1] << 8 |
		    in[3 * i + 2];

		out[k++] = b64[v >> 18 & 63];
		out[k++] = b64[v >> 12 & 63];
		out[k++] = b64[v >> 6 & 63];
		out[k++] = b64[v & 63];
	}
	secret_wipe((char *)in, total);
	free(in);
	if (k < skip)
		k = skip;
	memmove(out, out + skip, k - skip);
	*outlen = k - skip;
	out[*outlen] = '\0';
	return out;
}

/* Register a secret and the forms it may be echoed in. */
void
secret_add(const char *s)
{
	size_t n, cn;
	char *mask, *p;
	int a;

	if (s == NULL || (n = strlen(s)) < SECRET_MIN_LEN)
		return;
	mask = log_mask_key(s);
	pthread_mutex_lock(&secret_lock);
	if (!secret_known(s, n)) {
		secret_push(xstrdup(s), n, mask);
		if ((p = secret_percent(s)) != NULL)
			secret_push(p, strlen(p), mask);
		for (a = 0; a < 3 && n >= SECRET_B64_MIN; a++) {
			p = secret_b64_core(s, n, a, &cn);
			if (cn >= SECRET_B64_MIN)
				secret_push(p, cn, mask);
			else
				free(p);
		}
		secret_nsecrets++;
	}
	pthread_mutex_unlock(&secret_lock);
	free(mask);
}

/* Forget every secret, wiping the copies. */
void
secret_clear(void)
{
	size_t i;

	pthread_mutex_lock(&secret_lock);
	for (i = 0; i < secret_npats; i++) {
		secret_wipe(secret_pats[i].pat, secret_pats[i].len);
		free(secret_pats[i].pat);
		free(secret_pats[i].mask);
	}
	free(secret_pats);
	secret_pats = NULL;
	secret_npats = secret_nsecrets = 0;
	memset(secret_first, 0, sizeof secret_first);
	pthread_mutex_unlock(&secret_lock);
}

/* How many secrets are registered. */
size_t
secret_count(void)
{
	size_t n;

	pthread_mutex_lock(&secret_lock);
	n = secret_nsecrets;
	pthread_mutex_unlock(&secret_lock);
	return n;
}

/* The length of the longest tail of p[0..len) that is a proper prefix of some pattern
 * (text a following chunk could turn into a key); called with the lock held. */
static size_t
secret_tail_locked(const char *p, size_t len)
{
	size_t i, keep = 0;

	for (i = 0; i < secret_npats; i++) {
		const struct secret_pat *sp = &secret_pats[i];
		size_t max = sp->len - 1 < len ? sp->len - 1 : len;
		const char *q = p + len - max, *end = p + len;

		/* The first place the pattern's first byte starts a match is the longest; only
		 * tails longer than one already found matter. */
		while (q < end && (size_t)(end - q) > keep &&
		    (q = memchr(q, sp->pat[0], (size_t)(end - q))) != NULL &&
		    (size_t)(end - q) > keep) {
			if (memcmp(q, sp->pat, (size_t)(end - q)) == 0) {
				keep = (size_t)(end - q);
				break;
			}
			q++;
		}
	}
	return keep;
}

/*
 * Scrub p[0..len) in place, deciding positions [0, stop) only, and return the new length;
 * *done gets the scrubbed length of that decided part (the rest follows it unchanged).
 * Matching is leftmost-longest: from left to right, the longest pattern starting at a
 * position is replaced and the scan goes on after it. Each decision depends only on the
 * bytes from its position on, so text scrubbed in chunks (secret_scrub_stream) comes out
 * exactly as scrubbed whole, whatever keys overlap or contain one another.
 */
static size_t
secret_scan_locked(char *p, size_t len, size_t stop, size_t *done)
{
	size_t r = 0, w = 0, i;

	while (r < stop) {
		const struct secret_pat *hit = NULL;

		if (secret_first[(unsigned char)p[r]]) {
			for (i = 0; i < secret_npats && hit == NULL; i++) {
				const struct secret_pat *sp = &secret_pats[i];

				if (sp->pat[0] == p[r] && sp->len <= len - r &&
				    memcmp(p + r, sp->pat, sp->len) == 0)
					hit = sp;
			}
		}
		if (hit != NULL) {
			memcpy(p + w, hit->mask, hit->mlen);
			w += hit->mlen;
			r += hit->len;
		} else {
			p[w++] = p[r++];
		}
	}
	*done = w;
	memmove(p + w, p + r, len - r);
	return w + (len - r);
}

/* Replace every registered secret in p[0..len) in place; returns the new length. */
size_t
secret_scrub(char *p, size_t len)
{
	size_t done;

	if (p == NULL || len == 0)
		return len;
	pthread_mutex_lock(&secret_lock);
	if (secret_npats > 0)
		len = secret_scan_locked(p, len, len, &done);
	pthread_mutex_unlock(&secret_lock);
	return len;
}

/* Scrub a C string in place. */
void
secret_scrub_str(char *s)
{
	size_t n;

	if (s == NULL || *s == '\0')
		return;
	n = secret_scrub(s, strlen(s));
	s[n] = '\0';
}

/* Scrub a stream buffer and say how much of it is safe to release now: everything before
 * the tail that may still become a key, which is left as it came. */
size_t
secret_scrub_stream(struct buf *b)
{
	size_t done;

	if (b->len == 0)
		return 0;
	pthread_mutex_lock(&secret_lock);
	if (secret_npats == 0) {
		pthread_mutex_unlock(&secret_lock);
		return b->len;
	}
	b->len = secret_scan_locked(b->data, b->len, b->len - secret_tail_locked(b->data,
	    b->len), &done);
	b->data[b->len] = '\0';
	pthread_mutex_unlock(&secret_lock);
	return done;
}
