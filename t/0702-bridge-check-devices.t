#!/bin/sh
# mx-bridge-check check 11 (devices) on the real Synapse: members without
# cross-signing, devices their owner did not cross-sign, and a master key
# that changes (high, until mx-keys accept), with the pins of mx-keys.
. "${0%/*}/lib.sh"
need_homeserver

setup register_user alice
setup register_user bob
setup login_profile alice
setup login_profile bob

ENCRYPTED='{"preset":"private_chat","power_level_content_override":{"invite":50},"initial_state":[{"type":"m.room.encryption","state_key":"","content":{"algorithm":"m.megolm.v1.aes-sha2"}},{"type":"m.room.guest_access","state_key":"","content":{"guest_access":"forbidden"}}]}'
room=$(create_room "$alice_token" "$ENCRYPTED") || setup_failed "create a room"
alone=$(create_room "$alice_token" "$ENCRYPTED") || setup_failed "create a room"
setup api "$alice_token" POST "/_matrix/client/v3/rooms/$(urlenc "$room")/invite" \
	"{\"user_id\":\"$bob_id\"}"
setup api "$bob_token" POST "/_matrix/client/v3/join/$(urlenc "$room")" '{}'
bob_dev=$(mx-keys -p bob whoami | jq -r .device_id) || setup_failed "bob's device"

# master KEY: upload KEY (base64) as bob's master key, through the
# user-interactive password step when the server asks for it.
master() {
	_b="{\"master_key\":{\"user_id\":\"$bob_id\",\"usage\":[\"master\"],\"keys\":{\"ed25519:$1\":\"$1\"}}"
	_a=$(printf 'header = "Authorization: Bearer %s"\n' "$bob_token" |
		curl -sS -K - -X POST -H 'Content-Type: application/json' \
			--data-binary "$_b}" \
			"$MX_TEST_HOMESERVER/_matrix/client/v3/keys/device_signing/upload")
	_s=$(printf '%s\n' "$_a" | jq -r '.session // empty')
	[ -n "$_s" ] || return 0
	api "$bob_token" POST /_matrix/client/v3/keys/device_signing/upload \
		"$_b,\"auth\":{\"type\":\"m.login.password\",\"session\":\"$_s\",\"identifier\":{\"type\":\"m.id.user\",\"user\":\"$bob_id\"},\"password\":\"$bob_pw\"}}" >/dev/null
}
key() { od -An -N32 -tx1 /dev/urandom | tr -d ' \n' | xxd -r -p | base64 | tr -d '=\n'; }

has() {
	jq -s -e "any(.[]; $2)" "$1" >/dev/null ||
		{ echo "no line of $1 with $2:"; cat "$1"; return 1; }
}
hasnt() {
	jq -s -e "any(.[]; $2) | not" "$1" >/dev/null ||
		{ echo "a line of $1 with $2:"; cat "$1"; return 1; }
}

test_expect_success 'alone in a room: no device finding (ours is not one)' '
	mx-bridge-check -p alice "$alone" >out &&
	hasnt out ".check == \"devices\""
'

test_expect_success 'a member without cross-signing: warn, naming the device' '
	mx-bridge-check -p alice "$room" >out &&
	has out ".check == \"devices\" and .severity == \"warn\" and
		.subject == \"$bob_id\" and (.detail | startswith(\"no cross-signing\"))
		and (.detail | contains(\"$bob_dev\"))" &&
	hasnt out ".check == \"devices\" and .subject == \"$alice_id\""
'

test_expect_success '--ignore devices asks nothing of the server' '
	mx-bridge-check -vv -p alice --ignore devices "$room" >out 2>err &&
	hasnt out ".check == \"devices\"" && ! grep -q "keys/query" err &&
	mx-bridge-check -vv -p alice "$room" >out 2>err &&
	test "$(grep -c "POST .*keys/query" err)" = 1
'

test_expect_success 'a device its owner did not cross-sign: warn' '
	key >k1 && master "$(cat k1)" &&
	mx-bridge-check -p alice "$room" >out &&
	has out ".check == \"devices\" and .severity == \"warn\" and
		.subject == \"$bob_id\" and (.detail | startswith(\"device(s) neither\"))"
'

test_expect_success 'a master key that changes: high until mx-keys accept' '
	key >k2 && master "$(cat k2)" &&
	test_expect_code 1 mx-bridge-check -p alice "$room" >out &&
	has out ".check == \"devices\" and .severity == \"high\" and
		.subject == \"$bob_id\" and (.detail | contains(\"$(cat k1) to $(cat k2)\"))" &&
	test_expect_code 1 mx-bridge-check -p alice "$room" >out &&
	mx-keys -p alice accept "$bob_id" >/dev/null &&
	mx-bridge-check -p alice "$room" >out &&
	hasnt out ".check == \"devices\" and .severity == \"high\""
'

test_done
