/*
 * Code highlighting from nanorc files. A file holds syntaxes ("syntax NAME "file regex"..."),
 * each with header regexes for a first line, a comment marker and colour rules:
 * `color SPEC "regex"...`, `icolor` (case-insensitive) and `color SPEC start="re" end="re"`
 * for regions that span lines. Rules paint in file order, each over the ones before, as in
 * nano. Matching runs over a whole block at once with REG_NEWLINE (so ^, $, . and [^...]
 * keep to a line, as nano's line-at-a-time matching does) and REG_STARTEND (so a search
 * that resumes mid-block still sees the character before it), one regexec per match rather
 * than one per line and rule. Regexes run in the C locale, which keeps them fast and
 * byte-based; paint is then moved to UTF-8 character boundaries.
 *
 * A rule's role comes from what it matches: each rule paints probe texts (a comment in the
 * syntax's own comment marker, strings, directives, numbers, common keywords, type names,
 * constants, function definitions, diff lines) and takes the kind it covers. A rule that
 * covers a nonsense word paints everything (css's "." base colour) and is dropped, as are
 * rules with a background (nano's trailing-space and TODO markers). nano's "normal" paints
 * the block's own colour back. Syntaxes without a number rule get one, first, so strings
 * and comments still paint over it.
 *
 * Regexes from files are checked before regcomp: no backreferences (exponential matching)
 * and an estimate of the automaton glibc will build, whose repetitions copy what they
 * repeat, bounded by HL_MAX_COST, so neither a hostile file nor the fuzzer can make glibc
 * build an enormous one.
 */
#include <ctype.h>
#include <dirent.h>
#include <locale.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "highlight.h"
#include "theme.h"
#include "xmalloc.h"

#define HL_MAX_REGEX 4096      /* bytes of one regex */
#define HL_MAX_COST 20000      /* estimated size of a regex's automaton (hl_regex_ok) */
#define HL_MAX_BOUND 255       /* largest bound of one repetition */
#define HL_MAX_NEST 32         /* deepest group nesting */
#define HL_MAX_FILE (1 << 20)  /* bytes of a nanorc file read */
#define HL_MAX_RULES 512       /* rules of one syntax */

struct hl_rule {
	regex_t start;   /* the match, or where a region starts */
	regex_t end;     /* where a region ends */
	int region;
	int role;        /* theme role; 0 paints the block's own colour */
};

struct hl_syntax {
	char *name;
	char *file;
	char **exts;            /* file name regexes (sources) */
	size_t nexts;
	regex_t *ext_re;        /* compiled when a tag is first looked up; NULL entries bad */
	int *ext_ok;
	char **headers;         /* first-line regexes (sources) */
	size_t nheaders;
	regex_t *head_re;
	int *head_ok;
	char *comment;          /* the comment directive, or NULL */
	struct hl_rule *rules;
	size_t nrules, caprules;
	int loaded;             /* rules compiled */
};

struct hl_set {
	struct hl_syntax **v;
	size_t n;
};

/* What is known: the directories, and the syntaxes found there (rules loaded lazily). */
static struct {
	char **dirs;
	size_t ndirs;
	int custom;
	int scanned;
	struct hl_set set;
} hl_reg;

static locale_t hl_c;

/* Switch this thread to the C locale for regex work; returns the locale to go back to. */
static locale_t
hl_enter(void)
{
	if (hl_c == (locale_t)0)
		hl_c = newlocale(LC_CTYPE_MASK | LC_COLLATE_MASK, "C", (locale_t)0);
	return hl_c != (locale_t)0 ? uselocale(hl_c) : (locale_t)0;
}

/* Go back to the locale hl_enter replaced. */
static void
hl_leave(locale_t old)
{
	if (old != (locale_t)0)
		uselocale(old);
}

/* Skip a bracket expression starting at re[i] == '['; returns the index of its ']' or 0
 * when it does not close. */
static size_t
hl_skip_bracket(const char *re, size_t i)
{
	size_t j = i + 1;

	if (re[j] == '^')
		j++;
	if (re[j] == ']')
		j++;
	while (re[j] != '\0' && re[j] != ']') {
		if (re[j] == '[' && (re[j + 1] == ':' || re[j + 1] == '=' || re[j + 1] == '.')) {
			char kind = re[j + 1];

			j += 2;
			while (re[j] != '\0' && !(re[j] == kind && re[j + 1] == ']'))
				j++;
			if (re[j] == '\0')
				return 0;
			j += 2;
			continue;
		}
		j++;
	}
	return re[j] == ']' ? j : 0;
}

/* Read a bound of {m,n} at re[*j]; returns it (HL_MAX_BOUND + 1 when larger). */
static unsigned long
hl_bound(const char *re, size_t *j)
{
	unsigned long v = 0;

	while (isdigit((unsigned char)re[*j])) {
		if (v <= HL_MAX_BOUND)
			v = v * 10 + (unsigned long)(re[*j] - '0');
		(*j)++;
	}
	return v;
}

/*
 * Is a regex from a file safe to compile: short, no backreferences, and an automaton of
 * bounded size? glibc copies the subexpression a repetition applies to (a+ is aa*, a{3}
 * is aaa), so nested repetitions multiply: the estimate follows the groups, each atom
 * costing one, a group the sum of its alternatives, + doubling and {m,n} multiplying by
 * its larger bound what it follows. A quantifier right after another is refused.
 */
static int
hl_regex_ok(const char *re)
{
	unsigned long total[HL_MAX_NEST + 1], last[HL_MAX_NEST + 1];
	size_t len = strlen(re), i;
	int depth = 0, quant = 0;

	if (len == 0 || len > HL_MAX_REGEX)
		return 0;
	total[0] = last[0] = 0;
	for (i = 0; i < len; i++) {
		unsigned long mult = 0;

		if (re[i] == '*' || re[i] == '?' || re[i] == '+') {
			mult = re[i] == '+' ? 2 : 1;
		} else if (re[i] == '{' && isdigit((unsigned char)re[i + 1])) {
			size_t j = i + 1;
			unsigned long lo = hl_bound(re, &j), hi = lo;

			if (re[j] == ',') {
				j++;
				hi = isdigit((unsigned char)re[j]) ? hl_bound(re, &j) : lo + 1;
			}
			if (lo > HL_MAX_BOUND || hi > HL_MAX_BOUND)
				return 0;
			mult = hi > lo ? hi : lo;
			mult = mult > 1 ? mult : 1;
			i = j;
		}
		if (mult > 0) {
			if (quant)
				return 0;
			quant = 1;
			last[depth] *= mult;
			if (last[depth] > HL_MAX_COST)
				return 0;
			continue;
		}
		quant = 0;
		total[depth] += last[depth];
		last[depth] = 1;
		if (re[i] == '\\') {
			if (re[i + 1] >= '1' && re[i + 1] <= '9')
				return 0;
			if (re[i + 1] != '\0')
				i++;
		} else if (re[i] == '[') {
			size_t j = hl_skip_bracket(re, i);

			if (j == 0)
				return 0;
			i = j;
		} else if (re[i] == '(') {
			if (depth == HL_MAX_NEST)
				return 0;
			depth++;
			total[depth] = last[depth] = 0;
		} else if (re[i] == ')' && depth > 0) {
			unsigned long group = total[depth] + last[depth];

			depth--;
			last[depth] = group > 0 ? group : 1;
		} else if (re[i] == '|') {
			last[depth] = 0;
		}
		if (total[depth] > HL_MAX_COST)
			return 0;
	}
	while (depth > 0) {
		total[depth - 1] += total[depth] + last[depth];
		depth--;
	}
	return total[0] + last[0] <= HL_MAX_COST;
}

/* Compile a regex from a file; 0 on success. */
static int
hl_compile(regex_t *re, const char *src, int icase)
{
	if (!hl_regex_ok(src))
		return -1;
	return regcomp(re, src, REG_EXTENDED | REG_NEWLINE | (icase ? REG_ICASE : 0)) == 0 ? 0 : -1;
}

/* Read the nanorc string at *p (just past its opening quote): it ends at a quote followed
 * by a blank or the end of the line, as in nano, so it may hold quotes. Returns the
 * content (the caller frees it) and moves *p past the closing quote; NULL if unclosed. */
static char *
hl_string(const char **p, const char *end)
{
	const char *s = *p, *q;

	for (q = s; q < end; q++) {
		if (*q == '"' && (q + 1 == end || q[1] == ' ' || q[1] == '\t' || q[1] == '\r')) {
			*p = q + 1;
			return xstrndup(s, (size_t)(q - s));
		}
	}
	return NULL;
}

/* Skip blanks. */
static const char *
hl_blank(const char *p, const char *end)
{
	while (p < end && (*p == ' ' || *p == '\t' || *p == '\r'))
		p++;
	return p;
}

/* A word (up to a blank) at p into out; returns where it ends. */
static const char *
hl_word(const char *p, const char *end, char *out, size_t cap)
{
	size_t n = 0;

	while (p < end && *p != ' ' && *p != '\t' && *p != '\r') {
		if (n + 1 < cap)
			out[n++] = *p;
		p++;
	}
	out[n] = '\0';
	return p;
}

/* What a colour spec ([bold,][italic,]fg[,bg]) asks for: 1 a foreground, 0 "normal",
 * -1 something natter leaves out (a background, or no foreground). */
static int
hl_spec(const char *spec)
{
	char copy[128], *save = NULL, *w;
	int nfield = 0, fg = 0, normal = 0;
	const char *c;

	snprintf(copy, sizeof copy, "%s", spec);
	/* Fields are comma-separated; an empty first field is an empty foreground. */
	if (copy[0] == ',')
		return -1;
	for (c = spec; *c; c++)
		if (*c == ',')
			nfield++;
	for (w = strtok_r(copy, ",", &save); w != NULL; w = strtok_r(NULL, ",", &save)) {
		if (strcasecmp(w, "bold") == 0 || strcasecmp(w, "italic") == 0) {
			nfield--;
			continue;
		}
		if (fg) /* a second colour: the background */
			return -1;
		fg = 1;
		normal = strcasecmp(w, "normal") == 0;
	}
	if (!fg || nfield > 0)
		return -1;
	return normal ? 0 : 1;
}

/* Append a string to a growing array. */
static void
hl_push(char ***v, size_t *n, char *s)
{
	*v = xrealloc(*v, (*n + 1) * sizeof **v);
	(*v)[(*n)++] = s;
}

/* A new, empty syntax. */
static struct hl_syntax *
hl_syntax_new(const char *name, const char *file)
{
	struct hl_syntax *s = xcalloc(1, sizeof *s);

	s->name = xstrdup(name);
	s->file = xstrdup(file != NULL ? file : "");
	return s;
}

/* Free the compiled rules of a syntax. */
static void
hl_rules_free(struct hl_syntax *s)
{
	size_t i;

	for (i = 0; i < s->nrules; i++) {
		regfree(&s->rules[i].start);
		if (s->rules[i].region)
			regfree(&s->rules[i].end);
	}
	free(s->rules);
	s->rules = NULL;
	s->nrules = s->caprules = 0;
}

/* Free a syntax. */
static void
hl_syntax_free(struct hl_syntax *s)
{
	size_t i;

	if (s == NULL)
		return;
	hl_rules_free(s);
	for (i = 0; i < s->nexts; i++) {
		if (s->ext_re != NULL && s->ext_ok[i])
			regfree(&s->ext_re[i]);
		free(s->exts[i]);
	}
	for (i = 0; i < s->nheaders; i++) {
		if (s->head_re != NULL && s->head_ok[i])
			regfree(&s->head_re[i]);
		free(s->headers[i]);
	}
	free(s->exts);
	free(s->ext_re);
	free(s->ext_ok);
	free(s->headers);
	free(s->head_re);
	free(s->head_ok);
	free(s->comment);
	free(s->name);
	free(s->file);
	free(s);
}

/* Add a rule to a syntax. */
static struct hl_rule *
hl_rule_add(struct hl_syntax *s)
{
	if (s->nrules == s->caprules) {
		s->caprules = s->caprules ? s->caprules * 2 : 16;
		s->rules = xrealloc(s->rules, s->caprules * sizeof *s->rules);
	}
	memset(&s->rules[s->nrules], 0, sizeof s->rules[0]);
	return &s->rules[s->nrules++];
}

/* Paint the matches of one rule over roles (role `role`, or the rule's own when < 0). */
static void
hl_paint_rule(const struct hl_rule *r, const char *text, size_t n, uint8_t *roles, int role)
{
	regmatch_t m[1];
	size_t pos = 0, so, eo, i;
	uint8_t paint = (uint8_t)(role >= 0 ? role : r->role);

	while (pos < n) {
		m[0].rm_so = (regoff_t)pos;
		m[0].rm_eo = (regoff_t)n;
		if (regexec(&r->start, text, 1, m, REG_STARTEND) != 0)
			break;
		so = (size_t)m[0].rm_so;
		eo = (size_t)m[0].rm_eo;
		if (r->region) {
			m[0].rm_so = (regoff_t)eo;
			m[0].rm_eo = (regoff_t)n;
			eo = regexec(&r->end, text, 1, m, REG_STARTEND) == 0 ? (size_t)m[0].rm_eo : n;
		} else {
			/* A match stays on its line, as nano matches line by line. */
			const char *nl = memchr(text + so, '\n', eo - so);

			if (nl != NULL)
				eo = (size_t)(nl - text);
		}
		for (i = so; i < eo; i++)
			roles[i] = paint;
		pos = eo > so ? eo : so + 1;
	}
}

enum hl_kind {
	HK_NONE, HK_COMMENT, HK_STRING, HK_ADDED, HK_REMOVED, HK_PREPROC, HK_NUMBER,
	HK_FUNCTION, HK_CONSTANT, HK_TYPE, HK_KEYWORD, HK_COUNT
};

/* The probe texts of each kind, one probe a line. */
static const char *const hl_probes[HK_COUNT] = {
	[HK_STRING] = "\"text here\"\n'text'\n\"\"\"text\"\"\"\n'''text'''",
	[HK_ADDED] = "+added line\n+ added",
	[HK_REMOVED] = "-removed line\n- removed",
	[HK_PREPROC] = "#include <stdio.h>\n#define X 1\n#ifdef FOO\n#pragma once\n#endif\n"
	    "#![allow(dead_code)]\n#[derive(Debug)]",
	[HK_NUMBER] = "42\n3.14\n0x1F\n1e10",
	[HK_FUNCTION] = "def foo\nfn foo\nfunction foo\nfunc foo\nfoo()\nsub foo",
	[HK_CONSTANT] = "true\nfalse\nTrue\nFalse\nNone\nnull\nNULL\nnil\nnullptr\nundefined\n"
	    "MAX_SIZE\nEOF",
	[HK_TYPE] = "int\nchar\nvoid\nbool\nfloat\ndouble\nlong\nshort\nunsigned\nstring\nString\n"
	    "str\nu8\nu32\ni64\nusize\nsize_t\nuint8_t\nint32\nfloat64\nbyte\nrune\nboolean\n"
	    "number\nVec\nHashMap\nInteger\nObject\nList\nArrayList\nOption\nResult",
	[HK_KEYWORD] = "if\nelse\nfor\nwhile\nreturn\ndef\nclass\nfunction\nfn\nfunc\nlet\nvar\n"
	    "const\nimport\nfrom\nstruct\nenum\nswitch\ncase\nbreak\ncontinue\ndo\ntry\ncatch\n"
	    "throw\nnew\nin\nand\nor\nnot\nlambda\nyield\nasync\nawait\nmatch\nimpl\npub\nuse\n"
	    "mod\npackage\ninterface\nextends\nimplements\npublic\nprivate\nstatic\nthen\nfi\n"
	    "esac\ndone\nelif\nend\nbegin\nlocal\nmodule\nrequire\nselect\nwhere\nSELECT\nFROM\n"
	    "WHERE\ndefer\nrange\ntype\nmut\nloop\nunless\nforeach\nendif\nexport\ngoto",
};
/* Comment probes for a syntax that names no comment marker, and the block comments its
 * region rules try when the marker is a line comment. */
static const char hl_generic_comments[] = "// note\n# note\n-- note\n; note";
static const char hl_block_comments[] = "/* note */\n<!-- note -->\n(* note *)\n{- note -}\n"
    "--[[ note ]]";
static const char hl_nonsense[] = "zqxv\nzq9 xk!";
static const char hl_tags[] = "<div>\n<a href=\"x\">\n</p>";

static const int hl_kind_role[HK_COUNT] = {
	[HK_NONE] = THEME_CODESPECIAL, [HK_COMMENT] = THEME_CODECOMMENT,
	[HK_STRING] = THEME_CODESTRING, [HK_ADDED] = THEME_CODEADDED,
	[HK_REMOVED] = THEME_CODEREMOVED, [HK_PREPROC] = THEME_CODEPREPROC,
	[HK_NUMBER] = THEME_CODENUMBER, [HK_FUNCTION] = THEME_CODEFUNCTION,
	[HK_CONSTANT] = THEME_CODECONSTANT, [HK_TYPE] = THEME_CODETYPE,
	[HK_KEYWORD] = THEME_CODEKEYWORD,
};

/* How many lines of probes the rule paints completely. */
static int
hl_covers(const struct hl_rule *r, const char *probes)
{
	size_t n = strlen(probes), i, start = 0;
	uint8_t *paint = xcalloc(n + 1, 1);
	int count = 0, all = 1;

	hl_paint_rule(r, probes, n, paint, 1);
	for (i = 0; i <= n; i++) {
		if (i == n || probes[i] == '\n') {
			if (all && i > start)
				count++;
			all = 1;
			start = i + 1;
		} else if (!paint[i]) {
			all = 0;
		}
	}
	free(paint);
	return count;
}

/* The comment probes of a syntax, from its comment marker ("//", "#", a pair split by |), into b. */
static void
hl_comment_probes(const struct hl_syntax *s, struct buf *b)
{
	const char *bar;

	if (s->comment == NULL || s->comment[0] == '\0') {
		buf_puts(b, hl_generic_comments);
		return;
	}
	bar = strchr(s->comment, '|');
	if (bar != NULL)
		buf_printf(b, "%.*s note %s", (int)(bar - s->comment), s->comment, bar + 1);
	else
		buf_printf(b, "%s note", s->comment);
}

/* The theme role a rule gets from the probes it covers; -1 to drop it. *words is set when
 * the rule matches words of a programming language (keywords, types). */
static int
hl_classify(const struct hl_syntax *s, const struct hl_rule *r, int *words)
{
	static const enum hl_kind structural[] = {
		HK_STRING, HK_PREPROC, HK_NUMBER,
	};
	static const enum hl_kind kinds[] = { HK_FUNCTION, HK_CONSTANT, HK_TYPE, HK_KEYWORD };
	struct buf b = BUF_INIT;
	size_t i;
	int best = HK_NONE, most = 0, c;

	if (hl_covers(r, hl_nonsense) > 0)
		return -1;
	/* Tags first (a tag rule covers <!-- too), and diff lines before "-- note". */
	if (hl_covers(r, hl_tags) > 0)
		return THEME_CODEKEYWORD;
	if (hl_covers(r, hl_probes[HK_ADDED]) > 0)
		return THEME_CODEADDED;
	if (hl_covers(r, hl_probes[HK_REMOVED]) > 0)
		return THEME_CODEREMOVED;
	hl_comment_probes(s, &b);
	/* A syntax whose marker is a pair has its block comments named; others try the usual. */
	if (r->region && (s->comment == NULL || strchr(s->comment, '|') == NULL)) {
		if (b.len > 0)
			buf_putc(&b, '\n');
		buf_puts(&b, hl_block_comments);
	}
	c = b.len > 0 ? hl_covers(r, b.data) : 0;
	buf_free(&b);
	if (c > 0)
		return THEME_CODECOMMENT;
	for (i = 0; i < sizeof structural / sizeof structural[0]; i++)
		if (hl_covers(r, hl_probes[structural[i]]) > 0)
			return hl_kind_role[structural[i]];
	/* A region left open paints every probe after it: only the kinds above tell. */
	if (r->region)
		return THEME_CODESPECIAL;
	for (i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
		c = hl_covers(r, hl_probes[kinds[i]]);
		if (c > most) {
			most = c;
			best = kinds[i];
		}
	}
	if (best == HK_KEYWORD || best == HK_TYPE)
		*words = 1;
	return hl_kind_role[best];
}

/* Give every rule of a syntax its role, drop the unusable ones, and add a number rule
 * when none matches numbers but some matches words of a programming language. */
static void
hl_finish(struct hl_syntax *s)
{
	size_t i, j = 0;
	int numbers = 0, words = 0;

	for (i = 0; i < s->nrules; i++) {
		struct hl_rule *r = &s->rules[i];

		if (r->role != 0)
			r->role = hl_classify(s, r, &words);
		if (r->role < 0) {
			regfree(&r->start);
			if (r->region)
				regfree(&r->end);
			continue;
		}
		numbers |= r->role == THEME_CODENUMBER;
		s->rules[j++] = *r;
	}
	s->nrules = j;
	if (!numbers && words) {
		struct hl_rule num;

		memset(&num, 0, sizeof num);
		if (regcomp(&num.start, "\\<(0[xX][[:xdigit:]]+|[0-9]+(\\.[0-9]+)?([eE][-+]?[0-9]+)?)\\>",
		    REG_EXTENDED | REG_NEWLINE) == 0) {
			num.role = THEME_CODENUMBER;
			hl_rule_add(s);
			memmove(s->rules + 1, s->rules, (s->nrules - 1) * sizeof *s->rules);
			s->rules[0] = num;
		}
	}
	s->loaded = 1;
}

/* Parse the regexes of a color or icolor line (after its spec) into rules of s. */
static void
hl_parse_color(struct hl_syntax *s, const char *p, const char *end, int icase, int role,
    size_t *nbad)
{
	for (;;) {
		char *a, *b = NULL;
		struct hl_rule *r;
		int region = 0;

		p = hl_blank(p, end);
		if (p >= end)
			return;
		if (end - p > 7 && memcmp(p, "start=\"", 7) == 0) {
			p += 7;
			region = 1;
		} else if (*p == '"') {
			p++;
		} else {
			(*nbad)++;
			return;
		}
		if ((a = hl_string(&p, end)) == NULL) {
			(*nbad)++;
			return;
		}
		if (region) {
			p = hl_blank(p, end);
			if (end - p > 5 && memcmp(p, "end=\"", 5) == 0) {
				p += 5;
				b = hl_string(&p, end);
			}
			if (b == NULL) {
				free(a);
				(*nbad)++;
				return;
			}
		}
		if (s->nrules >= HL_MAX_RULES) {
			free(a);
			free(b);
			(*nbad)++;
			return;
		}
		r = hl_rule_add(s);
		r->region = region;
		r->role = role;
		if (hl_compile(&r->start, a, icase) != 0) {
			s->nrules--;
			(*nbad)++;
		} else if (region && hl_compile(&r->end, b, icase) != 0) {
			regfree(&r->start);
			s->nrules--;
			(*nbad)++;
		}
		free(a);
		free(b);
	}
}

/* Read the quoted strings after a directive into a list. */
static void
hl_parse_strings(const char *p, const char *end, char ***v, size_t *n, size_t *nbad)
{
	char *str;

	for (;;) {
		p = hl_blank(p, end);
		if (p >= end)
			return;
		if (*p != '"') {
			(*nbad)++;
			return;
		}
		p++;
		if ((str = hl_string(&p, end)) == NULL) {
			(*nbad)++;
			return;
		}
		hl_push(v, n, str);
	}
}

/* Parse nanorc text into set. want: compile the rules of the syntax of that name only;
 * NULL: compile every syntax's rules; "": compile none (names, file and header regexes). */
static void
hl_parse_into(struct hl_set *set, const char *text, size_t n, const char *file,
    const char *want, size_t *nbad)
{
	const char *p = text, *tend = text + n;
	struct hl_syntax *cur = NULL;
	int compiling = 0;
	locale_t old = hl_enter();

	while (p < tend) {
		const char *eol = memchr(p, '\n', (size_t)(tend - p));
		const char *end = eol ? eol : tend, *q;
		char word[32], spec[64];

		q = hl_blank(p, end);
		p = eol ? eol + 1 : tend;
		if (q >= end || *q == '#')
			continue;
		q = hl_word(q, end, word, sizeof word);
		q = hl_blank(q, end);
		if (strcmp(word, "syntax") == 0) {
			char name[64];
			char *quoted = NULL;

			if (cur != NULL && compiling)
				hl_finish(cur);
			if (q < end && *q == '"') {
				q++;
				quoted = hl_string(&q, end);
				snprintf(name, sizeof name, "%s", quoted != NULL ? quoted : "");
				free(quoted);
			} else {
				q = hl_word(q, end, name, sizeof name);
			}
			if (name[0] == '\0') {
				(*nbad)++;
				cur = NULL;
				continue;
			}
			cur = hl_syntax_new(name, file);
			set->v = xrealloc(set->v, (set->n + 1) * sizeof *set->v);
			set->v[set->n++] = cur;
			compiling = want == NULL || (want[0] != '\0' && strcmp(want, name) == 0);
			hl_parse_strings(q, end, &cur->exts, &cur->nexts, nbad);
			continue;
		}
		if (cur == NULL)
			continue;
		if (strcmp(word, "header") == 0) {
			hl_parse_strings(q, end, &cur->headers, &cur->nheaders, nbad);
		} else if (strcmp(word, "comment") == 0) {
			if (q < end && *q == '"') {
				q++;
				free(cur->comment);
				cur->comment = hl_string(&q, end);
			}
		} else if ((strcmp(word, "color") == 0 || strcmp(word, "icolor") == 0) && compiling) {
			int kind;

			q = hl_word(q, end, spec, sizeof spec);
			kind = hl_spec(spec);
			if (kind >= 0)
				hl_parse_color(cur, q, end, word[0] == 'i', kind == 0 ? 0 : 1, nbad);
		}
	}
	if (cur != NULL && compiling)
		hl_finish(cur);
	hl_leave(old);
}

/* Parse nanorc text with every rule compiled. */
struct hl_set *
highlight_parse(const char *text, size_t n, const char *file, size_t *nbad)
{
	struct hl_set *set = xcalloc(1, sizeof *set);
	size_t bad = 0;

	hl_parse_into(set, text, n, file, NULL, &bad);
	if (nbad != NULL)
		*nbad = bad;
	return set;
}

/* How many syntaxes a set holds. */
size_t
highlight_set_count(const struct hl_set *set)
{
	return set->n;
}

/* Syntax i of a set. */
const struct hl_syntax *
highlight_set_get(const struct hl_set *set, size_t i)
{
	return i < set->n ? set->v[i] : NULL;
}

/* Free a set and its syntaxes. */
void
highlight_set_free(struct hl_set *set)
{
	size_t i;

	if (set == NULL)
		return;
	for (i = 0; i < set->n; i++)
		hl_syntax_free(set->v[i]);
	free(set->v);
	free(set);
}

/* The syntax's name. */
const char *
highlight_name(const struct hl_syntax *s)
{
	return s->name;
}

/* How many rules paint. */
size_t
highlight_nrules(const struct hl_syntax *s)
{
	return s->nrules;
}

/* The role of rule i. */
int
highlight_rule_role(const struct hl_syntax *s, size_t i)
{
	return i < s->nrules ? s->rules[i].role : -1;
}

/* Paint a block with every rule, then keep each UTF-8 character in one role. */
void
highlight_paint(const struct hl_syntax *s, const char *text, size_t n, uint8_t *roles)
{
	locale_t old;
	size_t i;

	memset(roles, 0, n);
	if (s == NULL || n == 0)
		return;
	old = hl_enter();
	for (i = 0; i < s->nrules; i++)
		hl_paint_rule(&s->rules[i], text, n, roles, -1);
	hl_leave(old);
	for (i = 1; i < n; i++)
		if (((unsigned char)text[i] & 0xc0) == 0x80)
			roles[i] = roles[i - 1];
}

/* Read a whole file (at most HL_MAX_FILE bytes) into b; -1 when it cannot be read. */
static int
hl_slurp(const char *path, struct buf *b)
{
	FILE *f = fopen(path, "rb");
	char chunk[4096];
	size_t k;

	if (f == NULL)
		return -1;
	while (b->len < HL_MAX_FILE && (k = fread(chunk, 1, sizeof chunk, f)) > 0)
		buf_append(b, chunk, k);
	fclose(f);
	return 0;
}

/* Compare two names for qsort. */
static int
hl_name_cmp(const void *x, const void *y)
{
	return strcmp(*(char *const *)x, *(char *const *)y);
}

/* The built-in directory list. */
static void
hl_default_dirs(void)
{
	const char *xdg = getenv("XDG_CONFIG_HOME"), *home = getenv("HOME");

	if (xdg != NULL && *xdg)
		hl_push(&hl_reg.dirs, &hl_reg.ndirs, xasprintf("%s/natter/syntax", xdg));
	else if (home != NULL && *home)
		hl_push(&hl_reg.dirs, &hl_reg.ndirs, xasprintf("%s/.config/natter/syntax", home));
	hl_push(&hl_reg.dirs, &hl_reg.ndirs, xasprintf("%s/syntax", NATTER_DATADIR));
	hl_push(&hl_reg.dirs, &hl_reg.ndirs, xasprintf("%s/syntax", NATTER_SRCDIR));
	hl_push(&hl_reg.dirs, &hl_reg.ndirs, xstrdup("/usr/share/nano"));
	hl_push(&hl_reg.dirs, &hl_reg.ndirs, xstrdup("/usr/share/nano/extra"));
}

/* Is a syntax of this name known already? */
static int
hl_known(const char *name)
{
	size_t i;

	for (i = 0; i < hl_reg.set.n; i++)
		if (strcmp(hl_reg.set.v[i]->name, name) == 0)
			return 1;
	return 0;
}

/* Read the names, file regexes and headers of every syntax in the directories. */
static void
hl_scan(void)
{
	size_t d, i, j, nbad = 0;

	hl_reg.scanned = 1;
	if (!hl_reg.custom && hl_reg.ndirs == 0)
		hl_default_dirs();
	for (d = 0; d < hl_reg.ndirs; d++) {
		DIR *dir = opendir(hl_reg.dirs[d]);
		struct dirent *e;
		char **names = NULL;
		size_t nn = 0;

		if (dir == NULL)
			continue;
		while ((e = readdir(dir)) != NULL) {
			size_t len = strlen(e->d_name);

			if (len > 7 && e->d_name[0] != '.' && strcmp(e->d_name + len - 7, ".nanorc") == 0)
				hl_push(&names, &nn, xstrdup(e->d_name));
		}
		closedir(dir);
		qsort(names, nn, sizeof *names, hl_name_cmp);
		for (i = 0; i < nn; i++) {
			char *path = xasprintf("%s/%s", hl_reg.dirs[d], names[i]);
			struct buf b = BUF_INIT;
			struct hl_set one = { NULL, 0 };

			if (hl_slurp(path, &b) == 0)
				hl_parse_into(&one, b.data ? b.data : "", b.len, path, "", &nbad);
			for (j = 0; j < one.n; j++) {
				struct hl_syntax *s = one.v[j];

				if (strcmp(s->name, "default") == 0 || strcmp(s->name, "none") == 0 ||
				    hl_known(s->name)) {
					hl_syntax_free(s);
					continue;
				}
				hl_reg.set.v = xrealloc(hl_reg.set.v, (hl_reg.set.n + 1) *
				    sizeof *hl_reg.set.v);
				hl_reg.set.v[hl_reg.set.n++] = s;
			}
			free(one.v);
			buf_free(&b);
			free(path);
			free(names[i]);
		}
		free(names);
	}
}

/* Compile the rules of a registry syntax from its file, once. */
static void
hl_load(struct hl_syntax *s)
{
	struct buf b = BUF_INIT;
	struct hl_set one = { NULL, 0 };
	size_t i, nbad = 0;

	if (s->loaded)
		return;
	s->loaded = 1;
	if (hl_slurp(s->file, &b) == 0)
		hl_parse_into(&one, b.data ? b.data : "", b.len, s->file, s->name, &nbad);
	for (i = 0; i < one.n; i++) {
		if (s->rules == NULL && strcmp(one.v[i]->name, s->name) == 0) {
			s->rules = one.v[i]->rules;
			s->nrules = one.v[i]->nrules;
			s->caprules = one.v[i]->caprules;
			one.v[i]->rules = NULL;
			one.v[i]->nrules = one.v[i]->caprules = 0;
		}
		hl_syntax_free(one.v[i]);
	}
	free(one.v);
	buf_free(&b);
}

/* Compile a list of regexes once (bad ones are marked and skipped). */
static void
hl_compile_list(char **src, size_t n, regex_t **re, int **ok)
{
	size_t i;

	if (*re != NULL || n == 0)
		return;
	*re = xcalloc(n, sizeof **re);
	*ok = xcalloc(n, sizeof **ok);
	for (i = 0; i < n; i++)
		(*ok)[i] = hl_regex_ok(src[i]) &&
		    regcomp(&(*re)[i], src[i], REG_EXTENDED | REG_NOSUB) == 0;
}

/* Does any of the compiled regexes match s? */
static int
hl_any(regex_t *re, const int *ok, size_t n, const char *s)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (ok[i] && regexec(&re[i], s, 0, NULL, 0) == 0)
			return 1;
	return 0;
}

/* Language tags that are not a syntax's name or file extension. */
static const struct { const char *tag, *name; } hl_alias[] = {
	{ "py", "python" }, { "py3", "python" }, { "python3", "python" }, { "bash", "sh" },
	{ "shell", "sh" }, { "zsh", "sh" }, { "ksh", "sh" }, { "console", "sh" },
	{ "shellsession", "sh" }, { "js", "javascript" }, { "jsx", "javascript" },
	{ "mjs", "javascript" }, { "node", "javascript" }, { "ts", "typescript" },
	{ "tsx", "typescript" }, { "c++", "c" }, { "cpp", "c" }, { "cxx", "c" }, { "h", "c" },
	{ "hpp", "c" }, { "cuda", "c" }, { "objc", "m" }, { "objective-c", "m" },
	{ "rs", "rust" }, { "rb", "ruby" }, { "yml", "yaml" }, { "md", "markdown" },
	{ "diff", "patch" }, { "udiff", "patch" }, { "make", "makefile" }, { "mk", "makefile" },
	{ "golang", "go" }, { "htm", "html" }, { "xhtml", "html" }, { "svg", "xml" },
	{ "docker", "dockerfile" }, { "containerfile", "dockerfile" }, { "hs", "haskell" },
	{ "ml", "ocaml" }, { "pl", "perl" }, { "el", "elisp" }, { "emacs-lisp", "elisp" },
	{ "latex", "tex" }, { "jsonc", "json" }, { "json5", "json" }, { "postgresql", "sql" },
	{ "psql", "sql" }, { "mysql", "sql" }, { "sqlite", "sql" }, { "scss", "css" },
	{ "less", "css" }, { "scheme", "guile" }, { "gawk", "awk" }, { "nasm", "asm" },
	{ "roff", "groff" }, { "f90", "fortran" }, { "ini", "toml" },
};

/* Tags that say "no language". */
static const char *const hl_plain_tags[] = {
	"text", "txt", "plain", "plaintext", "output", "none", "log", "nohighlight",
};

/* Find the syntax of a language tag, else by header; loads its rules. */
const struct hl_syntax *
highlight_find(const char *lang, const char *first, size_t nfirst)
{
	char tag[64], probe[80];
	const char *name;
	struct hl_syntax *found = NULL;
	locale_t old;
	size_t i, k;

	if (lang == NULL)
		lang = "";
	if (strncasecmp(lang, "language-", 9) == 0)
		lang += 9;
	while (*lang == '.')
		lang++;
	for (k = 0; lang[k] != '\0' && k + 1 < sizeof tag; k++)
		tag[k] = (char)tolower((unsigned char)lang[k]);
	tag[k] = '\0';
	for (i = 0; i < sizeof hl_plain_tags / sizeof hl_plain_tags[0]; i++)
		if (strcmp(tag, hl_plain_tags[i]) == 0)
			return NULL;
	if (!hl_reg.scanned)
		hl_scan();
	old = hl_enter();
	if (tag[0] != '\0') {
		name = tag;
		for (i = 0; i < sizeof hl_alias / sizeof hl_alias[0]; i++)
			if (strcmp(tag, hl_alias[i].tag) == 0)
				name = hl_alias[i].name;
		for (i = 0; i < hl_reg.set.n && found == NULL; i++)
			if (strcasecmp(hl_reg.set.v[i]->name, name) == 0)
				found = hl_reg.set.v[i];
		for (k = 0; k < 3 && found == NULL; k++) {
			/* As a file name: x.TAG, then TAG itself (Makefile, Dockerfile). */
			if (k == 0)
				snprintf(probe, sizeof probe, "/x.%s", tag);
			else
				snprintf(probe, sizeof probe, "/%s", k == 2 ? lang : tag);
			for (i = 0; i < hl_reg.set.n && found == NULL; i++) {
				struct hl_syntax *s = hl_reg.set.v[i];

				hl_compile_list(s->exts, s->nexts, &s->ext_re, &s->ext_ok);
				if (s->nexts > 0 && hl_any(s->ext_re, s->ext_ok, s->nexts, probe))
					found = s;
			}
		}
	} else if (first != NULL && nfirst > 0) {
		char *line = xstrndup(first, nfirst);

		for (i = 0; i < hl_reg.set.n && found == NULL; i++) {
			struct hl_syntax *s = hl_reg.set.v[i];

			hl_compile_list(s->headers, s->nheaders, &s->head_re, &s->head_ok);
			if (s->nheaders > 0 && hl_any(s->head_re, s->head_ok, s->nheaders, line))
				found = s;
		}
		free(line);
	}
	if (found != NULL)
		hl_load(found);
	hl_leave(old);
	return found;
}

/* Forget the loaded syntaxes (the directories stay). */
static void
hl_forget(void)
{
	size_t i;

	for (i = 0; i < hl_reg.set.n; i++)
		hl_syntax_free(hl_reg.set.v[i]);
	free(hl_reg.set.v);
	hl_reg.set.v = NULL;
	hl_reg.set.n = 0;
	hl_reg.scanned = 0;
}

/* Set the directories searched. */
void
highlight_set_dirs(const char *const *dirs, size_t n)
{
	size_t i;

	hl_forget();
	for (i = 0; i < hl_reg.ndirs; i++)
		free(hl_reg.dirs[i]);
	free(hl_reg.dirs);
	hl_reg.dirs = NULL;
	hl_reg.ndirs = 0;
	hl_reg.custom = n > 0;
	for (i = 0; i < n; i++) {
		const char *home = getenv("HOME");

		if (strncmp(dirs[i], "~/", 2) == 0 && home != NULL && *home)
			hl_push(&hl_reg.dirs, &hl_reg.ndirs, xasprintf("%s/%s", home, dirs[i] + 2));
		else
			hl_push(&hl_reg.dirs, &hl_reg.ndirs, xstrdup(dirs[i]));
	}
}

/* Free everything. */
void
highlight_free_all(void)
{
	highlight_set_dirs(NULL, 0);
	if (hl_c != (locale_t)0) {
		freelocale(hl_c);
		hl_c = (locale_t)0;
	}
}
