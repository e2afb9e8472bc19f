/* Unit tests for the JSON-RPC 2.0 layer of the MCP client (src/jsonrpc.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "buf.h"
#include "jsonrpc.h"

/* Parse a C string and return its kind, keeping the message in *m. */
static enum jsonrpc_kind
parse(const char *s, struct jsonrpc_msg *m)
{
	return jsonrpc_parse(s, strlen(s), m);
}

/* The kind of a line, the message freed. */
static enum jsonrpc_kind
kind_of(const char *s)
{
	struct jsonrpc_msg m;
	enum jsonrpc_kind k = parse(s, &m);

	jsonrpc_msg_free(&m);
	return k;
}

/* Requests and notifications, with numeric and string ids. */
static void
test_requests(void **state)
{
	struct jsonrpc_msg m;
	uint64_t id;

	(void)state;
	assert_int_equal(parse("{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"ping\"}", &m),
	    JSONRPC_REQUEST);
	assert_string_equal(m.method, "ping");
	assert_true(jsonrpc_id_u64(m.id, &id));
	assert_int_equal(id, 7);
	assert_null(m.params);
	jsonrpc_msg_free(&m);

	assert_int_equal(parse(" {\"method\":\"roots/list\",\"params\":{\"a\":1},\"id\":\"s-1\","
	    "\"jsonrpc\":\"2.0\"}\r\n", &m), JSONRPC_REQUEST);
	assert_string_equal(m.id->valuestring, "s-1");
	assert_false(jsonrpc_id_u64(m.id, &id));
	assert_true(cJSON_IsObject(m.params));
	jsonrpc_msg_free(&m);

	assert_int_equal(parse("{\"jsonrpc\":\"2.0\",\"method\":\"notifications/tools/"
	    "list_changed\"}", &m), JSONRPC_NOTIFICATION);
	assert_string_equal(m.method, "notifications/tools/list_changed");
	assert_null(m.id);
	jsonrpc_msg_free(&m);
	/* Positional params are JSON-RPC too. */
	assert_int_equal(kind_of("{\"jsonrpc\":\"2.0\",\"method\":\"x\",\"params\":[1]}"),
	    JSONRPC_NOTIFICATION);
}

/* Results and errors, and an error answering an unreadable id (null). */
static void
test_responses(void **state)
{
	struct jsonrpc_msg m;
	uint64_t id;

	(void)state;
	assert_int_equal(parse("{\"jsonrpc\":\"2.0\",\"id\":3,\"result\":{\"tools\":[]}}", &m),
	    JSONRPC_RESULT);
	assert_true(jsonrpc_id_u64(m.id, &id));
	assert_int_equal(id, 3);
	assert_true(cJSON_IsObject(m.result));
	jsonrpc_msg_free(&m);
	/* A result may be any value, null included. */
	assert_int_equal(kind_of("{\"jsonrpc\":\"2.0\",\"id\":3,\"result\":null}"), JSONRPC_RESULT);

	assert_int_equal(parse("{\"jsonrpc\":\"2.0\",\"id\":4,\"error\":{\"code\":-32602,"
	    "\"message\":\"Unknown tool\",\"data\":{\"x\":1}}}", &m), JSONRPC_ERROR);
	assert_int_equal(m.code, -32602);
	assert_string_equal(m.message, "Unknown tool");
	assert_non_null(m.data);
	jsonrpc_msg_free(&m);

	assert_int_equal(parse("{\"jsonrpc\":\"2.0\",\"id\":null,\"error\":{\"code\":-32700,"
	    "\"message\":\"Parse error\"}}", &m), JSONRPC_ERROR);
	assert_true(cJSON_IsNull(m.id));
	assert_false(jsonrpc_id_u64(m.id, &id));
	jsonrpc_msg_free(&m);
}

/* Everything that is not a message, and why. */
static void
test_invalid(void **state)
{
	struct jsonrpc_msg m;

	(void)state;
	assert_int_equal(parse("Server listening on stdio", &m), JSONRPC_GARBAGE);
	assert_null(m.root);
	assert_non_null(m.reason);
	jsonrpc_msg_free(&m);
	assert_int_equal(kind_of("{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{}} trailing"),
	    JSONRPC_GARBAGE);
	assert_int_equal(kind_of("{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{}}{}"),
	    JSONRPC_GARBAGE);
	assert_int_equal(kind_of(""), JSONRPC_GARBAGE);
	assert_int_equal(kind_of("[{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}]"),
	    JSONRPC_BATCH);
	assert_int_equal(kind_of("42"), JSONRPC_INVALID);
	assert_int_equal(kind_of("{\"id\":1,\"method\":\"ping\"}"), JSONRPC_INVALID);
	assert_int_equal(kind_of("{\"jsonrpc\":\"1.0\",\"id\":1,\"method\":\"ping\"}"),
	    JSONRPC_INVALID);
	assert_int_equal(kind_of("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":5}"), JSONRPC_INVALID);
	assert_int_equal(kind_of("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"m\",\"params\":3}"),
	    JSONRPC_INVALID);
	assert_int_equal(kind_of("{\"jsonrpc\":\"2.0\",\"id\":null,\"method\":\"m\"}"),
	    JSONRPC_INVALID);
	assert_int_equal(kind_of("{\"jsonrpc\":\"2.0\",\"id\":{},\"result\":1}"), JSONRPC_INVALID);
	assert_int_equal(kind_of("{\"jsonrpc\":\"2.0\",\"id\":1e999,\"result\":1}"),
	    JSONRPC_INVALID);
	assert_int_equal(kind_of("{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":1,\"error\":{}}"),
	    JSONRPC_INVALID);
	assert_int_equal(kind_of("{\"jsonrpc\":\"2.0\",\"id\":1}"), JSONRPC_INVALID);
	assert_int_equal(kind_of("{\"jsonrpc\":\"2.0\",\"result\":1}"), JSONRPC_INVALID);
	assert_int_equal(kind_of("{\"jsonrpc\":\"2.0\",\"id\":1,\"error\":{\"code\":1.5,"
	    "\"message\":\"m\"}}"), JSONRPC_INVALID);
	assert_int_equal(kind_of("{\"jsonrpc\":\"2.0\",\"id\":1,\"error\":{\"message\":\"m\"}}"),
	    JSONRPC_INVALID);
	/* An invalid message still shows its id, so an answer to us can fail its request. */
	assert_int_equal(parse("{\"jsonrpc\":\"2.0\",\"id\":9,\"error\":\"bad\"}", &m),
	    JSONRPC_INVALID);
	assert_non_null(m.id);
	assert_non_null(m.reason);
	jsonrpc_msg_free(&m);
}

/* The encoders write one line each, exactly as expected, that parses back. */
static void
test_write(void **state)
{
	struct buf b = BUF_INIT;
	struct jsonrpc_msg m;
	cJSON *params = cJSON_Parse("{\"text\":\"two\\nlines\"}");
	cJSON *id = cJSON_CreateString("s-1");

	(void)state;
	jsonrpc_write_request(&b, 12, "tools/call", params);
	assert_string_equal(buf_str(&b), "{\"jsonrpc\":\"2.0\",\"id\":12,\"method\":\"tools/call\","
	    "\"params\":{\"text\":\"two\\nlines\"}}\n");
	buf_reset(&b);
	jsonrpc_write_notification(&b, "notifications/initialized", NULL);
	assert_string_equal(buf_str(&b),
	    "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/initialized\"}\n");
	buf_reset(&b);
	jsonrpc_write_result(&b, id, NULL);
	assert_string_equal(buf_str(&b), "{\"jsonrpc\":\"2.0\",\"id\":\"s-1\",\"result\":{}}\n");
	assert_int_equal(jsonrpc_parse(b.data, b.len, &m), JSONRPC_RESULT);
	jsonrpc_msg_free(&m);
	buf_reset(&b);
	jsonrpc_write_error(&b, NULL, JSONRPC_INVALID_REQUEST, "no \"batches\"");
	assert_string_equal(buf_str(&b), "{\"jsonrpc\":\"2.0\",\"id\":null,\"error\":{\"code\":"
	    "-32600,\"message\":\"no \\\"batches\\\"\"}}\n");
	assert_int_equal(jsonrpc_parse(b.data, b.len, &m), JSONRPC_ERROR);
	assert_string_equal(m.message, "no \"batches\"");
	jsonrpc_msg_free(&m);
	buf_free(&b);
	cJSON_Delete(params);
	cJSON_Delete(id);
}

/* Run the JSON-RPC tests. */
int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_requests),
		cmocka_unit_test(test_responses),
		cmocka_unit_test(test_invalid),
		cmocka_unit_test(test_write),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
