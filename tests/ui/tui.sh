#!/usr/bin/env bash
# tmux-driven tests of the full-screen interface: the real (ASan) binary, an isolated HOME,
# the simulated provider and the fake server. Each check polls the screen with a timeout.
set -u
. "$TESTS/ui/lib-ui.bash"

isolated_home
cat >"$LIB_TMP/vectors.json" <<'JSON'
[{"name": "ui_escapes", "protocol": "openai-sse", "chunks": [
 "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"SAFE1 \\u001b]0;PWNED\\u0007title \\u001b[2J\\u001b[31mRED\\u001b[0m \\u009b31m C1\"}}]}\n\n",
 "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\" \\u001b]52;c;UFdORUQ=\\u0007 SAFE2\"},\"finish_reason\":\"stop\"}]}\n\n",
 "data: [DONE]\n\n"], "expected": {"text": "", "complete": true}}]
JSON
fs_start --vectors "$LIB_TMP/vectors.json"
export OPENAI_API_KEY=sk-test-ui-never-shown
mkdir -p "$XDG_CONFIG_HOME/natter"
printf 'providers:\n  openai:\n    base_url: %s/v1\n' "$FS_URL" >"$XDG_CONFIG_HOME/natter/natter.yaml"

# 1. Start, send, stream: the reply from the fake server grows and ends.
ui_start 100 30 -m openai/fake-model
ui_check "first frame shows the input and the model" ui_wait 'openai/fake-model'
ui_type "hello delay_ms=2 tokens=40"
ui_keys Enter
ui_check "send: the user message appears" ui_wait '▍you'
ui_check "stream: the last token of the reply is on screen" ui_wait 'w40'
ui_check "stream: the status line shows tokens per second" ui_wait '[0-9]\.[0-9] tok/s'
ui_check "the API key never reaches the screen" bash -c "! tmux -L $UI_SOCK capture-pane -p | grep -q sk-test"

# 2. Cancel with Esc keeps the partial reply, marked cancelled.
ui_type "slow delay_ms=40 tokens=2000"
ui_keys Enter
ui_wait 'w5 '
ui_keys Escape
ui_check "cancel: Esc marks the reply cancelled" ui_wait 'cancelled: the partial reply above is kept'
ui_check "cancel: the partial text is kept" ui_wait 'w4 w5'
ui_check "cancel: the stream really stopped" bash -c "! tmux -L $UI_SOCK capture-pane -p | grep -q 'w1999'"

# 3. Scroll: a long reply, PgUp leaves the end, End/PgDn come back.
ui_type "long tokens=3000"
ui_keys Enter
ui_check "long reply streamed to its end" ui_wait 'w2999 w3000'
ui_keys PPage
ui_check "PgUp scrolls away from the end" ui_wait_not 'w3000'
ui_check "PgUp: the status line says the view is scrolled" ui_wait 'scrolled'
ui_keys PPage PPage NPage NPage NPage NPage
ui_check "PgDn returns to the end" ui_wait 'w2999 w3000'

# 4. Resize re-wraps: narrower window, no line wider than the window, the end still shown.
tmux -L "$UI_SOCK" resize-window -x 50 -y 20
ui_check "resize: the end of the reply is visible at 50x20" ui_wait 'w3000'
ui_check "resize: no row is wider than the window" bash -c \
	"tmux -L $UI_SOCK capture-pane -p | while IFS= read -r l; do [ \${#l} -le 50 ] || exit 1; done"
tmux -L "$UI_SOCK" resize-window -x 40 -y 12
ui_check "resize: 40x12 still draws the input and status" ui_wait 'openai/fake'
tmux -L "$UI_SOCK" resize-window -x 100 -y 30
ui_check "resize: back to 100x30 the session list returns" ui_wait 'Sessions'

# 5. Escape sequences in model output are never executed: each ESC and C1 control shows as
# U+FFFD and the rest of the sequence as plain text.
ui_type "vector=ui_escapes"
ui_keys Enter
ui_check "escapes: the OSC shows as a mark and inert text" ui_wait 'SAFE1 �]0;PWNED�title'
ui_check "escapes: CSI and C1 CSI show as marks" ui_wait '�\[2J�\[31mRED�\[0m �31m C1'
ui_check "escapes: text after the OSC 52 is shown" ui_wait '�]52;c;UFdORUQ=� SAFE2'
ui_check "escapes: the title was not set by the reply" bash -c "[ \"\$(tmux -L $UI_SOCK display -p '#{pane_title}')\" != PWNED ]"
ui_check "escapes: the clipboard was not set by the reply" bash -c "! tmux -L $UI_SOCK show-buffer 2>/dev/null | grep -q PWNED"

# 6. Provider errors appear inline with what to do next.
ui_type "status=401"
ui_keys Enter
ui_check "error: shown inline in the transcript" ui_wait '✗ auth'

# 7. Bracketed paste of several lines does not send.
ui_keys M-n
ui_wait 'Type a message'
tmux -L "$UI_SOCK" set-buffer -b p "$(printf 'pasted line one\npasted line two\npasted line three')"
tmux -L "$UI_SOCK" paste-buffer -p -b p
ui_check "paste: every pasted line is in the input" ui_wait '  pasted line three'
ui_check "paste: nothing was sent" bash -c "! tmux -L $UI_SOCK capture-pane -p | grep -q '▍you'"
ui_keys C-u C-k C-u C-k C-u C-k C-u

# 8. Help overlay (F1) lists keys from the table; Esc closes it.
ui_keys F1
ui_check "help: F1 opens the overlay" ui_wait 'natter keys'
# The global keys fill the first page at 30 rows: filtering finds the input's.
ui_type "send the"
ui_check "help: the overlay lists the send key" ui_wait 'send the message'
ui_keys Escape
ui_check "help: Esc closes the overlay" ui_wait_not 'natter keys'

# 9. Quit with Ctrl+Q: exit status 0 and the terminal modes restored.
ui_keys C-q
ui_check "quit: Ctrl+Q ends natter" ui_wait_dead
ui_check "quit: exit status 0" [ "$(ui_exit_status)" = 0 ]
ui_check "quit: alternate screen left" bash -c "[ \"\$(tmux -L $UI_SOCK display -p '#{alternate_on}')\" = 0 ]"
ui_check "quit: cursor visible again" bash -c "[ \"\$(tmux -L $UI_SOCK display -p '#{cursor_flag}')\" = 1 ]"
ui_check "quit: mouse reporting off" bash -c "[ \"\$(tmux -L $UI_SOCK display -p '#{mouse_any_flag}')\" = 0 ]"

# 10. Sessions persist: a new run lists the chats of the last one.
ui_start 100 30 -m openai/fake-model
ui_check "sessions: the list shows earlier chats" ui_wait 'hello delay_ms=2 tokens=40'

# 11. Editor hand-off: Ctrl+G runs $EDITOR and takes the text back.
printf '#!/bin/sh\nprintf "written by the editor\\n" > "$1"\n' >"$LIB_TMP/ed.sh"
chmod +x "$LIB_TMP/ed.sh"
ui_keys C-q
ui_wait_dead
EDITOR="$LIB_TMP/ed.sh" VISUAL= ui_start 100 30 -m openai/fake-model
ui_type "draft"
ui_keys C-g
ui_check "editor: the edited text replaces the draft" ui_wait '› written by the editor'
ui_check "editor: the final newline is trimmed (one input row)" bash -c \
	"tmux -L $UI_SOCK capture-pane -p | grep -A1 '› written by the editor' | tail -n 1 | grep -q 'openai/fake-model'"

# 12. Idle: no CPU used while nothing happens.
pid=$(ui_pid)
t0=$(ui_cpu_ticks "$pid")
sleep 3
t1=$(ui_cpu_ticks "$pid")
ui_check "idle: 0 CPU ticks in 3 s (was $t0, now $t1)" [ "$t0" = "$t1" ]
ui_keys C-c
ui_check "Ctrl+C once when idle only warns" ui_wait 'again to quit'
ui_keys C-c
ui_check "Ctrl+C twice when idle quits" ui_wait_dead

# 13. Remapped key from the YAML config; wide characters wrap without loss.
printf 'bindings:\n  - { context: input, key: C-s, action: send }\n  - { context: input, key: Enter, action: newline }\n' >>"$XDG_CONFIG_HOME/natter/natter.yaml"
ui_start 60 24 -m openai/fake-model
cjk="日本語のテキストを折り返しても文字が失われないことを確かめる。絵文字🙂👍も同じく幅二。"
ui_type "$cjk"
ui_keys Enter
ui_check "remap: Enter was remapped to newline (nothing sent)" bash -c "! tmux -L $UI_SOCK capture-pane -p | grep -q '▍you'"
ui_keys C-s
ui_check "remap: C-s sends" ui_wait '▍you'
ui_check "wide: the reply echo arrives" ui_wait 'fakeserver answering'
ui_check "wide: the wrapped CJK message keeps every character" bash -c \
	"tmux -L $UI_SOCK capture-pane -p -J | sed -n '/▍you/,/▍assistant/p' | sed 's/^.*│//' | tr -d ' \n' | grep -q '$cjk'"
ui_keys C-q
ui_wait_dead

# 14. mouse: in the config turns wheel scrolling on from the start, as a key of the schema
# (no configuration error), and F5 still toggles it.
printf 'mouse: true\n' >>"$XDG_CONFIG_HOME/natter/natter.yaml"
ui_start 100 30 -m openai/fake-model
ui_check "mouse: true: mouse reporting on at start" bash -c "[ \"\$(tmux -L $UI_SOCK display -p '#{mouse_any_flag}')\" = 1 ]"
ui_check "mouse: true: no configuration error shown" bash -c "! tmux -L $UI_SOCK capture-pane -p | grep -q 'configuration errors'"
ui_keys F5
ui_check "mouse: F5 turns it off" ui_wait 'mouse off'
ui_check "mouse: reporting off after F5" bash -c "[ \"\$(tmux -L $UI_SOCK display -p '#{mouse_any_flag}')\" = 0 ]"
ui_keys C-q
ui_wait_dead
