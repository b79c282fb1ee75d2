#!/bin/sh
# mx-verify cross-signing import: a new mx device of a user whose
# cross-signing keys Element's engine (matrix-js-sdk's Rust crypto) keeps
# in secret storage takes them from there with the passphrase or the
# recovery key, as Element's "verify with your Security Key" does (spec:
# "Storage of the cross-signing private keys"); then the peer sees mx's
# device cross-signed.  A key in secret storage that is not the published
# one is refused.
. "$(dirname "$0")/lib.sh"
. "$MX_SRC/t/peer/peer.sh"
need_homeserver
peer_need js

setup register_user alice
setup peer_start a1 js "$alice_id" "$alice_pw"
boot=$(peer_do a1 '{"cmd":"bootstrap_backup","passphrase":"correct horse battery"}') ||
	setup_failed "the peer sets up cross-signing and secret storage"
printf '%s\n' "$boot" | jq -r .recovery_key >recovery.key
printf 'correct horse battery\n' >pass
printf 'wrong horse\n' >badpass
setup login_profile alice
alice_dev=$(mx-keys -p alice whoami | jq -r .device_id)
room=$(peer_do a1 '{"cmd":"create_room","encrypted":true}' | jq -r .room_id) ||
	setup_failed "an encrypted room"
master=$(api "$alice_token" POST /_matrix/client/v3/keys/query "{\"device_keys\":{\"$alice_id\":[]}}" |
	jq -r ".master_keys[\"$alice_id\"].keys | to_entries[0].value")
[ -n "$master" ] && [ "$master" != null ] || setup_failed "the peer's master key"

shield_of() {
	peer_wait a1 "select(.event == \"message\" and .decrypted and .content.body == \"$1\") | .shield.reason_name // \"none\"" 120 | jq -r .
}

test_expect_success 'before: mx'"'"'s messages carry the shield of a device its owner did not sign' '
	peer_do a1 "{\"cmd\":\"device_status\",\"user\":\"$alice_id\",\"device\":\"$alice_dev\",\"refresh\":true}" >d0 &&
	jq -e ".cross_signing == false" d0 &&
	mx-send -p alice "$room" "before import" &&
	test "$(shield_of "before import")" = UNSIGNED_DEVICE
'

test_expect_success 'a wrong passphrase: exit 1, nothing kept' '
	test_expect_code 1 mx-verify -p alice cross-signing import --passphrase-file badpass 2>err &&
	test "$(cat err)" = "mx-verify: wrong passphrase for secret storage" &&
	mx-verify -p alice cross-signing status >s0 &&
	jq -e ".private_keys == [] and .published == false" s0
'

test_expect_success 'import with the passphrase: keys kept, this device signed' '
	mx-verify -p alice cross-signing import --passphrase-file pass >s1 &&
	jq -e ".master_key == \"$master\" and .published and .device_signed and .private_keys == [\"master\",\"self_signing\",\"user_signing\"]" s1 &&
	test $(wc -l <s1) -eq 1 &&
	mx-verify -p alice cross-signing status >s2 && test_cmp s1 s2
'

test_expect_success 'mx now trusts the peer'"'"'s device as cross-signed by our verified master key' '
	mx-keys -p alice devices "$alice_id" >devs &&
	jq -se "map(select(.device_id == \"$a1_device\" and .trust == \"cross-signed\" and .master_verified)) | length == 1" devs
'

test_expect_success 'the peer reports mx'"'"'s device cross-signing verified, its messages without that shield' '
	peer_do a1 "{\"cmd\":\"device_status\",\"user\":\"$alice_id\",\"device\":\"$alice_dev\",\"refresh\":true}" >d1 &&
	jq -e ".cross_signing == true" d1 &&
	mx-send -p alice "$room" "after import" &&
	test "$(shield_of "after import")" = none
'

test_expect_success 'import with the recovery key, on a third device' '
	printf "%s\n" "$alice_pw" | mx-keys -p alice3 login --homeserver "$MX_TEST_HOMESERVER" -u "$alice_id" --password-stdin >/dev/null &&
	mx-verify -p alice3 cross-signing import --recovery-key-stdin <recovery.key >s3 &&
	jq -e ".master_key == \"$master\" and .published and .device_signed" s3
'

test_expect_success 'options: setup, reset and import only, one secret at a time' '
	test_expect_code 2 mx-verify -p alice cross-signing status --passphrase-file pass &&
	test_expect_code 2 mx-verify -p alice cross-signing reset --recovery-key-stdin --password-stdin </dev/null &&
	test_expect_code 2 mx-verify -p alice cross-signing setup --password-stdin --recovery-key-stdin </dev/null &&
	test_expect_code 2 mx-verify -p alice cross-signing import --passphrase-file pass --recovery-key-stdin </dev/null &&
	test_expect_code 2 mx-verify -p alice json --recovery-key-stdin </dev/null
'

# A self-signing key in secret storage that is not the published one,
# stored as any client of the account could.
setup peer_do a1 "{\"cmd\":\"ssss_store\",\"recovery_key\":\"$(cat recovery.key)\",\"name\":\"m.cross_signing.self_signing\",\"value\":\"$(head -c 32 /dev/urandom | base64 | tr -d =)\"}"

test_expect_success 'a key in secret storage that is not the published one: exit 1, nothing kept' '
	printf "%s\n" "$alice_pw" | mx-keys -p alice4 login --homeserver "$MX_TEST_HOMESERVER" -u "$alice_id" --password-stdin >/dev/null &&
	test_expect_code 1 mx-verify -p alice4 cross-signing import --passphrase-file pass 2>err &&
	test "$(cat err)" = "mx-verify: the self_signing key in secret storage is not the published one" &&
	mx-verify -p alice4 cross-signing status >s4 &&
	jq -e ".private_keys == [] and .device_signed == false" s4
'

# setup on an account with secret storage but no cross-signing (bob): it
# needs the key of that secret storage (a second default key would hide
# the secrets under the first); with --passphrase-file, mx makes the keys
# and keeps them there, where another device of bob's finds them.
setup register_user bob
setup peer_start b1 js "$bob_id" "$bob_pw"
setup peer_do b1 '{"cmd":"bootstrap_ssss","passphrase":"bob pass"}'
printf 'bob pass\n' >bobpass
setup login_profile bob

test_expect_success 'setup without the key of the account'"'"'s secret storage: exit 2, nothing made, its default key stays' '
	api "$bob_token" GET "/_matrix/client/v3/user/$(urlenc "$bob_id")/account_data/m.secret_storage.default_key" >def0 &&
	test_expect_code 2 mx-verify -p bob cross-signing setup </dev/null 2>err &&
	test "$(cat err)" = "mx-verify: the account has secret storage: give its key with --recovery-key-stdin or --passphrase-file FILE" &&
	mx-verify -p bob cross-signing status >b0 &&
	jq -e ".master_key == null and .private_keys == []" b0 &&
	api "$bob_token" GET "/_matrix/client/v3/user/$(urlenc "$bob_id")/account_data/m.secret_storage.default_key" >def1 &&
	test_cmp def0 def1
'

test_expect_success 'setup with a wrong passphrase: exit 1, nothing made' '
	test_expect_code 1 mx-verify -p bob cross-signing setup --passphrase-file badpass 2>err &&
	test "$(cat err)" = "mx-verify: wrong passphrase for secret storage" &&
	mx-verify -p bob cross-signing status >b0 &&
	jq -e ".master_key == null and .private_keys == []" b0
'

test_expect_success 'setup --passphrase-file: keys made and kept in secret storage' '
	mx-verify -p bob cross-signing setup --passphrase-file bobpass >b1 &&
	jq -e ".published and .device_signed" b1 &&
	for n in master self_signing user_signing; do
		api "$bob_token" GET "/_matrix/client/v3/user/$(urlenc "$bob_id")/account_data/m.cross_signing.$n" >sec.$n &&
		jq -e ".encrypted | length == 1" sec.$n || exit 1
	done
'

test_expect_success 'another device of bob'"'"'s imports them' '
	printf "%s\n" "$bob_pw" | mx-keys -p bob2 login --homeserver "$MX_TEST_HOMESERVER" -u "$bob_id" --password-stdin >/dev/null &&
	mx-verify -p bob2 cross-signing import --passphrase-file bobpass >b2 &&
	jq -e ".master_key == \"$(jq -r .master_key b1)\" and .published and .device_signed" b2
'

test_expect_success 'setup --recovery-key-stdin, for an account without secret storage: exit 2, nothing made' '
	register_user carol &&
	printf "%s\n" "$carol_pw" | mx-keys -p carol login --homeserver "$MX_TEST_HOMESERVER" -u "$carol_id" --password-stdin >/dev/null &&
	test_expect_code 2 mx-verify -p carol cross-signing setup --recovery-key-stdin <recovery.key 2>err &&
	test "$(cat err)" = "mx-verify: the account has no secret storage; setup without --recovery-key-stdin makes one" &&
	mx-verify -p carol cross-signing status >c0 &&
	jq -e ".master_key == null" c0
'

test_done
