#!/bin/sh
# mx-bridge-check check 8 (messages sent on others' behalf) on the real
# Synapse with its test appservice (t/synapse/run): a double-puppeted
# message (fi.mau.double_puppet_source), and encrypted events whose room
# key belongs, by bob's own record of who shared it, to another user than
# their sender: the bridge bot's (logged in as an mx profile, its session
# posted again under a puppet) and alice's.  Ordinary messages stay quiet.
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
setup login_profile alice
setup login_profile bob

# as_user USER METHOD PATH [JSON]: a request of the appservice, as USER.
as_user() {
	_u=$1 _m=$2 _p=$3
	shift 3
	case $_p in *\?*) _p="$_p&" ;; *) _p="$_p?" ;; esac
	api "$AS" "$_m" "${_p}user_id=$(urlenc "$_u")" "$@"
}
txn() { od -An -N8 -tx1 /dev/urandom | tr -d ' \n'; }

# The bridge's bot is a user of the appservice's namespace, not its
# sender_localpart: this Synapse answers the latter's login with a token
# it then refuses.
pup=@telegram_d$$:$S
relay=@telegram_r$$:$S
for u in telegram_d$$ telegram_r$$; do
	setup api "$AS" POST /_matrix/client/v3/register \
		"{\"type\":\"m.login.application_service\",\"username\":\"$u\"}"
done
ENCRYPTED='{"preset":"private_chat","power_level_content_override":{"invite":50},"initial_state":[{"type":"m.room.encryption","state_key":"","content":{"algorithm":"m.megolm.v1.aes-sha2"}},{"type":"m.room.guest_access","state_key":"","content":{"guest_access":"forbidden"}}]}'
room=$(create_room "$alice_token" "$ENCRYPTED") || setup_failed "create a room"
R=$(urlenc "$room")
for u in "$bob_id" "$relay" "$pup"; do
	setup api "$alice_token" POST "/_matrix/client/v3/rooms/$R/invite" \
		"{\"user_id\":\"$u\"}"
done
setup api "$bob_token" POST "/_matrix/client/v3/join/$R" '{}'
setup as_user "$relay" POST "/_matrix/client/v3/join/$R" '{}'
setup as_user "$pup" POST "/_matrix/client/v3/join/$R" '{}'
# bridge JSON: alice sets the room's m.bridge state.
bridge() {
	api "$alice_token" PUT "/_matrix/client/v3/rooms/$R/state/m.bridge/telegram" "$1" >/dev/null
}
setup bridge "{\"bridgebot\":\"$relay\",\"protocol\":{\"id\":\"telegram\"}}"
# The bridge bot as an mx profile: an appservice login gives it a device.
bot_login() {
	api "$AS" POST /_matrix/client/v3/login \
		'{"type":"m.login.application_service","identifier":{"type":"m.id.user","user":"'"telegram_r$$"'"}}' |
		jq -r .access_token |
		mx-keys -p bot login --token-stdin --homeserver "$MX_TEST_HOMESERVER" 2>&1
}
setup bot_login
setup mx-sync -p bob "$room"

has() {
	jq -s -e "any(.[]; $2)" "$1" >/dev/null ||
		{ echo "no line of $1 with $2:"; cat "$1"; return 1; }
}
hasnt() {
	jq -s -e "any(.[]; $2) | not" "$1" >/dev/null ||
		{ echo "a line of $1 with $2:"; cat "$1"; return 1; }
}

# repost EVENT: post EVENT's m.room.encrypted content again as the
# puppet; its new ID in the file reposted.
repost() {
	_c=$(api "$bob_token" GET "/_matrix/client/v3/rooms/$R/event/$(urlenc "$1")" |
		jq -c .content) &&
	as_user "$pup" PUT "/_matrix/client/v3/rooms/$R/send/m.room.encrypted/$(txn)" \
		"$_c" | jq -r .event_id >reposted
}

# A confirmed bridge in an encrypted room is high: exit 1 throughout.
test_expect_success 'ordinary encrypted messages: no finding' '
	mx-send -p alice "$room" "hello" >/dev/null &&
	mx-send -p bot "$room" "relayed" >/dev/null &&
	mx-sync -p bob "$room" >sync.out &&
	jq -s -e "[.[] | select(.mx.decrypted)] | length == 2" sync.out &&
	test_expect_code 1 mx-bridge-check -p bob "$room" >out &&
	hasnt out ".check == \"behalf\""
'

test_expect_success 'double-puppeted messages: warn per sender' '
	as_user "$pup" PUT "/_matrix/client/v3/rooms/$R/send/m.room.message/$(txn)" \
		"{\"msgtype\":\"m.text\",\"body\":\"hi\",\"fi.mau.double_puppet_source\":\"mautrix-telegram\"}" |
		jq -r .event_id >dp1 &&
	api "$alice_token" PUT "/_matrix/client/v3/rooms/$R/send/m.room.message/$(txn)" \
		"{\"msgtype\":\"m.text\",\"body\":\"from my phone\",\"fi.mau.double_puppet_source\":\"mautrix-telegram\"}" |
		jq -r .event_id >dp2 &&
	test_expect_code 1 mx-bridge-check -p bob "$room" >out &&
	has out ".check == \"behalf\" and .severity == \"warn\" and
		.subject == \"$pup\" and .evidence[0].event_id == \"$(cat dp1)\" and
		(.detail | contains(\"mautrix-telegram\"))" &&
	has out ".check == \"behalf\" and .severity == \"warn\" and
		.subject == \"$alice_id\" and .evidence[0].event_id == \"$(cat dp2)\"" &&
	jq -s -e "[.[] | select(.check == \"behalf\")] | length == 2" out
'

test_expect_success 'the bridge bot'"'"'s room key under its puppet: warn' '
	jq -r "select(.sender == \"$relay\" and .mx.decrypted) | .event_id" \
		sync.out >botev && test -s botev &&
	repost "$(cat botev)" &&
	test_expect_code 1 mx-bridge-check -p bob "$room" >out &&
	has out ".check == \"behalf\" and .severity == \"warn\" and
		.subject == \"$pup\" and .evidence[0].event_id == \"$(cat reposted)\" and
		(.detail | contains(\"room key of the bridge bot $relay\"))" &&
	hasnt out ".check == \"behalf\" and .severity == \"high\""
'

test_expect_success 'alice'"'"'s room key under the puppet: high' '
	jq -r "select(.sender == \"$alice_id\" and .mx.decrypted) | .event_id" \
		sync.out >aliceev && test -s aliceev &&
	repost "$(cat aliceev)" &&
	test_expect_code 1 mx-bridge-check -p bob "$room" >out &&
	has out ".check == \"behalf\" and .severity == \"high\" and
		.subject == \"$pup\" and .evidence[0].event_id == \"$(cat reposted)\" and
		(.detail | contains(\"room key of $alice_id\"))" &&
	mx-sync -p bob --history "$room" >hist &&
	has hist ".event_id == \"$(cat reposted)\" and
		.mx.session_sender == \"$alice_id\" and
		.mx.error == \"session belongs to another sender\""
'

test_expect_success 'without the sender'"'"'s bridge confirmed, the bot'"'"'s key is high too' '
	bridge "{}" &&
	test_expect_code 1 mx-bridge-check -p bob "$room" >out &&
	has out ".check == \"behalf\" and .severity == \"high\" and
		(.detail | contains(\"room key of $relay\"))" &&
	bridge "{\"bridgebot\":\"$relay\",\"protocol\":{\"id\":\"telegram\"}}"
'

test_expect_success 'a token from the environment: no keys, clear events still read' '
	MX_HOMESERVER=$MX_TEST_HOMESERVER MX_ACCESS_TOKEN=$bob_token \
		test_expect_code 1 mx-bridge-check "$room" >out &&
	has out ".check == \"behalf\" and .subject == \"$pup\" and
		(.detail | contains(\"mautrix-telegram\"))" &&
	hasnt out ".check == \"behalf\" and (.detail | contains(\"room key\"))"
'

test_expect_success '--ignore behalf reads no messages' '
	test_expect_code 1 mx-bridge-check -vv -p bob --ignore behalf "$room" \
		>out 2>err &&
	hasnt out ".check == \"behalf\"" &&
	! grep -q "/messages" err &&
	test_expect_code 1 mx-bridge-check -vv -p bob "$room" >out 2>err &&
	grep -q "/messages" err
'

test_done
