#!/usr/bin/env bash
# `natter metrics`: usage per model, day and session over the whole store, and per reply of
# one session. Replies from the fake server carry known token counts (input = the words of
# the prompt, output = the tokens sent); an imported session carries known timings, so the
# medians are checked exactly. A model without a price has no stored cost: it says
# "unknown" and never counts as $0, while a free model's $0 is a known figure.
set -u
. "$TESTS/integration/lib.sh"

isolated_home
export TZ=UTC NATTER_DB="$HOME/db/natter.db"
KEY=sk-natter-METKEY-777
fs_start --key "$KEY" || exit 0
mkdir -p "$XDG_CONFIG_HOME/natter"
cat >"$XDG_CONFIG_HOME/natter/natter.yaml" <<YAML
providers:
  o: {protocol: openai, base_url: '$FS_URL/v1', key: $KEY, max_retries: 0}
  a: {protocol: anthropic, base_url: '$FS_URL/v1', key: $KEY, max_retries: 0}
models:
  m-o: {provider: o, id: m-o, price_input: 1, price_output: 2}
  m-a: {provider: a, id: m-a}
YAML
chmod 600 "$XDG_CONFIG_HOME/natter/natter.yaml"
D=$LIB_TMP
db() { sqlite3 "$NATTER_DB" "$@"; }
# jq-free JSON reads: the value at a path of the JSON in file $1.
jx() { sqlite3 :memory: "SELECT json_extract(readfile('$1'), '$2')"; }

"$NATTER" metrics >"$D/out" 2>"$D/err"
tap_eq "an empty store: exit 0" "0" "$?"
tap_check "an empty store says so" grep -q "no replies stored yet" "$D/out"

# Three rounds: 2 + 3 input words, 3 and 5 tokens out; then one where m-a fails.
"$NATTER" compare -m m-o -m m-a "tokens=3 one" >/dev/null 2>&1
"$NATTER" compare -m m-o -m m-a "tokens=5 a b c" >/dev/null 2>&1
"$NATTER" compare -m m-o -m m-a "[m-a]status=500 tokens=2 x" >/dev/null 2>&1
tap_eq "the fake server's replies are stored" "6" \
	"$(db "SELECT count(*) FROM messages WHERE role = 'assistant'")"

# A session with known timings: x/med has ttft 100, 300, 200 ms and output rates 10, 20
# and 30 tok/s (one without a cost); x/even is free, with ttfts 100 and 400 and no rate;
# its first reply is 40 days old.
d3=$(date -u -d '3 days ago' +%Y-%m-%d)
d40=$(date -u -d '40 days ago' +%Y-%m-%d)
msg() { # role model created in out cost ttft duration
	local p=null m=null
	[ "$2" != - ] && p='"x"' m="\"$2\""
	printf '{"id": 1, "role": "%s", "content": "c", "reasoning": null, "provider": %s, "model": %s, "created": "%s", "state": "complete", "error": null, "finish_reason": null, "input_tokens": %s, "output_tokens": %s, "cost": %s, "ttft_ms": %s, "duration_ms": %s, "compare_group": null, "compare_column": null, "compare_kept": null}' \
		"$1" "$p" "$m" "$3" "$4" "$5" "$6" "$7" "$8"
}
{
	printf '{"id": 9, "title": "timed", "provider": "x", "model": "med", "system": null,'
	printf ' "created": "%sT12:00:00Z", "updated": "%sT12:00:00Z",' "$d3" "$d3"
	printf ' "input_tokens": 603, "output_tokens": 83, "cost": 0.75, "messages": ['
	msg user - "${d3}T12:00:00.000Z" null null null null null; printf ','
	msg assistant med "${d3}T12:00:01.000Z" 100 10 0.5 100 1100; printf ','
	msg user - "${d3}T12:01:00.000Z" null null null null null; printf ','
	msg assistant med "${d3}T12:01:01.000Z" 200 40 null 300 2300; printf ','
	msg user - "${d3}T12:02:00.000Z" null null null null null; printf ','
	msg assistant med "${d3}T12:02:01.000Z" 300 30 0.25 200 1200; printf ','
	msg assistant even "${d40}T12:00:00.000Z" 1 1 0 100 null; printf ','
	msg assistant even "${d3}T12:03:00.000Z" 2 2 0 400 300
	printf ']}\n'
} >"$D/timed.json"
timed=$("$NATTER" import "$D/timed.json" 2>"$D/err")
tap_eq "the timed session imports" "4" "$timed$(cat "$D/err")"
# Twenty old empty sessions: the per-session table shows the 20 most recent only.
printf '{"id": 1, "title": "old", "provider": null, "model": null, "system": null, "created": "2020-01-01T00:00:00Z", "updated": "2020-01-01T00:00:00Z", "input_tokens": 0, "output_tokens": 0, "cost": 0, "messages": []}\n' >"$D/old.json"
for _ in $(seq 1 20); do "$NATTER" import "$D/old.json" >/dev/null; done

"$NATTER" metrics >"$D/out" 2>"$D/err"
tap_eq "metrics: exit 0, nothing on stderr" "0" "$?$(cat "$D/err")"
row() { grep -E "$1" "$D/out"; }
tap_check "per model: m-o, 3 calls, 2+4+3 tokens in, 3+5+2 out, \$0.000029 stored" \
	row '^o/m-o +3 +9 +10 +\$0\.000029 +[0-9.]+s +'
tap_check "per model: m-a has no price: 3 calls (one failed), 6 in, 8 out, cost unknown" \
	row '^a/m-a +3 +6 +8 +unknown +[0-9.]+s +'
tap_check "per model: medians of x/med (ttft 0.20s, 20.0 tok/s), a partial cost marked +?" \
	row '^x/med +3 +600 +80 +\$0\.750000\+\? +0\.20s +20\.0$'
tap_check "per model: an even count takes the middle two (0.25s); a free model costs \$0" \
	row '^x/even +2 +3 +3 +\$0\.000000 +0\.25s +-$'
tap_check "per day: today's six calls" row "^$(date -u +%Y-%m-%d) +6 +15 +18 +\\\$0\\.000029\\+\\? *\$"
tap_check "per day: three days ago, without the reply 40 days old" \
	row "^$d3 +4 +602 +82 +\\\$0\\.750000\\+\\? *\$"
tap_check "per day: nothing from 40 days ago" bash -c "! grep -q '^$d40' '$D/out'"
tap_check "per session: the timed one" row "^ +$timed  timed +5 +603 +83 +\\\$0\\.750000\\+\\? *\$"
tap_check "per session: the first comparison" row '^ +1  tokens=3 one +2 +4 +6 +\$0\.000008\+\? *$'
tap_eq "per session: the 20 most recent" "20" \
	"$(awk '/^Recent sessions/{f=1; getline; next} f && NF' "$D/out" | grep -cE '^ +[0-9]+  ')"
tap_check "unknown costs are explained, not counted as 0" grep -q 'unknown, not \$0' "$D/out"

"$NATTER" metrics --json >"$D/j.json" 2>"$D/err"
tap_eq "--json: valid JSON" "1" "$(sqlite3 :memory: "SELECT json_valid(readfile('$D/j.json'))")"
q() { sqlite3 :memory: "SELECT $1 FROM json_each(readfile('$D/j.json'), '\$.$2') WHERE $3"; }
tap_eq "--json: m-o's figures" "3|9|10|2.9e-05|0" \
	"$(q "json_extract(value, '\$.calls'), json_extract(value, '\$.input_tokens'), json_extract(value, '\$.output_tokens'), json_extract(value, '\$.cost'), json_extract(value, '\$.cost_unknown_calls')" models "json_extract(value, '\$.model') = 'm-o'")"
tap_eq "--json: m-a's cost is null, with its 3 unknown calls" "1|3" \
	"$(q "json_type(value, '\$.cost') = 'null', json_extract(value, '\$.cost_unknown_calls')" models "json_extract(value, '\$.model') = 'm-a'")"
tap_eq "--json: x/med's medians" "200|20" \
	"$(q "json_extract(value, '\$.median_ttft_ms'), json_extract(value, '\$.median_tokens_per_second')" models "json_extract(value, '\$.model') = 'med'")"
tap_eq "--json: x/even has no rate" "null" \
	"$(q "json_type(value, '\$.median_tokens_per_second')" models "json_extract(value, '\$.model') = 'even'")"
tap_eq "--json: days and sessions" "2|20|4" \
	"$(sqlite3 :memory: "SELECT json_array_length(readfile('$D/j.json'), '\$.days'), json_array_length(readfile('$D/j.json'), '\$.sessions'), (SELECT json_extract(value, '\$.calls') FROM json_each(readfile('$D/j.json'), '\$.days') WHERE json_extract(value, '\$.day') = '$d3')")"

# One session: the /metrics table, its totals, and the stored totals.
"$NATTER" metrics 1 >"$D/out" 2>"$D/err"
tap_eq "metrics SESSION: exit 0" "0" "$?"
tap_check "metrics SESSION: one row per reply" \
	bash -c "grep -qE '^1 +o/m-o +[0-9.]+s +[0-9.-]+s? +2 +3 ' '$D/out' && grep -qE '^2 +a/m-a .* unknown$' '$D/out'"
tap_check "metrics SESSION: the session totals" grep -qE '^session: 2 replies .* 4 tokens in · 6 tokens out' "$D/out"
tap_check "metrics SESSION: the stored totals, the unpriced reply unknown" \
	grep -q '^stored: 2 replies · 4 tokens in · 6 tokens out · cost \$0.000008 + unknown (1 reply has no stored cost)$' "$D/out"
"$NATTER" metrics "$timed" --json >"$D/s.json"
tap_eq "metrics SESSION --json: every reply and the totals" "5|83|0.75|1|20" \
	"$(sqlite3 :memory: "SELECT json_array_length(readfile('$D/s.json'), '\$.replies'), json_extract(readfile('$D/s.json'), '\$.totals.output_tokens'), json_extract(readfile('$D/s.json'), '\$.totals.cost'), json_extract(readfile('$D/s.json'), '\$.totals.cost_unknown_calls'), json_extract(readfile('$D/s.json'), '\$.replies[1].tokens_per_second')")"
"$NATTER" metrics last >/dev/null 2>&1
tap_eq "metrics last works" "0" "$?"
"$NATTER" metrics 999 >/dev/null 2>"$D/err"
tap_eq "an unknown session exits 1" "1 1" "$? $(grep -c 'no session 999' "$D/err")"
"$NATTER" metrics --bogus >/dev/null 2>&1
tap_eq "an unknown option exits 2" "2" "$?"
