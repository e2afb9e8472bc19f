/*
 * The fake server's audio and embeddings endpoints: OpenAI's (and Groq's) multipart
 * POST …/audio/transcriptions and …/audio/translations, OpenAI's POST …/embeddings,
 * Gemini's …/models/{model}:batchEmbedContents and generateContent carrying inline audio,
 * and Ollama's POST …/api/embed. Each checks the request as the real API does (the form's
 * fields and file part, the response format and timestamp granularities, batch sizes,
 * the model of every Gemini request) and answers 400 with the protocol's error body
 * naming what is wrong. Magic words (fs-proto.c) steer them as they steer chats: in the
 * audio file's bytes (a test writes them after a WAV header) and in the texts to embed,
 * so status=, fail_times= and retry_after= work here too.
 *
 * Answers are deterministic. A transcript names the file, its size, type and the first
 * 12 hex digits of its SHA-256, so a test sees the file arrive intact. A vector has
 * `dimensions` numbers (8 by default): the first is N when the text holds the word n=N,
 * else the text's length in bytes; the others are fixed pseudo-random values of the text
 * in [-1, 1], so the same text always gets the same vector.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cJSON.h>

#include "fakeserver.h"
#include "sha256.h"
#include "xmalloc.h"

#define FS_DIMS 8
#define FS_MAX_DIMS 4096
#define FS_OPENAI_BATCH 2048
#define FS_GEMINI_BATCH 100

/* The next request number, for ids. */
static unsigned long
fs_media_seq(struct fs_server *srv)
{
	unsigned long s;

	pthread_mutex_lock(&srv->lock);
	s = ++srv->seq;
	pthread_mutex_unlock(&srv->lock);
	return s;
}

/* The first 12 hex digits of the SHA-256 of n bytes (full: 64). */
static void
fs_media_sha(const void *p, size_t n, char out[65])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char d[SHA256_LEN];
	struct sha256 s;
	int i;

	sha256_init(&s);
	sha256_update(&s, p, n);
	sha256_final(&s, d);
	for (i = 0; i < SHA256_LEN; i++) {
		out[2 * i] = hex[d[i] >> 4];
		out[2 * i + 1] = hex[d[i] & 15];
	}
	out[64] = '\0';
}

/* Printable text of n bytes (control bytes and NULs as spaces), for the magic words. */
static void
fs_media_words(const char *p, size_t n, struct buf *out)
{
	size_t i;

	for (i = 0; i < n; i++)
		buf_putc(out, (unsigned char)p[i] < 0x20 || p[i] == 0x7f ? ' ' : p[i]);
}

/* Decode strict base64 into out; false when it is not base64. */
static bool
fs_media_base64(const char *s, size_t n, struct buf *out)
{
	unsigned v = 0;
	int bits = 0, pad = 0;
	size_t i;

	if (n % 4 != 0)
		return false;
	for (i = 0; i < n; i++) {
		char c = s[i];
		int d;

		if (c == '=') {
			if (i + 2 < n)
				return false;
			pad++;
			continue;
		}
		if (pad > 0)
			return false;
		if (c >= 'A' && c <= 'Z')
			d = c - 'A';
		else if (c >= 'a' && c <= 'z')
			d = c - 'a' + 26;
		else if (c >= '0' && c <= '9')
			d = c - '0' + 52;
		else if (c == '+')
			d = 62;
		else if (c == '/')
			d = 63;
		else
			return false;
		v = (v << 6) | (unsigned)d;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			buf_putc(out, (char)((v >> bits) & 0xff));
		}
	}
	return true;
}

/* A chat-shaped request for the shared error replies: protocol, model and magic words. */
static void
fs_media_chat(struct fs_conn *c, struct fs_chat *chat, enum fs_proto proto,
    const char *model, const char *words)
{
	memset(chat, 0, sizeof(*chat));
	chat->proto = proto;
	chat->model = xstrdup(model != NULL && model[0] != '\0' ? model : "fake-model");
	chat->seq = fs_media_seq(c->srv);
	fs_magic_parse(words != NULL ? words : "", chat->model, &chat->m);
}

/* Free what fs_media_chat made. */
static void
fs_media_chat_free(struct fs_chat *chat)
{
	free(chat->model);
	buf_free(&chat->tools.error);
}

/* Answer the protocol's 400 with message msg. */
static void
fs_media_bad(struct fs_conn *c, struct fs_chat *chat, const char *msg)
{
	buf_reset(&chat->tools.error);
	buf_puts(&chat->tools.error, msg);
	fs_reply_error(c, chat, 400);
}

/* The checks every endpoint makes first: auth, the rate-limited key, fail_times and
 * status=, after header_delay_ms. True when an answer went out (or the client is gone). */
static bool
fs_media_refused(struct fs_conn *c, const struct fs_request *req, struct fs_chat *chat)
{
	bool missing;
	int status = 0;

	if (chat->m.header_delay_ms > 0 && !fs_sleep_ms(c->srv, chat->m.header_delay_ms)) {
		c->dead = true;
		return true;
	}
	if (!fs_auth_ok(c->srv, req, chat->proto, &missing)) {
		fs_reply_auth(c, chat->proto, missing);
		return true;
	}
	if (fs_key_limited(c->srv, req, chat->proto)) {
		fs_reply_error(c, chat, 429);
		return true;
	}
	if (chat->m.fail_times >= 0) {
		if (fs_should_fail(c->srv, &chat->m))
			status = chat->m.status > 0 ? chat->m.status : 503;
	} else if (chat->m.status > 0) {
		status = chat->m.status;
	}
	if (status > 0) {
		fs_reply_error(c, chat, status);
		return true;
	}
	return false;
}

/* ---- Transcriptions -------------------------------------------------------------------- */

/* The transcript of an upload: its name, size, type and digest. */
static void
fs_media_transcript(struct buf *out, const char *name, size_t size, const char *type,
    const char *language, bool translate, const char *sha)
{
	buf_printf(out, "fakeserver heard %s: %zu bytes of %s, sha256 %.12s", name, size,
	    type != NULL ? type : "audio", sha);
	if (language != NULL)
		buf_printf(out, ", spoken in %s", language);
	if (translate)
		buf_puts(out, ", translated into English");
	buf_putc(out, '.');
}

/* A time for srt (comma) or vtt (dot): seconds as HH:MM:SS,mmm. */
static void
fs_media_time(struct buf *b, long ms, char sep)
{
	buf_printf(b, "%02ld:%02ld:%02ld%c%03ld", ms / 3600000, ms / 60000 % 60, ms / 1000 % 60,
	    sep, ms % 1000);
}

/* Split text in two halves at a space, for the two segments of every answer. */
static size_t
fs_media_half(const char *t)
{
	size_t n = strlen(t), h = n / 2;

	while (h < n && t[h] != ' ')
		h++;
	return h;
}

/* Write the transcript in response_format fmt; the Content-Type goes to *ctype. */
static void
fs_media_format(struct buf *b, const char *fmt, const char *text, bool translate,
    const char *language, unsigned gran, const char **ctype)
{
	size_t h = fs_media_half(text), i, w = 0;
	const char *p;

	*ctype = "text/plain; charset=utf-8";
	if (strcmp(fmt, "text") == 0) {
		buf_printf(b, "%s\n", text);
	} else if (strcmp(fmt, "srt") == 0 || strcmp(fmt, "vtt") == 0) {
		bool vtt = fmt[0] == 'v';

		if (vtt)
			buf_puts(b, "WEBVTT\n\n");
		for (i = 0; i < 2; i++) {
			if (!vtt)
				buf_printf(b, "%zu\n", i + 1);
			fs_media_time(b, (long)i * 1500, vtt ? '.' : ',');
			buf_puts(b, " --> ");
			fs_media_time(b, (long)(i + 1) * 1500, vtt ? '.' : ',');
			buf_putc(b, '\n');
			if (i == 0)
				buf_append(b, text, h);
			else
				buf_puts(b, text[h] == ' ' ? text + h + 1 : text + h);
			buf_puts(b, "\n\n");
		}
	} else if (strcmp(fmt, "json") == 0) {
		*ctype = "application/json";
		buf_puts(b, "{\"text\":");
		buf_json_string(b, text, strlen(text));
		buf_putc(b, '}');
	} else {
		*ctype = "application/json";
		buf_printf(b, "{\"task\":\"%s\",\"language\":", translate ? "translate" : "transcribe");
		buf_json_string(b, language != NULL ? language : "english",
		    strlen(language != NULL ? language : "english"));
		buf_puts(b, ",\"duration\":3.0,\"text\":");
		buf_json_string(b, text, strlen(text));
		if (gran == 0 || (gran & 2)) {
			buf_puts(b, ",\"segments\":[{\"id\":0,\"seek\":0,\"start\":0.0,\"end\":1.5,\"text\":");
			buf_json_string(b, text, h);
			buf_puts(b, "},{\"id\":1,\"seek\":0,\"start\":1.5,\"end\":3.0,\"text\":");
			p = text[h] == ' ' ? text + h + 1 : text + h;
			buf_json_string(b, p, strlen(p));
			buf_puts(b, "}]");
		}
		if (gran & 1) {
			buf_puts(b, ",\"words\":[");
			for (p = text; *p != '\0'; w++) {
				size_t n = strcspn(p, " ");

				buf_printf(b, "%s{\"word\":", w > 0 ? "," : "");
				buf_json_string(b, p, n);
				buf_printf(b, ",\"start\":%.2f,\"end\":%.2f}", (double)w * 0.25,
				    (double)w * 0.25 + 0.25);
				p += n;
				p += *p == ' ';
			}
			buf_putc(b, ']');
		}
		buf_putc(b, '}');
	}
}

/* The value of text field name as a C string (at most cap bytes), or NULL. */
static const char *
fs_media_field(const struct fs_form *f, const char *name, char *tmp, size_t cap)
{
	const struct fs_part *p = fs_form_get(f, name);

	if (p == NULL || p->filename != NULL || p->len >= cap || memchr(p->data, '\0', p->len))
		return NULL;
	memcpy(tmp, p->data, p->len);
	tmp[p->len] = '\0';
	return tmp;
}

/* Check the fields of an audio form; NULL when they are fine, else the message. */
static const char *
fs_media_check_form(const struct fs_form *f, bool translate, const char *fmt, unsigned *gran)
{
	const struct fs_part *file = fs_form_get(f, "file");
	size_t i;

	if (file == NULL || fs_form_count(f, "file") != 1)
		return "fakeserver: the form needs exactly one 'file' part";
	if (file->filename == NULL || file->filename[0] == '\0')
		return "fakeserver: the file part has no filename";
	if (file->len == 0)
		return "fakeserver: the file part is empty";
	if (fs_form_get(f, "model") == NULL || fs_form_count(f, "model") != 1)
		return "you must provide a model parameter";
	if (strcmp(fmt, "json") != 0 && strcmp(fmt, "text") != 0 && strcmp(fmt, "srt") != 0 &&
	    strcmp(fmt, "vtt") != 0 && strcmp(fmt, "verbose_json") != 0)
		return "fakeserver: response_format must be json, text, srt, verbose_json or vtt";
	if (translate && fs_form_get(f, "language") != NULL)
		return "fakeserver: translations take no language";
	if (translate && fs_form_get(f, "timestamp_granularities[]") != NULL)
		return "fakeserver: translations take no timestamp_granularities[]";
	for (i = 0; i < f->n; i++) {
		const struct fs_part *p = &f->v[i];

		if (strcmp(p->name, "timestamp_granularities[]") != 0)
			continue;
		if (p->len == 4 && memcmp(p->data, "word", 4) == 0)
			*gran |= 1;
		else if (p->len == 7 && memcmp(p->data, "segment", 7) == 0)
			*gran |= 2;
		else
			return "fakeserver: timestamp_granularities[] takes word or segment";
	}
	if (*gran != 0 && strcmp(fmt, "verbose_json") != 0)
		return "timestamp_granularities requires response_format=verbose_json";
	return NULL;
}

/* POST …/audio/transcriptions and …/audio/translations. */
static void
fs_media_audio(struct fs_conn *c, const struct fs_request *req, bool translate)
{
	struct fs_form form = { NULL, 0 };
	struct buf boundary = BUF_INIT, err = BUF_INIT, words = BUF_INIT, text = BUF_INIT;
	struct buf out = BUF_INIT, hdrs = BUF_INIT;
	struct fs_chat chat;
	const struct fs_part *file;
	char model[256], fmtv[64], lang[64], sha[65];
	const char *m = NULL, *fmt = "json", *language = NULL, *msg = NULL, *ctype;
	unsigned gran = 0;
	bool parsed;

	parsed = fs_multipart_boundary(fs_header_get(req, "content-type"), &boundary) &&
	    fs_multipart_parse(buf_str(&boundary), req->body.data, req->body.len, &form, &err);
	if (parsed) {
		m = fs_media_field(&form, "model", model, sizeof(model));
		if ((file = fs_form_get(&form, "file")) != NULL)
			fs_media_words(file->data, file->len, &words);
		if (fs_form_get(&form, "response_format") != NULL &&
		    (fmt = fs_media_field(&form, "response_format", fmtv, sizeof(fmtv))) == NULL)
			fmt = "";
		language = fs_media_field(&form, "language", lang, sizeof(lang));
	}
	fs_media_chat(c, &chat, FS_OPENAI, m, buf_str(&words));
	if (fs_media_refused(c, req, &chat))
		goto out;
	if (!parsed) {
		buf_reset(&words);
		buf_printf(&words, "fakeserver: the body is not multipart/form-data: %s",
		    boundary.len == 0 ? "no multipart/form-data Content-Type with a boundary" :
		    buf_str(&err));
		fs_media_bad(c, &chat, buf_str(&words));
		goto out;
	}
	if ((msg = fs_media_check_form(&form, translate, fmt, &gran)) != NULL) {
		fs_media_bad(c, &chat, msg);
		goto out;
	}
	file = fs_form_get(&form, "file");
	fs_media_sha(file->data, file->len, sha);
	fs_media_transcript(&text, file->filename, file->len, file->type, language, translate,
	    sha);
	fs_media_format(&out, fmt, buf_str(&text), translate, language, gran, &ctype);
	buf_printf(&hdrs, "x-request-id: req_fake%06lu\r\n", chat.seq);
	fs_send_body(c, 200, ctype, &hdrs, out.data, out.len);
out:
	fs_media_chat_free(&chat);
	fs_form_free(&form);
	buf_free(&boundary);
	buf_free(&err);
	buf_free(&words);
	buf_free(&text);
	buf_free(&out);
	buf_free(&hdrs);
}

/* ---- Gemini transcription (generateContent with inline audio) -------------------------- */

/* The inline data part of a Gemini request (inline_data or inlineData), or NULL; *where
 * gets its position for messages. */
static const cJSON *
fs_media_inline(const cJSON *root, struct buf *prompt, int *ci, int *pi)
{
	const cJSON *contents = cJSON_GetObjectItemCaseSensitive(root, "contents"), *c, *p;
	const cJSON *found = NULL, *text, *d;
	int i = 0, k;

	cJSON_ArrayForEach(c, contents) {
		k = 0;
		cJSON_ArrayForEach(p, cJSON_GetObjectItemCaseSensitive(c, "parts")) {
			text = cJSON_GetObjectItemCaseSensitive(p, "text");
			if (cJSON_IsString(text)) {
				buf_puts(prompt, text->valuestring);
				buf_putc(prompt, ' ');
			}
			d = cJSON_GetObjectItemCaseSensitive(p, "inline_data");
			if (d == NULL)
				d = cJSON_GetObjectItemCaseSensitive(p, "inlineData");
			if (d != NULL && found == NULL) {
				found = d;
				*ci = i;
				*pi = k;
			}
			k++;
		}
		i++;
	}
	return found;
}

/* The language code natter's prompt names ("... with the code de."), or NULL. */
static const char *
fs_media_prompt_language(const char *prompt, char *tmp, size_t cap)
{
	const char *p = strstr(prompt, "with the code ");
	size_t n;

	if (p == NULL)
		return NULL;
	p += 14;
	n = strcspn(p, " .");
	if (n == 0 || n >= cap)
		return NULL;
	memcpy(tmp, p, n);
	tmp[n] = '\0';
	return tmp;
}

/* POST …/models/{model}:generateContent with inline audio; false when the request has
 * none (it is then a chat). */
static bool
fs_media_gemini_audio(struct fs_conn *c, const struct fs_request *req)
{
	cJSON *root = cJSON_ParseWithLength(req->body.data, req->body.len);
	const cJSON *d, *mime, *data;
	struct buf prompt = BUF_INIT, audio = BUF_INIT, words = BUF_INIT, text = BUF_INIT;
	struct buf out = BUF_INIT, msg = BUF_INIT;
	struct fs_chat chat;
	const char *m = strstr(req->path, "/models/") + 8, *type, *language;
	char *model = xstrndup(m, strcspn(m, ":")), sha[65], lang[32];
	int ci = 0, pi = 0;
	bool ok;

	if (root == NULL || (d = fs_media_inline(root, &prompt, &ci, &pi)) == NULL) {
		cJSON_Delete(root);
		buf_free(&prompt);
		free(model);
		return false;
	}
	mime = cJSON_GetObjectItemCaseSensitive(d, "mime_type");
	if (mime == NULL)
		mime = cJSON_GetObjectItemCaseSensitive(d, "mimeType");
	data = cJSON_GetObjectItemCaseSensitive(d, "data");
	type = cJSON_IsString(mime) ? mime->valuestring : "";
	ok = cJSON_IsString(data) && fs_media_base64(data->valuestring, strlen(data->valuestring),
	    &audio);
	fs_media_words(audio.data != NULL ? audio.data : "", audio.len, &words);
	buf_putc(&words, ' ');
	buf_puts(&words, buf_str(&prompt));
	fs_media_chat(c, &chat, FS_GEMINI, model, buf_str(&words));
	if (fs_media_refused(c, req, &chat))
		goto out;
	if (!ok || audio.len == 0) {
		buf_printf(&msg, "Invalid value at 'contents[%d].parts[%d].inline_data.data' "
		    "(TYPE_BYTES), Base64 decoding failed", ci, pi);
		fs_media_bad(c, &chat, buf_str(&msg));
		goto out;
	}
	if (strncmp(type, "audio/", 6) != 0) {
		fs_media_bad(c, &chat, "fakeserver: the inline data is not audio (mime_type)");
		goto out;
	}
	language = fs_media_prompt_language(buf_str(&prompt), lang, sizeof(lang));
	fs_media_sha(audio.data, audio.len, sha);
	fs_media_transcript(&text, "inline audio", audio.len, type, language,
	    strstr(buf_str(&prompt), "Translate") != NULL, sha);
	buf_puts(&out, "{\"candidates\":[{\"content\":{\"parts\":[{\"text\":");
	buf_json_string(&out, text.data, text.len);
	buf_printf(&out, "}],\"role\":\"model\"},\"finishReason\":\"STOP\",\"index\":0}],"
	    "\"usageMetadata\":{\"promptTokenCount\":%zu,\"candidatesTokenCount\":12,"
	    "\"totalTokenCount\":%zu},\"modelVersion\":", audio.len / 32 + 10,
	    audio.len / 32 + 22);
	buf_json_string(&out, model, strlen(model));
	buf_printf(&out, ",\"responseId\":\"fake%06lu\"}", chat.seq);
	fs_reply_json(c, &chat, 200, NULL, &out);
out:
	fs_media_chat_free(&chat);
	cJSON_Delete(root);
	free(model);
	buf_free(&prompt);
	buf_free(&audio);
	buf_free(&words);
	buf_free(&text);
	buf_free(&out);
	buf_free(&msg);
	return true;
}

/* ---- Embeddings ------------------------------------------------------------------------ */

/* The vector of one text, dims numbers. */
static void
fs_media_vector(struct buf *b, const char *t, long dims)
{
	const char *w = t;
	unsigned long long h = 1469598103934665603ull, x;
	long first = -1, k;

	for (; (w = strstr(w, "n=")) != NULL; w += 2)
		if (w == t || w[-1] == ' ') {
			first = strtol(w + 2, NULL, 10);
			break;
		}
	for (w = t; *w != '\0'; w++)
		h = (h ^ (unsigned char)*w) * 1099511628211ull;
	buf_printf(b, "[%ld", first >= 0 ? first : (long)strlen(t));
	/* Written by hand: a benchmark asks for millions of these a second. */
	buf_reserve(b, b->len + (size_t)dims * 10 + 2);
	for (k = 1; k < dims; k++) {
		char num[12];
		int j = 0, d;
		long q;

		x = h + (unsigned long long)k * 0x9e3779b97f4a7c15ull;
		x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
		x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
		x ^= x >> 31;
		q = (long)(x % 2000001ull) - 1000000;   /* millionths, in [-1, 1] */
		num[j++] = ',';
		if (q < 0) {
			num[j++] = '-';
			q = -q;
		}
		num[j++] = (char)('0' + q / 1000000);
		num[j++] = '.';
		for (d = 100000, q %= 1000000; d > 0; d /= 10)
			num[j++] = (char)('0' + q / d % 10);
		buf_append(b, num, (size_t)j);
	}
	buf_putc(b, ']');
}

/* Words of every text joined, for the magic words and the token count. */
static long
fs_media_join(const char *const *texts, size_t n, struct buf *words)
{
	long count = 0;
	size_t i;
	const char *p;

	for (i = 0; i < n; i++) {
		buf_puts(words, texts[i]);
		buf_putc(words, ' ');
		for (p = texts[i]; *p != '\0';) {
			p += strspn(p, " \t\r\n");
			if (*p != '\0')
				count++;
			p += strcspn(p, " \t\r\n");
		}
	}
	return count;
}

/* The texts of an OpenAI or Ollama "input" (a string or an array of strings); NULL when it
 * is neither or holds an empty string. */
static const char **
fs_media_inputs(const cJSON *input, size_t *n)
{
	const char **v;
	const cJSON *x;
	size_t k = 0;

	*n = 0;
	if (cJSON_IsString(input)) {
		if (input->valuestring[0] == '\0')
			return NULL;
		v = xcalloc(1, sizeof(*v));
		v[0] = input->valuestring;
		*n = 1;
		return v;
	}
	if (!cJSON_IsArray(input) || cJSON_GetArraySize(input) == 0)
		return NULL;
	v = xcalloc((size_t)cJSON_GetArraySize(input), sizeof(*v));
	cJSON_ArrayForEach(x, input) {
		if (!cJSON_IsString(x) || x->valuestring[0] == '\0') {
			free(v);
			return NULL;
		}
		v[k++] = x->valuestring;
	}
	*n = k;
	return v;
}

/* A dimensions field: absent (dflt), or an integer within limits; -1 when wrong. */
static long
fs_media_dims(const cJSON *d, long dflt)
{
	if (d == NULL)
		return dflt;
	if (!cJSON_IsNumber(d) || d->valuedouble < 1 || d->valuedouble > FS_MAX_DIMS ||
	    d->valuedouble != (double)(long)d->valuedouble)
		return -1;
	return (long)d->valuedouble;
}

/* POST …/embeddings (OpenAI) and …/api/embed (Ollama). */
static void
fs_media_embed(struct fs_conn *c, const struct fs_request *req, enum fs_proto proto)
{
	cJSON *root = cJSON_ParseWithLength(req->body.data, req->body.len);
	const cJSON *model = cJSON_GetObjectItemCaseSensitive(root, "model");
	const cJSON *fmt = cJSON_GetObjectItemCaseSensitive(root, "encoding_format");
	struct buf words = BUF_INIT, out = BUF_INIT;
	struct fs_chat chat;
	const char **texts = NULL, *mname = cJSON_IsString(model) ? model->valuestring : NULL;
	size_t n = 0, i, k;
	long dims, count;
	bool reverse;

	texts = fs_media_inputs(cJSON_GetObjectItemCaseSensitive(root, "input"), &n);
	count = fs_media_join(texts, n, &words);
	fs_media_chat(c, &chat, proto, mname, buf_str(&words));
	reverse = strstr(buf_str(&words), "order=reverse") != NULL && proto == FS_OPENAI;
	dims = fs_media_dims(cJSON_GetObjectItemCaseSensitive(root, "dimensions"), FS_DIMS);
	if (fs_media_refused(c, req, &chat))
		goto out;
	if (root == NULL)
		fs_media_bad(c, &chat, "We could not parse the JSON body of your request.");
	else if (mname == NULL)
		fs_media_bad(c, &chat, proto == FS_OLLAMA ? "model is required" :
		    "you must provide a model parameter");
	else if (texts == NULL)
		fs_media_bad(c, &chat, "'$.input' is invalid: a non-empty string or an array of "
		    "non-empty strings");
	else if (proto == FS_OPENAI && n > FS_OPENAI_BATCH)
		fs_media_bad(c, &chat, "'$.input' is invalid: an array of at most 2048 strings");
	else if (dims < 0)
		fs_media_bad(c, &chat, "fakeserver: dimensions must be an integer from 1 to 4096");
	else if (fmt != NULL && !(cJSON_IsString(fmt) && strcmp(fmt->valuestring, "float") == 0))
		fs_media_bad(c, &chat, "fakeserver: only encoding_format float is served");
	else {
		if (proto == FS_OPENAI)
			buf_puts(&out, "{\"object\":\"list\",\"data\":[");
		else
			buf_puts(&out, "{\"model\":\"\",\"embeddings\":[");
		for (k = 0; k < n; k++) {
			i = reverse ? n - 1 - k : k;
			if (k > 0)
				buf_putc(&out, ',');
			if (proto == FS_OPENAI)
				buf_printf(&out, "{\"object\":\"embedding\",\"index\":%zu,\"embedding\":",
				    i);
			fs_media_vector(&out, texts[i], dims);
			if (proto == FS_OPENAI)
				buf_putc(&out, '}');
		}
		if (proto == FS_OPENAI) {
			buf_puts(&out, "],\"model\":");
			buf_json_string(&out, mname, strlen(mname));
			buf_printf(&out, ",\"usage\":{\"prompt_tokens\":%ld,\"total_tokens\":%ld}}",
			    count, count);
		} else {
			buf_printf(&out, "],\"total_duration\":14143917,\"load_duration\":1019500,"
			    "\"prompt_eval_count\":%ld}", count);
		}
		fs_reply_json(c, &chat, 200, NULL, &out);
	}
out:
	free(texts);
	fs_media_chat_free(&chat);
	cJSON_Delete(root);
	buf_free(&words);
	buf_free(&out);
}

/* The text of one Gemini embed request, its parts joined; NULL when it has none. */
static char *
fs_media_gemini_text(const cJSON *r)
{
	const cJSON *parts = cJSON_GetObjectItemCaseSensitive(
	    cJSON_GetObjectItemCaseSensitive(r, "content"), "parts"), *p, *t;
	struct buf b = BUF_INIT;

	cJSON_ArrayForEach(p, parts) {
		t = cJSON_GetObjectItemCaseSensitive(p, "text");
		if (cJSON_IsString(t))
			buf_puts(&b, t->valuestring);
	}
	if (b.len == 0) {
		buf_free(&b);
		return NULL;
	}
	return buf_detach(&b);
}

/* POST …/models/{model}:batchEmbedContents. */
static void
fs_media_gemini_embed(struct fs_conn *c, const struct fs_request *req)
{
	cJSON *root = cJSON_ParseWithLength(req->body.data, req->body.len);
	const cJSON *reqs = cJSON_GetObjectItemCaseSensitive(root, "requests"), *r, *rm;
	const char *m = strstr(req->path, "/models/") + 8;
	char *model = xstrndup(m, strcspn(m, ":")), *full = NULL, **texts = NULL;
	struct buf words = BUF_INIT, out = BUF_INIT, msg = BUF_INIT;
	struct fs_chat chat;
	size_t n = 0, i;
	long *dims = NULL;

	full = xasprintf("models/%s", model);
	if (cJSON_IsArray(reqs) && cJSON_GetArraySize(reqs) > 0) {
		n = (size_t)cJSON_GetArraySize(reqs);
		texts = xcalloc(n, sizeof(*texts));
		dims = xcalloc(n, sizeof(*dims));
		i = 0;
		cJSON_ArrayForEach(r, reqs) {
			texts[i] = fs_media_gemini_text(r);
			rm = cJSON_GetObjectItemCaseSensitive(r, "model");
			dims[i] = fs_media_dims(cJSON_GetObjectItemCaseSensitive(r,
			    "outputDimensionality"), FS_DIMS);
			if (buf_printf(&words, "%s ", texts[i] != NULL ? texts[i] : ""), msg.len == 0) {
				if (texts[i] == NULL)
					buf_printf(&msg, "* BatchEmbedContentsRequest.requests[%zu].content: "
					    "contents must not be empty", i);
				else if (!cJSON_IsString(rm) || strcmp(rm->valuestring, full) != 0)
					buf_printf(&msg, "* BatchEmbedContentsRequest.requests[%zu].model: "
					    "the model of every request must be %s", i, full);
				else if (dims[i] < 0)
					buf_printf(&msg, "* BatchEmbedContentsRequest.requests[%zu]."
					    "output_dimensionality: must be from 1 to 4096", i);
			}
			i++;
		}
	}
	fs_media_chat(c, &chat, FS_GEMINI, model, buf_str(&words));
	if (fs_media_refused(c, req, &chat))
		goto out;
	if (root == NULL || n == 0)
		fs_media_bad(c, &chat, "* BatchEmbedContentsRequest.requests: contents must not "
		    "be empty");
	else if (n > FS_GEMINI_BATCH)
		fs_media_bad(c, &chat, "* BatchEmbedContentsRequest.requests: at most 100 "
		    "requests can be in one batch");
	else if (msg.len > 0)
		fs_media_bad(c, &chat, buf_str(&msg));
	else {
		buf_puts(&out, "{\"embeddings\":[");
		for (i = 0; i < n; i++) {
			buf_puts(&out, i > 0 ? ",{\"values\":" : "{\"values\":");
			fs_media_vector(&out, texts[i], dims[i]);
			buf_putc(&out, '}');
		}
		buf_puts(&out, "]}");
		fs_reply_json(c, &chat, 200, NULL, &out);
	}
out:
	for (i = 0; i < n; i++)
		free(texts[i]);
	free(texts);
	free(dims);
	free(model);
	free(full);
	fs_media_chat_free(&chat);
	cJSON_Delete(root);
	buf_free(&words);
	buf_free(&out);
	buf_free(&msg);
}

/* Answer the request when it is one of this file's endpoints. */
bool
fs_media_route(struct fs_conn *c, const struct fs_request *req)
{
	const char *p = req->path;

	if (strcmp(req->method, "POST") != 0)
		return false;
	if (fs_ends_with(p, "/audio/transcriptions"))
		fs_media_audio(c, req, false);
	else if (fs_ends_with(p, "/audio/translations"))
		fs_media_audio(c, req, true);
	else if (fs_ends_with(p, "/embeddings"))
		fs_media_embed(c, req, FS_OPENAI);
	else if (fs_ends_with(p, "/api/embed"))
		fs_media_embed(c, req, FS_OLLAMA);
	else if (strstr(p, "/models/") != NULL && fs_ends_with(p, ":batchEmbedContents"))
		fs_media_gemini_embed(c, req);
	else if (strstr(p, "/models/") != NULL && fs_ends_with(p, ":generateContent"))
		return fs_media_gemini_audio(c, req);
	else
		return false;
	return true;
}

/* The --log form of a multipart body: {"multipart": [...]} with each text field's value
 * and each file's name, type, size and SHA-256, or {"multipart_error": WHY}; false when
 * the body is not multipart (the log then takes it as it is). */
bool
fs_media_log_body(const struct fs_request *req, struct buf *line)
{
	struct buf boundary = BUF_INIT, err = BUF_INIT;
	struct fs_form form = { NULL, 0 };
	const char *ct = fs_header_get(req, "content-type");
	char sha[65];
	size_t i;

	if (ct == NULL || strncasecmp(ct, "multipart/", 10) != 0)
		return false;
	if (!fs_multipart_boundary(ct, &boundary) ||
	    !fs_multipart_parse(buf_str(&boundary), req->body.data, req->body.len, &form, &err)) {
		buf_puts(line, "{\"multipart_error\":");
		buf_json_string(line, err.len > 0 ? err.data : "no boundary",
		    err.len > 0 ? err.len : 11);
		buf_putc(line, '}');
	} else {
		buf_puts(line, "{\"multipart\":[");
		for (i = 0; i < form.n; i++) {
			const struct fs_part *p = &form.v[i];

			buf_puts(line, i > 0 ? ",{\"name\":" : "{\"name\":");
			buf_json_string(line, p->name, strlen(p->name));
			if (p->filename != NULL) {
				fs_media_sha(p->data, p->len, sha);
				buf_puts(line, ",\"filename\":");
				buf_json_string(line, p->filename, strlen(p->filename));
				buf_puts(line, ",\"type\":");
				if (p->type != NULL)
					buf_json_string(line, p->type, strlen(p->type));
				else
					buf_puts(line, "null");
				buf_printf(line, ",\"size\":%zu,\"sha256\":\"%s\"}", p->len, sha);
			} else {
				buf_puts(line, ",\"value\":");
				buf_json_string(line, p->data, p->len);
				buf_putc(line, '}');
			}
		}
		buf_puts(line, "]}");
	}
	fs_form_free(&form);
	buf_free(&boundary);
	buf_free(&err);
	return true;
}
