#!/usr/bin/env bash
# Memory with one huge reply (figures, not pass/fail), run by `make bench` as
#   sh tests/bench/bigreply.sh build/release
# A 100 MB reply from the release fake server (tokens=100000 token_bytes=1000: lines of
# 1,000 bytes, 100,000 events):
#   (a) natter ask streaming it to a pipe: peak RSS (/usr/bin/time %M, median of 3) when the
#       session is stored (the default), with --no-save, and, for reference, with --json
#       (which needs the whole text); a one-token ask is the idle reference. The stored
#       reply is read back (natter export --format text --raw) and must be whole.
#       Target: <= 32 MB stored and unstored.
#   (b) the interface at 200x50 receiving it: peak RSS (VmHWM) over the RSS it had idle
#       before the prompt, as a multiple of the reply's size (median of 3 runs), with the
#       time from Enter to the last token on screen. Target: <= 1.5x.
# BENCH_BIG_TOKENS and BENCH_BIG_BYTES change the reply's shape (tokens x bytes).
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
set -u
cd "$(dirname "$0")/../.." || exit 1
BUILD=${1:-build/release}
ROOT=$PWD
export NATTER="$ROOT/$BUILD/natter" FAKESERVER="$ROOT/$BUILD/fakeserver" TESTS="$ROOT/tests"
export SHARED="${SHARED:-$(cd .. && pwd)/shared}"
for f in "$NATTER" "$FAKESERVER"; do
	[ -x "$f" ] || { echo "bigreply.sh: $f is missing (run make bench)" >&2; exit 1; }
done
. "$TESTS/ui/lib-ui.bash"
TOKENS=${BENCH_BIG_TOKENS:-100000}
BYTES=${BENCH_BIG_BYTES:-1000}
SIZE=$((TOKENS * BYTES))
PROMPT="big tokens=$TOKENS token_bytes=$BYTES"
isolated_home
fs_start --key sk-bench --max-seconds 900
export OPENAI_API_KEY=sk-bench
mkdir -p "$XDG_CONFIG_HOME/natter"
printf 'providers:\n  openai:\n    base_url: %s/v1\n' "$FS_URL" >"$XDG_CONFIG_HOME/natter/natter.yaml"
ms() { echo $(( $(date +%s%N) / 1000000 )); }
median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
mb() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }

# ask_rss ARGS...: the peak RSS (KiB) of three natter ask runs to a pipe: the median, then
# the three.
ask_rss() {
	local i runs=""
	for i in 1 2 3; do
		/usr/bin/time -f %M -o "$LIB_TMP/rss" "$NATTER" ask -m openai/fake "$@" </dev/null |
			cat >/dev/null
		runs="$runs $(tail -n 1 "$LIB_TMP/rss")"
	done
	echo "$(echo $runs | tr ' ' '\n' | median)$runs"
}

echo "== (a) natter ask, a $SIZE-byte reply to a pipe"
idle=$(ask_rss --no-save "tokens=1")
nosave=$(ask_rss --no-save "$PROMPT")
stored=$(ask_rss "$PROMPT")
json=$(ask_rss --no-save --json "$PROMPT")
"$NATTER" export last --format text --raw -o "$LIB_TMP/export.txt" 2>"$LIB_TMP/export.err"
got=$(grep -c ' abcdefghi' "$LIB_TMP/export.txt" 2>/dev/null)
last=$(grep -c "^ w$TOKENS abc" "$LIB_TMP/export.txt" 2>/dev/null)
runs() { echo "${1#* }" | awk '{ for (i = 1; i <= NF; i++) printf " %.1f", $i / 1024 }'; }
echo "ask, one token (idle reference): peak RSS $(mb "${idle%% *}") MB (runs MB:$(runs "$idle"))"
echo "ask --no-save: peak RSS $(mb "${nosave%% *}") MB (target <= 32 MB; runs MB:$(runs "$nosave"))"
echo "ask, session stored: peak RSS $(mb "${stored%% *}") MB (target <= 32 MB; runs MB:$(runs "$stored"))"
echo "ask --json (needs the whole text, reference): peak RSS $(mb "${json%% *}") MB" \
	"(runs MB:$(runs "$json"))"
echo "stored reply read back: $got of $TOKENS lines, last line present: $last (want $TOKENS, 1)"

echo "== (b) the interface at 200x50, a $SIZE-byte reply"
UI_TIMEOUT=300
ratios=""; times=""; peaks=""; idles=""
for run in 1 2 3; do
	# A database of its own: (a)'s replies, indexed at start, would count as idle.
	export NATTER_DB="$LIB_TMP/ui-$run.db"
	ui_start 200 50 -m openai/fake
	pid=$(ui_pid)
	sleep 0.5
	rss0=$(awk '/VmRSS/ { print $2 }' "/proc/$pid/status")
	ui_type "$PROMPT"
	t0=$(ms)
	ui_keys Enter
	ui_wait "w$TOKENS " 300 || echo "run $run: the last token never showed" >&2
	t1=$(ms)
	# The input's idle hint comes back once the reply ended and was stored.
	ui_wait 'message (Enter sends' 120
	sleep 0.5
	hwm=$(awk '/VmHWM/ { print $2 }' "/proc/$pid/status")
	ratios="$ratios $(awk -v h="$hwm" -v i="$rss0" -v s="$SIZE" 'BEGIN { printf "%.2f", (h - i) * 1024 / s }')"
	times="$times $((t1 - t0))"
	peaks="$peaks $hwm"
	idles="$idles $rss0"
	ui_keys C-q
	ui_wait_dead 20
done
r=$(echo $ratios | tr ' ' '\n' | median)
echo "interface: idle RSS kB:$idles; peak RSS kB:$peaks"
echo "interface: Enter to last token ms:$times (median $(echo $times | tr ' ' '\n' | median) ms)"
echo "interface: peak RSS over idle / reply size: median ${r}x (target <= 1.5x; runs:$ratios)"
