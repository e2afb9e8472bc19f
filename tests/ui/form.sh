#!/usr/bin/env bash
# tmux tests of the /template form's line editing: a cursor per field that moves by
# character, word and line end, insertion and deletion at the cursor with wide characters
# and combining marks, kill and yank, sideways scrolling of a long field, the prompt that
# reaches the provider after editing, and the input pane that shares the editing code.
set -u
. "$TESTS/ui/lib-ui.bash"

isolated_home
LOG="$LIB_TMP/fs-form.log"
fs_start --log "$LOG"
export OPENAI_API_KEY=sk-test-ui-form
mkdir -p "$XDG_CONFIG_HOME/natter"
cat >"$XDG_CONFIG_HOME/natter/natter.yaml" <<YAML
providers:
  openai:
    base_url: $FS_URL/v1
    max_retries: 0
templates:
  trip:
    description: Plan a trip
    user: "Plan {who} a trip to {place} about {topic} with {extra}"
    defaults: {place: Lisbon}
YAML

# field_row NAME: the row of the form showing field NAME, label stripped.
field_row() { ui_screen | sed -n "s/^.*│ *$1  *\\(.*[^ │]\\) *│.*\$/\\1/p" | head -n 1; }

# field_is NAME VALUE: wait until field NAME shows exactly VALUE.
field_is() {
	local end=$(( $(date +%s%N) / 1000000 + UI_TIMEOUT * 1000 ))
	while [ "$(( $(date +%s%N) / 1000000 ))" -lt "$end" ]; do
		[ "$(field_row "$1")" = "$2" ] && return 0
		sleep 0.05
	done
	echo "field $1 shows '$(field_row "$1")', wanted '$2'"
	return 1
}

# cursor_at NAME COL: the terminal cursor is on field NAME's row, COL cells into its value.
cursor_at() {
	local row x y0 end=$(( $(date +%s%N) / 1000000 + UI_TIMEOUT * 1000 ))
	while [ "$(( $(date +%s%N) / 1000000 ))" -lt "$end" ]; do
		row=$(ui_screen | grep -n "│ *$1  " | head -n 1)
		y0=$(( ${row%%:*} - 1 ))
		x=$(ui_fmt '#{cursor_x}')
		if [ "$(ui_fmt '#{cursor_y}')" = "$y0" ] && [ -n "$FIELD_X" ] &&
		    [ "$x" = $(( FIELD_X + $2 )) ]; then
			return 0
		fi
		sleep 0.05
	done
	echo "cursor at $(ui_fmt '#{cursor_x}'),$(ui_fmt '#{cursor_y}'), wanted column $2 of $1"
	return 1
}

# cursor_after TEXT: the terminal cursor is on the row showing TEXT, in the cell after it.
cursor_after() {
	local line pre row
	row=$(ui_screen | grep -n -- "$1" | head -n 1)
	line=${row#*:}
	pre=${line%%"$1"*}
	[ -n "$row" ] && [ "$(ui_fmt '#{cursor_y}')" = $(( ${row%%:*} - 1 )) ] &&
	    [ "$(ui_fmt '#{cursor_x}')" = $(( $(printf '%s' "$pre$1" | wc -m) )) ]
}

ui_start 100 30 -m openai/fake-model
ui_type "/template trip"
ui_keys Enter
ui_check "form: opens with its fields" ui_wait 'template trip'
ui_check "form: the default is in its field" field_is place Lisbon
# Where values start: one column after the field label column, the same for every field.
line=$(ui_screen | grep '│ *place  ')
pre=${line%%Lisbon*}
FIELD_X=$(printf '%s' "$pre" | wc -m)

# First field: type with a typo, go back into the middle and fix it.
ui_type "Alce"
ui_keys Left Left
ui_check "cursor: Left moves it into the middle of the field" cursor_at who 2
ui_type "i"
ui_check "insert: a character typed in the middle lands at the cursor" field_is who Alice
ui_check "insert: the cursor stays after it" cursor_at who 3
ui_keys Home
ui_check "Home: the cursor is at the start" cursor_at who 0
ui_type "Dr "
ui_check "insert at the start" field_is who "Dr Alice"
ui_keys C-e
ui_check "C-e: the cursor is at the end" cursor_at who 8
ui_keys C-a Right Right Right Delete Delete Delete Delete Delete
ui_type "Bob"
ui_check "Delete removes the characters under the cursor" field_is who "Dr Bob"

# Second field: word movement, Backspace in the middle, kill and yank.
ui_keys Tab
ui_check "Tab: the next field keeps its own cursor, at the end of its default" cursor_at place 6
ui_type " old town"
ui_keys M-b M-b
ui_check "M-b: back a word twice" cursor_at place 7
ui_keys BSpace
ui_type "s "
ui_check "Backspace deletes before the cursor" field_is place "Lisbons old town"
ui_keys M-f
ui_check "M-f: forward to the end of the word" cursor_at place 11
ui_keys C-k
ui_check "C-k: cuts to the end" field_is place "Lisbons old"
ui_keys C-a M-f C-y
ui_check "C-y: yanks the cut text at the cursor" field_is place "Lisbons town old"
ui_keys C-e C-Left
ui_check "C-Left: back to the start of the last word" cursor_at place 13
ui_keys C-Left
ui_check "C-Left: and of the word before" cursor_at place 8
ui_keys C-Right
ui_check "C-Right: forward to the end of the word" cursor_at place 12
ui_keys M-Left
ui_check "M-Left: back a word, like C-Left" cursor_at place 8
ui_keys M-Right
ui_check "M-Right: forward a word, like C-Right" cursor_at place 12
ui_keys C-e C-u
ui_type "Porto"
ui_check "C-u: cuts to the start, and the field takes new text" field_is place Porto
ui_keys BTab
ui_check "BTab: back to the first field, its cursor where it was" cursor_at who 6
ui_keys Tab

# Third field: wide characters and a combining mark, edited in the middle.
ui_keys Down
ui_type "日本天気"
ui_keys Left Left
ui_check "wide: Left steps over two-column characters" cursor_at topic 4
ui_type "の"
ui_check "wide: inserted between wide characters" field_is topic "日本の天気"
ui_check "wide: the cursor follows the inserted character" cursor_at topic 6
ui_keys End
ui_type " cafe$(printf '\xcc\x81')"
ui_keys Left
ui_check "combining: Left steps over e and its mark at once" cursor_at topic 14
ui_keys Delete
ui_type "e"
ui_check "combining: Delete removes the letter with its mark" field_is topic "日本の天気 cafe"
ui_type "$(printf 'e\xcc\x81')"
ui_keys BSpace
ui_type "!"
ui_check "combining: Backspace removes the letter with its mark" field_is topic "日本の天気 cafe!"

# Fourth field: longer than its box, it scrolls sideways to keep the cursor in view.
ui_keys Tab
long=""
for i in $(seq 10 39); do long="$long w$i"; done
long=${long# }
ui_type "$long"
ui_check "scroll: the end of a long value is shown while typing at it" ui_wait 'w38 w39 *│'
ui_check "scroll: its start has scrolled out of view" ui_wait_not 'w10 w11'
ui_keys Home
ui_check "scroll: Home brings the start back" ui_wait 'extra  *w10 w11'
ui_check "scroll: and the end goes out of view" ui_wait_not 'w39'
ui_check "scroll: the cursor is at the start" cursor_at extra 0
ui_keys M-f M-f Right
ui_type "X"
ui_check "scroll: a character inserted near the start" ui_wait 'extra  *w10 w11 Xw12'
ui_check "scroll: the cursor stays on screen after it" cursor_at extra 9
ui_keys End
ui_check "scroll: End shows the end again" ui_wait 'w38 w39 *│'
ui_check "scroll: with the cursor just after it" cursor_after w39

# Send: the edited values go into the prompt.
ui_keys C-s
want="Plan Dr Bob a trip to Porto about 日本の天気 cafe! with ${long/w11 w12/w11 Xw12}"
ui_check "send: the form closes" ui_wait_not 'template trip'
ui_check "send: the transcript shows the edited prompt" ui_wait 'Porto about 日本の天気 cafe! with w10 w11 Xw12'
ui_check "send: and the provider answers it" ui_wait 'answering: Plan Dr Bob a trip to Porto about'
ui_check "send: the provider got exactly the edited prompt" grep -qF "\"$want\"" "$LOG"

# The input pane edits with the same code, and the form's last cut is in the shared kill
# buffer.
ui_type "helo"
ui_keys Left
ui_type "l"
ui_keys C-a
ui_type "X"
ui_check "input: still inserts at its cursor" ui_wait '› Xhello *$'
ui_keys C-e C-y
ui_check "input: yanks the text last cut in the form" ui_wait '› XhelloLisbons town old *$'
ui_keys C-q
ui_check "quits cleanly" ui_wait_dead
