/*
 * Semantic colour roles. Code names a role (THEME_CODE, THEME_ERROR), never a colour pair;
 * a theme file maps each role to a foreground, a background and attributes. The one list
 * below feeds the enum, the theme loader, the built-in defaults and the documentation
 * (ncdu's UI_COLORS idea). This header is curses-free; theme.c does the curses part.
 */
#ifndef NATTER_THEME_H
#define NATTER_THEME_H

#include <stdio.h>

/* id, name in theme files, default fg, bg, attributes (the "terminal" theme), help. */
#define THEME_ROLES(X) \
	X(DEFAULT, "default", "default", "default", "", "anything without a role of its own") \
	X(TEXT, "transcript.text", "default", "default", "", "message text") \
	X(USER, "transcript.user", "cyan", "default", "bold", "the header of your messages") \
	X(ASSISTANT, "transcript.assistant", "green", "default", "bold", "the header of replies") \
	X(META, "transcript.meta", "default", "default", "dim", "times, models and figures in headers") \
	X(SELECTED, "selection", "default", "default", "reverse", "the selected message's header") \
	X(HEADING, "heading", "yellow", "default", "bold", "Markdown headings") \
	X(CODE, "code", "magenta", "default", "", "inline code") \
	X(CODEBLOCK, "code.block", "default", "default", "", "fenced code blocks") \
	X(CODEBORDER, "code.border", "blue", "default", "", "the border and language of code blocks") \
	X(CODEKEYWORD, "code.keyword", "magenta", "default", "bold", "keywords in code blocks") \
	X(CODETYPE, "code.type", "cyan", "default", "", "type names in code blocks") \
	X(CODESTRING, "code.string", "green", "default", "", "strings and characters in code") \
	X(CODECOMMENT, "code.comment", "blue", "default", "italic", "comments in code blocks") \
	X(CODENUMBER, "code.number", "cyan", "default", "", "numbers in code blocks") \
	X(CODECONSTANT, "code.constant", "red", "default", "", "constants in code (true, None, NULL)") \
	X(CODEPREPROC, "code.preproc", "yellow", "default", "", "preprocessor lines and directives in code") \
	X(CODEFUNCTION, "code.function", "blue", "default", "bold", "names of functions being defined, in code") \
	X(CODESPECIAL, "code.special", "yellow", "default", "", "other code: operators, tags, variables") \
	X(CODEADDED, "code.added", "green", "default", "", "added lines of a diff") \
	X(CODEREMOVED, "code.removed", "red", "default", "", "removed lines of a diff") \
	X(TABLEBORDER, "table.border", "default", "default", "dim", "the borders of Markdown tables") \
	X(TABLEHEADER, "table.header", "default", "default", "bold", "the header row of Markdown tables") \
	X(QUOTE, "quote", "default", "default", "italic", "block quotes") \
	X(BULLET, "list.bullet", "yellow", "default", "", "list bullets and numbers") \
	X(LINK, "link", "blue", "default", "underline", "links") \
	X(LINKURL, "link.url", "blue", "default", "dim", "the address shown after a link") \
	X(MATH, "math", "cyan", "default", "", "LaTeX math drawn in Unicode") \
	X(TASK, "list.task", "yellow", "default", "", "the boxes of task list items") \
	X(REASONING, "reasoning", "default", "default", "dim", "reasoning (thinking) text") \
	X(ERROR, "error", "red", "default", "bold", "errors from the provider or natter") \
	X(WARNING, "warning", "yellow", "default", "", "cancelled, truncated or interrupted replies") \
	X(STATUS, "status", "default", "default", "reverse", "the status line") \
	X(STATUSBUSY, "status.busy", "green", "default", "reverse bold", "the status line while streaming") \
	X(BORDER, "border", "default", "default", "dim", "pane borders") \
	X(FOCUS, "border.focus", "cyan", "default", "bold", "the border or title of the focused pane") \
	X(SESSION, "sessions", "default", "default", "", "session titles") \
	X(SESSIONMETA, "sessions.meta", "default", "default", "dim", "model and time in the session list") \
	X(SESSIONSEL, "sessions.selected", "default", "default", "reverse", "the current session") \
	X(INPUT, "input", "default", "default", "", "the text being written") \
	X(PROMPT, "input.prompt", "cyan", "default", "bold", "the prompt mark before the input") \
	X(HINT, "hint", "default", "default", "dim", "hints and placeholders") \
	X(OVERLAY, "overlay", "default", "default", "", "help overlay and pickers") \
	X(OVERLAYKEY, "overlay.key", "yellow", "default", "bold", "key names in the help overlay") \
	X(MATCH, "match", "yellow", "default", "bold underline", "the characters a filter matched, in pickers and the session list")

enum theme_role {
#define X(id, name, fg, bg, attr, help) THEME_##id,
	THEME_ROLES(X)
#undef X
	THEME_COUNT
};

/* Attribute bits, independent of curses. */
#define THEME_BOLD 1u
#define THEME_DIM 2u
#define THEME_ITALIC 4u
#define THEME_UNDERLINE 8u
#define THEME_REVERSE 16u
#define THEME_STRIKE 32u

struct theme_style {
	short fg, bg;     /* -1 = terminal default, 0..255 */
	unsigned attrs;   /* THEME_ bits */
};

struct theme {
	struct theme_style style[THEME_COUNT];
};

/* Fill t with the built-in defaults (the "terminal" theme). */
void theme_defaults(struct theme *t);
/* Parse theme text into t (on top of what it holds). Returns 0, or -1 with *err set. */
int theme_parse(struct theme *t, const char *text, const char *file, char **err);
/* Parse one colour name ("red", "brightblue", "default", "color42", "42"); -2 if bad. */
int theme_color(const char *name);
/* Strip colours, keeping attributes (NO_COLOR, monochrome terminals). */
void theme_mono(struct theme *t);
/* Find a role by name; -1 if unknown. */
int theme_role_find(const char *name);
const char *theme_role_name(enum theme_role r);
/* Load the theme called name (or a path); falls back to the defaults with *err set (an
 * unknown name's lists the themes there are). */
int theme_load(struct theme *t, const char *name, char **err);
struct buf;
/* Append the names of the themes there are, sorted: "dark, light, mono, terminal". */
void theme_list(struct buf *out);
/* Describe the roles (for documentation). */
void theme_print_roles(FILE *f);
/* Make t current: set up colour pairs when the terminal has colours (after initscr). */
void theme_apply(const struct theme *t, int use_color);
/* The curses attributes for a role plus extra THEME_ bits (an attr_t value). */
unsigned int theme_attr(enum theme_role r, unsigned extra);
/* The same as one SGR escape sequence (ESC [ 0 ; ... m), appended to out, for text natter
 * writes to the terminal itself (hyperlinks, link.c). */
void theme_sgr(enum theme_role r, unsigned extra, struct buf *out);

#endif
