"""Rate limits: at most COUNT requests for one key in a fixed window of SECONDS
(`EOFFICE_RATE_*` = "COUNT/SECONDS"), counted in the gateway's schema so that every gunicorn
worker process shares one count.

Keys name a scope, its window and who is counted (`sign-in-client/300:203.0.113.7`): the
client address (`client_address`), the e-mail being signed in to, or the signed-in user. A
request over a limit is refused with `TooManyRequests` (429, `Retry-After`: the seconds until
its window ends); refused requests count too, so hammering does not help. The first refusal
of a key in each window is logged. A window may let through up to twice COUNT across its
boundary; that is the price of one row and one statement per key."""
from __future__ import annotations

import ipaddress
import logging
import math
import time

from fastapi import Request
from sqlalchemy import case, delete
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.exc import OperationalError

from eoffice.errors import TooManyRequests, Unavailable
from eoffice.settings import rate
from services.gateway.models import rate_counters

log = logging.getLogger(__name__)

# Each scope and the setting that limits it.
SCOPES = {
    "sign-in-client": "rate_sign_in_client",
    "sign-in-account": "rate_sign_in_account",
    "tracking-client": "rate_tracking_client",
    "upload-client": "rate_upload_client",
    "upload-account": "rate_upload_account",
}
SWEEP_EVERY = 600.0  # seconds between removals of counters whose window has long ended
_next_sweep = 0.0  # per worker process


def client_address(request: Request) -> str:
    """The address requests are counted by: the peer, or what a proxy named in
    EOFFICE_TRUSTED_PROXIES reported (applied by uvicorn's ProxyHeadersMiddleware in the app).
    An IPv6 client counts by its /64, the block one subscriber is usually given."""
    host = request.client.host if request.client else "unknown"
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return host  # e.g. "testclient" in tests
    if address.version == 4:
        return str(address)
    if address.ipv4_mapped:  # ::ffff:203.0.113.7 is 203.0.113.7
        return str(address.ipv4_mapped)
    return str(ipaddress.ip_network(f"{address}/64", strict=False))


def hit(request: Request, *keys: tuple[str, str]) -> None:
    """Counts this request once against each (scope, who) key; raises TooManyRequests when any
    of them is over its limit, Unavailable when the database does not answer."""
    settings, now = request.app.state.settings, time.time()
    limits, rows = {}, []
    for scope, who in keys:
        count, seconds = rate(getattr(settings, SCOPES[scope]))
        key = f"{scope}/{seconds}:{who}"[:300]  # a changed window starts afresh
        limits[key] = (count, seconds)
        rows.append({"key": key, "window_start": int(now // seconds * seconds), "hits": 1})
    rows.sort(key=lambda row: row["key"])  # the same lock order in every statement: no deadlock
    upsert = insert(rate_counters).values(rows)
    upsert = upsert.on_conflict_do_update(index_elements=[rate_counters.c.key], set_={
        "hits": case((rate_counters.c.window_start == upsert.excluded.window_start, rate_counters.c.hits + 1),
                     else_=1),
        "window_start": upsert.excluded.window_start,
    }).returning(rate_counters.c.key, rate_counters.c.window_start, rate_counters.c.hits)
    try:
        with request.app.state.db.transaction() as db:
            counted = db.execute(upsert).all()
            _sweep(db, now, settings)
    except OperationalError as exc:
        raise Unavailable("the gateway's database is not answering") from exc
    over = [(key, start, hits) for key, start, hits in counted if hits > limits[key][0]]
    if not over:
        return
    retry_after = max(math.ceil(start + limits[key][1] - now) for key, start, _ in over)
    for key, _, hits in over:
        if hits == limits[key][0] + 1:
            log.warning("rate limit reached: %s made more than %d requests in %d s; refusing for %d s",
                        key, *limits[key], retry_after)
    raise TooManyRequests(f"too many requests; try again in {retry_after} s", retry_after=max(retry_after, 1))


def _sweep(db, now: float, settings) -> None:
    """Now and then, removes the counters whose window has ended (a missing counter and an
    ended one mean the same)."""
    global _next_sweep
    if now < _next_sweep:
        return
    _next_sweep = now + SWEEP_EVERY
    longest = max(rate(getattr(settings, name))[1] for name in SCOPES.values())
    db.execute(delete(rate_counters).where(rate_counters.c.window_start < now - longest))


def tracking(request: Request) -> None:
    """Dependency of the public tracking page: a limit per client address."""
    hit(request, ("tracking-client", client_address(request)))
