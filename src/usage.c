/*
 * Helpers for struct usage. Cost estimates live with the model prices in the config layer;
 * this file only knows what "no usage reported" means.
 */
#include "usage.h"

/* Mark every field as not reported. */
void
usage_clear(struct usage *u)
{
	u->input_tokens = -1;
	u->output_tokens = -1;
	u->total_tokens = -1;
	u->reasoning_tokens = -1;
}

/* True when the provider reported at least one count. */
int
usage_present(const struct usage *u)
{
	return u->input_tokens >= 0 || u->output_tokens >= 0 || u->total_tokens >= 0 ||
	    u->reasoning_tokens >= 0;
}
