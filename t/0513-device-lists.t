#!/bin/sh
# Stale device lists (trust, item 7), as a new user met them: alice audits
# carol's devices before carol has an encrypting client; carol then logs
# in with one; alice's next encrypted send must reach that new device.
. "$(dirname "$0")/lib.sh"
need_homeserver

setup register_user alice
setup register_user carol
setup login_profile alice
room=$(create_room "$alice_token" '{"initial_state":[{"type":"m.room.encryption","state_key":"","content":{"algorithm":"m.megolm.v1.aes-sha2"}}]}') ||
	setup_failed "an encrypted room"
setup api "$alice_token" POST "/_matrix/client/v3/rooms/$(urlenc "$room")/invite" \
	"{\"user_id\":\"$carol_id\"}"
setup api "$carol_token" POST "/_matrix/client/v3/join/$(urlenc "$room")" '{}'

test_expect_success 'an audit before carol has keys: no device' '
	mx-keys -p alice devices "$carol_id" >devs 2>err &&
	test ! -s devs && grep -q "has no device with keys" err
'

test_expect_success 'carol logs in with an encrypting client' '
	login_profile carol >/dev/null &&
	mx-sync -p carol >/dev/null
'

test_expect_success 'alice sends: carol s new device gets the key and reads it' '
	mx-send -p alice "$room" "for carol" >out &&
	mx-sync -p carol "$room" >sync &&
	jq -s -e "any(.[]; .content.body == \"for carol\" and .mx.decrypted == true)" sync
'

test_expect_success 'the audit now lists her device, asked anew' '
	mx-keys -p alice devices "$carol_id" >devs &&
	test "$(wc -l <devs)" = 1
'

test_done
