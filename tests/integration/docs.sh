#!/usr/bin/env bash
# Documentation checks: the man pages render without groff warnings, every subcommand that
# `natter --help` lists has its own entry in natter(1), and --version matches the man page.
set -u
cd "$ROOT" || exit 1
n=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
bad() { n=$((n + 1)); echo "not ok $n - $1"; [ $# -gt 1 ] && printf '#   %s\n' "$2"; }

for page in man/*.[1-8]; do
	[ -f "$page" ] || continue
	w=$(groff -man -ww -z "$page" 2>&1)
	if [ -z "$w" ]; then ok "$page renders without warnings"; else bad "$page renders without warnings" "$w"; fi
done

help=$("$NATTER" --help)
if [ $? -eq 0 ] && printf '%s\n' "$help" | grep -q '^usage: natter'; then
	ok "--help prints usage and exits 0"
else
	bad "--help prints usage and exits 0"
fi
cmds=$(printf '%s\n' "$help" | awk '/^Commands:/{f=1; next} /^$/{f=0} f && /^  [^ ]/ {print $1}')
for c in $cmds; do
	if grep -qE "^\.(SS|TP|B|IP).*\b$c\b" man/natter.1 || grep -qE "^\.B natter $c" man/natter.1; then
		ok "natter(1) documents '$c'"
	else
		bad "natter(1) documents '$c'"
	fi
done

opts=$(printf '%s\n' "$help" | awk '/^Options:/{f=1; next} /^$/{f=0} f && NF {print $1}' | tr -d ',')
for o in $opts; do
	# roff escapes the dashes: --theme is written \-\-theme.
	esc=$(printf '%s' "$o" | sed 's/-/\\\\-/g')
	if grep -q -- "$esc" man/natter.1; then
		ok "natter(1) documents the option '$o'"
	else
		bad "natter(1) documents the option '$o'"
	fi
done

ver=$("$NATTER" --version | awk '{print $2}')
if grep -q "natter $ver" man/natter.1; then ok "man page version matches --version ($ver)"; else bad "man page version matches --version ($ver)"; fi

"$NATTER" no-such-command >/dev/null 2>&1
st=$?
if [ "$st" -eq 2 ]; then ok "unknown command exits 2"; else bad "unknown command exits 2" "got $st"; fi
