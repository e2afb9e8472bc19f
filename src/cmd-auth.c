/*
 * `natter auth`: every provider's key pool as every natter sees it (the windows and rests
 * are shared, keypool.h): keys masked, where each came from, its limits and use in each
 * window, and whether it rests after a 429.
 * Providers that are configured but not offered are listed with the reason, which is
 * usually the variable to set. Names, addresses and key sources come from the config and
 * from key_cmd output, so they are printed through the one-line sanitizer (text.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cmd.h"
#include "config.h"
#include "keypool.h"
#include "provider.h"
#include "text.h"

/* Print "n/limit" or "n" when unlimited. */
static void
cmd_auth_window(const char *name, long used, long limit)
{
	if (limit > 0)
		printf("  %s %ld/%ld", name, used, limit);
	else
		printf("  %s %ld", name, used);
}

/* natter auth [--config FILE]. */
int
cmd_auth(int argc, char **argv)
{
	struct config_errors errs = { NULL, 0 };
	struct config *c;
	struct keypool_stat st;
	struct buf l1 = BUF_INIT, l2 = BUF_INIT, l3 = BUF_INIT;
	size_t i, k;
	int rc = EXIT_OK;

	if (argc == 3 && strcmp(argv[1], "--config") == 0) {
		setenv("NATTER_CONFIG", argv[2], 1);
	} else if (argc != 1) {
		if (argc == 2 && strcmp(argv[1], "--config") == 0)
			fputs("natter: auth: --config needs a FILE\n", stderr);
		else
			cli_bad_arg("auth", argv[argc > 2 && strcmp(argv[1], "--config") == 0 ? 3 :
			    1]);
		fputs("usage: natter auth [--config FILE]\n", stderr);
		return EXIT_USAGE;
	}
	c = config_load(NULL, 0, &errs);
	/* What every natter sees: the windows and rests of the shared state. */
	config_share_pools(c, NULL);
	for (k = 0; k < errs.n; k++)
		fprintf(stderr, "%s\n", errs.v[k]);
	for (k = 0; k < c->nwarnings; k++)
		fprintf(stderr, "%s\n", c->warnings[k]);
	if (errs.n > 0)
		rc = EXIT_CONFIG;
	for (i = 0; i < c->nproviders; i++) {
		struct provider *p = c->providers[i];
		struct keypool *kp = c->pools[i];

		printf("%s (%s, %s)\n", text_line(&l1, p->name), text_line(&l2, p->protocol),
		    text_line(&l3, p->base_url));
		if (kp == NULL || keypool_count(kp) == 0) {
			printf("  no key needed\n");
			continue;
		}
		for (k = 0; k < keypool_count(kp); k++) {
			if (keypool_stat(kp, (int)k, &st) < 0)
				continue;
			printf("  key %zu %s (%s)", k + 1, text_line(&l1, st.masked),
			    text_line(&l2, st.source));
			cmd_auth_window("rpm", st.req_minute, st.rpm);
			cmd_auth_window("rpd", st.req_day, st.rpd);
			cmd_auth_window("tpm", st.tok_minute, st.tpm);
			if (st.blocked_for > 0)
				printf("  blocked for %.0fs", st.blocked_for);
			else
				printf("  ready");
			printf("\n");
			keypool_stat_free(&st);
		}
	}
	for (i = 0; i < c->ndisabled; i++)
		printf("%s: not offered (%s)\n", text_line(&l1, c->disabled[i].name),
		    text_line(&l2, c->disabled[i].reason));
	buf_free(&l1);
	buf_free(&l2);
	buf_free(&l3);
	config_free(c);
	config_errors_free(&errs);
	return rc;
}
