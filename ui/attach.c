/*
 * Attachments in the interface: the files waiting for the next message and how they get
 * there. /attach FILE adds one, @path in a message adds that file when it is sent (a word
 * starting with @ that names a readable file; anything else, such as @alice, stays text),
 * an edited message brings its own back, and /detach removes one before sending. Tab
 * completes the path of an @word or of /attach's argument. The waiting files are drawn
 * above the input, one line each (name, type, size), as the sent message shows them in
 * the transcript. The files themselves are src/attach.c's, read and typed there; whether
 * the model takes them is decided when the turn starts, and a refused message keeps its
 * files waiting so that /detach can fix it.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "app.h"
#include "attach.h"
#include "xmalloc.h"

/* Waiting files shown above the input at most (more are summed up on the last line). */
#define ATTACH_ROWS_MAX 4

/* Add one waiting file (taking over the reference). */
void
attach_pending_add(struct app *a, struct attach *f)
{
	a->pend = xrealloc(a->pend, (a->npend + 1) * sizeof(*a->pend));
	a->pend[a->npend++] = f;
	a->dirty |= DIRTY_INPUT;
}

/* Forget every waiting file. */
void
attach_pending_clear(struct app *a)
{
	size_t k;

	for (k = 0; k < a->npend; k++)
		attach_unref(a->pend[k]);
	free(a->pend);
	a->pend = NULL;
	a->npend = 0;
	a->dirty |= DIRTY_INPUT;
}

/* Whether a file of this name is waiting already. */
static int
attach_pending_has(const struct app *a, const char *name)
{
	size_t k;

	for (k = 0; k < a->npend; k++)
		if (strcmp(a->pend[k]->name, name) == 0)
			return 1;
	return 0;
}

/* The path a typed one stands for: ~/ is the home directory. Caller frees. */
static char *
attach_expand(const char *path)
{
	const char *home = getenv("HOME");

	if (path[0] == '~' && path[1] == '/' && home != NULL)
		return xasprintf("%s%s", home, path + 1);
	return xstrdup(path);
}

/* Read path and add it as a waiting file (saying so unless quiet); 0, or -1 with a note
 * saying why not. */
static int
attach_pending_read(struct app *a, const char *path, int quiet)
{
	char *real = attach_expand(path), *err = NULL;
	struct attach *f = attach_read(real, ATTACH_READ_MAX, &err);
	struct buf line = BUF_INIT;

	free(real);
	if (f == NULL) {
		ui_note(a, 1, "%s", err);
		free(err);
		return -1;
	}
	/* The name is what was typed, so a message says "notes.txt", not a home path. */
	free(f->name);
	f->name = xstrdup(path);
	attach_describe(f, &line);
	attach_pending_add(a, f);
	if (!quiet)
		ui_note(a, 0, "attached %s (/detach removes it)", buf_str(&line));
	buf_free(&line);
	return 0;
}

/* /attach FILE: add a file to the next message. */
void
attach_slash(struct app *a, const char *args)
{
	if (*args == '\0') {
		ui_note(a, 1, "usage: /attach FILE (Tab completes; @FILE in a message works too)");
		return;
	}
	attach_pending_read(a, args, 0);
}

/* /detach [N|NAME]: remove waiting file N (from 1), the one named NAME, or the last. */
void
attach_detach(struct app *a, const char *args)
{
	char *end = NULL;
	long n;
	size_t k;

	if (a->npend == 0) {
		ui_note(a, 1, "no file is attached to the next message");
		return;
	}
	k = a->npend - 1;
	if (*args != '\0') {
		n = strtol(args, &end, 10);
		if (end != NULL && *end == '\0' && n >= 1 && (size_t)n <= a->npend) {
			k = (size_t)n - 1;
		} else {
			for (k = 0; k < a->npend && strcmp(a->pend[k]->name, args) != 0; k++)
				;
			if (k == a->npend) {
				ui_note(a, 1, "/detach: no attached file %s (give its number, 1 to %zu)",
				    args, a->npend);
				return;
			}
		}
	}
	ui_note(a, 0, "detached %s", a->pend[k]->name);
	attach_unref(a->pend[k]);
	memmove(&a->pend[k], &a->pend[k + 1], (a->npend - k - 1) * sizeof(*a->pend));
	a->npend--;
	a->dirty |= DIRTY_INPUT;
}

/* Bring back the files of message m (being edited to send again). */
void
attach_pending_edit(struct app *a, const struct session_msg *m)
{
	size_t k;

	attach_pending_clear(a);
	for (k = 0; k < m->natts; k++)
		attach_pending_add(a, attach_ref(m->atts[k]));
}

/* Whether c may end an @word without being part of the path ("see @notes.txt."). */
static int
attach_trailer(char c)
{
	return c == '.' || c == ',' || c == ';' || c == ':' || c == '!' || c == '?' || c == ')';
}

/* Whether path names a regular file. */
static int
attach_is_file(const char *path)
{
	char *real = attach_expand(path);
	struct stat st;
	int ok = stat(real, &st) == 0 && S_ISREG(st.st_mode);

	free(real);
	return ok;
}

/* Add the file of every @path word of text that names one; 0, or -1 (with a note) when
 * one of them cannot be read. */
int
attach_scan(struct app *a, const char *text)
{
	const char *p = text, *w, *e;
	char *path;
	size_t n;
	int rc = 0;

	for (; *p != '\0' && rc == 0; p++) {
		if (*p != '@' || (p > text && p[-1] != ' ' && p[-1] != '\n' && p[-1] != '\t'))
			continue;
		w = p + 1;
		for (e = w; *e != '\0' && *e != ' ' && *e != '\n' && *e != '\t'; e++)
			;
		/* Trailing punctuation belongs to the sentence unless the file has it. */
		path = NULL;
		for (n = (size_t)(e - w); n > 0; n--) {
			path = xstrndup(w, n);
			if (attach_is_file(path))
				break;
			free(path);
			path = NULL;
			if (!attach_trailer(w[n - 1]))
				break;
		}
		if (n == 0 || path == NULL)
			continue;
		if (!attach_pending_has(a, path))
			rc = attach_pending_read(a, path, 1);
		free(path);
		p = e - 1;
	}
	return rc;
}

/* Rows the waiting files take above the input, at most max. */
int
attach_pending_rows(const struct app *a, int max)
{
	int n = a->npend < ATTACH_ROWS_MAX ? (int)a->npend : ATTACH_ROWS_MAX;

	return n < max ? n : max > 0 ? max : 0;
}

/* Draw the waiting files on rows y .. y+rows-1 of the input window. */
void
attach_pending_draw(struct app *a, int y, int rows, int width)
{
	struct buf line = BUF_INIT;
	size_t k;
	int r;

	for (r = 0; r < rows; r++) {
		k = (size_t)r;
		buf_reset(&line);
		if (r == rows - 1 && a->npend > (size_t)rows) {
			buf_printf(&line, "📎 … and %zu more files (/detach N removes one)",
			    a->npend - (size_t)r);
		} else {
			buf_printf(&line, "📎 %zu ", k + 1);
			attach_describe(a->pend[k], &line);
		}
		wmove(a->winput, y + r, 2);
		draw_text(a->winput, line.data, line.len, theme_attr(THEME_META, 0), width);
	}
	buf_free(&line);
}

/* qsort order of two names. */
static int
attach_name_cmp(const void *x, const void *y)
{
	return strcmp(*(char *const *)x, *(char *const *)y);
}

/* The names in directory real starting with base (dot files only when base starts with a
 * dot), sorted; *n of them, the array and each name the caller's to free. NULL when the
 * directory cannot be read. */
static char **
attach_list(const char *real, const char *base, size_t *n)
{
	size_t blen = strlen(base), cap = 0;
	struct dirent *de;
	char **v = NULL;
	DIR *d;

	*n = 0;
	if ((d = opendir(real)) == NULL)
		return NULL;
	while ((de = readdir(d)) != NULL) {
		const char *nm = de->d_name;

		if (strncmp(nm, base, blen) != 0 || strcmp(nm, ".") == 0 || strcmp(nm, "..") == 0 ||
		    (nm[0] == '.' && base[0] != '.'))
			continue;
		if (*n == cap) {
			cap = cap ? cap * 2 : 16;
			v = xrealloc(v, cap * sizeof(*v));
		}
		v[(*n)++] = xstrdup(nm);
	}
	closedir(d);
	if (*n > 1)
		qsort(v, *n, sizeof(*v), attach_name_cmp);
	return v != NULL ? v : xcalloc(1, sizeof(*v));
}

/* Complete the path prefix word (n bytes): the completed word, or NULL (with the
 * candidates or "nothing" in the status line). */
static char *
attach_complete_path(struct app *a, const char *word, size_t n)
{
	char *pre = xstrndup(word, n), *slash = strrchr(pre, '/'), *dir, *real, *out = NULL;
	const char *base = slash != NULL ? slash + 1 : pre;
	size_t blen = strlen(base), common, hits, i, c;
	struct buf list = BUF_INIT;
	struct stat st;
	char **v;

	dir = slash != NULL ? xstrndup(pre, (size_t)(slash - pre) + 1) : xstrdup("");
	real = attach_expand(dir[0] != '\0' ? dir : "./");
	if ((v = attach_list(real, base, &hits)) == NULL) {
		ui_note(a, 1, "cannot list %s: %s", dir[0] != '\0' ? dir : ".", strerror(errno));
		goto out;
	}
	common = hits > 0 ? strlen(v[0]) : 0;
	for (i = 0; i < hits; i++) {
		for (c = 0; c < common && v[0][c] == v[i][c]; c++)
			;
		common = c;
		if (list.len < 400)
			buf_printf(&list, "%s%s", list.len ? " " : "", v[i]);
	}
	if (hits == 0) {
		ui_note(a, 1, "no file matches %s", pre);
	} else if (hits == 1) {
		char *full = xasprintf("%s%s", real, v[0]);

		out = xasprintf("%s%s%s", dir, v[0], stat(full, &st) == 0 && S_ISDIR(st.st_mode) ?
		    "/" : " ");
		free(full);
	} else {
		ui_note(a, 0, "%s", list.data);
		if (common > blen)
			out = xasprintf("%s%.*s", dir, (int)common, v[0]);
	}
	for (i = 0; i < hits; i++)
		free(v[i]);
	free(v);
out:
	buf_free(&list);
	free(real);
	free(dir);
	free(pre);
	return out;
}

/* Tab: complete the path of the @word before the cursor, or of /attach's argument. 1 when
 * the input held one (completed or not), 0 to let Tab do what it else does. */
int
attach_complete(struct app *a)
{
	const char *t = buf_str(&a->in.ed.text);
	size_t cur = a->in.ed.cur, w = cur, skip;
	struct buf nt = BUF_INIT;
	char *done;

	while (w > 0 && t[w - 1] != ' ' && t[w - 1] != '\n' && t[w - 1] != '\t')
		w--;
	if (w < cur && t[w] == '@')
		skip = 1;
	else if (w == 8 && strncmp(t, "/attach ", 8) == 0)
		skip = 0;
	else
		return 0;
	if ((done = attach_complete_path(a, t + w + skip, cur - w - skip)) == NULL)
		return 1;
	buf_append(&nt, t, w + skip);
	buf_puts(&nt, done);
	cur = nt.len;
	/* A completed file's space stands for the one that may follow the word already. */
	skip = nt.data[nt.len - 1] == ' ' && t[a->in.ed.cur] == ' ';
	buf_puts(&nt, t + a->in.ed.cur + skip);
	pane_input_set(&a->in, buf_str(&nt));
	a->in.ed.cur = cur;
	buf_free(&nt);
	free(done);
	a->dirty |= DIRTY_INPUT;
	return 1;
}
