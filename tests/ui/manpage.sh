#!/usr/bin/env bash
# The KEYS section of man/natter.1 must be exactly what `natter keys --man` generates from the
# key table, so the manual and the program never disagree. Regenerate with
#   tests/ui/manpage.sh --fix
set -u
cd "$ROOT" || exit 1
gen=$("$NATTER" keys --man)
cur=$(sed -n '/^\.\\" KEYS BEGIN/,/^\.\\" KEYS END/p' man/natter.1 | sed '1d;$d')
if [ "${1:-}" = "--fix" ]; then
	tmp=$(mktemp)
	awk -v gen="$gen" '/^\.\\" KEYS BEGIN/ { print; print gen; skip = 1; next }
		/^\.\\" KEYS END/ { skip = 0 } !skip' man/natter.1 >"$tmp" && mv "$tmp" man/natter.1
	exit 0
fi
if [ -n "$gen" ] && [ "$gen" = "$cur" ]; then
	echo "ok 1 - man/natter.1 KEYS section matches natter keys --man"
else
	echo "not ok 1 - man/natter.1 KEYS section matches natter keys --man (run tests/ui/manpage.sh --fix)"
	diff <(printf '%s\n' "$cur") <(printf '%s\n' "$gen") | head -n 20 | sed 's/^/#   /'
fi
if "$NATTER" keys | grep -q '^input  *Enter  *send '; then
	echo "ok 2 - natter keys prints the table with context, key, action and help"
else
	echo "not ok 2 - natter keys prints the table with context, key, action and help"
fi
n=$("$NATTER" keys | tail -n +2 | wc -l)
m=$(sed -n '/^\.\\" KEYS BEGIN/,/^\.\\" KEYS END/p' man/natter.1 | grep -c '^\.TP')
if [ "$n" -eq "$m" ]; then
	echo "ok 3 - every binding of the table has a man page entry ($n)"
else
	echo "not ok 3 - every binding of the table has a man page entry (table $n, man $m)"
fi
