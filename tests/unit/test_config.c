/*
 * Config tests. Schema-driven: for every schema entry a document is generated that puts a
 * bad value at its path, and the loader must reject it naming the path; in-range values
 * must pass. Then the corpus in tests/unit/configs (each invalid-*.yaml has the exact
 * expected messages in invalid-*.expected), then merging, keys, show and lookups.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "buf.h"
#include "config.h"
#include "keypool.h"
#include "keys.h"
#include "params.h"
#include "provider.h"
#include "xmalloc.h"

static char tmpdir[] = "/tmp/natter-test-config.XXXXXX";

/* Write text to a file in the temp directory and return its path (static). */
static const char *
write_file(const char *name, const char *text, int mode)
{
	static char path[512];
	FILE *f;

	snprintf(path, sizeof path, "%s/%s", tmpdir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	chmod(path, (mode_t)mode);
	return path;
}

/* Load text as a user config over nothing (flags add to NO_DEFAULTS). */
static struct config *
load_text(const char *text, unsigned flags, struct config_errors *errs)
{
	const char *p = write_file("t.yaml", text, 0600);

	return config_load(p, flags | CONFIG_NO_KEYCMD, errs);
}

/* True when some error mentions both needles. */
static int
has_error(const struct config_errors *e, const char *a, const char *b)
{
	size_t i;

	for (i = 0; i < e->n; i++)
		if (strstr(e->v[i], a) != NULL && (b == NULL || strstr(e->v[i], b) != NULL))
			return 1;
	return 0;
}

/* A YAML document with value at the schema path (prefix, then path inside a parameter
 * block when sub is set). '*' becomes a name, '[]' a one-item list; sections that need
 * a required key get one so only the value under test is wrong. */
static char *
doc_for(const char *path, const char *value, char **real)
{
	struct buf b = BUF_INIT, r = BUF_INIT;
	char *copy = xstrdup(path), *tok, *save = NULL;
	int depth = 0, i;
	char *next;

	for (tok = strtok_r(copy, ".", &save); tok != NULL; tok = next) {
		int list = 0;
		size_t n = strlen(tok);

		next = strtok_r(NULL, ".", &save);
		if (n > 2 && strcmp(tok + n - 2, "[]") == 0) {
			tok[n - 2] = '\0';
			list = 1;
		}
		for (i = 0; i < depth; i++)
			buf_puts(&b, "  ");
		if (strcmp(tok, "*") == 0) {
			buf_puts(&b, "x:");
			buf_puts(&r, ".x");
		} else {
			buf_printf(&b, "%s:", tok);
			buf_printf(&r, "%s%s", r.len > 0 ? "." : "", tok);
		}
		if (next == NULL) {
			buf_printf(&b, " %s\n", value);
			break;
		}
		buf_putc(&b, '\n');
		depth++;
		if (list) {
			for (i = 0; i < depth; i++)
				buf_puts(&b, "  ");
			buf_puts(&b, "- _first: 1\n");
			buf_puts(&r, "[0]");
			depth++;
		}
	}
	free(copy);
	*real = buf_detach(&r);
	return buf_detach(&b);
}

/* Bad values for a type: each must be rejected. */
static const char *const *
bad_values(const struct config_schema *e)
{
	static const char *const ints[] = { "1.5", "abc", "[1]", NULL };
	static const char *const nums[] = { "abc", "{a: 1}", NULL };
	static const char *const bools[] = { "maybe", "[true]", NULL };
	static const char *const enums[] = { "zzzzzzzz", "[a]", NULL };
	static const char *const strs[] = { "[a, b]", "{a: b}", NULL };
	static const char *const lists[] = { "{a: b}", NULL };
	static const char *const maps[] = { "[a]", "word", NULL };
	static const char *const ranges[] = { "[2, 1]", "abc", "[1, 2, 3]", NULL };
	static const char *const none[] = { NULL };

	switch (e->type) {
	case CONFIG_INT: return ints;
	case CONFIG_FLOAT: return nums;
	case CONFIG_BOOL: return bools;
	case CONFIG_ENUM: return enums;
	case CONFIG_STRING: return strs;
	case CONFIG_STRINGS: return lists;
	case CONFIG_LIST: return maps + 1;
	case CONFIG_MAP:
	case CONFIG_SECTION:
	case CONFIG_STRMAP:
	case CONFIG_PARAMS:
	case CONFIG_RANGES: return maps;
	case CONFIG_RANGE: return ranges;
	}
	return none;
}

/* Check one schema entry at path: bad values are refused naming the path, out-of-range
 * numbers too, and a value inside the limits is accepted. */
static void
check_entry(const struct config_schema *e, const char *path)
{
	const char *const *bad = bad_values(e);
	struct config_errors errs = { NULL, 0 };
	struct config *c;
	char *doc, *real, *v;
	size_t i, j;

	for (i = 0; bad[i] != NULL; i++) {
		doc = doc_for(path, bad[i], &real);
		c = load_text(doc, CONFIG_NO_DEFAULTS, &errs);
		if (!has_error(&errs, real, NULL))
			fail_msg("%s = %s was accepted:\n%s", path, bad[i], doc);
		/* One mistake, one message: what the bad value leaves missing (a required key,
		 * a name) is not reported again. doc_for's own '_first' keys are mistakes too. */
		for (j = 0; j < errs.n; j++)
			if (strstr(errs.v[j], real) == NULL && strstr(errs.v[j], "'_first'") == NULL)
				fail_msg("%s = %s: follow-on error: %s", path, bad[i], errs.v[j]);
		config_free(c);
		config_errors_free(&errs);
		free(doc);
		free(real);
	}
	if ((e->type == CONFIG_INT || e->type == CONFIG_FLOAT) && e->min <= e->max &&
	    e->min > -1e14) {
		v = xasprintf("%.17g", e->min - 1);
		doc = doc_for(path, v, &real);
		c = load_text(doc, CONFIG_NO_DEFAULTS, &errs);
		if (!has_error(&errs, real, "expected"))
			fail_msg("%s below its minimum was accepted", path);
		config_free(c);
		config_errors_free(&errs);
		free(doc);
		free(real);
		free(v);
		if (e->max < 1e14) {
			v = xasprintf("%.17g", e->max + 1);
			doc = doc_for(path, v, &real);
			c = load_text(doc, CONFIG_NO_DEFAULTS, &errs);
			if (!has_error(&errs, real, "expected"))
				fail_msg("%s above its maximum was accepted", path);
			config_free(c);
			config_errors_free(&errs);
			free(doc);
			free(real);
			free(v);
		}
		v = xasprintf("%.17g", e->min > -1e9 ? e->min : 0);
		doc = doc_for(path, v, &real);
		c = load_text(doc, CONFIG_NO_DEFAULTS, &errs);
		if (has_error(&errs, real, "expected"))
			fail_msg("%s = its minimum was refused: %s", path, errs.v[0]);
		config_free(c);
		config_errors_free(&errs);
		free(doc);
		free(real);
		free(v);
	}
}

/* Every schema entry rejects values of the wrong type or range, naming the path. */
static void
test_schema_types(void **state)
{
	size_t i;
	char *p;

	(void)state;
	for (i = 0; i < config_schema_count; i++)
		check_entry(&config_schema[i], config_schema[i].path);
	for (i = 0; i < config_schema_params_count; i++) {
		p = xasprintf("defaults.%s", config_schema_params[i].path);
		check_entry(&config_schema_params[i], p);
		free(p);
	}
	for (i = 0; i < config_schema_ranges_count; i++) {
		p = xasprintf("models.*.params.%s", config_schema_ranges[i].path);
		check_entry(&config_schema_ranges[i], p);
		free(p);
	}
}

/* Every entry has help, a sane path and a default that itself validates. */
static void
test_schema_defaults(void **state)
{
	size_t i;
	struct config_errors errs = { NULL, 0 };
	struct config *c;
	char *doc, *real;

	(void)state;
	for (i = 0; i < config_schema_count; i++) {
		const struct config_schema *e = &config_schema[i];

		assert_true(strlen(e->help) > 5);
		assert_null(strchr(e->path, ' '));
		if (e->def == NULL)
			continue;
		doc = doc_for(e->path, e->def, &real);
		c = load_text(doc, CONFIG_NO_DEFAULTS, &errs);
		if (has_error(&errs, real, "expected"))
			fail_msg("default of %s is invalid: %s", e->path, errs.v[0]);
		config_free(c);
		config_errors_free(&errs);
		free(doc);
		free(real);
	}
}

/* Each corpus file: valid ones load cleanly over the shipped defaults, invalid ones give
 * exactly the lines of their .expected file. */
static void
test_corpus(void **state)
{
	DIR *d = opendir("tests/unit/configs");
	struct dirent *de;
	int nvalid = 0, ninvalid = 0;

	(void)state;
	assert_non_null(d);
	while ((de = readdir(d)) != NULL) {
		struct config_errors errs = { NULL, 0 };
		struct config *c;
		char *path, *exp_path, *expected = NULL;
		struct buf got = BUF_INIT;
		size_t len = strlen(de->d_name), i;
		FILE *f;

		if (len < 6 || strcmp(de->d_name + len - 5, ".yaml") != 0)
			continue;
		path = xasprintf("tests/unit/configs/%s", de->d_name);
		c = config_load(path, CONFIG_NO_KEYCMD, &errs);
		for (i = 0; i < errs.n; i++)
			buf_printf(&got, "%s\n", errs.v[i]);
		if (strncmp(de->d_name, "valid-", 6) == 0) {
			if (errs.n != 0)
				fail_msg("%s: unexpected errors:\n%s", path, buf_str(&got));
			assert_non_null(c->path);
			nvalid++;
		} else {
			char line[1024];
			struct buf want = BUF_INIT;

			exp_path = xasprintf("tests/unit/configs/%.*s.expected", (int)(len - 5),
			    de->d_name);
			f = fopen(exp_path, "r");
			if (f == NULL)
				fail_msg("%s has no .expected file", path);
			while (fgets(line, sizeof line, f) != NULL)
				buf_puts(&want, line);
			fclose(f);
			expected = buf_detach(&want);
			if (strcmp(buf_str(&got), expected) != 0)
				fail_msg("%s:\nexpected:\n%sgot:\n%s", path, expected, buf_str(&got));
			/* What the errors are in is left out, the rest applies; only a file that
			 * does not parse is not used at all. Either way the shipped defaults do. */
			if (strstr(expected, "invalid YAML") != NULL)
				assert_null(c->path);
			else
				assert_non_null(c->path);
			assert_non_null(config_template(c, "code_review"));
			assert_non_null(config_model(c, "simulated"));
			free(exp_path);
			free(expected);
			ninvalid++;
		}
		config_free(c);
		config_errors_free(&errs);
		buf_free(&got);
		free(path);
	}
	closedir(d);
	assert_true(nvalid >= 3);
	assert_true(ninvalid >= 10);
}

/* Schema errors and cross-reference errors in different sections come out of one load,
 * schema errors first; names whose sections failed validation still count as defined, a
 * section's required key that failed validation is not reported missing, the entries at
 * fault are left out and the sound ones (and their key commands) are used. */
static void
test_both_kinds(void **state)
{
	struct config_errors errs = { NULL, 0 };
	struct config *c;
	char *marker = xasprintf("%s/key-cmd-ran", tmpdir), *providers, *text;
	const char *path;
	const char *const want[] = {
		"both.yaml:2:16: defaults.temperature: expected a number from 0 to 2, got 'hot'",
		"both.yaml:12:9: models.slow: expected a mapping, got a value",
		"both.yaml:14:15: models.quick.provider: expected a string, got a list",
		"both.yaml:11:16: models.fast.fallback: unknown model 'slwo', did you mean 'slow'?",
		"both.yaml:20:14: templates.t.extends: unknown template 'chatt', did you mean "
		    "'chat'?",
	};
	size_t i;

	(void)state;
	providers = xasprintf("providers:\n"
	    "  work:\n"
	    "    protocol: openai\n"
	    "    base_url: http://127.0.0.1:1/v1\n"
	    "    key_cmd: touch %s && echo key-from-cmd-0000\n", marker);
	text = xasprintf("defaults:\n"
	    "  temperature: hot\n"
	    "%s"
	    "models:\n"
	    "  fast:\n"
	    "    provider: work\n"
	    "    fallback: [slwo]\n"
	    "  slow: 12\n"
	    "  quick:\n"
	    "    provider: [work]\n"
	    "  quicker:\n"
	    "    provider: work\n"
	    "    fallback: [quick, slow]\n"
	    "templates:\n"
	    "  t:\n"
	    "    extends: chatt\n"
	    "    model: quick\n", providers);
	path = write_file("both.yaml", text, 0600);
	c = config_load(path, 0, &errs);
	for (i = 0; i < errs.n && i < sizeof want / sizeof want[0]; i++)
		if (strstr(errs.v[i], want[i]) == NULL)
			fail_msg("error %zu: want ...%s\ngot %s", i, want[i], errs.v[i]);
	if (errs.n != sizeof want / sizeof want[0])
		fail_msg("%zu errors, want %zu; last: %s", errs.n, sizeof want / sizeof want[0],
		    errs.n > 0 ? errs.v[errs.n - 1] : "");
	assert_non_null(c->path);
	assert_null(config_template(c, "t"));
	assert_non_null(config_template(c, "code_review"));
	/* work is sound: offered, with its key command's key. */
	assert_int_equal(access(marker, F_OK), 0);
	assert_non_null(config_provider(c, "work"));
	assert_null(config_model(c, "fast"));
	assert_null(config_model(c, "slow"));
	assert_null(config_model(c, "quick"));
	assert_true(config_left_out(c, "fast"));
	assert_non_null(config_model(c, "quicker"));
	config_free(c);
	config_errors_free(&errs);
	free(text);
	free(providers);
	free(marker);
}

/* One error costs only the entry it is in: a failing key_cmd leaves its provider out, a
 * template extending an unknown one is left out (with what extends it), a model defined
 * twice and a binding with a misspelt key are left out, and everything else of the file
 * applies, each error reported as file:line:col. */
static void
test_keep_valid(void **state)
{
	struct config_errors errs = { NULL, 0 };
	struct config *c;
	const char *path;
	const char *const want[] = {
		"keep.yaml:12:3: duplicate key 'm3' (first at line 11)",
		"keep.yaml:21:16: unknown key 'contxt', did you mean 'context'?",
		"keep.yaml:5:14: key_cmd 'exit 1'",
		"keep.yaml:17:21: templates.broken.extends: unknown template 'nosuch'",
		"keep.yaml:18:21: templates.orphan.extends: template 'broken' has errors, so this "
		    "one is left out too",
	};
	size_t i;

	(void)state;
	path = write_file("keep.yaml",
	    "providers:\n"
	    "  work:\n"
	    "    protocol: openai\n"
	    "    base_url: http://127.0.0.1:1/v1\n"
	    "    key_cmd: exit 1\n"
	    "  other:\n"
	    "    protocol: openai\n"
	    "    base_url: http://127.0.0.1:2/v1\n"
	    "    key: sk-other-000000000000\n"
	    "models:\n"
	    "  m3: {provider: other}\n"
	    "  m3: {provider: other, id: x}\n"
	    "  m1: {provider: other, aliases: [one]}\n"
	    "  m2: {provider: work}\n"
	    "templates:\n"
	    "  good: {user: 'hi {x}'}\n"
	    "  broken: {extends: nosuch}\n"
	    "  orphan: {extends: broken}\n"
	    "  child: {extends: good, model: m1}\n"
	    "bindings:\n"
	    "  - {key: C-t, contxt: input, action: send}\n"
	    "  - {key: C-s, context: input, action: send}\n", 0600);
	c = config_load(path, CONFIG_NO_DEFAULTS, &errs);
	for (i = 0; i < errs.n && i < sizeof want / sizeof want[0]; i++)
		if (strstr(errs.v[i], want[i]) == NULL)
			fail_msg("error %zu: want ...%s\ngot %s", i, want[i], errs.v[i]);
	if (errs.n != sizeof want / sizeof want[0])
		fail_msg("%zu errors, want %zu; last: %s", errs.n, sizeof want / sizeof want[0],
		    errs.n > 0 ? errs.v[errs.n - 1] : "");
	assert_non_null(c->path);
	assert_non_null(config_provider(c, "other"));
	assert_null(config_provider(c, "work"));
	for (i = 0; i < c->ndisabled; i++)
		if (strcmp(c->disabled[i].name, "work") == 0)
			assert_string_equal(c->disabled[i].reason, "no key: its key_cmd failed");
	assert_int_equal(c->ndisabled, 1);
	assert_non_null(config_model(c, "one"));
	assert_ptr_equal(config_model(c, "m1")->provider, config_provider(c, "other"));
	/* m2 itself is sound: listed, but its provider is not offered. */
	assert_non_null(config_model(c, "m2"));
	assert_null(config_model(c, "m2")->provider);
	assert_null(config_model(c, "m3"));
	assert_true(config_left_out(c, "m3"));
	assert_non_null(config_template(c, "good"));
	assert_non_null(config_template(c, "child"));
	assert_string_equal(config_template(c, "child")->user, "hi {x}");
	assert_null(config_template(c, "broken"));
	assert_null(config_template(c, "orphan"));
	assert_int_equal(c->nbindings, 1);
	assert_string_equal(c->bindings[0].key, "C-s");
	assert_string_equal(c->default_model, "m1");
	config_free(c);
	config_errors_free(&errs);
}

/* With the key table's checker installed (as natter does), bindings: are checked in the
 * schema pass: a bad one is reported at the part at fault and left out, the rest kept. */
static void
test_bindings_checked(void **state)
{
	struct config_errors errs = { NULL, 0 };
	struct config *c;

	(void)state;
	config_set_binding_check(keys_check);
	c = load_text("bindings:\n"
	    "  - {context: input, key: C-s, action: sendd}\n"
	    "  - {context: input, key: C-t, action: newline}\n"
	    "  - {context: input, key: C-T, action: send}\n", CONFIG_NO_DEFAULTS, &errs);
	assert_int_equal(errs.n, 2);
	assert_non_null(strstr(errs.v[0], "t.yaml:2:40: bindings[0].action: unknown action "
	    "'sendd', did you mean 'send'?"));
	assert_non_null(strstr(errs.v[1], "t.yaml:4:27: bindings[2].key: 'C-T' in input is "
	    "already bound to 'newline' by bindings[1] (line 3)"));
	assert_int_equal(c->nbindings, 1);
	assert_string_equal(c->bindings[0].key, "C-t");
	config_free(c);
	config_errors_free(&errs);
	config_set_binding_check(NULL);
}

/* The shipped file: 16 templates, simulated always offered and the default without keys,
 * every other provider not offered without its key. */
static void
test_shipped(void **state)
{
	struct config_errors errs = { NULL, 0 };
	struct config *c;
	const char *names[] = { "chat", "completion", "qa", "rag_qa", "rag_citation",
		"chain_of_thought", "classification", "summarise", "bullet_summary", "code_gen",
		"code_review", "json_extract", "translate", "persona", "transcript_clean" };
	size_t i;

	(void)state;
	unsetenv("OPENAI_API_KEY");
	unsetenv("ANTHROPIC_API_KEY");
	unsetenv("OLLAMA_HOST");
	/* An empty user file: only the shipped defaults (a named file must exist). */
	setenv("NATTER_CONFIG", "/dev/null", 1);
	c = config_load(NULL, CONFIG_NO_KEYCMD, &errs);
	assert_int_equal(errs.n, 0);
	assert_int_equal(c->ntemplates, 16);
	for (i = 0; i < sizeof names / sizeof names[0]; i++)
		assert_non_null(config_template(c, names[i]));
	assert_non_null(config_provider(c, "simulated"));
	assert_null(config_provider(c, "openai"));
	assert_null(config_provider(c, "ollama"));
	assert_string_equal(c->default_model, "simulated");
	config_free(c);

	setenv("OPENAI_API_KEY", "sk-test-0123456789abcdef", 1);
	setenv("OLLAMA_HOST", "127.0.0.1:11434", 1);
	c = config_load(NULL, CONFIG_NO_KEYCMD, &errs);
	assert_non_null(config_provider(c, "openai"));
	assert_string_equal(config_provider(c, "openai")->key, "sk-test-0123456789abcdef");
	assert_non_null(config_provider(c, "ollama"));
	assert_string_equal(config_provider(c, "ollama")->base_url, "http://127.0.0.1:11434");
	assert_string_equal(c->default_model, "gpt-4o-mini");
	config_free(c);
	unsetenv("OPENAI_API_KEY");
	unsetenv("OLLAMA_HOST");
	unsetenv("NATTER_CONFIG");
}

/* A user file changes one field of a shipped provider and keeps the rest. */
static void
test_merge(void **state)
{
	struct config_errors errs = { NULL, 0 };
	struct config *c;
	struct provider *p;

	(void)state;
	setenv("GROQ_API_KEY", "gsk-test-0123456789abcdef", 1);
	c = load_text("providers:\n  groq:\n    max_retries: 5\n", 0, &errs);
	assert_int_equal(errs.n, 0);
	p = config_provider(c, "groq");
	assert_non_null(p);
	assert_int_equal(p->max_retries, 5);
	assert_string_equal(p->base_url, "https://api.groq.com/openai/v1");
	assert_string_equal(p->protocol, "openai");
	config_free(c);
	unsetenv("GROQ_API_KEY");
}

/* Keys: several sources form a pool, missing env vars are skipped, literal keys in a
 * readable file warn, key_cmd output is used. */
static void
test_keys(void **state)
{
	struct config_errors errs = { NULL, 0 };
	struct config *c;
	struct keypool *kp;
	struct provider *p;
	const char *path;

	(void)state;
	setenv("NT_KEY_A", "key-aaaaaaaaaaaaaaaa", 1);
	unsetenv("NT_KEY_MISSING");
	path = write_file("keys.yaml",
	    "providers:\n"
	    "  pool:\n"
	    "    protocol: openai\n"
	    "    base_url: http://127.0.0.1:1/v1\n"
	    "    rpm: 7\n"
	    "    keys:\n"
	    "      - key_env: NT_KEY_A\n"
	    "      - key_env: NT_KEY_MISSING\n"
	    "      - key: literal-bbbbbbbbbbbb\n"
	    "        rpm: 3\n"
	    "      - key_cmd: echo cmd-cccccccccccccc\n", 0644);
	c = config_load(path, CONFIG_NO_DEFAULTS, &errs);
	assert_int_equal(errs.n, 0);
	p = config_provider(c, "pool");
	assert_non_null(p);
	kp = config_pool(c, p);
	assert_non_null(kp);
	assert_ptr_equal(p->pool, kp);
	assert_int_equal(keypool_count(kp), 3);
	{
		struct keypool_stat st;

		assert_int_equal(keypool_stat(kp, 0, &st), 0);
		assert_int_equal(st.rpm, 7);
		assert_string_equal(st.source, "env NT_KEY_A");
		keypool_stat_free(&st);
		assert_int_equal(keypool_stat(kp, 1, &st), 0);
		assert_int_equal(st.rpm, 3);
		keypool_stat_free(&st);
		assert_int_equal(keypool_stat(kp, 2, &st), 0);
		assert_string_equal(st.source, "key_cmd");
		keypool_stat_free(&st);
	}
	{
		char *s = keypool_secret(kp, 2);

		assert_string_equal(s, "cmd-cccccccccccccc");
		free(s);
	}
	assert_int_equal(c->nwarnings, 1);
	assert_non_null(strstr(c->warnings[0], "keys.yaml:9:14: warning: literal key"));
	config_free(c);

	/* chmod 600: no warning. A provider without any key is not offered, with a reason. */
	path = write_file("keys2.yaml",
	    "providers:\n"
	    "  lit:\n"
	    "    protocol: anthropic\n"
	    "    key: sk-ant-000000000000\n"
	    "  nokey:\n"
	    "    protocol: openai\n", 0600);
	unsetenv("NOKEY_API_KEY");
	c = config_load(path, CONFIG_NO_DEFAULTS, &errs);
	assert_int_equal(errs.n, 0);
	assert_int_equal(c->nwarnings, 0);
	assert_non_null(config_provider(c, "lit"));
	assert_null(config_provider(c, "nokey"));
	assert_int_equal(c->ndisabled, 1);
	assert_string_equal(c->disabled[0].reason, "no key; set NOKEY_API_KEY");
	config_free(c);
	unsetenv("NT_KEY_A");
}

/* key_cmd failures name the exit status, a hanging one is stopped at key_cmd_timeout, and
 * one key in two variables (the shipped gemini reads GEMINI_API_KEY and GOOGLE_API_KEY) is
 * one key of the pool, not two. */
static void
test_key_cmd_and_duplicates(void **state)
{
	struct config_errors errs = { NULL, 0 };
	struct config *c;
	struct keypool *kp;
	struct keypool_stat st;
	const char *path;
	time_t t0;

	(void)state;
	path = write_file("cmd.yaml",
	    "providers:\n"
	    "  fails:\n"
	    "    protocol: openai\n"
	    "    base_url: http://127.0.0.1:1/v1\n"
	    "    key_cmd: exit 1\n"
	    "  hangs:\n"
	    "    protocol: openai\n"
	    "    base_url: http://127.0.0.1:1/v1\n"
	    "    key_cmd_timeout: 0.5\n"
	    "    keys:\n"
	    "      - key_cmd: sleep 5\n"
	    "      - key: sk-literal-000000000000\n", 0600);
	t0 = time(NULL);
	c = config_load(path, CONFIG_NO_DEFAULTS, &errs);
	assert_true(time(NULL) - t0 < 4);
	assert_int_equal(errs.n, 2);
	assert_non_null(strstr(errs.v[0], "cmd.yaml:5:14: key_cmd 'exit 1' exited with status 1"));
	assert_null(strstr(errs.v[0], "256"));
	assert_non_null(strstr(errs.v[1], "cmd.yaml:11:18: key_cmd 'sleep 5' timed out after "
	    "0.5 s and was stopped (key_cmd_timeout)"));
	assert_null(config_provider(c, "fails"));
	kp = config_pool(c, config_provider(c, "hangs"));
	assert_int_equal(keypool_count(kp), 1);
	config_free(c);
	config_errors_free(&errs);

	setenv("GEMINI_API_KEY", "AIza-same-key-0123456789", 1);
	setenv("GOOGLE_API_KEY", "AIza-same-key-0123456789", 1);
	setenv("NATTER_CONFIG", "/dev/null", 1);
	c = config_load(NULL, CONFIG_NO_KEYCMD, &errs);
	assert_int_equal(errs.n, 0);
	kp = config_pool(c, config_provider(c, "gemini"));
	assert_non_null(kp);
	assert_int_equal(keypool_count(kp), 1);
	assert_int_equal(keypool_stat(kp, 0, &st), 0);
	assert_string_equal(st.source, "env GEMINI_API_KEY, env GOOGLE_API_KEY");
	keypool_stat_free(&st);
	config_free(c);
	/* Two different keys still make a pool of two. */
	setenv("GOOGLE_API_KEY", "AIza-other-key-9876543210", 1);
	c = config_load(NULL, CONFIG_NO_KEYCMD, &errs);
	assert_int_equal(keypool_count(config_pool(c, config_provider(c, "gemini"))), 2);
	config_free(c);
	unsetenv("GEMINI_API_KEY");
	unsetenv("GOOGLE_API_KEY");
	unsetenv("NATTER_CONFIG");
}

/* config show masks every key and secret-looking header. */
static void
test_show_masks(void **state)
{
	struct config_errors errs = { NULL, 0 };
	struct config *c;
	char *text;
	size_t len;
	FILE *f;

	(void)state;
	c = load_text("providers:\n"
	    "  lit:\n"
	    "    protocol: openai\n"
	    "    key: sk-secret-123456789-tail\n"
	    "    headers: {Authorization: Bearer sk-hdr-secret-999999, X-Plain: visible}\n"
	    "    keys:\n"
	    "      - key: sk-pool-secret-55555-end\n", 0, &errs);
	assert_int_equal(errs.n, 0);
	f = open_memstream(&text, &len);
	config_show(c, f);
	fclose(f);
	assert_null(strstr(text, "sk-secret-123456789"));
	assert_null(strstr(text, "hdr-secret"));
	assert_null(strstr(text, "pool-secret"));
	assert_non_null(strstr(text, "sk-s\xe2\x80\xa6tail"));
	assert_non_null(strstr(text, "visible"));
	assert_non_null(strstr(text, "max_retries: 2"));
	free(text);
	config_free(c);
}

/* Models: aliases, provider/id for unlisted models, limits and parameter checks. */
static void
test_models(void **state)
{
	struct config_errors errs = { NULL, 0 };
	struct config *c;
	struct model *m;
	struct params p;
	char *err = NULL;

	(void)state;
	setenv("ANTHROPIC_API_KEY", "sk-ant-0123456789abcdef", 1);
	c = load_text("models:\n  haiku-x:\n    provider: anthropic\n    id: claude-x\n"
	    "    aliases: [hx]\n    max_output: 1000\n", 0, &errs);
	assert_int_equal(errs.n, 0);
	m = config_model(c, "hx");
	assert_non_null(m);
	assert_string_equal(m->id, "claude-x");
	assert_non_null(m->provider);
	memset(&p, 0, sizeof p);
	assert_int_equal(params_set(&p, "temperature", "1.5", &err), 0);
	assert_int_equal(params_check(&p, m, &err), -1);
	assert_string_equal(err, "temperature 1.5 is out of range for haiku-x (0 to 1)");
	free(err);
	params_free(&p);
	assert_int_equal(params_set(&p, "seed", "3", &err), 0);
	assert_int_equal(params_check(&p, m, &err), -1);
	assert_string_equal(err, "haiku-x does not accept seed");
	free(err);
	params_free(&p);
	assert_int_equal(params_set(&p, "max_tokens", "2000", &err), 0);
	assert_int_equal(params_check(&p, m, &err), -1);
	assert_string_equal(err, "max_tokens 2000 is more than haiku-x allows (1000)");
	free(err);
	params_free(&p);
	assert_int_equal(params_set(&p, "temprature", "1", &err), -1);
	assert_string_equal(err, "unknown parameter 'temprature', did you mean 'temperature'?");
	free(err);
	assert_int_equal(params_set(&p, "top_p", "1.5", &err), -1);
	assert_string_equal(err, "top_p: expected a number from 0 to 1, got '1.5'");
	free(err);
	params_free(&p);
	/* Unlisted ids of offered providers are usable; of unknown providers, not. */
	m = config_model(c, "anthropic/claude-new");
	assert_non_null(m);
	assert_true(m->synthesized);
	assert_string_equal(m->id, "claude-new");
	assert_ptr_equal(config_model(c, "anthropic/claude-new"), m);
	assert_null(config_model(c, "nosuch/thing"));
	assert_null(config_model(c, "nosuch"));
	config_free(c);
	unsetenv("ANTHROPIC_API_KEY");
}

/* Typos get the nearest name; unrelated words get none. */
static void
test_nearest(void **state)
{
	const char *names[] = { "temperature", "top_p", "top_k", "work", "groq" };

	(void)state;
	assert_string_equal(config_nearest("temprature", names, 5), "temperature");
	assert_string_equal(config_nearest("top-k", names, 5), "top_k");
	assert_string_equal(config_nearest("wrok", names, 5), "work");
	assert_null(config_nearest("colour_scheme", names, 5));
}

/* Create the scratch directory. */
static int
setup(void **state)
{
	(void)state;
	return mkdtemp(tmpdir) != NULL ? 0 : -1;
}

/* Seconds on the monotonic clock. */
static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Load text as a user file over nothing and return how long it took; errs gets the
 * messages. */
static double
load_timed(const char *text, struct config_errors *errs)
{
	double t0 = now_s();
	struct config *c = load_text(text, CONFIG_NO_DEFAULTS, errs);

	config_free(c);
	return now_s() - t0;
}

/* Deep or huge files are refused in milliseconds, before libyaml (whose time grows with
 * the square of the depth) sees them, with file:line:col; what merely looks deep
 * (brackets in comments, quoted and block scalars) is not. */
static void
test_deep_and_huge(void **state)
{
	struct config_errors errs = { NULL, 0 };
	struct buf b = BUF_INIT;
	struct config *c;
	const char *path;
	double t;
	int i;

	(void)state;
	/* 100,000 levels of flow brackets in 200 KB: libyaml alone took 18 s. */
	buf_puts(&b, "x: ");
	for (i = 0; i < 100000; i++)
		buf_putc(&b, '[');
	for (i = 0; i < 100000; i++)
		buf_putc(&b, ']');
	buf_putc(&b, '\n');
	t = load_timed(b.data, &errs);
	assert_true(has_error(&errs, "t.yaml:1:67: nested more than 64 levels deep", NULL));
	if (t > 0.5)
		fail_msg("refusing took %.2f s", t);
	config_errors_free(&errs);
	/* Block nesting by indentation, and by sequence entries. */
	buf_reset(&b);
	for (i = 0; i < 1000; i++)
		buf_printf(&b, "%*sk%d:\n", i, "", i);
	t = load_timed(b.data, &errs);
	assert_true(has_error(&errs, "t.yaml:65:", "nested more than 64 levels deep"));
	assert_true(t < 0.5);
	config_errors_free(&errs);
	buf_reset(&b);
	buf_puts(&b, "x:\n");
	for (i = 0; i < 20000; i++)
		buf_puts(&b, "- ");
	buf_puts(&b, "1\n");
	t = load_timed(b.data, &errs);
	assert_true(has_error(&errs, "t.yaml:2:", "nested more than 64 levels deep"));
	assert_true(t < 0.5);
	config_errors_free(&errs);
	/* Brackets that nest nothing: in a comment, quoted, in a block scalar, and a flow
	 * value well inside the limit. */
	buf_reset(&b);
	buf_puts(&b, "# [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[\n"
	    "templates:\n  t:\n    description: \"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["
	    "[[[[[[[[[[[[[[[[[[[[[[[[[[\"\n    system: '{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{"
	    "{{{{{{{{{{{{{{{{{{{{{{{{{{{{{'' [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[['\n"
	    "    user: |\n");
	for (i = 0; i < 100; i++)
		buf_puts(&b, "      [[[[ {PROMPT} {{\n\n");
	buf_puts(&b, "    defaults: {PROMPT: x, other: \"[y\"}\n");
	c = load_text(b.data, CONFIG_NO_DEFAULTS, &errs);
	assert_false(has_error(&errs, "nested", NULL));
	assert_non_null(strstr(config_template(c, "t")->user, "[[[[ {PROMPT}"));
	config_free(c);
	config_errors_free(&errs);
	/* 60 levels are fine as far as depth goes. */
	buf_reset(&b);
	buf_puts(&b, "x: ");
	for (i = 0; i < 60; i++)
		buf_putc(&b, '[');
	for (i = 0; i < 60; i++)
		buf_putc(&b, ']');
	buf_putc(&b, '\n');
	load_timed(b.data, &errs);
	assert_false(has_error(&errs, "nested", NULL));
	assert_true(has_error(&errs, "x", NULL));
	config_errors_free(&errs);
	/* A file over 4 MiB is refused unread, itself or as an include. */
	buf_reset(&b);
	for (i = 0; i < 800000; i++)
		buf_puts(&b, "# pad\n");
	write_file("big.yaml", b.data, 0600);
	t = load_timed(b.data, &errs);
	assert_true(has_error(&errs, "t.yaml:1:1: larger than 4 MiB", NULL));
	assert_true(t < 0.5);
	config_errors_free(&errs);
	load_timed("include: big.yaml\n", &errs);
	assert_true(has_error(&errs, "t.yaml:1:10: include", "larger than 4 MiB"));
	config_errors_free(&errs);
	path = write_file("deep.yaml", "a:\n b:\n  c: [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["
	    "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]"
	    "]]]]]]]]]]]]]]]]\n", 0600);
	(void)path;
	load_timed("include: deep.yaml\n", &errs);
	assert_true(has_error(&errs, "deep.yaml:3:", "nested more than 64 levels deep"));
	config_errors_free(&errs);
	buf_free(&b);
}

/* Remove the scratch directory. */
static int
teardown(void **state)
{
	char *cmd = xasprintf("rm -rf %s", tmpdir);
	int rc = system(cmd);

	(void)state;
	free(cmd);
	return rc == 0 ? 0 : -1;
}

/* Run the config tests. */
int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_schema_types),
		cmocka_unit_test(test_schema_defaults),
		cmocka_unit_test(test_corpus),
		cmocka_unit_test(test_both_kinds),
		cmocka_unit_test(test_keep_valid),
		cmocka_unit_test(test_bindings_checked),
		cmocka_unit_test(test_shipped),
		cmocka_unit_test(test_merge),
		cmocka_unit_test(test_keys),
		cmocka_unit_test(test_key_cmd_and_duplicates),
		cmocka_unit_test(test_show_masks),
		cmocka_unit_test(test_models),
		cmocka_unit_test(test_nearest),
		cmocka_unit_test(test_deep_and_huge),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
