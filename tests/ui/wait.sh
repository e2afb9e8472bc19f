#!/usr/bin/env bash
# tmux tests of waits that must not last forever: a server that sends only keep-alive
# comments makes the status line count the wait for the first token from a few seconds on,
# with the deadline it gives up at, until first_token_timeout ends the reply with a
# readable error; one that goes quiet after some tokens shows how long it has been quiet
# until idle_timeout ends it with the partial reply kept; a malformed event is skipped and
# the note under the reply (and in the store) says so; and once nothing is pending the
# interface is back to 0 CPU.
set -u
. "$TESTS/ui/lib-ui.bash"

isolated_home
KEY=sk-wait-KEY-1729
fs_start --key "$KEY" || exit 0
export OPENAI_API_KEY=$KEY
unset NATTER_MAX_RETRIES NATTER_IDLE_TIMEOUT_MS NATTER_FIRST_TOKEN_TIMEOUT_MS
mkdir -p "$XDG_CONFIG_HOME/natter"
cat >"$XDG_CONFIG_HOME/natter/natter.yaml" <<YAML
providers:
  openai:
    base_url: $FS_URL/v1
    first_token_timeout: 5
    idle_timeout: 4
    max_retries: 0
YAML
DB="$XDG_DATA_HOME/natter/natter.db"

# status: the status line (the last row of the screen).
status() { ui_screen | tail -n 1; }

# status_wait REGEX [SECONDS]: wait until the status line matches.
status_wait() {
	local t=${2:-$UI_TIMEOUT} end
	end=$(($(date +%s%N) / 1000000 + t * 1000))
	while [ "$(($(date +%s%N) / 1000000))" -lt "$end" ]; do
		status | grep -q -- "$1" && return 0
		sleep 0.05
	done
	return 1
}

# wait_check NAME COMMAND...: one TAP line, with the screen shown on failure.
wait_check() {
	local name=$1
	shift
	if "$@"; then
		tap_ok "$name"
	else
		tap_fail "$name" "$(printf 'status line: %s\n' "$(status)"; ui_screen)"
	fi
}

ui_start 80 24 -m openai/fake-model

# Only keep-alive comments, never a token.
ui_type "hold tokens=0 fault=comments"
ui_keys Enter
wait_check "first token: at first the status line just says it waits" \
	status_wait '│ waiting for the first token'
wait_check "first token: from 3 s on, how long, and when it gives up" \
	status_wait '│ waiting 3s for the first token (gives up at 5s)'
wait_check "first token: the count goes on although comments keep arriving" \
	status_wait '│ waiting 4s for the first token'
wait_check "first token: first_token_timeout ends the reply with a readable error" \
	ui_wait 'timeout: no token from the server within 5 s of' 10
wait_check "first token: the status line no longer waits" \
	eval '! status | grep -q "waiting"'

# Tokens, then nothing but comments.
ui_type "quiet tokens=4 fault=comments"
ui_keys Enter
wait_check "idle: the first tokens are shown" ui_wait 'w1 w2'
wait_check "idle: a quiet stream says for how long" status_wait '│ streaming .* · no token for 3s'
wait_check "idle: idle_timeout ends it, the partial reply is kept" \
	eval 'ui_wait "no token from the server for 4 s" 10 && ui_screen | grep -q "w1 w2"'

# A malformed event in the middle.
ui_type "bad tokens=6 fault=malformed"
ui_keys Enter
wait_check "malformed: the reply goes on past the bad event" ui_wait 'w1 w2 w3 w4 w5 w6'
wait_check "malformed: the note under the reply says what was skipped" \
	ui_wait '⚠ skipped a malformed event from the provider'
if command -v sqlite3 >/dev/null 2>&1; then
	row=$(sqlite3 -cmd '.timeout 5000' "$DB" \
		"SELECT state || '|' || error FROM messages WHERE role = 'assistant' ORDER BY id DESC LIMIT 1")
	wait_check "malformed: the note is stored with the message" \
		eval 'case "$row" in *"skipped a malformed event from the provider (not JSON"*) true ;; *) false ;; esac'
else
	tap_skip "malformed: the note is stored with the message" "no sqlite3"
fi

# Nothing pending: no timer is left running.
pid=$(ui_pid)
t0=$(ui_cpu_ticks "$pid")
sleep 3
t1=$(ui_cpu_ticks "$pid")
wait_check "idle again: 0 CPU ticks in 3 s (was $t0, now $t1)" [ "$t0" = "$t1" ]
ui_keys C-q
wait_check "natter quits cleanly" ui_wait_dead
tap_eq "exit status 0" 0 "$(ui_exit_status)"
