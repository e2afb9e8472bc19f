/*
 * The simulated provider: replies generated inside natter with no network and no key, so a
 * fresh install can stream something at once and the UI's streaming, reasoning, error and
 * truncation paths can be exercised offline. The reply is a pure function of the request
 * (no clock, no randomness); the worker plays its tokens back on timers at the provider's
 * rate. The adapter table entries exist so generic code never meets a NULL pointer, but the
 * worker never sends a simulated request over HTTP.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apierr.h"
#include "attach.h"
#include "config.h"
#include "http.h"
#include "proto-simulated.h"
#include "provider.h"
#include "request.h"
#include "stream.h"
#include "xmalloc.h"

#define SIM_MAX_TOKENS 1000000L
#define SIM_MENTION_WORDS 8
#define SIM_MENTION_BYTES 60

static const char sim_answer_head[] =
    "Hello from the simulated provider! This reply was made up offline by natter itself: "
    "no network, no API key and no real model were involved. You wrote: \"";
static const char sim_answer_tail[] =
    "\".\n\nThings to try here:\n\n"
    "- Add `tokens=N` to the prompt for a reply of exactly N tokens.\n"
    "- Add `think=N` to see N reasoning tokens first.\n"
    "- Add `error=rate_limit` (or `auth`, `overloaded`, `server`, `context`) to see an error.\n\n"
    "To talk to a real model, set a key such as `OPENAI_API_KEY` and choose a model with `-m`.\n";
static const char sim_reasoning[] =
    "The user is talking to the simulated provider, so there is no real model to consult. "
    "I will answer with a short, deterministic paragraph that mentions their prompt and "
    "shows a little Markdown. ";

/* Magic words parsed from the prompt. */
struct sim_opts {
	long tokens;      /* -1: the natural length */
	long think;
	const char *error;
	size_t error_len;
	int cut;
};

/* The text of the last user message, or "" when there is none. */
static const char *
simulated_prompt(const struct request *req)
{
	size_t i;

	for (i = req->nmsgs; i > 0; i--)
		if (req->msgs[i - 1].role == ROLE_USER && req->msgs[i - 1].content != NULL)
			return req->msgs[i - 1].content;
	return "";
}

/* Parse a non-negative decimal count, clamped; -1 when s is not all digits. */
static long
simulated_count(const char *s, size_t n)
{
	long v = 0;
	size_t i;

	if (n == 0)
		return -1;
	for (i = 0; i < n; i++) {
		if (!isdigit((unsigned char)s[i]))
			return -1;
		if (v < SIM_MAX_TOKENS)
			v = v * 10 + (s[i] - '0');
	}
	return v > SIM_MAX_TOKENS ? SIM_MAX_TOKENS : v;
}

/* True when the word w (n bytes) is a magic word; fills o when it is. */
static int
simulated_magic(const char *w, size_t n, struct sim_opts *o)
{
	static const struct {
		const char *key;
		size_t len;
	} keys[] = { { "tokens=", 7 }, { "think=", 6 }, { "error=", 6 }, { "fault=", 6 } };
	size_t k;
	long v;

	for (k = 0; k < sizeof(keys) / sizeof(keys[0]); k++) {
		if (n <= keys[k].len || strncmp(w, keys[k].key, keys[k].len) != 0)
			continue;
		w += keys[k].len;
		n -= keys[k].len;
		switch (k) {
		case 0:
		case 1:
			if ((v = simulated_count(w, n)) < 0)
				return 0;
			if (k == 0)
				o->tokens = v;
			else
				o->think = v;
			return 1;
		case 2:
			o->error = w;
			o->error_len = n;
			return 1;
		default:
			if (n == 3 && strncmp(w, "cut", 3) == 0)
				o->cut = 1;
			return 1;
		}
	}
	return 0;
}

/* Scan the prompt for magic words and collect the first ordinary words into mention. */
static void
simulated_scan(const char *p, struct sim_opts *o, struct buf *mention)
{
	int words = 0;
	size_t n, i;

	while (*p != '\0') {
		while (*p != '\0' && isspace((unsigned char)*p))
			p++;
		n = 0;
		while (p[n] != '\0' && !isspace((unsigned char)p[n]))
			n++;
		if (n == 0)
			break;
		if (!simulated_magic(p, n, o) && words < SIM_MENTION_WORDS &&
		    mention->len + n < SIM_MENTION_BYTES) {
			if (words++ > 0)
				buf_putc(mention, ' ');
			/* Quotes and backticks would break the Markdown around the mention. */
			for (i = 0; i < n; i++)
				buf_putc(mention, p[i] == '"' || p[i] == '`' ? '\'' : p[i]);
		}
		p += n;
	}
	if (mention->len == 0)
		buf_puts(mention, "(nothing)");
}

/* Count whitespace-separated words in s. */
static long
simulated_words(const char *s)
{
	long n = 0;
	int in = 0;

	for (; s != NULL && *s != '\0'; s++) {
		if (isspace((unsigned char)*s))
			in = 0;
		else if (!in) {
			in = 1;
			n++;
		}
	}
	return n;
}

/* Append one token (bytes [p, p+n)) to the reply. */
static void
simulated_push(struct simulated_reply *r, size_t *cap, const char *p, size_t n)
{
	if (r->ntokens == *cap) {
		*cap = *cap ? *cap * 2 : 64;
		r->ends = xrealloc(r->ends, *cap * sizeof(*r->ends));
	}
	buf_append(&r->text, p, n);
	r->ends[r->ntokens++] = r->text.len;
}

/* Append count tokens cut from src (word plus trailing blanks), cycling; count < 0 = once. */
static long
simulated_tokens(struct simulated_reply *r, size_t *cap, const char *src, long count)
{
	const char *p = src;
	long made = 0;
	size_t n;

	while (count < 0 || made < count) {
		if (*p == '\0') {
			if (count < 0 || p == src)
				break;
			p = src;
		}
		n = 0;
		while (p[n] != '\0' && isspace((unsigned char)p[n]))
			n++;
		while (p[n] != '\0' && !isspace((unsigned char)p[n]))
			n++;
		while (p[n] != '\0' && isspace((unsigned char)p[n]))
			n++;
		simulated_push(r, cap, p, n);
		p += n;
		made++;
	}
	return made;
}

/* Build the error a magic error= word asks for, or NULL when the word is unknown. */
static struct apierr *
simulated_error(const char *w, size_t n)
{
	static const struct {
		const char *name;
		enum apierr_class cls;
		int status;
		int retryable;
		const char *message;
	} errs[] = {
		{ "rate_limit", APIERR_RATE_LIMIT, 429, 1, "simulated rate limit (error=rate_limit in the prompt)" },
		{ "auth", APIERR_AUTH, 401, 0, "simulated authentication failure (error=auth in the prompt)" },
		{ "overloaded", APIERR_OVERLOADED, 529, 1, "simulated overload (error=overloaded in the prompt)" },
		{ "server", APIERR_SERVER, 500, 1, "simulated server error (error=server in the prompt)" },
		{ "context", APIERR_CONTEXT_LENGTH, 400, 0, "simulated context overflow: the prompt is too long (error=context in the prompt)" },
	};
	struct apierr *e;
	size_t i;

	for (i = 0; i < sizeof(errs) / sizeof(errs[0]); i++) {
		if (strlen(errs[i].name) != n || strncmp(errs[i].name, w, n) != 0)
			continue;
		e = apierr_new(APIERR_HTTP, errs[i].cls, errs[i].message);
		e->status = errs[i].status;
		e->retryable = errs[i].retryable;
		return e;
	}
	return NULL;
}

/* The last tool result in the request's history after its last user message, or NULL:
 * the simulated model has called and heard back. */
static const struct message *
simulated_last_result(const struct request *req)
{
	size_t i;

	for (i = req->nmsgs; i > 0 && req->msgs[i - 1].role != ROLE_USER; i--)
		if (req->msgs[i - 1].role == ROLE_TOOL)
			return &req->msgs[i - 1];
	return NULL;
}

/* How many tool rounds the history holds after its last user message. */
static size_t
simulated_rounds(const struct request *req)
{
	size_t i, n = 0;

	for (i = req->nmsgs; i > 0 && req->msgs[i - 1].role != ROLE_USER; i--)
		if (req->msgs[i - 1].role == ROLE_ASSISTANT && req->msgs[i - 1].ncalls > 0)
			n++;
	return n;
}

/* The calls a prompt asks for: every call=NAME word, with the args=JSON word after it;
 * ids are unique across the rounds (round counts from 1). */
static void
simulated_calls(const char *p, size_t round, struct toolacc *out)
{
	struct toolcall *c = NULL;
	char id[32];
	size_t n;

	while (*p != '\0') {
		while (*p == ' ' || *p == '\n' || *p == '\t')
			p++;
		n = strcspn(p, " \n\t");
		if (n > 5 && strncmp(p, "call=", 5) == 0) {
			snprintf(id, sizeof(id), "sim_call_%zu_%zu", round, out->n + 1);
			c = toolacc_add(out, -1, id, NULL);
			toolacc_name(c, p + 5, n - 5);
		} else if (n > 5 && strncmp(p, "args=", 5) == 0 && c != NULL) {
			buf_reset(&c->args);
			toolacc_args(c, p + 5, n - 5);
		}
		p += n;
	}
	toolacc_finish(out);
}

/* With tools offered: call what the prompt names, or answer with the results. Returns
 * the answer text to play instead of the usual one, or NULL for the usual one. */
static char *
simulated_tool_turn(const struct request *req, struct simulated_reply *out)
{
	const struct message *res = simulated_last_result(req);
	const char *prompt = simulated_prompt(req);
	struct buf b = BUF_INIT;
	size_t k, n;

	if (req->ntools == 0)
		return NULL;
	if (res != NULL && strstr(prompt, "loop") == NULL) {
		n = strlen(res->content);
		buf_puts(&b, "The tool said: ");
		buf_append(&b, res->content, n > 200 ? 200 : n);
		return buf_detach(&b);
	}
	simulated_calls(prompt, simulated_rounds(req) + 1, &out->calls);
	if (out->calls.n == 0)
		return NULL;
	buf_puts(&b, "Calling");
	for (k = 0; k < out->calls.n; k++)
		buf_printf(&b, "%s %s", k ? "," : "", out->calls.v[k].name);
	buf_puts(&b, ".");
	return buf_detach(&b);
}

/* Append what the last user message's files are, so an offline session shows that they
 * arrived: "Attached: a.png (image/png, 3.1 KiB), notes.txt (text/plain, 80 B)." */
static void
simulated_files(const struct request *req, struct buf *answer)
{
	const struct message *m = NULL;
	size_t i, k;

	for (i = req->nmsgs; i > 0 && m == NULL; i--)
		if (req->msgs[i - 1].role == ROLE_USER)
			m = &req->msgs[i - 1];
	if (m == NULL || m->natts == 0)
		return;
	buf_puts(answer, answer->len > 0 && answer->data[answer->len - 1] == '\n' ? "\nAttached: " :
	    " Attached: ");
	for (k = 0; k < m->natts; k++) {
		const struct attach *a = m->atts[k].a;

		buf_printf(answer, "%s%s (%s, ", k > 0 ? ", " : "", a->name, a->mime);
		attach_size_text(a->size, answer);
		buf_putc(answer, ')');
	}
	buf_putc(answer, '.');
}

/* Generate the whole reply up front; playing it back is the worker's job. */
void
simulated_reply(const struct request *req, struct simulated_reply *out)
{
	struct sim_opts o = { -1, 0, NULL, 0, 0 };
	struct buf mention = BUF_INIT, answer = BUF_INIT;
	size_t cap = 0, i;
	long nanswer;
	char *tool_text;

	memset(out, 0, sizeof(*out));
	usage_clear(&out->usage);
	simulated_scan(simulated_prompt(req), &o, &mention);
	if (o.error != NULL && (out->error = simulated_error(o.error, o.error_len)) != NULL) {
		buf_free(&mention);
		return;
	}
	if ((tool_text = simulated_tool_turn(req, out)) != NULL) {
		buf_puts(&answer, tool_text);
		free(tool_text);
		if (o.tokens < 0)
			o.tokens = (long)simulated_words(buf_str(&answer));
	} else {
		buf_puts(&answer, sim_answer_head);
		buf_append(&answer, mention.data, mention.len);
		buf_puts(&answer, sim_answer_tail);
		simulated_files(req, &answer);
	}
	buf_free(&mention);

	out->nthink = (size_t)simulated_tokens(out, &cap, sim_reasoning, o.think);
	if ((req->params.set & PARAM_MAX_TOKENS) && req->params.max_tokens > 0 &&
	    (o.tokens < 0 || o.tokens > req->params.max_tokens)) {
		/* Like a real model that hits max_tokens: the reply stops, finish says why. */
		nanswer = simulated_tokens(out, &cap, answer.data, req->params.max_tokens);
		out->finish_reason = "length";
	} else {
		nanswer = simulated_tokens(out, &cap, answer.data, o.tokens);
		out->finish_reason = out->calls.n > 0 ? "tool_calls" : "stop";
	}
	buf_free(&answer);
	out->stop_at = out->ntokens;
	if (o.cut) {
		out->stop_at = out->nthink + (size_t)nanswer / 2;
		out->truncated = 1;
		out->finish_reason = NULL;
		return;
	}
	out->usage.input_tokens = simulated_words(req->system);
	for (i = 0; i < req->nmsgs; i++)
		out->usage.input_tokens += simulated_words(req->msgs[i].content);
	out->usage.output_tokens = (long)out->ntokens;
	out->usage.reasoning_tokens = (long)out->nthink;
	out->usage.total_tokens = out->usage.input_tokens + out->usage.output_tokens;
}

/* The usage of r after its first played tokens: the prompt as planned, the output only as far
 * as it went out, so a cancelled reply never counts tokens nobody received. */
void
simulated_usage_played(const struct simulated_reply *r, size_t played, struct usage *out)
{
	*out = r->usage;
	if (!usage_present(out) || played >= r->ntokens)
		return;
	out->output_tokens = (long)played;
	out->reasoning_tokens = (long)(played < r->nthink ? played : r->nthink);
	out->total_tokens = (out->input_tokens > 0 ? out->input_tokens : 0) + out->output_tokens;
}

/* Release what simulated_reply allocated. */
void
simulated_reply_free(struct simulated_reply *r)
{
	buf_free(&r->text);
	free(r->ends);
	apierr_free(r->error);
	toolacc_free(&r->calls);
	memset(r, 0, sizeof(*r));
}

/* Pick the playback rate. First match wins: NATTER_SIM_RATE (one run's override, for every
 * simulated model), the pace the -fast and -slow models are named for, the provider's
 * tokens_per_second, else as fast as possible. */
double
simulated_rate(const struct request *req)
{
	double env = config_env_number("NATTER_SIM_RATE");

	if (env >= 0)
		return env;
	if (req->model != NULL && strcmp(req->model, "simulated-fast") == 0)
		return 0;
	if (req->model != NULL && strcmp(req->model, "simulated-slow") == 0)
		return 20;
	return req->provider != NULL && req->provider->sim_tokens_per_s > 0 ?
	    req->provider->sim_tokens_per_s : 0;
}

/* Append one model to a list. */
static void
simulated_model_add(struct model_list *out, const char *id, const char *name)
{
	struct model_info *m;

	out->v = xrealloc(out->v, (out->n + 1) * sizeof(*out->v));
	m = &out->v[out->n++];
	m->id = xstrdup(id);
	m->display_name = xstrdup(name);
	m->context_window = 32768;
	m->max_output = 0;
}

/* List the simulated models; the names say plainly that they are not real models. */
void
simulated_models(struct model_list *out)
{
	simulated_model_add(out, "simulated", "Simulated model (offline, no key)");
	simulated_model_add(out, "simulated-fast", "Simulated model, instant (offline)");
	simulated_model_add(out, "simulated-slow", "Simulated model, 20 tokens/s (offline)");
}

/* Describe the request as HTTP for tools that show requests; nothing is ever sent. */
static void
simulated_build_chat(const struct request *req, struct http_req *out)
{
	(void)req;
	http_req_init(out, "POST", "simulated:chat");
}

/* Simulated replies have no wire format, so there is never an event to decode. */
static void
simulated_on_event(struct stream *s, const char *event, const char *data, size_t len)
{
	(void)s;
	(void)event;
	(void)data;
	(void)len;
}

/* Nor is there ever a whole body to decode: the worker hands a no_stream request its
 * reply as one event itself. */
static void
simulated_parse_reply(struct stream *s, const char *body, size_t len)
{
	(void)s;
	(void)body;
	(void)len;
}

/* A simulated stream is complete exactly when its terminator was marked. */
static void
simulated_on_eof(struct stream *s)
{
	s->complete = s->terminated;
}

/* Keep an error body as the message, since nothing else could explain it. */
static void
simulated_parse_error(const char *body, size_t len, const struct http_headers *h,
    struct apierr *e)
{
	(void)h;
	if (len > 0) {
		free(e->message);
		e->message = xstrndup(body, len);
	}
}

/* Describe the model listing as HTTP; the worker answers it without a network. */
static void
simulated_build_models(const struct provider *p, const char *page, struct http_req *out)
{
	(void)p;
	(void)page;
	http_req_init(out, "GET", "simulated:models");
}

/* Whatever the body, the simulated model list is the answer. */
static int
simulated_parse_models(const char *body, size_t len, struct model_list *out, char **next)
{
	(void)body;
	(void)len;
	*next = NULL;
	simulated_models(out);
	return 0;
}

const struct proto proto_simulated = {
	.name = "simulated",
	.framing = FRAMING_NONE,
	.build_chat = simulated_build_chat,
	.on_event = simulated_on_event,
	.on_eof = simulated_on_eof,
	.parse_reply = simulated_parse_reply,
	.parse_error = simulated_parse_error,
	.build_models = simulated_build_models,
	.parse_models = simulated_parse_models,
};
