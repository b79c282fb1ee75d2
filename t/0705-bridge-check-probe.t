#!/bin/sh
# mx-bridge-check --probe on the real Synapse: a listener in the test
# appservice's place (t/synapse/run registers it, its URL on a port of its
# own) receives the transactions Synapse pushes, joins the bot to the
# direct room it is invited to and, while the file "mode" says "answer",
# answers a probe as the bot.  Answered: the latency; silent: "no answer in
# N s", exit 1, in the same direct room.
. "${0%/*}/lib.sh"
need_homeserver
# A Synapse of its own: the shared one has been pushing transactions to
# the appservice's URL, where nothing listened, since the first test, and
# backs off from an appservice that does not answer for minutes.
[ -n "${MX_TEST_SHARED_SECRET:-}" ] && [ -x "$MX_SRC/t/synapse/run" ] &&
	[ "$(id -u)" = 0 ] || skip_all "needs root to start a second Synapse"
info=$(MX_SYNAPSE_OWNER=$$ sh "$MX_SRC/t/synapse/run" start) ||
	setup_failed "a Synapse of its own"
set -- $info
hs_dir=$3
MX_TEST_HOMESERVER=$1 MX_TEST_SHARED_SECRET=$2
MX_TEST_SERVER_NAME=localhost:${1##*:}
trap 'sh "$MX_SRC/t/synapse/run" stop "$hs_dir"' EXIT

S=$MX_TEST_SERVER_NAME
AS=as-${MX_TEST_SHARED_SECRET:-}
bot=@telegrambot:$S
reg=${MX_TEST_CHROOT:-/var/cache/mx-test/sid}/run/mx-${MX_TEST_HOMESERVER##*:}/appservice.yaml
[ -r "$reg" ] || skip_all "no registration of the test appservice at $reg"
as_url=$(sed -n 's/^url: "\(http:[^"]*\)"$/\1/p' "$reg")
[ -n "$as_url" ] || skip_all "the test appservice has no URL"
as_port=${as_url##*:}

setup register_user alice
setup register_user carol
setup login_profile carol

# The bot: joins the rooms it is invited to; answers a text message of
# another user while "mode" says answer.  Its token comes from the
# environment; what it did goes to bot.log.
cat >bot.py <<\EOP
import http.server, json, os, sys, threading, urllib.parse, urllib.request
port, hs, bot = int(sys.argv[1]), sys.argv[2], sys.argv[3]
tok = os.environ["AS_TOKEN"]
n = [0]

def log(s):
    with open("bot.log", "a") as f:
        f.write(s + "\n")

def call(method, path, body):
    q = "&" if "?" in path else "?"
    r = urllib.request.Request(hs + path + q + "user_id=" +
        urllib.parse.quote(bot), data=json.dumps(body).encode(),
        method=method, headers={"Authorization": "Bearer " + tok,
                                "Content-Type": "application/json"})
    urllib.request.urlopen(r).read()

def handle(ev):
    room = urllib.parse.quote(ev.get("room_id", ""), safe="")
    c = ev.get("content") or {}
    if ev.get("type") == "m.room.member" and ev.get("state_key") == bot \
            and c.get("membership") == "invite":
        call("POST", "/_matrix/client/v3/join/" + room, {})
        log("joined " + ev["room_id"])
    elif ev.get("type") in ("m.room.message", "m.room.encrypted") \
            and ev.get("sender") != bot:
        log("got " + str(c.get("body", ev["type"])))
        with open("mode") as f:
            if f.read().strip() != "answer":
                return
        n[0] += 1
        call("PUT", "/_matrix/client/v3/rooms/%s/send/m.room.message/a%d-%d"
             % (room, os.getpid(), n[0]),
             {"msgtype": "m.notice", "body": "Unknown command"})
        log("answered")

class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def answer(self):
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if "/transactions/" in self.path:
            evs = json.loads(body or b"{}").get("events", [])
            threading.Thread(target=lambda: [handle(e) for e in evs]).start()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"{}")
    do_GET = do_PUT = do_POST = answer
    def log_message(self, *a):
        pass

s = http.server.ThreadingHTTPServer(("127.0.0.1", port), H)
print("up", flush=True)
s.serve_forever()
EOP
echo answer >mode
AS_TOKEN=$AS python3 bot.py "$as_port" "$MX_TEST_HOMESERVER" "$bot" >bot.out 2>bot.err &
listener=$!
trap 'kill "$listener" 2>/dev/null; sh "$MX_SRC/t/synapse/run" stop "$hs_dir"' EXIT
i=0
while [ ! -s bot.out ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
[ -s bot.out ] || setup_failed "the bot's listener did not start"

# as_user USER METHOD PATH [JSON]: a request of the appservice, as USER.
as_user() {
	_u=$1 _m=$2 _p=$3
	shift 3
	case $_p in *\?*) _p="$_p&" ;; *) _p="$_p?" ;; esac
	api "$AS" "$_m" "${_p}user_id=$(urlenc "$_u")" "$@"
}

# A room (not encrypted: the bridge is a warning, not high) with a
# confirmed bridge.
room=$(create_room "$alice_token" '{"preset":"private_chat"}') ||
	setup_failed "create a room"
R=$(urlenc "$room")
setup api "$alice_token" POST "/_matrix/client/v3/rooms/$R/invite" \
	"{\"user_id\":\"$bot\"}"
setup as_user "$bot" POST "/_matrix/client/v3/join/$R" '{}'
# Registered, with a profile, as a real bridge registers its bot (a user
# without a profile is unknown to mx_room_resolve); registered already
# when another test did it.
api "$AS" POST /_matrix/client/v3/register \
	'{"type":"m.login.application_service","username":"telegrambot"}' >/dev/null 2>&1 || :
setup as_user "$bot" PUT "/_matrix/client/v3/profile/$(urlenc "$bot")/displayname" \
	'{"displayname":"Telegram bridge bot"}'
setup api "$alice_token" POST "/_matrix/client/v3/rooms/$R/invite" \
	"{\"user_id\":\"$carol_id\"}"
setup api "$carol_token" POST "/_matrix/client/v3/join/$R" '{}'
setup api "$alice_token" PUT "/_matrix/client/v3/rooms/$R/state/m.bridge/telegram" \
	"{\"bridgebot\":\"$bot\",\"protocol\":{\"id\":\"telegram\"}}"

check() {
	MX_HOMESERVER=$MX_TEST_HOMESERVER MX_ACCESS_TOKEN=$alice_token \
		mx-bridge-check "$@"
}

test_expect_success 'usage: --probe-timeout and --probe-command' '
	test_expect_code 2 check --probe --probe-timeout 0 "$room" 2>err &&
	grep -q "probe-timeout .0. is not 1 to 3600 seconds" err &&
	test_expect_code 2 check --probe-command ping "$room" 2>err &&
	grep -q "go with --probe" err
'

test_expect_success 'the bot answers: its latency, in a new direct room' '
	check --probe --probe-timeout 20 "$room" >out &&
	jq -c "select(.probe)" out >probe &&
	jq -e "[.probe, .command, .answered] == [\"$bot\", \"help\", true] and
		.latency_ms >= 0 and .latency_ms < 20000" probe &&
	jq -r .room_id probe >dm.id && test "$(cat dm.id)" != "$room" &&
	grep -qx "joined $(cat dm.id)" bot.log &&
	grep -qx "got help" bot.log &&
	api "$alice_token" GET "/_matrix/client/v3/user/$(urlenc "$alice_id")/account_data/m.direct" |
		jq -e ".\"$bot\" == [\"$(cat dm.id)\"]"
'

test_expect_success 'silent: no answer in N s, exit 1, the same direct room' '
	echo silent >mode &&
	test_expect_code 1 check --probe --probe-timeout 2 "$room" >out &&
	jq -c "select(.probe)" out >probe &&
	jq -e "[.probe, .answered, .detail] == [\"$bot\", false, \"no answer in 2 s\"]" probe &&
	test "$(jq -r .room_id probe)" = "$(cat dm.id)"
'

test_expect_success '--probe-command and --table' '
	echo answer >mode &&
	check --probe --probe-command "!help" --table "$room" >out &&
	grep -q "^PASS probe $bot: answered in [0-9]* ms$" out &&
	grep -qx "got !help" bot.log
'

test_expect_success 'an encrypted direct room: the probe is encrypted' '
	mx-room -p carol create --dm "$bot" | jq -r .room_id >cdm.id &&
	mx-bridge-check -p carol --probe --probe-timeout 20 "$room" >out &&
	jq -c "select(.probe)" out >probe &&
	jq -e "[.probe, .room_id, .answered] == [\"$bot\", \"$(cat cdm.id)\", true]" probe &&
	grep -qx "got m.room.encrypted" bot.log &&
	MX_HOMESERVER=$MX_TEST_HOMESERVER MX_ACCESS_TOKEN=$carol_token \
		test_expect_code 2 mx-bridge-check --probe "$room" >out 2>err &&
	grep -q "is encrypted: --probe needs a profile" err
'

test_expect_success 'without --probe nothing is sent' '
	: >bot.log &&
	check "$room" >out &&
	! grep -q probe out && sleep 1 && ! grep -q "^got" bot.log
'

test_done
