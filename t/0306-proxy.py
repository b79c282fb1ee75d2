#!/usr/bin/env python3
"""A forwarding proxy in front of the test homeserver that can lose the
answer of a send after the server has acted on it, for the idempotent-send
tests of mx-send (t/0306-txn.t) and the crash tests of encrypted sends
(t/0530-e2ee-crash.t, t/0531-e2ee-kill.t).

    python3 t/0306-proxy.py UPSTREAM MODEFILE LOG [SENDS]

Prints its port, then forwards every request to UPSTREAM.  For a
PUT .../send/... or .../redact/... the first line of MODEFILE decides:
  pass       answer as the server did (also when MODEFILE is absent)
  hang       forward, then never answer (the client times out or is killed)
  lose-once  forward, then answer 502 instead; MODEFILE becomes "pass"
  slow MS    forward, then answer as the server did MS milliseconds later
  swallow    never forward: answer 200 with a made-up event ID, so the
             client believes it sent what the server never saw
For a POST .../keys/query, MODEFILE's "unsigned-ssk" makes the answer
hostile: the self-signing keys lose their signatures (a server passing
off a self-signing key the master key never signed), for
t/0804-cross-signing-ssss.t; "refuse-default-key" answers a PUT of the
account data m.secret_storage.default_key 403 M_FORBIDDEN, without
forwarding it.
Each such PUT path is appended to LOG once the server has answered (at
once for swallow), so a line there means the server has the event.  With
SENDS, a JSON line {"path","request","status","answer"} is appended there
first: the request body the client sent and what the server answered.
"""
import http.server
import json
import sys
import time
import urllib.error
import urllib.request

UP, MODE, LOG = sys.argv[1], sys.argv[2], sys.argv[3]
SENDS = sys.argv[4] if len(sys.argv) > 4 else None


def mode():
    try:
        with open(MODE) as f:
            return f.readline().strip() or "pass"
    except OSError:
        return "pass"


def as_json(data):
    try:
        return json.loads(data or b"null")
    except ValueError:
        return data.decode("utf-8", "replace")


class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def forward(self, body):
        req = urllib.request.Request(UP + self.path, data=body,
                                     method=self.command)
        for k in ("Authorization", "Content-Type"):
            if self.headers.get(k):
                req.add_header(k, self.headers[k])
        try:
            with urllib.request.urlopen(req) as r:
                return r.status, r.headers.get("Content-Type"), r.read()
        except urllib.error.HTTPError as r:
            return r.code, r.headers.get("Content-Type"), r.read()

    def answer(self, status, ctype, data):
        self.send_response(status)
        self.send_header("Content-Type", ctype or "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def handle_any(self):
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n) if n else None
        sending = self.command == "PUT" and (
            "/send/" in self.path or "/redact/" in self.path)
        m = (mode().split() if sending else []) + ["pass"]
        if (self.command == "PUT" and mode() == "refuse-default-key" and
                "/account_data/m.secret_storage.default_key" in self.path):
            return self.answer(403, "application/json",
                               b'{"errcode":"M_FORBIDDEN","error":"no"}')
        if m[0] == "swallow":
            status, ctype = 200, "application/json"
            data = json.dumps({"event_id": "$swallowed-" +
                               self.path.rsplit("/", 1)[-1]}).encode()
        else:
            status, ctype, data = self.forward(body)
        if (self.command == "POST" and "/keys/query" in self.path and
                status == 200 and mode() == "unsigned-ssk"):
            q = json.loads(data)
            for k in q.get("self_signing_keys", {}).values():
                k.pop("signatures", None)
            data = json.dumps(q).encode()
        if sending:
            if SENDS:
                with open(SENDS, "a") as f:
                    f.write(json.dumps({
                        "path": self.path,
                        "request": as_json(body),
                        "status": status,
                        "answer": as_json(data)}) + "\n")
            with open(LOG, "a") as f:
                f.write(self.path + "\n")
            if m[0] == "slow":
                time.sleep(int(m[1]) / 1000)
            if m[0] == "hang":
                while True:
                    time.sleep(60)
            if m[0] == "lose-once":
                with open(MODE, "w") as f:
                    f.write("pass\n")
                status, ctype = 502, "application/json"
                data = b'{"errcode":"M_UNKNOWN","error":"lost"}'
        self.answer(status, ctype, data)

    do_GET = do_PUT = do_POST = do_DELETE = handle_any


s = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
print(s.server_address[1], flush=True)
s.serve_forever()
