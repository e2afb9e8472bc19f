#!/usr/bin/env bash
# tmux tests of the slash commands with a back end in another module: /template and its
# form, /metrics, /summarize, /set and /unset, Tab completion of commands and arguments,
# model fallbacks shown inline, and a broken config that starts with the defaults.
set -u
. "$TESTS/ui/lib-ui.bash"

isolated_home
LOG="$LIB_TMP/fs-features.log"
fs_start --log "$LOG"
export OPENAI_API_KEY=sk-test-ui-features
mkdir -p "$XDG_CONFIG_HOME/natter"
CONF="$XDG_CONFIG_HOME/natter/natter.yaml"
cat >"$CONF" <<YAML
providers:
  openai:
    base_url: $FS_URL/v1
    max_retries: 0
models:
  busy-model:
    provider: openai
    id: busy-model
    fallback: [good-model]
  good-model:
    provider: openai
    id: good-model
templates:
  greet:
    description: Say hello
    system: Answer in one line.
    user: "Greet {who} warmly in {lang}"
    defaults: {lang: French}
YAML

ui_start 150 32 -m openai/fake-model

# Tab completion: the command, then its argument.
ui_type "/tem"
ui_keys Tab
ui_check "complete: /tem becomes /template" ui_wait '› /template *$'
ui_type "gre"
ui_keys Tab
ui_check "complete: the template name from the config" ui_wait '› /template greet *$'

# /template alone lists the templates in a picker titled for them.
ui_keys C-u
ui_type "/template"
ui_keys Enter
ui_check "template picker: titled for templates" ui_wait 'choose a template'
ui_check "template picker: not called a model picker" bash -c "! tmux -L $UI_SOCK capture-pane -p | grep -q 'choose a model'"
ui_check "template picker: lists the template with its description" ui_wait 'greet .*Say hello'
ui_keys Escape
ui_check "template picker: Esc closes it" ui_wait_not 'choose a template'
ui_type "/template greet"

# /template NAME: the form names what is missing, then sends the rendered prompt.
ui_keys Enter
ui_check "template: the form opens with its fields" ui_wait 'template greet'
ui_check "template: the default is shown" ui_wait 'lang  *French'
ui_keys C-s
ui_check "template: a missing variable is named" ui_wait 'missing variable.*who'
ui_type "Alice"
ui_keys Tab Enter
ui_check "template: the rendered prompt is sent and answered" ui_wait 'answering: Greet Alice warmly in French'
ui_check "template: the system prompt went with it" grep -q '"Answer in one line."' "$LOG"

# /metrics after a reply.
ui_type "/metrics"
ui_keys Enter
ui_check "metrics: the overlay opens" ui_wait 'metrics of this session'
ui_check "metrics: the reply has its figures" ui_wait '^.*1 *openai/fake-model *[0-9.]*s *[0-9.]*s *[0-9][0-9]* *[0-9][0-9]*'
ui_check "metrics: no price is unknown, and totals" ui_wait 'session: 1 reply .*cost unknown'
ui_keys Escape
ui_check "metrics: Esc closes it" ui_wait_not 'metrics of this session'

# A whole reply that hit the output token limit says so under the reply.
ui_type "vector=openai_usage_null_until_last_chunk"
ui_keys Enter
ui_check "finish: the length limit is noted under the reply" \
	ui_wait '⚠ stopped at the output token limit (max_tokens)'

# /set: refused with the range, accepted and sent, listed, unset.
ui_type "/set temperature 5"
ui_keys Enter
ui_check "set: 5 is refused with the range" ui_wait 'expected a number from 0 to 2'
ui_type "/set temperature 0.2"
ui_keys Enter
ui_check "set: 0.2 is accepted" ui_wait 'temperature = 0.2 for this session'
ui_type "/set"
ui_keys Enter
ui_check "set: alone it lists the parameters" ui_wait 'session parameters: temperature=0.2'
ui_type "with params tokens=3"
ui_keys Enter
ui_check "set: the reply arrives" ui_wait 'w1 w2 w3'
ui_check "set: the request carried temperature 0.2" bash -c "grep 'with params' '$LOG' | grep -q '\"temperature\":0.2'"
ui_type "/unset temperature"
ui_keys Enter
ui_check "unset: says so" ui_wait 'temperature unset'

# /summarize: a summary message, then a new session from it.
ui_type "/summarize"
ui_keys Enter
ui_check "summarize: the reply is marked as a summary" ui_wait 'Summary of the conversation so far'
ui_check "summarize: the model was asked for one" ui_wait 'answering: Summarise our conversation'
ui_check "summarize: it offers to continue" ui_wait 'summarize continue'
ui_type "/summarize continue"
ui_keys Enter
ui_check "summarize continue: a new session from the summary" ui_wait 'system prompt carries the summary'

# Fallback: the busy model fails with 529 before a token; the next one answers.
ui_type "/model busy-model"
ui_keys Enter
ui_type "fall back fail_times=1 id=fbui status=529"
ui_keys Enter
ui_check "fallback: said inline in the transcript" ui_wait '✗ busy-model failed (overloaded, HTTP 529); falling back to good-model'
ui_check "fallback: the reply comes from the fallback model" ui_wait 'assistant · good-model'
ui_check "fallback: and its text arrives" ui_wait 'answering: fall back'
ui_keys C-q
ui_wait_dead

# A broken config: the errors are shown, natter runs on the defaults, sessions are kept.
printf 'providers:\n  openai:\n    base_url: [unclosed\nmodels: 12\n' >"$CONF"
ui_start 110 32 -m simulated/simulated
ui_check "broken config: the file:line:col error is shown" ui_wait 'natter.yaml:[0-9]*:[0-9]*:'
ui_check "broken config: it says the defaults apply" ui_wait 'default configuration'
ui_keys Escape
ui_check "broken config: the sessions are still listed" ui_wait 'Greet Alice'
ui_type "still works tokens=5"
ui_keys Enter
ui_check "broken config: a message still gets a reply" ui_wait '▍you'
ui_keys C-q
ui_check "broken config: quits cleanly" ui_wait_dead
ui_check "broken config: exit status 0" [ "$(ui_exit_status)" = 0 ]

# A theme named on the command line that does not exist is a usage error, said before the
# screen is taken and naming the option and the themes there are; one in the config file
# stays a configuration error.
printf 'providers:\n  openai:\n    base_url: %s/v1\n' "$FS_URL" >"$CONF"
mkdir -p "$XDG_CONFIG_HOME/natter/themes"
cp "$ROOT/themes/dark.theme" "$XDG_CONFIG_HOME/natter/themes/mine.theme"
: >"$LIB_TMP/natter-stderr"
ui_launch 110 32 --theme nosuch
ui_check "theme: a bad --theme ends natter" ui_wait_dead
ui_check "theme: with the usage exit status 2" [ "$(ui_exit_status)" = 2 ]
ui_check "theme: the error names the option and lists the themes" grep -q \
	"^natter: --theme nosuch: no theme 'nosuch'; the themes are dark, light, mine, mono, terminal" \
	"$LIB_TMP/natter-stderr"
ui_check "theme: it is not called a problem of the config file" bash -c \
	"! grep -qi 'config' '$LIB_TMP/natter-stderr'"
: >"$LIB_TMP/natter-stderr"
ui_launch 110 32 --theme "$LIB_TMP/no-such.theme"
ui_check "theme: a theme file that cannot be read is an error too" ui_wait_dead
ui_check "theme: naming the file" grep -q "^natter: --theme $LIB_TMP/no-such.theme: theme file .* cannot be read" \
	"$LIB_TMP/natter-stderr"
ui_start 110 32 --theme mine
ui_check "theme: a theme of the user's themes directory loads" ui_wait 'Type a message'
ui_keys C-q
ui_wait_dead
printf 'theme: nosuch\n' >>"$CONF"
ui_start 110 32
ui_check "theme: the config file's bad theme is a configuration error" ui_wait 'configuration errors'
ui_check "theme: which lists the themes too" ui_wait "no theme 'nosuch'; the themes are dark, light, mine"
ui_keys Escape
ui_keys C-q
ui_wait_dead

# A config with one bad entry: the error is shown, the rest of the file applies (the
# greet template is still there), and the overlay says what happened.
printf 'providers:\n  openai:\n    base_url: %s/v1\ntemplates:\n  greet:\n    user: "Hello {name}"\n  bad:\n    extends: nosuch\n' "$FS_URL" >"$CONF"
ui_start 110 32 -m simulated/simulated
ui_check "one bad entry: its file:line:col error is shown" ui_wait 'natter.yaml:8:14: templates.bad.extends'
ui_check "one bad entry: the overlay says only it is left out" ui_wait 'rest of the file applies'
ui_keys Escape
ui_wait_not 'configuration errors' && ui_wait '› message'
ui_type "/template greet"
ui_wait '› /template greet *$'
ui_keys Enter
ui_check "one bad entry: the sound template still opens its form" ui_wait 'template greet'
ui_keys Escape
ui_wait_not '── template greet'
ui_keys C-q
ui_check "one bad entry: quits cleanly" ui_wait_dead
ui_check "no sanitizer report" bash -c "! grep -qE 'Sanitizer|runtime error' '$LIB_TMP/natter-stderr' 2>/dev/null"
