/*
 * The fixture the store's unit tests share (included by test_store.c, test_tree.c,
 * test_page.c and test_rounds.c after cmocka.h, store.h and xmalloc.h): a fresh store in
 * a temporary directory for each test (setup) and its removal after it (teardown). A file
 * may define FIXTURE_DB first: the database's path under the directory ("natter.db"; the
 * store's own tests put it two levels down, so store_open makes the directories).
 */
#ifndef NATTER_TEST_STORE_FIXTURE_H
#define NATTER_TEST_STORE_FIXTURE_H

#ifndef FIXTURE_DB
#define FIXTURE_DB "natter.db"
#endif

struct fixture {
	char dir[64];
	char *path;
	struct store *st;
};

/* Open a store in a fresh temporary directory. */
static int
setup(void **state)
{
	struct fixture *f = xcalloc(1, sizeof(*f));
	char *err = NULL;

	snprintf(f->dir, sizeof(f->dir), "/tmp/natter-unit.XXXXXX");
	if (mkdtemp(f->dir) == NULL)
		return -1;
	f->path = xasprintf("%s/" FIXTURE_DB, f->dir);
	f->st = store_open(f->path, &err);
	if (f->st == NULL) {
		fprintf(stderr, "store_open: %s\n", err);
		free(err);
		return -1;
	}
	*state = f;
	return 0;
}

/* Close the store and remove its directory. */
static int
teardown(void **state)
{
	struct fixture *f = *state;
	char *cmd = xasprintf("rm -rf '%s'", f->dir);
	int rc = 0;

	store_close(f->st);
	if (system(cmd) != 0) {
		fprintf(stderr, "cleanup failed: %s\n", cmd);
		rc = -1;
	}
	free(cmd);
	free(f->path);
	free(f);
	return rc;
}

#endif
