#!/usr/bin/env bash
# natter serve against the fake server, driven with curl: the OpenAI API (streaming and
# not, every protocol, reasoning, usage, models, errors and their statuses), the
# conversation API (events, continuing, reading, deleting, 422), bearer tokens, CORS,
# the body limit, the stream limit, a client hanging up mid-stream (the upstream request
# is cancelled at once and the partial reply stored as cancelled), 100 concurrent streams,
# chats in `natter sessions`, keys kept out of every answer and log line.
set -u
. "$TESTS/integration/lib.sh"

isolated_home
KEY=sk-natter-SERVEKEY-40913
LIMITED=sk-natter-LIMITED-55120
LIMITED2=sk-natter-LIMITED-55121
fs_start --key "$KEY" --limit-key "$LIMITED" --limit-key "$LIMITED2" --log "$LIB_TMP/fs.log" || exit 0
export NATTER_DB=$HOME/db/natter.db
CFG=$XDG_CONFIG_HOME/natter/natter.yaml
mkdir -p "$(dirname "$CFG")"
write_config() {
	cat >"$CFG" <<YAML
default_model: fo
providers:
  po: {protocol: openai, base_url: '$FS_URL/v1', key: $KEY, max_retries: 0}
  pa: {protocol: anthropic, base_url: '$FS_URL/v1', key: $KEY, max_retries: 0}
  pg: {protocol: gemini, base_url: '$FS_URL/v1beta', key: $KEY, max_retries: 0}
  pl: {protocol: ollama, base_url: '$FS_URL', key: $KEY, max_retries: 0}
  slow: {protocol: openai, base_url: '$FS_URL/v1', key: $KEY, max_retries: 0,
         first_token_timeout: 0.5}
  pool:
    protocol: openai
    base_url: '$FS_URL/v1'
    max_retries: 0
    keys: [{key: $LIMITED}, {key: $LIMITED2}]
  lim: {protocol: openai, base_url: '$FS_URL/v1', key: $LIMITED, max_retries: 0}
models:
  fo: {provider: po, id: m-o}
  fa: {provider: pa, id: m-a}
  fg: {provider: pg, id: m-g}
  fl: {provider: pl, id: m-l}
  fslow: {provider: slow, id: m-s}
  fpool: {provider: pool, id: m-p}
  flim: {provider: lim, id: m-l}
  small: {provider: po, id: m-small, params: {temperature: [0, 1], top_k: false}}
serve:
$1
YAML
	chmod 600 "$CFG"
}

# serve_up [ARGS...]: start natter serve on a free loopback port; SV_URL, SV_PID, SV_ERR.
serve_up() {
	local i
	SV_ERR=$(mktemp "$LIB_TMP/serve-err.XXXXXX")
	"$NATTER" serve --listen 127.0.0.1:0 "$@" 2>"$SV_ERR" </dev/null &
	SV_PID=$!
	lib_at_exit "kill $SV_PID"
	SV_PORT=
	for i in $(seq 1 200); do
		SV_PORT=$(sed -n 's/.*listening on http:\/\/127\.0\.0\.1:\([0-9]*\).*/\1/p' "$SV_ERR")
		[ -n "$SV_PORT" ] && break
		kill -0 "$SV_PID" 2>/dev/null || break
		sleep 0.05
	done
	SV_URL=http://127.0.0.1:$SV_PORT
	[ -n "$SV_PORT" ] || tap_fail "natter serve starts" "$(cat "$SV_ERR")"
}

# serve_down: SIGTERM and wait; SV_RC is its status.
serve_down() {
	kill "$SV_PID" 2>/dev/null
	wait "$SV_PID"
	SV_RC=$?
	cat "$SV_ERR" >>"$LIB_TMP/all-logs"
}

# post PATH BODY [CURL ARGS...]: POST JSON; body in $OUT, status in $ST.
OUT=$LIB_TMP/out
post() {
	local path=$1 body=$2
	shift 2
	ST=$(curl -sN -o "$OUT" -w '%{http_code}' -H 'Content-Type: application/json' \
		"$@" -d "$body" "$SV_URL$path")
	cat "$OUT" >>"$LIB_TMP/all-answers"
}
get() {
	local path=$1
	shift
	ST=$(curl -s -o "$OUT" -w '%{http_code}' "$@" "$SV_URL$path")
	cat "$OUT" >>"$LIB_TMP/all-answers"
}

# j PATH [FILE]: a value of the JSON in FILE ($OUT).
j() { sqlite3 :memory: "SELECT json_extract(readfile('${2:-$OUT}'), '$1')"; }
# sse_json FILE: the data: lines holding objects as one JSON array in $LIB_TMP/sse.json.
sse_json() {
	{ printf '['; grep '^data: {' "${1:-$OUT}" | sed 's/^data: //' | paste -sd, -; printf ']'; } \
		>"$LIB_TMP/sse.json"
}
# sse_text KEY: the concatenation of choices[0].delta.KEY over a stream in $OUT.
sse_text() {
	sse_json
	sqlite3 :memory: "SELECT coalesce(group_concat(json_extract(value, '\$.choices[0].delta.$1'), ''), '')
		FROM json_each(readfile('$LIB_TMP/sse.json'))"
}
db() { sqlite3 "$NATTER_DB" "$@"; }
chat() { printf '{"model":"%s","messages":[{"role":"user","content":"%s"}]%s}' "$1" "$2" "${3:-}"; }

write_config "  store_openai: true"
serve_up || exit 0
get /health
tap_eq "/health answers 200 ok" "200:ok" "$ST:$(j '$.status')"

for m in fo fa fg fl; do
	post /v1/chat/completions "$(chat "$m" "tokens=4")"
	tap_eq "$m: non-streaming chat.completion" "200:w1 w2 w3 w4:stop:chat.completion" \
		"$ST:$(j '$.choices[0].message.content'):$(j '$.choices[0].finish_reason'):$(j '$.object')"
	tap_eq "$m: usage counts the output tokens" "4" "$(j '$.usage.completion_tokens')"
	post /v1/chat/completions "$(chat "$m" "tokens=5 think=2" ',"stream":true')"
	tap_eq "$m: streamed content and reasoning_content" "200:w1 w2 w3 w4 w5:r1 r2" \
		"$ST:$(sse_text content):$(sse_text reasoning_content)"
	tap_eq "$m: the stream ends with a finish chunk and [DONE], no usage unasked" \
		"stop:data: [DONE]:0" \
		"$(sqlite3 :memory: "SELECT json_extract(value, '\$.choices[0].finish_reason') FROM json_each(readfile('$LIB_TMP/sse.json')) WHERE json_extract(value, '\$.choices[0].finish_reason') IS NOT NULL"):$(grep '^data: ' "$OUT" | tail -n 1):$(grep -c '"usage"' "$OUT")"
done
post /v1/chat/completions "$(chat fo "tokens=3" ',"stream":true,"stream_options":{"include_usage":true}')"
sse_json
tap_eq "include_usage: one usage chunk with empty choices" "1:3:0" \
	"$(grep -c '"usage"' "$OUT"):$(sqlite3 :memory: "SELECT json_extract(value, '\$.usage.completion_tokens'), json_array_length(value, '\$.choices') FROM json_each(readfile('$LIB_TMP/sse.json')) WHERE json_extract(value, '\$.usage') IS NOT NULL" | tr '|' ':')"
tap_check "every chunk is a chat.completion.chunk with the request's model" \
	test "$(sqlite3 :memory: "SELECT count(*) FROM json_each(readfile('$LIB_TMP/sse.json')) WHERE json_extract(value, '\$.object') != 'chat.completion.chunk' OR json_extract(value, '\$.model') != 'fo'")" = 0
post /v1/chat/completions '{"model":"fo","messages":[{"role":"system","content":"be brief"},{"role":"user","content":"first question"},{"role":"assistant","content":"first answer"},{"role":"user","content":[{"type":"text","text":"tokens=2"}]}]}'
tap_eq "a whole history with a system prompt and text parts" "200:w1 w2" \
	"$ST:$(j '$.choices[0].message.content')"
tap_check "the provider got the history and the system prompt" \
	grep -q 'first answer.*tokens=2' "$LIB_TMP/fs.log"
sid=$(db "SELECT id FROM sessions ORDER BY id DESC LIMIT 1")
tap_eq "it is stored as one session: system, 2 prompts, 2 replies" \
	"be brief|user,assistant,user,assistant|complete" \
	"$(db "SELECT system FROM sessions WHERE id = $sid")|$(db "SELECT group_concat(role) FROM (SELECT role FROM messages WHERE session_id = $sid ORDER BY seq)")|$(db "SELECT state FROM messages WHERE session_id = $sid ORDER BY seq DESC LIMIT 1")"
n=$(db "SELECT count(*) FROM sessions")
post /v1/chat/completions "$(chat fo "tokens=1" ',"store":false')"
tap_eq "\"store\": false keeps the chat out of the store" "200:$n" "$ST:$(db "SELECT count(*) FROM sessions")"
"$NATTER" sessions >"$LIB_TMP/list" 2>&1
tap_check "chats through serve are in natter sessions" grep -q "first question" "$LIB_TMP/list"

get /v1/models
tap_check "/v1/models lists the configured models" \
	test "$(sqlite3 :memory: "SELECT count(*) FROM json_each(readfile('$OUT'), '\$.data') WHERE json_extract(value, '\$.id') IN ('fo', 'fa', 'fg', 'fl')")" = 4
tap_check "/v1/models lists the providers' own models as PROVIDER/ID" grep -q '"po/fake-model"' "$OUT"

# Errors and their statuses.
post /v1/chat/completions '{"model":"fo","messages":'
tap_eq "a broken body: 400 in OpenAI's error shape" "400:invalid_request_error" "$ST:$(j '$.error.type')"
post /v1/chat/completions '{"model":"fo","messages":[]}'
tap_eq "no messages: 400 naming the parameter" "400:messages" "$ST:$(j '$.error.param')"
post /v1/chat/completions "$(chat fo hi ',"temperature":"hot"')"
tap_eq "a mistyped temperature: 400 naming it" "400:temperature" "$ST:$(j '$.error.param')"
post /v1/chat/completions "$(chat small hi ',"temperature":1.5')"
tap_check "a temperature beyond the model's range: 400 with the model's limit" \
	eval 'test "$ST" = 400 && j "\$.error.message" | grep -q "out of range for small (0 to 1)"'
post /v1/chat/completions "$(chat no-such-model hi)"
tap_eq "an unknown model: 404 model_not_found" "404:model_not_found" "$ST:$(j '$.error.code')"
post /v1/chat/completions "$(chat fo "status=500 tokens=2")"
tap_eq "a provider failure: 502" "502:api_error" "$ST:$(j '$.error.type')"
post /v1/chat/completions "$(chat fo "status=500 tokens=2" ',"stream":true')"
tap_eq "a provider failure before the first token of a stream: 502, not an event" "502" "$ST"
post /v1/chat/completions "$(chat fo "status=400 ctx=1")"
tap_eq "a context-length refusal: 400 context_length_exceeded" "400:context_length_exceeded" \
	"$ST:$(j '$.error.code')"
post /v1/chat/completions "$(chat fslow "header_delay_ms=3000 tokens=1")"
tap_eq "a provider timeout: 504" "504:upstream_timeout" "$ST:$(j '$.error.code')"
curl -s -D "$LIB_TMP/hdr" -o "$OUT" -H 'Content-Type: application/json' \
	-d "$(chat fpool "tokens=1")" "$SV_URL/v1/chat/completions" >/dev/null
tap_eq "every key of the pool rests: 429 with retry-after" "429:rate_limit_exceeded:1" \
	"$(sed -n 's/^HTTP\/1.1 \([0-9]*\).*/\1/p' "$LIB_TMP/hdr"):$(j '$.error.code'):$(grep -ci '^retry-after: [0-9]' "$LIB_TMP/hdr")"
curl -s -D "$LIB_TMP/hdr" -o "$OUT" -H 'Content-Type: application/json' \
	-d "$(chat flim "tokens=1 retry_after=7")" "$SV_URL/v1/chat/completions" >/dev/null
tap_eq "the provider's 429 with its retry-after: 429 with the same retry-after" \
	"429:rate_limit_error:retry-after: 7" \
	"$(sed -n 's/^HTTP\/1.1 \([0-9]*\).*/\1/p' "$LIB_TMP/hdr"):$(j '$.error.type'):$(grep -i '^retry-after:' "$LIB_TMP/hdr" | tr -d '\r' | tr 'A-Z' 'a-z')"
post /v1/chat/completions "$(chat fo "tokens=6 fault=error_mid" ',"stream":true')"
tap_check "a failure after the first token: an error event, no [DONE]" \
	eval 'grep -q "^data: {\"error\"" "$OUT" && ! grep -q "DONE" "$OUT" && test "$(sse_text content)" = "w1 w2 w3"'
post /v1/chat/completions "$(chat fo "tokens=2" ',"tools":[{"type":"function","function":{"name":"f"}}]')"
tap_eq "tools are refused for now: 400" "400:tools" "$ST:$(j '$.error.param')"
get /v1/nothing
tap_eq "an unknown path: 404" "404" "$ST"
get /v1/chat/completions
tap_eq "a known path with the wrong method: 405" "405" "$ST"
post /v1/chat/completions "$(chat fo "fault=echo_key tokens=3")"
tap_check "a reply quoting the provider key gets it masked" \
	eval 'test "$ST" = 200 && ! grep -q "$KEY" "$OUT"'

# The conversation API.
post /api/chat/stream '{"model":"fa","user_prompt":"tokens=3","system_prompt":"terse","hyperparameters":{"temperature":0.5}}'
sse_json
conv=$(j '$[0].conversation_id' "$LIB_TMP/sse.json")
tap_eq "S2: first the conversation id and the model" "200:fa" "$ST:$(j '$[0].model' "$LIB_TMP/sse.json")"
tap_eq "S2: content events, then an empty finished one" "w1 w2 w3|0|1" \
	"$(sqlite3 :memory: "SELECT group_concat(json_extract(value, '\$.content'), '') FROM json_each(readfile('$LIB_TMP/sse.json')) WHERE json_extract(value, '\$.finished') = 0")|$(sqlite3 :memory: "SELECT count(*) FROM json_each(readfile('$LIB_TMP/sse.json')) WHERE json_extract(value, '\$.finished') = 1 AND json_extract(value, '\$.content') != ''")|$(sqlite3 :memory: "SELECT count(*) FROM json_each(readfile('$LIB_TMP/sse.json')) WHERE json_extract(value, '\$.finished') = 1")"
post /api/chat/stream "{\"user_prompt\":\"second tokens=2\",\"conversation_id\":\"$conv\"}"
sse_json
tap_eq "S2: conversation_id continues the session with its model" "$conv:pa/m-a" \
	"$(j '$[0].conversation_id' "$LIB_TMP/sse.json"):$(j '$[0].model' "$LIB_TMP/sse.json")"
tap_check "the provider got the earlier turns too" grep -q 'w1 w2 w3.*second tokens=2' "$LIB_TMP/fs.log"
get "/api/conversations/$conv"
tap_eq "GET /api/conversations/ID: the messages in order" "200:4:terse:w1 w2" \
	"$ST:$(j '$.message_count'):$(j '$.system_prompt'):$(j '$.messages[3].content')"
get /api/conversations
tap_check "GET /api/conversations lists it" \
	test "$(sqlite3 :memory: "SELECT count(*) FROM json_each(readfile('$OUT'), '\$.conversations') WHERE json_extract(value, '\$.id') = '$conv'")" = 1
sid=$(db "SELECT max(id) FROM sessions")
post /api/chat/stream "{\"user_prompt\":\"from elsewhere tokens=1\",\"conversation_id\":$sid,\"save_conversation\":false}"
tap_eq "save_conversation false adds nothing to a continued one" "200:$(db "SELECT count(*) FROM messages")" \
	"$ST:$(db "SELECT count(*) FROM messages")"
post /api/chat/stream '{"model":"small","user_prompt":"x","hyperparameters":{"temperature":1.7,"top_k":5,"bogus":1}}'
tap_eq "S2: bad hyperparameters: 422 with one entry per field" \
	"422:3:bogus,temperature,top_k" \
	"$ST:$(j '$.detail' | sqlite3 :memory: "SELECT json_array_length(readfile('$OUT'), '\$.detail')"):$(sqlite3 :memory: "SELECT group_concat(json_extract(value, '\$.loc[2]')) FROM json_each(readfile('$OUT'), '\$.detail')")"
post /api/chat/stream '{"model":"fo"}'
tap_eq "S2: no user_prompt: 422 at body.user_prompt" "422:user_prompt" "$ST:$(j '$.detail[0].loc[1]')"
post /api/chat/stream '{"user_prompt":"x","conversation_id":"99999"}'
tap_eq "S2: an unknown conversation: 404" "404" "$ST"
ST=$(curl -s -o "$OUT" -w '%{http_code}' -X DELETE "$SV_URL/api/conversations/$conv")
tap_eq "DELETE /api/conversations/ID" "200:1" "$ST:$(j '$.deleted')"
get "/api/conversations/$conv"
tap_eq "a deleted conversation is gone" "404:0" "$ST:$(db "SELECT count(*) FROM sessions WHERE id = $conv")"

# A client hanging up mid-stream: the upstream turn is cancelled at once.
start=$(date +%s%N)
curl -sN --max-time 0.6 -o "$OUT" -H 'Content-Type: application/json' \
	-d "$(chat fo "tokens=400 delay_ms=20 hangup-marker" ',"stream":true')" "$SV_URL/v1/chat/completions"
ms=$((($(date +%s%N) - start) / 1000000))
sleep 0.5
row=$(db "SELECT state, duration_ms FROM messages WHERE role = 'assistant' AND session_id = (SELECT session_id FROM messages WHERE content LIKE '%hangup-marker%') ")
tap_eq "a client that hangs up: the partial reply is stored as cancelled" "cancelled" "${row%%|*}"
tap_check "the upstream turn ended within 100 ms of the hang-up (${row#*|} ms of a ${ms} ms client)" \
	test "${row#*|}" -le $((ms + 100))
tap_check "the log line says the client went away" grep -q 'POST /v1/chat/completions 200 .*client-gone' "$SV_ERR"
# Hanging up before the first token, while the answer's head is held back: the same.
start=$(date +%s%N)
curl -s --max-time 0.5 -o "$OUT" -H 'Content-Type: application/json' \
	-d "$(chat fo "header_delay_ms=4000 tokens=2 early-marker")" "$SV_URL/v1/chat/completions"
ms=$((($(date +%s%N) - start) / 1000000))
sleep 0.5
row=$(db "SELECT state, duration_ms FROM messages WHERE role = 'assistant' AND session_id = (SELECT session_id FROM messages WHERE content LIKE '%early-marker%') ")
tap_check "a hang-up before the first token cancels the turn at once ($row after ${ms} ms)" \
	test "${row%%|*}" = cancelled -a "${row#*|}" -le $((ms + 100))

# 100 concurrent streams.
pids=()
for i in $(seq 1 100); do
	curl -sN -m 60 -o "$LIB_TMP/c$i" -H 'Content-Type: application/json' \
		-d "$(chat fo "tokens=20 n$i" ',"stream":true')" "$SV_URL/v1/chat/completions" &
	pids+=($!)
done
wait "${pids[@]}"
okn=0
for i in $(seq 1 100); do
	[ "$(tail -n 2 "$LIB_TMP/c$i" | head -n 1)" = "data: [DONE]" ] && okn=$((okn + 1))
done
tap_eq "100 concurrent streams all complete" 100 "$okn"
tap_check "every request got one log line" test "$(grep -c '^natter serve: POST' "$SV_ERR")" -ge 100
serve_down
tap_eq "SIGTERM stops it cleanly (exit 0)" 0 "$SV_RC"

# Tokens, CORS, the body limit, the stream limit.
export SERVE_TOKEN=tok-natter-serve-31337
write_config "  tokens: [{token_env: SERVE_TOKEN}]
  cors_origins: ['http://app.example']
  max_body: 0.001
  max_streams: 1"
serve_up || exit 0
post /v1/chat/completions "$(chat fo tokens=1)"
tap_eq "no token: 401 invalid_api_key" "401:invalid_api_key" "$ST:$(j '$.error.code')"
post /v1/chat/completions "$(chat fo tokens=1)" -H "Authorization: Bearer wrong"
tap_eq "a wrong token: 401" "401" "$ST"
post /v1/chat/completions "$(chat fo tokens=1)" -H "Authorization: Bearer $SERVE_TOKEN"
tap_eq "the right token: 200" "200:w1" "$ST:$(j '$.choices[0].message.content')"
get /health
tap_eq "/health needs no token" "200" "$ST"
curl -s -D "$LIB_TMP/hdr" -o /dev/null -X OPTIONS -H 'Origin: http://app.example' \
	-H 'Access-Control-Request-Method: POST' -H 'Access-Control-Request-Headers: authorization, content-type' \
	"$SV_URL/v1/chat/completions"
tap_check "CORS preflight of an allowed origin: 204 with the allow headers" \
	eval 'grep -q "^HTTP/1.1 204" "$LIB_TMP/hdr" && grep -qi "^access-control-allow-origin: http://app.example" "$LIB_TMP/hdr" && grep -qi "^access-control-allow-headers: authorization, content-type" "$LIB_TMP/hdr"'
curl -s -D "$LIB_TMP/hdr" -o /dev/null -X OPTIONS -H 'Origin: http://evil.example' "$SV_URL/v1/chat/completions"
tap_check "another origin gets no CORS headers" eval '! grep -qi "^access-control-allow" "$LIB_TMP/hdr"'
big=$(head -c 3000 /dev/zero | tr '\0' a)
post /v1/chat/completions "$(chat fo "$big")" -H "Authorization: Bearer $SERVE_TOKEN"
tap_eq "a body over serve.max_body: 413" "413" "$ST"
curl -sN -o "$LIB_TMP/slow" -H "Authorization: Bearer $SERVE_TOKEN" -H 'Content-Type: application/json' \
	-d "$(chat fo "tokens=20 delay_ms=50" ',"stream":true')" "$SV_URL/v1/chat/completions" &
slow=$!
sleep 0.4
post /v1/chat/completions "$(chat fo tokens=1)" -H "Authorization: Bearer $SERVE_TOKEN"
tap_eq "beyond serve.max_streams: 503" "503:server_busy" "$ST:$(j '$.error.code')"
wait "$slow"
serve_down
tap_check "the token never reaches the log" eval '! grep -q "$SERVE_TOKEN" "$LIB_TMP/all-logs"'
tap_check "the provider key never reaches an answer or the log" \
	eval '! grep -q "$KEY" "$LIB_TMP/all-logs" "$LIB_TMP/all-answers"'

# A provider's model listing is kept for serve.models_refresh seconds, then listed again.
write_config "  models_refresh: 3"
listings() { grep -c $'^GET\t[^\t]*/models' "$LIB_TMP/fs.log"; }
n=$(listings)
serve_up || exit 0
for _ in $(seq 50); do # the listings at start, answered
	m=$(listings)
	[ "$m" -gt "$n" ] && [ "$m" = "$(sleep 0.2; listings)" ] && break
	sleep 0.1
done
n=$(listings)
get /v1/models
tap_eq "a fresh listing serves /v1/models without listing again" "200:$n" "$ST:$(listings)"
sleep 3.2
get /v1/models
for _ in $(seq 50); do # the new listings, answered
	m=$(listings)
	[ "$m" -gt "$n" ] && [ "$m" = "$(sleep 0.2; listings)" ] && break
	sleep 0.1
done
tap_check "once it is older than models_refresh, the next request lists again" \
	test "$(listings)" -gt "$n"
get /v1/models
tap_eq "the new listing replaces the old one" 1 "$(grep -o '"po/fake-model"' "$OUT" | wc -l)"
serve_down

# An exposed address needs a token.
unset SERVE_TOKEN
write_config "  listen: 127.0.0.1:0"
"$NATTER" serve --listen 0.0.0.0:0 >"$OUT" 2>"$LIB_TMP/err" </dev/null
RC=$?
tap_check "listening beyond loopback without a token is refused (exit 2)" \
	eval 'test $RC -eq 2 && grep -q "refusing to listen on 0.0.0.0 without a bearer token" "$LIB_TMP/err"'
"$NATTER" serve --listen 127.0.0.1:0 --token-env NO_SUCH_VAR >"$OUT" 2>"$LIB_TMP/err" </dev/null
tap_check "--token-env naming an unset variable is refused" \
	grep -q "NO_SUCH_VAR: the variable is not set" "$LIB_TMP/err"
