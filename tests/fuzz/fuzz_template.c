/*
 * libFuzzer target for template rendering: the first line of the input is the template's
 * variables as name=value pairs separated by '&', the rest is the text. Rendering never
 * crashes; it fails exactly when a placeholder has no value, and binding every listed name
 * always succeeds.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "template.h"
#include "xmalloc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Render the text with the given variables, then with every name bound. */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *input = xstrndup((const char *)data, size), *text, *line, *tok, *save = NULL;
	struct template_var vars[16], *all;
	size_t nvars = 0, nnames, i;
	char **names, *out, *err;

	text = strchr(input, '\n');
	if (text != NULL)
		*text++ = '\0';
	else
		text = input + strlen(input);
	line = input;
	for (tok = strtok_r(line, "&", &save); tok != NULL && nvars < 16;
	    tok = strtok_r(NULL, "&", &save)) {
		char *eq = strchr(tok, '=');

		if (eq == NULL)
			continue;
		*eq = '\0';
		vars[nvars].name = tok;
		vars[nvars++].value = eq + 1;
	}
	nnames = template_names(text, &names);
	out = template_render(text, vars, nvars, &err);
	if ((out == NULL) == (err == NULL))
		abort();
	if (nnames == 0 && out == NULL)
		abort();
	free(out);
	free(err);
	all = xcalloc(nnames + 1, sizeof *all);
	for (i = 0; i < nnames; i++) {
		all[i].name = names[i];
		all[i].value = "";
	}
	out = template_render(text, all, nnames, &err);
	if (out == NULL || err != NULL)
		abort();
	free(out);
	free(all);
	template_names_free(names);
	free(input);
	return 0;
}
