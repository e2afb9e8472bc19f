#!/usr/bin/env bash
# natter config / templates / auth: path, check, show (keys masked), init (never
# overwrites), file:line:col errors with exit 3 (schema and cross-reference errors in one
# run), and the committed natter.yaml(5) matching the schema it is generated from.
. "$TESTS/integration/lib.sh"
isolated_home

# config path follows XDG_CONFIG_HOME, NATTER_CONFIG and -c.
tap_eq "config path is the XDG file" "$XDG_CONFIG_HOME/natter/natter.yaml" \
	"$("$NATTER" config path 2>/dev/null)"
tap_eq "NATTER_CONFIG overrides the path" "/x/y.yaml" \
	"$(NATTER_CONFIG=/x/y.yaml "$NATTER" config path 2>/dev/null)"
tap_eq "--config overrides the path" "/a/b.yaml" "$("$NATTER" --config /a/b.yaml config path 2>/dev/null)"
tap_eq "--config=FILE too" "/a/c.yaml" "$("$NATTER" --config=/a/c.yaml config path 2>/dev/null)"

# With no user file the shipped defaults are valid.
out=$("$NATTER" config check 2>&1); st=$?
tap_eq "check without a file exits 0" 0 "$st"
case $out in *"shipped defaults apply"*) tap_ok "check says the defaults apply" ;;
	*) tap_fail "check says the defaults apply" "$out" ;; esac

# init writes a starter that validates, and never overwrites.
out=$("$NATTER" config init 2>&1); st=$?
tap_eq "init exits 0" 0 "$st"
f=$XDG_CONFIG_HOME/natter/natter.yaml
tap_check "init wrote the file" test -s "$f"
tap_eq "init made the file private" 600 "$(stat -c %a "$f")"
tap_check "the starter validates" "$NATTER" config check
echo "# mine" >>"$f"
out=$("$NATTER" config init 2>&1); st=$?
tap_eq "second init refuses (exit 3)" 3 "$st"
case $out in *"already exists"*) tap_ok "second init says why" ;;
	*) tap_fail "second init says why" "$out" ;; esac
tap_check "init did not overwrite" grep -q '^# mine' "$f"

# A user adds a provider and a template to the copy, and makes a typo.
sed -i 's|^providers:$|providers:\n  work:\n    protocol: openai\n    base_url: http://127.0.0.1:9/v1\n    key: sk-literal-secret-000111222333|' "$f"
cat >>"$f" <<'Y'
templates:
  mine:
    extends: code_review
    defaults: {language: C}
    params:
      temprature: 0.1
Y
chmod 600 "$f"
line=$(grep -n temprature "$f" | cut -d: -f1)
out=$("$NATTER" config check 2>&1); st=$?
tap_eq "broken config exits 3" 3 "$st"
tap_eq "error names file:line:col, key and suggestion" \
	"$f:$line:7: unknown key 'temprature', did you mean 'temperature'?" "$out"
out=$("$NATTER" templates 2>&1); st=$?
tap_eq "templates still work with a broken config (exit 3)" 3 "$st"
case $out in *code_review*) tap_ok "templates: the sound ones still listed" ;;
	*) tap_fail "templates: the sound ones still listed" "$out" ;; esac

sed -i 's/temprature/temperature/' "$f"
out=$("$NATTER" config check 2>&1); st=$?
tap_eq "fixed config checks clean" 0 "$st"
out=$("$NATTER" templates mine 2>&1)
case $out in *"variable language (default: C)"*"temperature: 0.1"*|*"temperature: 0.1"*"variable language (default: C)"*)
	tap_ok "the new template extends code_review" ;;
	*) tap_fail "the new template extends code_review" "$out" ;; esac

# show masks keys, also those from the environment, and never prints them.
export OPENAI_API_KEY=sk-env-secret-444555666777
out=$("$NATTER" config show 2>&1)
case $out in *sk-literal-secret*|*sk-env-secret*) tap_fail "show masks keys" "$out" ;;
	*) tap_ok "show masks keys" ;; esac
case $out in *"provider work: offered"*"provider openai: offered"*|*"provider openai: offered"*"provider work: offered"*)
	tap_ok "show lists offered providers" ;;
	*) tap_fail "show lists offered providers" "$(echo "$out" | grep '^# ')" ;; esac
out=$("$NATTER" auth 2>&1)
case $out in *sk-literal-secret*|*sk-env-secret*) tap_fail "auth masks keys" "$out" ;;
	*"sk-e"*"6777"*) tap_ok "auth masks keys" ;;
	*) tap_fail "auth masks keys" "$out" ;; esac
case $out in *"anthropic: not offered (no key; set ANTHROPIC_API_KEY)"*) tap_ok "auth names the missing variable" ;;
	*) tap_fail "auth names the missing variable" "$out" ;; esac
unset OPENAI_API_KEY

# A literal key in a world-readable file warns.
chmod 644 "$f"
out=$("$NATTER" config check 2>&1)
case $out in *"warning: literal key in a file readable by group or others"*) tap_ok "readable literal key warns" ;;
	*) tap_fail "readable literal key warns" "$out" ;; esac
chmod 600 "$f"

# A syntax error still gives file:line:col and exit 3.
printf 'models:\n  x:\n    provider: simulated\n   id: broken\n' >"$LIB_TMP/bad.yaml"
out=$("$NATTER" config check "$LIB_TMP/bad.yaml" 2>&1); st=$?
tap_eq "syntax error exits 3" 3 "$st"
case $out in "$LIB_TMP/bad.yaml:4:4: invalid YAML"*) tap_ok "syntax error has file:line:col" ;;
	*) tap_fail "syntax error has file:line:col" "$out" ;; esac

# Schema errors and cross-reference errors come out of one run, schema errors first, and
# a model whose section has a schema error still counts as defined.
cat >"$LIB_TMP/both.yaml" <<'Y'
providers:
  work:
    protocol: openai
    max_retries: lots
models:
  fast:
    provider: work
    fallback: [slwo, broken]
  slow:
    provider: work
  broken:
    provider: work
    context_window: big
Y
out=$("$NATTER" config check "$LIB_TMP/both.yaml" 2>&1); st=$?
tap_eq "schema and reference errors exit 3" 3 "$st"
tap_eq "one run reports both kinds, schema errors first" \
"$LIB_TMP/both.yaml:4:18: providers.work.max_retries: expected an integer from 0 to 10, got 'lots'
$LIB_TMP/both.yaml:13:21: models.broken.context_window: expected an integer from 0 to 1000000000, got 'big'
$LIB_TMP/both.yaml:8:16: models.fast.fallback: unknown model 'slwo', did you mean 'slow'?" "$out"

# bindings: are checked against the key table in the same pass: unknown contexts, key names
# and actions, an action its context does not take, and a key bound twice in one context.
cat >"$LIB_TMP/keys.yaml" <<'Y'
bindings:
  - {context: inptu, key: C-s, action: send}
  - {context: input, key: C-, action: send}
  - {context: input, key: C-s, action: sendd}
  - {context: transcript, key: C-s, action: send}
  - {context: input, key: C-s, action: send}
  - {context: input, key: C-S, action: newline}
  - {key: F7, action: help}
Y
out=$("$NATTER" config check "$LIB_TMP/keys.yaml" 2>&1); st=$?
tap_eq "bad bindings fail config check (exit 3)" 3 "$st"
tap_eq "each bad binding as file:line:col with the part at fault" \
"$LIB_TMP/keys.yaml:2:15: bindings[0].context: unknown key context 'inptu', did you mean 'input'?
$LIB_TMP/keys.yaml:3:27: bindings[1].key: unknown key name 'C-' (e.g. C-a, M-Enter, PgUp, F1, x)
$LIB_TMP/keys.yaml:4:40: bindings[2].action: unknown action 'sendd', did you mean 'send'? (natter keys lists them)
$LIB_TMP/keys.yaml:5:45: bindings[3].action: action 'send' cannot be bound in context 'transcript'
$LIB_TMP/keys.yaml:7:27: bindings[5].key: 'C-S' in input is already bound to 'send' by bindings[4] (line 6)" "$out"
out=$(NATTER_CONFIG="$LIB_TMP/keys.yaml" "$NATTER" keys 2>/dev/null)
if printf '%s\n' "$out" | grep -qE '^input +C-s +send ' && printf '%s\n' "$out" | grep -qE '^global +F7 +help '; then
	tap_ok "natter keys applies the sound bindings of that file"
else
	tap_fail "natter keys applies the sound bindings of that file" "$(printf '%s\n' "$out" | grep -E 'C-s|F7')"
fi

# mouse: is a key of the schema like any other.
printf 'mouse: true\n' >"$LIB_TMP/mouse.yaml"
tap_check "mouse: true passes config check" "$NATTER" config check "$LIB_TMP/mouse.yaml"
printf 'mouse: sometimes\n' >"$LIB_TMP/mouse.yaml"
out=$("$NATTER" config check "$LIB_TMP/mouse.yaml" 2>&1)
tap_eq "a bad mouse: value is an error" "$LIB_TMP/mouse.yaml:1:8: mouse: expected true or false, got 'sometimes'" "$out"

# The committed man page is what the schema generates.
if "$NATTER" config man | cmp -s - "$ROOT/man/natter.yaml.5"; then
	tap_ok "man/natter.yaml.5 matches the schema (regenerate: natter config man)"
else
	tap_fail "man/natter.yaml.5 matches the schema (regenerate: natter config man)" \
		"$("$NATTER" config man | diff - "$ROOT/man/natter.yaml.5" | head -20)"
fi
# The .TH line has all five fields, the date the one of the version (src/version.h), so
# mandoc -T lint has nothing to say about it and the page does not change between builds.
th=$("$NATTER" config man | grep -m1 '^\.TH ')
eval "set -- ${th#.TH }"
date=$(sed -n 's/^#define NATTER_DATE "\(.*\)"/\1/p' "$ROOT/src/version.h")
if [ $# -eq 5 ] && [ "$3" = "$date" ] && printf '%s' "$3" | grep -qE '^[0-9]{4}-[0-9]{2}-[0-9]{2}$' &&
	[ "$4" = "natter $(sed -n 's/^#define NATTER_VERSION "\(.*\)"/\1/p' "$ROOT/src/version.h")" ]; then
	tap_ok "natter.yaml(5) .TH: title, section, the version's date, source and manual"
else
	tap_fail "natter.yaml(5) .TH: title, section, the version's date, source and manual" "$th"
fi
if command -v mandoc >/dev/null 2>&1; then
	tap_eq "mandoc -T lint has no complaint about natter.yaml(5)'s date" "" \
		"$(mandoc -T lint -W warning "$ROOT/man/natter.yaml.5" 2>&1 | grep -iE 'date|TH')"
else
	tap_skip "mandoc -T lint has no complaint about natter.yaml(5)'s date" "mandoc is not installed"
fi
# Every schema path is documented.
missing=""
for p in $(grep -oE '^\s*\{ "[a-z_.*\[\]]+"' "$ROOT/src/config-schema.c" | grep -oE '"[^"]+"' | tr -d '"'); do
	grep -qF -- "$(printf '%s' "$p" | sed 's/-/\\-/g')" "$ROOT/man/natter.yaml.5" || missing="$missing $p"
done
tap_eq "every schema key is in natter.yaml(5)" "" "$missing"
out=$(NATTER_CONFIG=/dev/null "$NATTER" ask --no-save -m simulated "tokens=2 hi" 2>&1 </dev/null)
tap_eq "NATTER_CONFIG=/dev/null is an empty config, not an error" "Hello from" "$(printf '%s' "$out" | sed 's/ *$//')"
out=$(NATTER_CONFIG="$LIB_TMP/no-such.yaml" "$NATTER" config check 2>&1)
rc=$?
if [ "$rc" -ne 0 ] && printf '%s' "$out" | grep -q "no-such.yaml: No such file"; then
	tap_ok "config check on a named file that does not exist fails and says so"
else
	tap_fail "config check on a named file that does not exist fails and says so" "rc=$rc" "$out"
fi
NATTER_CONFIG="$LIB_TMP/no-such.yaml" "$NATTER" ask --no-save -m simulated "tokens=1 hi" >"$LIB_TMP/o" 2>"$LIB_TMP/e" </dev/null
tap_check "ask with a named config that does not exist says so and still answers" \
	bash -c "grep -q 'no-such.yaml: No such file' '$LIB_TMP/e' && test -s '$LIB_TMP/o'"

# Issue 11: a command that cannot take an argument names it before the usage line.
for c in "models --bogus|models: unknown option '--bogus'" \
	"templates --bogus|templates: unknown option '--bogus'" \
	"templates a b|templates: unexpected argument 'b'" \
	"config --bogus|config: unknown option '--bogus'" \
	"config frob|config: unknown subcommand 'frob'" \
	"config show extra|config: unexpected argument 'extra'" \
	"sessions --bogus|sessions: unknown option '--bogus'" \
	"sessions frob|sessions: unknown subcommand 'frob'" \
	"auth --bogus|auth: unknown option '--bogus'"; do
	args=${c%%|*}
	want="natter: ${c#*|}"
	# shellcheck disable=SC2086
	out=$("$NATTER" $args 2>&1 >/dev/null </dev/null)
	rc=$?
	if [ "$rc" -eq 2 ] && [ "$(printf '%s\n' "$out" | head -n 1)" = "$want" ] &&
		printf '%s\n' "$out" | sed -n 2p | grep -q '^usage: '; then
		tap_ok "natter $args: says what was wrong, then the usage, exit 2"
	else
		tap_fail "natter $args: says what was wrong, then the usage, exit 2" "rc=$rc" "$out"
	fi
done
