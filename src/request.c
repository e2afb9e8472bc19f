/*
 * Chat requests: the provider copy, model, system prompt, history and sampling parameters
 * the adapters turn into HTTP. Everything is deep-copied so a request can cross to the
 * worker thread and be freed there.
 */
#include <stdlib.h>
#include <string.h>

#include "attach.h"
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
		struct message *m = &r->msgs[i];
		size_t k;

		free(m->content);
		free(m->reasoning);
		free(m->signature);
		for (k = 0; k < m->ncalls; k++) {
			free(m->calls[k].id);
			free(m->calls[k].name);
			free(m->calls[k].args);
			free(m->calls[k].signature);
		}
		free(m->calls);
		for (k = 0; k < m->natts; k++) {
			attach_unref(m->atts[k].a);
			free(m->atts[k].text);
		}
		free(m->atts);
		free(m->tool_id);
		free(m->tool_name);
	}
	free(r->msgs);
	for (i = 0; i < r->ntools; i++) {
		free(r->tools[i].name);
		free(r->tools[i].description);
		free(r->tools[i].schema);
	}
	free(r->tools);
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
		const struct message *m = &r->msgs[i];
		size_t k;

		if (m->role == ROLE_TOOL) {
			request_add_result(c, m->tool_id, m->tool_name, m->content, m->tool_error);
			continue;
		}
		request_add(c, m->role, m->content);
		if (m->signature != NULL)
			request_set_thinking(c, m->reasoning, m->signature);
		for (k = 0; k < m->ncalls; k++)
			request_add_call(c, m->calls[k].id, m->calls[k].name, m->calls[k].args,
			    m->calls[k].signature);
		for (k = 0; k < m->natts; k++) {
			request_add_attach(c, m->atts[k].a);
			if (m->atts[k].text != NULL)
				c->msgs[c->nmsgs - 1].atts[k].text = xstrdup(m->atts[k].text);
			c->msgs[c->nmsgs - 1].atts[k].omitted = m->atts[k].omitted;
		}
	}
	for (i = 0; i < r->ntools; i++)
		request_add_tool(c, r->tools[i].name, r->tools[i].description, r->tools[i].schema);
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
	memset(&r->msgs[r->nmsgs], 0, sizeof(r->msgs[r->nmsgs]));
	r->msgs[r->nmsgs].role = role;
	r->msgs[r->nmsgs].content = xstrdup(content != NULL ? content : "");
	r->nmsgs++;
}

/* Add a tool call to the last message. */
void
request_add_call(struct request *r, const char *id, const char *name, const char *args,
    const char *signature)
{
	struct message *m;
	struct msg_call *c;

	if (r->nmsgs == 0)
		return;
	m = &r->msgs[r->nmsgs - 1];
	m->calls = xrealloc(m->calls, (m->ncalls + 1) * sizeof(*m->calls));
	c = &m->calls[m->ncalls++];
	c->id = xstrdup(id != NULL ? id : "");
	c->name = xstrdup(name != NULL ? name : "");
	c->args = xstrdup(args != NULL && args[0] != '\0' ? args : "{}");
	c->signature = signature != NULL ? xstrdup(signature) : NULL;
}

/* Append a tool result. */
void
request_add_result(struct request *r, const char *id, const char *name, const char *content,
    int is_error)
{
	struct message *m;

	request_add(r, ROLE_TOOL, content);
	m = &r->msgs[r->nmsgs - 1];
	m->tool_id = xstrdup(id != NULL ? id : "");
	m->tool_name = xstrdup(name != NULL ? name : "");
	m->tool_error = is_error != 0;
}

/* Declare a tool. */
void
request_add_tool(struct request *r, const char *name, const char *description,
    const char *schema)
{
	struct request_tool *t;

	r->tools = xrealloc(r->tools, (r->ntools + 1) * sizeof(*r->tools));
	t = &r->tools[r->ntools++];
	t->name = xstrdup(name != NULL ? name : "");
	t->description = xstrdup(description != NULL ? description : "");
	t->schema = xstrdup(schema != NULL && schema[0] != '\0' ? schema :
	    "{\"type\":\"object\",\"properties\":{}}");
}

/* Add an attachment to the last message. */
void
request_add_attach(struct request *r, struct attach *a)
{
	struct message *m;

	if (r->nmsgs == 0 || a == NULL)
		return;
	m = &r->msgs[r->nmsgs - 1];
	m->atts = xrealloc(m->atts, (m->natts + 1) * sizeof(*m->atts));
	m->atts[m->natts].a = attach_ref(a);
	m->atts[m->natts].text = NULL;
	m->atts[m->natts].omitted = 0;
	m->natts++;
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
	case ROLE_TOOL_CALL: return "assistant";
	case ROLE_TOOL: return "tool";
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
