#!/bin/sh
# mx-keys export and import: room keys carried to a new device in
# Element's key-export format (spec: Client-Server API, "Key exports"),
# and the verdict on what an imported key decrypts.
. "$(dirname "$0")/lib.sh"
need_homeserver

enc='{"initial_state":[{"type":"m.room.encryption","state_key":"","content":{"algorithm":"m.megolm.v1.aes-sha2"}}]}'
setup register_user alice
setup register_user bob
setup login_profile alice
setup login_profile bob
for n in 1 2; do
	r=$(create_room "$alice_token" "$enc") || setup_failed "encrypted room $n"
	setup api "$alice_token" POST "/_matrix/client/v3/rooms/$(urlenc "$r")/invite" \
		"{\"user_id\":\"$bob_id\"}"
	setup api "$bob_token" POST "/_matrix/client/v3/join/$(urlenc "$r")" '{}'
	eval "room$n=\$r"
done
setup mx-sync -p bob
setup mx-send -p alice "$room1" "secret one"
setup mx-send -p alice "$room2" "secret two"
setup mx-sync -p bob
printf 'correct horse battery\n' >pass
printf 'wrong horse\n' >badpass

# body ROOM_FILE_OF_SYNC TEXT JQ: the events whose body is TEXT match JQ.
said() {
	jq -s -e --arg t "$2" "map(select(.content.body == \$t)) | length == 1 and all(.[]; $3)" "$1"
}
undecrypted() {
	jq -s -e "any(.[]; .type == \"m.room.encrypted\" and .mx.decrypted == false and .mx.error == \"no key\")" "$1"
}

test_expect_success 'export -o: a new 0600 file, {"exported": N} on stdout' '
	mx-keys -p bob export --passphrase-file pass -o keys.txt >out &&
	jq -e ".exported == 2" out && test $(wc -l <out) = 1 &&
	test "$(stat -c %a keys.txt)" = 600 &&
	head -1 keys.txt | grep -qx -- "-----BEGIN MEGOLM SESSION DATA-----" &&
	tail -1 keys.txt | grep -qx -- "-----END MEGOLM SESSION DATA-----" &&
	! ls keys.txt.* 2>/dev/null
'

test_expect_success 'export -o refuses to overwrite a file: 5, file kept' '
	cp keys.txt keep.txt &&
	test_expect_code 5 mx-keys -p bob export --passphrase-file pass -o keys.txt >out 2>err &&
	test ! -s out && grep -qx "mx-keys: .keys.txt. exists; not overwriting it" err &&
	cmp keys.txt keep.txt
'

test_expect_success 'export --room: only that room, to stdout; -v counts' '
	mx-keys -p bob -v export --room "$room1" --passphrase-file pass >room1.txt 2>err &&
	head -1 room1.txt | grep -q "BEGIN MEGOLM SESSION DATA" &&
	grep -q "exported 1 room key" err
'

test_expect_success 'a new device of bob cannot read the history' '
	printf "%s\n" "$bob_pw" | mx-keys -p bob2 login --homeserver "$MX_TEST_HOMESERVER" -u "$bob_id" --password-stdin >/dev/null &&
	mx-sync -p bob2 --history "$room1" >s1 && undecrypted s1 &&
	! grep -q "secret one" s1
'

test_expect_success 'a wrong passphrase: 1, one line, nothing stored' '
	test_expect_code 1 mx-keys -p bob2 import --passphrase-file badpass keys.txt >out 2>err &&
	test ! -s out && test $(wc -l <err) = 1 &&
	grep -qx "mx-keys: .keys.txt.: wrong passphrase, or the file is damaged" err &&
	mx-sync -p bob2 --history "$room1" >s1 && undecrypted s1
'

test_expect_success 'import of the --room export (stdin): that room decrypts, unauthenticated' '
	mx-keys -p bob2 import --passphrase-file pass - <room1.txt >out &&
	test "$(cat out)" = "{\"imported\":1,\"improved\":0,\"skipped\":0}" &&
	mx-sync -p bob2 --history "$room1" >s1 &&
	said s1 "secret one" ".mx.decrypted and .mx.key_source == \"imported\" and .mx.trust == \"unauthenticated\"" &&
	mx-sync -p bob2 --history "$room2" >s2 && undecrypted s2
'

test_expect_success 'import of the whole export: the other room comes, the held one skipped' '
	mx-keys -p bob2 import --passphrase-file pass keys.txt >out &&
	test "$(cat out)" = "{\"imported\":1,\"improved\":0,\"skipped\":1}" &&
	mx-sync -p bob2 --history "$room2" >s2 &&
	said s2 "secret two" ".mx.decrypted and .mx.key_source == \"imported\" and .mx.trust == \"unauthenticated\""
'

test_expect_success 're-import skips everything' '
	mx-keys -p bob2 import --passphrase-file pass keys.txt >out &&
	test "$(cat out)" = "{\"imported\":0,\"improved\":0,\"skipped\":2}"
'

test_expect_success 'import from a named pipe (the file is read twice: from a copy)' '
	mkfifo fifo && { cat keys.txt >fifo & } &&
	mx-keys -p bob2 import --passphrase-file pass fifo >out &&
	test "$(cat out)" = "{\"imported\":0,\"improved\":0,\"skipped\":2}"
'

test_expect_success 'keys from the sender over Olm keep their source and trust' '
	mx-sync -p bob --history "$room1" >b1 &&
	said b1 "secret one" ".mx.decrypted and .mx.key_source == \"olm\" and .mx.trust == \"tofu\""
'

test_expect_success 'an export asking for too many PBKDF2 rounds: 5 at once' '
	python3 - keys.txt >many.txt <<-\EOP &&
	import base64, sys
	lines = open(sys.argv[1]).read().split("\n")
	raw = bytearray(base64.b64decode("".join(lines[1:-2])))
	raw[33:37] = (0xffffffff).to_bytes(4, "big")
	print(lines[0]); print(base64.b64encode(bytes(raw)).decode()); print(lines[-2])
	EOP
	test_expect_code 5 mx-keys -p bob2 import --passphrase-file pass many.txt >out 2>err &&
	test ! -s out && test $(wc -l <err) = 1 &&
	grep -q "^mx-keys: .many.txt. asks for 4294967295 PBKDF2 rounds (at most 500000); refused\$" err
'

test_expect_success 'not an export file: 5' '
	echo hello >junk.txt &&
	test_expect_code 5 mx-keys -p bob2 import --passphrase-file pass junk.txt 2>err &&
	test $(wc -l <err) = 1
'

test_expect_success 'usage: -o and --room are for export' '
	test_expect_code 2 mx-keys -p bob whoami -o x 2>/dev/null &&
	test_expect_code 2 mx-keys -p bob import 2>/dev/null &&
	test_expect_code 2 mx-keys -p bob import --room "$room1" keys.txt 2>/dev/null
'

test_done
