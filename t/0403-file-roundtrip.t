#!/bin/sh
# The toolkit's round trip: mx-send uploads a file, mx-sync (another user)
# sees the event, and the media it points to matches byte for byte.
. "${0%/*}/lib.sh"
need_homeserver

# Two logged-in users share a room.
setup register_user ann
setup register_user ben
setup login_profile ann
setup login_profile ben
room=$(create_room "$ann_token" "{\"invite\":[\"$ben_id\"]}") ||
	setup_failed "a room of ann's"
setup api "$ben_token" POST "/_matrix/client/v3/join/$(urlenc "$room")" "{}"
setup mx-sync -p ben

test_expect_success 'mx-send --file uploads a binary file' '
	head -c 70000 /dev/urandom >blob.bin &&
	mx-send -p ann --file blob.bin "$room" >sent &&
	eid=$(jq -r .event_id sent) && test -n "$eid"
'
test_expect_success 'mx-sync shows the file event to the other user' '
	eid=$(jq -r .event_id sent) &&
	mx-sync -p ben "$room" >synced &&
	jq -c "select(.event_id == \"$eid\")" synced >ev &&
	test "$(jq -r .content.msgtype ev)" = m.file &&
	test "$(jq -r .content.body ev)" = blob.bin &&
	test "$(jq -r .content.info.size ev)" = 70000 &&
	test "$(jq -r .room_id ev)" = "$room"
'
test_expect_success 'the media behind the event matches byte for byte' '
	mxc=$(jq -r .content.url ev) &&
	path=${mxc#mxc://} &&
	printf "header = \"Authorization: Bearer %s\"\n" "$ben_token" |
		curl -sSf -K - -o got.bin \
		"$MX_TEST_HOMESERVER/_matrix/client/v1/media/download/$path" &&
	cmp blob.bin got.bin
'
test_done
