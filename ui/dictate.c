/*
 * /transcribe FILE in the interface: the speech of an audio file becomes text in the
 * input, at the cursor, to be read, edited and sent like anything typed; nothing is ever
 * sent by itself. The transcription model is the config's first usable one (models.*.kind:
 * transcription), else the current model when it is a gemini one, which transcribes
 * through generateContent. The request is a fetch of the interface's own worker
 * (transcribe.h), so the loop stays idle while it runs and key pools and retries apply;
 * the status line says what is under way. The transcript is provider text: it is made
 * terminal-safe before it enters the input.
 */
#include <stdlib.h>
#include <string.h>

#include "apierr.h"
#include "app.h"
#include "config.h"
#include "provider.h"
#include "resolve.h"
#include "transcribe.h"
#include "worker.h"
#include "xmalloc.h"

/* The model /transcribe uses, or NULL after a note saying why. */
static struct model *
dictate_model(struct app *a)
{
	struct resolve_ctx ctx = { NULL, NULL, NULL, MODEL_TRANSCRIPTION };
	struct resolved r;
	struct model *m;
	char *why;

	if (resolve_model(a->cfg, NULL, &ctx, &r) == RESOLVE_OK)
		return r.model;
	/* No transcription model: a gemini chat model (the current one) will do. */
	if (a->prov != NULL && strcmp(a->prov->protocol, "gemini") == 0 &&
	    (m = ui_model(a, a->prov, a->model)) != NULL)
		return m;
	why = resolve_message(a->cfg, NULL, &r);
	ui_note(a, 1, "/transcribe: %s", why);
	free(why);
	return NULL;
}

/* The path as typed, with a leading ~/ for the home directory. */
static char *
dictate_path(const char *args)
{
	const char *home = getenv("HOME");

	if (strncmp(args, "~/", 2) == 0 && home != NULL)
		return xasprintf("%s/%s", home, args + 2);
	return xstrdup(args);
}

/* /transcribe FILE: check the file, then send it. */
void
dictate_start(struct app *a, const char *args)
{
	struct transcribe_opts o = { NULL, NULL, 0, TRANSCRIBE_JSON, 0 };
	struct worker_fetch *f;
	struct model *m;
	char *path, *err = NULL;

	if (*args == '\0') {
		ui_note(a, 1, "usage: /transcribe FILE (an audio file: wav, mp3, m4a, ogg, flac, "
		    "webm)");
		return;
	}
	if (a->dict.id != 0) {
		ui_note(a, 1, "/transcribe: %s is still being transcribed", a->dict.file);
		return;
	}
	if ((m = dictate_model(a)) == NULL)
		return;
	if (!provider_usable(m->provider)) {
		ui_note(a, 1, "/transcribe: %s has no key (set %s)", m->provider->name,
		    m->provider->key_env != NULL ? m->provider->key_env : "its API key");
		return;
	}
	path = dictate_path(args);
	o.file = path;
	if (strcmp(m->provider->protocol, "gemini") == 0)
		o.format = TRANSCRIBE_TEXT;
	if (transcribe_check(m->provider, &o, &err) != 0 ||
	    (f = transcribe_fetch(m->provider, m->id, &o, &err)) == NULL) {
		ui_note(a, 1, "/transcribe: %s", err);
		free(err);
		free(path);
		return;
	}
	free(path);
	a->dict.prov = m->provider;
	a->dict.file = xstrdup(args);
	a->dict.id = worker_fetch(a->w, f);
	ui_note(a, 0, "transcribing %s with %s/%s ...", args, m->provider->name, m->id);
}

/* Insert the transcript at the cursor, made safe, with a space before it when it would
 * otherwise run into the text before. */
static void
dictate_insert(struct app *a, const char *text, size_t n)
{
	struct buf safe = BUF_INIT;
	const struct buf *t = &a->in.ed.text;
	size_t at = a->in.ed.cur;

	while (n > 0 && (text[n - 1] == '\n' || text[n - 1] == ' '))
		n--;
	text_sanitize(text, n, &safe);
	if (at > 0 && at <= t->len && t->data[at - 1] != ' ' && t->data[at - 1] != '\n')
		pane_input_insert(&a->in, " ", 1);
	pane_input_insert(&a->in, safe.data != NULL ? safe.data : "", safe.len);
	buf_free(&safe);
	a->dirty |= DIRTY_INPUT | DIRTY_LAYOUT;
}

/* A worker event of the transcription: 1 when it was one. */
int
dictate_event(struct app *a, const struct wevent *ev)
{
	struct buf text = BUF_INIT;
	char *why = NULL;

	if (a->dict.id == 0 || ev->id != a->dict.id)
		return 0;
	if (ev->type == WEV_RETRY) {
		why = ev->error != NULL ? apierr_format(ev->error) : xstrdup("error");
		ui_note(a, 1, "/transcribe: %s; %s", why, ev->rotated ? "trying the next key" :
		    "retrying");
		free(why);
		return 1;
	}
	if (ev->type != WEV_BODY)
		return 1;
	if (ev->cancelled) {
		ui_note(a, 0, "/transcribe: cancelled");
	} else if (ev->error != NULL) {
		why = apierr_format(ev->error);
		ui_note(a, 1, "/transcribe: %s: %s", a->dict.prov->name, why);
	} else if (transcribe_text(a->dict.prov, ev->text, ev->len, &text, &why) != 0) {
		ui_note(a, 1, "/transcribe: %s: %s", a->dict.prov->name, why);
	} else {
		dictate_insert(a, buf_str(&text), text.len);
		ui_note(a, 0, "transcribed %s into the input: edit it, Enter sends it",
		    a->dict.file);
	}
	free(why);
	buf_free(&text);
	free(a->dict.file);
	a->dict.file = NULL;
	a->dict.id = 0;
	return 1;
}

/* Forget the transcription (the worker stops with the interface). */
void
dictate_free(struct app *a)
{
	free(a->dict.file);
	memset(&a->dict, 0, sizeof(a->dict));
}
