#!/usr/bin/env python3
# Independent writer of a key export file (spec: Client-Server API, "Key
# exports"), using only hashlib/hmac and the openssl CLI for AES-256-CTR.
# Regenerate: python3 t/unit/data/mkexport.py > t/unit/data/export.txt
import base64, hashlib, hmac, subprocess

passphrase = b"correct horse battery staple"
salt = bytes(range(16))
iv = bytes(range(0x20, 0x30))
iv = iv[:8] + bytes([iv[8] & 0x7F]) + iv[9:]
rounds = 1000
plain = open(__file__.rsplit("/", 1)[0] + "/export.json", "rb").read()
dk = hashlib.pbkdf2_hmac("sha512", passphrase, salt, rounds, 64)
ct = subprocess.run(["openssl", "enc", "-aes-256-ctr", "-K", dk[:32].hex(),
                     "-iv", iv.hex()], input=plain, capture_output=True,
                    check=True).stdout
body = b"\x01" + salt + iv + rounds.to_bytes(4, "big") + ct
body += hmac.new(dk[32:], body, hashlib.sha256).digest()
b = base64.b64encode(body).decode()
print("-----BEGIN MEGOLM SESSION DATA-----")
for i in range(0, len(b), 76):
    print(b[i:i + 76])
print("-----END MEGOLM SESSION DATA-----")
