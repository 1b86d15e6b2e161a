"""Entry points of the signing service: certificates and signed notes (note_service.py), issued
letters (letter_service.py), and `ping` and `health` (from `ServiceBase`)."""
from eoffice.db import Database
from eoffice.messaging import Outbox
from eoffice.service import ServiceBase
from services.signing import models
from services.signing.letter_service import LetterEntrypoints
from services.signing.note_service import NoteEntrypoints


class SigningService(NoteEntrypoints, LetterEntrypoints, ServiceBase):
    name = "signing"
    db = Database()
    outbox = Outbox(models.outbox)
    idempotency_keys = models.idempotency_keys
