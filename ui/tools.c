/*
 * Tool calls in the interface. The MCP servers of the config are the toolbox of the main
 * conversation's turns (toolset.h): they start once the first frame is up and are polled in
 * the UI loop with everything else, so nothing here wakes natter while they are idle. Each
 * call is one line of the transcript, drawn from its ROLE_TOOL_CALL message, the ROLE_TOOL
 * message of its result and, while the turn runs, the turn's own state of it: name, main
 * argument, state and duration; Enter or t expands it into its arguments and result. A call
 * that is on no allow list asks in the status line, with the bell: y runs it once, a runs
 * it and every later call of that tool until natter quits, n refuses it with a reason typed
 * in the input (the model is told), e opens its arguments in $EDITOR, Esc cancels the turn.
 * /tools lists the servers and their tools. Whatever a tool, a server or a model wrote is
 * untrusted and sanitized before it is drawn.
 */
#include <poll.h>
#include <stdlib.h>
#include <string.h>

#include <cJSON.h>

#include "app.h"
#include "config.h"
#include "mcp.h"
#include "toolset.h"
#include "wrap.h"
#include "xmalloc.h"

/* Lines of arguments or of a result an expanded call shows before "N more lines". */
#define TOOLS_CAP_LINES 10
/* Screen rows one long line of them may take before it is cut. */
#define TOOLS_LINE_ROWS 3
#define TOOLS_TITLE " tools (Esc closes) "

/* Start the config's MCP servers in the background; nothing when it has none. */
void
tools_start(struct app *a)
{
	if (a->cfg == NULL || a->cfg->nmcp_servers == 0)
		return;
	a->tools.ts = toolset_new(a->cfg, NULL, 0, a->w);
	toolset_start(a->tools.ts);
	a->tools.pool_gen = mcp_pool_generation(toolset_pool(a->tools.ts));
}

/* Stop the servers and forget everything (after the last turn was freed). */
void
tools_free(struct app *a)
{
	size_t i;

	toolset_free(a->tools.ts);
	for (i = 0; i < a->tools.nallow; i++)
		free(a->tools.allow[i]);
	free(a->tools.allow);
	free(a->tools.draft);
	free(a->tools.edited);
	free(a->tools.seen);
	memset(&a->tools, 0, sizeof a->tools);
}

/* The toolbox for the next turn of the main conversation, NULL while no tool is ready. */
const struct turn_toolbox *
tools_box(struct app *a)
{
	return a->tools.ts != NULL ? toolset_box(a->tools.ts) : NULL;
}

/* The servers' descriptors for the loop's poll. */
size_t
tools_pollfds(struct app *a, struct pollfd *fds, size_t max)
{
	return toolset_pollfds(a->tools.ts, fds, max);
}

/* Fold the servers' next timer into the loop's timeout t (ms, -1: none). */
int64_t
tools_timeout(struct app *a, int64_t t)
{
	int d = a->tools.ts != NULL ? toolset_timeout(a->tools.ts) : -1;

	if (d >= 0 && (t < 0 || d < t))
		t = d;
	return t;
}

/* Say in the status line that a server failed or exited (once per change of state). */
static void
tools_server_news(struct app *a)
{
	struct mcp_pool *pool = toolset_pool(a->tools.ts);
	struct mcp_server_info info;
	size_t i, n = mcp_pool_count(pool);

	if (a->tools.nseen < n) {
		a->tools.seen = xrealloc(a->tools.seen, n * sizeof *a->tools.seen);
		for (i = a->tools.nseen; i < n; i++)
			a->tools.seen[i] = MCP_STOPPED;
		a->tools.nseen = n;
	}
	for (i = 0; i < n; i++) {
		if (mcp_pool_info(pool, i, &info) != 0 || (int)info.state == a->tools.seen[i])
			continue;
		a->tools.seen[i] = (int)info.state;
		if (info.state == MCP_FAILED || info.state == MCP_EXITED)
			ui_note(a, 1, "MCP server %s: %s (/tools lists the servers)", info.name,
			    info.error != NULL ? info.error : mcp_state_name(info.state));
	}
}

/* Let the servers work after poll; results reach the turn from here. */
void
tools_process(struct app *a, const struct pollfd *fds, size_t n)
{
	uint64_t gen;

	if (a->tools.ts == NULL)
		return;
	toolset_process(a->tools.ts, fds, n);
	gen = mcp_pool_generation(toolset_pool(a->tools.ts));
	if (gen == a->tools.pool_gen)
		return;
	a->tools.pool_gen = gen;
	tools_server_news(a);
	/* An open /tools shows the new states. */
	if (a->overlay == OVERLAY_TEXT && a->text.title != NULL &&
	    strcmp(a->text.title, TOOLS_TITLE) == 0) {
		int top = a->over_top;

		tools_overlay(a);
		a->over_top = top;
	}
	a->dirty |= DIRTY_STATUS;
}

/* Whether t is a live turn of the shown session. */
static int
tools_live(const struct app *a, const struct turn *t)
{
	return t != NULL && !t->done && t->sess == a->sess;
}

/* Whether t has a call in state st. */
static int
tools_has(const struct turn *t, enum turn_call_state st)
{
	size_t k;

	for (k = 0; k < t->ncalls; k++)
		if (t->calls[k].state == st)
			return 1;
	return 0;
}

/* The live turn of the shown session a question or a key is about, or NULL: the main
 * conversation's, or in comparison mode the first column whose call asks (then the first
 * whose call runs, then the first live one), so questions come one at a time, in column
 * order. */
static struct turn *
tools_turn(const struct app *a)
{
	struct turn *live[1 + COMPARE_MAX];
	size_t n = 0, i;
	int c;

	if (tools_live(a, a->turn))
		live[n++] = a->turn;
	for (c = 0; c < a->cmp.n && c < COMPARE_MAX; c++)
		if (tools_live(a, a->cmp.col[c].turn))
			live[n++] = a->cmp.col[c].turn;
	for (i = 0; i < n; i++)
		if (tools_has(live[i], CALL_ASKING))
			return live[i];
	for (i = 0; i < n; i++)
		if (tools_has(live[i], CALL_RUNNING))
			return live[i];
	return n > 0 ? live[0] : NULL;
}

/* The turn whose calls message i belongs to: a compared reply's column's, else the main
 * one (tools_call_state looks a live call's state up in it). */
static const struct turn *
tools_msg_turn(const struct app *a, const struct session_msg *m)
{
	if (m->slot >= 0 && m->slot < a->cmp.n && m->slot < COMPARE_MAX)
		return a->cmp.col[m->slot].turn;
	return a->turn;
}

/* The first call of the round waiting for the user, or -1. */
static long
tools_asked(const struct app *a)
{
	struct turn *t = tools_turn(a);
	size_t k;

	for (k = 0; t != NULL && k < t->ncalls; k++)
		if (t->calls[k].state == CALL_ASKING)
			return (long)k;
	return -1;
}

/* True while a call of the round waits for the user or runs. */
int
tools_waiting(const struct app *a)
{
	struct turn *t = tools_turn(a);
	size_t k;

	for (k = 0; t != NULL && k < t->ncalls; k++)
		if (t->calls[k].state == CALL_ASKING || t->calls[k].state == CALL_RUNNING)
			return 1;
	return 0;
}

/* True when the user allowed name until natter quits. */
static int
tools_allowed(const struct app *a, const char *name)
{
	size_t i;

	for (i = 0; i < a->tools.nallow; i++)
		if (strcmp(a->tools.allow[i], name) == 0)
			return 1;
	return 0;
}

/* A call changed state or asks: draw it, and ring once the question is up. */
void
tools_update(struct app *a, struct turn *t, unsigned what, size_t k)
{
	(void)t;
	(void)k;
	if (what & TURN_APPROVE)
		a->tools.ring = 1;
	pane_transcript_sync(a);
	a->dirty |= DIRTY_TRANSCRIPT | DIRTY_STATUS;
}

/* The turn is over: a tool loop natter stopped (the repeat guard, the round cap) says so
 * under its last call, where the user looks. */
void
tools_complete(struct app *a, struct turn *t)
{
	size_t i;

	if (t->sess != a->sess || t->round == 0 || t->note == NULL || t->state == MSG_CANCELLED)
		return;
	for (i = a->sess->nmsgs; i > 0; i--) {
		struct session_msg *m = &a->sess->msgs[i - 1];

		/* A column's last call, past the other columns' messages. */
		if (m->role == ROLE_TOOL ||
		    (t->spec.column >= 0 && m->slot != t->spec.column && m->role != ROLE_USER))
			continue;
		if (m->role != ROLE_TOOL_CALL)
			return;
		free(m->notice);
		m->notice = xstrdup(t->note);
		m->gen++;
		a->dirty |= DIRTY_TRANSCRIPT;
		return;
	}
}

/* Give the input back the draft it had before a reason was typed there. */
static void
tools_reason_end(struct app *a)
{
	if (!a->tools.reason)
		return;
	a->tools.reason = 0;
	pane_input_set(&a->in, a->tools.draft != NULL ? a->tools.draft : "");
	free(a->tools.draft);
	a->tools.draft = NULL;
	a->dirty |= DIRTY_INPUT | DIRTY_STATUS;
}

/* After every loop turn: run the calls of tools allowed until natter quits, drop a
 * question that is no longer open, ring the bell for a new one. */
void
tools_tick(struct app *a)
{
	struct turn *t;
	long k;
	size_t i;
	int c;

	/* Every live turn's: the main one and each column's. */
	for (c = -1; c < a->cmp.n && c < COMPARE_MAX; c++) {
		t = c < 0 ? a->turn : a->cmp.col[c].turn;
		for (i = 0; tools_live(a, t) && i < t->ncalls; i++)
			if (t->calls[i].state == CALL_ASKING &&
			    tools_allowed(a, t->calls[i].name)) {
				turn_approve(t, i, 1, NULL, NULL);
				a->dirty |= DIRTY_TRANSCRIPT | DIRTY_STATUS;
			}
	}
	t = tools_turn(a);
	if (a->tools.reason && (t == NULL || a->tools.reason_k >= t->ncalls ||
	    t->calls[a->tools.reason_k].state != CALL_ASKING))
		tools_reason_end(a);
	k = tools_asked(a);
	if (a->tools.edited != NULL && (k < 0 || t->calls[k].msg != a->tools.edited_msg)) {
		free(a->tools.edited);
		a->tools.edited = NULL;
	}
	if (a->tools.ring && k >= 0)
		beep();
	a->tools.ring = 0;
}

/* Arguments as the editor shows them: indented JSON, or the text itself when it is not
 * JSON. */
static char *
tools_pretty(const char *args)
{
	cJSON *j = cJSON_Parse(args != NULL ? args : "{}");
	struct buf b = BUF_INIT;
	char *s, *p;

	if (j == NULL)
		return xstrdup(args != NULL ? args : "");
	if (cJSON_IsObject(j) && j->child == NULL) {
		cJSON_Delete(j);
		return xstrdup("{}");
	}
	s = cJSON_Print(j);
	cJSON_Delete(j);
	if (s == NULL)
		return xstrdup(args);
	for (p = s; *p != '\0'; p++) {
		/* Raw tabs are layout (a string's are escaped): two spaces each to indent, one
		 * after a name. */
		if (*p == '\t')
			buf_puts(&b, p == s || p[-1] == '\n' || p[-1] == '\t' ? "  " : " ");
		else
			buf_putc(&b, *p);
	}
	cJSON_free(s);
	return buf_detach(&b);
}

/* e: edit call k's arguments in $EDITOR and run it with them; text that is not one JSON
 * object is said so and kept for the next e, and the question stays. */
static void
tools_edit(struct app *a, long k)
{
	struct turn *t = tools_turn(a);
	struct turn_call *c = &t->calls[k];
	char *start, *out = NULL, *err = NULL, *compact;
	cJSON *j;

	start = a->tools.edited != NULL && a->tools.edited_msg == c->msg ?
	    xstrdup(a->tools.edited) : tools_pretty(c->args);
	if (editor_run_as(a, start, ".json", &out, &err) != 0) {
		ui_note(a, 1, "%s", err);
		free(err);
		free(start);
		return;
	}
	free(start);
	/* No event was handled while the editor ran: the call still asks. */
	j = cJSON_ParseWithOpts(out, NULL, 1);
	if (j == NULL || !cJSON_IsObject(j)) {
		cJSON_Delete(j);
		free(a->tools.edited);
		a->tools.edited = out;
		a->tools.edited_msg = c->msg;
		ui_note(a, 1, "not one JSON object: e edits it again, y runs the call as it was");
		return;
	}
	compact = cJSON_PrintUnformatted(j);
	cJSON_Delete(j);
	free(out);
	free(a->tools.edited);
	a->tools.edited = NULL;
	turn_approve(t, (size_t)k, 1, compact, NULL);
	ui_note(a, 0, "running %s with the edited arguments", c->name);
	cJSON_free(compact);
}

/* The answer to the question of call k of the round, by action; 0 when act is none. */
static int
tools_answer(struct app *a, enum action act, long k)
{
	struct turn *t = tools_turn(a);
	char *name = xstrdup(t->calls[k].name);

	switch (act) {
	case ACT_APPROVE_ONCE:
		turn_approve(t, (size_t)k, 1, NULL, NULL);
		break;
	case ACT_APPROVE_ALWAYS:
		a->tools.allow = xrealloc(a->tools.allow, (a->tools.nallow + 1) *
		    sizeof *a->tools.allow);
		a->tools.allow[a->tools.nallow++] = xstrdup(name);
		toolset_allow(a->tools.ts, name);
		turn_approve(t, (size_t)k, 1, NULL, NULL);
		ui_note(a, 0, "%s runs without asking until natter quits", name);
		break;
	case ACT_APPROVE_REFUSE:
		free(a->tools.draft);
		a->tools.draft = xstrdup(buf_str(&a->in.ed.text));
		pane_input_set(&a->in, "");
		a->tools.reason = 1;
		a->tools.reason_k = (size_t)k;
		a->focus = FOCUS_INPUT;
		break;
	case ACT_APPROVE_EDIT:
		tools_edit(a, k);
		break;
	default:
		free(name);
		return 0;
	}
	free(name);
	a->dirty |= DIRTY_ALL;
	return 1;
}

/* True while a draft is being written in the input. */
static int
tools_typing(const struct app *a)
{
	return a->focus == FOCUS_INPUT && a->in.ed.text.len > 0;
}

/* A key while a call asks, or while its refusal's reason is typed: 1 when it was the
 * question's (then *act is what the interface still runs, ACT_NONE for nothing). */
int
tools_key(struct app *a, unsigned k, enum action *act)
{
	struct turn *t = tools_turn(a);
	long asked;

	*act = ACT_NONE;
	if (a->tools.reason && t != NULL) {
		enum action in = keys_lookup(KCTX_INPUT, k);

		if (in == ACT_CANCEL) {
			tools_reason_end(a);
			return 1;
		}
		if (in != ACT_SEND || a->focus != FOCUS_INPUT)
			return 0;
		{
			char *reason = xstrdup(buf_str(&a->in.ed.text));
			size_t rk = a->tools.reason_k;

			tools_reason_end(a);
			turn_approve(t, rk, 0, NULL, reason);
			ui_note(a, 0, "refused: the model is told why");
			free(reason);
		}
		a->dirty |= DIRTY_ALL;
		return 1;
	}
	/* Typing is not answering: the question takes its keys from an empty input or in
	 * another pane, so a word typed as the question comes up is not an answer. */
	if ((asked = tools_asked(a)) < 0 || tools_typing(a))
		return 0;
	*act = keys_lookup(KCTX_APPROVE, k);
	if (*act == ACT_NONE)
		return 0;
	if (tools_answer(a, *act, asked))
		*act = ACT_NONE;
	return 1;
}

/* The first key bound to act in the approval context, into out. */
static void
tools_keyname(enum action act, char *out, size_t size)
{
	keys_for_action(KCTX_APPROVE, act, out, size);
	out[strcspn(out, ",")] = '\0';
	if (out[0] == '\0')
		snprintf(out, size, "(%s)", keys_action_name(act));
}

/* What the status line says about the round: the question of a call that asks (asking
 * set), the reason being typed, or the calls that run. 0 when there is nothing to say. */
int
tools_status(const struct app *a, struct tools_line *l)
{
	struct turn *t = tools_turn(a);
	char y[32], al[32], n[32], e[32], esc[32];
	size_t k, running = 0, first = 0;
	long asked;

	l->asking = 0;
	if (t == NULL)
		return 0;
	if (a->tools.reason && a->tools.reason_k < t->ncalls) {
		l->asking = 1;
		buf_printf(&l->what, "⚙ refuse %s: type why in the input",
		    t->calls[a->tools.reason_k].name);
		buf_puts(&l->keys, "Enter tells the model · Esc goes back");
		return 1;
	}
	if ((asked = tools_asked(a)) >= 0) {
		l->asking = 1;
		buf_printf(&l->what, "⚙ run %s", t->calls[asked].name);
		tools_main_arg(t->calls[asked].args, &l->arg);
		tools_keyname(ACT_APPROVE_ONCE, y, sizeof y);
		tools_keyname(ACT_APPROVE_ALWAYS, al, sizeof al);
		tools_keyname(ACT_APPROVE_REFUSE, n, sizeof n);
		tools_keyname(ACT_APPROVE_EDIT, e, sizeof e);
		tools_keyname(ACT_CANCEL, esc, sizeof esc);
		buf_printf(&l->keys, "%s%s once · %s always · %s refuse · %s edit · %s cancels",
		    tools_typing(a) ? "Tab, then " : "", y, al, n, e, esc);
		return 1;
	}
	for (k = 0; k < t->ncalls; k++)
		if (t->calls[k].state == CALL_RUNNING && running++ == 0)
			first = k;
	if (running == 0)
		return 0;
	buf_printf(&l->what, "running %s", t->calls[first].name);
	if (running > 1)
		buf_printf(&l->what, " and %zu more", running - 1);
	tools_main_arg(t->calls[first].args, &l->arg);
	return 1;
}

/* The argument a call line shows (see app.h). */
void
tools_main_arg(const char *args, struct buf *out)
{
	cJSON *j = cJSON_Parse(args != NULL ? args : ""), *c;
	char *s;

	buf_reset(out);
	if (j == NULL) {
		if (args != NULL)
			text_sanitize_line(args, strlen(args), out);
		return;
	}
	for (c = cJSON_IsObject(j) ? j->child : NULL; c != NULL; c = c->next)
		if (cJSON_IsString(c) && c->valuestring != NULL) {
			text_sanitize_line(c->valuestring, strlen(c->valuestring), out);
			cJSON_Delete(j);
			return;
		}
	if (!cJSON_IsObject(j) || j->child != NULL) {
		s = cJSON_PrintUnformatted(j);
		if (s != NULL)
			text_sanitize_line(s, strlen(s), out);
		cJSON_free(s);
	}
	cJSON_Delete(j);
}

/* How a stored result ended: what turn-tools.c writes for a refusal or a cancel. */
static const char *
tools_stored_state(const struct session_msg *r)
{
	const char *text = buf_str(&r->content);

	if (!r->tool_error)
		return turn_call_state_name(CALL_OK);
	if (strncmp(text, "the user refused this call", 26) == 0)
		return turn_call_state_name(CALL_REFUSED);
	if (strncmp(text, "the user cancelled this call", 28) == 0 ||
	    strncmp(text, "natter stopped the tool loop", 28) == 0)
		return turn_call_state_name(CALL_CANCELLED);
	return turn_call_state_name(CALL_ERROR);
}

/* How call message i stands (see app.h). */
const char *
tools_call_state(const struct session *s, size_t i, const struct turn *t, long *res,
    long *duration_ms)
{
	const struct session_msg *m = &s->msgs[i];
	size_t j, k;

	*res = -1;
	*duration_ms = -1;
	/* Its result is among the calls and results that follow it; in a comparison the
	 * columns' messages interleave, so another column's are passed over. */
	for (j = i + 1; j < s->nmsgs; j++) {
		const struct session_msg *r = &s->msgs[j];

		if (m->slot >= 0 && r->slot != m->slot && r->role != ROLE_USER)
			continue;
		if (r->role != ROLE_TOOL && r->role != ROLE_TOOL_CALL)
			break;
		if (r->role == ROLE_TOOL && r->tool_id != NULL && m->tool_id != NULL &&
		    strcmp(r->tool_id, m->tool_id) == 0) {
			*res = (long)j;
			break;
		}
	}
	/* A finished turn's calls all have results: its state is the stored one. */
	for (k = 0; t != NULL && !t->done && t->sess == s && k < t->ncalls; k++)
		if (t->calls[k].msg == i) {
			*duration_ms = t->calls[k].duration_ms;
			return turn_call_state_name(t->calls[k].state);
		}
	if (*res < 0)
		return "pending";
	*duration_ms = s->msgs[*res].duration_ms;
	return tools_stored_state(&s->msgs[*res]);
}

/* Add a block of the expanded call: a label, then the first lines of text (sanitized
 * here), each cut to a few rows, and how many more there are. */
static void
tools_block(struct tview *v, int width, const char *label, const char *text)
{
	struct rtext line;
	struct buf clean = BUF_INIT, cut = BUF_INIT;
	const char *p;
	size_t shown = 0, more = 0;
	int room = TOOLS_LINE_ROWS * (width - 6 > 8 ? width - 6 : 8);

	rtext_init(&line);
	rtext_span(&line, label, strlen(label), THEME_META, THEME_BOLD);
	rtext_add(&v->extra, width, "    ", "    ", THEME_META, &line, -1);
	text_sanitize(text, strlen(text), &clean);
	p = buf_str(&clean);
	if (*p == '\0')
		p = "(empty)";
	while (*p != '\0') {
		size_t n = strcspn(p, "\n");

		if (shown < TOOLS_CAP_LINES) {
			buf_reset(&cut);
			text_fit_end(p, n, room, &cut);
			rtext_clear(&line);
			rtext_span(&line, buf_str(&cut), cut.len, THEME_TEXT, 0);
			rtext_add(&v->extra, width, "    │ ", "    │ ", THEME_META, &line, -1);
			shown++;
		} else {
			more++;
		}
		p += n;
		if (*p == '\n')
			p++;
	}
	if (more > 0) {
		char note[64];

		snprintf(note, sizeof note, "… %zu more line%s", more, more == 1 ? "" : "s");
		rtext_clear(&line);
		rtext_span(&line, note, strlen(note), THEME_HINT, 0);
		rtext_add(&v->extra, width, "    ", "    ", THEME_HINT, &line, -1);
	}
	rtext_free(&line);
	buf_free(&clean);
	buf_free(&cut);
}

/* Bring the cache of tool message i up to date at width; its own line count: a call's
 * line, its expansion and its notice; none for a result (its call shows it). */
long
tools_view(struct app *a, long i, int width)
{
	struct session_msg *m = &a->sess->msgs[i];
	struct tview *v = &a->views[i];
	long res, dur;
	unsigned rgen;
	char *args;

	if (m->role == ROLE_TOOL) {
		v->nlines = 0;
		return 0;
	}
	tools_call_state(a->sess, (size_t)i, tools_msg_turn(a, m), &res, &dur);
	rgen = res >= 0 ? a->sess->msgs[res].gen : 0;
	if (v->valid && v->gen == m->gen && v->width == width && v->tool_res == res &&
	    v->tool_gen == rgen)
		return v->nlines;
	rtext_clear(&v->extra);
	if (v->tool_open) {
		args = tools_pretty(buf_str(&m->content));
		tools_block(v, width, "arguments", args);
		free(args);
		tools_block(v, width, "result", res >= 0 ? buf_str(&a->sess->msgs[res].content) :
		    "(none yet)");
	}
	if (m->notice != NULL) {
		struct rtext b;

		rtext_init(&b);
		rtext_span(&b, m->notice, strlen(m->notice), THEME_WARNING, 0);
		rtext_add(&v->extra, width, "  ⚠ ", "    ", THEME_WARNING, &b, -1);
		rtext_free(&b);
	}
	v->nlines = 1 + (long)v->extra.nlines;
	v->gen = m->gen;
	v->width = width;
	v->tool_res = res;
	v->tool_gen = rgen;
	v->valid = 1;
	return v->nlines;
}

/* The colour of a state word. */
static unsigned int
tools_state_attr(const char *st)
{
	if (strcmp(st, "ok") == 0)
		return theme_attr(THEME_ASSISTANT, 0);
	if (strcmp(st, "error") == 0)
		return theme_attr(THEME_ERROR, 0);
	if (strcmp(st, "awaiting approval") == 0)
		return theme_attr(THEME_WARNING, THEME_BOLD | THEME_REVERSE);
	if (strcmp(st, "refused") == 0 || strcmp(st, "cancelled") == 0)
		return theme_attr(THEME_WARNING, 0);
	return theme_attr(THEME_HINT, 0);
}

/* Draw the one line of call i: "⚙ name  argument · state · duration", fitted to w. */
static void
tools_call_line(struct app *a, int y, int x, int w, long i)
{
	struct session_msg *m = &a->sess->msgs[i];
	int sel = a->focus == FOCUS_TRANSCRIPT && a->sel_msg == i;
	struct text_field f[4];
	struct buf name = BUF_INIT, arg = BUF_INIT, dur = BUF_INIT;
	unsigned int at[4], meta = theme_attr(sel ? THEME_SELECTED : THEME_META, 0);
	const char *st;
	long res, ms;
	size_t k, n = 0;

	st = tools_call_state(a->sess, (size_t)i, tools_msg_turn(a, m), &res, &ms);
	text_line(&name, m->tool_name != NULL ? m->tool_name : "?");
	tools_main_arg(buf_str(&m->content), &arg);
	if (ms >= 1000)
		buf_printf(&dur, "%.1fs", (double)ms / 1000.0);
	else if (ms >= 0)
		buf_printf(&dur, "%ld ms", ms);
	memset(f, 0, sizeof f);
	/* The state goes last of all, the argument first; the name loses its middle. */
	f[n] = (struct text_field){ buf_str(&name), "", 0, 3, TEXT_CUT_MIDDLE, (size_t)-1,
	    BUF_INIT };
	at[n++] = theme_attr(THEME_TEXT, THEME_BOLD);
	if (arg.len > 0) {
		f[n] = (struct text_field){ buf_str(&arg), "  ", 0, 1, TEXT_CUT_END, 0, BUF_INIT };
		at[n++] = theme_attr(THEME_META, 0);
	}
	f[n] = (struct text_field){ st, " · ", 0, 4, TEXT_CUT_NONE, 0, BUF_INIT };
	at[n++] = tools_state_attr(st);
	if (dur.len > 0) {
		f[n] = (struct text_field){ buf_str(&dur), " · ", 0, 2, TEXT_CUT_NONE, 0, BUF_INIT };
		at[n++] = theme_attr(THEME_META, 0);
	}
	if (sel)
		draw_fill(a->wtrans, y, x, w, " ", theme_attr(THEME_SELECTED, 0));
	wmove(a->wtrans, y, x);
	/* A column's call says which column it is: "  2 ⚙ ". */
	if (m->slot >= 0 && m->slot < 9) {
		char pre[16];

		snprintf(pre, sizeof pre, "  %d ⚙ ", m->slot + 1);
		draw_text(a->wtrans, pre, strlen(pre), meta, w);
		text_fit_fields(f, n, w - 6);
	} else {
		draw_text(a->wtrans, "  ⚙ ", strlen("  ⚙ "), meta, w);
		text_fit_fields(f, n, w - 4);
	}
	for (k = 0; k < n; k++) {
		const struct buf *o = &f[k].out;
		size_t sep = strlen(f[k].sep);

		if (o->len > 0) {
			/* The separator in the line's colour, the field in its own. */
			if (o->len < sep || strncmp(o->data, f[k].sep, sep) != 0)
				sep = 0;
			draw_text(a->wtrans, o->data, sep, meta, -1);
			draw_text(a->wtrans, o->data + sep, o->len - sep, sel ?
			    theme_attr(THEME_SELECTED, THEME_BOLD) : at[k], -1);
		}
		buf_free(&f[k].out);
	}
	buf_free(&name);
	buf_free(&arg);
	buf_free(&dur);
}

/* Draw line `line` of tool message i at (y, x), at most w columns wide. */
void
tools_draw_line(struct app *a, int y, int x, int w, long i, long line)
{
	struct tview *v = &a->views[i];

	if (a->sess->msgs[i].role != ROLE_TOOL_CALL)
		return;
	if (line == 0)
		tools_call_line(a, y, x, w, i);
	else if (line - 1 < (long)v->extra.nlines)
		pane_transcript_rline(a, y, x, &v->extra, (size_t)(line - 1), w);
}

/* Enter or t on call message i: show or hide its arguments and result; 0 when i is no
 * call. */
int
tools_toggle(struct app *a, long i)
{
	if (a->sess == NULL || i < 0 || i >= (long)a->nviews ||
	    a->sess->msgs[i].role != ROLE_TOOL_CALL)
		return 0;
	a->views[i].tool_open = !a->views[i].tool_open;
	a->views[i].valid = 0;
	a->dirty |= DIRTY_TRANSCRIPT;
	/* Keep the call's own line in view above what it grew by. */
	if (a->sel_msg == i)
		pane_transcript_select(a, 0);
	return 1;
}

/* /tools: every server with its state (and what went wrong), then every tool offered,
 * marked when it runs without asking. */
void
tools_overlay(struct app *a)
{
	struct buf b = BUF_INIT, line = BUF_INIT;
	struct mcp_server_info info;
	const struct mcp_tool *mt;
	struct mcp_pool *pool;
	size_t i, n;
	int cols = overlay_text_cols(a);

	if (a->tools.ts == NULL) {
		overlay_text_open(a, TOOLS_TITLE, "The configuration has no MCP servers.\n\n"
		    "Add them under mcp_servers: in natter.yaml (see natter.yaml(5), MCP SERVERS);\n"
		    "their tools are then offered to the model in every conversation.");
		return;
	}
	pool = toolset_pool(a->tools.ts);
	buf_puts(&b, "MCP servers\n");
	for (i = 0; i < mcp_pool_count(pool); i++) {
		if (mcp_pool_info(pool, i, &info) != 0)
			continue;
		buf_reset(&line);
		buf_printf(&line, "  %s: %s", info.name, mcp_state_name(info.state));
		if (info.state == MCP_READY)
			buf_printf(&line, ", %zu tool%s", info.ntools, info.ntools == 1 ? "" : "s");
		if (info.server_name != NULL)
			buf_printf(&line, " (%s %s)", info.server_name,
			    info.server_version != NULL ? info.server_version : "");
		if (info.error != NULL)
			buf_printf(&line, ": %s", info.error);
		text_sanitize_line(line.data, line.len, &b);
		buf_putc(&b, '\n');
	}
	mt = mcp_pool_tools(pool, &n);
	buf_printf(&b, "\nTools (✓ runs without asking; the others ask first)\n");
	if (n == 0)
		buf_puts(&b, "  none ready yet\n");
	for (i = 0; i < n; i++) {
		struct buf desc = BUF_INIT, fit = BUF_INIT;
		const char *d = mt[i].description != NULL ? mt[i].description : "";
		int allowed = mt[i].allowed || tools_allowed(a, mt[i].fqname);

		text_sanitize_line(d, strcspn(d, "\n"), &desc);
		buf_reset(&line);
		text_sanitize_line(mt[i].fqname, strlen(mt[i].fqname), &line);
		buf_printf(&b, "  %s %-28s ", allowed ? "✓" : " ", buf_str(&line));
		if (cols > 36)
			text_fit_end(buf_str(&desc), desc.len, cols - 34, &fit);
		buf_puts(&b, buf_str(&fit));
		buf_putc(&b, '\n');
		buf_free(&desc);
		buf_free(&fit);
	}
	overlay_text_open(a, TOOLS_TITLE, b.data);
	buf_free(&b);
	buf_free(&line);
}
