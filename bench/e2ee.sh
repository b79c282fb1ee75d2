#!/bin/sh
# Encrypted sends.  Warm: mx-send into an encrypted room whose session is
# already shared, against mx-send into an unencrypted room and a bare curl
# PUT, interleaved in one run (bench/lib.sh; median wall time).  Cold: the
# first send into an encrypted room with 20 member devices (5 users, 4
# devices each): HTTP requests made and wall time.
# Prints: send-e2ee-vs-plain <mx-e2ee ms> <mx-plain ms> <ratio>
#         send-e2ee-vs-curl <mx-e2ee ms> <curl ms> <ratio>
#         send-e2ee-cold-20dev <requests> <ms>
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
PATH=$top:$PATH
work=$(mktemp -d "${TMPDIR:-/tmp}/mx-bench.XXXXXX")
trap 'rm -rf "$work"' EXIT
export MX_DIR=$work/mx
hs=$MX_TEST_HOMESERVER

# user NAME: register a user; prints its user ID.
user() {
	python3 "$top/t/synapse/register.py" "$hs" "$MX_TEST_SHARED_SECRET" \
		"$1-$(od -An -N3 -tx1 /dev/urandom | tr -d ' \n')" benchpw |
		cut -d' ' -f1
}
# login PROFILE USER: a new device with its keys uploaded.
login() {
	echo benchpw | mx-keys -q -p "$1" login -u "$2" --homeserver "$hs" \
		--password-stdin >/dev/null
}
me=$(user bench)
login me "$me"
tok=$(curl -sS -X POST "$hs/_matrix/client/v3/login" -d \
	"{\"type\":\"m.login.password\",\"identifier\":{\"type\":\"m.id.user\",\"user\":\"$me\"},\"password\":\"benchpw\"}" |
	jq -r .access_token)
printf 'header = "Authorization: Bearer %s"\nheader = "Content-Type: application/json"\nsilent\nshow-error\n' \
	"$tok" >"$work/curlrc"
mkroom() {
	curl -sS -K "$work/curlrc" -X POST "$hs/_matrix/client/v3/createRoom" -d "$1" |
		jq -r .room_id
}
encbody='{"initial_state":[{"type":"m.room.encryption","state_key":"","content":{"algorithm":"m.megolm.v1.aes-sha2"}}]'
plain=$(mkroom '{}')
warm=$(mkroom "$encbody}")
# The cold room: 5 members with 4 devices each, all with keys.
invites=
for u in 1 2 3 4 5; do
	uid=$(user member$u)
	for d in 1 2 3 4; do login "m$u-$d" "$uid"; done
	invites="$invites${invites:+,}\"$uid\""
done
cold=$(mkroom "$encbody,\"invite\":[$invites]}")
for u in 1 2 3 4 5; do
	MX_PROFILE="m$u-1" mx-sync -q --accept-invites >/dev/null
done
mx-send -p me "$warm" warmup >/dev/null

enc=$(printf '%s' "$plain" | jq -sRr @uri)
body='{"msgtype":"m.text","body":"benchmark message"}'
curl_cmd="curl -K '$work/curlrc' -o /dev/null -X PUT -d '$body' \"$hs/_matrix/client/v3/rooms/$enc/send/m.room.message/b\${EPOCHREALTIME/./}\""
. "$top/bench/lib.sh"
compare "$work/cmp" e2ee "mx-send -p me '$warm' 'benchmark message' >/dev/null" \
	plain "mx-send -p me '$plain' 'benchmark message' >/dev/null" \
	curl "$curl_cmd"
e=$(median "$work/cmp" e2ee) p=$(median "$work/cmp" plain) c=$(median "$work/cmp" curl)
echo "send-e2ee-vs-plain $e $p $(ratio "$e" "$p")"
echo "send-e2ee-vs-curl $e $c $(ratio "$e" "$c")"

t0=$(date +%s%N)
mx-send -vv -p me "$cold" "first message" 2>"$work/trace" >/dev/null
t1=$(date +%s%N)
echo "send-e2ee-cold-20dev $(grep -c '^mx-send: > ' "$work/trace") $(((t1 - t0) / 1000000))"
