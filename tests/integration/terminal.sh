#!/usr/bin/env bash
# Terminal injection: hostile text from the fake server (reply, reasoning, model ids) and
# from the store (messages, titles, models put there with sqlite3, as an $EDITOR draft or
# another program could) never reaches a terminal, a pipe or an export file as control
# characters, escape sequences or bidi controls unless --raw asks for the bytes. Every
# unsafe code point shows as U+FFFD (natter(1), SECURITY OF OUTPUT). Prints TAP lines.
set -u
. "$TESTS/integration/lib.sh"

isolated_home
export OPENAI_API_KEY=sk-term-test TZ=UTC NATTER_DB=$LIB_TMP/db/natter.db
R=$'\xef\xbf\xbd'
ESC=$'\x1b'
OUT=$LIB_TMP/out
ERR=$LIB_TMP/err

# The hostile stream: ESC/OSC, BEL, C1 CSI and NEL, NUL, invalid bytes, every kind of bidi
# control, DEL, a lone CR, CR LF, and an é cut between two deltas.
python3 - "$LIB_TMP/vectors.json" <<'PY'
import json, sys
def sse(content, key="content"):
    return b'data: {"choices":[{"index":0,"delta":{"' + key.encode() + b'":"' + content + b'"}}]}\n\n'
end = b'data: {"choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}\n\ndata: [DONE]\n\n'
text = [sse(b'A\\u001b]0;PWNED\\u0007B\\u009b31mC\\u0000'),
        sse(b'\xff\xfeD\\u202eE\xe2\x81\xa6F\\u200eG\\u061cH caf\xc3'),
        sse(b'\xa9 \\u0085I\\r\\nJ\\rK\\u007fL\\tM'), end]
think = [sse(b'R1\\u001b]52;c;UFdORUQ=\\u0007R2\\u202eR3', "reasoning_content"),
         sse(b'ok'), end]
models = b'{"object":"list","data":[{"id":"good-1","object":"model"},' \
    b'{"id":"evil\\nfake/line\\u001b]0;PWNED\\u0007\\u202eid","object":"model"},' \
    b'{"id":"good-2","object":"model"}]}'
v = [{"name": "hostile", "protocol": "openai-sse", "chunks_hex": [c.hex() for c in text]},
     {"name": "think", "protocol": "openai-sse", "chunks_hex": [c.hex() for c in think]},
     {"name": "models", "protocol": "openai-sse", "headers": {"Content-Type": "application/json"},
      "chunks_hex": [models.hex()]}]
for x in v:
    x["expected"] = {"text": "", "complete": True}
json.dump(v, open(sys.argv[1], "w"))
PY
fs_start --vectors "$LIB_TMP/vectors.json" --models-vector models || exit 0
ASK=(ask -p openai -m m --base-url "$FS_URL/v1")

# hex FILE: the bytes of FILE as one line of hex.
hex() { od -An -v -tx1 "$1" | tr -d ' \n'; }

# --- natter ask ------------------------------------------------------------------------
"$NATTER" "${ASK[@]}" "vector=hostile" >"$OUT" 2>"$ERR" </dev/null
# \u0000 decodes to U+FFFD in every mode (issue 9: NUL never truncates), then \xff \xfe.
want="A${R}]0;PWNED${R}B${R}31mC${R}${R}${R}D${R}E${R}F${R}G${R}H café ${R}I"$'\n'"J${R}K${R}L"$'\t'"M"$'\n'
printf '%s' "$want" >"$LIB_TMP/want"
tap_eq "ask to a pipe: every control, bad byte and bidi mark is U+FFFD, the rest exact" \
	"$(hex "$LIB_TMP/want")" "$(hex "$OUT")"
tap_check "ask to a pipe: no ESC, BEL, NUL or C1 byte at all" \
	bash -c "! LC_ALL=C grep -qaP '[\\x00-\\x08\\x0b-\\x1f\\x7f]|\\xc2[\\x80-\\x9f]' '$OUT'"
tap_check "ask to a pipe: é split between two deltas arrives whole through the sanitizer" \
	grep -qF "H café ${R}I" "$OUT"

"$NATTER" "${ASK[@]}" --raw "vector=hostile" >"$OUT" 2>"$ERR" </dev/null
printf 'A\033]0;PWNED\007B\302\233''31mC\357\277\275\377\376D\342\200\256E\342\201\246F\342\200\216G\330\234H caf\303\251 \302\205I\r\nJ\rK\177L\tM' >"$LIB_TMP/want"
tap_eq "ask --raw: the decoded bytes exactly, nothing added" "$(hex "$LIB_TMP/want")" "$(hex "$OUT")"

"$NATTER" "${ASK[@]}" --reasoning show "vector=think" >"$OUT" 2>"$ERR" </dev/null
tap_eq "ask: reasoning on a non-terminal stderr is sanitized" \
	"R1${R}]52;c;UFdORUQ=${R}R2${R}R3" "$(head -n 1 "$ERR")"
tap_check "ask: no ESC in reasoning on stderr" bash -c "! grep -q \$'\\x1b' '$ERR'"
"$NATTER" "${ASK[@]}" --raw --reasoning show "vector=think" >"$OUT" 2>"$ERR" </dev/null
tap_check "ask --raw: reasoning bytes pass as sent" grep -qF $'R1\x1b]52;c;UFdORUQ=\aR2\u202eR3' "$ERR"

# --- natter models ---------------------------------------------------------------------
"$NATTER" models --base-url "$FS_URL/v1" openai >"$OUT" 2>"$ERR"
tap_check "models: a model id with a newline is still one line: every line names a model" \
	bash -c "test -s '$OUT' && ! grep -qv '^openai/' '$OUT'"
tap_check "models: that line starts with its provider" grep -q '^openai/evil fake/line' "$OUT"
tap_check "models: no line was forged by the id" bash -c "! grep -q '^fake/line' '$OUT'"
tap_check "models: escapes and bidi controls in the id are marks" \
	grep -qF "evil fake/line${R}]0;PWNED${R}${R}id" "$OUT"
tap_eq "models: the listed ids around it are intact" "openai/good-1 openai/good-2" \
	"$(grep -E '^openai/good-' "$OUT" | tr '\n' ' ' | sed 's/ $//')"

# --- natter sessions -------------------------------------------------------------------
# A database of its own: the asks above stored sessions of theirs.
NATTER_DB=$LIB_TMP/hostile.db
export NATTER_DB
"$NATTER" sessions >/dev/null 2>&1
sqlite3 "$NATTER_DB" <<'SQL'
INSERT INTO sessions (id, title, provider, model, created, updated) VALUES
  (1, 'pay ' || char(8238) || 'txt.exe' || char(10) || 'forged row', 'openai',
      'gpt' || char(10) || 'x' || char(27) || '[2J', 1767323045, 1767323100);
INSERT INTO messages (session_id, seq, role, created_ms, state, content, model) VALUES
  (1, 1, 'user', 1767323045000, 'complete', 'draft ' || char(27) || ']0;PWNED' || char(7) || ' from $EDITOR', NULL),
  (1, 2, 'assistant', 1767323046000, 'complete',
      'copy ' || char(27) || ']52;c;UFdORUQ=' || char(7) || ' then ' || char(8238) || 'cba' || char(13) || 'X',
      'm' || char(10) || '[user] forged');
SQL

script -qec "$NATTER sessions export 1" /dev/null </dev/null >"$OUT" 2>&1
tap_check "export to a terminal: no ESC from the stored messages" bash -c "! grep -q \$'\\x1b' '$OUT'"
tap_check "export to a terminal: no BEL, no bidi override" \
	bash -c "! LC_ALL=C grep -qaP '\\x07|\\xe2\\x80\\xae' '$OUT'"
tap_check "export to a terminal: the hostile text shows as marks" \
	grep -qF "draft ${R}]0;PWNED${R} from \$EDITOR" "$OUT"
"$NATTER" sessions export 1 -o "$LIB_TMP/s.md"
tap_check "export -o FILE (Markdown): no ESC in the file" bash -c "! grep -q \$'\\x1b' '$LIB_TMP/s.md'"
tap_check "export -o FILE: a lone CR is a mark" grep -qF "${R}cba${R}X" "$LIB_TMP/s.md"
"$NATTER" sessions export 1 >"$OUT"
tap_check "export to a pipe: sanitized too" grep -qF "copy ${R}]52;c;UFdORUQ=${R} then" "$OUT"
"$NATTER" sessions export 1 --raw -o "$LIB_TMP/raw.md"
tap_check "export --raw -o FILE: the stored bytes exactly" \
	grep -qF $'copy \x1b]52;c;UFdORUQ=\a then \u202ecba\rX' "$LIB_TMP/raw.md"
"$NATTER" sessions export 1 --format json -o "$LIB_TMP/s.json"
tap_eq "export json: valid JSON" 1 \
	"$(sqlite3 :memory: "SELECT json_valid(readfile('$LIB_TMP/s.json'))")"
tap_eq "export json: every stored character comes back exactly" 1 \
	"$(sqlite3 "$NATTER_DB" "SELECT json_extract(readfile('$LIB_TMP/s.json'), '\$.messages[1].content') = content AND json_extract(readfile('$LIB_TMP/s.json'), '\$.title') = (SELECT title FROM sessions WHERE id = 1) FROM messages WHERE session_id = 1 AND seq = 2")"
tap_check "export json: no raw ESC, BEL, C1 or bidi byte in the file" \
	bash -c "! LC_ALL=C grep -qaP '[\\x00-\\x08\\x0b-\\x1f\\x7f]|\\xc2[\\x80-\\x9f]|\\xe2\\x80[\\xae\\x8e]' '$LIB_TMP/s.json'"
tap_check "export json: controls are \\u escapes" grep -qF 'then \u202ecba\rX' "$LIB_TMP/s.json"

"$NATTER" sessions list >"$OUT"
tap_eq "list: a title and model with newlines stay one row" 2 "$(wc -l <"$OUT")"
tap_check "list: the bidi override in the title is a mark" grep -qF "pay ${R}txt.exe forged row" "$OUT"
"$NATTER" sessions show 1 >"$OUT"
tap_check "show: the session's model is one line" grep -qF "openai/gpt x${R}[2J, updated" "$OUT"
tap_check "show: a reply's model cannot forge a heading" bash -c "! grep -q '^\\[user\\] forged' '$OUT'"
tap_check "show: no ESC anywhere" bash -c "! grep -q \$'\\x1b' '$OUT'"
"$NATTER" sessions search cba >"$OUT"
tap_check "search: one row per hit, marks for the controls" grep -qF "then ${R}[cba]${R}X" "$OUT"

# --- other commands that print what files and servers said -----------------------------
printf '{"choices":[{"delta":{"content":"a\\u001b[2J\\u202eb\\u0085"}}]}\n' >"$LIB_TMP/body"
sed 's/^/data: /; s/$/\n/' "$LIB_TMP/body" >"$LIB_TMP/sse"
"$NATTER" decode --protocol openai "$LIB_TMP/sse" >"$OUT" 2>&1
tap_check "decode: bidi and C1 come out as \\u escapes" grep -qF '"a\u001b[2J\u202eb\u0085"' "$OUT"

mkdir -p "$XDG_CONFIG_HOME/natter"
printf 'templates:\n  evil:\n    description: "look \\e]0;PWNED\\a \\u202eright"\n    user: "hi \\e[31mred"\n' \
	>"$XDG_CONFIG_HOME/natter/natter.yaml"
"$NATTER" templates >"$OUT" 2>&1
tap_check "templates: a description's escapes are marks" grep -qF "look ${R}]0;PWNED${R} ${R}right" "$OUT"
"$NATTER" templates evil >"$OUT" 2>&1
tap_check "templates NAME: the prompt's escapes are marks" grep -qF "hi ${R}[31mred" "$OUT"
"$NATTER" config show >"$OUT" 2>&1
tap_check "config show: no ESC, no bidi override" \
	bash -c "! LC_ALL=C grep -qaP '\\x1b|\\x07|\\xe2\\x80\\xae' '$OUT'"
