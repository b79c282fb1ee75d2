#!/bin/sh
# mx-keys backup: the server-side key backup (spec: Client-Server API,
# "Server-side key backups") made by matrix-js-sdk's Rust crypto (Element's
# engine), restored by fresh mx devices of the same user from the recovery
# key, from the secret-storage passphrase and from the bare backup key; and
# what a hostile server can put into it.
. "$(dirname "$0")/lib.sh"
. "$MX_SRC/t/peer/peer.sh"
need_homeserver
peer_need js

setup register_user alice
setup register_user bob
setup peer_start a1 js "$alice_id" "$alice_pw"
boot=$(peer_do a1 '{"cmd":"bootstrap_backup","passphrase":"correct horse battery"}') ||
	setup_failed "the peer sets up recovery and a backup"
printf '%s\n' "$boot" | jq -r .recovery_key >recovery.key
printf '%s\n' "$boot" | jq -r .backup_key >backup.key
version=$(printf '%s\n' "$boot" | jq -r .version)
printf 'correct horse battery\n' >pass
printf 'wrong horse\n' >badpass

# Two rooms, two Megolm sessions of the peer's, both backed up.
for n in 1 2; do
	r=$(peer_do a1 '{"cmd":"create_room","encrypted":true}' | jq -r .room_id) ||
		setup_failed "encrypted room $n"
	setup peer_do a1 "{\"cmd\":\"send\",\"room\":\"$r\",\"text\":\"old secret $n\"}"
	eval "room$n=\$r"
done
setup peer_do a1 '{"cmd":"backup_wait","count":2}'

# Fresh mx devices of the same user, which never got those keys.
setup login_profile alice
setup login_profile bob

# said FILE TEXT JQ: the one event whose body is TEXT matches JQ.
said() {
	jq -s -e --arg t "$2" "map(select(.content.body == \$t)) | length == 1 and all(.[]; $3)" "$1"
}
undecrypted() {
	jq -s -e 'any(.[]; .type == "m.room.encrypted" and .mx.decrypted == false and .mx.error == "no key")' "$1"
}
# fresh NAME: a new mx device of alice's in profile NAME.
fresh() {
	printf '%s\n' "$alice_pw" | mx-keys -p "$1" login --homeserver "$MX_TEST_HOMESERVER" -u "$alice_id" --password-stdin >/dev/null
}

test_expect_success 'status: the version, its key, count and signatures, not trusted yet' '
	mx-keys -p alice backup status >st &&
	test $(wc -l <st) = 1 &&
	jq -e --arg v "$version" ".version == \$v and .algorithm == \"m.megolm_backup.v1.curve25519-aes-sha2\" and .count == 2 and (.etag | type) == \"string\" and (.public_key | length) == 43 and .in_secret_storage == true and .trusted == false" st &&
	jq -e --arg k "ed25519:$a1_device" "any(.signatures[]; .key == \$k and .signer == \"device\" and .valid and (.trusted | not))" st &&
	jq -e "any(.signatures[]; .signer == \"master\" and .valid and (.trusted | not))" st
'

test_expect_success 'status: trusted once the signing device is verified' '
	mx-keys -p alice trust "$alice_id" "$a1_device" "$a1_ed" >/dev/null &&
	mx-keys -p alice backup status >st &&
	jq -e --arg k "ed25519:$a1_device" ".trusted and any(.signatures[]; .key == \$k and .valid and .trusted)" st
'

test_expect_success 'status without a backup: 1, one line' '
	test_expect_code 1 mx-keys -p bob backup status >out 2>err &&
	test ! -s out && test "$(cat err)" = "mx-keys: the account has no key backup" &&
	test_expect_code 1 mx-keys -p bob backup restore --passphrase-file pass >out 2>err &&
	test ! -s out && test "$(cat err)" = "mx-keys: the account has no key backup"
'

test_expect_success 'the fresh device cannot read the history' '
	mx-sync -p alice --history "$room1" >s1 && undecrypted s1 &&
	! grep -q "old secret" s1
'

# A valid recovery key that is nobody's (spec: appendix "Cryptographic key
# representation").
python3 - >other.key <<\EOP
import os
a = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
b = bytes([0x8B, 1]) + os.urandom(32)
p = 0
for x in b:
    p ^= x
n = int.from_bytes(b + bytes([p]), "big")
s = ""
while n:
    n, r = divmod(n, 58)
    s = a[r] + s
print(" ".join(s[i:i + 4] for i in range(0, len(s), 4)))
EOP

test_expect_success 'a wrong recovery key: 1, one line, nothing stored' '
	test_expect_code 1 mx-keys -p alice backup restore --recovery-key-stdin <other.key >out 2>err &&
	test ! -s out && test "$(cat err)" = "mx-keys: the recovery key is neither the backup'"'"'s nor the secret storage'"'"'s" &&
	test_expect_code 1 mx-keys -p alice backup restore --recovery-key-stdin <pass >out 2>err &&
	test ! -s out && test $(wc -l <err) = 1 && grep -q "^mx-keys: not a recovery key" err &&
	mx-sync -p alice --history "$room1" >s1 && undecrypted s1
'

test_expect_success 'a wrong passphrase: 1, one line, nothing stored' '
	test_expect_code 1 mx-keys -p alice backup restore --passphrase-file badpass >out 2>err &&
	test ! -s out && test "$(cat err)" = "mx-keys: wrong passphrase for secret storage" &&
	mx-sync -p alice --history "$room1" >s1 && undecrypted s1
'

test_expect_success 'restore with the secret-storage passphrase: old messages decrypt, from "backup"' '
	mx-keys -p alice backup restore --passphrase-file pass >out &&
	test "$(cat out)" = "{\"restored\":2,\"improved\":0,\"skipped\":0,\"rejected\":0}" &&
	mx-sync -p alice --history "$room1" >s1 &&
	said s1 "old secret 1" ".mx.decrypted and .mx.key_source == \"backup\" and .mx.trust == \"unauthenticated\"" &&
	mx-sync -p alice --history "$room2" >s2 &&
	said s2 "old secret 2" ".mx.decrypted and .mx.key_source == \"backup\" and .mx.trust == \"unauthenticated\""
'

test_expect_success 'restore again: everything held already' '
	mx-keys -p alice backup restore --passphrase-file pass >out &&
	test "$(cat out)" = "{\"restored\":0,\"improved\":0,\"skipped\":2,\"rejected\":0}"
'

test_expect_success 'restore with the recovery key (secret storage), on stdin' '
	fresh alice2 &&
	mx-keys -p alice2 backup restore --recovery-key-stdin <recovery.key >out &&
	test "$(cat out)" = "{\"restored\":2,\"improved\":0,\"skipped\":0,\"rejected\":0}" &&
	mx-sync -p alice2 --history "$room2" >s2 &&
	said s2 "old secret 2" ".mx.decrypted and .mx.key_source == \"backup\""
'

test_expect_success 'restore with the bare backup key' '
	fresh alice3 &&
	mx-keys -p alice3 backup restore --recovery-key-stdin <backup.key >out &&
	test "$(cat out)" = "{\"restored\":2,\"improved\":0,\"skipped\":0,\"rejected\":0}"
'

test_expect_success 'after a restore, new room keys go to that backup' '
	mx-send -p alice "$room1" "from mx after the restore" >/dev/null &&
	mx-keys -p alice backup status | jq -e ".count == 3" &&
	fresh alice4 &&
	mx-keys -p alice4 backup restore --recovery-key-stdin <recovery.key >out &&
	test "$(cat out)" = "{\"restored\":3,\"improved\":0,\"skipped\":0,\"rejected\":0}" &&
	mx-sync -p alice4 --history "$room1" >s1 &&
	said s1 "from mx after the restore" ".mx.decrypted and .mx.key_source == \"backup\"" &&
	said s1 "old secret 1" ".mx.decrypted and .mx.key_source == \"backup\""
'

# The server serves what it likes: a record whose MAC was changed, and a
# genuine record filed under another session's ID.
api "$alice_token" GET "/_matrix/client/v3/room_keys/keys?version=$version" >keys.json ||
	setup_failed "the backed-up keys"
test_expect_success 'hostile records are rejected, named, and the rest kept: 1' '
	sid=$(jq -r ".rooms[\"$room1\"].sessions | keys[0]" keys.json) &&
	jq -c ".rooms[\"$room1\"].sessions[\"$sid\"] | .session_data.mac |= (if startswith(\"A\") then \"B\" else \"A\" end + .[1:])" keys.json >mac.json &&
	jq -c ".rooms[\"$room1\"].sessions[\"$sid\"]" keys.json >moved.json &&
	bad1=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA &&
	bad2=BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB &&
	put() { api "$alice_token" PUT "/_matrix/client/v3/room_keys/keys/$(urlenc "$room1")/$1?version=$version" "$(cat "$2")" >/dev/null; } &&
	put $bad1 mac.json && put $bad2 moved.json &&
	test_expect_code 1 mx-keys -p alice backup restore --passphrase-file pass >out 2>err &&
	test "$(cat out)" = "{\"restored\":0,\"improved\":0,\"skipped\":3,\"rejected\":2}" &&
	grep -qx "mx-keys: backed-up session $bad1 of $room1 rejected: does not decrypt (wrong key, or damaged)" err &&
	grep -qx "mx-keys: backed-up session $bad2 of $room1 rejected: the key is not the session it is filed under" err &&
	grep -qx "mx-keys: 2 backed-up session(s) rejected; the others are kept" err &&
	test $(wc -l <err) = 3
'

# The account's backup goes; secret storage stays.
setup api "$alice_token" DELETE "/_matrix/client/v3/room_keys/version/$version"

test_expect_success 'create with a wrong passphrase for secret storage: 1, nothing made' '
	test_expect_code 1 mx-keys -p alice backup create --passphrase-file badpass >out 2>err &&
	test ! -s out && test "$(cat err)" = "mx-keys: wrong passphrase for secret storage" &&
	test_expect_code 1 mx-keys -p alice backup status >/dev/null 2>&1
'

test_expect_success 'create with the passphrase: the new key kept in secret storage' '
	mx-keys -p alice backup create --passphrase-file pass >made2 &&
	jq -e ".in_secret_storage and .backed_up == 3" made2 &&
	mx-keys -p alice backup status >st &&
	jq -e --slurpfile m made2 ".version == \$m[0].version and .in_secret_storage and .trusted and .count == 3" st
'

test_expect_success 'that backup opens with the passphrase on a fresh mx device, and with the recovery key in the js peer' '
	fresh alice6 &&
	mx-keys -p alice6 backup restore --passphrase-file pass >out &&
	test "$(cat out)" = "{\"restored\":3,\"improved\":0,\"skipped\":0,\"rejected\":0}" &&
	peer_do a1 "{\"cmd\":\"backup_restore_ssss\",\"recovery_key\":\"$(cat recovery.key)\"}" >res2 &&
	jq -e --slurpfile m made2 ".total == 3 and .version == \$m[0].version" res2
'

# --- mx's own backup: created, filled, kept up, read by the js peer -----

room3=$(mx-room -p bob create --name before | jq -er .room_id) ||
	setup_failed "an encrypted room of bob's"
setup mx-send -p bob "$room3" "sent before the backup"

test_expect_success 'create: a new version, the key shown once, held keys uploaded' '
	mx-keys -p bob backup create >made &&
	test $(wc -l <made) = 1 &&
	jq -e ".backed_up == 1 and (.version | type) == \"string\" and (.recovery_key | test(\"^([1-9A-HJ-NP-Za-km-z]{4} ){11}[1-9A-HJ-NP-Za-km-z]{4}\$\"))" made &&
	jq -r .recovery_key made >bob.key &&
	mx-keys -p bob backup status >st &&
	jq -e --slurpfile m made ".version == \$m[0].version and .count == 1 and .trusted and (.signatures | length) == 1 and .signatures[0].signer == \"device\"" st
'

test_expect_success 'create when the account has a backup: 1, nothing made' '
	test_expect_code 1 mx-keys -p bob backup create >out 2>err &&
	test ! -s out && test "$(cat err)" = "mx-keys: the account has key backup $(jq -r .version made) already; restore from it" &&
	mx-keys -p bob backup status | jq -e --slurpfile m made ".version == \$m[0].version"
'

test_expect_success 'mx-send backs up the key of a new session' '
	mx-room -p bob create --name after >room4.json &&
	mx-send -p bob "$(jq -r .room_id room4.json)" "sent after the backup" >/dev/null &&
	mx-keys -p bob backup status | jq -e ".count == 2"
'

r5=$(peer_do a1 "{\"cmd\":\"create_room\",\"encrypted\":true,\"invite\":[\"$bob_id\"]}" | jq -r .room_id) ||
	setup_failed "a room of alice's with bob"
setup mx-room -p bob join "$r5"
setup peer_do a1 "{\"cmd\":\"send\",\"room\":\"$r5\",\"text\":\"alice to bob\"}"

test_expect_success 'mx-sync backs up a room key it receives' '
	mx-sync -p bob "$r5" >s5 &&
	said s5 "alice to bob" ".mx.decrypted and .mx.key_source == \"olm\"" &&
	mx-keys -p bob backup status | jq -e ".count == 3"
'

# Another device of bob's, the Element engine, that got none of those keys.
setup peer_start b1 js "$bob_id" "$bob_pw"

test_expect_success 'the js peer restores mx'"'"'s backup and decrypts mx'"'"'s messages' '
	peer_do b1 "{\"cmd\":\"backup_restore\",\"backup_key\":\"$(cat bob.key)\"}" >res &&
	jq -e ".total == 3 and .imported == 3" res &&
	peer_wait b1 "select(.event == \"message\" and .decrypted and .content.body == \"sent before the backup\")" &&
	peer_wait b1 "select(.event == \"message\" and .decrypted and .content.body == \"sent after the backup\")"
'

test_expect_success 'restore of mx'"'"'s backup by a fresh mx device' '
	printf "%s\n" "$bob_pw" | mx-keys -p bob2 login --homeserver "$MX_TEST_HOMESERVER" -u "$bob_id" --password-stdin >/dev/null &&
	mx-keys -p bob2 backup restore --recovery-key-stdin <bob.key >out &&
	test "$(cat out)" = "{\"restored\":3,\"improved\":0,\"skipped\":0,\"rejected\":0}" &&
	mx-sync -p bob2 --history "$room3" >s3 &&
	said s3 "sent before the backup" ".mx.decrypted and .mx.key_source == \"backup\""
'

test_expect_success 'usage: backup takes status, restore or create; no key for status' '
	test_expect_code 2 mx-keys -p alice backup 2>/dev/null &&
	test_expect_code 2 mx-keys -p alice backup nonsense 2>/dev/null &&
	test_expect_code 2 mx-keys -p alice backup status --recovery-key-stdin 2>/dev/null &&
	test_expect_code 2 mx-keys -p alice backup status --passphrase-file pass 2>/dev/null &&
	test_expect_code 2 mx-keys -p alice backup restore --recovery-key-stdin --passphrase-file pass 2>/dev/null &&
	test_expect_code 2 mx-keys -p alice whoami --recovery-key-stdin 2>/dev/null &&
	fresh alice9 &&
	test_expect_code 2 mx-keys -p alice9 backup restore </dev/null 2>/dev/null
'

test_expect_success 'a profile that holds the backup key restores without one' '
	mx-keys -p alice backup restore </dev/null >out &&
	jq -e ".rejected == 0" out
'

test_done
