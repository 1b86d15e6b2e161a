"""Security headers on every answer, in one ASGI middleware (outermost, so that error answers
made by other middleware carry them too).

- `Content-Security-Policy`: scripts, styles and everything else only from this origin, no
  inline script, no framing. The API docs page alone may use inline styles and `data:` images
  (Swagger UI draws with them); its scripts are still only ours (services/gateway/docs.py).
- `X-Frame-Options: DENY`, `X-Content-Type-Options: nosniff`, `Referrer-Policy: no-referrer`.
- `Cache-Control: no-store` unless the route chose otherwise: answers carry tokens, people's
  work and documents, which no shared or browser cache should keep.
- `Strict-Transport-Security` only on answers that went out over TLS (the request's scheme is
  https, directly or as a trusted proxy said: EOFFICE_TRUSTED_PROXIES).
- No `Server` header: the gunicorn worker (services/gateway/worker.py) does not add one, and
  any the app sets is removed here."""
from __future__ import annotations

from urllib.parse import urlsplit

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

CSP = ("default-src 'self'; script-src 'self'; object-src 'none'; base-uri 'none'; "
       "frame-ancestors 'none'; form-action 'self'")
DOCS_CSP = f"{CSP}; style-src 'self' 'unsafe-inline'; img-src 'self' data:"
# The web client's page (services/gateway/web.py) shows scans it fetched with the token as
# blob: URLs (images, and PDFs in a frame); its scripts and styles are still only ours.
WEB_CSP = f"{CSP}; img-src 'self' blob:; frame-src 'self' blob:; connect-src 'self'"
WEB_PAGES = ("/", "/track", "/esign/return")
HSTS = "max-age=31536000; includeSubDomains"
ALWAYS = {
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
}


def web_csp(esign_url: str = "") -> str:
    """The page's CSP; with an Aadhaar eSign provider configured, its origin may also receive
    the page's one cross-site form (the eSign request, posted by the officer's browser)."""
    origin = urlsplit(esign_url)
    if origin.scheme not in ("https", "http") or not origin.netloc:
        return WEB_CSP
    return WEB_CSP.replace("form-action 'self'", f"form-action 'self' {origin.scheme}://{origin.netloc}")


class SecurityHeaders:
    def __init__(self, app: ASGIApp, docs_path: str, esign_url: str = ""):
        self.app, self.docs_path, self.web_csp = app, docs_path, web_csp(esign_url)

    async def __call__(self, scope: Scope, receive: Receive, send: Send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        docs = scope["path"] == self.docs_path or scope["path"].startswith(self.docs_path + "/")

        async def send_with_headers(message: Message):
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in ALWAYS.items():
                    headers[name] = value
                headers["content-security-policy"] = (DOCS_CSP if docs else
                                                      self.web_csp if scope["path"] in WEB_PAGES else CSP)
                if "cache-control" not in headers:
                    headers["cache-control"] = "no-store"
                if scope.get("scheme") == "https":
                    headers["strict-transport-security"] = HSTS
                del headers["server"]
            await send(message)

        await self.app(scope, receive, send_with_headers)
