"""Portal deliveries in order per file with two notify processes, against the real RabbitMQ and
PostgreSQL and a webhook receiver on loopback: a burst of events about several files, interleaved,
reaches the portal once per event id and in order per file; killed (SIGKILL) in the middle of a
burst, the notify process sending them (started first, it also records them) is replaced by the
other, losing nothing and keeping the order; the queue of the notify before this change is
retired on start, what it held delivered first; and notify processes share the subscriptions
evenly, a process started later taking its share and one that dies giving its share back; a
process that does not record the events is told at once of deliveries for its subscriptions."""

from __future__ import annotations

import signal
import threading
import time
import uuid
from collections import Counter

import pytest
from kombu import Connection, Queue
from kombu.exceptions import ChannelError
from nameko.amqp.publish import Publisher
from nameko.standalone.events import get_event_exchange
from sqlalchemy import text

from eoffice.actor import Actor
from eoffice.contracts.files import NoteAdded
from eoffice.db import UnitOfWork, make_engine
from eoffice.events import envelope_for
from tests.support.system import service_process, wait_until
from tests.support.webhook_receiver import Receiver

# Its own test environment (deploy/eoffice isolated). In the shared one, after every other
# module, both tests failed on the first clean-clone run (events not all at the portal within
# 45 s; then the first test's late events counted in the second), and passed alone: notify's
# durable queues there hold the other modules' events, which its handlers work through first.
pytestmark = [pytest.mark.live, pytest.mark.isolated]
NOTIFY_ENV = {
    "EOFFICE_WEBHOOK_ALLOW_LOOPBACK": "true",
    "EOFFICE_WEBHOOK_RETRY_BASE": "0.2",
    "EOFFICE_WEBHOOK_RETRY_CAP": "1",
    # An attempt is cut off after 4 s, so a subscription's lease lasts 10 s: quick takeovers.
    "EOFFICE_WEBHOOK_TIMEOUT": "2",
}
ADMIN = Actor(user_id="portal-order-admin", roles=frozenset({"system_admin"})).model_dump(mode="json")
# The queue files events for portals went to before it had a single active consumer.
UNORDERED = "evt-files-#--notify.portal_files_events"
ORDERED = f"{UNORDERED}.ordered"
PATH = "/order"
RUN = 4


class Notes:
    """Publishes green notes of files to the files service's exchange, as its outbox relay does,
    and keeps the ids published per file, in order: what the portal must get."""

    def __init__(self, amqp_uri: str):
        self.exchange = get_event_exchange("files", {})
        self.publisher = Publisher(amqp_uri, use_confirms=True)
        self.sent: dict[str, list[str]] = {}

    def publish(self, file_id: str) -> None:
        ids = self.sent.setdefault(file_id, [])
        note = NoteAdded(
            file_id=file_id,
            file_number=f"GAD-EST/{file_id}",
            seq=len(ids) + 1,
            hash="0" * 64,
            by_user="E1",
            by_post="SO(EST)-GAD",
        )
        envelope = envelope_for("files", note, subject=file_id)
        self.publisher.publish(
            envelope.model_dump(mode="json"),
            exchange=self.exchange,
            routing_key=note.event_type,
            message_id=envelope.id,
            declare=[self.exchange],
        )
        ids.append(envelope.id)

    def burst(self, files: list[str], per_file: int, rate: float | None = None) -> None:
        """`per_file` notes of each file, the files taking turns with RUN notes each (events of
        one file close together, which two processes taking them in turn would record out of
        order); `rate` events a second at most."""
        order = [f for _ in range(per_file // RUN) for f in files for _ in range(RUN)]
        started = time.monotonic()
        for n, file_id in enumerate(order):
            if rate:
                time.sleep(max(0.0, started + n / rate - time.monotonic()))
            self.publish(file_id)


def consumers(amqp_uri: str, queue: str) -> int | None:
    """How many consumers the queue has; None if it does not exist."""
    with Connection(amqp_uri) as conn:
        try:
            return conn.channel().queue_declare(queue, passive=True).consumer_count
        except ChannelError:
            return None


def in_arrival_order(events: list[dict]) -> dict[str, list[str]]:
    """Event ids per file as they arrived, a repeat straight after itself counted once (an
    answer lost with its sender is sent again before anything later of the file)."""
    order: dict[str, list[str]] = {}
    for event in events:
        ids = order.setdefault(event["subject"], [])
        if not ids or ids[-1] != event["id"]:
            ids.append(event["id"])
    return order


def lease_owner_pid(db, sub_id: str) -> int | None:
    with db.transaction() as session:
        owner = session.execute(
            text("SELECT lease_owner FROM notify.subscriptions WHERE id = :id AND lease_until IS NOT NULL"),
            {"id": sub_id},
        ).scalar()
    return int(owner.split("-")[-2]) if owner else None


def leases(db) -> Counter:
    """How many active subscriptions each notify process (by pid) holds a lease on."""
    with db.transaction() as session:
        owners = session.execute(
            text("SELECT lease_owner FROM notify.subscriptions WHERE active AND lease_until IS NOT NULL")
        ).scalars()
        return Counter(int(owner.split("-")[-2]) for owner in owners)


def active_subscriptions(db) -> int:
    with db.transaction() as session:
        return session.execute(text("SELECT count(*) FROM notify.subscriptions WHERE active")).scalar_one()


@pytest.fixture(scope="module")
def system(migrated, rpc):
    """Notify A with a webhook subscription; A stopped, the queue of the notify before this change
    holding notes of a file; A started again, then notify B beside it. Yields what the tests use."""
    uri = migrated.amqp_uri
    receiver = Receiver().start()
    db = UnitOfWork(make_engine(migrated.database_url, pool_size=1))
    notes = Notes(uri)
    started: list = []

    def start(name: str):
        process = service_process("notify", env=NOTIFY_ENV, log_as=f"notify-order-{name}", instances=1).start()
        started.append(process)
        return process

    try:
        first = start("a")
        wait_until(lambda: consumers(uri, "rpc-notify") == 1, 60, "notify A answering")
        sub = rpc.call(
            "notify",
            "create_subscription",
            ADMIN,
            {
                "name": "Order portal",
                "delivery": "webhook",
                "url": receiver.url(PATH),
                "event_types": ["eoffice.file.*"],
            },
            uuid.uuid4().hex,
        )
        wait_until(lambda: lease_owner_pid(db, sub["id"]) == first.process.pid, 20, "A delivering for the portal")
        first.stop()
        # As a notify before this change would have left it: its queue, holding events.
        with Connection(uri) as conn:
            channel = conn.channel()
            channel.queue_delete(ORDERED)
            Queue(UNORDERED, exchange=notes.exchange, routing_key="#", durable=True)(channel).declare()
        notes.burst(["upgraded-file"], RUN)
        a = start("a")
        wait_until(lambda: consumers(uri, ORDERED) == 1, 60, "notify A consuming again")
        b = start("b")  # after A: A is the queue's active consumer
        wait_until(lambda: consumers(uri, "rpc-notify") == 2, 60, "notify B answering beside A")
        yield {"a": a, "b": b, "sub": sub, "receiver": receiver, "notes": notes, "db": db, "uri": uri}
    finally:
        for process in started:
            process.stop()
        receiver.stop()
        db.engine.dispose()


def delivered_all(system) -> list[dict]:
    truth = {i for ids in system["notes"].sent.values() for i in ids}
    wait_until(lambda: {e["id"] for e in system["receiver"].events(PATH)} >= truth, 45, "every event at the portal")
    time.sleep(1)  # nothing more comes
    return system["receiver"].verified(PATH, system["sub"]["secret"])


def test_a_burst_reaches_the_portal_once_each_in_order_per_file_with_two_notify_processes(system, rpc):
    notes = system["notes"]
    notes.burst([f"file-{n}" for n in range(8)], per_file=12)
    got = delivered_all(system)
    assert Counter(e["id"] for e in got) == Counter(i for ids in notes.sent.values() for i in ids)  # once each
    assert in_arrival_order(got) == notes.sent  # in order per file
    # The old queue's notes came through it too, and the old queue is gone: nothing piles up there.
    assert len(notes.sent["upgraded-file"]) == RUN
    old_queue = consumers(system["uri"], UNORDERED)
    assert old_queue is None
    log = rpc.call("notify", "subscription_deliveries", ADMIN, system["sub"]["id"])
    assert log["deliveries"] == {"pending": 0, "delivered": len(got), "dead": 0}
    assert system["a"].running and system["b"].running


def test_a_notify_process_killed_mid_burst_loses_nothing_and_the_order_holds(system, rpc):
    notes, receiver = system["notes"], system["receiver"]
    before = len(receiver.events(PATH))
    # The one sending for the portal (A, unless B took its lease): A also records (it is its
    # queue's active consumer, having started first).
    sender = lease_owner_pid(system["db"], system["sub"]["id"])
    victim, survivor = (system["a"], system["b"]) if sender == system["a"].process.pid else (system["b"], system["a"])
    receiver.behaviour[PATH] = "slow:0.05"
    files = [f"killed-{n}" for n in range(8)]
    publishing = threading.Thread(target=notes.burst, args=(files, 20), kwargs={"rate": 50})
    publishing.start()
    try:
        wait_until(lambda: len(receiver.events(PATH)) >= before + 40, 20, "the burst under way")
        victim.process.send_signal(signal.SIGKILL)
        victim.process.wait()
    finally:
        publishing.join()
    got = delivered_all(system)
    everything = [i for ids in notes.sent.values() for i in ids]
    assert {e["id"] for e in got} == set(everything)  # nothing lost
    arrived = in_arrival_order(got)
    assert {f: arrived[f] for f in files} == {f: notes.sent[f] for f in files}  # in order per file
    # At least once: only what it had in flight when it died comes twice, one a file at most.
    assert sum(n - 1 for n in Counter(e["id"] for e in got).values()) <= len(files)
    log = rpc.call("notify", "subscription_deliveries", ADMIN, system["sub"]["id"])
    assert log["deliveries"] == {"pending": 0, "delivered": len(everything), "dead": 0}
    assert survivor.running


def test_notify_processes_share_the_subscriptions_and_one_that_dies_gives_its_share_back(system, rpc):
    """Runs after the kill: the survivor alone sends for every portal. More portals subscribe; a
    notify process started beside it takes its share (the survivor hands those back once what
    it sent is recorded), and every portal gets every event; killed, its share goes back to the
    survivor, and every portal gets what follows. Each event once, in order per file."""
    receiver, notes, db = system["receiver"], system["notes"], system["db"]
    if system["a"].running and system["b"].running:  # run on its own, without the kill before it
        system["b"].process.send_signal(signal.SIGKILL)
        system["b"].process.wait()
    survivor = next(p for p in (system["a"], system["b"]) if p.running)
    portals = {}
    for n in range(5):
        made = rpc.call(
            "notify",
            "create_subscription",
            ADMIN,
            {
                "name": f"Shared portal {n}",
                "delivery": "webhook",
                "url": receiver.url(f"/share-{n}"),
                "event_types": ["eoffice.file.*"],
            },
            uuid.uuid4().hex,
        )
        portals[f"/share-{n}"] = made
    active, me = active_subscriptions(db), survivor.process.pid
    wait_until(lambda: leases(db) == {me: active}, 30, "the survivor sending for every portal")

    def burst_reaches_every_portal(files: list[str]) -> None:
        before = {f: len(notes.sent.get(f, [])) for f in files}
        notes.burst(files, per_file=2 * RUN)
        burst = {i for f in files for i in notes.sent[f][before[f] :]}
        for path in portals:
            wait_until(lambda p=path: {e["id"] for e in receiver.events(p)} >= burst, 45, f"the burst at {path}")

    def nothing_pending() -> None:
        # A round's outcomes are recorded just after the portal's answers, not with them.
        for sub in portals.values():
            wait_until(
                lambda s=sub: (
                    rpc.call("notify", "subscription_deliveries", ADMIN, s["id"])["deliveries"]["pending"] == 0
                ),
                30,
                "nothing pending",
            )

    # It looks for deliveries by itself only every 30 s: it must be told of new ones.
    joined_env = {**NOTIFY_ENV, "EOFFICE_WEBHOOK_IDLE_POLL": "30"}
    joined = service_process("notify", env=joined_env, log_as="notify-order-c", instances=1).start()
    try:
        two = sorted([active // 2, active - active // 2])
        wait_until(
            lambda: set(leases(db)) == {me, joined.process.pid} and sorted(leases(db).values()) == two,
            40,
            "the processes sharing the portals evenly",
        )
        # The survivor records every event (the queues' active consumer); through PostgreSQL it
        # tells the joined process, whose workers are idle, that deliveries were added for them.
        time.sleep(2)
        notes.publish("woken")
        for path in portals:
            wait_until(
                lambda p=path: any(e["subject"] == "woken" for e in receiver.events(p)),
                10,
                f"the new event at {path} well before the joined process's own look",
            )
        burst_reaches_every_portal([f"shared-{n}" for n in range(4)])
        nothing_pending()  # what the joined process sent is recorded before it dies
        joined.process.send_signal(signal.SIGKILL)
        joined.process.wait()
        # Its leases lapse (10 s here), and it no longer counts for the shares 6 s after its last sign of life.
        wait_until(lambda: leases(db) == {me: active}, 60, "the survivor sending for every portal again")
        burst_reaches_every_portal([f"after-{n}" for n in range(4)])
        nothing_pending()
    finally:
        joined.stop()
    files = ["woken"] + [f"shared-{n}" for n in range(4)] + [f"after-{n}" for n in range(4)]
    expected = {f: notes.sent[f] for f in files}
    for path, sub in portals.items():
        got = receiver.verified(path, sub["secret"])  # every signature valid
        assert Counter(e["id"] for e in got) == Counter(i for ids in expected.values() for i in ids), path  # once
        assert in_arrival_order(got) == expected, path  # in order per file
        log = rpc.call("notify", "subscription_deliveries", ADMIN, sub["id"])
        assert log["deliveries"] == {"pending": 0, "delivered": len(got), "dead": 0}, path
    assert survivor.running
