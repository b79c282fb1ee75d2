#!/bin/sh
# mx to mx in an encrypted room: mx-send encrypts, mx-sync decrypts, both
# ways, with the verdict under "mx".
. "$(dirname "$0")/lib.sh"
need_homeserver

setup register_user alice
setup register_user bob
setup login_profile alice
setup login_profile bob
room=$(create_room "$alice_token" '{"initial_state":[{"type":"m.room.encryption","state_key":"","content":{"algorithm":"m.megolm.v1.aes-sha2"}}]}') ||
	setup_failed "an encrypted room"
setup api "$alice_token" POST "/_matrix/client/v3/rooms/$(urlenc "$room")/invite" \
	"{\"user_id\":\"$bob_id\"}"
setup api "$bob_token" POST "/_matrix/client/v3/join/$(urlenc "$room")" '{}'

test_expect_success 'mx-send encrypts into an encrypted room' '
	mx-sync -p bob >/dev/null &&
	mx-send -p alice "$room" "hello encrypted" >out &&
	eid=$(jq -r .event_id out) &&
	api "$bob_token" GET "/_matrix/client/v3/rooms/$(urlenc "$room")/event/$(urlenc "$eid")" >raw &&
	jq -e ".type == \"m.room.encrypted\" and .content.algorithm == \"m.megolm.v1.aes-sha2\"" raw
'

test_expect_success 'mx-sync decrypts it, with a verdict' '
	mx-sync -p bob "$room" >sync &&
	jq -s -e "map(select(.content.body == \"hello encrypted\")) | length == 1 and all(.[]; .type == \"m.room.message\" and .mx.decrypted and .mx.encrypted and .mx.trust == \"tofu\" and .mx.session_id != null)" sync
'

test_expect_success 'the other way round' '
	mx-send -p bob "$room" "reply from bob" >/dev/null &&
	mx-sync -p alice "$room" >sync2 &&
	jq -s -e "map(select(.content.body == \"reply from bob\")) | length > 0 and all(.[]; .mx.decrypted)" sync2
'

test_expect_success 'a 50 KB message fits in the clear, not encrypted: 5, nothing sent' '
	head -c 50000 /dev/zero | tr "\\0" x >big.txt &&
	before=$(api "$alice_token" GET "/_matrix/client/v3/rooms/$(urlenc "$room")/messages?dir=b&limit=1" | jq -r ".chunk[0].event_id") &&
	test_expect_code 5 mx-send -p alice "$room" <big.txt >out 2>err &&
	test ! -s out &&
	grep -q "^mx-send: message too large ([0-9]* bytes encrypted; the limit is 65536)" err &&
	after=$(api "$alice_token" GET "/_matrix/client/v3/rooms/$(urlenc "$room")/messages?dir=b&limit=1" | jq -r ".chunk[0].event_id") &&
	test "$before" = "$after"
'

test_expect_success 'a 45 KB message is under the limit encrypted: sent' '
	head -c 45000 /dev/zero | tr "\\0" y >mid.txt &&
	mx-send -p alice "$room" <mid.txt >out &&
	jq -e ".event_id" out
'

test_expect_success 'the sender reads its own messages, as itself' '
	mx-sync -p alice --limit 20 "$room" >own &&
	jq -s -e "map(select(.content.body == \"hello encrypted\")) | length == 1 and all(.[]; .mx.decrypted and .mx.trust == \"verified\")" own
'

test_expect_success 'mx-keys devices lists the other side with pinned keys' '
	mx-keys -p bob devices "$alice_id" >devs &&
	test $(wc -l <devs) = 1 &&
	jq -e ".trust == \"tofu\" and (.ed25519 | length) == 43" devs
'

test_expect_success 'mx-keys trust refuses a wrong fingerprint (1)' '
	dev=$(jq -r .device_id devs) &&
	test_expect_code 1 mx-keys -p bob trust "$alice_id" "$dev" AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA 2>err &&
	grep -q "^mx-keys: the Ed25519 key of" err &&
	! grep -qF "$(jq -r .ed25519 devs)" err
'

test_expect_success 'mx-keys devices of a user who does not exist: exit 3' '
	test_expect_code 3 mx-keys -p bob devices "@nobody:$MX_TEST_SERVER_NAME" >out 2>err &&
	test ! -s out &&
	grep -qx "mx-keys: unknown user .@nobody:$MX_TEST_SERVER_NAME." err
'

test_expect_success 'mx-keys trust marks it verified; mx-sync says so' '
	dev=$(jq -r .device_id devs) &&
	mx-keys -p bob trust "$alice_id" "$dev" "$(jq -r .ed25519 devs)" >out &&
	jq -e ".trust == \"verified\"" out &&
	mx-send -p alice "$room" "now verified" >/dev/null &&
	mx-sync -p bob "$room" >sync3 &&
	jq -s -e "map(select(.content.body == \"now verified\")) | length > 0 and all(.[]; .mx.trust == \"verified\")" sync3
'

test_expect_success '--trust verified withholds from an unverified device' '
	mx-send -p alice --trust verified "$room" "for verified eyes" >/dev/null &&
	mx-sync -p bob "$room" >sync4 &&
	jq -s -e "map(select(.type == \"m.room.encrypted\")) | length > 0 and all(.[]; (.mx.decrypted | not) and .mx.error == \"withheld: m.unverified\")" sync4
'

test_expect_success '--trust verified shares once the device is verified' '
	mx-keys -p alice devices "$bob_id" >bdevs &&
	mx-keys -p alice trust "$bob_id" "$(jq -r .device_id bdevs)" "$(jq -r .ed25519 bdevs)" >/dev/null &&
	mx-send -p alice --trust verified "$room" "verified now" >/dev/null &&
	mx-sync -p bob "$room" >sync5 &&
	jq -s -e "map(select(.content.body == \"verified now\")) | length > 0 and all(.[]; .mx.decrypted)" sync5
'

test_expect_success 'a replayed event is refused with the reason' '
	mx-send -p alice "$room" "original" >out2 &&
	eid=$(jq -r .event_id out2) &&
	api "$alice_token" GET "/_matrix/client/v3/rooms/$(urlenc "$room")/event/$(urlenc "$eid")" >ev &&
	api "$alice_token" PUT "/_matrix/client/v3/rooms/$(urlenc "$room")/send/m.room.encrypted/replay-$$" "$(jq -c .content ev)" >/dev/null &&
	mx-sync -p bob "$room" >sync6 &&
	jq -s -e "map(select(.content.body == \"original\")) | length > 0 and all(.[]; .mx.decrypted)" sync6 &&
	jq -s -e "map(select(.type == \"m.room.encrypted\")) | length > 0 and all(.[]; .mx.error | startswith(\"replay\"))" sync6
'

# sha256_b64 FILE: the SHA-256 of FILE in unpadded base64, as the
# "hashes" of an encrypted attachment give it.
sha256_b64() {
	python3 -c "import base64, hashlib, sys
print(base64.b64encode(hashlib.sha256(open(sys.argv[1], 'rb').read()).digest()).decode().rstrip('='))" "$1"
}

test_expect_success 'an encrypted file: the server sees ciphertext only' '
	head -c 300000 /dev/urandom >blob.bin &&
	mx-send -p alice --file blob.bin "$room" >fout &&
	eid=$(jq -r .event_id fout) &&
	api "$alice_token" GET "/_matrix/client/v3/rooms/$(urlenc "$room")/event/$(urlenc "$eid")" >fev &&
	jq -e ".type == \"m.room.encrypted\" and (.content | has(\"ciphertext\"))" fev &&
	! grep -q "blob.bin\|mxc:" fev &&
	mx-sync -p alice --limit 1 "$room" >fown &&
	jq -r "select(.event_id == \"$eid\") | .content.file.url" fown >url &&
	mxc=$(cat url) && case $mxc in mxc://*/*) ;; *) false ;; esac &&
	api "$alice_token" GET "/_matrix/client/v1/media/download/${mxc#mxc://}" >media.bin &&
	test $(wc -c <media.bin) = 300000 &&
	! cmp -s blob.bin media.bin &&
	sha256_b64 media.bin >got &&
	jq -r "select(.event_id == \"$eid\") | .content.file.hashes.sha256" fown >want &&
	test_cmp want got
'

test_expect_success 'mx-sync --download decrypts it, hash checked' '
	mkdir dl &&
	mx-sync -p bob --download dl "$room" >fsync &&
	jq -s -e "map(select(.content.msgtype == \"m.file\")) | length == 1 and all(.[]; .content.file.v == \"v2\" and (.content | has(\"url\") | not) and (.mx.file | startswith(\"dl/\")))" fsync &&
	cmp blob.bin "$(jq -r "select(.mx.file) | .mx.file" fsync)" &&
	test -z "$(ls dl | grep part)"
'

test_expect_success 'a tampered attachment is refused, nothing saved' '
	mx-send -p alice --json "$room" <<-EOF >/dev/null &&
	$(jq -c "select(.mx.file) | .content | .file.hashes.sha256 = \"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\" | .filename = \"evil.bin\"" fsync)
	EOF
	mkdir dl2 &&
	mx-sync -p bob --download dl2 "$room" >tsync &&
	jq -s -e "map(select(.content.filename == \"evil.bin\")) | length == 1 and all(.[]; .mx.file_error != null and .mx.file == null)" tsync &&
	test -z "$(ls dl2)"
'

test_expect_success '--max-download: a larger file is cut off, not saved' '
	mkdir dl3 &&
	mx-sync -p bob --history "$room" --download dl3 --max-download 100K >msync &&
	jq -s -e "map(select(.content.msgtype == \"m.file\" and .content.filename != \"evil.bin\")) | length == 1 and all(.[]; .mx.file == null and (.mx.file_error | contains(\"larger than 102400 bytes\")))" msync &&
	test -z "$(ls dl3)"
'

test_expect_success '--download never overwrites a file already there' '
	mkdir dl4 &&
	mx-sync -p bob --history "$room" --download dl4 >o1 &&
	f=$(jq -r "select(.mx.file) | .mx.file" o1) && test -f "$f" &&
	echo mine >"$f" &&
	mx-sync -p bob --history "$room" --download dl4 >o2 &&
	jq -s -e "map(select(.mx.file_error)) | length >= 1 and any(.[]; .mx.file_error | endswith(\"it exists; not overwritten\"))" o2 &&
	echo mine >want && test_cmp want "$f" &&
	test -z "$(ls dl4 | grep part)"
'

test_expect_success '--download-mxc --key-stdin: the file decrypted, hash checked, -o or stdout' '
	jq -c "select(.mx.file) | .content.file" fsync | head -n 1 >file.json &&
	url=$(jq -r .url file.json) &&
	mx-sync -p bob --download-mxc "$url" --key-stdin -o got.bin <file.json &&
	cmp blob.bin got.bin &&
	mx-sync -p bob --download-mxc "$url" --key-stdin <file.json >got2.bin &&
	cmp blob.bin got2.bin
'

test_expect_success '--download-mxc: a wrong hash: 5, nothing written; -o never overwrites' '
	jq -c ".hashes.sha256 = \"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\"" file.json >bad.json &&
	url=$(jq -r .url file.json) &&
	test_expect_code 5 mx-sync -p bob --download-mxc "$url" --key-stdin <bad.json >out3 &&
	test ! -s out3 &&
	test_expect_code 5 mx-sync -p bob --download-mxc "$url" --key-stdin -o bad.bin <bad.json &&
	test ! -e bad.bin &&
	echo mine >got.bin &&
	test_expect_code 5 mx-sync -p bob --download-mxc "$url" --key-stdin -o got.bin <file.json 2>err &&
	grep -q "not overwritten" err && echo mine >want && test_cmp want got.bin
'

test_expect_success '--download-mxc without a key: the ciphertext as stored' '
	url=$(jq -r .url file.json) &&
	mx-sync -p bob --download-mxc "$url" >ct.bin &&
	test "$(wc -c <ct.bin)" = 300000 && ! cmp -s blob.bin ct.bin
'

test_expect_success '--download-mxc usage: -o alone, with a ROOM (2)' '
	test_expect_code 2 mx-sync -p bob -o x 2>err &&
	test_expect_code 2 mx-sync -p bob --download-mxc mxc://h/x "$room" 2>err
'

test_expect_success '--max-download wants a size (2)' '
	test_expect_code 2 mx-sync -p bob --download dl --max-download 5X 2>err &&
	grep -q "max-download wants a size" err
'

test_expect_success '--download wants a directory (2)' '
	test_expect_code 2 mx-sync -p bob --download nonexistent 2>err &&
	grep -q "is not a directory" err
'

# claim N: claim N one-time keys of alice's mx device as bob; prints how
# many came back as the fallback key.
claim() {
	_n=0 _fb=0
	while [ $_n -lt "$1" ]; do
		_n=$((_n + 1))
		api "$bob_token" POST /_matrix/client/v3/keys/claim \
			"{\"one_time_keys\":{\"$alice_id\":{\"$adev\":\"signed_curve25519\"}}}" >c.json || return 1
		jq -e ".one_time_keys[\"$alice_id\"][\"$adev\"] | length == 1" c.json >/dev/null || return 1
		jq -e ".one_time_keys[\"$alice_id\"][\"$adev\"][] | .fallback == true" c.json >/dev/null &&
			_fb=$((_fb + 1))
	done
	echo $_fb
}

test_expect_success 'one-time keys are topped up from the sync counts' '
	adev=$(mx-keys -p alice whoami | jq -r .device_id) &&
	test "$(claim 30)" = 0 &&
	mx-sync -p alice >/dev/null &&
	test "$(claim 50)" = 0
'

test_expect_success 'when they run out, the signed fallback key answers' '
	adev=$(mx-keys -p alice whoami | jq -r .device_id) &&
	test "$(claim 1)" = 1 &&
	jq -e ".one_time_keys[\"$alice_id\"][\"$adev\"][] | .signatures[\"$alice_id\"][\"ed25519:$adev\"] | length == 86" c.json
'

# why_first FILE PATTERN: the first line of FILE matches PATTERN and the
# usage follows it.
why_first() {
	head -n 1 "$1" | grep -q "$2" && sed -n 2p "$1" | grep -q "^usage: "
}

test_expect_success 'bad input: exit 2, the reason first, then the usage' '
	test_expect_code 2 mx-send -p alice --trust everyone "$room" x 2>err &&
	why_first err "^mx-send: --trust wants tofu, verified or all\$" &&
	test_expect_code 2 mx-keys -p alice trust "$bob_id" 2>err &&
	why_first err "^mx-keys: .trust. needs 3 operands\$" &&
	test_expect_code 2 mx-keys -p alice export-identity extra 2>err &&
	why_first err "^mx-keys: unexpected operand .extra.\$" &&
	test_expect_code 2 mx-keys -p alice whoami --passphrase-file x 2>err &&
	why_first err "^mx-keys: --passphrase-file is for login, export-identity, export, import and backup\$"
'

test_expect_success 'trust of a device the user does not have: exit 3, one line' '
	test_expect_code 3 mx-keys -p alice trust "$bob_id" NOSUCHDEV AAAA 2>err &&
	test $(wc -l <err) = 1 && grep -q "has no device .NOSUCHDEV." err
'

test_expect_success 'mx-send refuses an encrypted room with only MX_ACCESS_TOKEN (2)' '
	MX_ACCESS_TOKEN=$alice_token MX_HOMESERVER=$MX_TEST_HOMESERVER \
		test_expect_code 2 mx-send "$room" hi >out 2>err &&
	test ! -s out && grep -q "is encrypted: that needs a profile" err
'

test_done
