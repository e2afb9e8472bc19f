/*
 * The search's own reading of FTS5 queries (store-match.h). A query is parsed as FTS5's
 * grammar has it (OR binds loosest, then AND, then NOT, then words side by side; a
 * parenthesised group stands alone; NEAR(...), ^, + and a trailing * on a string), each
 * string cut into terms by the index's tokenizer, so a term is the very bytes the index
 * holds. A row is then read with the same tokenizer and every phrase's start positions
 * found; NEAR keeps the positions FTS5's own near test keeps; a node matches as FTS5's
 * would; and the phrases of the parts of the tree that match give the row's instances,
 * from which the snippet is chosen and marked as FTS5's snippet() does (the window of
 * tokens with the most distinct phrases, moved to centre them or to a sentence start) and
 * the phrase counts for ranking are taken. Anything it does not read for certain the
 * same way as FTS5 (column filters, empty phrases, odd syntax) it declines, and the
 * caller asks FTS5 alone. Loosening a phrase writes a query FTS5 answers from its 2- and
 * 3-character prefix indexes that finds every row the real one does and more.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "store-match.h"
#include "xmalloc.h"

#define SM_MAX_DEPTH 64      /* nested parentheses read; deeper is left to FTS5 */
#define SM_MAX_PHRASES 256   /* phrases read; more is left to FTS5 */
#define SM_NEAR_DEFAULT 10   /* FTS5's NEAR distance when none is given */

/* The query's tokens (FTS5's lexer). */
enum sm_lexeme {
	T_EOF, T_STRING, T_LP, T_RP, T_LCP, T_RCP, T_COLON, T_COMMA, T_PLUS, T_STAR,
	T_MINUS, T_CARET, T_AND, T_OR, T_NOT, T_ERR
};

enum sm_kind { SM_PHRASE, SM_NEAR, SM_AND, SM_OR, SM_NOT };
enum sm_relax { SM_KEEP, SM_CUT, SM_DROP };

/* A term: its bytes in m->bytes, whether any term that starts with them matches, and
 * where it starts in the text of its string. */
struct sm_term {
	size_t off, len, start;
	int prefix;
};

/* A string of a phrase as typed: its unquoted text in m->text, whether a * followed it,
 * and how many terms it made. */
struct sm_piece {
	size_t off, len, nt;
	int star;
};

/* A phrase: its terms and strings, ^, how it is loosened (from which of its terms on),
 * and what a row holds of it. */
struct sm_phrase {
	size_t t0, nt, p0, np;
	int first;
	int relax;
	size_t at;
	char cut[16];
	size_t ncut;
	int *pos;            /* the row's start positions of the phrase */
	size_t npos, cap;
	int live;            /* in a part of the tree that matches the row */
};

/* A node: a phrase, a NEAR group of phrases, or two nodes joined. */
struct sm_node {
	int kind;
	int a, b;
	size_t ph0, nph;
	int near;
	int match;
};

/* A token of the row: its bytes in m->rbytes and where it stands in the text. */
struct sm_rtok {
	size_t off, len;
	int start, end;
};

/* A phrase instance of the row. */
struct sm_inst {
	int pos;
	int phrase;
};

struct store_match {
	const struct store_match_tok *tok;
	char *orig;          /* the query as given */
	const char *query;
	size_t at;
	int depth;
	struct buf bytes, text;
	struct sm_term *term;
	size_t nterm, capterm;
	struct sm_piece *piece;
	size_t npiece, cappiece;
	struct sm_phrase *ph;
	size_t nph, capph;
	struct sm_node *node;
	size_t nnode, capnode;
	int root;
	/* The row last read. */
	struct sm_rtok *rt;
	size_t nrt, caprt;
	struct buf rbytes;
	struct sm_inst *inst;
	size_t ninst, capinst;
	int colocated;       /* the tokenizer gave a synonym: left to FTS5 */
	int failed;
};

/* Make room for need elements of size bytes in *p (capacity *cap). */
static void
sm_grow(void **p, size_t *cap, size_t need, size_t size)
{
	size_t c = *cap ? *cap : 8;

	if (need <= *cap)
		return;
	while (c < need)
		c *= 2;
	*p = xrealloc(*p, c * size);
	*cap = c;
}

/* Is c a byte of a bareword (FTS5's sqlite3Fts5IsBareword)? */
static int
sm_bare(char c)
{
	unsigned char u = (unsigned char)c;

	return u >= 0x80 || (u >= '0' && u <= '9') || (u >= 'a' && u <= 'z') ||
	    (u >= 'A' && u <= 'Z') || u == '_' || u == 0x1a;
}

/* The token at q + at: its kind, and its bytes [*s, *e). */
static int
sm_lex(const char *q, size_t at, size_t *s, size_t *e)
{
	static const char punct[] = "(){}:,+*-^";
	static const int kinds[] = {T_LP, T_RP, T_LCP, T_RCP, T_COLON, T_COMMA, T_PLUS, T_STAR,
	    T_MINUS, T_CARET};
	const char *p;
	size_t i;

	while (q[at] == ' ' || q[at] == '\t' || q[at] == '\n' || q[at] == '\r')
		at++;
	*s = at;
	*e = at + 1;
	if (q[at] == '\0') {
		*e = at;
		return T_EOF;
	}
	if ((p = strchr(punct, q[at])) != NULL)
		return kinds[p - punct];
	if (q[at] == '"') {
		for (i = at + 1; q[i] != '\0'; i++) {
			if (q[i] != '"')
				continue;
			if (q[i + 1] != '"') {
				*e = i + 1;
				return T_STRING;
			}
			i++;
		}
		return T_ERR;
	}
	if (!sm_bare(q[at]))
		return T_ERR;
	for (i = at; sm_bare(q[i]); i++)
		;
	*e = i;
	if (i - at == 2 && memcmp(q + at, "OR", 2) == 0)
		return T_OR;
	if (i - at == 3 && memcmp(q + at, "AND", 3) == 0)
		return T_AND;
	if (i - at == 3 && memcmp(q + at, "NOT", 3) == 0)
		return T_NOT;
	return T_STRING;
}

/* The next token's kind, not taken. */
static int
sm_peek(const struct store_match *m)
{
	size_t s, e;

	return sm_lex(m->query, m->at, &s, &e);
}

/* The kind of the token after the next one. */
static int
sm_peek2(const struct store_match *m)
{
	size_t s, e, s2, e2;

	sm_lex(m->query, m->at, &s, &e);
	return sm_lex(m->query, e, &s2, &e2);
}

/* Take the next token; its bytes into [*s, *e). */
static int
sm_take(struct store_match *m, size_t *s, size_t *e)
{
	size_t a, b;
	int t = sm_lex(m->query, m->at, s != NULL ? s : &a, e != NULL ? e : &b);

	m->at = e != NULL ? *e : b;
	return t;
}

/* What a tokenizer run collects: the tokens' bytes and offsets. */
struct sm_collect {
	struct store_match *m;
	struct buf *bytes;
	struct sm_rtok *tok;
	size_t n, cap;
};

/* The tokenizer's callback: keep one token (a synonym marks the query as FTS5's). */
static int
sm_collect_cb(void *ctx, int flags, const char *t, int n, int start, int end)
{
	struct sm_collect *c = ctx;

	if (flags & FTS5_TOKEN_COLOCATED) {
		c->m->colocated = 1;
		return SQLITE_OK;
	}
	if (n < 0)
		n = 0;
	sm_grow((void **)&c->tok, &c->cap, c->n + 1, sizeof(*c->tok));
	c->tok[c->n].off = c->bytes->len;
	c->tok[c->n].len = (size_t)n;
	c->tok[c->n].start = start;
	c->tok[c->n].end = end;
	c->n++;
	buf_append(c->bytes, t, (size_t)n);
	return SQLITE_OK;
}

/* Tokenize len bytes of text with flags into c (its arrays reused); 0 or -1. */
static int
sm_tokenize(struct store_match *m, int flags, const char *text, size_t len,
    struct sm_collect *c)
{
	c->m = m;
	c->n = 0;
	if (len > INT32_MAX)
		return -1;
	if (m->tok->api.xTokenize(m->tok->inst, c, flags, text, (int)len, sm_collect_cb) !=
	    SQLITE_OK)
		return -1;
	return 0;
}

/* A new node; returns its index. */
static int
sm_node_new(struct store_match *m, int kind, int a, int b)
{
	struct sm_node *n;

	sm_grow((void **)&m->node, &m->capnode, m->nnode + 1, sizeof(*m->node));
	n = &m->node[m->nnode];
	memset(n, 0, sizeof(*n));
	n->kind = kind;
	n->a = a;
	n->b = b;
	return (int)m->nnode++;
}

/* Add the string [s, e) of the query (a bareword or a quoted string) to the phrase being
 * read, with its terms; 0, 1 (left to FTS5: no terms, a synonym), or -1. */
static int
sm_piece(struct store_match *m, struct sm_phrase *ph, size_t s, size_t e, int star)
{
	const char *q = m->query;
	struct sm_collect c = {0};
	struct sm_piece *p;
	size_t i, off = m->text.len;
	int rc = 0;

	if (q[s] == '"') {
		for (i = s + 1; i + 1 < e; i++) {
			buf_putc(&m->text, q[i]);
			if (q[i] == '"')
				i++;
		}
	} else {
		buf_append(&m->text, q + s, e - s);
	}
	c.bytes = &m->bytes;
	if (sm_tokenize(m, FTS5_TOKENIZE_QUERY | (star ? FTS5_TOKENIZE_PREFIX : 0),
	    m->text.data != NULL ? m->text.data + off : "", m->text.len - off, &c) != 0)
		rc = -1;
	else if (c.n == 0 || m->colocated)
		rc = 1;
	if (rc == 0) {
		sm_grow((void **)&m->term, &m->capterm, m->nterm + c.n, sizeof(*m->term));
		for (i = 0; i < c.n; i++) {
			m->term[m->nterm].off = c.tok[i].off;
			m->term[m->nterm].len = c.tok[i].len;
			m->term[m->nterm].start = c.tok[i].start < 0 ? 0 : (size_t)c.tok[i].start;
			m->term[m->nterm].prefix = star && i + 1 == c.n;
			if (m->term[m->nterm].start > m->text.len - off)
				rc = 1;
			m->nterm++;
		}
		sm_grow((void **)&m->piece, &m->cappiece, m->npiece + 1, sizeof(*m->piece));
		p = &m->piece[m->npiece++];
		p->off = off;
		p->len = m->text.len - off;
		p->nt = c.n;
		p->star = star;
		ph->nt += c.n;
		ph->np++;
	}
	free(c.tok);
	return rc;
}

/* phrase := STRING [*] (+ STRING [*])*, with ^ before it when first; *out its index. */
static int
sm_phrase(struct store_match *m, int first, size_t *out)
{
	struct sm_phrase *ph;
	size_t s, e, i;
	int rc, star;

	if (sm_peek(m) != T_STRING || sm_peek2(m) == T_COLON || m->nph >= SM_MAX_PHRASES)
		return 1;
	sm_grow((void **)&m->ph, &m->capph, m->nph + 1, sizeof(*m->ph));
	i = m->nph++;
	memset(&m->ph[i], 0, sizeof(m->ph[i]));
	m->ph[i].t0 = m->nterm;
	m->ph[i].p0 = m->npiece;
	m->ph[i].first = first;
	for (;;) {
		sm_take(m, &s, &e);
		star = sm_peek(m) == T_STAR;
		if (star)
			sm_take(m, NULL, NULL);
		ph = &m->ph[i];
		if ((rc = sm_piece(m, ph, s, e, star)) != 0)
			return rc;
		if (sm_peek(m) != T_PLUS)
			break;
		sm_take(m, NULL, NULL);
		if (sm_peek(m) != T_STRING || sm_peek2(m) == T_COLON)
			return 1;
	}
	*out = i;
	return 0;
}

/* nearset := ^ phrase | phrase | NEAR ( phrase+ [, N] ); *out its node. */
static int
sm_nearset(struct store_match *m, int *out)
{
	size_t s, e, p, ph0;
	int rc, n, near = SM_NEAR_DEFAULT;

	if (sm_peek(m) == T_CARET) {
		sm_take(m, NULL, NULL);
		if ((rc = sm_phrase(m, 1, &p)) != 0)
			return rc;
		n = sm_node_new(m, SM_PHRASE, -1, -1);
		m->node[n].ph0 = p;
		m->node[n].nph = 1;
		*out = n;
		return 0;
	}
	if (sm_peek(m) != T_STRING)
		return 1;
	if (sm_peek2(m) != T_LP) {
		if ((rc = sm_phrase(m, 0, &p)) != 0)
			return rc;
		n = sm_node_new(m, SM_PHRASE, -1, -1);
		m->node[n].ph0 = p;
		m->node[n].nph = 1;
		*out = n;
		return 0;
	}
	sm_take(m, &s, &e);
	if (e - s != 4 || memcmp(m->query + s, "NEAR", 4) != 0)
		return 1;
	sm_take(m, NULL, NULL);
	ph0 = m->nph;
	while (sm_peek(m) == T_STRING)
		if ((rc = sm_phrase(m, 0, &p)) != 0)
			return rc;
	if (m->nph == ph0)
		return 1;
	if (sm_peek(m) == T_COMMA) {
		sm_take(m, NULL, NULL);
		if (sm_take(m, &s, &e) != T_STRING || e - s > 6)
			return 1;
		for (near = 0; s < e; s++) {
			if (m->query[s] < '0' || m->query[s] > '9')
				return 1;
			near = near * 10 + (m->query[s] - '0');
		}
	}
	if (sm_take(m, NULL, NULL) != T_RP)
		return 1;
	n = sm_node_new(m, SM_NEAR, -1, -1);
	m->node[n].ph0 = ph0;
	m->node[n].nph = m->nph - ph0;
	m->node[n].near = near;
	*out = n;
	return 0;
}

static int sm_or(struct store_match *m, int *out);

/* primary := ( expr ) | nearset+ (side by side: AND). */
static int
sm_primary(struct store_match *m, int *out)
{
	int rc, l, r;

	if (sm_peek(m) == T_LP) {
		sm_take(m, NULL, NULL);
		if (++m->depth > SM_MAX_DEPTH)
			return 1;
		if ((rc = sm_or(m, out)) != 0)
			return rc;
		m->depth--;
		return sm_take(m, NULL, NULL) == T_RP ? 0 : 1;
	}
	if ((rc = sm_nearset(m, &l)) != 0)
		return rc;
	while (sm_peek(m) == T_STRING || sm_peek(m) == T_CARET) {
		if ((rc = sm_nearset(m, &r)) != 0)
			return rc;
		l = sm_node_new(m, SM_AND, l, r);
	}
	*out = l;
	return 0;
}

/* A left-associative chain of operands of one operator: NOT over primaries, AND over
 * NOTs, OR over ANDs. */
static int
sm_chain(struct store_match *m, int op, int *out)
{
	int rc, l = -1, r;

	if (op == T_NOT)
		rc = sm_primary(m, &l);
	else
		rc = sm_chain(m, op == T_OR ? T_AND : T_NOT, &l);
	while (rc == 0 && sm_peek(m) == op) {
		sm_take(m, NULL, NULL);
		if (op == T_NOT)
			rc = sm_primary(m, &r);
		else
			rc = sm_chain(m, op == T_OR ? T_AND : T_NOT, &r);
		if (rc == 0)
			l = sm_node_new(m, op == T_OR ? SM_OR : op == T_AND ? SM_AND : SM_NOT, l, r);
	}
	*out = l;
	return rc;
}

/* expr := the OR chain. */
static int
sm_or(struct store_match *m, int *out)
{
	return sm_chain(m, T_OR, out);
}

/* Parse query with tok. */
int
store_match_parse(const struct store_match_tok *tok, const char *query,
    struct store_match **out)
{
	struct store_match *m = xcalloc(1, sizeof(*m));
	int rc;

	*out = NULL;
	m->tok = tok;
	m->orig = xstrdup(query);
	m->query = m->orig;
	m->root = -1;
	rc = sm_or(m, &m->root);
	if (rc == 0 && sm_peek(m) != T_EOF)
		rc = 1;
	if (rc == 0 && m->colocated)
		rc = 1;
	if (rc != 0) {
		store_match_free(m);
		return rc;
	}
	*out = m;
	return 0;
}

/* Release a parsed query. */
void
store_match_free(struct store_match *m)
{
	size_t i;

	if (m == NULL)
		return;
	for (i = 0; i < m->nph; i++)
		free(m->ph[i].pos);
	free(m->orig);
	buf_free(&m->bytes);
	buf_free(&m->text);
	buf_free(&m->rbytes);
	free(m->term);
	free(m->piece);
	free(m->ph);
	free(m->node);
	free(m->rt);
	free(m->inst);
	free(m);
}

/* How many phrases. */
size_t
store_match_phrases(const struct store_match *m)
{
	return m->nph;
}

/* Does FTS5 read the positions of every row that holds the query's words (a phrase of two
 * terms or more, NEAR)? Such a query costs FTS5 a walk over all those rows when it has few
 * hits, however few it asks for. (A NOT costs as much, but a walk of half the rowids costs
 * it no less, so splitting does not help it.) */
int
store_match_walks(const struct store_match *m)
{
	size_t i;

	for (i = 0; i < m->nph; i++)
		if (m->ph[i].nt > 1)
			return 1;
	for (i = 0; i < m->nnode; i++)
		if (m->node[i].kind == SM_NEAR)
			return 1;
	return 0;
}

/* The characters of len bytes of UTF-8. */
static size_t
sm_chars(const char *s, size_t len)
{
	size_t i, n = 0;

	for (i = 0; i < len; i++)
		if (((unsigned char)s[i] & 0xc0) != 0x80)
			n++;
	return n;
}

/* The first term of phrase i that is a prefix with no prefix index, or -1. */
static long
sm_costly_term(const struct store_match *m, size_t i)
{
	const struct sm_term *t;
	size_t j, n;

	for (j = 0; i < m->nph && j < m->ph[i].nt; j++) {
		t = &m->term[m->ph[i].t0 + j];
		if (!t->prefix)
			continue;
		n = sm_chars(m->bytes.data + t->off, t->len);
		if (n != 2 && n != 3)
			return (long)j;
	}
	return -1;
}

/* Does phrase i hold a prefix with no prefix index? */
int
store_match_costly(const struct store_match *m, size_t i, const char **term, size_t *len)
{
	long j = sm_costly_term(m, i);
	const struct sm_term *t;

	if (j < 0)
		return 0;
	t = &m->term[m->ph[i].t0 + (size_t)j];
	*term = m->bytes.data + t->off;
	*len = t->len;
	return 1;
}

/* Loosen phrase i at its costly prefix: the terms before it, then that prefix cut to its
 * first 3 (or 2) characters when the index keeps those as they are, or nothing more. */
void
store_match_loosen(struct store_match *m, size_t i)
{
	struct sm_phrase *ph;
	const struct sm_term *t;
	const char *b;
	long j = sm_costly_term(m, i);
	size_t k, n, keep;

	if (j < 0)
		return;
	ph = &m->ph[i];
	ph->at = (size_t)j;
	t = &m->term[ph->t0 + ph->at];
	b = m->bytes.data + t->off;
	ph->relax = SM_DROP;
	for (keep = 3; keep >= 2; keep--) {
		struct sm_collect c = {0};
		struct buf tb = BUF_INIT;

		for (k = 0, n = 0; k < t->len; k++) {
			if (((unsigned char)b[k] & 0xc0) != 0x80 && n++ == keep)
				break;
		}
		if (n <= keep || k >= sizeof(ph->cut))
			continue;
		c.bytes = &tb;
		if (sm_tokenize(m, FTS5_TOKENIZE_QUERY | FTS5_TOKENIZE_PREFIX, b, k, &c) == 0 &&
		    c.n == 1 && c.tok[0].len == k && memcmp(tb.data, b, k) == 0) {
			memcpy(ph->cut, b, k);
			ph->ncut = k;
			ph->relax = SM_CUT;
		}
		free(c.tok);
		buf_free(&tb);
		if (ph->relax == SM_CUT)
			break;
	}
}

/* Was anything loosened? */
int
store_match_loose(const struct store_match *m)
{
	size_t i;

	for (i = 0; i < m->nph; i++)
		if (m->ph[i].relax != SM_KEEP)
			return 1;
	return 0;
}

/* Append n bytes of s as an FTS5 string (quoted, quotes doubled). */
static void
sm_quote(struct buf *out, const char *s, size_t n)
{
	size_t i;

	buf_putc(out, '"');
	for (i = 0; i < n; i++) {
		if (s[i] == '"')
			buf_putc(out, '"');
		buf_putc(out, s[i]);
	}
	buf_putc(out, '"');
}

/* Append phrase i as loosened; 1 when nothing is left of it (every row matches it). */
static int
sm_emit_phrase(const struct store_match *m, size_t i, struct buf *out)
{
	const struct sm_phrase *ph = &m->ph[i];
	size_t j, start = out->len, t = ph->t0;
	int any = 0;

	if (ph->first)
		buf_putc(out, '^');
	for (j = 0; j < ph->np; j++) {
		const struct sm_piece *p = &m->piece[ph->p0 + j];
		const char *text = m->text.data + p->off;
		size_t first = t - ph->t0;

		t += p->nt;
		if (ph->relax == SM_KEEP || t - ph->t0 <= ph->at) {
			/* Whole: the phrase is kept up to its loosened term, which ends a string. */
			if (any)
				buf_puts(out, " + ");
			sm_quote(out, text, p->len);
			if (p->star)
				buf_putc(out, '*');
			any = 1;
			continue;
		}
		if (ph->at > first) {
			if (any)
				buf_puts(out, " + ");
			sm_quote(out, text, m->term[ph->t0 + ph->at].start);
			any = 1;
		}
		if (ph->relax == SM_CUT) {
			if (any)
				buf_puts(out, " + ");
			sm_quote(out, ph->cut, ph->ncut);
			buf_putc(out, '*');
			any = 1;
		}
		break;
	}
	if (!any) {
		out->len = start;
		if (out->data != NULL)
			out->data[start] = '\0';
		return 1;
	}
	return 0;
}

/* Append node n as loosened; 1 when it matches every row (nothing appended). */
static int
sm_emit(const struct store_match *m, int n, struct buf *out)
{
	const struct sm_node *nd = &m->node[n];
	struct buf l = BUF_INIT, r = BUF_INIT;
	size_t i;
	int tl, tr, loose = 0, every;

	switch (nd->kind) {
	case SM_PHRASE:
		return sm_emit_phrase(m, nd->ph0, out);
	case SM_NEAR:
		for (i = 0; i < nd->nph; i++)
			loose |= m->ph[nd->ph0 + i].relax != SM_KEEP;
		if (!loose) {
			buf_puts(out, "NEAR(");
			for (i = 0; i < nd->nph; i++) {
				if (i > 0)
					buf_putc(out, ' ');
				sm_emit_phrase(m, nd->ph0 + i, out);
			}
			buf_printf(out, ", %d)", nd->near);
			return 0;
		}
		/* Each phrase on its own: the rows that hold them all, near or not. */
		for (i = 0, every = 1; i < nd->nph; i++) {
			buf_reset(&l);
			if (sm_emit_phrase(m, nd->ph0 + i, &l))
				continue;
			buf_puts(out, every ? "(" : " AND (");
			buf_append(out, l.data, l.len);
			buf_putc(out, ')');
			every = 0;
		}
		buf_free(&l);
		return every;
	case SM_NOT:
		/* The rows of the left side are a superset of those without the right. */
		return sm_emit(m, nd->a, out);
	default:
		tl = sm_emit(m, nd->a, &l);
		tr = sm_emit(m, nd->b, &r);
		every = nd->kind == SM_OR ? tl || tr : tl && tr;
		if (!every && (tl || tr)) {
			/* x AND (every row): x alone. */
			buf_append(out, tl ? r.data : l.data, tl ? r.len : l.len);
		} else if (!every) {
			buf_putc(out, '(');
			buf_append(out, l.data, l.len);
			buf_puts(out, nd->kind == SM_OR ? ") OR (" : ") AND (");
			buf_append(out, r.data, r.len);
			buf_putc(out, ')');
		}
		buf_free(&l);
		buf_free(&r);
		return every;
	}
}

/* The MATCH expression for the candidates; 1 when every row is one. */
int
store_match_source(const struct store_match *m, struct buf *out)
{
	buf_reset(out);
	if (!store_match_loose(m)) {
		buf_puts(out, m->orig);
		return 0;
	}
	return sm_emit(m, m->root, out);
}

/* Does row token k match term t? */
static int
sm_term_eq(const struct store_match *m, const struct sm_rtok *k, const struct sm_term *t)
{
	if (t->prefix ? k->len < t->len : k->len != t->len)
		return 0;
	return memcmp(m->rbytes.data + k->off, m->bytes.data + t->off, t->len) == 0;
}

/* Find phrase i's start positions in the row. */
static void
sm_positions(struct store_match *m, size_t i)
{
	struct sm_phrase *ph = &m->ph[i];
	size_t k, j, last;

	ph->npos = 0;
	ph->live = 0;
	if (ph->nt == 0 || m->nrt < ph->nt)
		return;
	last = ph->first ? 0 : m->nrt - ph->nt;
	for (k = 0; k <= last; k++) {
		for (j = 0; j < ph->nt; j++)
			if (!sm_term_eq(m, &m->rt[k + j], &m->term[ph->t0 + j]))
				break;
		if (j < ph->nt)
			continue;
		sm_grow((void **)&ph->pos, &ph->cap, ph->npos + 1, sizeof(*ph->pos));
		ph->pos[ph->npos++] = (int)k;
	}
}

/*
 * FTS5's NEAR test over a group's phrases (every one present): walk one position of each,
 * the largest of them iMax, until every phrase's position lies within its own length plus
 * the distance before iMax; each such set is kept, then the phrase whose next position
 * comes first moves on. The positions kept replace the phrases' own; 1 when any was.
 */
static int
sm_near(struct store_match *m, const struct sm_node *nd)
{
	size_t np = nd->nph, i, *at, *nout;
	int **out, imax, imin, ok, adv, matched;
	const int eof = INT32_MAX;

	if (np == 1)
		return 1;
	at = xcalloc(np, sizeof(*at));
	nout = xcalloc(np, sizeof(*nout));
	out = xcalloc(np, sizeof(*out));
	for (i = 0; i < np; i++)
		out[i] = xmalloc(m->ph[nd->ph0 + i].npos * sizeof(int) + 1);
	for (;;) {
		imax = m->ph[nd->ph0].pos[at[0]];
		do {
			ok = 1;
			for (i = 0; i < np; i++) {
				const struct sm_phrase *ph = &m->ph[nd->ph0 + i];

				imin = imax - (int)ph->nt - nd->near;
				if (ph->pos[at[i]] >= imin && ph->pos[at[i]] <= imax)
					continue;
				ok = 0;
				while (ph->pos[at[i]] < imin)
					if (++at[i] >= ph->npos)
						goto done;
				if (ph->pos[at[i]] > imax)
					imax = ph->pos[at[i]];
			}
		} while (!ok);
		for (i = 0; i < np; i++) {
			int p = m->ph[nd->ph0 + i].pos[at[i]];

			if (nout[i] == 0 || out[i][nout[i] - 1] != p)
				out[i][nout[i]++] = p;
		}
		adv = 0;
		imin = eof;
		for (i = 0; i < np; i++) {
			const struct sm_phrase *ph = &m->ph[nd->ph0 + i];
			int look = at[i] + 1 < ph->npos ? ph->pos[at[i] + 1] : eof;

			if (i == 0 || look < imin) {
				imin = look;
				adv = (int)i;
			}
		}
		if (++at[adv] >= m->ph[nd->ph0 + (size_t)adv].npos)
			break;
	}
done:
	matched = nout[0] > 0;
	for (i = 0; i < np; i++) {
		struct sm_phrase *ph = &m->ph[nd->ph0 + i];

		memcpy(ph->pos, out[i], nout[i] * sizeof(int));
		ph->npos = matched ? nout[i] : 0;
		free(out[i]);
	}
	free(out);
	free(at);
	free(nout);
	return matched;
}

/* Does node n match the row (every node below it decided as well)? */
static int
sm_eval(struct store_match *m, int n)
{
	struct sm_node *nd = &m->node[n];
	size_t i;
	int a, b;

	switch (nd->kind) {
	case SM_PHRASE:
		nd->match = m->ph[nd->ph0].npos > 0;
		break;
	case SM_NEAR:
		for (i = 0; i < nd->nph && m->ph[nd->ph0 + i].npos > 0; i++)
			;
		nd->match = i == nd->nph && sm_near(m, nd);
		break;
	default:
		a = sm_eval(m, nd->a);
		b = sm_eval(m, nd->b);
		nd = &m->node[n];
		nd->match = nd->kind == SM_AND ? a && b : nd->kind == SM_OR ? a || b : a && !b;
		break;
	}
	return nd->match;
}

/* Mark the phrases of the parts of node n that match as the row's instances. */
static void
sm_live(struct store_match *m, int n)
{
	const struct sm_node *nd = &m->node[n];
	size_t i;

	if (!nd->match)
		return;
	switch (nd->kind) {
	case SM_PHRASE:
	case SM_NEAR:
		for (i = 0; i < nd->nph; i++)
			m->ph[nd->ph0 + i].live = 1;
		break;
	case SM_NOT:
		sm_live(m, nd->a);
		break;
	default:
		sm_live(m, nd->a);
		sm_live(m, nd->b);
		break;
	}
}

/* Order instances by position, then phrase (as FTS5's xInst lists them). */
static int
sm_inst_cmp(const void *x, const void *y)
{
	const struct sm_inst *a = x, *b = y;

	if (a->pos != b->pos)
		return a->pos < b->pos ? -1 : 1;
	return (a->phrase > b->phrase) - (a->phrase < b->phrase);
}

/* Check a row. */
int
store_match_row(struct store_match *m, const char *text, size_t len)
{
	struct sm_collect c = {0};
	size_t i, j;

	buf_reset(&m->rbytes);
	c.bytes = &m->rbytes;
	c.tok = m->rt;
	c.cap = m->caprt;
	if (sm_tokenize(m, FTS5_TOKENIZE_DOCUMENT, text, len, &c) != 0) {
		m->rt = c.tok;
		m->caprt = c.cap;
		return -1;
	}
	m->rt = c.tok;
	m->caprt = c.cap;
	m->nrt = c.n;
	m->ninst = 0;
	for (i = 0; i < m->nph; i++)
		sm_positions(m, i);
	if (m->root < 0 || !sm_eval(m, m->root))
		return 0;
	sm_live(m, m->root);
	for (i = 0; i < m->nph; i++) {
		if (!m->ph[i].live)
			continue;
		sm_grow((void **)&m->inst, &m->capinst, m->ninst + m->ph[i].npos,
		    sizeof(*m->inst));
		for (j = 0; j < m->ph[i].npos; j++) {
			m->inst[m->ninst].pos = m->ph[i].pos[j];
			m->inst[m->ninst].phrase = (int)i;
			m->ninst++;
		}
	}
	qsort(m->inst, m->ninst, sizeof(*m->inst), sm_inst_cmp);
	return 1;
}

/* The score of the window of ntok tokens from pos (FTS5's fts5SnippetScore): 1000 for
 * each phrase's first instance in it, 1 for each later one; with adj, where the window
 * would start to centre them. */
static int
sm_window(const struct store_match *m, unsigned char *seen, int pos, int ntok, int *adj)
{
	long long end = (long long)pos + ntok, first = -1, last = 0, a;
	size_t i;
	int score = 0;

	memset(seen, 0, m->nph ? m->nph : 1);
	for (i = 0; i < m->ninst; i++) {
		const struct sm_inst *in = &m->inst[i];

		if (in->pos < pos || in->pos >= end)
			continue;
		score += seen[in->phrase] ? 1 : 1000;
		seen[in->phrase] = 1;
		if (first < 0)
			first = in->pos;
		last = in->pos + (long long)m->ph[in->phrase].nt;
	}
	if (adj != NULL) {
		a = first - (ntok - (last - first)) / 2;
		if (a + ntok > (long long)m->nrt)
			a = (long long)m->nrt - ntok;
		if (a < 0)
			a = 0;
		*adj = (int)a;
	}
	return score;
}

/* Does row token k start a sentence (the first, or after a '.' or ':' and a space)? */
static int
sm_sentence(const struct store_match *m, const char *text, size_t k)
{
	int i, start = m->rt[k].start;

	if (k == 0)
		return 1;
	for (i = start - 1; i >= 0; i--)
		if (text[i] != ' ' && text[i] != '\t' && text[i] != '\n' && text[i] != '\r')
			break;
	return i >= 0 && i != start - 1 && (text[i] == '.' || text[i] == ':');
}

/* The coalesced instance at or after instance *k: overlapping instances are one, from
 * *s to *e (token positions); *s is -1 past the last. */
static void
sm_coalesce(const struct store_match *m, size_t *k, int *s, int *e)
{
	*s = *e = -1;
	while (*k < m->ninst) {
		const struct sm_inst *in = &m->inst[*k];
		int end = in->pos + (int)m->ph[in->phrase].nt - 1;

		if (*s < 0) {
			*s = in->pos;
			*e = end;
		} else if (in->pos <= *e) {
			if (end > *e)
				*e = end;
		} else {
			break;
		}
		(*k)++;
	}
}

/* The last matching row's snippet (FTS5's snippet(), column 0, ntok tokens). */
void
store_match_snippet(const struct store_match *m, const char *text, size_t len,
    const char *open, const char *close, struct buf *out)
{
	const int ntok = STORE_MATCH_SNIPPET_TOKENS, ndoc = (int)m->nrt;
	unsigned char *seen = xcalloc(m->nph ? m->nph : 1, 1);
	int *firsts = xmalloc((m->nrt ? m->nrt : 1) * sizeof(*firsts));
	int best = 0, bstart = 0, score, adj, rs, re, cs, ce, off = 0, open_ = 0;
	size_t nfirst = 0, i, jj, k = 0;

	for (i = 0; i < m->nrt; i++)
		if (sm_sentence(m, text, i))
			firsts[nfirst++] = (int)i;
	for (i = 0; i < m->ninst; i++) {
		int io = m->inst[i].pos;

		score = sm_window(m, seen, io, ntok, &adj);
		if (score > best) {
			best = score;
			bstart = adj;
		}
		if (nfirst == 0 || ndoc <= ntok)
			continue;
		for (jj = 0; jj + 1 < nfirst && firsts[jj + 1] <= io; jj++)
			;
		if (firsts[jj] < io) {
			score = sm_window(m, seen, firsts[jj], ntok, NULL);
			score += firsts[jj] == 0 ? 120 : 100;
			if (score > best) {
				best = score;
				bstart = firsts[jj];
			}
		}
	}
	rs = bstart;
	re = bstart + ntok - 1;
	if (rs > 0)
		buf_puts(out, STORE_MATCH_ELLIPSIS);
	sm_coalesce(m, &k, &cs, &ce);
	while (cs >= 0 && cs < rs)
		sm_coalesce(m, &k, &cs, &ce);
	for (i = 0; i < m->nrt; i++) {
		const struct sm_rtok *t = &m->rt[i];
		int pos = (int)i;

		if (pos < rs || pos > re)
			continue;
		if (rs != 0 && pos == rs)
			off = t->start;
		if (open_ && (pos <= cs || cs < 0) && t->start > off) {
			buf_puts(out, close);
			open_ = 0;
		}
		if (pos == cs && !open_) {
			buf_append(out, text + off, (size_t)(t->start - off));
			buf_puts(out, open);
			off = t->start;
			open_ = 1;
		}
		if (pos == ce) {
			if (!open_) {
				buf_puts(out, open);
				open_ = 1;
			}
			buf_append(out, text + off, (size_t)(t->end - off));
			off = t->end;
			sm_coalesce(m, &k, &cs, &ce);
		}
		if (pos == re) {
			if (open_) {
				if (cs >= 0 && pos >= cs) {
					buf_append(out, text + off, (size_t)(t->end - off));
					off = t->end;
				}
				buf_puts(out, close);
				open_ = 0;
			}
			buf_append(out, text + off, (size_t)(t->end - off));
			off = t->end;
		}
	}
	if (open_)
		buf_puts(out, close);
	if (re >= ndoc - 1)
		buf_append(out, text + off, len - (size_t)off);
	else
		buf_puts(out, STORE_MATCH_ELLIPSIS);
	free(seen);
	free(firsts);
}

/* Does the last row hold a phrase outside the parts of the query that match it? */
int
store_match_stray(const struct store_match *m)
{
	size_t i;

	for (i = 0; i < m->nph; i++)
		if (!m->ph[i].live && m->ph[i].npos > 0)
			return 1;
	return 0;
}

/* The row's length in tokens and each phrase's count of instances. */
size_t
store_match_counts(const struct store_match *m, double *freq)
{
	size_t i;

	for (i = 0; i < m->nph; i++)
		freq[i] = 0;
	for (i = 0; i < m->ninst; i++)
		freq[m->inst[i].phrase] += 1;
	return m->nrt;
}
