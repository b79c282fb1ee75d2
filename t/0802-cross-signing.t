#!/bin/sh
# mx-verify cross-signing setup|status: keys made, published and this
# device signed; then a SAS with a cross-signing peer (matrix-js-sdk's Rust
# crypto) makes mx's device cross-signed and verified in the peer's eyes.
. "$(dirname "$0")/lib.sh"
. "$MX_SRC/t/peer/peer.sh"
need_homeserver
peer_need js

setup register_user alice
setup register_user bob
setup login_profile alice
setup peer_start bob1 js "$bob_id" "$bob_pw"
setup peer_start bob2 js "$bob_id" "$bob_pw"
alice_dev=$(mx-keys -p alice whoami | jq -r .device_id)

test_expect_success 'status before: nothing set up' '
	mx-verify -p alice cross-signing status >s0 &&
	jq -e ".user_id == \"$alice_id\" and .master_key == null and .published == false and .private_keys == [] and .device_signed == false" s0
'

test_expect_success 'setup: keys published, this device signed, secret storage made' '
	mx-verify -p alice cross-signing setup >s1.out &&
	test $(wc -l <s1.out) -eq 1 &&
	jq -e ".published and .device_signed and .private_keys == [\"master\",\"self_signing\",\"user_signing\"] and (.master_key | length) == 43" s1.out &&
	jq -e ".recovery_key | test(\"^([1-9A-HJ-NP-Za-km-z]{4} ){11}[1-9A-HJ-NP-Za-km-z]{4}\$\")" s1.out &&
	jq -c "del(.recovery_key)" s1.out >s1 &&
	mx-verify -p alice cross-signing status >s2 &&
	jq -e "has(\"recovery_key\") | not" s2 &&
	jq -c . s2 >s2.jq && test_cmp s1 s2.jq && test_cmp s1 s2
'

test_expect_success 'setup: our own new master key is pinned and verified here' '
	mx-keys -p alice devices "$alice_id" >own &&
	jq -e -s "length > 0 and all(.[]; .master_key == \"$(jq -r .master_key s1)\" and .master_verified)" own
'

test_expect_success 'the server has them as mx says: the master key signs the self-signing key' '
	api "$bob_token" POST /_matrix/client/v3/keys/query "{\"device_keys\":{\"$alice_id\":[]}}" >q &&
	mk=$(jq -r .master_key s1) &&
	jq -e ".master_keys[\"$alice_id\"].keys[\"ed25519:$mk\"] == \"$mk\"" q &&
	jq -c ".self_signing_keys[\"$alice_id\"]" q >ssk.json &&
	mx-verify json --key "$mk" <ssk.json >v && jq -e .verified v &&
	ssk=$(jq -r ".keys | to_entries[0].value" ssk.json) &&
	jq -c ".device_keys[\"$alice_id\"][\"$alice_dev\"] | del(.unsigned)" q >dev.json &&
	mx-verify json --key "$ssk" <dev.json >v && jq -e .verified v
'

test_expect_success 'setup twice is refused (exit 2); the keys stay' '
	test_expect_code 2 mx-verify -p alice cross-signing setup 2>err &&
	grep "has cross-signing keys already" err &&
	mx-verify -p alice cross-signing status >s3 && test_cmp s1 s3
'

test_expect_success 'a second profile of the same user cannot replace them (exit 3)' '
	printf "%s\n" "$alice_pw" | mx-keys -p alice2 login --homeserver "$MX_TEST_HOMESERVER" -u "$alice_id" --password-stdin >/dev/null &&
	test_expect_code 3 mx-verify -p alice2 cross-signing setup 2>err &&
	grep "has cross-signing keys made elsewhere" err &&
	mx-verify -p alice2 cross-signing status >s4 &&
	jq -e ".published == false and .private_keys == [] and .master_key == \"$(jq -r .master_key s1)\"" s4
'

room=$(create_room "$alice_token" "{\"initial_state\":[{\"type\":\"m.room.encryption\",\"state_key\":\"\",\"content\":{\"algorithm\":\"m.megolm.v1.aes-sha2\"}}],\"invite\":[\"$bob_id\"]}") ||
	setup_failed "an encrypted room"
setup peer_do bob1 "{\"cmd\":\"join\",\"room\":\"$room\"}"
setup peer_do bob1 '{"cmd":"bootstrap_cross_signing"}'
# bob's second device, cross-signed by bob1 (which holds bob's keys)
setup peer_do bob1 "{\"cmd\":\"cross_sign_device\",\"device\":\"$bob2_device\"}"

trust_of() {
	mx-keys -p alice devices "$bob_id" | jq -r "select(.device_id == \"$1\") | .trust"
}

test_expect_success 'before a SAS mx trusts bob'"'"'s devices on first use only' '
	test "$(trust_of "$bob1_device")" = tofu &&
	test "$(trust_of "$bob2_device")" = tofu
'

test_expect_success 'before a SAS the peer does not trust mx'"'"'s device' '
	peer_do bob1 "{\"cmd\":\"device_status\",\"user\":\"$alice_id\",\"device\":\"$alice_dev\",\"refresh\":true}" >d0 &&
	jq -e ".verified == false and .cross_signing == false" d0
'

test_expect_success 'after a SAS the peer reports mx'"'"'s device cross-signing verified' '
	rm -f in.in && mkfifo in.in || exit 1
	{ mx-verify -p alice --json --timeout 60 sas <in.in >in.out 2>in.err; echo $? >in.rc; } &
	exec 7>in.in &&
	txn=$(peer_do bob1 "{\"cmd\":\"verify_request\",\"user\":\"$alice_id\",\"device\":\"$alice_dev\"}" | jq -r .transaction_id) &&
	peer_do bob1 "{\"cmd\":\"verify_start\",\"transaction_id\":\"$txn\"}" >/dev/null &&
	i=0 && while ! grep -q emoji in.out 2>/dev/null && [ $i -lt 300 ]; do sleep 0.2; i=$((i + 1)); done &&
	peer_wait bob1 "select(.event == \"sas\" and .transaction_id == \"$txn\")" >/dev/null &&
	echo yes >&7 &&
	peer_do bob1 "{\"cmd\":\"verify_confirm\",\"transaction_id\":\"$txn\",\"match\":true}" >/dev/null &&
	i=0 && while [ ! -s in.rc ] && [ $i -lt 300 ]; do sleep 0.2; i=$((i + 1)); done &&
	test "$(cat in.rc)" = 0 &&
	peer_wait bob1 "select(.event == \"verified\" and .transaction_id == \"$txn\")" >/dev/null &&
	i=0 && while [ $i -lt 60 ]; do
		peer_do bob1 "{\"cmd\":\"device_status\",\"user\":\"$alice_id\",\"device\":\"$alice_dev\",\"refresh\":true}" >d1 &&
		jq -e ".cross_signing" d1 >/dev/null && break
		sleep 0.5; i=$((i + 1))
	done &&
	cat d1 && jq -e ".verified == true and .cross_signing == true" d1 &&
	tail -n 1 in.out | jq -e ".verified and .master_verified and .master_signed"
'

test_expect_success 'mx verified bob'"'"'s master key: his other device is cross-signed' '
	test "$(trust_of "$bob1_device")" = verified &&
	test "$(trust_of "$bob2_device")" = cross-signed
'

test_expect_success 'mx'"'"'s user-signing key signed bob'"'"'s master key on the server' '
	api "$alice_token" POST /_matrix/client/v3/keys/query "{\"device_keys\":{\"$bob_id\":[],\"$alice_id\":[]}}" >q2 &&
	usk=$(jq -r ".user_signing_keys[\"$alice_id\"].keys | to_entries[0].value" q2) &&
	test -n "$usk" && test "$usk" != null &&
	jq -c ".master_keys[\"$bob_id\"]" q2 >bobmk.json &&
	jq -e ".signatures[\"$alice_id\"][\"ed25519:$usk\"]" bobmk.json &&
	mx-verify json --key "$usk" <bobmk.json >v && jq -e ".verified and .signer == \"$alice_id\"" v
'

test_expect_success 'reset: the server asks for the password; none given: exit 2, keys kept' '
	mx-verify -p alice cross-signing status >r0 &&
	test_expect_code 2 mx-verify -p alice cross-signing reset </dev/null 2>err &&
	cat err && grep "password" err &&
	mx-verify -p alice cross-signing status >r1 && test_cmp r0 r1
'

test_expect_success 'reset with a wrong password: exit 3, keys kept' '
	echo wrong-password | test_expect_code 3 mx-verify -p alice cross-signing reset --password-stdin 2>err &&
	grep "the server refused the password" err &&
	mx-verify -p alice cross-signing status >r2 && test_cmp r0 r2
'

test_expect_success 'reset with the password: new keys, published, this device signed' '
	printf "%s\n" "$alice_pw" | mx-verify -p alice cross-signing reset --password-stdin >r3 &&
	jq -e ".published and .device_signed and (.private_keys | length) == 3" r3 &&
	test "$(jq -r .master_key r3)" != "$(jq -r .master_key r0)" &&
	mx-verify -p alice cross-signing status >r4 && test_cmp r3 r4 &&
	mx-keys -p alice devices "$alice_id" >own2 &&
	jq -e -s "length > 0 and all(.[]; .master_key == \"$(jq -r .master_key r3)\" and .master_verified and (.identity_changed | not))" own2
'

test_expect_success '--password-stdin is for setup and reset only' '
	test_expect_code 2 mx-verify -p alice --password-stdin cross-signing status </dev/null &&
	test_expect_code 2 mx-verify -p alice --password-stdin json </dev/null
'

test_expect_success 'mx with mx: alice2 verifies alice, same emoji; alice signs alice2 with her self-signing key' '
	alice2_dev=$(mx-keys -p alice2 whoami | jq -r .device_id) &&
	rm -f a.in b.in && mkfifo a.in b.in || exit 1
	{ mx-verify -p alice --json --timeout 60 sas <a.in >a.out 2>a.err; echo $? >a.rc; } &
	exec 7>a.in || exit 1
	sleep 1
	{ mx-verify -p alice2 --json --timeout 60 sas "$alice_id" "$alice_dev" <b.in >b.out 2>b.err; echo $? >b.rc; } &
	exec 8>b.in || exit 1
	i=0 && while ! { grep -q emoji a.out && grep -q emoji b.out; } 2>/dev/null && [ $i -lt 300 ]; do sleep 0.2; i=$((i + 1)); done &&
	test "$(head -n 1 a.out | jq -c "[.emoji[].name]")" = "$(head -n 1 b.out | jq -c "[.emoji[].name]")" &&
	test "$(head -n 1 a.out | jq -c .decimal)" = "$(head -n 1 b.out | jq -c .decimal)" &&
	echo yes >&7 && echo yes >&8 &&
	i=0 && while { [ ! -s a.rc ] || [ ! -s b.rc ]; } && [ $i -lt 300 ]; do sleep 0.2; i=$((i + 1)); done &&
	cat a.err b.err &&
	test "$(cat a.rc) $(cat b.rc)" = "0 0" &&
	tail -n 1 a.out | jq -e ".verified and .other_device == \"$alice2_dev\" and .device_signed" &&
	tail -n 1 b.out | jq -e ".verified and .other_device == \"$alice_dev\"" &&
	test "$(mx-keys -p alice2 devices "$alice_id" | jq -r "select(.device_id == \"$alice_dev\") | .trust")" = verified &&
	api "$alice_token" POST /_matrix/client/v3/keys/query "{\"device_keys\":{\"$alice_id\":[]}}" >q3 &&
	ssk=$(jq -r ".self_signing_keys[\"$alice_id\"].keys | to_entries[0].value" q3) &&
	jq -c ".device_keys[\"$alice_id\"][\"$alice2_dev\"] | del(.unsigned)" q3 >dev2.json &&
	mx-verify json --key "$ssk" <dev2.json >v2 && jq -e .verified v2
'

test_expect_success 'alice2 asked alice for the keys after the SAS and holds them now' '
	tail -n 1 b.out | jq -e ".secrets == [\"m.cross_signing.master\",\"m.cross_signing.self_signing\",\"m.cross_signing.user_signing\"]" &&
	mx-verify -p alice2 cross-signing status >s5 &&
	jq -e ".published and .device_signed and .private_keys == [\"master\",\"self_signing\",\"user_signing\"]" s5 &&
	test "$(jq -r .master_key s5)" = "$(jq -r .master_key r3)"
'

peer_stop bob1
peer_stop bob2
test_done
