/*
 * Which replies are still being written (store.c's layout notes say why): each open store
 * write-locks one byte (its slot) of <db>-lease and stamps the rows it streams with the
 * slot; opening a database marks 'interrupted' every streaming row whose slot nobody holds
 * (its natter died), and indexes it for search like any finished message.
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

/* The byte-lock command for leases: a lock owned by the open file where the system has
 * them, so each open store holds its own lease; else a POSIX process lock, which still
 * separates processes (natter opens one store per process). */
#ifdef F_OFD_SETLK
#define STORE_SETLK F_OFD_SETLK
#else
#define STORE_SETLK F_SETLK
#endif

/* How many stores can hold a lease on one database at once; any more write unstamped rows. */
#define STORE_LEASES 1024

/* Lock (F_WRLCK) or unlock (F_UNLCK) byte slot of the lease file without waiting; 0, or
 * -1 with errno EAGAIN or EACCES when another holder has it locked. */
static int
store_lease_lock(int fd, long slot, short type)
{
	struct flock fl;

	memset(&fl, 0, sizeof(fl));
	fl.l_type = type;
	fl.l_whence = SEEK_SET;
	fl.l_start = slot;
	fl.l_len = 1;
	return fcntl(fd, STORE_SETLK, &fl);
}

/* Take the lowest free slot of the database's lease file, held until store_close; without
 * one (an in-memory database, a file system without locks) st->slot stays -1. */
void
store_lease_take(struct store *st)
{
	const char *db = sqlite3_db_filename(st->db, "main");
	char *path;
	long slot;

	if (db == NULL || *db == '\0')
		return;
	path = xasprintf("%s-lease", db);
	st->lease_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (st->lease_fd < 0) {
		log_debug("store: cannot open %s: %s", path, strerror(errno));
		free(path);
		return;
	}
	for (slot = 0; slot < STORE_LEASES; slot++) {
		if (store_lease_lock(st->lease_fd, slot, F_WRLCK) == 0) {
			st->slot = slot;
			break;
		}
		if (errno != EAGAIN && errno != EACCES) {
			log_debug("store: cannot lock %s: %s", path, strerror(errno));
			break;
		}
	}
	free(path);
}

/* Bind the writer column for a row in state: this store's slot while it streams, else NULL. */
void
store_bind_writer(const struct store *st, sqlite3_stmt *s, int i, enum msg_state state)
{
	if (state == MSG_STREAMING && st->slot >= 0)
		sqlite3_bind_int64(s, i, st->slot);
	else
		sqlite3_bind_null(s, i);
}

/* Mark every row that writer (-1: none recorded) left streaming interrupted and index it,
 * in one transaction; returns how many rows it finished, or -1. */
static long
store_interrupt(struct store *st, int64_t writer)
{
	sqlite3_stmt *s, *c;
	int64_t *ids = NULL;
	size_t len = 0, cap = 0, i;
	long done = 0;
	int rc;

	if (store_exec_cached(st, SQL_BEGIN) != 0)
		return -1;
	s = store_stmt(st, SQL_STREAMING_OF);
	if (s == NULL)
		goto fail;
	sqlite3_bind_int64(s, 1, writer);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		if (len == cap) {
			cap = cap ? cap * 2 : 8;
			ids = xrealloc(ids, cap * sizeof(*ids));
		}
		ids[len++] = sqlite3_column_int64(s, 0);
	}
	sqlite3_reset(s);
	if (rc != SQLITE_DONE) {
		store_fail(st, "reading streaming messages");
		goto fail;
	}
	for (i = 0; i < len; i++) {
		/* The trigger indexes a one-part text; store_index cuts a longer one. */
		s = store_stmt(st, SQL_INTERRUPT);
		if (s == NULL)
			goto fail;
		sqlite3_bind_int64(s, 1, ids[i]);
		if (store_step_done(st, s, "marking a message interrupted") != 0)
			goto fail;
		if (sqlite3_changes(st->db) == 0)
			continue;
		c = store_stmt(st, SQL_MSG_CONTENT);
		if (c == NULL)
			goto fail;
		sqlite3_bind_int64(c, 1, ids[i]);
		rc = sqlite3_step(c);
		if (rc == SQLITE_ROW && sqlite3_column_text(c, 0) != NULL &&
		    store_index_any(st, ids[i], (const char *)sqlite3_column_text(c, 0)) != 0) {
			sqlite3_reset(c);
			goto fail;
		}
		sqlite3_reset(c);
		done++;
	}
	if (store_exec_cached(st, SQL_COMMIT) != 0)
		goto fail;
	free(ids);
	return done;
fail:
	store_rollback(st);
	free(ids);
	return -1;
}

/*
 * Finish the replies whose writers are gone, by the lease rule (store.c's layout notes): a
 * row without a lease, or with this store's own slot (taken just now, before this store
 * wrote anything), is an orphan; any other slot is tried, and while this store holds that
 * lock nobody can stamp new rows with it, so the rows found are the dead holder's. A store
 * without a lease of its own cannot tell (locks may not work here) and leaves every row.
 * Failures are logged, not returned: a store that opens matters more than tidying up
 * after another process.
 */
void
store_recover(struct store *st)
{
	sqlite3_stmt *s;
	int64_t *writers = NULL;
	size_t len = 0, cap = 0, i;
	long n;
	int rc, locked;

	if (st->slot < 0)
		return;
	s = store_stmt(st, SQL_STREAMING_WRITERS);
	if (s == NULL)
		return;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		if (len == cap) {
			cap = cap ? cap * 2 : 8;
			writers = xrealloc(writers, cap * sizeof(*writers));
		}
		writers[len++] = sqlite3_column_int64(s, 0);
	}
	sqlite3_reset(s);
	if (rc != SQLITE_DONE)
		store_fail(st, "looking for streaming messages");
	for (i = 0; i < len; i++) {
		locked = 0;
		if (writers[i] >= 0 && writers[i] != st->slot) {
			if (store_lease_lock(st->lease_fd, (long)writers[i], F_WRLCK) != 0) {
				if (errno != EAGAIN && errno != EACCES)
					log_debug("store: cannot test lease %lld: %s",
					    (long long)writers[i], strerror(errno));
				continue;  /* a live natter is streaming these */
			}
			locked = 1;
		}
		n = store_interrupt(st, writers[i]);
		if (n > 0)
			log_debug("store: %ld replies of lease %lld marked interrupted", n,
			    (long long)writers[i]);
		if (locked)
			store_lease_lock(st->lease_fd, (long)writers[i], F_UNLCK);
	}
	free(writers);
	st->err[0] = '\0';
}
