#!/usr/bin/env bash
# tmux tests of attachments in the interface, against the fake server (which logs every
# request body): /attach with Tab completing the path, @path in a message with Tab
# completing it (one match completes, several are listed), the waiting files drawn above
# the input one line each with their type and size, /detach by number and alone, a sent
# message showing its files in the transcript and the request carrying them, a text-only
# model refusing an image with the draft and the files kept for /detach, and an edited
# message bringing its files back to be sent again, and a regenerated reply sending the
# stored files again.
set -u
. "$TESTS/ui/lib-ui.bash"

isolated_home
export NATTER_DB=$LIB_TMP/attach.db
FSLOG=$LIB_TMP/fs.log
fs_start --log "$FSLOG" || exit 0
mkdir -p "$XDG_CONFIG_HOME/natter" "$LIB_TMP/w/sub"
cat >"$XDG_CONFIG_HOME/natter/natter.yaml" <<YAML
providers:
  fo: {protocol: openai, base_url: '$FS_URL/v1', local: true, max_retries: 0}
models:
  vo: {provider: fo, id: m-vision, input: [text, image]}
  to: {provider: fo, id: m-text}
YAML
cd "$LIB_TMP/w" || exit 1
printf '\x89PNG\r\n\x1a\n\x00\x00\x00\x0dIHDR\x00\x00\x00\x04\x00\x00\x00\x04\x08\x02\x00\x00\x00' >red.png
printf 'int main(void) { return 0; }\n' >main.c
echo a >notes-a.txt
echo b >notes-b.txt
echo deep >sub/deep.txt
last() { grep -F 'chat/completions' "$FSLOG" | tail -n 1 | cut -f 4; }
count() { grep -cF 'chat/completions' "$FSLOG"; }

ui_start 100 30 -m vo
ui_type "/attach re"
ui_keys Tab
ui_check "Tab completes /attach's path" ui_wait "› /attach red.png" 5
ui_keys Enter
ui_check "the waiting file shows above the input: name, type, size" \
	ui_wait "📎 1 red.png · image/png · 29 B" 5
ui_type "/attach su"
ui_keys Tab
ui_check "a directory completes with its slash" ui_wait "› /attach sub/" 5
ui_keys Tab
ui_check "... and into it" ui_wait "› /attach sub/deep.txt" 5
ui_keys Enter
ui_check "a second file takes the next line" ui_wait "📎 2 sub/deep.txt · text/plain · 5 B" 5
ui_type "/detach 1"
ui_keys Enter
ui_check "/detach N removes that one" ui_wait "detached red.png" 5
ui_check "... and the others move up" ui_wait "📎 1 sub/deep.txt" 5
ui_type "/detach"
ui_keys Enter
ui_check "/detach alone removes the last one" ui_wait_not "📎 1" 5
ui_type "/attach red.png"
ui_keys Enter
ui_wait "📎 1 red.png" 5
ui_type "compare @notes-"
ui_keys Tab
ui_check "an ambiguous @path lists the candidates" ui_wait "notes-a.txt notes-b.txt" 5
ui_keys C-u
ui_type "what is @ma"
ui_keys Tab
ui_check "Tab completes an @path" ui_wait "› what is @main.c" 5
ui_type "and why"
ui_keys Enter
ui_check "the sent message shows its files, one line each" \
	ui_wait "📎 main.c · text/x-c · 29 B" 10
ui_check "... the /attach one too" ui_wait "📎 red.png · image/png · 29 B" 5
ui_wait "fakeserver answering" 10
ui_check "the request carried the image as a data URL" \
	[ "$(last | jq -r '.messages[0].content[1].image_url.url')" = "data:image/png;base64,$(base64 -w0 red.png)" ]
ui_check "... and the @path file inlined after the text" \
	[ "$(last | jq -r '.messages[0].content[0].text')" = "what is @main.c and why"$'\n\n'"main.c:"$'\n```\nint main(void) { return 0; }\n```' ]
ui_check "nothing waits for the next message any more" ui_wait_not "📎 1" 5

ui_type "/model to"
ui_keys Enter
ui_type "/attach red.png"
ui_keys Enter
n=$(count)
ui_type "look"
ui_keys Enter
ui_check "a text-only model is refused the image, with why" \
	ui_wait "not sent: red.png is an image (image/png), but to takes text only" 10
ui_check "... the draft comes back" ui_wait "› look" 5
ui_check "... the file still waits" ui_wait "📎 1 red.png" 5
ui_check "... and nothing was sent" [ "$(count)" = "$n" ]
ui_keys C-u
ui_type "/detach"
ui_keys Enter
ui_type "/model vo"
ui_keys Enter

# Edit the first message (Tab to the transcript, Up to it, e): its files come back.
ui_keys Tab
ui_keys Up Up Up
ui_keys e
ui_check "editing a message brings its files back" ui_wait "📎 2 main.c · text/x-c" 5
ui_check "... with the text" ui_wait "› what is @main.c and why" 5
n=$(count)
ui_keys Enter
ui_wait "fakeserver answering" 10
sleep 0.3
ui_check "the resent message carries them once" \
	[ "$(count):$(last | jq -r '[.messages[0].content[] | .type] | join(",")')" = "$((n + 1)):text,image_url" ]
n=$(count)
ui_keys M-r
ui_wait "regenerating the last reply" 5
ui_wait "fakeserver answering" 10
sleep 0.3
ui_check "regenerating sends the stored files again" \
	[ "$(count):$(last | jq -r '[.messages[0].content[] | .type] | join(",")')" = "$((n + 1)):text,image_url" ]
ui_keys C-q
ui_wait_dead 10
tap_eq "natter exits 0" "0" "$(ui_exit_status)"
