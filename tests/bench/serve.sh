#!/bin/sh
# natter serve benchmarks (figures, not pass/fail), against the release fake server:
#   (a) one 20,000-token OpenAI-protocol stream through natter serve to curl versus curl
#       fetching the fake server directly: wall time (hyperfine medians) and their ratio;
#   (b) the first byte: curl's time_starttransfer through serve minus directly (medians);
#   (c) 100 concurrent 2,000-token streams through serve, paced like a fast provider (about
#       1,000 tokens/s each), and again at 20,000 tokens/s (CPU-bound on a small machine):
#       total time versus one such stream, and natter serve's peak RSS (VmHWM).
# Targets: (a) <= 1.3x, (b) <= 2 ms, (c) all complete, <= 2x one stream, RSS <= 64 MB.
#   sh tests/bench/serve.sh BUILD_DIR      (make bench builds everything first)
set -eu
B=${1:-build/release}
NATTER=$B/natter
FS=$B/fakeserver
TOKENS=${BENCH_TOKENS:-20000}
RUNS=${BENCH_RUNS:-20}
KEY=sk-bench-not-a-real-key
for f in "$NATTER" "$FS"; do
	[ -x "$f" ] || { echo "serve.sh: $f is missing (run make bench)" >&2; exit 1; }
done
command -v hyperfine >/dev/null || { echo "serve.sh: hyperfine is not installed" >&2; exit 1; }

TMP=$(mktemp -d "${TMPDIR:-/tmp}/natter-bench.XXXXXX")
FS_PID=
SV_PID=
cleanup() {
	[ -n "$SV_PID" ] && kill "$SV_PID" 2>/dev/null
	[ -n "$FS_PID" ] && kill "$FS_PID" 2>/dev/null
	rm -rf "$TMP"
}
trap cleanup EXIT INT TERM

# wait_line FILE PATTERN: the first sed match of PATTERN in FILE, within 10 s.
wait_line() {
	i=0
	while [ $i -lt 200 ]; do
		v=$(sed -n "$2" "$1")
		[ -n "$v" ] && { echo "$v"; return 0; }
		sleep 0.05
		i=$((i + 1))
	done
	return 1
}

"$FS" --key "$KEY" --max-seconds 900 >"$TMP/fs.out" 2>"$TMP/fs.err" &
FS_PID=$!
FPORT=$(wait_line "$TMP/fs.out" 's/^PORT \([0-9]*\)/\1/p') || { echo "serve.sh: no fakeserver" >&2; exit 1; }
cat >"$TMP/n.yaml" <<YAML
providers:
  fo: {protocol: openai, base_url: 'http://127.0.0.1:$FPORT/v1', key: $KEY}
models:
  m: {provider: fo, id: m}
serve: {max_streams: 256}
YAML
chmod 600 "$TMP/n.yaml"
NATTER_CONFIG=$TMP/n.yaml NATTER_DB=$TMP/bench.db HOME=$TMP "$NATTER" serve \
	--listen 127.0.0.1:0 2>"$TMP/serve.err" &
SV_PID=$!
SPORT=$(wait_line "$TMP/serve.err" 's/.*listening on http:\/\/127\.0\.0\.1:\([0-9]*\).*/\1/p') ||
	{ echo "serve.sh: natter serve did not start" >&2; cat "$TMP/serve.err" >&2; exit 1; }

BODY="{\"model\":\"m\",\"stream\":true,\"messages\":[{\"role\":\"user\",\"content\":\"tokens=$TOKENS\"}]}"
DIRECT="curl -sN http://127.0.0.1:$FPORT/v1/chat/completions -H 'Authorization: Bearer $KEY' -H 'Content-Type: application/json' -d '$BODY' -o /dev/null"
SERVED="curl -sN http://127.0.0.1:$SPORT/v1/chat/completions -H 'Content-Type: application/json' -d '$BODY' -o /dev/null"

# median FILE N: the median (seconds) of the N-th command in a hyperfine JSON export.
median() {
	grep -o '"median": *[0-9.e+-]*' "$1" | sed -n "${2}p" | sed 's/.*: *//'
}
ratio() {
	awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "inf" }'
}

echo "== (a) one $TOKENS-token stream: curl direct vs curl through natter serve"
hyperfine --warmup 3 --runs "$RUNS" --style basic --export-json "$TMP/a.json" \
	--export-markdown "$TMP/a.md" -n direct "$DIRECT" -n "through serve" "$SERVED"
cat "$TMP/a.md"
d=$(median "$TMP/a.json" 1)
s=$(median "$TMP/a.json" 2)
echo "wall median: direct ${d}s, through serve ${s}s"
echo "ratio serve/direct wall: $(ratio "$s" "$d") (target <= 1.30)"

echo "== (b) first byte: time_starttransfer, medians of $RUNS"
fb() {
	for _ in $(seq 1 "$RUNS"); do
		sh -c "$1 -w '%{time_starttransfer}\n'" | tail -n 1
	done | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'
}
ONE="{\"model\":\"m\",\"stream\":true,\"messages\":[{\"role\":\"user\",\"content\":\"tokens=1\"}]}"
fd=$(fb "curl -sN http://127.0.0.1:$FPORT/v1/chat/completions -H 'Authorization: Bearer $KEY' -H 'Content-Type: application/json' -d '$ONE' -o /dev/null")
fs=$(fb "curl -sN http://127.0.0.1:$SPORT/v1/chat/completions -H 'Content-Type: application/json' -d '$ONE' -o /dev/null")
echo "first byte: direct ${fd}s, through serve ${fs}s"
echo "first byte added by serve: $(awk -v a="$fs" -v b="$fd" 'BEGIN { printf "%.2f", (a - b) * 1000 }') ms (target <= 2)"

# many_streams PACE RATE RUNS: 100 concurrent 2,000-token streams through serve, paced by
# the fake server's PACE (about RATE tokens/s each), against one such stream and against
# the same 100 straight to the fake server.
many_streams() {
	local pace=$1 rate=$2 runs=$3 one many direct done_n f
	echo "== (c) 100 concurrent 2,000-token streams through serve, paced (~$rate tokens/s each)"
	PACED="{\"model\":\"m\",\"stream\":true,\"messages\":[{\"role\":\"user\",\"content\":\"tokens=2000 $pace\"}]}"
	cat >"$TMP/many.sh" <<SH
i=0
while [ \$i -lt \${1:-100} ]; do
	curl -sN -o "$TMP/out.\$i" http://127.0.0.1:$SPORT/v1/chat/completions \
		-H 'Content-Type: application/json' -d '$PACED' &
	i=\$((i + 1))
done
wait
SH
	hyperfine --warmup 1 --runs "$runs" --style basic --export-json "$TMP/c.json" \
		--export-markdown "$TMP/c.md" -n "1 paced stream" "sh $TMP/many.sh 1" \
		-n "100 paced streams" "sh $TMP/many.sh 100"
	cat "$TMP/c.md"
	one=$(median "$TMP/c.json" 1)
	many=$(median "$TMP/c.json" 2)
	sed "s|127.0.0.1:$SPORT/v1/chat/completions|127.0.0.1:$FPORT/v1/chat/completions -H 'Authorization: Bearer $KEY'|" \
		"$TMP/many.sh" >"$TMP/many-direct.sh"
	hyperfine --warmup 1 --runs "$runs" --style basic --export-json "$TMP/d.json" \
		-n "100 paced streams direct" "sh $TMP/many-direct.sh 100" >/dev/null
	direct=$(median "$TMP/d.json" 1)
	echo "reference: 100 paced streams straight to the fake server: ${direct}s (100 curl processes"
	echo "and the fake server's threads on this machine's cores: the floor)"
	echo "ratio 100 streams through serve/direct: $(ratio "$many" "$direct")"
	done_n=0
	for f in "$TMP"/out.*; do
		tail -n 2 "$f" | grep -q '^data: \[DONE\]' && done_n=$((done_n + 1))
	done
	echo "streams complete in the last run: $done_n of 100"
	echo "ratio 100 streams/1 stream at ~$rate tokens/s: $(ratio "$many" "$one")$4"
}
# A fast hosted provider streams about 1,000 tokens/s (Groq, Cerebras); that is the target's
# pace. At 20,000 tokens/s each, 100 streams are 2 million tokens/s for one machine's cores
# to produce (the fake server) and carry (serve, curl): a CPU-bound figure, printed too.
many_streams "delay_ms=20 burst=20" 1000 3 " (target <= 2.00)"
many_streams "delay_ms=1 burst=20" 20000 5 " (CPU-bound: see the reference above)"
rss=$(awk '$1 == "VmHWM:" { print $2 }' "/proc/$SV_PID/status")
echo "natter serve peak RSS: $((rss / 1024)) MB ($rss KiB; target <= 64 MB)"
