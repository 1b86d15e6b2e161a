"""Tells the gateway's live streams about new notifications: each is published, after its
transaction committed, to the fanout exchange `LIVE_EXCHANGE`, which every gateway worker
process listens to with a queue of its own.

Best effort by design: a message lost here (broker away at that instant) is not lost to the
reader, whose stream catches up from the database by id when it (re)connects and whenever the
gateway's listener reconnects."""

from __future__ import annotations

import logging

from kombu import Exchange
from nameko.amqp.publish import Publisher
from nameko.constants import AMQP_URI_CONFIG_KEY
from nameko.extensions import DependencyProvider

from eoffice.contracts.notifications import LIVE_EXCHANGE
from services.notify.repository import as_shown

log = logging.getLogger(__name__)
EXCHANGE = Exchange(LIVE_EXCHANGE, type="fanout", durable=True)


class LiveFeed(DependencyProvider):
    """Nameko dependency: `self.live(notifications)` publishes rows of `notifications`."""

    def setup(self):
        self.publisher = Publisher(
            self.container.config[AMQP_URI_CONFIG_KEY], use_confirms=False, retry=True, retry_policy={"max_retries": 1}
        )

    def get_dependency(self, worker_ctx):
        return self.publish

    def publish(self, rows: list[dict]) -> None:
        """Publishes each notification as the reader sees it, with its text in both languages
        (the stream picks the reader's). Never raises."""
        for row in rows:
            shown = {lang: as_shown(row, lang) for lang in ("hi", "en")}
            body = {
                **shown["en"],
                "created_at": row["created_at"].isoformat(),
                "text": {lang: shown[lang]["text"] for lang in shown},
            }
            body["read_at"] = None  # only unread ones are published
            try:
                self.publisher.publish(body, exchange=EXCHANGE, routing_key="", declare=[EXCHANGE])
            except Exception as exc:  # the stream catches up from the database
                log.warning("live notification %s not published: %s", row["id"], exc)
