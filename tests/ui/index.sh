#!/usr/bin/env bash
# tmux test of search indexing in the interface: a reply longer than one index part is
# indexed after the frame that shows its end (not before it, which cost that frame tens of
# milliseconds), while natter waits for the next key: the pending note is gone and the full
# text index finds the reply's last word without any search having asked for it.
set -u
. "$TESTS/ui/lib-ui.bash"

isolated_home
export NATTER_DB=$LIB_TMP/index.db NATTER_LOG=$LIB_TMP/natter.log
fs_start || exit 0
export OPENAI_API_KEY=sk-test-index
mkdir -p "$XDG_CONFIG_HOME/natter"
printf 'providers:\n  openai:\n    base_url: %s/v1\n' "$FS_URL" >"$XDG_CONFIG_HOME/natter/natter.yaml"
q() { sqlite3 -cmd '.timeout 5000' "$NATTER_DB" "$1"; }

ui_start 120 30 -m openai/fake
ui_type "long tokens=6000"
ui_wait '› long tokens=6000'
ui_keys Enter
ui_check "the long reply streams to its end" ui_wait 'w6000' 30
# The reply (some 40 KB) is over one index part (16 KiB), so it is indexed by natter, not
# by the triggers: wait for the pending note to go, with no key pressed.
i=0
while [ $i -lt 100 ] && [ "$(q 'SELECT count(*) FROM index_pending')" != 0 ]; do
	sleep 0.1
	i=$((i + 1))
done
ui_check "the reply is indexed once its end is on screen, without a key" \
	[ "$(q 'SELECT count(*) FROM index_pending')" = 0 ]
ui_check "the index finds its last word" \
	[ "$(q "SELECT count(*) FROM messages_fts WHERE messages_fts MATCH 'w6000'")" -ge 1 ]
ui_keys C-q
ui_wait_dead 10
ui_check "no sanitizer report" bash -c "! grep -qE 'Sanitizer|runtime error' '$LIB_TMP/natter-stderr' 2>/dev/null"
