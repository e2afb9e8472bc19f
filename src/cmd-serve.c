/*
 * `natter serve [--listen ADDR:PORT] [--token-env VAR]`: natter as a local HTTP gateway.
 * Any OpenAI-compatible client (an SDK, an editor plugin, another chat UI) and clients of
 * the conversation API reach every provider natter knows through one endpoint, with
 * natter's keys, pools, limits, retries and fallbacks, and every chat is a natter session.
 * This file reads the command line and the serve: section, refuses an exposed address
 * without a token, opens the store and runs the serve loop (serve-loop.h) over the HTTP
 * side (serve.h) until SIGINT or SIGTERM.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "cmd.h"
#include "config.h"
#include "secret.h"
#include "serve-loop.h"
#include "serve.h"
#include "store.h"
#include "worker.h"
#include "xmalloc.h"

/* The stop pipe the signal handler writes to. */
static int serve_cmd_pipe[2] = { -1, -1 };

/* Print the usage summary to f. */
static void
serve_cmd_usage(FILE *f)
{
	fputs("usage: natter serve [--listen ADDR:PORT] [--token-env VAR]\n"
	    "Serves natter's providers over HTTP: the OpenAI API (POST /v1/chat/completions,\n"
	    "GET /v1/models) and the conversation API (POST /api/chat/stream, GET and DELETE\n"
	    "/api/conversations[/ID], GET /health). Chats are stored as natter sessions.\n"
	    "--listen overrides serve.listen (default 127.0.0.1:8080; port 0 picks a free one);\n"
	    "--token-env VAR accepts the bearer token in $VAR besides serve.tokens. An address\n"
	    "other than loopback needs a token. One line per request goes to stderr.\n", f);
}

/* Report a usage error. */
static int
serve_cmd_bad(const char *msg, const char *arg)
{
	fprintf(stderr, "natter: serve: %s%s%s%s (see natter serve --help)\n", msg,
	    arg != NULL ? " '" : "", arg != NULL ? arg : "", arg != NULL ? "'" : "");
	return EXIT_USAGE;
}

/* Split ADDR:PORT ([V6]:PORT, :PORT for every address, localhost:PORT) into a numeric
 * host (caller frees) and a port; -1 when it is not one. */
static int
serve_cmd_listen(const char *s, char **host, int *port)
{
	const char *colon;
	char *end, *h;
	long p;

	if (s[0] == '[') {
		if ((colon = strstr(s, "]:")) == NULL)
			return -1;
		h = xstrndup(s + 1, (size_t)(colon - s - 1));
		colon++;
	} else {
		if ((colon = strrchr(s, ':')) == NULL)
			return -1;
		h = xstrndup(s, (size_t)(colon - s));
	}
	p = strtol(colon + 1, &end, 10);
	if (colon[1] == '\0' || *end != '\0' || p < 0 || p > 65535) {
		free(h);
		return -1;
	}
	if (h[0] == '\0' || strcmp(h, "*") == 0) {
		free(h);
		h = xstrdup("0.0.0.0");
	} else if (strcmp(h, "localhost") == 0) {
		free(h);
		h = xstrdup("127.0.0.1");
	}
	*host = h;
	*port = (int)p;
	return 0;
}

/* Whether a numeric address is a loopback one (127.0.0.0/8, ::1). */
static int
serve_cmd_loopback(const char *host)
{
	return strncmp(host, "127.", 4) == 0 || strcmp(host, "::1") == 0 ||
	    strncmp(host, "::ffff:127.", 11) == 0;
}

/* SIGINT, SIGTERM: wake the loop to stop. */
static void
serve_cmd_signal(int sig)
{
	int saved = errno;

	(void)sig;
	if (write(serve_cmd_pipe[1], "x", 1) < 0)
		errno = saved;
	errno = saved;
}

/* The stop pipe, with the handlers installed; -1 on failure. */
static int
serve_cmd_signals(void)
{
	struct sigaction sa;

	if (pipe(serve_cmd_pipe) != 0)
		return -1;
	fcntl(serve_cmd_pipe[0], F_SETFL, O_NONBLOCK);
	fcntl(serve_cmd_pipe[1], F_SETFL, O_NONBLOCK);
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = serve_cmd_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	return serve_cmd_pipe[0];
}

/* Parse the command line; -1 to go on, else an exit status. */
static int
serve_cmd_parse(int argc, char **argv, const char **listen, const char **token_env)
{
	static const struct option longopts[] = {
		{ "listen", required_argument, NULL, 'l' },
		{ "token-env", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, ":l:t:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'l':
			*listen = optarg;
			break;
		case 't':
			*token_env = optarg;
			break;
		case 'h':
			serve_cmd_usage(stdout);
			return EXIT_OK;
		case ':':
			return serve_cmd_bad("option needs a value:", argv[optind - 1]);
		default:
			return serve_cmd_bad("unknown option", argv[optind - 1]);
		}
	}
	if (optind < argc)
		return serve_cmd_bad("unexpected argument", argv[optind]);
	return -1;
}

/* The accepted tokens: the config's and --token-env's; -1 after saying what is missing. */
static int
serve_cmd_tokens(struct config *cfg, const char *token_env, struct serve_opts *o)
{
	const char *v;

	if (cfg->serve.missing != NULL) {
		fprintf(stderr, "natter: serve: serve.tokens names %s, which is not set\n",
		    cfg->serve.missing);
		return -1;
	}
	o->tokens = xcalloc(cfg->serve.ntokens + 2, sizeof *o->tokens);
	if (cfg->serve.ntokens > 0)
		memcpy(o->tokens, cfg->serve.tokens, cfg->serve.ntokens * sizeof *o->tokens);
	o->ntokens = cfg->serve.ntokens;
	if (token_env == NULL)
		return 0;
	if ((v = getenv(token_env)) == NULL || v[0] == '\0') {
		fprintf(stderr, "natter: serve: --token-env %s: the variable is not set\n",
		    token_env);
		return -1;
	}
	secret_add(v);
	o->tokens[o->ntokens++] = (char *)v;
	return 0;
}

/* Open the store, listen and run the loop; returns the exit status. */
static int
serve_cmd_run(struct config *cfg, struct serve_opts *o)
{
	struct store *st;
	struct serve *srv;
	char *err = NULL;
	int sigfd, rc;

	if ((sigfd = serve_cmd_signals()) < 0) {
		fprintf(stderr, "natter: serve: %s\n", strerror(errno));
		return EXIT_PROVIDER;
	}
	if ((st = cli_store("serve")) == NULL)
		fputs("natter: serve: chats will not be stored\n", stderr);
	else
		store_set_brief(st, 1);  /* the loop indexes replies for search when idle */
	worker_global_init();
	if ((srv = serve_start(o, &err)) == NULL) {
		fprintf(stderr, "natter: serve: %s\n", err);
		free(err);
		if (st != NULL)
			store_close(st);
		return EXIT_PROVIDER;
	}
	fprintf(stderr, "natter serve: listening on http://%s%s%s:%d (OpenAI API under /v1, "
	    "conversations under /api)%s\n", strchr(o->host, ':') ? "[" : "", o->host,
	    strchr(o->host, ':') ? "]" : "", serve_port(srv),
	    o->ntokens > 0 ? ", bearer token required" : "");
	rc = serve_loop_run(cfg, st, srv, sigfd);
	serve_stop(srv);
	if (st != NULL)
		store_close(st);
	fputs("natter serve: stopped\n", stderr);
	return rc;
}

/* natter serve: the HTTP gateway. */
int
cmd_serve(int argc, char **argv)
{
	struct config_errors errs = { NULL, 0 };
	struct serve_opts o;
	struct config *cfg = NULL;
	const char *listen = NULL, *token_env = NULL;
	char *host = NULL;
	int rc;

	memset(&o, 0, sizeof o);
	if ((rc = serve_cmd_parse(argc, argv, &listen, &token_env)) >= 0)
		return rc;
	cfg = cli_config(&errs);
	if (listen == NULL)
		listen = cfg->serve.listen;
	if (serve_cmd_listen(listen, &host, &o.port) != 0) {
		rc = serve_cmd_bad("--listen takes ADDR:PORT, [IPV6]:PORT or :PORT, not", listen);
		goto out;
	}
	o.host = host;
	if (serve_cmd_tokens(cfg, token_env, &o) != 0) {
		rc = EXIT_CONFIG;
		goto out;
	}
	if (o.ntokens == 0 && !serve_cmd_loopback(host)) {
		fprintf(stderr, "natter: serve: refusing to listen on %s without a bearer token: "
		    "anyone who reaches it could spend your provider keys. Set serve.tokens or "
		    "--token-env VAR, or listen on 127.0.0.1\n", host);
		rc = EXIT_USAGE;
		goto out;
	}
	o.cors = cfg->serve.cors;
	o.ncors = cfg->serve.ncors;
	o.max_body = cfg->serve.max_body;
	rc = serve_cmd_run(cfg, &o);
out:
	free(o.tokens);
	free(host);
	config_free(cfg);
	config_errors_free(&errs);
	return rc;
}
