#!/usr/bin/env bash
# tmux tests of what the interface draws from untrusted or invisible text: bidi controls
# typed or pasted into the input, in the transcript and in session titles, and a stored title
# with escapes and a newline, all drawn as one visible U+FFFD each (natter(1), SECURITY OF
# OUTPUT), with the cursor where the marks leave it. The offline simulated provider answers.
set -u
. "$TESTS/ui/lib-ui.bash"

isolated_home
export NATTER_DB=$LIB_TMP/db/natter.db
R=$'\xef\xbf\xbd'
"$NATTER" sessions >/dev/null 2>&1
sqlite3 "$NATTER_DB" <<'SQL'
INSERT INTO sessions (id, title, provider, model, created, updated) VALUES
  (1, 'pay ' || char(8238) || 'gpj.exe' || char(27) || ']0;PWNED' || char(7) || char(10) || 'x',
      'simulated', 'simulated', 1767323045, 1767323100);
INSERT INTO messages (session_id, seq, role, created_ms, state, content) VALUES
  (1, 1, 'user', 1767323045000, 'complete', 'old');
SQL

ui_start 100 30
ui_check "stored title: the bidi override, ESC, BEL and newline are marks" \
	ui_wait "pay ${R}gpj.exe${R}]0;PWNED${R} x"
ui_check "stored title: the terminal title was not set" \
	bash -c "[ \"\$(tmux -L $UI_SOCK display -p '#{pane_title}')\" != PWNED ]"

# A right-to-left override typed into the input.
ui_type $'abc\u202edef'
ui_check "typed: the override in the input is a mark" ui_wait "› abc${R}def"
# cursor_col TEXT: the column just after TEXT on the screen (every cell here is one wide).
cursor_col() {
	ui_screen | python3 -c 'import sys
t = sys.argv[1]
for l in sys.stdin.read().split("\n"):
    if t in l:
        print(l.index(t) + len(t))
        break' "$1"
}
ui_check "typed: the cursor is just after the mark and the text" \
	bash -c "[ \"\$(tmux -L $UI_SOCK display -p '#{cursor_x}')\" = '$(cursor_col "abc${R}def")' ]"
ui_keys C-u

# An isolate and a right-to-left mark pasted with bracketed paste.
tmux -L "$UI_SOCK" set-buffer -b p "$(printf 'pasted\u2066x\u200fy')"
tmux -L "$UI_SOCK" paste-buffer -p -b p
ui_check "pasted: the isolate and the RLM are marks" ui_wait "› pasted${R}x${R}y"
ui_keys C-u

# Sent: the transcript and the new session's title show the mark too.
ui_type $'abc\u202edef'
ui_keys Enter
ui_check "sent: the transcript shows the override as a mark" ui_wait "│abc${R}def\$"
ui_check "sent: the session title shows it" ui_wait "▸abc${R}def"
ui_check "sent: no raw bidi control anywhere on the screen" \
	bash -c "! tmux -L $UI_SOCK capture-pane -p | LC_ALL=C grep -qaP '\\xe2\\x80[\\xae\\x8f]|\\xe2\\x81\\xa6'"
ui_check "no sanitizer report" bash -c "! grep -qE 'Sanitizer|runtime error' '$LIB_TMP/natter-stderr' 2>/dev/null"
