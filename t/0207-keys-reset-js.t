#!/bin/sh
# A user resets their cross-signing (the js peer, Element's engine, makes a
# new master key): mx-keys devices says so and exits 1 until mx-keys
# accept takes the new identity (issue 11: identity pinning).
. "$(dirname "$0")/lib.sh"
. "$MX_SRC/t/peer/peer.sh"
need_homeserver
peer_need js

setup register_user alice
setup register_user bob
setup login_profile alice
setup peer_start bob js "$bob_id" "$bob_pw"

test_expect_success 'bob sets up cross-signing: his master key is pinned' '
	peer_do bob "{\"cmd\":\"cross_signing\"}" >a &&
	jq -r .master_key a >m1 && test -s m1 && ! grep -qx null m1 &&
	mx-keys -p alice devices "$bob_id" >d1 &&
	jq -s -e --arg m "$(cat m1)" "length == 1 and all(.[]; .master_key == \$m and .identity_changed == false and .cross_signed == true)" d1
'

test_expect_success 'bob resets it: devices exits 1, names him, the old and the new key' '
	peer_do bob "{\"cmd\":\"cross_signing\",\"reset\":true}" >a &&
	jq -r .master_key a >m2 && ! test_cmp m1 m2 &&
	test_expect_code 1 mx-keys -p alice devices "$bob_id" >d2 2>err &&
	jq -s -e "length == 1 and all(.[]; .identity_changed == true)" d2 &&
	grep -qF "mx-keys: $bob_id changed their master key from $(cat m1) to $(cat m2)" err &&
	grep -q "^mx-keys: 1 user(s) changed their cross-signing identity" err
'

test_expect_success 'still 1 on the next run: nothing accepted by itself' '
	test_expect_code 1 mx-keys -p alice devices "$bob_id" >d3 2>/dev/null &&
	jq -e ".identity_changed == true" d3
'

test_expect_success 'mx-keys accept bob: the new key is pinned, devices exits 0' '
	mx-keys -p alice accept "$bob_id" >acc &&
	jq -e --arg u "$bob_id" ".user_id == \$u and .accepted == true" acc &&
	mx-keys -p alice devices "$bob_id" >d4 &&
	jq -s -e --arg m "$(cat m2)" "length == 1 and all(.[]; .master_key == \$m and .identity_changed == false)" d4
'

test_expect_success 'accept with nothing changed: accepted false, a note' '
	mx-keys -p alice accept "$bob_id" >acc 2>err &&
	jq -e ".accepted == false" acc && grep -q "did not change" err
'

test_done
