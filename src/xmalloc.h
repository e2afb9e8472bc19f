/*
 * Allocation wrappers that never return NULL. On exhaustion they run the fatal path
 * (log_fatal), which restores the terminal before printing. The "x" prefix means
 * "cannot fail" everywhere in natter.
 */
#ifndef NATTER_XMALLOC_H
#define NATTER_XMALLOC_H

#include <stddef.h>

void *xmalloc(size_t n);
void *xcalloc(size_t nmemb, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
void *xmemdup(const void *p, size_t n);
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
