"""Request ids in the services' log lines.

The gateway sends each call's request id in the nameko context; `RequestLogging` (every
service has it through `ServiceBase`) keeps it for the worker's green thread, `RequestIdFilter`
stamps it on each record, and one line per call says what ran and how long it took."""
from __future__ import annotations

import logging
import time

from eventlet.corolocal import local
from nameko.extensions import DependencyProvider

_current = local()
log = logging.getLogger("eoffice.calls")


class RequestIdFilter(logging.Filter):
    """Adds `request_id` to every record ("-" outside a call that carried one)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = getattr(_current, "request_id", None) or "-"
        return True


class RequestLogging(DependencyProvider):
    def worker_setup(self, worker_ctx):
        _current.request_id = worker_ctx.data.get("request_id")
        _current.started = time.monotonic()

    def worker_result(self, worker_ctx, result=None, exc_info=None):
        elapsed = (time.monotonic() - getattr(_current, "started", time.monotonic())) * 1000
        outcome = "ok" if exc_info is None else exc_info[0].__name__
        log.info("%s.%s %s in %.0f ms", worker_ctx.service_name, worker_ctx.entrypoint.method_name, outcome, elapsed)

    def worker_teardown(self, worker_ctx):
        _current.request_id = None
