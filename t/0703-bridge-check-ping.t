#!/bin/sh
# mx-bridge-check --appservice-ping: the test Synapse pings the test
# appservice (t/synapse/run registers it, its URL on a port of its own),
# with the appservice's token from MX_AS_TOKEN: unreachable while nothing
# listens (1), reached once a listener answers (0), refused with a token
# that is not the appservice's (3).
. "${0%/*}/lib.sh"
need_homeserver

AS=as-${MX_TEST_SHARED_SECRET:-}
reg=${MX_TEST_CHROOT:-/var/cache/mx-test/sid}/run/mx-${MX_TEST_HOMESERVER##*:}/appservice.yaml
[ -r "$reg" ] || skip_all "no registration of the test appservice at $reg"
as_url=$(sed -n 's/^url: "\(http:[^"]*\)"$/\1/p' "$reg")
[ -n "$as_url" ] || skip_all "the test appservice has no URL"
as_port=${as_url##*:}

# ping ARGS...: as the appservice's bot, with its token for the ping.
ping_as() {
	MX_HOMESERVER=$MX_TEST_HOMESERVER MX_ACCESS_TOKEN=$AS MX_AS_TOKEN=$AS \
		mx-bridge-check "$@"
}

# A listener in the appservice's place: 200 {} to everything (the ping,
# and the transactions the homeserver pushes).
cat >listener.py <<\EOP
import http.server, sys
class H(http.server.BaseHTTPRequestHandler):
    # Keep-alive, as a real appservice: Synapse's client pool reuses
    # connections, and one closed under it fails a ping now and then.
    protocol_version = "HTTP/1.1"
    def answer(self):
        n = int(self.headers.get("Content-Length") or 0)
        self.rfile.read(n)
        with open("listener.log", "a") as f:
            f.write("%s %s\n" % (self.command, self.path.split("?")[0]))
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"{}")
    do_GET = do_PUT = do_POST = answer
    def log_message(self, *a):
        pass
s = http.server.ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), H)
print("up", flush=True)
s.serve_forever()
EOP
listener=
trap '[ -z "$listener" ] || kill "$listener" 2>/dev/null; stop_fake' EXIT

test_expect_success 'without MX_AS_TOKEN: a usage error' '
	MX_HOMESERVER=$MX_TEST_HOMESERVER MX_ACCESS_TOKEN=$AS \
		test_expect_code 2 mx-bridge-check --appservice-ping telegram 2>err &&
	grep -q "appservice-ping needs MX_AS_TOKEN" err
'

test_expect_success 'nothing listens: unreachable, exit 1' '
	test_expect_code 1 ping_as --appservice-ping telegram >out &&
	jq -e "[.appservice, .reachable, .errcode] ==
		[\"telegram\", false, \"M_CONNECTION_FAILED\"]" out
'

python3 listener.py "$as_port" >listener.up &
listener=$!
i=0
while [ ! -s listener.up ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
[ -s listener.up ] || setup_failed "start the appservice listener"

# reached ARGS...: a ping reaches the listener, within three tries:
# Synapse's client now and then fails a ping on a connection it reuses
# (M_CONNECTION_FAILED; matrix-org/synapse#15745), which is its answer
# and printed as such, but not what this test is about.
reached() {
	for _try in 1 2 3; do
		ping_as "$@" >out && return 0
		cat out
		sleep 1
	done
	return 1
}

test_expect_success 'a listener answers: reached, its round trip in ms' '
	reached --appservice-ping telegram &&
	jq -e ".appservice == \"telegram\" and .reachable == true and
		(.duration_ms | type) == \"number\"" out &&
	grep -q "^POST /_matrix/app/v1/ping\$" listener.log &&
	reached --table --appservice-ping telegram &&
	grep -qx "PASS appservice telegram: reached in [0-9]* ms" out ||
	{ cat out listener.log; exit 1; }
'

test_expect_success 'a token the homeserver does not know: 3; no token shown' '
	MX_HOMESERVER=$MX_TEST_HOMESERVER MX_ACCESS_TOKEN=$AS MX_AS_TOKEN=not-the-token \
		test_expect_code 3 mx-bridge-check -vv --appservice-ping telegram >out 2>err &&
	grep -qx "mx-bridge-check: cannot ping appservice .telegram.: the homeserver does not know MX_AS_TOKEN" err &&
	! grep -q "not-the-token" err && ! grep -q "$AS" err
'

test_expect_success 'a user token that is not the appservice'"'"'s: refused, 3' '
	register_user carol &&
	MX_HOMESERVER=$MX_TEST_HOMESERVER MX_ACCESS_TOKEN=$AS MX_AS_TOKEN=$carol_token \
		test_expect_code 3 mx-bridge-check --appservice-ping telegram >out 2>err &&
	grep -q "^mx-bridge-check: cannot ping appservice .telegram.: M_FORBIDDEN" err
'

test_done
