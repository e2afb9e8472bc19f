/* Unit tests for the incremental Markdown renderer (ui/markdown.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "markdown.h"
#include "theme.h"
#include "wrap.h"

static const char *doc =
    "# Title with `code`\n"
    "\n"
    "Some *emphasis* and **strong** text that is long enough to wrap at forty columns.\n"
    "\n"
    "- first item\n"
    "- second item continues\n"
    "  on another line\n"
    "1. numbered\n"
    "\n"
    "> quoted text\n"
    "> more\n"
    "\n"
    "```python\n"
    "def f():\n"
    "    return '日本語'\n"
    "```\n"
    "\n"
    "---\n"
    "Last paragraph with 🙂 emoji and CJK 日本語日本語日本語日本語 wrapping.";

/* Render src in one go. */
static char *
render_full(const char *src, int width)
{
	struct markdown m;
	char *s;

	markdown_init(&m, THEME_TEXT, 0);
	markdown_update(&m, src, strlen(src), width, 1);
	s = rtext_plain(&m.out);
	markdown_free(&m);
	return s;
}

/* Headings, lists, quotes and code blocks render with their decorations. */
static void
test_blocks(void **state)
{
	char *s = render_full(doc, 40);

	(void)state;
	assert_non_null(strstr(s, "Title with code\n"));
	assert_non_null(strstr(s, "• first item\n"));
	assert_non_null(strstr(s, "• second item continues"));
	assert_non_null(strstr(s, "1. numbered\n"));
	assert_non_null(strstr(s, "▌ quoted text more\n"));
	assert_non_null(strstr(s, "╭─ python "));
	assert_non_null(strstr(s, "│     return '日本語'\n"));
	assert_non_null(strstr(s, "╰──"));
	assert_null(strstr(s, "**"));
	assert_null(strstr(s, "```"));
	free(s);
}

/* Every rendered line fits the width. */
static void
test_fits(void **state)
{
	char *s = render_full(doc, 23), *p, *nl;

	(void)state;
	for (p = s; (nl = strchr(p, '\n')) != NULL; p = nl + 1)
		assert_true(wrap_width(p, (size_t)(nl - p)) <= 23);
	free(s);
}

/* Feeding the source in chunks (as a stream does) renders exactly like a full render. */
static void
test_incremental_equals_full(void **state)
{
	size_t n = strlen(doc), step, pos;
	char *full = render_full(doc, 37);

	(void)state;
	for (step = 1; step < 40; step += 3) {
		struct markdown m;
		char *inc;

		markdown_init(&m, THEME_TEXT, 0);
		for (pos = 0; pos < n; pos += step) {
			size_t upto = pos + step > n ? n : pos + step;

			markdown_update(&m, doc, upto, 37, 0);
		}
		markdown_update(&m, doc, n, 37, 1);
		inc = rtext_plain(&m.out);
		assert_string_equal(inc, full);
		free(inc);
		markdown_free(&m);
	}
	free(full);
}

/* Finished blocks are frozen: the boundary advances and stays behind the open block. */
static void
test_frozen(void **state)
{
	struct markdown m;
	const char *src = "para one\n\npara two still open";

	(void)state;
	markdown_init(&m, THEME_TEXT, 0);
	markdown_update(&m, src, strlen(src), 40, 0);
	assert_int_equal(m.src_frozen, strlen("para one\n\n"));
	assert_int_equal(m.out_lines, 1);
	assert_int_equal(m.out.nlines, 3);
	markdown_free(&m);
}

/* Inline code and emphasis carry their roles and attributes. */
static void
test_inline_styles(void **state)
{
	struct markdown m;
	const char *src = "a `b` *c* **d**\n";
	size_t i;
	int code = 0, it = 0, bold = 0;

	(void)state;
	markdown_init(&m, THEME_TEXT, 0);
	markdown_update(&m, src, strlen(src), 40, 1);
	for (i = 0; i < m.out.nsegs; i++) {
		const struct rseg *sg = &m.out.segs[i];
		const char *t = m.out.text.data + sg->off;

		if (sg->role == THEME_CODE && t[0] == 'b')
			code = 1;
		if ((sg->attrs & THEME_ITALIC) && t[0] == 'c')
			it = 1;
		if ((sg->attrs & THEME_BOLD) && t[0] == 'd')
			bold = 1;
	}
	assert_true(code && it && bold);
	markdown_free(&m);
}

/* A heading that looks like a list item keeps its number. */
static void
test_no_loss(void **state)
{
	char *s = render_full("## 1. Introduction\n[ref]: not a link definition\n", 40);

	(void)state;
	assert_string_equal(s, "1. Introduction\n[ref]: not a link definition\n");
	free(s);
}

/* Code block sources can be extracted for copying. */
static void
test_code_block(void **state)
{
	struct buf b = BUF_INIT;

	(void)state;
	assert_int_equal(markdown_code_block(doc, strlen(doc), 0, &b), 0);
	assert_string_equal(buf_str(&b), "def f():\n    return '日本語'\n");
	assert_int_equal(markdown_code_block(doc, strlen(doc), 1, &b), -1);
	buf_free(&b);
}

/* A long paragraph "w1 w2 … wN" (one source line) plus some markup, into b. */
static void
long_para(struct buf *b, int n)
{
	int i;

	buf_reset(b);
	buf_puts(b, "Intro with *emphasis* and `code`.\n\n");
	for (i = 1; i <= n; i++)
		buf_printf(b, i == 1 ? "w%d" : i % 97 == 0 ? " **b%d**" : i % 89 == 0 ? " #%d" : " w%d", i);
}

/* Appending a word to an open paragraph costs the same whether it holds 2,000 or 40,000
 * words: only the tail after its last complete screen line is rendered again. */
static void
test_open_paragraph_cost(void **state)
{
	struct buf b = BUF_INIT;
	struct markdown m;
	size_t w0, small, large;
	int n[2] = { 2000, 40000 }, k;

	(void)state;
	for (k = 0; k < 2; k++) {
		long_para(&b, n[k]);
		markdown_init(&m, THEME_TEXT, 0);
		markdown_update(&m, b.data, b.len - 40, 80, 0);
		w0 = markdown_work();
		markdown_update(&m, b.data, b.len, 80, 0);
		if (k == 0)
			small = markdown_work() - w0;
		else
			large = markdown_work() - w0;
		markdown_free(&m);
	}
	/* Bounded by the piece size (a few kB), where a full re-render would be the whole
	 * paragraph: about 25 kB for 2,000 words and 280 kB for 40,000. */
	assert_true(small < 12000);
	assert_true(large < 12000);
	buf_free(&b);
}

/* The open paragraph's lines are the same streamed in small steps, rendered in one go,
 * and wrapped greedily over the whole text; the same holds in plain mode. */
static void
test_open_paragraph_same(void **state)
{
	struct buf b = BUF_INIT;
	struct markdown m;
	char *full, *streamed;
	size_t i;
	int plain;

	(void)state;
	long_para(&b, 6000);
	for (plain = 0; plain < 2; plain++) {
		markdown_init(&m, THEME_TEXT, plain);
		markdown_update(&m, b.data, b.len, 60, 1);
		full = rtext_plain(&m.out);
		markdown_free(&m);
		markdown_init(&m, THEME_TEXT, plain);
		for (i = 0; i < b.len; i += 37)
			markdown_update(&m, b.data, i, 60, 0);
		markdown_update(&m, b.data, b.len, 60, 1);
		streamed = rtext_plain(&m.out);
		markdown_free(&m);
		assert_string_equal(full, streamed);
		if (plain) {
			/* Greedy wrapping of the whole source line, by hand. */
			struct buf want = BUF_INIT;
			size_t pos = 0, next, len;
			int used;

			while (pos < b.len) {
				len = wrap_line(b.data + pos, b.len - pos, 60, &next, &used);
				buf_append(&want, b.data + pos, len);
				buf_putc(&want, '\n');
				pos += next;
			}
			assert_string_equal(want.data, full);
			buf_free(&want);
		} else {
			assert_non_null(strstr(full, "b97"));
			assert_null(strstr(full, "**b97**"));
			assert_non_null(strstr(full, " #89 "));
		}
		free(full);
		free(streamed);
	}
	buf_free(&b);
}

/* The plain text of screen line i of r, into b. */
static void
line_text(const struct rtext *r, size_t i, struct buf *b)
{
	const struct rline *l = &r->lines[i];
	uint32_t k;

	buf_reset(b);
	for (k = 0; k < l->nseg; k++)
		buf_append(b, r->text.data + r->segs[l->seg + k].off, r->segs[l->seg + k].len);
}

/* Screen line i of m as markdown_line gives it (for src), into b; 0 when there is none. */
static int
line_of(struct markdown *m, const char *src, size_t n, size_t i, struct buf *b)
{
	size_t at;
	const struct rtext *r = markdown_line(m, src, n, i, &at);

	if (r == NULL)
		return 0;
	line_text(r, at, b);
	return 1;
}

/*
 * A text of many megabytes keeps only its last screen lines, and every older one drawn
 * again from a checkpoint is the line that was shown while it streamed: paragraphs
 * (numbered, so each line is known), long paragraphs cut into pieces, lists, headings and
 * small highlighted code blocks, streamed in small updates and rendered in one go alike.
 */
static void
test_long_text_window(void **state)
{
	struct buf src = BUF_INIT, a = BUF_INIT, b = BUF_INIT;
	struct buf *seen = NULL;
	struct markdown m, one;
	size_t nseen = 0, n, pos, i, captured = 0, kept, w, base = 0;
	long k, paras = 0, last = -1, found = 0;
	char *end;

	(void)state;
	for (k = 0; src.len < (9u << 20); k++) {
		if (k % 50 == 49)
			buf_printf(&src, "```c\nint x%ld = %ld;\n```\n\n", k, k);
		else if (k % 50 == 20)
			buf_printf(&src, "- item %ld\n- item *two* of %ld\n\n## heading %ld\n\n", k, k, k);
		else if (k % 50 == 30) {
			for (i = 0; i < 200; i++)
				buf_printf(&src, "long%ld word%zu more words here ", k, i);
			buf_puts(&src, "\n\n");
		}
		else {
			buf_printf(&src, "w%ld **bold** and `code` words\n\n", k);
			paras++;
		}
	}
	n = src.len;
	markdown_init(&m, THEME_TEXT, 0);
	for (pos = 0; pos < n; pos += 3001) {
		markdown_update(&m, src.data, pos + 3001 < n ? pos + 3001 : n, 60, 0);
		/* Once old lines went, the kept ones are still the lines they were. */
		if (m.line_base != base) {
			base = m.line_base;
			for (i = base; i < captured; i++) {
				line_text(&m.out, i - base, &a);
				assert_int_equal(a.len + 1, seen[i].len);
				assert_memory_equal(a.data, seen[i].data, a.len);
			}
		}
		/* Every frozen line that is still kept, as it is shown now. */
		if (captured < m.line_base)
			captured = m.line_base;
		for (; captured < m.line_base + m.out_lines; captured++) {
			if (captured >= nseen) {
				seen = realloc(seen, (captured + 1) * 2 * sizeof *seen);
				memset(seen + nseen, 0, ((captured + 1) * 2 - nseen) * sizeof *seen);
				nseen = (captured + 1) * 2;
			}
			line_text(&m.out, captured - m.line_base, &seen[captured]);
			buf_putc(&seen[captured], '\1');
		}
	}
	markdown_update(&m, src.data, n, 60, 1);
	/* Only the last lines are kept. */
	assert_true(m.line_base > 0);
	assert_true(m.out.text.len < (6u << 20));
	markdown_init(&one, THEME_TEXT, 0);
	markdown_update(&one, src.data, n, 60, 1);
	assert_int_equal(markdown_nlines(&one), markdown_nlines(&m));
	kept = 0;
	for (i = 0; i < markdown_nlines(&m); i++) {
		assert_true(line_of(&m, src.data, n, i, &a));
		if (i < nseen && seen[i].len > 0) {
			assert_int_equal(a.len + 1, seen[i].len);
			assert_memory_equal(a.data, seen[i].data, a.len);
			kept++;
		}
		/* Each numbered paragraph is one line, in order, none missing. */
		if (a.len > 1 && a.data[0] == 'w' && a.data[1] >= '0' && a.data[1] <= '9') {
			k = strtol(a.data + 1, &end, 10);
			assert_string_equal(end, " bold and code words");
			assert_true(k > last);
			last = k;
			found++;
		}
		/* The one-shot rendering, read at a stride (each window renders once). */
		if (i % 7 == 0) {
			assert_true(line_of(&one, src.data, n, i, &b));
			assert_int_equal(a.len, b.len);
			assert_memory_equal(a.data, b.data, a.len);
		}
	}
	assert_true(kept > markdown_nlines(&m) / 2);
	assert_int_equal(found, paras);
	assert_false(line_of(&m, src.data, n, markdown_nlines(&m), &a));
	/* The numbered paragraphs are where they should be: w0 first, blank between. */
	assert_true(line_of(&m, src.data, n, 0, &a));
	assert_string_equal(buf_str(&a), "w0 bold and code words");
	assert_true(line_of(&m, src.data, n, 1, &a));
	assert_int_equal(a.len, 0);
	/* A highlighted code block far back comes back highlighted, in its colours. */
	for (i = 0, w = 0; i < 4000 && !w; i++) {
		size_t at, j;
		const struct rtext *r = markdown_line(&m, src.data, n, i, &at);

		line_text(r, at, &a);
		if (strstr(buf_str(&a), "int x49") == NULL)
			continue;
		for (j = 0; j < r->lines[at].nseg; j++)
			if (r->segs[r->lines[at].seg + j].role != THEME_CODEBLOCK &&
			    r->segs[r->lines[at].seg + j].role != THEME_CODEBORDER)
				w = 1;
	}
	assert_true(w);
	for (i = 0; i < nseen; i++)
		buf_free(&seen[i]);
	free(seen);
	markdown_free(&m);
	markdown_free(&one);
	buf_free(&src);
	buf_free(&a);
	buf_free(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_blocks),
		cmocka_unit_test(test_fits),
		cmocka_unit_test(test_incremental_equals_full),
		cmocka_unit_test(test_open_paragraph_cost),
		cmocka_unit_test(test_open_paragraph_same),
		cmocka_unit_test(test_frozen),
		cmocka_unit_test(test_inline_styles),
		cmocka_unit_test(test_no_loss),
		cmocka_unit_test(test_code_block),
		cmocka_unit_test(test_long_text_window),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
