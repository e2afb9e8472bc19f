#!/usr/bin/env bash
# natter mcp list / call against the test MCP server (tests/mcp/mcpserver.c): results of
# every kind (text, isError, images, structured), a timeout on a tool that hangs (and the
# notifications/cancelled the server hears), list_changed, paged tools/list, servers that
# crash at start, write garbage, are disabled, have a url that cannot be reached or do not
# exist (the HTTP transport itself is in mcp-http.sh), the environment a server gets (natter's API keys are not in it), Ctrl+C, output
# made terminal-safe, exit statuses, and no process left behind, zombie or alive.
set -u
. "$TESTS/integration/lib.sh"

isolated_home
S=${MCPSERVER:-}
if [ ! -x "$S" ]; then
	tap_fail "the test MCP server is built" "\$MCPSERVER is not an executable: '$S'"
	exit 0
fi
OUT=$LIB_TMP/out
ERR=$LIB_TMP/err
LOG=$LIB_TMP/server.log
CONF=$XDG_CONFIG_HOME/natter/natter.yaml
mkdir -p "$XDG_CONFIG_HOME/natter"
cat >"$CONF" <<EOF
mcp_servers:
  test:
    command: $S
    args: [--page, "4", --extra, "4", --log, $LOG]
    env: {MCP_GREETING: "hello \${NATTER_MCP_IT}"}
    allow: [echo]
    timeout: 0.5
  crash:
    command: $S
    args: [--crash-on-start]
  junk:
    command: $S
    args: [--garbage]
  junkcall:
    command: $S
    args: [--garbage-on-call]
  stubborn:
    command: $S
    args: [--stubborn]
  slow:
    command: $S
    args: [--slow-start, "2"]
  web:
    url: http://127.0.0.1:1/mcp
  off:
    command: $S
    enabled: false
EOF
N=$NATTER

# run ARGS...: natter with stdout in $OUT, stderr in $ERR; sets ST and MS (milliseconds).
run() {
	local t0
	t0=$(date +%s%N)
	"$N" "$@" >"$OUT" 2>"$ERR"
	ST=$?
	MS=$((($(date +%s%N) - t0) / 1000000))
}

# contains DESC FILE TEXT: ok when FILE holds TEXT.
contains() {
	if grep -qF -- "$3" "$2"; then
		tap_ok "$1"
	else
		tap_fail "$1" "wanted: $3" "$(cat "$2")"
	fi
}

# left: the test server's processes still alive (or zombies), one per line.
left() {
	ps -eo pid=,stat=,args= | grep -F -- "$S" | grep -v grep
}

run mcp --help
tap_eq "mcp --help exits 0" 0 "$ST"
contains "mcp --help shows both commands" "$OUT" "natter mcp call SERVER TOOL"
run mcp
tap_eq "mcp without a command exits 2" 2 "$ST"

# list: every server, its state and tools; only the first line of a description.
run mcp list
tap_eq "list with failing servers exits 3" 3 "$ST"
contains "list: the test server is ready with every page of tools" "$OUT" \
	"test: ready, 16 tools (natter-test-server 1.0)"
contains "list: the last page's tool is there" "$OUT" "  extra4 "
contains "list: an allowed tool says so" "$OUT" "  echo        allowed  Return the text it is given."
contains "list: other tools ask" "$OUT" "  fail        ask      A tool of the test server."
if grep -q "A second line" "$OUT"; then tap_fail "list: one line of description" "$(cat "$OUT")"
else tap_ok "list: one line of description"; fi
contains "list: a crash at start is reported with its status" "$OUT" \
	"mcp server 'crash' exited with status 3 before it was ready"
contains "list: ... and the end of its stderr" "$OUT" "mcpserver: crashing on start as asked"
contains "list: garbage is reported with an excerpt" "$OUT" \
	"mcp server 'junk' wrote something that is not JSON-RPC on its output: 'Server listening on stdio... this is not JSON'"
contains "list: a url server that cannot be reached says so" "$OUT" \
	"mcp server 'web' could not be reached at its url: "
contains "list: a disabled server" "$OUT" "off: disabled"
contains "list: a slow server still comes up" "$OUT" "slow: ready, 12 tools"
tap_eq "list leaves no server process behind" "" "$(left)"
run mcp list test
tap_eq "list of ready servers exits 0" 0 "$ST"
tap_eq "list SERVER lists that one only" 1 "$(grep -c '^[a-z]*: ' "$OUT")"
run mcp list tset
tap_eq "list of an unknown server exits 2" 2 "$ST"
contains "an unknown server gets a suggestion" "$ERR" "no mcp server is called 'tset', did you mean 'test'?"

# call: each kind of result and its exit status.
run mcp call test echo '{"text":"hi there"}'
tap_eq "call echo exits 0" 0 "$ST"
tap_eq "call echo prints the text" "hi there" "$(cat "$OUT")"
run mcp call test fail
tap_eq "a tool error exits 1" 1 "$ST"
tap_eq "a tool error prints the tool's text" "failure as asked" "$(cat "$OUT")"
run mcp call test image
tap_eq "an image is described, not dumped" "[image/png, 8 bytes]
a tiny image" "$(cat "$OUT")"
run mcp call test structured
tap_eq "structured content without content is printed as JSON" '{"answer":42}' "$(cat "$OUT")"
run mcp call test echo --json '{"text":"j"}'
tap_eq "--json prints the result as sent" '{"content":[{"type":"text","text":"j"}]}' "$(cat "$OUT")"
echo '{"text":"from stdin"}' | "$N" mcp call test echo - >"$OUT" 2>"$ERR"
tap_eq "- reads the arguments from standard input" "from stdin" "$(cat "$OUT")"
run mcp call test echo '{"text":"red \u001b[31m bell \u0007"}'
if grep -q $'\x1b' "$OUT" || grep -q $'\x07' "$OUT"; then
	tap_fail "tool output is made terminal-safe" "$(od -c "$OUT" | head)"
else
	contains "tool output is made terminal-safe" "$OUT" "red �[31m bell �"
fi
run mcp call test nosuchtool
tap_eq "an unknown tool exits 1" 1 "$ST"
contains "... with the server's error" "$ERR" "refused tools/call 'nosuchtool': error -32602: Unknown tool"
run mcp call test echo 'not json'
tap_eq "arguments that are not a JSON object exit 2" 2 "$ST"
run mcp call test
tap_eq "call without a tool exits 2" 2 "$ST"

# A hanging tool times out after the config's timeout, and the server is told.
: >"$LOG"
run mcp call test hang
tap_eq "a hanging call exits 3" 3 "$ST"
contains "the timeout says so" "$ERR" "did not answer tools/call 'hang' within 0.5 s (timeout)"
if [ "$MS" -lt 3000 ]; then tap_ok "the timeout comes on time (${MS} ms)"
else tap_fail "the timeout comes on time" "${MS} ms"; fi
contains "the server hears notifications/cancelled" "$LOG" '"method":"notifications/cancelled"'
run mcp call test hang --timeout 0.2
contains "--timeout overrides the config's" "$ERR" "within 0.2 s"

# list_changed: grow adds a tool; the client lists again and the change is told.
run mcp call test grow
tap_eq "grow exits 0" 0 "$ST"
contains "the new tool is noticed through list_changed" "$ERR" \
	"mcp server 'test' changed its tools: added grown"
contains "the relisting went through every page" "$LOG" '"method":"tools/list","params":{"cursor":"16"}'

# Servers that fail: quickly, readably, and with the right status.
run mcp call crash echo
tap_eq "a call to a server that crashes at start exits 3" 3 "$ST"
contains "... saying how it ended" "$ERR" "mcp server 'crash' exited with status 3 before it was ready"
contains "... with its stderr" "$ERR" "mcpserver: crashing on start as asked"
if [ "$MS" -lt 3000 ]; then tap_ok "... without hanging (${MS} ms)"
else tap_fail "... without hanging" "${MS} ms"; fi
run mcp call junkcall echo '{"text":"x"}'
tap_eq "garbage instead of an answer exits 3" 3 "$ST"
contains "... quoting the garbage" "$ERR" "'Traceback (most recent call last): oops'"
run mcp call test crash
tap_eq "a server that exits during a call: exit 3" 3 "$ST"
contains "... with its status and stderr" "$ERR" "mcp server 'test' exited with status 4"
run mcp call web anything
tap_eq "a url server that cannot be reached: exit 3" 3 "$ST"
contains "... and says so" "$ERR" "could not be reached at its url: "
run mcp call off echo
tap_eq "a disabled server: exit 3" 3 "$ST"
contains "... says it is disabled" "$ERR" "mcp server 'off' is disabled (enabled: false)"
run mcp call nosuch echo
tap_eq "an unknown server: exit 2" 2 "$ST"

# The server's environment: the config's env: and the basics, never natter's keys.
export OPENAI_API_KEY=sk-it-must-not-leak-0123456789 ANTHROPIC_API_KEY=sk-ant-must-not-leak-01234
export NATTER_MCP_IT=expanded
run mcp call test env '{"name":"OPENAI_API_KEY"}'
tap_eq "OPENAI_API_KEY does not reach the server" "(unset)" "$(cat "$OUT")"
run mcp call test env '{"name":"ANTHROPIC_API_KEY"}'
tap_eq "ANTHROPIC_API_KEY does not reach the server" "(unset)" "$(cat "$OUT")"
run mcp call test env '{"name":"NATTER_MCP_IT"}'
tap_eq "other variables of natter do not either" "(unset)" "$(cat "$OUT")"
run mcp call test env '{"name":"MCP_GREETING"}'
tap_eq "the config's env: does, with \${NAME} expanded" "hello expanded" "$(cat "$OUT")"
run mcp call test env '{"name":"HOME"}'
tap_eq "HOME does" "$HOME" "$(cat "$OUT")"
unset OPENAI_API_KEY ANTHROPIC_API_KEY NATTER_MCP_IT

# No zombies while natter runs: a server that crashed is reaped at once, while another
# is still starting.
"$N" mcp list crash slow >"$OUT" 2>"$ERR" &
pid=$!
sleep 1
z=$(ps -o pid=,stat=,args= --ppid "$pid" | awk '$2 ~ /^Z/')
kids=$(ps -o pid= --ppid "$pid" | wc -l)
wait "$pid"
tap_eq "a crashed server is reaped while natter runs (no zombie)" "" "$z"
tap_eq "... and only the starting one is still a child" 1 "$kids"
tap_eq "nothing is left after list" "" "$(left)"

# A server that ignores SIGTERM and its input closing is killed in the end.
run mcp call stubborn echo '{"text":"s"}'
tap_eq "a stubborn server still answers" "s" "$(cat "$OUT")"
tap_eq "... and is gone after natter exits" "" "$(left)"

# Ctrl+C during a call: exit 130, the server hears the cancellation and is ended.
: >"$LOG"
"$N" mcp call test hang --timeout 60 >"$OUT" 2>"$ERR" &
pid=$!
for _ in $(seq 1 50); do grep -q '"name":"hang"' "$LOG" && break; sleep 0.1; done
kill -INT "$pid"
wait "$pid"
tap_eq "Ctrl+C during a call exits 130" 130 "$?"
for _ in $(seq 1 20); do grep -q 'cancelled by the user' "$LOG" && break; sleep 0.1; done
contains "... and the server is told the call is cancelled" "$LOG" "cancelled by the user"
tap_eq "... and no server is left" "" "$(left)"

# A broken mcp_servers entry is a config error with its place.
cat >"$LIB_TMP/bad.yaml" <<EOF
mcp_servers:
  x:
    args: [a]
EOF
run config check "$LIB_TMP/bad.yaml"
tap_eq "a server with neither command nor url fails config check" 3 "$ST"
contains "... at file:line:col" "$ERR" "$LIB_TMP/bad.yaml:2:3: mcp_servers.x: needs command (a program to run) or url"
