/*
 * Subcommands of the natter binary. Each lives in src/cmd-NAME.c as cmd_NAME(argc, argv),
 * where argv[0] is the subcommand name. They return a process exit status.
 */
#ifndef NATTER_CMD_H
#define NATTER_CMD_H

/* Exit statuses shared by every subcommand (documented in natter(1)). */
#define EXIT_OK 0
#define EXIT_PROVIDER 1    /* the provider or the network failed */
#define EXIT_USAGE 2       /* bad command line */
#define EXIT_CONFIG 3      /* bad configuration */
#define EXIT_INTERRUPTED 130 /* Ctrl+C / SIGINT */

/* Declarations, one per src/cmd-NAME.c. */
int cmd_ask(int argc, char **argv);
int cmd_models(int argc, char **argv);
int cmd_decode(int argc, char **argv);
int cmd_auth(int argc, char **argv);
int cmd_config(int argc, char **argv);
int cmd_templates(int argc, char **argv);
int cmd_sessions(int argc, char **argv);
int cmd_compare(int argc, char **argv);
int cmd_export(int argc, char **argv);
int cmd_import(int argc, char **argv);
int cmd_metrics(int argc, char **argv);
int cmd_summarize(int argc, char **argv);
int cmd_mcp(int argc, char **argv);
int cmd_serve(int argc, char **argv);
int cmd_transcribe(int argc, char **argv);
int cmd_embed(int argc, char **argv);
/* natter sessions search --semantic (cmd-semantic.c). */
int cmd_semantic_search(const char *query, size_t limit);

#endif
