#!/bin/sh
# mx-send: text, formats, the output line, usage errors and exit statuses.
. "${0%/*}/lib.sh"
need_homeserver
. "$MX_SRC/t/0300-send-lib.sh"

test_expect_success 'text from arguments, joined by spaces' '
	mx-send "$room" hello  world >out &&
	eid=$(sent out) &&
	content "$eid" >got &&
	echo "{\"body\":\"hello world\",\"msgtype\":\"m.text\"}" >want &&
	test_cmp want got
'

test_expect_success 'whole stdin as one message' '
	printf "one\ntwo\n" | mx-send "$room" >out &&
	eid=$(sent out) &&
	content "$eid" | jq -r .body >got &&
	printf "one\ntwo\n" >want && test_cmp want got
'

test_expect_success 'markdown: exact formatted_body' '
	mx-send -m "$room" "**bold** and \`code\` <b>raw</b>" >out &&
	eid=$(sent out) && content "$eid" >got &&
	cat >want <<-\EOT &&
	{"body":"**bold** and `code` <b>raw</b>","format":"org.matrix.custom.html","formatted_body":"<strong>bold</strong> and <code>code</code> <!-- raw HTML omitted -->raw<!-- raw HTML omitted -->","msgtype":"m.text"}
	EOT
	test_cmp want got
'

test_expect_success 'markdown without markup is plain text' '
	mx-send --markdown "$room" "just words" >out &&
	eid=$(sent out) && content "$eid" >got &&
	echo "{\"body\":\"just words\",\"msgtype\":\"m.text\"}" >want &&
	test_cmp want got
'

test_expect_success 'markdown list' '
	printf "* a\n* b\n" | mx-send -m "$room" >out &&
	eid=$(sent out) && content "$eid" | jq -r .formatted_body >got &&
	printf "<ul>\n<li>a</li>\n<li>b</li>\n</ul>\n" >want && test_cmp want got
'

test_expect_success 'html: body is the text rendering' '
	mx-send --html "$room" "<p>a &amp; <b>b</b></p><p>c</p>" >out &&
	eid=$(sent out) && content "$eid" >got &&
	cat >want <<-\EOT &&
	{"body":"a & b\nc","format":"org.matrix.custom.html","formatted_body":"<p>a &amp; <b>b</b></p><p>c</p>","msgtype":"m.text"}
	EOT
	test_cmp want got
'

test_expect_success 'notice and emote' '
	mx-send -n "$room" beep >out && eid=$(sent out) &&
	content "$eid" | jq -r .msgtype >got &&
	mx-send --emote "$room" waves >out && eid=$(sent out) &&
	content "$eid" | jq -r .msgtype >>got &&
	printf "m.notice\nm.emote\n" >want && test_cmp want got
'

test_expect_success 'code block with language, escaped' '
	mx-send --code c "$room" "if (a < b) return;" >out &&
	eid=$(sent out) && content "$eid" >got &&
	cat >want <<-\EOT &&
	{"body":"if (a < b) return;","format":"org.matrix.custom.html","formatted_body":"<pre><code class=\"language-c\">if (a &lt; b) return;</code></pre>","msgtype":"m.text"}
	EOT
	test_cmp want got
'

test_expect_success 'non-ASCII text arrives as is' '
	mx-send "$room" "héllo ✓" >out && eid=$(sent out) &&
	content "$eid" | jq -r .body >got &&
	echo "héllo ✓" >want && test_cmp want got
'

test_expect_success 'txn ids differ between sends' '
	mx-send "$room" a >o1 && mx-send "$room" a >o2 &&
	test "$(jq -r .txn_id o1)" != "$(jq -r .txn_id o2)" &&
	test "$(jq -r .event_id o1)" != "$(jq -r .event_id o2)"
'

for args in '--html -m R x' '--code c --html R x' '-n -e R x' \
    '-f /etc/hostname -n R x' '--redact e R x' '--reason r R x' \
    '--json R x' '--lines R x' '--react e --redact e R x' \
    '--edit e --reply-to e R x' '--react e --thread e R x' ''; do
	test_expect_success "usage error: mx-send $args" "
		test_expect_code 2 mx-send $args >out 2>err &&
		test ! -s out && grep -q '^mx-send: ' err &&
		grep -q '^usage: mx-send' err
	"
done

test_expect_success 'empty message is a usage error' '
	test_expect_code 2 mx-send "$room" "" </dev/null >out 2>err &&
	printf "" | test_expect_code 2 mx-send "$room" >>out 2>>err &&
	test ! -s out && grep -qx "mx-send: empty message" err
'

test_expect_success 'stdin that is not UTF-8 is refused before sending (5)' '
	n=$(count_messages) &&
	printf "caf\351\n" >latin1 &&
	test_expect_code 5 mx-send "$room" <latin1 >out 2>err &&
	printf "a\000b" | test_expect_code 5 mx-send "$room" >>out 2>>err &&
	test ! -s out && test $(wc -l <err) = 2 &&
	test $(grep -cx "mx-send: the message is not UTF-8 text (a NUL byte or an invalid sequence)" err) = 2 &&
	test "$(count_messages)" = "$n"
'

test_expect_success 'operands and option values that are not UTF-8: usage error' '
	n=$(count_messages) &&
	test_expect_code 2 mx-send "$room" "$(cat latin1)" >out 2>err &&
	grep -qx "mx-send: operand 2: not UTF-8 text" err &&
	test_expect_code 2 mx-send --redact "\$e" --reason "$(cat latin1)" \
		"$room" >>out 2>err &&
	grep -qx "mx-send: option '"'"'--reason'"'"': not UTF-8 text" err &&
	cp /etc/hostname "$(cat latin1).txt" &&
	test_expect_code 2 mx-send --file "$(cat latin1).txt" "$room" \
		>>out 2>err &&
	grep -qx "mx-send: --file: the name, sent as the body, is not UTF-8 text" err &&
	test_expect_code 2 mx-sync --types "$(cat latin1)" >>out 2>err &&
	grep -qx "mx-sync: option '"'"'--types'"'"': not UTF-8 text" err &&
	test ! -s out && test "$(count_messages)" = "$n"
'

test_expect_success 'not a room argument: usage error' '
	test_expect_code 2 mx-send nonsense hi 2>err &&
	grep -qx "mx-send: '"'"'nonsense'"'"' is not a room ID, alias or user ID" err
'

test_expect_success 'oversized message refused before sending (5)' '
	head -c 70000 /dev/zero | tr "\0" a >big &&
	test_expect_code 5 mx-send "$room" <big >out 2>err &&
	test ! -s out &&
	grep -qE "^mx-send: message too large \([0-9]+ bytes; the limit is 65536\)$" err &&
	last_body >got && ! grep -q aaaa got
'

test_expect_success 'a message just under the limit is sent' '
	head -c 60000 /dev/zero | tr "\0" b >big &&
	mx-send "$room" <big >out && eid=$(sent out) &&
	content "$eid" | jq -r ".body | length" >got &&
	echo 60000 >want && test_cmp want got
'

test_expect_success 'not in the room: 3' '
	other=$(create_room "$bob_token") &&
	test_expect_code 3 mx-send "$other" hi >out 2>err &&
	test ! -s out && grep -q "^mx-send: cannot send to .*M_FORBIDDEN" err
'

test_expect_success 'unknown alias: 3' '
	test_expect_code 3 mx-send "#nope-$$:$MX_TEST_SERVER_NAME" hi >out 2>err &&
	test ! -s out &&
	grep -qx "mx-send: unknown alias '"'"'#nope-$$:$MX_TEST_SERVER_NAME'"'"'" err
'

test_expect_success 'dead port: 4' '
	port=$(python3 -c "import socket; s=socket.socket(); s.bind((\"127.0.0.1\",0)); print(s.getsockname()[1])") &&
	MX_HOMESERVER=http://127.0.0.1:$port test_expect_code 4 mx-send "$room" hi >out 2>err &&
	test ! -s out && grep -q "^mx-send: " err
'

test_expect_success 'bad token: 3' '
	MX_ACCESS_TOKEN=nope test_expect_code 3 mx-send "$room" hi >out 2>err &&
	test ! -s out && grep -q "M_UNKNOWN_TOKEN" err
'

test_done
