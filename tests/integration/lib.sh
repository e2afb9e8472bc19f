# shellcheck shell=bash
# Helpers for natter's integration and UI tests; source it from a test script:
#
#   . "$TESTS/integration/lib.sh"
#   isolated_home
#   fs_start --key sk-test
#   out=$(curl -s "$FS_URL/v1/models" -H "Authorization: Bearer sk-test")
#   tap_check "models list answers" test -n "$out"
#
# Tests print TAP lines ("ok N - desc" / "not ok N - desc"); tests/run.sh counts them.
# Environment from tests/run.sh: $NATTER, $FAKESERVER, $TESTS, $ROOT, $SHARED.
# Everything a test starts through these helpers is stopped when the script exits, and
# everything it creates lives under $LIB_TMP, which is removed then.

LIB_TAP_N=0
LIB_EXIT_CMDS=()
LIB_FS_PIDS=()
LIB_TMP=$(mktemp -d "${TMPDIR:-/tmp}/natter-it.XXXXXX")

# lib_at_exit CMD...: run CMD when the script exits (instead of a trap of your own, which
# would replace the library's cleanup).
lib_at_exit() {
	LIB_EXIT_CMDS+=("$*")
}

# _lib_cleanup: the EXIT trap: run lib_at_exit commands, stop servers, remove $LIB_TMP.
_lib_cleanup() {
	local c p
	for c in "${LIB_EXIT_CMDS[@]}"; do
		eval "$c" >/dev/null 2>&1
	done
	for p in "${LIB_FS_PIDS[@]}"; do
		kill "$p" 2>/dev/null && wait "$p" 2>/dev/null
	done
	rm -rf "$LIB_TMP"
}
trap _lib_cleanup EXIT

# tap_ok DESC: report a passing check.
tap_ok() {
	LIB_TAP_N=$((LIB_TAP_N + 1))
	echo "ok $LIB_TAP_N - $1"
}

# tap_fail DESC [DETAILS...]: report a failing check; details go out as "# " comment lines.
tap_fail() {
	local d=$1
	shift
	LIB_TAP_N=$((LIB_TAP_N + 1))
	echo "not ok $LIB_TAP_N - $d"
	if [ $# -gt 0 ]; then
		printf '%s\n' "$*" | head -n 20 | sed 's/^/#   /'
	fi
}

# tap_skip DESC REASON: report a check that could not run here (counts as passed).
tap_skip() {
	LIB_TAP_N=$((LIB_TAP_N + 1))
	echo "ok $LIB_TAP_N - $1 # SKIP $2"
}

# tap_check DESC CMD...: ok if CMD exits 0; on failure its output is shown as details.
tap_check() {
	local d=$1 out
	shift
	if out=$("$@" 2>&1); then
		tap_ok "$d"
	else
		tap_fail "$d" "command failed: $*" "$out"
	fi
}

# tap_eq DESC EXPECTED ACTUAL: ok if the two strings are equal.
tap_eq() {
	if [ "$2" = "$3" ]; then
		tap_ok "$1"
	else
		tap_fail "$1" "expected: $2" "actual:   $3"
	fi
}

# fs_start [ARGS...]: start $FAKESERVER on an ephemeral loopback port with --max-seconds 300
# (ARGS may override it) and wait until it listens. Sets FS_PORT, FS_URL (http://127.0.0.1:PORT)
# and FS_PID; the server's stderr goes to $FS_STDERR. It is stopped when the script exits.
# Returns 1 (after a tap_fail) if the server does not come up within 10 seconds.
fs_start() {
	local out i
	if [ ! -x "${FAKESERVER:-}" ]; then
		tap_fail "fakeserver starts" "\$FAKESERVER is not an executable: '${FAKESERVER:-}'"
		return 1
	fi
	out=$(mktemp "$LIB_TMP/fs-out.XXXXXX")
	FS_STDERR=$(mktemp "$LIB_TMP/fs-err.XXXXXX")
	"$FAKESERVER" --max-seconds 300 "$@" >"$out" 2>"$FS_STDERR" &
	FS_PID=$!
	LIB_FS_PIDS+=("$FS_PID")
	FS_PORT=
	for i in $(seq 1 200); do
		FS_PORT=$(awk '$1 == "PORT" { print $2; exit }' "$out")
		[ -n "$FS_PORT" ] && break
		if ! kill -0 "$FS_PID" 2>/dev/null; then
			break
		fi
		sleep 0.05
	done
	if [ -z "$FS_PORT" ]; then
		tap_fail "fakeserver starts" "$(cat "$FS_STDERR")"
		return 1
	fi
	FS_URL="http://127.0.0.1:$FS_PORT"
	export FS_PORT FS_URL FS_PID
}

# fs_stop: stop the server fs_start started last (SIGTERM) and wait for it; returns its status.
fs_stop() {
	local st p keep=()
	kill "$FS_PID" 2>/dev/null
	wait "$FS_PID" 2>/dev/null
	st=$?
	for p in "${LIB_FS_PIDS[@]}"; do
		[ "$p" != "$FS_PID" ] && keep+=("$p")
	done
	LIB_FS_PIDS=("${keep[@]}")
	return "$st"
}

# isolated_home: point HOME and the XDG directories at a fresh directory under $LIB_TMP and
# unset every provider key and endpoint variable, so a test sees no real configuration.
# Sets and exports HOME, XDG_CONFIG_HOME, XDG_DATA_HOME, XDG_STATE_HOME, XDG_CACHE_HOME.
isolated_home() {
	local v
	HOME=$(mktemp -d "$LIB_TMP/home.XXXXXX")
	XDG_CONFIG_HOME=$HOME/.config
	XDG_DATA_HOME=$HOME/.local/share
	XDG_STATE_HOME=$HOME/.local/state
	XDG_CACHE_HOME=$HOME/.cache
	mkdir -p "$XDG_CONFIG_HOME" "$XDG_DATA_HOME" "$XDG_STATE_HOME" "$XDG_CACHE_HOME"
	export HOME XDG_CONFIG_HOME XDG_DATA_HOME XDG_STATE_HOME XDG_CACHE_HOME
	for v in OPENAI_API_KEY OPENAI_BASE_URL OPENAI_ORG_ID OPENAI_PROJECT_ID \
		ANTHROPIC_API_KEY ANTHROPIC_AUTH_TOKEN ANTHROPIC_BASE_URL \
		GEMINI_API_KEY GOOGLE_API_KEY GROQ_API_KEY CEREBRAS_API_KEY DEEPSEEK_API_KEY \
		OPENROUTER_API_KEY MISTRAL_API_KEY XAI_API_KEY TOGETHER_API_KEY FIREWORKS_API_KEY \
		OLLAMA_HOST OLLAMA_API_KEY NATTER_LOG NATTER_CONFIG; do
		unset "$v"
	done
}

# Run as a script (tests/run.sh runs every tests/integration/*.sh), the library tests itself:
# the helpers every other test relies on must work before those tests mean anything.
if [ "${BASH_SOURCE[0]}" = "$0" ]; then
	set -u
	OPENAI_API_KEY=must-go GEMINI_API_KEY=must-go OLLAMA_HOST=must-go
	export OPENAI_API_KEY GEMINI_API_KEY OLLAMA_HOST
	isolated_home
	tap_check "isolated_home: HOME is a fresh directory under the test tmp dir" \
		test -d "$HOME" -a "${HOME#"$LIB_TMP"/}" != "$HOME"
	tap_check "isolated_home: XDG directories exist under HOME" \
		test -d "$XDG_CONFIG_HOME" -a -d "$XDG_DATA_HOME" -a -d "$XDG_STATE_HOME" \
		-a "${XDG_STATE_HOME#"$HOME"/}" != "$XDG_STATE_HOME"
	tap_eq "isolated_home: provider variables are unset" "" \
		"$(env | grep -E '^(OPENAI_API_KEY|GEMINI_API_KEY|OLLAMA_HOST)=')"
	tap_eq "tap_eq: reports a difference as not ok" "not ok 99 - x" \
		"$(LIB_TAP_N=98; tap_eq x a b | head -n 1)"
	tap_eq "tap_check: a failing command is not ok" "not ok 99 - y" \
		"$(LIB_TAP_N=98; tap_check y false | head -n 1)"
	if fs_start; then
		tap_check "fs_start: FS_URL answers" curl -sf -o /dev/null "$FS_URL/v1/models"
		tap_eq "fs_start: FS_URL is the loopback URL of FS_PORT" "http://127.0.0.1:$FS_PORT" "$FS_URL"
		fs_stop
		tap_eq "fs_stop: the server exits 0" 0 "$?"
		tap_check "fs_stop: the port is closed afterwards" \
			bash -c "! curl -s -o /dev/null '$FS_URL/v1/models'"
	fi
fi
