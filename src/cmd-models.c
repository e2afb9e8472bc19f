/*
 * `natter models [PROVIDER]`: the models each usable provider offers, one per line, in the
 * PROVIDER/MODEL form that `natter ask -m` accepts: first the models the config describes
 * (with aliases and context windows), then whatever else the provider's own listing
 * reports, which natter uses with safe defaults. Every provider is asked at once through
 * one worker, so the listing takes as long as the slowest provider, not the sum. Providers
 * without a key are reported on stderr and skipped: the command is for finding out what is
 * available, not for demanding that everything is. When a provider's own listing fails (a
 * local server that is not running, a refused key, a gateway without /models), its
 * configured models are still printed and stderr says why the rest is missing.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apierr.h"
#include "buf.h"
#include "cli.h"
#include "cmd.h"
#include "config.h"
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

/* Append the one-line terminal-safe form of s to b: model ids come from servers and may
 * hold escapes or newlines, which must not split or forge a line of the listing. */
static void
models_put(struct buf *b, const char *s)
{
	text_sanitize_line(s, strlen(s), b);
}

/* True when the config describes a model with this id on provider p. */
static int
models_configured(const struct config *cfg, const struct provider *p, const char *id)
{
	size_t i;

	for (i = 0; i < cfg->nmodels; i++)
		if (cfg->models[i].provider == p && strcmp(cfg->models[i].id, id) == 0)
			return 1;
	return 0;
}

/* How many models the config describes on provider p. */
static size_t
models_configured_count(const struct config *cfg, const struct provider *p)
{
	size_t i, n = 0;

	for (i = 0; i < cfg->nmodels; i++)
		if (cfg->models[i].provider == p)
			n++;
	return n;
}

/* Print the config's models of provider p, as PROVIDER/NAME with what the config says. */
static void
models_print_configured(const struct config *cfg, const struct provider *p, struct buf *line)
{
	const struct model *m;
	size_t i, k;

	for (i = 0; i < cfg->nmodels; i++) {
		m = &cfg->models[i];
		if (m->provider != p)
			continue;
		buf_reset(line);
		models_put(line, p->name);
		buf_putc(line, '/');
		models_put(line, m->name);
		if (m->display_name != NULL) {
			buf_puts(line, "  ");
			models_put(line, m->display_name);
		}
		buf_puts(line, "  (configured");
		if (m->context_window > 0)
			buf_printf(line, ", context %ld", m->context_window);
		if (m->naliases > 0) {
			buf_puts(line, ", aliases");
			for (k = 0; k < m->naliases; k++) {
				buf_putc(line, ' ');
				models_put(line, m->aliases[k]);
			}
		}
		if (strcmp(m->name, cfg->default_model) == 0)
			buf_puts(line, ", default");
		buf_puts(line, ")\n");
		fwrite(line->data, 1, line->len, stdout);
	}
}

/* Print the listing of one provider; returns 1 when it failed in a way that counts. A
 * listing that failed still prints the configured models, which work without it, and says
 * on stderr why the rest is missing. */
static int
models_print(const struct config *cfg, const struct models_slot *s, int named)
{
	const struct wevent *ev = s->ev;
	struct buf line = BUF_INIT;
	char *f;
	size_t i;
	int failed = 0;

	if (ev->error != NULL) {
		models_print_configured(cfg, s->p, &line);
		fflush(stdout);
		buf_reset(&line);
		f = apierr_format(ev->error);
		models_put(&line, f);
		free(f);
		if (!named && s->p->local && ev->error->kind == APIERR_TRANSPORT) {
			fprintf(stderr, "%s: not reachable at %s (listing skipped; ", s->p->name,
			    s->p->base_url);
		} else {
			fprintf(stderr, "natter: %s: listing the models failed: %s (", s->p->name,
			    buf_str(&line));
			failed = 1;
		}
		fprintf(stderr, "%s)\n", models_configured_count(cfg, s->p) > 0 ?
		    "only its configured models are listed" : "it has no configured models");
		buf_free(&line);
		return failed;
	}
	models_print_configured(cfg, s->p, &line);
	for (i = 0; i < ev->models.n; i++) {
		const struct model_info *m = &ev->models.v[i];

		if (models_configured(cfg, s->p, m->id))
			continue;
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

/* Say on stderr why a configured provider is not listed. */
static void
models_not_offered(const struct config_disabled *d)
{
	if (d->provider != NULL && !d->provider->local && d->provider->key_env != NULL)
		fprintf(stderr, "%s: no key (set %s)\n", d->name, d->provider->key_env);
	else
		fprintf(stderr, "%s: not offered (%s)\n", d->name, d->reason);
}

/* Print the usage summary to f. */
static void
models_usage(FILE *f)
{
	fputs("usage: natter models [--base-url URL] [PROVIDER]\n"
	    "Lists PROVIDER/MODEL lines for every offered provider (or one provider): the\n"
	    "configured models first, then the rest of the provider's own listing. When a\n"
	    "listing fails, the configured models are still listed and stderr says why.\n", f);
}

/* natter models: list models of usable providers. */
int
cmd_models(int argc, char **argv)
{
	struct config_errors errs = { NULL, 0 };
	struct config *cfg;
	struct models_slot *slots;
	struct worker *w;
	struct wevent *ev;
	struct pollfd pfd;
	struct provider *p;
	const char *name = NULL, *base = NULL;
	size_t i, nslots = 0, pending = 0;
	int rc = EXIT_OK, k;

	for (k = 1; k < argc; k++) {
		if (strcmp(argv[k], "-h") == 0 || strcmp(argv[k], "--help") == 0) {
			models_usage(stdout);
			return EXIT_OK;
		} else if (strcmp(argv[k], "--base-url") == 0 && k + 1 < argc) {
			base = argv[++k];
		} else if (argv[k][0] == '-' || name != NULL) {
			if (strcmp(argv[k], "--base-url") == 0)
				fputs("natter: models: --base-url needs a URL\n", stderr);
			else
				cli_bad_arg("models", argv[k]);
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
	cfg = config_load(NULL, 0, &errs);
	for (i = 0; i < errs.n; i++)
		fprintf(stderr, "%s\n", errs.v[i]);
	for (i = 0; i < cfg->nwarnings; i++)
		fprintf(stderr, "%s\n", cfg->warnings[i]);
	if (name != NULL && config_provider(cfg, name) == NULL) {
		for (i = 0; i < cfg->ndisabled; i++)
			if (strcmp(cfg->disabled[i].name, name) == 0)
				break;
		if (i == cfg->ndisabled) {
			fprintf(stderr, "natter: unknown provider '%s'\n", name);
			rc = EXIT_USAGE;
		} else if (base == NULL || config_offer(cfg, name) == NULL) {
			models_not_offered(&cfg->disabled[i]);
			rc = EXIT_PROVIDER;
		}
		if (rc != EXIT_OK) {
			config_free(cfg);
			config_errors_free(&errs);
			return rc;
		}
	}
	if (name == NULL)
		for (i = 0; i < cfg->ndisabled; i++)
			models_not_offered(&cfg->disabled[i]);
	slots = xcalloc(cfg->nproviders + 1, sizeof(*slots));
	worker_global_init();
	w = worker_start();
	for (i = 0; i < cfg->nproviders; i++) {
		p = cfg->providers[i];
		if (name != NULL && strcmp(p->name, name) != 0)
			continue;
		if (base != NULL) {
			free(p->base_url);
			p->base_url = xstrdup(base);
			while (p->base_url[0] != '\0' && p->base_url[strlen(p->base_url) - 1] == '/')
				p->base_url[strlen(p->base_url) - 1] = '\0';
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
		if (models_print(cfg, &slots[i], name != NULL))
			rc = EXIT_PROVIDER;
		wevent_free(slots[i].ev);
	}
	worker_stop(w);
	free(slots);
	config_free(cfg);
	config_errors_free(&errs);
	return rc;
}
