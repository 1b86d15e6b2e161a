"""The dead-letter queue, for operators: events whose handler failed every retry.

    python -m eoffice.tools.deadletters list           what is there, with the error
    python -m eoffice.tools.deadletters replay [N]     send up to N (default all) back to the
                                                       queue they failed in, attempts reset (one
                                                       whose queue is gone stays, and is counted)

The RabbitMQ management UI (http://127.0.0.1:15672, queue `eoffice.dead-letters`) shows the same."""

from __future__ import annotations

import argparse
import json
import sys

from amqp.exceptions import NotFound
from kombu import Connection, Producer, Queue

from eoffice.messaging import ATTEMPT_HEADER
from eoffice.settings import get_settings


def _messages(channel, queue_name: str, limit: int | None):
    taken = 0
    while limit is None or taken < limit:
        message = channel.basic_get(queue_name, no_ack=False)
        if message is None:
            return
        taken += 1
        yield message


def list_dead_letters(amqp_uri: str, queue_name: str) -> list[dict]:
    """Returns every dead letter (queue, error, attempts, event id and type) and leaves them queued."""
    found = []
    with Connection(amqp_uri) as conn:
        channel = conn.channel()
        Queue(queue_name, durable=True)(channel).declare()
        for message in _messages(channel, queue_name, None):
            headers = message.headers or {}
            body = json.loads(message.body)
            found.append(
                {
                    "queue": headers.get("x-eoffice-queue"),
                    "error": headers.get("x-eoffice-error"),
                    "attempts": headers.get(ATTEMPT_HEADER),
                    "failed_at": headers.get("x-eoffice-failed-at"),
                    "event_id": body.get("id") if isinstance(body, dict) else None,
                    "type": body.get("type") if isinstance(body, dict) else None,
                }
            )
        channel.close()  # unacknowledged messages go back to the queue
    return found


def replay(amqp_uri: str, queue_name: str, limit: int | None = None) -> int:
    """Moves dead letters back to the queues they failed in; returns how many."""
    moved = 0
    with Connection(amqp_uri, transport_options={"confirm_publish": True}) as conn:
        channel = conn.channel()
        producer = Producer(channel)
        for message in _messages(channel, queue_name, limit):
            headers = {
                k: v
                for k, v in (message.headers or {}).items()
                if not k.startswith("x-eoffice-") and not k.startswith("x-death")
            }
            target = _existing_queue(conn, (message.headers or {}).get("x-eoffice-queue"))
            if not target:
                # Nowhere to go: it stays a dead letter. Left unacknowledged (not rejected, which
                # would hand it straight back to this loop), it returns to the queue at the end.
                continue
            producer.publish(
                message.body,
                exchange="",
                routing_key=target,
                headers=headers,
                content_type=message.properties.get("content_type"),
                content_encoding=message.properties.get("content_encoding"),
                delivery_mode=2,
            )
            channel.basic_ack(message.delivery_tag)
            moved += 1
    return moved


def _existing_queue(conn: Connection, name: str | None) -> str | None:
    """The queue a dead letter failed in, or the one that took its place: a handler made
    `ordered` moved from `<name>` to `<name>.ordered` (eoffice/messaging.py). None if neither
    exists: a message published to a missing queue would be dropped without a word."""
    for candidate in (name, f"{name}.ordered") if name else ():
        probe = conn.channel()  # a passive declare of a missing queue closes its channel
        try:
            probe.queue_declare(queue=candidate, passive=True)
            return candidate
        except NotFound:
            continue
        finally:
            try:
                probe.close()
            except Exception:  # noqa: BLE001, S110 (closed by the broker already)
                pass
    return None


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m eoffice.tools.deadletters",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("action", choices=["list", "replay"])
    parser.add_argument("limit", nargs="?", type=int)
    args = parser.parse_args(argv)
    settings = get_settings()
    if args.action == "list":
        letters = list_dead_letters(settings.amqp_uri, settings.dead_letter_queue)
        for letter in letters:
            print(json.dumps(letter, ensure_ascii=False))
        print(f"{len(letters)} dead letter(s) in {settings.dead_letter_queue}", file=sys.stderr)
    else:
        moved = replay(settings.amqp_uri, settings.dead_letter_queue, args.limit)
        left = list_dead_letters(settings.amqp_uri, settings.dead_letter_queue)
        print(f"replayed {moved}; {len(left)} left in {settings.dead_letter_queue} (see `list`)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
