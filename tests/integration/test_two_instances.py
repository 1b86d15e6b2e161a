"""The concurrency rules with two instances of every service involved and two gateways, all on
this machine: gap-free diary numbers, one winner of two sends, idempotent retries and events
handled once. The tests that state each rule for one instance are imported from their modules
and run here again, against directory, dak and files running twice each behind two gunicorn
gateways (the client sends each request to the next gateway), and against the messaging test
services running twice each. Beside them, what only several processes can get wrong: many races
at once spread over both gateways, two relays of one outbox keeping its order, and a burst of
events with duplicates through two relays and two consumers, each handled once.

Run alone: `deploy/eoffice suite tests/integration/test_two_instances.py`. The whole suite on two
of everything: `EOFFICE_INSTANCES=2 deploy/eoffice suite ...` (docs/scaling.md)."""
from __future__ import annotations

import threading
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
from kombu import Connection, Queue
from kombu.exceptions import ChannelError
from nameko.amqp.publish import Publisher
from nameko.standalone.events import get_event_exchange
from sqlalchemy import func, select

from eoffice.events import Envelope
from eoffice.messaging import Relay, record_event
from eoffice.settings import get_settings
from services.dak.models import receipts
from services.files.models import files as files_table
from services.files.models import movements
from tests.integration import test_files as files_tests
from tests.integration import test_messaging as messaging_tests
from tests.integration.test_dak import (  # noqa: F401  (run here again, on two instances)
    test_diary_numbers_stay_gap_free_and_unique_under_concurrent_intake,
    test_retried_diarisation_makes_one_receipt,
)
from tests.integration.test_files import (  # noqa: F401
    DEALER,
    SO,
    US,
    add_subject_head,
    as_post,
    new_file,
    open_file,
    send,
    test_only_the_holder_acts_and_two_at_once_cannot_both_win,
)
from tests.integration.test_idempotency import (  # noqa: F401
    LKO,
    clerk,
    count,
    diarise,
    letter,
    test_a_file_retried_is_the_same_file,
    test_the_same_user_retrying_gets_the_same_answer_and_the_work_is_done_once,
    test_two_calls_at_once_with_one_key_make_one_receipt,
)
from tests.integration.test_messaging import (  # noqa: F401
    seen_keys,
    test_event_is_delivered_once,
    test_failing_handler_is_retried_then_dead_lettered,
)
from tests.support import messaging_services as ms
from tests.support.demo import demo_gateway
from tests.support.system import ServiceProcess, SpreadClient, stop_all, wait_until

pytestmark = pytest.mark.live
db, uow = files_tests.db, messaging_tests.uow  # their fixtures, for their tests run here
INSTANCES = 2
SERVICES = ("directory", "dak", "files")
TALLY_QUEUES = [f"evt-test_clerk-{ms.NoteRecorded.event_type}--test_tally.count",
                f"evt-test_clerk-{ms.DoomedNote.event_type}--test_tally.doomed"]


def consumers(queue: str) -> int:
    """How many consumers RabbitMQ counts on `queue` (0 if it does not exist yet)."""
    with Connection(get_settings().amqp_uri) as conn:
        channel = conn.channel()
        try:
            return channel.queue_declare(queue, passive=True)[2]
        except ChannelError:  # not declared yet
            return 0


@pytest.fixture(scope="module")
def api(migrated):
    """Two gateways over two processes each of directory, dak and files (as EOFFICE_INSTANCES=2
    makes the test harness start them), with the subject head test_files' tests open files under."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("EOFFICE_INSTANCES", str(INSTANCES))
        patch.setenv("EOFFICE_GATEWAY_WORKERS", "1")  # two gateways of one worker each: less to start
        with demo_gateway(migrated, SERVICES) as client:
            assert isinstance(client, SpreadClient) and len(client.gateways) == INSTANCES
            wait_until(lambda: all(consumers(f"rpc-{name}") == INSTANCES for name in SERVICES), 60,
                       "every instance consuming its service's RPC queue")
            add_subject_head(client)
            yield client


@pytest.fixture(scope="module")
def clerk_and_tally(uow, rpc):
    """Two processes of each messaging test service: two outbox relays of test_clerk, two
    consumers of each of test_tally's event queues."""
    procs = [ServiceProcess(f"tests.support.messaging_services:{cls}", name).start()
             for cls, name in [("TallyService", "test_tally"), ("ClerkService", "test_clerk")] * INSTANCES]
    wait_until(lambda: all(consumers(queue) == INSTANCES for queue in [*TALLY_QUEUES, "rpc-test_clerk"]), 60,
               "both processes of each test service consuming")
    yield procs
    stop_all(procs)


def test_requests_are_spread_over_both_gateways_and_both_instances_consume(api):
    before = list(api.served)
    for _ in range(6):
        assert api.get("/api/v1/health/live").status_code == 200
    assert [after - was for after, was in zip(api.served, before, strict=True)] == [3, 3]
    assert all(consumers(f"rpc-{name}") == INSTANCES for name in SERVICES)


def test_of_two_sends_at_once_one_wins_for_every_file(api, db):
    dealer, so = as_post(api, DEALER), as_post(api, SO)
    made = [new_file(api, dealer, subject=f"Race {n}") for n in range(6)]
    for file in made:
        assert send(api, dealer, file["id"], SO).status_code == 200
        open_file(api, so, file["id"])
    jobs = [(file["id"], to) for file in made for to in (US, DEALER)]
    with ThreadPoolExecutor(max_workers=len(jobs)) as pool:
        answers = list(pool.map(lambda job: send(api, so, *job), jobs))
    for file in made:
        mine = [a for (file_id, _), a in zip(jobs, answers, strict=True) if file_id == file["id"]]
        assert sorted(a.status_code for a in mine) == [200, 403], [a.text for a in mine]
        winner = next(a.json()["to_post"] for a in mine if a.status_code == 200)
        with db.transaction() as session:
            holder = session.execute(select(files_table.c.holder_post)
                                     .where(files_table.c.id == file["id"])).scalar_one()
            sent = session.execute(select(movements.c.to_post).where(
                movements.c.file_id == file["id"], movements.c.action == "sent")
                .order_by(movements.c.id)).scalars().all()
        assert holder == winner and sent == [SO, winner]


def test_many_keys_each_sent_four_times_at_once_make_one_receipt_each(api, migrated):
    lucknow = clerk(api, LKO)
    bodies = {uuid.uuid4().hex: letter() for _ in range(6)}
    jobs = [key for key in bodies for _ in range(4)]
    with ThreadPoolExecutor(max_workers=12) as pool:
        answers = list(pool.map(lambda key: diarise(api, lucknow, key, bodies[key]), jobs))
    assert [a.status_code for a in answers] == [201] * len(jobs), [a.text for a in answers if a.status_code != 201]
    for key, body in bodies.items():
        ids = {a.json()["id"] for k, a in zip(jobs, answers, strict=True) if k == key}
        assert len(ids) == 1
        assert count(migrated, select(receipts.c.id).where(receipts.c.subject == body["subject"])) == 1


def test_a_burst_of_events_and_their_duplicates_is_handled_once_each(uow, rpc, clerk_and_tally):
    keys = [f"burst-{uuid.uuid4().hex[:8]}-{n}" for n in range(40)]
    with ThreadPoolExecutor(max_workers=8) as pool:  # the calls reach both clerk processes
        ids = list(pool.map(lambda key: rpc.call("test_clerk", "record", key), keys))
    # Each event again, as after a crash before an acknowledgement: the copies may reach the
    # other tally process while the first is still at work on the original.
    with uow.transaction() as session:
        envelopes = session.execute(select(ms.clerk_outbox.c.envelope).where(ms.clerk_outbox.c.id.in_(ids))).scalars()
        envelopes = [Envelope.model_validate(e) for e in envelopes]
    publisher = Publisher(get_settings().amqp_uri)
    for envelope in envelopes:
        publisher.publish(envelope.model_dump(mode="json"), exchange=get_event_exchange("test_clerk", {}),
                          routing_key=envelope.type)
    wait_until(lambda: all(seen_keys(uow, key) == 1 for key in keys), 60, "every event handled")
    wait_until(lambda: _drained(TALLY_QUEUES[0]), 30, "the copies consumed")
    with uow.transaction() as session:
        handled = session.execute(select(ms.seen.c.key, func.count()).where(ms.seen.c.key.in_(keys))
                                  .group_by(ms.seen.c.key)).all()
    assert sorted(handled) == sorted((key, 1) for key in keys)


def _drained(queue: str) -> bool:
    with Connection(get_settings().amqp_uri) as conn:
        _, messages, _ = conn.channel().queue_declare(queue, passive=True)
        return messages == 0


def test_two_relays_of_one_outbox_publish_in_the_order_it_was_written(uow, clerk_and_tally):
    """Both clerk processes' relays and two more here, all publishing test_clerk's outbox while a
    writer adds to it: a queue of our own gets its events in the order they were written."""
    settings = get_settings()
    exchange = get_event_exchange("test_clerk", {})
    watch = Queue(f"test-relay-order-{uuid.uuid4().hex[:8]}", exchange=exchange,
                  routing_key=ms.NoteRecorded.event_type, durable=False, auto_delete=False)
    with Connection(settings.amqp_uri) as conn:
        watch(conn.channel()).declare()
    written: list[str] = []
    done = threading.Event()

    def write():
        for n in range(60):  # three events a transaction, as a step that raises several
            with uow.transaction() as session:
                for m in range(3):
                    written.append(record_event(session, ms.clerk_outbox, service="test_clerk",
                                                payload=ms.NoteRecorded(key=f"order-{n}-{m}-{uuid.uuid4().hex[:6]}")).id)
        done.set()

    def relay():
        mine = Relay(uow, ms.clerk_outbox, service="test_clerk", amqp_uri=settings.amqp_uri)
        while not done.is_set() or mine.pending():
            mine.publish_pending()

    try:
        with ThreadPoolExecutor(max_workers=3) as pool:
            for future in [pool.submit(write), pool.submit(relay), pool.submit(relay)]:
                future.result(timeout=120)
        received: list[str] = []
        with Connection(settings.amqp_uri) as conn:
            channel = conn.channel()
            wait_until(lambda: channel.queue_declare(watch.name, passive=True)[1] >= len(written), 30,
                       "every event in the watching queue")
            while (message := channel.basic_get(watch.name, no_ack=True)) is not None:
                received.append(message.properties["message_id"])
        assert received == written
    finally:
        with Connection(settings.amqp_uri) as conn:
            conn.channel().queue_delete(watch.name)
