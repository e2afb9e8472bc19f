/*
 * MCP server processes (see mcp-proc.h). fork and execve rather than posix_spawn, because
 * the child needs a working directory, its own process group, signal dispositions reset
 * and every inherited descriptor closed; between fork and exec it makes only system calls.
 * A failure to change directory or to exec is sent back over a close-on-exec pipe as an
 * errno, so the caller gets "cannot run X: Permission denied" rather than a silent exit.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "mcp-proc.h"
#include "mcp.h"
#include "secret.h"
#include "xmalloc.h"

/* The variables of natter's environment a server inherits (see mcp.h). */
static const char *const mcp_proc_pass[] = {
	"PATH", "HOME", "USER", "LOGNAME", "SHELL", "TERM", "LANG", "LC_ALL", "LC_CTYPE",
	"LC_MESSAGES", "TZ", "TMPDIR", NULL,
};

/* True for an env: name whose value is a credential. */
static int
mcp_proc_secret_name(const char *name)
{
	static const char *const words[] = { "KEY", "TOKEN", "SECRET", "PASSWORD", "AUTH" };
	size_t i;

	for (i = 0; i < sizeof words / sizeof words[0]; i++)
		if (strcasestr(name, words[i]) != NULL)
			return 1;
	return 0;
}

/* v with each ${NAME} replaced by natter's variable NAME (empty when unset). */
char *
mcp_proc_expand(const char *v)
{
	struct buf b = BUF_INIT;
	const char *p = v, *q;

	buf_puts(&b, "");
	while (*p != '\0') {
		if (p[0] == '$' && p[1] == '{' && (q = strchr(p + 2, '}')) != NULL &&
		    q > p + 2 && strspn(p + 2, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
		    "0123456789_") == (size_t)(q - p - 2)) {
			char *name = xstrndup(p + 2, (size_t)(q - p - 2));
			const char *val = getenv(name);

			if (val != NULL)
				buf_puts(&b, val);
			free(name);
			p = q + 1;
			continue;
		}
		buf_putc(&b, *p++);
	}
	return buf_detach(&b);
}

/* True when cfg's env: sets name. */
static int
mcp_proc_env_has(const struct mcp_server_cfg *cfg, const char *name)
{
	size_t i;

	for (i = 0; i < cfg->nenv; i++)
		if (strcmp(cfg->env[i].name, name) == 0)
			return 1;
	return 0;
}

/* The server's environment: the passed basics, then the config's entries. */
char **
mcp_proc_env(const struct mcp_server_cfg *cfg)
{
	size_t n = 0, i, j;
	char **env = xcalloc(sizeof mcp_proc_pass / sizeof mcp_proc_pass[0] + cfg->nenv + 1,
	    sizeof *env);

	for (i = 0; mcp_proc_pass[i] != NULL; i++) {
		const char *v = getenv(mcp_proc_pass[i]);

		/* Exported shell functions are code, not settings. */
		if (v == NULL || strncmp(v, "()", 2) == 0 || mcp_proc_env_has(cfg, mcp_proc_pass[i]))
			continue;
		env[n++] = xasprintf("%s=%s", mcp_proc_pass[i], v);
	}
	for (i = 0; i < cfg->nenv; i++) {
		char *v = mcp_proc_expand(cfg->env[i].value != NULL ? cfg->env[i].value : "");

		/* A name given twice: the later entry wins, as in a shell. */
		for (j = i + 1; j < cfg->nenv; j++)
			if (strcmp(cfg->env[j].name, cfg->env[i].name) == 0)
				break;
		if (j == cfg->nenv && cfg->env[i].name[0] != '\0' &&
		    strchr(cfg->env[i].name, '=') == NULL) {
			if (mcp_proc_secret_name(cfg->env[i].name))
				secret_add(v);
			env[n++] = xasprintf("%s=%s", cfg->env[i].name, v);
		}
		free(v);
	}
	env[n] = NULL;
	return env;
}

/* Free an environment from mcp_proc_env. */
void
mcp_proc_env_free(char **env)
{
	size_t i;

	for (i = 0; env != NULL && env[i] != NULL; i++)
		free(env[i]);
	free(env);
}

/* The value of name in env, or NULL. */
static const char *
mcp_proc_getenv(char **env, const char *name)
{
	size_t i, n = strlen(name);

	for (i = 0; env[i] != NULL; i++)
		if (strncmp(env[i], name, n) == 0 && env[i][n] == '=')
			return env[i] + n + 1;
	return NULL;
}

/* The program cmd names: itself when it holds a '/', else the first executable file of
 * that name in the server's PATH; NULL when there is none. */
static char *
mcp_proc_which(const char *cmd, char **env)
{
	const char *path = mcp_proc_getenv(env, "PATH"), *p, *e;
	struct stat st;

	if (strchr(cmd, '/') != NULL)
		return xstrdup(cmd);
	if (path == NULL)
		path = "/usr/local/bin:/usr/bin:/bin";
	for (p = path; ; p = e + 1) {
		char *cand;

		e = strchr(p, ':');
		if (e == NULL)
			e = p + strlen(p);
		if (e == p)
			cand = xstrdup(cmd);
		else
			cand = xasprintf("%.*s/%s", (int)(e - p), p, cmd);
		if (stat(cand, &st) == 0 && S_ISREG(st.st_mode) && access(cand, X_OK) == 0)
			return cand;
		free(cand);
		if (*e == '\0')
			return NULL;
	}
}

/* Make fd the child's descriptor target (keeping it open across exec). */
static void
mcp_proc_dup(int fd, int target)
{
	if (fd == target)
		fcntl(fd, F_SETFD, 0);
	else
		dup2(fd, target);
}

/* Close every descriptor from lo to hi (close_range, or one by one without it). */
static void
mcp_proc_close_range(unsigned lo, unsigned hi)
{
	unsigned fd;

	if (lo > hi)
		return;
	if (close_range(lo, hi, 0) == 0)
		return;
	for (fd = lo; fd <= hi && fd < 65536; fd++)
		close((int)fd);
}

/* The child's side: set up and exec, or report the errno on rep and exit 127. */
static _Noreturn void
mcp_proc_child(const char *path, char **argv, char **env, const char *cwd, int pin, int pout,
    int perr, int rep)
{
	struct sigaction sa;
	sigset_t none;
	int sig, msg[2];

	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	/* Ignored signals stay ignored across exec (natter ignores SIGPIPE). */
	for (sig = 1; sig < NSIG; sig++)
		if (sigaction(sig, NULL, &sa) == 0 && sa.sa_handler == SIG_IGN) {
			sa.sa_handler = SIG_DFL;
			sigaction(sig, &sa, NULL);
		}
	setpgid(0, 0);
	mcp_proc_dup(pin, 0);
	mcp_proc_dup(pout, 1);
	mcp_proc_dup(perr, 2);
	msg[0] = 1;
	if (cwd != NULL && chdir(cwd) != 0)
		goto fail;
	mcp_proc_close_range(3, (unsigned)rep - 1);
	mcp_proc_close_range((unsigned)rep + 1, ~0u);
	msg[0] = 2;
	execve(path, argv, env);
fail:
	msg[1] = errno;
	if (write(rep, msg, sizeof msg) < 0)
		_exit(127);
	_exit(127);
}

/* Close fd if open and mark it closed. */
static void
mcp_proc_close(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

/* Spawn cfg's server with non-blocking pipes on its standard descriptors. */
int
mcp_proc_spawn(struct mcp_proc *p, const struct mcp_server_cfg *cfg, char **err)
{
	int pin[2] = { -1, -1 }, pout[2] = { -1, -1 }, perr[2] = { -1, -1 }, rep[2] = { -1, -1 };
	int msg[2], st;
	char **env, **argv, *path;
	size_t i;
	ssize_t r;
	pid_t pid;

	memset(p, 0, sizeof *p);
	p->in = p->out = p->err = -1;
	env = mcp_proc_env(cfg);
	path = mcp_proc_which(cfg->command, env);
	if (path == NULL) {
		*err = xasprintf("cannot run '%s': not found in PATH (%s)", cfg->command,
		    mcp_proc_getenv(env, "PATH") != NULL ? mcp_proc_getenv(env, "PATH") :
		    "unset");
		mcp_proc_env_free(env);
		return -1;
	}
	argv = xcalloc(cfg->nargs + 2, sizeof *argv);
	argv[0] = cfg->command;
	for (i = 0; i < cfg->nargs; i++)
		argv[i + 1] = cfg->args[i];
	if (pipe2(pin, O_CLOEXEC) != 0 || pipe2(pout, O_CLOEXEC) != 0 ||
	    pipe2(perr, O_CLOEXEC) != 0 || pipe2(rep, O_CLOEXEC) != 0) {
		*err = xasprintf("cannot run '%s': no pipe: %s", cfg->command, strerror(errno));
		pid = -1;
		goto out;
	}
	pid = fork();
	if (pid < 0) {
		*err = xasprintf("cannot run '%s': fork: %s", cfg->command, strerror(errno));
		goto out;
	}
	if (pid == 0)
		mcp_proc_child(path, argv, env, cfg->cwd, pin[0], pout[1], perr[1], rep[1]);
	/* Both sides set the group, so a signal to it can never miss the child. */
	setpgid(pid, pid);
	mcp_proc_close(&rep[1]);
	do
		r = read(rep[0], msg, sizeof msg);
	while (r < 0 && errno == EINTR);
	if (r == (ssize_t)sizeof msg) {
		if (msg[0] == 1)
			*err = xasprintf("cannot change to directory '%s': %s", cfg->cwd,
			    strerror(msg[1]));
		else
			*err = xasprintf("cannot run '%s': %s", path, strerror(msg[1]));
		while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
			;
		pid = -1;
		goto out;
	}
	p->pid = pid;
	p->in = pin[1];
	p->out = pout[0];
	p->err = perr[0];
	pin[1] = pout[0] = perr[0] = -1;
	fcntl(p->in, F_SETFL, fcntl(p->in, F_GETFL) | O_NONBLOCK);
	fcntl(p->out, F_SETFL, fcntl(p->out, F_GETFL) | O_NONBLOCK);
	fcntl(p->err, F_SETFL, fcntl(p->err, F_GETFL) | O_NONBLOCK);
out:
	for (i = 0; i < 2; i++) {
		mcp_proc_close(&pin[i]);
		mcp_proc_close(&pout[i]);
		mcp_proc_close(&perr[i]);
		mcp_proc_close(&rep[i]);
	}
	free(argv);
	free(path);
	mcp_proc_env_free(env);
	return pid > 0 ? 0 : -1;
}

/* Reap p if it has exited; what is left of its group gets SIGTERM first. */
int
mcp_proc_poll(struct mcp_proc *p)
{
	siginfo_t si;
	int st;

	if (p->pid <= 0 || p->reaped)
		return 1;
	memset(&si, 0, sizeof si);
	if (waitid(P_PID, (id_t)p->pid, &si, WEXITED | WNOHANG | WNOWAIT) != 0) {
		/* Someone else reaped it (ECHILD): it is gone all the same. */
		p->reaped = 1;
		p->status = -1;
		p->pid = 0;
		return 1;
	}
	if (si.si_pid != p->pid)
		return 0;
	/* The leader is a zombie, so its group id is still its own: helpers it started
	 * and left behind end with it. */
	kill(-p->pid, SIGTERM);
	while (waitpid(p->pid, &st, 0) < 0 && errno == EINTR)
		;
	p->status = st;
	p->reaped = 1;
	p->pid = 0;
	mcp_proc_close(&p->in);
	return 1;
}

/* Close our end of its input: a well-behaved server exits on end of file. */
void
mcp_proc_stop(struct mcp_proc *p, int64_t now_ms)
{
	mcp_proc_close(&p->in);
	if (p->stage == 0) {
		p->stage = 1;
		p->next_ms = now_ms + MCP_PROC_GRACE_MS;
	}
}

/* Send the next signal when it is due; 1 once reaped. */
int
mcp_proc_tick(struct mcp_proc *p, int64_t now_ms)
{
	if (mcp_proc_poll(p))
		return 1;
	if (p->stage == 1 && now_ms >= p->next_ms) {
		kill(-p->pid, SIGTERM);
		kill(p->pid, SIGTERM);
		p->stage = 2;
		p->next_ms = now_ms + MCP_PROC_TERM_MS;
	} else if (p->stage == 2 && now_ms >= p->next_ms) {
		kill(-p->pid, SIGKILL);
		kill(p->pid, SIGKILL);
		p->stage = 3;
		p->next_ms = now_ms + 10;
	} else if (p->stage == 3) {
		p->next_ms = now_ms + 10;
	}
	return 0;
}

/* Close our ends of its stdout and stderr. */
void
mcp_proc_close_fds(struct mcp_proc *p)
{
	mcp_proc_close(&p->out);
	mcp_proc_close(&p->err);
}

/* End them all together: one grace period for everyone, then the signals. */
void
mcp_proc_shutdown(struct mcp_proc **v, size_t n)
{
	struct timespec ts = { 0, 10 * 1000 * 1000 };
	size_t i, left;
	int64_t now;

	for (i = 0; i < n; i++)
		mcp_proc_stop(v[i], mcp_now_ms());
	for (;;) {
		now = mcp_now_ms();
		left = 0;
		for (i = 0; i < n; i++)
			if (!mcp_proc_tick(v[i], now))
				left++;
		if (left == 0)
			break;
		nanosleep(&ts, NULL);
	}
	for (i = 0; i < n; i++)
		mcp_proc_close_fds(v[i]);
}

/* The wait status in words. */
char *
mcp_proc_describe(int status)
{
	if (status == -1)
		return xstrdup("exited");
	if (WIFEXITED(status))
		return xasprintf("exited with status %d", WEXITSTATUS(status));
	if (WIFSIGNALED(status))
		return xasprintf("was killed by signal %d (%s)", WTERMSIG(status),
		    strsignal(WTERMSIG(status)));
	return xasprintf("ended (wait status %d)", status);
}
