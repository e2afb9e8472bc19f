/*
 * libFuzzer target for natter import's parser (import.c). Whatever the bytes, import_parse
 * either refuses them with a message or returns a document; a document must then store in
 * an in-memory database (store_session_import), export (export_json) into a file that
 * import_parse accepts again, and that second document must hold exactly the first: the
 * round trip `natter import` promises, checked on every input the parser lets through.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "export.h"
#include "import.h"
#include "json.h"
#include "store.h"
#include "xmalloc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Whether two strings, either of which may be NULL, are equal. */
static int
fuzz_same(const char *a, const char *b)
{
	return (a == NULL && b == NULL) || (a != NULL && b != NULL && strcmp(a, b) == 0);
}

/* Abort unless message b is message a as a round trip keeps it (ids and group ids new). */
static void
fuzz_check_message(const struct message_row *a, const struct message_row *b)
{
	if (a->role != b->role || !fuzz_same(a->content, b->content) ||
	    !fuzz_same(a->reasoning, b->reasoning) || !fuzz_same(a->provider, b->provider) ||
	    !fuzz_same(a->model, b->model) || a->created != b->created || a->state != b->state ||
	    !fuzz_same(a->error, b->error) || !fuzz_same(a->finish_reason, b->finish_reason) ||
	    a->input_tokens != b->input_tokens || a->output_tokens != b->output_tokens ||
	    a->cost != b->cost || a->ttft_ms != b->ttft_ms || a->duration_ms != b->duration_ms ||
	    (a->compare_group == 0) != (b->compare_group == 0) ||
	    a->compare_pick != b->compare_pick || a->pinned != b->pinned)
		abort();
}

/* Abort unless document b holds what document a holds. */
static void
fuzz_check(const struct import_doc *a, const struct import_doc *b)
{
	size_t i;

	if (!fuzz_same(a->session.title, b->session.title) ||
	    !fuzz_same(a->session.provider, b->session.provider) ||
	    !fuzz_same(a->session.model, b->session.model) ||
	    !fuzz_same(a->session.system, b->session.system) ||
	    !fuzz_same(a->session.summary, b->session.summary) ||
	    a->session.summary_covers != b->session.summary_covers ||
	    a->session.created != b->session.created || a->session.updated != b->session.updated ||
	    a->session.input_tokens != b->session.input_tokens ||
	    a->session.output_tokens != b->session.output_tokens ||
	    a->session.cost != b->session.cost || a->nmsgs != b->nmsgs)
		abort();
	for (i = 0; i < a->nmsgs; i++)
		fuzz_check_message(&a->msgs[i], &b->msgs[i]);
}

/* Parse one input; round-trip it through a store when it is accepted. */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct store *st;
	struct import_doc doc, again;
	char *text = xmalloc(size + 1), *err = NULL, *out;
	int64_t id;

	if (st == NULL) {
		json_init();
		st = store_open(":memory:", &err);
		if (st == NULL)
			abort();
	}
	memcpy(text, data, size);
	text[size] = '\0';
	if (import_parse(text, size, &doc, &err) != 0) {
		if (err == NULL || *err == '\0')
			abort();
		free(err);
		free(text);
		return 0;
	}
	id = store_session_import(st, &doc.session, doc.msgs, doc.nmsgs);
	if (id <= 0)
		abort();
	out = export_session(st, id, EXPORT_JSON);
	if (out == NULL || import_parse(out, strlen(out), &again, &err) != 0)
		abort();
	fuzz_check(&doc, &again);
	store_session_delete(st, id);
	import_free(&again);
	import_free(&doc);
	free(out);
	free(text);
	return 0;
}
