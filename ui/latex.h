/*
 * Simple LaTeX math in Unicode, for $...$ and $$...$$ in replies: Greek letters, common
 * operators, relations and arrows, super- and subscripts with the Unicode characters that
 * exist (x², aᵢ; ^(...) where one is missing), \frac, \sqrt, \mathbb and friends. What it
 * does not know is kept as written. Curses-free.
 */
#ifndef NATTER_LATEX_H
#define NATTER_LATEX_H

#include <stddef.h>

#include "buf.h"

/* Convert n bytes of LaTeX math and append the Unicode text to out. */
void latex_to_unicode(const char *s, size_t n, struct buf *out);

#endif
