#!/usr/bin/env bash
# libnatter: examples/stream.c built against the library of this build (the archive and
# the shared object) streams a reply from the fake server through the user's config, the
# reply lands in the session store `natter sessions` reads, and the shared object exports
# natter.h's functions and nothing else.
set -u
. "$TESTS/integration/lib.sh"

isolated_home
KEY=sk-natter-LIBKEY-99120
fs_start --key "$KEY" || exit 0
B=$(dirname "$NATTER")
case $(basename "$B") in
asan) SAN="-fsanitize=address,undefined" ;;
*) SAN= ;;
esac
LIBS=$(pkg-config --libs libcurl libcjson yaml-0.1 sqlite3 libutf8proc md4c libmagic nettle)
mkdir -p "$XDG_CONFIG_HOME/natter"
cat >"$XDG_CONFIG_HOME/natter/natter.yaml" <<YAML
default_model: fake
providers:
  fake: {protocol: openai, base_url: '$FS_URL/v1', key: $KEY}
models:
  fake: {provider: fake, id: fake-model}
YAML
chmod 600 "$XDG_CONFIG_HOME/natter/natter.yaml"

# shellcheck disable=SC2086
if cc -std=c11 -Wall -Wextra -Werror $SAN -I"$ROOT/src" "$ROOT/examples/stream.c" \
	"$B/libnatter.a" $LIBS -lpthread -lm -o "$LIB_TMP/stream-a" 2>"$LIB_TMP/cc.log"; then
	tap_ok "examples/stream.c builds against libnatter.a"
else
	tap_fail "examples/stream.c builds against libnatter.a" "$(cat "$LIB_TMP/cc.log")"
fi
"$LIB_TMP/stream-a" "tokens=7" >"$LIB_TMP/out" 2>"$LIB_TMP/err"
rc=$?
tap_eq "the reply streams to stdout, exit 0" "0:w1 w2 w3 w4 w5 w6 w7" "$rc:$(cat "$LIB_TMP/out")"
tap_check "its figures name the model that answered" grep -q "fake/fake-model · 7 tokens" "$LIB_TMP/err"
"$NATTER" sessions >"$LIB_TMP/list" 2>&1
tap_check "the chat is stored where natter keeps its sessions" grep -q "tokens=7" "$LIB_TMP/list"
"$NATTER" sessions show 1 >"$LIB_TMP/show" 2>&1
tap_check "the stored reply is the streamed text" grep -q "w1 w2 w3 w4 w5 w6 w7" "$LIB_TMP/show"

"$LIB_TMP/stream-a" -m fake "status=401" >"$LIB_TMP/out" 2>"$LIB_TMP/err"
rc=$?
if [ "$rc" -eq 1 ] && grep -qi "auth" "$LIB_TMP/err" && ! grep -q "$KEY" "$LIB_TMP/err"; then
	tap_ok "a provider error is a readable line and exit 1, without the key"
else
	tap_fail "a provider error is a readable line and exit 1, without the key" "rc=$rc" "$(cat "$LIB_TMP/err")"
fi
"$LIB_TMP/stream-a" -m nosuch/model "hi" >"$LIB_TMP/out" 2>"$LIB_TMP/err"
rc=$?
tap_eq "an unknown model is refused before anything is sent" "1" "$rc"

# shellcheck disable=SC2086
if cc -std=c11 -Wall -Wextra -Werror $SAN -I"$ROOT/src" "$ROOT/examples/stream.c" \
	-L"$B" -lnatter -o "$LIB_TMP/stream-so" 2>"$LIB_TMP/cc.log"; then
	tap_ok "examples/stream.c builds against libnatter.so"
else
	tap_fail "examples/stream.c builds against libnatter.so" "$(cat "$LIB_TMP/cc.log")"
fi
LD_LIBRARY_PATH=$B "$LIB_TMP/stream-so" "tokens=3" >"$LIB_TMP/out" 2>"$LIB_TMP/err"
tap_eq "the shared library streams the same reply" "w1 w2 w3" "$(cat "$LIB_TMP/out")"
others=$(nm -D --defined-only "$B/libnatter.so" | awk '$2 ~ /^[TDBR]$/ && $3 !~ /^natter_/ { print $3 }' | head -n 5)
tap_eq "libnatter.so exports only natter_* functions" "" "$others"
missing=$(grep -oE '\bnatter_[a-z_]+\(' "$ROOT/src/natter.h" | tr -d '(' | sort -u | while read -r f; do
	nm -D --defined-only "$B/libnatter.so" | grep -q " $f@" || echo "$f"
done)
tap_eq "every function natter.h declares is exported" "" "$missing"
