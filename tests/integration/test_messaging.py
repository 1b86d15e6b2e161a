"""RPC between services, the outbox across a broker outage, idempotent handlers, retries and
the dead-letter queue: all against the real RabbitMQ and PostgreSQL."""
from __future__ import annotations

import uuid

import pytest
from kombu import Connection, Producer
from nameko.amqp.publish import Publisher
from nameko.standalone.events import get_event_exchange
from sqlalchemy import func, select, text

from eoffice.db import UnitOfWork, make_engine
from eoffice.messaging import record_event
from eoffice.settings import get_settings
from eoffice.tools.deadletters import list_dead_letters, replay
from tests.support import messaging_services as ms
from tests.support.system import ServiceProcess, part, queue_empty, service_process, wait_until

pytestmark = pytest.mark.live


@pytest.fixture(scope="module")
def uow(migrated):
    engine = make_engine(migrated.database_url, pool_size=2)
    for metadata in (ms.clerk_metadata, ms.tally_metadata):
        with engine.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{metadata.schema}"'))
        metadata.create_all(engine)
    yield UnitOfWork(engine)
    engine.dispose()


@pytest.fixture(scope="module")
def clerk_and_tally(uow, rpc):
    procs = [ServiceProcess("tests.support.messaging_services:TallyService", "test_tally").start(),
             ServiceProcess("tests.support.messaging_services:ClerkService", "test_clerk").start()]
    wait_until(_queues_bound, 60, "test services consuming")
    yield procs
    for proc in procs:
        proc.stop()


def _queues_bound() -> bool:
    with Connection(get_settings().amqp_uri) as conn:
        channel = conn.channel()
        for event_type in (ms.NoteRecorded.event_type, ms.DoomedNote.event_type):
            method = "count" if event_type == ms.NoteRecorded.event_type else "doomed"
            _, _, consumers = channel.queue_declare(f"evt-test_clerk-{event_type}--test_tally.{method}", passive=True)
            if consumers < 1:
                return False
        _, _, consumers = channel.queue_declare("rpc-test_clerk", passive=True)
        return consumers >= 1


def seen_keys(uow, key: str) -> int:
    with uow.transaction() as session:
        return session.execute(select(func.count()).select_from(ms.seen).where(ms.seen.c.key == key)).scalar_one()


def test_rpc_round_trip_between_two_services(migrated, rpc):
    directory, dak = service_process("directory").start(), service_process("dak").start()
    try:
        report = wait_until(lambda: (r := rpc.call("dak", "health"))["checks"].get("rpc:directory", {})
                            .get("status") == "ok" and r, 60, "dak reaching directory over RPC")
        assert report["checks"]["database"]["status"] == "ok"
        directory.stop()
        report = rpc.call("dak", "health")
        assert report["status"] == "degraded"
        assert report["checks"]["rpc:directory"]["status"] == "down"
    finally:
        directory.stop()
        dak.stop()


def test_event_is_delivered_once(uow, rpc, clerk_and_tally):
    key = f"note-{uuid.uuid4().hex[:8]}"
    rpc.call("test_clerk", "record", key)
    wait_until(lambda: seen_keys(uow, key) == 1, 20, "the event handled")


def test_outbox_event_written_while_broker_is_down_arrives_once_after_it_returns(uow, clerk_and_tally):
    key = f"outage-{uuid.uuid4().hex[:8]}"
    part("stop", "rabbitmq")
    try:
        # What the clerk service does inside an RPC, done while no broker is there at all.
        with uow.transaction() as session:
            session.execute(ms.notes.insert().values(key=key))
            envelope = record_event(session, ms.clerk_outbox, service="test_clerk", payload=ms.NoteRecorded(key=key),
                                    subject=key)
        with uow.transaction() as session:
            pending = session.execute(select(ms.clerk_outbox.c.published_at)
                                      .where(ms.clerk_outbox.c.id == envelope.id)).scalar_one()
        assert pending is None
    finally:
        part("start", "rabbitmq")
    wait_until(lambda: seen_keys(uow, key) == 1, 90, "the event delivered after the broker came back")

    # A second delivery of the same event (as after a crash before the ack) changes nothing.
    Publisher(get_settings().amqp_uri).publish(envelope.model_dump(mode="json"),
                                               exchange=get_event_exchange("test_clerk", {}),
                                               routing_key=envelope.type)
    with uow.transaction() as session:
        published = session.execute(select(ms.clerk_outbox.c.published_at)
                                    .where(ms.clerk_outbox.c.id == envelope.id)).scalar_one()
    assert published is not None
    wait_until(lambda: queue_empty(f"evt-test_clerk-{envelope.type}--test_tally.count"), 20, "duplicate consumed")
    assert seen_keys(uow, key) == 1


def test_failing_handler_is_retried_then_dead_lettered(uow, rpc, clerk_and_tally, settings):
    key = f"doomed-{uuid.uuid4().hex[:8]}"
    event_id = rpc.call("test_clerk", "record", key, doomed=True)

    def letter():
        return next((dead for dead in list_dead_letters(settings.amqp_uri, settings.dead_letter_queue)
                     if dead["event_id"] == event_id), None)
    found = wait_until(letter, 60, "the event in the dead-letter queue")
    tries = len(settings.retry_delays) + 1
    assert found["attempts"] == tries
    assert f"cannot file note {key}" in found["error"]
    assert found["queue"] == f"evt-test_clerk-{ms.DoomedNote.event_type}--test_tally.doomed"
    with uow.transaction() as session:
        made = session.execute(select(func.count()).select_from(ms.attempts)
                               .where(ms.attempts.c.key == key)).scalar_one()
    assert made == tries


def test_replay_finds_a_renamed_queue_and_keeps_what_has_nowhere_to_go(settings):
    """A dead letter goes back to the queue it failed in, or to `<queue>.ordered` when its handler
    was made ordered since; one whose queue is gone stays a dead letter (not dropped unseen)."""
    tag = uuid.uuid4().hex[:8]
    dead, moved_to, gone = f"test-dead-{tag}", f"test-handler-{tag}", f"test-gone-{tag}"
    with Connection(settings.amqp_uri) as conn:
        channel = conn.channel()
        for name in (dead, f"{moved_to}.ordered"):
            channel.queue_declare(name, durable=True, auto_delete=False)
        producer = Producer(channel)
        for target in (moved_to, gone):
            producer.publish({"id": target}, exchange="", routing_key=dead,
                             headers={"x-eoffice-queue": target, "x-eoffice-error": "failed"})
    try:
        assert replay(settings.amqp_uri, dead) == 1
        with Connection(settings.amqp_uri) as conn:
            channel = conn.channel()
            arrived = channel.basic_get(f"{moved_to}.ordered", no_ack=True)
            assert arrived is not None and arrived.headers.get("x-eoffice-queue") is None
        assert [d["queue"] for d in list_dead_letters(settings.amqp_uri, dead)] == [gone]
    finally:
        with Connection(settings.amqp_uri) as conn:
            channel = conn.channel()
            for name in (dead, f"{moved_to}.ordered"):
                channel.queue_delete(name)
