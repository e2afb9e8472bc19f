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
#include "config.h"
#include "export.h"
#include "metrics.h"
#include "params.h"
#include "slash.h"
#include "xmalloc.h"


/* Export the session to a file, sanitized as natter sessions export does. */
static void
slash_export(struct app *a, const char *args)
{
	enum export_format fmt = EXPORT_MARKDOWN;
	char word[32] = "", *path = NULL, *text;
	const char *rest = args;

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
	if (text != NULL && fmt == EXPORT_MARKDOWN) {
		/* As natter sessions export without --raw: the file is read on a terminal. */
		struct buf safe = BUF_INIT;

		text_sanitize(text, strlen(text), &safe);
		free(text);
		text = buf_detach(&safe);
	}
	if (text == NULL) {
		ui_note(a, 1, "export failed: %s", store_error(a->st));
	} else if (export_write(path, text) != 0) {
		ui_note(a, 1, "cannot write %s: %s", path, strerror(errno));
	} else {
		ui_note(a, 0, "exported to %s", path);
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

/* List this session's parameters, or set one after checking it against the model. */
static void
slash_set(struct app *a, const char *args)
{
	char name[64], *value, *err = NULL;
	struct params trial, eff;
	size_t i;
	int n = 0;

	if (*args == '\0') {
		struct buf b = BUF_INIT;

		for (i = 0; i < config_schema_params_count; i++) {
			char *v = params_value(&a->sess_params, (int)i);

			if (v != NULL) {
				buf_printf(&b, "%s%s=%s", n++ ? " " : "", config_schema_params[i].path, v);
				free(v);
			}
		}
		if (n == 0)
			ui_note(a, 0, "no parameters set for this session (/set NAME VALUE)");
		else
			ui_note(a, 0, "session parameters: %s", b.data);
		buf_free(&b);
		return;
	}
	if (sscanf(args, "%63s", name) != 1 || *(value = (char *)args + strlen(name)) == '\0') {
		ui_note(a, 1, "usage: /set NAME VALUE");
		return;
	}
	while (*value == ' ' || *value == '\t')
		value++;
	memset(&trial, 0, sizeof trial);
	params_copy(&trial, &a->sess_params);
	if (params_set(&trial, name, value, &err) != 0) {
		ui_note(a, 1, "%s", err);
		free(err);
		params_free(&trial);
		return;
	}
	/* Check against the current model now, not only when sending. */
	{
		struct params saved = a->sess_params;

		a->sess_params = trial;
		if (ui_params(a, ui_model(a, a->prov, a->model), &eff, &err) != 0) {
			a->sess_params = saved;
			ui_note(a, 1, "%s", err);
			free(err);
			params_free(&eff);
			params_free(&trial);
			return;
		}
		params_free(&eff);
		params_free(&saved);
	}
	ui_note(a, 0, "%s = %s for this session", name, value);
}

/* Forget one session parameter. */
static void
slash_unset(struct app *a, const char *args)
{
	if (*args == '\0') {
		ui_note(a, 1, "usage: /unset NAME");
		return;
	}
	if (params_index(args) < 0) {
		ui_note(a, 1, "unknown parameter '%s'", args);
		return;
	}
	params_unset(&a->sess_params, args);
	ui_note(a, 0, "%s unset", args);
}

/* The text of the newest summary made by /summarize, or NULL. */
static const char *
slash_last_summary(struct app *a)
{
	static const char head[] = "**Summary of the conversation so far**";
	size_t i;

	for (i = a->sess ? a->sess->nmsgs : 0; i > 0; i--) {
		const struct session_msg *m = &a->sess->msgs[i - 1];

		if (m->role == ROLE_ASSISTANT && m->state == MSG_COMPLETE &&
		    strncmp(buf_str(&m->content), head, sizeof head - 1) == 0)
			return buf_str(&m->content) + sizeof head - 1;
	}
	return NULL;
}

/* /summarize: ask for a summary; /summarize continue: a new session that starts from it. */
static void
slash_summarize(struct app *a, const char *args)
{
	const char *sum;
	char *sys;

	if (*args == '\0') {
		ui_summarize(a);
		return;
	}
	if (strcmp(args, "continue") != 0) {
		ui_note(a, 1, "usage: /summarize [continue]");
		return;
	}
	if ((sum = slash_last_summary(a)) == NULL) {
		ui_note(a, 1, "no summary in this session yet: /summarize makes one");
		return;
	}
	while (*sum == '\n')
		sum++;
	if (a->sess->system != NULL)
		sys = xasprintf("%s\n\nSummary of the earlier conversation:\n%s", a->sess->system, sum);
	else
		sys = xasprintf("Summary of the earlier conversation:\n%s", sum);
	if (ui_new_session(a) == 0) {
		session_set_system(a->sess, sys);
		ui_note(a, 0, "new session: its system prompt carries the summary");
	}
	free(sys);
}

/* /help: the keys and commands overlay, open on the commands; /help TEXT filters it. */
static void
slash_help(struct app *a, const char *args)
{
	overlay_help_open(a, 1);
	if (*args) {
		lineedit_set(&a->picker.filter, args);
		picker_ready(a);
	}
}

/* /model NAME switches; alone it opens the picker. */
static void
slash_model(struct app *a, const char *args)
{
	if (*args)
		ui_set_model(a, args);
	else
		picker_models_open(a);
}

/* /sessions: the session picker; /sessions TEXT filters it. */
static void
slash_sessions(struct app *a, const char *args)
{
	picker_sessions_open(a);
	if (*args && a->overlay == OVERLAY_PICKER) {
		lineedit_set(&a->picker.filter, args);
		picker_ready(a);
	}
}

/* /compare M1 M2 [M3 M4] or /compare off. */
static void
slash_compare(struct app *a, const char *args)
{
	pane_compare_command(a, args);
}

/* /pick N keeps comparison column N. */
static void
slash_pick_cmd(struct app *a, const char *args)
{
	char *rest = NULL;
	long k = strtol(args, &rest, 10);

	if (*args == '\0' || rest == NULL || *rest != '\0')
		ui_note(a, 1, "usage: /pick N (the column number in its header)");
	else
		pane_compare_pick(a, k >= 1 && k <= COMPARE_MAX ? (int)k - 1 : -1);
}

/* /retry N asks comparison column N again for the latest round, alone. */
static void
slash_retry(struct app *a, const char *args)
{
	char *rest = NULL;
	long k = strtol(args, &rest, 10);

	if (*args == '\0' || rest == NULL || *rest != '\0')
		ui_note(a, 1, "usage: /retry N (the column number in its header)");
	else
		pane_compare_retry(a, k >= 1 && k <= COMPARE_MAX ? (int)k - 1 : -1);
}

/* /new starts an empty session. */
static void
slash_new(struct app *a, const char *args)
{
	(void)args;
	ui_new_session(a);
}

/* /clear starts afresh with the same system prompt. */
static void
slash_clear(struct app *a, const char *args)
{
	char *sys = a->sess && a->sess->system ? xstrdup(a->sess->system) : NULL;

	(void)args;
	if (ui_new_session(a) == 0 && sys != NULL)
		session_set_system(a->sess, sys);
	free(sys);
}

/* /rename TITLE. */
static void
slash_rename(struct app *a, const char *args)
{
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
}

/* /system TEXT sets the system prompt; alone it clears it. */
static void
slash_system(struct app *a, const char *args)
{
	if (a->sess == NULL)
		ui_new_session(a);
	session_set_system(a->sess, *args ? args : NULL);
	ui_note(a, 0, *args ? "system prompt set" : "system prompt cleared");
}

/* /copy the last reply. */
static void
slash_copy_cmd(struct app *a, const char *args)
{
	(void)args;
	slash_copy(a);
}

/* /metrics of this session's replies. */
static void
slash_metrics(struct app *a, const char *args)
{
	char *r = metrics_report_fit(a->sess, a->cfg, overlay_text_cols(a));

	(void)args;
	overlay_text_open(a, " metrics of this session ", r);
	free(r);
}

/* /template NAME opens its form; alone, the list. */
static void
slash_template(struct app *a, const char *args)
{
	struct template *t;

	if (*args == '\0')
		picker_templates_open(a);
	else if ((t = config_template(a->cfg, args)) == NULL)
		ui_note(a, 1, "no template named %s (/template lists them)", args);
	else
		form_open(a, t);
}

/* /tools: the MCP servers and their tools. */
static void
slash_tools(struct app *a, const char *args)
{
	(void)args;
	tools_overlay(a);
}

/* /fork [N]: a new session from message N (1-based), else the selected one, else the last. */
static void
slash_fork(struct app *a, const char *args)
{
	size_t total, above;
	char *end;
	long n;

	if (*args == '\0') {
		ui_fork(a, a->sel_msg);
		return;
	}
	n = strtol(args, &end, 10);
	/* Numbers count the whole path, loaded or not. */
	total = a->sess != NULL ? session_position(a->sess, a->sess->nmsgs) : 0;
	if (*end != '\0' || n < 1 || a->sess == NULL || (size_t)n > total) {
		ui_note(a, 1, "/fork N: N is a message number from 1 to %zu", total);
		return;
	}
	if ((size_t)n <= (above = session_position(a->sess, 0)) &&
	    (pane_transcript_older(a, above - (size_t)n + 1) <= 0 ||
	    (size_t)n <= session_position(a->sess, 0)))
		return;  /* the store failed: said */
	ui_fork(a, n - 1 - (long)session_position(a->sess, 0));
}

/* /quit. */
static void
slash_quit(struct app *a, const char *args)
{
	(void)args;
	a->quit = 1;
}

static const struct slash_cmd slash_cmds[] = {
	{ "help", NULL, "[FILTER]", "list keys and commands, filtered as you type", slash_help },
	{ "model", NULL, "[PROVIDER/MODEL]", "switch model; without one, pick from a list",
	  slash_model },
	{ "compare", NULL, "M1 M2 [M3 M4]",
	  "send each prompt to 2-4 models side by side; off ends it", slash_compare },
	{ "pick", NULL, "N", "keep comparison column N's answers and go on with its model",
	  slash_pick_cmd },
	{ "retry", NULL, "N", "ask comparison column N again for the latest round, alone",
	  slash_retry },
	{ "new", NULL, "", "start a new session", slash_new },
	{ "sessions", NULL, "[FILTER]", "pick a session to open, filtered as you type",
	  slash_sessions },
	{ "rename", NULL, "TITLE", "rename this session", slash_rename },
	{ "system", NULL, "[TEXT]", "set (or with no text, clear) the system prompt",
	  slash_system },
	{ "clear", NULL, "", "start afresh with the same model and system prompt", slash_clear },
	{ "fork", NULL, "[N]", "new session from message N (the selected or last one), sharing "
	  "the history up to it", slash_fork },
	{ "copy", NULL, "", "copy the last reply (OSC 52)", slash_copy_cmd },
	{ "export", NULL, "[md|json] [FILE]", "write this session to a file", slash_export },
	{ "metrics", NULL, "", "timings, tokens and cost of every reply", slash_metrics },
	{ "summarize", "summarise", "[continue]",
	  "summarise the chat; continue: new session from it", slash_summarize },
	{ "template", NULL, "[NAME]", "fill in a prompt template and send it", slash_template },
	{ "set", NULL, "[NAME VALUE]", "set a parameter for this session; alone, list them",
	  slash_set },
	{ "unset", NULL, "NAME", "forget a parameter set with /set", slash_unset },
	{ "tools", NULL, "", "list the MCP servers, their state and tools (✓ runs unasked)",
	  slash_tools },
	{ "attach", NULL, "FILE", "attach a file to the next message (@FILE in it works too)",
	  attach_slash },
	{ "detach", NULL, "[N|NAME]", "remove an attached file (the last one when alone)",
	  attach_detach },
	{ "transcribe", NULL, "FILE", "put the speech of an audio file into the input, to edit "
	  "and send", dictate_start },
	{ "quit", "q", "", "quit natter", slash_quit },
};

/* The table. */
const struct slash_cmd *
slash_table(size_t *n)
{
	*n = sizeof slash_cmds / sizeof slash_cmds[0];
	return slash_cmds;
}

/* Run a slash command line. Returns 1 when it was a command (known or not). */
int
slash_run(struct app *a, const char *line)
{
	char name[32], *args;
	size_t len = strcspn(line + 1, " \t\n"), end, i;

	if (line[0] != '/' || len == 0 || len >= sizeof name)
		return 0;
	memcpy(name, line + 1, len);
	name[len] = '\0';
	line += 1 + len;
	while (*line == ' ' || *line == '\t')
		line++;
	/* Completion leaves a space after the argument: it is not part of it. */
	args = xstrdup(line);
	end = strlen(args);
	while (end > 0 && (args[end - 1] == ' ' || args[end - 1] == '\t' || args[end - 1] == '\n'))
		args[--end] = '\0';
	for (i = 0; i < sizeof slash_cmds / sizeof slash_cmds[0]; i++) {
		const struct slash_cmd *c = &slash_cmds[i];

		if (strcmp(name, c->name) == 0 || (c->alias != NULL && strcmp(name, c->alias) == 0))
			break;
	}
	if (i < sizeof slash_cmds / sizeof slash_cmds[0])
		slash_cmds[i].run(a, args);
	else
		ui_note(a, 1, "unknown command /%s (%s completes, /help lists them)", name,
		    keys_hint(KCTX_INPUT, ACT_COMPLETE));
	free(args);
	return 1;
}

/* The candidates for the argument of command cmd, or NULL when it takes none to complete. */
static const char **
slash_args(struct app *a, const char *cmd, size_t *n)
{
	const char **v = NULL;
	size_t i, k = 0;

	*n = 0;
	if (strcmp(cmd, "model") == 0 || strcmp(cmd, "compare") == 0) {
		v = xcalloc(a->cfg->nmodels + 2, sizeof *v);
		for (i = 0; i < a->cfg->nmodels; i++)
			if (a->cfg->models[i].provider != NULL &&
			    a->cfg->models[i].kind == MODEL_CHAT)
				v[k++] = a->cfg->models[i].name;
		if (strcmp(cmd, "compare") == 0)
			v[k++] = "off";
	} else if (strcmp(cmd, "template") == 0) {
		v = xcalloc(a->cfg->ntemplates + 1, sizeof *v);
		for (i = 0; i < a->cfg->ntemplates; i++)
			v[k++] = a->cfg->templates[i].name;
	} else if (strcmp(cmd, "set") == 0 || strcmp(cmd, "unset") == 0) {
		v = xcalloc(config_schema_params_count + 1, sizeof *v);
		for (i = 0; i < config_schema_params_count; i++)
			v[k++] = config_schema_params[i].path;
	} else if (strcmp(cmd, "export") == 0) {
		v = xcalloc(2, sizeof *v);
		v[k++] = "md";
		v[k++] = "json";
	} else if (strcmp(cmd, "summarize") == 0) {
		v = xcalloc(1, sizeof *v);
		v[k++] = "continue";
	}
	*n = k;
	return v;
}

/* Complete word (n bytes) from cand: the one match with a space, or the longest common
 * prefix, listing the matches in the status line. Returns the completed word or NULL. */
static char *
slash_pick(struct app *a, const char *word, size_t n, const char *const *cand, size_t ncand,
    const char *prefix)
{
	size_t i, hits = 0, common = 0;
	const char *first = NULL;
	struct buf list = BUF_INIT;
	char *out = NULL;

	for (i = 0; i < ncand; i++) {
		if (strncmp(cand[i], word, n) != 0)
			continue;
		if (first == NULL) {
			first = cand[i];
			common = strlen(first);
		} else {
			size_t c = 0;

			while (c < common && first[c] == cand[i][c])
				c++;
			common = c;
		}
		hits++;
		if (list.len < 400)
			buf_printf(&list, "%s%s%s", list.len ? " " : "", prefix, cand[i]);
	}
	if (hits == 1)
		out = xasprintf("%s ", first);
	else if (hits > 1) {
		ui_note(a, 0, "%s", list.data);
		if (common > n)
			out = xstrndup(first, common);
	} else {
		ui_note(a, 1, "nothing to complete for %s%.*s", prefix, (int)n, word);
	}
	buf_free(&list);
	return out;
}

/* Complete the command or its argument in the input ("/mo" to "/model ", "/template co"
 * to "/template code_review "); lists candidates when ambiguous. */
int
slash_complete(struct app *a)
{
	const char *t = buf_str(&a->in.ed.text), *sp;
	size_t n = a->in.ed.text.len, i, ncand;
	const char **cand;
	char *done, *full, cmd[32];

	if (n == 0 || t[0] != '/' || a->in.ed.cur != n || memchr(t, '\n', n) != NULL)
		return 0;
	if ((sp = memchr(t, ' ', n)) == NULL) {
		size_t hits = 0, common = 0;
		const char *first = NULL;

		cand = xcalloc(sizeof slash_cmds / sizeof slash_cmds[0], sizeof *cand);
		for (i = 0; i < sizeof slash_cmds / sizeof slash_cmds[0]; i++) {
			cand[i] = slash_cmds[i].name;
			if (strncmp(cand[i], t + 1, n - 1) != 0)
				continue;
			if (hits++ == 0)
				common = strlen(first = cand[i]);
			else
				while (common > 0 && strncmp(first, cand[i], common) != 0)
					common--;
		}
		/* Several commands and nothing more to add: pick one from the list instead. */
		if (hits > 1 && common <= n - 1) {
			char *word = xstrndup(t + 1, n - 1);

			free(cand);
			picker_commands_open(a, word);
			free(word);
			return 1;
		}
		done = slash_pick(a, t + 1, n - 1, cand, i, "/");
		free(cand);
		if (done != NULL) {
			full = xasprintf("/%s", done);
			pane_input_set(&a->in, full);
			free(full);
			free(done);
			a->dirty |= DIRTY_INPUT;
		}
		return 1;
	}
	if ((size_t)(sp - t - 1) >= sizeof cmd)
		return 1;
	memcpy(cmd, t + 1, (size_t)(sp - t - 1));
	cmd[sp - t - 1] = '\0';
	while (*sp == ' ')
		sp++;
	/* Only the first argument completes: the rest is free text (a title, a value). A
	 * comparison names several models, so there the last word completes. */
	if (strcmp(cmd, "compare") == 0) {
		const char *last = t + n;

		while (last > sp && last[-1] != ' ')
			last--;
		cand = slash_args(a, cmd, &ncand);
		done = slash_pick(a, last, n - (size_t)(last - t), cand, ncand, "");
		free(cand);
		if (done != NULL) {
			full = xasprintf("%.*s%s", (int)(last - t), t, done);
			pane_input_set(&a->in, full);
			free(full);
			free(done);
			a->dirty |= DIRTY_INPUT;
		}
		return 1;
	}
	if (memchr(sp, ' ', n - (size_t)(sp - t)) != NULL)
		return 1;
	cand = slash_args(a, cmd, &ncand);
	if (cand == NULL) {
		ui_note(a, 0, "/%s: nothing to complete", cmd);
		return 1;
	}
	done = slash_pick(a, sp, n - (size_t)(sp - t), cand, ncand, "");
	free(cand);
	if (done != NULL) {
		full = xasprintf("/%s %s", cmd, done);
		pane_input_set(&a->in, full);
		free(full);
		free(done);
		a->dirty |= DIRTY_INPUT;
	}
	return 1;
}
