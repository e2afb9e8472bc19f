/*
 * `natter keys`: print the key bindings (the defaults plus any remapping in the config), or
 * with --man the roff KEYS section that man/natter.1 carries between marker comments.
 * It lives in ui/ beside the table but never touches curses.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "keys.h"
#include "ui.h"
#include "xmalloc.h"

/* Find the config file: -c FILE, $NATTER_CONFIG, or the XDG location. */
static char *
cmd_keys_config(int argc, char **argv)
{
	const char *xdg = getenv("XDG_CONFIG_HOME"), *home = getenv("HOME"), *env;
	int i;

	for (i = 1; i + 1 < argc; i++)
		if (strcmp(argv[i], "-c") == 0)
			return xstrdup(argv[i + 1]);
	if ((env = getenv("NATTER_CONFIG")) != NULL && *env)
		return xstrdup(env);
	if (xdg != NULL && *xdg)
		return xasprintf("%s/natter/natter.yaml", xdg);
	if (home != NULL)
		return xasprintf("%s/.config/natter/natter.yaml", home);
	return NULL;
}

/* Print the bindings, or the man section with --man. */
int
cmd_keys(int argc, char **argv)
{
	char *path, *err = NULL;
	int i;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--man") == 0) {
			keys_init();
			keys_print_man(stdout);
			keys_free();
			return EXIT_OK;
		}
		if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
			puts("usage: natter keys [-c FILE] [--man]");
			return EXIT_OK;
		}
		if (strcmp(argv[i], "-c") == 0 && i + 1 < argc) {
			i++;
			continue;
		}
		fprintf(stderr, "natter keys: unknown option '%s'\n", argv[i]);
		return EXIT_USAGE;
	}
	keys_init();
	path = cmd_keys_config(argc, argv);
	if (path != NULL && keys_load_yaml(path, &err) != 0) {
		fprintf(stderr, "natter: %s\n", err);
		free(err);
		free(path);
		keys_free();
		return EXIT_CONFIG;
	}
	free(path);
	printf("%-11s %-12s %-22s %s\n", "CONTEXT", "KEY", "ACTION", "HELP");
	keys_print(stdout);
	keys_free();
	return EXIT_OK;
}
