"""Recording and sending portal deliveries, in order per file however many notify processes run.

Recording. Every dak, files and signing event is put in the outbox (`deliveries`) of each
subscription that may see it, by the handlers in `portal_entrypoints.py`. Their queues have a
single active consumer (`reliable_handler(..., ordered=True)`, eoffice/messaging.py): one
process at a time takes an emitter's events, in the order the emitter published them, and
`in_order(subject)` records those of one file in turn. Two more things keep a process that takes
over from recording a later event of a file before an earlier one is recorded:
- the recorder lease (`portal_recorders`, one per emitter): a process records only while it
  holds it; it renews it while it records and releases it when it stops, after its last event;
  if it dies the lease lapses RECORDER_LEASE seconds later. RabbitMQ hands the queue, and the
  events the first process had taken and not yet acknowledged, to the next consumer when the
  first one's channel closes (3.10 does not on a cancel alone; RabbitMQ's documentation says it
  may) while that process may still be recording them: its broker connection dropped, but its
  workers go on. The lease makes the next process wait for that.
- a recording that fails because the database is away is tried again in place (RECORD_PATIENCE
  seconds), holding its file's turn, instead of being parked for a retry that later events of
  the file would overtake.
Why not a sequence number per file stamped by the emitters: every emitting service would have
to number its events per subject, and notify to wait for gaps (an event dead-lettered, one of
another service) it cannot tell from a late event; the queue already has the order.

Sending. One green thread per active subscription, so a slow or dead portal delays nobody else.
The notify processes share the active subscriptions evenly: each says it is alive every
RENEW_EVERY seconds (`portal_senders`), takes at most its share (the active subscriptions divided
by the processes seen within SENDER_GONE seconds, rounded up; `webhook_subscriptions_per_process`
caps it further), and hands back what it holds beyond its share when another process starts (its
worker for that subscription finishes and records what is in flight, then releases the lease, and
the other process leases it). When a process dies, the others count it gone SENDER_GONE seconds
later and take its subscriptions as their leases lapse.
Each works its subscription's outbox: the oldest pending delivery of each subject, a few subjects
at once, each attempt logged, failures retried with exponential backoff
(services/notify/subscriptions.py). A subscription is worked by one process at a time: a lease in
its row, taken atomically (an UPDATE that only succeeds when the lease is free, expired or already
this process's), renewed every RENEW_EVERY seconds, timed by the database's clock. An attempt is
started only while the lease has time left for the whole attempt (each is cut off after
`attempt_bound` seconds), so that by the time a lease lapses (the process died, or stopped
renewing), the attempts of that process are over: no delivery goes out from two processes at
once. Outcomes are recorded only while the lease is still this process's (`_still_held`). A
process that dies between a portal's 2xx and recording it leaves that delivery to be sent again
(at least once; same webhook-id). What a lease cannot stop: a process frozen (SIGSTOP, a paused
VM) longer than its lease between checking it and sending sends that one attempt when it wakes."""

from __future__ import annotations

import logging
import os
import socket
import uuid
from collections.abc import Callable
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import TypeVar

import eventlet
from eventlet.event import Event
from eventlet.greenpool import GreenPool
from eventlet.semaphore import Semaphore
from kombu import Connection
from nameko.constants import AMQP_URI_CONFIG_KEY, DEFAULT_MAX_WORKERS, MAX_WORKERS_CONFIG_KEY
from nameko.extensions import DependencyProvider
from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.exc import DBAPIError, InterfaceError
from sqlalchemy.exc import OperationalError as DatabaseOperationalError
from sqlalchemy.orm import Session

from eoffice.db import UnitOfWork, make_engine
from eoffice.messaging import record_event
from eoffice.settings import get_settings
from services.notify import models, portal_amqp, subscriptions, webhooks
from services.notify.subscription_tables import recorders, senders
from services.notify.subscription_tables import subscriptions as table

log = logging.getLogger(__name__)
T = TypeVar("T")
RENEW_EVERY = 2.0  # seconds between renewals of this process's subscription leases
SENDER_GONE = 3 * RENEW_EVERY  # a process not seen alive for this long no longer counts for the shares
LEASE_MARGIN = 2.0  # seconds of a subscription lease kept in hand beyond the attempts in flight
RECORDER_LEASE = 10.0  # seconds a recorder lease lasts unless renewed
RECORD_MARGIN = 4.0  # a recording starts only with this much of the recorder lease left
RECORD_PATIENCE = 30.0  # seconds a recording is retried in place while the database is away
STOP_GRACE = 5.0  # seconds a stopping process lets its attempts in flight finish and be recorded
PARALLEL_SUBJECTS = 8  # deliveries of one subscription in flight at once, each of another subject
BATCH = 32  # deliveries taken (and their outcomes recorded) at once: each of another subject
# After a batch that did not fill and left nothing of its subjects waiting, a worker lets this many
# seconds pass since it took that batch before it takes the next: under load a batch then carries
# several deliveries (two transactions a batch, not per delivery), for at most this much latency.
# The outcomes of the batch sent are recorded before the pause, not in the next batch's
# transaction after it: a process killed in the pause would leave them to be sent again.
# When idle it takes a new delivery at once, and the next event of a file as soon as it may.
GATHER = 0.2
# Database connections for the subscriptions' workers, beside one per service worker (recording):
# a connection beyond the pool is closed when given back, so a pool too small opens a PostgreSQL
# connection per transaction under load.
SENDING_CONNECTIONS = 20


class Portals(DependencyProvider):
    """Runs the delivery workers. A worker of the service sees this provider: `in_order(subject)`
    keeps one subject's events in queue order while they are recorded, `record(emitter, work)`
    records them as the emitter's one recorder, `wake(ids)` tells those subscriptions' workers
    that deliveries were added; the workers in other notify processes hear of them through
    PostgreSQL (`_listen`), and every idle worker looks by itself every `webhook_idle_poll` seconds."""

    def setup(self):
        settings = get_settings()
        self.policy = subscriptions.RetryPolicy(
            base=settings.webhook_retry_base,
            cap=settings.webhook_retry_cap,
            retry_for=settings.webhook_retry_for,
            failing_after=settings.webhook_failing_after,
        )
        self.timeout, self.allow_loopback = settings.webhook_timeout, settings.webhook_allow_loopback
        self.most = settings.webhook_subscriptions_per_process or None
        self.idle_poll = settings.webhook_idle_poll
        # The longest one attempt may take (connecting, then the answer); a lease covers it.
        self.attempt_bound = self.timeout + min(self.timeout, 5.0)
        self.lease_seconds = self.attempt_bound + 2 * RENEW_EVERY + LEASE_MARGIN
        self.amqp_uri = self.container.config[AMQP_URI_CONFIG_KEY]
        # Used by the delivery workers and by the service's workers recording events (`record`).
        workers = self.container.config.get(MAX_WORKERS_CONFIG_KEY, DEFAULT_MAX_WORKERS)
        url, size = self.container.config.get("DATABASE_URL"), workers + SENDING_CONNECTIONS
        self.uow = UnitOfWork(
            make_engine(url, pool_size=size), reader=make_engine(url, pool_size=size, autocommit=True)
        )
        self.me = f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}"
        self.workers: dict[str, eventlet.greenthread.GreenThread] = {}
        self.leaving: set[str] = set()  # subscriptions beyond this process's share, being handed back
        self.held: dict[str, float] = {}  # subscription -> when (monotonic) this process's lease ends
        self.recording: dict[str, float] = {}  # emitter -> when (monotonic) its recorder lease ends
        self.recorder_turns: dict[str, Semaphore] = {}  # emitter -> one renewal at a time
        self.wakers: dict[str, Event] = {}
        self.subject_locks: dict[str, list] = {}  # subject -> [semaphore, users]
        self.connections: dict[str, webhooks.Connections] = {}  # per subscription: addresses checked, connections
        self.running = False
        self.listening: eventlet.greenthread.GreenThread | None = None

    def start(self):
        self.running = True
        self.container.spawn_managed_thread(self._supervise, identifier="portal-deliveries")
        self.listening = eventlet.spawn(self._listen)

    def stop(self):
        """Lets the attempts in flight finish and be recorded (STOP_GRACE seconds at most), then
        releases this process's leases so that another takes over at once. Runs after the
        service's workers finished, so after the last event this process took was recorded."""
        self.running = False
        if self.listening is not None:
            self.listening.kill()
        self.wake(list(self.wakers))
        deadline = eventlet.hubs.get_hub().clock() + STOP_GRACE
        for worker in list(self.workers.values()):
            with eventlet.Timeout(max(0.0, deadline - eventlet.hubs.get_hub().clock()), False):
                worker.wait()
            worker.kill()
        try:
            with self.uow.transaction() as session:
                session.execute(update(table).where(table.c.lease_owner == self.me).values(lease_until=None))
                session.execute(update(recorders).where(recorders.c.owner == self.me).values(until=None))
                session.execute(delete(senders).where(senders.c.owner == self.me))
        except Exception:
            log.warning("could not release the leases; they lapse by themselves", exc_info=True)
        self.uow.dispose()

    kill = stop

    def get_dependency(self, worker_ctx):
        return self

    @contextmanager
    def in_order(self, subject: str | None):
        """Holds the events of one subject in the order their workers started (the order they
        came off the queue), so that two events of a file handled at once are recorded in turn."""
        if subject is None:
            yield
            return
        lock = self.subject_locks.setdefault(subject, [Semaphore(1), 0])
        lock[1] += 1
        try:
            with lock[0]:
                yield
        finally:
            lock[1] -= 1
            if lock[1] == 0:
                self.subject_locks.pop(subject, None)

    def record(self, emitter: str, work: Callable[[], T]) -> T:
        """Runs `work` (one transaction) as the recorder of `emitter`'s events: waits until this
        process holds the recorder lease, and returns what `work` returns. While the database is
        away it tries again in place for up to RECORD_PATIENCE seconds, then raises."""
        patience = eventlet.hubs.get_hub().clock() + RECORD_PATIENCE
        pause = 0.5
        while True:
            self._await_recorder(emitter)
            try:
                return work()
            except DBAPIError as exc:
                if not _database_away(exc) or eventlet.hubs.get_hub().clock() > patience:
                    raise
                log.warning("recording %s events: database away (%s); trying again", emitter, type(exc).__name__)
            eventlet.sleep(pause)
            pause = min(pause * 2, 5.0)

    def _await_recorder(self, emitter: str) -> None:
        """Returns once this process holds `emitter`'s recorder lease with RECORD_MARGIN seconds
        left at least; renews it when a third of it has gone."""
        turn = self.recorder_turns.setdefault(emitter, Semaphore(1))
        while True:
            clock = eventlet.hubs.get_hub().clock
            if self.recording.get(emitter, 0.0) - clock() > RECORDER_LEASE * 2 / 3:
                return
            with turn:
                if self.recording.get(emitter, 0.0) - clock() > RECORDER_LEASE * 2 / 3:
                    return  # renewed meanwhile by another worker
                asked = clock()
                try:
                    held = self._take_recorder(emitter)
                except DBAPIError as exc:
                    if not _database_away(exc):
                        raise
                    held = False
                if held:
                    self.recording[emitter] = asked + RECORDER_LEASE
                    return
            if self.recording.get(emitter, 0.0) - clock() >= RECORD_MARGIN:
                return  # not renewed now (the database away), still ours for a while
            eventlet.sleep(0.25)  # another process records still, or did until lately

    def _take_recorder(self, emitter: str) -> bool:
        """Takes or renews the recorder lease of `emitter`; False if another process holds it."""
        until = func.now() + _seconds(RECORDER_LEASE)
        with self.uow.transaction() as session:
            return (
                session.execute(
                    pg_insert(recorders)
                    .values(emitter=emitter, owner=self.me, until=until)
                    .on_conflict_do_update(
                        index_elements=["emitter"],
                        set_={"owner": self.me, "until": until},
                        where=or_(
                            recorders.c.owner == self.me, recorders.c.until.is_(None), recorders.c.until < func.now()
                        ),
                    )
                    .returning(recorders.c.emitter)
                ).first()
                is not None
            )

    def _listen(self) -> None:
        """Wakes this process's workers as soon as deliveries are added for their subscriptions,
        by whichever process records the events: LISTEN on `subscriptions.DELIVERIES_ADDED`, on
        a connection of its own. Without it a worker idle in a process that does not record
        found new deliveries only at its next look (`webhook_idle_poll`). While the database is
        away it connects again every few seconds; the workers look by themselves meanwhile."""
        while self.running:
            connection = None
            try:
                connection = self.uow.engine.raw_connection()
                listener = connection.dbapi_connection  # psycopg2's
                connection.detach()  # not back to the pool when closed: it listens
                listener.rollback()  # out of the transaction the pool's liveness check may have begun
                listener.autocommit = True
                listener.cursor().execute(f"LISTEN {subscriptions.DELIVERIES_ADDED}")
                while self.running:
                    try:
                        eventlet.hubs.trampoline(listener.fileno(), read=True, timeout=5.0)
                    except eventlet.Timeout:
                        continue
                    listener.poll()
                    while listener.notifies:
                        added = listener.notifies.pop(0).payload
                        self.wake(list(self.wakers) if added == "*" else added.split(","))
            except Exception as exc:  # noqa: BLE001  (the database away: the workers look by themselves)
                log.warning("portal deliveries: not listening for new deliveries (%s); again in 5 s", exc)
                eventlet.sleep(5.0)
            finally:
                if connection is not None:
                    connection.close()

    def wake(self, sub_ids) -> None:
        for sub_id in sub_ids:
            waker = self.wakers.get(sub_id)
            if waker is not None and not waker.ready():
                waker.send(True)

    def _supervise(self):
        """Every RENEW_EVERY seconds: says this process is alive, renews its subscription leases,
        hands back the subscriptions it holds beyond its share, and starts a worker for each
        active subscription it can lease within its share."""
        while self.running:
            try:
                self._renew()
                with self.uow.transaction() as session:
                    active = session.execute(select(table.c.id).where(table.c.active)).scalars().all()
                    share = self._share(len(active), self._alive(session))
                # A deactivated subscription's worker may still be finishing an attempt: not counted.
                serving = self._serving(set(active))
                for sub_id in serving[share:]:
                    self.leaving.add(sub_id)  # its worker finishes what is in flight, then releases it
                    self.wake([sub_id])
                kept = min(len(serving), share)
                for sub_id in active:
                    if sub_id in self.workers and not self.workers[sub_id].dead:
                        continue
                    if kept >= share:
                        break  # its share taken: the others are left to other processes
                    if self._lease(sub_id):
                        self.wakers[sub_id] = Event()
                        self.workers[sub_id] = eventlet.spawn(self._serve, sub_id)
                        kept += 1
            except Exception:
                log.warning("portal deliveries: cannot list subscriptions", exc_info=True)
            eventlet.sleep(RENEW_EVERY)

    def _serving(self, active: set[str]) -> list[str]:
        """The active subscriptions this process sends for and keeps (not handing back)."""
        return [s for s, w in self.workers.items() if not w.dead and s not in self.leaving and s in active]

    def _alive(self, session: Session) -> int:
        """Says this process is alive; returns how many processes (this one too) were seen
        within SENDER_GONE seconds. Forgets those long gone."""
        session.execute(
            pg_insert(senders)
            .values(owner=self.me, seen_at=func.now())
            .on_conflict_do_update(index_elements=["owner"], set_={"seen_at": func.now()})
        )
        session.execute(delete(senders).where(senders.c.seen_at < func.now() - _seconds(100 * SENDER_GONE)))
        return session.execute(
            select(func.count()).select_from(senders).where(senders.c.seen_at >= func.now() - _seconds(SENDER_GONE))
        ).scalar_one()

    def _share(self, active: int, processes: int) -> int:
        """The most subscriptions this process sends for: its even share, at most `self.most`."""
        share = -(-active // max(1, processes))
        return min(share, self.most) if self.most else share

    def _lease(self, sub_id: str) -> bool:
        """Takes (or renews) this process's lease on the subscription; False if another holds it
        or it is no longer active."""
        asked = eventlet.hubs.get_hub().clock()
        with self.uow.transaction() as session:
            taken = session.execute(
                update(table)
                .where(
                    table.c.id == sub_id,
                    table.c.active,
                    or_(
                        table.c.lease_owner == self.me,
                        table.c.lease_until.is_(None),
                        table.c.lease_until < func.now(),
                    ),
                )
                .values(lease_owner=self.me, lease_until=func.now() + _seconds(self.lease_seconds))
                .returning(table.c.id)
            ).first()
        if taken is not None:
            self.held[sub_id] = asked + self.lease_seconds
        return taken is not None

    def _renew(self) -> None:
        """Extends every lease this process holds and sends for, in one statement. One lost to
        another process (after it lapsed) is not renewed: its worker stops when its time is up.
        One whose worker stopped is not renewed either: it is leased again at once if within
        this process's share, or else lapses for another process to take."""
        asked = eventlet.hubs.get_hub().clock()
        sending = [s for s, w in self.workers.items() if not w.dead]
        if not sending:
            return
        with self.uow.transaction() as session:
            renewed = (
                session.execute(
                    update(table)
                    .where(
                        table.c.lease_owner == self.me,
                        table.c.lease_until.is_not(None),
                        table.c.active,
                        table.c.id.in_(sending),
                    )
                    .values(lease_until=func.now() + _seconds(self.lease_seconds))
                    .returning(table.c.id)
                )
                .scalars()
                .all()
            )
        for sub_id in renewed:
            self.held[sub_id] = asked + self.lease_seconds

    def _left(self, sub_id: str) -> float:
        """Seconds left of this process's lease on the subscription (<= 0: not held)."""
        return self.held.get(sub_id, 0.0) - eventlet.hubs.get_hub().clock()

    def _still_held(self, session: Session, sub_id: str):
        """Returns the subscription's row if the lease is still this process's, locking it until
        the transaction ends (another process cannot take the lease meanwhile); None if not."""
        return (
            session.execute(select(table).where(table.c.id == sub_id, table.c.lease_owner == self.me).with_for_update())
            .mappings()
            .first()
        )

    def _may_attempt(self, sub_id: str) -> bool:
        """True if an attempt started now ends (it is cut off at `attempt_bound`) while the lease holds."""
        return self._left(sub_id) > self.attempt_bound + LEASE_MARGIN

    def _serve(self, sub_id: str):
        """Delivers the subscription's outbox until it is deactivated or leased elsewhere. The
        outcomes of a batch are recorded as soon as it is sent (only while the lease is still this
        process's), in the transaction that takes the next batch when that follows at once."""
        pool, amqp, self.connections[sub_id] = GreenPool(PARALLEL_SUBJECTS), None, webhooks.Connections()
        clock, taken, gather = eventlet.hubs.get_hub().clock, 0.0, False
        results: list[tuple[dict, webhooks.Outcome]] = []  # sent, not yet recorded
        handed_back = False

        def going() -> bool:
            return self.running and sub_id not in self.leaving

        try:
            while going() or results:
                if results and gather:
                    # Now, not after the pause: what the portal answered is recorded within
                    # milliseconds, so a process killed meanwhile sends nothing twice.
                    if self._while_database_away(sub_id, partial(self._record_apart, sub_id, results)) is None:
                        return
                    results = []
                if gather and going():
                    eventlet.sleep(max(0.0, taken + GATHER - clock()))
                attempt = going() and self._may_attempt(sub_id)
                if not results and not attempt:
                    if self._left(sub_id) <= 0:
                        return  # not renewed in time: the supervisor leases it again if it can
                    eventlet.sleep(0.2)  # a renewal is late: send nothing until it comes
                    continue
                taken = clock()
                took = self._while_database_away(sub_id, partial(self._record_and_take, sub_id, results, attempt))
                if took is None:
                    return
                sub, batch, wait = took
                attempt = attempt and sub["active"]
                results = []
                if not sub["active"]:
                    return
                if not attempt:
                    continue
                gather = len(batch) < BATCH and not any(d["more"] for d in batch)
                if not batch:
                    taken = 0.0  # the next delivery is taken as soon as it is due or added
                    waker = self.wakers[sub_id]
                    with eventlet.Timeout(min(wait if wait is not None else self.idle_poll, self.idle_poll), False):
                        waker.wait()
                    if waker.ready():
                        self.wakers[sub_id] = Event()
                    continue
                if sub["delivery"] == "webhook":
                    outcomes = list(pool.imap(self._post, [sub] * len(batch), batch))
                else:
                    # One broker channel is not shared between green threads: AMQP goes one by one.
                    if amqp is None:
                        amqp = Connection(self.amqp_uri, transport_options={"confirm_publish": True})
                        portal_amqp.declare(amqp, sub["amqp_queue"])
                    outcomes = []
                    for delivery in batch:
                        outcomes.append(self._publish(sub, delivery, amqp))
                        if outcomes[-1] is None or not outcomes[-1].ok:
                            amqp.release()
                            amqp = None
                            break
                # Those not attempted (None: the lease was running out) stay as they were.
                results = [(d, o) for d, o in zip(batch, outcomes, strict=False) if o is not None]
            # Everything sent is recorded: beyond this process's share, the lease goes back now.
            handed_back = self.running and sub_id in self.leaving and self._hand_back(sub_id)
        except Exception:
            log.exception("portal deliveries of %s stopped; restarting", sub_id)
            eventlet.sleep(1)
        finally:
            self.leaving.discard(sub_id)
            if handed_back:
                log.info("subscription %s handed back: beyond this process's share", sub_id)
            connections = self.connections.pop(sub_id, None)
            if connections is not None:
                connections.close()
            if amqp is not None:
                amqp.release()

    def _hand_back(self, sub_id: str) -> bool:
        """Releases this process's lease on the subscription (its worker has recorded everything
        it sent), so that another process may lease it at once."""
        try:
            with self.uow.transaction() as session:
                session.execute(
                    update(table).where(table.c.id == sub_id, table.c.lease_owner == self.me).values(lease_until=None)
                )
        except DBAPIError:
            log.warning("could not hand back subscription %s; its lease lapses by itself", sub_id, exc_info=True)
            return False
        self.held.pop(sub_id, None)
        return True

    def _while_database_away(self, sub_id: str, transaction: Callable[[], T]) -> T:
        """Runs `transaction`; while the database is away, runs it again each second as long as
        this process holds the lease. The outcomes of what was sent stay in hand meanwhile: lost,
        they would be sent again (a PostgreSQL restart under load doubled four deliveries)."""
        while True:
            try:
                return transaction()
            except DBAPIError as exc:
                if not _database_away(exc) or not self.running or self._left(sub_id) <= 0:
                    raise
                log.warning(
                    "deliveries of subscription %s: database away (%s); trying again", sub_id, type(exc.orig).__name__
                )
                eventlet.sleep(1)

    def _record_apart(self, sub_id: str, results: list):
        with self.uow.transaction() as session:
            return self._record(session, sub_id, results)

    def _record_and_take(self, sub_id: str, results: list, attempt: bool):
        """Records `results` (if any) and, if `attempt`, takes the next batch, in one transaction;
        returns (the subscription, the batch, seconds until the next is due when none is), or
        None if the lease was lost."""
        with self.uow.transaction() as session:
            row = self._record(session, sub_id, results) if results else subscriptions.get_row(session, sub_id)
            if row is None:
                return None
            attempt = attempt and row["active"]
            batch = subscriptions.due(session, sub_id, BATCH) if attempt else []
            wait = subscriptions.next_due_in(session, sub_id) if attempt and not batch else None
            return dict(row), batch, wait

    def _record(self, session: Session, sub_id: str, results: list):
        """Records the outcomes of a batch if the lease is still this process's; returns the
        subscription's row (locked until the transaction ends), None if the lease was lost."""
        row = self._still_held(session, sub_id)
        if row is None:
            # Frozen past its lease: another process may have sent these since.
            log.warning("lease of subscription %s lost while sending; outcomes not recorded", sub_id)
            return None
        subscriptions.record(
            session, results, sub_id=sub_id, policy=self.policy, outbox_add=_add_to_outbox, failures=row["failures"]
        )
        for delivery, outcome in results:
            if not outcome.ok:
                log.info("delivery of %s to subscription %s failed: %s", delivery["event_id"], sub_id, outcome.error)
        return row

    def _post(self, sub: dict, delivery: dict) -> webhooks.Outcome | None:
        """One webhook attempt, cut off after `attempt_bound` seconds; None if the lease has no
        time left for it (nothing sent)."""
        if not self._may_attempt(sub["id"]):
            return None
        started = eventlet.hubs.get_hub().clock()
        try:
            with eventlet.Timeout(self.attempt_bound):
                return webhooks.deliver(
                    sub["url"],
                    event_id=delivery["event_id"],
                    body=delivery["body"],
                    secrets=subscriptions.signing_secrets(sub, datetime.now(UTC)),
                    timeout=self.timeout,
                    allow_loopback=self.allow_loopback,
                    connections=self.connections.get(sub["id"]),
                )
        except eventlet.Timeout:
            # The cut-off attempt's connection was hung up as the timeout unwound (webhooks._post_once).
            return webhooks.Outcome(
                False,
                None,
                f"no complete answer within {self.attempt_bound:.0f}s",
                eventlet.hubs.get_hub().clock() - started,
            )

    def _publish(self, sub: dict, delivery: dict, amqp: Connection) -> webhooks.Outcome | None:
        if not self._may_attempt(sub["id"]):
            return None
        started = eventlet.hubs.get_hub().clock()
        try:
            with eventlet.Timeout(self.timeout):
                portal_amqp.publish(
                    amqp.Producer(), queue=sub["amqp_queue"], event_id=delivery["event_id"], body=delivery["body"]
                )
            return webhooks.Outcome(True, None, None, eventlet.hubs.get_hub().clock() - started)
        except (Exception, eventlet.Timeout) as exc:
            return webhooks.Outcome(
                False, None, f"{type(exc).__name__}: {exc}"[:500], eventlet.hubs.get_hub().clock() - started
            )


def _add_to_outbox(session, payload, subject):
    record_event(session, models.outbox, service="notify", payload=payload, subject=subject)


def _seconds(n: float) -> timedelta:
    return timedelta(seconds=n)


def _database_away(exc: DBAPIError) -> bool:
    """True for an error that says the database could not be reached or dropped the connection
    (worth trying again), not that the statement was wrong."""
    return exc.connection_invalidated or isinstance(exc, (DatabaseOperationalError, InterfaceError))
