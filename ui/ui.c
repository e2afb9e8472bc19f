/*
 * The interface loop. One thread owns curses and all state; it sleeps in poll() on the
 * terminal, the worker's wake-up pipe and a self-pipe for signals, and wakes for nothing
 * else: an idle natter has no timers and uses no CPU. Each turn handles what arrived
 * (keys, worker events, signals), which only changes state and sets dirty bits, then draws
 * the dirty panes once with wnoutrefresh + doupdate. While a reply streams, drawing is
 * capped at one frame per UI_FRAME_MS however fast tokens come (peers.md R1, R2).
 * The terminal is restored on every exit path: normal quit, signals, fatal errors and
 * crashes (peers.md R11).
 */
#include <errno.h>
#include <fcntl.h>
#include <langinfo.h>
#include <locale.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "apierr.h"
#include "app.h"
#include "cmd.h"
#include "config.h"
#include "fallback.h"
#include "highlight.h"
#include "log.h"
#include "params.h"
#include "provider.h"
#include "resolve.h"
#include "request.h"
#include "store.h"
#include "template.h"
#include "ui.h"
#include "worker.h"
#include "wrap.h"
#include "xmalloc.h"

#define UI_FRAME_MS 16
#define UI_NOTE_MS 4000
#define UI_MAXKEYS 8192
#define UI_CONF_ERRS 5 /* config errors listed at start-up before "and N more" */
#define UI_TOOL_FDS 96 /* descriptors of MCP servers polled (three per server) */

static int ui_sigpipe[2] = { -1, -1 };
static struct termios ui_saved_tio;
static int ui_tio_saved;
static int ui_curses_on;
static int ui_mouse_on;
static int ui_exit_sig;          /* the signal that ended the loop, for 128 + sig */
/* What a crash writes to put the terminal back, captured from terminfo at start-up since a
 * signal handler may not ask curses: attributes off, keypad transmit off, natter's own
 * modes off, cursor shown, alternate screen left. */
static char ui_crash_seq[256];
static const int ui_crash_sigs[] = { SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT };
static struct sigaction ui_crash_prev[sizeof ui_crash_sigs / sizeof ui_crash_sigs[0]];

/* Milliseconds on a monotonic clock. */
int64_t
ui_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Microseconds on a monotonic clock, for the debug log's timings. */
int64_t
ui_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* Write a string to the terminal directly (only async-signal-safe calls). */
static void
ui_raw_write(const char *s)
{
	size_t n = strlen(s);

	while (n > 0) {
		ssize_t k = write(STDOUT_FILENO, s, n);

		if (k <= 0)
			return;
		s += k;
		n -= (size_t)k;
	}
}

/* Leave every mode natter turned on: paste, mouse, focus reports, hidden cursor. */
static void
ui_restore_modes(void)
{
	ui_raw_write("\033[?2004l\033[?1000l\033[?1002l\033[?1006l\033[?1004l\033[?25h");
}

/* The fatal path hook: leave curses before the message is printed. */
static void
ui_restore_terminal(void)
{
	if (ui_curses_on && !isendwin())
		endwin();
	ui_curses_on = 0;
	ui_restore_modes();
}

/* Append terminfo capability cap (or fallback when the terminal has none) to the crash
 * sequence. */
static void
ui_crash_add(const char *cap, const char *fallback)
{
	char *v = tigetstr(cap);
	size_t have = strlen(ui_crash_seq), n;

	if (v == NULL || v == (char *)-1)
		v = (char *)fallback;
	if (v == NULL || (n = strlen(v)) + have >= sizeof ui_crash_seq)
		return;
	memcpy(ui_crash_seq + have, v, n + 1);
}

/* Capture the crash sequence; called once curses knows the terminal. */
static void
ui_crash_capture(void)
{
	ui_crash_seq[0] = '\0';
	ui_crash_add("sgr0", "\033[m");
	ui_crash_add("rmkx", NULL);
	ui_crash_add("cnorm", "\033[?25h");
	ui_crash_add("rmcup", "\033[?1049l");
}

/* A crash: put the terminal back with signal-safe calls, then let the handler that was
 * there before (the default, or a sanitizer's report) deal with the signal. */
static void
ui_crash(int sig, siginfo_t *si, void *ctx)
{
	size_t i;

	(void)ctx;
	ui_restore_modes();
	ui_raw_write(ui_crash_seq);
	ui_raw_write("\r\n");
	if (ui_tio_saved)
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &ui_saved_tio);
	for (i = 0; i < sizeof ui_crash_sigs / sizeof ui_crash_sigs[0]; i++)
		if (ui_crash_sigs[i] == sig)
			sigaction(sig, &ui_crash_prev[i], NULL);
	/* A fault the kernel raised happens again on return, now for the old handler; a sent
	 * one (kill, abort) is sent again and delivered when this handler returns. */
	if (si == NULL || si->si_code <= 0 || sig == SIGABRT)
		raise(sig);
}

/* Turn a signal into a byte on the self-pipe, handled in the loop. */
static void
ui_on_signal(int sig)
{
	int saved = errno;
	unsigned char c = (unsigned char)sig;

	if (write(ui_sigpipe[1], &c, 1) < 0) {
		/* The pipe is full: the loop will wake anyway. */
	}
	errno = saved;
}

/* Install the handlers for the signals natter reacts to. */
static void
ui_signals(void)
{
	struct sigaction sa;
	static const int handled[] = { SIGTERM, SIGHUP, SIGINT, SIGQUIT, SIGTSTP, SIGCONT };
	size_t i;

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = ui_on_signal;
	sigemptyset(&sa.sa_mask);
	for (i = 0; i < sizeof handled / sizeof handled[0]; i++)
		sigaction(handled[i], &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	/* Under a sanitizer its handler is the previous one: the terminal is put back first,
	 * then it reports. */
	sa.sa_handler = NULL;
	sa.sa_sigaction = ui_crash;
	sa.sa_flags = SA_SIGINFO;
	for (i = 0; i < sizeof ui_crash_sigs / sizeof ui_crash_sigs[0]; i++)
		sigaction(ui_crash_sigs[i], &sa, &ui_crash_prev[i]);
}

/* Show a transient note in the status line. */
void
ui_note(struct app *a, int error, const char *fmt, ...)
{
	va_list ap;
	struct buf raw = BUF_INIT, clean = BUF_INIT;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	buf_reserve(&raw, (size_t)n);
	va_start(ap, fmt);
	vsnprintf(raw.data, (size_t)n + 1, fmt, ap);
	va_end(ap);
	raw.len = (size_t)n;
	text_sanitize_line(raw.data, raw.len, &clean);
	free(a->note);
	a->note = buf_detach(&clean);
	a->note_kind = NOTE_PLAIN;
	a->note_error = error;
	a->note_until = ui_now_ms() + (error ? 2 * UI_NOTE_MS : UI_NOTE_MS);
	a->dirty |= DIRTY_STATUS;
	buf_free(&raw);
}

/* Drop the status note when it is of kind: what it said was under way is over. */
void
ui_note_drop(struct app *a, enum note_kind kind)
{
	if (a->note == NULL || a->note_kind != (int)kind)
		return;
	free(a->note);
	a->note = NULL;
	a->note_kind = NOTE_PLAIN;
	a->dirty |= DIRTY_STATUS;
}

/* Set mouse reporting on or off (off keeps the terminal's own selection working): button
 * presses and releases (1000) in SGR form (1006), read by keyread.c rather than curses. */
static void
ui_mouse(struct app *a, int on)
{
	a->mouse = on;
	ui_mouse_on = on;
	ui_raw_write(on ? "\033[?1000h\033[?1006h" : "\033[?1000l\033[?1006l");
}

/* Leave curses for a child program or a suspend. */
void
ui_suspend_curses(struct app *a)
{
	(void)a;
	ui_raw_write("\033[?2004l");
	endwin();
}

/* Come back from ui_suspend_curses with a full redraw. */
void
ui_resume_curses(struct app *a)
{
	reset_prog_mode();
	clearok(curscr, TRUE);
	refresh();
	ui_raw_write("\033[?2004h");
	ui_mouse(a, a->mouse);
	a->dirty |= DIRTY_ALL;
}

/* (Re)create the windows for the current terminal size. */
void
ui_layout(struct app *a)
{
	int max_in, want, sw;

	getmaxyx(stdscr, a->lines, a->cols);
	a->sess_visible = a->show_sessions && a->cols >= 60 && a->lines >= 8;
	sw = a->sess_w;
	if (sw > a->cols / 2)
		sw = a->cols / 2;
	if (sw < 14)
		sw = 14;
	if (!a->sess_visible)
		sw = 0;
	a->trans_x = sw;
	a->trans_w = a->cols - sw > 1 ? a->cols - sw : 1;
	max_in = (a->lines - 4) / 3;
	if (max_in > 10)
		max_in = 10;
	if (max_in < 1)
		max_in = 1;
	want = pane_input_rows(&a->in, a->trans_w) + attach_pending_rows(a, max_in - 1);
	a->input_h = want < max_in ? want : max_in;
	/* The "not saved" bar takes the transcript's top row while the store is failing. */
	a->banner = persist_banner_rows(a);
	a->trans_h = a->lines - 1 - (a->input_h + 1) - a->banner;
	if (a->trans_h < 1)
		a->trans_h = 1;
	/* A comparison has a row of column headers above the transcript and two rows of
	 * footers below it, when the transcript keeps at least four rows. */
	a->cmp.head_h = a->cmp.foot_h = 0;
	if (a->cmp.n > 0 && a->trans_h >= 7) {
		a->cmp.head_h = 1;
		a->cmp.foot_h = 2;
		a->trans_h -= 3;
	}
	if (a->wchead)
		delwin(a->wchead);
	if (a->wcfoot)
		delwin(a->wcfoot);
	if (a->wbanner)
		delwin(a->wbanner);
	a->wbanner = a->banner ? newwin(1, a->trans_w, 0, a->trans_x) : NULL;
	a->wchead = a->cmp.head_h ? newwin(a->cmp.head_h, a->trans_w, a->banner, a->trans_x) :
	    NULL;
	a->wcfoot = a->cmp.foot_h ? newwin(a->cmp.foot_h, a->trans_w,
	    a->banner + a->cmp.head_h + a->trans_h, a->trans_x) : NULL;
	if (a->wsess)
		delwin(a->wsess);
	if (a->wtrans)
		delwin(a->wtrans);
	if (a->winput)
		delwin(a->winput);
	if (a->wstatus)
		delwin(a->wstatus);
	a->wsess = sw ? newwin(a->lines - 1, sw, 0, 0) : NULL;
	a->wtrans = newwin(a->trans_h, a->trans_w, a->banner + a->cmp.head_h, a->trans_x);
	a->winput = newwin(a->input_h + 1, a->trans_w,
	    a->banner + a->cmp.head_h + a->trans_h + a->cmp.foot_h, a->trans_x);
	a->wstatus = newwin(1, a->cols, a->lines - 1, 0);
	if (a->focus == FOCUS_SESSIONS && !a->sess_visible)
		a->focus = FOCUS_INPUT;
	a->dirty |= DIRTY_ALL;
	a->dirty &= ~DIRTY_LAYOUT;
}

/* Draw every dirty pane in one update. */
static void
ui_draw(struct app *a)
{
	int want, max_in = (a->lines - 4) / 3;
	int64_t t0 = ui_now_us();

	if (max_in > 10)
		max_in = 10;
	if (max_in < 1)
		max_in = 1;
	if (a->dirty & DIRTY_INPUT) {
		want = pane_input_rows(&a->in, a->trans_w) + attach_pending_rows(a, max_in - 1);
		if ((want < max_in ? want : max_in) != a->input_h)
			a->dirty |= DIRTY_LAYOUT;
	}
	if (a->dirty & DIRTY_LAYOUT)
		ui_layout(a);
	if (a->wtrans == NULL)
		return;
	term_frame_begin(a);
	if ((a->dirty & DIRTY_SESSIONS) && a->wsess)
		pane_sessions_draw(a);
	if (a->dirty & DIRTY_TRANSCRIPT)
		pane_transcript_draw(a);
	if ((a->dirty & DIRTY_COMPARE) && a->wchead != NULL)
		pane_compare_draw(a);
	if (a->dirty & DIRTY_STATUS) {
		status_draw(a);
		persist_draw(a);
	}
	if (a->overlay != OVERLAY_NONE && a->dirty) {
		if (a->overlay == OVERLAY_FORM)
			form_draw(a);
		else if (a->overlay == OVERLAY_TEXT)
			overlay_text_draw(a);
		else
			picker_draw(a);
		curs_set(a->overlay == OVERLAY_FORM || a->overlay == OVERLAY_PICKER ||
		    a->overlay == OVERLAY_HELP ? 1 : 0);
	} else {
		if (a->dirty & DIRTY_INPUT)
			pane_input_draw(a);
		else
			wnoutrefresh(a->winput);
		/* The session list's search or rename field has the cursor when it has the keys. */
		pane_sessions_cursor(a);
		curs_set(a->focus == FOCUS_INPUT || pane_sessions_editing(a) ? 1 : 0);
	}
	doupdate();
	term_frame_end(a);
	a->dirty = 0;
	a->last_draw = ui_now_ms();
	log_debug("ui: frame drawn in %ld us", (long)(ui_now_us() - t0));
	if (a->reply_ended) {
		/* Wall-clock time of the frame showing a reply's end, for tests/bench/tui.sh. */
		struct timespec ts;

		clock_gettime(CLOCK_REALTIME, &ts);
		log_debug("ui: reply end drawn at %lld.%06ld", (long long)ts.tv_sec,
		    (long)(ts.tv_nsec / 1000));
		a->reply_ended = 0;
	}
	if (a->open_t0 != 0 && a->sess != NULL) {
		/* A session opened: its first frame, for tests/bench/huge.sh. */
		struct timespec ts;

		clock_gettime(CLOCK_REALTIME, &ts);
		log_debug("ui: session %lld opened to its first frame in %ld us, at %lld.%06ld"
		    " (%zu messages loaded%s)", (long long)a->sess->id,
		    (long)(ui_now_us() - a->open_t0), (long long)ts.tv_sec,
		    (long)(ts.tv_nsec / 1000), a->sess->nmsgs,
		    session_partial(a->sess) ? ", more before them" : "");
		a->open_t0 = 0;
	}
}

/* Sanitize a loaded message's text in place: stored text may come from anywhere. */
void
ui_clean_buf(struct buf *b)
{
	struct buf clean = BUF_INIT;

	if (b->len == 0)
		return;
	text_sanitize(b->data, b->len, &clean);
	buf_free(b);
	*b = clean;
}

/* Refresh the session list from the store (pane-sessions.c). */
void
ui_reload_sessions(struct app *a)
{
	pane_sessions_reload(a);
}

/* Find a provider by name among the configured ones. */
struct provider *
ui_provider(struct app *a, const char *name)
{
	return provider_find(a->provs, a->nprovs, name);
}

/* Is the main conversation's reply streaming? */
int
ui_streaming(const struct app *a)
{
	return a->turn != NULL && !a->turn->done;
}

/* Is a reply streaming, alone or in a comparison? */
int
ui_busy(const struct app *a)
{
	return ui_streaming(a) || pane_compare_busy(a);
}

/* Start an empty session with the current model; a comparison goes on in it. 0, or -1
 * when the current one stays (a reply is streaming, or it is not saved yet). */
int
ui_new_session(struct app *a)
{
	if (ui_busy(a)) {
		ui_note(a, 1, "a reply is streaming: %s cancels it first",
		    keys_hint(KCTX_GLOBAL, ACT_CANCEL));
		return -1;
	}
	if (!persist_may_drop(a))
		return -1;
	if (a->sess)
		session_free(a->sess);
	a->sess = session_new(a->st, a->prov->name, a->model);
	a->edit_from = 0;
	ui_note_drop(a, NOTE_EDITING);
	params_free(&a->sess_params);
	memset(&a->sess_params, 0, sizeof a->sess_params);
	a->cmp.from = 0;
	status_figures(a);
	pane_transcript_reset(a);
	a->dirty |= DIRTY_ALL;
	return 0;
}

/* Load a stored session and switch to its model. */
void
ui_open_session(struct app *a, int64_t id)
{
	struct session *s;
	struct provider *p;

	if (ui_busy(a)) {
		ui_note(a, 1, "a reply is streaming: %s cancels it first",
		    keys_hint(KCTX_GLOBAL, ACT_CANCEL));
		return;
	}
	if (!persist_may_drop(a))
		return;
	a->open_t0 = ui_now_us();
	/* The end of its path first: the screen needs no more, and the rest comes as the
	 * view goes up to it. */
	if (a->st == NULL || (s = session_open(a->st, id, paging_page(a))) == NULL) {
		a->open_t0 = 0;
		ui_note(a, 1, "cannot open that session: %s", a->st ? store_error(a->st) : "no store");
		return;
	}
	if (a->sess)
		session_free(a->sess);
	pane_transcript_free(a);
	paging_adopt(a, s);
	a->edit_from = 0;
	ui_note_drop(a, NOTE_EDITING);
	params_free(&a->sess_params);
	memset(&a->sess_params, 0, sizeof a->sess_params);
	status_figures(a);
	if (s->provider && (p = ui_provider(a, s->provider)) != NULL && s->model) {
		a->prov = p;
		free(a->model);
		a->model = xstrdup(s->model);
	}
	/* A session that ends in a comparison nobody picked from resumes it. */
	pane_compare_stop(a, 1);
	pane_compare_restore(a);
	pane_transcript_reset(a);
	a->dirty |= DIRTY_ALL;
}

/* Resolve a model spec as /model and -m take it, with the one resolver every front end
 * uses (resolve.h): the current provider takes an id nothing else claims. Returns the
 * provider and sets *model_out (pointing into the config) on success; NULL with *why (the
 * caller frees) when the spec names nothing usable. */
struct provider *
ui_model_resolve(struct app *a, const char *spec, const char **model_out, char **why)
{
	struct resolve_ctx ctx = { NULL, a->prov, a->model, 0 };
	struct resolved r;

	*why = NULL;
	if (resolve_model(a->cfg, spec, &ctx, &r) != RESOLVE_OK) {
		*why = resolve_message(a->cfg, spec, &r);
		return NULL;
	}
	*model_out = r.model->id;
	return r.model->provider;
}

/* Switch to the model spec names, or say why it cannot be used. */
void
ui_set_model(struct app *a, const char *spec)
{
	const char *model;
	char *why = NULL;
	struct provider *p = ui_model_resolve(a, spec, &model, &why);

	if (p == NULL) {
		struct buf line = BUF_INIT;

		ui_note(a, 1, "/model: %s", text_line(&line, why));
		buf_free(&line);
		free(why);
		return;
	}
	a->prov = p;
	if (model != a->model) {
		char *m = xstrdup(model);

		free(a->model);
		a->model = m;
	}
	if (a->sess)
		session_set_model(a->sess, p->name, a->model);
	if (!provider_usable(p))
		ui_note(a, 1, "%s/%s selected, but %s has no key: set %s", p->name, a->model, p->name,
		    p->key_env ? p->key_env : "its API key");
	else
		ui_note(a, 0, "model: %s/%s", p->name, a->model);
	a->dirty |= DIRTY_STATUS | DIRTY_TRANSCRIPT;
}

/* The config's model for provider p and id model (made up with safe defaults for ids the
 * config does not list), or NULL. */
struct model *
ui_model(struct app *a, const struct provider *p, const char *model)
{
	return config_model_of(a->cfg, p->name, model);
}

/* Layer the parameters of the next request (config < model < session < this message) and
 * check them against what m accepts, as the turn will, so a refused value never costs a
 * round trip and the draft stays in the input. */
int
ui_params(struct app *a, const struct model *m, struct params *out, char **err)
{
	return turn_params(a->cfg, m, &a->sess_params, &a->msg_params, out, err);
}

/* Forget the overrides of the message just answered (template, summary). */
static void
ui_attempt_clear(struct app *a)
{
	free(a->msg_system);
	a->msg_system = NULL;
	params_free(&a->msg_params);
	memset(&a->msg_params, 0, sizeof a->msg_params);
	a->msg_summary = 0;
}

#define UI_SUMMARY_HEAD "**Summary of the conversation so far**\n\n"

/* The turn's update: new text to draw, a wait to show, a fallback to say. */
static void
ui_turn_update(struct turn *t, unsigned what, const char *p, size_t n, void *arg)
{
	struct app *a = arg;

	(void)p;
	(void)n;
	if (what & (TURN_TEXT | TURN_REASONING))
		a->dirty |= DIRTY_TRANSCRIPT | DIRTY_STATUS;
	if (what & (TURN_TOOL | TURN_APPROVE))
		tools_update(a, t, what, n);
	if ((what & TURN_WAIT) && t->wait_rotated && t->wait_msg != NULL)
		/* What happens first, as in status_draw: the reason may not fit. */
		ui_note(a, 0, "trying the next key of %s · %s", t->model->provider->name,
		    t->wait_msg);
	if (what & TURN_WAIT)
		a->dirty |= DIRTY_STATUS;
	if ((what & TURN_FALLBACK) && t->note != NULL) {
		ui_note(a, 1, "%s", t->note);
		pane_transcript_sync(a);
		a->dirty |= DIRTY_ALL;
	}
}

/* The turn is over: its figures are stored; say how it ended. */
static void
ui_turn_complete(struct turn *t, void *arg)
{
	struct app *a = arg;

	a->last_ttft_ms = t->ttft_ms;
	a->last_tokens = t->usage.output_tokens;
	a->last_tps = turn_tps(t);
	if (t->state == MSG_CANCELLED && a->note_kind == NOTE_CANCELLING)
		ui_note(a, 0, "cancelled: the partial reply is kept");
	else if (t->state == MSG_ERROR && t->error != NULL)
		ui_note(a, 1, "%s", t->error);
	else if (a->msg_summary && t->state == MSG_COMPLETE)
		ui_note(a, 0, "summary done: /summarize continue starts a new session from it");
	tools_complete(a, t);
	notify_reply_done(a, t);
	ui_attempt_clear(a);
	ui_reload_sessions(a);
	semantic_ix_kick(a->six);
	a->reply_ended = 1;
	a->index_due = 1;
	a->dirty |= DIRTY_ALL;
}

static const struct turn_cbs ui_turn_cbs = { ui_turn_update, ui_turn_complete, NULL };

/* Submit the conversation so far to model on p through a turn. Returns 0, or -1 (said in
 * the status line) when it was refused before anything was sent. */
static int
ui_start_reply(struct app *a, struct provider *p, const char *model)
{
	struct turn_spec spec = { .column = -1 };
	char *err = NULL;

	spec.model = ui_model(a, p, model);
	spec.session = &a->sess_params;
	spec.message = &a->msg_params;
	spec.system = a->msg_system;
	spec.prefix = a->msg_summary ? UI_SUMMARY_HEAD : NULL;
	/* The MCP servers' tools, once one is ready (a summary needs none). */
	spec.tools = a->msg_summary ? NULL : tools_box(a);
	turn_free(a->turn);
	a->turn = turn_start(&a->env, a->sess, &spec, &ui_turn_cbs, a, &err);
	if (a->turn == NULL) {
		ui_note(a, 1, "not sent: %s", err);
		free(err);
		return -1;
	}
	a->follow = 1;
	pane_transcript_sync(a);
	a->dirty |= DIRTY_TRANSCRIPT | DIRTY_STATUS | DIRTY_INPUT;
	return 0;
}

/* Load the session's path again after the messages from i on were dropped in memory
 * only (a regeneration refused before it was sent). */
static int
ui_reload_current(struct app *a, size_t i)
{
	int64_t mark[2];

	paging_marks(a->sess, i, mark);
	if (session_refresh(a->sess, i) != 0)
		return -1;
	paging_reloaded(a, i, mark);
	return 0;
}

/* Send a message (never a command) and start its reply; the text goes back into the input
 * when the parameters are refused, so nothing typed is lost. */
static void
ui_send_message(struct app *a, const char *text, struct provider *p, const char *model)
{
	size_t start;
	struct params params;
	char *err = NULL;
	int summary = a->msg_summary, branched = 0;
	size_t tail = 0;

	if (ui_streaming(a)) {
		ui_note(a, 1, "a reply is still streaming: %s cancels it",
		    keys_hint(KCTX_GLOBAL, ACT_CANCEL));
		ui_attempt_clear(a);
		return;
	}
	if (ui_params(a, ui_model(a, p, model), &params, &err) != 0) {
		ui_note(a, 1, "not sent: %s", err);
		free(err);
		params_free(&params);
		ui_attempt_clear(a);
		if (a->in.ed.text.len == 0 && !summary)
			pane_input_set(&a->in, text);
		a->dirty |= DIRTY_INPUT;
		return;
	}
	params_free(&params);
	persist_before_send(a);
	if (a->sess == NULL)
		a->sess = session_new(a->st, a->prov->name, a->model);
	paging_whole(a);
	if (a->edit_from != 0) {
		/* Edit and resend: the new prompt is an alternative to the edited one, which
		 * stays stored with its replies (the arrows on it go back to them). */
		size_t i;

		for (i = 0; i < a->sess->nmsgs && a->sess->msgs[i].id != a->edit_from; i++)
			;
		if (i < a->sess->nmsgs) {
			session_branch(a->sess, i);
			pane_transcript_reset(a);
		}
		a->edit_from = 0;
		ui_note_drop(a, NOTE_EDITING);
	}
	/* Rounds nobody kept are not the chat's: the prompt goes on from before them, and
	 * they stay its alternative (‹1/2› on the prompt goes back to them). */
	if (a->sess->store != NULL && a->sess->id > 0 &&
	    (tail = session_unpicked_tail(a->sess)) < a->sess->nmsgs) {
		session_branch(a->sess, tail);
		pane_transcript_reset(a);
		branched = 1;
	}
	pane_input_history_add(&a->in, text);
	start = a->sess->nmsgs;
	/* A summary request is natter's own message: the waiting files stay for the next. */
	if (summary)
		session_append_user(a->sess, text);
	else
		session_append_user_files(a->sess, text, a->pend, a->npend);
	if (ui_start_reply(a, p, model) != 0) {
		/* Refused (a file the model cannot take, a history too long for context.policy
		 * refuse): nothing is kept, and the files wait for /detach or another model. */
		session_truncate(a->sess, start);
		if (a->in.ed.text.len == 0)
			pane_input_set(&a->in, text);
		/* The rounds it left are the path on screen again. */
		if (branched && store_session_set_head(a->st, a->sess->id, 0) == 0)
			ui_reload_current(a, tail);
		pane_transcript_reset(a);
	} else if (!summary) {
		attach_pending_clear(a);
	}
	ui_reload_sessions(a);
}

/* Send what the user wrote: a slash command, or a message that starts a reply. */
void
ui_send(struct app *a, const char *text)
{
	const char *t = text;

	while (*t == ' ' || *t == '\n' || *t == '\t')
		t++;
	/* Files alone make a message. */
	if (*t == '\0' && a->npend == 0)
		return;
	if (t[0] == '/' && slash_run(a, t))
		return;
	/* @path words add their files; one that cannot be read keeps the draft unsent. */
	if (attach_scan(a, text) != 0) {
		if (a->in.ed.text.len == 0)
			pane_input_set(&a->in, text);
		a->dirty |= DIRTY_INPUT;
		return;
	}
	if (a->cmp.n > 0) {
		persist_before_send(a);
		pane_compare_send(a, text);
		return;
	}
	ui_attempt_clear(a);
	ui_send_message(a, text, a->prov, a->model);
}

/* Send a rendered template: its system prompt, model and parameters apply to this message
 * only. Takes ownership of system and user. */
void
ui_send_template(struct app *a, const struct template *t, char *system, char *user)
{
	struct provider *p = a->prov;
	const char *model = a->model;
	struct model *m = NULL;

	ui_attempt_clear(a);
	if (a->cmp.n > 0) {
		ui_note(a, 1, "templates send to one model: /compare off first");
		free(system);
		free(user);
		return;
	}
	if (t->model != NULL && *t->model) {
		if ((m = config_model(a->cfg, t->model)) == NULL || m->provider == NULL) {
			ui_note(a, 1, "template %s: model %s is not available", t->name, t->model);
			free(system);
			free(user);
			return;
		}
		p = m->provider;
		model = m->id;
	}
	a->msg_system = system;
	params_copy(&a->msg_params, &t->params);
	ui_send_message(a, user, p, model);
	free(user);
}

/* Ask the current model for a summary of the conversation; the reply is marked as one. */
void
ui_summarize(struct app *a)
{
	if (a->sess == NULL || a->sess->nmsgs == 0) {
		ui_note(a, 1, "nothing to summarise yet");
		return;
	}
	if (a->cmp.n > 0) {
		ui_note(a, 1, "a summary comes from one model: /pick N or /compare off first");
		return;
	}
	ui_attempt_clear(a);
	a->msg_summary = 1;
	ui_send_message(a, "Summarise our conversation so far in a few short paragraphs. Keep "
	    "names, numbers, decisions and open questions, so that it can go on from the summary "
	    "alone.", a->prov, a->model);
}

/* Regenerate the last reply: delete it and ask again. */
void
ui_regenerate(struct app *a)
{
	size_t n;
	int branched = 0;

	if (ui_busy(a)) {
		ui_note(a, 1, "a reply is streaming: %s cancels it first",
		    keys_hint(KCTX_GLOBAL, ACT_CANCEL));
		return;
	}
	if (a->cmp.n > 0) {
		/* Comparing: the selected reply's column answers again alone. */
		pane_compare_retry_selected(a);
		return;
	}
	paging_whole(a);
	if (a->sess == NULL || (n = a->sess->nmsgs) == 0) {
		ui_note(a, 1, "nothing to regenerate yet");
		return;
	}
	/* A kept reply shown alone regenerates as any other; a round side by side does not. */
	if (a->sess->msgs[n - 1].compare_group != 0 && (a->sess->msgs[n - 1].role == ROLE_USER ||
	    a->sess->msgs[n - 1].pick < 0 || a->sess->msgs[n - 1].flat ||
	    session_group_wide(a->sess, n - 1))) {
		ui_note(a, 1, "the last replies are a comparison round side by side: send a new "
		    "prompt instead");
		return;
	}
	if (a->sess->msgs[n - 1].role == ROLE_ASSISTANT) {
		if (n < 2 || a->st == NULL || a->sess->id == 0) {
			ui_note(a, 1, "cannot regenerate: the session is not stored");
			return;
		}
		/* The reply stays stored as an alternative of the new one. */
		session_branch(a->sess, n - 1);
		pane_transcript_reset(a);
		branched = 1;
	}
	ui_attempt_clear(a);
	if (ui_start_reply(a, a->prov, a->model) == 0)
		ui_note(a, 0, "regenerating the last reply (%s/%s on it show the others)",
		    keys_hint(KCTX_TRANSCRIPT, ACT_ALT_PREV), keys_hint(KCTX_TRANSCRIPT, ACT_ALT_NEXT));
	else if (branched)
		ui_reload_current(a, n - 1);  /* refused: the path on screen is the stored one */
}

/* The message the alternative keys act on: the selected one, else the last one that has
 * alternatives; -1 when none. */
static long
ui_alt_target(struct app *a)
{
	long i;

	if (a->sess == NULL)
		return -1;
	if (a->sel_msg >= 0 && a->sel_msg < (long)a->sess->nmsgs)
		return a->sel_msg;
	for (i = (long)a->sess->nmsgs - 1; i >= 0; i--)
		if (a->sess->msgs[i].nalt > 1)
			return i;
	return -1;
}

/* Show the alternative before (dir -1) or after (1) the selected message. */
void
ui_switch_alt(struct app *a, int dir)
{
	long i = ui_alt_target(a);
	int64_t mark[2];
	size_t from, first;
	int rc;

	if (ui_busy(a)) {
		ui_note(a, 1, "a reply is streaming: %s cancels it first",
		    keys_hint(KCTX_GLOBAL, ACT_CANCEL));
		return;
	}
	if (i < 0 || a->sess->msgs[i].nalt < 2) {
		ui_note(a, 1, "no alternatives here: %s or %s on a message makes one",
		    keys_hint(KCTX_TRANSCRIPT, ACT_REGENERATE), keys_hint(KCTX_TRANSCRIPT,
		    ACT_EDIT_RESEND));
		return;
	}
	if (a->cmp.n > 0 && (i < (long)a->cmp.from || !session_group_wide(a->sess, (size_t)i))) {
		ui_note(a, 1, "comparing: only a column's own replies (a retry) switch here; /pick N "
		    "or /compare off first");
		return;
	}
	/* A round side by side is loaded again from its prompt (session_switch). */
	from = (size_t)i;
	if (session_group_wide(a->sess, (size_t)i))
		from = session_group_span(a->sess, (size_t)i, &first) > 0 && first > 0 ? first - 1 : 0;
	paging_marks(a->sess, from, mark);
	rc = session_switch(a->sess, (size_t)i, dir);
	if (rc < 0) {
		ui_note(a, 1, "cannot switch: %s", a->sess->err);
		return;
	}
	if (rc > 0) {
		ui_note(a, 0, "alternative %d of %d is the %s", a->sess->msgs[i].alt,
		    a->sess->msgs[i].nalt, dir < 0 ? "first" : "last");
		return;
	}
	/* The path from the changed message on was loaded again; what is before it stays. */
	paging_reloaded(a, from, mark);
	if (i >= (long)a->sess->nmsgs) {
		ui_note(a, 1, "cannot switch: the session changed meanwhile");
		return;
	}
	a->sel_msg = i;
	ui_note(a, 0, "alternative %d of %d", a->sess->msgs[i].alt, a->sess->msgs[i].nalt);
	/* Onto rounds nobody kept: comparing them again, so that /pick keeps one. */
	if (a->cmp.n == 0)
		pane_compare_restore(a);
	a->dirty |= DIRTY_ALL;
}

/* Start a new session from message i (-1: the last one), sharing the history up to it. */
void
ui_fork(struct app *a, long i)
{
	int64_t id;
	size_t pos;

	if (ui_busy(a)) {
		ui_note(a, 1, "a reply is streaming: %s cancels it first",
		    keys_hint(KCTX_GLOBAL, ACT_CANCEL));
		return;
	}
	if (a->sess == NULL || a->sess->nmsgs == 0) {
		ui_note(a, 1, "nothing to fork yet");
		return;
	}
	if (i < 0 || i >= (long)a->sess->nmsgs)
		i = (long)a->sess->nmsgs - 1;
	if ((id = session_fork(a->sess, (size_t)i)) < 0) {
		ui_note(a, 1, "cannot fork: %s", a->sess->err);
		return;
	}
	/* Its number on the whole path, counting the messages not loaded. */
	pos = session_position(a->sess, (size_t)i);
	ui_open_session(a, id);
	if (a->sess != NULL && a->sess->id == id)
		ui_note(a, 0, "forked: a new session sharing the history up to message %zu",
		    pos + 1);
	ui_reload_sessions(a);
}

/* Copy text with OSC 52 and say what natter did: sent it to the terminal, or (in tmux,
 * when tmux's buffer shows it arrived) copied it. */
int
ui_copy(struct app *a, const char *what, const char *text, size_t n)
{
	char *err = NULL, *why = NULL;
	int how = clip_copy(text, n, &why, &err);

	if (how < 0) {
		ui_note(a, 1, "%s", err);
		free(err);
		return -1;
	}
	if (how == CLIP_TMUX_KEPT)
		ui_note(a, 0, "copied %s (%zu bytes) (tmux buffer)", what, n);
	else
		ui_note(a, 0, "sent %s (%zu bytes) to the terminal's clipboard (OSC 52)%s%s", what,
		    n, why != NULL ? "; " : "", why != NULL ? why : "");
	free(why);
	return 0;
}

/* Handle one event from the worker. */
static void
ui_event(struct app *a, struct wevent *ev)
{
	/* /transcribe's fetch (ui/dictate.c), and the embedding of new messages. */
	if (dictate_event(a, ev) || semantic_ix_event(a->six, ev))
		return;
	if (picker_event(a, ev))
		return;
	/* The turns fold the event into the session and call back what changed. */
	if (pane_compare_event(a, ev))
		return;
	turn_event(a->turn, ev);
}

/* Suspend natter like a shell job (Ctrl+Z) and redraw when resumed. */
static void
ui_suspend(struct app *a)
{
	struct sigaction dfl, mine;

	ui_suspend_curses(a);
	memset(&dfl, 0, sizeof dfl);
	dfl.sa_handler = SIG_DFL;
	sigaction(SIGTSTP, &dfl, &mine);
	kill(getpid(), SIGTSTP);
	sigaction(SIGTSTP, &mine, NULL);
	ui_resume_curses(a);
}

/* Cancel the streaming reply, or every reply of a comparison; returns 1 when there was one. */
static int
ui_cancel(struct app *a)
{
	if (pane_compare_cancel(a))
		return 1;
	if (!ui_streaming(a))
		return 0;
	/* Said first: between tool rounds the turn completes inside turn_cancel. */
	ui_note(a, 0, "cancelling: the partial reply is kept");
	a->note_kind = NOTE_CANCELLING;
	turn_cancel(a->turn);
	return 1;
}

/* Move focus to the next (dir 1) or previous (dir -1) pane. */
static void
ui_focus(struct app *a, int dir)
{
	int n = a->sess_visible ? 3 : 2;
	int f = ((int)a->focus + dir + n) % n;

	a->focus = (enum focus)f;
	if (a->focus == FOCUS_TRANSCRIPT && a->sess && a->sel_msg < 0)
		pane_transcript_select(a, 0);
	a->dirty |= DIRTY_ALL;
}

/* Run a global or pane action. */
static void
ui_action(struct app *a, enum action act)
{
	switch (act) {
	case ACT_QUIT:
		a->quit = 1;
		break;
	case ACT_INTERRUPT:
		if (a->overlay != OVERLAY_NONE) {
			a->overlay = OVERLAY_NONE;
			picker_free(a);
			a->dirty |= DIRTY_ALL;
		} else if (!ui_cancel(a)) {
			int64_t now = ui_now_ms();

			if (now - a->last_interrupt < 2000) {
				a->quit = 1;
			} else {
				a->last_interrupt = now;
				ui_note(a, 0, "press %s again to quit (%s quits at once)",
				    keys_hint(KCTX_GLOBAL, ACT_INTERRUPT), keys_hint(KCTX_GLOBAL, ACT_QUIT));
			}
		}
		break;
	case ACT_CANCEL:
	case ACT_CLOSE:
		if (a->overlay != OVERLAY_NONE) {
			a->overlay = OVERLAY_NONE;
			picker_free(a);
			a->dirty |= DIRTY_ALL;
		} else if (!ui_cancel(a) && a->focus != FOCUS_INPUT) {
			a->focus = FOCUS_INPUT;
			a->dirty |= DIRTY_ALL;
		}
		break;
	case ACT_HELP:
		if (a->overlay == OVERLAY_HELP) {
			a->overlay = OVERLAY_NONE;
			picker_free(a);
			a->dirty |= DIRTY_ALL;
		} else {
			overlay_help_open(a, 0);
		}
		break;
	case ACT_PICK_MODEL:
		picker_models_open(a);
		break;
	case ACT_PICK_SESSION:
		picker_sessions_open(a);
		break;
	case ACT_PICK_COMMAND:
		picker_commands_open(a, "");
		break;
	case ACT_REDRAW:
		clearok(curscr, TRUE);
		a->dirty |= DIRTY_ALL;
		break;
	case ACT_SUSPEND:
		ui_suspend(a);
		break;
	case ACT_FOCUS_NEXT:
		ui_focus(a, 1);
		break;
	case ACT_FOCUS_PREV:
		ui_focus(a, -1);
		break;
	case ACT_FOCUS_INPUT:
		a->focus = FOCUS_INPUT;
		a->dirty |= DIRTY_ALL;
		break;
	case ACT_TOGGLE_SESSIONS:
		a->show_sessions = !a->show_sessions;
		a->dirty |= DIRTY_LAYOUT;
		break;
	case ACT_SESSIONS_WIDER:
	case ACT_SESSIONS_NARROWER:
		a->sess_w += act == ACT_SESSIONS_WIDER ? 4 : -4;
		if (a->sess_w < 14)
			a->sess_w = 14;
		if (a->sess_w > a->cols / 2)
			a->sess_w = a->cols / 2;
		a->dirty |= DIRTY_LAYOUT;
		break;
	case ACT_NEW_SESSION:
		ui_new_session(a);
		a->focus = FOCUS_INPUT;
		break;
	case ACT_PAGE_UP:
		pane_transcript_scroll(a, -(a->trans_h > 2 ? a->trans_h - 2 : 1));
		break;
	case ACT_PAGE_DOWN:
		pane_transcript_scroll(a, a->trans_h > 2 ? a->trans_h - 2 : 1);
		break;
	case ACT_SCROLL_UP:
		pane_transcript_scroll(a, -1);
		break;
	case ACT_SCROLL_DOWN:
		pane_transcript_scroll(a, 1);
		break;
	case ACT_SCROLL_TOP:
		pane_transcript_top(a);
		break;
	case ACT_SCROLL_BOTTOM:
		pane_transcript_bottom(a);
		break;
	case ACT_REASONING_ALL: {
		size_t i;

		a->reasoning_all_open = !a->reasoning_all_open;
		for (i = 0; i < a->nviews; i++)
			if (a->views[i].reason_open != a->reasoning_all_open)
				pane_transcript_toggle_reasoning(a, (long)i);
		break;
	}
	case ACT_REASONING_ONE:
		if (!tools_toggle(a, a->sel_msg))
			pane_transcript_toggle_reasoning(a, a->sel_msg);
		break;
	case ACT_REGENERATE:
		ui_regenerate(a);
		break;
	case ACT_MOUSE:
		ui_mouse(a, !a->mouse);
		if (a->mouse)
			ui_note(a, 0, "mouse on: clicks select and open, the wheel scrolls (%s: off, to "
			    "select text natively)", keys_hint(KCTX_GLOBAL, ACT_MOUSE));
		else
			ui_note(a, 0, "mouse off: the terminal's own selection works");
		break;
	case ACT_SEND: {
		char *text = xstrdup(buf_str(&a->in.ed.text));

		if (text[0] != '/' && ui_busy(a)) {
			ui_note(a, 1, "a reply is still streaming: %s cancels it",
			    keys_hint(KCTX_GLOBAL, ACT_CANCEL));
			free(text);
			break;
		}
		pane_input_set(&a->in, "");
		a->dirty |= DIRTY_INPUT;
		ui_send(a, text);
		free(text);
		break;
	}
	case ACT_EDITOR: {
		char *out = NULL, *err = NULL;

		if (editor_run(a, buf_str(&a->in.ed.text), &out, &err) != 0) {
			ui_note(a, 1, "%s", err);
			free(err);
		} else {
			pane_input_set(&a->in, out);
			free(out);
		}
		a->dirty |= DIRTY_ALL;
		break;
	}
	case ACT_COMPLETE:
		if (!attach_complete(a) && !slash_complete(a))
			ui_focus(a, 1);
		break;
	case ACT_SEL_PREV:
	case ACT_SEL_NEXT:
		if (a->overlay == OVERLAY_TEXT) {
			a->over_top += act == ACT_SEL_PREV ? -1 : 1;
			a->dirty |= DIRTY_OVERLAY;
		} else if (a->focus == FOCUS_SESSIONS) {
			pane_sessions_select(a, act == ACT_SEL_PREV ? -1 : 1);
		} else {
			pane_transcript_select(a, act == ACT_SEL_PREV ? -1 : 1);
		}
		break;
	case ACT_OPEN:
		if (a->overlay == OVERLAY_TEXT) {
			a->overlay = OVERLAY_NONE;
			a->dirty |= DIRTY_ALL;
		} else if (a->focus == FOCUS_SESSIONS) {
			pane_sessions_open_selected(a);
		}
		break;
	case ACT_DETAILS:
		if (!tools_toggle(a, a->sel_msg)) {
			a->focus = FOCUS_INPUT;
			a->dirty |= DIRTY_ALL;
		}
		break;
	case ACT_DELETE_SESSION:
		pane_sessions_delete(a);
		break;
	case ACT_PICK:
		pane_compare_pick_selected(a);
		break;
	case ACT_PIN:
		if (a->sess == NULL || a->sel_msg < 0 || a->sel_msg >= (long)a->sess->nmsgs) {
			ui_note(a, 1, "select a message to pin first (%s, then %s/%s)",
			    keys_hint(KCTX_GLOBAL, ACT_FOCUS_NEXT),
			    keys_hint(KCTX_TRANSCRIPT, ACT_SEL_NEXT),
			    keys_hint(KCTX_TRANSCRIPT, ACT_SEL_PREV));
			break;
		}
		if (session_set_pinned(a->sess, (size_t)a->sel_msg,
		    !a->sess->msgs[a->sel_msg].pinned) != 0)
			ui_note(a, 1, "cannot pin: %s", a->sess->err);
		else
			ui_note(a, 0, a->sess->msgs[a->sel_msg].pinned ? "pinned: always sent, whatever "
			    "the context window drops" : "unpinned");
		a->dirty |= DIRTY_TRANSCRIPT | DIRTY_STATUS;
		break;
	case ACT_COPY:
	case ACT_COPY_CODE:
		clip_copy_selected(a, act == ACT_COPY_CODE);
		break;
	case ACT_ALT_PREV:
	case ACT_ALT_NEXT:
		ui_switch_alt(a, act == ACT_ALT_PREV ? -1 : 1);
		break;
	case ACT_FORK:
		if (a->sel_msg < 0) {
			ui_note(a, 1, "select the message to fork from first (%s, then %s/%s)",
			    keys_hint(KCTX_GLOBAL, ACT_FOCUS_NEXT),
			    keys_hint(KCTX_TRANSCRIPT, ACT_SEL_NEXT),
			    keys_hint(KCTX_TRANSCRIPT, ACT_SEL_PREV));
			break;
		}
		ui_fork(a, a->sel_msg);
		break;
	case ACT_EDIT_RESEND:
		if (a->sess && a->sel_msg >= 0 && a->sel_msg < (long)a->sess->nmsgs &&
		    a->sess->msgs[a->sel_msg].role == ROLE_USER) {
			if (ui_busy(a)) {
				ui_note(a, 1, "a reply is streaming: %s cancels it first",
				    keys_hint(KCTX_GLOBAL, ACT_CANCEL));
				break;
			}
			if (a->cmp.n > 0) {
				ui_note(a, 1, "comparison mode: /pick N or /compare off before editing");
				break;
			}
			a->edit_from = a->sess->msgs[a->sel_msg].id;
			pane_input_set(&a->in, buf_str(&a->sess->msgs[a->sel_msg].content));
			/* Its files go again with it, unless /detach says otherwise. */
			attach_pending_edit(a, &a->sess->msgs[a->sel_msg]);
			a->focus = FOCUS_INPUT;
			ui_note(a, 0, "editing: %s resends and replaces the replies after it",
			    keys_hint(KCTX_INPUT, ACT_SEND));
			a->note_kind = NOTE_EDITING;
			a->dirty |= DIRTY_ALL;
		} else {
			ui_note(a, 1, "select one of your messages to edit it");
		}
		break;
	default:
		if (a->focus == FOCUS_INPUT)
			pane_input_action(a, act);
		break;
	}
}

/* A key while a picker (or the help overlay) is open: the field context's keys, PgUp and
 * PgDn page, C-c as everywhere, and anything printable types into the filter. */
static void
ui_key_picker(struct app *a, unsigned k)
{
	enum action act = keys_lookup(KCTX_FIELD, k);
	char u[4];

	if (act != ACT_NONE) {
		if (!picker_action(a, act))
			ui_action(a, act);
	} else if (k == K_PGUP || k == K_PGDN) {
		picker_page(a, k == K_PGUP ? -1 : 1);
	} else if (k == 3) {
		ui_action(a, keys_lookup(KCTX_GLOBAL, k));
	} else if (keyread_printable(k)) {
		picker_insert(a, u, keyread_utf8(k, u));
	}
}

/* A key while the session list's search or rename field has the keys, as for a picker. */
static void
ui_key_sessions_field(struct app *a, unsigned k)
{
	enum action act = keys_lookup(KCTX_FIELD, k);
	char u[4];

	if (act != ACT_NONE) {
		if (!pane_sessions_action(a, act))
			ui_action(a, act);
	} else if (k == K_PGUP || k == K_PGDN) {
		pane_sessions_select(a, k == K_PGUP ? -5 : 5);
	} else if (k == 3) {
		ui_action(a, keys_lookup(KCTX_GLOBAL, k));
	} else if (keyread_printable(k)) {
		pane_sessions_insert(a, u, keyread_utf8(k, u));
	}
}

/* A pasted key: text, never commands, into whatever takes text now (a line break in a
 * one-line field is a space). */
static void
ui_key_pasted(struct app *a, unsigned k)
{
	char u[4];
	size_t n = keyread_printable(k) ? keyread_utf8(k, u) : 0;
	int line = k == K_ENTER || k == '\n' || k == K_TAB;

	if (a->overlay == OVERLAY_PICKER || a->overlay == OVERLAY_HELP) {
		if (line)
			picker_insert(a, " ", 1);
		else if (n > 0)
			picker_insert(a, u, n);
		return;
	}
	if (pane_sessions_editing(a)) {
		if (line)
			pane_sessions_insert(a, " ", 1);
		else if (n > 0)
			pane_sessions_insert(a, u, n);
		return;
	}
	if (k == K_ENTER || k == '\n')
		pane_input_insert(&a->in, "\n", 1);
	else if (k == K_TAB)
		pane_input_insert(&a->in, "\t", 1);
	else if (n > 0)
		pane_input_insert(&a->in, u, n);
	a->dirty |= DIRTY_INPUT;
}

/* Handle one key; more tells whether other keys arrived in the same read (a paste burst). */
static void
ui_key(struct app *a, unsigned k, int more_printable)
{
	enum keyctx ctx;
	enum action act;
	char u[4];

	if (k == K_RESIZE) {
		a->dirty |= DIRTY_LAYOUT;
		return;
	}
	if (k == K_SYNC_YES || k == K_SYNC_NO) {
		term_answer(a, k);
		return;
	}
	if (k == K_FOCUS_IN || k == K_FOCUS_OUT) {
		a->term_focused = k == K_FOCUS_IN;
		return;
	}
	if (k == K_MOUSE) {
		struct termreport_mouse m;

		if (keyread_mouse_next(&m) && a->mouse && !a->in.pasting)
			mouse_event(a, m.button, m.x, m.y, m.press);
		return;
	}
	if (k == K_PASTE_START) {
		a->in.pasting = 1;
		if (a->focus != FOCUS_INPUT && a->overlay == OVERLAY_NONE &&
		    !pane_sessions_editing(a)) {
			a->focus = FOCUS_INPUT;
			a->dirty |= DIRTY_ALL;
		}
		return;
	}
	if (k == K_PASTE_END) {
		a->in.pasting = 0;
		return;
	}
	if (a->overlay == OVERLAY_FORM) {
		/* The form has its own context in the key table; other keys type into a field,
		 * and a pasted line break becomes a space since a field holds one line. */
		size_t n = keyread_printable(k) ? keyread_utf8(k, u) : 0;

		if (a->in.pasting && (k == K_ENTER || k == '\n' || k == K_TAB))
			form_insert(a, " ", 1);
		else if (!a->in.pasting && (act = keys_lookup(KCTX_FORM, k)) != ACT_NONE) {
			if (!form_action(a, act))
				ui_action(a, act);
		} else if (n > 0)
			form_insert(a, u, n);
		return;
	}
	if (a->in.pasting) {
		ui_key_pasted(a, k);
		return;
	}
	if (pane_sessions_confirm(a, k))
		return;  /* the answer to "delete session?" */
	if (a->overlay == OVERLAY_PICKER || a->overlay == OVERLAY_HELP) {
		ui_key_picker(a, k);
		return;
	}
	if (a->overlay == OVERLAY_NONE && pane_sessions_editing(a)) {
		ui_key_sessions_field(a, k);
		return;
	}
	/* A tool call that asks takes its answers first (and a reason typed for a refusal). */
	if (a->overlay == OVERLAY_NONE && tools_key(a, k, &act)) {
		if (act != ACT_NONE)
			ui_action(a, act);
		return;
	}
	ctx = a->overlay != OVERLAY_NONE ? KCTX_OVERLAY : a->focus == FOCUS_INPUT ? KCTX_INPUT :
	    a->focus == FOCUS_TRANSCRIPT ? KCTX_TRANSCRIPT : KCTX_SESSIONS;
	act = keys_lookup(ctx, k);
	if (a->overlay != OVERLAY_NONE) {
		if (act == ACT_NONE) {
			if (k == K_PGUP || k == K_PGDN) {
				a->over_top += k == K_PGUP ? -10 : 10;
				a->dirty |= DIRTY_OVERLAY;
			} else if (k == 3 || k == 17) {
				ui_action(a, keys_lookup(KCTX_GLOBAL, k));
			}
			return;
		}
		ui_action(a, act);
		return;
	}
	if (ctx == KCTX_SESSIONS && act != ACT_NONE && pane_sessions_action(a, act))
		return;
	/* Paste-burst fallback for terminals without bracketed paste: an Enter followed in
	 * the same read by more text was pasted, not typed. */
	if (act == ACT_SEND && more_printable) {
		pane_input_insert(&a->in, "\n", 1);
		a->dirty |= DIRTY_INPUT;
		return;
	}
	if (act != ACT_NONE) {
		ui_action(a, act);
		return;
	}
	if (keyread_printable(k)) {
		if (a->focus != FOCUS_INPUT) {
			a->focus = FOCUS_INPUT;
			a->dirty |= DIRTY_ALL;
		}
		pane_input_insert(&a->in, u, keyread_utf8(k, u));
		a->dirty |= DIRTY_INPUT;
	}
}

/* Handle a signal that arrived through the self-pipe. */
static void
ui_signal(struct app *a, int sig)
{
	switch (sig) {
	case SIGTSTP:
		ui_suspend(a);
		break;
	case SIGCONT:
		clearok(curscr, TRUE);
		a->dirty |= DIRTY_ALL;
		break;
	default:
		a->quit = 1;
		ui_exit_sig = sig;
		break;
	}
}

/* How long poll may sleep: forever unless a frame, a flush or a note is due. */
static int
ui_timeout(struct app *a)
{
	int64_t now = ui_now_ms(), t = -1;

	if (a->dirty) {
		t = a->last_draw + UI_FRAME_MS - now;
		if (t < 0)
			t = 0;
	}
	if (a->sess != NULL && a->sess->dirty) {
		int64_t f = a->sess->flush_ms > 0 ? a->sess->flush_ms : SESSION_FLUSH_MS;

		if (t < 0 || f < t)
			t = f;
	}
	if (a->note != NULL && a->note_until > 0) {
		int64_t d = a->note_until - now;

		if (d <= 0) {
			free(a->note);
			a->note = NULL;
			a->dirty |= DIRTY_STATUS;
			t = 0;
		} else if (t < 0 || d < t) {
			t = d;
		}
	}
	if (paging_counting(a))
		t = 0;
	t = persist_timeout(a, t);
	t = tools_timeout(a, t);
	t = pane_sessions_timeout(a, t);
	/* A tool round waits for a tool or the user, not a stream: no clock to show. */
	if (((ui_streaming(a) && a->turn->t_first == 0 && !tools_waiting(a)) ||
	    pane_compare_waiting(a)) && (t < 0 || t > 500))
		t = 500; /* the elapsed time shown while waiting for a first token */
	if (ui_streaming(a) && a->turn->t_first != 0 && !tools_waiting(a) && (t < 0 || t > 1000))
		t = 1000; /* a stream gone quiet says so (status_draw); only while one runs */
	if (ui_streaming(a) && a->turn->wait_until > now && a->turn->wait_key) {
		/* A key wait counts down in whole seconds: wake when the shown number changes. */
		int64_t d = (a->turn->wait_until - now) % 1000;

		if (t < 0 || d + 1 < t)
			t = d + 1;
	}
	return t > 0x7fffffff ? 0x7fffffff : (int)t;
}

/* Apply the config's key bindings to the table. */
int
ui_apply_bindings(const struct config *c, char **err)
{
	struct keys_entry *e = xcalloc(c->nbindings ? c->nbindings : 1, sizeof *e);
	size_t i;
	int rc;

	for (i = 0; i < c->nbindings; i++) {
		e[i].context = c->bindings[i].context;
		e[i].key = c->bindings[i].key;
		e[i].action = c->bindings[i].action;
		e[i].file = c->bindings[i].file;
		e[i].line = c->bindings[i].line;
		e[i].col = c->bindings[i].col;
	}
	rc = keys_apply(e, c->nbindings, err);
	free(e);
	return rc;
}

/* Show the config's first warning (a literal key others can read) in the status line at
 * start-up, without the file's directory so the warning itself fits; a store that cannot
 * open says so instead. */
static void
ui_config_warnings(struct app *a)
{
	const char *w, *at, *base;

	if (a->cfg->nwarnings == 0 || a->note != NULL)
		return;
	w = a->cfg->warnings[0];
	at = strstr(w, ": warning: ");
	for (base = at != NULL ? at : w; base > w && base[-1] != '/'; base--)
		;
	if (a->cfg->nwarnings > 1)
		ui_note(a, 1, "%s (and %zu more: natter config check)", base,
		    a->cfg->nwarnings - 1);
	else
		ui_note(a, 1, "%s", base);
}

/* Open the session -c or -S asked for (saying in the status line when it cannot), then
 * apply -m over its model. */
static void
ui_open_start(struct app *a, const char *which, const char *model)
{
	int64_t id = 0;
	char *end;

	if (a->st == NULL) {
		ui_note(a, 1, "cannot open session %s: the session store is not open", which);
		return;
	}
	if (strcmp(which, "last") == 0) {
		if (a->nrows > 0)
			id = a->rows[0].id;
	} else {
		id = (int64_t)strtoll(which, &end, 10);
		if (*end != '\0')
			id = 0;
	}
	if (id <= 0 || store_session_exists(a->st, id) != 1) {
		ui_note(a, 1, strcmp(which, "last") == 0 ? "there is no stored session yet" :
		    "no session %s (natter sessions lists them)", which);
		return;
	}
	ui_open_session(a, id);
	if (model != NULL)
		ui_set_model(a, model);
}

/* Print the interface's usage. */
static void
ui_usage(FILE *f)
{
	fputs("usage: natter [chat] [-m MODEL] [-p PROVIDER] [-c | -S ID] [--config FILE] "
	    "[--theme NAME]\n", f);
}

/* What the command line asked of the interface. */
struct ui_opts {
	const char *model, *prov, *conf, *sess;
	char *theme;
	const char *theme_from;  /* "--theme" or "NATTER_THEME"; NULL: the config file's */
	struct buf errs;         /* config errors to show once the screen is up */
};

/* Parse the interface's options; -1 to go on, else the exit status. */
static int
ui_args(int argc, char **argv, struct ui_opts *o)
{
	int i;

	for (i = 1; i < argc; i++) {
		if ((strcmp(argv[i], "-m") == 0 || strcmp(argv[i], "--model") == 0) && i + 1 < argc)
			o->model = argv[++i];
		else if ((strcmp(argv[i], "-p") == 0 || strcmp(argv[i], "--provider") == 0) &&
		    i + 1 < argc)
			o->prov = argv[++i];
		else if (strcmp(argv[i], "--config") == 0 && i + 1 < argc)
			o->conf = argv[++i];
		else if (strcmp(argv[i], "-c") == 0 || strcmp(argv[i], "--continue") == 0)
			o->sess = "last";
		else if ((strcmp(argv[i], "-S") == 0 || strcmp(argv[i], "--session") == 0) &&
		    i + 1 < argc)
			o->sess = argv[++i];
		else if (strcmp(argv[i], "--theme") == 0 && i + 1 < argc) {
			free(o->theme);
			o->theme = xstrdup(argv[++i]);
			o->theme_from = "--theme";
		}
		else {
			fprintf(stderr, "natter: %s '%s'\n", argv[i][0] == '-' ?
			    "unknown option (or one missing its value)" : "unknown command", argv[i]);
			ui_usage(stderr);
			free(o->theme);
			return EXIT_USAGE;
		}
	}
	if (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO)) {
		fputs("natter: the interface needs a terminal; for pipes use natter ask\n", stderr);
		free(o->theme);
		return EXIT_USAGE;
	}
	return -1;
}

/* Load the config, the key bindings and the theme; -1 to go on, else the exit status. */
static int
ui_init_config(struct app *a, struct ui_opts *o)
{
	const char *nc;
	char *err = NULL;

	memset(a, 0, sizeof *a);
	setlocale(LC_ALL, "");
	/* Wide characters need a UTF-8 locale; fall back to C.UTF-8 when the user has none. */
	if (strcmp(nl_langinfo(CODESET), "UTF-8") != 0)
		setlocale(LC_CTYPE, "C.UTF-8");
	keys_init();
	if (o->conf != NULL)
		setenv("NATTER_CONFIG", o->conf, 1);
	{
		struct config_errors errs = { NULL, 0 };
		size_t k;

		/* A broken config must not cost the user their sessions: start with what is sound
		 * (config_load leaves out what has errors) and show what is wrong once the
		 * screen is up. */
		a->cfg = config_load(NULL, 0, &errs);
		config_share_pools(a->cfg, NULL);
		for (k = 0; k < errs.n && k < UI_CONF_ERRS; k++)
			buf_printf(&o->errs, "%s\n", errs.v[k]);
		if (errs.n > UI_CONF_ERRS)
			buf_printf(&o->errs, "and %zu more\n", errs.n - UI_CONF_ERRS);
		config_errors_free(&errs);
		if (ui_apply_bindings(a->cfg, &err) != 0) {
			buf_printf(&o->errs, "%s\n", err);
			free(err);
			err = NULL;
			keys_init();
		}
	}
	if (o->theme == NULL && getenv("NATTER_THEME") != NULL && *getenv("NATTER_THEME")) {
		o->theme = xstrdup(getenv("NATTER_THEME"));
		o->theme_from = "NATTER_THEME";
	}
	if (o->theme == NULL && a->cfg->theme != NULL)
		o->theme = xstrdup(a->cfg->theme);
	if (theme_load(&a->theme, o->theme, &err) != 0 && o->theme_from != NULL) {
		/* A theme asked for on the command line (or in the environment) is a usage
		 * error, said before the screen is taken. */
		fprintf(stderr, "natter: %s %s: %s\n", o->theme_from, o->theme, err);
		free(err);
		free(o->theme);
		buf_free(&o->errs);
		config_free(a->cfg);
		keys_free();
		return EXIT_USAGE;
	} else if (err != NULL) {
		/* The config file's theme is a config mistake: say so and use the default. */
		buf_printf(&o->errs, "%s\n", err);
		free(err);
		err = NULL;
		if (theme_load(&a->theme, NULL, &err) != 0) {
			fprintf(stderr, "natter: %s\n", err);
			free(err);
			free(o->theme);
			buf_free(&o->errs);
			config_free(a->cfg);
			keys_free();
			return EXIT_CONFIG;
		}
	}
	nc = getenv("NO_COLOR");
	a->use_color = !(nc != NULL && *nc);
	if (!a->use_color || (o->theme && strcmp(o->theme, "mono") == 0))
		theme_mono(&a->theme);
	free(o->theme);
	o->theme = NULL;
	return -1;
}

/* The provider and model the interface starts with: -p, -m, the environment, the
 * config's default; -1 to go on, else the exit status. */
static int
ui_init_model(struct app *a, struct ui_opts *o)
{
	/* Providers and the model; the network and the store come after the first frame. */
	a->provs = a->cfg->providers;
	a->nprovs = a->cfg->nproviders;
	a->prov = ui_provider(a, "simulated");
	a->model = xstrdup("simulated");
	if (a->cfg->default_model != NULL && *a->cfg->default_model) {
		struct model *m = config_model(a->cfg, a->cfg->default_model);

		if (m != NULL && m->provider != NULL) {
			a->prov = m->provider;
			free(a->model);
			a->model = xstrdup(m->id);
		}
	}
	if (a->prov == NULL && a->nprovs > 0)
		a->prov = a->provs[0];
	if (o->prov == NULL && (o->prov = getenv("NATTER_PROVIDER")) != NULL && !*o->prov)
		o->prov = NULL;
	if (o->model == NULL && (o->model = getenv("NATTER_MODEL")) != NULL && !*o->model)
		o->model = NULL;
	if (o->prov != NULL) {
		struct provider *p = ui_provider(a, o->prov);

		if (p == NULL) {
			fprintf(stderr, "natter: unknown provider '%s'\n", o->prov);
			buf_free(&o->errs);
			config_free(a->cfg);
			free(a->model);
			keys_free();
			return EXIT_USAGE;
		}
		a->prov = p;
	}
	if (o->model != NULL) {
		/* -m takes what /model takes; with -p the provider is fixed and -m is its id. */
		const char *model = o->model;
		char *dup;

		if (o->prov == NULL) {
			char *why = NULL;
			struct provider *p = ui_model_resolve(a, o->model, &model, &why);

			if (p == NULL) {
				fprintf(stderr, "natter: %s\n", why);
				free(why);
				buf_free(&o->errs);
				config_free(a->cfg);
				free(a->model);
				keys_free();
				return EXIT_USAGE;
			}
			a->prov = p;
		}
		dup = xstrdup(model);
		free(a->model);
		a->model = dup;
	}

	return -1;
}

/* Take over the terminal and draw the first frame; -1 to go on, else the exit status. */
static int
ui_init_terminal(struct app *a)
{
	a->follow = 1;
	a->sel_msg = -1;
	a->show_sessions = 1;
	a->sess_w = 28;
	a->last_ttft_ms = -1;
	pane_input_init(&a->in);

	if (pipe(ui_sigpipe) != 0) {
		perror("natter: pipe");
		return EXIT_USAGE;
	}
	fcntl(ui_sigpipe[0], F_SETFL, O_NONBLOCK);
	fcntl(ui_sigpipe[1], F_SETFL, O_NONBLOCK);
	fcntl(ui_sigpipe[0], F_SETFD, FD_CLOEXEC);
	fcntl(ui_sigpipe[1], F_SETFD, FD_CLOEXEC);
	if (tcgetattr(STDIN_FILENO, &ui_saved_tio) == 0)
		ui_tio_saved = 1;
	log_set_fatal_hook(ui_restore_terminal);
	ui_signals();

	set_escdelay(25);
	initscr();
	ui_curses_on = 1;
	raw();
	noecho();
	nonl();
	intrflush(stdscr, FALSE);
	keypad(stdscr, TRUE);
	nodelay(stdscr, TRUE);
	keyread_define();
	ui_crash_capture();
	theme_apply(&a->theme, a->use_color);
	ui_mouse(a, a->cfg->mouse);
	notify_init(a);
	ui_raw_write("\033[?2004h");
	ui_layout(a);
	ui_draw(a);
	{
		/* Wall-clock time of the first frame, so a benchmark can compare it with the
		 * moment it started natter (tests/bench/tui.sh). */
		struct timespec ts;

		clock_gettime(CLOCK_REALTIME, &ts);
		log_debug("ui: first frame at %lld.%06ld", (long long)ts.tv_sec,
		    (long)(ts.tv_nsec / 1000));
	}

	return -1;
}

/* After the first frame: the store, the worker, the session and the config's errors. */
static void
ui_init_backend(struct app *a, struct ui_opts *o)
{
	/* First frame is up: now the slower parts. */
	term_setup(a);
	term_query(a);
	persist_start(a);
	worker_global_init();
	a->w = worker_start();
	a->env.cfg = a->cfg;
	a->env.w = a->w;
	a->env.now_ms = ui_now_ms;
	a->sess = session_new(a->st, a->prov->name, a->model);
	tools_start(a);
	ui_reload_sessions(a);
	if (o->sess != NULL)
		ui_open_start(a, o->sess, o->model);
	pane_transcript_reset(a);
	a->dirty |= DIRTY_ALL;
	if (o->errs.len > 0) {
		if (a->cfg->path == NULL)
			buf_puts(&o->errs, "\nnatter started with the default configuration; fix "
			    "the file and restart (natter config check lists every error).");
		else
			buf_puts(&o->errs, "\nnatter started without what these errors are in; the "
			    "rest of the file applies. Fix it and restart (natter config check "
			    "lists every error).");
		{
			char *title = xasprintf(" configuration errors (%s closes) ",
			    keys_hint(KCTX_OVERLAY, ACT_CLOSE));

			overlay_text_open(a, title, o->errs.data);
			free(title);
		}
	}
	buf_free(&o->errs);
	ui_config_warnings(a);

}

/* The event loop: keys, worker events and signals until the user quits. */
static void
ui_loop(struct app *a)
{
	struct pollfd pfd[3 + UI_TOOL_FDS];
	unsigned *keys;
	size_t nt;
	int i;

	keys = xmalloc(UI_MAXKEYS * sizeof *keys);
	pfd[0].fd = STDIN_FILENO;
	pfd[0].events = POLLIN;
	pfd[1].fd = worker_fd(a->w);
	pfd[1].events = POLLIN;
	pfd[2].fd = ui_sigpipe[0];
	pfd[2].events = POLLIN;
	while (!a->quit) {
		int64_t now = ui_now_ms();
		int timeout, rc;

		if (a->dirty && (!ui_busy(a) || now - a->last_draw >= UI_FRAME_MS))
			ui_draw(a);
		/* Once the frame showing a reply's end is up, index it for search. */
		if (a->index_due && !a->dirty && !ui_busy(a))
			persist_index(a);
		timeout = ui_timeout(a);
		/* The MCP servers' pipes come after the three; the set changes as they do. */
		nt = tools_pollfds(a, pfd + 3, UI_TOOL_FDS);
		if (nt > UI_TOOL_FDS)
			nt = UI_TOOL_FDS;
		rc = poll(pfd, 3 + nt, timeout);
		if (rc < 0 && errno != EINTR)
			break;
		if (rc == 0 && ui_streaming(a))
			a->dirty |= DIRTY_STATUS;
		if (rc == 0 && pane_compare_waiting(a))
			a->dirty |= DIRTY_COMPARE | DIRTY_STATUS;
		/* Nothing came: the next step of a count, keys always before it. */
		if (rc == 0 && paging_counting(a))
			paging_count_step(a);
		if (rc < 0 || (pfd[0].revents & (POLLIN | POLLHUP | POLLERR))) {
			size_t n = keyread_all(keys, UI_MAXKEYS), k;
			int64_t tk = ui_now_us();

			for (k = 0; k < n && !a->quit; k++) {
				int more = 0;

				if (k + 1 < n && keyread_printable(keys[k + 1]))
					more = 1;
				ui_key(a, keys[k], more);
			}
			if ((pfd[0].revents & (POLLHUP | POLLERR)) && n == 0)
				a->quit = 1;
			if (n > 0) {
				if (a->dirty)
					ui_draw(a);
				log_debug("ui: %zu keys handled and drawn in %ld us", n,
				    (long)(ui_now_us() - tk));
			}
		}
		if (rc > 0 && (pfd[1].revents & POLLIN)) {
			struct wevent *ev;

			while ((ev = worker_next(a->w)) != NULL) {
				ui_event(a, ev);
				wevent_free(ev);
			}
		}
		if (rc > 0 && (pfd[2].revents & POLLIN)) {
			unsigned char sig[16];
			ssize_t got = read(ui_sigpipe[0], sig, sizeof sig);

			for (i = 0; i < (int)got; i++)
				ui_signal(a, sig[i]);
		}
		tools_process(a, pfd + 3, rc > 0 ? nt : 0);
		tools_tick(a);
		pane_sessions_tick(a, 0);
		if (a->sess != NULL && a->sess->dirty)
			session_reply_flush(a->sess);
		persist_tick(a);
		/* Idle: the messages stored meanwhile get their vectors, a batch at a time. */
		if (a->six != NULL && !ui_busy(a))
			semantic_ix_step(a->six, a->w);
	}
	if (ui_exit_sig == 0) {
		/* A hang-up ends the loop through the terminal; its SIGHUP may still be queued. */
		unsigned char sig[16];
		ssize_t got = read(ui_sigpipe[0], sig, sizeof sig);

		for (i = 0; i < (int)got && ui_exit_sig == 0; i++)
			if (sig[i] != SIGTSTP && sig[i] != SIGCONT)
				ui_exit_sig = sig[i];
	}

	free(keys);
}

/* Put everything back and free it; returns the exit status. */
static int
ui_teardown(struct app *a)
{
	/* Leave cleanly: a streaming reply is kept as cancelled (turn_free closes it). */
	turn_free(a->turn);
	a->turn = NULL;
	pane_compare_free(a);
	dictate_free(a);
	ui_restore_terminal();
	if (ui_exit_sig != SIGHUP && ui_exit_sig != SIGTERM)
		notify_exit_print(a);
	persist_quit(a);
	pane_sessions_tick(a, 1);
	/* The servers go before the worker: a url: server's last request goes through it. */
	tools_free(a);
	semantic_ix_free(a->six, a->w);
	a->six = NULL;
	worker_stop(a->w);
	pane_transcript_free(a);
	picker_free(a);
	overlay_text_free(a);
	form_free(a);
	ui_attempt_clear(a);
	params_free(&a->sess_params);
	if (a->sess)
		session_free(a->sess);
	pane_sessions_free(a);
	if (a->st)
		store_close(a->st);
	free(a->store_err);
	highlight_free_all();
	config_free(a->cfg);
	free(a->model);
	free(a->note);
	buf_free(&a->scratch);
	pane_input_free(&a->in);
	attach_pending_clear(a);
	keys_free();
	close(ui_sigpipe[0]);
	close(ui_sigpipe[1]);
	log_set_fatal_hook(NULL);
	/* Ended by a signal: say so as a shell does (130 for SIGINT), after the partial reply
	 * was stored and the terminal put back above. */
	return ui_exit_sig != 0 ? 128 + ui_exit_sig : EXIT_OK;
}

/* Run the interface until the user quits. */
int
ui_main(int argc, char **argv)
{
	struct app app, *a = &app;
	struct ui_opts o;
	int rc;

	memset(&o, 0, sizeof(o));
	if ((rc = ui_args(argc, argv, &o)) >= 0)
		return rc;
	if ((rc = ui_init_config(a, &o)) >= 0 || (rc = ui_init_model(a, &o)) >= 0 ||
	    (rc = ui_init_terminal(a)) >= 0) {
		buf_free(&o.errs);
		return rc;
	}
	ui_init_backend(a, &o);
	ui_loop(a);
	return ui_teardown(a);
}
