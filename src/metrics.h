/* The figures of a session's replies (/metrics): model, timings, tokens, speed and cost. */
#ifndef NATTER_METRICS_H
#define NATTER_METRICS_H

struct buf;
struct config;
struct session;
struct session_msg;

/* A plain-text report, one reply per line and the session totals at the end; costs come
 * from the config's prices and say "unknown" for a model without one. Caller frees. */
char *metrics_report(const struct session *s, struct config *c);
/* The same report fitted to width columns (0: the plain report above): columns as wide as
 * their figures, a long model name cut in its middle, the least telling figures (duration,
 * ttft, tokens in, rate) left out when still too wide, and the totals wrapped at their
 * " · " fields. */
char *metrics_report_fit(const struct session *s, struct config *c, int width);
/* One reply's figures on one line, as a comparison column's footer shows them:
 * "ttft 0.42s · 85.3 tok/s · 120 tok · $0.001200"; "-" for what is unknown ("~40 tok" for
 * an uncounted reply with text: the estimate from it), and the cost only when the model has
 * a price and the provider sent token counts. */
void metrics_reply_line(const struct session_msg *m, struct config *c, struct buf *out);
/* Append untrusted s as one terminal-safe line in exactly cols terminal columns: padded
 * with spaces, or cut at a character boundary with an ellipsis (for aligned tables). */
void metrics_cell(struct buf *b, const char *s, int cols);

#endif
