/*
 * Handing the draft to $VISUAL or $EDITOR (Ctrl+G, peers.md R10): leave curses, write the
 * draft to a private temporary file, run the editor on the terminal with natter's own
 * interrupt keys ignored, read the file back without its final newline, and return to
 * curses with a full redraw. The worker keeps streaming meanwhile; its events wait in the
 * queue.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "app.h"
#include "xmalloc.h"

/* Run the editor on the draft text (a Markdown file); as editor_run_as. */
int
editor_run(struct app *a, const char *text, char **out, char **err)
{
	return editor_run_as(a, text, ".md", out, err);
}

/* Run the editor on text in a file ending in suffix (".md", ".json"); *out gets the
 * edited text. Returns 0, or -1 with *err set. */
int
editor_run_as(struct app *a, const char *text, const char *suffix, char **out, char **err)
{
	const char *ed = getenv("VISUAL");
	const char *tmp = getenv("TMPDIR");
	char *path;
	int fd, status;
	FILE *f;
	pid_t pid;
	struct sigaction ign, old_int, old_quit, old_tstp;
	struct buf b = BUF_INIT;
	char chunk[4096];
	size_t n;

	*out = NULL;
	if (ed == NULL || *ed == '\0')
		ed = getenv("EDITOR");
	if (ed == NULL || *ed == '\0')
		ed = "vi";
	path = xasprintf("%s/natter-draft-XXXXXX%s", tmp && *tmp ? tmp : "/tmp", suffix);
	if ((fd = mkstemps(path, (int)strlen(suffix))) < 0) {
		*err = xasprintf("cannot create a temporary file: %s", strerror(errno));
		free(path);
		return -1;
	}
	if (write(fd, text, strlen(text)) < 0 || close(fd) != 0) {
		*err = xasprintf("cannot write %s: %s", path, strerror(errno));
		unlink(path);
		free(path);
		return -1;
	}
	ui_suspend_curses(a);
	memset(&ign, 0, sizeof ign);
	ign.sa_handler = SIG_IGN;
	sigaction(SIGINT, &ign, &old_int);
	sigaction(SIGQUIT, &ign, &old_quit);
	sigaction(SIGTSTP, &ign, &old_tstp);
	pid = fork();
	if (pid == 0) {
		struct sigaction dfl;

		memset(&dfl, 0, sizeof dfl);
		dfl.sa_handler = SIG_DFL;
		sigaction(SIGINT, &dfl, NULL);
		sigaction(SIGQUIT, &dfl, NULL);
		sigaction(SIGTSTP, &dfl, NULL);
		/* The shell splits the editor command ($0) into words, as other programs do. */
		execl("/bin/sh", "sh", "-c", "exec $0 \"$1\"", ed, path, (char *)NULL);
		_exit(127);
	}
	status = -1;
	if (pid > 0)
		while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
			;
	sigaction(SIGINT, &old_int, NULL);
	sigaction(SIGQUIT, &old_quit, NULL);
	sigaction(SIGTSTP, &old_tstp, NULL);
	ui_resume_curses(a);
	if (pid < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		*err = xasprintf("the editor (%s) failed; the draft is unchanged", ed);
		unlink(path);
		free(path);
		return -1;
	}
	if ((f = fopen(path, "rb")) == NULL) {
		*err = xasprintf("cannot read %s back: %s", path, strerror(errno));
		unlink(path);
		free(path);
		return -1;
	}
	while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
		buf_append(&b, chunk, n);
	fclose(f);
	unlink(path);
	free(path);
	if (b.len > 0 && b.data[b.len - 1] == '\n')
		b.data[--b.len] = '\0';
	if (b.len > 0 && b.data[b.len - 1] == '\r')
		b.data[--b.len] = '\0';
	*out = buf_detach(&b);
	return 0;
}
