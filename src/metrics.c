/*
 * The session report behind /metrics. Costs are computed here from the config's prices
 * rather than read from the stored messages, so a price fixed in the config shows at once;
 * a model with no price, or a reply without token counts, says "unknown" instead of a
 * misleading $0, while a free model's $0 is a known figure. Totals stop at LONG_MAX rather
 * than wrap, since the counts are whatever a provider reported.
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <utf8proc.h>

#include "buf.h"
#include "config.h"
#include "metrics.h"
#include "session.h"
#include "text.h"
#include "xmalloc.h"

#define METRICS_NO_PRICE (-1.0)
#define METRICS_NO_TOKENS (-2.0)
#define METRICS_MODEL_COLS 28

/* The cost of message m at its model's price, METRICS_NO_PRICE when the model has no
 * price, or METRICS_NO_TOKENS when the provider sent no token counts. */
static double
metrics_cost(struct config *c, const struct session_msg *m)
{
	struct model *mod;

	if (m->provider == NULL || m->model == NULL)
		return METRICS_NO_PRICE;
	mod = config_model_of(c, m->provider, m->model);
	if (mod == NULL || mod->price_input < 0 || mod->price_output < 0)
		return METRICS_NO_PRICE;
	if (m->input_tokens < 0 || m->output_tokens < 0)
		return METRICS_NO_TOKENS;
	return ((double)m->input_tokens * mod->price_input +
	    (double)m->output_tokens * mod->price_output) / 1e6;
}

/* Output tokens per second after the first token, or -1 when there is no rate (unknown
 * counts or timings, or a reply that came in one piece). */
static double
metrics_rate(const struct session_msg *m)
{
	if (m->output_tokens > 0 && m->ttft_ms >= 0 && m->duration_ms > m->ttft_ms)
		return (double)m->output_tokens * 1000.0 / (double)(m->duration_ms - m->ttft_ms);
	return -1;
}

/* One reply's figures on one line; tokens the provider never counted are estimated from
 * the stored text. */
void
metrics_reply_line(const struct session_msg *m, struct config *c, struct buf *out)
{
	double tps = metrics_rate(m), cost = metrics_cost(c, m);

	if (m->ttft_ms >= 0)
		buf_printf(out, "ttft %.2fs", (double)m->ttft_ms / 1000.0);
	else
		buf_puts(out, "ttft -");
	if (tps >= 0)
		buf_printf(out, " · %.1f tok/s", tps);
	else
		buf_puts(out, " · - tok/s");
	if (m->output_tokens >= 0)
		buf_printf(out, " · %ld tok", m->output_tokens);
	else if (m->content.len > 0)
		/* No count stored (a reply cut off by a quit or a crash): the stored text's
		 * estimate, marked as one. */
		buf_printf(out, " · ~%zu tok", session_estimate_tokens(m->content.data,
		    m->content.len));
	else
		buf_puts(out, " · - tok");
	if (cost >= 0)
		buf_printf(out, " · $%.6f", cost);
}

/* Add n to a running total, stopping at LONG_MAX: a provider may report any count. */
static void
metrics_add(long *total, long n)
{
	if (n <= 0)
		return;
	*total = n > LONG_MAX - *total ? LONG_MAX : *total + n;
}

/* Append s in exactly cols terminal columns: padded with spaces, or cut at a character
 * boundary with an ellipsis. printf's precision counts bytes, which splits UTF-8 and
 * misaligns the columns after a wide or multi-byte character. The stored model name is made
 * one terminal-safe line first (text.h), so what is measured is what is shown. */
void
metrics_cell(struct buf *b, const char *s, int cols)
{
	struct buf safe = BUF_INIT;
	const utf8proc_uint8_t *p;
	utf8proc_ssize_t n, k;
	utf8proc_int32_t cp;
	struct buf t = BUF_INIT;
	size_t keep = 0;        /* bytes of t that leave a column for the ellipsis */
	int used = 0, kept = 0, w;

	text_sanitize_line(s, strlen(s), &safe);
	p = (const utf8proc_uint8_t *)buf_str(&safe);
	n = (utf8proc_ssize_t)safe.len;
	for (; n > 0; p += k, n -= k) {
		k = utf8proc_iterate(p, n, &cp);
		if (k <= 0) {
			k = 1;  /* cannot happen after text_sanitize_line */
			continue;
		}
		w = utf8proc_charwidth(cp);
		if (used + w > cols) {
			t.len = keep;
			used = kept + 1;
			buf_append(&t, "…", strlen("…"));
			break;
		}
		buf_append(&t, p, (size_t)k);
		used += w;
		if (used <= cols - 1) {
			keep = t.len;
			kept = used;
		}
	}
	if (t.len > 0)
		buf_append(b, t.data, t.len);
	buf_free(&t);
	buf_free(&safe);
	for (; used < cols; used++)
		buf_putc(b, ' ');
}

/* The report's columns, in order; the cost and the state have no fixed width. */
enum {
	MC_NUM, MC_MODEL, MC_TTFT, MC_DUR, MC_IN, MC_OUT, MC_RATE, MC_COST, MC_STATE, MC_N
};

/* The fixed widths of the plain report; 0 for a column that takes what it needs. */
static const int metrics_widths[MC_N] = { 3, METRICS_MODEL_COLS, 7, 8, 7, 7, 8, 0, 0 };

/* The columns a narrow report gives up, first to last. */
static const int metrics_drop[] = { MC_DUR, MC_TTFT, MC_IN, MC_RATE };

/* The model column of a narrow report keeps at least this many columns, and gives up
 * columns of figures before it goes below METRICS_MODEL_SOFT. */
#define METRICS_MODEL_MIN 8
#define METRICS_MODEL_SOFT 16

/* One row of the report: each column's text (owned). */
struct metrics_row {
	char *cell[MC_N];
};

/* Append a token count, or "?" when it is unknown. */
static char *
metrics_tokens(long n)
{
	return n >= 0 ? xasprintf("%ld", n) : xstrdup("?");
}

/* The row of reply number k, message m. */
static void
metrics_row_of(struct metrics_row *r, size_t k, const struct session_msg *m, struct config *c,
    double *cost)
{
	double tps = metrics_rate(m);

	r->cell[MC_NUM] = xasprintf("%zu", k);
	r->cell[MC_MODEL] = xasprintf("%s/%s", m->provider ? m->provider : "?",
	    m->model ? m->model : "?");
	r->cell[MC_TTFT] = m->ttft_ms >= 0 ? xasprintf("%.2fs", (double)m->ttft_ms / 1000.0) :
	    xstrdup("-");
	r->cell[MC_DUR] = m->duration_ms > 0 ?
	    xasprintf("%.2fs", (double)m->duration_ms / 1000.0) : xstrdup("-");
	r->cell[MC_IN] = metrics_tokens(m->input_tokens);
	r->cell[MC_OUT] = metrics_tokens(m->output_tokens);
	r->cell[MC_RATE] = tps > 0 ? xasprintf("%.1f", tps) : xstrdup("-");
	*cost = metrics_cost(c, m);
	r->cell[MC_COST] = *cost >= 0 ? xasprintf("$%.6f", *cost) : xstrdup("unknown");
	r->cell[MC_STATE] = xstrdup(m->state == MSG_ERROR ? "(failed)" :
	    m->state == MSG_CANCELLED ? "(cancelled)" :
	    m->state == MSG_INTERRUPTED ? "(interrupted)" : "");
}

/* Append one row in the column widths w (-1: the column is left out). The model column is
 * made one safe line and cut to its width: at its end in the plain report (narrow is 0),
 * in its middle, keeping the model after the provider, in a narrow one. */
static void
metrics_row_put(struct buf *b, const struct metrics_row *r, const int *w, int narrow)
{
	struct buf safe = BUF_INIT, fit = BUF_INIT;
	const char *prov_end;
	int i, first = 1, pad;

	for (i = 0; i < MC_N; i++) {
		const char *t = r->cell[i];

		if (w[i] < 0 || (i == MC_STATE && t[0] == '\0'))
			continue;
		if (!first)
			buf_puts(b, i >= MC_COST ? "  " : " ");
		first = 0;
		if (i == MC_MODEL && !narrow) {
			metrics_cell(b, t, w[i]);
			continue;
		}
		if (i == MC_MODEL) {
			text_sanitize_line(t, strlen(t), &safe);
			prov_end = strchr(buf_str(&safe), '/');
			pad = w[i] - text_fit_middle(buf_str(&safe), safe.len, w[i],
			    prov_end != NULL ? (size_t)(prov_end - safe.data) : safe.len, &fit);
			buf_append(b, fit.data != NULL ? fit.data : "", fit.len);
			for (; pad > 0; pad--)
				buf_putc(b, ' ');
			continue;
		}
		pad = w[i] - text_width(t, strlen(t));
		for (; i > MC_NUM && pad > 0; pad--)
			buf_putc(b, ' ');
		buf_puts(b, t);
		for (; pad > 0; pad--)
			buf_putc(b, ' ');
	}
	buf_putc(b, '\n');
	buf_free(&safe);
	buf_free(&fit);
}

/* Columns a row takes in the widths w. */
static int
metrics_row_width(const struct metrics_row *r, const int *w)
{
	int i, total = 0, first = 1;

	for (i = 0; i < MC_N; i++) {
		if (w[i] < 0 || (i == MC_STATE && r->cell[i][0] == '\0'))
			continue;
		total += (first ? 0 : i >= MC_COST ? 2 : 1) +
		    (w[i] > 0 ? w[i] : text_width(r->cell[i], strlen(r->cell[i])));
		first = 0;
	}
	return total;
}

/* Columns the widest of the rows takes in the widths w. */
static int
metrics_rows_width(const struct metrics_row *rows, size_t n, const int *w)
{
	size_t i;
	int widest = 0, rw;

	for (i = 0; i < n; i++)
		if ((rw = metrics_row_width(&rows[i], w)) > widest)
			widest = rw;
	return widest;
}

/* The mark a narrow report shows for a state, as the transcript marks it. */
static const char *
metrics_state_mark(const char *state)
{
	if (strcmp(state, "(failed)") == 0)
		return "✗";
	if (strcmp(state, "(cancelled)") == 0)
		return "⊘";
	return state[0] != '\0' ? "⚠" : "";
}

/* The column widths of a report in width columns: as wide as the widest cell of each
 * column; when that is too wide, the model column narrows, then figures go (duration, ttft,
 * tokens in, rate), the states become their marks, and the model narrows further. What
 * the figures that went leave over goes back to the model. */
static void
metrics_fit(struct metrics_row *rows, size_t n, int width, int *w)
{
	size_t i, d;
	int c, over, soft, natural;

	for (c = 0; c < MC_N; c++) {
		w[c] = 0;
		for (i = 0; c < MC_COST && i < n; i++)
			if (text_width(rows[i].cell[c], strlen(rows[i].cell[c])) > w[c])
				w[c] = text_width(rows[i].cell[c], strlen(rows[i].cell[c]));
	}
	natural = w[MC_MODEL];
	soft = natural < METRICS_MODEL_SOFT ? natural : METRICS_MODEL_SOFT;
	if ((over = metrics_rows_width(rows, n, w) - width) > 0)
		w[MC_MODEL] = natural - over > soft ? natural - over : soft;
	for (d = 0; d < sizeof(metrics_drop) / sizeof(metrics_drop[0]) &&
	    metrics_rows_width(rows, n, w) > width; d++)
		w[metrics_drop[d]] = -1;
	for (i = 1; i < n && metrics_rows_width(rows, n, w) > width; i++) {
		char *mark = xstrdup(metrics_state_mark(rows[i].cell[MC_STATE]));

		free(rows[i].cell[MC_STATE]);
		rows[i].cell[MC_STATE] = mark;
	}
	if ((over = metrics_rows_width(rows, n, w) - width) > 0)
		w[MC_MODEL] = w[MC_MODEL] - over > METRICS_MODEL_MIN ? w[MC_MODEL] - over :
		    METRICS_MODEL_MIN < w[MC_MODEL] ? METRICS_MODEL_MIN : w[MC_MODEL];
	else if (over < 0 && w[MC_MODEL] < natural)
		w[MC_MODEL] = w[MC_MODEL] - over < natural ? w[MC_MODEL] - over : natural;
}

/* Append the totals' fields joined by " · ": on one line, or in a narrow report as many
 * as fit on each line, the next lines indented, a field too long cut with an ellipsis. */
static void
metrics_totals_put(struct buf *b, char **field, size_t n, int width)
{
	size_t i;
	int used = 0, fw;

	for (i = 0; i < n; i++) {
		fw = text_width(field[i], strlen(field[i]));
		if (i > 0 && width > 0 && used + 3 + fw > width) {
			buf_puts(b, "\n  ");
			used = 2;
		} else if (i > 0) {
			buf_puts(b, " · ");
			used += 3;
		}
		if (width > 0 && used + fw > width)
			fw = text_fit_end(field[i], strlen(field[i]), width - used, b);
		else
			buf_puts(b, field[i]);
		used += fw;
	}
	buf_putc(b, '\n');
}

/* Build the report. */
char *
metrics_report(const struct session *s, struct config *c)
{
	return metrics_report_fit(s, c, 0);
}

/* Build the report for width columns (0: the plain report, in fixed columns). */
char *
metrics_report_fit(const struct session *s, struct config *c, int width)
{
	static const char *heads[MC_N] = { "#", "model", "ttft", "duration", "in", "out",
	    "tok/s", "cost", "" };
	struct buf b = BUF_INIT;
	struct metrics_row *rows = NULL;
	size_t i, k, replies = 0;
	long tin = 0, tout = 0, tdur = 0;
	double tcost = 0, cost;
	int known = 0, no_price = 0, no_tokens = 0, w[MC_N];
	char *tot[5];

	rows = xcalloc(1, sizeof(*rows));
	for (k = 0; k < MC_N; k++)
		rows[0].cell[k] = xstrdup(heads[k]);
	for (i = 0; s != NULL && i < s->nmsgs; i++) {
		const struct session_msg *m = &s->msgs[i];

		if (m->role != ROLE_ASSISTANT)
			continue;
		replies++;
		rows = xrealloc(rows, (replies + 1) * sizeof(*rows));
		metrics_row_of(&rows[replies], replies, m, c, &cost);
		if (cost >= 0) {
			tcost += cost;
			known = 1;
		} else if (cost == METRICS_NO_PRICE) {
			no_price = 1;
		} else {
			no_tokens = 1;
		}
		metrics_add(&tin, m->input_tokens);
		metrics_add(&tout, m->output_tokens);
		metrics_add(&tdur, m->duration_ms);
	}
	if (replies == 0) {
		buf_puts(&b, "no replies in this session yet\n");
	} else {
		if (width > 0)
			metrics_fit(rows, replies + 1, width, w);
		else
			memcpy(w, metrics_widths, sizeof(w));
		for (i = 0; i <= replies; i++)
			metrics_row_put(&b, &rows[i], w, width > 0);
		tot[0] = xasprintf("session: %zu %s", replies, replies == 1 ? "reply" : "replies");
		tot[1] = xasprintf("%.2fs", (double)tdur / 1000.0);
		tot[2] = xasprintf("%ld tokens in", tin);
		tot[3] = xasprintf("%ld tokens out", tout);
		/* A free model costs a known $0: only replies without a figure make the total
		 * partial. */
		if (known)
			tot[4] = xasprintf("cost $%.6f%s", tcost, no_price ?
			    " + unknown (some models have no price)" : no_tokens ?
			    " + unknown (some replies have no token counts)" : "");
		else if (no_price)
			tot[4] = xstrdup("cost unknown (no price in the config)");
		else
			tot[4] = xstrdup("cost unknown (the provider sent no token counts)");
		buf_putc(&b, '\n');
		metrics_totals_put(&b, tot, 5, width);
		for (k = 0; k < 5; k++)
			free(tot[k]);
	}
	for (i = 0; i <= replies; i++)
		for (k = 0; k < MC_N; k++)
			free(rows[i].cell[k]);
	free(rows);
	return buf_detach(&b);
}
