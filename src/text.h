/*
 * The one sanitizer for untrusted text (model output, stored messages and titles, provider
 * error messages, model ids, file contents) on its way to a terminal. Every front end uses
 * it: `natter ask`, `natter sessions`, `natter models`, the other commands' messages, and
 * the interface, whose last drawing step (ui/draw.c) passes everything through it again.
 *
 * The rules, the same everywhere (man/natter.1, SECURITY OF OUTPUT):
 *   - Valid UTF-8 that is not a control passes through untouched, byte for byte.
 *   - Every unsafe code point becomes U+FFFD, one for one, so that what was there stays
 *     visible and nothing is silently dropped: C0 controls (NUL and ESC included) other than
 *     newline and tab, DEL, the C1 controls U+0080..U+009F, and the bidirectional controls
 *     U+061C, U+200E, U+200F, U+202A..U+202E and U+2066..U+2069. An escape sequence thus shows
 *     as U+FFFD followed by its printable remainder ("\e]0;x\a" -> "\uFFFD]0;x\uFFFD"), which no
 *     terminal interprets.
 *   - Invalid UTF-8 becomes U+FFFD, one per bad sequence (a lead byte and the continuation
 *     bytes it claims), however the input is split between calls.
 *   - CR LF becomes LF; a lone CR is a control (it could overwrite the line) and becomes
 *     U+FFFD.
 *   - TEXT_BLOCK (multi-line output) keeps newline and tab. TEXT_LINE (titles, model ids,
 *     list rows, one-line messages) also turns newline, CR LF and tab into one space each.
 * A filter keeps its state between calls, so a multi-byte character or a CR LF split
 * between two stream deltas comes out exactly as if it had arrived whole.
 */
#ifndef NATTER_TEXT_H
#define NATTER_TEXT_H

#include <stddef.h>

#include "buf.h"

enum text_mode {
	TEXT_BLOCK,   /* multi-line: newline and tab kept */
	TEXT_LINE,    /* one line: newline and tab become spaces */
};

/* What text_utf8_step stores in *cp for a bad sequence. */
#define TEXT_BAD 0xffffffffu

struct text_filter {
	enum text_mode mode;
	int cr;                    /* a CR ended the last call: is it followed by LF? */
	unsigned char pend[4];     /* an incomplete UTF-8 sequence from the last call */
	int npend;
};

/* Start a multi-line (TEXT_BLOCK) filter. */
void text_filter_init(struct text_filter *f);
/* Start a filter in the given mode. */
void text_filter_init_mode(struct text_filter *f, enum text_mode mode);
/* Append the safe form of n bytes at p to out. */
void text_filter_feed(struct text_filter *f, const char *p, size_t n, struct buf *out);
/* End of input: a dangling partial UTF-8 sequence or CR becomes U+FFFD. */
void text_filter_finish(struct text_filter *f, struct buf *out);
/* One-shot TEXT_BLOCK form: append the safe form of n bytes at p to out. */
void text_sanitize(const char *p, size_t n, struct buf *out);
/* One-shot TEXT_LINE form. */
void text_sanitize_line(const char *p, size_t n, struct buf *out);
/* Reset b to the TEXT_LINE form of the string s (NULL: "") and return it, for printing. */
const char *text_line(struct buf *b, const char *s);
/* True when the n bytes at p are already safe in mode (sanitizing would not change them). */
int text_is_safe(const char *p, size_t n, enum text_mode mode);
/* True for a code point that must never reach a terminal as itself (newline and tab
 * included: callers that keep them test for them first). */
int text_cp_unsafe(unsigned cp);
/* Length of the valid UTF-8 sequence starting at p (1-4), or 0 if invalid or incomplete;
 * *cp receives the code point. */
int text_utf8_decode(const unsigned char *p, size_t n, unsigned *cp);
/* Length (>= 1 when n > 0) of the character at p: a valid sequence with its code point in
 * *cp, or a bad sequence, which the sanitizer shows as one U+FFFD, with TEXT_BAD in *cp. */
size_t text_utf8_step(const unsigned char *p, size_t n, unsigned *cp);
/* Append a JSON document made safe to print without losing anything: every unsafe code
 * point outside ASCII structure (inside strings, where the JSON writer left it raw) becomes a
 * \u escape, and invalid UTF-8 becomes \ufffd, so the result is valid UTF-8 JSON. */
void text_json_safe(const char *p, size_t n, struct buf *out);


/* Width and fitting. Text is measured by grapheme cluster, in the columns a terminal gives
 * it; what the sanitizer replaces counts as the one column of its U+FFFD. The fitting
 * functions append raw bytes of their input (cut only between clusters), so what they give
 * is still sanitized where it is drawn. */

/* Length in bytes (>= 1 when n > 0) of the grapheme cluster at s; *width gets its columns. */
size_t text_cluster(const char *s, size_t n, int *width);
/* Display width of n bytes of s. */
int text_width(const char *s, size_t n);
/* Length in bytes (>= 1 when n > 0) of the terminal cell at s, as a terminal fills it: a
 * character with the marks of no width after it, the conjoining vowels and finals of a
 * Hangul syllable, and what a zero-width joiner joins to it; *width gets its columns (a
 * cluster is one or more cells). */
size_t text_cell(const char *s, size_t n, int *width);
/* Append s shortened to width columns at its end: whole when it fits, else cut after the
 * last word that fits (or between clusters when no word ends in the second half) and
 * ended with "…". Returns the columns appended. */
int text_fit_end(const char *s, size_t n, int width, struct buf *out);
/* Append s shortened to width columns by an "…" in its middle. Its text from byte keep on
 * (what tells it from its neighbours; n or more for none) stays whole when a little of the
 * start fits too; else the start keeps a third of the room and the end the rest. */
int text_fit_middle(const char *s, size_t n, int width, size_t keep, struct buf *out);

enum text_cut {
	TEXT_CUT_NONE,     /* the field goes whole */
	TEXT_CUT_END,      /* the field may be shortened at its end */
	TEXT_CUT_MIDDLE,   /* the field may be shortened in its middle (keep as above) */
};

/* At most this many fields on a line; a field shortened keeps at least TEXT_FIT_MIN columns. */
#define TEXT_FIT_MAX 16
#define TEXT_FIT_MIN 8

/* One field of a line laid out by text_fit_fields. */
struct text_field {
	const char *text;   /* what the field says */
	const char *sep;    /* shown before it after a kept field ("" for none) */
	int group;          /* the first kept field of a group is led by its group's first sep */
	int prio;           /* the lowest goes first; the later of equals first */
	enum text_cut cut;
	size_t keep;        /* for TEXT_CUT_MIDDLE */
	struct buf out;     /* set by text_fit_fields: the field as shown, "" when dropped */
};

/* Lay out n fields on one line of width columns, dropping whole fields of low priority
 * until the rest fit (a field that may be cut is shortened instead when TEXT_FIT_MIN
 * columns of it fit, and the last one left always is). Returns the columns used. */
int text_fit_fields(struct text_field *f, size_t n, int width);

#endif
