#!/usr/bin/env bash
# tmux tests of copying (y, c, /copy): natter says what it did. Outside tmux it sent the
# text to the terminal's clipboard with OSC 52 (a terminal never confirms it); inside tmux
# with set-clipboard on it reads tmux's newest buffer back and says "copied (tmux buffer)"
# only when the buffer holds the text; with set-clipboard off it says tmux keeps no copy.
set -u
. "$TESTS/ui/lib-ui.bash"

isolated_home
fs_start
export OPENAI_API_KEY=sk-test-clipboard
mkdir -p "$XDG_CONFIG_HOME/natter"
printf 'providers:\n  openai:\n    base_url: %s/v1\n' "$FS_URL" >"$XDG_CONFIG_HOME/natter/natter.yaml"

# status_has REGEX: the status line (the last row) matches.
status_has() { ui_screen | tail -n 1 | grep -q -- "$1"; }
# buffer_is TEXT: tmux's newest buffer holds exactly TEXT.
buffer_is() { [ "$(tmux -L "$UI_SOCK" show-buffer 2>/dev/null)" = "$1" ]; }

# 1. In tmux with set-clipboard on (the tests' tmux.conf): verified in the buffer.
ui_start 180 30 -m openai/fake-model
ui_type "copy me tokens=4"
ui_keys Enter
ui_check "reply: arrives" ui_wait 'w1 w2 w3 w4'
ui_keys Tab
ui_keys y
ui_check "tmux on: the note says copied (tmux buffer)" \
	ui_wait 'copied the message (11 bytes) (tmux buffer)'
ui_check "tmux on: the buffer holds the reply" buffer_is "w1 w2 w3 w4"

# 2. set-clipboard off: tmux drops the sequence; natter says it sent it, not that it copied.
tmux -L "$UI_SOCK" set -g set-clipboard off
while tmux -L "$UI_SOCK" delete-buffer 2>/dev/null; do :; done
ui_keys M-i
ui_type "/copy"
ui_keys Enter
ui_check "tmux off: the note says sent with OSC 52" \
	ui_wait "sent the last reply (11 bytes) to the terminal's clipboard (OSC 52)"
ui_check "tmux off: and why tmux keeps no copy" ui_wait "(OSC 52); tmux keeps no copy (set-clipboard off)"
ui_check "tmux off: it does not claim a copy" bash -c "! tmux -L $UI_SOCK capture-pane -p | tail -n 1 | grep -q 'copied'"
ui_check "tmux off: indeed no buffer" bash -c "! tmux -L $UI_SOCK show-buffer >/dev/null 2>&1"
ui_keys C-q
ui_check "quit: natter exits" ui_wait_dead

# 3. Outside tmux (no $TMUX): sent to the terminal, nothing said of tmux.
NATTER="env -u TMUX $NATTER" ui_start 180 30 -m openai/fake-model -c
ui_type "/copy"
ui_keys Enter
ui_check "no tmux: the note says sent with OSC 52" \
	ui_wait "sent the last reply (11 bytes) to the terminal's clipboard (OSC 52) *$"
ui_check "no tmux: no claim of a copy" bash -c "! tmux -L $UI_SOCK capture-pane -p | tail -n 1 | grep -q 'copied\|tmux'"
ui_keys C-q
ui_wait_dead
ui_check "no sanitizer report" bash -c "! grep -qE 'Sanitizer|runtime error' '$LIB_TMP/natter-stderr' 2>/dev/null"
