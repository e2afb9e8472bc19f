/*
 * Server-sent events decoder, exact to the WHATWG event-stream rules (protocols.md §C.1):
 * any split of the input gives the same events; CR, LF and CRLF line ends, including a CR
 * at the end of one read and its LF at the start of the next; one leading BOM stripped;
 * comments ignored; several data lines joined with LF; an event without its closing blank
 * line is discarded at EOF.
 *
 * Lines and events are capped at max_line bytes (0: no cap) so that a server cannot make
 * natter hold an unbounded line in memory: the first line (or event's data) longer than
 * that sets overflow, frees what was buffered and makes the decoder ignore the rest of the
 * input. The check costs O(1) per line, whatever the split.
 *
 * One extension for llama.cpp builds that send a non-standard "error:" field: its value is
 * kept, and when the event has no data it is dispatched with type "error" and that value as
 * its data, so the protocol layer sees it like Anthropic's "event: error".
 */
#ifndef NATTER_SSE_H
#define NATTER_SSE_H

#include <stddef.h>

#include "buf.h"

/* Called once per dispatched event; event is "message" when the stream named none. The
 * data is len bytes and is not NUL-terminated (it may point into the caller's read). */
typedef void (*sse_event_fn)(void *ud, const char *event, const char *data, size_t len);

struct sse {
	struct buf line;   /* the line being assembled */
	struct buf data;   /* data lines of the current event, joined with LF */
	struct buf event;  /* the current event type */
	struct buf error;  /* llama.cpp "error:" field value */
	struct buf last_id;
	long retry_ms;     /* last valid retry: field, or -1 */
	int last_was_cr;   /* the previous byte ended a line with CR */
	int bom_state;     /* bytes of a leading BOM matched so far; -1 once past the start */
	int has_data;      /* a data field was seen in the current event */
	int pending;       /* some field of an event is buffered but not yet dispatched */
	size_t max_line;   /* longest line or event data accepted, 0 = no cap */
	int overflow;      /* a line or event went over max_line: the rest is ignored */
	sse_event_fn fn;
	void *ud;
};

void sse_init(struct sse *s, sse_event_fn fn, void *ud);
void sse_feed(struct sse *s, const char *p, size_t n);
/* End of input; returns 1 when an unfinished event or line was discarded. */
int sse_finish(struct sse *s);
void sse_free(struct sse *s);

#endif
