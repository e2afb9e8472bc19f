#!/usr/bin/env bash
# Integration tests for `natter embed`: the real binary against the fake server, whose
# vectors start with N for a text holding n=N, so every output line can be matched to its
# input. Checked: each protocol's exact request (OpenAI /embeddings, Gemini
# batchEmbedContents with the model in every request, Ollama /api/embed), --dimensions,
# batches split at each provider's most (2048, 100, 512) and at embed_batch, printed in
# input order when a later request answers first or the items come reversed, the formats
# (json, jsonl, tsv) with ids from JSON lines, a 429 retried, a key pool rotating past a
# rate-limited key, a 401 typed, a failing request ending the run after the vectors
# before it, bad input refused unsent, and the key never showing anywhere.
set -u
. "$TESTS/integration/lib.sh"

isolated_home
unset NATTER_MODEL NATTER_PROVIDER NATTER_MAX_RETRIES
KEY=sk-natter-EMBED-66102
LIMITED=sk-natter-EMBED-LIMITED-90211
export OPENAI_API_KEY=$KEY GEMINI_API_KEY=$KEY OLLAMA_API_KEY=$KEY
LOG=$LIB_TMP/fs.log
fs_start --key "$KEY" --limit-key "$LIMITED" --log "$LOG" || exit 0
export OLLAMA_HOST=$FS_URL
OUT=$LIB_TMP/out
ERR=$LIB_TMP/err
ALL=$LIB_TMP/all
: >"$ALL"
cd "$LIB_TMP" || exit 1

# em ARGS...: run natter embed; stdout in $OUT, stderr in $ERR, status in $RC.
em() {
	"$NATTER" embed "$@" >"$OUT" 2>"$ERR" </dev/null
	RC=$?
	cat "$OUT" "$ERR" >>"$ALL"
}

# expect DESC COND...: ok when the shell condition holds; shows outputs otherwise.
expect() {
	local d=$1
	shift
	if "$@"; then
		tap_ok "$d"
	else
		tap_fail "$d" "rc=$RC" "stdout: $(head -c 600 "$OUT")" "stderr: $(head -c 600 "$ERR")" \
			"last request: $(tail -n 1 "$LOG" | cut -c 1-400)"
	fi
}

last() { tail -n 1 "$LOG" | cut -f "$1"; }
requests() { wc -l <"$LOG" | tr -d ' '; }
# lines N FILE: texts "n=1 text one" ... "n=N text N".
lines() { seq 1 "$1" | sed 's/.*/n=& text &/' >"$2"; }
# in_order N: the jsonl output holds N vectors, the i-th with index i-1 and first number i.
in_order() {
	test "$(jq -r '"\(.index) \(.embedding[0])"' "$OUT" | awk '$1 != NR - 1 || $2 != NR { bad++ } END { print NR, bad + 0 }')" = "$1 0"
}
# sizes PATH N: the input counts of the last N requests to PATH, as "a b c".
sizes() {
	tail -n "$2" "$LOG" | awk -F '\t' -v p="$1" '$2 ~ p { print $4 }' |
		jq -r 'if .requests then (.requests | length) else (.input | length) end' | tr '\n' ' ' | sed 's/ $//'
}

OPENAI=$FS_URL/v1

# ---- One text ---------------------------------------------------------------------------------
em -m text-embedding-3-small --base-url "$OPENAI" "n=5 hello world"
expect "openai: one text, a json document, exit 0" \
	test "$RC" -eq 0 -a "$(jq -c '[.model, (.data | length), .data[0].index, .data[0].embedding[0], (.data[0].embedding | length), .usage.input_tokens]' "$OUT")" = \
	'["openai/text-embedding-3-small",1,0,5,8,3]'
expect "openai: the exact request" \
	test "$(last 1) $(last 2) $(last 4)" = \
	'POST /v1/embeddings {"model":"text-embedding-3-small","input":["n=5 hello world"],"encoding_format":"float"}'

em --base-url "$OPENAI" --dimensions 3 "n=6 short"
expect "no -m: the first usable embedding model; --dimensions in the request and the vector" \
	test "$RC" -eq 0 -a "$(last 4 | jq -c '[.model, .dimensions]')" = '["text-embedding-3-small",3]' \
	-a "$(jq -c '.data[0].embedding | length' "$OUT")" = 3
printf 'n=7 from stdin\n' | "$NATTER" embed --base-url "$OPENAI" --format jsonl - >"$OUT" 2>"$ERR"
RC=$?
expect "- reads the text from stdin, its final newline dropped" \
	test "$RC" -eq 0 -a "$(last 4 | jq -c .input)" = '["n=7 from stdin"]' \
	-a "$(jq -c '.embedding[0]' "$OUT")" = 7

# ---- Batches: splitting and order -------------------------------------------------------------
lines 5000 b5000.txt
n=$(requests)
em --base-url "$OPENAI" --batch b5000.txt --format jsonl
expect "openai: 5000 texts in requests of 2048, 2048 and 904" \
	test "$RC" -eq 0 -a "$(requests)" -eq $((n + 3)) -a "$(sizes /v1/embeddings 3 | tr ' ' '\n' | sort -n | tr '\n' ' ')" = "904 2048 2048 "
expect "openai: 5000 vectors in input order" in_order 5000
cp "$OUT" jobs4.out
em --base-url "$OPENAI" --batch b5000.txt --format jsonl --jobs 1
expect "--jobs 1 prints the same as four at a time" cmp -s "$OUT" jobs4.out

lines 150 b150.txt
n=$(requests)
em -m gemini-embedding-001 --base-url "$FS_URL/v1beta" --batch b150.txt --format jsonl --dimensions 4
expect "gemini: 150 texts in batchEmbedContents requests of 100 and 50" \
	test "$RC" -eq 0 -a "$(requests)" -eq $((n + 2)) -a "$(sizes batchEmbedContents 2 | tr ' ' '\n' | sort -n | tr '\n' ' ')" = "50 100 "
expect "gemini: POST /v1beta/models/gemini-embedding-001:batchEmbedContents with x-goog-api-key" \
	bash -c "test '$(last 2)' = /v1beta/models/gemini-embedding-001:batchEmbedContents && tail -n 1 '$LOG' | cut -f 3 | grep -q x-goog-api-key"
expect "gemini: every request names the model and the dimensions" \
	test "$(last 4 | jq -c '[.requests[] | [.model, .outputDimensionality]] | unique')" = \
	'[["models/gemini-embedding-001",4]]'
expect "gemini: 150 vectors in input order" in_order 150

lines 1200 b1200.txt
n=$(requests)
em -m nomic-embed-text --batch b1200.txt --format jsonl
expect "ollama: 1200 texts in /api/embed requests of 512, 512 and 176" \
	test "$RC" -eq 0 -a "$(requests)" -eq $((n + 3)) -a "$(sizes /api/embed 3 | tr ' ' '\n' | sort -n | tr '\n' ' ')" = "176 512 512 "
expect "ollama: the request is {model, input}" \
	test "$(last 4 | jq -c 'keys')" = '["input","model"]'
expect "ollama: 1200 vectors in input order" in_order 1200

# The first request waits: the later ones answer first, the output is still in order.
mkdir -p "$XDG_CONFIG_HOME/natter"
printf 'providers:\n  openai: {embed_batch: 10}\n' >"$XDG_CONFIG_HOME/natter/natter.yaml"
{ echo "n=1 header_delay_ms=400"; seq 2 35 | sed 's/.*/n=& text/'; } >slow.txt
n=$(requests)
em --base-url "$OPENAI" --batch slow.txt --format jsonl
expect "embed_batch: 10 splits 35 texts into 4 requests" \
	test "$RC" -eq 0 -a "$(requests)" -eq $((n + 4))
expect "the slow first request's vectors still come first" in_order 35
{ echo "n=1 order=reverse"; seq 2 8 | sed 's/.*/n=& text/'; } >rev.txt
em --base-url "$OPENAI" --batch rev.txt --format jsonl
expect "items that come in reverse order are put back by their index" in_order 8

# A request that fails for good ends the run after the vectors before it.
{ seq 1 10 | sed 's/.*/n=& ok/'; echo "n=11 status=400"; seq 12 30 | sed 's/.*/n=& ok/'; } >fail.txt
em --base-url "$OPENAI" --batch fail.txt --format jsonl
expect "a failing request: exit 1, its error, only the vectors before it" \
	bash -c "test $RC -eq 1 && grep -q 'bad request (400)' '$ERR' && test \$(wc -l <'$OUT') -eq 10"
rm -f "$XDG_CONFIG_HOME/natter/natter.yaml"

# ---- Formats and ids --------------------------------------------------------------------------
printf '{"id":"doc-a","text":"n=1 alpha"}\n\n{"id":42,"text":"n=2 beta"}\n{"text":"n=3 gamma"}\n' >ids.jsonl
em --base-url "$OPENAI" --batch ids.jsonl --format jsonl
expect "JSON lines: ids as given (string, number, none), blank lines skipped" \
	test "$RC" -eq 0 -a "$(jq -c '[.index, .id]' "$OUT" | tr '\n' ' ')" = '[0,"doc-a"] [1,42] [2,null] '
em --base-url "$OPENAI" --batch ids.jsonl --format tsv --dimensions 3
expect "tsv: the id (else the index), then the numbers" \
	test "$RC" -eq 0 -a "$(cut -f 1,2 "$OUT" | tr '\t\n' ':,')" = "doc-a:1,42:2,2:3," \
	-a "$(awk -F '\t' '{ print NF }' "$OUT" | sort -u)" = 4
em --base-url "$OPENAI" --batch ids.jsonl -o "$LIB_TMP/v.json"
expect "json to -o FILE: one valid document, nothing on stdout" \
	test "$RC" -eq 0 -a ! -s "$OUT" -a "$(jq -c '[.data[] | .id]' "$LIB_TMP/v.json")" = \
	'["doc-a",42,null]'

# ---- Retries, pools, errors -------------------------------------------------------------------
n=$(requests)
em --base-url "$OPENAI" "n=1 status=429 fail_times=1 id=emb-429 retry_after=0.1"
expect "429 once: retried, then the vector" \
	bash -c "test $RC -eq 0 && grep -q 'rate limit (429)' '$ERR' && grep -q 'retrying in' '$ERR' && test $(requests) -eq $((n + 2))"

cat >pool.yaml <<EOF
providers:
  pooled:
    protocol: openai
    base_url: $FS_URL/v1
    keys: [{key_env: POOL_A}, {key_env: POOL_B}]
    max_retries: 0
models:
  pe: {provider: pooled, id: text-embedding-3-small, kind: embedding}
EOF
POOL_A=$LIMITED POOL_B=$KEY NATTER_CONFIG=$LIB_TMP/pool.yaml em -m pe --batch b150.txt --format jsonl
expect "a key pool: the rate-limited key rests, the next key answers" \
	bash -c "test $RC -eq 0 && grep -q 'trying the next key of pooled' '$ERR'"
expect "a key pool: every vector, in order" in_order 150

n=$(requests)
OPENAI_API_KEY=sk-wrong-key-555 em --base-url "$OPENAI" "n=1 x"
expect "401: the typed message and the key to set, one attempt, exit 1" \
	bash -c "test $RC -eq 1 && grep -q 'natter: openai: auth (401): Incorrect API key' '$ERR' && grep -q 'set OPENAI_API_KEY to a valid key' '$ERR' && test $(requests) -eq $((n + 1))"

n=$(requests)
printf 'one\ntwo\n\nfour\n' >blank.txt
em --base-url "$OPENAI" --batch blank.txt
expect "a blank line in a plain batch: exit 2, its line named" \
	bash -c "test $RC -eq 2 && grep -q 'blank.txt: line 3 is empty' '$ERR'"
printf '{"text":"a"}\n{"txt":"b"}\n' >bad.jsonl
em --base-url "$OPENAI" --batch bad.jsonl
expect "a JSON line without text: exit 2" \
	bash -c "test $RC -eq 2 && grep -q 'line 2 has no \"text\"' '$ERR'"
em --base-url "$OPENAI" --batch missing.txt
expect "a missing batch file: exit 2" \
	bash -c "test $RC -eq 2 && grep -q 'missing.txt: No such file' '$ERR'"
em --base-url "$OPENAI"
expect "nothing to embed: exit 2" bash -c "test $RC -eq 2 && grep -q 'nothing to embed' '$ERR'"
em -m whisper-1 "x"
expect "a transcription model is refused by kind" \
	bash -c "test $RC -eq 2 && grep -q 'whisper-1 is a transcription model' '$ERR'"
ANTHROPIC_API_KEY=$KEY em -m anthropic/claude-x "x"
expect "anthropic has no embeddings: exit 2" \
	bash -c "test $RC -eq 2 && grep -q 'anthropic protocol, which has no embeddings' '$ERR'"
em --dimensions 0 "x"
expect "--dimensions 0: usage error" test "$RC" -eq 2
em --format csv "x"
expect "an unknown --format: usage error" test "$RC" -eq 2
expect "bad input sent nothing" test "$(requests)" -eq "$n"
"$NATTER" embed --help >"$OUT" 2>&1
RC=$?
expect "--help names every option" \
	bash -c "test $RC -eq 0 && grep -q -- '--batch FILE' '$OUT' && grep -q -- '--dimensions N' '$OUT' && grep -q 'json|jsonl|tsv' '$OUT'"

expect "the keys never show in any output or the log" \
	bash -c "! grep -q -e '$KEY' -e '$LIMITED' '$ALL' '$LOG'"
