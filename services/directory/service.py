"""Entry points of the directory service. Domain code lands with its own issue; for now the
service starts, owns its schema and answers `ping` and `health` (from `ServiceBase`)."""
from eoffice.db import Database
from eoffice.messaging import Outbox
from eoffice.service import ServiceBase
from services.directory import models


class DirectoryService(ServiceBase):
    name = "directory"
    db = Database()
    outbox = Outbox(models.outbox)
