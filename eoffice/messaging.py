"""Reliable messaging, once for every service.

- The outbox: a service writes its change and its event in one transaction (`Outbox.add`);
  `OutboxRelay` publishes pending events with publisher confirms and marks them sent. A broker
  outage delays events; it loses none.
- The inbox: `first_time(session, ...)` lets a handler do its work once per event id, in the
  same transaction as the work itself. (RPC calls are done once per idempotency key by
  `eoffice.idempotency`.)
- `reliable_handler`: a durable nameko event handler whose failures are retried after a delay
  (`EOFFICE_RETRY_DELAYS`) and then moved to the dead-letter queue, where an operator sees them
  (`python -m eoffice.tools.deadletters`). With `ordered=True` its queue has a single active
  consumer, so that however many processes of the service run, one takes the events in queue order.
"""

from __future__ import annotations

import functools
import logging
import traceback
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import eventlet
from eventlet.event import Event
from kombu import Connection, Queue
from kombu.exceptions import ChannelError, OperationalError
from nameko.amqp.publish import Publisher, UndeliverableMessage
from nameko.constants import AMQP_URI_CONFIG_KEY
from nameko.events import EventHandler
from nameko.extensions import DependencyProvider
from nameko.standalone.events import get_event_exchange
from pydantic import ValidationError
from sqlalchemy import (
    Column,
    DateTime,
    Executable,
    Insert,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    bindparam,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.orm import Session

from eoffice.db import UnitOfWork, fixed_text, make_engine
from eoffice.events import Envelope, EventPayload, envelope_for
from eoffice.settings import get_settings

log = logging.getLogger(__name__)

ATTEMPT_HEADER = "x-eoffice-attempt"


def messaging_tables(metadata: MetaData) -> tuple[Table, Table]:
    """Declares the service's `outbox` and `inbox` tables on its metadata; returns both."""
    outbox = Table(
        "outbox",
        metadata,
        Column("id", String(36), primary_key=True),  # the event id
        Column("type", String(200), nullable=False),
        Column("envelope", JSONB, nullable=False),
        Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
        Column("published_at", DateTime(timezone=True), index=True),
        Column("attempts", Integer, nullable=False, server_default="0"),
        Column("last_error", Text),
    )
    inbox = Table(
        "inbox",
        metadata,
        Column("event_id", String(36), primary_key=True),
        Column("handler", String(200), primary_key=True),
        # Indexed for eoffice.housekeeping, which forgets rows by this time.
        Column("processed_at", DateTime(timezone=True), nullable=False, server_default=func.now(), index=True),
    )
    return outbox, inbox


def record_event(
    session: Session, outbox: Table, *, service: str, payload: EventPayload, subject: str | None = None
) -> Envelope:
    """Adds the event to the outbox in the caller's transaction; returns its envelope.

    The event is published only if that transaction commits. Its `created_at`, the order the
    relay publishes in, is the moment it was written (not the transaction's start): events of
    one transaction keep their order, and so do those of one file or receipt, whose steps take
    its row lock before they write their events."""
    envelope = envelope_for(service, payload, subject)
    session.execute(
        _add_event(outbox), {"id": envelope.id, "type": envelope.type, "envelope": envelope.model_dump(mode="json")}
    )
    return envelope


@functools.cache
def _add_event(outbox: Table) -> Insert:
    """Writes one event, stamped with the moment (built once: `eoffice.db`, "built once")."""
    return insert(outbox).values(created_at=func.clock_timestamp())


@functools.cache
def _note_seen(inbox: Table) -> Executable:
    """Records an event as seen by a handler, or returns nothing if it was (`fixed_text`)."""
    return fixed_text(
        pg_insert(inbox)
        .values(event_id=bindparam("event_id"), handler=bindparam("handler"))
        .on_conflict_do_nothing()
        .returning(inbox.c.event_id)
    )


def first_time(session: Session, inbox: Table, *, event_id: str, handler: str) -> bool:
    """Returns True the first time `handler` sees `event_id` (and records it in the caller's
    transaction), False on a redelivery. If the transaction rolls back, so does the record."""
    inserted = session.execute(_note_seen(inbox), {"event_id": event_id, "handler": handler}).first()
    return inserted is not None


class Relay:
    """Publishes a service's pending outbox rows to its nameko event exchange, oldest first.

    Safe to run in several processes at once, and the order holds: a batch is published under a
    transaction-scoped advisory lock of the outbox table, so one relay of the service at a time
    publishes (the others wait for it, then take what is left, oldest first). With rows merely
    claimed (SKIP LOCKED) two relays would publish two batches at once, interleaved, and a later
    event about a file could reach a queue before an earlier one. A row is marked published
    only after the broker confirmed it, so a crash can publish an event twice (handlers are
    idempotent) but never lose it."""

    batch_size = 100

    def __init__(self, uow: UnitOfWork, outbox: Table, *, service: str, amqp_uri: str):
        self.uow, self.outbox, self.service = uow, outbox, service
        self.exchange = get_event_exchange(service, {})
        # Built once (`eoffice.db`, "built once"): the relay's turn, its batch, and marking it.
        self._take_turn = select(func.pg_advisory_xact_lock(func.hashtext(f"eoffice.outbox:{outbox.fullname}")))
        self._batch = (
            select(outbox.c.id, outbox.c.type, outbox.c.envelope)
            .where(outbox.c.published_at.is_(None))
            .order_by(outbox.c.created_at)
            .limit(bindparam("size"))
            .with_for_update(skip_locked=True)
        )
        self._mark = (
            update(outbox)
            .where(outbox.c.id.in_(bindparam("ids", expanding=True)))
            .values(published_at=func.now(), last_error=None)
        )
        self.publisher = Publisher(
            amqp_uri, use_confirms=True, mandatory=True, retry=True, retry_policy={"max_retries": 1}
        )

    def publish_pending(self) -> int:
        """Publishes one batch; returns how many were published. Raises if the broker fails."""
        published = 0
        with self.uow.transaction() as session:
            session.execute(self._take_turn)
            rows = session.execute(self._batch, {"size": self.batch_size}).all()
            confirmed: list[str] = []  # marked published in one statement per batch, not one per row
            try:
                for row in rows:
                    try:
                        self.publisher.publish(
                            row.envelope,
                            exchange=self.exchange,
                            routing_key=row.type,
                            message_id=row.id,
                            declare=[self.exchange],
                        )
                        confirmed.append(row.id)
                    except UndeliverableMessage:
                        # No queue is bound for this type: nobody subscribes to it (yet).
                        session.execute(
                            update(self.outbox)
                            .where(self.outbox.c.id == row.id)
                            .values(published_at=func.now(), last_error="no subscriber queue was bound when published")
                        )
                    published += 1
            except Exception as exc:
                # Keep what the broker confirmed; count the failure on the first unsent row.
                self._mark_published(session, confirmed)
                if published < len(rows):
                    session.execute(
                        update(self.outbox)
                        .where(self.outbox.c.id == rows[published].id)
                        .values(attempts=self.outbox.c.attempts + 1, last_error=f"{type(exc).__name__}: {exc}"[:2000])
                    )
                raise
            self._mark_published(session, confirmed)
        return published

    def _mark_published(self, session: Session, ids: list[str]) -> None:
        if ids:
            session.execute(self._mark, {"ids": ids})

    def pending(self) -> int:
        """Returns how many events wait to be published."""
        with self.uow.transaction() as session:
            return session.execute(
                select(func.count()).select_from(self.outbox).where(self.outbox.c.published_at.is_(None))
            ).scalar_one()


class Outbox(DependencyProvider):
    """Nameko dependency: `self.outbox.add(session, payload, subject)` inside a transaction.

    Runs the relay in a background green thread of the service: woken after each worker that
    added events, and polling every `EOFFICE_OUTBOX_POLL_INTERVAL` seconds, backing off while
    the broker is away."""

    def __init__(self, outbox_table: Table, service: str | None = None):
        # `service` names the emitter when a second process works for a service (the dak OCR
        # worker emits dak's events from dak's outbox); by default the nameko service itself.
        self.table, self._service = outbox_table, service
        self._wake = Event()

    def setup(self):
        config = self.container.config
        self.service = self._service or self.container.service_name
        self.relay = Relay(
            UnitOfWork(make_engine(config.get("DATABASE_URL"), pool_size=2)),
            self.table,
            service=self.service,
            amqp_uri=config[AMQP_URI_CONFIG_KEY],
        )
        self.poll = get_settings().outbox_poll_interval
        self._added = set()

    def start(self):
        self.container.spawn_managed_thread(self._run, identifier="outbox-relay")

    def kill(self):
        self._running = False

    def stop(self):
        self._running = False
        self.relay.uow.engine.dispose()

    def _run(self):
        self._running, backoff = True, self.poll
        while self._running:
            try:
                while self.relay.publish_pending() == self.relay.batch_size:
                    pass
                backoff = self.poll
            except Exception as exc:  # broker or database away: keep the events, try again later
                log.warning("outbox relay of %s: %s; retrying in %.0fs", self.service, exc, backoff)
                backoff = min(backoff * 2, 30.0)
            with eventlet.Timeout(backoff, False):
                self._wake.wait()
            if self._wake.ready():
                self._wake.reset()

    def get_dependency(self, worker_ctx) -> OutboxHandle:
        return OutboxHandle(self, worker_ctx)

    if TYPE_CHECKING:
        # nameko sets each worker's attribute to what get_dependency returns: tell mypy so.
        def __get__(self, instance: object, owner: type | None = None) -> OutboxHandle: ...

    def worker_teardown(self, worker_ctx):
        if worker_ctx.call_id in self._added:
            self._added.discard(worker_ctx.call_id)
            if not self._wake.ready():
                self._wake.send(True)


class OutboxHandle:
    """What a worker sees as `self.outbox`."""

    def __init__(self, provider: Outbox, worker_ctx):
        self._provider, self._worker_ctx = provider, worker_ctx

    def add(self, session: Session, payload: EventPayload, subject: str | None = None) -> Envelope:
        """Records the event in `session`'s transaction; the relay publishes it after commit."""
        self._provider._added.add(self._worker_ctx.call_id)
        return record_event(
            session, self._provider.table, service=self._provider.service, payload=payload, subject=subject
        )

    @property
    def table(self) -> Table:
        """The service's outbox table (its schema holds the service's other bookkeeping)."""
        return self._provider.table

    def pending(self) -> int:
        """Returns how many of this service's events wait to be published."""
        return self._provider.relay.pending()


def retry_queue_name(queue: str, attempt: int) -> str:
    return f"{queue}.retry.{attempt}"


class ReliableEventHandler(EventHandler):
    """A durable, service-pool event handler that receives the parsed `Envelope`.

    When the handler raises, the event waits `EOFFICE_RETRY_DELAYS[n]` seconds in a delay queue
    and comes back; after the last delay it goes to the dead-letter queue with the error.
    An event that is not a valid envelope goes there at once. Nothing is acknowledged before
    it is handled or parked, so a crashed worker loses nothing.

    `ordered=True`: the queue is declared with RabbitMQ's `x-single-active-consumer`, so that of
    all the processes of the service consuming it, one at a time gets its events, in queue order
    (up to prefetch of them at once: the handler keeps what must stay in order in turn itself);
    when that process's connection goes, its unacknowledged events go back to the head of the
    queue and the next process takes over. Queue arguments cannot change on an existing queue, so
    such a queue is named `<nameko's name>.ordered`; at start the handler retires the queue of
    the same handler without the suffix (unbound, what it still holds moved to the new queue,
    then deleted), so it does not keep collecting events nobody reads. A failure is still parked
    for a retry, which lets later events of the queue pass it: a handler that must keep order
    retries in place what can pass (the database away) before it raises."""

    def __init__(self, source_service: str, event_type: str, ordered: bool = False, **kwargs):
        self.ordered = ordered
        super().__init__(source_service, event_type, reliable_delivery=True, requeue_on_error=False, **kwargs)

    def setup(self):
        super().setup()
        settings = get_settings()
        self.delays = settings.retry_delays
        self.dead_letters = Queue(settings.dead_letter_queue, durable=True)
        self.parker = Publisher(self.container.config[AMQP_URI_CONFIG_KEY], use_confirms=True)
        if self.ordered:
            unordered = self.queue
            self.queue = Queue(
                f"{unordered.name}.ordered",
                exchange=unordered.exchange,
                routing_key=unordered.routing_key,
                durable=True,
                queue_arguments={"x-single-active-consumer": True},
            )
            self._retire(unordered)

    def _retire(self, old: Queue) -> None:
        """Moves what the queue this one replaces (and its delay queues) still hold to this queue,
        unbinds and deletes them. Events published before this queue was bound are only there,
        and come first; those published since are in both (handlers do the work once). If the
        broker refuses, the old queue stays until the next start, and a warning says so."""
        names = [old.name, *(retry_queue_name(old.name, n + 1) for n in range(len(self.delays)))]
        try:
            with Connection(
                self.container.config[AMQP_URI_CONFIG_KEY], transport_options={"confirm_publish": True}
            ) as conn:
                existing = [name for name in names if _queue_exists(conn, name)]
                if not existing:
                    return
                channel = conn.channel()
                new = self.queue(channel)
                new.queue_declare()
                moved = _move(channel, existing, new.name)  # the oldest first, before anything newer
                new.declare()  # and bound: from now on events come here
                channel.queue_unbind(old.name, exchange=old.exchange.name, routing_key=old.routing_key)
                moved += _move(channel, existing, new.name)  # what came in meanwhile
                for name in existing:
                    channel.queue_delete(name, if_empty=True)
            log.info("queue %s retired for %s: %d events moved to it", old.name, self.queue.name, moved)
        except (ChannelError, OperationalError, OSError) as exc:
            log.warning("could not retire queue %s (%s: %s); next start tries again", old.name, type(exc).__name__, exc)

    def handle_message(self, body, message):
        try:
            envelope = Envelope.model_validate(body)
        except ValidationError as exc:
            self._park(body, message, attempt=0, error=f"not a valid event envelope: {exc}")
            self.queue_consumer.ack_message(message)
            return
        super().handle_message(envelope, message)

    def handle_result(self, message, worker_ctx, result=None, exc_info=None):  # noqa: PLR0917  (nameko's signature)
        if exc_info is not None:
            try:
                self._park(
                    message.payload,
                    message,
                    attempt=int(message.headers.get(ATTEMPT_HEADER, 0)),
                    error="".join(traceback.format_exception_only(*exc_info[:2])).strip(),
                )
            except Exception:
                log.exception("could not park a failed event; returning it to its queue")
                self.queue_consumer.requeue_message(message)
                return result, exc_info
        self.queue_consumer.ack_message(message)
        return result, exc_info

    def _park(self, body, message, *, attempt: int, error: str):
        """Sends a failed message to its next delay queue, or to the dead-letter queue."""
        queue = self.queue.name
        headers = {k: v for k, v in (message.headers or {}).items() if not k.startswith("x-death")}
        if attempt < len(self.delays):
            delay_queue = Queue(
                retry_queue_name(queue, attempt + 1),
                durable=True,
                queue_arguments={
                    "x-message-ttl": int(self.delays[attempt] * 1000),
                    "x-dead-letter-exchange": "",
                    "x-dead-letter-routing-key": queue,
                },
            )
            log.warning("%s failed (attempt %d), retrying in %ss: %s", queue, attempt + 1, self.delays[attempt], error)
            self.parker.publish(
                body,
                exchange="",
                routing_key=delay_queue.name,
                declare=[delay_queue],
                headers={**headers, ATTEMPT_HEADER: attempt + 1},
            )
        else:
            log.error("%s failed %d times, moved to %s: %s", queue, attempt + 1, self.dead_letters.name, error)
            self.parker.publish(
                body,
                exchange="",
                routing_key=self.dead_letters.name,
                declare=[self.dead_letters],
                headers={
                    **headers,
                    ATTEMPT_HEADER: attempt + 1,
                    "x-eoffice-queue": queue,
                    "x-eoffice-error": error[:4000],
                    "x-eoffice-failed-at": datetime.now(UTC).isoformat(),
                },
            )


def _queue_exists(conn: Connection, name: str) -> bool:
    channel = conn.channel()  # a refused passive declare closes its channel: one of its own
    try:
        channel.queue_declare(name, passive=True)
        return True
    except ChannelError:
        return False
    finally:
        if channel.is_open:
            channel.close()


def _move(channel, queues: list[str], target: str) -> int:
    """Moves every message of `queues` (in turn, each in its order) to queue `target`, each
    acknowledged only after the broker confirmed its copy; returns how many."""
    moved = 0
    for name in queues:
        while (message := channel.basic_get(name, no_ack=False)) is not None:
            channel.basic_publish(message, exchange="", routing_key=target)
            channel.basic_ack(message.delivery_tag)
            moved += 1
    return moved


reliable_handler = ReliableEventHandler.decorator
