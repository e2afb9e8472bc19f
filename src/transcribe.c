/*
 * Speech to text (transcribe.h). A file is checked before anything is sent: it must be a
 * regular, non-empty file within the size the provider takes, and its first bytes must be
 * audio natter knows (the container's signature, whatever its name says), of a kind the
 * protocol takes; its Content-Type comes from that, and a name without the matching
 * extension gets one, since the OpenAI endpoints judge the format by the file name. The
 * OpenAI protocol's upload streams the file from disk as it goes (http.h file parts);
 * Gemini's request carries it in base64, so it is read here once. Gemini's answer is an
 * ordinary generateContent reply, decoded by the Gemini adapter like a chat's, so blocked
 * prompts and error objects read the same.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include <cJSON.h>

#include "apierr.h"
#include "buf.h"
#include "embed.h"
#include "http.h"
#include "proto.h"
#include "provider.h"
#include "stream.h"
#include "transcribe.h"
#include "worker.h"
#include "xmalloc.h"

/* The prompts of a Gemini transcription and translation. */
#define TRANSCRIBE_PROMPT "Transcribe the speech in this audio word for word, in the " \
	"language it is spoken in. Reply with the transcript only: no introduction, no " \
	"commentary, no timestamps, no speaker labels."
#define TRANSLATE_PROMPT "Translate the speech in this audio into English. Reply with the " \
	"English translation only: no introduction, no commentary, no timestamps."

static const char *const transcribe_formats[] = {
	[TRANSCRIBE_TEXT] = "text",
	[TRANSCRIBE_JSON] = "json",
	[TRANSCRIBE_SRT] = "srt",
	[TRANSCRIBE_VTT] = "vtt",
	[TRANSCRIBE_VERBOSE_JSON] = "verbose_json",
};

/* An audio kind: its canonical extension, the other names it goes by, its type, and
 * which protocols take it. */
struct transcribe_kind {
	const char *ext;
	const char *exts;          /* extensions that name it, separated by spaces */
	const char *type;          /* Content-Type on the OpenAI protocol */
	const char *gemini_type;   /* mime_type for Gemini, or NULL when Gemini refuses it */
	int openai;                /* the OpenAI protocol takes it */
};

static const struct transcribe_kind transcribe_kinds[] = {
	{ "wav", "wav wave", "audio/wav", "audio/wav", 1 },
	{ "mp3", "mp3 mpeg mpga", "audio/mpeg", "audio/mp3", 1 },
	{ "flac", "flac", "audio/flac", "audio/flac", 1 },
	{ "ogg", "ogg oga opus", "audio/ogg", "audio/ogg", 1 },
	{ "m4a", "m4a mp4", "audio/mp4", NULL, 1 },
	{ "webm", "webm", "audio/webm", NULL, 1 },
	{ "aac", "aac", "audio/aac", "audio/aac", 0 },
	{ "aiff", "aiff aif aifc", "audio/aiff", "audio/aiff", 0 },
};

/* The request of one transcription, made again for every attempt. */
struct transcribe_arg {
	char *url;
	int gemini;
	/* OpenAI protocol */
	char *model, *path, *filename, *type, *language;
	enum transcribe_format format;
	unsigned timestamps;
	/* Gemini */
	char *body;
	size_t len;
};

/* The format called name. */
int
transcribe_format_parse(const char *name, enum transcribe_format *out)
{
	size_t i;

	for (i = 0; i < sizeof(transcribe_formats) / sizeof(transcribe_formats[0]); i++)
		if (strcmp(name, transcribe_formats[i]) == 0) {
			*out = (enum transcribe_format)i;
			return 0;
		}
	return -1;
}

/* The name of a format, as response_format says it. */
const char *
transcribe_format_name(enum transcribe_format f)
{
	return transcribe_formats[f];
}

/* The audio kind of a file whose first n bytes are h, or NULL when none is known. */
static const struct transcribe_kind *
transcribe_sniff(const unsigned char *h, size_t n)
{
	const char *ext = NULL;
	size_t i;

	if (n >= 12 && memcmp(h, "RIFF", 4) == 0 && memcmp(h + 8, "WAVE", 4) == 0)
		ext = "wav";
	else if (n >= 4 && memcmp(h, "fLaC", 4) == 0)
		ext = "flac";
	else if (n >= 4 && memcmp(h, "OggS", 4) == 0)
		ext = "ogg";
	else if (n >= 3 && memcmp(h, "ID3", 3) == 0)
		ext = "mp3";
	else if (n >= 2 && h[0] == 0xff && (h[1] & 0xe0) == 0xe0)
		ext = (h[1] & 0x06) == 0 ? "aac" : "mp3";   /* ADTS has layer 0 */
	else if (n >= 8 && memcmp(h + 4, "ftyp", 4) == 0)
		ext = "m4a";
	else if (n >= 4 && memcmp(h, "\x1a\x45\xdf\xa3", 4) == 0)
		ext = "webm";
	else if (n >= 12 && memcmp(h, "FORM", 4) == 0 &&
	    (memcmp(h + 8, "AIFF", 4) == 0 || memcmp(h + 8, "AIFC", 4) == 0))
		ext = "aiff";
	for (i = 0; ext != NULL && i < sizeof(transcribe_kinds) / sizeof(transcribe_kinds[0]); i++)
		if (strcmp(transcribe_kinds[i].ext, ext) == 0)
			return &transcribe_kinds[i];
	return NULL;
}

/* True when file name path ends in one of the kind's extensions (any case). */
static int
transcribe_named(const struct transcribe_kind *k, const char *path)
{
	const char *dot = strrchr(path, '.'), *w = k->exts;
	size_t n;

	if (dot == NULL || strchr(dot, '/') != NULL)
		return 0;
	dot++;
	while (*w != '\0') {
		n = strcspn(w, " ");
		if (strlen(dot) == n && strncasecmp(dot, w, n) == 0)
			return 1;
		w += n;
		w += *w == ' ';
	}
	return 0;
}

/* The kinds protocol takes, for messages ("wav, mp3, ..."). */
static char *
transcribe_kinds_of(int gemini)
{
	struct buf b = BUF_INIT;
	size_t i;

	for (i = 0; i < sizeof(transcribe_kinds) / sizeof(transcribe_kinds[0]); i++)
		if (gemini ? transcribe_kinds[i].gemini_type != NULL : transcribe_kinds[i].openai)
			buf_printf(&b, "%s%s", b.len > 0 ? ", " : "", transcribe_kinds[i].ext);
	return buf_detach(&b);
}

/* A size in MiB for messages. */
static double
transcribe_mib(long long n)
{
	return (double)n / 1048576.0;
}

/* The audio kind of o->file, checked against what p takes; NULL with *err. */
static const struct transcribe_kind *
transcribe_file_kind(const struct provider *p, const char *file, char **err)
{
	int gemini = strcmp(p->protocol, "gemini") == 0;
	long long max = gemini ? TRANSCRIBE_MAX_GEMINI : TRANSCRIBE_MAX_OPENAI;
	const struct transcribe_kind *k;
	unsigned char head[16];
	struct stat st;
	size_t n;
	FILE *f;
	char *list;

	if (stat(file, &st) != 0) {
		*err = xasprintf("%s: %s", file, strerror(errno));
		return NULL;
	}
	if (!S_ISREG(st.st_mode)) {
		*err = xasprintf("%s: not a regular file", file);
		return NULL;
	}
	if (st.st_size == 0) {
		*err = xasprintf("%s: the file is empty", file);
		return NULL;
	}
	if (!p->local && (long long)st.st_size > max) {
		*err = xasprintf("%s: %.1f MiB, more than %s takes (%.0f MiB%s)", file,
		    transcribe_mib((long long)st.st_size), p->name, transcribe_mib(max),
		    gemini ? ": Gemini's inline audio travels in a request of at most 20 MB" : "");
		return NULL;
	}
	if ((f = fopen(file, "rb")) == NULL) {
		*err = xasprintf("%s: %s", file, strerror(errno));
		return NULL;
	}
	n = fread(head, 1, sizeof(head), f);
	fclose(f);
	list = transcribe_kinds_of(gemini);
	if ((k = transcribe_sniff(head, n)) == NULL) {
		*err = xasprintf("%s: not audio natter knows (its first bytes are no wav, mp3, "
		    "flac, ogg, m4a/mp4, webm, aac or aiff signature)", file);
	} else if (gemini ? k->gemini_type == NULL : !k->openai) {
		*err = xasprintf("%s: %s audio, which %s does not take (%s)", file, k->ext, p->name,
		    list);
		k = NULL;
	}
	free(list);
	return k;
}

/* True when a language code looks like one (ISO-639-1 "en", or "pt-BR"). */
static int
transcribe_language_ok(const char *s)
{
	size_t n = strlen(s);

	return n >= 2 && n <= 16 && strspn(s, "abcdefghijklmnopqrstuvwxyz"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ-") == n;
}

/* Check the options and the file against p. */
int
transcribe_check(const struct provider *p, const struct transcribe_opts *o, char **err)
{
	int gemini = strcmp(p->protocol, "gemini") == 0;

	*err = NULL;
	if (!gemini && strcmp(p->protocol, "openai") != 0) {
		*err = xasprintf("%s speaks the %s protocol, which cannot transcribe (openai-"
		    "compatible servers such as groq and openai can, and gemini)", p->name,
		    p->protocol);
		return -1;
	}
	if (o->language != NULL && !transcribe_language_ok(o->language)) {
		*err = xasprintf("--language %s: not a language code (ISO-639-1, such as en or "
		    "de)", o->language);
		return -1;
	}
	if (o->translate && o->language != NULL) {
		*err = xstrdup("--translate always translates into English and takes no "
		    "--language");
		return -1;
	}
	if (o->timestamps != 0 && o->translate) {
		*err = xstrdup("--timestamps is for transcriptions; a translation has none");
		return -1;
	}
	if (gemini && o->format != TRANSCRIBE_TEXT && o->format != TRANSCRIBE_JSON) {
		*err = xasprintf("%s (gemini) transcribes to text or json only, not %s", p->name,
		    transcribe_format_name(o->format));
		return -1;
	}
	if (gemini && o->timestamps != 0) {
		*err = xasprintf("%s (gemini) gives no timestamps; --timestamps needs an "
		    "openai-compatible provider", p->name);
		return -1;
	}
	if (o->timestamps != 0 && o->format != TRANSCRIBE_VERBOSE_JSON) {
		*err = xstrdup("--timestamps needs --format verbose_json");
		return -1;
	}
	return transcribe_file_kind(p, o->file, err) != NULL ? 0 : -1;
}

/* Append the base64 form of n bytes. */
static void
transcribe_base64(struct buf *b, const unsigned char *p, size_t n)
{
	static const char t[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	char q[4];
	size_t i;
	unsigned v;

	buf_reserve(b, b->len + (n + 2) / 3 * 4);
	for (i = 0; i + 2 < n; i += 3) {
		v = (unsigned)p[i] << 16 | (unsigned)p[i + 1] << 8 | p[i + 2];
		q[0] = t[v >> 18];
		q[1] = t[(v >> 12) & 63];
		q[2] = t[(v >> 6) & 63];
		q[3] = t[v & 63];
		buf_append(b, q, 4);
	}
	if (i < n) {
		v = (unsigned)p[i] << 16 | (i + 1 < n ? (unsigned)p[i + 1] << 8 : 0);
		q[0] = t[v >> 18];
		q[1] = t[(v >> 12) & 63];
		q[2] = i + 1 < n ? t[(v >> 6) & 63] : '=';
		q[3] = '=';
		buf_append(b, q, 4);
	}
}

/* Read a whole file; NULL with *err. */
static char *
transcribe_slurp(const char *path, size_t *len, char **err)
{
	struct buf b = BUF_INIT;
	char chunk[65536];
	size_t n;
	FILE *f = fopen(path, "rb");

	if (f == NULL) {
		*err = xasprintf("%s: %s", path, strerror(errno));
		return NULL;
	}
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		buf_append(&b, chunk, n);
	if (ferror(f)) {
		*err = xasprintf("%s: %s", path, strerror(errno));
		fclose(f);
		buf_free(&b);
		return NULL;
	}
	fclose(f);
	*len = b.len;
	return buf_detach(&b);
}

/* Build one attempt of a transcription request. */
static void
transcribe_build(const struct provider *p, const void *arg, struct http_req *out)
{
	const struct transcribe_arg *a = arg;
	const char *fmt = transcribe_format_name(a->format);

	http_req_init(out, "POST", a->url);
	if (a->gemini) {
		proto_common_headers(out, "application/json");
		embed_auth(p, out);
		out->body = xmalloc(a->len + 1);
		memcpy(out->body, a->body, a->len + 1);
		out->body_len = a->len;
		return;
	}
	/* libcurl writes the multipart Content-Type with its boundary. */
	embed_auth(p, out);
	http_req_field(out, "model", a->model, strlen(a->model));
	http_req_file(out, "file", a->path, a->filename, a->type);
	if (a->language != NULL)
		http_req_field(out, "language", a->language, strlen(a->language));
	http_req_field(out, "response_format", fmt, strlen(fmt));
	if (a->timestamps & TRANSCRIBE_WORDS)
		http_req_field(out, "timestamp_granularities[]", "word", 4);
	if (a->timestamps & TRANSCRIBE_SEGMENTS)
		http_req_field(out, "timestamp_granularities[]", "segment", 7);
}

/* Free a request argument. */
static void
transcribe_arg_free(void *arg)
{
	struct transcribe_arg *a = arg;

	if (a == NULL)
		return;
	free(a->url);
	free(a->model);
	free(a->path);
	free(a->filename);
	free(a->type);
	free(a->language);
	free(a->body);
	free(a);
}

/* The name the file goes by: its own, with the kind's extension added when it lacks it. */
static char *
transcribe_filename(const struct transcribe_kind *k, const char *path)
{
	const char *base = strrchr(path, '/') != NULL ? strrchr(path, '/') + 1 : path;

	return transcribe_named(k, base) ? xstrdup(base) : xasprintf("%s.%s", base, k->ext);
}

/* Gemini's request: the prompt and the audio inline. */
static int
transcribe_gemini_body(const struct transcribe_kind *k, const struct transcribe_opts *o,
    struct transcribe_arg *a, char **err)
{
	struct buf b = BUF_INIT, prompt = BUF_INIT;
	size_t n;
	char *data = transcribe_slurp(o->file, &n, err);

	if (data == NULL)
		return -1;
	buf_puts(&prompt, o->translate ? TRANSLATE_PROMPT : TRANSCRIBE_PROMPT);
	if (o->language != NULL)
		buf_printf(&prompt, " The speech is in the language with the code %s.",
		    o->language);
	buf_puts(&b, "{\"contents\":[{\"role\":\"user\",\"parts\":[{\"text\":");
	buf_json_string(&b, prompt.data, prompt.len);
	buf_puts(&b, "},{\"inline_data\":{\"mime_type\":");
	buf_json_string(&b, k->gemini_type, strlen(k->gemini_type));
	buf_puts(&b, ",\"data\":\"");
	transcribe_base64(&b, (const unsigned char *)data, n);
	buf_puts(&b, "\"}}]}],\"generationConfig\":{\"temperature\":0}}");
	free(data);
	buf_free(&prompt);
	a->len = b.len;
	a->body = buf_detach(&b);
	return 0;
}

/* The fetch of a transcription. */
struct worker_fetch *
transcribe_fetch(const struct provider *p, const char *model, const struct transcribe_opts *o,
    char **err)
{
	const struct transcribe_kind *k = transcribe_file_kind(p, o->file, err);
	struct transcribe_arg *a;
	struct worker_fetch *f;
	char *path;

	if (k == NULL)
		return NULL;
	a = xcalloc(1, sizeof(*a));
	a->gemini = strcmp(p->protocol, "gemini") == 0;
	a->format = o->format;
	a->timestamps = o->timestamps;
	if (a->gemini) {
		path = strchr(model, '/') != NULL ? xasprintf("%s:generateContent", model) :
		    xasprintf("models/%s:generateContent", model);
		a->url = http_join(p->base_url, path);
		free(path);
		if (transcribe_gemini_body(k, o, a, err) != 0) {
			transcribe_arg_free(a);
			return NULL;
		}
	} else {
		a->url = http_join(p->base_url, o->translate ? "audio/translations" :
		    "audio/transcriptions");
		a->model = xstrdup(model);
		a->path = xstrdup(o->file);
		a->filename = transcribe_filename(k, o->file);
		a->type = xstrdup(k->type);
		a->language = o->language != NULL ? xstrdup(o->language) : NULL;
	}
	f = worker_fetch_new(p);
	f->build = transcribe_build;
	f->arg = a;
	f->free_arg = transcribe_arg_free;
	return f;
}

/* The text of Gemini's reply, trimmed; 0, or -1 with *err (blocked, an error, not a
 * reply). */
static int
transcribe_gemini_text(const char *body, size_t len, struct buf *out, char **err)
{
	struct stream st;
	size_t n;
	int rc = 0;

	stream_init(&st, &proto_gemini, NULL, NULL);
	stream_set_whole(&st);
	stream_set_status(&st, 200, NULL);
	stream_feed(&st, body, len);
	stream_finish(&st);
	if (st.error != NULL) {
		*err = apierr_format(st.error);
		rc = -1;
	} else if (st.text.len == 0) {
		*err = st.finish_reason != NULL ? xasprintf("the reply holds no text (finish "
		    "reason %s)", st.finish_reason) : xstrdup("the reply holds no text");
		rc = -1;
	} else {
		n = st.text.len;
		while (n > 0 && strchr(" \t\r\n", st.text.data[n - 1]) != NULL)
			n--;
		buf_append(out, st.text.data, n);
	}
	stream_free(&st);
	return rc;
}

/* What to print of an answer. */
int
transcribe_output(const struct provider *p, const struct transcribe_opts *o,
    const char *body, size_t len, struct buf *out, char **err)
{
	struct buf text = BUF_INIT;

	*err = NULL;
	if (strcmp(p->protocol, "gemini") != 0) {
		buf_append(out, body, len);
		if (len == 0 || body[len - 1] != '\n')
			buf_putc(out, '\n');
		return 0;
	}
	if (transcribe_gemini_text(body, len, &text, err) != 0) {
		buf_free(&text);
		return -1;
	}
	if (o->format == TRANSCRIBE_JSON) {
		buf_puts(out, "{\"text\":");
		buf_json_string(out, text.data, text.len);
		buf_puts(out, "}\n");
	} else {
		buf_append(out, text.data, text.len);
		buf_putc(out, '\n');
	}
	buf_free(&text);
	return 0;
}

/* The plain text of an answer asked for as json. */
int
transcribe_text(const struct provider *p, const char *body, size_t len, struct buf *out,
    char **err)
{
	cJSON *root, *text;
	char *ex;

	*err = NULL;
	if (strcmp(p->protocol, "gemini") == 0)
		return transcribe_gemini_text(body, len, out, err);
	root = proto_json_parse_whole(body, len);
	text = cJSON_GetObjectItemCaseSensitive(root, "text");
	if (!cJSON_IsString(text)) {
		ex = proto_body_excerpt(body, len);
		*err = xasprintf("the answer is not a transcription: %s", ex);
		free(ex);
		cJSON_Delete(root);
		return -1;
	}
	buf_puts(out, text->valuestring);
	cJSON_Delete(root);
	return 0;
}
