#!/usr/bin/env bash
# Keys never reach the screen, the database or an export: in the interface, the fake server
# quotes the request's credential (fault=echo_key) in a 401 body and in streamed reply text,
# for a key from the environment, a literal key, a key_cmd and a pool. The screen, the raw
# database and -wal files, `sessions show`, both export formats and /export's file must not
# hold any of them, and /export writes mode 0600. A config with a literal key that others
# can read is warned about at start-up; one with mode 0600 is not.
set -u
. "$TESTS/ui/lib-ui.bash"

isolated_home
unset NATTER_MODEL NATTER_PROVIDER NATTER_MAX_RETRIES NATTER_DB
ENVKEY=sk-env-uiecho-7a1b2c3d4e5f60718293
LITKEY=sk-lit-uiecho-8b2c3d4e5f607182930a
CMDKEY=sk-cmd-uiecho-9c3d4e5f60718293a0b1
POOLA=sk-pool-uiecho-A-0d4e5f60718293a0b1
POOLB=sk-pool-uiecho-B-1e5f60718293a0b1c2
ALLKEYS=("$ENVKEY" "$LITKEY" "$CMDKEY" "$POOLA" "$POOLB")
fs_start --key "$ENVKEY" --key "$LITKEY" --key "$CMDKEY" --key "$POOLB" --limit-key "$POOLA" || exit 0
CONF=$XDG_CONFIG_HOME/natter/natter.yaml
DB=$XDG_DATA_HOME/natter/natter.db
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
models:
  em: { provider: openai, id: env-model }
  lm: { provider: lit, id: lit-model }
  cm: { provider: cmd, id: cmd-model }
  pm: { provider: pool, id: pool-model }
EOF
chmod 600 "$CONF"
export OPENAI_API_KEY=$ENVKEY POOL_KEY_A=$POOLA POOL_KEY_B=$POOLB

# leaked FILE...: the keys (or their last 20 bytes) found in the files, one a line.
leaked() {
	local k
	for k in "${ALLKEYS[@]}"; do
		grep -aqF -e "$k" -e "${k: -20}" "$@" 2>/dev/null && echo "$k"
	done
}

# clean DESC FILE...: ok when no key is in the files (which must exist).
clean() {
	local d=$1 l
	shift
	l=$(leaked "$@")
	if [ -z "$l" ] && ls "$@" >/dev/null 2>&1; then
		tap_ok "$d"
	else
		tap_fail "$d" "leaked: $l" "files: $(ls -l "$@" 2>&1)"
	fi
}

# joined: the transcript column of the screen with spaces and line ends dropped, so text
# the interface wrapped (a key included) reads as one string.
joined() { ui_screen | sed 's/^.*│//' | tr -d ' \n'; }

# wait_joined TEXT: wait until joined contains TEXT.
wait_joined() {
	local i
	for i in $(seq 1 200); do
		joined | grep -qF -- "$1" && return 0
		sleep 0.05
	done
	return 1
}

SCREENS=$LIB_TMP/screens
: >"$SCREENS"
ui_start 140 40 -m pm # each /model below then shows as a switch
n=0
for m in "em env $ENVKEY openai/env-model" "lm literal $LITKEY lit/lit-model" \
	"cm key_cmd $CMDKEY cmd/cmd-model" "pm pool $POOLB pool/pool-model"; do
	read -r model what key shown <<<"$m"
	mask="${key:0:4}…${key: -4}"
	n=$((n + 1))
	ui_keys M-n
	ui_wait 'Type a message'
	ui_type "/model $model"
	ui_keys Enter
	ui_check "$what key: the model is switched" ui_wait "$shown"
	ui_type "bad$n status=401 fault=echo_key"
	ui_keys Enter
	ui_check "$what key: the echoing 401 is shown, masked" wait_joined "upstreamrefusedtherequestwith"
	ui_type "echo$n fault=echo_key"
	ui_keys Enter
	ui_check "$what key: the echoing reply streams, masked" wait_joined "Therequestcarried"
	joined >>"$SCREENS"
	echo >>"$SCREENS"
	ui_check "$what key: the screen shows the masked form" wait_joined "$mask"
	ui_type "/export md $LIB_TMP/exported$n.md"
	ui_keys Enter
	ui_check "$what key: /export writes the session" ui_wait "exported to"
done
clean "no key anywhere on the screens seen" "$SCREENS"

# While natter runs, the database and its write-ahead log hold what was streamed.
clean "no key in the raw database file" "$DB"
if [ -f "$DB-wal" ]; then
	clean "no key in the raw -wal file" "$DB-wal"
else
	tap_skip "no key in the raw -wal file" "no -wal file"
fi

# /export writes each session to a file only its owner can read.
tap_eq "/export: the files have mode 0600" "600 600 600 600" \
	"$(stat -c %a "$LIB_TMP"/exported[1-4].md 2>&1 | tr '\n' ' ' | sed 's/ $//')"
clean "/export: no key in the files" "$LIB_TMP"/exported[1-4].md
ui_check "/export: the files hold the masked echo" grep -qF "The request carried" "$LIB_TMP/exported4.md"
ui_keys C-q
ui_check "natter quits" ui_wait_dead

clean "no key in the database after quitting" "$DB"*
for id in $("$NATTER" sessions 2>/dev/null | awk '$1 ~ /^[0-9]+$/ { print $1 }'); do
	"$NATTER" sessions show "$id" >>"$LIB_TMP/show" 2>&1
	"$NATTER" sessions export "$id" --format md >>"$LIB_TMP/s.md" 2>&1
	"$NATTER" sessions export "$id" --format json >>"$LIB_TMP/s.json" 2>&1
done
tap_eq "sessions show lists the four echoed errors" 4 "$(grep -cF "upstream refused" "$LIB_TMP/show")"
clean "no key in sessions show" "$LIB_TMP/show"
clean "no key in the Markdown exports" "$LIB_TMP/s.md"
clean "no key in the JSON exports" "$LIB_TMP/s.json"
ui_check "the JSON export keeps the masked error" grep -qF "${LITKEY:0:4}…${LITKEY: -4}" "$LIB_TMP/s.json"

# The literal-key warning at start-up: shown for a file others can read, not for 0600.
chmod 644 "$CONF"
ui_start 140 30 -m lm
ui_check "a 0644 config with a literal key: the interface warns at start-up" \
	ui_wait "natter.yaml:[0-9]*:[0-9]*: warning: literal key in a file readable by group"
ui_keys C-q
ui_wait_dead
chmod 600 "$CONF"
ui_start 140 30 -m lm
ui_wait "bad4 status" # the stored sessions are listed: start-up is over
ui_check "a 0600 config with a literal key: no warning" \
	bash -c "! tmux -L $UI_SOCK capture-pane -p | grep -q 'warning: literal key'"
ui_keys C-q
ui_wait_dead
