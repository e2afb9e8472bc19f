#!/usr/bin/env bash
# Long replies, stored as they arrive (src/store-spill.c): natter ask streams a 3 MB reply
# to stdout and stores all of it without keeping it; export, sessions show and search read
# it whole; a stream cut in the middle of a long reply keeps what arrived, stored as it
# was printed; ask -c continues a session with one; --no-save and --json print it whole.
set -u
. "$TESTS/integration/lib.sh"

isolated_home
fs_start --key sk-big
export OPENAI_API_KEY=sk-big
mkdir -p "$XDG_CONFIG_HOME/natter"
printf 'providers:\n  openai:\n    base_url: %s/v1\n' "$FS_URL" >"$XDG_CONFIG_HOME/natter/natter.yaml"
OUT="$LIB_TMP/out"
ERR="$LIB_TMP/err"
ask() { "$NATTER" ask -m openai/fake "$@" </dev/null >"$OUT" 2>"$ERR"; RC=$?; }
# lines FILE: how many of the fake server's padded lines FILE holds.
lines() { grep -c ' abcdefghi' "$1"; }

ask "tokens=3000 token_bytes=1000"
tap_check "a 3 MB reply: exit 0, every byte on stdout" \
	eval 'test "$RC" -eq 0 && test "$(wc -c <"$OUT")" -eq 3000000 && test "$(lines "$OUT")" -eq 3000'
"$NATTER" export last --format text --raw -o "$LIB_TMP/export.txt" 2>"$ERR"
tap_check "export: the stored reply is whole, line 1 to 3000 in order" \
	eval 'test "$(lines "$LIB_TMP/export.txt")" -eq 3000 &&
	grep -q "^w1 abcdefghi" "$LIB_TMP/export.txt" && grep -q "^ w3000 abcdefghi" "$LIB_TMP/export.txt" &&
	test "$(grep -o "^ \?w[0-9]*" "$LIB_TMP/export.txt" | tr -d " w" | sort -n | uniq | wc -l)" -eq 3000'
tap_check "export: the reply as printed, byte for byte" \
	eval 'grep -F -f <(sed -n "1p;1500p;3000p" "$OUT") "$LIB_TMP/export.txt" | wc -l | grep -qx 3'
sid=$("$NATTER" sessions 2>/dev/null | awk 'NR == 2 { print $1 }')
"$NATTER" sessions show "$sid" >"$LIB_TMP/show.txt" 2>&1
tap_check "sessions show: the whole reply" test "$(lines "$LIB_TMP/show.txt")" -eq 3000
"$NATTER" sessions search w2999 >"$LIB_TMP/search.txt" 2>&1
tap_check "search: a word near the end of the long reply is found" \
	grep -q "w2999" "$LIB_TMP/search.txt"
"$NATTER" sessions search w1500 >"$LIB_TMP/search.txt" 2>&1
tap_check "search: and one in its middle" grep -q "w1500" "$LIB_TMP/search.txt"

# A stream cut half-way through a long reply keeps what arrived, as printed.
ask "fault=close_mid tokens=4000 token_bytes=1000"
"$NATTER" export last --format text --raw -o "$LIB_TMP/cut.txt" 2>"$ERR"
tap_check "close_mid in a 4 MB reply: exit 1, 2 MB printed and the same stored" \
	eval 'test "$RC" -eq 1 && test "$(lines "$OUT")" -eq 2000 && test "$(lines "$LIB_TMP/cut.txt")" -eq 2000 &&
	grep -q "^ w2000 abcdefghi" "$LIB_TMP/cut.txt" && ! grep -q "w2001" "$LIB_TMP/cut.txt"'

# ask -c goes on from a session with a long reply in it.
ask -c "tokens=3"
tap_check "ask -c after a long reply: exit 0, its history loaded whole" \
	eval 'test "$RC" -eq 0 && grep -q "^w1 w2 w3" "$OUT"'
"$NATTER" export last --format text --raw -o "$LIB_TMP/cont.txt" 2>"$ERR"
tap_check "ask -c: the long reply is still whole and the new one follows" \
	eval 'test "$(lines "$LIB_TMP/cont.txt")" -eq 2000 && grep -q "^w1 w2 w3" "$LIB_TMP/cont.txt"'

ask --no-save "tokens=2000 token_bytes=1000"
tap_check "--no-save: every byte on stdout" \
	eval 'test "$RC" -eq 0 && test "$(wc -c <"$OUT")" -eq 2000000'
ask --json "tokens=2000 token_bytes=1000"
tap_check "--json: the whole text in the object" \
	eval 'test "$RC" -eq 0 && test "$(grep -o "abcdefghi" "$OUT" | wc -l)" -gt 190000 &&
	grep -q "w2000 abcdefghi" "$OUT"'
