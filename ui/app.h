/*
 * The state of the interface, shared by the ui/ modules. The UI thread owns all of it:
 * the worker only ever hands over events through its queue. Handlers change this state
 * and set dirty bits; ui.c draws what is dirty once per loop turn.
 */
#ifndef NATTER_APP_H
#define NATTER_APP_H

#include <curses.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "fuzzy.h"
#include "keys.h"
#include "lineedit.h"
#include "markdown.h"
#include "semantic.h"
#include "session.h"
#include "termreport.h"
#include "text.h"
#include "theme.h"
#include "turn.h"
#include "usage.h"

struct apierr;
struct attach;
struct config;
struct model;
struct template;
struct toolset;
struct wevent;
struct provider;
struct store;
struct worker;

/* Dirty bits: which panes need drawing. */
#define DIRTY_SESSIONS 1u
#define DIRTY_TRANSCRIPT 2u
#define DIRTY_INPUT 4u
#define DIRTY_STATUS 8u
#define DIRTY_OVERLAY 16u
#define DIRTY_LAYOUT 32u
#define DIRTY_COMPARE 64u   /* the comparison's column headers and footers */
#define DIRTY_ALL 127u

enum focus { FOCUS_INPUT, FOCUS_TRANSCRIPT, FOCUS_SESSIONS };

/* Notes that say something is under way, dropped from the status line once it is over. */
enum note_kind { NOTE_PLAIN, NOTE_CANCELLING, NOTE_EDITING, NOTE_CONFIRM };

enum overlay { OVERLAY_NONE, OVERLAY_HELP, OVERLAY_PICKER, OVERLAY_FORM, OVERLAY_TEXT };

/* The render cache of one message: wrapped lines per width, redone only when it changed. */
struct tview {
	unsigned gen;        /* session_msg.gen it was built from */
	int width;
	int reason_open;     /* reasoning shown expanded */
	int view_mark;       /* built with the "the model sees from here" rule below it */
	int valid;
	struct markdown body;
	struct markdown reason;
	struct rtext extra;  /* state lines: cancelled, truncated, error, waiting */
	long nlines;         /* header + reasoning + body + extra + separator */
	int code_next;       /* copy-code cycles through the code blocks */
	int tool_open;       /* a tool call: its arguments and result shown */
	long tool_res;       /* a tool call: the index of the result it was built with, or -1 */
	unsigned tool_gen;   /* ... and that result's generation */
};

struct input {
	struct lineedit ed;  /* the draft and its cursor */
	int top;             /* first visible row */
	char *kill;          /* the last cut text, for yank (the form's fields share it) */
	char **hist;         /* sent messages, oldest first */
	size_t nhist, caphist;
	size_t hpos;         /* == nhist when editing a new draft */
	char *draft;         /* the new draft while browsing history */
	int pasting;         /* inside a bracketed paste */
	int rows;            /* rows wanted at the current width */
};

/* What a picker lists (picker.c); the help overlay is one too. */
enum picker_kind { PICK_MODEL, PICK_TEMPLATE, PICK_SESSION, PICK_COMMAND, PICK_HELP };

/* One row of a picker: its text (matched and highlighted, with the detail after it) and
 * what choosing it means. */
struct pick_item {
	char *text;
	char *detail;
	char *value;         /* "provider/model", a template or command name, a session id */
	char *hay;           /* text and detail, what the filter matches */
	int section;         /* the help overlay: index of its heading, -1 none */
	int current;         /* the model or session in use */
};

/* A list filtered as you type (one for models, sessions, templates, slash commands and the
 * help overlay): the filter is a one-line field of the key table's field context. */
struct picker {
	enum picker_kind kind;
	struct pick_item *items;
	size_t n, cap;
	char **sections;     /* PICK_HELP: the headings items point to */
	size_t nsections;
	const char **hay;    /* items' hay, for fl */
	struct fuzzy_list fl;
	struct lineedit filter;
	int sel, top;        /* sel: index into fl.order; top: first row shown */
	int pending;         /* model listings still outstanding */
	uint64_t req_id[32]; /* listing requests and the provider each one asked */
	const char *req_prov[32];
	size_t nreq;
	char **failed;       /* "provider: why" of each listing that failed */
	size_t nfailed;
	int rows;            /* rows of items the last frame showed, for paging */
};

/* The session list (pane-sessions.c): which sessions it lists, the filter and search of
 * `/`, a title being renamed, and a deletion that can still be undone. */
struct slist {
	int archived;            /* listing the archived sessions */
	int field;               /* the search field takes the keys */
	int load_all;            /* it was opened over the first rows: load the rest */
	struct lineedit query;   /* the filter; the list is filtered while it is not empty */
	const char **titles;     /* rows' titles, for fl */
	struct fuzzy_list fl;
	int fl_ready;
	struct message_row *hits; /* full-text hits of the query (nall of them) */
	size_t nall;
	size_t *hit;             /* those in the listed sessions, nhits of them */
	size_t nhits;
	int64_t search_at;       /* when the message search for the query starts, 0: not due */
	struct store_searching *searching; /* the message search under way, a piece a turn */
	int64_t search_t0;       /* when it started (us) */
	long search_work;        /* microseconds spent on it, in search_pieces pieces */
	int search_pieces;
	size_t nrows_all;        /* rows held (a deletion still to be undone is past nrows) */
	int renaming;            /* the selected row's title is being edited */
	int64_t rename_id;
	struct lineedit title;
	int64_t undo_id;         /* a deleted session not yet deleted in the store, 0: none */
	int64_t undo_until;      /* when it is */
	char *undo_title;
};

/* The /template form: one single-line field per variable of the template. */
struct form {
	char *tname;
	char **names;        /* NULL-terminated, from template_vars */
	struct lineedit *vals;
	size_t *left;        /* first byte each field shows, scrolled to keep its cursor in view */
	int *required;       /* the variable has no default */
	size_t n;
	int cur;
	char *err;           /* what the last submit lacked, or NULL */
};

/* A read-only text overlay (/metrics, config errors) the user scrolls and dismisses. */
struct textview {
	char *title;
	char **lines;
	size_t n;
};

/* Side-by-side comparison: up to COMPARE_MAX columns, none narrower than COMPARE_MIN_W. */
#define COMPARE_MAX 4
#define COMPARE_MIN_W 20

/* One column of a comparison: its model and the turn streaming its reply. */
struct compare_col {
	struct provider *prov;   /* borrowed from the config */
	char *model;             /* the id sent */
	struct turn *turn;       /* the reply in flight (or just finished), NULL when none */
};

/* Comparison mode: each prompt goes to every column's model at once. */
struct compare {
	int n;                   /* columns; 0 when comparison mode is off */
	size_t from;             /* the comparison's first prompt in sess->msgs */
	int head_h, foot_h;      /* rows of the header and footer windows (0 when too short) */
	struct compare_col col[COMPARE_MAX];
};

/* The tool calls of the main conversation (tools.c): the MCP servers and the question a
 * call waiting for approval asks. */
struct tools_ui {
	struct toolset *ts;      /* NULL when the config has no mcp_servers: */
	int reason;              /* a refusal's reason is being typed in the input */
	size_t reason_k;         /* ... for this call of the turn's round */
	char *draft;             /* the input's draft, put back once the reason is sent */
	char *edited;            /* the last edit of the arguments that was no JSON object */
	size_t edited_msg;       /* ... of the call with this message */
	char **allow;            /* tools the user allowed until natter quits (a) */
	size_t nallow;
	int ring;                /* a call asked for approval: ring the bell */
	uint64_t pool_gen;       /* the servers' generation last seen */
	int *seen;               /* each server's state last seen (enum mcp_state) */
	size_t nseen;
};

/* What the status line says about the tool calls of the round (tools_status). */
struct tools_line {
	int asking;              /* a question: the line is the question alone */
	struct buf what;         /* "⚙ run NAME", "running NAME" */
	struct buf arg;          /* the call's main argument, or "" */
	struct buf keys;         /* the answers and their keys, or "" */
};

/* /transcribe: the transcription under way (ui/dictate.c). */
struct dictate {
	uint64_t id;             /* its fetch, 0 when none */
	struct provider *prov;   /* borrowed from the config */
	char *file;              /* as typed, for the notes */
};

struct app {
	/* Back end. */
	struct worker *w;
	struct config *cfg;
	struct store *st;
	struct semantic_ix *six;     /* embeds new messages when idle (embedding_model) */
	char *store_err;         /* why the store could not be opened, NULL when it is open */
	int64_t persist_at;      /* when to try the store again (persist.c), 0: nothing to retry */
	int persist_delay;       /* the current wait between tries, ms */
	int64_t persist_confirm; /* when dropping an unsaved conversation was refused once */
	int persist_shown;       /* the status line shows NOT SAVED */
	struct provider **provs;
	size_t nprovs;
	struct provider *prov;   /* points into provs */
	char *model;
	struct session *sess;
	struct tview *views;     /* one per message of sess, in step with sess->msgs */
	size_t nviews;
	size_t views_front;      /* free slots before views[0] (older pages go there) */
	size_t hist_from;        /* where the open session's prompts begin in the input's history */
	int count_failed;        /* counting the open session's messages not loaded failed */
	struct {                 /* the status line's sums of the loaded messages up to n */
		const struct session *s;
		size_t n;
		int64_t first_id, first_at, last_id, last_at;
		long tokens;
		double cost;
		long known;
	} sums;

	/* Session list. */
	struct session_row *rows;
	size_t nrows;
	int sel_row, top_row;    /* sel_row: an entry of the list as shown (filtered: the
	                          * matching sessions, then the search hits) */
	int64_t del_id;          /* the session D asked about, 0 when no question is open */
	struct slist sl;

	/* Streaming: the reply of the main conversation is a turn (src/turn.h), which owns
	 * its worker stream, retries, fallbacks and figures; these are what the next message
	 * carries for itself only (a template's system prompt and parameters, a summary). */
	struct turn_env env;
	struct turn *turn;       /* NULL when no reply streams */
	char *msg_system;
	struct params msg_params;
	int msg_summary;
	struct buf scratch;
	int64_t edit_from;       /* message id being edited and resent, 0 when none */
	struct attach **pend;    /* files for the next message (attach.c), in order */
	size_t npend;
	struct params sess_params; /* /set: this session's parameters */

	/* Last turn figures. */
	long last_ttft_ms, last_tokens;
	double last_tps;

	/* Comparison mode. */
	struct compare cmp;

	/* Tool calls and MCP servers. */
	struct tools_ui tools;

	/* /transcribe. */
	struct dictate dict;

	/* Screen. */
	WINDOW *wsess, *wtrans, *winput, *wstatus, *wover;
	WINDOW *wchead, *wcfoot;  /* the comparison's headers and footers, NULL when off */
	WINDOW *wbanner;          /* the "not saved" warning bar, NULL when all is stored */
	int banner;               /* rows laid out for it (0 or 1) */
	int lines, cols;
	int sess_w, show_sessions, sess_visible;
	int trans_x, trans_w, trans_h, input_h;
	enum focus focus;
	enum overlay overlay;
	int over_top;
	struct picker picker;
	struct form form;
	struct textview text;
	unsigned dirty;
	int64_t last_draw;
	int reply_ended;     /* a reply ended since the last frame (its frame is logged) */
	int index_due;       /* replies wait to be indexed for search (persist_index) */
	int use_color;
	int mouse;
	int term_focused;        /* the terminal says it has focus (CSI ? 1004), 1 until told */
	int notify_method;       /* enum config_notify, auto resolved (notify.c) */
	struct theme theme;
	int hyperlinks;          /* links drawn as OSC 8 hyperlinks (term.c) */
	int sync;                /* TERM_SYNC_*: synchronized output around frames */
	int frame_links;         /* the transcript was drawn this frame: its links go out */

	/* Transcript view. */
	int follow;              /* stick to the bottom */
	long top_msg, top_line;  /* first line shown when not following */
	long sel_msg;            /* selected message when the transcript is focused */
	int reasoning_all_open;
	int64_t open_t0;         /* ui_now_us() when a session began opening, 0 once drawn */

	struct input in;

	/* Transient status message. */
	char *note;
	int note_kind;           /* NOTE_*: a note about something under way, cleared when it ends */
	int note_error;
	int64_t note_until;
	int64_t last_interrupt;

	int quit;
};

/* paging.c: a long session opened in part. */
/* Make s the open session: its text cleaned, its prompts in the input's history, the
 * pages loaded later in front handled as they come. */
void paging_adopt(struct app *a, struct session *s);
/* How many messages opening a session loads: a screenful at least. */
size_t paging_page(const struct app *a);
/* Load the rest of the open session (before a reply: its request holds the whole path). */
void paging_whole(struct app *a);
/* Whether the open session has messages not loaded that are not counted yet; count a
 * step more of them. */
int paging_counting(const struct app *a);
void paging_count_step(struct app *a);
/* Note the ids a reload from message i on keeps (the first message, message i - 1), and
 * after it clean and drop the caches from i on, or of all of it when they changed. */
void paging_marks(const struct session *s, size_t i, int64_t mark[2]);
void paging_reloaded(struct app *a, size_t i, const int64_t mark[2]);

/* ui.c */
/* Sanitize a loaded message's text in place: stored text may come from anywhere. */
void ui_clean_buf(struct buf *b);
int64_t ui_now_ms(void);
int64_t ui_now_us(void);
void ui_note(struct app *a, int error, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
void ui_note_drop(struct app *a, enum note_kind kind);
void ui_send(struct app *a, const char *text);
void ui_regenerate(struct app *a);
/* Show the alternative before (dir -1) or after (1) the selected message (else the last
 * one that has alternatives), with the newest line of messages after it. */
void ui_switch_alt(struct app *a, int dir);
/* Start a new session from message i (-1: the last), sharing the history up to it. */
void ui_fork(struct app *a, long i);
int ui_new_session(struct app *a);
void ui_open_session(struct app *a, int64_t id);
void ui_reload_sessions(struct app *a);
void ui_set_model(struct app *a, const char *spec);
void ui_send_template(struct app *a, const struct template *t, char *system, char *user);
void ui_summarize(struct app *a);
int ui_params(struct app *a, const struct model *m, struct params *out, char **err);
struct model *ui_model(struct app *a, const struct provider *p, const char *model);
void ui_suspend_curses(struct app *a);
void ui_resume_curses(struct app *a);
void ui_layout(struct app *a);
int ui_copy(struct app *a, const char *what, const char *text, size_t n);
int ui_busy(const struct app *a);
int ui_streaming(const struct app *a);
struct provider *ui_model_resolve(struct app *a, const char *spec, const char **model_out,
    char **why);
struct provider *ui_provider(struct app *a, const char *name);

/* draw.c */
void draw_text(WINDOW *w, const char *s, size_t n, unsigned int attr, int maxw);
void draw_fill(WINDOW *w, int y, int x, int n, const char *cell, unsigned int attr);
void draw_text_marked(WINDOW *w, const char *s, size_t n, const struct buf *shown,
    size_t base, const size_t *pos, size_t npos, unsigned at, unsigned hl, int width);

/* pane-transcript.c */
void pane_transcript_reset(struct app *a);
void pane_transcript_sync(struct app *a);
long pane_transcript_lines(struct app *a, long i);
void pane_transcript_draw(struct app *a);
void pane_transcript_scroll(struct app *a, long delta);
void pane_transcript_top(struct app *a);
void pane_transcript_bottom(struct app *a);
void pane_transcript_select(struct app *a, long delta);
void pane_transcript_toggle_reasoning(struct app *a, long i);
void pane_transcript_show(struct app *a, long i);
long pane_transcript_at(struct app *a, int y, int x, long *line);
void pane_transcript_blocks(struct app *a, long *top, long *bottom);
/* The session loaded k older messages before its first (session.h's prepended): every
 * index the interface holds moves up by k. */
void pane_transcript_prepended(struct app *a, size_t k);
/* Load at least n of the session's messages before the first loaded one (0: a page, as
 * many as the screen has rows; SIZE_MAX: all the rest); how many, 0 when none or on
 * failure (said in the status line). */
long pane_transcript_older(struct app *a, size_t n);
/* Forget the caches of messages i and after (they were loaded again) and follow the end. */
void pane_transcript_drop_from(struct app *a, size_t i);
void pane_transcript_free(struct app *a);
void pane_transcript_rline(struct app *a, int y, int x, const struct rtext *r, size_t line,
    int maxw);

/* pane-compare.c */
void pane_compare_command(struct app *a, const char *args);
void pane_compare_stop(struct app *a, int quiet);
void pane_compare_send(struct app *a, const char *text);
int pane_compare_event(struct app *a, struct wevent *ev);
int pane_compare_cancel(struct app *a);
int pane_compare_busy(const struct app *a);
int pane_compare_waiting(const struct app *a);
void pane_compare_pick(struct app *a, int col);
void pane_compare_pick_selected(struct app *a);
void pane_compare_retry(struct app *a, int col);
void pane_compare_retry_selected(struct app *a);
void pane_compare_restore(struct app *a);
void pane_compare_draw(struct app *a);
int pane_compare_fit(const struct app *a, int n, int c, int *x, int *w);
void pane_compare_free(struct app *a);
void pane_compare_reply_name(const struct session *s, size_t i, struct buf *b);

/* dictate.c */
void dictate_start(struct app *a, const char *args);
int dictate_event(struct app *a, const struct wevent *ev);
void dictate_free(struct app *a);

/* pane-input.c */
void pane_input_init(struct input *in);
void pane_input_free(struct input *in);
void pane_input_set(struct input *in, const char *text);
void pane_input_insert(struct input *in, const char *s, size_t n);
int pane_input_action(struct app *a, enum action act);
int pane_input_rows(struct input *in, int width);
void pane_input_draw(struct app *a);
void pane_input_history_add(struct input *in, const char *text);
/* Insert older prompts texts[0..n) at position pos of the history (a long session's
 * page loaded before the prompts it had). */
void pane_input_history_insert(struct input *in, size_t pos, const char *const *texts,
    size_t n);

/* pane-sessions.c */
void pane_sessions_reload(struct app *a);
void pane_sessions_ago(int64_t t, char *out, size_t size);
void pane_sessions_draw(struct app *a);
void pane_sessions_cursor(struct app *a);
void pane_sessions_select(struct app *a, int delta);
void pane_sessions_delete(struct app *a);
int pane_sessions_confirm(struct app *a, unsigned k);
int pane_sessions_editing(const struct app *a);
int pane_sessions_action(struct app *a, enum action act);
void pane_sessions_insert(struct app *a, const char *s, size_t n);
void pane_sessions_open_selected(struct app *a);
int pane_sessions_click(struct app *a, int y, int x, int button);
int64_t pane_sessions_timeout(const struct app *a, int64_t t);
void pane_sessions_tick(struct app *a, int quitting);
void pane_sessions_free(struct app *a);

/* persist.c */
const char *persist_problem(const struct app *a);
int persist_banner_rows(const struct app *a);
void persist_start(struct app *a);
int persist_retry(struct app *a);
void persist_tick(struct app *a);
void persist_index(struct app *a);
int64_t persist_timeout(const struct app *a, int64_t t);
void persist_before_send(struct app *a);
int persist_may_drop(struct app *a);
void persist_quit(struct app *a);
void persist_draw(struct app *a);

/* status.c */
void status_draw(struct app *a);
void status_figures(struct app *a);

/* overlay-help.c */
void overlay_window(struct app *a, int *h, int *w);
void overlay_frame(struct app *a, int h, int w, const char *title, const char *foot);
void overlay_help_open(struct app *a, int commands);
void overlay_text_open(struct app *a, const char *title, const char *text);
/* Columns a line of the text overlay has at the present size of the screen. */
int overlay_text_cols(const struct app *a);
void overlay_text_draw(struct app *a);
void overlay_text_free(struct app *a);

/* picker.c */
void picker_open(struct app *a, enum picker_kind kind);
void picker_add(struct app *a, const char *text, const char *detail, const char *value,
    int section);
int picker_section(struct app *a, const char *heading);
void picker_ready(struct app *a);
void picker_select_value(struct app *a, const char *value);
void picker_models_open(struct app *a);
void picker_templates_open(struct app *a);
void picker_sessions_open(struct app *a);
void picker_commands_open(struct app *a, const char *filter);
int picker_event(struct app *a, struct wevent *ev);
int picker_action(struct app *a, enum action act);
void picker_insert(struct app *a, const char *s, size_t n);
void picker_page(struct app *a, int dir);
void picker_draw(struct app *a);
int picker_click(struct app *a, int y, int x, int button);
void picker_free(struct app *a);

/* mouse.c */
void mouse_event(struct app *a, int button, int x, int y, int press);

/* notify.c */
void notify_init(struct app *a);
void notify_reply_done(struct app *a, const struct turn *t);
void notify_exit_print(struct app *a);

/* form.c */
void form_open(struct app *a, const struct template *t);
int form_action(struct app *a, enum action act);
void form_insert(struct app *a, const char *s, size_t n);
void form_draw(struct app *a);
void form_free(struct app *a);

/* editor.c */
int editor_run(struct app *a, const char *text, char **out, char **err);
int editor_run_as(struct app *a, const char *text, const char *suffix, char **out,
    char **err);

/* term.c */
enum { TERM_SYNC_OFF, TERM_SYNC_ON, TERM_SYNC_ASK };
void term_setup(struct app *a);
void term_query(struct app *a);
void term_answer(struct app *a, unsigned key);
void term_frame_begin(struct app *a);
void term_frame_end(struct app *a);
void term_note_link(struct app *a, int y, int x, const struct rseg *sg, const struct rtext *r,
    int maxw);

/* keyread.c */
void keyread_define(void);
size_t keyread_all(unsigned *keys, size_t max);
int keyread_mouse_next(struct termreport_mouse *m);
size_t keyread_utf8(unsigned cp, char out[4]);
int keyread_printable(unsigned k);

/* clip.c */
/* How a copy went: sent to the terminal, or found in tmux's newest buffer. */
enum clip_how { CLIP_SENT, CLIP_TMUX_KEPT };
int clip_copy(const char *text, size_t n, char **why, char **err);
void clip_copy_selected(struct app *a, int code);

/* tools.c */
struct pollfd;
void tools_start(struct app *a);
void tools_free(struct app *a);
const struct turn_toolbox *tools_box(struct app *a);
size_t tools_pollfds(struct app *a, struct pollfd *fds, size_t max);
int64_t tools_timeout(struct app *a, int64_t t);
void tools_process(struct app *a, const struct pollfd *fds, size_t n);
void tools_update(struct app *a, struct turn *t, unsigned what, size_t k);
void tools_complete(struct app *a, struct turn *t);
void tools_tick(struct app *a);
int tools_waiting(const struct app *a);
int tools_key(struct app *a, unsigned k, enum action *act);
int tools_status(const struct app *a, struct tools_line *l);
long tools_view(struct app *a, long i, int width);
void tools_draw_line(struct app *a, int y, int x, int w, long i, long line);
int tools_toggle(struct app *a, long i);
void tools_overlay(struct app *a);
/* How call message i of s stands: its state word, its result's index (-1: none) and its
 * duration (-1: unknown), from the live turn t when it holds the call (t may be NULL). */
const char *tools_call_state(const struct session *s, size_t i, const struct turn *t,
    long *res, long *duration_ms);
/* The argument a call line shows: the first string argument of args, else args itself
 * when it has any ("" when none), as one line. */
void tools_main_arg(const char *args, struct buf *out);

/* attach.c */
void attach_pending_add(struct app *a, struct attach *f);
void attach_pending_clear(struct app *a);
void attach_pending_edit(struct app *a, const struct session_msg *m);
int attach_pending_rows(const struct app *a, int max);
void attach_pending_draw(struct app *a, int y, int rows, int width);
int attach_scan(struct app *a, const char *text);
int attach_complete(struct app *a);
void attach_slash(struct app *a, const char *args);
void attach_detach(struct app *a, const char *args);

/* slash.c */
int slash_run(struct app *a, const char *line);
int slash_complete(struct app *a);


#endif
