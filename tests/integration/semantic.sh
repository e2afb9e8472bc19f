#!/usr/bin/env bash
# Integration tests for semantic search (`natter sessions search --semantic`) against the
# fake server, whose vectors start with N for a text holding n=N (the rest is a hash of
# the text), so "n=48 ..." is nearest to "n=50 ...": the catch-up embeds every stored
# message once (one batch, the configured dimensions), the query ranks them, a second
# search embeds only the query, new messages are embedded next time, a provider that
# cannot be reached is said and nothing is lost (the next search goes on), a missing or
# wrong embedding_model is a configuration error, and natter serve embeds the messages
# it stores when idle.
set -u
. "$TESTS/integration/lib.sh"

isolated_home
unset NATTER_MODEL NATTER_PROVIDER NATTER_MAX_RETRIES
KEY=sk-natter-SEMANTIC-51515
export OPENAI_API_KEY=$KEY
LOG=$LIB_TMP/fs.log
fs_start --key "$KEY" --log "$LOG" || exit 0
export NATTER_DB=$HOME/db/natter.db
OUT=$LIB_TMP/out
ERR=$LIB_TMP/err
CFG=$XDG_CONFIG_HOME/natter/natter.yaml
mkdir -p "$(dirname "$CFG")"
# conf EMB_URL [EMBEDDING_MODEL]: the config, with the embedding provider at EMB_URL.
conf() {
	cat >"$CFG" <<YAML
providers:
  po: {protocol: openai, base_url: '$FS_URL/v1', key_env: OPENAI_API_KEY, max_retries: 0}
  pe: {protocol: openai, base_url: '$1', key_env: OPENAI_API_KEY, max_retries: 0}
models:
  fo: {provider: po, id: m-o}
  emb: {provider: pe, id: text-embedding-3-small, kind: embedding, dimensions: 16}
${2-embedding_model: emb}
YAML
}
conf "$FS_URL/v1"

run() {
	"$NATTER" "$@" >"$OUT" 2>"$ERR" </dev/null
	RC=$?
}
embeds() { grep -c $'^POST\t/v1/embeddings' "$LOG"; }
vectors() { sqlite3 "$NATTER_DB" "SELECT count(*) || ':' || coalesce(min(length(vec)), 0) || ':' || coalesce(max(length(vec)), 0) FROM message_vectors"; }

for t in "n=50 apples" "n=2 pears" "n=3 plums"; do
	run ask -m fo "$t tokens=1"
done
n=$(embeds)
run sessions search --semantic "n=48 fruit"
tap_eq "--semantic: exit 0, the nearest message first" "0:n=50 apples tokens=1" \
	"$RC:$(head -n 1 "$OUT" | sed 's/.*  [0-9]\.[0-9][0-9][0-9]  //')"
tap_check "... with its similarity" bash -c "head -n 1 '$OUT' | grep -qE '  user +  0\\.9[0-9]{2}  n=50'"
tap_check "the stored messages were embedded first, saying so" \
	grep -q "embedding 6 messages with emb for semantic search" "$ERR"
tap_eq "... in one batch of six, then the query, with the dimensions asked for" \
	"$((n + 2)):6:16:1" \
	"$(embeds):$(grep $'^POST\t/v1/embeddings' "$LOG" | sed -n "$((n + 1))p" | cut -f 4 | jq -r '(.input | length | tostring) + ":" + (.dimensions | tostring)'):$(grep $'^POST\t/v1/embeddings' "$LOG" | tail -n 1 | cut -f 4 | jq '.input | length')"
tap_eq "six vectors of 16 bytes are stored" "6:16:16" "$(vectors)"

n=$(embeds)
run sessions search --semantic "n=3 plums tokens=1"
tap_eq "a second search embeds only the query" "0:$((n + 1))" "$RC:$(embeds)"
tap_check "... and says nothing of embedding" bash -c "! grep -q embedding '$ERR'"
tap_check "... and finds the same text first" bash -c "head -n 1 '$OUT' | grep -q 'n=3 plums'"
run sessions search "plums"
tap_check "full-text search still works next to it" grep -q "plums" "$OUT"

run ask -m fo "n=900 cherries tokens=1"
run sessions search --semantic "n=899 red"
tap_check "new messages are embedded by the next search (two of them)" \
	grep -q "embedding 2 messages" "$ERR"
tap_check "... and found" bash -c "head -n 1 '$OUT' | grep -q 'n=900 cherries'"

# Offline: the pending messages stay pending, the query fails readably, nothing is lost.
run ask -m fo "n=77 figs tokens=1"
conf "http://127.0.0.1:1/v1"
run sessions search --semantic "n=77 x"
tap_eq "embedding provider unreachable: exit 1" 1 "$RC"
tap_check "... saying the rest could not be embedded" grep -q "could not embed the rest" "$ERR"
tap_check "... and why the query failed" grep -q "natter: pe: " "$ERR"
tap_eq "... the vectors made before are kept" "8:16:16" "$(vectors)"
conf "$FS_URL/v1"
run sessions search --semantic "n=77 figs tokens=1"
tap_check "back online, the next search embeds what was left" \
	bash -c "grep -q 'embedding 2 messages' '$ERR' && head -n 1 '$OUT' | grep -q 'n=77 figs'"

conf "$FS_URL/v1" ""
run sessions search --semantic "anything"
tap_eq "no embedding_model: a configuration error (exit 3)" 3 "$RC"
tap_check "... naming the setting" grep -q "set embedding_model:" "$ERR"
conf "$FS_URL/v1" "embedding_model: fo"
run sessions search --semantic "anything"
tap_eq "embedding_model naming a chat model: exit 3" 3 "$RC"
tap_check "... saying what it is" grep -q "embedding_model: " "$ERR"
tap_check "no sanitizer report" bash -c "! grep -qE 'Sanitizer|runtime error' '$ERR'"

# natter serve embeds what it stores once idle.
conf "$FS_URL/v1"
SV_ERR=$LIB_TMP/serve.err
"$NATTER" serve --listen 127.0.0.1:0 2>"$SV_ERR" </dev/null &
SV=$!
lib_at_exit "kill $SV"
port=
for _ in $(seq 200); do
	port=$(sed -n 's/.*listening on http:\/\/127\.0\.0\.1:\([0-9]*\).*/\1/p' "$SV_ERR")
	[ -n "$port" ] && break
	sleep 0.05
done
before=$(sqlite3 "$NATTER_DB" "SELECT count(*) FROM message_vectors")
curl -s -o /dev/null -H 'Content-Type: application/json' \
	-d '{"model":"fo","messages":[{"role":"user","content":"n=5 served tokens=1"}]}' \
	"http://127.0.0.1:$port/v1/chat/completions"
for _ in $(seq 100); do
	[ "$(sqlite3 "$NATTER_DB" "SELECT count(*) FROM message_vectors")" -ge $((before + 2)) ] && break
	sleep 0.1
done
tap_eq "natter serve embeds the prompt and reply it stored, when idle" $((before + 2)) \
	"$(sqlite3 "$NATTER_DB" "SELECT count(*) FROM message_vectors")"
kill "$SV"
wait "$SV" 2>/dev/null
tap_check "the key never reaches the output" bash -c "! grep -q '$KEY' '$OUT' '$ERR' '$SV_ERR'"
