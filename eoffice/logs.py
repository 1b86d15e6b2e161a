"""Request ids in the services' log lines, and one line per call.

The gateway sends each call's request id in the nameko context; `RequestLogging` (every
service has it through `ServiceBase`) keeps it for the worker's green thread, `RequestIdFilter`
stamps it on each record, and one line per call says what ran and how long it took.

A refusal (a `DomainError` below 500: invalid input, not found, forbidden, conflict) is the
caller's mistake, not a fault: its call line says so at INFO with the error and its detail, and
nameko's own ERROR record with the traceback is dropped (`RefusalsAreNotFaults`). Anything
else raised by an RPC keeps nameko's traceback at ERROR."""

from __future__ import annotations

import logging
import time

from eventlet.corolocal import local
from nameko.extensions import DependencyProvider
from nameko.rpc import Rpc

from eoffice.errors import DomainError

_current = local()
log = logging.getLogger("eoffice.calls")


def lean_log_records() -> None:
    """Log records stop carrying what no format of ours prints: the thread, the
    multiprocessing process name, and the caller's file and line (the logging HOWTO's
    "Optimization"). Each cost a look-up on every record, and under eventlet the thread's was
    dear: a worker's green thread is unknown to `threading`, so `current_thread()` went through
    every thread each time: 8% of the samples in a profile of an OCR worker taking events it had
    nothing to do for (docs/benchmarks.md). The process id stays: gunicorn's own lines print it."""
    logging.logThreads = False
    logging.logMultiprocessing = False
    logging._srcfile = None  # the switch the HOWTO gives for the caller's file and line


def refused(worker_ctx, exc: BaseException | None) -> bool:
    """Whether an RPC raised to refuse its caller's request (their mistake) rather than failed.
    (An event handler that raises has failed, whatever it raised: it is retried.)"""
    return (
        isinstance(exc, DomainError) and exc.status < 500 and isinstance(getattr(worker_ctx, "entrypoint", None), Rpc)
    )


LINE_FORMAT = "%(asctime)s %(levelname)s [%(request_id)s] %(name)s: %(message)s"
# C0 control characters and DEL as the escapes Python writes for them (a tab too).
_ESCAPES = {c: repr(chr(c))[1:-1] for c in [*range(0x20), 0x7F]}


class OneLineFormatter(logging.Formatter):
    """Writes a record's message on one line: a line break or other control character in it
    (a value someone typed, such as an address with "\r\nBcc: ..." in it) is escaped as
    `\r`, `\n` ..., so no input can forge a log line of its own. A traceback still follows
    on lines of its own. Our one line format unless told another."""

    def __init__(self, fmt: str = LINE_FORMAT, **kwargs) -> None:
        super().__init__(fmt, **kwargs)

    def formatMessage(self, record: logging.LogRecord) -> str:
        if not record.message.isprintable():  # in C: almost every message is
            record.message = record.message.translate(_ESCAPES)
        return super().formatMessage(record)


class RequestIdFilter(logging.Filter):
    """Adds `request_id` to every record ("-" outside a call that carried one)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = getattr(_current, "request_id", None) or "-"
        return True


class RefusalsAreNotFaults(logging.Filter):
    """On nameko's container logger: drops the "error handling worker" record (ERROR, with a
    traceback) of an RPC that refused its caller; `RequestLogging` has logged the refusal."""

    def filter(self, record: logging.LogRecord) -> bool:
        worker_ctx = record.args[0] if isinstance(record.args, tuple) and record.args else None
        return not (record.exc_info and refused(worker_ctx, record.exc_info[1]))


class RequestLogging(DependencyProvider):
    def setup(self):
        lean_log_records()
        # A filter on the logger itself, so it holds whatever handlers the config sets up.
        containers = logging.getLogger("nameko.containers")
        if not any(isinstance(f, RefusalsAreNotFaults) for f in containers.filters):
            containers.addFilter(RefusalsAreNotFaults())

    def worker_setup(self, worker_ctx):
        _current.request_id = worker_ctx.data.get("request_id")
        _current.started = time.monotonic()

    def worker_result(self, worker_ctx, result=None, exc_info=None):
        elapsed = (time.monotonic() - getattr(_current, "started", time.monotonic())) * 1000
        call = f"{worker_ctx.service_name}.{worker_ctx.entrypoint.method_name}"
        if exc_info is not None and refused(worker_ctx, exc_info[1]):
            error = exc_info[1]
            log.info(
                "%s refused: %s (%d) %s in %.0f ms", call, type(error).__name__, error.status, error.detail, elapsed
            )
            return
        outcome = "ok" if exc_info is None else exc_info[0].__name__
        log.info("%s %s in %.0f ms", call, outcome, elapsed)

    def worker_teardown(self, worker_ctx):
        _current.request_id = None
