/*
 * Reading the terminal's keys: every key curses has waiting, translated into natter's own
 * codes (keys.h) with the sequences curses does not know defined first (bracketed paste,
 * Shift+Enter, the terminal's answer about synchronized output), ESC followed at once by a key read as that key with Alt, and the UTF-8 of
 * a typed character. The loop in ui.c hands the codes to the key table.
 */
#include <string.h>

#include "app.h"

/* Codes given to sequences curses does not know (define_key). */
#define KEYREAD_PASTE_START (KEY_MAX + 101)
#define KEYREAD_PASTE_END (KEY_MAX + 102)
#define KEYREAD_SENTER (KEY_MAX + 103)
#define KEYREAD_SYNC_YES (KEY_MAX + 104)
#define KEYREAD_SYNC_NO (KEY_MAX + 105)

/* Teach curses the sequences of bracketed paste and Shift+Enter. */
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
	case KEY_MOUSE: return K_MOUSE;
	case KEYREAD_PASTE_START: return K_PASTE_START;
	case KEYREAD_PASTE_END: return K_PASTE_END;
	case KEYREAD_SENTER: return K_SENTER;
	case KEYREAD_SYNC_YES: return K_SYNC_YES;
	case KEYREAD_SYNC_NO: return K_SYNC_NO;
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
