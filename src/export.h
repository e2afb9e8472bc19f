/*
 * Exporting a stored session for reading or for other tools: Markdown (YAML front matter,
 * one heading per message, reasoning folded in <details>), plain text (a header line per
 * message, reasoning indented) or JSON (one object with a messages array, which `natter
 * import` reads back). Exports hold only what the store holds, and the store holds no keys or
 * provider headers, so an export is safe to share as far as credentials go.
 */
#ifndef NATTER_EXPORT_H
#define NATTER_EXPORT_H

#include <stddef.h>
#include <stdint.h>

#include "store.h"

enum export_format { EXPORT_MARKDOWN, EXPORT_JSON, EXPORT_TEXT };

/* "md"/"markdown", "json" or "text"/"txt"; 0 on success, -1 for an unknown name. */
int export_format_parse(const char *name, enum export_format *out);
/* Render a session and its messages; the caller frees the result. */
char *export_markdown(const struct session_row *s, const struct message_row *m, size_t n);
char *export_json(const struct session_row *s, const struct message_row *m, size_t n);
char *export_text(const struct session_row *s, const struct message_row *m, size_t n);
/* Parse an ISO 8601 UTC time as export_json writes it ("2026-01-02T03:04:05Z", with ".mmm"
 * before the Z when with_ms) into unix milliseconds; 0, or -1 when s is not exactly that. */
int export_parse_time(const char *s, int with_ms, int64_t *ms);
/* The column (0-based) of message i of m in its comparison round, with the round's reply
 * count in *ncols: a round is a user prompt and one reply per column, all in one compare
 * group. -1 (and *ncols 0) for a message outside any group; -1 with *ncols for the
 * round's prompt. */
int export_compare_column(const struct message_row *m, size_t n, size_t i, int *ncols);
/* Load session id from st and render it, or NULL (store_error says why). */
char *export_session(struct store *st, int64_t id, enum export_format format);
/* The same with the whole tree of messages (store_messages_tree) when tree is set, else
 * the path on screen as export_session. */
char *export_session_tree(struct store *st, int64_t id, enum export_format format, int tree);
/* Where message i of m sits in a tree, for a header: " · alternative A of N" when it has
 * siblings, and " · follows #K" (K: the 1-based number of its parent in m) or " · a first
 * message" when it does not follow the message printed before it. Nothing on a plain line. */
void export_branch_note(struct buf *b, const struct message_row *m, size_t n, size_t i);
/* Render the path m[0..n) as one line (store_messages reads a round nobody kept with its
 * columns side by side): no message says it follows another. */
void export_as_line(struct message_row *m, size_t n);
/* The 1-based number in m of the message i follows when that is not i - 1 (a tree), 0
 * for a first message out of line, -1 when it follows the one before it. */
long export_parent_number(const struct message_row *m, size_t n, size_t i);
/* Write text to path, created mode 0600 as chat history deserves (an existing file keeps
 * its mode); 0, or -1 with errno set. */
int export_write(const char *path, const char *text);

#endif
