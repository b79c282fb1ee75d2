#!/bin/sh
# mx-send --json: JSON Lines of contents or {type, content}.
. "${0%/*}/lib.sh"
need_homeserver
. "$MX_SRC/t/0300-send-lib.sh"

test_expect_success 'contents and typed events, one send per line' '
	cat >in <<-\EOT &&
	{"msgtype":"m.text","body":"j1"}

	{"type":"org.example.custom","content":{"x":1}}
	{"msgtype":"m.notice","body":"j3"}
	EOT
	mx-send --json "$room" <in >out &&
	test $(wc -l <out) = 3 &&
	for i in 1 2 3; do sed -n ${i}p out >l$i && sent l$i >id$i || exit 1; done &&
	{ event $(cat id1) && event $(cat id2) && event $(cat id3); } |
		jq -cS "[.type, .content]" >got &&
	cat >want <<-\EOT &&
	["m.room.message",{"body":"j1","msgtype":"m.text"}]
	["org.example.custom",{"x":1}]
	["m.room.message",{"body":"j3","msgtype":"m.notice"}]
	EOT
	test_cmp want got
'

test_expect_success 'a malformed line: 5, naming it; lines before sent' '
	printf "%s\n" "{\"msgtype\":\"m.text\",\"body\":\"ok1\"}" \
	    "{\"msgtype\":\"m.text\",\"body\":\"ok2\"}" "{nope" \
	    "{\"msgtype\":\"m.text\",\"body\":\"never\"}" >in &&
	test_expect_code 5 mx-send --json "$room" <in >out 2>err &&
	test $(wc -l <out) = 2 &&
	test $(wc -l <err) = 1 && grep -q "^mx-send: stdin line 3: " err &&
	last_body >got && echo ok2 >want && test_cmp want got
'

test_expect_success 'a line that is not an object: 5' '
	echo "[1,2]" | test_expect_code 5 mx-send --json "$room" >out 2>err &&
	test ! -s out &&
	grep -qx "mx-send: stdin line 1: not a JSON object" err
'

test_done
