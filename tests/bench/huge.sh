#!/usr/bin/env bash
# A session of 100,000 messages (issue 16), figures not pass/fail, run by `make bench` as
#   sh tests/bench/huge.sh build/release
# Over the shared one-session store (tests/bench/huge-store; BENCH_HUGE=N for another
# count): first what opening costs below the interface (bench_session: the end of the path,
# a page more, counting the rest, the whole path at once), then in tmux at 200x50, from
# natter's debug log (NATTER_LOG): start to the session's first frame (bash notes the time
# just before it starts natter -S; natter logs the wall clock of the frame that first shows
# the session) and open to that frame, medians of 11 runs (target <= 30 ms); then the cost
# per key of PgUp/PgDn (40 of each, one at a time; target median <= 2 ms) at the end of the
# path, where older pages come in as the view reaches them, in the middle (opened at a
# search hit there) and at the top (after Home, which loads the rest at once), with what
# Home and End cost and what a page load costs.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
set -u
cd "$(dirname "$0")/../.." || exit 1
BUILD=${1:-build/release}
ROOT=$PWD
DB=$(sh tests/bench/huge-store "$BUILD") || exit 1
N=${BENCH_HUGE:-100000}
if [ ! -x "$BUILD/bench_session" ]; then
	make --no-print-directory -s MODE="$(basename "$BUILD")" "$BUILD/bench_session" >&2
fi
echo "below the interface, session 1 of $DB:"
"$BUILD/bench_session" "$DB" 1 | sed 's/^/  /'

export NATTER="$ROOT/$BUILD/natter" TESTS="$ROOT/tests"
export SHARED="${SHARED:-$(cd .. && pwd)/shared}"
. "$TESTS/ui/lib-ui.bash"
UI_TIMEOUT=120
isolated_home
export NATTER_DB="$DB" NATTER_LOG="$LIB_TMP/natter.log"
mkdir -p "$XDG_CONFIG_HOME/natter"
: >"$XDG_CONFIG_HOME/natter/natter.yaml"
median() { sort -n | awk '{ v[NR] = $1 } END { if (NR) print v[int((NR + 1) / 2)]; else print "n/a" }'; }

# Start to the session's first frame, and open to it, in a tmux pane of its own each run.
ff_run() { # $1: output file
	local sock="natter-bench-huge-$$-$RANDOM" log="$LIB_TMP/ff.log"
	: >"$log"
	tmux -L "$sock" -f "$UI_CONF" new-session -d -x 200 -y 50 \
		"bash -c 't0=\$EPOCHREALTIME; echo \$t0 >$1.t0; NATTER_LOG=$log $NATTER -S 1 -m simulated'"
	until grep -q 'opened to its first frame' "$log" 2>/dev/null; do sleep 0.01; done
	tmux -L "$sock" kill-server 2>/dev/null
	sed -n 's/.*opened to its first frame in \([0-9]*\) us, at \([0-9.]*\).*/\1 \2/p' "$log" |
		head -n 1 >"$1"
	# Seconds and microseconds apart: a double cannot hold both at once exactly.
	awk -v t0="$(cat "$1.t0")" '{ split(t0, a, "."); split($2, b, ".");
		printf "%.0f %d\n", (b[1] - a[1]) * 1000000 + (b[2] - a[2]), $1 }' "$1"
}
runs=""
for i in $(seq 1 11); do
	runs="$runs$(ff_run "$LIB_TMP/ff.$i")"$'\n'
done
start_us=$(echo "$runs" | awk 'NF { print $1 }' | median)
open_us=$(echo "$runs" | awk 'NF { print $2 }' | median)
echo "start to the session's first frame: median $((start_us / 1000)) ms (target <= 30 ms;" \
	"runs: $(echo "$runs" | awk 'NF { printf "%d ", $1 / 1000 }')ms)"
echo "open to the session's first frame: median $((open_us / 1000)) ms (target <= 30 ms)"

# Per-key cost from natter's log since line $1: "<label>: N keys, median M us, max X us".
key_stats() {
	tail -n +"$1" "$NATTER_LOG" | awk '/ 1 keys handled and drawn/ { print $(NF-1) }' | sort -n |
		awk -v l="$2" '{ v[NR] = $1 } END { if (NR) printf "%s: %d keys, median %d us, max %d us\n", l, NR, v[int((NR + 1) / 2)], v[NR]; else print l ": no keys logged" }'
}
mark() { echo $(($(wc -l <"$NATTER_LOG") + 1)); }
# PgUp x40 then PgDn x40 (or the other way round with "down"), one key at a time.
scroll_keys() {
	local i first=PPage then=NPage
	[ "${1:-}" = down ] && first=NPage then=PPage
	for i in $(seq 1 40); do ui_keys "$first"; sleep 0.02; done
	for i in $(seq 1 40); do ui_keys "$then"; sleep 0.02; done
	sleep 0.3
}
# The page loads logged since line $1.
page_stats() {
	tail -n +"$1" "$NATTER_LOG" | awk '/loaded [0-9]* older messages in/ { print $(NF-1) }' | sort -n |
		awk -v l="$2" '{ v[NR] = $1 } END { if (NR) printf "%s: %d pages, median %d us, max %d us\n", l, NR, v[int((NR + 1) / 2)], v[NR]; else print l ": no pages loaded" }'
}
: >"$NATTER_LOG"
ui_start 200 50 -S 1 -m simulated || { echo "huge.sh: natter did not start"; exit 1; }
ui_wait 'A very long session' 60
# The count of the rest ends within a second; scrolling while it runs is measured too.
start=$(mark)
scroll_keys
at_end=$(key_stats "$start" "at the end, older pages coming in: PgUp/PgDn")
pages=$(page_stats "$start" "  a page loaded on the way")
counted=$(grep 'counted messages not loaded:' "$NATTER_LOG" | awk '{ s += $(NF-1) } END { printf "%d steps, %.0f ms in all", NR, s / 1000 }')
ui_keys Tab
sleep 0.3
start=$(mark)
ui_keys Home
ui_wait 'topic1 ' 60
sleep 0.5
home=$(key_stats "$start" "Home (loads the rest: $((N / 1000))k messages)")
start=$(mark)
scroll_keys down
at_top=$(key_stats "$start" "at the top, all loaded: PgDn/PgUp")
start=$(mark)
ui_keys End
sleep 0.5
end=$(key_stats "$start" "End")
ui_keys C-q
ui_wait_dead 10

# In the middle: opened at a search hit there (the pages up to it loaded on the way).
: >"$NATTER_LOG"
ui_start 200 50 -m simulated || exit 1
ui_keys BTab
ui_keys /
ui_type "topic$((N / 2))"
ui_wait 'in messages' 60
sleep 0.5
start=$(mark)
ui_keys Enter
# The snippet in the list shows the word already: wait for the session's frame.
for i in $(seq 1 600); do
	tail -n +"$start" "$NATTER_LOG" | grep -q 'opened to its first frame' && break
	sleep 0.1
done
sleep 0.5
jump=$(key_stats "$start" "Enter on a hit $((N / 2)) messages up (its pages loaded)")
start=$(mark)
scroll_keys
middle=$(key_stats "$start" "in the middle: PgUp/PgDn")
ui_keys C-q
ui_wait_dead 10

echo "counting the messages not loaded (the status line's sums): $counted"
med() { echo "$1" | sed -n 's/.*median \([0-9]*\) us.*/\1/p'; }
for l in "$at_end" "$middle" "$at_top"; do
	echo "$l (target median <= 2000 us)"
done
echo "$pages"
echo "$home"
echo "$end"
echo "$jump"
