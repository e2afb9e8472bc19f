/*
 * The cJSON arena (see json.h). Allocations that do not fit the block fall back to malloc,
 * and the free hook tells the two apart by address, so a large document still works. Under
 * AddressSanitizer the released part of the block is poisoned, so a cJSON pointer used after
 * json_arena_end is reported like any use-after-free.
 */
#include <stdint.h>
#include <stdlib.h>

#include <cJSON.h>

#include "json.h"
#include "xmalloc.h"

#if defined(__SANITIZE_ADDRESS__)
#define JSON_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define JSON_ASAN 1
#endif
#endif

#ifdef JSON_ASAN
#include <sanitizer/asan_interface.h>
#define JSON_POISON(p, n) ASAN_POISON_MEMORY_REGION((p), (n))
#define JSON_UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION((p), (n))
#else
#define JSON_POISON(p, n) ((void)(p), (void)(n))
#define JSON_UNPOISON(p, n) ((void)(p), (void)(n))
#endif

#define JSON_BLOCK (256 * 1024)

struct json_arena {
	char *base;
	size_t used;
	int depth;
};

static _Thread_local struct json_arena arena;
static int json_hooked;

/* cJSON's allocator: from the arena inside a window, else malloc. */
static void *
json_malloc(size_t n)
{
	size_t need = (n + 15) & ~(size_t)15;

	if (arena.depth > 0 && arena.base != NULL && need <= JSON_BLOCK - arena.used) {
		void *p = arena.base + arena.used;

		arena.used += need;
		JSON_UNPOISON(p, n);
		return p;
	}
	return malloc(n);
}

/* cJSON's free: arena memory is released by json_arena_end, the rest by free. */
static void
json_free(void *p)
{
	if (arena.base != NULL && (char *)p >= arena.base && (char *)p < arena.base + JSON_BLOCK)
		return;
	free(p);
}

/* Install the hooks; call once from main before threads start. */
void
json_init(void)
{
	cJSON_Hooks hooks = { json_malloc, json_free };

	cJSON_InitHooks(&hooks);
	json_hooked = 1;
}

/* Open an allocation window on this thread (windows nest). */
void
json_arena_begin(void)
{
	if (!json_hooked)
		return;
	if (arena.base == NULL) {
		arena.base = xmalloc(JSON_BLOCK);
		JSON_POISON(arena.base, JSON_BLOCK);
	}
	arena.depth++;
}

/* Close the window; the outermost close releases everything allocated in it. */
void
json_arena_end(void)
{
	if (!json_hooked || arena.depth == 0)
		return;
	if (--arena.depth == 0) {
		JSON_POISON(arena.base, arena.used);
		arena.used = 0;
	}
}

/* Give the block back; the thread may open a new window later. */
void
json_arena_release(void)
{
	if (arena.base == NULL || arena.depth > 0)
		return;
	JSON_UNPOISON(arena.base, JSON_BLOCK);
	free(arena.base);
	arena.base = NULL;
	arena.used = 0;
}
