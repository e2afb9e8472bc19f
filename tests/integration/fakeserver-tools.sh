#!/usr/bin/env bash
# The fake server's tool calls, checked with curl and `natter decode`: tool=NAME args=JSON
# streams a call in each protocol's wire format (OpenAI pieces with the id and index split
# over chunks, the broken-server shapes of tool_quirk=; Anthropic tool_use blocks with
# input_json_delta; Gemini functionCall with a thoughtSignature; Ollama message.tool_calls),
# whole replies carry them too, a history with the results gets an answer quoting them, and
# declarations or histories that the real API would refuse get a 400 naming the problem.
set -u
. "$TESTS/integration/lib.sh"

fs_start || exit 1
U=$FS_URL
T=$LIB_TMP
GEM="$U/v1beta/models/gemini-test:streamGenerateContent?alt=sse"
ARGS='{\"text\":\"hi there\"}'

# Declarations in each protocol's shape.
OA_TOOLS='"tools":[{"type":"function","function":{"name":"echo","description":"d","parameters":{"type":"object"}}},{"type":"function","function":{"name":"now","parameters":{"type":"object"}}}]'
AN_TOOLS='"tools":[{"name":"echo","input_schema":{"type":"object"}},{"name":"now","input_schema":{"type":"object"}}]'
GE_TOOLS='"tools":[{"functionDeclarations":[{"name":"echo","parametersJsonSchema":{"type":"object"}},{"name":"now"}]}]'

# Request bodies: $1 the prompt (no single quotes), $2 more messages after it (JSON, with a
# leading comma), $3 the declarations (default: the protocol's).
oa() { printf '{"model":"m","stream":true,"messages":[{"role":"user","content":"%s"}%s],%s}' "$1" "${2:-}" "${3-$OA_TOOLS}"; }
an() { printf '{"model":"m","max_tokens":9,"stream":true,"messages":[{"role":"user","content":"%s"}%s],%s}' "$1" "${2:-}" "${3-$AN_TOOLS}"; }
ge() { printf '{"contents":[{"role":"user","parts":[{"text":"%s"}]}%s],%s}' "$1" "${2:-}" "${3-$GE_TOOLS}"; }
ol() { printf '{"model":"m","messages":[{"role":"user","content":"%s"}%s],%s}' "$1" "${2:-}" "${3-$OA_TOOLS}"; }

# post NAME URL BODY: the response body in $T/NAME, the status in $CODE.
post() {
	CODE=$(curl -sN -o "$T/$1" -w '%{http_code}' "$2" -d "$3")
}

# summary NAME PROTO: the last line `natter decode` prints for the saved body.
summary() {
	"$NATTER" decode --protocol "$2" "$T/$1" | tail -n 1
}

# has DESC NAME TEXT: ok when the saved body holds TEXT.
has() {
	if grep -qF -- "$3" "$T/$2"; then tap_ok "$1"; else tap_fail "$1" "wanted: $3" "$(head -c 1500 "$T/$2")"; fi
}

# ---- Calls in each protocol's wire format --------------------------------------------
CALLS='"tool_calls":[{"id":"ID0","name":"echo","arguments":{"text":"hi there"}},{"id":"ID1","name":"now","arguments":{}}]'
want() { local c=${CALLS/ID0/$1}; echo "${c/ID1/$2}"; }

post oa "$U/v1/chat/completions" "$(oa "tokens=2 tool=echo args=$ARGS tool=now")"
tap_eq "openai: a call streams with status 200" 200 "$CODE"
has "openai: the first piece has index, id, type and name, with empty arguments" oa \
	'"tool_calls":[{"index":0,"id":"call_fake000001_0","type":"function","function":{"name":"echo","arguments":""}}]'
has "openai: later pieces have the index and arguments only" oa \
	'"tool_calls":[{"index":0,"function":{"arguments":"{\"text\""}}]'
has "openai: finish_reason tool_calls" oa '"finish_reason":"tool_calls"'
tap_eq "openai: natter decode reads the text and both calls" \
	"{\"text\":\"w1 w2\",\"finish_reason\":\"tool_calls\",$(want call_fake000001_0 call_fake000001_1),\"complete\":true}" \
	"$(summary oa openai)"

post oa-noidx "$U/v1/chat/completions" "$(oa "tool=echo args=$ARGS tool=now tool_quirk=no_index")"
tap_eq "openai no_index: no piece carries an index" 0 "$(grep -c '"tool_calls":\[{"index"' "$T/oa-noidx")"
has "openai no_index: the pieces carry the id" oa-noidx '"tool_calls":[{"id":"call_fake000002_0","type":"function","function":{"arguments":"{\"text\""}}]'
tap_eq "openai no_index: decoded by id" \
	"{\"text\":\"\",\"finish_reason\":\"tool_calls\",$(want call_fake000002_0 call_fake000002_1),\"complete\":true}" \
	"$(summary oa-noidx openai)"

post oa-first "$U/v1/chat/completions" "$(oa "tool=echo args=$ARGS tool=now tool_quirk=args_first")"
tap_eq "openai args_first: no id anywhere" 0 "$(grep -c '"id":"call' "$T/oa-first")"
tap_check "openai args_first: the arguments come before the name" \
	test "$(grep -n 'arguments' "$T/oa-first" | head -n 1 | cut -d: -f1)" -lt \
	"$(grep -n '"name":"echo"' "$T/oa-first" | head -n 1 | cut -d: -f1)"
tap_eq "openai args_first: decoded, with ids natter makes up" \
	"{\"text\":\"\",\"finish_reason\":\"tool_calls\",$(want call_1 call_2),\"complete\":true}" \
	"$(summary oa-first openai)"

post an "$U/v1/messages" "$(an "tokens=2 tool=echo args=$ARGS tool=now")"
has "anthropic: a tool_use block with id and name" an \
	'"content_block":{"type":"tool_use","id":"toolu_fake000004_0","name":"echo","input":{}}'
has "anthropic: the input comes in input_json_delta pieces" an '"delta":{"type":"input_json_delta","partial_json":"{\"text\""}'
has "anthropic: stop_reason tool_use" an '"stop_reason":"tool_use"'
tap_eq "anthropic: natter decode reads the text and both calls" \
	"{\"text\":\"w1 w2\",\"finish_reason\":\"tool_use\",\"usage\":{\"input_tokens\":5,\"output_tokens\":2},$(want toolu_fake000004_0 toolu_fake000004_1),\"complete\":true}" \
	"$(summary an anthropic)"

post ge "$GEM" "$(ge "tokens=2 tool=echo args=$ARGS tool=now")"
SIG=$(printf 'fakeserver:echo' | base64)
has "gemini: functionCall parts, the first with a thoughtSignature" ge \
	"{\"functionCall\": {\"name\": \"echo\", \"args\": {\"text\":\"hi there\"}}, \"thoughtSignature\": \"$SIG\"}, {\"functionCall\": {\"name\": \"now\", \"args\": {}}}"
has "gemini: the calls' response has finishReason" ge '], "role": "model"}, "finishReason": "STOP"'
tap_eq "gemini: only the calls' response has a finishReason" 1 "$(grep -c finishReason "$T/ge")"
tap_check "gemini: natter decode reads both calls" \
	bash -c "'$NATTER' decode --protocol gemini '$T/ge' | tail -n 1 | grep -qF '$(want call_1 call_2)'"

post ol "$U/api/chat" "$(ol "tokens=2 tool=echo args=$ARGS tool=now")"
has "ollama: message.tool_calls with arguments as objects" ol \
	'"tool_calls":[{"function":{"name":"echo","arguments":{"text":"hi there"}}},{"function":{"name":"now","arguments":{}}}]},"done":false}'
tap_check "ollama: natter decode reads both calls" \
	bash -c "'$NATTER' decode --protocol ollama '$T/ol' | tail -n 1 | grep -qF '$(want call_1 call_2)'"

# Whole replies (stream false) carry the calls too.
post oa-whole "$U/v1/chat/completions" "$(oa "tool=echo args=$ARGS" | sed 's/"stream":true/"stream":false/')"
has "openai whole: message.tool_calls with arguments as text" oa-whole \
	'"content":null,"tool_calls":[{"id":"call_fake000007_0","type":"function","function":{"name":"echo","arguments":"{\"text\":\"hi there\"}"}}]'
has "openai whole: finish_reason tool_calls" oa-whole '"finish_reason":"tool_calls"'
post an-whole "$U/v1/messages" "$(an "tool=echo args=$ARGS" | sed 's/"stream":true/"stream":false/')"
has "anthropic whole: a tool_use block and stop_reason tool_use" an-whole \
	'"content":[{"type":"tool_use","id":"toolu_fake000008_0","name":"echo","input":{"text":"hi there"}}],"stop_reason":"tool_use"'
post ge-whole "$U/v1beta/models/g:generateContent" "$(ge "tool=echo args=$ARGS")"
has "gemini whole: a signed functionCall part" ge-whole "\"thoughtSignature\": \"$SIG\""
post ol-whole "$U/api/chat" "$(ol "tool=echo args=$ARGS" | sed 's/"messages"/"stream":false,"messages"/')"
has "ollama whole: message.tool_calls" ol-whole '"tool_calls":[{"function":{"name":"echo","arguments":{"text":"hi there"}}}]},"done":true'

# ---- Results sent back: the answer quotes them ------------------------------------------
OA_H=',{"role":"assistant","content":null,"tool_calls":[{"id":"c1","type":"function","function":{"name":"echo","arguments":"{}"}},{"id":"c2","type":"function","function":{"name":"now","arguments":"{}"}}]},{"role":"tool","tool_call_id":"c1","content":"sunny"},{"role":"tool","tool_call_id":"c2","content":"noon"}'
post oa-res "$U/v1/chat/completions" "$(oa "tool=echo tool=now" "$OA_H")"
tap_eq "openai: a history with both results is answered (200)" 200 "$CODE"
tap_check "openai: the answer quotes the results" \
	bash -c "'$NATTER' decode --protocol openai '$T/oa-res' | tail -n 1 | grep -qF '\"text\":\"The tools answered: echo returned sunny; now returned noon.\"'"

AN_H=',{"role":"assistant","content":[{"type":"text","text":"x"},{"type":"tool_use","id":"t1","name":"echo","input":{}},{"type":"tool_use","id":"t2","name":"now","input":{}}]},{"role":"user","content":[{"type":"tool_result","tool_use_id":"t1","content":"sunny"},{"type":"tool_result","tool_use_id":"t2","content":[{"type":"text","text":"late"}],"is_error":true}]}'
post an-res "$U/v1/messages" "$(an "tool=echo tool=now" "$AN_H")"
tap_check "anthropic: the answer quotes the results, an error as failed" \
	bash -c "'$NATTER' decode --protocol anthropic '$T/an-res' | tail -n 1 | grep -qF '\"text\":\"The tools answered: echo returned sunny; now failed: late.\"'"

GE_H=",{\"role\":\"model\",\"parts\":[{\"functionCall\":{\"name\":\"echo\",\"args\":{}},\"thoughtSignature\":\"$SIG\"},{\"functionCall\":{\"name\":\"now\",\"args\":{}}}]},{\"role\":\"user\",\"parts\":[{\"functionResponse\":{\"name\":\"echo\",\"response\":{\"result\":\"sunny\"}}},{\"functionResponse\":{\"name\":\"now\",\"response\":{\"result\":\"noon\"}}}]}"
post ge-res "$GEM" "$(ge "tool=echo tool=now" "$GE_H")"
tap_check "gemini: the answer quotes the results" \
	bash -c "'$NATTER' decode --protocol gemini '$T/ge-res' | tail -n 1 | grep -qF '\"text\":\"The tools answered: echo returned sunny; now returned noon.\"'"

OL_H=',{"role":"assistant","content":"","tool_calls":[{"function":{"name":"echo","arguments":{}}}]},{"role":"tool","tool_name":"echo","content":"sunny"}'
post ol-res "$U/api/chat" "$(ol "tool=echo" "$OL_H")"
tap_check "ollama: the answer quotes the result" \
	bash -c "'$NATTER' decode --protocol ollama '$T/ol-res' | tail -n 1 | grep -qF '\"text\":\"The tools answered: echo returned sunny.\"'"

# tool_rounds=2: one round of results is not enough yet; two are.
post oa-r2 "$U/v1/chat/completions" "$(oa "tool=echo tool=now tool_rounds=2" "$OA_H")"
has "tool_rounds=2: after one round it calls again" oa-r2 '"finish_reason":"tool_calls"'
OA_H2=${OA_H//\"c1\"/\"c3\"}
OA_H2=${OA_H2//\"c2\"/\"c4\"}
post oa-r4 "$U/v1/chat/completions" "$(oa "tool=echo tool=now tool_rounds=2" "$OA_H$OA_H2")"
has "tool_rounds=2: after two rounds it answers" oa-r4 '"finish_reason":"stop"'
# A new prompt starts a new turn: earlier rounds do not count.
post oa-new "$U/v1/chat/completions" "$(oa "first" "$OA_H,{\"role\":\"assistant\",\"content\":\"ok\"},{\"role\":\"user\",\"content\":\"tool=echo\"}")"
has "a new prompt: the calls of an earlier turn do not count" oa-new '"finish_reason":"tool_calls"'

# ---- What the real APIs refuse: a 400 naming it ------------------------------------------
# refused DESC NAME URL BODY TEXT: a 400 whose body holds TEXT.
refused() {
	post "$2" "$3" "$4"
	if [ "$CODE" = 400 ] && grep -qF -- "$5" "$T/$2"; then tap_ok "$1"
	else tap_fail "$1" "status $CODE, wanted 400 with: $5" "$(head -c 800 "$T/$2")"; fi
}
refused "openai: a call without its tool message" oa-e1 "$U/v1/chat/completions" \
	"$(oa "x" "${OA_H%,\{\"role\":\"tool\",\"tool_call_id\":\"c2\"*}")" \
	"The following tool_call_ids did not have response messages: c2"
refused "openai: a tool message answering an unknown id" oa-e2 "$U/v1/chat/completions" \
	"$(oa "x" "${OA_H//\"tool_call_id\":\"c2\"/\"tool_call_id\":\"zz\"}")" "tool_call_id 'zz' answers no tool call"
refused "openai: a tool message with no call before it" oa-e3 "$U/v1/chat/completions" \
	"$(oa "x" ',{"role":"tool","tool_call_id":"c1","content":"x"}')" "must be a response to a preceeding message with 'tool_calls'"
refused "openai: arguments that are not a string" oa-e4 "$U/v1/chat/completions" \
	"$(oa "x" "${OA_H/\"arguments\":\"\{\}\"/\"arguments\":\{\}}")" "function.arguments: expected a string"
refused "openai: a declaration without type function" oa-e5 "$U/v1/chat/completions" \
	"$(oa "x" "" '"tools":[{"function":{"name":"echo"}}]')" "tools[0].type: expected 'function'"
refused "openai: a tool name OpenAI would refuse" oa-e6 "$U/v1/chat/completions" \
	"$(oa "x" "" '"tools":[{"type":"function","function":{"name":"a b"}}]')" "tools[0].function.name"
refused "a tool the request does not declare" oa-e7 "$U/v1/chat/completions" \
	"$(oa "tool=nope")" "the prompt asks for tool nope, which the request does not declare (it declares echo, now)"
refused "a tool call with no tools declared" oa-e8 "$U/v1/chat/completions" \
	"$(oa "tool=echo" "" '"stream":true')" "the request declares no tools"
refused "a tool declared twice" oa-e9 "$U/v1/chat/completions" \
	"$(oa "x" "" "${OA_TOOLS/now/echo}")" "the tool name echo is declared twice"

refused "anthropic: results split over two user messages" an-e1 "$U/v1/messages" \
	"$(an "x" ',{"role":"assistant","content":[{"type":"tool_use","id":"t1","name":"echo","input":{}},{"type":"tool_use","id":"t2","name":"now","input":{}}]},{"role":"user","content":[{"type":"tool_result","tool_use_id":"t1","content":"a"}]},{"role":"user","content":[{"type":"tool_result","tool_use_id":"t2","content":"b"}]}')" \
	"messages.1: \`tool_use\` ids were found without \`tool_result\` blocks immediately after: t2"
refused "anthropic: a tool_result with no tool_use before it" an-e2 "$U/v1/messages" \
	"$(an "x" ',{"role":"assistant","content":"hi"},{"role":"user","content":[{"type":"tool_result","tool_use_id":"t9","content":"a"}]}')" \
	"unexpected \`tool_use_id\` found in \`tool_result\` blocks: t9"
refused "anthropic: tool blocks without tools declared" an-e3 "$U/v1/messages" \
	"$(an "x" "$AN_H" '"stream":true')" "Requests which include \`tool_use\` or \`tool_result\` blocks must define tools."
refused "anthropic: text before the tool_result" an-e4 "$U/v1/messages" \
	"$(an "x" ',{"role":"assistant","content":[{"type":"tool_use","id":"t1","name":"echo","input":{}}]},{"role":"user","content":[{"type":"text","text":"hm"},{"type":"tool_result","tool_use_id":"t1","content":"a"}]}')" \
	"tool_result blocks must come first"
refused "anthropic: a declaration without input_schema" an-e5 "$U/v1/messages" \
	"$(an "x" "" '"tools":[{"name":"echo"}]')" "tools.0.custom.input_schema: Field required"
refused "anthropic: an input that is not an object" an-e6 "$U/v1/messages" \
	"$(an "x" ',{"role":"assistant","content":[{"type":"tool_use","id":"t1","name":"echo","input":"{}"}]},{"role":"user","content":[{"type":"tool_result","tool_use_id":"t1","content":"a"}]}')" \
	"tool_use.input: Input should be a valid dictionary"

refused "gemini: one response for two calls" ge-e1 "$GEM" \
	"$(ge "x" "${GE_H%,\{\"functionResponse\":\{\"name\":\"now\"*}]}")" \
	"the number of function response parts is equal to the number of function call parts"
refused "gemini: the current turn's call without a thoughtSignature" ge-e2 "$GEM" \
	"$(ge "x" "${GE_H/,\"thoughtSignature\":\"$SIG\"/}")" "Function call is missing a thought_signature in functionCall parts"
refused "gemini: a signature not echoed as sent" ge-e3 "$GEM" \
	"$(ge "x" "${GE_H/$SIG/$(printf 'fakeserver:other' | base64)}")" "the thoughtSignature of functionCall echo is not the one it came with"
refused "gemini: a response with no call before it" ge-e4 "$GEM" \
	"$(ge "x" ',{"role":"model","parts":[{"text":"hi"}]},{"role":"user","parts":[{"functionResponse":{"name":"echo","response":{}}}]}')" \
	"function response turn comes immediately after a function call turn"
refused "gemini: a bad function name" ge-e5 "$GEM" \
	"$(ge "x" "" '"tools":[{"functionDeclarations":[{"name":"9lives"}]}]')" "Invalid function name"
# An earlier turn's call may go unsigned (the API checks the current turn only), and a
# signature the fake server did not make (another client's, or the skip value) is accepted.
post ge-old "$GEM" "$(ge "x" "${GE_H/,\"thoughtSignature\":\"$SIG\"/},{\"role\":\"model\",\"parts\":[{\"text\":\"ok\"}]},{\"role\":\"user\",\"parts\":[{\"text\":\"again\"}]}")"
tap_eq "gemini: an unsigned call of an earlier turn is accepted" 200 "$CODE"
post ge-skip "$GEM" "$(ge "x" "${GE_H/$SIG/skip_thought_signature_validator}")"
tap_eq "gemini: a signature of another make is accepted" 200 "$CODE"

refused "ollama: a tool message without tool_name" ol-e1 "$U/api/chat" \
	"$(ol "x" "${OL_H/\"tool_name\":\"echo\",/}")" "tool_name: expected a string"
refused "ollama: arguments as a string" ol-e2 "$U/api/chat" \
	"$(ol "x" "${OL_H/\"arguments\":\{\}/\"arguments\":\"\{\}\"}")" "cannot unmarshal string"
refused "ollama: a call left without a result" ol-e3 "$U/api/chat" \
	"$(ol "x" "${OL_H%,\{\"role\":\"tool\"*}")" "did not have response messages: echo"

tap_check "no sanitizer report from the server" bash -c "! grep -qE 'Sanitizer|runtime error' '$FS_STDERR'"
