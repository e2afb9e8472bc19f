/*
 * The YAML configuration: providers, models, prompt templates, default parameters, key
 * bindings and theme. One schema table (config-schema.c) says which keys exist, their types,
 * defaults, limits and help; the loader, `natter config check`, `config show` and the
 * natter.yaml(5) page are all driven by it.
 *
 * Loading never fails hard: config_load always returns a usable config. Errors
 * ("file:line:col: message") are reported in errs, and each entry that has one (a provider,
 * model, template or binding) is left out while everything else in the file applies; only
 * a file that cannot be read or parsed leaves the shipped defaults alone. So natter still
 * starts, one mistake costs only what it is in, and no session is lost.
 */
#ifndef NATTER_CONFIG_H
#define NATTER_CONFIG_H

#include <stddef.h>
#include <stdio.h>

#include "request.h"

struct provider;
struct keypool;
struct cnode;
struct mcp_server_cfg;

/* Kinds of schema entries. */
enum config_type {
	CONFIG_SECTION,  /* a mapping with fixed keys */
	CONFIG_MAP,      /* a mapping of user-chosen names to sections ("providers") */
	CONFIG_LIST,     /* a sequence of sections ("bindings") */
	CONFIG_STRING,
	CONFIG_STRINGS,  /* a sequence of strings (a lone string is a one-item list) */
	CONFIG_STRMAP,   /* a mapping of names to strings ("headers") */
	CONFIG_INT,
	CONFIG_FLOAT,
	CONFIG_BOOL,
	CONFIG_ENUM,     /* one of choices, separated by '|' */
	CONFIG_PARAMS,   /* a block of request parameters (config_schema_params) */
	CONFIG_RANGES,   /* which parameters a model accepts (config_schema_ranges) */
	CONFIG_RANGE,    /* true, false or [min, max] */
};

#define CONFIG_SECRET 0x1u   /* never printed: masked by `config show` */
#define CONFIG_REQUIRED 0x2u /* must be present in its section */

/* One schema entry. Paths use '*' for a user-chosen name and '[]' for a list item. */
struct config_schema {
	const char *path;
	enum config_type type;
	const char *def;     /* default as written in YAML, or NULL */
	double min, max;     /* numbers: range; lists: max count in max; min > max: none */
	const char *choices; /* enums: "a|b|c" */
	unsigned flags;
	unsigned bit;        /* parameters: the enum param_bit */
	const char *help;
};

extern const struct config_schema config_schema[];
extern const size_t config_schema_count;
extern const struct config_schema config_schema_params[];
extern const size_t config_schema_params_count;
extern const struct config_schema config_schema_ranges[];
extern const size_t config_schema_ranges_count;

/* The entry for path in table (n entries), or NULL. */
const struct config_schema *config_schema_find(const struct config_schema *table, size_t n,
    const char *path);
/* The type's name as the man page and error messages say it ("a number from 0 to 2"). */
char *config_schema_describe(const struct config_schema *e);
const char *config_type_name(enum config_type t);

/* The limits a model puts on one parameter. */
struct param_limit {
	int accepted;
	double min, max;
};

#define PARAM_COUNT 11

/* notify: how the interface says a reply finished while nobody was looking. */
enum config_notify { NOTIFY_AUTO, NOTIFY_BELL, NOTIFY_OSC9, NOTIFY_OSC777, NOTIFY_OFF };
/* models.*.kind: what a model is for. A chat model answers natter ask, the interface and
 * the rest; a transcription model natter transcribe; an embedding model natter embed. */
enum model_kind { MODEL_CHAT, MODEL_TRANSCRIPTION, MODEL_EMBEDDING };

/* context.policy: how a history longer than the context window is fitted. */
enum context_policy { CONTEXT_INHERIT, CONTEXT_DROP, CONTEXT_SUMMARIZE, CONTEXT_REFUSE };

struct model {
	char *name;            /* what users type; the config key */
	char *id;              /* what is sent to the provider */
	char *provider_name;
	struct provider *provider; /* borrowed from the config; NULL when not offered */
	char *display_name;
	enum model_kind kind;  /* models.*.kind; a made-up model is a chat model */
	long context_window;   /* 0 unknown */
	long max_output;       /* 0 unknown */
	long dimensions;       /* embedding: the vector length asked for, 0 the model's own */
	enum context_policy context_policy; /* CONTEXT_INHERIT: the config's */
	double price_input;    /* per million tokens; < 0 unknown */
	double price_output;
	struct param_limit limits[PARAM_COUNT]; /* indexed like config_schema_params */
	char **efforts;        /* accepted reasoning efforts */
	size_t nefforts;
	struct params defaults;
	enum max_tokens_field max_tokens_field; /* OpenAI protocol; AUTO: by model family */
	unsigned input;        /* ATTACH_IN_* bits of what it takes (attach.h); text always */
	size_t max_attach;     /* largest attachment, bytes; 0: the provider's */
	char **aliases;
	size_t naliases;
	char **fallback;
	size_t nfallback;
	int synthesized;       /* not in the config: made up with safe defaults */
	const char *file;      /* where it was defined */
	int line, col;
};

enum template_mode { TEMPLATE_APPEND, TEMPLATE_REPLACE };

struct template_var {
	char *name;
	char *value;
};

struct template {
	char *name;
	char *description;
	char *system;          /* after extends: is resolved */
	char *user;
	struct template_var *defaults;
	size_t ndefaults;
	char *extends;
	enum template_mode mode;
	char *model;
	struct params params;
	const char *file;
	int line, col;
};

/* A key binding as the config holds it. The interface owns the key table (ui/keys.c); the
 * schema pass checks each entry against it through the checker the front end installs
 * (config_set_binding_check), so `config check` and the interface agree. */
struct config_binding {
	char *context;
	char *key;
	char *action;
	const char *file;
	int line, col;
};

/* A provider that is configured but not offered, and why. */
struct config_disabled {
	char *name;
	char *reason;
	struct provider *provider; /* built but not offered (no key or no address); NULL when
	                            * disabled outright. Never in c->providers. */
};

/* serve: the HTTP front end's settings (natter serve, serve.h). */
struct config_serve {
	char *listen;                 /* ADDR:PORT */
	char **tokens;                /* accepted bearer tokens, resolved (registered secrets) */
	size_t ntokens;
	char *missing;                /* a token_env that is not set, or NULL */
	char **cors;                  /* allowed Origin values ("*": any) */
	size_t ncors;
	long max_body;                /* bytes */
	long max_streams;
	char **models;                /* the models offered; none: every usable one */
	size_t nmodels;
	int store_openai;             /* store /v1/chat/completions conversations */
	long models_refresh_ms;       /* how long a provider's model listing is kept */
};

/* The render: section (the interface's drawing of replies). */
struct config_render {
	int highlight;                /* highlight closed code blocks */
	char **syntax_dirs;           /* where *.nanorc files are; none: the built-in list */
	size_t nsyntax_dirs;
	int math;                     /* LaTeX math in Unicode */
	int link_urls;                /* a link's address after its text */
	char *hyperlinks;             /* auto, true or false */
	char *sync_output;            /* auto, true or false */
};

struct config {
	struct provider **providers;  /* offered providers, each usable */
	size_t nproviders;
	struct keypool **pools;       /* one per offered provider, same order; NULL: no pool */
	struct config_disabled *disabled;
	size_t ndisabled;
	struct model *models;         /* as configured */
	size_t nmodels;
	struct model **extra;         /* made up by config_model for unlisted ids */
	size_t nextra;
	struct template *templates;
	size_t ntemplates;
	struct params defaults;
	enum context_policy context_policy; /* context.policy */
	long context_keep;            /* context.keep_turns */
	int ask_save;                 /* ask.save */
	int tool_rounds;              /* tools.max_rounds */
	int mouse;                    /* mouse: clicks and the wheel in the interface at start */
	enum config_notify notify;    /* notify: how a reply finished unseen is signalled */
	int print_on_exit;            /* print_on_exit: the last exchange left in the scrollback */
	char *default_model;          /* always names a usable model when any exists */
	char *embedding_model;        /* embedding_model: as written, or NULL */
	char *theme;
	struct config_binding *bindings;
	size_t nbindings;
	char **left_out;              /* names and aliases of models left out for errors */
	size_t nleft_out;
	char *path;                   /* the user's file, or NULL when only defaults apply */
	char **warnings;              /* "file:line:col: warning: ..." */
	size_t nwarnings;
	struct cnode *tree;           /* the merged document, for `config show` */
	char **files;                 /* interned file names the marks point into */
	size_t nfiles;
	struct mcp_server_cfg *mcp_servers; /* mcp_servers:, in file order (mcp.h) */
	size_t nmcp_servers;
	struct config_serve serve;    /* serve: */
	struct config_render render;  /* render: */
};

/* Messages collected while loading. */
struct config_errors {
	char **v;
	size_t n;
};

#define CONFIG_NO_KEYCMD 0x1u  /* do not run key_cmd (check, show) */
#define CONFIG_NO_DEFAULTS 0x2u /* do not merge over the shipped file (tests) */

/*
 * Load path (NULL: config_path()) over the shipped defaults. Always returns a config; on
 * errors errs is filled and the entries at fault are left out (see above).
 */
struct config *config_load(const char *path, unsigned flags, struct config_errors *errs);
/* Load and validate one file only (no defaults), for `config check` and the tests. */
int config_check_file(const char *path, struct config_errors *errs);
void config_free(struct config *c);
void config_errors_free(struct config_errors *e);

/* The user's config file: -c/NATTER_CONFIG, else $XDG_CONFIG_HOME/natter/natter.yaml. */
char *config_path(void);
/* The shipped file (datadir, else the build tree's config/), or NULL. */
char *config_shipped_path(const char *name);

/* Find a model by name, alias or "provider/id"; unknown ids of offered providers get a
 * model with safe defaults. NULL when nothing matches. */
struct model *config_model(struct config *c, const char *name);
/* The configured model that provider sends as id, else config_model("provider/id"). */
struct model *config_model_of(struct config *c, const char *provider, const char *id);
/* Offer a local server left out for want of its address (the caller then sets base_url);
 * returns it, or NULL when name is no such provider. */
struct provider *config_offer(struct config *c, const char *name);
/* The offered provider called name, or NULL. */
struct provider *config_provider(const struct config *c, const char *name);
/* The key pool of an offered provider, or NULL. */
struct keypool *config_pool(const struct config *c, const struct provider *p);
/* Share every key pool's windows and rests with the other natters through the file
 * <db>-keypool beside the session database db (NULL: the default one, store.h). The front
 * ends that send requests call it; a config loaded alone keeps its pools in memory. */
void config_share_pools(struct config *c, const char *db);
/* A number >= 0 from environment variable name, or -1 when unset or malformed. */
double config_env_number(const char *name);
struct template *config_template(struct config *c, const char *name);
/* True when name (or alias) was a model left out for errors in its entry. */
int config_left_out(const struct config *c, const char *name);
/* The context policy that applies to m (its own, else the config's). */
enum context_policy config_context_policy(const struct config *c, const struct model *m);
/* The closest of n names to word, or NULL when none is close. */
const char *config_nearest(const char *word, const char *const *names, size_t n);

/* Checks one key binding against the key table: 0 with *code the key's code (equal codes
 * are the same key however written), or -1 with *err (caller frees) and *field naming the
 * part at fault: 0 the context, 1 the key, 2 the action. */
typedef int (*config_binding_check_fn)(const char *context, const char *key,
    const char *action, unsigned *code, int *field, char **err);
/* Install the checker the schema pass applies to bindings: (natter installs keys_check at
 * start; src/ knows no key names). Without one, bindings are checked for shape only. */
void config_set_binding_check(config_binding_check_fn fn);

/* Print the effective config as YAML with secrets masked. */
void config_show(const struct config *c, FILE *f);
/* Print natter.yaml(5) in roff, generated from the schema (config-schema.c). */
void config_schema_man(FILE *f);

#endif
