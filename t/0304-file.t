#!/bin/sh
# mx-send --file: upload round trip, msgtype by MIME type, image size.
. "${0%/*}/lib.sh"
need_homeserver
. "$MX_SRC/t/0300-send-lib.sh"

# download MXC: the media bytes, through the authenticated media API.
download() {
	_sp=${1#mxc://}
	api "$alice_token" GET "/_matrix/client/v1/media/download/$_sp"
}

test_expect_success 'set-up: files' '
	head -c 100000 /dev/urandom >blob.bin &&
	python3 -c "
import struct, zlib, sys
def chunk(t, d):
    return struct.pack(\">I\", len(d)) + t + d + struct.pack(\">I\", zlib.crc32(t + d))
raw = b\"\".join(b\"\\0\" + b\"\\xff\\0\\0\" * 7 for _ in range(3))
sys.stdout.buffer.write(b\"\\x89PNG\\r\\n\\x1a\\n\" + chunk(b\"IHDR\", struct.pack(\">IIBBBBB\", 7, 3, 8, 2, 0, 0, 0)) + chunk(b\"IDAT\", zlib.compress(raw)) + chunk(b\"IEND\", b\"\"))
" >red.png &&
	printf "GIF89a\005\000\011\000\200\000\000\000\000\000\377\377\377!\371\004\001\000\000\000\000,\000\000\000\000\005\000\011\000\000\002\002D\001\000;" >dot.gif &&
	echo "plain words" >notes.txt
'

test_expect_success 'a binary file: m.file, byte for byte' '
	mx-send -f blob.bin "$room" >out && eid=$(sent out) &&
	content "$eid" >c.json &&
	jq -c "[.msgtype, .body, .filename, .info.size, .info.mimetype]" c.json >got &&
	echo "[\"m.file\",\"blob.bin\",\"blob.bin\",100000,\"application/octet-stream\"]" >want &&
	test_cmp want got &&
	download "$(jq -r .url c.json)" >back && cmp blob.bin back
'

test_expect_success '--file - reads the file from stdin, byte for byte, named by --name' '
	mkdir tmpd &&
	TMPDIR=$PWD/tmpd mx-send -f - --name piped.bin "$room" <blob.bin >out &&
	eid=$(sent out) &&
	content "$eid" >c.json &&
	jq -c "[.msgtype, .body, .filename, .info.size]" c.json >got &&
	echo "[\"m.file\",\"piped.bin\",\"piped.bin\",100000]" >want &&
	test_cmp want got &&
	download "$(jq -r .url c.json)" >back && cmp blob.bin back &&
	test -z "$(ls tmpd)"
'

test_expect_success '--file - of a PNG: probed as an image' '
	mx-send -f - "$room" <red.png >out && eid=$(sent out) &&
	content "$eid" | jq -c "[.msgtype, .filename, .info.w, .info.h]" >got &&
	echo "[\"m.image\",\"file\",7,3]" >want && test_cmp want got
'

test_expect_success '--file PATH TEXT: TEXT is the caption, filename the name' '
	mx-send -f red.png "$room" look at this >out && eid=$(sent out) &&
	content "$eid" | jq -c "[.body, .filename]" >got &&
	echo "[\"look at this\",\"red.png\"]" >want && test_cmp want got
'

test_expect_success '--name without --file, or with a slash: 2' '
	test_expect_code 2 mx-send --name x "$room" hi 2>err &&
	test_expect_code 2 mx-send -f blob.bin --name a/b "$room" 2>err
'

test_expect_success 'a PNG: m.image with width and height' '
	mx-send --file ./red.png "$room" >out && eid=$(sent out) &&
	content "$eid" >c.json &&
	jq -c "[.msgtype, .body, .info.mimetype, .info.w, .info.h]" c.json >got &&
	echo "[\"m.image\",\"red.png\",\"image/png\",7,3]" >want &&
	test_cmp want got &&
	download "$(jq -r .url c.json)" >back && cmp red.png back
'

test_expect_success 'a GIF: m.image with width and height' '
	mx-send -f dot.gif "$room" >out && eid=$(sent out) &&
	content "$eid" | jq -c "[.msgtype, .info.mimetype, .info.w, .info.h]" >got &&
	echo "[\"m.image\",\"image/gif\",5,9]" >want && test_cmp want got
'

test_expect_success 'a text file as a reply' '
	mx-send "$room" question >out && q=$(sent out) &&
	mx-send -f notes.txt --reply-to "$q" "$room" >out && eid=$(sent out) &&
	content "$eid" | jq -c "[.msgtype, .info.mimetype, .\"m.relates_to\".\"m.in_reply_to\".event_id == \"$q\"]" >got &&
	echo "[\"m.file\",\"text/plain\",true]" >want && test_cmp want got
'

test_expect_success 'a missing file: 5, nothing sent' '
	n=$(count_messages) &&
	test_expect_code 5 mx-send -f nope.bin "$room" >out 2>err &&
	test ! -s out &&
	grep -qx "mx-send: cannot read '"'"'nope.bin'"'"': No such file or directory" err &&
	test "$(count_messages)" = "$n"
'

test_expect_success 'a file over the server limit is refused, nothing sent' '
	n=$(count_messages) &&
	max=$(api "$alice_token" GET /_matrix/client/v1/media/config | jq .\"m.upload.size\") &&
	truncate -s $((max + 1)) huge.bin &&
	test_expect_code 5 mx-send -f huge.bin "$room" >out 2>err &&
	test ! -s out &&
	grep -qx "mx-send: file too large ($((max + 1)) bytes; the server accepts $max)" err &&
	test "$(count_messages)" = "$n"
'

# The fake server (t/fakehs.py) accepts 1000 bytes and logs every request.
test_expect_success 'a file over the limit: the server is asked, never sent to' '
	start_fake ok &&
	head -c 1001 /dev/zero >over.bin &&
	MX_HOMESERVER=$FAKE test_expect_code 5 mx-send -f over.bin "!r:localhost" \
		>out 2>err &&
	test ! -s out &&
	echo "mx-send: file too large (1001 bytes; the server accepts 1000)" >want &&
	test_cmp want err &&
	grep "^GET /_matrix/media/v3/config\$" fake.log &&
	awk "!/^ / && !/^GET /" fake.log >sent && test ! -s sent
'

test_done
