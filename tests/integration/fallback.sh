#!/usr/bin/env bash
# Model fallbacks end to end: model A on a provider that is overloaded (529 after its
# retries), down (a closed port) or has no key falls back to model B, says so on stderr and
# B's answer is on stdout; no fallback once a token has arrived, and none after Ctrl+C.
# Which model answered is read from the fake server's log (the request body names it).
set -u
. "$TESTS/integration/lib.sh"

isolated_home
unset NATTER_MODEL NATTER_PROVIDER NATTER_MAX_RETRIES
KEY=sk-fallback-KEY-31337
export FB_KEY=$KEY
LOG=$LIB_TMP/fs.log
fs_start --key "$KEY" || exit 0
dead_pid=$FS_PID
live_url=$FS_URL
fs_start --key "$KEY" || exit 0
dead=$FS_URL
fs_stop
FS_PID=$dead_pid
FS_URL=$live_url
fs_stop
fs_start --key "$KEY" --log "$LOG" || exit 0

mkdir -p "$XDG_CONFIG_HOME/natter"
cat >"$XDG_CONFIG_HOME/natter/natter.yaml" <<EOF
providers:
  busy:
    protocol: anthropic
    base_url: $FS_URL/v1
    key_env: FB_KEY
    max_retries: 0
  down:
    protocol: openai
    base_url: $dead/v1
    key_env: FB_KEY
    max_retries: 0
  up:
    protocol: openai
    base_url: $FS_URL/v1
    key_env: FB_KEY
  nokey:
    protocol: openai
    base_url: $FS_URL/v1
    key_env: FB_MISSING_KEY
models:
  model-a:
    provider: busy
    fallback: [model-b]
  model-down:
    provider: down
    fallback: [model-b]
  model-b:
    provider: up
  model-c:
    provider: nokey
    fallback: [model-b]
  model-lone:
    provider: busy
EOF
OUT=$LIB_TMP/out
ERR=$LIB_TMP/err

ask() {
	"$NATTER" ask "$@" >"$OUT" 2>"$ERR" </dev/null
	RC=$?
}
expect() {
	local d=$1
	shift
	if "$@"; then
		tap_ok "$d"
	else
		tap_fail "$d" "rc=$RC" "stdout: $(head -c 400 "$OUT")" "stderr: $(head -c 600 "$ERR")"
	fi
}
has_err() { grep -q -- "$1" "$ERR"; }
# last_models N: the model of each of the last N chat requests, space-separated.
last_models() { tail -n "$1" "$LOG" | grep -o '"model":"[^"]*"' | cut -d'"' -f4 | tr '\n' ' '; }

ask -m model-a "status=529 fail_times=1 id=fb1 tokens=3"
expect "A overloaded (529): falls back to B, says so, B's answer on stdout" \
	eval 'test "$RC" -eq 0 && test "$(cat "$OUT")" = "w1 w2 w3" &&
	has_err "natter: model-a failed (overloaded, HTTP 529); falling back to model-b"'
tap_eq "the server saw A, then B" "model-a model-b " "$(last_models 2)"

ask -m model-down "tokens=2"
expect "A's provider down (connection refused): falls back to B" \
	eval 'test "$RC" -eq 0 && test "$(cat "$OUT")" = "w1 w2" &&
	has_err "model-down failed (connection); falling back to model-b"'

ask -m model-c "tokens=2"
expect "A's provider has no key: falls back to B before sending, saying why" \
	eval 'test "$RC" -eq 0 && test "$(cat "$OUT")" = "w1 w2" &&
	has_err "model-c: no usable key for nokey (no key; set FB_MISSING_KEY); falling back to model-b"'

ask -m model-lone "status=529"
expect "no fallback list: the error itself, exit 1" \
	eval 'test "$RC" -eq 1 && has_err "overloaded (529)" && ! has_err "falling back"'

n=$(wc -l <"$LOG")
ask -m model-a "fault=error_mid tokens=6"
expect "an error after the first token: no fallback, partial reply kept" \
	eval 'test "$RC" -eq 1 && grep -q "^w1" "$OUT" && ! has_err "falling back"'
tap_eq "after the first token only A was asked" 1 $(($(wc -l <"$LOG") - n))

"$NATTER" ask -m model-a "tokens=400 delay_ms=20" >"$OUT" 2>"$ERR" </dev/null &
pid=$!
for _ in $(seq 1 100); do
	grep -q w5 "$OUT" 2>/dev/null && break
	sleep 0.05
done
kill -INT "$pid"
wait "$pid"
RC=$?
expect "cancelled with Ctrl+C: no fallback, exit 130" \
	eval 'test "$RC" -eq 130 && has_err "natter: cancelled" && ! has_err "falling back"'
