"""Entry points of the files service. Domain code lands with its own issue; for now the
service starts, owns its schema and answers `ping` and `health` (from `ServiceBase`)."""
from nameko.rpc import RpcProxy

from eoffice.db import Database
from eoffice.messaging import Outbox
from eoffice.service import ServiceBase
from services.files import models


class FilesService(ServiceBase):
    name = "files"
    db = Database()
    outbox = Outbox(models.outbox)
    directory = RpcProxy("directory")
    peers = ('directory',)
