/*
 * The MCP client's pool (see mcp.h for the contract): the servers of the config, the
 * descriptors and timers the caller polls, the queue of finished calls whose callbacks run
 * at the end of mcp_pool_process, the processes still being ended, and the tool list of
 * every ready server with the names a model is offered. The conversation with one server
 * is mcp-client.c; its process is mcp-proc.c.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cJSON.h>

#include "buf.h"
#include "mcp-client.h"
#include "secret.h"
#include "text.h"
#include "xmalloc.h"

#define MCP_DELETE_WAIT_MS 300 /* for url: servers to answer DELETE at the end */

#define MCP_FQ_MAX 64

/* Monotonic milliseconds. */
int64_t
mcp_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The state's name as `natter mcp list` prints it. */
const char *
mcp_state_name(enum mcp_state s)
{
	switch (s) {
	case MCP_STOPPED: return "stopped";
	case MCP_STARTING: return "starting";
	case MCP_READY: return "ready";
	case MCP_FAILED: return "failed";
	case MCP_EXITED: return "exited";
	case MCP_DISABLED: return "disabled";
	}
	return "?";
}

/* Copy n name: value pairs. */
static struct mcp_kv *
mcp_kv_copy(const struct mcp_kv *v, size_t n)
{
	struct mcp_kv *c = n > 0 ? xcalloc(n, sizeof *c) : NULL;
	size_t i;

	for (i = 0; i < n; i++) {
		c[i].name = xstrdup(v[i].name);
		c[i].value = xstrdup(v[i].value != NULL ? v[i].value : "");
	}
	return c;
}

/* Copy n strings. */
static char **
mcp_strv_copy(char *const *v, size_t n)
{
	char **c = n > 0 ? xcalloc(n, sizeof *c) : NULL;
	size_t i;

	for (i = 0; i < n; i++)
		c[i] = xstrdup(v[i]);
	return c;
}

/* A deep copy of one server config (without the borrowed file name). */
static void
mcp_cfg_copy(struct mcp_server_cfg *d, const struct mcp_server_cfg *s)
{
	memset(d, 0, sizeof *d);
	d->name = xstrdup(s->name);
	d->command = s->command != NULL ? xstrdup(s->command) : NULL;
	d->args = mcp_strv_copy(s->args, s->nargs);
	d->nargs = s->nargs;
	d->env = mcp_kv_copy(s->env, s->nenv);
	d->nenv = s->nenv;
	d->cwd = s->cwd != NULL ? xstrdup(s->cwd) : NULL;
	d->url = s->url != NULL ? xstrdup(s->url) : NULL;
	d->headers = mcp_kv_copy(s->headers, s->nheaders);
	d->nheaders = s->nheaders;
	d->enabled = s->enabled;
	d->timeout = s->timeout > 0 ? s->timeout : MCP_DEFAULT_TIMEOUT;
	d->startup_timeout = s->startup_timeout > 0 ? s->startup_timeout :
	    MCP_DEFAULT_STARTUP_TIMEOUT;
	d->allow = mcp_strv_copy(s->allow, s->nallow);
	d->nallow = s->nallow;
	d->line = s->line;
	d->col = s->col;
}

/* Free the contents of one config. */
static void
mcp_cfg_clear(struct mcp_server_cfg *c)
{
	size_t i;

	free(c->name);
	free(c->command);
	for (i = 0; i < c->nargs; i++)
		free(c->args[i]);
	free(c->args);
	for (i = 0; i < c->nenv; i++) {
		free(c->env[i].name);
		free(c->env[i].value);
	}
	free(c->env);
	free(c->cwd);
	free(c->url);
	for (i = 0; i < c->nheaders; i++) {
		free(c->headers[i].name);
		free(c->headers[i].value);
	}
	free(c->headers);
	for (i = 0; i < c->nallow; i++)
		free(c->allow[i]);
	free(c->allow);
	memset(c, 0, sizeof *c);
}

/* Free an array of n configs. */
void
mcp_server_cfg_free(struct mcp_server_cfg *v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		mcp_cfg_clear(&v[i]);
	free(v);
}

/* Something visible changed. */
void
mcp_pool_changed(struct mcp_pool *p, int tools)
{
	p->gen++;
	if (tools)
		p->dirty = 1;
}

/* The decoded size of base64 text (padding and white space not counted). */
static size_t
mcp_b64_size(const char *s)
{
	size_t n = 0;

	for (; *s != '\0'; s++)
		if ((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') ||
		    (*s >= '0' && *s <= '9') || *s == '+' || *s == '/' || *s == '-' || *s == '_')
			n++;
	return n / 4 * 3 + (n % 4 >= 2 ? n % 4 - 1 : 0);
}

/* The string member key of o, or NULL. */
const char *
mcp_json_str(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* Render one content item of a tool result; images are collected. */
static void
mcp_render_item(const cJSON *it, struct buf *text, struct mcp_image **img, size_t *nimg)
{
	const char *type = mcp_json_str(it, "type"), *s, *mime, *uri;
	const cJSON *res;

	if (type == NULL)
		type = "unknown";
	if (strcmp(type, "text") == 0) {
		buf_puts(text, (s = mcp_json_str(it, "text")) != NULL ? s : "");
	} else if (strcmp(type, "image") == 0 || strcmp(type, "audio") == 0) {
		mime = mcp_json_str(it, "mimeType");
		s = mcp_json_str(it, "data");
		if (mime == NULL)
			mime = type;
		buf_printf(text, "[%s, %zu bytes]", mime, s != NULL ? mcp_b64_size(s) : 0);
		if (s != NULL && strcmp(type, "image") == 0) {
			*img = xrealloc(*img, (*nimg + 1) * sizeof **img);
			(*img)[*nimg].mime = mime;
			(*img)[*nimg].data = s;
			(*img)[*nimg].bytes = mcp_b64_size(s);
			(*nimg)++;
		}
	} else if (strcmp(type, "resource_link") == 0) {
		uri = mcp_json_str(it, "uri");
		s = mcp_json_str(it, "name");
		buf_printf(text, "[resource link: %s%s%s%s]", uri != NULL ? uri : "?",
		    s != NULL ? " (" : "", s != NULL ? s : "", s != NULL ? ")" : "");
	} else if (strcmp(type, "resource") == 0) {
		res = cJSON_GetObjectItemCaseSensitive(it, "resource");
		uri = mcp_json_str(res, "uri");
		mime = mcp_json_str(res, "mimeType");
		if ((s = mcp_json_str(res, "text")) != NULL)
			buf_printf(text, "[resource: %s]\n%s", uri != NULL ? uri : "?", s);
		else
			buf_printf(text, "[resource: %s, %s, %zu bytes]", uri != NULL ? uri : "?",
			    mime != NULL ? mime : "binary",
			    mcp_json_str(res, "blob") != NULL ? mcp_b64_size(mcp_json_str(res, "blob")) : 0);
	} else {
		buf_printf(text, "[%s content]", type);
	}
}

/* Render a tools/call result as text; returns its isError (1 when it is no result). */
int
mcp_render_result(const cJSON *result, struct buf *text, struct mcp_image **img,
    size_t *nimg)
{
	const cJSON *content, *it, *sc, *ie;
	size_t items = 0;

	buf_puts(text, "");
	if (!cJSON_IsObject(result)) {
		buf_puts(text, "the server's answer is not a tool result");
		return 1;
	}
	content = cJSON_GetObjectItemCaseSensitive(result, "content");
	if (!cJSON_IsArray(content))
		content = NULL;
	cJSON_ArrayForEach(it, content) {
		if (!cJSON_IsObject(it))
			continue;
		if (items++ > 0)
			buf_putc(text, '\n');
		mcp_render_item(it, text, img, nimg);
	}
	sc = cJSON_GetObjectItemCaseSensitive(result, "structuredContent");
	if (items == 0 && sc != NULL) {
		char *s = cJSON_PrintUnformatted(sc);

		if (s != NULL)
			buf_puts(text, s);
		cJSON_free(s);
	}
	ie = cJSON_GetObjectItemCaseSensitive(result, "isError");
	return cJSON_IsTrue(ie) ? 1 : 0;
}

/* Queue a finished call for its callback; takes text and raw. */
struct mcp_done *
mcp_done_push(struct mcp_pool *p, const char *server, uint64_t id, const char *tool,
    enum mcp_status st, char *text, char *raw, int64_t t0)
{
	struct mcp_done *d = xcalloc(1, sizeof *d);

	d->server = xstrdup(server != NULL ? server : "");
	d->tool = xstrdup(tool != NULL ? tool : "");
	d->text = text;
	d->raw = raw;
	d->r.id = id;
	d->r.server = d->server;
	d->r.tool = d->tool;
	d->r.status = st;
	d->r.is_error = st != MCP_CALL_OK;
	d->r.text = d->text;
	d->r.raw = d->raw;
	d->r.duration_ms = (long)(mcp_now_ms() - t0);
	if (p->done_tail != NULL)
		p->done_tail->next = d;
	else
		p->done = d;
	p->done_tail = d;
	return d;
}

/* A message made safe to print (one block of text), with no registered secret in it. */
char *
mcp_safe(const char *s)
{
	struct buf b = BUF_INIT;
	char *copy = xstrdup(s);

	secret_scrub_str(copy);
	text_sanitize(copy, strlen(copy), &b);
	free(copy);
	buf_puts(&b, "");
	return buf_detach(&b);
}

/* A pool of the n servers in cfgs; nothing starts yet. */
struct mcp_pool *
mcp_pool_new(const struct mcp_server_cfg *cfgs, size_t n)
{
	struct mcp_pool *p = xcalloc(1, sizeof *p);
	struct sigaction sa;
	size_t i;

	/* A write to a server that died must be an EPIPE, not natter's death. */
	if (sigaction(SIGPIPE, NULL, &sa) == 0 && sa.sa_handler == SIG_DFL)
		signal(SIGPIPE, SIG_IGN);
	p->c = n > 0 ? xcalloc(n, sizeof *p->c) : NULL;
	p->n = n;
	for (i = 0; i < n; i++) {
		mcp_cfg_copy(&p->c[i].cfg, &cfgs[i]);
		mcp_client_init(&p->c[i], p);
	}
	p->dirty = 1;
	return p;
}

/* Free the done queue without running its callbacks. */
static void
mcp_done_free(struct mcp_done *d)
{
	struct mcp_done *next;

	for (; d != NULL; d = next) {
		next = d->next;
		free(d->server);
		free(d->tool);
		free(d->text);
		free(d->raw);
		free(d->images);
		cJSON_Delete(d->doc);
		free(d);
	}
}

/* Free the pool's tool array. */
static void
mcp_pool_tools_clear(struct mcp_pool *p)
{
	size_t i;

	for (i = 0; i < p->ntools; i++)
		free(p->fq[i]);
	free(p->fq);
	free(p->tools);
	p->fq = NULL;
	p->tools = NULL;
	p->ntools = 0;
}

/* End the url: servers' sessions: DELETE each, waiting up to MCP_DELETE_WAIT_MS in all
 * for the answers (a server that does not answer keeps its session until it expires). */
static void
mcp_pool_end_sessions(struct mcp_pool *p)
{
	uint64_t *ids = xcalloc(p->n + 1, sizeof(*ids));
	size_t i, n = 0, k;
	int64_t until = mcp_now_ms() + MCP_DELETE_WAIT_MS, now;
	struct wevent *ev;
	struct pollfd pfd;

	for (i = 0; i < p->n; i++)
		if (p->c[i].http != NULL && (ids[n] = mcp_http_close(&p->c[i])) != 0)
			n++;
	while (n > 0 && (now = mcp_now_ms()) < until) {
		pfd.fd = wqueue_fd(p->q);
		pfd.events = POLLIN;
		if (poll(&pfd, 1, (int)(until - now)) <= 0)
			break;
		while ((ev = wqueue_next(p->q)) != NULL) {
			for (k = 0; k < n; k++)
				if (ev->type == WEV_HTTP_END && ev->id == ids[k]) {
					ids[k] = ids[--n];
					break;
				}
			wevent_free(ev);
		}
	}
	free(ids);
}

/* End every server and free everything; no callback runs. */
void
mcp_pool_free(struct mcp_pool *p)
{
	struct mcp_proc **all;
	size_t i, n = 0;

	if (p == NULL)
		return;
	all = xcalloc(p->n + p->ndying + 1, sizeof *all);
	for (i = 0; i < p->ndying; i++)
		all[n++] = p->dying[i];
	for (i = 0; i < p->n; i++)
		if (p->c[i].running && p->c[i].http == NULL)
			all[n++] = &p->c[i].proc;
	mcp_proc_shutdown(all, n);
	free(all);
	mcp_pool_end_sessions(p);
	for (i = 0; i < p->ndying; i++)
		free(p->dying[i]);
	free(p->dying);
	for (i = 0; i < p->n; i++) {
		mcp_client_clear(&p->c[i]);
		mcp_cfg_clear(&p->c[i].cfg);
	}
	mcp_done_free(p->done);
	mcp_pool_tools_clear(p);
	wqueue_free(p->q);
	free(p->c);
	free(p);
}

/* Give the pool the worker that carries its url: servers' requests (see mcp.h). */
void
mcp_pool_set_worker(struct mcp_pool *p, struct worker *w)
{
	p->w = w;
}

/* The client called name, or NULL. */
static struct mcp_client *
mcp_pool_client(const struct mcp_pool *p, const char *name)
{
	size_t i;

	for (i = 0; name != NULL && i < p->n; i++)
		if (strcmp(p->c[i].cfg.name, name) == 0)
			return &p->c[i];
	return NULL;
}

/* Start one server, or every stopped enabled one. */
int
mcp_pool_start(struct mcp_pool *p, const char *name)
{
	struct mcp_client *c;
	int64_t now = mcp_now_ms();
	size_t i;

	if (name == NULL) {
		for (i = 0; i < p->n; i++)
			if (p->c[i].state == MCP_STOPPED)
				mcp_client_start(&p->c[i], now);
		return 0;
	}
	if ((c = mcp_pool_client(p, name)) == NULL || c->state == MCP_DISABLED)
		return -1;
	if (c->state == MCP_STOPPED || c->state == MCP_FAILED || c->state == MCP_EXITED)
		mcp_client_start(c, now);
	return 0;
}

/* The descriptors to poll: stdout and stderr always, stdin while bytes wait for it. */
size_t
mcp_pool_pollfds(struct mcp_pool *p, struct pollfd *out, size_t max)
{
	size_t i, k = 0;

	for (i = 0; i < p->n; i++) {
		const struct mcp_client *c = &p->c[i];
		int fd[3] = { c->proc.out, c->proc.err, c->out.len > 0 ? c->proc.in : -1 };
		short ev[3] = { POLLIN, POLLIN, POLLOUT };
		int j;

		if (!c->running || c->http != NULL)
			continue;
		for (j = 0; j < 3; j++) {
			if (fd[j] < 0)
				continue;
			if (k < max) {
				out[k].fd = fd[j];
				out[k].events = ev[j];
				out[k].revents = 0;
			}
			k++;
		}
	}
	if (p->q != NULL) {
		if (k < max) {
			out[k].fd = wqueue_fd(p->q);
			out[k].events = POLLIN;
			out[k].revents = 0;
		}
		k++;
	}
	return k;
}

/* The earliest timer: start-ups, calls, exits being waited for, processes being ended. */
int64_t
mcp_pool_next_deadline(struct mcp_pool *p)
{
	int64_t t = -1, now = mcp_now_ms();
	size_t i;
	struct mcp_call *k;

#define MCP_SOONER(x) do { int64_t x_ = (x); if (t < 0 || x_ < t) t = x_; } while (0)
	if (p->done != NULL)
		return 0;
	for (i = 0; i < p->n; i++) {
		const struct mcp_client *c = &p->c[i];

		if (!c->running)
			continue;
		if (c->eof)
			MCP_SOONER(c->linger_until < now + 10 ? c->linger_until : now + 10);
		if (c->state == MCP_STARTING)
			MCP_SOONER(c->start_deadline);
		if (c->state == MCP_READY && c->list_rpc != 0)
			MCP_SOONER(c->list_deadline);
		for (k = c->calls; k != NULL; k = k->next)
			if (k->rpc != 0)
				MCP_SOONER(k->deadline);
	}
	for (i = 0; i < p->ndying; i++)
		MCP_SOONER(p->dying[i]->next_ms);
#undef MCP_SOONER
	return t;
}

/* Run the callbacks of the calls that ended; new ones wait for the next round. */
static void
mcp_pool_deliver(struct mcp_pool *p)
{
	struct mcp_done *d = p->done, *next;

	p->done = p->done_tail = NULL;
	for (; d != NULL; d = next) {
		next = d->next;
		d->next = NULL;
		if (d->cb != NULL)
			d->cb(d->arg, &d->r);
		mcp_done_free(d);
	}
}

/* Do everything that is due. */
void
mcp_pool_process(struct mcp_pool *p, const struct pollfd *fds, size_t n, int64_t now)
{
	size_t i, k;
	struct wevent *ev;

	/* The url: servers' answers first: what they said is acted on below. */
	while (p->q != NULL && (ev = wqueue_next(p->q)) != NULL) {
		for (i = 0; i < p->n && !mcp_http_event(&p->c[i], ev); i++)
			;
		wevent_free(ev);
	}
	for (i = 0; i < p->n; i++)
		mcp_client_process(&p->c[i], fds, n, now);
	for (i = k = 0; i < p->ndying; i++) {
		if (mcp_proc_tick(p->dying[i], now)) {
			mcp_proc_close_fds(p->dying[i]);
			free(p->dying[i]);
		} else {
			p->dying[k++] = p->dying[i];
		}
	}
	p->ndying = k;
	mcp_pool_deliver(p);
}

/* True while something is on its way. */
int
mcp_pool_busy(const struct mcp_pool *p)
{
	size_t i;

	if (p->done != NULL)
		return 1;
	for (i = 0; i < p->n; i++)
		if (p->c[i].state == MCP_STARTING || p->c[i].list_rpc != 0 || p->c[i].eof)
			return 1;
	return 0;
}

/* Bumped at every visible change. */
uint64_t
mcp_pool_generation(const struct mcp_pool *p)
{
	return p->gen;
}

/* How many servers are configured. */
size_t
mcp_pool_count(const struct mcp_pool *p)
{
	return p->n;
}

/* The index of the server called name, or -1. */
int
mcp_pool_index(const struct mcp_pool *p, const char *name)
{
	const struct mcp_client *c = mcp_pool_client(p, name);

	return c != NULL ? (int)(c - p->c) : -1;
}

/* Describe server i. */
int
mcp_pool_info(const struct mcp_pool *p, size_t i, struct mcp_server_info *out)
{
	const struct mcp_client *c;

	if (i >= p->n)
		return -1;
	c = &p->c[i];
	memset(out, 0, sizeof *out);
	out->name = c->cfg.name;
	out->state = c->state;
	out->error = c->error;
	out->stderr_tail = c->tail_safe != NULL ? c->tail_safe : "";
	out->server_name = c->server_name;
	out->server_version = c->server_version;
	out->protocol = c->protocol;
	out->instructions = c->instructions;
	out->ntools = c->tools.n;
	out->pid = c->running ? (int)c->proc.pid : 0;
	out->busy = c->state == MCP_STARTING || c->list_rpc != 0;
	out->transport_http = c->cfg.url != NULL;
	return 0;
}

/* True when tool is on c's allow list. */
static int
mcp_client_allows(const struct mcp_client *c, const char *tool)
{
	size_t i;

	for (i = 0; i < c->cfg.nallow; i++)
		if (strcmp(c->cfg.allow[i], "*") == 0 || strcmp(c->cfg.allow[i], tool) == 0)
			return 1;
	return 0;
}

/* "server__tool" in the characters every provider accepts, unique among the first n. */
static char *
mcp_fqname(const struct mcp_pool *p, size_t n, const char *server, const char *tool)
{
	struct buf b = BUF_INIT;
	size_t i, j, base;
	unsigned k;

	buf_printf(&b, "%s__%s", server, tool);
	for (i = 0; i < b.len; i++) {
		char ch = b.data[i];

		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		    (ch >= '0' && ch <= '9') || ch == '_' || ch == '-'))
			b.data[i] = '_';
	}
	if (b.len > MCP_FQ_MAX)
		b.len = MCP_FQ_MAX;
	b.data[b.len] = '\0';
	base = b.len;
	for (k = 2; ; k++) {
		for (j = 0; j < n; j++)
			if (strcmp(p->fq[j], b.data) == 0)
				break;
		if (j == n)
			return buf_detach(&b);
		/* Taken: add "_2", "_3" ... within the length limit. */
		b.len = base > MCP_FQ_MAX - 6 ? MCP_FQ_MAX - 6 : base;
		b.data[b.len] = '\0';
		buf_printf(&b, "_%u", k);
	}
}

/* The tools of every ready server, rebuilt when a list changed. */
const struct mcp_tool *
mcp_pool_tools(struct mcp_pool *p, size_t *n)
{
	size_t i, j, total = 0, k = 0;

	if (p->dirty) {
		mcp_pool_tools_clear(p);
		for (i = 0; i < p->n; i++)
			if (p->c[i].state == MCP_READY)
				total += p->c[i].tools.n;
		p->tools = total > 0 ? xcalloc(total, sizeof *p->tools) : NULL;
		p->fq = total > 0 ? xcalloc(total, sizeof *p->fq) : NULL;
		for (i = 0; i < p->n; i++) {
			const struct mcp_client *c = &p->c[i];

			if (c->state != MCP_READY)
				continue;
			for (j = 0; j < c->tools.n; j++, k++) {
				const struct mcp_tool_entry *e = &c->tools.v[j];

				p->fq[k] = mcp_fqname(p, k, c->cfg.name, e->name);
				p->tools[k].name = e->name;
				p->tools[k].server = c->cfg.name;
				p->tools[k].fqname = p->fq[k];
				p->tools[k].title = e->title;
				p->tools[k].description = e->description;
				p->tools[k].input_schema = e->schema;
				p->tools[k].allowed = mcp_client_allows(c, e->name);
			}
		}
		p->ntools = k;
		p->dirty = 0;
	}
	*n = p->ntools;
	return p->tools;
}

/* The tool offered as fqname, or NULL. */
const struct mcp_tool *
mcp_pool_find(struct mcp_pool *p, const char *fqname)
{
	size_t n, i;
	const struct mcp_tool *t = mcp_pool_tools(p, &n);

	for (i = 0; i < n; i++)
		if (strcmp(t[i].fqname, fqname) == 0)
			return &t[i];
	return NULL;
}

/* Queue a call that failed before it began. */
static uint64_t
mcp_pool_fail(struct mcp_pool *p, uint64_t id, const char *server, const char *tool,
    enum mcp_status st, const char *msg, mcp_call_fn cb, void *arg)
{
	mcp_done_push(p, server, id, tool, st, mcp_safe(msg), NULL, mcp_now_ms());
	p->done_tail->cb = cb;
	p->done_tail->arg = arg;
	return id;
}

/* Call a tool; the server starts first when it has not been started. */
uint64_t
mcp_pool_call(struct mcp_pool *p, const char *server, const char *tool,
    const char *args_json, mcp_call_fn cb, void *arg)
{
	struct mcp_client *c = mcp_pool_client(p, server);
	uint64_t id = ++p->next_call;
	struct mcp_call *k, **pp;
	cJSON *args;
	char *msg;
	int64_t now = mcp_now_ms();

	if (c == NULL) {
		msg = xasprintf("no mcp server is called '%s'", server != NULL ? server : "");
		mcp_pool_fail(p, id, server, tool, MCP_CALL_FAILED, msg, cb, arg);
		free(msg);
		return id;
	}
	if (args_json == NULL || *args_json == '\0')
		args_json = "{}";
	args = cJSON_Parse(args_json);
	if (!cJSON_IsObject(args)) {
		cJSON_Delete(args);
		return mcp_pool_fail(p, id, server, tool, MCP_CALL_REFUSED,
		    "the arguments are not a JSON object", cb, arg);
	}
	cJSON_Delete(args);
	if (c->state == MCP_DISABLED) {
		msg = xasprintf("mcp server '%s' is disabled (enabled: false)", server);
		mcp_pool_fail(p, id, server, tool, MCP_CALL_FAILED, msg, cb, arg);
		free(msg);
		return id;
	}
	if (c->state == MCP_FAILED || c->state == MCP_EXITED)
		return mcp_pool_fail(p, id, server, tool, MCP_CALL_FAILED, c->error, cb, arg);
	k = xcalloc(1, sizeof *k);
	k->id = id;
	k->tool = xstrdup(tool != NULL ? tool : "");
	k->args = xstrdup(args_json);
	k->cb = cb;
	k->arg = arg;
	k->t0 = now;
	for (pp = &c->calls; *pp != NULL; pp = &(*pp)->next)
		;
	*pp = k;
	if (c->state == MCP_STOPPED)
		mcp_client_start(c, now); /* a failure to start fails k too */
	else if (c->state == MCP_READY) {
		mcp_client_send_call(c, k, now);
		mcp_client_flush(c, now);
	}
	return id;
}

/* Cancel a call wherever it is. */
void
mcp_pool_cancel(struct mcp_pool *p, uint64_t id)
{
	struct mcp_call **pp, *k;
	size_t i;
	int64_t now = mcp_now_ms();

	for (i = 0; i < p->n; i++) {
		struct mcp_client *c = &p->c[i];

		for (pp = &c->calls; (k = *pp) != NULL; pp = &k->next) {
			if (k->id != id)
				continue;
			*pp = k->next;
			if (k->rpc != 0) {
				mcp_client_cancelled(c, k->rpc, "cancelled by the user");
				mcp_client_flush(c, now);
			}
			mcp_client_end_call(c, k, MCP_CALL_CANCELLED, "the call was cancelled");
			return;
		}
	}
}
