#!/usr/bin/env bash
# tmux tests of side-by-side comparison: /compare refuses unknown and unusable models,
# one prompt streams into two columns at once (a fast and a slow model on the fake
# server, steered with [MODEL]name=value words), each column has its own footer figures
# and its own history, Esc cancels every column, an error stays in its column, /pick and
# the pick key go on with one model (the kept reply on the path, the other columns its
# ‹k/n› alternatives), a reopened session shows the kept reply so again or resumes a
# comparison nobody kept, a narrow pane gets a note, and redraws stay throttled.
set -u
. "$TESTS/ui/lib-ui.bash"

isolated_home
LOG="$LIB_TMP/fs-compare.log"
fs_start --log "$LOG"
export OPENAI_API_KEY=sk-test-compare-openai
export ANTHROPIC_API_KEY=sk-test-compare-anthropic
mkdir -p "$XDG_CONFIG_HOME/natter"
cat >"$XDG_CONFIG_HOME/natter/natter.yaml" <<YAML
providers:
  openai:
    base_url: $FS_URL/v1
    max_retries: 0
  anthropic:
    base_url: $FS_URL/v1
    max_retries: 0
  nokey:
    protocol: openai
    base_url: $FS_URL/v1
    key_env: NATTER_TEST_NO_SUCH_KEY
models:
  m-fast:
    provider: openai
    id: m-fast
    price_input: 1.0
    price_output: 2.0
  m-slow:
    provider: anthropic
    id: m-slow
  m-bad:
    provider: openai
    id: m-bad
YAML

# screen_line REGEX: some screen line matches (the columns of a row are on one line).
screen_line() { ui_screen | grep -q -- "$1"; }

ui_start 150 40 -m m-fast

# Refusals: nothing starts, and the note says which model and why.
ui_type "/compare m-fast nosuch"
ui_keys Enter
ui_check "refused: an unknown model is named" ui_wait "unknown model 'nosuch'"
ui_type "/compare m-fast nokey/x"
ui_keys Enter
ui_check "refused: a provider without a key says so" ui_wait 'provider nokey is off (no key; set NATTER_TEST_NO_SUCH_KEY)'
ui_type "/compare m-fast"
ui_keys Enter
ui_check "refused: one model is not a comparison" ui_wait 'two to four models'
ui_check "refused: comparison mode did not start" bash -c "! tmux -L $UI_SOCK capture-pane -p | grep -q 'comparing'"

# Tab completes the last model name.
ui_type "/compare m-fast m-sl"
ui_keys Tab
ui_check "complete: the second model completes" ui_wait '› /compare m-fast m-slow *$'
ui_keys Enter
ui_check "compare: the column headers name provider and model" \
	ui_wait '1 openai/m-fast .*│ 2 anthropic/m-slow'
ui_check "compare: the status line says comparison mode" ui_wait '^ comparing 2 models'
ui_check "compare: the note says where prompts go, once" ui_wait 'each prompt now goes to all 2 models; /compare off ends'

# One prompt, two streams at once: the fast column is done while the slow one streams.
ui_type "first [m-fast]tokens=6 [m-slow]delay_ms=60 [m-slow]tokens=40"
ui_keys Enter
ui_check "stream: the fast column completes while the slow one still streams" \
	ui_wait '✓ complete .*│ ● streaming'
ui_check "stream: the slow column completes too" ui_wait '✓ complete .*│ ✓ complete'
ui_check "stream: both replies side by side on the same rows" \
	screen_line '│w1 w2 w3 w4 w5 w6  *│ w1 w2 w3 w4 w5'
ui_check "stream: the slow column has its own text" screen_line '│ .*w40'
ui_check "footer: each column its own figures (fast priced, slow not)" \
	screen_line 'ttft [0-9.]*s · .* · 6 tok · \$0\.0000[0-9]* *│ ttft [0-9.]*s · [0-9.]* tok/s · 40 tok *$'
ui_check "requests: one per model, to each provider's endpoint" bash -c \
	"grep -F 'first [m-fast]' '$LOG' | grep -q 'chat/completions.*\"model\":\"m-fast\"' &&
	 grep -F 'first [m-fast]' '$LOG' | grep -q 'messages.*\"model\":\"m-slow\"'"

# Each column keeps its own history.
ui_type "second tokens=2"
ui_keys Enter
ui_check "history: the second round completes" ui_wait '│w1 w2  *│ w1 w2 *$'
ui_check "history: m-fast is sent its own first reply, not m-slow's" bash -c \
	"l=\$(grep -F 'second tokens=2' '$LOG' | grep '\"model\":\"m-fast\"');
	 echo \"\$l\" | grep -q 'w1 w2 w3 w4 w5 w6\"' && ! echo \"\$l\" | grep -q 'w7'"
ui_check "history: m-slow is sent its own first reply" bash -c \
	"grep -F 'second tokens=2' '$LOG' | grep '\"model\":\"m-slow\"' | grep -q 'w39 w40'"

# Esc cancels every column; the partial text stays.
ui_type "third [m-fast]delay_ms=40 [m-slow]delay_ms=40 tokens=400"
ui_keys Enter
ui_check "cancel: both columns stream" ui_wait '● streaming .*│ ● streaming'
ui_wait '│w1 w2 w3 w4 w5 .*│ w1 w2 w3 w4 w5' 10
ui_keys Escape
ui_check "cancel: Esc cancels both columns" ui_wait '⊘ cancelled.*│ ⊘ cancelled'
ui_check "cancel: the partial text of both is kept" screen_line '│w1 w2 w3 w4 w5 .*│ w1 w2 w3 w4 w5'

# A new comparison of three; an error in one column leaves the others alone.
ui_type "/compare m-fast m-slow m-bad"
ui_keys Enter
ui_check "three: three headers" ui_wait '1 openai/m-fast .*│ 2 anthropic/m-slow .*│ 3 openai/m-bad'
ui_type "alpha [m-fast]tokens=3 [m-slow]tokens=5 [m-bad]status=500"
ui_keys Enter
ui_check "error: shown in its own column's footer only" ui_wait '✓ complete .*│ ✓ complete .*│ ✗ server (500)'
ui_check "error: the others have their text" screen_line '│w1 w2 w3  *│ w1 w2 w3 w4 w5  *│ '
ui_check "error: its column shows the provider's message" screen_line '│ ✗ server (500): fakeserver'

# /pick: column 2's replies become the conversation and the chat goes on with m-slow.
ui_type "/pick 2"
ui_keys Enter
ui_check "pick: says which column was kept" ui_wait 'kept column 2: anthropic/m-slow'
ui_check "pick: comparison mode is off" ui_wait_not '1 openai/m-fast .*│ 2 anthropic/m-slow'
ui_check "pick: the kept reply is on the path, the other columns its alternatives" \
	screen_line '▍2 m-slow ‹2/3› · ✓ kept'
ui_type "after pick tokens=2"
ui_keys Enter
ui_check "pick: the reply comes from m-slow alone" ui_wait '▍assistant · m-slow'
ui_check "pick: m-slow is sent the kept round and not the others' replies" bash -c \
	"l=\$(grep -F 'after pick tokens=2' '$LOG');
	 [ \$(echo \"\$l\" | wc -l) = 1 ] && echo \"\$l\" | grep -q '\"model\":\"m-slow\"' &&
	 echo \"\$l\" | grep -q 'w1 w2 w3 w4 w5' && echo \"\$l\" | grep -q 'alpha' &&
	 ! echo \"\$l\" | grep -q 'first \\[m-fast\\]'"
ui_keys C-q
ui_check "quit: natter exits" ui_wait_dead

# The stored groups: show and export mark them.
"$NATTER" sessions show 1 >"$LIB_TMP/show" 2>&1
ui_check "show: the kept reply is marked" grep -q '\[assistant m-slow\].*\[compare 2/3, kept\]' "$LIB_TMP/show"
ui_check "show: the prompt says it was compared" grep -q '\[compared on 3 models\]' "$LIB_TMP/show"
"$NATTER" sessions export 1 --format json -o "$LIB_TMP/s1.json" >/dev/null 2>&1
ui_check "export: json has the column and the kept flag" bash -c \
	"grep -q '\"compare_column\":[[:space:]]*2' '$LIB_TMP/s1.json' && grep -q '\"compare_kept\":[[:space:]]*true' '$LIB_TMP/s1.json'"

# Reopening the session shows the kept reply with its alternatives again.
ui_start 150 40 -m m-fast
ui_keys BTab
ui_keys Enter
ui_check "reopen: the kept reply is on the path with its alternatives" \
	ui_wait '▍2 m-slow ‹2/3› · ✓ kept'
ui_check "reopen: the chat goes on with the kept model" ui_wait 'anthropic/m-slow'

# A session that ends in a comparison resumes it; the pick key keeps the selected column.
ui_keys M-n
ui_type "/compare m-slow m-fast"
ui_keys Enter
ui_type "gamma [m-slow]tokens=3 [m-fast]tokens=7"
ui_keys Enter
ui_check "resume: the round completes" ui_wait '✓ complete .*│ ✓ complete'
ui_keys C-q
ui_wait_dead
ui_start 150 40 -m m-fast
ui_keys BTab
ui_keys Enter
ui_check "resume: reopening resumes the comparison" ui_wait 'this session ends in a comparison of 2 models'
ui_check "resume: its headers are back" ui_wait '1 anthropic/m-slow .*│ 2 openai/m-fast'
ui_keys BTab
ui_keys k
ui_keys p
ui_check "pick key: p keeps the selected column" ui_wait 'kept column 1: anthropic/m-slow'

# Narrow: a note instead of squeezed columns; resizing back lays the columns out again.
ui_type "/compare m-fast m-slow"
ui_keys Enter
ui_type "delta tokens=4"
ui_keys Enter
ui_check "narrow: wide enough first" ui_wait '✓ complete .*│ ✓ complete'
tmux -L "$UI_SOCK" resize-window -x 70 -y 40
ui_check "narrow: a note says the columns do not fit" ui_wait 'too narrow for 2 columns'
ui_check "narrow: the replies are stacked, each still named" ui_wait '▍2 m-slow'
tmux -L "$UI_SOCK" resize-window -x 150 -y 40
# The header names the round side by side at the top of the view: delta's, since gamma's
# kept reply is shown alone, full width, with the other column its alternative.
ui_check "narrow: resizing back restores the columns" ui_wait '1 openai/m-fast .*│ 2 anthropic/m-slow'
ui_check "narrow: the kept round above shows its kept reply alone" screen_line '▍1 m-slow ‹1/2› · ✓ kept'
ui_keys C-q
ui_wait_dead

# Redraws stay throttled while two columns stream fast: count frames in the debug log.
NATTER_LOG="$LIB_TMP/natter.log" ui_start 150 40 -m m-fast
ui_type "/compare m-fast m-slow"
# Typed ahead in one read, an Enter followed by more text is taken for a paste (terminals
# without bracketed paste); wait for the command to land, as a person would.
ui_wait '› /compare m-fast m-slow'
ui_keys Enter
ui_wait 'each prompt now goes to all 2 models'
ui_type "epsilon delay_ms=1 burst=2 tokens=3000"
ui_keys Enter
ui_check "rate: both long replies complete" ui_wait '✓ complete .*│ ✓ complete' 60
ui_keys C-q
ui_wait_dead
frames=$(awk '/ui: frame drawn/ { n++; if (!t0) t0 = $1; t1 = $1 } END { printf "%d %d", n, (t1 - t0) * 1000 }' "$LIB_TMP/natter.log")
nf=${frames% *}
ms=${frames#* }
ui_check "rate: at most one frame per ~16 ms ($nf frames in $ms ms)" [ "$nf" -le $((ms / 14 + 30)) ]
echo "# redraws while comparing: $nf frames in $ms ms"
ui_check "no sanitizer report" bash -c "! grep -qE 'Sanitizer|runtime error' '$LIB_TMP/natter-stderr' 2>/dev/null"
