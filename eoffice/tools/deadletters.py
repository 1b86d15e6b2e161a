"""The dead-letter queue, for operators: events whose handler failed every retry.

    python -m eoffice.tools.deadletters list           what is there, with the error
    python -m eoffice.tools.deadletters replay [N]     send up to N (default all) back to the
                                                       queue they failed in, attempts reset

The RabbitMQ management UI (http://127.0.0.1:15672, queue `eoffice.dead-letters`) shows the same."""

from __future__ import annotations

import argparse
import json
import sys

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
            target = (message.headers or {}).get("x-eoffice-queue")
            if not target:
                message.reject(requeue=True)
                continue
            producer.publish(
                message.body,
                exchange="",
                routing_key=target,
                headers=headers,
                content_type=message.content_type,
                content_encoding=message.content_encoding,
                delivery_mode=2,
            )
            message.ack()
            moved += 1
    return moved


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
        print(f"replayed {replay(settings.amqp_uri, settings.dead_letter_queue, args.limit)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
