#!/usr/bin/env bash
# MCP's streamable HTTP transport (url: servers) against the test MCP server's --http mode:
# natter mcp list and call, a JSON answer and an event stream, the session id and protocol
# version on every request after initialize, the config's headers with ${NAME} expanded,
# DELETE at the end, a session the server ended (a new one is started and the call sent
# again; a second ending fails), the GET stream for the server's own messages (list_changed
# heard on it; a server without one is not broken), a tool error, an HTTP error, a call that hangs past its timeout, a
# server that cannot be reached, and the tool loop of `natter ask` over HTTP.
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

# http_server NAME ARGS...: start the server over HTTP, logging to $LIB_TMP/NAME.log; sets
# PORT_<NAME>.
http_server() {
	local name=$1 i port=
	shift
	"$S" --http --log "$LIB_TMP/$name.log" "$@" >"$LIB_TMP/$name.out" 2>"$LIB_TMP/$name.err" &
	LIB_FS_PIDS+=("$!")
	for i in $(seq 1 100); do
		port=$(awk '$1 == "PORT" { print $2; exit }' "$LIB_TMP/$name.out")
		[ -n "$port" ] && break
		sleep 0.05
	done
	eval "PORT_$name=$port"
}
http_server json
http_server sse --sse
http_server down --status 503
http_server exp1 --expire-calls 1
http_server gets --get-stream
http_server exp2 --expire-calls 2
CONF=$XDG_CONFIG_HOME/natter/natter.yaml
mkdir -p "$XDG_CONFIG_HOME/natter"
cat >"$CONF" <<YAML
mcp_servers:
  web:
    url: http://127.0.0.1:$PORT_json/mcp
    headers: {Authorization: "Bearer \${NATTER_MCP_TOKEN}"}
    allow: [echo]
    timeout: 0.5
  stream:
    url: http://127.0.0.1:$PORT_sse/mcp
  down:
    url: http://127.0.0.1:$PORT_down/mcp
  gets:
    url: http://127.0.0.1:$PORT_gets/mcp
  exp1:
    url: http://127.0.0.1:$PORT_exp1/mcp
  exp2:
    url: http://127.0.0.1:$PORT_exp2/mcp
  gone:
    url: http://127.0.0.1:1/mcp
  odd:
    url: ftp://127.0.0.1/mcp
YAML
chmod 600 "$CONF"
export NATTER_MCP_TOKEN=tok-4242

run() {
	"$NATTER" "$@" >"$OUT" 2>"$ERR" </dev/null
	ST=$?
}
contains() { tap_check "$1" grep -qF -- "$3" "$2"; }

run mcp list web stream
tap_eq "list over HTTP: exit 0" 0 "$ST"
contains "a JSON-answering server is ready with its tools" "$OUT" "web: ready, 12 tools (natter-test-server 1.0)"
contains "an event-stream server is ready too" "$OUT" "stream: ready, 12 tools"
contains "the allow list applies" "$OUT" "echo        allowed"
LOG=$LIB_TMP/json.log
tap_check "initialize goes without a session" \
	bash -c "grep -A1 'session=-' '$LOG' | grep -q '\"method\":\"initialize\"'"
tap_check "every later request carries the session and the protocol version" \
	bash -c "grep -B1 'tools/list' '$LOG' | grep -q 'proto=2025-06-18 session=sess-natter-42'"
tap_check "the config's headers go with ... \${NAME} expanded" grep -q 'auth=Bearer tok-4242' "$LOG"
tap_check "the session is ended with DELETE" grep -q '^DELETE sess-natter-42$' "$LOG"
tap_check "notifications/initialized reaches the server before tools/list" \
	bash -c "grep -n 'notifications/initialized\|tools/list' '$LOG' | head -n 1 | grep -q initialized"

run mcp call web echo '{"text":"over json"}'
tap_eq "a call answered with JSON" "0:over json" "$ST:$(cat "$OUT")"
run mcp call stream echo '{"text":"over sse"}'
tap_eq "a call answered with an event stream (notifications first)" "0:over sse" "$ST:$(cat "$OUT")"
run mcp call web fail '{}'
tap_eq "a tool error over HTTP: exit 1" 1 "$ST"
contains "... with its text" "$OUT" "failure as asked"
t0=$(date +%s%N)
run mcp call web hang '{}'
ms=$((($(date +%s%N) - t0) / 1000000))
tap_eq "a call that hangs over HTTP times out: exit 3" 3 "$ST"
contains "... and says so" "$ERR" "did not answer tools/call 'hang' within 0.5 s (timeout)"
tap_check "... without hanging natter (${ms} ms)" test "$ms" -lt 10000
run mcp call down echo '{"text":"x"}'
tap_eq "an HTTP error status: exit 3" 3 "$ST"
contains "... naming the status and the body" "$ERR" "mcp server 'down' answered HTTP 503: the tool endpoint is down"
tap_check "natter asks for the server's own stream with GET (this one answers 405)" \
	grep -q '^GET session=sess-natter-42 accept=text/event-stream$' "$LOG"
run mcp call gets grow '{}'
tap_eq "a server with a GET stream: the call works" "0:grew" "$ST:$(cat "$OUT")"
tap_check "list_changed sent on the GET stream is heard: natter lists again" \
	test "$(grep -c '"method":"tools/list"' "$LIB_TMP/gets.log")" -ge 2
run mcp call exp1 echo '{"text":"in a new session"}'
tap_eq "a session the server ended (404): natter starts a new one and the call goes again" \
	"0:in a new session" "$ST:$(cat "$OUT")"
tap_check "... with initialize, then the new session id" bash -c "[ \$(grep -c '\"method\":\"initialize\"' '$LIB_TMP/exp1.log') = 2 ] &&
	grep -B1 '\"in a new session\"' '$LIB_TMP/exp1.log' | tail -n 2 | grep -q 'session=sess-natter-43'"
tap_check "... and only the new session is ended with DELETE" \
	bash -c "grep -q '^DELETE sess-natter-43$' '$LIB_TMP/exp1.log' && ! grep -q '^DELETE sess-natter-42$' '$LIB_TMP/exp1.log'"
run mcp call exp2 echo '{"text":"x"}'
tap_eq "a new session ended at once too: exit 3" 3 "$ST"
contains "... and says so" "$ERR" "mcp server 'exp2' ended the session again (HTTP 404) right after natter started a new one"
run mcp call gone echo '{}'
tap_eq "a server that cannot be reached: exit 3" 3 "$ST"
contains "... and says so" "$ERR" "mcp server 'gone' could not be reached at its url: "
run mcp call odd echo '{}'
tap_eq "a url that is not http(s): exit 3" 3 "$ST"
contains "... and says so" "$ERR" "has url: 'ftp://127.0.0.1/mcp', which is neither http:// nor https://"

# The tool loop over HTTP: the model calls an allowed tool, natter runs it on the server,
# and the model answers with its result.
run ask -p simulated --mcp web 'call=web__echo args={"text":"via-http"}'
tap_eq "ask --mcp over HTTP: the model hears the result" "0" "$ST"
contains "... and answers with it" "$OUT" "The tool said: via-http"
contains "... the call goes to stderr" "$ERR" "natter: calling web__echo"
run ask -p simulated --mcp stream --yes 'call=stream__echo args={"text":"via-sse"}'
contains "ask --mcp --yes over an event stream" "$OUT" "The tool said: via-sse"
tap_check "no sanitizer report" bash -c "! grep -qE 'Sanitizer|runtime error' '$ERR'"
