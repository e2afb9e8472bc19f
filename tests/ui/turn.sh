#!/usr/bin/env bash
# tmux tests of the interface driving replies through the turn: a long chat in a small
# context window is trimmed (the request in the fake server's log lacks the oldest turn)
# and a rule marks where the model's view begins; with context.policy summarize the older
# turns are summarized first and the rule says so; the figures in a reply's header are the
# figures stored; a model that cannot be reached falls back to the next of its list.
set -u
. "$TESTS/ui/lib-ui.bash"

isolated_home
KEY=sk-natter-UITURN-5150
fs_start --key "$KEY" --log "$LIB_TMP/fs.log" || exit 0
export NATTER_DB=$LIB_TMP/turn.db
mkdir -p "$XDG_CONFIG_HOME/natter"
cat >"$XDG_CONFIG_HOME/natter/natter.yaml" <<YAML
default_model: small
providers:
  o: {protocol: openai, base_url: '$FS_URL/v1', key: $KEY, max_retries: 0}
  down: {protocol: openai, base_url: 'http://127.0.0.1:1/v1', key: $KEY, max_retries: 0}
models:
  small: {provider: o, id: small, context_window: 60}
  sum: {provider: o, id: sum, context_window: 100, context_policy: summarize}
  broken: {provider: down, id: gone, fallback: [small]}
context: {keep_turns: 1}
YAML
chmod 600 "$XDG_CONFIG_HOME/natter/natter.yaml"

say() {
	ui_type "$1"
	ui_keys Enter
	ui_wait "$2" 10
}

ui_start 120 40
for w in alpha beta gamma delta; do
	say "tokens=2 $w one two three four five six seven eight nine ten eleven" "w1 w2"
	sleep 0.3
done
ui_wait_not "waiting for the first token" 10
tap_check "the oldest turn is no longer sent" bash -c "! tail -n 1 '$LIB_TMP/fs.log' | grep -q alpha"
tap_check "the newest is" bash -c "tail -n 1 '$LIB_TMP/fs.log' | grep -q delta"
if ui_wait "the model no longer sees the messages above" 5; then
	tap_ok "a rule marks where the model's view begins"
else
	tap_fail "a rule marks where the model's view begins" "$(ui_screen)"
fi
hdr=$(ui_screen | grep "assistant · small" | tail -n 1)
ui_keys C-q
ui_wait_dead 10
"$NATTER" sessions export 1 --format json >"$LIB_TMP/s.json" 2>&1
if command -v python3 >/dev/null; then
	want=$(python3 -c 'import json,sys; m=json.load(open(sys.argv[1]))["messages"][-1]; print("ttft %.2fs · %d tok" % (m["ttft_ms"]/1000.0, m["output_tokens"]))' "$LIB_TMP/s.json")
	case $hdr in
	*"$want"*) tap_ok "the figures on screen are the figures stored ($want)" ;;
	*) tap_fail "the figures on screen are the figures stored" "screen: $hdr" "stored: $want" ;;
	esac
else
	tap_skip "the figures on screen are the figures stored" "needs python3"
fi

# Six turns: the provider counts fewer tokens than natter's estimate, and the turn learns
# that (calibration), so it takes more than four to overflow the window.
ui_start 120 40 -m sum
for w in alpha beta gamma delta epsilon zeta; do
	say "tokens=2 $w one two three four five six seven eight nine ten eleven" "w1 w2"
	sleep 0.3
done
ui_wait_not "waiting for the first token" 10
if ui_wait "the model sees a summary of the messages above" 10; then
	tap_ok "summarize: the rule says the older turns are summarized"
else
	tap_fail "summarize: the rule says the older turns are summarized" "$(ui_screen)"
fi
tap_check "summarize: a summary request went to the model" grep -q "running summary" "$LIB_TMP/fs.log"
tap_check "summarize: the reply's request carries the summary" \
	bash -c "tail -n 1 '$LIB_TMP/fs.log' | grep -q 'Summary of the earlier conversation'"
ui_keys C-q
ui_wait_dead 10

ui_start 120 40 -m broken
say "tokens=3 over there" "falling back to small"
if ui_wait "w1 w2 w3" 10; then
	tap_ok "a model that cannot be reached falls back, saying so"
else
	tap_fail "a model that cannot be reached falls back" "$(ui_screen)"
fi
ui_keys C-q
ui_wait_dead 10

# Esc part way through a long simulated reply: the header, the status line's session total
# and the tokens/s count the tokens that reached the screen (one word each), not the 3000
# the reply had planned.
ui_start 120 40 -m simulated/simulated-slow
ui_type "tokens=3000"
ui_keys Enter
ui_wait "Things to try here" 10
ui_keys Escape
ui_wait "⊘ cancelled" 10
scr=$(ui_screen)
hdr=$(echo "$scr" | grep "assistant · simulated-slow" | tail -n 1)
n=$(echo "$hdr" | sed -n 's/.* \([0-9][0-9]*\) tok · .*/\1/p')
rate=$(echo "$hdr" | sed -n 's/.* \([0-9.][0-9.]*\) tok\/s.*/\1/p')
# The reply's words: the transcript column from the header to the cancel note.
words=$(echo "$scr" | sed 's/^[^│]*│//' | sed -n '/assistant · simulated-slow/,/⊘ cancelled/p' |
	sed '1d;$d' | wc -w)
sess=$(echo "$scr" | tail -n 1 | sed -n 's/.*session \([0-9][0-9]*\) tok.*/\1/p')
if [ -n "$n" ] && [ "$n" -eq "$words" ] && [ "${sess:-0}" -gt 0 ] && [ "$sess" -lt 3000 ] &&
	awk -v r="$rate" 'BEGIN { exit !(r + 0 > 0 && r + 0 < 40) }'; then
	tap_ok "cancel: the count is the $n tokens shown, at the model's pace"
else
	tap_fail "cancel: the count is the tokens shown" "header: $hdr" "words shown: $words" \
		"session total: $sess" "$scr"
fi
ui_keys C-q
ui_wait_dead 10
