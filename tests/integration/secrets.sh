#!/usr/bin/env bash
# Keys never leave natter in provider text: the fake server quotes the request's credential
# (fault=echo_key) in error bodies and in reply text cut into 3-byte tokens, and `natter ask`
# must show neither on stdout nor stderr, for a key from the environment, a literal key, a
# key_cmd and a pool (whose rate-limited first key is echoed in the 429 that rotates it).
# `natter decode` masks a key quoted in a saved body. The literal-key warning for a config
# others can read is printed by ask, auth and models (once each), and not for mode 0600.
set -u
. "$TESTS/integration/lib.sh"

isolated_home
unset NATTER_MODEL NATTER_PROVIDER NATTER_MAX_RETRIES
ENVKEY=sk-env-echo-7a1b2c3d4e5f60718293
LITKEY=sk-lit-echo-8b2c3d4e5f607182930a
CMDKEY=sk-cmd-echo-9c3d4e5f60718293a0b1
POOLA=sk-pool-echo-A-0d4e5f60718293a0b1c2
POOLB=sk-pool-echo-B-1e5f60718293a0b1c2d3
ALLKEYS=("$ENVKEY" "$LITKEY" "$CMDKEY" "$POOLA" "$POOLB")
fs_start --key "$ENVKEY" --key "$LITKEY" --key "$CMDKEY" --key "$POOLB" --limit-key "$POOLA" || exit 0
OUT=$LIB_TMP/out
ERR=$LIB_TMP/err
CONF=$XDG_CONFIG_HOME/natter/natter.yaml
mkdir -p "$XDG_CONFIG_HOME/natter"
cat >"$CONF" <<EOF
providers:
  openai:
    base_url: $FS_URL/v1
    max_retries: 0
  lit:
    protocol: anthropic
    base_url: $FS_URL/v1
    key: $LITKEY
    max_retries: 0
  cmd:
    protocol: gemini
    base_url: $FS_URL/v1beta
    key_cmd: printf %s $CMDKEY
    max_retries: 0
  pool:
    protocol: openai
    base_url: $FS_URL/v1
    keys:
      - key_env: POOL_KEY_A
      - key_env: POOL_KEY_B
    max_retries: 0
EOF
chmod 600 "$CONF"
export OPENAI_API_KEY=$ENVKEY POOL_KEY_A=$POOLA POOL_KEY_B=$POOLB

# ask ARGS...: run natter ask; stdout in $OUT, stderr in $ERR, status in $RC.
ask() {
	"$NATTER" ask "$@" >"$OUT" 2>"$ERR" </dev/null
	RC=$?
}

# leaked FILE...: print each key found in the files (none: prints nothing).
leaked() {
	local k
	for k in "${ALLKEYS[@]}"; do
		grep -aqF -e "$k" -e "${k:12}" "$@" 2>/dev/null && echo "$k"
	done
}

# expect_clean DESC PATTERN: no key in stdout or stderr, and PATTERN in one of them (so
# the echo really arrived, masked).
expect_clean() {
	local l
	l=$(leaked "$OUT" "$ERR")
	if [ -z "$l" ] && grep -qF -- "$2" "$OUT" "$ERR"; then
		tap_ok "$1"
	else
		tap_fail "$1" "leaked: $l" "rc=$RC" "stdout: $(head -c 400 "$OUT")" "stderr: $(head -c 800 "$ERR")"
	fi
}

# mask KEY: the masked form natter shows (config show, auth): first 4, "…", last 4.
mask() {
	printf '%s\xe2\x80\xa6%s' "${1:0:4}" "${1: -4}"
}

for src in "openai env $ENVKEY" "lit literal $LITKEY" "cmd key_cmd $CMDKEY" "pool pool $POOLB"; do
	read -r prov what key <<<"$src"
	mask=$(mask "$key")
	ask -m "$prov/fake-model" "hello status=401 fault=echo_key"
	expect_clean "$what key echoed in an error body is masked on stderr" "upstream refused the request with"
	case $(cat "$ERR") in *"$mask"*) tap_ok "$what key: the masked form stands in its place" ;;
		*) tap_fail "$what key: the masked form stands in its place" "$(cat "$ERR")" ;; esac
	ask -m "$prov/fake-model" "hello fault=echo_key"
	expect_clean "$what key echoed in streamed reply text (3-byte tokens) is masked" "The request carried"
	tap_eq "$what key: the reply still completes" 0 "$RC"
done

# The pool's first key is rate-limited: its 429 (echoing it) is reported while rotating.
# The runs above rested it, and rests are shared between runs: a database (and so a key
# state) of its own starts this one with both keys free.
NATTER_DB=$LIB_TMP/rotate.db ask -m pool/fake-model "hello fault=echo_key"
expect_clean "pool: the rotation notice does not quote the limited key" "trying the next key"

# decode: a saved error body quoting the key from the environment.
printf '{"error":{"message":"proxy: bad Authorization: Bearer %s","type":"invalid_request_error"}}' \
	"$ENVKEY" >"$LIB_TMP/echo.json"
"$NATTER" decode --protocol openai --status 401 "$LIB_TMP/echo.json" >"$OUT" 2>"$ERR"
RC=$?
expect_clean "decode masks a key quoted in a saved body" "proxy: bad Authorization: Bearer sk-e"

# The literal-key warning: a config with a literal key that group or others can read.
WARN="warning: literal key in a file readable by group or others"
W=$LIB_TMP/literal.yaml
cat >"$W" <<EOF
providers:
  lit:
    protocol: anthropic
    base_url: $FS_URL/v1
    key: $LITKEY
    max_retries: 0
EOF
for mode in 644 600; do
	chmod "$mode" "$W"
	for cmd in "ask -m lit/fake-model hello" "auth" "models lit"; do
		# shellcheck disable=SC2086
		NATTER_CONFIG=$W "$NATTER" $cmd >"$OUT" 2>"$ERR" </dev/null
		n=$(grep -cF "$WARN" "$ERR")
		if [ "$mode" = 644 ]; then
			tap_eq "${cmd%% *}: a $mode config with a literal key warns once on stderr" 1 "$n"
		else
			tap_eq "${cmd%% *}: a $mode config with a literal key does not warn" 0 "$n"
		fi
		tap_eq "${cmd%% *} ($mode): the warning is not on stdout" 0 "$(grep -cF "$WARN" "$OUT")"
	done
done
