/*
 * Telling the user about what they did not see. A reply that finishes while the terminal
 * is not focused (natter asks for focus reports, CSI ? 1004 h, and hears CSI I and CSI O)
 * or while the transcript is scrolled away from its end rings the bell or sends the
 * terminal's own notification (OSC 9, or OSC 777 notify), as the notify: setting says;
 * auto picks what the terminal is known to show from the environment, and the bell inside
 * tmux or screen (which pass the bell on, and OSC sequences only when set up to) and
 * wherever it is unsure. And on quitting, print_on_exit: leaves the last exchange on the
 * normal screen, made safe for the terminal, so that it stays in the scrollback.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "app.h"
#include "config.h"
#include "provider.h"
#include "text.h"

/* Write s to the terminal as it is. */
static void
notify_write(const char *s, size_t n)
{
	while (n > 0) {
		ssize_t k = write(STDOUT_FILENO, s, n);

		if (k <= 0)
			return;
		s += k;
		n -= (size_t)k;
	}
}

/* Does environment variable name hold a value starting with prefix? */
static int
notify_env(const char *name, const char *prefix)
{
	const char *v = getenv(name);

	return v != NULL && *v != '\0' && strncmp(v, prefix, strlen(prefix)) == 0;
}

/* The method auto stands for in this terminal. */
static enum config_notify
notify_auto(void)
{
	if (getenv("TMUX") != NULL || notify_env("TERM", "screen") || notify_env("TERM", "tmux"))
		return NOTIFY_BELL;
	if (notify_env("TERM_PROGRAM", "iTerm.app") || notify_env("TERM_PROGRAM", "WezTerm") ||
	    notify_env("TERM", "xterm-kitty"))
		return NOTIFY_OSC9;
	if (notify_env("VTE_VERSION", "") || notify_env("TERM", "foot") ||
	    notify_env("TERM_PROGRAM", "ghostty") || notify_env("TERM", "rxvt"))
		return NOTIFY_OSC777;
	return NOTIFY_BELL;
}

/* Resolve the method and ask the terminal for focus reports when one is used. */
void
notify_init(struct app *a)
{
	a->term_focused = 1;
	a->notify_method = a->cfg->notify == NOTIFY_AUTO ? (int)notify_auto() : (int)a->cfg->notify;
	if (a->notify_method != NOTIFY_OFF)
		notify_write("\033[?1004h", 8);
}

/* Append s to b as a notification can carry it: printable ASCII, no field separator. */
static void
notify_text(struct buf *b, const char *s)
{
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;

		buf_putc(b, c >= 0x20 && c < 0x7f && c != ';' ? (char)c : '?');
	}
}

/* A reply finished: say so when nobody was looking. */
void
notify_reply_done(struct app *a, const struct turn *t)
{
	struct buf msg = BUF_INIT, seq = BUF_INIT;

	if (a->notify_method == NOTIFY_OFF || t == NULL || t->state == MSG_CANCELLED)
		return;
	if (a->term_focused && a->follow)
		return;
	if (a->notify_method == NOTIFY_BELL) {
		notify_write("\a", 1);
		return;
	}
	buf_puts(&msg, t->state == MSG_ERROR ? "reply failed: " : "reply finished: ");
	if (t->model != NULL && t->model->provider != NULL) {
		notify_text(&msg, t->model->provider->name);
		buf_putc(&msg, '/');
		notify_text(&msg, t->model->id);
	}
	if (a->notify_method == NOTIFY_OSC9)
		buf_printf(&seq, "\033]9;natter %s\a", buf_str(&msg));
	else
		buf_printf(&seq, "\033]777;notify;natter;%s\a", buf_str(&msg));
	notify_write(seq.data, seq.len);
	buf_free(&msg);
	buf_free(&seq);
}

/* Print message i of the session as one block of the exchange. */
static void
notify_print_msg(const struct session_msg *m, struct buf *out)
{
	struct buf safe = BUF_INIT;

	if (m->role == ROLE_USER)
		buf_puts(out, "▍you\n");
	else if (m->model != NULL)
		buf_printf(out, "▍%s\n", m->model);
	else
		buf_puts(out, "▍assistant\n");
	text_sanitize(buf_str(&m->content), m->content.len, &safe);
	buf_puts(out, buf_str(&safe));
	if (safe.len == 0 || safe.data[safe.len - 1] != '\n')
		buf_putc(out, '\n');
	buf_putc(out, '\n');
	buf_free(&safe);
}

/* print_on_exit: once the terminal is back on its normal screen, print the last prompt
 * and the replies after it (every column's, after a comparison), sanitised. */
void
notify_exit_print(struct app *a)
{
	struct buf out = BUF_INIT, model = BUF_INIT;
	size_t i, last = 0;
	int found = 0;

	if (!a->cfg->print_on_exit || a->sess == NULL)
		return;
	for (i = a->sess->nmsgs; i > 0; i--)
		if (a->sess->msgs[i - 1].role == ROLE_USER) {
			last = i - 1;
			found = 1;
			break;
		}
	if (!found)
		return;
	for (i = last; i < a->sess->nmsgs; i++) {
		const struct session_msg *m = &a->sess->msgs[i];

		if (m->role != ROLE_USER && m->role != ROLE_ASSISTANT)
			continue;
		if (m->role == ROLE_ASSISTANT && m->model != NULL) {
			struct session_msg copy = *m;

			text_sanitize_line(m->model, strlen(m->model), &model);
			copy.model = model.data;
			notify_print_msg(&copy, &out);
			buf_reset(&model);
		} else {
			notify_print_msg(m, &out);
		}
	}
	notify_write(out.data, out.len);
	buf_free(&out);
	buf_free(&model);
}
