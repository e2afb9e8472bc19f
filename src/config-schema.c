/*
 * The configuration schema: every key natter.yaml may hold, with its type, default, limits
 * and one line of help. It is the single source for parsing and validation (config.c),
 * `natter config check`, `natter config show` and the natter.yaml(5) page, in the spirit of
 * tmux's options-table.c. Adding a key here documents it everywhere at once.
 *
 * Request parameters appear in three places (top-level defaults, a model's defaults, a
 * template's parameters), so they live in their own table, as do the per-model limits.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "request.h"
#include "version.h"
#include "xmalloc.h"

#define NOLIM 1, 0 /* min > max: no limits */
#define BIG 1e15

const struct config_schema config_schema[] = {
	{ "include", CONFIG_STRINGS, NULL, 0, 16, NULL, 0, 0,
	  "Other YAML files to read first, relative to this file; this file overrides them." },
	{ "default_model", CONFIG_STRING, NULL, NOLIM, NULL, 0, 0,
	  "Model used when none is chosen. When unset or not usable, the first usable model "
	  "is used, else simulated." },
	{ "embedding_model", CONFIG_STRING, NULL, NOLIM, NULL, 0, 0,
	  "The embedding model (kind: embedding) that embeds stored messages for natter "
	  "sessions search --semantic: the interface and natter serve embed new messages in "
	  "the background when idle, the search catches up first. None: no vectors are made." },
	{ "theme", CONFIG_STRING, "terminal", NOLIM, NULL, 0, 0,
	  "Colour theme of the full-screen interface (dark, light, terminal, mono or a file)." },
	{ "mouse", CONFIG_BOOL, "false", NOLIM, NULL, 0, 0,
	  "The mouse in the full-screen interface from the start (F5 toggles it): a click "
	  "focuses a pane, selects a session or a message and opens a collapsed block; the wheel "
	  "scrolls. Off leaves the terminal's own text selection working." },
	{ "notify", CONFIG_ENUM, "auto", NOLIM, "auto|bell|osc9|osc777|off", 0, 0,
	  "How the full-screen interface says that a reply finished while its terminal was not "
	  "focused or the transcript was scrolled away from the end: bell rings the terminal "
	  "bell, osc9 and osc777 send a desktop notification (OSC 9: iTerm2, WezTerm, kitty; "
	  "OSC 777: VTE terminals, foot, Ghostty, urxvt), auto picks one the terminal is known "
	  "to show (the bell inside tmux or screen, or where unsure), off says nothing." },
	{ "print_on_exit", CONFIG_BOOL, "false", NOLIM, NULL, 0, 0,
	  "When the full-screen interface quits, print the last exchange (the last prompt and "
	  "its reply, made safe for the terminal) on the normal screen, so that it stays in "
	  "the terminal's scrollback." },
	{ "render", CONFIG_SECTION, NULL, NOLIM, NULL, 0, 0,
	  "How replies are drawn in the full-screen interface: code, tables, links and math "
	  "(see Rendering in natter(1))." },
	{ "render.highlight", CONFIG_BOOL, "true", NOLIM, NULL, 0, 0,
	  "Syntax highlighting of fenced code blocks once they close, with nano's syntax "
	  "definitions (/usr/share/nano) and natter's own; without them code stays plain." },
	{ "render.syntax_dirs", CONFIG_STRINGS, NULL, 0, 32, NULL, 0, 0,
	  "Directories of *.nanorc syntax files, searched in order (the first definition of a "
	  "language wins). None: $XDG_CONFIG_HOME/natter/syntax, natter's own, /usr/share/nano "
	  "and /usr/share/nano/extra." },
	{ "render.math", CONFIG_BOOL, "true", NOLIM, NULL, 0, 0,
	  "LaTeX between $...$ and $$...$$ drawn in Unicode (Greek letters, scripts, "
	  "operators, fractions) once it closes; false leaves it as written." },
	{ "render.link_urls", CONFIG_BOOL, "true", NOLIM, NULL, 0, 0,
	  "Show a link's address after its text when the text does not already say it." },
	{ "render.hyperlinks", CONFIG_ENUM, "auto", NOLIM, "auto|true|false", 0, 0,
	  "Make links clickable with OSC 8 terminal hyperlinks. auto: in terminals known to "
	  "take them (iTerm2, WezTerm, kitty, VTE, foot, Windows Terminal, tmux 3.4 or later "
	  "...). Addresses are sanitized first; only http, https, ftp and mailto are linked." },
	{ "render.sync_output", CONFIG_ENUM, "auto", NOLIM, "auto|true|false", 0, 0,
	  "Synchronized output (DEC mode 2026) around every frame, so the terminal never shows "
	  "half of one. auto: natter asks the terminal (DECRQM) at start and uses it when the "
	  "terminal says it knows the mode." },
	{ "defaults", CONFIG_PARAMS, NULL, NOLIM, NULL, 0, 0,
	  "Request parameters applied to every model (see PARAMETERS), as far as each takes "
	  "them: one a model does not accept is left out for it, and a value outside its range "
	  "is brought into it. A model's own defaults and explicit ones are checked strictly." },
	{ "context", CONFIG_SECTION, NULL, NOLIM, NULL, 0, 0,
	  "How a conversation longer than a model's context_window is fitted. Stored messages "
	  "are never deleted; this decides only what is sent." },
	{ "context.policy", CONFIG_ENUM, "drop", NOLIM, "drop|summarize|refuse", 0, 0,
	  "drop leaves the oldest exchanges out; summarize keeps the last keep_turns exchanges "
	  "and sends a rolling summary of the older ones (kept with the session, refreshed by the "
	  "same model when it falls behind); refuse sends nothing and says so." },
	{ "context.keep_turns", CONFIG_INT, "6", 1, 1000, NULL, 0, 0,
	  "summarize: how many of the latest exchanges are always sent word for word." },
	{ "ask", CONFIG_SECTION, NULL, NOLIM, NULL, 0, 0,
	  "The command-line front ends: natter ask and natter compare." },
	{ "ask.save", CONFIG_BOOL, "true", NOLIM, NULL, 0, 0,
	  "Store every ask and compare as a session (--no-save for one run)." },
	{ "tools", CONFIG_SECTION, NULL, NOLIM, NULL, 0, 0,
	  "The tool loop: a reply that calls tools is followed by their results and another "
	  "reply, until one calls none (see mcp_servers)." },
	{ "tools.max_rounds", CONFIG_INT, "16", 1, 1000, NULL, 0, 0,
	  "Tool rounds one prompt may take before natter stops the loop and says so." },

	{ "serve", CONFIG_SECTION, NULL, NOLIM, NULL, 0, 0,
	  "natter serve: the local HTTP gateway speaking the OpenAI API and the conversation "
	  "API (see natter(1))." },
	{ "serve.listen", CONFIG_STRING, "127.0.0.1:8080", NOLIM, NULL, 0, 0,
	  "Address and port to listen on (ADDR:PORT, [IPv6]:PORT or :PORT for every "
	  "address). A non-loopback address needs a token." },
	{ "serve.tokens", CONFIG_LIST, NULL, 0, 64, NULL, 0, 0,
	  "Bearer tokens a client must send (Authorization: Bearer TOKEN); none: no check, "
	  "which only a loopback address allows." },
	{ "serve.tokens[].token", CONFIG_STRING, NULL, NOLIM, NULL, CONFIG_SECRET, 0,
	  "A literal token." },
	{ "serve.tokens[].token_env", CONFIG_STRING, NULL, NOLIM, NULL, 0, 0,
	  "Environment variable holding a token; natter serve refuses to start when it is "
	  "not set." },
	{ "serve.cors_origins", CONFIG_STRINGS, NULL, 0, 64, NULL, 0, 0,
	  "Origins whose browser pages may call the server (CORS), e.g. "
	  "http://localhost:3000; \"*\" allows any. None: no CORS headers." },
	{ "serve.max_body", CONFIG_FLOAT, "4", 0.001, 1024, NULL, 0, 0,
	  "Largest request body, in MiB; a larger one is answered 413." },
	{ "serve.max_streams", CONFIG_INT, "128", 1, 4096, NULL, 0, 0,
	  "Chat requests answered at once; one more is answered 503 with retry-after." },
	{ "serve.models", CONFIG_STRINGS, NULL, 0, 1024, NULL, 0, 0,
	  "Models offered, as names, aliases or PROVIDER/ID; none: every model of an offered "
	  "provider (configured ones listed by /v1/models)." },
	{ "serve.models_refresh", CONFIG_FLOAT, "600", 1, 86400, NULL, 0, 0,
	  "Seconds a provider's model listing serves /v1/models before the next request for it "
	  "lists again (in the background: that request gets the last listing); a failed "
	  "listing is tried again after a tenth of it (at least 5 seconds)." },
	{ "serve.store_openai", CONFIG_BOOL, "true", NOLIM, NULL, 0, 0,
	  "Store the chats of /v1/chat/completions as sessions (a request's \"store\": false "
	  "opts out of one); the conversation API has save_conversation instead." },

	{ "providers", CONFIG_MAP, NULL, NOLIM, NULL, 0, 0,
	  "Endpoints natter can talk to, by name. A provider is offered only when it is "
	  "usable: it has a key, or it is a local server whose address is known." },
	{ "providers.*.protocol", CONFIG_ENUM, NULL, NOLIM,
	  "openai|anthropic|gemini|ollama|simulated", CONFIG_REQUIRED, 0,
	  "Wire protocol the provider speaks." },
	{ "providers.*.base_url", CONFIG_STRING, NULL, NOLIM, NULL, 0, 0,
	  "API root without a trailing slash, e.g. https://api.openai.com/v1." },
	{ "providers.*.enabled", CONFIG_ENUM, "auto", NOLIM, "auto|true|false", 0, 0,
	  "auto offers the provider when a key (or, for a local server, its address) is "
	  "available; true always offers it; false never does." },
	{ "providers.*.local", CONFIG_BOOL, "false", NOLIM, NULL, 0, 0,
	  "A local server that needs no key." },
	{ "providers.*.address_env", CONFIG_STRING, NULL, NOLIM, NULL, 0, 0,
	  "Environment variable holding the server's address; when set it overrides base_url. "
	  "For a local server with enabled: auto, its presence is what enables the provider." },
	{ "providers.*.key_env", CONFIG_STRING, NULL, NOLIM, NULL, 0, 0,
	  "Environment variable holding the API key; defaults to NAME_API_KEY (the provider's "
	  "name in capitals)." },
	{ "providers.*.key_cmd", CONFIG_STRING, NULL, NOLIM, NULL, 0, 0,
	  "Command printing the API key (e.g. pass show openai); run once, kept in memory only. "
	  "Its first line is the key; a command that exits non-zero, prints nothing or runs "
	  "past key_cmd_timeout gives none (and is stopped)." },
	{ "providers.*.key_cmd_timeout", CONFIG_FLOAT, "10", 0.1, 3600, NULL, 0, 0,
	  "Seconds each key_cmd of the provider may take; raise it for one that asks for a "
	  "passphrase." },
	{ "providers.*.key", CONFIG_STRING, NULL, NOLIM, NULL, CONFIG_SECRET, 0,
	  "The API key itself. natter warns when the file is readable by group or others." },
	{ "providers.*.keys", CONFIG_LIST, NULL, 0, 64, NULL, 0, 0,
	  "Several keys forming a pool: requests rotate over them, each key has its own limits "
	  "and a key that gets HTTP 429 rests (the server's retry-after, else 60 s, 120 s, "
	  "240 s ... up to 1 h). Shared by every natter (natter.db-keypool)." },
	{ "providers.*.keys[].key", CONFIG_STRING, NULL, NOLIM, NULL, CONFIG_SECRET, 0,
	  "A literal key." },
	{ "providers.*.keys[].key_env", CONFIG_STRING, NULL, NOLIM, NULL, 0, 0,
	  "Environment variable holding this key." },
	{ "providers.*.keys[].key_cmd", CONFIG_STRING, NULL, NOLIM, NULL, 0, 0,
	  "Command printing this key (within the provider's key_cmd_timeout)." },
	{ "providers.*.keys[].rpm", CONFIG_INT, NULL, 0, BIG, NULL, 0, 0,
	  "Requests per minute for this key (overrides the provider's rpm)." },
	{ "providers.*.keys[].rpd", CONFIG_INT, NULL, 0, BIG, NULL, 0, 0,
	  "Requests per day for this key." },
	{ "providers.*.keys[].tpm", CONFIG_INT, NULL, 0, BIG, NULL, 0, 0,
	  "Tokens per minute for this key." },
	{ "providers.*.rpm", CONFIG_INT, "0", 0, BIG, NULL, 0, 0,
	  "Requests per minute allowed per key in a sliding window; 0 means no limit." },
	{ "providers.*.rpd", CONFIG_INT, "0", 0, BIG, NULL, 0, 0,
	  "Requests per day allowed per key, over every natter run; 0 means no limit." },
	{ "providers.*.tpm", CONFIG_INT, "0", 0, BIG, NULL, 0, 0,
	  "Tokens per minute allowed per key; 0 means no limit." },
	{ "providers.*.key_wait", CONFIG_FLOAT, "30", 0, 3600, NULL, 0, 0,
	  "Seconds a request may wait for a key when every key is blocked; beyond that it "
	  "fails with a message saying when the first key frees up." },
	{ "providers.*.headers", CONFIG_STRMAP, NULL, NOLIM, NULL, 0, 0,
	  "Extra HTTP headers, name: value." },
	{ "providers.*.connect_timeout", CONFIG_FLOAT, "10", 0.1, 600, NULL, 0, 0,
	  "Seconds to establish a connection." },
	{ "providers.*.first_token_timeout", CONFIG_FLOAT, "300", 0, 86400, NULL, 0, 0,
	  "Seconds from sending a request to the first token (text or reasoning); keep-alive "
	  "comments and pings do not count. Reasoning models may think in silence for "
	  "minutes. A timeout before the first token is retried. 0 means no limit." },
	{ "providers.*.idle_timeout", CONFIG_FLOAT, "90", 1, 3600, NULL, 0, 0,
	  "Seconds without a token, once the first one came, before a stream is abandoned "
	  "(keep-alive comments do not count); the partial reply is kept. For a model "
	  "listing: seconds without a byte." },
	{ "providers.*.request_timeout", CONFIG_FLOAT, "0", 0, 86400, NULL, 0, 0,
	  "Seconds a whole request may take; 0 means no limit." },
	{ "providers.*.max_retries", CONFIG_INT, "2", 0, 10, NULL, 0, 0,
	  "Retries before the first token on 408, 409, 429, 5xx and network errors." },
	{ "providers.*.max_retry_delay", CONFIG_FLOAT, "60", 0, 3600, NULL, 0, 0,
	  "Cap on any single wait between retries, in seconds." },
	{ "providers.*.retry_total", CONFIG_FLOAT, "120", 0, 86400, NULL, 0, 0,
	  "Seconds after the first attempt started when retrying stops: no retry starts "
	  "later. 0 means no limit." },
	{ "providers.*.max_line", CONFIG_FLOAT, "16", 0.0625, 1024, NULL, 0, 0,
	  "Longest line (or event) of a stream, in MiB. A longer one ends the reply as "
	  "truncated with a message, and the rest of the response is not read." },
	{ "providers.*.proxy", CONFIG_STRING, NULL, NOLIM, NULL, 0, 0,
	  "Proxy URL; unset means the usual HTTPS_PROXY and NO_PROXY variables apply." },
	{ "providers.*.ca_bundle", CONFIG_STRING, NULL, NOLIM, NULL, 0, 0,
	  "File of CA certificates to trust instead of the system's." },
	{ "providers.*.max_attachment", CONFIG_FLOAT, NULL, 0.001, 4096, NULL, 0, 0,
	  "Largest file, in MiB, attached to a message for this provider; a larger one is "
	  "refused before anything is sent. Unset, the protocol's limit: openai 20; anthropic "
	  "5 for an image, 32 for anything else; gemini 20; ollama and simulated 100." },
	{ "providers.*.tokens_per_second", CONFIG_FLOAT, "0", 0, 1e6, NULL, 0, 0,
	  "Simulated protocol only: streaming rate; 0 is as fast as possible." },
	{ "providers.*.embed_batch", CONFIG_INT, NULL, 1, 100000, NULL, 0, 0,
	  "Most texts natter embed sends in one request; a longer batch is split into "
	  "requests of this size, sent at once (--jobs) and printed in input order. Unset: "
	  "the protocol's most, 2048 for openai (the /embeddings limit), 100 for gemini "
	  "(batchEmbedContents) and 512 for ollama (which sets none)." },
	{ "providers.*.embed_tokens", CONFIG_INT, NULL, 1, 1e9, NULL, 0, 0,
	  "Most tokens, estimated at four bytes each, in one embeddings request: a request "
	  "closes early when its texts reach it. Unset: 300000 for openai (its limit per "
	  "request), none for the others." },

	{ "models", CONFIG_MAP, NULL, NOLIM, NULL, 0, 0,
	  "Models by the name users type. Models a provider lists that are not here are still "
	  "usable as provider/id with safe defaults." },
	{ "models.*.provider", CONFIG_STRING, NULL, NOLIM, NULL, CONFIG_REQUIRED, 0,
	  "Name of the provider serving the model." },
	{ "models.*.id", CONFIG_STRING, NULL, NOLIM, NULL, 0, 0,
	  "Model id sent to the provider; defaults to the model's name." },
	{ "models.*.name", CONFIG_STRING, NULL, NOLIM, NULL, 0, 0,
	  "Display name." },
	{ "models.*.kind", CONFIG_ENUM, "chat", NOLIM, "chat|transcription|embedding", 0, 0,
	  "What the model is for: chat models answer ask, compare, serve and the interface "
	  "(and a gemini one natter transcribe too); transcription models natter transcribe "
	  "and /transcribe; embedding models natter embed. Without -m those commands take the "
	  "first usable model of their kind, and no other command takes one of another kind." },
	{ "models.*.dimensions", CONFIG_INT, "0", 0, 65536, NULL, 0, 0,
	  "An embedding model: the length of vector asked for (natter embed --dimensions "
	  "overrides it); 0 takes the model's own." },
	{ "models.*.context_window", CONFIG_INT, "0", 0, 1e9, NULL, 0, 0,
	  "Context window in tokens; 0 means unknown." },
	{ "models.*.max_output", CONFIG_INT, "0", 0, 1e9, NULL, 0, 0,
	  "Largest max_tokens the model allows; 0 means unknown." },
	{ "models.*.context_policy", CONFIG_ENUM, NULL, NOLIM, "drop|summarize|refuse", 0, 0,
	  "This model's context.policy; unset, the global one applies." },
	{ "models.*.price_input", CONFIG_FLOAT, NULL, 0, 1e6, NULL, 0, 0,
	  "Price per million input tokens, for cost estimates." },
	{ "models.*.price_output", CONFIG_FLOAT, NULL, 0, 1e6, NULL, 0, 0,
	  "Price per million output tokens." },
	{ "models.*.aliases", CONFIG_STRINGS, NULL, 0, 32, NULL, 0, 0,
	  "Other names for the model." },
	{ "models.*.fallback", CONFIG_STRINGS, NULL, 0, 8, NULL, 0, 0,
	  "Models tried in order when a request fails before its first token for a reason "
	  "retrying cannot fix (provider down, overloaded after retries, no usable key)." },
	{ "models.*.params", CONFIG_RANGES, NULL, NOLIM, NULL, 0, 0,
	  "Which parameters the model accepts and their ranges (see PARAMETER LIMITS); "
	  "without it, what the protocol supports, with the usual ranges." },
	{ "models.*.input", CONFIG_STRINGS, "[text]", 0, 4, "text|image|pdf|audio", 0, 0,
	  "What the model takes in a message besides text: image (PNG, JPEG, GIF, WebP), pdf "
	  "(sent as a document to anthropic and gemini; as its text elsewhere), audio (gemini; "
	  "WAV and MP3 on openai). An attachment the model cannot take is refused before "
	  "anything is sent; text files always go, inlined as fenced blocks." },
	{ "models.*.max_attachment", CONFIG_FLOAT, NULL, 0.001, 4096, NULL, 0, 0,
	  "This model's providers.*.max_attachment, in MiB." },
	{ "models.*.reasoning_efforts", CONFIG_STRINGS, NULL, 0, 8, NULL, 0, 0,
	  "Values reasoning_effort may take for this model, e.g. [low, medium, high]." },
	{ "models.*.defaults", CONFIG_PARAMS, NULL, NOLIM, NULL, 0, 0,
	  "Parameters sent with every request to this model unless overridden." },
	{ "models.*.max_tokens_field", CONFIG_ENUM, NULL, NOLIM,
	  "max_completion_tokens|max_tokens", 0, 0,
	  "OpenAI protocol: the request field max_tokens is sent in. Unset, OpenAI itself "
	  "and the o1, o3, o4 and gpt-5 families (by the id's last part, so openai/o3 too) "
	  "get max_completion_tokens, which those models require; everything else gets "
	  "max_tokens, which most compatible servers know. Set it for a gateway or a "
	  "deployment name the rule cannot see through." },

	{ "templates", CONFIG_MAP, NULL, NOLIM, NULL, 0, 0,
	  "Prompt templates by name. Text may hold {variable} placeholders; {{ and }} stand "
	  "for literal braces." },
	{ "templates.*.description", CONFIG_STRING, NULL, NOLIM, NULL, 0, 0,
	  "One line shown by natter templates." },
	{ "templates.*.system", CONFIG_STRING, NULL, NOLIM, NULL, 0, 0,
	  "System prompt." },
	{ "templates.*.user", CONFIG_STRING, NULL, NOLIM, NULL, 0, 0,
	  "User message." },
	{ "templates.*.defaults", CONFIG_STRMAP, NULL, NOLIM, NULL, 0, 0,
	  "Default values of variables, name: value." },
	{ "templates.*.extends", CONFIG_STRING, NULL, NOLIM, NULL, 0, 0,
	  "Template this one builds on: its system, user, defaults, model and parameters are "
	  "inherited." },
	{ "templates.*.mode", CONFIG_ENUM, "append", NOLIM, "append|replace", 0, 0,
	  "With extends: append adds this template's system and user text after the parent's "
	  "(separated by a blank line); replace substitutes them." },
	{ "templates.*.model", CONFIG_STRING, NULL, NOLIM, NULL, 0, 0,
	  "Model to use with this template." },
	{ "templates.*.params", CONFIG_PARAMS, NULL, NOLIM, NULL, 0, 0,
	  "Parameter overrides for this template." },

	{ "mcp_servers", CONFIG_MAP, NULL, NOLIM, NULL, 0, 0,
	  "MCP servers whose tools models may call, by name, in the shape other clients use "
	  "(mcpServers): a command to run, or a url. A server starts when its tools are first "
	  "needed (see MCP SERVERS)." },
	{ "mcp_servers.*.command", CONFIG_STRING, NULL, NOLIM, NULL, 0, 0,
	  "Program that speaks MCP on its standard input and output, looked up in PATH "
	  "unless it holds a /." },
	{ "mcp_servers.*.args", CONFIG_STRINGS, NULL, 0, 256, NULL, 0, 0,
	  "Its arguments." },
	{ "mcp_servers.*.env", CONFIG_STRMAP, NULL, NOLIM, NULL, 0, 0,
	  "Variables for it, name: value, where ${NAME} stands for natter's variable NAME. "
	  "Besides these it gets only PATH, HOME, USER, LOGNAME, SHELL, TERM, LANG, LC_ALL, "
	  "LC_CTYPE, LC_MESSAGES, TZ and TMPDIR: provider keys stay in natter." },
	{ "mcp_servers.*.cwd", CONFIG_STRING, NULL, NOLIM, NULL, 0, 0,
	  "Its working directory (~/ expanded, relative to this file); natter's when unset." },
	{ "mcp_servers.*.url", CONFIG_STRING, NULL, NOLIM, NULL, 0, 0,
	  "Address (http:// or https://) of a server speaking the streamable HTTP transport, "
	  "instead of command." },
	{ "mcp_servers.*.headers", CONFIG_STRMAP, NULL, NOLIM, NULL, 0, 0,
	  "HTTP headers sent to url with every request, name: value; ${NAME} in a value is "
	  "natter's variable NAME, as in Authorization: \"Bearer ${MCP_TOKEN}\"." },
	{ "mcp_servers.*.type", CONFIG_ENUM, NULL, NOLIM, "stdio|http", 0, 0,
	  "The transport, as other clients write it; command implies stdio and url http." },
	{ "mcp_servers.*.enabled", CONFIG_BOOL, "true", NOLIM, NULL, 0, 0,
	  "false keeps the server in the file but never starts it." },
	{ "mcp_servers.*.timeout", CONFIG_FLOAT, "60", 0.1, 86400, NULL, 0, 0,
	  "Seconds a tool call may take; then it is cancelled and reported as timed out." },
	{ "mcp_servers.*.startup_timeout", CONFIG_FLOAT, "30", 0.1, 3600, NULL, 0, 0,
	  "Seconds from starting the server to knowing its tools; then it is stopped and "
	  "reported as failed." },
	{ "mcp_servers.*.allow", CONFIG_STRINGS, NULL, 0, 1024, NULL, 0, 0,
	  "Tools of this server that run without asking first; \"*\" allows all of them." },

	{ "bindings", CONFIG_LIST, NULL, 0, 512, NULL, 0, 0,
	  "Key bindings of the full-screen interface, added to or replacing the built-in ones "
	  "(see KEYS in natter(1)). Each is checked against the key table: an unknown context, "
	  "key or action, or a key bound twice in one context, is an error." },
	{ "bindings[].context", CONFIG_STRING, "global", NOLIM, NULL, 0, 0,
	  "Where the binding applies: global, input, transcript, sessions, overlay, field, form "
	  "or approval." },
	{ "bindings[].key", CONFIG_STRING, NULL, NOLIM, NULL, CONFIG_REQUIRED, 0,
	  "The key, e.g. C-j, M-Enter, F2, q." },
	{ "bindings[].action", CONFIG_STRING, NULL, NOLIM, NULL, CONFIG_REQUIRED, 0,
	  "The action name, as listed by natter keys; none removes a binding." },
};
const size_t config_schema_count = sizeof config_schema / sizeof config_schema[0];

/* Request parameters; the order is the index used by struct model's limits. */
const struct config_schema config_schema_params[] = {
	{ "temperature", CONFIG_FLOAT, NULL, 0, 2, NULL, 0, PARAM_TEMPERATURE,
	  "Sampling temperature." },
	{ "top_p", CONFIG_FLOAT, NULL, 0, 1, NULL, 0, PARAM_TOP_P,
	  "Nucleus sampling probability mass." },
	{ "top_k", CONFIG_INT, NULL, 0, 1000, NULL, 0, PARAM_TOP_K,
	  "Sample only from the k most likely tokens." },
	{ "max_tokens", CONFIG_INT, NULL, 1, 10000000, NULL, 0, PARAM_MAX_TOKENS,
	  "Most tokens to generate." },
	{ "stop", CONFIG_STRINGS, NULL, 0, PARAM_MAX_STOP, NULL, 0, PARAM_STOP,
	  "Up to four stop sequences." },
	{ "seed", CONFIG_INT, NULL, -9.2e18, 9.2e18, NULL, 0, PARAM_SEED,
	  "Seed for reproducible sampling, where supported." },
	{ "frequency_penalty", CONFIG_FLOAT, NULL, -2, 2, NULL, 0, PARAM_FREQUENCY_PENALTY,
	  "Penalty on tokens by how often they already appeared." },
	{ "presence_penalty", CONFIG_FLOAT, NULL, -2, 2, NULL, 0, PARAM_PRESENCE_PENALTY,
	  "Penalty on tokens that already appeared at all." },
	{ "repetition_penalty", CONFIG_FLOAT, NULL, 0, 2, NULL, 0, PARAM_REPETITION_PENALTY,
	  "Multiplicative repetition penalty (Ollama, llama.cpp, vLLM)." },
	{ "reasoning_effort", CONFIG_ENUM, NULL, NOLIM, "none|minimal|low|medium|high", 0,
	  PARAM_REASONING_EFFORT, "Reasoning effort for models that think (OpenAI style)." },
	{ "reasoning_budget", CONFIG_INT, NULL, 0, 1000000, NULL, 0, PARAM_REASONING_BUDGET,
	  "Thinking budget in tokens (Anthropic thinking, Gemini thinkingBudget)." },
};
const size_t config_schema_params_count =
    sizeof config_schema_params / sizeof config_schema_params[0];

/* Per-model limits: one entry per parameter, in the same order. */
const struct config_schema config_schema_ranges[] = {
	{ "temperature", CONFIG_RANGE, NULL, NOLIM, NULL, 0, PARAM_TEMPERATURE,
	  "Accepted temperatures, e.g. [0, 1] for Anthropic." },
	{ "top_p", CONFIG_RANGE, NULL, NOLIM, NULL, 0, PARAM_TOP_P, "Accepted top_p." },
	{ "top_k", CONFIG_RANGE, NULL, NOLIM, NULL, 0, PARAM_TOP_K, "Accepted top_k." },
	{ "max_tokens", CONFIG_RANGE, NULL, NOLIM, NULL, 0, PARAM_MAX_TOKENS,
	  "Accepted max_tokens (max_output also caps it)." },
	{ "stop", CONFIG_RANGE, NULL, NOLIM, NULL, 0, PARAM_STOP,
	  "Whether stop sequences are accepted; a range limits their count." },
	{ "seed", CONFIG_RANGE, NULL, NOLIM, NULL, 0, PARAM_SEED, "Accepted seeds." },
	{ "frequency_penalty", CONFIG_RANGE, NULL, NOLIM, NULL, 0, PARAM_FREQUENCY_PENALTY,
	  "Accepted frequency_penalty." },
	{ "presence_penalty", CONFIG_RANGE, NULL, NOLIM, NULL, 0, PARAM_PRESENCE_PENALTY,
	  "Accepted presence_penalty." },
	{ "repetition_penalty", CONFIG_RANGE, NULL, NOLIM, NULL, 0, PARAM_REPETITION_PENALTY,
	  "Accepted repetition_penalty." },
	{ "reasoning_effort", CONFIG_RANGE, NULL, NOLIM, NULL, 0, PARAM_REASONING_EFFORT,
	  "Whether reasoning_effort is accepted (values in reasoning_efforts)." },
	{ "reasoning_budget", CONFIG_RANGE, NULL, NOLIM, NULL, 0, PARAM_REASONING_BUDGET,
	  "Accepted thinking budgets." },
};
const size_t config_schema_ranges_count =
    sizeof config_schema_ranges / sizeof config_schema_ranges[0];

_Static_assert(sizeof config_schema_params / sizeof config_schema_params[0] == PARAM_COUNT,
    "PARAM_COUNT must match the parameter table");
_Static_assert(sizeof config_schema_ranges / sizeof config_schema_ranges[0] == PARAM_COUNT,
    "PARAM_COUNT must match the limits table");

/* A table's entries sorted by path, made on its first lookup. */
struct schema_index {
	const struct config_schema *table;
	size_t n;
	const struct config_schema **sorted;
};

static struct schema_index schema_indexes[4];
static pthread_mutex_t schema_lock = PTHREAD_MUTEX_INITIALIZER;

/* Order two entries by path, for qsort. */
static int
schema_cmp_entries(const void *a, const void *b)
{
	const struct config_schema *const *x = a, *const *y = b;

	return strcmp((*x)->path, (*y)->path);
}

/* Order a path against an entry, for bsearch. */
static int
schema_cmp_path(const void *key, const void *e)
{
	const struct config_schema *const *y = e;

	return strcmp(key, (*y)->path);
}

/* The sorted index of table, made once; NULL when every slot holds another table. */
static const struct config_schema **
schema_index_of(const struct config_schema *table, size_t n)
{
	const struct config_schema **sorted = NULL;
	size_t i, k;

	pthread_mutex_lock(&schema_lock);
	for (i = 0; i < sizeof(schema_indexes) / sizeof(schema_indexes[0]); i++) {
		struct schema_index *x = &schema_indexes[i];

		if (x->table == table && x->n == n) {
			sorted = x->sorted;
			break;
		}
		if (x->table == NULL) {
			x->sorted = xcalloc(n, sizeof(*x->sorted));
			for (k = 0; k < n; k++)
				x->sorted[k] = &table[k];
			qsort(x->sorted, n, sizeof(*x->sorted), schema_cmp_entries);
			x->table = table;
			x->n = n;
			sorted = x->sorted;
			break;
		}
	}
	pthread_mutex_unlock(&schema_lock);
	return sorted;
}

/* The entry for path in table, or NULL: a binary search over the table's sorted index, since
 * loading a config looks up every key it holds. */
const struct config_schema *
config_schema_find(const struct config_schema *table, size_t n, const char *path)
{
	const struct config_schema **sorted = schema_index_of(table, n), **hit;
	size_t i;

	if (sorted != NULL) {
		hit = bsearch(path, sorted, n, sizeof(*sorted), schema_cmp_path);
		return hit != NULL ? *hit : NULL;
	}
	for (i = 0; i < n; i++)
		if (strcmp(table[i].path, path) == 0)
			return &table[i];
	return NULL;
}

/* A short name of a type, as the man page lists it. */
const char *
config_type_name(enum config_type t)
{
	switch (t) {
	case CONFIG_SECTION: return "section";
	case CONFIG_MAP: return "map of sections";
	case CONFIG_LIST: return "list of sections";
	case CONFIG_STRING: return "string";
	case CONFIG_STRINGS: return "list of strings";
	case CONFIG_STRMAP: return "map of strings";
	case CONFIG_INT: return "integer";
	case CONFIG_FLOAT: return "number";
	case CONFIG_BOOL: return "boolean";
	case CONFIG_ENUM: return "one of";
	case CONFIG_PARAMS: return "parameters";
	case CONFIG_RANGES: return "parameter limits";
	case CONFIG_RANGE: return "true, false or [min, max]";
	}
	return "?";
}

/* Format a limit without trailing zeros ("2", "0.5", "-2"). */
static char *
config_schema_num(double v)
{
	return xasprintf("%.10g", v);
}

/* What a value of this entry must look like, for error messages and the man page. */
char *
config_schema_describe(const struct config_schema *e)
{
	char *lo, *hi, *s;
	int ranged = e->min <= e->max;

	switch (e->type) {
	case CONFIG_INT:
	case CONFIG_FLOAT:
		if (!ranged)
			return xstrdup(e->type == CONFIG_INT ? "an integer" : "a number");
		lo = config_schema_num(e->min);
		hi = config_schema_num(e->max);
		if (e->max >= BIG || e->max >= 9e18)
			s = xasprintf("%s >= %s", e->type == CONFIG_INT ? "an integer" : "a number",
			    lo);
		else
			s = xasprintf("%s from %s to %s",
			    e->type == CONFIG_INT ? "an integer" : "a number", lo, hi);
		free(lo);
		free(hi);
		return s;
	case CONFIG_ENUM:
		s = xstrdup(e->choices);
		for (lo = s; *lo != '\0'; lo++)
			if (*lo == '|')
				*lo = ',';
		hi = xasprintf("one of %s", s);
		free(s);
		return hi;
	case CONFIG_STRINGS:
		if (e->choices != NULL) {
			s = xstrdup(e->choices);
			for (lo = s; *lo != '\0'; lo++)
				if (*lo == '|')
					*lo = ',';
			hi = xasprintf("a list of %s", s);
			free(s);
			return hi;
		}
		if (ranged && e->max > 0)
			return xasprintf("a list of at most %.0f strings", e->max);
		return xstrdup("a list of strings");
	case CONFIG_LIST:
		return xstrdup("a list of mappings");
	case CONFIG_BOOL:
		return xstrdup("true or false");
	case CONFIG_STRING:
		return xstrdup("a string");
	case CONFIG_RANGE:
		return xstrdup("true, false or [min, max]");
	case CONFIG_SECTION:
	case CONFIG_MAP:
	case CONFIG_STRMAP:
	case CONFIG_PARAMS:
	case CONFIG_RANGES:
		return xstrdup("a mapping");
	}
	return xstrdup("?");
}

/* Write s with roff's special characters escaped. */
static void
config_schema_roff(FILE *f, const char *s)
{
	const char *p;

	if (*s == '.' || *s == '\'')
		fputs("\\&", f);
	for (p = s; *p != '\0'; p++) {
		if (*p == '\\')
			fputs("\\e", f);
		else if (*p == '-')
			fputs("\\-", f);
		else
			fputc(*p, f);
	}
}

/* One .TP item per entry of table, with type, default and limits, then the help. */
static void
config_schema_man_table(FILE *f, const struct config_schema *table, size_t n)
{
	size_t i;
	char *want;

	for (i = 0; i < n; i++) {
		const struct config_schema *e = &table[i];

		fputs(".TP\n.B ", f);
		config_schema_roff(f, e->path);
		fputc('\n', f);
		want = config_schema_describe(e);
		fputs("(", f);
		config_schema_roff(f, want);
		free(want);
		if (e->flags & CONFIG_REQUIRED)
			fputs("; required", f);
		if (e->def != NULL) {
			fputs("; default ", f);
			config_schema_roff(f, e->def);
		}
		if (e->flags & CONFIG_SECRET)
			fputs("; secret, masked in output", f);
		fputs(")\n.br\n", f);
		config_schema_roff(f, e->help);
		fputc('\n', f);
	}
}

/* Paragraphs of prose, one roff request or text line per string. */
static void
config_schema_man_lines(FILE *f, const char *const *lines)
{
	size_t i;

	for (i = 0; lines[i] != NULL; i++) {
		fputs(lines[i], f);
		fputc('\n', f);
	}
}

/* Print natter.yaml(5): prose around the schema tables. */
void
config_schema_man(FILE *f)
{
	static const char *const head[] = {
		".\\\" Generated by `natter config man` from src/config-schema.c; do not edit.",
		/* The date of the version, not of the build: the page is the same every time. */
		".TH NATTER.YAML 5 \"" NATTER_DATE "\" \"natter " NATTER_VERSION "\" \"File Formats\"",
		".SH NAME",
		"natter.yaml \\- configuration of the natter chat client",
		".SH SYNOPSIS",
		".I $XDG_CONFIG_HOME/natter/natter.yaml",
		".SH DESCRIPTION",
		"natter reads one YAML file that defines providers, models, prompt templates, "
		"keys, default parameters, key bindings and the theme.",
		"The file named by",
		".B \\-c",
		"or",
		".BR NATTER_CONFIG ,",
		"else",
		".IR $XDG_CONFIG_HOME/natter/natter.yaml ,",
		"is laid over the shipped",
		".IR natter.yaml ,",
		"which lists every option with a comment and so doubles as an example.",
		"Mappings merge key by key (a user file may change one field of a shipped "
		"provider); lists and scalars replace.",
		"A file may",
		".B include:",
		"others (templates, themes): they are read first, relative to the including "
		"file, and the including file overrides them.",
		".PP",
		"Unknown keys are errors.",
		"Every error names the file, line and column, the key, what was expected and, "
		"for a misspelt name, the nearest valid one:",
		".PP",
		".EX",
		"natter.yaml:4:5: unknown key 'temprature', did you mean 'temperature'?",
		".EE",
		".PP",
		"A file larger than 4 MiB or nested more than 64 levels deep is refused before it "
		"is parsed.",
		"A broken file never stops natter: the errors are shown, each provider, model, "
		"template or binding that has one is left out whole, and the rest of the file "
		"applies.",
		"A provider with any error is left out because the misspelt key may be the "
		"base_url its key would be sent to; a template extending one left out is left out "
		"too.",
		"Only a file that cannot be read or parsed leaves the shipped defaults alone.",
		"Check a file with",
		".BR \"natter config check\" ;",
		"see the effective configuration, keys masked, with",
		".BR \"natter config show\" .",
		".PP",
		"In the key paths below,",
		".B *",
		"stands for a name you choose and",
		".B []",
		"for an item of a list.",
		".SH KEYS",
		NULL,
	};
	static const char *const mid[] = {
		".SH PARAMETERS",
		"A parameter block (top\\-level",
		".BR defaults ,",
		".BR models.*.defaults ,",
		".BR templates.*.params )",
		"holds request parameters.",
		"Later layers win: top\\-level defaults, then the model's, then the template's, "
		"then the session's",
		".RB ( \"/set temperature 0.2\" ),",
		"then the message's.",
		"Each is mapped to the protocol's own field, and a value outside the model's range "
		"or a parameter the model does not accept is refused before any request is sent.",
		NULL,
	};
	static const char *const limits[] = {
		".SH PARAMETER LIMITS",
		"Under",
		".BR models.*.params ,",
		"each parameter is",
		".B false",
		"(not accepted),",
		".B true",
		"(accepted with the usual range) or",
		".B [min, max]",
		"(accepted in that range).",
		"Parameters not listed keep what the protocol supports: openai takes temperature "
		"0\\-2, top_p, max_tokens, stop, seed, the penalties and reasoning_effort; "
		"anthropic takes temperature 0\\-1, top_p, top_k, max_tokens, stop and "
		"reasoning_budget; gemini and ollama take most of them.",
		NULL,
	};
	static const char *const mcp[] = {
		".SH MCP SERVERS",
		"Each entry of",
		".B mcp_servers:",
		"is a Model Context Protocol server: a program natter starts and talks to over its "
		"standard input and output (the stdio transport), or, with",
		".BR url: ,",
		"a server natter reaches over HTTP (the streamable HTTP transport: each message is "
		"a POST answered with JSON or an event stream, the session id the server gives at "
		"initialize goes with every later request, and the session is ended with DELETE "
		"when natter is done; natter opens no GET stream, so a server's messages outside "
		"its answers are not heard).",
		"A server starts in the background when its tools are first needed; one that "
		"cannot start, exits or breaks the protocol is reported with the end of its "
		"standard error and its tools are withdrawn.",
		"Its environment holds only what",
		".B env:",
		"gives it and a few basics (PATH, HOME, USER, LOGNAME, SHELL, TERM, LANG, LC_ALL, "
		"LC_CTYPE, LC_MESSAGES, TZ, TMPDIR): provider keys are not passed unless an",
		".B env:",
		"entry names them, as in",
		".BR \"GITHUB_TOKEN: ${GITHUB_TOKEN}\" .",
		"Values of variables whose names hold KEY, TOKEN, SECRET, PASSWORD or AUTH are "
		"masked like keys.",
		"Tools on a server's",
		".B allow:",
		"list run without asking; the others wait for approval.",
		".B natter mcp list",
		"shows each server's state and tools;",
		".B natter mcp call",
		"calls one.",
		".PP",
		".EX",
		"mcp_servers:",
		"  files:",
		"    command: npx",
		"    args: [\"\\-y\", \"@modelcontextprotocol/server\\-filesystem\", /home/me/notes]",
		"    allow: [read_file, list_directory]",
		"  github:",
		"    command: github\\-mcp\\-server",
		"    args: [stdio]",
		"    env: {GITHUB_PERSONAL_ACCESS_TOKEN: \"${GITHUB_TOKEN}\"}",
		"    timeout: 120",
		"  docs:",
		"    url: https://mcp.example.com/mcp",
		"    headers: {Authorization: \"Bearer ${DOCS_TOKEN}\"}",
		".EE",
		NULL,
	};
	static const char *const tail[] = {
		".SH KEYS AND KEY POOLS",
		"A provider's key comes from, in order: a literal",
		".BR key ,",
		"the first line printed by",
		".B key_cmd",
		"(run once through /bin/sh, kept in memory only; one that exits non\\-zero, prints "
		"nothing or takes longer than",
		".B key_cmd_timeout",
		"is stopped and reported with its exit status), or the variable",
		".B key_env",
		"(default: the provider's name in capitals followed by _API_KEY, e.g. "
		"OPENAI_API_KEY).",
		"Keys never reach logs, the database, exports or",
		".BR \"natter config show\" .",
		"natter warns when a file holding a literal key is readable by group or others.",
		".PP",
		"Several entries under",
		".B keys:",
		"form a pool; entries that give the same key are one key.",
		"Requests rotate over the keys; each key has sliding windows for requests per "
		"minute, requests per day and tokens per minute.",
		"A key that receives HTTP 429 rests for as long as the server's retry\\-after says, "
		"else for 60 s, then 120 s, 240 s and so on, up to an hour either way, and the next "
		"free key is used.",
		"The windows and rests are shared by every natter using the same database, through",
		".I natter.db\\-keypool",
		"beside it (keys named by a fingerprint, never written), so limits hold across runs "
		"and concurrent processes.",
		"When every key rests, a request waits up to",
		".B key_wait",
		"seconds (the status line says so) or fails with a message saying when a key "
		"frees up.",
		".B natter auth",
		"shows each pool.",
		".SH FALLBACKS",
		"When a request fails before its first token for a reason retrying cannot fix "
		"(the provider is down, overloaded after retries, or has no usable key), natter "
		"tries the models listed in the model's",
		".B fallback:",
		"in order and says so in the transcript and the status line.",
		".SH TEMPLATES",
		"Template text holds",
		".BI { name }",
		"placeholders, where a name is made of letters, digits, _ and \\-.",
		".B {{",
		"and",
		".B }}",
		"stand for literal braces; any other brace is kept as it is.",
		"Variables come from the command line",
		".RB ( \"natter ask \\-T code_review \\-V language=C \\-V code=@file.c\" ,",
		"where @file reads a file), from the template's",
		".BR defaults ,",
		"or from the form that",
		".B /template NAME",
		"opens; a missing variable is reported by name.",
		"A template that",
		".B extends:",
		"another inherits its text, defaults, model and parameters; with",
		".B mode: append",
		"its own system and user text follow the parent's, with",
		".B mode: replace",
		"they take their place.",
		".SH EXAMPLE",
		".EX",
		"include: [templates.yaml]",
		"default_model: fast",
		"providers:",
		"  work:",
		"    protocol: openai",
		"    base_url: https://llm.example.com/v1",
		"    key_cmd: pass show work/llm",
		"    rpm: 60",
		"models:",
		"  fast:",
		"    provider: work",
		"    id: small\\-model\\-v2",
		"    context_window: 32768",
		"    price_input: 0.15",
		"    price_output: 0.60",
		"    params:",
		"      temperature: [0, 1]",
		"      top_k: false",
		"    fallback: [gpt\\-4o\\-mini]",
		"templates:",
		"  review_c:",
		"    extends: code_review",
		"    defaults: {language: C}",
		"    params: {temperature: 0.1}",
		".EE",
		".SH FILES",
		".TP",
		".I $XDG_CONFIG_HOME/natter/natter.yaml",
		"The user's configuration (~/.config/natter/natter.yaml when XDG_CONFIG_HOME is "
		"unset).",
		".TP",
		".I /usr/local/share/natter/natter.yaml",
		"The shipped defaults and",
		".I templates.yaml",
		"with the built\\-in templates.",
		".SH ENVIRONMENT",
		".TP",
		".B NATTER_CONFIG",
		"The configuration file to use instead of the XDG one.",
		".TP",
		".B OPENAI_API_KEY, ANTHROPIC_API_KEY, GEMINI_API_KEY, GROQ_API_KEY, ...",
		"The default key variables of the shipped providers.",
		".TP",
		".B OLLAMA_HOST, LLAMA_SERVER_URL",
		"Addresses of local servers; the shipped ollama and local providers are offered "
		"when these are set.",
		".SH SEE ALSO",
		".BR natter (1)",
		NULL,
	};

	config_schema_man_lines(f, head);
	config_schema_man_table(f, config_schema, config_schema_count);
	config_schema_man_lines(f, mid);
	config_schema_man_table(f, config_schema_params, config_schema_params_count);
	config_schema_man_lines(f, limits);
	config_schema_man_table(f, config_schema_ranges, config_schema_ranges_count);
	config_schema_man_lines(f, mcp);
	config_schema_man_lines(f, tail);
}
