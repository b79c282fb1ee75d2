#!/usr/bin/env python3
# Independent reader of a key export file (spec: Client-Server API, "Key
# exports"): hashlib/hmac and the openssl CLI for AES-256-CTR.  Reads the
# armoured file on stdin, passphrase in argv[1]; prints the JSON, or exits
# 1 when the MAC is wrong.
import base64, hashlib, hmac, subprocess, sys

text = sys.stdin.read()
head = "-----BEGIN MEGOLM SESSION DATA-----"
body = text[text.index(head) + len(head):
            text.index("-----END MEGOLM SESSION DATA-----")]
body = "".join(body.split())
body = base64.b64decode(body + "=" * (-len(body) % 4))
assert body[0] == 1
salt, iv = body[1:17], body[17:33]
rounds = int.from_bytes(body[33:37], "big")
dk = hashlib.pbkdf2_hmac("sha512", sys.argv[1].encode(), salt, rounds, 64)
mac = hmac.new(dk[32:], body[:-32], hashlib.sha256).digest()
if not hmac.compare_digest(mac, body[-32:]):
    sys.exit(1)
assert iv[8] & 0x80 == 0
pt = subprocess.run(["openssl", "enc", "-d", "-aes-256-ctr", "-K",
                     dk[:32].hex(), "-iv", iv.hex()], input=body[37:-32],
                    capture_output=True, check=True).stdout
sys.stdout.buffer.write(pt)
