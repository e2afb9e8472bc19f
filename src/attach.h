/*
 * Attachments: files that go with a user message (natter ask -a, @path and /attach in the
 * interface, content parts that reach natter serve). An attachment is its bytes, the name
 * it was given (a path, "stdin") and its type, which comes from the content through
 * libmagic and never from the name. It is reference-counted and immutable once made, so
 * one file held by a session, a request on the worker thread and an export is one copy.
 *
 * The store keeps each distinct content once, addressed by its SHA-256 (store-attach.c);
 * a session loaded from it holds references whose bytes are read when a request needs
 * them (attach_set_data). How each kind travels to each protocol is decided per request
 * by attach-check.c and written by the adapters (proto-attach.c).
 */
#ifndef NATTER_ATTACH_H
#define NATTER_ATTACH_H

#include <stdatomic.h>
#include <stddef.h>

struct buf;

/* What an attachment is, as far as sending it goes. */
enum attach_kind {
	ATTACH_TEXT,   /* any text encoding libmagic recognises: inlined as a fenced block */
	ATTACH_IMAGE,  /* PNG, JPEG, GIF or WebP */
	ATTACH_PDF,
	ATTACH_AUDIO,  /* any audio type: only models that take audio */
	ATTACH_OTHER,  /* anything else (archives, executables, other images): refused */
};

/* Bits of what a model accepts (models.*.input). */
#define ATTACH_IN_TEXT 0x1u
#define ATTACH_IN_IMAGE 0x2u
#define ATTACH_IN_PDF 0x4u
#define ATTACH_IN_AUDIO 0x8u

/* The largest file a front end reads as an attachment (the model's limit is checked
 * when it is sent). */
#define ATTACH_READ_MAX ((size_t)512 << 20)

/* Longest name kept (a path longer than this is cut at a character boundary). */
#define ATTACH_NAME_MAX 1024

struct attach {
	atomic_int refs;
	char *name;           /* as given, sanitised to one line */
	char *mime;           /* from the content: "image/png", "text/plain", ... */
	enum attach_kind kind;
	size_t size;          /* bytes */
	unsigned char *data;  /* the bytes; NULL for a stored reference not read yet */
	char sha[65];         /* hex SHA-256 of the bytes; "" until attach_sha */
	char *pdf_text;       /* a PDF's text (pdftotext), once extracted; else NULL */
};

/* An attachment of the n bytes at data (taken over: freed with it), its type detected
 * from them. name NULL is "attachment". */
struct attach *attach_take(const char *name, unsigned char *data, size_t n);
/* The same for a copy of data. */
struct attach *attach_new(const char *name, const void *data, size_t n);
/* A stored attachment known by its digest, type, kind and size, whose bytes are read
 * later. */
struct attach *attach_stored(const char *name, const char *mime, enum attach_kind kind,
    size_t size, const char *sha);
/* Read path ("-": standard input, named "stdin") as an attachment of at most max bytes.
 * NULL with *err (caller frees) when it cannot be read or is larger. */
struct attach *attach_read(const char *path, size_t max, char **err);
/* Take one more reference; drop one (the last frees it). NULL is fine for both. */
struct attach *attach_ref(struct attach *a);
void attach_unref(struct attach *a);
/* Give a stored reference its bytes (taken over). 0, or -1 when they are not the bytes
 * it names (another size or digest); then data is freed and a is unchanged. */
int attach_set_data(struct attach *a, unsigned char *data, size_t n);
/* The hex SHA-256 of a's bytes, computed on first use (a must have its bytes, or a
 * digest from the store). */
const char *attach_sha(struct attach *a);

/* The kind of a MIME type, given libmagic's encoding for it ("binary", "utf-8", ...). */
enum attach_kind attach_classify(const char *mime, const char *encoding);
/* The type libmagic gives n bytes at data: *mime and *encoding (caller frees both). */
void attach_detect(const void *data, size_t n, char **mime, char **encoding);
/* "text", "image", "pdf", "audio", "file". */
const char *attach_kind_name(enum attach_kind k);
/* The kind attach_kind_name calls word, or -1. */
int attach_kind_parse(const char *word);
/* The ATTACH_IN_* bit of an input word (text, image, pdf, audio), or 0. */
unsigned attach_input_bit(const char *word);
/* Append n bytes as a size people read: "812 B", "14.2 KB", "3.1 MB" (powers of 1024). */
void attach_size_text(size_t n, struct buf *b);
/* Append the line a message shows for a: "name · image/png · 3.1 MB". */
void attach_describe(const struct attach *a, struct buf *b);
/* The last part of a's name, made safe as a file name ("attachment" when none is left). */
char *attach_basename(const struct attach *a);

/* Base64 (RFC 4648, with padding): the length of n bytes encoded, and the encoding into
 * out (which holds at least that many bytes; no NUL is written). */
size_t attach_b64_len(size_t n);
void attach_b64_encode(char *out, const unsigned char *in, size_t n);
/* Decode n characters (white space ignored); NULL when they are not base64. */
unsigned char *attach_b64_decode(const char *in, size_t n, size_t *outlen);
/* Parse a data URL "data:MIME[;PARAM]...;base64,DATA" (n bytes): its bytes and the type
 * it claims. 0, or -1 with *err (caller frees) when it is not one. */
int attach_data_url(const char *url, size_t n, char **mime, unsigned char **data,
    size_t *len, char **err);

#endif
