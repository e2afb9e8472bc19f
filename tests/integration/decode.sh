#!/usr/bin/env bash
# natter decode end to end: bodies written here are decoded by the real binary and the
# printed JSON lines are checked, including HTTP error bodies (--status, -H) and usage
# errors. Prints TAP lines.
set -u
: "${NATTER:?}"
tmp=$(mktemp -d /tmp/natter-decode.XXXXXX)
trap 'rm -rf "$tmp"' EXIT

# check DESCRIPTION COMMAND...: ok when the command succeeds.
check() {
	local desc=$1
	shift
	if "$@" >/dev/null 2>&1; then
		echo "ok - $desc"
	else
		echo "not ok - $desc"
	fi
}

# 1. OpenAI stream with inline think tags, usage and [DONE], from a file.
printf 'data: {"choices":[{"index":0,"delta":{"content":"<think>why"}}]}\n\n: keep-alive\n\ndata: {"choices":[{"index":0,"delta":{"content":"</think>Hi"},"finish_reason":"stop"}]}\n\ndata: {"choices":[],"usage":{"prompt_tokens":4,"completion_tokens":2,"total_tokens":6}}\n\ndata: [DONE]\n\n' >"$tmp/openai.sse"
"$NATTER" decode --protocol openai "$tmp/openai.sse" >"$tmp/out1"
st=$?
check "openai: exit status 0 for a complete stream" test "$st" -eq 0
check "openai: reasoning event" grep -qxF '{"type":"reasoning","text":"why"}' "$tmp/out1"
check "openai: text event" grep -qxF '{"type":"text","text":"Hi"}' "$tmp/out1"
check "openai: finish event" grep -qxF '{"type":"finish","finish_reason":"stop"}' "$tmp/out1"
check "openai: usage event" grep -qxF '{"type":"usage","usage":{"input_tokens":4,"output_tokens":2,"total_tokens":6}}' "$tmp/out1"
check "openai: summary last" sh -c "tail -n 1 '$tmp/out1' | grep -qxF '{\"text\":\"Hi\",\"reasoning\":\"why\",\"finish_reason\":\"stop\",\"usage\":{\"input_tokens\":4,\"output_tokens\":2,\"total_tokens\":6},\"complete\":true}'"

# 2. Anthropic from stdin, cut off before message_stop: incomplete, exit 1.
printf 'event: message_start\ndata: {"type":"message_start","message":{"usage":{"input_tokens":3,"output_tokens":1}}}\n\nevent: content_block_delta\ndata: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hel"}}\n\n' |
	"$NATTER" decode --protocol anthropic-sse - >"$tmp/out2"
st=$?
check "anthropic: truncated stream exits 1" test "$st" -eq 1
check "anthropic: text before the cut" grep -qxF '{"type":"text","text":"Hel"}' "$tmp/out2"
check "anthropic: summary says incomplete" grep -qF '"complete":false}' "$tmp/out2"

# 3. Gemini 429 error body with RetryInfo, given with --status and a request id header.
cat >"$tmp/gemini.json" <<'JSON'
{
  "error": {
    "code": 429,
    "message": "Resource has been exhausted (e.g. check quota).",
    "status": "RESOURCE_EXHAUSTED",
    "details": [
      {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "31s"}
    ]
  }
}
JSON
"$NATTER" decode --protocol gemini --status 429 -H 'x-goog-request-id: g-77' "$tmp/gemini.json" >"$tmp/out3"
st=$?
check "gemini 429: exit status 1" test "$st" -eq 1
check "gemini 429: error event with class, status and delay" grep -qF '{"type":"error","error":{"kind":"http","class":"rate limit","status":429,"type":"RESOURCE_EXHAUSTED","code":429,"message":"Resource has been exhausted (e.g. check quota).","request_id":"g-77","retryable":true,"retry_after_s":31}}' "$tmp/out3"
# Issue 11: the summary's error object is the event's, class and request id included.
err3='{"kind":"http","class":"rate limit","status":429,"type":"RESOURCE_EXHAUSTED","code":429,"message":"Resource has been exhausted (e.g. check quota).","request_id":"g-77","retryable":true,"retry_after_s":31}'
check "gemini 429: the summary's error has the event's class and request id" \
	sh -c "tail -n 1 '$tmp/out3' | grep -qF ',\"error\":$err3,'"

# 4. A proxy's HTML page as a 502 body for Ollama.
printf '<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n' >"$tmp/html"
"$NATTER" decode --protocol ollama --status=502 "$tmp/html" >"$tmp/out4"
check "html 502: first line as the message" grep -qF '"status":502,"message":"<html>","retryable":true' "$tmp/out4"

# 5. Usage errors exit 2 and print usage on stderr.
"$NATTER" decode >/dev/null 2>"$tmp/err5"
st=$?
check "no --protocol: exit 2" test "$st" -eq 2
check "no --protocol: usage on stderr" grep -q 'usage: natter decode' "$tmp/err5"
"$NATTER" decode --protocol smoke-signals </dev/null >/dev/null 2>&1
check "unknown protocol: exit 2" test $? -eq 2
"$NATTER" decode --protocol openai --status abc </dev/null >/dev/null 2>&1
check "bad status: exit 2" test $? -eq 2
"$NATTER" decode --protocol openai -H 'no colon' </dev/null >/dev/null 2>&1
check "bad header: exit 2" test $? -eq 2
"$NATTER" decode --protocol openai "$tmp/does-not-exist" >/dev/null 2>&1
check "missing file: exit 2" test $? -eq 2
