#!/bin/sh
# Hostile copies of encrypted events, read by mx-sync in separate runs: a
# replay (same session and index, new event ID) seen in a later run than
# the original, a ciphertext posted by another user than its session's
# owner, and a ciphertext moved into another room, also when its sender
# shared the session as both rooms' (t/0532-mallory.py, on matrix-nio).
# The hostile events are posted with curl.
. "$(dirname "$0")/lib.sh"
need_homeserver
: "${MX_TEST_CHROOT:=/var/cache/mx-test/sid}"

for u in alice bob carol mallory; do
	setup register_user $u
done
setup login_profile bob
enc='{"initial_state":[{"type":"m.room.encryption","state_key":"","content":{"algorithm":"m.megolm.v1.aes-sha2"}}]}'
room=$(create_room "$alice_token" "$enc") || setup_failed "create_room"
room2=$(create_room "$alice_token" "$enc") || setup_failed "create_room"
for r in "$room" "$room2"; do
	for u in bob carol mallory; do
		eval "uid=\$${u}_id tok=\$${u}_token"
		setup api "$alice_token" POST \
			"/_matrix/client/v3/rooms/$(urlenc "$r")/invite" \
			"{\"user_id\":\"$uid\"}"
		setup api "$tok" POST "/_matrix/client/v3/join/$(urlenc "$r")" '{}'
	done
done
setup mx-sync -p bob "$room"
setup mx-sync -p bob "$room2"

# alice sends through the proxy (t/0306-proxy.py), which logs what she
# sends and can keep an event from the server.
python3 "$MX_SRC/t/0306-proxy.py" "$MX_TEST_HOMESERVER" mode puts sends \
	>port 2>proxy.err &
proxy_pid=$!
mallory_tmp=/tmp/mx-mallory-$$
trap 'kill $proxy_pid 2>/dev/null; rm -rf "$MX_TEST_CHROOT$mallory_tmp".*' EXIT
i=0
while [ ! -s port ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
proxy=http://127.0.0.1:$(cat port)

# repost TOKEN ROOM FILE: post the m.room.encrypted content in FILE into
# ROOM as TOKEN's user; prints the new event's ID.  (It runs in a
# subshell: the txn id cannot come from a counter.)
repost() {
	api "$1" PUT "/_matrix/client/v3/rooms/$(urlenc "$2")/send/m.room.encrypted/repost-$(od -An -N8 -tx1 /dev/urandom | tr -d " \n")" \
		"$(cat "$3")" | jq -r .event_id
}

# content ROOM EVENT: the content of EVENT as the server holds it.
content() {
	api "$bob_token" GET "/_matrix/client/v3/rooms/$(urlenc "$1")/event/$(urlenc "$2")" |
		jq -c .content
}

# verdicts FILE: one line per encrypted event a reader printed: its ID,
# sender, body, whether it decrypted, trust and error.
verdicts() {
	jq -r "select(.mx.encrypted) | \"\(.event_id) \(.sender) \(.content.body // \"-\") \(.mx.decrypted) \(.mx.trust) \(.mx.error)\"" "$1"
}

# Values later tests use live in files (each test runs in a subshell):
# eid the original, rid its replay.
test_expect_success 'alice sends through the proxy, bob reads it' '
	printf "%s\n" "$alice_pw" |
		mx-keys -p alice login --homeserver "$proxy" -u "$alice_id" \
		--password-stdin >/dev/null &&
	echo pass >mode &&
	mx-send -p alice "$room" "original" >out &&
	jq -r .event_id out >eid && eid=$(cat eid) &&
	content "$room" "$eid" >orig.json &&
	mx-sync -p bob "$room" >run1 &&
	verdicts run1 >got &&
	echo "$eid $alice_id original true tofu null" >want &&
	test_cmp want got
'

test_expect_success 'a replay read by a later run is refused' '
	rid=$(repost "$alice_token" "$room" orig.json) && echo "$rid" >rid &&
	mx-sync -p bob "$room" >run2 &&
	verdicts run2 >got &&
	echo "$rid $alice_id - false null replay: index already used by another event" >want &&
	test_cmp want got
'

test_expect_success 'read again, the original decrypts and the replay does not' '
	eid=$(cat eid) && rid=$(cat rid) &&
	mx-sync -p bob --history "$room" >hist &&
	verdicts hist >got &&
	cat >want <<-EOF &&
	$eid $alice_id original true tofu null
	$rid $alice_id - false null replay: index already used by another event
	EOF
	test_cmp want got
'

test_expect_success 'the same replay posted by another user: refused' '
	cid=$(repost "$carol_token" "$room" orig.json) &&
	mx-sync -p bob "$room" >run3 &&
	verdicts run3 >got &&
	echo "$cid $carol_id - false null session belongs to another sender" >want &&
	test_cmp want got
'

test_expect_success 'alice'"'"'s session in an event of carol'"'"'s: refused, and alice'"'"'s later event keeps its index' '
	echo swallow >mode && : >sends &&
	mx-send -p alice "$room" "never sent" >out &&
	echo pass >mode &&
	test "$(jq -r .event_id out)" = "\$swallowed-$(jq -r .txn_id out)" &&
	jq -c .request sends >stolen.json &&
	cid2=$(repost "$carol_token" "$room" stolen.json) &&
	mx-sync -p bob "$room" >run4 &&
	verdicts run4 >got &&
	echo "$cid2 $carol_id - false null session belongs to another sender" >want &&
	test_cmp want got &&
	aid=$(repost "$alice_token" "$room" stolen.json) &&
	mx-sync -p bob "$room" >run4b &&
	verdicts run4b >got &&
	echo "$aid $alice_id never sent true tofu null" >want &&
	test_cmp want got
'

test_expect_success 'an honest sender'"'"'s ciphertext moved into another room: no key' '
	mid=$(repost "$alice_token" "$room2" orig.json) &&
	mx-sync -p bob "$room2" >run5 &&
	verdicts run5 >got &&
	echo "$mid $alice_id - false null no key" >want &&
	test_cmp want got
'

if [ -d "$MX_TEST_CHROOT/usr/lib/python3/dist-packages/nio" ]; then
test_expect_success 'mallory shares one session as the session of both rooms' '
	cp "$MX_SRC/t/0532-mallory.py" "$MX_TEST_CHROOT$mallory_tmp.py" &&
	mkdir -p "$MX_TEST_CHROOT$mallory_tmp.store" &&
	chroot "$MX_TEST_CHROOT" env PEER_HS="$MX_TEST_HOMESERVER" \
		PEER_USER="$mallory_id" PEER_PASSWORD="$mallory_pw" \
		PEER_STORE="$mallory_tmp.store" \
		python3 "$mallory_tmp.py" "$room" "$room2" "from mallory" \
		>mallory.out 2>mallory.err &&
	content "$room" "$(jq -r .event_id mallory.out)" >mal.json &&
	test "$(jq -r .session_id mal.json)" = "$(jq -r .session_id mallory.out)"
'

# The copy is read first: a reader that let it through would take it for
# a message of mallory's in the second room.
test_expect_success 'her ciphertext moved into the second room is refused' '
	mid2=$(repost "$mallory_token" "$room2" mal.json) &&
	mx-sync -p bob "$room2" >run6 &&
	verdicts run6 >got &&
	echo "$mid2 $mallory_id - false null sent to another room" >want &&
	test_cmp want got
'

test_expect_success 'in its own room it decrypts' '
	mx-sync -p bob "$room" >run7 &&
	verdicts run7 >got &&
	echo "$(jq -r .event_id mallory.out) $mallory_id from mallory true tofu null" >want &&
	test_cmp want got
'
else
	test_skip 'no matrix-nio in the chroot: a session shared as two rooms'
fi

test_done
