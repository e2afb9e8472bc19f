/*
 * Running a key command (see keycmd.h). posix_spawn starts /bin/sh -c CMD with its output on
 * a pipe; one poll loop reads it against a deadline and then waits for the exit, so the
 * whole run, output and exit alike, fits in the time limit. A command past it is killed.
 * The child stays in natter's process group so that a passphrase prompt on the terminal
 * still works (a background group would be stopped by SIGTTIN). Whatever the command
 * printed is wiped before its memory is released.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "keycmd.h"
#include "xmalloc.h"

extern char **environ;

/* The most output kept; the rest is read and dropped, so the command never blocks. */
#define KEYCMD_KEEP 16384

/* Milliseconds on the monotonic clock. */
static int64_t
keycmd_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Start /bin/sh -c cmd with stdout on a pipe (*fd: its read end) and stdin from
 * /dev/null; the signals natter ignores or handles are back to their defaults in it.
 * Returns the pid, or -1 with errno set. */
static pid_t
keycmd_spawn(const char *cmd, int *fd)
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t at;
	sigset_t none, dflt;
	char *argv[4];
	pid_t pid = -1;
	int p[2], rc;

	if (pipe(p) != 0)
		return -1;
	fcntl(p[0], F_SETFD, FD_CLOEXEC);
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, p[1], STDOUT_FILENO);
	posix_spawn_file_actions_addclose(&fa, p[1]);
	posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
	posix_spawnattr_init(&at);
	sigemptyset(&none);
	sigemptyset(&dflt);
	sigaddset(&dflt, SIGPIPE);
	sigaddset(&dflt, SIGINT);
	sigaddset(&dflt, SIGTERM);
	sigaddset(&dflt, SIGHUP);
	sigaddset(&dflt, SIGQUIT);
	posix_spawnattr_setsigmask(&at, &none);
	posix_spawnattr_setsigdefault(&at, &dflt);
	posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
	argv[0] = "sh";
	argv[1] = "-c";
	argv[2] = (char *)cmd;
	argv[3] = NULL;
	rc = posix_spawn(&pid, "/bin/sh", &fa, &at, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&at);
	close(p[1]);
	if (rc != 0) {
		close(p[0]);
		errno = rc;
		return -1;
	}
	*fd = p[0];
	return pid;
}

/* Read fd to its end or the deadline, keeping the first KEYCMD_KEEP bytes in out (*len);
 * returns 0 at the end of the output, -1 at the deadline. */
static int
keycmd_read(int fd, int64_t deadline, char *out, size_t *len)
{
	char chunk[4096];

	for (;;) {
		struct pollfd pfd = { fd, POLLIN, 0 };
		int64_t left = deadline - keycmd_now_ms();
		ssize_t n;
		int r;

		if (left <= 0)
			return -1;
		r = poll(&pfd, 1, left > 0x7fffffff ? 0x7fffffff : (int)left);
		if (r < 0 && errno == EINTR)
			continue;
		if (r == 0)
			return -1;
		n = read(fd, chunk, sizeof chunk);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n <= 0)
			break;
		if (*len < KEYCMD_KEEP) {
			size_t take = (size_t)n < KEYCMD_KEEP - *len ? (size_t)n : KEYCMD_KEEP - *len;

			memcpy(out + *len, chunk, take);
			*len += take;
		}
		memset(chunk, 0, sizeof chunk);
	}
	memset(chunk, 0, sizeof chunk);
	return 0;
}

/* Wait for pid until the deadline; 0 with *status, or -1 when it is still running. */
static int
keycmd_wait(pid_t pid, int64_t deadline, int *status)
{
	struct timespec pause = { 0, 5 * 1000000 };
	pid_t r;

	for (;;) {
		r = waitpid(pid, status, WNOHANG);
		if (r == pid)
			return 0;
		if (r < 0 && errno != EINTR)
			return 0; /* not ours to wait for any more: treat as gone */
		if (keycmd_now_ms() >= deadline)
			return -1;
		nanosleep(&pause, NULL);
	}
}

/* Run one key command (see keycmd.h). */
int
keycmd_run(const char *cmd, double timeout_s, char **key, char **err)
{
	char *out = xmalloc(KEYCMD_KEEP + 1);
	size_t len = 0, n;
	int64_t deadline;
	int fd = -1, status = 0, late;
	pid_t pid;

	*key = NULL;
	*err = NULL;
	if (timeout_s <= 0)
		timeout_s = KEYCMD_TIMEOUT;
	deadline = keycmd_now_ms() + (int64_t)(timeout_s * 1000.0);
	pid = keycmd_spawn(cmd, &fd);
	if (pid < 0) {
		*err = xasprintf("cannot run it: %s", strerror(errno));
		free(out);
		return -1;
	}
	late = keycmd_read(fd, deadline, out, &len) != 0;
	close(fd);
	if (!late)
		late = keycmd_wait(pid, deadline, &status) != 0;
	if (late) {
		kill(pid, SIGKILL);
		while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
			;
		*err = xasprintf("timed out after %g s and was stopped (key_cmd_timeout)",
		    timeout_s);
	} else if (WIFSIGNALED(status)) {
		*err = xasprintf("was killed by signal %d (%s)", WTERMSIG(status),
		    strsignal(WTERMSIG(status)));
	} else if (WIFEXITED(status) && WEXITSTATUS(status) != 0) {
		*err = xasprintf("exited with status %d%s", WEXITSTATUS(status),
		    WEXITSTATUS(status) == 127 ? " (command not found?)" : "");
	} else {
		out[len] = '\0';
		n = strcspn(out, "\n");
		while (n > 0 && (out[n - 1] == '\r' || out[n - 1] == ' ' || out[n - 1] == '\t'))
			n--;
		if (n > 0 && out[0] != '\0')
			*key = xstrndup(out, n);
		else
			*err = xstrdup("printed nothing");
	}
	memset(out, 0, KEYCMD_KEEP + 1);
	free(out);
	return *key != NULL ? 0 : -1;
}
