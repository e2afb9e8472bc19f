/*
 * What natter serve writes: OpenAI's chat.completion chunks and objects, OpenAI's error
 * shape, the conversation API's server-sent events and its 422 detail list. Pure encoders
 * into a struct buf; text from providers goes out as valid UTF-8 JSON strings whatever
 * bytes came (a character cut between two deltas is held for the next one, a bad sequence
 * becomes U+FFFD, every control character is escaped).
 */
#ifndef NATTER_SERVE_SSE_H
#define NATTER_SERVE_SSE_H

#include <stddef.h>
#include <stdint.h>

#include "usage.h"

struct buf;
struct serve_problems;

/* The bytes of a character cut at the end of the last delta. */
struct serve_utf8 {
	unsigned char hold[4];
	size_t n;
};

/* Append p (n bytes) as a JSON string; with u, an incomplete character at the end waits
 * in u for the next call (and one left from the last call comes first). */
void serve_json_text(struct buf *b, struct serve_utf8 *u, const char *p, size_t n);
/* Append the C string s as a JSON string, or null when s is NULL. */
void serve_json_str(struct buf *b, const char *s);

/* What every chunk of one OpenAI reply repeats. */
struct serve_oai {
	const char *id;               /* "chatcmpl-..." */
	long long created;            /* unix seconds */
	const char *model;
};

/* OpenAI's finish_reason for a provider-native one ("end_turn", "MAX_TOKENS", ...). */
const char *serve_finish_reason(const char *native);
/* One chat.completion.chunk event with a delta of content (reasoning: reasoning_content);
 * role says "assistant" too (the first chunk). */
void serve_oai_delta(struct buf *b, const struct serve_oai *o, int role, int reasoning,
    struct serve_utf8 *u, const char *p, size_t n);
/* The last choice chunk: an empty delta and the finish reason. */
void serve_oai_finish(struct buf *b, const struct serve_oai *o, const char *finish);
/* The usage chunk of stream_options.include_usage (choices empty). */
void serve_oai_usage(struct buf *b, const struct serve_oai *o, const struct usage *u);
/* data: [DONE] */
void serve_oai_done(struct buf *b);
/* A whole chat.completion object. */
void serve_oai_completion(struct buf *b, const struct serve_oai *o, const char *text,
    size_t n, const char *reasoning, size_t rn, const char *finish, const struct usage *u);
/* OpenAI's error object {"error":{message,type,param,code}}; param and code may be NULL. */
void serve_oai_error(struct buf *b, const char *message, const char *type, const char *param,
    const char *code);
/* The same as one stream event (an error after the stream began). */
void serve_oai_error_event(struct buf *b, const char *message, const char *type,
    const char *code);

/* The conversation API's events: the first ({conversation_id, model}; id 0: null), the
 * content ones ({content, finished: false}), the last ({content: "", finished: true} with
 * the finish reason and usage) and an error event. */
void serve_s2_start(struct buf *b, int64_t conversation, const char *model);
void serve_s2_content(struct buf *b, struct serve_utf8 *u, const char *p, size_t n);
void serve_s2_end(struct buf *b, int64_t conversation, const char *finish,
    const struct usage *u);
void serve_s2_error(struct buf *b, const char *message, int status);
/* {"detail": message} for the conversation API's errors. */
void serve_s2_message(struct buf *b, const char *message);
/* {"detail": [{"loc": ["body", ...], "msg": ..., "type": "value_error"}, ...]}: one entry
 * per problem (the 422 answer). */
void serve_s2_detail(struct buf *b, const struct serve_problems *pr);

#endif
