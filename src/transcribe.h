/*
 * Speech to text: checking an audio file, the request of each protocol and the text of
 * its answer. OpenAI-compatible servers (OpenAI, Groq, local whisper servers) take a
 * multipart/form-data upload at POST /audio/transcriptions or /audio/translations
 * (fields file, model, language, response_format, timestamp_granularities[]) and answer
 * in the format asked for; Gemini has no such endpoint, so the audio goes inline
 * (inline_data, base64) to generateContent with a prompt asking for the transcript, and
 * natter shapes the reply into text or JSON itself. The worker sends the requests
 * (worker_fetch); natter transcribe and the interface's /transcribe use them.
 */
#ifndef NATTER_TRANSCRIBE_H
#define NATTER_TRANSCRIBE_H

#include <stddef.h>

struct buf;
struct provider;
struct worker_fetch;

enum transcribe_format {
	TRANSCRIBE_TEXT,
	TRANSCRIBE_JSON,
	TRANSCRIBE_SRT,
	TRANSCRIBE_VTT,
	TRANSCRIBE_VERBOSE_JSON,
};

/* --timestamps: timestamp_granularities[] (OpenAI protocol, verbose_json only). */
#define TRANSCRIBE_WORDS 0x1u
#define TRANSCRIBE_SEGMENTS 0x2u

/* The largest file sent: OpenAI and Groq take 25 MiB uploads; Gemini's inline audio
 * travels in a request of at most 20 MB, base64 making it a third larger. A local server
 * (providers.*.local) gets any size. */
#define TRANSCRIBE_MAX_OPENAI ((long long)25 << 20)
#define TRANSCRIBE_MAX_GEMINI ((long long)14 << 20)

struct transcribe_opts {
	const char *file;
	const char *language;      /* ISO-639-1 such as "en", or NULL */
	int translate;             /* into English: /audio/translations */
	enum transcribe_format format;
	unsigned timestamps;       /* TRANSCRIBE_WORDS | TRANSCRIBE_SEGMENTS */
};

/* The format called name; 0, or -1 when there is none. */
int transcribe_format_parse(const char *name, enum transcribe_format *out);
const char *transcribe_format_name(enum transcribe_format f);
/* Check o against p and the file (there, a regular file, not empty, within the size p
 * takes, audio of a kind natter knows by its first bytes): 0, or -1 with *err. */
int transcribe_check(const struct provider *p, const struct transcribe_opts *o, char **err);
/* The fetch of o->file's transcription by model id on p, once checked; NULL with *err
 * when the file cannot be read (Gemini's request holds it). */
struct worker_fetch *transcribe_fetch(const struct provider *p, const char *model,
    const struct transcribe_opts *o, char **err);
/* What to print of a 2xx answer of p in o->format, ending with a newline: the answer
 * itself on the OpenAI protocol, natter's text or {"text": ...} for Gemini. 0, or -1 with
 * *err when the answer is not a transcription. */
int transcribe_output(const struct provider *p, const struct transcribe_opts *o,
    const char *body, size_t len, struct buf *out, char **err);
/* The plain text of an answer to a request made in TRANSCRIBE_JSON (the interface's):
 * the "text" field, or Gemini's reply. 0, or -1 with *err. */
int transcribe_text(const struct provider *p, const char *body, size_t len, struct buf *out,
    char **err);

#endif
