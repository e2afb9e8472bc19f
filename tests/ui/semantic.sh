#!/usr/bin/env bash
# The interface embeds new messages in the background (embedding_model): the real
# interface in tmux against the fake server. A chat's prompt and reply get vectors once the
# reply is done, the messages stored before it started are left to the search's
# catch-up, and a semantic search afterwards only embeds the query. Prints TAP lines.
set -u
. "$TESTS/ui/lib-ui.bash"

if ! command -v tmux >/dev/null 2>&1 || ! command -v sqlite3 >/dev/null 2>&1; then
	tap_skip "background embedding" "needs tmux and sqlite3"
	exit 0
fi

isolated_home
fs_start --log "$LIB_TMP/fs.log" || exit 0
export OPENAI_API_KEY=sk-test-semantic
export NATTER_DB=$HOME/db/natter.db
mkdir -p "$XDG_CONFIG_HOME/natter"
cat >"$XDG_CONFIG_HOME/natter/natter.yaml" <<YAML
providers:
  openai: {base_url: '$FS_URL/v1'}
models:
  emb: {provider: openai, id: text-embedding-3-small, kind: embedding}
embedding_model: emb
YAML

vectors() { sqlite3 -cmd '.timeout 5000' "$NATTER_DB" "SELECT count(*) FROM message_vectors"; }
embeds() { grep -c $'^POST\t/v1/embeddings' "$LIB_TMP/fs.log"; }

# A message from before the interface started: not the interface's to embed.
"$NATTER" ask -m openai/fake-model "n=1 from before tokens=1" >/dev/null 2>&1
ui_start 110 30 -m openai/fake-model || { tap_fail "natter starts" "$(ui_screen)"; exit 0; }
ui_wait 'Type a message\|› ' >/dev/null
sleep 0.3
tap_eq "idle at start: nothing is embedded" "0:0" "$(vectors):$(embeds)"
ui_type "n=42 the answer tokens=3"
ui_keys Enter
ui_check "the reply arrives" ui_wait 'w3'
for _ in $(seq 100); do
	[ "$(vectors)" -ge 2 ] && break
	sleep 0.1
done
tap_eq "the prompt and the reply get vectors once it is done" 2 "$(vectors)"
tap_eq "... and nothing from before the interface started" 0 \
	"$(sqlite3 "$NATTER_DB" "SELECT count(*) FROM message_vectors v JOIN messages m ON m.id = v.message_id WHERE m.content LIKE '%from before%'")"
ui_keys C-q
ui_wait_dead >/dev/null
n=$(embeds)
"$NATTER" sessions search --semantic "n=42 question" >"$LIB_TMP/out" 2>"$LIB_TMP/err"
tap_check "a search then embeds only what was left from before, and the query" \
	bash -c "grep -q 'embedding 2 messages' '$LIB_TMP/err' && [ \$(grep -c \$'^POST\\t/v1/embeddings' '$LIB_TMP/fs.log') = $((n + 2)) ]"
tap_check "... and finds the chat's prompt first" bash -c "head -n 1 '$LIB_TMP/out' | grep -q 'n=42 the answer'"
