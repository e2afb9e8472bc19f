/* Unit tests for embeddings and transcription (src/embed.c, src/transcribe.c) and the
 * worker's fetch jobs (src/worker-fetch.c): reading batches, splitting them within each
 * protocol's limits, each protocol's request bodies and answers (fast and cJSON readings
 * alike), checking audio files, the multipart fields and Gemini's inline request, and
 * fetches through the worker against the fake server: a multipart upload, retries of a
 * 429, a typed 401, a cap on the answer, cancellation and the simulated provider. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <poll.h>
#include <signal.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cJSON.h>

#include "apierr.h"
#include "buf.h"
#include "embed.h"
#include "http.h"
#include "json.h"
#include "provider.h"
#include "transcribe.h"
#include "worker.h"
#include "xmalloc.h"

/* A provider of protocol at base (no key). */
static struct provider *
prov(const char *protocol, const char *base)
{
	return provider_new("p", protocol, base);
}

/* Vector i of v as a string. */
static char *
vec(const struct embed_vecs *v, size_t i)
{
	return xstrndup(v->nums.data + v->off[i], v->len[i]);
}

/* Plain lines, CRLF, a last line without a newline; JSON lines with ids; errors name
 * the line. */
static void
test_read(void **state)
{
	struct embed_list l = { NULL, 0 };
	char *err = NULL;

	(void)state;
	assert_int_equal(embed_read("a b\r\nc\nlast", 11, &l, &err), 0);
	assert_int_equal(l.n, 3);
	assert_string_equal(l.v[0].text, "a b");
	assert_string_equal(l.v[2].text, "last");
	assert_int_equal(l.v[2].line, 3);
	assert_null(l.v[0].id);
	embed_list_free(&l);
	assert_int_equal(embed_read("x\n\ny\n", 5, &l, &err), -1);
	assert_string_equal(err, "line 2 is empty (every line is a text to embed)");
	free(err);
	embed_list_free(&l);
	{
		static const char j[] = "\n{\"id\":\"a\\tb\",\"text\":\"one\"}\n\n{\"id\":7,\"text\":\"two\"}\n"
		    "{\"text\":\"three\"}\n";

		assert_int_equal(embed_read(j, sizeof(j) - 1, &l, &err), 0);
		assert_int_equal(l.n, 3);
		assert_string_equal(l.v[0].id, "\"a\\tb\"");
		assert_string_equal(l.v[0].id_text, "a\tb");
		assert_string_equal(l.v[1].id, "7");
		assert_null(l.v[2].id);
		assert_int_equal(l.v[2].line, 5);
		embed_list_free(&l);
	}
	assert_int_equal(embed_read("{\"text\":\"a\"}\n{\"id\":[1],\"text\":\"b\"}\n", 36, &l, &err),
	    -1);
	assert_string_equal(err, "line 2: \"id\" must be a string or a number");
	free(err);
	embed_list_free(&l);
	assert_int_equal(embed_read("{\"text\":\"a\"}\nnot json\n", 22, &l, &err), -1);
	assert_non_null(strstr(err, "line 2 is not a JSON object"));
	free(err);
	embed_list_free(&l);
	assert_int_equal(embed_read("ok\n\xff\xfe\n", 6, &l, &err), -1);
	assert_string_equal(err, "line 2 is not valid UTF-8");
	free(err);
	embed_list_free(&l);
	assert_int_equal(embed_read("", 0, &l, &err), -1);
	assert_string_equal(err, "no text to embed");
	free(err);
	embed_list_free(&l);
}

/* Batches split at each protocol's most texts, at embed_batch, and at the token cap. */
static void
test_split(void **state)
{
	struct provider *o = prov("openai", "http://x/v1"), *g = prov("gemini", "http://x"),
	    *ol = prov("ollama", "http://x"), *an = prov("anthropic", "http://x");
	struct embed_list l = { NULL, 0 };
	char big[4001], *err = NULL;
	size_t i;

	(void)state;
	for (i = 0; i < 5000; i++)
		embed_list_add(&l, "text", 4);
	assert_int_equal(embed_batch_max(o), 2048);
	assert_int_equal(embed_batch_max(g), 100);
	assert_int_equal(embed_batch_max(ol), 512);
	assert_int_equal(embed_split(o, &l, 0), 2048);
	assert_int_equal(embed_split(o, &l, 4096), 5000);
	assert_int_equal(embed_split(g, &l, 4950), 5000);
	assert_int_equal(embed_split(g, &l, 100), 200);
	o->embed_batch = 7;
	assert_int_equal(embed_split(o, &l, 0), 7);
	embed_list_free(&l);
	/* 4000 bytes is 1001 tokens: 300 of them fit the 300,000 of one OpenAI request. */
	memset(big, 'x', 4000);
	big[4000] = '\0';
	for (i = 0; i < 400; i++)
		embed_list_add(&l, big, 4000);
	o->embed_batch = 0;
	assert_int_equal(embed_split(o, &l, 0), 299);
	assert_int_equal(embed_split(ol, &l, 0), 400);
	o->embed_tokens = 2000;
	assert_int_equal(embed_split(o, &l, 0), 1);
	embed_list_free(&l);
	assert_int_equal(embed_supported(o, &err), 0);
	assert_int_equal(embed_supported(an, &err), -1);
	assert_non_null(strstr(err, "anthropic protocol, which has no embeddings"));
	free(err);
	provider_free(o);
	provider_free(g);
	provider_free(ol);
	provider_free(an);
}

/* The request of a fetch, as its first attempt builds it. */
static void
built(struct worker_fetch *f, struct http_req *r)
{
	f->build(f->provider, f->arg, r);
}

/* Each protocol's request body and URL, with dimensions, keys in their header. */
static void
test_requests(void **state)
{
	struct provider *o = prov("openai", "http://h/v1"), *g = prov("gemini", "http://h/v1beta"),
	    *ol = prov("ollama", "http://h");
	struct embed_list l = { NULL, 0 };
	struct worker_fetch *f;
	struct http_req r;
	size_t i;
	int auth;

	(void)state;
	o->key = xstrdup("sk-unit-1");
	g->key = xstrdup("gk-unit-2");
	embed_list_add(&l, "a \"q\"", 5);
	embed_list_add(&l, "b", 1);
	embed_list_add(&l, "c", 1);
	f = embed_fetch(o, "text-embedding-3-small", &l, 1, 3, 256);
	built(f, &r);
	assert_string_equal(r.url, "http://h/v1/embeddings");
	assert_string_equal(r.body, "{\"model\":\"text-embedding-3-small\",\"input\":[\"b\",\"c\"],"
	    "\"encoding_format\":\"float\",\"dimensions\":256}");
	for (i = 0, auth = 0; i < r.nheaders; i++)
		auth |= strcmp(r.headers[i], "Authorization: Bearer sk-unit-1") == 0;
	assert_true(auth);
	assert_int_equal(f->est_tokens, 2);
	http_req_free(&r);
	worker_fetch_free(f);
	f = embed_fetch(g, "gemini-embedding-001", &l, 0, 2, 0);
	built(f, &r);
	assert_string_equal(r.url, "http://h/v1beta/models/gemini-embedding-001:batchEmbedContents");
	assert_string_equal(r.body, "{\"requests\":[{\"model\":\"models/gemini-embedding-001\","
	    "\"content\":{\"parts\":[{\"text\":\"a \\\"q\\\"\"}]}},{\"model\":"
	    "\"models/gemini-embedding-001\",\"content\":{\"parts\":[{\"text\":\"b\"}]}}]}");
	for (i = 0, auth = 0; i < r.nheaders; i++)
		auth |= strcmp(r.headers[i], "x-goog-api-key: gk-unit-2") == 0;
	assert_true(auth);
	http_req_free(&r);
	worker_fetch_free(f);
	f = embed_fetch(ol, "nomic-embed-text", &l, 2, 3, 64);
	built(f, &r);
	assert_string_equal(r.url, "http://h/api/embed");
	assert_string_equal(r.body, "{\"model\":\"nomic-embed-text\",\"input\":[\"c\"],"
	    "\"dimensions\":64}");
	for (i = 0; i < r.nheaders; i++)
		assert_null(strstr(r.headers[i], "Authorization"));
	http_req_free(&r);
	worker_fetch_free(f);
	embed_list_free(&l);
	provider_free(o);
	provider_free(g);
	provider_free(ol);
}

/* Decode the C string body of protocol, the default way. */
static int
parse_str(const char *protocol, const char *body, size_t n, struct embed_vecs *v, char **err)
{
	return embed_parse_with(protocol, body, strlen(body), n, v, err, -1);
}

/* Answers of each protocol, through the fast scanner and through cJSON: the same vectors
 * in input order whatever order the items came in; wrong answers are refused. */
static void
test_answers(void **state)
{
	static const char openai[] = "{\"object\":\"list\",\"data\":[{\"object\":\"embedding\","
	    "\"index\":1,\"embedding\":[0.5,-2.5e-05]},{\"object\":\"embedding\",\"index\":0,"
	    "\"embedding\":[ 1 , 0.25 ]}],\"model\":\"m\",\"usage\":{\"prompt_tokens\":9,"
	    "\"total_tokens\":9}}";
	static const char gemini[] = "{\"embeddings\":[{\"values\":[0.1,0.2,0.3]},"
	    "{\"values\":[-0.1,-0.2,-0.3]}]}";
	static const char ollama[] = "{\"model\":\"n\",\"embeddings\":[[1,2],[3,4]],"
	    "\"prompt_eval_count\":4}";
	struct embed_vecs v;
	char *err = NULL, *s;
	int fast;

	(void)state;
	for (fast = 1; fast >= 0; fast--) {
		assert_int_equal(embed_parse_with("openai", openai, sizeof(openai) - 1, 2, &v, &err,
		    fast), 0);
		s = vec(&v, 0);
		assert_string_equal(s, fast ? "1,0.25" : "1,0.25");
		free(s);
		s = vec(&v, 1);
		assert_string_equal(s, fast ? "0.5,-2.5e-05" : "0.5,-2.5e-05");
		free(s);
		assert_int_equal(v.dims[1], 2);
		assert_int_equal(v.tokens, 9);
		embed_vecs_free(&v);
		assert_int_equal(embed_parse_with("gemini", gemini, sizeof(gemini) - 1, 2, &v, &err,
		    fast), 0);
		s = vec(&v, 1);
		assert_string_equal(s, "-0.1,-0.2,-0.3");
		free(s);
		assert_int_equal(v.tokens, -1);
		embed_vecs_free(&v);
		assert_int_equal(embed_parse_with("ollama", ollama, sizeof(ollama) - 1, 2, &v, &err,
		    fast), 0);
		s = vec(&v, 1);
		assert_string_equal(s, "3,4");
		free(s);
		assert_int_equal(v.tokens, 4);
		embed_vecs_free(&v);
	}
	/* Wrong counts, a doubled index, an error object, something else than numbers. */
	assert_int_equal(embed_parse_with("gemini", gemini, sizeof(gemini) - 1, 3, &v, &err, -1),
	    -1);
	assert_string_equal(err, "the answer holds 2 vectors for 3 texts");
	free(err);
	assert_int_equal(parse_str("openai", "{\"data\":[{\"index\":0,\"embedding\":[1]},"
	    "{\"index\":0,\"embedding\":[2]}]}", 2, &v, &err), -1);
	assert_string_equal(err, "two vectors have index 0 (of 2)");
	free(err);
	assert_int_equal(parse_str("ollama", "{\"error\":\"model not found\"}", 1, &v, &err), -1);
	assert_non_null(strstr(err, "not a list of embeddings: {\"error\":\"model not found\"}"));
	free(err);
	assert_int_equal(parse_str("ollama", "{\"embeddings\":[[1,\"2\"]]}", 1, &v, &err), -1);
	assert_string_equal(err, "vector 0 holds something other than a number");
	free(err);
	assert_int_equal(parse_str("ollama", "{\"embeddings\":[[]]}", 1, &v, &err), -1);
	assert_string_equal(err, "vector 0 is empty");
	free(err);
	/* A number out of a double's range is not passed on as written. */
	assert_int_equal(parse_str("ollama", "{\"embeddings\":[[1e999]]}", 1, &v, &err), -1);
	free(err);
}

/* Write n bytes to a new temporary file named with suffix; returns its path. */
static char *
tmpfile_with(const char *suffix, const void *data, size_t n)
{
	char *path = xasprintf("/tmp/natter-test-media-XXXXXX%s", suffix);
	int fd = mkstemps(path, (int)strlen(suffix));

	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, n), (ssize_t)n);
	close(fd);
	return path;
}

/* A small WAV file's bytes. */
static const char wav[] = "RIFF\x24\0\0\0WAVEfmt \x10\0\0\0\x01\0\x01\0hello";

/* Files and options are checked before anything is sent, with messages that say why. */
static void
test_check(void **state)
{
	struct provider *o = prov("openai", "http://h/v1"), *g = prov("gemini", "http://h"),
	    *ol = prov("ollama", "http://h");
	struct transcribe_opts t = { NULL, NULL, 0, TRANSCRIBE_TEXT, 0 };
	char *w = tmpfile_with(".wav", wav, sizeof(wav) - 1);
	char *txt = tmpfile_with(".mp3", "just text", 9), *empty = tmpfile_with(".wav", "", 0);
	char *aiff = tmpfile_with(".aiff", "FORM\0\0\0\x10" "AIFFCOMM", 16), *err = NULL;

	(void)state;
	t.file = w;
	assert_int_equal(transcribe_check(o, &t, &err), 0);
	assert_int_equal(transcribe_check(g, &t, &err), 0);
	assert_int_equal(transcribe_check(ol, &t, &err), -1);
	assert_non_null(strstr(err, "ollama protocol, which cannot transcribe"));
	free(err);
	t.file = "/nonexistent/a.wav";
	assert_int_equal(transcribe_check(o, &t, &err), -1);
	assert_string_equal(err, "/nonexistent/a.wav: No such file or directory");
	free(err);
	t.file = "/tmp";
	assert_int_equal(transcribe_check(o, &t, &err), -1);
	assert_string_equal(err, "/tmp: not a regular file");
	free(err);
	t.file = empty;
	assert_int_equal(transcribe_check(o, &t, &err), -1);
	assert_non_null(strstr(err, ": the file is empty"));
	free(err);
	t.file = txt;
	assert_int_equal(transcribe_check(o, &t, &err), -1);
	assert_non_null(strstr(err, ": not audio natter knows"));
	free(err);
	t.file = aiff;
	assert_int_equal(transcribe_check(g, &t, &err), 0);
	assert_int_equal(transcribe_check(o, &t, &err), -1);
	assert_non_null(strstr(err, "aiff audio, which p does not take (wav, mp3, flac, ogg, m4a, "
	    "webm)"));
	free(err);
	t.file = w;
	t.format = TRANSCRIBE_SRT;
	assert_int_equal(transcribe_check(g, &t, &err), -1);
	assert_string_equal(err, "p (gemini) transcribes to text or json only, not srt");
	free(err);
	t.format = TRANSCRIBE_JSON;
	t.timestamps = TRANSCRIBE_WORDS;
	assert_int_equal(transcribe_check(o, &t, &err), -1);
	assert_string_equal(err, "--timestamps needs --format verbose_json");
	free(err);
	t.timestamps = 0;
	t.translate = 1;
	t.language = "de";
	assert_int_equal(transcribe_check(o, &t, &err), -1);
	assert_string_equal(err, "--translate always translates into English and takes no "
	    "--language");
	free(err);
	t.translate = 0;
	t.language = "german; rm";
	assert_int_equal(transcribe_check(o, &t, &err), -1);
	assert_non_null(strstr(err, "not a language code"));
	free(err);
	unlink(w);
	unlink(txt);
	unlink(empty);
	unlink(aiff);
	free(w);
	free(txt);
	free(empty);
	free(aiff);
	provider_free(o);
	provider_free(g);
	provider_free(ol);
}

/* The multipart fields of the OpenAI protocol; Gemini's inline request decodes back to
 * the file; a name without the audio's extension gets it. */
static void
test_transcribe_requests(void **state)
{
	struct provider *o = prov("openai", "http://h/openai/v1"), *g = prov("gemini", "http://h");
	struct transcribe_opts t = { NULL, "de", 0, TRANSCRIBE_VERBOSE_JSON,
	    TRANSCRIBE_WORDS | TRANSCRIBE_SEGMENTS };
	char *w = tmpfile_with("", wav, sizeof(wav) - 1), *err = NULL;
	struct worker_fetch *f;
	struct http_req r;
	cJSON *root, *part;
	const char *base = strrchr(w, '/') + 1;
	char *want;

	(void)state;
	t.file = w;
	f = transcribe_fetch(o, "whisper-large-v3-turbo", &t, &err);
	assert_non_null(f);
	built(f, &r);
	assert_string_equal(r.url, "http://h/openai/v1/audio/transcriptions");
	assert_null(r.body);
	assert_int_equal(r.nparts, 6);
	assert_string_equal(r.parts[0].name, "model");
	assert_string_equal(r.parts[0].data, "whisper-large-v3-turbo");
	assert_string_equal(r.parts[1].name, "file");
	assert_string_equal(r.parts[1].path, w);
	want = xasprintf("%s.wav", base);
	assert_string_equal(r.parts[1].filename, want);
	free(want);
	assert_string_equal(r.parts[1].type, "audio/wav");
	assert_string_equal(r.parts[2].name, "language");
	assert_string_equal(r.parts[2].data, "de");
	assert_string_equal(r.parts[3].data, "verbose_json");
	assert_string_equal(r.parts[4].name, "timestamp_granularities[]");
	assert_string_equal(r.parts[4].data, "word");
	assert_string_equal(r.parts[5].data, "segment");
	http_req_free(&r);
	worker_fetch_free(f);
	t.language = NULL;
	t.timestamps = 0;
	t.translate = 1;
	t.format = TRANSCRIBE_TEXT;
	f = transcribe_fetch(g, "gemini-2.5-flash", &t, &err);
	built(f, &r);
	assert_string_equal(r.url, "http://h/models/gemini-2.5-flash:generateContent");
	root = cJSON_Parse(r.body);
	part = cJSON_GetArrayItem(cJSON_GetObjectItem(cJSON_GetArrayItem(
	    cJSON_GetObjectItem(root, "contents"), 0), "parts"), 1);
	assert_string_equal(cJSON_GetObjectItem(cJSON_GetObjectItem(part, "inline_data"),
	    "mime_type")->valuestring, "audio/wav");
	/* base64 of the 29 bytes */
	assert_string_equal(cJSON_GetObjectItem(cJSON_GetObjectItem(part, "inline_data"),
	    "data")->valuestring, "UklGRiQAAABXQVZFZm10IBAAAAABAAEAaGVsbG8=");
	assert_non_null(strstr(cJSON_GetArrayItem(cJSON_GetObjectItem(cJSON_GetArrayItem(
	    cJSON_GetObjectItem(root, "contents"), 0), "parts"), 0)->child->valuestring,
	    "Translate the speech"));
	cJSON_Delete(root);
	http_req_free(&r);
	worker_fetch_free(f);
	unlink(w);
	free(w);
	provider_free(o);
	provider_free(g);
}

/* What is printed of answers: OpenAI's as they are, Gemini's reply as text or json; the
 * interface's plain text; a blocked Gemini prompt is an error. */
static void
test_outputs(void **state)
{
	static const char reply[] = "{\"candidates\":[{\"content\":{\"parts\":[{\"text\":"
	    "\"Hallo \\\"Welt\\\"\\n\"}],\"role\":\"model\"},\"finishReason\":\"STOP\"}]}";
	static const char blocked[] = "{\"promptFeedback\":{\"blockReason\":\"SAFETY\"}}";
	struct provider *o = prov("openai", "http://h"), *g = prov("gemini", "http://h");
	struct transcribe_opts t = { "x.wav", NULL, 0, TRANSCRIBE_SRT, 0 };
	struct buf b = BUF_INIT;
	char *err = NULL;

	(void)state;
	assert_int_equal(transcribe_output(o, &t, "1\n00:00", 7, &b, &err), 0);
	assert_string_equal(buf_str(&b), "1\n00:00\n");
	buf_reset(&b);
	t.format = TRANSCRIBE_JSON;
	assert_int_equal(transcribe_output(g, &t, reply, sizeof(reply) - 1, &b, &err), 0);
	assert_string_equal(buf_str(&b), "{\"text\":\"Hallo \\\"Welt\\\"\"}\n");
	buf_reset(&b);
	t.format = TRANSCRIBE_TEXT;
	assert_int_equal(transcribe_output(g, &t, reply, sizeof(reply) - 1, &b, &err), 0);
	assert_string_equal(buf_str(&b), "Hallo \"Welt\"\n");
	buf_reset(&b);
	assert_int_equal(transcribe_output(g, &t, blocked, sizeof(blocked) - 1, &b, &err), -1);
	assert_non_null(strstr(err, "SAFETY"));
	free(err);
	assert_int_equal(transcribe_text(o, "{\"text\":\"hi there\"}", 19, &b, &err), 0);
	assert_string_equal(buf_str(&b), "hi there");
	buf_reset(&b);
	assert_int_equal(transcribe_text(o, "hi there", 8, &b, &err), -1);
	assert_string_equal(err, "the answer is not a transcription: hi there");
	free(err);
	buf_free(&b);
	provider_free(o);
	provider_free(g);
}

/* ---- Through the worker, against the fake server ------------------------------------- */

/* Start $FAKESERVER with extra arguments; its pid, *port set. */
static pid_t
fake_start(int *port, const char *a1, const char *a2)
{
	const char *bin = getenv("FAKESERVER");
	const char *argv[8];
	int fds[2], n = 0;
	pid_t pid;
	char line[64];
	FILE *f;

	*port = 0;
	if (bin == NULL || pipe(fds) != 0)
		return -1;
	argv[n++] = bin;
	argv[n++] = "--max-seconds";
	argv[n++] = "120";
	if (a1 != NULL) {
		argv[n++] = a1;
		argv[n++] = a2;
	}
	argv[n] = NULL;
	pid = fork();
	if (pid == 0) {
		dup2(fds[1], 1);
		close(fds[0]);
		execv(bin, (char *const *)argv);
		_exit(127);
	}
	close(fds[1]);
	f = fdopen(fds[0], "r");
	if (f != NULL && fgets(line, sizeof(line), f) != NULL)
		sscanf(line, "PORT %d", port);
	if (f != NULL)
		fclose(f);
	return pid;
}

/* Stop the fake server. */
static void
fake_stop(pid_t pid)
{
	if (pid > 0) {
		kill(pid, SIGTERM);
		waitpid(pid, NULL, 0);
	}
}

/* Wait for the BODY of id, counting the RETRYs before it; NULL after 10 s. */
static struct wevent *
body_of(struct worker *w, uint64_t id, int *retries)
{
	struct pollfd pfd = { worker_fd(w), POLLIN, 0 };
	struct wevent *ev;
	int i;

	*retries = 0;
	for (i = 0; i < 100; i++) {
		poll(&pfd, 1, 100);
		while ((ev = worker_next(w)) != NULL) {
			if (ev->id == id && ev->type == WEV_BODY)
				return ev;
			if (ev->id == id && ev->type == WEV_RETRY)
				(*retries)++;
			wevent_free(ev);
		}
	}
	return NULL;
}

/* A transcription goes up as multipart and comes back; a 429 is retried; a 401 is a typed
 * auth error; an answer over the cap is refused; a cancel ends the fetch; the simulated
 * provider refuses to fetch. */
static void
test_worker_fetch(void **state)
{
	struct transcribe_opts t = { NULL, NULL, 0, TRANSCRIBE_JSON, 0 };
	char *w1 = tmpfile_with(".wav", wav, sizeof(wav) - 1), *err = NULL, *base;
	static const char lim[] = "RIFF\0\0\0\0WAVE status=429 fail_times=1 id=unit-429 "
	    "retry_after=0.05";
	char *limited = tmpfile_with(".wav", lim, sizeof(lim) - 1);
	struct worker *w;
	struct worker_fetch *f;
	struct wevent *ev;
	struct provider *p, *sim;
	struct embed_list l = { NULL, 0 };
	int port, retries;
	pid_t pid = fake_start(&port, "--key", "sk-unit-fetch");

	(void)state;
	if (pid <= 0 || port == 0) {
		fake_stop(pid);
		skip();
	}
	base = xasprintf("http://127.0.0.1:%d/v1", port);
	p = prov("openai", base);
	p->key = xstrdup("sk-unit-fetch");
	p->max_retry_delay_s = 1;
	w = worker_start();
	t.file = w1;
	f = transcribe_fetch(p, "whisper-1", &t, &err);
	ev = body_of(w, worker_fetch(w, f), &retries);
	assert_non_null(ev);
	assert_null(ev->error);
	assert_int_equal(ev->status, 200);
	assert_non_null(strstr(ev->text, "29 bytes of audio/wav"));
	assert_int_equal(retries, 0);
	wevent_free(ev);
	/* Retried once after the 429, then answered. */
	t.file = limited;
	f = transcribe_fetch(p, "whisper-1", &t, &err);
	ev = body_of(w, worker_fetch(w, f), &retries);
	assert_non_null(ev);
	assert_null(ev->error);
	assert_int_equal(retries, 1);
	assert_int_equal(ev->attempts, 2);
	wevent_free(ev);
	/* A wrong key: the protocol's typed auth error, not retried. */
	free(p->key);
	p->key = xstrdup("sk-unit-wrong");
	t.file = w1;
	f = transcribe_fetch(p, "whisper-1", &t, &err);
	ev = body_of(w, worker_fetch(w, f), &retries);
	assert_non_null(ev);
	assert_non_null(ev->error);
	assert_int_equal(ev->error->cls, APIERR_AUTH);
	assert_int_equal(ev->error->status, 401);
	assert_int_equal(retries, 0);
	assert_null(ev->text);
	wevent_free(ev);
	/* An answer longer than max_body. */
	free(p->key);
	p->key = xstrdup("sk-unit-fetch");
	embed_list_add(&l, "some text", 9);
	f = embed_fetch(p, "text-embedding-3-small", &l, 0, 1, 0);
	f->max_body = 20;
	ev = body_of(w, worker_fetch(w, f), &retries);
	assert_non_null(ev);
	assert_non_null(ev->error);
	assert_int_equal(ev->error->cls, APIERR_TRUNCATED);
	assert_non_null(strstr(ev->error->message, "longer than 20 bytes"));
	wevent_free(ev);
	/* Cancelled while the server waits before answering. */
	embed_list_free(&l);
	embed_list_add(&l, "header_delay_ms=3000", 20);
	f = embed_fetch(p, "text-embedding-3-small", &l, 0, 1, 0);
	{
		uint64_t id = worker_fetch(w, f);

		usleep(100000);
		worker_cancel(w, id);
		ev = body_of(w, id, &retries);
	}
	assert_non_null(ev);
	assert_true(ev->cancelled);
	assert_int_equal(ev->error->cls, APIERR_CANCELLED);
	wevent_free(ev);
	/* The simulated provider answers chats only. */
	sim = provider_new("simulated", "simulated", "");
	sim->proto = &proto_simulated;
	f = embed_fetch(sim, "x", &l, 0, 1, 0);
	ev = body_of(w, worker_fetch(w, f), &retries);
	assert_non_null(ev);
	assert_non_null(strstr(ev->error->message, "simulated provider answers chats only"));
	wevent_free(ev);
	worker_stop(w);
	embed_list_free(&l);
	provider_free(p);
	provider_free(sim);
	free(base);
	unlink(w1);
	unlink(limited);
	free(w1);
	free(limited);
	fake_stop(pid);
}

/* Run the media tests. */
int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_read),
		cmocka_unit_test(test_split),
		cmocka_unit_test(test_requests),
		cmocka_unit_test(test_answers),
		cmocka_unit_test(test_check),
		cmocka_unit_test(test_transcribe_requests),
		cmocka_unit_test(test_outputs),
		cmocka_unit_test(test_worker_fetch),
	};

	json_init();
	worker_global_init();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
