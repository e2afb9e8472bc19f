/*
 * libnatter's public face (natter.h): thin handles over the config, the store, sessions
 * and turns. A natter handle is one front end like the interface or `natter ask`: it owns
 * a worker, routes the worker's events to the turns of its chats, and adapts the turn's
 * callbacks to the public ones. Nothing here decides anything a turn decides.
 */
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "json.h"
#include "natter.h"
#include "provider.h"
#include "resolve.h"
#include "session.h"
#include "store.h"
#include "turn.h"
#include "worker.h"
#include "xmalloc.h"

struct natter {
	struct config *cfg;
	struct config_errors errs;
	struct store *st;
	struct worker *w;
	struct turn_env env;
	struct natter_reply **replies;   /* every reply not yet freed */
	size_t nreplies, capreplies;
};

struct natter_chat {
	struct natter *n;
	struct session *sess;
	struct model *model;
	struct natter_reply *streaming;  /* the reply in flight, or NULL */
};

struct natter_reply {
	struct natter_chat *c;
	struct turn *t;
	struct natter_callbacks cbs;
	void *arg;
	char *model;                     /* "provider/id" of the model answering */
};

static pthread_once_t natter_once = PTHREAD_ONCE_INIT;

/* Process-wide set-up, once, whichever thread gets here first. */
static void
natter_global(void)
{
	json_init();
	worker_global_init();
}

/* Load the config and start the worker. */
struct natter *
natter_open(const struct natter_options *o, char **err)
{
	static const struct natter_options none;
	struct natter *n;

	if (o == NULL)
		o = &none;
	*err = NULL;
	pthread_once(&natter_once, natter_global);
	n = xcalloc(1, sizeof(*n));
	n->cfg = config_load(o->config, 0, &n->errs);
	config_share_pools(n->cfg, o->database);
	if (!o->no_store && (n->st = store_open(o->database, err)) == NULL) {
		config_free(n->cfg);
		config_errors_free(&n->errs);
		free(n);
		return NULL;
	}
	n->w = worker_start();
	n->env.cfg = n->cfg;
	n->env.w = n->w;
	return n;
}

/* The config's messages. */
const char *const *
natter_warnings(const struct natter *n, size_t *count)
{
	*count = n->errs.n;
	return (const char *const *)n->errs.v;
}

/* Stop the worker and free everything. */
void
natter_close(struct natter *n)
{
	if (n == NULL)
		return;
	while (n->nreplies > 0)
		natter_reply_free(n->replies[n->nreplies - 1]);
	worker_stop(n->w);
	if (n->st != NULL)
		store_close(n->st);
	config_free(n->cfg);
	config_errors_free(&n->errs);
	free(n->replies);
	free(n);
}

/* The worker's descriptor. */
int
natter_fd(const struct natter *n)
{
	return worker_fd(n->w);
}

/* Route waiting events to the turns, flush the sessions. */
int
natter_dispatch(struct natter *n)
{
	struct wevent *ev;
	size_t i;
	int live = 0;

	while ((ev = worker_next(n->w)) != NULL) {
		for (i = 0; i < n->nreplies; i++)
			if (n->replies[i]->t != NULL && turn_event(n->replies[i]->t, ev))
				break;
		wevent_free(ev);
	}
	for (i = 0; i < n->nreplies; i++) {
		if (n->replies[i]->t != NULL && !n->replies[i]->t->done) {
			session_reply_flush(n->replies[i]->c->sess);
			live++;
		}
	}
	return live;
}

/* Poll, then dispatch. */
int
natter_wait(struct natter *n, int timeout_ms)
{
	struct pollfd pfd = { worker_fd(n->w), POLLIN, 0 };

	poll(&pfd, 1, timeout_ms);
	return natter_dispatch(n);
}

/* Resolve spec to a usable model, or NULL with *err. */
static struct model *
natter_model(struct natter *n, const char *spec, char **err)
{
	struct resolved r;

	if (resolve_model(n->cfg, spec, NULL, &r) != RESOLVE_OK) {
		*err = resolve_message(n->cfg, spec, &r);
		return NULL;
	}
	if (!provider_usable(r.model->provider)) {
		*err = xasprintf("%s cannot be used: %s has no key (set %s)", r.model->name,
		    r.model->provider->name, r.model->provider->key_env ? r.model->provider->key_env :
		    "its API key");
		return NULL;
	}
	return r.model;
}

/* "provider/id" of spec. */
char *
natter_resolve(struct natter *n, const char *spec, char **err)
{
	struct model *m;

	*err = NULL;
	if ((m = natter_model(n, spec, err)) == NULL)
		return NULL;
	return xasprintf("%s/%s", m->provider->name, m->id);
}

/* A new conversation. */
struct natter_chat *
natter_chat_new(struct natter *n, const char *model, char **err)
{
	struct natter_chat *c;
	struct model *m;

	*err = NULL;
	if ((m = natter_model(n, model, err)) == NULL)
		return NULL;
	c = xcalloc(1, sizeof(*c));
	c->n = n;
	c->model = m;
	c->sess = session_new(n->st, m->provider->name, m->id);
	return c;
}

/* A stored conversation. */
struct natter_chat *
natter_chat_open(struct natter *n, int64_t id, char **err)
{
	struct natter_chat *c;
	struct session *s;
	struct model *m;
	char *spec;

	*err = NULL;
	if (n->st == NULL) {
		*err = xstrdup("no session store (opened with no_store)");
		return NULL;
	}
	if ((s = session_load(n->st, id)) == NULL) {
		*err = xasprintf("no session %lld", (long long)id);
		return NULL;
	}
	spec = xasprintf("%s/%s", s->provider, s->model);
	m = natter_model(n, spec, err);
	free(spec);
	if (m == NULL) {
		session_free(s);
		return NULL;
	}
	c = xcalloc(1, sizeof(*c));
	c->n = n;
	c->model = m;
	c->sess = s;
	return c;
}

/* The chat's store id. */
int64_t
natter_chat_id(const struct natter_chat *c)
{
	return c->sess->id;
}

/* Set the system prompt. */
int
natter_chat_set_system(struct natter_chat *c, const char *system)
{
	return session_set_system(c->sess, system);
}

/* Free a chat and the replies it still has. */
void
natter_chat_free(struct natter_chat *c)
{
	size_t i;

	if (c == NULL)
		return;
	for (i = c->n->nreplies; i-- > 0;)
		if (c->n->replies[i]->c == c)
			natter_reply_free(c->n->replies[i]);
	session_free(c->sess);
	free(c);
}

/* List stored conversations. */
int
natter_sessions(struct natter *n, size_t limit,
    int (*each)(const struct natter_session *s, void *arg), void *arg, char **err)
{
	struct session_row *rows = NULL;
	size_t nrows = 0, i;

	*err = NULL;
	if (n->st == NULL)
		return 0;
	if (store_sessions(n->st, &rows, &nrows, limit) != 0) {
		*err = xstrdup(store_error(n->st));
		return -1;
	}
	for (i = 0; i < nrows; i++) {
		struct natter_session s = { rows[i].id, rows[i].title, rows[i].provider,
		    rows[i].model, rows[i].updated, rows[i].nmessages };

		if (each(&s, arg) != 0)
			break;
	}
	store_sessions_free(rows, nrows);
	return 0;
}

/* The turn's update, told in the public callbacks' terms. */
static void
natter_on_update(struct turn *t, unsigned what, const char *p, size_t n, void *arg)
{
	struct natter_reply *r = arg;

	if ((what & TURN_TEXT) && r->cbs.text != NULL)
		r->cbs.text(r, p, n, r->arg);
	if ((what & TURN_REASONING) && r->cbs.reasoning != NULL)
		r->cbs.reasoning(r, p, n, r->arg);
	if (what & TURN_FALLBACK) {
		free(r->model);
		r->model = xasprintf("%s/%s", t->model->provider->name, t->model->id);
		if (r->cbs.notice != NULL && t->note != NULL)
			r->cbs.notice(r, t->note, r->arg);
	}
	if ((what & TURN_WAIT) && r->cbs.notice != NULL && t->wait_msg != NULL)
		r->cbs.notice(r, t->wait_msg, r->arg);
}

/* The turn is over. */
static void
natter_on_complete(struct turn *t, void *arg)
{
	struct natter_reply *r = arg;

	(void)t;
	if (r->c->streaming == r)
		r->c->streaming = NULL;
	if (r->cbs.done != NULL)
		r->cbs.done(r, r->arg);
}

static const struct turn_cbs natter_turn_cbs = { natter_on_update, natter_on_complete, NULL };

/* Send a prompt and start its reply. */
struct natter_reply *
natter_send(struct natter_chat *c, const char *prompt, const struct natter_callbacks *cbs,
    void *arg, char **err)
{
	struct natter *n = c->n;
	struct turn_spec spec = { .model = c->model, .column = -1 };
	struct natter_reply *r;
	size_t before = c->sess->nmsgs;

	*err = NULL;
	if (c->streaming != NULL) {
		*err = xstrdup("a reply is still streaming in this chat");
		return NULL;
	}
	r = xcalloc(1, sizeof(*r));
	r->c = c;
	if (cbs != NULL)
		r->cbs = *cbs;
	r->arg = arg;
	r->model = xasprintf("%s/%s", c->model->provider->name, c->model->id);
	session_append_user(c->sess, prompt);
	r->t = turn_start(&n->env, c->sess, &spec, &natter_turn_cbs, r, err);
	if (r->t == NULL) {
		/* Nothing was sent: the prompt goes too, so a retry does not send it twice. */
		session_truncate(c->sess, before);
		free(r->model);
		free(r);
		return NULL;
	}
	if (n->nreplies == n->capreplies) {
		n->capreplies = n->capreplies ? n->capreplies * 2 : 4;
		n->replies = xrealloc(n->replies, n->capreplies * sizeof(*n->replies));
	}
	n->replies[n->nreplies++] = r;
	c->streaming = r;
	return r;
}

/* Stop a reply. */
void
natter_cancel(struct natter_reply *r)
{
	turn_cancel(r->t);
}

/* Its state. */
enum natter_state
natter_reply_state(const struct natter_reply *r)
{
	switch (r->t->state) {
	case MSG_STREAMING:
		return NATTER_STREAMING;
	case MSG_TRUNCATED:
		return NATTER_TRUNCATED;
	case MSG_CANCELLED:
		return NATTER_CANCELLED;
	case MSG_ERROR:
		return NATTER_ERROR;
	case MSG_INTERRUPTED:
		return NATTER_INTERRUPTED;
	case MSG_COMPLETE:
		break;
	}
	return NATTER_COMPLETE;
}

/* Its failure. */
const char *
natter_reply_error(const struct natter_reply *r)
{
	return r->t->error;
}

/* The model answering. */
const char *
natter_reply_model(const struct natter_reply *r)
{
	return r->model;
}

/* The text so far. */
const char *
natter_reply_text(const struct natter_reply *r, size_t *len)
{
	const struct session_msg *m = &r->c->sess->msgs[r->t->reply];

	if (len != NULL)
		*len = m->content.len;
	return m->content.data != NULL ? m->content.data : "";
}

/* Its figures. */
void
natter_reply_figures(const struct natter_reply *r, struct natter_figures *f)
{
	f->ttft_ms = r->t->ttft_ms;
	f->duration_ms = r->t->duration_ms;
	f->input_tokens = r->t->usage.input_tokens;
	f->output_tokens = r->t->usage.output_tokens;
	f->cost = r->t->cost;
}

/* Free a reply (cancelling it if it still streams). */
void
natter_reply_free(struct natter_reply *r)
{
	struct natter *n;
	size_t i;

	if (r == NULL)
		return;
	n = r->c->n;
	for (i = 0; i < n->nreplies; i++) {
		if (n->replies[i] == r) {
			n->replies[i] = n->replies[--n->nreplies];
			break;
		}
	}
	if (r->c->streaming == r)
		r->c->streaming = NULL;
	turn_free(r->t);
	free(r->model);
	free(r);
}
