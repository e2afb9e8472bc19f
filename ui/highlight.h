/*
 * Syntax highlighting of code blocks with the syntax definitions the system already has:
 * nano's nanorc files (/usr/share/nano on Debian), plus natter's own few for languages nano
 * lacks. A definition's rules are POSIX extended regexes painted in order, later over
 * earlier, as nano paints them; each rule gets a theme role from what it matches (probes of
 * keywords, types, strings, comments, numbers...), not from its nano colour, so every
 * language looks alike under one theme. Curses-free, for the unit tests and the fuzzer.
 */
#ifndef NATTER_HIGHLIGHT_H
#define NATTER_HIGHLIGHT_H

#include <stddef.h>
#include <stdint.h>

struct hl_syntax;
struct hl_set;

/* Directories searched for *.nanorc files, in order (the first definition of a name wins;
 * a leading ~/ is $HOME). n == 0 restores the built-in list: the user's natter/syntax, natter's data directory and
 * source tree, /usr/share/nano and /usr/share/nano/extra. Forgets what was loaded. */
void highlight_set_dirs(const char *const *dirs, size_t n);
/* The syntax for a code block: its language tag (py, sh, c++, Makefile...), else one whose
 * header regex matches the block's first line. NULL when none: the block stays plain.
 * Definitions are read when first needed; a missing directory is no error. */
const struct hl_syntax *highlight_find(const char *lang, const char *first, size_t nfirst);
/* The syntax's name as its file gives it. */
const char *highlight_name(const struct hl_syntax *s);
/* How many rules the syntax paints with (the ones natter could use). */
size_t highlight_nrules(const struct hl_syntax *s);
/* The theme role of rule i (0: nano's "normal", which paints the text's own colour). */
int highlight_rule_role(const struct hl_syntax *s, size_t i);
/* Paint n bytes of code (lines separated by '\n', text[n] == '\0'): roles[i] gets the theme
 * role of byte i, or 0 where no rule applies. Role changes fall on UTF-8 boundaries. */
void highlight_paint(const struct hl_syntax *s, const char *text, size_t n, uint8_t *roles);
/* Parse the text of a nanorc file with every rule compiled (tests, fuzzing). Bad lines and
 * regexes are skipped; *nbad counts them. */
struct hl_set *highlight_parse(const char *text, size_t n, const char *file, size_t *nbad);
size_t highlight_set_count(const struct hl_set *set);
const struct hl_syntax *highlight_set_get(const struct hl_set *set, size_t i);
void highlight_set_free(struct hl_set *set);
/* Free every loaded definition (at exit, and between tests). */
void highlight_free_all(void);

#endif
