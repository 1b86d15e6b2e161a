"""Officers' certificates, two-phase signature requests and note signatures
(services/signing/models.py), and the service's idempotency keys (if no other revision made them)."""
from alembic import op
from sqlalchemy import MetaData

from eoffice.idempotency import idempotency_table
from services.signing import models

revision = "signing_keys_0002"
down_revision = "0001"


def upgrade():
    bind = op.get_bind()
    for table in (models.certificates, models.signature_requests, models.note_signatures):
        table.create(bind, checkfirst=True)
    idempotency_table(MetaData(schema="signing")).create(bind, checkfirst=True)
