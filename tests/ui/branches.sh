#!/usr/bin/env bash
# tmux test of history that branches: a reply regenerated with another model is ‹2/2›,
# Left on it shows the first reply again (‹1/2›, its model back), and the next prompt goes
# on from the reply on screen: the stored tree says so, `sessions show` prints that path,
# and --tree still has the other reply. Then f on a message forks a new session that
# shows the history up to it.
set -u
. "$TESTS/ui/lib-ui.bash"

isolated_home
export NATTER_DB=$LIB_TMP/branches.db

ui_start 110 30 chat -m simulated
ui_type "tokens=3 first question alpha"
ui_keys Enter
ui_wait "Hello from the" 10
ui_type "/model simulated/other"
ui_keys Enter
ui_wait "simulated/other" 5
ui_keys M-r
# Wait for the regenerated reply's end (its figures): alternatives do not switch mid-reply.
if ui_wait "assistant ‹2/2› · other .*tok/s" 10; then
	tap_ok "regenerating keeps the first reply: the new one is ‹2/2›"
else
	tap_fail "regenerating keeps the first reply" "$(ui_screen)"
fi
# Tab focuses the transcript; Left with no selection acts on the last message that has
# alternatives.
ui_keys Tab
ui_keys Left
if ui_wait "assistant ‹1/2› · simulated ·" 5; then
	tap_ok "Left shows the first reply again"
else
	tap_fail "Left shows the first reply again" "$(ui_screen)"
fi
tap_check "the regenerated reply is off the screen" \
    bash -c '! grep -q "‹2/2›" <<<"$1"' _ "$(ui_screen)"
ui_keys M-i
ui_type "tokens=2 second question beta"
ui_keys Enter
ui_wait "second question beta" 10
if ui_wait "Hello from$" 10 || ui_wait "assistant · other" 10; then
	tap_ok "the next prompt is answered under the first reply"
else
	tap_fail "the next prompt is answered under the first reply" "$(ui_screen)"
fi
tap_check "the first reply is still the one shown" grep -q "‹1/2› · simulated" \
    <(ui_screen)
ui_keys C-q
ui_wait_dead 10

# The stored tree: the second prompt follows the first reply, not the regenerated one.
parent=$(sqlite3 "$NATTER_DB" "SELECT parent_id FROM messages WHERE content LIKE
    'tokens=2 second%'")
first=$(sqlite3 "$NATTER_DB" "SELECT id FROM messages WHERE role = 'assistant'
    AND model = 'simulated' ORDER BY id LIMIT 1")
tap_eq "the next send went on from the path on screen" "$first" "$parent"
"$NATTER" sessions show 1 >"$LIB_TMP/show" 2>&1
tap_check "sessions show prints that path" grep -q "alternative 1 of 2" "$LIB_TMP/show"
tap_check "and not the other reply" bash -c \
    '[ "$(grep -c "^\[assistant" "$1")" = 2 ]' _ "$LIB_TMP/show"
"$NATTER" sessions show 1 --tree >"$LIB_TMP/tree" 2>&1
tap_check "--tree has the regenerated reply too" grep -q "alternative 2 of 2 · follows #1" \
    "$LIB_TMP/tree"

# Reopened, the session shows the path chosen; f on the first reply forks from it.
ui_start 110 30 chat -S 1
ui_wait "second question beta" 10
ui_keys Tab
ui_keys Up Up Up
ui_keys f
if ui_wait "forked: a new session" 10; then
	tap_ok "f forks from the selected message"
else
	tap_fail "f forks from the selected message" "$(ui_screen)"
fi
tap_check "the fork shows the history up to it and not what followed" bash -c \
    'grep -q "first question alpha" <<<"$1" && ! grep -q "second question beta" <<<"$1"' \
    _ "$(ui_screen)"
ui_keys C-q
ui_wait_dead 10
tap_eq "the fork is a new session sharing the rows" \
    "2|1" "$(sqlite3 "$NATTER_DB" "SELECT max(id), count(*) FROM sessions WHERE forked_from
    IS NOT NULL")"
tap_eq "and natter still exits 0" "0" "$(ui_exit_status)"
