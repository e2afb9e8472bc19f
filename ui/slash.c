/*
 * Slash commands typed in the input ("/model gpt-4o", "/rename notes"). Only commands whose
 * back end exists are in the table, so /help and Tab completion never offer something
 * that does not work; a command lands here when its back end does.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "export.h"
#include "slash.h"
#include "xmalloc.h"

static const struct slash_cmd slash_cmds[] = {
	{ "help", "", "list keys and commands" },
	{ "model", "[PROVIDER/MODEL]", "switch model; without one, pick from a list" },
	{ "new", "", "start a new session" },
	{ "rename", "TITLE", "rename this session" },
	{ "system", "[TEXT]", "set (or with no text, clear) the system prompt" },
	{ "clear", "", "start afresh with the same model and system prompt" },
	{ "copy", "", "copy the last reply (OSC 52)" },
	{ "export", "[md|json] [FILE]", "write this session to a file" },
	{ "quit", "", "quit natter" },
};

/* The table. */
const struct slash_cmd *
slash_table(size_t *n)
{
	*n = sizeof slash_cmds / sizeof slash_cmds[0];
	return slash_cmds;
}

/* Export the session to a file. */
static void
slash_export(struct app *a, const char *args)
{
	enum export_format fmt = EXPORT_MARKDOWN;
	char word[32] = "", *path = NULL, *text;
	const char *rest = args;
	FILE *f;

	if (a->st == NULL || a->sess == NULL || a->sess->id == 0) {
		ui_note(a, 1, "nothing to export yet: send a message first");
		return;
	}
	if (sscanf(args, "%31s", word) == 1 && export_format_parse(word, &fmt) == 0) {
		rest = strstr(args, word) + strlen(word);
		while (*rest == ' ')
			rest++;
	}
	if (*rest)
		path = xstrdup(rest);
	else
		path = xasprintf("natter-%lld.%s", (long long)a->sess->id,
		    fmt == EXPORT_JSON ? "json" : "md");
	text = export_session(a->st, a->sess->id, fmt);
	if (text == NULL) {
		ui_note(a, 1, "export failed: %s", store_error(a->st));
	} else if ((f = fopen(path, "w")) == NULL) {
		ui_note(a, 1, "cannot write %s: %s", path, strerror(errno));
	} else {
		fputs(text, f);
		if (fclose(f) == 0)
			ui_note(a, 0, "exported to %s", path);
		else
			ui_note(a, 1, "cannot write %s: %s", path, strerror(errno));
	}
	free(text);
	free(path);
}

/* Copy the last reply. */
static void
slash_copy(struct app *a)
{
	size_t i;

	for (i = a->sess ? a->sess->nmsgs : 0; i > 0; i--) {
		struct session_msg *m = &a->sess->msgs[i - 1];

		if (m->role == ROLE_ASSISTANT && m->content.len > 0) {
			ui_copy(a, "the last reply", m->content.data, m->content.len);
			return;
		}
	}
	ui_note(a, 1, "nothing to copy yet");
}

/* Run a slash command line. Returns 1 when it was a command (known or not). */
int
slash_run(struct app *a, const char *line)
{
	char name[32];
	const char *args;
	size_t len = strcspn(line + 1, " \t\n");

	if (line[0] != '/' || len == 0 || len >= sizeof name)
		return 0;
	memcpy(name, line + 1, len);
	name[len] = '\0';
	args = line + 1 + len;
	while (*args == ' ' || *args == '\t')
		args++;
	if (strcmp(name, "help") == 0) {
		a->overlay = OVERLAY_HELP;
		a->over_top = 0;
		a->dirty |= DIRTY_ALL;
	} else if (strcmp(name, "model") == 0) {
		if (*args)
			ui_set_model(a, args);
		else
			overlay_picker_open(a);
	} else if (strcmp(name, "new") == 0) {
		ui_new_session(a);
	} else if (strcmp(name, "clear") == 0) {
		char *sys = a->sess && a->sess->system ? xstrdup(a->sess->system) : NULL;

		ui_new_session(a);
		if (sys != NULL)
			session_set_system(a->sess, sys);
		free(sys);
	} else if (strcmp(name, "rename") == 0) {
		if (!*args)
			ui_note(a, 1, "usage: /rename TITLE");
		else if (a->sess == NULL || a->sess->id == 0)
			ui_note(a, 1, "send a message first: an empty session is not stored");
		else if (session_set_title(a->sess, args) != 0)
			ui_note(a, 1, "rename failed: %s", a->sess->err);
		else {
			ui_reload_sessions(a);
			ui_note(a, 0, "renamed");
		}
	} else if (strcmp(name, "system") == 0) {
		if (a->sess == NULL)
			ui_new_session(a);
		session_set_system(a->sess, *args ? args : NULL);
		ui_note(a, 0, *args ? "system prompt set" : "system prompt cleared");
	} else if (strcmp(name, "copy") == 0) {
		slash_copy(a);
	} else if (strcmp(name, "export") == 0) {
		slash_export(a, args);
	} else if (strcmp(name, "quit") == 0 || strcmp(name, "q") == 0) {
		a->quit = 1;
	} else {
		ui_note(a, 1, "unknown command /%s (Tab completes, /help lists them)", name);
	}
	return 1;
}

/* Complete "/mo" to "/model " in the input; lists candidates when ambiguous. */
int
slash_complete(struct app *a)
{
	const char *t = buf_str(&a->in.text);
	size_t n = a->in.text.len, i, hits = 0, which = 0;
	struct buf list = BUF_INIT;

	if (n == 0 || t[0] != '/' || memchr(t, ' ', n) != NULL || a->in.cur != n)
		return 0;
	for (i = 0; i < sizeof slash_cmds / sizeof slash_cmds[0]; i++) {
		if (strncmp(slash_cmds[i].name, t + 1, n - 1) == 0) {
			hits++;
			which = i;
			buf_printf(&list, "%s/%s", list.len ? " " : "", slash_cmds[i].name);
		}
	}
	if (hits == 1) {
		char *full = xasprintf("/%s ", slash_cmds[which].name);

		pane_input_set(&a->in, full);
		free(full);
		a->dirty |= DIRTY_INPUT;
	} else if (hits > 1) {
		ui_note(a, 0, "%s", list.data);
	} else {
		ui_note(a, 1, "no command starts with %s", t);
	}
	buf_free(&list);
	return 1;
}
