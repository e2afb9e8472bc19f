/*
 * Request parameters by name (see params.h). Everything refuses bad values before a request
 * exists: a temperature of 3 or a top_k sent to a model without one would otherwise cost a
 * round trip and produce a provider error that is harder to read than ours.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "config.h"
#include "params.h"
#include "proto.h"
#include "provider.h"
#include "request.h"
#include "xmalloc.h"

/* Index of a parameter in the schema's parameter table, or -1. */
int
params_index(const char *name)
{
	size_t i;

	for (i = 0; i < config_schema_params_count; i++)
		if (strcmp(config_schema_params[i].path, name) == 0)
			return (int)i;
	return -1;
}

/* Parse a whole string as a finite number. */
static int
params_number(const char *s, double *out)
{
	char *end;

	errno = 0;
	*out = strtod(s, &end);
	while (*end == ' ')
		end++;
	return end != s && *end == '\0' && errno == 0 && isfinite(*out) ? 0 : -1;
}

/* True when word is one of the '|'-separated choices. */
static int
params_choice(const char *choices, const char *word)
{
	size_t n = strlen(word);
	const char *p = choices;

	while (p != NULL && *p != '\0') {
		const char *bar = strchr(p, '|');
		size_t len = bar != NULL ? (size_t)(bar - p) : strlen(p);

		if (len == n && strncmp(p, word, n) == 0)
			return 1;
		p = bar != NULL ? bar + 1 : NULL;
	}
	return 0;
}

/* Store a number into the field of parameter bit. */
static void
params_store(struct params *p, unsigned bit, double v)
{
	switch (bit) {
	case PARAM_TEMPERATURE: p->temperature = v; break;
	case PARAM_TOP_P: p->top_p = v; break;
	case PARAM_TOP_K: p->top_k = (long)v; break;
	case PARAM_MAX_TOKENS: p->max_tokens = (long)v; break;
	case PARAM_SEED: p->seed = (long)v; break;
	case PARAM_FREQUENCY_PENALTY: p->frequency_penalty = v; break;
	case PARAM_PRESENCE_PENALTY: p->presence_penalty = v; break;
	case PARAM_REPETITION_PENALTY: p->repetition_penalty = v; break;
	case PARAM_REASONING_BUDGET: p->reasoning_budget = (long)v; break;
	default: break;
	}
}

/* The numeric value of parameter bit in p. */
static double
params_load(const struct params *p, unsigned bit)
{
	switch (bit) {
	case PARAM_TEMPERATURE: return p->temperature;
	case PARAM_TOP_P: return p->top_p;
	case PARAM_TOP_K: return (double)p->top_k;
	case PARAM_MAX_TOKENS: return (double)p->max_tokens;
	case PARAM_SEED: return (double)p->seed;
	case PARAM_FREQUENCY_PENALTY: return p->frequency_penalty;
	case PARAM_PRESENCE_PENALTY: return p->presence_penalty;
	case PARAM_REPETITION_PENALTY: return p->repetition_penalty;
	case PARAM_REASONING_BUDGET: return (double)p->reasoning_budget;
	case PARAM_STOP: return p->nstop;
	default: return 0;
	}
}

/* Set one parameter from text after checking its type and global range. */
int
params_set(struct params *p, const char *name, const char *value, char **err)
{
	const struct config_schema *e;
	int idx = params_index(name);
	double v;
	char *want;

	*err = NULL;
	if (idx < 0) {
		const char *names[PARAM_COUNT];
		const char *near;
		size_t i;

		for (i = 0; i < PARAM_COUNT; i++)
			names[i] = config_schema_params[i].path;
		near = config_nearest(name, names, PARAM_COUNT);
		if (near != NULL)
			*err = xasprintf("unknown parameter '%s', did you mean '%s'?", name, near);
		else
			*err = xasprintf("unknown parameter '%s'", name);
		return -1;
	}
	e = &config_schema_params[idx];
	switch (e->type) {
	case CONFIG_STRINGS:
		if (p->nstop >= PARAM_MAX_STOP) {
			*err = xasprintf("stop: at most %d sequences", PARAM_MAX_STOP);
			return -1;
		}
		if (*value == '\0') {
			*err = xstrdup("stop: a stop sequence cannot be empty");
			return -1;
		}
		p->stop[p->nstop++] = xstrdup(value);
		break;
	case CONFIG_ENUM:
		if (!params_choice(e->choices, value)) {
			want = config_schema_describe(e);
			*err = xasprintf("%s: expected %s, got '%s'", name, want, value);
			free(want);
			return -1;
		}
		free(p->reasoning_effort);
		p->reasoning_effort = xstrdup(value);
		break;
	default:
		if (params_number(value, &v) < 0 || (e->type == CONFIG_INT && v != floor(v)) ||
		    v < e->min || v > e->max) {
			want = config_schema_describe(e);
			*err = xasprintf("%s: expected %s, got '%s'", name, want, value);
			free(want);
			return -1;
		}
		params_store(p, e->bit, v);
		break;
	}
	p->set |= e->bit;
	return 0;
}

/* Forget one parameter and free what it held. */
void
params_unset(struct params *p, const char *name)
{
	int idx = params_index(name), i;
	unsigned bit;

	if (idx < 0)
		return;
	bit = config_schema_params[idx].bit;
	if (bit == PARAM_STOP) {
		for (i = 0; i < p->nstop; i++)
			free(p->stop[i]);
		p->nstop = 0;
	} else if (bit == PARAM_REASONING_EFFORT) {
		free(p->reasoning_effort);
		p->reasoning_effort = NULL;
	}
	p->set &= ~bit;
}

/* Lay src over dst: what src sets wins, the rest of dst stays. */
void
params_overlay(struct params *dst, const struct params *src)
{
	size_t i;
	int j;

	for (i = 0; i < config_schema_params_count; i++) {
		unsigned bit = config_schema_params[i].bit;

		if (!(src->set & bit))
			continue;
		params_unset(dst, config_schema_params[i].path);
		if (bit == PARAM_STOP) {
			for (j = 0; j < src->nstop; j++)
				dst->stop[j] = xstrdup(src->stop[j]);
			dst->nstop = src->nstop;
		} else if (bit == PARAM_REASONING_EFFORT) {
			dst->reasoning_effort = src->reasoning_effort != NULL ?
			    xstrdup(src->reasoning_effort) : NULL;
		} else {
			params_store(dst, bit, params_load(src, bit));
		}
		dst->set |= bit;
	}
}

/* Drop or clamp what model m would refuse. */
void
params_fit(struct params *p, const struct model *m)
{
	size_t i;

	for (i = 0; i < config_schema_params_count; i++) {
		const struct config_schema *e = &config_schema_params[i];
		const struct param_limit *l = &m->limits[i];
		double v;

		if (!(p->set & e->bit))
			continue;
		if (!l->accepted) {
			params_unset(p, e->path);
			continue;
		}
		if (e->bit == PARAM_STOP) {
			while (l->min <= l->max && p->nstop > (int)l->max && p->nstop > 0)
				free(p->stop[--p->nstop]);
			continue;
		}
		if (e->bit == PARAM_REASONING_EFFORT)
			continue;  /* a word: kept, and checked like any other */
		v = params_load(p, e->bit);
		if (l->min <= l->max)
			v = v < l->min ? l->min : v > l->max ? l->max : v;
		if (e->bit == PARAM_MAX_TOKENS && m->max_output > 0 && v > (double)m->max_output)
			v = (double)m->max_output;
		params_store(p, e->bit, v);
	}
}

/* Check every set parameter against what model m accepts. */
int
params_check(const struct params *p, const struct model *m, char **err)
{
	size_t i, j;
	char *lo, *hi;

	*err = NULL;
	for (i = 0; i < config_schema_params_count; i++) {
		const struct config_schema *e = &config_schema_params[i];
		const struct param_limit *l = &m->limits[i];
		double v;

		if (!(p->set & e->bit))
			continue;
		if (!l->accepted) {
			*err = xasprintf("%s does not accept %s", m->name, e->path);
			return -1;
		}
		if (e->bit == PARAM_REASONING_EFFORT) {
			for (j = 0; j < m->nefforts; j++)
				if (p->reasoning_effort != NULL &&
				    strcmp(m->efforts[j], p->reasoning_effort) == 0)
					break;
			if (m->nefforts > 0 && j == m->nefforts) {
				struct buf b = BUF_INIT;

				for (j = 0; j < m->nefforts; j++)
					buf_printf(&b, "%s%s", j > 0 ? ", " : "", m->efforts[j]);
				*err = xasprintf("%s: reasoning_effort must be one of %s, got '%s'",
				    m->name, buf_str(&b), p->reasoning_effort);
				buf_free(&b);
				return -1;
			}
			continue;
		}
		v = params_load(p, e->bit);
		if (l->min <= l->max && (v < l->min || v > l->max)) {
			lo = xasprintf("%.10g", l->min);
			hi = xasprintf("%.10g", l->max);
			if (e->bit == PARAM_STOP)
				*err = xasprintf("%s accepts at most %s stop sequences, got %d",
				    m->name, hi, p->nstop);
			else
				*err = xasprintf("%s %.10g is out of range for %s (%s to %s)",
				    e->path, v, m->name, lo, hi);
			free(lo);
			free(hi);
			return -1;
		}
		if (e->bit == PARAM_MAX_TOKENS && m->max_output > 0 &&
		    p->max_tokens > m->max_output) {
			*err = xasprintf("max_tokens %ld is more than %s allows (%ld)",
			    p->max_tokens, m->name, m->max_output);
			return -1;
		}
	}
	/* Then what the protocol refuses in combination (Anthropic's thinking rules). */
	if (m->provider != NULL && m->provider->proto != NULL &&
	    m->provider->proto->check_params != NULL)
		return m->provider->proto->check_params(m->id, m->name, p, err);
	return 0;
}

/* What each protocol supports (protocols.md §E), with the schema's global ranges. */
void
params_default_limits(const char *protocol, struct param_limit *out)
{
	static const struct {
		const char *protocol;
		unsigned bits;
	} support[] = {
		{ "openai", PARAM_TEMPERATURE | PARAM_TOP_P | PARAM_MAX_TOKENS | PARAM_STOP |
		    PARAM_SEED | PARAM_FREQUENCY_PENALTY | PARAM_PRESENCE_PENALTY |
		    PARAM_REASONING_EFFORT },
		{ "anthropic", PARAM_TEMPERATURE | PARAM_TOP_P | PARAM_TOP_K | PARAM_MAX_TOKENS |
		    PARAM_STOP | PARAM_REASONING_BUDGET },
		{ "gemini", PARAM_TEMPERATURE | PARAM_TOP_P | PARAM_TOP_K | PARAM_MAX_TOKENS |
		    PARAM_STOP | PARAM_SEED | PARAM_FREQUENCY_PENALTY | PARAM_PRESENCE_PENALTY |
		    PARAM_REASONING_BUDGET },
		{ "ollama", PARAM_TEMPERATURE | PARAM_TOP_P | PARAM_TOP_K | PARAM_MAX_TOKENS |
		    PARAM_STOP | PARAM_SEED | PARAM_FREQUENCY_PENALTY | PARAM_PRESENCE_PENALTY |
		    PARAM_REPETITION_PENALTY | PARAM_REASONING_EFFORT },
	};
	unsigned bits = ~0u;
	size_t i;

	for (i = 0; i < sizeof support / sizeof support[0]; i++)
		if (protocol != NULL && strcmp(support[i].protocol, protocol) == 0)
			bits = support[i].bits;
	for (i = 0; i < config_schema_params_count; i++) {
		const struct config_schema *e = &config_schema_params[i];

		out[i].accepted = (bits & e->bit) != 0;
		out[i].min = e->min;
		out[i].max = e->max;
		if (e->bit == PARAM_STOP) {
			out[i].min = 0;
			out[i].max = PARAM_MAX_STOP;
		}
		if (e->bit == PARAM_TEMPERATURE && protocol != NULL &&
		    strcmp(protocol, "anthropic") == 0)
			out[i].max = 1;
	}
}

/* Parameter idx of p as text, or NULL when unset. */
char *
params_value(const struct params *p, int idx)
{
	const struct config_schema *e;
	int i;
	char *s, *t;

	if (idx < 0 || (size_t)idx >= config_schema_params_count)
		return NULL;
	e = &config_schema_params[idx];
	if (!(p->set & e->bit))
		return NULL;
	if (e->bit == PARAM_STOP) {
		s = xstrdup("");
		for (i = 0; i < p->nstop; i++) {
			t = xasprintf("%s%s%s", s, i > 0 ? ", " : "", p->stop[i]);
			free(s);
			s = t;
		}
		return s;
	}
	if (e->bit == PARAM_REASONING_EFFORT)
		return xstrdup(p->reasoning_effort != NULL ? p->reasoning_effort : "");
	return xasprintf("%.10g", params_load(p, e->bit));
}
