/*
 * Sessions on disk: SQLite in $XDG_DATA_HOME/natter/natter.db (WAL), holding sessions,
 * messages with their finish state, tokens, cost and timings, and an FTS5 index for search.
 * A streaming reply is written as it grows (store_message_update in small transactions), so
 * a crash or kill loses at most the last fraction of a second, and the next natter to open
 * the database marks such a reply interrupted. API keys are never stored.
 * All calls come from the UI thread.
 */
#ifndef NATTER_STORE_H
#define NATTER_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "request.h"

struct store;

/* How a message ended. */
enum msg_state {
	MSG_COMPLETE,
	MSG_STREAMING,  /* still arriving, written by a natter that is still running */
	MSG_TRUNCATED,
	MSG_CANCELLED,
	MSG_ERROR,
	MSG_INTERRUPTED, /* the natter writing it died mid-reply; the partial text is kept */
};

struct session_row {
	int64_t id;
	char *title;
	char *provider;
	char *model;
	char *system;
	int64_t created;   /* unix seconds */
	int64_t updated;
	long nmessages;
	long input_tokens; /* sums over the session's messages */
	long output_tokens;
	double cost;
	char *summary;     /* context.policy summarize: the rolling summary, or NULL */
	long summary_covers; /* how many leading messages it stands for */
	char *answered;    /* a session with compare groups: "provider\tmodel\tA" per model
	                    * that replied, one a line in order of its first reply, A 1 when
	                    * one of its replies is no error, else 0; NULL for other sessions */
	int archived;      /* hidden from the usual listings (store_session_archive) */
	int64_t forked_from; /* a fork: the message of another session it goes on from, else 0 */
	int64_t head_id;   /* the last message of the path on screen; 0: its newest message */
};

/* Which sessions a listing holds. */
enum store_which { STORE_ACTIVE, STORE_ARCHIVED, STORE_ALL };

struct message_row {
	int64_t id;
	int64_t session_id;
	enum role role;
	char *content;
	char *reasoning;   /* NULL when none */
	char *provider;
	char *model;
	int64_t created;   /* unix milliseconds */
	enum msg_state state;
	char *error;       /* one-line error text when state is MSG_ERROR; for other states
	                    * a note for the reader (malformed events skipped), or NULL */
	char *finish_reason;
	long input_tokens; /* -1 when unknown */
	long output_tokens;
	double cost;       /* -1 when unknown */
	long ttft_ms;      /* -1 when unknown */
	long duration_ms;
	int64_t compare_group; /* 0 when the message is not part of a side-by-side comparison */
	int compare_pick;      /* read only: the column its group kept (0-based), -1 when none */
	int pinned;            /* always sent, whatever the context budget drops */
	char *tool_id;         /* ROLE_TOOL_CALL, ROLE_TOOL: the call's id, else NULL */
	char *tool_name;       /* the tool's name */
	int tool_error;        /* ROLE_TOOL: the call failed or was refused */
	int column;            /* in a compare group: its column + 1 as stored (schema 11);
	                        * 0 when not known (older rows, rows made elsewhere) */
	struct attach **atts;  /* a user message's files, in order (schema 12): written with
	                        * it by store_message_add and store_session_import, read as
	                        * references (bytes not loaded) by store_messages; the rows
	                        * store_messages gives own a reference to each */
	size_t natts;
	int64_t parent_id;     /* the message it follows (schema 14); STORE_FIRST for a first
	                        * message; 0 when implied by order: the row before it by seq
	                        * in its session (older rows, and writers that do not say) */
	int nalt, alt;         /* read by store_messages: it is alternative alt of nalt
	                        * (1-based) among the messages following the same one (a
	                        * reply of a round shown side by side: among its column's) */
	int compare_cols;      /* read by store_rounds_whole and store_messages_tree: how many
	                        * columns its compare group has (0: none known) */
	char *signature;       /* read by store_messages_page: the signature of its reasoning
	                        * (store_sign_set), NULL when none or not read */
	/* Writing a long reply (store_message_update, store-spill.c): with spill set, the
	 * stored text is kept and the append_len bytes at append follow it; when head_len is
	 * not 0 the content column first becomes the head_len bytes at content (the head,
	 * written once as the reply turns long). */
	int spill;
	size_t head_len;
	const char *append;
	size_t append_len;
};

/* A reply longer than STORE_SPILL_AT bytes is best written as it arrives (message_row.spill):
 * its new text appended, in rows of at most STORE_SPILL_ROW bytes, instead of rewritten. */
#define STORE_SPILL_AT (1u << 20)
#define STORE_SPILL_ROW (1u << 20)

/* message_row.parent_id of a first message (stored as 0). */
#define STORE_FIRST ((int64_t)-1)

/* store_search wraps each matched term of a snippet in these bytes, so that a UI can
 * highlight them and a plain printer can swap them for brackets. */
#define STORE_MATCH_OPEN "\x02"
#define STORE_MATCH_CLOSE "\x03"


/* Open (creating) the database at path, or the default when path is NULL. On failure
 * returns NULL and sets *err to a message the caller frees. Replies left streaming by a
 * natter that has since died become MSG_INTERRUPTED and searchable (see store_recover). */
struct store *store_open(const char *path, char **err);
void store_close(struct store *st);
const char *store_path(const struct store *st);

int64_t store_session_new(struct store *st, const char *title, const char *provider,
    const char *model);
int store_session_rename(struct store *st, int64_t id, const char *title);
int store_session_set_model(struct store *st, int64_t id, const char *provider, const char *model);
int store_session_set_system(struct store *st, int64_t id, const char *system);
/* Delete a session with its messages; a fork sharing some of them gets those rows as its
 * own first (ids, texts and parents kept), so it keeps its whole history. */
int store_session_delete(struct store *st, int64_t id);
/* Keep a session's rolling summary (NULL: none) and how many messages it stands for. */
int store_session_set_summary(struct store *st, int64_t id, const char *summary, long covers);
/* Batch the writes between these two into one transaction (each writer's own becomes a
 * savepoint in it): a session, its prompt and its reply row cost one commit. No nesting;
 * store_batch_end(st, 0) rolls every write of the batch back. */
int store_batch_begin(struct store *st);
int store_batch_end(struct store *st, int ok);
/* A brief writer (a command-line natter that stores a reply and exits): the search
 * indexing of long messages is put off, and the page cache is small. The messages are
 * noted, and store_index_pending (which store_search and store_check call first, and the
 * interface after its first frame) indexes them. */
void store_set_brief(struct store *st, int on);
/* Put off (1) or not (0) the search indexing of long messages alone, as a brief writer
 * does, without its small cache: the interface indexes a reply after the frame that shows
 * its end, calling store_index_pending when idle. */
void store_set_defer_index(struct store *st, int on);
/* A brief writer leaves checkpoints to others (its commits never copy the log into the
 * database). When its log has grown past STORE_WAL_HEAVY bytes, which every later open
 * reads and checksums, store_wal_heavy says so and the caller runs store_fold(path) off its
 * own path (natter's command line does it in a detached process after closing): fold the
 * log into the database and truncate it; 0 on success, -1 when the database is busy or
 * cannot be opened (nothing is lost either way). */
#define STORE_WAL_HEAVY (1L << 20)
int store_wal_heavy(const struct store *st);
int store_fold(const char *path);
int store_index_pending(struct store *st);
/* Pin (1) or unpin (0) a message. */
int store_message_set_pinned(struct store *st, int64_t id, int pinned);
/* The sessions that are not archived, newest first; *out is an array of *n rows freed with
 * store_sessions_free. */
int store_sessions(struct store *st, struct session_row **out, size_t *n, size_t limit);
/* The same for the archived sessions (STORE_ARCHIVED) or all of them (STORE_ALL). */
int store_sessions_which(struct store *st, enum store_which which, struct session_row **out,
    size_t *n, size_t limit);
/* Archive a session (1: hidden from store_sessions, kept with its messages, found by
 * search) or bring it back (0). */
int store_session_archive(struct store *st, int64_t id, int archived);
void store_sessions_free(struct session_row *rows, size_t n);

/* Insert m (m->id is set); returns the id or -1. */
int64_t store_message_add(struct store *st, struct message_row *m);
/* Rewrite content, reasoning, state and numbers of an existing message. */
int store_message_update(struct store *st, const struct message_row *m);
/* Whether message id is stored in session session_id: 1, 0 when it is not (its row was
 * deleted, maybe its id taken since by another session's message), -1 when the store
 * cannot tell. */
int store_message_exists(struct store *st, int64_t id, int64_t session_id);
int store_message_delete_after(struct store *st, int64_t session_id, int64_t message_id);
/* The path on screen of a session, first message first: from its head (head_id, else its
 * newest message, else for a fork the message it goes on from) up through the parents,
 * into the session it was forked from where it reaches there (those rows carry that
 * session's id). Each row says which alternative it is (nalt, alt): a shared row counts
 * the fork's own rows that follow the same message. A comparison round no column was
 * kept of has one column on the path; store_rounds_whole brings in the others. */
int store_messages(struct store *st, int64_t session_id, struct message_row **out, size_t *n);
/* History that branches (store-tree.c). The whole tree: the shared path up to where a
 * fork starts, then every message of the session in the order they were written, each
 * with its parent_id resolved (never -1) and its nalt/alt. */
int store_messages_tree(struct store *st, int64_t session_id, struct message_row **out,
    size_t *n);
/* The path ending at message head (0: the session's own head, as store_messages). */
int store_messages_path(struct store *st, int64_t session_id, int64_t head,
    struct message_row **out, size_t *n);
/* A page of the path: the messages from message from (0: the session's head, as
 * store_messages) up through the parents, at most limit of them (0: no limit), stopping
 * before message stop (0: none), first message first and read as store_messages reads them,
 * each with its signature. *above gets the message before the first one returned (where
 * the next page starts, the walk's stop when it got there), 0 when the page reaches the
 * path's first message. Pages walked from each *above in turn, put together, are
 * store_messages's rows. */
int store_messages_page(struct store *st, int64_t session_id, int64_t from, int64_t stop,
    size_t limit, struct message_row **out, size_t *n, int64_t *above);
/* What a part of a path holds, without reading the text (store_path_sums). */
struct store_path_sums {
	long count;          /* messages */
	long tokens;         /* the input and output tokens they report */
	double cost;         /* the sum of the costs that are known */
	long cost_known;     /* how many have one */
};
/* Add to *sums the messages from message from up through the parents, at most limit of
 * them (0: no limit); *next gets where a later call goes on (0: the first message was
 * reached). */
int store_path_sums(struct store *st, int64_t from, size_t limit, struct store_path_sums *sums,
    int64_t *next);
/* The messages of session_id that follow message parent (0: the session's first
 * messages), oldest first; *ids is an array of *n ids the caller frees. In a fork, a
 * message of its shared path is followed by the next one on that path as well. */
int store_children(struct store *st, int64_t session_id, int64_t parent, int64_t **ids,
    size_t *n);
/* Bring into the path rows[0..n) (whole exchanges, as store_messages or pages put
 * together give them) the other columns of each comparison round no column was kept of:
 * the prompt, every column's newest reply in column order, then the rest of each column's
 * line (tool calls, later replies) by id, each first reply counting the alternatives of
 * its own column; and give every compared row its round's column count. */
int store_rounds_whole(struct store *st, struct message_row **rows, size_t *n);
/* The replies in column (0-based) of compare group that follow message parent, oldest
 * first: the alternatives of a column retried alone. */
int store_children_column(struct store *st, int64_t session_id, int64_t parent, int64_t group,
    int column, int64_t **ids, size_t *n);
/* Make message id of session_id follow message parent instead (0: a first message); the
 * parent must be older. */
int store_message_set_parent(struct store *st, int64_t session_id, int64_t id, int64_t parent);
/* The end of the newest line of messages from message id on (its newest child, that
 * one's newest child, ...); id itself when it has none, -1 on failure. */
int64_t store_branch_leaf(struct store *st, int64_t session_id, int64_t id);
/* Make the path on screen end at message head (0: at the newest message again). */
int store_session_set_head(struct store *st, int64_t id, int64_t head);
/* Start a new session that goes on from message msg of session from, sharing the stored
 * rows of the path up to it (no text is copied): same title with " (fork)", provider,
 * model and system prompt. Returns its id or -1. */
int64_t store_session_fork(struct store *st, int64_t from, int64_t msg);
/* Delete message id of session session_id and every message that follows it there (rows
 * of it a fork shares go to the fork, as store_session_delete does). */
int store_message_delete_tree(struct store *st, int64_t session_id, int64_t id);
void store_messages_free(struct message_row *rows, size_t n);
/* Full-text search over message content (FTS5 query syntax), best match first; rows carry
 * session_id and a snippet in content. A page (limit > 0) ranks the newest 2,000 hits
 * (BM25, each phrase's frequency taken from those hits, user messages first); limit 0
 * ranks every hit. */
int store_search(struct store *st, const char *query, struct message_row **out, size_t *n,
    size_t limit);
/* The same newest first (by message id), at most limit messages (0: all) whose id is below before
 * (0: from the newest): the next page passes the last hit's id. A page costs about the
 * same however many messages match, prefixes of any length included. */
int store_search_newest(struct store *st, const char *query, int64_t before, size_t limit,
    struct message_row **out, size_t *n);
/* How many messages query finds (a walk of every hit: run it after showing a page). */
int store_search_count(struct store *st, const char *query, long *count);
/* store_search_newest a piece at a time, so that an interface's keys never wait behind it:
 * start it, step it (each step works for about budget_us, 0 meaning to the end) until a
 * step returns 0 (done; -1: failure, store_error says why), then take its hits. A query
 * FTS5 refuses fails here rather than being tried again as a phrase. */
struct store_searching;
struct store_searching *store_search_start(struct store *st, const char *query,
    int64_t before, size_t limit);
int store_search_step(struct store *st, struct store_searching *s, long budget_us);
int store_search_hits(struct store *st, struct store_searching *s, struct message_row **out,
    size_t *n);
void store_search_free(struct store_searching *s);

/* Additions (store branch). Functions returning int give 0 on success and -1 on failure,
 * including "no such session/message"; store_error then says why. */
/* The database path used when store_open gets NULL: $NATTER_DB, else
 * $XDG_DATA_HOME/natter/natter.db, else ~/.local/share/natter/natter.db. Caller frees. */
char *store_default_path(void);
/* The last error message, or "" when none. */
const char *store_error(const struct store *st);
/* One session with its counts and sums, or NULL; free with store_sessions_free(row, 1). */
struct session_row *store_session_get(struct store *st, int64_t id);
/* Whether session id is stored: 1, 0 when it is not (say another natter deleted it), -1
 * when the store cannot tell. */
int store_session_exists(struct store *st, int64_t id);
/* Start a side-by-side comparison group in a session; returns its id or -1. */
int64_t store_compare_group_new(struct store *st, int64_t session_id);
/* Record that a group kept column (0-based: the group's assistant messages in order), or
 * none with -1; its user prompt and that reply then belong to the main conversation. */
int store_compare_group_pick(struct store *st, int64_t group, int column);
/* Store a whole session as given (natter import): a new session with row's title,
 * provider, model, system prompt, rolling summary and created/updated times, then
 * messages m[0..n) (pinned or not) in that
 * order with their own times, states and figures, all in one transaction, so that either
 * all of it is stored or nothing is. A message's compare_group is any id that ties the
 * messages of one group together (0: none) and compare_pick the column that group kept
 * (-1: none); new groups get new ids. A message in state MSG_STREAMING is stored as
 * MSG_INTERRUPTED. The session's cost is row->cost when it is within a millionth of the
 * messages' sum. Returns the new session id or -1 (store_error says why). */
int64_t store_session_import(struct store *st, const struct session_row *row,
    const struct message_row *m, size_t n);
/* Usage figures of one group of stored replies (assistant messages), for natter metrics. */
struct store_usage {
	char *key;          /* STORE_USAGE_MODEL: the provider; DAY: "YYYY-MM-DD", local time */
	char *name;         /* MODEL: the model id; SESSION: the title; may be NULL */
	int64_t session_id; /* SESSION only */
	long calls;         /* replies, failed ones included */
	long input_tokens;  /* sums of the counts the providers reported */
	long output_tokens;
	double cost;        /* the sum of the stored costs that are known */
	long cost_known;    /* how many calls have one: fewer than calls means a partial sum */
	double ttft_ms;     /* median time to first token, -1 when no call has one */
	double tps;         /* median output tokens per second after the first, -1 when none */
};

enum store_usage_by {
	STORE_USAGE_MODEL,    /* per provider and model, most calls first */
	STORE_USAGE_DAY,      /* per local day from since_ms on, newest first */
	STORE_USAGE_SESSION,  /* the limit (0: all) most recently updated sessions, newest first */
};

/* The usage of the stored replies grouped as by says, each group computed by one SQL
 * aggregate pass (a million messages take well under a second); *out is an array of *n
 * rows freed with store_usage_free. */
int store_usage(struct store *st, enum store_usage_by by, int64_t since_ms, size_t limit,
    struct store_usage **out, size_t *n);
void store_usage_free(struct store_usage *rows, size_t n);
/* Run SQLite's integrity check and the FTS index check; on failure *err says what. */
int store_check(struct store *st, char **err);
/* Pages read from disk by this connection so far (benchmarks and tests). */
long store_stat_reads(struct store *st);
/* Signed reasoning (store-sign.c): keep the signature a provider gave message id's
 * reasoning (Anthropic's thinking), or forget it with NULL. */
int store_sign_set(struct store *st, int64_t id, const char *signature);
/* The signatures of session_id's messages that have one, in id order: *ids and *sigs are
 * arrays of *n entries the caller frees (each signature, then both arrays). */
int store_sign_list(struct store *st, int64_t session_id, int64_t **ids, char ***sigs,
    size_t *n);
/* Attachments (store-attach.c). Read the bytes of stored reference a (attach_stored)
 * from the store; 0, or -1 when they are missing or not what a names. */
struct attach;
int store_attach_load(struct store *st, struct attach *a);
/* Give rows (n messages of session_id, as store_messages reads them) their attachments'
 * references; 0 or -1. */
int store_attach_fill(struct store *st, int64_t session_id, struct message_row *rows,
    size_t n);
/* The same for rows of any sessions, each looked up by its id (a page of a path). */
int store_attach_fill_rows(struct store *st, struct message_row *rows, size_t n);
/* Store message id's attachments (inside the caller's transaction): each file's bytes
 * once, unless they are stored already, and the message's references; 0 or -1. */
int store_attach_save(struct store *st, int64_t id, struct attach *const *atts, size_t n);
/* Message vectors for semantic search (store-vectors.c, semantic.h), by model key. The
 * newest messages with ids in (above, below) that are worth a vector and have none: *ids
 * and *texts (n entries) freed with store_vectors_pending_free. */
int store_vectors_pending(struct store *st, const char *key, int64_t above, int64_t below,
    size_t limit, int64_t **ids, char ***texts, size_t *n);
void store_vectors_pending_free(int64_t *ids, char **texts, size_t n);
/* Store n vectors of dims bytes each (v, back to back) for messages ids, with their bits. */
int store_vectors_put(struct store *st, const char *key, const int64_t *ids,
    const int8_t *v, size_t n, size_t dims);
/* Call fn for the bits of every vector (valid during the call only). */
int store_vectors_scan_bits(struct store *st, const char *key,
    void (*fn)(void *arg, int64_t id, const unsigned char *bits, size_t len), void *arg);
/* Call fn for the bytes of the vectors of messages ids[0..n) that have one. */
int store_vectors_get(struct store *st, const char *key, const int64_t *ids, size_t n,
    void (*fn)(void *arg, int64_t id, const int8_t *v, size_t dims), void *arg);
/* How far up the ids every message has been considered, and noting it. */
int64_t store_vectors_upto(struct store *st, const char *key);
int store_vectors_set_upto(struct store *st, const char *key, int64_t upto);
/* Messages above id above worth a vector and without one; -1 on failure. */
long store_vectors_count_pending(struct store *st, const char *key, int64_t above);
/* The newest message's id (0: none): an indexer started now embeds what comes after. */
int64_t store_vectors_top(struct store *st);
/* Read messages ids[0..n) in that order (deleted ones left out), for store_messages_free. */
int store_vectors_rows(struct store *st, const int64_t *ids, size_t n, struct message_row **out,
    size_t *nout);
/* Names used in the database and exports: "user", "complete", ... */
const char *store_role_name(enum role role);
const char *store_state_name(enum msg_state state);

#endif
