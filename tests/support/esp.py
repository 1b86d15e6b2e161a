"""A stand-in Aadhaar eSign provider's web pages, for the browser tests: the officer's browser
form-posts `eSignRequest` (the `<Esign>` XML) to `url`; the page shows what is to be signed and
two buttons, each a form posting `eSignResponse` back to the request's `responseUrl`: "Sign (OTP
accepted)" (the answer of services/signing/esign.py's StandinEsp, which signs with the test
eSign key) or "Refuse (OTP wrong)" (ESP-944). A `responseUrl` that is a path is taken relative to
`gateway`. It authenticates nobody: tests only."""
from __future__ import annotations

import html
import threading
import xml.etree.ElementTree as ET
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urljoin

from services.signing.esign import StandinEsp


class EspPages:
    def __init__(self, esp: StandinEsp):
        self.esp, self.gateway, self.requests = esp, "", []
        pages = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 (http.server's name)
                length = int(self.headers.get("content-length") or 0)
                form = parse_qs(self.rfile.read(length).decode())
                request = (form.get("eSignRequest") or [""])[0]
                pages.requests.append(request)
                body = pages.page(request).encode()
                self.send_response(200)
                self.send_header("content-type", "text/html; charset=utf-8")
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):  # quiet
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/esign"

    def page(self, request: str) -> str:
        root = ET.fromstring(request)
        back = html.escape(urljoin(self.gateway + "/", root.get("responseUrl", "")), quote=True)

        def answer(label: str, xml: str) -> str:
            return (f'<form method="post" action="{back}"><input type="hidden" name="eSignResponse" '
                    f'value="{html.escape(xml, quote=True)}"><button type="submit">{label}</button></form>')
        digest = html.escape(root.findtext("Docs/InputHash") or "")
        return ("<!doctype html><html lang=en><head><title>Stand-in eSign</title></head><body>"
                f"<h1>Stand-in eSign (tests only)</h1><p>Sign the document with SHA-256 {digest}?</p>"
                + answer("Sign (OTP accepted)", self.esp.answer(request))
                + answer("Refuse (OTP wrong)", self.esp.refuse(request)) + "</body></html>")

    def start(self) -> EspPages:
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
