/*
 * `natter templates`: lists the prompt templates (built-in and the user's) with their
 * variables, or shows one in full, so that `natter ask -T NAME -V var=value` can be written
 * without opening the YAML. Template files can come from anywhere, so their text is printed
 * through the sanitizer (text.h): names, descriptions and values as one line, prompts as
 * blocks.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cmd.h"
#include "config.h"
#include "params.h"
#include "template.h"
#include "text.h"
#include "xmalloc.h"

/* The default of variable name in t, or NULL. */
static const char *
cmd_templates_default(const struct template *t, const char *name)
{
	size_t i;

	for (i = t->ndefaults; i > 0; i--)
		if (strcmp(t->defaults[i - 1].name, name) == 0)
			return t->defaults[i - 1].value;
	return NULL;
}

/* Print a prompt of a template as a sanitized block under its heading. */
static void
cmd_templates_block(const char *heading, const char *s)
{
	struct buf b = BUF_INIT;

	text_sanitize(s, strlen(s), &b);
	printf("--- %s\n%s\n", heading, buf_str(&b));
	buf_free(&b);
}

/* Print one template in full. */
static void
cmd_templates_show(const struct template *t)
{
	struct buf l1 = BUF_INIT, l2 = BUF_INIT;
	char **vars, *v;
	size_t n = template_vars(t, &vars), i;
	const char *d;

	printf("name: %s\n", text_line(&l1, t->name));
	if (t->description != NULL)
		printf("description: %s\n", text_line(&l1, t->description));
	if (t->extends != NULL)
		printf("extends: %s (%s)\n", text_line(&l1, t->extends),
		    t->mode == TEMPLATE_REPLACE ? "replace" : "append");
	if (t->model != NULL)
		printf("model: %s\n", text_line(&l1, t->model));
	for (i = 0; i < config_schema_params_count; i++)
		if ((v = params_value(&t->params, (int)i)) != NULL) {
			printf("%s: %s\n", config_schema_params[i].path, text_line(&l1, v));
			free(v);
		}
	for (i = 0; i < n; i++) {
		d = cmd_templates_default(t, vars[i]);
		if (d != NULL)
			printf("variable %s (default: %s)\n", text_line(&l1, vars[i]),
			    text_line(&l2, d));
		else
			printf("variable %s (required)\n", text_line(&l1, vars[i]));
	}
	if (t->system != NULL)
		cmd_templates_block("system", t->system);
	if (t->user != NULL)
		cmd_templates_block("user", t->user);
	template_names_free(vars);
	buf_free(&l1);
	buf_free(&l2);
}

/* natter templates [--config FILE] [NAME]. */
int
cmd_templates(int argc, char **argv)
{
	struct config_errors errs = { NULL, 0 };
	struct config *c;
	struct template *t;
	struct buf l1 = BUF_INIT, l2 = BUF_INIT;
	int i = 1, rc = EXIT_OK;
	size_t k, j, n;
	char **vars;

	if (i + 1 < argc && strcmp(argv[i], "--config") == 0) {
		setenv("NATTER_CONFIG", argv[i + 1], 1);
		i += 2;
	}
	if (argc - i > 1 || (i < argc && argv[i][0] == '-')) {
		cli_bad_arg("templates", argv[i][0] == '-' ? argv[i] : argv[i + 1]);
		fputs("usage: natter templates [--config FILE] [NAME]\n", stderr);
		return EXIT_USAGE;
	}
	c = config_load(NULL, CONFIG_NO_KEYCMD, &errs);
	for (k = 0; k < errs.n; k++)
		fprintf(stderr, "%s\n", errs.v[k]);
	if (errs.n > 0)
		rc = EXIT_CONFIG;
	if (i < argc) {
		t = config_template(c, argv[i]);
		if (t == NULL) {
			const char **names = xcalloc(c->ntemplates + 1, sizeof *names);
			const char *near;

			for (k = 0; k < c->ntemplates; k++)
				names[k] = c->templates[k].name;
			near = config_nearest(argv[i], names, c->ntemplates);
			fprintf(stderr, "natter: unknown template '%s'%s%s%s\n", text_line(&l1, argv[i]),
			    near != NULL ? ", did you mean '" : "", text_line(&l2, near),
			    near != NULL ? "'?" : "");
			free(names);
			rc = EXIT_USAGE;
		} else {
			cmd_templates_show(t);
		}
	} else {
		for (k = 0; k < c->ntemplates; k++) {
			t = &c->templates[k];
			n = template_vars(t, &vars);
			printf("%-18s ", text_line(&l1, t->name));
			printf("%s", text_line(&l1, t->description));
			if (n > 0) {
				printf(" [");
				for (j = 0; j < n; j++)
					printf("%s%s%s", j > 0 ? " " : "", text_line(&l1, vars[j]),
					    cmd_templates_default(t, vars[j]) != NULL ? "?" : "");
				printf("]");
			}
			printf("\n");
			template_names_free(vars);
		}
	}
	config_free(c);
	config_errors_free(&errs);
	buf_free(&l1);
	buf_free(&l2);
	return rc;
}
