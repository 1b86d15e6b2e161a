"""AMQP subscriptions on our RabbitMQ: each portal gets a durable queue of its own and a broker
user that may read that queue and nothing else (no configure, no write anywhere), created
through the management API (EOFFICE_RABBITMQ_MANAGEMENT_URL, as the `eoffice` user, which has
the administrator tag: deploy/lib/infra.sh).

Notify itself publishes each delivery to the queue through the default exchange, with
publisher confirms, from the subscription's outbox (services/notify/portals.py)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from urllib.parse import quote, unquote, urlsplit

import urllib3
from kombu import Connection, Queue

from eoffice.errors import Unavailable


@dataclass(frozen=True)
class BrokerAccess:
    """What the portal uses to connect: host, port, vhost, its user, password and queue."""

    host: str
    port: int
    vhost: str
    user: str
    password: str
    queue: str


def queue_name(subscription_id: str) -> str:
    return f"portal.{subscription_id}"


def user_name(subscription_id: str) -> str:
    return f"portal-{subscription_id}"


class Management:
    """The few management API calls we need; raises Unavailable when the broker does not answer."""

    def __init__(self, management_url: str, amqp_uri: str):
        parts = urlsplit(amqp_uri)
        self.base = management_url.rstrip("/")
        self.vhost = unquote(parts.path.lstrip("/")) or "/"
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 5672
        credentials = f"{unquote(parts.username or '')}:{unquote(parts.password or '')}"
        self.headers = urllib3.make_headers(basic_auth=credentials)
        self.headers["content-type"] = "application/json"

    def _call(self, method: str, path: str, body: dict | None = None) -> int:
        try:
            response = urllib3.request(
                method,
                f"{self.base}/api/{path}",
                headers=self.headers,
                body=json.dumps(body) if body is not None else None,
                timeout=10,
                retries=False,
            )
        except urllib3.exceptions.HTTPError as exc:
            raise Unavailable(f"RabbitMQ management API: {exc}") from exc
        if response.status >= 300 and not (method == "DELETE" and response.status == 404):
            raise Unavailable(
                f"RabbitMQ management API answered {response.status} to {method} {path}: {response.data[:200]!r}"
            )
        return response.status

    def grant_queue(self, *, user: str, password: str, queue: str) -> BrokerAccess:
        """Creates (or resets) `user` with `password`, allowed to read `queue` only. Safe to repeat."""
        vhost = quote(self.vhost, safe="")
        self._call("PUT", f"users/{quote(user, safe='')}", {"password": password, "tags": ""})
        # Regular expressions over resource names: no configure, no write, read only the queue.
        self._call(
            "PUT",
            f"permissions/{vhost}/{quote(user, safe='')}",
            {"configure": "^$", "write": "^$", "read": f"^{_escape(queue)}$"},
        )
        return BrokerAccess(self.host, self.port, self.vhost, user, password, queue)

    def remove_user(self, user: str) -> None:
        self._call("DELETE", f"users/{quote(user, safe='')}")


def _escape(name: str) -> str:
    return "".join(f"\\{c}" if c in r".^$*+?()[]{}|\-" else c for c in name)


def declare(connection: Connection, queue: str) -> None:
    """Declares the portal's durable queue (notify's own user configures it)."""
    Queue(queue, durable=True)(connection.default_channel).declare()


def publish(producer, *, queue: str, event_id: str, body: str) -> None:
    """Publishes one delivery to `queue`, persistent, confirmed by the broker; raises if not."""
    producer.publish(
        body.encode(),
        exchange="",
        routing_key=queue,
        message_id=event_id,
        delivery_mode=2,
        content_type="application/cloudevents+json",
        content_encoding="utf-8",
        mandatory=True,
        retry=False,
    )
