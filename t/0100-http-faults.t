#!/bin/sh
# http and api against the fault-injecting fake server (t/fakehs.py),
# driven by t/unit/httpdrv: retries, 429 waits, exit statuses, the exact
# requests sent, the http:// rule and the redacted trace.
. "$(dirname "$0")/lib.sh"

DRV=$MX_SRC/t/unit/httpdrv.t
[ -x "$DRV" ] || skip_all "t/unit/httpdrv.t not built (make t/unit/httpdrv.t)"
command -v python3 >/dev/null || skip_all "no python3"

# requests: the request lines the fake received
requests() {
	grep -v '^ ' fake.log
}
# expect_requests N
expect_requests() {
	_n=$(requests | wc -l)
	[ "$_n" -eq "$1" ] && return 0
	echo "expected $1 requests, got $_n:" >&2
	requests >&2
	return 1
}
now_ms() {
	echo $(($(date +%s%N) / 1000000))
}
# drv ARGS: the driver with a token, stdout to out, stderr to err
drv() {
	MX_ACCESS_TOKEN=syt_secret_token_42 "$DRV" "$@" >out 2>err
}

ROOM='!room:example.org'
MSG='{"msgtype":"m.text","body":"hi"}'
SEND_PATH=/_matrix/client/v3/rooms/%21room%3Aexample.org/send/m.room.message/txn1

test_expect_success '429: waits retry_after_ms, then sends once more' '
	start_fake 429 --count 2 --retry-after-ms 400 &&
	t0=$(now_ms) &&
	drv "$FAKE" send "$ROOM" m.room.message txn1 "$MSG" &&
	t1=$(now_ms) &&
	echo "\$ev1" >expect && test_cmp expect out &&
	expect_requests 3 &&
	test $((t1 - t0)) -ge 800
'

test_expect_success 'every retry repeats the same URL, room id encoded' '
	requests | sort -u >actual &&
	echo "PUT $SEND_PATH" >expect &&
	test_cmp expect actual
'

test_expect_success 'the token travels in the Authorization header only' '
	test $(grep -c "^  Authorization: Bearer <token>" fake.log) -eq 3 &&
	! grep access_token fake.log
'

test_expect_success '429 for ever: exit 4 after the retries' '
	start_fake always-429 --retry-after-ms 10 &&
	test_expect_code 4 drv -r 2 "$FAKE" send "$ROOM" m.room.message txn1 "$MSG" &&
	expect_requests 3 &&
	grep "M_LIMIT_EXCEEDED: Too Many Requests" err &&
	grep "http=429" err
'

test_expect_success '429 is retried even when not idempotent (POST)' '
	start_fake 429 --count 1 --retry-after-ms 10 &&
	drv "$FAKE" create "{}" &&
	expect_requests 2
'

test_expect_success 'Retry-After header honoured when the body has none' '
	start_fake retry-after-header &&
	t0=$(now_ms) &&
	drv "$FAKE" whoami &&
	t1=$(now_ms) &&
	expect_requests 2 &&
	test $((t1 - t0)) -ge 1000
'

test_expect_success '-v reports the 429 wait' '
	start_fake 429 --count 1 --retry-after-ms 10 &&
	drv -v 1 "$FAKE" whoami &&
	grep "^httpdrv: rate limited (429); waiting 10 ms$" err
'

test_expect_success '500 twice then 200: idempotent request succeeds' '
	start_fake 500 --count 2 &&
	drv "$FAKE" send "$ROOM" m.room.message txn1 "$MSG" &&
	echo "\$ev1" >expect && test_cmp expect out &&
	expect_requests 3 &&
	requests | sort -u | wc -l >n && echo 1 >one && test_cmp one n
'

test_expect_success '500 on a POST without txn id: no retry, exit 4' '
	start_fake 500 --count 2 &&
	test_expect_code 4 drv "$FAKE" create "{}" &&
	expect_requests 1 &&
	grep "M_UNKNOWN: Internal error" err
'

test_expect_success 'always 500: exit 4 after max_retries' '
	start_fake always-500 &&
	test_expect_code 4 drv -r 3 "$FAKE" whoami &&
	expect_requests 4
'

test_expect_success 'backoff grows: 3 retries take at least 250+500+1000 ms' '
	start_fake always-500 &&
	t0=$(now_ms) &&
	test_expect_code 4 drv -r 3 "$FAKE" whoami &&
	t1=$(now_ms) &&
	test $((t1 - t0)) -ge 1750
'

test_expect_success '-r -1: no retry at all' '
	start_fake always-500 &&
	test_expect_code 4 drv -r -1 "$FAKE" whoami &&
	expect_requests 1
'

test_expect_success 'truncated JSON in a 200: exit 4, clear message' '
	start_fake truncated --count 1 &&
	test_expect_code 4 drv "$FAKE" send "$ROOM" m.room.message txn1 "$MSG" &&
	grep "malformed answer from the server (HTTP 200)" err &&
	expect_requests 1
'

test_expect_success 'malformed (not JSON) 200: exit 4' '
	start_fake malformed --count 1 &&
	test_expect_code 4 drv "$FAKE" whoami &&
	grep "malformed answer from the server" err
'

test_expect_success 'slow server: timeout, retried, exit 4' '
	start_fake slow --delay 2 &&
	test_expect_code 4 drv -t 300 -r 1 "$FAKE" whoami &&
	expect_requests 2 &&
	grep -i "timeout\|timed out" err
'

test_expect_success 'dropped connection: idempotent request retried' '
	start_fake drop --count 1 &&
	drv "$FAKE" whoami &&
	expect_requests 2 &&
	grep "^@fake:localhost FAKEDEV$" out
'

test_expect_success 'dropped connection on a POST: not repeated, exit 4' '
	start_fake drop --count 1 &&
	test_expect_code 4 drv "$FAKE" create "{}" &&
	expect_requests 1
'

test_expect_success '404 with errcode: exit 3, errcode message, alias encoded' '
	start_fake 404-json &&
	test_expect_code 3 drv "$FAKE" resolve "#ops:example.org" &&
	echo "httpdrv: M_NOT_FOUND: Room not found [http=404 errcode=M_NOT_FOUND]" >expect &&
	test_cmp expect err &&
	echo "GET /_matrix/client/v3/directory/room/%23ops%3Aexample.org" >expect &&
	requests >actual && test_cmp expect actual
'

test_expect_success '404 without JSON: exit 3, "HTTP 404"' '
	start_fake 404-plain &&
	test_expect_code 3 drv "$FAKE" whoami &&
	grep "^httpdrv: HTTP 404 \[http=404 errcode=-\]$" err
'

test_expect_success '403: exit 3, M_FORBIDDEN, no retry' '
	start_fake 403 &&
	test_expect_code 3 drv "$FAKE" send "$ROOM" m.room.message txn1 "$MSG" &&
	grep "M_FORBIDDEN: not in room" err &&
	expect_requests 1
'

test_expect_success 'state event absent (M_NOT_FOUND) is not an error' '
	start_fake 404-json &&
	drv "$FAKE" state "$ROOM" m.room.topic "" &&
	echo "not found" >expect && test_cmp expect out &&
	echo "GET /_matrix/client/v3/rooms/%21room%3Aexample.org/state/m.room.topic/" >expect &&
	requests >actual && test_cmp expect actual
'

test_expect_success 'network error: exit 4' '
	start_fake ok && stop_fake &&
	test_expect_code 4 drv -r 1 "$FAKE" whoami
'

test_expect_success 'plain http:// to a non-loopback host: exit 2' '
	test_expect_code 2 drv http://example.org whoami &&
	grep "refusing plain http:// to non-loopback host .example.org.; use https or --insecure-http" err
'

test_expect_success 'plain http:// to localhost is allowed' '
	start_fake ok &&
	drv "http://localhost:$FAKE_PORT" whoami &&
	echo "@fake:localhost FAKEDEV" >expect && test_cmp expect out &&
	expect_requests 1
'

test_expect_success '--insecure-http lifts the rule' '
	test_expect_code 4 drv -k -r -1 -c 200 http://mx-test.invalid whoami &&
	! grep refusing err
'

test_expect_success 'sync: since, inline filter and timeout URL-encoded' '
	start_fake ok &&
	drv "$FAKE" sync "s 1" 30000 "{\"room\":{}}" &&
	echo "GET /_matrix/client/v3/sync?timeout=30000&since=s%201&filter=%7B%22room%22%3A%7B%7D%7D" >expect &&
	requests >actual && test_cmp expect actual
'

test_expect_success 'messages: query parameters' '
	start_fake ok &&
	drv "$FAKE" messages "$ROOM" b 50 "t/1" &&
	echo "GET /_matrix/client/v3/rooms/%21room%3Aexample.org/messages?dir=b&limit=50&from=t%2F1" >expect &&
	requests >actual && test_cmp expect actual
'

# --- trace -----------------------------------------------------------------

test_expect_success '-vv traces requests and never shows the token' '
	start_fake 500 --count 1 &&
	drv -v 2 "$FAKE" send "$ROOM" m.room.message txn1 "$MSG" &&
	grep "^httpdrv: > PUT $FAKE$SEND_PATH$" err &&
	grep "^httpdrv: < 500 ([0-9]* ms, [0-9]* bytes)$" err &&
	grep "^httpdrv: < 200 ([0-9]* ms, [0-9]* bytes)$" err &&
	! grep syt_secret_token_42 err
'

test_expect_success '-vvv shows bodies with password and tokens redacted' '
	start_fake ok &&
	echo "hunter2-pw" | drv -v 3 "$FAKE" login "@u:localhost" &&
	grep "\"password\": \"<redacted>\"" err &&
	grep "\"access_token\": \"<redacted>\"" err &&
	! grep hunter2-pw err &&
	! grep syt_fake_secret_token err &&
	! grep syt_secret_token_42 err &&
	grep syt_fake_secret_token out
'

test_expect_success 'access_token in a URL is redacted in the trace' '
	start_fake ok &&
	drv -v 2 "$FAKE" call GET "/_matrix/client/v3/sync?access_token=syt_secret_token_42" &&
	grep "access_token=<redacted>" err &&
	! grep syt_secret_token_42 err
'

# --- discovery -------------------------------------------------------------

test_expect_success 'discover: .well-known base_url, trailing / stripped' '
	start_fake well-known &&
	drv "-" discover "127.0.0.1:$FAKE_PORT" &&
	echo "$FAKE" >expect && test_cmp expect out &&
	printf "%s\n" "GET /.well-known/matrix/client" \
		"GET /_matrix/client/versions" >expect &&
	requests >actual && test_cmp expect actual
'

test_expect_success 'discover: no .well-known (404) -> the server name' '
	start_fake ok &&
	drv "-" discover "localhost:$FAKE_PORT" &&
	echo "http://localhost:$FAKE_PORT" >expect && test_cmp expect out
'

test_expect_success 'discover: .well-known without m.homeserver fails' '
	start_fake well-known-bad &&
	test_must_fail drv "-" discover "127.0.0.1:$FAKE_PORT" &&
	grep "m.homeserver" err
'

# --- media -----------------------------------------------------------------

test_expect_success 'upload retried after 500 (body rewound), round trip' '
	head -c 100000 /dev/urandom >blob &&
	start_fake 500 --count 2 &&
	drv "$FAKE" upload blob application/octet-stream "a b.bin" &&
	mxc=$(cat out) &&
	test "$mxc" = mxc://localhost/m1 &&
	test $(grep -c "^  \[body 100000 bytes\]" fake.log) -eq 3 &&
	grep "^POST /_matrix/media/v3/upload?filename=a%20b.bin$" fake.log &&
	drv "$FAKE" download "$mxc" got &&
	cmp blob got
'

test_expect_success 'download without v1.11: /_matrix/media/v3/download' '
	requests | tail -1 >actual &&
	echo "GET /_matrix/media/v3/download/localhost/m1" >expect &&
	test_cmp expect actual
'

test_expect_success 'download with v1.11: authenticated /client/v1/media' '
	start_fake ok --media-v1 &&
	drv "$FAKE" upload blob application/octet-stream b.bin &&
	drv "$FAKE" download mxc://localhost/m1 got &&
	cmp blob got &&
	requests | tail -1 >actual &&
	echo "GET /_matrix/client/v1/media/download/localhost/m1" >expect &&
	test_cmp expect actual &&
	test $(requests | grep -c versions) -eq 1
'

test_expect_success 'download cut short: retried, file rewound, same bytes' '
	start_fake partial-download --count 2 &&
	drv "$FAKE" upload blob application/octet-stream b.bin &&
	drv "$FAKE" download mxc://localhost/m1 got &&
	cmp blob got &&
	test $(requests | grep -c /download/) -eq 3
'

test_expect_success 'download cut short into a pipe: no retry, exit 4' '
	start_fake partial-download --count 1 &&
	drv "$FAKE" upload blob application/octet-stream b.bin &&
	{ MX_ACCESS_TOKEN=x "$DRV" "$FAKE" download mxc://localhost/m1 - 2>err;
	  echo $? >status; } | cat >/dev/null &&
	echo 4 >expect && test_cmp expect status &&
	test $(requests | grep -c /download/) -eq 1
'

test_expect_success 'download of unknown media: exit 3, no file content' '
	start_fake ok &&
	test_expect_code 3 drv "$FAKE" download mxc://localhost/nope got2 &&
	test ! -s got2
'

test_expect_success 'media config: m.upload.size' '
	start_fake ok &&
	drv "$FAKE" mediaconfig &&
	echo 1000 >expect && test_cmp expect out &&
	requests | tail -1 >actual &&
	echo "GET /_matrix/media/v3/config" >expect && test_cmp expect actual
'

test_expect_success 'invalid content URI: exit 5, saying so, nothing asked' '
	start_fake ok &&
	test_expect_code 5 drv "$FAKE" download "https://x/y" got3 &&
	q="'"'"'" &&
	echo "httpdrv: invalid content URI ${q}https://x/y$q [http=0 errcode=-]" >expect &&
	test_cmp expect err && expect_requests 0
'

# A hostile homeserver (t/fakehs.py's hostile scenarios): nothing it sends
# makes mx read without end.
for uri in "mxc://../.." "mxc://h/.." "mxc://h/a%2F..%2F" "mxc://h/a/b" \
	"mxc://h:123456/a" "mxc://[::1/a" "mxc://-h/a" "mxc://h/a?b"; do
	test_expect_success "a crafted content URI $uri: refused, nothing asked" '
		start_fake ok &&
		test_expect_code 5 drv "$FAKE" download "$uri" got4 &&
		grep -q "invalid content URI" err && expect_requests 0
	'
done

test_expect_success 'a content URI by the grammar: [IPv6]:port is fetched' '
	start_fake ok &&
	test_expect_code 3 drv "$FAKE" download "mxc://[::1]:8448/abc_-9" got5 &&
	requests | tail -1 >actual &&
	echo "GET /_matrix/media/v3/download/%5B%3A%3A1%5D%3A8448/abc_-9" >expect &&
	test_cmp expect actual
'

for s in endless gzip-bomb huge-length; do
	test_expect_success "$s body: cut off at the cap, exit 3, no retry" '
		start_fake '$s' &&
		test_expect_code 3 drv "$FAKE" sync &&
		grep -q "the answer is larger than 268435456 bytes" err &&
		expect_requests 1
	'
done

test_expect_success 'loopback: never through http_proxy (the token would cross it)' '
	start_fake ok &&
	http_proxy=http://127.0.0.1:9 HTTP_PROXY=http://127.0.0.1:9 \
		ALL_PROXY=http://127.0.0.1:9 drv "$FAKE" whoami &&
	grep -q "^GET /_matrix/client/v3/account/whoami" fake.log
'

stop_fake
test_done
