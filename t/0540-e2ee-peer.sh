# Sourced by t/0540-e2ee-js.t and t/0541-e2ee-nio.t with PEER_KIND set:
# mx against a real peer client in an encrypted room, both directions.
. "$MX_SRC/t/peer/peer.sh"
need_homeserver
peer_need "$PEER_KIND"

setup register_user alice
setup register_user bob
setup register_user carol
setup login_profile alice
setup peer_start bob1 "$PEER_KIND" "$bob_id" "$bob_pw"
setup peer_start bob2 "$PEER_KIND" "$bob_id" "$bob_pw"
setup peer_start carol "$PEER_KIND" "$carol_id" "$carol_pw"

room=$(create_room "$alice_token" "{\"history_visibility\":\"shared\",\"initial_state\":[{\"type\":\"m.room.encryption\",\"state_key\":\"\",\"content\":{\"algorithm\":\"m.megolm.v1.aes-sha2\"}},{\"type\":\"m.room.history_visibility\",\"state_key\":\"\",\"content\":{\"history_visibility\":\"shared\"}}],\"invite\":[\"$bob_id\",\"$carol_id\"]}") ||
	setup_failed "an encrypted room"
setup peer_do bob1 "{\"cmd\":\"join\",\"room\":\"$room\"}"
setup peer_do carol "{\"cmd\":\"join\",\"room\":\"$room\"}"
setup peer_do bob2 '{"cmd":"wait_sync"}'
setup mx-sync -p alice "$room"

# got PEER BODY: the peer's line for the message BODY, once decrypted.
got() {
	peer_wait "$1" "select(.event == \"message\" and .decrypted and .content.body == \"$2\")" ${3:-}
}

test_expect_success "$PEER_KIND peer decrypts mx-send text (every device)" '
	mx-send -p alice "$room" "hello peers" >/dev/null &&
	got bob1 "hello peers" >m1 && got bob2 "hello peers" >/dev/null &&
	got carol "hello peers" >/dev/null &&
	jq -e ".encrypted and .sender == \"$alice_id\"" m1
'

test_expect_success "$PEER_KIND peer decrypts Markdown and a notice" '
	mx-send -p alice --markdown "$room" "**bold** move" >/dev/null &&
	got bob1 "**bold** move" >m2 &&
	jq -e ".content.formatted_body == \"<strong>bold</strong> move\"" m2 &&
	mx-send -p alice --notice "$room" "a notice" >/dev/null &&
	got bob1 "a notice" >m3 && jq -e ".content.msgtype == \"m.notice\"" m3
'

test_expect_success "$PEER_KIND peer decrypts an encrypted file" '
	head -c 100000 /dev/urandom >f.bin &&
	mx-send -p alice --file f.bin "$room" >/dev/null &&
	got bob1 f.bin >m4 &&
	test "$(jq -r .file_sha256 m4)" = "$(sha256sum f.bin | cut -d" " -f1)"
'

test_expect_success "mx-sync decrypts what the $PEER_KIND peer sends" '
	peer_do bob1 "{\"cmd\":\"send\",\"room\":\"$room\",\"text\":\"from bob1\"}" >/dev/null &&
	mx-sync -p alice "$room" >s1 &&
	jq -s -e "map(select(.content.body == \"from bob1\")) | length == 1 and all(.[]; .mx.decrypted and .mx.trust == \"tofu\" and .mx.device_id == \"$bob1_device\")" s1
'

test_expect_success "mx-sync --download saves the $PEER_KIND peer's encrypted file" '
	head -c 50000 /dev/urandom >g.bin &&
	peer_do carol "{\"cmd\":\"send_file\",\"room\":\"$room\",\"path\":\"$(peer_path carol g.bin)\",\"mimetype\":\"application/octet-stream\"}" >/dev/null &&
	mkdir -p dl && mx-sync -p alice --download dl "$room" >s2 &&
	cmp g.bin "$(jq -r "select(.mx.file) | .mx.file" s2)"
'

# A device of bob's added after these messages.
setup peer_start bob3 "$PEER_KIND" "$bob_id" "$bob_pw"

test_expect_success 'a device added later gets the key before the next message' '
	mx-send -p alice "$room" "for bob3 too" >/dev/null &&
	got bob3 "for bob3 too" >/dev/null
'

test_expect_success 'a member who left cannot read what follows; back, she can' '
	mx-send -p alice "$room" "before leaving" >/dev/null &&
	got carol "before leaving" >/dev/null &&
	peer_do carol "{\"cmd\":\"leave\",\"room\":\"$room\"}" >/dev/null &&
	mx-send -p alice "$room" "after leaving" >/dev/null &&
	api "$alice_token" POST "/_matrix/client/v3/rooms/$(urlenc "$room")/invite" "{\"user_id\":\"$carol_id\"}" >/dev/null &&
	peer_do carol "{\"cmd\":\"join\",\"room\":\"$room\"}" >/dev/null &&
	mx-send -p alice "$room" "welcome back" >/dev/null &&
	got carol "welcome back" >/dev/null &&
	test "$(peer_count carol "select(.event == \"message\" and .decrypted and .content.body == \"after leaving\")")" = 0
'

test_expect_success 'the session rotated when she left' '
	mx-sync -p alice --raw "$room" >s3 &&
	before=$(jq -r "select(.content.body == \"before leaving\") | .mx.session_id" s3) &&
	after=$(jq -r "select(.content.body == \"after leaving\") | .mx.session_id" s3) &&
	test -n "$before" && test -n "$after" && test "$before" != "$after"
'

test_expect_success '200 messages interleaved both ways' '
	i=0 && while [ $i -lt 100 ]; do
		i=$((i + 1)) &&
		mx-send -p alice "$room" "mx $i" >/dev/null &&
		peer_do bob1 "{\"cmd\":\"send\",\"room\":\"$room\",\"text\":\"peer $i\"}" >/dev/null ||
			return 1
	done &&
	got bob1 "mx 100" >/dev/null &&
	test "$(peer_count bob1 "select(.event == \"message\" and .decrypted and (.content.body | startswith(\"mx \")))")" = 100 &&
	mx-sync -p alice "$room" >s4 &&
	jq -s -e "map(select(.content.body | tostring | startswith(\"peer \"))) | length == 100 and all(.[]; .mx.decrypted)" s4
'

# The Element engine names the reason; nio knows no withheld notices, so
# for it the notice itself must have arrived.
withheld_seen() {
	case $PEER_KIND in
	js) peer_wait bob2 "select(.event == \"message\" and (.decrypted | not) and .failure == \"MEGOLM_KEY_WITHHELD_FOR_UNVERIFIED_DEVICE\")" ;;
	nio) peer_wait bob2 "select(.event == \"to_device\" and .type == \"m.room_key.withheld\" and .content.code == \"m.unverified\" and .content.room_id == \"$room\")" ;;
	esac
}

test_expect_success '--trust verified: the unverified device is told, not left guessing' '
	ed=$(mx-keys -p alice devices "$bob_id" | jq -r "select(.device_id == \"$bob1_device\") | .ed25519") &&
	test "$ed" = "$bob1_ed" &&
	mx-keys -p alice trust "$bob_id" "$bob1_device" "$ed" >/dev/null &&
	mx-send -p alice --trust verified "$room" "verified only" >/dev/null &&
	got bob1 "verified only" >/dev/null &&
	withheld_seen >/dev/null &&
	test "$(peer_count bob2 "select(.event == \"message\" and .decrypted and .content.body == \"verified only\")")" = 0
'

peer_stop bob1
peer_stop bob2
peer_stop bob3
peer_stop carol
test_done
