/*
 * libFuzzer target for natter serve's request bodies (serve-api.h): the first byte picks
 * the API (OpenAI's chat request or the conversation API's), the rest is the body. Parsing
 * never crashes; a body that parses has a user prompt last and only user and assistant
 * messages, every string is valid UTF-8, and it fails exactly when a problem was named.
 * Whatever parsed is then checked against a model with the OpenAI protocol's limits, and
 * every stored string is encoded by the stream encoders (serve-sse.h) and must parse back
 * to itself.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "buf.h"
#include "config.h"
#include "params.h"
#include "serve-api.h"
#include "serve-sse.h"
#include "text.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Abort unless s is valid UTF-8. */
static void
fuzz_utf8(const char *s)
{
	size_t n = s != NULL ? strlen(s) : 0, i = 0;
	unsigned cp;

	while (i < n) {
		i += text_utf8_step((const unsigned char *)s + i, n - i, &cp);
		if (cp == TEXT_BAD)
			abort();
	}
}

/* Abort unless s encodes as a JSON string that parses back to s. */
static void
fuzz_roundtrip(const char *s)
{
	struct buf b = BUF_INIT;
	cJSON *v;

	serve_json_text(&b, NULL, s, strlen(s));
	v = cJSON_Parse(buf_str(&b));
	if (!cJSON_IsString(v) || strcmp(v->valuestring, s) != 0)
		abort();
	cJSON_Delete(v);
	buf_free(&b);
}

/* Parse, check and encode one body. */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct serve_problems pr = { NULL, 0 };
	struct serve_chat c;
	struct model m;
	struct buf b = BUF_INIT;
	struct serve_utf8 u = { { 0 }, 0 };
	enum serve_api api;
	size_t i;
	int rc;

	if (size == 0)
		return 0;
	api = data[0] & 1 ? SERVE_API_S2 : SERVE_API_OPENAI;
	rc = serve_api_parse(api, (const char *)data + 1, size - 1, &c, &pr);
	if ((rc != 0) != (pr.n > 0))
		abort();
	for (i = 0; i < pr.n; i++)
		if (pr.v[i].msg == NULL)
			abort();
	if (rc == 0) {
		if (c.nmsgs == 0 || c.msgs[c.nmsgs - 1].role != ROLE_USER)
			abort();
		if (api == SERVE_API_OPENAI && c.model == NULL)
			abort();
	}
	for (i = 0; i < c.nmsgs; i++) {
		if (c.msgs[i].role != ROLE_USER && c.msgs[i].role != ROLE_ASSISTANT)
			abort();
		fuzz_utf8(c.msgs[i].content);
		fuzz_roundtrip(c.msgs[i].content);
		serve_s2_content(&b, &u, c.msgs[i].content, strlen(c.msgs[i].content));
	}
	fuzz_utf8(c.system);
	memset(&m, 0, sizeof m);
	m.name = "m";
	m.id = "m";
	params_default_limits("openai", m.limits);
	serve_api_check(&c, NULL, &m, &pr);
	serve_s2_detail(&b, &pr);
	serve_chat_free(&c);
	serve_problems_free(&pr);
	buf_free(&b);
	return 0;
}
