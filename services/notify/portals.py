"""The delivery workers of portal subscriptions: one green thread per active subscription, so a
slow or dead portal delays nobody else. Each works its subscription's outbox (the `deliveries`
table): the oldest pending delivery of each subject, a few subjects at once, each attempt
logged, failures retried with exponential backoff (services/notify/subscriptions.py).

A subscription is worked by one notify process at a time (a lease in its row, renewed while it
works), which keeps the order per file when several notify processes run."""

from __future__ import annotations

import logging
import os
import socket
import uuid
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import eventlet
from eventlet.event import Event
from eventlet.greenpool import GreenPool
from eventlet.semaphore import Semaphore
from kombu import Connection
from nameko.constants import AMQP_URI_CONFIG_KEY
from nameko.extensions import DependencyProvider
from sqlalchemy import or_, select, update

from eoffice.db import UnitOfWork, make_engine
from eoffice.messaging import record_event
from eoffice.settings import get_settings
from services.notify import models, portal_amqp, subscriptions, webhooks
from services.notify.subscription_tables import subscriptions as table

log = logging.getLogger(__name__)
LEASE_SECONDS = 15
PARALLEL_SUBJECTS = 8  # deliveries of one subscription in flight at once, each of another subject
BATCH = 32  # deliveries taken (and their outcomes recorded) at once: each of another subject


class Portals(DependencyProvider):
    """Runs the delivery workers. A worker of the service sees this provider: `wake(ids)` tells
    those subscriptions' workers that deliveries were added (they poll every second anyway);
    `in_order(subject)` keeps one subject's events in queue order while they are recorded."""

    def setup(self):
        settings = get_settings()
        self.policy = subscriptions.RetryPolicy(
            base=settings.webhook_retry_base,
            cap=settings.webhook_retry_cap,
            retry_for=settings.webhook_retry_for,
            failing_after=settings.webhook_failing_after,
        )
        self.timeout, self.allow_loopback = settings.webhook_timeout, settings.webhook_allow_loopback
        self.amqp_uri = self.container.config[AMQP_URI_CONFIG_KEY]
        self.uow = UnitOfWork(make_engine(self.container.config.get("DATABASE_URL"), pool_size=10))
        self.me = f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}"
        self.workers: dict[str, eventlet.greenthread.GreenThread] = {}
        self.wakers: dict[str, Event] = {}
        self.subject_locks: dict[str, list] = {}  # subject -> [semaphore, users]
        self.connections: dict[str, dict] = {}  # per subscription: kept-alive HTTP connections by checked address
        self.running = False

    def start(self):
        self.running = True
        self.container.spawn_managed_thread(self._supervise, identifier="portal-deliveries")

    def stop(self):
        self.running = False
        for worker in list(self.workers.values()):
            worker.kill()
        try:
            with self.uow.transaction() as session:  # let another process take over at once
                session.execute(update(table).where(table.c.lease_owner == self.me).values(lease_until=None))
        except Exception:
            log.warning("could not release the subscription leases", exc_info=True)
        self.uow.engine.dispose()

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

    def wake(self, sub_ids) -> None:
        for sub_id in sub_ids:
            waker = self.wakers.get(sub_id)
            if waker is not None and not waker.ready():
                waker.send(True)

    def _supervise(self):
        """Starts a worker for each active subscription this process can lease; every 2 s."""
        while self.running:
            try:
                with self.uow.transaction() as session:
                    active = session.execute(select(table.c.id).where(table.c.active)).scalars().all()
                for sub_id in active:
                    if (sub_id not in self.workers or self.workers[sub_id].dead) and self._lease(sub_id):
                        self.wakers[sub_id] = Event()
                        self.workers[sub_id] = eventlet.spawn(self._serve, sub_id)
            except Exception:
                log.warning("portal deliveries: cannot list subscriptions", exc_info=True)
            eventlet.sleep(2)

    def _lease(self, sub_id: str) -> bool:
        """Takes or renews this process's lease on the subscription; False if another holds it
        or it is no longer active."""
        with self.uow.transaction() as session:
            return (
                session.execute(
                    update(table)
                    .where(
                        table.c.id == sub_id,
                        table.c.active,
                        or_(
                            table.c.lease_owner == self.me,
                            table.c.lease_until.is_(None),
                            table.c.lease_until < datetime.now(UTC),
                        ),
                    )
                    .values(
                        lease_owner=self.me,
                        lease_until=datetime.now(UTC).replace(microsecond=0) + _seconds(LEASE_SECONDS),
                    )
                    .returning(table.c.id)
                ).first()
                is not None
            )

    def _serve(self, sub_id: str):
        """Delivers the subscription's outbox until it is deactivated or leased elsewhere."""
        pool, renewed, amqp, self.connections[sub_id] = GreenPool(PARALLEL_SUBJECTS), 0.0, None, {}
        try:
            while self.running:
                now = eventlet.hubs.get_hub().clock()
                if now - renewed > LEASE_SECONDS / 3:
                    if not self._lease(sub_id):
                        return
                    renewed = now
                with self.uow.transaction() as session:
                    sub = dict(subscriptions.get_row(session, sub_id))
                    if not sub["active"]:
                        return
                    batch = subscriptions.due(session, sub_id, BATCH)
                    wait = None if batch else subscriptions.next_due_in(session, sub_id)
                if not batch:
                    waker = self.wakers[sub_id]
                    with eventlet.Timeout(min(wait if wait is not None else 1.0, 1.0), False):
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
                        if not outcomes[-1].ok:
                            amqp.release()
                            amqp = None
                            break
                results = list(zip(batch, outcomes, strict=False))
                with self.uow.transaction() as session:
                    subscriptions.record(session, results, sub_id=sub_id, policy=self.policy, outbox_add=_add_to_outbox)
                for delivery, outcome in results:
                    if not outcome.ok:
                        log.info(
                            "delivery of %s to subscription %s failed: %s", delivery["event_id"], sub_id, outcome.error
                        )
        except Exception:
            log.exception("portal deliveries of %s stopped; restarting", sub_id)
            eventlet.sleep(1)
        finally:
            for connections in self.connections.pop(sub_id, {}).values():
                connections.close()
            if amqp is not None:
                amqp.release()

    def _post(self, sub: dict, delivery: dict) -> webhooks.Outcome:
        return webhooks.deliver(
            sub["url"],
            event_id=delivery["event_id"],
            body=delivery["body"],
            secrets=subscriptions.signing_secrets(sub, datetime.now(UTC)),
            timeout=self.timeout,
            allow_loopback=self.allow_loopback,
            pools=self.connections.get(sub["id"]),
        )

    def _publish(self, sub: dict, delivery: dict, amqp: Connection) -> webhooks.Outcome:
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
