"""Request ids and body size limits, for every request.

The id comes from a sane `X-Request-ID` header or is made here; it is echoed in the response,
stamped on every log line written while the request is handled, and put in every problem."""
from __future__ import annotations

import contextvars
import logging
import re
import uuid

from starlette.types import ASGIApp, Receive, Scope, Send

_request_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id", default=None)
_SANE = re.compile(r"^[A-Za-z0-9._-]{8,64}$")
HEADER = b"x-request-id"
log = logging.getLogger(__name__)


def current_request_id() -> str | None:
    return _request_id.get()


class RequestIdLogFilter(logging.Filter):
    """Adds `request_id` to every log record ("-" outside a request)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = _request_id.get() or "-"
        return True


class RequestContext:
    """ASGI middleware: request id in and out; refuses bodies declared larger than `max_body`."""

    def __init__(self, app: ASGIApp, max_body: int):
        self.app, self.max_body = app, max_body

    async def __call__(self, scope: Scope, receive: Receive, send: Send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        headers = dict(scope["headers"])
        offered = headers.get(HEADER, b"").decode("latin-1")
        request_id = offered if _SANE.match(offered) else uuid.uuid4().hex
        token = _request_id.set(request_id)

        started = False

        async def send_with_id(message):
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                message["headers"] = [*message.get("headers", []), (HEADER, request_id.encode())]
            await send(message)

        from starlette.requests import Request

        from services.gateway.problems import problem
        try:
            declared = headers.get(b"content-length")
            if declared and declared.isdigit() and int(declared) > self.max_body:
                response = problem(Request(scope), 413, "too-large", title="The request body is too large",
                                   detail=f"at most {self.max_body} bytes are accepted", limit=self.max_body)
                return await response(scope, receive, send_with_id)
            await self.app(scope, receive, send_with_id)
        except Exception:
            # Handled here, inside the request's context, so the answer and the log line carry
            # its id; the client learns nothing of the internals.
            log.exception("unexpected error on %s %s", scope.get("method"), scope.get("path"))
            if not started:
                response = problem(Request(scope), 500, "internal", title="Something went wrong on our side",
                                   detail="It has been logged with this request id.")
                await response(scope, receive, send_with_id)
        finally:
            _request_id.reset(token)
