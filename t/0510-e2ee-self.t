#!/bin/sh
# mx to mx in an encrypted room: mx-send encrypts, mx-sync decrypts, both
# ways, with the verdict under "mx".
. "$(dirname "$0")/lib.sh"
need_homeserver

register_user alice
register_user bob
login_profile alice >/dev/null
login_profile bob >/dev/null
room=$(create_room "$alice_token" '{"initial_state":[{"type":"m.room.encryption","state_key":"","content":{"algorithm":"m.megolm.v1.aes-sha2"}}]}')
api "$alice_token" POST "/_matrix/client/v3/rooms/$(urlenc "$room")/invite" \
	"{\"user_id\":\"$bob_id\"}" >/dev/null
api "$bob_token" POST "/_matrix/client/v3/join/$(urlenc "$room")" '{}' >/dev/null

test_expect_success 'mx-send encrypts into an encrypted room' '
	mx-sync -p bob >/dev/null &&
	mx-send -p alice "$room" "hello encrypted" >out &&
	eid=$(jq -r .event_id out) &&
	api "$bob_token" GET "/_matrix/client/v3/rooms/$(urlenc "$room")/event/$(urlenc "$eid")" >raw &&
	jq -e ".type == \"m.room.encrypted\" and .content.algorithm == \"m.megolm.v1.aes-sha2\"" raw
'

test_expect_success 'mx-sync decrypts it, with a verdict' '
	mx-sync -p bob "$room" >sync &&
	jq -e "select(.type == \"m.room.message\") | select(.content.body == \"hello encrypted\") | .mx.decrypted and .mx.encrypted and .mx.trust == \"tofu\" and .mx.session_id != null" sync
'

test_expect_success 'the other way round' '
	mx-send -p bob "$room" "reply from bob" >/dev/null &&
	mx-sync -p alice "$room" >sync2 &&
	jq -e "select(.content.body == \"reply from bob\") | .mx.decrypted" sync2
'

test_done
