/*
 * `natter metrics [SESSION] [--json]`: what the stored replies cost and how fast they came.
 * Without SESSION, three tables over the whole store, each one SQL aggregate pass
 * (store_usage): per model (calls, tokens, cost, median time to first token and median
 * output rate), per day of the last 30 and per session of the 20 most recent. Costs are
 * the ones stored with each reply; a reply without one is unknown, never $0, so a sum that
 * leaves some out is marked partial ("+?") and says how many. With SESSION, the per-reply
 * table of /metrics (metrics.c, priced from the config as the interface prices it) and the
 * totals as stored. --json gives the same figures to scripts, null for what is unknown.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "cli.h"
#include "cmd.h"
#include "config.h"
#include "metrics.h"
#include "session.h"
#include "store.h"
#include "text.h"
#include "xmalloc.h"

#define METRICS_DAYS 30
#define METRICS_SESSIONS 20
#define METRICS_NAME_COLS 32

#define METRICS_USAGE \
	"usage: natter metrics [SESSION] [--json]\n" \
	"Without SESSION: calls, tokens, cost, median time to first token and median tokens\n" \
	"per second per model, then calls, tokens and cost per day (last 30 days) and per\n" \
	"session (the 20 most recent). With SESSION (an id or 'last'): each reply's figures,\n" \
	"as /metrics shows them, and the session's totals. Costs are those stored with each\n" \
	"reply; a reply without one counts as unknown, never as 0.\n"

/* Append a cost cell: the sum, "unknown" when no call has one, "+?" when some have not. */
static void
metrics_cmd_cost(struct buf *b, double cost, long known, long calls, int width)
{
	char cell[64];

	if (known == 0 && calls > 0)
		snprintf(cell, sizeof(cell), "unknown");
	else
		snprintf(cell, sizeof(cell), "$%.6f%s", cost, known < calls ? "+?" : "");
	buf_printf(b, "%*s", width, cell);
}

/* Append a median cell: seconds for a time, a rate otherwise, "-" when unknown. */
static void
metrics_cmd_median(struct buf *b, double v, int is_time, int width)
{
	char cell[64];

	if (v < 0)
		snprintf(cell, sizeof(cell), "-");
	else if (is_time)
		snprintf(cell, sizeof(cell), "%.2fs", v / 1000.0);
	else
		snprintf(cell, sizeof(cell), "%.1f", v);
	buf_printf(b, "%*s", width, cell);
}

/* Append the figures every table shares: calls, tokens in and out, cost. */
static void
metrics_cmd_figures(struct buf *b, const struct store_usage *u)
{
	buf_printf(b, " %7ld %11ld %11ld ", u->calls, u->input_tokens, u->output_tokens);
	metrics_cmd_cost(b, u->cost, u->cost_known, u->calls, 14);
}

/* The three tables as text, with a note under them when some cost was unknown. */
static void
metrics_cmd_tables(struct buf *b, struct store_usage *rows[3], const size_t n[3])
{
	struct buf name = BUF_INIT;
	size_t i;
	int partial = 0;

	buf_puts(b, "Per model\n");
	metrics_cell(b, "MODEL", METRICS_NAME_COLS);
	buf_printf(b, " %7s %11s %11s %14s %9s %9s\n", "CALLS", "TOKENS IN", "TOKENS OUT",
	    "COST", "TTFT p50", "TOK/S p50");
	for (i = 0; i < n[0]; i++) {
		const struct store_usage *u = &rows[0][i];

		buf_reset(&name);
		buf_printf(&name, "%s/%s", u->key != NULL ? u->key : "?", u->name != NULL ?
		    u->name : "?");
		metrics_cell(b, buf_str(&name), METRICS_NAME_COLS);
		metrics_cmd_figures(b, u);
		buf_putc(b, ' ');
		metrics_cmd_median(b, u->ttft_ms, 1, 9);
		buf_putc(b, ' ');
		metrics_cmd_median(b, u->tps, 0, 9);
		buf_putc(b, '\n');
		partial |= u->cost_known < u->calls;
	}
	if (n[0] == 0)
		buf_puts(b, "no replies stored yet\n");
	buf_printf(b, "\nPer day (last %d days)\n", METRICS_DAYS);
	buf_printf(b, "%-10s %7s %11s %11s %14s\n", "DAY", "CALLS", "TOKENS IN", "TOKENS OUT",
	    "COST");
	for (i = 0; i < n[1]; i++) {
		const struct store_usage *u = &rows[1][i];

		buf_printf(b, "%-10s", u->key != NULL ? u->key : "?");
		metrics_cmd_figures(b, u);
		buf_putc(b, '\n');
		partial |= u->cost_known < u->calls;
	}
	if (n[1] == 0)
		buf_printf(b, "no replies in the last %d days\n", METRICS_DAYS);
	buf_printf(b, "\nRecent sessions (the %d most recent)\n", METRICS_SESSIONS);
	buf_printf(b, "%6s  ", "ID");
	metrics_cell(b, "TITLE", METRICS_NAME_COLS - 8);
	buf_printf(b, " %7s %11s %11s %14s\n", "CALLS", "TOKENS IN", "TOKENS OUT", "COST");
	for (i = 0; i < n[2]; i++) {
		const struct store_usage *u = &rows[2][i];

		buf_printf(b, "%6lld  ", (long long)u->session_id);
		metrics_cell(b, u->name != NULL && *u->name != '\0' ? u->name : "untitled",
		    METRICS_NAME_COLS - 8);
		metrics_cmd_figures(b, u);
		buf_putc(b, '\n');
		partial |= u->cost_known < u->calls;
	}
	if (n[2] == 0)
		buf_puts(b, "no sessions stored yet\n");
	if (partial)
		buf_puts(b, "\n+? some replies have no stored cost: the sum leaves them out "
		    "(unknown, not $0)\n");
	buf_free(&name);
}

/* Append "key":value for a number that is null when negative. */
static void
metrics_cmd_json_num(struct buf *b, const char *key, double v, int integer)
{
	if (v < 0)
		buf_printf(b, ",\"%s\":null", key);
	else if (integer)
		buf_printf(b, ",\"%s\":%.0f", key, v);
	else
		buf_printf(b, ",\"%s\":%.17g", key, v);
}

/* Append "key":"value" (or null). */
static void
metrics_cmd_json_str(struct buf *b, const char *key, const char *v, int first)
{
	buf_printf(b, "%s\"%s\":", first ? "" : ",", key);
	if (v == NULL)
		buf_puts(b, "null");
	else
		buf_json_string(b, v, strlen(v));
}

/* Append the figures of one group as JSON members. */
static void
metrics_cmd_json_figures(struct buf *b, const struct store_usage *u)
{
	buf_printf(b, ",\"calls\":%ld,\"input_tokens\":%ld,\"output_tokens\":%ld", u->calls,
	    u->input_tokens, u->output_tokens);
	metrics_cmd_json_num(b, "cost", u->cost_known > 0 || u->calls == 0 ? u->cost : -1, 0);
	buf_printf(b, ",\"cost_unknown_calls\":%ld", u->calls - u->cost_known);
}

/* The three tables as one JSON object. */
static void
metrics_cmd_json(struct buf *b, struct store_usage *rows[3], const size_t n[3])
{
	static const char *const names[3] = { "models", "days", "sessions" };
	size_t t, i;

	buf_putc(b, '{');
	for (t = 0; t < 3; t++) {
		buf_printf(b, "%s\"%s\":[", t ? "," : "", names[t]);
		for (i = 0; i < n[t]; i++) {
			const struct store_usage *u = &rows[t][i];

			buf_puts(b, i ? ",{" : "{");
			if (t == 0) {
				metrics_cmd_json_str(b, "provider", u->key, 1);
				metrics_cmd_json_str(b, "model", u->name, 0);
			} else if (t == 1) {
				metrics_cmd_json_str(b, "day", u->key, 1);
			} else {
				buf_printf(b, "\"id\":%lld", (long long)u->session_id);
				metrics_cmd_json_str(b, "title", u->name, 0);
			}
			metrics_cmd_json_figures(b, u);
			if (t == 0) {
				metrics_cmd_json_num(b, "median_ttft_ms", u->ttft_ms, 0);
				metrics_cmd_json_num(b, "median_tokens_per_second", u->tps, 0);
			}
			buf_putc(b, '}');
		}
		buf_putc(b, ']');
	}
	buf_puts(b, "}\n");
}

/* The start of the local day METRICS_DAYS - 1 days before today, in unix milliseconds. */
static int64_t
metrics_cmd_since(void)
{
	time_t now = time(NULL);
	struct tm tm;

	localtime_r(&now, &tm);
	tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
	tm.tm_mday -= METRICS_DAYS - 1;
	tm.tm_isdst = -1;
	return (int64_t)mktime(&tm) * 1000;
}

/* Usage over the whole store; an exit status. */
static int
metrics_cmd_store(struct store *st, int json)
{
	static const enum store_usage_by by[3] = { STORE_USAGE_MODEL, STORE_USAGE_DAY,
		STORE_USAGE_SESSION };
	struct store_usage *rows[3] = { NULL, NULL, NULL };
	struct buf b = BUF_INIT, safe = BUF_INIT;
	size_t n[3] = { 0, 0, 0 }, t;
	int64_t since = metrics_cmd_since();
	int rc = EXIT_OK;

	for (t = 0; t < 3; t++) {
		if (store_usage(st, by[t], since, METRICS_SESSIONS, &rows[t], &n[t]) != 0) {
			fprintf(stderr, "natter: metrics: %s\n", store_error(st));
			rc = 1;
			goto out;
		}
	}
	if (json) {
		metrics_cmd_json(&b, rows, n);
		text_json_safe(b.data, b.len, &safe);
	} else {
		metrics_cmd_tables(&b, rows, n);
		text_sanitize(b.data != NULL ? b.data : "", b.len, &safe);
	}
	if (cli_write(1, safe.data != NULL ? safe.data : "", safe.len) != 0)
		rc = 1;
out:
	for (t = 0; t < 3; t++)
		store_usage_free(rows[t], n[t]);
	buf_free(&b);
	buf_free(&safe);
	return rc;
}

/* The totals of a session's replies as stored, added into *u. */
static void
metrics_cmd_totals(const struct session *s, struct store_usage *u)
{
	size_t i;

	memset(u, 0, sizeof(*u));
	for (i = 0; i < s->nmsgs; i++) {
		const struct session_msg *m = &s->msgs[i];

		if (m->role != ROLE_ASSISTANT)
			continue;
		u->calls++;
		u->input_tokens += m->input_tokens > 0 ? m->input_tokens : 0;
		u->output_tokens += m->output_tokens > 0 ? m->output_tokens : 0;
		if (m->cost >= 0) {
			u->cost += m->cost;
			u->cost_known++;
		}
	}
}

/* One session as JSON: every reply's stored figures, then the totals. */
static void
metrics_cmd_session_json(struct buf *b, const struct session *s, const struct store_usage *u)
{
	size_t i, k = 0;

	buf_printf(b, "{\"session\":%lld", (long long)s->id);
	metrics_cmd_json_str(b, "title", s->title, 0);
	buf_puts(b, ",\"replies\":[");
	for (i = 0; i < s->nmsgs; i++) {
		const struct session_msg *m = &s->msgs[i];
		double tps = -1;

		if (m->role != ROLE_ASSISTANT)
			continue;
		if (m->output_tokens > 0 && m->ttft_ms >= 0 && m->duration_ms > m->ttft_ms)
			tps = (double)m->output_tokens * 1000.0 / (double)(m->duration_ms - m->ttft_ms);
		buf_printf(b, "%s{\"n\":%zu", k ? "," : "", k + 1);
		k++;
		metrics_cmd_json_str(b, "provider", m->provider, 0);
		metrics_cmd_json_str(b, "model", m->model, 0);
		metrics_cmd_json_str(b, "state", store_state_name(m->state), 0);
		metrics_cmd_json_num(b, "input_tokens", (double)m->input_tokens, 1);
		metrics_cmd_json_num(b, "output_tokens", (double)m->output_tokens, 1);
		metrics_cmd_json_num(b, "cost", m->cost, 0);
		metrics_cmd_json_num(b, "ttft_ms", (double)m->ttft_ms, 1);
		metrics_cmd_json_num(b, "duration_ms", (double)m->duration_ms, 1);
		metrics_cmd_json_num(b, "tokens_per_second", tps, 0);
		buf_putc(b, '}');
	}
	buf_puts(b, "],\"totals\":{");
	buf_printf(b, "\"calls\":%ld,\"input_tokens\":%ld,\"output_tokens\":%ld", u->calls,
	    u->input_tokens, u->output_tokens);
	metrics_cmd_json_num(b, "cost", u->cost_known > 0 || u->calls == 0 ? u->cost : -1, 0);
	buf_printf(b, ",\"cost_unknown_calls\":%ld}}\n", u->calls - u->cost_known);
}

/* One session's replies; an exit status. */
static int
metrics_cmd_session(struct store *st, int64_t id, int json)
{
	struct config_errors errs = { NULL, 0 };
	struct config *cfg;
	struct session *s = session_load(st, id);
	struct store_usage u;
	struct buf b = BUF_INIT, safe = BUF_INIT;
	char *report;
	int rc = EXIT_OK;

	if (s == NULL) {
		fprintf(stderr, "natter: metrics: %s\n", store_error(st));
		return 1;
	}
	metrics_cmd_totals(s, &u);
	if (json) {
		metrics_cmd_session_json(&b, s, &u);
		text_json_safe(b.data, b.len, &safe);
	} else {
		cfg = cli_config(&errs);
		report = metrics_report(s, cfg);
		buf_puts(&safe, report);
		free(report);
		if (u.calls > 0) {
			buf_printf(&safe, "stored: %ld %s \xc2\xb7 %ld tokens in \xc2\xb7 %ld tokens out"
			    " \xc2\xb7 cost ", u.calls, u.calls == 1 ? "reply" : "replies",
			    u.input_tokens, u.output_tokens);
			if (u.cost_known == 0)
				buf_puts(&safe, "unknown (no reply has a stored cost)\n");
			else if (u.cost_known < u.calls)
				buf_printf(&safe, "$%.6f + unknown (%ld %s no stored cost)\n", u.cost,
				    u.calls - u.cost_known, u.calls - u.cost_known == 1 ?
				    "reply has" : "replies have");
			else
				buf_printf(&safe, "$%.6f\n", u.cost);
		}
		config_free(cfg);
		config_errors_free(&errs);
	}
	if (cli_write(1, safe.data != NULL ? safe.data : "", safe.len) != 0)
		rc = 1;
	buf_free(&b);
	buf_free(&safe);
	session_free(s);
	return rc;
}

/* natter metrics [SESSION] [--json] */
int
cmd_metrics(int argc, char **argv)
{
	const char *which = NULL;
	struct store *st;
	int64_t id;
	int a, json = 0, rc;

	for (a = 1; a < argc; a++) {
		if (strcmp(argv[a], "-h") == 0 || strcmp(argv[a], "--help") == 0) {
			fputs(METRICS_USAGE, stdout);
			return EXIT_OK;
		}
		if (strcmp(argv[a], "--json") == 0) {
			json = 1;
		} else if ((argv[a][0] == '-' && argv[a][1] != '\0') || which != NULL) {
			fprintf(stderr, "natter: metrics: %s '%s'\n", which != NULL ?
			    "one session at a time, not also" : "unknown option", argv[a]);
			fputs(METRICS_USAGE, stderr);
			return EXIT_USAGE;
		} else {
			which = argv[a];
		}
	}
	if ((st = cli_store("metrics")) == NULL)
		return 1;
	if (which == NULL) {
		rc = metrics_cmd_store(st, json);
	} else if ((id = cli_session_id(st, "metrics", which)) == 0) {
		rc = 1;
	} else {
		rc = metrics_cmd_session(st, id, json);
	}
	store_close(st);
	return rc;
}
