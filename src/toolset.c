/*
 * The toolset (toolset.h): MCP servers' tools as a turn's toolbox. Each box is a snapshot
 * of the ready tools, kept until the end because a turn's calls point into the box they
 * started with; a box is made again only when the pool's tools or the allow set changed.
 * A call in flight remembers its turn and call index; cancelling it (the turn's cancel)
 * leaves the pending entry without a turn, so the server's late answer goes nowhere.
 */
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "mcp.h"
#include "toolset.h"
#include "turn.h"
#include "xmalloc.h"

/* One call on its way to a server. */
struct pending {
	struct toolset *ts;
	struct turn *t;       /* NULL once the turn cancelled it */
	size_t k;
	uint64_t id;
	struct pending *next;
};

/* One snapshot of the tools, as a toolbox. */
struct box {
	struct turn_toolbox tb;
	struct turn_tool *tools;
	struct box *next;
};

struct toolset {
	struct mcp_pool *pool;
	int yes;
	int max_rounds;       /* tools.max_rounds */
	char **allow;         /* names the user allowed for this session */
	size_t nallow;
	struct box *boxes;    /* newest first */
	uint64_t box_gen;     /* the pool generation of the newest box */
	size_t box_nallow;
	struct pending *pending;
};

static int toolset_run(struct turn *t, size_t k, void *arg, char **err);
static void toolset_cancel(struct turn *t, size_t k, void *arg);

/* A toolset over cfg's MCP servers (only one when only is set). */
struct toolset *
toolset_new(const struct config *cfg, const char *only, int yes, struct worker *w)
{
	struct toolset *ts = xcalloc(1, sizeof(*ts));
	struct mcp_server_cfg *v = NULL;
	size_t i, n = 0;

	if (cfg != NULL && cfg->nmcp_servers > 0) {
		v = xcalloc(cfg->nmcp_servers, sizeof(*v));
		for (i = 0; i < cfg->nmcp_servers; i++)
			if (only == NULL || strcmp(cfg->mcp_servers[i].name, only) == 0)
				v[n++] = cfg->mcp_servers[i];
	}
	ts->pool = mcp_pool_new(v, n);
	mcp_pool_set_worker(ts->pool, w);
	free(v);
	ts->yes = yes;
	ts->max_rounds = cfg != NULL ? cfg->tool_rounds : 0;
	return ts;
}

/* Free the toolset: pending calls are dropped, servers stopped. */
void
toolset_free(struct toolset *ts)
{
	struct pending *p, *pn;
	struct box *b, *bn;
	size_t i;

	if (ts == NULL)
		return;
	mcp_pool_free(ts->pool);
	for (p = ts->pending; p != NULL; p = pn) {
		pn = p->next;
		free(p);
	}
	for (b = ts->boxes; b != NULL; b = bn) {
		bn = b->next;
		for (i = 0; i < b->tb.n; i++) {
			free((char *)b->tools[i].name);
			free((char *)b->tools[i].description);
			free((char *)b->tools[i].schema);
		}
		free(b->tools);
		free(b);
	}
	for (i = 0; i < ts->nallow; i++)
		free(ts->allow[i]);
	free(ts->allow);
	free(ts);
}

/* How many servers the toolset has. */
size_t
toolset_servers(const struct toolset *ts)
{
	return ts != NULL ? mcp_pool_count(ts->pool) : 0;
}

/* The MCP pool underneath (for listing servers and states). */
struct mcp_pool *
toolset_pool(struct toolset *ts)
{
	return ts->pool;
}

/* Start every server in the background. */
void
toolset_start(struct toolset *ts)
{
	if (ts != NULL && mcp_pool_count(ts->pool) > 0)
		mcp_pool_start(ts->pool, NULL);
}

/* Run the pool until no server is starting or ms passed; 0 when all are ready. */
int
toolset_wait(struct toolset *ts, long ms)
{
	struct pollfd fds[64];
	int64_t end = mcp_now_ms() + ms;
	struct mcp_server_info info;
	size_t i, n;
	int left;

	while (mcp_pool_busy(ts->pool) && (left = (int)(end - mcp_now_ms())) > 0) {
		n = mcp_pool_pollfds(ts->pool, fds, sizeof(fds) / sizeof(fds[0]));
		if (n > sizeof(fds) / sizeof(fds[0]))
			n = sizeof(fds) / sizeof(fds[0]);
		poll(fds, n, toolset_timeout(ts) >= 0 && toolset_timeout(ts) < left ?
		    toolset_timeout(ts) : left);
		mcp_pool_process(ts->pool, fds, n, mcp_now_ms());
	}
	for (i = 0; i < mcp_pool_count(ts->pool); i++)
		if (mcp_pool_info(ts->pool, i, &info) == 0 && info.state != MCP_READY &&
		    info.state != MCP_DISABLED)
			return -1;
	return 0;
}

/* True when name was allowed for this session. */
static int
toolset_allowed(const struct toolset *ts, const char *name)
{
	size_t i;

	for (i = 0; i < ts->nallow; i++)
		if (strcmp(ts->allow[i], name) == 0)
			return 1;
	return 0;
}

/* The toolbox of the tools ready now (a new snapshot when they changed). */
const struct turn_toolbox *
toolset_box(struct toolset *ts)
{
	const struct mcp_tool *mt;
	struct box *b;
	size_t n, i;

	if (ts == NULL)
		return NULL;
	mt = mcp_pool_tools(ts->pool, &n);
	if (n == 0)
		return NULL;
	if (ts->boxes != NULL && ts->box_gen == mcp_pool_generation(ts->pool) &&
	    ts->box_nallow == ts->nallow)
		return &ts->boxes->tb;
	b = xcalloc(1, sizeof(*b));
	b->tools = xcalloc(n, sizeof(*b->tools));
	for (i = 0; i < n; i++) {
		/* The box points into the pool's strings, which live until its next process:
		 * keep copies instead, since a box outlives that. */
		b->tools[i].name = xstrdup(mt[i].fqname);
		b->tools[i].description = xstrdup(mt[i].description);
		b->tools[i].schema = xstrdup(mt[i].input_schema);
		b->tools[i].allowed = ts->yes || mt[i].allowed || toolset_allowed(ts, mt[i].fqname);
	}
	b->tb.tools = b->tools;
	b->tb.n = n;
	b->tb.run = toolset_run;
	b->tb.cancel = toolset_cancel;
	b->tb.arg = ts;
	b->tb.max_rounds = ts->max_rounds;
	b->next = ts->boxes;
	ts->boxes = b;
	ts->box_gen = mcp_pool_generation(ts->pool);
	ts->box_nallow = ts->nallow;
	return &b->tb;
}

/* Allow name for the rest of the session. */
void
toolset_allow(struct toolset *ts, const char *name)
{
	if (ts == NULL || toolset_allowed(ts, name))
		return;
	ts->allow = xrealloc(ts->allow, (ts->nallow + 1) * sizeof(*ts->allow));
	ts->allow[ts->nallow++] = xstrdup(name);
}

/* A server answered a call: hand the result to its turn. */
static void
toolset_done(void *arg, const struct mcp_result *r)
{
	struct pending *p = arg, **pp;
	struct toolset *ts = p->ts;

	for (pp = &ts->pending; *pp != NULL; pp = &(*pp)->next)
		if (*pp == p) {
			*pp = p->next;
			break;
		}
	if (p->t != NULL)
		turn_tool_done(p->t, p->k, r->text != NULL ? r->text : "", r->is_error);
	free(p);
}

/* The toolbox's run: call the tool on its server. */
static int
toolset_run(struct turn *t, size_t k, void *arg, char **err)
{
	struct toolset *ts = arg;
	const struct mcp_tool *mt = mcp_pool_find(ts->pool, t->calls[k].name);
	struct pending *p;

	if (mt == NULL) {
		*err = xasprintf("%s is no longer offered (its server stopped)", t->calls[k].name);
		return -1;
	}
	p = xcalloc(1, sizeof(*p));
	p->ts = ts;
	p->t = t;
	p->k = k;
	p->next = ts->pending;
	ts->pending = p;
	p->id = mcp_pool_call(ts->pool, mt->server, mt->name, t->calls[k].args, toolset_done, p);
	return 0;
}

/* The toolbox's cancel: the call's answer, whenever it comes, goes nowhere. */
static void
toolset_cancel(struct turn *t, size_t k, void *arg)
{
	struct toolset *ts = arg;
	struct pending *p;

	for (p = ts->pending; p != NULL; p = p->next)
		if (p->t == t && p->k == k) {
			p->t = NULL;
			mcp_pool_cancel(ts->pool, p->id);
		}
}

/* The descriptors to poll. */
size_t
toolset_pollfds(struct toolset *ts, struct pollfd *out, size_t max)
{
	return ts != NULL ? mcp_pool_pollfds(ts->pool, out, max) : 0;
}

/* Milliseconds to the next timer, -1 when none. */
int
toolset_timeout(struct toolset *ts)
{
	int64_t d, now;

	if (ts == NULL || (d = mcp_pool_next_deadline(ts->pool)) < 0)
		return -1;
	now = mcp_now_ms();
	return d <= now ? 0 : d - now > 60000 ? 60000 : (int)(d - now);
}

/* Let the servers work. */
void
toolset_process(struct toolset *ts, const struct pollfd *fds, size_t n)
{
	if (ts != NULL)
		mcp_pool_process(ts->pool, fds, n, mcp_now_ms());
}
