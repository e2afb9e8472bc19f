/*
 * The MCP client: natter's side of the Model Context Protocol (2025-06-18) over stdio, for
 * the tools of the servers under mcp_servers: in the config. Each server is a child process
 * speaking newline-delimited JSON-RPC 2.0 (jsonrpc.h) on its standard input and output.
 * There are no threads: the caller polls the descriptors this module hands out, next to its
 * own, and lets it work when they are ready or its timers are due.
 *
 * Contract
 * --------
 * Call order (all from one thread):
 *   pool = mcp_pool_new(cfgs, n)    copies the server configs; starts nothing.
 *   mcp_pool_start(pool, name)      starts one server in the background, again when it
 *                                   failed or exited; NULL starts every enabled server not
 *                                   started yet. The first call to a server starts it too,
 *                                   but never again once it failed or exited.
 *   loop:
 *     k = mcp_pool_pollfds(pool, fds, max)   fills up to max pollfds (3 per server at
 *                                            most) and returns how many it needs; call it
 *                                            before every poll, the set changes.
 *     t = mcp_pool_next_deadline(pool)       the next timer, on mcp_now_ms()'s clock:
 *                                            -1 none, <= now due at once.
 *     poll(...)
 *     mcp_pool_process(pool, fds, k, mcp_now_ms())   reads, writes, answers the servers,
 *                                            fires timers, and then runs the completion
 *                                            callbacks. fds may be a larger array holding
 *                                            the caller's own descriptors too (or NULL).
 *   id = mcp_pool_call(pool, server, tool, args_json, cb, arg)
 *                                   queues a tools/call; id > 0. cb runs exactly once, from
 *                                   a later mcp_pool_process, never from inside
 *                                   mcp_pool_call, whatever happens (even an unknown server).
 *   mcp_pool_cancel(pool, id)       the call ends as MCP_CALL_CANCELLED (the server is sent
 *                                   notifications/cancelled); unknown or finished ids are
 *                                   ignored. cb still runs once, from mcp_pool_process.
 *   tools = mcp_pool_tools(pool, &n) the tools of the ready servers, in config order.
 *   mcp_pool_free(pool)             ends every server: closes its input, SIGTERM to its
 *                                   process group after 0.5 s, SIGKILL after 1.5 s more,
 *                                   and reaps it (this blocks up to 2 s for a stubborn
 *                                   one). Pending calls are dropped without callbacks.
 *
 * mcp_pool_new sets SIGPIPE to SIG_IGN when it is at its default (a write to a server that
 * died must fail with EPIPE, not end natter), as the interface and the CLI already do.
 *
 * Callbacks may call mcp_pool_call, mcp_pool_cancel, mcp_pool_start and the getters, never
 * mcp_pool_free. The result they get, and everything it points to, lives only during the
 * callback: copy what you keep. No cJSON arena window (json.h) may be open around any
 * mcp_pool_* call, because the tool lists outlive it.
 *
 * Lifetimes: the tool array, server infos and their strings stay valid until the next
 * mcp_pool_process, mcp_pool_start or mcp_pool_free; mcp_pool_call and mcp_pool_cancel
 * leave them as they are, so a loop over the tools may call them. mcp_pool_generation
 * changes whenever any of them did (a state, a tool list), for a front end that redraws.
 *
 * States: a configured server is STOPPED until started (DISABLED with enabled: false),
 * STARTING while it initializes (initialize, notifications/initialized, then tools/list
 * with every page), READY once its tools are known. A server that cannot be run, exits
 * before it is ready, breaks the protocol (a line that is not JSON, a message over 32 MiB,
 * an error answer to initialize) or does not finish starting within startup_timeout is
 * FAILED; one that exits once ready is EXITED. Either way its tools are withdrawn, its
 * pending calls fail with MCP_CALL_FAILED and a message that names the server, what
 * happened (exit status or signal) and the last lines of its stderr, and the process is
 * reaped. `url` servers speak the streamable HTTP transport (mcp-http.c) through the
 * worker given with mcp_pool_set_worker (FAILED at start without one); an HTTP error, an
 * answer that is neither JSON nor an event stream, or a server that cannot be reached
 * fails them as a broken pipe fails a stdio server, naming the status or the reason.
 *
 * While ready, a server's ping requests are answered, notifications/tools/list_changed
 * makes the client list its tools again (the old list stays until the new one is
 * complete), other notifications are ignored, and any other request is answered with
 * "method not found" (natter offers no sampling, roots or elicitation). A JSON array (a
 * batch) is refused with an Invalid Request error.
 *
 * Each call has the server's timeout (the config's timeout, default 60 s), counted from
 * the moment it is sent; when it passes, the server is sent notifications/cancelled and the
 * call ends as MCP_CALL_TIMEOUT. A server still starting keeps its calls queued; they fail
 * with it.
 *
 * The environment of a server is only: PATH, HOME, USER, LOGNAME, SHELL, TERM, LANG,
 * LC_ALL, LC_CTYPE, LC_MESSAGES, TZ and TMPDIR from natter's own (when set and not a
 * shell function), then the config's env: entries, which override them and in whose
 * values ${NAME} is replaced by natter's variable NAME (empty when unset). Nothing else
 * passes: provider keys such as OPENAI_API_KEY never reach a server unless an env: entry
 * names them. The command is looked up in that PATH; the server runs in its own process
 * group (Ctrl+C in the terminal does not reach it) in cwd, else natter's directory, with
 * no descriptor of natter's open but its three pipes. Values of env: entries whose names
 * contain KEY, TOKEN, SECRET, PASSWORD or AUTH are registered as secrets (secret.h).
 *
 * Untrusted text: tool names, descriptions, schemas, server names and versions, results
 * and stderr come from the server. Result text and raw JSON are scrubbed of registered
 * secrets but not sanitised (a model reads them as they are); error messages and
 * stderr_tail are sanitised (text.h, TEXT_BLOCK) and safe to print; everything else must
 * go through text.h before a terminal.
 */
#ifndef NATTER_MCP_H
#define NATTER_MCP_H

#include <poll.h>
#include <stddef.h>
#include <stdint.h>

/* A name: value pair of a server's env: or headers:. */
struct mcp_kv {
	char *name;
	char *value;
};

/* One entry of mcp_servers: in the config. */
struct mcp_server_cfg {
	char *name;            /* the config's key: what users and models see */
	char *command;         /* stdio: the program (looked up in PATH when it has no '/') */
	char **args;
	size_t nargs;
	struct mcp_kv *env;    /* added to the small environment described above */
	size_t nenv;
	char *cwd;             /* working directory, or NULL */
	char *url;             /* streamable HTTP (mcp-http.c), or NULL */
	struct mcp_kv *headers;
	size_t nheaders;
	int enabled;
	double timeout;        /* seconds per call */
	double startup_timeout;/* seconds from start to ready */
	char **allow;          /* tools that run without asking; "*" is every tool */
	size_t nallow;
	const char *file;      /* where it was defined (borrowed from the config), or NULL */
	int line, col;
};

#define MCP_DEFAULT_TIMEOUT 60.0
#define MCP_DEFAULT_STARTUP_TIMEOUT 30.0
#define MCP_PROTOCOL_VERSION "2025-06-18"
#define MCP_MAX_LINE (32u << 20)

enum mcp_state {
	MCP_STOPPED,  /* configured, not started yet */
	MCP_STARTING, /* spawned, initializing or listing its tools */
	MCP_READY,    /* its tools are offered */
	MCP_FAILED,   /* could not start or broke the protocol; error says why */
	MCP_EXITED,   /* was ready, then exited; error says how */
	MCP_DISABLED, /* enabled: false */
};

/* What mcp_pool_info reports about one server; see Lifetimes above. */
struct mcp_server_info {
	const char *name;
	enum mcp_state state;
	const char *error;          /* FAILED, EXITED: what happened (safe to print) */
	const char *stderr_tail;    /* the last bytes of its stderr (safe to print), or "" */
	const char *server_name;    /* serverInfo from initialize, or NULL (untrusted) */
	const char *server_version;
	const char *protocol;       /* the protocolVersion it answered, or NULL */
	const char *instructions;   /* its instructions for the model, or NULL (untrusted) */
	size_t ntools;
	int pid;                    /* the running process, 0 when none */
	int busy;                   /* starting, or listing its tools again */
	int transport_http;         /* a url server */
};

/* One tool of a ready server. */
struct mcp_tool {
	const char *name;          /* as the server calls it */
	const char *server;        /* the config's name of its server */
	const char *fqname;        /* "server__tool" made of [A-Za-z0-9_-], at most 64 bytes
	                            * and unique in the pool: the name to offer a model */
	const char *title;         /* or NULL */
	const char *description;   /* "" when it has none */
	const char *input_schema;  /* a JSON object, as text */
	int allowed;               /* on its server's allow: list: runs without asking */
};

enum mcp_status {
	MCP_CALL_OK,         /* the tool ran and returned its result */
	MCP_CALL_TOOL_ERROR, /* the tool ran and reported an error (isError) */
	MCP_CALL_REFUSED,    /* the server answered with a JSON-RPC error (unknown tool, bad
	                      * arguments), or the arguments were not a JSON object */
	MCP_CALL_FAILED,     /* no answer: the server is unknown, disabled, failed or exited */
	MCP_CALL_TIMEOUT,    /* no answer within the server's timeout */
	MCP_CALL_CANCELLED,  /* mcp_pool_cancel */
};

/* Image (or audio) content of a result, for models that take images. */
struct mcp_image {
	const char *mime;
	const char *data;   /* base64, as the server sent it */
	size_t bytes;       /* decoded size */
};

/* The outcome of one call, as the callback sees it (valid during the callback only). */
struct mcp_result {
	uint64_t id;
	const char *server;
	const char *tool;
	enum mcp_status status;
	int is_error;        /* anything but MCP_CALL_OK: tell the model it failed */
	const char *text;    /* the result's content as text, items separated by newlines:
	                      * text as is, images and audio as "[image/png, N bytes]",
	                      * resources by their uri (and text), structuredContent as JSON
	                      * when there is no content (untrusted, not sanitised); on
	                      * failure the reason (sanitised, safe to print) */
	const char *raw;     /* OK, TOOL_ERROR: the result object as JSON text; else NULL */
	const struct mcp_image *images;
	size_t nimages;
	long duration_ms;    /* from the call to its end */
};

typedef void (*mcp_call_fn)(void *arg, const struct mcp_result *r);

struct mcp_pool;

/* Milliseconds on the monotonic clock every deadline here uses. */
int64_t mcp_now_ms(void);
const char *mcp_state_name(enum mcp_state s);

struct mcp_pool *mcp_pool_new(const struct mcp_server_cfg *servers, size_t n);
/* The worker that carries the url: servers' requests (worker_http); without one they fail
 * to start. It must outlive the pool's use of it: stop it after mcp_pool_free. */
struct worker;
void mcp_pool_set_worker(struct mcp_pool *pool, struct worker *w);
void mcp_pool_free(struct mcp_pool *pool);
/* Start server name, also again after it failed or exited (NULL: every enabled server
 * not started yet). 0, or -1 when name is unknown or disabled. */
int mcp_pool_start(struct mcp_pool *pool, const char *name);
size_t mcp_pool_pollfds(struct mcp_pool *pool, struct pollfd *out, size_t max);
int64_t mcp_pool_next_deadline(struct mcp_pool *pool);
void mcp_pool_process(struct mcp_pool *pool, const struct pollfd *fds, size_t n,
    int64_t now_ms);
/* True while any server is starting or listing its tools again, or callbacks are due. */
int mcp_pool_busy(const struct mcp_pool *pool);
uint64_t mcp_pool_generation(const struct mcp_pool *pool);

size_t mcp_pool_count(const struct mcp_pool *pool);
/* Describe server i (config order); -1 when i is out of range. */
int mcp_pool_info(const struct mcp_pool *pool, size_t i, struct mcp_server_info *out);
/* The index of server name, or -1. */
int mcp_pool_index(const struct mcp_pool *pool, const char *name);

const struct mcp_tool *mcp_pool_tools(struct mcp_pool *pool, size_t *n);
/* The tool whose fqname is fqname, or NULL. */
const struct mcp_tool *mcp_pool_find(struct mcp_pool *pool, const char *fqname);

/* Call tool of server with args_json (a JSON object; NULL or "" is {}). */
uint64_t mcp_pool_call(struct mcp_pool *pool, const char *server, const char *tool,
    const char *args_json, mcp_call_fn cb, void *arg);
void mcp_pool_cancel(struct mcp_pool *pool, uint64_t id);

/* Free a config array (the loader's copy, and tests). */
void mcp_server_cfg_free(struct mcp_server_cfg *v, size_t n);

/* Render a tools/call result object as mcp_result's text describes, appending to text;
 * image content is appended to *img (pointing into result; caller frees the array).
 * Returns 1 for isError or a result that is not an object, else 0. For tests. */
struct cJSON;
struct buf;
int mcp_render_result(const struct cJSON *result, struct buf *text, struct mcp_image **img,
    size_t *nimg);

#endif
