#!/usr/bin/env bash
# tmux tests of tool calls in the interface, with the test MCP server (tests/mcp) and the
# simulated provider, which calls the tool a prompt names (call=NAME args=JSON): the servers
# start without holding up the interface and /tools lists them; an allowed call runs and its
# line says ok; another asks in the status line with the bell, and y runs it, n refuses it
# with a reason the model hears, a allows the tool for the rest of the run, e edits the
# arguments in $EDITOR (text that is not one JSON object is refused and edited again); Esc
# cancels the turn while a call asks or runs; the repeat guard stops a model that loops; Enter
# and t expand a call into its arguments and result with "N more lines"; a reopened session
# shows the same lines; an idle natter with a server running uses no CPU.
set -u
. "$TESTS/ui/lib-ui.bash"

isolated_home
S=${MCPSERVER:-}
if [ ! -x "$S" ]; then
	tap_fail "the test MCP server is built" "\$MCPSERVER is not an executable: '$S'"
	exit 0
fi
export NATTER_DB=$LIB_TMP/tools.db
mkdir -p "$XDG_CONFIG_HOME/natter"
cat >"$XDG_CONFIG_HOME/natter/natter.yaml" <<YAML
mcp_servers:
  test:
    command: $S
    args: [--extra, "2"]
    env: {NATTER_UI_TOOLS: edited-value}
    allow: [echo]
  slow:
    command: $S
    args: [--slow-start, "3"]
YAML
chmod 600 "$XDG_CONFIG_HOME/natter/natter.yaml"

# The fake editor: the first run writes text that is no JSON object, the next ones the
# arguments the test wants; each keeps a copy of what it was given.
cat >"$LIB_TMP/ed.sh" <<EOF
#!/bin/sh
n=\$(cat "$LIB_TMP/ed-count" 2>/dev/null || echo 0)
n=\$((n + 1))
echo "\$n" >"$LIB_TMP/ed-count"
cp "\$1" "$LIB_TMP/ed-in.\$n"
if [ "\$n" = 1 ]; then
	printf 'not json {\n' >"\$1"
else
	printf '{"name": "NATTER_UI_TOOLS"}\n' >"\$1"
fi
EOF
chmod +x "$LIB_TMP/ed.sh"
BELLS=$LIB_TMP/bells

# bells: how many times the terminal bell rang.
bells() { if [ -f "$BELLS" ]; then wc -l <"$BELLS" | tr -d ' '; else echo 0; fi; }

# ask PROMPT: send a prompt.
ask() {
	ui_type "$1"
	ui_keys Enter
}

# idle: the turn is over (the input takes a message again).
idle() { ui_wait 'message (Enter sends' "${1:-10}"; }

# find_up REGEX: page up through the transcript until REGEX shows.
find_up() {
	local i
	for i in $(seq 1 20); do
		ui_screen | grep -q -- "$1" && return 0
		ui_keys PgUp
		sleep 0.2
	done
	return 1
}

# wait_bells N: wait until the bell rang N times.
wait_bells() {
	local i
	for i in $(seq 1 100); do
		[ "$(bells)" -ge "$1" ] && return 0
		sleep 0.05
	done
	return 1
}

EDITOR="$LIB_TMP/ed.sh" VISUAL= ui_start 120 40
tmux -L "$UI_SOCK" set-hook -g alert-bell "run-shell 'echo bell >>$BELLS'"
# A server that takes 3 s to start holds nothing up: what is typed shows at once.
ui_type "abc"
ui_check "the interface answers while a server is still starting" ui_wait '› abc' 2
ui_keys C-u

# /tools: the servers and their tools, with the allowed ones marked.
ask "/tools"
ui_check "/tools lists the server as ready" ui_wait 'test: ready, 14 tools'
ui_check "/tools marks an allowed tool" ui_wait '✓ test__echo'
ui_check "/tools lists a tool that asks, unmarked" ui_wait '    test__fail '
ui_check "/tools shows the slow server starting" ui_wait 'slow: starting'
ui_keys Escape
ui_wait_not 'test: ready' 5

# An allowed call runs at once: its line says ok and the model hears the result.
ask 'call=test__echo args={"text":"allowed-one"} go'
ui_check "an allowed call runs: its line says ok" ui_wait '⚙ test__echo  allowed-one · ok · '
ui_check "the model answers with the result" ui_wait 'The tool said: allowed-one'
idle
ui_check "an allowed call does not ring" [ "$(bells)" = 0 ]

# A call that is not allowed asks, with the bell; y runs it.
ask 'call=test__fail args={"why":"first"} go'
ui_check "a call not allowed waits: its line says so" ui_wait 'test__fail  first · awaiting approval'
ui_check "the status line asks, with the keys" ui_wait '⚙ run test__fail first · y once · a always · n refuse · e edit · Esc cancels'
ui_check "the bell rings when a call asks" wait_bells 1
ui_keys y
ui_check "y runs it: the tool's error is its state" ui_wait 'test__fail  first · error · '
ui_check "the model hears the tool's error" ui_wait 'The tool said: failure as asked'
idle

# n refuses with a reason typed in the input; the draft there comes back afterwards.
ask 'call=test__fail args={"why":"second"} go'
ui_wait 'test__fail  second · awaiting approval'
ui_type "my draft, yes"
ui_check "keys typed into a draft are no answer" ui_wait '› my draft, yes'
ui_check "... and the call still asks" ui_wait 'test__fail  second · awaiting approval'
ui_check "with a draft, the question says Tab first" ui_wait 'Tab, then y once'
ui_keys Tab n
ui_check "n asks for the reason in the input" ui_wait 'refuse test__fail: type why in the input'
ui_check "n: the input is empty for the reason" ui_wait_not '› my draft, yes' 5
ui_type "not on a Sunday"
ui_keys Enter
ui_check "n: the call line says refused" ui_wait 'test__fail  second · refused'
ui_check "n: the model's answer carries the reason" \
	ui_wait 'The tool said: the user refused this call: not on a Sunday'
ui_check "n: the draft comes back" ui_wait '› my draft, yes'
ui_keys C-u
idle

# a allows the tool for the rest of the run: the next call runs without asking.
ask 'call=test__extra1 args={"text":"third"} go'
ui_wait 'test__extra1  third · awaiting approval'
n=$(bells)
ui_keys a
ui_check "a runs the call" ui_wait 'The tool said: third'
idle
ask 'call=test__extra1 args={"text":"fourth"} go'
ui_check "after a, the tool runs without asking" ui_wait 'The tool said: fourth'
idle
ui_check "after a, no bell rang for it" [ "$(bells)" = "$n" ]
ask "/tools"
ui_check "/tools marks the tool allowed with a" ui_wait '✓ test__extra1'
ui_keys Escape
ui_wait_not 'test: ready' 5

# e edits the arguments: text that is no JSON object is said so and edited again, then the
# call runs with the edited arguments.
ask 'call=test__env args={"name":"NOPE"} go'
ui_wait 'test__env  NOPE · awaiting approval'
ui_keys e
ui_check "e: text that is no JSON object is refused" ui_wait 'not one JSON object'
ui_check "e: the question stays" ui_wait 'test__env  NOPE · awaiting approval'
ui_check "e: the editor got the arguments, indented" grep -q '"name": "NOPE"' "$LIB_TMP/ed-in.1"
ui_keys e
ui_check "e: the model hears the result of the edited call" ui_wait 'The tool said: edited-value'
ui_check "e: the second edit starts from the first one's text" grep -q 'not json' "$LIB_TMP/ed-in.2"
ui_check "e: the line shows the edited argument" ui_wait 'test__env  NATTER_UI_TOOLS · ok'
idle

# Esc while a call asks, and while one runs, cancels the whole turn.
ask 'call=test__hang args={"at":"asking"} go'
ui_wait 'test__hang  asking · awaiting approval'
ui_keys Escape
ui_check "Esc while a call asks: its line says cancelled" ui_wait 'test__hang  asking · cancelled'
ui_check "Esc while a call asks: the turn ends" idle
ask 'call=test__hang args={"at":"running"} go'
ui_wait 'test__hang  running · awaiting approval'
ui_keys y
ui_check "a call that hangs runs" ui_wait 'test__hang  running · running'
ui_check "the status line says what runs" ui_wait 'running test__hang running'
ui_keys Escape
ui_check "Esc while a call runs: its line says cancelled" ui_wait 'test__hang  running · cancelled'
ui_check "Esc while a call runs: the turn ends" idle

# A model that calls the same tool the same way again and again is stopped.
ask 'loop call=test__echo args={"text":"again"}'
ui_check "the repeat guard stops the loop and says so" \
	ui_wait 'natter stopped the tool loop: the same calls came 3 times in a row'
idle

# A long result, expanded below.
lines=$(printf 'L%02d\\n' $(seq 1 24))
ask "call=test__echo args={\"text\":\"${lines}L25\"} go"
ui_wait 'The tool said: L01'
idle

# Idle with the servers running: no CPU at all.
sleep 1
pid=$(ui_pid)
t0=$(ui_cpu_ticks "$pid")
sleep 3
t1=$(ui_cpu_ticks "$pid")
ui_check "idle with MCP servers running: 0 CPU ticks in 3 s (was $t0, now $t1)" [ "$t0" = "$t1" ]

# The session reopened shows the same lines, their states from what was stored.
ui_keys C-q
ui_wait_dead 10
ui_start 120 40 -c
ui_check "reopened: the long call's line" ui_wait '⚙ test__echo  L01'
# Enter and t expand a call: its arguments and result, a long result capped.
ui_keys Tab k
ui_keys t
ui_check "t expands the call: its arguments" ui_wait '│ {'
ui_check "t expands the call: its result" ui_wait '│ L10'
ui_check "a long result is capped with N more lines" ui_wait '… 15 more lines'
ui_keys Enter
ui_check "Enter collapses it" ui_wait_not '15 more lines' 5
ui_keys Enter
ui_check "Enter expands it again" ui_wait '… 15 more lines'
ui_keys Escape
ui_check "reopened: a call that was cancelled" find_up 'test__hang  running · cancelled'
ui_check "reopened: a refused call" find_up 'test__fail  second · refused'
ui_check "reopened: a call that failed" find_up 'test__fail  first · error'
ui_check "reopened: a call that ran" find_up 'test__echo  allowed-one · ok'
ui_keys C-q
ui_wait_dead 10

# Quitting while a call waits for approval answers it as cancelled, so the reopened session
# shows it ended, not still waiting.
ui_start 120 40 -c
ui_check "reopened again: the input takes a message" idle 20
# The servers start in the background: the tools are offered once the server is ready.
ask "/tools"
ui_check "reopened again: the test server is ready" ui_wait 'test: ready, 14 tools' 20
ui_keys Escape
ui_wait_not 'test: ready' 5
ask 'call=test__hang args={"at":"quitting"} go'
ui_check "a call asks before the quit" ui_wait 'test__hang  quitting · awaiting approval'
ui_keys C-q
ui_wait_dead 10
ui_start 120 40 -c
ui_check "quit while a call asks: reopened, the call is cancelled" \
	ui_wait 'test__hang  quitting · cancelled'
ui_check "... and nothing waits for approval" ui_wait_not 'awaiting approval' 3
ui_keys C-q
ui_wait_dead 10

# Comparison mode sends the same tools to every column, and each column runs its own loop:
# an allowed tool runs in both, a tool that asks asks once per column, in column order.
# ui_wait_count TEXT N: wait until TEXT shows N times on the screen.
ui_wait_count() {
	local i
	for i in $(seq 1 200); do
		[ "$(ui_screen | grep -oF -- "$1" | wc -l)" -ge "$2" ] && return 0
		sleep 0.05
	done
	return 1
}
ui_start 160 40
idle 20
ask "/tools"
ui_wait 'test: ready, 14 tools' 20
ui_keys Escape
ui_wait_not 'test: ready' 5
ui_type '/compare simulated simulated/simulated-fast'
ui_keys Enter
ui_wait 'each prompt now goes to all 2 models'
ask 'call=test__echo args={"text":"cols"}'
ui_check "compare: both columns run the allowed tool and answer with its result" \
	ui_wait_count 'The tool said: cols' 2
ui_check "compare: each column's call line names its column" ui_wait '1 ⚙ test__echo  cols · ok'
ui_check "... the second column's too" ui_wait '2 ⚙ test__echo  cols · ok'
idle
ask 'call=test__fail args={"at":"both"} go'
ui_check "compare: a call that asks asks in the first column first" \
	ui_wait '⚙ run test__fail both'
ui_check "... its column's footer says it waits" ui_wait '⚙ test__fail · awaiting approval'
ui_keys y
ui_check "compare: then the second column asks" ui_wait '2 ⚙ test__fail  both · awaiting approval'
ui_keys y
ui_check "compare: both columns hear the tool's error and answer" \
	ui_wait_count 'The tool said: failure as asked' 2
ui_keys C-q
ui_wait_dead 10
