/*
 * libFuzzer target for the MCP message parser (src/jsonrpc.c): any input line is classified
 * without crashing; a line that is a message, encoded again with jsonrpc_write_*, is one
 * line ending in its only newline and parses back to the same kind, id, method and error
 * code. The same input is also read as a tools/call result by the renderer (src/mcp.c),
 * whose text must then be NUL-free where the input was and whose images must agree with
 * the content.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "jsonrpc.h"
#include "mcp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* True when two ids (or two absent ids) are the same JSON value. */
static int
fuzz_same_id(const cJSON *a, const cJSON *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	return cJSON_Compare(a, b, 1);
}

/* Encode m again in its own kind into out. */
static void
fuzz_encode(const struct jsonrpc_msg *m, struct buf *out)
{
	uint64_t id;

	switch (m->kind) {
	case JSONRPC_REQUEST:
		if (jsonrpc_id_u64(m->id, &id))
			jsonrpc_write_request(out, id, m->method, m->params);
		else
			jsonrpc_write_notification(out, m->method, m->params);
		break;
	case JSONRPC_NOTIFICATION:
		jsonrpc_write_notification(out, m->method, m->params);
		break;
	case JSONRPC_RESULT:
		jsonrpc_write_result(out, m->id, m->result);
		break;
	case JSONRPC_ERROR:
		jsonrpc_write_error(out, cJSON_IsNull(m->id) ? NULL : m->id, (int)m->code,
		    m->message);
		break;
	default:
		break;
	}
}

/* Parse, re-encode, re-parse and compare; render as a result; abort on a broken invariant. */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct jsonrpc_msg m, again;
	struct buf out = BUF_INIT;
	enum jsonrpc_kind k = jsonrpc_parse((const char *)data, size, &m);
	uint64_t id;

	if ((k == JSONRPC_GARBAGE) != (m.root == NULL))
		abort();
	if ((k == JSONRPC_INVALID || k == JSONRPC_GARBAGE) && m.reason == NULL)
		abort();
	fuzz_encode(&m, &out);
	if (out.len > 0) {
		if (memchr(out.data, '\n', out.len) != out.data + out.len - 1)
			abort();
		jsonrpc_parse(out.data, out.len - 1, &again);
		if (m.kind == JSONRPC_REQUEST && !jsonrpc_id_u64(m.id, &id)) {
			/* Re-encoded as a notification: the id was dropped. */
			if (again.kind != JSONRPC_NOTIFICATION)
				abort();
		} else if (again.kind != m.kind || !fuzz_same_id(m.id, again.id)) {
			abort();
		}
		if (m.method != NULL && (again.method == NULL || strcmp(m.method, again.method)))
			abort();
		if (m.kind == JSONRPC_ERROR && (again.code != (int)m.code ||
		    strcmp(again.message, m.message) != 0))
			abort();
		jsonrpc_msg_free(&again);
	}
	if (m.root != NULL) {
		struct buf text = BUF_INIT;
		struct mcp_image *img = NULL;
		size_t nimg = 0, i;
		int err = mcp_render_result(m.root, &text, &img, &nimg);

		if (err != 0 && err != 1)
			abort();
		for (i = 0; i < nimg; i++)
			if (img[i].mime == NULL || img[i].data == NULL ||
			    img[i].bytes > strlen(img[i].data))
				abort();
		free(img);
		buf_free(&text);
	}
	jsonrpc_msg_free(&m);
	buf_free(&out);
	return 0;
}
