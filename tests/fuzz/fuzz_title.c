/*
 * libFuzzer target for session titles: whatever the prompt (invalid UTF-8, controls, wide
 * characters), the title is valid UTF-8 without control characters or newlines and never
 * wider than SESSION_TITLE_COLS columns.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <utf8proc.h>

#include "session.h"
#include "xmalloc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Check one title and abort on any broken promise. */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *prompt = xstrndup((const char *)data, size);
	char *title = session_title_from_prompt(prompt);
	const utf8proc_uint8_t *p = (const utf8proc_uint8_t *)title;
	utf8proc_int32_t cp;
	utf8proc_ssize_t k;
	int cols = 0;

	if (*title == '\0')
		abort();
	while (*p != '\0') {
		k = utf8proc_iterate(p, -1, &cp);
		if (k <= 0 || cp < 0x20 || (cp >= 0x7f && cp < 0xa0))
			abort();
		cols += utf8proc_charwidth(cp);
		p += k;
	}
	if (cols > SESSION_TITLE_COLS)
		abort();
	free(title);
	free(prompt);
	return 0;
}
