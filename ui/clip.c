/*
 * Copying with OSC 52, the one clipboard path that works over SSH and needs no xclip: the
 * text is base64-encoded into ESC ] 52 ; c ; … BEL and written straight to /dev/tty. Inside
 * tmux the sequence is sent both plainly (tmux takes it when set-clipboard is on) and
 * wrapped in tmux's DCS passthrough (when allow-passthrough is on). Terminals known not to
 * support it are refused with a plain message instead of a false "copied" (peers.md R7, R8).
 * A terminal never says whether it took the sequence, so natter says what it did: "sent to
 * the terminal's clipboard". Inside tmux it can do better: it asks tmux for set-clipboard
 * and, when tmux takes the sequence, reads the newest buffer back, and says "copied (tmux
 * buffer)" only when the buffer holds the text. Copying the selected message or its next
 * code block (y, c) is here too.
 */
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "app.h"
#include "xmalloc.h"

#define CLIP_MAX (1024 * 1024)
#define CLIP_TMUX_WAIT_MS 300   /* how long tmux gets to store the sequence as a buffer */

extern char **environ;

/* Append the base64 form of n bytes. */
static void
clip_base64(struct buf *b, const unsigned char *s, size_t n)
{
	static const char tab[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t i;

	for (i = 0; i + 2 < n; i += 3) {
		buf_putc(b, tab[s[i] >> 2]);
		buf_putc(b, tab[((s[i] & 3) << 4) | (s[i + 1] >> 4)]);
		buf_putc(b, tab[((s[i + 1] & 15) << 2) | (s[i + 2] >> 6)]);
		buf_putc(b, tab[s[i + 2] & 63]);
	}
	if (i < n) {
		buf_putc(b, tab[s[i] >> 2]);
		if (i + 1 < n) {
			buf_putc(b, tab[((s[i] & 3) << 4) | (s[i + 1] >> 4)]);
			buf_putc(b, tab[(s[i + 1] & 15) << 2]);
		} else {
			buf_putc(b, tab[(s[i] & 3) << 4]);
			buf_putc(b, '=');
		}
		buf_putc(b, '=');
	}
}

/* Write all of b to fd. */
static int
clip_write(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t k = write(fd, p, n);

		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return -1;
		p += k;
		n -= (size_t)k;
	}
	return 0;
}

/* Run tmux with args (NULL-terminated after "tmux") and read at most max bytes of its
 * output into out; 0 when it ran and exited 0. Its input and errors go to /dev/null, so it
 * never touches the terminal. */
static int
clip_tmux(char *const args[], struct buf *out, size_t max)
{
	posix_spawn_file_actions_t fa;
	int fds[2], st = 0, rc;
	pid_t pid;
	char chunk[4096];
	ssize_t k;

	if (pipe(fds) != 0)
		return -1;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, fds[1], 1);
	posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
	posix_spawn_file_actions_addclose(&fa, fds[0]);
	posix_spawn_file_actions_addclose(&fa, fds[1]);
	rc = posix_spawnp(&pid, "tmux", &fa, NULL, args, environ);
	posix_spawn_file_actions_destroy(&fa);
	close(fds[1]);
	if (rc != 0) {
		close(fds[0]);
		return -1;
	}
	while ((k = read(fds[0], chunk, sizeof chunk)) != 0) {
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0)
			break;
		if (out->len < max)
			buf_append(out, chunk, (size_t)k < max - out->len ? (size_t)k : max - out->len);
	}
	close(fds[0]);
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -1;
}

/* Whether tmux's newest buffer holds exactly text. */
static int
clip_tmux_has(const char *text, size_t n)
{
	char *args[] = { "tmux", "show-buffer", NULL };
	struct buf b = BUF_INIT;
	int same;

	same = clip_tmux(args, &b, n + 1) == 0 && b.len == n && (n == 0 ||
	    memcmp(b.data, text, n) == 0);
	buf_free(&b);
	return same;
}

/* After the sequence went out inside tmux: CLIP_TMUX_KEPT once tmux's newest buffer holds
 * the text, else CLIP_SENT with *why saying what tmux does with it (NULL when tmux could
 * not be asked). */
static enum clip_how
clip_tmux_check(const char *text, size_t n, char **why)
{
	char *args[] = { "tmux", "show-options", "-gv", "set-clipboard", NULL };
	struct buf opt = BUF_INIT;
	struct timespec pause = { 0, 15 * 1000000L };
	int waited;

	*why = NULL;
	if (clip_tmux(args, &opt, 64) != 0) {
		buf_free(&opt);
		return CLIP_SENT;
	}
	while (opt.len > 0 && (opt.data[opt.len - 1] == '\n' || opt.data[opt.len - 1] == '\r'))
		opt.len--;
	if (opt.len != 2 || memcmp(opt.data, "on", 2) != 0) {
		*why = xasprintf("tmux keeps no copy (set-clipboard %.*s)", (int)opt.len,
		    opt.len > 0 ? opt.data : "unset");
		buf_free(&opt);
		return CLIP_SENT;
	}
	buf_free(&opt);
	/* tmux reads the sequence from the pane on its own time: poll its buffer briefly. */
	for (waited = 0; waited <= CLIP_TMUX_WAIT_MS; waited += 15) {
		if (clip_tmux_has(text, n))
			return CLIP_TMUX_KEPT;
		nanosleep(&pause, NULL);
	}
	*why = xstrdup("tmux has not stored it as a buffer");
	return CLIP_SENT;
}

/* Copy text to the terminal's clipboard. Returns -1 with *err saying why not, or how it
 * went: CLIP_SENT (with *why, or NULL, saying more) or CLIP_TMUX_KEPT (verified). */
int
clip_copy(const char *text, size_t n, char **why, char **err)
{
	const char *term = getenv("TERM"), *tmux = getenv("TMUX");
	struct buf seq = BUF_INIT, wrapped = BUF_INIT;
	size_t i;
	int fd, rc;

	*why = NULL;
	if (term == NULL || strcmp(term, "dumb") == 0 || strcmp(term, "linux") == 0 ||
	    strncmp(term, "vt1", 3) == 0 || strncmp(term, "vt2", 3) == 0) {
		*err = xasprintf("cannot copy: this terminal (%s) has no OSC 52 clipboard; select "
		    "the text with the mouse instead", term ? term : "unknown");
		return -1;
	}
	if (n > CLIP_MAX) {
		*err = xasprintf("cannot copy: %zu bytes is more than terminals accept through OSC 52", n);
		return -1;
	}
	if ((fd = open("/dev/tty", O_WRONLY | O_NOCTTY | O_CLOEXEC)) < 0) {
		*err = xasprintf("cannot copy: no terminal to send OSC 52 to (%s)", strerror(errno));
		return -1;
	}
	buf_puts(&seq, "\033]52;c;");
	clip_base64(&seq, (const unsigned char *)text, n);
	buf_puts(&seq, "\a");
	rc = clip_write(fd, seq.data, seq.len);
	if (rc == 0 && tmux != NULL && *tmux) {
		buf_puts(&wrapped, "\033Ptmux;");
		for (i = 0; i < seq.len; i++) {
			if (seq.data[i] == '\033')
				buf_putc(&wrapped, '\033');
			buf_putc(&wrapped, seq.data[i]);
		}
		buf_puts(&wrapped, "\033\\");
		rc = clip_write(fd, wrapped.data, wrapped.len);
	}
	close(fd);
	buf_free(&seq);
	buf_free(&wrapped);
	if (rc != 0) {
		*err = xasprintf("cannot copy: writing to the terminal failed");
		return -1;
	}
	if (tmux != NULL && *tmux)
		return (int)clip_tmux_check(text, n, why);
	return CLIP_SENT;
}

/* Copy the selected message, or the next code block of it (code). */
void
clip_copy_selected(struct app *a, int code)
{
	struct session_msg *m;
	struct tview *v;
	struct buf b = BUF_INIT;
	char what[48];

	if (a->sess == NULL || a->sel_msg < 0 || a->sel_msg >= (long)a->sess->nmsgs) {
		ui_note(a, 1, "select a message first (%s to the transcript, then %s/%s)",
		    keys_hint(KCTX_GLOBAL, ACT_FOCUS_NEXT), keys_hint(KCTX_TRANSCRIPT, ACT_SEL_PREV),
		    keys_hint(KCTX_TRANSCRIPT, ACT_SEL_NEXT));
		return;
	}
	m = &a->sess->msgs[a->sel_msg];
	v = &a->views[a->sel_msg];
	if (!code) {
		ui_copy(a, "the message", buf_str(&m->content), m->content.len);
		return;
	}
	if (markdown_code_block(buf_str(&m->content), m->content.len, v->code_next, &b) != 0) {
		v->code_next = 0;
		if (markdown_code_block(buf_str(&m->content), m->content.len, 0, &b) != 0) {
			ui_note(a, 1, "this message has no code block");
			buf_free(&b);
			return;
		}
	}
	snprintf(what, sizeof what, "code block %d", v->code_next + 1);
	ui_copy(a, what, buf_str(&b), b.len);
	v->code_next++;
	buf_free(&b);
}
