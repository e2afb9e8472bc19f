/*
 * Session export to Markdown, plain text and JSON. Markdown is for people: front matter that static
 * site tools and note apps understand, a heading per message with who spoke, which model
 * and when, and a note when a reply did not finish. JSON is for programs and keeps every
 * stored field, with null for numbers the provider never reported. Timestamps are UTC in
 * ISO 8601 wherever a program may read them; Markdown headings use local time for people.
 * The replies of a side-by-side comparison are marked with their column and whether the
 * chat kept them, since a linear export cannot put them side by side. Plain text is for a pager or
 * a mail: one header line per message with its figures, then the text, reasoning indented.
 * Tool calls and their results are messages of their own: Markdown shows each under a heading
 * with the tool's name, its arguments or result in a fenced block; plain text names the tool
 * in the header line; JSON carries tool_id, tool_name and tool_error.
 * Markdown and plain text are the stored text as it is (callers sanitize it for a terminal unless asked for raw bytes); JSON is
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

#include "attach.h"
#include "buf.h"
#include "export.h"
#include "log.h"
#include "proto.h"
#include "text.h"
#include "xmalloc.h"

/* "md"/"markdown", "json" or "text"/"txt". */
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
	if (strcmp(name, "text") == 0 || strcmp(name, "txt") == 0) {
		*out = EXPORT_TEXT;
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

	int top = -1;

	*ncols = 0;
	if (g == 0)
		return -1;
	/* Rows stored since schema 11 name their column: a column may hold several rows
	 * (its tool calls, results and the replies after them). A kept round's path has
	 * one column's rows; the store says how many columns the round has. */
	for (a = 0; a < n; a++)
		if (m[a].compare_group == g && m[a].column - 1 > top)
			top = m[a].column - 1;
	if (m[i].compare_cols - 1 > top && (top >= 0 || m[i].role == ROLE_USER))
		top = m[i].compare_cols - 1;
	if (top >= 0) {
		*ncols = top + 1;
		return m[i].role != ROLE_USER ? m[i].column - 1 : -1;
	}
	/* Before: the round's replies are the assistant rows right after its prompt. */
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

/* Append s as inline code (`s`), its delimiters longer than any backtick run inside, and
 * newlines as spaces, so a name cannot break out of its heading. */
static void
export_md_inline(struct buf *b, const char *s)
{
	size_t run = 0, most = 0, i, n = strlen(s);

	for (i = 0; i < n; i++) {
		run = s[i] == '`' ? run + 1 : 0;
		most = run > most ? run : most;
	}
	for (i = 0; i <= most; i++)
		buf_putc(b, '`');
	if (most > 0)
		buf_putc(b, ' ');
	for (i = 0; i < n; i++)
		buf_putc(b, s[i] == '\n' || s[i] == '\r' ? ' ' : s[i]);
	if (most > 0)
		buf_putc(b, ' ');
	for (i = 0; i <= most; i++)
		buf_putc(b, '`');
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
	case ROLE_TOOL_CALL:
		return "Tool call";
	case ROLE_TOOL:
		return "Tool result";
	default:
		return "User";
	}
}

/* Append text in a fenced code block (info string lang, may be ""), its fence longer than
 * any run of backticks in it so nothing inside can close it. */
static void
export_md_fenced(struct buf *b, const char *text, const char *lang)
{
	size_t run = 0, most = 0, i, n = strlen(text);

	for (i = 0; i < n; i++) {
		run = text[i] == '`' ? run + 1 : 0;
		most = run > most ? run : most;
	}
	for (i = 0; i < (most >= 3 ? most + 1 : 3); i++)
		buf_putc(b, '`');
	buf_puts(b, lang);
	buf_putc(b, '\n');
	buf_puts(b, text);
	if (n == 0 || text[n - 1] != '\n')
		buf_putc(b, '\n');
	for (i = 0; i < (most >= 3 ? most + 1 : 3); i++)
		buf_putc(b, '`');
	buf_puts(b, "\n\n");
}

/* Append a tool call or result: its heading names the tool (the result says when it
 * failed), the arguments or the result go in a fenced block. */
static void
export_md_tool(struct buf *b, const struct message_row *r, const char *when)
{
	buf_printf(b, "## %s \xc2\xb7 ", export_role_title(r->role));
	export_md_inline(b, r->tool_name != NULL ? r->tool_name : "?");
	buf_printf(b, " \xc2\xb7 %s", when);
	if (r->role == ROLE_TOOL && r->tool_error)
		buf_puts(b, " \xc2\xb7 failed");
	buf_puts(b, "\n\n");
	export_md_fenced(b, r->content, r->role == ROLE_TOOL_CALL ? "json" : "");
	if (r->role == ROLE_TOOL && r->duration_ms >= 0)
		buf_printf(b, "*%.1f s*\n\n", r->duration_ms / 1000.0);
}

/* Append the list of a message's files: name, type and size, one a line. */
static void
export_md_files(struct buf *b, const struct message_row *r)
{
	size_t k;

	for (k = 0; k < r->natts; k++) {
		const struct attach *a = r->atts[k];

		buf_puts(b, k == 0 ? "Attached:\n\n- " : "- ");
		export_md_inline(b, a->name);
		buf_printf(b, " \xc2\xb7 %s \xc2\xb7 ", a->mime);
		attach_size_text(a->size, b);
		buf_puts(b, k + 1 == r->natts ? "\n\n" : "\n");
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
		if (r->role == ROLE_TOOL_CALL || r->role == ROLE_TOOL) {
			export_md_tool(&b, r, when);
			continue;
		}
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
		export_branch_note(&b, m, n, i);
		buf_puts(&b, "\n\n");
		if (r->reasoning != NULL && *r->reasoning != '\0')
			buf_printf(&b, "<details>\n<summary>Reasoning</summary>\n\n%s\n\n</details>\n\n",
			    r->reasoning);
		if (r->content[0] != '\0')
			buf_printf(&b, "%s\n\n", r->content);
		export_md_files(&b, r);
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
			/* A reply whose calls follow did not stop short: natter ran them. */
			if (proto_finish_note(r->finish_reason) != NULL &&
			    !(i + 1 < n && m[i + 1].role == ROLE_TOOL_CALL))
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

/* Append s (NULL: "-") as part of one header line: newlines and tabs become spaces, so a
 * title or model id cannot start a line of its own (other bytes are left to the caller's
 * sanitizer, or kept for --raw). */
static void
export_line(struct buf *b, const char *s)
{
	if (s == NULL)
		s = "-";
	for (; *s != '\0'; s++)
		buf_putc(b, *s == '\n' || *s == '\r' || *s == '\t' ? ' ' : *s);
}

/* Format unix milliseconds as local "YYYY-MM-DD HH:MM:SS". */
static void
export_local_s(char *out, size_t len, int64_t ms)
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;

	localtime_r(&t, &tm);
	strftime(out, len, "%Y-%m-%d %H:%M:%S", &tm);
}

/* Append a block of text with every line indented by prefix. */
static void
export_indent(struct buf *b, const char *text, const char *prefix)
{
	const char *p = text, *nl;

	while (*p != '\0') {
		nl = strchr(p, '\n');
		buf_puts(b, prefix);
		if (nl == NULL) {
			buf_puts(b, p);
			buf_putc(b, '\n');
			return;
		}
		buf_append(b, p, (size_t)(nl - p) + 1);
		p = nl + 1;
	}
}

/* Append the header line of message i of m: who, which model, when, and its figures. */
static void
export_text_header(struct buf *b, const struct message_row *m, size_t n, size_t i)
{
	const struct message_row *r = &m[i];
	char when[40];
	int col, ncols;

	export_local_s(when, sizeof(when), r->created);
	col = export_compare_column(m, n, i, &ncols);
	buf_printf(b, "[%s", store_role_name(r->role));
	if (col >= 0)
		buf_printf(b, " %d of %d", col + 1, ncols);
	if (r->role == ROLE_TOOL_CALL || r->role == ROLE_TOOL) {
		buf_putc(b, ' ');
		export_line(b, r->tool_name);
	}
	buf_puts(b, "]");
	if (r->role == ROLE_ASSISTANT) {
		buf_putc(b, ' ');
		export_line(b, r->provider);
		buf_putc(b, '/');
		export_line(b, r->model);
	}
	buf_printf(b, " \xc2\xb7 %s", when);
	if (col < 0 && ncols > 0)
		buf_printf(b, " \xc2\xb7 compared on %d models", ncols);
	if (r->role == ROLE_ASSISTANT) {
		buf_puts(b, " \xc2\xb7 ");
		if (r->input_tokens >= 0)
			buf_printf(b, "%ld in", r->input_tokens);
		else
			buf_puts(b, "? in");
		if (r->output_tokens >= 0)
			buf_printf(b, " / %ld out", r->output_tokens);
		else
			buf_puts(b, " / ? out");
		if (r->cost >= 0)
			buf_printf(b, " \xc2\xb7 $%.6f", r->cost);
		else
			buf_puts(b, " \xc2\xb7 cost unknown");
		if (r->ttft_ms >= 0)
			buf_printf(b, " \xc2\xb7 ttft %.2fs", r->ttft_ms / 1000.0);
		if (r->duration_ms >= 0)
			buf_printf(b, " \xc2\xb7 %.2fs", r->duration_ms / 1000.0);
		if (r->finish_reason != NULL && *r->finish_reason != '\0') {
			buf_puts(b, " \xc2\xb7 finish ");
			export_line(b, r->finish_reason);
		}
	}
	if (r->role == ROLE_TOOL && r->duration_ms >= 0)
		buf_printf(b, " \xc2\xb7 %.2fs", r->duration_ms / 1000.0);
	if (r->role == ROLE_TOOL && r->tool_error)
		buf_puts(b, " \xc2\xb7 failed");
	if (r->state != MSG_COMPLETE)
		buf_printf(b, " \xc2\xb7 %s", store_state_name(r->state));
	if (col >= 0 && r->compare_pick == col)
		buf_puts(b, " \xc2\xb7 kept");
	if (r->pinned)
		buf_puts(b, " \xc2\xb7 pinned");
	export_branch_note(b, m, n, i);
	buf_putc(b, '\n');
}

/* The number of the message i follows when out of line (see export.h). */
long
export_parent_number(const struct message_row *m, size_t n, size_t i)
{
	size_t k;

	if (m[i].parent_id == STORE_FIRST)
		return i > 0 ? 0 : -1;
	if (m[i].parent_id <= 0 || (i > 0 && m[i - 1].id == m[i].parent_id))
		return -1;
	for (k = 0; k < n; k++)
		if (m[k].id == m[i].parent_id)
			return (long)k + 1;
	return -1;
}

/* Append where message i sits in a tree (see export.h). */
void
export_branch_note(struct buf *b, const struct message_row *m, size_t n, size_t i)
{
	long k = export_parent_number(m, n, i);

	if (m[i].nalt > 1)
		buf_printf(b, " \xc2\xb7 alternative %d of %d", m[i].alt, m[i].nalt);
	if (k > 0)
		buf_printf(b, " \xc2\xb7 follows #%ld", k);
	else if (k == 0)
		buf_puts(b, " \xc2\xb7 a first message");
}

/* Render a session as plain text: a heading, then per message a header line, its
 * reasoning indented under "reasoning:", its text, and its error or note. */
char *
export_text(const struct session_row *s, const struct message_row *m, size_t n)
{
	struct buf b = BUF_INIT;
	char created[40], updated[40];
	size_t i, k;

	buf_printf(&b, "Session %lld: ", (long long)s->id);
	export_line(&b, s->title[0] != '\0' ? s->title : "untitled");
	buf_putc(&b, '\n');
	export_local_s(created, sizeof(created), s->created * 1000);
	export_local_s(updated, sizeof(updated), s->updated * 1000);
	export_line(&b, s->provider);
	buf_putc(&b, '/');
	export_line(&b, s->model);
	buf_printf(&b, " \xc2\xb7 created %s \xc2\xb7 updated %s\n", created, updated);
	buf_printf(&b, "%ld messages \xc2\xb7 %ld in / %ld out tokens \xc2\xb7 $%.6f\n",
	    s->nmessages, s->input_tokens, s->output_tokens, s->cost);
	if (s->system != NULL && *s->system != '\0') {
		buf_puts(&b, "\n[system prompt]\n");
		buf_puts(&b, s->system);
		buf_putc(&b, '\n');
	}
	for (i = 0; i < n; i++) {
		const struct message_row *r = &m[i];

		buf_putc(&b, '\n');
		export_text_header(&b, m, n, i);
		if (r->reasoning != NULL && *r->reasoning != '\0') {
			buf_puts(&b, "reasoning:\n");
			export_indent(&b, r->reasoning, "    ");
		}
		if (r->content[0] != '\0') {
			buf_puts(&b, r->content);
			if (r->content[strlen(r->content) - 1] != '\n')
				buf_putc(&b, '\n');
		}
		for (k = 0; k < r->natts; k++) {
			buf_puts(&b, "attached: ");
			export_line(&b, r->atts[k]->name);
			buf_printf(&b, " \xc2\xb7 %s \xc2\xb7 ", r->atts[k]->mime);
			attach_size_text(r->atts[k]->size, &b);
			buf_putc(&b, '\n');
		}
		if (r->error != NULL && *r->error != '\0') {
			buf_puts(&b, r->state == MSG_ERROR ? "error: " : "note: ");
			export_line(&b, r->error);
			buf_putc(&b, '\n');
		}
	}
	return buf_detach(&b);
}

/* Read exactly n decimal digits at p into *v; 0, or -1 when one is not a digit. */
static int
export_digits(const char *p, int n, int *v)
{
	int i;

	*v = 0;
	for (i = 0; i < n; i++) {
		if (p[i] < '0' || p[i] > '9')
			return -1;
		*v = *v * 10 + (p[i] - '0');
	}
	return 0;
}

/* Parse "YYYY-MM-DDTHH:MM:SS[.mmm]Z" (UTC) into unix milliseconds. */
int
export_parse_time(const char *s, int with_ms, int64_t *ms)
{
	static const int mdays[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	int y, mo, d, h, mi, sec, frac = 0, leap;
	struct tm tm;
	time_t t;

	if (strlen(s) != (with_ms ? 24u : 20u) || s[4] != '-' || s[7] != '-' || s[10] != 'T' ||
	    s[13] != ':' || s[16] != ':' || s[with_ms ? 23 : 19] != 'Z' ||
	    (with_ms && s[19] != '.'))
		return -1;
	if (export_digits(s, 4, &y) || export_digits(s + 5, 2, &mo) ||
	    export_digits(s + 8, 2, &d) || export_digits(s + 11, 2, &h) ||
	    export_digits(s + 14, 2, &mi) || export_digits(s + 17, 2, &sec) ||
	    (with_ms && export_digits(s + 20, 3, &frac)))
		return -1;
	leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
	if (y < 1970 || mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] ||
	    (mo == 2 && d == 29 && !leap) || h > 23 || mi > 59 || sec > 59)
		return -1;
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = sec;
	t = timegm(&tm);
	if (t == (time_t)-1)
		return -1;
	*ms = (int64_t)t * 1000 + frac;
	return 0;
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

/* Add a message's files: name, type, kind, size, digest and the bytes in base64 (null
 * when they were not read), which natter import checks against the digest. */
static void
export_json_files(cJSON *o, const struct message_row *r)
{
	cJSON *arr = cJSON_AddArrayToObject(o, "attachments"), *f;
	char *b64;
	size_t k, n;

	for (k = 0; arr != NULL && k < r->natts; k++) {
		struct attach *a = r->atts[k];

		f = cJSON_CreateObject();
		if (f == NULL)
			log_fatal("out of memory building JSON");
		cJSON_AddItemToArray(arr, f);
		cJSON_AddStringToObject(f, "name", a->name);
		cJSON_AddStringToObject(f, "mime", a->mime);
		cJSON_AddStringToObject(f, "kind", attach_kind_name(a->kind));
		cJSON_AddNumberToObject(f, "size", (double)a->size);
		cJSON_AddStringToObject(f, "sha256", attach_sha(a));
		if (a->data == NULL) {
			cJSON_AddNullToObject(f, "data");
			continue;
		}
		n = attach_b64_len(a->size);
		b64 = xmalloc(n + 1);
		attach_b64_encode(b64, a->data, a->size);
		b64[n] = '\0';
		cJSON_AddStringToObject(f, "data", b64);
		free(b64);
	}
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
	export_json_str(root, "summary", s->summary);
	cJSON_AddNumberToObject(root, "summary_covers", (double)(s->summary != NULL ?
	    s->summary_covers : 0));
	arr = cJSON_AddArrayToObject(root, "messages");
	for (i = 0; arr != NULL && i < n; i++) {
		const struct message_row *r = &m[i];

		o = cJSON_CreateObject();
		if (o == NULL)
			log_fatal("out of memory building JSON");
		cJSON_AddItemToArray(arr, o);
		cJSON_AddNumberToObject(o, "id", (double)r->id);
		/* Only a tree export has messages out of line: the id of the one followed. */
		if (export_parent_number(m, n, i) >= 0)
			cJSON_AddNumberToObject(o, "parent", r->parent_id > 0 ?
			    (double)r->parent_id : 0);
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
		cJSON_AddBoolToObject(o, "pinned", r->pinned);
		export_json_str(o, "tool_id", r->tool_id);
		export_json_str(o, "tool_name", r->tool_name);
		cJSON_AddBoolToObject(o, "tool_error", r->tool_error);
		if (r->natts > 0)
			export_json_files(o, r);
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

/* Read the bytes of every file of the n rows; 0, or -1 (store_error says why). */
static int
export_load_files(struct store *st, struct message_row *m, size_t n)
{
	size_t i, k;

	for (i = 0; i < n; i++)
		for (k = 0; k < m[i].natts; k++)
			if (store_attach_load(st, m[i].atts[k]) != 0)
				return -1;
	return 0;
}

/* Load a session and render its path on screen. */
char *
export_session(struct store *st, int64_t id, enum export_format format)
{
	return export_session_tree(st, id, format, 0);
}

/* Make a path one line for rendering: each message follows the one printed before it
 * (a round nobody kept has its columns side by side on the path, and the next round
 * follows one of them), so a path export holds no parents and imports as it is. */
void
export_as_line(struct message_row *m, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		m[i].parent_id = 0;
}

/* Load a session and render its path or its whole tree. */
char *
export_session_tree(struct store *st, int64_t id, enum export_format format, int tree)
{
	struct session_row *s = store_session_get(st, id);
	struct message_row *m;
	size_t n;
	char *out;

	if (s == NULL)
		return NULL;
	if ((tree ? store_messages_tree(st, id, &m, &n) : store_messages(st, id, &m, &n)) != 0 ||
	    (format == EXPORT_JSON && export_load_files(st, m, n) != 0)) {
		store_messages_free(m, n);
		store_sessions_free(s, 1);
		return NULL;
	}
	if (!tree && (store_rounds_whole(st, &m, &n) != 0)) {
		store_messages_free(m, n);
		store_sessions_free(s, 1);
		return NULL;
	}
	if (!tree)
		export_as_line(m, n);
	out = format == EXPORT_JSON ? export_json(s, m, n) : format == EXPORT_TEXT ?
	    export_text(s, m, n) : export_markdown(s, m, n);
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
