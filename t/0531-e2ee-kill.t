#!/bin/sh
# A sender killed after the server stored its encrypted event but before
# the answer came back: the next run, sending other text, must not encrypt
# at the same Megolm index (the advanced index is committed before the
# ciphertext leaves the process).  The proxy (t/0306-proxy.py) forwards the
# send and then holds the answer; the sender is killed once the proxy has
# the server's answer, so the kill lands after the event was stored.
. "$(dirname "$0")/lib.sh"
. "$MX_SRC/t/peer/peer.sh"
need_homeserver
peer_need js

setup register_user alice
setup register_user bob
setup login_profile bob
room=$(create_room "$alice_token" '{"initial_state":[{"type":"m.room.encryption","state_key":"","content":{"algorithm":"m.megolm.v1.aes-sha2"}}]}') ||
	setup_failed "create_room"
setup api "$alice_token" POST "/_matrix/client/v3/rooms/$(urlenc "$room")/invite" \
	"{\"user_id\":\"$bob_id\"}"
setup api "$bob_token" POST "/_matrix/client/v3/join/$(urlenc "$room")" '{}'
setup mx-sync -p bob "$room"

python3 "$MX_SRC/t/0306-proxy.py" "$MX_TEST_HOMESERVER" mode puts sends \
	>port 2>proxy.err &
proxy_pid=$!
trap 'kill $proxy_pid 2>/dev/null; _peer_cleanup' EXIT
i=0
while [ ! -s port ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
proxy=http://127.0.0.1:$(cat port)

# A second reader: a device of bob's on Element's crypto engine.
setup peer_start js js "$bob_id" "$bob_pw"

# The values tests hand on live in files (each test runs in a subshell):
# sid the session, eid1 and eid2 the events around the kill.
test_expect_success 'alice sends through the proxy' '
	printf "%s\n" "$alice_pw" |
		mx-keys -p alice login --homeserver "$proxy" -u "$alice_id" \
		--password-stdin >/dev/null &&
	echo pass >mode && : >puts && : >sends &&
	mx-send -p alice "$room" "first" >out0 &&
	test $(wc -l <puts) = 1 &&
	jq -r .request.session_id sends >sid && test -s sid
'

test_expect_success 'kill -9 once the server has stored the event, unanswered' '
	sid=$(cat sid) &&
	echo hang >mode && : >puts && : >sends &&
	{ mx-send -p alice "$room" "before the kill" >out1 2>err1 & } &&
	pid=$! &&
	i=0 && while [ ! -s puts ] && [ $i -lt 300 ]; do
		sleep 0.1; i=$((i + 1))
	done &&
	test -s puts && kill -9 $pid && { wait $pid; test $? = 137; } &&
	test ! -s out1 && test $(wc -l <puts) = 1 &&
	jq -r "\"\(.status) \(.request.session_id)\"" sends >got &&
	echo "200 $sid" >want && test_cmp want got &&
	jq -r .answer.event_id sends >eid1 && eid1=$(cat eid1) &&
	api "$bob_token" GET "/_matrix/client/v3/rooms/$(urlenc "$room")/event/$(urlenc "$eid1")" >ev1 &&
	jq -r "\"\(.type) \(.content.session_id)\"" ev1 >got &&
	echo "m.room.encrypted $sid" >want && test_cmp want got
'

test_expect_success 'a fresh run sends other text: a new event' '
	echo pass >mode && : >puts && : >sends &&
	mx-send -p alice "$room" "after the kill" >out2 &&
	jq -r .event_id out2 >eid2 && test "$(cat eid2)" != "$(cat eid1)" &&
	test $(wc -l <puts) = 1
'

# ct_index CIPHERTEXT: the index a Megolm message carries in the clear
# (spec: "m.megolm.v1.aes-sha2": version byte 3, then protobuf field 1, a
# varint).
ct_index() {
	printf '%s' "$1" | head -c 12 | base64 -d 2>/dev/null | od -An -v -tu1 |
		awk '{ for (i = 1; i <= NF; i++) b[n++] = $i }
		END {
			if (b[0] != 3 || b[1] != 8) { print "bad"; exit }
			v = 0; m = 1
			for (i = 2; i < n; i++) {
				v += (b[i] % 128) * m; m *= 128
				if (b[i] < 128) break
			}
			print v
		}'
}

test_expect_success 'the server holds them at indexes 0 1 2 of one session' '
	sid=$(cat sid) &&
	for e in "$(jq -r .event_id out0)" "$(cat eid1)" "$(cat eid2)"; do
		api "$bob_token" GET "/_matrix/client/v3/rooms/$(urlenc "$room")/event/$(urlenc "$e")" >ev &&
		echo "$(jq -r .content.session_id ev) $(ct_index "$(jq -r .content.ciphertext ev)")"
	done >got &&
	for i in 0 1 2; do echo "$sid $i"; done >want &&
	test_cmp want got
'

# Bodies, sessions and indexes of the encrypted events of a reader's
# output, with the error of any that did not decrypt.
pairs() {
	jq -r "select(.mx.encrypted) | \"\(.content.body // \"-\") \(.mx.session_id) \(.mx.index) \(.mx.error // \"ok\")\"" "$1"
}

test_expect_success 'mx-sync: one session, indexes 0 1 2, all decrypted' '
	sid=$(cat sid) &&
	mx-sync -p bob "$room" >read &&
	pairs read >got &&
	cat >want <<-EOF &&
	first $sid 0 ok
	before the kill $sid 1 ok
	after the kill $sid 2 ok
	EOF
	test_cmp want got
'

test_expect_success 'a later run of the reader still decrypts all three' '
	mx-sync -p bob --history "$room" >hist &&
	pairs hist >got && test_cmp want got
'

test_expect_success 'the js peer decrypts all three, each once' '
	peer_wait js "select(.event == \"message\" and .content.body == \"after the kill\")" 120 >/dev/null &&
	jq -r "select(.event == \"message\" and .room_id == \"$room\") | \"\(.event_id) \(.decrypted) \(.failure) \(.content.body)\"" js.out |
		sort -u >got &&
	sort >want <<-EOF &&
	$(jq -r .event_id out0) true null first
	$(cat eid1) true null before the kill
	$(cat eid2) true null after the kill
	EOF
	test_cmp want got
'

peer_stop js

test_done
