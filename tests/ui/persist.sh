#!/usr/bin/env bash
# Nothing shown is lost from the database: the real interface in tmux against the fake
# server. (1) A database that cannot be opened shows a warning bar and "NOT SAVED" in the
# status line that stay until it opens; natter retries on its own and then saves the whole
# conversation. (2) The same, with the retry that comes before each send. (3) A session
# deleted by another natter (`natter sessions rm`) while open, between two messages and in
# the middle of a reply: the conversation is saved again as a new session, and the
# transcript says so. Prints TAP lines.
set -u
. "$TESTS/ui/lib-ui.bash"

if ! command -v tmux >/dev/null 2>&1 || ! command -v sqlite3 >/dev/null 2>&1; then
	tap_skip "saving when the store fails" "needs tmux and sqlite3"
	exit 0
fi

isolated_home
fs_start || exit 0
export OPENAI_API_KEY=sk-test-persist
mkdir -p "$XDG_CONFIG_HOME/natter"
printf 'providers:\n  openai:\n    base_url: %s/v1\n' "$FS_URL" >"$XDG_CONFIG_HOME/natter/natter.yaml"

# q DB SQL: one query, waiting for locks.
q() { sqlite3 -cmd '.timeout 5000' "$1" "$2"; }

# wait_for SECONDS CMD...: poll CMD every 0.1 s until it succeeds or SECONDS pass.
wait_for() {
	local i t=$1
	shift
	for i in $(seq 1 $((t * 10))); do
		"$@" && return 0
		sleep 0.1
	done
	return 1
}

# 1. The database's directory is a plain file: natter cannot open it. (Tests run as root,
# so a directory without write permission would not stop it.) Its path is short, so the bar
# has room for the reason however long the temporary directory's name is.
blockdir=$(mktemp -d /tmp/nps.XXXXXX)
lib_at_exit rm -rf "$blockdir"
blocker="$blockdir/d"
: >"$blocker"
export NATTER_DB="$blocker/natter.db"
ui_start 110 30 -m openai/fake-model || { tap_fail "natter starts" "$(ui_screen)"; exit 0; }
ui_check "without a database a warning bar says nothing is saved" ui_wait 'NOT SAVING: '
ui_check "the bar says why" ui_wait 'Not a directory'
ui_check "the status line says NOT SAVED" bash -c "tmux -L $UI_SOCK capture-pane -p | tail -n 1 | grep -q 'NOT SAVED'"
ui_type "first words delay_ms=1 tokens=6"
ui_keys Enter
ui_check "the reply streams all the same" ui_wait 'w6'
ui_check "the warning stays while the database is missing" ui_wait 'NOT SAVING: ' 2
sleep 1.5
ui_check "it is still there seconds later (not a passing note)" ui_wait 'NOT SAVING: ' 1
# The directory appears: natter's next try opens the database and saves everything.
rm -f "$blocker"
mkdir -p "$blocker"
ui_check "natter retries on its own and the warning goes" ui_wait_not 'NOT SAVING' 40
ui_check "it says the conversation is saved now" ui_wait 'conversation saved: the database' 10
tap_eq "the conversation shown is in the database" \
	"user|first words delay_ms=1 tokens=6;assistant|w1 w2 w3 w4 w5 w6;" \
	"$(q "$NATTER_DB" "SELECT role, content FROM messages ORDER BY seq" | tr '\n' ';')"
ui_type "second words delay_ms=1 tokens=3"
ui_keys Enter
ui_check "the next exchange streams" ui_wait 'w1 w2 w3'
tap_check "and is saved as it comes" wait_for 10 test "$(q "$NATTER_DB" \
	"SELECT count(*) FROM messages WHERE state = 'complete'")" = 4
tap_check "the status line no longer says NOT SAVED" bash -c "! tmux -L $UI_SOCK capture-pane -p | grep -q 'NOT SAVED'"
ui_keys C-q
ui_wait_dead

# 2. Missing again at start; made available, then a send tries at once (no waiting for the
# backoff) and saves the message before it with the new one.
rm -rf "$blocker"
: >"$blocker"
ui_start 110 30 -m openai/fake-model || { tap_fail "natter starts again" "$(ui_screen)"; exit 0; }
ui_check "the warning is back" ui_wait 'NOT SAVING: '
ui_type "alpha delay_ms=1 tokens=2"
ui_keys Enter
ui_check "a reply without a database" ui_wait 'w1 w2'
sleep 4  # let the backoff grow past what the rest of this part waits
rm -f "$blocker"
mkdir -p "$blocker"
ui_type "beta delay_ms=1 tokens=2"
ui_keys Enter
ui_check "sending opens the database at once" ui_wait_not 'NOT SAVING' 3
tap_check "both exchanges are stored" wait_for 5 test "$(q "$NATTER_DB" \
	"SELECT group_concat(substr(content, 1, 5), ',') FROM (SELECT content FROM messages WHERE role = 'user' ORDER BY seq)")" = "alpha,beta "
ui_keys C-q
ui_wait_dead

# 3. Deleted by another natter between two messages.
export NATTER_DB="$LIB_TMP/ok/natter.db"
ui_start 110 30 -m openai/fake-model || { tap_fail "natter starts on a good database" "$(ui_screen)"; exit 0; }
ui_check "no warning when the database opens" ui_wait_not 'NOT SAV' 2
ui_type "one delay_ms=1 tokens=3"
ui_keys Enter
ui_check "the first reply arrives" ui_wait 'w1 w2 w3'
tap_check "it is stored in session 1" wait_for 5 test "$(q "$NATTER_DB" \
	"SELECT count(*) FROM messages WHERE session_id = 1 AND state = 'complete'")" = 2
"$NATTER" sessions rm 1 >/dev/null
ui_type "two delay_ms=1 tokens=4"
ui_keys Enter
ui_check "the next reply arrives" ui_wait 'w1 w2 w3 w4'
ui_check "the transcript says the session was deleted and saved again" \
	ui_wait 'session 1 was deleted by another natter: everything above is saved again as'
ui_check "it names the new session" ui_wait '^ *│  session 2 *$'
tap_eq "session 1 is gone" 0 "$(q "$NATTER_DB" "SELECT count(*) FROM sessions WHERE id = 1")"
tap_check "session 2 holds the whole conversation" wait_for 5 test "$(q "$NATTER_DB" \
	"SELECT group_concat(role || ':' || substr(content, 1, 3), ',') FROM (SELECT role, content FROM messages WHERE session_id = 2 AND state = 'complete' ORDER BY seq)")" = \
	"user:one,assistant:w1 ,user:two,assistant:w1 "

# 4. Deleted while a reply streams: the reply goes on into a new session, all of it.
ui_type "three delay_ms=15 tokens=150"
ui_keys Enter
ui_check "a slow reply is streaming" ui_wait 'w20 '
"$NATTER" sessions rm 2 >/dev/null
ui_check "the slow reply ends" ui_wait 'w150' 30
ui_check "the transcript says session 2 was saved again" ui_wait 'session 2 was deleted by another natter'
tap_check "session 3 holds the whole conversation and the whole reply" wait_for 5 test "$(q "$NATTER_DB" \
	"SELECT count(*) || ',' || max(instr(content, 'w149 w150') > 0) FROM messages WHERE session_id = 3 AND state = 'complete'")" = "6,1"
tap_eq "the database passes its integrity check" ok "$(q "$NATTER_DB" 'PRAGMA integrity_check')"
ui_keys C-q
ui_wait_dead

# 5. Without a database, M-n (new session) asks before dropping the unsaved conversation, and quitting
# says on stderr that it was not saved.
rm -rf "$blocker"
: >"$blocker"
export NATTER_DB="$blocker/natter.db"
: >"$LIB_TMP/natter-stderr"
ui_start 110 30 -m openai/fake-model || { tap_fail "natter starts without a database" "$(ui_screen)"; exit 0; }
ui_type "keep me delay_ms=1 tokens=2"
ui_keys Enter
ui_check "a reply without a database (again)" ui_wait 'w1 w2'
ui_keys M-n
ui_check "M-n (new session) asks before dropping an unsaved conversation" ui_wait 'do it again within 3 s to discard'
ui_check "the conversation is still shown" ui_wait 'keep me delay_ms'
ui_check "the question goes after a few seconds" ui_wait_not 'do it again within' 6
ui_check "the warning stays" ui_wait 'NOT SAVING: ' 1
ui_keys C-q
ui_wait_dead
tap_check "quitting says the conversation was not saved" \
	grep -q 'this conversation (2 messages) was not saved' "$LIB_TMP/natter-stderr"
