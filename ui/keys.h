/*
 * The one key table: every binding is {context, key, action} and every action carries its
 * help line, so dispatch, the help overlay, `natter keys` and the KEYS section of natter(1)
 * all come from here. No curses in this header: keys are natter's own codes (a Unicode
 * codepoint, a control byte, or one of the K_ specials, optionally with K_META), and the UI
 * loop translates curses key codes into them.
 *
 * Users remap keys with keys_bind(context, key-name, action-name), fed by the config
 * module's raw `bindings:` entries (ui_apply_bindings -> keys_apply, with file:line:col in
 * errors) or by the stand-alone YAML reader below (`keys: { input: { C-s: send } }`).
 */
#ifndef NATTER_KEYS_H
#define NATTER_KEYS_H

#include <stddef.h>
#include <stdio.h>

/* Where a binding applies. Global bindings apply in every context unless shadowed, except
 * in the overlay, the form and a field, which have only their own (keys there mostly type
 * text).
 * The approval context is looked up first while a tool call waits for the user; a key it
 * does not bind goes to the focused pane as usual. */
#define KEYS_CONTEXTS(X) \
	X(GLOBAL, "global", "everywhere, unless the focused pane binds the key") \
	X(INPUT, "input", "the message being written") \
	X(TRANSCRIPT, "transcript", "the conversation, when focused") \
	X(SESSIONS, "sessions", "the session list, when focused") \
	X(OVERLAY, "overlay", "the text overlays (/metrics, /tools, configuration errors)") \
	X(FIELD, "field", "a field that filters a list as you type (the pickers, the help overlay, the session list's search) or renames a session; other keys type into it and global keys do not apply there") \
	X(FORM, "form", "the fields of the /template form; global keys do not apply there") \
	X(APPROVE, "approval", "the question a tool call asks before it runs (the status line says which); keys it does not bind work as usual")

enum keyctx {
#define X(id, name, help) KCTX_##id,
	KEYS_CONTEXTS(X)
#undef X
	KCTX_COUNT
};

#define KM(c) (1u << KCTX_##c)
#define KM_ANY 0xffu
#define KM_EDIT (KM(INPUT) | KM(FORM) | KM(FIELD))
#define KM_LIST (KM(TRANSCRIPT) | KM(SESSIONS) | KM(OVERLAY) | KM(FIELD))

/* Every action: id, name used in config, contexts where it may be bound, help line. */
#define KEYS_ACTIONS(X) \
	X(QUIT, "quit", KM_ANY, "quit natter") \
	X(INTERRUPT, "interrupt", KM_ANY, "cancel the streaming reply; twice when idle, quit") \
	X(CANCEL, "cancel", KM_ANY, "cancel the streaming reply (and its tool calls), or close the overlay") \
	X(HELP, "help", KM_ANY, "show or hide the key help") \
	X(REDRAW, "redraw", KM_ANY, "redraw the whole screen") \
	X(SUSPEND, "suspend", KM_ANY, "suspend natter (resume with fg)") \
	X(FOCUS_NEXT, "focus-next", KM_ANY, "move focus to the next pane") \
	X(FOCUS_PREV, "focus-prev", KM_ANY, "move focus to the previous pane") \
	X(FOCUS_INPUT, "focus-input", KM_ANY, "move focus to the input") \
	X(TOGGLE_SESSIONS, "toggle-sessions", KM_ANY, "show or hide the session list") \
	X(SESSIONS_WIDER, "sessions-wider", KM_ANY, "make the session list wider") \
	X(SESSIONS_NARROWER, "sessions-narrower", KM_ANY, "make the session list narrower") \
	X(NEW_SESSION, "new-session", KM_ANY, "start a new session") \
	X(PAGE_UP, "page-up", KM_ANY, "scroll the transcript up a page") \
	X(PAGE_DOWN, "page-down", KM_ANY, "scroll the transcript down a page") \
	X(SCROLL_UP, "scroll-up", KM_ANY, "scroll the transcript up a line") \
	X(SCROLL_DOWN, "scroll-down", KM_ANY, "scroll the transcript down a line") \
	X(SCROLL_TOP, "scroll-top", KM_ANY, "go to the start of the transcript") \
	X(SCROLL_BOTTOM, "scroll-bottom", KM_ANY, "go to the end of the transcript") \
	X(REASONING_ALL, "toggle-reasoning-all", KM_ANY, "collapse or expand reasoning in every message") \
	X(REGENERATE, "regenerate", KM_ANY, "regenerate the last reply; when comparing, the selected reply's column alone (as /retry N)") \
	X(MOUSE, "toggle-mouse", KM_ANY, "turn the mouse on or off (clicks and the wheel; off, the terminal selects text)") \
	X(PICK_MODEL, "pick-model", KM_ANY, "pick a model from a list filtered as you type (as /model)") \
	X(PICK_SESSION, "pick-session", KM_ANY, "pick a session to open from a list filtered as you type") \
	X(PICK_COMMAND, "pick-command", KM_ANY, "pick a slash command from a list filtered as you type") \
	X(SEND, "send", KM(INPUT), "send the message") \
	X(NEWLINE, "newline", KM(INPUT), "insert a newline") \
	X(BOL, "line-start", KM_EDIT, "move to the start of the line") \
	X(EOL, "line-end", KM_EDIT, "move to the end of the line") \
	X(LEFT, "char-left", KM_EDIT, "move left one character") \
	X(RIGHT, "char-right", KM_EDIT, "move right one character") \
	X(WORD_LEFT, "word-left", KM_EDIT, "move left one word") \
	X(WORD_RIGHT, "word-right", KM_EDIT, "move right one word") \
	X(DEL_BACK, "delete-back", KM_EDIT, "delete the character before the cursor") \
	X(DEL_FWD, "delete-forward", KM_EDIT, "delete the character under the cursor") \
	X(KILL_EOL, "kill-line-end", KM_EDIT, "cut to the end of the line") \
	X(KILL_BOL, "kill-line-start", KM_EDIT, "cut to the start of the line") \
	X(KILL_WORD_BACK, "kill-word-back", KM_EDIT, "cut the word before the cursor") \
	X(KILL_WORD_FWD, "kill-word-forward", KM_EDIT, "cut the word after the cursor") \
	X(YANK, "yank", KM_EDIT, "paste the last cut text") \
	X(LINE_UP, "line-up", KM(INPUT), "move up a line; at the top, recall older history") \
	X(LINE_DOWN, "line-down", KM(INPUT), "move down a line; at the bottom, recall newer history") \
	X(EDITOR, "editor", KM(INPUT), "edit the message in $VISUAL or $EDITOR") \
	X(COMPLETE, "complete", KM(INPUT), "complete a slash command; otherwise move focus") \
	X(SEL_PREV, "select-prev", KM_LIST, "select the previous item") \
	X(SEL_NEXT, "select-next", KM_LIST, "select the next item") \
	X(OPEN, "open", KM(SESSIONS) | KM(OVERLAY) | KM(FIELD), "open the selected item (in a rename, keep the new title)") \
	X(DETAILS, "details", KM(TRANSCRIPT), "show or hide the selected tool call's arguments and result; on another message, move focus to the input") \
	X(DELETE_SESSION, "delete-session", KM(SESSIONS), "delete the selected session (asks first: y deletes, n or Esc keeps it)") \
	X(UNDO_DELETE, "undo-delete", KM(SESSIONS), "bring back the session just deleted (for a few seconds after)") \
	X(SEARCH_SESSIONS, "search-sessions", KM(SESSIONS), "filter the list as you type and search every session's messages; Enter opens the session or jumps to the message") \
	X(RENAME_SESSION, "rename-session", KM(SESSIONS), "rename the selected session in place (Enter keeps the title, Esc cancels)") \
	X(ARCHIVE_SESSION, "archive-session", KM(SESSIONS), "archive the selected session (hidden from the list, not deleted), or bring back an archived one") \
	X(SHOW_ARCHIVED, "toggle-archived", KM(SESSIONS), "list the archived sessions instead of the others, or go back") \
	X(COPY, "copy", KM(TRANSCRIPT), "copy the selected message (OSC 52)") \
	X(COPY_CODE, "copy-code", KM(TRANSCRIPT), "copy the next code block of the selected message") \
	X(EDIT_RESEND, "edit", KM(TRANSCRIPT), "edit the selected user message and resend it") \
	X(REASONING_ONE, "toggle-reasoning", KM(TRANSCRIPT), "collapse or expand the selected message's reasoning, or a tool call's arguments and result") \
	X(PICK, "pick", KM(TRANSCRIPT), "keep the selected compared reply's column and go on with its model") \
	X(PIN, "pin", KM(TRANSCRIPT), "pin or unpin the selected message: always sent, whatever the context window drops") \
	X(ALT_PREV, "alternative-prev", KM(TRANSCRIPT), "show the previous alternative of the selected message (a regenerated reply, an edited prompt or the other columns of a kept comparison round; its header shows 2/3), else of the last one that has some") \
	X(ALT_NEXT, "alternative-next", KM(TRANSCRIPT), "show the next alternative of the selected message, else of the last one that has some") \
	X(FORK, "fork", KM(TRANSCRIPT), "start a new session from the selected message, sharing the history up to it (as /fork)") \
	X(FIELD_NEXT, "field-next", KM(FORM), "move to the next field") \
	X(FIELD_PREV, "field-prev", KM(FORM), "move to the previous field") \
	X(FIELD_ACCEPT, "field-accept", KM(FORM), "move to the next field, or send from the last one") \
	X(FORM_SEND, "form-send", KM(FORM), "send the template with the values in the form") \
	X(CLOSE, "close", KM(OVERLAY) | KM(FORM) | KM(FIELD), "close the overlay, end the search, or cancel the form or the rename") \
	X(APPROVE_ONCE, "approve", KM(APPROVE), "run the tool call this once") \
	X(APPROVE_ALWAYS, "approve-always", KM(APPROVE), "run it, and run this tool without asking until natter quits") \
	X(APPROVE_REFUSE, "refuse", KM(APPROVE), "refuse the call: type the reason the model is told in the input, Enter sends it, Esc goes back") \
	X(APPROVE_EDIT, "approve-edited", KM(APPROVE), "edit the call's arguments in $VISUAL or $EDITOR, then run it")

enum action {
	ACT_NONE,
#define X(id, name, ctx, help) ACT_##id,
	KEYS_ACTIONS(X)
#undef X
	ACT_COUNT
};

/* Key codes: codepoints and control bytes as they are; specials above Unicode. */
#define K_META 0x1000000u
enum {
	K_SPECIAL = 0x110000,
	K_UP, K_DOWN, K_LEFT, K_RIGHT, K_HOME, K_END, K_PGUP, K_PGDN, K_INSERT, K_DELETE,
	K_BACKSPACE, K_BTAB, K_SENTER, K_PASTE_START, K_PASTE_END, K_RESIZE, K_MOUSE,
	K_SYNC_YES, K_SYNC_NO, /* the terminal's answer to natter's DECRQM query (term.c) */
	K_FOCUS_IN, K_FOCUS_OUT,
	K_F0 = 0x110100 /* K_F0 + n is Fn */
};
#define K_ENTER 13u
#define K_TAB 9u
#define K_ESC 27u

struct keybind {
	enum keyctx ctx;
	unsigned key;
	enum action act;
	int user;            /* bound by the user (bindings:), not a default */
};

/* A remap request as the config module hands it over (file, line, col for messages). */
struct keys_entry {
	const char *context;
	const char *key;
	const char *action;
	const char *file;
	int line;
	int col;
};

/* Reset the runtime table to the defaults. */
void keys_init(void);
void keys_free(void);
/* Parse "C-a", "M-Enter", "PgUp", "F1", "x"; returns 0 and sets *key, or -1. */
int keys_parse(const char *name, unsigned *key);
/* The canonical name of key into out. */
void keys_name(unsigned key, char *out, size_t size);
int keys_context_find(const char *name);
const char *keys_context_name(enum keyctx ctx);
enum action keys_action_find(const char *name);
const char *keys_action_name(enum action act);
const char *keys_action_help(enum action act);
/* Which part of a binding keys_check found wrong. */
enum { KEYS_FIELD_CONTEXT, KEYS_FIELD_KEY, KEYS_FIELD_ACTION };
/* Check a binding without making it: 0 with *code the key's code, or -1 with *err set
 * (caller frees; names the nearest context or action for a typo) and *field the part at
 * fault. This is the config's binding checker (config_set_binding_check). */
int keys_check(const char *context, const char *key, const char *action, unsigned *code,
    int *field, char **err);
/* Bind key in context to action ("none" unbinds). Returns 0, or -1 with *err set. */
int keys_bind(const char *context, const char *key, const char *action, char **err);
/* Apply config entries; a key bound twice in one context is a conflict. */
int keys_apply(const struct keys_entry *e, size_t n, char **err);
/* Read the `keys:` mapping of a YAML file; a missing file is not an error. */
int keys_load_yaml(const char *path, char **err);
/* The action for key in context (falling back to global), or ACT_NONE. */
enum action keys_lookup(enum keyctx ctx, unsigned key);
/* The runtime table, in display order. */
const struct keybind *keys_table(size_t *n);
/* The keys bound to act in ctx, joined with ", " into out. */
void keys_for_action(enum keyctx ctx, enum action act, char *out, size_t size);
/* The key bound to act in ctx (or, where global keys apply there, globally) into out, so
 * that a hint names the key the user really has: the first the user bound, else the first
 * default; 0 with out empty when none is. */
int keys_first(enum keyctx ctx, enum action act, char *out, size_t size);
/* keys_first for a hint: the key as people write it ("Ctrl+J", "Alt+Enter"), else
 * "(action-name)"; a static buffer, one of eight. */
const char *keys_hint(enum keyctx ctx, enum action act);
/* `natter keys` output: one line per binding. */
void keys_print(FILE *f);
/* The roff KEYS section of natter(1), from the default table. */
void keys_print_man(FILE *f);

#endif
