#!/usr/bin/env bash
# `natter ask --tools` end to end: the real binary, the fake server calling tools in each of
# the four protocols (and checking the history natter sends back), and the test MCP server
# running them. An allowed tool runs and its result reaches the model; another is refused
# without --yes and runs with it; --mcp SERVER offers that server's tools only; an unknown
# server and a config without servers are usage errors; a server that crashes at start is
# reported and the ask goes on without tools; a hanging tool times out into an error result;
# the repeat guard stops a model that calls the same thing over and over; API keys never
# reach a server's environment; the session keeps the calls and results (sessions show,
# ask --json), and -c continues it with a valid history, through the same provider or
# another one.
set -u
. "$TESTS/integration/lib.sh"

isolated_home
S=${MCPSERVER:-}
if [ ! -x "$S" ]; then
	tap_fail "the test MCP server is built" "\$MCPSERVER is not an executable: '$S'"
	exit 0
fi
KEY=sk-natter-TOOLKEY-55120
export OPENAI_API_KEY=$KEY ANTHROPIC_API_KEY=$KEY GEMINI_API_KEY=$KEY OLLAMA_API_KEY=$KEY
unset NATTER_MODEL NATTER_PROVIDER
FSLOG=$LIB_TMP/fs.log
fs_start --key "$KEY" --log "$FSLOG" || exit 0
OUT=$LIB_TMP/out
ERR=$LIB_TMP/err
ALL=$LIB_TMP/all
MLOG=$LIB_TMP/mcp.log
: >"$ALL"
: >"$MLOG"
mkdir -p "$XDG_CONFIG_HOME/natter"
cat >"$XDG_CONFIG_HOME/natter/natter.yaml" <<EOF
mcp_servers:
  test:
    command: $S
    args: [--log, $MLOG]
    env: {MCP_GREETING: hello}
    allow: [echo]
    timeout: 0.5
  other:
    command: $S
    args: [--extra, "1"]
  broken:
    command: $S
    args: [--crash-on-start]
EOF
: >"$LIB_TMP/empty.yaml"

# ask ARGS...: natter ask; stdout in $OUT, stderr in $ERR, status in $RC.
ask() {
	"$NATTER" ask "$@" >"$OUT" 2>"$ERR" </dev/null
	RC=$?
	cat "$OUT" "$ERR" >>"$ALL"
}

# base PROTO: the --base-url of a protocol on the fake server.
base() {
	case $1 in
	openai | anthropic) echo "$FS_URL/v1" ;;
	gemini) echo "$FS_URL/v1beta" ;;
	ollama) echo "$FS_URL" ;;
	esac
}

# expect DESC COND...: ok when the condition holds; shows the outputs otherwise.
expect() {
	local d=$1
	shift
	if "$@"; then
		tap_ok "$d"
	else
		tap_fail "$d" "rc=$RC" "stdout: $(head -c 600 "$OUT")" "stderr: $(head -c 900 "$ERR")"
	fi
}
out_has() { grep -qF -- "$1" "$OUT"; }
err_has() { grep -qF -- "$1" "$ERR"; }
# last_body: the body of the fake server's last chat request.
last_body() { grep -E 'chat/completions|/messages|GenerateContent|/api/chat' "$FSLOG" | tail -n 1 | cut -f 4; }
# results_marker PROTO: what a tool result looks like in that protocol's request.
results_marker() {
	case $1 in
	openai) echo '"tool_call_id":' ;;
	anthropic) echo '"type":"tool_result"' ;;
	gemini) echo '"functionResponse":' ;;
	ollama) echo '"tool_name":' ;;
	esac
}

# ---- Each protocol: run, refuse, --yes, keys, continue ------------------------------------
for p in openai anthropic gemini ollama; do
	B=$(base "$p")
	ask -p "$p" -m fake-model --base-url "$B" --mcp test \
		"tool=test__echo args={\"text\":\"hello $p\"}"
	expect "$p: an allowed tool runs and the ask exits 0" test "$RC" -eq 0
	expect "$p: the call is told on stderr" err_has "natter: calling test__echo {\"text\":\"hello $p\"}"
	expect "$p: its result reaches the model" out_has "The tools answered: test__echo returned hello $p."
	expect "$p: the request after the call carries the result" \
		grep -qF -- "$(results_marker "$p")" <(last_body)

	ask -c --base-url "$B" "what now in $p"
	expect "$p: -c continues a session with a call and a result in its history" \
		test "$RC" -eq 0 -a "$(cat "$OUT")" = "This is fakeserver answering: what now in $p."
	if [ "$p" = anthropic ]; then
		# No tools declared: Anthropic refuses tool blocks then, so they go as text.
		expect "$p: ... and the history sent holds them (as text without tools)" \
			grep -qF -- "[tool test__echo returned: hello $p]" <(last_body)
	else
		expect "$p: ... and the history sent holds them" grep -qF -- "$(results_marker "$p")" <(last_body)
	fi
	ask -c --base-url "$B" --mcp test "tool=test__echo args={\"text\":\"again $p\"}"
	expect "$p: -c with tools: another round on top of the earlier one" \
		out_has "The tools answered: test__echo returned again $p."

	: >"$MLOG"
	ask -p "$p" -m fake-model --base-url "$B" --mcp test 'tool=test__env args={"name":"MCP_GREETING"}'
	expect "$p: a tool off the allow list is refused without --yes" \
		err_has "natter: refused test__env {\"name\":\"MCP_GREETING\"}: not on its server's allow list (--yes runs it)"
	expect "$p: ... the model is told why, and the ask still ends well" \
		test "$RC" -eq 0 -a -n "$(grep -F 'the user refused this call' "$OUT")"
	expect "$p: ... and the server never got the call" \
		test -z "$(grep -F '"name":"env"' "$MLOG")"
	ask -p "$p" -m fake-model --base-url "$B" --mcp test --yes \
		'tool=test__env args={"name":"MCP_GREETING"} tool=test__env args={"name":"OPENAI_API_KEY"}'
	expect "$p: --yes runs it, with the environment the config gives" out_has "test__env returned hello"
	expect "$p: an API key does not reach the server's environment" out_has "test__env returned (unset)"
done
expect "no API key in any output" test -z "$(grep -F "$KEY" "$ALL")"

# ---- Session contents -------------------------------------------------------------------
ask -p openai -m fake-model --base-url "$(base openai)" --mcp test --yes \
	'tool=test__echo args={"text":"kept"} tool=test__fail'
ID=$("$NATTER" sessions list | awk 'NR == 2 { print $1 }')
"$NATTER" sessions show "$ID" >"$OUT" 2>"$ERR"
RC=$?
expect "sessions show: the calls as [tool_call NAME] with their arguments" \
	test "$RC" -eq 0 -a -n "$(grep -A1 -F '[tool_call test__echo]' "$OUT" | grep -F '{"text":"kept"}')"
expect "sessions show: a result as [tool NAME]" \
	test -n "$(grep -A1 -F '[tool test__echo]' "$OUT" | grep -x 'kept')"
expect "sessions show: a failed one is marked" test -n "$(grep -F '[tool test__fail]' "$OUT" | grep -F '(error)')"

# ask --json: every call of the turn with its arguments, state, result and duration.
ask -p openai -m fake-model --base-url "$(base openai)" --mcp test --json \
	'tool=test__echo args={"text":"j"} tool=test__fail'
expect "--json: exit 0 and nothing streamed before the object" test "$RC" -eq 0 -a "$(wc -l <"$OUT")" -eq 1
expect "--json: an allowed call with its parsed arguments, state, result and duration" \
	grep -qE '\{"id":"call_fake[0-9]+_0","name":"test__echo","arguments":\{"text":"j"\},"state":"ok","result":"j","duration_ms":[0-9]+\}' "$OUT"
expect "--json: a refused call" \
	grep -qF '"name":"test__fail","arguments":{},"state":"refused","result":"the user refused this call: natter ask runs only the tools on the allow list","duration_ms":null}' "$OUT"
ask -p openai -m fake-model --base-url "$(base openai)" --mcp test --json --yes 'tool=test__fail'
expect "--json --yes: a tool's failure is state error with its text" \
	grep -qE '"name":"test__fail","arguments":\{\},"state":"error","result":"failure as asked","duration_ms":[0-9]+' "$OUT"
ask -p openai -m fake-model --base-url "$(base openai)" --json 'tokens=2'
expect "--json without tools: an empty tool_calls" grep -qF '"tool_calls":[]}' "$OUT"

# ---- Continuing through another provider ------------------------------------------------
ask -p openai -m fake-model --base-url "$(base openai)" --mcp test 'tool=test__echo args={"text":"from openai"}'
prev=openai
for p in anthropic gemini ollama openai; do
	ask -c -p "$p" -m fake-model --base-url "$(base "$p")" --mcp test \
		"tool=test__echo args={\"text\":\"$prev to $p\"}"
	expect "$prev to $p: a session with another provider's calls continues (history translated)" \
		test "$RC" -eq 0 -a -n "$(grep -F "test__echo returned $prev to $p." "$OUT")"
	prev=$p
done
ask -c -p anthropic -m fake-model --base-url "$(base anthropic)" 'no tools this time'
expect "anthropic without tools: earlier calls go as text (the API refuses tool blocks then)" \
	test "$RC" -eq 0 -a "$(cat "$OUT")" = "This is fakeserver answering: no tools this time."

# ---- Broken-server shapes through natter ------------------------------------------------
for q in no_index args_first; do
	ask -p openai -m fake-model --base-url "$(base openai)" --mcp test \
		"tool=test__echo args={\"text\":\"one\"} tool=test__echo args={\"text\":\"two\"} tool_quirk=$q"
	expect "openai $q: both calls run and are answered" \
		test "$RC" -eq 0 -a -n "$(grep -F 'returned one' "$OUT" | grep -F 'returned two')"
done

# ---- Which servers, and when they fail --------------------------------------------------
: >"$MLOG"
ask -p openai -m fake-model --base-url "$(base openai)" --mcp other 'tool=test__echo'
expect "--mcp other: only that server's tools are declared" \
	err_has "which the request does not declare (it declares other__echo"
expect "--mcp other: the test server was not even started" test ! -s "$MLOG"
ask -p openai -m fake-model --base-url "$(base openai)" --mcp other --yes 'tool=other__extra1 args={"text":"x1"}'
expect "--mcp other: its tools run" out_has "other__extra1 returned x1"
ask -p openai -m fake-model --base-url "$(base openai)" --mcp nosuch 'tokens=1'
expect "--mcp with an unknown server exits 2 and says so" \
	test "$RC" -eq 2 -a -n "$(grep -F 'no MCP server named nosuch' "$ERR")"
NATTER_CONFIG=$LIB_TMP/empty.yaml ask -p openai -m fake-model --base-url "$(base openai)" --tools 'tokens=1'
expect "--tools with no mcp_servers exits 2 and says so" \
	test "$RC" -eq 2 -a -n "$(grep -F 'the config has no mcp_servers' "$ERR")"
ask -p openai -m fake-model --base-url "$(base openai)" --mcp broken 'tokens=2'
expect "a server crashing at start is reported" \
	err_has "natter: ask: MCP server broken: mcp server 'broken' exited with status 3 before it was ready"
expect "... and the ask goes on without tools" \
	test "$RC" -eq 0 -a "$(cat "$OUT")" = "w1 w2" -a -n "$(grep -F 'no tools are ready; asking without them' "$ERR")"
expect "... its request declares none" test -z "$(last_body | grep -F '"tools"')"
ask -p openai -m fake-model --base-url "$(base openai)" --tools --yes 'tool=other__echo args={"text":"still"}'
expect "--tools: the crashed server is reported, the others' tools run" \
	test "$RC" -eq 0 -a -n "$(grep -F 'MCP server broken' "$ERR")" -a -n "$(grep -F 'other__echo returned still' "$OUT")"

t0=$(date +%s%N)
ask -p openai -m fake-model --base-url "$(base openai)" --mcp test --yes 'tool=test__hang'
ms=$((($(date +%s%N) - t0) / 1000000))
expect "a hanging tool ends in an error result at its timeout" \
	err_has "natter: test__hang error ("
expect "... the model hears the timeout" out_has "test__hang returned mcp server 'test' did not answer tools/call 'hang' within 0.5 s (timeout)"
expect "... and the ask does not hang (${ms} ms)" test "$RC" -eq 0 -a "$ms" -lt 10000

# ---- The repeat guard -------------------------------------------------------------------
ask -p simulated --mcp test 'loop call=test__echo args={"text":"again"}'
expect "simulated loop: the repeat guard stops the third identical round" \
	err_has "natter stopped the tool loop: the same calls came 3 times in a row"
expect "... after two calls ran" test "$(grep -c 'natter: calling test__echo' "$ERR")" -eq 2
expect "... with no note that natter does not run tools" test -z "$(grep -F 'which natter does not run' "$ERR")"
expect "... and exit status 1: the model never answered" test "$RC" -eq 1
ask -p openai -m fake-model --base-url "$(base openai)" --mcp test 'tool=test__echo tool_rounds=9'
expect "a provider calling the same tool each round is stopped the same way" \
	test "$(grep -c 'natter: calling test__echo' "$ERR")" -eq 2 -a \
	-n "$(grep -F 'the same calls came 3 times in a row' "$ERR")"

# ---- natter compare --tools: every column runs its own loop ---------------------------
"$NATTER" compare --mcp test -m simulated -m simulated/simulated-fast \
	'call=test__echo args={"text":"both"}' >"$OUT" 2>"$ERR" </dev/null
RC=$?
expect "compare --tools: each column calls the tool and answers with its result" \
	test "$RC" -eq 0 -a "$(grep -c 'The tool said: both' "$OUT")" -eq 2 -a \
	"$(grep -c 'natter: simulated/simulated.*: calling test__echo' "$ERR")" -eq 2
sid=$("$NATTER" sessions list -n 1 | awk 'NR == 2 { print $1 }')
"$NATTER" sessions show "$sid" >"$LIB_TMP/cmp-show" 2>&1
expect "... and each column's call, result and answer are stored in its column" \
	test "$(grep -c '^\[tool_call test__echo\].*\[compare 1/2\]' "$LIB_TMP/cmp-show")" -eq 1 -a \
	"$(grep -c '^\[tool test__echo\].*\[compare 2/2\]' "$LIB_TMP/cmp-show")" -eq 1 -a \
	"$(grep -c '^\[assistant.*\[compare 2/2\]' "$LIB_TMP/cmp-show")" -eq 2
# A comparison with tool rounds travels: its export imports, and the import exports the
# same (but for ids and times), columns and all.
"$NATTER" export "$sid" --format json >"$LIB_TMP/cmp1.json" 2>"$ERR"
nid=$("$NATTER" import "$LIB_TMP/cmp1.json" 2>"$ERR")
RC=$?
"$NATTER" export "$nid" --format json >"$LIB_TMP/cmp2.json" 2>>"$ERR"
norm() { sed -E 's/"(id|session_id|compare_group|created|updated|created_ms)":[[:space:]]*[0-9]+/"\1": N/g' "$1"; }
expect "... and it exports, imports and exports again the same" \
	test "$RC" -eq 0 -a -n "$nid" -a "$(norm "$LIB_TMP/cmp1.json" | md5sum)" = \
	"$(norm "$LIB_TMP/cmp2.json" | md5sum)"
"$NATTER" compare --mcp nosuch -m simulated -m simulated/simulated-fast hi >"$OUT" 2>"$ERR"
RC=$?
expect "compare --mcp with an unknown server is a usage error" \
	test "$RC" -eq 2 -a -n "$(grep -F 'no MCP server named nosuch' "$ERR")"

# tools.max_rounds caps the rounds of one prompt; a fresh call each round (other__grow's
# new tool would be a different call) is made by the fake server's tool_rounds.
cp "$XDG_CONFIG_HOME/natter/natter.yaml" "$LIB_TMP/rounds.yaml"
printf 'tools:\n  max_rounds: 2\n' >>"$LIB_TMP/rounds.yaml"
chmod 600 "$LIB_TMP/rounds.yaml"
NATTER_CONFIG="$LIB_TMP/rounds.yaml" ask -p simulated --mcp test \
	'loop call=test__echo args={"text":"x"}'
expect "tools.max_rounds: 2 stops the loop after two rounds, and says so" \
	test "$(grep -c 'natter: calling test__echo' "$ERR")" -eq 2 -a \
	-n "$(grep -F 'natter stopped after 2 tool rounds (tools.max_rounds)' "$ERR")"
expect "... with exit status 1" test "$RC" -eq 1

tap_check "no sanitizer report from the fake server" bash -c "! grep -qE 'Sanitizer|runtime error' '$FS_STDERR'"
