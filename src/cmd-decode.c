/*
 * `natter decode`: run a raw response body (a saved SSE or NDJSON stream, or an HTTP error
 * body) through the same stream path the worker uses and print each normalized event as
 * one JSON line, then the summary. It is how a provider's odd output is inspected and
 * turned into a test vector without a network or a key. Each line is made safe to print
 * (text_json_safe): controls and bidi marks the JSON writer leaves raw become \u escapes,
 * and bytes that are not UTF-8 become \ufffd, so every line is valid JSON. A saved body may
 * quote a key (an echoing proxy), so the keys of the environment and of literal `key:`
 * lines are masked in every line printed; key_cmd is not run for this.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "cmd.h"
#include "config.h"
#include "http.h"
#include "proto.h"
#include "secret.h"
#include "stream.h"
#include "text.h"

static const char decode_usage[] =
    "usage: natter decode --protocol openai|anthropic|gemini|ollama [--status N]\n"
    "                     [-H 'Name: value']... [FILE|-]\n";

/* Write one finished JSON line to stdout, made safe to print. */
static void
decode_emit(struct buf *line)
{
	struct buf safe = BUF_INIT;

	line->len = secret_scrub(line->data, line->len);
	text_json_safe(buf_str(line), line->len, &safe);
	buf_putc(&safe, '\n');
	fwrite(safe.data, 1, safe.len, stdout);
	buf_free(&safe);
	buf_reset(line);
}

/* Print one normalized event as it is decoded. */
static void
decode_on_delta(void *ud, const struct delta *d)
{
	struct buf *line = ud;

	switch (d->kind) {
	case DELTA_TEXT:
	case DELTA_REASONING:
		buf_puts(line, d->kind == DELTA_TEXT ? "{\"type\":\"text\",\"text\":" :
		    "{\"type\":\"reasoning\",\"text\":");
		buf_json_string(line, d->text, d->len);
		buf_putc(line, '}');
		break;
	case DELTA_USAGE:
		buf_puts(line, "{\"type\":\"usage\",\"usage\":");
		stream_usage_json(d->usage, line);
		buf_putc(line, '}');
		break;
	case DELTA_FINISH:
		buf_puts(line, "{\"type\":\"finish\",\"finish_reason\":");
		buf_json_string(line, d->finish_reason, strlen(d->finish_reason));
		buf_putc(line, '}');
		break;
	case DELTA_ERROR:
		buf_puts(line, "{\"type\":\"error\",\"error\":");
		stream_error_json(d->error, 1, line);
		buf_putc(line, '}');
		break;
	case DELTA_TOOL_CALL:
		buf_puts(line, "{\"type\":\"tool_call\",\"call\":");
		stream_tool_call_json(d->call, line);
		buf_putc(line, '}');
		break;
	}
	decode_emit(line);
}

/* Load the config quietly, for the keys it registers (secret.h); its errors are for
 * `natter config check` to report, not for a decode. */
static void
decode_register_keys(void)
{
	struct config_errors errs = { NULL, 0 };

	config_free(config_load(NULL, CONFIG_NO_KEYCMD, &errs));
	config_errors_free(&errs);
}

/* Parse a decimal HTTP status in 100..599; -1 when it is not one. */
static int
decode_status(const char *s)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < 100 || v > 599)
		return -1;
	return (int)v;
}

/* Complain about the command line and return the usage exit status. */
static int
decode_bad(const char *fmt, const char *arg)
{
	fputs("natter decode: ", stderr);
	fprintf(stderr, fmt, arg);
	fputc('\n', stderr);
	fputs(decode_usage, stderr);
	return EXIT_USAGE;
}

/* The value of an option given as "--name value" or "--name=value"; NULL if argv[*i] is
 * not that option. Advances *i past a separate value. */
static const char *
decode_opt(int argc, char **argv, int *i, const char *shortname, const char *longname,
    int *missing)
{
	const char *a = argv[*i];
	size_t ll = strlen(longname);

	*missing = 0;
	if ((shortname != NULL && strcmp(a, shortname) == 0) || strcmp(a, longname) == 0) {
		if (*i + 1 >= argc) {
			*missing = 1;
			return NULL;
		}
		return argv[++*i];
	}
	if (strncmp(a, longname, ll) == 0 && a[ll] == '=')
		return a + ll + 1;
	if (shortname != NULL && strncmp(a, shortname, 2) == 0 && a[2] != '\0')
		return a + 2;
	return NULL;
}

/* natter decode: decode a saved body and print its events and summary. */
int
cmd_decode(int argc, char **argv)
{
	const struct proto *proto = NULL;
	const char *file = NULL, *v;
	struct http_headers headers = { NULL, 0 };
	struct buf line = BUF_INIT;
	struct stream s;
	int status = 200, i, fd, missing, rc;
	char chunk[65536];
	ssize_t n;

	for (i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
			fputs(decode_usage, stdout);
			http_headers_clear(&headers);
			return EXIT_OK;
		}
		if ((v = decode_opt(argc, argv, &i, "-p", "--protocol", &missing)) != NULL) {
			if ((proto = proto_find(v)) == NULL) {
				http_headers_clear(&headers);
				return decode_bad("unknown protocol '%s'", v);
			}
		} else if ((v = decode_opt(argc, argv, &i, NULL, "--status", &missing)) != NULL) {
			if ((status = decode_status(v)) < 0) {
				http_headers_clear(&headers);
				return decode_bad("bad HTTP status '%s'", v);
			}
		} else if ((v = decode_opt(argc, argv, &i, "-H", "--header", &missing)) != NULL) {
			if (strchr(v, ':') == NULL || v[0] == ':') {
				http_headers_clear(&headers);
				return decode_bad("a header must look like 'Name: value', not '%s'", v);
			}
			http_headers_add_line(&headers, v, strlen(v));
		} else if (missing) {
			http_headers_clear(&headers);
			return decode_bad("%s needs a value", a);
		} else if (a[0] == '-' && a[1] != '\0') {
			http_headers_clear(&headers);
			return decode_bad("unknown option '%s'", a);
		} else if (file != NULL) {
			http_headers_clear(&headers);
			return decode_bad("only one input file, not also '%s'", a);
		} else {
			file = a;
		}
	}
	if (proto == NULL) {
		http_headers_clear(&headers);
		return decode_bad("%s", "--protocol is required");
	}
	if (file == NULL || strcmp(file, "-") == 0) {
		fd = STDIN_FILENO;
	} else if ((fd = open(file, O_RDONLY)) < 0) {
		fprintf(stderr, "natter decode: %s: %s\n", file, strerror(errno));
		http_headers_clear(&headers);
		return EXIT_USAGE;
	}

	decode_register_keys();
	stream_init(&s, proto, decode_on_delta, &line);
	if (status != 200 || headers.n > 0)
		stream_set_status(&s, status, &headers);
	http_headers_clear(&headers);
	rc = EXIT_OK;
	/* read(2) rather than stdio so events appear as soon as a pipe delivers bytes. */
	for (;;) {
		n = read(fd, chunk, sizeof chunk);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		stream_feed(&s, chunk, (size_t)n);
		fflush(stdout);
	}
	if (n < 0) {
		fprintf(stderr, "natter decode: read: %s\n", strerror(errno));
		rc = EXIT_USAGE;
	}
	if (fd != STDIN_FILENO)
		close(fd);
	stream_finish(&s);
	stream_summary_json(&s, &line);
	decode_emit(&line);
	fflush(stdout);
	if (rc == EXIT_OK && (s.error != NULL || !s.complete))
		rc = EXIT_PROVIDER;
	stream_free(&s);
	buf_free(&line);
	return rc;
}
