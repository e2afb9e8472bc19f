#!/usr/bin/env bash
# Bounded resources and time for `natter ask` against the fake server: a stream line over
# max_line ends the reply as truncated with a message and peak memory stays bounded; a
# server that sends only keep-alive comments meets the first-token or the idle deadline
# (both configurable, both counting tokens, not bytes); retry_total stops retries; a
# malformed event is skipped with a warning in every protocol, lone surrogates and U+0000
# become U+FFFD; and config files that are too deep or too large are refused at once.
set -u
. "$TESTS/integration/lib.sh"

isolated_home
KEY=sk-natter-BOUNDS-4242
export OPENAI_API_KEY=$KEY ANTHROPIC_API_KEY=$KEY GEMINI_API_KEY=$KEY OLLAMA_API_KEY=$KEY
unset NATTER_MODEL NATTER_PROVIDER NATTER_IDLE_TIMEOUT_MS NATTER_MAX_RETRIES \
	NATTER_FIRST_TOKEN_TIMEOUT_MS
fs_start --key "$KEY" || exit 0
OUT=$LIB_TMP/out
ERR=$LIB_TMP/err
CONF=$XDG_CONFIG_HOME/natter/natter.yaml
mkdir -p "$XDG_CONFIG_HOME/natter"

# ask ARGS...: run natter ask (at most 20 s); stdout in $OUT, stderr in $ERR, status in
# $RC, wall time in $MS, peak resident memory in $KB.
ask() {
	local t0
	t0=$(date +%s%N)
	/usr/bin/time -f '%M' -o "$LIB_TMP/rss" timeout 20 "$NATTER" ask "$@" >"$OUT" 2>"$ERR" </dev/null
	RC=$?
	MS=$((($(date +%s%N) - t0) / 1000000))
	KB=$(tail -n 1 "$LIB_TMP/rss")
}

# base PROTO: the --base-url for a protocol on the fake server.
base() {
	case $1 in
	openai | anthropic) echo "$FS_URL/v1" ;;
	gemini) echo "$FS_URL/v1beta" ;;
	ollama) echo "$FS_URL" ;;
	esac
}

# expect DESC COND...: ok when the shell condition holds; shows outputs otherwise.
expect() {
	local d=$1
	shift
	if "$@"; then
		tap_ok "$d"
	else
		tap_fail "$d" "rc=$RC ms=$MS rss=${KB}kB" "stdout: $(head -c 300 "$OUT")" \
			"stderr: $(head -c 600 "$ERR")"
	fi
}

has_err() { grep -q -- "$1" "$ERR"; }

# ---- A line over the cap ----------------------------------------------------------------
# 96 MiB in one line: without a cap natter held it (and copies of it) in memory.
for p in openai ollama; do
	ask -p "$p" -m m --base-url "$(base "$p")" "tokens=6 fault=long_line line_mb=96"
	expect "$p: a 96 MiB line ends the reply as truncated, saying why, exit 1" \
		eval 'test "$RC" -eq 1 && test "$(cat "$OUT")" = "w1 w2 w3" &&
		has_err "truncated reply" && has_err "longer than 16 MiB (max_line)"'
	expect "$p: peak memory stays bounded (${KB} kB < 100 MB), the rest is not read (${MS} ms)" \
		test "$KB" -lt 100000 -a "$MS" -lt 10000
done
printf 'providers:\n  anthropic:\n    max_line: 1\n' >"$CONF"
ask -p anthropic -m m --base-url "$FS_URL/v1" "tokens=6 fault=huge_line"
huge_rc=$RC huge_bytes=$(wc -c <"$OUT")
ask -p anthropic -m m --base-url "$FS_URL/v1" "tokens=6 fault=long_line line_mb=8"
expect "max_line: 1 caps a line at 1 MiB, and still takes one of 200 KB" \
	eval 'test "$RC" -eq 1 && test "$(cat "$OUT")" = "w1 w2 w3" && has_err "longer than 1 MiB" &&
	test "$huge_rc" -eq 0 -a "$huge_bytes" -gt 200000'
rm -f "$CONF"

# ---- Deadlines: tokens count, keep-alive comments do not --------------------------------
ask -p openai -m m --base-url "$FS_URL/v1" --first-token-timeout 600 \
	"tokens=0 fault=comments"
expect "only keep-alive comments: --first-token-timeout ends the wait, retried twice, exit 1" \
	eval 'test "$RC" -eq 1 && has_err "no token from the server within 0.6 s" &&
	has_err first_token_timeout && test "$(grep -c retrying "$ERR")" -eq 2 && test "$MS" -lt 8000'
cat >"$CONF" <<YAML
providers:
  anthropic:
    first_token_timeout: 0.5
    max_retries: 0
  gemini:
    idle_timeout: 1
YAML
ask -p anthropic -m m --base-url "$FS_URL/v1" "tokens=0 fault=comments"
expect "first_token_timeout in natter.yaml: a timeout error after 0.5 s (${MS} ms)" \
	eval 'test "$RC" -eq 1 && has_err "timeout" && has_err first_token_timeout &&
	test ! -s "$OUT" && test "$MS" -lt 4000'
ask -p gemini -m m --base-url "$FS_URL/v1beta" "tokens=6 fault=comments"
expect "comments after the first tokens: idle_timeout ends it, partial reply kept (${MS} ms)" \
	eval 'test "$RC" -eq 1 && test "$(cat "$OUT")" = "w1 w2 w3" && has_err "truncated reply" &&
	has_err "no token from the server for 1 s (idle_timeout)" && test "$MS" -lt 5000'
NATTER_IDLE_TIMEOUT_MS=500 ask -p ollama -m m --base-url "$FS_URL" "tokens=6 fault=comments"
expect "NDJSON keep-alives (blank lines) do not reset the idle deadline either" \
	eval 'test "$RC" -eq 1 && test "$(cat "$OUT")" = "w1 w2 w3" && has_err idle_timeout'
rm -f "$CONF"

# ---- retry_total ------------------------------------------------------------------------
cat >"$CONF" <<YAML
providers:
  openai:
    max_retries: 4
    retry_total: 1.5
YAML
ask -p openai -m m --base-url "$FS_URL/v1" "status=503 retry_after=1 tokens=2"
expect "retry_total 1.5 s: one retry after 1 s, then none, and the error says why" \
	eval 'test "$RC" -eq 1 && test "$(grep -c retrying "$ERR")" -eq 1 &&
	has_err "not retried: retries stop 1.5 s after the first attempt, retry_total" &&
	test "$MS" -lt 6000'
rm -f "$CONF"

# ---- One rule for malformed events, surrogates and NUL ----------------------------------
for p in openai anthropic gemini ollama; do
	ask -p "$p" -m m --base-url "$(base "$p")" "tokens=6 fault=malformed"
	expect "$p: a malformed event is skipped, the reply goes on, exit 0 with a warning" \
		eval 'test "$RC" -eq 0 && test "$(cat "$OUT")" = "w1 w2 w3 w4 w5 w6" &&
		has_err "natter: warning: skipped a malformed event from the provider (not JSON: "'
	ask -p "$p" -m m --base-url "$(base "$p")" "tokens=4 fault=escapes"
	expect "$p: lone surrogates and U+0000 become U+FFFD, nothing is cut off" \
		eval 'test "$RC" -eq 0 && test "$(cat "$OUT")" = "w1 w2<�|�|�> w3 w4" && test ! -s "$ERR"'
done

# ---- Config files too deep or too large -------------------------------------------------
python3 -c 'import sys; sys.stdout.write("x: " + "[" * 100000 + "]" * 100000 + "\n")' >"$LIB_TMP/deep.yaml"
t0=$(date +%s%N)
out=$(timeout 60 "$NATTER" config check "$LIB_TMP/deep.yaml" 2>&1)
ms=$((($(date +%s%N) - t0) / 1000000))
expect "a 100,000-deep file is refused with file:line:col in ${ms} ms" \
	eval 'printf "%s\n" "$out" | grep -q "deep.yaml:1:67: nested more than 64 levels deep" &&
	test "$ms" -lt 2000'
head -c 5000000 /dev/zero | tr '\0' '#' >"$LIB_TMP/huge.yaml"
out=$(timeout 60 "$NATTER" config check "$LIB_TMP/huge.yaml" 2>&1)
expect "a 5 MB file is refused with its name" \
	eval 'printf "%s\n" "$out" | grep -q "huge.yaml:1:1: larger than 4 MiB"'
