#!/bin/sh
# mx-bridge-check against rooms built on the real Synapse, with a real
# application service (t/synapse/run registers it: a mautrix-telegram
# shape, bot @telegrambot, puppets @telegram_*): each check seen firing,
# and staying quiet.
. "${0%/*}/lib.sh"
need_homeserver

S=$MX_TEST_SERVER_NAME
AS=as-${MX_TEST_SHARED_SECRET:-}
bot=@telegrambot:$S
api "$AS" GET "/_matrix/client/v3/account/whoami?user_id=$(urlenc "$bot")" \
	>/dev/null 2>&1 ||
	skip_all "the test homeserver has no test appservice (t/synapse/run)"

setup register_user alice
setup register_user bob

# as_user USER METHOD PATH [JSON]: a request of the appservice, as USER.
as_user() {
	_u=$1 _m=$2 _p=$3
	shift 3
	case $_p in *\?*) _p="$_p&" ;; *) _p="$_p?" ;; esac
	api "$AS" "$_m" "${_p}user_id=$(urlenc "$_u")" "$@"
}

# puppet LOCALPART: register an appservice user (a remote user's ghost).
puppet() {
	api "$AS" POST /_matrix/client/v3/register \
		"{\"type\":\"m.login.application_service\",\"username\":\"$1\"}" >/dev/null
}

# put_state TOKEN ROOM TYPE KEY JSON
put_state() {
	api "$1" PUT "/_matrix/client/v3/rooms/$(urlenc "$2")/state/$3/$(urlenc "$4")" "$5" >/dev/null
}

# bring USER ROOM: alice invites USER (an appservice user), who joins.
bring() {
	api "$alice_token" POST "/_matrix/client/v3/rooms/$(urlenc "$2")/invite" \
		"{\"user_id\":\"$1\"}" >/dev/null &&
	as_user "$1" POST "/_matrix/client/v3/join/$(urlenc "$2")" '{}' >/dev/null
}

# room NAME [createRoom JSON]: a room of alice's, encrypted unless the
# JSON says otherwise; its ID in NAME.id.
# Encrypted, invitation only, no guests, only moderators invite.
ENCRYPTED='{"preset":"private_chat","power_level_content_override":{"invite":50},"initial_state":[{"type":"m.room.encryption","state_key":"","content":{"algorithm":"m.megolm.v1.aes-sha2"}},{"type":"m.room.guest_access","state_key":"","content":{"guest_access":"forbidden"}}]}'
room() {
	create_room "$alice_token" "${2:-$ENCRYPTED}" >"$1.id"
}

bridge_content() { # BOT
	printf '{"bridgebot":"%s","protocol":{"id":"telegram","displayname":"Telegram"},"network":{"id":"tg"},"channel":{"id":"-100123"}}' "$1"
}

# check ARGS...: mx-bridge-check as alice, with her token from the
# environment (the CI way).
check() {
	MX_HOMESERVER=$MX_TEST_HOMESERVER MX_ACCESS_TOKEN=$alice_token \
		mx-bridge-check "$@"
}

# has FILE JQ-CONDITION: one of FILE's lines matches.
has() {
	jq -s -e "any(.[]; $2)" "$1" >/dev/null ||
		{ echo "no line of $1 with $2:"; cat "$1"; return 1; }
}
hasnt() {
	jq -s -e "any(.[]; $2) | not" "$1" >/dev/null ||
		{ echo "a line of $1 with $2:"; cat "$1"; return 1; }
}

setup room quiet
setup put_state "$alice_token" "$(cat quiet.id)" m.bridge old '{}'
setup puppet telegram_a$$
setup puppet telegram_b$$
setup puppet telegram_c$$
setup room bridged
setup bring "$bot" "$(cat bridged.id)"
setup bring "@telegram_a$$:$S" "$(cat bridged.id)"
setup put_state "$alice_token" "$(cat bridged.id)" m.room.power_levels "" \
	"{\"users\":{\"$alice_id\":100,\"$bot\":50},\"invite\":50}"
setup as_user "$bot" PUT "/_matrix/client/v3/rooms/$(urlenc "$(cat bridged.id)")/state/m.bridge/$(urlenc "$S/telegram")" "$(bridge_content "$bot")"
setup as_user "$bot" PUT "/_matrix/client/v3/rooms/$(urlenc "$(cat bridged.id)")/state/uk.half-shot.bridge/$(urlenc "$S/telegram")" "$(bridge_content "$bot")"
setup room claimed
setup put_state "$alice_token" "$(cat claimed.id)" m.bridge forged "$(bridge_content "$bot")"
setup room stale
setup bring "$bot" "$(cat stale.id)"
setup put_state "$alice_token" "$(cat stale.id)" uk.half-shot.bridge x "$(bridge_content "$bot")"
setup as_user "$bot" POST "/_matrix/client/v3/rooms/$(urlenc "$(cat stale.id)")/leave" '{}'
setup room puppets
setup bring "$bot" "$(cat puppets.id)"
setup bring "@telegram_b$$:$S" "$(cat puppets.id)"
setup bring "@telegram_c$$:$S" "$(cat puppets.id)"

# --- usage -----------------------------------------------------------------

test_expect_success 'usage errors exit 2' '
	test_expect_code 2 check 2>err &&
	grep -q "^mx-bridge-check: no ROOM given" err &&
	test_expect_code 2 check --all "$(cat quiet.id)" 2>err &&
	test_expect_code 2 check --fail-on critical "$(cat quiet.id)" 2>err &&
	grep -q "fail-on .critical. is none of" err &&
	test_expect_code 2 check --ignore nosuch:x "$(cat quiet.id)" 2>err &&
	grep -q "ignore .nosuch:x. names no check" err &&
	test_expect_code 2 check --table --table "$(cat quiet.id)" 2>err
'

test_expect_success 'bad --patterns, --allow and --servers files exit 5' '
	test_expect_code 5 check --patterns nosuch "$(cat quiet.id)" 2>err &&
	grep -q "cannot read patterns .nosuch." err &&
	echo "robot x ^@" >bad.pat &&
	test_expect_code 5 check --patterns bad.pat "$(cat quiet.id)" 2>err &&
	grep -q "bad.pat:1: not .bot|puppet NAME REGEX." err &&
	echo "bot x ^@(" >bad.pat &&
	test_expect_code 5 check --patterns bad.pat "$(cat quiet.id)" 2>err &&
	grep -q "bad.pat:1: bad regular expression" err &&
	echo "bridges:x" >bad.allow &&
	test_expect_code 5 check --allow bad.allow "$(cat quiet.id)" 2>err &&
	grep -q "bad.allow:1: .bridges:x. names no check" err &&
	test_expect_code 5 check --servers ./nosuch "$(cat quiet.id)" 2>err &&
	MX_BRIDGE_PATTERNS=/nonexistent test_expect_code 5 check \
		"$(cat quiet.id)" 2>err &&
	grep -q "cannot read patterns ./nonexistent" err
'

test_expect_success 'unknown room: exit 3; the other rooms are still audited' '
	test_expect_code 3 check "#nosuch-$$:$S" "$(cat quiet.id)" >out 2>err &&
	grep -q "^mx-bridge-check: " err &&
	has out ".room_id == \"$(cat quiet.id)\" and .verdict == \"pass\""
'

# --- a quiet room ----------------------------------------------------------

test_expect_success 'an encrypted private room passes; removed bridge ignored' '
	check "$(cat quiet.id)" >out &&
	tail -n 1 out | jq -c "[.room_id, .verdict, .high]" >got &&
	jq -nc --arg r "$(cat quiet.id)" "[\$r, \"pass\", 0]" >want &&
	test_cmp want got &&
	jq -s -e "all(.[]; .room_id == \"$(cat quiet.id)\")" out &&
	hasnt out ".check == \"bridge\" or .check == \"bridge-like\" or
		.check == \"encryption\" or .check == \"join\" or
		.check == \"integrations\" or .check == \"upgrade\" or
		.check == \"irc\"" &&
	has out ".check == \"servers\" and .subject == \"$S\" and
		.severity == \"info\" and (.detail | startswith(\"1 joined\"))" &&
	has out ".check == \"history\" and .subject == \"shared\" and
		.severity == \"info\""
'

test_expect_success 'every finding line has the documented keys' '
	check "$(cat quiet.id)" >out &&
	head -n -1 out | jq -s -e "length > 0 and all(.[]; keys ==
		[\"check\",\"detail\",\"evidence\",\"room_id\",\"severity\",\"subject\"])" &&
	tail -n 1 out | jq -e "keys == [\"high\",\"info\",\"room_id\",\"verdict\",\"warn\"]"
'

# --- bridges ---------------------------------------------------------------

test_expect_success 'a confirmed bridge in an encrypted room: high, exit 1' '
	test_expect_code 1 check "$(cat bridged.id)" >out &&
	has out ".check == \"bridge\" and .severity == \"high\" and
		.subject == \"$bot\" and .bridge.status == \"confirmed\" and
		.bridge.protocol == \"telegram\" and .bridge.channel == \"-100123\" and
		(.evidence | length) == 2" &&
	jq -s -e "[.[] | select(.check == \"bridge\")] | length == 1" out &&
	has out ".verdict == \"fail\" and .high >= 1"
'

test_expect_success 'its bot with power 50 is a warning; its puppets are explained' '
	check "$(cat bridged.id)" >out || : &&
	has out ".check == \"power\" and .subject == \"$bot\" and .severity == \"warn\"" &&
	hasnt out ".check == \"bridge-like\""
'

test_expect_success 'a bridge event whose bot never joined is claimed (warn)' '
	check "$(cat claimed.id)" >out &&
	has out ".check == \"bridge\" and .severity == \"warn\" and
		.bridge.status == \"claimed\" and .subject == \"$bot\"" &&
	test_expect_code 1 check --fail-on warn "$(cat claimed.id)" >out
'

test_expect_success 'a bridge whose bot left is stale (info)' '
	check "$(cat stale.id)" >out &&
	has out ".check == \"bridge\" and .severity == \"info\" and
		.bridge.status == \"stale\"" &&
	check --fail-on warn "$(cat stale.id)" >out2 ||
		{ cat out2; exit 1; }
'

test_expect_success 'a bot and puppets without a bridge event are bridge-like' '
	test_expect_code 1 check "$(cat puppets.id)" >out &&
	has out ".check == \"bridge-like\" and .subject == \"$bot\" and
		.severity == \"high\"" &&
	has out ".check == \"bridge-like\" and .subject == \"mautrix-telegram\" and
		(.evidence | map(.state_key) | sort) ==
		[\"@telegram_b$$:$S\", \"@telegram_c$$:$S\"]"
'

test_expect_success 'not installed yet: the build tree'"'"'s patterns are found' '
	(unset MX_BRIDGE_PATTERNS; test_expect_code 1 check "$(cat puppets.id)" >out) &&
	has out ".check == \"bridge-like\" and .subject == \"$bot\""
'

test_expect_success '--patterns adds patterns' '
	echo "puppet ours ^@$bob_id" | sed "s/@@/@/" >my.pat &&
	api "$alice_token" POST "/_matrix/client/v3/rooms/$(urlenc "$(cat quiet.id)")/invite" \
		"{\"user_id\":\"$bob_id\"}" >/dev/null &&
	check "$(cat quiet.id)" >out &&
	hasnt out ".check == \"bridge-like\"" &&
	test_expect_code 1 check --patterns my.pat "$(cat quiet.id)" >out &&
	has out ".check == \"bridge-like\" and .subject == \"ours\" and
		(.detail | startswith(\"1 member\"))"
'

# --- room settings ---------------------------------------------------------

test_expect_success 'a room without encryption: warn; high with --require-encryption' '
	room plain "{\"preset\":\"private_chat\",\"power_level_content_override\":{\"invite\":50}}" &&
	check "$(cat plain.id)" >out &&
	has out ".check == \"encryption\" and .severity == \"warn\"" &&
	hasnt out ".check == \"history\"" &&
	test_expect_code 1 check --require-encryption "$(cat plain.id)" >out &&
	has out ".check == \"encryption\" and .severity == \"high\""
'

test_expect_success 'another algorithm is high; long key rotation is info' '
	room odd "{\"initial_state\":[{\"type\":\"m.room.encryption\",\"state_key\":\"\",\"content\":{\"algorithm\":\"m.olm.v1.curve25519-aes-sha2\"}}]}" &&
	test_expect_code 1 check "$(cat odd.id)" >out &&
	has out ".check == \"encryption\" and .severity == \"high\" and
		(.detail | contains(\"m.olm.v1\"))" &&
	put_state "$alice_token" "$(cat quiet.id)" m.room.encryption "" \
		"{\"algorithm\":\"m.megolm.v1.aes-sha2\",\"rotation_period_msgs\":1000}" &&
	check "$(cat quiet.id)" >out &&
	has out ".check == \"encryption\" and .severity == \"info\" and
		.subject == \"rotation\""
'

test_expect_success 'a public, world-readable room with guests' '
	room pub "{\"preset\":\"public_chat\",\"initial_state\":[{\"type\":\"m.room.history_visibility\",\"state_key\":\"\",\"content\":{\"history_visibility\":\"world_readable\"}},{\"type\":\"m.room.guest_access\",\"state_key\":\"\",\"content\":{\"guest_access\":\"can_join\"}}]}" &&
	test_expect_code 1 check "$(cat pub.id)" >out &&
	has out ".check == \"history\" and .severity == \"high\" and
		.subject == \"world_readable\"" &&
	has out ".check == \"join\" and .severity == \"warn\" and .subject == \"public\"" &&
	has out ".check == \"join\" and .severity == \"warn\" and
		.subject == \"guest_access\""
'

test_expect_success 'restricted join rule lists the rooms it allows' '
	put_state "$alice_token" "$(cat plain.id)" m.room.join_rules "" \
		"{\"join_rule\":\"restricted\",\"allow\":[{\"type\":\"m.room_membership\",\"room_id\":\"$(cat quiet.id)\"}]}" &&
	check "$(cat plain.id)" >out &&
	has out ".check == \"join\" and .subject == \"restricted\" and
		.severity == \"info\" and (.detail | endswith(\"$(cat quiet.id)\"))"
'

test_expect_success 'every member may invite: warn' '
	put_state "$alice_token" "$(cat plain.id)" m.room.power_levels "" \
		"{\"users\":{\"$alice_id\":100},\"invite\":0}" &&
	check "$(cat plain.id)" >out &&
	has out ".check == \"power\" and .subject == \"invite\" and .severity == \"warn\""
'

test_expect_success 'a widget names its host; a third-party invite; IRC blocked' '
	room wid &&
	put_state "$alice_token" "$(cat wid.id)" im.vector.modular.widgets w1 \
		"{\"type\":\"jitsi\",\"name\":\"Call\",\"url\":\"https://user@meet.example.org:8443/x?y=1\"}" &&
	put_state "$alice_token" "$(cat wid.id)" org.matrix.appservice-irc.connection "#chan" \
		"{\"blocked\":true}" &&
	check "$(cat wid.id)" >out &&
	has out ".check == \"integrations\" and .severity == \"warn\" and
		.subject == \"meet.example.org:8443\" and .evidence[0].state_key == \"w1\"" &&
	has out ".check == \"irc\" and .severity == \"warn\" and .subject == \"#chan\"" &&
	put_state "$alice_token" "$(cat wid.id)" m.room.third_party_invite tok1 \
		"{\"display_name\":\"b...@example.org\",\"key_validity_url\":\"https://id.example.org/v\",\"public_key\":\"AAAA\"}" &&
	check "$(cat wid.id)" >out &&
	has out ".check == \"integrations\" and .severity == \"warn\" and
		.subject == \"b...@example.org\"" &&
	put_state "$alice_token" "$(cat wid.id)" m.room.third_party_invite tok1 "{}" &&
	put_state "$alice_token" "$(cat wid.id)" im.vector.modular.widgets w1 "{}" &&
	put_state "$alice_token" "$(cat wid.id)" org.matrix.appservice-irc.connection "#chan" \
		"{\"blocked\":false}" &&
	check --fail-on warn "$(cat wid.id)" >out &&
	hasnt out ".check == \"integrations\"" &&
	has out ".check == \"irc\" and .severity == \"info\""
'

test_expect_success 'a tombstone names the successor' '
	room old &&
	put_state "$alice_token" "$(cat old.id)" m.room.tombstone "" \
		"{\"body\":\"moved\",\"replacement_room\":\"$(cat quiet.id)\"}" &&
	check "$(cat old.id)" >out &&
	has out ".check == \"upgrade\" and .severity == \"info\" and
		.subject == \"$(cat quiet.id)\""
'

test_expect_success '--follow-upgrades audits a joined successor too' '
	check --follow-upgrades "$(cat old.id)" >out 2>err &&
	jq -r "select(.verdict) | .room_id" out >got &&
	printf "%s\n" "$(cat old.id)" "$(cat quiet.id)" >want &&
	test_cmp want got && test ! -s err &&
	check "$(cat old.id)" >out &&
	jq -r "select(.verdict) | .room_id" out >got &&
	cat old.id >want && test_cmp want got
'

test_expect_success '--follow-upgrades: a successor we did not join is a note' '
	bobs=$(create_room "$bob_token") &&
	room old2 &&
	put_state "$alice_token" "$(cat old2.id)" m.room.tombstone "" \
		"{\"body\":\"moved\",\"replacement_room\":\"$bobs\"}" &&
	check --follow-upgrades "$(cat old2.id)" >out 2>err &&
	jq -r "select(.verdict) | .room_id" out >got &&
	cat old2.id >want && test_cmp want got &&
	grep -qx "mx-bridge-check: $(cat old2.id) was upgraded to $bobs, which we have not joined" err
'

# --- watching ---------------------------------------------------------------

# wait_for CMD...: CMD succeeds within 30 seconds.
wait_for() {
	_end=$(($(date +%s) + 30))
	until "$@" >/dev/null 2>&1; do
		[ "$(date +%s)" -lt "$_end" ] || { echo "timed out: $*"; return 1; }
		sleep 0.2
	done
}

test_expect_success '--watch prints a finding within a sync of a bot joining' '
	room watched &&
	{ check --watch "$(cat watched.id)" >watch.out 2>watch.err & echo $! >watch.pid; } &&
	wait_for has watch.out ".verdict == \"pass\"" &&
	sleep 1 && bring "$bot" "$(cat watched.id)" &&
	wait_for has watch.out ".check == \"bridge-like\" and .subject == \"$bot\"" &&
	kill -0 "$(cat watch.pid)" &&
	put_state "$alice_token" "$(cat watched.id)" im.vector.modular.widgets w \
		"{\"url\":\"https://pad.example.org/p\"}" &&
	wait_for has watch.out ".check == \"integrations\" and .subject == \"pad.example.org\"" &&
	kill "$(cat watch.pid)" &&
	jq -s -e "[.[] | select(.verdict)] | length == 1" watch.out &&
	sort watch.out | uniq -d >dups && test ! -s dups &&
	test ! -s watch.err
'
test -s watch.pid && kill "$(cat watch.pid)" 2>/dev/null

test_expect_success '--watch with --table is a usage error' '
	test_expect_code 2 check --watch --table "$(cat quiet.id)" 2>err &&
	grep -q "watch prints JSON lines, not --table" err
'

# --- servers ---------------------------------------------------------------

test_expect_success '--servers: a member or bridge bot elsewhere is high' '
	test_expect_code 1 check --servers "other.example" --servers "*.example.org" \
		"$(cat quiet.id)" >out &&
	has out ".check == \"servers\" and .severity == \"high\" and .subject == \"$S\" and
		(.evidence | map(.state_key) | index(\"$alice_id\") != null)" &&
	check --servers "localhost:*" "$(cat quiet.id)" >out &&
	hasnt out ".check == \"servers\" and .severity == \"high\"" &&
	printf "# ours\n%s\n" "$S" >servers.list &&
	check --servers ./servers.list "$(cat quiet.id)" >out &&
	hasnt out ".check == \"servers\" and .severity == \"high\"" &&
	test_expect_code 1 check --servers other.example "$(cat claimed.id)" >out &&
	has out ".check == \"servers\" and .severity == \"high\" and
		(.detail | endswith(\"1 bridge bot(s) not members\"))"
'

# --- accepting findings ----------------------------------------------------

test_expect_success '--ignore and --allow leave accepted findings out' '
	check --ignore "bridge:@telegrambot:*" --ignore "bridge-like" \
		"$(cat bridged.id)" >out &&
	hasnt out ".check == \"bridge\"" &&
	has out ".verdict == \"pass\" and .high == 0" &&
	printf "# our bridge\nbridge:%s\n\nbridge-like:mautrix-*  # its puppets\n" \
		"$bot" >team.allow &&
	check --allow team.allow "$(cat bridged.id)" >out &&
	hasnt out ".check == \"bridge\"" &&
	test_expect_code 1 check --allow team.allow --ignore bridge:@other:x \
		"$(cat puppets.id)" "$(cat bridged.id)" >out &&
	has out ".room_id == \"$(cat bridged.id)\" and .verdict == \"pass\""
'

# --- output ----------------------------------------------------------------

test_expect_success '--table: a verdict line per room, no colour off a terminal' '
	test_expect_code 1 check --table "$(cat quiet.id)" "$(cat bridged.id)" >out &&
	grep -qx "PASS $(cat quiet.id): 0 high, 0 warn, [0-9]* info" out &&
	grep -qx "FAIL $(cat bridged.id): 1 high, [0-9]* warn, [0-9]* info" out &&
	grep -q "^  high  bridge       $bot: telegram bridge" out &&
	! grep -q "$(printf "\033")" out
'

test_expect_success '--all audits every joined room' '
	test_expect_code 1 check --all >out &&
	for r in quiet bridged claimed stale puppets; do
		has out ".room_id == \"$(cat $r.id)\" and .verdict != null" || exit 1
	done
'

test_done
