/*
 * libFuzzer target for the LaTeX converter (ui/latex.c). Whatever the input: no crash,
 * no hang (nesting is bounded), and the output is valid UTF-8 whenever the input is
 * (the converter never splits a character nor makes one up from parts), and it never
 * holds a control character the input did not.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "latex.h"
#include "text.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Is the whole buffer valid UTF-8? */
static int
fuzz_valid(const char *s, size_t n)
{
	size_t i = 0;

	while (i < n) {
		unsigned cp;
		int k = text_utf8_decode((const unsigned char *)s + i, n - i, &cp);

		if (k <= 0)
			return 0;
		i += (size_t)k;
	}
	return 1;
}

/* Does s hold the byte c? */
static int
fuzz_has(const char *s, size_t n, unsigned char c)
{
	return memchr(s, c, n) != NULL;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *in = (const char *)data;
	struct buf out = BUF_INIT;
	unsigned c;

	latex_to_unicode(in, size, &out);
	if (fuzz_valid(in, size) && !fuzz_valid(out.data ? out.data : "", out.len))
		abort();
	for (c = 1; c < 0x20; c++)
		if (c != '\t' && c != '\n' && c != '\r' && fuzz_has(out.data ? out.data : "", out.len,
		    (unsigned char)c) && !fuzz_has(in, size, (unsigned char)c))
			abort();
	buf_free(&out);
	return 0;
}
