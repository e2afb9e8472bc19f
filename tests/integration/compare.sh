#!/usr/bin/env bash
# `natter compare`: the headless comparison against the fake server in all four protocols:
# every model streams at once and prints under its name, a table of figures follows, --json
# gives the same as one object, a failing model fails alone (exit 1, the others printed),
# nothing is sent when a model is unknown, and the round is stored as a compare group that
# `natter sessions show` marks, its replies alternatives of the prompt (`show --tree`).
set -u
. "$TESTS/integration/lib.sh"

isolated_home
KEY=sk-natter-CMPKEY-31337
fs_start --key "$KEY" || exit 0
mkdir -p "$XDG_CONFIG_HOME/natter"
cat >"$XDG_CONFIG_HOME/natter/natter.yaml" <<YAML
providers:
  o: {protocol: openai, base_url: '$FS_URL/v1', key: $KEY, max_retries: 0}
  a: {protocol: anthropic, base_url: '$FS_URL/v1', key: $KEY, max_retries: 0}
  g: {protocol: gemini, base_url: '$FS_URL/v1beta', key: $KEY, max_retries: 0}
  l: {protocol: ollama, base_url: '$FS_URL', key: $KEY, max_retries: 0}
models:
  m-o: {provider: o, id: m-o, price_input: 1, price_output: 2}
  m-a: {provider: a, id: m-a}
  m-g: {provider: g, id: m-g}
  m-l: {provider: l, id: m-l}
YAML
chmod 600 "$XDG_CONFIG_HOME/natter/natter.yaml"
OUT=$LIB_TMP/out
ERR=$LIB_TMP/err

cmp() {
	"$NATTER" compare "$@" >"$OUT" 2>"$ERR" </dev/null
	RC=$?
}

cmp -m m-o -m m-a -m m-g -m m-l "[m-o]tokens=3 [m-a]tokens=4 [m-g]tokens=5 [m-l]tokens=6"
tap_eq "four protocols at once: exit 0" "0" "$RC"
for m in "o:w1 w2 w3" "a:w1 w2 w3 w4" "g:w1 w2 w3 w4 w5" "l:w1 w2 w3 w4 w5 w6"; do
	p=${m%%:*}
	want=${m#*:}
	got=$(awk -v h="$p/m-$p ──" 'index($0, h) { getline; print; exit }' "$OUT")
	tap_eq "m-$p's reply under its name" "$want" "$got"
done
tap_check "a table row per model, with tokens and finish" \
	grep -qE '^o/m-o +[0-9.]+s +[0-9.-]+ +3 +\$0\.[0-9]+ +complete$' "$OUT"
tap_check "an unpriced model shows no cost" grep -qE '^l/m-l .* 6 +- +complete$' "$OUT"

# The slowest model decides the time: all stream at once, so three 300 ms streams take
# well under three times one.
start=$(date +%s%N)
cmp -m m-o -m m-a -m m-g "delay_ms=30 tokens=10"
ms=$(( ($(date +%s%N) - start) / 1000000 ))
if [ "$RC" -eq 0 ] && [ "$ms" -lt 1500 ]; then
	tap_ok "three paced streams run at once ($ms ms)"
else
	tap_fail "three paced streams run at once" "rc=$RC ms=$ms" "$(cat "$ERR")"
fi

cmp -m m-o -m m-a "[m-a]status=500 tokens=2"
if [ "$RC" -eq 1 ] && grep -q "w1 w2" "$OUT" && grep -qi "error" "$OUT" && grep -qE '^a/m-a .* error$' "$OUT"; then
	tap_ok "a failing model fails alone: exit 1, the other reply printed"
else
	tap_fail "a failing model fails alone" "rc=$RC" "$(cat "$OUT" "$ERR")"
fi

cmp --json -m m-o -m m-l "tokens=2"
if command -v python3 >/dev/null; then
	got=$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(len(d["replies"]), d["replies"][0]["text"], d["replies"][1]["model"], d["replies"][0]["output_tokens"], d["replies"][1]["state"], d["session"] > 0)' "$OUT" 2>&1)
	tap_eq "--json: one object with every reply" "2 w1 w2 l/m-l 2 complete True" "$got"
else
	tap_skip "--json: one object with every reply" "needs python3"
fi

cmp -m m-o -m nosuch-model "tokens=2 refused-round"
tap_eq "an unknown model: exit 2" "2" "$RC"
tap_check "it names the model" grep -q "unknown model 'nosuch-model'" "$ERR"
tap_eq "and nothing was printed" "" "$(cat "$OUT")"
cmp -m m-o "tokens=2"
tap_eq "one model is not a comparison: exit 2" "2" "$RC"

"$NATTER" sessions >"$OUT" 2>&1
n=$(grep -c "tokens=" "$OUT")
tap_eq "each comparison that ran is stored as a session" "4" "$n"
tap_eq "a refused one is not" "0" "$(grep -c refused-round "$OUT")"
"$NATTER" sessions show 1 >"$OUT" 2>&1
tap_check "the round is stored as a compare group" grep -q "compare 4/4" "$OUT"
tap_eq "no column kept: the round is shown whole" "4" "$(grep -c '^\[assistant ' "$OUT")"
"$NATTER" sessions show 1 --tree >"$OUT" 2>&1
tap_check "show --tree: each reply is an alternative of the prompt" \
	grep -q '^\[assistant m-l\].*\[compare 4/4\] \[#5 · alternative 4 of 4 · follows #1\]' "$OUT"
tap_eq "show --tree: one line per reply" "4" "$(grep -c 'follows #1\]\|\[#2 · alternative 1 of 4\]' "$OUT")"
cmp --no-save -m m-o -m m-a "tokens=1 unsaved"
"$NATTER" sessions >"$OUT" 2>&1
tap_eq "--no-save stores nothing" "0" "$(grep -c unsaved "$OUT")"
