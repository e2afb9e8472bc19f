#!/usr/bin/env bash
# Key pools across processes: windows and rests live in <db>-keypool beside the database,
# so `rpd: 1` allows one request a day over any number of `natter ask` runs (concurrent
# ones too), and a 429 with retry-after rests the key for what the server said (not a
# fixed 60 s) for every natter after it. The state file holds no key and is private.
set -u
. "$TESTS/integration/lib.sh"

isolated_home
unset NATTER_MODEL NATTER_PROVIDER NATTER_MAX_RETRIES
GOOD=sk-state-GOOD-31337
DAILY=sk-state-DAILY-42424
LIMITED=sk-state-LIMITED-90210
LOG=$LIB_TMP/fs.log
fs_start --key "$GOOD" --key "$DAILY" --limit-key "$LIMITED" --log "$LOG" || exit 0
OUT=$LIB_TMP/out
ERR=$LIB_TMP/err
mkdir -p "$XDG_CONFIG_HOME/natter"
cat >"$XDG_CONFIG_HOME/natter/natter.yaml" <<YAML
providers:
  daily:
    protocol: openai
    base_url: $FS_URL/v1
    key_env: DAILY_KEY
    rpd: 3
    key_wait: 0
    max_retries: 0
  pooled:
    protocol: openai
    base_url: $FS_URL/v1
    keys:
      - key_env: POOL_KEY_A
      - key_env: POOL_KEY_B
    key_wait: 0
    max_retries: 0
models:
  dm: {provider: daily, id: daily-model}
  pm: {provider: pooled, id: pool-model}
YAML
export DAILY_KEY=$DAILY POOL_KEY_A=$LIMITED POOL_KEY_B=$GOOD
export NATTER_DB=$LIB_TMP/data/natter.db
STATE=$NATTER_DB-keypool

ask() {
	"$NATTER" ask --no-save "$@" >"$OUT" 2>"$ERR" </dev/null
	RC=$?
}
expect() {
	local d=$1
	shift
	if "$@"; then
		tap_ok "$d"
	else
		tap_fail "$d" "rc=$RC" "stdout: $(head -c 300 "$OUT")" "stderr: $(head -c 600 "$ERR")"
	fi
}
has_err() { grep -q -- "$1" "$ERR"; }
chats() { grep -c "chat/completions" "$LOG"; }

# rpd: 3 over separate runs, six of them at once: exactly three reach the server.
before=$(chats)
pids=()
for i in 1 2 3 4 5 6; do
	"$NATTER" ask --no-save -m dm "tokens=2 run $i" >"$LIB_TMP/out.$i" 2>"$LIB_TMP/err.$i" </dev/null &
	pids+=($!)
done
ok=0
for i in 1 2 3 4 5 6; do
	wait "${pids[$((i - 1))]}" && ok=$((ok + 1))
done
tap_eq "rpd 3, six concurrent runs: three answered" 3 "$ok"
tap_eq "rpd 3, six concurrent runs: three requests reached the server" 3 $(($(chats) - before))
if cat "$LIB_TMP"/err.* | grep -q "all 1 keys for daily are rate-limited; the first is free again in 8640[0-9]s"; then
	tap_ok "the others say when the key frees up (a day)"
else
	tap_fail "the others say when the key frees up (a day)" "$(cat "$LIB_TMP"/err.* | head -n 5)"
fi
before=$(chats)
ask -m dm "tokens=2 later"
expect "a later run still finds the day's requests used up" eval 'test "$RC" -eq 1 && test "$(chats)" -eq "$before"'

# A 429 with retry-after: 20 rests the key 20 s, for the next run as well.
before=$(chats)
ask -m pm "tokens=3 retry_after=20"
expect "429 with retry-after: rotated to the second key, reply on stdout" \
	eval 'test "$RC" -eq 0 && test "$(cat "$OUT")" = "w1 w2 w3" && has_err "trying the next key of pooled"'
tap_eq "429 with retry-after: two requests" 2 $(($(chats) - before))
"$NATTER" auth >"$OUT" 2>"$ERR"
if grep -qE "^  key 1 .*\(env POOL_KEY_A\).*blocked for (19|20)s" "$OUT"; then
	tap_ok "natter auth, another process, shows the rest the server asked for (20 s, not 60)"
else
	tap_fail "natter auth, another process, shows the rest the server asked for (20 s, not 60)" "$(cat "$OUT")"
fi
before=$(chats)
ask -m pm "tokens=2"
expect "the next run skips the resting key: one request, no rotation" \
	eval 'test "$RC" -eq 0 && test "$(cat "$OUT")" = "w1 w2" && ! has_err "trying the next key" &&
	test "$(chats)" -eq $((before + 1))'

# The state file: private, with fingerprints and never a key.
tap_eq "the state file is beside the database, mode 600" 600 "$(stat -c %a "$STATE" 2>/dev/null)"
if grep -q -e "$GOOD" -e "$DAILY" -e "$LIMITED" -e "sk-state" "$STATE"; then
	tap_fail "the state file holds no key" "$(head -n 5 "$STATE")"
else
	tap_ok "the state file holds no key"
fi
