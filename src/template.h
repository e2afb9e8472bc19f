/*
 * Prompt templates: a system prompt and a user message with {variable} placeholders,
 * defaults for the variables, and extends: another template. Rendering reports every
 * missing variable by name; {{ and }} stand for literal braces. The template structs
 * themselves are declared in config.h, because the config owns them.
 */
#ifndef NATTER_TEMPLATE_H
#define NATTER_TEMPLATE_H

#include <stddef.h>

#include "config.h"

/* Render text, replacing each {name} with its value from vars. Returns the result, or
 * NULL with *err = "missing variables: a, b" (caller frees). */
char *template_render(const char *text, const struct template_var *vars, size_t nvars,
    char **err);
/* The distinct placeholder names of text in order of appearance; returns the count and
 * stores a NULL-terminated array in *names (free with template_names_free). */
size_t template_names(const char *text, char ***names);
void template_names_free(char **names);
/* Every variable t uses (system then user), without duplicates. */
size_t template_vars(const struct template *t, char ***names);
/* Render t with vars laid over its defaults into *system and *user (either may be NULL
 * when the template has none). Returns 0, or -1 with *err naming what is missing. */
int template_apply(const struct template *t, const struct template_var *vars, size_t nvars,
    char **system, char **user, char **err);
/* Check that every variable in vars is one t uses (in its system or user text). Returns 0,
 * or -1 with *err (caller frees) naming the first unknown one, the nearest known name when
 * it looks like a typo, and the variables t has. */
int template_check_vars(const struct template *t, const struct template_var *vars,
    size_t nvars, char **err);
/* Make t inherit from parent per t->mode; parent must already be resolved. */
void template_inherit(struct template *t, const struct template *parent);
void template_clear(struct template *t);

#endif
