#!/usr/bin/env bash
# Building and the package step: a plain `make` installs nothing (only run, check, soak,
# fuzz and bench call .ci/deps), and .ci/deps on a system without dpkg or apt-get succeeds
# when pkg-config finds every library the Makefile links, and names the missing ones when
# it does not.
# run.sh: alone (make in the tree may relink the binary other tests run)
set -u
. "$TESTS/integration/lib.sh"
cd "$ROOT" || exit 1
mode=$(basename "$(dirname "$NATTER")")

# A PATH holding only what .ci/deps may use, without apt-get and dpkg-query.
bin=$LIB_TMP/bin
mkdir -p "$bin"
for c in sh dirname sed pkg-config cat; do
	p=$(command -v "$c") && ln -s "$p" "$bin/$c"
done

out=$(PATH=$bin .ci/deps 2>&1); st=$?
tap_eq "no apt-get, pkg-config finds every library: .ci/deps succeeds" 0 "$st"
case $out in *apt-get\ install*|*installing*) tap_fail "no apt-get: nothing is installed" "$out" ;;
	*) tap_ok "no apt-get: nothing is installed" ;; esac

# A pkg-config that finds everything but md4c.
cat >"$bin/fake-pkg-config" <<'S'
#!/bin/sh
for a in "$@"; do [ "$a" = md4c ] && exit 1; done
exec pkg-config "$@"
S
chmod +x "$bin/fake-pkg-config"
out=$(PATH=$bin PKG_CONFIG=fake-pkg-config .ci/deps 2>&1); st=$?
tap_eq "no apt-get, a library missing: .ci/deps fails" 1 "$st"
case $out in *"does not find: md4c"*) tap_ok "the missing library is named" ;;
	*) tap_fail "the missing library is named" "$out" ;; esac

# make -n prints every command it would run, recipes of prerequisites included.
out=$(make -n MODE="$mode" 2>&1)
case $out in *.ci/deps*) tap_fail "plain make does not run .ci/deps" "$(echo "$out" | grep -n ci/deps)" ;;
	*) tap_ok "plain make does not run .ci/deps" ;; esac
out=$(make -n MODE="$mode" lib 2>&1)
case $out in *.ci/deps*) tap_fail "make lib does not run .ci/deps" ;; *) tap_ok "make lib does not run .ci/deps" ;; esac
for t in run check; do
	out=$(make -n MODE="$mode" "$t" 2>&1 | head -n 3)
	case $out in *.ci/deps*) tap_ok "make $t runs .ci/deps first" ;;
		*) tap_fail "make $t runs .ci/deps first" "$out" ;; esac
done
