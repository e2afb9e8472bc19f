/*
 * Display width and line breaking for UTF-8 text, without curses so that it can be unit
 * tested. Text is measured and broken by grapheme cluster (utf8proc), so a wide character,
 * a combining sequence or an emoji ZWJ sequence is never split across lines or lost.
 */
#ifndef NATTER_WRAP_H
#define NATTER_WRAP_H

#include <stddef.h>

/* Length in bytes (>= 1 when n > 0) of the grapheme cluster at s; *width gets its columns. */
size_t wrap_cluster(const char *s, size_t n, int *width);
/* Display width of n bytes of s. */
int wrap_width(const char *s, size_t n);
/* The first line of s that fits in width columns: returns its length in bytes, stores where
 * the next line starts in *next (spaces at the break are skipped) and its width in *used.
 * Breaks after spaces when it can, otherwise between clusters; always makes progress. */
size_t wrap_line(const char *s, size_t n, int width, size_t *next, int *used);
/* Byte offset of the cluster boundary at display column col (clamped to n). */
size_t wrap_col_to_off(const char *s, size_t n, int col);
/* Byte offset of the cluster boundary before off (0 at the start). */
size_t wrap_prev_cluster(const char *s, size_t off);

#endif
