#!/usr/bin/env python3
"""fakehs: a fault-injecting fake Matrix homeserver for the tests.

    python3 t/fakehs.py [--log FILE] [--count N] [--retry-after-ms MS]
                        [--delay S] [--media-v1] SCENARIO

Listens on 127.0.0.1, port chosen by the system, prints the port as the
first line of stdout, and serves until killed.  Each request is appended to
the log: its request line "METHOD PATH" (PATH as sent, still encoded), its
headers indented by two spaces (the Authorization value replaced by
"Bearer <token>"), and "  [body N bytes]".

Scenarios (the fault hits the first --count requests, default 2, where
that makes sense; then the fake answers normally):
  ok                  no fault
  429                 429 M_LIMIT_EXCEEDED with retry_after_ms
  always-429          429 on every request
  retry-after-header  429 without retry_after_ms, header Retry-After: 1
  500                 500 M_UNKNOWN
  always-500          500 on every request
  truncated           200 whose JSON body is cut short (valid framing)
  malformed           200 with a body that is not JSON
  slow                every answer waits --delay seconds (default 3)
  drop                the connection closes without an answer
  404-json            404 M_NOT_FOUND on every request
  404-plain           404 text/html on every request
  403                 403 M_FORBIDDEN on every request
  well-known          serves /.well-known/matrix/client pointing to itself
  well-known-bad      /.well-known/matrix/client without m.homeserver
  partial-download    downloads send half their announced body and hang up
Hostile scenarios (every request):
  endless             200 JSON whose chunked body never ends
  gzip-bomb           200 gzip-encoded JSON that inflates to 300 MiB
  huge-length         200 announcing a Content-Length of 1 TiB
  403-escape          403 whose error text holds terminal escapes, a bell,
                      a newline and a C1 CSI
  messages-loop       /messages: one event, and the token it came from
  messages-empty      /messages: empty pages, each with a new token
--state FILE answers GET /rooms/{id}/state with FILE's bytes, as they are;
--messages FILE answers GET /rooms/{id}/messages so.
Normal answers: /versions, /login, /account/whoami, send (the same txn
gets the same event id), createRoom, join, directory, /sync, media
upload/download (stored bytes), media config; anything else 200 {}.
"""
import argparse
import http.server
import zlib
import json
import re
import signal
import sys
import threading
import time

A = None
lock = threading.Lock()
state = {"n": 0, "events": {}, "media": {}}


def log_request(h, body):
    lines = ["%s %s" % (h.command, h.path)]
    for k, v in h.headers.items():
        if k.lower() == "authorization":
            v = "Bearer <token>" if v.startswith("Bearer ") else "<other>"
        lines.append("  %s: %s" % (k, v))
    lines.append("  [body %d bytes]" % len(body))
    if A.log:
        with open(A.log, "a") as f:
            f.write("\n".join(lines) + "\n")


def versions():
    v = ["v1.%d" % i for i in range(1, 12 if A.media_v1 else 11)]
    return {"versions": ["r0.6.1"] + v}


def normal(h, body):
    """The answer of a well-behaved server: (status, headers, body)."""
    p = h.path.split("?")[0]
    me = "@fake:localhost"
    if p == "/_matrix/client/versions":
        return 200, {}, versions()
    if p == "/.well-known/matrix/client" and A.scenario == "well-known":
        port = h.server.server_address[1]
        return 200, {}, {"m.homeserver": {
            "base_url": "http://127.0.0.1:%d/" % port}}
    if p == "/.well-known/matrix/client" and A.scenario == "well-known-bad":
        return 200, {}, {"m.identity_server": {}}
    if p == "/.well-known/matrix/client":
        return 404, {}, {"errcode": "M_NOT_FOUND", "error": "no well-known"}
    if p.endswith("/login"):
        return 200, {}, {"user_id": me, "device_id": "FAKEDEV",
                         "access_token": "syt_fake_secret_token"}
    if p.endswith("/account/whoami"):
        return 200, {}, {"user_id": me, "device_id": "FAKEDEV"}
    if "/send/" in p or "/redact/" in p:
        with lock:
            ev = state["events"].setdefault(
                p, "$ev%d" % (len(state["events"]) + 1))
        return 200, {}, {"event_id": ev}
    if p.endswith("/createRoom") or "/join/" in p or "/directory/room/" in p:
        return 200, {}, {"room_id": "!new:localhost"}
    if p.endswith("/messages") and A.scenario == "messages-loop":
        return 200, {}, {"chunk": [{"type": "m.room.message",
                                    "event_id": "$loop", "sender": me,
                                    "content": {"body": "again"}}],
                         "start": "t1", "end": "t1"}
    if p.endswith("/messages") and A.scenario == "messages-empty":
        with lock:
            state["pages"] = state.get("pages", 0) + 1
            n = state["pages"]
        return 200, {}, {"chunk": [], "start": "t%d" % n,
                         "end": "t%d" % (n + 1)}
    if p.endswith("/joined_rooms"):
        return 200, {}, {"joined_rooms": ["!r:localhost"]}
    if p.endswith("/sync"):
        return 200, {}, {"next_batch": "s1", "rooms": {}}
    if p.endswith("/media/v3/upload"):
        with lock:
            mid = "m%d" % (len(state["media"]) + 1)
            state["media"][mid] = (body, h.headers.get("Content-Type"))
        return 200, {}, {"content_uri": "mxc://localhost/" + mid}
    m = re.search(r"/download/[^/]+/([^/?]+)$", p)
    if m and m.group(1) in state["media"]:
        data, ctype = state["media"][m.group(1)]
        return 200, {"Content-Type": ctype or "application/octet-stream",
                     "Content-Disposition": 'inline; filename="f.bin"'}, data
    if m:
        return 404, {}, {"errcode": "M_NOT_FOUND", "error": "no media"}
    if "/media/" in p and p.endswith("/config"):
        return 200, {}, {"m.upload.size": 1000}
    if A.messages and h.command == "GET" and p.endswith("/messages"):
        with open(A.messages, "rb") as f:
            return 200, {"Content-Type": "application/json"}, f.read()
    if A.state and h.command == "GET" and p.endswith("/state"):
        with open(A.state, "rb") as f:
            return 200, {"Content-Type": "application/json"}, f.read()
    if h.command == "GET" and "/state/" in p:
        # No state of any kind: a room that is not encrypted.
        return 404, {}, {"errcode": "M_NOT_FOUND", "error": "no state"}
    return 200, {}, {}


def fault(n):
    """The fault for request number n (1-based), or None."""
    s, first = A.scenario, n <= A.count
    limited = {"errcode": "M_LIMIT_EXCEEDED", "error": "Too Many Requests"}
    if s == "429" and first or s == "always-429":
        return 429, {}, dict(limited, retry_after_ms=A.retry_after_ms)
    if s == "retry-after-header" and n == 1:
        return 429, {"Retry-After": "1"}, limited
    if s == "500" and first or s == "always-500":
        return 500, {}, {"errcode": "M_UNKNOWN", "error": "Internal error"}
    if s == "truncated" and first:
        return 200, {}, b'{"event_id": "$trunc'
    if s == "malformed" and first:
        return 200, {"Content-Type": "text/html"}, b"<html>oops</html>"
    if s == "drop" and first:
        return "drop"
    if s == "404-json":
        return 404, {}, {"errcode": "M_NOT_FOUND", "error": "Room not found"}
    if s == "404-plain":
        return 404, {"Content-Type": "text/html"}, b"<h1>Not Found</h1>"
    if s == "403-escape":
        return 403, {}, {"errcode": "M_FORBIDDEN",
                         "error": "\x1b[2J\x1b]0;pwned\x07no\nforged line\u009b1m"}
    if s == "403":
        return 403, {}, {"errcode": "M_FORBIDDEN", "error": "not in room"}
    return None


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def handle_any(self):
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n) if n else b""
        with lock:
            state["n"] += 1
            k = state["n"]
            log_request(self, body)
        if A.scenario == "slow":
            time.sleep(A.delay)
        ans = fault(k) or normal(self, body)
        if ans == "drop":
            self.close_connection = True
            return
        if A.scenario in HOSTILE:
            return HOSTILE[A.scenario](self)
        if A.scenario == "partial-download" and "/download/" in self.path:
            with lock:
                state["downloads"] = state.get("downloads", 0) + 1
                if state["downloads"] <= A.count:
                    return self.partial(*ans)
        self.answer(*ans)

    def partial(self, status, headers, body):
        """Announce the whole body, send half of it, hang up."""
        self.send_response(status)
        for k, v in headers.items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body[:len(body) // 2])
        self.wfile.flush()
        self.close_connection = True

    def answer(self, status, headers, body):
        if not isinstance(body, bytes):
            body = json.dumps(body).encode()
            headers.setdefault("Content-Type", "application/json")
        self.send_response(status)
        for k, v in headers.items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        try:
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass

    do_GET = do_PUT = do_POST = do_DELETE = handle_any

    def endless(self):
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        chunk = b" " * 65536
        frame = b"%x\r\n%s\r\n" % (len(chunk), chunk)
        try:
            self.wfile.write(b'1\r\n[\r\n')
            while True:
                self.wfile.write(frame)
        except (BrokenPipeError, ConnectionResetError):
            pass
        self.close_connection = True

    def gzip_bomb(self):
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Encoding", "gzip")
        self.send_header("Content-Length", str(len(bomb())))
        self.end_headers()
        try:
            self.wfile.write(bomb())
        except (BrokenPipeError, ConnectionResetError):
            pass
        self.close_connection = True

    def huge_length(self):
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(1 << 40))
        self.end_headers()
        try:
            while True:
                self.wfile.write(b" " * 65536)
        except (BrokenPipeError, ConnectionResetError):
            pass
        self.close_connection = True


HOSTILE = {"endless": Handler.endless, "gzip-bomb": Handler.gzip_bomb,
           "huge-length": Handler.huge_length}
_bomb = []


def bomb():
    """A gzip stream of '[' and 300 MiB of spaces (about 300 KB)."""
    if not _bomb:
        z = zlib.compressobj(9, zlib.DEFLATED, 31)
        mib = b" " * (1 << 20)
        parts = [z.compress(b"[")] + [z.compress(mib) for _ in range(300)]
        _bomb.append(b"".join(parts) + z.flush())
    return _bomb[0]


def main():
    global A
    ap = argparse.ArgumentParser()
    ap.add_argument("scenario")
    ap.add_argument("--log")
    ap.add_argument("--count", type=int, default=2)
    ap.add_argument("--retry-after-ms", type=int, default=300)
    ap.add_argument("--delay", type=float, default=3)
    ap.add_argument("--media-v1", action="store_true")
    ap.add_argument("--state")
    ap.add_argument("--messages")
    A = ap.parse_args()
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    srv.daemon_threads = True
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    print(srv.server_address[1], flush=True)
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
