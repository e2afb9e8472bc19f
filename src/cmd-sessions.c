/*
 * `natter sessions`: the stored chats from the command line, for scripts and for finding
 * an old conversation without opening the UI. list, show, search, export, archive,
 * unarchive and rm all work on the database natter(1) describes (NATTER_DB overrides it);
 * an archived session is left out of list unless asked for. Stored text comes from
 * models, editors and other programs and is untrusted, so everything printed goes through
 * the sanitizer (text.h): titles, models and list rows as one line, messages as blocks.
 * `sessions export` is `natter export` (cmd-export.c), which sanitizes exports too.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "attach.h"
#include "buf.h"
#include "cli.h"
#include "cmd.h"
#include "export.h"
#include "session.h"
#include "store.h"
#include "text.h"
#include "xmalloc.h"

#define SESSIONS_USAGE \
	"usage: natter sessions [list [-n N] [--archived | --all]]\n" \
	"       natter sessions show ID [--tree]\n" \
	"       natter sessions search [-n N] [--before ID | --rank | --semantic] QUERY...\n" \
	"       natter sessions export ID [--format md|json|text] [-o FILE] [--raw]\n" \
	"                              [--tree] [--with-attachments DIR]\n" \
	"       natter sessions archive ID...\n" \
	"       natter sessions unarchive ID...\n" \
	"       natter sessions rm ID\n"

/* Print the usage and return the usage exit status. */
static int
sessions_usage(const char *why)
{
	if (why != NULL)
		fprintf(stderr, "natter sessions: %s\n", why);
	fputs(SESSIONS_USAGE, stderr);
	return EXIT_USAGE;
}

/* Parse a positive decimal id; 0 on success. */
static int
sessions_parse_id(const char *s, int64_t *id)
{
	char *end;
	long long v;

	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v <= 0)
		return -1;
	*id = v;
	return 0;
}

/* Parse a non-negative count for -n; 0 on success. */
static int
sessions_parse_count(const char *s, size_t *n)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < 0)
		return -1;
	*n = (size_t)v;
	return 0;
}

/* Open the default store or print why not. */
static struct store *
sessions_open(void)
{
	char *err = NULL;
	struct store *st = store_open(NULL, &err);

	if (st == NULL) {
		fprintf(stderr, "natter: %s\n", err);
		free(err);
	}
	return st;
}

/* Append s to b made safe for a terminal, with search match markers shown as brackets;
 * flat is the one-line form (newlines and tabs as spaces). */
static void
sessions_clean(struct buf *b, const char *s, int flat)
{
	struct buf tmp = BUF_INIT;

	for (; *s != '\0'; s++)
		buf_putc(&tmp, *s == 0x02 ? '[' : *s == 0x03 ? ']' : *s);
	if (flat)
		text_sanitize_line(tmp.data != NULL ? tmp.data : "", tmp.len, b);
	else
		text_sanitize(tmp.data != NULL ? tmp.data : "", tmp.len, b);
	buf_free(&tmp);
}

/* Print s cleaned, followed by end. */
static void
sessions_print(const char *s, int flat, const char *end)
{
	struct buf b = BUF_INIT;

	sessions_clean(&b, s != NULL ? s : "", flat);
	fputs(buf_str(&b), stdout);
	fputs(end, stdout);
	buf_free(&b);
}

/* Local "YYYY-MM-DD HH:MM" for unix seconds. */
static void
sessions_time(char *out, size_t len, int64_t secs)
{
	time_t t = (time_t)secs;
	struct tm tm;

	localtime_r(&t, &tm);
	strftime(out, len, "%Y-%m-%d %H:%M", &tm);
}

/* natter sessions list [-n N] [--archived | --all] */
static int
sessions_list(int argc, char **argv)
{
	struct session_row *rows;
	struct store *st;
	size_t n, i, limit = 0;
	char when[32];
	enum store_which which = STORE_ACTIVE;
	int a, whiches = 0;

	for (a = 1; a < argc; a++) {
		if (strcmp(argv[a], "-n") == 0 && a + 1 < argc) {
			if (sessions_parse_count(argv[++a], &limit) != 0)
				return sessions_usage("-n wants a number");
		} else if (strcmp(argv[a], "--archived") == 0) {
			which = STORE_ARCHIVED;
			whiches++;
		} else if (strcmp(argv[a], "--all") == 0) {
			which = STORE_ALL;
			whiches++;
		} else {
			return sessions_usage("list takes -n N and --archived or --all");
		}
	}
	if (whiches > 1)
		return sessions_usage("list takes --archived or --all, not both");
	if ((st = sessions_open()) == NULL)
		return 1;
	if (store_sessions_which(st, which, &rows, &n, limit) != 0) {
		fprintf(stderr, "natter: %s\n", store_error(st));
		store_close(st);
		return 1;
	}
	if (n > 0)
		printf("%6s  %-16s  %5s  %8s  %-24s  %s\n", "ID", "UPDATED", "MSGS", "TOKENS",
		    "MODEL", "TITLE");
	for (i = 0; i < n; i++) {
		struct buf model = BUF_INIT, label = BUF_INIT;

		sessions_time(when, sizeof(when), rows[i].updated);
		if (rows[i].model != NULL || rows[i].answered != NULL)
			session_row_label(&rows[i], &label);
		sessions_clean(&model, label.len > 0 ? label.data : "-", 1);
		buf_free(&label);
		printf("%6lld  %-16s  %5ld  %8ld  %-24s  ", (long long)rows[i].id, when,
		    rows[i].nmessages, rows[i].input_tokens + rows[i].output_tokens,
		    buf_str(&model));
		/* With --all an archived session says so; --archived lists nothing else. */
		sessions_print(rows[i].title[0] != '\0' ? rows[i].title : "untitled", 1,
		    which == STORE_ALL && rows[i].archived ? " (archived)\n" : "\n");
		buf_free(&model);
	}
	store_sessions_free(rows, n);
	store_close(st);
	return EXIT_OK;
}

/* natter sessions show ID */
static int
sessions_show(int argc, char **argv)
{
	struct session_row *s;
	struct message_row *m;
	struct store *st;
	struct buf b1 = BUF_INIT, b2 = BUF_INIT;
	int64_t id;
	size_t n, i, k;
	char when[32];
	int col, ncols, tree = argc == 3 && strcmp(argv[2], "--tree") == 0;

	if (argc != 2 + tree || sessions_parse_id(argv[1], &id) != 0)
		return sessions_usage("show wants one session id (and --tree for every "
		    "alternative)");
	if ((st = sessions_open()) == NULL)
		return 1;
	s = store_session_get(st, id);
	m = NULL;
	n = 0;
	/* The path with each round nobody kept whole, or every message. */
	if (s == NULL || (tree ? store_messages_tree(st, id, &m, &n) :
	    store_messages(st, id, &m, &n) != 0 || store_rounds_whole(st, &m, &n)) != 0) {
		fprintf(stderr, "natter: %s\n", store_error(st));
		store_messages_free(m, n);
		store_sessions_free(s, s != NULL);
		store_close(st);
		return 1;
	}
	if (!tree)
		export_as_line(m, n);
	printf("session %lld: ", (long long)s->id);
	sessions_print(s->title[0] != '\0' ? s->title : "untitled", 1, s->archived ?
	    " (archived)\n" : "\n");
	sessions_time(when, sizeof(when), s->updated);
	printf("%s/%s, updated %s, %ld messages, %ld tokens in, %ld out, $%.4f\n",
	    text_line(&b1, s->provider != NULL ? s->provider : "-"),
	    text_line(&b2, s->model != NULL ? s->model : "-"), when,
	    s->nmessages, s->input_tokens, s->output_tokens, s->cost);
	if (s->system != NULL) {
		fputs("system: ", stdout);
		sessions_print(s->system, 0, "\n");
	}
	for (i = 0; i < n; i++) {
		sessions_time(when, sizeof(when), m[i].created / 1000);
		printf("\n[%s", store_role_name(m[i].role));
		if (m[i].role == ROLE_ASSISTANT && m[i].model != NULL)
			printf(" %s", text_line(&b1, m[i].model));
		if ((m[i].role == ROLE_TOOL_CALL || m[i].role == ROLE_TOOL) && m[i].tool_name != NULL)
			printf(" %s", text_line(&b1, m[i].tool_name));
		printf("] %s", when);
		if (m[i].state != MSG_COMPLETE)
			printf(" (%s)", store_state_name(m[i].state));
		if (m[i].role == ROLE_TOOL && m[i].tool_error)
			fputs(" (error)", stdout);
		col = export_compare_column(m, n, i, &ncols);
		if (col >= 0)
			printf(" [compare %d/%d%s]", col + 1, ncols,
			    m[i].compare_pick == col ? ", kept" : "");
		else if (ncols > 0)
			printf(" [compared on %d models]", ncols);
		buf_reset(&b1);
		export_branch_note(&b1, m, n, i);
		if (tree || b1.len > 0)
			printf(" [#%zu%s]", i + 1, buf_str(&b1));
		fputc('\n', stdout);
		sessions_print(m[i].content, 0, "\n");
		for (k = 0; k < m[i].natts; k++) {
			buf_reset(&b1);
			attach_describe(m[i].atts[k], &b1);
			fputs("attached: ", stdout);
			sessions_print(b1.data, 1, "\n");
		}
		if (m[i].error != NULL && m[i].error[0] != '\0') {
			fputs(m[i].state == MSG_ERROR ? "error: " : "note: ", stdout);
			sessions_print(m[i].error, 1, "\n");
		}
	}
	store_messages_free(m, n);
	store_sessions_free(s, 1);
	store_close(st);
	buf_free(&b1);
	buf_free(&b2);
	return EXIT_OK;
}

/* natter sessions search [-n N] [--before ID | --rank] QUERY...: newest first, a page at a
 * time (the next page starts below the last id shown, which stderr names after the page,
 * with the count of every hit printed once the page is out), or best first (--rank, among
 * the newest hits); --semantic ranks by meaning (cmd-semantic.c). */
static int
sessions_search(int argc, char **argv)
{
	struct buf q = BUF_INIT;
	struct message_row *m;
	struct store *st;
	size_t n, i, limit = 20, want;
	int64_t before = 0;
	long total;
	char when[32];
	int a = 1, rc = EXIT_OK, rank = 0, semantic = 0;

	for (; a < argc && argv[a][0] == '-' && argv[a][1] != '\0'; a++) {
		if (strcmp(argv[a], "--") == 0) {
			a++;
			break;
		}
		if (strcmp(argv[a], "-n") == 0 && a + 1 < argc) {
			if (sessions_parse_count(argv[++a], &limit) != 0)
				return sessions_usage("-n wants a number");
		} else if (strcmp(argv[a], "--before") == 0 && a + 1 < argc) {
			if (sessions_parse_id(argv[++a], &before) != 0)
				return sessions_usage("--before wants a message id");
		} else if (strcmp(argv[a], "--rank") == 0) {
			rank = 1;
		} else if (strcmp(argv[a], "--semantic") == 0) {
			semantic = 1;
		} else {
			break;
		}
	}
	if (rank && before != 0)
		return sessions_usage("--rank and --before do not go together");
	if (semantic && (rank || before != 0))
		return sessions_usage("--semantic ranks by meaning: it takes neither --rank nor --before");
	if (a >= argc)
		return sessions_usage("search wants a query");
	for (; a < argc; a++) {
		if (q.len)
			buf_putc(&q, ' ');
		buf_puts(&q, argv[a]);
	}
	if (semantic) {
		rc = cmd_semantic_search(buf_str(&q), limit);
		buf_free(&q);
		return rc;
	}
	if ((st = sessions_open()) == NULL) {
		buf_free(&q);
		return 1;
	}
	/* One hit past the page says whether there is a next one. */
	want = limit == 0 || rank ? limit : limit + 1;
	if ((rank ? store_search(st, buf_str(&q), &m, &n, limit) :
	    store_search_newest(st, buf_str(&q), before, want, &m, &n)) != 0) {
		fprintf(stderr, "natter: %s\n", store_error(st));
		rc = 1;
	} else {
		for (i = 0; i < n && (limit == 0 || i < limit); i++) {
			sessions_time(when, sizeof(when), m[i].created / 1000);
			printf("%6lld  %s  %-9s  ", (long long)m[i].session_id, when,
			    store_role_name(m[i].role));
			sessions_print(m[i].content, 1, "\n");
		}
		if (!rank && limit != 0 && n > limit) {
			fflush(stdout);
			if (store_search_count(st, buf_str(&q), &total) == 0)
				fprintf(stderr, "natter: more hits (%ld in all); the next page:"
				    " --before %lld\n", total, (long long)m[limit - 1].id);
		}
		store_messages_free(m, n);
	}
	buf_free(&q);
	store_close(st);
	return rc;
}

/* natter sessions export ID ...: the same command as natter export (cmd-export.c). */
static int
sessions_export(int argc, char **argv)
{
	return cmd_export(argc, argv);
}

/* natter sessions rm ID */
static int
sessions_rm(int argc, char **argv)
{
	struct store *st;
	int64_t id;
	int rc = EXIT_OK;

	if (argc != 2 || sessions_parse_id(argv[1], &id) != 0)
		return sessions_usage("rm wants one session id");
	if ((st = sessions_open()) == NULL)
		return 1;
	if (store_session_delete(st, id) != 0) {
		fprintf(stderr, "natter: %s\n", store_error(st));
		rc = 1;
	} else {
		printf("deleted session %lld\n", (long long)id);
	}
	store_close(st);
	return rc;
}

/* natter sessions archive ID... (archived 1) or unarchive ID... (0): every id is tried;
 * the status is 1 when one of them could not be changed. */
static int
sessions_archive(int argc, char **argv, int archived)
{
	struct store *st;
	int64_t id;
	int i, rc = EXIT_OK;

	if (argc < 2)
		return sessions_usage(archived ? "archive wants session ids" :
		    "unarchive wants session ids");
	for (i = 1; i < argc; i++)
		if (sessions_parse_id(argv[i], &id) != 0)
			return sessions_usage(archived ? "archive wants session ids" :
			    "unarchive wants session ids");
	if ((st = sessions_open()) == NULL)
		return 1;
	for (i = 1; i < argc; i++) {
		sessions_parse_id(argv[i], &id);
		if (store_session_archive(st, id, archived) != 0) {
			fprintf(stderr, "natter: %s\n", store_error(st));
			rc = 1;
		} else {
			printf("%s session %lld\n", archived ? "archived" : "unarchived",
			    (long long)id);
		}
	}
	store_close(st);
	return rc;
}

/* natter sessions [list|show|search|export|archive|unarchive|rm] ... */
int
cmd_sessions(int argc, char **argv)
{
	const char *sub = argc > 1 ? argv[1] : "list";
	struct buf b = BUF_INIT;

	if (argc > 1 && (strcmp(sub, "-h") == 0 || strcmp(sub, "--help") == 0)) {
		fputs(SESSIONS_USAGE, stdout);
		return EXIT_OK;
	}
	if (argc <= 1)
		return sessions_list(1, argv);
	if (strcmp(sub, "list") == 0 || strcmp(sub, "ls") == 0)
		return sessions_list(argc - 1, argv + 1);
	if (strcmp(sub, "show") == 0)
		return sessions_show(argc - 1, argv + 1);
	if (strcmp(sub, "search") == 0)
		return sessions_search(argc - 1, argv + 1);
	if (strcmp(sub, "export") == 0)
		return sessions_export(argc - 1, argv + 1);
	if (strcmp(sub, "archive") == 0)
		return sessions_archive(argc - 1, argv + 1, 1);
	if (strcmp(sub, "unarchive") == 0)
		return sessions_archive(argc - 1, argv + 1, 0);
	if (strcmp(sub, "rm") == 0 || strcmp(sub, "delete") == 0)
		return sessions_rm(argc - 1, argv + 1);
	if (strcmp(sub, "-n") == 0 || strcmp(sub, "--archived") == 0 || strcmp(sub, "--all") == 0)
		return sessions_list(argc, argv);
	if (sub[0] == '-') {
		cli_bad_arg("sessions", sub);
		return sessions_usage(NULL);
	}
	fprintf(stderr, "natter: sessions: unknown subcommand '%s'\n", text_line(&b, sub));
	buf_free(&b);
	return sessions_usage(NULL);
}
