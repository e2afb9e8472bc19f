/*
 * NDJSON line splitter (see ndjson.h). Lines wholly inside one read are delivered in place;
 * only a line split across reads is copied.
 */
#include <string.h>

#include "ndjson.h"

/* Set up an empty splitter that reports lines to fn. */
void
ndjson_init(struct ndjson *d, ndjson_line_fn fn, void *ud)
{
	buf_init(&d->line);
	d->max_line = 0;
	d->overflow = 0;
	d->fn = fn;
	d->ud = ud;
}

/* Release the splitter's buffer. */
void
ndjson_free(struct ndjson *d)
{
	buf_free(&d->line);
}

/* Deliver one line unless it is blank; a trailing CR is dropped first. */
static void
ndjson_emit(struct ndjson *d, const char *p, size_t n)
{
	size_t i;

	if (n > 0 && p[n - 1] == '\r')
		n--;
	for (i = 0; i < n; i++)
		if (p[i] != ' ' && p[i] != '\t' && p[i] != '\r')
			break;
	if (i == n)
		return;
	d->fn(d->ud, p, n);
}

/* Feed n more bytes. */
void
ndjson_feed(struct ndjson *d, const char *p, size_t n)
{
	const char *end = p + n;

	while (p < end && !d->overflow) {
		const char *q = memchr(p, '\n', (size_t)(end - p));

		if (d->max_line > 0 && d->line.len + (size_t)((q != NULL ? q : end) - p) >
		    d->max_line) {
			/* Over the cap: drop the line (the memory is what the cap is for). */
			d->overflow = 1;
			buf_free(&d->line);
			return;
		}
		if (q == NULL) {
			buf_append(&d->line, p, (size_t)(end - p));
			return;
		}
		if (d->line.len > 0) {
			buf_append(&d->line, p, (size_t)(q - p));
			ndjson_emit(d, d->line.data, d->line.len);
			buf_reset(&d->line);
		} else {
			ndjson_emit(d, p, (size_t)(q - p));
		}
		p = q + 1;
	}
}

/* End of input: an unterminated final line is still delivered (returns 1 if so). */
int
ndjson_finish(struct ndjson *d)
{
	int had = d->line.len > 0;

	if (d->overflow)
		return 0;
	if (had) {
		ndjson_emit(d, d->line.data, d->line.len);
		buf_reset(&d->line);
	}
	return had;
}
