#!/bin/sh
# mx-send ROOM as an alias, as a user (the DM room) and --join.
. "${0%/*}/lib.sh"
need_homeserver
. "$MX_SRC/t/0300-send-lib.sh"

# direct: alice's m.direct account data.
direct() {
	api "$alice_token" GET "/_matrix/client/v3/user/$(urlenc "$alice_id")/account_data/m.direct"
}

test_expect_success 'an alias resolves to its room' '
	name=ops-$$ &&
	aroom=$(create_room "$alice_token" "{\"room_alias_name\":\"$name\"}") &&
	mx-send "#$name:$MX_TEST_SERVER_NAME" via alias >out &&
	eid=$(sent out "$aroom") &&
	content "$eid" "$aroom" | jq -r .body >got &&
	echo "via alias" >want && test_cmp want got
'

test_expect_success '@user creates a trusted private DM and records it' '
	mx-send "$bob_id" hello bob >out &&
	dm=$(jq -r .room_id out) && sent out "$dm" >/dev/null &&
	echo "$dm" >dm.id &&
	direct | jq -c --arg b "$bob_id" ".[\$b]" >got &&
	jq -cn --arg r "$dm" "[\$r]" >want && test_cmp want got &&
	api "$alice_token" GET "/_matrix/client/v3/rooms/$(urlenc "$dm")/state/m.room.member/$(urlenc "$bob_id")" |
		jq -c "[.membership, .is_direct]" >got &&
	echo "[\"invite\",true]" >want && test_cmp want got &&
	api "$alice_token" GET "/_matrix/client/v3/rooms/$(urlenc "$dm")/state/m.room.join_rules/" |
		jq -r .join_rule >got && echo invite >want && test_cmp want got
'

test_expect_success '@user again reuses the DM room' '
	dm=$(cat dm.id) &&
	mx-send "$bob_id" again >out && sent out "$dm" >/dev/null &&
	direct | jq -c --arg b "$bob_id" ".[\$b]" >got &&
	jq -cn --arg r "$dm" "[\$r]" >want && test_cmp want got
'

test_expect_success '@user whose DM room we left gets a new one' '
	dm=$(cat dm.id) &&
	api "$alice_token" POST "/_matrix/client/v3/rooms/$(urlenc "$dm")/leave" "{}" >/dev/null &&
	mx-send "$bob_id" third >out && dm2=$(jq -r .room_id out) &&
	test "$dm2" != "$dm" && sent out "$dm2" >/dev/null &&
	direct | jq -c --arg b "$bob_id" ".[\$b]" >got &&
	jq -cn --arg a "$dm" --arg b "$dm2" "[\$a, \$b]" >want && test_cmp want got
'

test_expect_success 'invited: plain send refused (3), --join joins and sends' '
	broom=$(create_room "$bob_token") &&
	api "$bob_token" POST "/_matrix/client/v3/rooms/$(urlenc "$broom")/invite" "{\"user_id\":\"$alice_id\"}" >/dev/null &&
	test_expect_code 3 mx-send "$broom" early >out 2>err && test ! -s out &&
	mx-send --join "$broom" joined >out && eid=$(sent out "$broom") &&
	content "$eid" "$broom" | jq -r .body >got &&
	echo joined >want && test_cmp want got
'

test_expect_success '--join a public room by alias' '
	pname=pub-$$ &&
	proom=$(create_room "$bob_token" "{\"preset\":\"public_chat\",\"room_alias_name\":\"$pname\"}") &&
	mx-send --join "#$pname:$MX_TEST_SERVER_NAME" hi all >out &&
	sent out "$proom" >/dev/null
'

test_expect_success '--join where we may not: 3' '
	priv=$(create_room "$bob_token") &&
	test_expect_code 3 mx-send --join "$priv" hi >out 2>err &&
	test ! -s out && grep -q "^mx-send: cannot join" err
'

# carol invites alice to a DM first: alice's first message to carol goes
# there, not into a second room of her own.
setup register_user carol

test_expect_success '@user who invited us to a DM: that room is joined, not a new one' '
	croom=$(create_room "$carol_token" "{\"is_direct\":true,\"preset\":\"trusted_private_chat\",\"invite\":[\"$alice_id\"]}") &&
	api "$alice_token" GET /_matrix/client/v3/joined_rooms | jq ".joined_rooms | length" >before &&
	mx-send "$carol_id" hi carol >out &&
	sent out "$croom" >/dev/null &&
	api "$alice_token" GET /_matrix/client/v3/joined_rooms | jq ".joined_rooms | length" >after &&
	test "$(cat after)" = $(($(cat before) + 1)) &&
	direct | jq -c --arg c "$carol_id" ".[\$c]" >got &&
	jq -cn --arg r "$croom" "[\$r]" >want && test_cmp want got
'

test_expect_success '@user who does not exist: exit 3, no room created' '
	api "$alice_token" GET /_matrix/client/v3/joined_rooms | jq ".joined_rooms | length" >before &&
	test_expect_code 3 mx-send "@nobody-$$:$MX_TEST_SERVER_NAME" hi >out 2>err &&
	test ! -s out &&
	grep -qx "mx-send: unknown user .@nobody-$$:$MX_TEST_SERVER_NAME." err &&
	api "$alice_token" GET /_matrix/client/v3/joined_rooms | jq ".joined_rooms | length" >after &&
	test_cmp before after
'

test_done
