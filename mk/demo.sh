#!/bin/sh
# make demo: a real round trip on the local test homeserver.  Two demo users;
# alice logs in with mx-keys, makes a room with mx-room and sends with
# mx-send; bob reads it back with mx-sync.  No curl: every command is an mx
# program (the users are registered with Synapse's shared secret), shown
# before it runs.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
PATH=$top:$PATH
demo=$(mktemp -d "${TMPDIR:-/tmp}/mx-demo.XXXXXX")
trap 'rm -rf "$demo"' EXIT
export MX_DIR=$demo/mx
hs=$MX_TEST_HOMESERVER

show() { printf '\n$ %s\n' "$*" >&2; }
reg() { python3 "$top/t/synapse/register.py" "$hs" "$MX_TEST_SHARED_SECRET" "$1" "$2"; }

suffix=$(od -An -N3 -tx1 /dev/urandom | tr -d ' \n')
reg "alice-$suffix" alicepw >/dev/null
reg "bob-$suffix" bobpw >/dev/null
alice="@alice-$suffix:$MX_TEST_SERVER_NAME"
bob="@bob-$suffix:$MX_TEST_SERVER_NAME"

show "echo alicepw | mx-keys -p alice login -u '$alice' --homeserver $hs --password-stdin"
echo alicepw | mx-keys -p alice login -u "$alice" --homeserver "$hs" --password-stdin
show "echo bobpw | mx-keys -p bob login -u '$bob' --homeserver $hs --password-stdin"
echo bobpw | mx-keys -p bob login -u "$bob" --homeserver "$hs" --password-stdin

show "mx-sync -p bob -q     # bob's first sync sets his sync token"
mx-sync -p bob -q >/dev/null

show "mx-send -p alice '$bob' 'hello from the demo'   # the DM room is created"
mx-send -p alice "$bob" 'hello from the demo'
show "printf '# Deploy\n\n*done* in **3 s**\n' | mx-send -p alice --markdown '$bob'"
printf '# Deploy\n\n*done* in **3 s**\n' | mx-send -p alice --markdown "$bob"

show "mx-sync -p bob --accept-invites | jq -c 'select(.type==\"m.room.message\") | {sender, body: .content.body}'"
mx-sync -p bob --accept-invites >"$demo/sync.jsonl"
room=$(jq -r 'select(.type=="m.room.member" and .state_key=="'"$bob"'") | .room_id' "$demo/sync.jsonl" | head -n1)
mx-sync -p bob --history "$room" |
	jq -c 'select(.type=="m.room.message") | {sender, body: .content.body}'

show "mx-room -p alice create --name ops --invite '$bob'   # encrypted by default"
room=$(mx-room -p alice create --name ops --invite "$bob" | jq -r .room_id)
show "mx-room -p bob join '$room'"
mx-room -p bob join "$room" >/dev/null
show "mx-room -p bob list"
mx-room -p bob list
show "echo deployed | mx-send -p alice '$room'   # encrypted: Megolm, key shared over Olm"
echo deployed | mx-send -p alice "$room"
show "mx-sync -p bob '$room' | jq -c '{type, body: .content.body, mx: .mx | {decrypted, trust, device_id}}'"
mx-sync -p bob "$room" |
	jq -c 'select(.mx.encrypted) | {type, body: .content.body, mx: .mx | {decrypted, trust, device_id}}'
show "mx-bridge-check -p alice --table '$room'   # who else can read it"
mx-bridge-check -p alice --table "$room"

show "mx-keys -p alice whoami"
mx-keys -p alice whoami
show "mx-keys -p alice logout"
mx-keys -p alice logout
echo >&2
echo "demo: round trip complete" >&2
