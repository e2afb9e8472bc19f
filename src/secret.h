/*
 * The secrets natter holds, and the one function that keeps them out of provider text.
 * Every key natter resolves (an environment variable, a literal `key:`, a key_cmd's output,
 * each key of a pool, a credential header of the config) is registered with secret_add when
 * it is loaded. Text that comes from a provider (error bodies, reply and reasoning text,
 * model listings, request ids) passes through secret_scrub before it is shown, logged or
 * stored, and every registered secret in it becomes the masked form `config show` and
 * `natter auth` print ("sk-a…wxyz", or "…" for a key under 12 bytes).
 *
 * What counts as a match: the exact key, its percent-encoded form when that differs, and,
 * for keys of 12 bytes or more, the part of its base64 form that does not depend on the
 * bytes around it (as in an echoed "Authorization: Basic" header, at any of the three
 * alignments). Secrets shorter than SECRET_MIN_LEN bytes are not registered: placeholders
 * such as "none", "ollama" or "sk-1234" would otherwise be blanked out of every reply that
 * mentions them, and a real provider key is never that short.
 *
 * Streams: a key split across two chunks is caught by secret_scrub_stream, which keeps back
 * a chunk's tail while it could be the start of a key (the caller releases it with the next
 * chunk or at the end), so reply text may reach the screen a few bytes later, never with a
 * key in it.
 *
 * Threads: the registry has its own lock; any thread may add and scrub at any time.
 */
#ifndef NATTER_SECRET_H
#define NATTER_SECRET_H

#include <stddef.h>

struct buf;

/* Secrets shorter than this are not scrubbed (see above). */
#define SECRET_MIN_LEN 8

/* Register a secret (copied); short, empty or already known ones are ignored. */
void secret_add(const char *s);
/* Forget and wipe every secret (tests, and the end of a run). */
void secret_clear(void);
/* How many secrets are registered. */
size_t secret_count(void);
/* Replace every registered secret in p[0..len) in place and return the new length, never
 * more than len (no terminator is written: use secret_scrub_str for C strings). */
size_t secret_scrub(char *p, size_t len);
/* Scrub a NUL-terminated string in place; NULL is fine. */
void secret_scrub_str(char *s);
/* Scrub b in place and return how many of its leading bytes may be released now: the rest
 * (at most the longest secret less one byte) could be the start of a key that continues in
 * the next chunk. At the end of the stream call secret_scrub on what is left instead. */
size_t secret_scrub_stream(struct buf *b);

#endif
