/*
 * `natter import FILE` (`-` for standard input): a session from natter's own JSON export
 * becomes a new stored session holding exactly what the file holds, so `natter export
 * --format json` of it gives the file back but for the ids. The file is checked whole
 * (import.c) before anything is stored, and stored in one transaction, so a bad file or a
 * failing disk leaves nothing behind. Prints the new session's id.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "cli.h"
#include "cmd.h"
#include "import.h"
#include "store.h"
#include "text.h"
#include "xmalloc.h"

#define IMPORT_USAGE \
	"usage: natter import FILE|-\n" \
	"Stores the session of FILE, a JSON export (natter export --format json), as a new\n" \
	"session and prints its id; - reads standard input.\n"

/* Read all of path ("-": standard input), at most IMPORT_MAX_BYTES, into *out with its
 * length in *len (a NUL byte inside must not hide what follows it); 0, or -1 with errno. */
static int
import_cmd_read(const char *path, char **out, size_t *len)
{
	struct buf b = BUF_INIT;
	char tmp[65536];
	ssize_t r;
	int fd, saved;

	fd = strcmp(path, "-") == 0 ? dup(0) : open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	for (;;) {
		r = read(fd, tmp, sizeof(tmp));
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			saved = errno;
			close(fd);
			buf_free(&b);
			errno = saved;
			return -1;
		}
		if (r == 0)
			break;
		buf_append(&b, tmp, (size_t)r);
		if (b.len > IMPORT_MAX_BYTES) {
			close(fd);
			buf_free(&b);
			errno = EFBIG;
			return -1;
		}
	}
	close(fd);
	*len = b.len;
	buf_putc(&b, '\0');
	*out = buf_detach(&b);
	return 0;
}

/* natter import FILE|- */
int
cmd_import(int argc, char **argv)
{
	struct import_doc doc;
	struct buf name = BUF_INIT;
	struct store *st;
	const char *path = NULL;
	char *text = NULL, *err = NULL;
	size_t len = 0;
	int64_t id;
	int a, rc = 1;

	for (a = 1; a < argc; a++) {
		if (strcmp(argv[a], "-h") == 0 || strcmp(argv[a], "--help") == 0) {
			fputs(IMPORT_USAGE, stdout);
			return EXIT_OK;
		}
		if ((argv[a][0] == '-' && argv[a][1] != '\0') || path != NULL) {
			fprintf(stderr, "natter: import: %s '%s'\n", path != NULL ? "one file at a time, "
			    "not also" : "unknown option", argv[a]);
			fputs(IMPORT_USAGE, stderr);
			return EXIT_USAGE;
		}
		path = argv[a];
	}
	if (path == NULL) {
		fputs("natter: import: which file? (- for standard input)\n", stderr);
		fputs(IMPORT_USAGE, stderr);
		return EXIT_USAGE;
	}
	/* The name is the user's, but it may hold anything: it is printed as one safe line. */
	text_sanitize_line(path, strlen(path), &name);
	if (import_cmd_read(path, &text, &len) != 0) {
		fprintf(stderr, "natter: import: %s: %s\n", buf_str(&name), errno == EFBIG ?
		    "larger than the 512 MiB natter imports" : strerror(errno));
		goto out;
	}
	if (import_parse(text, len, &doc, &err) != 0) {
		fprintf(stderr, "natter: import: %s: %s\n", buf_str(&name), err);
		goto out;
	}
	if ((st = cli_store("import")) != NULL) {
		id = store_session_import(st, &doc.session, doc.msgs, doc.nmsgs);
		if (id > 0) {
			printf("%lld\n", (long long)id);
			rc = EXIT_OK;
		} else {
			fprintf(stderr, "natter: import: %s: not stored: %s\n", buf_str(&name),
			    store_error(st));
		}
		store_close(st);
	}
	import_free(&doc);
out:
	free(err);
	free(text);
	buf_free(&name);
	return rc;
}
