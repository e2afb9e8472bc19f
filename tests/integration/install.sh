#!/usr/bin/env bash
# make install / make uninstall into a DESTDIR: the binary, the man pages, the shipped data
# and libnatter (archive, shared object, header, pkg-config file) land under PREFIX, a
# program built with `pkg-config natter` against them runs, and uninstall removes them.
# run.sh: alone (make in the tree may relink the binary other tests run)
set -u
cd "$ROOT" || exit 1
n=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
bad() { n=$((n + 1)); echo "not ok $n - $1"; [ $# -gt 1 ] && printf '#   %s\n' "$2"; }
dest=$(mktemp -d)
trap 'rm -rf "$dest"' EXIT
mode=$(basename "$(dirname "$NATTER")")

if make --no-print-directory -s MODE="$mode" install DESTDIR="$dest" PREFIX=/opt/natter >"$dest/log" 2>&1; then
	ok "make install succeeds"
else
	bad "make install succeeds" "$(tail -n 5 "$dest/log")"
fi
if [ -x "$dest/opt/natter/bin/natter" ] && "$dest/opt/natter/bin/natter" --version | grep -q '^natter '; then
	ok "installed binary runs"
else
	bad "installed binary runs"
fi
if [ -f "$dest/opt/natter/share/man/man1/natter.1" ]; then ok "natter.1 installed"; else bad "natter.1 installed"; fi
if [ ! -f man/natter.yaml.5 ] || [ -f "$dest/opt/natter/share/man/man5/natter.yaml.5" ]; then
	ok "natter.yaml.5 installed when present"
else
	bad "natter.yaml.5 installed when present"
fi
if [ -f "$dest/opt/natter/share/natter/templates.yaml" ]; then
	ok "every shipped config file is installed (templates.yaml too)"
else
	bad "every shipped config file is installed (templates.yaml too)"
fi
for f in share/man/man3/natter.3 include/natter.h lib/libnatter.a lib/libnatter.so.1 lib/pkgconfig/natter.pc; do
	if [ -e "$dest/opt/natter/$f" ]; then ok "$f installed"; else bad "$f installed"; fi
done
san=
[ "$mode" = asan ] && san="-fsanitize=address,undefined"
export PKG_CONFIG_PATH="$dest/opt/natter/lib/pkgconfig" PKG_CONFIG_SYSROOT_DIR="$dest"
# shellcheck disable=SC2046,SC2086
if cc -std=c11 $san examples/stream.c $(pkg-config --cflags --libs natter) -o "$dest/stream" 2>"$dest/cc.log" &&
	NATTER_CONFIG=/dev/null NATTER_DB="$dest/lib.db" LD_LIBRARY_PATH="$dest/opt/natter/lib" \
		"$dest/stream" -m simulated "tokens=4 hi" >"$dest/out" 2>/dev/null &&
	[ "$(wc -w <"$dest/out")" -eq 4 ]; then
	ok "a program built with pkg-config natter against the installed library streams a reply"
else
	bad "a program built with pkg-config natter against the installed library streams a reply" "$(cat "$dest/cc.log" "$dest/out" 2>/dev/null | head -n 5)"
fi
unset PKG_CONFIG_PATH PKG_CONFIG_SYSROOT_DIR
make --no-print-directory -s MODE="$mode" uninstall DESTDIR="$dest" PREFIX=/opt/natter >"$dest/log2" 2>&1
left=$(find "$dest/opt" -type f 2>/dev/null | head -n 5)
if [ -z "$left" ]; then ok "make uninstall removes every installed file"; else bad "make uninstall removes every installed file" "$left"; fi
