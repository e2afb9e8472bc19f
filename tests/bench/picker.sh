#!/bin/sh
# Cost of one key typed in a filter over 10,000 session titles (the session list's / and
# every picker): the fuzzy matcher and list update, plus the highlights of a screen's rows,
# as a median per key over several queries typed and erased one key at a time, next to a
# plain substring filter over the same titles in the same run. Target: a median of at most
# 5 ms per key. Prints figures; it does not pass or fail on them.
#   sh tests/bench/picker.sh [BUILD_DIR]        # BENCH_TITLES=N for another count
set -eu
cd "$(dirname "$0")/../.."
dir=$(mktemp -d /tmp/natter-bench-picker.XXXXXX)
trap 'rm -rf "$dir"' EXIT INT TERM
# Built from the sources with the release flags, whatever BUILD_DIR holds.
if cc -std=c11 -D_GNU_SOURCE -O2 -Isrc -Iui -o "$dir/bench_picker" tests/bench/bench_picker.c \
    ui/fuzzy.c src/xmalloc.c src/log.c src/secret.c src/buf.c \
    $(pkg-config --cflags --libs libutf8proc) 2>"$dir/cc.log"; then
	"$dir/bench_picker" "${BENCH_TITLES:-10000}"
else
	echo "bench_picker: build failed:"; cat "$dir/cc.log"
	exit 1
fi
