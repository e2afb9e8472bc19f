#!/usr/bin/env bash
# `natter ask` keeps its chats: every ask is a stored session with the figures it showed,
# -c continues the latest and -S a given one (history, model and system prompt come along),
# --no-save and ask.save: false store nothing, piped input and a prompt combine, --json is
# one object, the context budget trims or refuses a long chat, and a store that cannot be
# opened is said, not hidden.
set -u
. "$TESTS/integration/lib.sh"

isolated_home
KEY=sk-natter-ASKSESS-4242
fs_start --key "$KEY" --log "$LIB_TMP/fs.log" || exit 0
mkdir -p "$XDG_CONFIG_HOME/natter"
CONF=$XDG_CONFIG_HOME/natter/natter.yaml
write_conf() {
	cat >"$CONF" <<YAML
default_model: m-o
providers:
  o: {protocol: openai, base_url: '$FS_URL/v1', key: $KEY, max_retries: 0}
  a: {protocol: anthropic, base_url: '$FS_URL/v1', key: $KEY, max_retries: 0}
models:
  m-o: {provider: o, id: m-o, price_input: 1, price_output: 2}
  m-a: {provider: a, id: m-a}
  small: {provider: o, id: small, context_window: 60}
  strict: {provider: o, id: strict, context_window: 60, context_policy: refuse}
$1
YAML
	chmod 600 "$CONF"
}
write_conf ""
OUT=$LIB_TMP/out
ERR=$LIB_TMP/err
ask() {
	"$NATTER" ask "$@" >"$OUT" 2>"$ERR" </dev/null
	RC=$?
}
last_req() { tail -n 1 "$LIB_TMP/fs.log"; }

ask "tokens=3 first question"
tap_eq "ask answers" "0:w1 w2 w3" "$RC:$(cat "$OUT")"
"$NATTER" sessions >"$LIB_TMP/list" 2>&1
tap_check "the ask is stored as a session titled by its prompt" grep -q "tokens=3 first question" "$LIB_TMP/list"
"$NATTER" sessions show 1 >"$LIB_TMP/show" 2>&1
tap_check "the stored session holds the prompt and the reply" \
	bash -c "grep -q 'tokens=3 first question' '$LIB_TMP/show' && grep -q 'w1 w2 w3' '$LIB_TMP/show'"

ask -c "tokens=2 second"
tap_eq "ask -c answers" "0:w1 w2" "$RC:$(cat "$OUT")"
tap_check "ask -c sends the earlier exchange first" \
	bash -c "last_req() { tail -n 1 '$LIB_TMP/fs.log'; }; last_req | grep -q 'tokens=3 first question' && last_req | grep -q 'w1 w2 w3' && last_req | grep -q 'tokens=2 second'"
tap_eq "ask -c adds to the same session" "1" "$("$NATTER" sessions | grep -c tokens=)"

ask -m m-a -s "Be brief." "tokens=2 on anthropic"
ask -c "tokens=1 and again"
tap_check "ask -c keeps the session's model and system prompt" \
	bash -c "tail -n 1 '$LIB_TMP/fs.log' | grep -q '\"model\":\"m-a\"' && tail -n 1 '$LIB_TMP/fs.log' | grep -q 'Be brief.'"
ask -S 1 "tokens=1 back to the first"
tap_check "ask -S ID continues that session" \
	bash -c "tail -n 1 '$LIB_TMP/fs.log' | grep -q 'tokens=3 first question' && ! tail -n 1 '$LIB_TMP/fs.log' | grep -q 'on anthropic'"
ask -S 999 "x"
tap_eq "ask -S with an unknown id: exit 2" "2" "$RC"

n=$("$NATTER" sessions | grep -c tokens=)
ask --no-save "tokens=1 unsaved one"
tap_eq "--no-save stores nothing" "$n" "$("$NATTER" sessions | grep -c tokens=)"
write_conf "ask: {save: false}"
ask "tokens=1 unsaved two"
tap_eq "ask.save: false stores nothing" "$n" "$("$NATTER" sessions | grep -c tokens=)"
write_conf ""

printf 'piped text\n' | "$NATTER" ask "tokens=1 review this" >"$OUT" 2>"$ERR"
tap_check "piped input follows the prompt after a blank line" \
	grep -qF '"content":"tokens=1 review this\n\npiped text\n"' "$LIB_TMP/fs.log"
printf 'MIDDLE' | "$NATTER" ask "tokens=1 a" - "b" >"$OUT" 2>"$ERR"
tap_check "- stands for stdin where it is" grep -qF '"content":"tokens=1 a MIDDLE b"' "$LIB_TMP/fs.log"

ask --json "tokens=4 as json"
if command -v python3 >/dev/null; then
	got=$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(d["text"], d["model"], d["usage"]["output_tokens"], d["state"], d["session"] > 0, d["ttft_ms"] >= 0, d["cost"] > 0)' "$OUT" 2>&1)
	tap_eq "--json: one object with text, model, usage, state, session, timings, cost" \
		"w1 w2 w3 w4 o/m-o 4 complete True True True" "$got"
	sid=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["session"])' "$OUT")
	"$NATTER" sessions export "$sid" --format json >"$LIB_TMP/exp.json" 2>&1
	stored=$(python3 -c 'import json,sys; m=json.load(open(sys.argv[1]))["messages"][-1]; print(m["output_tokens"], m["ttft_ms"], m["duration_ms"])' "$LIB_TMP/exp.json")
	shown=$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(d["usage"]["output_tokens"], d["ttft_ms"], d["duration_ms"])' "$OUT")
	tap_eq "the figures stored are the figures reported" "$shown" "$stored"
else
	tap_skip "--json: one object" "needs python3"
	tap_skip "the figures stored are the figures reported" "needs python3"
fi

# The context budget: a 60-token window drops the oldest exchanges...
ask -m small "tokens=2 alpha one two three four five six seven eight nine ten eleven"
for w in beta gamma delta; do
	ask -c "tokens=2 $w one two three four five six seven eight nine ten eleven"
done
tap_eq "a long chat within a small window still answers" "0" "$RC"
tap_check "the oldest exchange is no longer sent" bash -c "! tail -n 1 '$LIB_TMP/fs.log' | grep -q alpha"
tap_check "the newest is" bash -c "tail -n 1 '$LIB_TMP/fs.log' | grep -q delta"
"$NATTER" sessions show "$("$NATTER" sessions | awk '/alpha/ {print $1; exit}')" >"$LIB_TMP/show" 2>&1
tap_check "nothing stored is deleted" grep -q "alpha" "$LIB_TMP/show"
# ...and refuse says so before anything is sent.
ask -m strict "tokens=2 alpha one two three four five six seven eight nine ten eleven"
lines=$(wc -l <"$LIB_TMP/fs.log")
ask -c "tokens=2 beta one two three four five six seven eight nine ten eleven twelve thirteen"
ask -c "tokens=2 gamma one two three four five six seven eight nine ten eleven twelve thirteen"
tap_eq "context_policy refuse: exit 2" "2" "$RC"
tap_check "it names the window" grep -q "context window of 60 tokens" "$ERR"
tap_eq "and nothing more was sent" "$((lines + 1))" "$(wc -l <"$LIB_TMP/fs.log")"

NATTER_DB=$LIB_TMP/not-a-dir/x.db
: >"$LIB_TMP/not-a-dir"
NATTER_DB=$NATTER_DB "$NATTER" ask "tokens=1 nowhere" >"$OUT" 2>"$ERR" </dev/null
RC=$?
tap_eq "without a store ask still answers" "0:w1" "$RC:$(cat "$OUT")"
tap_check "and says the reply will not be saved" grep -q "will not be saved" "$ERR"
NATTER_DB=$LIB_TMP/empty.db "$NATTER" ask -c "x" >"$OUT" 2>"$ERR" </dev/null
tap_eq "ask -c with nothing stored: exit 2" "2" "$?"

# --no-stream: one request without streaming, decoded by the adapters' whole-body path.
for m in m-o m-a; do
	ask --no-save --no-stream -m "$m" "tokens=5 whole"
	tap_eq "--no-stream with $m: the whole reply, exit 0" "0:w1 w2 w3 w4 w5" "$RC:$(cat "$OUT")"
	tap_check "--no-stream with $m: the request asked for no stream" \
		bash -c "tail -n 1 '$LIB_TMP/fs.log' | grep -q '\"stream\":false'"
done
ask --no-save --no-stream --json -m m-o "tokens=3 whole json"
tap_check "--no-stream --json: one object with the reply" grep -q '"text":"w1 w2 w3"' "$OUT"
ask --no-save --no-stream -m m-o "status=401"
tap_eq "--no-stream: an error body is an error, exit 1" "1" "$RC"

# A long reply's search indexing is put off by ask (it would cost more than the stream) and
# done by the next search, so it is found all the same.
DB=$XDG_DATA_HOME/natter/natter.db
ask "tokens=6000 a long one"
tap_eq "a long reply is noted for indexing, not indexed at once" "1" \
	"$(sqlite3 "$DB" 'SELECT count(*) FROM index_pending' 2>&1)"
"$NATTER" sessions search w5999 >"$LIB_TMP/found" 2>&1
tap_check "the next search indexes it and finds it" grep -q "\[w5999\]" "$LIB_TMP/found"
tap_eq "and nothing is left pending" "0" "$(sqlite3 "$DB" 'SELECT count(*) FROM index_pending' 2>&1)"

# ask never checkpoints inline (an auto-checkpoint copies the log and syncs twice); once its
# write-ahead log passes 1 MiB, a detached process folds it after ask has exited, and
# nothing stored is lost. Eight long replies write about 2 MiB of log.
WAL=$DB-wal
peak=0
for i in 1 2 3 4 5 6 7 8; do
	ask "tokens=20000 heavy $i"
	size=$(stat -c %s "$WAL" 2>/dev/null || echo 0)
	[ "$size" -gt "$peak" ] && peak=$size
done
tap_check "eight long replies grow the log past 512 KiB" test "$peak" -gt 524288
folded=0
for _ in $(seq 1 100); do
	size=$(stat -c %s "$WAL" 2>/dev/null || echo 0)
	[ "$size" -lt 1048576 ] && { folded=1; break; }
	sleep 0.1
done
tap_eq "after ask exits a heavy log is folded into the database" "1" "$folded"
tap_eq "the folded database is sound" "ok" "$(sqlite3 "$DB" 'PRAGMA integrity_check' 2>&1)"
tap_eq "and every long reply is there" "8" \
	"$(sqlite3 "$DB" "SELECT count(*) FROM messages WHERE role = 'assistant' AND content LIKE 'w1 w2%w20000'" 2>&1)"
