#!/usr/bin/env bash
# The session list at scale (issue 16), figures not pass/fail, run by `make bench` as
#   sh tests/bench/sessions.sh build/release
# In tmux over the shared large store (tests/bench/big-store: 10,000 sessions, 1,000,000
# messages): the cost per key (natter's debug log, "keys handled and drawn", medians) of
# scrolling the list, of opening its search field (every session loaded), of typing a query
# (the title filter; target median <= 2 ms a key), next to typing in the message input as
# the reference from the same run; and the message search run once the typing pauses
# ("session search ... in N us"; target <= 100 ms) for prefixes of a word in every message
# and of a rare one.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
set -u
cd "$(dirname "$0")/../.." || exit 1
BUILD=${1:-build/release}
ROOT=$PWD
DB=$(sh tests/bench/big-store "$BUILD") || exit 1
export NATTER="$ROOT/$BUILD/natter" TESTS="$ROOT/tests"
export SHARED="${SHARED:-$(cd .. && pwd)/shared}"
. "$TESTS/ui/lib-ui.bash"
UI_TIMEOUT=60
isolated_home
export NATTER_DB="$DB" NATTER_LOG="$LIB_TMP/natter.log"
mkdir -p "$XDG_CONFIG_HOME/natter"
: >"$XDG_CONFIG_HOME/natter/natter.yaml"

# Per-key cost from natter's log since line $1: "<label>: N keys, median M us, max X us".
key_stats() {
	tail -n +"$1" "$NATTER_LOG" | awk '/ 1 keys handled and drawn/ { print $(NF-1) }' | sort -n |
		awk -v l="$2" '{ v[NR] = $1 } END { if (NR) printf "%s: %d keys, median %d us, max %d us\n", l, NR, v[int((NR + 1) / 2)], v[NR]; else print l ": no keys logged" }'
}
# The message searches logged since line $1, one line each: hits, the time from its start
# to its hits (the pieces run between keys), and the work in it.
search_stats() {
	tail -n +"$1" "$NATTER_LOG" | awk -v l="$2" '/session search: / {
		for (i = 1; i <= NF; i++) if ($i == "search:") break
		printf "%s: %s hits in %d us (%d us of work in %d pieces)%s\n", l, $(i+1), $(i+4),
		    $(i+6), $(i+11), ($(i+4) > 100000 ? "  OVER the target" : "")
	}'
}
mark() { echo $(($(wc -l <"$NATTER_LOG") + 1)); }
# type TEXT PAUSE: one key at a time, PAUSE seconds apart.
type_slow() {
	local s=$1 i
	for ((i = 0; i < ${#s}; i++)); do ui_type "${s:i:1}"; sleep "$2"; done
	sleep 0.3
}

ui_start 160 50 -m simulated/simulated-fast
ui_wait 'Session 10000 ' || { echo "sessions.sh: the list did not show"; exit 1; }
start=$(mark)
type_slow "typing in the input" 0.02
ref=$(key_stats "$start" "reference, typing in the message input")
ui_keys C-u
ui_keys BTab
sleep 0.2
start=$(mark)
for i in $(seq 1 40); do ui_keys Down; sleep 0.02; done
for i in $(seq 1 40); do ui_keys Up; sleep 0.02; done
sleep 0.3
key_stats "$start" "scroll the list (Down x40, Up x40, 500 sessions loaded)"
start=$(mark)
ui_keys /
sleep 1
key_stats "$start" "open the search field (all 10,000 sessions loaded)"
start=$(mark)
type_slow "kalozo tamex" 0.02
key_stats "$start" "type a query fast (title filter over 10,000; target median <= 2000 us)"
search_stats "$start" "  message search after the pause"
ui_keys C-u
sleep 0.3
start=$(mark)
for i in $(seq 1 40); do ui_keys Down; sleep 0.02; done
for i in $(seq 1 40); do ui_keys Up; sleep 0.02; done
sleep 0.3
key_stats "$start" "scroll the unfiltered list in the field (10,000 sessions)"
for q in lorem topic4242 kalo; do
	ui_keys C-u
	sleep 0.3
	start=$(mark)
	type_slow "$q" 0.2
	key_stats "$start" "type '$q' slowly (title filter)"
	search_stats "$start" "  message search (target <= 100000 us)"
done
echo "$ref"
ui_keys Escape
ui_keys C-q
ui_wait_dead 10 || true
