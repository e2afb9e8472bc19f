/*
 * Debug logging and the fatal path. The log is off unless NATTER_LOG names a file; it is for
 * developers chasing a provider problem, so it records events, never request headers or keys
 * (and every line passes the secret scrubber in case a provider's text quoted one).
 * log_fatal runs the registered hook first (the UI uses it to leave curses mode) so a fatal
 * error never leaves a garbled terminal.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "secret.h"
#include "xmalloc.h"

static log_fatal_hook fatal_hook;
static FILE *log_file;

/* Register the function log_fatal calls before printing. */
void
log_set_fatal_hook(log_fatal_hook hook)
{
	fatal_hook = hook;
}

/* Open the debug log named by NATTER_LOG, if any. */
void
log_open_from_env(void)
{
	const char *path = getenv("NATTER_LOG");

	if (path == NULL || *path == '\0' || log_file != NULL)
		return;
	log_file = fopen(path, "a");
	if (log_file != NULL)
		setvbuf(log_file, NULL, _IOLBF, 0);
}

/* Append one line to the debug log when it is open, with every key natter holds masked. */
void
log_debug(const char *fmt, ...)
{
	va_list ap;
	struct timespec ts;
	char *line;
	int n;

	if (log_file == NULL)
		return;
	clock_gettime(CLOCK_REALTIME, &ts);
	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	line = xmalloc((size_t)n + 1);
	va_start(ap, fmt);
	vsnprintf(line, (size_t)n + 1, fmt, ap);
	va_end(ap);
	n = (int)secret_scrub(line, (size_t)n);
	fprintf(log_file, "%lld.%03ld %.*s\n", (long long)ts.tv_sec, ts.tv_nsec / 1000000, n, line);
	free(line);
}

/* Print "natter: message" to stderr after running the hook, then exit(70). */
void
log_fatal(const char *fmt, ...)
{
	va_list ap;

	if (fatal_hook != NULL) {
		log_fatal_hook h = fatal_hook;

		fatal_hook = NULL;
		h();
	}
	fputs("natter: fatal: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(70);
}

/* Return a masked copy of key that is safe to show: "sk-a…wxyz", or "…" for short keys. */
char *
log_mask_key(const char *key)
{
	size_t n;

	if (key == NULL || *key == '\0')
		return xstrdup("(none)");
	n = strlen(key);
	if (n < 12)
		return xstrdup("\xe2\x80\xa6");
	return xasprintf("%.4s\xe2\x80\xa6%s", key, key + n - 4);
}
