#!/usr/bin/env bash
# natter decode end to end: bodies written here are decoded by the real binary and the
# printed JSON lines are checked, including HTTP error bodies (--status, -H), tool-call
# streams of each protocol (events and the summary's tool_calls) and usage errors. Prints
# TAP lines.
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

# 6. Tool calls in each protocol: a tool_call event per call, with its arguments parsed,
# and the summary's "tool_calls" with all of them.
printf 'data: {"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"c1","type":"function","function":{"name":"get_weather","arguments":""}}]}}]}\n\ndata: {"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"{\\"city\\": "}}]}}]}\n\ndata: {"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"\\"Oslo\\"}"}}]}}]}\n\ndata: {"choices":[{"index":0,"delta":{"tool_calls":[{"index":1,"id":"c2","type":"function","function":{"name":"now","arguments":"{}"}}]}}]}\n\ndata: {"choices":[{"index":0,"delta":{},"finish_reason":"tool_calls"}]}\n\ndata: [DONE]\n\n' >"$tmp/tools-openai"
"$NATTER" decode --protocol openai "$tmp/tools-openai" >"$tmp/out6"
check "openai tools: exit 0" test $? -eq 0
check "openai tools: a tool_call event with the arguments parsed" \
	grep -qxF '{"type":"tool_call","call":{"id":"c1","name":"get_weather","arguments":{"city":"Oslo"}}}' "$tmp/out6"
check "openai tools: the second call's event" \
	grep -qxF '{"type":"tool_call","call":{"id":"c2","name":"now","arguments":{}}}' "$tmp/out6"
check "openai tools: the summary lists both calls" sh -c "tail -n 1 '$tmp/out6' | grep -qxF '{\"text\":\"\",\"finish_reason\":\"tool_calls\",\"tool_calls\":[{\"id\":\"c1\",\"name\":\"get_weather\",\"arguments\":{\"city\":\"Oslo\"}},{\"id\":\"c2\",\"name\":\"now\",\"arguments\":{}}],\"complete\":true}'"

printf 'event: message_start\ndata: {"type":"message_start","message":{"usage":{"input_tokens":3,"output_tokens":1}}}\n\nevent: content_block_start\ndata: {"type":"content_block_start","index":0,"content_block":{"type":"tool_use","id":"toolu_1","name":"get_weather","input":{}}}\n\nevent: content_block_delta\ndata: {"type":"content_block_delta","index":0,"delta":{"type":"input_json_delta","partial_json":"{\\"city\\":"}}\n\nevent: content_block_delta\ndata: {"type":"content_block_delta","index":0,"delta":{"type":"input_json_delta","partial_json":" \\"Rome\\"}"}}\n\nevent: content_block_stop\ndata: {"type":"content_block_stop","index":0}\n\nevent: content_block_start\ndata: {"type":"content_block_start","index":1,"content_block":{"type":"tool_use","id":"toolu_2","name":"now","input":{}}}\n\nevent: content_block_stop\ndata: {"type":"content_block_stop","index":1}\n\nevent: message_delta\ndata: {"type":"message_delta","delta":{"stop_reason":"tool_use"},"usage":{"output_tokens":9}}\n\nevent: message_stop\ndata: {"type":"message_stop"}\n\n' >"$tmp/tools-anthropic"
"$NATTER" decode --protocol anthropic "$tmp/tools-anthropic" >"$tmp/out7"
check "anthropic tools: exit 0" test $? -eq 0
check "anthropic tools: the call's event comes at its block stop, arguments parsed" \
	grep -qxF '{"type":"tool_call","call":{"id":"toolu_1","name":"get_weather","arguments":{"city":"Rome"}}}' "$tmp/out7"
check "anthropic tools: an empty input is {}" \
	grep -qxF '{"type":"tool_call","call":{"id":"toolu_2","name":"now","arguments":{}}}' "$tmp/out7"
check "anthropic tools: the summary lists both calls" sh -c "tail -n 1 '$tmp/out7' | grep -qF '\"finish_reason\":\"tool_use\",\"usage\":{\"input_tokens\":3,\"output_tokens\":9},\"tool_calls\":[{\"id\":\"toolu_1\",\"name\":\"get_weather\",\"arguments\":{\"city\":\"Rome\"}},{\"id\":\"toolu_2\",\"name\":\"now\",\"arguments\":{}}],\"complete\":true}'"

printf 'data: {"candidates": [{"content": {"parts": [{"text": "Sure."}], "role": "model"}, "index": 0}]}\r\n\r\ndata: {"candidates": [{"content": {"parts": [{"functionCall": {"name": "get_weather", "args": {"city": "Lima", "days": 2}}, "thoughtSignature": "c2ln"}, {"functionCall": {"name": "now", "args": {}}}], "role": "model"}, "finishReason": "STOP", "index": 0}]}\r\n\r\n' >"$tmp/tools-gemini"
"$NATTER" decode --protocol gemini "$tmp/tools-gemini" >"$tmp/out8"
check "gemini tools: exit 0" test $? -eq 0
check "gemini tools: a call without an id gets call_1, arguments as sent" \
	grep -qxF '{"type":"tool_call","call":{"id":"call_1","name":"get_weather","arguments":{"city":"Lima","days":2}}}' "$tmp/out8"
check "gemini tools: the summary has the text and both calls" sh -c "tail -n 1 '$tmp/out8' | grep -qxF '{\"text\":\"Sure.\",\"finish_reason\":\"STOP\",\"tool_calls\":[{\"id\":\"call_1\",\"name\":\"get_weather\",\"arguments\":{\"city\":\"Lima\",\"days\":2}},{\"id\":\"call_2\",\"name\":\"now\",\"arguments\":{}}],\"complete\":true}'"

printf '{"model":"m","message":{"role":"assistant","content":"","tool_calls":[{"function":{"name":"get_weather","arguments":{"city":"Kyiv"}}}]},"done":false}\n{"model":"m","message":{"role":"assistant","content":""},"done":true,"done_reason":"stop"}\n' >"$tmp/tools-ollama"
"$NATTER" decode --protocol ollama "$tmp/tools-ollama" >"$tmp/out9"
check "ollama tools: exit 0" test $? -eq 0
check "ollama tools: arguments given as an object come out as one" \
	grep -qxF '{"type":"tool_call","call":{"id":"call_1","name":"get_weather","arguments":{"city":"Kyiv"}}}' "$tmp/out9"
check "ollama tools: the summary lists the call" sh -c "tail -n 1 '$tmp/out9' | grep -qF '\"tool_calls\":[{\"id\":\"call_1\",\"name\":\"get_weather\",\"arguments\":{\"city\":\"Kyiv\"}}],\"complete\":true}'"

# Arguments that are not one JSON object stay the text the model sent (a string).
printf 'data: {"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"b1","function":{"name":"f","arguments":"{\\"a\\": tru"}}]}}]}\n\ndata: {"choices":[{"index":0,"delta":{},"finish_reason":"tool_calls"}]}\n\ndata: [DONE]\n\n' >"$tmp/tools-bad"
"$NATTER" decode --protocol openai "$tmp/tools-bad" >"$tmp/out10"
check "bad arguments: kept as the text that came" \
	grep -qxF '{"type":"tool_call","call":{"id":"b1","name":"f","arguments":"{\"a\": tru"}}' "$tmp/out10"
