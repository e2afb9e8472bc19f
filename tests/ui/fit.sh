#!/usr/bin/env bash
# tmux tests of what is shortened to fit: the status line of a 40-column terminal drops
# whole fields rather than ending in the middle of one; the /model picker at 40x12 keeps
# what tells its models apart (names and ids); /metrics in an 80-column terminal keeps every reply's cost
# and the totals; a four-model comparison at 200 columns keeps each column's cost in its
# footer. The offline simulated provider answers, with prices from the config.
set -u
. "$TESTS/ui/lib-ui.bash"

isolated_home
mkdir -p "$XDG_CONFIG_HOME/natter"
cat >"$XDG_CONFIG_HOME/natter/natter.yaml" <<YAML
models:
  sa: {provider: simulated, id: sim-alpha, price_input: 1.5, price_output: 2.5}
  sb: {provider: simulated, id: sim-bravo, price_input: 1.5, price_output: 2.5}
  sc: {provider: simulated, id: sim-charlie, price_input: 1.5, price_output: 2.5}
  sd: {provider: simulated, id: sim-delta, price_input: 1.5, price_output: 2.5}
YAML

# status: the status line (the last row of the screen).
status() { ui_screen | tail -n 1; }

# A reply at 40 columns: the line ends with a whole field, its token count.
ui_start 40 12 -m simulated/simulated-fast
ui_type "tokens=30 hello"
ui_keys Enter
ui_wait '30 tok' 10
ui_check "status at 40 columns: whole fields, the reply's tokens last" \
	bash -c "tmux -L $UI_SOCK capture-pane -p | tail -n 1 | grep -q '^ simulated/simulated-fast │ 30 tok *$'"

# The picker at 40x12: models whose names or ids differ only at their end stay apart. The
# configured ones keep what tells their ids apart (from the first difference on), the
# listed ones the end of their names.
ui_type "/model"
ui_keys Enter
ui_wait 'simula…-fast' 10
rows=$(ui_screen | grep -o '│.[a-z][^│]*│' | sed 's/ *│$//')
ui_check "picker at 40x12: each configured model's id shows where it differs" \
	bash -c "for m in alpha bravo charlie delta; do echo '$rows' | grep -q \"…-\$m\" || exit 1; done"
ui_check "picker at 40x12: no two rows alike" \
	bash -c "[ \$(echo '$rows' | wc -l) -ge 5 ] && [ \$(echo '$rows' | sort | uniq | wc -l) -eq \$(echo '$rows' | wc -l) ]"
ui_keys Down Down Down Down Down Down
ui_check "picker at 40x12: a listed model's end is shown" ui_wait 'simula…-slow'
ui_keys Escape
ui_keys C-q
ui_wait_dead 10

# /metrics at 80 columns: every reply row ends with its whole cost, and the totals too.
ui_start 80 24 -m sa
ui_type "tokens=20 one"
ui_keys Enter
ui_wait '20 tok' 10
ui_type "/model sb"
ui_keys Enter
ui_type "tokens=40 two"
ui_keys Enter
ui_wait '40 tok' 10
ui_type "/metrics"
ui_keys Enter
ui_wait 'metrics of this session' 10
ui_check "metrics at 80 columns: each reply's cost is whole" \
	bash -c "[ \$(tmux -L $UI_SOCK capture-pane -p | grep -c '│ [12] .*\$0\.[0-9]\{6\} *│') -eq 2 ]"
ui_check "metrics at 80 columns: the total cost is shown" \
	bash -c "tmux -L $UI_SOCK capture-pane -p | grep -q 'cost \$0\.[0-9]\{6\} *│'"
ui_keys Escape
ui_keys C-q
ui_wait_dead 10

# Four models side by side at 200 columns: every footer keeps its token count and cost.
ui_start 200 30 -m sa
ui_type "/compare sa sb sc sd"
ui_keys Enter
ui_wait 'comparing 4 models' 10
ui_type "tokens=30 four"
ui_keys Enter
ui_wait '✓ complete .*│ ✓ complete .*│ ✓ complete .*│ ✓ complete' 20
foot=$(ui_screen | grep '30 tok · \$' | head -n 1)
n=$(echo "$foot" | grep -o '30 tok · \$0\.[0-9]\{6\}' | wc -l)
if [ "$n" -eq 4 ]; then
	tap_ok "compare at 200 columns: each footer keeps tokens and the whole cost"
else
	tap_fail "compare at 200 columns: each footer keeps tokens and the whole cost" \
		"footer: $foot" "$(ui_screen)"
fi
ui_keys C-q
ui_wait_dead 10
