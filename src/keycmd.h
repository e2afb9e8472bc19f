/*
 * Key commands (`key_cmd: pass show openai`): run one through /bin/sh, take the first line
 * it prints as the key, and say plainly why when that fails: the command's exit status (not
 * the raw wait status), the signal that killed it, or that it ran past its time limit and
 * was stopped, so a hanging command never hangs natter.
 */
#ifndef NATTER_KEYCMD_H
#define NATTER_KEYCMD_H

/* The time limit when the config gives none, in seconds. */
#define KEYCMD_TIMEOUT 10.0

/*
 * Run cmd with standard input from /dev/null, standard error inherited (a prompt still
 * reaches the terminal), for at most timeout_s seconds. Returns 0 with *key set to the first
 * line of its output, trailing blanks cut (caller wipes and frees), or -1 with *err set to
 * why ("exited with status 1", "timed out after 10 s", ...; caller frees).
 */
int keycmd_run(const char *cmd, double timeout_s, char **key, char **err);

#endif
