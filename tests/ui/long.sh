#!/usr/bin/env bash
# tmux tests of a long session, which the interface opens in part: a path of 3,000 messages
# with a regenerated reply deep in it (message 10 has a sibling). It opens at its end with
# a screenful loaded; the status line's session sums count the whole path; PgUp pages the
# older messages in up to the very first one and PgDn goes back down; Home goes to the top
# at once; a search hit deep in it opens there, and Right/Left switch that message's
# alternatives; /fork N counts N on the whole path; and a reply sent from it carries the
# whole path (the fake server's log has every message). A session that ends in 30
# comparison rounds nobody picked from, more than a screenful, resumes the comparison from
# its first round. NATTER_LOG says what was loaded.
set -u
. "$TESTS/ui/lib-ui.bash"

if ! command -v sqlite3 >/dev/null 2>&1; then
	tap_skip "a long session" "needs sqlite3"
	exit 0
fi
isolated_home
export NATTER_DB=$LIB_TMP/db/natter.db
export NATTER_LOG=$LIB_TMP/natter.log
fs_start --log "$LIB_TMP/fs.log" || exit 0
export OPENAI_API_KEY=sk-long
mkdir -p "$XDG_CONFIG_HOME/natter"
printf 'providers:\n  openai:\n    base_url: %s/v1\n' "$FS_URL" >"$XDG_CONFIG_HOME/natter/natter.yaml"
"$NATTER" sessions >/dev/null 2>&1
sqlite3 "$NATTER_DB" <<'SQL'
INSERT INTO sessions (id, title, provider, model, created, updated) VALUES
  (1, 'a long one', 'openai', 'fake', 1767323045, 1767323100);
WITH RECURSIVE k(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM k WHERE i < 3000)
INSERT INTO messages (id, session_id, seq, role, created_ms, state, content, parent_id,
  provider, model, input_tokens, output_tokens, cost)
  SELECT i, 1, i, CASE i % 2 WHEN 1 THEN 'user' ELSE 'assistant' END,
    1767323045000 + i * 1000, 'complete',
    'message number ' || i || CASE WHEN i = 10 THEN ' zebracorn' ELSE '' END, i - 1,
    CASE i % 2 WHEN 0 THEN 'openai' END, CASE i % 2 WHEN 0 THEN 'fake' END,
    CASE i % 2 WHEN 0 THEN 10 END, CASE i % 2 WHEN 0 THEN 5 END,
    CASE i % 2 WHEN 0 THEN 0.001 END FROM k;
INSERT INTO messages (id, session_id, seq, role, created_ms, state, content, parent_id,
  provider, model) VALUES (3001, 1, 3001, 'assistant', 1767326100000, 'complete',
  'the other reply to message nine', 9, 'openai', 'fake');
UPDATE sessions SET head_id = 3000 WHERE id = 1;
SQL
# logged TEXT: lines of natter's log since it started that hold TEXT.
logged() { grep -c -- "$1" "$NATTER_LOG" 2>/dev/null; }
# loaded_at_open: how many messages the last open had loaded at its first frame.
loaded_at_open() { sed -n 's/.*opened to its first frame.*(\([0-9]*\) messages loaded.*/\1/p' "$NATTER_LOG" | tail -n 1; }
# top_row: the first row of the transcript (right of the session list).
top_row() { ui_screen | sed -n 1p | sed 's/^[^│]*│//'; }

: >"$NATTER_LOG"
ui_start 120 40 -S 1 -m openai/fake
ui_check "opens at its end" ui_wait 'message number 3000$'
ui_check "with a screenful loaded, not the whole path" \
	bash -c "n=\$(sed -n 's/.*opened to its first frame.*(\([0-9]*\) messages loaded, more before.*/\1/p' '$NATTER_LOG'); [ -n \"\$n\" ] && [ \"\$n\" -ge 20 ] && [ \"\$n\" -lt 200 ]"
# 1,500 replies of 15 tokens and $0.001 each, counted without loading them.
ui_check "the status line sums the whole path" ui_wait 'session 22500 tok \$1.5000'
ui_check "the count went in steps between keys" bash -c "[ \$(grep -c 'counted messages not loaded' '$NATTER_LOG') -ge 1 ]"

# PgUp all the way up: pages come in as the view reaches them.
ui_keys -N 500 PPage
ui_check "PgUp reaches the first message" ui_wait 'message number 1$'
ui_check "the top row is the first message's header" bash -c "sleep 0.3; tmux -L $UI_SOCK capture-pane -p | sed -n 1p | grep -q '▍you'"
ui_check "the older messages came a page at a time" \
	bash -c "[ \$(grep -c 'loaded [0-9]* older messages' '$NATTER_LOG') -ge 10 ]"
ui_check "message 10 shows its alternatives" ui_wait 'assistant ‹1/2› · fake'
ui_keys -N 500 NPage
ui_check "PgDn goes back down to the end" ui_wait 'message number 3000$'
ui_check "and follows the end again" ui_wait_not 'scrolled (End/G follows)'
ui_keys C-q
ui_wait_dead 10

# Home goes to the top at once (the rest is loaded in one go).
: >"$NATTER_LOG"
ui_start 120 40 -S 1 -m openai/fake
ui_wait 'message number 3000$' 10
ui_keys Tab
ui_keys Home
ui_check "Home shows the first message" ui_wait 'message number 1$'
ui_check "Home loaded the rest at once" \
	bash -c "grep -q 'loaded 29[0-9][0-9] older messages' '$NATTER_LOG'"
ui_keys End
ui_check "End follows the end" ui_wait 'message number 3000$'
# /fork N: N counts the whole path, loaded or not.
ui_keys C-q
ui_wait_dead 10
ui_start 120 40 -S 1 -m openai/fake
ui_wait 'message number 3000$' 10
ui_type "/fork 5"
ui_keys Enter
ui_check "/fork N counts the messages not loaded" \
	ui_wait 'forked: a new session sharing the history up to message 5'
tap_eq "the fork goes on from message 5" "5" \
	"$(sqlite3 "$NATTER_DB" 'SELECT forked_from FROM sessions WHERE id = 2')"
ui_check "the fork shows that history" ui_wait 'message number 5$'
ui_keys C-q
ui_wait_dead 10

# A search hit deep in it opens there, in a session loaded in part.
: >"$NATTER_LOG"
ui_start 120 40 -S 1 -m openai/fake
ui_wait 'message number 3000$' 10
ui_keys BTab
ui_keys /
ui_type "zebracorn"
ui_check "search: the hit deep in the session is listed" ui_wait 'in messages (1)'
ui_keys Enter
ui_check "search: the transcript shows the hit" ui_wait 'message number 10 zebracorn'
ui_check "search: the hit's message is selected" \
	bash -c "tmux -L $UI_SOCK capture-pane -p -e | grep '▍assistant' | head -n 1 | grep -q $'\\033\\[[0-9;]*7m'"
ui_check "search: only the pages up to it were loaded" \
	bash -c "! grep -q 'loaded 29[0-9][0-9] older messages' '$NATTER_LOG'"
# Right on it: the other reply, whose path ends there; Left: back to the long line.
ui_keys Right
ui_check "Right shows the other alternative" ui_wait 'assistant ‹2/2›'
ui_check "and its path, which ends with it" ui_wait 'the other reply to message nine'
ui_check "the long line is off the screen" ui_wait_not 'message number 3000$'
ui_keys Left
ui_check "Left brings the first alternative back" ui_wait 'alternative 1 of 2'
ui_check "and its long line to the end" ui_wait 'message number 3000$'
tap_eq "the path on screen ends there again" "3000" \
	"$(sqlite3 "$NATTER_DB" 'SELECT head_id FROM sessions WHERE id = 1')"

# A reply sent from it carries the whole path: 3,000 messages and the new prompt.
ui_keys M-i
ui_type "tokens=3 one more"
ui_keys Enter
ui_check "the reply comes" ui_wait 'w3$' 20
ui_wait 'message (Enter sends' 10
tap_eq "the request held the whole path" "3001" \
	"$(grep 'chat/completions' "$LIB_TMP/fs.log" | tail -n 1 | grep -o '"role"' | wc -l | tr -d ' ')"
tap_eq "the prompt follows the last message" "3000" \
	"$(sqlite3 "$NATTER_DB" "SELECT parent_id FROM messages WHERE content = 'tokens=3 one more'")"
ui_keys C-q
ui_wait_dead 10

# A session ending in 30 rounds of a comparison nobody picked from, after 300 plain
# messages: reopened in part, it resumes the comparison from its first round (loading the
# pages up to it, not the ones before), and each column's next request holds the plain
# messages, then every round's prompt with that column's own reply.
sqlite3 "$NATTER_DB" <<'SQL'
INSERT INTO sessions (id, title, provider, model, created, updated) VALUES
  (9, 'compared at length', 'openai', 'fake-a', 1767323045, 1767329999);
WITH RECURSIVE k(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM k WHERE i < 300)
INSERT INTO messages (id, session_id, seq, role, created_ms, state, content, parent_id,
  provider, model)
  SELECT 4000 + i, 9, i, CASE i % 2 WHEN 1 THEN 'user' ELSE 'assistant' END,
    1767323045000 + i * 1000, 'complete', 'plain ' || i,
    CASE WHEN i = 1 THEN 0 ELSE 4000 + i - 1 END,
    CASE i % 2 WHEN 0 THEN 'openai' END, CASE i % 2 WHEN 0 THEN 'fake-a' END FROM k;
WITH RECURSIVE k(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM k WHERE i < 30)
INSERT INTO compare_groups (id, session_id, created) SELECT 100 + i, 9, 1767323045 FROM k;
WITH RECURSIVE k(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM k WHERE i < 89)
INSERT INTO messages (id, session_id, seq, role, created_ms, state, content, parent_id,
  provider, model, compare_group, slot)
  SELECT 5000 + i, 9, 301 + i, CASE i % 3 WHEN 0 THEN 'user' ELSE 'assistant' END,
    1767324045000 + i * 1000, 'complete',
    CASE i % 3 WHEN 0 THEN 'round ' || (i / 3 + 1) ELSE 'column ' || (i % 3) || ' of round '
      || (i / 3 + 1) END,
    CASE WHEN i = 0 THEN 4300 ELSE 5000 + i - 1 END,
    CASE i % 3 WHEN 0 THEN NULL ELSE 'openai' END,
    CASE i % 3 WHEN 1 THEN 'fake-a' WHEN 2 THEN 'fake-b' END, 101 + i / 3,
    CASE i % 3 WHEN 1 THEN 0 WHEN 2 THEN 1 END FROM k;
SQL
: >"$NATTER_LOG"
ui_start 120 40 -S 9 -m openai/fake-a
ui_check "compared: opens at its last round" ui_wait 'column 2 of round 30'
ui_check "compared: the comparison resumes" ui_wait '1 openai/fake-a *│ 2 openai/fake-b'
ui_check "compared: the rounds are loaded, the plain messages before them not all" \
	bash -c "grep -q 'opened to its first frame.*more before' '$NATTER_LOG'"
: >"$LIB_TMP/fs.log"
ui_type "round 31"
ui_keys Enter
ui_check "compared: both columns answer" ui_wait 'fakeserver answering: round 31' 20
sleep 1
# Plain: 300; the rounds: 30 prompts and 30 replies; the new prompt: 1.
tap_eq "compared: each column's request holds the whole path and its rounds" "361 361" \
	"$(grep 'chat/completions' "$LIB_TMP/fs.log" | tail -n 2 | while read -r l; do grep -o '"role"' <<<"$l" | wc -l; done | tr '\n' ' ' | sed 's/ $//')"
ui_keys C-q
ui_wait_dead 10
