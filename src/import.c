/*
 * The parser behind `natter import` (see import.h for the rules). cJSON does the syntax;
 * what it accepts loosely is checked around it: the bytes must be valid UTF-8 before it
 * sees them (a stored message must print as it was exported), a \u0000 escape is refused
 * (cJSON would cut the string there without a word), and the document must hold nothing
 * but the whitespace after its one value. Each object is read against a table of its
 * fields, so a missing, repeated or unknown field is named, and each value is checked
 * for its type and range before anything is kept. A reply that was still arriving when
 * the file was exported comes in as interrupted, since nothing will ever finish it.
 */
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cJSON.h>

#include "attach.h"
#include "buf.h"
#include "export.h"
#include "import.h"
#include "text.h"
#include "xmalloc.h"

/* The largest count or id accepted: every integer a double holds exactly. */
#define IMPORT_MAX_INT 9007199254740992.0

/* Field names of the session object, in the order export_json writes them. */
enum { S_ID, S_TITLE, S_PROVIDER, S_MODEL, S_SYSTEM, S_CREATED, S_UPDATED, S_INPUT,
	S_OUTPUT, S_COST, S_MESSAGES, S_SUMMARY, S_COVERS, S_COUNT };
static const char *const import_session_keys[S_COUNT] = {
	"id", "title", "provider", "model", "system", "created", "updated", "input_tokens",
	"output_tokens", "cost", "messages", "summary", "summary_covers",
};
/* The fields from here on came with the rolling summary and may be missing. */
#define S_REQUIRED S_SUMMARY

/* Field names of a message object. */
enum { M_ID, M_ROLE, M_CONTENT, M_REASONING, M_PROVIDER, M_MODEL, M_CREATED, M_STATE,
	M_ERROR, M_FINISH, M_INPUT, M_OUTPUT, M_COST, M_TTFT, M_DURATION, M_GROUP, M_COLUMN,
	M_KEPT, M_PINNED, M_TOOL_ID, M_TOOL_NAME, M_TOOL_ERROR, M_ATTACHMENTS, M_COUNT };
static const char *const import_message_keys[M_COUNT] = {
	"id", "role", "content", "reasoning", "provider", "model", "created", "state", "error",
	"finish_reason", "input_tokens", "output_tokens", "cost", "ttft_ms", "duration_ms",
	"compare_group", "compare_column", "compare_kept", "pinned", "tool_id", "tool_name",
	"tool_error", "attachments",
};
/* Pinned messages, tool calls and attachments came later: an older export has neither
 * "pinned" nor the tool fields, and only a message with files has "attachments". */
#define M_REQUIRED M_PINNED

/* Field names of an attachment object. */
enum { A_NAME, A_MIME, A_KIND, A_SIZE, A_SHA, A_DATA, A_COUNT };
static const char *const import_file_keys[A_COUNT] = {
	"name", "mime", "kind", "size", "sha256", "data",
};

/* A message's comparison fields as the file gives them, checked once all are read. */
struct import_cmp {
	int column;     /* 1-based, 0 for null */
	int kept;       /* 1 true, 0 false, -1 null */
};

/* Set *err to "path: message" and return -1. */
static int import_fail(char **err, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int
import_fail(char **err, const char *path, const char *fmt, ...)
{
	struct buf b = BUF_INIT;
	char tmp[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (path != NULL && *path != '\0')
		buf_printf(&b, "%s: ", path);
	buf_puts(&b, tmp);
	free(*err);
	*err = buf_detach(&b);
	return -1;
}

/* The line and column (from 1) of byte off of text. */
static void
import_position(const char *text, size_t off, long *line, long *col)
{
	size_t i;

	*line = 1;
	*col = 1;
	for (i = 0; i < off; i++) {
		if (text[i] == '\n') {
			(*line)++;
			*col = 1;
		} else if (((unsigned char)text[i] & 0xc0) != 0x80) {
			(*col)++;
		}
	}
}

/* Refuse bytes that are not UTF-8 and \u0000 escapes, before cJSON parses the text. */
static int
import_check_bytes(const char *text, size_t len, char **err)
{
	const unsigned char *u = (const unsigned char *)text;
	size_t i = 0;
	unsigned cp;
	long line, col;
	int k;

	while (i < len) {
		if (u[i] == '\\' && i + 1 < len) {
			if (u[i + 1] == 'u' && i + 6 <= len && memcmp(text + i + 2, "0000", 4) == 0) {
				import_position(text, i, &line, &col);
				return import_fail(err, NULL, "line %ld, column %ld: \\u0000 (NUL) cannot "
				    "be stored in a message", line, col);
			}
			i += 2;  /* the escaped character, whatever it is, is not a new escape */
			continue;
		}
		if (u[i] == 0) {
			import_position(text, i, &line, &col);
			return import_fail(err, NULL, "line %ld, column %ld: a NUL byte", line, col);
		}
		if (u[i] < 0x80) {
			i++;
			continue;
		}
		k = text_utf8_decode(u + i, len - i, &cp);
		if (k == 0) {
			import_position(text, i, &line, &col);
			return import_fail(err, NULL, "line %ld, column %ld: not valid UTF-8 (byte "
			    "0x%02x)", line, col, u[i]);
		}
		i += (size_t)k;
	}
	return 0;
}

/* The child of o for each name of keys[0..n) in found[], refusing unknown, repeated and
 * missing fields (those from keys[required] on may be missing: NULL); path names o. */
static int
import_fields(const cJSON *o, const char *path, const char *const *keys, size_t n,
    size_t required, const cJSON **found, char **err)
{
	const cJSON *c;
	size_t i;

	if (!cJSON_IsObject(o))
		return import_fail(err, path, "expected an object");
	for (i = 0; i < n; i++)
		found[i] = NULL;
	for (c = o->child; c != NULL; c = c->next) {
		for (i = 0; i < n && strcmp(c->string, keys[i]) != 0; i++)
			;
		if (i == n) {
			struct buf name = BUF_INIT;
			size_t len = strlen(c->string);
			int rc;

			/* Cut first: the sanitizer shows a character cut in half as U+FFFD. */
			text_sanitize_line(c->string, len < 64 ? len : 64, &name);
			rc = import_fail(err, path, "unknown field \"%s\"", buf_str(&name));
			buf_free(&name);
			return rc;
		}
		if (found[i] != NULL)
			return import_fail(err, path, "the field \"%s\" appears twice", keys[i]);
		found[i] = c;
	}
	for (i = 0; i < required; i++)
		if (found[i] == NULL)
			return import_fail(err, path, "the field \"%s\" is missing", keys[i]);
	return 0;
}

/* "parent.key" or "key" for a path. */
static void
import_path(char *out, size_t len, const char *parent, const char *key)
{
	if (parent != NULL && *parent != '\0')
		snprintf(out, len, "%s.%s", parent, key);
	else
		snprintf(out, len, "%s", key);
}

/* A string field, or NULL for null when nullable; the copy goes to *out. */
static int
import_str(const cJSON *v, const char *parent, const char *key, int nullable, char **out,
    char **err)
{
	char path[96];

	import_path(path, sizeof(path), parent, key);
	if (nullable && cJSON_IsNull(v)) {
		*out = NULL;
		return 0;
	}
	if (!cJSON_IsString(v) || v->valuestring == NULL)
		return import_fail(err, path, nullable ? "expected a string or null" :
		    "expected a string");
	*out = xstrdup(v->valuestring);
	return 0;
}

/* A whole number in [0, IMPORT_MAX_INT], or -1 for null when nullable. */
static int
import_count(const cJSON *v, const char *parent, const char *key, int nullable, long *out,
    char **err)
{
	char path[96];
	double d;

	import_path(path, sizeof(path), parent, key);
	if (nullable && cJSON_IsNull(v)) {
		*out = -1;
		return 0;
	}
	if (!cJSON_IsNumber(v))
		return import_fail(err, path, nullable ? "expected a whole number or null" :
		    "expected a whole number");
	d = v->valuedouble;
	if (!isfinite(d) || d < 0 || d > IMPORT_MAX_INT || d != floor(d))
		return import_fail(err, path, "expected a whole number from 0 to 2^53");
	*out = (long)d;
	return 0;
}

/* A cost: a finite number >= 0, or -1 for null when nullable. */
static int
import_cost(const cJSON *v, const char *parent, const char *key, int nullable, double *out,
    char **err)
{
	char path[96];

	import_path(path, sizeof(path), parent, key);
	if (nullable && cJSON_IsNull(v)) {
		*out = -1;
		return 0;
	}
	if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble) || v->valuedouble < 0)
		return import_fail(err, path, nullable ? "expected a number of 0 or more, or null" :
		    "expected a number of 0 or more");
	*out = v->valuedouble;
	return 0;
}

/* A time as export_json writes it, into unix milliseconds. */
static int
import_time(const cJSON *v, const char *parent, const char *key, int with_ms, int64_t *out,
    char **err)
{
	char path[96];

	import_path(path, sizeof(path), parent, key);
	if (!cJSON_IsString(v) || export_parse_time(v->valuestring, with_ms, out) != 0)
		return import_fail(err, path, "expected a UTC time like %s", with_ms ?
		    "2026-01-02T03:04:05.678Z" : "2026-01-02T03:04:05Z");
	return 0;
}

/* The role of a message from its name. */
static int
import_role(const cJSON *v, const char *parent, enum role *out, char **err)
{
	static const enum role roles[] = { ROLE_SYSTEM, ROLE_USER, ROLE_ASSISTANT,
		ROLE_TOOL_CALL, ROLE_TOOL };
	char path[96];
	size_t i;

	import_path(path, sizeof(path), parent, "role");
	for (i = 0; cJSON_IsString(v) && i < sizeof(roles) / sizeof(roles[0]); i++) {
		if (strcmp(v->valuestring, store_role_name(roles[i])) == 0) {
			*out = roles[i];
			return 0;
		}
	}
	return import_fail(err, path, "expected \"system\", \"user\", \"assistant\", "
	    "\"tool_call\" or \"tool\"");
}

/* The state of a message from its name; streaming reads as interrupted (see the top). */
static int
import_state(const cJSON *v, const char *parent, enum msg_state *out, char **err)
{
	char path[96];
	int i;

	import_path(path, sizeof(path), parent, "state");
	for (i = MSG_COMPLETE; cJSON_IsString(v) && i <= MSG_INTERRUPTED; i++) {
		if (strcmp(v->valuestring, store_state_name((enum msg_state)i)) == 0) {
			*out = i == MSG_STREAMING ? MSG_INTERRUPTED : (enum msg_state)i;
			return 0;
		}
	}
	return import_fail(err, path, "expected complete, streaming, truncated, cancelled, "
	    "error or interrupted");
}

/* The tool fields of message m: a call and a result name their call (tool_id) and tool
 * (tool_name), only a result may say it failed, and other messages have none. */
static int
import_tool_fields(const cJSON *const *f, const char *path, struct message_row *m, char **err)
{
	int tool = m->role == ROLE_TOOL_CALL || m->role == ROLE_TOOL;
	char p[96];

	if (f[M_TOOL_ID] != NULL && import_str(f[M_TOOL_ID], path, "tool_id", 1, &m->tool_id,
	    err) != 0)
		return -1;
	if (f[M_TOOL_NAME] != NULL && import_str(f[M_TOOL_NAME], path, "tool_name", 1,
	    &m->tool_name, err) != 0)
		return -1;
	if (f[M_TOOL_ERROR] != NULL && !cJSON_IsBool(f[M_TOOL_ERROR])) {
		import_path(p, sizeof(p), path, "tool_error");
		return import_fail(err, p, "expected true or false");
	}
	m->tool_error = f[M_TOOL_ERROR] != NULL && cJSON_IsTrue(f[M_TOOL_ERROR]);
	if (tool && (m->tool_id == NULL || m->tool_id[0] == '\0')) {
		import_path(p, sizeof(p), path, "tool_id");
		return import_fail(err, p, "a %s names its call: expected a string",
		    store_role_name(m->role));
	}
	if (tool && (m->tool_name == NULL || m->tool_name[0] == '\0')) {
		import_path(p, sizeof(p), path, "tool_name");
		return import_fail(err, p, "a %s names its tool: expected a string",
		    store_role_name(m->role));
	}
	if (!tool && (m->tool_id != NULL || m->tool_name != NULL)) {
		import_path(p, sizeof(p), path, m->tool_id != NULL ? "tool_id" : "tool_name");
		return import_fail(err, p, "only a tool_call or a tool message has one (expected "
		    "null)");
	}
	if (m->tool_error && m->role != ROLE_TOOL) {
		import_path(p, sizeof(p), path, "tool_error");
		return import_fail(err, p, "only a tool result can fail (expected false)");
	}
	return 0;
}

/* Check that every tool result answers a call made before it in the session. */
static int
import_tool_pairs(const struct import_doc *doc, char **err)
{
	char path[64];
	size_t i, j;

	for (i = 0; i < doc->nmsgs; i++) {
		if (doc->msgs[i].role != ROLE_TOOL)
			continue;
		for (j = i; j > 0; j--)
			if (doc->msgs[j - 1].role == ROLE_TOOL_CALL &&
			    strcmp(doc->msgs[j - 1].tool_id, doc->msgs[i].tool_id) == 0)
				break;
		if (j == 0) {
			struct buf id = BUF_INIT;
			size_t len = strlen(doc->msgs[i].tool_id);
			int rc;

			snprintf(path, sizeof(path), "messages[%zu].tool_id", i);
			text_sanitize_line(doc->msgs[i].tool_id, len < 64 ? len : 64, &id);
			rc = import_fail(err, path, "\"%s\" answers no tool_call before it",
			    buf_str(&id));
			buf_free(&id);
			return rc;
		}
	}
	return 0;
}

/* Read one attachment object o (at path): every field, and bytes that are what its size
 * and digest say. The new attachment, or NULL with *err. */
static struct attach *
import_file(const cJSON *o, const char *path, char **err)
{
	const cJSON *f[A_COUNT];
	char *name = NULL, *mime = NULL, *kind = NULL, *sha = NULL, *data = NULL;
	unsigned char *bytes = NULL;
	struct attach *a = NULL;
	char p[192];
	size_t len = 0;
	long size;
	int k = -1;

	if (import_fields(o, path, import_file_keys, A_COUNT, A_COUNT, f, err) != 0 ||
	    import_str(f[A_NAME], path, "name", 0, &name, err) != 0 ||
	    import_str(f[A_MIME], path, "mime", 0, &mime, err) != 0 ||
	    import_str(f[A_KIND], path, "kind", 0, &kind, err) != 0 ||
	    import_count(f[A_SIZE], path, "size", 0, &size, err) != 0 ||
	    import_str(f[A_SHA], path, "sha256", 0, &sha, err) != 0 ||
	    import_str(f[A_DATA], path, "data", 0, &data, err) != 0)
		goto out;
	if ((k = attach_kind_parse(kind)) < 0) {
		import_path(p, sizeof(p), path, "kind");
		import_fail(err, p, "expected text, image, pdf, audio or file");
		goto out;
	}
	if (strlen(sha) != 64 || strspn(sha, "0123456789abcdef") != 64) {
		import_path(p, sizeof(p), path, "sha256");
		import_fail(err, p, "expected 64 lowercase hex digits");
		goto out;
	}
	if ((bytes = attach_b64_decode(data, strlen(data), &len)) == NULL) {
		import_path(p, sizeof(p), path, "data");
		import_fail(err, p, "expected the file's bytes in base64");
		goto out;
	}
	a = attach_stored(name, mime, (enum attach_kind)k, (size_t)size, sha);
	if (attach_set_data(a, bytes, len) != 0) {
		attach_unref(a);
		a = NULL;
		import_path(p, sizeof(p), path, "data");
		import_fail(err, p, "these bytes are not the file its size and sha256 name");
	}
out:
	free(name);
	free(mime);
	free(kind);
	free(sha);
	free(data);
	return a;
}

/* Read a message's attachments array (only a user message has files). */
static int
import_files(const cJSON *v, const char *path, struct message_row *m, char **err)
{
	const cJSON *c;
	struct attach *a;
	char p[128];
	size_t i = 0;

	if (!cJSON_IsArray(v)) {
		import_path(p, sizeof(p), path, "attachments");
		return import_fail(err, p, "expected an array");
	}
	if (m->role != ROLE_USER && v->child != NULL) {
		import_path(p, sizeof(p), path, "attachments");
		return import_fail(err, p, "only a user message has files");
	}
	for (c = v->child; c != NULL; c = c->next, i++) {
		snprintf(p, sizeof(p), "%s.attachments[%zu]", path, i);
		if ((a = import_file(c, p, err)) == NULL)
			return -1;
		m->atts = xrealloc(m->atts, (m->natts + 1) * sizeof(*m->atts));
		m->atts[m->natts++] = a;
	}
	return 0;
}

/* Read message object o (at path) into *m and its comparison fields into *c. */
static int
import_message(const cJSON *o, const char *path, struct message_row *m, struct import_cmp *c,
    char **err)
{
	const cJSON *f[M_COUNT];
	long group, column, id;
	char p[96];

	if (import_fields(o, path, import_message_keys, M_COUNT, M_REQUIRED, f, err) != 0 ||
	    import_count(f[M_ID], path, "id", 0, &id, err) != 0 ||
	    import_role(f[M_ROLE], path, &m->role, err) != 0 ||
	    import_str(f[M_CONTENT], path, "content", 0, &m->content, err) != 0 ||
	    import_str(f[M_REASONING], path, "reasoning", 1, &m->reasoning, err) != 0 ||
	    import_str(f[M_PROVIDER], path, "provider", 1, &m->provider, err) != 0 ||
	    import_str(f[M_MODEL], path, "model", 1, &m->model, err) != 0 ||
	    import_time(f[M_CREATED], path, "created", 1, &m->created, err) != 0 ||
	    import_state(f[M_STATE], path, &m->state, err) != 0 ||
	    import_str(f[M_ERROR], path, "error", 1, &m->error, err) != 0 ||
	    import_str(f[M_FINISH], path, "finish_reason", 1, &m->finish_reason, err) != 0 ||
	    import_count(f[M_INPUT], path, "input_tokens", 1, &m->input_tokens, err) != 0 ||
	    import_count(f[M_OUTPUT], path, "output_tokens", 1, &m->output_tokens, err) != 0 ||
	    import_cost(f[M_COST], path, "cost", 1, &m->cost, err) != 0 ||
	    import_count(f[M_TTFT], path, "ttft_ms", 1, &m->ttft_ms, err) != 0 ||
	    import_count(f[M_DURATION], path, "duration_ms", 1, &m->duration_ms, err) != 0 ||
	    import_count(f[M_GROUP], path, "compare_group", 1, &group, err) != 0 ||
	    import_count(f[M_COLUMN], path, "compare_column", 1, &column, err) != 0)
		return -1;
	if (group == 0)
		return import_fail(err, path, "compare_group: expected a group id of 1 or more, "
		    "or null");
	m->compare_group = group > 0 ? group : 0;
	m->compare_pick = -1;
	if (column == 0 || column > 1000) {
		import_path(p, sizeof(p), path, "compare_column");
		return import_fail(err, p, "expected a column from 1, or null");
	}
	c->column = column > 0 ? (int)column : 0;
	if (cJSON_IsNull(f[M_KEPT]))
		c->kept = -1;
	else if (cJSON_IsBool(f[M_KEPT]))
		c->kept = cJSON_IsTrue(f[M_KEPT]);
	else {
		import_path(p, sizeof(p), path, "compare_kept");
		return import_fail(err, p, "expected true, false or null");
	}
	if (f[M_PINNED] != NULL && !cJSON_IsBool(f[M_PINNED])) {
		import_path(p, sizeof(p), path, "pinned");
		return import_fail(err, p, "expected true or false");
	}
	m->pinned = f[M_PINNED] != NULL && cJSON_IsTrue(f[M_PINNED]);
	if (f[M_ATTACHMENTS] != NULL && import_files(f[M_ATTACHMENTS], path, m, err) != 0)
		return -1;
	return import_tool_fields(f, path, m, err);
}

/*
 * Check the comparison fields against the order of the messages, as export_json derives
 * them, and set each grouped message's compare_pick to the column its group kept: at most
 * one column of a group may say kept, and every reply of a round must say whether it is.
 */
static int
import_groups(struct import_doc *doc, const struct import_cmp *cmp, char **err)
{
	struct message_row *m = doc->msgs;
	size_t n = doc->nmsgs, i, j;
	char path[64], *done = NULL;
	int col, ncols, pick, rc = -1;

	/* A group holding tool rounds cannot be read by order (a column has several rows):
	 * its rows carry their columns, as natter stores them. */
	for (i = 0; i < n; i++)
		if (m[i].compare_group != 0 && (m[i].role == ROLE_TOOL_CALL || m[i].role == ROLE_TOOL))
			for (j = 0; j < n; j++)
				if (m[j].compare_group == m[i].compare_group)
					m[j].column = cmp[j].column;
	for (i = 0; i < n; i++) {
		snprintf(path, sizeof(path), "messages[%zu]", i);
		col = export_compare_column(m, n, i, &ncols);
		if (col >= 0 && cmp[i].column != col + 1)
			return import_fail(err, path, "compare_column: this reply is column %d of "
			    "its round, not %d", col + 1, cmp[i].column);
		if (col < 0 && cmp[i].column != 0)
			return import_fail(err, path, "compare_column: only a compared reply has a "
			    "column (expected null)");
		if ((col >= 0) != (cmp[i].kept >= 0))
			return import_fail(err, path, col >= 0 ? "compare_kept: a compared reply "
			    "says true or false" : "compare_kept: expected null outside a comparison");
	}
	done = xcalloc(n ? n : 1, 1);
	for (i = 0; i < n; i++) {
		if (m[i].compare_group == 0 || done[i])
			continue;
		/* The group's kept column: the first reply saying so; the others must agree. */
		pick = -1;
		for (j = i; j < n; j++) {
			if (m[j].compare_group != m[i].compare_group || cmp[j].kept != 1)
				continue;
			col = export_compare_column(m, n, j, &ncols);
			if (pick >= 0 && col != pick) {
				snprintf(path, sizeof(path), "messages[%zu]", j);
				import_fail(err, path, "compare_kept: its group keeps column %d already",
				    pick + 1);
				goto out;
			}
			pick = col;
		}
		for (j = i; j < n; j++) {
			if (m[j].compare_group != m[i].compare_group)
				continue;
			done[j] = 1;
			m[j].compare_pick = pick;
			col = export_compare_column(m, n, j, &ncols);
			if (col >= 0 && cmp[j].kept != (col == pick)) {
				snprintf(path, sizeof(path), "messages[%zu]", j);
				import_fail(err, path, "compare_kept: its group keeps column %d", pick + 1);
				goto out;
			}
		}
	}
	rc = 0;
out:
	free(done);
	return rc;
}

/* Check that the session's totals are the sums of its messages, as the store keeps them. */
static int
import_totals(const struct import_doc *doc, char **err)
{
	long in = 0, out = 0;
	double cost = 0;
	size_t i;

	for (i = 0; i < doc->nmsgs; i++) {
		const struct message_row *m = &doc->msgs[i];

		if (m->input_tokens > 0 && in > LONG_MAX - m->input_tokens)
			return import_fail(err, "input_tokens", "the messages add up to too many");
		if (m->output_tokens > 0 && out > LONG_MAX - m->output_tokens)
			return import_fail(err, "output_tokens", "the messages add up to too many");
		in += m->input_tokens > 0 ? m->input_tokens : 0;
		out += m->output_tokens > 0 ? m->output_tokens : 0;
		cost += m->cost > 0 ? m->cost : 0;
	}
	if (doc->session.input_tokens != in)
		return import_fail(err, "input_tokens", "%ld, but the messages add up to %ld",
		    doc->session.input_tokens, in);
	if (doc->session.output_tokens != out)
		return import_fail(err, "output_tokens", "%ld, but the messages add up to %ld",
		    doc->session.output_tokens, out);
	/* The store's own check allows a millionth for rounding in the running sums. */
	if (fabs(doc->session.cost - cost) > 1e-6)
		return import_fail(err, "cost", "%.6f, but the messages add up to %.6f",
		    doc->session.cost, cost);
	return 0;
}

/* Read the session object root into doc. */
static int
import_session(const cJSON *root, struct import_doc *doc, char **err)
{
	struct session_row *s = &doc->session;
	const cJSON *f[S_COUNT], *c;
	struct import_cmp *cmp = NULL;
	int64_t ms;
	long id;
	size_t i;
	char path[64];
	int rc = -1;

	if (import_fields(root, "", import_session_keys, S_COUNT, S_REQUIRED, f, err) != 0 ||
	    import_count(f[S_ID], NULL, "id", 0, &id, err) != 0 ||
	    import_str(f[S_TITLE], NULL, "title", 0, &s->title, err) != 0 ||
	    import_str(f[S_PROVIDER], NULL, "provider", 1, &s->provider, err) != 0 ||
	    import_str(f[S_MODEL], NULL, "model", 1, &s->model, err) != 0 ||
	    import_str(f[S_SYSTEM], NULL, "system", 1, &s->system, err) != 0 ||
	    import_time(f[S_CREATED], NULL, "created", 0, &ms, err) != 0)
		return -1;
	s->created = ms / 1000;
	if (import_time(f[S_UPDATED], NULL, "updated", 0, &ms, err) != 0 ||
	    import_count(f[S_INPUT], NULL, "input_tokens", 0, &s->input_tokens, err) != 0 ||
	    import_count(f[S_OUTPUT], NULL, "output_tokens", 0, &s->output_tokens, err) != 0 ||
	    import_cost(f[S_COST], NULL, "cost", 0, &s->cost, err) != 0)
		return -1;
	s->updated = ms / 1000;
	if ((f[S_SUMMARY] != NULL && import_str(f[S_SUMMARY], NULL, "summary", 1, &s->summary,
	    err) != 0) || (f[S_COVERS] != NULL && import_count(f[S_COVERS], NULL,
	    "summary_covers", 0, &s->summary_covers, err) != 0))
		return -1;
	if (!cJSON_IsArray(f[S_MESSAGES]))
		return import_fail(err, "messages", "expected an array");
	doc->nmsgs = (size_t)cJSON_GetArraySize(f[S_MESSAGES]);
	doc->msgs = xcalloc(doc->nmsgs ? doc->nmsgs : 1, sizeof(*doc->msgs));
	cmp = xcalloc(doc->nmsgs ? doc->nmsgs : 1, sizeof(*cmp));
	for (i = 0, c = f[S_MESSAGES]->child; c != NULL; c = c->next, i++) {
		snprintf(path, sizeof(path), "messages[%zu]", i);
		if (import_message(c, path, &doc->msgs[i], &cmp[i], err) != 0)
			goto out;
	}
	s->nmessages = (long)doc->nmsgs;
	if (s->summary == NULL && s->summary_covers != 0) {
		rc = import_fail(err, "summary_covers", "expected 0 without a summary");
		goto out;
	}
	if (import_groups(doc, cmp, err) != 0 || import_totals(doc, err) != 0 ||
	    import_tool_pairs(doc, err) != 0)
		goto out;
	rc = 0;
out:
	free(cmp);
	return rc;
}

/* Whether the n bytes at p are all JSON whitespace. */
static int
import_blank(const char *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (p[i] != ' ' && p[i] != '\t' && p[i] != '\r' && p[i] != '\n')
			return 0;
	return 1;
}

/* Parse an export. */
int
import_parse(const char *text, size_t len, struct import_doc *doc, char **err)
{
	struct import_doc d;
	const char *end = NULL;
	cJSON *root;
	long line, col;
	int rc;

	*err = NULL;
	memset(&d, 0, sizeof(d));
	if (len > IMPORT_MAX_BYTES)
		return import_fail(err, NULL, "larger than %u MiB", IMPORT_MAX_BYTES >> 20);
	if (import_check_bytes(text, len, err) != 0)
		return -1;
	root = cJSON_ParseWithLengthOpts(text, len, &end, 0);
	if (root == NULL) {
		size_t off = end != NULL && end >= text && end <= text + len ? (size_t)(end - text) :
		    0;

		import_position(text, off, &line, &col);
		return import_fail(err, NULL, import_blank(text, len) ?
		    "empty: expected natter's JSON export" : "line %ld, column %ld: not valid JSON",
		    line, col);
	}
	if (end != NULL && !import_blank(end, len - (size_t)(end - text))) {
		while (*end == ' ' || *end == '\t' || *end == '\r' || *end == '\n')
			end++;
		import_position(text, (size_t)(end - text), &line, &col);
		cJSON_Delete(root);
		return import_fail(err, NULL, "line %ld, column %ld: text after the JSON document",
		    line, col);
	}
	rc = import_session(root, &d, err);
	cJSON_Delete(root);
	if (rc != 0) {
		import_free(&d);
		return -1;
	}
	*doc = d;
	return 0;
}

/* Free what import_parse filled in. */
void
import_free(struct import_doc *doc)
{
	free(doc->session.title);
	free(doc->session.provider);
	free(doc->session.model);
	free(doc->session.system);
	free(doc->session.summary);
	store_messages_free(doc->msgs, doc->nmsgs);
	memset(doc, 0, sizeof(*doc));
}
