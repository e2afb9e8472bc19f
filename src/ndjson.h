/*
 * Newline-delimited JSON line splitter (Ollama's native stream): split on LF, drop a
 * trailing CR, skip blank lines, and hand over an unterminated final line at EOF.
 *
 * Lines are capped at max_line bytes (0: no cap): the first longer line sets overflow,
 * frees what was buffered and makes the splitter ignore the rest of the input.
 */
#ifndef NATTER_NDJSON_H
#define NATTER_NDJSON_H

#include <stddef.h>

#include "buf.h"

typedef void (*ndjson_line_fn)(void *ud, const char *line, size_t len);

struct ndjson {
	struct buf line;
	size_t max_line;   /* longest line accepted, 0 = no cap */
	int overflow;      /* a line went over max_line: the rest is ignored */
	ndjson_line_fn fn;
	void *ud;
};

void ndjson_init(struct ndjson *d, ndjson_line_fn fn, void *ud);
void ndjson_feed(struct ndjson *d, const char *p, size_t n);
/* End of input; returns 1 when an unterminated final line was delivered. */
int ndjson_finish(struct ndjson *d);
void ndjson_free(struct ndjson *d);

#endif
