"""Idempotency keys scoped to the caller (`eoffice.idempotency`). A receipt no longer keeps the
key that diarised it: that key was unique across all callers, so one clerk's key found (or
blocked) another's receipt."""
from alembic import op

from eoffice.migrate import create_idempotency_table

revision = "0004"
down_revision = "0003"


def upgrade():
    create_idempotency_table(op.get_bind(), "dak")
    op.execute("ALTER TABLE dak.receipts DROP COLUMN IF EXISTS idempotency_key")
