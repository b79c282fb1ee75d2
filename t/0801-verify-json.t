#!/bin/sh
# mx-verify fingerprint (the check of mx-keys trust) and mx-verify json
# (signatures of device keys and of a server's keys) against the real
# Synapse's answers, and refusals of altered ones.
. "$(dirname "$0")/lib.sh"
need_homeserver

setup register_user alice
setup register_user bob
setup login_profile alice
setup login_profile bob
bob_dev=$(mx-keys -p bob whoami | jq -r .device_id)
bob_ed=$(mx-keys -p alice devices "$bob_id" | jq -r "select(.device_id == \"$bob_dev\") | .ed25519")

# bob's device keys as the server hands them out
setup api "$alice_token" POST /_matrix/client/v3/keys/query "{\"device_keys\":{\"$bob_id\":[]}}"
api "$alice_token" POST /_matrix/client/v3/keys/query "{\"device_keys\":{\"$bob_id\":[]}}" |
	jq -c ".device_keys[\"$bob_id\"][\"$bob_dev\"] | del(.unsigned)" >dev.json
api "$alice_token" GET /_matrix/key/v2/server >srv.json
server=$(jq -r .server_name srv.json)

test_expect_success 'json: device keys signed by their device' '
	mx-verify json <dev.json >out &&
	jq -e ".verified == true and .signer == \"$bob_id\" and .key_id == \"ed25519:$bob_dev\"" out
'

test_expect_success 'json: altered device keys are refused (exit 1)' '
	jq -c ".keys[\"curve25519:$bob_dev\"] = \"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\"" dev.json >bad.json &&
	test_expect_code 1 mx-verify json <bad.json >out 2>err &&
	jq -e ".verified == false" out &&
	grep "^mx-verify: the signature does not verify" err
'

test_expect_success 'json --key: the fingerprint given signs it, another does not' '
	mx-verify json --key "$bob_ed" <dev.json >out &&
	jq -e ".verified and .key_id == \"ed25519:$bob_dev\"" out &&
	test_expect_code 1 mx-verify json --key AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA <dev.json >/dev/null
'

test_expect_success 'json: a server'"'"'s keys, signed by itself' '
	mx-verify json <srv.json >out &&
	jq -e ".verified and .signer == \"$server\"" out &&
	mx-verify json --server "$server" <srv.json >out &&
	jq -e .verified out
'

test_expect_success 'json --server: another name, or altered keys, are refused' '
	test_expect_code 1 mx-verify json --server other.example <srv.json >/dev/null &&
	jq -c ".valid_until_ts += 1" srv.json >srv-bad.json &&
	test_expect_code 1 mx-verify json <srv-bad.json >/dev/null
'

test_expect_success 'json: bad input and an unknown kind of object' '
	echo "[1]" | test_expect_code 5 mx-verify json &&
	echo "{\"a\":1}" | test_expect_code 2 mx-verify json 2>err &&
	grep "with --key or --server" err &&
	test_expect_code 2 mx-verify json --key x --server y </dev/null &&
	test_expect_code 2 mx-verify --key x sas </dev/null
'

test_expect_success 'fingerprint: the right key marks the device verified' '
	mx-verify -p alice fingerprint "$bob_id" "$bob_dev" "$bob_ed" >out &&
	jq -e ".trust == \"verified\"" out &&
	test "$(mx-keys -p alice devices "$bob_id" | jq -r "select(.device_id == \"$bob_dev\") | .trust")" = verified
'

test_expect_success 'fingerprint: another key is a "no" (exit 1), nothing marked' '
	printf "%s\n" "$alice_pw" | mx-keys -p carol login --homeserver "$MX_TEST_HOMESERVER" -u "$alice_id" --password-stdin >/dev/null &&
	test_expect_code 1 mx-verify -p carol fingerprint "$bob_id" "$bob_dev" AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA 2>err &&
	grep "is not AAAA" err &&
	test "$(mx-keys -p carol devices "$bob_id" | jq -r "select(.device_id == \"$bob_dev\") | .trust")" != verified
'

test_done
