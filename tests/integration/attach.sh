#!/usr/bin/env bash
# Attachments end to end: natter ask -a and compare -a against the fake server, which logs
# every request body. Each protocol's exact shape for an image, a PDF and a text file
# (OpenAI content parts with an image_url data URL, Anthropic image and document blocks,
# Gemini inline_data, Ollama images; the PDF as its text where it does not go as a
# document); the type taken from the content, not the name; -a - from standard input; the
# refusals before anything is sent (a text-only model, a file over a model's, a
# provider's and a protocol's limit, a type nobody takes, pdftotext missing), each with
# what to change; -c sending the stored file again and a text model getting a note
# instead; one stored copy per content; the JSON export round-tripping through natter
# import with the bytes; export --with-attachments writing the files; natter serve taking
# image_url data URLs from a client.
set -u
. "$TESTS/integration/lib.sh"

isolated_home
export NATTER_DB=$HOME/db/natter.db
FSLOG=$LIB_TMP/fs.log
fs_start --log "$FSLOG" || exit 0
W=$LIB_TMP/w
mkdir -p "$W" "$XDG_CONFIG_HOME/natter"
cd "$W" || exit 1
cat >"$XDG_CONFIG_HOME/natter/natter.yaml" <<YAML
providers:
  fo: {protocol: openai, base_url: '$FS_URL/v1', local: true, max_retries: 0}
  fa: {protocol: anthropic, base_url: '$FS_URL/v1', local: true, max_retries: 0}
  fg: {protocol: gemini, base_url: '$FS_URL/v1beta', local: true, max_retries: 0}
  fl: {protocol: ollama, base_url: '$FS_URL', local: true, max_retries: 0}
  tight: {protocol: openai, base_url: '$FS_URL/v1', local: true, max_attachment: 0.002}
  fr: {protocol: openai, base_url: '$FS_URL/v1', local: true, max_retries: 2}
models:
  vo: {provider: fo, id: m-vo, input: [text, image]}
  va: {provider: fa, id: m-va, input: [text, image, pdf]}
  vg: {provider: fg, id: m-vg, input: [text, image, pdf, audio]}
  vl: {provider: fl, id: m-vl, input: [text, image]}
  to: {provider: fo, id: m-to}
  small: {provider: fo, id: m-small, input: [text, image], max_attachment: 0.001}
  tp: {provider: tight, id: m-tight, input: [text, image]}
  vr: {provider: fr, id: m-vr, input: [text, image]}
YAML
python3 - <<'PY'
import struct, zlib, random
def chunk(t, d):
    return struct.pack('>I', len(d)) + t + d + struct.pack('>I', zlib.crc32(t + d) & 0xffffffff)
def png(w, h, seed):
    r = random.Random(seed)
    raw = b''.join(b'\x00' + bytes(r.randrange(256) for _ in range(3 * w)) for _ in range(h))
    return (b'\x89PNG\r\n\x1a\n' + chunk(b'IHDR', struct.pack('>IIBBBBB', w, h, 8, 2, 0, 0, 0))
            + chunk(b'IDAT', zlib.compress(raw)) + chunk(b'IEND', b''))
open('red.png', 'wb').write(png(4, 4, 1))
open('big.png', 'wb').write(png(40, 40, 2))
open('notes.txt', 'wb').write(png(4, 4, 3))
objs = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 300 100] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>", None,
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"]
s = b"BT /F1 18 Tf 20 40 Td (Hello from the PDF) Tj ET"
objs[3] = b"<< /Length %d >>\nstream\n" % len(s) + s + b"\nendstream"
out, offs = b"%PDF-1.4\n", []
for i, o in enumerate(objs):
    offs.append(len(out))
    out += b"%d 0 obj\n" % (i + 1) + o + b"\nendobj\n"
x = len(out)
out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objs) + 1)
out += b"".join(b"%010d 00000 n \n" % o for o in offs)
out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objs) + 1, x)
open('doc.pdf', 'wb').write(out)
# A PNG header and 21 MiB of zeros: an image over OpenAI's 20 MiB.
open('huge.png', 'wb').write(png(1, 1, 4)[:33] + b'\0' * (21 << 20))
PY
printf 'int main(void) { return 0; }\n' >main.c
OUT=$LIB_TMP/out
ERR=$LIB_TMP/err

# ask ARGS...: natter ask; stdout in $OUT, stderr in $ERR, status in $RC.
ask() {
	"$NATTER" ask "$@" >"$OUT" 2>"$ERR" </dev/null
	RC=$?
}
# bodies: how many chat requests the fake server got; last: the last one's body.
bodies() { grep -cE 'chat/completions|/messages|GenerateContent|/api/chat' "$FSLOG"; }
last() { grep -E 'chat/completions|/messages|GenerateContent|/api/chat' "$FSLOG" | tail -n 1 | cut -f 4; }
# jl FILTER: jq -r FILTER over the last body.
jl() { last | jq -r "$1"; }
b64() { base64 -w0 "$1"; }
expect() {
	local d=$1
	shift
	if "$@"; then
		tap_ok "$d"
	else
		tap_fail "$d" "rc=$RC" "stderr: $(head -c 600 "$ERR")" "body: $(last | head -c 600)"
	fi
}
TEXTC=$'main.c:\n```\nint main(void) { return 0; }\n```'
PDFT=$'doc.pdf (the text of the PDF):\n```\nHello from the PDF\n```'

ask -m vo -a red.png -a main.c -a doc.pdf "describe these"
expect "openai: text first, the text file and the PDF's text inlined" \
	[ "$(jl '.messages[0].content[0].type + "|" + .messages[0].content[0].text')" = \
	"text|describe these"$'\n\n'"$TEXTC"$'\n\n'"$PDFT" ]
expect "openai: the image is an image_url data URL of its bytes" \
	[ "$(jl '.messages[0].content[1] | .type + "|" + .image_url.url')" = \
	"image_url|data:image/png;base64,$(b64 red.png)" ]
expect "openai: nothing else in the message" [ "$(jl '.messages[0].content | length')" = 2 ]

ask -m va -a red.png -a main.c -a doc.pdf "describe these"
expect "anthropic: an image block with a base64 source" [ "$(jl '.messages[0].content[0] |
	.type + "|" + .source.type + "|" + .source.media_type + "|" + .source.data')" = \
	"image|base64|image/png|$(b64 red.png)" ]
expect "anthropic: the PDF as a document block" [ "$(jl '.messages[0].content[1] |
	.type + "|" + .source.type + "|" + .source.media_type + "|" + .source.data')" = \
	"document|base64|application/pdf|$(b64 doc.pdf)" ]
expect "anthropic: then the text with the text file" [ "$(jl '.messages[0].content[2] |
	.type + "|" + .text')" = "text|describe these"$'\n\n'"$TEXTC" ]

ask -m vg -a red.png -a main.c -a doc.pdf "describe these"
expect "gemini: inline_data with mime_type and data, then the text" [ "$(jl '.contents[0].parts |
	map(if .inline_data then .inline_data.mime_type + ":" + .inline_data.data else "text:" + .text
	end) | join(",")')" = \
	"image/png:$(b64 red.png),application/pdf:$(b64 doc.pdf),text:describe these"$'\n\n'"$TEXTC" ]

ask -m vl -a red.png -a main.c -a doc.pdf "describe these"
expect "ollama: the images array on the message, the rest as its content" \
	[ "$(jl '.messages[0] | (.images | join(",")) + "|" + .content')" = \
	"$(b64 red.png)|describe these"$'\n\n'"$TEXTC"$'\n\n'"$PDFT" ]
expect "and the reply streams" grep -q "This is fakeserver answering: describe these" "$OUT"

# The body with a file is produced as libcurl sends it: a retried request sends it whole
# again from its start.
n=$(bodies)
ask -m vr -a big.png "fail_times=1 id=att-retry retry_after_ms=20 again"
expect "a retried request sends the file again, whole" [ "$RC:$(($(bodies) - n))" = "0:2" ] &&
	[ "$(grep -E 'chat/completions' "$FSLOG" | tail -n 2 | cut -f 4 |
	jq -r '.messages[0].content[1].image_url.url' | sort -u)" = \
	"data:image/png;base64,$(b64 big.png)" ]

ask -m vo -a notes.txt "a png by another name"
expect "the type comes from the content: notes.txt holding a PNG is an image" \
	[ "$(jl '.messages[0].content[1].image_url.url')" = "data:image/png;base64,$(b64 notes.txt)" ]
"$NATTER" ask -m vo -a - "from stdin" <red.png >"$OUT" 2>"$ERR"
RC=$?
expect "-a - reads the file from standard input" \
	[ "$RC:$(jl '.messages[0].content[1].image_url.url')" = "0:data:image/png;base64,$(b64 red.png)" ]
ask -m vo -a - -a - "twice"
expect "-a - twice is a usage error" [ "$RC" = 2 ] && grep -q "once" "$ERR"

n=$(bodies)
ask -m to -a red.png "what is it"
expect "a text-only model is refused an image before anything is sent" \
	[ "$RC:$(bodies)" = "2:$n" ]
expect "... saying what to change" grep -q "red.png is an image (image/png), but to takes text only (add image to models.to.input" "$ERR"
ask -m small -a big.png "too big"
expect "a file over the model's limit is refused, with the limit" \
	grep -q "big.png ([0-9.]* KiB) is over the limit of 1.0 KiB for one attachment that models.small.max_attachment sets" "$ERR"
ask -m tp -a big.png "too big"
expect "... and over the provider's" \
	grep -q "over the limit of 2.0 KiB for one attachment that providers.tight.max_attachment sets" "$ERR"
ask -m vo -a huge.png "too big"
expect "... and over the protocol's own (OpenAI: 20 MiB)" \
	grep -q "huge.png (21 MiB) is over the openai limit of 20 MiB for one attachment (providers.fo.max_attachment changes it)" "$ERR"
ask -m vo -a /bin/true "a program"
expect "a type no provider takes is refused" grep -q "/bin/true is application/.*: natter attaches text, images (PNG, JPEG, GIF, WebP), PDFs and audio" "$ERR"
ask -m vo -a /nonexistent.png "missing"
expect "an unreadable file is a usage error" [ "$RC" = 2 ] && grep -q "cannot read /nonexistent.png" "$ERR"
PATH=/nonexistent "$NATTER" ask -m vo -a doc.pdf "no pdftotext" >"$OUT" 2>"$ERR" </dev/null
RC=$?
expect "without pdftotext a PDF for a text-taking protocol is refused, naming the package" \
	grep -q "doc.pdf is a PDF, which this model gets as its text: that needs pdftotext, from the package poppler-utils" "$ERR"
expect "none of the refusals sent anything" [ "$(bodies)" = "$n" ]

ask -m vo -a red.png "first look"
sid=$(sqlite3 "$NATTER_DB" "SELECT max(id) FROM sessions")
ask -c "and again?"
expect "-c sends the stored file again with the history" \
	[ "$(jl '.messages[0].content[1].image_url.url + "|" + .messages[2].content')" = \
	"data:image/png;base64,$(b64 red.png)|and again?" ]
ask -c -m to "a text model now"
expect "a text model continuing gets a note where the image was" \
	[ "$RC:$(jl '.messages[0].content')" = "0:first look"$'\n\n'"[red.png (image/png) was attached here; it is not sent to this model]" ]
expect "the same content attached many times is stored once" \
	[ "$(sqlite3 "$NATTER_DB" "SELECT count(*) FROM attachments WHERE sha256 = '$(sha256sum red.png | cut -c1-64)'")" = 1 ]

"$NATTER" compare -m vo -m va -a red.png "compare it" >"$OUT" 2>"$ERR" </dev/null
RC=$?
expect "compare -a sends the file to every model in its form" [ "$RC" = 0 ] && \
	[ "$(grep -E 'chat/completions|/messages' "$FSLOG" | tail -n 2 | cut -f 4 |
	jq -r '.messages[0].content[] | select(.type != "text") | .type' | sort | tr '\n' ' ')" = "image image_url " ]
n=$(bodies)
"$NATTER" compare -m vo -m to -a red.png "compare it" >"$OUT" 2>"$ERR" </dev/null
RC=$?
expect "compare with a text-only model is refused, nothing sent" [ "$RC:$(bodies)" = "2:$n" ] && \
	grep -q "takes text only" "$ERR"

"$NATTER" export "$sid" --format json >"$LIB_TMP/e1.json" 2>"$ERR"
expect "the JSON export carries the file with its bytes" [ "$(jq -r '.messages[0].attachments[0] |
	.name + "|" + .mime + "|" + .kind + "|" + (.size | tostring) + "|" + .sha256 + "|" + .data' \
	"$LIB_TMP/e1.json")" = "red.png|image/png|image|$(stat -c %s red.png)|$(sha256sum red.png | cut -c1-64)|$(b64 red.png)" ]
"$NATTER" import "$LIB_TMP/e1.json" >"$LIB_TMP/imp" 2>"$ERR"
nid=$(sqlite3 "$NATTER_DB" "SELECT max(id) FROM sessions")
"$NATTER" export "$nid" --format json >"$LIB_TMP/e2.json" 2>>"$ERR"
strip() { jq -S 'del(.id) | .messages |= map(del(.id))' "$1"; }
expect "export, import and export again are the same, bytes included" \
	[ "$(strip "$LIB_TMP/e1.json")" = "$(strip "$LIB_TMP/e2.json")" ]
jq '.messages[0].attachments[0].data = "'"$(b64 notes.txt)"'"' "$LIB_TMP/e1.json" >"$LIB_TMP/bad.json"
"$NATTER" import "$LIB_TMP/bad.json" >"$OUT" 2>"$ERR"
RC=$?
expect "an import whose bytes are not the file its sha256 names is refused" [ "$RC" != 0 ] && \
	grep -q "messages\[0\].attachments\[0\].data: these bytes are not the file" "$ERR"
"$NATTER" sessions export "$sid" --with-attachments "$LIB_TMP/files" >"$LIB_TMP/md" 2>"$ERR"
expect "sessions export --with-attachments writes the files" cmp -s red.png "$LIB_TMP/files/1-1-red.png"
expect "... mode 0600" [ "$(stat -c %a "$LIB_TMP/files/1-1-red.png")" = 600 ]
expect "the Markdown export lists the file: name, type, size" grep -qF -- "- \`red.png\` · image/png · $(stat -c %s red.png) B" "$LIB_TMP/md"
"$NATTER" sessions show "$sid" >"$OUT" 2>"$ERR"
expect "sessions show lists it too" grep -qF "attached: red.png · image/png" "$OUT"
"$NATTER" sessions rm "$sid" --yes >/dev/null 2>&1 || "$NATTER" sessions rm "$sid" >/dev/null 2>&1 </dev/null
"$NATTER" sessions rm "$nid" --yes >/dev/null 2>&1 || "$NATTER" sessions rm "$nid" >/dev/null 2>&1 </dev/null
left=$(sqlite3 "$NATTER_DB" "SELECT count(*) FROM message_attachments ma JOIN attachments a ON a.id = ma.attachment_id WHERE a.sha256 = '$(sha256sum red.png | cut -c1-64)'")
expect "deleting sessions drops their references; the bytes go with the last" \
	[ "$(sqlite3 "$NATTER_DB" "SELECT count(*) FROM attachments WHERE id NOT IN (SELECT attachment_id FROM message_attachments)")" = 0 ] && [ -n "$left" ]

# natter serve: a client's image_url data URL reaches the model as an attachment.
SV_ERR=$LIB_TMP/serve-err
"$NATTER" serve --listen 127.0.0.1:0 2>"$SV_ERR" </dev/null &
SV_PID=$!
lib_at_exit "kill $SV_PID"
SV_PORT=
for i in $(seq 1 200); do
	SV_PORT=$(sed -n 's/.*listening on http:\/\/127\.0\.0\.1:\([0-9]*\).*/\1/p' "$SV_ERR")
	[ -n "$SV_PORT" ] && break
	sleep 0.05
done
if [ -z "$SV_PORT" ]; then
	tap_fail "natter serve starts" "$(cat "$SV_ERR")"
else
	url="data:image/png;base64,$(b64 red.png)"
	body='{"model":"va","messages":[{"role":"user","content":[{"type":"text","text":"what is it"},{"type":"image_url","image_url":{"url":"'"$url"'"}}]}]}'
	st=$(curl -s -o "$OUT" -w '%{http_code}' "http://127.0.0.1:$SV_PORT/v1/chat/completions" \
		-H 'Content-Type: application/json' -d "$body")
	RC=$st
	expect "serve: an image_url data URL goes on as the model's own image block" \
		[ "$st:$(jl '.messages[0].content[0].source.data')" = "200:$(b64 red.png)" ]
	body='{"model":"to","messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"'"$url"'"}}]}]}'
	st=$(curl -s -o "$OUT" -w '%{http_code}' "http://127.0.0.1:$SV_PORT/v1/chat/completions" \
		-H 'Content-Type: application/json' -d "$body")
	RC=$st
	expect "serve: to a text-only model it is refused, 400 with why" \
		[ "$st" = 400 ] && grep -q "takes text only" "$OUT"
	body='{"model":"va","messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"https://example.com/a.png"}}]}]}'
	st=$(curl -s -o "$OUT" -w '%{http_code}' "http://127.0.0.1:$SV_PORT/v1/chat/completions" \
		-H 'Content-Type: application/json' -d "$body")
	RC=$st
	expect "serve: a URL natter would have to fetch is refused with the field" \
		[ "$st" != 200 ] && grep -q 'messages\[0\].content' "$OUT" && grep -q "data: URL" "$OUT"
	kill "$SV_PID" 2>/dev/null
	wait "$SV_PID" 2>/dev/null
fi
