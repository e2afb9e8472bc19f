/*
 * `natter keys`: print the key bindings (the defaults plus any remapping in the config), or
 * with --man the roff KEYS section that man/natter.1 carries between marker comments.
 * It lives in ui/ beside the table but never touches curses.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "config.h"
#include "keys.h"
#include "text.h"
#include "ui.h"
#include "xmalloc.h"

/* Print the bindings, or the man section with --man. */
int
cmd_keys(int argc, char **argv)
{
	char *err = NULL;
	int i, rc = EXIT_OK;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--man") == 0) {
			keys_init();
			keys_print_man(stdout);
			keys_free();
			return EXIT_OK;
		}
		if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
			puts("usage: natter keys [--config FILE] [--man]");
			return EXIT_OK;
		}
		if (strcmp(argv[i], "--config") == 0 && i + 1 < argc) {
			i++;
			continue;
		}
		fprintf(stderr, "natter keys: unknown option '%s'\n", argv[i]);
		return EXIT_USAGE;
	}
	keys_init();
	{
		struct config_errors errs = { NULL, 0 };
		struct config *c;
		size_t k;

		for (i = 1; i + 1 < argc; i++)
			if (strcmp(argv[i], "--config") == 0)
				setenv("NATTER_CONFIG", argv[i + 1], 1);
		c = config_load(NULL, CONFIG_NO_KEYCMD, &errs);
		for (k = 0; k < errs.n; k++)
			fprintf(stderr, "natter: %s\n", errs.v[k]);
		/* Bindings with errors were left out by the config's own check: the table
		 * shows what the interface would use, and the errors still fail the command. */
		if (errs.n > 0)
			rc = EXIT_CONFIG;
		if (ui_apply_bindings(c, &err) != 0) {
			struct buf line = BUF_INIT;

			/* The message quotes the config file: one safe line. */
			fprintf(stderr, "natter: %s\n", text_line(&line, err));
			buf_free(&line);
			free(err);
			config_errors_free(&errs);
			config_free(c);
			keys_free();
			return EXIT_CONFIG;
		}
		config_errors_free(&errs);
		config_free(c);
	}
	printf("%-11s %-12s %-22s %s\n", "CONTEXT", "KEY", "ACTION", "HELP");
	keys_print(stdout);
	keys_free();
	return rc;
}
