/*
 * `natter export SESSION [--format json|markdown|text] [-o FILE] [--raw]
 * [--with-attachments DIR]`: one stored session as JSON (every field, what `natter import`
 * reads back, attachments' bytes included), Markdown or plain text; --with-attachments
 * also writes each attached file into DIR as N-K-NAME (message N's file K).
 * `natter sessions export` is this same command. Stored text is untrusted, so Markdown and
 * text are sanitized for the terminal wherever they go (a file is read with cat, a pipe
 * ends at a terminal) unless --raw asks for the stored bytes; JSON is always safe and
 * lossless (export.c escapes what a terminal would act on). A file is created mode 0600.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "attach.h"
#include "buf.h"
#include "cli.h"
#include "cmd.h"
#include "export.h"
#include "store.h"
#include "text.h"
#include "xmalloc.h"

#define EXPORT_USAGE \
	"usage: natter export SESSION [--format json|markdown|text] [-o FILE] [--raw]\n" \
	"                     [--tree] [--with-attachments DIR]\n" \
	"SESSION is a session id (natter sessions lists them) or 'last'. The default format\n" \
	"is markdown; json keeps every stored field and is what natter import reads back.\n" \
	"-o FILE writes the file (mode 0600) instead of standard output; --raw keeps the\n" \
	"stored bytes of markdown and text instead of making them safe for a terminal.\n" \
	"The messages are the path on screen (the alternatives the interface shows);\n" \
	"--tree writes every alternative too, each saying which message it follows\n" \
	"(natter import reads only exports without --tree).\n" \
	"--with-attachments DIR also writes every attached file into DIR (made if missing)\n" \
	"as N-K-NAME: the K-th file of message N, NAME its file name (mode 0600).\n"

/* Say what is wrong with the command line; the usage exit status. */
static int
export_cmd_bad(const char *why, const char *arg)
{
	fprintf(stderr, "natter: export: %s%s%s%s\n", why, arg ? " '" : "", arg ? arg : "",
	    arg ? "'" : "");
	fputs(EXPORT_USAGE, stderr);
	return EXIT_USAGE;
}

/* Write text to path (0600) or to standard output for NULL or "-"; an exit status. */
static int
export_cmd_write(const char *path, const char *text)
{
	size_t len = strlen(text);

	if (path == NULL || strcmp(path, "-") == 0) {
		if (cli_write(1, text, len) != 0) {
			fprintf(stderr, "natter: export: writing the export: %s\n", strerror(errno));
			return 1;
		}
		return EXIT_OK;
	}
	if (export_write(path, text) != 0) {
		fprintf(stderr, "natter: export: %s: %s\n", path, strerror(errno));
		return 1;
	}
	return EXIT_OK;
}

/* Write n bytes to path, created mode 0600 and never through a symbolic link; 0 or -1. */
static int
export_cmd_file(const char *path, const unsigned char *p, size_t n)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600), saved;
	ssize_t w;

	if (fd < 0)
		return -1;
	while (n > 0) {
		w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			saved = w < 0 ? errno : EIO;
			close(fd);
			errno = saved;
			return -1;
		}
		p += w;
		n -= (size_t)w;
	}
	return close(fd);
}

/* Write every file attached in session id into dir; an exit status. */
static int
export_cmd_files(struct store *st, int64_t id, const char *dir)
{
	struct message_row *m;
	size_t n, i, k, written = 0;
	char *base, *path;
	int rc = EXIT_OK;

	if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
		fprintf(stderr, "natter: export: %s: %s\n", dir, strerror(errno));
		return 1;
	}
	if (store_messages(st, id, &m, &n) != 0) {
		fprintf(stderr, "natter: export: %s\n", store_error(st));
		return 1;
	}
	for (i = 0; i < n && rc == EXIT_OK; i++)
		for (k = 0; k < m[i].natts && rc == EXIT_OK; k++) {
			struct attach *a = m[i].atts[k];

			if (store_attach_load(st, a) != 0) {
				fprintf(stderr, "natter: export: %s\n", store_error(st));
				rc = 1;
				break;
			}
			base = attach_basename(a);
			path = xasprintf("%s/%zu-%zu-%s", dir, i + 1, k + 1, base);
			if (export_cmd_file(path, a->data, a->size) != 0) {
				fprintf(stderr, "natter: export: %s: %s\n", path, strerror(errno));
				rc = 1;
			} else {
				written++;
			}
			free(path);
			free(base);
		}
	store_messages_free(m, n);
	if (rc == EXIT_OK)
		fprintf(stderr, "natter: export: %zu attachment%s written to %s\n", written,
		    written == 1 ? "" : "s", dir);
	return rc;
}

/* natter export SESSION [--format F] [-o FILE] [--raw] [--with-attachments DIR]
 * (argv[0] is the command name). */
int
cmd_export(int argc, char **argv)
{
	enum export_format format = EXPORT_MARKDOWN;
	const char *out = NULL, *v, *which = NULL, *files = NULL;
	struct buf safe = BUF_INIT;
	struct store *st;
	int64_t id;
	char *text;
	int a, rc, raw = 0, tree = 0;

	for (a = 1; a < argc; a++) {
		v = NULL;
		if (strncmp(argv[a], "--format=", 9) == 0)
			v = argv[a] + 9;
		else if (strcmp(argv[a], "--format") == 0 || strcmp(argv[a], "-f") == 0) {
			if (a + 1 >= argc)
				return export_cmd_bad("option needs a value:", argv[a]);
			v = argv[++a];
		}
		if (v != NULL) {
			if (export_format_parse(v, &format) != 0)
				return export_cmd_bad("the format is json, markdown or text, not", v);
		} else if (strcmp(argv[a], "-o") == 0 || strcmp(argv[a], "--output") == 0) {
			if (a + 1 >= argc)
				return export_cmd_bad("option needs a value:", argv[a]);
			out = argv[++a];
		} else if (strcmp(argv[a], "--tree") == 0) {
			tree = 1;
		} else if (strcmp(argv[a], "--raw") == 0) {
			raw = 1;
		} else if (strcmp(argv[a], "--with-attachments") == 0) {
			if (a + 1 >= argc)
				return export_cmd_bad("option needs a value:", argv[a]);
			files = argv[++a];
		} else if (strncmp(argv[a], "--with-attachments=", 19) == 0) {
			files = argv[a] + 19;
		} else if (strcmp(argv[a], "-h") == 0 || strcmp(argv[a], "--help") == 0) {
			fputs(EXPORT_USAGE, stdout);
			return EXIT_OK;
		} else if (argv[a][0] == '-' && strcmp(argv[a], "-") != 0) {
			return export_cmd_bad("unknown option", argv[a]);
		} else if (which == NULL) {
			which = argv[a];
		} else {
			return export_cmd_bad("one session at a time, not also", argv[a]);
		}
	}
	if (which == NULL)
		return export_cmd_bad("which session? (an id or 'last')", NULL);
	if ((st = cli_store("export")) == NULL)
		return 1;
	if ((id = cli_session_id(st, "export", which)) == 0) {
		store_close(st);
		return 1;
	}
	text = export_session_tree(st, id, format, tree);
	if (text == NULL) {
		fprintf(stderr, "natter: export: %s\n", store_error(st));
		store_close(st);
		return 1;
	}
	if (files != NULL && (rc = export_cmd_files(st, id, files)) != EXIT_OK) {
		free(text);
		store_close(st);
		return rc;
	}
	store_close(st);
	/* JSON is safe as export_session made it; the other formats are the stored text. */
	if (!raw && format != EXPORT_JSON) {
		text_sanitize(text, strlen(text), &safe);
		free(text);
		text = buf_detach(&safe);
	}
	rc = export_cmd_write(out, text);
	free(text);
	return rc;
}
