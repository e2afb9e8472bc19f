#!/bin/sh
# Attachment benchmark (a figure, not pass/fail), against the release fake server: a 20 MB
# image attached to `natter ask` (read, typed by libmagic, hashed, base64-encoded once into
# the request body and handed to libcurl, the session and the file stored in a fresh
# database each run) versus curl uploading the same request body, already built, from a
# file. Both get the same one-token reply. hyperfine medians; the ratio is printed.
# Target: natter ask <= 1.5x curl. The same natter ask without storing is printed too.
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
command -v hyperfine >/dev/null || { echo "attach.sh: hyperfine is not installed" >&2; exit 1; }
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

CURL_CMD="curl -sN $URL/v1/chat/completions -H 'Authorization: Bearer $KEY' -H 'Content-Type: application/json' -H 'Expect:' --data-binary @$TMP/body.json -o /dev/null"
ASK_CMD="$NATTER ask -m m -a $TMP/image.png tokens=1 >/dev/null"
NOSAVE_CMD="$NATTER ask -m m --no-save -a $TMP/image.png tokens=1 >/dev/null"

# ratio A B: A/B with two decimals.
ratio() {
	awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "inf" }'
}

echo "== a $SIZE-byte image: curl uploading the base64 body vs natter ask -a"
# Every run starts from an empty database, so natter stores the 20 MB file each time.
hyperfine --warmup 2 --runs "$RUNS" --style basic --export-json "$TMP/a.json" \
	--export-markdown "$TMP/a.md" --prepare "rm -f $NATTER_DB $NATTER_DB-wal $NATTER_DB-shm" \
	-n curl "$CURL_CMD" -n "natter ask -a (stored)" "$ASK_CMD" \
	-n "natter ask -a --no-save" "$NOSAVE_CMD"
cat "$TMP/a.md"
c=$(bench_median "$TMP/a.json" 1)
n=$(bench_median "$TMP/a.json" 2)
s=$(bench_median "$TMP/a.json" 3)
echo "wall median: curl ${c}s, natter ask -a ${n}s, without storing ${s}s"
echo "ratio natter/curl: $(ratio "$n" "$c") (target <= 1.50); without storing: $(ratio "$s" "$c")"
