#!/bin/sh
# lib/api against the real Synapse, through t/unit/httpdrv: login, whoami,
# rooms, send, state, members, messages, aliases, join, account data,
# media round trip, sync, logout.
. "$(dirname "$0")/lib.sh"
need_homeserver

DRV=$MX_SRC/t/unit/httpdrv.t
[ -x "$DRV" ] || skip_all "t/unit/httpdrv.t not built (make t/unit/httpdrv.t)"
HS=$MX_TEST_HOMESERVER

# run USER ARGS: the driver with USER's token; stdout to out, stderr to err
run() {
	_u=$1
	shift
	eval "MX_ACCESS_TOKEN=\$${_u}_token"
	MX_ACCESS_TOKEN=$MX_ACCESS_TOKEN "$DRV" "$HS" "$@" >out 2>err
}

setup register_user alice
setup register_user bob

# What several tests share (the room, its alias, an event id, a sync
# token) is kept in files: room.id, alias, event.id, since, alice2.login.

test_expect_success 'versions' '
	"$DRV" "$HS" versions >out &&
	jq -e ".versions | index(\"v1.1\")" out
'

test_expect_success 'login with a password, whoami with the new token' '
	printf "%s\n" "$alice_pw" | "$DRV" "$HS" login "$alice_id" >alice2.login &&
	test "$(jq -r .user_id alice2.login)" = "$alice_id" &&
	alice2_token=$(jq -r .access_token alice2.login) &&
	dev=$(jq -r .device_id alice2.login) &&
	run alice2 whoami &&
	echo "$alice_id $dev" >expect && test_cmp expect out
'

test_expect_success 'login with a wrong password: exit 3, M_FORBIDDEN' '
	echo wrong | test_expect_code 3 "$DRV" "$HS" login "$alice_id" 2>err &&
	grep "M_FORBIDDEN" err
'

test_expect_success 'bad token: exit 3, M_UNKNOWN_TOKEN' '
	MX_ACCESS_TOKEN=nope test_expect_code 3 "$DRV" "$HS" whoami 2>err &&
	grep "M_UNKNOWN_TOKEN" err
'

test_expect_success 'create a public room with an alias' '
	alias_local=ops-$$-$(date +%s) &&
	run alice create "{\"preset\":\"public_chat\",\"room_alias_name\":\"$alias_local\"}" &&
	room=$(cat out) &&
	case $room in !*:*) ;; *) false ;; esac &&
	echo "$room" >room.id && echo "#$alias_local:$MX_TEST_SERVER_NAME" >alias
'

test_expect_success 'resolve the alias' '
	run bob resolve "$(cat alias)" &&
	test_cmp room.id out
'

test_expect_success 'unknown alias: exit 3, M_NOT_FOUND' '
	test_expect_code 3 run bob resolve "#nope-$$:$MX_TEST_SERVER_NAME" &&
	grep M_NOT_FOUND err
'

test_expect_success 'sending before joining: exit 3, M_FORBIDDEN' '
	room=$(cat room.id) &&
	test_expect_code 3 run bob send "$room" m.room.message t0 "{\"msgtype\":\"m.text\",\"body\":\"x\"}" &&
	grep "M_FORBIDDEN" err
'

test_expect_success 'join by alias' '
	run bob join "$(cat alias)" &&
	test_cmp room.id out
'

test_expect_success 'send, and the same txn id again gives the same event' '
	room=$(cat room.id) &&
	run alice send "$room" m.room.message txn-1 "{\"msgtype\":\"m.text\",\"body\":\"hello ünïcode\"}" &&
	ev=$(cat out) &&
	run alice send "$room" m.room.message txn-1 "{\"msgtype\":\"m.text\",\"body\":\"hello ünïcode\"}" &&
	echo "$ev" >expect && test_cmp expect out &&
	cp out event.id
'

test_expect_success 'get the event back' '
	run bob event "$(cat room.id)" "$(cat event.id)" &&
	test "$(jq -r .content.body out)" = "hello ünïcode" &&
	test "$(jq -r .sender out)" = "$alice_id"
'

test_expect_success 'put and get state' '
	room=$(cat room.id) &&
	run alice putstate "$room" m.room.topic "" "{\"topic\":\"t 1\"}" &&
	run bob state "$room" m.room.topic "" &&
	echo "{\"topic\":\"t 1\"}" >expect && test_cmp expect out
'

test_expect_success 'absent state: not found, exit 0' '
	run bob state "$(cat room.id)" m.room.avatar "" &&
	echo "not found" >expect && test_cmp expect out
'

test_expect_success 'members' '
	run alice members "$(cat room.id)" &&
	jq -r "[.[] | select(.content.membership == \"join\") | .state_key] | sort | .[]" out >actual &&
	printf "%s\n" "$alice_id" "$bob_id" | sort >expect &&
	test_cmp expect actual
'

test_expect_success 'joined rooms' '
	run bob joined &&
	jq -e --arg r "$(cat room.id)" "index(\$r)" out
'

test_expect_success 'messages backwards, limited' '
	room=$(cat room.id) &&
	run bob messages "$room" b 1 &&
	test "$(jq ".chunk | length" out)" = 1 &&
	jq -e ".end" out &&
	run bob messages "$room" b 100 "$(jq -r .end out)" &&
	jq -e ".chunk | length > 1" out
'

test_expect_success 'messages with a filter' '
	run bob messages "$(cat room.id)" b 100 "" "{\"types\":[\"m.room.message\"]}" &&
	jq -r ".chunk[].type" out | sort -u >actual &&
	echo m.room.message >expect && test_cmp expect actual
'

test_expect_success 'redact: the event loses its content, says why' '
	room=$(cat room.id) && ev=$(cat event.id) &&
	run alice redact "$room" "$ev" red-1 "oops" &&
	red=$(cat out) &&
	case $red in \$*) ;; *) false ;; esac &&
	run bob event "$room" "$ev" &&
	jq -c "[.content, .unsigned.redacted_because.event_id,
	    .unsigned.redacted_because.content.reason]" out >got &&
	jq -cn --arg r "$red" "[{}, \$r, \"oops\"]" >want && test_cmp want got
'

test_expect_success 'account data: absent, put, get' '
	room=$(cat room.id) &&
	run alice getad "$alice_id" m.direct &&
	echo "not found" >expect && test_cmp expect out &&
	run alice putad "$alice_id" m.direct "{\"$bob_id\":[\"$room\"]}" &&
	run alice getad "$alice_id" m.direct &&
	jq -e --arg b "$bob_id" ".[\$b][0]" out
'

test_expect_success 'sync with an inline filter: its timeline limit holds' '
	room=$(cat room.id) &&
	run bob sync "" 0 "{\"room\":{\"timeline\":{\"limit\":3}}}" &&
	jq -c --arg r "$room" ".rooms.join[\$r].timeline |
	    [(.events | length), .limited]" out >got &&
	echo "[3,true]" >want && test_cmp want got &&
	since=$(jq -r .next_batch out) &&
	run bob sync "$since" 0 &&
	jq -r .next_batch out >since && test -s since
'

test_expect_success 'long-poll sync waits, and returns when an event arrives' '
	room=$(cat room.id) &&
	{ MX_ACCESS_TOKEN=$bob_token "$DRV" "$HS" sync "$(cat since)" 20000 \
		>poll 2>poll.err & } &&
	pid=$! && sleep 2 &&
	test ! -s poll && kill -0 $pid &&
	t0=$(date +%s) &&
	run alice send "$room" m.room.message txn-2 "{\"msgtype\":\"m.text\",\"body\":\"later\"}" &&
	wait $pid && t1=$(date +%s) && test $((t1 - t0)) -lt 10 &&
	jq -r --arg r "$room" ".rooms.join[\$r].timeline.events[] | .content.body" poll >got &&
	echo later >want && test_cmp want got
'

test_expect_success 'media config' '
	run alice mediaconfig &&
	test "$(cat out)" -gt 0
'

test_expect_success 'upload and download round trip, byte for byte' '
	head -c 300000 /dev/urandom >blob &&
	printf "\0\r\n\377" >>blob &&
	run alice upload blob application/octet-stream "blob file.bin" &&
	mxc=$(cat out) &&
	case $mxc in mxc://*/*) ;; *) false ;; esac &&
	run bob download "$mxc" got &&
	cmp blob got
'

test_expect_success 'download of an unknown media id: exit 3' '
	test_expect_code 3 run bob download "mxc://$MX_TEST_SERVER_NAME/nonexistent" got2
'

test_expect_success 'discover through the server name' '
	"$DRV" - discover "$MX_TEST_SERVER_NAME" >out &&
	"$DRV" "$(cat out)" versions >/dev/null
'

test_expect_success 'the -vv trace never shows a token or password' '
	printf "%s\n" "$alice_pw" |
		"$DRV" -v 3 "$HS" login "$alice_id" >login 2>trace &&
	tok=$(jq -r .access_token login) &&
	MX_ACCESS_TOKEN=$tok "$DRV" -v 3 "$HS" whoami >/dev/null 2>>trace &&
	grep "> POST $HS/_matrix/client/v3/login" trace &&
	! grep -F "$tok" trace &&
	! grep -F "$alice_pw" trace
'

test_expect_success 'logout invalidates the token' '
	alice2_token=$(jq -r .access_token alice2.login) &&
	run alice2 logout &&
	test_expect_code 3 run alice2 whoami &&
	grep M_UNKNOWN_TOKEN err
'

test_done
