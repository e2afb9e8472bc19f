/*
 * SHA-256 (FIPS 180-4), for fingerprints that must not reveal what they identify: the key
 * pool's shared state names each key by a digest of it, never by the key.
 */
#ifndef NATTER_SHA256_H
#define NATTER_SHA256_H

#include <stddef.h>
#include <stdint.h>

#define SHA256_LEN 32

struct sha256 {
	uint32_t h[8];
	uint64_t bytes;       /* message length so far */
	unsigned char block[64];
	size_t used;          /* bytes waiting in block */
};

void sha256_init(struct sha256 *s);
void sha256_update(struct sha256 *s, const void *data, size_t len);
/* The digest into out; s is wiped (it may have held a secret). */
void sha256_final(struct sha256 *s, unsigned char out[SHA256_LEN]);

#endif
