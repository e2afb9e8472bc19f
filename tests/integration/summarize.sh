#!/usr/bin/env bash
# `natter summarize`: a summary of a stored session from a model through one turn, against
# the fake server and the simulated provider. The request carries the stored conversation
# (its system prompt, its messages, not a comparison round that kept no reply) and then the
# interface's summarize prompt; the reply streams to stdout or goes to a 0600 file; the
# stored session is not changed; exit statuses are ask's (1 provider, 2 usage, 130 Ctrl+C).
set -u
. "$TESTS/integration/lib.sh"

isolated_home
export TZ=UTC NATTER_DB="$HOME/db/natter.db"
umask 022
KEY=sk-natter-SUMKEY-9090
D=$LIB_TMP
fs_start --key "$KEY" --log "$D/fs.log" || exit 0
mkdir -p "$XDG_CONFIG_HOME/natter"
cat >"$XDG_CONFIG_HOME/natter/natter.yaml" <<YAML
providers:
  o: {protocol: openai, base_url: '$FS_URL/v1', key: $KEY, max_retries: 0}
  a: {protocol: anthropic, base_url: '$FS_URL/v1', key: $KEY, max_retries: 0}
  dead: {protocol: openai, base_url: 'http://127.0.0.1:1/v1', key: $KEY, max_retries: 0}
  sim: {protocol: simulated, tokens_per_second: 2000}
  slow: {protocol: simulated, tokens_per_second: 5}
models:
  m-o: {provider: o, id: m-o}
  m-a: {provider: a, id: m-a}
  m-dead: {provider: dead, id: m-dead}
  m-sim: {provider: sim, id: simulated}
  m-slow: {provider: slow, id: simulated}
YAML
chmod 600 "$XDG_CONFIG_HOME/natter/natter.yaml"
OUT=$D/out
ERR=$D/err
db() { sqlite3 "$NATTER_DB" "$@"; }
summ() {
	"$NATTER" summarize "$@" >"$OUT" 2>"$ERR" </dev/null
	RC=$?
}
# The body of the last chat request the fake server saw.
last_body() { grep -E $'^POST\t' "$D/fs.log" | tail -n 1 | cut -f 4; }
WANT="This is fakeserver answering: Summarise our conversation so far in a few."

m() { # role content [group column kept]
	printf '{"id": 1, "role": "%s", "content": "%s", "reasoning": null, "provider": %s, "model": %s, "created": "2026-01-02T03:04:05.000Z", "state": "complete", "error": null, "finish_reason": null, "input_tokens": null, "output_tokens": null, "cost": null, "ttft_ms": null, "duration_ms": null, "compare_group": %s, "compare_column": %s, "compare_kept": %s}' \
		"$1" "$2" "$([ "$1" = user ] && echo null || echo '"o"')" \
		"$([ "$1" = user ] && echo null || echo '"m-o"')" "${3:-null}" "${4:-null}" "${5:-null}"
}
session() { # title messages...
	local t=$1 first=1 x
	shift
	printf '{"id": 1, "title": "%s", "provider": "o", "model": "m-o", "system": "You know cats.", "created": "2026-01-02T03:04:05Z", "updated": "2026-01-02T03:04:05Z", "input_tokens": 0, "output_tokens": 0, "cost": 0, "messages": [' "$t"
	for x in "$@"; do
		[ $first -eq 0 ] && printf ','
		first=0
		printf '%s' "$x"
	done
	printf ']}\n'
}
session cats "$(m user 'My cat is named Zorblax and she is seven.')" \
	"$(m assistant 'Zorblax is a fine name.')" \
	"$(m user 'UNPICKEDROUND which toy' 5)" "$(m assistant 'a ball' 5 1 false)" \
	"$(m assistant 'a mouse' 5 2 false)" >"$D/cats.json"
id=$("$NATTER" import "$D/cats.json")
tap_eq "the session to summarize is stored" "1" "$id"
"$NATTER" export "$id" --format json >"$D/before.json"

summ "$id"
tap_eq "summarize: exit 0" "0" "$RC"
tap_eq "the summary streams to stdout" "$WANT" "$(cat "$OUT")"
last_body >"$D/body"
tap_check "the request goes to the session's model" \
	bash -c "grep -E $'^POST\t' '$D/fs.log' | tail -n 1 | grep -q '/chat/completions' && grep -q '\"model\":\"m-o\"' '$D/body'"
tap_check "the request carries the stored conversation and its system prompt" \
	bash -c "grep -q 'My cat is named Zorblax' '$D/body' && grep -q 'Zorblax is a fine name' '$D/body' && grep -q 'You know cats' '$D/body'"
tap_eq "the request ends with the interface's summarize prompt" \
	"user|Summarise our conversation so far in a few short paragraphs. Keep names, numbers, decisions and open questions, so that it can go on from the summary alone." \
	"$(sqlite3 :memory: "SELECT json_extract(readfile('$D/body'), '\$.messages[#-1].role'), json_extract(readfile('$D/body'), '\$.messages[#-1].content')")"
tap_check "a comparison round that kept no reply is left out" \
	bash -c "! grep -q UNPICKEDROUND '$D/body'"
tap_check "and stderr says so" grep -q "1 compared round that kept no reply is left out" "$ERR"
"$NATTER" export "$id" --format json >"$D/after.json"
tap_check "the stored session is not changed" diff "$D/before.json" "$D/after.json"
tap_eq "no session was added" "1" "$(db "SELECT count(*) FROM sessions")"

summ last -m m-a -o "$D/sum.txt"
tap_eq "-m MODEL -o FILE: exit 0, nothing on stdout" "0|" "$RC|$(cat "$OUT")"
tap_eq "-o FILE holds the summary" "$WANT" "$(cat "$D/sum.txt")"
tap_eq "-o FILE is mode 0600 (umask 022)" "600" "$(stat -c %a "$D/sum.txt")"
tap_check "-m chose another model (and protocol)" \
	bash -c "grep -E $'^POST\t' '$D/fs.log' | tail -n 1 | grep -q '/v1/messages'"

summ "$id" -m m-sim
tap_eq "the simulated provider: exit 0" "0" "$RC"
tap_check "the simulated provider answers the summarize prompt" \
	bash -c "grep -q 'simulated provider' '$OUT' && grep -q 'You wrote: \"Summarise our conversation' '$OUT'"

summ "$id" -m m-dead -o "$D/dead.txt"
tap_eq "a provider that fails: exit 1" "1" "$RC"
tap_check "it says why, and writes no file" \
	bash -c "grep -q 'natter: summarize: ' '$ERR' && grep -q 'nothing was written' '$ERR' && test ! -e '$D/dead.txt'"

# Ctrl+C while the slow simulated provider streams: cancelled, exit 130, nothing stored.
"$NATTER" summarize "$id" -m m-slow >"$OUT" 2>"$ERR" </dev/null &
pid=$!
for _ in $(seq 1 100); do
	[ -s "$OUT" ] && break
	sleep 0.05
done
kill -INT "$pid"
wait "$pid"
RC=$?
tap_eq "Ctrl+C: exit 130" "130" "$RC"
tap_check "Ctrl+C: the partial summary was printed and stderr says cancelled" \
	bash -c "test -s '$OUT' && grep -q 'natter: summarize: cancelled' '$ERR'"
"$NATTER" export "$id" --format json >"$D/after.json"
tap_check "Ctrl+C: the stored session is not changed" diff "$D/before.json" "$D/after.json"

summ "$id" -m no-such-model
tap_eq "an unknown model: exit 2" "2" "$RC"
tap_check "it names the model" grep -q "unknown model 'no-such-model'" "$ERR"
summ 42
tap_eq "an unknown session: exit 1" "1" "$RC"
summ
tap_eq "no session: exit 2" "2" "$RC"
session empty "$(m user 'only a round' 7)" "$(m assistant 'x' 7 1 false)" \
	"$(m assistant 'y' 7 2 false)" >"$D/round.json"
rid=$("$NATTER" import "$D/round.json")
summ "$rid"
tap_eq "a session of unkept comparisons only: exit 1" "1" "$RC"
tap_check "it says there is nothing to summarize" grep -q "has nothing to summarize" "$ERR"
