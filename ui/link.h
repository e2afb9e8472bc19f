/*
 * Links as terminal hyperlinks (OSC 8) and the other terminal features a frame uses:
 * synchronized output (DEC private mode 2026) so that no terminal shows half a frame.
 * A link's address comes from the provider, so it is made safe before any terminal sees
 * it: printable ASCII only (the rest percent-encoded), a known scheme, a bounded length.
 * Curses draws the cells; once a frame is out, the link runs it drew are written again
 * over themselves inside OSC 8 (cursor and attributes saved and restored), so curses'
 * idea of the screen stays true.
 */
#ifndef NATTER_LINK_H
#define NATTER_LINK_H

#include <stddef.h>

#include "buf.h"

#define LINK_MAX_URL 2048

/* Make a link's address safe for OSC 8 into out: http, https, ftp and mailto (www. gets
 * http://, an e-mail address mailto:), bytes outside printable ASCII percent-encoded.
 * Returns 0, or -1 (out empty) for anything else: a relative or unknown address, a
 * control character, one longer than LINK_MAX_URL. */
int link_clean(const char *s, size_t n, struct buf *out);

/* Whether to use hyperlinks, from the configuration's "auto", "true" or "false" and the
 * environment: auto trusts terminals known to take OSC 8 (TERM_PROGRAM, VTE_VERSION,
 * KITTY_WINDOW_ID, WT_SESSION, tmux 3.4 or later ...). */
int link_hyperlinks_wanted(const char *mode);

/* Forget the link runs recorded for the last frame. */
void link_frame_reset(void);
/* Record a link run drawn at screen row y, column x: the text as drawn (sanitized and cut
 * to maxw columns, maxw < 0 for all) with the role and attributes it was drawn in. */
void link_note(int y, int x, const char *text, size_t n, int maxw, int role, unsigned attrs,
    const char *url, size_t urllen);
/* Append the OSC 8 rewrite of every recorded run to out (nothing when there is none). */
void link_frame_write(struct buf *out);
/* How many runs are recorded (tests). */
size_t link_frame_count(void);

#endif
