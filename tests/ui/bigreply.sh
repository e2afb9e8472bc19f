#!/usr/bin/env bash
# tmux tests of a reply of many megabytes (6 MB, more than the renderer keeps of a text;
# ui/markdown.c's top says why): it streams to its last line, and its first lines, no
# longer kept, are drawn again when the transcript goes to the top; the session opened
# again (natter -c) shows both ends, and so does ask's stored reply opened in the interface.
set -u
. "$TESTS/ui/lib-ui.bash"

UI_TIMEOUT=120
isolated_home
fs_start
export OPENAI_API_KEY=sk-bigreply
mkdir -p "$XDG_CONFIG_HOME/natter"
printf 'providers:\n  openai:\n    base_url: %s/v1\n' "$FS_URL" >"$XDG_CONFIG_HOME/natter/natter.yaml"

# ends: the last line on screen, then Home shows the first and End the last again.
ends() {
	ui_check "$1: the last line is on screen" ui_wait ' w6000 abcdefghi'
	ui_keys Tab
	ui_keys Home
	ui_check "$1: Home draws the first lines again" ui_wait 'w1 abcdefghi'
	ui_check "$1: then the second, in order" ui_wait ' w2 abcdefghi'
	ui_keys End
	ui_check "$1: End goes back to the last" ui_wait ' w6000 abcdefghi'
}

ui_start 200 50 -m openai/fake
ui_type "huge tokens=6000 token_bytes=1000"
ui_keys Enter
ends "streamed"
ui_keys C-q
ui_wait_dead 20

ui_start 200 50 -c
ends "opened again"
ui_keys C-q
ui_wait_dead 20

"$NATTER" ask -m openai/fake "from ask tokens=6000 token_bytes=1000" </dev/null >/dev/null 2>&1
ui_start 200 50 -c
ends "ask's reply"
ui_keys C-q
ui_wait_dead 20
