#!/bin/sh
# mx-send transaction ids: a send whose answer was lost is not duplicated,
# within a run (HTTP retry, same txn id) and across runs (the pending
# record in the profile's store).
. "${0%/*}/lib.sh"
need_homeserver
. "$MX_SRC/t/0300-send-lib.sh"

python3 "$MX_SRC/t/0306-proxy.py" "$MX_TEST_HOMESERVER" mode puts >port &
proxy_pid=$!
trap 'kill $proxy_pid 2>/dev/null' EXIT
i=0
while [ ! -s port ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
[ -s port ] || setup_failed "the proxy t/0306-proxy.py did not start"
proxy=http://127.0.0.1:$(cat port)

# txns: the txn ids of the sends the proxy saw, one per line.
txns() { sed 's|.*/||' puts; }

test_expect_success 'a lost answer is retried with the same txn id' '
	echo lose-once >mode && : >puts &&
	MX_HOMESERVER=$proxy mx-send "$room" lost answer >out 2>err &&
	eid=$(sent out) &&
	test $(wc -l <puts) = 2 && test $(txns | sort -u | wc -l) = 1 &&
	test "$(txns | head -n 1)" = "$(jq -r .txn_id out)" &&
	count_messages >got && echo 1 >want && test_cmp want got &&
	content "$eid" | jq -r .body >got && echo "lost answer" >want &&
	test_cmp want got
'

# A profile logged in through the proxy.
printf '%s\n' "$alice_pw" |
	env -u MX_HOMESERVER -u MX_ACCESS_TOKEN mx-keys -p a login \
	--homeserver "$proxy" -u "$alice_id" --password-stdin >/dev/null ||
	setup_failed "profile a, logged in through the proxy"

# A sender that hangs waiting for its answer is ended by SIGTERM (143):
# it runs in the background as the process itself (env execs mx-send),
# not inside a shell function, so that kill reaches it.
test_expect_success 'killed while the server had already sent: rerun reuses the txn id' '
	echo hang >mode && : >puts &&
	room2=$(create_room "$alice_token") && echo "$room2" >room2.id &&
	{ env -u MX_HOMESERVER -u MX_ACCESS_TOKEN mx-send -p a "$room2" once only >out1 2>err1 & } &&
	pid=$! &&
	i=0; while [ ! -s puts ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i+1)); done &&
	test -s puts && sleep 0.5 && kill $pid && test_expect_code 143 wait $pid &&
	test ! -s out1 &&
	count_messages "$room2" >got && echo 1 >want && test_cmp want got &&
	txns >first.txn && test $(wc -l <first.txn) = 1 &&
	echo pass >mode &&
	env -u MX_HOMESERVER -u MX_ACCESS_TOKEN mx-send -p a "$room2" once only >rerun.out &&
	sent rerun.out "$room2" >/dev/null &&
	jq -r .txn_id rerun.out >got && test_cmp first.txn got &&
	count_messages "$room2" >got && echo 1 >want && test_cmp want got &&
	last_body "$room2" >got && echo "once only" >want && test_cmp want got
'

test_expect_success 'after an answered send the record is gone: a new message' '
	room2=$(cat room2.id) &&
	env -u MX_HOMESERVER -u MX_ACCESS_TOKEN mx-send -p a "$room2" once only >out2 &&
	test "$(jq -r .txn_id out2)" != "$(cat first.txn)" &&
	test "$(jq -r .event_id out2)" != "$(jq -r .event_id rerun.out)" &&
	count_messages "$room2" >got && echo 2 >want && test_cmp want got
'

test_expect_success 'a live sender of the same content is not deduplicated into' '
	echo hang >mode && : >puts &&
	room3=$(create_room "$alice_token") &&
	{ env -u MX_HOMESERVER -u MX_ACCESS_TOKEN mx-send -p a "$room3" same >o1 2>e1 & } &&
	pid=$! &&
	i=0; while [ ! -s puts ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i+1)); done &&
	test -s puts && echo pass >mode &&
	env -u MX_HOMESERVER -u MX_ACCESS_TOKEN mx-send -p a "$room3" same >out &&
	test "$(jq -r .txn_id out)" != "$(txns | head -n 1)" &&
	kill $pid && test_expect_code 143 wait $pid &&
	count_messages "$room3" >got && echo 2 >want && test_cmp want got
'

# kill -9, then the same command at once: the killed process is still a
# zombie (its parent has not reaped it yet: here, deliberately) or still
# dying, and its record is an orphan all the same (issue: 23 of 30 such
# reruns posted a second copy).
test_expect_success 'SIGKILL, then an immediate rerun: one message, same txn id' '
	room4=$(create_room "$alice_token") &&
	echo hang >mode && : >puts &&
	python3 -c "if True:
		import os, signal, subprocess, sys, time
		cmd = [\"env\", \"-u\", \"MX_HOMESERVER\", \"-u\", \"MX_ACCESS_TOKEN\",
		       \"mx-send\", \"-p\", \"a\", sys.argv[1], \"killed\"]
		p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL)
		for i in range(200):
			if os.path.getsize(\"puts\") > 0:
				break
			time.sleep(0.05)
		open(\"mode\", \"w\").write(\"pass\n\")
		os.kill(p.pid, signal.SIGKILL)
		time.sleep(0.2)
		st = open(\"/proc/%d/stat\" % p.pid).read().rsplit(\")\", 1)[1].split()[0]
		open(\"state\", \"w\").write(st + \"\n\")
		out = subprocess.run(cmd, stdout=subprocess.PIPE).stdout
		open(\"k2\", \"wb\").write(out)
		p.wait()
	" "$room4" &&
	echo Z >want && test_cmp want state &&
	test "$(jq -r .txn_id k2)" = "$(txns | head -n 1)" &&
	count_messages "$room4" >got && echo 1 >want && test_cmp want got
'

test_done
