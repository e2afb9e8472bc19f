/*
 * Diagnostics: an optional debug log file (NATTER_LOG=path) and the one fatal path.
 * Nothing written here ever contains an API key: callers pass redacted data only, and
 * log_debug masks every key natter holds (secret.h) in what it writes.
 */
#ifndef NATTER_LOG_H
#define NATTER_LOG_H

/* A hook run before log_fatal prints, e.g. to restore the terminal. */
typedef void (*log_fatal_hook)(void);

void log_set_fatal_hook(log_fatal_hook hook);
void log_open_from_env(void);
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
_Noreturn void log_fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Mask a secret for display: keeps a short prefix and suffix ("sk-a…xyz9"). */
char *log_mask_key(const char *key);

#endif
