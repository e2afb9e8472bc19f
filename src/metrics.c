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

/* One reply's figures on one line. */
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

/* Append a token count, or "?" when it is unknown. */
static void
metrics_tokens(struct buf *b, long n)
{
	if (n >= 0)
		buf_printf(b, "%7ld", n);
	else
		buf_printf(b, "%7s", "?");
}

/* Build the report. */
char *
metrics_report(const struct session *s, struct config *c)
{
	struct buf b = BUF_INIT;
	size_t i, replies = 0;
	long tin = 0, tout = 0, tdur = 0;
	double tcost = 0;
	int known = 0, no_price = 0, no_tokens = 0;

	buf_printf(&b, "%-3s %-*s %7s %8s %7s %7s %8s  %s\n", "#", METRICS_MODEL_COLS, "model",
	    "ttft", "duration", "in", "out", "tok/s", "cost");
	for (i = 0; s != NULL && i < s->nmsgs; i++) {
		const struct session_msg *m = &s->msgs[i];
		double cost, tps;
		char *model;

		if (m->role != ROLE_ASSISTANT)
			continue;
		replies++;
		model = xasprintf("%s/%s", m->provider ? m->provider : "?", m->model ? m->model : "?");
		buf_printf(&b, "%-3zu ", replies);
		metrics_cell(&b, model, METRICS_MODEL_COLS);
		buf_putc(&b, ' ');
		free(model);
		if (m->ttft_ms >= 0)
			buf_printf(&b, "%6.2fs ", (double)m->ttft_ms / 1000.0);
		else
			buf_printf(&b, "%7s ", "-");
		if (m->duration_ms > 0)
			buf_printf(&b, "%7.2fs ", (double)m->duration_ms / 1000.0);
		else
			buf_printf(&b, "%8s ", "-");
		metrics_tokens(&b, m->input_tokens);
		buf_putc(&b, ' ');
		metrics_tokens(&b, m->output_tokens);
		tps = metrics_rate(m);
		if (tps > 0)
			buf_printf(&b, " %8.1f  ", tps);
		else
			buf_printf(&b, " %8s  ", "-");
		cost = metrics_cost(c, m);
		if (cost >= 0) {
			buf_printf(&b, "$%.6f", cost);
			tcost += cost;
			known = 1;
		} else {
			buf_puts(&b, "unknown");
			if (cost == METRICS_NO_PRICE)
				no_price = 1;
			else
				no_tokens = 1;
		}
		if (m->state == MSG_ERROR)
			buf_puts(&b, "  (failed)");
		else if (m->state == MSG_CANCELLED)
			buf_puts(&b, "  (cancelled)");
		else if (m->state == MSG_INTERRUPTED)
			buf_puts(&b, "  (interrupted)");
		buf_putc(&b, '\n');
		metrics_add(&tin, m->input_tokens);
		metrics_add(&tout, m->output_tokens);
		metrics_add(&tdur, m->duration_ms);
	}
	if (replies == 0) {
		buf_reset(&b);
		buf_puts(&b, "no replies in this session yet\n");
		return buf_detach(&b);
	}
	buf_printf(&b, "\nsession: %zu %s · %.2fs · %ld tokens in · %ld tokens out · cost ",
	    replies, replies == 1 ? "reply" : "replies", (double)tdur / 1000.0, tin, tout);
	/* A free model costs a known $0: only replies without a figure make the total partial. */
	if (known)
		buf_printf(&b, "$%.6f%s\n", tcost, no_price ? " + unknown (some models have no price)" :
		    no_tokens ? " + unknown (some replies have no token counts)" : "");
	else if (no_price)
		buf_puts(&b, "unknown (no price in the config)\n");
	else
		buf_puts(&b, "unknown (the provider sent no token counts)\n");
	return buf_detach(&b);
}
