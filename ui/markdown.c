/*
 * Incremental Markdown rendering. The block structure (paragraphs, headings, lists, quotes,
 * fenced code, rules, table rows) comes from a small line-based splitter written here,
 * because freezing finished blocks needs to know exactly where each block ends in the
 * source, which md4c's callbacks do not report. Inline spans (emphasis, strong, code spans,
 * links, strikethrough, entities) inside each block come from md4c run over that block's
 * text only. A block is frozen once a complete line after it proves it is over; an update
 * truncates the output back to the frozen boundary and renders only what follows, so a
 * streamed reply costs work proportional to its open block, not its length.
 *
 * A long text does not keep all its screen lines: that would be a second copy of it and
 * more (the segments and lines of a 100 MB reply are another 100 MB and up). Every
 * MD_CKPT_EVERY source bytes or so a frozen boundary is kept as a checkpoint (its source
 * offset, line number and splitter state), and once the kept output passes MD_KEEP bytes
 * everything before the last checkpoint is dropped. A line before them is drawn from a
 * window rendered again from its checkpoint up to the next one (markdown_line): the same
 * lines, since rendering resumed at a frozen boundary gives what rendering through it gave.
 * A code block longer than MD_HL_MAX is not highlighted, so that a checkpoint may fall
 * inside it; shorter ones get none, and are highlighted as ever.
 */
#include <md4c.h>
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

#include "highlight.h"
#include "latex.h"
#include "link.h"
#include "markdown.h"
#include "table.h"
#include "theme.h"
#include "wrap.h"
#include "xmalloc.h"

/* The switches every renderer follows. */
static struct md_options md_opts = { 1, 1, 1 };

enum md_line {
	L_BLANK, L_PARA, L_HEADING, L_HR, L_QUOTE, L_LIST, L_TABLE, L_FENCE, L_CODE, L_FENCE_END,
	L_PLAIN,
};

/* Initialise an empty rendering. */
void
rtext_init(struct rtext *r)
{
	memset(r, 0, sizeof *r);
}

/* Free a rendering. */
void
rtext_free(struct rtext *r)
{
	buf_free(&r->text);
	buf_free(&r->urls);
	free(r->segs);
	free(r->lines);
	rtext_init(r);
}

/* Empty a rendering but keep its memory. */
void
rtext_clear(struct rtext *r)
{
	rtext_truncate(r, 0, 0, 0);
	buf_reset(&r->urls);
}

/* Cut a rendering back to the given sizes. */
void
rtext_truncate(struct rtext *r, size_t text, size_t segs, size_t lines)
{
	if (text < r->text.len) {
		r->text.len = text;
		if (r->text.data)
			r->text.data[text] = '\0';
	}
	if (segs < r->nsegs)
		r->nsegs = segs;
	if (lines < r->nlines)
		r->nlines = lines;
}

/* Append a segment, merging it with the previous one when the style matches (a link's
 * segment merges with nothing); url is the address's offset plus one, or 0. */
static void
rtext_seg(struct rtext *r, size_t off, size_t len, int role, unsigned attrs, size_t url,
    size_t urllen, int mergeable)
{
	struct rseg *last = r->nsegs ? &r->segs[r->nsegs - 1] : NULL;

	if (len == 0)
		return;
	/* Never merge into a segment of an earlier screen line (or a frozen one). */
	if (r->nlines > 0 && r->lines[r->nlines - 1].seg == r->nsegs)
		mergeable = 0;
	if (mergeable && last != NULL && last->role == role && last->attrs == attrs &&
	    last->off + last->len == off && url == 0 && last->url == 0) {
		last->len += (uint32_t)len;
		return;
	}
	if (r->nsegs == r->capsegs) {
		r->capsegs = r->capsegs ? r->capsegs * 2 : 32;
		r->segs = xrealloc(r->segs, r->capsegs * sizeof *r->segs);
	}
	r->segs[r->nsegs].off = (uint32_t)off;
	r->segs[r->nsegs].len = (uint32_t)len;
	r->segs[r->nsegs].role = (uint16_t)role;
	r->segs[r->nsegs].attrs = (uint16_t)attrs;
	r->segs[r->nsegs].url = (uint32_t)url;
	r->segs[r->nsegs].urllen = (uint32_t)urllen;
	r->nsegs++;
}

/* Append text as a styled span; tabs become four spaces. */
void
rtext_span(struct rtext *r, const char *s, size_t n, int role, unsigned attrs)
{
	rtext_span_url(r, s, n, role, attrs, NULL, 0);
}

/* Append a link's address to the addresses; returns its offset + 1. */
static size_t
rtext_hidden(struct rtext *r, const char *url, size_t urllen)
{
	size_t at = r->urls.len + 1;

	buf_append(&r->urls, url, urllen);
	return at;
}

/* Append text as a styled span of a link to url (none when url is NULL). */
void
rtext_span_url(struct rtext *r, const char *s, size_t n, int role, unsigned attrs,
    const char *url, size_t urllen)
{
	size_t i = 0, start, at = 0;

	if (url != NULL && urllen > 0 && n > 0)
		at = rtext_hidden(r, url, urllen);
	else
		urllen = 0;
	while (i < n) {
		start = r->text.len;
		if (s[i] == '\t') {
			buf_append(&r->text, "    ", 4);
			i++;
		} else {
			size_t j = i;

			while (j < n && s[j] != '\t')
				j++;
			buf_append(&r->text, s + i, j - i);
			i = j;
		}
		rtext_seg(r, start, r->text.len - start, role, attrs, at, urllen, 1);
	}
}

/* Append the piece [a, b) of segment sg of src, with its link. */
static void
rtext_piece(struct rtext *dst, const struct rtext *src, const struct rseg *sg, size_t a,
    size_t b)
{
	size_t start, at = 0;

	if (sg->url != 0)
		at = rtext_hidden(dst, src->urls.data + sg->url - 1, sg->urllen);
	start = dst->text.len;
	buf_append(&dst->text, src->text.data + a, b - a);
	rtext_seg(dst, start, b - a, sg->role, sg->attrs, at, sg->urllen, 1);
}

/* Copy the segments of builder src that lie between content offsets a and b. */
void
rtext_copy(struct rtext *dst, const struct rtext *src, size_t a, size_t b)
{
	size_t k;

	for (k = 0; k < src->nsegs; k++) {
		const struct rseg *sg = &src->segs[k];
		size_t x = sg->off > a ? sg->off : a;
		size_t y = sg->off + sg->len < b ? sg->off + sg->len : b;

		if (y > x)
			rtext_piece(dst, src, sg, x, y);
	}
}

/* Start a new screen line at the current segment. */
static void
rtext_newline(struct rtext *r, int code)
{
	if (r->nlines == r->caplines) {
		r->caplines = r->caplines ? r->caplines * 2 : 32;
		r->lines = xrealloc(r->lines, r->caplines * sizeof *r->lines);
	}
	r->lines[r->nlines].seg = (uint32_t)r->nsegs;
	r->lines[r->nlines].nseg = 0;
	r->lines[r->nlines].code = code;
	r->nlines++;
}

/* Close the current screen line: it owns the segments added since it started. */
static void
rtext_endline(struct rtext *r)
{
	struct rline *l = &r->lines[r->nlines - 1];

	l->nseg = (uint32_t)(r->nsegs - l->seg);
}

/* Append an empty screen line. */
void
rtext_blank(struct rtext *r)
{
	rtext_newline(r, -1);
	rtext_endline(r);
}

/* Append a prefix string as its own segment (never merged with content). */
static void
rtext_prefix(struct rtext *r, const char *p, int role)
{
	size_t start = r->text.len, n = strlen(p);

	if (n == 0)
		return;
	buf_append(&r->text, p, n);
	rtext_seg(r, start, n, role, 0, 0, 0, 0);
}

/* Wrap the content builder into screen lines behind the prefixes; returns where the last
 * screen line starts in the content (so a caller can freeze the lines before it). */
size_t
rtext_add(struct rtext *r, int width, const char *first_prefix, const char *cont_prefix,
    int prefix_role, const struct rtext *content, int code)
{
	const char *s = buf_str(&content->text);
	size_t n = content->text.len, pos = 0, next, end, si = 0, last = 0;
	int pw1 = wrap_width(first_prefix, strlen(first_prefix));
	int pw2 = wrap_width(cont_prefix, strlen(cont_prefix));
	int used, first = 1;

	do {
		int avail = width - (first ? pw1 : pw2);

		last = pos;
		end = pos + wrap_line(s + pos, n - pos, avail < 1 ? 1 : avail, &next, &used);
		next += pos;
		rtext_newline(r, code);
		rtext_prefix(r, first ? first_prefix : cont_prefix, prefix_role);
		while (si < content->nsegs && content->segs[si].off + content->segs[si].len <= pos)
			si++;
		for (size_t k = si; k < content->nsegs && content->segs[k].off < end; k++) {
			const struct rseg *sg = &content->segs[k];
			size_t a = sg->off > pos ? sg->off : pos;
			size_t b = sg->off + sg->len < end ? sg->off + sg->len : end;

			if (b > a)
				rtext_piece(r, content, sg, a, b);
		}
		rtext_endline(r);
		pos = next;
		first = 0;
	} while (pos < n);
	return last;
}

/* Plain text of every line, for tests and copying. */
char *
rtext_plain(const struct rtext *r)
{
	struct buf b = BUF_INIT;
	size_t i, k;

	for (i = 0; i < r->nlines; i++) {
		for (k = 0; k < r->lines[i].nseg; k++) {
			const struct rseg *sg = &r->segs[r->lines[i].seg + k];

			buf_append(&b, r->text.data + sg->off, sg->len);
		}
		buf_putc(&b, '\n');
	}
	return buf_detach(&b);
}

/* Inline span state while md4c walks one block. */
struct md_inline {
	struct rtext *b;
	int role;
	unsigned attrs;
	int em, strong, code, link, del, math;
	const char *src;   /* md4c's input, to tell where a text run came from */
	size_t n;
	struct buf href;   /* the open link's address as written, entities decoded */
	struct buf url;    /* ... made safe for OSC 8, empty when it may not be linked */
	size_t link_at;    /* where the open link's text starts in the builder */
	struct buf tex;    /* the open math span's LaTeX */
	int after_display; /* display math just ended its line: drop the spaces after it */
};

/*
 * Where the rendered text of the last inline block came from: runs of plain text outside
 * any span, copied verbatim from md4c's input. They let a long open paragraph be cut at the
 * start of a screen line and the source resumed from there (see markdown_update).
 */
struct md_run {
	size_t out, in, len;
};
static struct md_run *md_runs;
static size_t md_nruns, md_capruns;

/* md4c: a block starts; blocks inside one of ours only need a separating space. */
static int
md_enter_block(MD_BLOCKTYPE type, void *detail, void *ud)
{
	struct md_inline *in = ud;

	(void)detail;
	if (type != MD_BLOCK_DOC && in->b->text.len > 0) {
		char c = in->b->text.data[in->b->text.len - 1];

		if (c != ' ' && c != '\n')
			rtext_span(in->b, " ", 1, in->role, in->attrs);
	}
	return 0;
}

/* md4c: a block ends (nothing to do). */
static int
md_leave_block(MD_BLOCKTYPE type, void *detail, void *ud)
{
	(void)type;
	(void)detail;
	(void)ud;
	return 0;
}

static int md_entity(const char *s, size_t n, char out[8], size_t *outlen);

/* A link opens: keep its address, decoded, and the safe form of it for OSC 8. */
static void
md_link_open(struct md_inline *in, const MD_ATTRIBUTE *href)
{
	unsigned i;
	char ent[8];
	size_t elen;

	buf_reset(&in->href);
	for (i = 0; href->substr_offsets != NULL && href->substr_offsets[i] < href->size; i++) {
		const char *p = href->text + href->substr_offsets[i];
		size_t k = href->substr_offsets[i + 1] - href->substr_offsets[i];

		if (href->substr_types[i] == MD_TEXT_ENTITY && md_entity(p, k, ent, &elen) == 0)
			buf_append(&in->href, ent, elen);
		else if (href->substr_types[i] != MD_TEXT_NULLCHAR)
			buf_append(&in->href, p, k);
	}
	if (link_clean(buf_str(&in->href), in->href.len, &in->url) != 0)
		buf_reset(&in->url);
	in->link_at = in->b->text.len;
	in->link++;
}

/* A link closes: its address follows its text when the text does not say it already. */
static void
md_link_close(struct md_inline *in)
{
	const char *text = in->b->text.data ? in->b->text.data + in->link_at : "";
	size_t n = in->b->text.len - in->link_at, k = in->href.len;
	const char *h = buf_str(&in->href);

	in->link--;
	if (!md_opts.link_urls || k == 0)
		return;
	if (k > 7 && strncmp(h, "mailto:", 7) == 0 && (n != k || memcmp(text, h, n) != 0)) {
		h += 7;
		k -= 7;
	}
	if (n == k && memcmp(text, h, n) == 0)
		return;
	rtext_span(in->b, " (", 2, THEME_LINKURL, in->attrs);
	rtext_span_url(in->b, h, k, THEME_LINKURL, in->attrs, in->url.data, in->url.len);
	rtext_span(in->b, ")", 1, THEME_LINKURL, in->attrs);
}

/* Drop the spaces at the end of a builder. */
static void
md_trim_end(struct rtext *b)
{
	while (b->nsegs > 0 && b->text.len > 0 && b->text.data[b->text.len - 1] == ' ') {
		struct rseg *sg = &b->segs[b->nsegs - 1];

		if (sg->off + sg->len != b->text.len)
			break;
		b->text.data[--b->text.len] = '\0';
		if (--sg->len == 0)
			b->nsegs--;
	}
}

/* A math span closes: its LaTeX is drawn in Unicode; display math on a line of its own.
 * Inline math that starts or ends with a space is no math ("costs $5 and $10"): it is
 * drawn as written, as pandoc reads it. */
static void
md_math_close(struct md_inline *in, int display)
{
	struct buf u = BUF_INIT;
	const char *t = buf_str(&in->tex);
	size_t n = in->tex.len;

	in->math = 0;
	while (display && n > 0 && (*t == ' ' || t[n - 1] == ' ')) {
		if (*t == ' ')
			t++;
		n--;
	}
	if (!display && (n == 0 || t[0] == ' ' || t[n - 1] == ' ')) {
		rtext_span(in->b, "$", 1, in->role, in->attrs);
		rtext_span(in->b, t, n, in->role, in->attrs);
		rtext_span(in->b, "$", 1, in->role, in->attrs);
		return;
	}
	latex_to_unicode(t, n, &u);
	if (display) {
		md_trim_end(in->b);
		if (in->b->text.len > 0)
			rtext_span(in->b, "\n", 1, in->role, in->attrs);
		rtext_span(in->b, "  ", 2, in->role, in->attrs);
	}
	rtext_span(in->b, buf_str(&u), u.len, THEME_MATH, in->attrs);
	if (display) {
		rtext_span(in->b, "\n", 1, in->role, in->attrs);
		in->after_display = 1;
	}
	buf_free(&u);
}

/* md4c: an inline span opens. */
static int
md_enter_span(MD_SPANTYPE type, void *detail, void *ud)
{
	struct md_inline *in = ud;

	switch (type) {
	case MD_SPAN_EM: in->em++; break;
	case MD_SPAN_STRONG: in->strong++; break;
	case MD_SPAN_CODE: in->code++; break;
	case MD_SPAN_A: md_link_open(in, &((MD_SPAN_A_DETAIL *)detail)->href); break;
	case MD_SPAN_IMG: md_link_open(in, &((MD_SPAN_IMG_DETAIL *)detail)->src); break;
	case MD_SPAN_DEL: in->del++; break;
	case MD_SPAN_LATEXMATH: in->math = 1; buf_reset(&in->tex); break;
	case MD_SPAN_LATEXMATH_DISPLAY: in->math = 2; buf_reset(&in->tex); break;
	default: break;
	}
	return 0;
}

/* md4c: an inline span closes. */
static int
md_leave_span(MD_SPANTYPE type, void *detail, void *ud)
{
	struct md_inline *in = ud;

	(void)detail;
	switch (type) {
	case MD_SPAN_EM: in->em--; break;
	case MD_SPAN_STRONG: in->strong--; break;
	case MD_SPAN_CODE: in->code--; break;
	case MD_SPAN_A: case MD_SPAN_IMG: md_link_close(in); break;
	case MD_SPAN_DEL: in->del--; break;
	case MD_SPAN_LATEXMATH: md_math_close(in, 0); break;
	case MD_SPAN_LATEXMATH_DISPLAY: md_math_close(in, 1); break;
	default: break;
	}
	return 0;
}

/* Decode an HTML entity such as &amp; or &#233;; returns 0 and fills out when known. */
static int
md_entity(const char *s, size_t n, char out[8], size_t *outlen)
{
	static const struct { const char *name, *text; } named[] = {
		{ "&amp;", "&" }, { "&lt;", "<" }, { "&gt;", ">" }, { "&quot;", "\"" },
		{ "&apos;", "'" }, { "&nbsp;", " " },
	};
	size_t i;

	for (i = 0; i < sizeof named / sizeof named[0]; i++) {
		if (strlen(named[i].name) == n && memcmp(s, named[i].name, n) == 0) {
			*outlen = strlen(named[i].text);
			memcpy(out, named[i].text, *outlen);
			return 0;
		}
	}
	if (n > 3 && s[1] == '#') {
		long cp = (s[2] == 'x' || s[2] == 'X') ? strtol(s + 3, NULL, 16) : strtol(s + 2, NULL, 10);

		/* Controls stay out: an entity must not smuggle in what the sanitizer removed. */
		if (cp >= 0x20 && cp != 0x7f && !(cp >= 0x80 && cp < 0xa0) && cp < 0x110000 &&
		    utf8proc_codepoint_valid((utf8proc_int32_t)cp)) {
			*outlen = (size_t)utf8proc_encode_char((utf8proc_int32_t)cp, (utf8proc_uint8_t *)out);
			return *outlen ? 0 : -1;
		}
	}
	return -1;
}

/* md4c: text inside a span or block. */
static int
md_text(MD_TEXTTYPE type, const MD_CHAR *text, MD_SIZE size, void *ud)
{
	struct md_inline *in = ud;
	int role = in->code ? THEME_CODE : in->link ? THEME_LINK : in->role;
	unsigned attrs = in->attrs | (in->em ? THEME_ITALIC : 0) | (in->strong ? THEME_BOLD : 0) |
	    (in->del ? THEME_STRIKE : 0);
	char ent[8];
	size_t elen;

	if (in->math) {
		if (type == MD_TEXT_SOFTBR || type == MD_TEXT_BR)
			buf_putc(&in->tex, ' ');
		else
			buf_append(&in->tex, text, size);
		return 0;
	}
	if (in->after_display) {
		while (size > 0 && (*text == ' ' || type == MD_TEXT_SOFTBR)) {
			text++;
			size--;
		}
		if (size == 0 || type == MD_TEXT_SOFTBR)
			return 0;
		in->after_display = 0;
	}
	if (in->link && in->url.len > 0 && type != MD_TEXT_SOFTBR && type != MD_TEXT_BR) {
		if (type == MD_TEXT_ENTITY && md_entity(text, size, ent, &elen) == 0)
			rtext_span_url(in->b, ent, elen, role, attrs, in->url.data, in->url.len);
		else
			rtext_span_url(in->b, type == MD_TEXT_NULLCHAR ? "\xef\xbf\xbd" : text,
			    type == MD_TEXT_NULLCHAR ? 3 : size, role, attrs, in->url.data, in->url.len);
		return 0;
	}
	switch (type) {
	case MD_TEXT_SOFTBR:
		rtext_span(in->b, " ", 1, role, attrs);
		break;
	case MD_TEXT_BR:
		rtext_span(in->b, "\n", 1, role, attrs);
		break;
	case MD_TEXT_NULLCHAR:
		rtext_span(in->b, "\xef\xbf\xbd", 3, role, attrs);
		break;
	case MD_TEXT_ENTITY:
		if (md_entity(text, size, ent, &elen) == 0)
			rtext_span(in->b, ent, elen, role, attrs);
		else
			rtext_span(in->b, text, size, role, attrs);
		break;
	default:
		if (type == MD_TEXT_NORMAL && !in->em && !in->strong && !in->code && !in->link &&
		    !in->del && text >= in->src && text + size <= in->src + in->n &&
		    memchr(text, '\t', size) == NULL) {
			if (md_nruns == md_capruns) {
				md_capruns = md_capruns ? md_capruns * 2 : 64;
				md_runs = xrealloc(md_runs, md_capruns * sizeof *md_runs);
			}
			md_runs[md_nruns].out = in->b->text.len;
			md_runs[md_nruns].in = (size_t)(text - in->src);
			md_runs[md_nruns++].len = size;
		}
		rtext_span(in->b, text, size, role, attrs);
		break;
	}
	return 0;
}

/* Does a line look like a link reference definition ("[label]: ...")? */
static int
md_refdef(const char *s, size_t n)
{
	const char *close = memchr(s, ']', n);

	return close != NULL && (size_t)(close - s) + 1 < n && close[1] == ':';
}

/* Append one content line to the md4c input, escaping what md4c would take for a block.
 * *from gets the source byte the output starts from, *ins the output offset of an inserted
 * backslash (SIZE_MAX when none), so output offsets can be mapped back to the source. */
static void
md_escape_line(struct buf *b, const char *s, size_t n, const char **from, size_t *ins)
{
	size_t i = 0, d;

	while (i < n && (s[i] == ' ' || s[i] == '\t'))
		i++;
	s += i;
	n -= i;
	*from = s;
	*ins = SIZE_MAX;
	if (n == 0)
		return;
	for (d = 0; d < n && d < 9 && s[d] >= '0' && s[d] <= '9'; d++)
		;
	if (d > 0 && d < n && (s[d] == '.' || s[d] == ')')) {
		buf_append(b, s, d);
		*ins = d;
		buf_putc(b, '\\');
		buf_append(b, s + d, n - d);
		return;
	}
	if (strchr("#>+-*=_~`|", s[0]) != NULL || (s[0] == '[' && md_refdef(s, n))) {
		*ins = 0;
		buf_putc(b, '\\');
	}
	buf_append(b, s, n);
}

/* Run md4c over the joined block text and add styled spans to the builder. */
static void
md_inline_render(struct rtext *b, const char *src, size_t n, int role, unsigned attrs)
{
	struct md_inline in;
	MD_PARSER parser;

	memset(&in, 0, sizeof in);
	in.b = b;
	in.role = role;
	in.attrs = attrs;
	in.src = src;
	in.n = n;
	md_nruns = 0;
	memset(&parser, 0, sizeof parser);
	parser.abi_version = 0;
	parser.flags = MD_FLAG_NOHTML | MD_FLAG_STRIKETHROUGH | MD_FLAG_PERMISSIVEURLAUTOLINKS |
	    MD_FLAG_PERMISSIVEWWWAUTOLINKS | (md_opts.math ? MD_FLAG_LATEXMATHSPANS : 0);
	parser.enter_block = md_enter_block;
	parser.leave_block = md_leave_block;
	parser.enter_span = md_enter_span;
	parser.leave_span = md_leave_span;
	parser.text = md_text;
	if (md_parse(src, (MD_SIZE)n, &parser, &in) != 0)
		rtext_span(b, src, n, role, attrs);
	buf_free(&in.href);
	buf_free(&in.url);
	buf_free(&in.tex);
}

/* Count leading spaces (a tab is four). */
static int
md_indent(const char *s, size_t n, size_t *skip)
{
	size_t i = 0;
	int ind = 0;

	while (i < n && (s[i] == ' ' || s[i] == '\t')) {
		ind += s[i] == '\t' ? 4 : 1;
		i++;
	}
	*skip = i;
	return ind;
}

/* Is this line a thematic break: three or more of one of - * _ and spaces only? */
static int
md_is_hr(const char *s, size_t n)
{
	char c = 0;
	int count = 0;
	size_t i;

	for (i = 0; i < n; i++) {
		if (s[i] == ' ' || s[i] == '\t' || s[i] == '\r')
			continue;
		if (s[i] != '-' && s[i] != '*' && s[i] != '_')
			return 0;
		if (c && s[i] != c)
			return 0;
		c = s[i];
		count++;
	}
	return count >= 3;
}

/* Length of a list marker at s ("- ", "12. "), 0 when there is none. */
static size_t
md_list_marker(const char *s, size_t n)
{
	size_t d;

	if (n >= 2 && (s[0] == '-' || s[0] == '*' || s[0] == '+') && (s[1] == ' ' || s[1] == '\t'))
		return 2;
	for (d = 0; d < n && d < 9 && s[d] >= '0' && s[d] <= '9'; d++)
		;
	if (d > 0 && d + 1 < n && (s[d] == '.' || s[d] == ')') && s[d + 1] == ' ')
		return d + 2;
	return 0;
}

/* Does a list item's text start with a task box? 1 for "[ ]", 2 for "[x]", else 0. */
static int
md_task(const char *s, size_t n)
{
	if (n < 3 || s[0] != '[' || s[2] != ']' || (n > 3 && s[3] != ' ' && s[3] != '\t'))
		return 0;
	if (s[1] == ' ')
		return 1;
	return s[1] == 'x' || s[1] == 'X' ? 2 : 0;
}

/* Classify one source line given the splitter state. */
static enum md_line
md_classify(const char *s, size_t n, const struct mdstate *st, int plain)
{
	size_t skip, i;
	int ind = md_indent(s, n, &skip);
	const char *t = s + skip;
	size_t tn = n - skip;

	if (plain)
		return L_PLAIN;
	if (tn > 0 && t[tn - 1] == '\r')
		tn--;
	if (st->in_fence) {
		if (ind <= 3 && tn >= (size_t)st->fence_len && t[0] == st->fence_char) {
			for (i = 0; i < tn && t[i] == st->fence_char; i++)
				;
			if (i >= (size_t)st->fence_len) {
				while (i < tn && t[i] == ' ')
					i++;
				if (i == tn)
					return L_FENCE_END;
			}
		}
		return L_CODE;
	}
	if (tn == 0)
		return L_BLANK;
	if (ind <= 3 && tn >= 3 && (t[0] == '`' || t[0] == '~') && t[1] == t[0] && t[2] == t[0]) {
		if (t[0] == '~' || memchr(t + 3, '`', tn - 3) == NULL)
			return L_FENCE;
	}
	if (ind <= 3 && t[0] == '#') {
		for (i = 0; i < tn && t[i] == '#'; i++)
			;
		if (i <= 6 && (i == tn || t[i] == ' ' || t[i] == '\t'))
			return L_HEADING;
	}
	if (ind <= 3 && md_is_hr(t, tn))
		return L_HR;
	if (ind <= 3 && t[0] == '>')
		return L_QUOTE;
	if (md_list_marker(t, tn) > 0)
		return L_LIST;
	if (ind <= 3 && t[0] == '|')
		return L_TABLE;
	return L_PARA;
}

/* The scratch builder for one logical line, reused to avoid allocation churn. */
static struct rtext md_scratch;
static struct buf md_joined;

/* Per source line of the last inline block: where it starts in md_joined, the source byte
 * that start came from and the escape inserted into it. */
struct md_jline {
	size_t start, ins;
	const char *from;
};
static struct md_jline *md_jlines;
static size_t md_njlines, md_capjlines;
/* Content offset where the last screen line of the last block starts. */
static size_t md_last_line;
/* Source bytes rendered so far, a debug counter for tests of the incremental cost. */
static size_t md_work;

/* Source bytes rendered since the program started (for tests). */
size_t
markdown_work(void)
{
	return md_work;
}

/* Map a content offset of the last inline block back to its source byte, or NULL when the
 * text there is not a verbatim copy outside any span. */
static const char *
md_content_to_src(size_t t)
{
	size_t i, j, k;

	for (i = md_nruns; i-- > 0;)
		if (md_runs[i].out <= t && t < md_runs[i].out + md_runs[i].len)
			break;
	if (i == (size_t)-1 || md_runs[i].out > t || t >= md_runs[i].out + md_runs[i].len)
		return NULL;
	j = md_runs[i].in + (t - md_runs[i].out);
	for (k = md_njlines; k-- > 0;)
		if (md_jlines[k].start <= j)
			break;
	if (k == (size_t)-1)
		return NULL;
	j -= md_jlines[k].start;
	if (md_jlines[k].ins != SIZE_MAX && j > md_jlines[k].ins)
		j--;
	return md_jlines[k].from + j;
}

/* Render a paragraph-like block: lines joined, inline-parsed, wrapped behind prefixes. */
static void
md_emit_inline(struct markdown *m, const char *const *lines, const size_t *lens, size_t nl,
    int role, unsigned attrs, const char *p1, const char *p2, int prole)
{
	size_t i;

	buf_reset(&md_joined);
	md_njlines = 0;
	for (i = 0; i < nl; i++) {
		if (i)
			buf_putc(&md_joined, '\n');
		if (md_njlines == md_capjlines) {
			md_capjlines = md_capjlines ? md_capjlines * 2 : 64;
			md_jlines = xrealloc(md_jlines, md_capjlines * sizeof *md_jlines);
		}
		md_jlines[md_njlines].start = md_joined.len;
		md_escape_line(&md_joined, lines[i], lens[i], &md_jlines[md_njlines].from,
		    &md_jlines[md_njlines].ins);
		md_njlines++;
	}
	rtext_clear(&md_scratch);
	md_inline_render(&md_scratch, buf_str(&md_joined), md_joined.len, role, attrs);
	md_last_line = rtext_add(&m->out, m->width, p1, p2, prole, &md_scratch, -1);
}

/* Cell builders of the table being drawn, reused. */
static struct rtext *md_cells;
static size_t md_capcells;

/* Is the line after `end` a complete delimiter row? */
static int
md_delim_next(const char *src, size_t end, size_t n)
{
	const char *nl = end < n ? memchr(src + end, '\n', n - end) : NULL;
	int aligns[TABLE_MAX_COLS];

	return nl != NULL && table_delim(src + end, (size_t)(nl - (src + end)), aligns,
	    TABLE_MAX_COLS) > 0;
}

/* Render a table block: a header row, the delimiter row, body rows. Without a delimiter
 * row in second place the lines are drawn as they are. */
static void
md_table(struct markdown *m, const char *const *lines, const size_t *lens, size_t nl)
{
	int aligns[TABLE_MAX_COLS];
	size_t start[TABLE_MAX_COLS], len[TABLE_MAX_COLS], ncols = 0, r, c, k, row = 0;
	const char *from;
	size_t ins;
	struct mdstate plain_st;

	memset(&plain_st, 0, sizeof plain_st);
	/* GFM: the header has as many cells as the delimiter row has columns. */
	if (nl >= 2)
		ncols = table_delim(lines[1], lens[1], aligns, TABLE_MAX_COLS);
	if (ncols > 0 && table_split(lines[0], lens[0], start, len, TABLE_MAX_COLS) != ncols)
		ncols = 0;
	if (ncols == 0) {
		for (r = 0; r < nl; r++) {
			rtext_clear(&md_scratch);
			rtext_span(&md_scratch, lines[r], lens[r], m->role, 0);
			rtext_add(&m->out, m->width, "", "", m->role, &md_scratch, -1);
		}
		return;
	}
	if ((nl - 1) * ncols > md_capcells) {
		size_t want = (nl - 1) * ncols;

		md_cells = xrealloc(md_cells, want * sizeof *md_cells);
		for (k = md_capcells; k < want; k++)
			rtext_init(&md_cells[k]);
		md_capcells = want;
	}
	for (r = 0; r < nl; r++) {
		if (r == 1)
			continue;
		k = table_split(lines[r], lens[r], start, len, TABLE_MAX_COLS);
		for (c = 0; c < ncols; c++) {
			struct rtext *cell = &md_cells[row * ncols + c];

			rtext_clear(cell);
			if (c >= k || len[c] == 0)
				continue;
			buf_reset(&md_joined);
			/* A cell is inline text: only what md4c would take for a block is escaped. */
			if (md_classify(lines[r] + start[c], len[c], &plain_st, 0) != L_PARA)
				md_escape_line(&md_joined, lines[r] + start[c], len[c], &from, &ins);
			else
				buf_append(&md_joined, lines[r] + start[c], len[c]);
			md_inline_render(cell, buf_str(&md_joined), md_joined.len,
			    row == 0 ? THEME_TABLEHEADER : m->role, 0);
		}
		row++;
	}
	table_render(&m->out, m->width, md_cells, row, ncols, aligns, 1, THEME_TABLEBORDER);
}

/* Render a line of repeated border characters with an optional label. */
static void
md_emit_rule(struct markdown *m, const char *start, const char *label, int role)
{
	struct buf b = BUF_INIT;
	int w;

	buf_puts(&b, start);
	if (label != NULL && *label) {
		buf_puts(&b, "─ ");
		buf_puts(&b, label);
		buf_putc(&b, ' ');
	}
	w = wrap_width(b.data, b.len);
	if (w > m->width) {
		b.len = wrap_col_to_off(b.data, b.len, m->width);
		b.data[b.len] = '\0';
		w = m->width;
	}
	for (; w < m->width; w++)
		buf_puts(&b, "─");
	rtext_clear(&md_scratch);
	rtext_span(&md_scratch, b.data, b.len, role, 0);
	rtext_add(&m->out, m->width, "", "", role, &md_scratch, -1);
	buf_free(&b);
}

/* Render a list item: its marker (a bullet, its number, or a task box) and its text. */
static void
md_list(struct markdown *m, const char *const *lines, const size_t *lens, size_t nl)
{
	const char *t = lines[0];
	size_t n = lens[0], mk;
	size_t skip, i;
	int ind = md_indent(t, n, &skip);
	char p1[48], p2[48];
	const char **sub = xcalloc(nl, sizeof *sub);
	size_t *sublen = xcalloc(nl, sizeof *sublen);
	int pad = (ind / 2) * 2 > 16 ? 16 : (ind / 2) * 2, w, task;

	t += skip;
	n -= skip;
	mk = md_list_marker(t, n);
	task = md_task(t + mk, n - mk);
	if (task > 0 && (t[0] == '-' || t[0] == '*' || t[0] == '+'))
		snprintf(p1, sizeof p1, "%*s%s ", pad, "", task == 2 ? "☑" : "☐");
	else if (task > 0)
		snprintf(p1, sizeof p1, "%*s%.*s %s ", pad, "", (int)mk - 1, t,
		    task == 2 ? "☑" : "☐");
	else if (t[0] == '-' || t[0] == '*' || t[0] == '+')
		snprintf(p1, sizeof p1, "%*s• ", pad, "");
	else
		snprintf(p1, sizeof p1, "%*s%.*s ", pad, "", (int)mk - 1, t);
	w = wrap_width(p1, strlen(p1));
	snprintf(p2, sizeof p2, "%*s", w, "");
	if (task > 0)
		mk += n - mk > 3 ? 4 : 3;
	sub[0] = t + mk;
	sublen[0] = n - mk;
	for (i = 1; i < nl; i++) {
		sub[i] = lines[i];
		sublen[i] = lens[i];
	}
	md_emit_inline(m, sub, sublen, nl, m->role, 0, p1, p2, task > 0 ? THEME_TASK :
	    THEME_BULLET);
	free(sub);
	free(sublen);
}

/* Render one block of lines of one kind; st is updated. */
static void
md_render_block(struct markdown *m, struct mdstate *st, enum md_line kind,
    const char *const *lines, const size_t *lens, size_t nl)
{
	size_t skip, i;

	for (i = 0; i < nl; i++)
		md_work += lens[i];
	if (kind == L_BLANK) {
		st->saw_blank = 1;
		return;
	}
	if (kind != L_CODE && kind != L_FENCE_END) {
		if (st->saw_blank && st->has_output)
			rtext_blank(&m->out);
		st->saw_blank = 0;
		st->has_output = 1;
	}
	switch (kind) {
	case L_PLAIN:
		rtext_clear(&md_scratch);
		rtext_span(&md_scratch, lines[0], lens[0], m->role, 0);
		md_last_line = rtext_add(&m->out, m->width, "", "", m->role, &md_scratch, -1);
		break;
	case L_PARA:
		md_emit_inline(m, lines, lens, nl, m->role, 0, "", "", m->role);
		break;
	case L_HEADING: {
		const char *t = lines[0];
		size_t n = lens[0];
		int level = 0;

		md_indent(t, n, &skip);
		t += skip;
		n -= skip;
		while (n > 0 && *t == '#') {
			t++;
			n--;
			level++;
		}
		while (n > 0 && (t[n - 1] == '#' || t[n - 1] == ' ' || t[n - 1] == '\r'))
			n--;
		md_emit_inline(m, &t, &n, 1, THEME_HEADING, THEME_BOLD |
		    (level == 1 ? THEME_UNDERLINE : 0), "", "", THEME_HEADING);
		break;
	}
	case L_HR:
		md_emit_rule(m, "", NULL, THEME_BORDER);
		break;
	case L_QUOTE: {
		const char **sub = xcalloc(nl, sizeof *sub);
		size_t *sublen = xcalloc(nl, sizeof *sublen), ns = 0;

		for (i = 0; i <= nl; i++) {
			const char *t = i < nl ? lines[i] : NULL;
			size_t n = i < nl ? lens[i] : 0;

			if (t != NULL) {
				md_indent(t, n, &skip);
				t += skip + 1;
				n -= skip + 1;
				if (n > 0 && *t == ' ') {
					t++;
					n--;
				}
			}
			if (t == NULL || n == 0) {
				if (ns > 0)
					md_emit_inline(m, sub, sublen, ns, THEME_QUOTE, 0, "▌ ", "▌ ",
					    THEME_QUOTE);
				ns = 0;
				if (t != NULL) {
					rtext_clear(&md_scratch);
					rtext_add(&m->out, m->width, "▌", "▌", THEME_QUOTE, &md_scratch, -1);
				}
				continue;
			}
			sub[ns] = t;
			sublen[ns++] = n;
		}
		free(sub);
		free(sublen);
		break;
	}
	case L_LIST:
		md_list(m, lines, lens, nl);
		break;
	case L_TABLE:
		md_table(m, lines, lens, nl);
		break;
	case L_FENCE: {
		const char *t = lines[0];
		size_t n = lens[0], k, e;
		char lang[40];

		md_indent(t, n, &skip);
		t += skip;
		n -= skip;
		st->fence_char = t[0];
		for (k = 0; k < n && t[k] == t[0]; k++)
			;
		st->fence_len = (int)k;
		while (k < n && t[k] == ' ')
			k++;
		for (e = k; e < n && t[e] != ' ' && t[e] != '\r' && t[e] != '{'; e++)
			;
		snprintf(lang, sizeof lang, "%.*s", (int)(e - k), t + k);
		snprintf(st->lang, sizeof st->lang, "%.*s", (int)sizeof st->lang - 1, lang);
		st->in_fence = 1;
		st->ncode++;
		md_emit_rule(m, "╭", lang[0] ? lang : "code", THEME_CODEBORDER);
		break;
	}
	case L_CODE: {
		size_t n = lens[0];

		if (n > 0 && lines[0][n - 1] == '\r')
			n--;
		rtext_clear(&md_scratch);
		rtext_span(&md_scratch, lines[0], n, THEME_CODEBLOCK, 0);
		rtext_add(&m->out, m->width, "│ ", "│ ", THEME_CODEBORDER, &md_scratch,
		    st->ncode - 1);
		break;
	}
	case L_FENCE_END:
		st->in_fence = 0;
		md_emit_rule(m, "╰", NULL, THEME_CODEBORDER);
		break;
	default:
		break;
	}
}

/* The code of the block being highlighted, joined, reused. */
static struct buf md_code;

/* Set the rendering switches. */
void
markdown_set_options(const struct md_options *o)
{
	md_opts = *o;
}

/* FNV-1a over n bytes, continuing from h. */
static uint64_t
md_hash(uint64_t h, const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		h ^= (unsigned char)s[i];
		h *= 0x100000001b3ull;
	}
	return h;
}

/* The highlighting of code block k (its language and joined code in md_code), from the
 * cache or painted now; NULL when the language has no syntax. */
static const uint8_t *
md_code_roles(struct markdown *m, size_t k, const char *lang)
{
	uint64_t h = md_hash(md_hash(0xcbf29ce484222325ull, lang, strlen(lang) + 1),
	    md_code.data, md_code.len) | 1;
	const struct hl_syntax *syn;
	struct md_hl *e;

	if (k >= m->nhl) {
		m->hl = xrealloc(m->hl, (k + 1) * sizeof *m->hl);
		memset(m->hl + m->nhl, 0, (k + 1 - m->nhl) * sizeof *m->hl);
		m->nhl = k + 1;
	}
	e = &m->hl[k];
	if (e->hash == h && e->n == md_code.len)
		return e->roles;
	free(e->roles);
	e->roles = NULL;
	e->hash = h;
	e->n = md_code.len;
	syn = highlight_find(lang, md_code.data, strcspn(md_code.data, "\n"));
	if (syn != NULL && highlight_nrules(syn) > 0) {
		e->roles = xmalloc(md_code.len + 1);
		highlight_paint(syn, md_code.data, md_code.len, e->roles);
	}
	return e->roles;
}

/* Code blocks longer than this are left plain (see the top of this file). */
#define MD_HL_MAX (1u << 20)

/* Draw the lines of the code block that ends at source offset `to` again, highlighted in
 * its language: the output goes back to where its lines started. A block whose language
 * has no syntax keeps the plain lines it has. */
static void
md_code_close(struct markdown *m, struct mdstate *st, const char *src, size_t to)
{
	size_t pos, a, b, k = (size_t)(st->ncode - 1);
	const uint8_t *roles;

	if (!md_opts.highlight || m->plain || st->ncode <= 0 || st->code_src >= to ||
	    to - st->code_src > MD_HL_MAX)
		return;
	buf_reset(&md_code);
	for (pos = st->code_src; pos < to;) {
		const char *nl = memchr(src + pos, '\n', to - pos);
		size_t len = nl ? (size_t)(nl - (src + pos)) : to - pos;

		buf_append(&md_code, src + pos, len > 0 && src[pos + len - 1] == '\r' ? len - 1 : len);
		buf_putc(&md_code, '\n');
		pos += len + (nl ? 1 : 0);
	}
	if ((roles = md_code_roles(m, k, st->lang)) == NULL)
		return;
	md_work += md_code.len;
	rtext_truncate(&m->out, st->code_text, st->code_segs, st->code_lines);
	for (pos = 0; pos < md_code.len; pos = b + 1) {
		b = pos + strcspn(md_code.data + pos, "\n");
		rtext_clear(&md_scratch);
		for (a = pos; a < b;) {
			size_t e = a + 1;

			while (e < b && roles[e] == roles[a])
				e++;
			rtext_span(&md_scratch, md_code.data + a, e - a,
			    roles[a] ? roles[a] : THEME_CODEBLOCK, 0);
			a = e;
		}
		rtext_add(&m->out, m->width, "│ ", "│ ", THEME_CODEBORDER, &md_scratch, (int)k);
	}
}

/* Does a line of this kind continue a block of kind `kind`? */
static int
md_continues(enum md_line kind, enum md_line next)
{
	if (kind == L_PARA || kind == L_LIST)
		return next == L_PARA;
	if (kind == L_QUOTE)
		return next == L_QUOTE;
	return 0;
}

/* Initialise a renderer for text in role; plain disables Markdown. */
void
markdown_init(struct markdown *m, int role, int plain)
{
	memset(m, 0, sizeof *m);
	rtext_init(&m->out);
	m->role = role;
	m->plain = plain;
	m->width = -1;
	m->win_ck = -2;
}

/* Free a renderer. */
void
markdown_free(struct markdown *m)
{
	size_t i;

	rtext_free(&m->out);
	rtext_free(&m->win);
	for (i = 0; i < m->nhl; i++)
		free(m->hl[i].roles);
	free(m->hl);
	m->hl = NULL;
	m->nhl = 0;
	free(m->ck);
	m->ck = NULL;
	m->nck = m->capck = 0;
}

/* Forget the rendering so the next update starts over. */
void
markdown_reset(struct markdown *m)
{
	rtext_clear(&m->out);
	m->src_frozen = 0;
	m->out_text = m->out_segs = m->out_lines = m->out_urls = 0;
	memset(&m->st, 0, sizeof m->st);
	m->open = m->st;
	m->width = -1;
	m->line_base = m->text_base = m->segs_base = 0;
	m->nck = 0;
	rtext_clear(&m->win);
	m->win_ck = -2;
}

/* Source bytes between checkpoints, and the output kept before the oldest lines go. */
#define MD_CKPT_EVERY (64u << 10)
#define MD_KEEP (4u << 20)

/* Make everything rendered up to source offset src, with state *st, the frozen boundary;
 * keep it as a checkpoint when the last one is far enough behind and it is not inside a
 * code block that may yet be highlighted. */
static void
md_freeze(struct markdown *m, const struct mdstate *st, size_t src)
{
	struct md_ckpt *c;

	m->src_frozen = src;
	m->st = *st;
	m->out_text = m->out.text.len;
	m->out_segs = m->out.nsegs;
	m->out_lines = m->out.nlines;
	m->out_urls = m->out.urls.len;
	if (src < (m->nck > 0 ? m->ck[m->nck - 1].src : 0) + MD_CKPT_EVERY ||
	    (st->in_fence && st->code_src != (size_t)-1 && src - st->code_src <= MD_HL_MAX))
		return;
	if (m->nck == m->capck) {
		m->capck = m->capck ? m->capck * 2 : 16;
		m->ck = xrealloc(m->ck, m->capck * sizeof *m->ck);
	}
	c = &m->ck[m->nck++];
	c->src = src;
	c->line = m->line_base + m->out.nlines;
	c->text = m->text_base + m->out.text.len;
	c->segs = m->segs_base + m->out.nsegs;
	c->st = *st;
	/* The block it is inside is too long ever to be highlighted. */
	if (st->in_fence)
		c->st.code_src = (size_t)-1;
}

/* Once the kept output is over MD_KEEP bytes, drop every line before the last checkpoint;
 * 1 when it did (the frozen state m->st changed with the output). */
static int
md_evict(struct markdown *m)
{
	const struct md_ckpt *c;
	size_t dt, ds, dl, i;

	if (m->out.text.len <= MD_KEEP || m->nck == 0 || m->ck[m->nck - 1].line <= m->line_base)
		return 0;
	c = &m->ck[m->nck - 1];
	dt = c->text - m->text_base;
	ds = c->segs - m->segs_base;
	dl = c->line - m->line_base;
	memmove(m->out.text.data, m->out.text.data + dt, m->out.text.len - dt + 1);
	m->out.text.len -= dt;
	memmove(m->out.segs, m->out.segs + ds, (m->out.nsegs - ds) * sizeof *m->out.segs);
	m->out.nsegs -= ds;
	for (i = 0; i < m->out.nsegs; i++)
		m->out.segs[i].off -= (uint32_t)dt;
	memmove(m->out.lines, m->out.lines + dl, (m->out.nlines - dl) * sizeof *m->out.lines);
	m->out.nlines -= dl;
	for (i = 0; i < m->out.nlines; i++)
		m->out.lines[i].seg -= (uint32_t)ds;
	m->out_text -= dt;
	m->out_segs -= ds;
	m->out_lines -= dl;
	m->text_base += dt;
	m->segs_base += ds;
	m->line_base += dl;
	/* A code block whose start went is longer than MD_HL_MAX: it stays plain. */
	if (m->st.in_fence && m->st.code_lines < dl) {
		m->st.code_src = (size_t)-1;
	} else if (m->st.in_fence) {
		m->st.code_text -= dt;
		m->st.code_segs -= ds;
		m->st.code_lines -= dl;
	}
	return 1;
}

#define MD_MAXLINES 4096
/*
 * A paragraph (or plain line) longer than this many source bytes is rendered in pieces: the
 * first MD_CHUNK bytes are rendered, every screen line but the last is frozen, and the
 * source resumes where that last line started. Greedy wrapping restarted at a line start
 * gives the same lines, so the result looks the same, but a paragraph that never closes
 * costs at most about MD_CHUNK bytes of work per update instead of its whole length. The
 * price: inline markup cannot pair across a cut (a `*` left open before it stays literal).
 * Cuts depend only on the source, so streamed and one-shot renderings are identical.
 */
#define MD_CHUNK 4096

/* Render the first MD_CHUNK bytes of a long block and freeze its complete screen lines;
 * returns the source offset to resume from, or 0 when no line could be frozen (the output
 * and *st are then as they were). */
static size_t
md_render_piece(struct markdown *m, struct mdstate *st, enum md_line kind, const char *src,
    size_t pos, const char **lines, size_t *lens, size_t nl)
{
	size_t text = m->out.text.len, segs = m->out.nsegs, before = m->out.nlines, k;
	size_t piece = pos + MD_CHUNK;
	struct mdstate save = *st;
	const char *cut = NULL;
	const struct rline *last;
	size_t keep;

	while (nl > 1 && (size_t)(lines[nl - 1] - src) >= piece)
		nl--;
	keep = lens[nl - 1];
	if ((size_t)(lines[nl - 1] - src) + lens[nl - 1] > piece)
		lens[nl - 1] = piece - (size_t)(lines[nl - 1] - src);
	md_render_block(m, st, kind, lines, lens, nl);
	lens[nl - 1] = keep;
	if (m->out.nlines >= before + 2) {
		if (kind == L_PLAIN) {
			if (memchr(lines[0], '\t', md_last_line) == NULL)
				cut = lines[0] + md_last_line;
		} else {
			cut = md_content_to_src(md_last_line);
		}
	}
	if (cut == NULL || (size_t)(cut - src) <= pos || (size_t)(cut - src) >= piece) {
		rtext_truncate(&m->out, text, segs, before);
		*st = save;
		return 0;
	}
	/* Drop the last screen line: it is rendered again, whole, from the cut. */
	last = &m->out.lines[m->out.nlines - 1];
	k = last->nseg > 0 ? m->out.segs[last->seg].off : m->out.text.len;
	rtext_truncate(&m->out, k, last->seg, m->out.nlines - 1);
	st->cont = kind;
	return (size_t)(cut - src);
}

/* Render what follows the frozen boundary up to source offset stop (or the end), freezing
 * every block proven complete; with evict, old lines go as they pass MD_KEEP (a window
 * keeps all it renders). */
static void
md_render(struct markdown *m, const char *src, size_t n, int final, size_t stop, int evict)
{
	const char **lines = NULL;
	size_t *lens = NULL, cap = 0;
	struct mdstate st;
	size_t pos;
	int frozen_ok = 1;

	rtext_truncate(&m->out, m->out_text, m->out_segs, m->out_lines);
	if (m->out.urls.len > m->out_urls) {
		m->out.urls.len = m->out_urls;
		m->out.urls.data[m->out_urls] = '\0';
	}
	st = m->st;
	pos = m->src_frozen;
	while (pos < n && pos < stop) {
		const char *nl = memchr(src + pos, '\n', n - pos);
		size_t len = nl ? (size_t)(nl - (src + pos)) : n - pos;
		int complete = nl != NULL || final;
		enum md_line kind = st.cont ? (enum md_line)st.cont :
		    md_classify(src + pos, len, &st, m->plain);
		size_t end = pos + len + (nl ? 1 : 0), nlines = 1, cut;

		if (cap == 0) {
			cap = 16;
			lines = xmalloc(cap * sizeof *lines);
			lens = xmalloc(cap * sizeof *lens);
		}
		lines[0] = src + pos;
		lens[0] = len;
		/* A line with a pipe followed by a delimiter row starts a table. */
		if (kind == L_PARA && !st.cont && memchr(src + pos, '|', len) != NULL &&
		    md_delim_next(src, end, n))
			kind = L_TABLE;
		if (kind == L_PARA || kind == L_LIST || kind == L_QUOTE || kind == L_TABLE) {
			/* Gather continuation lines; complete only once a full line ends it. */
			complete = 0;
			while (end < n) {
				const char *nl2 = memchr(src + end, '\n', n - end);
				size_t len2 = nl2 ? (size_t)(nl2 - (src + end)) : n - end;
				enum md_line k2 = md_classify(src + end, len2, &st, 0);
				int cont = (kind == L_TABLE ? k2 == L_TABLE || (k2 == L_PARA &&
				    memchr(src + end, '|', len2) != NULL) : md_continues(kind, k2)) &&
				    nlines < MD_MAXLINES;

				if (nl2 == NULL && !final && !cont)
					break;
				if (!cont) {
					complete = 1;
					break;
				}
				if (nlines == cap) {
					cap *= 2;
					lines = xrealloc(lines, cap * sizeof *lines);
					lens = xrealloc(lens, cap * sizeof *lens);
				}
				lines[nlines] = src + end;
				lens[nlines++] = len2;
				end += len2 + (nl2 ? 1 : 0);
			}
			if (end >= n && final)
				complete = 1;
		}
		st.cont = 0;
		if ((kind == L_PARA || kind == L_PLAIN) && end - pos > MD_CHUNK && frozen_ok &&
		    (cut = md_render_piece(m, &st, kind, src, pos, lines, lens, nlines)) > 0) {
			md_freeze(m, &st, cut);
			if (evict && md_evict(m))
				st = m->st;
			pos = cut;
			continue;
		}
		if (kind == L_FENCE_END && complete && frozen_ok)
			md_code_close(m, &st, src, pos);
		md_render_block(m, &st, kind, lines, lens, nlines);
		if (kind == L_FENCE) {
			st.code_src = end;
			st.code_text = m->out.text.len;
			st.code_segs = m->out.nsegs;
			st.code_lines = m->out.nlines;
		}
		if (frozen_ok && complete) {
			md_freeze(m, &st, end);
			if (evict && md_evict(m))
				st = m->st;
		} else {
			frozen_ok = 0;
		}
		pos = end;
	}
	/* A reply that ended inside a code block: that block is over too. */
	if (final && frozen_ok && st.in_fence && m->src_frozen == n) {
		md_code_close(m, &st, src, n);
		md_freeze(m, &st, n);
	}
	m->open = st;
	free(lines);
	free(lens);
}

/* Render what follows the frozen boundary, freezing every block proven complete. */
void
markdown_update(struct markdown *m, const char *src, size_t n, int width, int final)
{
	if (width < 4)
		width = 4;
	if (width != m->width || m->src_frozen > n) {
		markdown_reset(m);
		m->width = width;
	}
	md_render(m, src, n, final, (size_t)-1, 1);
}

/* How many screen lines the rendering has. */
size_t
markdown_nlines(const struct markdown *m)
{
	return m->line_base + m->out.nlines;
}

/* The rendering holding screen line `line`: the kept output, or a window rendered again
 * from the last checkpoint before the line up to the next one. */
const struct rtext *
markdown_line(struct markdown *m, const char *src, size_t n, size_t line, size_t *at)
{
	static const struct md_ckpt start;
	const struct md_ckpt *c = &start, *next;
	struct markdown w;
	size_t lo = 0, hi = m->nck, mid;
	long k = -1;

	if (line >= m->line_base) {
		*at = line - m->line_base;
		return *at < m->out.nlines ? &m->out : NULL;
	}
	/* The last checkpoint at or before the line (none: the start). */
	while (lo < hi) {
		mid = (lo + hi) / 2;
		if (m->ck[mid].line <= line)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo > 0) {
		k = (long)lo - 1;
		c = &m->ck[k];
	}
	if ((size_t)(k + 1) >= m->nck)
		return NULL;
	next = &m->ck[k + 1];
	if (m->win_ck != k) {
		markdown_init(&w, m->role, m->plain);
		w.width = m->width;
		w.src_frozen = c->src;
		w.st = c->st;
		/* The window shares the highlighting cache: its blocks are the text's. */
		w.hl = m->hl;
		w.nhl = m->nhl;
		md_render(&w, src, n, 0, next->src, 0);
		m->hl = w.hl;
		m->nhl = w.nhl;
		w.hl = NULL;
		w.nhl = 0;
		rtext_free(&m->win);
		m->win = w.out;
		rtext_init(&w.out);
		markdown_free(&w);
		m->win_ck = k;
	}
	*at = line - c->line;
	return *at < m->win.nlines ? &m->win : NULL;
}

/* Collect the source of code block k (0-based): the lines between its fences. */
int
markdown_code_block(const char *src, size_t n, int k, struct buf *out)
{
	struct mdstate st;
	size_t pos = 0;
	int idx = -1, found = 0;

	memset(&st, 0, sizeof st);
	buf_reset(out);
	while (pos < n) {
		const char *nl = memchr(src + pos, '\n', n - pos);
		size_t len = nl ? (size_t)(nl - (src + pos)) : n - pos;
		enum md_line kind = md_classify(src + pos, len, &st, 0);

		if (kind == L_FENCE) {
			size_t skip, j;

			md_indent(src + pos, len, &skip);
			st.in_fence = 1;
			st.fence_char = src[pos + skip];
			for (j = skip; j < len && src[pos + j] == st.fence_char; j++)
				;
			st.fence_len = (int)(j - skip);
			idx++;
		} else if (kind == L_FENCE_END) {
			st.in_fence = 0;
			if (idx == k)
				return 0;
		} else if (kind == L_CODE && idx == k) {
			found = 1;
			buf_append(out, src + pos, len);
			buf_putc(out, '\n');
		}
		pos += len + (nl ? 1 : 0);
	}
	return idx >= k && (found || idx == k) ? 0 : -1;
}
