#!/usr/bin/env bash
# tmux tests of `natter chat`: -S ID opens that stored session (here one `natter ask` made,
# so a chat started on the command line goes on in the interface), -c opens the latest one,
# -m applies over the session's model, an unknown id says so and starts empty, and a
# comparison from `natter compare` shows side by side.
set -u
. "$TESTS/ui/lib-ui.bash"

isolated_home
export NATTER_DB=$LIB_TMP/chat.db
"$NATTER" ask -m simulated "tokens=3 from the command line alpha" >/dev/null 2>&1 </dev/null
"$NATTER" ask -m simulated "tokens=3 the latest one beta" >/dev/null 2>&1 </dev/null
"$NATTER" compare -m simulated -m simulated/other "tokens=2 compared gamma" >/dev/null 2>&1 </dev/null

ui_start 100 30 -c
if ui_wait "compared on 2 models" 10; then
	tap_ok "-c opens the latest session (the comparison)"
else
	tap_fail "-c opens the latest session" "$(ui_screen)"
fi
if ui_wait "2 simulated/other" 5; then
	tap_ok "a stored comparison shows in columns"
else
	tap_fail "a stored comparison shows in columns" "$(ui_screen)"
fi
ui_keys C-q
ui_wait_dead 10

ui_start 100 30 chat -S 1
if ui_wait "from the command line alpha" 10 && ui_wait "Hello from" 5; then
	tap_ok "chat -S 1 opens the session ask stored, with its reply"
else
	tap_fail "chat -S 1 opens the session ask stored" "$(ui_screen)"
fi
ui_type "tokens=2 and on in the interface"
ui_keys Enter
ui_wait "Hello from the" 10
ui_keys C-q
ui_wait_dead 10
"$NATTER" sessions show 1 >"$LIB_TMP/show" 2>&1
tap_check "the interface added to that session" grep -q "and on in the interface" "$LIB_TMP/show"

ui_start 100 30 chat -S 2 -m simulated/zeta
if ui_wait "the latest one beta" 10 && ui_wait "simulated/zeta" 5; then
	tap_ok "-m applies over the opened session's model"
else
	tap_fail "-m applies over the opened session's model" "$(ui_screen)"
fi
ui_keys C-q
ui_wait_dead 10

ui_start 100 30 chat -S 99
if ui_wait "no session 99" 10; then
	tap_ok "an unknown id says so"
else
	tap_fail "an unknown id says so" "$(ui_screen)"
fi
ui_keys C-q
ui_wait_dead 10
tap_eq "and natter still exits 0" "0" "$(ui_exit_status)"
