#!/usr/bin/env bash
# Benchmark of the full-screen interface (figures, not pass/fail), run by `make bench` as
#   sh tests/bench/tui.sh build/release
# In tmux at 200x50 against the fake server: Enter to the last of 20,000 tokens on screen,
# CPU and peak RSS of natter for that reply versus curl fetching the same stream, CPU ticks
# over 10 s idle, PgUp/PgDn cost per key with a 1,000,000-token transcript (from natter's
# debug log, NATTER_LOG), and start to first frame versus `curl --version`.
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

# Start to first frame, minus tmux's own cost measured with a trivial program.
first_frame() {
	local t0 t1 sock="natter-bench-ff-$$-$RANDOM"
	t0=$(date +%s%N)
	tmux -L "$sock" -f "$UI_CONF" new-session -d -x 200 -y 50 "$1"
	until tmux -L "$sock" capture-pane -p 2>/dev/null | grep -q "$2"; do sleep 0.001; done
	t1=$(date +%s%N)
	tmux -L "$sock" kill-server 2>/dev/null
	echo $(( (t1 - t0) / 1000 ))
}
base=0; nat=0
for i in 1 2 3 4 5; do
	base=$((base + $(first_frame "printf READY; exec sleep 30" READY)))
	nat=$((nat + $(first_frame "exec $NATTER -m openai/fake" "openai/fake")))
done
t_curl0=$(date +%s%N)
for i in $(seq 1 20); do curl --version >/dev/null; done
t_curl1=$(date +%s%N)
echo "start to first frame: natter $(( (nat - base) / 5 )) us (tmux-launched, tmux overhead" \
	"$(( base / 5 )) us subtracted); curl --version $(( (t_curl1 - t_curl0) / 20000 )) us"

# 20,000 tokens at 200x50.
ui_start 200 50 -m openai/fake
pid=$(ui_pid)
ui_type "bench tokens=20000"
c0=$(ui_cpu_ticks "$pid")
t0=$(ms)
ui_keys Enter
ui_wait 'w20000' 60
t1=$(ms)
sleep 0.5
c1=$(ui_cpu_ticks "$pid")
hwm=$(awk '/VmHWM/ { print $2 }' "/proc/$pid/status")
body='{"model":"fake","stream":true,"messages":[{"role":"user","content":"bench tokens=20000"}]}'
curl_out=$( { /usr/bin/time -f '%M %U %S' curl -sN -H 'Authorization: Bearer sk-bench' \
	-H 'Content-Type: application/json' -d "$body" "$FS_URL/v1/chat/completions" -o /dev/null; } 2>&1 | tail -n 1)
echo "20000 tokens: Enter to last token visible $((t1 - t0)) ms; natter CPU" \
	"$(( (c1 - c0) * 1000 / hz )) ms; natter peak RSS ${hwm} kB; curl peak RSS" \
	"$(echo "$curl_out" | awk '{ print $1 }') kB, curl CPU $(echo "$curl_out" | awk '{ print ($2 + $3) * 1000 }') ms"

# Idle 10 s.
i0=$(ui_cpu_ticks "$pid")
sleep 10
i1=$(ui_cpu_ticks "$pid")
echo "idle 10 s: $((i1 - i0)) CPU ticks"

# A 1,000,000-token transcript: 49 more replies of 20,000 tokens, then PgUp/PgDn timing.
for i in $(seq 2 50); do
	ui_type "more $i tokens=20000"
	ui_keys Enter
	# The input's idle hint comes back only once the draft was sent and the reply ended.
	ui_wait 'message (Enter sends' 60
done
: >"$NATTER_LOG.keys"
start=$(wc -l <"$NATTER_LOG")
for i in $(seq 1 40); do ui_keys PPage; sleep 0.02; done
for i in $(seq 1 40); do ui_keys NPage; sleep 0.02; done
sleep 0.5
tail -n +"$start" "$NATTER_LOG" | awk '/keys handled and drawn/ { n++; s += $(NF-1); if ($(NF-1) > m) m = $(NF-1) }
	END { if (n) printf "1,000,000-token transcript: PgUp/PgDn %d keys, mean %.0f us, max %d us per key\n", n, s / n, m }'
ui_type "typing test"
sleep 0.5
tail -n 20 "$NATTER_LOG" | awk '/1 keys handled and drawn/ { n++; s += $(NF-1) }
	END { if (n) printf "typing with the 1,000,000-token transcript: mean %.0f us per key\n", s / n }'
echo "rss after 1,000,000 tokens: $(awk '/VmHWM/ { print $2 }' "/proc/$pid/status") kB"
ui_keys C-q
ui_wait_dead 10
