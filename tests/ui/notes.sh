#!/usr/bin/env bash
# tmux tests of status-line notes and figures that must not outlive what they describe:
# "cancelling" goes once the cancel is done (one reply or a comparison's), "editing: Enter
# resends" goes with the resend, and the last reply's figures follow the conversation
# shown: none after /new, the opened session's own, the kept column's after /pick.
set -u
. "$TESTS/ui/lib-ui.bash"

isolated_home
fs_start --log "$LIB_TMP/fs-notes.log"
export OPENAI_API_KEY=sk-test-notes-openai
export ANTHROPIC_API_KEY=sk-test-notes-anthropic
mkdir -p "$XDG_CONFIG_HOME/natter"
cat >"$XDG_CONFIG_HOME/natter/natter.yaml" <<YAML
providers:
  openai:
    base_url: $FS_URL/v1
    max_retries: 0
  anthropic:
    base_url: $FS_URL/v1
    max_retries: 0
YAML

# status_has REGEX / status_lacks REGEX: the status line (the last row) matches or not.
status_has() { ui_screen | tail -n 1 | grep -q -- "$1"; }
status_lacks() { ! status_has "$1"; }
# status_gone REGEX SECONDS: the status line stops matching within SECONDS.
status_gone() {
	local end=$(( $(date +%s%N) / 1000000 + $2 * 1000 ))
	while [ "$(( $(date +%s%N) / 1000000 ))" -lt "$end" ]; do
		status_lacks "$1" && return 0
		sleep 0.05
	done
	return 1
}

ui_start 150 30 -m openai/m-main

# 1. Cancel one reply: "cancelling" is replaced once the reply is closed as cancelled (a
# note would otherwise stay four seconds).
ui_type "slow one delay_ms=40 tokens=400"
ui_keys Enter
ui_wait 'w5 ' 10
ui_keys Escape
ui_check "cancel: the reply is closed as cancelled" ui_wait 'cancelled: the partial reply above is kept'
ui_check "cancel: the status line no longer says cancelling" status_gone 'cancelling' 1
ui_check "cancel: it says the cancel is done" status_has 'cancelled: the partial reply is kept'

# 2. Edit and resend: the editing note goes with the resend.
ui_type "to edit tokens=3"
ui_keys Enter
ui_check "edit: the reply arrives" ui_wait 'w1 w2 w3'
ui_keys Tab
ui_keys k
ui_keys e
ui_check "edit: the note says how to resend" ui_wait 'editing: Enter resends'
ui_keys C-u
ui_type "edited tokens=4"
ui_keys Enter
ui_check "edit: the resent message is answered" ui_wait 'w1 w2 w3 w4'
ui_check "edit: the editing note is gone" status_gone 'editing: Enter resends' 1

# 3. The last reply's figures: this session's now; none after /new.
ui_check "figures: the status line has the last reply's tokens" status_has '· 4 tok'
ui_type "/new"
ui_keys Enter
ui_check "figures: /new shows no figures of the old session" status_gone '· 4 tok' 1
ui_check "figures: no ttft either" status_lacks 'ttft'

# 4. A comparison cancelled: "cancelling 2 replies" goes once both are closed; /pick then
# shows the kept reply's figures, not those of the reply before the comparison.
ui_type "main reply tokens=5"
ui_keys Enter
ui_check "pick: the main reply's figures" ui_wait '· 5 tok │'
ui_type "/compare openai/m-a anthropic/m-b"
ui_keys Enter
ui_wait 'each prompt now goes to all'
ui_type "long round [m-a]delay_ms=40 [m-b]delay_ms=40 tokens=400"
ui_keys Enter
ui_wait '│w1 w2 w3 w4 w5 .*│ w1 w2 w3 w4 w5' 10
ui_keys Escape
ui_check "compare cancel: both columns are cancelled" ui_wait '⊘ cancelled.*│ ⊘ cancelled'
ui_check "compare cancel: cancelling is gone from the status line" status_gone 'cancelling' 1
ui_type "short round [m-a]tokens=7 [m-b]tokens=9"
ui_keys Enter
ui_check "pick: the round completes" ui_wait '9 tok *$'
ui_type "/pick 2"
ui_keys Enter
ui_check "pick: column 2 is kept" ui_wait 'kept column 2'
ui_check "pick: the status line has the kept reply's figures" status_has '· 9 tok │'
ui_check "pick: not the reply before the comparison" status_lacks '· 5 tok │'

# 5. Opening a stored session shows its own last reply's figures.
ui_keys M-n
ui_type "other session tokens=6"
ui_keys Enter
ui_check "open: a reply in another session" ui_wait '· 6 tok │'
ui_keys BTab
ui_keys j
ui_keys Enter
ui_check "open: the picked session is open again" ui_wait 'short round'
ui_check "open: its own last figures" status_has '· 9 tok │'
ui_keys C-q
ui_check "quit: natter exits" ui_wait_dead
ui_check "no sanitizer report" bash -c "! grep -qE 'Sanitizer|runtime error' '$LIB_TMP/natter-stderr' 2>/dev/null"
