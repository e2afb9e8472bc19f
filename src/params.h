/*
 * Request parameters by name: set them from text (config files, `/set temperature 0.2`,
 * `natter ask -p temperature=0.2`), layer them (model defaults < session < message) and
 * check them against what a model accepts before anything is sent, with messages that name
 * the limit. The names, types and global ranges come from config_schema_params.
 */
#ifndef NATTER_PARAMS_H
#define NATTER_PARAMS_H

#include "config.h"
#include "request.h"

/* Index of a parameter in config_schema_params, or -1. */
int params_index(const char *name);
/* Set one parameter from text, checking its type and global range; "stop" appends one
 * sequence. Returns 0, or -1 with *err (caller frees) naming the limit. */
int params_set(struct params *p, const char *name, const char *value, char **err);
/* Forget one parameter. */
void params_unset(struct params *p, const char *name);
/* Copy every parameter set in src over dst. */
void params_overlay(struct params *dst, const struct params *src);
/* Make p fit model m: drop what m does not accept, bring numbers into its ranges (for the
 * config-wide defaults, which apply to every model as far as each allows). */
void params_fit(struct params *p, const struct model *m);
/* Check p against model m; returns 0, or -1 with *err (caller frees). */
int params_check(const struct params *p, const struct model *m, char **err);
/* The parameters a protocol supports, with the global ranges. */
void params_default_limits(const char *protocol, struct param_limit *out);
/* The value of parameter idx in p as text (caller frees), or NULL when it is not set. */
char *params_value(const struct params *p, int idx);

#endif
