#!/bin/sh
# mx-room: list, invites, create, join, leave, invite, kick, ban, unban,
# members, state, set, name, topic, avatar, encrypt, power, alias.
. "${0%/*}/lib.sh"
need_homeserver

setup register_user alice
setup register_user bob
setup register_user carol
setup login_profile alice
setup login_profile bob
S=$MX_TEST_SERVER_NAME
nobody=@nobody-$$:$S

# as_carol CMD...: mx-room with carol's token from the environment (no
# profile).
as_carol() {
	MX_HOMESERVER=$MX_TEST_HOMESERVER MX_ACCESS_TOKEN=$carol_token "$@"
}

# state TOKEN ROOM TYPE [KEY]: a state event's content as the server has it.
state() {
	api "$1" GET "/_matrix/client/v3/rooms/$(urlenc "$2")/state/$3/$(urlenc "${4:-}")"
}

joined_count() {
	api "$1" GET /_matrix/client/v3/joined_rooms | jq ".joined_rooms | length"
}

# one_line FILE KEYS: FILE is one JSON line with exactly these keys.
one_line() {
	[ "$(wc -l <"$1")" -eq 1 ] || { echo "not one line:"; cat "$1"; return 1; }
	jq -e --argjson k "$2" 'keys == ($k | sort)' "$1" >/dev/null ||
		{ echo "keys of:"; cat "$1"; return 1; }
}

# --- usage -----------------------------------------------------------------

test_expect_success 'usage errors exit 2' '
	test_expect_code 2 mx-room -p alice 2>err &&
	grep -q "^mx-room: no subcommand given" err &&
	test_expect_code 2 mx-room -p alice frobnicate 2>err &&
	grep -q "^mx-room: unknown subcommand .frobnicate." err &&
	test_expect_code 2 mx-room -p alice join 2>err &&
	test_expect_code 2 mx-room -p alice leave a b 2>err &&
	test_expect_code 2 mx-room -p alice list --forget 2>err &&
	grep -q "^mx-room: .list. takes no --forget" err &&
	test_expect_code 2 mx-room -p alice create --encrypted --no-encryption 2>err &&
	test_expect_code 2 mx-room -p alice create --public --dm "$bob_id" 2>err &&
	test_expect_code 2 mx-room -p alice create --alias "#x:$S" 2>err &&
	test_expect_code 2 mx-room -p alice create --invite bob 2>err &&
	test_expect_code 2 mx-room -p alice members "!r:$S" --membership joined 2>err &&
	test_expect_code 2 mx-room -p alice power "!r:$S" "$bob_id" high 2>err &&
	test_expect_code 2 mx-room -p alice avatar "!r:$S" http://x/y.png 2>err &&
	grep -q "is not an mxc:// URI" err &&
	test_expect_code 2 mx-room -p alice alias "!r:$S" rename "#a:$S" 2>err &&
	test_expect_code 2 mx-room -p alice alias "!r:$S" add nohash 2>err &&
	test_expect_code 2 mx-room -p alice kick "!r:$S" bob 2>err &&
	test_expect_code 2 mx-room -p alice state notaroom 2>err &&
	test_expect_code 2 mx-room -p nosuchprofile list 2>err &&
	grep -q "not logged in" err
'

# --- create ----------------------------------------------------------------

test_expect_success 'create: private and encrypted by default, name, topic, alias' '
	mx-room -p alice create --name "Ops $$" --topic "the ops room" \
		--alias "ops-$$" >out &&
	one_line out "[\"room_id\",\"alias\"]" &&
	room=$(jq -r .room_id out) && echo "$room" >ops.id &&
	jq -r .alias out >got && echo "#ops-$$:$S" >want && test_cmp want got &&
	state "$alice_token" "$room" m.room.encryption | jq -r .algorithm >got &&
	echo m.megolm.v1.aes-sha2 >want && test_cmp want got &&
	state "$alice_token" "$room" m.room.join_rules | jq -r .join_rule >got &&
	echo invite >want && test_cmp want got &&
	state "$alice_token" "$room" m.room.guest_access | jq -r .guest_access >got &&
	echo forbidden >want && test_cmp want got &&
	state "$alice_token" "$room" m.room.name | jq -r .name >got &&
	echo "Ops $$" >want && test_cmp want got &&
	state "$alice_token" "$room" m.room.topic | jq -r .topic >got &&
	echo "the ops room" >want && test_cmp want got &&
	api "$alice_token" GET "/_matrix/client/v3/directory/room/$(urlenc "#ops-$$:$S")" |
		jq -r .room_id >got && echo "$room" >want && test_cmp want got
'

test_expect_success 'create --public: anyone may join, not encrypted' '
	mx-room -p alice create --public --alias "pub-$$" >out &&
	room=$(jq -r .room_id out) && echo "$room" >pub.id &&
	state "$alice_token" "$room" m.room.join_rules | jq -r .join_rule >got &&
	echo public >want && test_cmp want got &&
	test_must_fail state "$alice_token" "$room" m.room.encryption
'

test_expect_success 'create --public --encrypted; --no-encryption' '
	mx-room -p alice create --public --encrypted >out &&
	state "$alice_token" "$(jq -r .room_id out)" m.room.encryption |
		jq -r .algorithm >got &&
	echo m.megolm.v1.aes-sha2 >want && test_cmp want got &&
	mx-room -p alice create --no-encryption >out &&
	jq -e ".alias == null" out &&
	room=$(jq -r .room_id out) && echo "$room" >plain.id &&
	test_must_fail state "$alice_token" "$room" m.room.encryption &&
	state "$alice_token" "$room" m.room.join_rules | jq -r .join_rule >got &&
	echo invite >want && test_cmp want got
'

test_expect_success 'create with an unknown user: exit 3, no room created' '
	joined_count "$alice_token" >before &&
	test_expect_code 3 mx-room -p alice create --invite "$bob_id" --invite "$nobody" >out 2>err &&
	test ! -s out && grep -qx "mx-room: unknown user .$nobody." err &&
	test_expect_code 3 mx-room -p alice create --dm "$nobody" >out 2>err &&
	test ! -s out && grep -qx "mx-room: unknown user .$nobody." err &&
	joined_count "$alice_token" >after && test_cmp before after &&
	mx-room -p bob invites >inv && test ! -s inv
'

# --- an encrypted room, end to end, without curl ---------------------------

test_expect_success 'create --encrypted --invite: bob sees the invite' '
	mx-room -p alice create --encrypted --name "Secret $$" --invite "$bob_id" >out &&
	jq -r .room_id out >secret.id &&
	mx-room -p bob invites >inv &&
	one_line inv "[\"room_id\",\"inviter\",\"is_direct\",\"name\"]" &&
	jq -c "[.room_id, .inviter, .is_direct, .name]" inv >got &&
	jq -nc --arg r "$(cat secret.id)" --arg a "$alice_id" \
		"[\$r, \$a, false, \"Secret $$\"]" >want && test_cmp want got
'

test_expect_success 'create: only moderators invite (power 50)' '
	mx-room -p alice state "$(cat secret.id)" m.room.power_levels >pl &&
	jq -e ".invite == 50" pl
'

test_expect_success 'bob joins with mx-room join; both talk encrypted (no curl)' '
	room=$(cat secret.id) &&
	mx-room -p bob join "$room" >out &&
	jq -c . out >got &&
	jq -nc --arg r "$room" "{room_id: \$r, membership: \"join\"}" >want &&
	test_cmp want got &&
	mx-sync -p bob >/dev/null &&
	mx-send -p alice "$room" "hello bob $$" >/dev/null &&
	mx-sync -p bob "$room" >sync &&
	jq -s -e "any(.[]; .content.body == \"hello bob $$\" and .mx.encrypted and .mx.decrypted)" sync &&
	mx-send -p bob "$room" "hello alice $$" >/dev/null &&
	mx-sync -p alice "$room" >sync2 &&
	jq -s -e "any(.[]; .content.body == \"hello alice $$\" and .mx.encrypted and .mx.decrypted)" sync2 &&
	mx-room -p bob list >list &&
	jq -s -e --arg r "$room" "any(.[]; .room_id == \$r and .encrypted == true and .members == 2 and .name == \"Secret $$\" and .dm_with == null)" list
'

# --- direct messages -------------------------------------------------------

test_expect_success 'create --dm: trusted, direct, recorded, found by mx-send @user' '
	mx-room -p alice create --dm "$bob_id" >out &&
	dm=$(jq -r .room_id out) && echo "$dm" >dm.id &&
	state "$alice_token" "$dm" m.room.member "$bob_id" |
		jq -c "[.membership, .is_direct]" >got &&
	echo "[\"invite\",true]" >want && test_cmp want got &&
	state "$alice_token" "$dm" m.room.encryption | jq -r .algorithm >got &&
	echo m.megolm.v1.aes-sha2 >want && test_cmp want got &&
	state "$alice_token" "$dm" m.room.power_levels |
		jq -r --arg b "$bob_id" ".users[\$b]" >got &&
	echo 100 >want && test_cmp want got &&
	api "$alice_token" GET "/_matrix/client/v3/user/$(urlenc "$alice_id")/account_data/m.direct" |
		jq -r --arg b "$bob_id" ".[\$b][]" | grep -qxF "$dm" &&
	mx-send -p alice "$bob_id" "direct $$" >sent &&
	jq -r .room_id sent >got && echo "$dm" >want && test_cmp want got
'

test_expect_success 'list: the DM says with whom; invites: is_direct' '
	dm=$(cat dm.id) &&
	mx-room -p alice list >list &&
	jq -s -e --arg r "$dm" --arg b "$bob_id" "any(.[]; .room_id == \$r and .dm_with == \$b and .encrypted and .members == 1)" list &&
	jq -s -e --arg r "$(cat ops.id)" "any(.[]; .room_id == \$r and .name == \"Ops $$\" and .canonical_alias == \"#ops-$$:$S\" and .dm_with == null)" list &&
	jq -s -e --arg r "$(cat pub.id)" "any(.[]; .room_id == \$r and .encrypted == false)" list &&
	mx-room -p bob invites >inv &&
	jq -s -e --arg r "$dm" --arg a "$alice_id" "any(.[]; .room_id == \$r and .inviter == \$a and .is_direct == true and .name == null)" inv
'

# --- invite, join, leave ---------------------------------------------------

test_expect_success 'invite with an unknown user: exit 3, no one invited' '
	room=$(cat plain.id) &&
	test_expect_code 3 mx-room -p alice invite "$room" "$bob_id" "$nobody" >out 2>err &&
	test ! -s out && grep -qx "mx-room: unknown user .$nobody." err &&
	test_must_fail state "$alice_token" "$room" m.room.member "$bob_id"
'

test_expect_success 'invite: each user invited, one line each' '
	room=$(cat plain.id) &&
	mx-room -p alice invite "$room" "$bob_id" "$carol_id" >out &&
	jq -c "[.room_id, .user_id, .membership]" out >got &&
	jq -nc --arg r "$room" --arg b "$bob_id" --arg c "$carol_id" \
		"[\$r, \$b, \"invite\"], [\$r, \$c, \"invite\"]" >want &&
	test_cmp want got &&
	state "$alice_token" "$room" m.room.member "$carol_id" | jq -r .membership >got &&
	echo invite >want && test_cmp want got
'

test_expect_success 'invite where we may not: the server says why, exit 3' '
	test_expect_code 3 as_carol mx-room invite "$(cat ops.id)" "$bob_id" >out 2>err &&
	test ! -s out &&
	grep -q "^mx-room: cannot invite .$bob_id. to .*: M_FORBIDDEN: " err
'

test_expect_success 'join by alias (token from the environment)' '
	as_carol mx-room join "#pub-$$:$S" >out &&
	jq -r .room_id out >got && cat pub.id >want && test_cmp want got &&
	state "$alice_token" "$(cat pub.id)" m.room.member "$carol_id" |
		jq -r .membership >got && echo join >want && test_cmp want got
'

test_expect_success 'join a room we may not: 3; an unknown alias: 3' '
	test_expect_code 3 as_carol mx-room join "$(cat ops.id)" >out 2>err &&
	test ! -s out && grep -q "^mx-room: cannot join" err &&
	test_expect_code 3 as_carol mx-room join "#nothing-$$:$S" >out 2>err &&
	test ! -s out
'

# --- kick, ban, unban, members, power --------------------------------------

test_expect_success 'kick with a reason' '
	room=$(cat pub.id) &&
	mx-room -p alice kick "$room" "$carol_id" --reason "kicked $$" >out &&
	jq -c "[.room_id, .user_id, .membership]" out >got &&
	jq -nc --arg r "$room" --arg c "$carol_id" "[\$r, \$c, \"leave\"]" >want &&
	test_cmp want got &&
	state "$alice_token" "$room" m.room.member "$carol_id" |
		jq -c "[.membership, .reason]" >got &&
	echo "[\"leave\",\"kicked $$\"]" >want && test_cmp want got
'

test_expect_success 'ban with a reason, then unban' '
	room=$(cat pub.id) &&
	mx-room -p alice ban "$room" "$carol_id" --reason "banned $$" >out &&
	jq -r .membership out >got && echo ban >want && test_cmp want got &&
	state "$alice_token" "$room" m.room.member "$carol_id" |
		jq -c "[.membership, .reason]" >got &&
	echo "[\"ban\",\"banned $$\"]" >want && test_cmp want got &&
	test_expect_code 3 as_carol mx-room join "$room" 2>err &&
	mx-room -p alice unban "$room" "$carol_id" --reason "forgiven $$" >out &&
	jq -r .membership out >got && echo leave >want && test_cmp want got &&
	state "$alice_token" "$room" m.room.member "$carol_id" |
		jq -c "[.membership, .reason]" >got &&
	echo "[\"leave\",\"forgiven $$\"]" >want && test_cmp want got
'

test_expect_success 'kick where we may not: 3, nothing changed' '
	test_expect_code 3 mx-room -p bob kick "$(cat secret.id)" "$alice_id" 2>err &&
	grep -q "M_FORBIDDEN" err &&
	state "$alice_token" "$(cat secret.id)" m.room.member "$alice_id" |
		jq -r .membership >got && echo join >want && test_cmp want got
'

test_expect_success 'members: every member with membership and power; --membership' '
	room=$(cat plain.id) &&
	mx-room -p alice members "$room" >all &&
	jq -c "[.user_id, .membership, .power]" all | sort >got &&
	printf "%s\n" "[\"$alice_id\",\"join\",100]" "[\"$bob_id\",\"invite\",0]" \
		"[\"$carol_id\",\"invite\",0]" | sort >want && test_cmp want got &&
	jq -s -e --arg a "$alice_id" "any(.[]; .user_id == \$a and .display_name == (\$a | ltrimstr(\"@\") | split(\":\")[0]))" all &&
	mx-room -p alice members "$room" --membership join >joined &&
	jq -r .user_id joined >got && echo "$alice_id" >want && test_cmp want got &&
	mx-room -p alice members "$room" --membership ban >banned &&
	test ! -s banned
'

test_expect_success 'power: changes the user'"'"'s level, keeps the rest' '
	room=$(cat plain.id) &&
	state "$alice_token" "$room" m.room.power_levels >pl.before &&
	mx-room -p alice power "$room" "$bob_id" 50 >out &&
	one_line out "[\"event_id\"]" &&
	state "$alice_token" "$room" m.room.power_levels >pl.after &&
	jq -S --arg b "$bob_id" ".users[\$b] = 50" pl.before >want &&
	jq -S . pl.after >got && test_cmp want got &&
	mx-room -p alice members "$room" --membership invite >inv &&
	jq -s -e --arg b "$bob_id" "any(.[]; .user_id == \$b and .power == 50)" inv &&
	test_expect_code 3 mx-room -p alice power "$room" "$nobody" 50 2>err &&
	state "$alice_token" "$room" m.room.power_levels | jq -S . >got2 &&
	test_cmp got got2
'

# --- state -----------------------------------------------------------------

test_expect_success 'set and state: a round trip' '
	room=$(cat plain.id) &&
	echo "{\"n\": $$, \"text\": \"é\"}" |
		mx-room -p alice set "$room" org.example.mx key1 >out &&
	one_line out "[\"event_id\"]" &&
	mx-room -p alice state "$room" org.example.mx key1 >got &&
	echo "{\"n\":$$,\"text\":\"é\"}" >want && test_cmp want got &&
	mx-room -p alice state "$room" >all &&
	jq -s -e --arg e "$(jq -r .event_id out)" "any(.[]; .event_id == \$e and .type == \"org.example.mx\" and .state_key == \"key1\" and .content.n == $$)" all &&
	jq -s -e "any(.[]; .type == \"m.room.create\")" all &&
	test_expect_code 3 mx-room -p alice state "$room" org.example.mx nokey >out 2>err &&
	test ! -s out
'

test_expect_success 'set: stdin that is not one JSON object: 5, nothing sent' '
	room=$(cat plain.id) &&
	echo "[1]" | test_expect_code 5 mx-room -p alice set "$room" org.example.mx k2 2>err &&
	echo "{} {}" | test_expect_code 5 mx-room -p alice set "$room" org.example.mx k2 2>err &&
	test_expect_code 3 mx-room -p alice state "$room" org.example.mx k2
'

test_expect_success 'name, topic, avatar' '
	room=$(cat plain.id) &&
	mx-room -p alice name "$room" "Renamed $$" >out &&
	one_line out "[\"event_id\"]" &&
	mx-room -p alice topic "$room" "new topic" >/dev/null &&
	mx-room -p alice avatar "$room" "mxc://$S/abcDEF" >/dev/null &&
	mx-room -p alice state "$room" m.room.name >got &&
	echo "{\"name\":\"Renamed $$\"}" >want && test_cmp want got &&
	state "$alice_token" "$room" m.room.topic | jq -r .topic >got &&
	echo "new topic" >want && test_cmp want got &&
	state "$alice_token" "$room" m.room.avatar | jq -r .url >got &&
	echo "mxc://$S/abcDEF" >want && test_cmp want got
'

# --- encryption ------------------------------------------------------------

test_expect_success 'encrypt: turns encryption on' '
	room=$(cat plain.id) &&
	mx-room -p alice encrypt "$room" >out &&
	one_line out "[\"event_id\"]" &&
	state "$alice_token" "$room" m.room.encryption | jq -c . >got &&
	echo "{\"algorithm\":\"m.megolm.v1.aes-sha2\"}" >want && test_cmp want got
'

test_expect_success 'encrypt on an encrypted room: no change, 0, a note' '
	room=$(cat secret.id) &&
	api "$alice_token" GET "/_matrix/client/v3/rooms/$(urlenc "$room")/messages?dir=b&limit=1" |
		jq -r ".chunk[0].event_id" >before &&
	mx-room -p alice encrypt "$room" >out 2>err &&
	test ! -s out && grep -q "^mx-room: .* is encrypted already; unchanged" err &&
	api "$alice_token" GET "/_matrix/client/v3/rooms/$(urlenc "$room")/messages?dir=b&limit=1" |
		jq -r ".chunk[0].event_id" >after && test_cmp before after
'

test_expect_success 'set never turns encryption off nor changes it: 5' '
	room=$(cat secret.id) &&
	state "$alice_token" "$room" m.room.encryption >enc.before &&
	echo "{}" | test_expect_code 5 mx-room -p alice set "$room" m.room.encryption >out 2>err &&
	test ! -s out && grep -q "without the algorithm" err &&
	echo "{\"algorithm\":\"m.none\"}" |
		test_expect_code 5 mx-room -p alice set "$room" m.room.encryption 2>err &&
	echo "{\"algorithm\":\"m.megolm.v1.aes-sha2\",\"rotation_period_ms\":1}" |
		test_expect_code 5 mx-room -p alice set "$room" m.room.encryption 2>err &&
	grep -q "is encrypted already" err &&
	state "$alice_token" "$room" m.room.encryption >enc.after &&
	test_cmp enc.before enc.after &&
	pub=$(cat pub.id) &&
	echo "{\"algorithm\":\"\"}" | test_expect_code 5 mx-room -p alice set "$pub" m.room.encryption 2>err &&
	test_must_fail state "$alice_token" "$pub" m.room.encryption
'

# --- aliases ---------------------------------------------------------------

test_expect_success 'alias add, resolve, remove' '
	room=$(cat plain.id) && a="#extra-$$:$S" &&
	mx-room -p alice alias "$room" add "$a" >out &&
	jq -c . out >got &&
	jq -nc --arg a "$a" --arg r "$room" "{alias: \$a, room_id: \$r}" >want &&
	test_cmp want got &&
	api "$alice_token" GET "/_matrix/client/v3/directory/room/$(urlenc "$a")" |
		jq -r .room_id >got && echo "$room" >want && test_cmp want got &&
	mx-room -p alice alias "$room" resolve "$a" >out && jq -c . out >got &&
	jq -nc --arg a "$a" --arg r "$room" "{alias: \$a, room_id: \$r}" >want &&
	test_cmp want got &&
	test_expect_code 1 mx-room -p alice alias "$(cat pub.id)" resolve "$a" >out 2>err &&
	jq -r .room_id out >got && echo "$room" >want && test_cmp want got &&
	test_expect_code 3 mx-room -p alice alias "$(cat pub.id)" remove "$a" 2>err &&
	mx-room -p alice alias "$room" remove "$a" >out &&
	test_must_fail api "$alice_token" GET "/_matrix/client/v3/directory/room/$(urlenc "$a")" &&
	test_expect_code 3 mx-room -p alice alias "$room" resolve "$a" >out 2>err &&
	grep -q "unknown alias" err
'

# --- leave -----------------------------------------------------------------

test_expect_success 'leave; leave --forget' '
	mx-room -p bob leave "$(cat secret.id)" >out &&
	jq -c . out >got &&
	jq -nc --arg r "$(cat secret.id)" "{room_id: \$r, membership: \"leave\"}" >want &&
	test_cmp want got &&
	state "$alice_token" "$(cat secret.id)" m.room.member "$bob_id" |
		jq -r .membership >got && echo leave >want && test_cmp want got &&
	mx-room -p bob list >list &&
	! jq -s -e --arg r "$(cat secret.id)" "any(.[]; .room_id == \$r)" list &&
	mx-room -p alice create --no-encryption >out && r2=$(jq -r .room_id out) &&
	mx-room -p alice leave --forget "$r2" >out &&
	test_must_fail api "$alice_token" GET "/_matrix/client/v3/rooms/$(urlenc "$r2")/messages?dir=b&limit=1"
'


test_expect_success 'join @user: the direct chat that user invited us to' '
	dm=$(create_room "$carol_token" "{\"is_direct\":true,\"invite\":[\"$bob_id\"]}") &&
	mx-room -p bob join "$carol_id" >out &&
	jq -e --arg r "$dm" ".room_id == \$r and .membership == \"join\"" out &&
	mx-send -p bob "$carol_id" "found it" >sent &&
	jq -e --arg r "$dm" ".room_id == \$r" sent
'

test_done
