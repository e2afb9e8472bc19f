#!/usr/bin/env bash
# natter sessions against a temporary database: the binary creates the schema, the sqlite3
# command-line tool fills it in (natter cannot chat on its own here), then every
# subcommand is checked for output and exit status. Prints TAP lines.
set -u
: "${NATTER:?}"
dir=$(mktemp -d /tmp/natter-sessions.XXXXXX)
trap 'rm -rf "$dir"' EXIT
export NATTER_DB="$dir/db/natter.db"
export TZ=UTC
n=0

# ok NAME CONDITION...: one TAP line for the outcome of the command.
ok() {
	local name=$1
	shift
	n=$((n + 1))
	if "$@"; then
		echo "ok - $name"
	else
		echo "not ok - $name"
	fi
}

if ! command -v sqlite3 >/dev/null 2>&1; then
	echo "not ok - sqlite3 command-line tool missing (package sqlite3)"
	exit 0
fi

out=$("$NATTER" sessions 2>&1)
ok "list on a new database succeeds and prints nothing" test $? -eq 0 -a -z "$out"
ok "database file created 0600" test "$(stat -c %a "$NATTER_DB")" = 600
ok "database directory created 0700" test "$(stat -c %a "$dir/db")" = 700

sqlite3 "$NATTER_DB" <<'SQL'
INSERT INTO sessions (id, title, provider, model, created, updated) VALUES
  (1, 'Rust lifetimes', 'openai', 'gpt-4o', 1767323045, 1767323100),
  (2, 'Sourdough starter', 'anthropic', 'claude-sonnet', 1767323045, 1767400000);
INSERT INTO messages (session_id, seq, role, created_ms, state, content, input_tokens, output_tokens, cost) VALUES
  (1, 1, 'user', 1767323045000, 'complete', 'Explain borrow checker lifetimes', NULL, NULL, NULL),
  (1, 2, 'assistant', 1767323046000, 'complete', 'A lifetime names how long a borrow lasts.', 40, 12, 0.001),
  (2, 1, 'user', 1767323045000, 'complete', 'How do I feed a sourdough starter?', NULL, NULL, NULL),
  (2, 2, 'assistant', 1767323046000, 'error', 'Flour and', 30, NULL, NULL),
  (2, 3, 'assistant', 1767323047000, 'complete', 'Feed it flour and water daily; mention lifetimes', 30, 20, NULL);
UPDATE messages SET error = 'HTTP 529: overloaded' WHERE session_id = 2 AND seq = 2;
INSERT INTO messages (session_id, seq, role, created_ms, state, content) VALUES
  (2, 4, 'user', 1767323048000, 'complete', 'evil ' || char(27) || '[31mred');
SQL

out=$("$NATTER" sessions list)
ok "list exits 0" test $? -eq 0
first=$(echo "$out" | sed -n 2p)
ok "list shows the newest-updated session first" grep -q 'Sourdough starter' <<<"$first"
ok "list shows message count and tokens" grep -qE '^ +2 .* 4 +80 +claude-sonnet' <<<"$first"
ok "list shows the older session" grep -qE '^ +1 .*Rust lifetimes' <<<"$out"
out=$("$NATTER" sessions list -n 1)
ok "list -n limits rows" test "$(echo "$out" | wc -l)" -eq 2

out=$("$NATTER" sessions show 2)
ok "show exits 0" test $? -eq 0
ok "show prints messages" grep -q 'How do I feed a sourdough starter?' <<<"$out"
ok "show notes the error state" grep -q 'error: HTTP 529: overloaded' <<<"$out"
ok "show strips escape sequences" bash -c '! grep -q $'"'"'\x1b'"'"' <<<"$1"' _ "$out"

"$NATTER" sessions show 99 >/dev/null 2>"$dir/err"
ok "show of an unknown id exits 1" test $? -eq 1
ok "show of an unknown id says so" grep -q 'no session 99' "$dir/err"
"$NATTER" sessions show abc >/dev/null 2>&1
ok "show with a bad id is a usage error" test $? -eq 2
"$NATTER" sessions frobnicate >/dev/null 2>&1
ok "unknown subcommand is a usage error" test $? -eq 2

out=$("$NATTER" sessions search lifetimes)
ok "search exits 0" test $? -eq 0
ok "search finds both sessions" test "$(echo "$out" | wc -l)" -eq 3
ok "search lists the newest hit first" grep -qE '^ +2 ' <<<"$(echo "$out" | head -n 1)"
out=$("$NATTER" sessions search --rank lifetimes)
ok "search --rank ranks the user prompt first" grep -qE '^ +1 .* user .*\[lifetimes\]' <<<"$(echo "$out" | head -n 1)"
out=$("$NATTER" sessions search 'AND (' 2>&1)
ok "search with bad FTS syntax does not fail" test $? -eq 0
"$NATTER" sessions search >/dev/null 2>&1
ok "search without a query is a usage error" test $? -eq 2

# Pages: 25 hits, 20 a page; stderr names the next page after the first, whose hits are the
# rest of what one unpaged search lists, in the same order.
sqlite3 "$NATTER_DB" "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 25)
  INSERT INTO messages (session_id, seq, role, created_ms, state, content)
  SELECT 1, 100 + i, 'user', 1767323045000 + i, 'complete', 'pagingword number ' || i FROM n;"
"$NATTER" sessions search pagingword >"$dir/p1" 2>"$dir/p1.err"
ok "search pages: the first page has 20 hits" test "$(wc -l <"$dir/p1")" -eq 20
ok "search pages: the newest hit comes first" grep -q 'number 25$' <<<"$(head -n 1 "$dir/p1")"
ok "search pages: stderr counts every hit" grep -q 'more hits (25 in all)' "$dir/p1.err"
before=$(sed -n 's/.*--before \([0-9]*\).*/\1/p' "$dir/p1.err")
"$NATTER" sessions search --before "$before" pagingword >"$dir/p2" 2>"$dir/p2.err"
ok "search pages: the next page has the other 5" test "$(wc -l <"$dir/p2")" -eq 5
ok "search pages: the last page names no next one" test ! -s "$dir/p2.err"
"$NATTER" sessions search -n 0 pagingword >"$dir/pall"
ok "search pages: both pages are the unpaged search" diff "$dir/pall" <(cat "$dir/p1" "$dir/p2")
"$NATTER" sessions search -n 7 pagingword 2>/dev/null >"$dir/p7"
ok "search pages: -n sets the page size" diff "$dir/p7" <(head -n 7 "$dir/pall")
"$NATTER" sessions search -n 30 'pagingw*' 2>/dev/null >"$dir/pp"
ok "search pages: a prefix query finds them all" diff "$dir/pp" "$dir/pall"
"$NATTER" sessions search --before abc pagingword >/dev/null 2>&1
ok "search --before wants a message id" test $? -eq 2
"$NATTER" sessions search --rank --before 5 pagingword >/dev/null 2>&1
ok "search --rank with --before is a usage error" test $? -eq 2

"$NATTER" sessions export 1 --format md -o "$dir/s1.md"
ok "export md exits 0" test $? -eq 0
ok "export md has front matter" grep -q '^title: "Rust lifetimes"$' "$dir/s1.md"
ok "export md has total tokens" grep -q '^total_tokens: 52$' "$dir/s1.md"
ok "export file is private" test "$(stat -c %a "$dir/s1.md")" = 600
"$NATTER" sessions export 2 --format json >"$dir/s2.json"
ok "export json exits 0" test $? -eq 0
ok "export json is valid JSON" test "$(sqlite3 :memory: "SELECT json_valid(readfile('$dir/s2.json'))")" = 1
ok "export json has every message" test "$(sqlite3 :memory: "SELECT json_array_length(readfile('$dir/s2.json'), '\$.messages')")" = 4
ok "export json keeps the error" test "$(sqlite3 :memory: "SELECT json_extract(readfile('$dir/s2.json'), '\$.messages[1].error')")" = 'HTTP 529: overloaded'
"$NATTER" sessions export 2 --format html >/dev/null 2>&1
ok "export with an unknown format is a usage error" test $? -eq 2
"$NATTER" sessions export 42 >/dev/null 2>&1
ok "export of an unknown id exits 1" test $? -eq 1

out=$("$NATTER" sessions rm 2)
ok "rm exits 0" test $? -eq 0
ok "rm removes the session" bash -c '! "$NATTER" sessions list | grep -q Sourdough'
ok "rm removes its messages" test "$(sqlite3 "$NATTER_DB" 'SELECT count(*) FROM messages WHERE session_id = 2')" = 0
out=$("$NATTER" sessions search sourdough)
ok "rm removes its messages from search" test -z "$out"
"$NATTER" sessions rm 2 >/dev/null 2>&1
ok "rm of an unknown id exits 1" test $? -eq 1
ok "database passes integrity checks" test "$(sqlite3 "$NATTER_DB" 'PRAGMA integrity_check')" = ok
