#!/usr/bin/env bash
# A reply whose natter is killed mid-stream is recovered by the next natter to open the
# database, and only then: the real TUI streams a slow reply from the fake server in tmux,
# `natter sessions` run beside it must leave the live reply streaming, and after kill -9
# `natter sessions search` finds the partial text, marked interrupted, and a new TUI shows
# it as interrupted. Prints TAP lines.
set -u
. "$TESTS/ui/lib-ui.bash"

if ! command -v tmux >/dev/null 2>&1 || ! command -v sqlite3 >/dev/null 2>&1; then
	tap_skip "recovery after kill -9" "needs tmux and sqlite3"
	exit 0
fi

isolated_home
fs_start || exit 0
export OPENAI_API_KEY=sk-test-recover
mkdir -p "$XDG_CONFIG_HOME/natter"
printf 'providers:\n  openai:\n    base_url: %s/v1\n' "$FS_URL" >"$XDG_CONFIG_HOME/natter/natter.yaml"
db="$XDG_DATA_HOME/natter/natter.db"

# state_of: the state of the newest assistant message.
state_of() {
	sqlite3 -cmd '.timeout 5000' "$db" \
		"SELECT state FROM messages WHERE role = 'assistant' ORDER BY id DESC LIMIT 1"
}

# stored_has WORD: the newest assistant message as stored contains WORD.
stored_has() {
	[ "$(sqlite3 -cmd '.timeout 5000' "$db" "SELECT instr(content, '$1') > 0 FROM messages
		WHERE role = 'assistant' ORDER BY id DESC LIMIT 1")" = 1 ]
}

# wait_for SECONDS CMD...: poll CMD every 0.1 s until it succeeds or SECONDS pass.
wait_for() {
	local i t=$1
	shift
	for i in $(seq 1 $((t * 10))); do
		"$@" && return 0
		sleep 0.1
	done
	return 1
}

# 1. A slow reply streams and is flushed while it arrives.
ui_start 100 30 -m openai/fake-model || { tap_fail "natter starts" "$(ui_screen)"; exit 0; }
ui_type "slow delay_ms=40 tokens=2000"
ui_keys Enter
ui_check "the slow reply is streaming on screen" ui_wait 'streaming…'
tap_check "its partial text is flushed to the database" wait_for 10 stored_has 'w20 '
tap_eq "the stored reply is marked streaming" streaming "$(state_of)"

# 2. Opening the database beside the live natter leaves its reply alone.
out=$("$NATTER" sessions search w10 2>&1)
tap_eq "sessions search beside a live stream exits cleanly and finds nothing yet" "" "$out"
tap_eq "the live reply is still streaming after another natter opened the database" \
	streaming "$(state_of)"
tap_check "the reply kept streaming" wait_for 20 stored_has 'w60 '

# A second interface on the same database shows the live reply as another natter's, and
# leaves it streaming (ui_start ends the previous tmux server, so hide the first from it).
first=$UI_SOCK
UI_SOCK=none-$$
ui_start 100 30 -m openai/fake-model || tap_fail "a second natter starts" "$(ui_screen)"
ui_check "the second natter lists the live session" ui_wait 'slow delay_ms'
ui_keys BTab
ui_keys Enter
ui_check "it shows the reply as still arriving in another natter" \
	ui_wait 'still arriving in another natter'
ui_keys C-q
ui_wait_dead
tmux -L "$UI_SOCK" kill-server 2>/dev/null
UI_SOCK=$first
tap_eq "the live reply is still streaming after a second interface opened it" \
	streaming "$(state_of)"

# 3. kill -9 mid-stream; the next natter to open the database recovers the reply.
pid=$(ui_pid)
kill -9 "$pid"
ui_check "natter died" ui_wait_dead
flushed=$(sqlite3 "$db" "SELECT content FROM messages WHERE role = 'assistant' ORDER BY id DESC LIMIT 1")
tap_eq "before any natter reopens it the reply is still marked streaming" streaming "$(state_of)"
out=$("$NATTER" sessions search w10 2>&1)
tap_check "sessions search finds the partial text" grep -qE '^ +1 .*assistant.*\[w10\]' <<<"$out"
tap_eq "the reply is marked interrupted" interrupted "$(state_of)"
tap_eq "the partial text is kept as it was flushed" "$flushed" \
	"$(sqlite3 "$db" "SELECT content FROM messages WHERE role = 'assistant' ORDER BY id DESC LIMIT 1")"
out=$("$NATTER" sessions show 1 2>&1)
tap_check "sessions show names the state" grep -q '(interrupted)' <<<"$out"
"$NATTER" sessions export 1 --format md -o "$LIB_TMP/s1.md"
tap_check "the Markdown export says the reply was interrupted" grep -q 'Interrupted:' "$LIB_TMP/s1.md"
tap_eq "the database passes its integrity check" ok "$(sqlite3 "$db" 'PRAGMA integrity_check')"

# 4. A new TUI shows the reply as interrupted, not as still arriving (BTab focuses the
# session list, Enter opens the selected, newest, session).
ui_start 100 30 -m openai/fake-model || { tap_fail "natter starts again" "$(ui_screen)"; exit 0; }
ui_check "the session is listed" ui_wait 'slow delay_ms'
ui_keys BTab
ui_keys Enter
ui_check "the transcript marks the reply interrupted" ui_wait 'interrupted: natter stopped'
ui_check "the transcript does not show it streaming" ui_wait_not 'streaming…' 2
ui_keys C-q
ui_wait_dead
