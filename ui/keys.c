/*
 * The key binding table and everything generated from it. Defaults live in one array of
 * {context, key, action}; the help text lives with the action, so a remapped key shows the
 * same help. At start the array is copied into a runtime table which remaps edit, so the
 * help overlay and `natter keys` always show what is really bound. Readline keys in the
 * input are defaults like any other: users can move them, nothing is hard-wired.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <yaml.h>

#include "buf.h"
#include "config.h"
#include "keys.h"
#include "xmalloc.h"

struct keydef {
	enum keyctx ctx;
	const char *key;
	enum action act;
};

/* The defaults. Order is display order. */
static const struct keydef keys_defaults[] = {
	{ KCTX_GLOBAL, "C-q", ACT_QUIT },
	{ KCTX_GLOBAL, "C-c", ACT_INTERRUPT },
	{ KCTX_GLOBAL, "Esc", ACT_CANCEL },
	{ KCTX_GLOBAL, "F1", ACT_HELP },
	{ KCTX_GLOBAL, "C-l", ACT_REDRAW },
	{ KCTX_GLOBAL, "C-z", ACT_SUSPEND },
	{ KCTX_GLOBAL, "Tab", ACT_FOCUS_NEXT },
	{ KCTX_GLOBAL, "BTab", ACT_FOCUS_PREV },
	{ KCTX_GLOBAL, "M-i", ACT_FOCUS_INPUT },
	{ KCTX_GLOBAL, "F2", ACT_TOGGLE_SESSIONS },
	{ KCTX_GLOBAL, "M->", ACT_SESSIONS_WIDER },
	{ KCTX_GLOBAL, "M-<", ACT_SESSIONS_NARROWER },
	{ KCTX_GLOBAL, "M-n", ACT_NEW_SESSION },
	{ KCTX_GLOBAL, "PgUp", ACT_PAGE_UP },
	{ KCTX_GLOBAL, "PgDn", ACT_PAGE_DOWN },
	{ KCTX_GLOBAL, "M-Up", ACT_SCROLL_UP },
	{ KCTX_GLOBAL, "M-Down", ACT_SCROLL_DOWN },
	{ KCTX_GLOBAL, "M-t", ACT_REASONING_ALL },
	{ KCTX_GLOBAL, "M-r", ACT_REGENERATE },
	{ KCTX_GLOBAL, "F5", ACT_MOUSE },
	{ KCTX_GLOBAL, "M-m", ACT_PICK_MODEL },
	{ KCTX_GLOBAL, "M-s", ACT_PICK_SESSION },
	{ KCTX_GLOBAL, "M-x", ACT_PICK_COMMAND },
	{ KCTX_INPUT, "Enter", ACT_SEND },
	{ KCTX_INPUT, "C-j", ACT_NEWLINE },
	{ KCTX_INPUT, "M-Enter", ACT_NEWLINE },
	{ KCTX_INPUT, "S-Enter", ACT_NEWLINE },
	{ KCTX_INPUT, "C-a", ACT_BOL },
	{ KCTX_INPUT, "Home", ACT_BOL },
	{ KCTX_INPUT, "C-e", ACT_EOL },
	{ KCTX_INPUT, "End", ACT_EOL },
	{ KCTX_INPUT, "C-b", ACT_LEFT },
	{ KCTX_INPUT, "Left", ACT_LEFT },
	{ KCTX_INPUT, "C-f", ACT_RIGHT },
	{ KCTX_INPUT, "Right", ACT_RIGHT },
	{ KCTX_INPUT, "M-b", ACT_WORD_LEFT },
	{ KCTX_INPUT, "M-f", ACT_WORD_RIGHT },
	{ KCTX_INPUT, "M-Left", ACT_WORD_LEFT },
	{ KCTX_INPUT, "M-Right", ACT_WORD_RIGHT },
	{ KCTX_INPUT, "Backspace", ACT_DEL_BACK },
	{ KCTX_INPUT, "C-h", ACT_DEL_BACK },
	{ KCTX_INPUT, "C-d", ACT_DEL_FWD },
	{ KCTX_INPUT, "Delete", ACT_DEL_FWD },
	{ KCTX_INPUT, "C-k", ACT_KILL_EOL },
	{ KCTX_INPUT, "C-u", ACT_KILL_BOL },
	{ KCTX_INPUT, "C-w", ACT_KILL_WORD_BACK },
	{ KCTX_INPUT, "M-Backspace", ACT_KILL_WORD_BACK },
	{ KCTX_INPUT, "M-d", ACT_KILL_WORD_FWD },
	{ KCTX_INPUT, "C-y", ACT_YANK },
	{ KCTX_INPUT, "Up", ACT_LINE_UP },
	{ KCTX_INPUT, "C-p", ACT_LINE_UP },
	{ KCTX_INPUT, "Down", ACT_LINE_DOWN },
	{ KCTX_INPUT, "C-n", ACT_LINE_DOWN },
	{ KCTX_INPUT, "C-g", ACT_EDITOR },
	{ KCTX_INPUT, "Tab", ACT_COMPLETE },
	{ KCTX_TRANSCRIPT, "?", ACT_HELP },
	{ KCTX_TRANSCRIPT, "k", ACT_SEL_PREV },
	{ KCTX_TRANSCRIPT, "Up", ACT_SEL_PREV },
	{ KCTX_TRANSCRIPT, "j", ACT_SEL_NEXT },
	{ KCTX_TRANSCRIPT, "Down", ACT_SEL_NEXT },
	{ KCTX_TRANSCRIPT, "g", ACT_SCROLL_TOP },
	{ KCTX_TRANSCRIPT, "Home", ACT_SCROLL_TOP },
	{ KCTX_TRANSCRIPT, "G", ACT_SCROLL_BOTTOM },
	{ KCTX_TRANSCRIPT, "End", ACT_SCROLL_BOTTOM },
	{ KCTX_TRANSCRIPT, "y", ACT_COPY },
	{ KCTX_TRANSCRIPT, "c", ACT_COPY_CODE },
	{ KCTX_TRANSCRIPT, "e", ACT_EDIT_RESEND },
	{ KCTX_TRANSCRIPT, "r", ACT_REGENERATE },
	{ KCTX_TRANSCRIPT, "t", ACT_REASONING_ONE },
	{ KCTX_TRANSCRIPT, "p", ACT_PICK },
	{ KCTX_TRANSCRIPT, "*", ACT_PIN },
	{ KCTX_TRANSCRIPT, "Left", ACT_ALT_PREV },
	{ KCTX_TRANSCRIPT, "h", ACT_ALT_PREV },
	{ KCTX_TRANSCRIPT, "Right", ACT_ALT_NEXT },
	{ KCTX_TRANSCRIPT, "l", ACT_ALT_NEXT },
	{ KCTX_TRANSCRIPT, "f", ACT_FORK },
	{ KCTX_TRANSCRIPT, "Enter", ACT_DETAILS },
	{ KCTX_TRANSCRIPT, "q", ACT_QUIT },
	{ KCTX_SESSIONS, "?", ACT_HELP },
	{ KCTX_SESSIONS, "k", ACT_SEL_PREV },
	{ KCTX_SESSIONS, "Up", ACT_SEL_PREV },
	{ KCTX_SESSIONS, "j", ACT_SEL_NEXT },
	{ KCTX_SESSIONS, "Down", ACT_SEL_NEXT },
	{ KCTX_SESSIONS, "Enter", ACT_OPEN },
	{ KCTX_SESSIONS, "n", ACT_NEW_SESSION },
	{ KCTX_SESSIONS, "D", ACT_DELETE_SESSION },
	{ KCTX_SESSIONS, "u", ACT_UNDO_DELETE },
	{ KCTX_SESSIONS, "/", ACT_SEARCH_SESSIONS },
	{ KCTX_SESSIONS, "r", ACT_RENAME_SESSION },
	{ KCTX_SESSIONS, "a", ACT_ARCHIVE_SESSION },
	{ KCTX_SESSIONS, "A", ACT_SHOW_ARCHIVED },
	{ KCTX_SESSIONS, "q", ACT_QUIT },
	{ KCTX_OVERLAY, "Esc", ACT_CLOSE },
	{ KCTX_OVERLAY, "q", ACT_CLOSE },
	{ KCTX_OVERLAY, "F1", ACT_CLOSE },
	{ KCTX_OVERLAY, "?", ACT_CLOSE },
	{ KCTX_OVERLAY, "Up", ACT_SEL_PREV },
	{ KCTX_OVERLAY, "k", ACT_SEL_PREV },
	{ KCTX_OVERLAY, "Down", ACT_SEL_NEXT },
	{ KCTX_OVERLAY, "j", ACT_SEL_NEXT },
	{ KCTX_OVERLAY, "Enter", ACT_OPEN },
	{ KCTX_FIELD, "Esc", ACT_CLOSE },
	{ KCTX_FIELD, "F1", ACT_CLOSE },
	{ KCTX_FIELD, "Enter", ACT_OPEN },
	{ KCTX_FIELD, "Up", ACT_SEL_PREV },
	{ KCTX_FIELD, "C-p", ACT_SEL_PREV },
	{ KCTX_FIELD, "BTab", ACT_SEL_PREV },
	{ KCTX_FIELD, "Down", ACT_SEL_NEXT },
	{ KCTX_FIELD, "C-n", ACT_SEL_NEXT },
	{ KCTX_FIELD, "Tab", ACT_SEL_NEXT },
	{ KCTX_FIELD, "C-q", ACT_QUIT },
	{ KCTX_FIELD, "C-a", ACT_BOL },
	{ KCTX_FIELD, "Home", ACT_BOL },
	{ KCTX_FIELD, "C-e", ACT_EOL },
	{ KCTX_FIELD, "End", ACT_EOL },
	{ KCTX_FIELD, "C-b", ACT_LEFT },
	{ KCTX_FIELD, "Left", ACT_LEFT },
	{ KCTX_FIELD, "C-f", ACT_RIGHT },
	{ KCTX_FIELD, "Right", ACT_RIGHT },
	{ KCTX_FIELD, "M-b", ACT_WORD_LEFT },
	{ KCTX_FIELD, "M-f", ACT_WORD_RIGHT },
	{ KCTX_FIELD, "Backspace", ACT_DEL_BACK },
	{ KCTX_FIELD, "C-h", ACT_DEL_BACK },
	{ KCTX_FIELD, "C-d", ACT_DEL_FWD },
	{ KCTX_FIELD, "Delete", ACT_DEL_FWD },
	{ KCTX_FIELD, "C-k", ACT_KILL_EOL },
	{ KCTX_FIELD, "C-u", ACT_KILL_BOL },
	{ KCTX_FIELD, "C-w", ACT_KILL_WORD_BACK },
	{ KCTX_FIELD, "M-Backspace", ACT_KILL_WORD_BACK },
	{ KCTX_FIELD, "C-y", ACT_YANK },
	{ KCTX_FORM, "Enter", ACT_FIELD_ACCEPT },
	{ KCTX_FORM, "C-j", ACT_FIELD_ACCEPT },
	{ KCTX_FORM, "C-s", ACT_FORM_SEND },
	{ KCTX_FORM, "Tab", ACT_FIELD_NEXT },
	{ KCTX_FORM, "Down", ACT_FIELD_NEXT },
	{ KCTX_FORM, "BTab", ACT_FIELD_PREV },
	{ KCTX_FORM, "Up", ACT_FIELD_PREV },
	{ KCTX_FORM, "Esc", ACT_CLOSE },
	{ KCTX_FORM, "C-c", ACT_CLOSE },
	{ KCTX_FORM, "C-q", ACT_QUIT },
	{ KCTX_FORM, "C-a", ACT_BOL },
	{ KCTX_FORM, "Home", ACT_BOL },
	{ KCTX_FORM, "C-e", ACT_EOL },
	{ KCTX_FORM, "End", ACT_EOL },
	{ KCTX_FORM, "C-b", ACT_LEFT },
	{ KCTX_FORM, "Left", ACT_LEFT },
	{ KCTX_FORM, "C-f", ACT_RIGHT },
	{ KCTX_FORM, "Right", ACT_RIGHT },
	{ KCTX_FORM, "M-b", ACT_WORD_LEFT },
	{ KCTX_FORM, "M-f", ACT_WORD_RIGHT },
	{ KCTX_FORM, "M-Left", ACT_WORD_LEFT },
	{ KCTX_FORM, "M-Right", ACT_WORD_RIGHT },
	{ KCTX_FORM, "Backspace", ACT_DEL_BACK },
	{ KCTX_FORM, "C-h", ACT_DEL_BACK },
	{ KCTX_FORM, "C-d", ACT_DEL_FWD },
	{ KCTX_FORM, "Delete", ACT_DEL_FWD },
	{ KCTX_FORM, "C-k", ACT_KILL_EOL },
	{ KCTX_FORM, "C-u", ACT_KILL_BOL },
	{ KCTX_FORM, "C-w", ACT_KILL_WORD_BACK },
	{ KCTX_FORM, "M-Backspace", ACT_KILL_WORD_BACK },
	{ KCTX_FORM, "M-d", ACT_KILL_WORD_FWD },
	{ KCTX_FORM, "C-y", ACT_YANK },
	{ KCTX_APPROVE, "y", ACT_APPROVE_ONCE },
	{ KCTX_APPROVE, "a", ACT_APPROVE_ALWAYS },
	{ KCTX_APPROVE, "n", ACT_APPROVE_REFUSE },
	{ KCTX_APPROVE, "e", ACT_APPROVE_EDIT },
	{ KCTX_APPROVE, "Esc", ACT_CANCEL },
};

static const char *const keys_ctx_names[] = {
#define X(id, name, help) name,
	KEYS_CONTEXTS(X)
#undef X
};

static const char *const keys_ctx_help[] = {
#define X(id, name, help) help,
	KEYS_CONTEXTS(X)
#undef X
};

struct actdef {
	const char *name;
	unsigned ctxmask;
	const char *help;
};

static const struct actdef keys_actions[] = {
	{ "none", KM_ANY, "unbind the key" },
#define X(id, name, ctx, help) { name, ctx, help },
	KEYS_ACTIONS(X)
#undef X
};

/* Names of the special keys, in K_ order from K_UP. */
static const char *const keys_special_names[] = {
	"Up", "Down", "Left", "Right", "Home", "End", "PgUp", "PgDn", "Insert", "Delete",
	"Backspace", "BTab", "S-Enter", "PasteStart", "PasteEnd", "Resize", "Mouse",
	"FocusIn", "FocusOut",
};

static struct keybind *keys_rt;
static size_t keys_nrt, keys_caprt;

/* Parse one key name; the table above is trusted, so a bad default aborts loudly. */
static unsigned
keys_parse_default(const char *name)
{
	unsigned k;

	if (keys_parse(name, &k) != 0)
		abort();
	return k;
}

/* Copy the defaults into the runtime table. */
void
keys_init(void)
{
	size_t i, n = sizeof keys_defaults / sizeof keys_defaults[0];

	keys_free();
	keys_caprt = n + 16;
	keys_rt = xcalloc(keys_caprt, sizeof *keys_rt);
	for (i = 0; i < n; i++) {
		keys_rt[i].ctx = keys_defaults[i].ctx;
		keys_rt[i].key = keys_parse_default(keys_defaults[i].key);
		keys_rt[i].act = keys_defaults[i].act;
	}
	keys_nrt = n;
}

/* Release the runtime table. */
void
keys_free(void)
{
	free(keys_rt);
	keys_rt = NULL;
	keys_nrt = keys_caprt = 0;
}

/* Make sure the runtime table exists before it is read. */
static void
keys_ensure(void)
{
	if (keys_rt == NULL)
		keys_init();
}

/* Match a case-insensitive prefix such as "C-" and advance past it. */
static int
keys_prefix(const char **s, const char *p)
{
	size_t n = strlen(p);

	if (strncasecmp(*s, p, n) == 0 && (*s)[n] != '\0') {
		*s += n;
		return 1;
	}
	return 0;
}

/* Parse a key name into a code. */
int
keys_parse(const char *name, unsigned *key)
{
	const char *s = name;
	unsigned meta = 0, ctrl = 0, shift = 0, k;
	size_t i, len;

	for (;;) {
		if (keys_prefix(&s, "M-") || keys_prefix(&s, "A-"))
			meta = K_META;
		else if (keys_prefix(&s, "C-"))
			ctrl = 1;
		else if (keys_prefix(&s, "S-"))
			shift = 1;
		else
			break;
	}
	len = strlen(s);
	if (len == 0)
		return -1;
	if (shift) {
		if (strcasecmp(s, "Enter") == 0 || strcasecmp(s, "Return") == 0)
			k = K_SENTER;
		else if (strcasecmp(s, "Tab") == 0)
			k = K_BTAB;
		else if (len == 1 && s[0] >= 'a' && s[0] <= 'z')
			k = (unsigned)(s[0] - 'a' + 'A');
		else
			return -1;
		if (ctrl)
			return -1;
		*key = k | meta;
		return 0;
	}
	if (strcasecmp(s, "Enter") == 0 || strcasecmp(s, "Return") == 0 || strcasecmp(s, "RET") == 0)
		k = K_ENTER;
	else if (strcasecmp(s, "Tab") == 0)
		k = K_TAB;
	else if (strcasecmp(s, "Esc") == 0 || strcasecmp(s, "Escape") == 0)
		k = K_ESC;
	else if (strcasecmp(s, "Space") == 0 || strcasecmp(s, "SPC") == 0)
		k = ' ';
	else if (strcasecmp(s, "BS") == 0)
		k = K_BACKSPACE;
	else if (strcasecmp(s, "PageUp") == 0 || strcasecmp(s, "PPage") == 0)
		k = K_PGUP;
	else if (strcasecmp(s, "PageDown") == 0 || strcasecmp(s, "NPage") == 0)
		k = K_PGDN;
	else if (strcasecmp(s, "Del") == 0)
		k = K_DELETE;
	else if ((s[0] == 'F' || s[0] == 'f') && len >= 2 && len <= 3 &&
	    strspn(s + 1, "0123456789") == len - 1) {
		int n = atoi(s + 1);

		if (n < 1 || n > 24)
			return -1;
		k = K_F0 + (unsigned)n;
	} else {
		k = 0;
		for (i = 0; i < sizeof keys_special_names / sizeof keys_special_names[0]; i++)
			if (strcasecmp(s, keys_special_names[i]) == 0 && i < K_SENTER - K_UP)
				k = K_UP + (unsigned)i;
		if (k == 0) {
			/* One character, possibly multi-byte UTF-8. */
			const unsigned char *u = (const unsigned char *)s;

			if (u[0] < 0x80 && len == 1)
				k = u[0];
			else if ((u[0] & 0xe0) == 0xc0 && len == 2)
				k = ((u[0] & 0x1fu) << 6) | (u[1] & 0x3fu);
			else if ((u[0] & 0xf0) == 0xe0 && len == 3)
				k = ((u[0] & 0x0fu) << 12) | ((u[1] & 0x3fu) << 6) | (u[2] & 0x3fu);
			else if ((u[0] & 0xf8) == 0xf0 && len == 4)
				k = ((u[0] & 0x07u) << 18) | ((u[1] & 0x3fu) << 12) |
				    ((u[2] & 0x3fu) << 6) | (u[3] & 0x3fu);
			else
				return -1;
			if (k < 0x20 || k == 0x7f)
				return -1;
		}
	}
	if (ctrl) {
		if (k >= 'a' && k <= 'z')
			k = k - 'a' + 1;
		else if (k >= 'A' && k <= 'Z')
			k = k - 'A' + 1;
		else if (k == '[')
			k = K_ESC;
		else if (k == ']' || k == '\\' || k == '^' || k == '_')
			k = k - '@';
		else
			return -1;
	}
	*key = k | meta;
	return 0;
}

/* Write the canonical name of key. */
void
keys_name(unsigned key, char *out, size_t size)
{
	const char *meta = (key & K_META) ? "M-" : "";
	unsigned k = key & ~K_META;

	if (k == K_ENTER)
		snprintf(out, size, "%sEnter", meta);
	else if (k == K_TAB)
		snprintf(out, size, "%sTab", meta);
	else if (k == K_ESC)
		snprintf(out, size, "%sEsc", meta);
	else if (k == ' ')
		snprintf(out, size, "%sSpace", meta);
	else if (k > 0 && k < 0x20)
		snprintf(out, size, "%sC-%c", meta, (int)(k + 'a' - 1) <= 'z' ? (int)(k + 'a' - 1) :
		    (int)(k + '@'));
	else if (k > K_F0 && k <= K_F0 + 24)
		snprintf(out, size, "%sF%u", meta, k - K_F0);
	else if (k >= K_UP && k <= K_FOCUS_OUT)
		snprintf(out, size, "%s%s", meta, keys_special_names[k - K_UP]);
	else if (k < 0x80)
		snprintf(out, size, "%s%c", meta, (int)k);
	else {
		char u[5] = { 0 };

		if (k < 0x800) {
			u[0] = (char)(0xc0 | (k >> 6));
			u[1] = (char)(0x80 | (k & 0x3f));
		} else if (k < 0x10000) {
			u[0] = (char)(0xe0 | (k >> 12));
			u[1] = (char)(0x80 | ((k >> 6) & 0x3f));
			u[2] = (char)(0x80 | (k & 0x3f));
		} else {
			u[0] = (char)(0xf0 | (k >> 18));
			u[1] = (char)(0x80 | ((k >> 12) & 0x3f));
			u[2] = (char)(0x80 | ((k >> 6) & 0x3f));
			u[3] = (char)(0x80 | (k & 0x3f));
		}
		snprintf(out, size, "%s%s", meta, u);
	}
}

/* Find a context by name; -1 when unknown. */
int
keys_context_find(const char *name)
{
	int i;

	for (i = 0; i < KCTX_COUNT; i++)
		if (strcmp(name, keys_ctx_names[i]) == 0)
			return i;
	return -1;
}

/* The name of a context. */
const char *
keys_context_name(enum keyctx ctx)
{
	return keys_ctx_names[ctx];
}

/* Find an action by its config name; ACT_COUNT when unknown. */
enum action
keys_action_find(const char *name)
{
	int i;

	for (i = 0; i < ACT_COUNT; i++)
		if (strcmp(name, keys_actions[i].name) == 0)
			return (enum action)i;
	return ACT_COUNT;
}

/* The config name of an action. */
const char *
keys_action_name(enum action act)
{
	return keys_actions[act].name;
}

/* The help line of an action. */
const char *
keys_action_help(enum action act)
{
	return keys_actions[act].help;
}

/* Check one binding against the tables (see keys.h); the config's schema pass calls it
 * for every bindings: entry, and keys_bind before it binds. */
int
keys_check(const char *context, const char *key, const char *action, unsigned *code,
    int *field, char **err)
{
	const char *names[(int)ACT_COUNT > (int)KCTX_COUNT ? (int)ACT_COUNT : (int)KCTX_COUNT], *near;
	int ctx = keys_context_find(context), i;
	enum action act;

	if (ctx < 0) {
		for (i = 0; i < KCTX_COUNT; i++)
			names[i] = keys_ctx_names[i];
		near = config_nearest(context, names, KCTX_COUNT);
		*field = KEYS_FIELD_CONTEXT;
		if (near != NULL)
			*err = xasprintf("unknown key context '%s', did you mean '%s'?", context,
			    near);
		else
			*err = xasprintf("unknown key context '%s' (global, input, transcript, "
			    "sessions, overlay, field, form or approval)", context);
		return -1;
	}
	if (keys_parse(key, code) != 0) {
		*field = KEYS_FIELD_KEY;
		*err = xasprintf("unknown key name '%s' (e.g. C-a, M-Enter, PgUp, F1, x)", key);
		return -1;
	}
	act = keys_action_find(action);
	if (act == ACT_COUNT) {
		for (i = 0; i < ACT_COUNT; i++)
			names[i] = keys_actions[i].name;
		near = config_nearest(action, names, ACT_COUNT);
		*field = KEYS_FIELD_ACTION;
		if (near != NULL)
			*err = xasprintf("unknown action '%s', did you mean '%s'? (natter keys lists "
			    "them)", action, near);
		else
			*err = xasprintf("unknown action '%s' (natter keys lists them)", action);
		return -1;
	}
	if (!(keys_actions[act].ctxmask & (1u << ctx))) {
		*field = KEYS_FIELD_ACTION;
		*err = xasprintf("action '%s' cannot be bound in context '%s'", action, context);
		return -1;
	}
	return 0;
}

/* Bind (or with "none" unbinds) a key in a context. */
int
keys_bind(const char *context, const char *key, const char *action, char **err)
{
	enum action act;
	unsigned k;
	size_t i;
	int ctx, field;

	keys_ensure();
	if (keys_check(context, key, action, &k, &field, err) != 0)
		return -1;
	ctx = keys_context_find(context);
	act = keys_action_find(action);
	for (i = 0; i < keys_nrt; i++) {
		if (keys_rt[i].ctx == (enum keyctx)ctx && keys_rt[i].key == k) {
			if (act == ACT_NONE) {
				memmove(&keys_rt[i], &keys_rt[i + 1],
				    (keys_nrt - i - 1) * sizeof *keys_rt);
				keys_nrt--;
			} else {
				keys_rt[i].act = act;
				keys_rt[i].user = 1;
			}
			return 0;
		}
	}
	if (act == ACT_NONE)
		return 0;
	if (keys_nrt == keys_caprt) {
		keys_caprt *= 2;
		keys_rt = xrealloc(keys_rt, keys_caprt * sizeof *keys_rt);
	}
	keys_rt[keys_nrt].ctx = (enum keyctx)ctx;
	keys_rt[keys_nrt].key = k;
	keys_rt[keys_nrt].act = act;
	keys_rt[keys_nrt].user = 1;
	keys_nrt++;
	return 0;
}

/* Apply remap entries, refusing one key bound twice in the same context. */
int
keys_apply(const struct keys_entry *e, size_t n, char **err)
{
	size_t i, j;
	char *why = NULL;

	for (i = 0; i < n; i++) {
		unsigned ki, kj;

		if (keys_parse(e[i].key, &ki) == 0) {
			for (j = 0; j < i; j++) {
				if (strcmp(e[i].context, e[j].context) == 0 &&
				    keys_parse(e[j].key, &kj) == 0 && ki == kj) {
					*err = xasprintf("%s:%d:%d: key '%s' in '%s' is already bound "
					    "to '%s' at line %d", e[i].file ? e[i].file : "config",
					    e[i].line, e[i].col, e[i].key, e[i].context, e[j].action,
					    e[j].line);
					return -1;
				}
			}
		}
		if (keys_bind(e[i].context, e[i].key, e[i].action, &why) != 0) {
			*err = xasprintf("%s:%d:%d: %s", e[i].file ? e[i].file : "config",
			    e[i].line, e[i].col, why);
			free(why);
			return -1;
		}
	}
	return 0;
}

#define KEYS_YAML_DEPTH 8

/* Load the keys: mapping from a YAML file (the part of the config this module owns). */
int
keys_load_yaml(const char *path, char **err)
{
	FILE *f = fopen(path, "rb");
	yaml_parser_t p;
	yaml_event_t ev;
	struct keys_entry *ents = NULL;
	size_t nents = 0, cap = 0, i;
	char *name[KEYS_YAML_DEPTH] = { NULL };
	int want_key[KEYS_YAML_DEPTH] = { 0 };
	int line[KEYS_YAML_DEPTH] = { 0 }, col[KEYS_YAML_DEPTH] = { 0 };
	int depth = 0, seq = 0, rc = 0, done = 0;

	*err = NULL;
	if (f == NULL)
		return 0;
	yaml_parser_initialize(&p);
	yaml_parser_set_input_file(&p, f);
	while (!done) {
		if (!yaml_parser_parse(&p, &ev)) {
			*err = xasprintf("%s:%lu:%lu: %s", path,
			    (unsigned long)p.problem_mark.line + 1,
			    (unsigned long)p.problem_mark.column + 1,
			    p.problem ? p.problem : "yaml error");
			rc = -1;
			break;
		}
		switch (ev.type) {
		case YAML_STREAM_END_EVENT:
			done = 1;
			break;
		case YAML_MAPPING_START_EVENT:
			if (seq > 0 || depth + 1 >= KEYS_YAML_DEPTH) {
				seq++;
				break;
			}
			if (depth + 1 < KEYS_YAML_DEPTH) {
				depth++;
				want_key[depth] = 1;
			}
			break;
		case YAML_MAPPING_END_EVENT:
			if (seq > 0) {
				seq--;
				break;
			}
			free(name[depth]);
			name[depth] = NULL;
			depth--;
			want_key[depth] = 1;
			break;
		case YAML_SEQUENCE_START_EVENT:
			seq++;
			break;
		case YAML_SEQUENCE_END_EVENT:
			if (--seq == 0)
				want_key[depth] = 1;
			break;
		case YAML_SCALAR_EVENT:
			if (seq > 0 || depth == 0)
				break;
			if (want_key[depth]) {
				free(name[depth]);
				name[depth] = xstrdup((const char *)ev.data.scalar.value);
				line[depth] = (int)ev.start_mark.line + 1;
				col[depth] = (int)ev.start_mark.column + 1;
				want_key[depth] = 0;
				break;
			}
			want_key[depth] = 1;
			if (depth == 3 && strcmp(name[1], "keys") == 0) {
				if (nents == cap) {
					cap = cap ? cap * 2 : 16;
					ents = xrealloc(ents, cap * sizeof *ents);
				}
				ents[nents].context = xstrdup(name[2]);
				ents[nents].key = xstrdup(name[3]);
				ents[nents].action = xstrdup((const char *)ev.data.scalar.value);
				ents[nents].file = path;
				ents[nents].line = line[3];
				ents[nents].col = col[3];
				nents++;
			}
			break;
		default:
			break;
		}
		yaml_event_delete(&ev);
	}
	yaml_parser_delete(&p);
	fclose(f);
	if (rc == 0)
		rc = keys_apply(ents, nents, err);
	for (i = 0; i < nents; i++) {
		free((char *)ents[i].context);
		free((char *)ents[i].key);
		free((char *)ents[i].action);
	}
	free(ents);
	for (i = 0; i < KEYS_YAML_DEPTH; i++)
		free(name[i]);
	return rc;
}

/* Find the action for a key, in ctx and then in global. */
enum action
keys_lookup(enum keyctx ctx, unsigned key)
{
	size_t i;

	keys_ensure();
	for (i = 0; i < keys_nrt; i++)
		if (keys_rt[i].ctx == ctx && keys_rt[i].key == key)
			return keys_rt[i].act;
	/* The approval question takes only its own keys; every other key acts as usual. */
	if (ctx == KCTX_OVERLAY || ctx == KCTX_FORM || ctx == KCTX_FIELD || ctx == KCTX_APPROVE)
		return ACT_NONE;
	for (i = 0; i < keys_nrt; i++)
		if (keys_rt[i].ctx == KCTX_GLOBAL && keys_rt[i].key == key)
			return keys_rt[i].act;
	return ACT_NONE;
}

/* The runtime table. */
const struct keybind *
keys_table(size_t *n)
{
	keys_ensure();
	*n = keys_nrt;
	return keys_rt;
}

/* List the keys bound to an action in a context. */
void
keys_for_action(enum keyctx ctx, enum action act, char *out, size_t size)
{
	size_t i, used = 0;
	char name[32];

	keys_ensure();
	if (size)
		out[0] = '\0';
	for (i = 0; i < keys_nrt && used + 1 < size; i++) {
		if (keys_rt[i].act != act || (keys_rt[i].ctx != ctx && keys_rt[i].ctx != KCTX_GLOBAL))
			continue;
		keys_name(keys_rt[i].key, name, sizeof name);
		used += (size_t)snprintf(out + used, size - used, "%s%s", used ? ", " : "", name);
		if (used >= size)
			used = size - 1;
	}
}

/* The key bound to act in ctx, or globally where global keys apply in ctx: the user's own
 * first (bindings: added or moved it), else the first default. */
int
keys_first(enum keyctx ctx, enum action act, char *out, size_t size)
{
	size_t i;
	int pass;

	keys_ensure();
	if (size)
		out[0] = '\0';
	for (pass = 0; pass < 4; pass++) {
		enum keyctx want = pass % 2 == 0 ? ctx : KCTX_GLOBAL;
		int user = pass < 2;

		if (want == KCTX_GLOBAL && pass % 2 == 1 && (ctx == KCTX_GLOBAL ||
		    ctx == KCTX_OVERLAY || ctx == KCTX_FORM || ctx == KCTX_FIELD ||
		    ctx == KCTX_APPROVE))
			continue;
		for (i = 0; i < keys_nrt; i++) {
			if (keys_rt[i].act != act || keys_rt[i].ctx != want || keys_rt[i].user != user)
				continue;
			/* A key the context binds to something else shadows the global one. */
			if (want != ctx && keys_lookup(ctx, keys_rt[i].key) != act)
				continue;
			keys_name(keys_rt[i].key, out, size);
			return 1;
		}
	}
	return 0;
}

/* The key a hint names for act in ctx: the first one bound (keys_first) as people write
 * it (Ctrl+J, Alt+Enter, Shift+Tab), else the action's name in brackets. One of eight
 * static buffers in turn, so that a few share one format. */
const char *
keys_hint(enum keyctx ctx, enum action act)
{
	static char bufs[8][48];
	static unsigned next;
	char *b = bufs[next++ % 8], name[32];
	const char *k = name;
	size_t used = 0;

	if (!keys_first(ctx, act, name, sizeof name)) {
		snprintf(b, sizeof bufs[0], "(%s)", keys_actions[act].name);
		return b;
	}
	b[0] = '\0';
	if (strncmp(k, "M-", 2) == 0 && k[2] != '\0') {
		used += (size_t)snprintf(b, sizeof bufs[0], "Alt+");
		k += 2;
	}
	if (strncmp(k, "C-", 2) == 0 && k[2] != '\0' && k[3] == '\0')
		snprintf(b + used, sizeof bufs[0] - used, "Ctrl+%c",
		    k[2] >= 'a' && k[2] <= 'z' ? k[2] - 'a' + 'A' : k[2]);
	else if (strcmp(k, "S-Enter") == 0)
		snprintf(b + used, sizeof bufs[0] - used, "Shift+Enter");
	else if (strcmp(k, "BTab") == 0)
		snprintf(b + used, sizeof bufs[0] - used, "Shift+Tab");
	else
		snprintf(b + used, sizeof bufs[0] - used, "%s", k);
	return b;
}

/* Print the runtime table for `natter keys`. */
void
keys_print(FILE *f)
{
	size_t i;
	char name[32];

	keys_ensure();
	for (i = 0; i < keys_nrt; i++) {
		keys_name(keys_rt[i].key, name, sizeof name);
		fprintf(f, "%-11s %-12s %-22s %s\n", keys_ctx_names[keys_rt[i].ctx], name,
		    keys_actions[keys_rt[i].act].name, keys_actions[keys_rt[i].act].help);
	}
}

/* Quote a string for roff: backslashes and leading dots or quotes. */
static void
keys_roff(FILE *f, const char *s)
{
	if (*s == '.' || *s == '\'')
		fputs("\\&", f);
	for (; *s; s++) {
		if (*s == '\\')
			fputs("\\e", f);
		else if (*s == '-')
			fputs("\\-", f);
		else
			fputc(*s, f);
	}
}

/* Print the KEYS section of natter(1) from the defaults, grouped by context. */
void
keys_print_man(FILE *f)
{
	size_t i, n = sizeof keys_defaults / sizeof keys_defaults[0];
	int c;

	fputs(".SH KEYS\n"
	    "Every key below can be remapped in the\n"
	    ".B bindings:\n"
	    "list of the configuration file, for example\n"
	    ".BR \"bindings: [{ context: input, key: C\\-s, action: send }]\" ;\n"
	    "the action\n"
	    ".B none\n"
	    "unbinds a key.\n"
	    "A key names a character, a special key (Enter, Tab, BTab, Esc, Space, Backspace,\n"
	    "Delete, Insert, Home, End, PgUp, PgDn, Up, Down, Left, Right, F1 to F24),\n"
	    "with the prefixes C\\- (Control), M\\- (Alt/Meta) and S\\- (Shift, for S\\-Enter and S\\-Tab).\n"
	    "Control with Left or Right arrives as M\\-Left or M\\-Right.\n"
	    "Every entry is checked with the rest of the configuration\n"
	    ".RB ( \"natter config check\" ):\n"
	    "an unknown context, key name or action, an action its context does not take, or a key\n"
	    "bound twice in one context is reported as\n"
	    ".IR file : line : col\n"
	    "and that entry is left out.\n"
	    ".B natter keys\n"
	    "prints the bindings in effect.\n", f);
	for (c = 0; c < KCTX_COUNT; c++) {
		fprintf(f, ".SS %s\n", keys_ctx_names[c]);
		fputs("Applies in ", f);
		keys_roff(f, keys_ctx_help[c]);
		fputs(".\n", f);
		for (i = 0; i < n; i++) {
			if ((int)keys_defaults[i].ctx != c)
				continue;
			fputs(".TP\n.B ", f);
			keys_roff(f, keys_defaults[i].key);
			fputs("\n", f);
			keys_roff(f, keys_actions[keys_defaults[i].act].help);
			fputs(" (", f);
			keys_roff(f, keys_actions[keys_defaults[i].act].name);
			fputs(")\n", f);
		}
	}
}
