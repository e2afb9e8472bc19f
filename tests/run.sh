#!/usr/bin/env bash
# Runs every natter test and ends with one line "N passed, N failed".
#   tests/run.sh BUILD_DIR FUZZ_DIR [NAME...]
# With NAMEs (or TEST="NAME ..." in the environment, as in `make check TEST=ask`), only the
# tests whose name contains one of them run: test_store, ask (integration/ask.sh), ui/tui.
# Unit tests are cmocka binaries (TAP output), integration and UI tests are shell scripts
# printing TAP lines ("ok - name" / "not ok - name"), fuzz targets get a short run each.
# A test binary or script that dies without reporting counts as one failure.
set -u
cd "$(dirname "$0")/.."
BUILD=${1:-build/asan}
FUZZ=${2:-build/fuzz}
FUZZ_SHORT=${FUZZ_SHORT:-3}  # seconds a fuzz target runs here (make fuzz runs them long)
shift 2 2>/dev/null
ONLY=("$@")
if [ ${#ONLY[@]} -eq 0 ] && [ -n "${TEST:-}" ]; then
	read -r -a ONLY <<<"$TEST"
fi
export NATTER="$PWD/$BUILD/natter"
export FAKESERVER="$PWD/$BUILD/fakeserver"
export MCPSERVER="$PWD/$BUILD/mcpserver"
export TESTS="$PWD/tests"
export ROOT="$PWD"
# The recorded provider streams: the repository keeps its own copy, so a clone tests alone.
export SHARED="${SHARED:-$PWD/tests/vectors}"
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0:halt_on_error=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
export CMOCKA_MESSAGE_OUTPUT=TAP
LOGDIR=$(mktemp -d "${TMPDIR:-/tmp}/natter-tests.XXXXXX")
passed=0
failed=0
failures=()

# wanted NAME: true when NAME is selected (every test is when no names were given).
wanted() {
	local w
	[ ${#ONLY[@]} -eq 0 ] && return 0
	for w in "${ONLY[@]}"; do
		case "$1" in *"$w"*) return 0 ;; esac
	done
	return 1
}

# count_tap NAME LOG STATUS: add the TAP results in LOG; a non-zero STATUS with no
# failing line is one failure of its own.
count_tap() {
	local name=$1 log=$2 status=$3 ok bad
	ok=$(grep -cE '^ok( |$)' "$log")
	bad=$(grep -cE '^not ok( |$)' "$log")
	passed=$((passed + ok))
	failed=$((failed + bad))
	if [ "$bad" -gt 0 ]; then
		failures+=("$name: $(grep -E '^not ok' "$log" | head -n 5 | tr '\n' ';')")
	fi
	if [ "$status" -ne 0 ] && [ "$bad" -eq 0 ]; then
		failed=$((failed + 1))
		failures+=("$name: exited with status $status")
	fi
	if [ "$ok" -eq 0 ] && [ "$bad" -eq 0 ] && [ "$status" -eq 0 ]; then
		failed=$((failed + 1))
		failures+=("$name: reported no results")
	fi
}

for t in "$BUILD"/tests/test_*; do
	[ -x "$t" ] || continue
	n=$(basename "$t")
	wanted "$n" || continue
	log="$LOGDIR/$n.log"
	( cd "$ROOT" && timeout 300 "$t" ) >"$log" 2>&1
	st=$?
	count_tap "$n" "$log" "$st"
	printf '%-40s %s\n' "$n" "$(grep -cE '^ok' "$log") ok, $(grep -cE '^not ok' "$log") failed (status $st)"
done

for t in tests/integration/*.sh tests/ui/*.sh; do
	[ -f "$t" ] || continue
	n=$(basename "$(dirname "$t")")/$(basename "$t")
	wanted "$n" || continue
	log="$LOGDIR/$(echo "$n" | tr / _).log"
	timeout 600 bash "$t" >"$log" 2>&1
	st=$?
	count_tap "$n" "$log" "$st"
	printf '%-40s %s\n' "$n" "$(grep -cE '^ok' "$log") ok, $(grep -cE '^not ok' "$log") failed (status $st)"
done

for f in "$FUZZ"/fuzz_*; do
	[ -x "$f" ] || continue
	n=$(basename "$f")
	wanted "$n" || continue
	work="$LOGDIR/corpus-$n"
	mkdir -p "$work"
	seeds=tests/fuzz/corpus/$n
	log="$LOGDIR/$n.log"
	if [ -d "$seeds" ]; then
		timeout 120 "$f" -max_total_time="$FUZZ_SHORT" -rss_limit_mb=2048 "$work" "$seeds" >"$log" 2>&1
	else
		timeout 120 "$f" -max_total_time="$FUZZ_SHORT" -rss_limit_mb=2048 "$work" >"$log" 2>&1
	fi
	st=$?
	if [ $st -eq 0 ]; then
		passed=$((passed + 1))
		echo "ok - fuzz $n" >>"$log"
	else
		failed=$((failed + 1))
		failures+=("fuzz $n: status $st (see $log)")
	fi
	printf '%-40s %s\n' "$n" "$( [ $st -eq 0 ] && echo "ok (${FUZZ_SHORT}s)" || echo "FAILED")"
done

if [ ${#failures[@]} -gt 0 ]; then
	echo
	echo "Failures (logs in $LOGDIR):"
	for f in "${failures[@]}"; do
		echo "  $f"
	done
fi
if [ $((passed + failed)) -eq 0 ]; then
	failed=1
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
