/*
 * The picker: one overlay list filtered as you type, for models, sessions, templates and
 * slash commands, and the help overlay too. The filter is a one-line field (the key table's
 * field context: printable keys type, Up/Down select, Enter picks, Esc closes); every key
 * refilters with the fuzzy matcher (fuzzy.h) and the rows shown highlight what matched.
 * The model picker merges the configured models and their aliases (with their context
 * window and prices per million tokens from the config) with what each provider's listing
 * (the worker's models job) returns as it arrives, and says which listing failed and why.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apierr.h"
#include "app.h"
#include "config.h"
#include "provider.h"
#include "slash.h"
#include "store.h"
#include "text.h"
#include "worker.h"
#include "wrap.h"
#include "xmalloc.h"

#define PICKER_HL 256      /* highlighted characters looked up per row */
#define PICKER_FAILED 3    /* rows given to listings that failed */

/* Forget the items, the filter and the listings asked for. */
void
picker_free(struct app *a)
{
	struct picker *p = &a->picker;
	size_t i;

	for (i = 0; i < p->n; i++) {
		free(p->items[i].text);
		free(p->items[i].detail);
		free(p->items[i].value);
		free(p->items[i].hay);
	}
	free(p->items);
	for (i = 0; i < p->nsections; i++)
		free(p->sections[i]);
	free(p->sections);
	for (i = 0; i < p->nfailed; i++)
		free(p->failed[i]);
	free(p->failed);
	free(p->hay);
	fuzzy_list_free(&p->fl);
	lineedit_free(&p->filter);
	memset(p, 0, sizeof *p);
}

/* Start an empty picker of kind over the panes (the help overlay for PICK_HELP). */
void
picker_open(struct app *a, enum picker_kind kind)
{
	picker_free(a);
	a->picker.kind = kind;
	lineedit_init(&a->picker.filter);
	fuzzy_list_init(&a->picker.fl, NULL, 0, 0);
	a->overlay = kind == PICK_HELP ? OVERLAY_HELP : OVERLAY_PICKER;
	a->dirty |= DIRTY_ALL;
}

/* Add a heading the help overlay groups items under; returns its index. */
int
picker_section(struct app *a, const char *heading)
{
	struct picker *p = &a->picker;

	p->sections = xrealloc(p->sections, (p->nsections + 1) * sizeof *p->sections);
	p->sections[p->nsections] = xstrdup(heading);
	return (int)p->nsections++;
}

/* Add an item (text and detail made one safe line each); a model already listed is not
 * listed twice. value NULL stands for the text. */
void
picker_add(struct app *a, const char *text, const char *detail, const char *value,
    int section)
{
	struct picker *p = &a->picker;
	struct pick_item *it;
	struct buf t = BUF_INIT, d = BUF_INIT;
	size_t i;

	if (value == NULL)
		value = text;
	if (p->kind == PICK_MODEL)
		for (i = 0; i < p->n; i++)
			if (strcmp(p->items[i].value, value) == 0)
				return;
	if (p->n == p->cap) {
		p->cap = p->cap ? p->cap * 2 : 32;
		p->items = xrealloc(p->items, p->cap * sizeof *p->items);
	}
	it = &p->items[p->n++];
	text_sanitize_line(text, strlen(text), &t);
	text_sanitize_line(detail != NULL ? detail : "", detail != NULL ? strlen(detail) : 0, &d);
	it->text = xstrdup(buf_str(&t));
	it->detail = xstrdup(buf_str(&d));
	it->value = xstrdup(value);
	it->hay = d.len > 0 ? xasprintf("%s %s", it->text, it->detail) : xstrdup(it->text);
	it->section = section;
	it->current = 0;
	buf_free(&t);
	buf_free(&d);
}

/* Keep the selection in the list. */
static void
picker_clamp(struct picker *p)
{
	if (p->sel >= (int)p->fl.norder)
		p->sel = (int)p->fl.norder - 1;
	if (p->sel < 0)
		p->sel = 0;
}

/* Select the item whose value is value, when it is shown. */
void
picker_select_value(struct app *a, const char *value)
{
	struct picker *p = &a->picker;
	size_t k;

	for (k = 0; k < p->fl.norder; k++)
		if (strcmp(p->items[p->fl.order[k]].value, value) == 0) {
			p->sel = (int)k;
			return;
		}
}

/* One shown item while the help overlay's matches are grouped: its section's rank (the
 * sections in the order of their best match), its place by score, and its score. */
struct pick_rank {
	size_t rank, place;
	size_t item;
	int score;
};

/* Order pick_ranks by section rank, then by score order. */
static int
picker_cmp_rank(const void *x, const void *y)
{
	const struct pick_rank *a = x, *b = y;

	if (a->rank != b->rank)
		return a->rank < b->rank ? -1 : 1;
	return a->place < b->place ? -1 : a->place > b->place;
}

/* Filter the items for the filter's text, best first; the help overlay keeps its items
 * under their headings: the sections in the order of their best match, each section's
 * items best first (with no filter, all in table order). */
static void
picker_update(struct picker *p)
{
	struct pick_rank *r;
	size_t *rank, next = 0, k;

	fuzzy_list_update(&p->fl, buf_str(&p->filter.text));
	if (p->kind != PICK_HELP || p->fl.norder == 0)
		return;
	rank = xcalloc(p->nsections + 1, sizeof *rank);
	r = xcalloc(p->fl.norder, sizeof *r);
	for (k = 0; k < p->fl.norder; k++) {
		int s = p->items[p->fl.order[k]].section;
		size_t si = s >= 0 ? (size_t)s + 1 : 0;

		if (rank[si] == 0)
			rank[si] = ++next;
		r[k].rank = rank[si];
		r[k].place = k;
		r[k].item = p->fl.order[k];
		r[k].score = p->fl.scores[k];
	}
	qsort(r, p->fl.norder, sizeof *r, picker_cmp_rank);
	for (k = 0; k < p->fl.norder; k++) {
		p->fl.order[k] = r[k].item;
		p->fl.scores[k] = r[k].score;
	}
	free(r);
	free(rank);
}

/* Filter again after the filter's text changed: the best match is selected. */
static void
picker_refilter(struct app *a)
{
	struct picker *p = &a->picker;

	picker_update(p);
	p->sel = 0;
	p->top = 0;
	a->dirty |= DIRTY_OVERLAY;
}

/* (Re)build the filtered list after items were added, keeping the selected item. */
void
picker_ready(struct app *a)
{
	struct picker *p = &a->picker;
	char *keep = NULL;
	size_t i;

	if (p->sel >= 0 && (size_t)p->sel < p->fl.norder)
		keep = xstrdup(p->items[p->fl.order[p->sel]].value);
	free(p->hay);
	p->hay = xcalloc(p->n ? p->n : 1, sizeof *p->hay);
	for (i = 0; i < p->n; i++)
		p->hay[i] = p->items[i].hay;
	fuzzy_list_free(&p->fl);
	fuzzy_list_init(&p->fl, p->hay, p->n, 0);
	picker_update(p);
	p->sel = 0;
	if (keep != NULL) {
		picker_select_value(a, keep);
		free(keep);
	}
	picker_clamp(p);
	a->dirty |= DIRTY_OVERLAY;
}

/* "128k", "1M", "1.05M": a token count in few characters. */
static void
picker_tokens(long n, char *out, size_t size)
{
	if (n >= 1000000 && n % 1000000 == 0)
		snprintf(out, size, "%ldM", n / 1000000);
	else if (n >= 1000000)
		snprintf(out, size, "%.2fM", (double)n / 1e6);
	else if (n >= 1000)
		snprintf(out, size, "%ldk", (n + 500) / 1000);
	else
		snprintf(out, size, "%ld", n);
}

/* "2.50", "0.075": a price with two decimals at least, three when it needs them. */
static void
picker_price(double v, char *out, size_t size)
{
	size_t n;

	snprintf(out, size, "%.3f", v);
	n = strlen(out);
	if (n > 0 && out[n - 1] == '0')
		out[n - 1] = '\0';
}

/* What the model picker says of a configured model: its provider and id, context window
 * and prices. */
static void
picker_model_detail(const struct model *m, struct buf *d)
{
	char t[32], in[32], out[32];

	buf_printf(d, "%s/%s", m->provider->name, m->id);
	if (m->context_window > 0) {
		picker_tokens(m->context_window, t, sizeof t);
		buf_printf(d, " · %s context", t);
	}
	if (m->price_input >= 0 && m->price_output >= 0) {
		picker_price(m->price_input, in, sizeof in);
		picker_price(m->price_output, out, sizeof out);
		buf_printf(d, " · $%s in, $%s out per Mtok", in, out);
	}
}

/* Mark the items that name the model in use and select the first. */
static void
picker_mark_current(struct app *a)
{
	struct picker *p = &a->picker;
	char *cur = xasprintf("%s/%s", a->prov->name, a->model);
	size_t i;

	for (i = 0; i < p->n; i++) {
		struct model *m = p->items[i].value[0] != '\0' && strchr(p->items[i].value, '/') ==
		    NULL ? config_model(a->cfg, p->items[i].value) : NULL;

		if (strcmp(p->items[i].value, cur) == 0 || (m != NULL && m->provider == a->prov &&
		    strcmp(m->id, a->model) == 0))
			p->items[i].current = 1;
	}
	free(cur);
}

/* The model picker: the configured models and aliases, then what each usable provider
 * lists as its listing comes in (picker_event). */
void
picker_models_open(struct app *a)
{
	struct picker *p;
	struct buf d = BUF_INIT, al = BUF_INIT;
	size_t i, k;
	int any = 0;

	picker_open(a, PICK_MODEL);
	p = &a->picker;
	for (i = 0; i < a->cfg->nmodels; i++) {
		const struct model *m = &a->cfg->models[i];

		if (m->provider == NULL)
			continue;
		buf_reset(&d);
		picker_model_detail(m, &d);
		picker_add(a, m->name, buf_str(&d), m->name, -1);
		for (k = 0; k < m->naliases; k++) {
			buf_reset(&al);
			buf_printf(&al, "alias of %s · %s", m->name, buf_str(&d));
			picker_add(a, m->aliases[k], buf_str(&al), m->aliases[k], -1);
		}
	}
	picker_mark_current(a);
	for (i = 0; i < p->n; i++)
		any |= p->items[i].current;
	if (!any) {
		char *cur = xasprintf("%s/%s", a->prov->name, a->model);

		picker_add(a, cur, "in use", cur, -1);
		p->items[p->n - 1].current = 1;
		free(cur);
	}
	buf_free(&d);
	buf_free(&al);
	for (i = 0; i < a->nprovs; i++) {
		if (!provider_usable(a->provs[i]) || p->nreq >= 32)
			continue;
		p->req_id[p->nreq] = worker_models(a->w, a->provs[i]);
		p->req_prov[p->nreq++] = a->provs[i]->name;
		p->pending++;
	}
	picker_ready(a);
	for (i = 0; i < p->fl.norder; i++)
		if (p->items[p->fl.order[i]].current) {
			p->sel = (int)i;
			break;
		}
}

/* Is id of provider prov a configured model (shown already under its name)? */
static int
picker_configured(struct app *a, const char *prov, const char *id)
{
	size_t i;

	for (i = 0; i < a->cfg->nmodels; i++) {
		const struct model *m = &a->cfg->models[i];

		if (m->provider != NULL && strcmp(m->provider->name, prov) == 0 &&
		    strcmp(m->id, id) == 0)
			return 1;
	}
	return 0;
}

/* A provider's model listing arrived: merge it in, or note that it failed. Returns 1
 * when ev was a listing (the picker's or a stale one). */
int
picker_event(struct app *a, struct wevent *ev)
{
	struct picker *p = &a->picker;
	const char *prov = NULL;
	struct buf id = BUF_INIT, d = BUF_INIT;
	size_t i;

	if (ev->type != WEV_MODELS)
		return 0;
	for (i = 0; i < p->nreq; i++)
		if (p->req_id[i] == ev->id)
			prov = p->req_prov[i];
	if (prov == NULL || p->kind != PICK_MODEL)
		return 1;
	p->pending--;
	for (i = 0; i < ev->models.n; i++) {
		const struct model_info *mi = &ev->models.v[i];
		char *spec;

		buf_reset(&id);
		text_sanitize_line(mi->id, strlen(mi->id), &id);
		if (picker_configured(a, prov, buf_str(&id)))
			continue;
		buf_reset(&d);
		if (mi->display_name != NULL && strcmp(mi->display_name, mi->id) != 0)
			buf_printf(&d, "%s · ", mi->display_name);
		if (mi->context_window > 0) {
			char t[32];

			picker_tokens(mi->context_window, t, sizeof t);
			buf_printf(&d, "%s context · ", t);
		}
		buf_printf(&d, "listed by %s", prov);
		spec = xasprintf("%s/%s", prov, buf_str(&id));
		picker_add(a, spec, buf_str(&d), spec, -1);
		free(spec);
	}
	if (ev->error != NULL) {
		char *why = apierr_format(ev->error);
		struct buf line = BUF_INIT;

		buf_printf(&line, "%s: cannot list models: %s", prov, why);
		p->failed = xrealloc(p->failed, (p->nfailed + 1) * sizeof *p->failed);
		p->failed[p->nfailed++] = buf_detach(&line);
		ui_note(a, 1, "%s: cannot list models: %s", prov, why);
		free(why);
	}
	buf_free(&id);
	buf_free(&d);
	picker_mark_current(a);
	picker_ready(a);
	return 1;
}

/* The template picker: every template of the config with its description. */
void
picker_templates_open(struct app *a)
{
	size_t i;

	if (a->cfg->ntemplates == 0) {
		ui_note(a, 1, "no templates in the config");
		return;
	}
	picker_open(a, PICK_TEMPLATE);
	for (i = 0; i < a->cfg->ntemplates; i++) {
		const struct template *t = &a->cfg->templates[i];

		picker_add(a, t->name, t->description ? t->description : "", t->name, -1);
	}
	picker_ready(a);
}

/* The session picker: every session that is not archived, newest first. */
void
picker_sessions_open(struct app *a)
{
	struct session_row *rows = NULL;
	size_t n = 0, i;

	if (a->st == NULL) {
		ui_note(a, 1, "no store: sessions are not saved");
		return;
	}
	if (store_sessions(a->st, &rows, &n, 0) != 0) {
		ui_note(a, 1, "cannot list the sessions: %s", store_error(a->st));
		return;
	}
	picker_open(a, PICK_SESSION);
	for (i = 0; i < n; i++) {
		struct buf d = BUF_INIT;
		char ago[32], id[32];

		if (rows[i].id == a->sl.undo_id)
			continue;
		session_row_label(&rows[i], &d);
		pane_sessions_ago(rows[i].updated, ago, sizeof ago);
		buf_printf(&d, "%s%s · %ld messages", d.len ? " · " : "", ago, rows[i].nmessages);
		snprintf(id, sizeof id, "%lld", (long long)rows[i].id);
		picker_add(a, rows[i].title && *rows[i].title ? rows[i].title : "(untitled)",
		    buf_str(&d), id, -1);
		a->picker.items[a->picker.n - 1].current = a->sess != NULL &&
		    a->sess->id == rows[i].id;
		buf_free(&d);
	}
	store_sessions_free(rows, n);
	picker_ready(a);
}

/* The slash command picker, its filter set to filter. */
void
picker_commands_open(struct app *a, const char *filter)
{
	size_t n, i;
	const struct slash_cmd *c = slash_table(&n);

	picker_open(a, PICK_COMMAND);
	for (i = 0; i < n; i++) {
		char *text = xasprintf("/%s%s%s", c[i].name, c[i].args[0] ? " " : "", c[i].args);
		char *value = xasprintf("/%s", c[i].name);

		picker_add(a, text, c[i].help, value, -1);
		free(text);
		free(value);
	}
	lineedit_set(&a->picker.filter, filter != NULL ? filter : "");
	picker_ready(a);
}

/* Run slash command value ("/name"), or put it in the input when it takes arguments. */
static void
picker_command(struct app *a, const char *value)
{
	size_t n, i;
	const struct slash_cmd *c = slash_table(&n);

	for (i = 0; i < n; i++) {
		if (strcmp(value + 1, c[i].name) != 0)
			continue;
		if (c[i].args[0] == '\0') {
			slash_run(a, value);
		} else {
			char *line = xasprintf("%s ", value);

			pane_input_set(&a->in, line);
			free(line);
			a->focus = FOCUS_INPUT;
			a->dirty |= DIRTY_ALL;
		}
		return;
	}
}

/* Act on the selected item and close the picker. */
static void
picker_choose(struct app *a)
{
	struct picker *p = &a->picker;
	enum picker_kind kind = p->kind;
	char *value;

	if (p->sel < 0 || (size_t)p->sel >= p->fl.norder) {
		if (kind == PICK_HELP) {
			a->overlay = OVERLAY_NONE;
			a->dirty |= DIRTY_ALL;
		}
		return;
	}
	value = xstrdup(p->items[p->fl.order[p->sel]].value);
	a->overlay = OVERLAY_NONE;
	a->dirty |= DIRTY_ALL;
	picker_free(a);
	if (kind == PICK_MODEL)
		ui_set_model(a, value);
	else if (kind == PICK_TEMPLATE)
		form_open(a, config_template(a->cfg, value));
	else if (kind == PICK_SESSION)
		ui_open_session(a, (int64_t)strtoll(value, NULL, 10));
	else if (value[0] == '/')
		picker_command(a, value);
	free(value);
}

/* Move the selection by delta items. */
static void
picker_move(struct app *a, int delta)
{
	a->picker.sel += delta;
	picker_clamp(&a->picker);
	a->dirty |= DIRTY_OVERLAY;
}

/* An action of the field context while a picker is open; 1 when it was the picker's. */
int
picker_action(struct app *a, enum action act)
{
	struct picker *p = &a->picker;

	if (a->overlay != OVERLAY_PICKER && a->overlay != OVERLAY_HELP)
		return 0;
	switch (act) {
	case ACT_SEL_PREV:
	case ACT_SEL_NEXT:
		picker_move(a, act == ACT_SEL_PREV ? -1 : 1);
		return 1;
	case ACT_OPEN:
		picker_choose(a);
		return 1;
	case ACT_CLOSE:
	case ACT_CANCEL:
	case ACT_HELP:
		a->overlay = OVERLAY_NONE;
		a->dirty |= DIRTY_ALL;
		picker_free(a);
		return 1;
	default:
		break;
	}
	if (lineedit_action(&p->filter, act, &a->in.kill)) {
		picker_refilter(a);
		return 1;
	}
	return 0;
}

/* Type n bytes into the filter. */
void
picker_insert(struct app *a, const char *s, size_t n)
{
	lineedit_insert(&a->picker.filter, s, n);
	picker_refilter(a);
}

/* PgUp (dir -1) or PgDn (dir 1): a screen of items. */
void
picker_page(struct app *a, int dir)
{
	picker_move(a, dir * (a->picker.rows > 1 ? a->picker.rows - 1 : 1));
}

/* The rows the list shows, into rows (2 * norder + 1 entries): k >= 0 for shown item k,
 * -1 - s for the heading of section s (the help overlay heads each group). */
static size_t
picker_rows(const struct picker *p, int *rows)
{
	size_t k, n = 0;
	int last = -1;

	for (k = 0; k < p->fl.norder; k++) {
		int s = p->items[p->fl.order[k]].section;

		if (s >= 0 && s != last)
			rows[n++] = -1 - s;
		last = s;
		rows[n++] = (int)k;
	}
	return n;
}

/* Bytes a and b share at their start. */
static size_t
picker_common(const char *a, const char *b)
{
	size_t i = 0;

	while (a[i] != '\0' && a[i] == b[i])
		i++;
	return i;
}

/* Where shown item k's text (detail 0) or detail (1) stops sharing its start with the rows
 * around it: the last separator before the first difference (0 when none is shared). */
static size_t
picker_keep(const struct picker *p, size_t k, int detail)
{
	const struct pick_item *it = &p->items[p->fl.order[k]];
	const char *s = detail ? it->detail : it->text;
	size_t keep = 0, c;

	if (k > 0) {
		const struct pick_item *o = &p->items[p->fl.order[k - 1]];

		keep = picker_common(s, detail ? o->detail : o->text);
	}
	if (k + 1 < p->fl.norder) {
		const struct pick_item *o = &p->items[p->fl.order[k + 1]];

		if ((c = picker_common(s, detail ? o->detail : o->text)) > keep)
			keep = c;
	}
	if (keep >= strlen(s))
		return strlen(s);
	while (keep > 0 && strchr("/-_.:@ ", s[keep]) == NULL)
		keep--;
	return keep;
}

/* Draw item k of the shown list on row y, the text in tw columns and the detail after. */
static void
picker_draw_item(struct app *a, int y, size_t k, int tw, int w)
{
	struct picker *p = &a->picker;
	const struct pick_item *it = &p->items[p->fl.order[k]];
	int sel = (int)k == p->sel;
	unsigned at = theme_attr(sel ? THEME_SELECTED : THEME_OVERLAY, 0);
	unsigned hl = sel ? theme_attr(THEME_SELECTED, THEME_BOLD | THEME_UNDERLINE) :
	    theme_attr(THEME_MATCH, 0);
	unsigned kat = p->kind == PICK_HELP ? theme_attr(sel ? THEME_SELECTED : THEME_OVERLAYKEY,
	    0) : at | (unsigned)A_BOLD;
	size_t pos[PICKER_HL], npos = 0, tlen = strlen(it->text), keep;
	struct buf b = BUF_INIT;
	const char *mark = it->current ? "▸" : " ";
	int dw = w - 6 - tw;

	fuzzy_match(buf_str(&p->filter.text), it->hay, strlen(it->hay), pos, PICKER_HL, &npos);
	if (sel)
		draw_fill(a->wover, y, 1, w - 2, " ", at);
	wmove(a->wover, y, 1);
	draw_text(a->wover, mark, strlen(mark), at, 1);
	/* A model's name too long loses its middle and keeps what tells it from the rows
	 * around it; its detail, from there on. */
	if (p->kind == PICK_MODEL && (keep = picker_keep(p, k, 0)) < tlen)
		text_fit_middle(it->text, tlen, tw, keep, &b);
	else
		text_fit_end(it->text, tlen, tw, &b);
	draw_text_marked(a->wover, it->text, tlen, &b, 0, pos, npos, kat, hl, tw);
	if (dw > 0 && it->detail[0] != '\0') {
		const char *d = it->detail;
		size_t dn = strlen(d);

		wmove(a->wover, y, 4 + tw);
		keep = 0;
		if (p->kind == PICK_MODEL && wrap_width(d, dn) > dw &&
		    (keep = picker_keep(p, k, 1)) > 0 && keep < dn && dw > 1) {
			draw_text(a->wover, "…", strlen("…"), at, 1);
			dw--;
		} else {
			keep = 0;
		}
		buf_reset(&b);
		text_fit_end(d + keep, dn - keep, dw, &b);
		draw_text_marked(a->wover, d + keep, dn - keep, &b, tlen + 1 + keep, pos, npos,
		    at, hl, dw);
	}
	buf_free(&b);
}

/* The title of the picker's frame. */
static const char *
picker_title(const struct picker *p)
{
	switch (p->kind) {
	case PICK_MODEL: return " choose a model ";
	case PICK_TEMPLATE: return " choose a template ";
	case PICK_SESSION: return " open a session ";
	case PICK_COMMAND: return " slash commands ";
	default: return " natter keys and commands ";
	}
}

/* The footer: the keys that pick, close and move, as the key table binds them. */
static void
picker_foot(const struct app *a, struct buf *f)
{
	char open[32], close[32], up[32], down[32];

	keys_first(KCTX_FIELD, ACT_OPEN, open, sizeof open);
	keys_first(KCTX_FIELD, ACT_CLOSE, close, sizeof close);
	keys_first(KCTX_FIELD, ACT_SEL_PREV, up, sizeof up);
	keys_first(KCTX_FIELD, ACT_SEL_NEXT, down, sizeof down);
	buf_puts(f, " type to filter");
	if (up[0] && down[0])
		buf_printf(f, " · %s/%s select", up, down);
	if (open[0])
		buf_printf(f, " · %s %s", open, a->picker.kind == PICK_TEMPLATE ? "fills it in" :
		    a->picker.kind == PICK_HELP ? "runs a command" : "picks");
	if (close[0])
		buf_printf(f, " · %s closes", close);
	if (a->picker.pending)
		buf_puts(f, " · listing models…");
	buf_putc(f, ' ');
}

/* Draw the picker: the filter, the rows that match with what matched highlighted, the
 * listings that failed, and the cursor in the filter. */
void
picker_draw(struct app *a)
{
	struct picker *p = &a->picker;
	struct buf foot = BUF_INIT, count = BUF_INIT;
	int h, w, y, avail, tw = 8, nfail, *rows, selrow = 0, cx;
	size_t nrows, i, left;
	const char *ftext;

	overlay_window(a, &h, &w);
	picker_foot(a, &foot);
	overlay_frame(a, h, w, picker_title(p), buf_str(&foot));
	buf_free(&foot);
	/* The filter on the first row, with how many items match. */
	buf_printf(&count, "%zu/%zu", p->fl.norder, p->n);
	wmove(a->wover, 1, 2);
	draw_text(a->wover, "› ", strlen("› "), theme_attr(THEME_PROMPT, 0), 2);
	left = lineedit_scroll(&p->filter, 0, w - 8 - (int)count.len);
	ftext = buf_str(&p->filter.text);
	if (p->filter.text.len == 0)
		draw_text(a->wover, "type to filter", 14, theme_attr(THEME_HINT, 0), w - 8);
	else
		draw_text(a->wover, ftext + left, p->filter.text.len - left,
		    theme_attr(THEME_INPUT, 0), w - 8 - (int)count.len);
	wmove(a->wover, 1, w - 2 - (int)count.len);
	draw_text(a->wover, count.data, count.len, theme_attr(THEME_HINT, 0), (int)count.len);
	buf_free(&count);
	cx = 4 + wrap_width(ftext + left, p->filter.cur - left);
	/* The listings that failed take the last rows. */
	nfail = (int)(p->nfailed < PICKER_FAILED ? p->nfailed : PICKER_FAILED);
	avail = h - 3 - nfail;
	if (avail < 1)
		avail = 1;
	p->rows = avail;
	for (i = 0; i < p->fl.norder; i++) {
		int tw1 = wrap_width(p->items[p->fl.order[i]].text,
		    strlen(p->items[p->fl.order[i]].text));

		if (tw1 > tw)
			tw = tw1;
	}
	if (tw > w / 2 - 4)
		tw = w / 2 - 4;
	if (tw < 4)
		tw = 4;
	rows = xcalloc(2 * p->fl.norder + 1, sizeof *rows);
	nrows = picker_rows(p, rows);
	for (i = 0; i < nrows; i++)
		if (rows[i] == p->sel)
			selrow = (int)i;
	if (selrow < p->top)
		p->top = selrow;
	/* A heading just above the selection comes into view with it. */
	if (selrow == p->top && selrow > 0 && rows[selrow - 1] < 0)
		p->top = selrow - 1;
	if (selrow >= p->top + avail)
		p->top = selrow - avail + 1;
	if (p->top < 0)
		p->top = 0;
	for (y = 2, i = (size_t)p->top; i < nrows && y < 2 + avail; i++, y++) {
		if (rows[i] < 0) {
			const char *hd = p->sections[-1 - rows[i]];

			wmove(a->wover, y, 2);
			draw_text(a->wover, hd, strlen(hd), theme_attr(THEME_HEADING, THEME_BOLD),
			    w - 4);
			continue;
		}
		picker_draw_item(a, y, (size_t)rows[i], tw, w);
	}
	if (p->fl.norder == 0) {
		const char *none = p->n == 0 && p->pending ? "listing…" : "nothing matches";

		wmove(a->wover, 2, 4);
		draw_text(a->wover, none, strlen(none), theme_attr(THEME_HINT, 0), w - 6);
	}
	free(rows);
	for (i = 0; (int)i < nfail; i++) {
		const char *f = p->failed[p->nfailed - (size_t)nfail + i];

		wmove(a->wover, h - 1 - nfail + (int)i, 2);
		draw_text(a->wover, "⚠ ", strlen("⚠ "), theme_attr(THEME_WARNING, 0), 2);
		draw_text(a->wover, f, strlen(f), theme_attr(THEME_WARNING, 0), w - 6);
	}
	wmove(a->wover, 1, cx < w - 2 ? cx : w - 2);
	wnoutrefresh(a->wover);
}

/* A click (button 0) or the wheel (64 up, 65 down) at screen cell (y, x) while the picker
 * is open: a click selects a row, a click on the selected row picks it, a click outside
 * closes the picker. Returns 1 when it was the picker's. */
int
picker_click(struct app *a, int y, int x, int button)
{
	struct picker *p = &a->picker;
	int by, bx, h, w, *rows, r;
	size_t nrows;

	if (a->wover == NULL)
		return 0;
	getbegyx(a->wover, by, bx);
	getmaxyx(a->wover, h, w);
	if (button == 64 || button == 65) {
		picker_move(a, button == 64 ? -3 : 3);
		return 1;
	}
	if (button != 0)
		return 1;
	if (y < by || y >= by + h || x < bx || x >= bx + w) {
		a->overlay = OVERLAY_NONE;
		a->dirty |= DIRTY_ALL;
		picker_free(a);
		return 1;
	}
	r = p->top + (y - by) - 2;
	if (y - by < 2 || y - by >= 2 + p->rows)
		return 1;
	rows = xcalloc(2 * p->fl.norder + 1, sizeof *rows);
	nrows = picker_rows(p, rows);
	if (r >= 0 && (size_t)r < nrows && rows[r] >= 0) {
		if (rows[r] == p->sel) {
			free(rows);
			picker_choose(a);
			return 1;
		}
		p->sel = rows[r];
		a->dirty |= DIRTY_OVERLAY;
	}
	free(rows);
	return 1;
}
