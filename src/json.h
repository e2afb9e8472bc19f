/*
 * A per-thread bump arena for cJSON. Decoding a 20,000-token stream parses 20,000 small JSON
 * documents; with malloc that is ~15 allocations and frees per document and about a quarter
 * of natter's CPU. Between json_arena_begin and json_arena_end every cJSON allocation on that
 * thread comes from one reused block and cJSON_Delete of it costs nothing; json_arena_end
 * releases it all at once. Nothing allocated by cJSON inside the window may outlive it.
 * json_init installs the hooks once at start-up, before any thread; without it the arena
 * functions do nothing and cJSON uses malloc as usual.
 */
#ifndef NATTER_JSON_H
#define NATTER_JSON_H

void json_init(void);
void json_arena_begin(void);
void json_arena_end(void);
/* Free the calling thread's arena block (call before a thread exits). */
void json_arena_release(void);

#endif
