/*
 * The serve loop (serve-loop.h): one poll() over the worker, MHD's hand-over eventfd, the
 * stop signal and the sockets of suspended connections (for hang-ups). Each chat request
 * becomes a struct serve_req: its parsed body, its session, its turn, and the events
 * encoded for its connection, handed over once per loop turn so that a burst of deltas
 * costs one lock and one resume.
 */
#include <errno.h>
#include <math.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "apierr.h"
#include "buf.h"
#include "config.h"
#include "provider.h"
#include "proto.h"
#include "resolve.h"
#include "serve-api.h"
#include "serve-conv.h"
#include "serve-loop.h"
#include "serve-sse.h"
#include "semantic.h"
#include "serve.h"
#include "session.h"
#include "store.h"
#include "turn.h"
#include "worker.h"
#include "xmalloc.h"

/* How long a stop waits for the cancelled turns to end. */
#define SERVE_STOP_MS 3000
/* Idle time after which stored replies are indexed for search (a long reply's indexing
 * would otherwise delay the end of its stream, and of every stream beside it). */
#define SERVE_INDEX_MS 500

/* A model some provider's listing reports. */
struct serve_listed {
	char *provider;
	char *id;
};

/* One provider's listing for /v1/models: the request out, and when it last answered. */
struct serve_listing {
	uint64_t id;                  /* the listing under way, 0 when none */
	int64_t at;                   /* when it last answered (ms, monotonic), 0 never */
	int failed;                   /* that answer was an error */
};

struct serve_loop {
	struct config *cfg;
	struct store *st;
	struct serve *srv;
	struct turn_env env;
	struct serve_req **reqs;      /* chat requests under way */
	size_t nreqs, cap;
	struct serve_listing *listing; /* one per configured provider */
	size_t nlisting;
	struct serve_listed *listed;
	size_t nlisted;
	unsigned long seq;
	int index_due;                /* stored replies wait for the search index */
	struct semantic_ix *six;      /* embeds the messages stored (embedding_model) */
};

struct serve_req {
	struct serve_loop *L;
	struct serve_conn *c;
	struct serve_chat chat;
	struct model *model;
	char *model_name;             /* what the answer calls the model */
	struct session *sess;
	int fresh;                    /* the session is this request's */
	int save;
	size_t before;                /* a continued session's messages before the prompt */
	struct turn *t;
	int started;                  /* the answer's head went out */
	int role_sent;                /* OpenAI: the first chunk (with the role) went out */
	int answered;                 /* answered early (429): the turn only winds down */
	int drop;                     /* leave nothing stored (an early failure) */
	int done;
	struct serve_utf8 ut, ur;
	struct buf acc;               /* deltas of one kind since the last loop turn, raw */
	int acc_reasoning;            /* acc holds reasoning */
	struct buf pend;              /* encoded, not handed to the connection yet */
	struct buf text, reasoning;   /* OpenAI without stream: the reply as it came */
	char id[48];
	long long created;
};

/* Milliseconds on the monotonic clock. */
static int64_t
serve_loop_clock(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Answer an error in the API's shape: OpenAI's error object, or {"detail": ...}. */
static void
serve_loop_error(struct serve_conn *c, int status, const char *msg, const char *type,
    const char *param, const char *code, const char *retry_after)
{
	struct buf b = BUF_INIT;

	if (c->route == ROUTE_CHAT || c->route == ROUTE_MODELS)
		serve_oai_error(&b, msg, type, param, code);
	else
		serve_s2_message(&b, msg);
	serve_conn_reply(c, status, "application/json", b.data, b.len, retry_after);
	buf_free(&b);
}

/* The problems of a bad request: OpenAI's 400 with the first one, or the 422 list. */
static void
serve_loop_problems(struct serve_conn *c, const struct serve_problems *pr)
{
	struct buf b = BUF_INIT;
	char *msg;

	if (c->route == ROUTE_CHAT) {
		msg = pr->v[0].field != NULL ? xasprintf("%s: %s", pr->v[0].field, pr->v[0].msg) :
		    xstrdup(pr->v[0].msg);
		serve_loop_error(c, 400, msg, "invalid_request_error", pr->v[0].field, NULL, NULL);
		free(msg);
		return;
	}
	serve_s2_detail(&b, pr);
	serve_conn_reply(c, 422, "application/json", b.data, b.len, NULL);
	buf_free(&b);
}

/* Whether m is one of the models serve.models offers (every one when it names none). */
static int
serve_loop_offered(struct serve_loop *L, const struct model *m)
{
	const struct config_serve *sv = &L->cfg->serve;
	struct resolved r;
	size_t i;

	if (sv->nmodels == 0)
		return 1;
	for (i = 0; i < sv->nmodels; i++)
		if (resolve_model(L->cfg, sv->models[i], NULL, &r) == RESOLVE_OK &&
		    (r.model == m || (r.model->provider == m->provider &&
		    strcmp(r.model->id, m->id) == 0)))
			return 1;
	return 0;
}

/* Resolve the model a request names (NULL: the default, or the continued session's);
 * NULL after answering 404. */
static struct model *
serve_loop_model(struct serve_loop *L, struct serve_conn *c, const char *spec)
{
	struct resolved r;
	char *msg;

	if (resolve_model(L->cfg, spec, NULL, &r) == RESOLVE_OK && serve_loop_offered(L, r.model))
		return r.model;
	if (r.status == RESOLVE_OK)
		msg = xasprintf("the model '%s' is not offered by this server (serve.models)", spec);
	else
		msg = resolve_message(L->cfg, spec, &r);
	serve_loop_error(c, 404, msg, "invalid_request_error", "model", "model_not_found", NULL);
	free(msg);
	return NULL;
}

/* Ask every provider whose listing is missing or stale for its models, for /v1/models:
 * at start, and again when a request for them finds one older than models_refresh (a
 * failed one, a tenth of that but at least 5 s). */
static void
serve_loop_list_models(struct serve_loop *L)
{
	int64_t now = serve_loop_clock(), keep = L->cfg->serve.models_refresh_ms;
	int64_t retry = keep / 10 > 5000 ? keep / 10 : keep < 5000 ? keep : 5000;
	size_t i;

	if (L->listing == NULL) {
		L->nlisting = L->cfg->nproviders;
		L->listing = xcalloc(L->nlisting + 1, sizeof *L->listing);
	}
	for (i = 0; i < L->nlisting; i++) {
		struct serve_listing *l = &L->listing[i];

		if (l->id != 0 || (l->at != 0 && now - l->at < (l->failed ? retry : keep)))
			continue;
		l->id = worker_models(L->env.w, L->cfg->providers[i]);
	}
}

/* GET /v1/models: the offered models, configured ones first, then what listings found. */
static void
serve_loop_models(struct serve_loop *L, struct serve_conn *c)
{
	struct config *cfg = L->cfg;
	struct buf b = BUF_INIT;
	struct resolved r;
	size_t i, j, k = 0;
	char *full;

	buf_puts(&b, "{\"object\":\"list\",\"data\":[");
	for (i = 0; i < cfg->serve.nmodels; i++) {
		if (resolve_model(cfg, cfg->serve.models[i], NULL, &r) != RESOLVE_OK)
			continue;
		buf_puts(&b, k++ > 0 ? ",{\"id\":" : "{\"id\":");
		serve_json_str(&b, cfg->serve.models[i]);
		buf_puts(&b, ",\"object\":\"model\",\"created\":0,\"owned_by\":");
		serve_json_str(&b, r.model->provider->name);
		buf_putc(&b, '}');
	}
	for (i = 0; cfg->serve.nmodels == 0 && i < cfg->nmodels; i++) {
		/* Transcription and embedding models do not chat. */
		if (cfg->models[i].provider == NULL || cfg->models[i].kind != MODEL_CHAT)
			continue;
		buf_puts(&b, k++ > 0 ? ",{\"id\":" : "{\"id\":");
		serve_json_str(&b, cfg->models[i].name);
		buf_puts(&b, ",\"object\":\"model\",\"created\":0,\"owned_by\":");
		serve_json_str(&b, cfg->models[i].provider->name);
		buf_putc(&b, '}');
	}
	for (i = 0; cfg->serve.nmodels == 0 && i < L->nlisted; i++) {
		for (j = 0; j < cfg->nmodels; j++)
			if (cfg->models[j].provider != NULL &&
			    strcmp(cfg->models[j].provider->name, L->listed[i].provider) == 0 &&
			    strcmp(cfg->models[j].id, L->listed[i].id) == 0)
				break;
		if (j < cfg->nmodels)
			continue;
		full = xasprintf("%s/%s", L->listed[i].provider, L->listed[i].id);
		buf_puts(&b, k++ > 0 ? ",{\"id\":" : "{\"id\":");
		serve_json_str(&b, full);
		buf_puts(&b, ",\"object\":\"model\",\"created\":0,\"owned_by\":");
		serve_json_str(&b, L->listed[i].provider);
		buf_putc(&b, '}');
		free(full);
	}
	buf_puts(&b, "]}\n");
	serve_conn_reply(c, 200, "application/json", b.data, b.len, NULL);
	buf_free(&b);
}

/* Free a request and everything it holds (its turn first). */
static void
serve_req_free(struct serve_req *r)
{
	struct session *s = r->sess;

	turn_free(r->t);
	if (s != NULL && r->drop && s->store != NULL) {
		if (r->fresh && s->id > 0)
			store_session_delete(s->store, s->id);
		else if (!r->fresh)
			session_truncate(s, r->before);
	}
	session_free(s);
	serve_chat_free(&r->chat);
	free(r->model_name);
	buf_free(&r->pend);
	buf_free(&r->acc);
	buf_free(&r->text);
	buf_free(&r->reasoning);
	if (r->c != NULL) {
		serve_conn_end(r->c);
		serve_conn_release(r->c);
	}
	free(r);
}

/* The answer's head: a stream of events (the conversation API's first one with it). */
static void
serve_req_begin(struct serve_req *r)
{
	r->started = 1;
	if (!r->chat.stream)
		return;
	serve_conn_stream(r->c, 200, "text/event-stream");
	if (r->chat.api == SERVE_API_S2)
		serve_s2_start(&r->pend, r->sess->store != NULL ? r->sess->id : 0, r->model_name);
}

/* What a failed turn answers: status, OpenAI's type and code, and a retry-after. */
static int
serve_req_status(const struct turn *t, const char **type, const char **code, char *ra,
    size_t n)
{
	const struct apierr *e = t->fail;

	*type = "api_error";
	*code = "upstream_error";
	ra[0] = '\0';
	if (e == NULL)
		return t->state == MSG_TRUNCATED ? 502 : 400;
	if (e->retry_after_s >= 0)
		snprintf(ra, n, "%.0f", ceil(e->retry_after_s));
	switch (e->cls) {
	case APIERR_RATE_LIMIT:
	case APIERR_QUOTA:
		*type = "rate_limit_error";
		*code = e->cls == APIERR_QUOTA ? "insufficient_quota" : "rate_limit_exceeded";
		return 429;
	case APIERR_TIMEOUT:
		*code = "upstream_timeout";
		return 504;
	case APIERR_BAD_REQUEST:
	case APIERR_CONTEXT_LENGTH:
	case APIERR_BLOCKED:
		*type = "invalid_request_error";
		*code = e->cls == APIERR_CONTEXT_LENGTH ? "context_length_exceeded" :
		    e->cls == APIERR_BLOCKED ? "content_filter" : "invalid_request";
		return 400;
	case APIERR_NOT_FOUND:
		*type = "invalid_request_error";
		*code = "model_not_found";
		return 404;
	default:
		return 502;
	}
}

/* Answer a turn that failed before its first token with the status it deserves. */
static void
serve_req_fail(struct serve_req *r, const struct turn *t)
{
	const char *type, *code, *msg = t->error != NULL ? t->error : "the reply failed";
	char ra[32];
	int status = serve_req_status(t, &type, &code, ra, sizeof ra);

	if (t->state == MSG_TRUNCATED)
		msg = "the provider's stream ended before the reply did";
	serve_loop_error(r->c, status, msg, type, NULL, code, ra[0] != '\0' ? ra : NULL);
	r->answered = 1;
	r->drop = 1;
}

/* Every key of the pool rests: answer 429 at once with the wait, rather than hold the
 * client, and stop the turn. */
static void
serve_req_keywait(struct serve_req *r, struct turn *t)
{
	int64_t left = t->wait_until - serve_loop_clock();
	char ra[32];

	snprintf(ra, sizeof ra, "%lld", (long long)(left > 0 ? (left + 999) / 1000 : 1));
	serve_loop_error(r->c, 429, t->wait_msg != NULL ? t->wait_msg : "every key is resting",
	    "rate_limit_error", NULL, "rate_limit_exceeded", ra);
	r->answered = 1;
	r->drop = 1;
	turn_cancel(t);
}

/* Encode the deltas gathered since the last loop turn as one event: a burst of deltas
 * costs one chunk, which the client parses as it would the provider's many. */
static void
serve_req_flush(struct serve_req *r)
{
	if (r->acc.len == 0)
		return;
	if (r->chat.api == SERVE_API_S2) {
		serve_s2_content(&r->pend, &r->ut, r->acc.data, r->acc.len);
	} else {
		serve_oai_delta(&r->pend, &(struct serve_oai){ r->id, r->created, r->model_name },
		    !r->role_sent, r->acc_reasoning, r->acc_reasoning ? &r->ur : &r->ut,
		    r->acc.data, r->acc.len);
		r->role_sent = 1;
	}
	buf_reset(&r->acc);
}

/* The turn's update: deltas become events (or wait in the body), key waits a 429. */
static void
serve_req_update(struct turn *t, unsigned what, const char *p, size_t n, void *arg)
{
	struct serve_req *r = arg;
	int reasoning = (what & TURN_REASONING) != 0;

	if (r->answered || r->done)
		return;
	if ((what & TURN_WAIT) && t->wait_key && !r->started) {
		serve_req_keywait(r, t);
		return;
	}
	if (!(what & (TURN_TEXT | TURN_REASONING)))
		return;
	if (!r->started)
		serve_req_begin(r);
	if (!r->chat.stream) {
		buf_append(reasoning ? &r->reasoning : &r->text, p, n);
		return;
	}
	if (r->chat.api == SERVE_API_S2 && reasoning)
		return;
	if (r->acc.len > 0 && r->acc_reasoning != reasoning)
		serve_req_flush(r);
	r->acc_reasoning = reasoning;
	buf_append(&r->acc, p, n);
}

/* The end of an OpenAI stream: an error event, or the finish (and usage) chunks. */
static void
serve_req_end_openai(struct serve_req *r, const struct turn *t, int failed)
{
	struct serve_oai o = { r->id, r->created, r->model_name };
	const char *type, *code;
	char ra[32];

	if (failed) {
		serve_req_status(t, &type, &code, ra, sizeof ra);
		serve_oai_error_event(&r->pend, t->state == MSG_TRUNCATED ? "the provider's stream "
		    "ended before the reply did" : t->error != NULL ? t->error : "the reply failed",
		    type, code);
		return;
	}
	if (!r->role_sent)
		serve_oai_delta(&r->pend, &o, 1, 0, NULL, "", 0);
	serve_oai_finish(&r->pend, &o, serve_finish_reason(t->finish_reason));
	if (r->chat.include_usage)
		serve_oai_usage(&r->pend, &o, &t->usage);
	serve_oai_done(&r->pend);
}

/* The turn is over: the last events, the whole reply, or the failure's status. */
static void
serve_req_complete(struct turn *t, void *arg)
{
	struct serve_req *r = arg;
	int failed = t->state == MSG_ERROR || t->state == MSG_TRUNCATED;
	struct serve_oai o = { r->id, r->created, r->model_name };
	struct buf b = BUF_INIT;

	r->done = 1;
	serve_req_flush(r);
	serve_conn_note(r->c, r->model_name, t->ttft_ms, t->usage.output_tokens);
	if (r->answered || serve_conn_gone(r->c) || t->state == MSG_CANCELLED)
		return;
	if (failed && !r->started) {
		serve_req_fail(r, t);
		return;
	}
	if (!r->started)
		serve_req_begin(r);
	if (r->chat.stream && r->chat.api == SERVE_API_S2) {
		if (failed)
			serve_s2_error(&r->pend, t->state == MSG_TRUNCATED ? "the provider's stream "
			    "ended before the reply did" : t->error != NULL ? t->error :
			    "the reply failed", 502);
		else
			serve_s2_end(&r->pend, r->sess->store != NULL ? r->sess->id : 0,
			    serve_finish_reason(t->finish_reason), &t->usage);
	} else if (r->chat.stream) {
		serve_req_end_openai(r, t, failed);
	} else if (failed) {
		serve_req_fail(r, t);
		r->drop = 0;
	} else {
		serve_oai_completion(&b, &o, r->text.data, r->text.len, r->reasoning.data,
		    r->reasoning.len, serve_finish_reason(t->finish_reason), &t->usage);
		serve_conn_reply(r->c, 200, "application/json", b.data, b.len, NULL);
		buf_free(&b);
	}
}

static const struct turn_cbs serve_req_cbs = { serve_req_update, serve_req_complete, NULL };

/* Whether another request is chatting in stored session id. */
static int
serve_loop_busy(const struct serve_loop *L, int64_t id)
{
	size_t i;

	for (i = 0; i < L->nreqs; i++)
		if (L->reqs[i]->sess != NULL && L->reqs[i]->sess->store != NULL &&
		    L->reqs[i]->sess->id == id && !L->reqs[i]->done)
			return 1;
	return 0;
}

/* Continue stored session id with the request's prompt; -1 after answering why not. */
static int
serve_req_continue(struct serve_req *r)
{
	struct serve_loop *L = r->L;
	int64_t id = r->chat.conversation;
	char msg[96];

	if (L->st == NULL) {
		serve_loop_error(r->c, 503, "the session store could not be opened", NULL, NULL,
		    NULL, NULL);
		return -1;
	}
	if (serve_loop_busy(L, id)) {
		snprintf(msg, sizeof msg, "conversation %lld is answering another request",
		    (long long)id);
		serve_loop_error(r->c, 409, msg, NULL, NULL, NULL, NULL);
		return -1;
	}
	if ((r->sess = session_load(L->st, id)) == NULL) {
		snprintf(msg, sizeof msg, "no conversation %lld", (long long)id);
		serve_loop_error(r->c, 404, msg, NULL, NULL, NULL, NULL);
		return -1;
	}
	if (!r->save)
		r->sess->store = NULL;
	r->before = r->sess->nmsgs;
	return 0;
}

/* A new in-memory session holding the request's history (stored once the turn is on its
 * way); its last message, the prompt, is appended by the caller. */
static void
serve_req_history(struct serve_req *r)
{
	const struct model *m = r->model;
	struct reply_end end = { MSG_COMPLETE, NULL, -1, NULL, NULL, -1, 0, NULL };
	size_t i, k;

	r->sess = session_new(NULL, m->provider->name, m->id);
	r->fresh = 1;
	for (i = 0; i + 1 < r->chat.nmsgs; i++) {
		const struct serve_msg *msg = &r->chat.msgs[i];

		if (msg->role == ROLE_USER) {
			session_append_user_files(r->sess, msg->content, msg->atts, msg->natts);
			continue;
		}
		k = session_reply_open(r->sess, m->provider->name, m->id, 0);
		session_reply_text_at(r->sess, k, msg->content, strlen(msg->content));
		session_reply_finish(r->sess, k, &end);
	}
}

/* The model of a request: the one it names, else a continued session's, else the
 * default. NULL after answering. */
static struct model *
serve_req_model(struct serve_req *r)
{
	struct session_row *row;
	char *spec = NULL;
	struct model *m;

	if (r->chat.model == NULL && r->chat.conversation > 0 && r->L->st != NULL &&
	    (row = store_session_get(r->L->st, r->chat.conversation)) != NULL) {
		if (row->provider != NULL && row->model != NULL)
			spec = xasprintf("%s/%s", row->provider, row->model);
		store_sessions_free(row, 1);
	}
	m = serve_loop_model(r->L, r->c, r->chat.model != NULL ? r->chat.model : spec);
	free(spec);
	return m;
}

/* Add r to the requests under way. */
static void
serve_loop_add(struct serve_loop *L, struct serve_req *r)
{
	if (L->nreqs == L->cap) {
		L->cap = L->cap ? L->cap * 2 : 16;
		L->reqs = xrealloc(L->reqs, L->cap * sizeof *L->reqs);
	}
	L->reqs[L->nreqs++] = r;
}

/* Set up the session and start the turn; -1 after answering why not. */
static int
serve_req_start(struct serve_req *r)
{
	struct serve_loop *L = r->L;
	struct turn_spec spec = { .model = r->model, .message = &r->chat.params, .column = -1 };
	const struct serve_msg *last = &r->chat.msgs[r->chat.nmsgs - 1];
	char *err = NULL;

	if (r->chat.conversation > 0 ? serve_req_continue(r) != 0 : (serve_req_history(r), 0))
		return -1;
	session_set_model(r->sess, r->model->provider->name, r->model->id);
	if (r->chat.system != NULL)
		session_set_system(r->sess, r->chat.system);
	session_append_user_files(r->sess, last->content, last->atts, last->natts);
	r->t = turn_start(&L->env, r->sess, &spec, &serve_req_cbs, r, &err);
	if (r->t == NULL) {
		serve_loop_error(r->c, 400, err != NULL ? err : "the request was refused",
		    "invalid_request_error", NULL, NULL, NULL);
		free(err);
		r->drop = 1;
		return -1;
	}
	/* The request is on its way: storing the conversation overlaps the provider. */
	if (r->fresh && r->save && L->st != NULL)
		session_attach(r->sess, L->st);
	return 0;
}

/* POST /v1/chat/completions and /api/chat/stream. */
static void
serve_loop_chat(struct serve_loop *L, struct serve_conn *c)
{
	struct serve_problems pr = { NULL, 0 };
	struct serve_req *r;
	struct resolved rs;
	enum serve_api api = c->route == ROUTE_CHAT ? SERVE_API_OPENAI : SERVE_API_S2;

	if ((long)L->nreqs >= L->cfg->serve.max_streams) {
		serve_loop_error(c, 503, "too many requests at once (serve.max_streams)",
		    "server_error", NULL, "server_busy", "1");
		serve_conn_release(c);
		return;
	}
	r = xcalloc(1, sizeof *r);
	r->L = L;
	r->c = c;
	if (serve_api_parse(api, c->body.data != NULL ? c->body.data : "", c->body.len, &r->chat,
	    &pr) != 0) {
		/* One entry per bad field: the model's limits are checked too. */
		if (api == SERVE_API_S2 && r->chat.params.set != 0 &&
		    resolve_model(L->cfg, r->chat.model, NULL, &rs) == RESOLVE_OK)
			serve_api_check(&r->chat, L->cfg, rs.model, &pr);
		serve_loop_problems(c, &pr);
		goto refused;
	}
	if ((r->model = serve_req_model(r)) == NULL)
		goto refused;
	if (serve_api_check(&r->chat, L->cfg, r->model, &pr) != 0) {
		serve_loop_problems(c, &pr);
		goto refused;
	}
	r->save = r->chat.store >= 0 ? r->chat.store : api == SERVE_API_S2 ? 1 :
	    L->cfg->serve.store_openai;
	r->model_name = r->chat.model != NULL ? xstrdup(r->chat.model) :
	    xasprintf("%s/%s", r->model->provider->name, r->model->id);
	r->created = (long long)time(NULL);
	snprintf(r->id, sizeof r->id, "chatcmpl-natter-%lu", ++L->seq);
	serve_conn_note(c, r->model_name, -1, -1);
	if (serve_req_start(r) != 0)
		goto refused;
	serve_problems_free(&pr);
	serve_loop_add(L, r);
	return;
refused:
	serve_problems_free(&pr);
	serve_req_free(r);
}

/* One request MHD's side handed over. */
static void
serve_loop_job(struct serve_loop *L, struct serve_conn *c)
{
	switch (c->route) {
	case ROUTE_MODELS:
		serve_loop_models(L, c);
		serve_loop_list_models(L);
		break;
	case ROUTE_CHAT:
	case ROUTE_S2_STREAM:
		serve_loop_chat(L, c);
		return;
	case ROUTE_S2_LIST:
		serve_conv_list(L->st, c);
		break;
	case ROUTE_S2_GET:
		serve_conv_get(L->st, c);
		break;
	case ROUTE_S2_DELETE:
		serve_conv_delete(L->st, c, serve_loop_busy(L, c->conv));
		break;
	default:
		serve_loop_error(c, 404, "not found", "invalid_request_error", NULL, NULL, NULL);
		break;
	}
	serve_conn_release(c);
}

/* Keep the models a provider's listing reported, in place of its last ones (a failed
 * listing keeps those). */
static void
serve_loop_listed(struct serve_loop *L, struct wevent *ev)
{
	const char *prov = NULL;
	size_t i, k;

	for (i = 0; i < L->nlisting; i++) {
		if (L->listing[i].id == ev->id) {
			prov = L->cfg->providers[i]->name;
			L->listing[i].id = 0;
			L->listing[i].at = serve_loop_clock();
			L->listing[i].failed = ev->error != NULL;
		}
	}
	if (prov == NULL || ev->error != NULL)
		return;
	for (i = k = 0; i < L->nlisted; i++) {
		if (strcmp(L->listed[i].provider, prov) == 0) {
			free(L->listed[i].provider);
			free(L->listed[i].id);
		} else {
			L->listed[k++] = L->listed[i];
		}
	}
	L->nlisted = k;
	for (i = 0; i < ev->models.n; i++) {
		L->listed = xrealloc(L->listed, (L->nlisted + 1) * sizeof *L->listed);
		L->listed[L->nlisted].provider = xstrdup(prov);
		L->listed[L->nlisted].id = xstrdup(ev->models.v[i].id);
		L->nlisted++;
	}
}

/* Fold every worker event into the turn it belongs to. */
static void
serve_loop_events(struct serve_loop *L)
{
	struct wevent *ev;
	size_t i;

	while ((ev = worker_next(L->env.w)) != NULL) {
		if (ev->type == WEV_MODELS)
			serve_loop_listed(L, ev);
		else if (!semantic_ix_event(L->six, ev))
			for (i = 0; i < L->nreqs; i++)
				if (turn_event(L->reqs[i]->t, ev))
					break;
		wevent_free(ev);
	}
}

/* Hand every request's encoded events over, cancel the ones whose client left, and
 * free the finished ones. */
static void
serve_loop_settle(struct serve_loop *L)
{
	size_t i = 0;

	while (i < L->nreqs) {
		struct serve_req *r = L->reqs[i];

		if (!r->done && serve_conn_gone(r->c) && !r->t->cancelled)
			turn_cancel(r->t);
		serve_req_flush(r);
		if (r->pend.len > 0) {
			serve_conn_write(r->c, r->pend.data, r->pend.len);
			buf_reset(&r->pend);
		}
		if (r->sess != NULL)
			session_reply_flush(r->sess);
		if (!r->done) {
			i++;
			continue;
		}
		L->reqs[i] = L->reqs[--L->nreqs];
		L->index_due |= r->sess != NULL && r->sess->store != NULL;
		serve_req_free(r);
	}
}

/* One poll: the worker, the hand-over, the signal and the suspended sockets. */
static int
serve_loop_poll(struct serve_loop *L, int sigfd, int timeout)
{
	size_t n = 3, k, i;
	struct pollfd *fds = xcalloc(L->nreqs + 3, sizeof *fds);
	struct serve_conn **cv = xcalloc(L->nreqs + 1, sizeof *cv), **who;
	int rc = 0;

	who = xcalloc(L->nreqs + 1, sizeof *who);
	fds[0].fd = worker_fd(L->env.w);
	fds[1].fd = serve_fd(L->srv);
	fds[2].fd = sigfd;
	fds[0].events = fds[1].events = fds[2].events = POLLIN;
	for (i = 0; i < L->nreqs; i++)
		cv[i] = L->reqs[i]->c;
	k = serve_conn_fds(cv, L->nreqs, fds + 3, who);
	rc = poll(fds, n + k, timeout);
	rc = rc == 0 ? 2 : rc < 0 && errno != EINTR ? -1 : 0;
	for (i = 0; i < k; i++)
		if (fds[3 + i].revents & (POLLRDHUP | POLLHUP | POLLERR))
			serve_conn_hangup(who[i]);
	if (fds[2].revents & POLLIN)
		rc = 1;
	free(fds);
	free(cv);
	free(who);
	return rc;
}

/* With embedding_model set, embed the messages stored from now on when idle. */
static void
serve_loop_semantic(struct serve_loop *L)
{
	const struct model *m;
	char *err = NULL;

	if (L->cfg->embedding_model == NULL || L->st == NULL)
		return;
	if ((m = semantic_model(L->cfg, &err)) == NULL) {
		fprintf(stderr, "natter serve: no semantic index: %s\n", err);
		free(err);
		return;
	}
	L->six = semantic_ix_new(m, L->st, store_vectors_top(L->st));
}

/* Answer until stopped. */
int
serve_loop_run(struct config *cfg, struct store *st, struct serve *srv, int sigfd)
{
	struct serve_loop L;
	struct serve_conn *c;
	int64_t stop_at = 0;
	size_t i;

	memset(&L, 0, sizeof L);
	L.cfg = cfg;
	L.st = st;
	L.srv = srv;
	L.env.cfg = cfg;
	L.env.w = worker_start();
	serve_loop_list_models(&L);
	serve_loop_semantic(&L);
	for (;;) {
		int timeout = stop_at ? 50 : L.index_due && L.nreqs == 0 ? SERVE_INDEX_MS : -1;
		int rc = serve_loop_poll(&L, sigfd, timeout);

		if (rc == 2 && L.index_due && L.nreqs == 0 && st != NULL) {
			/* Idle: index the replies stored meanwhile for search. */
			store_index_pending(st);
			L.index_due = 0;
			semantic_ix_kick(L.six);
		}
		if (rc == 1 && stop_at == 0) {
			/* Stop: no new requests, every turn cancelled, a little time to end. */
			serve_quiesce(srv);
			for (i = 0; i < L.nreqs; i++)
				turn_cancel(L.reqs[i]->t);
			stop_at = serve_loop_clock() + SERVE_STOP_MS;
		}
		serve_drain(srv);
		while ((c = serve_next(srv)) != NULL) {
			if (stop_at) {
				serve_loop_error(c, 503, "natter serve is stopping", "server_error", NULL,
				    NULL, "1");
				serve_conn_release(c);
			} else {
				serve_loop_job(&L, c);
			}
		}
		serve_loop_events(&L);
		serve_loop_settle(&L);
		/* Idle: the messages stored meanwhile get their vectors, a batch at a time. */
		if (L.six != NULL && L.nreqs == 0 && !stop_at)
			semantic_ix_step(L.six, L.env.w);
		if (stop_at && (L.nreqs == 0 || serve_loop_clock() > stop_at))
			break;
	}
	while (L.nreqs > 0)
		serve_req_free(L.reqs[--L.nreqs]);
	if (st != NULL)
		store_index_pending(st);
	semantic_ix_free(L.six, L.env.w);
	worker_stop(L.env.w);
	for (i = 0; i < L.nlisted; i++) {
		free(L.listed[i].provider);
		free(L.listed[i].id);
	}
	free(L.listed);
	free(L.listing);
	free(L.reqs);
	return 0;
}
