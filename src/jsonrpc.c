/*
 * JSON-RPC 2.0 parsing and encoding for MCP (see jsonrpc.h). cJSON parses; the checks here
 * decide what the document is, so the client above never looks at a malformed message.
 * Encoding writes method names and messages with buf_json_string and the embedded values
 * with cJSON's unformatted printer, neither of which ever emits a raw newline.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "jsonrpc.h"

/* True for the value kinds JSON-RPC allows as an id. */
static int
jsonrpc_id_ok(const cJSON *id)
{
	return id != NULL && (cJSON_IsString(id) ||
	    (cJSON_IsNumber(id) && isfinite(id->valuedouble)));
}

/* Mark m invalid for reason and return the kind. */
static enum jsonrpc_kind
jsonrpc_invalid(struct jsonrpc_msg *m, const char *reason)
{
	m->kind = JSONRPC_INVALID;
	m->reason = reason;
	return m->kind;
}

/* Classify a response object (no method): a result or an error. */
static enum jsonrpc_kind
jsonrpc_response(struct jsonrpc_msg *m, const cJSON *id)
{
	const cJSON *res = cJSON_GetObjectItemCaseSensitive(m->root, "result");
	const cJSON *err = cJSON_GetObjectItemCaseSensitive(m->root, "error");
	const cJSON *code, *msg;

	if (id == NULL)
		return jsonrpc_invalid(m, "neither a method nor an id");
	if (res != NULL && err != NULL)
		return jsonrpc_invalid(m, "both result and error");
	if (res != NULL) {
		if (!jsonrpc_id_ok(id))
			return jsonrpc_invalid(m, "the id is not a string or a number");
		m->id = id;
		m->result = res;
		m->kind = JSONRPC_RESULT;
		return m->kind;
	}
	if (err == NULL)
		return jsonrpc_invalid(m, "a response without result or error");
	if (!jsonrpc_id_ok(id) && !cJSON_IsNull(id))
		return jsonrpc_invalid(m, "the id is not a string or a number");
	m->id = id;
	code = cJSON_GetObjectItemCaseSensitive(err, "code");
	msg = cJSON_GetObjectItemCaseSensitive(err, "message");
	if (!cJSON_IsObject(err) || !cJSON_IsNumber(code) || !cJSON_IsString(msg) ||
	    code->valuedouble != floor(code->valuedouble) || fabs(code->valuedouble) > 2e9)
		return jsonrpc_invalid(m, "an error without an integer code and a message");
	m->code = (long)code->valuedouble;
	m->message = msg->valuestring;
	m->data = cJSON_GetObjectItemCaseSensitive(err, "data");
	m->kind = JSONRPC_ERROR;
	return m->kind;
}

/* Parse one line into m and say what it is. */
enum jsonrpc_kind
jsonrpc_parse(const char *line, size_t len, struct jsonrpc_msg *m)
{
	const char *end = NULL;
	const cJSON *v, *id, *method, *params;

	memset(m, 0, sizeof *m);
	m->root = cJSON_ParseWithLengthOpts(line, len, &end, 0);
	if (m->root == NULL) {
		m->kind = JSONRPC_GARBAGE;
		m->reason = "not JSON";
		return m->kind;
	}
	while (end != NULL && end < line + len &&
	    (*end == ' ' || *end == '\t' || *end == '\r' || *end == '\n'))
		end++;
	if (end == NULL || end != line + len) {
		cJSON_Delete(m->root);
		m->root = NULL;
		m->kind = JSONRPC_GARBAGE;
		m->reason = "text after the JSON value";
		return m->kind;
	}
	if (cJSON_IsArray(m->root)) {
		m->kind = JSONRPC_BATCH;
		m->reason = "a batch (MCP has none)";
		return m->kind;
	}
	if (!cJSON_IsObject(m->root))
		return jsonrpc_invalid(m, "not an object");
	id = cJSON_GetObjectItemCaseSensitive(m->root, "id");
	if (jsonrpc_id_ok(id))
		m->id = id;
	v = cJSON_GetObjectItemCaseSensitive(m->root, "jsonrpc");
	if (!cJSON_IsString(v) || strcmp(v->valuestring, "2.0") != 0)
		return jsonrpc_invalid(m, "\"jsonrpc\" is not \"2.0\"");
	method = cJSON_GetObjectItemCaseSensitive(m->root, "method");
	if (method == NULL)
		return jsonrpc_response(m, id);
	if (!cJSON_IsString(method))
		return jsonrpc_invalid(m, "the method is not a string");
	params = cJSON_GetObjectItemCaseSensitive(m->root, "params");
	if (params != NULL && !cJSON_IsObject(params) && !cJSON_IsArray(params))
		return jsonrpc_invalid(m, "params are not an object or an array");
	if (id != NULL && !jsonrpc_id_ok(id))
		return jsonrpc_invalid(m, "the id is not a string or a number");
	m->method = method->valuestring;
	m->params = params;
	m->kind = id != NULL ? JSONRPC_REQUEST : JSONRPC_NOTIFICATION;
	return m->kind;
}

/* Release the document of m. */
void
jsonrpc_msg_free(struct jsonrpc_msg *m)
{
	cJSON_Delete(m->root);
	memset(m, 0, sizeof *m);
}

/* True for a whole-number id natter could have sent. */
int
jsonrpc_id_u64(const cJSON *id, uint64_t *out)
{
	double d;

	if (!cJSON_IsNumber(id))
		return 0;
	d = id->valuedouble;
	if (d < 0 || d > 9007199254740992.0 || d != floor(d))
		return 0;
	*out = (uint64_t)d;
	return 1;
}

/* Append the unformatted JSON of v (null when v is NULL). */
static void
jsonrpc_put_value(struct buf *out, const cJSON *v)
{
	char *s;

	if (v == NULL) {
		buf_puts(out, "null");
		return;
	}
	s = cJSON_PrintUnformatted(v);
	if (s == NULL) {
		/* cJSON cannot print only when out of memory or given a broken tree. */
		buf_puts(out, "null");
		return;
	}
	buf_puts(out, s);
	cJSON_free(s);
}

/* Append ,"method":"..." and ,"params":... (when params is set). */
static void
jsonrpc_put_call(struct buf *out, const char *method, const cJSON *params)
{
	buf_puts(out, ",\"method\":");
	buf_json_string(out, method, strlen(method));
	if (params != NULL) {
		buf_puts(out, ",\"params\":");
		jsonrpc_put_value(out, params);
	}
	buf_puts(out, "}\n");
}

/* A request with a numeric id. */
void
jsonrpc_write_request(struct buf *out, uint64_t id, const char *method, const cJSON *params)
{
	buf_printf(out, "{\"jsonrpc\":\"2.0\",\"id\":%llu", (unsigned long long)id);
	jsonrpc_put_call(out, method, params);
}

/* A notification (no id, no answer expected). */
void
jsonrpc_write_notification(struct buf *out, const char *method, const cJSON *params)
{
	buf_puts(out, "{\"jsonrpc\":\"2.0\"");
	jsonrpc_put_call(out, method, params);
}

/* A result answering the request whose id is id. */
void
jsonrpc_write_result(struct buf *out, const cJSON *id, const cJSON *result)
{
	buf_puts(out, "{\"jsonrpc\":\"2.0\",\"id\":");
	jsonrpc_put_value(out, id);
	buf_puts(out, ",\"result\":");
	if (result == NULL)
		buf_puts(out, "{}");
	else
		jsonrpc_put_value(out, result);
	buf_puts(out, "}\n");
}

/* An error answering the request whose id is id (NULL: null). */
void
jsonrpc_write_error(struct buf *out, const cJSON *id, int code, const char *message)
{
	buf_puts(out, "{\"jsonrpc\":\"2.0\",\"id\":");
	jsonrpc_put_value(out, id);
	buf_printf(out, ",\"error\":{\"code\":%d,\"message\":", code);
	buf_json_string(out, message, strlen(message));
	buf_puts(out, "}}\n");
}
