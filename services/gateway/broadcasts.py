"""Messages every gateway worker process hears for itself: a thread per listener, consuming a
server-named, exclusive queue (gone with the process) bound to the exchanges it names. Used for
notify's live notifications (services/gateway/notifications.py) and for the directory's changes
that make the actors the gateway keeps stale (services/gateway/auth.py)."""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable, Sequence

from kombu import Connection, Exchange, Queue, binding

log = logging.getLogger(__name__)


class Listener:
    """Calls `on_message(body)` for every message published to `bindings` (an exchange and a
    routing key, None for a fanout exchange), in a thread of its own. `on_connect()` is called
    each time it starts listening, first and after every outage of the broker: whatever was
    published meanwhile was missed. `listening` says whether it hears them now."""

    def __init__(self, amqp_uri: str, name: str, *, bindings: Sequence[tuple[Exchange, str | None]],
                 on_message: Callable[[object], None], on_connect: Callable[[], None]):
        self.amqp_uri, self.name, self.bindings = amqp_uri, name, list(bindings)
        self.on_message, self.on_connect = on_message, on_connect
        self.listening = False
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        backoff = 1.0
        while True:
            try:
                with Connection(self.amqp_uri, heartbeat=30) as connection:
                    queue = Queue("", bindings=[binding(exchange, routing_key=key or "")
                                                for exchange, key in self.bindings],
                                  exclusive=True, auto_delete=True, durable=False)

                    def received(body, message):
                        message.ack()
                        self.on_message(body)
                    with connection.Consumer([queue], callbacks=[received], accept=["json"]):
                        self.listening = True
                        self.on_connect()
                        backoff = 1.0
                        while True:
                            # Heartbeats are sent from here, so this wakes every second (py-amqp
                            # asks for about that): waking every 15 s, as before, sent the
                            # first one a minute in, and RabbitMQ closed the connection for
                            # missed heartbeats every 90 s.
                            with contextlib.suppress(TimeoutError):
                                connection.drain_events(timeout=1.0)
                            connection.heartbeat_check()
            except Exception as exc:  # broker away: try again
                self.listening = False
                log.warning("%s: %s: %s; reconnecting in %.0fs", self.name, type(exc).__name__, exc, backoff)
                time.sleep(backoff)
                backoff = min(backoff * 2, 30.0)
