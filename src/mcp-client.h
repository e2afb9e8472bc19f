/*
 * The insides of the MCP client, shared by the pool (mcp.c) and the per-server protocol
 * state machine (mcp-client.c). Private: the rest of natter uses mcp.h.
 *
 * A client's calls are one list in call order; a call with rpc 0 is queued until its
 * server is ready. A finished call becomes an mcp_done on the pool's queue, whose callback
 * runs at the end of mcp_pool_process.
 */
#ifndef NATTER_MCP_CLIENT_H
#define NATTER_MCP_CLIENT_H

#include <poll.h>
#include <stdint.h>

#include <cJSON.h>

#include "buf.h"
#include "mcp-proc.h"
#include "mcp.h"
#include "ndjson.h"
#include "worker.h"

struct mcp_tool_entry {
	char *name, *title, *description, *schema;
};

struct mcp_toollist {
	struct mcp_tool_entry *v;
	size_t n;
};

struct mcp_call {
	uint64_t id;            /* the caller's */
	uint64_t rpc;           /* the JSON-RPC id; 0 while queued */
	char *tool;
	char *args;             /* a JSON object */
	mcp_call_fn cb;
	void *arg;
	int64_t t0, deadline;
	struct mcp_call *next;
};

struct mcp_client {
	struct mcp_pool *pool;
	struct mcp_server_cfg cfg;
	enum mcp_state state;
	struct mcp_proc proc;
	int running;             /* proc holds a live process */
	struct buf out;          /* to be written to its stdin */
	struct ndjson rd;
	struct buf tail;         /* the end of its stderr */
	char *tail_safe;         /* tail sanitised, for mcp_server_info */
	uint64_t next_rpc;
	uint64_t init_rpc, list_rpc;
	int pages;
	struct mcp_toollist tools, building;
	int relist;              /* list_changed arrived during a listing */
	int64_t list_deadline;   /* the listing under way is abandoned then */
	int64_t start_deadline;
	char *error;
	char *server_name, *server_version, *protocol, *instructions;
	struct mcp_call *calls;
	char *broken;            /* a protocol failure noticed while reading */
	int eof;                 /* its output ended: waiting for the exit */
	int64_t linger_until;
	struct mcp_http *http;   /* a url: server's transport (mcp-http.c), or NULL */
	int renew;               /* HTTP: the server ended the session; start a new one */
	int renewed;             /* HTTP: a new session is starting after one ended */
};

/* A finished call waiting for its callback. */
struct mcp_done {
	struct mcp_result r;
	char *server, *tool, *text, *raw;
	struct mcp_image *images;
	cJSON *doc;              /* what images point into */
	mcp_call_fn cb;
	void *arg;
	struct mcp_done *next;
};

struct mcp_pool {
	struct mcp_client *c;
	size_t n;
	struct mcp_tool *tools;
	char **fq;
	size_t ntools;
	int dirty;
	struct mcp_done *done, *done_tail;
	struct mcp_proc **dying;
	size_t ndying;
	uint64_t next_call;
	uint64_t gen;
	struct worker *w;        /* carries the url: servers' requests (mcp_pool_set_worker) */
	struct wqueue *q;        /* their events, made with the first one */
};

/* mcp.c */
void mcp_pool_changed(struct mcp_pool *p, int tools);
struct mcp_done *mcp_done_push(struct mcp_pool *p, const char *server, uint64_t id,
    const char *tool, enum mcp_status st, char *text, char *raw, int64_t t0);
char *mcp_safe(const char *s);
const char *mcp_json_str(const cJSON *o, const char *key);

/* mcp-http.c: the streamable HTTP transport of a url: server */
int mcp_http_start(struct mcp_client *c, char **err);
void mcp_http_flush(struct mcp_client *c);
int mcp_http_event(struct mcp_client *c, struct wevent *ev);
uint64_t mcp_http_close(struct mcp_client *c);
void mcp_client_line_in(struct mcp_client *c, const char *line, size_t len);
void mcp_client_break_with(struct mcp_client *c, char *cause);
void mcp_http_forget_session(struct mcp_client *c);

/* mcp-client.c */
void mcp_client_init(struct mcp_client *c, struct mcp_pool *p);
void mcp_client_clear(struct mcp_client *c);
void mcp_client_start(struct mcp_client *c, int64_t now);
void mcp_client_process(struct mcp_client *c, const struct pollfd *fds, size_t n,
    int64_t now);
void mcp_client_send_call(struct mcp_client *c, struct mcp_call *k, int64_t now);
void mcp_client_flush(struct mcp_client *c, int64_t now);
void mcp_client_cancelled(struct mcp_client *c, uint64_t rpc, const char *reason);
void mcp_client_end_call(struct mcp_client *c, struct mcp_call *k, enum mcp_status st,
    const char *msg);

#endif
