#!/bin/sh
# Element's "verify this session" (spec: Client-Server API, "Sharing":
# m.secret.request, m.secret.send), both ways, against matrix-js-sdk's Rust
# crypto: after a SAS with its own other device, an mx device without the
# cross-signing keys asks that device for them (and the backup key), checks
# and keeps them, and is then cross-signed; an mx device that holds them
# gives them to the new device it verified.  Secrets sent in the clear,
# requests from another user or from an unverified device of our own get
# nothing.
. "$(dirname "$0")/lib.sh"
. "$MX_SRC/t/peer/peer.sh"
. "$MX_SRC/t/verify.sh"
need_homeserver
peer_need js

setup register_user bob
setup register_user carol
setup register_user alice
setup peer_start bob1 js "$bob_id" "$bob_pw"
boot=$(peer_do bob1 '{"cmd":"bootstrap_backup","passphrase":"correct horse battery"}') ||
	setup_failed "the peer sets up cross-signing, secret storage and a backup"
printf '%s\n' "$boot" | jq -e '.version != null' >/dev/null ||
	setup_failed "the peer's key backup"
printf '%s\n' "$bob_pw" | mx-keys -p bobmx login --homeserver "$MX_TEST_HOMESERVER" -u "$bob_id" --password-stdin >/dev/null ||
	setup_failed "mx logs in as a second device of bob"
bobmx_dev=$(mx-keys -p bobmx whoami | jq -r .device_id)

# mx_asks NAME PEER: the SAS that mx-verify NAME asked for, accepted and
# confirmed on both sides.
mx_asks() {
	r=$(peer_wait "$2" "select(.event == \"verification_request\" and .other_user == \"$bob_id\")") &&
	txn=$(printf "%s" "$r" | jq -r .transaction_id) &&
	peer_do "$2" "{\"cmd\":\"verify_accept\",\"transaction_id\":\"$txn\"}" >/dev/null &&
	wait_line "$1.out" "select(.emoji)" >/dev/null &&
	peer_wait "$2" "select(.event == \"sas\" and .transaction_id == \"$txn\")" >/dev/null &&
	echo yes >&7 &&
	peer_do "$2" "{\"cmd\":\"verify_confirm\",\"transaction_id\":\"$txn\",\"match\":true}" >/dev/null
}

test_expect_success 'before: mx holds no cross-signing key, its device is not signed' '
	mx-verify -p bobmx cross-signing status >s0 &&
	jq -e ".private_keys == [] and .device_signed == false and .master_key != null" s0
'

test_expect_success 'verify this session: mx asks bob1 after the SAS and gets the keys' '
	peer_do bob1 "{\"cmd\":\"devices\",\"user\":\"$bob_id\"}" >/dev/null &&
	verify_bg v1 bobmx 60 "$bob_id" "$bob1_device" &&
	exec 7>v1.in &&
	mx_asks v1 bob1 &&
	test "$(wait_rc v1.rc)" = 0 &&
	exec 7>&- &&
	cat v1.err && tail -n 1 v1.out &&
	tail -n 1 v1.out | jq -e ".verified and .other_device == \"$bob1_device\"" &&
	tail -n 1 v1.out | jq -e "(.secrets | index(\"m.cross_signing.self_signing\")) and (.secrets | index(\"m.cross_signing.user_signing\"))"
'

test_expect_success 'the backup key came too, checked against the backup'"'"'s public key' '
	tail -n 1 v1.out | jq -e ".secrets | index(\"m.megolm_backup.v1\")"
'

test_expect_success 'with it, backup restore needs no recovery key' '
	mx-keys -p bobmx backup restore </dev/null >rs &&
	jq -e ".rejected == 0 and (.restored | type) == \"number\"" rs
'

test_expect_success 'cross-signing status: the private keys held, this device signed' '
	mx-verify -p bobmx cross-signing status >s1 &&
	cat s1 &&
	jq -e "(.private_keys | index(\"self_signing\")) and (.private_keys | index(\"user_signing\")) and .device_signed" s1
'

test_expect_success 'the peer reports mx'"'"'s device cross-signing verified' '
	i=0 && while [ $i -lt 60 ]; do
		peer_do bob1 "{\"cmd\":\"device_status\",\"user\":\"$bob_id\",\"device\":\"$bobmx_dev\",\"refresh\":true}" >d1 &&
		jq -e ".cross_signing" d1 >/dev/null && break
		sleep 0.5; i=$((i + 1))
	done &&
	cat d1 && jq -e ".verified and .cross_signing" d1
'

# A js device of bob that holds no secret: asked, it answers nothing; a
# secret sent in the clear with the request_id mx used is refused.
setup peer_start bob3 js "$bob_id" "$bob_pw"
printf '%s\n' "$bob_pw" | mx-keys -p bobmx2 login --homeserver "$MX_TEST_HOMESERVER" -u "$bob_id" --password-stdin >/dev/null ||
	setup_failed "mx logs in as a third device of bob"
bobmx2_dev=$(mx-keys -p bobmx2 whoami | jq -r .device_id)

bobmx2_ed=$(api "$bob_token" POST /_matrix/client/v3/keys/query "{\"device_keys\":{\"$bob_id\":[]}}" |
	jq -r ".device_keys[\"$bob_id\"][\"$bobmx2_dev\"].keys[\"ed25519:$bobmx2_dev\"]")

# The secret of a device not asked, though Olm-encrypted and trusted: mx's
# first profile, which holds bob's keys and trusts bobmx2, answers a
# request forged in the clear with the request_id bobmx2 sent bob3.
test_expect_success 'a secret in the clear, and one from a device not asked, are refused; none came: exit 0, nothing kept' '
	peer_do bob3 "{\"cmd\":\"devices\",\"user\":\"$bob_id\"}" >/dev/null &&
	mx-keys -p bobmx trust "$bob_id" "$bobmx2_dev" "$bobmx2_ed" >/dev/null &&
	verify_bg v2 bobmx2 30 "$bob_id" "$bob3_device" &&
	exec 7>v2.in &&
	mx_asks v2 bob3 &&
	q=$(peer_wait bob3 "select(.event == \"to_device\" and .type == \"m.secret.request\" and .content.requesting_device_id == \"$bobmx2_dev\" and .content.name == \"m.cross_signing.self_signing\")") &&
	rid=$(printf "%s" "$q" | jq -r .content.request_id) &&
	test "$(printf "%s" "$q" | jq -r .content.action)" = request &&
	api "$bob_token" PUT "/_matrix/client/v3/sendToDevice/m.secret.send/clear$$" \
		"{\"messages\":{\"$bob_id\":{\"$bobmx2_dev\":{\"request_id\":\"$rid\",\"secret\":\"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8\"}}}}" >/dev/null &&
	api "$bob_token" PUT "/_matrix/client/v3/sendToDevice/m.secret.request/forged$$" \
		"{\"messages\":{\"$bob_id\":{\"$bobmx_dev\":{\"action\":\"request\",\"name\":\"m.cross_signing.self_signing\",\"request_id\":\"$rid\",\"requesting_device_id\":\"$bobmx2_dev\"}}}}" >/dev/null &&
	test_expect_code 1 mx-verify -v -p bobmx --json --timeout 8 sas </dev/null 2>gave.err &&
	cat gave.err &&
	grep "gave m.cross_signing.self_signing to device $bobmx2_dev" gave.err &&
	test "$(wait_rc v2.rc)" = 0 &&
	exec 7>&- &&
	cat v2.err &&
	grep "refusing a secret sent in the clear (from $bob_id)" v2.err &&
	grep "refusing a secret from a device we did not ask (from $bob_id)" v2.err &&
	grep "no secrets came from device $bob3_device" v2.err &&
	tail -n 1 v2.out | jq -e ".verified and .secrets == []" &&
	mx-verify -p bobmx2 cross-signing status >s2 &&
	jq -e ".private_keys == [] and .device_signed == false" s2 &&
	: the requests that got no answer are cancelled &&
	peer_wait bob3 "select(.event == \"to_device\" and .type == \"m.secret.request\" and .content.action == \"request_cancellation\" and .content.request_id == \"$rid\")"
'

# carol: mx made her keys; a new js device of hers verifies with mx and is
# given them.  Before that, requests from alice, from a device of carol's
# without keys and from her own js device carol2, which nobody verified,
# are refused.
setup login_profile carol
setup mx-verify -p carol cross-signing setup
carol_mx=$(mx-keys -p carol whoami | jq -r .device_id)
setup peer_start carol1 js "$carol_id" "$carol_pw"
setup peer_start carol2 js "$carol_id" "$carol_pw"

# to_device_from TOKEN: the m.room.encrypted to-device events the
# token's device got from carol's mx device.
carol_curve=$(api "$carol_token" POST /_matrix/client/v3/keys/query "{\"device_keys\":{\"$carol_id\":[]}}" |
	jq -r ".device_keys[\"$carol_id\"][\"$carol_mx\"].keys[\"curve25519:$carol_mx\"]")
to_device_from_mx() {
	api "$1" GET "/_matrix/client/v3/sync?timeout=0" |
		jq -c "[.to_device.events[]? | select(.type == \"m.room.encrypted\" and .content.sender_key == \"$carol_curve\")] | length"
}

# mx waits for carol1's request through the next two tests.
verify_bg v3 carol 90
exec 7>v3.in

test_expect_success 'requests from another user and from an unverified own device get nothing' '
	api "$alice_token" PUT "/_matrix/client/v3/sendToDevice/m.secret.request/a$$" \
		"{\"messages\":{\"$carol_id\":{\"$carol_mx\":{\"action\":\"request\",\"name\":\"m.cross_signing.self_signing\",\"request_id\":\"evil1\",\"requesting_device_id\":\"$alice_device\"}}}}" >/dev/null &&
	api "$carol_token" PUT "/_matrix/client/v3/sendToDevice/m.secret.request/c$$" \
		"{\"messages\":{\"$carol_id\":{\"$carol_mx\":{\"action\":\"request\",\"name\":\"m.cross_signing.user_signing\",\"request_id\":\"evil2\",\"requesting_device_id\":\"$carol_device\"}}}}" >/dev/null &&
	wait_grep v3.err "refusing a secret request from another user (m.cross_signing.self_signing from $alice_id" &&
	api "$carol_token" PUT "/_matrix/client/v3/sendToDevice/m.secret.request/d$$" \
		"{\"messages\":{\"$carol_id\":{\"$carol_mx\":{\"action\":\"request\",\"name\":\"m.cross_signing.master\",\"request_id\":\"evil3\",\"requesting_device_id\":\"$carol2_device\"}}}}" >/dev/null &&
	wait_grep v3.err "refusing a secret request from an unknown device (m.cross_signing.user_signing from $carol_id'"'"'s device $carol_device): nothing sent" &&
	wait_grep v3.err "refusing a secret request from a device not verified (m.cross_signing.master from $carol_id'"'"'s device $carol2_device): nothing sent" &&
	test "$(to_device_from_mx "$alice_token")" = 0 &&
	test "$(to_device_from_mx "$carol_token")" = 0
'

test_expect_success 'a new js device of carol verifies with mx and is given the keys' '
	txn=$(peer_do carol1 "{\"cmd\":\"verify_request\",\"user\":\"$carol_id\",\"device\":\"$carol_mx\"}" | jq -r .transaction_id) &&
	peer_do carol1 "{\"cmd\":\"verify_start\",\"transaction_id\":\"$txn\"}" >/dev/null &&
	wait_line v3.out "select(.emoji)" >/dev/null &&
	peer_wait carol1 "select(.event == \"sas\" and .transaction_id == \"$txn\")" >/dev/null &&
	echo yes >&7 &&
	peer_do carol1 "{\"cmd\":\"verify_confirm\",\"transaction_id\":\"$txn\",\"match\":true}" >/dev/null &&
	test "$(wait_rc v3.rc)" = 0 &&
	cat v3.err &&
	tail -n 1 v3.out | jq -e ".verified and .other_device == \"$carol1_device\" and .device_signed" &&
	grep "gave m.cross_signing.self_signing to device $carol1_device" v3.err &&
	! grep "gave .* to device $carol_device" v3.err &&
	i=0 && while [ $i -lt 60 ]; do
		peer_do carol1 "{\"cmd\":\"cross_signing_status\"}" >cs &&
		jq -e ".selfSigningKey and .userSigningKey and .masterKey" cs >/dev/null && break
		sleep 0.5; i=$((i + 1))
	done &&
	cat cs && jq -e ".selfSigningKey and .userSigningKey and .masterKey" cs &&
	: carol2, not verified, was given nothing &&
	test "$(peer_count carol2 "select(.event == \"to_device\" and (.type == \"m.secret.send\" or .type == \"m.room.encrypted\"))")" = 0 &&
	peer_do carol2 "{\"cmd\":\"cross_signing_status\"}" >cs2 &&
	jq -e ".selfSigningKey == false and .userSigningKey == false and .masterKey == false" cs2
'

peer_stop bob1
peer_stop bob3
peer_stop carol1
peer_stop carol2
exec 7>&-
test_done
