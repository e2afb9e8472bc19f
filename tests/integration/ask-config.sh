#!/usr/bin/env bash
# `natter ask` driven by the config: parameters refused before anything is sent (the fake
# server's log stays empty), -P for any parameter, prompt templates rendered into the request
# body (-T, -V, -V name=@FILE, PROMPT as the first unset variable, missing variables named),
# model defaults and aliases, and a user config with errors reported as file:line:col lines
# while ask still answers with everything the errors are not in.
set -u
. "$TESTS/integration/lib.sh"

isolated_home
unset NATTER_MODEL NATTER_PROVIDER NATTER_MAX_RETRIES
KEY=sk-askcfg-KEY-80211
export CFG_KEY=$KEY
LOG=$LIB_TMP/fs.log
fs_start --key "$KEY" --log "$LOG" || exit 0
OUT=$LIB_TMP/out
ERR=$LIB_TMP/err
mkdir -p "$XDG_CONFIG_HOME/natter"
CFG=$XDG_CONFIG_HOME/natter/natter.yaml
cat >"$CFG" <<EOF
defaults: {seed: 7}
providers:
  fake:
    protocol: openai
    base_url: $FS_URL/v1
    key_env: CFG_KEY
models:
  strict:
    provider: fake
    id: strict-model
    aliases: [st]
    params: {temperature: [0, 1], top_k: false}
    defaults: {max_tokens: 321}
  reasoner: {provider: fake, id: o3-mini}
  gw5: {provider: fake, id: openai/gpt-5-mini}
  forced-old: {provider: fake, id: o4-mini, max_tokens_field: max_tokens}
  forced-new: {provider: fake, id: my-deployment, max_tokens_field: max_completion_tokens}
  plain: {provider: fake, id: llama-3.3-70b}
templates:
  shout:
    description: test template
    system: "You answer in {lang}."
    user: "Say {what} loudly: {rest}"
    defaults: {lang: English}
    model: strict
    params: {temperature: 0.5}
EOF

ask() {
	"$NATTER" ask "$@" >"$OUT" 2>"$ERR" </dev/null
	RC=$?
}
expect() {
	local d=$1
	shift
	if "$@"; then
		tap_ok "$d"
	else
		tap_fail "$d" "rc=$RC" "stdout: $(head -c 400 "$OUT")" "stderr: $(head -c 600 "$ERR")"
	fi
}
has_err() { grep -q -- "$1" "$ERR"; }
lines() { wc -l <"$LOG" | tr -d ' '; }
last() { tail -n 1 "$LOG"; }

# Parameters: the model's range and the parameters it does not accept, before sending.
n=$(lines)
ask -m strict -t 1.5 "tokens=2"
expect "temperature above the model's range: refused naming the limit, exit 2" \
	eval 'test "$RC" -eq 2 && has_err "temperature" && has_err "1" && test ! -s "$OUT"'
ask -m st -P top_k=5 "tokens=2"
expect "a parameter the model does not accept (-P top_k): refused, exit 2" \
	eval 'test "$RC" -eq 2 && has_err "strict does not accept top_k"'
ask -m strict -P no_such=1 "tokens=2"
expect "-P with an unknown parameter: usage error naming it" \
	eval 'test "$RC" -eq 2 && has_err "no_such"'
tap_eq "nothing refused reached the server" "$n" "$(lines)"

# Layering: config defaults (seed), model defaults (max_tokens), command line (-P).
ask -m strict -P frequency_penalty=0.5 "tokens=2"
expect "accepted parameters: the reply arrives" eval 'test "$RC" -eq 0 && test "$(cat "$OUT")" = "w1 w2"'
tap_check "the request carries config, model and command-line parameters" \
	bash -c "tail -n 1 '$LOG' | grep -q '\"seed\":7' && tail -n 1 '$LOG' | grep -q '\"max_tokens\":321' &&
	tail -n 1 '$LOG' | grep -q '\"frequency_penalty\":0.5' && tail -n 1 '$LOG' | grep -q '\"model\":\"strict-model\"'"

# Issue 11: Anthropic's rules across parameters are checked before anything is sent (a
# config of its own: the main one's default seed is not an Anthropic parameter).
ANTCFG=$LIB_TMP/anthropic.yaml
printf 'providers:\n  fakeant: {protocol: anthropic, base_url: "%s/v1", key_env: CFG_KEY}\n' \
	"$FS_URL" >"$ANTCFG"
n=$(lines)
for c in "claude-sonnet-4-5|-t 0.5 --top-p 0.9|temperature and top_p cannot both be set for this model" \
	"claude-opus-4-1|-t 0.5 --top-p 0.9|temperature and top_p cannot both be set" \
	"claude-x|-P reasoning_budget=4096 --max-tokens 2048|the thinking budget (reasoning_budget, 4096 tokens) must be below max_tokens (2048)" \
	"claude-x|-P reasoning_budget=2048 -t 0.5|thinking (reasoning_budget) needs temperature 1 or unset, got 0.5" \
	"claude-x|-P reasoning_budget=2048 -P top_k=5|thinking (reasoning_budget) does not allow top_k" \
	"claude-x|-P reasoning_budget=2048 --top-p 0.5|top_p must be from 0.95 to 1, got 0.5" \
	"claude-x|-P reasoning_budget=500|reasoning_budget must be at least 1024"; do
	IFS='|' read -r model opts want <<<"$c"
	# shellcheck disable=SC2086
	NATTER_CONFIG=$ANTCFG ask -m "fakeant/$model" $opts "tokens=2"
	expect "anthropic $model $opts: refused before sending, exit 2" \
		eval 'test "$RC" -eq 2 && has_err "$want"'
done
tap_eq "no refused Anthropic request reached the server" "$n" "$(lines)"
NATTER_CONFIG=$ANTCFG ask -m fakeant/claude-3-7-sonnet -t 0.5 --top-p 0.9 "tokens=2"
expect "an older Claude takes temperature and top_p together" \
	eval 'test "$RC" -eq 0 && last | grep -qF "\"top_p\":0.9" && last | grep -qF "\"temperature\":0.5"'
NATTER_CONFIG=$ANTCFG ask -m fakeant/claude-x -P reasoning_budget=2048 -t 1 --top-p 0.95 --max-tokens 4096 "think=2 tokens=2"
expect "thinking with temperature 1, top_p 0.95 and room in max_tokens is sent" \
	eval 'test "$RC" -eq 0 && last | grep -qF "\"budget_tokens\":2048" && last | grep -qF "\"max_tokens\":4096"'

# Issue 11: a reply's signed thinking goes back, with its signature, when the chat goes on
# with the same model and thinking on; not to another model, not without thinking, and not
# when what was stored differs from what was signed (a key in it was masked).
NATTER_CONFIG=$ANTCFG ask -m fakeant/claude-x -P reasoning_budget=2048 "think=3 tokens=2"
expect "a thinking reply is stored" eval 'test "$RC" -eq 0 && test "$(cat "$OUT")" = "w1 w2"'
NATTER_CONFIG=$ANTCFG ask -c -P reasoning_budget=2048 "again tokens=2"
expect "continued with thinking: the earlier thinking block and its signature are resent" \
	eval 'test "$RC" -eq 0 && last | grep -qF "{\"role\":\"assistant\",\"content\":[{\"type\":\"thinking\",\"thinking\":\"r1 r2 r3\",\"signature\":\"ZmFrZXNlcnZlcg==\"},{\"type\":\"text\",\"text\":\"w1 w2\"}]}"'
NATTER_CONFIG=$ANTCFG ask -c "plain tokens=2"
expect "continued without thinking: plain text history, no signature" \
	eval 'test "$RC" -eq 0 && last | grep -qF "{\"role\":\"assistant\",\"content\":\"w1 w2\"}" &&
	! last | grep -qF signature'
NATTER_CONFIG=$ANTCFG ask -c -m fakeant/claude-y -P reasoning_budget=2048 "other tokens=2"
expect "continued with another model: its signature is not sent" \
	eval 'test "$RC" -eq 0 && ! last | grep -qF signature'
NATTER_CONFIG=$ANTCFG ask -m fakeant/claude-x -P reasoning_budget=2048 "think=3 fault=echo_key"
NATTER_CONFIG=$ANTCFG ask -c -P reasoning_budget=2048 "after the key tokens=2"
expect "thinking whose stored text was masked is not resent as signed" \
	eval 'test "$RC" -eq 0 && last | grep -qF "after the key" && ! last | grep -qF signature &&
	! last | grep -qF "$KEY"'

# Issue 11: max_tokens goes in the field the model family needs, on any base URL (this one
# is not api.openai.com), unless the model's max_tokens_field says otherwise.
for c in "reasoner max_completion_tokens max_tokens" "gw5 max_completion_tokens max_tokens" \
	"forced-old max_tokens max_completion_tokens" \
	"forced-new max_completion_tokens max_tokens" "plain max_tokens max_completion_tokens"; do
	read -r model want other <<<"$c"
	ask -m "$model" --max-tokens 77 "tokens=2"
	expect "max_tokens for $model goes out as $want" \
		eval 'test "$RC" -eq 0 && last | grep -qF "\"$want\":77" && ! last | grep -qF "\"$other\""'
done
OPENAI_API_KEY=$KEY OPENAI_BASE_URL=$FS_URL/v1 ask -m openai/o4-mini --max-tokens 88 "tokens=2"
expect "a gateway in OPENAI_BASE_URL: o4-mini gets max_completion_tokens" \
	eval 'test "$RC" -eq 0 && last | grep -qF "\"max_completion_tokens\":88" &&
	! last | grep -qF "\"max_tokens\""'

# Templates: -V, @FILE, PROMPT filling the first unset variable, the template's model.
printf 'int main(void) { return 0; }\n' >"$LIB_TMP/code.c"
ask -T shout -V what=@"$LIB_TMP/code.c" "tokens=2"
expect "template with -V name=@FILE and PROMPT: answered" \
	eval 'test "$RC" -eq 0 && test "$(cat "$OUT")" = "w1 w2"'
tap_check "the rendered prompt, the template's system, model and params are in the request" \
	bash -c "tail -n 1 '$LOG' | grep -qF 'Say int main(void) { return 0; }' &&
	tail -n 1 '$LOG' | grep -qF 'loudly: tokens=2' && tail -n 1 '$LOG' | grep -qF 'You answer in English.' &&
	tail -n 1 '$LOG' | grep -qF '\"model\":\"strict-model\"' && tail -n 1 '$LOG' | grep -qF '\"temperature\":0.5'"
n=$(lines)
ask -T shout -V lang=French
expect "missing template variables: named, exit 2, nothing sent" \
	eval 'test "$RC" -eq 2 && has_err "missing variables: what, rest"'
ask -T shuot "x"
expect "unknown template: suggests the nearest, exit 2" \
	eval 'test "$RC" -eq 2 && has_err "did you mean .shout."'
# Issue 11: a -V the template has no variable for is an error, not silently ignored.
ask -T shout -V lagn=French -V what=hi "tokens=2"
expect "-V with an unknown variable: named, with the nearest and the known ones, exit 2" \
	eval 'test "$RC" -eq 2 &&
	has_err "template shout has no variable .lagn. (did you mean .lang.?); its variables are lang, what, rest"'
tap_eq "failed templates sent nothing" "$n" "$(lines)"
ask -T code_review -V language=C -V code=@"$LIB_TMP/code.c" -m fake/any-model
expect "a shipped template (code_review) with a model the config does not list" \
	eval 'test "$RC" -eq 0 && grep -q "^This is fakeserver answering" "$OUT"'
ask -T code_review -V language=C -V code=x "extra words"
expect "PROMPT with every template variable already set: usage error" \
	eval 'test "$RC" -eq 2 && has_err "no variable left for PROMPT"'
tap_check "code_review renders language and code into the request" \
	bash -c "tail -n 1 '$LOG' | grep -qF 'careful senior C reviewer' &&
	tail -n 1 '$LOG' | grep -qF 'int main(void)' && tail -n 1 '$LOG' | grep -qF '\"model\":\"any-model\"'"

# Issue 11: a listing that fails keeps the provider's configured models, and says why the
# rest is missing.
CFG_KEY=sk-wrong-key "$NATTER" models fake >"$OUT" 2>"$ERR"
RC=$?
expect "models: a refused listing still prints the configured models, with a note" \
	eval 'test "$RC" -eq 1 && grep -q "^fake/strict .*configured" "$OUT" &&
	has_err "natter: fake: listing the models failed: auth (401)" &&
	has_err "only its configured models are listed"'
"$NATTER" models fake >"$OUT" 2>"$ERR"
RC=$?
expect "models: a listing that works prints the configured models and the rest" \
	eval 'test "$RC" -eq 0 && grep -q "^fake/strict .*configured" "$OUT" &&
	test "$(grep -vc configured "$OUT")" -ge 1 && test ! -s "$ERR"'

# A user config with errors: file:line:col lines on stderr; the entries at fault are left
# out (a model, a template extending an unknown one, a provider whose key_cmd fails) and
# everything else of the file still applies.
cat >"$CFG" <<EOF
default_model: strict
providers:
  fake:
    protocol: openai
    base_url: $FS_URL/v1
    key_env: CFG_KEY
  cmdfail:
    protocol: openai
    base_url: $FS_URL/v1
    key_cmd: "false"
models:
  strict:
    provider: fake
    id: strict-model
  oops:
    provider: nosuch
    temperature: hot
  viacmd:
    provider: cmdfail
templates:
  shout:
    user: "Say {what} loudly"
  whisper:
    extends: shuot
EOF
n=$(lines)
ask -T shout -V what=hi
expect "config with errors: its sound model and template answer" \
	eval 'test "$RC" -eq 0 && grep -q "^This is fakeserver answering: Say hi loudly" "$OUT"'
expect "config with errors: every error as file:line:col, and what that means" \
	eval 'has_err "natter.yaml:17:5: unknown key .temperature. in models.oops" &&
	has_err "natter.yaml:16:15: models.oops.provider: unknown provider .nosuch." &&
	has_err "natter.yaml:10:14: key_cmd" &&
	has_err "natter.yaml:24:14: templates.whisper.extends: unknown template .shuot." &&
	has_err "what they are in is left out, the rest applies"'
tap_eq "config with errors: the sound model's request reached the server" $((n + 1)) "$(lines)"
ask -m oops "hi"
expect "a model left out for errors says so, exit 2" \
	eval 'test "$RC" -eq 2 && has_err "model .oops. is left out: its configuration has errors"'
ask -m viacmd "hi"
expect "a provider whose key_cmd failed is not offered, and says why" \
	eval 'test "$RC" -ne 0 && has_err "cmdfail is not available: no key: its key_cmd failed"'
ask -T whisper "hi"
expect "a template left out for errors is unknown" eval 'test "$RC" -eq 2'

# A file that does not even parse: the shipped defaults answer.
printf 'models:\n  oops: [unclosed\n' >"$CFG"
NATTER_SIM_RATE=0 ask "hello there"
expect "unparsable config: file:line:col error on stderr, simulated answer with the defaults" \
	eval 'test "$RC" -eq 0 && grep -q "hello there" "$OUT" &&
	grep -qE "natter.yaml:[0-9]+:[0-9]+: " "$ERR" && has_err "using the defaults"'
