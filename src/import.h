/*
 * Reading natter's own JSON export (export_json) back into memory, for `natter import`.
 * The parser is strict, since the file is untrusted and a session is stored exactly as it
 * reads: it must be valid UTF-8 JSON of exactly the export's shape (every field present
 * once, of its type, nothing else; only "pinned", "summary", "summary_covers" and the tool
 * fields, which older exports lack, may be missing), with times as the export writes them,
 * no U+0000, token counts that add up to the session's totals, compare groups whose
 * columns and kept flags agree with the messages' order, and tool calls and results that
 * name their call and tool, each result answering a call made before it, and attachments
 * (user messages only) whose bytes are what their size and SHA-256 say. Anything else is
 * refused with the JSON path of the
 * first bad field ("messages[3].created: ...") or the line and column of a syntax error.
 * Nothing here touches a store: store_session_import stores what import_parse returns.
 */
#ifndef NATTER_IMPORT_H
#define NATTER_IMPORT_H

#include <stddef.h>

#include "store.h"

/* The largest file natter import reads. */
#define IMPORT_MAX_BYTES (512u << 20)

struct import_doc {
	struct session_row session;   /* id is the file's, unused; the sums are the file's */
	struct message_row *msgs;     /* compare_group is the file's group id (0: none) and
	                               * compare_pick the column its group kept (-1: none) */
	size_t nmsgs;
};

/* Parse len bytes of text into *doc: 0, or -1 with *err (caller frees) saying what and
 * where. *doc is filled only on success and is then freed with import_free. */
int import_parse(const char *text, size_t len, struct import_doc *doc, char **err);
void import_free(struct import_doc *doc);

#endif
