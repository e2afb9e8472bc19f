# Helpers for tmux-driven UI tests of the real natter binary (sourced, bash).
# Every test runs natter in its own tmux server (-L) with an isolated HOME; waits poll
# capture-pane until a condition holds or a timeout passes, never a fixed sleep alone.
# shellcheck shell=bash

. "$TESTS/integration/lib.sh"

UI_SOCK="natter-ui-$$-0"
UI_N=0
UI_SOCKS=()
UI_TIMEOUT=${UI_TIMEOUT:-20}
export LC_ALL=C.UTF-8
UI_CONF="$LIB_TMP/tmux.conf"
printf 'set -g remain-on-exit on\nset -g set-clipboard on\nset -g status off\nset -g escape-time 10\n' >"$UI_CONF"

_ui_cleanup() {
	local s
	for s in "${UI_SOCKS[@]}"; do
		tmux -L "$s" kill-server 2>/dev/null
	done
}
lib_at_exit _ui_cleanup 2>/dev/null || trap _ui_cleanup EXIT

# ui_launch W H [ARGS...]: start natter in a fresh tmux server at W x H, without waiting
# for its first frame (its standard error goes to $LIB_TMP/natter-stderr).
ui_launch() {
	local w=$1 h=$2
	shift 2
	tmux -L "$UI_SOCK" kill-server 2>/dev/null
	UI_N=$((UI_N + 1))
	UI_SOCK="natter-ui-$$-$UI_N"
	UI_SOCKS+=("$UI_SOCK")
	tmux -L "$UI_SOCK" -f "$UI_CONF" new-session -d -x "$w" -y "$h" \
		"$NATTER $* 2>>$LIB_TMP/natter-stderr; echo NATTER-EXIT=\$?; exec sleep 600"
}

# ui_start W H [ARGS...]: start natter as ui_launch does and wait for its first frame.
ui_start() {
	ui_launch "$@"
	ui_wait 'Sessions\|Type a message\|› ' || return 1
}

# ui_screen: the visible pane, one line per row.
ui_screen() { tmux -L "$UI_SOCK" capture-pane -p 2>/dev/null; }

# ui_keys KEYS...: send keys (tmux key names).
ui_keys() { tmux -L "$UI_SOCK" send-keys "$@"; }

# ui_type TEXT: send literal text.
ui_type() { tmux -L "$UI_SOCK" send-keys -l -- "$1"; }

# ui_wait REGEX [SECONDS]: wait until the screen matches (grep basic regex).
ui_wait() {
	local t=${2:-$UI_TIMEOUT} end
	end=$(( $(date +%s%N) / 1000000 + t * 1000 ))
	while [ "$(( $(date +%s%N) / 1000000 ))" -lt "$end" ]; do
		ui_screen | grep -q -- "$1" && return 0
		sleep 0.05
	done
	return 1
}

# ui_wait_not REGEX [SECONDS]: wait until the screen no longer matches.
ui_wait_not() {
	local t=${2:-$UI_TIMEOUT} end
	end=$(( $(date +%s%N) / 1000000 + t * 1000 ))
	while [ "$(( $(date +%s%N) / 1000000 ))" -lt "$end" ]; do
		ui_screen | grep -q -- "$1" || return 0
		sleep 0.05
	done
	return 1
}

# ui_pid: the natter process of the pane (a child of the pane's shell).
ui_pid() { ps -o pid= --ppid "$(tmux -L "$UI_SOCK" display -p '#{pane_pid}')" | head -n 1 | tr -d ' '; }

# ui_fmt FORMAT: a tmux format for the pane (#{pane_dead}, #{alternate_on}, ...).
ui_fmt() { tmux -L "$UI_SOCK" display -p "$1"; }

# ui_wait_dead [SECONDS]: wait for natter to exit (the pane's shell then prints its status).
ui_wait_dead() { ui_wait 'NATTER-EXIT=' "$@"; }

# ui_exit_status: natter's exit status once it has exited.
ui_exit_status() { ui_screen | sed -n 's/^NATTER-EXIT=//p' | tail -n 1; }

# ui_cpu_ticks PID: utime + stime in clock ticks.
ui_cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }

# ui_check NAME COMMAND...: one TAP line from a command's status, with the screen on failure.
ui_check() {
	local name=$1
	shift
	if "$@"; then
		tap_ok "$name"
	else
		tap_fail "$name" "$(ui_screen | sed 's/^/#   /')"
	fi
}
