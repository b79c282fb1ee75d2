#!/bin/sh
# mx-sync --history over more than 1,000 events: count, order (oldest first,
# from m.room.create), --types, and resuming with --from.
. "${0%/*}/lib.sh"
need_homeserver

setup register_user alice
MX_HOMESERVER=$MX_TEST_HOMESERVER
MX_ACCESS_TOKEN=$alice_token
export MX_HOMESERVER MX_ACCESS_TOKEN
room=$(create_room "$alice_token") || setup_failed "a room of alice's"
N=1050

# Send N numbered messages in order over one curl connection.
test_expect_success "send $N messages" '
	enc=$(urlenc "$room") && i=0 &&
	{
		while [ $i -lt $N ]; do
			[ $i -gt 0 ] && echo next
			printf "header = \"Authorization: Bearer %s\"\n" "$alice_token"
			printf "url = \"%s\"\n" "$MX_TEST_HOMESERVER/_matrix/client/v3/rooms/$enc/send/m.room.message/h$$-$i"
			printf "request = \"PUT\"\noutput = \"/dev/null\"\nfail\n"
			printf "data = \"{\\\\\"msgtype\\\\\":\\\\\"m.text\\\\\",\\\\\"body\\\\\":\\\\\"%d\\\\\"}\"\n" $i
			i=$((i + 1))
		done
	} >curl.conf &&
	curl -sS -K curl.conf &&
	test "$(api "$alice_token" GET "/_matrix/client/v3/rooms/$enc/messages?dir=b&limit=1" |
	    jq -r ".chunk[0].content.body")" = $((N - 1))
'

test_expect_success '--history: every event, oldest first, from m.room.create' '
	mx-sync -v --history "$room" >all 2>err &&
	head -1 all | jq -r .type >got && echo m.room.create >want &&
	test_cmp want got &&
	jq -r "select(.type == \"m.room.message\") | .content.body" all >got &&
	seq 0 $((N - 1)) >want && test_cmp want got &&
	jq -e --arg r "$room" ".room_id == \$r" all >/dev/null &&
	test $(jq -r .event_id all | sort -u | wc -l) -eq $(wc -l <all)
'

test_expect_success '-v reports the token after each page' '
	test $(grep -c "^mx-sync: history of .* printed up to --from " err) \
	    -eq $(( ($(wc -l <all) + 99) / 100 ))
'

test_expect_success '--from TOKEN continues after the pages printed before' '
	tok=$(sed -n "5s/.*--from //p" err) && test -n "$tok" &&
	mx-sync --history "$room" --from "$tok" >rest &&
	tail -n +501 all | jq -r .event_id >want &&
	jq -r .event_id rest >got && test_cmp want got
'

test_expect_success '--history --types m.room.message' '
	mx-sync --history "$room" --types m.room.message >msgs &&
	jq -r .type msgs | sort -u >got && echo m.room.message >want &&
	test_cmp want got && test $(wc -l <msgs) -eq $N
'

test_expect_success '--limit 150: the last 150, oldest first' '
	mx-sync --limit 150 "$room" >out &&
	jq -r .content.body out >got && seq $((N - 150)) $((N - 1)) >want &&
	test_cmp want got
'

test_expect_success '--emit-token: the last line is the token; --from it prints the newer' '
	mx-sync --history "$room" --emit-token >withtok &&
	head -n -1 withtok | jq -r .event_id >got &&
	jq -r .event_id all >want && test_cmp want got &&
	tail -n 1 withtok | jq -e ".mx.section == \"resume\" and (.mx.from | length > 0)" &&
	tok=$(tail -n 1 withtok | jq -r .mx.from) &&
	eid=$(send_text "$alice_token" "$room" newer) &&
	mx-sync --history "$room" --from "$tok" --emit-token >next &&
	head -n -1 next | jq -r .event_id >got && echo "$eid" >want &&
	test_cmp want got
'

test_expect_success '--emit-token needs --history (2)' '
	test_expect_code 2 mx-sync --emit-token 2>err &&
	grep -q "emit-token needs --history" err
'

test_done
