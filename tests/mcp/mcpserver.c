/*
 * A test MCP server over stdio for natter's MCP client (tests/unit/test_mcp.c,
 * tests/integration/mcp.sh). It reads one JSON-RPC message per line on stdin and answers
 * on stdout, with tools that exercise every path of the client:
 *
 *   echo {text}     returns text (after a log and a progress notification, which the
 *                   client must ignore)
 *   fail            a result with isError true
 *   hang            never answers (a notifications/cancelled for it is logged)
 *   image           an 8-byte PNG signature as image content, and a line of text
 *   resource        a resource_link and an embedded text resource
 *   structured      structuredContent only: {"answer":42}
 *   grow            adds the tool "grown" and sends notifications/tools/list_changed
 *                   (before its own answer), then returns "grew"
 *   env {name}      the value of environment variable name, or "(unset)"
 *   ping            sends the client a ping and answers once the client's answer came
 *   sample          sends sampling/createMessage and returns the error code it got back
 *   crash           exits with status 4 without answering
 *   fds             its open descriptors, e.g. "0 1 2" (nothing of natter's may leak)
 *
 * Options:
 *   --stderr-env NAME  print NAME=its value on stderr (before the options after it)
 *   --crash-on-start   print a line on stderr and exit 3 before reading anything
 *   --garbage          answer initialize with a line that is not JSON
 *   --garbage-on-call  answer every tools/call with a line that is not JSON
 *   --batch            after notifications/initialized, send a batch (a JSON array)
 *   --page N           tools/list pages of N tools (nextCursor is the next offset)
 *   --extra N          N more tools, extra1 ... extraN (echo alike)
 *   --log FILE         append every line received to FILE
 *   --stubborn         ignore SIGTERM and stay alive after end of input
 *   --slow-start S     sleep S seconds before reading anything
 *   --no-tools         answer tools/list with "method not found"
 *   --ignore-relist    answer only the first listing (later tools/list go unanswered)
 *
 *   --http             serve MCP's streamable HTTP transport instead (libmicrohttpd) on
 *                      127.0.0.1, at any path, printing "PORT N" on stdout once listening:
 *                      a request is answered with one JSON body (its answer only) and a
 *                      notification or an answer with 202; initialize hands out the
 *                      session "sess-natter-42", which every later request must carry (400
 *                      without it, 404 with another); DELETE ends it. --log also gets a
 *                      line "HEADERS proto=P session=S auth=A" per POST and "DELETE S".
 *   --sse              with --http, answer every request with an event stream holding
 *                      each message the request caused (notifications, then the answer)
 *   --status N         with --http, answer every tools/call with HTTP status N
 *   --get-stream       with --http, serve the GET stream (405 without it): a request's
 *                      notifications go out on it instead of in the answer, which then
 *                      waits 300 ms; --log gets "GET session=S accept=A" per GET
 *   --expire-calls N   with --http, the first N tools/call requests find their session
 *                      expired: each is answered 404 and the next initialize hands out
 *                      the next session id (sess-natter-43, ...)
 *
 * Built by the Makefile into build/MODE/mcpserver. Written for tests: blocking I/O, one
 * message at a time, no limits.
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cJSON.h>
#include <microhttpd.h>

static int opt_garbage, opt_garbage_call, opt_batch, opt_stubborn, opt_no_tools;
static int opt_page, opt_extra, opt_ignore_relist, listings;
static const char *opt_log;
static int opt_http, opt_sse, opt_status, opt_expire, opt_get;
static int get_pipe[2] = { -1, -1 };  /* --get-stream: events for the GET streams */
static FILE *log_file;
/* --http: the messages the request being handled caused, one per line, under http_lock. */
static pthread_mutex_t http_lock = PTHREAD_MUTEX_INITIALIZER;
static char *http_out;
static size_t http_len;
static int session_gen = 42;  /* --http: the current session is sess-natter-GEN */
static char session_id[32] = "sess-natter-42";
#define SESSION session_id
static int grown;
/* A tools/call waiting for the client's answer to our own request. */
static cJSON *waiting_id;
static const char *waiting_tool;

/* Print one message as a line. */
static void
send_msg(cJSON *m)
{
	char *s = cJSON_PrintUnformatted(m);

	if (opt_http) {
		size_t n = strlen(s);

		http_out = realloc(http_out, http_len + n + 2);
		memcpy(http_out + http_len, s, n);
		http_out[http_len + n] = '\n';
		http_len += n + 1;
		http_out[http_len] = '\0';
	} else {
		fputs(s, stdout);
		fputc('\n', stdout);
		fflush(stdout);
	}
	free(s);
	cJSON_Delete(m);
}

/* A message skeleton with "jsonrpc": "2.0". */
static cJSON *
msg_new(void)
{
	cJSON *m = cJSON_CreateObject();

	cJSON_AddStringToObject(m, "jsonrpc", "2.0");
	return m;
}

/* Answer id with result (taken). */
static void
send_result(const cJSON *id, cJSON *result)
{
	cJSON *m = msg_new();

	cJSON_AddItemToObject(m, "id", cJSON_Duplicate(id, 1));
	cJSON_AddItemToObject(m, "result", result);
	send_msg(m);
}

/* Answer id with a JSON-RPC error. */
static void
send_error(const cJSON *id, int code, const char *message)
{
	cJSON *m = msg_new(), *e = cJSON_CreateObject();

	cJSON_AddItemToObject(m, "id", id != NULL ? cJSON_Duplicate(id, 1) : cJSON_CreateNull());
	cJSON_AddNumberToObject(e, "code", code);
	cJSON_AddStringToObject(e, "message", message);
	cJSON_AddItemToObject(m, "error", e);
	send_msg(m);
}

/* Send a notification or a request (id NULL: notification). */
static void
send_call(const char *id, const char *method, cJSON *params)
{
	cJSON *m = msg_new();

	if (id != NULL)
		cJSON_AddStringToObject(m, "id", id);
	cJSON_AddStringToObject(m, "method", method);
	if (params != NULL)
		cJSON_AddItemToObject(m, "params", params);
	send_msg(m);
}

/* A tool result of one text item. */
static cJSON *
text_result(const char *text, int is_error)
{
	cJSON *r = cJSON_CreateObject(), *content = cJSON_AddArrayToObject(r, "content");
	cJSON *it = cJSON_CreateObject();

	cJSON_AddStringToObject(it, "type", "text");
	cJSON_AddStringToObject(it, "text", text);
	cJSON_AddItemToArray(content, it);
	if (is_error)
		cJSON_AddTrueToObject(r, "isError");
	return r;
}

/* The names of every tool, in order. */
static const char *const base_tools[] = {
	"echo", "fail", "hang", "image", "resource", "structured", "grow", "env", "ping",
	"sample", "crash", "fds",
};
#define NBASE (sizeof base_tools / sizeof base_tools[0])

/* How many tools there are now. */
static int
tool_count(void)
{
	return (int)NBASE + opt_extra + grown;
}

/* The declaration of tool i. */
static cJSON *
tool_decl(int i)
{
	cJSON *t = cJSON_CreateObject(), *schema = cJSON_CreateObject(), *props;
	char name[32];

	if (i < (int)NBASE)
		snprintf(name, sizeof name, "%s", base_tools[i]);
	else if (i < (int)NBASE + opt_extra)
		snprintf(name, sizeof name, "extra%d", i - (int)NBASE + 1);
	else
		snprintf(name, sizeof name, "grown");
	cJSON_AddStringToObject(t, "name", name);
	cJSON_AddStringToObject(t, "description", strcmp(name, "echo") == 0 ?
	    "Return the text it is given.\nA second line the list must not show." :
	    "A tool of the test server.");
	cJSON_AddStringToObject(schema, "type", "object");
	props = cJSON_AddObjectToObject(schema, "properties");
	if (strcmp(name, "echo") == 0 || strncmp(name, "extra", 5) == 0)
		cJSON_AddStringToObject(cJSON_AddObjectToObject(props, "text"), "type", "string");
	if (strcmp(name, "env") == 0)
		cJSON_AddStringToObject(cJSON_AddObjectToObject(props, "name"), "type", "string");
	cJSON_AddItemToObject(t, "inputSchema", schema);
	return t;
}

/* Answer tools/list, one page when --page is set. */
static void
do_list(const cJSON *id, const cJSON *params)
{
	cJSON *r, *tools;
	const cJSON *cur = cJSON_GetObjectItem(params, "cursor");
	int start = cJSON_IsString(cur) ? atoi(cur->valuestring) : 0, end, i;
	char next[16];

	if (opt_no_tools) {
		send_error(id, -32601, "Method not found");
		return;
	}
	if (start == 0 && ++listings > 1 && opt_ignore_relist)
		return;
	end = opt_page > 0 && start + opt_page < tool_count() ? start + opt_page : tool_count();
	r = cJSON_CreateObject();
	tools = cJSON_AddArrayToObject(r, "tools");
	for (i = start; i < end; i++)
		cJSON_AddItemToArray(tools, tool_decl(i));
	if (end < tool_count()) {
		snprintf(next, sizeof next, "%d", end);
		cJSON_AddStringToObject(r, "nextCursor", next);
	}
	send_result(id, r);
}

/* Image, resource and structured results. */
static cJSON *
content_result(const char *tool)
{
	cJSON *r = cJSON_CreateObject(), *c = cJSON_AddArrayToObject(r, "content"), *it, *res;

	if (strcmp(tool, "image") == 0) {
		it = cJSON_CreateObject();
		cJSON_AddStringToObject(it, "type", "image");
		cJSON_AddStringToObject(it, "mimeType", "image/png");
		cJSON_AddStringToObject(it, "data", "iVBORw0KGgo=");
		cJSON_AddItemToArray(c, it);
		it = cJSON_CreateObject();
		cJSON_AddStringToObject(it, "type", "text");
		cJSON_AddStringToObject(it, "text", "a tiny image");
		cJSON_AddItemToArray(c, it);
	} else if (strcmp(tool, "resource") == 0) {
		it = cJSON_CreateObject();
		cJSON_AddStringToObject(it, "type", "resource_link");
		cJSON_AddStringToObject(it, "uri", "file:///tmp/notes.txt");
		cJSON_AddStringToObject(it, "name", "notes");
		cJSON_AddItemToArray(c, it);
		it = cJSON_CreateObject();
		cJSON_AddStringToObject(it, "type", "resource");
		res = cJSON_AddObjectToObject(it, "resource");
		cJSON_AddStringToObject(res, "uri", "memo://one");
		cJSON_AddStringToObject(res, "text", "the memo text");
		cJSON_AddItemToArray(c, it);
	} else {
		cJSON_AddNumberToObject(cJSON_AddObjectToObject(r, "structuredContent"), "answer",
		    42);
	}
	return r;
}

/* Answer tools/call (or leave it unanswered, as some tools do). */
static void
do_call(const cJSON *id, const cJSON *params)
{
	const char *name = cJSON_GetStringValue(cJSON_GetObjectItem(params, "name"));
	const cJSON *args = cJSON_GetObjectItem(params, "arguments");
	const char *text = cJSON_GetStringValue(cJSON_GetObjectItem(args, "text"));
	cJSON *p;

	if (opt_garbage_call) {
		fputs("Traceback (most recent call last): oops\n", stdout);
		fflush(stdout);
		return;
	}
	if (name == NULL) {
		send_error(id, -32602, "Missing tool name");
	} else if (strcmp(name, "echo") == 0 || strncmp(name, "extra", 5) == 0) {
		p = cJSON_CreateObject();
		cJSON_AddStringToObject(p, "level", "info");
		cJSON_AddStringToObject(p, "data", "echoing");
		send_call(NULL, "notifications/message", p);
		p = cJSON_CreateObject();
		cJSON_AddStringToObject(p, "progressToken", "t");
		cJSON_AddNumberToObject(p, "progress", 1);
		send_call(NULL, "notifications/progress", p);
		send_result(id, text_result(text != NULL ? text : "", 0));
	} else if (strcmp(name, "fail") == 0) {
		send_result(id, text_result("failure as asked", 1));
	} else if (strcmp(name, "hang") == 0) {
		/* Never answered. */
	} else if (strcmp(name, "image") == 0 || strcmp(name, "resource") == 0 ||
	    strcmp(name, "structured") == 0) {
		send_result(id, content_result(name));
	} else if (strcmp(name, "grow") == 0) {
		grown = 1;
		send_call(NULL, "notifications/tools/list_changed", NULL);
		send_result(id, text_result("grew", 0));
	} else if (strcmp(name, "grown") == 0 && grown) {
		send_result(id, text_result("grown tool here", 0));
	} else if (strcmp(name, "env") == 0) {
		const char *v = cJSON_GetStringValue(cJSON_GetObjectItem(args, "name"));

		v = v != NULL ? getenv(v) : NULL;
		send_result(id, text_result(v != NULL ? v : "(unset)", 0));
	} else if (strcmp(name, "ping") == 0 || strcmp(name, "sample") == 0) {
		waiting_id = cJSON_Duplicate(id, 1);
		waiting_tool = strcmp(name, "ping") == 0 ? "ping" : "sample";
		if (strcmp(name, "ping") == 0)
			send_call("srv-1", "ping", NULL);
		else
			send_call("srv-1", "sampling/createMessage", cJSON_CreateObject());
	} else if (strcmp(name, "fds") == 0) {
		DIR *d = opendir("/proc/self/fd");
		struct dirent *de;
		char list[512] = "";
		size_t len = 0;

		while (d != NULL && (de = readdir(d)) != NULL)
			if (de->d_name[0] != '.' && atoi(de->d_name) != dirfd(d) &&
			    len + strlen(de->d_name) + 2 < sizeof list)
				len += (size_t)snprintf(list + len, sizeof list - len, "%s%s",
				    len > 0 ? " " : "", de->d_name);
		if (d != NULL)
			closedir(d);
		send_result(id, text_result(list, 0));
	} else if (strcmp(name, "crash") == 0) {
		fputs("mcpserver: crashing in the middle of a call\n", stderr);
		exit(4);
	} else {
		send_error(id, -32602, "Unknown tool");
	}
}

/* The client answered our own request srv-1. */
static void
do_answer(const cJSON *m)
{
	const cJSON *err = cJSON_GetObjectItem(m, "error");
	char text[64];

	if (waiting_id == NULL)
		return;
	if (strcmp(waiting_tool, "ping") == 0)
		snprintf(text, sizeof text, "%s", cJSON_GetObjectItem(m, "result") != NULL ?
		    "pong" : "ping failed");
	else
		snprintf(text, sizeof text, "sampling refused: %d", err != NULL ?
		    (int)cJSON_GetNumberValue(cJSON_GetObjectItem(err, "code")) : 0);
	send_result(waiting_id, text_result(text, 0));
	cJSON_Delete(waiting_id);
	waiting_id = NULL;
}

/* Answer initialize. */
static void
do_initialize(const cJSON *id)
{
	cJSON *r, *caps, *info;

	if (opt_garbage) {
		fputs("Server listening on stdio... this is not JSON\n", stdout);
		fflush(stdout);
		return;
	}
	r = cJSON_CreateObject();
	cJSON_AddStringToObject(r, "protocolVersion", "2025-06-18");
	caps = cJSON_AddObjectToObject(r, "capabilities");
	cJSON_AddTrueToObject(cJSON_AddObjectToObject(caps, "tools"), "listChanged");
	info = cJSON_AddObjectToObject(r, "serverInfo");
	cJSON_AddStringToObject(info, "name", "natter-test-server");
	cJSON_AddStringToObject(info, "version", "1.0");
	cJSON_AddStringToObject(r, "instructions", "Use echo to test.");
	send_result(id, r);
}

/* Handle one line from the client. */
static void
handle(const char *line)
{
	cJSON *m = cJSON_Parse(line);
	const cJSON *id = cJSON_GetObjectItem(m, "id");
	const char *method = cJSON_GetStringValue(cJSON_GetObjectItem(m, "method"));

	if (m == NULL) {
		fprintf(stderr, "mcpserver: the client sent something that is not JSON\n");
		return;
	}
	if (method == NULL)
		do_answer(m);
	else if (strcmp(method, "initialize") == 0)
		do_initialize(id);
	else if (strcmp(method, "notifications/initialized") == 0 && opt_batch)
		fputs("[{\"jsonrpc\":\"2.0\",\"id\":\"b1\",\"method\":\"ping\"}]\n", stdout),
		    fflush(stdout);
	else if (strcmp(method, "tools/list") == 0)
		do_list(id, cJSON_GetObjectItem(m, "params"));
	else if (strcmp(method, "tools/call") == 0)
		do_call(id, cJSON_GetObjectItem(m, "params"));
	else if (strcmp(method, "ping") == 0)
		send_result(id, cJSON_CreateObject());
	else if (id != NULL)
		send_error(id, -32601, "Method not found");
	cJSON_Delete(m);
}

/* --http: one POST's body as it arrives. */
struct upload {
	char *data;
	size_t len;
};

/* --http: queue a response of status with body (copied) of type, or none. */
static enum MHD_Result
http_answer(struct MHD_Connection *conn, int status, const char *type, const char *body,
    int with_session)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(body != NULL ? strlen(body) : 0,
	    (void *)(body != NULL ? body : ""), MHD_RESPMEM_MUST_COPY);
	enum MHD_Result rc;

	if (type != NULL)
		MHD_add_response_header(r, "Content-Type", type);
	if (with_session)
		MHD_add_response_header(r, "Mcp-Session-Id", SESSION);
	rc = MHD_queue_response(conn, (unsigned)status, r);
	MHD_destroy_response(r);
	return rc;
}

/* --http: the answer to request id among the lines of out (a copy), or NULL. */
static char *
http_pick(const char *out, const cJSON *id)
{
	const char *p = out, *nl;
	char *hit = NULL;

	while (p != NULL && *p != '\0' && hit == NULL) {
		char *line;
		cJSON *m;

		nl = strchr(p, '\n');
		line = strndup(p, nl != NULL ? (size_t)(nl - p) : strlen(p));
		m = cJSON_Parse(line);
		if (m != NULL && cJSON_GetObjectItem(m, "method") == NULL &&
		    cJSON_Compare(cJSON_GetObjectItem(m, "id"), id, 1))
			hit = line;
		else
			free(line);
		cJSON_Delete(m);
		p = nl != NULL ? nl + 1 : NULL;
	}
	return hit;
}

/* --get-stream: write the notifications among the lines of out to the GET stream as
 * events; 1 when there were any. */
static int
get_stream_send(const char *out)
{
	const char *p = out, *nl;
	int any = 0;

	while (p != NULL && *p != '\0') {
		char ev[4096];
		size_t n;
		int k;

		nl = strchr(p, '\n');
		n = nl != NULL ? (size_t)(nl - p) : strlen(p);
		if (memmem(p, n, "\"method\"", 8) != NULL && memmem(p, n, "\"id\"", 4) == NULL) {
			k = snprintf(ev, sizeof ev, "event: message\ndata: %.*s\n\n", (int)n, p);
			if (k > 0 && (size_t)k < sizeof ev && write(get_pipe[1], ev, (size_t)k) == k)
				any = 1;
		}
		p = nl != NULL ? nl + 1 : NULL;
	}
	return any;
}

/* --get-stream: the GET stream's body: whatever the POSTs wrote to the pipe. */
static ssize_t
get_stream_read(void *cls, uint64_t pos, char *buf, size_t max)
{
	ssize_t n;

	(void)cls;
	(void)pos;
	n = read(get_pipe[0], buf, max);
	return n > 0 ? n : MHD_CONTENT_READER_END_OF_STREAM;
}

/* --http: a GET: the stream for the server's own messages, or 405 without --get-stream. */
static enum MHD_Result
http_get(struct MHD_Connection *conn)
{
	const char *sess = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Mcp-Session-Id");
	const char *accept = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Accept");
	struct MHD_Response *r;
	enum MHD_Result rc;

	if (log_file != NULL) {
		fprintf(log_file, "GET session=%s accept=%s\n", sess ? sess : "-",
		    accept ? accept : "-");
		fflush(log_file);
	}
	if (!opt_get)
		return http_answer(conn, 405, "text/plain", "POST only", 0);
	if (sess == NULL || strcmp(sess, SESSION) != 0)
		return http_answer(conn, sess == NULL ? 400 : 404, "text/plain", "no such session",
		    0);
	r = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 4096, get_stream_read, NULL,
	    NULL);
	MHD_add_response_header(r, "Content-Type", "text/event-stream");
	rc = MHD_queue_response(conn, 200, r);
	MHD_destroy_response(r);
	return rc;
}

/* --http: one whole POST: handle its message and answer as the transport says. */
static enum MHD_Result
http_post(struct MHD_Connection *conn, const char *body)
{
	const char *sess = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Mcp-Session-Id");
	const char *proto = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
	    "MCP-Protocol-Version");
	const char *auth = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Authorization");
	const char *accept = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Accept");
	cJSON *m = cJSON_Parse(body);
	const cJSON *id = cJSON_GetObjectItem(m, "id");
	const char *method = cJSON_GetStringValue(cJSON_GetObjectItem(m, "method"));
	int init = method != NULL && strcmp(method, "initialize") == 0, i, wait;
	char *out, *pick;
	struct { char *data; size_t len; } sse = { NULL, 0 };
	enum MHD_Result rc;

	if (log_file != NULL) {
		fprintf(log_file, "HEADERS proto=%s session=%s auth=%s\n%s\n", proto ? proto : "-",
		    sess ? sess : "-", auth ? auth : "-", body);
		fflush(log_file);
	}
	if (m == NULL) {
		cJSON_Delete(m);
		return http_answer(conn, 400, "text/plain", "not JSON", 0);
	}
	if (accept == NULL || strstr(accept, "application/json") == NULL ||
	    strstr(accept, "text/event-stream") == NULL) {
		cJSON_Delete(m);
		return http_answer(conn, 406, "text/plain", "Accept both kinds", 0);
	}
	if (!init && sess == NULL) {
		cJSON_Delete(m);
		return http_answer(conn, 400, "text/plain", "missing Mcp-Session-Id", 0);
	}
	if (!init && strcmp(sess, SESSION) != 0) {
		cJSON_Delete(m);
		return http_answer(conn, 404, "text/plain", "no such session", 0);
	}
	if (opt_expire > 0 && method != NULL && strcmp(method, "tools/call") == 0) {
		opt_expire--;
		snprintf(session_id, sizeof session_id, "sess-natter-%d", ++session_gen);
		cJSON_Delete(m);
		return http_answer(conn, 404, "text/plain", "session expired", 0);
	}
	if (opt_status > 0 && method != NULL && strcmp(method, "tools/call") == 0) {
		cJSON_Delete(m);
		return http_answer(conn, opt_status, "text/plain", "the tool endpoint is down", 0);
	}
	pthread_mutex_lock(&http_lock);
	http_len = 0;
	free(http_out);
	http_out = NULL;
	handle(body);
	out = http_out != NULL ? strdup(http_out) : strdup("");
	pthread_mutex_unlock(&http_lock);
	if (opt_get && get_stream_send(out))
		usleep(300000);
	if (method == NULL || id == NULL) {
		free(out);
		cJSON_Delete(m);
		return http_answer(conn, 202, NULL, NULL, 0);
	}
	/* A request with nothing to say (hang) holds its connection until the end. */
	for (wait = 0; *out == '\0' && wait < 600; wait++)
		usleep(100000);
	if (opt_sse) {
		const char *p = out, *nl;

		for (i = 0; p != NULL && *p != '\0'; i++) {
			size_t n;

			nl = strchr(p, '\n');
			n = nl != NULL ? (size_t)(nl - p) : strlen(p);
			sse.data = realloc(sse.data, sse.len + n + 64);
			sse.len += (size_t)snprintf(sse.data + sse.len, n + 64, ": event %d\nevent: "
			    "message\ndata: %.*s\n\n", i, (int)n, p);
			p = nl != NULL ? nl + 1 : NULL;
		}
		rc = http_answer(conn, 200, "text/event-stream", sse.data != NULL ? sse.data : "",
		    init);
		free(sse.data);
	} else {
		pick = http_pick(out, id);
		rc = http_answer(conn, 200, "application/json", pick != NULL ? pick : "{}", init);
		free(pick);
	}
	free(out);
	cJSON_Delete(m);
	return rc;
}

/* --http: libmicrohttpd's handler: gather the body, then answer. */
static enum MHD_Result
http_handler(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
    const char *version, const char *data, size_t *size, void **state)
{
	struct upload *u = *state;
	const char *sess;
	enum MHD_Result rc;

	(void)cls;
	(void)url;
	(void)version;
	if (u == NULL) {
		*state = calloc(1, sizeof(*u));
		return MHD_YES;
	}
	if (*size > 0) {
		u->data = realloc(u->data, u->len + *size + 1);
		memcpy(u->data + u->len, data, *size);
		u->len += *size;
		u->data[u->len] = '\0';
		*size = 0;
		return MHD_YES;
	}
	if (strcmp(method, "DELETE") == 0) {
		sess = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Mcp-Session-Id");
		if (log_file != NULL) {
			fprintf(log_file, "DELETE %s\n", sess != NULL ? sess : "-");
			fflush(log_file);
		}
		rc = http_answer(conn, 200, NULL, NULL, 0);
	} else if (strcmp(method, "GET") == 0) {
		rc = http_get(conn);
	} else if (strcmp(method, "POST") != 0) {
		rc = http_answer(conn, 405, "text/plain", "POST only", 0);
	} else {
		rc = http_post(conn, u->data != NULL ? u->data : "");
	}
	free(u->data);
	free(u);
	*state = NULL;
	return rc;
}

/* --http: serve until SIGTERM. */
static int
http_serve(void)
{
	struct sockaddr_in sa;
	struct MHD_Daemon *d;
	const union MHD_DaemonInfo *info;

	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	d = MHD_start_daemon(MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD, 0,
	    NULL, NULL, http_handler, NULL, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
	    MHD_OPTION_END);
	if (d == NULL) {
		fputs("mcpserver: cannot listen\n", stderr);
		return 1;
	}
	info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
	printf("PORT %u\n", (unsigned)info->port);
	fflush(stdout);
	fputs("mcpserver: ready on http\n", stderr);
	for (;;)
		pause();
	return 0;
}

/* Parse the options and serve until end of input. */
int
main(int argc, char **argv)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	FILE *log = NULL;
	int i;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--crash-on-start") == 0) {
			fputs("mcpserver: crashing on start as asked\n", stderr);
			return 3;
		} else if (strcmp(argv[i], "--stderr-env") == 0 && i + 1 < argc) {
			i++;
			fprintf(stderr, "%s=%s\n", argv[i], getenv(argv[i]) != NULL ?
			    getenv(argv[i]) : "");
		} else if (strcmp(argv[i], "--garbage") == 0) {
			opt_garbage = 1;
		} else if (strcmp(argv[i], "--garbage-on-call") == 0) {
			opt_garbage_call = 1;
		} else if (strcmp(argv[i], "--batch") == 0) {
			opt_batch = 1;
		} else if (strcmp(argv[i], "--stubborn") == 0) {
			opt_stubborn = 1;
			signal(SIGTERM, SIG_IGN);
		} else if (strcmp(argv[i], "--ignore-relist") == 0) {
			opt_ignore_relist = 1;
		} else if (strcmp(argv[i], "--no-tools") == 0) {
			opt_no_tools = 1;
		} else if (strcmp(argv[i], "--page") == 0 && i + 1 < argc) {
			opt_page = atoi(argv[++i]);
		} else if (strcmp(argv[i], "--extra") == 0 && i + 1 < argc) {
			opt_extra = atoi(argv[++i]);
		} else if (strcmp(argv[i], "--log") == 0 && i + 1 < argc) {
			opt_log = argv[++i];
		} else if (strcmp(argv[i], "--http") == 0) {
			opt_http = 1;
		} else if (strcmp(argv[i], "--sse") == 0) {
			opt_sse = 1;
		} else if (strcmp(argv[i], "--get-stream") == 0) {
			opt_get = 1;
			if (pipe(get_pipe) != 0)
				return 1;
		} else if (strcmp(argv[i], "--expire-calls") == 0 && i + 1 < argc) {
			opt_expire = atoi(argv[++i]);
		} else if (strcmp(argv[i], "--status") == 0 && i + 1 < argc) {
			opt_status = atoi(argv[++i]);
		} else if (strcmp(argv[i], "--slow-start") == 0 && i + 1 < argc) {
			sleep((unsigned)atoi(argv[++i]));
		} else {
			fprintf(stderr, "mcpserver: unknown option %s\n", argv[i]);
			return 2;
		}
	}
	if (opt_log != NULL)
		log = fopen(opt_log, "a");
	if (opt_http) {
		log_file = log;
		return http_serve();
	}
	fputs("mcpserver: ready on stdio\n", stderr);
	while ((n = getline(&line, &cap, stdin)) > 0) {
		if (log != NULL) {
			fputs(line, log);
			fflush(log);
		}
		handle(line);
	}
	free(line);
	if (log != NULL)
		fclose(log);
	while (opt_stubborn)
		pause();
	return 0;
}
