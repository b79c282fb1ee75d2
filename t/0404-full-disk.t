#!/bin/sh
# A full disk: the profile's store on a small tmpfs that is filled up.
# mx-send refuses (5) and sends nothing, in plain and encrypted rooms, since
# neither its pending transaction nor a Megolm index could be recorded;
# mx-sync prints but keeps its old position (5), so the next run prints the
# same events again and nothing is lost; a --download into a full
# directory says why in mx.file_error and leaves no partial file.
. "$(dirname "$0")/lib.sh"
need_homeserver
[ "$(id -u)" = 0 ] || skip_all "mounting a small tmpfs needs root"
mkdir -p small dl
mount -t tmpfs -o size=4m,mode=0700 tmpfs small 2>/dev/null ||
	skip_all "cannot mount a tmpfs here"
mount -t tmpfs -o size=64k tmpfs dl 2>/dev/null ||
	{ umount small; skip_all "cannot mount a tmpfs here"; }
trap 'umount small dl 2>/dev/null; stop_fake' EXIT

setup register_user alice
setup register_user bob
MX_DIR=$TRASH/small/mx setup login_profile alice
setup login_profile bob
plain=$(create_room "$alice_token") || setup_failed "a plain room"
enc=$(create_room "$alice_token" '{"initial_state":[{"type":"m.room.encryption","state_key":"","content":{"algorithm":"m.megolm.v1.aes-sha2"}}]}') ||
	setup_failed "an encrypted room"
for r in "$plain" "$enc"; do
	setup api "$alice_token" POST "/_matrix/client/v3/rooms/$(urlenc "$r")/invite" \
		"{\"user_id\":\"$bob_id\"}"
	setup api "$bob_token" POST "/_matrix/client/v3/join/$(urlenc "$r")" '{}'
done

# small_mx CMD...: run an mx command on alice's profile on the small disk.
small_mx() {
	MX_DIR=$TRASH/small/mx "$@"
}

# fill [nowal]: empty the store's WAL into the database, so the next
# commit needs new blocks (with nowal, leave no WAL or shared-memory file
# either, as after a clean close, so even opening the store needs blocks),
# then take every free block of the small disk.
fill() {
	python3 -c 'import sqlite3, sys
c = sqlite3.connect(sys.argv[1])
c.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()
c.close()' small/mx/alice/store.db &&
	{ [ "${1:-}" = nowal ] || small_mx mx-keys -p alice whoami >/dev/null; } &&
	{ dd if=/dev/zero of=small/fill bs=4k 2>/dev/null; :; } &&
	test "$(df -k small | awk 'NR == 2 { print $4 }')" = 0
}

# events_of USER_TOKEN ROOM TYPE: how many events of TYPE the room holds.
events_of() {
	api "$1" GET "/_matrix/client/v3/rooms/$(urlenc "$2")/messages?dir=b&limit=100" |
		jq --arg t "$3" '[.chunk[] | select(.type == $t)] | length'
}

test_expect_success 'set-up: both rooms work while there is room' '
	mx-sync -p bob >/dev/null &&
	small_mx mx-send -p alice "$plain" "plain before" >/dev/null &&
	small_mx mx-send -p alice "$enc" "encrypted before" >/dev/null &&
	small_mx mx-sync -p alice >/dev/null
'

test_expect_success 'full, no WAL yet: the store cannot open; exit 5 says why' '
	fill nowal &&
	n=$(events_of "$alice_token" "$plain" m.room.message) &&
	test_expect_code 5 small_mx mx-send -p alice "$plain" "plain during" \
		>out 2>err &&
	test ! -s out && test $(wc -l <err) = 1 &&
	grep -q "^mx-send: store .*(No space left on device)\$" err &&
	test "$(events_of "$alice_token" "$plain" m.room.message)" = "$n" &&
	rm small/fill
'

test_expect_success 'full: mx-send into a plain room exits 5, one line, sends nothing' '
	fill &&
	n=$(events_of "$alice_token" "$plain" m.room.message) &&
	test_expect_code 5 small_mx mx-send -p alice "$plain" "plain during" \
		>out 2>err &&
	test ! -s out && test $(wc -l <err) = 1 &&
	grep -q "^mx-send: .*disk is full" err &&
	test "$(events_of "$alice_token" "$plain" m.room.message)" = "$n"
'

test_expect_success 'full: mx-send into an encrypted room exits 5, sends nothing' '
	n=$(events_of "$alice_token" "$enc" m.room.encrypted) &&
	test_expect_code 5 small_mx mx-send -p alice "$enc" "encrypted during" \
		>out 2>err &&
	test ! -s out && test $(wc -l <err) = 1 &&
	grep -q "^mx-send: .*disk is full" err &&
	test "$(events_of "$alice_token" "$enc" m.room.encrypted)" = "$n"
'

test_expect_success 'full: mx-sync prints what is new but keeps its position (5)' '
	send_text "$bob_token" "$plain" "while full" >/dev/null &&
	test_expect_code 5 small_mx mx-sync -p alice >s1 2>err &&
	grep -q "^mx-sync: cannot store the sync position: .*disk is full" err &&
	jq -s -e "map(select(.content.body == \"while full\")) | length == 1" s1
'

test_expect_success 'space again: the same events come again, the sends go' '
	rm small/fill &&
	small_mx mx-sync -p alice >s2 &&
	jq -s -e "map(select(.content.body == \"while full\")) | length == 1" s2 &&
	small_mx mx-send -p alice "$plain" "plain after" >/dev/null &&
	small_mx mx-send -p alice "$enc" "encrypted after" >/dev/null &&
	mx-sync -p bob >b &&
	jq -s -e "map(.content.body) as \$b |
	    (\$b | index(\"plain after\")) and (\$b | index(\"encrypted after\"))
	    and ((\$b | index(\"plain during\")) | not)
	    and ((\$b | index(\"encrypted during\")) | not)" b &&
	jq -s -e "map(select(.content.body == \"encrypted after\")) |
	    length == 1 and all(.[]; .mx.decrypted)" b
'

test_expect_success 'a --download into a full directory: file_error says why, no file' '
	head -c 200000 /dev/urandom >big.bin &&
	small_mx mx-send -p alice --file big.bin "$plain" >/dev/null &&
	mx-sync -p bob --download dl >d &&
	jq -s -e "map(select(.content.body == \"big.bin\")) | length == 1 and
	    all(.[]; (.mx.file_error | test(\"No space left on device\")) and
	    (.mx.file == null))" d &&
	test -z "$(ls -A dl)"
'

test_done
