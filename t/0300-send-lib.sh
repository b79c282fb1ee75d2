# t/0300-send-lib.sh: shared set-up of the mx-send tests (t/03NN-*.t), sourced
# after t/lib.sh: users alice and bob, alice's token in the environment
# (sessionless mode), a room of alice's, and helpers reading back events.

setup register_user alice
setup register_user bob
MX_HOMESERVER=$MX_TEST_HOMESERVER
MX_ACCESS_TOKEN=$alice_token
export MX_HOMESERVER MX_ACCESS_TOKEN
room=$(create_room "$alice_token") || setup_failed "a room of alice's"

# sent FILE: FILE is exactly one output line {"room_id","event_id","txn_id"}
# of $room (or of $2); prints the event id.
sent() {
	[ "$(wc -l <"$1")" -eq 1 ] || { echo "not one line: $1" >&2; return 1; }
	jq -e --arg r "${2:-$room}" 'keys == ["event_id","room_id","txn_id"]
	    and .room_id == $r and (.event_id | startswith("$"))
	    and (.txn_id | length > 0)' "$1" >/dev/null || {
		echo "bad output line:" >&2; cat "$1" >&2; return 1; }
	jq -r .event_id "$1"
}

# event EID [ROOM]: the event as the server stored it.
event() {
	api "$alice_token" GET "/_matrix/client/v3/rooms/$(urlenc "${2:-$room}")/event/$(urlenc "$1")"
}

# content EID [ROOM]: its content, compact with sorted keys.
content() {
	event "$@" | jq -cS .content
}

# last_body [ROOM]: the body of the latest m.room.message.
last_body() {
	api "$alice_token" GET "/_matrix/client/v3/rooms/$(urlenc "${1:-$room}")/messages?dir=b&limit=1&filter=%7B%22types%22%3A%5B%22m.room.message%22%5D%7D" |
		jq -r '.chunk[0].content.body'
}

# count_messages [ROOM]: how many m.room.message events the room has.
count_messages() {
	api "$alice_token" GET "/_matrix/client/v3/rooms/$(urlenc "${1:-$room}")/messages?dir=b&limit=1000&filter=%7B%22types%22%3A%5B%22m.room.message%22%5D%7D" |
		jq '.chunk | length'
}
