/*
 * Rendered text and the incremental Markdown renderer, both curses-free so they can be
 * unit tested. A struct rtext is a list of screen lines, each a run of styled segments
 * pointing into one text buffer. A struct markdown turns a growing source string into an
 * rtext at a given width: blocks that are finished are frozen (rendered once, kept), and
 * each update only re-renders the open block at the end (peers.md R1).
 */
#ifndef NATTER_MARKDOWN_H
#define NATTER_MARKDOWN_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

struct rseg {
	uint32_t off;      /* into rtext.text */
	uint32_t len;
	uint16_t role;     /* enum theme_role */
	uint16_t attrs;    /* THEME_ bits added to the role's own */
	uint32_t url;      /* a link's address: its offset in rtext.urls plus one, 0 for none */
	uint32_t urllen;
};

struct rline {
	uint32_t seg;      /* first segment */
	uint32_t nseg;
	int32_t code;      /* index of the code block this line belongs to, or -1 */
};

struct rtext {
	struct buf text;
	struct buf urls;   /* the addresses of links (sanitized), see rseg.url */
	struct rseg *segs;
	size_t nsegs, capsegs;
	struct rline *lines;
	size_t nlines, caplines;
};

void rtext_init(struct rtext *r);
void rtext_free(struct rtext *r);
void rtext_clear(struct rtext *r);
/* Drop everything after the given sizes (used to discard the open block). */
void rtext_truncate(struct rtext *r, size_t text, size_t segs, size_t lines);
/* Append one logical line: a prefix for the first screen line, one for the others, and
 * the content with its styles, wrapped to width. Newlines in the content break lines.
 * Returns the content offset where the last screen line starts. */
size_t rtext_add(struct rtext *r, int width, const char *first_prefix, const char *cont_prefix,
    int prefix_role, const struct rtext *content, int code);
/* Append text to a one-line builder (segments only, no lines). */
void rtext_span(struct rtext *r, const char *s, size_t n, int role, unsigned attrs);
/* The same for the text of a link to url (a sanitized address, see link_clean). */
void rtext_span_url(struct rtext *r, const char *s, size_t n, int role, unsigned attrs,
    const char *url, size_t urllen);
/* Append the part of builder src between content offsets a and b, styles and links kept. */
void rtext_copy(struct rtext *dst, const struct rtext *src, size_t a, size_t b);
/* Append an empty screen line. */
void rtext_blank(struct rtext *r);
/* The whole rendered text as plain lines joined with newlines (for tests and copies). */
char *rtext_plain(const struct rtext *r);

/* Splitter state carried across the frozen boundary. */
struct mdstate {
	int in_fence;
	char fence_char;
	int fence_len;
	int ncode;         /* code blocks seen, for copy-code */
	int saw_blank;     /* a blank line waits to separate the next block */
	int has_output;
	int cont;          /* the source resumes inside a paragraph or plain line of this
	                    * kind, cut at a screen line start (see MD_CHUNK) */
	/* The open code block: where its lines start in the source and in the output, and
	 * its language, so that it can be drawn again highlighted once it closes. */
	size_t code_src, code_text, code_segs, code_lines;
	char lang[32];
};

/* A closed code block's highlighting, kept so that drawing it again (a new width, a
 * redraw) does not match regexes again. roles is NULL when its language has no syntax. */
struct md_hl {
	uint64_t hash;     /* of the language and the code */
	size_t n;
	uint8_t *roles;
};

/* A frozen boundary that the lines after it can be rendered again from: a long text keeps
 * only its last lines and renders the others again when they are drawn (markdown_line). */
struct md_ckpt {
	size_t src;        /* source offset */
	size_t line;       /* the first line rendered from there */
	size_t text, segs; /* output sizes there, counted from the start of the rendering */
	struct mdstate st;
};

/* Rendering switches, from the configuration (render: in natter.yaml). */
struct md_options {
	int highlight;     /* syntax highlighting of code blocks */
	int math;          /* LaTeX between $ and $$ drawn in Unicode */
	int link_urls;     /* a link's address shown after its text */
};

struct markdown {
	int width;
	int role;          /* base role of the text */
	int plain;         /* no Markdown: text wrapped as it is */
	struct rtext out;
	size_t src_frozen; /* source bytes consumed by frozen blocks */
	size_t out_text, out_segs, out_lines, out_urls; /* output sizes at the frozen boundary */
	struct mdstate st; /* state at the frozen boundary */
	struct mdstate open; /* state after the open block (code block count) */
	struct md_hl *hl;  /* by code block index */
	size_t nhl;
	/* out holds the lines from line_base on; text_base and segs_base are the sizes of
	 * what went before it. */
	size_t line_base, text_base, segs_base;
	struct md_ckpt *ck; /* every MD_CKPT_EVERY source bytes or so */
	size_t nck, capck;
	struct rtext win;   /* lines before line_base rendered again: those of checkpoint */
	long win_ck;        /* win_ck (-1: the start), or -2 when it holds nothing */
};

/* Set the rendering switches for every renderer (all on by default). */
void markdown_set_options(const struct md_options *o);

void markdown_init(struct markdown *m, int role, int plain);
void markdown_free(struct markdown *m);
/* Forget everything rendered (the next update renders from scratch). */
void markdown_reset(struct markdown *m);
/* Bring the rendering up to date with src (n bytes) at width. final: the source is
 * complete, so the last block is closed too. */
void markdown_update(struct markdown *m, const char *src, size_t n, int width, int final);
/* How many screen lines the rendering has (out holds the last of them). */
size_t markdown_nlines(const struct markdown *m);
/* The rendering holding screen line `line` of the last update of src (n bytes), with its
 * index there in *at; lines no longer kept are rendered again, a window at a time. NULL
 * when there is no such line. */
const struct rtext *markdown_line(struct markdown *m, const char *src, size_t n, size_t line,
    size_t *at);
/* Source bytes rendered since start, a debug counter that tests use to check that an
 * update costs work proportional to the open block only. */
size_t markdown_work(void);
/* The source text of code block k (0-based) in src, into out; -1 if there is none. */
int markdown_code_block(const char *src, size_t n, int k, struct buf *out);

#endif
