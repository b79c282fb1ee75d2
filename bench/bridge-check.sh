#!/bin/sh
# mx-bridge-check on a big room: 5,000 joined members across 50 servers,
# 200 of them bridge puppets, a confirmed bridge, widgets, served by the
# fake server (t/fakehs.py --state: canned answers; its /keys/query
# answers no device, so the cost of checking device signatures is not in
# these figures).  Prints (bench/run.sh's format):
#   bridge-check-requests  requests the audit made (the reference: 4, one
#                          whoami, one state fetch, one /keys/query, one
#                          /messages page for the behalf check)
#   bridge-check-time      wall ms, mx-bridge-check / curl fetching the same
#                          state (median of interleaved runs)
#   bridge-check-cpu       user+system CPU s of one audit (reference 1 s,
#                          the target)
#   bridge-check-rss       peak RSS kB of the process (reference 65536, the
#                          64 MiB target)
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
PATH=$top:$PATH
. "$top/bench/lib.sh"
need_deb time
work=$(mktemp -d "${TMPDIR:-/tmp}/mx-bench.XXXXXX")
fake=
trap '[ -z "$fake" ] || kill "$fake" 2>/dev/null; rm -rf "$work"' EXIT
export MX_DIR=$work/mx MX_BRIDGE_PATTERNS=$top/data/bridge-patterns

python3 - "$work/state.json" <<\EOP
import json, sys
room, ev = "!big:s0.example", []
def st(t, k, c, sender="@admin:s0.example"):
    ev.append({"type": t, "state_key": k, "content": c, "sender": sender,
               "event_id": "$%d" % len(ev), "room_id": room,
               "origin_server_ts": 1700000000000})
st("m.room.create", "", {"room_version": "10"})
st("m.room.encryption", "", {"algorithm": "m.megolm.v1.aes-sha2"})
st("m.room.join_rules", "", {"join_rule": "invite"})
st("m.room.history_visibility", "", {"history_visibility": "shared"})
users = {"@admin:s0.example": 100, "@telegrambot:s0.example": 9001}
members = ["@admin:s0.example", "@telegrambot:s0.example"]
members += ["@telegram_%d:s0.example" % i for i in range(200)]
members += ["@user%d:s%d.example" % (i, i % 50) for i in range(5000 - len(members))]
for i, m in enumerate(members[:100]):
    users.setdefault(m, 50)
st("m.room.power_levels", "", {"users": users, "invite": 50})
for m in members:
    st("m.room.member", m, {"membership": "join", "displayname": m[1:8]}, m)
br = {"bridgebot": "@telegrambot:s0.example", "protocol": {"id": "telegram"},
      "channel": {"id": "-100123"}}
st("m.bridge", "s0.example/telegram", br)
st("uk.half-shot.bridge", "s0.example/telegram", br)
for i in range(5):
    st("im.vector.modular.widgets", "w%d" % i,
       {"type": "jitsi", "url": "https://meet%d.example.net/x" % i})
json.dump(ev, open(sys.argv[1], "w"))
EOP

python3 "$top/t/fakehs.py" --log "$work/fake.log" --state "$work/state.json" \
	ok >"$work/port" &
fake=$!
i=0
while [ ! -s "$work/port" ] && [ $i -lt 200 ]; do sleep 0.05; i=$((i + 1)); done
url=http://127.0.0.1:$(head -n 1 "$work/port")
export MX_HOMESERVER=$url MX_ACCESS_TOKEN=bench-token

: >"$work/fake.log"
st=0
mx-bridge-check '!big:s0.example' >"$work/out" || st=$?
test $st = 1
test "$(tail -n 1 "$work/out" | jq -r .verdict)" = fail
n=$(grep -c '^[A-Z]' "$work/fake.log")
report bridge-check-requests "$n" 4 \
	"HTTP requests of one audit of a 5,000-member room (state $(wc -c <"$work/state.json") bytes), against whoami + state + keys/query + messages"

printf 'header = "Authorization: Bearer x"\nsilent\nshow-error\n' >"$work/curlrc"
mx_cmd="mx-bridge-check '!big:s0.example' >/dev/null; [ \$? = 1 ]"
curl_cmd="curl -K '$work/curlrc' -o /dev/null '$url/_matrix/client/v3/rooms/%21big%3As0.example/state'"
BENCH_RUNS=${BENCH_RUNS:-15} compare "$work/cmp" mx "$mx_cmd" curl "$curl_cmd"
report bridge-check-time "$(median "$work/cmp" mx)" "$(median "$work/cmp" curl)" \
	"wall ms, mx-bridge-check of the 5,000-member room / curl fetching its state alone (median of ${BENCH_RUNS:-15} interleaved runs)"

# CPU and peak RSS under GNU time (see peak in bench/lib.sh): the audit
# exits 1 (its findings are high), which peak would take for a failure.
: >"$work/res"
for i in 1 2 3 4 5; do
	/usr/bin/time -f '%U %S %M' -o "$work/one" mx-bridge-check \
		'!big:s0.example' >/dev/null && exit 1
	tail -n 1 "$work/one" >>"$work/res"
done
report bridge-check-cpu "$(awk '{ print $1 + $2 }' "$work/res" | sort -n | sed -n 3p)" 1 \
	"user+system CPU s of one audit of the 5,000-member room, against the 1 s target (median of 5 runs)"
report bridge-check-rss "$(awk '{ print $3 }' "$work/res" | sort -n | sed -n 3p)" 65536 \
	"peak RSS kB of one audit of the 5,000-member room, against the 64 MiB target (median of 5 runs)"
