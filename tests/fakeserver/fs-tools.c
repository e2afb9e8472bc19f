/*
 * Tool calls in the fake server: the tool words of the prompt, the tools a request
 * declares and the tool history it sends back, each checked the way the real API checks
 * it. A request whose declarations or history are not well-formed for its protocol gets
 * a 400 whose message names what is wrong (the real API's wording where it is known), so
 * a test of natter's tool loop fails on a history a real provider would refuse.
 *
 * Words (whitespace-separated, anywhere in the last user message; see README.md):
 *   tool=NAME         call tool NAME (up to FS_MAX_CALLS, in order)
 *   args=JSON         the arguments of the tool= before it (default {}); an object runs to
 *                     its closing brace, so its strings may hold spaces
 *   tool_rounds=N     call again until N rounds of calls have results, then answer (1)
 *   tool_quirk=no_index|args_first   OpenAI pieces as broken servers send them
 *
 * "The current turn" is what follows the last user message that has text of its own (not
 * only tool results): its rounds of calls are counted, and once they reach tool_rounds the
 * reply quotes the last round's results instead of calling again.
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cJSON.h>

#include "fakeserver.h"
#include "xmalloc.h"

#define FS_MAX_ROUNDS 16
#define FS_MAX_PENDING 64
#define FS_RESULT_BYTES 200

/* Calls of the last assistant message that still wait for their results. */
struct fs_pending {
	const char *id[FS_MAX_PENDING];
	const char *name[FS_MAX_PENDING];
	bool answered[FS_MAX_PENDING];
	int n;
	int at;               /* the message that made them */
};

/* ---- Words ---------------------------------------------------------------------------- */

/* Apply one word of the prompt. */
static void
fs_tools_word(struct fs_tools *t, const char *w, size_t n)
{
	cJSON *j;

	if (n > 5 && strncmp(w, "tool=", 5) == 0 && t->ncalls < FS_MAX_CALLS) {
		t->calls[t->ncalls].name = xstrndup(w + 5, n - 5);
		t->calls[t->ncalls].args = xstrdup("{}");
		t->calls[t->ncalls].object = true;
		t->ncalls++;
	} else if (n > 5 && strncmp(w, "args=", 5) == 0 && t->ncalls > 0) {
		struct fs_call *c = &t->calls[t->ncalls - 1];

		free(c->args);
		j = cJSON_ParseWithLength(w + 5, n - 5);
		c->object = cJSON_IsObject(j);
		c->args = c->object ? cJSON_PrintUnformatted(j) : xstrndup(w + 5, n - 5);
		if (c->object) {
			/* cJSON's allocator is malloc: keep the text in one of ours. */
			char *copy = xstrdup(c->args);

			cJSON_free(c->args);
			c->args = copy;
		}
		cJSON_Delete(j);
	} else if (n > 12 && strncmp(w, "tool_rounds=", 12) == 0) {
		t->rounds = strtol(w + 12, NULL, 10);
		if (t->rounds < 1)
			t->rounds = 1;
		if (t->rounds > FS_MAX_ROUNDS)
			t->rounds = FS_MAX_ROUNDS;
	} else if (n == 19 && strncmp(w, "tool_quirk=no_index", 19) == 0) {
		t->quirk = FS_QUIRK_NO_INDEX;
	} else if (n == 21 && strncmp(w, "tool_quirk=args_first", 21) == 0) {
		t->quirk = FS_QUIRK_ARGS_FIRST;
	}
}

/* The length of the JSON object at p, through its closing brace (strings may hold
 * spaces and braces), or 0 when it does not close. */
static size_t
fs_json_span(const char *p)
{
	size_t i;
	int depth = 0;
	bool str = false;

	for (i = 0; p[i] != '\0'; i++) {
		if (str) {
			if (p[i] == '\\' && p[i + 1] != '\0')
				i++;
			else if (p[i] == '"')
				str = false;
		} else if (p[i] == '"') {
			str = true;
		} else if (p[i] == '{') {
			depth++;
		} else if (p[i] == '}' && --depth == 0) {
			return i + 1;
		}
	}
	return 0;
}

/* Read the tool words of the prompt; an args={...} word runs to its closing brace. */
static void
fs_tools_words(struct fs_tools *t, const char *p)
{
	size_t n, j;

	t->rounds = 1;
	while (*p != '\0') {
		p += strspn(p, " \t\r\n");
		n = strcspn(p, " \t\r\n");
		if (n > 5 && strncmp(p, "args={", 6) == 0 && (j = fs_json_span(p + 5)) > 0)
			n = 5 + j;
		if (n > 0)
			fs_tools_word(t, p, n);
		p += n;
	}
}

/* ---- Helpers -------------------------------------------------------------------------- */

/* Record the first problem found (later ones are left out). */
static void fs_tools_err(struct fs_tools *t, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void
fs_tools_err(struct fs_tools *t, const char *fmt, ...)
{
	char tmp[1024];
	va_list ap;

	if (t->error.len > 0)
		return;
	va_start(ap, fmt);
	vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	buf_puts(&t->error, tmp);
}

/* The string value of o[key], or NULL. */
static const char *
fs_str(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* Is s a name of [A-Za-z0-9_-]{1,64}, as OpenAI and Anthropic want tool names and ids? */
static bool
fs_plain_name(const char *s, size_t max)
{
	size_t n = s != NULL ? strlen(s) : 0, i;

	if (n == 0 || n > max)
		return false;
	for (i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '_' && s[i] != '-')
			return false;
	return true;
}

/* Is s a Gemini function name: a letter or _ first, then [A-Za-z0-9_.:-], at most 64? */
static bool
fs_gemini_name(const char *s)
{
	size_t n = s != NULL ? strlen(s) : 0, i;

	if (n == 0 || n > 64 || !(isalpha((unsigned char)s[0]) || s[0] == '_'))
		return false;
	for (i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && strchr("_.:-", s[i]) == NULL)
			return false;
	return true;
}

/* Gemini's thoughtSignature for a call of name: opaque-looking (base64 of
 * "fakeserver:NAME"), so a test can tell it was echoed as sent. */
void
fs_tools_signature(const char *name, struct buf *out)
{
	static const char b64[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	struct buf in = BUF_INIT;
	size_t i;

	buf_printf(&in, "fakeserver:%s", name);
	for (i = 0; i < in.len; i += 3) {
		unsigned v = (unsigned char)in.data[i] << 16;
		size_t left = in.len - i;

		if (left > 1)
			v |= (unsigned char)in.data[i + 1] << 8;
		if (left > 2)
			v |= (unsigned char)in.data[i + 2];
		buf_putc(out, b64[(v >> 18) & 63]);
		buf_putc(out, b64[(v >> 12) & 63]);
		buf_putc(out, left > 1 ? b64[(v >> 6) & 63] : '=');
		buf_putc(out, left > 2 ? b64[v & 63] : '=');
	}
	buf_free(&in);
}

/* A new prompt: the current turn starts again. */
static void
fs_turn_reset(struct fs_tools *t)
{
	t->done = 0;
	buf_reset(&t->answer);
}

/* A round of calls came: its results are the ones to quote. */
static void
fs_turn_round(struct fs_tools *t)
{
	t->done++;
	buf_reset(&t->answer);
}

/* Quote one result in the answer: "NAME returned TEXT" (error: "NAME failed: TEXT"). */
static void
fs_turn_result(struct fs_tools *t, const char *name, const char *text, bool error)
{
	size_t n = text != NULL ? strlen(text) : 0;

	if (t->answer.len > 0)
		buf_puts(&t->answer, "; ");
	buf_printf(&t->answer, "%s %s ", name != NULL ? name : "?", error ? "failed:" : "returned");
	buf_append(&t->answer, text != NULL ? text : "", n > FS_RESULT_BYTES ? FS_RESULT_BYTES : n);
}

/* Does a content value (string or parts) carry text of its own? */
static bool
fs_has_text(const cJSON *content)
{
	const cJSON *part;

	if (cJSON_IsString(content))
		return true;
	cJSON_ArrayForEach(part, content)
		if (cJSON_IsString(part) || fs_str(part, "text") != NULL)
			return true;
	return false;
}

/* The pending call of id (by_name: of that name) not answered yet, or -1. */
static int
fs_pending_find(const struct fs_pending *p, const char *key, bool by_name)
{
	int i;

	for (i = 0; key != NULL && i < p->n; i++)
		if (!p->answered[i] && strcmp(by_name ? p->name[i] : p->id[i], key) == 0)
			return i;
	return -1;
}

/* The ids (or names) of the pending calls with no result, comma-separated. */
static void
fs_pending_open(const struct fs_pending *p, bool names, struct buf *out)
{
	int i;

	for (i = 0; i < p->n; i++)
		if (!p->answered[i])
			buf_printf(out, "%s%s", out->len ? ", " : "", names ? p->name[i] : p->id[i]);
}

/* Add a call to the pending set. */
static void
fs_pending_add(struct fs_pending *p, const char *id, const char *name)
{
	if (p->n >= FS_MAX_PENDING)
		return;
	p->id[p->n] = id != NULL ? id : "";
	p->name[p->n] = name != NULL ? name : "";
	p->answered[p->n] = false;
	p->n++;
}

/* ---- Declarations --------------------------------------------------------------------- */

/* Note a declared name; a repeated one is an error. */
static void
fs_declared_add(struct fs_tools *t, const char ***names, int *n, const char *name)
{
	int i;

	for (i = 0; i < *n; i++)
		if (strcmp((*names)[i], name) == 0)
			fs_tools_err(t, "tools: the tool name %s is declared twice; tool names must "
			    "be unique", name);
	*names = xrealloc(*names, (size_t)(*n + 1) * sizeof(**names));
	(*names)[(*n)++] = name;
}

/* Check one OpenAI/Ollama declaration {type:function, function:{name, parameters}}. */
static const char *
fs_declared_openai(struct fs_tools *t, const cJSON *tool, int i)
{
	const cJSON *fn = cJSON_GetObjectItemCaseSensitive(tool, "function");
	const cJSON *params = cJSON_GetObjectItemCaseSensitive(fn, "parameters");
	const char *type = fs_str(tool, "type"), *name = fs_str(fn, "name");

	if (type == NULL || strcmp(type, "function") != 0)
		fs_tools_err(t, "tools[%d].type: expected 'function'", i);
	else if (!cJSON_IsObject(fn))
		fs_tools_err(t, "tools[%d].function: missing the function object", i);
	else if (!fs_plain_name(name, 64))
		fs_tools_err(t, "tools[%d].function.name: expected a string that matches the pattern "
		    "'^[a-zA-Z0-9_-]{1,64}$'", i);
	else if (cJSON_GetObjectItemCaseSensitive(fn, "description") != NULL &&
	    fs_str(fn, "description") == NULL)
		fs_tools_err(t, "tools[%d].function.description: expected a string", i);
	else if (params != NULL && !cJSON_IsObject(params))
		fs_tools_err(t, "tools[%d].function.parameters: expected an object (a JSON Schema)", i);
	else
		return name;
	return NULL;
}

/* Check one Anthropic declaration {name, description?, input_schema:{type:object}}. */
static const char *
fs_declared_anthropic(struct fs_tools *t, const cJSON *tool, int i)
{
	const cJSON *schema = cJSON_GetObjectItemCaseSensitive(tool, "input_schema");
	const char *name = fs_str(tool, "name"), *type = fs_str(schema, "type");

	if (!fs_plain_name(name, 64))
		fs_tools_err(t, "tools.%d.custom.name: String should match pattern "
		    "'^[a-zA-Z0-9_-]{1,64}$'", i);
	else if (!cJSON_IsObject(schema))
		fs_tools_err(t, "tools.%d.custom.input_schema: Field required", i);
	else if (type == NULL || strcmp(type, "object") != 0)
		fs_tools_err(t, "tools.%d.custom.input_schema.type: Input should be 'object'", i);
	else if (cJSON_GetObjectItemCaseSensitive(tool, "parameters") != NULL)
		fs_tools_err(t, "tools.%d.custom.parameters: Extra inputs are not permitted", i);
	else
		return name;
	return NULL;
}

/* Check the Gemini declarations of one tools entry; adds each name. */
static void
fs_declared_gemini(struct fs_tools *t, const cJSON *tool, int i, const char ***names, int *n)
{
	const cJSON *decls = cJSON_GetObjectItemCaseSensitive(tool, "functionDeclarations"), *d;
	int k = 0;

	if (!cJSON_IsArray(decls)) {
		fs_tools_err(t, "Invalid JSON payload received. tools[%d]: expected "
		    "functionDeclarations (an array)", i);
		return;
	}
	cJSON_ArrayForEach(d, decls) {
		const char *name = fs_str(d, "name");

		if (!fs_gemini_name(name))
			fs_tools_err(t, "* GenerateContentRequest.tools[%d].function_declarations[%d]."
			    "name: Invalid function name. Must start with a letter or an underscore. "
			    "Must be a-z, A-Z, 0-9, or contain underscores, dots, colons and dashes, "
			    "with a maximum length of 64.", i, k);
		else if (cJSON_GetObjectItemCaseSensitive(d, "parameters") != NULL &&
		    cJSON_GetObjectItemCaseSensitive(d, "parametersJsonSchema") != NULL)
			fs_tools_err(t, "tools[%d].function_declarations[%d]: parameters and "
			    "parametersJsonSchema cannot both be set", i, k);
		else if (cJSON_GetObjectItemCaseSensitive(d, "parametersJsonSchema") != NULL &&
		    !cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(d, "parametersJsonSchema")))
			fs_tools_err(t, "tools[%d].function_declarations[%d].parametersJsonSchema: "
			    "expected an object", i, k);
		else
			fs_declared_add(t, names, n, name);
		k++;
	}
}

/* Check the request's tool declarations; *names gets the declared names (caller frees
 * the array, the strings belong to root). */
static void
fs_declared(struct fs_tools *t, enum fs_proto proto, const cJSON *root, const char ***names,
    int *n)
{
	const cJSON *tools = cJSON_GetObjectItemCaseSensitive(root, "tools"), *tool;
	const char *name;
	int i = 0;

	*names = NULL;
	*n = 0;
	if (tools == NULL)
		return;
	if (!cJSON_IsArray(tools)) {
		fs_tools_err(t, "tools: expected an array");
		return;
	}
	cJSON_ArrayForEach(tool, tools) {
		if (!cJSON_IsObject(tool))
			fs_tools_err(t, "tools[%d]: expected an object", i);
		else if (proto == FS_GEMINI)
			fs_declared_gemini(t, tool, i, names, n);
		else if ((name = proto == FS_ANTHROPIC ? fs_declared_anthropic(t, tool, i) :
		    fs_declared_openai(t, tool, i)) != NULL)
			fs_declared_add(t, names, n, name);
		i++;
	}
}

/* ---- History: OpenAI and Ollama ------------------------------------------------------- */

/* The calls of an assistant message (OpenAI: id, type, function name and arguments as a
 * string; Ollama: function name and arguments as an object). */
static void
fs_hist_openai_calls(struct fs_tools *t, const cJSON *calls, int i, bool ollama,
    struct fs_pending *p)
{
	const cJSON *c;
	int k = 0;

	if (!cJSON_IsArray(calls) || cJSON_GetArraySize(calls) == 0) {
		fs_tools_err(t, "messages[%d].tool_calls: expected a non-empty array", i);
		return;
	}
	p->n = 0;
	p->at = i;
	cJSON_ArrayForEach(c, calls) {
		const cJSON *fn = cJSON_GetObjectItemCaseSensitive(c, "function");
		const cJSON *args = cJSON_GetObjectItemCaseSensitive(fn, "arguments");
		const char *id = fs_str(c, "id"), *type = fs_str(c, "type");

		if (!ollama && (id == NULL || id[0] == '\0'))
			fs_tools_err(t, "messages[%d].tool_calls[%d].id: expected a non-empty string",
			    i, k);
		else if (!ollama && (type == NULL || strcmp(type, "function") != 0))
			fs_tools_err(t, "messages[%d].tool_calls[%d].type: expected 'function'", i, k);
		else if (fs_str(fn, "name") == NULL)
			fs_tools_err(t, "messages[%d].tool_calls[%d].function.name: expected a "
			    "string", i, k);
		else if (!ollama && !cJSON_IsString(args))
			fs_tools_err(t, "messages[%d].tool_calls[%d].function.arguments: expected a "
			    "string (the arguments' JSON text)", i, k);
		else if (ollama && !cJSON_IsObject(args))
			fs_tools_err(t, "json: cannot unmarshal %s into Go struct field "
			    "ToolCallFunction.messages.tool_calls.function.arguments of type "
			    "api.ToolCallFunctionArguments", cJSON_IsString(args) ? "string" : "value");
		fs_pending_add(p, id, fs_str(fn, "name"));
		k++;
	}
	fs_turn_round(t);
}

/* A role:tool message: it answers one pending call (OpenAI by tool_call_id, Ollama by
 * tool_name). */
static void
fs_hist_openai_result(struct fs_tools *t, const cJSON *m, int i, bool ollama,
    struct fs_pending *p)
{
	const char *key = fs_str(m, ollama ? "tool_name" : "tool_call_id");
	int k;

	if (p->n == 0) {
		fs_tools_err(t, ollama ? "messages[%d]: a tool message with no assistant tool_calls "
		    "before it" : "Invalid parameter: messages[%d]: messages with role 'tool' must be "
		    "a response to a preceeding message with 'tool_calls'.", i);
		return;
	}
	if (key == NULL) {
		fs_tools_err(t, "messages[%d].%s: expected a string", i,
		    ollama ? "tool_name" : "tool_call_id");
		return;
	}
	if ((k = fs_pending_find(p, key, ollama)) < 0) {
		fs_tools_err(t, ollama ? "messages[%d]: tool_name '%s' names no call of the "
		    "assistant message before it" : "Invalid parameter: messages[%d]: tool_call_id "
		    "'%s' answers no tool call of the assistant message before it", i, key);
		return;
	}
	if (fs_str(m, "content") == NULL) {
		fs_tools_err(t, "messages[%d].content: expected a string", i);
		return;
	}
	p->answered[k] = true;
	fs_turn_result(t, p->name[k], fs_str(m, "content"), false);
}

/* Calls left without results when the next message (or the end) came. */
static void
fs_hist_openai_open(struct fs_tools *t, struct fs_pending *p, bool ollama)
{
	struct buf open = BUF_INIT;

	fs_pending_open(p, ollama, &open);
	if (open.len > 0)
		fs_tools_err(t, "An assistant message with 'tool_calls' must be followed by tool "
		    "messages responding to each 'tool_call_id'. The following %s did not have "
		    "response messages: %s (messages[%d])", ollama ? "tool calls" : "tool_call_ids",
		    buf_str(&open), p->at);
	buf_free(&open);
	p->n = 0;
}

/* Walk OpenAI's (or Ollama's) messages. */
static void
fs_hist_openai(struct fs_tools *t, const cJSON *msgs, bool ollama)
{
	struct fs_pending p;
	const cJSON *m;
	int i = 0;

	memset(&p, 0, sizeof(p));
	cJSON_ArrayForEach(m, msgs) {
		const char *role = fs_str(m, "role");
		const cJSON *calls = cJSON_GetObjectItemCaseSensitive(m, "tool_calls");

		if (role == NULL) {
			fs_tools_err(t, "messages[%d].role: expected a string", i);
		} else if (strcmp(role, "tool") == 0) {
			fs_hist_openai_result(t, m, i, ollama, &p);
		} else {
			fs_hist_openai_open(t, &p, ollama);
			if (strcmp(role, "user") == 0)
				fs_turn_reset(t);
			else if (strcmp(role, "assistant") == 0 && calls != NULL &&
			    !(ollama && cJSON_IsArray(calls) && cJSON_GetArraySize(calls) == 0))
				fs_hist_openai_calls(t, calls, i, ollama, &p);
		}
		i++;
	}
	fs_hist_openai_open(t, &p, ollama);
}

/* ---- History: Anthropic --------------------------------------------------------------- */

/* A user message right after tool_use blocks: it must begin with a tool_result for each. */
static void
fs_hist_anthropic_results(struct fs_tools *t, const cJSON *content, int i, struct fs_pending *p)
{
	const cJSON *b;
	bool in_results = true;
	int k = 0;
	struct buf open = BUF_INIT;

	cJSON_ArrayForEach(b, content) {
		const char *type = fs_str(b, "type"), *id = fs_str(b, "tool_use_id");
		const cJSON *c = cJSON_GetObjectItemCaseSensitive(b, "content");
		const cJSON *err = cJSON_GetObjectItemCaseSensitive(b, "is_error");
		int at;

		if (type == NULL || strcmp(type, "tool_result") != 0) {
			in_results = false;
			k++;
			continue;
		}
		if (!in_results)
			fs_tools_err(t, "messages.%d.content.%d: tool_result blocks must come first "
			    "in the message, before any other content", i, k);
		else if (id == NULL || (at = fs_pending_find(p, id, false)) < 0)
			fs_tools_err(t, "messages.%d.content.%d: unexpected `tool_use_id` found in "
			    "`tool_result` blocks: %s. Each `tool_result` block must have a "
			    "corresponding `tool_use` block in the previous message.", i, k,
			    id != NULL ? id : "(none)");
		else if (c != NULL && !cJSON_IsString(c) && !cJSON_IsArray(c))
			fs_tools_err(t, "messages.%d.content.%d.content: expected a string or a list "
			    "of content blocks", i, k);
		else if (err != NULL && !cJSON_IsBool(err))
			fs_tools_err(t, "messages.%d.content.%d.is_error: Input should be a valid "
			    "boolean", i, k);
		else {
			struct buf text = BUF_INIT;

			p->answered[at] = true;
			if (cJSON_IsString(c))
				buf_puts(&text, c->valuestring);
			else if (c != NULL) {
				const cJSON *part;

				cJSON_ArrayForEach(part, c)
					if (fs_str(part, "text") != NULL)
						buf_puts(&text, fs_str(part, "text"));
			}
			fs_turn_result(t, p->name[at], buf_str(&text), cJSON_IsTrue(err));
			buf_free(&text);
		}
		k++;
	}
	fs_pending_open(p, false, &open);
	if (open.len > 0)
		fs_tools_err(t, "messages.%d: `tool_use` ids were found without `tool_result` "
		    "blocks immediately after: %s. Each `tool_use` block must have a corresponding "
		    "`tool_result` block in the next message.", p->at, buf_str(&open));
	buf_free(&open);
	p->n = 0;
}

/* An assistant message's tool_use blocks become the pending calls. */
static void
fs_hist_anthropic_calls(struct fs_tools *t, const cJSON *content, int i, struct fs_pending *p,
    bool *tool_blocks)
{
	const cJSON *b;
	int k = 0;
	bool any = false;

	p->n = 0;
	p->at = i;
	cJSON_ArrayForEach(b, content) {
		const char *type = fs_str(b, "type");

		if (type != NULL && strcmp(type, "tool_use") == 0) {
			const char *id = fs_str(b, "id"), *name = fs_str(b, "name");

			if (!fs_plain_name(id, 256))
				fs_tools_err(t, "messages.%d.content.%d.tool_use.id: String should match "
				    "pattern '^[a-zA-Z0-9_-]+$'", i, k);
			else if (name == NULL)
				fs_tools_err(t, "messages.%d.content.%d.tool_use.name: Field required", i, k);
			else if (!cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(b, "input")))
				fs_tools_err(t, "messages.%d.content.%d.tool_use.input: Input should be a "
				    "valid dictionary", i, k);
			fs_pending_add(p, id, name);
			any = true;
		} else if (type != NULL && strcmp(type, "tool_result") == 0) {
			fs_tools_err(t, "messages.%d.content.%d: tool_result blocks belong in user "
			    "messages", i, k);
		}
		k++;
	}
	if (any) {
		*tool_blocks = true;
		fs_turn_round(t);
	}
}

/* Walk Anthropic's messages; requests with tool blocks must declare tools. */
static void
fs_hist_anthropic(struct fs_tools *t, const cJSON *msgs, int ndeclared)
{
	struct fs_pending p;
	const cJSON *m, *b;
	bool tool_blocks = false;
	int i = 0;

	memset(&p, 0, sizeof(p));
	cJSON_ArrayForEach(m, msgs) {
		const char *role = fs_str(m, "role");
		const cJSON *content = cJSON_GetObjectItemCaseSensitive(m, "content");
		bool user = role != NULL && strcmp(role, "user") == 0;

		if (role == NULL || (!user && strcmp(role, "assistant") != 0)) {
			fs_tools_err(t, "messages.%d.role: Input should be 'user' or 'assistant'", i);
		} else if (p.n > 0 && !user) {
			fs_hist_anthropic_results(t, NULL, i, &p);
		} else if (p.n > 0) {
			tool_blocks = true;
			fs_hist_anthropic_results(t, content, i, &p);
			if (fs_has_text(content))
				fs_turn_reset(t);
		} else if (user) {
			cJSON_ArrayForEach(b, content) {
				const char *type = fs_str(b, "type");

				if (type != NULL && strcmp(type, "tool_result") == 0) {
					fs_tools_err(t, "messages.%d: unexpected `tool_use_id` found in "
					    "`tool_result` blocks: %s. Each `tool_result` block must have a "
					    "corresponding `tool_use` block in the previous message.", i,
					    fs_str(b, "tool_use_id") ? fs_str(b, "tool_use_id") : "(none)");
				}
			}
			fs_turn_reset(t);
		} else if (cJSON_IsArray(content)) {
			fs_hist_anthropic_calls(t, content, i, &p, &tool_blocks);
		}
		i++;
	}
	if (p.n > 0)
		fs_hist_anthropic_results(t, NULL, i, &p);
	if (tool_blocks && ndeclared == 0)
		fs_tools_err(t, "Requests which include `tool_use` or `tool_result` blocks must "
		    "define tools.");
}

/* ---- History: Gemini ------------------------------------------------------------------ */

/* The index of the last user content with text: where the current turn starts. */
static int
fs_gemini_turn_start(const cJSON *contents)
{
	const cJSON *c;
	int i = 0, at = -1;

	cJSON_ArrayForEach(c, contents) {
		const char *role = fs_str(c, "role");

		if ((role == NULL || strcmp(role, "user") == 0) &&
		    fs_has_text(cJSON_GetObjectItemCaseSensitive(c, "parts")))
			at = i;
		i++;
	}
	return at;
}

/* A model content's functionCall parts: well-formed, and the first of a step of the
 * current turn signed (the one the fake server gave, or another client's). */
static int
fs_hist_gemini_calls(struct fs_tools *t, const cJSON *parts, int i, bool current,
    struct fs_pending *p)
{
	const cJSON *part;
	struct buf sig = BUF_INIT;
	int k = 0, ncalls = 0;

	p->n = 0;
	p->at = i;
	cJSON_ArrayForEach(part, parts) {
		const cJSON *fc = cJSON_GetObjectItemCaseSensitive(part, "functionCall");
		const char *name = fs_str(fc, "name"), *got = fs_str(part, "thoughtSignature");
		const cJSON *args = cJSON_GetObjectItemCaseSensitive(fc, "args");

		k++;
		if (fc == NULL)
			continue;
		if (name == NULL)
			fs_tools_err(t, "* GenerateContentRequest.contents[%d].parts[%d].function_call."
			    "name: Name cannot be empty.", i, k - 1);
		else if (args != NULL && !cJSON_IsObject(args))
			fs_tools_err(t, "Invalid JSON payload received. contents[%d].parts[%d]."
			    "functionCall.args: expected an object", i, k - 1);
		else if (ncalls == 0 && current && got == NULL)
			fs_tools_err(t, "Function call is missing a thought_signature in functionCall "
			    "parts. This is required for tools to work correctly, and missing "
			    "thought_signature may lead to degraded model performance. Additional "
			    "data, function call `%s` , position %d. Please refer to "
			    "https://ai.google.dev/gemini-api/docs/thought-signatures for more details.",
			    name, k);
		if (name != NULL && got != NULL) {
			buf_reset(&sig);
			fs_tools_signature(name, &sig);
			/* Only signatures of the fake server's make can be checked. */
			if (strncmp(got, sig.data, 12) == 0 && strcmp(got, buf_str(&sig)) != 0)
				fs_tools_err(t, "contents[%d].parts[%d]: the thoughtSignature of "
				    "functionCall %s is not the one it came with (Corrupted thought "
				    "signature.)", i, k - 1, name);
		}
		fs_pending_add(p, NULL, name);
		ncalls++;
	}
	buf_free(&sig);
	return ncalls;
}

/* A user content right after a call turn: one functionResponse per call, names matching. */
static void
fs_hist_gemini_results(struct fs_tools *t, const cJSON *parts, int i, struct fs_pending *p)
{
	const cJSON *part;
	int nresp = 0, at;

	cJSON_ArrayForEach(part, parts) {
		const cJSON *fr = cJSON_GetObjectItemCaseSensitive(part, "functionResponse");
		const cJSON *resp = cJSON_GetObjectItemCaseSensitive(fr, "response");
		const cJSON *v;

		if (fr == NULL)
			continue;
		nresp++;
		if (!cJSON_IsObject(resp)) {
			fs_tools_err(t, "contents[%d]: functionResponse.response: expected an object", i);
			continue;
		}
		if ((at = fs_pending_find(p, fs_str(fr, "name"), true)) < 0) {
			fs_tools_err(t, "contents[%d]: the functionResponse for %s answers no "
			    "functionCall of the turn before it", i,
			    fs_str(fr, "name") ? fs_str(fr, "name") : "(no name)");
			continue;
		}
		p->answered[at] = true;
		v = cJSON_GetObjectItemCaseSensitive(resp, "result");
		if (!cJSON_IsString(v))
			v = cJSON_GetObjectItemCaseSensitive(resp, "error");
		fs_turn_result(t, p->name[at], cJSON_IsString(v) ? v->valuestring : "",
		    cJSON_GetObjectItemCaseSensitive(resp, "error") != NULL);
	}
	if (nresp != p->n)
		fs_tools_err(t, "Please ensure that the number of function response parts is equal "
		    "to the number of function call parts of the function call turn. (contents[%d]: "
		    "%d calls, %d responses)", i, p->n, nresp);
	p->n = 0;
}

/* Walk Gemini's contents. */
static void
fs_hist_gemini(struct fs_tools *t, const cJSON *contents)
{
	struct fs_pending p;
	const cJSON *c, *part;
	int i = 0, start = fs_gemini_turn_start(contents);
	bool prev_user = false, prev_response = false;

	memset(&p, 0, sizeof(p));
	cJSON_ArrayForEach(c, contents) {
		const char *role = fs_str(c, "role");
		const cJSON *parts = cJSON_GetObjectItemCaseSensitive(c, "parts");
		bool user = role == NULL || strcmp(role, "user") == 0, responses = false;

		cJSON_ArrayForEach(part, parts)
			if (cJSON_GetObjectItemCaseSensitive(part, "functionResponse") != NULL)
				responses = true;
		if (p.n > 0) {
			if (!user || !responses)
				fs_tools_err(t, "Please ensure that the number of function response parts "
				    "is equal to the number of function call parts of the function call "
				    "turn. (contents[%d] answers none of the calls of contents[%d])", i, p.at);
			fs_hist_gemini_results(t, user ? parts : NULL, i, &p);
		} else if (responses) {
			fs_tools_err(t, "Please ensure that function response turn comes immediately "
			    "after a function call turn. (contents[%d])", i);
		}
		if (user && fs_has_text(parts))
			fs_turn_reset(t);
		if (!user && fs_hist_gemini_calls(t, parts, i, i > start, &p) > 0) {
			if (!prev_user && !prev_response)
				fs_tools_err(t, "Please ensure that function call turn comes immediately "
				    "after a user turn or after a function response turn. (contents[%d])", i);
			fs_turn_round(t);
		}
		prev_user = user;
		prev_response = responses;
		i++;
	}
	if (p.n > 0)
		fs_hist_gemini_results(t, NULL, i, &p);
}

/* ---- The plan ------------------------------------------------------------------------- */

/* Check the request's tools and tool history, and decide whether this reply calls. */
void
fs_tools_plan(struct fs_chat *chat, const struct cJSON *root)
{
	struct fs_tools *t = &chat->tools;
	const char **names = NULL;
	int n = 0, k, i;

	fs_tools_words(t, buf_str(&chat->prompt));
	fs_declared(t, chat->proto, root, &names, &n);
	if (chat->proto == FS_GEMINI)
		fs_hist_gemini(t, cJSON_GetObjectItemCaseSensitive(root, "contents"));
	else if (chat->proto == FS_ANTHROPIC)
		fs_hist_anthropic(t, cJSON_GetObjectItemCaseSensitive(root, "messages"), n);
	else
		fs_hist_openai(t, cJSON_GetObjectItemCaseSensitive(root, "messages"),
		    chat->proto == FS_OLLAMA);
	t->calling = t->ncalls > 0 && t->done < t->rounds;
	for (k = 0; t->calling && k < t->ncalls; k++) {
		for (i = 0; i < n && strcmp(names[i], t->calls[k].name) != 0; i++)
			;
		if (i < n)
			continue;
		if (n == 0) {
			fs_tools_err(t, "fakeserver: the prompt asks for tool %s, but the request "
			    "declares no tools", t->calls[k].name);
		} else {
			struct buf all = BUF_INIT;

			for (i = 0; i < n; i++)
				buf_printf(&all, "%s%s", i ? ", " : "", names[i]);
			fs_tools_err(t, "fakeserver: the prompt asks for tool %s, which the request "
			    "does not declare (it declares %s)", t->calls[k].name, buf_str(&all));
			buf_free(&all);
		}
	}
	free(names);
}

/* Release what the plan holds. */
void
fs_tools_free(struct fs_tools *t)
{
	int k;

	for (k = 0; k < t->ncalls; k++) {
		free(t->calls[k].name);
		free(t->calls[k].args);
	}
	buf_free(&t->answer);
	buf_free(&t->error);
	memset(t, 0, sizeof(*t));
}
