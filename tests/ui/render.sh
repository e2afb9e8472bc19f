#!/usr/bin/env bash
# tmux tests of how replies are drawn: a fenced code block is highlighted once it closes
# (colours checked with capture-pane -e: keywords, types and comments in their roles'
# colours, with nano's c.nanorc), a Markdown table is drawn aligned with borders, a task
# list shows its boxes, a link its address, math in Unicode; OSC 8 hyperlinks reach the
# terminal only when render.hyperlinks is on, and synchronized output (mode 2026) wraps
# the frames only when render.sync_output is on (tmux pipe-pane records what natter
# writes); without syntax files the code stays plain. The fake server's echo=1 sends the
# prompt back as the reply; the prompt is pasted (bracketed paste) so it keeps its lines.
set -u
. "$TESTS/ui/lib-ui.bash"

isolated_home
fs_start
export OPENAI_API_KEY=sk-render
mkdir -p "$XDG_CONFIG_HOME/natter"
conf() { # $1: the render: section's lines
	printf 'providers:\n  openai:\n    base_url: %s/v1\nrender:\n%s\n' "$FS_URL" "$1" \
		>"$XDG_CONFIG_HOME/natter/natter.yaml"
}
RAW="$LIB_TMP/raw"
# start_piped W H: start natter and record everything it writes to the terminal.
start_piped() {
	: >"$RAW"
	ui_launch "$1" "$2" -m openai/fake
	tmux -L "$UI_SOCK" pipe-pane -o "cat >>$RAW"
	ui_wait 'Sessions\|Type a message\|› ' || return 1
}
# paste TEXT: paste text into the input (bracketed paste keeps its line breaks).
paste() {
	printf '%s' "$1" >"$LIB_TMP/paste"
	tmux -L "$UI_SOCK" load-buffer "$LIB_TMP/paste"
	tmux -L "$UI_SOCK" paste-buffer -p
}
# colored: the pane with its attributes.
colored() { tmux -L "$UI_SOCK" capture-pane -p -e; }
# raw_has BYTES: natter wrote these bytes (printf escapes) to the terminal.
raw_has() { grep -qaF -- "$(printf "$1")" "$RAW"; }

PROMPT='echo=1 Here it is:

```c
int main(void) { return 0; } // all done
```

| Fruit | Qty |
|:------|----:|
| apple | 3 |
| kiwi | 12 |

- [ ] todo item
- [x] done item

See [the docs](https://example.com/docs) and $x^2 + \alpha$ too.
'

conf '  hyperlinks: false
  sync_output: false'
start_piped 100 40
paste "$PROMPT"
ui_keys Enter
ui_wait 'too\.' 15
# The block may be painted a frame after the last words show (a loaded machine sees it).
for _ in $(seq 100); do
	colored | grep -a 'all done' | grep -q $'\e\\[36m' && break
	sleep 0.1
done
# The code line: "int" a type (cyan), "return" a keyword (magenta, bold), the comment
# blue and italic, in the terminal theme; tmux writes each change of attributes as SGR.
line=$(colored | grep -a 'all done' | tail -n 1)
case $line in *$'\e[36m'int*) tap_ok "highlight: int is drawn as a type (cyan)" ;;
	*) tap_fail "highlight: int is drawn as a type (cyan)" "$(printf '%q' "$line")" ;; esac
case $line in *$'\e[35m'return*|*$'\e[1m\e[35m'return*|*'35m'return*) tap_ok "highlight: return is drawn as a keyword (magenta)" ;;
	*) tap_fail "highlight: return is drawn as a keyword (magenta)" "$(printf '%q' "$line")" ;; esac
case $line in *'34m'*'// all done'*) tap_ok "highlight: the comment is drawn as a comment (blue)" ;;
	*) tap_fail "highlight: the comment is drawn as a comment (blue)" "$(printf '%q' "$line")" ;; esac
ui_check "table: drawn aligned with borders" bash -c "tmux -L $UI_SOCK capture-pane -p |
	grep -q '┌───────┬─────┐' && tmux -L $UI_SOCK capture-pane -p | grep -q '│ apple │   3 │' &&
	tmux -L $UI_SOCK capture-pane -p | grep -q '│ kiwi  │  12 │' &&
	tmux -L $UI_SOCK capture-pane -p | grep -q '└───────┴─────┘'"
ui_check "task list: boxes for open and done items" bash -c "tmux -L $UI_SOCK capture-pane -p |
	grep -q '☐ todo item' && tmux -L $UI_SOCK capture-pane -p | grep -q '☑ done item'"
ui_check "link: its address follows its text; math in Unicode" bash -c "tmux -L $UI_SOCK capture-pane -p |
	grep -q 'See the docs (https://example.com/docs) and x² + α too.'"
if raw_has '\033]8;'; then tap_fail "hyperlinks false: no OSC 8 reaches the terminal"
else tap_ok "hyperlinks false: no OSC 8 reaches the terminal"; fi
if raw_has '\033[?2026'; then tap_fail "sync_output false: no mode 2026 sequences"
else tap_ok "sync_output false: no mode 2026 sequences"; fi
ui_keys C-q
ui_wait_dead 10

# Hyperlinks and synchronized output on: the link's cells are rewritten inside OSC 8 with
# the sanitized address, and every frame is wrapped in CSI ? 2026 h ... l.
conf '  hyperlinks: true
  sync_output: true'
start_piped 100 40
paste "$PROMPT"
ui_keys Enter
ui_wait 'too\.' 15
sleep 0.3
ui_check "hyperlinks true: the link goes out as an OSC 8 hyperlink" \
	raw_has '\033]8;;https://example.com/docs\033\\the docs\033]8;;\033\\'
ui_check "hyperlinks true: the address shown is a hyperlink too" \
	raw_has '\033]8;;https://example.com/docs\033\\https://example.com/docs\033]8;;'
h=$(grep -aoF -- "$(printf '\033[?2026h')" "$RAW" | wc -l)
l=$(grep -aoF -- "$(printf '\033[?2026l')" "$RAW" | wc -l)
if [ "$h" -gt 1 ] && [ "$h" -eq "$l" ]; then tap_ok "sync_output true: each frame is wrapped in mode 2026 ($h)"
else tap_fail "sync_output true: each frame is wrapped in mode 2026" "begin $h, end $l"; fi
ui_check "the screen is drawn the same with both on" bash -c "tmux -L $UI_SOCK capture-pane -p |
	grep -q 'See the docs (https://example.com/docs) and x² + α too.'"
ui_keys C-q
ui_wait_dead 10

# auto: natter asks the terminal (DECRQM) once the first frame is up; whatever comes
# back is never typed into the draft.
conf '  sync_output: auto'
start_piped 100 40
sleep 0.5
ui_check "sync_output auto: the terminal is asked about mode 2026" raw_has '\033[?2026$p'
ui_check "sync_output auto: the answer is not typed into the input" bash -c "! tmux -L $UI_SOCK capture-pane -p | grep -q '2026'"
ui_type "typed"
ui_check "sync_output auto: typing still works" ui_wait '› typed' 5
ui_keys C-q
ui_wait_dead 10

# No syntax files: the code is drawn, plain, in the code block's own colours.
conf '  syntax_dirs: [/nonexistent/natter-syntax]'
start_piped 100 40
paste "$PROMPT"
ui_keys Enter
ui_wait 'too\.' 15
line=$(colored | grep -a 'all done' | tail -n 1)
case $line in *'35m'return*) tap_fail "no syntax files: code stays plain" "$(printf '%q' "$line")" ;;
	*'int main(void) { return 0; } // all done'*) tap_ok "no syntax files: code stays plain" ;;
	*) tap_fail "no syntax files: code stays plain" "$(printf '%q' "$line")" ;; esac
ui_keys C-q
ui_wait_dead 10
