/*
 * Routing and behaviour of the fake server: which protocol a path speaks, what the request
 * asks for, and the streaming driver that turns a reply into events with the requested delays
 * and faults. Tests steer the server through "magic words" in the last user message (a
 * test can only reach the server through natter, and the prompt is the one thing it fully
 * controls). Paths are matched by suffix so any base-URL prefix works (/openai/v1 for Groq,
 * /api/v1 for OpenRouter, none for DeepSeek).
 *
 * Magic words (name=value anywhere in the last user message; see README.md):
 *   tokens=N          exactly N text tokens "w1", " w2", … " wN" (default: an echo sentence)
 *   token_bytes=N     with tokens=N: each token padded to a line of N bytes (a huge reply
 *                     in few events: tokens=100000 token_bytes=1000 is 100 MB)
 *   doc=md            with tokens=N: N tokens of Markdown, a fenced code block (20 languages
 *                     in turn) every 100 tokens and a table every 1,000, the last " wN"
 *   echo=1            the reply is the prompt as written, without echo=1, a word a token
 *   think=N           N reasoning tokens "r1", " r2", … first, in the protocol's reasoning form
 *   reasoning=reasoning  OpenAI only: delta.reasoning instead of delta.reasoning_content
 *   delay_ms=N        wait N ms between tokens, flushing each one
 *   burst=N           with delay_ms: send N tokens together between waits (a fast provider)
 *   first_delay_ms=N  wait N ms after the headers, before the first body byte
 *   header_delay_ms=N wait N ms before the status line
 *   status=N          answer HTTP N with the protocol's error body (ctx=1: context length)
 *   retry_after=S, retry_after_ms=N   Retry-After / retry-after-ms (Gemini: RetryInfo)
 *   fail_times=N id=X the first N requests carrying id X fail (status= or 503/529), then succeed
 *   fault=close_mid|stall|malformed|error_mid|no_usage|crlf|huge_line|long_line|comments|
 *         escapes|echo_key  (may repeat)
 *                     echo_key: error bodies quote the request's credential header, as some
 *                     proxies do, and a normal reply's text does, split in 3-byte tokens
 *   line_mb=N         fault=long_line: the line's size in MiB (default 64)
 *   vector=NAME       replay a recorded vector byte for byte
 *   chunked=0         stream without chunked framing (body ends when the connection closes)
 *   [MODEL]name=value any of the above for requests to MODEL only (comparison tests send
 *                     one prompt to several models)
 *   tool=NAME args=JSON tool_rounds=N tool_quirk=...   tool calls (fs-tools.c)
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cJSON.h>

#include "fakeserver.h"
#include "xmalloc.h"

#define FS_MAX_COUNT 10000000L
#define FS_MAX_TOKEN_BYTES 1000000L
#define FS_MAX_DELAY 3600000L
#define FS_HUGE_TOKEN 200000
#define FS_FLUSH_AT (256 * 1024)
#define FS_ECHO_WORDS 8
#define FS_LONG_LINE_MB 64
#define FS_MAX_LINE_MB 4096
#define FS_COMMENT_MS 100
/* Where fault=long_line's filler goes inside a token event (nothing in it needs escaping). */
#define FS_LONG_MARK "@@long-line@@"
/* fault=escapes: the JSON string text of its token, a lone surrogate and U+0000 escaped. */
#define FS_ESCAPES_MARK "@@escapes@@"
#define FS_ESCAPES "<\\ud800|\\u0000|\\udc00>"

/* Does path end with suffix? */
bool
fs_ends_with(const char *path, const char *suffix)
{
	size_t n = strlen(path), m = strlen(suffix);

	return n >= m && strcmp(path + n - m, suffix) == 0;
}

/* ---- Token sequences ---------------------------------------------------------------- */

/* Append one token to a sequence. */
static void
fs_seq_add(struct fs_seq *s, const char *t, size_t n)
{
	if (s->off == NULL || s->n + 2 > s->cap) {
		s->cap = s->cap ? s->cap * 2 : 64;
		s->off = xrealloc(s->off, s->cap * sizeof(*s->off));
		s->off[0] = 0;
	}
	buf_append(&s->all, t, n);
	s->off[++s->n] = s->all.len;
}

/* Append the numbered tokens "<p>1", " <p>2", … " <p>N"; with pad > 0 each is made a line
 * of pad bytes: the number, filler words " abcdefghi" and a newline (token_bytes=N). */
static void
fs_seq_numbered(struct fs_seq *s, char prefix, long n, long pad)
{
	static const char filler[] = " abcdefghi";
	struct buf tok = BUF_INIT;
	size_t k;
	long i;

	for (i = 1; i <= n; i++) {
		buf_reset(&tok);
		buf_printf(&tok, "%s%c%ld", i > 1 ? " " : "", prefix, i);
		for (k = 0; pad > 0 && tok.len + 1 < (size_t)pad; k++)
			buf_putc(&tok, filler[k % (sizeof(filler) - 1)]);
		if (pad > 0)
			buf_putc(&tok, '\n');
		fs_seq_add(s, tok.data, tok.len);
	}
	buf_free(&tok);
}

/* Split a sentence into word tokens, every one after the first with its leading space. */
static void
fs_seq_words(struct fs_seq *s, const char *text)
{
	const char *p = text;
	struct buf tok = BUF_INIT;

	while (*p != '\0') {
		size_t sp = strspn(p, " \t\r\n"), w;

		p += sp;
		w = strcspn(p, " \t\r\n");
		if (w == 0)
			break;
		buf_reset(&tok);
		if (s->n > 0)
			buf_putc(&tok, ' ');
		buf_append(&tok, p, w);
		fs_seq_add(s, tok.data, tok.len);
		p += w;
	}
	buf_free(&tok);
}

/* Split text into tokens that keep every byte: each is a run of whitespace and the word
 * after it. skip (when not NULL) is left out once, with the whitespace before it. */
static void
fs_seq_verbatim(struct fs_seq *s, const char *text, const char *skip)
{
	const char *p = text, *cut = skip != NULL ? strstr(text, skip) : NULL;

	while (*p != '\0') {
		size_t sp = strspn(p, " \t\r\n"), w = strcspn(p + sp, " \t\r\n");

		if (cut != NULL && p + sp == cut && w == strlen(skip)) {
			p += sp + w;
			continue;
		}
		fs_seq_add(s, p, sp + w);
		p += sp + w;
	}
}

/* The code blocks of doc=md, one per language. */
static const char *const fs_doc_code[][2] = {
	{ "c", "#include <stdio.h>\nint main(void) { return printf(\"%d\", 42) < 0; } /* ok */\n" },
	{ "python", "def f(x):\n    return [i * 2 for i in x if i]  # doubled\n" },
	{ "javascript", "const f = async (x) => { return await g(x, \"s\", 3.5); };\n" },
	{ "typescript", "interface P { name: string; age: number }\nlet p: P = { name: 'a', age: 1 };\n" },
	{ "go", "func main() {\n\tfor i := 0; i < 10; i++ { fmt.Println(i) }\n}\n" },
	{ "rust", "fn main() {\n    let v: Vec<u32> = vec![1, 2];\n    println!(\"{:?}\", v);\n}\n" },
	{ "java", "public class A { public static void main(String[] a) { int x = 1; } }\n" },
	{ "bash", "for f in *.txt; do\n  echo \"$f\" | grep -q x && rm -f \"$f\"  # tidy\ndone\n" },
	{ "json", "{\"name\": \"natter\", \"n\": 3, \"ok\": true, \"list\": [1, 2]}\n" },
	{ "yaml", "render:\n  highlight: true  # on\n  dirs: [a, b]\n" },
	{ "toml", "[package]\nname = \"natter\"\nversion = \"1.0\"  # x\n" },
	{ "html", "<div class=\"x\"><a href=\"/\">home</a> &amp; more</div>\n" },
	{ "css", "body { color: #333; margin: 0 auto; } /* base */\n" },
	{ "sql", "SELECT name, count(*) FROM t WHERE x > 1 GROUP BY name; -- n\n" },
	{ "ruby", "def hi(name)\n  puts \"hi #{name}\" if name  # greet\nend\n" },
	{ "php", "<?php function f($x) { return $x + 1; } echo f(2); ?>\n" },
	{ "lua", "local function f(x)\n  return x * 2 -- double\nend\n" },
	{ "diff", "--- a/x\n+++ b/x\n@@ -1 +1 @@\n-old line\n+new line\n" },
	{ "makefile", "all: natter\n\tcc -o $@ $^  # link\n" },
	{ "dockerfile", "FROM debian:bookworm\nRUN apt-get update && apt-get install -y nano\n" },
};

/* The table of doc=md. */
static const char fs_doc_table[] =
    "\n\n| Name | Qty | Note |\n|:-----|----:|:----:|\n| apple | 3 | red and *ripe* |\n"
    "| 日本 | 12 | `code` |\n\n";

/* doc=md: n tokens of Markdown, the numbered words " wK" (K the token's number) between
 * a code block every 100 tokens and a table every 1,000; the last token is a word. */
static void
fs_seq_markdown(struct fs_seq *s, long n)
{
	struct buf block = BUF_INIT;
	char tok[32];
	long blocks = 0;

	while ((long)s->n < n - 1) {
		long at = (long)s->n, left = n - 1 - at;

		buf_reset(&block);
		if (at % 100 == 10 && left > 60) {
			const char *const *c = fs_doc_code[blocks++ % (sizeof fs_doc_code /
			    sizeof fs_doc_code[0])];

			buf_printf(&block, "\n\n```%s\n%s```\n\n", c[0], c[1]);
		} else if (at % 1000 == 550 && left > 60) {
			buf_puts(&block, fs_doc_table);
		}
		if (block.len > 0) {
			fs_seq_verbatim(s, block.data, NULL);
			continue;
		}
		snprintf(tok, sizeof tok, "%sw%ld", at > 0 ? " " : "", at + 1);
		fs_seq_add(s, tok, strlen(tok));
	}
	snprintf(tok, sizeof tok, " w%ld", n);
	fs_seq_add(s, tok, strlen(tok));
	buf_free(&block);
}

/* Split text into tokens of n bytes each (fault=echo_key spreads a key over many). */
static void
fs_seq_pieces(struct fs_seq *s, const char *text, size_t n)
{
	size_t len = strlen(text), i;

	for (i = 0; i < len; i += n)
		fs_seq_add(s, text + i, len - i < n ? len - i : n);
}

/* Make the middle token 200 KB long (fault=huge_line) by rebuilding the sequence. */
static void
fs_seq_make_huge(struct fs_seq *s)
{
	struct fs_seq out = { BUF_INIT, NULL, 0, 0 };
	struct buf big = BUF_INIT;
	size_t i, mid = s->n / 2;

	for (i = 0; i < s->n; i++) {
		buf_reset(&big);
		buf_append(&big, s->all.data + s->off[i], s->off[i + 1] - s->off[i]);
		if (i == mid) {
			buf_reserve(&big, FS_HUGE_TOKEN);
			while (big.len < FS_HUGE_TOKEN)
				buf_puts(&big, "0123456789abcdefghijklmnopqrstuvwxyz");
		}
		fs_seq_add(&out, big.data, big.len);
	}
	buf_free(&big);
	buf_free(&s->all);
	free(s->off);
	*s = out;
}

/* Release a sequence. */
static void
fs_seq_free(struct fs_seq *s)
{
	buf_free(&s->all);
	free(s->off);
	memset(s, 0, sizeof(*s));
}

/* ---- Magic words -------------------------------------------------------------------- */

/* Parse a bounded non-negative integer value; -1 when it is not one. */
static long
fs_magic_num(const char *v, size_t n, long max)
{
	char tmp[32], *end;
	long r;

	if (n == 0 || n >= sizeof(tmp))
		return -1;
	memcpy(tmp, v, n);
	tmp[n] = '\0';
	errno = 0;
	r = strtol(tmp, &end, 10);
	if (*end != '\0' || errno != 0 || r < 0)
		return -1;
	return r > max ? max : r;
}

/* Copy a value into a fixed field, truncating. */
static void
fs_magic_str(char *dst, size_t cap, const char *v, size_t n)
{
	if (n >= cap)
		n = cap - 1;
	memcpy(dst, v, n);
	dst[n] = '\0';
}

/* Copy a value made only of digits and dots (a seconds value for a header). */
static void
fs_magic_secs(char *dst, size_t cap, const char *v, size_t n)
{
	if (n > 0 && strspn(v, "0123456789.") >= n)
		fs_magic_str(dst, cap, v, n);
}

/* Apply one name=value pair. */
static void
fs_magic_apply(struct fs_magic *m, const char *k, size_t kn, const char *v, size_t vn)
{
	static const struct { const char *name; unsigned bit; } faults[] = {
		{ "close_mid", FS_FAULT_CLOSE_MID }, { "stall", FS_FAULT_STALL },
		{ "malformed", FS_FAULT_MALFORMED }, { "error_mid", FS_FAULT_ERROR_MID },
		{ "no_usage", FS_FAULT_NO_USAGE }, { "crlf", FS_FAULT_CRLF },
		{ "huge_line", FS_FAULT_HUGE_LINE }, { "echo_key", FS_FAULT_ECHO_KEY },
		{ "huge_line", FS_FAULT_HUGE_LINE }, { "long_line", FS_FAULT_LONG_LINE },
		{ "comments", FS_FAULT_COMMENTS }, { "escapes", FS_FAULT_ESCAPES },
	};
	size_t i;

#define FS_KEY(s) (kn == sizeof(s) - 1 && memcmp(k, s, kn) == 0)
	if (FS_KEY("tokens"))
		m->tokens = fs_magic_num(v, vn, FS_MAX_COUNT);
	else if (FS_KEY("token_bytes"))
		m->token_bytes = fs_magic_num(v, vn, FS_MAX_TOKEN_BYTES);
	else if (FS_KEY("think"))
		m->think = fs_magic_num(v, vn, FS_MAX_COUNT);
	else if (FS_KEY("delay_ms"))
		m->delay_ms = fs_magic_num(v, vn, FS_MAX_DELAY);
	else if (FS_KEY("burst"))
		m->burst = fs_magic_num(v, vn, 1000000);
	else if (FS_KEY("first_delay_ms"))
		m->first_delay_ms = fs_magic_num(v, vn, FS_MAX_DELAY);
	else if (FS_KEY("header_delay_ms"))
		m->header_delay_ms = fs_magic_num(v, vn, FS_MAX_DELAY);
	else if (FS_KEY("status"))
		m->status = (int)fs_magic_num(v, vn, 599);
	else if (FS_KEY("retry_after"))
		fs_magic_secs(m->retry_after, sizeof(m->retry_after), v, vn);
	else if (FS_KEY("retry_after_ms"))
		fs_magic_secs(m->retry_after_ms, sizeof(m->retry_after_ms), v, vn);
	else if (FS_KEY("ctx"))
		m->ctx = fs_magic_num(v, vn, 1) == 1;
	else if (FS_KEY("fail_times"))
		m->fail_times = fs_magic_num(v, vn, FS_MAX_COUNT);
	else if (FS_KEY("id"))
		fs_magic_str(m->id, sizeof(m->id), v, vn);
	else if (FS_KEY("vector"))
		fs_magic_str(m->vector, sizeof(m->vector), v, vn);
	else if (FS_KEY("chunked"))
		m->chunked = fs_magic_num(v, vn, 1) != 0;
	else if (FS_KEY("line_mb"))
		m->line_mb = fs_magic_num(v, vn, FS_MAX_LINE_MB);
	else if (FS_KEY("echo"))
		m->echo = fs_magic_num(v, vn, 1) == 1;
	else if (FS_KEY("doc"))
		m->doc = vn == 2 && memcmp(v, "md", 2) == 0;
	else if (FS_KEY("reasoning"))
		m->reasoning_alt = vn == 9 && memcmp(v, "reasoning", 9) == 0;
	else if (FS_KEY("fault")) {
		for (i = 0; i < sizeof(faults) / sizeof(faults[0]); i++) {
			if (strlen(faults[i].name) == vn && memcmp(v, faults[i].name, vn) == 0)
				m->faults |= faults[i].bit;
		}
	}
#undef FS_KEY
}

/* The model a word's "[MODEL]" prefix names: the key starts at k, right after a ']' that
 * closes a '[' at the start of the word. Sets *scope and *n, or returns false. */
static bool
fs_magic_scope(const char *text, const char *k, const char **scope, size_t *n)
{
	const char *o;

	if (k == text || k[-1] != ']')
		return false;
	for (o = k - 1; o > text && o[-1] != '[' && !isspace((unsigned char)o[-1]); o--)
		;
	if (o == text || o[-1] != '[' || (o - 1 > text && !isspace((unsigned char)o[-2])))
		return false;
	*scope = o;
	*n = (size_t)(k - 1 - o);
	return true;
}

/* Apply the name=value words of text: the plain ones when model is NULL, else only those
 * scoped to model with a "[MODEL]" prefix. A name starts a word (or follows the prefix)
 * and values are [A-Za-z0-9_.:-]. */
static void
fs_magic_scan(const char *text, const char *model, struct fs_magic *m)
{
	const char *p, *scope;
	size_t sn;

	for (p = text; *p != '\0'; p++) {
		const char *k = p, *v, *e;
		bool scoped;

		if (p > text && (isalnum((unsigned char)p[-1]) || p[-1] == '_' || p[-1] == '='))
			continue;
		while (islower((unsigned char)*p) || *p == '_')
			p++;
		if (*p != '=' || p == k) {
			p = k;
			continue;
		}
		v = p + 1;
		e = v;
		while (*e != '\0' && (isalnum((unsigned char)*e) || strchr("_.:-", *e) != NULL))
			e++;
		/* A sentence may end right after the value: drop a trailing dot or colon. */
		while (e > v && (e[-1] == '.' || e[-1] == ':'))
			e--;
		scoped = fs_magic_scope(text, k, &scope, &sn);
		if (model == NULL ? !scoped :
		    scoped && strlen(model) == sn && memcmp(scope, model, sn) == 0)
			fs_magic_apply(m, k, (size_t)(p - k), v, (size_t)(e - v));
		p = e > v ? e - 1 : v - 1;
	}
}

/* Find every name=value word in text; words scoped to the request's model
 * ("[m-slow]delay_ms=50") apply after the plain ones, so they win. */
void
fs_magic_parse(const char *text, const char *model, struct fs_magic *m)
{
	memset(m, 0, sizeof(*m));
	m->tokens = m->think = -1;
	m->delay_ms = m->first_delay_ms = m->header_delay_ms = -1;
	m->fail_times = -1;
	m->status = -1;
	m->chunked = true;
	m->line_mb = -1;
	fs_magic_scan(text, NULL, m);
	fs_magic_scan(text, model, m);
}

/* ---- Request bodies ------------------------------------------------------------------- */

/* Count whitespace-separated words. */
static long
fs_count_words(const char *s)
{
	long n = 0;
	bool in = false;

	for (; *s != '\0'; s++) {
		bool sp = isspace((unsigned char)*s) != 0;

		if (!sp && !in)
			n++;
		in = !sp;
	}
	return n;
}

/* Append the text of a content value: a string, or an array of parts with "text". */
static void
fs_content_text(const cJSON *content, struct buf *out)
{
	const cJSON *part;

	if (cJSON_IsString(content)) {
		buf_puts(out, content->valuestring);
		return;
	}
	cJSON_ArrayForEach(part, content) {
		const cJSON *t = cJSON_GetObjectItemCaseSensitive(part, "text");

		if (cJSON_IsString(part))
			t = part;
		if (cJSON_IsString(t)) {
			if (out->len > 0)
				buf_putc(out, '\n');
			buf_puts(out, t->valuestring);
		}
	}
}

/* Word count of one content value. */
static long
fs_content_words(const cJSON *content)
{
	struct buf t = BUF_INIT;
	long n;

	fs_content_text(content, &t);
	n = fs_count_words(buf_str(&t));
	buf_free(&t);
	return n;
}

/* Is content a list of parts that are all tool results (tool_result, functionResponse)? */
static bool
fs_content_tool_only(const cJSON *content)
{
	const cJSON *part;
	bool any = false;

	if (!cJSON_IsArray(content))
		return false;
	cJSON_ArrayForEach(part, content) {
		const cJSON *type = cJSON_GetObjectItemCaseSensitive(part, "type");

		if (cJSON_GetObjectItemCaseSensitive(part, "functionResponse") == NULL &&
		    !(cJSON_IsString(type) && strcmp(type->valuestring, "tool_result") == 0))
			return false;
		any = true;
	}
	return any;
}

/*
 * Fill chat from a request body: the last user message, the word count of the whole
 * conversation and the stream flag. The message list is "messages" (role/content) except for
 * Gemini, whose "contents" hold role/parts.
 */
static void
fs_chat_from_json(struct fs_chat *chat, const cJSON *root)
{
	const bool gemini = chat->proto == FS_GEMINI;
	const cJSON *msgs = cJSON_GetObjectItemCaseSensitive(root, gemini ? "contents" : "messages");
	const cJSON *model = cJSON_GetObjectItemCaseSensitive(root, "model");
	const cJSON *stream = cJSON_GetObjectItemCaseSensitive(root, "stream");
	const cJSON *sys, *msg, *last = NULL;

	if (!gemini)
		chat->model = xstrdup(cJSON_IsString(model) && model->valuestring[0] != '\0' ?
		    model->valuestring : "fake-model");
	if (chat->proto == FS_OLLAMA)
		chat->stream = !cJSON_IsFalse(stream);
	else if (!gemini)
		chat->stream = cJSON_IsTrue(stream);
	if (chat->proto == FS_OPENAI) {
		const cJSON *so = cJSON_GetObjectItemCaseSensitive(root, "stream_options");

		chat->include_usage =
		    cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(so, "include_usage"));
	}
	sys = cJSON_GetObjectItemCaseSensitive(root, gemini ? "systemInstruction" : "system");
	if (gemini)
		sys = cJSON_GetObjectItemCaseSensitive(sys, "parts");
	if (sys != NULL)
		chat->input_words += fs_content_words(sys);
	cJSON_ArrayForEach(msg, msgs) {
		const cJSON *role = cJSON_GetObjectItemCaseSensitive(msg, "role");
		const cJSON *content = cJSON_GetObjectItemCaseSensitive(msg, gemini ? "parts" : "content");

		chat->input_words += fs_content_words(content);
		/* Tool results come as user messages too (Anthropic, Gemini): not a prompt. */
		if (((gemini && !cJSON_IsString(role)) ||
		    (cJSON_IsString(role) && strcmp(role->valuestring, "user") == 0)) &&
		    !fs_content_tool_only(content))
			last = content;
	}
	if (last != NULL)
		fs_content_text(last, &chat->prompt);
}

/* Build the reply: reasoning tokens, then the text tokens or the default echo sentence. */
static void
fs_chat_reply(struct fs_chat *chat)
{
	if (chat->m.faults & FS_FAULT_ECHO_KEY) {
		struct buf s = BUF_INIT;

		buf_printf(&s, "The request carried %s.", buf_str(&chat->echo));
		if (chat->m.think > 0)
			fs_seq_pieces(&chat->think, buf_str(&s), 3);
		fs_seq_pieces(&chat->text, buf_str(&s), 3);
		buf_free(&s);
		return;
	}
	if (chat->m.think > 0)
		fs_seq_numbered(&chat->think, 'r', chat->m.think, 0);
	if (chat->tools.calling) {
		/* The calls follow whatever text tokens=N asks for (none by default). */
		if (chat->m.tokens > 0)
			fs_seq_numbered(&chat->text, 'w', chat->m.tokens, chat->m.token_bytes);
	} else if (chat->tools.answer.len > 0) {
		struct buf s = BUF_INIT;

		buf_printf(&s, "The tools answered: %s.", buf_str(&chat->tools.answer));
		fs_seq_words(&chat->text, buf_str(&s));
		buf_free(&s);
	} else if (chat->m.echo) {
		fs_seq_verbatim(&chat->text, buf_str(&chat->prompt), "echo=1");
	} else if (chat->m.doc && chat->m.tokens > 0) {
		fs_seq_markdown(&chat->text, chat->m.tokens);
	} else if (chat->m.tokens >= 0) {
		fs_seq_numbered(&chat->text, 'w', chat->m.tokens, chat->m.token_bytes);
	} else {
		struct buf s = BUF_INIT;
		const char *p = buf_str(&chat->prompt);
		int words = 0;

		/* Echo the first few words so a test can tell which prompt was answered. */
		buf_puts(&s, "This is fakeserver answering:");
		while (*p != '\0' && words < FS_ECHO_WORDS) {
			size_t w;

			p += strspn(p, " \t\r\n");
			w = strcspn(p, " \t\r\n");
			if (w == 0)
				break;
			buf_putc(&s, ' ');
			buf_append(&s, p, w);
			p += w;
			words++;
		}
		if (words == 0)
			buf_puts(&s, " (empty prompt)");
		if (strchr(".!?", s.data[s.len - 1]) == NULL)
			buf_putc(&s, '.');
		fs_seq_words(&chat->text, buf_str(&s));
		buf_free(&s);
	}
	if (chat->m.faults & FS_FAULT_HUGE_LINE) {
		if (chat->text.n > 0)
			fs_seq_make_huge(&chat->text);
		else if (chat->think.n > 0)
			fs_seq_make_huge(&chat->think);
	}
}

/* Release a chat. */
static void
fs_chat_free(struct fs_chat *chat)
{
	free(chat->model);
	buf_free(&chat->prompt);
	fs_seq_free(&chat->think);
	fs_seq_free(&chat->text);
	buf_free(&chat->echo);
	fs_tools_free(&chat->tools);
}

/* The credential of a request as "Name: value" (or "key=value" from the query), for
 * fault=echo_key. */
static void
fs_chat_echo(const struct fs_request *req, struct buf *out)
{
	static const char *const names[] = { "authorization", "x-api-key", "x-goog-api-key" };
	struct buf q = BUF_INIT;
	const char *v;
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if ((v = fs_header_get(req, names[i])) != NULL) {
			buf_printf(out, "%s: %s", names[i], v);
			return;
		}
	}
	if (fs_query_get(req, "key", &q))
		buf_printf(out, "key=%s", buf_str(&q));
	else
		buf_puts(out, "no credential");
	buf_free(&q);
}

/* ---- Responses ---------------------------------------------------------------------- */

/* Send a complete JSON response, after first_delay_ms if one was asked for. */
void
fs_reply_json(struct fs_conn *c, const struct fs_chat *chat, int status, const struct buf *hdrs,
    const struct buf *body)
{
	fs_send_head(c, status, "application/json; charset=utf-8", hdrs, (long long)body->len);
	if (chat != NULL && chat->m.first_delay_ms > 0 &&
	    !fs_sleep_ms(c->srv, chat->m.first_delay_ms)) {
		c->dead = true;
		return;
	}
	fs_write_all(c, body->data, body->len);
}

/* Send the protocol's error body for status. */
void
fs_reply_error(struct fs_conn *c, const struct fs_chat *chat, int status)
{
	struct buf hdrs = BUF_INIT, body = BUF_INIT;

	status = fs_wires[chat->proto]->http_error(chat, status, &hdrs, &body);
	fs_reply_json(c, chat, status, &hdrs, &body);
	buf_free(&hdrs);
	buf_free(&body);
}

/* Hand the pending output to the socket as one HTTP chunk. */
static void
fs_emit_flush(struct fs_emit *e)
{
	fs_send_chunk(e->c, e->out.data, e->out.len);
	buf_reset(&e->out);
}

/* fault=long_line: one token event whose text is line_mb MiB of filler, written in 1 MiB
 * pieces so the server never holds the line; the stream then goes on as usual. */
static void
fs_emit_long_line(struct fs_emit *e, const struct fs_wire *w)
{
	const size_t piece = (size_t)1 << 20;
	size_t at, mb = e->chat->m.line_mb >= 0 ? (size_t)e->chat->m.line_mb : FS_LONG_LINE_MB;
	const char *mark;
	char *filler;

	w->token(e, false, FS_LONG_MARK, strlen(FS_LONG_MARK), false);
	mark = strstr(buf_str(&e->out), FS_LONG_MARK);
	if (mark == NULL)
		return;
	at = (size_t)(mark - e->out.data);
	fs_send_chunk(e->c, e->out.data, at);
	filler = xmalloc(piece);
	memset(filler, 'x', piece);
	while (mb-- > 0 && !e->c->dead)
		fs_send_chunk(e->c, filler, piece);
	free(filler);
	buf_consume(&e->out, at + strlen(FS_LONG_MARK));
}

/* fault=escapes: one token event whose JSON string is FS_ESCAPES, which no encoder would
 * write from text (a lone surrogate cannot be UTF-8) but servers have sent. */
static void
fs_emit_escapes(struct fs_emit *e, const struct fs_wire *w)
{
	struct buf rest = BUF_INIT;
	size_t at, mlen = strlen(FS_ESCAPES_MARK);
	const char *mark;

	at = e->out.len;
	w->token(e, false, FS_ESCAPES_MARK, mlen, false);
	mark = strstr(buf_str(&e->out) + at, FS_ESCAPES_MARK);
	if (mark == NULL)
		return;
	at = (size_t)(mark - e->out.data);
	buf_append(&rest, mark + mlen, e->out.len - at - mlen);
	e->out.len = at;
	buf_puts(&e->out, FS_ESCAPES);
	buf_append(&e->out, rest.data, rest.len);
	buf_free(&rest);
}

/* fault=comments: keep-alive comments every FS_COMMENT_MS (blank lines for NDJSON, which
 * has no comments) until the client goes away; nothing else is ever sent. */
static void
fs_emit_comments(struct fs_emit *e)
{
	const char *ping = e->chat->proto == FS_OLLAMA ? "\n" : ": keep-alive\n\n";

	fs_emit_flush(e);
	while (!e->c->dead) {
		fs_send_chunk(e->c, ping, strlen(ping));
		if (!fs_sleep_ms(e->c->srv, FS_COMMENT_MS))
			break;
	}
	e->c->dead = true;
}

/*
 * Act on the faults due once half of the tokens are out. Returns false when the stream must
 * stop here (the connection is then closed or already finished).
 */
static bool
fs_emit_faults(struct fs_emit *e, const struct fs_wire *w)
{
	unsigned f = e->chat->m.faults;

	if (f & FS_FAULT_MALFORMED)
		w->malformed(e);
	if (f & FS_FAULT_LONG_LINE)
		fs_emit_long_line(e, w);
	if (f & FS_FAULT_ESCAPES)
		fs_emit_escapes(e, w);
	if (f & FS_FAULT_COMMENTS) {
		fs_emit_comments(e);
		return false;
	}
	if (f & FS_FAULT_ERROR_MID) {
		w->error(e);
		fs_emit_flush(e);
		fs_send_end(e->c);
		return false;
	}
	if (f & FS_FAULT_CLOSE_MID) {
		/* No terminator, no final chunk: the client sees the connection drop. */
		fs_emit_flush(e);
		e->c->dead = true;
		return false;
	}
	if (f & FS_FAULT_STALL) {
		fs_emit_flush(e);
		fs_wait_client_gone(e->c);
		e->c->dead = true;
		return false;
	}
	return true;
}

/*
 * Stream the reply: headers, optional first delay, the protocol's opening events, each token
 * (flushed and spaced when delay_ms asks, else gathered into large writes), the faults at the
 * half-way point, and the closing events.
 */
static void
fs_stream(struct fs_conn *c, const struct fs_chat *chat)
{
	const struct fs_wire *w = fs_wires[chat->proto];
	const bool paced = chat->m.delay_ms > 0;
	const size_t burst = chat->m.burst > 1 ? (size_t)chat->m.burst : 1;
	struct fs_emit e;
	struct buf hdrs = BUF_INIT;
	size_t total = chat->think.n + chat->text.n, half = total / 2, k;

	memset(&e, 0, sizeof(e));
	e.c = c;
	e.chat = chat;
	e.eol = (chat->m.faults & FS_FAULT_CRLF) || chat->proto == FS_GEMINI ? "\r\n" : "\n";
	buf_init(&e.out);
	buf_init(&e.head);
	if (chat->proto == FS_ANTHROPIC)
		buf_printf(&hdrs, "request-id: req_fake%06lu\r\n", chat->seq);
	else if (chat->proto == FS_OPENAI)
		buf_printf(&hdrs, "x-request-id: req_fake%06lu\r\n", chat->seq);
	buf_puts(&hdrs, "Cache-Control: no-cache\r\n");
	c->chunked = chat->m.chunked;
	fs_send_head(c, 200, chat->gemini_array ? "application/json; charset=UTF-8" : w->ctype,
	    &hdrs, -1);
	buf_free(&hdrs);
	if (chat->m.first_delay_ms > 0 && !fs_sleep_ms(c->srv, chat->m.first_delay_ms))
		c->dead = true;
	w->start(&e);
	for (k = 0; !c->dead; k++) {
		bool reasoning = k < chat->think.n;
		const struct fs_seq *s = reasoning ? &chat->think : &chat->text;
		size_t i = reasoning ? k : k - chat->think.n;

		if (k == half && chat->m.faults != 0 && !fs_emit_faults(&e, w))
			break;
		if (k == total) {
			if (chat->tools.calling)
				w->tools(&e);
			w->finish(&e);
			fs_emit_flush(&e);
			fs_send_end(c);
			break;
		}
		if (paced && k > 0 && k % burst == 0) {
			fs_emit_flush(&e);
			if (!fs_sleep_ms(c->srv, chat->m.delay_ms)) {
				c->dead = true;
				break;
			}
		}
		w->token(&e, reasoning, s->all.data + s->off[i], s->off[i + 1] - s->off[i],
		    k + 1 == total);
		if ((paced && (k + 1) % burst == 0) || e.out.len >= FS_FLUSH_AT)
			fs_emit_flush(&e);
	}
	buf_free(&e.out);
	buf_free(&e.head);
}

/* Send the whole reply as one JSON object (stream false, or Gemini :generateContent). */
static void
fs_whole(struct fs_conn *c, const struct fs_chat *chat)
{
	struct buf body = BUF_INIT, hdrs = BUF_INIT;

	fs_wires[chat->proto]->whole(chat, &body);
	if (chat->proto == FS_ANTHROPIC)
		buf_printf(&hdrs, "request-id: req_fake%06lu\r\n", chat->seq);
	fs_reply_json(c, chat, 200, &hdrs, &body);
	buf_free(&body);
	buf_free(&hdrs);
}

/* Is s one of the keys the server accepts (or the rate-limited one)? */
static bool
fs_key_known(const struct fs_server *srv, const char *s)
{
	int i;

	if (s == NULL)
		return false;
	for (i = 0; i < srv->nkeys; i++)
		if (strcmp(s, srv->keys[i]) == 0)
			return true;
	for (i = 0; i < srv->nlimit; i++)
		if (strcmp(s, srv->limit_keys[i]) == 0)
			return true;
	return false;
}

/* Does the request carry key in the protocol's place? */
static bool
fs_key_sent(const struct fs_request *req, enum fs_proto proto, const char *key)
{
	const char *auth = fs_header_get(req, "authorization");
	const char *xkey = fs_header_get(req, "x-api-key");
	const char *gkey = fs_header_get(req, "x-goog-api-key");
	struct buf q = BUF_INIT;
	bool bearer = auth != NULL && strncmp(auth, "Bearer ", 7) == 0, sent = false;

	switch (proto) {
	case FS_ANTHROPIC:
		sent = (xkey != NULL && strcmp(xkey, key) == 0) || (bearer && strcmp(auth + 7, key) == 0);
		break;
	case FS_GEMINI:
		sent = (fs_query_get(req, "key", &q) && strcmp(buf_str(&q), key) == 0) ||
		    (gkey != NULL && strcmp(gkey, key) == 0);
		break;
	default:
		sent = bearer && strcmp(auth + 7, key) == 0;
		break;
	}
	buf_free(&q);
	return sent;
}

/* Does the request carry one of the --limit-key keys? */
bool
fs_key_limited(const struct fs_server *srv, const struct fs_request *req, enum fs_proto proto)
{
	int i;

	for (i = 0; i < srv->nlimit; i++)
		if (fs_key_sent(req, proto, srv->limit_keys[i]))
			return true;
	return false;
}

/* Does the request carry an accepted key in the protocol's place? *missing if none at all. */
bool
fs_auth_ok(const struct fs_server *srv, const struct fs_request *req, enum fs_proto proto,
    bool *missing)
{
	const char *auth = fs_header_get(req, "authorization");
	const char *xkey = fs_header_get(req, "x-api-key");
	const char *gkey = fs_header_get(req, "x-goog-api-key");
	struct buf q = BUF_INIT;
	bool ok = false, bearer = auth != NULL && strncmp(auth, "Bearer ", 7) == 0;

	*missing = false;
	if (srv->nkeys == 0 && srv->nlimit == 0)
		return true;
	switch (proto) {
	case FS_ANTHROPIC:
		ok = fs_key_known(srv, xkey) || (bearer && fs_key_known(srv, auth + 7));
		*missing = xkey == NULL && !bearer;
		break;
	case FS_GEMINI:
		if (fs_query_get(req, "key", &q))
			ok = fs_key_known(srv, buf_str(&q));
		ok = ok || fs_key_known(srv, gkey);
		*missing = gkey == NULL && q.len == 0;
		break;
	default:
		ok = bearer && fs_key_known(srv, auth + 7);
		*missing = !bearer;
		break;
	}
	buf_free(&q);
	return ok;
}

/* Send the protocol's authentication error. */
void
fs_reply_auth(struct fs_conn *c, enum fs_proto proto, bool missing)
{
	struct buf hdrs = BUF_INIT, body = BUF_INIT;
	int status = fs_wire_auth_error(proto, missing, &hdrs, &body);

	fs_reply_json(c, NULL, status, &hdrs, &body);
	buf_free(&hdrs);
	buf_free(&body);
}

/* Count this request against its id; true if it is one of the first fail_times. */
bool
fs_should_fail(struct fs_server *srv, const struct fs_magic *m)
{
	struct fs_counter *ct;
	bool fail;

	pthread_mutex_lock(&srv->lock);
	for (ct = srv->counters; ct != NULL; ct = ct->next) {
		if (strcmp(ct->id, m->id) == 0)
			break;
	}
	if (ct == NULL) {
		ct = xcalloc(1, sizeof(*ct));
		ct->id = xstrdup(m->id);
		ct->next = srv->counters;
		srv->counters = ct;
	}
	fail = ++ct->seen <= m->fail_times;
	pthread_mutex_unlock(&srv->lock);
	return fail;
}

/* A generic JSON error for requests no protocol route accepts. */
void
fs_reply_plain_error(struct fs_conn *c, int status, const char *fmt, const char *a,
    const char *b)
{
	struct buf msg = BUF_INIT, body = BUF_INIT;

	buf_printf(&msg, fmt, a, b);
	buf_puts(&body, "{\"error\":{\"message\":");
	buf_json_string(&body, msg.data, msg.len);
	buf_puts(&body, ",\"type\":\"invalid_request_error\",\"param\":null,\"code\":\"not_found\"}}");
	fs_reply_json(c, NULL, status, NULL, &body);
	buf_free(&msg);
	buf_free(&body);
}

/*
 * The error status this request must get before any reply, or 0: 400 for a body that is not
 * JSON, the fail_times countdown (status= or the protocol's overloaded status), then status=.
 */
static int
fs_chat_error_status(struct fs_server *srv, const struct fs_chat *chat, bool parsed)
{
	if (!parsed || chat->tools.error.len > 0)
		return 400;
	if (chat->m.fail_times >= 0) {
		if (!fs_should_fail(srv, &chat->m))
			return 0;
		if (chat->m.status > 0)
			return chat->m.status;
		return chat->proto == FS_ANTHROPIC ? 529 : 503;
	}
	return chat->m.status > 0 ? chat->m.status : 0;
}

/* Send the successful answer: a recorded vector, a stream, or one JSON object. */
static void
fs_chat_answer(struct fs_conn *c, struct fs_chat *chat)
{
	const struct fs_vectors *vs = c->srv->vectors;

	if (chat->m.vector[0] != '\0') {
		if (!fs_vectors_replay(c, vs, chat->m.vector, chat->m.first_delay_ms,
		    chat->m.delay_ms))
			fs_reply_plain_error(c, 404, "fakeserver: no vector named %s%s",
			    chat->m.vector, vs != NULL ? "" : " (no vectors file loaded)");
		return;
	}
	fs_chat_reply(chat);
	if (chat->stream)
		fs_stream(c, chat);
	else
		fs_whole(c, chat);
}

/* Serve one chat request of the given protocol. */
static void
fs_chat(struct fs_conn *c, const struct fs_request *req, enum fs_proto proto)
{
	struct fs_server *srv = c->srv;
	struct fs_chat chat;
	cJSON *root;
	bool missing, parsed;
	int err;

	memset(&chat, 0, sizeof(chat));
	chat.proto = proto;
	buf_init(&chat.prompt);
	pthread_mutex_lock(&srv->lock);
	chat.seq = ++srv->seq;
	pthread_mutex_unlock(&srv->lock);
	if (proto == FS_GEMINI) {
		const char *m = strstr(req->path, "/models/") + 8;
		struct buf alt = BUF_INIT;

		chat.model = xstrndup(m, strcspn(m, ":"));
		chat.stream = fs_ends_with(req->path, ":streamGenerateContent");
		chat.gemini_array = chat.stream && !(fs_query_get(req, "alt", &alt) &&
		    strcmp(buf_str(&alt), "sse") == 0);
		buf_free(&alt);
	}
	root = cJSON_ParseWithLength(req->body.data, req->body.len);
	parsed = root != NULL;
	if (parsed) {
		fs_chat_from_json(&chat, root);
		fs_tools_plan(&chat, root);
	}
	cJSON_Delete(root);
	if (chat.model == NULL)
		chat.model = xstrdup("fake-model");
	fs_magic_parse(buf_str(&chat.prompt), chat.model, &chat.m);
	if (chat.m.faults & FS_FAULT_ECHO_KEY)
		fs_chat_echo(req, &chat.echo);

	if (chat.m.header_delay_ms > 0 && !fs_sleep_ms(srv, chat.m.header_delay_ms))
		c->dead = true;
	else if (!fs_auth_ok(srv, req, proto, &missing))
		fs_reply_auth(c, proto, missing);
	else if (fs_key_limited(srv, req, proto))
		fs_reply_error(c, &chat, 429);
	else if ((err = fs_chat_error_status(srv, &chat, parsed)) > 0)
		fs_reply_error(c, &chat, err);
	else
		fs_chat_answer(c, &chat);
	fs_chat_free(&chat);
}

/* Serve a model list: the --models-vector replay when there is one, else the built-in list. */
static void
fs_models(struct fs_conn *c, const struct fs_request *req, enum fs_proto proto)
{
	struct buf body = BUF_INIT;
	bool missing;

	if (!fs_auth_ok(c->srv, req, proto, &missing)) {
		fs_reply_auth(c, proto, missing);
		return;
	}
	if (c->srv->models_vector != NULL) {
		if (!fs_vectors_replay(c, c->srv->vectors, c->srv->models_vector, 0, 0))
			fs_reply_plain_error(c, 404, "fakeserver: no vector named %s%s",
			    c->srv->models_vector, "");
		return;
	}
	fs_reply_json(c, NULL, fs_wire_models(proto, req, &body), NULL, &body);
	buf_free(&body);
}

/* Route one request by method and path suffix. */
void
fs_proto_handle(struct fs_conn *c, const struct fs_request *req)
{
	const char *p = req->path;
	bool post = strcmp(req->method, "POST") == 0, get = strcmp(req->method, "GET") == 0;

	/* Audio and embeddings first: Gemini's generateContent with inline audio is theirs. */
	if (fs_media_route(c, req))
		return;
	if (post && fs_ends_with(p, "/chat/completions"))
		fs_chat(c, req, FS_OPENAI);
	else if (post && fs_ends_with(p, "/messages"))
		fs_chat(c, req, FS_ANTHROPIC);
	else if (post && strstr(p, "/models/") != NULL &&
	    (fs_ends_with(p, ":streamGenerateContent") || fs_ends_with(p, ":generateContent")))
		fs_chat(c, req, FS_GEMINI);
	else if (post && fs_ends_with(p, "/api/chat"))
		fs_chat(c, req, FS_OLLAMA);
	else if (get && fs_ends_with(p, "/v1beta/models"))
		fs_models(c, req, FS_GEMINI);
	else if (get && fs_ends_with(p, "/api/tags"))
		fs_models(c, req, FS_OLLAMA);
	else if (get && fs_ends_with(p, "/models"))
		fs_models(c, req, fs_header_get(req, "anthropic-version") ? FS_ANTHROPIC : FS_OPENAI);
	else
		fs_reply_plain_error(c, 404, "fakeserver: no route for %s %s", req->method, p);
}
