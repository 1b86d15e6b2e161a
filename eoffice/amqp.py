"""How we use RabbitMQ underneath nameko: what a broker outage looks like, acknowledgements
that do not kill a service when the broker is gone, and RPC messages not written to disk.

nameko's queue consumer acknowledges a message only "if the connection is alive", but a socket
the broker just closed still looks alive, and the reset that follows (ConnectionResetError, an
OSError) ends the worker thread and with it the whole service. That was seen when a service's
RPC proxy received a reply at the moment RabbitMQ stopped. An acknowledgement that cannot
reach the broker needs nothing more: the broker hands back every unacknowledged message by
itself when the connection goes. `tolerate_broker_loss` says so once, for every consumer.

A consumer whose broker went away tries again to connect every second (`reconnect_promptly`),
not after kombu's growing pauses (2, 4, 6 ... up to 30 s): a broker restarted under load was back
after about 25 s, and the services consumed again only 5-10 s after that, while every request
meanwhile was a 503 (the long fault run, `tests/faults/test_fault_run.py`).

RPC requests and replies matter only while a caller waits for them (EOFFICE_RPC_TIMEOUT): a
broker restart that drops them costs the caller a 503 and a retry with its idempotency key,
which every changing call takes. So they are sent transient, not persistent: RabbitMQ keeps
them in memory instead of writing each to its message store first (measured on this machine:
a mixed dak and files load went from 40 to 65 requests a second). Events stay persistent:
they come from the outbox and must outlive a broker restart while they wait in a queue. Replies
are not confirmed either (`ReplyPublisher`).

A publisher takes a producer from kombu's pool for its broker on every message; nameko built a
new `Connection` first each time, only to find that pool by it: half the CPU of a publish
(`reuse_connection_descriptions`; docs/benchmarks.md, "What every message costs a service")."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

import amqp.exceptions
import kombu.exceptions
import nameko.amqp.publish
import nameko.messaging
import nameko.rpc
from kombu import Connection, Producer
from kombu.pools import producers
from nameko.amqp.publish import Publisher
from nameko.constants import DEFAULT_TRANSPORT_OPTIONS, NON_PERSISTENT

log = logging.getLogger(__name__)

# What the broker's going away looks like to a publisher, a consumer or an acknowledgement.
BROKER_ERRORS = (OSError, kombu.exceptions.OperationalError, amqp.exceptions.AMQPError)


class TransientPublisher(Publisher):
    """Publishes RPC requests and replies: transient, and giving up within about a second when
    the broker is away (nameko's default retries for about ten), so that the caller hears
    "unavailable" at once instead of waiting out its whole timeout."""

    delivery_mode = NON_PERSISTENT
    retry_policy = {"max_retries": 1, "interval_start": 0.2, "interval_step": 0.2, "interval_max": 0.5}
    transport_options = {
        **DEFAULT_TRANSPORT_OPTIONS,
        "max_retries": 1,
        "interval_start": 0.2,
        "interval_step": 0.2,
        "interval_max": 0.5,
    }


class ReplyPublisher(TransientPublisher):
    """Publishes RPC replies, transient and unconfirmed. A request is confirmed: the broker's
    confirm is how nameko learns that no service is listening. A reply has no such use: the
    caller waiting for it is its confirmation, and one the broker loses is a call the caller
    retries after its timeout, with the same idempotency key, answered from the first run. The
    confirm cost every call a round trip to the broker in the replying service (9% of dak's
    samples diarising) and the broker its work (docs/benchmarks.md, "replies unconfirmed")."""

    use_confirms = False


def transient_rpc() -> None:
    """Makes every RPC request (nameko's method proxies, in services and in the gateway's pool)
    and every RPC reply transient, and replies unconfirmed. Safe to call more than once."""
    nameko.rpc.MethodProxy.publisher_cls = TransientPublisher
    nameko.rpc.Responder.publisher_cls = ReplyPublisher


def _tolerant(settle):
    def settle_unless_gone(self, message):
        try:
            settle(self, message)
        except BROKER_ERRORS as exc:
            log.warning(
                "could not %s a message, the broker connection is gone (%s: %s); the broker returns it to its queue",
                settle.__name__.replace("_message", ""),
                type(exc).__name__,
                exc,
            )

    settle_unless_gone.__name__ = settle.__name__
    settle_unless_gone.tolerant = True
    return settle_unless_gone


def tolerate_broker_loss() -> None:
    """Makes nameko's queue consumer (every entrypoint's and every RPC proxy's) log an
    acknowledgement or requeue that cannot reach the broker instead of dying of it. Safe to
    call more than once."""
    consumer = nameko.messaging.QueueConsumer
    for name in ("ack_message", "requeue_message"):
        if not getattr(getattr(consumer, name), "tolerant", False):
            setattr(consumer, name, _tolerant(getattr(consumer, name)))


RECONNECT_EVERY = 1.0  # seconds between a consumer's attempts to reach the broker again


@contextmanager
def _establish_promptly(self):
    with self.create_connection() as conn:
        conn.ensure_connection(
            self.on_connection_error,
            self.connect_max_retries,
            interval_start=RECONNECT_EVERY,
            interval_step=0,
            interval_max=RECONNECT_EVERY,
        )
        yield conn


def reconnect_promptly() -> None:
    """Makes nameko's queue consumer (every entrypoint's and every RPC proxy's) try to reach a
    broker that went away every RECONNECT_EVERY seconds. Safe to call more than once."""
    nameko.messaging.QueueConsumer.establish_connection = _establish_promptly


_DESCRIPTIONS: dict[tuple, Connection] = {}


def _description(amqp_uri: str, *, ssl, login_method, transport_options: dict) -> Connection:
    """The (never connected) `Connection` that names a broker and how to talk to it: the key of
    kombu's pools, which clone it for the connections they hold. One per set of arguments."""
    key = (amqp_uri, repr(ssl), login_method, repr(sorted(transport_options.items())))
    found = _DESCRIPTIONS.get(key)
    if found is None:
        found = _DESCRIPTIONS[key] = Connection(
            amqp_uri, transport_options=transport_options, ssl=ssl, login_method=login_method
        )
    return found


@contextmanager
def _pooled_producer(  # noqa: PLR0917  (nameko calls it so)
    amqp_uri: str, confirms: bool = True, ssl=None, login_method=None, transport_options: dict | None = None
) -> Iterator[Producer]:
    """nameko's `get_producer`, with the pool's key made once instead of for every message."""
    options = {**(DEFAULT_TRANSPORT_OPTIONS if transport_options is None else transport_options)}
    options["confirm_publish"] = confirms
    pool = producers[_description(amqp_uri, ssl=ssl, login_method=login_method, transport_options=options)]
    with pool.acquire(block=True) as producer:
        yield producer


def reuse_connection_descriptions() -> None:
    """Makes every nameko publisher (events, RPC requests and replies) find its producer pool by
    a `Connection` made once. Safe to call more than once."""
    nameko.amqp.publish.get_producer = _pooled_producer


transient_rpc()
tolerate_broker_loss()
reconnect_promptly()
reuse_connection_descriptions()
