#!/usr/bin/env bash
# Runs every natter test and ends with one line "N passed, N failed".
#   tests/run.sh BUILD_DIR FUZZ_DIR [NAME...]
# With NAMEs (or TEST="NAME ..." in the environment, as in `make check TEST=ask`), only the
# tests whose name contains one of them run: test_store, ask (integration/ask.sh), ui/tui.
# Unit tests are cmocka binaries (TAP output), integration and UI tests are shell scripts
# printing TAP lines ("ok - name" / "not ok - name"), fuzz targets get a short run each.
# They run TEST_JOBS at a time (default: the number of cores); TEST_JOBS=1 runs one by one.
# A shell test with a line "# run.sh: alone" (it runs make in the tree) runs by itself.
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

# The tests run TEST_JOBS at a time (default: one per core); each writes its own log and
# status, and each line below comes as a test ends. The counts are summed in the tests'
# order once all have ended, so the summary does not depend on which finished first.
JOBS=${TEST_JOBS:-$(nproc 2>/dev/null || echo 1)}
[ "$JOBS" -ge 1 ] 2>/dev/null || JOBS=1
names=()   # each test's name
kinds=()   # tap or fuzz
logs=()
declare -A slot_of=()   # running pid -> index

# finish I: print test I's line once it has ended.
finish() {
	local i=$1 st
	st=$(cat "${logs[$i]}.status" 2>/dev/null || echo 1)
	if [ "${kinds[$i]}" = fuzz ]; then
		printf '%-40s %s\n' "${names[$i]}" "$([ "$st" -eq 0 ] && echo "ok (${FUZZ_SHORT}s)" || echo "FAILED")"
	else
		printf '%-40s %s\n' "${names[$i]}" "$(grep -cE '^ok' "${logs[$i]}") ok, $(grep -cE '^not ok' "${logs[$i]}") failed (status $st)"
	fi
}
# reap: wait for one running test to end and print its line.
reap() {
	local pid
	wait -n -p pid
	[ -n "${pid:-}" ] || return
	finish "${slot_of[$pid]}"
	unset "slot_of[$pid]"
}
# launch NAME KIND LOG CMD...: start one test in the background once a slot is free.
launch() {
	local name=$1 kind=$2 log=$3
	shift 3
	while [ "${#slot_of[@]}" -ge "$JOBS" ]; do
		reap
	done
	names+=("$name")
	kinds+=("$kind")
	logs+=("$log")
	( "$@" >"$log" 2>&1; echo $? >"$log.status" ) &
	slot_of[$!]=$((${#names[@]} - 1))
}
# in_root CMD...: run CMD from the repository's root (unit tests read files there).
in_root() { (cd "$ROOT" && "$@"); }
# fuzz_one BIN WORK SEEDS: a short fuzzing run; the seeds directory may be missing.
fuzz_one() {
	if [ -d "$3" ]; then
		timeout 120 "$1" -max_total_time="$FUZZ_SHORT" -rss_limit_mb=2048 "$2" "$3"
	else
		timeout 120 "$1" -max_total_time="$FUZZ_SHORT" -rss_limit_mb=2048 "$2"
	fi
}

for t in "$BUILD"/tests/test_*; do
	[ -x "$t" ] || continue
	n=$(basename "$t")
	wanted "$n" || continue
	launch "$n" tap "$LOGDIR/$n.log" in_root timeout 300 "$t"
done

for t in tests/integration/*.sh tests/ui/*.sh; do
	[ -f "$t" ] || continue
	n=$(basename "$(dirname "$t")")/$(basename "$t")
	wanted "$n" || continue
	# A test that rebuilds or installs from the tree (a line "# run.sh: alone") would
	# relink the binary the others run: it runs with nothing else running.
	alone=0
	grep -q '^# run.sh: alone' "$t" && alone=1
	if [ $alone -eq 1 ]; then
		while [ "${#slot_of[@]}" -gt 0 ]; do
			reap
		done
	fi
	launch "$n" tap "$LOGDIR/$(echo "$n" | tr / _).log" timeout 600 bash "$t"
	if [ $alone -eq 1 ]; then
		while [ "${#slot_of[@]}" -gt 0 ]; do
			reap
		done
	fi
done

for f in "$FUZZ"/fuzz_*; do
	[ -x "$f" ] || continue
	n=$(basename "$f")
	wanted "$n" || continue
	work="$LOGDIR/corpus-$n"
	mkdir -p "$work"
	launch "$n" fuzz "$LOGDIR/$n.log" fuzz_one "$f" "$work" "tests/fuzz/corpus/$n"
done

while [ "${#slot_of[@]}" -gt 0 ]; do
	reap
done

for i in "${!names[@]}"; do
	st=$(cat "${logs[$i]}.status" 2>/dev/null || echo 1)
	if [ "${kinds[$i]}" = fuzz ]; then
		if [ "$st" -eq 0 ]; then
			passed=$((passed + 1))
			echo "ok - fuzz ${names[$i]}" >>"${logs[$i]}"
		else
			failed=$((failed + 1))
			failures+=("fuzz ${names[$i]}: status $st (see ${logs[$i]})")
		fi
	else
		count_tap "${names[$i]}" "${logs[$i]}" "$st"
	fi
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
