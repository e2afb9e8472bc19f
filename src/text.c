/*
 * Terminal-safe text (the rules are in text.h). Input is decoded to code points first, so
 * that C1 controls written as UTF-8 (U+0080..U+009F) are caught like their 8-bit forms
 * (which are invalid UTF-8 on their own), then each code point is kept or replaced. No
 * escape-sequence parser is needed: once ESC and the C1 introducers are replaced, what
 * followed them is inert text, and showing it tells the reader something was there. The
 * only state carried between calls is an incomplete UTF-8 sequence and a trailing CR.
 */
#include <string.h>

#include <utf8proc.h>

#include "text.h"

static const char replacement[] = "\xef\xbf\xbd";

/* Reset f to the start of a multi-line text. */
void
text_filter_init(struct text_filter *f)
{
	text_filter_init_mode(f, TEXT_BLOCK);
}

/* Reset f to the start of a text shown in mode. */
void
text_filter_init_mode(struct text_filter *f, enum text_mode mode)
{
	memset(f, 0, sizeof(*f));
	f->mode = mode;
}

/* How many bytes a sequence with this lead byte needs, or 0 for an invalid lead. */
static int
text_utf8_need(unsigned char c)
{
	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		return 2;
	if (c >= 0xe0 && c <= 0xef)
		return 3;
	if (c >= 0xf0 && c <= 0xf4)
		return 4;
	return 0;
}

/* Decode one UTF-8 sequence; rejects overlongs, surrogates and values past U+10FFFF. */
int
text_utf8_decode(const unsigned char *p, size_t n, unsigned *cp)
{
	int need, i;
	unsigned v;

	if (n == 0)
		return 0;
	need = text_utf8_need(p[0]);
	if (need == 0 || (size_t)need > n)
		return 0;
	if (need == 1) {
		*cp = p[0];
		return 1;
	}
	v = p[0] & (0x7f >> need);
	for (i = 1; i < need; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		v = (v << 6) | (p[i] & 0x3f);
	}
	if ((need == 3 && v < 0x800) || (need == 4 && v < 0x10000) || v > 0x10ffff ||
	    (v >= 0xd800 && v <= 0xdfff))
		return 0;
	*cp = v;
	return need;
}

/* Bytes of the bad sequence at p: its lead and the continuation bytes the lead claims. */
static size_t
text_utf8_bad_len(const unsigned char *p, size_t n)
{
	size_t need = (size_t)text_utf8_need(p[0]), k = 1;

	while (need > 1 && k < need && k < n && (p[k] & 0xc0) == 0x80)
		k++;
	return k;
}

/* One character at p: a valid sequence, or a bad one (TEXT_BAD) shown as one U+FFFD. */
size_t
text_utf8_step(const unsigned char *p, size_t n, unsigned *cp)
{
	int len;

	if (n == 0) {
		*cp = TEXT_BAD;
		return 0;
	}
	if (p[0] < 0x80) {
		*cp = p[0];
		return 1;
	}
	if ((len = text_utf8_decode(p, n, cp)) > 0)
		return (size_t)len;
	*cp = TEXT_BAD;
	return text_utf8_bad_len(p, n);
}

/* True for the code points that reorder text invisibly: the Arabic letter mark, LRM and RLM,
 * the embeddings and overrides, and the isolates. */
static int
text_is_bidi_control(unsigned cp)
{
	return cp == 0x061c || cp == 0x200e || cp == 0x200f || (cp >= 0x202a && cp <= 0x202e) ||
	    (cp >= 0x2066 && cp <= 0x2069);
}

/* True for C0 (NUL, ESC, CR, newline and tab too), DEL, C1, bidi controls and bad input. */
int
text_cp_unsafe(unsigned cp)
{
	return cp < 0x20 || (cp >= 0x7f && cp <= 0x9f) || text_is_bidi_control(cp) ||
	    cp == TEXT_BAD;
}

/* Emit a newline (or its one-line form). */
static void
text_newline(const struct text_filter *f, struct buf *out)
{
	buf_putc(out, f->mode == TEXT_LINE ? ' ' : '\n');
}

/* Handle one code point cp (TEXT_BAD for a bad sequence) whose bytes are the len at s. */
static void
text_cp(struct text_filter *f, unsigned cp, const char *s, size_t len, struct buf *out)
{
	if (f->cr) {
		f->cr = 0;
		if (cp == '\n') {
			text_newline(f, out);
			return;
		}
		buf_append(out, replacement, 3);
	}
	if (cp == '\r') {
		f->cr = 1;
	} else if (cp == '\n') {
		text_newline(f, out);
	} else if (cp == '\t') {
		buf_putc(out, f->mode == TEXT_LINE ? ' ' : '\t');
	} else if (text_cp_unsafe(cp)) {
		buf_append(out, replacement, 3);
	} else {
		buf_append(out, s, len);
	}
}

/* Append the safe form of n bytes at p to out, carrying state to the next call. */
void
text_filter_feed(struct text_filter *f, const char *p, size_t n, struct buf *out)
{
	const unsigned char *u = (const unsigned char *)p;
	size_t i = 0, len, run;
	unsigned cp;

	while (i < n && f->npend > 0) {
		int need = text_utf8_need(f->pend[0]);

		if ((u[i] & 0xc0) != 0x80) {
			/* The pending sequence was cut short: it is one bad sequence. */
			f->npend = 0;
			text_cp(f, TEXT_BAD, replacement, 3, out);
			break;
		}
		f->pend[f->npend++] = u[i++];
		if (f->npend == need) {
			len = text_utf8_step(f->pend, (size_t)f->npend, &cp);
			text_cp(f, cp, (const char *)f->pend, len, out);
			f->npend = 0;
		}
	}
	while (i < n) {
		/* Fast path: a run of printable ASCII is copied at once. */
		if (!f->cr) {
			for (run = i; run < n && u[run] >= 0x20 && u[run] < 0x7f; run++)
				;
			if (run > i) {
				buf_append(out, p + i, run - i);
				i = run;
				continue;
			}
		}
		len = text_utf8_step(u + i, n - i, &cp);
		if (cp == TEXT_BAD && i + len == n && len < (size_t)text_utf8_need(u[i])) {
			/* An incomplete sequence at the end: keep it for the next call. */
			memcpy(f->pend, u + i, len);
			f->npend = (int)len;
			return;
		}
		text_cp(f, cp, p + i, len, out);
		i += len;
	}
}

/* End of input: a partial UTF-8 sequence or a CR left over is shown as U+FFFD. */
void
text_filter_finish(struct text_filter *f, struct buf *out)
{
	if (f->npend > 0) {
		f->npend = 0;
		text_cp(f, TEXT_BAD, replacement, 3, out);
	}
	if (f->cr) {
		f->cr = 0;
		buf_append(out, replacement, 3);
	}
}

/* Append the mode form of the n bytes at p to out. */
static void
text_sanitize_mode(const char *p, size_t n, enum text_mode mode, struct buf *out)
{
	struct text_filter f;

	text_filter_init_mode(&f, mode);
	text_filter_feed(&f, p, n, out);
	text_filter_finish(&f, out);
}

/* Append the multi-line terminal-safe form of the n bytes at p to out. */
void
text_sanitize(const char *p, size_t n, struct buf *out)
{
	text_sanitize_mode(p, n, TEXT_BLOCK, out);
}

/* Append the one-line terminal-safe form of the n bytes at p to out. */
void
text_sanitize_line(const char *p, size_t n, struct buf *out)
{
	text_sanitize_mode(p, n, TEXT_LINE, out);
}

/* Reset b to the one-line form of s and return its text. */
const char *
text_line(struct buf *b, const char *s)
{
	buf_reset(b);
	if (s != NULL)
		text_sanitize_line(s, strlen(s), b);
	return buf_str(b);
}

/* True when sanitizing the n bytes at p in mode would give them back unchanged. */
int
text_is_safe(const char *p, size_t n, enum text_mode mode)
{
	const unsigned char *u = (const unsigned char *)p;
	size_t i = 0;
	unsigned cp;

	while (i < n) {
		if (u[i] >= 0x20 && u[i] < 0x7f) {
			i++;
			continue;
		}
		i += text_utf8_step(u + i, n - i, &cp);
		if ((cp == '\n' || cp == '\t') && mode == TEXT_BLOCK)
			continue;
		if (text_cp_unsafe(cp))
			return 0;
	}
	return 1;
}

/* Append the JSON-safe form of a JSON document. */
void
text_json_safe(const char *p, size_t n, struct buf *out)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *u = (const unsigned char *)p;
	size_t i = 0, len;
	unsigned cp;

	while (i < n) {
		len = text_utf8_step(u + i, n - i, &cp);
		if (cp == '\n' || cp == '\t' || cp == '\r' || !text_cp_unsafe(cp)) {
			buf_append(out, p + i, len);
		} else {
			char e[6] = { '\\', 'u', 'f', 'f', 'f', 'd' };

			if (cp != TEXT_BAD) {
				e[2] = hex[(cp >> 12) & 15];
				e[3] = hex[(cp >> 8) & 15];
				e[4] = hex[(cp >> 4) & 15];
				e[5] = hex[cp & 15];
			}
			buf_append(out, e, 6);
		}
		i += len;
	}
}

/* Columns one code point takes where draw_text puts it: what the sanitizer replaces shows
 * as the one column of its U+FFFD. */
static int
text_cp_width(utf8proc_int32_t cp)
{
	if (cp < 0 || text_cp_unsafe((unsigned)cp))
		return 1;
	return utf8proc_charwidth(cp);
}

/* Decode one code point at s; returns its byte length (a bad sequence whole, cp = -1). */
static size_t
text_decode(const char *s, size_t n, utf8proc_int32_t *cp)
{
	unsigned c;
	size_t k = text_utf8_step((const unsigned char *)s, n, &c);

	*cp = c == TEXT_BAD ? -1 : (utf8proc_int32_t)c;
	return k;
}

/* True for the conjoining Hangul vowels and finals: a terminal draws them inside the
 * syllable their leading consonant starts (wcwidth 0), where utf8proc counts a column. */
static int
text_jamo_joins(utf8proc_int32_t cp)
{
	return (cp >= 0x1160 && cp <= 0x11ff) || (cp >= 0xd7b0 && cp <= 0xd7ff);
}

/* True when code point cp, after prev, goes into the terminal cell prev is in: a mark of
 * no width, a conjoining jamo, or what follows a zero-width joiner (a terminal such as tmux
 * joins any non-ASCII character after a ZWJ into the cell before, so an emoji ZWJ sequence
 * is one cell of its first emoji's width). */
static int
text_cell_joins(utf8proc_int32_t prev, utf8proc_int32_t cp)
{
	if (cp < 0 || text_cp_unsafe((unsigned)cp))
		return 0;
	return utf8proc_charwidth(cp) == 0 || text_jamo_joins(cp) || (prev == 0x200d && cp >= 0x80);
}

/* Length in bytes of the terminal cell at s; *width gets its columns. */
size_t
text_cell(const char *s, size_t n, int *width)
{
	utf8proc_int32_t prev, cp;
	size_t pos, k;

	if (n == 0) {
		*width = 0;
		return 0;
	}
	pos = text_decode(s, n, &prev);
	*width = text_jamo_joins(prev) ? 0 : text_cp_width(prev);
	if (prev < 0 || text_cp_unsafe((unsigned)prev))
		return pos;
	while (pos < n) {
		k = text_decode(s + pos, n - pos, &cp);
		if (!text_cell_joins(prev, cp))
			break;
		prev = cp;
		pos += k;
	}
	return pos;
}

/* Measure the grapheme cluster at s and return its length in bytes. Its width is that of
 * its cells: what a terminal joins into a cell adds nothing (a ZWJ sequence is as wide as
 * its first emoji, a regional indicator pair is two cells of one column). */
size_t
text_cluster(const char *s, size_t n, int *width)
{
	utf8proc_int32_t prev, cp;
	utf8proc_int32_t state = 0;
	size_t pos, k;
	int w, joins;

	if (n == 0) {
		*width = 0;
		return 0;
	}
	/* Fast path, most of every reply: an ASCII byte followed by another (or by nothing) is a
	 * cluster of its own, one column wide (only CR LF joins two ASCII bytes). */
	if ((unsigned char)s[0] < 0x80 && (n == 1 || ((unsigned char)s[1] < 0x80 &&
	    !(s[0] == '\r' && s[1] == '\n')))) {
		*width = 1;
		return 1;
	}
	pos = text_decode(s, n, &prev);
	w = text_jamo_joins(prev) ? 0 : text_cp_width(prev);
	if (prev < 0) {
		*width = w;
		return pos;
	}
	while (pos < n) {
		k = text_decode(s + pos, n - pos, &cp);
		if (cp < 0)
			break;
		/* A cell the terminal joins across a cluster break stays whole. */
		joins = !text_cp_unsafe((unsigned)prev) && text_cell_joins(prev, cp);
		if (utf8proc_grapheme_break_stateful(prev, cp, &state) && !joins)
			break;
		if (!joins)
			w += text_cp_width(cp);
		prev = cp;
		pos += k;
	}
	*width = w;
	return pos;
}

/* Sum the widths of every cluster of the n bytes at s. */
int
text_width(const char *s, size_t n)
{
	size_t pos = 0;
	int total = 0, w;

	while (pos < n) {
		pos += text_cluster(s + pos, n - pos, &w);
		total += w;
	}
	return total;
}

/* Bytes of the longest run of whole clusters at s within width columns; *used gets its
 * width. */
static size_t
text_prefix(const char *s, size_t n, int width, int *used)
{
	size_t pos = 0, k;
	int w = 0, cw;

	while (pos < n) {
		k = text_cluster(s + pos, n - pos, &cw);
		if (w + cw > width)
			break;
		w += cw;
		pos += k;
	}
	*used = w;
	return pos;
}

/* Where the shortest tail of s that fits in width columns starts; *used gets its width. */
static size_t
text_suffix(const char *s, size_t n, int width, int *used)
{
	size_t pos = 0;
	int total = text_width(s, n), w = 0, cw;

	while (pos < n && total - w > width) {
		pos += text_cluster(s + pos, n - pos, &cw);
		w += cw;
	}
	*used = total - w;
	return pos;
}

/* U+200D ZERO WIDTH JOINER in UTF-8. */
#define TEXT_ZWJ "\xe2\x80\x8d"

/* The length of s[0..n) without the zero-width joiners it ends with. */
static size_t
text_zwj_trim(const char *s, size_t n)
{
	while (n >= 3 && memcmp(s + n - 3, TEXT_ZWJ, 3) == 0)
		n -= 3;
	return n;
}

/* Shorten s to width columns at its end: whole when it fits, else the words that fit and
 * an ellipsis, or as many clusters as fit when no word ends in the second half. */
int
text_fit_end(const char *s, size_t n, int width, struct buf *out)
{
	size_t pos = 0, k, cut, word = 0;
	int w = 0, cw, used, word_w = 0;

	if (width <= 0)
		return 0;
	if ((w = text_width(s, n)) <= width) {
		buf_append(out, s, n);
		return w;
	}
	cut = text_prefix(s, n, width - 1, &used);
	/* The last word end (a non-space followed by a space) within the cut. */
	for (w = 0; pos < cut; pos += k, w += cw) {
		k = text_cluster(s + pos, cut - pos, &cw);
		if (pos > 0 && s[pos] == ' ' && s[pos - 1] != ' ') {
			word = pos;
			word_w = w;
		}
	}
	if (cut < n && s[cut] == ' ' && cut > 0 && s[cut - 1] != ' ') {
		word = cut;
		word_w = used;
	}
	if (word > 0 && word_w * 2 >= width - 1) {
		cut = word;
		used = word_w;
	}
	while (cut > 0 && s[cut - 1] == ' ') {
		cut--;
		used--;
	}
	buf_append(out, s, text_zwj_trim(s, cut));
	buf_puts(out, "…");
	return used + 1;
}

/* Shorten s to width columns by eliding its middle. The text from byte keep on (what tells
 * s from its neighbours) stays whole when it leaves room for a little of the start; else,
 * or with keep >= n, the start keeps a third of the room and the end the rest. */
int
text_fit_middle(const char *s, size_t n, int width, size_t keep, struct buf *out)
{
	size_t head, tail;
	int w, hw, tw, room;

	if (width <= 0)
		return 0;
	if ((w = text_width(s, n)) <= width) {
		buf_append(out, s, n);
		return w;
	}
	if (width < 3)
		return text_fit_end(s, n, width, out);
	room = width - 1;
	/* keep may fall inside a cluster: the kept tail starts at the boundary before it. */
	for (head = 0; keep < n && head < keep; head += tail) {
		tail = text_cluster(s + head, n - head, &hw);
		if (head + tail > keep)
			break;
	}
	keep = keep < n ? head : n;
	tw = keep < n && keep > 0 ? text_width(s + keep, n - keep) : room + 1;
	if (tw <= room - 2) {
		tail = keep;
	} else {
		tail = text_suffix(s, n, room - room / 3, &tw);
	}
	/* A joiner at either side of the ellipsis would join it to a cell: leave them out. */
	while (n - tail >= 3 && memcmp(s + tail, TEXT_ZWJ, 3) == 0)
		tail += 3;
	tw = text_width(s + tail, n - tail);
	/* A tail that does not leave room for the ellipsis: cut the end instead. */
	if (tw > room)
		return text_fit_end(s, n, width, out);
	head = text_prefix(s, tail, room - tw, &hw);
	buf_append(out, s, text_zwj_trim(s, head));
	buf_puts(out, "…");
	buf_append(out, s + tail, n - tail);
	return hw + 1 + tw;
}

/* The separator field i is shown with when kept: its own after a kept field of its group,
 * its group's first one after a kept field of another group, none when it comes first. */
static const char *
text_field_sep(const struct text_field *f, size_t i, const int *kept)
{
	size_t j, first = i;
	int before = 0;

	for (j = 0; j < i; j++) {
		if (kept[j] && f[j].group == f[i].group)
			return f[i].sep;
		before |= kept[j];
		if (f[j].group == f[i].group && first == i)
			first = j;
	}
	return before ? f[first].sep : "";
}

/* Columns the kept fields take with their separators. */
static int
text_fields_width(const struct text_field *f, size_t n, const int *kept, size_t skip)
{
	const char *sep;
	size_t i;
	int w = 0;

	for (i = 0; i < n; i++) {
		if (!kept[i] || i == skip)
			continue;
		sep = text_field_sep(f, i, kept);
		w += text_width(sep, strlen(sep)) + text_width(f[i].text, strlen(f[i].text));
	}
	return w;
}

/* Lay fields out on one line of width columns: while they do not fit, the field of lowest
 * priority (the later of equals) goes whole, or is shortened with an ellipsis when its cut
 * allows and at least TEXT_FIT_MIN columns of it fit, or when it is the last one left.
 * Each field's out gets what is shown of it with its separator ("" when dropped). */
int
text_fit_fields(struct text_field *f, size_t n, int width)
{
	int kept[TEXT_FIT_MAX], total, room, lo;
	const char *sep;
	size_t i, victim, nkept = n < TEXT_FIT_MAX ? n : TEXT_FIT_MAX;

	n = nkept;
	for (i = 0; i < n; i++) {
		kept[i] = 1;
		buf_reset(&f[i].out);
	}
	while (nkept > 0 && (total = text_fields_width(f, n, kept, n)) > width) {
		victim = n;
		lo = 0;
		for (i = 0; i < n; i++) {
			if (kept[i] && (victim == n || f[i].prio <= lo)) {
				victim = i;
				lo = f[i].prio;
			}
		}
		sep = text_field_sep(f, victim, kept);
		room = width - text_fields_width(f, n, kept, victim) - text_width(sep, strlen(sep));
		if ((f[victim].cut != TEXT_CUT_NONE && room >= TEXT_FIT_MIN) || nkept == 1) {
			buf_puts(&f[victim].out, sep);
			if (f[victim].cut == TEXT_CUT_MIDDLE)
				text_fit_middle(f[victim].text, strlen(f[victim].text), room,
				    f[victim].keep, &f[victim].out);
			else
				text_fit_end(f[victim].text, strlen(f[victim].text), room, &f[victim].out);
			kept[victim] = 2;
			break;
		}
		kept[victim] = 0;
		nkept--;
	}
	total = 0;
	for (i = 0; i < n; i++) {
		if (kept[i] == 1) {
			buf_puts(&f[i].out, text_field_sep(f, i, kept));
			buf_puts(&f[i].out, f[i].text);
		}
		total += text_width(f[i].out.data != NULL ? f[i].out.data : "", f[i].out.len);
	}
	return total;
}
