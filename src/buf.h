/*
 * Growable byte buffers. The contents are always NUL-terminated (data[len] == 0) so a buffer
 * can be handed to string functions, but it may also hold NUL bytes. Appends never fail.
 */
#ifndef NATTER_BUF_H
#define NATTER_BUF_H

#include <stddef.h>

struct buf {
	char *data; /* NULL until the first append; then always NUL-terminated */
	size_t len;
	size_t cap;
};

#define BUF_INIT { NULL, 0, 0 }

void buf_init(struct buf *b);
void buf_free(struct buf *b);
void buf_reset(struct buf *b);
void buf_reserve(struct buf *b, size_t extra);
void buf_append(struct buf *b, const void *p, size_t n);
void buf_puts(struct buf *b, const char *s);
void buf_putc(struct buf *b, char c);
void buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void buf_consume(struct buf *b, size_t n);
char *buf_detach(struct buf *b);
const char *buf_str(const struct buf *b);
void buf_json_string(struct buf *b, const char *s, size_t n);

#endif
