/*
 * Entry points of the full-screen interface, free of curses so that src/main.c can call
 * them without including it: the UI itself and the `natter keys` subcommand, whose table
 * lives in ui/keys.c.
 */
#ifndef NATTER_UI_H
#define NATTER_UI_H

struct config;

/* Apply a loaded config's key bindings to the key table; -1 with *err on a bad one. */
int ui_apply_bindings(const struct config *c, char **err);
/* Run the interface; argv may carry -m PROVIDER/MODEL, -p PROVIDER, -c FILE, --theme T. */
int ui_main(int argc, char **argv);
/* `natter keys [--man]`: print the key table, or its roff KEYS section. */
int cmd_keys(int argc, char **argv);

#endif
