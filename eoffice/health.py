"""Checks of each infrastructure part, for readiness reports. Each returns a dict with
`status` ("ok" or "down") and never raises."""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import partial

import urllib3
from kombu import Connection

from eoffice.settings import Settings

_http = urllib3.PoolManager(timeout=urllib3.Timeout(connect=1, read=3), retries=False)


def _check(fn: Callable[[], dict | None]) -> dict:
    started = time.monotonic()
    try:
        extra = fn() or {}
        return {"status": "ok", **extra, "ms": round((time.monotonic() - started) * 1000)}
    except Exception as exc:
        return {"status": "down", "error": f"{type(exc).__name__}: {exc}"[:300]}


def _get_ok(url: str) -> None:
    response = _http.request("GET", url)
    if response.status != 200:
        raise RuntimeError(f"HTTP {response.status}")


def postgres(db) -> dict:
    """`db` is a `UnitOfWork`."""
    return _check(db.ping)


def rabbitmq(settings: Settings) -> dict:
    def check():
        with Connection(settings.amqp_uri, connect_timeout=2) as conn:
            conn.ensure_connection(max_retries=1)
            channel = conn.channel()
            # The dead-letter queue's depth is the operator's first question.
            try:
                _, count, _ = channel.queue_declare(settings.dead_letter_queue, passive=True)
            except Exception:
                count = 0
            return {"dead_letters": count}

    return _check(check)


def queue_consumers(settings: Settings, queues: list[str]) -> dict[str, dict]:
    """Each queue's check, over one connection: up when something consumes it (its backlog is
    what waits). A service killed a moment ago is seen here at once, while its health RPC
    would still be answered by its successor from the queue."""

    def inspect(conn, queue: str) -> dict:
        def check():
            _, backlog, consumers = conn.channel().queue_declare(queue, passive=True)
            if consumers == 0:
                raise RuntimeError(f"nobody consumes {queue} ({backlog} waiting)")
            return {"backlog": backlog, "consumers": consumers}

        return _check(check)

    try:
        with Connection(settings.amqp_uri, connect_timeout=2) as conn:
            conn.ensure_connection(max_retries=1)
            return {queue: inspect(conn, queue) for queue in queues}
    except Exception as exc:
        return {queue: {"status": "down", "error": f"{type(exc).__name__}: {exc}"[:300]} for queue in queues}


def minio_nodes(settings: Settings) -> dict:
    """One entry per node, plus the cluster's own view (write quorum)."""
    scheme = "https" if settings.minio_secure else "http"
    report = {
        f"minio:{endpoint}": _check(partial(_get_ok, f"{scheme}://{endpoint}/minio/health/live"))
        for endpoint in settings.minio_endpoints
    }

    def cluster():
        errors = []
        for endpoint in settings.minio_endpoints:
            try:
                return _get_ok(f"{scheme}://{endpoint}/minio/health/cluster")
            except Exception as exc:
                errors.append(str(exc))
        raise RuntimeError("no node reports write quorum: " + "; ".join(errors))

    report["minio:cluster"] = _check(cluster)
    return report


def elasticsearch(settings: Settings) -> dict:
    def check():
        response = _http.request("GET", f"{settings.elasticsearch_url}/_cluster/health")
        if response.status != 200:
            raise RuntimeError(f"HTTP {response.status}")
        status = response.json()["status"]
        if status == "red":
            raise RuntimeError("cluster health is red")
        return {"cluster": status}

    return _check(check)
