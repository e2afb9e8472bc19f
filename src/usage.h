/*
 * Token usage reported by a provider, normalized (protocols.md §C.5): OpenAI
 * prompt/completion, Anthropic message_start input + last message_delta output, Gemini
 * prompt/candidates/thoughts/total, Ollama prompt_eval_count/eval_count. A field a provider
 * did not report is -1, so "absent" and "zero" stay different.
 */
#ifndef NATTER_USAGE_H
#define NATTER_USAGE_H

struct usage {
	long input_tokens;
	long output_tokens;
	long total_tokens;
	long reasoning_tokens;
};

#define USAGE_NONE { -1, -1, -1, -1 }

void usage_clear(struct usage *u);
int usage_present(const struct usage *u);

#endif
