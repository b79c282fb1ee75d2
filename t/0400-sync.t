#!/bin/sh
# mx-sync: first and incremental syncs, the stored position, ROOM and
# --types selections, --limit, gaps, invites, --follow across restarts,
# usage errors and exit statuses; a token from the environment never moves
# the profile's position (--state-file keeps its own).
. "${0%/*}/lib.sh"
need_homeserver

setup register_user alice
setup register_user bob
setup login_profile alice
MX_PROFILE=alice
export MX_PROFILE
room=$(create_room "$alice_token") || setup_failed "a room of alice's"

ids() { jq -r .event_id "$@"; }

test_expect_success 'first sync: the recent timeline, every line in $room' '
	send_text "$alice_token" "$room" one >want &&
	send_text "$alice_token" "$room" two >>want &&
	mx-sync >out &&
	jq -r "select(.type==\"m.room.message\") | .event_id" out >got &&
	test_cmp want got &&
	jq -e --arg r "$room" ".room_id == \$r" out >/dev/null &&
	jq -r .type out | head -1 >got && echo m.room.create >want1 &&
	test_cmp want1 got
'

test_expect_success 'nothing new: no output, exit 0' '
	mx-sync >out && test ! -s out
'

test_expect_success 'incremental: exactly the new events, as sent' '
	send_text "$alice_token" "$room" three >want &&
	send_text "$alice_token" "$room" "four ü" >>want &&
	mx-sync >out && ids out >got && test_cmp want got &&
	jq -r .content.body out >got &&
	printf "three\nfour ü\n" >want && test_cmp want got &&
	jq -e ".sender and .origin_server_ts and (.mx == null)" out >/dev/null
'

test_expect_success 'a write failure exits 5 and keeps the position' '
	send_text "$alice_token" "$room" five >want &&
	test_expect_code 5 mx-sync >/dev/full 2>err &&
	grep -q "^mx-sync: cannot write to stdout" err &&
	test_expect_code 5 mx-sync >&- 2>err &&
	grep -q "^mx-sync: cannot write to stdout" err &&
	mx-sync >out && ids out >got && test_cmp want got
'

test_expect_success 'a closed pipe: SIGPIPE, the position is kept' '
	send_text "$alice_token" "$room" six >want &&
	python3 -c "if True:
		import os, subprocess
		r, w = os.pipe()
		os.close(r)
		print(subprocess.call([\"mx-sync\"], stdout=w))" >st &&
	echo -13 >want.st && test_cmp want.st st &&
	mx-sync >out && ids out >got && test_cmp want got
'

test_expect_success 'ROOM limits the output; each selection has its position' '
	room2=$(create_room "$alice_token") &&
	mx-sync "$room2" >/dev/null &&
	send_text "$alice_token" "$room" r1 >all &&
	send_text "$alice_token" "$room2" r2 >want &&
	cat want >>all &&
	mx-sync "$room2" >out && ids out >got && test_cmp want got &&
	mx-sync >out &&
	jq -r "select(.type == \"m.room.message\") | .event_id" out |
	    sort >got && sort all >want && test_cmp want got
'

test_expect_success '--types: server and client filter' '
	mx-sync --types m.room.message >/dev/null &&
	api "$alice_token" PUT "/_matrix/client/v3/rooms/$(urlenc "$room")/state/m.room.topic/" "{\"topic\":\"t\"}" >/dev/null &&
	send_text "$alice_token" "$room" typed >want &&
	mx-sync --types m.room.message >out && ids out >got &&
	test_cmp want got &&
	mx-sync --types m.room.topic,m.room.name >out &&
	jq -r .type out | sort -u >got && echo m.room.topic >want &&
	test_cmp want got
'

test_expect_success '--limit N: the last N events of the room, oldest first' '
	send_text "$alice_token" "$room" l1 >want &&
	send_text "$alice_token" "$room" l2 >>want &&
	send_text "$alice_token" "$room" l3 >>want &&
	mx-sync --limit 3 "$room" >out && ids out >got && test_cmp want got &&
	mx-sync --limit 2 --types m.room.topic "$room" >out &&
	jq -r .content.topic out >got && echo t >want && test_cmp want got
'

test_expect_success 'a limited timeline: its gap is filled, nothing skipped' '
	mx-sync >/dev/null &&
	: >want && i=0 &&
	while [ $i -lt 130 ]; do
		send_text "$alice_token" "$room" "g$i" >>want || exit 1
		i=$((i + 1))
	done &&
	mx-sync -v >out 2>err && ids out >got && test_cmp want got &&
	grep -q "^mx-sync: filling a timeline gap of .$room. from /messages" err
'

test_expect_success '--accept-invites joins and prints the invite' '
	broom=$(create_room "$bob_token" "{\"invite\":[\"$alice_id\"]}") &&
	mx-sync --accept-invites >out &&
	jq -c --arg r "$broom" "select(.room_id == \$r and .mx.section == \"invite\") |
	    [.type, .state_key, .content.membership, .mx]" out >got &&
	echo "[\"m.room.member\",\"$alice_id\",\"invite\",{\"section\":\"invite\",\"joined\":true}]" >want &&
	test_cmp want got &&
	api "$alice_token" GET /_matrix/client/v3/joined_rooms |
	    jq -e --arg r "$broom" ".joined_rooms | index(\$r)" >/dev/null
'

test_expect_success 'an invite without --accept-invites is printed, not joined' '
	broom2=$(create_room "$bob_token" "{\"invite\":[\"$alice_id\"]}") &&
	echo "$broom2" >broom2.id &&
	mx-sync >out &&
	jq -c --arg r "$broom2" "select(.room_id == \$r) | .mx" out >got &&
	echo "{\"section\":\"invite\",\"joined\":false}" >want &&
	test_cmp want got
'

test_expect_success 'mx-sync ROOM prints no invite to another room' '
	broom3=$(create_room "$bob_token" "{\"invite\":[\"$alice_id\"]}") &&
	echo "$broom3" >broom3.id &&
	mx-sync "$room" >out &&
	! grep -qF "$broom3" out
'

test_expect_success 'an invite printed and moved past: a later --accept-invites joins it' '
	broom2=$(cat broom2.id) && broom3=$(cat broom3.id) &&
	mx-sync >/dev/null &&
	mx-sync --accept-invites >out &&
	api "$alice_token" GET /_matrix/client/v3/joined_rooms >jr &&
	jq -e --arg r "$broom2" ".joined_rooms | index(\$r)" jr >/dev/null &&
	jq -e --arg r "$broom3" ".joined_rooms | index(\$r)" jr >/dev/null &&
	jq -s -e --arg r "$broom2" "any(.[]; .room_id == \$r and .mx.joined == true)" out
'

test_expect_success '--accept-invites records a direct chat in m.direct' '
	droom=$(create_room "$bob_token" "{\"is_direct\":true,\"invite\":[\"$alice_id\"]}") &&
	mx-sync --accept-invites >/dev/null &&
	api "$alice_token" GET "/_matrix/client/v3/user/$(urlenc "$alice_id")/account_data/m.direct" |
		jq -e --arg b "$bob_id" --arg r "$droom" ".[\$b] | index(\$r)" &&
	mx-send "$bob_id" "via the invite" >sent &&
	jq -e --arg r "$droom" ".room_id == \$r" sent
'

# wait_lines FILE N: wait up to 20 s until FILE has N lines.
wait_lines() {
	_i=0
	while [ "$(wc -l <"$1")" -lt "$2" ] && [ $_i -lt 200 ]; do
		sleep 0.1
		_i=$((_i + 1))
	done
	[ "$(wc -l <"$1")" -ge "$2" ]
}

test_expect_success '--follow: events appear; SIGTERM exits 0; restart resumes' '
	mx-sync "$room" --types m.room.message >/dev/null &&
	: >f1 && : >want &&
	{ mx-sync -f --types m.room.message "$room" >f1 & } && pid=$! &&
	sleep 1 &&
	send_text "$alice_token" "$room" f1 >>want &&
	send_text "$alice_token" "$room" f2 >>want &&
	wait_lines f1 2 &&
	kill -TERM $pid && wait $pid &&
	send_text "$alice_token" "$room" f3 >>want &&
	send_text "$alice_token" "$room" f4 >>want &&
	: >f2 &&
	{ mx-sync -f --types m.room.message "$room" >f2 & } && pid=$! &&
	send_text "$alice_token" "$room" f5 >>want &&
	wait_lines f2 3 && sleep 1 &&
	kill -INT $pid && wait $pid &&
	cat f1 f2 | ids >got && test_cmp want got
'

test_expect_success '--limit N -f: the last N, then new events' '
	jq -r .event_id f2 | tail -2 >want &&
	: >f3 &&
	{ mx-sync --limit 2 -f --types m.room.message "$room" >f3 & } &&
	pid=$! && wait_lines f3 2 &&
	send_text "$alice_token" "$room" f6 >>want &&
	wait_lines f3 3 && sleep 1 &&
	kill -TERM $pid && wait $pid &&
	ids f3 >got && test_cmp want got
'

test_expect_success 'unknown or not joined room: exit 3' '
	test_expect_code 3 mx-sync "#nope:$MX_TEST_SERVER_NAME" 2>err &&
	grep -q "^mx-sync: unknown alias" err &&
	noroom=$(create_room "$bob_token") &&
	test_expect_code 3 mx-sync "$noroom" 2>err &&
	grep -q "^mx-sync: not joined to" err &&
	test_expect_code 3 mx-sync --history "$noroom" &&
	test_expect_code 3 mx-sync --limit 1 "$noroom"
'

test_expect_success 'dead homeserver: exit 4' '
	MX_HOMESERVER=http://127.0.0.1:1 MX_ACCESS_TOKEN=$alice_token \
		test_expect_code 4 mx-sync 2>err &&
	grep -q "^mx-sync: " err
'

# The person's profile and a job with the same user's token, on one
# machine: the job sees the new events, and so does the person next time.
test_expect_success 'MX_ACCESS_TOKEN never moves the profile position' '
	mx-sync >/dev/null &&
	send_text "$alice_token" "$room" "for both" >want &&
	MX_HOMESERVER=$MX_TEST_HOMESERVER MX_ACCESS_TOKEN=$alice_token \
		mx-sync --state-file job.pos >job &&
	jq -r "select(.content.body == \"for both\") | .event_id" job >got &&
	test_cmp want got &&
	MX_HOMESERVER=$MX_TEST_HOMESERVER MX_ACCESS_TOKEN=$alice_token \
		mx-sync >job2 &&
	mx-sync >mine && ids mine >got && test_cmp want got
'

test_expect_success '--state-file: the next run goes on from it; 0600' '
	send_text "$alice_token" "$room" "after the job" >want &&
	MX_HOMESERVER=$MX_TEST_HOMESERVER MX_ACCESS_TOKEN=$alice_token \
		mx-sync --state-file job.pos >job &&
	ids job >got && test_cmp want got &&
	test "$(stat -c %a job.pos)" = 600 &&
	test "$(wc -l <job.pos)" = 1 &&
	test -z "$(ls | grep job.pos.tmp)"
'

test_expect_success '--state-file that is not a position: exit 5, kept' '
	printf "a\nb\n" >bad.pos &&
	test_expect_code 5 mx-sync --state-file bad.pos 2>err &&
	grep -q "holds no sync position" err &&
	printf "a\nb\n" >want && test_cmp want bad.pos
'

test_expect_success 'usage errors: exit 2' '
	test_expect_code 2 mx-sync --from x 2>err &&
	test_expect_code 2 mx-sync --limit 2 2>err &&
	test_expect_code 2 mx-sync --limit 0 "$room" 2>err &&
	test_expect_code 2 mx-sync --limit x "$room" 2>err &&
	test_expect_code 2 mx-sync -f --history "$room" 2>err &&
	test_expect_code 2 mx-sync --limit 2 --accept-invites "$room" 2>err &&
	test_expect_code 2 mx-sync --history "$room" "$room" 2>err &&
	test_expect_code 2 mx-sync --history "$room" --limit 2 2>err &&
	test_expect_code 2 mx-sync -f -f 2>err &&
	test_expect_code 2 mx-sync "not-a-room" 2>err &&
	test_expect_code 2 mx-sync --state-file x --history "$room" 2>err &&
	test_expect_code 2 mx-sync --state-file x --limit 2 "$room" 2>err
'

test_done
