/*
 * Stream one reply to stdout through libnatter: the user's config (providers, keys,
 * models), the default model or -m MODEL, and the session store natter itself writes.
 *
 *     cc stream.c $(pkg-config --cflags --libs natter) -o stream
 *     ./stream [-m MODEL] "why is the sky blue?"
 */
#include <natter.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Print each piece of the reply as it arrives. */
static void
on_text(struct natter_reply *r, const char *p, size_t n, void *arg)
{
	(void)r;
	(void)arg;
	fwrite(p, 1, n, stdout);
	fflush(stdout);
}

/* Retry waits and fallbacks go to stderr. */
static void
on_notice(struct natter_reply *r, const char *line, void *arg)
{
	(void)r;
	(void)arg;
	fprintf(stderr, "stream: %s\n", line);
}

int
main(int argc, char **argv)
{
	struct natter_callbacks cbs = { on_text, NULL, on_notice, NULL };
	const char *model = NULL, *prompt;
	struct natter_figures fig;
	struct natter_chat *chat;
	struct natter_reply *reply;
	struct natter *n;
	char *err = NULL;
	int rc;

	if (argc > 2 && strcmp(argv[1], "-m") == 0) {
		model = argv[2];
		argv += 2;
		argc -= 2;
	}
	if (argc != 2) {
		fputs("usage: stream [-m MODEL] PROMPT\n", stderr);
		return 2;
	}
	prompt = argv[1];
	if ((n = natter_open(NULL, &err)) == NULL ||
	    (chat = natter_chat_new(n, model, &err)) == NULL ||
	    (reply = natter_send(chat, prompt, &cbs, NULL, &err)) == NULL) {
		fprintf(stderr, "stream: %s\n", err);
		return 1;
	}
	while (natter_wait(n, -1) > 0)
		;
	natter_reply_figures(reply, &fig);
	rc = natter_reply_state(reply) == NATTER_COMPLETE ? 0 : 1;
	fprintf(stderr, "\n[%s · %ld tokens · session %lld%s%s]\n", natter_reply_model(reply),
	    fig.output_tokens, (long long)natter_chat_id(chat), rc ? " · " : "",
	    rc ? (natter_reply_error(reply) ? natter_reply_error(reply) : "cut off") : "");
	natter_reply_free(reply);
	natter_chat_free(chat);
	natter_close(n);
	return rc;
}
