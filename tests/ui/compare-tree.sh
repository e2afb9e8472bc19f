#!/usr/bin/env bash
# tmux tests of comparison rounds in the history tree: after /pick the transcript shows the
# kept column's replies with the other columns as ‹k/n› alternatives, Left switches a
# round to another column and the next prompt goes on from it (the stored tree and the
# request say so); /retry N and the regenerate key ask one column again alone, keeping
# its earlier reply as the column's alternative; a comparison left without a pick becomes
# an alternative of the next prompt, and switching back to it resumes it; a kept reply
# regenerates as any other.
set -u
. "$TESTS/ui/lib-ui.bash"

isolated_home
LOG="$LIB_TMP/fs-tree.log"
fs_start --log "$LOG"
export OPENAI_API_KEY=sk-test-tree-openai
export ANTHROPIC_API_KEY=sk-test-tree-anthropic
export NATTER_DB="$LIB_TMP/tree.db"
mkdir -p "$XDG_CONFIG_HOME/natter"
cat >"$XDG_CONFIG_HOME/natter/natter.yaml" <<YAML
providers:
  openai:
    base_url: $FS_URL/v1
    max_retries: 0
  anthropic:
    base_url: $FS_URL/v1
    max_retries: 0
YAML

# screen_line REGEX: some screen line matches.
screen_line() { ui_screen | grep -q -- "$1"; }
# requests TEXT MODEL: how many requests with TEXT went to MODEL.
requests() { grep -F -- "$1" "$LOG" | grep -c "\"model\":\"$2\""; }
# db SQL: a query of the session store.
db() { sqlite3 "$NATTER_DB" "$1"; }

ui_start 150 40 -m openai/m-a

# 1. Two rounds, then /pick 2: the path goes through column 2, column 1 its alternative.
ui_type "/compare openai/m-a anthropic/m-b"
ui_keys Enter
ui_wait 'each prompt now goes to all'
ui_type "one [m-a]tokens=2 [m-b]tokens=4"
ui_keys Enter
ui_check "rounds: the first round completes" ui_wait '✓ complete .*│ ✓ complete'
ui_type "two [m-a]tokens=3 [m-b]tokens=5"
ui_keys Enter
ui_check "rounds: the second round completes" ui_wait '│w1 w2 w3  *│ w1 w2 w3 w4 w5 *$'
ui_type "/pick 2"
ui_keys Enter
ui_check "pick: the note names the alternatives" ui_wait 'kept column 2: anthropic/m-b .* the others stay as alternatives'
ui_check "pick: the rounds show the kept replies alone" \
	bash -c "[ \$(tmux -L $UI_SOCK capture-pane -p | grep -c '▍2 m-b ‹2/2› · ✓ kept') = 2 ]"
ui_check "pick: no round is side by side any more" \
	bash -c "! tmux -L $UI_SOCK capture-pane -p | grep -q '▍1 m-a'"

# Tab selects the last message, round two's reply: Left shows column 1's instead.
ui_keys Tab
ui_keys Left
ui_check "switch: Left shows the other column's reply" ui_wait '▍1 m-a ‹1/2› · ✓ kept'
ui_check "switch: its text" screen_line '^.*│w1 w2 w3 *$'
ui_keys M-i
ui_type "three tokens=2"
ui_keys Enter
ui_check "switch: the next prompt is answered" ui_wait '▍assistant · m-b'
ui_check "switch: m-b is sent round one's kept reply and round two's switched one" bash -c \
	"l=\$(grep -F 'three tokens=2' '$LOG');
	 echo \"\$l\" | grep -q '\"w1 w2 w3 w4\"' && echo \"\$l\" | grep -q '\"w1 w2 w3\"' &&
	 ! echo \"\$l\" | grep -q '\"w1 w2 w3 w4 w5\"'"
ui_keys C-q
ui_check "quit: natter exits" ui_wait_dead
a2=$(db "SELECT id FROM messages WHERE model = 'm-a' AND content = 'w1 w2 w3'")
ui_check "tree: the next prompt follows the reply on screen" \
	[ "$(db "SELECT parent_id FROM messages WHERE content = 'three tokens=2'")" = "$a2" ]
ui_check "tree: both replies of a round follow its prompt" \
	[ "$(db "SELECT count(DISTINCT parent_id) FROM messages WHERE content LIKE 'w1 w2 w3%'
	    AND session_id = 1 AND compare_group IS NOT NULL AND parent_id IN
	    (SELECT id FROM messages WHERE content LIKE 'two %')")" = 1 ]
"$NATTER" sessions show 1 >"$LIB_TMP/show" 2>&1
ui_check "show: the path has one reply per round (and the one to three)" \
	[ "$(grep -c '^\[assistant m-' "$LIB_TMP/show")" = 3 ]
ui_check "show: the switched reply is kept now" grep -q '\[assistant m-a\].*\[compare 1/2, kept\].*alternative 1 of 2' "$LIB_TMP/show"
"$NATTER" sessions show 1 --tree >"$LIB_TMP/tree" 2>&1
ui_check "show --tree: every column's reply" \
	[ "$(grep -c '^\[assistant m-[ab]\].*\[compare' "$LIB_TMP/tree")" = 4 ]
ui_check "show --tree: a column's reply follows its prompt" \
	grep -q '\[assistant m-b\].*\[compare 2/2\].*alternative 2 of 2 · follows #' "$LIB_TMP/tree"
"$NATTER" export 1 --tree --format md -o "$LIB_TMP/tree.md" >/dev/null 2>&1
ui_check "export --tree: every column's reply" \
	[ "$(grep -c '^## Assistant [12] of 2' "$LIB_TMP/tree.md")" = 4 ]

# 2. One column retried alone, by /retry N and by the regenerate key on a reply.
ui_start 150 40 -m openai/m-a
ui_type "/compare openai/m-a anthropic/m-b"
ui_keys Enter
ui_wait 'each prompt now goes to all'
ui_type "retry me [m-a]tokens=2 [m-b]tokens=3"
ui_keys Enter
ui_check "retry: the round completes" ui_wait '│w1 w2  *│ w1 w2 w3 *$'
ui_type "/retry 1"
ui_keys Enter
ui_check "retry: the note says which column answers again" ui_wait 'retrying column 1: openai/m-a answers again alone'
ui_check "retry: the new reply is the column's second" ui_wait '▍1 m-a ‹2/2› · .*│ ▍2 m-b · '
ui_check "retry: column 1 was asked twice, column 2 once" \
	bash -c "[ \$(grep -F 'retry me' '$LOG' | grep -c '\"model\":\"m-a\"') = 2 ] &&
	 [ \$(grep -F 'retry me' '$LOG' | grep -c '\"model\":\"m-b\"') = 1 ]"
ui_check "retry: the other column keeps its reply" screen_line '│w1 w2  *│ w1 w2 w3 *$'
# Tab selects the last message: column 2's reply.
ui_keys Tab
ui_keys r
ui_check "retry key: r on column 2's reply retries it" ui_wait 'retrying column 2: anthropic/m-b'
ui_check "retry key: both columns have two replies now" ui_wait '▍1 m-a ‹2/2› · .*│ ▍2 m-b ‹2/2› · '
ui_check "retry key: m-b was asked again" [ "$(requests 'retry me' m-b)" = 2 ]
ui_keys Left
ui_check "retry: Left on a column shows its earlier reply" ui_wait '▍1 m-a ‹2/2› · .*│ ▍2 m-b ‹1/2› · '
ui_keys C-q
ui_wait_dead
ui_check "retry: the column's replies follow the round's prompt" \
	[ "$(db "SELECT count(*) FROM messages WHERE parent_id = (SELECT id FROM messages
	    WHERE content LIKE 'retry me%') AND slot = 0")" = 2 ]

# 3. Left without a pick: the next prompt goes on from before the round, which stays its
# alternative; switching back to it resumes the comparison.
ui_start 150 40 -m openai/m-a
ui_type "/compare openai/m-a anthropic/m-b"
ui_keys Enter
ui_wait 'each prompt now goes to all'
ui_type "left alone [m-a]tokens=2 [m-b]tokens=3"
ui_keys Enter
ui_check "unkept: the round completes" ui_wait '│w1 w2  *│ w1 w2 w3 *$'
ui_type "/compare off"
ui_keys Enter
ui_check "unkept: the note says where the rounds go" ui_wait 'the next prompt leaves the rounds as its alternative'
ui_type "plain question tokens=2"
ui_keys Enter
ui_check "unkept: the prompt is an alternative of the round" ui_wait '▍you ‹2/2› · '
ui_check "unkept: the round is off the transcript" bash -c \
	"! tmux -L $UI_SOCK capture-pane -p | grep -q '│left alone'"
ui_check "unkept: the round was not sent" bash -c \
	"! grep -F 'plain question' '$LOG' | grep -q 'left alone'"
# Tab selects the last message (the reply); k the prompt above it.
ui_keys Tab
ui_keys k
ui_keys Left
ui_check "unkept: Left brings the round back side by side" ui_wait '▍1 m-a · .*│ ▍2 m-b · '
ui_check "unkept: and resumes its comparison" ui_wait 'this session ends in a comparison of 2 models'
ui_type "/pick 1"
ui_keys Enter
ui_check "unkept: /pick keeps a column of it" ui_wait 'kept column 1: openai/m-a'
ui_check "unkept: the kept reply is on the path" ui_wait '▍1 m-a ‹1/2› · ✓ kept'
ui_keys M-r
ui_check "regenerate: a kept reply shown alone regenerates as any other" \
	ui_wait '▍assistant ‹3/3› · m-a'
ui_keys C-q
ui_wait_dead
ui_check "no sanitizer report" bash -c "! grep -qE 'Sanitizer|runtime error' '$LIB_TMP/natter-stderr' 2>/dev/null"
