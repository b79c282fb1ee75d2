#!/usr/bin/env python3
# niopeer: a scripted Matrix client on matrix-nio (libolm inside), the
# second peer of mx's interop tests.  It runs inside the Synapse chroot,
# where Debian's python3-matrix-nio lives.  Same protocol as jspeer.mjs
# (see t/peer/peer.sh): environment PEER_HS, PEER_USER, PEER_PASSWORD,
# PEER_STORE, PEER_DEVICE_NAME, PEER_AUTOJOIN; commands as JSON lines on
# stdin, answers and events as JSON lines on stdout, logs on stderr.
import asyncio
import hashlib
import json
import logging
import os
import sys

from nio import (AsyncClient, AsyncClientConfig, LoginResponse, MegolmEvent,
                 RoomMemberEvent, RoomMessage, InviteMemberEvent,
                 SyncResponse, UnknownToDeviceEvent)
from nio.crypto.attachments import decrypt_attachment, encrypt_attachment

logging.basicConfig(stream=sys.stderr, level=logging.WARNING)

HS = os.environ["PEER_HS"].rstrip("/")


def out(obj):
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


class Peer:
    def __init__(self):
        self.client = AsyncClient(
            HS, os.environ["PEER_USER"], store_path=os.environ["PEER_STORE"],
            config=AsyncClientConfig(store_sync_tokens=True,
                                     encryption_enabled=True))
        self.syncs = 0
        self.sync_event = asyncio.Event()
        self.pending = {}    # event_id -> (room_id, MegolmEvent)

    # ---- events ----
    async def message_line(self, room_id, ev, decrypted):
        src = ev.source if isinstance(ev.source, dict) else {}
        content = src.get("content") if decrypted else None
        line = {"event": "message", "room_id": room_id,
                "event_id": ev.event_id, "sender": ev.sender,
                "type": src.get("type", "m.room.message") if decrypted
                else "m.room.encrypted",
                "content": content,
                "encrypted": bool(getattr(ev, "decrypted", False))
                or not decrypted,
                "decrypted": bool(decrypted and getattr(ev, "decrypted",
                                                         False)),
                "failure": None if decrypted else "no session",
                "sender_device": getattr(ev, "device_id", None)
                or (ev.source.get("content", {}).get("device_id")
                    if isinstance(ev.source, dict) else None),
                "verified": getattr(ev, "verified", None)}
        if decrypted and isinstance(content, dict) and \
                isinstance(content.get("file"), dict):
            try:
                line["file_sha256"] = await self.file_sha256(content["file"])
            except Exception as e:   # reported, not fatal
                line["file_error"] = str(e)
        out(line)

    async def file_sha256(self, f):
        resp = await self.client.download(mxc=f["url"])
        body = getattr(resp, "body", None)
        if body is None:
            raise RuntimeError("download failed: %s" % resp)
        plain = decrypt_attachment(body, f["key"]["k"], f["hashes"]["sha256"],
                                   f["iv"])
        return hashlib.sha256(plain).hexdigest()

    async def on_message(self, room, ev):
        await self.message_line(room.room_id, ev, True)

    async def on_megolm(self, room, ev):
        # Not decryptable (yet): reported, and tried again after each sync.
        self.pending[ev.event_id] = (room.room_id, ev)
        await self.message_line(room.room_id, ev, False)

    async def on_to_device(self, ev):
        # nio does not know m.room_key.withheld: report it as it came.
        src = ev.source if isinstance(ev.source, dict) else {}
        out({"event": "to_device", "type": src.get("type"),
             "sender": src.get("sender"), "content": src.get("content")})

    async def on_member(self, room, ev):
        out({"event": "member", "room_id": room.room_id,
             "user": ev.state_key, "membership": ev.membership})

    async def on_invite(self, room, ev):
        if ev.state_key != self.client.user_id or ev.membership != "invite":
            return
        out({"event": "invite", "room_id": room.room_id})
        if os.environ.get("PEER_AUTOJOIN") == "1":
            await self.client.join(room.room_id)

    async def retry_pending(self):
        for eid, (room_id, ev) in list(self.pending.items()):
            try:
                dec = self.client.decrypt_event(ev)
            except Exception:
                continue
            if dec is not None and not isinstance(dec, MegolmEvent):
                del self.pending[eid]
                await self.message_line(room_id, dec, True)

    async def on_sync(self, _resp):
        self.syncs += 1
        await self.retry_pending()
        self.sync_event.set()
        self.sync_event = asyncio.Event()

    async def next_sync(self):
        await self.sync_event.wait()

    # ---- commands ----
    async def known_room(self, room_id):
        for _ in range(600):
            room = self.client.rooms.get(room_id)
            if room is not None:
                return room
            await asyncio.sleep(0.05)
        raise RuntimeError("room %s never showed up" % room_id)

    async def check(self, resp):
        if type(resp).__name__.endswith("Error"):
            raise RuntimeError(getattr(resp, "message", str(resp)))
        return resp

    async def send(self, room_id, type_, content):
        await self.known_room(room_id)
        resp = await self.check(await self.client.room_send(
            room_id, type_, content, ignore_unverified_devices=True))
        return {"event_id": resp.event_id}

    async def cmd(self, c):
        cl = self.client
        name = c.get("cmd")
        if name == "create_room":
            initial = []
            if c.get("encrypted"):
                content = {"algorithm": "m.megolm.v1.aes-sha2"}
                if c.get("rotation_period_msgs"):
                    content["rotation_period_msgs"] = c["rotation_period_msgs"]
                initial.append({"type": "m.room.encryption", "state_key": "",
                                "content": content})
            if c.get("history_visibility"):
                initial.append({"type": "m.room.history_visibility",
                                "state_key": "", "content": {
                                    "history_visibility":
                                    c["history_visibility"]}})
            resp = await self.check(await cl.room_create(
                invite=c.get("invite", []), initial_state=initial))
            await self.known_room(resp.room_id)
            return {"room_id": resp.room_id}
        if name == "join":
            resp = await self.check(await cl.join(c["room"]))
            await self.known_room(resp.room_id)
            await self.next_sync()
            return {"room_id": resp.room_id}
        if name == "leave":
            await self.check(await cl.room_leave(c["room"]))
            return {}
        if name == "invite":
            await self.check(await cl.room_invite(c["room"], c["user"]))
            return {}
        if name == "send":
            content = c.get("content") or {"msgtype": "m.text",
                                           "body": c["text"]}
            return await self.send(c["room"], c.get("type", "m.room.message"),
                                   content)
        if name == "send_file":
            with open(c["path"], "rb") as f:
                data = f.read()
            ct, keys = encrypt_attachment(data)
            resp, _ = await cl.upload(
                lambda *_a: ct, content_type="application/octet-stream",
                filesize=len(ct), encrypt=False)
            resp = await self.check(resp)
            keys["url"] = resp.content_uri
            nm = os.path.basename(c["path"])
            return await self.send(c["room"], "m.room.message", {
                "msgtype": "m.file", "body": nm, "filename": nm,
                "info": {"size": len(data),
                         "mimetype": c.get("mimetype",
                                           "application/octet-stream")},
                "file": keys})
        if name == "devices":
            cl.users_for_key_query.add(c["user"])
            await cl.keys_query()
            devs = cl.device_store.active_user_devices(c["user"])
            return {"devices": [{"device_id": d.id, "verified": d.verified}
                                for d in devs]}
        if name == "verify_device":
            cl.users_for_key_query.add(c["user"])
            await cl.keys_query()
            dev = cl.device_store[c["user"]][c["device"]]
            cl.verify_device(dev)
            return {}
        if name == "export_keys":
            await cl.export_keys(c["path"], c["passphrase"])
            return {}
        if name == "import_keys":
            await cl.import_keys(c["path"], c["passphrase"])
            return {}
        if name == "wait_sync":
            n = self.syncs
            while self.syncs <= n:
                await self.next_sync()
            return {}
        if name == "quit":
            return {}
        raise RuntimeError("unknown command %s" % name)

    async def commands(self):
        loop = asyncio.get_running_loop()
        reader = asyncio.StreamReader()
        await loop.connect_read_pipe(
            lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
        while True:
            raw = await reader.readline()
            if not raw:
                return
            try:
                c = json.loads(raw)
            except ValueError:
                continue
            try:
                res = await self.cmd(c)
                out(dict({"id": c.get("id"), "ok": True}, **res))
            except Exception as e:   # every command gets its answer
                out({"id": c.get("id"), "ok": False, "error": str(e)})
            if c.get("cmd") == "quit":
                return

    async def run(self):
        cl = self.client
        resp = await cl.login(os.environ["PEER_PASSWORD"],
                              device_name=os.environ.get("PEER_DEVICE_NAME",
                                                         "niopeer"))
        if not isinstance(resp, LoginResponse):
            raise SystemExit("login failed: %s" % resp)
        if cl.should_upload_keys:
            await cl.keys_upload()
        cl.add_event_callback(self.on_message, RoomMessage)
        cl.add_event_callback(self.on_megolm, MegolmEvent)
        cl.add_event_callback(self.on_member, RoomMemberEvent)
        cl.add_event_callback(self.on_invite, InviteMemberEvent)
        cl.add_response_callback(self.on_sync, SyncResponse)
        cl.add_to_device_callback(self.on_to_device, UnknownToDeviceEvent)
        await cl.sync(timeout=0, full_state=True)
        syncer = asyncio.ensure_future(cl.sync_forever(timeout=1000))
        keys = cl.olm.account.identity_keys
        out({"ready": True, "user_id": cl.user_id, "device_id": cl.device_id,
             "curve25519": keys["curve25519"], "ed25519": keys["ed25519"]})
        await self.commands()
        syncer.cancel()
        await cl.close()


def main():
    asyncio.run(Peer().run())


if __name__ == "__main__":
    main()
