"""Idempotency keys scoped to the caller (`eoffice.idempotency`)."""
from alembic import op

from eoffice.migrate import create_idempotency_table

revision = "0003"
down_revision = "0002"


def upgrade():
    create_idempotency_table(op.get_bind(), "directory")
