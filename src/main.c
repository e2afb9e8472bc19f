/*
 * natter's entry point: dispatches to a subcommand, or starts the full-screen UI when there
 * is none. --version and --help are answered before anything is initialised so that they
 * cost no more than loading the binary.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "config.h"
#include "json.h"
#include "keys.h"
#include "log.h"
#include "ui.h"
#include "version.h"

/* natter chat: the interface, as natter with no command. */
static int
cmd_chat(int argc, char **argv)
{
	return ui_main(argc, argv);
}

struct command {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *usage;
	const char *help;
};

static const struct command commands[] = {
	/* One line per subcommand, kept in the order --help shows them. */
	{ "ask", cmd_ask, "ask [-m MODEL] [-c | -S ID] [OPTIONS] [PROMPT]",
	  "stream one reply to stdout, stored as a session" },
	{ "compare", cmd_compare, "compare -m MODEL -m MODEL... [OPTIONS] PROMPT",
	  "stream 2-4 models at once, then each reply and a table of figures" },
	{ "chat", cmd_chat, "chat [-m MODEL] [-c | -S ID]", "open the interface (on a session)" },
	{ "models", cmd_models, "models [PROVIDER]", "list the models of usable providers" },
	{ "decode", cmd_decode, "decode -p PROTOCOL [--status N] [FILE]",
	  "decode a saved response body into JSON events" },
	{ "config", cmd_config, "config path|check [FILE]|show|init|man",
	  "where the config is, validate it, show it (keys masked), write a starter" },
	{ "templates", cmd_templates, "templates [NAME]", "list prompt templates or show one" },
	{ "auth", cmd_auth, "auth", "show each provider's keys (masked), limits and blocks" },
	{ "sessions", cmd_sessions, "sessions [list|show|search|export|rm] ...",
	    "list, show, search, export or delete stored chats" },
	{ "export", cmd_export, "export SESSION [--format json|markdown|text] [-o FILE]",
	  "write one stored chat as JSON, Markdown or plain text" },
	{ "import", cmd_import, "import FILE|-", "store a chat from natter's JSON export" },
	{ "metrics", cmd_metrics, "metrics [SESSION] [--json]",
	  "usage figures per model, day and session, or per reply of one" },
	{ "summarize", cmd_summarize, "summarize SESSION [-m MODEL] [-o FILE]",
	  "ask a model for a summary of a stored chat" },
	{ "transcribe", cmd_transcribe, "transcribe [-m MODEL] [OPTIONS] FILE",
	  "speech in an audio file to text (or srt, vtt, json) on stdout" },
	{ "embed", cmd_embed, "embed [-m MODEL] [--batch FILE] [OPTIONS] [TEXT|-]",
	  "embedding vectors of a text or of every line of a file" },
	{ "serve", cmd_serve, "serve [--listen ADDR:PORT] [--token-env VAR]",
	  "an OpenAI-compatible and conversation API over HTTP, on every provider" },
	{ "mcp", cmd_mcp, "mcp list [SERVER...] | call SERVER TOOL [JSON]",
	  "show the MCP servers and their tools, or call one tool" },
	{ "keys", cmd_keys, "keys [--man]", "list the key bindings (or print them as roff)" },
	{ NULL, NULL, NULL, NULL },
};

/* Print the top-level usage to f. */
static void
main_usage(FILE *f)
{
	size_t i;

	fputs("usage: natter [COMMAND] [OPTIONS]\n\n"
	    "With no command, natter opens the full-screen chat interface.\n\n"
	    "Commands:\n", f);
	/* A usage too long for its column puts its help on the next line. */
	for (i = 0; commands[i].name != NULL; i++) {
		if (strlen(commands[i].usage) > 44)
			fprintf(f, "  %s\n  %-44s %s\n", commands[i].usage, "", commands[i].help);
		else
			fprintf(f, "  %-44s %s\n", commands[i].usage, commands[i].help);
	}
	fputs("\nOptions:\n"
	    "  --config FILE     use this config file (also NATTER_CONFIG)\n"
	    "  -c, --continue    the interface opens the latest session\n"
	    "  -S ID             the interface opens session ID\n"
	    "  -m MODEL          the interface starts with this model (name, alias or PROVIDER/ID)\n"
	    "  -p PROVIDER       the interface starts with this provider's first model\n"
	    "  --theme NAME      dark, light, terminal, mono, your own or a file (also NATTER_THEME)\n"
	    "  -h, --help        show this help\n"
	    "  -V, --version     show the version\n\n"
	    "See natter(1) and natter.yaml(5).\n", f);
}

/* Run the subcommand named by argv[1], or the UI. */
int
main(int argc, char **argv)
{
	size_t i;

	if (argc > 1 && (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "-V") == 0)) {
		fputs("natter " NATTER_VERSION "\n", stdout);
		return EXIT_OK;
	}
	if (argc > 1 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "help") == 0)) {
		main_usage(stdout);
		return EXIT_OK;
	}
	log_open_from_env();
	json_init();
	/* Every command checks bindings: entries against the one key table. */
	config_set_binding_check(keys_check);
	/* --config FILE before the command applies to every command, as NATTER_CONFIG does
	 * (-c is "continue", as in ask -c and llm). */
	if (argc > 2 && strcmp(argv[1], "--config") == 0) {
		setenv("NATTER_CONFIG", argv[2], 1);
		argv[2] = argv[0];
		argc -= 2;
		argv += 2;
	} else if (argc > 1 && strncmp(argv[1], "--config=", 9) == 0) {
		setenv("NATTER_CONFIG", argv[1] + 9, 1);
		argv[1] = argv[0];
		argc -= 1;
		argv += 1;
	}
	if (argc < 2 || argv[1][0] == '-')
		return ui_main(argc, argv);
	for (i = 0; commands[i].name != NULL; i++)
		if (strcmp(argv[1], commands[i].name) == 0)
			return commands[i].fn(argc - 1, argv + 1);
	fprintf(stderr, "natter: unknown command '%s' (try natter --help)\n", argv[1]);
	return EXIT_USAGE;
}
