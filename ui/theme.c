/*
 * Themes: files that map the semantic roles of theme.h to colours and attributes. The format
 * is one role per line, "role  foreground  background  attributes...", with # comments;
 * colours are default, black, red, green, yellow, blue, magenta, cyan, white, their bright
 * variants (brightred), or a palette index (color42 or 42). A role left out keeps its
 * default, so themes stay short and new roles never break old themes.
 */
#include <curses.h>
#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "theme.h"
#include "xmalloc.h"

static const char *const theme_names[] = {
#define X(id, name, fg, bg, attr, help) name,
	THEME_ROLES(X)
#undef X
};

static const char *const theme_helps[] = {
#define X(id, name, fg, bg, attr, help) help,
	THEME_ROLES(X)
#undef X
};

struct theme_def {
	const char *fg, *bg, *attrs;
};

static const struct theme_def theme_builtin[] = {
#define X(id, name, fg, bg, attr, help) { fg, bg, attr },
	THEME_ROLES(X)
#undef X
};

static const char *const theme_colors[] = {
	"black", "red", "green", "yellow", "blue", "magenta", "cyan", "white",
};

/* The theme in use, and whether colour pairs were set up. */
static struct theme theme_cur;
static int theme_colored;

/* Translate a colour name into -1 (default), 0..255, or -2 when unknown. */
int
theme_color(const char *name)
{
	size_t i;
	char *end;
	long v;

	if (strcasecmp(name, "default") == 0 || strcmp(name, "-") == 0)
		return -1;
	for (i = 0; i < 8; i++) {
		if (strcasecmp(name, theme_colors[i]) == 0)
			return (int)i;
		if (strncasecmp(name, "bright", 6) == 0 && strcasecmp(name + 6, theme_colors[i]) == 0)
			return (int)i + 8;
	}
	if (strncasecmp(name, "color", 5) == 0)
		name += 5;
	v = strtol(name, &end, 10);
	if (end == name || *end != '\0' || v < 0 || v > 255)
		return -2;
	return (int)v;
}

/* Parse a space-separated attribute list into THEME_ bits; -1 when a word is unknown. */
static int
theme_attrs(const char *words, unsigned *out, char **bad)
{
	char *copy = xstrdup(words), *save = NULL, *w;
	unsigned a = 0;

	for (w = strtok_r(copy, " \t,", &save); w != NULL; w = strtok_r(NULL, " \t,", &save)) {
		if (strcasecmp(w, "bold") == 0)
			a |= THEME_BOLD;
		else if (strcasecmp(w, "dim") == 0)
			a |= THEME_DIM;
		else if (strcasecmp(w, "italic") == 0)
			a |= THEME_ITALIC;
		else if (strcasecmp(w, "underline") == 0)
			a |= THEME_UNDERLINE;
		else if (strcasecmp(w, "reverse") == 0)
			a |= THEME_REVERSE;
		else if (strcasecmp(w, "strike") == 0)
			a |= THEME_STRIKE;
		else if (strcasecmp(w, "none") == 0 || strcasecmp(w, "normal") == 0)
			a = 0;
		else {
			*bad = xstrdup(w);
			free(copy);
			return -1;
		}
	}
	free(copy);
	*out = a;
	return 0;
}

/* Fill t from the built-in table. */
void
theme_defaults(struct theme *t)
{
	size_t i;
	char *bad = NULL;

	for (i = 0; i < THEME_COUNT; i++) {
		t->style[i].fg = (short)theme_color(theme_builtin[i].fg);
		t->style[i].bg = (short)theme_color(theme_builtin[i].bg);
		if (theme_attrs(theme_builtin[i].attrs, &t->style[i].attrs, &bad) != 0)
			abort();
	}
}

/* Find a role by name. */
int
theme_role_find(const char *name)
{
	int i;

	for (i = 0; i < THEME_COUNT; i++)
		if (strcmp(name, theme_names[i]) == 0)
			return i;
	return -1;
}

/* The name of a role. */
const char *
theme_role_name(enum theme_role r)
{
	return theme_names[r];
}

/* Parse theme text line by line. */
int
theme_parse(struct theme *t, const char *text, const char *file, char **err)
{
	const char *p = text;
	int lineno = 0;

	while (*p) {
		const char *eol = strchr(p, '\n');
		size_t len = eol ? (size_t)(eol - p) : strlen(p);
		char *line = xstrndup(p, len), *save = NULL, *role, *fg, *bg, *rest, *hash, *bad = NULL;
		int r, cf, cb;
		unsigned attrs = 0;

		lineno++;
		p += len + (eol ? 1 : 0);
		if ((hash = strchr(line, '#')) != NULL)
			*hash = '\0';
		role = strtok_r(line, " \t\r", &save);
		if (role == NULL) {
			free(line);
			continue;
		}
		fg = strtok_r(NULL, " \t\r", &save);
		bg = strtok_r(NULL, " \t\r", &save);
		rest = strtok_r(NULL, "\r", &save);
		if ((r = theme_role_find(role)) < 0) {
			*err = xasprintf("%s:%d:1: unknown role '%s' (see natter(1), THEMES)", file,
			    lineno, role);
			free(line);
			return -1;
		}
		cf = fg ? theme_color(fg) : -1;
		cb = bg ? theme_color(bg) : -1;
		if (cf == -2 || cb == -2) {
			*err = xasprintf("%s:%d: unknown colour '%s'", file, lineno,
			    cf == -2 ? fg : bg);
			free(line);
			return -1;
		}
		if (rest != NULL && theme_attrs(rest, &attrs, &bad) != 0) {
			*err = xasprintf("%s:%d: unknown attribute '%s'", file, lineno, bad);
			free(bad);
			free(line);
			return -1;
		}
		t->style[r].fg = (short)cf;
		t->style[r].bg = (short)cb;
		t->style[r].attrs = attrs;
		free(line);
	}
	return 0;
}

/* Drop every colour, keeping attributes. */
void
theme_mono(struct theme *t)
{
	size_t i;

	for (i = 0; i < THEME_COUNT; i++)
		t->style[i].fg = t->style[i].bg = -1;
}

/* Read a whole file into a new string, or NULL. */
static char *
theme_slurp(const char *path)
{
	FILE *f = fopen(path, "rb");
	struct buf b = BUF_INIT;
	char chunk[4096];
	size_t n;

	if (f == NULL)
		return NULL;
	while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
		buf_append(&b, chunk, n);
	fclose(f);
	return buf_detach(&b);
}

/* The themes directories, searched in order: the user's, the installed, the source's.
 * Fills dirs (the caller frees each) and returns how many. */
static size_t
theme_dirs(char *dirs[3])
{
	const char *xdg = getenv("XDG_CONFIG_HOME"), *home = getenv("HOME");
	size_t n = 0;

	if (xdg != NULL && *xdg)
		dirs[n++] = xasprintf("%s/natter/themes", xdg);
	else if (home != NULL)
		dirs[n++] = xasprintf("%s/.config/natter/themes", home);
	dirs[n++] = xasprintf("%s/themes", NATTER_DATADIR);
	dirs[n++] = xasprintf("%s/themes", NATTER_SRCDIR);
	return n;
}

/* Compare two names for qsort. */
static int
theme_name_cmp(const void *x, const void *y)
{
	return strcmp(*(char *const *)x, *(char *const *)y);
}

/* Append the names of every theme that can be loaded, sorted and comma-separated: the
 * built-in "terminal" and each NAME.theme in the themes directories. */
void
theme_list(struct buf *out)
{
	char *dirs[3], **names = NULL;
	size_t nd = theme_dirs(dirs), n = 0, i, j;
	struct dirent *e;
	DIR *d;

	names = xrealloc(names, sizeof *names);
	names[n++] = xstrdup("terminal");
	for (i = 0; i < nd; i++) {
		if ((d = opendir(dirs[i])) == NULL)
			continue;
		while ((e = readdir(d)) != NULL) {
			size_t len = strlen(e->d_name);

			if (len <= 6 || e->d_name[0] == '.' || strcmp(e->d_name + len - 6, ".theme") != 0)
				continue;
			names = xrealloc(names, (n + 1) * sizeof *names);
			names[n++] = xstrndup(e->d_name, len - 6);
		}
		closedir(d);
	}
	qsort(names, n, sizeof *names, theme_name_cmp);
	for (i = 0, j = 0; i < n; i++) {
		if (i > 0 && strcmp(names[i], names[i - 1]) == 0)
			continue;
		buf_printf(out, "%s%s", j++ > 0 ? ", " : "", names[i]);
	}
	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
	for (i = 0; i < nd; i++)
		free(dirs[i]);
}

/* Load a theme by name from the user's, the installed, then the source themes directory. */
int
theme_load(struct theme *t, const char *name, char **err)
{
	char *paths[4] = { NULL }, *dirs[3];
	char *text = NULL, *used = NULL;
	size_t i, nd;
	int rc;

	theme_defaults(t);
	*err = NULL;
	if (name == NULL || *name == '\0' || strcmp(name, "terminal") == 0)
		return 0;
	if (strchr(name, '/') != NULL) {
		paths[0] = xstrdup(name);
	} else {
		nd = theme_dirs(dirs);
		for (i = 0; i < nd; i++) {
			paths[i] = xasprintf("%s/%s.theme", dirs[i], name);
			free(dirs[i]);
		}
	}
	for (i = 0; i < 4 && text == NULL; i++)
		if (paths[i] != NULL && (text = theme_slurp(paths[i])) != NULL)
			used = paths[i];
	if (text == NULL && strchr(name, '/') != NULL) {
		*err = xasprintf("theme file %s cannot be read", name);
		rc = -1;
	} else if (text == NULL) {
		struct buf known = BUF_INIT;

		theme_list(&known);
		*err = xasprintf("no theme '%s'; the themes are %s (or give a theme file's path)",
		    name, buf_str(&known));
		buf_free(&known);
		rc = -1;
	} else {
		rc = theme_parse(t, text, used, err);
		if (rc != 0)
			theme_defaults(t);
	}
	free(text);
	for (i = 0; i < 4; i++)
		free(paths[i]);
	return rc;
}

/* List the roles and what they colour. */
void
theme_print_roles(FILE *f)
{
	size_t i;

	for (i = 0; i < THEME_COUNT; i++)
		fprintf(f, "%-22s %s\n", theme_names[i], theme_helps[i]);
}

/* Set up one colour pair per role. */
void
theme_apply(const struct theme *t, int use_color)
{
	size_t i;

	theme_cur = *t;
	theme_colored = use_color && has_colors() && start_color() == OK;
	if (!theme_colored)
		return;
	use_default_colors();
	for (i = 0; i < THEME_COUNT; i++) {
		short fg = t->style[i].fg, bg = t->style[i].bg;

		if (fg >= COLORS)
			fg = (short)(fg % 8);
		if (bg >= COLORS)
			bg = (short)(bg % 8);
		init_pair((short)(i + 1), fg, bg);
	}
}

/* Combine a role's colours and attributes with extra attribute bits. */
unsigned int
theme_attr(enum theme_role r, unsigned extra)
{
	unsigned a = theme_cur.style[r].attrs | extra;
	attr_t out = 0;

	if (a & THEME_BOLD)
		out |= A_BOLD;
	if (a & THEME_DIM)
		out |= A_DIM;
	if (a & THEME_ITALIC)
		out |= A_ITALIC;
	if (a & THEME_UNDERLINE)
		out |= A_UNDERLINE;
	if (a & THEME_REVERSE)
		out |= A_REVERSE;
	if (a & THEME_STRIKE)
		out |= A_DIM;
	if (theme_colored)
		out |= COLOR_PAIR((int)r + 1);
	return (unsigned int)out;
}

/* Append the SGR parameters of one colour (fg: base 30, bg: base 40) to out. */
static void
theme_sgr_color(short c, int base, struct buf *out)
{
	if (c < 0)
		buf_printf(out, ";%d", base + 9);
	else if (c < 8 || COLORS < 16)
		buf_printf(out, ";%d", base + c % 8);
	else if (c < 16)
		buf_printf(out, ";%d", base + 60 + c - 8);
	else if (COLORS >= 256)
		buf_printf(out, ";%d;5;%d", base + 8, c);
	else
		buf_printf(out, ";%d", base + c % 8);
}

/* A role's attributes and colours as one SGR sequence, as theme_attr gives them to curses. */
void
theme_sgr(enum theme_role r, unsigned extra, struct buf *out)
{
	unsigned a = theme_cur.style[r].attrs | extra;

	buf_puts(out, "\033[0");
	if (a & THEME_BOLD)
		buf_puts(out, ";1");
	if (a & (THEME_DIM | THEME_STRIKE))
		buf_puts(out, ";2");
	if (a & THEME_ITALIC)
		buf_puts(out, ";3");
	if (a & THEME_UNDERLINE)
		buf_puts(out, ";4");
	if (a & THEME_REVERSE)
		buf_puts(out, ";7");
	if (theme_colored) {
		theme_sgr_color(theme_cur.style[r].fg, 30, out);
		theme_sgr_color(theme_cur.style[r].bg, 40, out);
	}
	buf_putc(out, 'm');
}
