#!/usr/bin/env python3
"""Register a user through Synapse's shared-secret admin API.

usage: register.py URL SECRET LOCALPART PASSWORD [admin]
Prints "user_id access_token device_id" on success.
"""
import hashlib
import hmac
import json
import sys
import urllib.request


def call(url, body=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, headers={
        "Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=30) as r:
        return json.load(r)


def main():
    url, secret, user, password = sys.argv[1:5]
    admin = len(sys.argv) > 5 and sys.argv[5] == "admin"
    ep = url + "/_synapse/admin/v1/register"
    nonce = call(ep)["nonce"]
    # The MAC covers the four fields separated by NULs, without a final one.
    mac = hmac.new(secret.encode(), digestmod=hashlib.sha1)
    mac.update(b"\x00".join(p.encode() for p in (
        nonce, user, password, "admin" if admin else "notadmin")))
    digest = mac.hexdigest()
    r = call(ep, {"nonce": nonce, "username": user, "password": password,
                  "admin": admin, "mac": digest})
    print(r["user_id"], r["access_token"], r["device_id"])


main()
