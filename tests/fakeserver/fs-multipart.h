/*
 * A multipart/form-data parser (RFC 7578 over RFC 2046) for the fake server's audio
 * endpoints, and for its fuzz target (tests/fuzz/fuzz_multipart.c). It is strict where a
 * client may not be sloppy (CRLF line ends, a Content-Disposition of form-data with a name
 * on every part, a closing delimiter) so that the tests catch a malformed upload, and it
 * never reads outside the body it is given. Parts point into that body.
 */
#ifndef FS_MULTIPART_H
#define FS_MULTIPART_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"

#define FS_FORM_MAX_PARTS 256
#define FS_BOUNDARY_MAX 70

/* One part of a form. */
struct fs_part {
	char *name;        /* Content-Disposition name= (decoded), never NULL */
	char *filename;    /* filename=, or NULL */
	char *type;        /* the part's Content-Type, or NULL */
	const char *data;  /* its content, inside the parsed body */
	size_t len;
};

struct fs_form {
	struct fs_part *v;
	size_t n;
};

/* The boundary of a Content-Type "multipart/form-data; boundary=..." (quoted or not);
 * false when ctype is no such type or the boundary is missing or malformed. */
bool fs_multipart_boundary(const char *ctype, struct buf *out);
/* Parse body with boundary into out; true, or false with out empty and err saying why. */
bool fs_multipart_parse(const char *boundary, const char *body, size_t len,
    struct fs_form *out, struct buf *err);
void fs_form_free(struct fs_form *f);
/* The first part called name, or NULL; fs_form_count counts them. */
const struct fs_part *fs_form_get(const struct fs_form *f, const char *name);
size_t fs_form_count(const struct fs_form *f, const char *name);

#endif
