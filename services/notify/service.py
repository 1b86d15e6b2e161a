"""The notify service: its entry points come from two mixins, each in its own module:
notifying people (`people_entrypoints.py`: notifications, e-mail, SMS, reminders, digests; see
docs/notify.md) and portal subscriptions (`portal_entrypoints.py`; see docs/subscribers.md).
`ping` and `health` come from `ServiceBase`."""

from eoffice.db import Database
from eoffice.messaging import Outbox
from eoffice.service import ServiceBase
from services.notify import models
from services.notify.people_entrypoints import NotifyPeople  # notifying people's entrypoints
from services.notify.portal_entrypoints import PortalSubscriptions  # portal subscriptions' entrypoints


class NotifyService(NotifyPeople, PortalSubscriptions, ServiceBase):
    name = "notify"
    db = Database()
    outbox = Outbox(models.outbox)
    idempotency_keys = models.idempotency_keys
    peers = ("directory",)
