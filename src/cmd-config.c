/*
 * `natter config`: where the configuration lives (path), whether a file is valid (check),
 * what is in effect with keys masked (show), a starter file (init) and the natter.yaml(5)
 * page generated from the schema (man). Errors go to stderr one per line as
 * file:line:col: message, and a bad config exits with EXIT_CONFIG. What show prints quotes
 * the user's files, so it goes through the sanitizer (text.h) like any other stored text.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "cli.h"
#include "cmd.h"
#include "config.h"
#include "text.h"
#include "xmalloc.h"

/* Print the usage of natter config to f. */
static void
cmd_config_usage(FILE *f)
{
	fputs("usage: natter config [--config FILE] path|check [FILE]|show|init|man\n", f);
}

/* Print every error and warning; returns EXIT_CONFIG when there were errors. */
static int
cmd_config_report(const struct config_errors *errs, const struct config *c)
{
	size_t i;

	for (i = 0; c != NULL && i < c->nwarnings; i++)
		fprintf(stderr, "%s\n", c->warnings[i]);
	for (i = 0; i < errs->n; i++)
		fprintf(stderr, "%s\n", errs->v[i]);
	return errs->n > 0 ? EXIT_CONFIG : EXIT_OK;
}

/* Validate one file, or the user's, or say that the defaults apply. */
static int
cmd_config_check(const char *file)
{
	struct config_errors errs = { NULL, 0 };
	struct config *c;
	char *path = file != NULL ? xstrdup(file) : config_path();
	int rc;

	/* Only the default location may be missing; a file named by NATTER_CONFIG or --config
	 * is checked (and its absence is an error). */
	if (file == NULL && access(path, F_OK) != 0 && (getenv("NATTER_CONFIG") == NULL ||
	    *getenv("NATTER_CONFIG") == '\0')) {
		c = config_load(NULL, CONFIG_NO_KEYCMD, &errs);
		rc = cmd_config_report(&errs, c);
		if (rc == EXIT_OK)
			printf("%s: not found; the shipped defaults apply and are valid\n", path);
	} else {
		c = config_load(path, CONFIG_NO_KEYCMD, &errs);
		rc = cmd_config_report(&errs, c);
		if (rc == EXIT_OK)
			printf("%s: ok (%zu providers offered, %zu models, %zu templates)\n", path,
			    c->nproviders, c->nmodels, c->ntemplates);
	}
	config_free(c);
	config_errors_free(&errs);
	free(path);
	return rc;
}

/* Print the effective configuration; errors still show the defaults in force. */
static int
cmd_config_show(void)
{
	struct config_errors errs = { NULL, 0 };
	struct config *c = config_load(NULL, CONFIG_NO_KEYCMD, &errs);
	int rc = cmd_config_report(&errs, c);
	struct buf out = BUF_INIT;
	char *text = NULL;
	size_t len = 0;
	FILE *mem = open_memstream(&text, &len);

	if (mem == NULL) {
		perror("natter: config show");
		rc = EXIT_CONFIG;
	} else {
		config_show(c, mem);
		fclose(mem);
		text_sanitize(text, len, &out);
		fwrite(buf_str(&out), 1, out.len, stdout);
		buf_free(&out);
		free(text);
	}
	config_free(c);
	config_errors_free(&errs);
	return rc;
}

/* Create every missing directory above path. */
static int
cmd_config_mkdirs(const char *path)
{
	char *dir = xstrdup(path), *p;

	for (p = dir + 1; *p != '\0'; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
			free(dir);
			return -1;
		}
		*p = '/';
	}
	free(dir);
	return 0;
}

/* Write the shipped file to the user's path, never over an existing file. */
static int
cmd_config_init(void)
{
	char *path = config_path(), *shipped = config_shipped_path("natter.yaml");
	FILE *in, *out;
	char chunk[8192];
	size_t n;
	int fd, rc = EXIT_OK;

	if (shipped == NULL || (in = fopen(shipped, "r")) == NULL) {
		fprintf(stderr, "natter: cannot find the shipped natter.yaml\n");
		free(path);
		free(shipped);
		return EXIT_CONFIG;
	}
	if (cmd_config_mkdirs(path) < 0 ||
	    (fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600)) < 0) {
		if (errno == EEXIST)
			fprintf(stderr, "natter: %s already exists; not overwriting it\n", path);
		else
			fprintf(stderr, "natter: %s: %s\n", path, strerror(errno));
		fclose(in);
		free(path);
		free(shipped);
		return EXIT_CONFIG;
	}
	out = fdopen(fd, "w");
	while ((n = fread(chunk, 1, sizeof chunk, in)) > 0)
		fwrite(chunk, 1, n, out);
	if (fclose(out) != 0) {
		fprintf(stderr, "natter: %s: %s\n", path, strerror(errno));
		rc = EXIT_CONFIG;
	} else {
		printf("wrote %s\n", path);
	}
	fclose(in);
	free(path);
	free(shipped);
	return rc;
}

/* natter config SUBCOMMAND. */
int
cmd_config(int argc, char **argv)
{
	struct buf b = BUF_INIT;
	int i = 1;

	if (i + 1 < argc && strcmp(argv[i], "--config") == 0) {
		setenv("NATTER_CONFIG", argv[i + 1], 1);
		i += 2;
	}
	if (i >= argc) {
		cmd_config_usage(stderr);
		return EXIT_USAGE;
	}
	if (strcmp(argv[i], "path") == 0 && i + 1 == argc) {
		char *p = config_path();

		printf("%s\n", p);
		if (access(p, F_OK) != 0)
			fprintf(stderr, "natter: %s does not exist; the shipped defaults apply "
			    "(natter config init writes a starter)\n", p);
		free(p);
		return EXIT_OK;
	}
	if (strcmp(argv[i], "check") == 0 && i + 2 >= argc)
		return cmd_config_check(i + 1 < argc ? argv[i + 1] : NULL);
	if (strcmp(argv[i], "show") == 0 && i + 1 == argc)
		return cmd_config_show();
	if (strcmp(argv[i], "init") == 0 && i + 1 == argc)
		return cmd_config_init();
	if (strcmp(argv[i], "man") == 0 && i + 1 == argc) {
		config_schema_man(stdout);
		return EXIT_OK;
	}
	if (strcmp(argv[i], "path") == 0 || strcmp(argv[i], "check") == 0 ||
	    strcmp(argv[i], "show") == 0 || strcmp(argv[i], "init") == 0 ||
	    strcmp(argv[i], "man") == 0)
		cli_bad_arg("config", argv[i + (strcmp(argv[i], "check") == 0 ? 2 : 1)]);
	else if (strcmp(argv[i], "--config") == 0)
		fputs("natter: config: --config needs a FILE\n", stderr);
	else if (argv[i][0] == '-')
		cli_bad_arg("config", argv[i]);
	else
		fprintf(stderr, "natter: config: unknown subcommand '%s'\n", text_line(&b, argv[i]));
	buf_free(&b);
	cmd_config_usage(stderr);
	return EXIT_USAGE;
}
