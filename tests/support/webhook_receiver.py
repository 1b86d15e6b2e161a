"""A local webhook receiver on loopback for the subscription tests and the benchmark: records
what each path received (headers, body, when), and can be told to be slow, to fail, to redirect,
to answer with a huge body, or to be down (its socket closed)."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from standardwebhooks.webhooks import Webhook


class Receiver:
    """One HTTP server on 127.0.0.1; `behaviour[path]` is "ok" (default), "500", "slow:<s>",
    "huge" (a 1 GB answer, streamed), or "redirect:<url>" (307)."""

    def __init__(self, port: int = 0):
        self.received: dict[str, list[dict]] = {}
        self.behaviour: dict[str, str] = {}
        self.lock = threading.Lock()
        self.huge_bytes_sent = 0
        self.port = port
        self.server: ThreadingHTTPServer | None = None

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def start(self) -> Receiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_POST(self):  # noqa: N802  (http.server's name)
                body = self.rfile.read(int(self.headers.get("content-length", 0)))
                mode = receiver.behaviour.get(self.path, "ok")
                if mode.startswith("slow:"):
                    time.sleep(float(mode[5:]))
                if mode == "500":
                    return self._answer(500, b"broken")
                if mode.startswith("redirect:"):
                    self.send_response(307)
                    self.send_header("location", mode[9:])
                    self.send_header("content-length", "0")
                    self.end_headers()
                    return None
                with receiver.lock:
                    receiver.received.setdefault(self.path, []).append(
                        {
                            "headers": {k.lower(): v for k, v in self.headers.items()},
                            "body": body.decode(),
                            "at": time.time(),
                        }
                    )
                if mode == "huge":
                    self.send_response(200)
                    self.send_header("content-length", str(1 << 30))
                    self.end_headers()
                    chunk = b"x" * 65536
                    try:
                        for _ in range((1 << 30) // len(chunk)):
                            self.wfile.write(chunk)
                            receiver.huge_bytes_sent += len(chunk)
                    except OSError:
                        pass  # the sender hung up, as it should
                    return None
                return self._answer(204, b"")

            def _answer(self, status: int, body: bytes):
                self.send_response(status)
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        """Down: the port refuses connections until `start` again (same port)."""
        if self.server:
            self.server.shutdown()
            self.server.server_close()
            self.server = None

    def events(self, path: str) -> list[dict]:
        with self.lock:
            return [json.loads(r["body"]) for r in self.received.get(path, [])]

    def verified(self, path: str, secret: str) -> list[dict]:
        """Every envelope received on `path`, each checked with `secret` (raises if one is not signed by it)."""
        with self.lock:
            got = list(self.received.get(path, []))
        return [Webhook(secret).verify(r["body"], r["headers"]) for r in got]
