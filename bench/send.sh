#!/bin/sh
# mx-send into an unencrypted room against a bare curl PUT of the same event
# to the same room, interleaved in one run (bench/lib.sh; median wall time),
# and the peak resident set of one run of each.
# Prints: send-plain <mx median ms> <curl median ms> <ratio mx/curl>
#         send-plain-rss <mx kB> <curl kB> <ratio>
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
PATH=$top:$PATH
work=$(mktemp -d "${TMPDIR:-/tmp}/mx-bench.XXXXXX")
trap 'rm -rf "$work"' EXIT
export MX_DIR=$work/mx
hs=$MX_TEST_HOMESERVER
user=bench-$(od -An -N3 -tx1 /dev/urandom | tr -d ' \n')
python3 "$top/t/synapse/register.py" "$hs" "$MX_TEST_SHARED_SECRET" \
	"$user" benchpw >"$work/reg"
read -r uid token dev <"$work/reg"
echo benchpw | mx-keys -q login -u "$uid" --homeserver "$hs" \
	--password-stdin >/dev/null
# curl gets its own device's token, through a config file (not argv).
tok=$(curl -sS -X POST "$hs/_matrix/client/v3/login" -d \
	"{\"type\":\"m.login.password\",\"identifier\":{\"type\":\"m.id.user\",\"user\":\"$uid\"},\"password\":\"benchpw\"}" |
	jq -r .access_token)
printf 'header = "Authorization: Bearer %s"\nheader = "Content-Type: application/json"\nsilent\nshow-error\n' \
	"$tok" >"$work/curlrc"
room=$(curl -sS -K "$work/curlrc" -X POST "$hs/_matrix/client/v3/createRoom" -d '{}' | jq -r .room_id)
enc=$(printf '%s' "$room" | jq -sRr @uri)
body='{"msgtype":"m.text","body":"benchmark message"}'
# Bash expands the txn id per run without forking (EPOCHREALTIME).
curl_cmd="curl -K '$work/curlrc' -o /dev/null -X PUT -d '$body' \"$hs/_matrix/client/v3/rooms/$enc/send/m.room.message/b\${EPOCHREALTIME/./}\""
. "$top/bench/lib.sh"
compare "$work/cmp" mx-send "mx-send '$room' 'benchmark message' >/dev/null" \
	curl "$curl_cmd"
mx=$(ms "$work/cmp" mx-send) ref=$(ms "$work/cmp" curl)
echo "send-plain $mx $ref $(ratio "$mx" "$ref")"
mx=$(rss_kb "mx-send '$room' 'benchmark message' >/dev/null")
ref=$(rss_kb "$curl_cmd")
echo "send-plain-rss $mx $ref $(ratio "$mx" "$ref")"
