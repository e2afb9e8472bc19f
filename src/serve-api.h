/*
 * The request bodies natter serve accepts, parsed and validated without touching the
 * network, the store or the config beyond the model's limits: pure functions over bytes,
 * which the fuzz target (tests/fuzz/fuzz_serve.c) drives.
 *
 *   POST /v1/chat/completions   OpenAI's chat request: model, messages (the whole history:
 *                               system and developer messages join into the system prompt,
 *                               user and assistant messages are the conversation, the last
 *                               must be the user's), stream, stream_options.include_usage,
 *                               store, and the sampling fields natter knows.
 *   POST /api/chat/stream       the conversation API: model, user_prompt, system_prompt,
 *                               hyperparameters, save_conversation, conversation_id.
 *
 * Both give one struct serve_chat, or problems: one entry per bad field, each naming the
 * field as a dotted path ("messages[2].content", "hyperparameters.top_k"). The OpenAI API
 * answers the first one as a 400; the conversation API answers all of them as a 422.
 * Tools (tools, tool messages, tool_calls) are refused for now: natter serve runs no tools.
 */
#ifndef NATTER_SERVE_API_H
#define NATTER_SERVE_API_H

#include <stddef.h>
#include <stdint.h>

#include "request.h"

struct config;
struct model;

enum serve_api { SERVE_API_OPENAI, SERVE_API_S2 };

/* One message of the history a request carries. */
struct attach;

struct serve_msg {
	enum role role;               /* ROLE_USER or ROLE_ASSISTANT */
	char *content;
	struct attach **atts;         /* a user message's image_url and file parts, decoded
	                               * from their data URLs (attach.h), in order */
	size_t natts;
};

struct serve_chat {
	enum serve_api api;
	char *model;                  /* as the client named it; NULL when absent */
	char *system;                 /* the system prompt, or NULL */
	struct serve_msg *msgs;       /* ends with a user message */
	size_t nmsgs;
	struct params params;         /* the request's own parameters */
	int stream;                   /* answer as server-sent events */
	int include_usage;            /* OpenAI: stream_options.include_usage */
	int store;                    /* -1: the server's default; else as the client asked */
	int64_t conversation;         /* S2: the session to continue, 0 for a new one */
};

/* One bad field; field is NULL for the body as a whole. */
struct serve_problem {
	char *field;
	char *msg;
};

struct serve_problems {
	struct serve_problem *v;
	size_t n;
};

/* Parse body (len bytes, untrusted) as a request of api into *out; 0, or -1 with at least
 * one problem in *pr. *out holds what did parse either way (the caller frees it), so that
 * serve_api_check can still name the parameters the model refuses. */
int serve_api_parse(enum serve_api api, const char *body, size_t len, struct serve_chat *out,
    struct serve_problems *pr);
/* Check c's parameters against model m: each one alone (a problem per bad field), then
 * layered over the config's and the model's defaults (cfg may be NULL: not layered). 0,
 * or -1 with problems added to *pr. */
int serve_api_check(const struct serve_chat *c, struct config *cfg, const struct model *m,
    struct serve_problems *pr);
void serve_chat_free(struct serve_chat *c);
/* Add a problem (field may be NULL). */
void serve_problems_add(struct serve_problems *pr, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void serve_problems_free(struct serve_problems *pr);

#endif
