#!/usr/bin/env python3
"""A hostile room member for t/0532-e2ee-forgery.t, on matrix-nio (run in
the Synapse chroot, where Debian's python3-matrix-nio lives): one Megolm
session shared as the session of two rooms, so that its ciphertext moved
from one room into the other decrypts with a key the reader holds for the
second room.  Only the room_id inside the plaintext tells the rooms apart.

    env PEER_HS=... PEER_USER=... PEER_PASSWORD=... PEER_STORE=DIR \\
        python3 t/0532-mallory.py ROOM1 ROOM2 BODY

Logs in (a new device), shares one session as ROOM1's and as ROOM2's with
every member's devices, then sends BODY encrypted into ROOM1 at index 0.
Prints {"event_id","session_id"} of that event; logs go to stderr.
"""
import asyncio
import json
import logging
import os
import sys

from nio import AsyncClient, AsyncClientConfig, LoginResponse

logging.basicConfig(stream=sys.stderr, level=logging.WARNING)


async def main(room1, room2, body):
    c = AsyncClient(os.environ["PEER_HS"], os.environ["PEER_USER"],
                    store_path=os.environ["PEER_STORE"],
                    config=AsyncClientConfig(encryption_enabled=True))
    r = await c.login(os.environ["PEER_PASSWORD"], device_name="mallory")
    if not isinstance(r, LoginResponse):
        raise SystemExit("login: %s" % r)
    if c.should_upload_keys:
        await c.keys_upload()
    await c.sync(timeout=0, full_state=True)
    if c.should_query_keys:
        await c.keys_query()
    for room in (room1, room2):
        if room not in c.rooms or not c.rooms[room].encrypted:
            raise SystemExit("not in encrypted room %s" % room)
    r = await c.share_group_session(room1, ignore_unverified_devices=True)
    # The same session again, now labelled as room2's: nio builds each
    # m.room_key from the room it is sharing for.
    s = c.olm.outbound_group_sessions[room1]
    s.shared = False
    s.users_shared_with.clear()
    c.olm.outbound_group_sessions[room2] = s
    await c.share_group_session(room2, ignore_unverified_devices=True)
    if s.message_index != 0:
        raise SystemExit("session already used: index %d" % s.message_index)
    r = await c.room_send(room1, "m.room.message",
                          {"msgtype": "m.text", "body": body},
                          ignore_unverified_devices=True)
    if not hasattr(r, "event_id"):
        raise SystemExit("send: %s" % r)
    print(json.dumps({"event_id": r.event_id, "session_id": s.id}))
    await c.close()


asyncio.run(main(*sys.argv[1:4]))
