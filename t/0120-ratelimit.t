#!/bin/sh
# Against a Synapse that keeps its default rate limits (rc_message: a burst
# of 10, then 0.2/s), a burst of sends meets real 429s: mx-send waits as
# told and every message arrives once.
. "${0%/*}/lib.sh"
need_homeserver
[ -n "${MX_TEST_SHARED_SECRET:-}" ] && [ -x "$MX_SRC/t/synapse/run" ] &&
	[ "$(id -u)" = 0 ] || skip_all "needs root to start a second Synapse"

info=$(MX_SYNAPSE_OWNER=$$ sh "$MX_SRC/t/synapse/run" start --defaults) ||
	setup_failed "a second Synapse, with default limits"
set -- $info
trap 'sh "$MX_SRC/t/synapse/run" stop "$3"' EXIT
MX_TEST_HOMESERVER=$1 MX_TEST_SHARED_SECRET=$2

# A user and a room on the default-limits server.
setup register_user carol
room=$(create_room "$carol_token") || setup_failed "a room of carol's"
test_expect_success '14 messages in one burst all go through the 429s' '
	seq 1 14 | MX_HOMESERVER=$MX_TEST_HOMESERVER \
		MX_ACCESS_TOKEN=$carol_token mx-send -v --lines "$room" \
		>out 2>err &&
	test $(wc -l <out) = 14 &&
	test $(jq -r .event_id out | sort -u | wc -l) = 14 &&
	grep -q "rate limited (429)" err
'
test_expect_success 'the room holds each message exactly once, in order' '
	api "$carol_token" GET "/_matrix/client/v3/rooms/$(urlenc "$room")/messages?dir=b&limit=50" |
		jq -r ".chunk | reverse | .[] | select(.type==\"m.room.message\") | .content.body" >bodies &&
	seq 1 14 >want &&
	test_cmp want bodies
'
test_done
