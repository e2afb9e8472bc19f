/*
 * libFuzzer target for the nanorc parser and painter (ui/highlight.c). The input is a
 * nanorc file, then (after a line "---") code to paint. Whatever it holds: parsing never
 * crashes or hangs (hostile regexes are refused before regcomp), every rule has a theme
 * role, and painting gives every byte a role of the code.* family (or 0), equal for the
 * bytes of one UTF-8 character.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "highlight.h"
#include "theme.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* True for a role a code byte may have. */
static int
fuzz_code_role(int r)
{
	return r == 0 || (r >= THEME_CODEKEYWORD && r <= THEME_CODEREMOVED);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *text = (const char *)data, *sep;
	size_t nrc = size, ncode = 0, i, k, nbad = 0;
	const char *code = "";
	struct hl_set *set;
	uint8_t *roles;
	char *copy;

	if (size > 16384)
		return 0;
	sep = memmem(text, size, "\n---\n", 5);
	if (sep != NULL) {
		nrc = (size_t)(sep - text);
		code = sep + 5;
		ncode = size - nrc - 5;
	}
	set = highlight_parse(text, nrc, "fuzz", &nbad);
	/* The code is painted as natter paints it, from a NUL-terminated buffer. */
	roles = malloc(ncode + 1);
	copy = malloc(ncode + 1);
	if (roles == NULL || copy == NULL)
		abort();
	memcpy(copy, code, ncode);
	copy[ncode] = '\0';
	code = copy;
	for (k = 0; k < highlight_set_count(set); k++) {
		const struct hl_syntax *s = highlight_set_get(set, k);

		if (highlight_name(s) == NULL || highlight_name(s)[0] == '\0')
			abort();
		for (i = 0; i < highlight_nrules(s); i++)
			if (!fuzz_code_role(highlight_rule_role(s, i)))
				abort();
		highlight_paint(s, code, ncode, roles);
		for (i = 0; i < ncode; i++) {
			if (!fuzz_code_role(roles[i]))
				abort();
			if (i > 0 && ((unsigned char)code[i] & 0xc0) == 0x80 && roles[i] != roles[i - 1])
				abort();
		}
	}
	free(roles);
	free(copy);
	highlight_set_free(set);
	return 0;
}
