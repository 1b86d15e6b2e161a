"""What every nameko service of ours has: a database, an outbox, the health entrypoints,
idempotency keys for the calls that change data, and an `rpc` entrypoint that survives the
broker going away."""

from __future__ import annotations

import functools
import inspect
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

import eventlet
import nameko.rpc
from nameko.exceptions import IncorrectSignature
from nameko.timer import timer
from sqlalchemy import Table
from sqlalchemy.orm import Session

from eoffice import housekeeping, idempotency
from eoffice.actor import Actor
from eoffice.amqp import BROKER_ERRORS
from eoffice.db import Changes, database_away
from eoffice.errors import Unavailable
from eoffice.logs import RequestLogging
from eoffice.settings import get_settings

if TYPE_CHECKING:
    from eoffice.db import Database
    from eoffice.messaging import Outbox

log = logging.getLogger(__name__)


class BrokerTolerantRpcConsumer(nameko.rpc.RpcConsumer):
    """nameko's RPC consumer, except that a reply it cannot publish because RabbitMQ went away
    while the worker ran does not kill the service (nameko's own lets the error end the worker
    thread, and the container with it).

    The request is then left unacknowledged, or handed back to its queue if the channel still
    lives, so it runs again once the broker is back; every changing call takes an idempotency
    key, so the second run answers what the first did. The caller, whose reply never came,
    has had its timeout and a 503 meanwhile."""

    def handle_result(self, message, result, exc_info):
        try:
            return super().handle_result(message, result, exc_info)
        except BROKER_ERRORS as exc:
            log.warning(
                "reply to %s not sent, the message broker is away (%s: %s); the request "
                "stays queued and runs again when it returns",
                message.delivery_info.get("routing_key"),
                type(exc).__name__,
                exc,
            )
            try:
                self.queue_consumer.requeue_message(message)
            except BROKER_ERRORS:
                pass  # the channel is gone: the broker requeues what was not acknowledged
            return result, exc_info


class Rpc(nameko.rpc.Rpc):
    rpc_consumer = BrokerTolerantRpcConsumer()

    @functools.cached_property
    def _signature(self) -> inspect.Signature:
        return inspect.signature(getattr(self.container.service_cls, self.method_name))

    def check_signature(self, args, kwargs):
        """nameko's check that a call's arguments fit the method, with the method's signature
        read once: nameko's own read it again on every call (`inspect.getcallargs`), 1.7% of
        the files service's time on a movement."""
        try:
            self._signature.bind(None, *args, **kwargs)  # None: the unbound method's `self`
        except TypeError as exc:
            raise IncorrectSignature(str(exc)) from None

    def handle_result(self, message, worker_ctx, result, exc_info):  # noqa: PLR0917  (nameko calls it so)
        # PostgreSQL away or restarting: the caller gets a 503 to retry, not a 500.
        if exc_info and (away := database_away(exc_info[1])) is not None:
            exc_info = (Unavailable, away, exc_info[2])
        return super().handle_result(message, worker_ctx, result, exc_info)


# Every service's `@rpc`: a test checks no service uses nameko's own.
rpc = Rpc.decorator


def call_with_timeout(method, *args, timeout: float | None = None, **kwargs):
    """Calls an RPC proxy method from inside a service; raises `Unavailable` after `timeout`
    seconds (default EOFFICE_RPC_TIMEOUT) instead of waiting forever for a dead service."""
    seconds = timeout or get_settings().rpc_timeout
    try:
        with eventlet.Timeout(seconds):
            return method(*args, **kwargs)
    except eventlet.Timeout:
        raise Unavailable(f"no answer within {seconds:.0f}s") from None
    except BROKER_ERRORS as exc:
        raise Unavailable(f"message broker unreachable: {type(exc).__name__}") from exc


T = TypeVar("T")


class ServiceBase:
    """Base for every service class. Subclasses declare `name`, `db = Database()`,
    `outbox = Outbox(models.outbox)`, in `peers` the `RpcProxy` attributes of the services
    they call (which `health` checks) and, if they take idempotency keys, their
    `idempotency_keys` table (`eoffice.idempotency.idempotency_table`)."""

    name: str
    # Set by each subclass (`db = Database()`, `outbox = Outbox(...)`); declared here so the
    # methods below type-check: a worker sees what the providers inject (see their `__get__`).
    db: Database
    outbox: Outbox
    peers: tuple[str, ...] = ()
    idempotency_keys: Table | None = None
    request_logging = RequestLogging()

    def command(self, operation: str, *, actor: Actor, key: str, request: Any, step: Callable[[Changes], T]) -> T:
        """Runs a call that changes data (`eoffice.idempotency.command`): `step(changes)` in a
        unit of work, once per caller and `key` for the operation `<service>.<operation>`, with
        the events it raises (`changes.raise_event`) written to the outbox in the same commit.
        A retry of the same `request` gets the first answer, the key with another request is
        refused (422). `request` is every argument that says what is asked (ids and body), not
        the actor or the key."""
        if self.idempotency_keys is None:
            raise TypeError(f"{self.name} declares no idempotency_keys table; it cannot take keys")
        return idempotency.command(
            self.db,
            record=self.outbox.add,
            table=self.idempotency_keys,
            actor=actor,
            operation=f"{self.name}.{operation}",
            key=key,
            request=request,
            step=step,
        )

    def changes(self):
        """A unit of work for a step without an idempotency key (a holder opening an item):
        `with self.changes() as changes:`; its events reach the outbox in its commit."""
        return self.db.changes(self.outbox.add)

    def once(self, operation: str, *, actor: Actor, key: str, request: Any, work: Callable[[Session], T]) -> T:
        """`command` for a step that takes the session and adds its events itself."""
        return self.command(
            operation, actor=actor, key=key, request=request, step=lambda changes: work(changes.session)
        )

    @timer(interval=housekeeping.INTERVAL, eager=True)
    def forget_old_bookkeeping(self) -> None:
        """As the process starts and hourly after: forgets the service's bookkeeping and log rows
        past their time (published events, events seen, idempotency keys, and the logs of some
        services: `eoffice.housekeeping`), in its outbox's schema. At the start too, so that a
        process restarted more often than hourly still does it."""
        housekeeping.forget(self.db, self.outbox.table.metadata, who=self.name)

    @rpc
    def ping(self) -> dict:
        """Returns the service's name; answers as long as the process consumes RPC."""
        return {"service": self.name}

    @rpc
    def health(self) -> dict:
        """Returns this service's view of its own health: database, outbox backlog, peers.
        Never raises: a failed part is reported as such."""
        report: dict = {"service": self.name, "status": "ok", "checks": {}}
        checks = report["checks"]
        try:
            self.db.ping()
            checks["database"] = {"status": "ok", "outbox_pending": self.outbox.pending()}
        except Exception as exc:
            checks["database"] = {"status": "down", "error": type(exc).__name__}
        for peer in self.peers:
            try:
                answer = call_with_timeout(getattr(self, peer).ping, timeout=3)
                checks[f"rpc:{peer}"] = {"status": "ok" if answer.get("service") == peer else "down"}
            except Exception as exc:
                checks[f"rpc:{peer}"] = {"status": "down", "error": type(exc).__name__}
        if any(check["status"] != "ok" for check in checks.values()):
            report["status"] = "degraded"
        return report
