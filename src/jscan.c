/*
 * The allocation-free JSON scanner (see jscan.h). Grammar follows RFC 8259, minus what the
 * fast paths never need: \u escapes for surrogates are refused (cJSON handles them), and
 * nesting deeper than JSCAN_DEPTH is refused.
 */
#include <stdint.h>
#include <string.h>

#include "jscan.h"

#define JSCAN_DEPTH 32
#define JSCAN_BYTES(c) (0x0101010101010101ull * (c))
#define JSCAN_HASZERO(v) (((v) - JSCAN_BYTES(1)) & ~(v) & JSCAN_BYTES(0x80))

/* Start scanning n bytes at p. */
void
jscan_init(struct jscan *j, const char *p, size_t n)
{
	j->p = p;
	j->end = p + n;
}

/* Skip JSON white space. */
static void
jscan_ws(struct jscan *j)
{
	while (j->p < j->end && (*j->p == ' ' || *j->p == '\n' || *j->p == '\r' || *j->p == '\t'))
		j->p++;
}

/* The type of the next value, judged by its first byte. */
enum jscan_type
jscan_peek(struct jscan *j)
{
	jscan_ws(j);
	if (j->p >= j->end)
		return JSCAN_BAD;
	switch (*j->p) {
	case '{': return JSCAN_OBJECT;
	case '[': return JSCAN_ARRAY;
	case '"': return JSCAN_STRING;
	case 't': return JSCAN_TRUE;
	case 'f': return JSCAN_FALSE;
	case 'n': return JSCAN_NULL;
	default:
		if (*j->p == '-' || (*j->p >= '0' && *j->p <= '9'))
			return JSCAN_NUMBER;
		return JSCAN_BAD;
	}
}

/* Consume the opening bracket c. */
int
jscan_open(struct jscan *j, char c)
{
	jscan_ws(j);
	if (j->p >= j->end || *j->p != c)
		return 0;
	j->p++;
	return 1;
}

/* Value of one hex digit, or -1. */
static int
jscan_hex(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Read a string token. Like cJSON, raw control bytes are accepted; a NUL is refused since
 * cJSON's strings would end there. */
int
jscan_string(struct jscan *j, struct jscan_str *out)
{
	const char *p, *q, *bs;

	jscan_ws(j);
	if (j->p >= j->end || *j->p != '"')
		return 0;
	p = ++j->p;
	/* Eight bytes at a time: a word holds a quote, a backslash or a NUL exactly when one of
	 * the three has-a-zero-byte tests fires; then the byte loop finds which. */
	for (q = p; j->end - q >= 8; q += 8) {
		uint64_t w, a, b;

		memcpy(&w, q, 8);
		a = w ^ JSCAN_BYTES(0x22);
		b = w ^ JSCAN_BYTES(0x5c);
		if ((JSCAN_HASZERO(w) | JSCAN_HASZERO(a) | JSCAN_HASZERO(b)) != 0)
			break;
	}
	for (; q < j->end; q++)
		if (*q == '"' || *q == '\\' || *q == '\0')
			break;
	if (q >= j->end || *q == '\0')
		return 0;
	if (*q == '"') {
		out->raw = p;
		out->len = (size_t)(q - p);
		out->escaped = 0;
		j->p = q + 1;
		return 1;
	}
	bs = q;
	out->escaped = 1;
	for (p = bs; p < j->end; p++) {
		if (*p == '"') {
			out->raw = j->p;
			out->len = (size_t)(p - j->p);
			j->p = p + 1;
			return 1;
		}
		if (*p == '\0')
			return 0;
		if (*p != '\\')
			continue;
		/* Validate the escape as cJSON would; surrogates are left to cJSON. */
		if (++p >= j->end)
			return 0;
		if (*p == 'u') {
			unsigned cp = 0;
			int i;

			if (j->end - p < 5)
				return 0;
			for (i = 1; i <= 4; i++) {
				int h = jscan_hex(p[i]);

				if (h < 0)
					return 0;
				cp = cp * 16 + (unsigned)h;
			}
			if (cp >= 0xd800 && cp <= 0xdfff)
				return 0;
			p += 4;
		} else if (*p == '\0' || strchr("\"\\/bfnrt", *p) == NULL) {
			return 0;
		}
	}
	return 0;
}

/* Consume a number with the strict JSON grammar. */
static int
jscan_number(struct jscan *j)
{
	const char *p = j->p;

	if (p < j->end && *p == '-')
		p++;
	if (p >= j->end)
		return 0;
	if (*p == '0') {
		p++;
	} else if (*p >= '1' && *p <= '9') {
		while (p < j->end && *p >= '0' && *p <= '9')
			p++;
	} else {
		return 0;
	}
	if (p < j->end && *p == '.') {
		const char *q = ++p;

		while (p < j->end && *p >= '0' && *p <= '9')
			p++;
		if (p == q)
			return 0;
	}
	if (p < j->end && (*p == 'e' || *p == 'E')) {
		const char *q;

		p++;
		if (p < j->end && (*p == '+' || *p == '-'))
			p++;
		q = p;
		while (p < j->end && *p >= '0' && *p <= '9')
			p++;
		if (p == q)
			return 0;
	}
	/* A number must end at a delimiter, as cJSON's strtod would otherwise read on. */
	if (p < j->end && !(*p == ',' || *p == '}' || *p == ']' || *p == ' ' || *p == '\n' ||
	    *p == '\r' || *p == '\t'))
		return 0;
	j->p = p;
	return 1;
}

/* Consume the literal word w. */
static int
jscan_word(struct jscan *j, const char *w, size_t n)
{
	if ((size_t)(j->end - j->p) < n || memcmp(j->p, w, n) != 0)
		return 0;
	j->p += n;
	return 1;
}

/* Skip one value of any type, at nesting depth d. */
static int
jscan_skip_depth(struct jscan *j, int d)
{
	struct jscan_str s;
	int first = 1, r;

	if (d > JSCAN_DEPTH)
		return 0;
	switch (jscan_peek(j)) {
	case JSCAN_OBJECT:
		j->p++;
		while ((r = jscan_next_key(j, &s, &first)) == 1)
			if (!jscan_skip_depth(j, d + 1))
				return 0;
		return r == 0;
	case JSCAN_ARRAY:
		j->p++;
		while ((r = jscan_next_item(j, &first)) == 1)
			if (!jscan_skip_depth(j, d + 1))
				return 0;
		return r == 0;
	case JSCAN_STRING: return jscan_string(j, &s);
	case JSCAN_NUMBER: return jscan_number(j);
	case JSCAN_TRUE: return jscan_word(j, "true", 4);
	case JSCAN_FALSE: return jscan_word(j, "false", 5);
	case JSCAN_NULL: return jscan_word(j, "null", 4);
	default: return 0;
	}
}

/* Skip one value of any type. */
int
jscan_skip(struct jscan *j)
{
	return jscan_skip_depth(j, 0);
}

/* Advance to the next key of an object (after '{' was consumed). */
int
jscan_next_key(struct jscan *j, struct jscan_str *key, int *first)
{
	jscan_ws(j);
	if (j->p >= j->end)
		return -1;
	if (*j->p == '}') {
		j->p++;
		return 0;
	}
	if (!*first) {
		if (*j->p != ',')
			return -1;
		j->p++;
	}
	*first = 0;
	if (!jscan_string(j, key))
		return -1;
	jscan_ws(j);
	if (j->p >= j->end || *j->p != ':')
		return -1;
	j->p++;
	return 1;
}

/* Advance to the next item of an array (after '[' was consumed). */
int
jscan_next_item(struct jscan *j, int *first)
{
	jscan_ws(j);
	if (j->p >= j->end)
		return -1;
	if (*j->p == ']') {
		j->p++;
		return 0;
	}
	if (!*first) {
		if (*j->p != ',')
			return -1;
		j->p++;
	}
	*first = 0;
	return 1;
}

/* True when nothing but white space remains. */
int
jscan_at_end(struct jscan *j)
{
	jscan_ws(j);
	return j->p == j->end;
}

/* Compare an unescaped string token with the n bytes of s. */
int
jscan_str_is_n(const struct jscan_str *t, const char *s, size_t n)
{
	return !t->escaped && t->len == n && memcmp(t->raw, s, n) == 0;
}

/* Append the decoded string; surrogate escapes and U+0000 are left to cJSON. */
int
jscan_unescape(const struct jscan_str *t, struct buf *out)
{
	const char *p = t->raw, *end = t->raw + t->len;

	while (p < end) {
		const char *bs = memchr(p, '\\', (size_t)(end - p));
		unsigned cp;
		int i;

		if (bs == NULL) {
			buf_append(out, p, (size_t)(end - p));
			return 1;
		}
		buf_append(out, p, (size_t)(bs - p));
		if (bs + 1 >= end)
			return 0;
		switch (bs[1]) {
		case '"': buf_putc(out, '"'); break;
		case '\\': buf_putc(out, '\\'); break;
		case '/': buf_putc(out, '/'); break;
		case 'b': buf_putc(out, '\b'); break;
		case 'f': buf_putc(out, '\f'); break;
		case 'n': buf_putc(out, '\n'); break;
		case 'r': buf_putc(out, '\r'); break;
		case 't': buf_putc(out, '\t'); break;
		case 'u':
			if (end - bs < 6)
				return 0;
			cp = 0;
			for (i = 2; i < 6; i++) {
				int h = jscan_hex(bs[i]);

				if (h < 0)
					return 0;
				cp = cp * 16 + (unsigned)h;
			}
			if (cp == 0 || (cp >= 0xd800 && cp <= 0xdfff))
				return 0;
			if (cp < 0x80) {
				buf_putc(out, (char)cp);
			} else if (cp < 0x800) {
				buf_putc(out, (char)(0xc0 | (cp >> 6)));
				buf_putc(out, (char)(0x80 | (cp & 0x3f)));
			} else {
				buf_putc(out, (char)(0xe0 | (cp >> 12)));
				buf_putc(out, (char)(0x80 | ((cp >> 6) & 0x3f)));
				buf_putc(out, (char)(0x80 | (cp & 0x3f)));
			}
			p = bs + 6;
			continue;
		default:
			return 0;
		}
		p = bs + 2;
	}
	return 1;
}
