/*
 * JSON-RPC 2.0 messages as MCP's stdio transport carries them: one JSON object per line,
 * UTF-8, never a raw newline inside. jsonrpc_parse classifies one line (a request, a
 * notification, a result or an error response, or why it is none of them) and keeps the
 * parsed document; the jsonrpc_write_* functions append one encoded message and its newline
 * to a buffer, ready for a pipe.
 *
 * Classification follows the JSON-RPC 2.0 specification with MCP's restrictions: "jsonrpc"
 * must be "2.0"; an id is a string or a number (MCP forbids null, except in an error answer
 * to a message whose id could not be read); a request's params, when present, are an object
 * or an array; a response holds exactly one of result and error, and an error has an
 * integer code and a string message. A JSON array is a batch, which MCP 2025-06-18 removed:
 * it is reported as JSONRPC_BATCH for the caller to refuse. Text that is not one JSON value
 * (or has anything but white space after it) is JSONRPC_GARBAGE.
 *
 * Everything in a message is untrusted: method names, messages and ids are whatever the
 * peer sent and must be sanitised (text.h) before they reach a terminal.
 */
#ifndef NATTER_JSONRPC_H
#define NATTER_JSONRPC_H

#include <stddef.h>
#include <stdint.h>

#include <cJSON.h>

struct buf;

enum jsonrpc_kind {
	JSONRPC_REQUEST,      /* method and id: the peer expects an answer */
	JSONRPC_NOTIFICATION, /* method without id */
	JSONRPC_RESULT,       /* id and result */
	JSONRPC_ERROR,        /* id (possibly JSON null) and error {code, message, data?} */
	JSONRPC_BATCH,        /* a JSON array: refused (MCP has no batches) */
	JSONRPC_INVALID,      /* JSON, but not a JSON-RPC 2.0 message; reason says why */
	JSONRPC_GARBAGE,      /* not JSON at all; reason says why */
};

/* The standard error codes. */
#define JSONRPC_PARSE_ERROR -32700
#define JSONRPC_INVALID_REQUEST -32600
#define JSONRPC_METHOD_NOT_FOUND -32601
#define JSONRPC_INVALID_PARAMS -32602
#define JSONRPC_INTERNAL_ERROR -32603

/* One parsed message. Every pointer but root points into root and lives as long as it. */
struct jsonrpc_msg {
	enum jsonrpc_kind kind;
	cJSON *root;          /* the document; NULL for GARBAGE */
	const cJSON *id;      /* REQUEST, RESULT, ERROR (and INVALID when one could be read) */
	const char *method;   /* REQUEST, NOTIFICATION */
	const cJSON *params;  /* REQUEST, NOTIFICATION: object, array or NULL */
	const cJSON *result;  /* RESULT: any JSON value */
	long code;            /* ERROR */
	const char *message;  /* ERROR */
	const cJSON *data;    /* ERROR: or NULL */
	const char *reason;   /* INVALID, GARBAGE: a static English phrase */
};

/* Parse the len bytes at line (no newline needed) into m; returns m->kind. Call
 * jsonrpc_msg_free afterwards whatever the kind. */
enum jsonrpc_kind jsonrpc_parse(const char *line, size_t len, struct jsonrpc_msg *m);
void jsonrpc_msg_free(struct jsonrpc_msg *m);
/* True when id is a whole number from 0 to 2^53 (the ids natter sends); *out is set. */
int jsonrpc_id_u64(const cJSON *id, uint64_t *out);

/* Append one message and "\n" to out. params/result may be NULL (result then is {});
 * id NULL in write_error is JSON null. The cJSON arguments are only read. */
void jsonrpc_write_request(struct buf *out, uint64_t id, const char *method,
    const cJSON *params);
void jsonrpc_write_notification(struct buf *out, const char *method, const cJSON *params);
void jsonrpc_write_result(struct buf *out, const cJSON *id, const cJSON *result);
void jsonrpc_write_error(struct buf *out, const cJSON *id, int code, const char *message);

#endif
