/*
 * Making untrusted text (model output, provider error messages) safe to show on a terminal:
 * C0 and C1 controls other than newline and tab, escape sequences (CSI, OSC, DCS, APC, PM,
 * SOS and two-byte ESC forms), bidirectional overrides and invalid UTF-8 never reach the
 * terminal. A filter keeps its state across calls so a sequence split between two stream
 * deltas is still recognised and removed.
 */
#ifndef NATTER_TEXT_H
#define NATTER_TEXT_H

#include <stddef.h>

#include "buf.h"

struct text_filter {
	int state;                 /* escape-sequence parser state */
	size_t string_len;         /* bytes swallowed inside an OSC/DCS string */
	unsigned char pend[4];     /* an incomplete UTF-8 sequence from the last call */
	int npend;
};

void text_filter_init(struct text_filter *f);
/* Append the safe form of n bytes at p to out. */
void text_filter_feed(struct text_filter *f, const char *p, size_t n, struct buf *out);
/* End of input: a dangling partial UTF-8 sequence becomes U+FFFD. */
void text_filter_finish(struct text_filter *f, struct buf *out);
/* One-shot form: append the safe form of a whole string to out. */
void text_sanitize(const char *p, size_t n, struct buf *out);
/* Length of the valid UTF-8 sequence starting at p (1-4), or 0 if invalid or incomplete;
 * *cp receives the code point. */
int text_utf8_decode(const unsigned char *p, size_t n, unsigned *cp);

#endif
