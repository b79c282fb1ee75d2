#!/bin/sh
# mx-sync against the fault-injecting fake server (t/fakehs.py): --follow
# backs off and carries on after temporary failures; a one-shot sync exits 4.
. "${0%/*}/lib.sh"

MX_ACCESS_TOKEN=secret-token
export MX_ACCESS_TOKEN

# syncs: how many syncs the fake received (grep -c says 0 and fails
# when there are none: only its count is used).
syncs() { grep -c '^GET /_matrix/client/v3/sync' fake.log; }

test_expect_success 'one sync through 500s that outlast the retries: exit 4' '
	start_fake always-500 && export MX_HOMESERVER=$FAKE &&
	test_expect_code 4 mx-sync >out 2>err &&
	test ! -s out && grep -q "^mx-sync: " err && stop_fake
'

test_expect_success '--follow backs off, then goes on from the stored position' '
	rm -rf "$MX_DIR" &&
	start_fake --count 6 500 && export MX_HOMESERVER=$FAKE &&
	{ mx-sync -f >out 2>err & } && pid=$! &&
	i=0 && while [ "$(syncs)" -lt 10 ] && [ $i -lt 200 ]; do
		sleep 0.1; i=$((i + 1)); done &&
	kill -TERM $pid && wait $pid &&
	grep -q "^mx-sync: HTTP 500.*; retrying in 1 s\$\|^mx-sync: M_UNKNOWN.*; retrying in 1 s\$" err &&
	test ! -s out &&
	grep "^GET /_matrix/client/v3/sync" fake.log | sed -n 8p |
	    grep -q "since=s1" &&
	stop_fake
'

# A hostile server that pages /messages without end: mx-sync stops with
# exit 3, saying so, after a bounded number of requests.
test_expect_success '--history: the same token again: exit 3, no loop' '
	start_fake messages-loop && export MX_HOMESERVER=$FAKE &&
	test_expect_code 3 mx-sync --history "!r:localhost" >out 2>err &&
	grep -q "does not move on (the same token again)" err &&
	test "$(grep -c "/messages" fake.log)" -le 3
'

# "mx" is mx's own: a server's event carrying one must not print as if
# mx had said it.
test_expect_success 'an "mx" the server put in an event is dropped' '
	echo "{\"chunk\": [{\"type\": \"m.room.message\", \"sender\": \"@f:localhost\",
		\"event_id\": \"\$f\", \"content\": {\"body\": \"x\"},
		\"mx\": {\"decrypted\": true, \"trust\": \"verified\"}}]}" >forged.json &&
	start_fake ok --messages forged.json && export MX_HOMESERVER=$FAKE &&
	mx-sync --history "!r:localhost" >out 2>err &&
	jq -e ".event_id == \"\$f\" and .mx == null" out
'

test_expect_success '--history: empty pages without end: exit 3, bounded' '
	start_fake messages-empty && export MX_HOMESERVER=$FAKE &&
	test_expect_code 3 mx-sync --history "!r:localhost" >out 2>err &&
	grep -q "does not move on (empty pages without end)" err &&
	test "$(grep -c "/messages" fake.log)" -le 1002
'

test_expect_success '--limit: the same token again: exit 3' '
	start_fake messages-loop && export MX_HOMESERVER=$FAKE &&
	test_expect_code 3 mx-sync --limit 500 "!r:localhost" >out 2>err &&
	grep -q "does not move on" err
'

test_expect_success 'a server error with control characters: one line, none of them' '
	start_fake 403-escape && export MX_HOMESERVER=$FAKE &&
	test_expect_code 3 mx-sync >out 2>err &&
	test "$(wc -l <err)" = 1 &&
	! grep -q "$(printf "\\033")" err &&
	! grep -q "$(printf "\\007")" err &&
	! grep -q "$(printf "\\302\\233")" err &&
	grep -q "^mx-sync: M_FORBIDDEN: ?\\[2J?\\]0;pwned?no?forged line?1m\$" err
'

test_expect_success 'no core file: RLIMIT_CORE is 0 in a running program' '
	start_fake ok && export MX_HOMESERVER=$FAKE &&
	{ mx-sync -f >out 2>err & } && pid=$! &&
	sleep 0.5 &&
	grep "^Max core file size" /proc/$pid/limits >lim &&
	kill -TERM $pid && wait $pid;
	awk "{ exit !(\$5 == 0 && \$6 == 0) }" lim
'

stop_fake
test_done
