#!/usr/bin/env bash
# The official OpenAI SDK (the openai npm package, pinned) chatting through natter serve
# with a bearer token: a non-streaming and a streaming chat (with reasoning and usage),
# an error raised with its status, and the model list. The package is installed once into
# build/node (npm works in CI); without node or npm the checks are skipped.
set -u
. "$TESTS/integration/lib.sh"

SDK_VERSION=5.23.2
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
	tap_skip "openai SDK through natter serve" "node or npm is not installed"
	exit 0
fi
SDK=$ROOT/build/node
if [ "$(sed -n 's/^ *"version": *"\(.*\)",*$/\1/p' "$SDK/node_modules/openai/package.json" 2>/dev/null | head -n 1)" != "$SDK_VERSION" ]; then
	mkdir -p "$SDK"
	if ! npm install --prefix "$SDK" --no-audit --no-fund --no-save --loglevel=error \
		"openai@$SDK_VERSION" >"$LIB_TMP/npm.log" 2>&1; then
		tap_fail "npm installs openai@$SDK_VERSION" "$(cat "$LIB_TMP/npm.log")"
		exit 0
	fi
fi
tap_ok "openai@$SDK_VERSION is installed"

isolated_home
KEY=sk-natter-SDKKEY-66120
TOKEN=tok-natter-sdk-90210
fs_start --key "$KEY" || exit 0
export NATTER_DB=$HOME/natter.db SERVE_TOKEN=$TOKEN
mkdir -p "$XDG_CONFIG_HOME/natter"
cat >"$XDG_CONFIG_HOME/natter/natter.yaml" <<YAML
providers:
  fa: {protocol: anthropic, base_url: '$FS_URL/v1', key: $KEY}
models:
  claude-local: {provider: fa, id: m-a}
YAML
chmod 600 "$XDG_CONFIG_HOME/natter/natter.yaml"
"$NATTER" serve --listen 127.0.0.1:0 --token-env SERVE_TOKEN 2>"$LIB_TMP/serve.err" </dev/null &
SV=$!
lib_at_exit "kill $SV"
PORT=
for _ in $(seq 1 200); do
	PORT=$(sed -n 's/.*listening on http:\/\/127\.0\.0\.1:\([0-9]*\).*/\1/p' "$LIB_TMP/serve.err")
	[ -n "$PORT" ] && break
	sleep 0.05
done
NODE_PATH=$SDK/node_modules node "$TESTS/node/openai-sdk.js" "http://127.0.0.1:$PORT/v1" \
	"$TOKEN" claude-local >"$LIB_TMP/sdk.out" 2>&1
while IFS= read -r line; do
	case $line in
	"ok - "*) tap_ok "${line#ok - }" ;;
	"not ok - "*) tap_fail "${line#not ok - }" ;;
	*) echo "$line" ;;
	esac
done < <(sed -n 's/^\(not \)\{0,1\}ok [0-9]* - \(.*\)/\1ok - \2/p; /^#/p' "$LIB_TMP/sdk.out")
tap_check "the SDK ran its four checks" test "$(grep -c '^ok ' "$LIB_TMP/sdk.out")" -eq 4
"$NATTER" sessions >"$LIB_TMP/list" 2>&1
tap_check "the SDK's chats are natter sessions" grep -q "tokens=6 think=2" "$LIB_TMP/list"
