# Sourced by t/0205-keys-js.t and t/0206-keys-nio.t with PEER_KIND set:
# room keys carried between mx and a real peer client in Element's
# key-export file (spec: Client-Server API, "Key exports"), both ways; in
# each a fresh device decrypts history it never received a key for.
. "$MX_SRC/t/peer/peer.sh"
need_homeserver
peer_need "$PEER_KIND"

setup register_user alice
setup register_user bob
setup login_profile alice
setup login_profile bob
room=$(create_room "$alice_token" "{\"initial_state\":[{\"type\":\"m.room.encryption\",\"state_key\":\"\",\"content\":{\"algorithm\":\"m.megolm.v1.aes-sha2\"}},{\"type\":\"m.room.history_visibility\",\"state_key\":\"\",\"content\":{\"history_visibility\":\"shared\"}}],\"invite\":[\"$bob_id\"]}") ||
	setup_failed "an encrypted room"
setup api "$bob_token" POST "/_matrix/client/v3/join/$(urlenc "$room")" '{}'
setup mx-sync -p bob
setup mx-send -p alice "$room" "before the peer"
setup mx-sync -p bob "$room"
printf 'correct horse battery\n' >pass
# A device of bob's that came after that message: no key for it.
setup peer_start peer "$PEER_KIND" "$bob_id" "$bob_pw"

# peer_out FILE: where the peer writes the new file FILE (in the nio
# chroot, or here), as the peer sees it; host_of PATH: that file as mx
# sees it.
peer_out() {
	case $PEER_KIND in
	nio) _d=/tmp/mx-niopeer-$$-peer.files
	     mkdir -p "$MX_TEST_CHROOT$_d" && echo "$_d/$1" ;;
	*) echo "$PWD/$1" ;;
	esac
}
host_of() {
	case $PEER_KIND in nio) echo "$MX_TEST_CHROOT$1" ;; *) echo "$1" ;; esac
}
line() {
	printf '{"cmd":"%s","path":"%s","passphrase":"correct horse battery","rounds":1000}' "$1" "$2"
}
undecrypted() {
	jq -s -e --arg t "$2" 'any(.[]; .type == "m.room.encrypted" and .mx.decrypted == false and .mx.error == "no key") and (map(select(.content.body == $t)) | length == 0)' "$1"
}
decrypted() {
	jq -s -e --arg t "$2" 'map(select(.content.body == $t)) | length == 1 and all(.[]; .mx.decrypted and .mx.key_source == "imported" and .mx.trust == "unauthenticated")' "$1"
}

test_expect_success "the new $PEER_KIND device sees the history, undecrypted" '
	peer_wait peer "select(.event == \"message\" and .decrypted == false)" >/dev/null &&
	test "$(peer_count peer "select(.event == \"message\" and .decrypted)")" = 0
'

test_expect_success "an export by mx-keys is imported by the $PEER_KIND peer, which decrypts the history" '
	mx-keys -p bob export --passphrase-file pass -o mx-keys.txt >/dev/null &&
	p=$(peer_path peer mx-keys.txt) &&
	peer_do peer "$(line import_keys "$p")" >/dev/null &&
	peer_wait peer "select(.event == \"message\" and .decrypted and .content.body == \"before the peer\")" >m &&
	jq -e ".sender == \"$alice_id\"" m
'

test_expect_success "a wrong passphrase is refused by the $PEER_KIND peer too" '
	p=$(peer_path peer mx-keys.txt) &&
	! peer_do peer "{\"cmd\":\"import_keys\",\"path\":\"$p\",\"passphrase\":\"wrong\"}" >/dev/null 2>&1
'

# What the peer holds: alice's session (imported, then the same session
# over Olm from the message after) and its own.
setup mx-send -p alice "$room" "to the peer over olm"
setup peer_wait peer 'select(.event == "message" and .decrypted and .content.body == "to the peer over olm")'
setup peer_do peer "{\"cmd\":\"send\",\"room\":\"$room\",\"text\":\"from the peer\"}"
# A device of bob's, in mx, that came after all of them.
printf "%s\n" "$bob_pw" | mx-keys -p bob2 login --homeserver "$MX_TEST_HOMESERVER" -u "$bob_id" --password-stdin >/dev/null ||
	setup_failed "bob2 logs in"

test_expect_success 'the new mx device cannot read that history' '
	mx-sync -p bob2 --history "$room" >s0 &&
	undecrypted s0 "from the peer" && undecrypted s0 "to the peer over olm"
'

test_expect_success "an export by the $PEER_KIND peer, with a wrong passphrase: 1, nothing kept" '
	p=$(peer_out peer.txt) &&
	peer_do peer "$(line export_keys "$p")" >/dev/null &&
	cp "$(host_of "$p")" peer-export.txt &&
	head -1 peer-export.txt | grep -qx -- "-----BEGIN MEGOLM SESSION DATA-----" &&
	printf "wrong\n" >bad &&
	test_expect_code 1 mx-keys -p bob2 import --passphrase-file bad peer-export.txt >out 2>err &&
	test ! -s out && grep -q "wrong passphrase" err &&
	mx-sync -p bob2 --history "$room" >s1 && undecrypted s1 "from the peer"
'

test_expect_success "an export by the $PEER_KIND peer is imported by mx-keys, and mx-sync decrypts the history" '
	mx-keys -p bob2 import --passphrase-file pass peer-export.txt >out &&
	test "$(cat out)" = "{\"imported\":2,\"improved\":0,\"skipped\":0}" &&
	mx-sync -p bob2 --history "$room" >s2 &&
	decrypted s2 "to the peer over olm" && decrypted s2 "from the peer" &&
	case $PEER_KIND in
	js) decrypted s2 "before the peer" ;;
	# nio replaced its imported copy of alice s session (from index 0)
	# with the one that came over Olm (from index 1), and exports that:
	# mx says which index it lacks.
	nio) jq -s -e "map(select(.mx.error == \"no key for this index\")) | length == 1" s2 ;;
	esac
'

test_done
