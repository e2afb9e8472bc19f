#!/usr/bin/env bash
# Proxies and TLS settings reach libcurl: http_proxy/HTTPS_PROXY and NO_PROXY from the
# environment, a provider's `proxy:` from the config, NATTER_PROXY, and curl's own error
# text in the message when TLS fails. The fake server plays the proxy: a proxied request
# carries an absolute URL, which it routes by path like any other.
set -u
. "$TESTS/integration/lib.sh"
isolated_home
fs_start
export OPENAI_API_KEY=sk-proxy-test-key
HOST=natter-proxy-test.invalid

out=$(http_proxy=$FS_URL "$NATTER" ask -p openai -m m --base-url "http://$HOST/v1" "tokens=3" 2>"$HOME/err1")
st=$?
tap_eq "http_proxy carries the request to an unresolvable host (exit status)" 0 "$st"
tap_eq "http_proxy: the reply came through the proxy" "w1 w2 w3" "$out"

http_proxy=$FS_URL NO_PROXY=$HOST "$NATTER" ask -p openai -m m --base-url "http://$HOST/v1" \
	"tokens=3" >"$HOME/out2" 2>"$HOME/err2"
st=$?
tap_eq "NO_PROXY bypasses the proxy (the host does not resolve: exit 1)" 1 "$st"
if grep -q "$HOST" "$HOME/err2"; then
	tap_ok "NO_PROXY: the error names the host"
else
	tap_fail "NO_PROXY: the error names the host" "$(cat "$HOME/err2")"
fi

out=$(NATTER_PROXY=$FS_URL "$NATTER" ask -p openai -m m --base-url "http://$HOST/v1" "tokens=2" 2>/dev/null)
tap_eq "NATTER_PROXY overrides every provider" "w1 w2" "$out"

mkdir -p "$XDG_CONFIG_HOME/natter"
cat >"$XDG_CONFIG_HOME/natter/natter.yaml" <<YAML
providers:
  openai:
    proxy: $FS_URL
YAML
out=$("$NATTER" ask -p openai -m m --base-url "http://$HOST/v1" "tokens=2" 2>"$HOME/err3")
tap_eq "a provider's proxy: from the config is used" "w1 w2" "$out"
rm -f "$XDG_CONFIG_HOME/natter/natter.yaml"

# A CA bundle that cannot be read is a TLS error with curl's own words in it.
NATTER_CA_BUNDLE=/nonexistent/ca.pem NATTER_MAX_RETRIES=0 "$NATTER" ask -p openai -m m \
	--base-url "https://127.0.0.1:$FS_PORT/v1" "hi" >/dev/null 2>"$HOME/err4"
st=$?
tap_eq "an unreadable CA bundle exits 1" 1 "$st"
if grep -q 'tls: ' "$HOME/err4" && grep -q '/nonexistent/ca.pem' "$HOME/err4"; then
	tap_ok "it is classed as tls and keeps curl's error text"
else
	tap_fail "it is classed as tls and keeps curl's error text" "$(cat "$HOME/err4")"
fi

# The fake server speaks plain HTTP, so a TLS handshake with it never completes: the
# connect timeout ends it with curl's words (SSL ...) in the message.
NATTER_CONNECT_TIMEOUT_MS=800 NATTER_MAX_RETRIES=0 "$NATTER" ask -p openai -m m \
	--base-url "https://127.0.0.1:$FS_PORT/v1" "hi" >/dev/null 2>"$HOME/err5"
st=$?
tap_eq "a TLS handshake that stalls exits 1" 1 "$st"
if grep -q 'SSL' "$HOME/err5" && ! grep -q 'sk-proxy-test-key' "$HOME"/err*; then
	tap_ok "the stalled handshake keeps curl's text, and no error shows the key"
else
	tap_fail "the stalled handshake keeps curl's text, and no error shows the key" "$(cat "$HOME/err5")"
fi
