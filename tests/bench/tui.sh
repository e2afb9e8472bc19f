#!/usr/bin/env bash
# Benchmark of the full-screen interface (figures, not pass/fail), run by `make bench` as
#   sh tests/bench/tui.sh build/release
# In tmux at 200x50 against the fake server: Enter to the last of 20,000 tokens on screen,
# CPU and peak RSS of natter for that reply versus curl fetching the same stream, CPU ticks
# over 10 s idle, PgUp/PgDn and typing cost per key (medians, from natter's debug log,
# NATTER_LOG) with a 1,000,000-token transcript versus a one-reply transcript, and start to
# first frame versus `curl --version` (medians of 11 runs). Each figure is printed with its
# reference from the same run, as these machines are shared and noisy.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
set -u
cd "$(dirname "$0")/../.." || exit 1
BUILD=${1:-build/release}
ROOT=$PWD
export NATTER="$ROOT/$BUILD/natter" FAKESERVER="$ROOT/$BUILD/fakeserver" TESTS="$ROOT/tests"
export SHARED="${SHARED:-$(cd .. && pwd)/shared}"
. "$TESTS/ui/lib-ui.bash"
UI_TIMEOUT=120
isolated_home
fs_start
export OPENAI_API_KEY=sk-bench
mkdir -p "$XDG_CONFIG_HOME/natter"
printf 'providers:\n  openai:\n    base_url: %s/v1\n' "$FS_URL" >"$XDG_CONFIG_HOME/natter/natter.yaml"
export NATTER_LOG="$LIB_TMP/natter.log"
ms() { echo $(( $(date +%s%N) / 1000000 )); }
hz=$(getconf CLK_TCK)

# Start to first frame. Each run starts in its own tmux pane, where bash notes the time just
# before it forks the program, so tmux's own start-up is not counted. natter logs the wall
# clock at its first doupdate() (NATTER_LOG, "first frame at"); curl --version is timed to
# its exit by the same bash, so curl's figure also holds its exit (conservative for natter).
# Medians over 11 runs of each.
ff_run() { # $1: natter|curl, $2: output file
	local sock="natter-bench-ff-$$-$RANDOM" log="$LIB_TMP/ff.log" cmd
	: >"$log"
	if [ "$1" = natter ]; then
		cmd="t0=\$EPOCHREALTIME; echo \$t0 >$2.t0; NATTER_LOG=$log $NATTER -m openai/fake"
	else
		cmd="t0=\$EPOCHREALTIME; curl --version >/dev/null; echo \$t0 \$EPOCHREALTIME >$2; sleep 30"
	fi
	tmux -L "$sock" -f "$UI_CONF" new-session -d -x 200 -y 50 "bash -c '$cmd'"
	if [ "$1" = natter ]; then
		until grep -q 'first frame at' "$log" 2>/dev/null; do sleep 0.01; done
		echo "$(cat "$2.t0") $(sed -n 's/.*first frame at //p' "$log")" >"$2"
	else
		until [ -s "$2" ]; do sleep 0.01; done
	fi
	tmux -L "$sock" kill-server 2>/dev/null
	# Seconds and microseconds apart: a double cannot hold both at once exactly.
	awk '{ split($1, a, "."); split($2, b, "."); printf "%.0f\n", (b[1] - a[1]) * 1000000 + (b[2] - a[2]) }' "$2"
}
median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
nat_ff=""; curl_ff=""
for i in $(seq 1 11); do
	nat_ff="$nat_ff $(ff_run natter "$LIB_TMP/ffn.$i")"
	curl_ff="$curl_ff $(ff_run curl "$LIB_TMP/ffc.$i")"
done
n_med=$(echo $nat_ff | tr ' ' '\n' | median); c_med=$(echo $curl_ff | tr ' ' '\n' | median)
echo "start to first frame: natter median $n_med us, curl --version median $c_med us," \
	"ratio $(awk -v a="$n_med" -v b="$c_med" 'BEGIN { printf "%.2f", a / b }')x (target <= 1.5x;" \
	"runs: natter$nat_ff; curl$curl_ff)"

# Per-key cost from natter's log since line $1: "<label> keys N, median M us, max X us".
key_stats() {
	tail -n +"$1" "$NATTER_LOG" | awk '/ 1 keys handled and drawn/ { print $(NF-1) }' | sort -n |
		awk -v l="$2" '{ v[NR] = $1 } END { if (NR) printf "%s %d keys, median %d us, max %d us\n", l, NR, v[int((NR + 1) / 2)], v[NR] }'
}
# PgUp x40 then PgDn x40, one key at a time.
scroll_keys() {
	local i
	for i in $(seq 1 40); do ui_keys PPage; sleep 0.02; done
	for i in $(seq 1 40); do ui_keys NPage; sleep 0.02; done
	sleep 0.3
}
type_keys() {
	local c
	for c in t y p i n g t e s t; do ui_type "$c"; sleep 0.02; done
	sleep 0.3
	ui_keys C-u
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }'; }

# 20,000 tokens at 200x50, against curl fetching the same stream: wall time (medians of
# ROUNDS interleaved rounds), CPU and peak RSS (of the first). Each round starts a new
# session, notes the time just before tmux is told to press Enter, and takes the time natter
# logs for the frame that shows the reply's end ("reply end drawn at"), so the figure does
# not depend on how often this script looks at the screen. curl is timed by the same clock
# from its start to its exit, so its figure holds its start-up too (conservative).
ROUNDS=${BENCH_ROUNDS:-9}
ui_start 200 50 -m openai/fake
pid=$(ui_pid)
body='{"model":"fake","stream":true,"messages":[{"role":"user","content":"bench tokens=20000"}]}'
us() { echo "${EPOCHREALTIME/./}"; }
nat_runs=""; curl_runs=""
for r in $(seq 1 "$ROUNDS"); do
	if [ "$r" -gt 1 ]; then
		ui_type "/new"
		ui_keys Enter
		ui_wait_not 'w20000' 20
	fi
	ui_type "bench tokens=20000"
	sleep 0.3
	ended=$(grep -c 'reply end drawn at' "$NATTER_LOG")
	[ "$r" -eq 1 ] && c0=$(ui_cpu_ticks "$pid")
	t0=$(us)
	ui_keys Enter
	i=0
	while [ "$(grep -c 'reply end drawn at' "$NATTER_LOG")" -le "$ended" ] && [ $i -lt 6000 ]; do
		sleep 0.01
		i=$((i + 1))
	done
	t1=$(grep 'reply end drawn at' "$NATTER_LOG" | tail -n 1 | sed 's/.*drawn at //; s/\.//')
	ui_wait 'w20000' 60
	nat_runs="$nat_runs $(( (t1 - t0) / 1000 ))"
	if [ "$r" -eq 1 ]; then
		sleep 0.5
		c1=$(ui_cpu_ticks "$pid")
		hwm=$(awk '/VmHWM/ { print $2 }' "/proc/$pid/status")
		curl_out=$( { /usr/bin/time -f '%M %U %S' curl -sN -H 'Authorization: Bearer sk-bench' \
			-H 'Content-Type: application/json' -d "$body" "$FS_URL/v1/chat/completions" \
			-o /dev/null; } 2>&1 | tail -n 1)
		curl_rss=$(echo "$curl_out" | awk '{ print $1 }')
		curl_cpu=$(echo "$curl_out" | awk '{ print ($2 + $3) * 1000 }')
		nat_cpu=$(( (c1 - c0) * 1000 / hz ))
	fi
	ct0=$(us)
	curl -sN -H 'Authorization: Bearer sk-bench' -H 'Content-Type: application/json' \
		-d "$body" "$FS_URL/v1/chat/completions" -o /dev/null
	ct1=$(us)
	curl_runs="$curl_runs $(( (ct1 - ct0) / 1000 ))"
done
n_med=$(echo $nat_runs | tr ' ' '\n' | median); c_med=$(echo $curl_runs | tr ' ' '\n' | median)
echo "20000 tokens: Enter to last token on screen, median $n_med ms (target <= 250 ms);" \
	"curl's whole fetch median $c_med ms; ratio $(ratio "$n_med" "$c_med")x (target <= 1.30;" \
	"runs ms: natter$nat_runs; curl$curl_runs)"
echo "20000 tokens: natter CPU $nat_cpu ms (target <= 300 ms; curl $curl_cpu ms)"
echo "20000 tokens: natter peak RSS $hwm kB, curl $curl_rss kB, ratio $(ratio "$hwm" "$curl_rss")x" \
	"(target <= 1.4x)"

# Idle 10 s.
i0=$(ui_cpu_ticks "$pid")
sleep 10
i1=$(ui_cpu_ticks "$pid")
echo "idle 10 s: $((i1 - i0)) CPU ticks (target 0)"

# Scrolling and typing with this one reply: the reference for the huge transcript below.
start=$(($(wc -l <"$NATTER_LOG") + 1))
scroll_keys
small_scroll=$(key_stats "$start" "small transcript: PgUp/PgDn")
start=$(($(wc -l <"$NATTER_LOG") + 1))
type_keys
small_type=$(key_stats "$start" "small transcript: typing")

# A 1,000,000-token transcript: 49 more replies of 20,000 tokens, then PgUp/PgDn timing.
for i in $(seq 2 50); do
	ui_type "more $i tokens=20000"
	ui_keys Enter
	# The input's idle hint comes back only once the draft was sent and the reply ended.
	ui_wait 'message (Enter sends' 60
done
start=$(($(wc -l <"$NATTER_LOG") + 1))
scroll_keys
big_scroll=$(key_stats "$start" "1,000,000-token transcript: PgUp/PgDn")
start=$(($(wc -l <"$NATTER_LOG") + 1))
type_keys
big_type=$(key_stats "$start" "1,000,000-token transcript: typing")
med() { echo "$1" | sed -n 's/.*median \([0-9]*\) us.*/\1/p'; }
echo "$small_scroll"
echo "$big_scroll (target median <= 2000 us; ratio to the small transcript" \
	"$(ratio "$(med "$big_scroll")" "$(med "$small_scroll")")x)"
echo "$small_type"
echo "$big_type (target: unchanged; ratio $(ratio "$(med "$big_type")" "$(med "$small_type")")x)"
echo "rss after 1,000,000 tokens: $(awk '/VmHWM/ { print $2 }' "/proc/$pid/status") kB"
ui_keys C-q
ui_wait_dead 10
