/*
 * Memory cost of finishing a long reply, for the bounded FTS5 indexing in store.c: streams
 * a reply of N distinct words into a fresh database, then finishes it (which indexes it)
 * and prints the process's peak RSS (VmHWM) and SQLite's memory high-water mark around
 * that one call. Prints figures; never fails on them.
 *   bench_index DB [WORDS]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "buf.h"
#include "store.h"

/* The process's peak resident set in KiB, from /proc/self/status; -1 when unknown. */
static long
bench_hwm_kib(void)
{
	char line[256];
	long kib = -1;
	FILE *f = fopen("/proc/self/status", "r");

	if (f == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL)
		if (strncmp(line, "VmHWM:", 6) == 0)
			kib = strtol(line + 6, NULL, 10);
	fclose(f);
	return kib;
}

/* Stream then finish one reply and report the peaks. */
int
main(int argc, char **argv)
{
	struct buf text = BUF_INIT;
	struct message_row m;
	sqlite3_int64 base, cur, hi;
	struct store *st;
	long words, i, before, after;
	char *err = NULL;

	if (argc < 2) {
		fputs("usage: bench_index DB [WORDS]\n", stderr);
		return 2;
	}
	words = argc > 2 ? strtol(argv[2], NULL, 10) : 20000;
	st = store_open(argv[1], &err);
	if (st == NULL) {
		fprintf(stderr, "bench_index: %s\n", err);
		return 1;
	}
	for (i = 0; i < words; i++)
		buf_printf(&text, "w%ldq ", i);
	memset(&m, 0, sizeof(m));
	m.session_id = store_session_new(st, "bench", NULL, NULL);
	m.role = ROLE_ASSISTANT;
	m.state = MSG_STREAMING;
	m.content = (char *)"";
	m.input_tokens = m.output_tokens = m.ttft_ms = m.duration_ms = -1;
	m.cost = -1;
	store_message_add(st, &m);
	m.content = text.data;
	store_message_update(st, &m);
	before = bench_hwm_kib();
	sqlite3_status64(SQLITE_STATUS_MEMORY_USED, &base, &hi, 1);
	m.state = MSG_COMPLETE;
	if (store_message_update(st, &m) != 0)
		fprintf(stderr, "bench_index: %s\n", store_error(st));
	sqlite3_status64(SQLITE_STATUS_MEMORY_USED, &cur, &hi, 0);
	after = bench_hwm_kib();
	printf("finish a reply of %ld distinct words (%zu bytes): SQLite peak +%lld KiB,"
	    " VmHWM %ld -> %ld KiB (+%ld)\n", words, text.len, (long long)(hi - base) / 1024,
	    before, after, after - before);
	buf_free(&text);
	store_close(st);
	return 0;
}
