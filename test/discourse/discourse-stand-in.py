"""
A stand-in Discourse forum, written only from the DiscourseConnect documents (no sso-bridge code):

- meta.discourse.org/t/13045 "Setup DiscourseConnect - Official Single-Sign-On for Discourse":
  GET /session/sso makes a random nonce, the payload "nonce=NONCE&return_sso_url=RETURN_URL",
  Base64-encodes it, signs the Base64 text with HMAC-SHA256 (hex) under the connect secret and
  redirects to discourse_connect_url?sso=...&sig=...; GET /session/sso_login checks the provider's
  sig, decodes sso, checks the nonce is one it made and not yet used (Discourse: 10 minutes),
  and "signs in" the user of the payload: the page answers the fields as JSON.
- meta.discourse.org/t/84398 "Sync DiscourseConnect user data with the sync_sso route":
  POST /admin/users/sync_sso with Api-Key / Api-Username headers and sso/sig.
- "Logging out users": GET /u/by-external/{external_id}.json, POST /admin/users/{id}/log_out.

GET /_records answers everything it received, for the test. Usage:
  python3 discourse-stand-in.py SECRET API_KEY DISCOURSE_CONNECT_URL
Prints the port it listens on (127.0.0.1) as its first line.
"""
import base64
import hashlib
import hmac
import json
import secrets
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlencode, urlsplit

SECRET = sys.argv[1].encode()
API_KEY = sys.argv[2]
CONNECT_URL = sys.argv[3]

lock = threading.Lock()
nonces = {}  # nonce -> expiry (epoch s)
users = {}  # external_id -> {"id": n, fields...}
records = {"logins": [], "refused": [], "syncs": [], "log_outs": []}


def sign(b64):
    return hmac.new(SECRET, b64.encode(), hashlib.sha256).hexdigest()


def verify(sso, sig):
    """The document: HMAC-SHA256 of the Base64 text, hex; compared in constant time."""
    if sso is None or sig is None:
        return None
    if not hmac.compare_digest(sign(sso), sig):
        return None
    return dict(parse_qsl(base64.b64decode(sso).decode("utf-8"), keep_blank_values=True))


def remember(fields):
    ext = fields["external_id"]
    user = users.get(ext) or {"id": len(users) + 1}
    user.update(fields)
    users[ext] = user
    return user


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def answer(self, status, body, ctype="application/json", headers=None):
        data = body.encode() if isinstance(body, str) else body
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def api_ok(self):
        return self.headers.get("Api-Key") == API_KEY and self.headers.get("Api-Username") == "system"

    def do_GET(self):
        url = urlsplit(self.path)
        q = dict(parse_qsl(url.query, keep_blank_values=True))
        if url.path == "/session/sso":
            nonce = secrets.token_hex(16)
            with lock:
                nonces[nonce] = time.time() + 600
            host = self.headers.get("Host")
            payload = urlencode({"nonce": nonce, "return_sso_url": f"http://{host}/session/sso_login"})
            b64 = base64.b64encode(payload.encode()).decode()
            target = CONNECT_URL + ("&" if "?" in CONNECT_URL else "?") + urlencode({"sso": b64, "sig": sign(b64)})
            return self.answer(302, "", "text/plain", {"Location": target})
        if url.path == "/session/sso_login":
            fields = verify(q.get("sso"), q.get("sig"))
            if fields is None:
                with lock:
                    records["refused"].append("signature")
                return self.answer(403, json.dumps({"error": "bad signature"}))
            with lock:
                expiry = nonces.pop(fields.get("nonce"), None)
                if expiry is None or expiry < time.time():
                    records["refused"].append("nonce")
                    return self.answer(403, json.dumps({"error": "bad nonce"}))
                if not fields.get("external_id") or not fields.get("email"):
                    records["refused"].append("fields")
                    return self.answer(403, json.dumps({"error": "missing external_id or email"}))
                records["logins"].append(fields)
                remember({k: v for k, v in fields.items() if k != "nonce"})
            return self.answer(200, json.dumps({"signed_in": fields}))
        if url.path.startswith("/u/by-external/") and url.path.endswith(".json"):
            if not self.api_ok():
                return self.answer(403, "{}")
            ext = url.path[len("/u/by-external/"):-len(".json")]
            with lock:
                user = users.get(ext)
            if user is None:
                return self.answer(404, json.dumps({"errors": ["not found"]}))
            return self.answer(200, json.dumps({"user": {"id": user["id"], "username": user.get("username")}}))
        if url.path == "/_records":
            with lock:
                return self.answer(200, json.dumps(records))
        return self.answer(404, "{}")

    def do_POST(self):
        url = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        body = dict(parse_qsl(self.rfile.read(length).decode(), keep_blank_values=True))
        if not self.api_ok():
            return self.answer(403, json.dumps({"error": "api key"}))
        if url.path == "/admin/users/sync_sso":
            fields = verify(body.get("sso"), body.get("sig"))
            if fields is None or not fields.get("external_id"):
                with lock:
                    records["refused"].append("sync")
                return self.answer(403, json.dumps({"error": "bad signature"}))
            with lock:
                records["syncs"].append(fields)
                user = remember(fields)
            return self.answer(200, json.dumps({"id": user["id"]}))
        parts = url.path.split("/")
        if len(parts) == 5 and parts[1:3] == ["admin", "users"] and parts[4] == "log_out":
            with lock:
                records["log_outs"].append(int(parts[3]))
            return self.answer(200, json.dumps({"success": "OK"}))
        return self.answer(404, "{}")


server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
print(server.server_address[1], flush=True)
server.serve_forever()
