"""What a service and the gateway do when RabbitMQ goes away mid-call, on fakes of the broker's
side (the live proof is tests/faults): nothing dies, callers hear "unavailable" at once."""
from __future__ import annotations

import ast
import time
from pathlib import Path

import kombu
import kombu.exceptions
import nameko.amqp.publish
import nameko.messaging
import nameko.rpc
import pytest
from nameko.exceptions import IncorrectSignature

from eoffice import amqp, rpc
from eoffice.errors import Unavailable
from eoffice.service import BrokerTolerantRpcConsumer, Rpc
from eoffice.service import rpc as rpc_entrypoint

REPO = Path(__file__).resolve().parents[2]


class GoneMessage:
    """A message whose channel still looks open but whose socket the broker has closed."""

    delivery_info = {"routing_key": "dak.send"}
    properties = {"reply_to": "rpc.reply-x", "correlation_id": "1", "content_type": "application/json"}

    def __init__(self):
        self.channel = type("Channel", (), {"connection": object()})()
        self.settled = []

    def ack(self):
        raise ConnectionResetError(104, "Connection reset by peer")

    def requeue(self):
        raise ConnectionResetError(104, "Connection reset by peer")


def test_an_acknowledgement_the_broker_cannot_take_is_not_fatal():
    # nameko's own catches only amqp's ConnectionError; a reset socket ended the service.
    consumer = nameko.messaging.QueueConsumer()
    consumer.ack_message(GoneMessage())
    consumer.requeue_message(GoneMessage())


def test_a_reply_that_cannot_be_published_leaves_the_service_running(monkeypatch):
    def broker_gone(self, result, exc_info):
        raise kombu.exceptions.OperationalError("[Errno 111] ECONNREFUSED")
    monkeypatch.setattr(nameko.rpc.Responder, "send_response", broker_gone)
    consumer = BrokerTolerantRpcConsumer()
    consumer.container = type("Container", (), {"config": {"AMQP_URI": "amqp://"}})()
    consumer.queue_consumer = nameko.messaging.QueueConsumer()
    # Returns the worker's result instead of raising into nameko's container (which dies).
    assert consumer.handle_result(GoneMessage(), {"ok": True}, None) == ({"ok": True}, None)


def test_rpc_requests_and_replies_are_transient_and_give_up_quickly():
    assert nameko.rpc.MethodProxy.publisher_cls is amqp.TransientPublisher
    assert nameko.rpc.Responder.publisher_cls is amqp.ReplyPublisher
    assert amqp.TransientPublisher.delivery_mode == amqp.ReplyPublisher.delivery_mode == 1
    # A request is confirmed (how nameko learns nobody listens); a reply is not waited on.
    assert amqp.TransientPublisher.use_confirms and not amqp.ReplyPublisher.use_confirms
    assert amqp.TransientPublisher.retry_policy["max_retries"] <= 1
    # Events (the outbox relay's publisher) stay persistent.
    assert nameko.amqp.publish.Publisher.delivery_mode == 2


def test_the_gateway_pool_answers_unavailable_at_once_while_the_broker_is_away(monkeypatch):
    pool = rpc.RpcPool("amqp://127.0.0.1:1/none", timeout=5)
    tries = []

    def refused():
        tries.append(1)
        raise kombu.exceptions.OperationalError("[Errno 111] ECONNREFUSED")
    monkeypatch.setattr(pool, "_new", refused)
    with pytest.raises(Unavailable) as first:
        pool.call("dak", "ping")
    assert first.value.fields["retry_after"] > 0  # sent to the client as Retry-After
    started = time.monotonic()
    for _ in range(20):
        with pytest.raises(Unavailable):
            pool.call("dak", "ping")
    assert len(tries) == 1 and time.monotonic() - started < 0.5  # no second connection attempt
    monkeypatch.setattr(rpc, "BROKER_PAUSE", 0.0)
    pool._broker_away_until = 0.0
    with pytest.raises(Unavailable):
        pool.call("dak", "ping")
    assert len(tries) == 2  # after the pause it tries the broker again


def test_every_service_uses_the_broker_tolerant_rpc_entrypoint():
    offenders = []
    for path in (REPO / "services").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module == "nameko.rpc" and any(
                    alias.name in ("rpc", "Rpc") for alias in node.names):
                offenders.append(str(path.relative_to(REPO)))
    assert offenders == [], "use `from eoffice.service import rpc`"


def test_a_consumer_tries_to_reach_a_broker_that_went_away_every_second_not_after_growing_pauses():
    import kombu

    waits: list[float] = []

    class Consumer:  # what nameko's queue consumer gives kombu's connection loop
        connect_max_retries = 3

        def create_connection(self):
            return kombu.Connection("amqp://guest:guest@127.0.0.1:9//", connect_timeout=0.5)  # nothing listens

        def on_connection_error(self, exc, interval):
            waits.append(interval)

    assert nameko.messaging.QueueConsumer.establish_connection is amqp._establish_promptly
    started = time.monotonic()
    with pytest.raises(kombu.exceptions.OperationalError), amqp._establish_promptly(Consumer()):
        pass
    assert waits == [amqp.RECONNECT_EVERY] * 3  # kombu's own: 2, 4, 6 seconds
    assert time.monotonic() - started < 3 * amqp.RECONNECT_EVERY + 3


def test_a_call_whose_arguments_do_not_fit_its_method_is_refused_before_it_runs():
    """The entrypoint checks a call's arguments against the method (read once, not per call):
    a missing or unknown argument is refused with the reason, before a worker runs it."""

    class Service:
        @rpc_entrypoint
        def send(self, actor, file_id, to_post, *, key=None): ...

    class Container:  # what the entrypoint reads of its container
        service_cls, shared_extensions = Service, {}

    container = Container()  # kept: an extension holds its container by a weak reference
    entrypoint = Rpc().bind(container, "send")
    entrypoint.check_signature(({"id": 1}, "F-1"), {"to_post": "SO", "key": "k"})
    entrypoint.check_signature(({"id": 1}, "F-1", "SO"), {})
    with pytest.raises(IncorrectSignature, match="to_post"):
        entrypoint.check_signature(({"id": 1}, "F-1"), {})
    with pytest.raises(IncorrectSignature, match="priority"):
        entrypoint.check_signature(({"id": 1}, "F-1", "SO"), {"priority": "urgent"})
    with pytest.raises(IncorrectSignature, match="positional"):
        entrypoint.check_signature(({"id": 1}, "F-1", "SO", "k"), {})


def test_a_publisher_finds_its_producer_pool_without_describing_the_broker_again(monkeypatch):
    """Every nameko publisher takes a producer from kombu's pool for its broker on each message:
    the `Connection` that is the pool's key is made once for each set of arguments, not for
    every message (a publish cost half its CPU before: 175 against 87 us), and settings that
    differ get pools of their own."""
    made = []

    class Counted(kombu.Connection):
        def __init__(self, *args, **kwargs):
            made.append(kwargs["transport_options"]["confirm_publish"])
            super().__init__(*args, **kwargs)

    monkeypatch.setattr(amqp, "Connection", Counted)
    monkeypatch.setattr(amqp, "_DESCRIPTIONS", {})
    uri = "amqp://guest:guest@127.0.0.1:1/test-pools"  # never connected: a producer connects on first use
    for confirms in (True, True, False, True, False):
        with nameko.amqp.publish.get_producer(uri, confirms, None, None, None) as producer:
            assert producer.connection.transport_options["confirm_publish"] is confirms
    assert made == [True, False]
