"""Entry points of the notify service. Domain code lands with its own issue; for now the
service starts, owns its schema and answers `ping` and `health` (from `ServiceBase`)."""
from eoffice.db import Database
from eoffice.messaging import Outbox
from eoffice.service import ServiceBase
from services.notify import models


class NotifyService(ServiceBase):
    name = "notify"
    db = Database()
    outbox = Outbox(models.outbox)
