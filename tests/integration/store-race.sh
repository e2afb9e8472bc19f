#!/usr/bin/env bash
# Eight `natter sessions` started at once on a database that does not exist yet, twenty
# times over (two interfaces started together race the same way): every one must exit 0,
# and the database must end at the latest schema version, in WAL mode, and pass its
# integrity check. Older schema versions racing are tested in tests/unit/test_store_race.c,
# which can build them. Prints TAP lines.
set -u
. "$TESTS/integration/lib.sh"

if ! command -v sqlite3 >/dev/null 2>&1; then
	tap_skip "eight natters create one database at once" "needs sqlite3"
	exit 0
fi
isolated_home
ROUNDS=${STORE_RACE_ROUNDS:-20}
PROCS=8
db="$LIB_TMP/race/natter.db"
failed=0
versions=""
checks=""
errors=""
latest=""
for r in $(seq 1 "$ROUNDS"); do
	rm -rf "$LIB_TMP/race"
	pids=()
	for i in $(seq 1 "$PROCS"); do
		NATTER_DB=$db "$NATTER" sessions >"$LIB_TMP/out.$i" 2>&1 &
		pids+=($!)
	done
	for i in $(seq 1 "$PROCS"); do
		if ! wait "${pids[$((i - 1))]}"; then
			failed=$((failed + 1))
			errors+="round $r: $(head -c 300 "$LIB_TMP/out.$i")"$'\n'
		fi
	done
	v=$(sqlite3 "$db" 'PRAGMA user_version')
	# The version every natter must reach is what one natter alone makes.
	if [ -z "$latest" ]; then
		NATTER_DB="$LIB_TMP/alone.db" "$NATTER" sessions >/dev/null 2>&1
		latest=$(sqlite3 "$LIB_TMP/alone.db" 'PRAGMA user_version')
	fi
	[ "$v" = "$latest" ] || versions+="round $r: user_version $v"$'\n'
	c=$(sqlite3 "$db" 'PRAGMA integrity_check; PRAGMA journal_mode' | tr '\n' ' ')
	[ "$c" = "ok wal " ] || checks+="round $r: $c"$'\n'
done
tap_eq "every one of $((ROUNDS * PROCS)) concurrent opens exits 0" 0 "$failed"
[ -n "$errors" ] && printf '%s' "$errors" | head -n 10 | sed 's/^/#   /'
tap_eq "each database ends at the latest schema version ($latest)" "" "$versions"
tap_eq "each database passes its integrity check and is in WAL mode" "" "$checks"
tap_check "the latest version is a real one" test "${latest:-0}" -ge 4
