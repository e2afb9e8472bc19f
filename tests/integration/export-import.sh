#!/usr/bin/env bash
# `natter export` and `natter import`: a stored session with two comparison rounds (one
# kept, one with a failed column), reasoning, a system prompt, unicode and hostile text, a
# cancelled reply, a message long enough to be indexed in parts, exported as JSON, imported
# and exported again gives the same file but for the ids; the text format marks roles,
# models, figures and reasoning and is sanitized unless --raw; -o writes mode 0600; and
# malformed files are refused with the JSON path of the bad field, storing nothing, even
# when the store fails halfway through; tool calls and results survive the round trip.
set -u
. "$TESTS/integration/lib.sh"

isolated_home
export TZ=UTC NATTER_DB="$HOME/db/natter.db"
umask 022
KEY=sk-natter-EXPKEY-4242
fs_start --key "$KEY" || exit 0
mkdir -p "$XDG_CONFIG_HOME/natter"
cat >"$XDG_CONFIG_HOME/natter/natter.yaml" <<YAML
providers:
  o: {protocol: openai, base_url: '$FS_URL/v1', key: $KEY, max_retries: 0}
  a: {protocol: anthropic, base_url: '$FS_URL/v1', key: $KEY, max_retries: 0}
models:
  m-o: {provider: o, id: m-o, price_input: 1.5, price_output: 2.25}
  m-a: {provider: a, id: m-a, price_input: 3, price_output: 7}
YAML
chmod 600 "$XDG_CONFIG_HOME/natter/natter.yaml"
D=$LIB_TMP
ESC=$(printf '\033')
RLO=$(printf '\342\200\256')
db() { sqlite3 "$NATTER_DB" "$@"; }
# The export with every id replaced, for comparing two exports of the same conversation.
noids() { sed -E 's/^(\t*"(id|compare_group)":\t)[0-9]+/\1N/' "$1"; }

# Session 1: a comparison with reasoning and hostile, non-ASCII text, and a system prompt.
"$NATTER" compare -s "Be terse ${ESC}[31m here" -m m-o -m m-a \
	"think=2 tokens=4 héllo 日本語 ${ESC}]0;pwned$(printf '\a') ${RLO}evil" >/dev/null 2>&1
# Session 2: a second round in which m-a fails; then it joins session 1 (the store's
# triggers move its sums) and the first round keeps column 2.
"$NATTER" compare -m m-o -m m-a "[m-a]status=500 tokens=2 round two" >/dev/null 2>&1
# The rows as an older natter wrote them: without parents, each following the one before
# it by seq, so both rounds are on the path whole (a kept round of the tree would be its
# kept reply alone there, the others its alternatives).
db "UPDATE messages SET parent_id = NULL WHERE session_id IN (1, 2);
    UPDATE messages SET session_id = 1, seq = seq + 3 WHERE session_id = 2;
    UPDATE compare_groups SET session_id = 1 WHERE session_id = 2;
    DELETE FROM sessions WHERE id = 2;
    UPDATE compare_groups SET picked = 1 WHERE id = (SELECT min(id) FROM compare_groups);
    UPDATE sessions SET summary = 'so far: ' || char(27) || 'x', summary_covers = 3 WHERE id = 1;"
# Then an ordinary exchange: a cancelled reply without figures, tabs, CRLF, and a prompt
# of about 40 KB whose last word only a search of its later parts can find.
long=$(printf 'lorem ipsum dolor sit amet %.0s' $(seq 1 1500))
db "INSERT INTO messages (session_id, seq, role, created_ms, state, content)
      VALUES (1, 7, 'user', 1767323045123, 'complete', '$long zanzibarquux');
    INSERT INTO messages (session_id, seq, role, provider, model, created_ms, state,
      finish_reason, input_tokens, output_tokens, cost, ttft_ms, duration_ms, content,
      reasoning, error)
      VALUES (1, 8, 'assistant', 'o', 'm-o', 1767323046789, 'cancelled', NULL, NULL, 7, NULL,
      412, NULL, 'tab' || char(9) || 'crlf' || char(13, 10) || 'end ✓', 'mulled' || char(10) ||
      'it over', NULL);
    UPDATE messages SET pinned = 1 WHERE session_id = 1 AND seq = 7;"
tap_eq "the session to export holds 8 messages in 2 compare groups" "8|2" \
	"$(db "SELECT count(*), count(DISTINCT compare_group) FROM messages WHERE session_id = 1")"

"$NATTER" export 1 --format json >"$D/e1.json" 2>"$D/err"
tap_eq "export --format json exits 0" "0" "$?"
tap_eq "the export is valid JSON with 8 messages" "1|8" \
	"$(sqlite3 :memory: "SELECT json_valid(readfile('$D/e1.json')),
	    json_array_length(readfile('$D/e1.json'), '\$.messages')")"
tap_check "the export keeps the hostile bytes as escapes" \
	grep -q 'u001b\]0;pwned\\u0007 \\u202eevil' "$D/e1.json"

id=$("$NATTER" import "$D/e1.json" 2>"$D/err")
rc=$?
if [ "$rc" -eq 0 ] && [ "$id" = "3" ]; then
	tap_ok "import prints the new session id"
else
	tap_fail "import prints the new session id" "rc=$rc id=$id" "$(cat "$D/err")"
fi
"$NATTER" export "$id" --format json >"$D/e2.json"
if diff <(noids "$D/e1.json") <(noids "$D/e2.json") >"$D/diff"; then
	tap_ok "round trip: the export of the import equals the original but for the ids"
else
	tap_fail "round trip: the export of the import equals the original but for the ids" \
		"$(cat "$D/diff")"
fi
tap_check "the ids are new" bash -c "! diff -q '$D/e1.json' '$D/e2.json' >/dev/null"
tap_eq "times kept: the session's created and updated, a message's milliseconds" \
	"$(db "SELECT created, updated FROM sessions WHERE id = 1") 1767323046789" \
	"$(db "SELECT created, updated FROM sessions WHERE id = $id") $(db "SELECT created_ms FROM messages WHERE session_id = $id AND seq = 8")"
tap_eq "compare groups are new rows that keep their picked column" "2 1|" \
	"$(db "SELECT count(*) FROM compare_groups WHERE session_id = $id") $(db "SELECT group_concat(coalesce(picked, ''), '|') FROM (SELECT picked FROM compare_groups WHERE session_id = $id ORDER BY id)")"
tap_eq "the rolling summary and the pinned message are kept" "so far: x|3|7" \
	"$(db "SELECT replace(summary, char(27), ''), summary_covers, (SELECT group_concat(seq) FROM messages WHERE session_id = $id AND pinned) FROM sessions WHERE id = $id")"
tap_eq "the session's sums are the original's" \
	"$(db "SELECT nmessages, input_tokens, output_tokens, cost FROM sessions WHERE id = 1")" \
	"$(db "SELECT nmessages, input_tokens, output_tokens, cost FROM sessions WHERE id = $id")"
# (Session 1's copy went in by SQL, past the store's indexing of long messages.)
tap_eq "the imported long message is searchable in its later parts" "$id" \
	"$("$NATTER" sessions search zanzibarquux | awk '{print $1}')"
tap_eq "the database stays consistent" "ok" "$(db "PRAGMA integrity_check")"

id2=$("$NATTER" import - <"$D/e1.json" 2>"$D/err")
"$NATTER" export "$id2" --format json >"$D/e3.json"
tap_check "import - reads standard input, with the same result" \
	diff <(noids "$D/e1.json") <(noids "$D/e3.json")
"$NATTER" export last --format json >"$D/e4.json"
tap_check "export last is the newest session" diff "$D/e3.json" "$D/e4.json"

# The plain text format.
"$NATTER" export 1 --format text >"$D/t.txt" 2>"$D/err"
tap_eq "export --format text exits 0" "0" "$?"
tap_check "text: a heading with the session" grep -q '^Session 1: think=2 tokens=4 héllo 日本語' "$D/t.txt"
tap_check "text: a reply's header has its column, model, time and figures" \
	grep -qE '^\[assistant 1 of 2\] o/m-o · 20[0-9-]+ [0-9:]+ · [0-9]+ in / 6 out · \$0\.0000[0-9]+ · ttft [0-9.]+s · [0-9.]+s · finish stop$' "$D/t.txt"
tap_check "text: the kept column says so" grep -qE '^\[assistant 2 of 2\] a/m-a .* · kept$' "$D/t.txt"
tap_check "text: reasoning is marked and indented" \
	bash -c "grep -A1 '^reasoning:\$' '$D/t.txt' | grep -q '^    r1 r2\$'"
tap_check "text: multi-line reasoning is indented line by line" \
	bash -c "grep -A2 '^reasoning:\$' '$D/t.txt' | grep -q '^    it over\$'"
tap_check "text: a failed reply shows its state and error" \
	bash -c "grep -qE '^\[assistant 2 of 2\] a/m-a .* · cost unknown .*· error\$' '$D/t.txt' && grep -q '^error: .*500' '$D/t.txt'"
tap_check "text: a cancelled reply without figures says so" \
	grep -qE '^\[assistant\] o/m-o · 2026-01-02 03:04:06 · \? in / 7 out · cost unknown · ttft 0\.41s · cancelled$' "$D/t.txt"
tap_check "text: a pinned message says so" grep -qE '^\[user\] · 2026-01-02 03:04:05 · pinned$' "$D/t.txt"
tap_check "text: the prompt of a round says it was compared" \
	grep -qE '^\[user\] · .* · compared on 2 models$' "$D/t.txt"
tap_eq "text is sanitized: no ESC, no BEL, no bidi override, no CR" "0" \
	"$(grep -c -e "$ESC" -e "$(printf '\a')" -e "$RLO" -e "$(printf '\r')" "$D/t.txt")"
tap_check "text is sanitized: each control shows as U+FFFD" grep -q '�\]0;pwned� �evil' "$D/t.txt"
"$NATTER" export 1 --format text --raw >"$D/raw.txt"
tap_check "text --raw keeps the stored bytes" grep -q "${ESC}]0;pwned" "$D/raw.txt"
tap_eq "text --raw keeps every header on one line" "8" "$(grep -cE '^\[(user|assistant)' "$D/raw.txt")"

# Files are private whatever the umask; markdown still works; usage errors exit 2.
"$NATTER" export 1 --format text -o "$D/t.out"
tap_eq "-o FILE is mode 0600 (umask 022)" "600" "$(stat -c %a "$D/t.out")"
tap_check "-o FILE holds the same text" diff "$D/t.txt" "$D/t.out"
"$NATTER" export last -f json -o "$D/j.out"
tap_eq "-o FILE for JSON is mode 0600 too" "600" "$(stat -c %a "$D/j.out")"
"$NATTER" export 1 --format markdown >"$D/m.md"
tap_check "markdown: front matter and a heading per message" \
	bash -c "grep -q '^title: ' '$D/m.md' && test \$(grep -c '^## ' '$D/m.md') -ge 8"
"$NATTER" sessions export 1 --format text >"$D/s.txt"
tap_check "natter sessions export is the same command" diff "$D/t.txt" "$D/s.txt"
"$NATTER" export 1 --format html >/dev/null 2>&1
tap_eq "an unknown format exits 2" "2" "$?"
"$NATTER" export >/dev/null 2>&1
tap_eq "no session exits 2" "2" "$?"
"$NATTER" export 99 >/dev/null 2>"$D/err"
tap_eq "an unknown session exits 1" "1 1" "$? $(grep -c 'no session 99' "$D/err")"

# Malformed imports: refused with a clear line naming the file and the field, exit 1,
# nothing stored.
before=$(db "SELECT (SELECT count(*) FROM sessions), (SELECT count(*) FROM messages), (SELECT count(*) FROM compare_groups)")
j() { sqlite3 :memory: "SELECT $1" >"$D/bad.json"; }
refused() {
	local what=$1 want=$2 rc
	"$NATTER" import "$D/bad.json" >"$D/out" 2>"$D/err"
	rc=$?
	if [ "$rc" -eq 1 ] && [ ! -s "$D/out" ] && grep -qF "natter: import: $D/bad.json: " "$D/err" && grep -qF -- "$want" "$D/err" &&
		[ "$(wc -l <"$D/err")" -eq 1 ] && [ "$(db "SELECT (SELECT count(*) FROM sessions), (SELECT count(*) FROM messages), (SELECT count(*) FROM compare_groups)")" = "$before" ]; then
		tap_ok "refused: $what"
	else
		tap_fail "refused: $what" "rc=$rc want: $want" "$(cat "$D/err" "$D/out")"
	fi
}
E="readfile('$D/e1.json')"
printf '{"title": "x",\n  "messages": [' >"$D/bad.json"
refused "cut-off JSON, with line and column" "line 2, column 15: not valid JSON"
: >"$D/bad.json"
refused "an empty file" "empty: expected natter's JSON export"
{ cat "$D/e1.json"; echo '{}'; } >"$D/bad.json"
refused "text after the document" "line $(($(wc -l <"$D/e1.json") + 1)), column 1: text after the JSON document"
j "'[1, 2]'"
refused "an array instead of an object" "expected an object"
{ head -c 40 "$D/e1.json"; printf '\377'; tail -c +41 "$D/e1.json"; } >"$D/bad.json"
refused "bytes that are not UTF-8" "line 3, column 29: not valid UTF-8 (byte 0xff)"
sed 's/"content":\t"w1/"content":\t"\\u0000w1/' "$D/e1.json" >"$D/bad.json"
refused "a \\u0000 escape" "\\u0000 (NUL) cannot be stored"
j "json_set($E, '\$.messages[3].created', '2026-02-30T00:00:00.000Z')"
refused "an impossible date" "messages[3].created: expected a UTC time like 2026-01-02T03:04:05.678Z"
j "json_set($E, '\$.created', '2026-01-02 03:04:05')"
refused "a time not in the export's form" "created: expected a UTC time like 2026-01-02T03:04:05Z"
j "json_set($E, '\$.messages[1].role', 'robot')"
refused "an unknown role" "messages[1].role: expected \"system\", \"user\", \"assistant\", \"tool_call\" or \"tool\""
j "json_set($E, '\$.messages[2].state', 'done')"
refused "an unknown state" "messages[2].state: expected complete"
j "json_remove($E, '\$.messages[5].finish_reason')"
refused "a missing field" "messages[5]: the field \"finish_reason\" is missing"
j "json_set($E, '\$.messages[0].colour', 'red')"
refused "an unknown field" "messages[0]: unknown field \"colour\""
sed '0,/"title":/s//"title":\t"twice",\n\t"title":/' "$D/e1.json" >"$D/bad.json"
refused "a repeated field" "the field \"title\" appears twice"
j "json_set($E, '\$.messages[1].output_tokens', -3)"
refused "a negative count" "messages[1].output_tokens: expected a whole number from 0 to 2^53"
j "json_set($E, '\$.messages[1].ttft_ms', 1.5)"
refused "a fractional count" "messages[1].ttft_ms: expected a whole number from 0 to 2^53"
j "json_set($E, '\$.messages[1].content', 42)"
refused "content that is not a string" "messages[1].content: expected a string"
j "json_set($E, '\$.messages[1].cost', 'cheap')"
refused "a cost that is not a number" "messages[1].cost: expected a number of 0 or more, or null"
j "json_set($E, '\$.input_tokens', json_extract($E, '\$.input_tokens') + 1)"
refused "session totals that do not add up" "input_tokens: "
j "json_set($E, '\$.messages[1].compare_kept', json('true'))"
refused "two kept columns in one group" "messages[2]: compare_kept: its group keeps column 1 already"
j "json_set($E, '\$.messages[4].compare_column', 3)"
refused "a wrong column" "messages[4]: compare_column: this reply is column 1 of its round, not 3"
j "json_set($E, '\$.messages[7].compare_kept', json('false'))"
refused "a kept flag outside a comparison" "messages[7]: compare_kept: expected null outside a comparison"
j "json_set($E, '\$.messages[0].pinned', 1)"
refused "a pinned flag that is not true or false" "messages[0].pinned: expected true or false"
j "json_set($E, '\$.summary', json('null'))"
refused "a summary that covers messages without a summary" "summary_covers: expected 0 without a summary"
j "json_set($E, '\$.messages', json('{}'))"
refused "messages that are not an array" "messages: expected an array"
# The last message is bad: everything before it was fine, and still nothing is stored.
j "json_set($E, '\$.messages[7].created', 'yesterday')"
refused "a bad last message stores none of the others" "messages[7].created"
"$NATTER" import "$D/missing.json" >/dev/null 2>"$D/err"
tap_eq "a missing file exits 1 naming it" "1 1" "$? $(grep -c "natter: import: $D/missing.json: No such file" "$D/err")"
"$NATTER" import >/dev/null 2>&1
tap_eq "import without a file exits 2" "2" "$?"

# The store fails on the last message (a trigger refuses it): the transaction leaves
# neither the session nor the messages before it.
db "CREATE TRIGGER boom BEFORE INSERT ON messages WHEN new.content = 'BOOM'
    BEGIN SELECT RAISE(ABORT, 'boom'); END;"
j "json_set($E, '\$.messages[7].content', 'BOOM')"
"$NATTER" import "$D/bad.json" >"$D/out" 2>"$D/err"
rc=$?
if [ "$rc" -eq 1 ] && grep -q "not stored: .*boom" "$D/err" &&
	[ "$(db "SELECT (SELECT count(*) FROM sessions), (SELECT count(*) FROM messages), (SELECT count(*) FROM compare_groups)")" = "$before" ]; then
	tap_ok "a store failure halfway through leaves nothing half-imported"
else
	tap_fail "a store failure halfway through leaves nothing half-imported" "rc=$rc" "$(cat "$D/err")"
fi
db "DROP TRIGGER boom"

# Tool calls and results (natter ask --tools with the test MCP server): exported, imported
# and exported again unchanged, shown in Markdown and text, continued after the import
# through another protocol, and a result that answers no call refused.
if [ -x "${MCPSERVER:-}" ]; then
	cat >>"$XDG_CONFIG_HOME/natter/natter.yaml" <<YAML
mcp_servers:
  t: {command: '$MCPSERVER', allow: [echo]}
YAML
	"$NATTER" ask -m m-o --mcp t --yes 'tool=t__echo args={"text":"tool out"} tool=t__fail' \
		>"$D/tool-ask" 2>"$D/err"
	tid=$(db "SELECT max(id) FROM sessions")
	"$NATTER" export "$tid" --format json >"$D/tool.json"
	tap_eq "tools: the export has the calls and results with their ids, names and errors" \
		"tool_call|t__echo|0 tool_call|t__fail|0 tool|t__echo|0 tool|t__fail|1" \
		"$(sqlite3 :memory: "SELECT group_concat(r, ' ') FROM (SELECT json_extract(value, '\$.role') || '|' ||
		    json_extract(value, '\$.tool_name') || '|' || json_extract(value, '\$.tool_error') AS r
		    FROM json_each(readfile('$D/tool.json'), '\$.messages') WHERE json_extract(value, '\$.tool_id') IS NOT NULL
		    ORDER BY json_extract(value, '\$.role') DESC, json_extract(value, '\$.tool_name'))")"
	tid2=$("$NATTER" import "$D/tool.json" 2>"$D/err")
	"$NATTER" export "$tid2" --format json >"$D/tool2.json"
	tap_check "tools: round trip through import gives the same export but for the ids" \
		diff <(noids "$D/tool.json") <(noids "$D/tool2.json")
	"$NATTER" export "$tid2" --format markdown >"$D/tool.md"
	tap_check "tools: markdown shows the call with its arguments in a fenced block" \
		bash -c "grep -A3 '^## Tool call · \`t__echo\` · ' '$D/tool.md' | grep -qxF '{\"text\":\"tool out\"}'"
	tap_check "tools: markdown shows a failed result as failed, with its text" \
		bash -c "grep -A3 '^## Tool result · \`t__fail\` · .* · failed\$' '$D/tool.md' | grep -qxF 'failure as asked'"
	"$NATTER" export "$tid2" --format text >"$D/tool.txt"
	tap_check "tools: text names the tool in each header" \
		bash -c "grep -q '^\[tool_call t__echo\] · ' '$D/tool.txt' && grep -qE '^\[tool t__fail\] · .* · failed\$' '$D/tool.txt'"
	"$NATTER" ask -S "$tid2" -m m-a --mcp t 'tool=t__echo args={"text":"after import"}' >"$D/tool-c" 2>"$D/err"
	tap_check "tools: the imported session continues through Anthropic with a valid history" \
		grep -qF 'The tools answered: t__echo returned after import.' "$D/tool-c"
	before=$(db "SELECT (SELECT count(*) FROM sessions), (SELECT count(*) FROM messages), (SELECT count(*) FROM compare_groups)")
	E2="readfile('$D/tool.json')"
	k=$(sqlite3 :memory: "SELECT key FROM json_each($E2, '\$.messages') WHERE json_extract(value, '\$.role') = 'tool' LIMIT 1")
	j "json_set($E2, '\$.messages[$k].tool_id', 'nope')"
	refused "a tool result answering no call" "messages[$k].tool_id: \"nope\" answers no tool_call before it"
	j "json_set($E2, '\$.messages[0].tool_name', 'x')"
	refused "a tool name on a user message" "messages[0].tool_name: only a tool_call or a tool message has one"
else
	tap_fail "tools: the test MCP server is built" "\$MCPSERVER is not an executable: '${MCPSERVER:-}'"
fi
tap_eq "the database stays consistent after the refusals" "ok" "$(db "PRAGMA integrity_check")"
