/*
 * The tools natter offers a model, made from the MCP servers of the config (mcp.h), as the
 * toolbox a turn takes (turn.h). It runs each call on its server and reports the result
 * to the turn. One toolset per front end, used from the front end's thread.
 *
 * Contract
 * --------
 *   ts = toolset_new(cfg, only, yes, w) the servers of cfg (only: just that one, NULL:
 *                                      all enabled); yes: every tool runs without asking;
 *                                      w carries the url: servers' requests and must be
 *                                      stopped only after toolset_free.
 *   toolset_start(ts)                  start the servers in the background.
 *   toolset_wait(ts, ms)               (command line) block until no server is starting,
 *                                      at most ms; 0 when every server is ready.
 *   box = toolset_box(ts)              the toolbox for turn_spec.tools, with the tools
 *                                      ready now; NULL when there are none. The box and
 *                                      its tools stay valid until toolset_free (a later
 *                                      box may hold more tools).
 *   in the front end's loop: n = toolset_pollfds(ts, fds, max), poll with
 *                            toolset_timeout(ts) folded in, then toolset_process(ts, fds,
 *                            n). Results reach turns (turn_tool_done) from there.
 *   toolset_allow(ts, name)            the user's "yes for this session": name runs
 *                                      without asking from the next box on.
 *   toolset_free(ts)                   after every turn using it is freed.
 */
#ifndef NATTER_TOOLSET_H
#define NATTER_TOOLSET_H

#include <poll.h>
#include <stddef.h>
#include <stdint.h>

struct config;
struct mcp_pool;
struct toolset;
struct turn_toolbox;

struct worker;
struct toolset *toolset_new(const struct config *cfg, const char *only, int yes,
    struct worker *w);
void toolset_free(struct toolset *ts);
/* How many servers it has (0: no tools to offer). */
size_t toolset_servers(const struct toolset *ts);
struct mcp_pool *toolset_pool(struct toolset *ts);
void toolset_start(struct toolset *ts);
int toolset_wait(struct toolset *ts, long ms);
const struct turn_toolbox *toolset_box(struct toolset *ts);
void toolset_allow(struct toolset *ts, const char *name);
size_t toolset_pollfds(struct toolset *ts, struct pollfd *out, size_t max);
/* Milliseconds until the next timer (-1: none), for poll. */
int toolset_timeout(struct toolset *ts);
void toolset_process(struct toolset *ts, const struct pollfd *fds, size_t n);

#endif
