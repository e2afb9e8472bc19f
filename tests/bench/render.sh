#!/usr/bin/env bash
# Benchmark of reply rendering in the full-screen interface (figures, not pass/fail), run by
# `make bench` as
#   sh tests/bench/render.sh build/release
# In tmux at 200x50 against the fake server, as tests/bench/tui.sh measures the interface:
# from Enter to the last token on screen for a 20,000-token reply of Markdown holding 200
# fenced code blocks in 20 languages (highlighted with nano's syntax files once each closes)
# and 20 tables (the fake server's doc=md), against the same reply of 20,000 plain words in
# the same run, and CPU time of natter for each. Medians of 5 runs, alternating, each in
# a fresh natter; target: <= 250 ms from Enter to the last token.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
set -u
cd "$(dirname "$0")/../.." || exit 1
BUILD=${1:-build/release}
ROOT=$PWD
export NATTER="$ROOT/$BUILD/natter" FAKESERVER="$ROOT/$BUILD/fakeserver" TESTS="$ROOT/tests"
export SHARED="${SHARED:-$ROOT/tests/vectors}"
. "$TESTS/ui/lib-ui.bash"
UI_TIMEOUT=120
isolated_home
fs_start
export OPENAI_API_KEY=sk-bench
mkdir -p "$XDG_CONFIG_HOME/natter"
printf 'providers:\n  openai:\n    base_url: %s/v1\n' "$FS_URL" >"$XDG_CONFIG_HOME/natter/natter.yaml"
ms() { echo $(( $(date +%s%N) / 1000000 )); }
hz=$(getconf CLK_TCK)
median() { tr ' ' '\n' | grep . | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

# one PROMPT: Enter to "w20000" on screen in ms, then natter's CPU in ms, on one line.
one() {
	local pid t0 t1 c0 c1
	ui_start 200 50 -m openai/fake || { echo "0 0"; return; }
	pid=$(ui_pid)
	ui_type "$1"
	c0=$(ui_cpu_ticks "$pid")
	t0=$(ms)
	ui_keys Enter
	ui_wait 'w20000' 60
	t1=$(ms)
	sleep 0.3
	c1=$(ui_cpu_ticks "$pid")
	ui_keys C-q
	ui_wait_dead 10
	echo "$((t1 - t0)) $(( (c1 - c0) * 1000 / hz ))"
}

md_t=""; md_c=""; pl_t=""; pl_c=""
for i in 1 2 3 4 5; do
	r=$(one "render bench tokens=20000 doc=md"); md_t="$md_t ${r% *}"; md_c="$md_c ${r#* }"
	r=$(one "plain bench tokens=20000"); pl_t="$pl_t ${r% *}"; pl_c="$pl_c ${r#* }"
done
mt=$(echo $md_t | median); pt=$(echo $pl_t | median)
mc=$(echo $md_c | median); pc=$(echo $pl_c | median)
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }'; }
echo "20000 tokens of Markdown (200 code blocks, 20 tables): Enter to last token visible" \
	"median $mt ms (target <= 250 ms; plain words median $pt ms, ratio $(ratio "$mt" "$pt")x;" \
	"runs: markdown$md_t; plain$pl_t)"
echo "20000 tokens of Markdown: natter CPU median $mc ms (plain words $pc ms, ratio" \
	"$(ratio "$mc" "$pc")x; runs: markdown$md_c; plain$pl_c)"
