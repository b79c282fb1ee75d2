#!/bin/sh
# Encrypted sends by mx-send, each against two references measured in the
# same run, interleaved (bench/lib.sh): mx-send into an unencrypted room
# (what encryption adds to mx-send) and a bare curl PUT of an
# m.room.encrypted event of the same size (what mx-send costs over the one
# request the event needs).
#
# Warm: the later sends of a conversation.  The room holds the sender and a
# second user with two devices; the Megolm session was shared with both by
# an earlier send, so a send is one /sync and the event.  (A session is
# rotated after 100 messages: BENCH_RUNS over 90 puts a rotation in.)
#
# Cold: the first send into a new room, where mx-send claims an Olm session
# with every other device and shares the Megolm key with each by Olm: with
# 2 devices (one user with two) and with 20 (5 users with 4 each).  Every
# run needs devices it never met, so each run has its own room and its own
# sender (BENCH_COLD_RUNS of them, 10 by default); each sender has made one
# encrypted send before, into a room of its own, so that the figure holds
# no device's first /sync.
#
# Before timing, one send of each kind is traced (-vvv): it must share the
# room key with exactly the devices said (none for a warm send), the second
# user's two devices must decrypt it, and its requests are counted.
# Prints (bench/run.sh's format):
#   send-e2ee-{warm,cold-2dev,cold-20dev}-vs-plain    wall ms, medians
#   send-e2ee-{warm,cold-2dev,cold-20dev}-vs-curl     wall ms, medians
#   send-e2ee-{warm,cold-2dev,cold-20dev}-requests    HTTP requests
#   send-e2ee-warm-rss    peak RSS kB, warm send / curl
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
PATH=$top:$PATH
. "$top/bench/lib.sh"
need_deb time
work=$(mktemp -d "${TMPDIR:-/tmp}/mx-bench.XXXXXX")
trap 'rm -rf "$work"' EXIT
export MX_DIR=$work/mx
hs=$MX_TEST_HOMESERVER
api=$hs/_matrix/client/v3
runs=${BENCH_RUNS:-40}
cold_runs=${BENCH_COLD_RUNS:-10}
encstate='{"type":"m.room.encryption","state_key":"","content":{"algorithm":"m.megolm.v1.aes-sha2"}}'

die() {
	echo "bench/e2ee.sh: $*" >&2
	exit 1
}

# user NAME: register a fresh user (password benchpw); prints "USER_ID
# TOKEN", the token being that of the registration's device, which has no
# keys and so never receives a room key.
user() {
	python3 "$top/t/synapse/register.py" "$hs" "$MX_TEST_SHARED_SECRET" \
		"$1-$(od -An -N3 -tx1 /dev/urandom | tr -d ' \n')" benchpw |
		cut -d' ' -f1,2
}
# login PROFILE USER: a new device with its keys uploaded (mx-keys login).
login() {
	echo benchpw | mx-keys -q -p "$1" login -u "$2" --homeserver "$hs" \
		--password-stdin >/dev/null
}
# call TOKEN METHOD PATH [JSON]: a client-server request (token through
# stdin, not argv); prints the answer.
call() {
	printf 'header = "Authorization: Bearer %s"\n' "$1" |
		curl -sS --fail-with-body -K - -X "$2" \
			-H 'Content-Type: application/json' ${4+-d "$4"} "$api$3"
}
# mkroom TOKEN [INVITEES]: a new encrypted room with those users invited
# (a JSON list's inside); prints its ID.
mkroom() {
	call "$1" POST /createRoom \
		"{\"initial_state\":[$encstate],\"invite\":[${2:-}]}" |
		jq -r .room_id
}
urlenc() {
	printf '%s' "$1" | jq -sRr @uri
}
join() {
	call "$1" POST "/join/$(urlenc "$2")" '{}' >/dev/null
}
# devices_with_keys TOKEN USER_ID: how many devices of the user have keys.
devices_with_keys() {
	call "$1" POST /keys/query "{\"device_keys\":{\"$2\":[]}}" |
		jq --arg u "$2" '.device_keys[$u] | length'
}
# probe PROFILE ROOM N [DECRYPTER...]: one send traced (-vvv) that must
# share the room key with exactly N devices (none: a warm send), each
# DECRYPTER profile then decrypting it; prints its HTTP request count.
probe() {
	mx-send -vvv -p "$1" "$2" 'benchmark message' 2>"$work/trace" \
		>"$work/sent" || die "mx-send -p $1 failed"
	_n=$(awk '/^mx-send: > PUT .*\/sendToDevice\// { b = 1; next }
		b && /^mx-send: > \{/ { sub(/^mx-send: > /, ""); print }
		{ b = 0 }' "$work/trace" |
		jq -s '[.[].messages[] | keys[]] | length')
	[ "$_n" = "$3" ] ||
		die "a send by $1 shared the room key with $_n devices, not $3"
	_room=$2 _id=$(jq -r .event_id "$work/sent")
	shift 3
	for _p; do
		mx-sync -p "$_p" "$_room" | jq -e --arg id "$_id" \
			'select(.event_id == $id) | .mx.decrypted' >/dev/null ||
			die "$_p did not decrypt a send by $1"
	done
	grep -c '^mx-send: > [A-Z]' "$work/trace"
}

# The sender of the warm room and of the references, with a token of its
# own device for curl (through a config file, not argv).
read -r me metok <<EOF
$(user bench)
EOF
login me "$me"
printf 'header = "Authorization: Bearer %s"\nheader = "Content-Type: application/json"\nsilent\nshow-error\n' \
	"$metok" >"$work/curlrc"
# The second user of the warm room and of the 2-device cold rooms.
read -r bob bobtok <<EOF
$(user bob)
EOF
login bob1 "$bob"
login bob2 "$bob"
n=$(devices_with_keys "$metok" "$bob")
[ "$n" = 2 ] || die "$bob has $n devices with keys, not 2"
# The members of the 20-device cold rooms: 5 users, 4 devices each.
: >"$work/members"
for u in 1 2 3 4 5; do
	read -r uid utok <<EOF
$(user member$u)
EOF
	for d in 1 2 3 4; do login "m$u-$d" "$uid"; done
	echo "$uid $utok" >>"$work/members"
done
invites20=$(cut -d' ' -f1 "$work/members" | jq -R . | paste -sd, -)

plain=$(call "$metok" POST /createRoom '{}' | jq -r .room_id)
warm=$(mkroom "$metok" "\"$bob\"")
join "$bobtok" "$warm"

# The warm room's first send shares the key; the later ones must not.
probe me "$warm" 2 bob1 bob2 >/dev/null
probe me "$plain" 0 >/dev/null
req_plain=$(probe me "$plain" 0)
req_warm=$(probe me "$warm" 0)

# The curl reference: that warm send's m.room.encrypted content, PUT into
# the unencrypted room.
call "$metok" GET "/rooms/$(urlenc "$warm")/event/$(jq -r .event_id "$work/sent")" |
	jq -c .content >"$work/encbody"
grep -q '"ciphertext"' "$work/encbody" || die "no m.room.encrypted body"
plain_cmd="mx-send -p me '$plain' 'benchmark message' >/dev/null"
# Bash expands the txn id per run without forking (EPOCHREALTIME).
curl_cmd="curl -K '$work/curlrc' -o /dev/null -X PUT --data-binary @'$work/encbody' \"$api/rooms/$(urlenc "$plain")/send/m.room.encrypted/b\${EPOCHREALTIME/./}\""

# cold KIND I INVITEES: the I-th run of a cold KIND: a sender (profile
# KIND-I) that has sent once into an encrypted room of its own, and a new
# room it made, the invitees joined; exports KIND_I=ROOM_ID.
cold() {
	read -r s stok <<EOF
$(user sender)
EOF
	login "$1-$2" "$s"
	mx-send -q -p "$1-$2" "$(mkroom "$stok")" hello >/dev/null
	r=$(mkroom "$stok" "$3")
	export "$1_$2=$r"
}
i=0
while [ $i -le $((cold_runs + 1)) ]; do
	cold c2 $i "\"$bob\""
	join "$bobtok" "$(eval "echo \$c2_$i")"
	cold c20 $i "$invites20"
	while read -r uid utok; do
		join "$utok" "$(eval "echo \$c20_$i")"
	done <"$work/members"
	i=$((i + 1))
done
# Run 0 of each is the probe.
req_c2=$(probe c2-0 "$c2_0" 2 bob1 bob2)
req_c20=$(probe c20-0 "$c20_0" 20)

compare "$work/warm" e2ee "mx-send -p me '$warm' 'benchmark message' >/dev/null" \
	plain "$plain_cmd" curl "$curl_cmd"
# Runs 1 to cold_runs + 1 (the first not counted).
(
	BENCH_RUNS=$cold_runs BENCH_WARMUP=1
	compare "$work/cold" \
		cold2 'n2=$((${n2:-0} + 1)); eval "room=\$c2_$n2"; mx-send -p c2-$n2 "$room" "benchmark message" >/dev/null' \
		cold20 'n20=$((${n20:-0} + 1)); eval "room=\$c20_$n20"; mx-send -p c20-$n20 "$room" "benchmark message" >/dev/null' \
		plain "$plain_cmd" curl "$curl_cmd"
)
e=$(median "$work/warm" e2ee)
report send-e2ee-warm-vs-plain "$e" "$(median "$work/warm" plain)" \
	"wall ms, mx-send into an encrypted room (key already shared with 1 other user's 2 devices) / mx-send, unencrypted room (median of $runs interleaved runs)"
report send-e2ee-warm-vs-curl "$e" "$(median "$work/warm" curl)" \
	"wall ms, the same warm encrypted send / curl PUT of a same-size m.room.encrypted event (median of $runs interleaved runs)"
for k in 2 20; do
	e=$(median "$work/cold" cold$k)
	report send-e2ee-cold-${k}dev-vs-plain "$e" "$(median "$work/cold" plain)" \
		"wall ms, first mx-send into a new encrypted room: Olm sessions claimed with $k devices and the key shared / mx-send, unencrypted room (median of $cold_runs interleaved runs)"
	report send-e2ee-cold-${k}dev-vs-curl "$e" "$(median "$work/cold" curl)" \
		"wall ms, the same cold encrypted send to $k devices / curl PUT of a same-size m.room.encrypted event (median of $cold_runs interleaved runs)"
done
what="HTTP requests of one send by mx-send, encrypted / unencrypted room"
report send-e2ee-warm-requests "$req_warm" "$req_plain" "$what, warm"
report send-e2ee-cold-2dev-requests "$req_c2" "$req_plain" \
	"$what, cold to 2 devices"
report send-e2ee-cold-20dev-requests "$req_c20" "$req_plain" \
	"$what, cold to 20 devices"
peak "$work/rss" e2ee "mx-send -p me '$warm' 'benchmark message' >/dev/null" \
	curl "$curl_cmd"
report send-e2ee-warm-rss "$(median "$work/rss" e2ee)" "$(median "$work/rss" curl)" \
	"peak RSS kB of the process, warm encrypted mx-send / curl PUT of a same-size m.room.encrypted event (median of ${BENCH_RSS_RUNS:-5} interleaved runs)"
