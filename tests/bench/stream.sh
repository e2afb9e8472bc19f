#!/bin/sh
# Streaming benchmarks (figures, not pass/fail), all against the release fake server:
#   (a) curl -sN versus natter ask (storing its session, and --no-save) on one 20,000-token
#       OpenAI-protocol stream to /dev/null: wall time and peak RSS, medians of rounds that
#       interleave the commands (tests/bench/bench_run.c);
#   (b) natter --version versus curl --version (start-up cost);
#   (c) 8 concurrent 20,000-token streams through ONE worker versus one stream
#       (build/release/bench_worker, a small driver linked with natter's library objects);
#   (e) natter compare with 4 models (one per protocol) streaming 20,000 tokens each versus
#       the slowest of the four single natter ask runs, both storing their sessions
#       (interleaved rounds too).
# Targets: ask ≤ 1.3× curl wall, RSS ≤ 1.2× curl, --version no slower than curl's,
# 8 streams ≤ 2× one (paced like a fast provider; the unpaced figure is printed too),
# compare of 4 ≤ 1.5× the slowest single ask.
#   sh tests/bench/stream.sh BUILD_DIR      (make bench builds everything first)
set -eu
B=${1:-build/release}
NATTER=$B/natter
FS=$B/fakeserver
BW=$B/bench_worker
BR=$B/bench_run
TOKENS=${BENCH_TOKENS:-20000}
RUNS=${BENCH_RUNS:-20}
KEY=sk-bench-not-a-real-key
for f in "$NATTER" "$FS" "$BW" "$BR"; do
	[ -x "$f" ] || { echo "stream.sh: $f is missing (run make bench)" >&2; exit 1; }
done
command -v hyperfine >/dev/null || { echo "stream.sh: hyperfine is not installed" >&2; exit 1; }

TMP=$(mktemp -d "${TMPDIR:-/tmp}/natter-bench.XXXXXX")
FS_PID=
cleanup() {
	[ -n "$FS_PID" ] && kill "$FS_PID" 2>/dev/null
	rm -rf "$TMP"
}
trap cleanup EXIT INT TERM

"$FS" --key "$KEY" --max-seconds 900 >"$TMP/fs.out" 2>"$TMP/fs.err" &
FS_PID=$!
PORT=
i=0
while [ $i -lt 200 ] && [ -z "$PORT" ]; do
	PORT=$(awk '$1 == "PORT" { print $2; exit }' "$TMP/fs.out")
	[ -n "$PORT" ] || sleep 0.05
	i=$((i + 1))
done
[ -n "$PORT" ] || { echo "stream.sh: fakeserver did not start" >&2; exit 1; }
URL=http://127.0.0.1:$PORT

BODY="{\"model\":\"m\",\"stream\":true,\"stream_options\":{\"include_usage\":true},\"messages\":[{\"role\":\"user\",\"content\":\"tokens=$TOKENS\"}]}"
CURL_CMD="curl -sN $URL/v1/chat/completions -H 'Authorization: Bearer $KEY' -H 'Content-Type: application/json' -d '$BODY' -o /dev/null"

# median FILE N: the median (seconds) of the N-th command in a hyperfine JSON export.
median() {
	grep -o '"median": *[0-9.e+-]*' "$1" | sed -n "${2}p" | sed 's/.*: *//'
}

# ratio A B: A/B with two decimals.
ratio() {
	awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "inf" }'
}

# The natter runs store into their own database (never the user's), made before the first
# round; before each run, the timer waits until no natter is left folding a write-ahead log
# in the background, so that no command is timed against one.
DB=$TMP/stream.db
# shellcheck disable=SC2016
SETTLE='i=0; while [ $i -lt 200 ] && pgrep -f "^[^ ]*natter (ask|compare) " >/dev/null; do sleep 0.02; i=$((i + 1)); done'
# bench_med FILE NAME FIELD: a median bench_run printed (2: seconds, 3: KiB).
bench_med() {
	awk -v n="$2" -v f="$3" '$1 == "median" && $2 == n { print $(f + 1) }' "$1"
}

echo "== (a) one $TOKENS-token stream: curl -sN vs natter ask, $RUNS interleaved rounds"
ASK="env OPENAI_API_KEY=$KEY NATTER_DB=$DB $NATTER ask -p openai -m m --base-url $URL/v1"
$ASK tokens=1 >/dev/null
"$BR" -r "$RUNS" -w 2 -s "$SETTLE" curl "$CURL_CMD" ask "$ASK tokens=$TOKENS" \
	ask-no-save "$ASK --no-save tokens=$TOKENS" | tee "$TMP/a.txt" | grep -v '^median '
c=$(bench_med "$TMP/a.txt" curl 2)
n=$(bench_med "$TMP/a.txt" ask 2)
s=$(bench_med "$TMP/a.txt" ask-no-save 2)
rc=$(bench_med "$TMP/a.txt" curl 3)
rn=$(bench_med "$TMP/a.txt" ask 3)
rs=$(bench_med "$TMP/a.txt" ask-no-save 3)
echo "wall median: curl ${c}s, natter ask ${n}s (storing the session), --no-save ${s}s"
echo "ratio natter/curl wall: $(ratio "$n" "$c") (target <= 1.30); --no-save: $(ratio "$s" "$c")"
echo "peak RSS: curl ${rc} KiB, natter ${rn} KiB, --no-save ${rs} KiB"
echo "ratio natter/curl RSS: $(ratio "$rn" "$rc") (target <= 1.20); --no-save: $(ratio "$rs" "$rc")"

echo "== (b) start-up: natter --version vs curl --version, 50 interleaved rounds"
"$BR" -r 50 -w 3 curl "curl --version" natter "$NATTER --version" | tee "$TMP/b.txt" |
	grep -v '^median '
c=$(bench_med "$TMP/b.txt" curl 2)
n=$(bench_med "$TMP/b.txt" natter 2)
echo "ratio natter/curl --version: $(ratio "$n" "$c") (target <= 1.00)"

echo "== (c) 8 concurrent $TOKENS-token streams through one worker vs 1"
hyperfine -N --warmup 1 --runs "$RUNS" --style basic --export-json "$TMP/c.json" \
	--export-markdown "$TMP/c.md" \
	-n "1 stream" "$BW $URL/v1 $KEY 1 $TOKENS" -n "8 streams" "$BW $URL/v1 $KEY 8 $TOKENS"
cat "$TMP/c.md"
one=$(median "$TMP/c.json" 1)
eight=$(median "$TMP/c.json" 2)
echo "ratio 8 streams/1 stream, unpaced: $(ratio "$eight" "$one") (CPU-bound: 8x the decoding on one thread)"
# Real providers pace their tokens; a fast one streams ~20,000 tokens/s. Paced like that,
# the figure shows whether the worker multiplexes streams or serialises them.
PACE="delay_ms=1 burst=20"
hyperfine -N --warmup 1 --runs "$RUNS" --style basic --export-json "$TMP/p.json" \
	--export-markdown "$TMP/p.md" \
	-n "1 paced stream" "$BW $URL/v1 $KEY 1 $TOKENS '$PACE'" \
	-n "8 paced streams" "$BW $URL/v1 $KEY 8 $TOKENS '$PACE'"
cat "$TMP/p.md"
pone=$(median "$TMP/p.json" 1)
peight=$(median "$TMP/p.json" 2)
echo "ratio 8 streams/1 stream, paced at ~20,000 tokens/s: $(ratio "$peight" "$pone") (target <= 2.00)"
# The fake server shares the machine: 8 parallel curl processes against it show how much of
# the 8-stream time is the server's own work rather than natter's worker.
CURL8="for i in 1 2 3 4 5 6 7 8; do $CURL_CMD & done; wait"
hyperfine --warmup 1 --runs "$RUNS" --style basic --export-json "$TMP/d.json" \
	-n "1 curl" "$CURL_CMD" -n "8 parallel curls" "$CURL8" >/dev/null
c1=$(median "$TMP/d.json" 1)
c8=$(median "$TMP/d.json" 2)
echo "reference: 8 parallel curls/1 curl: $(ratio "$c8" "$c1") (the server-bound floor on this machine)"
echo "8 streams through one worker vs 8 parallel curls: $(ratio "$eight" "$c8")"

echo "== (e) natter compare of 4 models vs the slowest single natter ask, $TOKENS tokens each"
cat >"$TMP/cmp.yaml" <<YAML
providers:
  o: {protocol: openai, base_url: '$URL/v1', key: $KEY}
  a: {protocol: anthropic, base_url: '$URL/v1', key: $KEY}
  g: {protocol: gemini, base_url: '$URL/v1beta', key: $KEY}
  l: {protocol: ollama, base_url: '$URL', key: $KEY}
models:
  m-o: {provider: o, id: m-o}
  m-a: {provider: a, id: m-a}
  m-g: {provider: g, id: m-g}
  m-l: {provider: l, id: m-l}
YAML
chmod 600 "$TMP/cmp.yaml"
ENVS="env NATTER_CONFIG=$TMP/cmp.yaml NATTER_DB=$DB"
"$BR" -r "$RUNS" -w 1 -s "$SETTLE" \
	ask-m-o "$ENVS $NATTER ask -m m-o tokens=$TOKENS" \
	ask-m-a "$ENVS $NATTER ask -m m-a tokens=$TOKENS" \
	ask-m-g "$ENVS $NATTER ask -m m-g tokens=$TOKENS" \
	ask-m-l "$ENVS $NATTER ask -m m-l tokens=$TOKENS" \
	compare-4 "$ENVS $NATTER compare -m m-o -m m-a -m m-g -m m-l tokens=$TOKENS" |
	tee "$TMP/e.txt" | grep -v '^median '
slow=$(for k in m-o m-a m-g m-l; do bench_med "$TMP/e.txt" "ask-$k" 2; done | sort -g | tail -n 1)
c4=$(bench_med "$TMP/e.txt" compare-4 2)
echo "ratio compare of 4/slowest single ask: $(ratio "$c4" "$slow") (target <= 1.50)"
