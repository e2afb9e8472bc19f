/*
 * Tool calls as a reply streams them, whatever the protocol. An adapter feeds the pieces it
 * decodes into a toolacc (one per stream); at the end of the stream, or when a protocol says
 * a call is whole, toolacc_finish checks each call and gives it out complete: an id, a
 * name and its arguments as one JSON object.
 *
 * The pieces arrive in the shapes of protocols.md §A-§D:
 *   OpenAI   delta.tool_calls[{index, id?, function:{name?, arguments?}}] in pieces:
 *            toolacc_at(acc, index, id) finds the call, then toolacc_name / toolacc_args.
 *            Servers that omit index (or repeat 0 for every call) are matched by id; a
 *            piece with neither belongs to the last call; arguments may come before the
 *            name (llama.cpp, LM Studio, vLLM all do one of these).
 *   Anthropic a tool_use block (id, name) at its block index, input_json_delta pieces,
 *            parsed when the block stops; an empty input is {}.
 *   Gemini   a functionCall part, whole (name, args object, maybe an id), with the part's
 *            thoughtSignature, which must be sent back with the call.
 *   Ollama   message.tool_calls[{function:{name, arguments:{...}}}], whole.
 * A call without an id gets one ("call_" and its position), so results can name it.
 */
#ifndef NATTER_TOOLCALL_H
#define NATTER_TOOLCALL_H

#include <stddef.h>

#include "buf.h"

struct toolcall {
	char *id;          /* the provider's id, or a made-up one */
	char *name;        /* NULL until the name arrives */
	struct buf args;   /* the arguments' JSON text as it arrived; {} when empty */
	char *signature;   /* Gemini's thoughtSignature, or NULL */
	long index;        /* the provider's index, -1 when it gave none */
	int made_id;       /* id was made up here */
	int bad_args;      /* the arguments are not one JSON object (toolacc_finish) */
};

struct toolacc {
	struct toolcall *v;
	size_t n, cap;
	size_t nfinished;  /* calls already given out by toolacc_finish */
	size_t progress;   /* grows with every piece: a stream of calls is not idle */
};

void toolacc_init(struct toolacc *a);
void toolacc_free(struct toolacc *a);
/* The call a piece belongs to (see above), created when new. index < 0: none given. */
struct toolcall *toolacc_at(struct toolacc *a, long index, const char *id);
/* A new call, whole or to be filled (Anthropic blocks, Gemini and Ollama calls). */
struct toolcall *toolacc_add(struct toolacc *a, long index, const char *id, const char *name);
void toolacc_name(struct toolcall *c, const char *name, size_t n);
void toolacc_args(struct toolcall *c, const char *p, size_t n);
void toolacc_signature(struct toolcall *c, const char *sig);
/* Check the calls not given out yet and make them whole: a made-up id where none came,
 * {} for empty arguments, the arguments re-encoded compactly when they are one JSON
 * object, else bad_args set (the text is kept for the model to see). A call with no name
 * is dropped. Returns the number of calls now finished (a->nfinished). */
size_t toolacc_finish(struct toolacc *a);
/* The arguments of c parsed, as one JSON object text "{...}" (owned by c). */
const char *toolcall_args(const struct toolcall *c);

#endif
