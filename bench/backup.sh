#!/bin/sh
# mx-keys backup restore of a large backup (BENCH_BACKUP_KEYS sessions,
# 10000 by default, in 50 rooms), against the one request it needs: a
# bare curl GET of the backup's keys, in the same run, interleaved
# (bench/lib.sh).  The backup is made by mx-keys backup create; its
# records are written by Python (cryptography) to the backup's public key,
# each a valid Megolm export key under the ID it names.  Every run
# restores into a fresh copy of one logged-in profile that holds no keys.
# Prints (bench/run.sh's format):
#   backup-restore-vs-curl   wall ms, medians
#   backup-restore-rss       peak RSS kB, restore / curl
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
PATH=$top:$PATH
. "$top/bench/lib.sh"
need_deb time python3-cryptography
work=$(mktemp -d "${TMPDIR:-/tmp}/mx-bench.XXXXXX")
trap 'rm -rf "$work"' EXIT
export MX_DIR=$work/mx
hs=$MX_TEST_HOMESERVER
n=${BENCH_BACKUP_KEYS:-10000}
cd "$work"

u=$(python3 "$top/t/synapse/register.py" "$hs" "$MX_TEST_SHARED_SECRET" \
	"bk-$(od -An -N3 -tx1 /dev/urandom | tr -d ' \n')" benchpw)
user=${u%% *}
token=$(echo "$u" | cut -d' ' -f2)
for p in maker fresh; do
	echo benchpw | mx-keys -q -p $p login -u "$user" --homeserver "$hs" \
		--password-stdin >/dev/null
done
mx-keys -p maker backup create >made
jq -r .recovery_key made >rk
version=$(jq -r .version made)
pub=$(mx-keys -p maker backup status | jq -r .public_key)

python3 - "$pub" "$n" >body.json <<'EOP'
import base64, hashlib, hmac, json, os, sys
from cryptography.hazmat.primitives import hashes, padding, serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.x25519 import (
    X25519PrivateKey, X25519PublicKey)
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

def b64(b):
    return base64.b64encode(b).decode().rstrip("=")

RAW = serialization.Encoding.Raw, serialization.PublicFormat.Raw
pub = X25519PublicKey.from_public_bytes(base64.b64decode(sys.argv[1] + "="))
rooms = {}
for i in range(int(sys.argv[2])):
    # A session export (version 1, index 0, ratchet, Ed25519 key): its
    # ID is the key.
    k = Ed25519PrivateKey.generate().public_key().public_bytes(*RAW)
    exp = bytes([1]) + bytes(4) + os.urandom(128) + k
    plain = json.dumps({"algorithm": "m.megolm.v1.aes-sha2",
        "sender_key": b64(os.urandom(32)), "session_key": b64(exp),
        "sender_claimed_keys": {"ed25519": b64(os.urandom(32))},
        "forwarding_curve25519_key_chain": []}).encode()
    # m.megolm_backup.v1.curve25519-aes-sha2
    e = X25519PrivateKey.generate()
    okm = HKDF(hashes.SHA256(), 80, bytes(32), b"").derive(e.exchange(pub))
    pad = padding.PKCS7(128).padder()
    enc = Cipher(algorithms.AES(okm[:32]), modes.CBC(okm[64:])).encryptor()
    ct = enc.update(pad.update(plain) + pad.finalize()) + enc.finalize()
    mac = hmac.new(okm[32:64], b"", hashlib.sha256).digest()[:8]
    room = "!bench%d:bench" % (i % 50)
    rooms.setdefault(room, {"sessions": {}})["sessions"][b64(k)] = {
        "first_message_index": 0, "forwarded_count": 0,
        "is_verified": False, "session_data": {
            "ephemeral": b64(e.public_key().public_bytes(*RAW)),
            "ciphertext": b64(ct), "mac": b64(mac)}}
print(json.dumps({"rooms": rooms}))
EOP
keys="$hs/_matrix/client/v3/room_keys/keys?version=$version"
printf 'header = "Authorization: Bearer %s"\n' "$token" >curl.cfg
curl -sS --fail-with-body -K curl.cfg -X PUT \
	-H 'Content-Type: application/json' --data-binary @body.json "$keys" \
	>/dev/null
# Checked once: every key restored, none rejected.
cp -a "$MX_DIR/fresh" "$MX_DIR/template"
mx-keys -p fresh backup restore --recovery-key-stdin <rk >once
jq -e --argjson n "$n" '.restored == $n and .rejected == 0' once >/dev/null

restore="rm -rf '$MX_DIR/fresh' && cp -a '$MX_DIR/template' '$MX_DIR/fresh' && mx-keys -p fresh backup restore --recovery-key-stdin <rk >/dev/null"
get="curl -sS --fail -K curl.cfg '$keys' >/dev/null"
BENCH_RUNS=${BENCH_RUNS:-5} BENCH_WARMUP=1 compare "$work/t" \
	restore "$restore" curl "$get"
report backup-restore-vs-curl "$(median "$work/t" restore)" \
	"$(median "$work/t" curl)" \
	"wall ms, mx-keys backup restore of $n keys (and a profile copied) / curl GET of them"
# One simple command per run (GNU time's child): a fresh profile each,
# counted in the shared shell.
for i in 1 2 3 4; do
	cp -a "$MX_DIR/template" "$MX_DIR/rss$i"
done
BENCH_RSS_RUNS=3 peak "$work/rss" \
	restore "mx-keys -p rss\$((k = \${k:-0} + 1)) backup restore --recovery-key-stdin <rk" \
	curl "curl -sS --fail -K curl.cfg -o /dev/null $keys"
report backup-restore-rss "$(median "$work/rss" restore)" \
	"$(median "$work/rss" curl)" \
	"peak RSS kB, mx-keys backup restore of $n keys / curl GET of them"
