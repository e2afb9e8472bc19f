/*
 * libFuzzer target for the fake server's multipart/form-data parser
 * (tests/fakeserver/fs-multipart.c). The input's first line is a Content-Type header
 * value, the rest the body. Whatever the bytes, the parser must stay inside the body; when
 * it accepts one, every part must lie within it with a name, and writing the parts out
 * again as a form (the way libcurl does) must parse back to the same parts.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "fs-multipart.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Write the parts as a body with boundary b. */
static void
fuzz_write(const struct fs_form *f, const char *b, struct buf *out)
{
	size_t i;

	for (i = 0; i < f->n; i++) {
		buf_printf(out, "--%s\r\nContent-Disposition: form-data; name=\"", b);
		buf_puts(out, f->v[i].name);
		buf_putc(out, '"');
		if (f->v[i].filename != NULL) {
			buf_puts(out, "; filename=\"");
			buf_puts(out, f->v[i].filename);
			buf_putc(out, '"');
		}
		buf_puts(out, "\r\n");
		if (f->v[i].type != NULL)
			buf_printf(out, "Content-Type: %s\r\n", f->v[i].type);
		buf_puts(out, "\r\n");
		buf_append(out, f->v[i].data, f->v[i].len);
		buf_puts(out, "\r\n");
	}
	buf_printf(out, "--%s--\r\n", b);
}

/* True when a string can go back into a quoted parameter as it is. */
static int
fuzz_quotable(const char *s)
{
	return s == NULL || strpbrk(s, "\"\\\r\n") == NULL;
}

/* Parse the input; check and round-trip what was accepted. */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data, *nl = memchr(p, '\n', size);
	struct buf ctype = BUF_INIT, boundary = BUF_INIT, err = BUF_INIT, again = BUF_INIT;
	struct fs_form f, g;
	size_t hn = nl != NULL ? (size_t)(nl - p) : size, i;
	char *body;
	size_t blen = nl != NULL ? size - hn - 1 : 0;
	int round = 1;

	buf_append(&ctype, p, hn);
	/* The body is copied to a buffer of its exact size, so ASan sees any overread. */
	body = malloc(blen > 0 ? blen : 1);
	if (blen > 0)
		memcpy(body, nl + 1, blen);
	if (memchr(buf_str(&ctype), '\0', ctype.len) == NULL &&
	    fs_multipart_boundary(buf_str(&ctype), &boundary) &&
	    fs_multipart_parse(buf_str(&boundary), body, blen, &f, &err)) {
		if (f.n == 0)
			abort();
		for (i = 0; i < f.n; i++) {
			if (f.v[i].name == NULL || f.v[i].data < body || f.v[i].data + f.v[i].len >
			    body + blen)
				abort();
			round = round && fuzz_quotable(f.v[i].name) &&
			    fuzz_quotable(f.v[i].filename) &&
			    (f.v[i].type == NULL || strpbrk(f.v[i].type, "\r\n") == NULL);
		}
		if (round) {
			fuzz_write(&f, buf_str(&boundary), &again);
			if (!fs_multipart_parse(buf_str(&boundary), again.data, again.len, &g, &err) ||
			    g.n != f.n)
				abort();
			for (i = 0; i < f.n; i++)
				if (strcmp(f.v[i].name, g.v[i].name) != 0 || f.v[i].len != g.v[i].len ||
				    memcmp(f.v[i].data, g.v[i].data, f.v[i].len) != 0 ||
				    (f.v[i].filename == NULL) != (g.v[i].filename == NULL) ||
				    (f.v[i].filename != NULL &&
				    strcmp(f.v[i].filename, g.v[i].filename) != 0))
					abort();
			fs_form_free(&g);
		}
		fs_form_free(&f);
	}
	free(body);
	buf_free(&ctype);
	buf_free(&boundary);
	buf_free(&err);
	buf_free(&again);
	return 0;
}
