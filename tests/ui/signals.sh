#!/usr/bin/env bash
# Signals end the interface as a shell expects and leave the terminal as it was: SIGINT,
# SIGTERM, SIGHUP and SIGQUIT sent while a reply streams exit with 128 + the signal, with
# the alternate screen left, the cursor shown, keypad transmit, mouse and bracketed paste
# off, and the partial reply stored (as cancelled). After SIGSEGV or SIGABRT the crash
# handler does the same for the terminal (keypad transmit mode included) before natter dies.
set -u
. "$TESTS/ui/lib-ui.bash"

isolated_home
unset NATTER_MODEL NATTER_PROVIDER NATTER_DB
fs_start || exit 0
export OPENAI_API_KEY=sk-test-ui-signals
mkdir -p "$XDG_CONFIG_HOME/natter"
printf 'providers:\n  openai:\n    base_url: %s/v1\n' "$FS_URL" >"$XDG_CONFIG_HOME/natter/natter.yaml"

# restored NAME: one TAP line per terminal mode natter must have put back.
restored() {
	local f
	for f in alternate_on:0 cursor_flag:1 keypad_cursor_flag:0 keypad_flag:0 \
		mouse_standard_flag:0 mouse_button_flag:0 mouse_sgr_flag:0; do
		tap_eq "$1: #{${f%%:*}} is ${f#*:} afterwards" "${f#*:}" "$(ui_fmt "#{${f%%:*}}")"
	done
}

# running NAME: the modes natter turns on are on while it runs (so restoring them means
# something).
running() {
	tap_eq "$1: keypad transmit is on while natter runs" 1/1 \
		"$(ui_fmt '#{keypad_cursor_flag}/#{keypad_flag}')"
	tap_eq "$1: the alternate screen is on while natter runs" 1 "$(ui_fmt '#{alternate_on}')"
}

n=0
for s in INT:2 TERM:15 HUP:1 QUIT:3; do
	sig=${s%%:*}
	num=${s#*:}
	n=$((n + 1))
	ui_start 100 30 -m openai/fake-model
	running "SIG$sig"
	ui_type "sig$sig delay_ms=20 tokens=3000"
	ui_keys Enter
	ui_check "SIG$sig: the reply is streaming" ui_wait 'w5 '
	kill "-$sig" "$(ui_pid)"
	ui_check "SIG$sig: natter exits" ui_wait_dead
	tap_eq "SIG$sig: exit status 128+$num" $((128 + num)) "$(ui_exit_status)"
	restored "SIG$sig"
	show=$("$NATTER" sessions show "$n" 2>&1)
	case $show in *"w1 w2 w3 w4 w5"*) tap_ok "SIG$sig: the partial reply was stored" ;;
		*) tap_fail "SIG$sig: the partial reply was stored" "$show" ;; esac
	case $show in *w3000*) tap_fail "SIG$sig: the stream really stopped" "$show" ;;
		*) tap_ok "SIG$sig: the stream really stopped" ;; esac
done

for sig in SEGV ABRT; do
	ui_start 100 30 -m openai/fake-model
	running "SIG$sig"
	kill "-$sig" "$(ui_pid)"
	ui_check "SIG$sig: natter dies" ui_wait_dead
	tap_check "SIG$sig: the exit status is not 0" test "$(ui_exit_status)" != 0
	restored "SIG$sig"
done
