#!/bin/sh
# MX_IDENTITY: a CI bot without device sprawl.  One exported identity,
# twenty runs with no store anywhere: one device on the server, every
# message decryptable, nothing written to disk.
. "$(dirname "$0")/lib.sh"
. "$MX_SRC/t/peer/peer.sh"
need_homeserver
peer_need js

setup register_user ci
setup register_user bob
setup login_profile ci
setup login_profile bob
room=$(create_room "$bob_token" '{"initial_state":[{"type":"m.room.encryption","state_key":"","content":{"algorithm":"m.megolm.v1.aes-sha2"}}]}') ||
	setup_failed "an encrypted room"
setup api "$bob_token" POST "/_matrix/client/v3/rooms/$(urlenc "$room")/invite" \
	"{\"user_id\":\"$ci_id\"}"
setup api "$ci_token" POST "/_matrix/client/v3/join/$(urlenc "$room")" '{}'
setup mx-sync -p bob "$room"
setup peer_start js js "$bob_id" "$bob_pw"
printf 'correct horse battery staple\n' >pass
chmod 600 pass

test_expect_success 'export-identity seals the device into one line' '
	mx-keys -p ci export-identity --passphrase-file pass >id &&
	test $(wc -l <id) = 1 &&
	grep -q "^mx-identity-v1:" id &&
	! grep -q "$ci_token" id
'

# Each test that acts as the CI job sets MX_IDENTITY itself, to the line.
test_expect_success 'the profile can go: the identity is all CI keeps' '
	rm -rf "$MX_DIR/ci" &&
	MX_IDENTITY=$(cat id) MX_IDENTITY_PASSPHRASE_FILE=pass \
		mx-keys whoami >who &&
	jq -r .user_id who >got && echo "$ci_id" >want && test_cmp want got
'

test_expect_success 'MX_IDENTITY may name a file holding the line (mx(7))' '
	test $(wc -c <id) -gt 4096 &&
	MX_IDENTITY=$PWD/id MX_IDENTITY_PASSPHRASE_FILE=pass \
		mx-keys whoami >who &&
	jq -r .user_id who >got && echo "$ci_id" >want && test_cmp want got
'

test_expect_success 'a wrong passphrase is refused (5)' '
	MX_IDENTITY=$(cat id) MX_IDENTITY_PASSPHRASE=wrong \
		test_expect_code 5 mx-send "$room" x 2>err &&
	grep -q "wrong passphrase" err
'

test_expect_success 'no passphrase at all is a usage error (2)' '
	MX_IDENTITY=$(cat id) test_expect_code 2 mx-send "$room" x 2>err &&
	grep -q "MX_IDENTITY needs" err
'

test_expect_success 'twenty stateless runs' '
	mkdir -p empty && chmod 700 empty &&
	i=0 && while [ $i -lt 20 ]; do
		i=$((i + 1)) &&
		MX_DIR=$PWD/empty MX_IDENTITY=$(cat id) \
			MX_IDENTITY_PASSPHRASE_FILE=pass \
			mx-send "$room" "run $i" >>sent || return 1
	done &&
	test $(wc -l <sent) = 20 &&
	test -z "$(ls -A empty)"
'

test_expect_success 'one device on the server' '
	mx-keys -p bob devices "$ci_id" >devs &&
	test $(wc -l <devs) = 1
'

test_expect_success 'mx-sync decrypts all twenty, each run its own session' '
	mx-sync -p bob "$room" >sync &&
	jq -s -e "map(select(.content.body | tostring | startswith(\"run \"))) | length == 20 and all(.[]; .mx.decrypted and .mx.trust == \"tofu\")" sync &&
	test $(jq -r "select(.mx.decrypted) | .mx.session_id" sync | sort -u | wc -l) = 20
'

test_expect_success 'the js peer (Element engine) decrypts all twenty too' '
	peer_wait js "select(.event == \"message\" and .decrypted and .content.body == \"run 20\")" 120 >/dev/null &&
	test "$(jq -r "select(.event == \"message\" and .decrypted and (.content.body | startswith(\"run \"))) | .content.body" js.out | sort -u | wc -l)" = 20 &&
	test "$(peer_count js "select(.event == \"message\" and (.decrypted | not))")" = 0
'

peer_stop js

test_expect_success 'login --passphrase-file: a store under a passphrase, no key file' '
	register_user pp &&
	printf "%s\n" "$pp_pw" | mx-keys -p pp login --homeserver "$MX_TEST_HOMESERVER" \
		-u "$pp_id" --password-stdin --passphrase-file pass >/dev/null &&
	test ! -e "$MX_DIR/pp/store.key"
'

test_expect_success 'it does not open without the passphrase (5)' '
	test_expect_code 5 mx-keys -p pp devices 2>err &&
	grep -q "protected by a passphrase" err &&
	printf "wrong\n" >wrongpass &&
	MX_STORE_PASSPHRASE_FILE=wrongpass test_expect_code 5 mx-keys -p pp devices 2>err &&
	grep -q "wrong store passphrase" err
'

test_expect_success 'MX_STORE_PASSPHRASE_FILE opens it' '
	MX_STORE_PASSPHRASE_FILE=pass mx-keys -p pp devices >devs &&
	test $(wc -l <devs) = 1
'

test_done
