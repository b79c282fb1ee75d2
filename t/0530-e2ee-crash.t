#!/bin/sh
# Concurrency and crashes on one profile in an encrypted room: parallel
# senders share the room's keys without ever reusing a Megolm index, and a
# sender killed at any point, then run again, neither loses nor doubles a
# message.  The reader checks every (session, index) pair it sees.
. "$(dirname "$0")/lib.sh"
. "$MX_SRC/t/peer/peer.sh"
need_homeserver
peer_need js

setup register_user alice
setup register_user bob
setup login_profile alice
setup login_profile bob
room=$(create_room "$alice_token" '{"initial_state":[{"type":"m.room.encryption","state_key":"","content":{"algorithm":"m.megolm.v1.aes-sha2","rotation_period_msgs":1000}}]}') ||
	setup_failed "an encrypted room"
setup api "$alice_token" POST "/_matrix/client/v3/rooms/$(urlenc "$room")/invite" \
	"{\"user_id\":\"$bob_id\"}"
setup api "$bob_token" POST "/_matrix/client/v3/join/$(urlenc "$room")" '{}'
setup mx-sync -p bob "$room"
# A second reader: a device of bob's on Element's crypto engine.
setup peer_start js js "$bob_id" "$bob_pw"

# check_read FILE PREFIX N: the reader saw exactly the N messages
# "PREFIX 1".."PREFIX N", each once, all decrypted, no (session, index)
# pair twice and no replay verdict.
check_read() {
	jq -r "select(.content.body | tostring | startswith(\"$2 \")) | .content.body" "$1" |
		sort >bodies &&
	i=0 && while [ $i -lt "$3" ]; do i=$((i + 1)); echo "$2 $i"; done |
		sort >want &&
	test_cmp want bodies &&
	test -z "$(jq -r "select(.mx.encrypted and (.mx.decrypted | not)) | .mx.error" "$1")" &&
	jq -r "select(.mx.decrypted) | \"\(.mx.session_id) \(.mx.index)\"" "$1" | sort >pairs &&
	test -z "$(uniq -d pairs)"
}

test_expect_success '8 parallel senders, 50 messages each' '
	pids= &&
	for p in 1 2 3 4 5 6 7 8; do
		(i=0; while [ $i -lt 50 ]; do
			i=$((i + 1)); echo "p$p $i"
		done | mx-send -p alice --lines "$room" >out.$p 2>err.$p) &
		pids="$pids $!"
	done &&
	wait $pids &&
	cat out.* >out && test $(wc -l <out) = 400 &&
	test $(jq -r .event_id out | sort -u | wc -l) = 400
'

# peer_read PREFIX N: the js peer decrypted "PREFIX 1".."PREFIX N", each
# event once, and reported no failure.
peer_read() {
	peer_wait js "select(.event == \"message\" and .decrypted and .content.body == \"$1 $2\")" 120 >/dev/null &&
	jq -r "select(.event == \"message\" and .decrypted and (.content.body | startswith(\"$1 \"))) | .content.body" js.out |
		sort -u >pbodies &&
	i=0 && while [ $i -lt "$2" ]; do i=$((i + 1)); echo "$1 $i"; done |
		sort >pwant &&
	test_cmp pwant pbodies &&
	test "$(peer_count js "select(.event == \"message\" and .decrypted and (.content.body | startswith(\"$1 \")))" )" = "$2" &&
	test "$(peer_count js "select(.event == \"message\" and (.decrypted | not))")" = 0
}

test_expect_success 'the js peer decrypts all 400, each once' '
	for p in 1 2 3 4 5 6 7 8; do
		peer_read "p$p" 50 || return 1
	done
'

test_expect_success 'the reader decrypts all 400, none twice, no index reused' '
	mx-sync -p bob "$room" >par &&
	for p in 1 2 3 4 5 6 7 8; do
		check_read par "p$p" 50 || return 1
	done &&
	jq -r "select(.mx.decrypted) | \"\(.mx.session_id) \(.mx.index)\"" par | sort >allpairs &&
	test $(wc -l <allpairs) -ge 400 && test -z "$(uniq -d allpairs)"
'

# A random wait of 0 to 511 ms: mx-send reaches the send after about
# 80 ms (400 ms when it shares the room key first).
nap() {
	sleep "0.$(printf '%03d' $(($(od -An -N2 -tu2 /dev/urandom) % 512)))"
}

# The kill loop sends as another device of alice's, through the proxy
# (t/0306-proxy.py), which logs each send the server has stored and, in
# "slow" mode, answers it 600 ms late: a kill can land between the server
# storing the event and mx-send hearing of it.
python3 "$MX_SRC/t/0306-proxy.py" "$MX_TEST_HOMESERVER" mode puts \
	>port 2>proxy.err &
proxy_pid=$!
trap 'kill $proxy_pid 2>/dev/null; _peer_cleanup' EXIT
i=0
while [ ! -s port ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
printf '%s\n' "$alice_pw" |
	mx-keys -p ak login --homeserver "http://127.0.0.1:$(cat port)" \
	-u "$alice_id" --password-stdin >/dev/null

test_expect_success 'kill -9 at random points in a 100-message loop, then resume' '
	: >kills &&
	i=0 && while [ $i -lt 100 ]; do
		i=$((i + 1))
		: >one
		if [ $((i % 3)) = 0 ]; then
			echo "slow 600" >mode && : >puts
			mx-send -p ak "$room" "k $i" >one 2>/dev/null &
			pid=$! && nap && kill -9 $pid 2>/dev/null; wait $pid
			# where the kill landed; a send in flight is logged
			# once the server answers it
			sleep 0.1
			if test -s one; then echo answered
			elif test -s puts; then echo stored
			else echo before; fi >>kills
			echo pass >mode
		fi
		# sent once it printed its line; else resume, as a script
		# would, with the same message until it is sent
		test -s one && continue
		n=0 && until mx-send -p ak "$room" "k $i" >>kout 2>>kerr; do
			n=$((n + 1)) && test $n -lt 5 || return 1
		done
	done
'

echo "# kills: $(sort kills | uniq -c | tr -s " \n" " ")"

test_expect_success 'some kills landed after the server had stored the event' '
	test $(grep -c "^stored$" kills) -ge 3
'

test_expect_success 'none lost, none sent twice, no index reused' '
	mx-sync -p bob "$room" >kread &&
	check_read kread k 100
'

test_expect_success 'the js peer agrees: all 100, once each, no failure' '
	peer_read k 100
'

peer_stop js

test_done
