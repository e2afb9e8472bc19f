/*
 * libFuzzer target for the config loader: any bytes as a user file must load without a
 * crash or leak, every message must carry the file name, and a config with errors must
 * still be usable (a default model) and printable by config show. key_cmd never runs.
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
	for (i = 0; i < errs.n; i++)
		if (strncmp(errs.v[i], path, strlen(path)) != 0)
			abort();
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
