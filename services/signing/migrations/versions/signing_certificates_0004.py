"""Proof of possession at registration: `certificates.proven` (rows from before are not proven)
and the registration requests the certificate's key signs (services/signing/models.py)."""

from alembic import op
from sqlalchemy import Boolean, Column, false, inspect

from services.signing import models

revision = "signing_certificates_0004"
down_revision = "signing_housekeeping_0001"


def upgrade():
    bind = op.get_bind()
    # signing_keys_0002 creates the table from today's model (with the column) on a fresh database.
    if "proven" not in {c["name"] for c in inspect(bind).get_columns("certificates", schema="signing")}:
        op.add_column("certificates", Column("proven", Boolean, nullable=False, server_default=false()), schema="signing")
    models.certificate_requests.create(bind, checkfirst=True)
