/*
 * `natter models [PROVIDER]`: the models each usable provider offers, one per line, in the
 * PROVIDER/MODEL form that `natter ask -m` accepts. Every provider is asked at once through
 * one worker, so the listing takes as long as the slowest provider, not the sum. Providers
 * without a key, and local servers that are not running, are reported on stderr and skipped:
 * the command is for finding out what is available, not for demanding that everything is.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apierr.h"
#include "buf.h"
#include "cmd.h"
#include "provider.h"
#include "text.h"
#include "worker.h"
#include "xmalloc.h"

/* One provider being listed. */
struct models_slot {
	struct provider *p;
	uint64_t id;
	int done;
	struct wevent *ev;
};

/* Append the terminal-safe form of s to b (model names come from servers). */
static void
models_put(struct buf *b, const char *s)
{
	text_sanitize(s, strlen(s), b);
}

/* Print the listing of one provider; returns 1 when it failed in a way that counts. */
static int
models_print(const struct models_slot *s, int named)
{
	const struct wevent *ev = s->ev;
	struct buf line = BUF_INIT;
	char *f;
	size_t i;
	int failed = 0;

	if (ev->error != NULL) {
		f = apierr_format(ev->error);
		models_put(&line, f);
		free(f);
		if (!named && s->p->local && ev->error->kind == APIERR_TRANSPORT) {
			fprintf(stderr, "%s: not reachable at %s (skipped)\n", s->p->name,
			    s->p->base_url);
		} else {
			fprintf(stderr, "natter: %s: %s\n", s->p->name, buf_str(&line));
			failed = 1;
		}
		buf_free(&line);
		return failed;
	}
	for (i = 0; i < ev->models.n; i++) {
		const struct model_info *m = &ev->models.v[i];

		buf_reset(&line);
		models_put(&line, s->p->name);
		buf_putc(&line, '/');
		models_put(&line, m->id);
		if (m->display_name != NULL && m->display_name[0] != '\0') {
			buf_puts(&line, "  ");
			models_put(&line, m->display_name);
		}
		if (m->context_window > 0)
			buf_printf(&line, "  (context %ld)", m->context_window);
		buf_putc(&line, '\n');
		fwrite(line.data, 1, line.len, stdout);
	}
	fflush(stdout);
	buf_free(&line);
	return 0;
}

/* Print the usage summary to f. */
static void
models_usage(FILE *f)
{
	fputs("usage: natter models [--base-url URL] [PROVIDER]\n"
	    "Lists PROVIDER/MODEL lines for every provider with a key (or one provider).\n", f);
}

/* natter models: list models of usable providers. */
int
cmd_models(int argc, char **argv)
{
	struct provider **list;
	struct models_slot *slots;
	struct worker *w;
	struct wevent *ev;
	struct pollfd pfd;
	const char *name = NULL, *base = NULL;
	size_t n, i, nslots = 0, pending = 0;
	int rc = EXIT_OK, k;

	for (k = 1; k < argc; k++) {
		if (strcmp(argv[k], "-h") == 0 || strcmp(argv[k], "--help") == 0) {
			models_usage(stdout);
			return EXIT_OK;
		} else if (strcmp(argv[k], "--base-url") == 0 && k + 1 < argc) {
			base = argv[++k];
		} else if (argv[k][0] == '-' || name != NULL) {
			models_usage(stderr);
			return EXIT_USAGE;
		} else {
			name = argv[k];
		}
	}
	if (base != NULL && name == NULL) {
		fputs("natter: models: --base-url needs a PROVIDER\n", stderr);
		return EXIT_USAGE;
	}
	list = provider_builtin(&n);
	if (name != NULL && provider_find(list, n, name) == NULL) {
		fprintf(stderr, "natter: unknown provider '%s'\n", name);
		provider_list_free(list, n);
		return EXIT_USAGE;
	}
	slots = xcalloc(n, sizeof(*slots));
	worker_global_init();
	w = worker_start();
	for (i = 0; i < n; i++) {
		struct provider *p = list[i];

		if (name != NULL && strcmp(p->name, name) != 0)
			continue;
		if (base != NULL) {
			free(p->base_url);
			p->base_url = xstrdup(base);
			while (p->base_url[0] != '\0' && p->base_url[strlen(p->base_url) - 1] == '/')
				p->base_url[strlen(p->base_url) - 1] = '\0';
		}
		if (!provider_usable(p)) {
			fprintf(stderr, "%s: no key (set %s)\n", p->name,
			    p->key_env != NULL ? p->key_env : "its API key");
			if (name != NULL)
				rc = EXIT_PROVIDER;
			continue;
		}
		slots[nslots].p = p;
		slots[nslots].id = worker_models(w, p);
		nslots++;
		pending++;
	}
	pfd.fd = worker_fd(w);
	pfd.events = POLLIN;
	while (pending > 0) {
		if (poll(&pfd, 1, -1) < 0 && errno != EINTR)
			break;
		while ((ev = worker_next(w)) != NULL) {
			for (i = 0; i < nslots; i++)
				if (ev->type == WEV_MODELS && slots[i].id == ev->id && !slots[i].done)
					break;
			if (i == nslots) {
				wevent_free(ev);
				continue;
			}
			slots[i].done = 1;
			slots[i].ev = ev;
			pending--;
		}
	}
	/* Print in the providers' order so the output is stable whatever answers first. */
	for (i = 0; i < nslots; i++) {
		if (slots[i].ev == NULL)
			continue;
		if (models_print(&slots[i], name != NULL))
			rc = EXIT_PROVIDER;
		wevent_free(slots[i].ev);
	}
	worker_stop(w);
	free(slots);
	provider_list_free(list, n);
	return rc;
}
