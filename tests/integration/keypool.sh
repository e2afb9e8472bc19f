#!/usr/bin/env bash
# Key pools end to end: a config gives one openai-protocol provider two keys and points it
# at the fake server, which rate-limits one of them (--limit-key). natter must rotate to the
# other key and answer; with every key limited it must either wait (key_wait large enough,
# shown on stderr) or fail at once with a message saying when a key frees up. Everything is
# checked through `natter ask` output and the server's log. Pools share their rests
# between processes (keypool-state.sh tests that), so each scenario here has a database,
# and with it a key state, of its own (scenario NAME).
set -u
. "$TESTS/integration/lib.sh"

isolated_home
unset NATTER_MODEL NATTER_PROVIDER NATTER_MAX_RETRIES
GOOD=sk-pool-GOOD-40913
LIMITED=sk-pool-LIMITED-55120
LIMITED2=sk-pool-LIMITED-77342
LOG=$LIB_TMP/fs.log
fs_start --key "$GOOD" --limit-key "$LIMITED" --limit-key "$LIMITED2" --log "$LOG" || exit 0
OUT=$LIB_TMP/out
ERR=$LIB_TMP/err
ALL=$LIB_TMP/all
: >"$ALL"

# config FILE WAIT: a user config with the two-key provider "pooled" and its model "pm".
config() {
	cat >"$1" <<EOF
providers:
  pooled:
    protocol: openai
    base_url: $FS_URL/v1
    keys:
      - key_env: POOL_KEY_A
      - key_env: POOL_KEY_B
    key_wait: $2
    max_retries: 0
models:
  pm:
    provider: pooled
    id: pool-model
default_model: pm
EOF
}
mkdir -p "$XDG_CONFIG_HOME/natter"
config "$XDG_CONFIG_HOME/natter/natter.yaml" 0
config "$LIB_TMP/wait.yaml" 120

# ask ARGS...: run natter ask; stdout in $OUT, stderr in $ERR, status in $RC.
ask() {
	"$NATTER" ask "$@" >"$OUT" 2>"$ERR" </dev/null
	RC=$?
	cat "$OUT" "$ERR" >>"$ALL"
}

# expect DESC COND...: ok when the shell condition holds; shows outputs otherwise.
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
scenario() { export NATTER_DB=$LIB_TMP/$1.db; }
chats() { grep -c "chat/completions" "$LOG"; }

# The first key of the pool is rate-limited: natter rotates to the second and answers.
scenario rotate
before=$(chats)
POOL_KEY_A=$LIMITED POOL_KEY_B=$GOOD ask -m pm "tokens=3"
expect "429 on the first key: rotated to the second, reply on stdout" \
	eval 'test "$RC" -eq 0 && test "$(cat "$OUT")" = "w1 w2 w3" &&
	has_err "rate limit (429).*trying the next key of pooled" && ! has_err retrying'
tap_eq "rotation: exactly two requests reached the server" 2 $(($(chats) - before))

# The pool's default model answers without -m, and a healthy first key needs no rotation.
scenario healthy
POOL_KEY_A=$GOOD POOL_KEY_B=$LIMITED ask "tokens=2"
expect "a free first key: answered at once, nothing on stderr" \
	eval 'test "$RC" -eq 0 && test "$(cat "$OUT")" = "w1 w2" && ! test -s "$ERR"'

# Both keys limited and key_wait 0: a clear failure naming when a key frees up.
scenario all-limited
before=$(chats)
POOL_KEY_A=$LIMITED POOL_KEY_B=$LIMITED2 ask -m pm "tokens=3"
expect "every key limited, key_wait 0: fails at once with a clear message, exit 1" \
	eval 'test "$RC" -eq 1 && test ! -s "$OUT" &&
	has_err "all 2 keys for pooled are rate-limited; the first is free again in 60s"'
tap_eq "every key limited: each key was tried once" 2 $(($(chats) - before))

# Both keys limited and key_wait 120: natter waits (and says so); Ctrl+C ends the wait.
scenario wait
POOL_KEY_A=$LIMITED POOL_KEY_B=$LIMITED2 NATTER_CONFIG=$LIB_TMP/wait.yaml \
	"$NATTER" ask -m pm "tokens=3" >"$OUT" 2>"$ERR" </dev/null &
pid=$!
for _ in $(seq 1 100); do
	grep -q "waiting" "$ERR" 2>/dev/null && break
	sleep 0.05
done
kill -INT "$pid"
wait "$pid"
RC=$?
cat "$OUT" "$ERR" >>"$ALL"
expect "every key limited, key_wait 120: waits, shown on stderr; SIGINT cancels the wait" \
	eval 'test "$RC" -eq 130 && has_err "all keys for pooled are rate-limited; waiting 60s" &&
	has_err "natter: cancelled"'

# The same key in both variables is one key, not a pool of two.
POOL_KEY_A=$GOOD POOL_KEY_B=$GOOD "$NATTER" auth >"$OUT" 2>"$ERR"
RC=$?
expect "one key in two variables: natter auth shows one key with both sources" \
	eval 'test "$(grep -c "^  key " "$OUT")" -eq 1 &&
	grep -q "^  key 1 .*(env POOL_KEY_A, env POOL_KEY_B)" "$OUT"'

# A pool with no key at all is not offered; the provider names its variables.
POOL_KEY_A= POOL_KEY_B= ask -m pm "tokens=2"
expect "no key in the pool: not offered, named before sending" \
	eval 'test "$RC" -eq 1 && has_err "no key for pooled: set POOL_KEY_A or POOL_KEY_B"'

if grep -q -e "$GOOD" -e "$LIMITED" -e "$LIMITED2" "$ALL" "$LOG"; then
	tap_fail "no key ever appears in natter's output or the server log"
else
	tap_ok "no key ever appears in natter's output or the server log"
fi
