/*
 * Whether a request's attachments can go to its model, and in what form (attach-check.h).
 * Everything here is decided before anything is sent: a model that cannot take a kind, a
 * file over the provider's limit, a type no provider takes, a PDF that must go as text
 * where pdftotext is missing. The refusal names the file, the model and what to change.
 *
 * The forms, per protocol (see proto-attach.c for the wire shapes):
 *   text files        inlined as a fenced block headed by the name, everywhere
 *   images            openai, anthropic, gemini, ollama, simulated natively
 *   PDFs              anthropic and gemini natively when the model takes pdf; elsewhere,
 *                     or for a model without pdf, their text through pdftotext
 *   audio             gemini, and openai for WAV and MP3, when the model takes audio
 * A PDF's text is extracted once per attachment and kept with it, so a comparison of four
 * models or a retry runs pdftotext once.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "attach-check.h"
#include "attach.h"
#include "buf.h"
#include "config.h"
#include "provider.h"
#include "request.h"
#include "text.h"
#include "xmalloc.h"

extern char **environ;

/* How long pdftotext may take over one file. */
#define ATTACH_PDF_TIMEOUT_MS 30000
/* The most text kept from one PDF. */
#define ATTACH_PDF_TEXT_MAX (32u << 20)

/* The protocol's own limit for one attachment of kind k, in bytes. */
static size_t
attach_check_default(const char *protocol, enum attach_kind k)
{
	if (strcmp(protocol, "openai") == 0 || strcmp(protocol, "gemini") == 0)
		return (size_t)20 << 20;
	if (strcmp(protocol, "anthropic") == 0)
		return (size_t)(k == ATTACH_IMAGE ? 5 : 32) << 20;
	return (size_t)100 << 20;
}

/* The largest attachment of kind k model m takes, and where that limit is set. */
size_t
attach_check_limit(const struct model *m, enum attach_kind k, const char **where)
{
	const struct provider *p = m->provider;

	if (m->max_attach > 0) {
		*where = "models";
		return m->max_attach;
	}
	if (p != NULL && p->max_attach > 0) {
		*where = "providers";
		return p->max_attach;
	}
	*where = NULL;
	return attach_check_default(p != NULL ? p->protocol : "", k);
}

/* Whether protocol sends kind k natively to a model taking input. */
static int
attach_check_native(const char *protocol, const struct attach *a, unsigned input)
{
	switch (a->kind) {
	case ATTACH_IMAGE:
		return (input & ATTACH_IN_IMAGE) != 0;
	case ATTACH_PDF:
		return (input & ATTACH_IN_PDF) != 0 && (strcmp(protocol, "anthropic") == 0 ||
		    strcmp(protocol, "gemini") == 0 || strcmp(protocol, "simulated") == 0);
	case ATTACH_AUDIO:
		if (!(input & ATTACH_IN_AUDIO))
			return 0;
		if (strcmp(protocol, "gemini") == 0 || strcmp(protocol, "simulated") == 0)
			return 1;
		return strcmp(protocol, "openai") == 0 && (strcasecmp(a->mime, "audio/mpeg") == 0 ||
		    strcasecmp(a->mime, "audio/x-wav") == 0 || strcasecmp(a->mime, "audio/wav") == 0);
	case ATTACH_TEXT:
	case ATTACH_OTHER:
		break;
	}
	return 0;
}

/* Milliseconds on the monotonic clock. */
static int64_t
attach_check_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Write the n bytes at p to a new private temporary file; its path, or NULL. */
static char *
attach_check_tmpfile(const unsigned char *p, size_t n)
{
	const char *dir = getenv("TMPDIR");
	char *path = xasprintf("%s/natter-pdf-XXXXXX", dir != NULL && dir[0] != '\0' ? dir :
	    "/tmp");
	int fd = mkstemp(path);
	size_t done = 0;
	ssize_t w;

	if (fd < 0) {
		free(path);
		return NULL;
	}
	while (done < n) {
		w = write(fd, p + done, n - done);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			break;
		done += (size_t)w;
	}
	if (close(fd) != 0 || done < n) {
		unlink(path);
		free(path);
		return NULL;
	}
	return path;
}

/* Start pdftotext on path with its text on a pipe (*fd); the pid, or -1 with errno. */
static pid_t
attach_check_spawn(const char *path, int *fd)
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t at;
	sigset_t none, dflt;
	char *argv[] = { "pdftotext", "-q", "-enc", "UTF-8", (char *)path, "-", NULL };
	pid_t pid = -1;
	int p[2], rc;

	if (pipe(p) != 0)
		return -1;
	fcntl(p[0], F_SETFD, FD_CLOEXEC);
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, p[1], STDOUT_FILENO);
	posix_spawn_file_actions_addclose(&fa, p[1]);
	posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_addopen(&fa, STDERR_FILENO, "/dev/null", O_WRONLY, 0);
	posix_spawnattr_init(&at);
	sigemptyset(&none);
	sigemptyset(&dflt);
	sigaddset(&dflt, SIGPIPE);
	sigaddset(&dflt, SIGINT);
	sigaddset(&dflt, SIGTERM);
	posix_spawnattr_setsigmask(&at, &none);
	posix_spawnattr_setsigdefault(&at, &dflt);
	posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
	rc = posix_spawnp(&pid, "pdftotext", &fa, &at, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&at);
	close(p[1]);
	if (rc != 0) {
		close(p[0]);
		errno = rc;
		return -1;
	}
	*fd = p[0];
	return pid;
}

/* Read the child's text from fd until it ends or the deadline passes; 0, or -1. */
static int
attach_check_collect(int fd, int64_t deadline, struct buf *out)
{
	char chunk[65536];

	for (;;) {
		struct pollfd pfd = { fd, POLLIN, 0 };
		int64_t left = deadline - attach_check_now();
		ssize_t n;

		if (left <= 0)
			return -1;
		if (poll(&pfd, 1, (int)left) < 0 && errno != EINTR)
			return -1;
		n = read(fd, chunk, sizeof chunk);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n <= 0)
			return 0;
		if (out->len < ATTACH_PDF_TEXT_MAX)
			buf_append(out, chunk, (size_t)n);
	}
}

/* Extract a PDF's text once (kept in a->pdf_text); 0, or -1 with *err. */
int
attach_check_pdf_text(struct attach *a, char **err)
{
	struct buf text = BUF_INIT, clean = BUF_INIT;
	char *path;
	pid_t pid;
	int fd = -1, status = 0, rc;

	if (a->pdf_text != NULL)
		return 0;
	if ((path = attach_check_tmpfile(a->data, a->size)) == NULL) {
		*err = xasprintf("%s: cannot write a temporary file for pdftotext: %s", a->name,
		    strerror(errno));
		return -1;
	}
	pid = attach_check_spawn(path, &fd);
	if (pid < 0) {
		unlink(path);
		free(path);
		*err = xasprintf("%s is a PDF, which this model gets as its text: that needs "
		    "pdftotext, from the package poppler-utils (apt-get install poppler-utils)",
		    a->name);
		return -1;
	}
	rc = attach_check_collect(fd, attach_check_now() + ATTACH_PDF_TIMEOUT_MS, &text);
	close(fd);
	if (rc != 0)
		kill(pid, SIGKILL);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	unlink(path);
	free(path);
	if (rc == 0 && WIFEXITED(status) && WEXITSTATUS(status) == 127)
		rc = 127;
	if (rc == 127 || (rc == 0 && !(WIFEXITED(status) && WEXITSTATUS(status) == 0))) {
		*err = rc == 127 ? xasprintf("%s is a PDF, which this model gets as its text: that "
		    "needs pdftotext, from the package poppler-utils", a->name) :
		    xasprintf("%s: pdftotext could not read this PDF", a->name);
		buf_free(&text);
		return -1;
	}
	if (rc != 0) {
		*err = xasprintf("%s: pdftotext took longer than %d s", a->name,
		    ATTACH_PDF_TIMEOUT_MS / 1000);
		buf_free(&text);
		return -1;
	}
	/* pdftotext ends each page with a form feed: a page break is a blank line here. */
	for (size_t i = 0; i < text.len; i++)
		if (text.data[i] == '\f')
			text.data[i] = '\n';
	while (text.len > 0 && (text.data[text.len - 1] == '\n' || text.data[text.len - 1] == ' '))
		text.data[--text.len] = '\0';
	text_sanitize(text.data != NULL ? text.data : "", text.len, &clean);
	buf_free(&text);
	a->pdf_text = buf_detach(&clean);
	if (a->pdf_text == NULL)
		a->pdf_text = xstrdup("");
	return 0;
}

/* The input bits a model has: text at least. */
static unsigned
attach_check_input(const struct model *m)
{
	return m->input | ATTACH_IN_TEXT;
}

/* Say that model m cannot take attachment a, and how to let it. */
static char *
attach_check_refuse_kind(const struct model *m, const struct attach *a)
{
	const char *kind = attach_kind_name(a->kind);

	if (a->kind == ATTACH_OTHER)
		return xasprintf("%s is %s: natter attaches text, images (PNG, JPEG, GIF, WebP), "
		    "PDFs and audio", a->name, a->mime);
	if (a->kind == ATTACH_AUDIO && (attach_check_input(m) & ATTACH_IN_AUDIO))
		return xasprintf("%s is %s audio, which %s (%s) does not send; gemini takes any "
		    "audio, openai WAV and MP3", a->name, a->mime, m->name,
		    m->provider != NULL ? m->provider->protocol : "?");
	return xasprintf("%s is %s %s (%s), but %s takes %s only (add %s to models.%s.input "
	    "if it takes %ss)", a->name, a->kind == ATTACH_IMAGE ? "an" : "a", kind, a->mime,
	    m->name, (attach_check_input(m) & ~ATTACH_IN_TEXT) ? "other input" : "text",
	    kind, m->name, kind);
}

/* The request's attachment ra for model m: check it and set its text form. */
static int
attach_check_one(struct request_attach *ra, const struct model *m, char **err)
{
	struct attach *a = ra->a;
	const char *protocol = m->provider != NULL ? m->provider->protocol : "";
	const char *where;
	size_t limit = attach_check_limit(m, a->kind, &where);
	struct buf b = BUF_INIT, lim = BUF_INIT;

	if (a->data == NULL) {
		*err = xasprintf("%s: its bytes are missing from the store", a->name);
		return -1;
	}
	if (a->size > limit) {
		attach_size_text(a->size, &b);
		attach_size_text(limit, &lim);
		if (where == NULL)
			*err = xasprintf("%s (%s) is over the %s limit of %s for one attachment "
			    "(providers.%s.max_attachment changes it)", a->name, buf_str(&b),
			    protocol, buf_str(&lim), m->provider != NULL ? m->provider->name : "?");
		else if (strcmp(where, "models") == 0)
			*err = xasprintf("%s (%s) is over the limit of %s for one attachment that "
			    "models.%s.max_attachment sets", a->name, buf_str(&b), buf_str(&lim),
			    m->name);
		else
			*err = xasprintf("%s (%s) is over the limit of %s for one attachment that "
			    "providers.%s.max_attachment sets", a->name, buf_str(&b), buf_str(&lim),
			    m->provider->name);
		buf_free(&b);
		buf_free(&lim);
		return -1;
	}
	free(ra->text);
	ra->text = NULL;
	ra->omitted = 0;
	if (a->kind == ATTACH_TEXT) {
		text_sanitize((const char *)a->data, a->size, &b);
		ra->text = buf_detach(&b);
		if (ra->text == NULL)
			ra->text = xstrdup("");
		return 0;
	}
	if (attach_check_native(protocol, a, attach_check_input(m)))
		return 0;
	if (a->kind == ATTACH_PDF) {
		if (attach_check_pdf_text(a, err) != 0)
			return -1;
		ra->text = xstrdup(a->pdf_text);
		return 0;
	}
	*err = attach_check_refuse_kind(m, a);
	return -1;
}

/* Check every attachment of req for model m: the files of the message being answered
 * (the last user message) must all go; an earlier message's file that cannot is left out
 * with a note, so a conversation that once had an image goes on with a text model. */
int
attach_check_request(struct request *req, const struct model *m, char **err)
{
	size_t i, k, last = req->nmsgs;
	char *why = NULL;

	*err = NULL;
	for (i = req->nmsgs; i-- > 0;)
		if (req->msgs[i].role == ROLE_USER) {
			last = i;
			break;
		}
	for (i = 0; i < req->nmsgs; i++)
		for (k = 0; k < req->msgs[i].natts; k++) {
			struct request_attach *ra = &req->msgs[i].atts[k];

			if (attach_check_one(ra, m, i == last ? err : &why) == 0)
				continue;
			if (i == last)
				return -1;
			free(why);
			why = NULL;
			ra->omitted = 1;
		}
	return 0;
}

/* Check files atts for model m as the message being answered: 0, or -1 with *err. */
int
attach_check_files(struct attach *const *atts, size_t n, const struct model *m, char **err)
{
	size_t i;

	*err = NULL;
	for (i = 0; i < n; i++) {
		struct request_attach ra = { .a = atts[i] };
		int rc = attach_check_one(&ra, m, err);

		free(ra.text);
		if (rc != 0)
			return -1;
	}
	return 0;
}
