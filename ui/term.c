/*
 * What a frame tells the terminal besides its cells. With synchronized output (DEC private
 * mode 2026) each frame goes out between CSI ? 2026 h and CSI ? 2026 l, so a terminal that
 * knows the mode shows it whole or not at all; "auto" asks the terminal once the first
 * frame is up (DECRQM, CSI ? 2026 $ p) and turns the mode on when the answer says the
 * terminal knows it (keyread.c reads the answer as a key, so it can never be typed into
 * the draft; a terminal that does not answer leaves it off). Hyperlinks: the link runs the
 * transcript drew are written again inside OSC 8 after the cells (link.c). The rendering
 * switches of the render: section are handed to the Markdown renderer here too.
 */
#include <string.h>
#include <unistd.h>

#include "app.h"
#include "config.h"
#include "highlight.h"
#include "link.h"
#include "log.h"

/* Write to the terminal straight away (after curses flushed its own output). */
static void
term_write(const char *s, size_t n)
{
	while (n > 0) {
		ssize_t k = write(STDOUT_FILENO, s, n);

		if (k <= 0)
			return;
		s += k;
		n -= (size_t)k;
	}
}

/* Apply the configuration's render: section. */
void
term_setup(struct app *a)
{
	const struct config_render *r = &a->cfg->render;
	struct md_options o = { r->highlight, r->math, r->link_urls };
	const char *sync = r->sync_output != NULL ? r->sync_output : "auto";

	markdown_set_options(&o);
	highlight_set_dirs((const char *const *)r->syntax_dirs, r->nsyntax_dirs);
	a->hyperlinks = link_hyperlinks_wanted(r->hyperlinks);
	a->sync = strcmp(sync, "true") == 0 ? TERM_SYNC_ON : strcmp(sync, "false") == 0 ?
	    TERM_SYNC_OFF : TERM_SYNC_ASK;
	log_debug("ui: hyperlinks %s, synchronized output %s", a->hyperlinks ? "on" : "off",
	    sync);
}

/* Ask the terminal whether it knows mode 2026 (auto only). */
void
term_query(struct app *a)
{
	static const char q[] = "\033[?2026$p";

	if (a->sync == TERM_SYNC_ASK)
		term_write(q, sizeof q - 1);
}

/* The terminal's answer about mode 2026. */
void
term_answer(struct app *a, unsigned key)
{
	if (a->sync != TERM_SYNC_ASK)
		return;
	a->sync = key == K_SYNC_YES ? TERM_SYNC_ON : TERM_SYNC_OFF;
	log_debug("ui: the terminal %s synchronized output", key == K_SYNC_YES ? "knows" :
	    "does not know");
}

/* Before a frame: begin synchronized output; forget the last frame's links. */
void
term_frame_begin(struct app *a)
{
	static const char on[] = "\033[?2026h";

	if (a->sync == TERM_SYNC_ON)
		term_write(on, sizeof on - 1);
	if (a->dirty & DIRTY_TRANSCRIPT) {
		link_frame_reset();
		a->frame_links = 1;
	} else {
		a->frame_links = 0;
	}
}

/* After curses sent the frame: the links of the transcript, then the end of the frame.
 * With an overlay over the transcript nothing is rewritten (it would draw over it). */
void
term_frame_end(struct app *a)
{
	static const char off[] = "\033[?2026l";
	struct buf b = BUF_INIT;

	if (a->hyperlinks && a->frame_links && a->overlay == OVERLAY_NONE) {
		link_frame_write(&b);
		if (b.len > 0)
			term_write(b.data, b.len);
	}
	if (a->sync == TERM_SYNC_ON)
		term_write(off, sizeof off - 1);
	buf_free(&b);
}

/* Record a link segment drawn at row y, column x of the transcript window. */
void
term_note_link(struct app *a, int y, int x, const struct rseg *sg, const struct rtext *r,
    int maxw)
{
	int by, bx;

	if (!a->hyperlinks || sg->url == 0 || !a->frame_links)
		return;
	getbegyx(a->wtrans, by, bx);
	link_note(by + y, bx + x, r->text.data + sg->off, sg->len, maxw, sg->role, sg->attrs,
	    r->urls.data + sg->url - 1, sg->urllen);
}
