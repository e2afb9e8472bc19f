#!/usr/bin/env bash
# kill -9 at random moments, over and over: the real interface in tmux streams replies
# from the fake server into one database and is killed at a random moment (while starting,
# before the first token, the moment it shows, mid-reply); then the database must open (`natter sessions`, which
# also recovers the killed reply), pass SQLite's and the search index's integrity checks,
# keep every message that was committed before the kill exactly as it was, and hold a
# non-empty reply whenever its first token had reached the screen. Every other round goes
# on in the session the last one left. SOAK_N rounds (default 5; `make soak` runs 100);
# SOAK_SEED repeats a run. Prints TAP lines: one per check, summed over the rounds.
set -u
. "$TESTS/ui/lib-ui.bash"

if ! command -v tmux >/dev/null 2>&1 || ! command -v sqlite3 >/dev/null 2>&1; then
	tap_skip "kill -9 loop" "needs tmux and sqlite3"
	exit 0
fi

isolated_home
fs_start || exit 0
export OPENAI_API_KEY=sk-test-kill9
mkdir -p "$XDG_CONFIG_HOME/natter"
printf 'providers:\n  openai:\n    base_url: %s/v1\n' "$FS_URL" >"$XDG_CONFIG_HOME/natter/natter.yaml"
export NATTER_DB="$LIB_TMP/db/natter.db"
N=${SOAK_N:-5}
SEED=${SOAK_SEED:-$$}
RANDOM=$SEED
echo "# $N rounds, SOAK_SEED=$SEED"

# q SQL: one query on the database, waiting for locks.
q() { sqlite3 -cmd '.timeout 5000' "$NATTER_DB" "$1"; }

# committed: every finished message as one line (id, session, role, state, content).
committed() {
	q "SELECT id || '|' || session_id || '|' || role || '|' || state || '|' || hex(content)
		FROM messages WHERE state <> 'streaming' ORDER BY id"
}

opens=0 integrity=0 kept=0 firsts=0 firsts_seen=0 recovered=0
problems=""
for r in $(seq 1 "$N"); do
	before="$LIB_TMP/before" after="$LIB_TMP/after"
	if [ -f "$NATTER_DB" ]; then committed >"$before"; else : >"$before"; fi
	if ! ui_start 100 30 -m openai/fake-model; then
		problems+="round $r: natter did not start"$'\n'
		continue
	fi
	# Each five rounds: a random moment in a new session, the moment the first token
	# shows, while it starts, a random moment in the last session, a random moment.
	fresh=1
	case $((r % 5)) in
	3)	# killed at once: while it opens (and creates or recovers) the database
		fresh=0
		;;
	*)	if [ $((r % 5)) -eq 4 ] && [ -s "$before" ]; then
			# go on in the newest session: BTab focuses the list, Enter opens it
			ui_wait 'kill round' 5
			ui_keys BTab
			ui_keys Enter
			ui_wait 'assistant' 5
			fresh=0
		fi
		ui_type "kill round $r delay_ms=3 tokens=400"
		ui_keys Enter
		if [ $((r % 5)) -eq 2 ]; then
			ui_wait '│w1\( \|$\)' 10
		else
			ms=$((RANDOM % 1300))
			sleep "$(printf '0.%03d' "$ms")"
		fi
		;;
	esac
	screen=$(ui_screen)
	pid=$(ui_pid)
	[ -n "$pid" ] && kill -9 "$pid"
	ui_wait_dead 10 || problems+="round $r: natter did not die"$'\n'
	# The database opens (and this natter marks the killed reply interrupted).
	if out=$("$NATTER" sessions 2>&1); then
		opens=$((opens + 1))
	else
		problems+="round $r: natter sessions failed: $out"$'\n'
	fi
	c=$(q "PRAGMA integrity_check" 2>&1)
	f=$(q "INSERT INTO messages_fts (messages_fts) VALUES ('integrity-check')" 2>&1)
	s=$(q "SELECT count(*) FROM sessions s LEFT JOIN (SELECT session_id, count(*) AS n
		FROM messages GROUP BY session_id) m ON m.session_id = s.id
		WHERE s.nmessages <> coalesce(m.n, 0)" 2>&1)
	if [ "$c" = ok ] && [ -z "$f" ] && [ "$s" = 0 ]; then
		integrity=$((integrity + 1))
	else
		problems+="round $r: integrity '$c', search index '$f', sums off in '$s' sessions"$'\n'
	fi
	committed >"$after"
	lost=$(comm -23 <(sort "$before") <(sort "$after"))
	if [ -z "$lost" ]; then
		kept=$((kept + 1))
	else
		problems+="round $r: committed messages changed or lost: $(head -c 300 <<<"$lost")"$'\n'
	fi
	left=$(q "SELECT count(*) FROM messages WHERE state = 'streaming'")
	if [ "$left" = 0 ]; then
		recovered=$((recovered + 1))
	else
		problems+="round $r: $left replies still marked streaming after reopening"$'\n'
	fi
	# A first token on screen was stored with it (fresh sessions only: an old one shows
	# older replies).
	if [ "$fresh" = 1 ] && grep -q '│w1\( \|$\)' <<<"$screen"; then
		firsts_seen=$((firsts_seen + 1))
		got=$(q "SELECT length(content) FROM messages WHERE role = 'assistant'
			AND id = (SELECT max(id) FROM messages)")
		if [ "${got:-0}" -gt 0 ]; then
			firsts=$((firsts + 1))
		else
			problems+="round $r: the reply was on screen but stored empty"$'\n'
		fi
	fi
done
tap_eq "the database opens after each of $N kills" "$N" "$opens"
tap_eq "it passes the integrity checks after each kill" "$N" "$integrity"
tap_eq "every message committed before a kill is kept as it was" "$N" "$kept"
tap_eq "no reply stays marked streaming once reopened" "$N" "$recovered"
tap_eq "a reply whose first token was on screen is stored non-empty ($firsts_seen seen)" \
	"$firsts_seen" "$firsts"
if [ -n "$problems" ]; then
	printf '%s' "$problems" | head -n 20 | sed 's/^/# /'
fi
echo "# $(q 'SELECT count(*) FROM messages') messages in $(q 'SELECT count(*) FROM sessions') sessions"
