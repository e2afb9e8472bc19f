#!/usr/bin/env bash
# tmux tests of the status line while a request waits: a retry after a retryable error
# counts down with its attempt number and reason, then the reply completes and the wait is
# gone; a key pool rotating past a limited key says so; a pool whose every key is limited
# counts the wait for a key down in seconds until Esc cancels it (a key rests at least 60s
# after a 429, too long to wait out here). The terminal is 80 columns, so a long provider
# error must not push the countdown off the line.
set -u
. "$TESTS/ui/lib-ui.bash"

isolated_home
GOOD_A=sk-status-GOOD-A-3141
GOOD_B=sk-status-GOOD-B-2718
LIMITED=sk-status-LIMITED-1618
LIMITED2=sk-status-LIMITED-1414
fs_start --key "$GOOD_A" --key "$GOOD_B" --limit-key "$LIMITED" --limit-key "$LIMITED2" || exit 0
export OPENAI_API_KEY=$GOOD_A POOL_KEY_A=$GOOD_A POOL_KEY_B=$GOOD_B STUCK_KEY=$LIMITED \
	STUCK_KEY_2=$LIMITED2
unset NATTER_MAX_RETRIES
mkdir -p "$XDG_CONFIG_HOME/natter"
cat >"$XDG_CONFIG_HOME/natter/natter.yaml" <<YAML
providers:
  openai:
    base_url: $FS_URL/v1
    max_retries: 2
  pooled:
    protocol: openai
    base_url: $FS_URL/v1
    keys:
      - key_env: POOL_KEY_A
      - key_env: POOL_KEY_B
    key_wait: 120
    max_retries: 0
  stuck:
    protocol: openai
    base_url: $FS_URL/v1
    keys:
      - key_env: STUCK_KEY
      - key_env: STUCK_KEY_2
    key_wait: 120
    max_retries: 0
models:
  pm:
    provider: pooled
    id: pool-model
  sm:
    provider: stuck
    id: stuck-model
YAML

# status: the status line (the last row of the screen).
status() { ui_screen | tail -n 1; }

# status_wait REGEX [SECONDS]: wait until the status line matches.
status_wait() {
	local t=${2:-$UI_TIMEOUT} end
	end=$(( $(date +%s%N) / 1000000 + t * 1000 ))
	while [ "$(( $(date +%s%N) / 1000000 ))" -lt "$end" ]; do
		status | grep -q -- "$1" && return 0
		sleep 0.05
	done
	return 1
}

# status_lacks REGEX: the status line does not match now.
status_lacks() { ! status | grep -q -- "$1"; }

# status_check NAME COMMAND...: one TAP line, with the status line shown on failure.
status_check() {
	local name=$1
	shift
	if "$@"; then
		tap_ok "$name"
	else
		tap_fail "$name" "$(printf 'status line: %s\n' "$(status)"; ui_screen)"
	fi
}

ui_start 80 24 -m openai/fake-model

# A 503 with retry-after 3: the first attempt fails, the second (after 3s) answers.
ui_type "retry please fail_times=1 id=st-retry status=503 retry_after=3 tokens=3"
ui_keys Enter
status_check "retry: the status line says it retries, with the attempt" \
	status_wait '^ openai/fake-model │ retrying in [0-9]\.[0-9]s (attempt 2/3)'
status_check "retry: the reason is on the line after the countdown" \
	status_wait 'retrying in [0-9.]*s (attempt 2/3) · overloaded (503)'
status_check "retry: it counts down past 1.0s" status_wait 'retrying in 1\.[0-9]s'
status_check "retry: and below one second" status_wait 'retrying in 0\.[0-9]s'
status_check "retry: the reply completes" ui_wait 'w1 w2 w3'
status_check "retry: the status line shows the finished reply" status_wait 'ttft [0-9.]*s'
status_check "retry: the retry is no longer shown" status_lacks 'retrying\|overloaded'

# The pool's first key gets a 429: the status line says the next key is tried, and why.
# The note comes after the reply's figures, so this part runs 160 columns wide.
tmux -L "$UI_SOCK" resize-window -x 160 -y 24
ui_type "/model pm"
ui_keys Enter
status_check "pool: the model is switched" status_wait 'pooled/pool-model'
ui_type "pool please fail_times=1 id=st-pool status=429 tokens=4"
ui_keys Enter
status_check "pool: a limited key, the status line says the next key is tried" \
	status_wait '│ trying the next key of pooled · rate limit (429)'
status_check "pool: the reply comes with the next key" ui_wait 'w1 w2 w3 w4'

# Every key stays limited (a 60s rest each): the wait shows until Esc cancels it.
tmux -L "$UI_SOCK" resize-window -x 80 -y 24
ui_type "/model sm"
ui_keys Enter
status_check "stuck: the model is switched" status_wait 'stuck/stuck-model'
ui_type "stuck please tokens=2"
ui_keys Enter
status_check "stuck: the status line shows the 60s wait" \
	status_wait '^ stuck/stuck-model │ waiting 60s · all keys for stuck are rate-limited'
status_check "stuck: it counts down in whole seconds" status_wait 'waiting 59s · all keys'
ui_keys Escape
status_check "stuck: Esc cancels and the wait is no longer shown" \
	eval 'ui_wait_not "waiting [0-9]*s" 5 && status_lacks "rate-limited"'
ui_keys C-q
status_check "natter quits cleanly" ui_wait_dead
tap_eq "exit status 0" 0 "$(ui_exit_status)"

# -m takes what /model takes: a model named in the config brings its provider.
ui_start 80 24 -m pm
status_check "-m: a configured model name selects its provider and id" \
	status_wait '^ pooled/pool-model'
ui_keys C-q
status_check "natter quits cleanly again" ui_wait_dead
