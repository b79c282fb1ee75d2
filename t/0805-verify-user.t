#!/bin/sh
# mx-verify sas USER: verifying a user, as Element's "Verify user" does,
# against matrix-js-sdk 36 with its Rust crypto.  Without a DM: the
# request goes to each of the user's devices, the first ready wins and the
# others are told m.accepted.  With an encrypted DM (in m.direct on both
# sides): in-room, the events Megolm-encrypted in the DM and relating to
# the request event, both directions; both sides show the same emoji;
# "no" on either side cancels both; events relating to another event, or
# in another room, do not touch the flow.
. "$(dirname "$0")/lib.sh"
. "$MX_SRC/t/peer/peer.sh"
. "$MX_SRC/t/verify.sh"
need_homeserver
peer_need js

setup register_user alice
setup register_user bob
setup login_profile alice
# The Rust engine verifies in-room only a user with a cross-signing
# identity: alice gets one.
setup mx-verify -p alice cross-signing setup
setup peer_start bob1 js "$bob_id" "$bob_pw"
setup peer_start bob2 js "$bob_id" "$bob_pw"
alice_dev=$(mx-keys -p alice whoami | jq -r .device_id)

# A shared encrypted room that is no DM: the Rust engine answers only
# devices it tracks.
room=$(create_room "$alice_token" "{\"initial_state\":[{\"type\":\"m.room.encryption\",\"state_key\":\"\",\"content\":{\"algorithm\":\"m.megolm.v1.aes-sha2\"}}],\"invite\":[\"$bob_id\"]}") ||
	setup_failed "an encrypted room"
setup peer_do bob1 "{\"cmd\":\"join\",\"room\":\"$room\"}"
setup peer_do bob2 '{"cmd":"wait_sync"}'
setup mx-send -p alice "$room" "hello"

trust_of() {
	mx-keys -p alice devices "$bob_id" | jq -r "select(.device_id == \"$1\") | .trust"
}

test_expect_success 'no DM: sas USER asks every device; one accepts, the other gets m.accepted' '
	verify_bg f1 alice 60 "$bob_id" &&
	exec 7>f1.in &&
	r1=$(peer_wait bob1 "select(.event == \"verification_request\" and .other_user == \"$alice_id\")") &&
	r2=$(peer_wait bob2 "select(.event == \"verification_request\" and .other_user == \"$alice_id\")") &&
	txn=$(printf "%s" "$r2" | jq -r .transaction_id) &&
	test "$(printf "%s" "$r1" | jq -r .transaction_id)" = "$txn" &&
	printf "%s" "$r2" | jq -e ".room_id == null" &&
	peer_do bob2 "{\"cmd\":\"verify_accept\",\"transaction_id\":\"$txn\"}" >/dev/null &&
	m=$(wait_line f1.out "select(.emoji)") &&
	p=$(peer_wait bob2 "select(.event == \"sas\" and .transaction_id == \"$txn\")") &&
	same_emoji "$m" "$p" &&
	test "$(printf "%s" "$m" | jq -r .other_device)" = "$bob2_device" &&
	peer_wait bob1 "select(.event == \"verification_cancelled\" and .transaction_id == \"$txn\" and .code == \"m.accepted\")" &&
	echo yes >&7 &&
	peer_do bob2 "{\"cmd\":\"verify_confirm\",\"transaction_id\":\"$txn\",\"match\":true}" >/dev/null &&
	test "$(wait_rc f1.rc)" = 0 &&
	exec 7>&- &&
	tail -n 1 f1.out | jq -e ".verified == true and .other_user == \"$bob_id\" and .other_device == \"$bob2_device\" and .room_id == null" &&
	peer_wait bob2 "select(.event == \"verified\" and .transaction_id == \"$txn\")" &&
	test "$(trust_of "$bob2_device")" = verified &&
	test "$(trust_of "$bob1_device")" != verified
'

# bob2 is done: the Rust engine of a device that saw another device of
# its user take a request cancels the next request (m.user), which would
# make the in-room tests below about it, not about mx.
peer_stop bob2

# The encrypted DM, recorded in m.direct on both sides.
dm=$(mx-room -p alice create --dm "$bob_id" | jq -er .room_id) ||
	setup_failed "an encrypted DM"
setup peer_do bob1 "{\"cmd\":\"join\",\"room\":\"$dm\"}"
setup peer_do bob1 "{\"cmd\":\"set_dm\",\"user\":\"$alice_id\",\"room\":\"$dm\"}"
setup mx-send -p alice "$dm" "hello in the DM"

test_expect_success 'the DM is encrypted and in m.direct on both sides' '
	mx-room -p alice state "$dm" m.room.encryption >enc.out &&
	jq -e .algorithm enc.out &&
	mx-room -p alice list >list.out &&
	jq -se "map(select(.room_id == \"$dm\")) | length == 1 and .[0].dm_with == \"$bob_id\"" list.out
'

test_expect_success 'in-room: the peer asks (Verify user), mx accepts; same emoji; both yes' '
	verify_bg i1 alice 60 &&
	exec 7>i1.in &&
	txn=$(peer_do bob1 "{\"cmd\":\"verify_request_dm\",\"user\":\"$alice_id\",\"room\":\"$dm\"}" | jq -r .transaction_id) &&
	case $txn in \$*) ;; *) false ;; esac &&
	peer_do bob1 "{\"cmd\":\"verify_start\",\"transaction_id\":\"$txn\"}" >/dev/null &&
	m=$(wait_line i1.out "select(.emoji)") &&
	p=$(peer_wait bob1 "select(.event == \"sas\" and .transaction_id == \"$txn\")") &&
	same_emoji "$m" "$p" &&
	test "$(printf "%s" "$m" | jq -c .decimal)" = "$(printf "%s" "$p" | jq -c .decimal)" &&
	test "$(printf "%s" "$m" | jq -r ".transaction_id + \" \" + .other_user + \" \" + .other_device")" = "$txn $bob_id $bob1_device" &&
	echo yes >&7 &&
	peer_do bob1 "{\"cmd\":\"verify_confirm\",\"transaction_id\":\"$txn\",\"match\":true}" >/dev/null &&
	test "$(wait_rc i1.rc)" = 0 &&
	exec 7>&- &&
	tail -n 1 i1.out | jq -e ".verified == true and .room_id == \"$dm\" and .transaction_id == \"$txn\" and .other_device == \"$bob1_device\"" &&
	peer_wait bob1 "select(.event == \"verified\" and .transaction_id == \"$txn\")" &&
	test "$(trust_of "$bob1_device")" = verified &&
	peer_do bob1 "{\"cmd\":\"device_status\",\"user\":\"$alice_id\",\"device\":\"$alice_dev\"}" | jq -e .verified
'

test_expect_success 'in-room: mx asks in the DM (sas USER), the peer accepts; both yes' '
	verify_bg i2 alice 60 "$bob_id" &&
	exec 7>i2.in &&
	r=$(peer_wait bob1 "select(.event == \"verification_request\" and .room_id == \"$dm\" and .other_user == \"$alice_id\")") &&
	txn=$(printf "%s" "$r" | jq -r .transaction_id) &&
	case $txn in \$*) ;; *) false ;; esac &&
	peer_do bob1 "{\"cmd\":\"verify_accept\",\"transaction_id\":\"$txn\"}" >/dev/null &&
	m=$(wait_line i2.out "select(.emoji)") &&
	p=$(peer_wait bob1 "select(.event == \"sas\" and .transaction_id == \"$txn\")") &&
	same_emoji "$m" "$p" &&
	test "$(printf "%s" "$m" | jq -r .transaction_id)" = "$txn" &&
	peer_do bob1 "{\"cmd\":\"verify_confirm\",\"transaction_id\":\"$txn\",\"match\":true}" >/dev/null &&
	echo yes >&7 &&
	test "$(wait_rc i2.rc)" = 0 &&
	exec 7>&- &&
	tail -n 1 i2.out | jq -e ".verified == true and .room_id == \"$dm\" and .other_device == \"$bob1_device\"" &&
	peer_wait bob1 "select(.event == \"verified\" and .transaction_id == \"$txn\")"
'

test_expect_success 'in-room: "no" on mx cancels both sides' '
	verify_bg i3 alice 60 "$bob_id" &&
	exec 7>i3.in &&
	old=$(jq -r .transaction_id i2.out | head -n 1) &&
	r=$(peer_wait bob1 "select(.event == \"verification_request\" and .room_id == \"$dm\" and .transaction_id != \"$old\")") &&
	txn=$(printf "%s" "$r" | jq -r .transaction_id) &&
	peer_do bob1 "{\"cmd\":\"verify_accept\",\"transaction_id\":\"$txn\"}" >/dev/null &&
	m=$(wait_line i3.out "select(.emoji)") &&
	test "$(printf "%s" "$m" | jq -r .other_device)" = "$bob1_device" &&
	peer_wait bob1 "select(.event == \"sas\" and .transaction_id == \"$txn\")" >/dev/null &&
	echo no >&7 &&
	test "$(wait_rc i3.rc)" = 1 &&
	exec 7>&- &&
	tail -n 1 i3.out | jq -e ".verified == false and .cancel.code == \"m.mismatched_sas\" and .cancel.by == \"us\"" &&
	grep "verification cancelled by us: m.mismatched_sas" i3.err &&
	peer_wait bob1 "select(.event == \"verification_cancelled\" and .transaction_id == \"$txn\" and .code == \"m.mismatched_sas\")"
'

test_expect_success 'in-room: "no" on the peer cancels mx too (exit 1)' '
	verify_bg i4 alice 60 &&
	exec 7>i4.in &&
	txn=$(peer_do bob1 "{\"cmd\":\"verify_request_dm\",\"user\":\"$alice_id\",\"room\":\"$dm\"}" | jq -r .transaction_id) &&
	peer_do bob1 "{\"cmd\":\"verify_start\",\"transaction_id\":\"$txn\"}" >/dev/null &&
	wait_line i4.out "select(.emoji)" >/dev/null &&
	peer_wait bob1 "select(.event == \"sas\" and .transaction_id == \"$txn\")" >/dev/null &&
	peer_do bob1 "{\"cmd\":\"verify_confirm\",\"transaction_id\":\"$txn\",\"match\":false}" >/dev/null &&
	echo yes >&7 &&
	test "$(wait_rc i4.rc)" = 1 &&
	exec 7>&- &&
	tail -n 1 i4.out | jq -e ".verified == false and .cancel.code == \"m.mismatched_sas\" and .cancel.by == \"them\" and .transaction_id == \"$txn\""
'

# A cancel of bob relating to another event (an older request, encrypted,
# in the DM) while mx waits for the ready: it does not end the flow.  (A
# relation into another room the server refuses to send.)
test_expect_success 'in-room: a relation to another event is ignored' '
	verify_bg i5 alice 60 "$bob_id" &&
	exec 7>i5.in &&
	old=$(jq -r .transaction_id i3.out | head -n 1) &&
	r=$(peer_wait bob1 "select(.event == \"verification_request\" and .room_id == \"$dm\" and .transaction_id != \"$old\" and .transaction_id != \"$(jq -r .transaction_id i2.out | head -n 1)\")") &&
	txn=$(printf "%s" "$r" | jq -r .transaction_id) &&
	peer_do bob1 "{\"cmd\":\"send\",\"room\":\"$dm\",\"type\":\"m.key.verification.cancel\",\"content\":{\"code\":\"m.user\",\"reason\":\"forged\",\"m.relates_to\":{\"rel_type\":\"m.reference\",\"event_id\":\"$old\"}}}" >/dev/null &&
	sleep 3 &&
	test ! -s i5.rc &&
	peer_do bob1 "{\"cmd\":\"verify_accept\",\"transaction_id\":\"$txn\"}" >/dev/null &&
	wait_line i5.out "select(.emoji)" >/dev/null &&
	peer_wait bob1 "select(.event == \"sas\" and .transaction_id == \"$txn\")" >/dev/null &&
	peer_do bob1 "{\"cmd\":\"verify_confirm\",\"transaction_id\":\"$txn\",\"match\":true}" >/dev/null &&
	echo yes >&7 &&
	test "$(wait_rc i5.rc)" = 0 &&
	exec 7>&- &&
	tail -n 1 i5.out | jq -e ".verified == true and .room_id == \"$dm\""
'

# An in-room request in a room that is no DM (not in alice's m.direct) is
# not taken by sas.
test_expect_success 'in-room: a request outside a DM is ignored' '
	peer_do bob1 "{\"cmd\":\"verify_request_dm\",\"user\":\"$alice_id\",\"room\":\"$room\"}" >/dev/null &&
	test_expect_code 1 mx-verify -p alice --json --timeout 8 sas </dev/null >n.out 2>n.err &&
	grep "no verification request came in 8 s" n.err
'

test_expect_success 'usage: sas takes a user ID' '
	test_expect_code 2 mx-verify -p alice --json sas "#room:hs" </dev/null 2>u.err &&
	grep "user ID" u.err
'

peer_stop bob1
test_done
