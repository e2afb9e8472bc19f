/*
 * The conversation API's read and delete endpoints over natter's session store: a
 * conversation is a natter session, its id the session id (as a string), so what the
 * interface stores is listed here and what is chatted here shows in the interface.
 * Called on the serve loop's thread, which owns the store.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "serve-conv.h"
#include "serve-sse.h"
#include "serve.h"
#include "store.h"
#include "xmalloc.h"

/* Conversations listed when the request names no limit, and the most it may ask for. */
#define SERVE_CONV_LIMIT 100
#define SERVE_CONV_LIMIT_MAX 10000

/* Append unix seconds as an ISO 8601 UTC string. */
static void
serve_conv_time(struct buf *b, int64_t secs)
{
	time_t t = (time_t)secs;
	struct tm tm;
	char s[32];

	gmtime_r(&t, &tm);
	strftime(s, sizeof s, "\"%Y-%m-%dT%H:%M:%SZ\"", &tm);
	buf_puts(b, s);
}

/* Append "PROVIDER/MODEL" as a JSON string (null when neither is known). */
static void
serve_conv_model(struct buf *b, const char *provider, const char *model)
{
	char *full;

	if (model == NULL) {
		buf_puts(b, "null");
		return;
	}
	full = provider != NULL ? xasprintf("%s/%s", provider, model) : xstrdup(model);
	serve_json_str(b, full);
	free(full);
}

/* One session's summary fields (without the closing brace). */
static void
serve_conv_head(struct buf *b, const struct session_row *r)
{
	buf_printf(b, "{\"id\":\"%lld\",\"title\":", (long long)r->id);
	serve_json_str(b, r->title != NULL ? r->title : "");
	buf_puts(b, ",\"model\":");
	serve_conv_model(b, r->provider, r->model);
	buf_puts(b, ",\"created_at\":");
	serve_conv_time(b, r->created);
	buf_puts(b, ",\"updated_at\":");
	serve_conv_time(b, r->updated);
	buf_printf(b, ",\"message_count\":%ld", r->nmessages);
}

/* Answer with a JSON body. */
static void
serve_conv_json(struct serve_conn *c, int status, struct buf *b)
{
	serve_conn_reply(c, status, "application/json", b->data != NULL ? b->data : "", b->len,
	    NULL);
}

/* Answer {"detail": msg}. */
static void
serve_conv_fail(struct serve_conn *c, int status, const char *msg)
{
	struct buf b = BUF_INIT;

	serve_s2_message(&b, msg);
	serve_conv_json(c, status, &b);
	buf_free(&b);
}

/* GET /api/conversations: the newest first, ?limit=N of them (100 by default). */
void
serve_conv_list(struct store *st, struct serve_conn *c)
{
	struct session_row *rows;
	struct buf b = BUF_INIT;
	size_t n, i, limit = SERVE_CONV_LIMIT;

	if (st == NULL) {
		serve_conv_fail(c, 503, "the session store could not be opened");
		return;
	}
	if (c->limit > 0)
		limit = c->limit < SERVE_CONV_LIMIT_MAX ? (size_t)c->limit : SERVE_CONV_LIMIT_MAX;
	if (store_sessions(st, &rows, &n, limit) != 0) {
		serve_conv_fail(c, 500, store_error(st));
		return;
	}
	buf_puts(&b, "{\"conversations\":[");
	for (i = 0; i < n; i++) {
		if (i > 0)
			buf_putc(&b, ',');
		serve_conv_head(&b, &rows[i]);
		buf_putc(&b, '}');
	}
	buf_puts(&b, "]}\n");
	store_sessions_free(rows, n);
	serve_conv_json(c, 200, &b);
	buf_free(&b);
}

/* GET /api/conversations/{id}: the session and its messages in order. */
void
serve_conv_get(struct store *st, struct serve_conn *c)
{
	struct session_row *row;
	struct message_row *m;
	struct buf b = BUF_INIT;
	size_t n, i;
	char msg[64];

	if (st == NULL) {
		serve_conv_fail(c, 503, "the session store could not be opened");
		return;
	}
	if ((row = store_session_get(st, c->conv)) == NULL) {
		snprintf(msg, sizeof msg, "no conversation %lld", (long long)c->conv);
		serve_conv_fail(c, 404, msg);
		return;
	}
	if (store_messages(st, c->conv, &m, &n) != 0) {
		store_sessions_free(row, 1);
		serve_conv_fail(c, 500, store_error(st));
		return;
	}
	serve_conv_head(&b, row);
	buf_puts(&b, ",\"system_prompt\":");
	serve_json_str(&b, row->system);
	buf_puts(&b, ",\"messages\":[");
	for (i = 0; i < n; i++) {
		buf_puts(&b, i > 0 ? ",{\"role\":" : "{\"role\":");
		serve_json_str(&b, store_role_name(m[i].role));
		buf_puts(&b, ",\"content\":");
		serve_json_str(&b, m[i].content != NULL ? m[i].content : "");
		if (m[i].reasoning != NULL) {
			buf_puts(&b, ",\"reasoning\":");
			serve_json_str(&b, m[i].reasoning);
		}
		buf_puts(&b, ",\"model\":");
		serve_conv_model(&b, m[i].provider, m[i].model);
		buf_puts(&b, ",\"state\":");
		serve_json_str(&b, store_state_name(m[i].state));
		buf_puts(&b, ",\"created_at\":");
		serve_conv_time(&b, m[i].created / 1000);
		buf_putc(&b, '}');
	}
	buf_puts(&b, "]}\n");
	store_messages_free(m, n);
	store_sessions_free(row, 1);
	serve_conv_json(c, 200, &b);
	buf_free(&b);
}

/* DELETE /api/conversations/{id} (busy: a request is chatting in it now). */
void
serve_conv_delete(struct store *st, struct serve_conn *c, int busy)
{
	struct buf b = BUF_INIT;
	char msg[80];

	if (st == NULL) {
		serve_conv_fail(c, 503, "the session store could not be opened");
		return;
	}
	if (store_session_exists(st, c->conv) != 1) {
		snprintf(msg, sizeof msg, "no conversation %lld", (long long)c->conv);
		serve_conv_fail(c, 404, msg);
		return;
	}
	if (busy) {
		snprintf(msg, sizeof msg, "conversation %lld is answering a request now",
		    (long long)c->conv);
		serve_conv_fail(c, 409, msg);
		return;
	}
	if (store_session_delete(st, c->conv) != 0) {
		serve_conv_fail(c, 500, store_error(st));
		return;
	}
	buf_printf(&b, "{\"id\":\"%lld\",\"deleted\":true}\n", (long long)c->conv);
	serve_conv_json(c, 200, &b);
	buf_free(&b);
}
