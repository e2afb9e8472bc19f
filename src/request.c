/*
 * Chat requests: the provider copy, model, system prompt, history and sampling parameters
 * the adapters turn into HTTP. Everything is deep-copied so a request can cross to the
 * worker thread and be freed there.
 */
#include <stdlib.h>
#include <string.h>

#include "provider.h"
#include "buf.h"
#include "request.h"
#include "xmalloc.h"

/* A request for model on a private copy of p, with no messages and no parameters set. */
struct request *
request_new(const struct provider *p, const char *model)
{
	struct request *r = xcalloc(1, sizeof *r);

	r->provider = provider_dup(p);
	r->model = xstrdup(model != NULL ? model : "");
	return r;
}

/* Release the strings a parameter set owns and clear it. */
void
params_free(struct params *p)
{
	int i;

	for (i = 0; i < p->nstop && i < PARAM_MAX_STOP; i++)
		free(p->stop[i]);
	free(p->reasoning_effort);
	memset(p, 0, sizeof *p);
}

/* Make dst a deep copy of src; dst is overwritten, not freed. */
void
params_copy(struct params *dst, const struct params *src)
{
	int i;

	*dst = *src;
	for (i = 0; i < PARAM_MAX_STOP; i++)
		dst->stop[i] = NULL;
	if (dst->nstop > PARAM_MAX_STOP)
		dst->nstop = PARAM_MAX_STOP;
	for (i = 0; i < dst->nstop; i++)
		dst->stop[i] = xstrdup(src->stop[i] != NULL ? src->stop[i] : "");
	dst->reasoning_effort = src->reasoning_effort != NULL ?
	    xstrdup(src->reasoning_effort) : NULL;
}

/* Release r and everything it owns; NULL is fine. */
void
request_free(struct request *r)
{
	size_t i;

	if (r == NULL)
		return;
	provider_free(r->provider);
	free(r->model);
	free(r->system);
	for (i = 0; i < r->nmsgs; i++) {
		free(r->msgs[i].content);
		free(r->msgs[i].reasoning);
		free(r->msgs[i].signature);
	}
	free(r->msgs);
	params_free(&r->params);
	free(r);
}

/* A deep copy of r. */
struct request *
request_dup(const struct request *r)
{
	struct request *c = request_new(r->provider, r->model);
	size_t i;

	request_set_system(c, r->system);
	for (i = 0; i < r->nmsgs; i++) {
		request_add(c, r->msgs[i].role, r->msgs[i].content);
		if (r->msgs[i].signature != NULL)
			request_set_thinking(c, r->msgs[i].reasoning, r->msgs[i].signature);
	}
	params_copy(&c->params, &r->params);
	c->no_stream = r->no_stream;
	c->max_tokens_field = r->max_tokens_field;
	return c;
}

/* Replace the system prompt; NULL or "" removes it. */
void
request_set_system(struct request *r, const char *system)
{
	free(r->system);
	r->system = system != NULL && system[0] != '\0' ? xstrdup(system) : NULL;
}

/* Append one message to the history. */
void
request_add(struct request *r, enum role role, const char *content)
{
	r->msgs = xrealloc(r->msgs, (r->nmsgs + 1) * sizeof *r->msgs);
	r->msgs[r->nmsgs].role = role;
	r->msgs[r->nmsgs].content = xstrdup(content != NULL ? content : "");
	r->msgs[r->nmsgs].reasoning = NULL;
	r->msgs[r->nmsgs].signature = NULL;
	r->nmsgs++;
}

/* Attach signed thinking to the last message; NULL signature clears it. */
void
request_set_thinking(struct request *r, const char *reasoning, const char *signature)
{
	struct message *m;

	if (r->nmsgs == 0)
		return;
	m = &r->msgs[r->nmsgs - 1];
	free(m->reasoning);
	free(m->signature);
	m->reasoning = signature != NULL ? xstrdup(reasoning != NULL ? reasoning : "") : NULL;
	m->signature = signature != NULL ? xstrdup(signature) : NULL;
}

/* The OpenAI-style name of a role. */
const char *
request_role_name(enum role role)
{
	switch (role) {
	case ROLE_SYSTEM: return "system";
	case ROLE_USER: return "user";
	case ROLE_ASSISTANT: return "assistant";
	}
	return "user";
}

/* Append the system prompt and the history's system messages, separated by blank lines. */
void
request_join_system(const struct request *r, struct buf *out)
{
	size_t i;

	if (r->system != NULL)
		buf_puts(out, r->system);
	for (i = 0; i < r->nmsgs; i++) {
		if (r->msgs[i].role != ROLE_SYSTEM)
			continue;
		if (out->len > 0)
			buf_puts(out, "\n\n");
		buf_puts(out, r->msgs[i].content);
	}
}
