#!/usr/bin/env bash
# History that branches, from the command line: a session whose messages form a tree (a
# regenerated reply, an edited prompt), a fork sharing another session's rows, and rows
# without parents as older natters wrote them, made with the sqlite3 tool; then
# `natter sessions show` and `natter export` print the path on screen, and with --tree
# every alternative saying which message it follows; archiving and deleting the session a
# fork shares rows of leaves the fork its whole history. Prints TAP lines.
set -u
: "${NATTER:?}"
dir=$(mktemp -d /tmp/natter-branches.XXXXXX)
trap 'rm -rf "$dir"' EXIT
export NATTER_DB="$dir/natter.db"
export TZ=UTC

# ok NAME COMMAND...: one TAP line for the outcome of the command.
ok() {
	local name=$1
	shift
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
"$NATTER" sessions list >/dev/null 2>&1
# Session 1: q1 -> a1 (first answer) and a2 (regenerated, the head); a1 -> q2 -> a3.
# The head is a3, so the path on screen is q1, a1, q2, a3 although a2 is newer than a1.
# Session 2 forks from a1. Session 3 is written as an older natter did: no parents.
sqlite3 "$NATTER_DB" <<'SQL'
INSERT INTO sessions (id, title, provider, model, created, updated) VALUES
  (1, 'tree', 'openai', 'm', 1767323045, 1767323045),
  (3, 'old', 'openai', 'm', 1767323045, 1767323045);
INSERT INTO messages (id, session_id, seq, role, model, created_ms, content, parent_id) VALUES
  (1, 1, 1, 'user', NULL, 1767323045000, 'question one', 0),
  (2, 1, 2, 'assistant', 'm', 1767323046000, 'first answer', 1),
  (3, 1, 3, 'assistant', 'm', 1767323047000, 'regenerated answer', 1),
  (4, 1, 4, 'user', NULL, 1767323048000, 'question two', 2),
  (5, 1, 5, 'assistant', 'm', 1767323049000, 'answer three', 4);
UPDATE sessions SET head_id = 5 WHERE id = 1;
INSERT INTO sessions (id, title, provider, model, created, updated, forked_from) VALUES
  (2, 'tree (fork)', 'openai', 'm', 1767323050, 1767323050, 2);
INSERT INTO messages (id, session_id, seq, role, model, created_ms, content, parent_id) VALUES
  (6, 2, 1, 'user', NULL, 1767323051000, 'fork question', 2);
INSERT INTO messages (id, session_id, seq, role, model, created_ms, content) VALUES
  (7, 3, 1, 'user', NULL, 1767323045000, 'old prompt'),
  (8, 3, 2, 'assistant', 'm', 1767323046000, 'old reply'),
  (9, 3, 3, 'user', NULL, 1767323047000, 'old follow-up');
SQL

show=$("$NATTER" sessions show 1 2>&1)
ok "show prints the path on screen in order" \
    grep -qz 'question one.*first answer.*question two.*answer three' <<<"$show"
ok "show leaves the other alternative out" bash -c '! grep -q "regenerated answer" <<<"$1"' _ "$show"
ok "show marks a message with alternatives" grep -q '\[#2 · alternative 1 of 2\]' <<<"$show"

tree=$("$NATTER" sessions show 1 --tree 2>&1)
ok "show --tree prints every message" \
    grep -qz 'question one.*first answer.*regenerated answer.*question two.*answer three' <<<"$tree"
ok "show --tree says which message an alternative follows" \
    grep -q '\[#3 · alternative 2 of 2 · follows #1\]' <<<"$tree"
ok "show --tree says where a line picks up again" grep -q '\[#4 · follows #2\]' <<<"$tree"
ok "show --tree numbers plain messages too" grep -q '\[#5\]' <<<"$tree"

fork=$("$NATTER" sessions show 2 2>&1)
ok "a fork shows the shared history, then its own" \
    grep -qz 'question one.*first answer.*fork question' <<<"$fork"
ok "a fork does not show what came after its start" \
    bash -c '! grep -q "question two" <<<"$1"' _ "$fork"
ok "forking copied no text" test "$(sqlite3 "$NATTER_DB" \
    "SELECT count(*) FROM messages WHERE content = 'question one'")" = 1

old=$("$NATTER" sessions show 3 2>&1)
ok "rows without parents keep their one path" \
    grep -qz 'old prompt.*old reply.*old follow-up' <<<"$old"

md=$("$NATTER" export 1 2>&1)
ok "export holds the path on screen" bash -c \
    'grep -q "answer three" <<<"$1" && ! grep -q "regenerated answer" <<<"$1"' _ "$md"
ok "export marks alternatives" grep -q '## Assistant · m · .* · alternative 1 of 2' <<<"$md"
mdt=$("$NATTER" export 1 --tree --format text 2>&1)
ok "export --tree holds every alternative" grep -q 'regenerated answer' <<<"$mdt"
ok "export --tree says what an alternative follows" \
    grep -q 'alternative 2 of 2 · follows #1' <<<"$mdt"
json=$("$NATTER" export 1 --tree --format json 2>&1)
ok "a JSON tree export names the parent of a message out of line" \
    grep -q '"parent":[[:space:]]*1' <<<"$json"
"$NATTER" export 1 --format json >"$dir/path.json" 2>/dev/null
ok "a JSON path export has no parent fields" bash -c '! grep -q "\"parent\"" "$1"' _ "$dir/path.json"
ok "and natter import reads it back" bash -c '"$1" import "$2" >/dev/null' _ "$NATTER" \
    "$dir/path.json"
"$NATTER" export 1 --tree --format json >"$dir/tree.json" 2>/dev/null
ok "natter import refuses a tree export rather than flatten it" \
    bash -c '! "$1" import "$2" 2>/dev/null' _ "$NATTER" "$dir/tree.json"

# The session a fork shares rows of is archived, then deleted: the fork keeps its whole
# history (the shared rows become its own, nothing copied), and shows and exports it.
"$NATTER" sessions archive 1 >/dev/null 2>&1
fork=$("$NATTER" sessions show 2 2>&1)
ok "a fork of an archived session shows its history" \
    grep -qz 'question one.*first answer.*fork question' <<<"$fork"
ok "deleting the session a fork came from succeeds" "$NATTER" sessions rm 1
fork=$("$NATTER" sessions show 2 2>&1)
ok "the fork still shows the shared history, then its own" \
    grep -qz 'question one.*first answer.*fork question' <<<"$fork"
ok "and counts the rows it was given" grep -q ', 3 messages,' <<<"$fork"
ok "what only the deleted session had is gone" test "$(sqlite3 "$NATTER_DB" \
    "SELECT count(*) FROM messages WHERE session_id = 1 OR id IN (3, 4, 5)")" = 0
ok "the shared rows were moved, not copied" test "$(sqlite3 "$NATTER_DB" \
    "SELECT group_concat(session_id) FROM messages WHERE id IN (1, 2)")" = "2,2"
tree=$("$NATTER" sessions show 2 --tree 2>&1)
ok "show --tree of the fork holds its whole history" \
    grep -qz 'question one.*first answer.*fork question' <<<"$tree"
mdt=$("$NATTER" export 2 --tree --format text 2>&1)
ok "export --tree of the fork too" grep -qz 'question one.*first answer.*fork question' <<<"$mdt"
ok "the fork's history is still searchable" bash -c \
    '"$1" sessions search "question one" 2>&1 | grep -q "^ *2 .*\[question\] \[one\]"' _ "$NATTER"
ok "the database is sound" test "$(sqlite3 "$NATTER_DB" "PRAGMA integrity_check")" = ok
