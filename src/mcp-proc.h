/*
 * The child processes of the MCP client (mcp.c): spawning a stdio server with its small
 * environment and three non-blocking pipes, and ending it without leaving a zombie. See
 * mcp.h for what a server inherits. Private to mcp.c and its tests.
 *
 * Ending a process never blocks until mcp_proc_shutdown: mcp_proc_stop closes its input,
 * mcp_proc_tick sends SIGTERM to its process group MCP_PROC_GRACE_MS later and SIGKILL
 * MCP_PROC_TERM_MS after that, and reaps it as soon as it has exited.
 */
#ifndef NATTER_MCP_PROC_H
#define NATTER_MCP_PROC_H

#include <stdint.h>
#include <sys/types.h>

struct mcp_server_cfg;

#define MCP_PROC_GRACE_MS 500
#define MCP_PROC_TERM_MS 1500

struct mcp_proc {
	pid_t pid;          /* 0 when there is none, or once reaped */
	int in, out, err;   /* our ends of its stdin, stdout, stderr; -1 when closed */
	int stage;          /* 0 running, 1 input closed, 2 SIGTERM sent, 3 SIGKILL sent */
	int64_t next_ms;    /* when the next stage is due (stage 1 and 2) */
	int status;         /* wait status once reaped */
	int reaped;
};

/* The environment a server is given (NULL-terminated, caller frees with mcp_proc_env_free). */
char **mcp_proc_env(const struct mcp_server_cfg *cfg);
void mcp_proc_env_free(char **env);
/* v with each ${NAME} replaced by natter's variable NAME (empty when unset); caller frees. */
char *mcp_proc_expand(const char *v);
/* Spawn cfg's command. 0, or -1 with *err (caller frees) saying why it cannot run. */
int mcp_proc_spawn(struct mcp_proc *p, const struct mcp_server_cfg *cfg, char **err);
/* Reap p when it has exited (SIGTERM to what is left of its group first); 1 when reaped. */
int mcp_proc_poll(struct mcp_proc *p);
/* Begin ending p: close its input; later stages follow in mcp_proc_tick. */
void mcp_proc_stop(struct mcp_proc *p, int64_t now_ms);
/* Advance the ending of p; 1 once it is reaped. */
int mcp_proc_tick(struct mcp_proc *p, int64_t now_ms);
/* Close our ends of its output pipes. */
void mcp_proc_close_fds(struct mcp_proc *p);
/* End every process of v at once, blocking until all are reaped. */
void mcp_proc_shutdown(struct mcp_proc **v, size_t n);
/* "exited with status 3", "was killed by signal 9 (Killed)" for a wait status. */
char *mcp_proc_describe(int status);

#endif
