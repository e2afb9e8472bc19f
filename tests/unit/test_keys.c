/* Unit tests for the key table: name parsing, lookup, remapping and conflicts. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "keys.h"

/* Names parse to the codes the terminal sends, and print back canonically. */
static void
test_parse(void **state)
{
	static const char *names[] = { "C-a", "M-b", "M-Enter", "S-Enter", "PgUp", "F1", "F12",
		"Esc", "Tab", "BTab", "x", "?", "M->", "Backspace", "M-Backspace", "é", "Up" };
	unsigned k, k2;
	char out[32];
	size_t i;

	(void)state;
	assert_int_equal(keys_parse("C-a", &k), 0);
	assert_int_equal(k, 1);
	assert_int_equal(keys_parse("C-j", &k), 0);
	assert_int_equal(k, 10);
	assert_int_equal(keys_parse("Enter", &k), 0);
	assert_int_equal(k, 13);
	assert_int_equal(keys_parse("M-Enter", &k), 0);
	assert_int_equal(k, 13 | K_META);
	assert_int_equal(keys_parse("F1", &k), 0);
	assert_int_equal(k, K_F0 + 1);
	assert_int_equal(keys_parse("c-A", &k), 0);
	assert_int_equal(k, 1);
	for (i = 0; i < sizeof names / sizeof names[0]; i++) {
		assert_int_equal(keys_parse(names[i], &k), 0);
		keys_name(k, out, sizeof out);
		assert_int_equal(keys_parse(out, &k2), 0);
		assert_int_equal(k, k2);
	}
	assert_int_equal(keys_parse("", &k), -1);
	assert_int_equal(keys_parse("C-", &k), -1);
	assert_int_equal(keys_parse("F99", &k), -1);
	assert_int_equal(keys_parse("Nope", &k), -1);
	assert_int_equal(keys_parse("C-1", &k), -1);
}

/* Lookup finds the context's binding first, then the global one. */
static void
test_lookup(void **state)
{
	unsigned k;

	(void)state;
	keys_init();
	keys_parse("Enter", &k);
	assert_int_equal(keys_lookup(KCTX_INPUT, k), ACT_SEND);
	assert_int_equal(keys_lookup(KCTX_SESSIONS, k), ACT_OPEN);
	keys_parse("C-q", &k);
	assert_int_equal(keys_lookup(KCTX_INPUT, k), ACT_QUIT);
	keys_parse("C-j", &k);
	assert_int_equal(keys_lookup(KCTX_INPUT, k), ACT_NEWLINE);
	keys_parse("x", &k);
	assert_int_equal(keys_lookup(KCTX_INPUT, k), ACT_NONE);
}

/* The form context has the input's editing keys and its own, but no global fallback: a key
 * it does not bind types into the field instead of running a global action. */
static void
test_form(void **state)
{
	static const struct {
		const char *key;
		enum action act;
	} want[] = {
		{ "Left", ACT_LEFT }, { "Right", ACT_RIGHT }, { "Home", ACT_BOL }, { "C-a", ACT_BOL },
		{ "End", ACT_EOL }, { "C-e", ACT_EOL }, { "M-b", ACT_WORD_LEFT },
		{ "M-f", ACT_WORD_RIGHT }, { "Backspace", ACT_DEL_BACK }, { "Delete", ACT_DEL_FWD },
		{ "C-u", ACT_KILL_BOL }, { "C-k", ACT_KILL_EOL }, { "C-y", ACT_YANK },
		{ "Tab", ACT_FIELD_NEXT }, { "BTab", ACT_FIELD_PREV }, { "Enter", ACT_FIELD_ACCEPT },
		{ "C-s", ACT_FORM_SEND }, { "Esc", ACT_CLOSE }, { "C-q", ACT_QUIT },
	};
	char *err = NULL;
	unsigned k;
	size_t i;

	(void)state;
	keys_init();
	for (i = 0; i < sizeof want / sizeof want[0]; i++) {
		assert_int_equal(keys_parse(want[i].key, &k), 0);
		assert_int_equal(keys_lookup(KCTX_FORM, k), want[i].act);
	}
	keys_parse("PgUp", &k);
	assert_int_equal(keys_lookup(KCTX_GLOBAL, k), ACT_PAGE_UP);
	assert_int_equal(keys_lookup(KCTX_FORM, k), ACT_NONE);
	keys_parse("q", &k);
	assert_int_equal(keys_lookup(KCTX_FORM, k), ACT_NONE);
	assert_int_equal(keys_bind("form", "C-l", "redraw", &err), 0);
	keys_parse("C-l", &k);
	assert_int_equal(keys_lookup(KCTX_FORM, k), ACT_REDRAW);
	assert_int_equal(keys_bind("form", "C-x", "send", &err), -1);
	free(err);
	assert_int_equal(keys_bind("input", "C-x", "form-send", &err), -1);
	free(err);
	keys_init();
}

/* The approval context has the answers to a tool call's question and nothing else: a key
 * it does not bind is not taken from the global context (the pane gets it as usual), its
 * answers can be moved, and bound nowhere else. */
static void
test_approval(void **state)
{
	static const struct { const char *key; enum action act; } want[] = {
		{ "y", ACT_APPROVE_ONCE }, { "a", ACT_APPROVE_ALWAYS }, { "n", ACT_APPROVE_REFUSE },
		{ "e", ACT_APPROVE_EDIT }, { "Esc", ACT_CANCEL },
	};
	char *err = NULL;
	unsigned k;
	size_t i;

	(void)state;
	keys_init();
	for (i = 0; i < sizeof want / sizeof want[0]; i++) {
		assert_int_equal(keys_parse(want[i].key, &k), 0);
		assert_int_equal(keys_lookup(KCTX_APPROVE, k), want[i].act);
	}
	keys_parse("PgUp", &k);
	assert_int_equal(keys_lookup(KCTX_APPROVE, k), ACT_NONE);
	keys_parse("t", &k);
	assert_int_equal(keys_lookup(KCTX_APPROVE, k), ACT_NONE);
	assert_int_equal(keys_lookup(KCTX_TRANSCRIPT, k), ACT_REASONING_ONE);
	keys_parse("Enter", &k);
	assert_int_equal(keys_lookup(KCTX_TRANSCRIPT, k), ACT_DETAILS);
	assert_int_equal(keys_bind("approval", "Y", "approve", &err), 0);
	keys_parse("Y", &k);
	assert_int_equal(keys_lookup(KCTX_APPROVE, k), ACT_APPROVE_ONCE);
	assert_int_equal(keys_bind("input", "C-x", "approve", &err), -1);
	free(err);
	keys_init();
}

/* Remapping adds a binding, "none" removes one, bad names are refused with a reason. */
static void
test_remap(void **state)
{
	char *err = NULL;
	unsigned k;

	(void)state;
	keys_init();
	assert_int_equal(keys_bind("input", "C-s", "send", &err), 0);
	keys_parse("C-s", &k);
	assert_int_equal(keys_lookup(KCTX_INPUT, k), ACT_SEND);
	assert_int_equal(keys_bind("input", "Enter", "newline", &err), 0);
	keys_parse("Enter", &k);
	assert_int_equal(keys_lookup(KCTX_INPUT, k), ACT_NEWLINE);
	assert_int_equal(keys_bind("global", "C-q", "none", &err), 0);
	keys_parse("C-q", &k);
	assert_int_equal(keys_lookup(KCTX_INPUT, k), ACT_NONE);
	assert_int_equal(keys_bind("input", "C-s", "frobnicate", &err), -1);
	assert_non_null(strstr(err, "frobnicate"));
	free(err);
	assert_int_equal(keys_bind("sessions", "C-s", "send", &err), -1);
	free(err);
	assert_int_equal(keys_bind("nowhere", "C-s", "send", &err), -1);
	free(err);
	keys_init();
}

/* keys_check says which part of a binding is wrong, suggests the nearest context or
 * action, gives equal codes for one key written two ways, and binds nothing. */
static void
test_check(void **state)
{
	char *err = NULL;
	unsigned a = 0, b = 1;
	int field = -1;

	(void)state;
	keys_init();
	assert_int_equal(keys_check("input", "C-s", "send", &a, &field, &err), 0);
	assert_null(err);
	assert_int_equal(keys_check("input", "C-S", "newline", &b, &field, &err), 0);
	assert_int_equal(a, b);
	assert_int_equal(keys_lookup(KCTX_INPUT, a), ACT_NONE);
	assert_int_equal(keys_check("inptu", "C-s", "send", &a, &field, &err), -1);
	assert_int_equal(field, KEYS_FIELD_CONTEXT);
	assert_string_equal(err, "unknown key context 'inptu', did you mean 'input'?");
	free(err);
	assert_int_equal(keys_check("input", "Ctrl+S", "send", &a, &field, &err), -1);
	assert_int_equal(field, KEYS_FIELD_KEY);
	free(err);
	assert_int_equal(keys_check("input", "C-s", "sned", &a, &field, &err), -1);
	assert_int_equal(field, KEYS_FIELD_ACTION);
	assert_non_null(strstr(err, "did you mean 'send'?"));
	free(err);
	assert_int_equal(keys_check("sessions", "C-s", "send", &a, &field, &err), -1);
	assert_int_equal(field, KEYS_FIELD_ACTION);
	free(err);
}

/* A YAML keys: section is applied, and a key bound twice in one context is a conflict
 * reported with file:line:col. */
static void
test_yaml(void **state)
{
	char path[] = "/tmp/natter-keys-XXXXXX";
	int fd = mkstemp(path);
	FILE *f = fdopen(fd, "w");
	char *err = NULL;
	unsigned k;

	(void)state;
	fputs("theme: dark\nkeys:\n  input:\n    C-s: send\n    M-n: newline\n"
	    "  transcript: { x: copy }\nother: [1, 2]\n", f);
	fclose(f);
	keys_init();
	assert_int_equal(keys_load_yaml(path, &err), 0);
	keys_parse("C-s", &k);
	assert_int_equal(keys_lookup(KCTX_INPUT, k), ACT_SEND);
	keys_parse("x", &k);
	assert_int_equal(keys_lookup(KCTX_TRANSCRIPT, k), ACT_COPY);
	f = fopen(path, "w");
	fputs("keys:\n  input:\n    C-s: send\n    C-s: newline\n", f);
	fclose(f);
	keys_init();
	assert_int_equal(keys_load_yaml(path, &err), -1);
	assert_non_null(strstr(err, ":4:5:"));
	free(err);
	unlink(path);
	keys_init();
}

/* Every default binding appears in the generated man section. */
static void
test_man(void **state)
{
	char *buf = NULL;
	size_t len = 0, n, i;
	FILE *f = open_memstream(&buf, &len);
	const struct keybind *t;

	(void)state;
	keys_init();
	keys_print_man(f);
	fclose(f);
	t = keys_table(&n);
	for (i = 0; i < n; i++)
		assert_non_null(strstr(buf, keys_action_help(t[i].act)));
	assert_non_null(strstr(buf, ".SH KEYS"));
	free(buf);
}

/* Hints name the key the user has: the first default, the user's own once bound, a
 * global key where the context takes global keys (unless it binds the key otherwise), and
 * the action's name when nothing is bound; in the field context printable keys type. */
static void
test_hints(void **state)
{
	char out[32], *err = NULL;
	const struct keybind *t;
	size_t n, i;

	(void)state;
	keys_init();
	assert_int_equal(keys_first(KCTX_INPUT, ACT_NEWLINE, out, sizeof out), 1);
	assert_string_equal(out, "C-j");
	assert_string_equal(keys_hint(KCTX_INPUT, ACT_NEWLINE), "Ctrl+J");
	assert_string_equal(keys_hint(KCTX_INPUT, ACT_HELP), "F1");
	assert_string_equal(keys_hint(KCTX_GLOBAL, ACT_REGENERATE), "Alt+r");
	assert_string_equal(keys_hint(KCTX_SESSIONS, ACT_UNDO_DELETE), "u");
	/* The form takes no global keys: F1 is not its help key. */
	assert_int_equal(keys_first(KCTX_FORM, ACT_HELP, out, sizeof out), 0);
	assert_string_equal(keys_hint(KCTX_FORM, ACT_HELP), "(help)");
	assert_int_equal(keys_bind("input", "C-o", "newline", &err), 0);
	assert_int_equal(keys_bind("global", "F9", "help", &err), 0);
	assert_int_equal(keys_bind("global", "F1", "none", &err), 0);
	assert_string_equal(keys_hint(KCTX_INPUT, ACT_NEWLINE), "Ctrl+O");
	assert_string_equal(keys_hint(KCTX_INPUT, ACT_HELP), "F9");
	/* A key the context binds otherwise does not stand for a global action there. */
	assert_int_equal(keys_bind("input", "F9", "editor", &err), 0);
	assert_string_equal(keys_hint(KCTX_INPUT, ACT_HELP), "(help)");
	/* The user's own key comes before a default, even the context's own. */
	assert_string_equal(keys_hint(KCTX_TRANSCRIPT, ACT_HELP), "F9");
	assert_int_equal(keys_bind("global", "F9", "none", &err), 0);
	assert_string_equal(keys_hint(KCTX_TRANSCRIPT, ACT_HELP), "?");
	/* The field context binds no printable key, so typing filters. */
	keys_init();
	t = keys_table(&n);
	for (i = 0; i < n; i++)
		if (t[i].ctx == KCTX_FIELD)
			assert_false(t[i].key >= 0x20 && t[i].key < 0x7f);
	assert_int_equal(keys_lookup(KCTX_FIELD, 'q'), ACT_NONE);
	assert_int_equal(keys_lookup(KCTX_FIELD, K_ENTER), ACT_OPEN);
	keys_free();
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_lookup),
		cmocka_unit_test(test_form),
		cmocka_unit_test(test_approval),
		cmocka_unit_test(test_remap),
		cmocka_unit_test(test_check),
		cmocka_unit_test(test_yaml),
		cmocka_unit_test(test_man),
		cmocka_unit_test(test_hints),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);

	keys_free();
	return rc;
}
