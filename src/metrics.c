/*
 * The session report behind /metrics. Costs are computed here from the config's prices
 * rather than read from the stored messages, so a price fixed in the config shows at once;
 * a model with no price says "unknown" instead of a misleading $0.
 */
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "config.h"
#include "metrics.h"
#include "session.h"
#include "xmalloc.h"

/* The cost of message m at its model's price, or -1 when the price or the tokens are unknown. */
static double
metrics_cost(struct config *c, const struct session_msg *m)
{
	struct model *mod;

	if (m->provider == NULL || m->model == NULL || m->input_tokens < 0 || m->output_tokens < 0)
		return -1;
	mod = config_model_of(c, m->provider, m->model);
	if (mod == NULL || mod->price_input < 0 || mod->price_output < 0)
		return -1;
	return ((double)m->input_tokens * mod->price_input +
	    (double)m->output_tokens * mod->price_output) / 1e6;
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
	int unknown = 0;

	buf_printf(&b, "%-3s %-28s %7s %8s %7s %7s %8s  %s\n", "#", "model", "ttft", "duration",
	    "in", "out", "tok/s", "cost");
	for (i = 0; s != NULL && i < s->nmsgs; i++) {
		const struct session_msg *m = &s->msgs[i];
		double cost, tps = 0;
		char *model;

		if (m->role != ROLE_ASSISTANT)
			continue;
		replies++;
		model = xasprintf("%s/%s", m->provider ? m->provider : "?", m->model ? m->model : "?");
		buf_printf(&b, "%-3zu %-28.28s ", replies, model);
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
		if (m->output_tokens > 0 && m->ttft_ms >= 0 && m->duration_ms > m->ttft_ms)
			tps = (double)m->output_tokens * 1000.0 / (double)(m->duration_ms - m->ttft_ms);
		if (tps > 0)
			buf_printf(&b, " %8.1f  ", tps);
		else
			buf_printf(&b, " %8s  ", "-");
		cost = metrics_cost(c, m);
		if (cost >= 0) {
			buf_printf(&b, "$%.6f", cost);
			tcost += cost;
		} else {
			buf_puts(&b, "unknown");
			unknown = 1;
		}
		if (m->state == MSG_ERROR)
			buf_puts(&b, "  (failed)");
		else if (m->state == MSG_CANCELLED)
			buf_puts(&b, "  (cancelled)");
		else if (m->state == MSG_INTERRUPTED)
			buf_puts(&b, "  (interrupted)");
		buf_putc(&b, '\n');
		if (m->input_tokens > 0)
			tin += m->input_tokens;
		if (m->output_tokens > 0)
			tout += m->output_tokens;
		if (m->duration_ms > 0)
			tdur += m->duration_ms;
	}
	if (replies == 0) {
		buf_reset(&b);
		buf_puts(&b, "no replies in this session yet\n");
		return buf_detach(&b);
	}
	buf_printf(&b, "\nsession: %zu replies · %.2fs · %ld tokens in · %ld tokens out · cost ",
	    replies, (double)tdur / 1000.0, tin, tout);
	if (tcost > 0 || !unknown)
		buf_printf(&b, "$%.6f%s\n", tcost, unknown ? " + unknown (some models have no price)" : "");
	else
		buf_puts(&b, "unknown (no price in the config)\n");
	return buf_detach(&b);
}
