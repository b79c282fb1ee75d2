#!/bin/sh
# mx-verify cross-signing setup on an account without secret storage
# makes it (spec: Client-Server API, "Secret storage",
# m.secret_storage.v1.aes-hmac-sha2; "Storage of the cross-signing private
# keys"): a new random key whose recovery key is printed once, or a key
# from a passphrase (m.pbkdf2).  Element's engine (matrix-js-sdk's Rust
# crypto), on another device of the same user, opens it with that
# recovery key or passphrase and takes the same cross-signing keys; so
# does another mx profile with cross-signing import.
. "$(dirname "$0")/lib.sh"
. "$MX_SRC/t/peer/peer.sh"
need_homeserver
peer_need js

setup register_user alice
setup register_user bob
setup login_profile alice
setup login_profile bob

# The account data of type $2 of user $1 ($3 the token).
acct() {
	api "$3" GET "/_matrix/client/v3/user/$(urlenc "$1")/account_data/$2"
}

b58='[1-9A-HJ-NP-Za-km-z]'
test_expect_success 'setup: secret storage made, its recovery key printed once, nowhere else' '
	mx-verify -vv -p alice cross-signing setup >s1.out 2>trace &&
	test $(wc -l <s1.out) -eq 1 &&
	jq -e ".published and .device_signed and (.private_keys | length) == 3" s1.out &&
	jq -r .recovery_key s1.out >recovery.key &&
	grep -Eqx "($b58{4} ){11}$b58{4}" recovery.key &&
	! grep -F "$(cat recovery.key)" trace &&
	! grep -F "$(tr -d " " <recovery.key)" trace &&
	mx-verify -p alice cross-signing status >s2 &&
	jq -e "has(\"recovery_key\") | not" s2
'

test_expect_success 'the account data is well formed: default key, its description, three secrets under it' '
	acct "$alice_id" m.secret_storage.default_key "$alice_token" >def &&
	id=$(jq -r .key def) && test ${#id} -eq 32 &&
	acct "$alice_id" "m.secret_storage.key.$id" "$alice_token" >desc &&
	cat desc &&
	jq -e ".algorithm == \"m.secret_storage.v1.aes-hmac-sha2\" and (.iv | test(\"^[A-Za-z0-9+/]{22}(==)?\$\")) and (.mac | test(\"^[A-Za-z0-9+/]{43}=?\$\")) and has(\"passphrase\") == false" desc &&
	for n in master self_signing user_signing; do
		acct "$alice_id" "m.cross_signing.$n" "$alice_token" >sec.$n &&
		jq -e ".encrypted | keys == [\"$id\"] and (.[\"$id\"] | (.iv | length) > 0 and (.ciphertext | length) > 0 and (.mac | length) > 0)" sec.$n || exit 1
	done
'

# Element on another device of alice's, after mx made secret storage.
setup peer_start a1 js "$alice_id" "$alice_pw"

test_expect_success 'the peer opens secret storage with the recovery key: the same master key, cross-signing ready' '
	peer_do a1 "{\"cmd\":\"ssss_cross_signing\",\"recovery_key\":\"$(cat recovery.key)\"}" >p1 &&
	cat p1 &&
	mk=$(jq -r .master_key s1.out) &&
	jq -e ".ok and .key_ok and .master_in_ssss == \"$mk\" and .master_key == \"$mk\" and .cross_signing_ready and .secret_storage_ready and .private_keys.masterKey and .private_keys.selfSigningKey and .private_keys.userSigningKey" p1
'

test_expect_success 'the peer signed its device with the self-signing key from secret storage' '
	mx-keys -p alice devices "$alice_id" >devs &&
	jq -se "map(select(.device_id == \"$a1_device\" and .cross_signed and .master_key == \"$(jq -r .master_key s1.out)\")) | length == 1" devs
'

test_expect_success 'another mx profile of alice'"'"'s imports the keys with the recovery key' '
	printf "%s\n" "$alice_pw" | mx-keys -p alice2 login --homeserver "$MX_TEST_HOMESERVER" -u "$alice_id" --password-stdin >/dev/null &&
	mx-verify -p alice2 cross-signing import --recovery-key-stdin <recovery.key >i1 &&
	jq -e ".master_key == \"$(jq -r .master_key s1.out)\" and .published and .device_signed and (.private_keys | length) == 3 and has(\"recovery_key\") == false" i1
'

# A server that passes off a self-signing key its master key never signed
# (t/0306-proxy.py strips the signatures from /keys/query answers): import
# takes nothing, though secret storage holds the key's private half.
python3 "$MX_SRC/t/0306-proxy.py" "$MX_TEST_HOMESERVER" mode puts >port &
proxy_pid=$!
trap 'kill $proxy_pid 2>/dev/null; _peer_cleanup' EXIT
i=0
while [ ! -s port ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
[ -s port ] || setup_failed "the proxy t/0306-proxy.py did not start"
proxy=http://127.0.0.1:$(cat port)

test_expect_success 'import refuses a published self-signing key the master key did not sign: exit 1, nothing kept' '
	printf "%s\n" "$alice_pw" | mx-keys -p alice3 login --homeserver "$proxy" -u "$alice_id" --password-stdin >/dev/null &&
	echo unsigned-ssk >mode &&
	test_expect_code 1 mx-verify -p alice3 cross-signing import --recovery-key-stdin <recovery.key 2>err &&
	test "$(cat err)" = "mx-verify: the published self_signing key of $alice_id is not signed by its master key" &&
	echo pass >mode &&
	mx-verify -p alice3 cross-signing status >s3 &&
	jq -e ".private_keys == [] and .device_signed == false" s3 &&
	mx-verify -p alice3 cross-signing import --recovery-key-stdin <recovery.key >s4 &&
	jq -e ".device_signed and (.private_keys | length) == 3" s4
'

test_expect_success 'setup whose default key is refused: the keys published, no secret storage; setup again makes it' '
	register_user dave &&
	printf "%s\n" "$dave_pw" | mx-keys -p dave login --homeserver "$proxy" -u "$dave_id" --password-stdin >/dev/null &&
	echo refuse-default-key >mode &&
	test_expect_code 3 mx-verify -p dave cross-signing setup >d1 2>err &&
	cat err && test ! -s d1 &&
	grep "^mx-verify: cross-signing set up, but no secret storage made (setup again makes it): " err &&
	echo pass >mode &&
	mx-verify -p dave cross-signing status >d2 &&
	jq -e ".published and .device_signed and (.private_keys | length) == 3" d2 &&
	test_expect_code 22 acct "$dave_id" m.secret_storage.default_key "$dave_token" >/dev/null &&
	mx-verify -p dave cross-signing setup >d3 &&
	jq -e ".master_key == \"$(jq -r .master_key d2)\" and (.recovery_key | length) == 59" d3 &&
	jq -r .recovery_key d3 >dave.key &&
	printf "%s\n" "$dave_pw" | mx-keys -p dave2 login --homeserver "$MX_TEST_HOMESERVER" -u "$dave_id" --password-stdin >/dev/null &&
	mx-verify -p dave2 cross-signing import --recovery-key-stdin <dave.key >d4 &&
	jq -e ".master_key == \"$(jq -r .master_key d2)\" and .device_signed" d4 &&
	test_expect_code 2 mx-verify -p dave cross-signing setup 2>err &&
	grep "has cross-signing keys already" err
'

printf 'bob horse battery\n' >bobpass
printf 'bob wrong\n' >badpass

test_expect_success 'setup --passphrase-file: secret storage keyed by the passphrase, no recovery key printed' '
	mx-verify -p bob cross-signing setup --passphrase-file bobpass >b1 &&
	jq -e ".published and .device_signed and has(\"recovery_key\") == false" b1 &&
	id=$(acct "$bob_id" m.secret_storage.default_key "$bob_token" | jq -r .key) &&
	acct "$bob_id" "m.secret_storage.key.$id" "$bob_token" >bdesc &&
	cat bdesc &&
	jq -e ".algorithm == \"m.secret_storage.v1.aes-hmac-sha2\" and (.iv | length) > 0 and (.mac | length) > 0 and .passphrase.algorithm == \"m.pbkdf2\" and (.passphrase.salt | length) == 32 and .passphrase.iterations == 500000 and .passphrase.bits == 256" bdesc
'

setup peer_start b1 js "$bob_id" "$bob_pw"

test_expect_success 'the peer derives the key from the passphrase and the description: the same master key' '
	peer_do b1 "{\"cmd\":\"ssss_cross_signing\",\"passphrase\":\"bob wrong\"}" >p2 &&
	jq -e ".ok and .key_ok == false" p2 &&
	peer_do b1 "{\"cmd\":\"ssss_cross_signing\",\"passphrase\":\"bob horse battery\"}" >p3 &&
	cat p3 &&
	mk=$(jq -r .master_key b1) &&
	jq -e ".ok and .key_ok and .master_in_ssss == \"$mk\" and .master_key == \"$mk\" and .cross_signing_ready and .secret_storage_ready" p3
'

test_expect_success 'another mx profile of bob'"'"'s imports with the passphrase; a wrong one is refused' '
	printf "%s\n" "$bob_pw" | mx-keys -p bob2 login --homeserver "$MX_TEST_HOMESERVER" -u "$bob_id" --password-stdin >/dev/null &&
	test_expect_code 1 mx-verify -p bob2 cross-signing import --passphrase-file badpass 2>err &&
	test "$(cat err)" = "mx-verify: wrong passphrase for secret storage" &&
	mx-verify -p bob2 cross-signing import --passphrase-file bobpass >i2 &&
	jq -e ".master_key == \"$(jq -r .master_key b1)\" and .device_signed" i2
'

test_expect_success 'reset --passphrase-file: the new keys replace the old ones in secret storage' '
	printf "%s\n" "$bob_pw" | mx-verify -p bob cross-signing reset --password-stdin --passphrase-file bobpass >r1 2>err &&
	test ! -s err &&
	jq -e ".published and .device_signed and .master_key != \"$(jq -r .master_key b1)\"" r1 &&
	printf "%s\n" "$bob_pw" | mx-keys -p bob3 login --homeserver "$MX_TEST_HOMESERVER" -u "$bob_id" --password-stdin >/dev/null &&
	mx-verify -p bob3 cross-signing import --passphrase-file bobpass >i3 &&
	jq -e ".master_key == \"$(jq -r .master_key r1)\" and .device_signed" i3
'

test_expect_success 'reset with a wrong passphrase: exit 1 before anything is made' '
	printf "%s\n" "$bob_pw" | test_expect_code 1 mx-verify -p bob cross-signing reset --password-stdin --passphrase-file badpass 2>err &&
	test "$(cat err)" = "mx-verify: wrong passphrase for secret storage" &&
	mx-verify -p bob cross-signing status >r2 &&
	jq -e ".master_key == \"$(jq -r .master_key r1)\" and .published" r2
'

test_expect_success 'reset without the key of secret storage: a warning; the old keys stay there, and import refuses them' '
	printf "%s\n" "$bob_pw" | mx-verify -p bob cross-signing reset --password-stdin >r3 2>err &&
	test "$(cat err)" = "mx-verify: secret storage still holds the old cross-signing keys: reset with --recovery-key-stdin or --passphrase-file to replace them" &&
	printf "%s\n" "$bob_pw" | mx-keys -p bob4 login --homeserver "$MX_TEST_HOMESERVER" -u "$bob_id" --password-stdin >/dev/null &&
	test_expect_code 1 mx-verify -p bob4 cross-signing import --passphrase-file bobpass 2>err &&
	test "$(cat err)" = "mx-verify: the master key in secret storage is not the published one"
'

test_expect_success 'setup --recovery-key-stdin, reset with a key, on an account without secret storage: exit 2, nothing made' '
	register_user carol &&
	printf "%s\n" "$carol_pw" | mx-keys -p carol login --homeserver "$MX_TEST_HOMESERVER" -u "$carol_id" --password-stdin >/dev/null &&
	test_expect_code 2 mx-verify -p carol cross-signing setup --recovery-key-stdin <recovery.key 2>err &&
	test "$(cat err)" = "mx-verify: the account has no secret storage; setup without --recovery-key-stdin makes one" &&
	mx-verify -p carol cross-signing status >c0 &&
	jq -e ".master_key == null and .private_keys == []" c0 &&
	test_expect_code 2 mx-verify -p carol cross-signing reset --passphrase-file bobpass 2>err &&
	test "$(cat err)" = "mx-verify: the account has no secret storage to keep the new keys in" &&
	test_expect_code 22 acct "$carol_id" m.secret_storage.default_key "$carol_token" >/dev/null
'

peer_stop a1
peer_stop b1
kill $proxy_pid 2>/dev/null
test_done
