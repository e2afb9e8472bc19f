/*
 * libFuzzer target for the fuzzy matcher (ui/fuzzy.c) and the SGR mouse report parser
 * (ui/termreport.c), which take what the user types and what the store and providers hold.
 * The input is a pattern, a NUL, then texts separated by newlines. Whatever it is: a match
 * scores the same with and without its positions; the positions are within the text,
 * strictly increasing, no more than the pattern has bytes; a term with a capital matches
 * only where its characters appear in the text in order, case and all (a plain scan for
 * ASCII terms); a list filtered from scratch and one
 * narrowed key by key agree, best score first. A mouse report parses to cells from 0.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzzy.h"
#include "termreport.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_TEXTS 64

/* Check one pattern against one text. */
static void
fuzz_one(const char *pat, const char *t, size_t n)
{
	size_t pos[2048], np, i;
	int s = fuzzy_score(pat, t, n), s2 = fuzzy_match(pat, t, n, pos, 2048, &np);

	if (s != s2)
		abort();
	if (s == FUZZY_NONE)
		return;
	for (i = 0; i < np; i++)
		if (pos[i] >= n || (i > 0 && pos[i] <= pos[i - 1]))
			abort();
	if (np > strlen(pat))
		abort();
	if (strlen(pat) <= FUZZY_MAX_TERM && strchr(pat, ' ') == NULL && n <= FUZZY_MAX_TEXT) {
		size_t k = 0, j;
		int ascii = 1, lower = 1;

		for (j = 0; pat[j] != '\0'; j++) {
			if ((unsigned char)pat[j] >= 0x80)
				ascii = 0;
			if (pat[j] >= 'A' && pat[j] <= 'Z')
				lower = 0;
		}
		if (ascii && !lower) {
			/* A term with a capital matches case: a plain scan must find it. */
			for (j = 0; j < n && pat[k] != '\0'; j++)
				if (t[j] == pat[k])
					k++;
			if (pat[k] != '\0')
				abort();
		}
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf = malloc(size + 1), *pat, *rest, *texts[FUZZ_TEXTS];
	size_t nt = 0, i, k, plen;
	struct fuzzy_list fresh, inc;
	struct termreport_mouse m;

	if (buf == NULL)
		return 0;
	memcpy(buf, data, size);
	buf[size] = '\0';
	if (termreport_mouse(buf, size, &m) == 0 && (m.x < 0 || m.y < 0 || (m.press != 0 &&
	    m.press != 1)))
		abort();
	pat = buf;
	rest = memchr(buf, '\0', size) != NULL && strlen(buf) < size ? buf + strlen(buf) + 1 :
	    buf + size;
	while (nt < FUZZ_TEXTS && rest < buf + size) {
		char *nl = memchr(rest, '\n', (size_t)(buf + size - rest));

		if (nl != NULL)
			*nl = '\0';
		texts[nt++] = rest;
		rest = nl != NULL ? nl + 1 : buf + size;
	}
	for (i = 0; i < nt; i++)
		fuzz_one(pat, texts[i], strlen(texts[i]));
	/* Narrowing key by key agrees with filtering from scratch. */
	plen = strlen(pat);
	fuzzy_list_init(&inc, (const char *const *)texts, nt, 0);
	for (k = 0; k <= plen && k <= 24; k++) {
		char saved = pat[k];

		pat[k] = '\0';
		fuzzy_list_update(&inc, pat);
		fuzzy_list_init(&fresh, (const char *const *)texts, nt, 0);
		fuzzy_list_update(&fresh, pat);
		if (inc.norder != fresh.norder)
			abort();
		for (i = 0; i < inc.norder; i++) {
			if (inc.order[i] != fresh.order[i] || inc.scores[i] != fresh.scores[i])
				abort();
			if (i > 0 && inc.scores[i] > inc.scores[i - 1])
				abort();
		}
		fuzzy_list_free(&fresh);
		pat[k] = saved;
	}
	fuzzy_list_free(&inc);
	free(buf);
	return 0;
}
