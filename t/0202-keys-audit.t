#!/bin/sh
# mx-keys devices as an administrator's audit: the fields of each device,
# the fingerprint, --room, --unverified-exit, --snapshot, --table, and the
# fingerprint whoami shows.
. "${0%/*}/lib.sh"
need_homeserver

for u in alice bob dave; do
	setup register_user $u
	setup login_profile $u
done
room=$(create_room "$alice_token") || setup_failed "a room"
setup api "$alice_token" POST "/_matrix/client/v3/rooms/$(urlenc "$room")/invite" \
	"{\"user_id\":\"$bob_id\"}"
setup api "$bob_token" POST "/_matrix/client/v3/join/$(urlenc "$room")" '{}'
setup api "$alice_token" POST "/_matrix/client/v3/rooms/$(urlenc "$room")/invite" \
	"{\"user_id\":\"$dave_id\"}"
echo "$room" >room.id

FIELDS='["cross_signed","current","curve25519","device_id","display_name","ed25519","fingerprint","first_seen","identity_changed","last_seen_ip","last_seen_ts","master_key","master_verified","self_signed","trust","user_id"]'
B64='[A-Za-z0-9+/]'

test_expect_success 'own devices: every audit field, with last use from GET /devices' '
	mx-keys -p alice devices >devs &&
	jq -s -e --argjson f "$FIELDS" "any(.[]; .current == true and (keys == \$f))" devs &&
	jq -s -e "any(.[]; .current and .self_signed == true and .cross_signed == false and .master_key == null and .master_verified == false and .identity_changed == false and (.first_seen | type) == \"number\" and .first_seen > 1600000000000 and (.last_seen_ts | type) == \"number\" and (.last_seen_ip | type) == \"string\" and (.display_name | startswith(\"mx (profile alice)\")))" devs &&
	! grep -q "\"name\"" devs
'

test_expect_success 'first_seen stays what it was when first pinned' '
	mx-keys -p alice devices >devs2 &&
	jq -r "select(.current) | .first_seen" devs >a &&
	jq -r "select(.current) | .first_seen" devs2 >b &&
	test_cmp a b
'

test_expect_success 'another user: no last use (not ours to ask)' '
	mx-keys -p alice devices "$bob_id" >bdevs &&
	test "$(wc -l <bdevs)" = 1 &&
	jq -e "has(\"last_seen_ts\") | not" bdevs &&
	jq -e ".trust == \"tofu\" and .self_signed == true" bdevs
'

test_expect_success 'the fingerprint is the Ed25519 key in groups of four' '
	jq -r .fingerprint bdevs >fp &&
	grep -Eqx "($B64{4} ){10}$B64{3}" fp &&
	tr -d " " <fp >joined && jq -r .ed25519 bdevs >ed && test_cmp ed joined
'

test_expect_success 'whoami also prints this device s fingerprint' '
	mx-keys -p alice whoami >who &&
	jq -r "select(.current) | .fingerprint" devs >want &&
	jq -r .fingerprint who >got && test_cmp want got &&
	jq -e "has(\"master_key\") | not" who
'

test_expect_success '--room: joined and invited members, in one /keys/query' '
	mx-keys -p alice -vv devices --room "$(cat room.id)" >rdevs 2>trace &&
	jq -r .user_id rdevs | sort -u >got &&
	printf "%s\n" "$alice_id" "$bob_id" "$dave_id" | sort >want &&
	test_cmp want got &&
	test "$(grep -c "POST .*/keys/query" trace)" = 1
'

test_expect_success '--unverified-exit: 1 while bob s device is unverified' '
	test_expect_code 1 mx-keys -p alice devices --unverified-exit "$bob_id" >out 2>err &&
	test_cmp bdevs out &&
	grep -q "^mx-keys: 1 device(s) not verified" err &&
	mx-keys -p alice devices "$bob_id" >/dev/null
'

test_expect_success '--unverified-exit: 0 once mx-keys trust verified it' '
	mx-keys -p alice trust "$bob_id" "$(jq -r .device_id bdevs)" "$(jq -r .ed25519 bdevs)" >/dev/null &&
	mx-keys -p alice devices --unverified-exit "$bob_id" >out &&
	jq -e ".trust == \"verified\"" out
'

test_expect_success '--snapshot FILE: the raw answer, 0600, in place' '
	umask 022 &&
	mx-keys -p alice devices --snapshot snap.json "$bob_id" >out &&
	test "$(stat -c %a snap.json)" = 600 &&
	jq -e --arg u "$bob_id" --arg d "$(jq -r .device_id bdevs)" ".device_keys[\$u][\$d].keys | length == 2" snap.json &&
	ls snap.json.* 2>/dev/null | wc -l >left && echo 0 >zero && test_cmp zero left
'

test_expect_success '--table: aligned columns user, device, name, fingerprint, trust' '
	NO_COLOR= mx-keys -p alice devices --table --room "$(cat room.id)" >tab &&
	head -1 tab | grep -Eq "^USER +DEVICE +NAME +FINGERPRINT +TRUST$" &&
	test "$(wc -l <tab)" = "$(($(wc -l <rdevs) + 1))" &&
	col=$(head -1 tab | awk "{ print index(\$0, \"TRUST\") }") &&
	tail -n +2 tab | cut -c"$col"- | sort -u >trusts &&
	grep -qx verified trusts && grep -qx tofu trusts &&
	! grep -q "$(printf "\033")" tab &&
	grep -q "$(jq -r .fingerprint bdevs)" tab &&
	! grep -q "^{" tab
'

test_expect_success '--table: a device name cannot drive the terminal' '
	d=$(jq -r .device_id bdevs | head -1) &&
	api "$bob_token" PUT "/_matrix/client/v3/devices/$d" \
		"{\"display_name\":\"evil\\u001b]0;owned\\u0007\\u001b[2Jname\"}" &&
	NO_COLOR= mx-keys -p alice devices --table "$bob_id" >tab &&
	grep -qF "evil?]0;owned??[2Jname" tab &&
	! grep -q "$(printf "\033")" tab &&
	! grep -q "$(printf "\007")" tab
'

test_expect_success 'the audit options are for devices only: 2' '
	test_expect_code 2 mx-keys -p alice whoami --table 2>/dev/null &&
	test_expect_code 2 mx-keys -p alice whoami --snapshot x 2>/dev/null
'

test_done
