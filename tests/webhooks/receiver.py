"""A webhook receiver written from docs/api.md ("Webhooks" → "Verifying the signature") alone:
it knows the secret, the header format, the 5-minute tolerance and nothing of the sender's code.
"""

import hashlib
import hmac
import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

TOLERANCE_SECONDS = 300


def verify(secret: str, raw_body: bytes, signature_header: str) -> bool:
    """Steps 1-5 of docs/api.md, as a receiver would copy them."""
    parts = dict(p.split("=", 1) for p in signature_header.split(",") if "=" in p)
    try:
        timestamp = int(parts["t"])
        received = parts["v1"]
    except (KeyError, ValueError):
        return False
    if abs(time.time() - timestamp) > TOLERANCE_SECONDS:
        return False
    message = str(timestamp).encode() + b"." + raw_body
    expected = hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, received)


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes
    verified: bool
    payload: Any


@dataclass
class Receiver:
    """An HTTP server on 127.0.0.1 that verifies each POST and records it."""

    secret: str = ""
    answer_status: int = 200
    received: list[Received] = field(default_factory=list)
    server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        assert self.server is not None
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}/hooks"

    @property
    def verified(self) -> list[Received]:
        return [r for r in self.received if r.verified]

    def start(self) -> "Receiver":
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                ok = verify(receiver.secret, raw, self.headers.get("Webhook-Signature", ""))
                payload = json.loads(raw) if ok else None
                receiver.received.append(Received(dict(self.headers.items()), raw, ok, payload))
                status = receiver.answer_status if ok else 400
                reply = json.dumps({"ok": ok, "status": status}).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
