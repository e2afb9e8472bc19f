#!/usr/bin/env bash
# tmux tests of /transcribe FILE in the interface, against the fake server: the transcript
# lands in the input and nothing is sent until Enter (the server sees the upload and no
# chat request), Enter then sends it as typed text, and a bad file or a missing model is a
# note, with no request. (The transcript is sanitized like any provider text; a file name
# that could carry an escape into it cannot be typed into the input, so
# tests/integration/transcribe.sh checks that path.)
set -u
. "$TESTS/ui/lib-ui.bash"

isolated_home
unset NATTER_MODEL NATTER_PROVIDER
KEY=sk-natter-UI-TRANSCRIBE-4471
LOG=$LIB_TMP/fs.log
fs_start --key "$KEY" --log "$LOG" || exit 0
export OPENAI_API_KEY=$KEY OPENAI_BASE_URL=$FS_URL/v1 NATTER_DB=$LIB_TMP/ui.db
printf 'RIFF\044\000\000\000WAVEfmt \020\000\000\000\001\000\001\000speech' >"$LIB_TMP/a.wav"
requests() { awk -F '\t' -v p="$1" '$2 ~ p' "$LOG" | wc -l | tr -d ' '; }

ui_start 110 30
ui_type "/transcribe $LIB_TMP/a.wav"
ui_keys Enter
if ui_wait "fakeserver heard a.wav: 30 bytes of audio/wav" 15; then
	tap_ok "/transcribe puts the transcript into the input"
else
	tap_fail "/transcribe puts the transcript into the input" "$(ui_screen)"
fi
if ui_wait "transcribed .*a.wav into the input" 5; then
	tap_ok "the status line says where the text went"
else
	tap_fail "the status line says where the text went" "$(ui_screen)"
fi
sleep 0.5
tap_eq "one upload to /v1/audio/transcriptions, whisper-1" '"whisper-1"' \
	"$(awk -F '\t' '$2 == "/v1/audio/transcriptions" { print $4 }' "$LOG" | jq -c '.multipart[0].value')"
tap_eq "nothing was sent as a message by itself" 0 "$(requests /chat/completions)"
ui_keys Enter
if ui_wait "This is fakeserver answering" 15; then
	tap_ok "Enter sends the transcript as the message"
else
	tap_fail "Enter sends the transcript as the message" "$(ui_screen)"
fi
tap_eq "the message is the transcript" "fakeserver heard a.wav: 30 bytes of audio/wav," \
	"$(awk -F '\t' '$2 ~ /chat\/completions/ { print $4 }' "$LOG" | tail -n 1 |
		jq -r '[.messages[] | select(.role == "user")][-1].content' | cut -d ' ' -f 1-7)"

n=$(requests /audio/)
ui_type "/transcribe $LIB_TMP/missing.wav"
ui_keys Enter
if ui_wait "missing.wav: No such file or directory" 10; then
	tap_ok "a missing file is a note"
else
	tap_fail "a missing file is a note" "$(ui_screen)"
fi
tap_eq "and nothing was uploaded" "$n" "$(requests /audio/)"

ui_keys C-u
ui_keys C-q
ui_wait_dead 10
tap_eq "natter exits 0" "0" "$(ui_exit_status)"

# No transcription model: the note says which keys would offer one.
unset OPENAI_API_KEY
ui_start 110 30
ui_type "/transcribe $LIB_TMP/a.wav"
ui_keys Enter
if ui_wait "no transcription model is usable" 10; then
	tap_ok "without a usable transcription model, a note says why"
else
	tap_fail "without a usable transcription model, a note says why" "$(ui_screen)"
fi
ui_keys C-q
ui_wait_dead 10
