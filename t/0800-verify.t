#!/bin/sh
# mx-verify sas against matrix-js-sdk 36 with its Rust crypto (Element's
# engine), over to-device messages, both directions: both sides show the
# same emoji, "yes" on both marks the device verified on both, "no" on
# either side cancels both and marks nothing.
. "$(dirname "$0")/lib.sh"
. "$MX_SRC/t/peer/peer.sh"
. "$MX_SRC/t/verify.sh"
need_homeserver
peer_need js

setup register_user alice
setup register_user bob
setup login_profile alice
setup peer_start bob1 js "$bob_id" "$bob_pw"
setup peer_start bob2 js "$bob_id" "$bob_pw"
alice_dev=$(mx-keys -p alice whoami | jq -r .device_id)

# The Rust engine answers only devices it tracks: share an encrypted room.
room=$(create_room "$alice_token" "{\"initial_state\":[{\"type\":\"m.room.encryption\",\"state_key\":\"\",\"content\":{\"algorithm\":\"m.megolm.v1.aes-sha2\"}}],\"invite\":[\"$bob_id\"]}") ||
	setup_failed "an encrypted room"
setup peer_do bob1 "{\"cmd\":\"join\",\"room\":\"$room\"}"
setup peer_do bob2 '{"cmd":"wait_sync"}'
setup mx-send -p alice "$room" "hello"

trust_of() {
	mx-keys -p alice devices "$bob_id" | jq -r "select(.device_id == \"$1\") | .trust"
}

test_expect_success 'the peer asks, mx accepts; same emoji; both say yes' '
	verify_bg in1 alice 60 &&
	exec 7>in1.in &&
	txn=$(peer_do bob1 "{\"cmd\":\"verify_request\",\"user\":\"$alice_id\",\"device\":\"$alice_dev\"}" | jq -r .transaction_id) &&
	peer_do bob1 "{\"cmd\":\"verify_start\",\"transaction_id\":\"$txn\"}" >/dev/null &&
	m=$(wait_line in1.out "select(.emoji)") &&
	p=$(peer_wait bob1 "select(.event == \"sas\" and .transaction_id == \"$txn\")") &&
	same_emoji "$m" "$p" &&
	test "$(printf "%s" "$m" | jq -c .decimal)" = "$(printf "%s" "$p" | jq -c .decimal)" &&
	test "$(printf "%s" "$m" | jq -r ".transaction_id + \" \" + .other_user + \" \" + .other_device")" = "$txn $bob_id $bob1_device" &&
	echo yes >&7 &&
	peer_do bob1 "{\"cmd\":\"verify_confirm\",\"transaction_id\":\"$txn\",\"match\":true}" >/dev/null &&
	test "$(wait_rc in1.rc)" = 0 &&
	exec 7>&- &&
	tail -n 1 in1.out | jq -e ".verified == true and .other_device == \"$bob1_device\"" &&
	peer_wait bob1 "select(.event == \"verified\" and .transaction_id == \"$txn\")" &&
	test "$(trust_of "$bob1_device")" = verified &&
	peer_do bob1 "{\"cmd\":\"device_status\",\"user\":\"$alice_id\",\"device\":\"$alice_dev\"}" | jq -e .verified
'

test_expect_success 'mx asks, the peer accepts; same emoji; both say yes' '
	verify_bg in2 alice 60 "$bob_id" "$bob2_device" &&
	exec 7>in2.in &&
	r=$(peer_wait bob2 "select(.event == \"verification_request\" and .other_user == \"$alice_id\")") &&
	txn=$(printf "%s" "$r" | jq -r .transaction_id) &&
	peer_do bob2 "{\"cmd\":\"verify_accept\",\"transaction_id\":\"$txn\"}" >/dev/null &&
	m=$(wait_line in2.out "select(.emoji)") &&
	p=$(peer_wait bob2 "select(.event == \"sas\" and .transaction_id == \"$txn\")") &&
	same_emoji "$m" "$p" &&
	peer_do bob2 "{\"cmd\":\"verify_confirm\",\"transaction_id\":\"$txn\",\"match\":true}" >/dev/null &&
	echo yes >&7 &&
	test "$(wait_rc in2.rc)" = 0 &&
	exec 7>&- &&
	tail -n 1 in2.out | jq -e ".verified == true and .transaction_id == \"$txn\"" &&
	peer_wait bob2 "select(.event == \"verified\" and .transaction_id == \"$txn\")" &&
	test "$(trust_of "$bob2_device")" = verified
'

# On a terminal: the emoji on stderr with their names, the question
# through libedit, answered "y" once it shows (onpty.py OUT ANSWER CMD...:
# the whole session in OUT, the exit status printed).
cat >onpty.py <<\EOT
import os, pty, sys, time
out, answer, argv = sys.argv[1], sys.argv[2], sys.argv[3:]
pid, fd = pty.fork()
if pid == 0:
    os.execvp(argv[0], argv)
seen, sent, end = b"", False, time.time() + 90
while time.time() < end:
    try:
        chunk = os.read(fd, 4096)
    except OSError:
        break
    if not chunk:
        break
    seen += chunk
    if not sent and b"Do they match? [y/N]" in seen:
        os.write(fd, answer.encode() + b"\n")
        sent = True
open(out, "wb").write(seen)
print(os.waitpid(pid, 0)[1] >> 8)
EOT

test_expect_success 'on a terminal: emoji with names, the question, "y"' '
	old=$(jq -r .transaction_id in2.out | head -n 1) &&
	{ python3 onpty.py tty.out y mx-verify -p alice sas "$bob_id" "$bob2_device" >tty.rc & } &&
	r=$(peer_wait bob2 "select(.event == \"verification_request\" and .transaction_id != \"$old\")") &&
	txn=$(printf "%s" "$r" | jq -r .transaction_id) &&
	peer_do bob2 "{\"cmd\":\"verify_accept\",\"transaction_id\":\"$txn\"}" >/dev/null &&
	p=$(peer_wait bob2 "select(.event == \"sas\" and .transaction_id == \"$txn\")") &&
	peer_do bob2 "{\"cmd\":\"verify_confirm\",\"transaction_id\":\"$txn\",\"match\":true}" >/dev/null &&
	i=0 && while [ ! -s tty.rc ] && [ $i -lt 300 ]; do sleep 0.2; i=$((i + 1)); done &&
	test "$(cat tty.rc)" = 0 &&
	cat tty.out &&
	grep -q "Compare with what $bob_id'"'"'s device $bob2_device shows:" tty.out &&
	for n in $(printf "%s" "$p" | jq -r ".emoji[].name" | tr " " _); do
		grep -q "  $(echo "$n" | tr _ " ")" tty.out || { echo "no $n"; exit 1; }
	done &&
	grep -q "\"verified\":true" tty.out
'

setup peer_start bob3 js "$bob_id" "$bob_pw"
setup mx-send -p alice "$room" "hello bob3"

test_expect_success '"no" on mx cancels both sides; nothing marked' '
	verify_bg in3 alice 60 "$bob_id" "$bob3_device" &&
	exec 7>in3.in &&
	r=$(peer_wait bob3 "select(.event == \"verification_request\" and .other_user == \"$alice_id\")") &&
	txn=$(printf "%s" "$r" | jq -r .transaction_id) &&
	peer_do bob3 "{\"cmd\":\"verify_accept\",\"transaction_id\":\"$txn\"}" >/dev/null &&
	wait_line in3.out "select(.emoji)" >/dev/null &&
	peer_wait bob3 "select(.event == \"sas\" and .transaction_id == \"$txn\")" >/dev/null &&
	echo no >&7 &&
	test "$(wait_rc in3.rc)" = 1 &&
	exec 7>&- &&
	tail -n 1 in3.out | jq -e ".verified == false and .cancel.code == \"m.mismatched_sas\" and .cancel.by == \"us\"" &&
	grep "verification cancelled by us: m.mismatched_sas" in3.err &&
	peer_wait bob3 "select(.event == \"verification_cancelled\" and .transaction_id == \"$txn\" and .code == \"m.mismatched_sas\")" &&
	test "$(trust_of "$bob3_device")" != verified &&
	peer_do bob3 "{\"cmd\":\"device_status\",\"user\":\"$alice_id\",\"device\":\"$alice_dev\"}" | jq -e ".verified == false"
'

test_expect_success '"no" on the peer cancels mx too (exit 1); nothing marked' '
	verify_bg in4 alice 60 "$bob_id" "$bob3_device" &&
	exec 7>in4.in &&
	r=$(peer_wait bob3 "select(.event == \"verification_request\" and .other_user == \"$alice_id\" and .transaction_id != \"$(jq -r .transaction_id in3.out | head -n 1)\")") &&
	txn=$(printf "%s" "$r" | jq -r .transaction_id) &&
	peer_do bob3 "{\"cmd\":\"verify_accept\",\"transaction_id\":\"$txn\"}" >/dev/null &&
	wait_line in4.out "select(.emoji)" >/dev/null &&
	peer_wait bob3 "select(.event == \"sas\" and .transaction_id == \"$txn\")" >/dev/null &&
	peer_do bob3 "{\"cmd\":\"verify_confirm\",\"transaction_id\":\"$txn\",\"match\":false}" >/dev/null &&
	echo yes >&7 &&
	test "$(wait_rc in4.rc)" = 1 &&
	exec 7>&- &&
	tail -n 1 in4.out | jq -e ".verified == false and .cancel.code == \"m.mismatched_sas\" and .cancel.by == \"them\"" &&
	test "$(trust_of "$bob3_device")" != verified
'

# inbox_rows: how many to-device events the profile's inbox holds.
inbox_rows() {
	python3 -c 'import sqlite3, sys; print(sqlite3.connect(sys.argv[1]).execute("select count(*) from kv where ns = ?", ("inbox",)).fetchone()[0])' "$MX_DIR/alice/store.db"
}

test_expect_success 'a request that a running mx-sync -f took is still answered' '
	mx-sync -p alice -f "$room" >follow.out 2>follow.err &
	follow=$!
	sleep 2 &&
	before=$(inbox_rows) &&
	txn=$(peer_do bob1 "{\"cmd\":\"verify_request\",\"user\":\"$alice_id\",\"device\":\"$alice_dev\"}" | jq -r .transaction_id) &&
	i=0 && while [ "$(inbox_rows)" = "$before" ] && [ $i -lt 100 ]; do sleep 0.2; i=$((i + 1)); done &&
	test "$(inbox_rows)" -gt "$before" &&
	verify_bg in5 alice 60 &&
	exec 7>in5.in &&
	peer_do bob1 "{\"cmd\":\"verify_start\",\"transaction_id\":\"$txn\"}" >/dev/null &&
	m=$(wait_line in5.out "select(.emoji)") &&
	p=$(peer_wait bob1 "select(.event == \"sas\" and .transaction_id == \"$txn\")") &&
	same_emoji "$m" "$p" &&
	echo yes >&7 &&
	peer_do bob1 "{\"cmd\":\"verify_confirm\",\"transaction_id\":\"$txn\",\"match\":true}" >/dev/null &&
	test "$(wait_rc in5.rc)" = 0 &&
	exec 7>&- &&
	peer_wait bob1 "select(.event == \"verified\" and .transaction_id == \"$txn\")"
	st=$?
	kill $follow
	exit $st
'

test_expect_success 'SIGTERM mid-flow: the peer is told (m.user), exit 1, nothing marked' '
	req="select(.event == \"verification_request\")" &&
	n0=$(peer_count bob3 "$req") &&
	verify_bg in6 alice 60 "$bob_id" "$bob3_device" &&
	exec 7>in6.in &&
	i=0 && while [ "$(peer_count bob3 "$req")" -le "$n0" ] && [ $i -lt 300 ]; do sleep 0.2; i=$((i + 1)); done &&
	txn=$(jq -c "$req" bob3.out | tail -n 1 | jq -r .transaction_id) &&
	peer_do bob3 "{\"cmd\":\"verify_accept\",\"transaction_id\":\"$txn\"}" >/dev/null &&
	wait_line in6.out "select(.emoji)" >/dev/null &&
	pkill -TERM -f "sas $bob_id $bob3_device" &&
	test "$(wait_rc in6.rc)" = 1 &&
	exec 7>&- &&
	tail -n 1 in6.out | jq -e ".verified == false and .cancel.code == \"m.user\" and .cancel.reason == \"interrupted\"" &&
	peer_wait bob3 "select(.event == \"verification_cancelled\" and .transaction_id == \"$txn\" and .code == \"m.user\")" &&
	test "$(trust_of "$bob3_device")" != verified
'

test_expect_success 'two mx-verify waiting on one profile: one answers the request' '
	rm -f w1.in w2.in w1.out w2.out w1.rc w2.rc && mkfifo w1.in w2.in || exit 1
	{ mx-verify -p alice --json --timeout 25 sas <w1.in >w1.out 2>w1.err; echo $? >w1.rc; } &
	{ mx-verify -p alice --json --timeout 25 sas <w2.in >w2.out 2>w2.err; echo $? >w2.rc; } &
	exec 7>w1.in 8>w2.in &&
	sleep 1 &&
	txn=$(peer_do bob1 "{\"cmd\":\"verify_request\",\"user\":\"$alice_id\",\"device\":\"$alice_dev\"}" | jq -r .transaction_id) &&
	peer_do bob1 "{\"cmd\":\"verify_start\",\"transaction_id\":\"$txn\"}" >/dev/null &&
	i=0 && while ! grep -qs emoji w1.out w2.out && [ $i -lt 300 ]; do sleep 0.2; i=$((i + 1)); done &&
	if grep -qs emoji w1.out; then win=w1 lose=w2; echo yes >&7; else win=w2 lose=w1; echo yes >&8; fi &&
	peer_do bob1 "{\"cmd\":\"verify_confirm\",\"transaction_id\":\"$txn\",\"match\":true}" >/dev/null &&
	test "$(wait_rc $win.rc)" = 0 &&
	peer_wait bob1 "select(.event == \"verified\" and .transaction_id == \"$txn\")" >/dev/null &&
	i=0 && while [ ! -s $lose.rc ] && [ $i -lt 200 ]; do sleep 0.2; i=$((i + 1)); done &&
	exec 7>&- 8>&- &&
	test "$(cat $lose.rc)" = 1 &&
	test ! -s $lose.out &&
	grep "no verification request came" $lose.err
'

test_expect_success 'no request within --timeout: exit 1' '
	test_expect_code 1 mx-verify -p alice --json --timeout 2 sas </dev/null >t.out 2>t.err &&
	grep "no verification request came in 2 s" t.err
'

test_expect_success 'usage: an operand that is no user ID, no terminal without --json' '
	test_expect_code 2 mx-verify -p alice --json sas bob </dev/null &&
	test_expect_code 2 mx-verify -p alice --json sas bob DEVICE </dev/null &&
	test_expect_code 2 mx-verify -p alice sas </dev/null 2>u.err &&
	grep "use --json" u.err
'

peer_stop bob1
peer_stop bob2
peer_stop bob3
test_done
