#!/usr/bin/env bash
# tmux tests of finding things in the session list: / filters the titles as you type (fuzzy,
# the matched characters highlighted) and searches every session's messages, Enter on a hit
# opens its session at that message, Esc ends the search; r renames a session in place
# (Esc cancels); a deleted session comes back with u for a few seconds and is deleted in
# the store only after them; a archives a session (gone from the list and from `natter
# sessions list`, kept and listed by A and --archived) and brings it back. The offline
# simulated provider answers.
set -u
. "$TESTS/ui/lib-ui.bash"

isolated_home
mkdir -p "$XDG_CONFIG_HOME/natter"
: >"$XDG_CONFIG_HOME/natter/natter.yaml"

# listed TITLE: natter sessions list (not archived) has a session titled TITLE; when not,
# what it printed (errors too) goes into the log as TAP comments.
listed() {
	local out
	out=$("$NATTER" sessions list 2>&1)
	grep -q -- "$1" <<<"$out" && return 0
	printf 'natter sessions list has no %s; it printed:\n%s\n' "$1" "$out" |
		sed 's/^/# /'
	return 1
}
# list_rows: the session list's column of the screen (the rows left of its border).
list_rows() { ui_screen | sed 's/│.*//'; }
# send TEXT: send a message and wait for its reply.
send() {
	ui_type "$1"
	ui_keys Enter
	ui_wait 'You wrote: "'"$1"'"' 10
}

ui_start 120 36 -m simulated/simulated-fast
send "rust lifetimes and borrowing"
send "the armadillo question"
ui_keys M-n
send "python asyncio deadlock"
ui_keys M-n
send "sourdough bread recipe"
ui_check "setup: three sessions listed" bash -c "[ \$(tmux -L $UI_SOCK capture-pane -p | grep -c 'simulated-fast · ') -ge 3 ]"

# / filters the titles as you type.
ui_keys BTab
ui_keys /
ui_type "pyad"
ui_check "filter: only the matching title is left" \
	bash -c "sleep 0.3; tmux -L $UI_SOCK capture-pane -p | sed 's/│.*//' | grep -q 'python asyncio' && ! tmux -L $UI_SOCK capture-pane -p | sed 's/│.*//' | grep -q 'sourdough\|rust life'"
ui_check "filter: the field shows what was typed" ui_wait '^ /pyad'
ui_check "filter: the matched characters are highlighted" \
	bash -c "tmux -L $UI_SOCK capture-pane -p -e | sed -n 2p | grep -q $'\\033\\[[0-9;]*4[;m]p'"
ui_keys C-u
ui_type "zzzq"
ui_check "filter: nothing matches says so" ui_wait 'nothing matches'

# The same query searches the messages: a word only in a later message of one session.
ui_keys C-u
ui_type "armad"
# The prompt and the reply that quotes it, newest first: the reply.
ui_check "search: the hits are listed under the titles" ui_wait 'in messages (2)'
ui_check "search: a hit names its session" ui_wait '↳ rust lifetimes'
ui_check "search: the snippet shows the word" ui_wait '  the armadillo question'
ui_keys Enter
ui_check "search: the transcript shows the hit's session" ui_wait 'You wrote: "the armadillo question"'
ui_check "search: the transcript has the focus" bash -c "! tmux -L $UI_SOCK capture-pane -p | grep -q 'Sessions (focused)'"
ui_check "search: the hit's message is selected" \
	bash -c "tmux -L $UI_SOCK capture-pane -p -e | grep '▍assistant' | tail -n 1 | grep -q $'\\033\\[[0-9;]*7m'"

# Esc in the list ends the search: every session again.
ui_keys BTab BTab
ui_wait 'armad'
ui_keys Escape
ui_check "Esc: the whole list is back" bash -c "sleep 0.3; tmux -L $UI_SOCK capture-pane -p | sed 's/│.*//' | grep -q 'sourdough' && tmux -L $UI_SOCK capture-pane -p | sed 's/│.*//' | grep -q 'python asyncio'"

# r renames the selected session in place; Esc cancels a rename.
ui_keys Escape
ui_keys BTab
ui_check "rename: the list is focused" ui_wait 'Sessions (focused)'
ui_keys Down
ui_keys r
ui_keys C-u
ui_type "a better title"
ui_keys Escape
ui_check "rename: Esc keeps the old title" bash -c "sleep 0.3; ! tmux -L $UI_SOCK capture-pane -p | grep -q 'a better title'"
ui_keys r
ui_keys C-u
ui_type "renamed in place"
ui_keys Enter
ui_check "rename: the list shows the new title" ui_wait ' renamed in place'
ui_check "rename: it is stored" listed 'renamed in place'

# D then y deletes at once from the list; u brings the session back.
pos=$(list_rows | grep -n 'sourdough' | cut -d: -f1)
ui_keys Home
ui_keys k k k k
for _ in 1 2 3 4 5; do
	list_rows | sed -n "$pos"p | grep -q . || break
	[ "$(tmux -L "$UI_SOCK" capture-pane -p -e | sed -n "$pos"p | grep -c $'\033\\[[0-9;]*7m')" -gt 0 ] && break
	ui_keys j
done
ui_keys D
ui_check "undo: D asks" ui_wait 'delete "sourdough'
ui_keys y
ui_check "undo: the note says how to bring it back" ui_wait 'u brings it back'
ui_check "undo: gone from the list" bash -c "sleep 0.3; ! tmux -L $UI_SOCK capture-pane -p | sed 's/│.*//' | grep -q sourdough"
ui_check "undo: still in the store while it can be undone" listed 'sourdough'
ui_keys u
ui_check "undo: u brings it back" ui_wait 'brought back "sourdough'
ui_check "undo: listed again" ui_wait ' sourdough bread'
sleep 6
ui_check "undo: still stored after the undo time" listed 'sourdough'

# a archives the selected session: gone from the list and from natter sessions list.
row=$(list_rows | grep -n ' sourdough' | cut -d: -f1)
ui_check "archive: setup, the session is selected" \
	bash -c "tmux -L $UI_SOCK capture-pane -p -e | sed -n ${row}p | grep -q $'\\033\\[[0-9;]*7m'"
ui_keys a
ui_check "archive: the note names the key of the archive" ui_wait 'archived "sourdough.*A lists the archive'
ui_check "archive: gone from the list" bash -c "sleep 0.3; ! tmux -L $UI_SOCK capture-pane -p | sed 's/│.*//' | grep -q sourdough"
ui_check "archive: gone from natter sessions list" bash -c "! '$NATTER' sessions list | grep -q sourdough"
ui_check "archive: listed by --archived" bash -c "'$NATTER' sessions list --archived | grep -q sourdough"
ui_check "archive: its messages are kept" bash -c "'$NATTER' sessions search sourdough | grep -q sourdough"
ui_keys A
ui_check "archive: A lists the archive" ui_wait 'Archived (1)'
ui_check "archive: the archived session is in it" ui_wait ' sourdough bread'
ui_keys a
ui_check "archive: a in the archive brings it back" ui_wait 'brought "sourdough.*back from the archive'
ui_check "archive: the archive is empty" ui_wait 'no archived sessions'
ui_keys A
ui_check "archive: back in the list" ui_wait ' sourdough bread'
ui_check "archive: back in natter sessions list" listed 'sourdough'

ui_keys C-q
ui_check "quit: natter exits" ui_wait_dead
ui_check "quit: exit status 0" [ "$(ui_exit_status)" = 0 ]
ui_check "no sanitizer report" bash -c "! grep -qE 'Sanitizer|runtime error' '$LIB_TMP/natter-stderr' 2>/dev/null"

# A deletion still to be undone when natter quits is made then.
ui_start 120 36 -m simulated/simulated-fast
ui_keys BTab
ui_wait 'Sessions (focused)'
ui_keys D
ui_check "quit: D asks about the first session" ui_wait 'delete "'
title=$(ui_screen | tail -n 1 | sed -n 's/.*delete "\([^"]*\)".*/\1/p')
ui_keys y
ui_wait 'session deleted'
ui_keys C-q
ui_wait_dead
ui_check "quit: a deletion not undone is made when natter quits" \
	bash -c "[ -n '$title' ] && ! '$NATTER' sessions list | grep -qF '$title'"
