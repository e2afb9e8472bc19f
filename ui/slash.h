/* The slash commands typed in the input: one table drives dispatch, the help overlay and
 * completion, each row carrying its handler (as tmux's cmd entries do). */
#ifndef NATTER_SLASH_H
#define NATTER_SLASH_H

#include <stddef.h>

struct app;

struct slash_cmd {
	const char *name;  /* without the slash */
	const char *alias; /* another name it answers to, or NULL */
	const char *args;
	const char *help;
	void (*run)(struct app *a, const char *args);
};

/* The commands natter offers. */
const struct slash_cmd *slash_table(size_t *n);

#endif
