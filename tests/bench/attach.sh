#!/bin/sh
# Attachment benchmark (a figure, not pass/fail), against the release fake server: a 20 MB
# image attached to `natter ask` (read, typed by libmagic, hashed, base64-encoded once into
# the request body as libcurl sends it, the session and the file stored in a store with
# no sessions each run) versus curl uploading the same request body, already built, from a
# file. Both get the same one-token reply. Medians of interleaved rounds; the ratio is
# printed. Target: natter ask <= 1.5x curl. natter ask without storing is printed too.
#   sh tests/bench/attach.sh BUILD_DIR      (make bench builds everything first)
set -eu
B=${1:-build/release}
NATTER=$B/natter
FS=$B/fakeserver
RUNS=${BENCH_RUNS:-15}
SIZE=${BENCH_ATTACH_BYTES:-20000000}
KEY=sk-bench-not-a-real-key
for f in "$NATTER" "$FS"; do
	[ -x "$f" ] || { echo "attach.sh: $f is missing (run make bench)" >&2; exit 1; }
done
command -v python3 >/dev/null || { echo "attach.sh: python3 is not installed" >&2; exit 1; }

. "$(dirname "$0")/lib.sh"
bench_start attach.sh "$FS" "$KEY"

# The image: a PNG signature and header, then random bytes (libmagic reads the head).
# The body: what natter sends for it (checked below against the fake server's log).
python3 - "$TMP" "$SIZE" <<'PY'
import base64, json, os, sys
tmp, size = sys.argv[1], int(sys.argv[2])
head = b'\x89PNG\r\n\x1a\n\x00\x00\x00\x0dIHDR\x00\x00\x10\x00\x00\x00\x10\x00\x08\x02\x00\x00\x00'
data = head + os.urandom(size - len(head))
open(tmp + '/image.png', 'wb').write(data)
body = {"model": "m", "messages": [{"role": "user", "content": [
    {"type": "text", "text": "tokens=1"},
    {"type": "image_url", "image_url": {"url": "data:image/png;base64," +
                                        base64.b64encode(data).decode()}}]}],
    "stream": True, "stream_options": {"include_usage": True}}
open(tmp + '/body.json', 'w').write(json.dumps(body, separators=(',', ':')))
PY
mkdir -p "$TMP/config/natter"
cat >"$TMP/config/natter/natter.yaml" <<EOF
providers:
  bench: {protocol: openai, base_url: '$URL/v1', key: $KEY}
models:
  m: {provider: bench, input: [text, image]}
EOF
chmod 600 "$TMP/config/natter/natter.yaml"
export XDG_CONFIG_HOME="$TMP/config" NATTER_DB="$TMP/natter.db"

# The body natter sends must be the one curl uploads, or the comparison means nothing.
: >"$TMP/fs2.out"
"$FS" --key "$KEY" --max-seconds 60 --log "$TMP/log" >"$TMP/fs2.out" 2>/dev/null &
P2=$!
i=0
PORT2=
while [ $i -lt 200 ] && [ -z "$PORT2" ]; do
	PORT2=$(awk '$1 == "PORT" { print $2; exit }' "$TMP/fs2.out")
	[ -n "$PORT2" ] || sleep 0.05
	i=$((i + 1))
done
"$NATTER" ask -m m --no-save --base-url "http://127.0.0.1:$PORT2/v1" -a "$TMP/image.png" \
	tokens=1 >/dev/null
kill "$P2" 2>/dev/null
if ! cut -f 4 "$TMP/log" | tail -n 1 | tr -d '\n' | cmp -s - "$TMP/body.json"; then
	echo "attach.sh: natter's body differs from the reference body" >&2
	cut -f 4 "$TMP/log" | tail -n 1 | head -c 300 >&2; echo >&2; head -c 300 "$TMP/body.json" >&2; echo >&2
	exit 1
fi

# One round: curl, natter storing, natter not storing, in an order that turns each round,
# timed by the shell's clock; the medians over RUNS rounds. Interleaving keeps a change in
# the machine's load (the benchmarks share it) from landing on one command's runs only.
# Every stored run starts from the same store, made once with its schema and no sessions,
# so the file is stored each time, as a first attachment of that file is; natter then
# folds the large write-ahead log into the database in the background, niced, and the next
# round waits for that to end, so no command is timed against it.
"$NATTER" ask -m m --no-save tokens=1 >/dev/null
"$NATTER" sessions >/dev/null
cp "$NATTER_DB" "$TMP/template.db"
now_us() { date +%s%N | cut -c1-16; }
# run NAME CMD...: time one command into $TMP/t.NAME.
run() {
	_n=$1
	shift
	_s=$(now_us)
	"$@" >/dev/null 2>&1 || { echo "attach.sh: $_n failed" >&2; exit 1; }
	echo $(($(now_us) - _s)) >>"$TMP/t.$_n"
}
# settle: wait (up to 10 s) until no natter is folding the log.
settle() {
	_i=0
	while [ $_i -lt 200 ] && pgrep -f "natter ask -m m -a" >/dev/null 2>&1; do
		sleep 0.05
		_i=$((_i + 1))
	done
	_i=0
	while [ $_i -lt 200 ] && [ -s "$NATTER_DB-wal" ] && [ "$(stat -c %s "$NATTER_DB-wal")" -gt 0 ]; do
		sleep 0.05
		_i=$((_i + 1))
	done
}
curl_run() {
	run curl curl -sN "$URL/v1/chat/completions" -H "Authorization: Bearer $KEY" \
		-H 'Content-Type: application/json' -H 'Expect:' --data-binary "@$TMP/body.json" \
		-o /dev/null
}
stored_run() {
	settle
	rm -f "$NATTER_DB" "$NATTER_DB-wal" "$NATTER_DB-shm"
	cp "$TMP/template.db" "$NATTER_DB"
	run stored "$NATTER" ask -m m -a "$TMP/image.png" tokens=1
	settle
}
nosave_run() {
	run nosave "$NATTER" ask -m m --no-save -a "$TMP/image.png" tokens=1
}
# median NAME: the median of $TMP/t.NAME in seconds.
median() {
	sort -n "$TMP/t.$1" | awk '{ v[NR] = $1 } END { m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2; printf "%.4f", m / 1e6 }'
}
# ratio A B: A/B with two decimals.
ratio() {
	awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "inf" }'
}

echo "== a $SIZE-byte image: curl uploading the base64 body vs natter ask -a ($RUNS rounds)"
curl_run; stored_run; nosave_run
rm -f "$TMP"/t.*
i=0
while [ $i -lt "$RUNS" ]; do
	case $((i % 3)) in
	0) curl_run; stored_run; nosave_run ;;
	1) stored_run; nosave_run; curl_run ;;
	*) nosave_run; curl_run; stored_run ;;
	esac
	i=$((i + 1))
done
c=$(median curl)
n=$(median stored)
s=$(median nosave)
echo "wall median: curl ${c}s, natter ask -a ${n}s, without storing ${s}s"
echo "ratio natter/curl: $(ratio "$n" "$c") (target <= 1.50); without storing: $(ratio "$s" "$c")"
