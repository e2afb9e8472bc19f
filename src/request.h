/*
 * One chat request as the worker sends it: provider (an owned copy), model id, system
 * prompt, history, sampling parameters and whether the reply should stream. Adapters turn
 * it into HTTP per protocols.md §E. The whole struct is owned by whoever holds it;
 * worker_submit takes ownership.
 */
#ifndef NATTER_REQUEST_H
#define NATTER_REQUEST_H

#include <stddef.h>

struct attach;
struct buf;
struct provider;

/* ROLE_TOOL_CALL lives in sessions and the store only: one message per call the model
 * made, after the reply that made it; a request carries the calls on that reply instead
 * (struct message.calls). ROLE_TOOL is a call's result. */
enum role { ROLE_SYSTEM, ROLE_USER, ROLE_ASSISTANT, ROLE_TOOL_CALL, ROLE_TOOL };

/* A tool call the model made, as the history sends it back. */
struct msg_call {
	char *id;
	char *name;
	char *args;                /* one JSON object (or the text the model sent) */
	char *signature;           /* Gemini's thoughtSignature, or NULL */
};

/* A tool the model may call: its name, what it does, and its parameters' JSON Schema. */
struct request_tool {
	char *name;
	char *description;         /* may be "" */
	char *schema;              /* a JSON Schema object as text */
};

/* A file a user message carries (attach.h): a reference to it, and the text it goes as
 * when it is sent as text (a text file; a PDF to a protocol or model that takes none),
 * set by attach_check_request; NULL when it goes in the protocol's own form (or is
 * omitted). */
struct request_attach {
	struct attach *a;
	char *text;
	int omitted;               /* an earlier message's file this model cannot take: a
	                            * note in the text says it was there */
};

struct message {
	enum role role;
	char *content;             /* ROLE_TOOL: the result's text */
	struct msg_call *calls;    /* ROLE_ASSISTANT: the tool calls it made */
	size_t ncalls;
	char *tool_id;             /* ROLE_TOOL: the call it answers */
	char *tool_name;
	int tool_error;            /* ROLE_TOOL: the call failed or was refused */
	/* An assistant reply's signed thinking (Anthropic), sent back as a thinking block
	 * before its text when the request thinks too; both NULL when there is none. */
	char *reasoning;
	char *signature;
	struct request_attach *atts; /* ROLE_USER: its attachments, in order */
	size_t natts;
};

/* Bits of params.set: a parameter is sent only when its bit is set. */
enum param_bit {
	PARAM_TEMPERATURE = 1u << 0,
	PARAM_TOP_P = 1u << 1,
	PARAM_TOP_K = 1u << 2,
	PARAM_MAX_TOKENS = 1u << 3,
	PARAM_STOP = 1u << 4,
	PARAM_SEED = 1u << 5,
	PARAM_FREQUENCY_PENALTY = 1u << 6,
	PARAM_PRESENCE_PENALTY = 1u << 7,
	PARAM_REPETITION_PENALTY = 1u << 8,
	PARAM_REASONING_EFFORT = 1u << 9,
	PARAM_REASONING_BUDGET = 1u << 10,
};

#define PARAM_MAX_STOP 4

struct params {
	unsigned set;
	double temperature;
	double top_p;
	long top_k;
	long max_tokens;
	char *stop[PARAM_MAX_STOP];
	int nstop;
	long seed;
	double frequency_penalty;
	double presence_penalty;
	double repetition_penalty;
	char *reasoning_effort;   /* "low", "medium", "high" */
	long reasoning_budget;    /* tokens (Anthropic thinking, Gemini thinkingBudget) */
};

/* The body field that carries max_tokens on the OpenAI protocol. OpenAI's reasoning models
 * (o1, o3, o4, gpt-5, ...) refuse the old max_tokens and want max_completion_tokens, which
 * many compatible servers do not know; models.*.max_tokens_field overrides the choice. */
enum max_tokens_field {
	MAX_TOKENS_FIELD_AUTO,        /* by the model family (proto-openai.c) */
	MAX_TOKENS_FIELD_MAX_TOKENS,  /* "max_tokens" */
	MAX_TOKENS_FIELD_COMPLETION,  /* "max_completion_tokens" */
};

struct request {
	struct provider *provider; /* owned copy */
	char *model;
	char *system;              /* NULL when none */
	struct message *msgs;
	size_t nmsgs;
	struct params params;
	/* Ask for the whole reply as one JSON body instead of a stream (OpenAI and Anthropic
	 * "stream": false, Gemini :generateContent, Ollama "stream": false). The worker then
	 * reads the body whole, within the provider's max_line, and decodes it with the
	 * adapter's parse_reply into the same events a stream gives, all at once at the end.
	 * The simulated provider delivers its reply as one event. 0 (the default): stream. */
	int no_stream;
	/* OpenAI protocol: which field max_tokens goes in (the model's max_tokens_field). */
	enum max_tokens_field max_tokens_field;
	/* The tools the model may call (sent in each protocol's shape), none when 0. */
	struct request_tool *tools;
	size_t ntools;
};

struct request *request_new(const struct provider *p, const char *model);
void request_free(struct request *r);
struct request *request_dup(const struct request *r);
void request_set_system(struct request *r, const char *system);
void request_add(struct request *r, enum role role, const char *content);
/* Add a tool call to the last message (an assistant reply); strings are copied. */
void request_add_call(struct request *r, const char *id, const char *name, const char *args,
    const char *signature);
/* Append a tool result answering call id (name: the tool's). */
void request_add_result(struct request *r, const char *id, const char *name,
    const char *content, int is_error);
/* Declare a tool the model may call; strings are copied. */
void request_add_tool(struct request *r, const char *name, const char *description,
    const char *schema);
/* Add attachment a (one more reference) to the last message. */
void request_add_attach(struct request *r, struct attach *a);
/* Give the last message its signed thinking (copies of reasoning and signature). */
void request_set_thinking(struct request *r, const char *reasoning, const char *signature);
const char *request_role_name(enum role role);
/* Append the system prompt and any system messages of the history, joined by blank lines,
 * for protocols that have no system role (Anthropic, Gemini). */
void request_join_system(const struct request *r, struct buf *out);
void params_free(struct params *p);
void params_copy(struct params *dst, const struct params *src);

#endif
