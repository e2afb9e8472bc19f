/*
 * What a mouse report does (keyread.c reads them, SGR 1006, only while the mouse is on:
 * off by default and with F5, so that the terminal's own selection works). A press of the
 * left button focuses the pane under it and selects what it points at: a session (a click
 * on the selected one opens it), a message, a picker row (a click on the selected one
 * picks it; outside the picker closes it); a click on a collapsed block's line (the
 * "thinking" line of a reply, a tool call) opens or closes it. The wheel scrolls the pane
 * under the pointer. Releases, drags and the other buttons do nothing.
 */
#include "app.h"

/* Is screen cell (y, x) in window w? Its cell in the window goes to *wy, *wx. */
static int
mouse_in(WINDOW *w, int y, int x, int *wy, int *wx)
{
	int by, bx, h, wd;

	if (w == NULL)
		return 0;
	getbegyx(w, by, bx);
	getmaxyx(w, h, wd);
	if (y < by || y >= by + h || x < bx || x >= bx + wd)
		return 0;
	*wy = y - by;
	*wx = x - bx;
	return 1;
}

/* A press in the transcript: focus it, select the message under the pointer, and open or
 * close the block of the line clicked. */
static void
mouse_transcript(struct app *a, int wy, int wx)
{
	long line, i = pane_transcript_at(a, wy, wx, &line);
	const struct session_msg *m;

	if (a->focus != FOCUS_TRANSCRIPT) {
		a->focus = FOCUS_TRANSCRIPT;
		a->dirty |= DIRTY_ALL;
	}
	if (i < 0)
		return;
	a->sel_msg = i;
	a->dirty |= DIRTY_TRANSCRIPT | DIRTY_COMPARE;
	m = &a->sess->msgs[i];
	if (m->role == ROLE_TOOL_CALL) {
		if (line == 0)
			tools_toggle(a, i);
	} else if (line == 1 && m->reasoning.len > 0) {
		pane_transcript_toggle_reasoning(a, i);
	}
}

/* Handle one mouse report at screen cell (x, y). */
void
mouse_event(struct app *a, int button, int x, int y, int press)
{
	int wy, wx, b = button & ~(4 | 8 | 16);  /* Shift, Alt and Control held */

	if (!press || (b & 32) || (b != 0 && b != 64 && b != 65))
		return;
	if (a->overlay == OVERLAY_HELP || a->overlay == OVERLAY_PICKER) {
		picker_click(a, y, x, b);
		return;
	}
	if (a->overlay == OVERLAY_TEXT) {
		if (b != 0) {
			a->over_top += b == 64 ? -3 : 3;
			a->dirty |= DIRTY_OVERLAY;
		}
		return;
	}
	if (a->overlay != OVERLAY_NONE)
		return;
	if (pane_sessions_click(a, y, x, b))
		return;
	if (mouse_in(a->wtrans, y, x, &wy, &wx)) {
		if (b == 0)
			mouse_transcript(a, wy, wx);
		else
			pane_transcript_scroll(a, b == 64 ? -3 : 3);
		return;
	}
	if (mouse_in(a->winput, y, x, &wy, &wx) && b == 0 && a->focus != FOCUS_INPUT) {
		a->focus = FOCUS_INPUT;
		a->dirty |= DIRTY_ALL;
	} else if (b != 0) {
		/* The wheel anywhere else scrolls the transcript, as it did before clicks. */
		pane_transcript_scroll(a, b == 64 ? -3 : 3);
	}
}
