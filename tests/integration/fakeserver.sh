#!/usr/bin/env bash
# The fake provider server itself, checked with curl: each protocol's framing and JSON, the
# magic words (tokens, think, delays, status, fail_times, faults, vectors), key enforcement,
# keep-alive, 16 concurrent clients, the --log file (no header values), and shutdown.
# Everything else in tests/integration trusts this server, so it is tested first and hard.
set -u
. "$TESTS/integration/lib.sh"

KEY=sk-fake-$$-secret
LOG=$LIB_TMP/requests.log
fs_start --log "$LOG" || exit 1
U=$FS_URL
T=$LIB_TMP
HAVE_PY=0
command -v python3 >/dev/null 2>&1 && HAVE_PY=1

# Request bodies for each protocol; $1 is the last user message (no quotes in it).
oa() { printf '{"model":"gpt-test","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"system","content":"be brief"},{"role":"user","content":"%s"}]}' "$1"; }
an() { printf '{"model":"claude-test","max_tokens":64,"stream":true,"messages":[{"role":"user","content":"%s"}]}' "$1"; }
ge() { printf '{"contents":[{"role":"user","parts":[{"text":"%s"}]}]}' "$1"; }
ol() { printf '{"model":"llama-test","messages":[{"role":"user","content":"%s"}]}' "$1"; }
GEM="$U/v1beta/models/gemini-test:streamGenerateContent?alt=sse"

# count PATTERN FILE: number of lines matching the fixed string.
count() { grep -cF -- "$1" "$2"; }

# ---- OpenAI -----------------------------------------------------------------------------
curl -sN "$U/v1/chat/completions" -d "$(oa 'hello tokens=5')" >"$T/oa"
tap_eq "openai: last event is data: [DONE]" "data: [DONE]" "$(grep -v '^$' "$T/oa" | tail -n 1)"
tap_eq "openai: tokens=5 gives 5 content deltas" 5 "$(count '"delta":{"content":' "$T/oa")"
tap_eq "openai: text is w1 … w5" "w1 w2 w3 w4 w5" \
	"$(grep -o '"delta":{"content":"[^"]*"' "$T/oa" | sed 's/.*:"//; s/"$//' | tr -d '\n')"
tap_check "openai: model is echoed" grep -q '"model":"gpt-test"' "$T/oa"
tap_check "openai: usage chunk has empty choices and consistent counts" \
	grep -qF '"choices":[],"usage":{"prompt_tokens":4,"completion_tokens":5,"total_tokens":9' "$T/oa"
tap_check "openai: finish_reason stop" grep -q '"finish_reason":"stop"' "$T/oa"
tap_eq "openai: events are data: lines separated by blank lines" 0 \
	"$(grep -cvE '^(data: .*)?$' "$T/oa")"
# Words scoped to a model apply to that model only, and win over plain ones.
curl -sN "$U/v1/chat/completions" -d "$(oa 'tokens=2 [gpt-test]tokens=4 [other]tokens=6')" >"$T/oa-scoped"
tap_eq "openai: [gpt-test]tokens=4 applies to gpt-test over tokens=2" 4 "$(count '"delta":{"content":' "$T/oa-scoped")"
curl -sN "$U/v1/chat/completions" -d "$(oa '[other]status=500 tokens=3')" >"$T/oa-scoped2"
tap_eq "openai: [other]status=500 leaves gpt-test alone" 3 "$(count '"delta":{"content":' "$T/oa-scoped2")"
curl -sN "$GEM" -d "$(ge '[gemini-test]tokens=2 [x]tokens=9')" >"$T/ge-scoped"
tap_eq "gemini: a word scoped to the model in the path applies" 2 "$(grep -c '"text"' "$T/ge-scoped")"
curl -sN "$U/v1/chat/completions" -d "$(oa 'tokens=3 think=4')" >"$T/oa-think"
tap_eq "openai: think=4 gives 4 reasoning_content deltas" 4 "$(count '"reasoning_content":"' "$T/oa-think")"
tap_check "openai: reasoning tokens counted in usage" \
	grep -qF '"completion_tokens":7,"total_tokens":11,"completion_tokens_details":{"reasoning_tokens":4}' "$T/oa-think"
curl -sN "$U/v1/chat/completions" -d '{"model":"m","stream":true,"messages":[{"role":"user","content":"tokens=2"}]}' >"$T/oa-nousage"
tap_check "openai: no usage chunk without stream_options.include_usage" \
	bash -c "! grep -q '\"usage\"' '$T/oa-nousage'"
curl -s "$U/v1/chat/completions" -d '{"model":"m","messages":[{"role":"user","content":"tokens=3"}]}' >"$T/oa-whole"
tap_check "openai: stream false gives one chat.completion" \
	grep -qF '"object":"chat.completion","created":1727346168,"model":"m","choices":[{"index":0,"message":{"role":"assistant","content":"w1 w2 w3"' "$T/oa-whole"
curl -sN "$U/openai/v1/chat/completions" -d "$(oa 'tokens=2')" >"$T/oa-prefix"
tap_eq "openai: a base-URL prefix before /v1 works (Groq style)" "data: [DONE]" "$(grep -v '^$' "$T/oa-prefix" | tail -n 1)"

# ---- Anthropic --------------------------------------------------------------------------
curl -sN "$U/v1/messages" -d "$(an 'tokens=3 think=2')" >"$T/an"
tap_eq "anthropic: event sequence" \
	"message_start content_block_start ping content_block_delta content_block_stop content_block_start content_block_delta content_block_stop message_delta message_stop" \
	"$(sed -n 's/^event: //p' "$T/an" | uniq | tr '\n' ' ' | sed 's/ $//')"
tap_eq "anthropic: every event line is followed by data with the same type" 0 \
	"$(awk '/^event: /{e=$2; next} /^data: /{if (e != "" && index($0, "\"type\":\"" e "\"") == 0 && index($0, "\"type\": \"" e "\"") == 0) bad++; e=""} END{print bad+0}' "$T/an")"
tap_eq "anthropic: 3 text_delta and 2 thinking_delta" "3 2" \
	"$(count '"text_delta"' "$T/an") $(count '"thinking_delta"' "$T/an")"
tap_check "anthropic: input usage in message_start" grep -qF '"usage":{"input_tokens":2,"output_tokens":1}' "$T/an"
tap_check "anthropic: cumulative output usage in message_delta" \
	grep -qF '"stop_reason":"end_turn","stop_sequence":null},"usage":{"output_tokens":5}' "$T/an"
tap_check "anthropic: model is echoed" grep -qF '"model":"claude-test"' "$T/an"

# ---- Gemini -----------------------------------------------------------------------------
curl -sN "$GEM" -d "$(ge 'tokens=4 think=1')" >"$T/ge"
tap_eq "gemini: 5 frames, each terminated by CRLF CRLF" 5 "$(grep -c $'^data: .*\r$' "$T/ge")"
tap_eq "gemini: no LF-only line endings" 0 "$(grep -cv $'\r$' "$T/ge")"
tap_check "gemini: no [DONE]" bash -c "! grep -q DONE '$T/ge'"
tap_check "gemini: last frame has finishReason STOP and final usage" \
	bash -c "tail -n 2 '$T/ge' | grep -qF '\"finishReason\": \"STOP\", \"index\": 0}], \"usageMetadata\": {\"promptTokenCount\": 2, \"candidatesTokenCount\": 4, \"thoughtsTokenCount\": 1, \"totalTokenCount\": 7}'"
tap_eq "gemini: one thought part" 1 "$(count '"thought": true' "$T/ge")"
tap_check "gemini: model from the path is echoed" grep -qF '"modelVersion": "gemini-test"' "$T/ge"
curl -s "$U/v1beta/models/gemini-test:generateContent" -d "$(ge 'tokens=2')" >"$T/ge-whole"
tap_check "gemini: :generateContent gives one response" \
	grep -qF '{"candidates": [{"content": {"parts": [{"text": "w1 w2"}], "role": "model"}, "finishReason": "STOP"' "$T/ge-whole"

# ---- Ollama -----------------------------------------------------------------------------
curl -sN "$U/api/chat" -d "$(ol 'tokens=6 think=2')" >"$T/ol"
tap_eq "ollama: one NDJSON line per token plus the done line" 9 "$(wc -l <"$T/ol" | tr -d ' ')"
tap_check "ollama: last line is done:true with counts" \
	bash -c "tail -n 1 '$T/ol' | grep -qF '\"done\":true,\"done_reason\":\"stop\"' && tail -n 1 '$T/ol' | grep -qF '\"prompt_eval_count\":2,' && tail -n 1 '$T/ol' | grep -qF '\"eval_count\":8,'"
tap_eq "ollama: 2 thinking lines" 2 "$(count '"thinking":"' "$T/ol")"
curl -s "$U/api/chat" -d '{"model":"m","stream":false,"messages":[{"role":"user","content":"tokens=2"}]}' >"$T/ol-whole"
tap_check "ollama: stream false gives a single done object" \
	grep -qF '"message":{"role":"assistant","content":"w1 w2"},"done":true' "$T/ol-whole"

# ---- tokens=0: still a complete, terminated reply -----------------------------------------
curl -sN "$U/v1/chat/completions" -d "$(oa 'tokens=0')" >"$T/z-oa"
curl -sN "$U/v1/messages" -d "$(an 'tokens=0')" >"$T/z-an"
curl -sN "$GEM" -d "$(ge 'tokens=0')" >"$T/z-ge"
curl -sN "$U/api/chat" -d "$(ol 'tokens=0')" >"$T/z-ol"
tap_check "tokens=0: every protocol still ends with its terminator" bash -c "
	grep -q '^data: \[DONE\]' '$T/z-oa' && grep -q '^event: message_stop' '$T/z-an' &&
	grep -qF '\"finishReason\": \"STOP\"' '$T/z-ge' && grep -qF '\"done\":true' '$T/z-ol' &&
	! grep -q '\"delta\":{\"content\":\"' '$T/z-oa'"

# ---- Counts, default reply, JSON validity -----------------------------------------------
curl -sN "$U/v1/chat/completions" -d "$(oa 'tokens=1000')" >"$T/oa-1000"
tap_eq "tokens=1000 gives exactly 1000 content deltas" 1000 "$(count '"delta":{"content":' "$T/oa-1000")"
tap_check "tokens=1000 ends with w1000" grep -qF '"delta":{"content":" w1000"}' "$T/oa-1000"
curl -sN "$U/api/chat" -d "$(ol 'what is the colour of the sky')" >"$T/ol-echo"
tap_check "default reply echoes the prompt" bash -c \
	"grep -o '\"content\":\"[^\"]*\"' '$T/ol-echo' | sed 's/\"content\":\"//; s/\"$//' | tr -d '\n' | grep -qF 'answering: what is the colour of the sky.'"
if [ $HAVE_PY -eq 1 ]; then
	tap_check "every event of every protocol is valid JSON" python3 -c '
import json, sys
for f in sys.argv[1:]:
    for line in open(f, encoding="utf-8", newline=""):
        line = line.rstrip("\r\n")
        if line.startswith("data: "):
            line = line[6:]
            if line == "[DONE]":
                continue
        elif not line.startswith("{"):
            continue
        json.loads(line)
' "$T/oa" "$T/an" "$T/ge" "$T/ol" "$T/oa-whole" "$T/ge-whole" "$T/ol-whole"
else
	tap_skip "every event of every protocol is valid JSON" "no python3"
fi

# ---- Delays -----------------------------------------------------------------------------
t=$(curl -sN -o /dev/null -w '%{time_total}' "$U/v1/chat/completions" -d "$(oa 'tokens=5 delay_ms=100')")
tap_check "delay_ms=100 spaces 5 tokens by >= 0.4 s (took ${t}s)" awk -v t="$t" 'BEGIN { exit !(t >= 0.4 && t < 5) }'
curl -sN -m 0.5 -o /dev/null "$U/v1/chat/completions" -d "$(oa 'tokens=1 header_delay_ms=2000')"
tap_eq "header_delay_ms holds back the status line (client times out, curl 28)" 28 "$?"
t=$(curl -sN -o /dev/null -w '%{time_starttransfer} %{time_total}' "$U/api/chat" -d "$(ol 'tokens=1 first_delay_ms=800')")
tap_check "first_delay_ms sends headers first and delays the body ($t)" \
	awk -v s="${t% *}" -v e="${t#* }" 'BEGIN { exit !(s < 0.6 && e >= 0.8) }'

# ---- HTTP errors ------------------------------------------------------------------------
curl -s -D "$T/h429" -o "$T/b429" "$U/v1/chat/completions" -d "$(oa 'status=429 retry_after=3 retry_after_ms=2500')"
tap_check "openai status=429: status line" grep -q '^HTTP/1.1 429 ' "$T/h429"
tap_check "openai status=429: retry-after header" grep -qi $'^retry-after: 3\r$' "$T/h429"
tap_check "openai status=429: retry-after-ms header" grep -qi $'^retry-after-ms: 2500\r$' "$T/h429"
tap_check "openai status=429: rate_limit_exceeded body" grep -qF '"type":"tokens","param":null,"code":"rate_limit_exceeded"}}' "$T/b429"
curl -s -D "$T/h529" -o "$T/b529" "$U/v1/messages" -d "$(an 'status=529')"
tap_check "anthropic status=529: overloaded_error body" \
	bash -c "grep -q '^HTTP/1.1 529 ' '$T/h529' && grep -qF '{\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\",\"message\":\"Overloaded\"}' '$T/b529'"
curl -s -D "$T/hctx" -o "$T/bctx" "$U/v1/chat/completions" -d "$(oa 'status=400 ctx=1')"
tap_check "openai status=400 ctx=1: context_length_exceeded" grep -qF '"code":"context_length_exceeded"' "$T/bctx"
curl -s -o "$T/bg429" "$GEM" -d "$(ge 'status=429 retry_after=31')"
tap_check "gemini status=429: RESOURCE_EXHAUSTED with RetryInfo 31s" \
	bash -c "grep -qF '\"status\": \"RESOURCE_EXHAUSTED\"' '$T/bg429' && grep -qF '\"retryDelay\": \"31s\"' '$T/bg429'"
code=$(curl -s -o "$T/bo404" -w '%{http_code}' "$U/api/chat" -d "$(ol 'status=404')")
tap_eq "ollama status=404: model not found" "404 {\"error\":\"model 'llama-test' not found\"}" "$code $(cat "$T/bo404")"
code=$(curl -s -o /dev/null -w '%{http_code}' "$U/no/such/path")
tap_eq "unknown path is 404" 404 "$code"
code=$(curl -s -o "$T/bad" -w '%{http_code}' "$U/v1/chat/completions" -d '{not json')
tap_eq "a body that is not JSON is 400" 400 "$code"

# ---- fail_times -------------------------------------------------------------------------
codes=
for i in 1 2 3 4; do
	codes="$codes $(curl -s -o /dev/null -w '%{http_code}' "$U/v1/messages" -d "$(an "fail_times=2 id=retry-$$ hi")")"
done
tap_eq "fail_times=2: two 529s then success (anthropic)" " 529 529 200 200" "$codes"
codes=
for i in 1 2 3; do
	codes="$codes $(curl -s -o /dev/null -w '%{http_code}' "$U/v1/chat/completions" -d "$(oa "fail_times=1 status=429 id=other-$$")")"
done
tap_eq "fail_times counts per id and uses status=" " 429 200 200" "$codes"

# ---- Faults -----------------------------------------------------------------------------
curl -sN "$U/v1/chat/completions" -d "$(oa 'tokens=10 fault=close_mid')" >"$T/f-close"
st=$?
tap_eq "fault=close_mid: curl sees a truncated transfer (18)" 18 "$st"
tap_eq "fault=close_mid: half the tokens, no [DONE]" "5 0" \
	"$(count '"delta":{"content":' "$T/f-close") $(count '[DONE]' "$T/f-close")"
curl -sN -m 1 "$U/api/chat" -d "$(ol 'tokens=10 fault=stall')" >"$T/f-stall"
st=$?
tap_eq "fault=stall: client times out (28) after half the tokens" "28 5" "$st $(wc -l <"$T/f-stall" | tr -d ' ')"
curl -sN "$U/v1/chat/completions" -d "$(oa 'tokens=4 fault=error_mid')" >"$T/f-err"
tap_check "fault=error_mid (openai): error object, no [DONE]" \
	bash -c "grep -q '^data: {\"error\":{' '$T/f-err' && ! grep -q DONE '$T/f-err'"
curl -sN "$U/v1/messages" -d "$(an 'tokens=4 fault=error_mid')" >"$T/f-err-an"
tap_check "fault=error_mid (anthropic): event: error overloaded_error" \
	bash -c "grep -A1 '^event: error' '$T/f-err-an' | grep -q overloaded_error && ! grep -q message_stop '$T/f-err-an'"
curl -sN "$GEM" -d "$(ge 'tokens=4 fault=error_mid')" >"$T/f-err-ge"
tap_check "fault=error_mid (gemini): error 503 UNAVAILABLE" grep -qF '{"error": {"code": 503' "$T/f-err-ge"
curl -sN "$U/api/chat" -d "$(ol 'tokens=4 fault=error_mid')" >"$T/f-err-ol"
tap_eq "fault=error_mid (ollama): error line ends the stream" \
	'{"error":"an error was encountered while running the model"}' "$(tail -n 1 "$T/f-err-ol")"
curl -sN "$U/v1/chat/completions" -d "$(oa 'tokens=4 fault=malformed')" >"$T/f-mal"
if [ $HAVE_PY -eq 1 ]; then
	tap_check "fault=malformed: exactly one event is not JSON, stream still completes" python3 -c '
import json, sys
bad = 0
lines = [l[6:] for l in open(sys.argv[1]).read().split("\n") if l.startswith("data: ")]
for d in lines:
    if d == "[DONE]": continue
    try: json.loads(d)
    except ValueError: bad += 1
sys.exit(0 if bad == 1 and lines[-1] == "[DONE]" else 1)
' "$T/f-mal"
else
	tap_check "fault=malformed: a truncated event, stream still completes" grep -qF '"content":"malformed' "$T/f-mal"
fi
curl -sN "$U/v1/chat/completions" -d "$(oa 'tokens=4 fault=no_usage')" >"$T/f-nu"
tap_check "fault=no_usage: no usage chunk even with include_usage" bash -c "! grep -q '\"usage\":{' '$T/f-nu'"
curl -sN "$U/v1/messages" -d "$(an 'tokens=2 fault=crlf')" >"$T/f-crlf"
tap_eq "fault=crlf: every line ends in CRLF" 0 "$(grep -cv $'\r$' "$T/f-crlf")"
curl -sN "$U/v1/chat/completions" -d "$(oa 'tokens=4 fault=huge_line')" >"$T/f-huge"
tap_check "fault=huge_line: one event line over 200 KB" \
	bash -c "awk 'length(\$0) >= 200000 { n++ } END { exit !(n == 1) }' '$T/f-huge' && grep -q 'DONE' '$T/f-huge'"
curl -s "$U/v1/messages" -H 'x-api-key: sk-echo-me-123456' -d "$(an 'status=401 fault=echo_key')" >"$T/f-echo"
tap_check "fault=echo_key: an error body quotes the request's key header" \
	grep -qF '(upstream refused the request with x-api-key: sk-echo-me-123456)' "$T/f-echo"
curl -sN "$U/v1/chat/completions" -H 'Authorization: Bearer sk-echo-me-123456' -d "$(oa 'fault=echo_key')" >"$T/f-echo2"
tap_eq "fault=echo_key: the reply text quotes it in 3-byte tokens" \
	"The request carried authorization: Bearer sk-echo-me-123456." \
	"$(grep -o '"delta":{"content":"[^"]*"' "$T/f-echo2" | sed 's/.*:"//; s/"$//' | tr -d '\n')"
tap_eq "fault=echo_key: no token is longer than 3 bytes" 0 \
	"$(grep -o '"delta":{"content":"[^"]*"' "$T/f-echo2" | sed 's/.*:"//; s/"$//' | awk 'length($0) > 3' | wc -l)"
curl -sN "$U/v1/chat/completions" -d "$(oa 'tokens=4 fault=long_line line_mb=3')" >"$T/f-long"
tap_check "fault=long_line line_mb=3: one event line of 3 MiB, then the stream goes on" \
	bash -c "awk 'length(\$0) > 3145728 && length(\$0) < 3146000 { n++ } END { exit !(n == 1) }' '$T/f-long' && grep -q 'DONE' '$T/f-long'"
curl -sN -m 1 "$U/v1/messages" -d "$(an 'tokens=0 fault=comments')" >"$T/f-com"
st=$?
tap_eq "fault=comments: keep-alive comments and no token until the client gives up (28)" \
	"28 0 0" "$st $(count content_block_delta "$T/f-com") $(count message_stop "$T/f-com")"
tap_check "fault=comments: several of them" test "$(count ': keep-alive' "$T/f-com")" -ge 3
curl -sN "$U/api/chat" -d "$(ol 'tokens=2 fault=escapes')" >"$T/f-esc"
tap_check "fault=escapes: a token written as a lone surrogate and U+0000" \
	grep -qF '"content":"<\ud800|\u0000|\udc00>"' "$T/f-esc"

# ---- Vector replay, byte for byte -------------------------------------------------------
if [ $HAVE_PY -eq 1 ] && [ -f "$SHARED/stream-vectors.json" ]; then
	for v in openai_utf8_4byte_split anthropic_one_byte_chunks_crlf gemini_basic_crlf \
		ollama_utf8_split_and_blank_lines http_openai_429_rate_limit; do
		python3 - "$SHARED/stream-vectors.json" "$v" "$T/want-$v" "$T/status-$v" <<'EOF'
import json, sys
vec = next(x for x in json.load(open(sys.argv[1])) if x["name"] == sys.argv[2])
if "chunks_hex" in vec:
    data = b"".join(bytes.fromhex(c) for c in vec["chunks_hex"])
elif vec.get("chunks_encoding") == "latin1":
    data = b"".join(c.encode("latin1") for c in vec["chunks"])
else:
    data = b"".join(c.encode("utf-8") for c in vec["chunks"])
open(sys.argv[3], "wb").write(data)
open(sys.argv[4], "w").write(str(vec.get("http_status", 200)))
EOF
		code=$(curl -sN -o "$T/got-$v" -w '%{http_code}' "$U/v1/chat/completions" -d "$(oa "vector=$v")")
		if [ "$code" = "$(cat "$T/status-$v")" ] && cmp -s "$T/want-$v" "$T/got-$v"; then
			tap_ok "vector=$v replays byte for byte (status $code)"
		else
			tap_fail "vector=$v replays byte for byte" "status $code" "$(cmp "$T/want-$v" "$T/got-$v" 2>&1)"
		fi
	done
	curl -s -D "$T/hv" -o /dev/null "$U/v1/chat/completions" -d "$(oa 'vector=http_openai_429_rate_limit')"
	tap_check "vector replay sends the recorded headers" grep -qi $'^retry-after-ms: 150\r$' "$T/hv"
else
	tap_skip "vector replay byte for byte" "needs python3 and \$SHARED/stream-vectors.json"
fi
code=$(curl -s -o /dev/null -w '%{http_code}' "$U/v1/chat/completions" -d "$(oa 'vector=no_such_vector')")
tap_eq "unknown vector is a 404" 404 "$code"

# ---- Model lists ------------------------------------------------------------------------
tap_check "GET /v1/models: OpenAI list" bash -c "curl -s '$U/v1/models' | grep -qF '{\"object\":\"list\",\"data\":[{\"id\":'"
tap_check "GET /v1/models with anthropic-version: Anthropic shape" \
	bash -c "curl -s -H 'anthropic-version: 2023-06-01' '$U/v1/models' | grep -qF '\"type\":\"model\",\"id\":\"claude-'"
curl -s "$U/v1beta/models" >"$T/gm1"
curl -s "$U/v1beta/models?pageToken=page-2" >"$T/gm2"
tap_check "GET /v1beta/models: page 1 has nextPageToken, page 2 has none" \
	bash -c "grep -qF '\"nextPageToken\": \"page-2\"' '$T/gm1' && ! grep -q nextPageToken '$T/gm2' && grep -q 'models/gemini-2.0-flash' '$T/gm2'"
tap_check "GET /api/tags: Ollama models" bash -c "curl -s '$U/api/tags' | grep -qF '{\"models\":[{\"name\":\"llama3.2:latest\"'"

# ---- HTTP behaviour ---------------------------------------------------------------------
curl -s -D "$T/hchunk" -o /dev/null "$U/v1/chat/completions" -d "$(oa 'tokens=2')"
tap_check "streams use Transfer-Encoding: chunked" grep -qi '^transfer-encoding: chunked' "$T/hchunk"
n=$(curl -s -o /dev/null -o /dev/null -w '%{num_connects}\n' "$U/v1/models" "$U/api/tags" | tr '\n' ' ')
tap_eq "keep-alive: two requests, one connection" "1 0 " "$n"
big=$(head -c 50000 /dev/zero | tr '\0' 'a')
t=$(curl -s -o "$T/big" -w '%{time_total}' "$U/api/chat" -d "{\"model\":\"m\",\"stream\":false,\"messages\":[{\"role\":\"user\",\"content\":\"$big tokens=2\"}]}")
tap_check "a 50 KB body (Expect: 100-continue) is answered at once (${t}s)" \
	bash -c "grep -qF '\"content\":\"w1 w2\"' '$T/big' && awk -v t='$t' 'BEGIN { exit !(t < 0.9) }'"
curl -s -o "$T/chunkedreq" -H 'Transfer-Encoding: chunked' "$U/api/chat" -d "$(ol 'tokens=2')"
tap_check "a chunked request body is decoded" grep -qF '"content":" w2"' "$T/chunkedreq"

# ---- Concurrency ------------------------------------------------------------------------
start=$(date +%s.%N)
pids=()
for i in $(seq 1 16); do
	curl -sN -o "$T/par-$i" "$U/v1/chat/completions" -d "$(oa "tokens=10 delay_ms=50 n$i")" &
	pids+=($!)
done
wait "${pids[@]}"
end=$(date +%s.%N)
done_n=0
for i in $(seq 1 16); do
	[ "$(count '"delta":{"content":' "$T/par-$i")" = 10 ] && grep -q 'DONE' "$T/par-$i" && done_n=$((done_n + 1))
done
tap_eq "16 concurrent streams all complete" 16 "$done_n"
el=$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.2f", b - a }')
tap_check "16 concurrent 0.45 s streams run in parallel (${el}s total)" awk -v t="$el" 'BEGIN { exit !(t < 3) }'

# ---- Speed --------------------------------------------------------------------------------
t=$(curl -sN -o "$T/big-stream" -w '%{time_total}' "$U/v1/chat/completions" -d "$(oa 'tokens=20000')")
echo "# tokens=20000 (openai) served to curl in ${t}s by $(basename "$(dirname "$FAKESERVER")") build"
tap_eq "tokens=20000 delivers 20000 deltas" 20000 "$(count '"delta":{"content":' "$T/big-stream")"
tap_check "tokens=20000 takes under 2 s even with sanitizers (${t}s)" awk -v t="$t" 'BEGIN { exit !(t < 2) }'

# ---- Log --------------------------------------------------------------------------------
before=$(wc -l <"$LOG")
curl -s -o /dev/null -o /dev/null -o /dev/null "$U/v1/models" "$U/api/tags" "$U/nope"
tap_eq "log gets exactly one line per request" 3 $(( $(wc -l <"$LOG") - before ))
tab=$'\t'
tap_check "log lines have method, path, header names and body" \
	grep -qF "POST${tab}/v1/messages${tab}Host,User-Agent,Accept,Content-Length,Content-Type${tab}{\"model\":\"claude-test\"" "$LOG"

# ---- Keys (a second server with --key) ---------------------------------------------------
ERR1=$FS_STDERR
fs_stop
tap_eq "first server exits 0 on SIGTERM (no leaks under ASan)" 0 "$?"
fs_start --key "$KEY" --log "$LOG" || exit 1
U=$FS_URL
code=$(curl -s -o "$T/k1" -w '%{http_code}' "$U/v1/chat/completions" -d "$(oa 'tokens=1')")
tap_eq "--key: openai without key is 401" 401 "$code"
code=$(curl -s -o "$T/k2" -w '%{http_code}' -H "Authorization: Bearer wrong" "$U/v1/chat/completions" -d "$(oa 'tokens=1')")
tap_check "--key: openai wrong key is 401 invalid_api_key" \
	bash -c "[ $code = 401 ] && grep -qF '\"code\":\"invalid_api_key\"' '$T/k2'"
code=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $KEY" "$U/v1/chat/completions" -d "$(oa 'tokens=1')")
tap_eq "--key: openai with Bearer key is 200" 200 "$code"
code=$(curl -s -o "$T/k3" -w '%{http_code}' "$U/v1/messages" -d "$(an 'tokens=1')")
tap_check "--key: anthropic without x-api-key is 401 authentication_error" \
	bash -c "[ $code = 401 ] && grep -qF authentication_error '$T/k3'"
code=$(curl -s -o /dev/null -w '%{http_code}' -H "x-api-key: $KEY" "$U/v1/messages" -d "$(an 'tokens=1')")
tap_eq "--key: anthropic with x-api-key is 200" 200 "$code"
code=$(curl -s -o "$T/k4" -w '%{http_code}' "$U/v1beta/models/g:streamGenerateContent?alt=sse" -d "$(ge 'tokens=1')")
tap_check "--key: gemini without key is 400 API_KEY_INVALID" \
	bash -c "[ $code = 400 ] && grep -qF '\"reason\": \"API_KEY_INVALID\"' '$T/k4'"
code=$(curl -s -o /dev/null -w '%{http_code}' -H "x-goog-api-key: $KEY" "$U/v1beta/models/g:streamGenerateContent?alt=sse" -d "$(ge 'tokens=1')")
tap_eq "--key: gemini with x-goog-api-key is 200" 200 "$code"
code=$(curl -s -o /dev/null -w '%{http_code}' "$U/v1beta/models/g:streamGenerateContent?alt=sse&key=$KEY" -d "$(ge 'tokens=1')")
tap_eq "--key: gemini with ?key= is 200" 200 "$code"
code=$(curl -s -o "$T/k5" -w '%{http_code}' "$U/api/chat" -d "$(ol 'tokens=1')")
tap_check "--key: ollama without key is 401 unauthorized" bash -c "[ $code = 401 ] && grep -qF '\"error\":\"unauthorized\"' '$T/k5'"
code=$(curl -s -o /dev/null -w '%{http_code}' "$U/v1/models")
tap_eq "--key: model list without key is 401" 401 "$code"
tap_check "log never contains a header value or ?key= value" bash -c "! grep -qF -- '$KEY' '$LOG' && ! grep -q 'Bearer' '$LOG'"
tap_check "log masks ?key= in the path" grep -qF 'alt=sse&key=REDACTED' "$LOG"

# ---- Several keys and a rate-limited one (a third server) ---------------------------------
fs_stop
fs_start --key "$KEY" --key sk-second --limit-key sk-limited || exit 1
U=$FS_URL
code=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer sk-second" "$U/v1/chat/completions" -d "$(oa 'tokens=1')")
tap_eq "--key twice: the second key is accepted too" 200 "$code"
code=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $KEY" "$U/v1/chat/completions" -d "$(oa 'tokens=1')")
tap_eq "--key twice: the first key is still accepted" 200 "$code"
code=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer sk-other" "$U/v1/chat/completions" -d "$(oa 'tokens=1')")
tap_eq "--key twice: any other key is 401" 401 "$code"
code=$(curl -s -o "$T/k6" -w '%{http_code}' -H "Authorization: Bearer sk-limited" "$U/v1/chat/completions" -d "$(oa 'tokens=1')")
tap_check "--limit-key: openai chat with that key is 429 rate_limit_exceeded" \
	bash -c "[ $code = 429 ] && grep -qF rate_limit_exceeded '$T/k6'"
code=$(curl -s -o "$T/k7" -w '%{http_code}' -H "x-api-key: sk-limited" "$U/v1/messages" -d "$(an 'tokens=1')")
tap_check "--limit-key: anthropic chat with that key is 429 rate_limit_error" \
	bash -c "[ $code = 429 ] && grep -qF rate_limit_error '$T/k7'"
code=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer sk-limited" "$U/v1/models")
tap_eq "--limit-key: the model list still answers" 200 "$code"

# ---- Lifecycle ----------------------------------------------------------------------------
curl -sN "$U/v1/chat/completions" -H "Authorization: Bearer $KEY" -d "$(oa 'tokens=4 fault=stall')" >/dev/null 2>&1 &
cpid=$!
sleep 0.3
t0=$(date +%s%N)
fs_stop
st=$?
t1=$(date +%s%N)
wait "$cpid" 2>/dev/null
tap_eq "SIGTERM with a stalled stream open exits 0" 0 "$st"
tap_check "SIGTERM exit is prompt ($(( (t1 - t0) / 1000000 )) ms)" test $(( (t1 - t0) / 1000000 )) -lt 2000
"$FAKESERVER" --max-seconds 1 --port-file "$T/portfile" >"$T/ms-out" 2>/dev/null &
mpid=$!
sleep 0.3
tap_eq "--port-file holds the port printed on stdout" "PORT $(cat "$T/portfile" 2>/dev/null)" "$(head -n 1 "$T/ms-out")"
t0=$(date +%s)
wait "$mpid"
st=$?
t1=$(date +%s)
tap_check "--max-seconds 1 exits by itself with status 0 (status $st)" test "$st" -eq 0 -a $((t1 - t0)) -le 3
tap_check "no sanitizer report from any server" \
	bash -c "! grep -qE 'Sanitizer|runtime error' '$ERR1' '$FS_STDERR'"
