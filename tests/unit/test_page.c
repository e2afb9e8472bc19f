/* Unit tests for long sessions loaded in pages: the paged queries return exactly the rows
 * the unpaged ones do, whatever the page size, over paths with regenerated replies, edited
 * prompts, tool calls, a comparison, files, signed reasoning, a fork and rows from before
 * the tree (no parent_id); a session opened in part and loaded page by page holds what one
 * loaded whole holds; the part not loaded is counted right; and switching, branching and
 * appending at the first loaded message keep the path on screen as it is stored. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include <sqlite3.h>

#include "attach.h"
#include "buf.h"
#include "session.h"
#include "store.h"
#include "store-schema.h"
#include "xmalloc.h"

#include "store-fixture.h"

/* Add a finished reply with text, tokens and cost; signed when sig is not NULL. */
static void
reply(struct session *s, const char *text, const char *sig)
{
	struct usage u = { 0 };
	struct reply_end e = { MSG_COMPLETE, &u, 0.25, "stop", NULL, 120, 900, sig };
	size_t i = session_begin_reply(s, "anthropic", "m");

	u.input_tokens = 10;
	u.output_tokens = (long)strlen(text);
	if (sig != NULL)
		session_reply_reasoning(s, "thinking", 8);
	session_reply_text(s, text, strlen(text));
	assert_int_equal(session_reply_finish(s, i, &e), 0);
}

/* One exchange: a prompt and its reply, numbered. */
static void
exchange(struct session *s, int k)
{
	char q[32], a[32];

	snprintf(q, sizeof(q), "q%d", k);
	snprintf(a, sizeof(a), "a%d", k);
	session_append_user(s, q);
	reply(s, a, k % 5 == 0 ? "c2ln" : NULL);
}

/* A long session with what a long chat grows (see the top of the file); its id. */
static int64_t
make_long(struct store *st, int n)
{
	static const unsigned char png[] = { 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n',
	    0, 0, 0, 13, 'I', 'H', 'D', 'R' };
	struct session *s = session_new(st, "anthropic", "m");
	struct attach *img = attach_new("cat.png", png, sizeof png);
	int64_t id, g;
	size_t r;
	int k;

	for (k = 0; k < n; k++) {
		if (k % 7 == 3) {
			/* Regenerated: the first reply stays as an alternative. */
			exchange(s, k);
			session_branch(s, s->nmsgs - 1);
			reply(s, "regenerated", NULL);
		} else if (k % 11 == 5) {
			/* Edited: the first prompt and its reply stay as a branch. */
			exchange(s, k);
			session_branch(s, s->nmsgs - 2);
			exchange(s, 1000 + k);
		} else if (k % 13 == 8) {
			/* A tool call and its result before the answer. */
			session_append_user_files(s, "look", &img, 1);
			reply(s, "let me look", NULL);
			session_append_tool_call(s, "call_1", "read_file", "{\"path\":\"x\"}", NULL,
			    "anthropic", "m", 0, -1);
			session_append_tool_result(s, "call_1", "read_file", "file text", 0, 12, 0,
			    -1);
			reply(s, "it says file text", NULL);
		} else if (k == n / 2) {
			/* A comparison round with two columns, the second one kept. */
			session_append_round(s, "compare", &g);
			r = session_reply_open(s, "openai", "m1", g);
			session_reply_text_at(s, r, "col a", 5);
			session_reply_close(s, r, MSG_COMPLETE, NULL, -1, NULL, NULL);
			r = session_reply_open(s, "openai", "m2", g);
			session_reply_text_at(s, r, "col b", 5);
			session_reply_close(s, r, MSG_COMPLETE, NULL, -1, NULL, NULL);
			session_pick(s, s->nmsgs - 3, 1);
		} else {
			exchange(s, k);
		}
	}
	id = s->id;
	session_free(s);
	attach_unref(img);
	return id;
}

/* Assert two possibly NULL strings are equal. */
static void
assert_same_str(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		assert_ptr_equal(a, b);
	else
		assert_string_equal(a, b);
}

/* Assert two message rows are the same, files and all. */
static void
assert_same_row(const struct message_row *a, const struct message_row *b)
{
	size_t k;

	assert_int_equal(a->id, b->id);
	assert_int_equal(a->session_id, b->session_id);
	assert_int_equal(a->role, b->role);
	assert_same_str(a->content, b->content);
	assert_same_str(a->reasoning, b->reasoning);
	assert_same_str(a->provider, b->provider);
	assert_same_str(a->model, b->model);
	assert_int_equal(a->created, b->created);
	assert_int_equal(a->state, b->state);
	assert_same_str(a->error, b->error);
	assert_same_str(a->finish_reason, b->finish_reason);
	assert_int_equal(a->input_tokens, b->input_tokens);
	assert_int_equal(a->output_tokens, b->output_tokens);
	assert_true(a->cost == b->cost);
	assert_int_equal(a->ttft_ms, b->ttft_ms);
	assert_int_equal(a->duration_ms, b->duration_ms);
	assert_int_equal(a->compare_group, b->compare_group);
	assert_int_equal(a->compare_pick, b->compare_pick);
	assert_int_equal(a->pinned, b->pinned);
	assert_same_str(a->tool_id, b->tool_id);
	assert_same_str(a->tool_name, b->tool_name);
	assert_int_equal(a->tool_error, b->tool_error);
	assert_int_equal(a->column, b->column);
	assert_int_equal(a->parent_id, b->parent_id);
	assert_int_equal(a->nalt, b->nalt);
	assert_int_equal(a->alt, b->alt);
	assert_int_equal(a->natts, b->natts);
	for (k = 0; k < a->natts; k++) {
		assert_string_equal(a->atts[k]->name, b->atts[k]->name);
		assert_string_equal(a->atts[k]->mime, b->atts[k]->mime);
		assert_int_equal(a->atts[k]->size, b->atts[k]->size);
		assert_string_equal(attach_sha(a->atts[k]), attach_sha(b->atts[k]));
	}
}

/* The signature store_sign_list gives message id (of session sid), or NULL. */
static char *
signature_of(struct store *st, int64_t sid, int64_t id)
{
	int64_t *ids;
	char **sigs, *out = NULL;
	size_t n, i;

	assert_int_equal(store_sign_list(st, sid, &ids, &sigs, &n), 0);
	for (i = 0; i < n; i++) {
		if (ids[i] == id && out == NULL)
			out = sigs[i];
		else
			free(sigs[i]);
	}
	free(ids);
	free(sigs);
	return out;
}

/* Walk session sid's path in pages of limit rows and assert, page by page from the end,
 * that they put together are store_messages's rows; returns how many pages it took. */
static size_t
assert_pages(struct store *st, int64_t sid, size_t limit)
{
	struct message_row *all, *page;
	size_t nall, npage, i, left, pages = 0;
	int64_t from = 0, above;
	char *sig;

	assert_int_equal(store_messages(st, sid, &all, &nall), 0);
	left = nall;
	do {
		assert_int_equal(store_messages_page(st, sid, from, 0, limit, &page, &npage,
		    &above), 0);
		pages++;
		if (limit > 0)
			assert_true(npage <= limit);
		assert_true(npage <= left);
		for (i = 0; i < npage; i++) {
			assert_same_row(&page[i], &all[left - npage + i]);
			sig = signature_of(st, page[i].session_id, page[i].id);
			assert_same_str(page[i].signature, sig);
			free(sig);
		}
		left -= npage;
		/* Where the next page starts: the row before this one's first. */
		assert_int_equal(above, left > 0 ? all[left - 1].id : 0);
		store_messages_free(page, npage);
		from = above;
	} while (above != 0 && npage > 0);
	assert_int_equal(left, 0);
	store_messages_free(all, nall);
	return pages;
}

/* Assert two loaded messages are the same. */
static void
assert_same_msg(const struct session_msg *a, const struct session_msg *b)
{
	size_t k;

	assert_int_equal(a->id, b->id);
	assert_int_equal(a->role, b->role);
	assert_string_equal(buf_str(&a->content), buf_str(&b->content));
	assert_string_equal(buf_str(&a->reasoning), buf_str(&b->reasoning));
	assert_same_str(a->provider, b->provider);
	assert_same_str(a->model, b->model);
	assert_int_equal(a->created, b->created);
	assert_int_equal(a->state, b->state);
	assert_same_str(a->error, b->error);
	assert_same_str(a->finish_reason, b->finish_reason);
	assert_int_equal(a->input_tokens, b->input_tokens);
	assert_int_equal(a->output_tokens, b->output_tokens);
	assert_true(a->cost == b->cost);
	assert_int_equal(a->ttft_ms, b->ttft_ms);
	assert_int_equal(a->duration_ms, b->duration_ms);
	assert_int_equal(a->compare_group, b->compare_group);
	assert_int_equal(a->slot, b->slot);
	assert_int_equal(a->pick, b->pick);
	assert_int_equal(a->pinned, b->pinned);
	assert_same_str(a->tool_id, b->tool_id);
	assert_same_str(a->tool_name, b->tool_name);
	assert_int_equal(a->tool_error, b->tool_error);
	assert_int_equal(a->nalt, b->nalt);
	assert_int_equal(a->alt, b->alt);
	assert_int_equal(a->shared, b->shared);
	assert_same_str(a->signature, b->signature);
	assert_int_equal(a->natts, b->natts);
	for (k = 0; k < a->natts; k++)
		assert_string_equal(a->atts[k]->name, b->atts[k]->name);
}

/* What the prepended callback saw. */
struct seen {
	size_t calls, total;
};

/* Count the messages loaded in front. */
static void
on_prepend(void *arg, size_t k)
{
	struct seen *w = arg;

	w->calls++;
	w->total += k;
}

/* Assert the first k messages of s are a page of at least n, reaching back no further
 * than the prompt nearest to its n-th message from the end. */
static void
assert_minimal(const struct session *s, size_t k, size_t n)
{
	size_t i;

	if (n == 0 || k <= n)
		return;
	assert_int_equal(s->msgs[0].role, ROLE_USER);
	for (i = 1; i <= k - n; i++)
		assert_int_not_equal(s->msgs[i].role, ROLE_USER);
}

/* Open session sid with the last n messages, load the rest page by page of m, and assert
 * it is the session loaded whole, and that the count of what is not loaded was right at
 * every step. */
static void
assert_session_pages(struct store *st, int64_t sid, size_t n, size_t m)
{
	struct session *whole = session_load(st, sid), *s = session_open(st, sid, n);
	struct seen w = { 0, 0 };
	size_t i, base, loaded;
	long k, tokens;
	double cost;
	int rc, pass, again;

	assert_non_null(whole);
	assert_non_null(s);
	assert_false(session_partial(whole));
	assert_true(s->nmsgs >= (n < whole->nmsgs ? n : whole->nmsgs));
	s->prepended = on_prepend;
	s->prepended_arg = &w;
	loaded = s->nmsgs;
	assert_minimal(s, s->nmsgs, n);
	for (pass = 0; ; pass++) {
		/* An exchange is never split: the first loaded message is a prompt. */
		assert_true(!session_partial(s) || s->msgs[0].role == ROLE_USER);
		base = whole->nmsgs - s->nmsgs;
		for (i = 0; i < s->nmsgs; i++)
			assert_same_msg(&s->msgs[i], &whole->msgs[base + i]);
		for (tokens = 0, cost = 0, i = 0; i < base; i++) {
			const struct session_msg *p = &whole->msgs[i];

			tokens += (p->input_tokens > 0 ? p->input_tokens : 0) +
			    (p->output_tokens > 0 ? p->output_tokens : 0);
			cost += p->cost >= 0 ? p->cost : 0;
		}
		/* Counted a few rows at a time, the rest is what the whole path has before:
		 * a count begun before the last page came in, then one begun after it. */
		for (again = 0; again < 2; again++) {
			if (again || pass == 0)
				memset(&s->count, 0, sizeof(s->count));
			while ((rc = session_count_step(s, 3)) == 0)
				;
			assert_int_equal(rc, 1);
			assert_int_equal(s->count.sums.count, (long)base);
			assert_int_equal(session_position(s, 0), base);
			assert_int_equal(s->count.sums.tokens, tokens);
			assert_true(s->count.sums.cost > cost - 1e-9 &&
			    s->count.sums.cost < cost + 1e-9);
		}
		if (!session_partial(s))
			break;
		memset(&s->count, 0, sizeof(s->count));
		session_count_step(s, 2);
		k = session_load_older(s, m);
		assert_true(k >= (long)m || !session_partial(s));
		assert_true(k > 0);
		assert_minimal(s, (size_t)k, m);
	}
	assert_int_equal(s->nmsgs, whole->nmsgs);
	assert_int_equal(w.total, whole->nmsgs - loaded);
	session_free(s);
	session_free(whole);
}

/* Pages of every size put together are the unpaged path; opened in part and loaded page
 * by page, the session is the one loaded whole. */
static void
test_pages_equal_unpaged(void **state)
{
	struct fixture *f = *state;
	int64_t sid = make_long(f->st, 60), fid;
	static const size_t limits[] = { 1, 2, 3, 7, 50, 0 };
	struct session *s;
	size_t i, pages;

	for (i = 0; i < sizeof(limits) / sizeof(limits[0]); i++) {
		pages = assert_pages(f->st, sid, limits[i]);
		if (limits[i] == 1)
			assert_true(pages > 100);
	}
	assert_session_pages(f->st, sid, 1, 1);
	assert_session_pages(f->st, sid, 5, 9);
	assert_session_pages(f->st, sid, 40, 0);
	/* A fork from the middle: its pages walk into the other session's rows. */
	s = session_load(f->st, sid);
	fid = session_fork(s, 61);
	assert_true(fid > 0);
	session_free(s);
	s = session_load(f->st, fid);
	exchange(s, 1);
	session_branch(s, s->nmsgs - 1);
	reply(s, "fork regenerated", NULL);
	exchange(s, 2);
	session_free(s);
	for (i = 0; i < sizeof(limits) / sizeof(limits[0]); i++)
		assert_pages(f->st, fid, limits[i]);
	assert_session_pages(f->st, fid, 2, 3);
	s = session_open(f->st, fid, 2);
	assert_false(s->msgs[0].shared);
	assert_int_equal(session_load_older(s, 0), (long)(62 + 4 - s->nmsgs));
	assert_true(s->msgs[0].shared);
	session_free(s);
}

/* More rows than a short page holds, so they are numbered in bulk from the parent index;
 * and the same with rows from before the tree in the session, where that cannot be. */
static void
test_long_page_bulk(void **state)
{
	struct fixture *f = *state;
	int64_t sid = make_long(f->st, 300);
	struct message_row *all;
	size_t nall;
	sqlite3 *db = store_handle(f->st);

	assert_int_equal(store_messages(f->st, sid, &all, &nall), 0);
	assert_true(nall > 600);
	store_messages_free(all, nall);
	assert_pages(f->st, sid, 0);
	assert_pages(f->st, sid, 599);
	assert_session_pages(f->st, sid, 3, 700);
	/* Rows written before the tree say nothing of their parent: the row before them by
	 * seq is. Make the first ones such rows, in the session and a regeneration on one. */
	assert_int_equal(sqlite3_exec(db, "UPDATE messages SET parent_id = NULL WHERE id IN"
	    " (SELECT id FROM messages WHERE session_id = 1 ORDER BY seq LIMIT 5)", NULL, NULL,
	    NULL), SQLITE_OK);
	assert_pages(f->st, sid, 0);
	assert_pages(f->st, sid, 2);
	assert_session_pages(f->st, sid, 3, 700);
}

/* A database from before the tree: every row without a parent, a reply regenerated on it
 * since; pages walk the order they imply. */
static void
test_old_rows(void **state)
{
	struct fixture *f = *state;
	struct session *s;
	sqlite3 *db = store_handle(f->st);
	int k;

	assert_int_equal(sqlite3_exec(db, "INSERT INTO sessions (id, title, created, updated)"
	    " VALUES (1, 'old', 1, 1)", NULL, NULL, NULL), SQLITE_OK);
	for (k = 1; k <= 40; k++) {
		char *sql = xasprintf("INSERT INTO messages (session_id, seq, role, created_ms,"
		    " content, input_tokens, cost) VALUES (1, %d, '%s', %d, 'm%d', 5, 0.5)", k,
		    k % 2 ? "user" : "assistant", k, k);

		assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
		free(sql);
	}
	s = session_load(f->st, 1);
	assert_int_equal(s->nmsgs, 40);
	session_branch(s, 39);
	reply(s, "new last", NULL);
	session_free(s);
	assert_pages(f->st, 1, 1);
	assert_pages(f->st, 1, 4);
	assert_pages(f->st, 1, 0);
	assert_session_pages(f->st, 1, 1, 1);
	assert_session_pages(f->st, 1, 6, 5);
	/* Back on the old rows, regenerated in the middle and back again: old rows with an
	 * alternative are on the path, at every place in a page. */
	s = session_load(f->st, 1);
	assert_int_equal(session_switch(s, 39, -1), 0);
	session_branch(s, 19);
	reply(s, "new 20", NULL);
	assert_int_equal(session_switch(s, 19, -1), 0);
	assert_int_equal(s->nmsgs, 40);
	assert_int_equal(s->msgs[19].nalt, 2);
	assert_int_equal(s->msgs[39].nalt, 2);
	session_free(s);
	for (k = 1; k <= 5; k++)
		assert_pages(f->st, 1, (size_t)k);
	assert_session_pages(f->st, 1, 1, 2);
	assert_session_pages(f->st, 1, 2, 3);
}

/* In a session opened in part, switching an alternative (of the first loaded message too),
 * editing the first loaded prompt and appending keep the path as a whole load sees it. */
static void
test_partial_edits(void **state)
{
	struct fixture *f = *state;
	int64_t sid = make_long(f->st, 30);
	struct session *s, *w;
	size_t i, first;
	int64_t above;
	int nalt;

	/* Open at the 3rd exchange from the end (k = 27: no alternative) and switch an
	 * alternative in view (k = 24, a regenerated reply). */
	s = session_open(f->st, sid, 7);
	w = session_load(f->st, sid);
	first = w->nmsgs - s->nmsgs;
	for (i = 0; i < s->nmsgs && s->msgs[i].nalt < 2; i++)
		;
	assert_true(i < s->nmsgs);
	assert_int_equal(session_switch(s, i, -1), 0);
	assert_int_equal(session_switch(w, first + i, -1), 0);
	assert_int_equal(s->nmsgs + first, w->nmsgs);
	for (i = 0; i < s->nmsgs; i++)
		assert_same_msg(&s->msgs[i], &w->msgs[first + i]);
	session_free(w);
	session_free(s);

	/* Editing the first loaded prompt: the new one follows what is above it. */
	s = session_open(f->st, sid, 2);
	above = s->above_id;
	assert_true(above > 0);
	assert_int_equal(s->msgs[0].role, ROLE_USER);
	nalt = s->msgs[0].nalt;
	session_branch(s, 0);
	assert_int_equal(s->nmsgs, 0);
	session_append_user(s, "edited first loaded");
	reply(s, "its reply", NULL);
	assert_int_equal(s->msgs[0].nalt, nalt + 1);
	assert_int_equal(s->msgs[0].alt, nalt + 1);
	/* Its old self is the alternative before, whose line comes back whole. */
	assert_int_equal(session_switch(s, 0, -1), 0);
	assert_int_equal(s->above_id, above);
	assert_int_equal(s->msgs[0].alt, nalt);
	/* Stored so: a whole load has the same path under the same messages above. */
	w = session_load(f->st, sid);
	first = w->nmsgs - s->nmsgs;
	for (i = 0; i < s->nmsgs; i++)
		assert_same_msg(&s->msgs[i], &w->msgs[first + i]);
	assert_int_equal(w->msgs[first - 1].id, above);
	while (w->msgs[first].alt < w->msgs[first].nalt)
		assert_int_equal(session_switch(w, first, 1), 0);
	assert_int_equal(w->nmsgs, first + 2);
	assert_string_equal(buf_str(&w->msgs[first].content), "edited first loaded");
	assert_string_equal(buf_str(&w->msgs[first + 1].content), "its reply");
	session_free(w);
	session_free(s);
}

/* Loading in front moves the session's own indices (an open reply, the first message
 * sent) and tells the front end by how much. */
static void
test_prepend_moves_indices(void **state)
{
	struct fixture *f = *state;
	int64_t sid = make_long(f->st, 12);
	struct session *s = session_open(f->st, sid, 2);
	struct seen w = { 0, 0 };
	size_t n = s->nmsgs, r;
	long k;

	s->prepended = on_prepend;
	s->prepended_arg = &w;
	session_append_user(s, "new");
	r = session_begin_reply(s, "anthropic", "m");
	s->view_from = (long)r - 1;
	k = session_load_older(s, 4);
	assert_true(k >= 4);
	assert_int_equal(w.calls, 1);
	assert_int_equal(w.total, (size_t)k);
	assert_int_equal(s->reply, (long)r + k);
	assert_int_equal(s->open[0], (long)r + k);
	assert_int_equal(s->view_from, (long)r - 1 + k);
	assert_true(session_is_open(s, (size_t)s->reply));
	session_reply_text(s, "streamed", 8);
	session_reply_end(s, MSG_COMPLETE, NULL, -1, NULL, NULL);
	assert_string_equal(buf_str(&s->msgs[n + 1 + (size_t)k].content), "streamed");
	session_free(s);
	s = session_load(f->st, sid);
	assert_string_equal(buf_str(&s->msgs[s->nmsgs - 1].content), "streamed");
	assert_string_equal(buf_str(&s->msgs[s->nmsgs - 2].content), "new");
	session_free(s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_pages_equal_unpaged, setup, teardown),
		cmocka_unit_test_setup_teardown(test_long_page_bulk, setup, teardown),
		cmocka_unit_test_setup_teardown(test_old_rows, setup, teardown),
		cmocka_unit_test_setup_teardown(test_partial_edits, setup, teardown),
		cmocka_unit_test_setup_teardown(test_prepend_moves_indices, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
