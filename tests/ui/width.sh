#!/usr/bin/env bash
# tmux tests of wide characters as the terminal draws them: an emoji ZWJ sequence and a
# flag streamed into a reply leave no blank cells after them, a session title with them
# keeps the list's border in its column, and a Hangul-then-Chinese run fills its line
# rather than wrapping at the space before it, with no line starting with a full stop.
# The offline simulated provider echoes the prompt back, a few tokens at a time.
set -u
. "$TESTS/ui/lib-ui.bash"

isolated_home
FAM=$(printf '\xf0\x9f\x91\xa8\xe2\x80\x8d\xf0\x9f\x91\xa9\xe2\x80\x8d\xf0\x9f\x91\xa7')
FLAG=$(printf '\xf0\x9f\x87\xab\xf0\x9f\x87\xb7')

# The reply echoes "A<family>B C<flag>D" as it streams, token by token.
ui_start 100 30 -m simulated/simulated-slow
ui_type "A${FAM}B C${FLAG}D tokens=40"
ui_keys Enter
ui_wait "You wrote:" 15
ui_wait "Things to try" 15
ui_check "stream: no blank cells after a ZWJ sequence or a flag" \
	ui_wait "You wrote: \"A${FAM}B C${FLAG}D\"" 5
# The session list's border is in the same column on the title's row as on the next one:
# the title is 20 columns wide as tmux draws it (the family and the flag take two each).
title=$(ui_screen | grep -m 1 "^▸A${FAM}B")
next=$(ui_screen | grep -m 1 '^ simulated-slow · ')
pad=$(echo "$title" | sed "s/^▸A${FAM}B C${FLAG}D tokens=40\( *\)│.*/\1/" | tr -d '\n' | wc -m)
col=$(echo "$next" | sed 's/│.*//' | tr -d '\n' | wc -m)
if [ -n "$title" ] && [ $((20 + pad)) -eq "$col" ]; then
	tap_ok "session list: the border stays in its column after wide characters"
else
	tap_fail "session list: the border stays in its column after wide characters" \
		"title row: $title" "next row: $next" "pad $pad, border at $col"
fi
ui_keys C-q
ui_wait_dead 10

# Hangul then Chinese after a space: the first line fills up to the transcript's width.
ui_start 60 50 -m simulated/simulated-fast
ui_type "ab 한국어한국어한국어中文中文中文中文中文中文中文中文中文中文中文。x"
ui_keys Enter
ui_wait "You wrote:" 10
ui_check "wrap: a Hangul-then-Chinese run fills the line after the space" \
	ui_wait '│ab 한국어한국어한국어中文' 5
ui_check "wrap: no line starts with a full stop" bash -c "! tmux -L $UI_SOCK capture-pane -p | grep -q '│。'"
ui_keys C-q
ui_wait_dead 10
