#!/bin/sh
# mx-send into an unencrypted room against a bare curl PUT of the same event
# to the same room: wall time and peak memory, each pair measured
# interleaved in one run (bench/lib.sh).
# Prints (bench/run.sh's format):
#   send-plain-time  mx-send ms, curl ms: medians of BENCH_RUNS runs
#   send-plain-rss   mx-send kB, curl kB: median peak RSS of the process
#   rss-floor        `true` kB under the same measure (the floor, ~1 MB)
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
PATH=$top:$PATH
. "$top/bench/lib.sh"
need_deb time
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
mx_cmd="mx-send '$room' 'benchmark message' >/dev/null"
# Bash expands the txn id per run without forking (EPOCHREALTIME).
curl_cmd="curl -K '$work/curlrc' -o /dev/null -X PUT -d '$body' \"$hs/_matrix/client/v3/rooms/$enc/send/m.room.message/b\${EPOCHREALTIME/./}\""
compare "$work/cmp" mx-send "$mx_cmd" curl "$curl_cmd"
report send-plain-time "$(median "$work/cmp" mx-send)" \
	"$(median "$work/cmp" curl)" \
	"wall ms, mx-send / curl PUT of the same event, unencrypted room (median of ${BENCH_RUNS:-40} interleaved runs)"
peak "$work/rss" mx-send "$mx_cmd" curl "$curl_cmd" true true
report send-plain-rss "$(median "$work/rss" mx-send)" \
	"$(median "$work/rss" curl)" \
	"peak RSS kB of the process, mx-send / curl PUT of the same event (median of ${BENCH_RSS_RUNS:-5} interleaved runs)"
echo "rss-floor $(median "$work/rss" true) - -  # peak RSS kB of \`true\` measured the same way: the floor of that measure (about 1000; near 14000 would be the harness's own memory)"
