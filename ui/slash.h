/* The slash commands typed in the input, listed for the help overlay and completion. */
#ifndef NATTER_SLASH_H
#define NATTER_SLASH_H

#include <stddef.h>

struct slash_cmd {
	const char *name;  /* without the slash */
	const char *args;
	const char *help;
};

/* The commands natter offers. */
const struct slash_cmd *slash_table(size_t *n);

#endif
