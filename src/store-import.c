/*
 * Comparison groups and importing (natter import, natter serve's stored sessions): a
 * group numbers the side-by-side replies of one prompt, and an imported session keeps its
 * messages, groups, picks and files, each group given a new id in this database.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "attach.h"
#include "buf.h"
#include "log.h"
#include "store.h"
#include "store-internal.h"
#include "store-schema.h"
#include "xmalloc.h"

/* Start a side-by-side comparison group in a session. */
int64_t
store_compare_group_new(struct store *st, int64_t session_id)
{
	sqlite3_stmt *s = store_stmt(st, SQL_GROUP_NEW);

	if (s == NULL)
		return -1;
	sqlite3_bind_int64(s, 1, session_id);
	sqlite3_bind_int64(s, 2, store_now_s());
	if (store_step_done(st, s, "creating a compare group") != 0)
		return -1;
	return sqlite3_last_insert_rowid(st->db);
}

/* Record which column of a comparison group was kept (-1: none). */
int
store_compare_group_pick(struct store *st, int64_t group, int column)
{
	sqlite3_stmt *s = store_stmt(st, SQL_GROUP_PICK);

	if (s == NULL)
		return -1;
	sqlite3_bind_int64(s, 1, group);
	if (column >= 0)
		sqlite3_bind_int64(s, 2, column);
	else
		sqlite3_bind_null(s, 2);
	return store_change_one(st, s, group, "keeping a compared reply", "compare group");
}

/* An open-addressing map from an imported file's compare group ids to new ones. */
struct store_group_map {
	int64_t *from, *to;
	size_t cap;   /* a power of two, at least twice the number of entries */
};

/* The slot of group id from in map (a free one when it is not there). */
static size_t
store_group_slot(const struct store_group_map *map, int64_t from)
{
	size_t i = (size_t)((uint64_t)from * 0x9e3779b97f4a7c15ull) & (map->cap - 1);

	while (map->from[i] != 0 && map->from[i] != from)
		i = (i + 1) & (map->cap - 1);
	return i;
}

/* The new id of the file's group m->compare_group in session id, creating the group (with
 * its kept column) the first time it is met; -1 on a store error. */
static int64_t
store_import_group(struct store *st, struct store_group_map *map, int64_t id,
    const struct message_row *m)
{
	size_t i = store_group_slot(map, m->compare_group);
	sqlite3_stmt *s;

	if (map->from[i] == m->compare_group)
		return map->to[i];
	s = store_stmt(st, SQL_IMPORT_GROUP);
	if (s == NULL)
		return -1;
	sqlite3_bind_int64(s, 1, id);
	sqlite3_bind_int64(s, 2, m->created / 1000);
	if (m->compare_pick >= 0)
		sqlite3_bind_int64(s, 3, m->compare_pick);
	else
		sqlite3_bind_null(s, 3);
	if (store_step_done(st, s, "creating a compare group") != 0)
		return -1;
	map->from[i] = m->compare_group;
	map->to[i] = sqlite3_last_insert_rowid(st->db);
	return map->to[i];
}

/* Insert message m as number seq of session id, in group (0: none). */
static int
store_import_message(struct store *st, int64_t id, long seq, int64_t group,
    const struct message_row *m)
{
	sqlite3_stmt *s = store_stmt(st, SQL_IMPORT_MSG);
	const char *content = m->content != NULL ? m->content : "";
	int64_t msg;

	if (s == NULL)
		return -1;
	sqlite3_bind_int64(s, 1, id);
	sqlite3_bind_int64(s, 2, seq);
	store_bind_text(s, 3, store_role_name(m->role));
	store_bind_text(s, 4, m->provider);
	store_bind_text(s, 5, m->model);
	sqlite3_bind_int64(s, 6, m->created);
	/* Nothing will finish an imported reply that was still arriving. */
	store_bind_text(s, 7, store_state_name(m->state == MSG_STREAMING ? MSG_INTERRUPTED :
	    m->state));
	store_bind_text(s, 8, m->error);
	store_bind_text(s, 9, m->finish_reason);
	store_bind_count(s, 10, m->input_tokens);
	store_bind_count(s, 11, m->output_tokens);
	store_bind_cost(s, 12, m->cost);
	store_bind_count(s, 13, m->ttft_ms);
	store_bind_count(s, 14, m->duration_ms);
	if (group > 0)
		sqlite3_bind_int64(s, 15, group);
	else
		sqlite3_bind_null(s, 15);
	store_bind_text(s, 16, content);
	store_bind_text(s, 17, m->reasoning);
	sqlite3_bind_int(s, 18, m->pinned != 0);
	store_bind_text(s, 19, m->tool_id);
	store_bind_text(s, 20, m->tool_name);
	sqlite3_bind_int(s, 21, m->tool_error != 0);
	if (group > 0 && m->column > 0)
		sqlite3_bind_int(s, 22, m->column - 1);
	else
		sqlite3_bind_null(s, 22);
	if (store_step_done(st, s, "adding a message") != 0)
		return -1;
	msg = sqlite3_last_insert_rowid(st->db);
	if (m->natts > 0 && store_attach_save(st, msg, m->atts, m->natts) != 0)
		return -1;
	return store_index(st, msg, content, 0);
}

/* Store a whole session as given, in one transaction. */
int64_t
store_session_import(struct store *st, const struct session_row *row,
    const struct message_row *m, size_t n)
{
	struct store_group_map map = { NULL, NULL, 16 };
	sqlite3_stmt *s;
	int64_t id = -1, group;
	size_t i;

	while (map.cap < 2 * n)
		map.cap *= 2;
	map.from = xcalloc(map.cap, sizeof(*map.from));
	map.to = xcalloc(map.cap, sizeof(*map.to));
	if (store_exec_cached(st, SQL_BEGIN) != 0)
		goto out;
	s = store_stmt(st, SQL_IMPORT_SESSION);
	if (s == NULL)
		goto fail;
	store_bind_text(s, 1, row->title != NULL ? row->title : "");
	store_bind_text(s, 2, row->provider);
	store_bind_text(s, 3, row->model);
	store_bind_text(s, 4, row->system);
	sqlite3_bind_int64(s, 5, row->created);
	sqlite3_bind_int64(s, 6, row->updated);
	store_bind_text(s, 7, row->summary);
	sqlite3_bind_int64(s, 8, row->summary != NULL ? row->summary_covers : 0);
	if (store_step_done(st, s, "creating a session") != 0)
		goto fail;
	id = sqlite3_last_insert_rowid(st->db);
	for (i = 0; i < n; i++) {
		group = 0;
		if (m[i].compare_group > 0 &&
		    (group = store_import_group(st, &map, id, &m[i])) < 0)
			goto fail;
		if (store_import_message(st, id, (long)i + 1, group, &m[i]) != 0)
			goto fail;
	}
	s = store_stmt(st, SQL_IMPORT_COST);
	if (s == NULL)
		goto fail;
	sqlite3_bind_int64(s, 1, id);
	sqlite3_bind_double(s, 2, row->cost);
	if (store_step_done(st, s, "updating a session") != 0 ||
	    store_exec_cached(st, SQL_COMMIT) != 0)
		goto fail;
	goto out;
fail:
	store_rollback(st);
	id = -1;
out:
	free(map.from);
	free(map.to);
	return id;
}
