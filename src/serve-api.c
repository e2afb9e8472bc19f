/*
 * Parsing and validation of natter serve's request bodies (serve-api.h). Every value comes
 * from a client and is untrusted: types are checked field by field, strings are made valid
 * UTF-8 (a bad sequence becomes U+FFFD), parameters go through the same parser the config
 * and /set use (params_set, with its global ranges and messages), and the model's own
 * limits are checked one field at a time so that each bad field gets its own entry.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "attach.h"
#include "buf.h"
#include "config.h"
#include "params.h"
#include "proto.h"
#include "serve-api.h"
#include "text.h"
#include "turn.h"
#include "xmalloc.h"

/* The parameters of OpenAI's body natter maps, with the name natter knows them by. */
static const struct {
	const char *field;
	const char *param;
} serve_api_openai_params[] = {
	{ "temperature", "temperature" },
	{ "top_p", "top_p" },
	{ "top_k", "top_k" },
	{ "max_tokens", "max_tokens" },
	{ "max_completion_tokens", "max_tokens" },
	{ "seed", "seed" },
	{ "frequency_penalty", "frequency_penalty" },
	{ "presence_penalty", "presence_penalty" },
	{ "repetition_penalty", "repetition_penalty" },
	{ "reasoning_effort", "reasoning_effort" },
};

/* Add a problem. */
void
serve_problems_add(struct serve_problems *pr, const char *field, const char *fmt, ...)
{
	struct serve_problem *p;
	va_list ap;
	char *msg;

	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) < 0)
		abort();
	va_end(ap);
	pr->v = xrealloc(pr->v, (pr->n + 1) * sizeof *pr->v);
	p = &pr->v[pr->n++];
	p->field = field != NULL ? xstrdup(field) : NULL;
	p->msg = msg;
}

/* Free every problem. */
void
serve_problems_free(struct serve_problems *pr)
{
	size_t i;

	for (i = 0; i < pr->n; i++) {
		free(pr->v[i].field);
		free(pr->v[i].msg);
	}
	free(pr->v);
	pr->v = NULL;
	pr->n = 0;
}

/* Free what a parsed request holds. */
void
serve_chat_free(struct serve_chat *c)
{
	size_t i;

	free(c->model);
	free(c->system);
	for (i = 0; i < c->nmsgs; i++) {
		size_t k;

		free(c->msgs[i].content);
		for (k = 0; k < c->msgs[i].natts; k++)
			attach_unref(c->msgs[i].atts[k]);
		free(c->msgs[i].atts);
	}
	free(c->msgs);
	params_free(&c->params);
	memset(c, 0, sizeof *c);
}

/* A copy of n bytes of client text as valid UTF-8 (bad sequences become U+FFFD). */
static char *
serve_api_utf8(const char *p, size_t n)
{
	struct buf b = BUF_INIT;
	size_t i = 0, k;
	unsigned cp;

	buf_reserve(&b, n + 1);
	while (i < n) {
		k = text_utf8_step((const unsigned char *)p + i, n - i, &cp);
		if (cp == TEXT_BAD)
			buf_append(&b, "\xef\xbf\xbd", 3);
		else
			buf_append(&b, p + i, k);
		i += k;
	}
	buf_putc(&b, '\0');
	b.len--;
	return buf_detach(&b);
}

/* A file part's data URL (an image_url part's url, a file part's file_data) decoded into
 * an attachment named name; its type is what its bytes are, whatever the URL claims. NULL
 * after adding a problem for field's part k. */
static struct attach *
serve_api_file(const cJSON *url, const char *name, const char *field, size_t k,
    struct serve_problems *pr)
{
	unsigned char *data;
	char *mime, *err = NULL;
	size_t len;

	if (!cJSON_IsString(url)) {
		serve_problems_add(pr, field, "part %zu: the file's data URL is missing", k);
		return NULL;
	}
	if (attach_data_url(url->valuestring, strlen(url->valuestring), &mime, &data, &len,
	    &err) != 0) {
		serve_problems_add(pr, field, "part %zu: %s", k, err);
		free(err);
		return NULL;
	}
	free(mime);
	return attach_take(name, data, len);
}

/* One image_url or file part of a user message, as an attachment; NULL after adding a
 * problem. */
static struct attach *
serve_api_part(const cJSON *part, const char *type, const char *field, size_t k,
    struct serve_problems *pr)
{
	const cJSON *o, *url, *fname;
	char name[64];

	if (strcmp(type, "image_url") == 0) {
		o = cJSON_GetObjectItemCaseSensitive(part, "image_url");
		url = cJSON_IsObject(o) ? cJSON_GetObjectItemCaseSensitive(o, "url") : o;
		snprintf(name, sizeof name, "image-%zu", k + 1);
		return serve_api_file(url, name, field, k, pr);
	}
	o = cJSON_GetObjectItemCaseSensitive(part, "file");
	url = cJSON_GetObjectItemCaseSensitive(o, "file_data");
	fname = cJSON_GetObjectItemCaseSensitive(o, "filename");
	if (!cJSON_IsObject(o) || (url == NULL && cJSON_GetObjectItemCaseSensitive(o, "file_id"))) {
		serve_problems_add(pr, field, "part %zu: a file part needs file.file_data (a data "
		    "URL); uploaded file ids are not supported", k);
		return NULL;
	}
	snprintf(name, sizeof name, "file-%zu", k + 1);
	return serve_api_file(url, cJSON_IsString(fname) && fname->valuestring[0] != '\0' ?
	    fname->valuestring : name, field, k, pr);
}

/* The text of a message's content: a string, or an array of parts, its text parts joined
 * by newlines. A user message's image_url and file parts (data URLs) go to *atts (NULL:
 * the role takes none). NULL after adding a problem for field. */
static char *
serve_api_content(const cJSON *c, const char *field, struct serve_problems *pr,
    struct attach ***atts, size_t *natts)
{
	struct buf b = BUF_INIT;
	const cJSON *part, *text, *type;
	struct attach *f;
	char *out;
	size_t k = 0, ntext = 0;

	if (cJSON_IsString(c))
		return serve_api_utf8(c->valuestring, strlen(c->valuestring));
	if (!cJSON_IsArray(c)) {
		serve_problems_add(pr, field, "must be a string or an array of content parts");
		return NULL;
	}
	cJSON_ArrayForEach(part, c) {
		type = cJSON_GetObjectItemCaseSensitive(part, "type");
		text = cJSON_GetObjectItemCaseSensitive(part, "text");
		if (cJSON_IsString(type) && (strcmp(type->valuestring, "image_url") == 0 ||
		    strcmp(type->valuestring, "file") == 0)) {
			if (atts == NULL) {
				serve_problems_add(pr, field, "part %zu: only a user message may carry "
				    "images and files", k);
				buf_free(&b);
				return NULL;
			}
			if ((f = serve_api_part(part, type->valuestring, field, k, pr)) == NULL) {
				buf_free(&b);
				return NULL;
			}
			*atts = xrealloc(*atts, (*natts + 1) * sizeof(**atts));
			(*atts)[(*natts)++] = f;
			k++;
			continue;
		}
		if (!cJSON_IsString(type) || strcmp(type->valuestring, "text") != 0 ||
		    !cJSON_IsString(text)) {
			serve_problems_add(pr, field, "part %zu: only text, image_url and file parts "
			    "are supported", k);
			buf_free(&b);
			return NULL;
		}
		if (ntext++ > 0)
			buf_putc(&b, '\n');
		buf_puts(&b, text->valuestring);
		k++;
	}
	out = serve_api_utf8(b.data != NULL ? b.data : "", b.len);
	buf_free(&b);
	return out;
}

/* Append a message to the history, with its files (taken over). */
static void
serve_api_push(struct serve_chat *c, enum role role, char *content, struct attach **atts,
    size_t natts)
{
	c->msgs = xrealloc(c->msgs, (c->nmsgs + 1) * sizeof *c->msgs);
	c->msgs[c->nmsgs].role = role;
	c->msgs[c->nmsgs].content = content;
	c->msgs[c->nmsgs].atts = atts;
	c->msgs[c->nmsgs].natts = natts;
	c->nmsgs++;
}

/* Add system text to the system prompt (several join with a blank line). */
static void
serve_api_system(struct serve_chat *c, char *text)
{
	char *joined;

	if (c->system == NULL) {
		c->system = text;
		return;
	}
	joined = xasprintf("%s\n\n%s", c->system, text);
	free(c->system);
	free(text);
	c->system = joined;
}

/* One entry of OpenAI's messages array. */
static void
serve_api_message(struct serve_chat *c, const cJSON *m, size_t i, struct serve_problems *pr)
{
	const cJSON *role = cJSON_GetObjectItemCaseSensitive(m, "role");
	const cJSON *content = cJSON_GetObjectItemCaseSensitive(m, "content");
	const cJSON *calls = cJSON_GetObjectItemCaseSensitive(m, "tool_calls");
	char field[64], *text;
	const char *r;
	struct attach **atts = NULL;
	size_t natts = 0, k;

	snprintf(field, sizeof field, "messages[%zu]", i);
	if (!cJSON_IsObject(m) || !cJSON_IsString(role)) {
		serve_problems_add(pr, field, "must be an object with a role");
		return;
	}
	r = role->valuestring;
	if (strcmp(r, "tool") == 0 || strcmp(r, "function") == 0 ||
	    (calls != NULL && !cJSON_IsNull(calls) && cJSON_GetArraySize(calls) > 0)) {
		serve_problems_add(pr, field, "tool calls and results are not supported by natter "
		    "serve yet");
		return;
	}
	if (strcmp(r, "system") != 0 && strcmp(r, "developer") != 0 && strcmp(r, "user") != 0 &&
	    strcmp(r, "assistant") != 0) {
		serve_problems_add(pr, field, "unknown role '%.32s' (system, developer, user or "
		    "assistant)", r);
		return;
	}
	snprintf(field, sizeof field, "messages[%zu].content", i);
	if (content == NULL || cJSON_IsNull(content)) {
		serve_problems_add(pr, field, "is required");
		return;
	}
	text = serve_api_content(content, field, pr, r[0] == 'u' ? &atts : NULL, &natts);
	if (text == NULL) {
		for (k = 0; k < natts; k++)
			attach_unref(atts[k]);
		free(atts);
		return;
	}
	if (r[0] == 's' || r[0] == 'd')
		serve_api_system(c, text);
	else
		serve_api_push(c, r[0] == 'u' ? ROLE_USER : ROLE_ASSISTANT, text, atts, natts);
}

/* A JSON number as text that parses back to the same value. */
static void
serve_api_number(double v, char *out, size_t n)
{
	snprintf(out, n, "%.15g", v);
	if (strtod(out, NULL) != v)
		snprintf(out, n, "%.17g", v);
}

/* Set parameter name from a JSON value (a number, a string, or stop's string or list). */
static void
serve_api_param(struct params *p, const char *name, const cJSON *v, const char *field,
    struct serve_problems *pr)
{
	const cJSON *s;
	char num[40], *err = NULL;
	int rc = 0;

	if (cJSON_IsNull(v))
		return;
	if (strcmp(name, "stop") == 0) {
		if (cJSON_IsString(v)) {
			rc = params_set(p, name, v->valuestring, &err);
		} else if (cJSON_IsArray(v)) {
			cJSON_ArrayForEach(s, v) {
				if (!cJSON_IsString(s)) {
					serve_problems_add(pr, field, "must be a string or a list of strings");
					return;
				}
				if ((rc = params_set(p, name, s->valuestring, &err)) != 0)
					break;
			}
		} else {
			serve_problems_add(pr, field, "must be a string or a list of strings");
			return;
		}
	} else if (strcmp(name, "reasoning_effort") == 0) {
		if (!cJSON_IsString(v)) {
			serve_problems_add(pr, field, "must be a string");
			return;
		}
		rc = params_set(p, name, v->valuestring, &err);
	} else {
		if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble)) {
			serve_problems_add(pr, field, "must be a number");
			return;
		}
		serve_api_number(v->valuedouble, num, sizeof num);
		rc = params_set(p, name, num, &err);
	}
	if (rc != 0)
		serve_problems_add(pr, field, "%s", err != NULL ? err : "is not valid");
	free(err);
}

/* A JSON boolean into *out (left alone when absent or null). */
static void
serve_api_bool(const cJSON *root, const char *key, int *out, struct serve_problems *pr)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(root, key);

	if (v == NULL || cJSON_IsNull(v))
		return;
	if (!cJSON_IsBool(v))
		serve_problems_add(pr, key, "must be true or false");
	else
		*out = cJSON_IsTrue(v);
}

/* A JSON string into a fresh copy (NULL when absent or null). */
static char *
serve_api_str(const cJSON *root, const char *key, struct serve_problems *pr)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(root, key);

	if (v == NULL || cJSON_IsNull(v))
		return NULL;
	if (!cJSON_IsString(v)) {
		serve_problems_add(pr, key, "must be a string");
		return NULL;
	}
	return serve_api_utf8(v->valuestring, strlen(v->valuestring));
}

/* Fields of OpenAI's body that natter cannot honour: refused rather than ignored. */
static void
serve_api_openai_refuse(const cJSON *root, struct serve_problems *pr)
{
	const cJSON *v;

	v = cJSON_GetObjectItemCaseSensitive(root, "n");
	if (v != NULL && !cJSON_IsNull(v) && (!cJSON_IsNumber(v) || v->valuedouble != 1))
		serve_problems_add(pr, "n", "only one choice (n: 1) is supported");
	v = cJSON_GetObjectItemCaseSensitive(root, "tools");
	if (v != NULL && !cJSON_IsNull(v) && (!cJSON_IsArray(v) || cJSON_GetArraySize(v) > 0))
		serve_problems_add(pr, "tools", "tools are not supported by natter serve yet");
	v = cJSON_GetObjectItemCaseSensitive(root, "functions");
	if (v != NULL && !cJSON_IsNull(v) && (!cJSON_IsArray(v) || cJSON_GetArraySize(v) > 0))
		serve_problems_add(pr, "functions", "functions are not supported by natter serve");
	v = cJSON_GetObjectItemCaseSensitive(root, "response_format");
	if (v != NULL && !cJSON_IsNull(v)) {
		const cJSON *t = cJSON_GetObjectItemCaseSensitive(v, "type");

		if (!cJSON_IsString(t) || strcmp(t->valuestring, "text") != 0)
			serve_problems_add(pr, "response_format", "only the text format is supported");
	}
}

/* OpenAI's chat request. */
static void
serve_api_openai(const cJSON *root, struct serve_chat *c, struct serve_problems *pr)
{
	const cJSON *msgs = cJSON_GetObjectItemCaseSensitive(root, "messages"), *m, *so, *v;
	size_t i = 0, k;

	c->model = serve_api_str(root, "model", pr);
	if (c->model == NULL && pr->n == 0)
		serve_problems_add(pr, "model", "is required");
	if (!cJSON_IsArray(msgs) || cJSON_GetArraySize(msgs) == 0)
		serve_problems_add(pr, "messages", "must be a non-empty array");
	else
		cJSON_ArrayForEach(m, msgs)
			serve_api_message(c, m, i++, pr);
	if (msgs != NULL && pr->n == 0 && (c->nmsgs == 0 || c->msgs[c->nmsgs - 1].role != ROLE_USER))
		serve_problems_add(pr, "messages", "the last message (besides system ones) must be "
		    "the user's");
	serve_api_bool(root, "stream", &c->stream, pr);
	so = cJSON_GetObjectItemCaseSensitive(root, "stream_options");
	if (so != NULL && !cJSON_IsNull(so)) {
		if (!cJSON_IsObject(so))
			serve_problems_add(pr, "stream_options", "must be an object");
		else
			serve_api_bool(so, "include_usage", &c->include_usage, pr);
	}
	serve_api_bool(root, "store", &c->store, pr);
	for (k = 0; k < sizeof serve_api_openai_params / sizeof serve_api_openai_params[0]; k++) {
		v = cJSON_GetObjectItemCaseSensitive(root, serve_api_openai_params[k].field);
		if (v != NULL)
			serve_api_param(&c->params, serve_api_openai_params[k].param, v,
			    serve_api_openai_params[k].field, pr);
	}
	if ((v = cJSON_GetObjectItemCaseSensitive(root, "stop")) != NULL)
		serve_api_param(&c->params, "stop", v, "stop", pr);
	serve_api_openai_refuse(root, pr);
}

/* The conversation id: a natter session id, as a number or as digits. */
static void
serve_api_conversation(const cJSON *root, struct serve_chat *c, struct serve_problems *pr)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(root, "conversation_id");
	char *end;
	long long id;

	if (v == NULL || cJSON_IsNull(v))
		return;
	if (cJSON_IsNumber(v) && v->valuedouble >= 1 && v->valuedouble < 9e15 &&
	    floor(v->valuedouble) == v->valuedouble) {
		c->conversation = (int64_t)v->valuedouble;
		return;
	}
	if (cJSON_IsString(v) && v->valuestring[0] >= '1' && v->valuestring[0] <= '9') {
		id = strtoll(v->valuestring, &end, 10);
		if (*end == '\0' && id > 0 && strlen(v->valuestring) < 16) {
			c->conversation = (int64_t)id;
			return;
		}
	}
	serve_problems_add(pr, "conversation_id", "must be the id of a stored conversation");
}

/* The conversation API's request. */
static void
serve_api_s2(const cJSON *root, struct serve_chat *c, struct serve_problems *pr)
{
	const cJSON *hp = cJSON_GetObjectItemCaseSensitive(root, "hyperparameters"), *v;
	char *prompt, field[96];

	c->stream = 1;
	c->model = serve_api_str(root, "model", pr);
	c->system = serve_api_str(root, "system_prompt", pr);
	if (c->system != NULL && c->system[0] == '\0') {
		free(c->system);
		c->system = NULL;
	}
	v = cJSON_GetObjectItemCaseSensitive(root, "user_prompt");
	if (v == NULL || cJSON_IsNull(v)) {
		serve_problems_add(pr, "user_prompt", "field required");
	} else if ((prompt = serve_api_str(root, "user_prompt", pr)) != NULL) {
		if (strspn(prompt, " \t\r\n") == strlen(prompt)) {
			serve_problems_add(pr, "user_prompt", "must not be empty");
			free(prompt);
		} else {
			serve_api_push(c, ROLE_USER, prompt, NULL, 0);
		}
	}
	serve_api_bool(root, "save_conversation", &c->store, pr);
	serve_api_conversation(root, c, pr);
	if (hp == NULL || cJSON_IsNull(hp))
		return;
	if (!cJSON_IsObject(hp)) {
		serve_problems_add(pr, "hyperparameters", "must be an object");
		return;
	}
	cJSON_ArrayForEach(v, hp) {
		snprintf(field, sizeof field, "hyperparameters.%.64s", v->string);
		if (params_index(v->string) < 0)
			serve_problems_add(pr, field, "unknown hyperparameter (temperature, top_p, "
			    "top_k, max_tokens, stop, seed, frequency_penalty, presence_penalty, "
			    "repetition_penalty, reasoning_effort, reasoning_budget)");
		else
			serve_api_param(&c->params, v->string, v, field, pr);
	}
}

/* Parse a request body. */
int
serve_api_parse(enum serve_api api, const char *body, size_t len, struct serve_chat *out,
    struct serve_problems *pr)
{
	cJSON *root;
	size_t before = pr->n;

	memset(out, 0, sizeof *out);
	out->api = api;
	out->store = -1;
	root = proto_json_parse_whole(body, len);
	if (!cJSON_IsObject(root)) {
		serve_problems_add(pr, NULL, "the body must be one JSON object");
		cJSON_Delete(root);
		return -1;
	}
	if (api == SERVE_API_OPENAI)
		serve_api_openai(root, out, pr);
	else
		serve_api_s2(root, out, pr);
	cJSON_Delete(root);
	return pr->n > before ? -1 : 0;
}

/* The field name a parameter came in, for the problem's path. */
static void
serve_api_field(const struct serve_chat *c, const char *param, char *out, size_t n)
{
	if (c->api == SERVE_API_S2)
		snprintf(out, n, "hyperparameters.%s", param);
	else
		snprintf(out, n, "%s", param);
}

/* Check the parameters against the model, one at a time, then layered. */
int
serve_api_check(const struct serve_chat *c, struct config *cfg, const struct model *m,
    struct serve_problems *pr)
{
	struct params one, all;
	char field[96], *err = NULL;
	size_t i, before = pr->n;

	for (i = 0; i < config_schema_params_count; i++) {
		const struct config_schema *e = &config_schema_params[i];

		if (!(c->params.set & e->bit))
			continue;
		params_copy(&one, &c->params);
		one.set = e->bit;
		if (params_check(&one, m, &err) != 0) {
			serve_api_field(c, e->path, field, sizeof field);
			serve_problems_add(pr, field, "%s", err);
		}
		free(err);
		err = NULL;
		params_free(&one);
	}
	if (pr->n > before)
		return -1;
	if (cfg != NULL) {
		if (turn_params(cfg, m, NULL, &c->params, &all, &err) != 0)
			serve_problems_add(pr, c->api == SERVE_API_S2 ? "hyperparameters" : NULL, "%s",
			    err != NULL ? err : "parameters refused");
		params_free(&all);
	} else if (params_check(&c->params, m, &err) != 0) {
		serve_problems_add(pr, c->api == SERVE_API_S2 ? "hyperparameters" : NULL, "%s", err);
	}
	free(err);
	return pr->n > before ? -1 : 0;
}
