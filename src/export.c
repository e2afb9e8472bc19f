/*
 * Session export to Markdown and JSON. Markdown is for people: front matter that static
 * site tools and note apps understand, a heading per message with who spoke, which model
 * and when, and a note when a reply did not finish. JSON is for programs and keeps every
 * stored field, with null for numbers the provider never reported. Timestamps are UTC in
 * ISO 8601 wherever a program may read them; Markdown headings use local time for people.
 * The replies of a side-by-side comparison are marked with their column and whether the
 * chat kept them, since a linear export cannot put them side by side. Markdown is the stored
 * text as it is (callers sanitize it for a terminal unless asked for raw bytes); JSON is
 * always safe to print, since its escapes can carry any character without loss.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cJSON.h>

#include "buf.h"
#include "export.h"
#include "log.h"
#include "proto.h"
#include "text.h"
#include "xmalloc.h"

/* "md"/"markdown" or "json". */
int
export_format_parse(const char *name, enum export_format *out)
{
	if (name == NULL)
		return -1;
	if (strcmp(name, "md") == 0 || strcmp(name, "markdown") == 0) {
		*out = EXPORT_MARKDOWN;
		return 0;
	}
	if (strcmp(name, "json") == 0) {
		*out = EXPORT_JSON;
		return 0;
	}
	return -1;
}

/* The column of message i in its comparison round. */
int
export_compare_column(const struct message_row *m, size_t n, size_t i, int *ncols)
{
	int64_t g = m[i].compare_group;
	size_t a, b;

	*ncols = 0;
	if (g == 0)
		return -1;
	/* The round's replies: the assistant rows of the group right after its prompt. */
	a = m[i].role == ROLE_USER ? i + 1 : i;
	while (a > 0 && m[a - 1].role == ROLE_ASSISTANT && m[a - 1].compare_group == g)
		a--;
	for (b = a; b < n && m[b].role == ROLE_ASSISTANT && m[b].compare_group == g; b++)
		;
	*ncols = (int)(b - a);
	return m[i].role == ROLE_ASSISTANT ? (int)(i - a) : -1;
}

/* Format unix milliseconds as ISO 8601 UTC, with milliseconds when with_ms. */
static void
export_iso(char *out, size_t len, int64_t ms, int with_ms)
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;
	char base[32];

	gmtime_r(&t, &tm);
	strftime(base, sizeof(base), "%Y-%m-%dT%H:%M:%S", &tm);
	if (with_ms)
		snprintf(out, len, "%s.%03dZ", base, (int)(ms % 1000));
	else
		snprintf(out, len, "%sZ", base);
}

/* Format unix milliseconds as local "YYYY-MM-DD HH:MM" for headings. */
static void
export_local(char *out, size_t len, int64_t ms)
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;

	localtime_r(&t, &tm);
	strftime(out, len, "%Y-%m-%d %H:%M", &tm);
}

/* Append a YAML key with a double-quoted value (JSON string syntax is valid YAML). */
static void
export_yaml_str(struct buf *b, const char *key, const char *v)
{
	if (v == NULL)
		return;
	buf_printf(b, "%s: ", key);
	buf_json_string(b, v, strlen(v));
	buf_putc(b, '\n');
}

/* The heading word for a role. */
static const char *
export_role_title(enum role role)
{
	switch (role) {
	case ROLE_SYSTEM:
		return "System";
	case ROLE_ASSISTANT:
		return "Assistant";
	default:
		return "User";
	}
}

/* Append the italic line of figures under a reply: tokens, cost, timings. */
static void
export_md_figures(struct buf *b, const struct message_row *m)
{
	struct buf f = BUF_INIT;

	if (m->input_tokens >= 0 || m->output_tokens >= 0) {
		if (m->input_tokens >= 0)
			buf_printf(&f, "%ld in", m->input_tokens);
		if (m->output_tokens >= 0)
			buf_printf(&f, "%s%ld out", f.len ? " / " : "", m->output_tokens);
		buf_puts(&f, " tokens");
	}
	if (m->cost >= 0)
		buf_printf(&f, "%s$%.6f", f.len ? " \xc2\xb7 " : "", m->cost);
	if (m->ttft_ms >= 0)
		buf_printf(&f, "%sfirst token %.1f s", f.len ? " \xc2\xb7 " : "",
		    m->ttft_ms / 1000.0);
	if (m->duration_ms >= 0)
		buf_printf(&f, "%s%.1f s", f.len ? " \xc2\xb7 " : "", m->duration_ms / 1000.0);
	if (m->finish_reason != NULL && *m->finish_reason != '\0')
		buf_printf(&f, "%sfinish: %s", f.len ? " \xc2\xb7 " : "", m->finish_reason);
	if (f.len)
		buf_printf(b, "*%s*\n\n", buf_str(&f));
	buf_free(&f);
}

/* Render a session as Markdown with YAML front matter. */
char *
export_markdown(const struct session_row *s, const struct message_row *m, size_t n)
{
	struct buf b = BUF_INIT;
	char when[40];
	size_t i;

	buf_puts(&b, "---\n");
	export_yaml_str(&b, "title", s->title);
	buf_printf(&b, "session: %lld\n", (long long)s->id);
	export_yaml_str(&b, "provider", s->provider);
	export_yaml_str(&b, "model", s->model);
	export_iso(when, sizeof(when), s->created * 1000, 0);
	buf_printf(&b, "created: %s\n", when);
	export_iso(when, sizeof(when), s->updated * 1000, 0);
	buf_printf(&b, "updated: %s\n", when);
	buf_printf(&b, "messages: %ld\n", s->nmessages);
	buf_printf(&b, "input_tokens: %ld\noutput_tokens: %ld\ntotal_tokens: %ld\n",
	    s->input_tokens, s->output_tokens, s->input_tokens + s->output_tokens);
	buf_printf(&b, "cost: %.6f\n", s->cost);
	buf_puts(&b, "---\n\n# ");
	buf_puts(&b, s->title[0] != '\0' ? s->title : "untitled");
	buf_puts(&b, "\n\n");
	if (s->system != NULL && *s->system != '\0')
		buf_printf(&b, "## System\n\n%s\n\n", s->system);
	for (i = 0; i < n; i++) {
		const struct message_row *r = &m[i];

		int col, ncols;

		export_local(when, sizeof(when), r->created);
		col = export_compare_column(m, n, i, &ncols);
		buf_printf(&b, "## %s", export_role_title(r->role));
		if (col >= 0)
			buf_printf(&b, " %d of %d", col + 1, ncols);
		if (r->role == ROLE_ASSISTANT && r->model != NULL)
			buf_printf(&b, " \xc2\xb7 %s", r->model);
		buf_printf(&b, " \xc2\xb7 %s", when);
		if (col < 0 && ncols > 0)
			buf_printf(&b, " \xc2\xb7 compared on %d models", ncols);
		if (col >= 0 && r->compare_pick == col)
			buf_puts(&b, " \xc2\xb7 kept");
		buf_puts(&b, "\n\n");
		if (r->reasoning != NULL && *r->reasoning != '\0')
			buf_printf(&b, "<details>\n<summary>Reasoning</summary>\n\n%s\n\n</details>\n\n",
			    r->reasoning);
		if (r->content[0] != '\0')
			buf_printf(&b, "%s\n\n", r->content);
		switch (r->state) {
		case MSG_ERROR:
			buf_printf(&b, "> **Error:** %s\n\n",
			    r->error != NULL && *r->error != '\0' ? r->error : "the reply failed");
			break;
		case MSG_CANCELLED:
			buf_puts(&b, "> **Cancelled** before the reply finished.\n\n");
			break;
		case MSG_TRUNCATED:
			buf_puts(&b, "> **Truncated:** the stream ended before the reply was complete.\n\n");
			break;
		case MSG_INTERRUPTED:
			buf_puts(&b, "> **Interrupted:** natter stopped while this reply was arriving.\n\n");
			break;
		case MSG_STREAMING:
			buf_puts(&b, "> **Incomplete:** this reply was still arriving when it was exported.\n\n");
			break;
		case MSG_COMPLETE:
			if (proto_finish_note(r->finish_reason) != NULL)
				buf_printf(&b, "> **Note:** %s.\n\n", proto_finish_note(r->finish_reason));
			break;
		}
		/* A reply that did not fail may still carry a note (malformed events skipped). */
		if (r->state != MSG_ERROR && r->error != NULL && *r->error != '\0')
			buf_printf(&b, "> **Note:** %s.\n\n", r->error);
		if (r->role == ROLE_ASSISTANT)
			export_md_figures(&b, r);
	}
	return buf_detach(&b);
}

/* Add a string, or null when v is NULL. */
static void
export_json_str(cJSON *o, const char *key, const char *v)
{
	if (v == NULL)
		cJSON_AddNullToObject(o, key);
	else
		cJSON_AddStringToObject(o, key, v);
}

/* Add a number, or null when v is negative (unknown). */
static void
export_json_num(cJSON *o, const char *key, double v)
{
	if (v < 0)
		cJSON_AddNullToObject(o, key);
	else
		cJSON_AddNumberToObject(o, key, v);
}

/* Add an ISO 8601 UTC timestamp. */
static void
export_json_time(cJSON *o, const char *key, int64_t ms, int with_ms)
{
	char when[40];

	export_iso(when, sizeof(when), ms, with_ms);
	cJSON_AddStringToObject(o, key, when);
}

/* Render a session as one JSON object. */
char *
export_json(const struct session_row *s, const struct message_row *m, size_t n)
{
	cJSON *root = cJSON_CreateObject(), *arr, *o;
	struct buf b = BUF_INIT;
	char *text;
	size_t i;
	int col, ncols;

	if (root == NULL)
		log_fatal("out of memory building JSON");
	cJSON_AddNumberToObject(root, "id", (double)s->id);
	export_json_str(root, "title", s->title);
	export_json_str(root, "provider", s->provider);
	export_json_str(root, "model", s->model);
	export_json_str(root, "system", s->system);
	export_json_time(root, "created", s->created * 1000, 0);
	export_json_time(root, "updated", s->updated * 1000, 0);
	cJSON_AddNumberToObject(root, "input_tokens", (double)s->input_tokens);
	cJSON_AddNumberToObject(root, "output_tokens", (double)s->output_tokens);
	cJSON_AddNumberToObject(root, "cost", s->cost);
	arr = cJSON_AddArrayToObject(root, "messages");
	for (i = 0; arr != NULL && i < n; i++) {
		const struct message_row *r = &m[i];

		o = cJSON_CreateObject();
		if (o == NULL)
			log_fatal("out of memory building JSON");
		cJSON_AddItemToArray(arr, o);
		cJSON_AddNumberToObject(o, "id", (double)r->id);
		cJSON_AddStringToObject(o, "role", store_role_name(r->role));
		export_json_str(o, "content", r->content);
		export_json_str(o, "reasoning", r->reasoning);
		export_json_str(o, "provider", r->provider);
		export_json_str(o, "model", r->model);
		export_json_time(o, "created", r->created, 1);
		cJSON_AddStringToObject(o, "state", store_state_name(r->state));
		export_json_str(o, "error", r->error);
		export_json_str(o, "finish_reason", r->finish_reason);
		export_json_num(o, "input_tokens", (double)r->input_tokens);
		export_json_num(o, "output_tokens", (double)r->output_tokens);
		export_json_num(o, "cost", r->cost);
		export_json_num(o, "ttft_ms", (double)r->ttft_ms);
		export_json_num(o, "duration_ms", (double)r->duration_ms);
		if (r->compare_group > 0)
			cJSON_AddNumberToObject(o, "compare_group", (double)r->compare_group);
		else
			cJSON_AddNullToObject(o, "compare_group");
		/* The column counts from 1, as /pick and the screen count it. */
		col = export_compare_column(m, n, i, &ncols);
		if (col >= 0) {
			cJSON_AddNumberToObject(o, "compare_column", col + 1);
			cJSON_AddBoolToObject(o, "compare_kept", r->compare_pick == col);
		} else {
			cJSON_AddNullToObject(o, "compare_column");
			cJSON_AddNullToObject(o, "compare_kept");
		}
	}
	text = cJSON_Print(root);
	cJSON_Delete(root);
	if (text == NULL)
		log_fatal("out of memory printing JSON");
	/* Controls, bidi marks and bad bytes that cJSON leaves raw become \u escapes: the JSON
	 * loses nothing, stays valid UTF-8, and is safe to print. The buffer is also memory from
	 * our own allocator, so callers free it like any other string. */
	text_json_safe(text, strlen(text), &b);
	buf_putc(&b, '\n');
	cJSON_free(text);
	return buf_detach(&b);
}

/* Load a session and render it. */
char *
export_session(struct store *st, int64_t id, enum export_format format)
{
	struct session_row *s = store_session_get(st, id);
	struct message_row *m;
	size_t n;
	char *out;

	if (s == NULL)
		return NULL;
	if (store_messages(st, id, &m, &n) != 0) {
		store_sessions_free(s, 1);
		return NULL;
	}
	out = format == EXPORT_JSON ? export_json(s, m, n) : export_markdown(s, m, n);
	store_messages_free(m, n);
	store_sessions_free(s, 1);
	return out;
}

/* Write text to path, created 0600 (chat history is private); -1 with errno on failure. */
int
export_write(const char *path, const char *text)
{
	size_t len = strlen(text);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600), saved;

	if (fd < 0)
		return -1;
	while (len > 0) {
		ssize_t w = write(fd, text, len);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			saved = w < 0 ? errno : EIO;
			close(fd);
			errno = saved;
			return -1;
		}
		text += w;
		len -= (size_t)w;
	}
	return close(fd);
}
