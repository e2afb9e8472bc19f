/*
 * Copying with OSC 52, the one clipboard path that works over SSH and needs no xclip: the
 * text is base64-encoded into ESC ] 52 ; c ; … BEL and written straight to /dev/tty. Inside
 * tmux the sequence is sent both plainly (tmux takes it when set-clipboard is on) and
 * wrapped in tmux's DCS passthrough (when allow-passthrough is on). Terminals known not to
 * support it are refused with a plain message instead of a false "copied" (peers.md R7, R8).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "app.h"
#include "xmalloc.h"

#define CLIP_MAX (1024 * 1024)

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

/* Copy text to the terminal's clipboard. Returns 0, or -1 with *err saying why not. */
int
clip_copy(const char *text, size_t n, char **err)
{
	const char *term = getenv("TERM"), *tmux = getenv("TMUX");
	struct buf seq = BUF_INIT, wrapped = BUF_INIT;
	size_t i;
	int fd, rc;

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
	return 0;
}
