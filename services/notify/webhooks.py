"""Sending one webhook: the URL's addresses checked (no private, loopback or link-local target,
also after a redirect and at every delivery), the CloudEvents envelope POSTed to the address
that was checked, signed as the Standard Webhooks specification says, and at most a few
kilobytes of the answer read.

Knows nothing of nameko or the database: `deliver` takes the body and the secrets and returns
an `Outcome`."""

from __future__ import annotations

import ipaddress
import socket
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urljoin, urlsplit

import urllib3
from standardwebhooks.webhooks import Webhook

from eoffice.errors import InvalidInput

MAX_ANSWER_BYTES = 16 * 1024  # of the subscriber's answer we read at most this, then hang up
MAX_REDIRECTS = 3
Resolver = Callable[[str, int], Sequence[str]]


class UnsafeAddress(ValueError):
    """The URL leads (or redirects) somewhere a webhook may not go."""


def resolve(host: str, port: int) -> list[str]:
    """Returns every address `host` resolves to (IPv4 and IPv6)."""
    return sorted({str(info[4][0]) for info in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)})


def allowed(address: str, *, allow_loopback: bool) -> bool:
    """True for a public address; loopback too when allowed (test mode). Private, link-local
    (169.254.0.0/16: cloud metadata), shared, reserved, multicast and unspecified never."""
    ip = ipaddress.ip_address(address)
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    if ip.is_loopback:
        return allow_loopback
    return ip.is_global and not ip.is_multicast


def checked_target(url: str, *, allow_loopback: bool, resolver: Resolver = resolve) -> tuple[str, str, int, str]:
    """Returns (scheme, host, port, address) for `url`, the address one of those the host
    resolves to, all of which are allowed; raises UnsafeAddress saying why not. Plain http is
    refused except to loopback in test mode."""
    parts = urlsplit(url)
    scheme, host = parts.scheme.lower(), parts.hostname
    if scheme not in ("https", "http") or not host:
        raise UnsafeAddress("not an http(s) URL with a host")
    if parts.username or parts.password:
        raise UnsafeAddress("credentials in the URL are not accepted")
    try:
        port = parts.port or (443 if scheme == "https" else 80)
    except ValueError:
        raise UnsafeAddress("the port is not a number from 1 to 65535") from None
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
        raise InvalidInput(f"url: {exc}", field="url", errors=[{"field": "url", "message": str(exc)}]) from None
    return url


def signature_headers(*, event_id: str, body: str, secrets: Sequence[str], now: datetime) -> dict[str, str]:
    """Returns the Standard Webhooks headers: `webhook-id` (the event id: the same on every
    retry), `webhook-timestamp` (this attempt) and `webhook-signature` with one `v1,` signature
    per secret (two while a rotated secret overlaps)."""
    signatures = [Webhook(secret).sign(event_id, now, body) for secret in secrets]
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


def deliver(
    url: str,
    *,
    event_id: str,
    body: str,
    secrets: Sequence[str],
    timeout: float,  # noqa: PLR0913
    allow_loopback: bool,
    resolver: Resolver = resolve,
    pools: dict | None = None,
) -> Outcome:
    """POSTs `body` to `url`: 2xx is success; anything else, no answer within `timeout`
    seconds, or an unsafe address (checked now, and at each 307/308 redirect, at most
    MAX_REDIRECTS) is a failure with the reason. Reads at most MAX_ANSWER_BYTES of any answer.
    `pools` (the caller's, kept between calls) lets connections to a checked address be reused."""
    started = time.monotonic()
    headers = {
        "content-type": "application/cloudevents+json; charset=utf-8",
        "user-agent": "e-Office-webhooks/1",
        **signature_headers(event_id=event_id, body=body, secrets=secrets, now=datetime.now(UTC)),
    }
    status = None
    pools = {} if pools is None else pools

    def post(target: str) -> tuple[int, str | None]:
        return _post_once(
            target,
            headers=headers,
            body=body.encode(),
            timeout=timeout,
            allow_loopback=allow_loopback,
            resolver=resolver,
            pools=pools,
        )

    try:
        for _ in range(MAX_REDIRECTS + 1):
            try:
                status, location = post(url)
            except urllib3.exceptions.ProtocolError:
                # A kept-alive connection the subscriber had closed meanwhile: once more on a new one
                # (the subscriber may then see the event twice, with the same webhook-id).
                for stale in pools.values():
                    stale.close()
                pools.clear()
                status, location = post(url)
            if status in (307, 308) and location:
                url = urljoin(url, location)
                continue
            break
        else:
            return Outcome(False, status, f"more than {MAX_REDIRECTS} redirects", time.monotonic() - started)
    except UnsafeAddress as exc:
        return Outcome(False, status, f"refused: {exc}", time.monotonic() - started)
    except (urllib3.exceptions.HTTPError, OSError) as exc:
        return Outcome(False, status, f"{type(exc).__name__}: {exc}"[:500], time.monotonic() - started)
    ok = status is not None and 200 <= status < 300
    error = (
        None
        if ok
        else (f"redirect ({status}) not followed" if status and 300 <= status < 400 else f"answered {status}")
    )
    return Outcome(ok, status, error, time.monotonic() - started)


def _post_once(
    url: str,
    *,
    headers: dict,
    body: bytes,
    timeout: float,
    allow_loopback: bool,  # noqa: PLR0913
    resolver: Resolver,
    pools: dict,
) -> tuple[int, str | None]:
    """One POST to the checked address of `url` (TLS still verifies the host name); returns
    the status and any Location."""
    scheme, host, port, address = checked_target(url, allow_loopback=allow_loopback, resolver=resolver)
    parts = urlsplit(url)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    host_header = host if parts.port is None else f"{host}:{port}"
    pool = pools.get((scheme, address, port, host))
    if pool is None:
        pool_timeout = urllib3.Timeout(connect=min(timeout, 5.0), read=timeout)
        if scheme == "https":
            pool = urllib3.HTTPSConnectionPool(
                address,
                port,
                timeout=pool_timeout,
                retries=False,
                maxsize=8,
                server_hostname=host,
                assert_hostname=host,
                cert_reqs="CERT_REQUIRED",
            )
        else:
            pool = urllib3.HTTPConnectionPool(address, port, timeout=pool_timeout, retries=False, maxsize=8)
        pools[(scheme, address, port, host)] = pool
    deadline = time.monotonic() + timeout
    response = pool.urlopen(
        "POST",
        path,
        body=body,
        headers={**headers, "host": host_header},
        redirect=False,
        preload_content=False,
        retries=False,
    )
    finished = False
    try:
        # However big or slow the answer, read a little of it, within the time left.
        read = 0
        while read < MAX_ANSWER_BYTES and time.monotonic() < deadline:
            chunk = response.read(min(4096, MAX_ANSWER_BYTES - read))
            if not chunk:
                finished = True
                break
            read += len(chunk)
        return response.status, response.headers.get("location")
    finally:
        if not finished:
            response.close()  # never drain the rest: hang up (the connection is not reused)
        response.release_conn()
