/*
 * Hyperlinks. link_clean decides what may go into an OSC 8 sequence: the address is the
 * provider's, so it could try to end the sequence early (ESC, BEL, ST) and smuggle in its
 * own; only printable ASCII without spaces passes, everything else is percent-encoded or
 * refused, and only schemes a browser opens are linked. The frame part records each link
 * run pane_transcript_rline draws and, once curses has sent the frame, writes the same
 * cells again inside OSC 8: DECSC, a cursor move, the run's own SGR attributes, the text,
 * DECRC, so that neither the cursor nor the attributes curses believes in change.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "link.h"
#include "text.h"
#include "theme.h"
#include "wrap.h"
#include "xmalloc.h"

/* One link run of the frame. */
struct link_run {
	int y, x, role;
	unsigned attrs;
	size_t text, ntext, url, nurl;   /* offsets into link_bytes */
};

static struct link_run *link_runs;
static size_t link_nruns, link_capruns;
static struct buf link_bytes;

/* Does s (n bytes) start with the scheme (with its colon), case-insensitively? */
static int
link_scheme(const char *s, size_t n, const char *scheme)
{
	size_t k = strlen(scheme);

	return n > k && strncasecmp(s, scheme, k) == 0;
}

/* Make an address safe for a terminal. */
int
link_clean(const char *s, size_t n, struct buf *out)
{
	static const char hex[] = "0123456789ABCDEF";
	static const char *const schemes[] = { "http://", "https://", "ftp://", "mailto:" };
	size_t i, a = 0;
	int known = 0;

	buf_reset(out);
	while (a < n && (s[a] == ' ' || s[a] == '\t'))
		a++;
	while (n > a && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		n--;
	s += a;
	n -= a;
	for (i = 0; i < sizeof schemes / sizeof schemes[0]; i++)
		known |= link_scheme(s, n, schemes[i]);
	if (!known && link_scheme(s, n, "www."))
		buf_puts(out, "http://");
	else if (!known && memchr(s, '@', n) != NULL && memchr(s, ':', n) == NULL &&
	    memchr(s, '/', n) == NULL && n > 0 && s[0] != '@')
		buf_puts(out, "mailto:");
	else if (!known)
		return -1;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c < 0x20 || c == 0x7f) {
			buf_reset(out);
			return -1;
		}
		if (c >= 0x80 || c == ' ' || c == '"' || c == '<' || c == '>' || c == '\\' ||
		    c == '^' || c == '`' || c == '{' || c == '|' || c == '}') {
			buf_putc(out, '%');
			buf_putc(out, hex[c >> 4]);
			buf_putc(out, hex[c & 15]);
		} else {
			buf_putc(out, (char)c);
		}
	}
	if (out->len > LINK_MAX_URL) {
		buf_reset(out);
		return -1;
	}
	return 0;
}

/* The number in an environment variable, or -1. */
static long
link_env_num(const char *name)
{
	const char *v = getenv(name);
	char *end;
	long n;

	if (v == NULL || *v == '\0')
		return -1;
	n = strtol(v, &end, 10);
	return end == v ? -1 : n;
}

/* Is a tmux version string ("3.3a", "3.4", "next-3.5") 3.4 or later? */
static int
link_tmux_new(const char *v)
{
	long major, minor = 0;
	char *end;

	if (v == NULL)
		return 0;
	if (strncmp(v, "next-", 5) == 0)
		v += 5;
	major = strtol(v, &end, 10);
	if (end == v)
		return 0;
	if (*end == '.')
		minor = strtol(end + 1, NULL, 10);
	return major > 3 || (major == 3 && minor >= 4);
}

/* Decide whether hyperlinks are on. */
int
link_hyperlinks_wanted(const char *mode)
{
	static const char *const programs[] = {
		"iTerm.app", "WezTerm", "vscode", "ghostty", "Hyper", "rio", "WarpTerminal",
	};
	const char *prog = getenv("TERM_PROGRAM"), *term = getenv("TERM");
	size_t i;

	if (mode != NULL && strcmp(mode, "true") == 0)
		return 1;
	if (mode != NULL && strcmp(mode, "false") == 0)
		return 0;
	/* Inside tmux, tmux decides what reaches the terminal: 3.4 passes hyperlinks on. */
	if (getenv("TMUX") != NULL || (prog != NULL && strcmp(prog, "tmux") == 0))
		return prog != NULL && strcmp(prog, "tmux") == 0 &&
		    link_tmux_new(getenv("TERM_PROGRAM_VERSION"));
	if (term != NULL && (strncmp(term, "screen", 6) == 0 || strcmp(term, "linux") == 0 ||
	    strcmp(term, "dumb") == 0))
		return 0;
	for (i = 0; prog != NULL && i < sizeof programs / sizeof programs[0]; i++)
		if (strcmp(prog, programs[i]) == 0)
			return 1;
	if (link_env_num("VTE_VERSION") >= 5000 || getenv("KITTY_WINDOW_ID") != NULL ||
	    getenv("WT_SESSION") != NULL || link_env_num("KONSOLE_VERSION") >= 200400)
		return 1;
	return term != NULL && (strcmp(term, "xterm-kitty") == 0 || strncmp(term, "foot", 4) == 0 ||
	    strcmp(term, "alacritty") == 0 || strcmp(term, "xterm-ghostty") == 0 ||
	    strcmp(term, "wezterm") == 0);
}

/* Forget the runs. */
void
link_frame_reset(void)
{
	link_nruns = 0;
	buf_reset(&link_bytes);
}

/* Record one run. */
void
link_note(int y, int x, const char *text, size_t n, int maxw, int role, unsigned attrs,
    const char *url, size_t urllen)
{
	struct link_run *r;

	if (urllen == 0 || urllen > LINK_MAX_URL || n == 0 || maxw == 0)
		return;
	if (link_nruns == link_capruns) {
		link_capruns = link_capruns ? link_capruns * 2 : 16;
		link_runs = xrealloc(link_runs, link_capruns * sizeof *link_runs);
	}
	r = &link_runs[link_nruns++];
	r->y = y;
	r->x = x;
	r->role = role;
	r->attrs = attrs;
	r->text = link_bytes.len;
	text_sanitize_line(text, n, &link_bytes);
	if (maxw > 0)
		link_bytes.len = r->text + wrap_col_to_off(link_bytes.data + r->text,
		    link_bytes.len - r->text, maxw);
	r->ntext = link_bytes.len - r->text;
	r->url = link_bytes.len;
	buf_append(&link_bytes, url, urllen);
	r->nurl = urllen;
	if (r->ntext == 0)
		link_nruns--;
}

/* Write each run again inside OSC 8. */
void
link_frame_write(struct buf *out)
{
	size_t i;

	for (i = 0; i < link_nruns; i++) {
		const struct link_run *r = &link_runs[i];

		buf_printf(out, "\0337\033[%d;%dH", r->y + 1, r->x + 1);
		theme_sgr((enum theme_role)r->role, r->attrs, out);
		buf_puts(out, "\033]8;;");
		buf_append(out, link_bytes.data + r->url, r->nurl);
		buf_puts(out, "\033\\");
		buf_append(out, link_bytes.data + r->text, r->ntext);
		buf_puts(out, "\033]8;;\033\\\0338");
	}
}

/* How many runs are recorded. */
size_t
link_frame_count(void)
{
	return link_nruns;
}
