#!/bin/sh
# Search at scale (issue 16), figures not pass/fail, run by `make bench` as
#   sh tests/bench/search.sh build/release
# Over the shared large store (tests/bench/big-store: 1,000,000 messages of ~350 bytes):
# for words matching every message, 871,355 or 10 of them, phrases (one in every message,
# and one of two words in every message that never stand in that order, so that the walk
# must read every message's positions to find no hit), NOT (of a word in every message:
# no hits, every message read; and of a rare word), and prefixes of every
# length (1 character and more than 3 have no FTS5 prefix index: t*, k*, topi*, topic*, and
# topic4*, topic42*, whose hits lie in blocks far back in the history, so that the checks
# of the loosened query give way to the query itself), the medians of the first page of
# hits newest first (target <= 100 ms), the next page and a page from the middle (keyset),
# the ranked page (target <= 100 ms) and the count of all hits, which comes after the page
# (bench_search, in process); next to it, in the same run, the same first-page query
# straight through the sqlite3 CLI as the reference; then whole `natter sessions search`
# commands, process start included: when the page reaches the pipe, and when the command
# ends, after the count.
set -eu
cd "$(dirname "$0")/../.."
build=${1:-build/release}
db=$(sh tests/bench/big-store "$build")
[ -x "$build/bench_search" ] || make --no-print-directory -s MODE="$(basename "$build")" \
    "$build/bench_search"
set -- lorem '"lorem ipsum"' '"lorem ipsu"*' 'lor*' 'lorem*' 'ka*' 'k*' 't*' 'kalo*' 'topi*' \
    'topic*' 'topic4*' 'topic42*' 'topic4242*' topic4242 'topic4242 lorem' 'kalo* OR topi*' \
    '"ipsum lorem"' 'lorem NOT ipsum' 'lorem NOT topic4242'
"$build/bench_search" "$db" 500000 "$@"

# The reference: the first page's query alone in the sqlite3 CLI (median of 5 runs).
median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
for q in "$@"; do
	sq=$(printf '%s' "$q" | sed "s/'/''/g")
	ms=$(for i in 1 2 3 4 5; do
		printf '.timer on\nSELECT count(*) FROM (SELECT rowid FROM messages_fts WHERE messages_fts MATCH '"'%s'"' ORDER BY rowid DESC LIMIT 21);\n' "$sq" |
		    sqlite3 -readonly "$db" | awk '/Run Time/ { print $4 * 1000 }'
	done | median)
	printf '%-16s sqlite3 CLI first page %8.2f ms (reference)\n' "$q" "$ms"
done

# Whole commands: start, open, first page, and (when more follow) the count on stderr. The
# page is flushed before the count: the time its first line reaches the pipe, and the time
# the command ends.
for q in lorem 'lor*' 'k*' 'topi*' 'topic4*' topic4242 '"ipsum lorem"' 'lorem NOT ipsum' \
    '--rank lorem*' '--rank topi*'; do
	for _ in 1 2 3 4 5; do
		a=$(date +%s%N)
		# shellcheck disable=SC2086
		p=$(NATTER_DB="$db" "$build/natter" sessions search $q 2>/dev/null |
		    { IFS= read -r _ || :; date +%s%N; cat >/dev/null; })
		b=$(date +%s%N)
		echo "$(( (p - a) / 1000 )) $(( (b - a) / 1000 ))"
	done >"$db.times"
	page=$(cut -d' ' -f1 "$db.times" | median)
	all=$(cut -d' ' -f2 "$db.times" | median)
	rm -f "$db.times"
	echo "natter sessions search $q: first page on stdout after $page us (target 100 ms), the command $all us (the count after the page)"
done
