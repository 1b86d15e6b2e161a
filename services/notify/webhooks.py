"""Sending one webhook: the URL's addresses checked (no private, loopback or link-local target,
also after a redirect, and again for deliveries once the check is RESOLUTION_TTL seconds old),
the CloudEvents envelope POSTed to the address that was checked (over a kept-alive connection
to it, `Connections`), signed as the Standard Webhooks specification says, and at most a few
kilobytes of the answer read.

The request is one HTTP/1.1 POST written out whole; the answer is parsed by httptools (llhttp,
in C: status, headers, content-length or chunked, keep-alive). http.client did the same for
twice the CPU a delivery (0.19 ms against 0.09 in a bare loop), most of it in building the
request header by header and in parsing the answer's headers with the e-mail parser.

Knows nothing of nameko or the database: `deliver` takes the body and the secrets and returns
an `Outcome`."""

from __future__ import annotations

import ipaddress
import socket
import ssl
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from urllib.parse import urljoin, urlsplit

import httptools
from standardwebhooks.webhooks import Webhook

from eoffice.errors import InvalidInput

MAX_ANSWER_BYTES = 16 * 1024  # of the subscriber's answer we read at most this, then hang up
MAX_REDIRECTS = 3
# Seconds a host's checked addresses are trusted before it is resolved and checked again: DNS
# changes reach the check within this, and a delivery does not pay a lookup each time.
RESOLUTION_TTL = 5.0
IDLE_LIMIT = 4.0  # seconds a kept-alive connection may stay idle and still be reused
MAX_IDLE = 8  # idle connections kept per address (a subscription has at most 8 attempts in flight)
Resolver = Callable[[str, int], Sequence[str]]


class UnsafeAddress(ValueError):
    """The URL leads (or redirects) somewhere a webhook may not go."""


def resolve(host: str, port: int) -> list[str]:
    """Returns every address `host` resolves to (IPv4 and IPv6)."""
    return sorted({str(info[4][0]) for info in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)})


# IPv6 ranges that carry an IPv4 address inside (RFC 4291's IPv4-compatible ::a.b.c.d, RFC
# 6052's NAT64 prefixes, RFC 8215's local-use one): a NAT64 gateway or an old stack reaches the
# IPv4 address inside, and Python's `is_global` calls some of them global. None is a portal.
EMBEDDING_IPV4 = tuple(map(ipaddress.IPv6Network, ("::/96", "64:ff9b::/96", "64:ff9b:1::/48")))


def allowed(address: str, *, allow_loopback: bool) -> bool:
    """True for a public address; loopback too when allowed (test mode). Private, link-local
    (169.254.0.0/16: cloud metadata), shared, reserved, multicast and unspecified never, nor an
    IPv6 address that only wraps an IPv4 one (mapped, 6to4, Teredo, IPv4-compatible, NAT64)
    other than a mapped public one."""
    ip = ipaddress.ip_address(address)
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped:
            ip = ip.ipv4_mapped
        elif ip.sixtofour or ip.teredo or any(ip in net for net in EMBEDDING_IPV4):
            return allow_loopback and ip == ipaddress.IPv6Address("::1")
    if ip.is_loopback:
        return allow_loopback
    # `is_global` alone is not enough: Python 3.11 calls some reserved ranges global.
    return ip.is_global and not (ip.is_reserved or ip.is_private or ip.is_multicast or ip.is_unspecified)


def checked_target(url: str, *, allow_loopback: bool, resolver: Resolver = resolve) -> tuple[str, str, int, str]:
    """Returns (scheme, host, port, address) for `url`, the address one of those the host
    resolves to, all of which are allowed; raises UnsafeAddress saying why not. Plain http is
    refused except to loopback in test mode."""
    if not url.isascii() or any(c <= " " or c == "\x7f" for c in url):
        raise UnsafeAddress("spaces, control characters and non-ASCII characters must be percent-encoded")
    parts = urlsplit(url)
    scheme, host = parts.scheme.lower(), parts.hostname
    if scheme not in ("https", "http") or not host:
        raise UnsafeAddress("not an http(s) URL with a host")
    if parts.username or parts.password:
        raise UnsafeAddress("credentials in the URL are not accepted")
    try:
        port = parts.port
    except ValueError:
        port = 0
    if port == 0:  # urlsplit gives 0 for ":0" and refuses what is not a number up to 65535
        raise UnsafeAddress("the port is not a number from 1 to 65535")
    if port is None:
        port = 443 if scheme == "https" else 80
    try:
        addresses = list(resolver(host, port))
    except OSError as exc:
        raise UnsafeAddress(f"{host} does not resolve ({exc})") from None
    if not addresses:
        raise UnsafeAddress(f"{host} does not resolve")
    refused = [a for a in addresses if not allowed(a, allow_loopback=allow_loopback)]
    if refused:
        raise UnsafeAddress(
            f"{host} resolves to {', '.join(refused)}: private, loopback and link-local addresses are not allowed"
        )
    if scheme == "http" and not all(ipaddress.ip_address(a).is_loopback for a in addresses):
        raise UnsafeAddress("only https:// is accepted")
    return scheme, host, port, addresses[0]


def check_url(url: str, *, allow_loopback: bool, resolver: Resolver = resolve) -> str:
    """Returns `url` if a webhook may be sent there now; raises InvalidInput naming `url`."""
    try:
        checked_target(url, allow_loopback=allow_loopback, resolver=resolver)
    except UnsafeAddress as exc:
        raise InvalidInput(
            f"url: {exc}", field="url", errors=[{"field": "url", "message": str(exc), "type": "unsafe_address"}]
        ) from None
    return url


def signature_headers(*, event_id: str, body: str, secrets: Sequence[str], now: datetime) -> dict[str, str]:
    """Returns the Standard Webhooks headers: `webhook-id` (the event id: the same on every
    retry), `webhook-timestamp` (this attempt) and `webhook-signature` with one `v1,` signature
    per secret (two while a rotated secret overlaps)."""
    signatures = [_signer(secret).sign(event_id, now, body) for secret in secrets]
    return {
        "webhook-id": event_id,
        "webhook-timestamp": str(int(now.timestamp())),
        "webhook-signature": " ".join(signatures),
    }


@dataclass(frozen=True)
class Outcome:
    ok: bool
    status: int | None
    error: str | None
    seconds: float


@lru_cache(maxsize=1)
def _tls_context() -> ssl.SSLContext:
    return ssl.create_default_context()  # the system's CAs, host names checked; loading them costs


class Connections:
    """What one sender (a subscription's worker) keeps between deliveries: the checked address
    of each host it sends to, for RESOLUTION_TTL seconds, and idle kept-alive connections, each
    to one checked address. Green threads may share it; `close()` hangs up every connection."""

    def __init__(self, ttl: float = RESOLUTION_TTL):
        self.ttl = ttl
        self.targets: dict[tuple, tuple[float, tuple[str, str, int, str]]] = {}  # (scheme, netloc, loopback)
        self.idle: dict[tuple, list[tuple[float, socket.socket]]] = {}  # (scheme, address, port, host)

    def target(self, url: str, *, allow_loopback: bool, resolver: Resolver) -> tuple[str, str, int, str]:
        """Returns `checked_target(url)`, resolved and checked again once RESOLUTION_TTL seconds
        old; raises UnsafeAddress. A host that now resolves elsewhere loses its idle connections."""
        parts = urlsplit(url)
        key = (parts.scheme.lower(), parts.netloc.lower(), allow_loopback)
        now = time.monotonic()
        known = self.targets.pop(key, None)
        if known is not None and known[0] > now:
            self.targets[key] = known
            return known[1]
        try:
            found = checked_target(url, allow_loopback=allow_loopback, resolver=resolver)
        except UnsafeAddress:
            if known is not None:
                self._hang_up(self.idle.pop(_route(known[1]), []))
            raise
        if known is not None and _route(known[1]) != _route(found):
            self._hang_up(self.idle.pop(_route(known[1]), []))
        self.targets[key] = (now + self.ttl, found)
        return found

    def take(self, target: tuple[str, str, int, str], timeout: float) -> tuple[socket.socket, bool]:
        """Returns a connection to the checked address and whether it was kept alive from before.
        A new one is connected (within `timeout`, 5 s at most) to the checked address; over
        https its certificate is verified for the URL's host name (sent as SNI). One idle longer
        than IDLE_LIMIT is not reused: servers close idle connections (uvicorn after 5 s), and a
        request on one they are closing fails."""
        idle = self.idle.get(_route(target), [])
        while idle:
            since, connection = idle.pop()
            if time.monotonic() - since < IDLE_LIMIT:
                return connection, True
            connection.close()
        scheme, host, port, address = target
        connection = socket.create_connection((address, port), timeout=min(timeout, 5.0))
        if scheme == "https":
            try:
                connection = _tls_context().wrap_socket(connection, server_hostname=host)
            except BaseException:
                connection.close()
                raise
        return connection, False

    def give_back(self, target: tuple[str, str, int, str], connection: socket.socket) -> None:
        idle = self.idle.setdefault(_route(target), [])
        if len(idle) < MAX_IDLE:
            idle.append((time.monotonic(), connection))
        else:
            connection.close()

    def close(self) -> None:
        for idle in self.idle.values():
            self._hang_up(idle)
        self.idle.clear()

    @staticmethod
    def _hang_up(idle: list) -> None:
        for _, connection in idle:
            connection.close()


def _route(target: tuple[str, str, int, str]) -> tuple:
    scheme, host, port, address = target
    return (scheme, address, port, host)


@lru_cache(maxsize=1024)
def _signer(secret: str) -> Webhook:
    return Webhook(secret)  # decoding the secret each time costs more than the signing


def deliver(
    url: str,
    *,
    event_id: str,
    body: str,
    secrets: Sequence[str],
    timeout: float,  # noqa: PLR0913
    allow_loopback: bool,
    resolver: Resolver = resolve,
    connections: Connections | None = None,
) -> Outcome:
    """POSTs `body` to `url`: 2xx is success; anything else, no answer within `timeout`
    seconds, or an unsafe address (checked at most RESOLUTION_TTL seconds before, and at each
    307/308 redirect, at most MAX_REDIRECTS) is a failure with the reason. Reads at most
    MAX_ANSWER_BYTES of any answer. `connections` (the caller's, kept between calls) lets
    addresses checked and connections to them be reused; without it nothing is kept."""
    started = time.monotonic()
    headers = {
        "content-type": "application/cloudevents+json; charset=utf-8",
        "user-agent": "e-Office-webhooks/1",
        **signature_headers(event_id=event_id, body=body, secrets=secrets, now=datetime.now(UTC)),
    }
    header_lines = "".join(f"{name}: {value}\r\n" for name, value in headers.items())
    status = None
    kept = connections is not None
    connections = Connections() if connections is None else connections
    payload = body.encode()
    try:
        for _ in range(MAX_REDIRECTS + 1):
            status, location = _post_once(
                url,
                headers=header_lines,
                body=payload,
                timeout=timeout,
                allow_loopback=allow_loopback,
                resolver=resolver,
                connections=connections,
            )
            if status in (307, 308) and location:
                url = urljoin(url, location)
                continue
            break
        else:
            return Outcome(False, status, f"more than {MAX_REDIRECTS} redirects", time.monotonic() - started)
    except UnsafeAddress as exc:
        return Outcome(False, status, f"refused: {exc}", time.monotonic() - started)
    except (httptools.HttpParserError, OSError) as exc:
        return Outcome(False, status, f"{type(exc).__name__}: {exc}"[:500], time.monotonic() - started)
    finally:
        if not kept:
            connections.close()
    ok = status is not None and 200 <= status < 300
    error = (
        None
        if ok
        else (f"redirect ({status}) not followed" if status and 300 <= status < 400 else f"answered {status}")
    )
    return Outcome(ok, status, error, time.monotonic() - started)


class _Answer:
    """What httptools has parsed of one answer so far (its parser calls these methods)."""

    __slots__ = ("complete", "headers_done", "keep_alive", "location", "parser", "status")

    def __init__(self):
        self.parser = httptools.HttpResponseParser(self)
        self.location: str | None = None
        self.status, self.headers_done, self.keep_alive, self.complete = 0, False, False, False

    def on_header(self, name: bytes, value: bytes) -> None:
        if name.lower() == b"location":
            self.location = value.decode("latin-1")

    def on_headers_complete(self) -> None:
        # Read now: once the message is complete the parser is reset for the next one.
        self.status, self.keep_alive = self.parser.get_status_code(), self.parser.should_keep_alive()
        self.headers_done = True

    def on_message_complete(self) -> None:
        self.complete = True


class _ClosedUnanswered(ConnectionError):
    """The subscriber closed the connection without answering (a kept-alive one it let go)."""


def _exchange(connection: socket.socket, request: bytes, deadline: float) -> tuple[int, str | None, bool]:
    """Sends the request and reads the answer until it is complete, MAX_ANSWER_BYTES were read
    or `deadline` (monotonic) passed; returns (status, Location, whether the connection may be
    reused). Raises OSError when no complete status and headers came in time."""
    answer = _Answer()
    connection.settimeout(max(0.001, deadline - time.monotonic()))
    connection.sendall(request)
    read = 0
    while not answer.complete and read < MAX_ANSWER_BYTES:
        left = deadline - time.monotonic()
        if left <= 0:
            if answer.headers_done:
                break  # however big or slow the body: the status is what counts
            raise TimeoutError("no answer in time")
        connection.settimeout(left)
        chunk = connection.recv(min(4096, MAX_ANSWER_BYTES - read))
        if not chunk:
            if read == 0:
                raise _ClosedUnanswered("the connection was closed before any answer")
            break  # closed after answering: a body delimited by the close
        read += len(chunk)
        answer.parser.feed_data(chunk)
    if not answer.headers_done:
        raise ConnectionError(f"the answer ended within its status and headers ({read} bytes read)")
    return answer.status, answer.location, answer.complete and answer.keep_alive


def _post_once(
    url: str,
    *,
    headers: str,
    body: bytes,
    timeout: float,
    allow_loopback: bool,  # noqa: PLR0913
    resolver: Resolver,
    connections: Connections,
) -> tuple[int, str | None]:
    """One POST to the checked address of `url` (TLS still verifies the host name), with
    `headers` (lines, each ending in CRLF) and the host and length; returns the status and any
    Location. A kept-alive connection the subscriber closed meanwhile is replaced by a new one,
    once (the subscriber may then see the event twice, same webhook-id). However big or slow
    the answer, at most MAX_ANSWER_BYTES of it are read within `timeout`, then the connection
    is hung up (never drained)."""
    target = connections.target(url, allow_loopback=allow_loopback, resolver=resolver)
    parts = urlsplit(url)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    # host[:port] as the URL has it (no credentials: refused); the URL is ASCII without spaces or controls.
    request = (
        f"POST {path} HTTP/1.1\r\nhost: {parts.netloc}\r\n{headers}content-length: {len(body)}\r\n\r\n".encode() + body
    )
    connection, reused = connections.take(target, timeout)
    deadline = time.monotonic() + timeout  # once connected (connecting has its own limit, 5 s at most)
    reusable = False
    try:
        try:
            status, location, reusable = _exchange(connection, request, deadline)
        except ConnectionError:
            if not reused:
                raise
            connection.close()
            connections.close()  # the others idle as long may be closed by now too
            connection, _ = connections.take(target, timeout)
            status, location, reusable = _exchange(connection, request, deadline)
        return status, location
    finally:
        if reusable:
            connections.give_back(target, connection)
        else:
            connection.close()  # never drain the rest: hang up (also when a timeout unwinds through here)
