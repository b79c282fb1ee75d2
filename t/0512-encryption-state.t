#!/bin/sh
# Any m.room.encryption state means encrypted (DESIGN.md, threat model):
# a redacted one ({}), one with an unknown or a non-string algorithm makes
# mx-send refuse (exit 5, one line) instead of sending in the clear, also
# on a first send and in a stateless MX_IDENTITY run.  --require-encryption
# refuses a room that is not encrypted at all, and an MX_IDENTITY run does
# so unless --allow-plaintext.
. "$(dirname "$0")/lib.sh"
need_homeserver

setup register_user alice
setup login_profile alice

# state_room CONTENT: a room whose m.room.encryption content is CONTENT.
state_room() {
	create_room "$alice_token" "{\"initial_state\":[{\"type\":\"m.room.encryption\",\"state_key\":\"\",\"content\":$1}]}"
}
redacted=$(state_room '{"algorithm":"m.megolm.v1.aes-sha2"}') ||
	setup_failed "an encrypted room"
# The server (or an admin) redacts the room's m.room.encryption: its
# content becomes {}.
enc_id=$(api "$alice_token" GET "/_matrix/client/v3/rooms/$(urlenc "$redacted")/state" |
	jq -r '.[] | select(.type == "m.room.encryption") | .event_id') ||
	setup_failed "the encryption event"
setup api "$alice_token" PUT "/_matrix/client/v3/rooms/$(urlenc "$redacted")/redact/$(urlenc "$enc_id")/r1" '{}'
unknown=$(state_room '{"algorithm":"x.rot13"}') || setup_failed "a room"
number=$(state_room '{"algorithm":5}') || setup_failed "a room"
plain=$(create_room "$alice_token") || setup_failed "a plain room"
printf 'correct horse battery staple\n' >pass
chmod 600 pass
mx-keys -p alice export-identity --passphrase-file pass >id ||
	setup_failed "export-identity"

# messages ROOM: the bodies of the room's m.room.message events.
messages() {
	api "$alice_token" GET "/_matrix/client/v3/rooms/$(urlenc "$1")/messages?dir=b&limit=100" |
		jq -r '.chunk[] | select(.type == "m.room.message") | .content.body'
}

test_expect_success 'the redacted m.room.encryption is {} on the server' '
	api "$alice_token" GET "/_matrix/client/v3/rooms/$(urlenc "$redacted")/state/m.room.encryption/" | jq -c . >got &&
	echo "{}" >want && test_cmp want got
'

test_expect_success 'a redacted m.room.encryption: refused, nothing sent' '
	test_expect_code 5 mx-send -p alice "$redacted" secret 2>err &&
	echo "mx-send: '"'"'$redacted'"'"' is encrypted, but its m.room.encryption names no algorithm (redacted?): refusing to send" >want &&
	test_cmp want err &&
	test -z "$(messages "$redacted")"
'

test_expect_success 'a second send is refused too (nothing remembered as plain)' '
	test_expect_code 5 mx-send -p alice "$redacted" secret 2>err &&
	test -z "$(messages "$redacted")"
'

test_expect_success 'a stateless MX_IDENTITY run: refused too' '
	MX_IDENTITY=$(cat id) MX_IDENTITY_PASSPHRASE_FILE=pass \
		test_expect_code 5 mx-send "$redacted" secret 2>err &&
	grep -q "names no algorithm" err &&
	test -z "$(messages "$redacted")"
'

test_expect_success 'an unknown algorithm: refused' '
	test_expect_code 5 mx-send -p alice "$unknown" secret 2>err &&
	echo "mx-send: '"'"'$unknown'"'"' is encrypted with '"'"'x.rot13'"'"', which mx does not know" >want &&
	test_cmp want err &&
	test -z "$(messages "$unknown")"
'

test_expect_success 'an algorithm that is not a string: refused' '
	test_expect_code 5 mx-send -p alice "$number" secret 2>err &&
	grep -q "names no algorithm" err &&
	test -z "$(messages "$number")"
'

test_expect_success '--require-encryption: a plain room is refused' '
	test_expect_code 5 mx-send -p alice --require-encryption "$plain" x \
		2>err &&
	echo "mx-send: '"'"'$plain'"'"' is not encrypted: refusing to send (--require-encryption)" >want &&
	test_cmp want err &&
	test -z "$(messages "$plain")"
'

test_expect_success 'an MX_IDENTITY run requires encryption by default' '
	MX_IDENTITY=$(cat id) MX_IDENTITY_PASSPHRASE_FILE=pass \
		test_expect_code 5 mx-send "$plain" x 2>err &&
	echo "mx-send: '"'"'$plain'"'"' is not encrypted: a run with MX_IDENTITY sends only into encrypted rooms (--allow-plaintext lets it)" >want &&
	test_cmp want err &&
	test -z "$(messages "$plain")"
'

test_expect_success '--allow-plaintext lets it' '
	MX_IDENTITY=$(cat id) MX_IDENTITY_PASSPHRASE_FILE=pass \
		mx-send --allow-plaintext "$plain" "in the clear" >out &&
	messages "$plain" >got && echo "in the clear" >want &&
	test_cmp want got
'

test_expect_success 'the two options exclude each other (2)' '
	test_expect_code 2 mx-send -p alice --require-encryption \
		--allow-plaintext "$plain" x 2>err &&
	grep -q "exclude each other" err
'

# Cleartext where ciphertext is expected: the server, or a member with a
# client of its own, posts a plain message into an encrypted room.  It
# must not read like a decrypted one.
test_expect_success 'cleartext in an encrypted room: mx.encrypted false' '
	room=$(state_room "{\"algorithm\":\"m.megolm.v1.aes-sha2\"}") &&
	api "$alice_token" PUT "/_matrix/client/v3/rooms/$(urlenc "$room")/send/m.room.message/c1" \
		"{\"msgtype\":\"m.text\",\"body\":\"forged plain\"}" >/dev/null &&
	mx-sync -p alice --history "$room" >sync &&
	jq -se "any(.[]; .content.body == \"forged plain\" and .mx.encrypted == false)" sync &&
	jq -se "any(.[]; .type == \"m.room.create\" and .mx.encrypted == false)" sync
'

test_expect_success 'in a room that is not encrypted: nothing marked' '
	mx-sync -p alice --history "$plain" >sync &&
	jq -se "any(.[]; .content.body == \"in the clear\")" sync &&
	jq -se "all(.[]; .mx.encrypted == null)" sync
'

test_expect_success 'a live sync marks what follows a new m.room.encryption' '
	room=$(create_room "$alice_token") &&
	mx-sync -p alice >/dev/null &&
	api "$alice_token" PUT "/_matrix/client/v3/rooms/$(urlenc "$room")/send/m.room.message/p1" \
		"{\"msgtype\":\"m.text\",\"body\":\"before\"}" >/dev/null &&
	api "$alice_token" PUT "/_matrix/client/v3/rooms/$(urlenc "$room")/state/m.room.encryption/" \
		"{\"algorithm\":\"m.megolm.v1.aes-sha2\"}" >/dev/null &&
	api "$alice_token" PUT "/_matrix/client/v3/rooms/$(urlenc "$room")/send/m.room.message/p2" \
		"{\"msgtype\":\"m.text\",\"body\":\"after\"}" >/dev/null &&
	mx-sync -p alice "$room" >sync &&
	jq -se "any(.[]; .content.body == \"after\" and .mx.encrypted == false)" sync
'

test_done
