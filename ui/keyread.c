/*
 * Reading the terminal's keys: every key curses has waiting, translated into natter's own
 * codes (keys.h) with the sequences curses does not know defined first (bracketed paste,
 * Shift+Enter, focus reports, the terminal's answer about synchronized output), ESC
 * followed at once by a key read as that key with Alt, and the UTF-8 of a typed
 * character. The loop in ui.c hands the codes to the key table.
 *
 * The mouse is read here too, not by curses: natter asks for SGR reports (CSI ? 1006 h,
 * whatever the terminfo entry says), which carry any cell and tell a release from a
 * press, so the prefix CSI < is defined as a key of its own and the rest of the report is
 * read here and parsed by termreport.c; each report becomes a K_MOUSE key and an event
 * in a small queue the loop takes in the same order (keyread_mouse_next). A terminal that
 * sends the old X10 reports (CSI M and three bytes) anyway is read too.
 */
#include <poll.h>
#include <string.h>
#include <unistd.h>

#include "app.h"

/* Codes given to sequences curses does not know (define_key). */
#define KEYREAD_PASTE_START (KEY_MAX + 101)
#define KEYREAD_PASTE_END (KEY_MAX + 102)
#define KEYREAD_SENTER (KEY_MAX + 103)
#define KEYREAD_SYNC_YES (KEY_MAX + 104)
#define KEYREAD_SYNC_NO (KEY_MAX + 105)
#define KEYREAD_SGR (KEY_MAX + 106)
#define KEYREAD_X10 (KEY_MAX + 107)
#define KEYREAD_FOCUS_IN (KEY_MAX + 108)
#define KEYREAD_FOCUS_OUT (KEY_MAX + 109)

#define KEYREAD_MQ 64  /* mouse events held between reading and handling */

static struct termreport_mouse keyread_mq[KEYREAD_MQ];
static size_t keyread_mq_head, keyread_mq_len;

/* Teach curses the sequences of bracketed paste, Shift+Enter, DECRPM, focus reports and the two
 * mouse reports (replacing the terminfo entry's kmous, so curses never reads them). */
void
keyread_define(void)
{
	define_key("\033[200~", KEYREAD_PASTE_START);
	define_key("\033[201~", KEYREAD_PASTE_END);
	define_key("\033[13;2u", KEYREAD_SENTER);
	define_key("\033[27;2;13~", KEYREAD_SENTER);
	/* DECRPM, the answer to DECRQM for mode 2026: 1 set, 2 reset, 3 permanently set are
	 * a terminal that knows synchronized output; 0 unknown and 4 permanently reset not. */
	define_key("\033[?2026;1$y", KEYREAD_SYNC_YES);
	define_key("\033[?2026;2$y", KEYREAD_SYNC_YES);
	define_key("\033[?2026;3$y", KEYREAD_SYNC_YES);
	define_key("\033[?2026;0$y", KEYREAD_SYNC_NO);
	define_key("\033[?2026;4$y", KEYREAD_SYNC_NO);
	define_key("\033[<", KEYREAD_SGR);
	define_key("\033[M", KEYREAD_X10);
	define_key("\033[I", KEYREAD_FOCUS_IN);
	define_key("\033[O", KEYREAD_FOCUS_OUT);
}

/* The next character of a report that is still arriving: what curses has, else a short
 * wait for more (a report comes in one write, so this almost never waits). -1 when none. */
static int
keyread_more(void)
{
	wint_t ch;
	int r, tries;

	for (tries = 0; tries < 3; tries++) {
		struct pollfd p = { STDIN_FILENO, POLLIN, 0 };

		r = wget_wch(stdscr, &ch);
		if (r == OK)
			return (int)ch;
		if (r == KEY_CODE_YES)
			return -1;
		if (poll(&p, 1, 20) <= 0)
			return -1;
	}
	return -1;
}

/* Queue a mouse event; returns 0, or -1 when the queue is full (the event is lost). */
static int
keyread_mouse_push(const struct termreport_mouse *m)
{
	if (keyread_mq_len == KEYREAD_MQ)
		return -1;
	keyread_mq[(keyread_mq_head + keyread_mq_len++) % KEYREAD_MQ] = *m;
	return 0;
}

/* The oldest mouse event read and not yet handled: 1 and *m, or 0 when none. */
int
keyread_mouse_next(struct termreport_mouse *m)
{
	if (keyread_mq_len == 0)
		return 0;
	*m = keyread_mq[keyread_mq_head];
	keyread_mq_head = (keyread_mq_head + 1) % KEYREAD_MQ;
	keyread_mq_len--;
	return 1;
}

/* Read the rest of a mouse report whose prefix (sgr: CSI <, else CSI M) curses matched;
 * 1 when it was a report, queued. */
static int
keyread_report(int sgr)
{
	struct termreport_mouse m;
	char b[32];
	size_t n = 0;
	int c;

	if (!sgr) {
		int v[3], i;

		for (i = 0; i < 3; i++)
			if ((v[i] = keyread_more()) < 32 || v[i] > 255)
				return 0;
		m.button = v[0] - 32;
		m.x = v[1] - 33;
		m.y = v[2] - 33;
		m.press = (m.button & 3) != 3;
		if (!m.press)
			m.button = 0;
		return keyread_mouse_push(&m) == 0;
	}
	while (n < sizeof b && (c = keyread_more()) >= 0) {
		b[n++] = (char)c;
		if (c == 'M' || c == 'm')
			break;
	}
	if (termreport_mouse(b, n, &m) != 0)
		return 0;
	return keyread_mouse_push(&m) == 0;
}

/* Translate a curses key code into natter's own code. */
static unsigned
keyread_code(int code)
{
	const char *name;

	switch (code) {
	case KEY_UP: return K_UP;
	case KEY_DOWN: return K_DOWN;
	case KEY_LEFT: return K_LEFT;
	case KEY_RIGHT: return K_RIGHT;
	case KEY_HOME: return K_HOME;
	case KEY_END: return K_END;
	case KEY_PPAGE: return K_PGUP;
	case KEY_NPAGE: return K_PGDN;
	case KEY_IC: return K_INSERT;
	case KEY_DC: return K_DELETE;
	case KEY_BACKSPACE: return K_BACKSPACE;
	case KEY_BTAB: return K_BTAB;
	case KEY_ENTER: return K_ENTER;
	case KEY_RESIZE: return K_RESIZE;
	case KEYREAD_PASTE_START: return K_PASTE_START;
	case KEYREAD_PASTE_END: return K_PASTE_END;
	case KEYREAD_SENTER: return K_SENTER;
	case KEYREAD_SYNC_YES: return K_SYNC_YES;
	case KEYREAD_SYNC_NO: return K_SYNC_NO;
	case KEYREAD_FOCUS_IN: return K_FOCUS_IN;
	case KEYREAD_FOCUS_OUT: return K_FOCUS_OUT;
	default: break;
	}
	if (code >= KEY_F(1) && code <= KEY_F(24))
		return K_F0 + (unsigned)(code - KEY_F(0));
	/* Modified arrows come as extended capabilities named kUP3, kDN5, ... */
	name = keyname(code);
	if (name != NULL) {
		if (strcmp(name, "kUP3") == 0)
			return K_UP | K_META;
		if (strcmp(name, "kDN3") == 0)
			return K_DOWN | K_META;
		/* Alt+Left/Right (kLFT3) and Ctrl+Left/Right (kLFT5) both move by word. */
		if (strcmp(name, "kLFT3") == 0 || strcmp(name, "kLFT5") == 0)
			return K_LEFT | K_META;
		if (strcmp(name, "kRIT3") == 0 || strcmp(name, "kRIT5") == 0)
			return K_RIGHT | K_META;
		if (strcmp(name, "kHOM5") == 0)
			return K_HOME;
		if (strcmp(name, "kEND5") == 0)
			return K_END;
	}
	return 0;
}

/* Read every key waiting on the terminal into keys; returns how many. */
size_t
keyread_all(unsigned *keys, size_t max)
{
	size_t n = 0;
	wint_t ch;
	int r;

	while (n < max && (r = wget_wch(stdscr, &ch)) != ERR) {
		if (r == KEY_CODE_YES && (ch == KEYREAD_SGR || ch == KEYREAD_X10)) {
			if (keyread_report(ch == KEYREAD_SGR))
				keys[n++] = K_MOUSE;
			continue;
		}
		if (r == KEY_CODE_YES) {
			unsigned k = keyread_code((int)ch);

			if (k != 0)
				keys[n++] = k;
			continue;
		}
		if (ch == 127)
			ch = (wint_t)K_BACKSPACE;
		keys[n++] = (unsigned)ch;
	}
	/* ESC followed at once by another key is that key with Alt held. */
	{
		size_t i, j = 0;

		for (i = 0; i < n; i++) {
			if (keys[i] == K_ESC && i + 1 < n && keys[i + 1] != K_ESC &&
			    keys[i + 1] != K_PASTE_START && !(keys[i + 1] & K_META)) {
				keys[j++] = keys[i + 1] | K_META;
				i++;
			} else {
				keys[j++] = keys[i];
			}
		}
		n = j;
	}
	return n;
}

/* UTF-8 encode a codepoint; returns the byte count. */
size_t
keyread_utf8(unsigned cp, char out[4])
{
	if (cp < 0x80) {
		out[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		out[0] = (char)(0xc0 | (cp >> 6));
		out[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		out[0] = (char)(0xe0 | (cp >> 12));
		out[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		out[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	out[0] = (char)(0xf0 | (cp >> 18));
	out[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
	out[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
	out[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}

/* Is k a character that can be typed into the draft? */
int
keyread_printable(unsigned k)
{
	return k >= 0x20 && k != 0x7f && k < 0x110000 && !(k >= 0x80 && k < 0xa0);
}
