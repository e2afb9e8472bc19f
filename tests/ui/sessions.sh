#!/usr/bin/env bash
# tmux tests of deleting from the session list: D asks in the status line first; n, Esc or
# any other key keeps the session, y deletes it (in the store once it can no longer be
# undone, tests/ui/finder.sh tests the undo); the open session is refused; the key help says
# it asks.
set -u
. "$TESTS/ui/lib-ui.bash"

isolated_home
fs_start
export OPENAI_API_KEY=sk-test-sessions
mkdir -p "$XDG_CONFIG_HOME/natter"
printf 'providers:\n  openai:\n    base_url: %s/v1\n' "$FS_URL" >"$XDG_CONFIG_HOME/natter/natter.yaml"

# status_has REGEX: the status line (the last row) matches.
status_has() { ui_screen | tail -n 1 | grep -q -- "$1"; }
# listed TITLE: natter sessions list has a session titled TITLE.
listed() { "$NATTER" sessions list | grep -q -- "$1"; }

ui_start 150 30 -m openai/fake-model
ui_type "older chat tokens=2"
ui_keys Enter
ui_check "setup: the first chat is answered" ui_wait 'w1 w2'
ui_keys M-n
ui_type "newer chat tokens=2"
ui_keys Enter
ui_check "setup: the second chat is answered" ui_wait '▍assistant'
ui_check "setup: both are listed" ui_wait ' older chat tokens=2'

# The open session (the newer one, first in the list) is refused.
ui_keys BTab
ui_keys D
ui_check "open: the open session is not deleted" ui_wait 'this session is open'

# The older one: D asks; n keeps it.
ui_keys j
ui_keys D
ui_check "ask: D asks first, naming the session" ui_wait 'delete "older chat tokens=2" (2 messages)? y deletes, n or Esc keeps it'
ui_check "ask: nothing is deleted yet" listed 'older chat'
sleep 4.5
ui_check "ask: the question stays until answered" status_has 'y deletes, n or Esc keeps it'
ui_keys n
ui_check "n: keeps it" ui_wait 'kept: nothing was deleted'
ui_check "n: it is still stored" listed 'older chat'
ui_check "n: and still listed" ui_wait ' older chat tokens=2'

# Esc keeps it too, and so does any other key.
ui_keys D
ui_wait 'y deletes, n'
ui_keys Escape
ui_check "Esc: keeps it" ui_wait 'kept: nothing was deleted'
ui_check "Esc: it is still stored" listed 'older chat'
ui_keys D
ui_wait 'y deletes, n'
ui_keys x
ui_check "another key: keeps it" ui_wait 'kept: nothing was deleted'
ui_check "another key: it is still stored" listed 'older chat'

# y deletes it.
ui_keys D
ui_check "y: asked again" ui_wait 'y deletes, n'
ui_keys y
ui_check "y: deleted" ui_wait 'session deleted'
ui_check "y: gone from the list" ui_wait_not ' older chat tokens=2'
# The store lets it go once the few seconds in which u brings it back are over.
gone_from_store() {
	local end=$(( $(date +%s) + 10 ))
	while [ "$(date +%s)" -lt "$end" ]; do
		"$NATTER" sessions list | grep -q 'older chat' || return 0
		sleep 0.2
	done
	return 1
}
ui_check "y: gone from the store once it can no longer be undone" gone_from_store
ui_check "y: the other session is kept" listed 'newer chat'

ui_keys C-q
ui_check "quit: natter exits" ui_wait_dead
ui_check "no sanitizer report" bash -c "! grep -qE 'Sanitizer|runtime error' '$LIB_TMP/natter-stderr' 2>/dev/null"
# The key table's help (F1, natter keys, natter(1)) says D asks.
ui_check "help: D asks first" bash -c "'$NATTER' keys | grep -q '^sessions  *D .*delete the selected session (asks first: y deletes, n or Esc keeps it)'"
