#!/usr/bin/env bash
# The fake server's audio and embeddings endpoints, checked with curl (the tests of natter
# trust them, so they must refuse what the real APIs refuse): multipart uploads that are
# malformed, lack a part or ask for a wrong format; embeddings batches over the limits,
# empty texts, a Gemini request naming another model; bad inline audio; and the answers'
# shapes and the log of an upload.
set -u
. "$TESTS/integration/lib.sh"

isolated_home
LOG=$LIB_TMP/fs.log
fs_start --log "$LOG" || exit 0
cd "$LIB_TMP" || exit 1
printf 'RIFF\044\000\000\000WAVEfmt data' >a.wav

# post PATH ARGS...: POST to the fake server; body in $BODY, status in $CODE.
post() {
	local path=$1
	shift
	CODE=$(curl -s -o "$LIB_TMP/body" -w '%{http_code}' "$FS_URL$path" "$@")
	BODY=$(cat "$LIB_TMP/body")
}
# msg: the error message of the last answer.
msg() { printf '%s' "$BODY" | jq -r '.error.message // .error'; }

post /v1/audio/transcriptions -F model=whisper-1 -F file=@a.wav -F response_format=verbose_json \
	-F 'timestamp_granularities[]=word'
tap_eq "a curl upload with word timings: 200 and the words" "200 true false" \
	"$CODE $(printf '%s' "$BODY" | jq -r '"\(.words | length > 0) \(has("segments"))"')"
tap_eq "the log holds the upload's parts, the file by size and digest" \
	"[\"model\",\"file\",\"response_format\",\"timestamp_granularities[]\"] $(wc -c <a.wav | tr -d ' ') $(sha256sum a.wav | cut -c 1-64)" \
	"$(tail -n 1 "$LOG" | cut -f 4 | jq -r '"\([.multipart[].name] | tojson) \(.multipart[1].size) \(.multipart[1].sha256)"')"
post /v1/audio/transcriptions -F model=whisper-1 -F file=@a.wav -F response_format=text
tap_eq "response_format text: the line (curl gives no type: octet-stream)" "200 fakeserver heard a.wav: 20 bytes of application/octet-stream, sha256" \
	"$CODE $(printf '%s' "$BODY" | cut -d ' ' -f 1-8)"
post /v1/audio/transcriptions -F file=@a.wav
tap_eq "no model: 400" "400 you must provide a model parameter" "$CODE $(msg)"
post /v1/audio/transcriptions -F model=whisper-1
tap_eq "no file: 400" "400 fakeserver: the form needs exactly one 'file' part" "$CODE $(msg)"
post /v1/audio/transcriptions -F model=whisper-1 -F file=@a.wav -F response_format=mp3
tap_eq "an unknown response_format: 400" "400" "$CODE"
post /v1/audio/transcriptions -F model=whisper-1 -F file=@a.wav -F 'timestamp_granularities[]=word'
tap_eq "granularities without verbose_json: 400" \
	"400 timestamp_granularities requires response_format=verbose_json" "$CODE $(msg)"
post /v1/audio/translations -F model=whisper-1 -F file=@a.wav -F language=de
tap_eq "a translation with a language: 400" "400 fakeserver: translations take no language" "$CODE $(msg)"
printf -- '--zz\r\nContent-Disposition: form-data; name="model"\r\n\r\nwhisper-1\r\n' >open.body
post /v1/audio/transcriptions -H 'Content-Type: multipart/form-data; boundary=zz' --data-binary @open.body
tap_eq "a body without its closing delimiter: 400 naming it" "400 true" \
	"$CODE $(msg | grep -c 'part 1 (model) has no delimiter after it' | sed 's/1/true/')"
printf -- '--zz\nContent-Disposition: form-data; name="model"\n\nx\n--zz--\n' >lf.body
post /v1/audio/transcriptions -H 'Content-Type: multipart/form-data; boundary=zz' --data-binary @lf.body
tap_eq "LF line ends instead of CRLF: 400" "400" "$CODE"
post /v1/audio/transcriptions -H 'Content-Type: application/json' -d '{"model":"whisper-1"}'
tap_eq "not multipart: 400" "400 true" \
	"$CODE $(msg | grep -c 'not multipart/form-data' | sed 's/1/true/')"

post /v1/embeddings -H 'Content-Type: application/json' -d '{"model":"e","input":["n=3 a","b"],"dimensions":2}'
tap_eq "openai embeddings: index, n=N first, dimensions, usage in words" '200 [[0,3,2],[1,1,2]] 3' \
	"$CODE $(printf '%s' "$BODY" | jq -c '[.data[] | [.index, .embedding[0], (.embedding | length)]]') $(printf '%s' "$BODY" | jq .usage.prompt_tokens)"
post /v1/embeddings -H 'Content-Type: application/json' -d "{\"model\":\"e\",\"input\":$(seq 1 2049 | jq -R . | jq -s -c .)}"
tap_eq "2049 inputs: 400" "400" "$CODE"
post /v1/embeddings -H 'Content-Type: application/json' -d '{"model":"e","input":["a",""]}'
tap_eq "an empty input: 400" "400" "$CODE"
post /v1/embeddings -H 'Content-Type: application/json' -d '{"model":"e","input":"x","encoding_format":"base64"}'
tap_eq "encoding_format base64 is not served: 400" "400" "$CODE"
post /v1beta/models/g:batchEmbedContents -H 'Content-Type: application/json' \
	-d '{"requests":[{"model":"models/g","content":{"parts":[{"text":"n=9 x"}]},"outputDimensionality":3}]}'
tap_eq "gemini batchEmbedContents: values" "200 [9,3]" \
	"$CODE $(printf '%s' "$BODY" | jq -c '.embeddings[0].values | [.[0], length]')"
post /v1beta/models/g:batchEmbedContents -H 'Content-Type: application/json' \
	-d '{"requests":[{"model":"models/other","content":{"parts":[{"text":"x"}]}}]}'
tap_eq "gemini: a request naming another model: 400" "400" "$CODE"
post /v1beta/models/g:batchEmbedContents -H 'Content-Type: application/json' \
	-d "{\"requests\":$(seq 1 101 | jq -c -s 'map({model: "models/g", content: {parts: [{text: tostring}]}})')}"
tap_eq "gemini: 101 requests: 400 naming the limit" "400 true" \
	"$CODE $(printf '%s' "$BODY" | jq -r .error.message | grep -c 'at most 100' | sed 's/1/true/')"
post /api/embed -H 'Content-Type: application/json' -d '{"model":"n","input":"n=4 x"}'
tap_eq "ollama /api/embed: embeddings and prompt_eval_count" "200 4 2" \
	"$CODE $(printf '%s' "$BODY" | jq -r '"\(.embeddings[0][0]) \(.prompt_eval_count)"')"
post /v1beta/models/g:generateContent -H 'Content-Type: application/json' \
	-d '{"contents":[{"parts":[{"text":"Transcribe"},{"inline_data":{"mime_type":"audio/wav","data":"not base64!"}}]}]}'
tap_eq "gemini inline audio that is not base64: 400" "400" "$CODE"
post /v1beta/models/g:generateContent -H 'Content-Type: application/json' \
	-d "{\"contents\":[{\"parts\":[{\"text\":\"Transcribe\"},{\"inline_data\":{\"mime_type\":\"audio/wav\",\"data\":\"$(base64 -w0 a.wav)\"}}]}]}"
tap_eq "gemini inline audio: the transcript as the reply's text" \
	"200 fakeserver heard inline audio: 20 bytes of audio/wav" \
	"$CODE $(printf '%s' "$BODY" | jq -r '.candidates[0].content.parts[0].text' | cut -d ' ' -f 1-8 | sed 's/,$//')"
post /v1beta/models/g:generateContent -H 'Content-Type: application/json' \
	-d '{"contents":[{"parts":[{"text":"tokens=2"}]}]}'
tap_eq "generateContent without inline data is still a chat" "200 w1 w2" \
	"$CODE $(printf '%s' "$BODY" | jq -r '.candidates[0].content.parts[0].text')"
