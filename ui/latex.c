/*
 * LaTeX math to Unicode. A small recursive-descent reader over the math text: a command
 * (\alpha, \frac, \,), a group in braces, ^ or _ with the atom after it, or a character.
 * Each command either maps to a character (tables below), takes arguments (\frac{a}{b},
 * \sqrt[n]{x}, \text{...}, \mathbb{R}, accents), or is dropped (\left, \big, \displaystyle).
 * A script converts character by character to the superscript or subscript forms Unicode
 * has; when one character has none, the script is written ^x or ^(xy) instead, so nothing
 * is lost. Nesting deeper than LX_DEPTH is copied as it stands, so hostile input costs
 * linear time and bounded stack.
 */
#include <string.h>

#include "latex.h"

#define LX_DEPTH 32
#define LX_GREEK 41 /* the first entries of lx_syms are the Greek letters */

struct lx {
	const char *s;
	size_t n, pos;
};

struct lx_sym {
	const char *name, *text;
};

/* Commands that are one character (or a word). */
static const struct lx_sym lx_syms[] = {
	{ "alpha", "α" }, { "beta", "β" }, { "gamma", "γ" }, { "delta", "δ" },
	{ "epsilon", "ϵ" }, { "varepsilon", "ε" }, { "zeta", "ζ" }, { "eta", "η" },
	{ "theta", "θ" }, { "vartheta", "ϑ" }, { "iota", "ι" }, { "kappa", "κ" },
	{ "lambda", "λ" }, { "mu", "μ" }, { "nu", "ν" }, { "xi", "ξ" }, { "omicron", "ο" },
	{ "pi", "π" }, { "varpi", "ϖ" }, { "rho", "ρ" }, { "varrho", "ϱ" }, { "sigma", "σ" },
	{ "varsigma", "ς" }, { "tau", "τ" }, { "upsilon", "υ" }, { "phi", "ϕ" },
	{ "varphi", "φ" }, { "chi", "χ" }, { "psi", "ψ" }, { "omega", "ω" },
	{ "Gamma", "Γ" }, { "Delta", "Δ" }, { "Theta", "Θ" }, { "Lambda", "Λ" }, { "Xi", "Ξ" },
	{ "Pi", "Π" }, { "Sigma", "Σ" }, { "Upsilon", "Υ" }, { "Phi", "Φ" }, { "Psi", "Ψ" },
	{ "Omega", "Ω" },
	{ "sum", "∑" }, { "prod", "∏" }, { "coprod", "∐" }, { "int", "∫" }, { "iint", "∬" },
	{ "iiint", "∭" }, { "oint", "∮" }, { "infty", "∞" }, { "leq", "≤" }, { "le", "≤" },
	{ "geq", "≥" }, { "ge", "≥" }, { "neq", "≠" }, { "ne", "≠" }, { "approx", "≈" },
	{ "equiv", "≡" }, { "cong", "≅" }, { "sim", "∼" }, { "simeq", "≃" }, { "propto", "∝" },
	{ "times", "×" }, { "cdot", "⋅" }, { "div", "÷" }, { "pm", "±" }, { "mp", "∓" },
	{ "to", "→" }, { "rightarrow", "→" }, { "leftarrow", "←" }, { "gets", "←" },
	{ "Rightarrow", "⇒" }, { "Leftarrow", "⇐" }, { "leftrightarrow", "↔" },
	{ "Leftrightarrow", "⇔" }, { "iff", "⟺" }, { "implies", "⟹" }, { "mapsto", "↦" },
	{ "uparrow", "↑" }, { "downarrow", "↓" }, { "longrightarrow", "⟶" },
	{ "longleftarrow", "⟵" }, { "partial", "∂" }, { "nabla", "∇" }, { "forall", "∀" },
	{ "exists", "∃" }, { "nexists", "∄" }, { "in", "∈" }, { "notin", "∉" }, { "ni", "∋" },
	{ "subset", "⊂" }, { "subseteq", "⊆" }, { "supset", "⊃" }, { "supseteq", "⊇" },
	{ "cup", "∪" }, { "cap", "∩" }, { "setminus", "∖" }, { "emptyset", "∅" },
	{ "varnothing", "∅" }, { "land", "∧" }, { "wedge", "∧" }, { "lor", "∨" }, { "vee", "∨" },
	{ "neg", "¬" }, { "lnot", "¬" }, { "cdots", "⋯" }, { "ldots", "…" }, { "dots", "…" },
	{ "vdots", "⋮" }, { "ddots", "⋱" }, { "circ", "∘" }, { "bullet", "•" }, { "ast", "∗" },
	{ "star", "⋆" }, { "oplus", "⊕" }, { "otimes", "⊗" }, { "langle", "⟨" },
	{ "rangle", "⟩" }, { "lfloor", "⌊" }, { "rfloor", "⌋" }, { "lceil", "⌈" },
	{ "rceil", "⌉" }, { "ll", "≪" }, { "gg", "≫" }, { "perp", "⊥" }, { "parallel", "∥" },
	{ "mid", "∣" }, { "angle", "∠" }, { "degree", "°" }, { "prime", "′" }, { "hbar", "ℏ" },
	{ "ell", "ℓ" }, { "Re", "ℜ" }, { "Im", "ℑ" }, { "aleph", "ℵ" }, { "top", "⊤" },
	{ "bot", "⊥" }, { "models", "⊨" }, { "vdash", "⊢" }, { "therefore", "∴" },
	{ "because", "∵" }, { "triangle", "△" }, { "square", "□" }, { "checkmark", "✓" },
	{ "dagger", "†" }, { "prec", "≺" }, { "succ", "≻" }, { "lvert", "|" }, { "rvert", "|" },
	{ "vert", "|" }, { "Vert", "‖" }, { "|", "‖" }, { "colon", ":" }, { "lbrace", "{" },
	{ "rbrace", "}" }, { "backslash", "\\" }, { "{", "{" }, { "}", "}" }, { "%", "%" },
	{ "$", "$" }, { "&", "&" }, { "#", "#" }, { "_", "_" }, { ",", " " }, { ";", " " },
	{ ":", " " }, { ">", " " }, { " ", " " }, { "!", "" }, { "quad", "  " },
	{ "qquad", "    " }, { "\\", " " }, { "sin", "sin" }, { "cos", "cos" },
	{ "tan", "tan" }, { "cot", "cot" }, { "sec", "sec" }, { "csc", "csc" },
	{ "arcsin", "arcsin" }, { "arccos", "arccos" }, { "arctan", "arctan" },
	{ "sinh", "sinh" }, { "cosh", "cosh" }, { "tanh", "tanh" }, { "log", "log" },
	{ "ln", "ln" }, { "lg", "lg" }, { "exp", "exp" }, { "lim", "lim" }, { "max", "max" },
	{ "min", "min" }, { "sup", "sup" }, { "inf", "inf" }, { "det", "det" }, { "gcd", "gcd" },
	{ "deg", "deg" }, { "arg", "arg" }, { "dim", "dim" }, { "ker", "ker" }, { "Pr", "Pr" },
	{ "mod", "mod" }, { "bmod", "mod" },
};

/* Commands that only size or style what follows: dropped. */
static const char *const lx_drop[] = {
	"left", "right", "big", "Big", "bigg", "Bigg", "bigl", "bigr", "Bigl", "Bigr", "biggl",
	"biggr", "displaystyle", "textstyle", "scriptstyle", "limits", "nolimits", "middle",
};

/* Commands whose argument is shown as it is. */
static const char *const lx_plain[] = {
	"text", "textrm", "textbf", "textit", "texttt", "mathrm", "mathit", "mathbf",
	"mathsf", "mathtt", "mathcal", "mathscr", "mathfrak", "boldsymbol", "operatorname",
	"mbox", "emph",
};

/* Accents: the combining character put after a one-character argument. */
static const struct lx_sym lx_accents[] = {
	{ "hat", "\xcc\x82" }, { "widehat", "\xcc\x82" }, { "bar", "\xcc\x84" },
	{ "overline", "\xcc\x85" }, { "vec", "\xe2\x83\x97" }, { "dot", "\xcc\x87" },
	{ "ddot", "\xcc\x88" }, { "tilde", "\xcc\x83" }, { "widetilde", "\xcc\x83" },
	{ "acute", "\xcc\x81" }, { "grave", "\xcc\x80" }, { "breve", "\xcc\x86" },
	{ "check", "\xcc\x8c" }, { "underline", "\xcc\xb2" },
};

/* Superscript and subscript forms: each ASCII or Greek character and its script form. */
static const struct lx_sym lx_sup[] = {
	{ "0", "⁰" }, { "1", "¹" }, { "2", "²" }, { "3", "³" }, { "4", "⁴" }, { "5", "⁵" },
	{ "6", "⁶" }, { "7", "⁷" }, { "8", "⁸" }, { "9", "⁹" }, { "+", "⁺" }, { "-", "⁻" },
	{ "=", "⁼" }, { "(", "⁽" }, { ")", "⁾" }, { "a", "ᵃ" }, { "b", "ᵇ" }, { "c", "ᶜ" },
	{ "d", "ᵈ" }, { "e", "ᵉ" }, { "f", "ᶠ" }, { "g", "ᵍ" }, { "h", "ʰ" }, { "i", "ⁱ" },
	{ "j", "ʲ" }, { "k", "ᵏ" }, { "l", "ˡ" }, { "m", "ᵐ" }, { "n", "ⁿ" }, { "o", "ᵒ" },
	{ "p", "ᵖ" }, { "r", "ʳ" }, { "s", "ˢ" }, { "t", "ᵗ" }, { "u", "ᵘ" }, { "v", "ᵛ" },
	{ "w", "ʷ" }, { "x", "ˣ" }, { "y", "ʸ" }, { "z", "ᶻ" }, { "A", "ᴬ" }, { "B", "ᴮ" },
	{ "D", "ᴰ" }, { "E", "ᴱ" }, { "G", "ᴳ" }, { "H", "ᴴ" }, { "I", "ᴵ" }, { "J", "ᴶ" },
	{ "K", "ᴷ" }, { "L", "ᴸ" }, { "M", "ᴹ" }, { "N", "ᴺ" }, { "O", "ᴼ" }, { "P", "ᴾ" },
	{ "R", "ᴿ" }, { "T", "ᵀ" }, { "U", "ᵁ" }, { "V", "ⱽ" }, { "W", "ᵂ" }, { "α", "ᵅ" },
	{ "β", "ᵝ" }, { "γ", "ᵞ" }, { "δ", "ᵟ" }, { "θ", "ᶿ" }, { "φ", "ᵠ" }, { "ϕ", "ᵠ" },
	{ "χ", "ᵡ" }, { "′", "′" }, { "∗", "*" }, { "*", "*" },
};
static const struct lx_sym lx_sub[] = {
	{ "0", "₀" }, { "1", "₁" }, { "2", "₂" }, { "3", "₃" }, { "4", "₄" }, { "5", "₅" },
	{ "6", "₆" }, { "7", "₇" }, { "8", "₈" }, { "9", "₉" }, { "+", "₊" }, { "-", "₋" },
	{ "=", "₌" }, { "(", "₍" }, { ")", "₎" }, { "a", "ₐ" }, { "e", "ₑ" }, { "h", "ₕ" },
	{ "i", "ᵢ" }, { "j", "ⱼ" }, { "k", "ₖ" }, { "l", "ₗ" }, { "m", "ₘ" }, { "n", "ₙ" },
	{ "o", "ₒ" }, { "p", "ₚ" }, { "r", "ᵣ" }, { "s", "ₛ" }, { "t", "ₜ" }, { "u", "ᵤ" },
	{ "v", "ᵥ" }, { "x", "ₓ" }, { "β", "ᵦ" }, { "γ", "ᵧ" }, { "ρ", "ᵨ" }, { "φ", "ᵩ" },
	{ "ϕ", "ᵩ" }, { "χ", "ᵪ" },
};

/* Blackboard bold capitals for \mathbb. */
static const struct lx_sym lx_bb[] = {
	{ "N", "ℕ" }, { "Z", "ℤ" }, { "Q", "ℚ" }, { "R", "ℝ" }, { "C", "ℂ" }, { "P", "ℙ" },
	{ "H", "ℍ" }, { "E", "𝔼" }, { "1", "𝟙" },
};

static void lx_expr(struct lx *x, struct buf *out, int depth, int group);
static void lx_command(struct lx *x, struct buf *out, int depth);

/* Find name (n bytes) in a table of count entries; NULL when absent. */
static const char *
lx_find(const struct lx_sym *t, size_t count, const char *name, size_t n)
{
	size_t i;

	for (i = 0; i < count; i++)
		if (strlen(t[i].name) == n && memcmp(t[i].name, name, n) == 0)
			return t[i].text;
	return NULL;
}

/* Is name (n bytes) in a list of words? */
static int
lx_in(const char *const *list, size_t count, const char *name, size_t n)
{
	size_t i;

	for (i = 0; i < count; i++)
		if (strlen(list[i]) == n && memcmp(list[i], name, n) == 0)
			return 1;
	return 0;
}

/* Is the command a letter (Greek, or one of the letter-like symbols)? */
static int
lx_letter(const char *name, size_t n)
{
	static const char *const other[] = { "partial", "nabla", "hbar", "ell" };
	size_t i;

	for (i = 0; i < LX_GREEK; i++)
		if (strlen(lx_syms[i].name) == n && memcmp(lx_syms[i].name, name, n) == 0)
			return 1;
	return lx_in(other, sizeof other / sizeof other[0], name, n);
}

/* Length of the UTF-8 character at s (1 for a stray byte). */
static size_t
lx_charlen(const char *s, size_t n)
{
	unsigned char c = (unsigned char)s[0];
	size_t k = c < 0x80 ? 1 : c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc0 ? 2 : 1;
	size_t i;

	if (k > n)
		return 1;
	for (i = 1; i < k; i++)
		if (((unsigned char)s[i] & 0xc0) != 0x80)
			return 1;
	return k;
}

/* Skip spaces. */
static void
lx_space(struct lx *x)
{
	while (x->pos < x->n && (x->s[x->pos] == ' ' || x->s[x->pos] == '\t' ||
	    x->s[x->pos] == '\n' || x->s[x->pos] == '\r'))
		x->pos++;
}

/* Read one atom (a group's content, a command with its arguments, a character) into out. */
static void
lx_atom(struct lx *x, struct buf *out, int depth)
{
	lx_space(x);
	if (x->pos >= x->n)
		return;
	if (depth > LX_DEPTH) {
		buf_append(out, x->s + x->pos, x->n - x->pos);
		x->pos = x->n;
	} else if (x->s[x->pos] == '{') {
		x->pos++;
		lx_expr(x, out, depth + 1, 1);
	} else if (x->s[x->pos] == '\\') {
		lx_command(x, out, depth + 1);
	} else {
		size_t k = lx_charlen(x->s + x->pos, x->n - x->pos);

		buf_append(out, x->s + x->pos, k);
		x->pos += k;
	}
}

/* Write text as a script (table t) when every character has a form, else ^ or _ and the
 * text (in parentheses when it is longer than one character). */
static void
lx_script(struct buf *out, const char *text, size_t n, const struct lx_sym *t, size_t count,
    char mark)
{
	struct buf conv = BUF_INIT;
	size_t i = 0, chars = 0;
	int ok = n > 0;

	while (i < n) {
		size_t k = lx_charlen(text + i, n - i);
		const char *f = text[i] == ' ' ? "" : lx_find(t, count, text + i, k);

		if (f == NULL)
			ok = 0;
		else if (ok)
			buf_puts(&conv, f);
		i += k;
		chars++;
	}
	if (ok) {
		buf_append(out, conv.data, conv.len);
	} else {
		buf_putc(out, mark);
		if (chars > 1)
			buf_putc(out, '(');
		buf_append(out, text, n);
		if (chars > 1)
			buf_putc(out, ')');
	}
	buf_free(&conv);
}

/* Is text one "simple" term: letters, digits, dots and Greek, no operator or space? */
static int
lx_simple(const char *s, size_t n)
{
	size_t i;

	if (n == 0 || memmem(s, n, "⁄", strlen("⁄")) != NULL)
		return 0;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (!(c >= 0x80 || (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
		    (c >= 'A' && c <= 'Z') || c == '.'))
			return 0;
	}
	return 1;
}

/* Append a term, in parentheses unless it is simple. */
static void
lx_term(struct buf *out, const struct buf *t)
{
	int simple = lx_simple(t->data ? t->data : "", t->len);

	if (!simple)
		buf_putc(out, '(');
	buf_append(out, t->data ? t->data : "", t->len);
	if (!simple)
		buf_putc(out, ')');
}

/* A command with arguments; returns 0 when name is one. */
static int
lx_command_args(struct lx *x, struct buf *out, const char *name, size_t n, int depth)
{
	struct buf a = BUF_INIT, b = BUF_INIT;
	const char *acc;

#define LX_IS(w) (n == sizeof(w) - 1 && memcmp(name, w, n) == 0)
	if (LX_IS("frac") || LX_IS("dfrac") || LX_IS("tfrac") || LX_IS("binom")) {
		lx_atom(x, &a, depth);
		lx_atom(x, &b, depth);
		if (LX_IS("binom")) {
			buf_puts(out, "C(");
			buf_append(out, a.data ? a.data : "", a.len);
			buf_puts(out, ", ");
			buf_append(out, b.data ? b.data : "", b.len);
			buf_putc(out, ')');
		} else if (lx_simple(a.data ? a.data : "", a.len) &&
		    lx_simple(b.data ? b.data : "", b.len)) {
			buf_append(out, a.data, a.len);
			buf_puts(out, "⁄");
			buf_append(out, b.data, b.len);
		} else {
			lx_term(out, &a);
			buf_putc(out, '/');
			lx_term(out, &b);
		}
	} else if (LX_IS("sqrt")) {
		lx_space(x);
		if (x->pos < x->n && x->s[x->pos] == '[') {
			x->pos++;
			while (x->pos < x->n && x->s[x->pos] != ']') {
				buf_putc(&b, x->s[x->pos]);
				x->pos++;
			}
			if (x->pos < x->n)
				x->pos++;
		}
		lx_atom(x, &a, depth);
		if (b.len == 1 && b.data[0] == '3')
			buf_puts(out, "∛");
		else if (b.len == 1 && b.data[0] == '4')
			buf_puts(out, "∜");
		else {
			if (b.len > 0)
				lx_script(out, b.data, b.len, lx_sup, sizeof lx_sup / sizeof lx_sup[0], '^');
			buf_puts(out, "√");
		}
		lx_term(out, &a);
	} else if (LX_IS("mathbb")) {
		size_t i = 0;

		lx_atom(x, &a, depth);
		while (i < a.len) {
			size_t k = lx_charlen(a.data + i, a.len - i);
			const char *f = lx_find(lx_bb, sizeof lx_bb / sizeof lx_bb[0], a.data + i, k);

			if (f != NULL)
				buf_puts(out, f);
			else
				buf_append(out, a.data + i, k);
			i += k;
		}
	} else if (lx_in(lx_plain, sizeof lx_plain / sizeof lx_plain[0], name, n)) {
		lx_space(x);
		if (x->pos < x->n && x->s[x->pos] == '{') {
			/* Text keeps its spaces: copy the group's raw content, braces balanced. */
			int level = 1;

			x->pos++;
			while (x->pos < x->n) {
				char c = x->s[x->pos++];

				if (c == '{')
					level++;
				else if (c == '}' && --level == 0)
					break;
				if (c != '{' && c != '}')
					buf_putc(out, c);
			}
		} else {
			lx_atom(x, out, depth);
		}
	} else if ((acc = lx_find(lx_accents, sizeof lx_accents / sizeof lx_accents[0], name,
	    n)) != NULL) {
		lx_atom(x, &a, depth);
		buf_append(out, a.data ? a.data : "", a.len);
		if (a.len > 0 && lx_charlen(a.data, a.len) == a.len)
			buf_puts(out, acc);
	} else if (LX_IS("begin") || LX_IS("end")) {
		/* An environment's name goes; its rows and columns become spaces. */
		lx_atom(x, &a, depth);
	} else {
		buf_free(&a);
		buf_free(&b);
		return -1;
	}
#undef LX_IS
	buf_free(&a);
	buf_free(&b);
	return 0;
}

/* A command at x->pos (on its backslash). */
static void
lx_command(struct lx *x, struct buf *out, int depth)
{
	size_t start = ++x->pos, n;
	const char *name = x->s + start, *sym;

	while (x->pos < x->n && ((x->s[x->pos] >= 'a' && x->s[x->pos] <= 'z') ||
	    (x->s[x->pos] >= 'A' && x->s[x->pos] <= 'Z')))
		x->pos++;
	if (x->pos == start && x->pos < x->n)
		x->pos += lx_charlen(x->s + x->pos, x->n - x->pos);
	n = x->pos - start;
	if (n == 0) {
		buf_putc(out, '\\');
		return;
	}
	if ((sym = lx_find(lx_syms, sizeof lx_syms / sizeof lx_syms[0], name, n)) != NULL) {
		buf_puts(out, sym);
		/* A letter's command ends at the space after it: \pi r is πr, as LaTeX sets it. */
		if (lx_letter(name, n)) {
			size_t k = x->pos;

			while (k < x->n && x->s[k] == ' ')
				k++;
			if (k < x->n && ((x->s[k] >= 'a' && x->s[k] <= 'z') ||
			    (x->s[k] >= 'A' && x->s[k] <= 'Z') || (x->s[k] >= '0' && x->s[k] <= '9')))
				x->pos = k;
		}
		return;
	}
	if (lx_in(lx_drop, sizeof lx_drop / sizeof lx_drop[0], name, n)) {
		/* \left. and \right. stand for no delimiter at all. */
		if (x->pos < x->n && x->s[x->pos] == '.')
			x->pos++;
		return;
	}
	if (lx_command_args(x, out, name, n, depth) == 0)
		return;
	buf_putc(out, '\\');
	buf_append(out, name, n);
}

/* Read until the end (group 0) or the closing brace (group 1). */
static void
lx_expr(struct lx *x, struct buf *out, int depth, int group)
{
	if (depth > LX_DEPTH) {
		/* Too deep: the rest as it stands. */
		buf_append(out, x->s + x->pos, x->n - x->pos);
		x->pos = x->n;
		return;
	}
	while (x->pos < x->n) {
		char c = x->s[x->pos];

		if (c == '}' && group == 1) {
			x->pos++;
			return;
		}
		if (c == '\\') {
			lx_command(x, out, depth);
		} else if (c == '{') {
			x->pos++;
			lx_expr(x, out, depth + 1, 1);
		} else if (c == '}') {
			x->pos++;
		} else if (c == '^' || c == '_') {
			struct buf t = BUF_INIT;

			x->pos++;
			lx_atom(x, &t, depth);
			if (c == '^')
				lx_script(out, t.data ? t.data : "", t.len, lx_sup,
				    sizeof lx_sup / sizeof lx_sup[0], '^');
			else
				lx_script(out, t.data ? t.data : "", t.len, lx_sub,
				    sizeof lx_sub / sizeof lx_sub[0], '_');
			buf_free(&t);
		} else if (c == '\'') {
			buf_puts(out, "′");
			x->pos++;
		} else if (c == '&' || c == '~') {
			buf_putc(out, ' ');
			x->pos++;
		} else if (c == '\n' || c == '\r' || c == '\t') {
			buf_putc(out, ' ');
			x->pos++;
		} else {
			size_t k = lx_charlen(x->s + x->pos, x->n - x->pos);

			buf_append(out, x->s + x->pos, k);
			x->pos += k;
		}
	}
}

/* Convert math to Unicode. */
void
latex_to_unicode(const char *s, size_t n, struct buf *out)
{
	struct lx x = { s, n, 0 };

	while (x.pos < x.n)
		lx_expr(&x, out, 0, 0);
}
