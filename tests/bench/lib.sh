# What the benchmark scripts share (sourced, POSIX sh): a temporary directory removed at
# exit, the release fake server started on a free port, and hyperfine's medians.
#   . tests/bench/lib.sh; bench_start NAME FAKESERVER KEY   -> TMP, FS_PID, PORT, URL

# bench_start NAME FS KEY: make $TMP, start fake server FS accepting KEY, set PORT and
# URL (http://127.0.0.1:PORT); exits saying so when it does not start.
bench_start() {
	TMP=$(mktemp -d "${TMPDIR:-/tmp}/natter-bench.XXXXXX")
	FS_PID=
	trap bench_cleanup EXIT INT TERM
	"$2" --key "$3" --max-seconds 900 >"$TMP/fs.out" 2>"$TMP/fs.err" &
	FS_PID=$!
	PORT=
	_i=0
	while [ $_i -lt 200 ] && [ -z "$PORT" ]; do
		PORT=$(awk '$1 == "PORT" { print $2; exit }' "$TMP/fs.out")
		[ -n "$PORT" ] || sleep 0.05
		_i=$((_i + 1))
	done
	[ -n "$PORT" ] || { echo "$1: fakeserver did not start" >&2; exit 1; }
	URL=http://127.0.0.1:$PORT
}

# bench_cleanup: stop the fake server and remove $TMP.
bench_cleanup() {
	[ -n "${FS_PID:-}" ] && kill "$FS_PID" 2>/dev/null
	rm -rf "$TMP"
}

# bench_median FILE N: the median (seconds) of the N-th command in a hyperfine JSON export.
bench_median() {
	grep -o '"median": *[0-9.e+-]*' "$1" | sed -n "${2}p" | sed 's/.*: *//'
}
