#!/usr/bin/env bash
# Integration tests for `natter transcribe`: the real binary against the fake server, whose
# log records each upload as its parts (fields, and the file's name, type, size and
# SHA-256). Checked: the exact request of each protocol (Groq and OpenAI multipart at
# /audio/transcriptions and /audio/translations: model, file, language, response_format,
# timestamp_granularities[]; Gemini's generateContent with inline_data), every output
# format, -o, sanitizing and --raw, the model of each kind through the resolver, a 429
# retried, a 401 as a typed message with its hint, bad files refused before anything is
# sent, and the key never showing in any output or the log.
set -u
. "$TESTS/integration/lib.sh"

isolated_home
unset NATTER_MODEL NATTER_PROVIDER NATTER_MAX_RETRIES
KEY=sk-natter-TRANSCRIBE-50317
export OPENAI_API_KEY=$KEY GROQ_API_KEY=$KEY GEMINI_API_KEY=$KEY
LOG=$LIB_TMP/fs.log
fs_start --key "$KEY" --log "$LOG" || exit 0
OUT=$LIB_TMP/out
ERR=$LIB_TMP/err
ALL=$LIB_TMP/all
: >"$ALL"
cd "$LIB_TMP" || exit 1

# tr ARGS...: run natter transcribe; stdout in $OUT, stderr in $ERR, status in $RC.
tr_run() {
	"$NATTER" transcribe "$@" >"$OUT" 2>"$ERR" </dev/null
	RC=$?
	cat "$OUT" "$ERR" >>"$ALL"
}

# expect DESC COND...: ok when the shell condition holds; shows outputs otherwise.
expect() {
	local d=$1
	shift
	if "$@"; then
		tap_ok "$d"
	else
		tap_fail "$d" "rc=$RC" "stdout: $(head -c 600 "$OUT")" "stderr: $(head -c 600 "$ERR")" \
			"last request: $(tail -n 1 "$LOG" | cut -c 1-600)"
	fi
}

# last FIELD: the log's last request: 1 method, 2 target, 3 header names, 4 body.
last() { tail -n 1 "$LOG" | cut -f "$1"; }
# form JQ: jq over the last request's multipart parts.
form() { last 4 | jq -c "$1"; }
# requests: how many requests the log holds.
requests() { wc -l <"$LOG" | tr -d ' '; }

# wav FILE [TEXT]: a small WAV file whose data is TEXT (magic words for the server).
wav() {
	printf 'RIFF\044\000\000\000WAVEfmt \020\000\000\000\001\000\001\000%s' "${2:-speech}" >"$1"
}
wav a.wav
SIZE=$(wc -c <a.wav | tr -d ' ')
SHA=$(sha256sum a.wav | cut -c 1-64)
HEARD="fakeserver heard a.wav: $SIZE bytes of audio/wav, sha256 ${SHA:0:12}."
GROQ=$FS_URL/openai/v1

# ---- Groq: the default model, the exact form ------------------------------------------------
tr_run -p groq --base-url "$GROQ" a.wav
expect "groq: exit 0, the transcript on stdout" test "$RC" -eq 0 -a "$(cat "$OUT")" = "$HEARD"
expect "groq: POST /openai/v1/audio/transcriptions" \
	test "$(last 1) $(last 2)" = "POST /openai/v1/audio/transcriptions"
expect "groq: the fields are model, file, response_format (no language)" \
	test "$(form '[.multipart[].name]')" = '["model","file","response_format"]'
expect "groq: model is whisper-large-v3-turbo, response_format text" \
	test "$(form '[.multipart[0].value, .multipart[2].value]')" = '["whisper-large-v3-turbo","text"]'
expect "groq: the file part arrived whole (name, type, size, sha256)" \
	test "$(form '.multipart[1] | [.filename, .type, .size, .sha256]')" = \
	"[\"a.wav\",\"audio/wav\",$SIZE,\"$SHA\"]"
expect "groq: multipart Content-Type and the Bearer header were sent" \
	bash -c "tail -n 1 '$LOG' | cut -f 3 | grep -q 'Authorization' && tail -n 1 '$LOG' | cut -f 3 | grep -q 'Content-Type'"

n=$(requests)
tr_run --base-url "$GROQ" a.wav
expect "no -m: the first usable transcription model (groq whisper-large-v3-turbo)" \
	test "$RC" -eq 0 -a "$(form '.multipart[0].value')" = '"whisper-large-v3-turbo"' \
	-a "$(requests)" -eq $((n + 1))

tr_run -m whisper --base-url "$GROQ" a.wav
expect "-m whisper: the alias of Groq's model" test "$RC" -eq 0 -a "$(cat "$OUT")" = "$HEARD"

# ---- OpenAI: language, timestamps, formats, translation --------------------------------------
tr_run -m whisper-1 --base-url "$FS_URL/v1" --language de --format verbose_json \
	--timestamps word --timestamps segment a.wav
expect "openai: whisper-1 with language, verbose_json and both granularities" \
	test "$RC" -eq 0 -a "$(form '[.multipart[] | [.name, .value] | join("=")]')" = \
	'["model=whisper-1","file=","language=de","response_format=verbose_json","timestamp_granularities[]=word","timestamp_granularities[]=segment"]'
expect "openai: verbose_json has words and segments" \
	test "$(jq -c '[.task, .language, (.words | length > 3), (.segments | length)]' "$OUT")" = \
	'["transcribe","de",true,2]'

tr_run -m whisper-1 --base-url "$FS_URL/v1" --timestamps word,segment a.wav
expect "--timestamps alone picks verbose_json" \
	test "$RC" -eq 0 -a "$(form '[.multipart[] | select(.name == "response_format") | .value][0]')" = '"verbose_json"'

tr_run -m whisper-1 --base-url "$FS_URL/v1" --format srt a.wav
expect "--format srt: numbered cues with comma times" \
	test "$RC" -eq 0 -a "$(head -n 2 "$OUT" | tr '\n' '|')" = "1|00:00:00,000 --> 00:00:01,500|"
tr_run -m whisper-1 --base-url "$FS_URL/v1" --format vtt a.wav
expect "--format vtt: WEBVTT and dot times" \
	test "$RC" -eq 0 -a "$(head -n 3 "$OUT" | tr '\n' '|')" = "WEBVTT||00:00:00.000 --> 00:00:01.500|"
tr_run -m gpt-4o-transcribe --base-url "$FS_URL/v1" --format json a.wav
expect "--format json with gpt-4o-transcribe: {\"text\": ...}" \
	test "$RC" -eq 0 -a "$(jq -r .text "$OUT")" = "$HEARD" \
	-a "$(form '.multipart[0].value')" = '"gpt-4o-transcribe"'

tr_run -m whisper-1 --base-url "$FS_URL/v1" --translate a.wav
expect "--translate: POST /v1/audio/translations without language" \
	test "$RC" -eq 0 -a "$(last 2)" = "/v1/audio/translations" \
	-a "$(form '[.multipart[].name]')" = '["model","file","response_format"]'
expect "--translate: the fake's English translation" grep -q "translated into English" "$OUT"

tr_run -m whisper-1 --base-url "$FS_URL/v1" -o "$LIB_TMP/t.txt" a.wav
expect "-o FILE: the text in the file, nothing on stdout" \
	test "$RC" -eq 0 -a ! -s "$OUT" -a "$(cat "$LIB_TMP/t.txt")" = "$HEARD"

cp a.wav noext
tr_run -m whisper-1 --base-url "$FS_URL/v1" noext
expect "a file without an extension goes as NAME.wav (its signature decides)" \
	test "$RC" -eq 0 -a "$(form '.multipart[1].filename')" = '"noext.wav"'

# Provider text is made terminal-safe; --raw passes it as it came.
ESCNAME=$'e\033[31m.wav'
cp a.wav "$ESCNAME"
tr_run -m whisper-1 --base-url "$FS_URL/v1" "$ESCNAME"
expect "an escape in the transcript does not reach the terminal" \
	bash -c "test $RC -eq 0 && ! grep -q $'\033' '$OUT' && grep -q 'e.\[31m' '$OUT'"
tr_run -m whisper-1 --base-url "$FS_URL/v1" --raw "$ESCNAME"
expect "--raw keeps the provider's bytes" grep -q $'\033' "$OUT"

# ---- Gemini: inline audio to generateContent --------------------------------------------------
tr_run -m gemini/gemini-2.5-flash --base-url "$FS_URL/v1beta" --language fr a.wav
expect "gemini: the transcript from generateContent" \
	test "$RC" -eq 0 -a "$(cat "$OUT")" = \
	"fakeserver heard inline audio: $SIZE bytes of audio/wav, sha256 ${SHA:0:12}, spoken in fr."
expect "gemini: POST /v1beta/models/gemini-2.5-flash:generateContent with x-goog-api-key" \
	bash -c "test '$(last 2)' = /v1beta/models/gemini-2.5-flash:generateContent && tail -n 1 '$LOG' | cut -f 3 | grep -q x-goog-api-key"
expect "gemini: inline_data carries the file in base64 as audio/wav" \
	test "$(last 4 | jq -r '.contents[0].parts[1].inline_data | .mime_type + " " + .data')" = \
	"audio/wav $(base64 -w0 a.wav)"
expect "gemini: the prompt asks for a transcript in the language given" \
	bash -c "last() { tail -n 1 '$LOG' | cut -f 4; }; last | jq -r '.contents[0].parts[0].text' | grep -q '^Transcribe the speech.*code fr\.$'"
tr_run -m flash --base-url "$FS_URL/v1beta" --format json --translate a.wav
expect "gemini: a configured chat model transcribes; json and --translate" \
	test "$RC" -eq 0 -a "$(jq -r .text "$OUT" | grep -c 'translated into English')" = 1
tr_run -m flash --base-url "$FS_URL/v1beta" --format srt a.wav
expect "gemini: srt is refused before sending, exit 2" \
	bash -c "test $RC -eq 2 && grep -q 'transcribes to text or json only' '$ERR'"

# ---- Errors ---------------------------------------------------------------------------------
wav limited.wav "status=429 fail_times=1 id=tr-429 retry_after=0.1"
n=$(requests)
tr_run -m whisper-1 --base-url "$FS_URL/v1" limited.wav
expect "429 once: retried after the server's wait, then the transcript" \
	bash -c "test $RC -eq 0 && grep -q 'rate limit (429)' '$ERR' && grep -q 'retrying in' '$ERR' && test $(requests) -eq $((n + 2))"

wav always.wav "status=429 retry_after=0.05"
n=$(requests)
tr_run -m whisper-1 --base-url "$FS_URL/v1" always.wav
expect "429 every time: three attempts, then the typed error, exit 1" \
	bash -c "test $RC -eq 1 && grep -q 'natter: openai: rate limit (429)' '$ERR' && test $(requests) -eq $((n + 3))"

n=$(requests)
OPENAI_API_KEY=sk-wrong-key-123 tr_run -m whisper-1 --base-url "$FS_URL/v1" a.wav
expect "401: the typed message and the key to set, one attempt, exit 1" \
	bash -c "test $RC -eq 1 && grep -q 'natter: openai: auth (401): Incorrect API key' '$ERR' && grep -q 'set OPENAI_API_KEY to a valid key for openai' '$ERR' && test $(requests) -eq $((n + 1))"

wav server.wav "status=500"
tr_run -m whisper-1 --base-url "$FS_URL/v1" server.wav
expect "500: retried and reported as a server error" \
	bash -c "test $RC -eq 1 && grep -q 'server (500)' '$ERR' && test \$(grep -c retrying '$ERR') -eq 2"

n=$(requests)
printf 'just some words\n' >words.mp3
mkdir -p adir
: >empty.wav
printf 'FORM\000\000\000\020AIFFCOMM' >a.aiff
for bad in "missing.wav:No such file or directory" "words.mp3:not audio natter knows" \
	"empty.wav:the file is empty" "adir:not a regular file" \
	"a.aiff:aiff audio, which groq does not take"; do
	tr_run -p groq --base-url "$GROQ" "${bad%%:*}"
	expect "bad file ${bad%%:*}: exit 2, '${bad#*:}'" \
		bash -c "test $RC -eq 2 && grep -q '${bad#*:}' '$ERR'"
done
tr_run -p groq --base-url "$GROQ" --timestamps word --format json a.wav
expect "--timestamps with --format json is refused" \
	bash -c "test $RC -eq 2 && grep -q 'needs --format verbose_json' '$ERR'"
tr_run -m whisper-1 --translate --language de a.wav
expect "--translate with --language is refused" test "$RC" -eq 2
tr_run -m text-embedding-3-small a.wav
expect "an embedding model is refused by kind, exit 2" \
	bash -c "test $RC -eq 2 && grep -q 'text-embedding-3-small is an embedding model' '$ERR'"
OLLAMA_HOST=$FS_URL tr_run -m ollama/whisper a.wav
expect "ollama cannot transcribe, exit 2" \
	bash -c "test $RC -eq 2 && grep -q 'ollama protocol, which cannot transcribe' '$ERR'"
expect "bad files and refused options sent nothing" test "$(requests)" -eq "$n"

(unset OPENAI_API_KEY GROQ_API_KEY; "$NATTER" transcribe a.wav >"$OUT" 2>"$ERR")
RC=$?
expect "no transcription model usable: exit 2 and what to set" \
	bash -c "test $RC -eq 2 && grep -q 'no transcription model is usable (openai: no key; set OPENAI_API_KEY; groq: no key; set GROQ_API_KEY)' '$ERR'"
tr_run a.wav extra.wav
expect "two files: usage error" test "$RC" -eq 2
tr_run --format mp4 a.wav
expect "an unknown --format: usage error" bash -c "test $RC -eq 2 && grep -q 'unknown --format' '$ERR'"
"$NATTER" transcribe --help >"$OUT" 2>&1
RC=$?
expect "--help names every option" \
	bash -c "test $RC -eq 0 && grep -q -- '--timestamps word|segment' '$OUT' && grep -q -- '--translate' '$OUT'"

expect "the key never shows in any output or the log" \
	bash -c "! grep -q '$KEY' '$ALL' '$LOG'"
