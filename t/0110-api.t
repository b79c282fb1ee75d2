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

test_expect_success 'users' '
	register_user alice &&
	register_user bob
'

test_expect_success 'versions' '
	"$DRV" "$HS" versions >out &&
	jq -e ".versions | index(\"v1.1\")" out
'

test_expect_success 'login with a password, whoami with the new token' '
	printf "%s\n" "$alice_pw" | "$DRV" "$HS" login "$alice_id" >login &&
	test "$(jq -r .user_id login)" = "$alice_id" &&
	alice2_token=$(jq -r .access_token login) &&
	dev=$(jq -r .device_id login) &&
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
	case $room in !*:*) ;; *) false ;; esac
'

test_expect_success 'resolve the alias' '
	alias="#$alias_local:$MX_TEST_SERVER_NAME" &&
	run bob resolve "$alias" &&
	echo "$room" >expect && test_cmp expect out
'

test_expect_success 'unknown alias: exit 3, M_NOT_FOUND' '
	test_expect_code 3 run bob resolve "#nope-$$:$MX_TEST_SERVER_NAME" &&
	grep M_NOT_FOUND err
'

test_expect_success 'sending before joining: exit 3, M_FORBIDDEN' '
	test_expect_code 3 run bob send "$room" m.room.message t0 "{\"msgtype\":\"m.text\",\"body\":\"x\"}" &&
	grep "M_FORBIDDEN" err
'

test_expect_success 'join by alias' '
	run bob join "$alias" &&
	echo "$room" >expect && test_cmp expect out
'

test_expect_success 'send, and the same txn id again gives the same event' '
	run alice send "$room" m.room.message txn-1 "{\"msgtype\":\"m.text\",\"body\":\"hello ünïcode\"}" &&
	ev=$(cat out) &&
	run alice send "$room" m.room.message txn-1 "{\"msgtype\":\"m.text\",\"body\":\"hello ünïcode\"}" &&
	echo "$ev" >expect && test_cmp expect out
'

test_expect_success 'get the event back' '
	run bob event "$room" "$ev" &&
	test "$(jq -r .content.body out)" = "hello ünïcode" &&
	test "$(jq -r .sender out)" = "$alice_id"
'

test_expect_success 'put and get state' '
	run alice putstate "$room" m.room.topic "" "{\"topic\":\"t 1\"}" &&
	run bob state "$room" m.room.topic "" &&
	echo "{\"topic\":\"t 1\"}" >expect && test_cmp expect out
'

test_expect_success 'absent state: not found, exit 0' '
	run bob state "$room" m.room.avatar "" &&
	echo "not found" >expect && test_cmp expect out
'

test_expect_success 'members' '
	run alice members "$room" &&
	jq -r "[.[] | select(.content.membership == \"join\") | .state_key] | sort | .[]" out >actual &&
	printf "%s\n" "$alice_id" "$bob_id" | sort >expect &&
	test_cmp expect actual
'

test_expect_success 'joined rooms' '
	run bob joined &&
	jq -e --arg r "$room" "index(\$r)" out
'

test_expect_success 'messages backwards, limited' '
	run bob messages "$room" b 1 &&
	test "$(jq ".chunk | length" out)" = 1 &&
	jq -e ".end" out &&
	run bob messages "$room" b 100 "$(jq -r .end out)" &&
	jq -e ".chunk | length > 1" out
'

test_expect_success 'messages with a filter' '
	run bob messages "$room" b 100 "" "{\"types\":[\"m.room.message\"]}" &&
	jq -r ".chunk[].type" out | sort -u >actual &&
	echo m.room.message >expect && test_cmp expect actual
'

test_expect_success 'redact' '
	run alice redact "$room" "$ev" red-1 "oops" &&
	case $(cat out) in \$*) ;; *) false ;; esac
'

test_expect_success 'account data: absent, put, get' '
	run alice getad "$alice_id" m.direct &&
	echo "not found" >expect && test_cmp expect out &&
	run alice putad "$alice_id" m.direct "{\"$bob_id\":[\"$room\"]}" &&
	run alice getad "$alice_id" m.direct &&
	jq -e --arg b "$bob_id" ".[\$b][0]" out
'

test_expect_success 'sync with an inline filter' '
	run bob sync "" 0 "{\"room\":{\"timeline\":{\"limit\":5}}}" &&
	jq -e --arg r "$room" ".rooms.join[\$r]" out &&
	since=$(jq -r .next_batch out) &&
	run bob sync "$since" 0 &&
	jq -e .next_batch out
'

test_expect_success 'long-poll sync returns when an event arrives' '
	run alice send "$room" m.room.message txn-2 "{\"msgtype\":\"m.text\",\"body\":\"later\"}" &&
	run bob sync "$since" 20000 &&
	jq -e --arg r "$room" ".rooms.join[\$r].timeline.events[] | select(.content.body == \"later\")" out
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
	run alice2 logout &&
	test_expect_code 3 run alice2 whoami &&
	grep M_UNKNOWN_TOKEN err
'

test_done
