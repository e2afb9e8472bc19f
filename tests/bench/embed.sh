#!/bin/sh
# Embeddings benchmark (figures, not pass/fail), against the release fake server:
# `natter embed --batch` of 10,000 lines (OpenAI protocol, so five requests of at most 2048
# texts, four at a time) to /dev/null, in texts per second from the median of several
# runs (hyperfine), next to curl sending the same five request bodies, four at a time
# (curl --parallel), which reads the answers and prints nothing. Run once with the fake
# server's 8-number vectors and once with 256 numbers (--dimensions 256), where decoding
# and printing the numbers is most of the work.
# Target: natter embed >= 5,000 texts/s.
#   sh tests/bench/embed.sh BUILD_DIR      (make bench builds everything first)
set -eu
B=${1:-build/release}
NATTER=$B/natter
FS=$B/fakeserver
LINES=${BENCH_LINES:-10000}
RUNS=${BENCH_RUNS:-10}
KEY=sk-bench-not-a-real-key
for f in "$NATTER" "$FS"; do
	[ -x "$f" ] || { echo "embed.sh: $f is missing (run make bench)" >&2; exit 1; }
done
for t in hyperfine curl jq; do
	command -v "$t" >/dev/null || { echo "embed.sh: $t is not installed" >&2; exit 1; }
done

. "$(dirname "$0")/lib.sh"
bench_start embed.sh "$FS" "$KEY"
URL=http://127.0.0.1:$PORT/v1

# The texts, and the request bodies natter sends for them (2048 texts each).
seq 1 "$LINES" | sed 's/.*/n=& a line of text to embed, number &, with a few words more/' \
	>"$TMP/lines.txt"

# bodies DIMS: write the curl request bodies and the curl command for them.
bodies() {
	rm -f "$TMP"/body.*
	jq -R -s -c --argjson d "$1" 'split("\n")[:-1] | [range(0; length; 2048) as $i | .[$i:$i + 2048]]
		| .[] | {model: "text-embedding-3-small", input: ., encoding_format: "float"}
		+ (if $d > 0 then {dimensions: $d} else {} end)' "$TMP/lines.txt" |
		split -l 1 - "$TMP/body."
	CURL="curl -s --parallel --parallel-max 4"
	first=1
	for b in "$TMP"/body.*; do
		[ $first -eq 1 ] || CURL="$CURL --next"
		first=0
		CURL="$CURL $URL/embeddings -H 'Authorization: Bearer $KEY' -H 'Content-Type: application/json' --data-binary @$b -o /dev/null"
	done
}

# rate SECONDS: texts per second.
rate() {
	awk -v s="$1" -v n="$LINES" 'BEGIN { if (s > 0) printf "%.0f", n / s; else print "inf" }'
}

for dims in 0 256; do
	bodies "$dims"
	DOPT=
	[ "$dims" -gt 0 ] && DOPT="--dimensions $dims"
	EMBED="OPENAI_API_KEY=$KEY $NATTER embed -m text-embedding-3-small --base-url $URL $DOPT --batch $TMP/lines.txt --format jsonl >/dev/null"
	# A run that fails must not be timed as a fast one.
	sh -c "OPENAI_API_KEY=$KEY $NATTER embed -m text-embedding-3-small --base-url $URL $DOPT --batch $TMP/lines.txt --format jsonl" >"$TMP/out.jsonl"
	got=$(wc -l <"$TMP/out.jsonl" | tr -d ' ')
	[ "$got" -eq "$LINES" ] || { echo "embed.sh: natter printed $got vectors, not $LINES" >&2; exit 1; }
	echo "== $LINES texts, $( [ "$dims" -gt 0 ] && echo "$dims" || echo 8) numbers each: curl (same 5 requests, 4 at a time) vs natter embed --batch"
	hyperfine --warmup 2 --runs "$RUNS" --style basic --export-json "$TMP/e.json" \
		--export-markdown "$TMP/e.md" -n curl "$CURL" -n "natter embed" "$EMBED"
	cat "$TMP/e.md"
	c=$(bench_median "$TMP/e.json" 1)
	n=$(bench_median "$TMP/e.json" 2)
	echo "median: curl ${c}s ($(rate "$c") texts/s), natter ${n}s ($(rate "$n") texts/s)"
	echo "natter embed: $(rate "$n") texts/s (target >= 5000)"
done
