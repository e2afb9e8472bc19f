/*
 * What the command-line front ends (ask, compare, metrics, export, import, summarize)
 * share: loading the config with its errors told once, opening the store, the prompt from
 * arguments and standard input, Ctrl+C as a descriptor to poll, and printing untrusted text
 * safely.
 */
#ifndef NATTER_CLI_H
#define NATTER_CLI_H

#include <stddef.h>
#include <stdint.h>

struct buf;
struct config;
struct config_errors;
struct store;

/* Load the config and print its errors and warnings on stderr; always returns a config. */
struct config *cli_config(struct config_errors *errs);
/* Open the session store, or NULL after saying why on stderr (prefixed with who). */
struct store *cli_store(const char *who);
/* Close a store opened for a brief writer (ask, compare): when its write-ahead log is heavy
 * (store_wal_heavy), a detached process folds it after natter exits. NULL is ignored. */
void cli_store_close(struct store *st);
/* The prompt from argv[first..argc): the words joined by spaces, each "-" replaced by
 * standard input; with no word, standard input alone; words and a standard input that is
 * not a terminal combine as the words, a blank line and the input. Caller frees. */
char *cli_prompt(int argc, char **argv, int first);
/* Read all of standard input (at most max bytes; NULL with errno EFBIG past it). */
char *cli_read_stdin(size_t max);
/* Catch SIGINT: the first one makes the returned descriptor readable, a second exits 130
 * at once. */
int cli_sigint(void);
/* The number of SIGINTs seen. */
int cli_interrupted(void);
/* Write all of p to fd; -1 on a write error. */
int cli_write(int fd, const char *p, size_t n);
/* Append n bytes of untrusted text to out, made terminal-safe unless raw. */
void cli_text(struct buf *out, const char *p, size_t n, int raw);
/* Append ,"key": and the string v (n bytes, made terminal-safe unless raw), or null. */
void cli_json_str(struct buf *b, const char *key, const char *v, size_t n, int raw);
/* Append ,"key": and the number v (an integer when integer is set), or null when v < 0. */
void cli_json_num(struct buf *b, const char *key, double v, int integer);
/* Say on stderr what was wrong with argument arg of command who: "natter: who: unknown
 * option 'arg'" for an option, else "natter: who: unexpected argument 'arg'". The caller
 * prints the usage after it. */
void cli_bad_arg(const char *who, const char *arg);
/* Say a usage error of command who on stderr, "natter: who: MESSAGE (see natter who
 * --help)", the message from a printf format; returns EXIT_USAGE. */
int cli_usage(const char *who, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* A whole decimal number in [lo, hi] from s into *out; 0, or -1 (out untouched). */
int cli_long(const char *s, long lo, long hi, long *out);
/* A whole number (strtod's syntax) in [lo, hi] from s into *out; 0, or -1. */
int cli_double(const char *s, double lo, double hi, double *out);
/* A session id from text ("12", or "last"/"-" for the newest), or 0 after saying why. */
int64_t cli_session_id(struct store *st, const char *who, const char *text);

struct toolset;
struct turn;
struct turn_toolbox;
struct worker;
/* --tools / --mcp SERVER for command `who`: start the servers, wait for them (at most
 * ms), report the ones that failed and return the box of the tools ready (NULL: none,
 * said on stderr); *ts is the toolset to poll and free before w is stopped (w carries the
 * url: servers' requests). -1 when no server is configured (said on stderr: a usage
 * error). */
int cli_tools(const struct config *cfg, const char *who, const char *only, int yes, long ms,
    struct worker *w, struct toolset **ts, const struct turn_toolbox **box);
/* Say on stderr what became of call k of t (prefix: "" or a comparison's column name);
 * a call waiting for approval is refused (headless front ends run only allowed tools). */
void cli_tool_note(struct turn *t, unsigned what, size_t k, const char *prefix,
    const char *who);

#endif
