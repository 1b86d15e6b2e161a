"""Entry points of portal subscriptions, mixed into NotifyService (services/notify/service.py):
the system admin's RPC calls, and the durable handlers that put every dak, files and signing
event in the outbox of each subscription that may see it."""

from __future__ import annotations

from datetime import timedelta

from kombu import Connection

from eoffice.actor import Actor
from eoffice.contracts.catalogue import every_event
from eoffice.contracts.common import Page
from eoffice.contracts.subscriptions import Replay, Rotate, SubscriptionRequest
from eoffice.db import Database
from eoffice.errors import InvalidInput, NotFound
from eoffice.events import Envelope
from eoffice.messaging import Outbox, reliable_handler
from eoffice.service import ServiceBase, call_with_timeout, rpc
from eoffice.settings import get_settings
from eoffice.validation import parse
from services.notify import models, portal_amqp, subscriptions, webhooks
from services.notify.portals import Portals

# The services whose events portals are sent: each has its handler below.
PORTAL_EMITTERS = ("dak", "files", "signing")


class PortalSubscriptions:
    """Mixin: needs `db` (a Database) from the service class."""

    portals = Portals()

    # Events: "#" binds every type of the emitter's topic exchange to one durable queue each,
    # consumed by one notify process at a time (`ordered`), so recorded in order per file
    # however many notify processes run (services/notify/portals.py says how).

    @reliable_handler("dak", "#", ordered=True)
    def portal_dak_events(self, envelope: Envelope) -> None:
        self._to_portals(envelope, "dak")

    @reliable_handler("files", "#", ordered=True)
    def portal_files_events(self, envelope: Envelope) -> None:
        self._to_portals(envelope, "files")

    @reliable_handler("signing", "#", ordered=True)
    def portal_signing_events(self, envelope: Envelope) -> None:
        self._to_portals(envelope, "signing")

    def _to_portals(self, envelope: Envelope, emitter: str) -> None:
        # Once per event without the inbox: a delivery is unique per subscription and event.
        with self.portals.in_order(envelope.subject):
            chosen = self.portals.record(emitter, lambda: self._collect(envelope))
        self.portals.wake(chosen)

    def _collect(self, envelope: Envelope) -> list[str]:
        # On the portals' engines, whose pools have a connection for each worker (the service's may
        # not); in autocommit: on most events the one statement asking for the active subscriptions.
        with self.portals.uow.autocommit() as db:
            return subscriptions.collect(db, envelope)

    # The system admin's calls

    @rpc
    def create_subscription(self, actor: dict, request: dict, idempotency_key: str) -> dict:
        """Registers a portal (SubscriptionRequest); returns it with its secret (webhook: the
        signing secret; AMQP: the broker password), shown this once. Raises Forbidden unless
        system admin, InvalidInput naming the field (a URL whose addresses are not allowed).
        Safe to retry with the same key."""
        who, asked = Actor.model_validate(actor), parse(SubscriptionRequest, request)
        subscriptions.require_admin(who)
        subscriptions.require_known_types(
            asked.event_types, [event.event_type for emitter, event in every_event() if emitter in PORTAL_EMITTERS]
        )
        if asked.offices:
            asked = asked.model_copy(update={"offices": self._with_offices_below(asked.offices)})
        if asked.url:  # last: it looks the host up
            webhooks.check_url(asked.url, allow_loopback=get_settings().webhook_allow_loopback)
        with self.db.transaction() as session:
            made, _ = subscriptions.create(session, who, asked, key=idempotency_key)
        if asked.delivery == "amqp":
            made = self._grant_queue(made)
        return made

    def _with_offices_below(self, codes: list[str]) -> list[str]:
        """The offices named and every office below each (a district covers its sections and
        tehsils), from the directory; InvalidInput naming `offices` for one it does not know."""
        covered: dict[str, None] = {}
        for n, code in enumerate(codes):
            try:
                covered.update(dict.fromkeys(call_with_timeout(self.directory.offices_under, code)))
            except NotFound:
                raise InvalidInput(
                    f"offices: no office {code}",
                    field="offices",
                    errors=[{"field": f"offices.{n}", "message": f"no office {code}", "type": "unknown_office"}],
                ) from None
        return list(covered)

    def _grant_queue(self, made: dict) -> dict:
        """Creates (again, harmlessly on a retry) the portal's broker user, queue and permissions."""
        settings = get_settings()
        user, queue = portal_amqp.user_name(made["id"]), portal_amqp.queue_name(made["id"])
        with Connection(settings.amqp_uri) as connection:
            portal_amqp.declare(connection, queue)
        access = portal_amqp.Management(settings.rabbitmq_management_url, settings.amqp_uri).grant_queue(
            user=user, password=made["secret"], queue=queue
        )
        with self.db.transaction() as session:
            subscriptions.set_broker_access(session, made["id"], user=user, queue=queue)
        return {
            **made,
            "amqp": {
                "host": access.host,
                "port": access.port,
                "vhost": access.vhost,
                "user": access.user,
                "queue": access.queue,
            },
        }

    @rpc
    def list_subscriptions(self, actor: dict) -> list[dict]:
        with self.db.transaction() as session:
            return subscriptions.list_all(session, Actor.model_validate(actor))

    @rpc
    def get_subscription(self, actor: dict, subscription_id: str) -> dict:
        with self.db.transaction() as session:
            return subscriptions.get(session, Actor.model_validate(actor), subscription_id)

    @rpc
    def rotate_subscription_secret(  # noqa: PLR0917 (an RPC entrypoint: the gateway calls it positionally)
        self, actor: dict, subscription_id: str, request: dict, idempotency_key: str
    ) -> dict:
        """New signing secret; the old one keeps signing for the overlap. Returns it with the new
        secret. Once per key: a retry answers the same secret (another would end the one the
        portal has, and the admin never saw the one between)."""
        asked, who = parse(Rotate, request), Actor.model_validate(actor)
        return self.once(
            "rotate_subscription_secret",
            actor=who,
            key=idempotency_key,
            request=[subscription_id, asked],
            work=lambda session: subscriptions.rotate(
                session, who, subscription_id, overlap=timedelta(hours=asked.overlap_hours)
            ),
        )

    @rpc
    def deactivate_subscription(self, actor: dict, subscription_id: str) -> dict:
        with self.db.transaction() as session:
            shown = subscriptions.deactivate(session, Actor.model_validate(actor), subscription_id)
        if shown["delivery"] == "amqp":
            # Its broker user goes; the password no longer opens anything.
            settings = get_settings()
            portal_amqp.Management(settings.rabbitmq_management_url, settings.amqp_uri).remove_user(
                portal_amqp.user_name(subscription_id)
            )
        return shown

    @rpc
    def subscription_deliveries(self, actor: dict, subscription_id: str, page: dict | None = None) -> dict:
        """Returns a page ({items, next}) of the delivery log, newest first, with counts of the
        deliveries by state. Raises InvalidInput naming `cursor` for a position no attempt has."""
        asked = parse(Page, page or {})
        with self.db.transaction() as session:
            return subscriptions.delivery_log(
                session, Actor.model_validate(actor), subscription_id, after=asked.after, limit=asked.limit
            )

    @rpc
    def subscription_dead_letters(self, actor: dict, subscription_id: str) -> list[dict]:
        with self.db.transaction() as session:
            return subscriptions.dead_letters(session, Actor.model_validate(actor), subscription_id)

    @rpc
    def replay_dead_letters(self, actor: dict, subscription_id: str, request: dict) -> dict:
        """Sends dead deliveries again (Replay: these event ids, or all); returns how many."""
        asked = parse(Replay, request)
        with self.db.transaction() as session:
            count = subscriptions.replay(
                session, Actor.model_validate(actor), subscription_id, event_ids=asked.event_ids
            )
        self.portals.wake([subscription_id])
        return {"replayed": count}


class PortalsOnly(PortalSubscriptions, ServiceBase):
    """Notify's portal half alone (`nameko run services.notify.portal_entrypoints:PortalsOnly`):
    the webhook benchmark runs it so that its figures are the deliveries' own, not shared with
    the people notifications' handlers, which take the same worker pool in NotifyService."""

    name = "notify"
    db = Database()
    outbox = Outbox(models.outbox)
    idempotency_keys = models.idempotency_keys
