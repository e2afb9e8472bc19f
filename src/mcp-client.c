/*
 * One MCP server's side of the client (see mcp.h for the contract and mcp-client.h for the
 * data): its pipes, the JSON-RPC conversation (initialize, notifications/initialized,
 * tools/list page by page, tools/call, ping, list_changed, cancellation), the last few KiB
 * of its stderr, its timers, and what happens when it goes away.
 *
 * A failure noticed while reading (garbage on stdout, an overlong line) is only recorded
 * there and acted on after the read, so the line splitter is never torn down under its
 * own feet. An end of file waits up to MCP_LINGER_MS for the process to exit, so the
 * message can say how it ended; a process that does not end is signalled from then on,
 * and reaped in the background (the pool's dying list) while the server may already be
 * starting again.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "jsonrpc.h"
#include "log.h"
#include "mcp-client.h"
#include "secret.h"
#include "text.h"
#include "version.h"
#include "xmalloc.h"

#define MCP_TAIL 4096          /* bytes of stderr kept */
#define MCP_TAIL_LINES 12      /* lines of it quoted in an error */
#define MCP_LINGER_MS 300      /* wait for an exit status after end of file */
#define MCP_MAX_PAGES 100      /* tools/list pages before the listing stops */
#define MCP_MAX_TOOLS 1024     /* tools kept per server */
#define MCP_READ_CAP (1u << 20)/* bytes read from one server per process call */

static void mcp_client_line(void *ud, const char *line, size_t len);

/* Free a tool list's contents. */
static void
mcp_toollist_clear(struct mcp_toollist *l)
{
	size_t i;

	for (i = 0; i < l->n; i++) {
		free(l->v[i].name);
		free(l->v[i].title);
		free(l->v[i].description);
		free(l->v[i].schema);
	}
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

/* End call k (unlinked by the caller) with a failure status and message. */
void
mcp_client_end_call(struct mcp_client *c, struct mcp_call *k, enum mcp_status st,
    const char *msg)
{
	struct mcp_done *d;

	mcp_done_push(c->pool, c->cfg.name, k->id, k->tool, st, mcp_safe(msg), NULL, k->t0);
	d = c->pool->done_tail;
	d->cb = k->cb;
	d->arg = k->arg;
	free(k->tool);
	free(k->args);
	free(k);
}

/* Append bytes of stderr to the tail, keeping the last MCP_TAIL. */
static void
mcp_tail_add(struct mcp_client *c, const char *p, size_t n)
{
	buf_append(&c->tail, p, n);
	if (c->tail.len > 2 * MCP_TAIL)
		buf_consume(&c->tail, c->tail.len - MCP_TAIL);
}

/* Read whatever stderr holds now. */
static void
mcp_client_read_err(struct mcp_client *c)
{
	char chunk[4096];
	size_t total = 0;
	ssize_t r;

	/* Bounded, so a server that floods its stderr cannot hold the loop. */
	while (c->proc.err >= 0 && total < MCP_READ_CAP) {
		r = read(c->proc.err, chunk, sizeof chunk);
		if (r > 0) {
			total += (size_t)r;
			mcp_tail_add(c, chunk, (size_t)r);
			log_debug("mcp %s: stderr: %.*s", c->cfg.name, (int)r, chunk);
			continue;
		}
		if (r < 0 && errno == EINTR)
			continue;
		if (r == 0 || (errno != EAGAIN && errno != EWOULDBLOCK)) {
			close(c->proc.err);
			c->proc.err = -1;
		}
		break;
	}
}

/* The last lines of stderr, sanitised, scrubbed, without trailing blank lines. */
static char *
mcp_tail_text(struct mcp_client *c)
{
	const char *s = c->tail.data != NULL ? c->tail.data : "";
	size_t n = c->tail.len, start = 0, lines = 0, i;
	struct buf b = BUF_INIT;
	char *raw;

	if (n > MCP_TAIL) {
		size_t cut = n - MCP_TAIL;

		/* Start at a line boundary: a cut character would show as U+FFFD. */
		for (start = cut; start < n && s[start - 1] != '\n'; start++)
			;
		if (start == n)
			start = cut;
	}
	while (n > start && (s[n - 1] == '\n' || s[n - 1] == '\r' || s[n - 1] == ' '))
		n--;
	for (i = n; i > start; i--)
		if (s[i - 1] == '\n' && ++lines == MCP_TAIL_LINES) {
			start = i;
			break;
		}
	raw = xmemdup(s + start, n - start);
	text_sanitize(raw, secret_scrub(raw, n - start), &b);
	buf_puts(&b, "");
	free(raw);
	return buf_detach(&b);
}

/* Queue a JSON-RPC request; returns its id. */
static uint64_t
mcp_client_request(struct mcp_client *c, const char *method, const cJSON *params)
{
	uint64_t id = c->next_rpc++;

	jsonrpc_write_request(&c->out, id, method, params);
	return id;
}

/* Write what is queued for stdin; an error there is an end of the server. */
void
mcp_client_flush(struct mcp_client *c, int64_t now)
{
	ssize_t w;

	if (c->http != NULL) {
		mcp_http_flush(c);
		return;
	}
	while (c->running && c->proc.in >= 0 && c->out.len > 0) {
		w = write(c->proc.in, c->out.data, c->out.len);
		if (w > 0) {
			buf_consume(&c->out, (size_t)w);
			continue;
		}
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		/* EPIPE: it closed its input or died; its exit tells the rest. */
		buf_reset(&c->out);
		if (!c->eof) {
			c->eof = 1;
			c->linger_until = now + MCP_LINGER_MS;
		}
		return;
	}
}

/* Send notifications/cancelled for request rpc. */
void
mcp_client_cancelled(struct mcp_client *c, uint64_t rpc, const char *reason)
{
	cJSON *params = cJSON_CreateObject();

	cJSON_AddNumberToObject(params, "requestId", (double)rpc);
	cJSON_AddStringToObject(params, "reason", reason);
	jsonrpc_write_notification(&c->out, "notifications/cancelled", params);
	cJSON_Delete(params);
}

/* Fail every call of c with msg. */
static void
mcp_client_fail_calls(struct mcp_client *c, const char *msg)
{
	struct mcp_call *k;

	while ((k = c->calls) != NULL) {
		c->calls = k->next;
		mcp_client_end_call(c, k, MCP_CALL_FAILED, msg);
	}
}

/* Forget what the last run of the server told us. */
static void
mcp_client_reset_info(struct mcp_client *c)
{
	free(c->server_name);
	free(c->server_version);
	free(c->protocol);
	free(c->instructions);
	c->server_name = c->server_version = c->protocol = c->instructions = NULL;
	mcp_toollist_clear(&c->tools);
	mcp_toollist_clear(&c->building);
	c->init_rpc = c->list_rpc = 0;
	c->relist = 0;
	c->pages = 0;
}

/* The server is gone (state FAILED or EXITED): say why, fail its calls, withdraw its
 * tools, and leave the process to be reaped. cause is NULL when it ended by itself. */
static void
mcp_client_finish(struct mcp_client *c, enum mcp_state st, const char *cause, int64_t now)
{
	struct buf msg = BUF_INIT;
	char *how = NULL, *tail;
	int was = c->state;

	if (c->running && c->http == NULL) {
		mcp_client_read_err(c);
		if (cause == NULL && mcp_proc_poll(&c->proc))
			how = mcp_proc_describe(c->proc.status);
	}
	buf_printf(&msg, "mcp server '%s' ", c->cfg.name);
	if (cause != NULL)
		buf_puts(&msg, cause);
	else if (how != NULL)
		buf_puts(&msg, how);
	else
		buf_puts(&msg, "closed its output");
	if (was == MCP_STARTING && cause == NULL)
		buf_puts(&msg, " before it was ready");
	tail = mcp_tail_text(c);
	free(c->tail_safe);
	c->tail_safe = tail;
	if (*tail != '\0')
		buf_printf(&msg, "; the end of its stderr:\n%s", tail);
	free(c->error);
	c->error = mcp_safe(buf_str(&msg));
	buf_free(&msg);
	free(how);
	if (c->http != NULL) {
		mcp_http_close(c);
		c->running = 0;
	} else if (c->running) {
		mcp_proc_stop(&c->proc, now);
		mcp_proc_close_fds(&c->proc);
		if (!mcp_proc_tick(&c->proc, now)) {
			struct mcp_pool *p = c->pool;

			p->dying = xrealloc(p->dying, (p->ndying + 1) * sizeof *p->dying);
			p->dying[p->ndying] = xmemdup(&c->proc, sizeof c->proc);
			p->ndying++;
		}
		c->running = 0;
	}
	memset(&c->proc, 0, sizeof c->proc);
	c->proc.in = c->proc.out = c->proc.err = -1;
	c->state = st;
	c->eof = 0;
	c->renew = c->renewed = 0;
	free(c->broken);
	c->broken = NULL;
	buf_reset(&c->out);
	mcp_client_fail_calls(c, c->error);
	mcp_client_reset_info(c);
	/* Only a ready server's tools were offered (and so withdrawn). */
	mcp_pool_changed(c->pool, was == MCP_READY);
}

/* A protocol failure: remember the first one, acted on after the read. */
static void
mcp_client_break(struct mcp_client *c, char *cause)
{
	if (c->broken == NULL)
		c->broken = cause;
	else
		free(cause);
}

/* Send the call k: tools/call with its name and arguments. */
void
mcp_client_send_call(struct mcp_client *c, struct mcp_call *k, int64_t now)
{
	cJSON *params = cJSON_CreateObject();
	cJSON *args = cJSON_Parse(k->args);

	cJSON_AddStringToObject(params, "name", k->tool);
	cJSON_AddItemToObject(params, "arguments", args != NULL ? args : cJSON_CreateObject());
	k->rpc = mcp_client_request(c, "tools/call", params);
	k->deadline = now + (int64_t)(c->cfg.timeout * 1000);
	cJSON_Delete(params);
}

/* Ask for a page of tools (cursor NULL: the first). */
static void
mcp_client_list(struct mcp_client *c, const char *cursor)
{
	cJSON *params = NULL;

	if (cursor != NULL) {
		params = cJSON_CreateObject();
		cJSON_AddStringToObject(params, "cursor", cursor);
	}
	if (cursor == NULL) {
		mcp_toollist_clear(&c->building);
		c->pages = 0;
	}
	c->pages++;
	c->list_rpc = mcp_client_request(c, "tools/list", params);
	c->list_deadline = mcp_now_ms() + (int64_t)(c->cfg.startup_timeout * 1000);
	cJSON_Delete(params);
}

/* Start server c: spawn it and send initialize; failures leave it FAILED. */
void
mcp_client_start(struct mcp_client *c, int64_t now)
{
	cJSON *params, *info;
	char *err = NULL;

	mcp_client_reset_info(c);
	free(c->error);
	c->error = NULL;
	free(c->tail_safe);
	c->tail_safe = NULL;
	buf_reset(&c->tail);
	buf_reset(&c->out);
	ndjson_free(&c->rd);
	ndjson_init(&c->rd, mcp_client_line, c);
	c->rd.max_line = MCP_MAX_LINE;
	c->next_rpc = 1;
	c->eof = 0;
	if (c->cfg.url == NULL && c->cfg.command == NULL) {
		c->state = MCP_STARTING;
		mcp_client_finish(c, MCP_FAILED, "has neither command: nor url:", now);
		return;
	}
	if (c->cfg.url != NULL && mcp_http_start(c, &err) != 0) {
		c->state = MCP_STARTING;
		mcp_client_finish(c, MCP_FAILED, err, now);
		free(err);
		return;
	}
	if (c->cfg.url == NULL && mcp_proc_spawn(&c->proc, &c->cfg, &err) != 0) {
		char *cause = xasprintf("could not be started: %s", err);

		c->state = MCP_STARTING;
		mcp_client_finish(c, MCP_FAILED, cause, now);
		free(cause);
		free(err);
		return;
	}
	c->running = 1;
	c->state = MCP_STARTING;
	c->start_deadline = now + (int64_t)(c->cfg.startup_timeout * 1000);
	params = cJSON_CreateObject();
	cJSON_AddStringToObject(params, "protocolVersion", MCP_PROTOCOL_VERSION);
	cJSON_AddItemToObject(params, "capabilities", cJSON_CreateObject());
	info = cJSON_AddObjectToObject(params, "clientInfo");
	cJSON_AddStringToObject(info, "name", "natter");
	cJSON_AddStringToObject(info, "version", NATTER_VERSION);
	c->init_rpc = mcp_client_request(c, "initialize", params);
	cJSON_Delete(params);
	mcp_client_flush(c, now);
	mcp_pool_changed(c->pool, 0);
}

/* A copy of the string member key of o, or NULL. */
static char *
mcp_dup(const cJSON *o, const char *key)
{
	const char *s = mcp_json_str(o, key);

	return s != NULL ? xstrdup(s) : NULL;
}

/* The answer to initialize: record who the server is, then list its tools. */
static void
mcp_client_on_init(struct mcp_client *c, const struct jsonrpc_msg *m)
{
	const cJSON *info;

	c->init_rpc = 0;
	if (m->kind == JSONRPC_ERROR) {
		mcp_client_break(c, xasprintf("answered initialize with error %ld: %s", m->code,
		    m->message));
		return;
	}
	if (m->kind != JSONRPC_RESULT || mcp_json_str(m->result, "protocolVersion") == NULL) {
		mcp_client_break(c, xstrdup("answered initialize without a protocolVersion"));
		return;
	}
	/* Every protocol version so far lists and calls tools the same way. */
	c->protocol = mcp_dup(m->result, "protocolVersion");
	info = cJSON_GetObjectItemCaseSensitive(m->result, "serverInfo");
	c->server_name = mcp_dup(info, "name");
	c->server_version = mcp_dup(info, "version");
	c->instructions = mcp_dup(m->result, "instructions");
	jsonrpc_write_notification(&c->out, "notifications/initialized", NULL);
	mcp_client_list(c, NULL);
}

/* Add the tools of one tools/list page to c->building. */
static void
mcp_client_add_tools(struct mcp_client *c, const cJSON *tools)
{
	const cJSON *t;

	if (!cJSON_IsArray(tools))
		return;
	cJSON_ArrayForEach(t, tools) {
		const cJSON *schema = cJSON_GetObjectItemCaseSensitive(t, "inputSchema");
		const cJSON *ann = cJSON_GetObjectItemCaseSensitive(t, "annotations");
		struct mcp_tool_entry *e;
		char *s;

		if (mcp_json_str(t, "name") == NULL || *mcp_json_str(t, "name") == '\0' ||
		    c->building.n >= MCP_MAX_TOOLS)
			continue;
		c->building.v = xrealloc(c->building.v, (c->building.n + 1) * sizeof *c->building.v);
		e = &c->building.v[c->building.n++];
		e->name = mcp_dup(t, "name");
		e->title = mcp_dup(t, "title");
		if (e->title == NULL)
			e->title = mcp_dup(ann, "title");
		e->description = mcp_dup(t, "description");
		if (e->description == NULL)
			e->description = xstrdup("");
		s = cJSON_IsObject(schema) ? cJSON_PrintUnformatted(schema) : NULL;
		e->schema = xstrdup(s != NULL ? s : "{\"type\":\"object\",\"properties\":{}}");
		cJSON_free(s);
	}
}

/* The list is complete: offer it, and send the calls that waited for the server. */
static void
mcp_client_listed(struct mcp_client *c, int64_t now)
{
	struct mcp_call *k;

	mcp_toollist_clear(&c->tools);
	c->tools = c->building;
	memset(&c->building, 0, sizeof c->building);
	c->list_rpc = 0;
	if (c->state == MCP_STARTING) {
		c->state = MCP_READY;
		/* A new session is proven by its first answered call (or by having none). */
		if (c->calls == NULL)
			c->renewed = 0;
		for (k = c->calls; k != NULL; k = k->next)
			if (k->rpc == 0)
				mcp_client_send_call(c, k, now);
	}
	mcp_pool_changed(c->pool, 1);
	if (c->relist) {
		c->relist = 0;
		mcp_client_list(c, NULL);
	}
}

/* An answer to tools/list: the next page, or the end of the listing. */
static void
mcp_client_on_list(struct mcp_client *c, const struct jsonrpc_msg *m, int64_t now)
{
	const char *cursor;

	if (m->kind != JSONRPC_RESULT) {
		if (c->state == MCP_READY) {
			/* A failed relisting keeps the tools the server offered before. */
			log_debug("mcp %s: tools/list failed again", c->cfg.name);
			mcp_toollist_clear(&c->building);
			c->list_rpc = 0;
			c->relist = 0;
			return;
		}
		if (m->kind == JSONRPC_ERROR && m->code == JSONRPC_METHOD_NOT_FOUND) {
			/* A server without tools (resources or prompts only). */
			mcp_client_listed(c, now);
			return;
		}
		if (m->kind == JSONRPC_ERROR)
			mcp_client_break(c, xasprintf("answered tools/list with error %ld: %s",
			    m->code, m->message));
		else
			mcp_client_break(c, xasprintf("answered tools/list with an invalid "
			    "message (%s)", m->reason));
		return;
	}
	mcp_client_add_tools(c, cJSON_GetObjectItemCaseSensitive(m->result, "tools"));
	cursor = mcp_json_str(m->result, "nextCursor");
	if (cursor != NULL && *cursor != '\0' && c->pages < MCP_MAX_PAGES &&
	    c->building.n < MCP_MAX_TOOLS) {
		mcp_client_list(c, cursor);
		return;
	}
	mcp_client_listed(c, now);
}

/* An answer to tools/call k (unlinked by the caller). */
static void
mcp_client_on_call(struct mcp_client *c, struct mcp_call *k, const struct jsonrpc_msg *m)
{
	struct buf text = BUF_INIT;
	struct mcp_done *d;
	struct mcp_image *img = NULL;
	size_t nimg = 0;
	char *raw, *msg;
	int err;

	c->renewed = 0;
	if (m->kind != JSONRPC_RESULT) {
		if (m->kind == JSONRPC_ERROR)
			msg = xasprintf("mcp server '%s' refused tools/call '%s': error %ld: %s",
			    c->cfg.name, k->tool, m->code, m->message);
		else
			msg = xasprintf("mcp server '%s' answered tools/call '%s' with an invalid "
			    "message (%s)", c->cfg.name, k->tool, m->reason);
		mcp_client_end_call(c, k, MCP_CALL_REFUSED, msg);
		free(msg);
		return;
	}
	err = mcp_render_result(m->result, &text, &img, &nimg);
	raw = cJSON_PrintUnformatted(m->result);
	msg = xstrdup(raw != NULL ? raw : "{}");
	cJSON_free(raw);
	secret_scrub_str(msg);
	secret_scrub_str(text.data);
	mcp_done_push(c->pool, c->cfg.name, k->id, k->tool, err ? MCP_CALL_TOOL_ERROR : MCP_CALL_OK,
	    buf_detach(&text), msg, k->t0);
	d = c->pool->done_tail;
	d->cb = k->cb;
	d->arg = k->arg;
	/* The images point into the document, which goes with the result. */
	d->images = img;
	d->r.images = img;
	d->r.nimages = nimg;
	d->doc = m->root;
	free(k->tool);
	free(k->args);
	free(k);
}

/* Find and unlink the call whose request is rpc. */
static struct mcp_call *
mcp_client_take_call(struct mcp_client *c, uint64_t rpc)
{
	struct mcp_call **pp, *k;

	for (pp = &c->calls; (k = *pp) != NULL; pp = &k->next)
		if (k->rpc != 0 && k->rpc == rpc) {
			*pp = k->next;
			return k;
		}
	return NULL;
}

/* An answer to one of our requests (or an invalid message with its id). */
static void
mcp_client_on_answer(struct mcp_client *c, struct jsonrpc_msg *m, int64_t now)
{
	struct mcp_call *k;
	uint64_t id;

	if (!jsonrpc_id_u64(m->id, &id) || id == 0) {
		log_debug("mcp %s: an answer to no request of ours", c->cfg.name);
		return;
	}
	if (id == c->init_rpc)
		mcp_client_on_init(c, m);
	else if (id == c->list_rpc)
		mcp_client_on_list(c, m, now);
	else if ((k = mcp_client_take_call(c, id)) != NULL) {
		mcp_client_on_call(c, k, m);
		if (m->kind == JSONRPC_RESULT)
			m->root = NULL; /* kept by the result for its images */
	} else
		log_debug("mcp %s: an answer to request %llu, which is not pending",
		    c->cfg.name, (unsigned long long)id);
}

/* A request or notification from the server. */
static void
mcp_client_on_method(struct mcp_client *c, const struct jsonrpc_msg *m)
{
	if (m->kind == JSONRPC_NOTIFICATION) {
		if (strcmp(m->method, "notifications/tools/list_changed") == 0) {
			/* A listing under way would miss the change: another one follows it.
			 * Before the first listing there is nothing to redo. */
			if (c->list_rpc != 0)
				c->relist = 1;
			else if (c->state == MCP_READY)
				mcp_client_list(c, NULL);
			mcp_pool_changed(c->pool, 0);
		}
		/* Logging, progress, resource updates: nothing natter acts on. */
		return;
	}
	if (strcmp(m->method, "ping") == 0)
		jsonrpc_write_result(&c->out, m->id, NULL);
	else
		jsonrpc_write_error(&c->out, m->id, JSONRPC_METHOD_NOT_FOUND,
		    "Method not found: natter offers no sampling, roots or elicitation");
}

/* One line of the server's output. */
static void
mcp_client_line(void *ud, const char *line, size_t len)
{
	struct mcp_client *c = ud;
	struct jsonrpc_msg m;
	struct buf ex = BUF_INIT;

	if (c->broken != NULL)
		return;
	switch (jsonrpc_parse(line, len, &m)) {
	case JSONRPC_GARBAGE:
		text_sanitize_line(line, len > 60 ? 60 : len, &ex);
		mcp_client_break(c, xasprintf("wrote something that is not JSON-RPC on its "
		    "output: '%s%s'", buf_str(&ex), len > 60 ? "..." : ""));
		buf_free(&ex);
		break;
	case JSONRPC_BATCH:
		jsonrpc_write_error(&c->out, NULL, JSONRPC_INVALID_REQUEST,
		    "Invalid Request: batches are not supported (MCP 2025-06-18)");
		break;
	case JSONRPC_REQUEST:
	case JSONRPC_NOTIFICATION:
		mcp_client_on_method(c, &m);
		break;
	case JSONRPC_INVALID:
		/* With an id it may be the broken answer to a request of ours. */
		if (m.id != NULL)
			mcp_client_on_answer(c, &m, mcp_now_ms());
		else
			log_debug("mcp %s: ignored an invalid message (%s)", c->cfg.name, m.reason);
		break;
	case JSONRPC_RESULT:
	case JSONRPC_ERROR:
		mcp_client_on_answer(c, &m, mcp_now_ms());
		break;
	}
	jsonrpc_msg_free(&m);
}

/* One message that came over HTTP (mcp-http.c), handled as a line from a pipe. */
void
mcp_client_line_in(struct mcp_client *c, const char *line, size_t len)
{
	mcp_client_line(c, line, len);
}

/* A protocol failure the HTTP transport noticed, acted on after the events. */
void
mcp_client_break_with(struct mcp_client *c, char *cause)
{
	mcp_client_break(c, cause);
}

/* Read what stdout holds now (a bounded amount, so one server cannot hog the loop). */
static void
mcp_client_read(struct mcp_client *c, int64_t now)
{
	char chunk[65536];
	size_t total = 0;
	ssize_t r;

	while (c->proc.out >= 0 && c->broken == NULL && total < MCP_READ_CAP) {
		r = read(c->proc.out, chunk, sizeof chunk);
		if (r > 0) {
			total += (size_t)r;
			ndjson_feed(&c->rd, chunk, (size_t)r);
			if (c->rd.overflow)
				mcp_client_break(c, xasprintf("sent a message longer than %u MiB",
				    MCP_MAX_LINE >> 20));
			continue;
		}
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		close(c->proc.out);
		c->proc.out = -1;
		/* A last line without its newline still counts. */
		ndjson_finish(&c->rd);
		if (!c->eof) {
			c->eof = 1;
			c->linger_until = now + MCP_LINGER_MS;
		}
	}
}

/* The revents of fd in fds, or every event when fds is NULL (try everything). */
static short
mcp_revents(const struct pollfd *fds, size_t n, int fd)
{
	size_t i;

	if (fd < 0)
		return 0;
	if (fds == NULL)
		return POLLIN | POLLOUT;
	for (i = 0; i < n; i++)
		if (fds[i].fd == fd)
			return fds[i].revents;
	return 0;
}

/* An HTTP server ended its session: start a new one, keeping the calls (the old
 * session ran none of them: they go again once the new one has listed its tools). */
static void
mcp_client_renew(struct mcp_client *c, int64_t now)
{
	struct mcp_call *k;
	int was = c->state;

	log_debug("mcp %s: the session ended (HTTP 404); starting a new one", c->cfg.name);
	c->renew = 0;
	mcp_http_forget_session(c);
	mcp_http_close(c);
	c->running = 0;
	for (k = c->calls; k != NULL; k = k->next)
		k->rpc = 0;
	mcp_client_start(c, now);
	c->renewed = c->state == MCP_STARTING;
	if (was == MCP_READY)
		mcp_pool_changed(c->pool, 1);
}

/* Pipes, then what they revealed, then the timers of one server. */
void
mcp_client_process(struct mcp_client *c, const struct pollfd *fds, size_t n, int64_t now)
{
	struct mcp_call **pp, *k;
	char *msg;

	if (!c->running)
		return;
	if (mcp_revents(fds, n, c->proc.err) & (POLLIN | POLLHUP | POLLERR))
		mcp_client_read_err(c);
	if (mcp_revents(fds, n, c->proc.out) & (POLLIN | POLLHUP | POLLERR))
		mcp_client_read(c, now);
	if (c->renew && c->broken == NULL) {
		mcp_client_renew(c, now);
		return;
	}
	if (c->broken != NULL) {
		msg = c->broken;
		c->broken = NULL;
		mcp_client_finish(c, MCP_FAILED, msg, now);
		free(msg);
		return;
	}
	if (c->eof && (mcp_proc_poll(&c->proc) || now >= c->linger_until)) {
		mcp_client_finish(c, c->state == MCP_READY ? MCP_EXITED : MCP_FAILED, NULL, now);
		return;
	}
	if (c->state == MCP_STARTING && now >= c->start_deadline) {
		msg = xasprintf("did not finish starting within %g s (startup_timeout)",
		    c->cfg.startup_timeout);
		mcp_client_finish(c, MCP_FAILED, msg, now);
		free(msg);
		return;
	}
	if (c->state == MCP_READY && c->list_rpc != 0 && now >= c->list_deadline) {
		/* A listing again that is not answered keeps the tools offered before. */
		log_debug("mcp %s: tools/list again was not answered in time", c->cfg.name);
		mcp_toollist_clear(&c->building);
		c->list_rpc = 0;
		c->relist = 0;
		mcp_pool_changed(c->pool, 0);
	}
	for (pp = &c->calls; (k = *pp) != NULL;) {
		if (k->rpc == 0 || now < k->deadline) {
			pp = &k->next;
			continue;
		}
		*pp = k->next;
		msg = xasprintf("timed out after %g s", c->cfg.timeout);
		mcp_client_cancelled(c, k->rpc, msg);
		free(msg);
		msg = xasprintf("mcp server '%s' did not answer tools/call '%s' within %g s "
		    "(timeout); the call was cancelled", c->cfg.name, k->tool, c->cfg.timeout);
		mcp_client_end_call(c, k, MCP_CALL_TIMEOUT, msg);
		free(msg);
	}
	mcp_client_flush(c, now);
}

/* Set up client c of pool p (its cfg already copied); it starts nothing. */
void
mcp_client_init(struct mcp_client *c, struct mcp_pool *p)
{
	c->pool = p;
	c->state = c->cfg.enabled ? MCP_STOPPED : MCP_DISABLED;
	c->proc.in = c->proc.out = c->proc.err = -1;
	ndjson_init(&c->rd, mcp_client_line, c);
}

/* Free what c holds (its process already ended); its calls go without callbacks. */
void
mcp_client_clear(struct mcp_client *c)
{
	struct mcp_call *k;

	while ((k = c->calls) != NULL) {
		c->calls = k->next;
		free(k->tool);
		free(k->args);
		free(k);
	}
	mcp_http_close(c);
	mcp_client_reset_info(c);
	buf_free(&c->out);
	buf_free(&c->tail);
	ndjson_free(&c->rd);
	free(c->tail_safe);
	free(c->error);
	free(c->broken);
}
