#!/usr/bin/env bash
# tmux tests of comparison rounds seen again: after a second /compare with other models,
# scrolling back to a round of the first shows that round's models in the header and its
# own states and figures in the footers, and the end shows the new ones again; a reopened
# comparison's footers are rebuilt from the stored replies; replies of two providers with
# the same model id are named with their providers; a comparison session is listed under
# the models that answered.
set -u
. "$TESTS/ui/lib-ui.bash"

isolated_home
fs_start --log "$LIB_TMP/fs-rounds.log"
export OPENAI_API_KEY=sk-test-rounds-openai
export ANTHROPIC_API_KEY=sk-test-rounds-anthropic
mkdir -p "$XDG_CONFIG_HOME/natter"
cat >"$XDG_CONFIG_HOME/natter/natter.yaml" <<YAML
providers:
  openai:
    base_url: $FS_URL/v1
    max_retries: 0
  anthropic:
    base_url: $FS_URL/v1
    max_retries: 0
YAML

# header_has REGEX: the comparison's header row (the first row of the transcript side).
header_has() { ui_screen | head -n 1 | grep -q -- "$1"; }
# footer_has REGEX: one of the two footer rows above the input's rule.
footer_has() { ui_screen | grep -B2 -- '─────────' | head -n 2 | grep -q -- "$1"; }

ui_start 150 30 -m openai/m-main

# Keys read in one burst with an Enter inside are taken as a paste, so each line typed
# waits for the one before to be handled.

# 1. Two comparisons of other models; PgUp back to the first one's round.
ui_type "/compare openai/m-a anthropic/m-b"
ui_keys Enter
ui_wait 'each prompt now goes to all'
ui_type "first round [m-a]tokens=250 [m-b]tokens=260"
ui_keys Enter
ui_check "rounds: the first round completes" ui_wait '✓ complete .*│ ✓ complete'
ui_type "/compare openai/m-c anthropic/m-d openai/m-e"
ui_keys Enter
ui_check "rounds: right after /compare the header names the new models" \
	ui_wait '^.*1 openai/m-c .*│ 2 anthropic/m-d .*│ 3 openai/m-e'
ui_type "second round tokens=400"
ui_keys Enter
ui_check "rounds: the second round completes" ui_wait '✓ complete .*│ ✓ complete .*│ ✓ complete'
ui_check "rounds: its figures are in the footers" footer_has '400 tok .*│.*400 tok .*│.*400 tok'
ui_keys PPage PPage PPage PPage PPage PPage
ui_check "rounds: scrolled back to the first round" ui_wait 'first round \[m-a\]'
ui_check "rounds: the header names the first round's models" \
	header_has '1 openai/m-a .*│ 2 anthropic/m-b *$'
ui_check "rounds: not the later comparison's" bash -c "! tmux -L $UI_SOCK capture-pane -p | head -n 1 | grep -q m-c"
ui_check "rounds: the footers show the first round's own figures" \
	footer_has '250 tok .*│.*260 tok *$'
ui_keys NPage NPage NPage NPage NPage NPage
ui_check "rounds: PgDn shows the latest round's models again" \
	ui_wait '^.*1 openai/m-c .*│ 2 anthropic/m-d .*│ 3 openai/m-e'
ui_check "rounds: and its figures" footer_has '400 tok .*│.*400 tok .*│.*400 tok'
# The session list names the models that answered, not m-main, which never did.
ui_check "label: the session is listed under the models that answered" \
	ui_wait '^ compare: m-a, m-b, m-c'
ui_check "label: not under the model natter started with" bash -c \
	"! tmux -L $UI_SOCK capture-pane -p | grep -q '^ m-main · '"
ui_keys C-q
ui_check "quit: natter exits" ui_wait_dead
ui_check "label: natter sessions list says the same" bash -c \
	"'$NATTER' sessions list | grep -q ' compare: m-a, m-b, m-c, m-d, m-e  *first round'"

# 2. Reopened, a comparison shows each column's stored state and figures: replies cut off
# by a quit (cancelled) or a crash (interrupted) carry no token count, so the footers
# estimate it from the stored text rather than say "- tok".
ui_start 150 30 -m openai/m-main
ui_type "/compare openai/m-a anthropic/m-b"
ui_keys Enter
ui_wait 'each prompt now goes to all'
ui_type "cut by a quit delay_ms=30 tokens=400"
ui_keys Enter
ui_check "reopen: both columns stream" ui_wait '│w1 w2 w3 w4 w5 w6 w7 w8 .*│ w1 w2 w3 w4 w5 w6 w7 w8 '
ui_keys C-q
ui_wait_dead
ui_start 150 30 -c
ui_check "reopen: the comparison resumes" ui_wait 'this session ends in a comparison of 2 models'
ui_check "reopen: each footer has its stored state" \
	footer_has '⊘ cancelled: partial reply kept .*│ ⊘ cancelled: partial reply kept'
ui_check "reopen: the uncounted tokens are estimated from the text" \
	footer_has ' · ~[0-9][0-9]* tok .*│.* · ~[0-9][0-9]* tok *$'
ui_check "reopen: no column says - tok" bash -c "! tmux -L $UI_SOCK capture-pane -p | grep -q -- '- tok *\(│\|$\)'"
ui_type "cut by a crash delay_ms=30 tokens=400"
ui_keys Enter
ui_check "crash: both columns stream" ui_wait 'cut by a crash'
ui_wait '│w1 w2 w3 w4 w5 w6 w7 w8 .*│ w1 w2 w3 w4 w5 w6 w7 w8 ' 10
kill -9 "$(ui_pid)"
ui_wait_dead
ui_start 150 30 -c
ui_check "crash: reopened, each footer says interrupted" \
	ui_wait '⚠ interrupted .*│ ⚠ interrupted'
ui_check "crash: the tokens are estimated from the text" \
	footer_has ' · ~[0-9][0-9]* tok .*│.* · ~[0-9][0-9]* tok *$'
ui_keys C-q
ui_wait_dead
# 3. Two providers serving the same model id: each reply is named with its provider, so
# the columns are told apart; distinct ids stay short.
ui_start 150 30 -m openai/m-main
ui_type "/compare openai/mock-model anthropic/mock-model"
ui_keys Enter
ui_wait 'each prompt now goes to all'
ui_type "same id tokens=3"
ui_keys Enter
ui_check "names: the round completes" ui_wait '✓ complete .*│ ✓ complete'
ui_check "names: a shared id is named with its provider" \
	ui_wait '▍1 openai/mock-model · .*│ ▍2 anthropic/mock-model · '
ui_type "/compare openai/mock-model anthropic/m-b"
ui_keys Enter
ui_wait '1 openai/mock-model .*│ 2 anthropic/m-b *$'
ui_type "other ids tokens=3"
ui_keys Enter
ui_check "names: distinct ids stay short" ui_wait '▍1 mock-model · .*│ ▍2 m-b · '
ui_keys C-q
ui_wait_dead
ui_check "no sanitizer report" bash -c "! grep -qE 'Sanitizer|runtime error' '$LIB_TMP/natter-stderr' 2>/dev/null"
