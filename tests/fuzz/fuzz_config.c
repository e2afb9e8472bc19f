/*
 * libFuzzer target for the config loader: any bytes as a user file must load without a
 * crash or leak, every message must carry the file name, and a config with errors must
 * still be usable (a default model) and printable by config show. key_cmd never runs.
 * A file refused as too deeply nested (the pre-scan, before libyaml) must be refused at a
 * line that exists.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Load data as a config file and check the invariants. */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char path[64];
	struct config_errors errs = { NULL, 0 };
	struct config *c;
	FILE *f;
	size_t i;

	if (path[0] == '\0')
		snprintf(path, sizeof path, "/tmp/natter-fuzz-config-%d.yaml", (int)getpid());
	f = fopen(path, "wb");
	if (f == NULL)
		return 0;
	fwrite(data, 1, size, f);
	fclose(f);
	c = config_load(path, CONFIG_NO_KEYCMD | CONFIG_NO_DEFAULTS, &errs);
	for (i = 0; i < errs.n; i++) {
		long line;

		if (strncmp(errs.v[i], path, strlen(path)) != 0)
			abort();
		if (strstr(errs.v[i], "levels deep") != NULL) {
			size_t k, lines = 1;

			for (k = 0; k < size; k++)
				lines += data[k] == '\n';
			line = strtol(errs.v[i] + strlen(path) + 1, NULL, 10);
			if (line < 1 || (size_t)line > lines)
				abort();
		}
	}
	if (c->default_model == NULL)
		abort();
	f = fopen("/dev/null", "w");
	if (f != NULL) {
		config_show(c, f);
		fclose(f);
	}
	config_free(c);
	config_errors_free(&errs);
	return 0;
}
