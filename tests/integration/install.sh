#!/usr/bin/env bash
# make install / make uninstall into a DESTDIR: the binary, both man pages and the shipped
# data land under PREFIX, and uninstall removes them again.
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
make --no-print-directory -s MODE="$mode" uninstall DESTDIR="$dest" PREFIX=/opt/natter >"$dest/log2" 2>&1
left=$(find "$dest/opt" -type f 2>/dev/null | head -n 5)
if [ -z "$left" ]; then ok "make uninstall removes every installed file"; else bad "make uninstall removes every installed file" "$left"; fi
